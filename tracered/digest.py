"""DEBUG DIGEST building blocks: Redis 7.0 src/debug.c, ``xorDigest`` to ``computeDatasetDigest``.

A dataset digest is 20 bytes built from SHA1 in two ways:

- *xor* (``xor_digest``): ``digest ^= SHA1(data)``. Order-free, so it folds unordered things:
  the keys of a db, the members of a set or hash, the fields of a zset.
- *mix* (``mix_digest``): ``digest = SHA1(digest ^ SHA1(data))``. Order-sensitive, so it chains
  ordered things: a key then its value, list elements, stream entries.

Per key: start from 20 zero bytes, mix the key name, mix the type as a 4-byte big-endian int
(OBJ_STRING 0 ... OBJ_STREAM 6), then the value (see :func:`xor_object_digest`), then xor in
``SHA1("!!expire!!")`` if the key has a TTL. Only the *presence* of a TTL counts, not its time.
A zset member/score or hash field/value pair gets its own 20-byte digest (mix, mix) that is
folded in with xor_digest, i.e. as ``SHA1(pair_digest)``, not the raw pair digest.
Per db that has keys, ascending by id: mix the db id (4-byte big-endian) into the final digest,
then xor_digest each key's digest into it (again its SHA1). An empty dataset gives 40 zeros.

Zset scores are printed with ``%.17g`` as the score reads back from the encoding: a listpack
zset stores integral scores as integers, so a -0.0 score there digests as ``0`` while a skiplist
keeps ``-0``. Pass the score as stored.

Divergence: Redis walks its own objects (all encodings decode to the same bytes); here the
dataset arrives as plain Python data so the digest can be computed for any server, or from a
dump, without importing the server:

- ``string``: bytes (an int stands for an int-encoded string: its decimal bytes)
- ``list``: iterable of bytes, head to tail
- ``set``: iterable of bytes
- ``zset``: iterable of ``(member, score)``; scores printed with ``%.17g`` like Redis
- ``hash``: iterable of ``(field, value)`` (or a dict)
- ``stream``: iterable of ``(ms, seq, fields)`` with ``fields`` an iterable of ``(field, value)``;
  consumer groups are not part of a digest (as in Redis)

Module types (OBJ_MODULE) have no plain form and are rejected.
"""

from __future__ import annotations

from collections.abc import Iterable
from hashlib import sha1

from tracered.util import fmt_17g

__all__ = [
    "OBJ_TYPES",
    "compute_dataset_digest",
    "compute_dataset_digest_raw",
    "digest_value",
    "mix_digest",
    "mix_string_object_digest",
    "xor_digest",
    "xor_object_digest",
    "xor_string_object_digest",
]

# TYPE name -> the OBJ_* code that gets mixed into every key's digest.
OBJ_TYPES = {"string": 0, "list": 1, "set": 2, "zset": 3, "hash": 4, "module": 5, "stream": 6}

_TYPE_TAG = {name: code.to_bytes(4, "big") for name, code in OBJ_TYPES.items()}
_EXPIRE_SHA = sha1(b"!!expire!!").digest()
_ZERO = bytes(20)
_from = int.from_bytes


def _as_bytes(v) -> bytes:
    """getDecodedObject: an int-encoded value digests as its decimal string."""
    if isinstance(v, int):
        return b"%d" % v
    return v


# The internal helpers work on immutable 20-byte values and return the new digest.

def _xor(d: bytes, data) -> bytes:
    return (_from(d, "big") ^ _from(sha1(data).digest(), "big")).to_bytes(20, "big")


def _mix(d: bytes, data) -> bytes:
    return sha1((_from(d, "big") ^ _from(sha1(data).digest(), "big")).to_bytes(20, "big")).digest()


# ================================ public byte-array API ================================


def xor_digest(digest: bytearray, data: bytes) -> None:
    """xorDigest: ``digest ^= SHA1(data)`` in place (order of calls does not matter)."""
    digest[:] = _xor(bytes(digest), data)


def mix_digest(digest: bytearray, data: bytes) -> None:
    """mixDigest: ``digest = SHA1(digest ^ SHA1(data))`` in place (order matters)."""
    digest[:] = _mix(bytes(digest), data)


def xor_string_object_digest(digest: bytearray, o: bytes | int) -> None:
    """xorStringObjectDigest: xor_digest of a string value (ints digest as decimal)."""
    xor_digest(digest, _as_bytes(o))


