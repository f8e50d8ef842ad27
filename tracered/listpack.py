"""Listpack: a flat, byte-exact list of strings and integers (mirror of Redis 7.0 src/listpack.c).

A listpack is one ``bytearray`` holding exactly the bytes Redis keeps in memory and writes into
an RDB file::

    <total-bytes uint32 LE> <num-elements uint16 LE> <entry> ... <entry> <0xFF>

Each entry is ``<encoding+data> <backlen>``.  The encoding byte tells the type:

==========  ======================  ============================================
first byte  encoding                data that follows
==========  ======================  ============================================
0xxxxxxx    7-bit unsigned int      none (value in the byte)
10llllll    6-bit-length string     l bytes
110xxxxx    13-bit signed int       1 byte: the low 8 bits (high 5 are in byte 0)
1110llll    12-bit-length string    low 8 length bits, then the string
0xF0        32-bit-length string    uint32 LE length, then the string
0xF1..F4    16/24/32/64-bit int     2/3/4/8 bytes, two's complement LE
0xFF        end of listpack
==========  ======================  ============================================

The backlen is the size of ``<encoding+data>`` stored so it can be read from right to left: 7
bits per byte, the most significant group first, every byte except the leftmost one flagged
with 0x80.  It is what lets ``lp_prev`` walk backwards without an index.

Strings that are canonical decimal int64 values (``lp_string_to_int64``: no sign '+', no
leading zeros, no spaces, "-0" excluded) are stored as integers, exactly as
lpEncodeGetType() does, so the bytes match Redis's for the same command stream.

Positions ("pointers" in Redis) are byte offsets into the bytearray.  As in Redis, any
insertion or deletion shifts the offsets of the entries after it; use the offset returned by
the mutating call to keep walking.

Mutation model: every mutating function changes the bytearray in place and keeps
``len(lp) == lp_bytes(lp)`` at all times, except ``lp_merge`` which, like lpMerge(), returns
the merged listpack (one of its two arguments, grown) and leaves the other unusable.

Values: write functions take ``bytes``/``bytearray`` or ``int`` (an int goes straight to the
integer encoding, like the ``*_integer`` variants).  ``lp_get`` returns ``int`` for
integer-encoded entries and ``bytes`` for strings; ``lp_get_bytes`` always returns ``bytes``.

Divergence: lpNext()/lpPrev()/lpFirst() assert that each entry they return lies inside the
allocation.  Python checks every index, so a corrupt listpack raises IndexError instead of
reading foreign memory; those per-step asserts are left out to keep iteration fast.  The full
check is ``lp_validate_integrity(lp, deep=True)`` (what RDB loading uses).
Divergence: lpNew(capacity), lpShrinkToFit() and lpFree() manage malloc'd memory; a bytearray
is always exactly sized, so only ``lp_new()`` exists.
Divergence: lpRandomPair*() use Python's ``random`` module instead of libc rand().
"""

from __future__ import annotations

import random
import struct
from collections.abc import Callable, Iterable, Iterator

__all__ = [
    "LP_HDR_SIZE", "LP_HDR_NUMELE_UNKNOWN", "LP_EOF", "LP_BEFORE", "LP_AFTER", "LP_REPLACE",
    "LP_INTBUF_SIZE", "LISTPACK_MAX_SAFETY_SIZE",
    "lp_string_to_int64", "lp_safe_to_add", "lp_new", "lp_build",
    "lp_encode_backlen", "lp_decode_backlen",
    "lp_current_encoded_size_unsafe", "lp_current_encoded_size_bytes",
    "lp_skip", "lp_next", "lp_prev", "lp_first", "lp_last", "lp_length", "lp_bytes",
    "lp_get", "lp_get_value", "lp_get_with_size", "lp_get_bytes", "lp_find",
    "lp_insert", "lp_insert_string", "lp_insert_integer",
    "lp_append", "lp_append_integer", "lp_prepend", "lp_prepend_integer",
    "lp_replace", "lp_replace_integer", "lp_delete", "lp_delete_range_with_entry",
    "lp_delete_range", "lp_merge", "lp_seek", "lp_validate_first", "lp_validate_next",
    "lp_validate_integrity", "lp_compare", "lp_random_pair", "lp_random_pairs",
    "lp_random_pairs_unique", "lp_repr", "lp_iter", "lp_to_list",
]

# ----------------------------------------------------------------------------------------------
# Format constants
# ----------------------------------------------------------------------------------------------

LP_HDR_SIZE = 6  # uint32 total bytes + uint16 number of elements
LP_HDR_NUMELE_UNKNOWN = 0xFFFF  # count too large for the header: lp_length() must scan
LP_MAX_INT_ENCODING_LEN = 9
LP_MAX_BACKLEN_SIZE = 5
LP_ENCODING_INT = 0
LP_ENCODING_STRING = 1

