"""Hashes: the mirror of t_hash.c (plus createHashObject from object.c).

A hash starts as a **listpack** (``OBJ_ENCODING_LISTPACK``): ``o.ptr`` is a byte-real
listpack (:mod:`tracered.listpack`) of alternating field, value entries, exactly the bytes
Redis keeps.  It becomes a **hashtable** (``OBJ_ENCODING_HT``, ``o.ptr`` a
:class:`~tracered.dict.Dict` mapping field bytes to value bytes) as soon as it holds more than
``hash-max-listpack-entries`` fields or one field or value is longer than
``hash-max-listpack-value`` bytes.  The conversion only goes that way: deleting fields never
turns a hashtable back into a listpack (only a reload would, as in Redis).

Layout (same order as t_hash.c):

    hash type API        hash_type_try_conversion, hash_type_get_value, hash_type_set,
                         hash_type_delete, hash_type_length, hash_type_iter,
                         hash_type_convert (probe hashTypeConvert), hash_type_dup,
                         hash_type_random_element
    commands             HSETNX HSET/HMSET HINCRBY HINCRBYFLOAT HGET HMGET HDEL HLEN HSTRLEN
                         HKEYS HVALS HGETALL HEXISTS HSCAN HRANDFIELD
    HSCAN                hash_scan_source, registered in db.scan_funcs
    reply helpers        bulk_join, ht_keys (also used by t_set for whole-value replies)
    per-type hooks       MEMORY USAGE, DEBUG DIGEST, COPY, length, inspector preview

Divergence: Redis's hashTypeIterator (hashTypeInitIterator / hashTypeNext /
hashTypeCurrent*) is a Python generator here, :func:`hash_type_iter`, yielding
``(field, value)`` pairs.  Listpack entries that hold integers come out as ``int`` (what
lpGetValue's ``vll`` is); callers print them with ``b"%d"`` where Redis uses ll2string.
Divergence: hashTypeConvert and hashTypeSet take an optional ``key`` so the
``encoding.convert`` probe event can name the key being converted (the C functions do not
know it).
Divergence: the HT encoding uses tracered's Dict with Python's hash, so HGETALL / HKEYS /
HSCAN of a hashtable hash list fields in another order than redis-server (no client may rely
on that order).  Listpack hashes list fields in insertion order, like Redis.
"""

from __future__ import annotations

from collections.abc import Iterator

from tracered import db as dbmod
from tracered import dict as dictmod
from tracered import networking as net
from tracered import object as obj
from tracered import shared, util
from tracered.commands import KeySpec, cmd
from tracered.listpack import (
    LP_EOF,
    LP_HDR_SIZE,
    lp_append,
    lp_delete_range_with_entry,
    lp_find,
    lp_get,
    lp_iter,
    lp_length,
    lp_new,
    lp_random_pair,
    lp_random_pairs,
    lp_random_pairs_unique,
    lp_replace,
    lp_safe_to_add,
    lp_skip,
)
from tracered.object import OBJ_ENCODING_HT, OBJ_ENCODING_LISTPACK, OBJ_HASH, RObj
from tracered.object_cmd import sds_zmalloc_size, zmalloc_size
from tracered.server import server
from tracered.trace import probes
from tracered.trace.probes import probe

LONG_MAX = (1 << 63) - 1
LONG_MIN = -(1 << 63)

OBJ_HASH_KEY = 1
OBJ_HASH_VALUE = 2

_bulkhdr = shared.bulkhdr
_mbulkhdr = shared.mbulkhdr
_CRLF = b"\r\n"


def _hdr(n: int) -> bytes:
    """Bulk header for a string of n bytes (shared for short ones)."""
    return _bulkhdr[n] if n < 1024 else b"$%d\r\n" % n


def _arr(n: int) -> bytes:
    return _mbulkhdr[n] if n < 1024 else b"*%d\r\n" % n


def _bulk(x: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(x), x)


def bulk_join(items: list[bytes]) -> bytes:
    """The protocol bytes of consecutive bulk strings (the body of an array reply).

    One list comprehension over shared headers is the fastest shape in CPython; a string of
    1 KiB or more has no shared header and sends the whole batch down the general path.
    """
    try:
        return b"".join([_bulkhdr[len(x)] + x + _CRLF for x in items])
    except IndexError:
        return b"".join([_bulk(x) for x in items])


def _lp_bytes_list(lp: bytearray) -> list[bytes]:
    """Every listpack element as bytes (integers in decimal)."""
    return [b"%d" % v if v.__class__ is int else v for v in lp_iter(lp)]


