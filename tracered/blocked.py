"""Blocking operations: the mirror of blocked.c (and of timeout.c, its timeout half).

A command that must wait (BLPOP on an empty list, BZPOPMIN, ...) does not loop: it calls
``block_for_keys``, which records the client under every key it waits for and sets the
CLIENT_BLOCKED flag.  From then on the client's input is only accumulated
(networking.process_input_buffer stops at CLIENT_BLOCKED) until one of three things happens:

    a key becomes ready    dbAdd -> signal_key_as_ready queues (db, key) in server.ready_keys;
                           after the command that did it, processCommand calls
                           handle_clients_blocked_on_keys, which serves the waiting clients
                           of each ready key in the order they blocked (FIFO per key)
    the timeout expires    handle_blocked_clients_timeout (beforeSleep and a timer) or
                           check_blocked_client_timeout (clientsCron) reply with a null array
    CLIENT UNBLOCK / kill  reply_to_blocked_client_timed_out + unblock_client, or
                           freeClient's unblock

``unblock_client`` undoes the bookkeeping and queues the client for reprocessing: its
pipelined commands run from beforeSleep (process_unblocked_clients), never nested inside
the command that woke it.

Layout (same order as blocked.c, then timeout.c):

    block_client / unblock_client / queue_client_for_reprocessing / process_unblocked_clients
    reply_to_blocked_client_timed_out / disconnect_all_blocked_clients
    serve_clients_blocked_on_list_key / serve_clients_blocked_on_sorted_set_key
    handle_clients_blocked_on_keys (probe handleClientsBlockedOnKeys)
    block_for_keys (probe blockForKeys) / unblock_client_waiting_data / signal_key_as_ready
    timeout.c: check_blocked_client_timeout, the timeout table,
               handle_blocked_clients_timeout, get_timeout_from_object_or_reply

Other blocking kinds plug in without this module knowing them: a type module registers in
``serve_funcs[btype]`` how to serve one waiting client, and WAIT-like kinds register in
``unblock_funcs`` / ``timeout_reply_funcs``.

Divergence: Redis keeps the clients blocked on a key in a linked list and stores the list
node in the client for O(1) removal; here ``db.blocking_keys[key]`` is a dict used as an
ordered set (insertion order = blocking order), which gives the same FIFO and O(1) removal.
Divergence: the timeout table is a heap of (timeout, sequence, client) with lazy deletion
instead of a radix tree keyed by (timeout, client pointer); clients with the same timeout
are timed out in the order they blocked.  A timer event set at the earliest deadline makes
timeouts precise to a few ms (Redis relies on its beforeSleep check, so its precision is
the event loop's wake-up period, up to 1000/hz ms when idle).
Divergence: a served BLPOP/BRPOP/BLMOVE adds to server.dirty (Redis 7.0 only counts the
served BLMPOP): the pop changed the dataset and save points should see it.
Divergence: the master link is never blocked (it is treated like CLIENT_DENY_BLOCKING);
Redis asserts that a master never sends a blocking command that would block.
"""

from __future__ import annotations

import heapq
import math
import time
from collections import deque
from collections.abc import Callable

from tracered import db as dbmod
from tracered import networking as net
from tracered import server as server_module
from tracered import shared, util
from tracered.ae import AE_NOMORE
from tracered.object import OBJ_LIST, OBJ_STREAM, OBJ_ZSET
from tracered.server import server
from tracered.trace.probes import probe

# Blocking kinds (server.h BLOCKED_*).
BLOCKED_NONE = 0
BLOCKED_LIST = 1
BLOCKED_WAIT = 2
BLOCKED_MODULE = 3
BLOCKED_STREAM = 4
BLOCKED_ZSET = 5
BLOCKED_POSTPONE = 6
BLOCKED_SHUTDOWN = 7
BLOCKED_NUM = 8

