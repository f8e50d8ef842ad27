"""Sets: the mirror of t_set.c (plus createSetObject / createIntsetObject from object.c).

A set whose members all spell 64-bit integers (string2ll's canonical form: no '+', no
leading zeros, no "-0") starts as an **intset** (``OBJ_ENCODING_INTSET``, ``o.ptr`` a
byte-real intset from :mod:`tracered.intset`, sorted, 16/32/64-bit wide).  It becomes a
**hashtable** (``OBJ_ENCODING_HT``, ``o.ptr`` a :class:`~tracered.dict.Dict` mapping member
bytes to None) when a non-integer member arrives or it grows past ``set-max-intset-entries``
(capped at 2**30).  Never the other way round, except that SPOP's "remaining elements"
strategy and the *STORE commands build a brand-new set, which starts as an intset again.

Layout (same order as t_set.c):

    set type API     set_type_create, set_type_add, set_type_remove, set_type_is_member,
                     set_type_iter, set_type_random_element, set_type_size,
                     set_type_convert (probe setTypeConvert), set_type_dup
    commands         SADD SREM SMOVE SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER
                     SINTER/SMEMBERS SINTERCARD SINTERSTORE SUNION SUNIONSTORE SDIFF
                     SDIFFSTORE SSCAN
    per-type hooks   MEMORY USAGE, DEBUG DIGEST, COPY, length, inspector preview

Divergence: setTypeIterator / setTypeNext is a Python generator, :func:`set_type_iter`,
yielding ``int`` for intset members and ``bytes`` for hashtable members (what setTypeNext
returns through ``llele`` / ``sdsele``).
Divergence: hashtable sets use tracered's Dict with Python's hash, so SMEMBERS / SUNION /
SSCAN of a hashtable set list members in another order than redis-server.  Intset sets are
sorted, exactly as in Redis.
Divergence: setTypeAdd and setTypeConvert take an optional ``key`` so the
``encoding.convert`` probe event can name the key.
SSCAN uses db.scan_generic_command, told how to walk a set through db.scan_funcs.
"""

from __future__ import annotations

from collections.abc import Iterator

from tracered import db as dbmod
from tracered import dict as dictmod
from tracered import networking as net
from tracered import object as obj
from tracered import server as server_module
from tracered import shared, util
from tracered.commands import KeySpec, cmd
from tracered.intset import (
    intset_add,
    intset_blob_len,
    intset_find,
    intset_len,
    intset_new,
    intset_random,
    intset_remove,
    intset_to_list,
)
from tracered.object import OBJ_ENCODING_HT, OBJ_ENCODING_INTSET, OBJ_SET, RObj
from tracered.object_cmd import sds_zmalloc_size, zmalloc_size
from tracered.server import server
from tracered.t_hash import bulk_join, ht_keys
from tracered.trace import probes
from tracered.trace.probes import probe

LONG_MAX = (1 << 63) - 1

# Redis struct sizes on x86-64 (MEMORY USAGE).
ROBJ_SIZE = 16
DICT_SIZE = 56          # sizeof(dict) in 7.0 (52 bytes padded to 8)
DICT_ENTRY_SIZE = 24
POINTER_SIZE = 8

SET_OP_UNION = 0
SET_OP_DIFF = 1
SET_OP_INTER = 2

# An intset never holds more than this many members whatever the config says (intset.c
# keeps its length in 32 bits and its byte size must stay sane).
INTSET_MAX_ENTRIES = 1 << 30

_bulkhdr = shared.bulkhdr
_CRLF = b"\r\n"


def _hdr(n: int) -> bytes:
    return _bulkhdr[n] if n < 1024 else b"$%d\r\n" % n


def _set_hdr(c, n: int) -> bytes:
    """addReplySetLen's header: ``*n`` in RESP2, ``~n`` in RESP3."""
    if c.resp == 2:
        return shared.mbulkhdr[n] if n < 1024 else b"*%d\r\n" % n
    return shared.sethdr[n] if n < 1024 else b"~%d\r\n" % n


def _as_bytes(v: bytes | int) -> bytes:
    return b"%d" % v if v.__class__ is int else v


def get_positive_long_from_object_or_reply(c, arg: bytes, msg: str | None = None) -> int | None:
    """getPositiveLongFromObjectOrReply: 0..LONG_MAX; ``msg`` also replaces the parse error."""
    return dbmod.get_range_long_from_object_or_reply(
        c, arg, 0, LONG_MAX, msg or "value is out of range, must be positive")


def prevent_command_propagation(c) -> None:
    """preventCommandPropagation (server.c): this command's argv must not reach the AOF or
    replicas; its effects were queued another way (SPOP's SREMs via also_propagate)."""
    c.flags |= net.CLIENT_PREVENT_AOF_PROP | net.CLIENT_PREVENT_REPL_PROP


