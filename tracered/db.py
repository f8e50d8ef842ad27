"""The keyspace: the mirror of db.c.

Each of the 16 databases is a :class:`RedisDb` holding two :class:`~tracered.dict.Dict`
tables, like Redis: ``dict`` (key -> robj) and ``expires`` (key -> absolute unix time in ms).
Keys are ``bytes`` (Redis: sds); values are :class:`~tracered.object.RObj`.

Low-level API used by every command family (names as in db.c):
lookup_key / lookup_key_read / lookup_key_write, db_add, db_overwrite, set_key,
db_delete, set_expire, get_expire, remove_expire, expire_if_needed, signal_modified_key,
notify_keyspace_event.

The second half holds db.c's type-agnostic keyspace commands, in db.c's order: FLUSHDB
FLUSHALL DEL UNLINK EXISTS RANDOMKEY KEYS SCAN DBSIZE TYPE RENAME RENAMENX MOVE COPY SWAPDB
(SELECT lives in server_cmds.py).  ``scan_generic_command`` is scanGenericCommand, shared
with HSCAN/SSCAN/ZSCAN: a type module registers in ``scan_funcs`` how to walk its values.

Divergence: no lazyfree thread.  UNLINK, FLUSHALL ASYNC and lazyfree-lazy-* deletes free
at once (Python frees memory when the last reference goes); the replies and the propagated
commands (UNLINK vs DEL) are Redis's.

Divergence: KEYS builds its whole reply before queueing it, so Redis's check for a client
closed by output-buffer limits in the middle of the loop has nothing to stop.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from tracered import dict as dictmod
from tracered import networking as net
from tracered import object as obj
from tracered import shared, util
from tracered.commands import KeySpec, cmd
from tracered.trace import probes
from tracered.trace.probes import probe

LOOKUP_NONE = 0
LOOKUP_NOTOUCH = 1 << 0
LOOKUP_NONOTIFY = 1 << 1
LOOKUP_NOSTATS = 1 << 2
LOOKUP_WRITE = 1 << 3
LOOKUP_NOEXPIRE = 1 << 4

EXPIRE_FORCE_DELETE_EXPIRED = 1
EXPIRE_AVOID_DELETE_EXPIRED = 2

SETKEY_KEEPTTL = 1
SETKEY_NO_SIGNAL = 2
SETKEY_ALREADY_EXIST = 4
SETKEY_DOESNT_EXIST = 8

server = None  # the Server, set below on import of tracered.server (avoids an import cycle)


_evict_mod = None


def _evict():
    """evict.py, imported on first use (it imports this module)."""
    global _evict_mod
    if _evict_mod is None:
        from tracered import evict

        _evict_mod = evict
    return _evict_mod


def _srv():
    global server
    if server is None:
        from tracered.server import server as s

        server = s
    return server


class RedisDb:
    """redisDb."""

    __slots__ = ("dict", "expires", "blocking_keys", "ready_keys", "watched_keys", "id",
                 "avg_ttl", "expires_cursor")

    def __init__(self, dbid: int) -> None:
        self.dict = dictmod.Dict()
        self.expires = dictmod.Dict()
        self.blocking_keys: dict[bytes, list] = {}
        self.ready_keys: set[bytes] = set()
        self.watched_keys: dict[bytes, list] = {}
        self.id = dbid
        self.avg_ttl = 0
        self.expires_cursor = 0

    def __repr__(self) -> str:
        return f"<db {self.id} keys={len(self.dict)} expires={len(self.expires)}>"


# --------------------------------------------------------------------------------------------
# Lookup
# --------------------------------------------------------------------------------------------

@probe("lookupKey")
def lookup_key(db: RedisDb, key: bytes, flags: int = LOOKUP_NONE) -> obj.RObj | None:
    """lookupKey: the value, or None if missing or logically expired (deleting it when this
    node may), updating the LRU/LFU clock and the hit/miss stats."""
    de = db.dict.find(key)
    srv = server or _srv()
    if de is not None:
        val = de.val
        if db.expires.ht_used[0] or db.expires.ht_used[1]:
            ef = 0
            if flags & LOOKUP_WRITE and not (srv.masterhost and srv.replica_read_only):
                ef |= EXPIRE_FORCE_DELETE_EXPIRED
            if flags & LOOKUP_NOEXPIRE:
                ef |= EXPIRE_AVOID_DELETE_EXPIRED
            if expire_if_needed(db, key, ef):
                val = None
    else:
        val = None
    if val is not None:
        if not flags & LOOKUP_NOTOUCH and srv.child_pid == -1:
            if obj.lfu_mode:
                _evict().update_lfu(val)
            else:
                val.lru = obj.lru_clock
        if not flags & (LOOKUP_NOSTATS | LOOKUP_WRITE):
            srv.stat_keyspace_hits += 1
    else:
        if not flags & (LOOKUP_NONOTIFY | LOOKUP_WRITE) and srv.notify_keyspace_events:
            notify_keyspace_event(NOTIFY_KEY_MISS, "keymiss", key, db.id)
        if not flags & (LOOKUP_NOSTATS | LOOKUP_WRITE):
            srv.stat_keyspace_misses += 1
    return val


def lookup_key_read(db: RedisDb, key: bytes) -> obj.RObj | None:
    return lookup_key(db, key, LOOKUP_NONE)


def lookup_key_read_with_flags(db: RedisDb, key: bytes, flags: int) -> obj.RObj | None:
    return lookup_key(db, key, flags)


def lookup_key_write(db: RedisDb, key: bytes) -> obj.RObj | None:
    return lookup_key(db, key, LOOKUP_WRITE)


def lookup_key_write_with_flags(db: RedisDb, key: bytes, flags: int) -> obj.RObj | None:
    return lookup_key(db, key, flags | LOOKUP_WRITE)


def lookup_key_read_or_reply(c, key: bytes, reply: bytes) -> obj.RObj | None:
    o = lookup_key(c.db, key, LOOKUP_NONE)
    if o is None:
        _reply_or_error(c, reply)
    return o


def lookup_key_write_or_reply(c, key: bytes, reply: bytes) -> obj.RObj | None:
    o = lookup_key(c.db, key, LOOKUP_WRITE)
    if o is None:
        _reply_or_error(c, reply)
    return o


def _reply_or_error(c, reply: bytes) -> None:
    if reply[:1] == b"-":
        net.add_reply_error_object(c, reply)
    else:
        net.add_reply(c, reply)


def check_type(c, o: obj.RObj | None, type_: int) -> bool:
    """checkType: True (and a WRONGTYPE reply) when o exists with another type."""
    if o is not None and o.type != type_:
        net.add_reply_error_object(c, shared.wrongtypeerr)
        return True
    return False


# --------------------------------------------------------------------------------------------
# Add, overwrite, delete
# --------------------------------------------------------------------------------------------

@probe("dbAdd")
def db_add(db: RedisDb, key: bytes, val: obj.RObj) -> None:
    """dbAdd: the key must not exist.  Wakes clients blocked on the key (lists, zsets)."""
    entry, existing = db.dict.add_raw(key)
    if entry is None:
        raise AssertionError(f"dbAdd on existing key {key!r}")
    entry.val = val
    if db.blocking_keys:
        signal_key_as_ready(db, key, val.type)
    srv = server or _srv()
    if srv.notify_keyspace_events:
        notify_keyspace_event(NOTIFY_NEW, "new", key, db.id)


def db_overwrite(db: RedisDb, key: bytes, val: obj.RObj) -> None:
    """dbOverwrite: replace the value of an existing key, keeping its TTL and, in LFU mode,
    its access frequency."""
    de = db.dict.find(key)
    if de is None:
        raise AssertionError(f"dbOverwrite on missing key {key!r}")
    old = de.val
    srv = server or _srv()
    if srv.maxmemory_policy.endswith("lfu") and val.refcount != obj.OBJ_SHARED_REFCOUNT:
        val.lru = old.lru
    if old.type == obj.OBJ_STREAM and db.blocking_keys:
        # An overwrite unlinks the stream: its XREADGROUP waiters must learn it is gone.
        signal_key_as_ready(db, key, obj.OBJ_STREAM)
    de.val = val


def set_key(c, db: RedisDb, key: bytes, val: obj.RObj, flags: int = 0) -> None:
    """setKey: add or overwrite; the TTL is dropped unless KEEPTTL."""
    if flags & SETKEY_ALREADY_EXIST:
        exists = True
    elif flags & SETKEY_DOESNT_EXIST:
        exists = False
    else:
        exists = lookup_key_write(db, key) is not None
    if not exists:
        db_add(db, key, val)
    else:
        db_overwrite(db, key, val)
    if not flags & SETKEY_KEEPTTL and exists:
        remove_expire(db, key)
    if not flags & SETKEY_NO_SIGNAL:
        signal_modified_key(c, db, key)


def db_exists(db: RedisDb, key: bytes) -> bool:
    return db.dict.find(key) is not None


def db_delete(db: RedisDb, key: bytes) -> bool:
    """dbSyncDelete / dbGenericDelete: remove key and its expire."""
    if db.expires.ht_used[0] or db.expires.ht_used[1]:
        db.expires.delete(key)
    de = db.dict.unlink(key)
    if de is None:
        return False
    if de.val.type == obj.OBJ_STREAM and db.blocking_keys:
        # A client blocked in XREADGROUP on this key must learn that the stream is gone.
        signal_key_as_ready(db, key, obj.OBJ_STREAM)
    db.dict.free_unlinked_entry(de)
    return True


db_sync_delete = db_delete
db_async_delete = db_delete  # Divergence: no lazyfree thread; UNLINK frees at once.


EMPTYDB_NO_FLAGS = 0
EMPTYDB_ASYNC = 1 << 0
EMPTYDB_NOFUNCTIONS = 1 << 1


def empty_data(dbnum: int = -1, callback=None, flags: int = EMPTYDB_NO_FLAGS) -> int:
    """emptyData: FLUSHALL (dbnum -1) or FLUSHDB; returns the number of keys removed, or -1
    when dbnum is out of range.

    WATCHers of the flushed keys are told first (signalFlushedDb), while the keys still
    exist.  Divergence: the tables are replaced by fresh ones instead of being emptied
    bucket by bucket (dictEmpty): dropping the last reference frees them in C, far faster
    than a Python loop over every entry; ``callback`` (progress while loading) is unused.
    """
    srv = server or _srv()
    if dbnum < -1 or dbnum >= srv.databases:
        return -1
    signal_flushed_db(dbnum, bool(flags & EMPTYDB_ASYNC))
    removed = 0
    targets = srv.db if dbnum == -1 else [srv.db[dbnum]]
    for db in targets:
        removed += len(db.dict)
        db.dict = dictmod.Dict()
        db.expires = dictmod.Dict()
        db.avg_ttl = 0
        db.expires_cursor = 0
    if dbnum == -1:
        from tracered import expire

        expire.flush_slave_keys_with_expire_list()
    return removed


# --------------------------------------------------------------------------------------------
# Expires
# --------------------------------------------------------------------------------------------

def set_expire(c, db: RedisDb, key: bytes, when: int) -> None:
    """setExpire: ``when`` is an absolute unix time in milliseconds."""
    kde = db.dict.find(key)
    if kde is None:
        raise AssertionError("setExpire on missing key")
    # Divergence: Redis shares the key sds between the two dicts; Python shares the bytes.
    db.expires.replace(kde.key, when)


def get_expire(db: RedisDb, key: bytes) -> int:
    """getExpire: the absolute ms unix time, or -1 when the key has no TTL."""
    e = db.expires
    if not (e.ht_used[0] or e.ht_used[1]):
        return -1
    de = e.find(key)
    return -1 if de is None else de.val


def remove_expire(db: RedisDb, key: bytes) -> bool:
    e = db.expires
    if not (e.ht_used[0] or e.ht_used[1]):
        return False
    return e.delete(key)


def key_is_expired(db: RedisDb, key: bytes) -> bool:
    """keyIsExpired: inside a command the clock is the one cached when call() started
    (server.mstime, under fixed_time_expire), so a command that opens the same key twice
    sees it either alive both times or expired both times; elsewhere (cron, timers) it is
    the real clock."""
    srv = server or _srv()
    when = get_expire(db, key)
    if when < 0:
        return False
    if srv.loading:
        return False
    if srv.fixed_time_expire > 0:
        return srv.mstime > when
    return time.time_ns() // 1_000_000 > when


def expire_if_needed(db: RedisDb, key: bytes, flags: int = 0) -> bool:
    """expireIfNeeded: True if the key is (logically) expired; on a master it is deleted and
    a DEL is propagated."""
    if not key_is_expired(db, key):
        return False
    srv = server or _srv()
    if srv.masterhost is not None:
        if srv.current_client is not None and srv.current_client is srv.master:
            return False
        if not flags & EXPIRE_FORCE_DELETE_EXPIRED:
            return True
    if flags & EXPIRE_AVOID_DELETE_EXPIRED:
        return True
    if srv.client_pause_type != 0:
        return True
    delete_expired_key_and_propagate(db, key)
    return True


def delete_expired_key_and_propagate(db: RedisDb, key: bytes) -> None:
    """deleteExpiredKeyAndPropagate: delete, count, notify 'expired', propagate DEL."""
    from tracered import server as server_module

    srv = server or _srv()
    db_delete(db, key)
    srv.stat_expiredkeys += 1
    if probes.armed:
        probes.event("lazy.expire", {"redis.key": key.decode("utf-8", "replace"),
                                     "db.namespace": str(db.id)})
    if srv.notify_keyspace_events:
        notify_keyspace_event(NOTIFY_EXPIRED, "expired", key, db.id)
    signal_modified_key(None, db, key)
    propagate_deletion(db, key, srv.lazyfree_lazy_expire)
    del server_module


def propagate_deletion(db: RedisDb, key: bytes, lazy: bool) -> None:
    """propagateDeletion: expired/evicted keys reach replicas and the AOF as DEL/UNLINK."""
    from tracered import server as server_module

    server_module.also_propagate(db.id, [b"UNLINK" if lazy else b"DEL", key],
                                 server_module.PROPAGATE_AOF | server_module.PROPAGATE_REPL)
    srv = server or _srv()
    if srv.in_nested_call == 0 and srv.also_propagate:
        server_module.propagate_pending_commands()


# --------------------------------------------------------------------------------------------
# Signals: WATCH, blocked clients, keyspace notifications
# --------------------------------------------------------------------------------------------

signal_modified_key_hooks: list = []   # fn(c, db, key): client-side caching (tracking)
touch_watched_key_hook = None          # multi.py installs touchWatchedKey(db, key)
signal_key_as_ready_hook = None        # blocked.py
# multi.py installs touchAllWatchedKeysInDb(emptied, replaced_with): flag the WATCHers of
# every watched key of `emptied` that exists in it (or in `replaced_with`, for SWAPDB).
touch_all_watched_keys_in_db_hook = None
# fn(dbid, async_) after a flush (client-side caching: trackingInvalidateKeysOnFlush).
signal_flushed_db_hooks: list = []


def signal_modified_key(c, db: RedisDb, key: bytes) -> None:
    """signalModifiedKey: invalidate WATCH and client-side caching for this key.  Runs on
    every write, so each half costs one test when unused."""
    if db.watched_keys and touch_watched_key_hook is not None:
        touch_watched_key_hook(db, key)
    if signal_modified_key_hooks:
        for hook in signal_modified_key_hooks:
            hook(c, db, key)


def signal_flushed_db(dbid: int, async_: bool) -> None:
    """signalFlushedDb: FLUSHDB/FLUSHALL touch every watched key of the flushed dbs (and
    XREADGROUP waiters learn their stream is gone)."""
    srv = server or _srv()
    targets = srv.db if dbid == -1 else [srv.db[dbid]]
    for db in targets:
        scan_database_for_deleted_streams(db, None)
        if touch_all_watched_keys_in_db_hook is not None and db.watched_keys:
            touch_all_watched_keys_in_db_hook(db, None)
    for hook in signal_flushed_db_hooks:
        hook(dbid, async_)


def signal_key_as_ready(db: RedisDb, key: bytes, type_: int) -> None:
    """signalKeyAsReady: a client blocked on this key may be served now."""
    if signal_key_as_ready_hook is not None:
        signal_key_as_ready_hook(db, key, type_)


NOTIFY_KEYSPACE = 1 << 0
NOTIFY_KEYEVENT = 1 << 1
NOTIFY_GENERIC = 1 << 2
NOTIFY_STRING = 1 << 3
NOTIFY_LIST = 1 << 4
NOTIFY_SET = 1 << 5
NOTIFY_HASH = 1 << 6
NOTIFY_ZSET = 1 << 7
NOTIFY_EXPIRED = 1 << 8
NOTIFY_EVICTED = 1 << 9
NOTIFY_STREAM = 1 << 10
NOTIFY_KEY_MISS = 1 << 11
NOTIFY_LOADED = 1 << 12
NOTIFY_MODULE = 1 << 13
NOTIFY_NEW = 1 << 14

notify_hook = None  # notify.py installs notifyKeyspaceEvent's publisher


def notify_keyspace_event(type_: int, event: str, key: bytes, dbid: int) -> None:
    """notifyKeyspaceEvent: publish __keyspace@db__:key / __keyevent@db__:event when the
    notify-keyspace-events classes enable it (notify.py does the publishing)."""
    if notify_hook is not None:
        notify_hook(type_, event, key, dbid)


# --------------------------------------------------------------------------------------------
# databasesCron's resize/rehash half
# --------------------------------------------------------------------------------------------

CRON_DBS_PER_CALL = 16


def databases_resize_and_rehash() -> None:
    """tryResizeHashTables + incrementallyRehash: shrink sparse tables, then spend up to 1 ms
    per db rehashing (stopping after the first db that needed it, as Redis does)."""
    srv = server or _srv()
    for db in srv.db:
        for d in (db.dict, db.expires):
            if dictmod.ht_needs_resize(d):
                dictmod.dict_resize(d)
    if srv.activerehashing:
        for db in srv.db:
            if db.dict.rehashidx != -1:
                dictmod.dict_rehash_milliseconds(db.dict, 1)
                break
            if db.expires.rehashidx != -1:
                dictmod.dict_rehash_milliseconds(db.expires, 1)
                break


# --------------------------------------------------------------------------------------------
# Type agnostic commands operating on the key space
# --------------------------------------------------------------------------------------------

# add_reply_error reads an upper-case first word as an error code ("DB index ..." would go
# out as "-DB index ..."); an explicit "-ERR " keeps Redis's "-ERR DB index ...".
_ERR_DB_RANGE = "-ERR " + shared.DB_INDEX_OUT_OF_RANGE

INT_MIN = -(1 << 31)
INT_MAX = (1 << 31) - 1
ULONG_MAX = (1 << 64) - 1


def get_long_long_from_object_or_reply(c, arg: bytes, msg: str | None = None) -> int | None:
    """getLongLongFromObjectOrReply for an argument: strict int64 (string2ll), else an
    error reply and None."""
    v = util.string2ll(arg)
    if v is None:
        net.add_reply_error(c, msg or shared.NOT_INTEGER)
    return v


def get_range_long_from_object_or_reply(c, arg: bytes, lo: int, hi: int,
                                        msg: str | None = None) -> int | None:
    """getRangeLongFromObjectOrReply."""
    v = get_long_long_from_object_or_reply(c, arg, msg)
    if v is None:
        return None
    if v < lo or v > hi:
        net.add_reply_error(c, msg or "value is out of range, value must between %d and %d"
                            % (lo, hi))
        return None
    return v


def get_int_from_object_or_reply(c, arg: bytes, msg: str | None = None) -> int | None:
    """getIntFromObjectOrReply: a C int (32 bits)."""
    return get_range_long_from_object_or_reply(c, arg, INT_MIN, INT_MAX, msg)


def select_db(c, dbid: int) -> bool:
    """selectDb: point the client at database ``dbid``; False when out of range."""
    srv = server or _srv()
    if dbid < 0 or dbid >= srv.databases:
        return False
    c.db = srv.db[dbid]
    return True


def get_flush_command_flags(c) -> int | None:
    """getFlushCommandFlags: [ASYNC|SYNC]; with neither, lazyfree-lazy-user-flush decides."""
    argv = c.argv
    if len(argv) == 2:
        opt = argv[1].lower()
        if opt == b"sync":
            return EMPTYDB_NO_FLAGS
        if opt == b"async":
            return EMPTYDB_ASYNC
    elif len(argv) == 1:
        srv = server or _srv()
        return EMPTYDB_ASYNC if srv.lazyfree_lazy_user_flush else EMPTYDB_NO_FLAGS
    net.add_reply_error_object(c, shared.syntaxerr)
    return None


def force_command_propagation(c, flags: int) -> None:
    """forceCommandPropagation: propagate this command even if it changed nothing (a
    FLUSHALL on an empty server must still reach replicas and the AOF)."""
    from tracered import server as server_module

    if flags & server_module.PROPAGATE_REPL:
        c.flags |= net.CLIENT_FORCE_REPL
    if flags & server_module.PROPAGATE_AOF:
        c.flags |= net.CLIENT_FORCE_AOF


# fn(flags) run by FLUSHALL after the data is gone: rdb.py kills a saving child and, with
# save points configured, writes the now empty dataset (flushAllDataAndResetRDB).
flush_all_hooks: list = []


def flush_all_data_and_reset_rdb(flags: int) -> None:
    """flushAllDataAndResetRDB."""
    srv = server or _srv()
    srv.dirty += empty_data(-1, None, flags)
    for hook in flush_all_hooks:
        hook(flags)


def flushdb_command(c) -> None:
    """FLUSHDB [ASYNC|SYNC]."""
    flags = get_flush_command_flags(c)
    if flags is None:
        return
    srv = server or _srv()
    from tracered import server as server_module

    srv.dirty += empty_data(c.db.id, None, flags | EMPTYDB_NOFUNCTIONS)
    force_command_propagation(c, server_module.PROPAGATE_REPL | server_module.PROPAGATE_AOF)
    net.add_reply(c, shared.ok)


def flushall_command(c) -> None:
    """FLUSHALL [ASYNC|SYNC]."""
    flags = get_flush_command_flags(c)
    if flags is None:
        return
    from tracered import server as server_module

    flush_all_data_and_reset_rdb(flags | EMPTYDB_NOFUNCTIONS)
    force_command_propagation(c, server_module.PROPAGATE_REPL | server_module.PROPAGATE_AOF)
    net.add_reply(c, shared.ok)


def del_generic_command(c, lazy: bool) -> None:
    """delGenericCommand: DEL and UNLINK.  An expired key is expired first (so the
    'expired' event and its propagated DEL come out), then does not count."""
    srv = server or _srv()
    db = c.db
    numdel = 0
    notify = srv.notify_keyspace_events
    has_expires = db.expires.ht_used[0] or db.expires.ht_used[1]
    for key in c.argv[1:]:
        if has_expires:
            expire_if_needed(db, key, 0)
        if db_delete(db, key):
            signal_modified_key(c, db, key)
            if notify:
                notify_keyspace_event(NOTIFY_GENERIC, "del", key, db.id)
            srv.dirty += 1
            numdel += 1
    net.add_reply_long_long(c, numdel)


def del_command(c) -> None:
    srv = server or _srv()
    del_generic_command(c, srv.lazyfree_lazy_user_del)


def unlink_command(c) -> None:
    del_generic_command(c, True)


def exists_command(c) -> None:
    """EXISTS key [key ...]: how many of the keys exist (a key named twice counts twice)."""
    db = c.db
    count = 0
    for key in c.argv[1:]:
        if lookup_key(db, key, LOOKUP_NOTOUCH) is not None:
            count += 1
    net.add_reply_long_long(c, count)


def db_random_key(db: RedisDb) -> bytes | None:
    """dbRandomKey: a fair random key that is not expired (expired ones met on the way are
    deleted).  On a replica nothing is deleted, so a db whose keys are all volatile and all
    logically expired would loop forever: after 100 tries the key is returned anyway."""
    srv = server or _srv()
    maxtries = 100
    allvolatile = len(db.dict) == len(db.expires)
    while True:
        de = db.dict.get_fair_random_key()
        if de is None:
            return None
        key = de.key
        if db.expires.find(key) is not None:
            if allvolatile and srv.masterhost:
                maxtries -= 1
                if maxtries == 0:
                    return key
            if expire_if_needed(db, key, 0):
                continue
        return key


def randomkey_command(c) -> None:
    key = db_random_key(c.db)
    if key is None:
        net.add_reply_null(c)
        return
    net.add_reply_bulk(c, key)


def keys_command(c) -> None:
    """KEYS pattern: every key matching the glob, skipping logically expired keys (which
    are not deleted here).  ``*`` is answered without calling the matcher."""
    pattern = c.argv[1]
    allkeys = pattern == b"*"
    match = None if allkeys else util.compile_string_match(pattern)
    db = c.db
    out = []
    append = out.append
    if not (db.expires.ht_used[0] or db.expires.ht_used[1]):
        if allkeys:
            for de in db.dict.iterator(True):
                append(de.key)
        else:
            for de in db.dict.iterator(True):
                if match(de.key):
                    append(de.key)
    else:
        for de in db.dict.iterator(True):
            key = de.key
            if (allkeys or match(key)) and not key_is_expired(db, key):
                append(key)
    net.add_reply_bulk_array(c, out)


# ---- SCAN ----------------------------------------------------------------------------------

# type -> fn(o) -> (ht, pairs, x), how scan_generic_command walks a value of that type:
#   ht:    the value's Dict when it is hashtable-encoded, else None;
#   pairs: True when elements come as field/value (hash) or member/score (zset) pairs;
#   x:     with a Dict, emit(de, out) appending the 1 or 2 reply strings of one entry;
#          without, the flat list of every element (a compact encoding is small, so it is
#          returned whole with cursor 0, as Redis does for listpack and intset).
scan_funcs: dict[int, Callable] = {}


def parse_scan_cursor_or_reply(c, arg: bytes) -> int | None:
    """parseScanCursorOrReply: strtoul rules, base 10, as an unsigned 64-bit cursor.

    Like strtoul: an empty string is 0, a sign is allowed and ``-N`` wraps to 2**64-N, the
    text ends at a NUL byte; a leading space, trailing garbage or a value above 2**64-1 is
    "invalid cursor"."""
    nul = arg.find(b"\0")
    if nul >= 0:
        arg = arg[:nul]
    if not arg:
        return 0
    if arg[0] in b" \t\n\v\f\r":
        net.add_reply_error(c, "invalid cursor")
        return None
    sign = arg[0]
    digits = arg[1:] if sign in b"+-" else arg
    if not digits or not digits.isdigit() or not digits.isascii():
        net.add_reply_error(c, "invalid cursor")
        return None
    v = int(digits)
    if v > ULONG_MAX:
        net.add_reply_error(c, "invalid cursor")
        return None
    if sign == 45:  # '-'
        v = (-v) & ULONG_MAX
    return v


def _keyspace_emit(de, out: list) -> None:
    out.append(de.key)


def scan_generic_command(c, o: obj.RObj | None, cursor: int) -> None:
    """scanGenericCommand: SCAN (o None: the keyspace), HSCAN, SSCAN and ZSCAN.

    Options start after the cursor (argv[2] for SCAN, argv[3] when a key precedes it):
    COUNT n, MATCH pattern, and for SCAN only TYPE name.  A hashtable is walked with
    Dict.scan until COUNT elements are collected, the cursor wraps to 0, or COUNT*10
    buckets were visited (so a sparse table cannot stall the server); then elements are
    filtered by MATCH, TYPE and expiry.  Only the filtering can drop elements, which is why
    a call may return fewer than COUNT, or none, with a non-zero cursor."""
    argv = c.argv
    argc = len(argv)
    count = 10
    pat = None
    typename = None
    i = 2 if o is None else 3
    while i < argc:
        opt = argv[i].lower()
        more = argc - i
        if opt == b"count" and more >= 2:
            count = get_long_long_from_object_or_reply(c, argv[i + 1])
            if count is None:
                return
            if count < 1:
                net.add_reply_error_object(c, shared.syntaxerr)
                return
            i += 2
        elif opt == b"match" and more >= 2:
            pat = argv[i + 1]
            if pat == b"*":
                pat = None  # matches everything: same as no pattern
            i += 2
        elif opt == b"type" and o is None and more >= 2:
            typename = argv[i + 1].lower()
            i += 2
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return

    out: list[bytes] = []
    pairs = False
    if o is None:
        ht = c.db.dict
        emit = _keyspace_emit
    else:
        fn = scan_funcs.get(o.type)
        if fn is None:
            raise AssertionError(f"Not handled type in SCAN: {o.type}")
        ht, pairs, emit = fn(o)
        if ht is None:
            out = list(emit)
            cursor = 0
        elif pairs:
            count *= 2  # two reply strings per element
    if ht is not None:
        maxiterations = count * 10
        def cb(de, _emit=emit, _out=out):
            _emit(de, _out)
        while True:
            cursor = ht.scan(cursor, cb)
            if not cursor or maxiterations == 0:
                break
            maxiterations -= 1
            if len(out) >= count:
                break

    if pat is not None or typename is not None or (
            o is None and (c.db.expires.ht_used[0] or c.db.expires.ht_used[1])):
        out = _scan_filter(c, o, out, pairs, pat, typename)

    if cursor > (1 << 63) - 1:
        cursor -= 1 << 64  # Redis replies the unsigned cursor through a long long
    net.add_reply_array_len(c, 2)
    net.add_reply_bulk(c, b"%d" % cursor)
    net.add_reply_bulk_array(c, out)


def _scan_filter(c, o, items: list, pairs: bool, pat: bytes | None,
                 typename: bytes | None) -> list:
    """scanGenericCommand's step 3: drop what MATCH/TYPE reject and, for the keyspace,
    keys that turn out to be expired (expire_if_needed deletes them)."""
    match = util.compile_string_match(pat) if pat is not None else None
    db = c.db
    keyspace = o is None
    check_expire = keyspace and (db.expires.ht_used[0] or db.expires.ht_used[1])
    if not pairs:
        kept = []
        for key in items:
            if match is not None and not match(key):
                continue
            if keyspace:
                if typename is not None:
                    v = lookup_key(db, key, LOOKUP_NOTOUCH)
                    if get_object_type_name(v).encode().lower() != typename:
                        continue
                if check_expire and expire_if_needed(db, key, 0):
                    continue
            kept.append(key)
        return kept
    kept = []
    for j in range(0, len(items), 2):
        if match is not None and not match(items[j]):
            continue
        kept.append(items[j])
        kept.append(items[j + 1])
    return kept


def scan_command(c) -> None:
    """SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]."""
    cursor = parse_scan_cursor_or_reply(c, c.argv[1])
    if cursor is None:
        return
    scan_generic_command(c, None, cursor)


def dbsize_command(c) -> None:
    net.add_reply_long_long(c, len(c.db.dict))


def get_object_type_name(o: obj.RObj | None) -> str:
    """getObjectTypeName: 'none' for a missing key; a module value answers its type's name."""
    if o is None:
        return "none"
    if o.type == obj.OBJ_MODULE:
        mt = getattr(o.ptr, "type", None)
        return getattr(mt, "name", "unknown")
    return obj.TYPE_NAMES.get(o.type, "unknown")