# server.h: the client must not block (set on clients running MULTI/EXEC, Lua, AOF loading).
CLIENT_DENY_BLOCKING = getattr(net, "CLIENT_DENY_BLOCKING", 1 << 41)

# What a serve_funcs entry returns for one waiting client.
SERVE_NOT = 0           # not served: the client stays blocked (e.g. a stream with no new ID)
SERVE_DONE = 1          # served: unblock it and go on with the next client
SERVE_KEY_DELETED = 2   # served and the key is gone: stop serving this key

LLONG_MAX = util.LLONG_MAX
_TWO63 = float(1 << 63)

# btype -> fn(receiver, o, db, key) -> SERVE_*: serve one client blocked on a ready key.
serve_funcs: dict[int, Callable] = {}
# btype -> fn(c): per-kind cleanup in unblock_client (BLOCKED_WAIT ...).
unblock_funcs: dict[int, Callable] = {}
# btype -> fn(c): the reply a timed-out client of that kind gets (WAIT: the ack count).
timeout_reply_funcs: dict[int, Callable] = {}
# fn(db, key): XREADGROUP clients of a key that is gone or no longer a stream (t_stream).
unblock_deleted_stream_readgroup_clients_hook: Callable | None = None

_BTYPE_OF_TYPE = {OBJ_LIST: BLOCKED_LIST, OBJ_ZSET: BLOCKED_ZSET, OBJ_STREAM: BLOCKED_STREAM}
_KEY_BTYPES = (BLOCKED_LIST, BLOCKED_ZSET, BLOCKED_STREAM)


class BlockingState:
    """blockingState: why and how long a client waits.

    ``keys`` maps each key to its per-key info (the stream ID for XREAD, else None), in
    the order given; ``timeout`` is an absolute unix time in ms, 0 = forever.
    """

    __slots__ = ("count", "timeout", "keys", "target", "wherefrom", "whereto",
                 "xread_count", "xread_group", "xread_consumer", "xread_group_noack",
                 "numreplicas", "reploffset", "in_to_table")

    def __init__(self) -> None:
        self.count = -1
        self.timeout = 0
        self.keys: dict[bytes, object] = {}
        self.target: bytes | None = None
        self.wherefrom = 0
        self.whereto = 0
        self.xread_count = 0
        self.xread_group: bytes | None = None
        self.xread_consumer: bytes | None = None
        self.xread_group_noack = False
        self.numreplicas = 0
        self.reploffset = 0
        self.in_to_table = False    # CLIENT_IN_TO_TABLE

    def __repr__(self) -> str:
        return (f"<bpop keys={list(self.keys)!r:.60} timeout={self.timeout} "
                f"target={self.target!r}>")


# Clients unblocked since the last beforeSleep, whose query buffers wait to be processed
# (server.unblocked_clients).
unblocked_clients: deque = deque()
blocked_clients_by_type = [0] * BLOCKED_NUM


def client_deny_blocking(c: net.Client) -> bool:
    """True when ``c`` may not block (CLIENT_DENY_BLOCKING): inside MULTI/EXEC, a script,
    a fake client flagged by its creator, or the master link."""
    return bool(c.flags & (CLIENT_DENY_BLOCKING | net.CLIENT_MULTI | net.CLIENT_SCRIPT |
                           net.CLIENT_MASTER) or server.in_exec)


# --------------------------------------------------------------------------------------------
# blockClient / unblockClient
# --------------------------------------------------------------------------------------------

def block_client(c: net.Client, btype: int) -> None:
    """blockClient: flag the client blocked; its input is kept for later from now on."""
    c.flags |= net.CLIENT_BLOCKED
    c.btype = btype
    server.blocked_clients += 1
    blocked_clients_by_type[btype] += 1
    add_client_to_timeout_table(c)