# --------------------------------------------------------------------------------------------
# Set type API
# --------------------------------------------------------------------------------------------

@probe("createSetObject")
def create_set_object() -> RObj:
    """createSetObject (object.c): an empty hashtable-encoded set."""
    return RObj(OBJ_SET, OBJ_ENCODING_HT, dictmod.Dict())


@probe("createIntsetObject")
def create_intset_object() -> RObj:
    """createIntsetObject (object.c): an empty intset-encoded set."""
    return RObj(OBJ_SET, OBJ_ENCODING_INTSET, intset_new())


def set_type_create(value: bytes) -> RObj:
    """setTypeCreate: an intset if ``value`` is an integer, else a hashtable set."""
    if util.string2ll(value) is not None:
        return create_intset_object()
    return create_set_object()


def set_type_add(subject: RObj, value: bytes | int, key: bytes | None = None) -> bool:
    """setTypeAdd: True if ``value`` was not a member yet.

    An intset converts to a hashtable on a non-integer member or when it grows past
    set-max-intset-entries.  ``value`` may be an int (a member read from another intset).
    """
    if subject.encoding == OBJ_ENCODING_HT:
        if value.__class__ is int:
            value = b"%d" % value
        return subject.ptr.add_raw(value)[0] is not None
    if subject.encoding != OBJ_ENCODING_INTSET:
        raise ValueError("Unknown set encoding")
    llval = value if value.__class__ is int else util.string2ll(value)
    if llval is not None:
        is_, success = intset_add(subject.ptr, llval)
        if success:
            max_entries = server.set_max_intset_entries
            if max_entries >= INTSET_MAX_ENTRIES:
                max_entries = INTSET_MAX_ENTRIES
            if intset_len(is_) > max_entries:
                set_type_convert(subject, OBJ_ENCODING_HT, key)
            return True
        return False
    set_type_convert(subject, OBJ_ENCODING_HT, key)
    # It was an intset and value is no integer: it cannot be a member already.
    if not subject.ptr.add(value, None):
        raise AssertionError("setTypeAdd: non-integer member found in a converted intset")
    return True


def set_type_remove(setobj: RObj, value: bytes | int) -> bool:
    """setTypeRemove: True if ``value`` was a member.  A hashtable shrinks when sparse."""
    if setobj.encoding == OBJ_ENCODING_HT:
        d = setobj.ptr
        if d.delete(_as_bytes(value)):
            if dictmod.ht_needs_resize(d):
                dictmod.dict_resize(d)
            return True
        return False
    llval = value if value.__class__ is int else util.string2ll(value)
    if llval is None:
        return False
    return intset_remove(setobj.ptr, llval)[1]


def set_type_is_member(subject: RObj, value: bytes | int) -> bool:
    """setTypeIsMember."""
    if subject.encoding == OBJ_ENCODING_HT:
        return subject.ptr.find(_as_bytes(value)) is not None
    llval = value if value.__class__ is int else util.string2ll(value)
    return llval is not None and intset_find(subject.ptr, llval)


def set_type_iter(subject: RObj) -> Iterator[bytes | int]:
    """setTypeInitIterator + setTypeNext: ints (intset, ascending) or bytes (hashtable).

    The members are read up front, so the set may change while the caller iterates.
    """
    if subject.encoding == OBJ_ENCODING_INTSET:
        return iter(intset_to_list(subject.ptr))
    return iter(ht_keys(subject.ptr))


def set_type_iter_bytes(subject: RObj) -> Iterator[bytes]:
    """setTypeNextObject: every member as bytes."""
    return iter(set_type_members(subject))


def set_type_members(subject: RObj) -> list[bytes]:
    """Every member as bytes, in iteration order (sorted for an intset), in one list."""
    if subject.encoding == OBJ_ENCODING_INTSET:
        return [b"%d" % v for v in intset_to_list(subject.ptr)]
    return ht_keys(subject.ptr)


def set_type_random_element(setobj: RObj) -> bytes | int:
    """setTypeRandomElement: an int for an intset, bytes for a hashtable (non-empty set)."""
    if setobj.encoding == OBJ_ENCODING_HT:
        return setobj.ptr.get_fair_random_key().key
    return intset_random(setobj.ptr)


def set_type_size(subject: RObj) -> int:
    """setTypeSize."""
    if subject.encoding == OBJ_ENCODING_HT:
        return len(subject.ptr)
    return intset_len(subject.ptr)


