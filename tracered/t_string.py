"""String commands: the mirror of t_string.c.

In t_string.c order: checkStringLength, setGenericCommand (SET SETNX SETEX PSETEX),
getExpireMillisecondsOrReply, parseExtendedStringArgumentsOrReply, GET GETEX GETDEL GETSET,
SETRANGE GETRANGE (SUBSTR), MGET MSET MSETNX, incrDecrCommand (INCR DECR INCRBY DECRBY),
INCRBYFLOAT, APPEND, STRLEN, LCS.  Then the string type's hooks for generic code (MEMORY USAGE,
DEBUG DIGEST, COPY, the debugger) and the command table rows.

Encodings follow Redis exactly because OBJECT ENCODING shows them:

* SET / SETNX / SETEX / GETSET / MSET / APPEND-to-a-missing-key store tryObjectEncoding of
  the argument: ``int`` (a shared object for 0..9999), ``embstr`` up to 44 bytes, ``raw``.
* INCR and friends keep ``int``, updating a private int object in place (incrDecrCommand).
* INCRBYFLOAT stores the printed result with createStringObject: ``embstr``/``raw``, never
  ``int``, even for ``"3"``.
* APPEND to an existing key and SETRANGE always leave a ``raw`` string (dbUnshareStringValue).

Propagation: Redis 7.0 rewrites some commands before call() feeds them to the AOF and the
replicas, so a replay gives the same data whatever the clock or float formatting: SET with a
relative or absolute TTL (and SETEX/PSETEX) -> ``SET key value PXAT <abs-ms>``; SET ... GET
without TTL -> the same SET without GET; GETSET -> SET; GETEX -> PEXPIREAT / PERSIST / DEL;
GETDEL -> DEL; INCRBYFLOAT -> ``SET key <result> KEEPTTL``.
:func:`rewrite_client_command_vector` does what rewriteClientCommandVector does.

Divergence: a raw string grown by APPEND or SETRANGE is an :class:`SdsBuffer`, a bytearray
that also records the allocation Redis's sds would have (sdsMakeRoomFor's greedy doubling
rounded up to jemalloc size classes), so MEMORY USAGE can report what Redis reports.  The
bytes themselves are Python's; only the accounting is emulated.

Divergence: LCS fills its table with the bit-parallel row recurrence of Allison and Dix (one
big-integer row per character of the first string) instead of one cell at a time, because a
Python loop over N*M cells would block the server for seconds on strings Redis handles in
milliseconds.  The table holds the same LCS(i, j) values and the backtrack walks it exactly as
lcsCommand does, so replies (including which matches IDX reports) are identical.

Divergence: rewrite_client_command_vector belongs in networking.py (networking.c); it lives
here until networking grows it.  Client has no ``original_argv``, so MONITOR and SLOWLOG see the
rewritten vector of a rewritten command (Redis shows what the client sent).
"""

from __future__ import annotations

from tracered import db as dbmod
from tracered import networking as net
from tracered import object as obj
from tracered import shared, util
from tracered.commands import KeySpec, cmd
from tracered.db import (
    LOOKUP_WRITE,
    NOTIFY_GENERIC,
    NOTIFY_STRING,
    SETKEY_ALREADY_EXIST,
    SETKEY_DOESNT_EXIST,
    SETKEY_KEEPTTL,
)
from tracered.object import (
    OBJ_ENCODING_EMBSTR,
    OBJ_ENCODING_INT,
    OBJ_ENCODING_RAW,
    OBJ_SHARED_INTEGERS,
    OBJ_STRING,
    RObj,
)
from tracered.server import server
from tracered.trace import probes
from tracered.trace.probes import probe

LLONG_MAX = util.LLONG_MAX
LLONG_MIN = util.LLONG_MIN
UINT32_MAX = (1 << 32) - 1
CLIENT_ID_AOF = (1 << 64) - 1  # the AOF loading client's id (server.h), it must be obeyed

# Names of the rewritten commands, as createSharedObjects spells them.
_SET = b"SET"
_PXAT = b"PXAT"
_KEEPTTL = b"KEEPTTL"
_PEXPIREAT = b"PEXPIREAT"
_PERSIST = b"PERSIST"
_DEL = b"DEL"
_UNLINK = b"UNLINK"


# --------------------------------------------------------------------------------------------
# Client command vector rewriting (networking.c)
# --------------------------------------------------------------------------------------------

# rewriteClientCommandVector lives in networking.py, as in Redis; re-exported for callers.
rewrite_client_command_vector = net.rewrite_client_command_vector
rewrite_client_command_argument = net.rewrite_client_command_argument


# --------------------------------------------------------------------------------------------
# Helpers: argument parsing and lengths
# --------------------------------------------------------------------------------------------

def _c_str(a: bytes) -> bytes:
    """An argument as C code reading ``argv[j]->ptr`` sees it: up to the first NUL byte.
    Redis matches option names with strcasecmp and char tests, so ``"NX\\0junk"`` is NX."""
    nul = a.find(b"\0")
    return a if nul < 0 else a[:nul]


def get_long_long_from_object_or_reply(c: net.Client, o: RObj | None) -> int | None:
    """getLongLongFromObjectOrReply for a stored value (None replies the error)."""
    v = obj.get_long_long_from_object(o)
    if v is None:
        net.add_reply_error(c, shared.NOT_INTEGER)
    return v


def _arg_long_long_or_reply(c: net.Client, a: bytes) -> int | None:
    """getLongLongFromObjectOrReply for an argument."""
    v = util.string2ll(a)
    if v is None:
        net.add_reply_error(c, shared.NOT_INTEGER)
    return v


def get_long_double_from_object_or_reply(c: net.Client, o: RObj | bytes | None):
    """getLongDoubleFromObjectOrReply: a missing value reads as 0, an int-encoded one
    exactly, a string through string2ld (long double emulation, see util.py)."""
    if o is None:
        return 0
    if type(o) is RObj:
        if o.encoding == OBJ_ENCODING_INT:
            return o.ptr
        o = o.ptr
    v = util.string2ld(bytes(o))
    if v is None:
        net.add_reply_error(c, shared.NOT_FLOAT)
    return v