def update_stats_on_unblock(c: net.Client, blocked_us: int, reply_us: int,
                            had_errors: bool) -> None:
    """updateStatsOnUnblock: the time spent serving a woken client counts for its command
    (INFO commandstats) and may put it in the SLOWLOG, which call() skipped when it
    blocked."""
    cmd = c.lastcmd
    if cmd is None:
        return
    total = blocked_us + reply_us
    cmd.microseconds += total
    if had_errors:
        cmd.failed_calls += 1
    if 0 <= server.slowlog_log_slower_than <= total:
        server_module.slowlog_push(c, total)


def process_unblocked_clients() -> None:
    """processUnblockedClients (beforeSleep): run what the woken clients pipelined while
    they waited, unless they blocked again meanwhile."""
    q = unblocked_clients
    while q:
        c = q.popleft()
        c.flags &= ~net.CLIENT_UNBLOCKED
        if not c.flags & net.CLIENT_BLOCKED and c.querybuf:
            net.process_input_buffer(c)


def queue_client_for_reprocessing(c: net.Client) -> None:
    """queueClientForReprocessing: its query buffer is processed at the next beforeSleep
    (no readable event will fire for bytes already read)."""
    if not c.flags & net.CLIENT_UNBLOCKED:
        c.flags |= net.CLIENT_UNBLOCKED
        unblocked_clients.append(c)


def unblock_client(c: net.Client, timeout_error: bool = False) -> None:
    """unblockClient: undo the blocking of ``c`` and queue it for reprocessing.

    The caller has already given the client its reply (served data, a timeout null, an
    -UNBLOCKED error); with ``timeout_error`` True this function sends the timeout reply
    itself first (what CLIENT UNBLOCK id TIMEOUT does).
    """
    if not c.flags & net.CLIENT_BLOCKED:
        return
    btype = c.btype
    if btype == BLOCKED_NONE:
        return  # parked by CLIENT PAUSE: server.unpause_clients owns those
    if timeout_error:
        reply_to_blocked_client_timed_out(c)
    if btype in _KEY_BTYPES:
        unblock_client_waiting_data(c)
    else:
        fn = unblock_funcs.get(btype)
        if fn is not None:
            fn(c)
    # resetClient's part that a blocked command skipped: the original argv (kept for
    # SLOWLOG) goes, and CLIENT REPLY SKIP ends with this command.
    c.original_argv = None
    server.blocked_clients -= 1
    blocked_clients_by_type[btype] -= 1
    c.flags &= ~net.CLIENT_BLOCKED
    c.btype = BLOCKED_NONE
    remove_client_from_timeout_table(c)
    c.bpop = None
    net.reset_client_reply_skip(c)
    queue_client_for_reprocessing(c)


def reply_to_blocked_client_timed_out(c: net.Client) -> None:
    """replyToBlockedClientTimedOut: lists, zsets and streams answer a null array (also
    BLMOVE/BRPOPLPUSH, as in Redis: *-1 in RESP2)."""
    btype = c.btype
    if btype in _KEY_BTYPES:
        net.add_reply_null_array(c)
        return
    fn = timeout_reply_funcs.get(btype)
    if fn is not None:
        fn(c)


def disconnect_all_blocked_clients() -> None:
    """disconnectAllBlockedClients: a master turning replica drops every client blocked on
    keys with an -UNBLOCKED error (clients postponed by CLIENT PAUSE are left alone)."""
    for c in list(server.clients.values()):
        if c.flags & net.CLIENT_BLOCKED and c.btype != BLOCKED_NONE:
            net.add_reply_error(c, shared.UNBLOCKED_INSTANCE_CHANGED)
            unblock_client(c)
            c.flags |= net.CLIENT_CLOSE_AFTER_REPLY


def _free_client_hook(c: net.Client) -> None:
    """freeClient's part: a blocked client leaves the key lists; a queued one the queue."""
    if c.flags & net.CLIENT_BLOCKED and c.btype != BLOCKED_NONE:
        unblock_client(c)
    if c.flags & net.CLIENT_UNBLOCKED:
        c.flags &= ~net.CLIENT_UNBLOCKED
        try:
            unblocked_clients.remove(c)
        except ValueError:
            pass


