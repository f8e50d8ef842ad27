"""Bit operations on strings: the mirror of bitops.c.

In bitops.c order: the low-level helpers (redisPopcount, redisBitpos, the get/set bitfield
functions and the overflow checks), then the argument helpers (getBitOffsetFromArgument,
getBitfieldTypeFromArgument, lookupStringForBitCommand, getObjectReadOnlyString), then the
commands SETBIT GETBIT BITOP BITCOUNT BITPOS BITFIELD BITFIELD_RO and the command table rows.

Bitmaps are plain strings, so everything here leaves the encodings Redis leaves:

* SETBIT / BITFIELD writes on a missing key create a ``raw`` string of exactly
  ``maxbit/8 + 1`` zero bytes (createObject over sdsnewlen, no tryObjectEncoding), even when
  that is 1 byte; on an existing ``int`` or ``embstr`` value dbUnshareStringValue turns it
  into a private ``raw`` one first, then sdsgrowzero pads it (greedy sds growth, which MEMORY
  USAGE shows).
* BITOP stores a ``raw`` string of the longest input's length, whatever that length; an
  all-empty result deletes the destination instead.

Bit numbering is Redis's: bit 0 is the most significant bit of the first byte, so a string
read as one big-endian integer has bit ``i`` at integer bit ``8*len - 1 - i``.  That is why
the fast paths below convert whole ranges with ``int.from_bytes(..., "big")``: BITCOUNT is
``int.bit_count`` over chunks, BITOP is one big-integer AND/OR/XOR/NOT, a bitfield read or
write is a shift and a mask on the few bytes it covers.  Replies are the same as the
word-at-a-time C loops give.

Divergence: redisPopcount and redisBitpos work on Python integers and ``bytes.lstrip`` rather
than aligned machine words; same results, including redisBitpos returning ``count*8`` when
looking for a clear bit in an all-ones range and -1 when looking for a set bit in an all-zero
one.
"""

from __future__ import annotations

from tracered import db as dbmod
from tracered import networking as net
from tracered import shared, util
from tracered import t_string as ts
from tracered.commands import KeySpec, cmd
from tracered.db import LOOKUP_WRITE, NOTIFY_GENERIC, NOTIFY_STRING
from tracered.object import OBJ_ENCODING_INT, OBJ_ENCODING_RAW, OBJ_STRING, RObj
from tracered.server import server

BITOP_AND = 0
BITOP_OR = 1
BITOP_XOR = 2
BITOP_NOT = 3

BITFIELDOP_GET = 0
BITFIELDOP_SET = 1
BITFIELDOP_INCRBY = 2

BFOVERFLOW_WRAP = 0
BFOVERFLOW_SAT = 1
BFOVERFLOW_FAIL = 2

BITFIELD_FLAG_NONE = 0
BITFIELD_FLAG_READONLY = 1

_U64 = (1 << 64) - 1
_I64_MIN = -(1 << 63)

# BITCOUNT converts at most this many bytes to one integer at a time, so counting a 512 MB
# string never needs a second 512 MB copy.
_POPCOUNT_CHUNK = 1 << 20

_c_str = ts._c_str


# --------------------------------------------------------------------------------------------
# Helpers and low level bit functions
# --------------------------------------------------------------------------------------------

def redis_popcount(s: bytes) -> int:
    """redisPopcount: number of set bits in ``s``."""
    n = len(s)
    if n <= _POPCOUNT_CHUNK:
        return int.from_bytes(s, "big").bit_count()
    frombytes = int.from_bytes
    total = 0
    for i in range(0, n, _POPCOUNT_CHUNK):
        total += frombytes(s[i:i + _POPCOUNT_CHUNK], "big").bit_count()
    return total


def redis_bitpos(s: bytes, bit: int) -> int:
    """redisBitpos: position of the first ``bit`` in ``s``.

    Looking for a 0 in bytes that are all ones answers ``len(s)*8`` (the string is taken as
    zero-padded on the right); looking for a 1 in bytes that are all zeros answers -1.
    """
    n = len(s)
    if bit:
        i = n - len(s.lstrip(b"\x00"))
        if i == n:
            return -1
        return (i << 3) + 8 - s[i].bit_length()
    i = n - len(s.lstrip(b"\xff"))
    if i == n:
        return n << 3
    return (i << 3) + 8 - (s[i] ^ 0xFF).bit_length()


