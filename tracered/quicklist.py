"""Quicklist: a doubly linked list of listpacks, the list encoding (mirror of src/quicklist.c).

Each ``QuicklistNode`` holds a run of list elements in one listpack (``container`` PACKED) or,
for an element of at least ``packed_threshold`` bytes (1 GiB by default), that element alone
as raw bytes (``container`` PLAIN).  Nodes other than the ``compress`` nearest to each end may
be LZF-compressed (``list-compress-depth``).

How big a node may grow is ``fill`` (``list-max-listpack-size``):

* ``fill`` > 0: at most ``fill`` elements per node, and never more than SIZE_SAFETY_LIMIT
  (8 KiB) of listpack, whatever the count;
* ``fill`` -1..-5: at most 4, 8, 16, 32 or 64 KiB of listpack per node (default -2: 8 KiB).

Sizes are estimates made *before* inserting: current listpack bytes + element length + 8
(SIZE_ESTIMATE_OVERHEAD), so a node may end a few bytes short of the limit, exactly as in Redis.

Compression (``__quicklist_compress``): after any change, the ``compress`` nodes at each end
are kept raw and the first node past that depth on each side is compressed.  A node is only
stored compressed when it is at least MIN_COMPRESS_BYTES (48) and LZF saves more than
MIN_COMPRESS_IMPROVE (8) bytes (saving exactly 8 is not enough).  A node decompressed to be
read or changed in the middle of the list is flagged ``recompress`` and compressed again when
the operation ends.

Representation:

* ``node.entry`` is a ``bytearray`` listpack (PACKED, RAW), ``bytes`` (PLAIN, RAW: the element
  itself) or ``bytes`` holding the LZF data (encoding LZF).  ``node.sz`` is always the
  *uncompressed* size, as in Redis; ``quicklist_get_lzf(node)`` returns the compressed bytes.
* Values pushed in are ``bytes``; values read back are ``bytes`` or ``int`` (the listpack stores
  canonical integers as integers, see ``listpack.py``).
* ``QuicklistIter.zi`` / ``QuicklistEntry.zi`` are byte offsets into the node's listpack.

Divergence: QuicklistEntry carries the element in ``value`` as ``bytes`` or ``int`` (C splits
it into ``value``/``sz`` and ``longval``); ``sz`` is the byte length for strings, 0 for ints.
Divergence: ``quicklist_pop`` returns the value (or None when empty) instead of filling
out-parameters; the ``saver`` callback of quicklistPopCustom is unnecessary in Python.
Divergence: bookmarks live in a Python list on the Quicklist (C reallocs the struct); the
limit (15) and the update-on-delete rules are Redis's.
Divergence: ``attempted_compress`` is maintained always (C only under REDIS_TEST); tests and
the inspector read it.
"""

from __future__ import annotations

from collections.abc import Iterator

from tracered import listpack as lp_mod
from tracered.listpack import (
    LP_AFTER,
    LP_BEFORE,
    lp_append,
    lp_delete,
    lp_delete_range,
    lp_get,
    lp_iter,
    lp_length,
    lp_merge,
    lp_new,
    lp_next,
    lp_prepend,
    lp_prev,
    lp_replace,
    lp_seek,
)
from tracered.lzf import lzf_compress, lzf_decompress
from tracered.trace.probes import probe

__all__ = [
    "QUICKLIST_HEAD", "QUICKLIST_TAIL", "QUICKLIST_NODE_ENCODING_RAW",
    "QUICKLIST_NODE_ENCODING_LZF", "QUICKLIST_NOCOMPRESS", "QUICKLIST_NODE_CONTAINER_PLAIN",
    "QUICKLIST_NODE_CONTAINER_PACKED", "AL_START_HEAD", "AL_START_TAIL",
    "SIZE_SAFETY_LIMIT", "SIZE_ESTIMATE_OVERHEAD", "MIN_COMPRESS_BYTES", "MIN_COMPRESS_IMPROVE",
    "QuicklistNode", "Quicklist", "QuicklistIter", "QuicklistEntry", "QuicklistBookmark",
    "quicklist_create", "quicklist_new", "quicklist_set_compress_depth", "quicklist_set_fill",
    "quicklist_set_options", "quicklist_count", "quicklist_release", "quicklist_create_node",
    "quicklist_is_set_packed_threshold", "quicklist_get_lzf", "quicklist_push_head",
    "quicklist_push_tail", "quicklist_push", "quicklist_append_listpack",
    "quicklist_append_plain_node", "quicklist_del_index", "quicklist_del_entry",
    "quicklist_replace_entry", "quicklist_replace_at_index", "quicklist_insert_before",
    "quicklist_insert_after", "quicklist_del_range", "quicklist_compare",
    "quicklist_get_iterator", "quicklist_get_iterator_at_idx", "quicklist_release_iterator",
    "quicklist_next", "quicklist_set_direction", "quicklist_dup",
    "quicklist_get_iterator_entry_at_idx", "quicklist_rotate", "quicklist_pop",
    "quicklist_repr", "quicklist_bookmark_create", "quicklist_bookmark_find",
    "quicklist_bookmark_delete", "quicklist_bookmarks_clear", "quicklist_iter_values",
    "quicklist_node_is_compressed", "quicklist_node_values",
]

# ----------------------------------------------------------------------------------------------
# Constants
# ----------------------------------------------------------------------------------------------

QUICKLIST_HEAD = 0
QUICKLIST_TAIL = -1

QUICKLIST_NODE_ENCODING_RAW = 1
QUICKLIST_NODE_ENCODING_LZF = 2

QUICKLIST_NOCOMPRESS = 0

QUICKLIST_NODE_CONTAINER_PLAIN = 1
QUICKLIST_NODE_CONTAINER_PACKED = 2

AL_START_HEAD = 0
AL_START_TAIL = 1

# Node byte limits for fill -1..-5.  64 KiB is the largest, so even 1-byte entries cannot
# overflow the 16-bit per-node count Redis packs into its node struct.
optimization_level = (4096, 8192, 16384, 32768, 65536)

# A positive fill counts elements, but a node never passes this many listpack bytes.
SIZE_SAFETY_LIMIT = 8192
# Over-estimate of one element's listpack overhead (encoding + backlen) used by the checks.
SIZE_ESTIMATE_OVERHEAD = 8
# Nodes smaller than this are not worth compressing.
MIN_COMPRESS_BYTES = 48
# Compression is kept only if it saves more than this many bytes.
MIN_COMPRESS_IMPROVE = 8

