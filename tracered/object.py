"""Redis objects: the mirror of object.c.

Every value in the keyspace is an :class:`RObj`, like Redis's ``robj``: a type (string,
list, ...), an encoding saying how the value is laid out (int, embstr, raw, listpack,
hashtable ...), the LRU/LFU clock field, a refcount and ``ptr``, the payload.

Strings follow Redis's rules exactly, because OBJECT ENCODING shows them:

* a string that reads as a 64-bit integer (string2l rules) of at most 20 chars is ``int``;
  0..9999 are the *shared integers*, one object used by every key (OBJECT REFCOUNT
  2147483647), unless maxmemory with an LRU/LFU policy needs a private lru per object;
* otherwise up to 44 bytes is ``embstr`` (Redis allocates robj and sds in one 64-byte
  jemalloc arena there), longer is ``raw``.

Divergence: Python owns memory, so ``refcount`` is bookkeeping shown by OBJECT REFCOUNT, not
what frees the object.  ``ptr`` is ``int`` for the int encoding, ``bytes`` for embstr and
``bytes``/``bytearray`` for raw (APPEND and SETRANGE turn a raw string into a bytearray so
repeated appends are amortized like sds's greedy growth).
"""

from __future__ import annotations

from tracered.trace.probes import probe

# Types (server.h)
OBJ_STRING = 0
OBJ_LIST = 1
OBJ_SET = 2
OBJ_ZSET = 3
OBJ_HASH = 4
OBJ_MODULE = 5
OBJ_STREAM = 6

# Encodings (server.h)
OBJ_ENCODING_RAW = 0
OBJ_ENCODING_INT = 1
OBJ_ENCODING_HT = 2
OBJ_ENCODING_ZIPMAP = 3
OBJ_ENCODING_LINKEDLIST = 4
OBJ_ENCODING_ZIPLIST = 5
OBJ_ENCODING_INTSET = 6
OBJ_ENCODING_SKIPLIST = 7
OBJ_ENCODING_EMBSTR = 8
OBJ_ENCODING_QUICKLIST = 9
OBJ_ENCODING_STREAM = 10
OBJ_ENCODING_LISTPACK = 11

TYPE_NAMES = {OBJ_STRING: "string", OBJ_LIST: "list", OBJ_SET: "set", OBJ_ZSET: "zset",
              OBJ_HASH: "hash", OBJ_MODULE: "module", OBJ_STREAM: "stream"}
ENCODING_NAMES = {
    OBJ_ENCODING_RAW: "raw", OBJ_ENCODING_INT: "int", OBJ_ENCODING_HT: "hashtable",
    OBJ_ENCODING_ZIPMAP: "zipmap", OBJ_ENCODING_LINKEDLIST: "linkedlist",
    OBJ_ENCODING_ZIPLIST: "ziplist", OBJ_ENCODING_INTSET: "intset",
    OBJ_ENCODING_SKIPLIST: "skiplist", OBJ_ENCODING_EMBSTR: "embstr",
    OBJ_ENCODING_QUICKLIST: "quicklist", OBJ_ENCODING_STREAM: "stream",
    OBJ_ENCODING_LISTPACK: "listpack",
}

OBJ_SHARED_INTEGERS = 10000
OBJ_ENCODING_EMBSTR_SIZE_LIMIT = 44
OBJ_SHARED_REFCOUNT = 2**31 - 1
LRU_BITS = 24
LRU_CLOCK_MAX = (1 << LRU_BITS) - 1
LRU_CLOCK_RESOLUTION = 1000  # ms
LFU_INIT_VAL = 5

# Set by the server: the current LRU clock (an int shared by every object created in the same
# clock tick, so it costs no memory per object) and whether new objects need LFU counters.
lru_clock = 0
lfu_mode = False
# maxmemory with an LRU/LFU policy: every object needs its own lru, so no shared integers.
no_shared_integers = False


class RObj:
    """robj: ``type``, ``encoding``, ``lru`` (LRU clock or LFU ldt<<8|counter), ``refcount``,
    ``ptr``."""

    __slots__ = ("type", "encoding", "lru", "refcount", "ptr")

    def __init__(self, type_: int, encoding: int, ptr, lru: int | None = None) -> None:
        self.type = type_
        self.encoding = encoding
        self.ptr = ptr
        self.refcount = 1
        self.lru = (lru_clock if not lfu_mode else lfu_init_lru()) if lru is None else lru

    def __repr__(self) -> str:
        return (f"<robj {TYPE_NAMES.get(self.type)} {ENCODING_NAMES.get(self.encoding)} "
                f"rc={self.refcount} {self.ptr!r:.60}>")


def lfu_init_lru() -> int:
    """LFU: 16 bits of last-decrement time in minutes, 8 bits of log counter."""
    from time import time

    return ((int(time() / 60) & 0xFFFF) << 8) | LFU_INIT_VAL