LP_ENCODING_7BIT_UINT = 0x00
LP_ENCODING_7BIT_UINT_MASK = 0x80
LP_ENCODING_6BIT_STR = 0x80
LP_ENCODING_6BIT_STR_MASK = 0xC0
LP_ENCODING_13BIT_INT = 0xC0
LP_ENCODING_13BIT_INT_MASK = 0xE0
LP_ENCODING_12BIT_STR = 0xE0
LP_ENCODING_12BIT_STR_MASK = 0xF0
LP_ENCODING_32BIT_STR = 0xF0
LP_ENCODING_16BIT_INT = 0xF1
LP_ENCODING_24BIT_INT = 0xF2
LP_ENCODING_32BIT_INT = 0xF3
LP_ENCODING_64BIT_INT = 0xF4
LP_EOF = 0xFF

# Whole entry sizes (encoding + data + 1 backlen byte) of the integer encodings.
LP_ENCODING_7BIT_UINT_ENTRY_SIZE = 2
LP_ENCODING_13BIT_INT_ENTRY_SIZE = 3
LP_ENCODING_16BIT_INT_ENTRY_SIZE = 4
LP_ENCODING_24BIT_INT_ENTRY_SIZE = 5
LP_ENCODING_32BIT_INT_ENTRY_SIZE = 6
LP_ENCODING_64BIT_INT_ENTRY_SIZE = 10

# Where lp_insert() puts the new element relative to the one at 'p'.
LP_BEFORE = 0
LP_AFTER = 1
LP_REPLACE = 2

LP_INTBUF_SIZE = 21  # longest int64 in decimal ("-9223372036854775808") plus a NUL in C

# The total-bytes header field is 32 bits; Redis refuses to let a listpack pass 1 GiB long
# before that could overflow.  Callers ask lp_safe_to_add() before growing one.
LISTPACK_MAX_SAFETY_SIZE = 1 << 30

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1
_UINT32_MAX = 0xFFFFFFFF

_HDR = struct.Struct("<IH")
_hdr_pack = _HDR.pack_into
_u32 = struct.Struct("<I").unpack_from
_i16 = struct.Struct("<h").unpack_from
_i32 = struct.Struct("<i").unpack_from
_i64 = struct.Struct("<q").unpack_from
_pack_i16_entry = struct.Struct("<BhB").pack  # 0xF1, value, backlen 3
_pack_i32_entry = struct.Struct("<BiB").pack  # 0xF3, value, backlen 5
_pack_i64_entry = struct.Struct("<BqB").pack  # 0xF4, value, backlen 9
_pack_str32_hdr = struct.Struct("<BI").pack   # 0xF0, length

# One-byte bytes objects, so building an entry is a couple of concatenations.
_BYTE = [bytes((i,)) for i in range(256)]
# Whole entries for 0..127, the commonest integers (list indexes, counters, small scores).
_SMALL_UINT_ENTRY = [bytes((i, 1)) for i in range(128)]

_EMPTY_LP = b"\x07\x00\x00\x00\x00\x00\xff"

# ----------------------------------------------------------------------------------------------
# Integer detection (lpStringToInt64) and the size guard
# ----------------------------------------------------------------------------------------------


def lp_string_to_int64(s: bytes) -> int | None:
    """Return the int64 that ``s`` spells canonically, or None (lpStringToInt64 / string2ll).

    Canonical means the number prints back to exactly ``s``: optional '-', first digit 1-9
    (or the single string "0"), only ASCII digits, within int64.  So "007", "+1", " 1", "1 "
    and "-0" stay strings, which is what keeps a listpack round trip lossless.
    """
    n = len(s)
    if n == 0 or n >= 21:
        return None
    c = s[0]
    if 49 <= c <= 57:  # '1'..'9'
        if s.isdigit():
            v = int(s)
            if v <= _INT64_MAX:
                return v
        return None
    if c == 45:  # '-'
        if n > 1 and 49 <= s[1] <= 57 and s[1:].isdigit():
            v = -int(s[1:])
            if v >= _INT64_MIN:
                return v
        return None
    if c == 48 and n == 1:
        return 0
    return None


def lp_safe_to_add(lp: bytearray | None, add: int) -> bool:
    """True when growing ``lp`` (None = a new one) by ``add`` bytes stays within 1 GiB."""
    length = len(lp) if lp is not None else 0
    return length + add <= LISTPACK_MAX_SAFETY_SIZE


# ----------------------------------------------------------------------------------------------
# Creation
# ----------------------------------------------------------------------------------------------


def lp_new() -> bytearray:
    """An empty listpack: the 6-byte header (7 bytes, 0 elements) and the 0xFF terminator."""
    return bytearray(_EMPTY_LP)


def lp_build(values: Iterable[bytes | int]) -> bytearray:
    """Build a listpack from ``values`` in one pass, byte-identical to appending one by one.

    No Redis counterpart: a convenience for loaders and tests (one allocation instead of one
    per element).
    """
    parts = [_lp_encode_entry(v) for v in values]
    count = len(parts)
    body = b"".join(parts)
    lp = bytearray(LP_HDR_SIZE + len(body) + 1)
    lp[LP_HDR_SIZE:-1] = body
    lp[-1] = LP_EOF
    _hdr_pack(lp, 0, len(lp), count if count < LP_HDR_NUMELE_UNKNOWN else LP_HDR_NUMELE_UNKNOWN)
    return lp


