"""Streams: the mirror of t_stream.c (plus createStreamObject from object.c, the stream parts
of rdb.c and aof.c, and serveClientsBlockedOnStreamKey / unblockDeletedStreamReadgroupClients
from blocked.c).

A stream value is ``RObj(OBJ_STREAM, OBJ_ENCODING_STREAM, Stream)``.  Its entries live in
**listpack nodes**, each a byte-real listpack (:mod:`tracered.listpack`) laid out exactly as
Redis 7.0 lays it out, so a node goes to an RDB file as its raw bytes and comes back the same::

    master entry   count | deleted | num-fields | field_1 ... field_N | 0
    each entry     flags | ms-delta | seq-delta | value_1 ... value_N | lp-count
                   (flags has SAMEFIELDS: the fields are the master entry's)
                   flags | ms-delta | seq-delta | num-fields | f_1 v_1 ... f_N v_N | lp-count

``count``/``deleted`` count the live entries and the tombstones (XDEL and trimming only set
the DELETED flag; a node goes away when its last live entry does).  An entry's ID is stored
as its difference from the node's *master ID* (the ID of the node's first entry, which is
also the node's key); ``lp-count`` is the number of listpack elements of the entry, so the
node can be walked backwards.  A node is closed when it reaches ``stream-node-max-entries``
entries (live + deleted) or ``stream-node-max-bytes`` bytes.

Besides its nodes a :class:`Stream` has ``length``, ``last_id``, ``first_id``,
``max_deleted_entry_id`` and ``entries_added`` (the 7.0 fields behind consumer-group lag),
and its consumer groups: :class:`StreamCG` (``last_id``, ``entries_read``, the group PEL,
consumers), :class:`StreamConsumer` (``seen_time``, its own PEL) and :class:`StreamNACK`
(delivery time and count, owner), one NACK shared by the group PEL and its owner's PEL.

A stream ID (``streamID {ms, seq}``) is one Python int, ``ms << 64 | seq``: its order is the
order of streamEncodeID's 128-bit big-endian key, ``+ 1`` is streamIncrID, and
``int.to_bytes(16, "big")`` is the key Redis stores in a rax.

Layout (same order as t_stream.c):

    low level          Stream / StreamCG / StreamConsumer / StreamNACK / StreamPel,
                       create_stream_object, stream_dup, stream_append_item (probe
                       streamAppendItem), stream_trim (probe streamTrim), the iterator
                       (stream_iterate, stream_get_edge_id), stream_delete_item,
                       stream_range_has_tombstones, stream_estimate_distance_from_first_ever_entry,
                       XCLAIM / XGROUP SETID / CREATECONSUMER propagation,
                       stream_reply_with_range (probe streamReplyWithRange) and its PEL variant,
                       ID parsing, trim-argument rewriting
    commands           XADD XRANGE XREVRANGE XLEN XREAD XREADGROUP XGROUP XSETID XACK
                       XPENDING XCLAIM XAUTOCLAIM XDEL XTRIM XINFO
    blocking           serving XREAD/XREADGROUP waiters, unblocking XREADGROUP waiters of
                       a deleted stream (blocked.serve_funcs / the blocked.py hook)
    persistence        RDB_TYPE_STREAM_LISTPACKS_2 save/load (rdb.py extension points),
                       AOF rewrite (rewriteStreamObject, aof.rewrite_object_funcs)
    per-type hooks     MEMORY USAGE, DEBUG DIGEST, COPY, length, inspector preview

Divergence: Redis keeps the nodes in a rax keyed by the 16-byte master ID; here two parallel
lists (``rax_keys`` sorted master IDs, ``rax_lps`` the listpacks) searched with bisect.  The
order and the "seek <= key" lookups are the same; appends and head trims (what streams do)
are O(1)/O(nodes).  XINFO STREAM's ``radix-tree-nodes`` is computed from the keys as the node
count of the compressed radix tree rax builds for them (:func:`rax_num_nodes`), which is what
a rax holds after any sequence of inserts and removals of fixed-length keys.
Divergence: the PELs (rax keyed by ID in Redis) are :class:`StreamPel`: a dict plus a sorted
list of IDs; consumer groups and consumers (rax keyed by name) are dicts, walked in sorted
name order where Redis walks its rax (byte order: the same order).
Divergence: read paths decode a whole node with one lp_iter pass and walk the decoded entries
(:func:`_node_entries`) instead of moving listpack pointers one element at a time, and keep
the decoded form of the last few nodes read (``Stream.node_cache``, dropped whenever that
node's bytes change) because XCLAIM and history reads look entries up one ID at a time;
writes (append, DELETED flags, counters) change the listpack bytes exactly as Redis does.
Divergence: MEMORY USAGE prices a tail node by its preallocation (4096 bytes, or
stream-node-max-bytes when smaller) like a node built by XADD; Redis's real allocation can
differ after a listpack shrank and grew again.
"""

from __future__ import annotations

import struct
from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterator

from tracered import aof as aofmod
from tracered import blocked, shared, util
from tracered import db as dbmod
from tracered import networking as net
from tracered import object as obj
from tracered import rdb as rdbmod
from tracered import server as server_module
from tracered.commands import KeySpec, cmd, sub
from tracered.listpack import (
    LP_EOF,
    LP_HDR_SIZE,
    lp_build,
    lp_get,
    lp_last,
    lp_prev,
    lp_replace_integer,
    lp_skip,
    lp_to_list,
    lp_validate_integrity,
)
from tracered.object import OBJ_ENCODING_STREAM, OBJ_STREAM, RObj
from tracered.object_cmd import zmalloc_size
from tracered.server import server
from tracered.t_string import must_obey_client
from tracered.trace.probes import probe

# --------------------------------------------------------------------------------------------
# Constants (t_stream.c / stream.h)
# --------------------------------------------------------------------------------------------

STREAM_ITEM_FLAG_NONE = 0
STREAM_ITEM_FLAG_DELETED = 1 << 0
STREAM_ITEM_FLAG_SAMEFIELDS = 1 << 1

STREAM_LISTPACK_MAX_PRE_ALLOCATE = 4096
STREAM_LISTPACK_MAX_SIZE = 1 << 30

SCG_INVALID_ENTRIES_READ = -1

# streamLookupConsumer / streamCreateConsumer flags
SLC_DEFAULT = 0
SLC_NO_REFRESH = 1 << 0
SCC_DEFAULT = 0
SCC_NO_NOTIFY = 1 << 0
SCC_NO_DIRTIFY = 1 << 1

TRIM_STRATEGY_NONE = 0
TRIM_STRATEGY_MAXLEN = 1
TRIM_STRATEGY_MINID = 2

# streamReplyWithRange flags
STREAM_RWR_NOACK = 1 << 0
STREAM_RWR_RAWENTRIES = 1 << 1
STREAM_RWR_HISTORY = 1 << 2

XREAD_BLOCKED_DEFAULT_COUNT = 1000

# streamAppendItem's failures (the errno Redis leaves behind)
EDOM = 33
ERANGE = 34

UINT64_MAX = (1 << 64) - 1
STREAM_ID_MAX = (1 << 128) - 1      # UINT64_MAX-UINT64_MAX, the "+" ID
_M = UINT64_MAX
_TWO64 = 1 << 64
_INT64_SIGN = 1 << 63
LLONG_MAX = (1 << 63) - 1
LONG_MAX = LLONG_MAX

# sizeof() of the C structures MEMORY USAGE adds up (x86-64).
_SIZEOF_ROBJ = 16
_SIZEOF_STREAM = 80
_SIZEOF_STREAM_CG = 40
_SIZEOF_STREAM_CONSUMER = 24
_SIZEOF_STREAM_NACK = 24
_SIZEOF_RAX_NODE = 4
_SIZEOF_LONG = 8

_PROPAGATE = server_module.PROPAGATE_AOF | server_module.PROPAGATE_REPL
_mbulkhdr = shared.mbulkhdr
_bulkhdr = shared.bulkhdr
_U32U16 = struct.Struct("<IH")


def _arrhdr(n: int) -> bytes:
    return _mbulkhdr[n] if n < 1024 else b"*%d\r\n" % n


def _maphdr(c: net.Client, n: int) -> bytes:
    if c.resp == 2:
        n *= 2
        return _mbulkhdr[n] if n < 1024 else b"*%d\r\n" % n
    return shared.maphdr[n] if n < 1024 else b"%%%d\r\n" % n


def _bulk(b: bytes) -> bytes:
    n = len(b)
    return b"".join((_bulkhdr[n] if n < 1024 else b"$%d\r\n" % n, b, b"\r\n"))


def _int(v: int) -> bytes:
    return shared.integers[v] if 0 <= v < 10000 else b":%d\r\n" % v


def _as_bytes(v) -> bytes:
    """A listpack element as the bytes a client sees (lpGet with an intbuf)."""
    return v if v.__class__ is bytes else b"%d" % v


def _text(b: bytes) -> str:
    """A key or name for an error message, byte for byte (add_reply_error re-encodes it)."""
    return b.decode("utf-8", "surrogateescape")


# --------------------------------------------------------------------------------------------
# Stream IDs
# --------------------------------------------------------------------------------------------

def stream_id(ms: int, seq: int) -> int:
    """A streamID {ms, seq} as the 128-bit int this module uses."""
    return (ms << 64) | seq


def create_stream_id_string(sid: int) -> bytes:
    """createStreamIDString: ``<ms>-<seq>``."""
    return b"%d-%d" % (sid >> 64, sid & _M)


def stream_encode_id(sid: int) -> bytes:
    """streamEncodeID: the 128-bit big-endian key (what a rax and an RDB PEL store)."""
    return sid.to_bytes(16, "big")


def stream_decode_id(buf: bytes) -> int:
    """streamDecodeID."""
    return int.from_bytes(buf, "big")


def stream_incr_id(sid: int) -> tuple[int, bool]:
    """streamIncrID: the successor ID; (0, False) past UINT64_MAX-UINT64_MAX."""
    if sid == STREAM_ID_MAX:
        return 0, False
    return sid + 1, True


def stream_decr_id(sid: int) -> tuple[int, bool]:
    """streamDecrID: the predecessor ID; (STREAM_ID_MAX, False) below 0-0."""
    if sid == 0:
        return STREAM_ID_MAX, False
    return sid - 1, True


def stream_next_id(last_id: int) -> int:
    """streamNextID: now-0, or the last ID plus one when the clock did not move past it."""
    ms = util.mstime()
    if ms > last_id >> 64:
        return ms << 64
    return stream_incr_id(last_id)[0]


def _delta(a: int, b: int) -> int:
    """a - b on uint64 read back as the int64 that lpAppendInteger stores."""
    d = (a - b) & _M
    return d - _TWO64 if d & _INT64_SIGN else d


# --------------------------------------------------------------------------------------------
# Data structures
# --------------------------------------------------------------------------------------------

class StreamNACK:
    """streamNACK: a delivered, not yet acknowledged entry of a consumer group."""

    __slots__ = ("delivery_time", "delivery_count", "consumer")

    def __init__(self, consumer: StreamConsumer | None) -> None:
        self.delivery_time = util.mstime()
        self.delivery_count = 1
        self.consumer = consumer

    def __repr__(self) -> str:
        name = self.consumer.name if self.consumer is not None else None
        return f"<nack {name!r} t={self.delivery_time} n={self.delivery_count}>"


class StreamPel:
    """A pending entries list: ID -> StreamNACK, walked in ID order (a rax in Redis).

    ``ids`` is kept sorted; most insertions are new, larger IDs (an append) and most
    removals are acknowledgements of old ones.
    """

    __slots__ = ("ids", "nacks")

    def __init__(self) -> None:
        self.ids: list[int] = []
        self.nacks: dict[int, StreamNACK] = {}

    def __len__(self) -> int:
        return len(self.nacks)

    def __repr__(self) -> str:
        return f"<pel {len(self.ids)} ids>"

    def find(self, sid: int) -> StreamNACK | None:
        return self.nacks.get(sid)

    def try_insert(self, sid: int, nack: StreamNACK) -> bool:
        """raxTryInsert: False (and no change) if the ID is already there."""
        nacks = self.nacks
        if sid in nacks:
            return False
        nacks[sid] = nack
        ids = self.ids
        if not ids or sid > ids[-1]:
            ids.append(sid)
        else:
            insort(ids, sid)
        return True

    def insert(self, sid: int, nack: StreamNACK) -> None:
        """raxInsert: add or overwrite."""
        if not self.try_insert(sid, nack):
            self.nacks[sid] = nack

    def remove(self, sid: int) -> StreamNACK | None:
        nack = self.nacks.pop(sid, None)
        if nack is not None:
            ids = self.ids
            del ids[bisect_left(ids, sid)]
        return nack

    def items(self) -> Iterator[tuple[int, StreamNACK]]:
        nacks = self.nacks
        for sid in self.ids:
            yield sid, nacks[sid]


class StreamConsumer:
    """streamConsumer: a consumer of a group, with its own view of the group PEL."""

    __slots__ = ("name", "seen_time", "pel")

    def __init__(self, name: bytes) -> None:
        self.name = name
        self.seen_time = util.mstime()
        self.pel = StreamPel()

    def __repr__(self) -> str:
        return f"<consumer {self.name!r} pending={len(self.pel)}>"


class StreamCG:
    """streamCG: a consumer group."""

    __slots__ = ("last_id", "entries_read", "pel", "consumers")

    def __init__(self, last_id: int, entries_read: int) -> None:
        self.last_id = last_id
        self.entries_read = entries_read
        self.pel = StreamPel()
        self.consumers: dict[bytes, StreamConsumer] = {}

    def __repr__(self) -> str:
        return (f"<cgroup last={create_stream_id_string(self.last_id).decode()} "
                f"read={self.entries_read} pending={len(self.pel)}>")


class Stream:
    """stream: the listpack nodes and the stream's metadata (see the module docstring)."""

    __slots__ = ("rax_keys", "rax_lps", "length", "last_id", "first_id",
                 "max_deleted_entry_id", "entries_added", "cgroups", "tail_prealloc",
                 "node_cache")

    def __init__(self) -> None:
        self.rax_keys: list[int] = []
        self.rax_lps: list[bytearray] = []
        self.length = 0
        self.last_id = 0
        self.first_id = 0
        self.max_deleted_entry_id = 0
        self.entries_added = 0
        # Created on first use, as Redis creates s->cgroups.
        self.cgroups: dict[bytes, StreamCG] | None = None
        # True while the tail node is one XADD created (its allocation is preallocated).
        self.tail_prealloc = False
        # master ID -> decoded entries of a few recently read nodes (see _node_entries);
        # every change to a node's listpack drops its entry.
        self.node_cache: dict[int, list[tuple]] = {}

    def __repr__(self) -> str:
        return (f"<stream len={self.length} nodes={len(self.rax_keys)} "
                f"last={create_stream_id_string(self.last_id).decode()}>")


class StreamAddTrimArgs:
    """streamAddTrimArgs: the parsed options of XADD / XTRIM."""

    __slots__ = ("id", "id_given", "seq_given", "no_mkstream", "trim_strategy",
                 "trim_strategy_arg_idx", "approx_trim", "limit", "maxlen", "minid")

    def __init__(self) -> None:
        self.id = 0
        self.id_given = False
        self.seq_given = False
        self.no_mkstream = False
        self.trim_strategy = TRIM_STRATEGY_NONE
        self.trim_strategy_arg_idx = 0
        self.approx_trim = False
        self.limit = 0
        self.maxlen = 0
        self.minid = 0