QL_FILL_BITS = 16
QL_COMP_BITS = 16
QL_BM_BITS = 4
FILL_MAX = (1 << (QL_FILL_BITS - 1)) - 1
COMPRESS_MAX = (1 << QL_COMP_BITS) - 1
QL_MAX_BM = (1 << QL_BM_BITS) - 1

# Elements of at least this many bytes get a PLAIN node of their own (1 GiB by default;
# DEBUG QUICKLIST-PACKED-THRESHOLD changes it, mostly so tests can exercise plain nodes).
packed_threshold = 1 << 30


def quicklist_is_set_packed_threshold(sz: int) -> bool:
    """Set the plain-node threshold; 0 restores 1 GiB, near 4 GiB is refused (returns False)."""
    global packed_threshold
    if sz > (1 << 32) - (1 << 20):
        return False
    if sz == 0:
        sz = 1 << 30
    packed_threshold = sz
    return True


# ----------------------------------------------------------------------------------------------
# Structures
# ----------------------------------------------------------------------------------------------


class QuicklistNode:
    """One node: a listpack of elements, or one large element (PLAIN), maybe LZF-compressed."""

    __slots__ = ("prev", "next", "entry", "sz", "count", "encoding", "container",
                 "recompress", "attempted_compress", "dont_compress")

    def __init__(self) -> None:
        self.prev: QuicklistNode | None = None
        self.next: QuicklistNode | None = None
        self.entry: bytearray | bytes | None = None
        self.sz = 0                 # uncompressed bytes of entry
        self.count = 0              # elements in this node
        self.encoding = QUICKLIST_NODE_ENCODING_RAW
        self.container = QUICKLIST_NODE_CONTAINER_PACKED
        self.recompress = 0         # decompressed temporarily; compress again when done
        self.attempted_compress = 0
        self.dont_compress = 0      # set while an operation still needs the node raw

    def __repr__(self) -> str:
        kind = "PLAIN" if self.container == QUICKLIST_NODE_CONTAINER_PLAIN else "PACKED"
        enc = "LZF" if self.encoding == QUICKLIST_NODE_ENCODING_LZF else "RAW"
        return f"<QuicklistNode {kind} {enc} count={self.count} sz={self.sz}>"


class QuicklistBookmark:
    __slots__ = ("node", "name")

    def __init__(self, node: QuicklistNode | None, name: str) -> None:
        self.node = node
        self.name = name


class Quicklist:
    """The list header: ends, total element ``count``, node count ``len``, fill and depth."""

    __slots__ = ("head", "tail", "count", "len", "fill", "compress", "bookmarks")

    def __init__(self) -> None:
        self.head: QuicklistNode | None = None
        self.tail: QuicklistNode | None = None
        self.count = 0      # elements across all nodes
        self.len = 0        # nodes
        self.fill = -2
        self.compress = 0   # nodes kept raw at each end; 0 = compression off
        self.bookmarks: list[QuicklistBookmark] = []

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[bytes | int]:
        return quicklist_iter_values(self)

    def nodes(self) -> Iterator[QuicklistNode]:
        """Nodes from head to tail (for inspectors and tests)."""
        node = self.head
        while node is not None:
            yield node
            node = node.next

    def __repr__(self) -> str:
        return (f"<Quicklist count={self.count} len={self.len} fill={self.fill} "
                f"compress={self.compress}>")


class QuicklistIter:
    """Cursor over a quicklist: node, offset inside it, and the listpack position ``zi``."""

    __slots__ = ("quicklist", "current", "zi", "offset", "direction")

    def __init__(self, quicklist: Quicklist, direction: int) -> None:
        self.quicklist = quicklist
        self.direction = direction
        if direction == AL_START_HEAD:
            self.current = quicklist.head
            self.offset = 0
        else:
            self.current = quicklist.tail
            self.offset = -1
        self.zi: int | None = None


class QuicklistEntry:
    """What quicklist_next() fills: where the element is and its value."""

    __slots__ = ("quicklist", "node", "zi", "value", "sz", "offset")

    def __init__(self) -> None:
        self.quicklist: Quicklist | None = None
        self.node: QuicklistNode | None = None
        self.zi: int | None = None
        self.value: bytes | int | None = None
        self.sz = 0
        self.offset = 123456789


def _init_entry(e: QuicklistEntry) -> None:
    e.zi = None
    e.value = None
    e.quicklist = None
    e.node = None
    e.offset = 123456789
    e.sz = 0


def _reset_iterator(it: QuicklistIter) -> None:
    """Forbid further use of an iterator after an insert or replace changed the list."""
    it.current = None
    it.zi = None


# ----------------------------------------------------------------------------------------------
# Creation and options
# ----------------------------------------------------------------------------------------------


def quicklist_create() -> Quicklist:
    """An empty quicklist with Redis's defaults: fill -2 (8 KiB nodes), no compression."""
    return Quicklist()


def quicklist_set_compress_depth(quicklist: Quicklist, compress: int) -> None:
    """Clamp to 0..65535 and store (quicklistSetCompressDepth)."""
    if compress > COMPRESS_MAX:
        compress = COMPRESS_MAX
    elif compress < 0:
        compress = 0
    quicklist.compress = compress


def quicklist_set_fill(quicklist: Quicklist, fill: int) -> None:
    """Clamp to -5..32767 and store (quicklistSetFill)."""
    if fill > FILL_MAX:
        fill = FILL_MAX
    elif fill < -5:
        fill = -5
    quicklist.fill = fill


def quicklist_set_options(quicklist: Quicklist, fill: int, depth: int) -> None:
    quicklist_set_fill(quicklist, fill)
    quicklist_set_compress_depth(quicklist, depth)


def quicklist_new(fill: int, compress: int) -> Quicklist:
    """A quicklist with the given ``list-max-listpack-size`` and ``list-compress-depth``."""
    ql = Quicklist()
    quicklist_set_options(ql, fill, compress)
    return ql


def quicklist_create_node() -> QuicklistNode:
    return QuicklistNode()


def quicklist_count(ql: Quicklist) -> int:
    return ql.count


def quicklist_release(quicklist: Quicklist) -> None:
    """Unlink every node (quicklistRelease); the object is empty afterwards."""
    current = quicklist.head
    while current is not None:
        nxt = current.next
        current.prev = current.next = None
        current.entry = None
        current = nxt
    quicklist.head = quicklist.tail = None
    quicklist.count = 0
    quicklist.len = 0
    quicklist.bookmarks.clear()