# ----------------------------------------------------------------------------------------------
# Entry encoding
# ----------------------------------------------------------------------------------------------


def lp_encode_backlen(length: int) -> bytes:
    """Encode ``length`` (the size of an entry without its backlen) as a backlen field.

    The boundaries are Redis's, including its quirk of switching to the next width one value
    early (16383 takes 3 bytes, not 2), which matters for byte-exact output.
    """
    if length <= 127:
        return _BYTE[length]
    if length < 16383:
        return bytes((length >> 7, (length & 127) | 128))
    if length < 2097151:
        return bytes((length >> 14, ((length >> 7) & 127) | 128, (length & 127) | 128))
    if length < 268435455:
        return bytes((length >> 21, ((length >> 14) & 127) | 128,
                      ((length >> 7) & 127) | 128, (length & 127) | 128))
    return bytes((length >> 28, ((length >> 21) & 127) | 128, ((length >> 14) & 127) | 128,
                  ((length >> 7) & 127) | 128, (length & 127) | 128))


def _backlen_size(length: int) -> int:
    if length <= 127:
        return 1
    if length < 16383:
        return 2
    if length < 2097151:
        return 3
    if length < 268435455:
        return 4
    return 5


def lp_decode_backlen(lp: bytearray, p: int) -> int:
    """Read the backlen whose *last* byte is at offset ``p``, walking left.

    Returns -1 when more than 5 bytes carry the continuation flag (a corrupt field; Redis
    returns UINT64_MAX there).
    """
    b = lp[p]
    val = b & 127
    shift = 0
    while b & 128:
        shift += 7
        if shift > 28:
            return -1
        p -= 1
        b = lp[p]
        val |= (b & 127) << shift
    return val


def _lp_encode_integer(v: int) -> bytes:
    """The smallest integer encoding of ``v`` plus its backlen (lpEncodeIntegerGetType)."""
    if 0 <= v <= 127:
        return _SMALL_UINT_ENTRY[v]
    if -4096 <= v <= 4095:
        if v < 0:
            v += 8192
        return bytes((LP_ENCODING_13BIT_INT | (v >> 8), v & 0xFF, 2))
    if -32768 <= v <= 32767:
        return _pack_i16_entry(LP_ENCODING_16BIT_INT, v, 3)
    if -8388608 <= v <= 8388607:
        return b"\xf2" + v.to_bytes(3, "little", signed=True) + b"\x04"
    if -2147483648 <= v <= 2147483647:
        return _pack_i32_entry(LP_ENCODING_32BIT_INT, v, 5)
    return _pack_i64_entry(LP_ENCODING_64BIT_INT, v, 9)


def _lp_encode_string(s: bytes) -> bytes:
    """A string entry plus its backlen (lpEncodeString), with no integer detection."""
    n = len(s)
    if n < 64:
        return _BYTE[LP_ENCODING_6BIT_STR | n] + s + _BYTE[n + 1]
    if n < 4096:
        return (_BYTE[LP_ENCODING_12BIT_STR | (n >> 8)] + _BYTE[n & 0xFF] + s
                + lp_encode_backlen(n + 2))
    if n > _UINT32_MAX:
        raise ValueError("listpack string too long")
    return _pack_str32_hdr(LP_ENCODING_32BIT_STR, n) + s + lp_encode_backlen(n + 5)


def _lp_encode_entry(value: bytes | int) -> bytes:
    """Full encoded entry for a value, choosing the type like lpEncodeGetType()."""
    if value.__class__ is int:
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise OverflowError("listpack integers are int64")
        return _lp_encode_integer(value)
    n = len(value)
    if 0 < n < 21:
        c = value[0]
        if 49 <= c <= 57:
            if value.isdigit():
                v = int(value)
                if v <= _INT64_MAX:
                    return _lp_encode_integer(v)
        elif c == 45:
            if n > 1 and 49 <= value[1] <= 57 and value[1:].isdigit():
                v = -int(value[1:])
                if v >= _INT64_MIN:
                    return _lp_encode_integer(v)
        elif c == 48 and n == 1:
            return _SMALL_UINT_ENTRY[0]
    if n < 64:
        return _BYTE[LP_ENCODING_6BIT_STR | n] + value + _BYTE[n + 1]
    return _lp_encode_string(bytes(value))


# ----------------------------------------------------------------------------------------------
# Walking entries
# ----------------------------------------------------------------------------------------------


def lp_current_encoded_size_unsafe(lp: bytearray, p: int) -> int:
    """Size of the entry at ``p`` without its backlen; 1 for EOF, 0 for an unknown encoding."""
    b = lp[p]
    if b < 0x80:
        return 1
    if b < 0xC0:
        return 1 + (b & 0x3F)
    if b < 0xE0:
        return 2
    if b < 0xF0:
        return 2 + (((b & 0x0F) << 8) | lp[p + 1])
    if b == 0xF0:
        return 5 + _u32(lp, p + 1)[0]
    if b == 0xF1:
        return 3
    if b == 0xF2:
        return 4
    if b == 0xF3:
        return 5
    if b == 0xF4:
        return 9
    if b == LP_EOF:
        return 1
    return 0