def type_command(c) -> None:
    o = lookup_key(c.db, c.argv[1], LOOKUP_NOTOUCH)
    net.add_reply_status(c, get_object_type_name(o))


def rename_generic_command(c, nx: bool) -> None:
    """renameGenericCommand: RENAME / RENAMENX.  The TTL moves with the value; an existing
    destination is deleted first (RENAME) or makes RENAMENX answer 0.  Renaming a key to
    itself changes nothing but still needs the key to exist."""
    srv = server or _srv()
    db = c.db
    src, dst = c.argv[1], c.argv[2]
    o = lookup_key_write_or_reply(c, src, shared.nokeyerr)
    if o is None:
        return
    if src == dst:
        net.add_reply(c, shared.czero if nx else shared.ok)
        return
    expire = get_expire(db, src)
    if lookup_key_write(db, dst) is not None:
        if nx:
            net.add_reply(c, shared.czero)
            return
        db_delete(db, dst)
    db_add(db, dst, o)
    if expire != -1:
        set_expire(c, db, dst, expire)
    db_delete(db, src)
    signal_modified_key(c, db, src)
    signal_modified_key(c, db, dst)
    if srv.notify_keyspace_events:
        notify_keyspace_event(NOTIFY_GENERIC, "rename_from", src, db.id)
        notify_keyspace_event(NOTIFY_GENERIC, "rename_to", dst, db.id)
    srv.dirty += 1
    net.add_reply(c, shared.cone if nx else shared.ok)