class StreamPropInfo:
    """streamPropInfo: key and group name for the XCLAIMs an XREADGROUP propagates."""

    __slots__ = ("keyname", "groupname")

    def __init__(self, keyname: bytes, groupname: bytes) -> None:
        self.keyname = keyname
        self.groupname = groupname


# --------------------------------------------------------------------------------------------
# Low level stream encoding
# --------------------------------------------------------------------------------------------

@probe("createStreamObject")
def create_stream_object() -> RObj:
    """createStreamObject (object.c): an empty stream."""
    return RObj(OBJ_STREAM, OBJ_ENCODING_STREAM, Stream())


def stream_length(o: RObj) -> int:
    """streamLength."""
    return o.ptr.length


def stream_dup(o: RObj) -> RObj:
    """streamDup (COPY): nodes byte for byte, metadata, groups with shared NACKs rebuilt."""
    s = o.ptr
    new = create_stream_object()
    ns = new.ptr
    ns.rax_keys = list(s.rax_keys)
    ns.rax_lps = [bytearray(lp) for lp in s.rax_lps]
    ns.length = s.length
    ns.first_id = s.first_id
    ns.last_id = s.last_id
    ns.max_deleted_entry_id = s.max_deleted_entry_id
    ns.entries_added = s.entries_added
    if s.cgroups is None:
        return new
    for name, cg in s.cgroups.items():
        ncg = stream_create_cg(ns, name, cg.last_id, cg.entries_read)
        for sid, nack in cg.pel.items():
            nn = StreamNACK(None)
            nn.delivery_time = nack.delivery_time
            nn.delivery_count = nack.delivery_count
            ncg.pel.insert(sid, nn)
        for cname, consumer in cg.consumers.items():
            nc = StreamConsumer(cname)
            nc.seen_time = consumer.seen_time
            ncg.consumers[cname] = nc
            for sid in consumer.pel.ids:
                nn = ncg.pel.nacks[sid]
                nn.consumer = nc
                nc.pel.insert(sid, nn)
    return new


def _lp_append_many(lp: bytearray, values: list) -> None:
    """lpAppend / lpAppendInteger for several elements in one splice (same bytes)."""
    body = lp_build(values)
    numele = lp[4] | (lp[5] << 8)
    lp[-1:] = memoryview(body)[LP_HDR_SIZE:]
    if numele != 0xFFFF:
        numele = min(numele + len(values), 0xFFFF)
    _U32U16.pack_into(lp, 0, len(lp), numele)


def _node_entries(lp) -> list[tuple]:
    """Every entry of a node, tombstones included, in order, as
    ``(flags, ms_delta, seq_delta, fields, values)``; fields/values hold listpack values
    (``int`` for integer-encoded elements)."""
    vals = lp_to_list(lp)
    nf = vals[2]
    mfields = vals[3:3 + nf]
    i = 4 + nf
    n = len(vals)
    out = []
    append = out.append
    while i < n:
        flags = vals[i]
        if flags & STREAM_ITEM_FLAG_SAMEFIELDS:
            j = i + 3 + nf
            append((flags, vals[i + 1], vals[i + 2], mfields, vals[i + 3:j]))
        else:
            k = vals[i + 3]
            j = i + 4 + 2 * k
            fv = vals[i + 4:j]
            append((flags, vals[i + 1], vals[i + 2], fv[0::2], fv[1::2]))
        i = j + 1
    return out


_NODE_CACHE_SIZE = 8


def _cached_node_entries(s: Stream, idx: int) -> list[tuple]:
    """_node_entries of node ``idx``, decoded once while it does not change (XCLAIM and
    history reads look up entries one by one, often in the same node)."""
    key = s.rax_keys[idx]
    cache = s.node_cache
    entries = cache.get(key)
    if entries is None:
        entries = _node_entries(s.rax_lps[idx])
        if len(cache) >= _NODE_CACHE_SIZE:
            cache.clear()
        cache[key] = entries
    return entries


def _entry_id(master: int, ms_delta: int, seq_delta: int) -> int:
    return ((((master >> 64) + ms_delta) & _M) << 64) | (((master & _M) + seq_delta) & _M)


def lp_get_edge_stream_id(lp, first: bool, master_id: int) -> int | None:
    """lpGetEdgeStreamID: the ID of the first or last entry of a node (tombstones count),
    None for a node without entries."""
    if first:
        p = lp_skip(lp, LP_HDR_SIZE)        # deleted count
        p = lp_skip(lp, p)                  # num fields
        nf = lp_get(lp, p)
        p = lp_skip(lp, p)
        for _ in range(nf):
            p = lp_skip(lp, p)
        p = lp_skip(lp, p)                  # the master entry's terminator
        if lp[p] == LP_EOF:
            return None
    else:
        p = lp_last(lp)
        lp_count = lp_get(lp, p)
        if lp_count == 0:
            return None
        for _ in range(lp_count):
            p = lp_prev(lp, p)
    p = lp_skip(lp, p)                      # flags -> ms delta
    ms_delta = lp_get(lp, p)
    seq_delta = lp_get(lp, lp_skip(lp, p))
    return _entry_id(master_id, ms_delta, seq_delta)


def stream_iterate(s: Stream, start: int = 0, end: int = STREAM_ID_MAX, rev: bool = False,
                   skip_tombstones: bool = True) -> Iterator[tuple[int, list, list]]:
    """streamIteratorStart + streamIteratorGetID/GetField: ``(id, fields, values)`` for the
    entries with start <= id <= end, ascending (or descending with ``rev``).

    The stream must not change while the generator is alive (callers that delete collect
    the IDs first, as Redis re-seeks after each removal).
    """
    keys = s.rax_keys
    if not keys:
        return
    deleted = STREAM_ITEM_FLAG_DELETED if skip_tombstones else 0
    if not rev:
        # Seek the last node whose master ID is <= start (or the first node).
        idx = bisect_right(keys, start) - 1
        if idx < 0:
            idx = 0
        while idx < len(keys):
            master = keys[idx]
            mms = master >> 64
            mseq = master & _M
            for flags, msd, seqd, fields, values in _cached_node_entries(s, idx):
                if flags & deleted:
                    continue
                sid = (((mms + msd) & _M) << 64) | ((mseq + seqd) & _M)
                if sid < start:
                    continue
                if sid > end:
                    return
                yield sid, fields, values
            idx += 1
    else:
        # Every entry of a node is >= its master ID: nodes after `end` hold nothing.
        idx = bisect_right(keys, end) - 1
        while idx >= 0:
            master = keys[idx]
            mms = master >> 64
            mseq = master & _M
            for flags, msd, seqd, fields, values in reversed(_cached_node_entries(s, idx)):
                if flags & deleted:
                    continue
                sid = (((mms + msd) & _M) << 64) | ((mseq + seqd) & _M)
                if sid > end:
                    continue
                if sid < start:
                    return
                yield sid, fields, values
            idx -= 1


def stream_get_edge_id(s: Stream, first: bool, skip_tombstones: bool) -> int:
    """streamGetEdgeID: the first or last entry's ID; with no entry, the maximal ID when
    asking for the first and 0-0 when asking for the last."""
    for sid, _, _ in stream_iterate(s, 0, STREAM_ID_MAX, not first, skip_tombstones):
        return sid
    return STREAM_ID_MAX if first else 0


def stream_last_valid_id(s: Stream) -> int:
    """streamLastValidID: the last non-tombstone ID (0-0 for an empty stream)."""
    return stream_get_edge_id(s, False, True)


def stream_entry_exists(s: Stream, sid: int) -> bool:
    """streamEntryExists: a live entry with this ID is in the stream."""
    for _ in stream_iterate(s, sid, sid):
        return True
    return False


@probe("streamAppendItem")
def stream_append_item(s: Stream, fv: list[bytes], use_id: int | None,
                       seq_given: bool) -> tuple[int, int]:
    """streamAppendItem: add an entry with the field/value pairs ``fv`` (flat).

    The ID is generated (``use_id`` None), taken as given, or, for ``ms-*``
    (``seq_given`` False), ms with the next sequence.  Returns ``(id, 0)``, or ``(0, EDOM)``
    when the ID is not greater than the top item and ``(0, ERANGE)`` when the elements are
    too large (also, as in Redis, when ``ms-*`` has no sequence left).
    """
    last = s.last_id
    if use_id is not None:
        if seq_given:
            sid = use_id
        elif last >> 64 == use_id >> 64:
            if last & _M == _M:
                return 0, ERANGE    # Redis fails here without setting errno
            sid = last + 1
        else:
            sid = use_id
    else:
        sid = stream_next_id(last)
    if sid <= last:
        return 0, EDOM
    totelelen = 0
    for ele in fv:
        totelelen += len(ele)
    if totelelen > STREAM_LISTPACK_MAX_SIZE:
        return 0, ERANGE

    keys = s.rax_keys
    lps = s.rax_lps
    numfields = len(fv) >> 1
    fields = fv[0::2]
    values = fv[1::2]
    lp = lps[-1] if lps else None
    if lp is not None:
        # Is the tail node full?  Its byte size counts the new elements; the entry count
        # counts tombstones too.
        node_max_bytes = server.stream_node_max_bytes
        if node_max_bytes == 0 or node_max_bytes > STREAM_LISTPACK_MAX_SIZE:
            node_max_bytes = STREAM_LISTPACK_MAX_SIZE
        max_entries = server.stream_node_max_entries
        if len(lp) + totelelen >= node_max_bytes or (
                max_entries and lp_get(lp, LP_HDR_SIZE) + lp_get(lp, lp_skip(lp, LP_HDR_SIZE))
                >= max_entries):
            lp = None
    if lp is None:
        # A new node: the master entry takes this entry's fields, and this entry, the
        # first, reuses them (SAMEFIELDS) at delta 0-0.
        items = [1, 0, numfields]
        items += fields
        items += (0, STREAM_ITEM_FLAG_SAMEFIELDS, 0, 0)
        items += values
        items.append(numfields + 3)
        if keys and sid <= keys[-1]:
            i = bisect_right(keys, sid)
            keys.insert(i, sid)
            lps.insert(i, lp_build(items))
        else:
            keys.append(sid)
            lps.append(lp_build(items))
        s.tail_prealloc = True
    else:
        master = keys[-1]
        s.node_cache.pop(master, None)
        count = lp_get(lp, LP_HDR_SIZE)
        lp_replace_integer(lp, LP_HDR_SIZE, count + 1)
        p = lp_skip(lp, LP_HDR_SIZE)        # deleted count
        p = lp_skip(lp, p)                  # master num-fields
        flags = STREAM_ITEM_FLAG_NONE
        if lp_get(lp, p) == numfields:
            for f in fields:
                p = lp_skip(lp, p)
                e = lp_get(lp, p)
                if (e if e.__class__ is bytes else b"%d" % e) != f:
                    break
            else:
                flags = STREAM_ITEM_FLAG_SAMEFIELDS
        msd = _delta(sid >> 64, master >> 64)
        seqd = _delta(sid & _M, master & _M)
        if flags:
            items = [flags, msd, seqd]
            items += values
            items.append(numfields + 3)
        else:
            items = [flags, msd, seqd, numfields]
            items += fv
            items.append(2 * numfields + 4)
        _lp_append_many(lp, items)
    s.length += 1
    s.entries_added += 1
    s.last_id = sid
    if s.length == 1:
        s.first_id = sid
    return sid, 0


def _remove_node(s: Stream, idx: int) -> None:
    if idx == len(s.rax_keys) - 1:
        s.tail_prealloc = False
    s.node_cache.pop(s.rax_keys[idx], None)
    del s.rax_keys[idx]
    del s.rax_lps[idx]


@probe("streamTrim")
def stream_trim(s: Stream, args: StreamAddTrimArgs) -> int:
    """streamTrim: remove entries from the head by MAXLEN or MINID; returns how many.

    Whole nodes go when they can; with ``approx`` that is all that happens, otherwise the
    first node that must stay is trimmed by flagging its entries DELETED.  ``limit`` (when
    not 0) caps the entries removed.
    """
    strategy = args.trim_strategy
    if strategy == TRIM_STRATEGY_NONE:
        return 0
    maxlen = args.maxlen
    minid = args.minid
    approx = args.approx_trim
    limit = args.limit
    keys = s.rax_keys
    lps = s.rax_lps
    deleted = 0
    while keys:
        if strategy == TRIM_STRATEGY_MAXLEN and s.length <= maxlen:
            break
        lp = lps[0]
        entries = lp_get(lp, LP_HDR_SIZE)
        if limit and deleted + entries > limit:
            break
        master = keys[0]
        if strategy == TRIM_STRATEGY_MAXLEN:
            remove_node = s.length - entries >= maxlen
        else:
            last_id = lp_get_edge_stream_id(lp, False, master)
            remove_node = last_id is not None and last_id < minid
        if remove_node:
            _remove_node(s, 0)
            s.length -= entries
            deleted += entries
            continue
        if approx:
            break
        # Trim inside this node: flag entries from its head until the target is met.
        s.node_cache.pop(master, None)
        deleted_from_lp = 0
        p = lp_skip(lp, LP_HDR_SIZE)        # deleted count
        p = lp_skip(lp, p)                  # master num-fields
        master_fields_count = lp_get(lp, p)
        p = lp_skip(lp, p)
        for _ in range(master_fields_count):
            p = lp_skip(lp, p)
        p = lp_skip(lp, p)                  # the master terminator: p is the first entry
        while lp[p] != LP_EOF:
            pflags = p
            flags = lp_get(lp, p)
            p = lp_skip(lp, p)
            ms_delta = lp_get(lp, p)
            p = lp_skip(lp, p)
            seq_delta = lp_get(lp, p)
            p = lp_skip(lp, p)
            if strategy == TRIM_STRATEGY_MAXLEN:
                if s.length <= maxlen:
                    break
            elif _entry_id(master, ms_delta, seq_delta) >= minid:
                break
            if flags & STREAM_ITEM_FLAG_SAMEFIELDS:
                to_skip = master_fields_count
            else:
                to_skip = lp_get(lp, p) * 2
                p = lp_skip(lp, p)
            for _ in range(to_skip):
                p = lp_skip(lp, p)
            p = lp_skip(lp, p)              # lp-count
            if not flags & STREAM_ITEM_FLAG_DELETED:
                # Same-size replacement (flags are 0..3): offsets after it do not move.
                lp_replace_integer(lp, pflags, flags | STREAM_ITEM_FLAG_DELETED)
                deleted_from_lp += 1
                s.length -= 1
        deleted += deleted_from_lp
        lp_replace_integer(lp, LP_HDR_SIZE, entries - deleted_from_lp)
        p = lp_skip(lp, LP_HDR_SIZE)
        lp_replace_integer(lp, p, lp_get(lp, p) + deleted_from_lp)
        break
    if s.length == 0:
        s.first_id = 0
    elif deleted:
        s.first_id = stream_get_edge_id(s, True, True)
    return deleted