def ht_keys(d: dictmod.Dict) -> list[bytes]:
    """Every key of a Dict, in iteration order, without a generator per entry.

    Equivalent to ``[de.key for de in d.iterator()]`` (table 0 then table 1; buckets of
    table 0 below rehashidx are already empty) but a third faster: HGETALL / SMEMBERS of a
    big value are the slowest replies a client can ask for.
    """
    out: list[bytes] = []
    append = out.append
    for table in d.ht_table:
        if table is None:
            continue
        for he in table:
            while he is not None:
                append(he.key)
                he = he.next
    return out


def _ht_vals(d: dictmod.Dict) -> list[bytes]:
    out: list[bytes] = []
    append = out.append
    for table in d.ht_table:
        if table is None:
            continue
        for he in table:
            while he is not None:
                append(he.val)
                he = he.next
    return out


def _ht_flat(d: dictmod.Dict) -> list[bytes]:
    """Keys and values interleaved, like a listpack hash."""
    out: list[bytes] = []
    append = out.append
    for table in d.ht_table:
        if table is None:
            continue
        for he in table:
            while he is not None:
                append(he.key)
                append(he.val)
                he = he.next
    return out


def _key_text(key: bytes | None) -> str:
    return key.decode("utf-8", "replace") if key is not None else ""


# --------------------------------------------------------------------------------------------
# Hash type API
# --------------------------------------------------------------------------------------------

@probe("createHashObject")
def create_hash_object() -> RObj:
    """createHashObject (object.c): an empty listpack-encoded hash."""
    return RObj(OBJ_HASH, OBJ_ENCODING_LISTPACK, lp_new())


def hash_type_try_conversion(o: RObj, argv: list[bytes], start: int, end: int) -> None:
    """hashTypeTryConversion: convert before writing argv[start..end] when one of them is
    longer than hash-max-listpack-value, or the listpack would pass its 1 GiB safety limit.
    (The entry-count limit is checked after the insert, in hash_type_set.)"""
    if o.encoding != OBJ_ENCODING_LISTPACK:
        return
    maxlen = server.hash_max_listpack_value
    total = 0
    for i in range(start, end + 1):
        n = len(argv[i])
        if n > maxlen:
            hash_type_convert(o, OBJ_ENCODING_HT, argv[1])
            return
        total += n
    if not lp_safe_to_add(o.ptr, total):
        hash_type_convert(o, OBJ_ENCODING_HT, argv[1])


def hash_type_get_from_listpack(o: RObj, field: bytes) -> bytes | int | None:
    """hashTypeGetFromListpack: the value (``int`` if integer-encoded) or None."""
    lp = o.ptr
    if lp[LP_HDR_SIZE] == LP_EOF:
        return None
    fptr = lp_find(lp, LP_HDR_SIZE, field, 1)
    if fptr is None:
        return None
    return _lp_value_after(lp, fptr)


def _lp_value_after(lp: bytearray, fptr: int) -> bytes | int:
    """The entry following the field at ``fptr`` (its value)."""
    return lp_get(lp, lp_skip(lp, fptr))


def hash_type_get_from_hash_table(o: RObj, field: bytes) -> bytes | None:
    """hashTypeGetFromHashTable."""
    de = o.ptr.find(field)
    return None if de is None else de.val


def hash_type_get_value(o: RObj, field: bytes) -> bytes | int | None:
    """hashTypeGetValue: the value of ``field`` or None.  A listpack integer is an ``int``."""
    if o.encoding == OBJ_ENCODING_LISTPACK:
        return hash_type_get_from_listpack(o, field)
    de = o.ptr.find(field)
    return None if de is None else de.val


def hash_type_get_value_object(o: RObj, field: bytes) -> RObj | None:
    """hashTypeGetValueObject: the value as a new string object (for SORT BY/GET)."""
    v = hash_type_get_value(o, field)
    if v is None:
        return None
    if v.__class__ is int:
        return obj.create_string_object_from_long_long_for_value(v)
    return obj.create_string_object(v)


def hash_type_get_value_length(o: RObj, field: bytes) -> int:
    """hashTypeGetValueLength: 0 when the field is missing."""
    v = hash_type_get_value(o, field)
    if v is None:
        return 0
    if v.__class__ is int:
        return util.sdigits10(v)
    return len(v)


def hash_type_exists(o: RObj, field: bytes) -> bool:
    """hashTypeExists."""
    return hash_type_get_value(o, field) is not None


def hash_type_set(o: RObj, field: bytes, value: bytes, key: bytes | None = None) -> bool:
    """hashTypeSet: add or overwrite; True when an existing field was updated.

    A field or value too long for a listpack converts first (HINCRBY* reach here without
    hash_type_try_conversion); too many fields afterwards converts too.
    """
    if o.encoding == OBJ_ENCODING_LISTPACK:
        maxlen = server.hash_max_listpack_value
        if len(field) > maxlen or len(value) > maxlen:
            hash_type_convert(o, OBJ_ENCODING_HT, key)
    if o.encoding == OBJ_ENCODING_LISTPACK:
        lp = o.ptr
        update = False
        if lp[LP_HDR_SIZE] != LP_EOF:
            fptr = lp_find(lp, LP_HDR_SIZE, field, 1)
            if fptr is not None:
                lp_replace(lp, lp_skip(lp, fptr), value)
                update = True
        if not update:
            lp_append(lp, field)
            lp_append(lp, value)
        if lp_length(lp) // 2 > server.hash_max_listpack_entries:
            hash_type_convert(o, OBJ_ENCODING_HT, key)
        return update
    entry, existing = o.ptr.add_raw(field)
    if entry is not None:
        entry.val = value
        return False
    existing.val = value
    return True


