"""Expiry: the mirror of expire.c.

Keys with a TTL are in ``db.expires`` (key -> absolute unix ms).  They die two ways:

* lazily, when a command touches them (db.expire_if_needed), and
* actively, in activeExpireCycle: serverCron samples keys from the expires dict of each db,
  deletes the expired ones, and repeats on a db while more than ~10% of the sample was
  expired, within a CPU budget (25% of a cron tick at active-expire-effort 1).  A 1 ms
  "fast" cycle also runs from beforeSleep (hooked by init()) when the slow one ran out of
  time or the stale estimate is high.

The commands that set and read TTLs are declared here too, as in expire.c: EXPIRE PEXPIRE
EXPIREAT PEXPIREAT (with NX XX GT LT), TTL PTTL EXPIRETIME PEXPIRETIME PERSIST TOUCH.

Propagation (expireGenericCommand): every TTL reaches replicas and the AOF as an absolute
``PEXPIREAT key <unix-ms>``, so a replica that applies it later, or an AOF replayed days
later, expires the key at the same instant; a TTL already in the past deletes the key and
is propagated as ``DEL key`` (``UNLINK`` with lazyfree-lazy-expire).

Divergence: writable replicas do not track keys given a TTL locally (expireSlaveKeys /
rememberSlaveKeyWithExpire); such keys only die lazily or by the master's DEL.
"""

from __future__ import annotations

import time

from tracered import db as dbmod
from tracered import networking as net
from tracered import shared
from tracered.commands import KeySpec, cmd
from tracered.trace.probes import probe

ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP = 20     # keys sampled per db per loop
ACTIVE_EXPIRE_CYCLE_FAST_DURATION = 1000   # microseconds
ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC = 25    # max CPU percent of a cron tick
ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE = 10  # percent of expired keys tolerated in a sample

ACTIVE_EXPIRE_CYCLE_SLOW = 0
ACTIVE_EXPIRE_CYCLE_FAST = 1

DICT_HT_INITIAL_SIZE = 4


class _CycleState:
    """The C function's static variables."""

    current_db = 0
    timelimit_exit = False
    last_fast_cycle = 0


def _server():
    from tracered.server import server

    return server


def active_expire_cycle_try_expire(db, de, now: int) -> bool:
    """activeExpireCycleTryExpire: delete the entry's key if its time has passed."""
    if now > de.val:
        dbmod.delete_expired_key_and_propagate(db, de.key)
        return True
    return False