def get_unsigned_bitfield(p: bytes, offset: int, bits: int) -> int:
    """getUnsignedBitfield: the ``bits``-wide unsigned integer at bit ``offset`` (MSB first).
    ``p`` must cover the field (the GET path passes a zero-padded copy)."""
    byte = offset >> 3
    last = (offset + bits - 1) >> 3
    v = int.from_bytes(p[byte:last + 1], "big")
    return (v >> (((last - byte + 1) << 3) - (offset & 7) - bits)) & ((1 << bits) - 1)


def get_signed_bitfield(p: bytes, offset: int, bits: int) -> int:
    """getSignedBitfield: two's complement reading of the field."""
    v = get_unsigned_bitfield(p, offset, bits)
    if v >> (bits - 1):
        v -= 1 << bits
    return v


def set_unsigned_bitfield(p: bytearray, offset: int, bits: int, value: int) -> None:
    """setUnsignedBitfield: store the low ``bits`` of ``value`` at bit ``offset``."""
    byte = offset >> 3
    last = (offset + bits - 1) >> 3
    nbytes = last - byte + 1
    shift = (nbytes << 3) - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    v = int.from_bytes(p[byte:last + 1], "big")
    v = (v & ~mask) | ((value << shift) & mask)
    p[byte:last + 1] = v.to_bytes(nbytes, "big")


def set_signed_bitfield(p: bytearray, offset: int, bits: int, value: int) -> None:
    """setSignedBitfield: the value's two's complement bits."""
    set_unsigned_bitfield(p, offset, bits, value & _U64)


def _int64(x: int) -> int:
    """x reduced to a C int64_t (two's complement wrap-around)."""
    return ((x - _I64_MIN) & _U64) + _I64_MIN


def check_unsigned_bitfield_overflow(value: int, incr: int, bits: int,
                                     owtype: int) -> tuple[int, int]:
    """checkUnsignedBitfieldOverflow: (0, _) when value+incr fits in ``bits`` unsigned bits,
    else (1 or -1, the value to store: wrapped, or the saturated limit).

    ``value`` is the C uint64 (a SET of -1 arrives as 2**64-1, which overflows any u63).
    maxincr/minincr are computed with the C code's int64 wrap-around."""
    maxv = (1 << bits) - 1
    maxincr = _int64(maxv - value)
    minincr = _int64(-value)
    if value > maxv or (incr > 0 and incr > maxincr):
        over = 1
        limit = maxv
    elif incr < 0 and incr < minincr:
        over = -1
        limit = 0
    else:
        return 0, 0
    if owtype == BFOVERFLOW_WRAP:
        limit = (value + incr) & maxv
    return over, limit


def check_signed_bitfield_overflow(value: int, incr: int, bits: int,
                                   owtype: int) -> tuple[int, int]:
    """checkSignedBitfieldOverflow: the same for ``bits``-wide two's complement; wrapping
    keeps the low ``bits`` and sign-extends them.

    The tests are Redis's, including maxincr = max - value wrapping in int64: a SET of a
    value far below the minimum (e.g. INT64_MIN into an i3) therefore counts as an overflow
    *upwards* and saturates to the maximum, exactly as redis-server does."""
    maxv = (1 << 63) - 1 if bits == 64 else (1 << (bits - 1)) - 1
    minv = -maxv - 1
    maxincr = _int64(maxv - value)
    minincr = _int64(minv - value)
    if value > maxv or (bits != 64 and incr > maxincr) or \
            (value >= 0 and incr > 0 and incr > maxincr):
        over = 1
        limit = maxv
    elif value < minv or (bits != 64 and incr < minincr) or \
            (value < 0 and incr < 0 and incr < minincr):
        over = -1
        limit = minv
    else:
        return 0, 0
    if owtype == BFOVERFLOW_WRAP:
        half = 1 << (bits - 1)
        limit = ((value + incr + half) & ((1 << bits) - 1)) - half
    return over, limit


# --------------------------------------------------------------------------------------------
# Argument helpers
# --------------------------------------------------------------------------------------------