@probe("setTypeConvert")
def set_type_convert(setobj: RObj, enc: int, key: bytes | None = None) -> None:
    """setTypeConvert: intset -> hashtable, into a Dict presized for every member."""
    if setobj.type != OBJ_SET or setobj.encoding != OBJ_ENCODING_INTSET:
        raise AssertionError("setTypeConvert needs an intset-encoded set")
    if enc != OBJ_ENCODING_HT:
        raise ValueError("Unsupported set conversion")
    members = intset_to_list(setobj.ptr)
    d = dictmod.Dict()
    d.expand(len(members))
    for v in members:
        d.add(b"%d" % v, None)
    if probes.armed:
        probes.event("encoding.convert", {
            "redis.key": key.decode("utf-8", "replace") if key is not None else "",
            "from": "intset", "to": "hashtable", "redis.set.length": len(d)})
    setobj.encoding = OBJ_ENCODING_HT
    setobj.ptr = d


def set_type_dup(o: RObj) -> RObj:
    """setTypeDup (COPY): a deep copy with the same encoding."""
    if o.encoding == OBJ_ENCODING_INTSET:
        return RObj(OBJ_SET, OBJ_ENCODING_INTSET, bytearray(o.ptr))
    s = create_set_object()
    d = s.ptr
    src = o.ptr
    d.expand(len(src))
    for de in src.iterator():
        d.add(de.key, None)
    return s


# --------------------------------------------------------------------------------------------
# Set commands
# --------------------------------------------------------------------------------------------

def sadd_command(c) -> None:
    """SADD key member [member ...]."""
    argv = c.argv
    key = argv[1]
    db = c.db
    s = dbmod.lookup_key_write(db, key)
    if s is not None:
        if s.type != OBJ_SET:
            net.add_reply_error_object(c, shared.wrongtypeerr)
            return
    else:
        s = set_type_create(argv[2])
        dbmod.db_add(db, key, s)
    added = 0
    for ele in argv[2:]:
        if set_type_add(s, ele, key):
            added += 1
    if added:
        dbmod.signal_modified_key(c, db, key)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_SET, "sadd", key, db.id)
    server.dirty += added
    net.add_reply_long_long(c, added)


def srem_command(c) -> None:
    """SREM key member [member ...]: the key goes away with its last member."""
    argv = c.argv
    key = argv[1]
    s = dbmod.lookup_key_write_or_reply(c, key, shared.czero)
    if s is None or dbmod.check_type(c, s, OBJ_SET):
        return
    deleted = 0
    keyremoved = False
    for ele in argv[2:]:
        if set_type_remove(s, ele):
            deleted += 1
            if set_type_size(s) == 0:
                dbmod.db_delete(c.db, key)
                keyremoved = True
                break
    if deleted:
        dbmod.signal_modified_key(c, c.db, key)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_SET, "srem", key, c.db.id)
        if keyremoved:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, c.db.id)
        server.dirty += deleted
    net.add_reply_long_long(c, deleted)


def smove_command(c) -> None:
    """SMOVE source destination member."""
    argv = c.argv
    db = c.db
    src_key, dst_key, ele = argv[1], argv[2], argv[3]
    srcset = dbmod.lookup_key_write(db, src_key)
    dstset = dbmod.lookup_key_write(db, dst_key)
    if srcset is None:
        net.add_reply(c, shared.czero)
        return
    if dbmod.check_type(c, srcset, OBJ_SET) or dbmod.check_type(c, dstset, OBJ_SET):
        return
    if srcset is dstset:
        net.add_reply(c, shared.cone if set_type_is_member(srcset, ele) else shared.czero)
        return
    if not set_type_remove(srcset, ele):
        net.add_reply(c, shared.czero)
        return
    dbmod.notify_keyspace_event(dbmod.NOTIFY_SET, "srem", src_key, db.id)
    if set_type_size(srcset) == 0:
        dbmod.db_delete(db, src_key)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", src_key, db.id)
    if dstset is None:
        dstset = set_type_create(ele)
        dbmod.db_add(db, dst_key, dstset)
    dbmod.signal_modified_key(c, db, src_key)
    server.dirty += 1
    if set_type_add(dstset, ele, dst_key):
        server.dirty += 1
        dbmod.signal_modified_key(c, db, dst_key)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_SET, "sadd", dst_key, db.id)
    net.add_reply(c, shared.cone)


def sismember_command(c) -> None:
    """SISMEMBER key member."""
    s = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.czero)
    if s is None or dbmod.check_type(c, s, OBJ_SET):
        return
    net.add_reply(c, shared.cone if set_type_is_member(s, c.argv[2]) else shared.czero)


def smismember_command(c) -> None:
    """SMISMEMBER key member [member ...]: a missing key is an empty set (all zeros)."""
    argv = c.argv
    s = dbmod.lookup_key_read(c.db, argv[1])
    if s is not None and dbmod.check_type(c, s, OBJ_SET):
        return
    n = len(argv) - 2
    parts = [shared.mbulkhdr[n] if n < 1024 else b"*%d\r\n" % n]
    for ele in argv[2:]:
        parts.append(shared.cone if s is not None and set_type_is_member(s, ele)
                     else shared.czero)
    net.add_reply(c, b"".join(parts))