def hash_type_delete(o: RObj, field: bytes) -> bool:
    """hashTypeDelete: True if the field existed.  A hashtable is shrunk when it gets sparse."""
    if o.encoding == OBJ_ENCODING_LISTPACK:
        lp = o.ptr
        if lp[LP_HDR_SIZE] == LP_EOF:
            return False
        fptr = lp_find(lp, LP_HDR_SIZE, field, 1)
        if fptr is None:
            return False
        lp_delete_range_with_entry(lp, fptr, 2)
        return True
    d = o.ptr
    if d.delete(field):
        if dictmod.ht_needs_resize(d):
            dictmod.dict_resize(d)
        return True
    return False


def hash_type_length(o: RObj) -> int:
    """hashTypeLength: number of fields."""
    if o.encoding == OBJ_ENCODING_LISTPACK:
        return lp_length(o.ptr) // 2
    return len(o.ptr)


def hash_type_iter(o: RObj) -> Iterator[tuple[bytes | int, bytes | int]]:
    """hashTypeInitIterator + hashTypeNext: ``(field, value)`` pairs in storage order.

    Listpack integers come out as ``int``.  The hash must not change while iterating.
    """
    if o.encoding == OBJ_ENCODING_LISTPACK:
        it = lp_iter(o.ptr)
        return zip(it, it, strict=True)
    return ((de.key, de.val) for de in o.ptr.iterator())


def hash_type_iter_bytes(o: RObj) -> Iterator[tuple[bytes, bytes]]:
    """hash_type_iter with every field and value as bytes (hashTypeCurrentObjectNewSds)."""
    for f, v in hash_type_iter(o):
        yield (b"%d" % f if f.__class__ is int else f), (b"%d" % v if v.__class__ is int else v)


def hash_type_lookup_write_or_create(c, key: bytes) -> RObj | None:
    """hashTypeLookupWriteOrCreate: the hash at key (created empty if missing), or None after
    a WRONGTYPE reply."""
    o = dbmod.lookup_key_write(c.db, key)
    if o is not None:
        if o.type != OBJ_HASH:
            net.add_reply_error_object(c, shared.wrongtypeerr)
            return None
        return o
    o = create_hash_object()
    dbmod.db_add(c.db, key, o)
    return o