@probe("activeExpireCycle")
def active_expire_cycle(cycle_type: int) -> None:
    """activeExpireCycle: sample expiring keys db by db within a time budget."""
    srv = _server()
    effort = srv.active_expire_effort - 1
    keys_per_loop = ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP + ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP // 4 \
        * effort
    fast_duration = ACTIVE_EXPIRE_CYCLE_FAST_DURATION + ACTIVE_EXPIRE_CYCLE_FAST_DURATION // 4 \
        * effort
    slow_time_perc = ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC + 2 * effort
    acceptable_stale = ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE - effort

    st = _CycleState
    start = time.perf_counter_ns() // 1000
    if srv.client_pause_type != 0:
        return  # a paused dataset must not change
    if cycle_type == ACTIVE_EXPIRE_CYCLE_FAST:
        if not st.timelimit_exit and srv.stat_expired_stale_perc < acceptable_stale:
            return
        if start < st.last_fast_cycle + fast_duration * 2:
            return
        st.last_fast_cycle = start

    dbs_per_call = min(dbmod.CRON_DBS_PER_CALL, srv.databases)
    if st.timelimit_exit:
        dbs_per_call = srv.databases
    timelimit = slow_time_perc * 1_000_000 // max(1, srv.hz_current) // 100
    st.timelimit_exit = False
    if timelimit <= 0:
        timelimit = 1
    if cycle_type == ACTIVE_EXPIRE_CYCLE_FAST:
        timelimit = fast_duration

    total_sampled = total_expired = 0
    iteration = 0
    for _ in range(dbs_per_call):
        if st.timelimit_exit:
            break
        db = srv.db[st.current_db % srv.databases]
        st.current_db += 1
        while True:
            iteration += 1
            expires = db.expires
            num = len(expires)
            if num == 0:
                db.avg_ttl = 0
                break
            slots = expires.slots()
            now = int(time.time() * 1000)
            # Less than 1% of buckets used: sampling would mostly hit empty buckets, and the
            # table will be shrunk by databasesCron soon anyway.
            if slots > DICT_HT_INITIAL_SIZE and num * 100 // slots < 1:
                break
            expired = sampled = 0
            ttl_sum = ttl_samples = 0
            num = min(num, keys_per_loop)
            max_buckets = num * 20
            checked = 0
            while sampled < num and checked < max_buckets:
                for table in (0, 1):
                    if table == 1 and expires.rehashidx == -1:
                        break
                    ht = expires.ht_table[table]
                    if ht is None:
                        continue
                    idx = db.expires_cursor & (len(ht) - 1)
                    de = ht[idx]
                    checked += 1
                    while de is not None:
                        e = de
                        de = de.next
                        ttl = e.val - now
                        if active_expire_cycle_try_expire(db, e, now):
                            expired += 1
                        if ttl > 0:
                            ttl_sum += ttl
                            ttl_samples += 1
                        sampled += 1
                db.expires_cursor += 1
            total_expired += expired
            total_sampled += sampled
            if ttl_samples:
                avg = ttl_sum // ttl_samples
                if db.avg_ttl == 0:
                    db.avg_ttl = avg
                db.avg_ttl = (db.avg_ttl // 50) * 49 + avg // 50
            if iteration & 0xF == 0:
                if time.perf_counter_ns() // 1000 - start > timelimit:
                    st.timelimit_exit = True
                    srv.stat_expired_time_cap_reached_count += 1
                    break
            if not (sampled == 0 or expired * 100 // sampled > acceptable_stale):
                break
    elapsed = time.perf_counter_ns() // 1000 - start
    srv.stat_expire_cycle_time_used += elapsed
    perc = total_expired / total_sampled if total_sampled else 0.0
    srv.stat_expired_stale_perc = perc * 0.05 + srv.stat_expired_stale_perc * 0.95


def _before_sleep_fast_cycle(srv) -> None:
    """beforeSleep's ``activeExpireCycle(ACTIVE_EXPIRE_CYCLE_FAST)``: a short (1 ms) extra
    pass when the last slow cycle ran out of time or many sampled keys were stale.  The
    cheap half of the fast cycle's entry test is done here, since this runs before every
    poll of the event loop."""
    if not srv.active_expire_enabled or srv.masterhost is not None:
        return
    if not _CycleState.timelimit_exit and srv.stat_expired_stale_perc < \
            ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE - (srv.active_expire_effort - 1):
        return
    active_expire_cycle(ACTIVE_EXPIRE_CYCLE_FAST)


def init(srv) -> None:
    """Called once at startup: arm the fast expire cycle in beforeSleep."""
    if _before_sleep_fast_cycle not in srv.before_sleep_hooks:
        srv.before_sleep_hooks.append(_before_sleep_fast_cycle)


# --------------------------------------------------------------------------------------------
# Expires of keys created in writable replicas
# --------------------------------------------------------------------------------------------

def expire_slave_keys() -> None:
    """expireSlaveKeys: on a writable replica, keys given a TTL locally expire locally.
    Divergence: tracered does not track replica-local TTLs yet, so this does nothing more
    than Redis does with no such keys."""
    return None


def flush_slave_keys_with_expire_list() -> None:
    """flushSlaveKeysWithExpireList: nothing is tracked (see expire_slave_keys)."""
    return None


def check_already_expired(when: int) -> bool:
    """checkAlreadyExpired: a TTL in the past deletes the key at once, except while
    loading (the AOF must rebuild the same keys) and on a replica (which waits for the
    master's DEL)."""
    srv = _server()
    return when <= time.time_ns() // 1_000_000 and not srv.loading and srv.masterhost is None


# --------------------------------------------------------------------------------------------
# Expires commands
# --------------------------------------------------------------------------------------------

EXPIRE_NX = 1 << 0
EXPIRE_XX = 1 << 1
EXPIRE_GT = 1 << 2
EXPIRE_LT = 1 << 3

UNIT_SECONDS = 0
UNIT_MILLISECONDS = 1

LLONG_MAX = (1 << 63) - 1
LLONG_MIN = -(1 << 63)
# C's LLONG_MAX / 1000 and LLONG_MIN / 1000 (division truncates toward zero).
_SEC_MAX = LLONG_MAX // 1000
_SEC_MIN = -(-LLONG_MIN // 1000)

_OPTS = {b"nx": EXPIRE_NX, b"xx": EXPIRE_XX, b"gt": EXPIRE_GT, b"lt": EXPIRE_LT}


def parse_extended_expire_arguments_or_reply(c) -> int | None:
    """parseExtendedExpireArgumentsOrReply: NX | XX | GT | LT after key and time."""
    flags = 0
    for opt in c.argv[3:]:
        f = _OPTS.get(opt.lower())
        if f is None:
            net.add_reply_error(c, "Unsupported option %s"
                                % opt.decode("utf-8", "surrogateescape"))
            return None
        flags |= f
    if flags & EXPIRE_NX and flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT):
        net.add_reply_error(c, "-ERR NX and XX, GT or LT options at the same time are not "
                               "compatible")
        return None
    if flags & EXPIRE_GT and flags & EXPIRE_LT:
        net.add_reply_error(c, "-ERR GT and LT options at the same time are not compatible")
        return None
    return flags


def _rewrite_client_command_vector(c, argv: list[bytes]) -> None:
    """rewriteClientCommandVector: make argv what call() propagates for this command.
    t_string.py owns the shared helper; this fallback (argv and the command it names, as
    Redis does) only runs if that module is absent."""
    try:
        from tracered.t_string import rewrite_client_command_vector
    except ImportError:
        from tracered.commands import lookup_command_by_name

        c.argv = argv
        newcmd = lookup_command_by_name(argv[0])
        if newcmd is not None:
            c.cmd = newcmd
        return
    rewrite_client_command_vector(c, argv)


def expire_generic_command(c, basetime: int, unit: int) -> None:
    """expireGenericCommand: EXPIRE / PEXPIRE (basetime = now) and EXPIREAT / PEXPIREAT
    (basetime 0).  Replies 1 when the TTL was set (or the key deleted because the time
    is already past), 0 when the key is missing or NX/XX/GT/LT refused."""
    srv = _server()
    flags = parse_extended_expire_arguments_or_reply(c)
    if flags is None:
        return
    argv = c.argv
    key = argv[1]
    when = dbmod.get_long_long_from_object_or_reply(c, argv[2])
    if when is None:
        return
    # Negative times are allowed, but the unit conversion and the addition of basetime
    # must stay within a long long, as in C.
    if unit == UNIT_SECONDS:
        if when > _SEC_MAX or when < _SEC_MIN:
            net.add_reply_error(c, shared.INVALID_EXPIRE % c.cmd.fullname)
            return
        when *= 1000
    if when > LLONG_MAX - basetime:
        net.add_reply_error(c, shared.INVALID_EXPIRE % c.cmd.fullname)
        return
    when += basetime

    db = c.db
    if dbmod.lookup_key_write(db, key) is None:
        net.add_reply(c, shared.czero)
        return
    if flags:
        current = dbmod.get_expire(db, key)
        if flags & EXPIRE_NX and current != -1:
            net.add_reply(c, shared.czero)
            return
        if flags & EXPIRE_XX and current == -1:
            net.add_reply(c, shared.czero)
            return
        # No TTL counts as an infinite one: GT never beats it, LT always does.
        if flags & EXPIRE_GT and (when <= current or current == -1):
            net.add_reply(c, shared.czero)
            return
        if flags & EXPIRE_LT and current != -1 and when >= current:
            net.add_reply(c, shared.czero)
            return

    if check_already_expired(when):
        lazy = srv.lazyfree_lazy_expire
        dbmod.db_delete(db, key)
        srv.dirty += 1
        _rewrite_client_command_vector(c, [b"UNLINK" if lazy else b"DEL", key])
        dbmod.signal_modified_key(c, db, key)
        if srv.notify_keyspace_events:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, db.id)
        net.add_reply(c, shared.cone)
        return
    dbmod.set_expire(c, db, key, when)
    net.add_reply(c, shared.cone)
    if c.cmd.name != "pexpireat":
        newargv = list(argv)
        newargv[0] = b"PEXPIREAT"
        if basetime != 0 or unit == UNIT_SECONDS:
            newargv[2] = b"%d" % when
        _rewrite_client_command_vector(c, newargv)
    dbmod.signal_modified_key(c, db, key)
    if srv.notify_keyspace_events:
        dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "expire", key, db.id)
    srv.dirty += 1