def get_bit_offset_from_argument(c: net.Client, arg: bytes, hash_: bool = False,
                                 bits: int = 0) -> int | None:
    """getBitOffsetFromArgument: a bit offset that addresses a byte below
    proto-max-bulk-len; with ``hash_``, ``#N`` means N*bits (BITFIELD)."""
    usehash = hash_ and bits > 0 and arg[:1] == b"#"
    loffset = util.string2ll(arg[1:] if usehash else arg)
    if loffset is None:
        net.add_reply_error(c, shared.BIT_OFFSET_INVALID)
        return None
    if usehash:
        # long long multiplication: wraps like the C code on overflow (then fails below).
        loffset = ((loffset * bits - _I64_MIN) & _U64) + _I64_MIN
    if loffset < 0 or (not ts.must_obey_client(c) and
                       (loffset >> 3) >= server.proto_max_bulk_len):
        net.add_reply_error(c, shared.BIT_OFFSET_INVALID)
        return None
    return loffset


def get_bitfield_type_from_argument(c: net.Client, arg: bytes) -> tuple[int, int] | None:
    """getBitfieldTypeFromArgument: ``i1``..``i64`` or ``u1``..``u63`` -> (sign, bits)."""
    t = arg[:1]
    if t == b"i":
        sign = 1
    elif t == b"u":
        sign = 0
    else:
        net.add_reply_error(c, shared.BITFIELD_TYPE_INVALID)
        return None
    # strlen(p+1): C sees the type up to its first NUL byte.
    llbits = util.string2ll(_c_str(arg[1:]))
    if llbits is None or llbits < 1 or llbits > 64 - (1 - sign):
        net.add_reply_error(c, shared.BITFIELD_TYPE_INVALID)
        return None
    return sign, llbits


def lookup_string_for_bit_command(c: net.Client, maxbit: int) -> tuple[RObj | None, bool]:
    """lookupStringForBitCommand: the key's string, created or zero-padded so bit ``maxbit``
    exists; (None, _) after a WRONGTYPE reply.  The flag says whether the key was created or
    grew (the write then counts as a change even if no bit flips)."""
    byte = maxbit >> 3
    db = c.db
    key = c.argv[1]
    o = dbmod.lookup_key(db, key, LOOKUP_WRITE)
    if o is not None and o.type != OBJ_STRING:
        net.add_reply_error_object(c, shared.wrongtypeerr)
        return None, False
    if o is None:
        o = RObj(OBJ_STRING, OBJ_ENCODING_RAW, ts.sds_new_len(byte + 1))
        dbmod.db_add(db, key, o)
        return o, True
    o = ts.db_unshare_string_value(db, key, o)
    buf = o.ptr
    oldlen = len(buf)
    if byte + 1 > oldlen:
        ts.sds_grow_zero(buf, byte + 1)
        return o, True
    return o, False


def get_object_read_only_string(o: RObj | None) -> bytes:
    """getObjectReadOnlyString: the bytes of a string value (an int printed in decimal),
    empty for a missing key."""
    if o is None:
        return b""
    if o.encoding == OBJ_ENCODING_INT:
        return b"%d" % o.ptr
    return o.ptr


# --------------------------------------------------------------------------------------------
# SETBIT / GETBIT
# --------------------------------------------------------------------------------------------

def setbit_command(c: net.Client) -> None:
    """SETBIT key offset 0|1: the previous bit."""
    argv = c.argv
    bitoffset = get_bit_offset_from_argument(c, argv[2])
    if bitoffset is None:
        return
    on = util.string2ll(argv[3])
    if on is None or on & ~1:
        net.add_reply_error(c, shared.BIT_VALUE_INVALID)
        return
    o, dirty = lookup_string_for_bit_command(c, bitoffset)
    if o is None:
        return
    buf = o.ptr
    byte = bitoffset >> 3
    bit = 7 - (bitoffset & 7)
    byteval = buf[byte]
    bitval = (byteval >> bit) & 1
    if dirty or bitval != on:
        buf[byte] = (byteval & ~(1 << bit)) | (on << bit)
        key = argv[1]
        db = c.db
        dbmod.signal_modified_key(c, db, key)
        dbmod.notify_keyspace_event(NOTIFY_STRING, "setbit", key, db.id)
        server.dirty += 1
    net.add_reply(c, shared.cone if bitval else shared.czero)


def getbit_command(c: net.Client) -> None:
    """GETBIT key offset: 0 past the end and for a missing key."""
    bitoffset = get_bit_offset_from_argument(c, c.argv[2])
    if bitoffset is None:
        return
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.czero)
    if o is None or dbmod.check_type(c, o, OBJ_STRING):
        return
    s = b"%d" % o.ptr if o.encoding == OBJ_ENCODING_INT else o.ptr
    byte = bitoffset >> 3
    bitval = 0
    if byte < len(s):
        bitval = (s[byte] >> (7 - (bitoffset & 7))) & 1
    net.add_reply(c, shared.cone if bitval else shared.czero)