def must_obey_client(c: net.Client) -> bool:
    """mustObeyClient: the master link and the AOF loader are never refused a write."""
    return bool(c.flags & net.CLIENT_MASTER) or c.id == CLIENT_ID_AOF


def check_string_length(c: net.Client, size: int, append: int) -> bool:
    """checkStringLength: False (and an error reply) when size+append would exceed
    proto-max-bulk-len, the limit of the biggest string object."""
    if must_obey_client(c):
        return True
    if size + append > server.proto_max_bulk_len:
        net.add_reply_error(c, shared.STRING_TOO_LONG)
        return False
    return True


def _add_reply_bulk_obj(c: net.Client, o: RObj) -> None:
    """addReplyBulk on a string robj (int-encoded values are printed first)."""
    p = o.ptr
    if o.encoding == OBJ_ENCODING_INT:
        net.add_reply_bulk(c, b"%d" % p)
    else:
        net.add_reply_bulk(c, p)


# --------------------------------------------------------------------------------------------
# SET and friends
# --------------------------------------------------------------------------------------------

OBJ_NO_FLAGS = 0
OBJ_SET_NX = 1 << 0
OBJ_SET_XX = 1 << 1
OBJ_EX = 1 << 2
OBJ_PX = 1 << 3
OBJ_KEEPTTL = 1 << 4
OBJ_SET_GET = 1 << 5
OBJ_EXAT = 1 << 6
OBJ_PXAT = 1 << 7
OBJ_PERSIST = 1 << 8

UNIT_SECONDS = 0
UNIT_MILLISECONDS = 1

COMMAND_GET = 0
COMMAND_SET = 1


@probe("setGenericCommand")
def set_generic_command(c: net.Client, flags: int, key: bytes, valarg: bytes,
                        expire: bytes | None, unit: int, ok_reply: bytes | None,
                        abort_reply: bytes | None) -> None:
    """setGenericCommand: SET with its options, and SETNX / SETEX / PSETEX.

    ``valarg`` is the value argument as sent (what is propagated); the stored object is its
    tryObjectEncoding.  ``expire`` is the raw EX/PX/EXAT/PXAT argument in ``unit``.
    """
    milliseconds = 0
    if expire is not None:
        milliseconds = get_expire_milliseconds_or_reply(c, expire, flags, unit)
        if milliseconds is None:
            return
    if flags & OBJ_SET_GET and not get_generic_command(c):
        return
    db = c.db
    found = dbmod.lookup_key(db, key, LOOKUP_WRITE) is not None
    if (flags & OBJ_SET_NX and found) or (flags & OBJ_SET_XX and not found):
        if not flags & OBJ_SET_GET:
            net.add_reply(c, abort_reply if abort_reply is not None else shared.null[c.resp])
        return
    setkey_flags = SETKEY_KEEPTTL if flags & OBJ_KEEPTTL else 0
    setkey_flags |= SETKEY_ALREADY_EXIST if found else SETKEY_DOESNT_EXIST
    dbmod.set_key(c, db, key, obj.create_object_for_value(valarg), setkey_flags)
    server.dirty += 1
    dbmod.notify_keyspace_event(NOTIFY_STRING, "set", key, db.id)
    if expire is not None:
        dbmod.set_expire(c, db, key, milliseconds)
        dbmod.notify_keyspace_event(NOTIFY_GENERIC, "expire", key, db.id)
    if not flags & OBJ_SET_GET:
        net.add_reply(c, ok_reply if ok_reply is not None else shared.ok)
    if expire is not None:
        # Replicas and the AOF get an absolute time, so a late replay expires the key at
        # the same moment.
        rewrite_client_command_vector(c, [_SET, key, valarg, _PXAT, b"%d" % milliseconds])
    elif flags & OBJ_SET_GET:
        # GET only shapes the reply: drop every GET option from what is propagated.
        argv = c.argv
        keep = argv[:3] + [a for a in argv[3:] if _c_str(a).lower() != b"get"]
        rewrite_client_command_vector(c, keep)


def get_expire_milliseconds_or_reply(c: net.Client, expire: bytes, flags: int,
                                     unit: int) -> int | None:
    """getExpireMillisecondsOrReply: the absolute expire time in ms, or None after an error
    reply (not an integer, not positive, or overflowing a signed 64-bit ms time)."""
    ms = util.string2ll(expire)
    if ms is None:
        net.add_reply_error(c, shared.NOT_INTEGER)
        return None
    if ms <= 0 or (unit == UNIT_SECONDS and ms > LLONG_MAX // 1000):
        net.add_reply_error(c, shared.INVALID_EXPIRE % c.cmd.fullname)
        return None
    if unit == UNIT_SECONDS:
        ms *= 1000
    if flags & (OBJ_PX | OBJ_EX):
        ms += server.mstime
        if ms > LLONG_MAX:  # the C sum wraps negative there
            net.add_reply_error(c, shared.INVALID_EXPIRE % c.cmd.fullname)
            return None
    return ms


def parse_extended_string_arguments_or_reply(c: net.Client, command_type: int):
    """parseExtendedStringArgumentsOrReply: the options of SET (from argv[3]) or GETEX (from
    argv[2]).  Returns (flags, unit, expire_arg) or None after a syntax error reply.

    Each option is refused (syntax error) when it conflicts with one already seen, which is
    how "SET k v NX XX" or "EX 1 PX 1" are rejected; EX/PX/EXAT/PXAT need a following
    argument.
    """
    argv = c.argv
    argc = len(argv)
    flags = OBJ_NO_FLAGS
    unit = UNIT_SECONDS
    expire = None
    is_set = command_type == COMMAND_SET
    j = 3 if is_set else 2
    any_ttl = OBJ_EX | OBJ_EXAT | OBJ_PX | OBJ_PXAT
    while j < argc:
        opt = _c_str(argv[j]).lower()
        has_next = j != argc - 1
        if opt == b"nx" and is_set and not flags & OBJ_SET_XX:
            flags |= OBJ_SET_NX
        elif opt == b"xx" and is_set and not flags & OBJ_SET_NX:
            flags |= OBJ_SET_XX
        elif opt == b"get" and is_set:
            flags |= OBJ_SET_GET
        elif opt == b"keepttl" and is_set and not flags & (OBJ_PERSIST | any_ttl):
            flags |= OBJ_KEEPTTL
        elif opt == b"persist" and not is_set and not flags & (any_ttl | OBJ_KEEPTTL):
            flags |= OBJ_PERSIST
        elif opt == b"ex" and has_next and \
                not flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EXAT | OBJ_PX | OBJ_PXAT):
            flags |= OBJ_EX
            j += 1
            expire = argv[j]
        elif opt == b"px" and has_next and \
                not flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_EXAT | OBJ_PXAT):
            flags |= OBJ_PX
            unit = UNIT_MILLISECONDS
            j += 1
            expire = argv[j]
        elif opt == b"exat" and has_next and \
                not flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_PX | OBJ_PXAT):
            flags |= OBJ_EXAT
            j += 1
            expire = argv[j]
        elif opt == b"pxat" and has_next and \
                not flags & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_EXAT | OBJ_PX):
            flags |= OBJ_PXAT
            unit = UNIT_MILLISECONDS
            j += 1
            expire = argv[j]
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return None
        j += 1
    return flags, unit, expire