# ----------------------------------------------------------------------------------------------
# Node compression
# ----------------------------------------------------------------------------------------------


def __quicklist_compress_node(node: QuicklistNode) -> bool:
    """LZF-compress an inner node if it is big enough and compression pays off."""
    node.attempted_compress = 1
    if node.dont_compress:
        return False
    # Only inner nodes are ever compressed: the ends are where pushes and pops happen.
    assert node.prev is not None and node.next is not None
    node.recompress = 0
    if node.sz < MIN_COMPRESS_BYTES:
        return False
    compressed = lzf_compress(node.entry, node.sz)
    if compressed is None or len(compressed) + MIN_COMPRESS_IMPROVE >= node.sz:
        return False
    node.entry = compressed
    node.encoding = QUICKLIST_NODE_ENCODING_LZF
    return True


def quicklist_compress_node(node: QuicklistNode | None) -> None:
    """Compress ``node`` if it is raw (the quicklistCompressNode macro)."""
    if node is not None and node.encoding == QUICKLIST_NODE_ENCODING_RAW:
        __quicklist_compress_node(node)


def __quicklist_decompress_node(node: QuicklistNode) -> bool:
    node.attempted_compress = 0
    node.recompress = 0
    data = lzf_decompress(node.entry, node.sz)
    if data is None:
        return False
    node.entry = bytearray(data) if node.container == QUICKLIST_NODE_CONTAINER_PACKED else data
    node.encoding = QUICKLIST_NODE_ENCODING_RAW
    return True


def quicklist_decompress_node(node: QuicklistNode | None) -> None:
    """Decompress ``node`` if it is compressed (the quicklistDecompressNode macro)."""
    if node is not None and node.encoding == QUICKLIST_NODE_ENCODING_LZF:
        __quicklist_decompress_node(node)


def quicklist_decompress_node_for_use(node: QuicklistNode | None) -> None:
    """Decompress and flag ``recompress`` so the node is compressed again after use."""
    if node is not None and node.encoding == QUICKLIST_NODE_ENCODING_LZF:
        __quicklist_decompress_node(node)
        node.recompress = 1


def quicklist_node_is_compressed(node: QuicklistNode) -> bool:
    return node.encoding == QUICKLIST_NODE_ENCODING_LZF


def quicklist_get_lzf(node: QuicklistNode) -> bytes:
    """The compressed bytes of an LZF node (what RDB saves as-is); len() is the LZF size."""
    return node.entry  # type: ignore[return-value]


def __quicklist_compress(quicklist: Quicklist, node: QuicklistNode | None) -> None:
    """Restore the depth rule after a change near ``node``.

    Walks ``compress`` nodes in from both ends, decompressing any that are compressed (they
    may have moved inside the depth), then compresses ``node`` (if it is not within the depth)
    and the first node past the depth on each side.  Lists shorter than twice the depth are
    left alone.
    """
    if quicklist.len == 0:
        return
    assert quicklist.head.recompress == 0 and quicklist.tail.recompress == 0
    depth_limit = quicklist.compress
    if not depth_limit or quicklist.len < depth_limit * 2:
        return
    forward = quicklist.head
    reverse = quicklist.tail
    depth = 0
    in_depth = False
    while depth < depth_limit:
        depth += 1
        quicklist_decompress_node(forward)
        quicklist_decompress_node(reverse)
        if forward is node or reverse is node:
            in_depth = True
        # The two walks met: every node is within depth of an end.
        if forward is reverse or forward.next is reverse:
            return
        forward = forward.next
        reverse = reverse.prev
    if not in_depth:
        quicklist_compress_node(node)
    quicklist_compress_node(forward)
    quicklist_compress_node(reverse)


def quicklist_compress(quicklist: Quicklist, node: QuicklistNode) -> None:
    """The quicklistCompress macro: recompress a borrowed node, else apply the depth rule."""
    if node.recompress:
        quicklist_compress_node(node)
    else:
        __quicklist_compress(quicklist, node)


def quicklist_recompress_only(node: QuicklistNode) -> None:
    """Compress ``node`` again only if it was decompressed for use."""
    if node.recompress:
        quicklist_compress_node(node)


# ----------------------------------------------------------------------------------------------
# Linking nodes
# ----------------------------------------------------------------------------------------------


def __quicklist_insert_node(quicklist: Quicklist, old_node: QuicklistNode | None,
                            new_node: QuicklistNode, after: bool) -> None:
    """Link ``new_node`` after/before ``old_node`` (or as the only node) and recompress."""
    if after:
        new_node.prev = old_node
        if old_node is not None:
            new_node.next = old_node.next
            if old_node.next is not None:
                old_node.next.prev = new_node
            old_node.next = new_node
        if quicklist.tail is old_node:
            quicklist.tail = new_node
    else:
        new_node.next = old_node
        if old_node is not None:
            new_node.prev = old_node.prev
            if old_node.prev is not None:
                old_node.prev.next = new_node
            old_node.prev = new_node
        if quicklist.head is old_node:
            quicklist.head = new_node
    if quicklist.len == 0:
        quicklist.head = quicklist.tail = new_node
    # len first: the compression pass needs the real node count.
    quicklist.len += 1
    if old_node is not None:
        quicklist_compress(quicklist, old_node)
    quicklist_compress(quicklist, new_node)


def _quicklist_insert_node_before(quicklist: Quicklist, old_node: QuicklistNode | None,
                                  new_node: QuicklistNode) -> None:
    __quicklist_insert_node(quicklist, old_node, new_node, False)


def _quicklist_insert_node_after(quicklist: Quicklist, old_node: QuicklistNode | None,
                                 new_node: QuicklistNode) -> None:
    __quicklist_insert_node(quicklist, old_node, new_node, True)


# ----------------------------------------------------------------------------------------------
# Fill rules
# ----------------------------------------------------------------------------------------------


def _quicklist_node_size_meets_optimization_requirement(sz: int, fill: int) -> bool:
    """For a negative fill: does a listpack of ``sz`` bytes fit the size class?"""
    if fill >= 0:
        return False
    offset = -fill - 1
    if offset < len(optimization_level):
        return sz <= optimization_level[offset]
    return False