# --------------------------------------------------------------------------------------------
# BITOP
# --------------------------------------------------------------------------------------------

def bitop_command(c: net.Client) -> None:
    """BITOP AND|OR|XOR|NOT destkey srckey [srckey ...]: the result's length.

    Missing sources count as empty strings and shorter ones are zero-padded on the right, so
    AND with a missing key gives zeros of the longest length.  The per-byte loop of
    bitopCommand becomes one operation on the inputs read as big-endian integers.
    """
    argv = c.argv
    opname = _c_str(argv[1]).lower()
    if opname == b"and":
        op = BITOP_AND
    elif opname == b"or":
        op = BITOP_OR
    elif opname == b"xor":
        op = BITOP_XOR
    elif opname == b"not":
        op = BITOP_NOT
    else:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    if op == BITOP_NOT and len(argv) != 4:
        net.add_reply_error(c, shared.BITOP_NOT_SINGLE_KEY)
        return
    db = c.db
    srcs = []
    maxlen = 0
    for key in argv[3:]:
        o = dbmod.lookup_key(db, key, 0)
        if o is None:
            srcs.append(b"")
            continue
        if dbmod.check_type(c, o, OBJ_STRING):
            return
        s = get_object_read_only_string(o)
        srcs.append(s)
        if len(s) > maxlen:
            maxlen = len(s)
    targetkey = argv[2]
    if maxlen:
        frombytes = int.from_bytes
        s = srcs[0]
        acc = frombytes(s, "big") << ((maxlen - len(s)) << 3)
        if op == BITOP_NOT:
            acc ^= (1 << (maxlen << 3)) - 1
        else:
            for s in srcs[1:]:
                v = frombytes(s, "big") << ((maxlen - len(s)) << 3)
                if op == BITOP_AND:
                    acc &= v
                elif op == BITOP_OR:
                    acc |= v
                else:
                    acc ^= v
        res = ts.sds_new_len(maxlen)
        res[:] = acc.to_bytes(maxlen, "big")
        o = RObj(OBJ_STRING, OBJ_ENCODING_RAW, res)
        dbmod.set_key(c, db, targetkey, o, 0)
        dbmod.notify_keyspace_event(NOTIFY_STRING, "set", targetkey, db.id)
        server.dirty += 1
    elif dbmod.db_delete(db, targetkey):
        dbmod.signal_modified_key(c, db, targetkey)
        dbmod.notify_keyspace_event(NOTIFY_GENERIC, "del", targetkey, db.id)
        server.dirty += 1
    net.add_reply_long_long(c, maxlen)


# --------------------------------------------------------------------------------------------
# BITCOUNT / BITPOS
# --------------------------------------------------------------------------------------------

def _parse_unit_or_reply(c: net.Client, arg: bytes) -> int | None:
    """The BYTE|BIT argument (strcasecmp, so up to a NUL byte): 1 for BIT."""
    u = _c_str(arg).lower()
    if u == b"bit":
        return 1
    if u == b"byte":
        return 0
    net.add_reply_error_object(c, shared.syntaxerr)
    return None


def bitcount_command(c: net.Client) -> None:
    """BITCOUNT key [start end [BYTE|BIT]]: set bits in the range (inclusive, negative
    indexes from the end)."""
    argv = c.argv
    argc = len(argv)
    o = dbmod.lookup_key_read_or_reply(c, argv[1], shared.czero)
    if o is None or dbmod.check_type(c, o, OBJ_STRING):
        return
    p = get_object_read_only_string(o)
    strlen = len(p)
    first_mask = last_mask = 0
    if argc == 4 or argc == 5:
        totlen = strlen
        start = dbmod.get_long_long_from_object_or_reply(c, argv[2])
        if start is None:
            return
        end = dbmod.get_long_long_from_object_or_reply(c, argv[3])
        if end is None:
            return
        if start < 0 and end < 0 and start > end:
            net.add_reply(c, shared.czero)
            return
        isbit = 0
        if argc == 5:
            isbit = _parse_unit_or_reply(c, argv[4])
            if isbit is None:
                return
        if isbit:
            totlen <<= 3
        if start < 0:
            start += totlen
        if end < 0:
            end += totlen
        if start < 0:
            start = 0
        if end < 0:
            end = 0
        if end >= totlen:
            end = totlen - 1
        if isbit and start <= end:
            # Bits of the edge bytes that lie outside the range are subtracted afterwards.
            first_mask = ~((1 << (8 - (start & 7))) - 1) & 0xFF
            last_mask = (1 << (7 - (end & 7))) - 1
            start >>= 3
            end >>= 3
    elif argc == 2:
        start = 0
        end = strlen - 1
    else:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    if start > end:
        net.add_reply(c, shared.czero)
        return
    count = redis_popcount(p[start:end + 1])
    if first_mask:
        count -= (p[start] & first_mask).bit_count()
    if last_mask:
        count -= (p[end] & last_mask).bit_count()
    net.add_reply_long_long(c, count)