def set_command(c: net.Client) -> None:
    """SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL].

    The plain ``SET key value`` (what redis-benchmark sends) skips option parsing; it does
    what setGenericCommand does with no flags.
    """
    argv = c.argv
    if len(argv) == 3:
        key = argv[1]
        db = c.db
        found = dbmod.lookup_key(db, key, LOOKUP_WRITE) is not None
        dbmod.set_key(c, db, key, obj.create_object_for_value(argv[2]),
                      SETKEY_ALREADY_EXIST if found else SETKEY_DOESNT_EXIST)
        server.dirty += 1
        if server.notify_keyspace_events:
            dbmod.notify_keyspace_event(NOTIFY_STRING, "set", key, db.id)
        net.add_reply(c, shared.ok)
        return
    parsed = parse_extended_string_arguments_or_reply(c, COMMAND_SET)
    if parsed is None:
        return
    flags, unit, expire = parsed
    set_generic_command(c, flags, argv[1], argv[2], expire, unit, None, None)


def setnx_command(c: net.Client) -> None:
    """SETNX key value: 1 if set, 0 if the key existed."""
    argv = c.argv
    set_generic_command(c, OBJ_SET_NX, argv[1], argv[2], None, 0, shared.cone, shared.czero)


def setex_command(c: net.Client) -> None:
    """SETEX key seconds value."""
    argv = c.argv
    set_generic_command(c, OBJ_EX, argv[1], argv[3], argv[2], UNIT_SECONDS, None, None)


def psetex_command(c: net.Client) -> None:
    """PSETEX key milliseconds value."""
    argv = c.argv
    set_generic_command(c, OBJ_PX, argv[1], argv[3], argv[2], UNIT_MILLISECONDS, None, None)


# --------------------------------------------------------------------------------------------
# GET and friends
# --------------------------------------------------------------------------------------------

def get_generic_command(c: net.Client) -> bool:
    """getGenericCommand: reply the value (or null).  False only after a WRONGTYPE error."""
    o = dbmod.lookup_key(c.db, c.argv[1], 0)
    if o is None:
        net.add_reply(c, shared.null[c.resp])
        return True
    if o.type != OBJ_STRING:
        net.add_reply_error_object(c, shared.wrongtypeerr)
        return False
    p = o.ptr
    net.add_reply_bulk(c, b"%d" % p if o.encoding == OBJ_ENCODING_INT else p)
    return True


def get_command(c: net.Client) -> None:
    """GET key: one lookup, one reply (the body of getGenericCommand, inlined: GET is what
    redis-benchmark measures)."""
    o = dbmod.lookup_key(c.db, c.argv[1], 0)
    if o is None:
        net.add_reply(c, shared.null[c.resp])
    elif o.type != OBJ_STRING:
        net.add_reply_error_object(c, shared.wrongtypeerr)
    elif o.encoding == OBJ_ENCODING_INT:
        net.add_reply_bulk(c, b"%d" % o.ptr)
    else:
        net.add_reply_bulk(c, o.ptr)


def check_already_expired(when: int) -> bool:
    """checkAlreadyExpired (expire.c): a time in the past deletes the key at once, except
    while loading or on a replica, which wait for the master's DEL."""
    return when <= server.mstime and not server.loading and not server.masterhost


def getex_command(c: net.Client) -> None:
    """GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]: GET that also sets or clears the
    TTL.  Never propagated as is: it becomes PEXPIREAT, PERSIST or DEL/UNLINK."""
    parsed = parse_extended_string_arguments_or_reply(c, COMMAND_GET)
    if parsed is None:
        return
    flags, unit, expire = parsed
    key = c.argv[1]
    db = c.db
    o = dbmod.lookup_key_read_or_reply(c, key, shared.null[c.resp])
    if o is None or dbmod.check_type(c, o, OBJ_STRING):
        return
    milliseconds = 0
    if expire is not None:
        milliseconds = get_expire_milliseconds_or_reply(c, expire, flags, unit)
        if milliseconds is None:
            return
    # The reply is built before the key may be deleted below.
    _add_reply_bulk_obj(c, o)
    if flags & (OBJ_PXAT | OBJ_EXAT) and check_already_expired(milliseconds):
        dbmod.db_delete(db, key)
        rewrite_client_command_vector(c, [_UNLINK if server.lazyfree_lazy_expire else _DEL,
                                          key])
        dbmod.signal_modified_key(c, db, key)
        dbmod.notify_keyspace_event(NOTIFY_GENERIC, "del", key, db.id)
        server.dirty += 1
    elif expire is not None:
        dbmod.set_expire(c, db, key, milliseconds)
        rewrite_client_command_vector(c, [_PEXPIREAT, key, b"%d" % milliseconds])
        dbmod.signal_modified_key(c, db, key)
        dbmod.notify_keyspace_event(NOTIFY_GENERIC, "expire", key, db.id)
        server.dirty += 1
    elif flags & OBJ_PERSIST:
        if dbmod.remove_expire(db, key):
            dbmod.signal_modified_key(c, db, key)
            rewrite_client_command_vector(c, [_PERSIST, key])
            dbmod.notify_keyspace_event(NOTIFY_GENERIC, "persist", key, db.id)
            server.dirty += 1


