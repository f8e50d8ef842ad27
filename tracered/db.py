"""The keyspace: the mirror of db.c.

Each of the 16 databases is a :class:`RedisDb` holding two :class:`~tracered.dict.Dict`
tables, like Redis: ``dict`` (key -> robj) and ``expires`` (key -> absolute unix time in ms).
Keys are ``bytes`` (Redis: sds); values are :class:`~tracered.object.RObj`.

Low-level API used by every command family (names as in db.c):
lookup_key / lookup_key_read / lookup_key_write, db_add, db_overwrite, set_key,
db_delete, set_expire, get_expire, remove_expire, expire_if_needed, signal_modified_key,
notify_keyspace_event.
"""

from __future__ import annotations

from tracered import dict as dictmod
from tracered import networking as net
from tracered import object as obj
from tracered import shared
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
                from tracered import evict

                evict.update_lfu(val)
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
    db.dict.free_unlinked_entry(de)
    return True


db_sync_delete = db_delete
db_async_delete = db_delete  # Divergence: no lazyfree thread; UNLINK frees at once.


def empty_data(dbnum: int = -1, callback=None) -> int:
    """emptyData: FLUSHALL (dbnum -1) or FLUSHDB; returns the number of keys removed."""
    srv = server or _srv()
    removed = 0
    targets = srv.db if dbnum == -1 else [srv.db[dbnum]]
    for db in targets:
        removed += len(db.dict)
        db.dict = dictmod.Dict()
        db.expires = dictmod.Dict()
        db.avg_ttl = 0
        db.expires_cursor = 0
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
    """keyIsExpired: compare with the cached per-command clock (server.mstime)."""
    srv = server or _srv()
    when = get_expire(db, key)
    if when < 0:
        return False
    if srv.loading:
        return False
    return srv.mstime > when


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

signal_modified_key_hooks: list = []   # multi.py (touchWatchedKey), tracking
signal_key_as_ready_hook = None        # blocked.py


def signal_modified_key(c, db: RedisDb, key: bytes) -> None:
    """signalModifiedKey: invalidate WATCH and client-side caching for this key."""
    if db.watched_keys or signal_modified_key_hooks:
        for hook in signal_modified_key_hooks:
            hook(c, db, key)


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