def stream_trim_by_length(s: Stream, maxlen: int, approx: bool) -> int:
    """streamTrimByLength (module API helper)."""
    args = StreamAddTrimArgs()
    args.trim_strategy = TRIM_STRATEGY_MAXLEN
    args.approx_trim = approx
    args.limit = 100 * server.stream_node_max_entries if approx else 0
    args.maxlen = maxlen
    return stream_trim(s, args)


def stream_trim_by_id(s: Stream, minid: int, approx: bool) -> int:
    """streamTrimByID (module API helper)."""
    args = StreamAddTrimArgs()
    args.trim_strategy = TRIM_STRATEGY_MINID
    args.approx_trim = approx
    args.limit = 100 * server.stream_node_max_entries if approx else 0
    args.minid = minid
    return stream_trim(s, args)


def _to_int64(v: int) -> int:
    v &= _M
    return v - _TWO64 if v & _INT64_SIGN else v


def stream_parse_add_or_trim_args_or_reply(c: net.Client, args: StreamAddTrimArgs,
                                           xadd: bool) -> int:
    """streamParseAddOrTrimArgsOrReply: parse XADD/XTRIM options; returns the index of the
    ID argument (XADD), or -1 after an error reply."""
    argv = c.argv
    argc = len(argv)
    i = 2
    limit_given = False
    while i < argc:
        moreargs = argc - 1 - i
        opt = argv[i]
        lopt = opt.lower()
        if xadd and opt == b"*":
            break                           # the common case: an auto-generated ID
        elif lopt == b"maxlen" and moreargs:
            if args.trim_strategy != TRIM_STRATEGY_NONE:
                net.add_reply_error(c, shared.STREAM_MAXLEN_AND_MINID)
                return -1
            args.approx_trim = False
            nxt = argv[i + 1]
            if moreargs >= 2 and nxt == b"~":
                args.approx_trim = True
                i += 1
            elif moreargs >= 2 and nxt == b"=":
                i += 1
            v = dbmod.get_long_long_from_object_or_reply(c, argv[i + 1])
            if v is None:
                return -1
            if v < 0:
                net.add_reply_error(c, shared.STREAM_MAXLEN_NEGATIVE)
                return -1
            args.maxlen = v
            i += 1
            args.trim_strategy = TRIM_STRATEGY_MAXLEN
            args.trim_strategy_arg_idx = i
        elif lopt == b"minid" and moreargs:
            if args.trim_strategy != TRIM_STRATEGY_NONE:
                net.add_reply_error(c, shared.STREAM_MAXLEN_AND_MINID)
                return -1
            args.approx_trim = False
            nxt = argv[i + 1]
            if moreargs >= 2 and nxt == b"~":
                args.approx_trim = True
                i += 1
            elif moreargs >= 2 and nxt == b"=":
                i += 1
            minid = stream_parse_strict_id_or_reply(c, argv[i + 1], 0)
            if minid is None:
                return -1
            args.minid = minid[0]
            i += 1
            args.trim_strategy = TRIM_STRATEGY_MINID
            args.trim_strategy_arg_idx = i
        elif lopt == b"limit" and moreargs:
            # Without LIMIT, an approximate trim does at most 100 nodes' worth of work;
            # an exact one is never limited.
            v = dbmod.get_long_long_from_object_or_reply(c, argv[i + 1])
            if v is None:
                return -1
            if v < 0:
                net.add_reply_error(c, shared.STREAM_LIMIT_NEGATIVE)
                return -1
            args.limit = v
            limit_given = True
            i += 1
        elif xadd and lopt == b"nomkstream":
            args.no_mkstream = True
        elif xadd:
            # Either a syntax error or the ID.
            parsed = stream_parse_strict_id_or_reply(c, opt, 0, True)
            if parsed is None:
                return -1
            args.id, args.seq_given = parsed
            args.id_given = True
            break
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return -1
        i += 1

    if args.limit and args.trim_strategy == TRIM_STRATEGY_NONE:
        net.add_reply_error(c, shared.STREAM_LIMIT_WITHOUT_STRATEGY)
        return -1
    if not xadd and args.trim_strategy == TRIM_STRATEGY_NONE:
        net.add_reply_error(c, shared.XTRIM_NO_STRATEGY)
        return -1
    if must_obey_client(c):
        # The master / AOF sent the trim already rewritten to an exact one.
        args.limit = 0
    elif limit_given:
        if not args.approx_trim:
            net.add_reply_error(c, shared.STREAM_LIMIT_WITHOUT_APPROX)
            return -1
    elif args.approx_trim:
        # Capped on both sides: stream-node-max-entries may be 0 or huge (the product is
        # computed in int64, as in C).
        limit = _to_int64(100 * server.stream_node_max_entries)
        if limit <= 0:
            limit = 10000
        if limit > 1000000:
            limit = 1000000
        args.limit = limit
    else:
        args.limit = 0
    return i


def _find_entry_offset(lp, master: int, target: int) -> tuple[int, int] | None:
    """(offset of the flags element, flags) of the live entry ``target`` in a node."""
    p = lp_skip(lp, LP_HDR_SIZE)
    p = lp_skip(lp, p)
    nf = lp_get(lp, p)
    p = lp_skip(lp, p)
    for _ in range(nf):
        p = lp_skip(lp, p)
    p = lp_skip(lp, p)
    while lp[p] != LP_EOF:
        pflags = p
        flags = lp_get(lp, p)
        p = lp_skip(lp, p)
        ms_delta = lp_get(lp, p)
        p = lp_skip(lp, p)
        seq_delta = lp_get(lp, p)
        p = lp_skip(lp, p)
        if not flags & STREAM_ITEM_FLAG_DELETED:
            sid = _entry_id(master, ms_delta, seq_delta)
            if sid == target:
                return pflags, flags
            if sid > target:
                return None
        if flags & STREAM_ITEM_FLAG_SAMEFIELDS:
            to_skip = nf
        else:
            to_skip = lp_get(lp, p) * 2
            p = lp_skip(lp, p)
        for _ in range(to_skip + 1):
            p = lp_skip(lp, p)
    return None


@probe("streamDeleteItem")
def stream_delete_item(s: Stream, sid: int) -> bool:
    """streamDeleteItem (with streamIteratorRemoveEntry): flag the entry DELETED and update
    the node's counters, or drop the node when it was its last live entry."""
    keys = s.rax_keys
    idx = bisect_right(keys, sid) - 1
    if idx < 0:
        return False
    lp = s.rax_lps[idx]
    found = _find_entry_offset(lp, keys[idx], sid)
    if found is None:
        return False
    p, flags = found
    s.node_cache.pop(keys[idx], None)
    lp_replace_integer(lp, p, flags | STREAM_ITEM_FLAG_DELETED)
    aux = lp_get(lp, LP_HDR_SIZE)
    if aux == 1:
        _remove_node(s, idx)
    else:
        lp_replace_integer(lp, LP_HDR_SIZE, aux - 1)
        p = lp_skip(lp, LP_HDR_SIZE)
        lp_replace_integer(lp, p, lp_get(lp, p) + 1)
    s.length -= 1
    return True


def stream_range_has_tombstones(s: Stream, start: int | None, end: int | None) -> bool:
    """streamRangeHasTombstones: can the range hold an XDEL'd entry (per
    max_deleted_entry_id)?"""
    if not s.length or not s.max_deleted_entry_id:
        return False
    if s.first_id > s.max_deleted_entry_id:
        return False
    start_id = 0 if start is None else start
    end_id = STREAM_ID_MAX if end is None else end
    return start_id <= s.max_deleted_entry_id <= end_id


def stream_estimate_distance_from_first_ever_entry(s: Stream, sid: int) -> int:
    """streamEstimateDistanceFromFirstEverEntry: the logical read counter of ``sid``, or
    SCG_INVALID_ENTRIES_READ when it cannot be known (an ID inside a fragmented range)."""
    if not s.entries_added:
        return 0
    if not s.length and sid <= s.last_id:
        return s.entries_added
    if sid == s.last_id:
        return s.entries_added
    if sid > s.last_id:
        return SCG_INVALID_ENTRIES_READ
    if not s.max_deleted_entry_id or s.max_deleted_entry_id < s.first_id:
        if sid < s.first_id:
            return s.entries_added - s.length
        if sid == s.first_id:
            return s.entries_added - s.length + 1
    return SCG_INVALID_ENTRIES_READ


def stream_cg_lag(s: Stream, cg: StreamCG) -> int | None:
    """The value streamReplyWithCGLag replies (None: unknown, a null)."""
    if not s.entries_added:
        return 0
    if cg.entries_read != SCG_INVALID_ENTRIES_READ and \
            not stream_range_has_tombstones(s, cg.last_id, None):
        return s.entries_added - cg.entries_read
    entries_read = stream_estimate_distance_from_first_ever_entry(s, cg.last_id)
    if entries_read != SCG_INVALID_ENTRIES_READ:
        return s.entries_added - entries_read
    return None


# --------------------------------------------------------------------------------------------
# Propagation of consumer group changes
# --------------------------------------------------------------------------------------------

def stream_propagate_xclaim(c: net.Client, key: bytes, group: StreamCG, groupname: bytes,
                            idarg: bytes, nack: StreamNACK) -> None:
    """streamPropagateXCLAIM: an idempotent XCLAIM that recreates this PEL entry (and the
    group's last ID) on replicas and in the AOF."""
    argv = [b"XCLAIM", key, groupname, nack.consumer.name, b"0", idarg,
            b"TIME", b"%d" % nack.delivery_time, b"RETRYCOUNT", b"%d" % nack.delivery_count,
            b"FORCE", b"JUSTID", b"LASTID", create_stream_id_string(group.last_id)]
    server_module.also_propagate(c.db.id, argv, _PROPAGATE)


def stream_propagate_group_id(c: net.Client, key: bytes, group: StreamCG,
                              groupname: bytes) -> None:
    """streamPropagateGroupID: XGROUP SETID with ENTRIESREAD (a NOACK read moves the last
    ID without any XCLAIM to carry it)."""
    argv = [b"XGROUP", b"SETID", key, groupname, create_stream_id_string(group.last_id),
            b"ENTRIESREAD", b"%d" % group.entries_read]
    server_module.also_propagate(c.db.id, argv, _PROPAGATE)


def stream_propagate_consumer_creation(c: net.Client, key: bytes, groupname: bytes,
                                       consumername: bytes) -> None:
    """streamPropagateConsumerCreation: XGROUP CREATECONSUMER (for a NOACK read)."""
    argv = [b"XGROUP", b"CREATECONSUMER", key, groupname, consumername]
    server_module.also_propagate(c.db.id, argv, _PROPAGATE)


# --------------------------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------------------------