def getdel_command(c: net.Client) -> None:
    """GETDEL key: the value, then the key is gone (propagated as DEL or UNLINK)."""
    if not get_generic_command(c):
        return
    key = c.argv[1]
    db = c.db
    if dbmod.db_delete(db, key):
        rewrite_client_command_vector(c, [_UNLINK if server.lazyfree_lazy_user_del else _DEL,
                                          key])
        dbmod.signal_modified_key(c, db, key)
        dbmod.notify_keyspace_event(NOTIFY_GENERIC, "del", key, db.id)
        server.dirty += 1


def getset_command(c: net.Client) -> None:
    """GETSET key value: the old value, and the new one stored without a TTL."""
    if not get_generic_command(c):
        return
    argv = c.argv
    key = argv[1]
    db = c.db
    dbmod.set_key(c, db, key, obj.create_object_for_value(argv[2]), 0)
    dbmod.notify_keyspace_event(NOTIFY_STRING, "set", key, db.id)
    server.dirty += 1
    rewrite_client_command_argument(c, 0, _SET)


# --------------------------------------------------------------------------------------------
# SETRANGE / GETRANGE
# --------------------------------------------------------------------------------------------

def setrange_command(c: net.Client) -> None:
    """SETRANGE key offset value: overwrite from offset, zero-padding past the end; the
    reply is the new length."""
    argv = c.argv
    key = argv[1]
    value = argv[3]
    vlen = len(value)
    offset = _arg_long_long_or_reply(c, argv[2])
    if offset is None:
        return
    if offset < 0:
        net.add_reply_error(c, shared.OFFSET_OUT_OF_RANGE)
        return
    db = c.db
    o = dbmod.lookup_key(db, key, LOOKUP_WRITE)
    if o is None:
        if vlen == 0:
            net.add_reply(c, shared.czero)
            return
        if not check_string_length(c, offset, vlen):
            return
        o = RObj(OBJ_STRING, OBJ_ENCODING_RAW, sds_new_len(offset + vlen))
        dbmod.db_add(db, key, o)
    else:
        if dbmod.check_type(c, o, OBJ_STRING):
            return
        olen = obj.string_len(o)
        if vlen == 0:
            net.add_reply_long_long(c, olen)
            return
        if not check_string_length(c, offset, vlen):
            return
        o = db_unshare_string_value(db, key, o)
    buf = o.ptr
    sds_grow_zero(buf, offset + vlen)
    buf[offset:offset + vlen] = value
    dbmod.signal_modified_key(c, db, key)
    dbmod.notify_keyspace_event(NOTIFY_STRING, "setrange", key, db.id)
    server.dirty += 1
    net.add_reply_long_long(c, len(buf))


def getrange_command(c: net.Client) -> None:
    """GETRANGE key start end (and SUBSTR): inclusive, negative indexes from the end."""
    argv = c.argv
    start = _arg_long_long_or_reply(c, argv[2])
    if start is None:
        return
    end = _arg_long_long_or_reply(c, argv[3])
    if end is None:
        return
    o = dbmod.lookup_key_read_or_reply(c, argv[1], shared.emptybulk)
    if o is None or dbmod.check_type(c, o, OBJ_STRING):
        return
    s = b"%d" % o.ptr if o.encoding == OBJ_ENCODING_INT else o.ptr
    n = len(s)
    if start < 0 and end < 0 and start > end:
        net.add_reply(c, shared.emptybulk)
        return
    if start < 0:
        start += n
    if end < 0:
        end += n
    if start < 0:
        start = 0
    if end < 0:
        end = 0
    if end >= n:
        end = n - 1
    if start > end or n == 0:
        net.add_reply(c, shared.emptybulk)
    else:
        net.add_reply_bulk(c, bytes(s[start:end + 1]))


# --------------------------------------------------------------------------------------------
# MGET / MSET / MSETNX
# --------------------------------------------------------------------------------------------

def mget_command(c: net.Client) -> None:
    """MGET key [key ...]: a null for missing keys and for keys of another type."""
    db = c.db
    values = []
    for key in c.argv[1:]:
        o = dbmod.lookup_key(db, key, 0)
        if o is None or o.type != OBJ_STRING:
            values.append(None)
        else:
            values.append(obj.string_bytes(o))
    net.add_reply_bulk_array(c, values)


def mset_generic_command(c: net.Client, nx: bool) -> None:
    """msetGenericCommand: MSET, or MSETNX which sets nothing if any key exists."""
    argv = c.argv
    argc = len(argv)
    if argc % 2 == 0:
        net.add_reply_error_arity(c)
        return
    db = c.db
    if nx:
        for j in range(1, argc, 2):
            if dbmod.lookup_key(db, argv[j], LOOKUP_WRITE) is not None:
                net.add_reply(c, shared.czero)
                return
    for j in range(1, argc, 2):
        key = argv[j]
        dbmod.set_key(c, db, key, obj.create_object_for_value(argv[j + 1]), 0)
        dbmod.notify_keyspace_event(NOTIFY_STRING, "set", key, db.id)
    server.dirty += (argc - 1) // 2
    net.add_reply(c, shared.cone if nx else shared.ok)


def mset_command(c: net.Client) -> None:
    mset_generic_command(c, False)


def msetnx_command(c: net.Client) -> None:
    mset_generic_command(c, True)


# --------------------------------------------------------------------------------------------
# INCR / DECR / INCRBY / DECRBY / INCRBYFLOAT
# --------------------------------------------------------------------------------------------