def _quicklist_node_allow_insert(node: QuicklistNode | None, fill: int, sz: int) -> bool:
    """May an element of ``sz`` bytes be added to ``node`` without breaking the fill rule?"""
    if node is None:
        return False
    if node.container == QUICKLIST_NODE_CONTAINER_PLAIN or sz >= packed_threshold:
        return False
    new_sz = node.sz + sz + SIZE_ESTIMATE_OVERHEAD
    if fill < 0:
        offset = -fill - 1
        if offset < 5 and new_sz <= optimization_level[offset]:
            return True
    # A size-class miss or a count limit: either way the 8 KiB safety cap applies.
    if new_sz > SIZE_SAFETY_LIMIT:
        return False
    return node.count < fill


def _quicklist_node_allow_merge(a: QuicklistNode | None, b: QuicklistNode | None,
                                fill: int) -> bool:
    """Would the listpacks of ``a`` and ``b`` together still satisfy the fill rule?"""
    if a is None or b is None:
        return False
    if (a.container == QUICKLIST_NODE_CONTAINER_PLAIN
            or b.container == QUICKLIST_NODE_CONTAINER_PLAIN):
        return False
    # Two listpacks merged lose one header and terminator; Redis subtracts 11 to estimate.
    merge_sz = a.sz + b.sz - 11
    if _quicklist_node_size_meets_optimization_requirement(merge_sz, fill):
        return True
    if merge_sz > SIZE_SAFETY_LIMIT:
        return False
    return a.count + b.count <= fill


# ----------------------------------------------------------------------------------------------
# Push / append
# ----------------------------------------------------------------------------------------------


def __quicklist_create_plain_node(value: bytes) -> QuicklistNode:
    node = QuicklistNode()
    node.entry = bytes(value)
    node.container = QUICKLIST_NODE_CONTAINER_PLAIN
    node.sz = len(value)
    node.count = 1
    return node


def __quicklist_insert_plain_node(quicklist: Quicklist, old_node: QuicklistNode | None,
                                  value: bytes, after: bool) -> None:
    __quicklist_insert_node(quicklist, old_node, __quicklist_create_plain_node(value), after)
    quicklist.count += 1


def quicklist_push_head(quicklist: Quicklist, value: bytes) -> bool:
    """Add ``value`` at the head; True if a new head node was created (quicklistPushHead)."""
    orig_head = quicklist.head
    sz = len(value)
    if sz >= packed_threshold:
        __quicklist_insert_plain_node(quicklist, quicklist.head, value, False)
        return True
    head = quicklist.head
    if _quicklist_node_allow_insert(head, quicklist.fill, sz):
        entry = head.entry
        lp_prepend(entry, value)
        head.sz = len(entry)
    else:
        node = QuicklistNode()
        entry = node.entry = lp_new()
        lp_prepend(entry, value)
        node.sz = len(entry)
        _quicklist_insert_node_before(quicklist, quicklist.head, node)
    quicklist.count += 1
    quicklist.head.count += 1
    return orig_head is not quicklist.head


def quicklist_push_tail(quicklist: Quicklist, value: bytes) -> bool:
    """Add ``value`` at the tail; True if a new tail node was created (quicklistPushTail)."""
    orig_tail = quicklist.tail
    sz = len(value)
    if sz >= packed_threshold:
        __quicklist_insert_plain_node(quicklist, quicklist.tail, value, True)
        return True
    tail = quicklist.tail
    if _quicklist_node_allow_insert(tail, quicklist.fill, sz):
        entry = tail.entry
        lp_append(entry, value)
        tail.sz = len(entry)
    else:
        node = QuicklistNode()
        entry = node.entry = lp_new()
        lp_append(entry, value)
        node.sz = len(entry)
        _quicklist_insert_node_after(quicklist, quicklist.tail, node)
    quicklist.count += 1
    quicklist.tail.count += 1
    return orig_tail is not quicklist.tail


def quicklist_push(quicklist: Quicklist, value: bytes, where: int) -> None:
    """Push at QUICKLIST_HEAD or QUICKLIST_TAIL."""
    # The ends are never compressed: pushes and pops rely on it.
    assert quicklist.head is None or quicklist.head.encoding != QUICKLIST_NODE_ENCODING_LZF
    assert quicklist.tail is None or quicklist.tail.encoding != QUICKLIST_NODE_ENCODING_LZF
    if where == QUICKLIST_HEAD:
        quicklist_push_head(quicklist, value)
    elif where == QUICKLIST_TAIL:
        quicklist_push_tail(quicklist, value)


def quicklist_append_listpack(quicklist: Quicklist, zl: bytearray) -> None:
    """Append a ready-made listpack as a new tail node (RDB loading)."""
    node = QuicklistNode()
    node.entry = zl
    node.count = lp_length(zl)
    node.sz = len(zl)
    _quicklist_insert_node_after(quicklist, quicklist.tail, node)
    quicklist.count += node.count


def quicklist_append_plain_node(quicklist: Quicklist, data: bytes) -> None:
    """Append one large element as a PLAIN tail node (RDB loading)."""
    node = QuicklistNode()
    node.entry = bytes(data)
    node.count = 1
    node.sz = len(data)
    node.container = QUICKLIST_NODE_CONTAINER_PLAIN
    _quicklist_insert_node_after(quicklist, quicklist.tail, node)
    quicklist.count += node.count


# ----------------------------------------------------------------------------------------------
# Deleting
# ----------------------------------------------------------------------------------------------


def __quicklist_del_node(quicklist: Quicklist, node: QuicklistNode) -> None:
    """Unlink ``node``, move a bookmark on it to the next node, restore compression depth."""
    if quicklist.bookmarks:
        bm = _quicklist_bookmark_find_by_node(quicklist, node)
        if bm is not None:
            bm.node = node.next
            if bm.node is None:
                _quicklist_bookmark_delete(quicklist, bm)
    if node.next is not None:
        node.next.prev = node.prev
    if node.prev is not None:
        node.prev.next = node.next
    if node is quicklist.tail:
        quicklist.tail = node.prev
    if node is quicklist.head:
        quicklist.head = node.next
    quicklist.len -= 1
    quicklist.count -= node.count
    # Deleting a node near an end may pull a compressed node inside the depth.
    __quicklist_compress(quicklist, None)
    node.entry = None