# --------------------------------------------------------------------------------------------
# Serving clients blocked on a ready key
# --------------------------------------------------------------------------------------------

def _serve_clients_blocked_on_key(o, db, key: bytes, btype: int) -> None:
    """The loop shared by serveClientsBlockedOnListKey / ...SortedSetKey / ...StreamKey:
    the clients of ``btype`` waiting on ``key``, from the first that blocked to the last,
    each served by serve_funcs[btype], until the key is consumed."""
    if not blocked_clients_by_type[btype]:
        return
    clients = db.blocking_keys.get(key)
    fn = serve_funcs.get(btype)
    if not clients or fn is None:
        return
    srv = server
    # A snapshot: serving a client removes it from the live dict.
    for receiver in list(clients):
        if receiver.btype != btype or receiver.bpop is None or \
                key not in receiver.bpop.keys:
            continue
        prev_errors = srv.stat_total_error_replies
        old_client = srv.current_client
        srv.current_client = receiver
        t0 = time.perf_counter_ns()
        try:
            res = fn(receiver, o, db, key)
            if res == SERVE_NOT:
                continue
            update_stats_on_unblock(receiver, 0, (time.perf_counter_ns() - t0) // 1000,
                                    srv.stat_total_error_replies != prev_errors)
            unblock_client(receiver)
            after_command(receiver)
        finally:
            srv.current_client = old_client
        if res == SERVE_KEY_DELETED:
            break


def serve_clients_blocked_on_list_key(o, db, key: bytes) -> None:
    """serveClientsBlockedOnListKey: BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BLMPOP waiters
    (t_list registers how one is served: serveClientBlockedOnList)."""
    _serve_clients_blocked_on_key(o, db, key, BLOCKED_LIST)


def serve_clients_blocked_on_sorted_set_key(o, db, key: bytes) -> None:
    """serveClientsBlockedOnSortedSetKey: BZPOPMIN/BZPOPMAX/BZMPOP waiters."""
    _serve_clients_blocked_on_key(o, db, key, BLOCKED_ZSET)


def serve_clients_blocked_on_stream_key(o, db, key: bytes) -> None:
    """serveClientsBlockedOnStreamKey: XREAD/XREADGROUP waiters (t_stream registers the
    per-client part, which leaves a client blocked when nothing new is there for it)."""
    _serve_clients_blocked_on_key(o, db, key, BLOCKED_STREAM)


_SERVE_BY_TYPE = {OBJ_LIST: serve_clients_blocked_on_list_key,
                  OBJ_ZSET: serve_clients_blocked_on_sorted_set_key,
                  OBJ_STREAM: serve_clients_blocked_on_stream_key}


def _serve_zset_receiver(receiver, o, db, key: bytes) -> int:
    """One BZPOPMIN/BZPOPMAX/BZMPOP waiter: genericZpopCommand on the key, propagated as
    ZPOPMIN/ZPOPMAX key [count]."""
    from tracered import t_zset

    bp = receiver.bpop
    count = bp.count
    where = bp.wherefrom
    llen = t_zset.zset_length(o)
    nested = receiver.lastcmd is not None and receiver.lastcmd.name == "bzmpop"
    deleted = t_zset.generic_zpop_command(receiver, [key], where, True, count, nested,
                                          nested)
    argv = [b"ZPOPMIN" if where == t_zset.ZSET_MIN else b"ZPOPMAX", key]
    if count != -1:
        argv.append(b"%d" % (count if count < llen else llen))
    server_module.also_propagate(receiver.db.id, argv,
                                 server_module.PROPAGATE_AOF | server_module.PROPAGATE_REPL)
    return SERVE_KEY_DELETED if deleted else SERVE_DONE


serve_funcs[BLOCKED_ZSET] = _serve_zset_receiver