def bitpos_command(c: net.Client) -> None:
    """BITPOS key bit [start [end [BYTE|BIT]]]: the first bit set to ``bit``, or -1.

    Without an explicit end a clear bit is found past the end of the string (it is taken as
    zero-padded); with one, a range of all ones answers -1.
    """
    argv = c.argv
    argc = len(argv)
    bit = dbmod.get_long_long_from_object_or_reply(c, argv[2])
    if bit is None:
        return
    if bit != 0 and bit != 1:
        net.add_reply_error(c, shared.BITPOS_BIT_INVALID)
        return
    o = dbmod.lookup_key(c.db, argv[1], 0)
    if o is None:
        net.add_reply_long_long(c, -1 if bit else 0)
        return
    if dbmod.check_type(c, o, OBJ_STRING):
        return
    p = get_object_read_only_string(o)
    strlen = len(p)
    end_given = False
    first_mask = last_mask = 0
    if 4 <= argc <= 6:
        totlen = strlen
        start = dbmod.get_long_long_from_object_or_reply(c, argv[3])
        if start is None:
            return
        isbit = 0
        if argc == 6:
            isbit = _parse_unit_or_reply(c, argv[5])
            if isbit is None:
                return
        if argc >= 5:
            end = dbmod.get_long_long_from_object_or_reply(c, argv[4])
            if end is None:
                return
            end_given = True
        else:
            end = (totlen << 3) + 7 if isbit else totlen - 1
        if isbit:
            totlen <<= 3
        if start < 0:
            start += totlen
        if end < 0:
            end += totlen
        if start < 0:
            start = 0
        if end < 0:
            end = 0
        if end >= totlen:
            end = totlen - 1
        if isbit and start <= end:
            first_mask = ~((1 << (8 - (start & 7))) - 1) & 0xFF
            last_mask = (1 << (7 - (end & 7))) - 1
            start >>= 3
            end >>= 3
    elif argc == 3:
        start = 0
        end = strlen - 1
    else:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    if start > end:
        net.add_reply_long_long(c, -1)
        return
    pos, nbytes, start = _bitpos_range(p, start, end, bit, first_mask, last_mask)
    if end_given and bit == 0 and pos == nbytes << 3:
        net.add_reply_long_long(c, -1)
        return
    if pos != -1:
        pos += start << 3
    net.add_reply_long_long(c, pos)


def _bitpos_range(p: bytes, start: int, end: int, bit: int, first_mask: int,
                  last_mask: int) -> tuple[int, int, int]:
    """The search of bitposCommand over bytes start..end whose edge bytes may be partly out
    of a BIT range: the masked first byte, the whole middle bytes, the masked last byte, in
    that order, stopping at the first hit.  Returns (pos relative to the final start, bytes
    left, final start), the three values bitposCommand's result step reads."""
    nbytes = end - start + 1
    if first_mask:
        tmp = p[start] & ~first_mask & 0xFF if bit else p[start] | first_mask
        if last_mask and nbytes == 1:
            tmp = tmp & ~last_mask & 0xFF if bit else tmp | last_mask
        pos = redis_bitpos(bytes((tmp,)), bit)
        if nbytes == 1 or (pos != -1 and pos != 8):
            return pos, nbytes, start
        start += 1
        nbytes -= 1
    curbytes = nbytes - (1 if last_mask else 0)
    if curbytes > 0:
        pos = redis_bitpos(p[start:start + curbytes], bit)
        if nbytes == curbytes or (pos != -1 and pos != curbytes << 3):
            return pos, nbytes, start
        start += curbytes
        nbytes -= curbytes
    tmp = p[end] & ~last_mask & 0xFF if bit else p[end] | last_mask
    return redis_bitpos(bytes((tmp,)), bit), nbytes, start