def _emit_entry(out: list, sid: int, fields: list, values: list) -> None:
    """One entry: [id, [field, value, ...]]."""
    idb = b"%d-%d" % (sid >> 64, sid & _M)
    out.append(b"*2\r\n$%d\r\n%s\r\n%s" % (len(idb), idb, _arrhdr(2 * len(values))))
    for f, v in zip(fields, values, strict=True):
        if f.__class__ is not bytes:
            f = b"%d" % f
        if v.__class__ is not bytes:
            v = b"%d" % v
        out.append(b"$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(f), f, len(v), v))


@probe("streamReplyWithRange")
def stream_reply_with_range(c: net.Client, out: list, s: Stream, start: int, end: int | None,
                            count: int, rev: bool, group: StreamCG | None = None,
                            consumer: StreamConsumer | None = None, flags: int = 0,
                            spi: StreamPropInfo | None = None) -> int:
    """streamReplyWithRange: append the entries start..end (at most ``count``, 0 = all) to
    the reply parts ``out`` as an array (bare entries with STREAM_RWR_RAWENTRIES); returns
    how many.

    With a group and consumer (XREADGROUP): advance the group's last ID and read counter,
    and, unless NOACK, create or take over the PEL entries and propagate each as an
    XCLAIM.  With STREAM_RWR_HISTORY the consumer's own PEL is served instead.
    """
    if group is not None and flags & STREAM_RWR_HISTORY:
        return stream_reply_with_range_from_consumer_pel(c, out, s, start, end, count,
                                                          consumer)
    if end is None:
        end = STREAM_ID_MAX
    raw = flags & STREAM_RWR_RAWENTRIES
    noack = flags & STREAM_RWR_NOACK
    if not raw:
        hdr = len(out)
        out.append(b"")
    n = 0
    propagate_last_id = False
    for sid, fields, values in stream_iterate(s, start, end, rev):
        if group is not None and sid > group.last_id:
            if group.entries_read != SCG_INVALID_ENTRIES_READ and \
                    not stream_range_has_tombstones(s, sid, None):
                group.entries_read += 1
            elif s.entries_added:
                group.entries_read = stream_estimate_distance_from_first_ever_entry(s, sid)
            group.last_id = sid
            if noack:
                propagate_last_id = True
        _emit_entry(out, sid, fields, values)
        if group is not None and not noack:
            nack = StreamNACK(consumer)
            group_inserted = group.pel.try_insert(sid, nack)
            consumer.pel.try_insert(sid, nack)
            if not group_inserted:
                # Delivered before (XGROUP SETID moved the group back): the entry now
                # belongs to this consumer, as a first delivery.
                nack = group.pel.nacks[sid]
                nack.consumer.pel.remove(sid)
                nack.consumer = consumer
                nack.delivery_time = util.mstime()
                nack.delivery_count = 1
                consumer.pel.insert(sid, nack)
            if spi is not None:
                stream_propagate_xclaim(c, spi.keyname, group, spi.groupname,
                                        create_stream_id_string(sid), nack)
        n += 1
        if count and count == n:
            break
    if spi is not None and propagate_last_id:
        stream_propagate_group_id(c, spi.keyname, group, spi.groupname)
    if not raw:
        out[hdr] = _arrhdr(n)
    return n


def stream_reply_with_range_from_consumer_pel(c: net.Client, out: list, s: Stream,
                                              start: int, end: int | None, count: int,
                                              consumer: StreamConsumer) -> int:
    """streamReplyWithRangeFromConsumerPEL: XREADGROUP with an ID (not ">"): the consumer's
    pending entries from ``start``; one deleted since is ``[id, nil]``.  Each delivery
    refreshes the NACK's time and counts one more."""
    hdr = len(out)
    out.append(b"")
    n = 0
    pel = consumer.pel
    ids = pel.ids
    i = bisect_left(ids, start)
    nullarray = shared.nullarray[c.resp]
    while i < len(ids) and (not count or n < count):
        sid = ids[i]
        i += 1
        if end is not None and sid > end:
            break
        if stream_reply_with_range(c, out, s, sid, sid, 1, False, None, None,
                                   STREAM_RWR_RAWENTRIES, None) == 0:
            out.append(b"*2\r\n" + _bulk(create_stream_id_string(sid)) + nullarray)
        else:
            nack = pel.nacks[sid]
            nack.delivery_time = util.mstime()
            nack.delivery_count += 1
        n += 1
    out[hdr] = _arrhdr(n)
    return n


# --------------------------------------------------------------------------------------------
# Stream commands implementation: lookups and ID parsing
# --------------------------------------------------------------------------------------------

def stream_type_lookup_write_or_create(c: net.Client, key: bytes,
                                       no_create: bool) -> RObj | None:
    """streamTypeLookupWriteOrCreate: the stream at key, created empty if missing (with
    ``no_create`` a missing key replies a null instead)."""
    o = dbmod.lookup_key_write(c.db, key)
    if dbmod.check_type(c, o, OBJ_STREAM):
        return None
    if o is None:
        if no_create:
            net.add_reply_null(c)
            return None
        o = create_stream_object()
        dbmod.db_add(c.db, key, o)
    return o


def stream_generic_parse_id_or_reply(c: net.Client | None, arg: bytes, missing_seq: int,
                                     strict: bool, want_seq_given: bool = False
                                     ) -> tuple[int, bool] | None:
    """streamGenericParseIDOrReply: ``<ms>-<seq>``, ``<ms>`` (seq = missing_seq), ``-`` /
    ``+`` (unless strict) and, when ``want_seq_given``, ``<ms>-*``.  Returns
    ``(id, seq_given)``, or None after the error reply (none when ``c`` is None).

    Parsed as a C string (text after a NUL is ignored), each part with string2ull's rules.
    """
    if len(arg) <= 127:
        nul = arg.find(b"\0")
        buf = arg if nul < 0 else arg[:nul]
        if not (strict and (buf == b"-" or buf == b"+")):
            if buf == b"-":
                return 0, True
            if buf == b"+":
                return STREAM_ID_MAX, True
            dot = buf.find(b"-")
            if dot >= 0:
                ms = util.string2ull(buf[:dot])
                seqpart = buf[dot + 1:]
                if want_seq_given and seqpart == b"*":
                    if ms is not None:
                        return ms << 64, False
                else:
                    seq = util.string2ull(seqpart)
                    if ms is not None and seq is not None:
                        return (ms << 64) | seq, True
            else:
                ms = util.string2ull(buf)
                if ms is not None:
                    return (ms << 64) | missing_seq, True
    if c is not None:
        net.add_reply_error(c, shared.STREAM_INVALID_ID)
    return None


def stream_parse_id(arg: bytes) -> int | None:
    """streamParseID (module API): no reply, ``-``/``+`` accepted."""
    r = stream_generic_parse_id_or_reply(None, arg, 0, False)
    return None if r is None else r[0]


def stream_parse_id_or_reply(c: net.Client | None, arg: bytes, missing_seq: int) -> int | None:
    """streamParseIDOrReply: ``-`` and ``+`` accepted."""
    r = stream_generic_parse_id_or_reply(c, arg, missing_seq, False)
    return None if r is None else r[0]


def stream_parse_strict_id_or_reply(c: net.Client | None, arg: bytes, missing_seq: int,
                                    want_seq_given: bool = False) -> tuple[int, bool] | None:
    """streamParseStrictIDOrReply: ``-`` and ``+`` refused; ``(id, seq_given)``."""
    return stream_generic_parse_id_or_reply(c, arg, missing_seq, True, want_seq_given)


def stream_parse_interval_id_or_reply(c: net.Client, arg: bytes,
                                      missing_seq: int) -> tuple[int, bool] | None:
    """streamParseIntervalIDOrReply: ``(id, exclusive)``; a ``(`` prefix makes the bound
    exclusive and the rest is parsed strictly."""
    if len(arg) > 1 and arg[0] == 40:    # '('
        r = stream_parse_strict_id_or_reply(c, arg[1:], missing_seq)
        return None if r is None else (r[0], True)
    sid = stream_parse_id_or_reply(c, arg, missing_seq)
    return None if sid is None else (sid, False)


def _parse_range_or_reply(c: net.Client, startarg: bytes,
                          endarg: bytes) -> tuple[int, int] | None:
    """The start/end parsing XRANGE, XREVRANGE and XPENDING share."""
    r = stream_parse_interval_id_or_reply(c, startarg, 0)
    if r is None:
        return None
    startid, startex = r
    if startex:
        startid, ok = stream_incr_id(startid)
        if not ok:
            net.add_reply_error(c, shared.STREAM_INVALID_START_ID)
            return None
    r = stream_parse_interval_id_or_reply(c, endarg, UINT64_MAX)
    if r is None:
        return None
    endid, endex = r
    if endex:
        endid, ok = stream_decr_id(endid)
        if not ok:
            net.add_reply_error(c, shared.STREAM_INVALID_END_ID)
            return None
    return startid, endid


def stream_rewrite_approx_specifier(c: net.Client, idx: int) -> None:
    """streamRewriteApproxSpecifier: ``~`` becomes ``=`` in what is propagated."""
    net.rewrite_client_command_argument(c, idx, b"=")


def stream_rewrite_trim_argument(c: net.Client, s: Stream, trim_strategy: int,
                                 idx: int) -> None:
    """streamRewriteTrimArgument: an approximate trim propagates as the exact result (the
    length now, or the first ID now), so replicas and the AOF trim the same entries."""
    if trim_strategy == TRIM_STRATEGY_MAXLEN:
        arg = b"%d" % s.length
    else:
        arg = create_stream_id_string(stream_get_edge_id(s, True, False))
    net.rewrite_client_command_argument(c, idx, arg)


def _notify(event: str, key: bytes, dbid: int) -> None:
    if server.notify_keyspace_events:
        dbmod.notify_keyspace_event(dbmod.NOTIFY_STREAM, event, key, dbid)


# --------------------------------------------------------------------------------------------
# XADD XRANGE XREVRANGE XLEN
# --------------------------------------------------------------------------------------------

def xadd_command(c: net.Client) -> None:
    """XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value
    [field value ...]"""
    args = StreamAddTrimArgs()
    idpos = stream_parse_add_or_trim_args_or_reply(c, args, True)
    if idpos < 0:
        return
    argv = c.argv
    argc = len(argv)
    field_pos = idpos + 1
    if argc - field_pos < 2 or (argc - field_pos) & 1:
        net.add_reply_error_arity(c)
        return
    # Refused before the key is created: a failed XADD must not leave an empty stream.
    if args.id_given and args.seq_given and args.id == 0:
        net.add_reply_error(c, shared.XADD_ID_ZERO)
        return
    key = argv[1]
    o = stream_type_lookup_write_or_create(c, key, args.no_mkstream)
    if o is None:
        return
    s = o.ptr
    if s.last_id == STREAM_ID_MAX:
        net.add_reply_error(c, shared.XADD_ID_EXHAUSTED)
        return
    sid, err = stream_append_item(s, argv[field_pos:], args.id if args.id_given else None,
                                  args.seq_given)
    if err:
        net.add_reply_error(c, shared.XADD_ID_NOT_GREATER if err == EDOM
                            else shared.STREAM_ELEMENTS_TOO_LARGE)
        return
    replyid = create_stream_id_string(sid)
    net.add_reply_bulk(c, replyid)
    db = c.db
    dbmod.signal_modified_key(c, db, key)
    _notify("xadd", key, db.id)
    server.dirty += 1
    if args.trim_strategy != TRIM_STRATEGY_NONE:
        if stream_trim(s, args):
            _notify("xtrim", key, db.id)
        if args.approx_trim:
            # LIMIT is only allowed with ~, so ~ covers both ways a trim can stop early.
            stream_rewrite_approx_specifier(c, args.trim_strategy_arg_idx - 1)
            stream_rewrite_trim_argument(c, s, args.trim_strategy, args.trim_strategy_arg_idx)
    if not args.id_given or not args.seq_given:
        net.rewrite_client_command_argument(c, idpos, replyid)
    dbmod.signal_key_as_ready(db, key, OBJ_STREAM)


def xrange_generic_command(c: net.Client, rev: bool) -> None:
    """xrangeGenericCommand: XRANGE key start end [COUNT n] / XREVRANGE key end start."""
    argv = c.argv
    startarg = argv[3] if rev else argv[2]
    endarg = argv[2] if rev else argv[3]
    rng = _parse_range_or_reply(c, startarg, endarg)
    if rng is None:
        return
    startid, endid = rng
    count = -1
    argc = len(argv)
    j = 4
    while j < argc:
        if argv[j].lower() == b"count" and argc - j - 1 >= 1:
            v = dbmod.get_long_long_from_object_or_reply(c, argv[j + 1])
            if v is None:
                return
            count = v if v >= 0 else 0
            j += 1
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1
    o = dbmod.lookup_key_read_or_reply(c, argv[1], shared.emptyarray)
    if o is None or dbmod.check_type(c, o, OBJ_STREAM):
        return
    if count == 0:
        net.add_reply_null_array(c)
        return
    out: list = []
    stream_reply_with_range(c, out, o.ptr, startid, endid, 0 if count == -1 else count, rev)
    net.add_reply(c, b"".join(out))


def xrange_command(c: net.Client) -> None:
    """XRANGE key start end [COUNT count]"""
    xrange_generic_command(c, False)


def xrevrange_command(c: net.Client) -> None:
    """XREVRANGE key end start [COUNT count]"""
    xrange_generic_command(c, True)


def xlen_command(c: net.Client) -> None:
    """XLEN key"""
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.czero)
    if o is None or dbmod.check_type(c, o, OBJ_STREAM):
        return
    net.add_reply_long_long(c, o.ptr.length)


# --------------------------------------------------------------------------------------------
# XREAD / XREADGROUP
# --------------------------------------------------------------------------------------------

def _prevent_command_propagation(c: net.Client) -> None:
    """preventCommandPropagation: what XREADGROUP / XCLAIM changed goes out as the XCLAIMs
    and XGROUPs they queued, never as the command itself."""
    c.flags |= net.CLIENT_PREVENT_AOF_PROP | net.CLIENT_PREVENT_REPL_PROP


def xread_command(c: net.Client) -> None:
    """XREAD [COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]
    XREADGROUP GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key
    [key ...] id [id ...]"""
    try:
        _xread(c)
    finally:
        _prevent_command_propagation(c)


def _xread(c: net.Client) -> None:
    argv = c.argv
    argc = len(argv)
    timeout = -1
    count = 0
    streams_count = 0
    streams_arg = 0
    noack = False
    xreadgroup = c.cmd is not None and c.cmd.name == "xreadgroup"
    groupname = None
    consumername = None

    i = 1
    while i < argc:
        moreargs = argc - i - 1
        o = argv[i].lower()
        if o == b"block" and moreargs:
            if c.flags & net.CLIENT_SCRIPT:
                # Blocking makes no sense in a script; kept an error for compatibility.
                net.add_reply_error(c, shared.XREAD_BLOCK_IN_SCRIPT % _text(argv[0]))
                return
            i += 1
            v = dbmod.get_long_long_from_object_or_reply(c, argv[i], shared.TIMEOUT_NOT_INTEGER)
            if v is None:
                return
            if v < 0:
                net.add_reply_error(c, shared.TIMEOUT_NEGATIVE)
                return
            timeout = v + util.mstime() if v > 0 else 0
        elif o == b"count" and moreargs:
            i += 1
            v = dbmod.get_long_long_from_object_or_reply(c, argv[i])
            if v is None:
                return
            count = v if v >= 0 else 0
        elif o == b"streams" and moreargs:
            streams_arg = i + 1
            streams_count = argc - streams_arg
            if streams_count % 2:
                net.add_reply_error(c, shared.XREAD_UNBALANCED)
                return
            streams_count //= 2
            break
        elif o == b"group" and moreargs >= 2:
            if not xreadgroup:
                net.add_reply_error(c, shared.XREAD_GROUP_OPTION)
                return
            groupname = argv[i + 1]
            consumername = argv[i + 2]
            i += 2
        elif o == b"noack":
            if not xreadgroup:
                net.add_reply_error(c, shared.XREAD_NOACK_OPTION)
                return
            noack = True
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        i += 1

    if streams_arg == 0:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    if xreadgroup and groupname is None:
        net.add_reply_error(c, shared.XREADGROUP_MISSING_GROUP)
        return

    db = c.db
    ids: list[int] = [0] * streams_count
    groups: list[StreamCG | None] | None = [None] * streams_count if groupname else None
    for i in range(streams_arg + streams_count, argc):
        id_idx = i - streams_arg - streams_count
        key = argv[i - streams_count]
        o = dbmod.lookup_key_read(db, key)
        if dbmod.check_type(c, o, OBJ_STREAM):
            return
        if groupname is not None:
            group = stream_lookup_cg(o.ptr, groupname) if o is not None else None
            if group is None:
                net.add_reply_error(c, shared.XREADGROUP_NOGROUP % (_text(key),
                                                                   _text(groupname)))
                return
            groups[id_idx] = group
        arg = argv[i]
        if arg == b"$":
            if xreadgroup:
                net.add_reply_error(c, shared.XREADGROUP_DOLLAR_ID)
                return
            ids[id_idx] = o.ptr.last_id if o is not None else 0
            continue
        if arg == b">":
            if not xreadgroup:
                net.add_reply_error(c, shared.XREAD_GREATER_ID)
                return
            # The maximal ID stands for ">": the group's last ID, read when serving.
            ids[id_idx] = STREAM_ID_MAX
            continue
        parsed = stream_parse_strict_id_or_reply(c, arg, 0)
        if parsed is None:
            return
        ids[id_idx] = parsed[0]

    # Serve synchronously what can be served.
    out: list = []
    arraylen = 0
    for i in range(streams_count):
        key = argv[streams_arg + i]
        o = dbmod.lookup_key_read(db, key)
        if o is None:
            continue
        s = o.ptr
        gt = ids[i]
        serve_synchronously = False
        serve_history = False
        if groups is not None:
            if gt != STREAM_ID_MAX:
                # An explicit ID: the consumer's own history, always answered now.
                serve_synchronously = True
                serve_history = True
            elif s.length:
                last = groups[i].last_id
                if stream_last_valid_id(s) > last:
                    serve_synchronously = True
                    gt = last
        elif s.length:
            if stream_last_valid_id(s) > gt:
                serve_synchronously = True
        if not serve_synchronously:
            continue
        arraylen += 1
        start = stream_incr_id(gt)[0]
        if c.resp == 2:
            out.append(b"*2\r\n")
        out.append(_bulk(key))
        consumer = None
        spi = StreamPropInfo(key, groupname)
        group = groups[i] if groups is not None else None
        if group is not None:
            consumer = stream_lookup_consumer(group, consumername, SLC_DEFAULT)
            if consumer is None:
                consumer = stream_create_consumer(group, consumername, key, db.id,
                                                  SCC_DEFAULT)
                if noack:
                    stream_propagate_consumer_creation(c, key, groupname, consumer.name)
        flags = 0
        if noack:
            flags |= STREAM_RWR_NOACK
        if serve_history:
            flags |= STREAM_RWR_HISTORY
        stream_reply_with_range(c, out, s, start, None, count, False, group, consumer,
                                flags, spi)
        if groups is not None:
            server.dirty += 1

    if arraylen:
        hdr = _arrhdr(arraylen) if c.resp == 2 else _maphdr(c, arraylen)
        net.add_reply(c, hdr + b"".join(out))
        return

    if timeout != -1:
        # A client that may not block gets what a timeout would give, even for BLOCK 0.
        if blocked.client_deny_blocking(c):
            net.add_reply_null_array(c)
            return
        blocked.block_for_keys(c, blocked.BLOCKED_STREAM, argv[streams_arg:streams_arg +
                                                               streams_count],
                               -1, timeout, ids=ids)
        bp = c.bpop
        # Without COUNT a blocked reader still gets a bounded batch, in case its ID was
        # far behind.
        bp.xread_count = count if count else XREAD_BLOCKED_DEFAULT_COUNT
        if groupname is not None:
            bp.xread_group = groupname
            bp.xread_consumer = consumername
            bp.xread_group_noack = noack
        else:
            bp.xread_group = None
            bp.xread_consumer = None
        return

    net.add_reply_null_array(c)