def rename_command(c) -> None:
    rename_generic_command(c, False)


def renamenx_command(c) -> None:
    rename_generic_command(c, True)


def move_command(c) -> None:
    """MOVE key db: 1 if moved (with its TTL), 0 if missing here or present there."""
    srv = server or _srv()
    if srv.cluster_enabled:
        net.add_reply_error(c, "-ERR MOVE is not allowed in cluster mode")
        return
    src = c.db
    dbid = get_int_from_object_or_reply(c, c.argv[2])
    if dbid is None:
        return
    if dbid < 0 or dbid >= srv.databases:
        net.add_reply_error(c, _ERR_DB_RANGE)
        return
    dst = srv.db[dbid]
    if src is dst:
        net.add_reply_error_object(c, shared.sameobjecterr)
        return
    key = c.argv[1]
    o = lookup_key_write(src, key)
    if o is None:
        net.add_reply(c, shared.czero)
        return
    expire = get_expire(src, key)
    if lookup_key_write(dst, key) is not None:
        net.add_reply(c, shared.czero)
        return
    db_add(dst, key, o)
    if expire != -1:
        set_expire(c, dst, key, expire)
    db_delete(src, key)
    signal_modified_key(c, src, key)
    signal_modified_key(c, dst, key)
    if srv.notify_keyspace_events:
        notify_keyspace_event(NOTIFY_GENERIC, "move_from", key, src.id)
        notify_keyspace_event(NOTIFY_GENERIC, "move_to", key, dst.id)
    srv.dirty += 1
    net.add_reply(c, shared.cone)