def hash_type_convert_listpack(o: RObj, enc: int, key: bytes | None = None) -> None:
    """hashTypeConvertListpack: move every pair into a presized Dict.

    A duplicate field means the listpack was corrupt (e.g. a bad RESTORE payload): Redis
    panics; tracered raises, which fails the command without touching the object.
    """
    if enc == OBJ_ENCODING_LISTPACK:
        return
    if enc != OBJ_ENCODING_HT:
        raise ValueError("Unknown hash encoding")
    lp = o.ptr
    d = dictmod.Dict()
    d.expand(lp_length(lp) // 2)
    it = lp_iter(lp)
    for f, v in zip(it, it, strict=True):
        if f.__class__ is int:
            f = b"%d" % f
        if v.__class__ is int:
            v = b"%d" % v
        if not d.add(f, v):
            raise ValueError("Listpack corruption detected: duplicate hash field")
    if probes.armed:
        probes.event("encoding.convert", {"redis.key": _key_text(key), "from": "listpack",
                                          "to": "hashtable", "redis.hash.length": len(d)})
    o.encoding = OBJ_ENCODING_HT
    o.ptr = d


@probe("hashTypeConvert")
def hash_type_convert(o: RObj, enc: int, key: bytes | None = None) -> None:
    """hashTypeConvert: only listpack -> hashtable exists (Redis panics on the reverse)."""
    if o.encoding == OBJ_ENCODING_LISTPACK:
        hash_type_convert_listpack(o, enc, key)
    elif o.encoding == OBJ_ENCODING_HT:
        raise NotImplementedError("hashtable -> listpack conversion is not implemented")
    else:
        raise ValueError("Unknown hash encoding")


def hash_type_dup(o: RObj) -> RObj:
    """hashTypeDup (COPY): a deep copy with the same encoding."""
    if o.encoding == OBJ_ENCODING_LISTPACK:
        return RObj(OBJ_HASH, OBJ_ENCODING_LISTPACK, bytearray(o.ptr))
    src = o.ptr
    d = dictmod.Dict()
    d.expand(len(src))
    for de in src.iterator():
        d.add(de.key, de.val)
    return RObj(OBJ_HASH, OBJ_ENCODING_HT, d)


def hash_type_random_element(o: RObj, size: int) -> tuple[bytes | int, bytes | int]:
    """hashTypeRandomElement: a random ``(field, value)`` of a non-empty hash."""
    if o.encoding == OBJ_ENCODING_HT:
        de = o.ptr.get_fair_random_key()
        return de.key, de.val
    return lp_random_pair(o.ptr, size)


# --------------------------------------------------------------------------------------------
# Hash type commands
# --------------------------------------------------------------------------------------------

def hsetnx_command(c) -> None:
    """HSETNX key field value."""
    argv = c.argv
    key = argv[1]
    o = hash_type_lookup_write_or_create(c, key)
    if o is None:
        return
    if hash_type_exists(o, argv[2]):
        net.add_reply(c, shared.czero)
        return
    hash_type_try_conversion(o, argv, 2, 3)
    hash_type_set(o, argv[2], argv[3], key)
    net.add_reply(c, shared.cone)
    dbmod.signal_modified_key(c, c.db, key)
    dbmod.notify_keyspace_event(dbmod.NOTIFY_HASH, "hset", key, c.db.id)
    server.dirty += 1


def hset_command(c) -> None:
    """HSET key field value [field value ...] and the deprecated HMSET (replies +OK)."""
    argv = c.argv
    argc = len(argv)
    if argc % 2 == 1:
        net.add_reply_error_arity(c)
        return
    key = argv[1]
    o = hash_type_lookup_write_or_create(c, key)
    if o is None:
        return
    hash_type_try_conversion(o, argv, 2, argc - 1)
    created = 0
    for i in range(2, argc, 2):
        if not hash_type_set(o, argv[i], argv[i + 1], key):
            created += 1
    # HSET and HMSET share this proc; Redis tells them apart by the second letter.
    if argv[0][1] in b"sS":
        net.add_reply_long_long(c, created)
    else:
        net.add_reply(c, shared.ok)
    dbmod.signal_modified_key(c, c.db, key)
    dbmod.notify_keyspace_event(dbmod.NOTIFY_HASH, "hset", key, c.db.id)
    server.dirty += (argc - 2) // 2


def hincrby_command(c) -> None:
    """HINCRBY key field increment."""
    argv = c.argv
    incr = dbmod.get_long_long_from_object_or_reply(c, argv[3])
    if incr is None:
        return
    key = argv[1]
    o = hash_type_lookup_write_or_create(c, key)
    if o is None:
        return
    cur = hash_type_get_value(o, argv[2])
    if cur is None:
        value = 0
    elif cur.__class__ is int:
        value = cur
    else:
        value = util.string2ll(cur)
        if value is None:
            net.add_reply_error(c, "hash value is not an integer")
            return
    value += incr
    if value > LONG_MAX or value < LONG_MIN:
        net.add_reply_error(c, shared.INCR_OVERFLOW)
        return
    hash_type_set(o, argv[2], b"%d" % value, key)
    net.add_reply_long_long(c, value)
    dbmod.signal_modified_key(c, c.db, key)
    dbmod.notify_keyspace_event(dbmod.NOTIFY_HASH, "hincrby", key, c.db.id)
    server.dirty += 1


def hincrbyfloat_command(c) -> None:
    """HINCRBYFLOAT key field increment: long double arithmetic, replicated as HSET."""
    argv = c.argv
    incr = util.string2ld(argv[3])
    if incr is None:
        net.add_reply_error(c, shared.NOT_FLOAT)
        return
    if not util.ld_isfinite(incr):
        net.add_reply_error(c, "value is NaN or Infinity")
        return
    key = argv[1]
    o = hash_type_lookup_write_or_create(c, key)
    if o is None:
        return
    cur = hash_type_get_value(o, argv[2])
    if cur is None:
        value = 0
    elif cur.__class__ is int:
        value = cur
    else:
        value = util.string2ld(cur)
        if value is None:
            net.add_reply_error(c, "hash value is not a float")
            return
    value = incr + value
    if value != value or not util.ld_isfinite(value):
        net.add_reply_error(c, "increment would produce NaN or Infinity")
        return
    buf = util.ld2string(value, util.LD_STR_HUMAN)
    hash_type_set(o, argv[2], buf, key)
    net.add_reply_bulk(c, buf)
    dbmod.signal_modified_key(c, c.db, key)
    dbmod.notify_keyspace_event(dbmod.NOTIFY_HASH, "hincrbyfloat", key, c.db.id)
    server.dirty += 1
    # Replicas and the AOF get the result, not the operation: float formatting or precision
    # differences must never make them diverge.
    c.argv = [b"HSET", key, argv[2], buf]


def _add_hash_field_to_reply(c, o: RObj | None, field: bytes) -> None:
    """addHashFieldToReply."""
    if o is None:
        net.add_reply(c, shared.null[c.resp])
        return
    v = hash_type_get_value(o, field)
    if v is None:
        net.add_reply(c, shared.null[c.resp])
    elif v.__class__ is int:
        net.add_reply_bulk(c, b"%d" % v)
    else:
        net.add_reply_bulk(c, v)


def hget_command(c) -> None:
    """HGET key field."""
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.null[c.resp])
    if o is None or dbmod.check_type(c, o, OBJ_HASH):
        return
    _add_hash_field_to_reply(c, o, c.argv[2])