def _make_shared_integers() -> list[RObj]:
    import time

    # Like Redis, the shared integers carry the LRU clock of the moment they were made
    # (server start), so OBJECT IDLETIME of a shared value reads as the uptime.
    clock = int(time.time()) & LRU_CLOCK_MAX
    out = []
    for i in range(OBJ_SHARED_INTEGERS):
        o = RObj(OBJ_STRING, OBJ_ENCODING_INT, i, lru=clock)
        o.refcount = OBJ_SHARED_REFCOUNT
        out.append(o)
    return out


shared_integers: list[RObj] = _make_shared_integers()


def _is_int_string(s: bytes) -> int | None:
    """string2l over at most 20 chars: the canonical form of a 64-bit signed integer."""
    n = len(s)
    if n == 0 or n > 20:
        return None
    c0 = s[0]
    if c0 == 45:  # '-'
        if n == 1 or s[1] == 48:  # "-" or "-0..." are not canonical
            return None
        if not s[1:].isdigit():
            return None
    elif c0 == 48:
        return 0 if n == 1 else None
    elif not s.isdigit():
        return None
    if not s.isascii():
        return None
    v = int(s)
    if -(2**63) <= v <= 2**63 - 1:
        return v
    return None


@probe("createStringObject")
def create_string_object(s: bytes) -> RObj:
    """createStringObject: embstr up to 44 bytes, raw above (no integer attempt here)."""
    if len(s) <= OBJ_ENCODING_EMBSTR_SIZE_LIMIT:
        return RObj(OBJ_STRING, OBJ_ENCODING_EMBSTR, s)
    return RObj(OBJ_STRING, OBJ_ENCODING_RAW, s)


def create_string_object_from_long_long_for_value(v: int) -> RObj:
    """A value that is an integer: shared when 0..9999 (and sharing is allowed)."""
    if 0 <= v < OBJ_SHARED_INTEGERS and not no_shared_integers:
        return shared_integers[v]
    return RObj(OBJ_STRING, OBJ_ENCODING_INT, v)


def create_object_for_value(s: bytes) -> RObj:
    """createStringObject followed by tryObjectEncoding: what SET stores for a new value.

    Fused into one function because it runs for every write; the steps are those of
    tryObjectEncoding: integer (shared if small) -> embstr -> raw.
    """
    if len(s) <= 20:
        v = _is_int_string(s)
        if v is not None:
            if 0 <= v < OBJ_SHARED_INTEGERS and not no_shared_integers:
                return shared_integers[v]
            return RObj(OBJ_STRING, OBJ_ENCODING_INT, v)
    return create_string_object(s)


def string_bytes(o: RObj) -> bytes:
    """The string value as bytes whatever the encoding (Redis: getDecodedObject)."""
    p = o.ptr
    if o.encoding == OBJ_ENCODING_INT:
        return str(p).encode()
    return p if type(p) is bytes else bytes(p)


def string_len(o: RObj) -> int:
    """stringObjectLen."""
    if o.encoding == OBJ_ENCODING_INT:
        return len(str(o.ptr))
    return len(o.ptr)


def get_long_long_from_object(o: RObj | None) -> int | None:
    """getLongLongFromObject: None when the string is not a canonical int64."""
    if o is None:
        return 0
    if o.encoding == OBJ_ENCODING_INT:
        return o.ptr
    return _is_int_string(bytes(o.ptr)) if len(o.ptr) <= 20 else None


def parse_long_long(s: bytes) -> int | None:
    """string2ll for an argument: the canonical form of an int64, else None."""
    return _is_int_string(s)


def dup_string_object(o: RObj) -> RObj:
    """dupStringObject: a private copy (used by COPY and when unsharing)."""
    if o.encoding == OBJ_ENCODING_INT:
        return RObj(OBJ_STRING, OBJ_ENCODING_INT, o.ptr)
    return RObj(OBJ_STRING, o.encoding, bytes(o.ptr))


def str_encoding(encoding: int) -> str:
    return ENCODING_NAMES.get(encoding, "unknown")


# --------------------------------------------------------------------------------------------
# Per-type hooks.  Each t_*.py module registers what generic code (OBJECT, MEMORY USAGE,
# DEBUG DIGEST, COPY, RDB, the debugger's inspector) needs to know about its type, so
# object.py does not import every type module.
# --------------------------------------------------------------------------------------------

# type -> fn(o, samples) -> bytes used (objectComputeSize)
memory_usage_funcs: dict = {}
# type -> fn(o) -> value in digest.py's plain format (list/set/zset pairs/hash pairs)
digest_value_funcs: dict = {}
# type -> fn(o) -> RObj deep copy (COPY)
dup_funcs: dict = {}
# type -> fn(o) -> int number of elements (debugger, --bigkeys helpers)
length_funcs: dict = {}
# type -> fn(o, limit) -> short text preview of the content (debugger inspector)
preview_funcs: dict = {}