def lp_current_encoded_size_bytes(lp: bytearray, p: int) -> int:
    """Bytes of encoding + length header of the entry at ``p`` (0 for an unknown encoding)."""
    b = lp[p]
    if b < 0xE0:
        return 1
    if b < 0xF0:
        return 2
    if b == 0xF0:
        return 5
    if b <= 0xF4 or b == LP_EOF:
        return 1
    return 0


def lp_skip(lp: bytearray, p: int) -> int:
    """Offset just after the entry at ``p`` (may be the EOF byte).  ``p`` must not be EOF."""
    b = lp[p]
    if b < 0x80:
        return p + 2
    if b < 0xC0:
        return p + (b & 0x3F) + 2  # 1 + len <= 64, so the backlen is one byte
    if b < 0xE0:
        return p + 3
    size = lp_current_encoded_size_unsafe(lp, p)
    return p + size + _backlen_size(size)


def lp_next(lp: bytearray, p: int) -> int | None:
    """Offset of the entry after ``p``, or None if ``p`` is the last one."""
    p = lp_skip(lp, p)
    if lp[p] == LP_EOF:
        return None
    return p


def lp_prev(lp: bytearray, p: int) -> int | None:
    """Offset of the entry before ``p`` (``p`` may be the EOF byte), or None at the head."""
    if p == LP_HDR_SIZE:
        return None
    prevlen = lp_decode_backlen(lp, p - 1)
    if prevlen <= 0:
        raise ValueError("corrupt listpack backlen")
    p -= prevlen + _backlen_size(prevlen)
    if p < LP_HDR_SIZE:
        raise ValueError("corrupt listpack backlen")
    return p


def lp_first(lp: bytearray) -> int | None:
    """Offset of the first entry, or None if the listpack is empty."""
    if lp[LP_HDR_SIZE] == LP_EOF:
        return None
    return LP_HDR_SIZE


def lp_last(lp: bytearray) -> int | None:
    """Offset of the last entry, or None if the listpack is empty."""
    return lp_prev(lp, len(lp) - 1)


def lp_length(lp: bytearray) -> int:
    """Number of elements: the header count, or a full scan when the header says 'unknown'.

    As in Redis, a scan that finds fewer than 65535 elements writes the count back.
    """
    numele = lp[4] | (lp[5] << 8)
    if numele != LP_HDR_NUMELE_UNKNOWN:
        return numele
    count = 0
    p = LP_HDR_SIZE
    while lp[p] != LP_EOF:
        count += 1
        p = lp_skip(lp, p)
    if count < LP_HDR_NUMELE_UNKNOWN:
        lp[4] = count & 0xFF
        lp[5] = count >> 8
    return count


def lp_bytes(lp: bytearray) -> int:
    """Total bytes as recorded in the header (equals ``len(lp)`` for a well-formed listpack)."""
    return _u32(lp, 0)[0]


# ----------------------------------------------------------------------------------------------
# Reading values
# ----------------------------------------------------------------------------------------------


def lp_get(lp: bytearray, p: int) -> bytes | int:
    """The element at ``p``: ``int`` if integer-encoded, else ``bytes`` (lpGet without intbuf).

    An unrecognised encoding byte yields 12345678900000000 + byte, Redis's deliberate
    "this listpack is garbage" marker, rather than an exception.
    """
    b = lp[p]
    if b < 0x80:
        return b
    if b < 0xC0:
        return bytes(lp[p + 1:p + 1 + (b & 0x3F)])
    if b < 0xE0:
        v = ((b & 0x1F) << 8) | lp[p + 1]
        return v - 8192 if v >= 4096 else v
    if b < 0xF0:
        return bytes(lp[p + 2:p + 2 + (((b & 0x0F) << 8) | lp[p + 1])])
    if b == 0xF0:
        return bytes(lp[p + 5:p + 5 + _u32(lp, p + 1)[0]])
    if b == 0xF1:
        return _i16(lp, p + 1)[0]
    if b == 0xF2:
        return int.from_bytes(lp[p + 1:p + 4], "little", signed=True)
    if b == 0xF3:
        return _i32(lp, p + 1)[0]
    if b == 0xF4:
        return _i64(lp, p + 1)[0]
    return 12345678900000000 + b


lp_get_value = lp_get  # lpGetValue(): same contract in Python (str or int in one return)


def lp_get_with_size(lp: bytearray, p: int) -> tuple[bytes | int, int]:
    """(element, whole entry size including backlen) at ``p`` (lpGetWithSize)."""
    b = lp[p]
    if b < 0x80:
        return b, 2
    if b < 0xC0:
        n = b & 0x3F
        return bytes(lp[p + 1:p + 1 + n]), n + 2
    if b < 0xE0:
        v = ((b & 0x1F) << 8) | lp[p + 1]
        return (v - 8192 if v >= 4096 else v), 3
    if b < 0xF0:
        n = ((b & 0x0F) << 8) | lp[p + 1]
        return bytes(lp[p + 2:p + 2 + n]), n + 2 + _backlen_size(n + 2)
    if b == 0xF0:
        n = _u32(lp, p + 1)[0]
        return bytes(lp[p + 5:p + 5 + n]), n + 5 + _backlen_size(n + 5)
    if b == 0xF1:
        return _i16(lp, p + 1)[0], 4
    if b == 0xF2:
        return int.from_bytes(lp[p + 1:p + 4], "little", signed=True), 5
    if b == 0xF3:
        return _i32(lp, p + 1)[0], 6
    if b == 0xF4:
        return _i64(lp, p + 1)[0], 10
    return 12345678900000000 + b, 0