def scard_command(c) -> None:
    """SCARD key."""
    s = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.czero)
    if s is None or dbmod.check_type(c, s, OBJ_SET):
        return
    net.add_reply_long_long(c, set_type_size(s))


# SPOP with count: when what stays (size-count) times this is not bigger than count, build
# the remaining set anew instead of extracting count random members one by one.
SPOP_MOVE_STRATEGY_MUL = 5


def spop_with_count_command(c) -> None:
    """SPOP key count: three strategies, replicated as DEL or as one SREM per member."""
    argv = c.argv
    count = get_positive_long_from_object_or_reply(c, argv[2])
    if count is None:
        return
    key = argv[1]
    db = c.db
    s = dbmod.lookup_key_write_or_reply(c, key, shared.emptyset[c.resp])
    if s is None or dbmod.check_type(c, s, OBJ_SET):
        return
    if count == 0:
        net.add_reply(c, shared.emptyset[c.resp])
        return
    size = set_type_size(s)
    dbmod.notify_keyspace_event(dbmod.NOTIFY_SET, "spop", key, db.id)
    server.dirty += size if count >= size else count

    # CASE 1: everything goes; the key is deleted and that is what replicas see.
    if count >= size:
        sunion_diff_generic_command(c, [key], None, SET_OP_UNION)
        dbmod.db_delete(db, key)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, db.id)
        c.argv = [b"DEL", key]
        dbmod.signal_modified_key(c, db, key)
        return

    parts = [_set_hdr(c, count)]
    target = server_module.PROPAGATE_AOF | server_module.PROPAGATE_REPL
    remaining = size - count
    if remaining * SPOP_MOVE_STRATEGY_MUL > count:
        # CASE 2: few to pop compared to what stays: pop random members one by one.
        for _ in range(count):
            ele = set_type_random_element(s)
            if ele.__class__ is int:
                intset_remove(s.ptr, ele)
                ele = b"%d" % ele
            else:
                set_type_remove(s, ele)
            parts += (_hdr(len(ele)), ele, _CRLF)
            server_module.also_propagate(db.id, [b"SREM", key, ele], target)
    else:
        # CASE 3: most members go: move the few that stay into a new set, reply with
        # the rest of the old one.
        newset = None
        for _ in range(remaining):
            ele = _as_bytes(set_type_random_element(s))
            if newset is None:
                newset = set_type_create(ele)
            set_type_add(newset, ele, key)
            set_type_remove(s, ele)
        for ele in set_type_iter_bytes(s):
            parts += (_hdr(len(ele)), ele, _CRLF)
            server_module.also_propagate(db.id, [b"SREM", key, ele], target)
        dbmod.db_overwrite(db, key, newset)
    net.add_reply(c, b"".join(parts))
    # The SREMs above carry the effect; the random SPOP itself must not be replayed.
    prevent_command_propagation(c)
    dbmod.signal_modified_key(c, db, key)


def spop_command(c) -> None:
    """SPOP key [count]."""
    argv = c.argv
    if len(argv) == 3:
        spop_with_count_command(c)
        return
    if len(argv) > 3:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    key = argv[1]
    db = c.db
    s = dbmod.lookup_key_write_or_reply(c, key, shared.null[c.resp])
    if s is None or dbmod.check_type(c, s, OBJ_SET):
        return
    ele = set_type_random_element(s)
    if ele.__class__ is int:
        intset_remove(s.ptr, ele)
        ele = b"%d" % ele
    else:
        set_type_remove(s, ele)
    dbmod.notify_keyspace_event(dbmod.NOTIFY_SET, "spop", key, db.id)
    c.argv = [b"SREM", key, ele]
    net.add_reply_bulk(c, ele)
    if set_type_size(s) == 0:
        dbmod.db_delete(db, key)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, db.id)
    dbmod.signal_modified_key(c, db, key)
    server.dirty += 1


# SRANDMEMBER with count: when the set is at most this many times the count, copy it and
# remove random members instead of drawing unique ones.
SRANDMEMBER_SUB_STRATEGY_MUL = 3
SRANDMEMBER_BATCH = 1000


