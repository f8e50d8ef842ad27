"""Transactions: the mirror of multi.c (MULTI, EXEC, DISCARD, WATCH, UNWATCH).

Layout (same order as multi.c):

    client state      MultiState (client.mstate), init_client_multi_state,
                      free_client_multi_state, queue_multi_command, discard_transaction
    commands          MULTI DISCARD EXEC (exec_command_abort for a rejected EXEC)
    WATCH             WatchedKey, watch_for_key, unwatch_all_keys, is_watched_key_expired,
                      touch_watched_key, touch_all_watched_keys_in_db, WATCH UNWATCH

How a transaction flows: MULTI sets CLIENT_MULTI; processCommand (server.py) then queues
every command except EXEC/DISCARD/MULTI/WATCH/QUIT/RESET through ``queue_multi_command`` and
answers +QUEUED.  A command refused while queueing (unknown, wrong arity, ...) sets
CLIENT_DIRTY_EXEC (flagTransaction), so EXEC answers -EXECABORT.  A write to a WATCHed key
(signalModifiedKey -> touch_watched_key), or a flush/swap of its db, sets CLIENT_DIRTY_CAS,
so EXEC answers a null array.  Otherwise EXEC runs the queued commands through call() with
``server.in_exec`` set; call() does not propagate EXEC itself, and the writes it queued in
``server.also_propagate`` leave as one MULTI ... EXEC block once the outer call() ends
(propagatePendingCommands), a single write alone, as in Redis 7.0.

Blocking commands inside a transaction never block: EXEC sets CLIENT_DENY_BLOCKING and
``server.in_exec``; blocked.py checks those (and CLIENT_MULTI) and answers as if the timeout
had expired.

Divergence: a client's watched keys live in its MultiState (``c.mstate.watched_keys``)
rather than in a separate client field, so ``c.mstate`` exists as soon as the client has
used WATCH or MULTI and is dropped again once neither is in use.
Divergence: no ACL re-check of queued commands at EXEC time until acl.py exists.
"""

from __future__ import annotations

from tracered import db as dbmod
from tracered import networking as net
from tracered import server as server_module
from tracered import shared
from tracered.commands import KeySpec, cmd
from tracered.server import server
from tracered.trace.probes import probe

# server.h: a client that must not block (inside EXEC, scripts).  Shared with blocked.py.
CLIENT_DENY_BLOCKING = getattr(net, "CLIENT_DENY_BLOCKING", 1 << 41)

_CLIENT_MULTI = net.CLIENT_MULTI
_DIRTY = net.CLIENT_DIRTY_CAS | net.CLIENT_DIRTY_EXEC


# --------------------------------------------------------------------------------------------
# MULTI state of a client
# --------------------------------------------------------------------------------------------

class MultiCmd:
    """multiCmd: one queued command, its argv as sent (EXEC may store a rewritten one)."""

    __slots__ = ("cmd", "argv")

    def __init__(self, command, argv: list[bytes]) -> None:
        self.cmd = command
        self.argv = argv


class MultiState:
    """multiState: the queued commands, the union (cmd_flags) and the union of complements
    (cmd_inv_flags) of their flags, which processCommand checks for EXEC as a whole
    (an EXEC holding a write is a write), and the client's watched keys."""

    __slots__ = ("commands", "cmd_flags", "cmd_inv_flags", "argv_len_sums", "watched_keys")

    def __init__(self) -> None:
        self.commands: list[MultiCmd] = []
        self.cmd_flags = 0
        self.cmd_inv_flags = 0
        self.argv_len_sums = 0
        self.watched_keys: list[WatchedKey] = []


def _mstate(c: net.Client) -> MultiState:
    ms = c.mstate
    if ms is None:
        ms = c.mstate = MultiState()
    return ms


def init_client_multi_state(c: net.Client) -> None:
    """initClientMultiState: an empty queue (watched keys are kept)."""
    ms = c.mstate
    if ms is None:
        return
    ms.commands = []
    ms.cmd_flags = 0
    ms.cmd_inv_flags = 0
    ms.argv_len_sums = 0


def free_client_multi_state(c: net.Client) -> None:
    """freeClientMultiState: drop the queued commands; the state object goes once nothing
    (no queue, no watched key) needs it."""
    ms = c.mstate
    if ms is None:
        return
    ms.commands = []
    if not ms.watched_keys:
        c.mstate = None