def quicklist_del_index(quicklist: Quicklist, node: QuicklistNode,
                        p: int | None) -> tuple[bool, int | None]:
    """Delete the element at listpack offset ``p`` of a raw ``node`` (quicklistDelIndex).

    Returns (node_deleted, next offset in the same listpack or None).
    """
    if node.container == QUICKLIST_NODE_CONTAINER_PLAIN:
        __quicklist_del_node(quicklist, node)
        return True, None
    entry = node.entry
    p = lp_delete(entry, p)
    node.count -= 1
    gone = False
    if node.count == 0:
        gone = True
        __quicklist_del_node(quicklist, node)
    else:
        node.sz = len(entry)
    quicklist.count -= 1
    return gone, p


def quicklist_del_entry(it: QuicklistIter, entry: QuicklistEntry) -> None:
    """Delete the element ``entry`` points at, keeping ``it`` usable (quicklistDelEntry).

    The next quicklist_next() call returns the element that followed in the iterator's
    direction, which is what makes delete-while-iterating (LREM) work.
    """
    prev = entry.node.prev
    nxt = entry.node.next
    deleted_node, entry.zi = quicklist_del_index(entry.quicklist, entry.node, entry.zi)
    it.zi = None
    if deleted_node:
        if it.direction == AL_START_HEAD:
            it.current = nxt
            it.offset = 0
        elif it.direction == AL_START_TAIL:
            it.current = prev
            it.offset = -1
    # Otherwise the offset already names the next element: in [a, b, c] deleting offset 1
    # leaves c at offset 1, and going backwards offset -k still counts from the tail.


def quicklist_replace_entry(it: QuicklistIter, entry: QuicklistEntry, data: bytes) -> None:
    """Replace the element ``entry`` points at with ``data`` (quicklistReplaceEntry).

    A value that no longer fits its node's kind (large into a packed node, small into a
    plain one) is inserted after the old one, which is then deleted.  ``it`` is reset.
    """
    quicklist = it.quicklist
    node = entry.node
    sz = len(data)
    large = sz >= packed_threshold
    if node.container != QUICKLIST_NODE_CONTAINER_PLAIN and not large:
        entry.zi = lp_replace(node.entry, entry.zi, data)
        node.sz = len(node.entry)
        quicklist_compress(quicklist, node)
    elif node.container == QUICKLIST_NODE_CONTAINER_PLAIN:
        if large:
            node.entry = bytes(data)
            node.sz = sz
            quicklist_compress(quicklist, node)
        else:
            quicklist_insert_after(it, entry, data)
            __quicklist_del_node(quicklist, node)
    else:
        node.dont_compress = 1  # keep it raw through the insert below
        quicklist_insert_after(it, entry, data)
        if node.count == 1:
            __quicklist_del_node(quicklist, node)
        else:
            p = lp_seek(node.entry, -1)
            quicklist_del_index(quicklist, node, p)
            node.dont_compress = 0
            quicklist_compress(quicklist, node)
            quicklist_compress(quicklist, node.next)
    _reset_iterator(it)


def quicklist_replace_at_index(quicklist: Quicklist, index: int, data: bytes) -> bool:
    """LSET: replace the element at ``index``; False if out of range."""
    entry = QuicklistEntry()
    it = quicklist_get_iterator_entry_at_idx(quicklist, index, entry)
    if it is None:
        return False
    quicklist_replace_entry(it, entry, data)
    quicklist_release_iterator(it)
    return True


# ----------------------------------------------------------------------------------------------
# Merge and split
# ----------------------------------------------------------------------------------------------


def _quicklist_listpack_merge(quicklist: Quicklist, a: QuicklistNode,
                              b: QuicklistNode) -> QuicklistNode | None:
    """Merge the listpacks of adjacent nodes ``a`` (left) and ``b``; returns the kept node."""
    quicklist_decompress_node(a)
    quicklist_decompress_node(b)
    merged = lp_merge(a.entry, b.entry)
    if merged is None:
        return None
    # lp_merge grows the larger listpack; the node that owned it survives.
    if merged is a.entry:
        keep, nokeep = a, b
    else:
        keep, nokeep = b, a
    keep.entry = merged
    keep.count = lp_length(merged)
    keep.sz = len(merged)
    nokeep.count = 0
    __quicklist_del_node(quicklist, nokeep)
    quicklist_compress(quicklist, keep)
    return keep


@probe("_quicklistMergeNodes")
def _quicklist_merge_nodes(quicklist: Quicklist, center: QuicklistNode) -> None:
    """After a split, try to merge neighbours around ``center`` (in Redis's order).

    Pairs tried: (prev.prev, prev), (next, next.next), (prev, center), (center, next), each
    only if the merged node would still satisfy the fill rule.
    """
    fill = quicklist.fill
    prev = prev_prev = nxt = next_next = None
    if center.prev is not None:
        prev = center.prev
        if center.prev.prev is not None:
            prev_prev = center.prev.prev
    if center.next is not None:
        nxt = center.next
        if center.next.next is not None:
            next_next = center.next.next
    if _quicklist_node_allow_merge(prev, prev_prev, fill):
        _quicklist_listpack_merge(quicklist, prev_prev, prev)
        prev_prev = prev = None
    if _quicklist_node_allow_merge(nxt, next_next, fill):
        _quicklist_listpack_merge(quicklist, nxt, next_next)
        nxt = next_next = None
    if _quicklist_node_allow_merge(center, center.prev, fill):
        target = _quicklist_listpack_merge(quicklist, center.prev, center)
        center = None
    else:
        target = center
    if _quicklist_node_allow_merge(target, target.next, fill):
        _quicklist_listpack_merge(quicklist, target, target.next)


@probe("_quicklistSplitNode")
def _quicklist_split_node(node: QuicklistNode, offset: int, after: bool) -> QuicklistNode:
    """Split ``node`` at ``offset``; returns the new node (not yet linked).

    after=True:  ``node`` keeps [0, offset], the new node gets [offset+1, end].
    after=False: the new node gets [0, offset-1], ``node`` keeps [offset, end].
    """
    new_node = QuicklistNode()
    new_node.entry = bytearray(node.entry)
    if offset < 0:
        offset = node.count + offset
    # -1 as an extent means "to the end of the listpack".
    orig_start = offset + 1 if after else 0
    orig_extent = -1 if after else offset
    new_start = 0 if after else offset
    new_extent = offset + 1 if after else -1
    # lp_delete_range treats num as unsigned in C, so -1 deletes everything to the end.
    lp_delete_range(node.entry, orig_start, orig_extent if orig_extent >= 0 else 1 << 64)
    node.count = lp_length(node.entry)
    node.sz = len(node.entry)
    lp_delete_range(new_node.entry, new_start, new_extent if new_extent >= 0 else 1 << 64)
    new_node.count = lp_length(new_node.entry)
    new_node.sz = len(new_node.entry)
    return new_node