# --------------------------------------------------------------------------------------------
# Low level implementation of consumer groups
# --------------------------------------------------------------------------------------------

def stream_create_nack(consumer: StreamConsumer | None) -> StreamNACK:
    """streamCreateNACK: delivered now, once, to ``consumer``."""
    return StreamNACK(consumer)


@probe("streamCreateCG")
def stream_create_cg(s: Stream, name: bytes, last_id: int, entries_read: int) -> StreamCG | None:
    """streamCreateCG: a new group, or None if the name is taken."""
    if s.cgroups is None:
        s.cgroups = {}
    if name in s.cgroups:
        return None
    cg = StreamCG(last_id, entries_read)
    s.cgroups[name] = cg
    return cg


def stream_lookup_cg(s: Stream, name: bytes) -> StreamCG | None:
    """streamLookupCG."""
    if s.cgroups is None:
        return None
    return s.cgroups.get(name)


@probe("streamCreateConsumer")
def stream_create_consumer(cg: StreamCG | None, name: bytes, key: bytes | None, dbid: int,
                           flags: int) -> StreamConsumer | None:
    """streamCreateConsumer: a new consumer (None if it exists); notifies
    xgroup-createconsumer and counts a change unless told not to."""
    if cg is None or name in cg.consumers:
        return None
    consumer = StreamConsumer(name)
    cg.consumers[name] = consumer
    if not flags & SCC_NO_DIRTIFY:
        server.dirty += 1
    if not flags & SCC_NO_NOTIFY:
        _notify("xgroup-createconsumer", key, dbid)
    return consumer


def stream_lookup_consumer(cg: StreamCG | None, name: bytes, flags: int) -> StreamConsumer | None:
    """streamLookupConsumer: refreshes the seen time unless SLC_NO_REFRESH."""
    if cg is None:
        return None
    consumer = cg.consumers.get(name)
    if consumer is not None and not flags & SLC_NO_REFRESH:
        consumer.seen_time = util.mstime()
    return consumer


@probe("streamDelConsumer")
def stream_del_consumer(cg: StreamCG, consumer: StreamConsumer) -> None:
    """streamDelConsumer: its pending entries leave the group PEL too."""
    for sid in consumer.pel.ids:
        cg.pel.remove(sid)
    del cg.consumers[consumer.name]


def _sorted_items(d: dict) -> list:
    """A rax walk: by name, in byte order."""
    return sorted(d.items())


# --------------------------------------------------------------------------------------------
# Consumer groups commands
# --------------------------------------------------------------------------------------------

_XGROUP_HELP = [
    "CREATE <key> <groupname> <id|$> [option]",
    "    Create a new consumer group. Options are:",
    "    * MKSTREAM",
    "      Create the empty stream if it does not exist.",
    "    * ENTRIESREAD entries_read",
    "      Set the group's entries_read counter (internal use).",
    "CREATECONSUMER <key> <groupname> <consumer>",
    "    Create a new consumer in the specified group.",
    "DELCONSUMER <key> <groupname> <consumer>",
    "    Remove the specified consumer.",
    "DESTROY <key> <groupname>",
    "    Remove the specified group.",
    "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    "    Set the current group ID and entries_read counter.",
]


def xgroup_command(c: net.Client) -> None:
    """XGROUP CREATE / SETID / DESTROY / CREATECONSUMER / DELCONSUMER / HELP."""
    argv = c.argv
    argc = len(argv)
    opt = argv[1].lower()
    s = None
    cg = None
    grpname = b""
    mkstream = False
    entries_read = SCG_INVALID_ENTRIES_READ
    db = c.db

    if argc >= 4:
        i = 5
        create_subcmd = opt == b"create"
        setid_subcmd = opt == b"setid"
        while i < argc:
            a = argv[i].lower()
            if create_subcmd and a == b"mkstream":
                mkstream = True
                i += 1
            elif (create_subcmd or setid_subcmd) and a == b"entriesread" and i + 1 < argc:
                v = dbmod.get_long_long_from_object_or_reply(c, argv[i + 1])
                if v is None:
                    return
                if v < 0 and v != SCG_INVALID_ENTRIES_READ:
                    net.add_reply_error(c, shared.XGROUP_ENTRIESREAD_INVALID)
                    return
                entries_read = v
                i += 2
            else:
                net.add_reply_subcommand_syntax_error(c)
                return
        o = dbmod.lookup_key_write(db, argv[2])
        if o is not None:
            if dbmod.check_type(c, o, OBJ_STREAM):
                return
            s = o.ptr
        grpname = argv[3]

    if argc >= 4 and not mkstream:
        if s is None:
            net.add_reply_error(c, shared.XGROUP_KEY_MISSING)
            return
        cg = stream_lookup_cg(s, grpname)
        if cg is None and opt in (b"setid", b"createconsumer", b"delconsumer"):
            net.add_reply_error(c, shared.XGROUP_NOGROUP % (_text(grpname), _text(argv[2])))
            return

    key = argv[2] if argc > 2 else b""
    if argc == 2 and opt == b"help":
        net.add_reply_help(c, _XGROUP_HELP)
    elif opt == b"create" and 5 <= argc <= 8:
        if argv[4] == b"$":
            sid = s.last_id if s is not None else 0
        else:
            parsed = stream_parse_strict_id_or_reply(c, argv[4], 0)
            if parsed is None:
                return
            sid = parsed[0]
        if s is None:
            # MKSTREAM, now that nothing can fail any more.
            o = create_stream_object()
            dbmod.db_add(db, key, o)
            s = o.ptr
            dbmod.signal_modified_key(c, db, key)
        if stream_create_cg(s, grpname, sid, entries_read) is not None:
            net.add_reply(c, shared.ok)
            server.dirty += 1
            _notify("xgroup-create", key, db.id)
        else:
            net.add_reply_error(c, shared.XGROUP_BUSYGROUP)
    elif opt == b"setid" and argc in (5, 7):
        if argv[4] == b"$":
            sid = s.last_id
        else:
            sid = stream_parse_id_or_reply(c, argv[4], 0)
            if sid is None:
                return
        cg.last_id = sid
        cg.entries_read = entries_read
        net.add_reply(c, shared.ok)
        server.dirty += 1
        _notify("xgroup-setid", key, db.id)
    elif opt == b"destroy" and argc == 4:
        if cg is not None:
            del s.cgroups[grpname]
            net.add_reply(c, shared.cone)
            server.dirty += 1
            _notify("xgroup-destroy", key, db.id)
            # XREADGROUP waiters of this group get -NOGROUP.
            dbmod.signal_key_as_ready(db, key, OBJ_STREAM)
        else:
            net.add_reply(c, shared.czero)
    elif opt == b"createconsumer" and argc == 5:
        created = stream_create_consumer(cg, argv[4], key, db.id, SCC_DEFAULT)
        net.add_reply(c, shared.cone if created is not None else shared.czero)
    elif opt == b"delconsumer" and argc == 5:
        pending = 0
        consumer = stream_lookup_consumer(cg, argv[4], SLC_NO_REFRESH)
        if consumer is not None:
            pending = len(consumer.pel)
            stream_del_consumer(cg, consumer)
            server.dirty += 1
            _notify("xgroup-delconsumer", key, db.id)
        net.add_reply_long_long(c, pending)
    else:
        net.add_reply_subcommand_syntax_error(c)


def xsetid_command(c: net.Client) -> None:
    """XSETID key last-id [ENTRIESADDED entries_added] [MAXDELETEDID max_deleted_entry_id]"""
    argv = c.argv
    argc = len(argv)
    parsed = stream_parse_strict_id_or_reply(c, argv[2], 0)
    if parsed is None:
        return
    sid = parsed[0]
    max_xdel_id = 0
    entries_added = -1
    i = 3
    while i < argc:
        moreargs = argc - 1 - i
        opt = argv[i].lower()
        if opt == b"entriesadded" and moreargs:
            v = dbmod.get_long_long_from_object_or_reply(c, argv[i + 1])
            if v is None:
                return
            if v < 0:
                net.add_reply_error(c, shared.XSETID_ENTRIES_ADDED_NEGATIVE)
                return
            entries_added = v
            i += 2
        elif opt == b"maxdeletedid" and moreargs:
            p = stream_parse_strict_id_or_reply(c, argv[i + 1], 0)
            if p is None:
                return
            max_xdel_id = p[0]
            if sid < max_xdel_id:
                net.add_reply_error(c, shared.XSETID_BELOW_MAX_DELETED)
                return
            i += 2
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
    o = dbmod.lookup_key_write_or_reply(c, argv[1], shared.nokeyerr)
    if o is None or dbmod.check_type(c, o, OBJ_STREAM):
        return
    s = o.ptr
    if s.length > 0:
        # The ID may go down (after XDEL of the top entries) but never below an entry.
        if sid < stream_last_valid_id(s):
            net.add_reply_error(c, shared.XSETID_BELOW_TOP_ITEM)
            return
        if entries_added != -1 and s.length > entries_added:
            net.add_reply_error(c, shared.XSETID_ENTRIES_ADDED_SMALL)
            return
    s.last_id = sid
    if entries_added != -1:
        s.entries_added = entries_added
    if max_xdel_id:
        s.max_deleted_entry_id = max_xdel_id
    net.add_reply(c, shared.ok)
    server.dirty += 1
    _notify("xsetid", argv[1], c.db.id)


def _parse_ids_or_reply(c: net.Client, args: list[bytes]) -> list[int] | None:
    """Every argument as a strict ID, all or nothing (the commands apply them only once
    they all parsed)."""
    ids = []
    for a in args:
        parsed = stream_parse_strict_id_or_reply(c, a, 0)
        if parsed is None:
            return None
        ids.append(parsed[0])
    return ids


def xack_command(c: net.Client) -> None:
    """XACK key group id [id ...]"""
    argv = c.argv
    group = None
    o = dbmod.lookup_key_read(c.db, argv[1])
    if o is not None:
        if dbmod.check_type(c, o, OBJ_STREAM):
            return
        group = stream_lookup_cg(o.ptr, argv[2])
    if o is None or group is None:
        net.add_reply(c, shared.czero)
        return
    ids = _parse_ids_or_reply(c, argv[3:])
    if ids is None:
        return
    acknowledged = 0
    gpel = group.pel
    for sid in ids:
        nack = gpel.remove(sid)
        if nack is not None:
            nack.consumer.pel.remove(sid)
            acknowledged += 1
            server.dirty += 1
    net.add_reply_long_long(c, acknowledged)


def xpending_command(c: net.Client) -> None:
    """XPENDING key group [[IDLE min-idle-time] start end count [consumer]]"""
    argv = c.argv
    argc = len(argv)
    justinfo = argc == 3
    key = argv[1]
    groupname = argv[2]
    consumername = None
    count = 0
    minidle = 0
    startid = endid = 0
    if argc != 3 and (argc < 6 or argc > 9):
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    if argc >= 6:
        startidx = 3
        if argv[3].lower() == b"idle":
            v = dbmod.get_long_long_from_object_or_reply(c, argv[4])
            if v is None:
                return
            minidle = v
            if argc < 8:
                net.add_reply_error_object(c, shared.syntaxerr)
                return
            startidx += 2
        v = dbmod.get_long_long_from_object_or_reply(c, argv[startidx + 2])
        if v is None:
            return
        count = v if v >= 0 else 0
        rng = _parse_range_or_reply(c, argv[startidx], argv[startidx + 1])
        if rng is None:
            return
        startid, endid = rng
        if startidx + 3 < argc:
            consumername = argv[startidx + 3]

    o = dbmod.lookup_key_read(c.db, key)
    if dbmod.check_type(c, o, OBJ_STREAM):
        return
    group = stream_lookup_cg(o.ptr, groupname) if o is not None else None
    if group is None:
        net.add_reply_error(c, shared.STREAM_NOGROUP % (_text(key), _text(groupname)))
        return

    if justinfo:
        pel = group.pel
        out = [_mbulkhdr[4], _int(len(pel))]
        if not len(pel):
            nullb = shared.null[c.resp]
            out += (nullb, nullb, shared.nullarray[c.resp])
        else:
            out.append(_bulk(create_stream_id_string(pel.ids[0])))
            out.append(_bulk(create_stream_id_string(pel.ids[-1])))
            rows = [(name, len(cons.pel)) for name, cons in _sorted_items(group.consumers)
                    if len(cons.pel)]
            out.append(_arrhdr(len(rows)))
            for name, n in rows:
                out.append(b"*2\r\n" + _bulk(name) + _bulk(b"%d" % n))
        net.add_reply(c, b"".join(out))
        return

    consumer = None
    if consumername is not None:
        consumer = stream_lookup_consumer(group, consumername, SLC_NO_REFRESH)
        if consumer is None:
            net.add_reply(c, shared.emptyarray)
            return
    pel = consumer.pel if consumer is not None else group.pel
    now = util.mstime()
    out = [b""]
    n = 0
    ids = pel.ids
    nacks = pel.nacks
    i = bisect_left(ids, startid)
    while count and i < len(ids) and ids[i] <= endid:
        sid = ids[i]
        i += 1
        nack = nacks[sid]
        if minidle and now - nack.delivery_time < minidle:
            continue
        n += 1
        count -= 1
        elapsed = now - nack.delivery_time
        if elapsed < 0:
            elapsed = 0
        out.append(b"*4\r\n" + _bulk(create_stream_id_string(sid)) +
                   _bulk(nack.consumer.name) + _int(elapsed) + _int(nack.delivery_count))
    out[0] = _arrhdr(n)
    net.add_reply(c, b"".join(out))