@probe("queueMultiCommand")
def queue_multi_command(c: net.Client) -> None:
    """queueMultiCommand: append the current command to the transaction.

    Nothing is stored once the transaction is already doomed (an EXEC will fail anyway),
    which keeps a client that pipelines many commands after an error from growing memory.
    """
    if c.flags & _DIRTY:
        return
    ms = _mstate(c)
    ms.commands.append(MultiCmd(c.cmd, c.argv))
    flags = c.cmd.flags
    ms.cmd_flags |= flags
    ms.cmd_inv_flags |= ~flags
    ms.argv_len_sums += sum(map(len, c.argv)) + 8 * len(c.argv)


def discard_transaction(c: net.Client) -> None:
    """discardTransaction: forget the queue, leave MULTI and unwatch everything."""
    init_client_multi_state(c)
    c.flags &= ~(_CLIENT_MULTI | _DIRTY)
    unwatch_all_keys(c)
    free_client_multi_state(c)


# --------------------------------------------------------------------------------------------
# MULTI / DISCARD / EXEC
# --------------------------------------------------------------------------------------------

def multi_command(c: net.Client) -> None:
    """MULTI."""
    if c.flags & _CLIENT_MULTI:
        net.add_reply_error(c, "MULTI calls can not be nested")
        return
    c.flags |= _CLIENT_MULTI
    _mstate(c)
    init_client_multi_state(c)
    net.add_reply(c, shared.ok)


def discard_command(c: net.Client) -> None:
    """DISCARD."""
    if not c.flags & _CLIENT_MULTI:
        net.add_reply_error(c, "DISCARD without MULTI")
        return
    discard_transaction(c)
    net.add_reply(c, shared.ok)


def exec_command_abort(c: net.Client, error: str | bytes) -> None:
    """execCommandAbort: EXEC was refused by processCommand (arity, MISCONF, OOM, pubsub
    context ...).  The transaction is discarded and the reason given under EXECABORT, so
    the client knows it left MULTI whatever the reason was."""
    discard_transaction(c)
    if isinstance(error, bytes):
        error = error.decode("utf-8", "surrogateescape")
    error = error.rstrip("\r\n")
    if error.startswith("-"):
        error = error[1:]
    net.add_reply_error(c, "-EXECABORT Transaction discarded because of: " + error)
    # MONITOR saw MULTI already (and none of the queued commands): show where it ended.
    if server.monitors:
        server_module.replication_feed_monitors(c, c.db.id, c.argv)


def exec_command(c: net.Client) -> None:
    """EXEC: run the queued commands, or fail as a whole (EXECABORT / WATCH null reply)."""
    if not c.flags & _CLIENT_MULTI:
        net.add_reply_error(c, "EXEC without MULTI")
        return
    # A watched key that expired since WATCH counts as modified (it vanished logically).
    if is_watched_key_expired(c):
        c.flags |= net.CLIENT_DIRTY_CAS
    if c.flags & _DIRTY:
        if c.flags & net.CLIENT_DIRTY_EXEC:
            net.add_reply_error_object(c, shared.execaborterr)
        else:
            net.add_reply_null_array(c)
        discard_transaction(c)
        return

    srv = server
    old_flags = c.flags
    c.flags |= CLIENT_DENY_BLOCKING
    unwatch_all_keys(c)  # nothing can make this EXEC fail any more
    srv.in_exec = True
    orig_argv, orig_cmd = c.argv, c.cmd
    commands = c.mstate.commands
    # The AOF loading client replays without statistics or propagation (CMD_CALL_NONE).
    call_flags = server_module.CMD_CALL_NONE if c.id == _aof_client_id() else \
        server_module.CMD_CALL_FULL
    try:
        net.add_reply_array_len(c, len(commands))
        for mc in commands:
            c.argv = mc.argv
            c.cmd = mc.cmd
            # ACL rules may have changed since the command was queued (only checked while
            # some user is restricted: acl.py sets the hook then).
            if srv.acl_check_all_perm is not None and not _acl().exec_acl_check(c):
                continue
            server_module.call(c, call_flags)
            # A command may rewrite its argv for propagation: keep what it left.
            mc.argv = c.argv
            mc.cmd = c.cmd
    finally:
        if not old_flags & CLIENT_DENY_BLOCKING:
            c.flags &= ~CLIENT_DENY_BLOCKING
        c.argv, c.cmd = orig_argv, orig_cmd
        discard_transaction(c)
        srv.in_exec = False