def copy_command(c) -> None:
    """COPY source destination [DB db] [REPLACE]: a deep copy (obj.dup_funcs) with the
    source's TTL."""
    srv = server or _srv()
    argv = c.argv
    src = dst = c.db
    replace = False
    j = 3
    while j < len(argv):
        opt = argv[j].lower()
        if opt == b"replace":
            replace = True
        elif opt == b"db" and len(argv) - j - 1 >= 1:
            dbid = get_int_from_object_or_reply(c, argv[j + 1])
            if dbid is None:
                return
            if dbid < 0 or dbid >= srv.databases:
                net.add_reply_error(c, _ERR_DB_RANGE)
                return
            dst = srv.db[dbid]
            j += 1
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1
    if srv.cluster_enabled and (src.id != 0 or dst.id != 0):
        net.add_reply_error(c, "Copying to another database is not allowed in cluster mode")
        return
    key, newkey = argv[1], argv[2]
    if src is dst and key == newkey:
        net.add_reply_error_object(c, shared.sameobjecterr)
        return
    o = lookup_key_read(src, key)
    if o is None:
        net.add_reply(c, shared.czero)
        return
    expire = get_expire(src, key)
    delete = False
    if lookup_key_write(dst, newkey) is not None:
        if not replace:
            net.add_reply(c, shared.czero)
            return
        delete = True
    dup = obj.dup_funcs.get(o.type)
    if dup is None and o.type == obj.OBJ_STRING:
        dup = obj.dup_string_object
    if dup is None:
        net.add_reply_error(c, "unknown type object")
        return
    newobj = dup(o)
    if delete:
        db_delete(dst, newkey)
    db_add(dst, newkey, newobj)
    if expire != -1:
        set_expire(c, dst, newkey, expire)
    signal_modified_key(c, dst, newkey)
    if srv.notify_keyspace_events:
        notify_keyspace_event(NOTIFY_GENERIC, "copy_to", newkey, dst.id)
    srv.dirty += 1
    net.add_reply(c, shared.cone)