def _mstime() -> int:
    return time.time_ns() // 1_000_000


def expire_command(c) -> None:
    """EXPIRE key seconds [NX|XX|GT|LT]."""
    expire_generic_command(c, _mstime(), UNIT_SECONDS)


def expireat_command(c) -> None:
    """EXPIREAT key unix-time-seconds [NX|XX|GT|LT]."""
    expire_generic_command(c, 0, UNIT_SECONDS)


def pexpire_command(c) -> None:
    """PEXPIRE key milliseconds [NX|XX|GT|LT]."""
    expire_generic_command(c, _mstime(), UNIT_MILLISECONDS)


def pexpireat_command(c) -> None:
    """PEXPIREAT key unix-time-milliseconds [NX|XX|GT|LT]."""
    expire_generic_command(c, 0, UNIT_MILLISECONDS)


def ttl_generic_command(c, output_ms: bool, output_abs: bool) -> None:
    """ttlGenericCommand: -2 for a missing key, -1 without TTL, else the remaining time
    (TTL/PTTL, never negative; seconds are rounded) or the absolute expiry
    (EXPIRETIME/PEXPIRETIME)."""
    db = c.db
    key = c.argv[1]
    if dbmod.lookup_key(db, key, dbmod.LOOKUP_NOTOUCH) is None:
        net.add_reply_long_long(c, -2)
        return
    expire = dbmod.get_expire(db, key)
    if expire == -1:
        net.add_reply_long_long(c, -1)
        return
    ttl = expire if output_abs else expire - _mstime()
    if ttl < 0:
        ttl = 0
    net.add_reply_long_long(c, ttl if output_ms else (ttl + 500) // 1000)


def ttl_command(c) -> None:
    ttl_generic_command(c, False, False)


def pttl_command(c) -> None:
    ttl_generic_command(c, True, False)


def expiretime_command(c) -> None:
    ttl_generic_command(c, False, True)


def pexpiretime_command(c) -> None:
    ttl_generic_command(c, True, True)


def persist_command(c) -> None:
    """PERSIST key: 1 if a TTL was removed."""
    srv = _server()
    db = c.db
    key = c.argv[1]
    if dbmod.lookup_key_write(db, key) is not None and dbmod.remove_expire(db, key):
        dbmod.signal_modified_key(c, db, key)
        if srv.notify_keyspace_events:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "persist", key, db.id)
        net.add_reply(c, shared.cone)
        srv.dirty += 1
        return
    net.add_reply(c, shared.czero)