# ----------------------------------------------------------------------------------------------
# Insert in the middle
# ----------------------------------------------------------------------------------------------


def _quicklist_insert(it: QuicklistIter, entry: QuicklistEntry, value: bytes,
                      after: bool) -> None:
    """Insert ``value`` before/after ``entry`` (LINSERT), choosing among Redis's cases:

    room in the node -> insert in place; node full but at its edge with room next door ->
    insert into the neighbour; no room next door -> new node; full in the middle -> split
    the node, put the value in the new half, then try merging around it.
    """
    quicklist = it.quicklist
    fill = quicklist.fill
    node = entry.node
    sz = len(value)
    full = at_tail = at_head = avail_next = avail_prev = False

    if node is None:
        # No reference node: the list is empty, create its only node.
        if sz >= packed_threshold:
            __quicklist_insert_plain_node(quicklist, quicklist.tail, value, after)
            return
        new_node = QuicklistNode()
        new_node.entry = lp_new()
        lp_prepend(new_node.entry, value)
        new_node.sz = len(new_node.entry)
        __quicklist_insert_node(quicklist, None, new_node, after)
        new_node.count += 1
        quicklist.count += 1
        return

    if not _quicklist_node_allow_insert(node, fill, sz):
        full = True
    if after and (entry.offset == node.count - 1 or entry.offset == -1):
        at_tail = True
        if _quicklist_node_allow_insert(node.next, fill, sz):
            avail_next = True
    if not after and (entry.offset == 0 or entry.offset == -node.count):
        at_head = True
        if _quicklist_node_allow_insert(node.prev, fill, sz):
            avail_prev = True

    if sz >= packed_threshold:
        if (node.container == QUICKLIST_NODE_CONTAINER_PLAIN or (at_tail and after)
                or (at_head and not after)):
            __quicklist_insert_plain_node(quicklist, node, value, after)
        else:
            quicklist_decompress_node_for_use(node)
            new_node = _quicklist_split_node(node, entry.offset, after)
            entry_node = __quicklist_create_plain_node(value)
            __quicklist_insert_node(quicklist, node, entry_node, after)
            __quicklist_insert_node(quicklist, entry_node, new_node, after)
            quicklist.count += 1
        return

    if not full:
        quicklist_decompress_node_for_use(node)
        lp_mod.lp_insert(node.entry, value, entry.zi, LP_AFTER if after else LP_BEFORE)
        node.count += 1
        node.sz = len(node.entry)
        quicklist_recompress_only(node)
    elif at_tail and avail_next and after:
        # Full, but the element goes at our tail and the next node has room: its head.
        new_node = node.next
        quicklist_decompress_node_for_use(new_node)
        lp_prepend(new_node.entry, value)
        new_node.count += 1
        new_node.sz = len(new_node.entry)
        quicklist_recompress_only(new_node)
        quicklist_recompress_only(node)
    elif at_head and avail_prev and not after:
        # Full, but the element goes at our head and the previous node has room: its tail.
        new_node = node.prev
        quicklist_decompress_node_for_use(new_node)
        lp_append(new_node.entry, value)
        new_node.count += 1
        new_node.sz = len(new_node.entry)
        quicklist_recompress_only(new_node)
        quicklist_recompress_only(node)
    elif (at_tail and not avail_next and after) or (at_head and not avail_prev and not after):
        # Full at an edge and the neighbour is full too: a new node in between.
        new_node = QuicklistNode()
        new_node.entry = lp_new()
        lp_prepend(new_node.entry, value)
        new_node.count += 1
        new_node.sz = len(new_node.entry)
        __quicklist_insert_node(quicklist, node, new_node, after)
    else:
        # Full and in the middle: split, add to the new half, then re-merge neighbours.
        quicklist_decompress_node_for_use(node)
        new_node = _quicklist_split_node(node, entry.offset, after)
        if after:
            lp_prepend(new_node.entry, value)
        else:
            lp_append(new_node.entry, value)
        new_node.count += 1
        new_node.sz = len(new_node.entry)
        __quicklist_insert_node(quicklist, node, new_node, after)
        _quicklist_merge_nodes(quicklist, node)

    quicklist.count += 1
    _reset_iterator(it)


def quicklist_insert_before(it: QuicklistIter, entry: QuicklistEntry, value: bytes) -> None:
    _quicklist_insert(it, entry, value, False)


def quicklist_insert_after(it: QuicklistIter, entry: QuicklistEntry, value: bytes) -> None:
    _quicklist_insert(it, entry, value, True)


def quicklist_del_range(quicklist: Quicklist, start: int, count: int) -> bool:
    """Delete ``count`` elements from index ``start`` (negative from the tail), clipped to the
    list; False if nothing was deleted (quicklistDelRange, used by LTRIM)."""
    if count <= 0:
        return False
    extent = count
    if start >= 0 and extent > quicklist.count - start:
        extent = quicklist.count - start
    elif start < 0 and extent > -start:
        extent = -start
    it = quicklist_get_iterator_at_idx(quicklist, AL_START_TAIL, start)
    if it is None:
        return False
    node = it.current
    offset = it.offset
    quicklist_release_iterator(it)
    while extent:
        nxt = node.next
        delete_entire_node = False
        if offset == 0 and extent >= node.count:
            delete_entire_node = True
            delete = node.count
        elif offset >= 0 and extent + offset >= node.count:
            delete = node.count - offset
        elif offset < 0:
            # Only on the first node with a negative start: -offset elements remain to the
            # end of this node.
            delete = -offset
            if delete > extent:
                delete = extent
        else:
            delete = extent
        if delete_entire_node or node.container == QUICKLIST_NODE_CONTAINER_PLAIN:
            __quicklist_del_node(quicklist, node)
        else:
            quicklist_decompress_node_for_use(node)
            lp_delete_range(node.entry, offset, delete)
            node.sz = len(node.entry)
            node.count -= delete
            quicklist.count -= delete
            if node.count == 0:
                __quicklist_del_node(quicklist, node)
            else:
                quicklist_recompress_only(node)
        extent -= delete
        node = nxt
        offset = 0
    return True


def quicklist_compare(entry: QuicklistEntry, p2: bytes) -> bool:
    """Does the element ``entry`` points at equal ``p2`` (integers compared numerically)?"""
    if entry.node.container == QUICKLIST_NODE_CONTAINER_PLAIN:
        return entry.value == p2
    return lp_mod.lp_compare(entry.node.entry, entry.zi, p2)


