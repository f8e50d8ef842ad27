"""The CONFIG command (GET, SET, RESETSTAT, REWRITE, HELP): config.c's command procs, plus
server.c's resetServerStats / resetCommandTableStats / resetErrorTableStats that CONFIG
RESETSTAT runs.  The config table and its parsing live in config.py.

``init(server)`` also applies the ``rename-command`` lines queued while the config file was
read (Divergence: Redis builds the command table before reading the config, tracered after).
"""

from __future__ import annotations

import sys

from tracered import config, shared
from tracered import networking as net
from tracered.commands import cmd, sub
from tracered.server import server

CONFIG_HELP = [
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
]


def config_get_command(c: net.Client) -> None:
    """CONFIG GET parameter [parameter ...]: a map of name -> value."""
    pairs = config.config_get(server, c.argv[2:])
    net.add_reply_map_len(c, len(pairs))
    net.add_reply(c, b"".join(net.bulk(k) + net.bulk(v) for k, v in pairs))


def config_set_command(c: net.Client) -> None:
    """CONFIG SET parameter value [parameter value ...]: all or nothing."""
    argv = c.argv
    if len(argv) & 1:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    pairs = []
    for i in range(2, len(argv), 2):
        name = argv[i].decode("utf-8", "surrogateescape")
        cfg = config.lookup_config(name)
        if cfg is not None and cfg.flags & config.SENSITIVE:
            # redactClientCommandArgument: the secret never reaches SLOWLOG or MONITOR.
            value = argv[i + 1]
            argv[i + 1] = b"(redacted)"
        else:
            value = argv[i + 1]
        pairs.append((name, value.decode("utf-8", "surrogateescape")))
    err = config.config_set(server, pairs, c)
    if err is None:
        net.add_reply(c, shared.ok)
    elif isinstance(err, bytes):
        net.add_reply_error_object(c, err)
    else:
        net.add_reply_error(c, err)


def reset_server_stats() -> None:
    """resetServerStats: the INFO stats counters (not the keyspace, not the slowlog)."""
    srv = server
    for name in ("stat_numcommands", "stat_numconnections", "stat_expiredkeys",
                 "stat_expired_time_cap_reached_count", "stat_expire_cycle_time_used",
                 "stat_evictedkeys", "stat_evictedclients", "stat_total_eviction_exceeded_time",
                 "stat_last_eviction_exceeded_time", "stat_keyspace_misses",
                 "stat_keyspace_hits", "stat_fork_time", "stat_total_forks",
                 "stat_rejected_conn", "stat_sync_full", "stat_sync_partial_ok",
                 "stat_sync_partial_err", "stat_total_reads_processed",
                 "stat_total_writes_processed", "stat_aof_rewrites", "stat_rdb_saves",
                 "stat_aofrw_consecutive_failures", "stat_net_input_bytes",
                 "stat_net_output_bytes", "stat_net_repl_input_bytes",
                 "stat_net_repl_output_bytes", "stat_unexpected_error_replies",
                 "stat_total_error_replies", "stat_dump_payload_sanitizations",
                 "aof_delayed_fsync"):
        if hasattr(srv, name):
            setattr(srv, name, 0)
    srv.stat_expired_stale_perc = 0.0
    srv.stat_fork_rate = 0.0
    # The instantaneous metrics start over (trackInstantaneousMetric's samples).
    srv.ops_samples = []
    srv.instantaneous_ops_per_sec = 0


def reset_command_table_stats() -> None:
    """resetCommandTableStats: calls, usec, rejected and failed counts and the latency
    histograms of every command and subcommand."""
    from tracered import latency
    from tracered.commands import commands

    for base in commands.values():
        for c in base.all_commands():
            c.calls = c.microseconds = c.rejected_calls = c.failed_calls = 0
    latency.reset_command_histograms()


def reset_error_table_stats() -> None:
    server.errors = {}


def config_resetstat_command(c: net.Client) -> None:
    reset_server_stats()
    reset_command_table_stats()
    reset_error_table_stats()
    net.add_reply(c, shared.ok)


def config_rewrite_command(c: net.Client) -> None:
    if server.configfile is None:
        net.add_reply_error(c, "The server is running without a config file")
        return
    try:
        config.rewrite_config(server, server.configfile)
    except OSError as e:
        msg = e.strerror or str(e)
        server.log_warning(f"CONFIG REWRITE failed: {msg}")
        net.add_reply_error(c, f"Rewriting config file: {msg}")
        return
    server.log_warning("CONFIG REWRITE executed with success.")
    net.add_reply(c, shared.ok)


def config_help_command(c: net.Client) -> None:
    net.add_reply_help(c, CONFIG_HELP)


# --------------------------------------------------------------------------------------------
# rename-command (applied once the command table exists)
# --------------------------------------------------------------------------------------------

def _rename_command(old: str, new: str) -> str | None:
    """The rename-command directive: remove the command, re-add it under the new name
    unless that is empty.  Returns an error text or None."""
    from tracered import commands as cmds

    key = old.lower().encode("utf-8", "surrogateescape")
    c = cmds.commands.get(key)
    if c is None:
        return "No such command in rename-command"
    del cmds.commands[key]
    cmds._lookup.pop(key, None)
    cmds._lookup.pop(key.upper(), None)
    if new:
        nkey = new.lower().encode("utf-8", "surrogateescape")
        if nkey in cmds.commands:
            return "Target command name already exists"
        cmds.commands[nkey] = c
        cmds._lookup[nkey] = c
        cmds._lookup[nkey.upper()] = c
    return None


def init(srv) -> None:
    for old, new, lineno, line in srv.config_rename_commands:
        err = _rename_command(old, new)
        if err:
            sys.stderr.write(f"\n*** FATAL CONFIG FILE ERROR (Redis {config.REDIS_VERSION})"
                             f" ***\nReading the configuration file, at line {lineno}\n"
                             f">>> '{line}'\n{err}\n")
            sys.stderr.flush()
            raise SystemExit(1)
    srv.config_rename_commands = []
    if srv.config_users and not getattr(srv, "acl_loads_config_users", False):
        srv.log_warning("'user' directives in the config are ignored until ACL support is "
                        "loaded")


_ADMIN = "admin noscript loading stale"

COMMANDS = [
    cmd("config", None, -2, "", group="server", since="2.0.0",
        complexity="Depends on subcommand.",
        summary="A container for server configuration commands",
        subcommands=[
            sub("get", config_get_command, -3, _ADMIN, since="2.0.0",
                complexity="O(N) when N is the number of configuration parameters provided",
                summary="Get the values of configuration parameters",
                args="parameter [parameter ...]"),
            sub("help", config_help_command, 2, "loading stale", since="5.0.0",
                summary="Show helpful text about the different subcommands"),
            sub("resetstat", config_resetstat_command, 2, _ADMIN, since="2.0.0",
                summary="Reset the stats returned by INFO"),
            sub("rewrite", config_rewrite_command, 2, _ADMIN, since="2.8.0",
                summary="Rewrite the configuration file with the in memory configuration"),
            sub("set", config_set_command, -4, _ADMIN, since="2.0.0",
                complexity="O(N) when N is the number of configuration parameters provided",
                summary="Set configuration parameters to the given values",
                args="parameter value [parameter value ...]",
                tips="request_policy:all_nodes response_policy:all_succeeded"),
        ]),
]