@probe("incrDecrCommand")
def incr_decr_command(c: net.Client, incr: int) -> None:
    """incrDecrCommand: add ``incr`` to the int64 value (a missing key counts as 0).

    A private int-encoded object is updated in place; a shared integer (0..9999) or a string
    encoding is replaced by createStringObjectFromLongLongForValue, so results 0..9999 are
    shared objects again.
    """
    key = c.argv[1]
    db = c.db
    o = dbmod.lookup_key(db, key, LOOKUP_WRITE)
    if dbmod.check_type(c, o, OBJ_STRING):
        return
    oldvalue = get_long_long_from_object_or_reply(c, o)
    if oldvalue is None:
        return
    value = oldvalue + incr
    if value > LLONG_MAX or value < LLONG_MIN:
        net.add_reply_error(c, shared.INCR_OVERFLOW)
        return
    if o is not None and o.refcount == 1 and o.encoding == OBJ_ENCODING_INT and \
            (value < 0 or value >= OBJ_SHARED_INTEGERS):
        o.ptr = value
    else:
        new = obj.create_string_object_from_long_long_for_value(value)
        if o is not None:
            dbmod.db_overwrite(db, key, new)
        else:
            dbmod.db_add(db, key, new)
    dbmod.signal_modified_key(c, db, key)
    dbmod.notify_keyspace_event(NOTIFY_STRING, "incrby", key, db.id)
    server.dirty += 1
    net.add_reply_long_long(c, value)


def incr_command(c: net.Client) -> None:
    incr_decr_command(c, 1)


def decr_command(c: net.Client) -> None:
    incr_decr_command(c, -1)


def incrby_command(c: net.Client) -> None:
    incr = _arg_long_long_or_reply(c, c.argv[2])
    if incr is not None:
        incr_decr_command(c, incr)


def decrby_command(c: net.Client) -> None:
    incr = _arg_long_long_or_reply(c, c.argv[2])
    if incr is None:
        return
    if incr == LLONG_MIN:  # -LLONG_MIN does not fit in int64
        net.add_reply_error(c, shared.DECR_OVERFLOW)
        return
    incr_decr_command(c, -incr)


def incrbyfloat_command(c: net.Client) -> None:
    """INCRBYFLOAT key increment: long double arithmetic printed with %.17Lf (trimmed), like
    Redis on x86-64; propagated as ``SET key <result> KEEPTTL``."""
    argv = c.argv
    key = argv[1]
    db = c.db
    o = dbmod.lookup_key(db, key, LOOKUP_WRITE)
    if dbmod.check_type(c, o, OBJ_STRING):
        return
    value = get_long_double_from_object_or_reply(c, o)
    if value is None:
        return
    incr = get_long_double_from_object_or_reply(c, argv[2])
    if incr is None:
        return
    value = value + incr
    if not util.ld_isfinite(value):
        net.add_reply_error(c, shared.INCR_NAN_OR_INF)
        return
    text = util.ld2string(value, util.LD_STR_HUMAN)
    new = obj.create_string_object(text)
    if o is not None:
        dbmod.db_overwrite(db, key, new)
    else:
        dbmod.db_add(db, key, new)
    dbmod.signal_modified_key(c, db, key)
    dbmod.notify_keyspace_event(NOTIFY_STRING, "incrbyfloat", key, db.id)
    server.dirty += 1
    net.add_reply_bulk(c, text)
    # Replicas and the AOF get the result, not the increment: float formatting or precision
    # differences elsewhere can then never make copies diverge.
    rewrite_client_command_vector(c, [_SET, key, text, _KEEPTTL])


# --------------------------------------------------------------------------------------------
# APPEND / STRLEN
# --------------------------------------------------------------------------------------------

def append_command(c: net.Client) -> None:
    """APPEND key value: the new length.  A new key stores the value as SET would; an
    existing one becomes a private raw string that grows like an sds."""
    argv = c.argv
    key = argv[1]
    db = c.db
    o = dbmod.lookup_key(db, key, LOOKUP_WRITE)
    if o is None:
        o = obj.create_object_for_value(argv[2])
        dbmod.db_add(db, key, o)
        totlen = obj.string_len(o)
    else:
        if dbmod.check_type(c, o, OBJ_STRING):
            return
        append = argv[2]
        if not check_string_length(c, obj.string_len(o), len(append)):
            return
        o = db_unshare_string_value(db, key, o)
        buf = o.ptr
        sds_cat_len(buf, append)
        totlen = len(buf)
    dbmod.signal_modified_key(c, db, key)
    dbmod.notify_keyspace_event(NOTIFY_STRING, "append", key, db.id)
    server.dirty += 1
    net.add_reply_long_long(c, totlen)


def strlen_command(c: net.Client) -> None:
    """STRLEN key: 0 for a missing key."""
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.czero)
    if o is None or dbmod.check_type(c, o, OBJ_STRING):
        return
    net.add_reply_long_long(c, obj.string_len(o))


# --------------------------------------------------------------------------------------------
# LCS
# --------------------------------------------------------------------------------------------

def lcs_rows(a: bytes, b: bytes, keep: bool = True) -> list[int]:
    """The LCS table of a and b, one big integer per prefix of ``a``.

    Bit j of rows[i] is set when LCS(a[:i], b[:j+1]) is one more than LCS(a[:i], b[:j]), so
    LCS(i, j) is the number of set bits of rows[i] below bit j.  Each row follows from the
    previous one with a handful of whole-row integer operations (Allison-Dix), so the Python
    interpreter runs len(a) iterations instead of len(a) * len(b).  With ``keep`` false only
    the last row is returned (enough for the length).
    """
    # match[ch]: bit j set where b[j] == ch.  int(text, 2) builds it in one linear pass.
    match: dict[int, int] = {}
    zeros = b"0" * 256
    for ch in set(b):
        table = zeros[:ch] + b"1" + zeros[ch + 1:]
        match[ch] = int(b.translate(table)[::-1], 2)
    rows = [0]
    row = 0
    get = match.get
    for ch in a:
        m = get(ch)
        if m:
            x = row | m
            row = x & ((x - ((row << 1) | 1)) ^ x)
        if keep:
            rows.append(row)
    return rows if keep else [row]


def lcs_length(a: bytes, b: bytes) -> int:
    """LCS(len(a), len(b)) without keeping the table (LCS ... LEN)."""
    return lcs_rows(a, b, keep=False)[-1].bit_count()