def _aof_client_id() -> int:
    """CLIENT_ID_AOF: the id aof.py gives its loading client (none until aof.py exists)."""
    return getattr(server, "aof_client_id", -2)


# --------------------------------------------------------------------------------------------
# WATCH
# --------------------------------------------------------------------------------------------

class WatchedKey:
    """watchedKey: one (client, db, key) watch.  The same object sits in the client's list
    and in ``db.watched_keys[key]``, so either side can find the other.  ``expired`` notes
    that the key was already logically expired when WATCH ran: its later deletion is then
    no change."""

    __slots__ = ("key", "db", "client", "expired")

    def __init__(self, key: bytes, db, client: net.Client, expired: bool) -> None:
        self.key = key
        self.db = db
        self.client = client
        self.expired = expired


@probe("watchForKey")
def watch_for_key(c: net.Client, key: bytes) -> None:
    """watchForKey: watch key in the client's current db (once)."""
    ms = _mstate(c)
    db = c.db
    for wk in ms.watched_keys:
        if wk.db is db and wk.key == key:
            return
    clients = db.watched_keys.get(key)
    if clients is None:
        clients = db.watched_keys[key] = []
    wk = WatchedKey(key, db, c, dbmod.key_is_expired(db, key))
    ms.watched_keys.append(wk)
    clients.append(wk)


def unwatch_all_keys(c: net.Client) -> None:
    """unwatchAllKeys: remove every watch of the client (the dirty flag is the caller's)."""
    ms = c.mstate
    if ms is None or not ms.watched_keys:
        return
    for wk in ms.watched_keys:
        wkeys = wk.db.watched_keys
        clients = wkeys.get(wk.key)
        if clients is None:
            continue
        try:
            clients.remove(wk)
        except ValueError:
            pass
        if not clients:
            del wkeys[wk.key]
    ms.watched_keys = []


def is_watched_key_expired(c: net.Client) -> bool:
    """isWatchedKeyExpired: has a watched key expired since WATCH?  Keys already expired
    when watched do not count."""
    ms = c.mstate
    if ms is None or not ms.watched_keys:
        return False
    key_is_expired = dbmod.key_is_expired
    for wk in ms.watched_keys:
        if not wk.expired and key_is_expired(wk.db, wk.key):
            return True
    return False


@probe("touchWatchedKey")
def touch_watched_key(db, key: bytes) -> None:
    """touchWatchedKey: every client watching key in db will fail its EXEC.

    A watcher already flagged has nothing left to learn, so its watches are dropped at once
    (less work on the next touch, less memory until EXEC).
    """
    wkeys = db.watched_keys
    if not wkeys:
        return
    clients = wkeys.get(key)
    if not clients:
        return
    for wk in list(clients):
        if wk.expired:
            if db.dict.find(key) is None:
                # The key was expired at WATCH and is now really gone: logically nothing
                # changed; from now on a new write is a change.
                wk.expired = False
                continue
            # Redis 7.0 leaves the loop here (the watchers after this one are not flagged
            # by this touch); mirrored as is so behaviour matches redis-server 7.0.
            break
        c = wk.client
        c.flags |= net.CLIENT_DIRTY_CAS
        unwatch_all_keys(c)


def _touch_hook(db, key: bytes) -> None:
    """db.touch_watched_key_hook (signalModifiedKey calls it only when the db has watched
    keys); a module-global call, so an armed touchWatchedKey probe sees it."""
    touch_watched_key(db, key)


@probe("touchAllWatchedKeysInDb")
def touch_all_watched_keys_in_db(emptied, replaced_with) -> None:
    """touchAllWatchedKeysInDb: FLUSHDB/FLUSHALL (replaced_with None) or SWAPDB is about to
    replace the contents of ``emptied``.  A watch is touched when its key exists in either
    the old or the new contents, with the expired-at-WATCH rules: an expired key that
    disappears, or stays expired, is no change; a missing key replaced by an expired one
    becomes an expired watch."""
    key_is_expired = dbmod.key_is_expired
    for key, clients in list(emptied.watched_keys.items()):
        exists_in_emptied = emptied.dict.find(key) is not None
        in_replacement = replaced_with is not None and replaced_with.dict.find(key) is not None
        if not (exists_in_emptied or in_replacement):
            continue
        for wk in clients:
            if wk.expired:
                if not in_replacement:
                    wk.expired = False
                    continue
                if key_is_expired(replaced_with, key):
                    continue
            elif not exists_in_emptied and key_is_expired(replaced_with, key):
                wk.expired = True
                continue
            # Only flagged: unwatching here would edit the lists being walked.
            wk.client.flags |= net.CLIENT_DIRTY_CAS