def hmget_command(c) -> None:
    """HMGET key field [field ...]: a missing key is an empty hash (all nulls)."""
    argv = c.argv
    o = dbmod.lookup_key_read(c.db, argv[1])
    if dbmod.check_type(c, o, OBJ_HASH):
        return
    nullb = shared.null[c.resp]
    parts = [_arr(len(argv) - 2)]
    for field in argv[2:]:
        v = None if o is None else hash_type_get_value(o, field)
        if v is None:
            parts.append(nullb)
        else:
            if v.__class__ is int:
                v = b"%d" % v
            parts.append(_hdr(len(v)))
            parts.append(v)
            parts.append(_CRLF)
    net.add_reply(c, b"".join(parts))


def hdel_command(c) -> None:
    """HDEL key field [field ...]: the key goes away with its last field."""
    argv = c.argv
    key = argv[1]
    o = dbmod.lookup_key_write_or_reply(c, key, shared.czero)
    if o is None or dbmod.check_type(c, o, OBJ_HASH):
        return
    deleted = 0
    keyremoved = False
    for field in argv[2:]:
        if hash_type_delete(o, field):
            deleted += 1
            if hash_type_length(o) == 0:
                dbmod.db_delete(c.db, key)
                keyremoved = True
                break
    if deleted:
        dbmod.signal_modified_key(c, c.db, key)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_HASH, "hdel", key, c.db.id)
        if keyremoved:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, c.db.id)
        server.dirty += deleted
    net.add_reply_long_long(c, deleted)


def hlen_command(c) -> None:
    """HLEN key."""
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.czero)
    if o is None or dbmod.check_type(c, o, OBJ_HASH):
        return
    net.add_reply_long_long(c, hash_type_length(o))


def hstrlen_command(c) -> None:
    """HSTRLEN key field."""
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.czero)
    if o is None or dbmod.check_type(c, o, OBJ_HASH):
        return
    net.add_reply_long_long(c, hash_type_get_value_length(o, c.argv[2]))


def generic_hgetall_command(c, flags: int) -> None:
    """genericHgetallCommand: HKEYS / HVALS (arrays) and HGETALL (a RESP3 map)."""
    both = flags == OBJ_HASH_KEY | OBJ_HASH_VALUE
    empty = shared.emptymap[c.resp] if both else shared.emptyarray
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], empty)
    if o is None or dbmod.check_type(c, o, OBJ_HASH):
        return
    if o.encoding == OBJ_ENCODING_LISTPACK:
        # A listpack alternates field, value: take every element, or every other one.
        items = _lp_bytes_list(o.ptr)
        if not both:
            items = items[0::2] if flags == OBJ_HASH_KEY else items[1::2]
    elif both:
        items = _ht_flat(o.ptr)
    elif flags == OBJ_HASH_KEY:
        items = ht_keys(o.ptr)
    else:
        items = _ht_vals(o.ptr)
    n = len(items)
    if both and c.resp == 3:
        n //= 2
        head = shared.maphdr[n] if n < 1024 else b"%%%d\r\n" % n
    else:
        head = _arr(n)
    net.add_reply(c, head + bulk_join(items))


def hkeys_command(c) -> None:
    generic_hgetall_command(c, OBJ_HASH_KEY)


def hvals_command(c) -> None:
    generic_hgetall_command(c, OBJ_HASH_VALUE)


def hgetall_command(c) -> None:
    generic_hgetall_command(c, OBJ_HASH_KEY | OBJ_HASH_VALUE)


def hexists_command(c) -> None:
    """HEXISTS key field."""
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.czero)
    if o is None or dbmod.check_type(c, o, OBJ_HASH):
        return
    net.add_reply(c, shared.cone if hash_type_exists(o, c.argv[2]) else shared.czero)


def hscan_command(c) -> None:
    """HSCAN key cursor [MATCH pattern] [COUNT count] (db.scan_generic_command does the
    walk; hash_scan_source tells it how)."""
    cursor = dbmod.parse_scan_cursor_or_reply(c, c.argv[2])
    if cursor is None:
        return
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.emptyscan)
    if o is None or dbmod.check_type(c, o, OBJ_HASH):
        return
    dbmod.scan_generic_command(c, o, cursor)