def lcs_command(c: net.Client) -> None:
    """LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]."""
    argv = c.argv
    db = c.db
    obja = dbmod.lookup_key(db, argv[1], 0)
    objb = dbmod.lookup_key(db, argv[2], 0)
    if (obja is not None and obja.type != OBJ_STRING) or \
            (objb is not None and objb.type != OBJ_STRING):
        net.add_reply_error(c, shared.LCS_WRONG_TYPE)
        return
    a = obj.string_bytes(obja) if obja is not None else b""
    b = obj.string_bytes(objb) if objb is not None else b""
    getlen = getidx = withmatchlen = False
    minmatchlen = 0
    argc = len(argv)
    j = 3
    while j < argc:
        opt = _c_str(argv[j]).lower()
        moreargs = argc - 1 - j
        if opt == b"idx":
            getidx = True
        elif opt == b"len":
            getlen = True
        elif opt == b"withmatchlen":
            withmatchlen = True
        elif opt == b"minmatchlen" and moreargs:
            minmatchlen = _arg_long_long_or_reply(c, argv[j + 1])
            if minmatchlen is None:
                return
            if minmatchlen < 0:
                minmatchlen = 0
            j += 1
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1
    if getlen and getidx:
        net.add_reply_error(c, shared.LCS_LEN_AND_IDX)
        return
    alen = len(a)
    blen = len(b)
    if alen >= UINT32_MAX - 1 or blen >= UINT32_MAX - 1:
        net.add_reply_error(c, shared.LCS_TOO_LONG)
        return
    # Redis refuses when its uint32 table would exceed proto-max-bulk-len: same limit here,
    # although the bit rows take 32 times less.
    if (alen + 1) * (blen + 1) * 4 > server.proto_max_bulk_len:
        net.add_reply_error(c, shared.LCS_TOO_MUCH_MEMORY)
        return
    if getlen and not getidx:
        net.add_reply_long_long(c, lcs_length(a, b))
        return
    rows = lcs_rows(a, b)
    total = rows[alen].bit_count()
    # Walk back from (alen, blen) as lcsCommand does: a match goes diagonally (and extends
    # the current range), otherwise move towards the larger of LCS(i-1, j) and LCS(i, j-1),
    # preferring j-1 on ties.  Ranges are found from the end of the strings backwards.
    result = bytearray(total)
    idx = total
    matches = []
    arange_start = alen  # alen means no range is open
    arange_end = brange_start = brange_end = 0
    i, j = alen, blen
    while i > 0 and j > 0:
        emit_range = False
        if a[i - 1] == b[j - 1]:
            result[idx - 1] = a[i - 1]
            if arange_start == alen:
                arange_start = arange_end = i - 1
                brange_start = brange_end = j - 1
            elif arange_start == i and brange_start == j:
                arange_start -= 1
                brange_start -= 1
            else:
                emit_range = True
            if arange_start == 0 or brange_start == 0:
                emit_range = True
            idx -= 1
            i -= 1
            j -= 1
        else:
            mask = (1 << j) - 1
            lcs1 = (rows[i - 1] & mask).bit_count()       # LCS(i-1, j)
            lcs2 = (rows[i] & (mask >> 1)).bit_count()    # LCS(i, j-1)
            if lcs1 > lcs2:
                i -= 1
            else:
                j -= 1
            if arange_start != alen:
                emit_range = True
        if emit_range:
            match_len = arange_end - arange_start + 1
            if getidx and (minmatchlen == 0 or match_len >= minmatchlen):
                matches.append((arange_start, arange_end, brange_start, brange_end, match_len))
            arange_start = alen
    if not getidx:
        net.add_reply_bulk(c, bytes(result))
        return
    net.add_reply_map_len(c, 2)
    net.add_reply_bulk(c, b"matches")
    parts = [shared.mbulkhdr[len(matches)] if len(matches) < 1024 else
             b"*%d\r\n" % len(matches)]
    head = b"*3\r\n*2\r\n" if withmatchlen else b"*2\r\n*2\r\n"
    for a0, a1, b0, b1, mlen in matches:
        parts.append(b"%s:%d\r\n:%d\r\n*2\r\n:%d\r\n:%d\r\n" % (head, a0, a1, b0, b1))
        if withmatchlen:
            parts.append(b":%d\r\n" % mlen)
    net.add_reply(c, b"".join(parts))
    net.add_reply_bulk(c, b"len")
    net.add_reply_long_long(c, total)


# --------------------------------------------------------------------------------------------
# sds and jemalloc accounting (for MEMORY USAGE)
# --------------------------------------------------------------------------------------------

SDS_MAX_PREALLOC = 1024 * 1024
SIZEOF_ROBJ = 16
SIZEOF_DICT_ENTRY = 24
SIZEOF_SDSHDR8 = 3


def jemalloc_size(n: int) -> int:
    """The usable size jemalloc 5.x (x86-64) hands out for a request of n bytes.

    Size classes: 8, then multiples of 16 up to 128, then four classes per doubling
    (160 192 224 256, 320 384 448 512, ...), the same four-per-doubling rule continuing
    through the large and huge classes.
    """
    if n <= 8:
        return 8
    if n <= 128:
        return (n + 15) & ~15
    spacing = 1 << ((n - 1).bit_length() - 3)
    return (n + spacing - 1) & ~(spacing - 1)


def sds_req_type_hdr(length: int) -> int:
    """sdsReqType's header size for a string of ``length``: 1 (sdshdr5), 3, 5, 9 or 17."""
    if length < 1 << 5:
        return 1
    if length < 1 << 8:
        return 3
    if length < 1 << 16:
        return 5
    if length < 1 << 32:
        return 9
    return 17


_SDS_TYPE_MAX = {1: (1 << 5) - 1, 3: (1 << 8) - 1, 5: (1 << 16) - 1, 9: (1 << 32) - 1,
                 17: (1 << 64) - 1}


def sds_zmalloc_size_of_len(length: int) -> int:
    """sdsZmallocSize of a freshly made sds of ``length`` bytes (sdsnewlen: an empty string
    gets an sdshdr8 header, since appending to it is likely)."""
    hdr = sds_req_type_hdr(length)
    if hdr == 1 and length == 0:
        hdr = 3
    return jemalloc_size(hdr + length + 1)


def sds_zmalloc_size(s: bytes) -> int:
    """sdsZmallocSize: the allocation behind an sds (a key, a raw string's buffer)."""
    if type(s) is SdsBuffer:
        return s.usable
    return sds_zmalloc_size_of_len(len(s))