def lp_get_bytes(lp: bytearray, p: int) -> bytes:
    """The element at ``p`` always as bytes; integers in decimal (lpGet with an intbuf)."""
    v = lp_get(lp, p)
    if v.__class__ is int:
        return b"%d" % v
    return v


def lp_find(lp: bytearray, p: int, s: bytes, skip: int) -> int | None:
    """First entry at or after ``p`` equal to ``s``, comparing only every (skip+1)-th entry.

    With skip=1 from the first entry this looks only at the fields of a field/value listpack
    (hashes, zsets).  Integer entries match when ``s`` is the canonical spelling of the same
    number, as in lpFind().

    Divergence (speed only): when ``s`` is not an integer, any entry equal to it contains its
    bytes verbatim, so a miss is answered by one C-speed substring search; the walk compares
    strings only and steps over integer entries without decoding them.
    """
    slen = len(s)
    vll = lp_string_to_int64(s) if slen < 21 else None
    if vll is None:
        if lp.find(s, p) < 0:
            return None
        if skip == 1:
            return _lp_find_string_pairs(lp, p, s, slen)
    skipcnt = 0
    startswith = lp.startswith
    while True:
        b = lp[p]
        if b == LP_EOF:
            return None
        if skipcnt == 0:
            if b < 0x80:
                if b == vll:
                    return p
                size = 2
            elif b < 0xC0:
                n = b & 0x3F
                if n == slen and startswith(s, p + 1):
                    return p
                size = n + 2
            elif b < 0xE0:
                if vll is not None:
                    ival = ((b & 0x1F) << 8) | lp[p + 1]
                    if (ival - 8192 if ival >= 4096 else ival) == vll:
                        return p
                size = 3
            elif b <= 0xF0:
                if b == 0xF0:
                    n = _u32(lp, p + 1)[0]
                    off = 5
                else:
                    n = ((b & 0x0F) << 8) | lp[p + 1]
                    off = 2
                if n == slen and startswith(s, p + off):
                    return p
                size = n + off + _backlen_size(n + off)
            else:
                ival, size = lp_get_with_size(lp, p)
                if not size:
                    raise ValueError(f"corrupt listpack: bad encoding byte {b:#x} at {p}")
                if ival == vll:
                    return p
            p += size
            skipcnt = skip
        else:
            skipcnt -= 1
            if b < 0x80:
                p += 2
            elif b < 0xC0:
                p += (b & 0x3F) + 2
            else:
                p = lp_skip(lp, p)


def _lp_find_string_pairs(lp: bytearray, p: int, s: bytes, slen: int) -> int | None:
    """lp_find() for a non-integer ``s`` with skip=1: one loop turn per field/value pair."""
    startswith = lp.startswith
    while True:
        b = lp[p]
        if 0x80 <= b < 0xC0:
            n = b & 0x3F
            if n == slen and startswith(s, p + 1):
                return p
            p += n + 2
        elif b == LP_EOF:
            return None
        elif 0xE0 <= b <= 0xF0:
            if b == 0xF0:
                n = _u32(lp, p + 1)[0]
                off = 5
            else:
                n = ((b & 0x0F) << 8) | lp[p + 1]
                off = 2
            if n == slen and startswith(s, p + off):
                return p
            p += n + off + _backlen_size(n + off)
        else:
            p = lp_skip(lp, p)
        b = lp[p]
        if b < 0x80:
            p += 2
        elif b < 0xC0:
            p += (b & 0x3F) + 2
        elif b == LP_EOF:
            return None
        else:
            p = lp_skip(lp, p)


# ----------------------------------------------------------------------------------------------
# Insert / delete / replace
# ----------------------------------------------------------------------------------------------


def _lp_set_header(lp: bytearray, delta: int) -> None:
    numele = lp[4] | (lp[5] << 8)
    if numele != LP_HDR_NUMELE_UNKNOWN:
        numele += delta
    _hdr_pack(lp, 0, len(lp), numele)