# ----------------------------------------------------------------------------------------------
# Iterators
# ----------------------------------------------------------------------------------------------


def quicklist_get_iterator(quicklist: Quicklist, direction: int) -> QuicklistIter:
    """An iterator from the head (AL_START_HEAD) or the tail (AL_START_TAIL)."""
    return QuicklistIter(quicklist, direction)


def quicklist_get_iterator_at_idx(quicklist: Quicklist, direction: int,
                                  idx: int) -> QuicklistIter | None:
    """An iterator positioned on element ``idx`` (negative from the tail), or None.

    Walks node counts from whichever end is nearer; the offset is stored positive when
    ``idx`` >= 0 and negative (from the node's tail) otherwise.
    """
    forward = idx >= 0
    index = idx if forward else -idx - 1
    count = quicklist.count
    if index >= count:
        return None
    seek_forward = forward
    seek_index = index
    if index > (count - 1) // 2:
        seek_forward = not forward
        seek_index = count - 1 - index
    n = quicklist.head if seek_forward else quicklist.tail
    accum = 0
    while n is not None:
        if accum + n.count > seek_index:
            break
        accum += n.count
        n = n.next if seek_forward else n.prev
    if n is None:
        return None
    if seek_forward != forward:
        accum = count - n.count - accum
    it = QuicklistIter(quicklist, direction)
    it.current = n
    if forward:
        it.offset = index - accum
    else:
        it.offset = -index - 1 + accum
    return it


def quicklist_release_iterator(it: QuicklistIter | None) -> None:
    """Done iterating: recompress the node the iterator was on."""
    if it is None:
        return
    if it.current is not None:
        quicklist_compress(it.quicklist, it.current)


def quicklist_next(it: QuicklistIter, entry: QuicklistEntry) -> bool:
    """Advance ``it`` and fill ``entry``; False when the iteration is over (quicklistNext).

    Do not insert while iterating (re-create the iterator); quicklist_del_entry() is allowed.
    """
    _init_entry(entry)
    if it is None:
        return False
    entry.quicklist = it.quicklist
    while True:
        current = entry.node = it.current
        if current is None:
            return False
        plain = current.container == QUICKLIST_NODE_CONTAINER_PLAIN
        if it.zi is None:
            quicklist_decompress_node_for_use(current)
            if plain:
                it.zi = 0
            else:
                it.zi = lp_seek(current.entry, it.offset)
        elif plain:
            it.zi = None
        elif it.direction == AL_START_HEAD:
            it.zi = lp_next(current.entry, it.zi)
            it.offset += 1
        else:
            it.zi = lp_prev(current.entry, it.zi)
            it.offset -= 1
        entry.zi = it.zi
        entry.offset = it.offset
        if it.zi is not None:
            if plain:
                entry.value = current.entry
                entry.sz = current.sz
                return True
            v = lp_get(current.entry, it.zi)
            entry.value = v
            entry.sz = 0 if v.__class__ is int else len(v)
            return True
        # This node is exhausted: recompress it and move on.
        quicklist_compress(it.quicklist, current)
        if it.direction == AL_START_HEAD:
            it.current = current.next
            it.offset = 0
        else:
            it.current = current.prev
            it.offset = -1
        it.zi = None
        _init_entry(entry)
        entry.quicklist = it.quicklist


def quicklist_set_direction(it: QuicklistIter, direction: int) -> None:
    it.direction = direction


def quicklist_get_iterator_entry_at_idx(quicklist: Quicklist, idx: int,
                                        entry: QuicklistEntry) -> QuicklistIter | None:
    """Iterator on element ``idx`` with ``entry`` filled (LINDEX, LSET), or None."""
    it = quicklist_get_iterator_at_idx(quicklist, AL_START_TAIL, idx)
    if it is None:
        return None
    found = quicklist_next(it, entry)
    assert found
    return it


def quicklist_iter_values(quicklist: Quicklist, direction: int = AL_START_HEAD,
                          idx: int = 0) -> Iterator[bytes | int]:
    """Yield values from element ``idx`` towards the tail (AL_START_HEAD) or head.

    No Redis counterpart: a read-only fast path for LRANGE-style walks.  Compressed nodes are
    decompressed into a temporary copy, so node encodings are left as they were.  The list
    must not change while the generator is alive.
    """
    count = quicklist.count
    if idx < 0:
        idx += count
    if idx < 0 or idx >= count:
        return
    if direction == AL_START_HEAD:
        node = quicklist.head
        while node is not None and idx >= node.count:
            idx -= node.count
            node = node.next
        while node is not None:
            if node.container == QUICKLIST_NODE_CONTAINER_PLAIN:
                data = node.entry if node.encoding == QUICKLIST_NODE_ENCODING_RAW else \
                    lzf_decompress(node.entry, node.sz)
                yield data
            else:
                values = quicklist_node_values(node)
                if idx:
                    values = values[idx:]
                yield from values
            idx = 0
            node = node.next
    else:
        rev = count - 1 - idx  # elements to skip from the tail
        node = quicklist.tail
        while node is not None and rev >= node.count:
            rev -= node.count
            node = node.prev
        while node is not None:
            if node.container == QUICKLIST_NODE_CONTAINER_PLAIN:
                data = node.entry if node.encoding == QUICKLIST_NODE_ENCODING_RAW else \
                    lzf_decompress(node.entry, node.sz)
                yield data
            else:
                values = quicklist_node_values(node)
                values.reverse()
                if rev:
                    values = values[rev:]
                yield from values
            rev = 0
            node = node.prev


def quicklist_node_values(node: QuicklistNode) -> list[bytes | int]:
    """All values of a node as a list, decompressing a copy if needed (node left unchanged)."""
    if node.container == QUICKLIST_NODE_CONTAINER_PLAIN:
        if node.encoding == QUICKLIST_NODE_ENCODING_LZF:
            return [lzf_decompress(node.entry, node.sz)]
        return [node.entry]
    entry = node.entry
    if node.encoding == QUICKLIST_NODE_ENCODING_LZF:
        entry = bytearray(lzf_decompress(entry, node.sz))
    return list(lp_iter(entry))


# ----------------------------------------------------------------------------------------------
# Whole-list operations
# ----------------------------------------------------------------------------------------------