class SdsBuffer(bytearray):
    """The buffer of a raw string that APPEND or SETRANGE changed: bytes plus what Redis's
    sds header would say about its allocation.

    ``alloc`` is sds's alloc field (capacity without header and NUL; for an sdshdr5 it is the
    length, as sdshdr5 cannot hold spare room); ``usable`` is the whole jemalloc allocation,
    which is what MEMORY USAGE counts.
    """

    __slots__ = ("alloc", "usable")

    alloc: int
    usable: int


def sds_new_len(length: int, init: bytes = b"") -> SdsBuffer:
    """sdsnewlen: ``init`` zero-padded to ``length``, with an exact-fit allocation."""
    s = SdsBuffer(init)
    if len(s) < length:
        s.extend(bytes(length - len(s)))
    hdr = sds_req_type_hdr(length)
    if hdr == 1 and length == 0:
        hdr = 3
    usable = jemalloc_size(hdr + length + 1)
    s.usable = usable
    s.alloc = length if hdr == 1 else min(usable - hdr - 1, _SDS_TYPE_MAX[hdr])
    return s


def sds_make_room_for(s: SdsBuffer, addlen: int) -> None:
    """sdsMakeRoomFor (greedy): make room for addlen more bytes, doubling below 1 MB and
    adding 1 MB above, so repeated appends reallocate O(log n) times."""
    length = len(s)
    if s.alloc - length >= addlen:
        return
    newlen = length + addlen
    if newlen < SDS_MAX_PREALLOC:
        newlen *= 2
    else:
        newlen += SDS_MAX_PREALLOC
    hdr = sds_req_type_hdr(newlen)
    if hdr == 1:
        hdr = 3  # sdshdr5 cannot remember spare room: growing strings use sdshdr8 at least
    usable = jemalloc_size(hdr + newlen + 1)
    s.usable = usable
    s.alloc = min(usable - hdr - 1, _SDS_TYPE_MAX[hdr])


def sds_cat_len(s: SdsBuffer, t: bytes) -> None:
    """sdscatlen: append t (growing the allocation like sdsMakeRoomFor)."""
    sds_make_room_for(s, len(t))
    s += t


def sds_grow_zero(s: SdsBuffer, length: int) -> None:
    """sdsgrowzero: extend to ``length`` with zero bytes (no-op when already that long)."""
    cur = len(s)
    if length <= cur:
        return
    sds_make_room_for(s, length - cur)
    s.extend(bytes(length - cur))


@probe("dbUnshareStringValue")
def db_unshare_string_value(db: dbmod.RedisDb, key: bytes, o: RObj) -> RObj:
    """dbUnshareStringValue (db.c): a string about to be modified in place must be a private
    raw one; a shared, int or embstr value is replaced by a raw copy first."""
    if o.refcount != 1 or o.encoding != OBJ_ENCODING_RAW or type(o.ptr) is not SdsBuffer:
        if o.refcount == 1 and o.encoding == OBJ_ENCODING_RAW:
            # Already private and raw in Redis: the object stays, only the Python buffer type
            # changes (bytes cannot grow).  Its sds came from the argument and was trimmed by
            # tryObjectEncoding when the spare room exceeded a tenth of the length.
            n = len(o.ptr)
            buf = sds_new_len(n, o.ptr)
            if buf.alloc - n > n // 10:
                buf.alloc = n
            o.ptr = buf
            return o
        if probes.armed:
            probes.event("encoding.convert", {
                "redis.key": key.decode("utf-8", "replace"),
                "from": obj.str_encoding(o.encoding), "to": "raw"})
        data = obj.string_bytes(o)
        o = RObj(OBJ_STRING, OBJ_ENCODING_RAW, sds_new_len(len(data), data))
        dbmod.db_overwrite(db, key, o)
    return o


def string_memory_usage(o: RObj, samples: int = 0) -> int:
    """objectComputeSize for a string: the robj, plus the sds for raw; an embstr is one
    allocation holding robj, sdshdr8, the bytes and the NUL."""
    enc = o.encoding
    if enc == OBJ_ENCODING_INT:
        return SIZEOF_ROBJ
    if enc == OBJ_ENCODING_EMBSTR:
        return jemalloc_size(SIZEOF_ROBJ + SIZEOF_SDSHDR8 + len(o.ptr) + 1)
    return SIZEOF_ROBJ + sds_zmalloc_size(o.ptr)


def key_memory_usage(key: bytes) -> int:
    """What memoryCommand adds for the key itself: its sds and its dictEntry (the db dict has
    no per-entry metadata outside cluster mode)."""
    return sds_zmalloc_size_of_len(len(key)) + SIZEOF_DICT_ENTRY


def string_preview(o: RObj, limit: int = 64) -> str:
    """A short printable rendering of the value for the debugger's inspector."""
    s = obj.string_bytes(o)
    text = s[:limit].decode("utf-8", "backslashreplace")
    return repr(text) + ("..." if len(s) > limit else "")


obj.memory_usage_funcs[OBJ_STRING] = string_memory_usage
obj.digest_value_funcs[OBJ_STRING] = obj.string_bytes
obj.dup_funcs[OBJ_STRING] = obj.dup_string_object
obj.length_funcs[OBJ_STRING] = obj.string_len
obj.preview_funcs[OBJ_STRING] = string_preview


# --------------------------------------------------------------------------------------------
# Command table
# --------------------------------------------------------------------------------------------

def _ks(flags: str, lastkey: int = 0, keystep: int = 1) -> list[KeySpec]:
    """One key spec starting at argv[1] (every string command's shape)."""
    return [KeySpec(flags, 1, lastkey=lastkey, keystep=keystep)]


_G = {"acl": "string", "group": "string"}