# HRANDFIELD strategies (see hrandfield_with_count_command).
HRANDFIELD_SUB_STRATEGY_MUL = 3
HRANDFIELD_RANDOM_SAMPLE_LIMIT = 1000


def _hrandfield_reply_pairs(c, parts: list, keys: list, vals: list | None) -> None:
    """hrandfieldReplyWithListpack: fields (and values; pairs nested in RESP3)."""
    append = parts.append
    nested = vals is not None and c.resp > 2
    for i, k in enumerate(keys):
        if nested:
            append(b"*2\r\n")
        if k.__class__ is int:
            k = b"%d" % k
        append(_hdr(len(k)))
        append(k)
        append(_CRLF)
        if vals is not None:
            v = vals[i]
            if v.__class__ is int:
                v = b"%d" % v
            append(_hdr(len(v)))
            append(v)
            append(_CRLF)


def hrandfield_with_count_command(c, l: int, withvalues: bool) -> None:
    """hrandfieldWithCountCommand: the four cases of Redis, chosen by count vs size.

    1. negative count (repeats allowed) or count 1: independent random picks;
    2. count >= size: the whole hash;
    3. count close to size (count*3 > size): copy everything, remove random fields;
    4. otherwise: unique random picks (one pass over a listpack, retries on a Dict).
    """
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.emptyarray)
    if o is None or dbmod.check_type(c, o, OBJ_HASH):
        return
    size = hash_type_length(o)
    if l >= 0:
        count = l
        uniq = True
    else:
        count = -l
        uniq = False
    if count == 0:
        net.add_reply(c, shared.emptyarray)
        return
    resp3_pairs = withvalues and c.resp > 2

    # CASE 1
    if not uniq or count == 1:
        net.add_reply(c, _arr(count * 2 if withvalues and c.resp == 2 else count))
        if o.encoding == OBJ_ENCODING_HT:
            d = o.ptr
            while count:
                batch = min(count, HRANDFIELD_RANDOM_SAMPLE_LIMIT)
                count -= batch
                parts: list[bytes] = []
                for _ in range(batch):
                    de = d.get_fair_random_key()
                    if resp3_pairs:
                        parts.append(b"*2\r\n")
                    parts += (_hdr(len(de.key)), de.key, _CRLF)
                    if withvalues:
                        parts += (_hdr(len(de.val)), de.val, _CRLF)
                net.add_reply(c, b"".join(parts))
                if c.flags & net.CLIENT_CLOSE_ASAP:
                    break
        else:
            limit = min(count, HRANDFIELD_RANDOM_SAMPLE_LIMIT)
            while count:
                sample = min(count, limit)
                count -= sample
                keys, vals = lp_random_pairs(o.ptr, sample, withvalues)
                parts = []
                _hrandfield_reply_pairs(c, parts, keys, vals)
                net.add_reply(c, b"".join(parts))
                if c.flags & net.CLIENT_CLOSE_ASAP:
                    break
        return

    reply_size = min(count, size)
    parts = [_arr(reply_size * 2 if withvalues and c.resp == 2 else reply_size)]

    # CASE 2
    if count >= size:
        for f, v in hash_type_iter(o):
            if resp3_pairs:
                parts.append(b"*2\r\n")
            if f.__class__ is int:
                f = b"%d" % f
            parts += (_hdr(len(f)), f, _CRLF)
            if withvalues:
                if v.__class__ is int:
                    v = b"%d" % v
                parts += (_hdr(len(v)), v, _CRLF)
        net.add_reply(c, b"".join(parts))
        return

    # CASE 3
    if count * HRANDFIELD_SUB_STRATEGY_MUL > size:
        d = dictmod.Dict()
        d.expand(size)
        for f, v in hash_type_iter_bytes(o):
            d.add(f, v if withvalues else None)
        while size > count:
            de = d.get_fair_random_key()
            d.delete(de.key)
            size -= 1
        for de in d.iterator():
            if resp3_pairs:
                parts.append(b"*2\r\n")
            parts += (_hdr(len(de.key)), de.key, _CRLF)
            if withvalues:
                parts += (_hdr(len(de.val)), de.val, _CRLF)
        net.add_reply(c, b"".join(parts))
        return

    # CASE 4
    if o.encoding == OBJ_ENCODING_LISTPACK:
        keys, vals = lp_random_pairs_unique(o.ptr, count, withvalues)
        assert len(keys) == count
        _hrandfield_reply_pairs(c, parts, keys, vals)
        net.add_reply(c, b"".join(parts))
        return
    picked = dictmod.Dict()
    picked.expand(count)
    added = 0
    while added < count:
        f, v = hash_type_random_element(o, size)
        if not picked.add(f, None):
            continue
        added += 1
        if resp3_pairs:
            parts.append(b"*2\r\n")
        parts += (_hdr(len(f)), f, _CRLF)
        if withvalues:
            parts += (_hdr(len(v)), v, _CRLF)
    net.add_reply(c, b"".join(parts))