def watch_command(c: net.Client) -> None:
    """WATCH key [key ...]."""
    if c.flags & _CLIENT_MULTI:
        net.add_reply_error(c, "WATCH inside MULTI is not allowed")
        return
    # Already doomed: watching more keys changes nothing.
    if c.flags & net.CLIENT_DIRTY_CAS:
        net.add_reply(c, shared.ok)
        return
    for key in c.argv[1:]:
        watch_for_key(c, key)
    net.add_reply(c, shared.ok)


def unwatch_command(c: net.Client) -> None:
    """UNWATCH."""
    unwatch_all_keys(c)
    c.flags &= ~net.CLIENT_DIRTY_CAS
    if not c.flags & _CLIENT_MULTI:
        free_client_multi_state(c)
    net.add_reply(c, shared.ok)


def multi_state_mem_overhead(c: net.Client) -> int:
    """multiStateMemOverhead: bytes CLIENT LIST reports as multi-mem (C sizes: 40 bytes a
    queued-command slot, 24+32 per watched key)."""
    ms = c.mstate
    if ms is None:
        return 0
    return ms.argv_len_sums + len(ms.watched_keys) * 56 + len(ms.commands) * 40


# --------------------------------------------------------------------------------------------
# Hooks
# --------------------------------------------------------------------------------------------

def _free_client_hook(c: net.Client) -> None:
    """freeClient's MULTI/WATCH half."""
    if c.mstate is not None:
        unwatch_all_keys(c)
        c.mstate = None


def _queue_hook(c: net.Client) -> None:
    """processCommand's entry point (a module-global call, so an armed probe is seen)."""
    queue_multi_command(c)


def _touch_all_hook(emptied, replaced_with) -> None:
    touch_all_watched_keys_in_db(emptied, replaced_with)


def _reset_hook(c: net.Client) -> None:
    """RESET (clearClientConnectionState) discards any transaction and every watch."""
    discard_transaction(c)


def init(srv) -> None:
    """Wire the transaction hooks into processCommand, signalModifiedKey, flush/swap,
    freeClient and RESET (called from init_server; idempotent)."""
    srv.queue_multi_command = _queue_hook
    srv.exec_command_abort = exec_command_abort
    dbmod.touch_watched_key_hook = _touch_hook
    dbmod.touch_all_watched_keys_in_db_hook = _touch_all_hook
    if _free_client_hook not in srv.free_client_hooks:
        srv.free_client_hooks.append(_free_client_hook)
    from tracered import server_cmds

    if _reset_hook not in server_cmds.RESET_HOOKS:
        server_cmds.RESET_HOOKS.append(_reset_hook)


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

_TX = "noscript loading stale fast allow_busy"

COMMANDS = [
    cmd("multi", multi_command, 1, _TX, acl="transaction", group="transactions",
        since="1.2.0", summary="Mark the start of a transaction block"),
    cmd("exec", exec_command, 1, "noscript loading stale skip_slowlog", acl="transaction",
        group="transactions", since="1.2.0", complexity="Depends on commands in the transaction",
        summary="Execute all commands issued after MULTI"),
    cmd("discard", discard_command, 1, _TX, acl="transaction", group="transactions",
        since="2.0.0", complexity="O(N), when N is the number of queued commands",
        summary="Discard all commands issued after MULTI"),
    cmd("watch", watch_command, -2, _TX, keys=(1, -1, 1), acl="transaction",
        key_specs=[KeySpec("RO", 1, lastkey=-1)],
        group="transactions", since="2.2.0", complexity="O(1) for every key.",
        summary="Watch the given keys to determine execution of the MULTI/EXEC block",
        args="key [key ...]"),
    cmd("unwatch", unwatch_command, 1, _TX, acl="transaction", group="transactions",
        since="2.2.0", summary="Forget about all watched keys"),
]


def _acl():
    from tracered import acl

    return acl