def mix_string_object_digest(digest: bytearray, o: bytes | int) -> None:
    """mixStringObjectDigest: mix_digest of a string value (ints digest as decimal)."""
    mix_digest(digest, _as_bytes(o))


# ================================ object and dataset digests ================================


def _object_digest(d: bytes, type_name: str, value, has_expire: bool) -> bytes:
    """xorObjectDigest on an immutable digest: returns the new 20 bytes."""
    try:
        d = _mix(d, _TYPE_TAG[type_name])
    except KeyError:
        raise ValueError(f"unknown type {type_name!r}") from None
    if type_name == "string":
        d = _mix(d, _as_bytes(value))
    elif type_name == "list":
        for ele in value:
            d = _mix(d, _as_bytes(ele))
    elif type_name == "set":
        acc = _from(d, "big")
        for ele in value:
            acc ^= _from(sha1(_as_bytes(ele)).digest(), "big")
        d = acc.to_bytes(20, "big")
    elif type_name == "zset":
        acc = _from(d, "big")
        for member, score in value:
            ele = _mix(_mix(_ZERO, _as_bytes(member)), fmt_17g(score))
            acc ^= _from(sha1(ele).digest(), "big")
        d = acc.to_bytes(20, "big")
    elif type_name == "hash":
        acc = _from(d, "big")
        items = value.items() if isinstance(value, dict) else value
        for field, val in items:
            ele = _mix(_mix(_ZERO, _as_bytes(field)), _as_bytes(val))
            acc ^= _from(sha1(ele).digest(), "big")
        d = acc.to_bytes(20, "big")
    elif type_name == "stream":
        for ms, seq, fields in value:
            d = _mix(d, b"%d.%d" % (ms, seq))
            for field, val in fields:
                d = _mix(d, _as_bytes(field))
                d = _mix(d, _as_bytes(val))
    else:
        raise ValueError(f"no plain-data digest for type {type_name!r}")
    if has_expire:
        d = (_from(d, "big") ^ _from(_EXPIRE_SHA, "big")).to_bytes(20, "big")
    return d


def xor_object_digest(digest: bytearray, type_name: str, value, expire: int = -1) -> None:
    """xorObjectDigest: mix one key's type and value into ``digest`` in place.

    ``type_name`` is what TYPE replies; ``expire`` is the key's absolute expire time in ms,
    or -1 for none (only whether it is -1 matters).
    """
    digest[:] = _object_digest(bytes(digest), type_name, value, expire != -1)


def digest_value(type_name: str, value, expire: int = -1) -> str:
    """DEBUG DIGEST-VALUE for one key: 40 lowercase hex chars.

    Like Redis this covers the type, the value and the TTL flag but not the key name; a
    missing key is 40 zeros (the caller's case: there is no value to pass).
    """
    return _object_digest(_ZERO, type_name, value, expire != -1).hex()


def compute_dataset_digest_raw(dbs: Iterable[tuple[int, Iterable[tuple]]]) -> bytes:
    """computeDatasetDigest: the 20-byte digest of a whole dataset.

    ``dbs`` is an iterable of ``(db_id, keys)``, ``keys`` an iterable of
    ``(key, type_name, value, expire_ms_or_-1)``. Databases are taken in ascending id order
    whatever order they come in; a db with no keys leaves no trace, as in Redis. A db id given
    twice is treated as one db.
    """
    final = 0
    mixed_id = None
    for db_id, keys in sorted(dbs, key=lambda item: item[0]):
        for key, type_name, value, expire in keys:
            if mixed_id != db_id:
                # the id goes in only once the db shows a key; mixing is order-sensitive, so
                # it must come before this db's (order-free) key digests
                final = _from(_mix(final.to_bytes(20, "big"), db_id.to_bytes(4, "big")), "big")
                mixed_id = db_id
            d = _object_digest(_mix(_ZERO, key), type_name, value, expire != -1)
            final ^= _from(sha1(d).digest(), "big")
    return final.to_bytes(20, "big")


def compute_dataset_digest(dbs: Iterable[tuple[int, Iterable[tuple]]]) -> str:
    """DEBUG DIGEST: :func:`compute_dataset_digest_raw` as 40 lowercase hex chars."""
    return compute_dataset_digest_raw(dbs).hex()