def lp_insert(lp: bytearray, value: bytes | int | None, p: int, where: int) -> int | None:
    """Insert ``value`` before/after the entry at ``p`` or replace it (lpInsert).

    ``where`` is LP_BEFORE, LP_AFTER or LP_REPLACE; ``p`` may be the EOF offset for
    LP_BEFORE (that is how append works).  ``value`` None deletes the entry at ``p``.
    Returns the offset of the inserted/replacing entry; for a deletion, the offset of the
    entry that followed the deleted one, or None if it was the last.
    Raises OverflowError if the listpack would pass 2**32-1 bytes (Redis returns NULL).
    """
    if value is None:
        size = lp_current_encoded_size_unsafe(lp, p)
        end = p + size + _backlen_size(size)
        del lp[p:end]
        _lp_set_header(lp, -1)
        return None if lp[p] == LP_EOF else p
    entry = _lp_encode_entry(value)
    if where == LP_AFTER:
        p = lp_skip(lp, p)
        where = LP_BEFORE
    if where == LP_BEFORE:
        if len(lp) + len(entry) > _UINT32_MAX:
            raise OverflowError("listpack would exceed 4 GiB")
        lp[p:p] = entry
        _lp_set_header(lp, 1)
    else:
        size = lp_current_encoded_size_unsafe(lp, p)
        end = p + size + _backlen_size(size)
        if len(lp) + len(entry) - (end - p) > _UINT32_MAX:
            raise OverflowError("listpack would exceed 4 GiB")
        lp[p:end] = entry
        _hdr_pack(lp, 0, len(lp), lp[4] | (lp[5] << 8))
    return p


def lp_insert_string(lp: bytearray, s: bytes, p: int, where: int) -> int:
    """lpInsertString: insert a string (stored as an integer if it spells one)."""
    return lp_insert(lp, s, p, where)  # type: ignore[return-value]


def lp_insert_integer(lp: bytearray, v: int, p: int, where: int) -> int:
    """lpInsertInteger: insert an int64 using the smallest integer encoding."""
    return lp_insert(lp, int(v), p, where)  # type: ignore[return-value]


def lp_append(lp: bytearray, s: bytes | int) -> int:
    """Append an element at the tail; returns its offset (lpAppend)."""
    entry = _lp_encode_entry(s)
    p = len(lp) - 1
    if p + 1 + len(entry) > _UINT32_MAX:
        raise OverflowError("listpack would exceed 4 GiB")
    lp[p:p] = entry
    _lp_set_header(lp, 1)
    return p


def lp_append_integer(lp: bytearray, v: int) -> int:
    """lpAppendInteger."""
    return lp_append(lp, int(v))


def lp_prepend(lp: bytearray, s: bytes | int) -> int:
    """Insert an element at the head; returns its offset (always LP_HDR_SIZE) (lpPrepend)."""
    entry = _lp_encode_entry(s)
    if len(lp) + len(entry) > _UINT32_MAX:
        raise OverflowError("listpack would exceed 4 GiB")
    lp[LP_HDR_SIZE:LP_HDR_SIZE] = entry
    _lp_set_header(lp, 1)
    return LP_HDR_SIZE


def lp_prepend_integer(lp: bytearray, v: int) -> int:
    """lpPrependInteger."""
    return lp_prepend(lp, int(v))


def lp_replace(lp: bytearray, p: int, s: bytes | int) -> int:
    """Replace the element at ``p``; returns its (unchanged) offset (lpReplace)."""
    return lp_insert(lp, s, p, LP_REPLACE)  # type: ignore[return-value]


def lp_replace_integer(lp: bytearray, p: int, v: int) -> int:
    """lpReplaceInteger."""
    return lp_insert(lp, int(v), p, LP_REPLACE)  # type: ignore[return-value]


def lp_delete(lp: bytearray, p: int) -> int | None:
    """Delete the entry at ``p``; returns the offset of the next entry or None (lpDelete)."""
    size = lp_current_encoded_size_unsafe(lp, p)
    del lp[p:p + size + _backlen_size(size)]
    _lp_set_header(lp, -1)
    return None if lp[p] == LP_EOF else p


def lp_delete_range_with_entry(lp: bytearray, p: int, num: int) -> int | None:
    """Delete up to ``num`` entries starting at ``p``; returns the offset now at ``p`` or None.

    Stops at EOF, so ``num`` larger than what is left is safe (lpDeleteRangeWithEntry).
    """
    if num == 0:
        return p
    tail = p
    deleted = 0
    while num:
        num -= 1
        deleted += 1
        tail = lp_skip(lp, tail)
        if lp[tail] == LP_EOF:
            break
    del lp[p:tail]
    _lp_set_header(lp, -deleted)
    return None if lp[p] == LP_EOF else p


def lp_delete_range(lp: bytearray, index: int, num: int) -> None:
    """Delete ``num`` entries starting at element ``index`` (negative counts from the tail).

    Out-of-range ``index`` deletes nothing (lpDeleteRange).  When the header count is known
    and the range reaches the end, the listpack is simply cut, without walking the entries.
    """
    if num == 0:
        return
    p = lp_seek(lp, index)
    if p is None:
        return
    numele = lp[4] | (lp[5] << 8)
    if numele != LP_HDR_NUMELE_UNKNOWN:
        if index < 0:
            index += numele
        if numele - index <= num:
            del lp[p + 1:]
            lp[p] = LP_EOF
            _hdr_pack(lp, 0, len(lp), index)
            return
    lp_delete_range_with_entry(lp, p, num)