# --------------------------------------------------------------------------------------------
# BITFIELD / BITFIELD_RO
# --------------------------------------------------------------------------------------------

def bitfield_generic(c: net.Client, flags: int) -> None:
    """bitfieldGeneric: parse every subcommand first (any error aborts before a change),
    then run them in order on one lookup of the key.

    GET/SET/INCRBY take a type (``i1``..``i64``, ``u1``..``u63``) and an offset (``#N`` =
    N*width); OVERFLOW WRAP|SAT|FAIL applies to the SET/INCRBY that follow it, and FAIL
    makes an overflowing one reply nil without writing.
    """
    argv = c.argv
    argc = len(argv)
    ops = []
    owtype = BFOVERFLOW_WRAP
    readonly = True
    highest_write_offset = 0
    j = 2
    while j < argc:
        remargs = argc - j - 1
        subcmd = _c_str(argv[j]).lower()
        if subcmd == b"get" and remargs >= 2:
            opcode = BITFIELDOP_GET
        elif subcmd == b"set" and remargs >= 3:
            opcode = BITFIELDOP_SET
        elif subcmd == b"incrby" and remargs >= 3:
            opcode = BITFIELDOP_INCRBY
        elif subcmd == b"overflow" and remargs >= 1:
            owname = _c_str(argv[j + 1]).lower()
            j += 2
            if owname == b"wrap":
                owtype = BFOVERFLOW_WRAP
            elif owname == b"sat":
                owtype = BFOVERFLOW_SAT
            elif owname == b"fail":
                owtype = BFOVERFLOW_FAIL
            else:
                net.add_reply_error(c, shared.BITFIELD_OVERFLOW_INVALID)
                return
            continue
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        t = get_bitfield_type_from_argument(c, argv[j + 1])
        if t is None:
            return
        sign, bits = t
        bitoffset = get_bit_offset_from_argument(c, argv[j + 2], True, bits)
        if bitoffset is None:
            return
        i64 = 0
        if opcode != BITFIELDOP_GET:
            readonly = False
            if highest_write_offset < bitoffset + bits - 1:
                highest_write_offset = bitoffset + bits - 1
            i64 = dbmod.get_long_long_from_object_or_reply(c, argv[j + 3])
            if i64 is None:
                return
        ops.append((opcode, bitoffset, i64, owtype, bits, sign))
        j += 3 if opcode == BITFIELDOP_GET else 4

    dirty = False
    if readonly:
        o = dbmod.lookup_key(c.db, argv[1], 0)
        if o is not None and dbmod.check_type(c, o, OBJ_STRING):
            return
    else:
        if flags & BITFIELD_FLAG_READONLY:
            net.add_reply_error(c, shared.BITFIELD_RO_GET_ONLY)
            return
        o, dirty = lookup_string_for_bit_command(c, highest_write_offset)
        if o is None:
            return

    out = [shared.mbulkhdr[len(ops)] if len(ops) < 1024 else b"*%d\r\n" % len(ops)]
    nullreply = shared.null[c.resp]
    changes = 0
    src = None
    for opcode, offset, i64, ow, bits, sign in ops:
        if opcode == BITFIELDOP_GET:
            if src is None:
                src = get_object_read_only_string(o)
            byte = offset >> 3
            # The bytes the field covers, zero-padded past the end of the string.
            need = ((offset + bits - 1) >> 3) + 1
            chunk = src[byte:need]
            if len(chunk) < need - byte:
                chunk = bytes(chunk) + bytes(need - byte - len(chunk))
            rel = offset - (byte << 3)
            if sign:
                val = get_signed_bitfield(chunk, rel, bits)
            else:
                val = get_unsigned_bitfield(chunk, rel, bits)
            out.append(b":%d\r\n" % val)
            continue
        buf = o.ptr
        if sign:
            oldval = get_signed_bitfield(buf, offset, bits)
            if opcode == BITFIELDOP_INCRBY:
                over, wrapped = check_signed_bitfield_overflow(oldval, i64, bits, ow)
                newval = wrapped if over else oldval + i64
                retval = newval
            else:
                newval = i64
                over, wrapped = check_signed_bitfield_overflow(newval, 0, bits, ow)
                if over:
                    newval = wrapped
                retval = oldval
        else:
            oldval = get_unsigned_bitfield(buf, offset, bits)
            if opcode == BITFIELDOP_INCRBY:
                over, wrapped = check_unsigned_bitfield_overflow(oldval, i64, bits, ow)
                newval = wrapped if over else oldval + i64
                retval = newval
            else:
                newval = i64 & _U64  # the C uint64_t assignment
                over, wrapped = check_unsigned_bitfield_overflow(newval, 0, bits, ow)
                if over:
                    newval = wrapped
                retval = oldval
        if over and ow == BFOVERFLOW_FAIL:
            out.append(nullreply)
            continue
        out.append(b":%d\r\n" % retval)
        set_unsigned_bitfield(buf, offset, bits, newval & _U64)
        src = None
        if dirty or oldval != newval:
            changes += 1
    net.add_reply(c, b"".join(out))
    if changes:
        key = argv[1]
        db = c.db
        dbmod.signal_modified_key(c, db, key)
        dbmod.notify_keyspace_event(NOTIFY_STRING, "setbit", key, db.id)
        server.dirty += changes