def after_command(c: net.Client) -> None:
    """afterCommand: at the top level, hand what the served client caused to the AOF and
    the replicas now."""
    srv = server
    if srv.in_nested_call == 0 and srv.also_propagate:
        server_module.propagate_pending_commands()


@probe("handleClientsBlockedOnKeys")
def handle_clients_blocked_on_keys() -> None:
    """handleClientsBlockedOnKeys: serve the clients waiting on every key made ready by
    the last command (or MULTI/EXEC, or script).

    Runs until no key is left: serving a BLMOVE pushes to its destination, which can make
    another key ready in this same call.  Keys are looked up under fixed_time_expire so a
    key does not expire between the lookup and the serving.
    """
    srv = server
    while srv.ready_keys:
        ready, srv.ready_keys = srv.ready_keys, []
        for db, key in ready:
            db.ready_keys.discard(key)
            srv.fixed_time_expire += 1
            server_module.update_cached_time()
            try:
                o = dbmod.lookup_key(db, key, dbmod.LOOKUP_NONOTIFY | dbmod.LOOKUP_NOSTATS)
                hook = unblock_deleted_stream_readgroup_clients_hook
                if o is not None:
                    serve = _SERVE_BY_TYPE.get(o.type)
                    if serve is not None:
                        serve(o, db, key)
                    if o.type != OBJ_STREAM and hook is not None:
                        hook(db, key)
                else:
                    if hook is not None:
                        hook(db, key)
                    # The lookup may have expired the key: its DEL goes out now.
                    if srv.also_propagate and srv.in_nested_call == 0:
                        server_module.propagate_pending_commands()
            finally:
                srv.fixed_time_expire -= 1


# --------------------------------------------------------------------------------------------
# blockForKeys / unblockClientWaitingData / signalKeyAsReady
# --------------------------------------------------------------------------------------------

@probe("blockForKeys")
def block_for_keys(c: net.Client, btype: int, keys, count: int, timeout: int,
                   target: bytes | None = None, wherefrom: int = 0, whereto: int = 0,
                   ids=None) -> None:
    """blockForKeys: block ``c`` until one of ``keys`` is ready or ``timeout`` (absolute
    ms, 0 = never) passes.

    ``count`` is the COUNT of BLMPOP/BZMPOP (-1 otherwise), ``target`` the destination of
    BLMOVE, ``wherefrom``/``whereto`` the blockpos, ``ids`` the stream IDs of XREAD (one
    per key).  A key given twice is waited on once.
    """
    bp = c.bpop = BlockingState()
    bp.count = count
    bp.timeout = timeout
    bp.target = target
    bp.wherefrom = wherefrom
    bp.whereto = whereto
    bkeys = bp.keys
    blocking_keys = c.db.blocking_keys
    for j, key in enumerate(keys):
        if key in bkeys:
            continue
        bkeys[key] = ids[j] if ids is not None else None
        waiting = blocking_keys.get(key)
        if waiting is None:
            blocking_keys[key] = {c: None}
        else:
            waiting[c] = None
    block_client(c, btype)


def block_for_zset_keys(c: net.Client, keys, count: int, timeout: int, where: int) -> None:
    """blockForKeys(c, BLOCKED_ZSET, ...) as t_zset.py calls it (where = ZSET_MIN/MAX)."""
    block_for_keys(c, BLOCKED_ZSET, keys, count, timeout, None, where, 0)


def unblock_client_waiting_data(c: net.Client) -> None:
    """unblockClientWaitingData: take the client off every key it waits on (a key nobody
    waits on any more leaves db.blocking_keys)."""
    bp = c.bpop
    if bp is None:
        return
    blocking_keys = c.db.blocking_keys
    for key in bp.keys:
        waiting = blocking_keys.get(key)
        if waiting is None:
            continue
        waiting.pop(c, None)
        if not waiting:
            del blocking_keys[key]
    bp.keys = {}
    bp.target = None
    bp.xread_group = None
    bp.xread_consumer = None