def scan_database_for_ready_keys(db: RedisDb) -> None:
    """scanDatabaseForReadyKeys: after SWAPDB, a key someone blocks on may exist now."""
    if not db.blocking_keys:
        return
    for key in list(db.blocking_keys):
        de = db.dict.find(key)
        if de is not None:
            signal_key_as_ready(db, key, de.val.type)


def scan_database_for_deleted_streams(emptied: RedisDb, replaced_with: RedisDb | None) -> None:
    """scanDatabaseForDeletedStreams: XREADGROUP waiters on a stream that a flush or swap
    makes disappear are signalled so they get their error."""
    if not emptied.blocking_keys:
        return
    for key in list(emptied.blocking_keys):
        de = emptied.dict.find(key)
        was_stream = de is not None and de.val.type == obj.OBJ_STREAM
        is_stream = False
        if replaced_with is not None:
            de2 = replaced_with.dict.find(key)
            is_stream = de2 is not None and de2.val.type == obj.OBJ_STREAM
        if was_stream and not is_stream:
            signal_key_as_ready(emptied, key, obj.OBJ_STREAM)


def db_swap_databases(id1: int, id2: int) -> bool:
    """dbSwapDatabases: exchange the contents of two dbs.  Clients hold RedisDb objects,
    so the tables are swapped, not the objects; blocking/watched keys stay with the db
    their clients selected."""
    srv = server or _srv()
    if id1 < 0 or id1 >= srv.databases or id2 < 0 or id2 >= srv.databases:
        return False
    if id1 == id2:
        return True
    db1, db2 = srv.db[id1], srv.db[id2]
    hook = touch_all_watched_keys_in_db_hook
    if hook is not None:
        if db1.watched_keys:
            hook(db1, db2)
        if db2.watched_keys:
            hook(db2, db1)
    scan_database_for_deleted_streams(db1, db2)
    scan_database_for_deleted_streams(db2, db1)
    db1.dict, db2.dict = db2.dict, db1.dict
    db1.expires, db2.expires = db2.expires, db1.expires
    db1.avg_ttl, db2.avg_ttl = db2.avg_ttl, db1.avg_ttl
    db1.expires_cursor, db2.expires_cursor = db2.expires_cursor, db1.expires_cursor
    scan_database_for_ready_keys(db1)
    scan_database_for_ready_keys(db2)
    return True