def srandmember_with_count_command(c) -> None:
    """SRANDMEMBER key count: Redis's four cases (see hrandfield_with_count_command)."""
    argv = c.argv
    l = dbmod.get_range_long_from_object_or_reply(c, argv[2], -LONG_MAX, LONG_MAX)
    if l is None:
        return
    if l >= 0:
        count = l
        uniq = True
    else:
        count = -l
        uniq = False
    s = dbmod.lookup_key_read_or_reply(c, argv[1], shared.emptyarray)
    if s is None or dbmod.check_type(c, s, OBJ_SET):
        return
    size = set_type_size(s)
    if count == 0:
        net.add_reply(c, shared.emptyarray)
        return

    # CASE 1: repeats allowed (or a single member): independent random picks.
    if not uniq or count == 1:
        net.add_reply(c, shared.mbulkhdr[count] if count < 1024 else b"*%d\r\n" % count)
        while count:
            batch = min(count, SRANDMEMBER_BATCH)
            count -= batch
            parts: list[bytes] = []
            for _ in range(batch):
                ele = _as_bytes(set_type_random_element(s))
                parts += (_hdr(len(ele)), ele, _CRLF)
            net.add_reply(c, b"".join(parts))
            if c.flags & net.CLIENT_CLOSE_ASAP:
                break
        return

    # CASE 2: the whole set.
    if count >= size:
        parts = [shared.mbulkhdr[size] if size < 1024 else b"*%d\r\n" % size]
        net.add_reply(c, b"".join(parts) + bulk_join(set_type_members(s)))
        return

    d = dictmod.Dict()
    if count * SRANDMEMBER_SUB_STRATEGY_MUL > size:
        # CASE 3: copy everything, then remove random members down to count.
        d.expand(size)
        for ele in set_type_iter_bytes(s):
            d.add(ele, None)
        while size > count:
            d.delete(d.get_fair_random_key().key)
            size -= 1
    else:
        # CASE 4: draw until count distinct members were seen.
        d.expand(count)
        added = 0
        while added < count:
            if d.add(_as_bytes(set_type_random_element(s)), None):
                added += 1
    parts = [shared.mbulkhdr[count] if count < 1024 else b"*%d\r\n" % count]
    for de in d.iterator():
        parts += (_hdr(len(de.key)), de.key, _CRLF)
    net.add_reply(c, b"".join(parts))


def srandmember_command(c) -> None:
    """SRANDMEMBER key [count]."""
    argv = c.argv
    if len(argv) == 3:
        srandmember_with_count_command(c)
        return
    if len(argv) > 3:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    s = dbmod.lookup_key_read_or_reply(c, argv[1], shared.null[c.resp])
    if s is None or dbmod.check_type(c, s, OBJ_SET):
        return
    net.add_reply_bulk(c, _as_bytes(set_type_random_element(s)))


def sinter_generic_command(c, setkeys: list[bytes], dstkey: bytes | None,
                           cardinality_only: bool = False, limit: int = 0) -> None:
    """sinterGenericCommand: SINTER/SMEMBERS, SINTERSTORE and SINTERCARD (``limit`` 0 means
    no limit).  Walks the smallest set and keeps members found in every other one."""
    db = c.db
    sets: list[RObj] = []
    empty = False
    for k in setkeys:
        o = dbmod.lookup_key_read(db, k)
        if o is None:
            empty = True
            continue
        if dbmod.check_type(c, o, OBJ_SET):
            return
        sets.append(o)

    # Intersecting with an empty set gives the empty set.
    if empty:
        if dstkey is not None:
            if dbmod.db_delete(db, dstkey):
                dbmod.signal_modified_key(c, db, dstkey)
                dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", dstkey, db.id)
                server.dirty += 1
            net.add_reply(c, shared.czero)
        elif cardinality_only:
            net.add_reply_long_long(c, 0)
        else:
            net.add_reply(c, shared.emptyset[c.resp])
        return

    sets.sort(key=set_type_size)
    first = sets[0]
    others = [o for o in sets[1:] if o is not first]
    if not others and dstkey is None and not cardinality_only:
        # SMEMBERS (or SINTER of one set): nothing to test, every member is in the reply.
        members = set_type_members(first)
        net.add_reply(c, _set_hdr(c, len(members)) + bulk_join(members))
        return
    dstset = create_intset_object() if dstkey is not None else None
    out: list[bytes | int] = []
    cardinality = 0
    for ele in set_type_iter(first):
        for o in others:
            if ele.__class__ is int and o.encoding == OBJ_ENCODING_INTSET:
                if not intset_find(o.ptr, ele):
                    break
            elif not set_type_is_member(o, ele):
                break
        else:
            if cardinality_only:
                cardinality += 1
                if limit and cardinality >= limit:
                    break
            elif dstset is None:
                out.append(ele)
            else:
                set_type_add(dstset, ele, dstkey)

    if cardinality_only:
        net.add_reply_long_long(c, cardinality)
    elif dstset is not None:
        n = set_type_size(dstset)
        if n > 0:
            dbmod.set_key(c, db, dstkey, dstset, 0)
            net.add_reply_long_long(c, n)
            dbmod.notify_keyspace_event(dbmod.NOTIFY_SET, "sinterstore", dstkey, db.id)
            server.dirty += 1
        else:
            net.add_reply(c, shared.czero)
            if dbmod.db_delete(db, dstkey):
                server.dirty += 1
                dbmod.signal_modified_key(c, db, dstkey)
                dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", dstkey, db.id)
    else:
        out = [b"%d" % e if e.__class__ is int else e for e in out]
        net.add_reply(c, _set_hdr(c, len(out)) + bulk_join(out))