def signal_key_as_ready(db, key: bytes, type_: int) -> None:
    """signalKeyAsReady: queue ``key`` for handle_clients_blocked_on_keys if a client of
    the matching kind waits on it (at most once until it is handled)."""
    btype = _BTYPE_OF_TYPE.get(type_)
    if btype is None:
        return
    if not blocked_clients_by_type[btype] and not blocked_clients_by_type[BLOCKED_MODULE]:
        return
    if key not in db.blocking_keys or key in db.ready_keys:
        return
    server.ready_keys.append((db, key))
    db.ready_keys.add(key)


# --------------------------------------------------------------------------------------------
# timeout.c: blocked clients timeouts
# --------------------------------------------------------------------------------------------

def check_blocked_client_timeout(c: net.Client, now_ms: int) -> bool:
    """checkBlockedClientTimeout: past its timeout, the client gets the timeout reply and
    is unblocked.  Returns True in that case."""
    bp = c.bpop
    if c.flags & net.CLIENT_BLOCKED and bp is not None and bp.timeout != 0 and \
            bp.timeout < now_ms:
        reply_to_blocked_client_timed_out(c)
        unblock_client(c)
        return True
    return False


def _clients_cron_timeout(c: net.Client) -> None:
    """server.client_timeout_hook: clientsCron's look at a blocked client."""
    check_blocked_client_timeout(c, time.time_ns() // 1_000_000)


# The table: a heap of (timeout, seq, client, bpop).  An entry is live while the client is
# still blocked with that very BlockingState; others are dropped when they surface.
_timeout_heap: list = []
_timeout_seq = 0
_timer_id: int | None = None
_timer_due: int | None = None
_in_before_sleep = False
_dont_wait_set = False


def add_client_to_timeout_table(c: net.Client) -> None:
    """addClientToTimeoutTable: remember a client that blocks with a timeout."""
    global _timeout_seq
    bp = c.bpop
    if bp is None or bp.timeout == 0:
        return
    _timeout_seq += 1
    heapq.heappush(_timeout_heap, (bp.timeout, _timeout_seq, c, bp))
    bp.in_to_table = True
    server.clients_in_timeout_table += 1
    if len(_timeout_heap) > 2 * server.clients_in_timeout_table + 64:
        _compact_timeout_table()
    _arm_timeout_timer(bp.timeout)


def remove_client_from_timeout_table(c: net.Client) -> None:
    """removeClientFromTimeoutTable: the heap entry becomes stale (dropped lazily)."""
    bp = c.bpop
    if bp is None or not bp.in_to_table:
        return
    bp.in_to_table = False
    server.clients_in_timeout_table -= 1


def _compact_timeout_table() -> None:
    live = [e for e in _timeout_heap if e[3].in_to_table and e[2].bpop is e[3]]
    heapq.heapify(live)
    _timeout_heap[:] = live


def _earliest_timeout() -> int | None:
    """The earliest live deadline, dropping stale entries on the way."""
    heap = _timeout_heap
    while heap:
        t, _, c, bp = heap[0]
        if bp.in_to_table and c.bpop is bp:
            return t
        heapq.heappop(heap)
    return None


def handle_blocked_clients_timeout() -> None:
    """handleBlockedClientsTimeout: time out every client whose deadline has passed."""
    heap = _timeout_heap
    if not heap:
        return
    now = time.time_ns() // 1_000_000
    while heap:
        t, _, c, bp = heap[0]
        if bp.in_to_table and c.bpop is bp and t >= now:
            break  # every remaining deadline is in the future
        heapq.heappop(heap)
        if not bp.in_to_table or c.bpop is not bp:
            continue
        bp.in_to_table = False
        server.clients_in_timeout_table -= 1
        check_blocked_client_timeout(c, now)


def _arm_timeout_timer(deadline: int) -> None:
    """Make the event loop wake up when ``deadline`` has passed (see the module note)."""
    global _timer_id, _timer_due, _dont_wait_set
    el = server.el
    if el is None:
        return
    if _timer_due is not None and _timer_due <= deadline:
        return
    if _timer_id is not None:
        el.delete_time_event(_timer_id)
    now = time.time_ns() // 1_000_000
    _timer_due = deadline
    _timer_id = el.create_time_event(max(0, deadline + 1 - now), _timeout_timer_proc)
    if _in_before_sleep and not _dont_wait_set:
        # beforeSleep runs after the loop chose how long to sleep: don't sleep this time.
        el.set_dont_wait(True)
        _dont_wait_set = True


def _timeout_timer_proc(el, eid: int, client_data) -> float:
    global _timer_id, _timer_due
    handle_blocked_clients_timeout()
    nxt = _earliest_timeout()
    if nxt is None:
        _timer_id = _timer_due = None
        return AE_NOMORE
    _timer_due = nxt
    return max(1, nxt + 1 - time.time_ns() // 1_000_000)


def _before_sleep(srv) -> None:
    """beforeSleep's blocking duties, in Redis's order: timeouts, the woken clients'
    pending input, then keys made ready outside a command."""
    global _in_before_sleep, _dont_wait_set
    if _dont_wait_set:
        _dont_wait_set = False
        srv.el.set_dont_wait(False)
    if _timeout_heap:
        handle_blocked_clients_timeout()
    if unblocked_clients:
        _in_before_sleep = True
        try:
            process_unblocked_clients()
        finally:
            _in_before_sleep = False
    if srv.ready_keys:
        handle_clients_blocked_on_keys()


def get_timeout_from_object_or_reply(c: net.Client, arg: bytes) -> int | None:
    """getTimeoutFromObjectOrReply (UNIT_SECONDS): seconds as a long double -> absolute
    unix time in ms (0 = block forever), or None after an error reply.

    Like Redis: ceil(seconds * 1000); a value out of int64 range (inf, 1e20) converts to
    LLONG_MIN on x86-64 and so is "negative"; a deadline past int64 (Redis's signed
    overflow, then read unsigned by its timeout table) never fires.
    """
    ftval = util.string2ld(arg)
    if ftval is None:
        net.add_reply_error(c, shared.TIMEOUT_NOT_FLOAT)
        return None
    ms = math.ceil(ftval * 1000.0) if -_TWO63 < ftval * 1000.0 < _TWO63 else -(1 << 63)
    if ms < 0:
        net.add_reply_error(c, shared.TIMEOUT_NEGATIVE)
        return None
    if ms > 0:
        ms += time.time_ns() // 1_000_000
    return ms


# --------------------------------------------------------------------------------------------
# Installation
# --------------------------------------------------------------------------------------------

def _handle_blocked() -> None:
    # Looks the probed function up at call time, so an armed probe is seen.
    handle_clients_blocked_on_keys()


def _install(srv) -> None:
    """Wire the hooks the core calls (idempotent: also run again by init())."""
    dbmod.signal_key_as_ready_hook = signal_key_as_ready
    srv.handle_blocked = _handle_blocked
    srv.client_timeout_hook = _clients_cron_timeout
    srv.unblocked_clients = unblocked_clients
    srv.blocked_clients_by_type = blocked_clients_by_type
    if not hasattr(srv, "clients_in_timeout_table"):
        srv.clients_in_timeout_table = 0
    if _free_client_hook not in srv.free_client_hooks:
        srv.free_client_hooks.append(_free_client_hook)
    if _before_sleep not in srv.before_sleep_hooks:
        # First, as in Redis's beforeSleep: replies of the clients served here must go out
        # in this same iteration.
        srv.before_sleep_hooks.insert(0, _before_sleep)


def init(srv) -> None:
    """Called once at startup (server.init_server)."""
    _install(srv)


_install(server)
