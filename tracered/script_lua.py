"""Lua scripting: the mirror of script_lua.c, eval.c and script.c (EVAL and friends).

Redis embeds Lua 5.1; tracered embeds the Lua 5.1 runtime that the ``lupa`` package bundles
(``lupa.lua51``, the PUC-Rio interpreter, the same language and number type as Redis's).

Layout (the three Redis files, in their order):

    script.c        run context      ScriptRunCtx, scripts_flags_def, script_prepare_for_run,
                                     script_reset_run, script_kill, script_interrupt,
                                     script_call (the checks before a command runs from Lua),
                                     process_events_while_blocked (networking.c)
    script_lua.c    the Lua bridge   redis_protocol_to_lua_type (RESP reply -> Lua value),
                                     lua_push_error_buff, lua_reply_to_redis_reply (Lua value
                                     -> RESP reply), lua_args_to_redis_argv,
                                     lua_redis_generic_command (redis.call / redis.pcall),
                                     the other redis.* functions, math.random (redisLrand48),
                                     the globals protection, lua_call_function
    eval.c          EVAL             scripting_init / scripting_reset, the scripts cache,
                                     eval_extract_shebang_flags, lua_create_function,
                                     eval_generic_command, EVAL EVALSHA EVAL_RO EVALSHA_RO,
                                     SCRIPT LOAD|EXISTS|FLUSH|KILL|DEBUG|HELP

How a script runs: EVAL finds (or compiles) the function ``f_<sha1>``, prepares a run context
(the caller, the fake Lua client, flags from the shebang line), sets KEYS and ARGV and runs
the function under ``xpcall`` with the error handler that adds ``source``/``line`` to the
error.  ``redis.call`` converts its arguments to an argv for the fake client, checks it
(script_call: arity, noscript, read-only scripts, OOM, replica state) and runs it through
``server.call`` with the caller's database; the RESP reply the command wrote to the fake
client is parsed back into Lua values.  The script's return value becomes the reply.

redis.call and the other redis.* functions are Python functions that Lua calls the way Redis
calls its C functions (so a script's line is still on the stack when they fail); an error
they raise is a ``LuaRaise`` exception, which lupa carries through Lua as userdata and which
the error handler and ``pcall`` unwrap into Redis's ``{err=...}`` table.

Propagation (Redis 7.0): the *effects* are replicated, never the EVAL.  Each command called
from the script goes through call() while the outer EVAL's call() is still running, so its
writes queue in ``server.also_propagate``; the EVAL itself is kept out of the AOF and the
replicas (prevent_command_propagation); when the outer call() ends, propagatePendingCommands
sends the queued writes, wrapped in MULTI/EXEC when there is more than one.

Busy scripts: a Lua count hook fires every 100000 instructions and calls script_interrupt.
Past ``busy-reply-threshold`` ms the script is "timed out": the caller's connection stops
being read and the event loop runs (AE_DONT_WAIT) from inside the hook, so other clients get
``-BUSY`` (processCommand) except for the allow_busy commands, SCRIPT KILL among them.  A
killed script is stopped by raising an error from the hook (then on every line, so pcall
cannot swallow it); a script that already wrote cannot be killed (UNKILLABLE).

Divergence: lupa's Lua is unpatched, while Redis 7.0 patches its Lua with read-only tables.
The protection is emulated: the global table is an empty proxy (its contents live in a
backing table) whose ``__index`` raises "Script attempted to access nonexistent global
variable" and whose ``__newindex`` raises "Attempt to modify a readonly table"; the library
tables (string, math, table, coroutine, redis, cjson, bit, struct, cmsgpack) are likewise
empty read-only proxies.  ``pairs``/``next``/``rawget`` see through the proxies, ``rawset``
and ``setmetatable`` refuse them.  What still differs: ``#string`` is 0, and ``table.insert``
on a library proxy is not refused.
Divergence: the globals are those the reference redis-server 7.0.15 (Debian) exposes:
no ``getfenv``/``setfenv``/``newproxy`` (they are on Redis's allow list but absent there).
Divergence: the error texts are Redis 7.0's (``ERR <msg> script: <sha1>, on
@user_script:<line>.``), not the 6.x "Error running script (call to f_<sha1>)" form.
Divergence: the ``cjson``, ``cmsgpack``, ``struct`` and ``bit`` libraries are Python
re-implementations (script_lua_libs.py) of the C libraries Redis links; see that module.
Divergence: the Lua debugger (SCRIPT DEBUG YES|SYNC, LDB) is not implemented; ACL checks
from scripts always pass (tracered has no ACLs yet); the cluster checks do not apply (no
cluster mode).  FUNCTION and FCALL are in functions.py and function_lua.py (they reuse
this module's run context and redis.* API).
Divergence: lupa itself reads the global ``debug`` (for tracebacks) on every call from
Python into Lua, so the globals' ``__index`` still hands the debug library to C callers;
scripts get "Script attempted to access nonexistent global variable 'debug'" as in Redis.
Divergence: an EVAL whose script met a command error but then succeeded counts as a failed
call in INFO commandstats (call() compares the error count from its own start, Redis from
the last nested call()).
Divergence: processCommand does not read a script's shebang flags (evalGetCommandFlags) to
decide OOM/stale/write rejection; script_prepare_for_run makes those checks instead, with
the same error texts.
"""

from __future__ import annotations

import hashlib
import math
import time

from tracered import REDIS_VERSION, shared
from tracered import networking as net
from tracered import server as server_module
from tracered.commands import (
    CMD_DENYOOM,
    CMD_MAY_REPLICATE,
    CMD_NOSCRIPT,
    CMD_STALE,
    CMD_WRITE,
    KeySpec,
    cmd,
    sub,
)
from tracered.server import server
from tracered.trace.probes import probe

try:  # lupa is a dependency; without it the server still runs, EVAL answers an error
    import lupa.lua51 as _lupa
except ImportError:  # pragma: no cover - exercised only on a machine without lupa
    _lupa = None

# --------------------------------------------------------------------------------------------
# script.h
# --------------------------------------------------------------------------------------------

SCRIPT_KILL = 1
SCRIPT_CONTINUE = 2

# scriptRunCtx.flags
SCRIPT_WRITE_DIRTY = 1 << 0
SCRIPT_TIMEDOUT = 1 << 3
SCRIPT_KILLED = 1 << 4
SCRIPT_READ_ONLY = 1 << 5
SCRIPT_ALLOW_OOM = 1 << 6
SCRIPT_EVAL_MODE = 1 << 7
SCRIPT_ALLOW_CROSS_SLOT = 1 << 8
_SCRIPT_KILL_LOGGED = 1 << 30  # tracered: the kill was logged (the hook fires again)

# Script flags (declared in the shebang line: #!lua flags=no-writes,allow-oom)
SCRIPT_FLAG_NO_WRITES = 1 << 0
SCRIPT_FLAG_ALLOW_OOM = 1 << 1
SCRIPT_FLAG_ALLOW_STALE = 1 << 2
SCRIPT_FLAG_NO_CLUSTER = 1 << 3
SCRIPT_FLAG_EVAL_COMPAT_MODE = 1 << 4
SCRIPT_FLAG_ALLOW_CROSS_SLOT = 1 << 5

SCRIPTS_FLAGS_DEF = {
    b"no-writes": SCRIPT_FLAG_NO_WRITES,
    b"allow-oom": SCRIPT_FLAG_ALLOW_OOM,
    b"allow-stale": SCRIPT_FLAG_ALLOW_STALE,
    b"no-cluster": SCRIPT_FLAG_NO_CLUSTER,
    b"allow-cross-slot-keys": SCRIPT_FLAG_ALLOW_CROSS_SLOT,
}

# replication.h: the link to the master is up (a replica serving stale data checks it).
_REPL_STATE_CONNECTED = getattr(server_module, "REPL_STATE_CONNECTED", 15)

PROPAGATE_AOF = server_module.PROPAGATE_AOF
PROPAGATE_REPL = server_module.PROPAGATE_REPL

# server.h client flags not (yet) in networking.py.
CLIENT_DENY_BLOCKING = getattr(net, "CLIENT_DENY_BLOCKING", 1 << 41)
CLIENT_PROTECTED = getattr(net, "CLIENT_PROTECTED", 1 << 28)

LLONG_MIN = -(1 << 63)
REDIS_LRAND48_MAX = 2147483647
# The count hook's period in VM instructions (luaCallFunction): how often a running script
# looks at the clock; about a millisecond of Lua work.
LUA_HOOK_COUNT = 100000

# Lua's log levels are the server's (LL_*).
LL_DEBUG, LL_VERBOSE, LL_NOTICE, LL_WARNING = 0, 1, 2, 3


def _redis_version_num() -> int:
    parts = [int(p) for p in REDIS_VERSION.split(".")[:3]]
    while len(parts) < 3:
        parts.append(0)
    return (parts[0] << 16) | (parts[1] << 8) | parts[2]


# --------------------------------------------------------------------------------------------
# script.c: the run context
# --------------------------------------------------------------------------------------------

