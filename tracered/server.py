"""The server: the mirror of server.c.

``server`` is the one global state object (Redis's ``struct redisServer server``).  The
functions here are the spine every command goes through:

    processCommand   lookupCommand, arity, auth, protected commands, OOM, disk errors,
                     read-only replica, pubsub context, loading, pause, MULTI queueing
    call             runs the proc; times it (SLOWLOG, INFO commandstats), feeds MONITOR,
                     propagates writes to the AOF and replicas
    serverCron       hz times a second: cached clock, databasesCron (active expire,
                     incremental rehash), clientsCron, subsystem crons
    beforeSleep      before every epoll_wait: reply writes, async frees

Divergence: subsystems that arrive with later modules (persistence, replication) hook into
serverCron and beforeSleep through ``server.cron_hooks`` / ``server.before_sleep_hooks``
instead of being called by name, so this file does not import modules that may not exist.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time

from tracered import REDIS_VERSION, __version__, shared, util
from tracered import networking as net
from tracered.ae import AE_READABLE, EventLoop
from tracered.commands import (
    CMD_ADMIN,
    CMD_ALLOW_BUSY,
    CMD_DENYOOM,
    CMD_FAST,
    CMD_LOADING,
    CMD_MAY_REPLICATE,
    CMD_NO_AUTH,
    CMD_NO_MULTI,
    CMD_PROTECTED,
    CMD_READONLY,
    CMD_SKIP_MONITOR,
    CMD_SKIP_SLOWLOG,
    CMD_STALE,
    CMD_WRITE,
    lookup_command_by_name,
)
from tracered.trace.probes import probe

# call() flags
CMD_CALL_NONE = 0
CMD_CALL_SLOWLOG = 1 << 0
CMD_CALL_STATS = 1 << 1
CMD_CALL_PROPAGATE_AOF = 1 << 2
CMD_CALL_PROPAGATE_REPL = 1 << 3
CMD_CALL_PROPAGATE = CMD_CALL_PROPAGATE_AOF | CMD_CALL_PROPAGATE_REPL
CMD_CALL_FULL = CMD_CALL_SLOWLOG | CMD_CALL_STATS | CMD_CALL_PROPAGATE

PROPAGATE_NONE = 0
PROPAGATE_AOF = 1
PROPAGATE_REPL = 2

# replication.c's replica states; only CONNECTED matters outside replication.py.
REPL_STATE_NONE = 0
REPL_STATE_TRANSFER = 11   # receiving the RDB from the master
REPL_STATE_CONNECTED = 12  # replication.c's REPL_STATE_CONNECTED

CLIENT_PAUSE_OFF = 0
CLIENT_PAUSE_WRITE = 1
CLIENT_PAUSE_ALL = 2

LL_DEBUG, LL_VERBOSE, LL_NOTICE, LL_WARNING = 0, 1, 2, 3
_LOG_LEVELS = {"debug": LL_DEBUG, "verbose": LL_VERBOSE, "notice": LL_NOTICE,
               "warning": LL_WARNING}
_LOG_MARKS = ".-*#"

CONFIG_MIN_HZ = 1
CONFIG_MAX_HZ = 500


class Server:
    """redisServer: the global state.  Config values are attributes too (see config.py)."""

    tracking_clients = 0  # CLIENT TRACKING on connections (tracking.py keeps the count)

    def __init__(self) -> None:
        from tracered import config

        self.version = __version__
        self.pid = os.getpid()
        self.configfile: str | None = None
        self.executable = os.path.abspath(sys.argv[0]) if sys.argv else ""
        config.init_defaults(self)
        self.el: EventLoop | None = None
        self.db: list = []
        self.clients: dict[int, net.Client] = {}
        self.clients_pending_write: list[net.Client] = []
        self.clients_to_close: list[net.Client] = []
        self.next_client_id = 1
        self.current_client: net.Client | None = None
        self.executing_client: net.Client | None = None
        self.monitors: list[net.Client] = []
        self.listeners: list[socket.socket] = []
        self.free_client_hooks: list = []
        self.startup_hooks: list = []       # fn(server) after listening, before serving
        self.shutdown_hooks: list = []      # fn(server, flags) -> False aborts shutdown
        # Hooks that later modules install (None until they do):
        self.client_timeout_hook = None     # blocked.py: a blocked client's timeout
        self.perform_evictions = None       # evict.py: performEvictions, False when OOM
        self.queue_multi_command = None     # multi.py: queueMultiCommand
        self.exec_command_abort = None      # multi.py: execCommandAbort
        self.acl_check_all_perm = None      # acl.py: ACLCheckAllPerm (None: no user restricted)
        # acl.py: the default user has a password or is off (authRequired's half that
        # does not depend on the client).  Set at initServer, before any client exists.
        self.default_user_requires_auth = False
        self.script_timedout = False        # script_lua.py: a busy script yields (-BUSY)
        self.repl_good_slaves_count = 0     # replication.py: replicas within max-lag
        self.propagate_no_multi = False     # active expire: DELs go out one by one
        self.active_expire_enabled = True   # DEBUG SET-ACTIVE-EXPIRE
        self.cron_hooks: list = []          # fn(server) called from serverCron
        self.before_sleep_hooks: list = []  # fn(server) called from beforeSleep
        self.propagate_hooks: list = []     # fn(dbid, argv, target) for AOF / replication
        self.also_propagate: list = []
        self.in_nested_call = 0
        self.in_exec = False
        self.fixed_time_expire = 0
        self.dirty = 0
        self.run_id = util.get_random_hex_chars(40)
        self.start_time = time.time()
        self.unixtime = int(time.time())
        self.mstime = int(time.time() * 1000)
        self.ustime = int(time.time() * 1_000_000)
        self.lruclock = 0
        self.cronloops = 0
        self.shutdown_asap = False
        self.shutdown_flags = 0
        self.loading = False
        self.masterhost: str | None = None
        self.repl_state = 0
        self.master = None
        self.master_repl_offset = 0
        self.replid = util.get_random_hex_chars(40)
        self.replid2 = "0" * 40
        self.second_replid_offset = -1
        self.slaves: list[net.Client] = []
        self.repl_backlog = None
        self.child_pid = -1
        self.child_type = 0
        self.aof_state = 0
        self.last_bgsave_ok = True
        self.lastsave = int(time.time())
        self.client_pause_type = CLIENT_PAUSE_OFF
        self.client_pause_end_time = 0
        self.postponed_clients: list[net.Client] = []
        self.blocked_clients = 0
        self.ready_keys: list = []
        self.handle_blocked = None          # blocked.py installs handleClientsBlockedOnKeys
        self.errors: dict[str, int] = {}
        self.slowlog: list = []
        self.slowlog_entry_id = 0
        # stats (INFO stats)
        self.stat_numcommands = 0
        self.stat_numconnections = 0
        self.stat_rejected_conn = 0
        self.stat_expiredkeys = 0
        self.stat_expired_stale_perc = 0.0
        self.stat_expired_time_cap_reached_count = 0
        self.stat_expire_cycle_time_used = 0
        self.stat_evictedkeys = 0
        self.stat_keyspace_hits = 0
        self.stat_keyspace_misses = 0
        self.stat_net_input_bytes = 0
        self.stat_net_output_bytes = 0
        self.stat_total_error_replies = 0
        self.stat_unexpected_error_replies = 0
        self.stat_client_outbuf_limit_disconnections = 0
        self.stat_peak_memory = 0
        self.stat_sync_full = 0
        self.stat_sync_partial_ok = 0
        self.stat_sync_partial_err = 0
        self.ops_samples: list[tuple[float, int]] = []
        self.instantaneous_ops_per_sec = 0
        self.hz_current = 10
        self.verbosity = LL_NOTICE
        self._logfile = None

    # -- logging (serverLog) -------------------------------------------------------------

    def log(self, level: int, msg: str) -> None:
        """serverLog: ``pid:role dd Mon yyyy hh:mm:ss.mmm <mark> message``."""
        if level < _LOG_LEVELS.get(self.loglevel, LL_NOTICE):
            return
        now = time.time()
        ts = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % (
            int(now * 1000) % 1000)
        role = "C" if os.getpid() != self.pid else ("S" if self.masterhost else "M")
        line = f"{os.getpid()}:{role} {ts} {_LOG_MARKS[level]} {msg}\n"
        out = self._logfile
        if out is None:
            if self.logfile:
                self._logfile = out = open(self.logfile, "a", buffering=1)
            else:
                out = sys.stdout
        try:
            out.write(line)
            out.flush()
        except (OSError, ValueError):
            pass

    def log_warning(self, msg: str) -> None:
        self.log(LL_WARNING, msg)

    def log_notice(self, msg: str) -> None:
        self.log(LL_NOTICE, msg)

    def log_verbose(self, msg: str) -> None:
        if self.loglevel in ("debug", "verbose"):
            self.log(LL_VERBOSE, msg)

    def log_debug(self, msg: str) -> None:
        if self.loglevel == "debug":
            self.log(LL_DEBUG, msg)

    # -- helpers used by networking ------------------------------------------------------

    def replication_master_applied(self, c: net.Client) -> None:
        """Called after each command from the master link (replication.py overrides)."""

    def has_active_child_process(self) -> bool:
        return self.child_pid != -1


server = Server()
net.server = server


# --------------------------------------------------------------------------------------------
# lookupCommand / processCommand / call
# --------------------------------------------------------------------------------------------

@probe("lookupCommand")
def lookup_command(argv: list[bytes]):
    """lookupCommand: the command for argv[0], or its subcommand for argv[1] when argv[0] is
    a container (CONFIG GET, CLIENT LIST ...)."""
    base = lookup_command_by_name(argv[0])
    if base is None or base.subcommands is None or len(argv) < 2:
        return base
    return base.subcommands.get(argv[1].lower())


def reject_command(c: net.Client, err: bytes) -> None:
    """rejectCommand: an error reply that also flags a MULTI transaction as failed; a
    refused EXEC discards the transaction and answers -EXECABORT (execCommandAbort)."""
    flag_transaction(c)
    if c.cmd is not None:
        c.cmd.rejected_calls += 1
        if c.cmd.name == "exec" and server.exec_command_abort is not None:
            server.exec_command_abort(c, err)
            return
    net.add_reply_error_object(c, err)


def reject_command_format(c: net.Client, msg: str) -> None:
    flag_transaction(c)
    if c.cmd is not None:
        c.cmd.rejected_calls += 1
        if c.cmd.name == "exec" and server.exec_command_abort is not None:
            server.exec_command_abort(c, msg)
            return
    net.add_reply_error(c, msg)


def flag_transaction(c: net.Client) -> None:
    """flagTransaction: a queued-command error makes EXEC fail with EXECABORT."""
    if c.flags & net.CLIENT_MULTI:
        c.flags |= net.CLIENT_DIRTY_EXEC


# Commands that run at once even inside MULTI (everything else is queued).
_MULTI_IMMEDIATE = frozenset((b"exec", b"discard", b"multi", b"watch", b"quit", b"reset"))
# Commands allowed in a RESP2 pubsub context.
_PUBSUB_ALLOWED = frozenset(("ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
                             "psubscribe", "punsubscribe", "quit", "reset"))


@probe("processCommand")
def process_command(c: net.Client) -> bool:
    """processCommand: check the command can run now, then call() it (or queue it in MULTI).

    Returns False if the client must not be used any more.
    """
    srv = server
    argv = c.argv
    cmd = lookup_command(argv)
    c.cmd = c.lastcmd = cmd
    if cmd is None:
        _reject_unknown(c)
        return True
    arity = cmd.arity
    argc = len(argv)
    if (arity > 0 and arity != argc) or argc < -arity:
        reject_command_format(c, shared.WRONG_ARGS % cmd.fullname)
        return True
    flags = cmd.flags
    if flags & CMD_PROTECTED and not _allow_protected(c, cmd):
        is_debug = cmd.name == "debug"
        reject_command_format(
            c, "%s command not allowed. If the %s option is set to \"local\", you can run it "
               "from a local connection, otherwise you need to set this option in the "
               "configuration file, and then restart the server."
            % ("DEBUG" if is_debug else "MODULE",
               "enable-debug-command" if is_debug else "enable-module-command"))
        return True
    # authRequired (networking.auth_required, inlined: this runs for every command),
    # evaluated per command: removing requirepass lets waiting clients in, as in Redis.
    if not c.authenticated and srv.default_user_requires_auth and not flags & CMD_NO_AUTH:
        reject_command(c, shared.noautherr)
        return True
    cflags = c.flags
    if cflags & net.CLIENT_MULTI and flags & CMD_NO_MULTI:
        reject_command_format(c, "Command not allowed inside a transaction")
        return True
    if srv.acl_check_all_perm is not None and not srv.acl_check_all_perm(c):
        return True
    is_write = flags & CMD_WRITE
    if cflags & net.CLIENT_MULTI and c.mstate is not None and cmd.name == "exec":
        is_write = is_write or c.mstate.cmd_flags & CMD_WRITE
    if srv.maxmemory and srv.perform_evictions is not None:
        oom = not srv.perform_evictions()
        reject_oom = flags & CMD_DENYOOM or (
            cflags & net.CLIENT_MULTI and cmd.name not in ("exec", "discard", "quit", "reset"))
        if oom and reject_oom:
            reject_command(c, shared.oomerr)
            return True
    if not srv.last_bgsave_ok and srv.stop_writes_on_bgsave_error and srv.save and \
            (is_write or cmd.name == "ping") and not cflags & net.CLIENT_MASTER:
        reject_command(c, shared.bgsaveerr)
        return True
    if srv.aof_state and (srv.aof_last_write_status or srv.aof_bio_fsync_status) and \
            (is_write or cmd.name == "ping") and not cflags & net.CLIENT_MASTER:
        # writeCommandsDeniedByDiskError's AOF half (the fields live in aof.py).
        from tracered.aof import write_commands_get_aof_error_message

        reject_command_format(c, write_commands_get_aof_error_message())
        return True
    # checkGoodReplicasStatus: only a master counts its good replicas (a replica applying
    # its master's stream must never refuse it).
    if is_write and srv.min_replicas_to_write and srv.min_replicas_max_lag and \
            srv.masterhost is None and srv.repl_good_slaves_count < srv.min_replicas_to_write:
        reject_command(c, shared.noreplicaserr)
        return True
    if srv.masterhost and srv.replica_read_only and is_write and \
            not cflags & net.CLIENT_MASTER:
        reject_command(c, shared.roslaveerr)
        return True
    if cflags & net.CLIENT_PUBSUB and c.resp == 2 and cmd.name not in _PUBSUB_ALLOWED:
        reject_command_format(
            c, "Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
               "RESET are allowed in this context" % cmd.fullname)
        return True
    if srv.masterhost and srv.repl_state != REPL_STATE_CONNECTED and \
            not srv.replica_serve_stale_data and not flags & CMD_STALE:
        reject_command(c, shared.masterdownerr)
        return True
    if srv.loading and not flags & CMD_LOADING:
        reject_command(c, shared.loadingerr)
        return True
    if srv.script_timedout and not flags & CMD_ALLOW_BUSY:
        # A script past busy-reply-threshold yields to the event loop (script_lua.py):
        # only the allow_busy commands (SCRIPT KILL, SHUTDOWN NOSAVE, MULTI ...) run.  The
        # error names the right KILL: SCRIPT KILL for EVAL, FUNCTION KILL for FCALL.
        from tracered import script_lua

        reject_command(c, shared.slowevalerr if script_lua.script_is_eval()
                       else shared.slowscripterr)
        return True
    if cflags & net.CLIENT_SLAVE and flags & (CMD_WRITE | CMD_READONLY | CMD_MAY_REPLICATE):
        reject_command_format(c, "Replica can't interact with the keyspace")
        return True
    if srv.client_pause_type != CLIENT_PAUSE_OFF and not cflags & net.CLIENT_SLAVE and \
            (srv.client_pause_type == CLIENT_PAUSE_ALL or
             flags & (CMD_WRITE | CMD_MAY_REPLICATE) or
             (cmd.name in ("eval", "evalsha", "fcall") )):
        block_postpone_client(c)
        return True
    if cflags & net.CLIENT_MULTI and cmd.name.encode() not in _MULTI_IMMEDIATE:
        srv.queue_multi_command(c)
        net.add_reply(c, shared.queued)
        return True
    call(c, CMD_CALL_FULL)
    c.woff = srv.master_repl_offset
    if srv.ready_keys and srv.handle_blocked is not None:
        srv.handle_blocked()
    return True


def _reject_unknown(c: net.Client) -> None:
    """commandCheckExistence's error texts."""
    argv = c.argv
    base = lookup_command_by_name(argv[0])
    if base is not None and base.subcommands is not None:
        msg = "unknown subcommand '%s'. Try %s HELP." % (
            argv[1][:128].decode(errors="replace"), argv[0].decode(errors="replace").upper())
    else:
        args = ""
        for a in argv[1:]:
            if len(args) >= 128:
                break
            args += "'%s' " % a[:128 - len(args)].decode(errors="replace")
        msg = "unknown command '%s', with args beginning with: %s" % (
            argv[0][:128].decode(errors="replace"), args)
    reject_command_format(c, msg.replace("\r", " ").replace("\n", " "))