def xclaim_command(c: net.Client) -> None:
    """XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME ms-unix-time]
    [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]"""
    argv = c.argv
    argc = len(argv)
    db = c.db
    group = None
    o = dbmod.lookup_key_read(db, argv[1])
    retrycount = -1
    deliverytime = -1
    force = False
    justid = False
    if o is not None:
        if dbmod.check_type(c, o, OBJ_STREAM):
            return
        group = stream_lookup_cg(o.ptr, argv[2])
    if o is None or group is None:
        net.add_reply_error(c, shared.STREAM_NOGROUP % (_text(argv[1]), _text(argv[2])))
        return
    minidle = dbmod.get_long_long_from_object_or_reply(c, argv[4],
                                                       shared.XCLAIM_MIN_IDLE_INVALID)
    if minidle is None:
        return
    if minidle < 0:
        minidle = 0
    # The IDs, until the first argument that is not one: the options start there.
    ids: list[int] = []
    j = 5
    while j < argc:
        parsed = stream_parse_strict_id_or_reply(None, argv[j], 0)
        if parsed is None:
            break
        ids.append(parsed[0])
        j += 1
    last_id_arg = j - 1

    now = util.mstime()
    last_id = 0
    propagate_last_id = False
    while j < argc:
        moreargs = argc - 1 - j
        opt = argv[j].lower()
        if opt == b"force":
            force = True
        elif opt == b"justid":
            justid = True
        elif opt == b"idle" and moreargs:
            j += 1
            v = dbmod.get_long_long_from_object_or_reply(c, argv[j], shared.XCLAIM_IDLE_INVALID)
            if v is None:
                return
            deliverytime = now - v
        elif opt == b"time" and moreargs:
            j += 1
            v = dbmod.get_long_long_from_object_or_reply(c, argv[j], shared.XCLAIM_TIME_INVALID)
            if v is None:
                return
            deliverytime = v
        elif opt == b"retrycount" and moreargs:
            j += 1
            v = dbmod.get_long_long_from_object_or_reply(c, argv[j],
                                                         shared.XCLAIM_RETRYCOUNT_INVALID)
            if v is None:
                return
            retrycount = v
        elif opt == b"lastid" and moreargs:
            j += 1
            parsed = stream_parse_strict_id_or_reply(c, argv[j], 0)
            if parsed is None:
                return
            last_id = parsed[0]
        else:
            net.add_reply_error(c, shared.XCLAIM_UNRECOGNIZED_OPTION % _text(argv[j]))
            return
        j += 1

    if last_id > group.last_id:
        group.last_id = last_id
        propagate_last_id = True
    if deliverytime != -1:
        # A bogus time (a client clock ahead of ours) is taken as now, not refused.
        if deliverytime < 0 or deliverytime > now:
            deliverytime = now
    else:
        deliverytime = now

    s = o.ptr
    consumer = None
    out = [b""]
    n = 0
    name = argv[3]
    gpel = group.pel
    for k in range(5, last_id_arg + 1):
        sid = ids[k - 5]
        nack = gpel.find(sid)
        if not stream_entry_exists(s, sid):
            # The entry is gone: its PEL entry goes too (and that is propagated).
            if nack is not None:
                stream_propagate_xclaim(c, argv[1], group, argv[2], argv[k], nack)
                propagate_last_id = False
                server.dirty += 1
                gpel.remove(sid)
                nack.consumer.pel.remove(sid)
            continue
        if force and nack is None:
            nack = StreamNACK(None)
            gpel.insert(sid, nack)
        if nack is None:
            continue
        # A NACK just made by FORCE has no owner and no idle time to respect.
        if nack.consumer is not None and minidle and now - nack.delivery_time < minidle:
            continue
        if consumer is None:
            consumer = stream_lookup_consumer(group, name, SLC_DEFAULT)
            if consumer is None:
                consumer = stream_create_consumer(group, name, argv[1], db.id, SCC_DEFAULT)
        if nack.consumer is not consumer and nack.consumer is not None:
            nack.consumer.pel.remove(sid)
        nack.delivery_time = deliverytime
        if retrycount >= 0:
            nack.delivery_count = retrycount
        elif not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel.insert(sid, nack)
            nack.consumer = consumer
        if justid:
            out.append(_bulk(create_stream_id_string(sid)))
        else:
            stream_reply_with_range(c, out, s, sid, sid, 1, False, None, None,
                                    STREAM_RWR_RAWENTRIES, None)
        n += 1
        stream_propagate_xclaim(c, argv[1], group, argv[2], argv[k], nack)
        propagate_last_id = False
        server.dirty += 1
    if propagate_last_id:
        stream_propagate_group_id(c, argv[1], group, argv[2])
        server.dirty += 1
    out[0] = _arrhdr(n)
    net.add_reply(c, b"".join(out))
    _prevent_command_propagation(c)


def xautoclaim_command(c: net.Client) -> None:
    """XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]"""
    argv = c.argv
    argc = len(argv)
    db = c.db
    o = dbmod.lookup_key_read(db, argv[1])
    count = 100
    attempts_factor = 10
    justid = False
    minidle = dbmod.get_long_long_from_object_or_reply(c, argv[4],
                                                       shared.XAUTOCLAIM_MIN_IDLE_INVALID)
    if minidle is None:
        return
    if minidle < 0:
        minidle = 0
    r = stream_parse_interval_id_or_reply(c, argv[5], 0)
    if r is None:
        return
    startid, startex = r
    if startex:
        startid, ok = stream_incr_id(startid)
        if not ok:
            net.add_reply_error(c, shared.STREAM_INVALID_START_ID)
            return
    j = 6
    while j < argc:
        moreargs = argc - 1 - j
        opt = argv[j].lower()
        if opt == b"count" and moreargs:
            max_count = LONG_MAX // max(16, attempts_factor)
            v = dbmod.get_range_long_from_object_or_reply(c, argv[j + 1], 1, max_count,
                                                          shared.XAUTOCLAIM_COUNT_INVALID)
            if v is None:
                return
            count = v
            j += 1
        elif opt == b"justid":
            justid = True
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1
    group = None
    if o is not None:
        if dbmod.check_type(c, o, OBJ_STREAM):
            return
        group = stream_lookup_cg(o.ptr, argv[2])
    if o is None or group is None:
        net.add_reply_error(c, shared.STREAM_NOGROUP % (_text(argv[1]), _text(argv[2])))
        return

    s = o.ptr
    consumer = None
    attempts = count * attempts_factor
    entries: list = []
    n = 0
    deleted_ids: list[int] = []
    now = util.mstime()
    name = argv[3]
    gpel = group.pel
    ids = gpel.ids
    # idx is the rax iterator: the next PEL entry raxNext would return.
    idx = bisect_left(ids, startid)
    while True:
        attempts -= 1
        if attempts < 0 or not count or idx >= len(ids):
            break
        sid = ids[idx]
        idx += 1
        nack = gpel.nacks[sid]
        if not stream_entry_exists(s, sid):
            stream_propagate_xclaim(c, argv[1], group, argv[2], create_stream_id_string(sid),
                                    nack)
            server.dirty += 1
            gpel.remove(sid)
            nack.consumer.pel.remove(sid)
            deleted_ids.append(sid)
            idx -= 1                        # re-seek >= the removed ID
            count -= 1
            continue
        if minidle and now - nack.delivery_time < minidle:
            continue
        if consumer is None:
            consumer = stream_lookup_consumer(group, name, SLC_DEFAULT)
            if consumer is None:
                consumer = stream_create_consumer(group, name, argv[1], db.id, SCC_DEFAULT)
        if nack.consumer is not consumer and nack.consumer is not None:
            nack.consumer.pel.remove(sid)
        nack.delivery_time = now
        if not justid:
            nack.delivery_count += 1
        if nack.consumer is not consumer:
            consumer.pel.insert(sid, nack)
            nack.consumer = consumer
        if justid:
            entries.append(_bulk(create_stream_id_string(sid)))
        else:
            stream_reply_with_range(c, entries, s, sid, sid, 1, False, None, None,
                                    STREAM_RWR_RAWENTRIES, None)
        n += 1
        count -= 1
        stream_propagate_xclaim(c, argv[1], group, argv[2], create_stream_id_string(sid),
                                nack)
        server.dirty += 1
    # The cursor: the next PEL entry, or 0-0 at the end.
    endid = ids[idx] if idx < len(ids) else 0
    out = [_mbulkhdr[3], _bulk(create_stream_id_string(endid)), _arrhdr(n)]
    out += entries
    out.append(_arrhdr(len(deleted_ids)))
    for sid in deleted_ids:
        out.append(_bulk(create_stream_id_string(sid)))
    net.add_reply(c, b"".join(out))
    _prevent_command_propagation(c)


def xdel_command(c: net.Client) -> None:
    """XDEL key id [id ...]"""
    argv = c.argv
    o = dbmod.lookup_key_write_or_reply(c, argv[1], shared.czero)
    if o is None or dbmod.check_type(c, o, OBJ_STREAM):
        return
    s = o.ptr
    ids = _parse_ids_or_reply(c, argv[2:])
    if ids is None:
        return
    deleted = 0
    first_entry = False
    for sid in ids:
        if stream_delete_item(s, sid):
            if sid == s.first_id:
                first_entry = True
            if sid > s.max_deleted_entry_id:
                s.max_deleted_entry_id = sid
            deleted += 1
    if deleted:
        if s.length == 0:
            s.first_id = 0
        elif first_entry:
            s.first_id = stream_get_edge_id(s, True, True)
        dbmod.signal_modified_key(c, c.db, argv[1])
        _notify("xdel", argv[1], c.db.id)
        server.dirty += deleted
    net.add_reply_long_long(c, deleted)


def xtrim_command(c: net.Client) -> None:
    """XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]"""
    args = StreamAddTrimArgs()
    if stream_parse_add_or_trim_args_or_reply(c, args, False) < 0:
        return
    argv = c.argv
    o = dbmod.lookup_key_write_or_reply(c, argv[1], shared.czero)
    if o is None or dbmod.check_type(c, o, OBJ_STREAM):
        return
    s = o.ptr
    deleted = stream_trim(s, args)
    if deleted:
        _notify("xtrim", argv[1], c.db.id)
        if args.approx_trim:
            stream_rewrite_approx_specifier(c, args.trim_strategy_arg_idx - 1)
            stream_rewrite_trim_argument(c, s, args.trim_strategy, args.trim_strategy_arg_idx)
        dbmod.signal_modified_key(c, c.db, argv[1])
        server.dirty += deleted
    net.add_reply_long_long(c, deleted)


# --------------------------------------------------------------------------------------------
# XINFO
# --------------------------------------------------------------------------------------------

def _rax_key_nodes(keys: list[bytes], lo: int, hi: int, d: int) -> int:
    """Nodes below the prefix of length ``d`` shared by the sorted keys[lo:hi]."""
    total = 0
    klen = len(keys[lo])
    while True:
        if d == klen:
            return total + 1                # the leaf holding the key
        first = keys[lo]
        last = keys[hi - 1]
        if first[d] != last[d]:
            # A branching (non-compressed) node, then one subtree per next byte.
            total += 1
            i = lo
            while i < hi:
                b = keys[i][d]
                j = i + 1
                while j < hi and keys[j][d] == b:
                    j += 1
                total += _rax_key_nodes(keys, i, j, d + 1)
                i = j
            return total
        # A single path: one node (compressed when longer than a byte) up to the next
        # branching point or the end of the keys.
        e = d + 1
        while e < klen and first[e] == last[e]:
            e += 1
        total += 1
        d = e


def rax_num_nodes(ids: list[int]) -> int:
    """rax->numnodes of a rax holding these stream IDs (sorted, distinct) as 16-byte keys:
    the head, and the nodes of the compressed radix tree (chains of one-child nodes merged,
    the form rax keeps after inserts and removals)."""
    if not ids:
        return 1
    keys = [sid.to_bytes(16, "big") for sid in ids]
    return _rax_key_nodes(keys, 0, len(keys), 0)


_XINFO_HELP = [
    "CONSUMERS <key> <groupname>",
    "    Show consumers of <groupname>.",
    "GROUPS <key>",
    "    Show the stream consumer groups.",
    "STREAM <key> [FULL [COUNT <count>]",
    "    Show information about the stream.",
]

_B = {name: _bulk(name.encode()) for name in (
    "length", "radix-tree-keys", "radix-tree-nodes", "last-generated-id",
    "max-deleted-entry-id", "entries-added", "recorded-first-entry-id", "groups",
    "first-entry", "last-entry", "entries", "name", "last-delivered-id", "entries-read",
    "lag", "pel-count", "pending", "consumers", "seen-time", "idle")}


def _reply_lag(c: net.Client, s: Stream, cg: StreamCG) -> bytes:
    lag = stream_cg_lag(s, cg)
    return shared.null[c.resp] if lag is None else _int(lag)


def xinfo_reply_with_stream_info(c: net.Client, s: Stream) -> None:
    """xinfoReplyWithStreamInfo: XINFO STREAM key [FULL [COUNT count]]."""
    argv = c.argv
    full = True
    count = 10
    optv = argv[3:]
    optc = len(optv)
    if optc == 0:
        full = False
    else:
        if optc not in (1, 3) or optv[0].lower() != b"full":
            net.add_reply_subcommand_syntax_error(c)
            return
        if optc == 3:
            if optv[1].lower() != b"count":
                net.add_reply_subcommand_syntax_error(c)
                return
            v = dbmod.get_long_long_from_object_or_reply(c, optv[2])
            if v is None:
                return
            count = v if v >= 0 else 10
    B = _B
    nullb = shared.null[c.resp]
    out = [_maphdr(c, 9 if full else 10),
           B["length"], _int(s.length),
           B["radix-tree-keys"], _int(len(s.rax_keys)),
           B["radix-tree-nodes"], _int(rax_num_nodes(s.rax_keys)),
           B["last-generated-id"], _bulk(create_stream_id_string(s.last_id)),
           B["max-deleted-entry-id"], _bulk(create_stream_id_string(s.max_deleted_entry_id)),
           B["entries-added"], _int(s.entries_added),
           B["recorded-first-entry-id"], _bulk(create_stream_id_string(s.first_id))]
    if not full:
        out += (B["groups"], _int(len(s.cgroups) if s.cgroups else 0), B["first-entry"])
        if not stream_reply_with_range(c, out, s, 0, STREAM_ID_MAX, 1, False, None, None,
                                       STREAM_RWR_RAWENTRIES):
            out.append(nullb)
        out.append(B["last-entry"])
        if not stream_reply_with_range(c, out, s, 0, STREAM_ID_MAX, 1, True, None, None,
                                       STREAM_RWR_RAWENTRIES):
            out.append(nullb)
        net.add_reply(c, b"".join(out))
        return
    out.append(B["entries"])
    stream_reply_with_range(c, out, s, 0, None, count, False)
    out.append(B["groups"])
    groups = _sorted_items(s.cgroups) if s.cgroups else []
    out.append(_arrhdr(len(groups)))
    for name, cg in groups:
        out += (_maphdr(c, 7), B["name"], _bulk(name),
                B["last-delivered-id"], _bulk(create_stream_id_string(cg.last_id)),
                B["entries-read"],
                nullb if cg.entries_read == SCG_INVALID_ENTRIES_READ else _int(cg.entries_read),
                B["lag"], _reply_lag(c, s, cg),
                B["pel-count"], _int(len(cg.pel)),
                B["pending"])
        hdr = len(out)
        out.append(b"")
        n = 0
        for sid, nack in cg.pel.items():
            if count and n >= count:
                break
            out.append(b"*4\r\n" + _bulk(create_stream_id_string(sid)) +
                       _bulk(nack.consumer.name) + _int(nack.delivery_time) +
                       _int(nack.delivery_count))
            n += 1
        out[hdr] = _arrhdr(n)
        out += (B["consumers"], _arrhdr(len(cg.consumers)))
        for cname, consumer in _sorted_items(cg.consumers):
            out += (_maphdr(c, 4), B["name"], _bulk(cname),
                    B["seen-time"], _int(consumer.seen_time),
                    B["pel-count"], _int(len(consumer.pel)),
                    B["pending"])
            hdr = len(out)
            out.append(b"")
            n = 0
            for sid, nack in consumer.pel.items():
                if count and n >= count:
                    break
                out.append(b"*3\r\n" + _bulk(create_stream_id_string(sid)) +
                           _int(nack.delivery_time) + _int(nack.delivery_count))
                n += 1
            out[hdr] = _arrhdr(n)
    net.add_reply(c, b"".join(out))