def lp_merge(first: bytearray, second: bytearray) -> bytearray | None:
    """Concatenate two listpacks (lpMerge); returns the result, or None if they are the same.

    Like Redis, the larger of the two is grown and returned (append to ``first`` or prepend
    into ``second``); the other argument must not be used afterwards.  The element count is
    capped at 65535 ("unknown") when the sum does not fit the header.
    """
    if first is None or second is None or first is second:
        return None
    first_bytes = len(first)
    second_bytes = len(second)
    count = lp_length(first) + lp_length(second)
    total = first_bytes + second_bytes - LP_HDR_SIZE - 1
    if total >= _UINT32_MAX:
        raise OverflowError("merged listpack would exceed 4 GiB")
    if first_bytes >= second_bytes:
        target = first
        target[-1:] = second[LP_HDR_SIZE:]
    else:
        target = second
        target[LP_HDR_SIZE:LP_HDR_SIZE] = first[LP_HDR_SIZE:-1]
    _hdr_pack(target, 0, total, count if count < LP_HDR_NUMELE_UNKNOWN else LP_HDR_NUMELE_UNKNOWN)
    return target


def lp_seek(lp: bytearray, index: int) -> int | None:
    """Offset of element ``index`` (negative: from the tail, -1 = last), or None if out of range.

    Walks from whichever end is nearer when the header count is known (lpSeek).
    """
    forward = True
    numele = lp[4] | (lp[5] << 8)
    if numele != LP_HDR_NUMELE_UNKNOWN:
        if index < 0:
            index += numele
        if index < 0 or index >= numele:
            return None
        if index > numele // 2:
            forward = False
            index -= numele
    elif index < 0:
        forward = False
    if forward:
        p = LP_HDR_SIZE
        if lp[p] == LP_EOF:
            return None
        while index > 0:
            p = lp_skip(lp, p)
            if lp[p] == LP_EOF:
                return None
            index -= 1
        return p
    ele = lp_last(lp)
    while index < -1 and ele is not None:
        ele = lp_prev(lp, ele)
        index += 1
    return ele


# ----------------------------------------------------------------------------------------------
# Validation (used on RDB / RESTORE payloads)
# ----------------------------------------------------------------------------------------------


def lp_validate_first(lp: bytearray) -> int | None:
    """Offset of the first entry without any check (lpValidateFirst)."""
    return None if lp[LP_HDR_SIZE] == LP_EOF else LP_HDR_SIZE


def lp_validate_next(lp: bytearray, p: int | None, lpbytes: int) -> tuple[bool, int | None]:
    """Check the entry at ``p`` fits in ``lpbytes`` and its backlen agrees with its header.

    Returns (valid, next offset); next is None after the last entry (lpValidateNext).
    """
    if p is None:
        return False, None
    last = lpbytes - 1
    if p < LP_HDR_SIZE or p > last:
        return False, None
    if lp[p] == LP_EOF:
        return True, None
    lenbytes = lp_current_encoded_size_bytes(lp, p)
    if not lenbytes:
        return False, None
    if p + lenbytes > last:
        return False, None
    entrylen = lp_current_encoded_size_unsafe(lp, p)
    encoded_backlen = _backlen_size(entrylen)
    entrylen += encoded_backlen
    if p + entrylen > last:
        return False, None
    p += entrylen
    prevlen = lp_decode_backlen(lp, p - 1)
    if prevlen + encoded_backlen != entrylen:
        return False, None
    return True, p


def lp_validate_integrity(lp: bytearray, deep: bool,
                          entry_cb: Callable[[bytearray, int, int], bool] | None = None,
                          size: int | None = None) -> bool:
    """Validate a listpack read from outside (lpValidateIntegrity).

    Shallow: header size matches ``size`` (default ``len(lp)``) and the last byte is EOF.
    Deep: also every entry, the EOF position and the header count.  ``entry_cb(lp, p,
    header_count)`` may reject individual entries.
    """
    if size is None:
        size = len(lp)
    if size < LP_HDR_SIZE + 1 or len(lp) < size:
        return False
    total = _u32(lp, 0)[0]
    if total != size:
        return False
    if lp[size - 1] != LP_EOF:
        return False
    if not deep:
        return True
    count = 0
    numele = lp[4] | (lp[5] << 8)
    p: int | None = LP_HDR_SIZE
    while p is not None and lp[p] != LP_EOF:
        prev = p
        ok, p = lp_validate_next(lp, p, total)
        if not ok:
            return False
        if entry_cb is not None and not entry_cb(lp, prev, numele):
            return False
        count += 1
    if p != size - 1:
        return False
    if numele != LP_HDR_NUMELE_UNKNOWN and numele != count:
        return False
    return True


def lp_compare(lp: bytearray, p: int, s: bytes) -> bool:
    """True if the entry at ``p`` equals ``s`` (integers compared as numbers) (lpCompare)."""
    if lp[p] == LP_EOF:
        return False
    v = lp_get(lp, p)
    if v.__class__ is int:
        return lp_string_to_int64(s) == v
    return v == s


# ----------------------------------------------------------------------------------------------
# Random sampling of field/value pairs (HRANDFIELD, ZRANDMEMBER)
# ----------------------------------------------------------------------------------------------