class ScriptRunCtx:
    """scriptRunCtx: one script invocation.  ``c`` is the fake Lua client the script's
    commands run on, ``original_client`` the client that sent EVAL."""

    __slots__ = ("funcname", "c", "original_client", "flags", "repl_flags", "start_time",
                 "snapshot_time", "pre_command_oom_state")

    def __init__(self) -> None:
        self.funcname = ""
        self.c: net.Client | None = None
        self.original_client: net.Client | None = None
        self.flags = 0
        self.repl_flags = PROPAGATE_AOF | PROPAGATE_REPL
        self.start_time = 0.0
        self.snapshot_time = 0
        self.pre_command_oom_state = False


# The invocation running now (curr_run_ctx); None between scripts.
curr_run_ctx: ScriptRunCtx | None = None


def must_obey_client(c: net.Client) -> bool:
    """mustObeyClient: the master link and the AOF loading client are never refused."""
    return bool(c.flags & net.CLIENT_MASTER) or c.id == getattr(server, "aof_client_id", -2)


def script_is_running() -> bool:
    return curr_run_ctx is not None


def script_is_timedout() -> bool:
    return curr_run_ctx is not None and bool(curr_run_ctx.flags & SCRIPT_TIMEDOUT)


def script_is_eval() -> bool:
    return curr_run_ctx is not None and bool(curr_run_ctx.flags & SCRIPT_EVAL_MODE)


def _write_commands_denied_by_disk_error() -> str | None:
    """writeCommandsDeniedByDiskError: "rdb" when the last background save failed (and
    stop-writes-on-bgsave-error is on), "aof" when the AOF cannot be written, else None."""
    srv = server
    if not srv.last_bgsave_ok and srv.stop_writes_on_bgsave_error and srv.save:
        return "rdb"
    try:
        from tracered import aof
    except ImportError:  # pragma: no cover - before aof.py exists
        return None
    return "aof" if aof.write_commands_denied_by_aof_error() else None


def _write_commands_get_disk_error_message(kind: str) -> str:
    """writeCommandsGetDiskErrorMessage."""
    if kind == "rdb":
        return shared.bgsaveerr.decode()
    from tracered import aof

    return aof.write_commands_get_aof_error_message()


def _is_oom() -> bool:
    """server.pre_command_oom_state: used memory over maxmemory when the command began.
    Divergence: computed here when the script starts (processCommand does not keep it)."""
    if not server.maxmemory:
        return False
    try:
        from tracered import evict
    except ImportError:  # pragma: no cover
        return False
    return not evict.get_maxmemory_state()[0]


def script_flags_to_cmd_flags(cmd_flags: int, script_flags: int) -> int:
    """scriptFlagsToCmdFlags: the command flags a flagged (shebang) script runs with."""
    cmd_flags &= ~(CMD_STALE | CMD_DENYOOM | CMD_WRITE)
    if not script_flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES):
        cmd_flags |= CMD_DENYOOM
    if not script_flags & SCRIPT_FLAG_NO_WRITES:
        cmd_flags |= CMD_WRITE
    if script_flags & SCRIPT_FLAG_ALLOW_STALE:
        cmd_flags |= CMD_STALE
    return cmd_flags & ~CMD_MAY_REPLICATE


@probe("scriptPrepareForRun")
def script_prepare_for_run(run_ctx: ScriptRunCtx, engine_client: net.Client,
                           caller: net.Client, funcname: str, script_flags: int,
                           ro: bool) -> bool:
    """scriptPrepareForRun: refuse to start a script the server state does not allow (the
    checks depend on the shebang flags), then fill the run context.  False = refused, the
    error has been sent to the caller."""
    global curr_run_ctx
    srv = server
    running_stale = bool(srv.masterhost) and \
        srv.repl_state != _REPL_STATE_CONNECTED and not srv.replica_serve_stale_data
    obey_client = must_obey_client(caller)
    oom = _is_oom()
    if not script_flags & SCRIPT_FLAG_EVAL_COMPAT_MODE:
        # (no-cluster is only refused in cluster mode, which tracered has not.)
        if running_stale and not script_flags & SCRIPT_FLAG_ALLOW_STALE:
            net.add_reply_error(caller, "-MASTERDOWN Link with MASTER is down, "
                                        "replica-serve-stale-data is set to 'no' and "
                                        "'allow-stale' flag is not set on the script.")
            return False
        if not script_flags & SCRIPT_FLAG_NO_WRITES:
            if srv.masterhost and srv.replica_read_only and not obey_client:
                net.add_reply_error(caller, "-READONLY Can not run script with write flag "
                                            "on readonly replica")
                return False
            deny = _write_commands_denied_by_disk_error()
            if deny is not None and not obey_client:
                if deny == "rdb":
                    net.add_reply_error(
                        caller, "-MISCONF Redis is configured to save RDB snapshots, but "
                                "it's currently unable to persist to disk. Writable scripts "
                                "are blocked. Use 'no-writes' flag for read only scripts.")
                else:
                    import errno
                    import os

                    err = getattr(srv, "aof_last_write_errno", 0) or errno.EIO
                    net.add_reply_error(
                        caller, "-MISCONF Redis is configured to persist data to AOF, but "
                                "it's currently unable to persist to disk. Writable scripts "
                                "are blocked. Use 'no-writes' flag for read only scripts. "
                                "AOF error: %s" % os.strerror(err))
                return False
            if ro:
                net.add_reply_error(caller, "Can not execute a script with write flag using "
                                            "*_ro command.")
                return False
            if srv.masterhost is None and srv.min_replicas_max_lag and \
                    srv.min_replicas_to_write and \
                    srv.repl_good_slaves_count < srv.min_replicas_to_write:
                net.add_reply_error_object(caller, shared.noreplicaserr)
                return False
        if oom and not script_flags & (SCRIPT_FLAG_ALLOW_OOM | SCRIPT_FLAG_NO_WRITES):
            net.add_reply_error(caller, "-OOM allow-oom flag is not set on the script, can "
                                        "not run it when used memory > 'maxmemory'")
            return False
    elif running_stale:
        net.add_reply_error_object(caller, shared.masterdownerr)
        return False

    run_ctx.c = engine_client
    run_ctx.original_client = caller
    run_ctx.funcname = funcname
    srv.script_caller = caller
    # The script's commands run in the caller's database; a SELECT inside the script moves
    # only the Lua client.
    engine_client.db = caller.db
    engine_client.resp = 2
    if caller.flags & net.CLIENT_MULTI:
        engine_client.flags |= net.CLIENT_MULTI
    run_ctx.start_time = time.monotonic()
    run_ctx.snapshot_time = srv.mstime
    run_ctx.flags = 0
    run_ctx.repl_flags = PROPAGATE_AOF | PROPAGATE_REPL
    run_ctx.pre_command_oom_state = oom
    compat = script_flags & SCRIPT_FLAG_EVAL_COMPAT_MODE
    if ro or (not compat and script_flags & SCRIPT_FLAG_NO_WRITES):
        run_ctx.flags |= SCRIPT_READ_ONLY
    if not compat and script_flags & SCRIPT_FLAG_ALLOW_OOM:
        run_ctx.flags |= SCRIPT_ALLOW_OOM
    if compat or script_flags & SCRIPT_FLAG_ALLOW_CROSS_SLOT:
        run_ctx.flags |= SCRIPT_ALLOW_CROSS_SLOT
    curr_run_ctx = run_ctx
    return True


def script_reset_run(run_ctx: ScriptRunCtx) -> None:
    """scriptResetRun: leave timed-out mode (re-arming the caller's connection), and keep
    the EVAL itself out of the AOF and the replicas: its effects were queued one by one."""
    global curr_run_ctx
    run_ctx.c.flags &= ~net.CLIENT_MULTI
    server.script_caller = None
    if script_is_timedout():
        exit_script_timedout_mode(run_ctx)
        unprotect_client(run_ctx.original_client)
    prevent_command_propagation(run_ctx.original_client)
    curr_run_ctx = None


def prevent_command_propagation(c: net.Client) -> None:
    """preventCommandPropagation: this call() propagates nothing of its own."""
    c.flags |= net.CLIENT_PREVENT_AOF_PROP | net.CLIENT_PREVENT_REPL_PROP


def enter_script_timedout_mode(run_ctx: ScriptRunCtx) -> None:
    run_ctx.flags |= SCRIPT_TIMEDOUT
    server.script_timedout = True


def exit_script_timedout_mode(run_ctx: ScriptRunCtx) -> None:
    run_ctx.flags &= ~SCRIPT_TIMEDOUT
    server.script_timedout = False


def protect_client(c: net.Client) -> None:
    """protectClient: stop reading from the caller while its script yields to the event
    loop, so a disconnect or a pipelined command cannot touch it mid-script."""
    c.flags |= CLIENT_PROTECTED
    if c.conn is not None:
        server.el.delete_file_event(c.fd, net.AE_READABLE)