def xinfo_command(c: net.Client) -> None:
    """XINFO CONSUMERS key group / GROUPS key / STREAM key [FULL [COUNT n]] / HELP"""
    argv = c.argv
    argc = len(argv)
    opt = argv[1].lower()
    if opt == b"help":
        if argc != 2:
            net.add_reply_subcommand_syntax_error(c)
            return
        net.add_reply_help(c, _XINFO_HELP)
        return
    if argc < 3:
        net.add_reply_subcommand_syntax_error(c)
        return
    key = argv[2]
    o = dbmod.lookup_key_read_or_reply(c, key, shared.nokeyerr)
    if o is None or dbmod.check_type(c, o, OBJ_STREAM):
        return
    s = o.ptr
    B = _B
    if opt == b"consumers" and argc == 4:
        cg = stream_lookup_cg(s, argv[3])
        if cg is None:
            net.add_reply_error(c, shared.XGROUP_NOGROUP % (_text(argv[3]), _text(key)))
            return
        now = util.mstime()
        out = [_arrhdr(len(cg.consumers))]
        for name, consumer in _sorted_items(cg.consumers):
            idle = now - consumer.seen_time
            if idle < 0:
                idle = 0
            out += (_maphdr(c, 3), B["name"], _bulk(name), B["pending"],
                    _int(len(consumer.pel)), B["idle"], _int(idle))
        net.add_reply(c, b"".join(out))
    elif opt == b"groups" and argc == 3:
        if s.cgroups is None:
            net.add_reply(c, shared.emptyarray)
            return
        out = [_arrhdr(len(s.cgroups))]
        nullb = shared.null[c.resp]
        for name, cg in _sorted_items(s.cgroups):
            out += (_maphdr(c, 6), B["name"], _bulk(name),
                    B["consumers"], _int(len(cg.consumers)),
                    B["pending"], _int(len(cg.pel)),
                    B["last-delivered-id"], _bulk(create_stream_id_string(cg.last_id)),
                    B["entries-read"],
                    nullb if cg.entries_read == SCG_INVALID_ENTRIES_READ
                    else _int(cg.entries_read),
                    B["lag"], _reply_lag(c, s, cg))
        net.add_reply(c, b"".join(out))
    elif opt == b"stream":
        xinfo_reply_with_stream_info(c, s)
    else:
        net.add_reply_subcommand_syntax_error(c)


# --------------------------------------------------------------------------------------------
# Blocking: XREAD / XREADGROUP waiters (blocked.c)
# --------------------------------------------------------------------------------------------

def serve_client_blocked_on_stream(receiver: net.Client, o: RObj, db, key: bytes) -> int:
    """blocked.serve_funcs[BLOCKED_STREAM] (the per-client part of
    serveClientsBlockedOnStreamKey): serve ``receiver`` if the stream now has an entry
    past the ID it waits for; a group reader waits for the group's current last ID.
    """
    bp = receiver.bpop
    s = o.ptr
    gt = bp.keys[key]
    group = None
    if bp.xread_group is not None:
        group = stream_lookup_cg(s, bp.xread_group)
        if group is None:
            net.add_reply_error(receiver, shared.XREADGROUP_GROUP_DESTROYED)
            return blocked.SERVE_DONE
        gt = group.last_id
        bp.keys[key] = gt
    if s.last_id <= gt:
        return blocked.SERVE_NOT
    start = stream_incr_id(gt)[0]
    consumer = None
    noack = False
    if group is not None:
        noack = bp.xread_group_noack
        name = bp.xread_consumer
        consumer = stream_lookup_consumer(group, name, SLC_DEFAULT)
        if consumer is None:
            consumer = stream_create_consumer(group, name, key, db.id, SCC_DEFAULT)
            if noack:
                stream_propagate_consumer_creation(receiver, key, bp.xread_group,
                                                   consumer.name)
    # One stream: a single-item array of [key, entries] (RESP3: a one-entry map).
    out = [b"*1\r\n*2\r\n" if receiver.resp == 2 else b"%1\r\n", _bulk(key)]
    spi = StreamPropInfo(key, bp.xread_group)
    stream_reply_with_range(receiver, out, s, start, None, bp.xread_count, False, group,
                            consumer, STREAM_RWR_NOACK if noack else 0, spi)
    net.add_reply(receiver, b"".join(out))
    return blocked.SERVE_DONE


def unblock_deleted_stream_readgroup_clients(db, key: bytes) -> None:
    """unblockDeletedStreamReadgroupClients: XREADGROUP waiters of a key that is gone (or
    no longer a stream) get -UNBLOCKED, in the order they blocked."""
    if not blocked.blocked_clients_by_type[blocked.BLOCKED_STREAM]:
        return
    clients = db.blocking_keys.get(key)
    if not clients:
        return
    srv = server
    for receiver in list(clients):
        bp = receiver.bpop
        if receiver.btype != blocked.BLOCKED_STREAM or bp is None or bp.xread_group is None:
            continue
        prev_errors = srv.stat_total_error_replies
        old_client = srv.current_client
        srv.current_client = receiver
        try:
            net.add_reply_error(receiver, shared.XREADGROUP_KEY_DELETED)
            blocked.update_stats_on_unblock(receiver, 0, 0,
                                            srv.stat_total_error_replies != prev_errors)
            blocked.unblock_client(receiver)
            blocked.after_command(receiver)
        finally:
            srv.current_client = old_client


blocked.serve_funcs[blocked.BLOCKED_STREAM] = serve_client_blocked_on_stream
blocked.unblock_deleted_stream_readgroup_clients_hook = unblock_deleted_stream_readgroup_clients


# --------------------------------------------------------------------------------------------
# RDB (rdb.c: RDB_TYPE_STREAM_LISTPACKS_2 save, _2 and the 6.x form load)
# --------------------------------------------------------------------------------------------

def rdb_save_stream_object(out: bytearray, o: RObj, key: bytes | None, dbid: int) -> None:
    """rdbSaveObject for a stream: each node as (16-byte master ID, listpack), then length,
    last ID, first ID, max deleted ID, entries added, then the groups with their PEL
    (ID, delivery time, count) and consumers (name, seen time, PEL IDs)."""
    s = o.ptr
    save_len = rdbmod.rdb_save_len
    save_str = rdbmod.rdb_save_raw_string
    save_len(out, len(s.rax_keys))
    for k, lp in zip(s.rax_keys, s.rax_lps, strict=True):
        save_str(out, k.to_bytes(16, "big"))
        save_str(out, lp)
    save_len(out, s.length)
    for sid in (s.last_id, s.first_id, s.max_deleted_entry_id):
        save_len(out, sid >> 64)
        save_len(out, sid & _M)
    save_len(out, s.entries_added)
    groups = _sorted_items(s.cgroups) if s.cgroups else []
    save_len(out, len(groups))
    ms = rdbmod.rdb_save_millisecond_time
    for name, cg in groups:
        save_str(out, name)
        save_len(out, cg.last_id >> 64)
        save_len(out, cg.last_id & _M)
        save_len(out, cg.entries_read & _M)    # -1 is saved as UINT64_MAX, as in C
        save_len(out, len(cg.pel))
        for sid, nack in cg.pel.items():
            out += sid.to_bytes(16, "big")
            ms(out, nack.delivery_time)
            save_len(out, nack.delivery_count)
        save_len(out, len(cg.consumers))
        for cname, consumer in _sorted_items(cg.consumers):
            save_str(out, cname)
            ms(out, consumer.seen_time)
            save_len(out, len(consumer.pel))
            for sid in consumer.pel.ids:
                out += sid.to_bytes(16, "big")


def stream_validate_listpack_integrity(lp, deep: bool) -> bool:
    """streamValidateListpackIntegrity: the listpack header, and with ``deep`` every entry
    (the master entry, then per entry its flags, ID deltas, fields and lp-count)."""
    if not lp_validate_integrity(lp, False):
        return False
    if not deep:
        return True
    if not lp_validate_integrity(lp, True):
        return False
    try:
        vals = lp_to_list(lp)
    except (ValueError, IndexError):
        return False

    def is_int(v) -> bool:
        return v.__class__ is int or util.string2ll(v) is not None

    n = len(vals)
    if n < 4 or not (is_int(vals[0]) and is_int(vals[1]) and is_int(vals[2])):
        return False
    entry_count = int(vals[0]) + int(vals[1])
    master_fields = int(vals[2])
    i = 3 + master_fields
    if master_fields < 0 or i >= n or not is_int(vals[i]) or int(vals[i]) != 0:
        return False
    i += 1
    while entry_count > 0:
        entry_count -= 1
        if i + 3 > n or not all(is_int(v) for v in vals[i:i + 3]):
            return False
        flags = int(vals[i])
        fields = master_fields
        extra = 3
        i += 3
        if not flags & STREAM_ITEM_FLAG_SAMEFIELDS:
            if i >= n or not is_int(vals[i]):
                return False
            fields = int(vals[i])
            if fields < 0:
                return False
            i += 1 + fields
            extra += fields + 1
        i += fields
        if i >= n or not is_int(vals[i]) or int(vals[i]) != fields + extra:
            return False
        i += 1
    return i == n


def _rdb_corrupt(msg: str) -> rdbmod.RdbLoadError:
    return rdbmod.RdbLoadError(msg, True, "rdb_load_stream_object")


def rdb_load_stream_object(r: rdbmod.RioReader, key: bytes, dbid: int, rdbtype: int) -> RObj:
    """rdbLoadObject for RDB_TYPE_STREAM_LISTPACKS(_2)."""
    load_len = rdbmod.rdb_load_len_plain
    load_str = rdbmod.rdb_generic_load_string
    o = create_stream_object()
    s = o.ptr
    deep = server.sanitize_dump_payload == "yes"
    listpacks = load_len(r)
    keys = s.rax_keys
    lps = s.rax_lps
    seen = set()
    for _ in range(listpacks):
        nodekey = load_str(r)
        if len(nodekey) != 16:
            raise _rdb_corrupt("Stream node key entry is not the size of a stream ID")
        lp = bytearray(load_str(r))
        if deep:
            server.stat_dump_payload_sanitizations = getattr(
                server, "stat_dump_payload_sanitizations", 0) + 1
        if not stream_validate_listpack_integrity(lp, deep):
            raise _rdb_corrupt("Stream listpack integrity check failed.")
        if lp[LP_HDR_SIZE] == LP_EOF:
            raise _rdb_corrupt("Empty listpack inside stream")
        master = stream_decode_id(nodekey)
        if master in seen:
            raise _rdb_corrupt("Listpack re-added with existing key")
        seen.add(master)
        if keys and master < keys[-1]:
            i = bisect_right(keys, master)
            keys.insert(i, master)
            lps.insert(i, lp)
        else:
            keys.append(master)
            lps.append(lp)
    s.length = load_len(r)
    s.last_id = (load_len(r) << 64) | load_len(r)
    if rdbtype == rdbmod.RDB_TYPE_STREAM_LISTPACKS_2:
        s.first_id = (load_len(r) << 64) | load_len(r)
        s.max_deleted_entry_id = (load_len(r) << 64) | load_len(r)
        s.entries_added = load_len(r)
    else:
        # A 6.x stream: nothing was ever deleted as far as we know, and every entry
        # counts as added.
        s.max_deleted_entry_id = 0
        s.entries_added = s.length
        s.first_id = stream_get_edge_id(s, True, True)
    if s.length and not keys:
        raise _rdb_corrupt("Stream length inconsistent with rax entries")
    cgroups_count = load_len(r)
    for _ in range(cgroups_count):
        cgname = load_str(r)
        cg_id = (load_len(r) << 64) | load_len(r)
        if rdbtype == rdbmod.RDB_TYPE_STREAM_LISTPACKS_2:
            cg_offset = _to_int64(load_len(r))
        else:
            cg_offset = stream_estimate_distance_from_first_ever_entry(s, cg_id)
        cgroup = stream_create_cg(s, cgname, cg_id, cg_offset)
        if cgroup is None:
            raise _rdb_corrupt("Duplicated consumer group name %s" % _text(cgname))
        # The group PEL first, owners unresolved; the consumers' PELs then point at it.
        pel_size = load_len(r)
        for _ in range(pel_size):
            sid = stream_decode_id(r.read(16))
            nack = StreamNACK(None)
            nack.delivery_time = rdbmod.rdb_load_millisecond_time(r)
            nack.delivery_count = load_len(r)
            if not cgroup.pel.try_insert(sid, nack):
                raise _rdb_corrupt("Duplicated global PEL entry loading stream consumer "
                                   "group")
        consumers_num = load_len(r)
        for _ in range(consumers_num):
            cname = load_str(r)
            consumer = stream_create_consumer(cgroup, cname, None, 0,
                                              SCC_NO_NOTIFY | SCC_NO_DIRTIFY)
            if consumer is None:
                raise _rdb_corrupt("Duplicate stream consumer detected.")
            consumer.seen_time = rdbmod.rdb_load_millisecond_time(r)
            pel_size = load_len(r)
            for _ in range(pel_size):
                sid = stream_decode_id(r.read(16))
                nack = cgroup.pel.find(sid)
                if nack is None:
                    raise _rdb_corrupt("Consumer entry not found in group global PEL")
                nack.consumer = consumer
                if not consumer.pel.try_insert(sid, nack):
                    raise _rdb_corrupt("Duplicated consumer PEL entry  loading a stream "
                                       "consumer group")
        if deep:
            for _sid, nack in cgroup.pel.items():
                if nack.consumer is None:
                    raise _rdb_corrupt("Stream CG PEL entry without consumer")
    return o


def _rdb_load_stream_v2(r, key: bytes, dbid: int) -> RObj:
    return rdb_load_stream_object(r, key, dbid, rdbmod.RDB_TYPE_STREAM_LISTPACKS_2)


def _rdb_load_stream_v1(r, key: bytes, dbid: int) -> RObj:
    return rdb_load_stream_object(r, key, dbid, rdbmod.RDB_TYPE_STREAM_LISTPACKS)


rdbmod.rdb_save_object_type_bytes[OBJ_STREAM] = rdbmod.RDB_TYPE_STREAM_LISTPACKS_2
rdbmod.rdb_save_object_funcs[OBJ_STREAM] = rdb_save_stream_object
rdbmod.rdb_load_object_funcs[rdbmod.RDB_TYPE_STREAM_LISTPACKS_2] = _rdb_load_stream_v2
rdbmod.rdb_load_object_funcs[rdbmod.RDB_TYPE_STREAM_LISTPACKS] = _rdb_load_stream_v1


# --------------------------------------------------------------------------------------------
# AOF rewrite (aof.c rewriteStreamObject)
# --------------------------------------------------------------------------------------------

def _cmd_bytes(out: bytearray, *args: bytes) -> None:
    out += b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)


def rewrite_stream_object(out: bytearray, key: bytes, o: RObj, dbid: int) -> None:
    """rewriteStreamObject: XADD per entry (XADD MAXLEN 0 0-1 x y for an empty stream),
    XSETID with the counters, then per group XGROUP CREATE ... ENTRIESREAD, and per
    consumer XCLAIM ... FORCE per pending entry (XGROUP CREATECONSUMER when none)."""
    s = o.ptr
    if s.length:
        for sid, fields, values in stream_iterate(s):
            args = [b"XADD", key, create_stream_id_string(sid)]
            for f, v in zip(fields, values, strict=True):
                args.append(_as_bytes(f))
                args.append(_as_bytes(v))
            _cmd_bytes(out, *args)
    else:
        _cmd_bytes(out, b"XADD", key, b"MAXLEN", b"0", b"0-1", b"x", b"y")
    _cmd_bytes(out, b"XSETID", key, create_stream_id_string(s.last_id), b"ENTRIESADDED",
               b"%d" % s.entries_added, b"MAXDELETEDID",
               create_stream_id_string(s.max_deleted_entry_id))
    if not s.cgroups:
        return
    for name, group in _sorted_items(s.cgroups):
        _cmd_bytes(out, b"XGROUP", b"CREATE", key, name, create_stream_id_string(group.last_id),
                   b"ENTRIESREAD", b"%d" % group.entries_read)
        for cname, consumer in _sorted_items(group.consumers):
            if not len(consumer.pel):
                _cmd_bytes(out, b"XGROUP", b"CREATECONSUMER", key, name, cname)
                continue
            for sid, nack in consumer.pel.items():
                _cmd_bytes(out, b"XCLAIM", key, name, cname, b"0",
                           create_stream_id_string(sid), b"TIME", b"%d" % nack.delivery_time,
                           b"RETRYCOUNT", b"%d" % nack.delivery_count, b"JUSTID", b"FORCE")