def _allow_protected(c: net.Client, cmd) -> bool:
    """allowProtectedAction: 'yes', or 'local' from a loopback/unix connection."""
    setting = server.enable_debug_command if cmd.name == "debug" else server.enable_module_command
    if setting == "yes":
        return True
    if setting == "local":
        return c.conn is None or c.addr.startswith(("127.", "::1", "/"))
    return False


def block_postpone_client(c: net.Client) -> None:
    """blockPostponeClient: park the client until CLIENT UNPAUSE (or the pause ends)."""
    c.flags |= net.CLIENT_BLOCKED
    c.postponed = True
    server.blocked_clients += 1
    server.postponed_clients.append(c)


@probe("call")
def call(c: net.Client, flags: int = CMD_CALL_FULL) -> None:
    """call: run the command proc, then account for it and propagate its effects."""
    srv = server
    cmd = c.cmd
    # FORCE_REPL/FORCE_AOF/PREVENT_* are per call: a command sets them to propagate without
    # a change to the dataset (FLUSHALL on an empty server) or to stop propagation; the
    # caller's are put back afterwards (a script calling commands keeps its own).
    old_prop = c.flags & _PROP_FLAGS
    if old_prop:
        c.flags &= ~_PROP_FLAGS
    dirty = srv.dirty
    errs = srv.stat_total_error_replies
    prev_client = srv.executing_client
    srv.executing_client = c
    if srv.fixed_time_expire == 0:
        # Keys expire against one clock reading per top-level command (fixed_time_expire),
        # so a command sees a consistent keyspace.
        now = _time()
        srv.unixtime = int(now)
        srv.mstime = int(now * 1000)
    srv.fixed_time_expire += 1
    srv.in_nested_call += 1
    start = _perf_ns()
    try:
        cmd.proc(c)
    except Exception as e:  # noqa: BLE001 - a bug in one command must not kill the server
        _command_crashed(c, e)
    finally:
        srv.in_nested_call -= 1
        srv.fixed_time_expire -= 1
        srv.executing_client = prev_client
    duration = (_perf_ns() - start) // 1000
    dirty = srv.dirty - dirty
    if dirty < 0:
        dirty = 0  # SAVE / FLUSHALL with save points reset the counter
    if srv.stat_total_error_replies > errs:
        cmd.failed_calls += 1
    cflags = c.flags
    if flags & CMD_CALL_SLOWLOG and 0 <= srv.slowlog_log_slower_than <= duration and \
            not cflags & _CLIENT_BLOCKED and not cmd.flags & CMD_SKIP_SLOWLOG:
        slowlog_push(c, duration)
    if srv.monitors and not cmd.flags & (CMD_SKIP_MONITOR | CMD_ADMIN):
        replication_feed_monitors(c, c.db.id, c.original_argv or c.argv)
    if flags & CMD_CALL_SLOWLOG and srv.latency_monitor_threshold:
        latency.latency_add_sample_if_needed(
            "fast-command" if cmd.flags & CMD_FAST else "command", duration // 1000)
    if flags & CMD_CALL_STATS:
        cmd.microseconds += duration
        cmd.calls += 1
        if srv.latency_tracking and not cflags & _CLIENT_BLOCKED:
            latency.update_command_latency_histogram(cmd, duration)
    if (dirty or cflags & _FORCE_FLAGS) and flags & CMD_CALL_PROPAGATE and \
            srv.propagate_hooks and cmd.name != "exec":
        target = PROPAGATE_AOF | PROPAGATE_REPL if dirty else 0
        if cflags & net.CLIENT_FORCE_REPL:
            target |= PROPAGATE_REPL
        if cflags & net.CLIENT_FORCE_AOF:
            target |= PROPAGATE_AOF
        if cflags & net.CLIENT_PREVENT_REPL_PROP or not flags & CMD_CALL_PROPAGATE_REPL:
            target &= ~PROPAGATE_REPL
        if cflags & net.CLIENT_PREVENT_AOF_PROP or not flags & CMD_CALL_PROPAGATE_AOF:
            target &= ~PROPAGATE_AOF
        if target:
            srv.also_propagate.append((c.db.id, c.argv, target))
    if cflags & _PROP_FLAGS or old_prop:
        c.flags = (c.flags & ~_PROP_FLAGS) | old_prop
    if c.original_argv is not None and not cflags & _CLIENT_BLOCKED:
        c.original_argv = None  # freeClientOriginalArgv
    srv.stat_numcommands += 1
    if srv.also_propagate and srv.in_nested_call == 0:
        propagate_pending_commands()
    if srv.tracking_clients:
        srv.tracking_after_call(c)  # tracking.py: trackingRememberKeys + afterCommand's half


# Hot-path constants and clock functions bound once (each module attribute lookup costs
# tens of nanoseconds, and call() runs for every command).
_FORCE_FLAGS = net.CLIENT_FORCE_AOF | net.CLIENT_FORCE_REPL
_PROP_FLAGS = _FORCE_FLAGS | net.CLIENT_PREVENT_AOF_PROP | net.CLIENT_PREVENT_REPL_PROP
_CLIENT_BLOCKED = net.CLIENT_BLOCKED
_time = time.time
_perf_ns = time.perf_counter_ns


def _command_crashed(c: net.Client, e: Exception) -> None:
    """Divergence: Redis would crash (serverPanic) on a bug; tracered logs the Python
    traceback, answers this command with an error and keeps serving everyone else."""
    import traceback

    server.log_warning("=== tracered BUG REPORT: %s raised ===\n%s" % (
        c.cmd.fullname if c.cmd else "?", traceback.format_exc()))
    net.add_reply_error(c, "internal error in tracered while running '%s': %s: %s" % (
        c.cmd.fullname if c.cmd else "?", type(e).__name__, str(e)[:200]))


def _handler_crashed(fd: int, fe, e: Exception) -> None:
    """An exception escaped a socket handler: log it, drop that client, keep serving."""
    import traceback

    server.log_warning("=== tracered BUG REPORT: handler for fd %d raised ===\n%s"
                       % (fd, traceback.format_exc()))
    c = fe.client_data
    if isinstance(c, net.Client):
        server.current_client = None
        net.free_client(c)


def also_propagate(dbid: int, argv: list[bytes], target: int) -> None:
    """alsoPropagate: queue a command for the AOF/replicas, sent after the outer command."""
    if server.propagate_hooks:
        server.also_propagate.append((dbid, argv, target))


def propagate_pending_commands() -> None:
    """propagatePendingCommands: hand queued commands to the AOF and replication, wrapping
    several in MULTI/EXEC so replicas apply a command's side effects atomically."""
    ops = server.also_propagate
    server.also_propagate = []
    if len(ops) > 1 and not server.propagate_no_multi:
        ops = [(ops[0][0], [b"MULTI"], PROPAGATE_AOF | PROPAGATE_REPL)] + ops + \
              [(ops[0][0], [b"EXEC"], PROPAGATE_AOF | PROPAGATE_REPL)]
    for dbid, argv, target in ops:
        for hook in server.propagate_hooks:
            hook(dbid, argv, target)




def replication_feed_monitors(c: net.Client, dictid: int, argv: list[bytes]) -> None:
    """replicationFeedMonitors: '+<time> [<db> <addr>] "arg" ...' to every MONITOR client."""
    now = time.time()
    if c.flags & net.CLIENT_SCRIPT:
        who = f"[{dictid} lua]"
    elif c.conn is None:
        who = f"[{dictid} unix:]" if c.flags & net.CLIENT_UNIX_SOCKET else f"[{dictid} ]"
    else:
        who = f"[{dictid} {c.addr}]"
    parts = [sds_cat_repr(a) for a in argv]
    line = ("+%.6f %s " % (now, who)).encode() + b" ".join(parts) + b"\r\n"
    for m in server.monitors:
        net.add_reply(m, line)


_REPR_ESC = {0x5c: b"\\\\", 0x22: b'\\"', 0x0a: b"\\n", 0x0d: b"\\r", 0x09: b"\\t",
             0x07: b"\\a", 0x08: b"\\b"}


def sds_cat_repr(s: bytes) -> bytes:
    """sdscatrepr: a quoted, escaped rendering of binary data (MONITOR, CLIENT LIST)."""
    out = bytearray(b'"')
    for ch in s:
        esc = _REPR_ESC.get(ch)
        if esc is not None:
            out += esc
        elif 32 <= ch < 127:
            out.append(ch)
        else:
            out += b"\\x%02x" % ch
    out += b'"'
    return bytes(out)


def slowlog_push(c: net.Client, duration: int) -> None:
    """slowlogPushEntryIfNeeded: keep the newest slowlog-max-len entries; arguments are cut
    to 32 and each argument to 128 bytes, as in slowlog.c."""
    argv = c.original_argv or c.argv
    args = []
    argc = min(len(argv), 32)
    for i in range(argc):
        if argc != len(argv) and i == argc - 1:
            args.append(b"... (%d more arguments)" % (len(argv) - argc + 1))
        elif len(argv[i]) > 128:
            args.append(argv[i][:128] + b"... (%d more bytes)" % (len(argv[i]) - 128))
        else:
            args.append(argv[i])
    entry = (server.slowlog_entry_id, int(time.time()), duration, args,
             c.addr.encode(), c.name or b"")
    server.slowlog_entry_id += 1
    server.slowlog.insert(0, entry)
    while len(server.slowlog) > server.slowlog_max_len:
        server.slowlog.pop()


# --------------------------------------------------------------------------------------------
# Crons
# --------------------------------------------------------------------------------------------

def update_cached_time() -> None:
    now = time.time()
    server.unixtime = int(now)
    server.mstime = int(now * 1000)
    server.ustime = int(now * 1_000_000)


def get_lru_clock() -> int:
    """getLRUClock: seconds resolution, 24 bits."""
    from tracered import object as obj

    return int(time.time()) & obj.LRU_CLOCK_MAX


@probe("serverCron")
def server_cron(el: EventLoop, event_id: int, client_data) -> float:
    """serverCron: everything done 'hz' times a second.  Returns ms until the next run."""
    from tracered import object as obj

    srv = server
    update_cached_time()
    srv.hz_current = srv.hz
    if srv.dynamic_hz:
        # Like Redis: more clients -> higher hz so clientsCron keeps up.
        while len(srv.clients) / srv.hz_current > 200 and srv.hz_current < CONFIG_MAX_HZ:
            srv.hz_current *= 2
    srv.hz_current = max(CONFIG_MIN_HZ, min(CONFIG_MAX_HZ, srv.hz_current or 1))
    srv.lruclock = get_lru_clock()
    obj.lru_clock = srv.lruclock
    srv.cronloops += 1
    # instantaneous_ops_per_sec from samples taken every 100 ms (trackInstantaneousMetric).
    now_ms = srv.mstime
    if not srv.ops_samples or now_ms - srv.ops_samples[-1][0] >= 100:
        srv.ops_samples.append((now_ms, srv.stat_numcommands))
        srv.ops_samples = srv.ops_samples[-16:]
        if len(srv.ops_samples) >= 2:
            (t0, n0), (t1, n1) = srv.ops_samples[0], srv.ops_samples[-1]
            srv.instantaneous_ops_per_sec = int((n1 - n0) * 1000 / max(1, t1 - t0))
    if srv.shutdown_asap:
        if prepare_for_shutdown(srv.shutdown_flags):
            srv.el.stop = True
            return 1000 / srv.hz_current
        srv.shutdown_asap = False
    clients_cron()
    databases_cron()
    for hook in list(srv.cron_hooks):
        hook(srv)
    if srv.client_pause_type != CLIENT_PAUSE_OFF and srv.client_pause_end_time and \
            srv.mstime >= srv.client_pause_end_time:
        unpause_clients()
    return 1000 / srv.hz_current


def clients_cron() -> None:
    """clientsCron: idle timeout and output buffer limits, a slice of clients per call."""
    srv = server
    if not srv.clients:
        return
    now = srv.unixtime
    clients = list(srv.clients.values())
    # Visit about numclients/hz each call (at least 5) so every client is seen once a second.
    iterations = max(5, len(clients) // max(1, srv.hz_current))
    start = srv.cronloops * iterations % len(clients)
    for c in (clients[start:] + clients[:start])[:iterations]:
        if srv.timeout and not c.flags & (net.CLIENT_SLAVE | net.CLIENT_MASTER |
                                          net.CLIENT_BLOCKED | net.CLIENT_PUBSUB) and \
                now - c.lastinteraction > srv.timeout:
            srv.log_verbose("Closing idle client")
            net.free_client(c)
            continue
        if c.flags & net.CLIENT_BLOCKED and c.bpop is not None and srv.client_timeout_hook:
            srv.client_timeout_hook(c)




def databases_cron() -> None:
    """databasesCron: active expiry on a master, then resize/rehash when no child exists."""
    from tracered import db as dbmod
    from tracered import expire

    srv = server
    if srv.active_expire_enabled:
        if srv.masterhost is None:
            expire.active_expire_cycle(expire.ACTIVE_EXPIRE_CYCLE_SLOW)
        else:
            expire.expire_slave_keys()
    if not srv.has_active_child_process():
        dbmod.databases_resize_and_rehash()




@probe("beforeSleep")
def before_sleep(el: EventLoop) -> None:
    """beforeSleep: run before every epoll_wait."""
    srv = server
    for hook in srv.before_sleep_hooks:
        hook(srv)
    if srv.clients_pending_write:
        net.handle_clients_with_pending_writes()
    if srv.clients_to_close:
        net.free_clients_in_async_free_queue()


# --------------------------------------------------------------------------------------------
# CLIENT PAUSE
# --------------------------------------------------------------------------------------------

def pause_clients(pause_type: int, end_ms: int) -> None:
    srv = server
    if srv.client_pause_type == CLIENT_PAUSE_ALL and pause_type == CLIENT_PAUSE_WRITE:
        pause_type = CLIENT_PAUSE_ALL  # a weaker pause never shortens a stronger one
    srv.client_pause_type = pause_type
    srv.client_pause_end_time = max(srv.client_pause_end_time, end_ms)


def unpause_clients() -> None:
    """unpauseClients: release postponed clients; their commands run in arrival order."""
    srv = server
    srv.client_pause_type = CLIENT_PAUSE_OFF
    srv.client_pause_end_time = 0
    waiting, srv.postponed_clients = srv.postponed_clients, []
    for c in waiting:
        if c.conn is None and not c.flags & net.CLIENT_MASTER:
            continue
        c.flags &= ~net.CLIENT_BLOCKED
        c.postponed = False
        srv.blocked_clients -= 1
        srv.current_client = c
        try:
            process_command(c)
            net.process_input_buffer(c)
        finally:
            srv.current_client = None


# --------------------------------------------------------------------------------------------
# Startup and shutdown
# --------------------------------------------------------------------------------------------

def listen_to_port() -> None:
    """listenToPort: bind every address in 'bind'; '-' prefixed ones are optional."""
    srv = server
    addrs = srv.bind or ["*"]
    for a in addrs:
        optional = a.startswith("-")
        a = a.lstrip("-")
        family = socket.AF_INET6 if ":" in a else socket.AF_INET
        host = {"*": "0.0.0.0", "::*": "::"}.get(a, a)
        try:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((host, srv.port))
            s.listen(srv.tcp_backlog)
            s.setblocking(False)
        except OSError as e:
            if optional or e.errno in (97,):  # EAFNOSUPPORT
                continue
            srv.log_warning(f"Warning: Could not create server TCP listening socket "
                            f"{a}:{srv.port}: {e.strerror}")
            raise SystemExit(1) from e
        srv.listeners.append(s)
        srv.el.create_file_event(s.fileno(), AE_READABLE, net.accept_tcp_handler, s)
    if srv.port == 0 and srv.listeners:
        srv.port = srv.listeners[0].getsockname()[1]


def init_server() -> None:
    """initServer: event loop, databases, command table, listening sockets, serverCron."""
    from tracered import commands, db
    from tracered import object as obj
    from tracered.trace import probes

    srv = server
    net.server = srv
    srv.pid = os.getpid()
    srv.el = EventLoop(srv.maxclients + 128)
    srv.db = [db.RedisDb(i) for i in range(srv.databases)]
    commands.populate_command_table(all_command_tables())
    probes.add_rebinder(commands.rebind_proc)
    srv.lruclock = get_lru_clock()
    obj.lru_clock = srv.lruclock
    srv.el.beforesleep = before_sleep
    srv.el.on_handler_error = _handler_crashed
    srv.el.create_time_event(1, server_cron)
    for init in _subsystem_inits():
        init(srv)


def all_command_tables() -> list:
    """Every family's command table, imported here so the table has one assembly point."""
    import importlib

    tables = []
    for modname in _COMMAND_MODULES:
        try:
            mod = importlib.import_module(f"tracered.{modname}")
        except ModuleNotFoundError as e:
            if e.name == f"tracered.{modname}":
                continue  # a family not written yet
            raise
        tables.append(getattr(mod, "COMMANDS", []))
    return tables


# Families that declare COMMANDS, in the order of Redis's command groups.
_COMMAND_MODULES = [
    "server_cmds", "db", "expire", "t_string", "t_list", "t_hash", "t_set", "t_zset",
    "bitops", "hyperloglog", "t_stream", "blocked", "multi", "pubsub", "notify",
    "networking_cmds", "info", "command_cmd", "config_cmd", "debug", "object_cmd",
    "slowlog", "latency", "evict", "rdb", "aof", "replication", "script_lua", "acl", "sort",
    "geo", "tracing_cmds", "gcpolicy", "tracking", "cluster", "functions",
]


def _subsystem_inits() -> list:
    """Modules with an ``init(server)`` (persistence, replication ...) get it called."""
    import importlib

    out = []
    for modname in _COMMAND_MODULES:
        mod = sys.modules.get(f"tracered.{modname}")
        if mod is None:
            try:
                mod = importlib.import_module(f"tracered.{modname}")
            except ModuleNotFoundError:
                continue
        fn = getattr(mod, "init", None)
        if fn is not None:
            out.append(fn)
    return out


def prepare_for_shutdown(flags: int = 0) -> bool:
    """prepareForShutdown: final save/AOF flush via shutdown hooks, close listeners.
    Returns False if shutdown must be aborted (a failed final save without NOSAVE/FORCE)."""
    srv = server
    srv.log_warning("User requested shutdown...")
    for hook in list(getattr(srv, "shutdown_hooks", [])):
        if hook(srv, flags) is False:
            srv.log_warning("Errors trying to shut down the server. Check the logs for "
                            "more information.")
            return False
    for s in srv.listeners:
        try:
            s.close()
        except OSError:
            pass
    if srv.pidfile:
        try:
            os.unlink(srv.pidfile)
        except OSError:
            pass
    # Flush replies to clients still connected (e.g. replicas) before exiting.
    net.handle_clients_with_pending_writes()
    srv.log_warning(f"{'tracered'} is now ready to exit, bye bye...")
    return True




def _sig_shutdown_handler(signum, frame) -> None:
    srv = server
    name = "SIGINT" if signum == signal.SIGINT else "SIGTERM"
    if srv.shutdown_asap and signum == signal.SIGINT:
        srv.log_warning("You insist... exiting now.")
        os._exit(1)
    srv.log_warning(f"Received {name} scheduling shutdown...")
    srv.shutdown_signal = name
    srv.shutdown_asap = True


def setup_signal_handlers() -> None:
    # Python delivers signals to the main thread only; when the server loop runs on a
    # worker thread (the TUI owns the main thread) the UI handles quitting instead.
    if threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, _sig_shutdown_handler)
    signal.signal(signal.SIGINT, _sig_shutdown_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)


def main(argv: list[str] | None = None) -> int:
    """redis-server's main(): config, banner lines, init, listen, run the loop."""
    from tracered import config

    argv = list(sys.argv[1:] if argv is None else argv)
    srv = server
    # Import every module first: some register configs of their own (trace-*, otlp-*,
    # debug-control-port) that redis.conf or --options may set.
    all_command_tables()
    path, from_stdin, options = config.parse_server_argv(argv)
    srv.log_warning("oO0OoO0OoO0Oo tracered is starting oO0OoO0OoO0Oo")
    srv.log_warning(f"tracered version={__version__}, redis_version={REDIS_VERSION}, bits=64, "
                    f"commit=00000000, modified=0, pid={os.getpid()}, just started")
    srv.configfile = path
    config.load_server_config_or_exit(srv, path, from_stdin, options)
    if path or from_stdin:
        srv.log_warning("Configuration loaded")
    else:
        srv.log_warning("Warning: no config file specified, using the default config. In order "
                        "to specify a config file use tracered /path/to/redis.conf")
    setup_signal_handlers()
    init_server()
    listen_to_port()
    srv.log_notice(f"Running mode=standalone, port={srv.port}.")
    if srv.pidfile:
        with open(srv.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    srv.log_warning("Server initialized")
    for hook in list(getattr(srv, "startup_hooks", [])):
        hook(srv)
    srv.log_notice("Ready to accept connections")
    try:
        srv.el.main()
    except KeyboardInterrupt:
        prepare_for_shutdown()
    return 0




# Imported last: latency.py reads `server` from this module at import time.
from tracered import latency  # noqa: E402