def bitfield_command(c: net.Client) -> None:
    bitfield_generic(c, BITFIELD_FLAG_NONE)


def bitfieldro_command(c: net.Client) -> None:
    bitfield_generic(c, BITFIELD_FLAG_READONLY)


# --------------------------------------------------------------------------------------------
# Command table
# --------------------------------------------------------------------------------------------

def _history(c, *history: tuple[str, str]):
    c.history = list(history)
    return c


_G = {"acl": "bitmap", "group": "bitmap"}
_BYTE_BIT = ("7.0.0", "Added the `BYTE|BIT` option.")
# One BITFIELD operation, as the argument tree of Redis's BITFIELD docs.
_BITFIELD_OP = ("<GET encoding offset | <[OVERFLOW <WRAP | SAT | FAIL>] "
                "<SET encoding offset value | INCRBY encoding offset increment>>>")

COMMANDS = [
    cmd("setbit", setbit_command, 4, "write denyoom", keys=(1, 1, 1),
        key_specs=[KeySpec("RW ACCESS UPDATE", 1)], since="2.2.0",
        summary="Sets or clears the bit at offset in the string value stored at key",
        args="key offset value:integer", **_G),
    cmd("getbit", getbit_command, 3, "readonly fast", keys=(1, 1, 1),
        key_specs=[KeySpec("RO ACCESS", 1)], since="2.2.0",
        summary="Returns the bit value at offset in the string value stored at key",
        args="key offset", **_G),
    _history(cmd("bitcount", bitcount_command, -2, "readonly", keys=(1, 1, 1),
                 key_specs=[KeySpec("RO ACCESS", 1)], since="2.6.0", complexity="O(N)",
                 summary="Count set bits in a string", args="key [start end [BYTE|BIT]]",
                 **_G), _BYTE_BIT),
    _history(cmd("bitpos", bitpos_command, -3, "readonly", keys=(1, 1, 1),
                 key_specs=[KeySpec("RO ACCESS", 1)], since="2.8.7", complexity="O(N)",
                 summary="Find first bit set or clear in a string",
                 args="key bit [start [end [BYTE|BIT]]]", **_G), _BYTE_BIT),
    cmd("bitop", bitop_command, -4, "write denyoom", keys=(2, -1, 1),
        key_specs=[KeySpec("OW UPDATE", 2), KeySpec("RO ACCESS", 3, lastkey=-1)],
        since="2.6.0", complexity="O(N)", summary="Perform bitwise operations between strings",
        args="operation destkey key [key ...]", **_G),
    cmd("bitfield", bitfield_command, -2, "write denyoom", keys=(1, 1, 1),
        key_specs=[KeySpec("RW UPDATE ACCESS VARIABLE_FLAGS", 1)], since="3.2.0",
        complexity="O(1) for each subcommand specified",
        summary="Perform arbitrary bitfield integer operations on strings",
        args="key [" + _BITFIELD_OP + " [" + _BITFIELD_OP + " ...]]", **_G),
    cmd("bitfield_ro", bitfieldro_command, -2, "readonly fast", keys=(1, 1, 1),
        key_specs=[KeySpec("RO ACCESS", 1)], since="6.0.0",
        complexity="O(1) for each subcommand specified",
        summary="Perform arbitrary bitfield integer operations on strings. Read-only variant "
                "of BITFIELD",
        args="key [GET <encoding offset> [GET <encoding offset> ...]]", **_G),
]