def touch_command(c) -> None:
    """TOUCH key [key ...]: a read lookup of each (updates LRU/LFU); how many exist."""
    db = c.db
    touched = 0
    for key in c.argv[1:]:
        if dbmod.lookup_key_read(db, key) is not None:
            touched += 1
    net.add_reply_long_long(c, touched)


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

_EXPIRE_HISTORY = [("7.0.0", "Added options: `NX`, `XX`, `GT` and `LT`.")]
_TTL_HISTORY = [("2.8.0", "Added the -2 reply.")]


def _rw_update() -> list[KeySpec]:
    return [KeySpec("RW UPDATE", 1)]


def _ro_access() -> list[KeySpec]:
    return [KeySpec("RO ACCESS", 1)]


def _h(c, history):
    c.history = list(history)
    return c


COMMANDS = [
    _h(cmd("expire", expire_command, -3, "write fast", keys=(1, 1, 1), acl="keyspace",
           key_specs=_rw_update(), summary="Set a key's time to live in seconds",
           args="key seconds [NX|XX|GT|LT]"), _EXPIRE_HISTORY),
    _h(cmd("pexpire", pexpire_command, -3, "write fast", keys=(1, 1, 1), acl="keyspace",
           key_specs=_rw_update(), since="2.6.0",
           summary="Set a key's time to live in milliseconds",
           args="key milliseconds [NX|XX|GT|LT]"), _EXPIRE_HISTORY),
    _h(cmd("expireat", expireat_command, -3, "write fast", keys=(1, 1, 1), acl="keyspace",
           key_specs=_rw_update(), since="1.2.0",
           summary="Set the expiration for a key as a UNIX timestamp",
           args="key unix-time-seconds [NX|XX|GT|LT]"), _EXPIRE_HISTORY),
    _h(cmd("pexpireat", pexpireat_command, -3, "write fast", keys=(1, 1, 1), acl="keyspace",
           key_specs=_rw_update(), since="2.6.0",
           summary="Set the expiration for a key as a UNIX timestamp specified in "
                   "milliseconds",
           args="key unix-time-milliseconds [NX|XX|GT|LT]"), _EXPIRE_HISTORY),
    _h(cmd("ttl", ttl_command, 2, "readonly fast", keys=(1, 1, 1), acl="keyspace",
           key_specs=_ro_access(), summary="Get the time to live for a key in seconds",
           args="key", tips="nondeterministic_output"), _TTL_HISTORY),
    _h(cmd("pttl", pttl_command, 2, "readonly fast", keys=(1, 1, 1), acl="keyspace",
           key_specs=_ro_access(), since="2.6.0",
           summary="Get the time to live for a key in milliseconds", args="key",
           tips="nondeterministic_output"), _TTL_HISTORY),
    cmd("expiretime", expiretime_command, 2, "readonly fast", keys=(1, 1, 1), acl="keyspace",
        key_specs=_ro_access(), since="7.0.0",
        summary="Get the expiration Unix timestamp for a key", args="key"),
    cmd("pexpiretime", pexpiretime_command, 2, "readonly fast", keys=(1, 1, 1),
        acl="keyspace", key_specs=_ro_access(), since="7.0.0",
        summary="Get the expiration Unix timestamp for a key in milliseconds", args="key"),
    cmd("persist", persist_command, 2, "write fast", keys=(1, 1, 1), acl="keyspace",
        key_specs=_rw_update(), since="2.2.0", summary="Remove the expiration from a key",
        args="key"),
    cmd("touch", touch_command, -2, "readonly fast", keys=(1, -1, 1), acl="keyspace",
        key_specs=[KeySpec("RO", 1, lastkey=-1)], since="3.2.1",
        complexity="O(N) where N is the number of keys that will be touched.",
        summary="Alters the last access time of a key(s). Returns the number of existing "
                "keys specified.", args="key [key ...]",
        tips="request_policy:multi_shard response_policy:agg_sum"),
]