def quicklist_dup(orig: Quicklist) -> Quicklist:
    """Deep copy, keeping each node's encoding (compressed nodes are copied compressed)."""
    copy = quicklist_new(orig.fill, orig.compress)
    current = orig.head
    while current is not None:
        node = QuicklistNode()
        if (current.encoding == QUICKLIST_NODE_ENCODING_RAW
                and current.container == QUICKLIST_NODE_CONTAINER_PACKED):
            node.entry = bytearray(current.entry)
        else:
            node.entry = current.entry  # immutable bytes: sharing is a copy
        node.count = current.count
        copy.count += node.count
        node.sz = current.sz
        node.encoding = current.encoding
        node.container = current.container
        _quicklist_insert_node_after(copy, copy.tail, node)
        current = current.next
    return copy


def _quicklist_rotate_plain(quicklist: Quicklist) -> None:
    new_head = quicklist.tail
    new_tail = quicklist.tail.prev
    quicklist.head.prev = new_head
    new_tail.next = None
    new_head.next = quicklist.head
    new_head.prev = None
    quicklist.head = new_head
    quicklist.tail = new_tail


def quicklist_rotate(quicklist: Quicklist) -> None:
    """Move the tail element to the head (RPOPLPUSH / LMOVE on the same list)."""
    if quicklist.count <= 1:
        return
    if quicklist.tail.container == QUICKLIST_NODE_CONTAINER_PLAIN:
        _quicklist_rotate_plain(quicklist)
        return
    p = lp_seek(quicklist.tail.entry, -1)
    value = lp_get(quicklist.tail.entry, p)
    if value.__class__ is int:
        value = b"%d" % value
    quicklist_push_head(quicklist, value)
    # With a single node, pushing at its head shifted the tail element's offset.
    if quicklist.len == 1:
        p = lp_seek(quicklist.tail.entry, -1)
    quicklist_del_index(quicklist, quicklist.tail, p)


def quicklist_pop(quicklist: Quicklist, where: int) -> bytes | int | None:
    """Remove and return the head (QUICKLIST_HEAD) or tail element; None if empty.

    Integer-encoded elements come back as ``int`` (quicklistPopCustom's ``sval``).
    """
    if quicklist.count == 0:
        return None
    if where == QUICKLIST_HEAD and quicklist.head is not None:
        node = quicklist.head
    elif where == QUICKLIST_TAIL and quicklist.tail is not None:
        node = quicklist.tail
    else:
        return None
    assert node.encoding != QUICKLIST_NODE_ENCODING_LZF
    if node.container == QUICKLIST_NODE_CONTAINER_PLAIN:
        value = node.entry
        quicklist_del_index(quicklist, node, None)
        return value
    p = lp_seek(node.entry, 0 if where == QUICKLIST_HEAD else -1)
    value = lp_get(node.entry, p)
    quicklist_del_index(quicklist, node, p)
    return value


def quicklist_repr(quicklist: Quicklist, full: bool = False) -> str:
    """Text dump of the list and its nodes (DEBUG LISTPACK / quicklistRepr)."""
    out = [f"{{count : {quicklist.count}}}", f"{{len : {quicklist.len}}}",
           f"{{fill : {quicklist.fill}}}", f"{{compress : {quicklist.compress}}}",
           f"{{bookmark_count : {len(quicklist.bookmarks)}}}"]
    node = quicklist.head
    i = 0
    while node is not None:
        out.append(f"{{quicklist node({i})")
        i += 1
        kind = "PLAIN" if node.container == QUICKLIST_NODE_CONTAINER_PLAIN else "PACKED"
        enc = "RAW" if node.encoding == QUICKLIST_NODE_ENCODING_RAW else "LZF"
        out.append(f"{{container : {kind}, encoding: {enc}, size: {node.sz}, "
                   f"count: {node.count}, recompress: {node.recompress}, "
                   f"attempted_compress: {node.attempted_compress}}}")
        if full:
            if node.container == QUICKLIST_NODE_CONTAINER_PACKED:
                entry = node.entry
                if node.encoding == QUICKLIST_NODE_ENCODING_LZF:
                    entry = bytearray(lzf_decompress(entry, node.sz))
                out.append("{ listpack:")
                out.append(lp_mod.lp_repr(entry))
                out.append("}")
            else:
                data = node.entry if node.encoding == QUICKLIST_NODE_ENCODING_RAW else \
                    lzf_decompress(node.entry, node.sz)
                out.append(f"{{ entry : {data[:40]!r} }}")
            out.append("}")
        node = node.next
    return "\n".join(out) + "\n"


# ----------------------------------------------------------------------------------------------
# Bookmarks (lets a long scan resume at a node even if nodes are deleted meanwhile)
# ----------------------------------------------------------------------------------------------


def quicklist_bookmark_create(quicklist: Quicklist, name: str, node: QuicklistNode) -> bool:
    """Create or move bookmark ``name``; False if the 15-bookmark limit is reached."""
    if len(quicklist.bookmarks) >= QL_MAX_BM:
        return False
    bm = _quicklist_bookmark_find_by_name(quicklist, name)
    if bm is not None:
        bm.node = node
        return True
    quicklist.bookmarks.append(QuicklistBookmark(node, name))
    return True


def quicklist_bookmark_find(quicklist: Quicklist, name: str) -> QuicklistNode | None:
    """The node bookmark ``name`` points at (it follows deletions to the next node)."""
    bm = _quicklist_bookmark_find_by_name(quicklist, name)
    return None if bm is None else bm.node


def quicklist_bookmark_delete(quicklist: Quicklist, name: str) -> bool:
    bm = _quicklist_bookmark_find_by_name(quicklist, name)
    if bm is None:
        return False
    _quicklist_bookmark_delete(quicklist, bm)
    return True


def _quicklist_bookmark_find_by_name(quicklist: Quicklist, name: str) -> QuicklistBookmark | None:
    for bm in quicklist.bookmarks:
        if bm.name == name:
            return bm
    return None


def _quicklist_bookmark_find_by_node(quicklist: Quicklist,
                                     node: QuicklistNode) -> QuicklistBookmark | None:
    for bm in quicklist.bookmarks:
        if bm.node is node:
            return bm
    return None


def _quicklist_bookmark_delete(quicklist: Quicklist, bm: QuicklistBookmark) -> None:
    quicklist.bookmarks.remove(bm)


def quicklist_bookmarks_clear(quicklist: Quicklist) -> None:
    quicklist.bookmarks.clear()