def hrandfield_command(c) -> None:
    """HRANDFIELD key [count [WITHVALUES]]."""
    argv = c.argv
    argc = len(argv)
    if argc >= 3:
        l = dbmod.get_range_long_from_object_or_reply(c, argv[2], -LONG_MAX, LONG_MAX)
        if l is None:
            return
        if argc > 4 or (argc == 4 and argv[3].lower() != b"withvalues"):
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        withvalues = argc == 4
        if withvalues and (l < -(LONG_MAX // 2) or l > LONG_MAX // 2):
            net.add_reply_error(c, "value is out of range")
            return
        hrandfield_with_count_command(c, l, withvalues)
        return
    o = dbmod.lookup_key_read_or_reply(c, argv[1], shared.null[c.resp])
    if o is None or dbmod.check_type(c, o, OBJ_HASH):
        return
    f, _ = hash_type_random_element(o, hash_type_length(o))
    net.add_reply_bulk(c, b"%d" % f if f.__class__ is int else f)


# --------------------------------------------------------------------------------------------
# HSCAN: how db.scan_generic_command walks a hash
# --------------------------------------------------------------------------------------------

def _hash_scan_emit(de, out: list) -> None:
    out.append(de.key)
    out.append(de.val)


def hash_scan_source(o: RObj):
    """db.scan_funcs hook: a hashtable is scanned by cursor (field, value per entry); a
    listpack is small by construction and returned whole (cursor 0), as in Redis."""
    if o.encoding == OBJ_ENCODING_HT:
        return o.ptr, True, _hash_scan_emit
    return None, True, _lp_bytes_list(o.ptr)


# --------------------------------------------------------------------------------------------
# Per-type hooks: MEMORY USAGE, DEBUG DIGEST, COPY, length, preview
# --------------------------------------------------------------------------------------------

ROBJ_SIZE = 16          # sizeof(robj)
DICT_SIZE = 56          # sizeof(dict) in 7.0 (52 bytes padded to 8)
DICT_ENTRY_SIZE = 24    # sizeof(dictEntry): key, value union, next
POINTER_SIZE = 8


def hash_memory_usage(o: RObj, samples: int) -> int:
    """objectComputeSize for a hash: listpack bytes, or the dict's tables plus the average
    of the first ``samples`` entries (0 = all) times the number of entries."""
    if o.encoding == OBJ_ENCODING_LISTPACK:
        return ROBJ_SIZE + zmalloc_size(len(o.ptr))
    d = o.ptr
    asize = ROBJ_SIZE + DICT_SIZE + POINTER_SIZE * d.slots()
    elesize = 0
    n = 0
    for de in d.iterator():
        if samples and n >= samples:
            break
        elesize += sds_zmalloc_size(len(de.key)) + sds_zmalloc_size(len(de.val))
        elesize += DICT_ENTRY_SIZE
        n += 1
    if n:
        asize += int(elesize / n * len(d))
    return asize


def hash_digest_value(o: RObj) -> list[tuple[bytes, bytes]]:
    """digest.py's plain hash form: (field, value) pairs as bytes."""
    return list(hash_type_iter_bytes(o))


def hash_preview(o: RObj, limit: int) -> str:
    """At most ``limit`` pairs as ``{field: value, ...}`` for the debugger's inspector."""
    out = []
    for n, (f, v) in enumerate(hash_type_iter_bytes(o)):
        if n >= limit:
            out.append("...")
            break
        out.append(f"{f.decode('utf-8', 'replace')!r}: {v.decode('utf-8', 'replace')!r}")
    return "{" + ", ".join(out) + "}"


obj.memory_usage_funcs[OBJ_HASH] = hash_memory_usage
obj.digest_value_funcs[OBJ_HASH] = hash_digest_value
obj.dup_funcs[OBJ_HASH] = hash_type_dup
obj.length_funcs[OBJ_HASH] = hash_type_length
obj.preview_funcs[OBJ_HASH] = hash_preview
dbmod.scan_funcs[OBJ_HASH] = hash_scan_source


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

def _ks(flags: str) -> list[KeySpec]:
    return [KeySpec(flags, 1, lastkey=0, keystep=1)]


_SCAN_COMPLEXITY = ("O(1) for every call. O(N) for a complete iteration, including enough "
                    "command calls for the cursor to return back to 0. N is the number of "
                    "elements inside the collection..")

COMMANDS = [
    cmd("hdel", hdel_command, -3, "write fast", keys=(1, 1, 1), acl="hash", group="hash",
        since="2.0.0", complexity="O(N) where N is the number of fields to be removed.",
        summary="Delete one or more hash fields", args="key field [field ...]",
        key_specs=_ks("RW delete")),
    cmd("hexists", hexists_command, 3, "readonly fast", keys=(1, 1, 1), acl="hash",
        group="hash", since="2.0.0", summary="Determine if a hash field exists",
        args="key field", key_specs=_ks("RO")),
    cmd("hget", hget_command, 3, "readonly fast", keys=(1, 1, 1), acl="hash", group="hash",
        since="2.0.0", summary="Get the value of a hash field", args="key field",
        key_specs=_ks("RO access")),
    cmd("hgetall", hgetall_command, 2, "readonly", keys=(1, 1, 1), acl="hash", group="hash",
        since="2.0.0", complexity="O(N) where N is the size of the hash.",
        summary="Get all the fields and values in a hash", args="key",
        key_specs=_ks("RO access"), tips="nondeterministic_output_order"),
    cmd("hincrby", hincrby_command, 4, "write denyoom fast", keys=(1, 1, 1), acl="hash",
        group="hash", since="2.0.0",
        summary="Increment the integer value of a hash field by the given number",
        args="key field increment", key_specs=_ks("RW access update")),
    cmd("hincrbyfloat", hincrbyfloat_command, 4, "write denyoom fast", keys=(1, 1, 1),
        acl="hash", group="hash", since="2.6.0",
        summary="Increment the float value of a hash field by the given amount",
        args="key field increment", key_specs=_ks("RW access update")),
    cmd("hkeys", hkeys_command, 2, "readonly", keys=(1, 1, 1), acl="hash", group="hash",
        since="2.0.0", complexity="O(N) where N is the size of the hash.",
        summary="Get all the fields in a hash", args="key", key_specs=_ks("RO access"),
        tips="nondeterministic_output_order"),
    cmd("hlen", hlen_command, 2, "readonly fast", keys=(1, 1, 1), acl="hash", group="hash",
        since="2.0.0", summary="Get the number of fields in a hash", args="key",
        key_specs=_ks("RO")),
    cmd("hmget", hmget_command, -3, "readonly fast", keys=(1, 1, 1), acl="hash",
        group="hash", since="2.0.0",
        complexity="O(N) where N is the number of fields being requested.",
        summary="Get the values of all the given hash fields", args="key field [field ...]",
        key_specs=_ks("RO access")),
    cmd("hmset", hset_command, -4, "write denyoom fast", keys=(1, 1, 1), acl="hash",
        group="hash", since="2.0.0",
        complexity="O(N) where N is the number of fields being set.",
        summary="Set multiple hash fields to multiple values",
        args="key field value [field value ...]", key_specs=_ks("RW update"),
        doc_flags="deprecated", deprecated_since="4.0.0",
        replaced_by="`HSET` with multiple field-value pairs"),
    cmd("hrandfield", hrandfield_command, -2, "readonly", keys=(1, 1, 1), acl="hash",
        group="hash", since="6.2.0",
        complexity="O(N) where N is the number of fields returned",
        summary="Get one or multiple random fields from a hash",
        args="key [count [WITHVALUES]]", key_specs=_ks("RO access"),
        tips="nondeterministic_output"),
    cmd("hscan", hscan_command, -3, "readonly", keys=(1, 1, 1), acl="hash", group="hash",
        since="2.8.0", complexity=_SCAN_COMPLEXITY,
        summary="Incrementally iterate hash fields and associated values",
        args="key cursor [MATCH pattern] [COUNT count]", key_specs=_ks("RO access"),
        tips="nondeterministic_output"),
    cmd("hset", hset_command, -4, "write denyoom fast", keys=(1, 1, 1), acl="hash",
        group="hash", since="2.0.0",
        complexity="O(1) for each field/value pair added, so O(N) to add N field/value "
                   "pairs when the command is called with multiple field/value pairs.",
        summary="Set the string value of a hash field",
        args="key field value [field value ...]", key_specs=_ks("RW update")),
    cmd("hsetnx", hsetnx_command, 4, "write denyoom fast", keys=(1, 1, 1), acl="hash",
        group="hash", since="2.0.0",
        summary="Set the value of a hash field, only if the field does not exist",
        args="key field value", key_specs=_ks("RW insert")),
    cmd("hstrlen", hstrlen_command, 3, "readonly fast", keys=(1, 1, 1), acl="hash",
        group="hash", since="3.2.0", summary="Get the length of the value of a hash field",
        args="key field", key_specs=_ks("RO")),
    cmd("hvals", hvals_command, 2, "readonly", keys=(1, 1, 1), acl="hash", group="hash",
        since="2.0.0", complexity="O(N) where N is the size of the hash.",
        summary="Get all the values in a hash", args="key", key_specs=_ks("RO access"),
        tips="nondeterministic_output_order"),
]