def unprotect_client(c: net.Client) -> None:
    if not c.flags & CLIENT_PROTECTED:
        return
    c.flags &= ~CLIENT_PROTECTED
    if c.conn is not None:
        server.el.create_file_event(c.fd, net.AE_READABLE, net.read_query_from_client, c)


@probe("scriptKill")
def script_kill(c: net.Client, is_eval: bool) -> None:
    """scriptKill: SCRIPT KILL (or FUNCTION KILL) from another client, served while the
    script yields.  The script stops at its next hook; one that wrote cannot be killed."""
    rctx = curr_run_ctx
    if rctx is None:
        net.add_reply_error(c, "-NOTBUSY No scripts in execution right now.")
        return
    if must_obey_client(rctx.original_client):
        net.add_reply_error(c, "-UNKILLABLE The busy script was sent by a master instance in "
                               "the context of replication and cannot be killed.")
        return
    if rctx.flags & SCRIPT_WRITE_DIRTY:
        net.add_reply_error(c, "-UNKILLABLE Sorry the script already executed write commands "
                               "against the dataset. You can either wait the script "
                               "termination or kill the server in a hard way using the "
                               "SHUTDOWN NOSAVE command.")
        return
    if is_eval and not rctx.flags & SCRIPT_EVAL_MODE:
        net.add_reply_error_object(c, shared.slowscripterr)
        return
    if not is_eval and rctx.flags & SCRIPT_EVAL_MODE:
        net.add_reply_error_object(c, shared.slowevalerr)
        return
    rctx.flags |= SCRIPT_KILLED
    net.add_reply(c, shared.ok)


@probe("scriptInterrupt")
def script_interrupt(run_ctx: ScriptRunCtx) -> int:
    """scriptInterrupt: called from the Lua count hook.  Past busy-reply-threshold the
    script enters timed-out mode and, from then on, every hook serves other clients for a
    moment.  Returns SCRIPT_KILL once SCRIPT KILL (or SHUTDOWN NOSAVE) asked for it."""
    srv = server
    if run_ctx.flags & SCRIPT_TIMEDOUT:
        process_events_while_blocked()
    else:
        elapsed = int((time.monotonic() - run_ctx.start_time) * 1000)
        if elapsed < srv.busy_reply_threshold:
            return SCRIPT_CONTINUE
        srv.log_warning(
            "Slow script detected: still in execution after %d milliseconds. You can try "
            "killing the script using the %s command. Script name is: %s."
            % (elapsed, "SCRIPT KILL" if run_ctx.flags & SCRIPT_EVAL_MODE else "FUNCTION KILL",
               run_ctx.funcname))
        enter_script_timedout_mode(run_ctx)
        protect_client(run_ctx.original_client)
        process_events_while_blocked()
    if srv.el is not None and srv.el.stop:
        # Divergence: SHUTDOWN NOSAVE served meanwhile; Redis exit()s inside the command,
        # tracered unwinds the script so the event loop can end normally.
        run_ctx.flags |= SCRIPT_KILLED
    return SCRIPT_KILL if run_ctx.flags & SCRIPT_KILLED else SCRIPT_CONTINUE


@probe("processEventsWhileBlocked")
def process_events_while_blocked() -> None:
    """processEventsWhileBlocked (networking.c): a few non-blocking event loop iterations
    (reads, commands, reply writes) while a long script holds the server.

    processCommand answers -BUSY to everything but the allow_busy commands; clients blocked
    on keys are not served meanwhile (Redis skips handleClientsBlockedOnKeys while a command
    yields), and the cron does not run (file events only)."""
    from tracered.ae import (
        AE_CALL_AFTER_SLEEP,
        AE_CALL_BEFORE_SLEEP,
        AE_DONT_WAIT,
        AE_FILE_EVENTS,
    )

    srv = server
    el = srv.el
    if el is None:
        return
    saved = (srv.current_client, srv.executing_client, srv.handle_blocked)
    srv.handle_blocked = None
    try:
        for _ in range(4):
            if not el.process_events(AE_FILE_EVENTS | AE_DONT_WAIT | AE_CALL_BEFORE_SLEEP |
                                     AE_CALL_AFTER_SLEEP):
                break
    finally:
        srv.current_client, srv.executing_client, srv.handle_blocked = saved


def _script_verify_write_command_allow(run_ctx: ScriptRunCtx, cmd_flags: int) -> str | None:
    """scriptVerifyWriteCommandAllow."""
    srv = server
    if run_ctx.flags & SCRIPT_READ_ONLY and cmd_flags & (CMD_WRITE | CMD_MAY_REPLICATE):
        return "Write commands are not allowed from read-only scripts."
    if not cmd_flags & CMD_WRITE or run_ctx.flags & SCRIPT_WRITE_DIRTY:
        return None
    if srv.masterhost and srv.replica_read_only and \
            not must_obey_client(run_ctx.original_client):
        return shared.roslaveerr.decode()
    disk = _write_commands_denied_by_disk_error()
    if disk is not None:
        return _write_commands_get_disk_error_message(disk)
    if srv.masterhost is None and srv.min_replicas_to_write and srv.min_replicas_max_lag and \
            srv.repl_good_slaves_count < srv.min_replicas_to_write:
        return shared.noreplicaserr.decode()
    return None


def _script_verify_oom(run_ctx: ScriptRunCtx, cmd_flags: int) -> str | None:
    """scriptVerifyOOM: only the first write of a script can still be refused for memory."""
    if run_ctx.flags & SCRIPT_ALLOW_OOM:
        return None
    if server.maxmemory and not must_obey_client(run_ctx.original_client) and \
            not run_ctx.flags & SCRIPT_WRITE_DIRTY and run_ctx.pre_command_oom_state and \
            cmd_flags & CMD_DENYOOM:
        return shared.oomerr.decode()
    return None


def _script_verify_allow_stale(cmd_flags: int) -> str | None:
    srv = server
    if not srv.masterhost or srv.repl_state == _REPL_STATE_CONNECTED or \
            srv.replica_serve_stale_data or cmd_flags & CMD_STALE:
        return None
    return "Can not execute the command on a stale replica"


def _script_verify_acl(c) -> str | None:
    """scriptVerifyACL (only asked while some user is restricted)."""
    from tracered import acl

    return acl.script_verify_acl(c)


@probe("scriptCall")
def script_call(run_ctx: ScriptRunCtx) -> str | None:
    """scriptCall: run the command in ``run_ctx.c.argv`` for the script, after the checks a
    command from a script must pass.  Returns an error text (the command did not run), or
    None with the command's reply in the Lua client's reply list."""
    c = run_ctx.c
    c.user = run_ctx.original_client.user
    command = server_module.lookup_command(c.argv)
    c.cmd = c.lastcmd = command
    argc = len(c.argv)
    if command is None:
        return "Unknown Redis command called from script"
    arity = command.arity
    if (arity > 0 and arity != argc) or argc < -arity:
        command.rejected_calls += 1
        return "Wrong number of args calling Redis command from script"
    flags = command.flags
    if flags & CMD_NOSCRIPT and not getattr(server, "script_disable_deny_script", False):
        command.rejected_calls += 1
        return "This Redis command is not allowed from script"
    err = _script_verify_allow_stale(flags) or \
        (_script_verify_acl(c) if server.acl_check_all_perm is not None else None) or \
        _script_verify_write_command_allow(run_ctx, flags) or \
        _script_verify_oom(run_ctx, flags)
    if err is not None:
        command.rejected_calls += 1
        return err
    if flags & CMD_WRITE:
        run_ctx.flags |= SCRIPT_WRITE_DIRTY
    call_flags = server_module.CMD_CALL_SLOWLOG | server_module.CMD_CALL_STATS
    if run_ctx.repl_flags & PROPAGATE_AOF:
        call_flags |= server_module.CMD_CALL_PROPAGATE_AOF
    if run_ctx.repl_flags & PROPAGATE_REPL:
        call_flags |= server_module.CMD_CALL_PROPAGATE_REPL
    server_module.call(c, call_flags)
    return None


# --------------------------------------------------------------------------------------------
# script_lua.c: the Lua bootstrap (redis.* API, protection, error handler)
# --------------------------------------------------------------------------------------------

