"""Intset: a sorted array of integers in the narrowest shared width (mirror of src/intset.c).

An intset is one ``bytearray`` laid out exactly as Redis keeps it in memory and in RDB files::

    <encoding uint32 LE: 2, 4 or 8> <length uint32 LE> <length sorted values, little-endian>

All values share the width of ``encoding``.  Adding a value that needs a wider type upgrades
the whole set (every element is rewritten at the new width); a set never downgrades, even when
the wide values are removed, exactly like Redis.  Lookups are binary searches, inserts and
removals shift the tail: O(log n) + O(n) bytes moved, fine for the small sets
(``set-max-intset-entries``, 512 by default) this encoding is used for.

Mutation model: ``intset_add`` and ``intset_remove`` change the bytearray in place and return
it (the same object) together with a flag, so ``is_, added = intset_add(is_, v)`` reads like the
C ``is = intsetAdd(is, v, &success)``.

Divergence: intsetMax()/intsetMin() only appear in Redis 7.2; they are provided here because
callers (SINTERCARD / SRANDMEMBER helpers, the inspector) find them handy.
Divergence: intsetRandom() uses Python's ``random`` instead of libc rand().
"""

from __future__ import annotations

import random
import struct
import sys
from bisect import bisect_left

__all__ = [
    "INTSET_ENC_INT16", "INTSET_ENC_INT32", "INTSET_ENC_INT64",
    "intset_new", "intset_value_encoding", "intset_search", "intset_add", "intset_remove",
    "intset_find", "intset_random", "intset_get", "intset_len", "intset_blob_len",
    "intset_validate_integrity", "intset_max", "intset_min", "intset_to_list", "intset_encoding",
]

INTSET_ENC_INT16 = 2
INTSET_ENC_INT32 = 4
INTSET_ENC_INT64 = 8

_HEADER = 8  # encoding + length
_FMT = {INTSET_ENC_INT16: "h", INTSET_ENC_INT32: "i", INTSET_ENC_INT64: "q"}
_PACK = {enc: struct.Struct("<" + f).pack for enc, f in _FMT.items()}
_UNPACK = {enc: struct.Struct("<" + f).unpack_from for enc, f in _FMT.items()}
_hdr = struct.Struct("<II")
_u32 = struct.Struct("<I").unpack_from
# memoryview.cast reads native order; the on-disk order is little-endian.
_NATIVE_LE = sys.byteorder == "little"

_INT16_MIN, _INT16_MAX = -(1 << 15), (1 << 15) - 1
_INT32_MIN, _INT32_MAX = -(1 << 31), (1 << 31) - 1
_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1


def intset_value_encoding(v: int) -> int:
    """Narrowest width (2, 4 or 8 bytes) that holds ``v`` (_intsetValueEncoding)."""
    if v < _INT32_MIN or v > _INT32_MAX:
        return INTSET_ENC_INT64
    if v < _INT16_MIN or v > _INT16_MAX:
        return INTSET_ENC_INT32
    return INTSET_ENC_INT16


def intset_new() -> bytearray:
    """An empty intset: 16-bit encoding, length 0 (intsetNew)."""
    return bytearray(b"\x02\x00\x00\x00\x00\x00\x00\x00")


def intset_encoding(is_: bytearray) -> int:
    """The element width in bytes (2, 4 or 8)."""
    return _u32(is_, 0)[0]


def intset_len(is_: bytearray) -> int:
    """Number of elements (intsetLen)."""
    return _u32(is_, 4)[0]


def intset_blob_len(is_: bytearray) -> int:
    """Bytes the intset occupies: header plus length * width (intsetBlobLen)."""
    enc, length = _hdr.unpack_from(is_, 0)
    return _HEADER + length * enc


def _intset_get(is_: bytearray, pos: int, enc: int) -> int:
    return _UNPACK[enc](is_, _HEADER + pos * enc)[0]


def intset_search(is_: bytearray, value: int) -> tuple[bool, int]:
    """Binary search: (found, position), where position is the insertion point if not found.

    Like intsetSearch(), values beyond either end are answered from the first/last element
    without searching; the caller has already ruled out values wider than the encoding.
    """
    enc, length = _hdr.unpack_from(is_, 0)
    if length == 0:
        return False, 0
    unpack = _UNPACK[enc]
    if value > unpack(is_, _HEADER + (length - 1) * enc)[0]:
        return False, length
    if value < unpack(is_, _HEADER)[0]:
        return False, 0
    if _NATIVE_LE:
        # bisect over a typed view of the contents; the view dies with this frame, so the
        # bytearray is free to be resized by the caller afterwards.
        arr = memoryview(is_)[_HEADER:_HEADER + length * enc].cast(_FMT[enc])
        pos = bisect_left(arr, value)
        found = arr[pos] == value
        arr.release()
        return found, pos
    lo, hi = 0, length - 1
    while lo <= hi:
        mid = (lo + hi) >> 1
        cur = unpack(is_, _HEADER + mid * enc)[0]
        if value > cur:
            lo = mid + 1
        elif value < cur:
            hi = mid - 1
        else:
            return True, mid
    return False, lo