COMMANDS = [
    cmd("get", get_command, 2, "readonly fast", keys=(1, 1, 1),
        key_specs=_ks("RO ACCESS"), summary="Get the value of a key", args="key", **_G),
    cmd("getex", getex_command, -2, "write fast", keys=(1, 1, 1),
        key_specs=_ks("RW ACCESS UPDATE"), since="6.2.0",
        summary="Get the value of a key and optionally set its expiration",
        args="key [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
             "PXAT unix-time-milliseconds|PERSIST]", **_G),
    cmd("getdel", getdel_command, 2, "write fast", keys=(1, 1, 1),
        key_specs=_ks("RW ACCESS DELETE"), since="6.2.0",
        summary="Get the value of a key and delete the key", args="key", **_G),
    cmd("set", set_command, -3, "write denyoom", keys=(1, 1, 1),
        key_specs=_ks("RW ACCESS UPDATE VARIABLE_FLAGS"),
        summary="Set the string value of a key",
        args="key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
             "PXAT unix-time-milliseconds|KEEPTTL]", **_G),
    cmd("setnx", setnx_command, 3, "write denyoom fast", keys=(1, 1, 1),
        key_specs=_ks("OW INSERT"),
        summary="Set the value of a key, only if the key does not exist", args="key value",
        **_G),
    cmd("setex", setex_command, 4, "write denyoom", keys=(1, 1, 1),
        key_specs=_ks("OW UPDATE"), since="2.0.0",
        summary="Set the value and expiration of a key", args="key seconds value", **_G),
    cmd("psetex", psetex_command, 4, "write denyoom", keys=(1, 1, 1),
        key_specs=_ks("OW UPDATE"), since="2.6.0",
        summary="Set the value and expiration in milliseconds of a key",
        args="key milliseconds value", **_G),
    cmd("getset", getset_command, 3, "write denyoom fast", keys=(1, 1, 1),
        key_specs=_ks("RW ACCESS UPDATE"),
        summary="Set the string value of a key and return its old value", args="key value",
        doc_flags="deprecated", deprecated_since="6.2.0",
        replaced_by="`SET` with the `!GET` argument", **_G),
    cmd("mget", mget_command, -2, "readonly fast", keys=(1, -1, 1),
        key_specs=_ks("RO ACCESS", lastkey=-1),
        complexity="O(N) where N is the number of keys to retrieve.",
        summary="Get the values of all the given keys", args="key [key ...]", **_G),
    cmd("mset", mset_command, -3, "write denyoom", keys=(1, -1, 2),
        key_specs=_ks("OW UPDATE", lastkey=-1, keystep=2), since="1.0.1",
        complexity="O(N) where N is the number of keys to set.",
        summary="Set multiple keys to multiple values", args="key value [key value ...]",
        **_G),
    cmd("msetnx", msetnx_command, -3, "write denyoom", keys=(1, -1, 2),
        key_specs=_ks("OW INSERT", lastkey=-1, keystep=2), since="1.0.1",
        complexity="O(N) where N is the number of keys to set.",
        summary="Set multiple keys to multiple values, only if none of the keys exist",
        args="key value [key value ...]", **_G),
    cmd("incr", incr_command, 2, "write denyoom fast", keys=(1, 1, 1),
        key_specs=_ks("RW ACCESS UPDATE"),
        summary="Increment the integer value of a key by one", args="key", **_G),
    cmd("decr", decr_command, 2, "write denyoom fast", keys=(1, 1, 1),
        key_specs=_ks("RW ACCESS UPDATE"),
        summary="Decrement the integer value of a key by one", args="key", **_G),
    cmd("incrby", incrby_command, 3, "write denyoom fast", keys=(1, 1, 1),
        key_specs=_ks("RW ACCESS UPDATE"),
        summary="Increment the integer value of a key by the given amount",
        args="key increment", **_G),
    cmd("decrby", decrby_command, 3, "write denyoom fast", keys=(1, 1, 1),
        key_specs=_ks("RW ACCESS UPDATE"),
        summary="Decrement the integer value of a key by the given number",
        args="key decrement", **_G),
    cmd("incrbyfloat", incrbyfloat_command, 3, "write denyoom fast", keys=(1, 1, 1),
        key_specs=_ks("RW ACCESS UPDATE"), since="2.6.0",
        summary="Increment the float value of a key by the given amount",
        args="key increment", **_G),
    cmd("append", append_command, 3, "write denyoom fast", keys=(1, 1, 1),
        key_specs=_ks("RW INSERT"), since="2.0.0",
        complexity="O(1). The amortized time complexity is O(1) assuming the appended value "
                   "is small and the already present value is of any size, since the dynamic "
                   "string library used by Redis will double the free space available on "
                   "every reallocation.",
        summary="Append a value to a key", args="key value", **_G),
    cmd("strlen", strlen_command, 2, "readonly fast", keys=(1, 1, 1),
        key_specs=_ks("RO"), since="2.2.0",
        summary="Get the length of the value stored in a key", args="key", **_G),
    cmd("getrange", getrange_command, 4, "readonly", keys=(1, 1, 1),
        key_specs=_ks("RO ACCESS"), since="2.4.0",
        complexity="O(N) where N is the length of the returned string. The complexity is "
                   "ultimately determined by the returned length, but because creating a "
                   "substring from an existing string is very cheap, it can be considered "
                   "O(1) for small strings.",
        summary="Get a substring of the string stored at a key", args="key start end", **_G),
    cmd("substr", getrange_command, 4, "readonly", keys=(1, 1, 1),
        key_specs=_ks("RO ACCESS"),
        complexity="O(N) where N is the length of the returned string. The complexity is "
                   "ultimately determined by the returned length, but because creating a "
                   "substring from an existing string is very cheap, it can be considered "
                   "O(1) for small strings.",
        summary="Get a substring of the string stored at a key", args="key start end",
        doc_flags="deprecated", deprecated_since="2.0.0", replaced_by="`GETRANGE`", **_G),
    cmd("setrange", setrange_command, 4, "write denyoom", keys=(1, 1, 1),
        key_specs=_ks("RW UPDATE"), since="2.2.0",
        complexity="O(1), not counting the time taken to copy the new string in place. "
                   "Usually, this string is very small so the amortized complexity is O(1). "
                   "Otherwise, complexity is O(M) with M being the length of the value "
                   "argument.",
        summary="Overwrite part of a string at key starting at the specified offset",
        args="key offset value", **_G),
    cmd("lcs", lcs_command, -3, "readonly", keys=(1, 2, 1),
        key_specs=_ks("RO ACCESS", lastkey=1), since="7.0.0",
        complexity="O(N*M) where N and M are the lengths of s1 and s2, respectively",
        summary="Find longest common substring",
        args="key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]", **_G),
]