# Run once per Lua state with the Python side's functions in ``py``.  Its chunk name
# "=tracered" marks its functions: the error handler skips them when it looks for the
# script line to blame, as Redis's skips its C functions.
_BOOTSTRAP = r"""
local py = ...
local G = _G
local type, error, tostring, tonumber, select = type, error, tostring, tonumber, select
local rawget, rawset, next, lua_pairs = rawget, rawset, next, pairs
local setmetatable, getmetatable, lua_pcall = setmetatable, getmetatable, pcall
local dbg = debug
local RO_ERR = "Attempt to modify a readonly table"

-- redis.* (script_lua.c luaRegisterRedisAPI, eval.c scriptingInit) ----------------------
-- Python functions, called as C functions are: a failing redis.call raises a Python
-- LuaRaise that lupa carries through Lua as userdata; unwrap() gives back its value.
local unwrap = py.unwrap
local redis = {}
for _, name in lua_pairs({'call', 'pcall', 'log', 'setresp', 'set_repl', 'sha1hex',
                          'acl_check_cmd', 'error_reply', 'status_reply'}) do
  redis[name] = py[name]
end
redis.breakpoint = function() return false end
redis.debug = function() end
redis.replicate_commands = function() return true end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL =
  0, 1, 2, 2, 3
redis.REDIS_VERSION = py.version
redis.REDIS_VERSION_NUM = py.version_num

-- math.random on redisLrand48: the same sequence on every platform
math.random = py.random
math.randomseed = py.randomseed

-- read-only tables (Redis patches its Lua; here: proxies) -------------------------------
local backing = setmetatable({}, {__mode = 'k'})   -- proxy -> the table it stands for
local function ro_newindex() error(RO_ERR, 2) end
local function protect(t)
  local proxy = setmetatable({}, {__index = t, __newindex = ro_newindex})
  backing[proxy] = t
  return proxy
end

local B = {}   -- what the globals really hold
for _, name in lua_pairs(py.allowed) do B[name] = rawget(G, name) end
local libs = py.libs
for name, lib in lua_pairs(libs) do B[name] = lib end
for _, name in lua_pairs({'string', 'math', 'table', 'coroutine', 'cjson', 'bit', 'struct',
                          'cmsgpack'}) do
  if B[name] ~= nil then B[name] = protect(B[name]) end
end
B.redis = protect(redis)
B._G = G

B.pcall = function(...)   -- luaRedisPcall: a Redis error table is reported as its text
  return (function(ok, ...)
    if ok then return true, ... end
    local e = ...
    if type(e) == 'userdata' then e = unwrap(e) end
    if type(e) == 'table' then
      local m = e.err
      if type(m) == 'string' or type(m) == 'number' then e = m end
    end
    return false, e
  end)(lua_pcall(...))
end
B.rawset = function(t, k, v)
  if backing[t] then error(RO_ERR, 0) end
  return rawset(t, k, v)
end
B.rawget = function(t, k) return rawget(backing[t] or t, k) end
B.next = function(t, k) return next(backing[t] or t, k) end
B.pairs = function(t)
  local b = backing[t]
  if b then return next, b, nil end
  return lua_pairs(t)
end
B.setmetatable = function(t, mt)
  if backing[t] then error(RO_ERR, 0) end
  return setmetatable(t, mt)
end
local string_mt = setmetatable({}, {__index = {__index = B.string}, __newindex = ro_newindex})
B.getmetatable = function(t)
  if type(t) == 'string' then return string_mt end
  local b = backing[t]
  if b and t ~= G then return getmetatable(b) end
  return getmetatable(t)
end

-- the error handler (eval.c __redis__err__handler) ---------------------------------------
local interrupt = py.interrupt
local err_handler
local function hook()
  if interrupt() then
    -- Never raise inside tracered's own Lua (the error handler, the globals' __index that
    -- lupa runs outside any protected call): only the script is stopped.
    local i = dbg.getinfo(2, 'S')
    if i and i.source == '=tracered' then return end
    dbg.sethook(hook, 'l')   -- from now on every line: pcall cannot keep the script alive
    error({err = 'ERR Script killed by user with SCRIPT KILL...'})
  end
end
err_handler = function(err)
  if type(err) == 'userdata' then err = unwrap(err) end
  local level, skipped_c = 2, false
  local i = dbg.getinfo(level, 'nSl')
  while i do
    if i.source == '=tracered' then
      level = level + 1
    elseif i.what == 'C' and not skipped_c then
      skipped_c, level = true, level + 1
    else
      break
    end
    i = dbg.getinfo(level, 'nSl')
  end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
B.__redis__err__handler = err_handler

-- lock the globals: G becomes an empty proxy of B ---------------------------------------
local names = {}
for k in lua_pairs(G) do names[#names + 1] = k end
for _, k in lua_pairs(names) do rawset(G, k, nil) end
local getinfo = dbg.getinfo
setmetatable(G, {
  __index = function(_, k)
    local v = rawget(B, k)
    if v == nil then
      if k == 'debug' then
        -- lupa reads the global debug.traceback on each call from Python into Lua: C
        -- code (no Lua caller) still sees the debug library, scripts do not.
        local i = getinfo(2, 'S')
        if i == nil or i.what == 'C' then return dbg end
      end
      error("Script attempted to access nonexistent global variable '" .. tostring(k) ..
            "'", 2)
    end
    return v
  end,
  __newindex = ro_newindex,
})
backing[G] = B

-- what tracered's Python side keeps
local function classify(t)   -- luaReplyToRedisReply's order of tests
  local v = rawget(t, 'err')
  if type(v) == 'string' then return 'err' end
  v = rawget(t, 'ok')
  if type(v) == 'string' then return 'ok', v end
  v = rawget(t, 'double')
  if type(v) == 'number' then return 'double', v end
  v = rawget(t, 'big_number')
  if type(v) == 'string' then return 'big_number', v end
  v = rawget(t, 'verbatim_string')
  if type(v) == 'table' then
    local f, s = rawget(v, 'format'), rawget(v, 'string')
    if type(f) == 'string' and type(s) == 'string' then return 'verbatim_string', f, s end
  end
  v = rawget(t, 'map')
  if type(v) == 'table' then return 'map', v end
  v = rawget(t, 'set')
  if type(v) == 'table' then return 'set', v end
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  return 'array', n
end
return {B = B, handler = err_handler, hook = hook, sethook = dbg.sethook,
        xpcall = xpcall, loadstring = loadstring, classify = classify,
        collectgarbage = collectgarbage, getinfo = getinfo}
"""

# Global names a script sees (besides the libraries, redis, KEYS and ARGV): the reference
# server's list.
_ALLOWED_GLOBALS = (
    "_VERSION", "assert", "collectgarbage", "coroutine", "error", "gcinfo", "getmetatable",
    "ipairs", "load", "loadstring", "math", "next", "pairs", "pcall", "rawequal", "rawget",
    "rawset", "select", "setmetatable", "string", "table", "tonumber", "tostring", "type",
    "unpack", "xpcall",
)


class LuaCtx:
    """luaCtx (eval.c lctx): the one Lua state, the fake client scripts run commands on,
    the SHA1 -> script cache and its memory."""

    __slots__ = ("lua", "lua_client", "lua_scripts", "lua_scripts_mem", "env", "handler",
                 "hook", "sethook", "xpcall", "loadstring", "classify", "collectgarbage",
                 "table_from", "table", "getinfo")

    def __init__(self) -> None:
        self.lua = None
        self.lua_client: net.Client | None = None
        self.lua_scripts: dict[str, LuaScript] = {}
        self.lua_scripts_mem = 0


class LuaScript:
    """luaScript: a cached script's body, shebang flags and compiled function."""

    __slots__ = ("body", "flags", "fn")

    def __init__(self, body: bytes, flags: int, fn) -> None:
        self.body = body
        self.flags = flags
        self.fn = fn


lctx = LuaCtx()