def _intset_upgrade_and_add(is_: bytearray, value: int) -> bytearray:
    """Rewrite every element at the width ``value`` needs, then add it at one end.

    A value that forces an upgrade is outside the range of every current element, so it is
    either the new minimum (negative) or the new maximum; no search is needed.
    """
    enc, length = _hdr.unpack_from(is_, 0)
    newenc = intset_value_encoding(value)
    values = list(struct.unpack_from(f"<{length}{_FMT[enc]}", is_, _HEADER))
    if value < 0:
        values.insert(0, value)
    else:
        values.append(value)
    length += 1
    is_[:] = _hdr.pack(newenc, length) + struct.pack(f"<{length}{_FMT[newenc]}", *values)
    return is_


def intset_add(is_: bytearray, value: int) -> tuple[bytearray, bool]:
    """Insert ``value`` keeping order; returns (is_, added).  Mutates ``is_`` in place."""
    enc = is_[0]
    if intset_value_encoding(value) > enc:
        return _intset_upgrade_and_add(is_, value), True
    found, pos = intset_search(is_, value)
    if found:
        return is_, False
    off = _HEADER + pos * enc
    is_[off:off] = _PACK[enc](value)
    is_[4:8] = (_u32(is_, 4)[0] + 1).to_bytes(4, "little")
    return is_, True


def intset_remove(is_: bytearray, value: int) -> tuple[bytearray, bool]:
    """Remove ``value`` if present; returns (is_, removed).  Mutates ``is_`` in place.

    The encoding is kept even if the removed value was the only wide one.
    """
    enc = is_[0]
    if intset_value_encoding(value) > enc:
        return is_, False
    found, pos = intset_search(is_, value)
    if not found:
        return is_, False
    off = _HEADER + pos * enc
    del is_[off:off + enc]
    is_[4:8] = (_u32(is_, 4)[0] - 1).to_bytes(4, "little")
    return is_, True


def intset_find(is_: bytearray, value: int) -> bool:
    """Membership test (intsetFind)."""
    return intset_value_encoding(value) <= is_[0] and intset_search(is_, value)[0]


def intset_random(is_: bytearray) -> int:
    """A uniformly chosen element; raises ValueError on an empty set (intsetRandom)."""
    enc, length = _hdr.unpack_from(is_, 0)
    if not length:
        raise ValueError("intset_random on an empty intset")
    return _intset_get(is_, random.randrange(length), enc)


def intset_get(is_: bytearray, pos: int) -> int | None:
    """Element at ``pos`` (0-based), or None when out of range (intsetGet)."""
    enc, length = _hdr.unpack_from(is_, 0)
    if 0 <= pos < length:
        return _intset_get(is_, pos, enc)
    return None


def intset_max(is_: bytearray) -> int:
    """Largest element (last one); the set must not be empty."""
    enc, length = _hdr.unpack_from(is_, 0)
    return _intset_get(is_, length - 1, enc)


def intset_min(is_: bytearray) -> int:
    """Smallest element (first one); the set must not be empty."""
    return _intset_get(is_, 0, is_[0])


def intset_to_list(is_: bytearray) -> list[int]:
    """All elements in ascending order, decoded in one call (for SMEMBERS and conversions)."""
    enc, length = _hdr.unpack_from(is_, 0)
    return list(struct.unpack_from(f"<{length}{_FMT[enc]}", is_, _HEADER))


def intset_validate_integrity(is_: bytes | bytearray, deep: bool, size: int | None = None) -> bool:
    """Check an intset read from outside (intsetValidateIntegrity).

    Shallow: known encoding, ``size`` (default ``len(is_)``) equals header + length * width,
    and the set is not empty (Redis never stores an empty intset).  Deep: also strictly
    ascending, i.e. sorted with no duplicates.
    """
    if size is None:
        size = len(is_)
    if size < _HEADER or len(is_) < size:
        return False
    enc, count = _hdr.unpack_from(is_, 0)
    if enc not in _FMT:
        return False
    if _HEADER + count * enc != size:
        return False
    if count == 0:
        return False
    if not deep:
        return True
    values = struct.unpack_from(f"<{count}{_FMT[enc]}", is_, _HEADER)
    prev = values[0]
    for cur in values[1:]:
        if cur <= prev:
            return False
        prev = cur
    return True