def sinter_command(c) -> None:
    """SINTER key [key ...] (and SMEMBERS key, which is the same proc in Redis 7.0)."""
    sinter_generic_command(c, c.argv[1:], None)


def sintercard_command(c) -> None:
    """SINTERCARD numkeys key [key ...] [LIMIT limit]."""
    argv = c.argv
    argc = len(argv)
    numkeys = dbmod.get_range_long_from_object_or_reply(c, argv[1], 1, LONG_MAX,
                                                  "numkeys should be greater than 0")
    if numkeys is None:
        return
    if numkeys > argc - 2:
        net.add_reply_error(c, "Number of keys can't be greater than number of args")
        return
    limit = 0
    j = 2 + numkeys
    while j < argc:
        moreargs = argc - 1 - j
        if argv[j].lower() == b"limit" and moreargs:
            j += 1
            limit = get_positive_long_from_object_or_reply(c, argv[j], "LIMIT can't be negative")
            if limit is None:
                return
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1
    sinter_generic_command(c, argv[2:2 + numkeys], None, True, limit)


def sinterstore_command(c) -> None:
    """SINTERSTORE destination key [key ...]."""
    sinter_generic_command(c, c.argv[2:], c.argv[1])


def sunion_diff_generic_command(c, setkeys: list[bytes], dstkey: bytes | None,
                                op: int) -> None:
    """sunionDiffGenericCommand: SUNION, SDIFF and their *STORE forms.

    SDIFF picks one of two algorithms by estimated work: (1) test each member of the first
    set against the others, or (2) copy the first set and remove the others' members.
    """
    db = c.db
    sets: list[RObj | None] = []
    sameset = False
    for j, k in enumerate(setkeys):
        o = dbmod.lookup_key_read(db, k)
        if o is None:
            sets.append(None)
            continue
        if dbmod.check_type(c, o, OBJ_SET):
            return
        sets.append(o)
        if j > 0 and sets[0] is o:
            sameset = True

    diff_algo = 1
    if op == SET_OP_DIFF and sets[0] is not None and not sameset:
        algo_one_work = 0
        algo_two_work = 0
        first_size = set_type_size(sets[0])
        for o in sets:
            if o is None:
                continue
            algo_one_work += first_size
            algo_two_work += set_type_size(o)
        # Algorithm 1 has better constants and stops early on common members.
        algo_one_work //= 2
        diff_algo = 1 if algo_one_work <= algo_two_work else 2
        if diff_algo == 1 and len(sets) > 1:
            # Subtract the biggest sets first: a common member is then found sooner.
            sets[1:] = sorted(sets[1:], key=lambda o: set_type_size(o) if o else 0,
                              reverse=True)

    dstset = create_intset_object()
    cardinality = 0
    if op == SET_OP_UNION:
        for o in sets:
            if o is None:
                continue
            for ele in set_type_iter(o):
                if set_type_add(dstset, ele, dstkey):
                    cardinality += 1
    elif op == SET_OP_DIFF and sameset:
        pass  # the first set minus itself: empty
    elif op == SET_OP_DIFF and sets[0] is not None and diff_algo == 1:
        first = sets[0]
        rest = sets[1:]
        for ele in set_type_iter(first):
            for o in rest:
                if o is None:
                    continue
                if o is first or set_type_is_member(o, ele):
                    break
            else:
                set_type_add(dstset, ele, dstkey)
                cardinality += 1
    elif op == SET_OP_DIFF and sets[0] is not None and diff_algo == 2:
        for j, o in enumerate(sets):
            if o is None:
                continue
            for ele in set_type_iter(o):
                if j == 0:
                    if set_type_add(dstset, ele, dstkey):
                        cardinality += 1
                elif set_type_remove(dstset, ele):
                    cardinality -= 1
            if cardinality == 0:
                break

    if dstkey is None:
        net.add_reply(c, _set_hdr(c, cardinality) + bulk_join(set_type_members(dstset)))
        return
    n = set_type_size(dstset)
    if n > 0:
        dbmod.set_key(c, db, dstkey, dstset, 0)
        net.add_reply_long_long(c, n)
        dbmod.notify_keyspace_event(
            dbmod.NOTIFY_SET, "sunionstore" if op == SET_OP_UNION else "sdiffstore",
            dstkey, db.id)
        server.dirty += 1
    else:
        net.add_reply(c, shared.czero)
        if dbmod.db_delete(db, dstkey):
            server.dirty += 1
            dbmod.signal_modified_key(c, db, dstkey)
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", dstkey, db.id)