def lp_random_pair(lp: bytearray, total_count: int) -> tuple[bytes | int, bytes | int]:
    """A uniformly chosen (key, value) pair; ``total_count`` is lp_length(lp) // 2."""
    if not total_count:
        raise ValueError("empty listpack")
    p = lp_seek(lp, random.randrange(total_count) * 2)
    assert p is not None
    key = lp_get(lp, p)
    p = lp_next(lp, p)
    assert p is not None
    return key, lp_get(lp, p)


def lp_random_pairs(lp: bytearray, count: int,
                    with_vals: bool = True) -> tuple[list[bytes | int], list[bytes | int] | None]:
    """``count`` pairs chosen with repetition, in random order (lpRandomPairs).

    Returns (keys, values); values is None when ``with_vals`` is False.
    """
    total = lp_length(lp) // 2
    if not total:
        raise ValueError("empty listpack")
    picks = sorted((random.randrange(total) * 2, order) for order in range(count))
    keys: list = [None] * count
    vals: list | None = [None] * count if with_vals else None
    lpindex = picks[0][0] if picks else 0
    pick = 0
    p = lp_seek(lp, lpindex)
    while p is not None and pick < count:
        key = lp_get(lp, p)
        p = lp_next(lp, p)
        assert p is not None
        val = lp_get(lp, p)
        while pick < count and picks[pick][0] == lpindex:
            order = picks[pick][1]
            keys[order] = key
            if vals is not None:
                vals[order] = val
            pick += 1
        lpindex += 2
        p = lp_next(lp, p)
    return keys, vals


def lp_random_pairs_unique(lp: bytearray, count: int, with_vals: bool = True
                           ) -> tuple[list[bytes | int], list[bytes | int] | None]:
    """Up to ``count`` distinct pairs in listpack order, in one pass (lpRandomPairsUnique).

    Each pair is taken with probability remaining_wanted / remaining_unvisited, which makes
    every subset equally likely.
    """
    total = lp_length(lp) // 2
    if count > total:
        count = total
    keys: list = []
    vals: list | None = [] if with_vals else None
    p = lp_first(lp)
    index = 0
    remaining = count
    rnd = random.random
    while len(keys) < count and p is not None:
        if rnd() <= remaining / (total - index):
            keys.append(lp_get(lp, p))
            p = lp_next(lp, p)
            assert p is not None
            if vals is not None:
                vals.append(lp_get(lp, p))
            remaining -= 1
        else:
            p = lp_next(lp, p)
            assert p is not None
        p = lp_next(lp, p)
        index += 1
    return keys, vals


# ----------------------------------------------------------------------------------------------
# Debugging and Python-side iteration
# ----------------------------------------------------------------------------------------------


def lp_repr(lp: bytearray) -> str:
    """Human-readable dump of every entry, in the spirit of lpRepr() (DEBUG LISTPACK)."""
    out = [f"{{total bytes {lp_bytes(lp)}}} {{num entries {lp_length(lp)}}}"]
    p = lp_first(lp)
    index = 0
    while p is not None:
        hdr = lp_current_encoded_size_bytes(lp, p)
        size = lp_current_encoded_size_unsafe(lp, p)
        back = _backlen_size(size)
        raw = "|".join(f"{b:02x}" for b in lp[p:p + size + back])
        val = lp_get_bytes(lp, p)
        shown = val[:40] + b"..." if len(val) > 40 else val
        out.append(
            f"{{\n\tindex: {index:2d},\n\toffset: {p},\n\thdr+entrylen+backlen: {size + back:2d},"
            f"\n\thdrlen: {hdr:3d},\n\tbacklen: {back:2d},\n\tpayload: {size - hdr}"
            f"\n\tbytes: {raw}|\n\t[str]{shown.decode('latin-1')}\n}}")
        index += 1
        p = lp_next(lp, p)
    out.append("{end}")
    return "\n".join(out) + "\n"


def lp_iter(lp: bytearray) -> Iterator[bytes | int]:
    """Yield every element from head to tail (ints as int, strings as bytes).

    No Redis counterpart (C loops with lpFirst/lpNext); this decodes inline because whole-
    listpack walks (HGETALL, ZRANGE, LRANGE over a node) are the hot read path.  The listpack
    must not be modified while the generator is alive.
    """
    p = LP_HDR_SIZE
    b = lp[p]
    while b != LP_EOF:
        if b < 0x80:
            yield b
            p += 2
        elif b < 0xC0:
            n = b & 0x3F
            yield bytes(lp[p + 1:p + 1 + n])
            p += n + 2
        elif b < 0xE0:
            v = ((b & 0x1F) << 8) | lp[p + 1]
            yield v - 8192 if v >= 4096 else v
            p += 3
        else:
            v, size = lp_get_with_size(lp, p)
            if not size:
                raise ValueError(f"corrupt listpack: bad encoding byte {b:#x} at {p}")
            yield v
            p += size
        b = lp[p]


def lp_to_list(lp: bytearray) -> list[bytes | int]:
    """All elements as a list (``list(lp_iter(lp))``)."""
    return list(lp_iter(lp))