def sha1hex(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


# -- redisLrand48 (rand.c): the classic 48-bit lrand48 LCG ---------------------------------

_rand48_x = 0x1234ABCD330E


def redis_lrand48() -> int:
    global _rand48_x
    _rand48_x = (0x5DEECE66D * _rand48_x + 0xB) & 0xFFFFFFFFFFFF
    return _rand48_x >> 17


def redis_srand48(seed: int) -> None:
    global _rand48_x
    _rand48_x = (((seed & 0xFFFFFFFF) << 16) | 0x330E) & 0xFFFFFFFFFFFF


# -- Redis reply -> Lua value (redisProtocolToLuaType) -------------------------------------

def lua_push_error_buff(err: bytes | str):
    """luaPushErrorBuff: the ``{err='CODE msg'}`` table redis.pcall returns and redis.call
    raises.  ``-CODE msg`` keeps its code, a bare message gets ERR; newlines are trimmed."""
    if isinstance(err, str):
        err = err.encode("utf-8", "surrogateescape")
    if err[:1] == b"-":
        sp = err.find(b" ")
        if sp < 0:
            code, msg = b"ERR", err[1:]
        else:
            code, msg = err[1:sp], err[sp + 1:]
    else:
        code, msg = b"ERR", err
    msg = msg.strip(b"\r\n")
    return lctx.table_from({b"err": code + b" " + msg})


def redis_protocol_to_lua_type(reply: bytes):
    """redisProtocolToLuaType: a command's RESP2/RESP3 reply as Lua values (integer ->
    number, bulk -> string, null bulk / null array -> false, array -> table, status ->
    {ok=}, error -> {err=}; RESP3 map -> {map={}}, set -> {set={}}, null -> nil, double ->
    {double=}, big number -> {big_number=}, verbatim -> {verbatim_string={}})."""
    return _parse_reply(reply, 0)[0]


def _parse_reply(buf: bytes, pos: int):
    t = buf[pos]
    end = buf.index(b"\r\n", pos)
    line = buf[pos + 1:end]
    pos = end + 2
    if t == 36:  # $
        n = int(line)
        if n < 0:
            return False, pos
        return buf[pos:pos + n], pos + n + 2
    if t == 58:  # :
        return int(line), pos
    if t == 43:  # +
        return lctx.table_from({b"ok": line}), pos
    if t == 42 or t == 62:  # * (and > push, read as an array)
        n = int(line)
        if n < 0:
            return False, pos
        items = []
        for _ in range(n):
            v, pos = _parse_reply(buf, pos)
            items.append(v)
        return lctx.table_from(items), pos
    if t == 45:  # -
        tbl = lua_push_error_buff(b"-" + line)
        # Already counted in the error stats when the command replied.
        tbl[b"ignore_error_stats_update"] = True
        return tbl, pos
    if t == 37 or t == 126:  # % map, ~ set
        n = int(line)
        inner = lctx.table()
        for _ in range(n):
            k, pos = _parse_reply(buf, pos)
            if t == 37:
                v, pos = _parse_reply(buf, pos)
            else:
                v = True
            if k is not None:
                inner[k] = v
        return lctx.table_from({b"map" if t == 37 else b"set": inner}), pos
    if t == 95:  # _
        return None, pos
    if t == 35:  # #
        return line == b"t", pos
    if t == 44:  # ,
        return lctx.table_from({b"double": float(line)}), pos
    if t == 40:  # (
        return lctx.table_from({b"big_number": line}), pos
    if t == 61:  # =
        n = int(line)
        data = buf[pos:pos + n]
        inner = lctx.table_from({b"string": data[4:], b"format": data[:3]})
        return lctx.table_from({b"verbatim_string": inner}), pos + n + 2
    if t == 124:  # | attribute: not shown to scripts, the value follows it
        for _ in range(int(line) * 2):
            _, pos = _parse_reply(buf, pos)
        return _parse_reply(buf, pos)
    raise ValueError("unexpected reply type %r" % chr(t))


# -- Lua value -> Redis reply (luaReplyToRedisReply) ----------------------------------------

def _lua_number_to_ll(v: int | float) -> int:
    """(long long)lua_Number: truncation; NaN, infinities and out of range give LLONG_MIN
    (what the x86-64 conversion yields, and so what Redis replies)."""
    if type(v) is int:
        return v if LLONG_MIN <= v < (1 << 63) else LLONG_MIN
    if v != v or not -9.2233720368547758e18 <= v < 9.2233720368547758e18:
        return LLONG_MIN
    return int(v)


def _cstr(s: bytes) -> bytes:
    """sdsnew(lua_tostring(...)): a C string ends at its first NUL."""
    z = s.find(b"\0")
    return s if z < 0 else s[:z]


def lua_reply_to_redis_reply(c: net.Client, script_client: net.Client, v) -> None:
    """luaReplyToRedisReply: the script's return value as the reply to ``c``.  A table is an
    error ({err=}), a status ({ok=}), a RESP3 double/big number/verbatim/map/set, or else an
    array that ends at its first nil; true is 1 (RESP3: true), false a null (RESP3:
    false), a number is truncated to an integer, anything else is a null."""
    tv = type(v)
    if tv is bytes:
        net.add_reply_bulk(c, v)
    elif tv is bool:
        if script_client.resp == 2:
            net.add_reply(c, shared.cone if v else shared.null[c.resp])
        else:
            net.add_reply_bool(c, v)
    elif tv is int or tv is float:
        net.add_reply_long_long(c, _lua_number_to_ll(v))
    elif _lupa is not None and _lupa.lua_type(v) == "table":
        _table_reply(c, script_client, v)
    else:
        net.add_reply_null(c)


def _table_reply(c: net.Client, script_client: net.Client, t) -> None:
    r = lctx.classify(t)
    kind = r[0] if type(r) is tuple else r
    if kind == b"array":
        n = r[1]
        net.add_reply_array_len(c, n)
        for i in range(1, n + 1):
            lua_reply_to_redis_reply(c, script_client, t[i])
    elif kind == b"err":
        msg, ignore = lua_extract_error_information(t)[0::3]
        text = b"-" + _cstr(msg or b"")
        _add_reply_error_ex(c, text, ignore)
    elif kind == b"ok":
        net.add_reply(c, b"+" + _cstr(r[1]).replace(b"\r", b" ").replace(b"\n", b" ") +
                      b"\r\n")
    elif kind == b"double":
        net.add_reply_double(c, float(r[1]))
    elif kind == b"big_number":
        num = r[1].replace(b"\r", b" ").replace(b"\n", b" ")
        if c.resp == 2:
            net.add_reply_bulk(c, num)
        else:
            net.add_reply(c, b"(" + num + b"\r\n")
    elif kind == b"verbatim_string":
        net.add_reply_verbatim(c, r[2], (r[1] + b"   ")[:3])
    elif kind == b"map":
        items = list(r[1].items())
        net.add_reply_map_len(c, len(items))
        for k, v in items:
            lua_reply_to_redis_reply(c, script_client, k)
            lua_reply_to_redis_reply(c, script_client, v)
    else:  # set
        keys = list(r[1].keys())
        net.add_reply_set_len(c, len(keys))
        for k in keys:
            lua_reply_to_redis_reply(c, script_client, k)


def _add_reply_error_ex(c: net.Client, text: bytes, no_stats: bool) -> None:
    """addReplyErrorFormatEx with ERR_REPLY_FLAG_NO_STATS_UPDATE: an error already counted
    when the command inside the script failed is not counted twice."""
    if b"\r" in text or b"\n" in text:
        text = text.replace(b"\r", b" ").replace(b"\n", b" ")
    if no_stats:
        net.add_reply(c, text + b"\r\n")
    else:
        net.add_reply_error(c, text.decode("utf-8", "surrogateescape"))


def lua_extract_error_information(t) -> tuple:
    """luaExtractErrorInformation: (msg, source, line, ignore_err_stats_update)."""
    msg = t[b"err"]
    source = t[b"source"]
    line = t[b"line"]
    ignore = t[b"ignore_error_stats_update"]
    if type(msg) in (int, float):
        msg = lua_number_tostring(msg)
    if type(source) in (int, float):
        source = lua_number_tostring(source)
    if type(line) in (int, float):
        line = lua_number_tostring(line)
    return (msg if type(msg) is bytes else None, source if type(source) is bytes else None,
            line if type(line) is bytes else None, ignore is True)


def lua_number_tostring(n: int | float) -> bytes:
    """lua_tostring of a number: Lua 5.1's "%.14g"."""
    if type(n) is int and abs(n) < 10 ** 14:
        return b"%d" % n
    return b"%.14g" % n


# -- redis.call / redis.pcall (luaRedisGenericCommand) --------------------------------------

def lua_args_to_redis_argv(args: tuple) -> tuple[list[bytes] | None, str | None]:
    """luaArgsToRedisArgv: strings as they are, numbers as "%.17g" (Lua's own conversion
    would lose precision); anything else refuses the call."""
    if not args:
        return None, "Please specify at least one argument for this redis lib call"
    argv = []
    for a in args:
        ta = type(a)
        if ta is bytes:
            argv.append(a)
        elif ta is int or ta is float:
            argv.append(b"%.17g" % a)
        else:
            return None, "Lua redis lib command arguments must be strings or integers"
    return argv, None


_inuse = 0


@probe("luaRedisGenericCommand")
def lua_redis_generic_command(raise_error: bool, args: tuple) -> tuple:
    """luaRedisGenericCommand: redis.call (raise_error) and redis.pcall.  Returns
    (raise, value) to the Lua wrapper, which raises ``value`` when ``raise`` is true."""
    global _inuse
    rctx = curr_run_ctx
    if rctx is None:
        return True, lua_push_error_buff(
            "redis.call/pcall can only be called inside a script invocation")
    argv, err = lua_args_to_redis_argv(args)
    if argv is None:
        return raise_error, lua_push_error_buff(err)
    if _inuse:
        msg = ("luaRedisGenericCommand() recursive call detected. Are you doing funny stuff "
               "with Lua debug hooks?")
        server.log_warning(msg)
        return False, lua_push_error_buff(msg)
    _inuse += 1
    c = rctx.c
    try:
        c.argv = argv
        err = script_call(rctx)
        if err is not None:
            _after_error_reply(err)
            tbl = lua_push_error_buff(err)
            tbl[b"ignore_error_stats_update"] = True
            return raise_error, tbl
        reply = c.reply[0] if len(c.reply) == 1 else b"".join(c.reply)
        c.reply = []
        c.reply_bytes = 0
        if raise_error and reply[:1] != b"-":
            raise_error = False
        return raise_error, redis_protocol_to_lua_type(bytes(reply))
    finally:
        c.reply = []
        c.reply_bytes = 0
        c.argv = []
        c.original_argv = None
        _inuse -= 1


def _after_error_reply(err: str) -> None:
    """afterErrorReply for a command refused by script_call: it never replied, but the
    refusal counts in the error stats (INFO errorstats, total_error_replies)."""
    srv = server
    srv.stat_total_error_replies += 1
    code = "ERR"
    if err[:1] == "-":
        sp = err.find(" ", 0, 32)
        if sp > 0:
            code = err[1:sp]
    srv.errors[code] = srv.errors.get(code, 0) + 1


class LuaRaise(Exception):
    """A Lua error raised by a Python function called from Lua (lua_error in a C function).
    lupa carries the exception object through Lua as userdata; the error handler and
    pcall unwrap it back into ``value`` (an error table or a message)."""

    def __init__(self, value) -> None:
        super().__init__()
        self.value = value


def _lua_unwrap(e):
    """The error value behind a Python exception that crossed Lua.  Any exception other
    than LuaRaise is a tracered bug: logged, and reported to the script as an error."""
    if isinstance(e, LuaRaise):
        return e.value
    if isinstance(e, BaseException):
        server.log_warning("=== tracered BUG REPORT: Python error inside a Lua call: %r"
                           % (e,))
        return ("internal error in tracered: %s: %s" % (type(e).__name__, e)).encode()
    return e


def _lua_call(*args):
    """redis.call: raise the command's error (the entry point Lua holds looks the probed
    function up on each call, so an armed luaRedisGenericCommand probe sees it)."""
    raise_error, v = lua_redis_generic_command(True, args)
    if raise_error:
        raise LuaRaise(v)
    return v


def _lua_pcall(*args):
    """redis.pcall: the command's error is returned as an {err=} table."""
    return lua_redis_generic_command(False, args)[1]


# -- the other redis.* functions ----------------------------------------------------------

def _raise(msg: str):
    """luaPushError + luaError: raise {err='ERR msg'} into the script."""
    raise LuaRaise(lua_push_error_buff(msg))


def _lua_log(*args) -> None:
    """redis.log(level, ...): serverLog at that level, arguments joined by spaces."""
    if len(args) < 2:
        _raise("redis.log() requires two arguments or more.")
    level = lua_tonumber(args[0])
    if level is None:
        _raise("First argument must be a number (log level).")
    level = int(level)
    if level < LL_DEBUG or level > LL_WARNING:
        _raise("Invalid debug level.")
    if level < server.verbosity:
        return
    parts = []
    for a in args[1:]:
        if type(a) is bytes:
            parts.append(a)
        elif type(a) in (int, float):
            parts.append(lua_number_tostring(a))
    server.log(level, b" ".join(parts).decode("utf-8", "replace"))


def lua_tonumber(v) -> float | None:
    """lua_isnumber/lua_tonumber: numbers and numeric strings."""
    if type(v) in (int, float):
        return v
    if type(v) is bytes:
        try:
            s = v.strip()
            if s.lower().startswith((b"0x", b"-0x")):
                return float(int(s, 16))
            f = float(s)
            return None if s.lower().lstrip(b"+-") in (b"inf", b"nan", b"infinity") else f
        except ValueError:
            return None
    return None


def _lua_setresp(*args) -> None:
    """redis.setresp(2|3): the protocol the script's commands reply in."""
    rctx = curr_run_ctx
    if rctx is None:
        _raise("redis.setresp can only be called inside a script invocation")
    if len(args) != 1:
        _raise("redis.setresp() requires one argument.")
    resp = lua_tonumber(args[0])
    resp = int(resp) if resp is not None else 0
    if resp not in (2, 3):
        _raise("RESP version must be 2 or 3.")
    rctx.c.resp = resp


def _lua_set_repl(*args) -> None:
    """redis.set_repl(flags): where the script's writes are propagated (scriptSetRepl)."""
    rctx = curr_run_ctx
    if rctx is None:
        _raise("redis.set_repl can only be called inside a script invocation")
    if len(args) != 1:
        _raise("redis.set_repl() requires two arguments.")
    flags = lua_tonumber(args[-1])
    flags = int(flags) if flags is not None else 0
    if flags & ~(PROPAGATE_AOF | PROPAGATE_REPL):
        _raise("Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or "
               "REPL_NONE.")
    rctx.repl_flags = flags


def _lua_sha1hex(*args) -> bytes:
    if len(args) != 1:
        _raise("wrong number of arguments")
    s = args[0]
    if type(s) in (int, float):
        s = lua_number_tostring(s)
    elif type(s) is not bytes:
        s = b""
    return sha1hex(s).encode()


def _lua_acl_check_cmd(*args) -> bool:
    """redis.acl_check_cmd(...): can the caller run this command?  Divergence: tracered has
    no ACLs, so any existing command is allowed."""
    if curr_run_ctx is None:
        _raise("redis.acl_check_cmd can only be called inside a script invocation")
    argv, err = lua_args_to_redis_argv(args)
    if argv is None:
        _raise(err)
    if server_module.lookup_command(argv) is None:
        _raise("Invalid command passed to redis.acl_check_cmd()")
    return True


def _lua_error_reply(*args):
    """redis.error_reply(msg): ``{err=msg}`` (a leading '-' is added when missing)."""
    if len(args) != 1 or type(args[0]) is not bytes:
        return lua_push_error_buff("wrong number or type of arguments")
    e = args[0]
    return lua_push_error_buff(e if e[:1] == b"-" else b"-" + e)


def _lua_status_reply(*args):
    if len(args) != 1 or type(args[0]) is not bytes:
        return lua_push_error_buff("wrong number or type of arguments")
    return lctx.table_from({b"ok": args[0]})


def _lua_interrupt() -> bool:
    """luaMaskCountHook's question: stop the script now?"""
    rctx = curr_run_ctx
    if rctx is None:
        return False
    try:
        kill = script_interrupt(rctx) == SCRIPT_KILL
    except Exception:  # noqa: BLE001 - an exception here could not be caught by Lua
        import traceback

        server.log_warning("=== tracered BUG REPORT: script_interrupt raised ===\n%s"
                           % traceback.format_exc())
        return False
    if kill and not rctx.flags & _SCRIPT_KILL_LOGGED:
        rctx.flags |= _SCRIPT_KILL_LOGGED
        server.log_warning("Lua script killed by user with SCRIPT KILL.")
    return kill


# -- math.random / math.randomseed (redis_math_random) ------------------------------------

def lua_where() -> bytes:
    """luaL_where(L, 1) seen from a Python function: "chunk:line: " of its Lua caller."""
    i = lctx.getinfo(2, b"Sl")
    if i is not None and i[b"currentline"] > 0:
        return b"%s:%d: " % (i[b"short_src"], i[b"currentline"])
    return b""


def lua_arg_error(narg: int, extramsg: str) -> LuaRaise:
    """luaL_argerror: "bad argument #n to 'fname' (msg)", at the caller's line."""
    i = lctx.getinfo(1, b"n")
    name = (i[b"name"] if i is not None else None) or b"?"
    return LuaRaise(lua_where() + b"bad argument #%d to '%s' (%s)"
                    % (narg, name, extramsg.encode()))


def _lua_checkint(args: tuple, narg: int) -> int:
    """luaL_checkint: a number (or numeric string), truncated."""
    v = lua_tonumber(args[narg - 1]) if len(args) >= narg else None
    if v is None:
        got = "no value" if len(args) < narg else lua_typename(args[narg - 1])
        raise lua_arg_error(narg, "number expected, got %s" % got)
    return int(v)


def lua_typename(v) -> str:
    if v is None:
        return "nil"
    if type(v) is bool:
        return "boolean"
    if type(v) is bytes:
        return "string"
    if type(v) in (int, float):
        return "number"
    t = _lupa.lua_type(v) if _lupa is not None else None
    return t or "userdata"


def _lua_math_random(*args):
    """math.random on redisLrand48 (identical sequences on every platform)."""
    r = (redis_lrand48() % REDIS_LRAND48_MAX) / REDIS_LRAND48_MAX
    n = len(args)
    if n == 0:
        return r
    if n == 1:
        u = _lua_checkint(args, 1)
        if u < 1:
            raise lua_arg_error(1, "interval is empty")
        return math.floor(r * u) + 1
    if n == 2:
        lo = _lua_checkint(args, 1)
        hi = _lua_checkint(args, 2)
        if lo > hi:
            raise lua_arg_error(2, "interval is empty")
        return math.floor(r * (hi - lo + 1)) + lo
    raise LuaRaise(lua_where() + b"wrong number of arguments")


def _lua_math_randomseed(*args) -> None:
    redis_srand48(_lua_checkint(args, 1))


# --------------------------------------------------------------------------------------------
# eval.c: the Lua state, the scripts cache, EVAL
# --------------------------------------------------------------------------------------------

def lua_state_init(lctx: LuaCtx):
    """A new Lua state in ``lctx``: Lua 5.1 with Redis's libraries, the redis.* API and the
    globals protection (the bootstrap below), and the bootstrap's functions kept in
    ``lctx``.  Shared by EVAL's state and each function engine's (function_lua.py).
    Returns ``debug.setfenv`` as it was before the bootstrap hid the debug library."""
    lua = _lupa.LuaRuntime(encoding=None, unpack_returned_tuples=True, register_eval=False,
                           register_builtins=False)
    lctx.lua = lua
    lctx.table_from = lua.table_from
    lctx.table = lua.table
    from tracered import script_lua_libs

    libs = script_lua_libs.load_libraries(lua)
    py = lua.table_from({
        b"call": _lua_call, b"pcall": _lua_pcall, b"unwrap": _lua_unwrap, b"log": _lua_log,
        b"setresp": _lua_setresp, b"set_repl": _lua_set_repl, b"sha1hex": _lua_sha1hex,
        b"acl_check_cmd": _lua_acl_check_cmd, b"error_reply": _lua_error_reply,
        b"status_reply": _lua_status_reply, b"interrupt": _lua_interrupt,
        b"random": _lua_math_random, b"randomseed": _lua_math_randomseed,
        b"version": REDIS_VERSION.encode(), b"version_num": _redis_version_num(),
        b"allowed": lua.table_from([n.encode() for n in _ALLOWED_GLOBALS]),
        b"libs": lua.table_from({k.encode(): v for k, v in libs.items()}),
    })
    # debug.setfenv, taken before the bootstrap hides the debug library.
    setfenv = lua.globals()[b"debug"][b"setfenv"]
    # Compiled under the name "=tracered" so the error handler can tell its frames apart.
    boot = lua.globals()[b"loadstring"](_BOOTSTRAP.encode(), b"=tracered")
    out = boot(py)
    lctx.env = out[b"B"]
    lctx.handler = out[b"handler"]
    lctx.hook = out[b"hook"]
    lctx.sethook = out[b"sethook"]
    lctx.xpcall = out[b"xpcall"]
    lctx.loadstring = out[b"loadstring"]
    lctx.classify = out[b"classify"]
    lctx.collectgarbage = out[b"collectgarbage"]
    lctx.getinfo = out[b"getinfo"]
    return setfenv


@probe("scriptingInit")
def scripting_init(setup: bool) -> None:
    """scriptingInit: a fresh Lua state with the libraries, the redis API and the globals
    locked; on first use also the fake client the scripts' commands run on."""
    lctx.lua_scripts = {}
    lctx.lua_scripts_mem = 0
    if setup:
        lctx.lua_client = None
        server.script_caller = None
        server.script_timedout = False
    if _lupa is None:
        lctx.lua = None
        _update_memory_stats()
        return
    lua_state_init(lctx)
    if lctx.lua_client is None:
        c = net.create_client(None)
        c.flags |= net.CLIENT_SCRIPT | CLIENT_DENY_BLOCKING
        lctx.lua_client = c
    _update_memory_stats()


def scripting_reset(is_async: bool) -> None:
    """scriptingReset (SCRIPT FLUSH): drop every script and start a new Lua state.
    Divergence: ASYNC and SYNC both just drop the references; Python frees them."""
    scripting_init(False)


def eval_extract_shebang_flags(body: bytes) -> tuple[int, int, str | None]:
    """evalExtractShebangFlags: (script flags, shebang length, error).  No shebang means
    compatibility mode (EVAL as before 7.0)."""
    if not body.startswith(b"#!"):
        return SCRIPT_FLAG_EVAL_COMPAT_MODE, 0, None
    nl = body.find(b"\n")
    if nl < 0:
        return 0, 0, "Invalid script shebang"
    from tracered.resp import split_args

    parts = split_args(body[:nl])
    if not parts:
        return 0, 0, "Invalid engine in script shebang"
    if parts[0] != b"#!lua":
        return 0, 0, "Unexpected engine in script shebang: %s" % parts[0].decode(
            "utf-8", "surrogateescape")
    flags = 0
    for p in parts[1:]:
        if not p.startswith(b"flags="):
            return 0, 0, "Unknown lua shebang option: %s" % p.decode("utf-8", "surrogateescape")
        for f in p[6:].split(b",") if p[6:] else []:
            bit = SCRIPTS_FLAGS_DEF.get(f)
            if bit is None:
                return 0, 0, "Unexpected flag in script shebang: %s" % f.decode(
                    "utf-8", "surrogateescape")
            flags |= bit
    return flags, nl, None


@probe("luaCreateFunction")
def lua_create_function(c: net.Client | None, body: bytes) -> str | None:
    """luaCreateFunction: compile ``body`` as the function f_<sha1> and cache it.  Returns
    the SHA1, or None after replying the error to ``c``."""
    sha = sha1hex(body)
    if sha in lctx.lua_scripts:
        return sha
    flags, shebang_len, err = eval_extract_shebang_flags(body)
    if err is not None:
        if c is not None:
            net.add_reply_error(c, err)
        return None
    # The shebang line is cut but its newline kept, so line numbers stay the user's.
    r = lctx.loadstring(body[shebang_len:], b"@user_script")
    fn, msg = (r[0], r[1]) if type(r) is tuple else (r, None)
    if fn is None:
        if c is not None:
            net.add_reply_error(c, "Error compiling script (new function): %s"
                                % (msg or b"").decode("utf-8", "surrogateescape"))
        return None
    lctx.lua_scripts[sha] = LuaScript(body, flags, fn)
    # sdsZmallocSize(sha) + getStringObjectSdsUsedMemory(body), allocator-rounded.
    lctx.lua_scripts_mem += 48 + ((len(body) + 3 + 15) & ~15)
    _update_memory_stats()
    return sha


@probe("luaCallFunction")
def lua_call_function(run_ctx: ScriptRunCtx, fn, keys: list[bytes],
                      args: list[bytes]) -> None:
    """luaCallFunction: KEYS and ARGV, the busy-script hook, the protected call, and the
    result (or the error) as the caller's reply."""
    c = run_ctx.original_client
    errors_before = server.stat_total_error_replies
    env = lctx.env
    table_from = lctx.table_from
    env[b"KEYS"] = table_from(keys)
    env[b"ARGV"] = table_from(args)
    delhook = server.busy_reply_threshold > 0
    if delhook:
        lctx.sethook(lctx.hook, b"", LUA_HOOK_COUNT)
    try:
        r = lctx.xpcall(fn, lctx.handler)
    finally:
        if delhook:
            lctx.sethook()
    if type(r) is tuple:
        ok, value = r[0], r[1]
    else:
        ok, value = r, None
    if ok:
        lua_reply_to_redis_reply(c, run_ctx.c, value)
        return
    if _lupa.lua_type(value) != "table":
        msg = value if type(value) is bytes else b"execution failure"
        net.add_reply_error(c, "Error running script %s, %.100s\n"
                            % (run_ctx.funcname, msg.decode("utf-8", "replace")))
        return
    msg, source, line, ignore = lua_extract_error_information(value)
    text = b"-" + _cstr(msg if msg is not None else b"(null)")
    if line is not None and source is not None:
        text += b" script: %s, on %s:%s." % (run_ctx.funcname.encode(), source, line)
    _add_reply_error_ex(c, text, ignore)
    if ignore and server.stat_total_error_replies == errors_before and c.cmd is not None:
        # The error was counted where it happened, but not against EVAL: Redis still
        # counts the EVAL as failed (afterErrorReply with ERR_REPLY_FLAG_NO_STATS_UPDATE).
        c.cmd.failed_calls += 1


@probe("evalGenericCommand")
def eval_generic_command(c: net.Client, evalsha: bool) -> None:
    """evalGenericCommand: EVAL / EVALSHA and their _RO forms."""
    argv = c.argv
    numkeys = _get_long_long_or_reply(c, argv[2])
    if numkeys is None:
        return
    if numkeys > len(argv) - 3:
        net.add_reply_error(c, "Number of keys can't be greater than number of args")
        return
    if numkeys < 0:
        net.add_reply_error(c, "Number of keys can't be negative")
        return
    if lctx.lua is None:
        net.add_reply_error(c, "Lua scripting is not available: the 'lupa' package is not "
                               "installed")
        return
    if evalsha:
        sha = argv[1].decode("latin-1").lower()
        script = lctx.lua_scripts.get(sha)
        if script is None:
            net.add_reply_error_object(c, shared.noscripterr)
            return
    else:
        sha = lua_create_function(c, argv[1])
        if sha is None:
            return
        script = lctx.lua_scripts[sha]
    ro = c.cmd.name in ("eval_ro", "evalsha_ro")
    rctx = ScriptRunCtx()
    if not script_prepare_for_run(rctx, lctx.lua_client, c, sha, script.flags, ro):
        return
    rctx.flags |= SCRIPT_EVAL_MODE
    try:
        lua_call_function(rctx, script.fn, argv[3:3 + numkeys], argv[3 + numkeys:])
    finally:
        script_reset_run(rctx)
    server.used_memory_lua = eval_memory()


def _get_long_long_or_reply(c: net.Client, arg: bytes) -> int | None:
    from tracered import util

    v = util.string2ll(arg)
    if v is None:
        net.add_reply_error(c, shared.NOT_INTEGER)
    return v


def eval_command(c: net.Client) -> None:
    """EVAL script numkeys [key ...] [arg ...].  MONITOR sees the EVAL before the commands
    the script runs (the command itself is skip_monitor)."""
    if server.monitors:
        server_module.replication_feed_monitors(c, c.db.id, c.argv)
    eval_generic_command(c, False)


def eval_ro_command(c: net.Client) -> None:
    """EVAL_RO: the script may not write."""
    eval_command(c)


def evalsha_command(c: net.Client) -> None:
    """EVALSHA sha1 numkeys [key ...] [arg ...]."""
    if server.monitors:
        server_module.replication_feed_monitors(c, c.db.id, c.argv)
    if len(c.argv[1]) != 40:
        # No script can match: answer before parsing numkeys, as Redis does.
        net.add_reply_error_object(c, shared.noscripterr)
        return
    eval_generic_command(c, True)


def evalsha_ro_command(c: net.Client) -> None:
    evalsha_command(c)


# -- SCRIPT -------------------------------------------------------------------------------

_SCRIPT_HELP = [
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
]


def script_help_command(c: net.Client) -> None:
    net.add_reply_help(c, _SCRIPT_HELP)


def script_flush_command(c: net.Client) -> None:
    """SCRIPT FLUSH [ASYNC|SYNC]."""
    argv = c.argv
    if len(argv) == 3 and argv[2].lower() == b"sync":
        is_async = False
    elif len(argv) == 3 and argv[2].lower() == b"async":
        is_async = True
    elif len(argv) == 2:
        is_async = bool(server.lazyfree_lazy_user_flush)
    else:
        net.add_reply_error(c, "SCRIPT FLUSH only support SYNC|ASYNC option")
        return
    scripting_reset(is_async)
    net.add_reply(c, shared.ok)


def script_exists_command(c: net.Client) -> None:
    """SCRIPT EXISTS sha1 [sha1 ...]: 1 or 0 each (SHA1s compare case-insensitively)."""
    scripts = lctx.lua_scripts
    parts = [shared.mbulkhdr[len(c.argv) - 2] if len(c.argv) - 2 < 1024
             else b"*%d\r\n" % (len(c.argv) - 2)]
    for a in c.argv[2:]:
        parts.append(shared.cone if a.decode("latin-1").lower() in scripts else shared.czero)
    net.add_reply(c, b"".join(parts))


def script_load_command(c: net.Client) -> None:
    """SCRIPT LOAD script: compile and cache, answer the SHA1."""
    if lctx.lua is None:
        net.add_reply_error(c, "Lua scripting is not available: the 'lupa' package is not "
                               "installed")
        return
    sha = lua_create_function(c, c.argv[2])
    if sha is not None:
        net.add_reply_bulk(c, sha.encode())


def script_kill_command(c: net.Client) -> None:
    script_kill(c, True)


def script_debug_command(c: net.Client) -> None:
    """SCRIPT DEBUG YES|SYNC|NO.  Divergence: the Lua debugger (LDB) is not implemented;
    NO is accepted, YES and SYNC are refused."""
    mode = c.argv[2].lower()
    if c.reply:
        net.add_reply_error(c, "SCRIPT DEBUG must be called outside a pipeline")
    elif mode == b"no":
        net.add_reply(c, shared.ok)
    elif mode in (b"yes", b"sync"):
        net.add_reply_error(c, "SCRIPT DEBUG is not supported by tracered (the Lua debugger "
                               "is not implemented)")
    else:
        net.add_reply_error(c, "Use SCRIPT DEBUG YES/SYNC/NO")


# -- memory (evalMemory, evalScriptsMemory) for INFO ---------------------------------------

def eval_memory() -> int:
    """evalMemory: bytes the Lua state uses (collectgarbage('count') * 1024)."""
    if lctx.lua is None:
        return 0
    return int(lctx.collectgarbage(b"count") * 1024)


def eval_scripts_memory() -> int:
    """evalScriptsMemory: the cache's bodies and SHA1s plus its dict overhead (C sizes)."""
    n = len(lctx.lua_scripts)
    slots = 1 << max(2, (n - 1).bit_length()) if n else 0
    return lctx.lua_scripts_mem + n * (24 + 16) + slots * 8


def _update_memory_stats() -> None:
    """Refresh what INFO memory reads from the server (info.py uses getattr): the Lua
    state's size, the cache's size and count, and MEMORY DOCTOR's view of the cache."""
    srv = server
    srv.used_memory_lua = eval_memory()
    srv.used_memory_scripts_eval = eval_scripts_memory()
    srv.number_of_cached_scripts = len(lctx.lua_scripts)
    srv.lua_scripts = lctx.lua_scripts
    srv.lua_scripts_mem = lctx.lua_scripts_mem


def init(srv) -> None:
    """Create the Lua state and the Lua client (scriptingInit(1) from initServer)."""
    scripting_init(True)


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

def _eval_keyspec(flags: str) -> list[KeySpec]:
    return [KeySpec(flags, 2, kind="keynum", keynumidx=0, firstkey=1, keystep=1)]


def _eval_getkeys(argv: list[bytes]) -> list[int]:
    """evalGetKeys: the numkeys keys after the script."""
    try:
        n = int(argv[2])
    except (ValueError, IndexError):
        return []
    if n <= 0 or 3 + n > len(argv):
        return []
    return list(range(3, 3 + n))


_EVAL_FLAGS = "noscript skip_monitor may_replicate no_mandatory_keys stale movablekeys"
_EVAL_RO_FLAGS = "noscript skip_monitor no_mandatory_keys stale readonly movablekeys"
_EVAL_COMPLEXITY = "Depends on the script that is executed."

COMMANDS = [
    cmd("eval", eval_command, -3, _EVAL_FLAGS, acl="scripting", group="scripting",
        since="2.6.0", complexity=_EVAL_COMPLEXITY, summary="Execute a Lua script server side",
        args="script numkeys [key [key ...]] [arg [arg ...]]",
        key_specs=_eval_keyspec("RW access update"), getkeys=_eval_getkeys),
    cmd("evalsha", evalsha_command, -3, _EVAL_FLAGS, acl="scripting", group="scripting",
        since="2.6.0", complexity=_EVAL_COMPLEXITY, summary="Execute a Lua script server side",
        args="sha1 numkeys [key [key ...]] [arg [arg ...]]",
        key_specs=_eval_keyspec("RW access update"), getkeys=_eval_getkeys),
    cmd("eval_ro", eval_ro_command, -3, _EVAL_RO_FLAGS, acl="scripting", group="scripting",
        since="7.0.0", complexity=_EVAL_COMPLEXITY,
        summary="Execute a read-only Lua script server side",
        args="script numkeys [key [key ...]] [arg [arg ...]]",
        key_specs=_eval_keyspec("RO access"), getkeys=_eval_getkeys),
    cmd("evalsha_ro", evalsha_ro_command, -3, _EVAL_RO_FLAGS, acl="scripting",
        group="scripting", since="7.0.0", complexity=_EVAL_COMPLEXITY,
        summary="Execute a read-only Lua script server side",
        args="sha1 numkeys [key [key ...]] [arg [arg ...]]",
        key_specs=_eval_keyspec("RO access"), getkeys=_eval_getkeys),
    cmd("script", None, -2, "", group="scripting", since="2.6.0",
        complexity="Depends on subcommand.",
        summary="A container for Lua scripts management commands", subcommands=[
            sub("load", script_load_command, 3, "noscript stale", acl="scripting",
                since="2.6.0",
                complexity="O(N) with N being the length in bytes of the script body.",
                summary="Load the specified Lua script into the script cache.",
                args="script",
                tips="request_policy:all_nodes response_policy:all_succeeded"),
            sub("kill", script_kill_command, 2, "noscript allow_busy", acl="scripting",
                since="2.6.0", summary="Kill the script currently in execution.",
                tips="request_policy:all_shards response_policy:one_succeeded"),
            sub("flush", script_flush_command, -2, "noscript", acl="scripting",
                since="2.6.0", complexity="O(N) with N being the number of scripts in cache",
                summary="Remove all the scripts from the script cache.", args="[ASYNC|SYNC]",
                tips="request_policy:all_nodes response_policy:all_succeeded"),
            sub("help", script_help_command, 2, "loading stale", acl="scripting",
                since="5.0.0",
                summary="Show helpful text about the different subcommands"),
            sub("debug", script_debug_command, 3, "noscript", acl="scripting", since="3.2.0",
                summary="Set the debug mode for executed scripts.", args="YES|SYNC|NO"),
            sub("exists", script_exists_command, -3, "noscript", acl="scripting",
                since="2.6.0",
                complexity="O(N) with N being the number of scripts to check (so checking a "
                           "single script is an O(1) operation).",
                summary="Check existence of scripts in the script cache.",
                args="sha1 [sha1 ...]",
                tips="request_policy:all_shards response_policy:agg_logical_and"),
        ]),
]