def sunion_command(c) -> None:
    sunion_diff_generic_command(c, c.argv[1:], None, SET_OP_UNION)


def sunionstore_command(c) -> None:
    sunion_diff_generic_command(c, c.argv[2:], c.argv[1], SET_OP_UNION)


def sdiff_command(c) -> None:
    sunion_diff_generic_command(c, c.argv[1:], None, SET_OP_DIFF)


def sdiffstore_command(c) -> None:
    sunion_diff_generic_command(c, c.argv[2:], c.argv[1], SET_OP_DIFF)


def sscan_command(c) -> None:
    """SSCAN key cursor [MATCH pattern] [COUNT count]."""
    cursor = dbmod.parse_scan_cursor_or_reply(c, c.argv[2])
    if cursor is None:
        return
    s = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.emptyscan)
    if s is None or dbmod.check_type(c, s, OBJ_SET):
        return
    dbmod.scan_generic_command(c, s, cursor)


def _set_scan_emit(de, out: list) -> None:
    out.append(de.key)


def set_scan_source(o: RObj):
    """db.scan_funcs hook: a hashtable set is scanned by cursor; an intset is small by
    construction and returned whole (cursor 0), as in Redis."""
    if o.encoding == OBJ_ENCODING_HT:
        return o.ptr, False, _set_scan_emit
    return None, False, [b"%d" % v for v in intset_to_list(o.ptr)]


# --------------------------------------------------------------------------------------------
# Per-type hooks: MEMORY USAGE, DEBUG DIGEST, COPY, length, preview
# --------------------------------------------------------------------------------------------

def set_memory_usage(o: RObj, samples: int) -> int:
    """objectComputeSize for a set: the intset blob, or the dict's tables plus the average
    of the first ``samples`` entries (0 = all) times the number of members."""
    if o.encoding == OBJ_ENCODING_INTSET:
        return ROBJ_SIZE + zmalloc_size(intset_blob_len(o.ptr))
    d = o.ptr
    asize = ROBJ_SIZE + DICT_SIZE + POINTER_SIZE * d.slots()
    elesize = 0
    n = 0
    for de in d.iterator():
        if samples and n >= samples:
            break
        elesize += DICT_ENTRY_SIZE + sds_zmalloc_size(len(de.key))
        n += 1
    if n:
        asize += int(elesize / n * len(d))
    return asize


def set_digest_value(o: RObj) -> list[bytes]:
    """digest.py's plain set form: every member as bytes."""
    return list(set_type_iter_bytes(o))


def set_preview(o: RObj, limit: int) -> str:
    """At most ``limit`` members as ``{m1, m2, ...}`` for the debugger's inspector."""
    out = []
    for n, ele in enumerate(set_type_iter_bytes(o)):
        if n >= limit:
            out.append("...")
            break
        out.append(repr(ele.decode("utf-8", "replace")))
    return "{" + ", ".join(out) + "}"


obj.memory_usage_funcs[OBJ_SET] = set_memory_usage
obj.digest_value_funcs[OBJ_SET] = set_digest_value
obj.dup_funcs[OBJ_SET] = set_type_dup
obj.length_funcs[OBJ_SET] = set_type_size
obj.preview_funcs[OBJ_SET] = set_preview
dbmod.scan_funcs[OBJ_SET] = set_scan_source


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

def _ks(flags: str, begin: int = 1, lastkey: int = 0) -> KeySpec:
    return KeySpec(flags, begin, lastkey=lastkey, keystep=1)


_ALL_SETS = "O(N) where N is the total number of elements in all given sets."
_INTER = ("O(N*M) worst case where N is the cardinality of the smallest set and M is the "
          "number of sets.")