aofmod.rewrite_object_funcs[OBJ_STREAM] = rewrite_stream_object


# --------------------------------------------------------------------------------------------
# Per-type hooks: MEMORY USAGE, DEBUG DIGEST, COPY, length, inspector preview
# --------------------------------------------------------------------------------------------

def _rax_memory_usage(ids: list[int]) -> int:
    """streamRadixTreeMemoryUsage (including its quirk: the rax struct itself is dropped)."""
    nodes = rax_num_nodes(ids)
    return len(ids) * 16 + nodes * _SIZEOF_RAX_NODE + nodes * _SIZEOF_LONG * 30


def _lp_alloc(s: Stream, idx: int) -> int:
    lp = s.rax_lps[idx]
    n = len(lp)
    if s.tail_prealloc and idx == len(s.rax_lps) - 1:
        prealloc = STREAM_LISTPACK_MAX_PRE_ALLOCATE
        mb = server.stream_node_max_bytes
        if 0 < mb < prealloc:
            prealloc = mb
        if prealloc > n:
            n = prealloc
    return zmalloc_size(n)


def stream_memory_usage(o: RObj, samples: int) -> int:
    """objectComputeSize for a stream: the first ``samples`` nodes averaged over all but the
    last, the last one's real size, the rax overhead, and the groups' PELs and consumers."""
    s = o.ptr
    asize = _SIZEOF_ROBJ + _SIZEOF_STREAM + _rax_memory_usage(s.rax_keys)
    numele = len(s.rax_lps)
    sampled = min(samples, numele)
    lpsize = 0
    for i in range(sampled):
        lpsize += _lp_alloc(s, i)
    if numele <= sampled:
        asize += lpsize
    else:
        if sampled:
            lpsize //= sampled
        asize += lpsize * (numele - 1)
        asize += _lp_alloc(s, numele - 1)
    if s.cgroups:
        for cg in s.cgroups.values():
            asize += _SIZEOF_STREAM_CG + _rax_memory_usage(cg.pel.ids)
            asize += _SIZEOF_STREAM_NACK * len(cg.pel)
            for consumer in cg.consumers.values():
                asize += _SIZEOF_STREAM_CONSUMER + len(consumer.name)
                asize += _rax_memory_usage(consumer.pel.ids)
    return asize


def stream_digest_value(o: RObj) -> list[tuple[int, int, list[tuple[bytes, bytes]]]]:
    """digest.py's plain stream form: (ms, seq, [(field, value), ...]) per live entry
    (consumer groups are not part of a digest, as in Redis)."""
    return [(sid >> 64, sid & _M, [(_as_bytes(f), _as_bytes(v))
                                   for f, v in zip(fields, values, strict=True)])
            for sid, fields, values in stream_iterate(o.ptr)]


def stream_preview(o: RObj, limit: int) -> str:
    """At most ``limit`` entries as ``id {field: value}`` for the debugger's inspector."""
    s = o.ptr
    out = []
    for n, (sid, fields, values) in enumerate(stream_iterate(s)):
        if n >= limit:
            out.append("...")
            break
        pairs = ", ".join(f"{_as_bytes(f).decode('utf-8', 'replace')!r}: "
                          f"{_as_bytes(v).decode('utf-8', 'replace')!r}"
                          for f, v in zip(fields, values, strict=True))
        out.append(f"{create_stream_id_string(sid).decode()} {{{pairs}}}")
    groups = len(s.cgroups) if s.cgroups else 0
    return f"[{'; '.join(out)}] nodes={len(s.rax_keys)} groups={groups}"


obj.memory_usage_funcs[OBJ_STREAM] = stream_memory_usage
obj.digest_value_funcs[OBJ_STREAM] = stream_digest_value
obj.dup_funcs[OBJ_STREAM] = stream_dup
obj.length_funcs[OBJ_STREAM] = stream_length
obj.preview_funcs[OBJ_STREAM] = stream_preview


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

def xread_get_keys(argv: list[bytes]) -> list[int]:
    """xreadGetKeys (db.c): the keys follow the first STREAMS that is the option (a group,
    a consumer or a key may be named "streams" too)."""
    argc = len(argv)
    streams_pos = -1
    i = 1
    while i < argc:
        a = argv[i].lower()
        if a in (b"block", b"count"):
            i += 1
        elif a == b"group":
            i += 2
        elif a == b"noack":
            pass
        elif a == b"streams":
            streams_pos = i
            break
        else:
            break
        i += 1
    num = argc - streams_pos - 1 if streams_pos != -1 else 0
    if streams_pos == -1 or num == 0 or num % 2:
        return []
    num //= 2
    return list(range(streams_pos + 1, argc - num))


def _ks(flags: str, index: int = 1) -> list[KeySpec]:
    return [KeySpec(flags, index, lastkey=0, keystep=1)]


def _xread_ks(startfrom: int) -> list[KeySpec]:
    return [KeySpec("RO access", begin_keyword="STREAMS", keyword_startfrom=startfrom,
                    kind="range", lastkey=-1, keystep=1, limit=2)]


COMMANDS = [
    cmd("xack", xack_command, -4, "write fast", keys=(1, 1, 1), acl="stream", group="stream",
        since="5.0.0", complexity="O(1) for each message ID processed.",
        summary="Marks a pending message as correctly processed, effectively removing it from "
                "the pending entries list of the consumer group. Return value of the command "
                "is the number of messages successfully acknowledged, that is, the IDs we "
                "were actually able to resolve in the PEL.",
        args="key group id [id ...]", key_specs=_ks("RW update")),
    cmd("xadd", xadd_command, -5, "write denyoom fast", keys=(1, 1, 1), acl="stream",
        group="stream", since="5.0.0",
        complexity="O(1) when adding a new entry, O(N) when trimming where N being the "
                   "number of entries evicted.",
        summary="Appends a new entry to a stream",
        args="key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value "
             "[field value ...]",
        key_specs=_ks("RW update"), tips="nondeterministic_output"),
    cmd("xautoclaim", xautoclaim_command, -6, "write fast", keys=(1, 1, 1), acl="stream",
        group="stream", since="6.2.0", complexity="O(1) if COUNT is small.",
        summary="Changes (or acquires) ownership of messages in a consumer group, as if the "
                "messages were delivered to the specified consumer.",
        args="key group consumer min-idle-time start [COUNT count] [JUSTID]",
        key_specs=_ks("RW delete"), tips="nondeterministic_output"),
    cmd("xclaim", xclaim_command, -6, "write fast", keys=(1, 1, 1), acl="stream",
        group="stream", since="5.0.0",
        complexity="O(log N) with N being the number of messages in the PEL of the consumer "
                   "group.",
        summary="Changes (or acquires) ownership of a message in a consumer group, as if the "
                "message was delivered to the specified consumer.",
        args="key group consumer min-idle-time id [id ...] [IDLE ms] "
             "[TIME unix-time-milliseconds] [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID id]",
        key_specs=_ks("RW update"), tips="nondeterministic_output"),
    cmd("xdel", xdel_command, -3, "write fast", keys=(1, 1, 1), acl="stream", group="stream",
        since="5.0.0",
        complexity="O(1) for each single item to delete in the stream, regardless of the "
                   "stream size.",
        summary="Removes the specified entries from the stream. Returns the number of items "
                "actually deleted, that may be different from the number of IDs passed in "
                "case certain IDs do not exist.",
        args="key id [id ...]", key_specs=_ks("RW delete")),
    cmd("xgroup", None, -2, "", group="stream", since="5.0.0",
        complexity="Depends on subcommand.",
        summary="A container for consumer groups commands", subcommands=[
            sub("create", xgroup_command, -5, "write denyoom", keys=(2, 2, 1), acl="stream",
                since="5.0.0", summary="Create a consumer group.",
                args="key groupname id|$ [MKSTREAM] [ENTRIESREAD entries_read]",
                key_specs=_ks("RW insert", 2)),
            sub("createconsumer", xgroup_command, 5, "write denyoom", keys=(2, 2, 1),
                acl="stream", since="6.2.0", summary="Create a consumer in a consumer group.",
                args="key groupname consumername", key_specs=_ks("RW insert", 2)),
            sub("delconsumer", xgroup_command, 5, "write", keys=(2, 2, 1), acl="stream",
                since="5.0.0", summary="Delete a consumer from a consumer group.",
                args="key groupname consumername", key_specs=_ks("RW delete", 2)),
            sub("destroy", xgroup_command, 4, "write", keys=(2, 2, 1), acl="stream",
                since="5.0.0",
                complexity="O(N) where N is the number of entries in the group's pending "
                           "entries list (PEL).",
                summary="Destroy a consumer group.", args="key groupname",
                key_specs=_ks("RW delete", 2)),
            sub("help", xgroup_command, 2, "loading stale", acl="stream", since="5.0.0",
                summary="Show helpful text about the different subcommands"),
            sub("setid", xgroup_command, -5, "write", keys=(2, 2, 1), acl="stream",
                since="5.0.0",
                summary="Set a consumer group to an arbitrary last delivered ID value.",
                args="key groupname id|$ [ENTRIESREAD entries_read]",
                key_specs=_ks("RW update", 2)),
        ]),
    cmd("xinfo", None, -2, "", group="stream", since="5.0.0",
        complexity="Depends on subcommand.",
        summary="A container for stream introspection commands", subcommands=[
            sub("consumers", xinfo_command, 4, "readonly", keys=(2, 2, 1), acl="stream",
                since="5.0.0", summary="List the consumers in a consumer group",
                args="key groupname", key_specs=_ks("RO access", 2),
                tips="nondeterministic_output"),
            sub("groups", xinfo_command, 3, "readonly", keys=(2, 2, 1), acl="stream",
                since="5.0.0", summary="List the consumer groups of a stream", args="key",
                key_specs=_ks("RO access", 2)),
            sub("help", xinfo_command, 2, "loading stale", acl="stream", since="5.0.0",
                summary="Show helpful text about the different subcommands"),
            sub("stream", xinfo_command, -3, "readonly", keys=(2, 2, 1), acl="stream",
                since="5.0.0", summary="Get information about a stream",
                args="key [FULL [COUNT count]]", key_specs=_ks("RO access", 2)),
        ]),
    cmd("xlen", xlen_command, 2, "readonly fast", keys=(1, 1, 1), acl="stream",
        group="stream", since="5.0.0", summary="Return the number of entries in a stream",
        args="key", key_specs=_ks("RO")),
    cmd("xpending", xpending_command, -3, "readonly", keys=(1, 1, 1), acl="stream",
        group="stream", since="5.0.0",
        complexity="O(N) with N being the number of elements returned, so asking for a small "
                   "fixed number of entries per call is O(1). O(M), where M is the total "
                   "number of entries scanned when used with the IDLE filter. When the "
                   "command returns just the summary and the list of consumers is small, it "
                   "runs in O(1) time; otherwise, an additional O(N) time for iterating every "
                   "consumer.",
        summary="Return information and entries from a stream consumer group pending "
                "entries list, that are messages fetched but never acknowledged.",
        args="key group [[IDLE min-idle-time] start end count [consumer]]",
        key_specs=_ks("RO access"), tips="nondeterministic_output"),
    cmd("xrange", xrange_command, -4, "readonly", keys=(1, 1, 1), acl="stream",
        group="stream", since="5.0.0",
        complexity="O(N) with N being the number of elements being returned. If N is "
                   "constant (e.g. always asking for the first 10 elements with COUNT), you "
                   "can consider it O(1).",
        summary="Return a range of elements in a stream, with IDs matching the specified IDs "
                "interval",
        args="key start end [COUNT count]", key_specs=_ks("RO access")),
    cmd("xread", xread_command, -4, "readonly blocking movablekeys", acl="stream",
        group="stream", since="5.0.0",
        complexity="For each stream mentioned: O(N) with N being the number of elements "
                   "being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note "
                   "that when the BLOCK option is used, XADD will pay O(M) time in order to "
                   "serve the M clients blocked on the stream getting new data.",
        summary="Return never seen elements in multiple streams, with IDs greater than the "
                "ones reported by the caller for each stream. Can block.",
        args="[COUNT count] [BLOCK milliseconds] STREAMS key [key ...] id [id ...]",
        key_specs=_xread_ks(1), getkeys=xread_get_keys),
    cmd("xreadgroup", xread_command, -7, "write blocking movablekeys", acl="stream",
        group="stream", since="5.0.0",
        complexity="For each stream mentioned: O(M) with M being the number of elements "
                   "returned. If M is constant (e.g. always asking for the first 10 elements "
                   "with COUNT), you can consider it O(1). On the other side when XREADGROUP "
                   "blocks, XADD will pay the O(N) time in order to serve the N clients "
                   "blocked on the stream getting new data.",
        summary="Return new entries from a stream using a consumer group, or access the "
                "history of the pending entries for a given consumer. Can block.",
        args="GROUP group consumer [COUNT count] [BLOCK milliseconds] [NOACK] STREAMS key "
             "[key ...] id [id ...]",
        key_specs=_xread_ks(4), getkeys=xread_get_keys),
    cmd("xrevrange", xrevrange_command, -4, "readonly", keys=(1, 1, 1), acl="stream",
        group="stream", since="5.0.0",
        complexity="O(N) with N being the number of elements returned. If N is constant (e.g. "
                   "always asking for the first 10 elements with COUNT), you can consider it "
                   "O(1).",
        summary="Return a range of elements in a stream, with IDs matching the specified IDs "
                "interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
        args="key end start [COUNT count]", key_specs=_ks("RO access")),
    cmd("xsetid", xsetid_command, -3, "write denyoom fast", keys=(1, 1, 1), acl="stream",
        group="stream", since="5.0.0",
        summary="An internal command for replicating stream values",
        args="key last-id [ENTRIESADDED entries_added] "
             "[MAXDELETEDID max_deleted_entry_id]",
        key_specs=_ks("RW update")),
    cmd("xtrim", xtrim_command, -4, "write", keys=(1, 1, 1), acl="stream", group="stream",
        since="5.0.0",
        complexity="O(N), with N being the number of evicted entries. Constant times are very "
                   "small however, since entries are organized in macro nodes containing "
                   "multiple entries that can be released with a single deallocation.",
        summary="Trims the stream to (approximately if '~' is passed) a certain size",
        args="key MAXLEN|MINID [=|~] threshold [LIMIT count]", key_specs=_ks("RW delete"),
        tips="nondeterministic_output"),
]