def swapdb_command(c) -> None:
    """SWAPDB index1 index2."""
    srv = server or _srv()
    if srv.cluster_enabled:
        net.add_reply_error(c, "-ERR SWAPDB is not allowed in cluster mode")
        return
    id1 = get_int_from_object_or_reply(c, c.argv[1], "invalid first DB index")
    if id1 is None:
        return
    id2 = get_int_from_object_or_reply(c, c.argv[2], "invalid second DB index")
    if id2 is None:
        return
    if not db_swap_databases(id1, id2):
        net.add_reply_error(c, _ERR_DB_RANGE)
        return
    srv.dirty += 1
    net.add_reply(c, shared.ok)


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

def _ks(flags: str, pos: int, lastkey: int = 0) -> KeySpec:
    return KeySpec(flags, pos, lastkey=lastkey)


def _with_history(c, *history: tuple[str, str]):
    c.history = list(history)
    return c


_FLUSH_HISTORY = (("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                  ("6.2.0", "Added the `SYNC` flushing mode modifier."))

COMMANDS = [
    cmd("del", del_command, -2, "write", keys=(1, -1, 1), acl="keyspace",
        key_specs=[_ks("RM DELETE", 1, -1)],
        complexity="O(N) where N is the number of keys that will be removed. When a key to "
                   "remove holds a value other than a string, the individual complexity for "
                   "this key is O(M) where M is the number of elements in the list, set, "
                   "sorted set or hash. Removing a single key that holds a string value is "
                   "O(1).",
        summary="Delete a key", args="key [key ...]",
        tips="request_policy:multi_shard response_policy:agg_sum"),
    cmd("unlink", unlink_command, -2, "write fast", keys=(1, -1, 1), acl="keyspace",
        key_specs=[_ks("RM DELETE", 1, -1)], since="4.0.0",
        complexity="O(1) for each key removed regardless of its size. Then the command does "
                   "O(N) work in a different thread in order to reclaim memory, where N is "
                   "the number of allocations the deleted objects where composed of.",
        summary="Delete a key asynchronously in another thread. Otherwise it is just as DEL, "
                "but non blocking.", args="key [key ...]",
        tips="request_policy:multi_shard response_policy:agg_sum"),
    _with_history(cmd(
        "exists", exists_command, -2, "readonly fast", keys=(1, -1, 1), acl="keyspace",
        key_specs=[_ks("RO", 1, -1)],
        complexity="O(N) where N is the number of keys to check.",
        summary="Determine if a key exists", args="key [key ...]",
        tips="request_policy:multi_shard response_policy:agg_sum"),
        ("3.0.3", "Accepts multiple `key` arguments.")),
    cmd("type", type_command, 2, "readonly fast", keys=(1, 1, 1), acl="keyspace",
        key_specs=[_ks("RO", 1)], summary="Determine the type stored at key", args="key"),
    cmd("keys", keys_command, 2, "readonly", acl="keyspace dangerous",
        complexity="O(N) with N being the number of keys in the database, under the "
                   "assumption that the key names in the database and the given pattern "
                   "have limited length.",
        summary="Find all keys matching the given pattern", args="pattern",
        tips="request_policy:all_shards nondeterministic_output_order"),
    _with_history(cmd(
        "scan", scan_command, -2, "readonly", acl="keyspace", since="2.8.0",
        complexity="O(1) for every call. O(N) for a complete iteration, including enough "
                   "command calls for the cursor to return back to 0. N is the number of "
                   "elements inside the collection.",
        summary="Incrementally iterate the keys space",
        args="cursor [MATCH pattern] [COUNT count] [TYPE type]",
        tips="nondeterministic_output request_policy:special"),
        ("6.0.0", "Added the `TYPE` subcommand.")),
    cmd("randomkey", randomkey_command, 1, "readonly", acl="keyspace",
        summary="Return a random key from the keyspace",
        tips="request_policy:all_shards nondeterministic_output"),
    cmd("rename", rename_command, 3, "write", keys=(1, 2, 1), acl="keyspace",
        key_specs=[_ks("RW ACCESS DELETE", 1), _ks("OW UPDATE", 2)],
        summary="Rename a key", args="key newkey"),
    _with_history(cmd(
        "renamenx", renamenx_command, 3, "write fast", keys=(1, 2, 1), acl="keyspace",
        key_specs=[_ks("RW ACCESS DELETE", 1), _ks("OW INSERT", 2)],
        summary="Rename a key, only if the new key does not exist", args="key newkey"),
        ("3.2.0", "The command no longer returns an error when source and destination "
                  "names are the same.")),
    cmd("move", move_command, 3, "write fast", keys=(1, 1, 1), acl="keyspace",
        key_specs=[_ks("RW ACCESS UPDATE", 1)],
        summary="Move a key to another database", args="key db"),
    cmd("copy", copy_command, -3, "write denyoom", keys=(1, 2, 1), acl="keyspace",
        key_specs=[_ks("RO ACCESS", 1), _ks("OW UPDATE", 2)], since="6.2.0",
        complexity="O(N) worst case for collections, where N is the number of nested items. "
                   "O(1) for string values.",
        summary="Copy a key", args="source destination [DB destination-db] [REPLACE]"),
    cmd("dbsize", dbsize_command, 1, "readonly fast", acl="keyspace", group="server",
        summary="Return the number of keys in the selected database",
        tips="request_policy:all_shards response_policy:agg_sum"),
    _with_history(cmd(
        "flushdb", flushdb_command, -1, "write", acl="keyspace dangerous", group="server",
        complexity="O(N) where N is the number of keys in the selected database",
        summary="Remove all keys from the current database", args="[ASYNC|SYNC]",
        tips="request_policy:all_shards response_policy:all_succeeded"), *_FLUSH_HISTORY),
    _with_history(cmd(
        "flushall", flushall_command, -1, "write", acl="keyspace dangerous", group="server",
        complexity="O(N) where N is the total number of keys in all databases",
        summary="Remove all keys from all databases", args="[ASYNC|SYNC]",
        tips="request_policy:all_shards response_policy:all_succeeded"), *_FLUSH_HISTORY),
    cmd("swapdb", swapdb_command, 3, "write fast", acl="keyspace dangerous", group="server",
        since="4.0.0",
        complexity="O(N) where N is the count of clients watching or blocking on keys from "
                   "both databases.",
        summary="Swaps two Redis databases", args="index1 index2"),
]