COMMANDS = [
    cmd("sadd", sadd_command, -3, "write denyoom fast", keys=(1, 1, 1), acl="set",
        group="set", since="1.0.0",
        complexity="O(1) for each element added, so O(N) to add N elements when the "
                   "command is called with multiple arguments.",
        summary="Add one or more members to a set", args="key member [member ...]",
        key_specs=[_ks("RW insert")]),
    cmd("scard", scard_command, 2, "readonly fast", keys=(1, 1, 1), acl="set", group="set",
        summary="Get the number of members in a set", args="key", key_specs=[_ks("RO")]),
    cmd("sdiff", sdiff_command, -2, "readonly", keys=(1, -1, 1), acl="set", group="set",
        complexity=_ALL_SETS, summary="Subtract multiple sets", args="key [key ...]",
        key_specs=[_ks("RO access", 1, -1)], tips="nondeterministic_output_order"),
    cmd("sdiffstore", sdiffstore_command, -3, "write denyoom", keys=(1, -1, 1), acl="set",
        group="set", complexity=_ALL_SETS,
        summary="Subtract multiple sets and store the resulting set in a key",
        args="destination key [key ...]",
        key_specs=[_ks("OW update"), _ks("RO access", 2, -1)]),
    cmd("sinter", sinter_command, -2, "readonly", keys=(1, -1, 1), acl="set", group="set",
        complexity=_INTER, summary="Intersect multiple sets", args="key [key ...]",
        key_specs=[_ks("RO access", 1, -1)], tips="nondeterministic_output_order"),
    cmd("sintercard", sintercard_command, -3, "readonly movablekeys", acl="set",
        group="set", since="7.0.0", complexity=_INTER,
        summary="Intersect multiple sets and return the cardinality of the result",
        args="numkeys key [key ...] [LIMIT limit]",
        key_specs=[KeySpec("RO access", 1, kind="keynum", keynumidx=0, firstkey=1,
                           keystep=1)]),
    cmd("sinterstore", sinterstore_command, -3, "write denyoom", keys=(1, -1, 1), acl="set",
        group="set", complexity=_INTER,
        summary="Intersect multiple sets and store the resulting set in a key",
        args="destination key [key ...]",
        key_specs=[_ks("RW update"), _ks("RO access", 2, -1)]),
    cmd("sismember", sismember_command, 3, "readonly fast", keys=(1, 1, 1), acl="set",
        group="set", summary="Determine if a given value is a member of a set",
        args="key member", key_specs=[_ks("RO")]),
    cmd("smembers", sinter_command, 2, "readonly", keys=(1, 1, 1), acl="set", group="set",
        complexity="O(N) where N is the set cardinality.",
        summary="Get all the members in a set", args="key", key_specs=[_ks("RO access")],
        tips="nondeterministic_output_order"),
    cmd("smismember", smismember_command, -3, "readonly fast", keys=(1, 1, 1), acl="set",
        group="set", since="6.2.0",
        complexity="O(N) where N is the number of elements being checked for membership",
        summary="Returns the membership associated with the given elements for a set",
        args="key member [member ...]", key_specs=[_ks("RO access")]),
    cmd("smove", smove_command, 4, "write fast", keys=(1, 2, 1), acl="set", group="set",
        summary="Move a member from one set to another", args="source destination member",
        key_specs=[_ks("RW access delete"), _ks("RW insert", 2)]),
    cmd("spop", spop_command, -2, "write fast", keys=(1, 1, 1), acl="set", group="set",
        complexity="Without the count argument O(1), otherwise O(N) where N is the value "
                   "of the passed count.",
        summary="Remove and return one or multiple random members from a set",
        args="key [count]", key_specs=[_ks("RW access delete")],
        tips="nondeterministic_output"),
    cmd("srandmember", srandmember_command, -2, "readonly", keys=(1, 1, 1), acl="set",
        group="set",
        complexity="Without the count argument O(1), otherwise O(N) where N is the "
                   "absolute value of the passed count.",
        summary="Get one or multiple random members from a set", args="key [count]",
        key_specs=[_ks("RO access")], tips="nondeterministic_output"),
    cmd("srem", srem_command, -3, "write fast", keys=(1, 1, 1), acl="set", group="set",
        complexity="O(N) where N is the number of members to be removed.",
        summary="Remove one or more members from a set", args="key member [member ...]",
        key_specs=[_ks("RW delete")]),
    cmd("sscan", sscan_command, -3, "readonly", keys=(1, 1, 1), acl="set", group="set",
        since="2.8.0",
        complexity="O(1) for every call. O(N) for a complete iteration, including enough "
                   "command calls for the cursor to return back to 0. N is the number of "
                   "elements inside the collection..",
        summary="Incrementally iterate Set elements",
        args="key cursor [MATCH pattern] [COUNT count]", key_specs=[_ks("RO access")],
        tips="nondeterministic_output"),
    cmd("sunion", sunion_command, -2, "readonly", keys=(1, -1, 1), acl="set", group="set",
        complexity=_ALL_SETS, summary="Add multiple sets", args="key [key ...]",
        key_specs=[_ks("RO access", 1, -1)], tips="nondeterministic_output_order"),
    cmd("sunionstore", sunionstore_command, -3, "write denyoom", keys=(1, -1, 1), acl="set",
        group="set", complexity=_ALL_SETS,
        summary="Add multiple sets and store the resulting set in a key",
        args="destination key [key ...]",
        key_specs=[_ks("OW update"), _ks("RO access", 2, -1)]),
]
