"""The sorted-set skiplist (mirror of the zskiplist part of Redis 7.0 src/t_zset.c).

A sorted set that outgrows its listpack encoding becomes a skiplist (order, ranks, ranges)
plus a dict (member -> score) kept in step by t_zset.  This module is the skiplist half:

* elements are ordered by score, then by member bytes (memcmp order, shorter first on a
  common prefix: exactly Python's ``bytes`` ordering);
* every node has 1..32 levels; level i links to the next node having at least i+1 levels,
  and ``span`` counts how many level-0 steps that link jumps, which is what makes rank
  queries O(log n): the rank of a node is the sum of spans along the search path;
* ``header`` is a sentinel with all 32 levels, ``tail`` the last node, ``backward`` the
  level-0 back link used for reverse iteration.

Levels are drawn with P = 1/4 per extra level (ZSKIPLIST_P), capped at 32.

Ranks are 1-based here as in Redis (the header has rank 0); t_zset converts.

Divergence: the C header node is allocated with ZSKIPLIST_MAXLEVEL levels; here too, but a
node's levels are small ``ZSkiplistLevel`` objects (``node.level[i].forward`` / ``.span``,
the C struct's field names).
Divergence: zslDelete() hands back the unlinked node through an out-parameter; here
``zsl_delete`` returns the node or None.  The range deletions take a callback in place of the
zset's dict (``dict_delete(ele)`` is called for each removed member) so this module does not
depend on the dict implementation.
Divergence: zslRandomLevel() draws from libc random(); here one 62-bit draw from Python's
``random`` decides the level (each 2-bit group of zeros is one more level, probability 1/4).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator

from tracered.trace.probes import probe

__all__ = [
    "ZSKIPLIST_MAXLEVEL", "ZSKIPLIST_P", "MINSTRING", "MAXSTRING",
    "ZSkiplistLevel", "ZSkiplistNode", "ZSkiplist", "ZRangeSpec", "ZLexRangeSpec",
    "zsl_create_node", "zsl_create", "zsl_free", "zsl_random_level", "zsl_insert",
    "zsl_delete_node", "zsl_delete", "zsl_update_score", "zsl_value_gte_min",
    "zsl_value_lte_max", "zsl_is_in_range", "zsl_first_in_range", "zsl_last_in_range",
    "zsl_delete_range_by_score", "zsl_delete_range_by_lex", "zsl_delete_range_by_rank",
    "zsl_get_rank", "zsl_get_element_by_rank", "zsl_parse_range", "zsl_parse_lex_range_item",
    "zsl_parse_lex_range", "sdscmplex", "zsl_lex_value_gte_min", "zsl_lex_value_lte_max",
    "zsl_is_in_lex_range", "zsl_first_in_lex_range", "zsl_last_in_lex_range", "zsl_iter",
    "strtod",
]

ZSKIPLIST_MAXLEVEL = 32
ZSKIPLIST_P = 0.25


class _LexBound:
    """The '-' and '+' of ZRANGEBYLEX: below and above every member (shared.minstring/max)."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


MINSTRING = _LexBound("MINSTRING")
MAXSTRING = _LexBound("MAXSTRING")


class ZSkiplistLevel:
    """One level of a node: the next node at this level and how many elements it skips."""

    __slots__ = ("forward", "span")

    def __init__(self) -> None:
        self.forward: ZSkiplistNode | None = None
        self.span = 0


class ZSkiplistNode:
    __slots__ = ("ele", "score", "backward", "level")

    def __init__(self, level: int, score: float, ele: bytes | None) -> None:
        self.ele = ele
        self.score = score
        self.backward: ZSkiplistNode | None = None
        self.level = [ZSkiplistLevel() for _ in range(level)]

    def __repr__(self) -> str:
        return f"<ZSkiplistNode {self.ele!r} {self.score!r} levels={len(self.level)}>"


class ZSkiplist:
    __slots__ = ("header", "tail", "length", "level")

    def __init__(self) -> None:
        self.level = 1   # levels in use (highest level of any node)
        self.length = 0
        self.header = ZSkiplistNode(ZSKIPLIST_MAXLEVEL, 0.0, None)
        self.tail: ZSkiplistNode | None = None

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[tuple[bytes, float]]:
        return zsl_iter(self)


class ZRangeSpec:
    """Score interval; ``minex``/``maxex`` make an end exclusive (the '(' prefix)."""

    __slots__ = ("min", "max", "minex", "maxex")

    def __init__(self, min: float, max: float, minex: bool = False,
                 maxex: bool = False) -> None:
        self.min = min
        self.max = max
        self.minex = minex
        self.maxex = maxex

    def __repr__(self) -> str:
        return (f"ZRangeSpec({'(' if self.minex else '['}{self.min}, "
                f"{self.max}{')' if self.maxex else ']'})")


class ZLexRangeSpec:
    """Member interval; ends are bytes or MINSTRING/MAXSTRING ('-' / '+')."""

    __slots__ = ("min", "max", "minex", "maxex")

    def __init__(self, min: bytes | _LexBound, max: bytes | _LexBound, minex: bool = False,
                 maxex: bool = False) -> None:
        self.min = min
        self.max = max
        self.minex = minex
        self.maxex = maxex

    def __repr__(self) -> str:
        return f"ZLexRangeSpec({self.min!r}, {self.max!r}, {self.minex}, {self.maxex})"


# ----------------------------------------------------------------------------------------------
# Create / random level / insert / delete
# ----------------------------------------------------------------------------------------------


def zsl_create_node(level: int, score: float, ele: bytes | None) -> ZSkiplistNode:
    return ZSkiplistNode(level, score, ele)


def zsl_create() -> ZSkiplist:
    """An empty skiplist: level 1, a 32-level header, no tail."""
    return ZSkiplist()


def zsl_free(zsl: ZSkiplist) -> None:
    """Drop every node (zslFree); the skiplist is empty afterwards."""
    for lvl in zsl.header.level:
        lvl.forward = None
        lvl.span = 0
    zsl.tail = None
    zsl.length = 0
    zsl.level = 1


_getrandbits = random.getrandbits


def zsl_random_level() -> int:
    """1..32, with P(level > k) = 0.25**k (zslRandomLevel)."""
    r = _getrandbits(62)
    if not r:
        return ZSKIPLIST_MAXLEVEL
    # Each trailing pair of zero bits (probability 1/4) adds one level.
    level = 1 + (((r & -r).bit_length() - 1) >> 1)
    return level if level < ZSKIPLIST_MAXLEVEL else ZSKIPLIST_MAXLEVEL


@probe("zslInsert")
def zsl_insert(zsl: ZSkiplist, score: float, ele: bytes) -> ZSkiplistNode:
    """Insert a new node; the caller guarantees ``ele`` is not already present.

    Raises ValueError for a NaN score (serverAssert in Redis).
    """
    if score != score:
        raise ValueError("zsl_insert: NaN score")
    update: list[ZSkiplistNode] = [zsl.header] * ZSKIPLIST_MAXLEVEL
    rank = [0] * ZSKIPLIST_MAXLEVEL
    x = zsl.header
    top = zsl.level - 1
    for i in range(top, -1, -1):
        # rank[i]: elements passed before reaching update[i].
        r = 0 if i == top else rank[i + 1]
        lvl = x.level[i]
        f = lvl.forward
        while f is not None and (f.score < score or (f.score == score and f.ele < ele)):
            r += lvl.span
            x = f
            lvl = x.level[i]
            f = lvl.forward
        rank[i] = r
        update[i] = x
    level = zsl_random_level()
    if level > zsl.level:
        header = zsl.header
        for i in range(zsl.level, level):
            rank[i] = 0
            update[i] = header
            header.level[i].span = zsl.length
        zsl.level = level
    x = ZSkiplistNode(level, score, ele)
    rank0 = rank[0]
    for i in range(level):
        ul = update[i].level[i]
        xl = x.level[i]
        xl.forward = ul.forward
        ul.forward = x
        xl.span = ul.span - (rank0 - rank[i])
        ul.span = (rank0 - rank[i]) + 1
    for i in range(level, zsl.level):
        update[i].level[i].span += 1
    x.backward = None if update[0] is zsl.header else update[0]
    f = x.level[0].forward
    if f is not None:
        f.backward = x
    else:
        zsl.tail = x
    zsl.length += 1
    return x


def zsl_delete_node(zsl: ZSkiplist, x: ZSkiplistNode, update: list[ZSkiplistNode]) -> None:
    """Unlink ``x`` given, for each level, the last node before it (``update``)."""
    xlevel = x.level
    for i in range(zsl.level):
        ul = update[i].level[i]
        if ul.forward is x:
            ul.span += xlevel[i].span - 1
            ul.forward = xlevel[i].forward
        else:
            ul.span -= 1
    f = xlevel[0].forward
    if f is not None:
        f.backward = x.backward
    else:
        zsl.tail = x.backward
    header_level = zsl.header.level
    while zsl.level > 1 and header_level[zsl.level - 1].forward is None:
        zsl.level -= 1
    zsl.length -= 1


def _zsl_find_update(zsl: ZSkiplist, score: float, ele: bytes) -> list[ZSkiplistNode]:
    """For each level, the last node ordered strictly before (score, ele)."""
    update: list[ZSkiplistNode] = [zsl.header] * ZSKIPLIST_MAXLEVEL
    x = zsl.header
    for i in range(zsl.level - 1, -1, -1):
        f = x.level[i].forward
        while f is not None and (f.score < score or (f.score == score and f.ele < ele)):
            x = f
            f = x.level[i].forward
        update[i] = x
    return update


def zsl_delete(zsl: ZSkiplist, score: float, ele: bytes) -> ZSkiplistNode | None:
    """Remove the node with exactly this score and member; returns it, or None if absent."""
    update = _zsl_find_update(zsl, score, ele)
    x = update[0].level[0].forward
    if x is not None and x.score == score and x.ele == ele:
        zsl_delete_node(zsl, x, update)
        return x
    return None


def zsl_update_score(zsl: ZSkiplist, curscore: float, ele: bytes,
                     newscore: float) -> ZSkiplistNode:
    """Change the score of an existing member; returns its (possibly new) node.

    If the node would stay in the same place (still between its neighbours) the score is
    updated in place; otherwise it is unlinked and re-inserted.  The member must exist with
    ``curscore`` (asserted).
    """
    update = _zsl_find_update(zsl, curscore, ele)
    x = update[0].level[0].forward
    assert x is not None and x.score == curscore and x.ele == ele
    f = x.level[0].forward
    if ((x.backward is None or x.backward.score < newscore)
            and (f is None or f.score > newscore)):
        x.score = newscore
        return x
    zsl_delete_node(zsl, x, update)
    return zsl_insert(zsl, newscore, x.ele)


# ----------------------------------------------------------------------------------------------
# Score ranges
# ----------------------------------------------------------------------------------------------


def zsl_value_gte_min(value: float, spec: ZRangeSpec) -> bool:
    return value > spec.min if spec.minex else value >= spec.min


def zsl_value_lte_max(value: float, spec: ZRangeSpec) -> bool:
    return value < spec.max if spec.maxex else value <= spec.max


def zsl_is_in_range(zsl: ZSkiplist, spec: ZRangeSpec) -> bool:
    """Could any element fall in ``spec``?  (Empty ranges and disjoint ends say no.)"""
    if spec.min > spec.max or (spec.min == spec.max and (spec.minex or spec.maxex)):
        return False
    x = zsl.tail
    if x is None or not zsl_value_gte_min(x.score, spec):
        return False
    x = zsl.header.level[0].forward
    if x is None or not zsl_value_lte_max(x.score, spec):
        return False
    return True


def zsl_first_in_range(zsl: ZSkiplist, spec: ZRangeSpec) -> ZSkiplistNode | None:
    """Lowest-ranked node with a score inside ``spec``, or None."""
    if not zsl_is_in_range(zsl, spec):
        return None
    x = zsl.header
    minv, minex = spec.min, spec.minex
    for i in range(zsl.level - 1, -1, -1):
        f = x.level[i].forward
        # Advance while still below the range.
        while f is not None and not (f.score > minv if minex else f.score >= minv):
            x = f
            f = x.level[i].forward
    x = x.level[0].forward
    assert x is not None  # zsl_is_in_range said the tail is >= min
    if not zsl_value_lte_max(x.score, spec):
        return None
    return x


def zsl_last_in_range(zsl: ZSkiplist, spec: ZRangeSpec) -> ZSkiplistNode | None:
    """Highest-ranked node with a score inside ``spec``, or None."""
    if not zsl_is_in_range(zsl, spec):
        return None
    x = zsl.header
    maxv, maxex = spec.max, spec.maxex
    for i in range(zsl.level - 1, -1, -1):
        f = x.level[i].forward
        # Advance while still inside (or below) the range.
        while f is not None and (f.score < maxv if maxex else f.score <= maxv):
            x = f
            f = x.level[i].forward
    if not zsl_value_gte_min(x.score, spec):
        return None
    return x


def zsl_delete_range_by_score(zsl: ZSkiplist, spec: ZRangeSpec,
                              dict_delete: Callable[[bytes], object] | None = None) -> int:
    """Remove every node with a score in ``spec``; returns how many.

    ``dict_delete(ele)`` is called for each removed member so the caller can drop it from the
    zset's dict (zslDeleteRangeByScore's ``dict`` argument).
    """
    update: list[ZSkiplistNode] = [zsl.header] * ZSKIPLIST_MAXLEVEL
    x = zsl.header
    for i in range(zsl.level - 1, -1, -1):
        f = x.level[i].forward
        while f is not None and not zsl_value_gte_min(f.score, spec):
            x = f
            f = x.level[i].forward
        update[i] = x
    x = x.level[0].forward
    removed = 0
    while x is not None and zsl_value_lte_max(x.score, spec):
        nxt = x.level[0].forward
        zsl_delete_node(zsl, x, update)
        if dict_delete is not None:
            dict_delete(x.ele)
        removed += 1
        x = nxt
    return removed


def zsl_delete_range_by_rank(zsl: ZSkiplist, start: int, end: int,
                             dict_delete: Callable[[bytes], object] | None = None) -> int:
    """Remove ranks ``start``..``end`` inclusive (1-based); returns how many."""
    update: list[ZSkiplistNode] = [zsl.header] * ZSKIPLIST_MAXLEVEL
    traversed = 0
    x = zsl.header
    for i in range(zsl.level - 1, -1, -1):
        lvl = x.level[i]
        while lvl.forward is not None and traversed + lvl.span < start:
            traversed += lvl.span
            x = lvl.forward
            lvl = x.level[i]
        update[i] = x
    traversed += 1
    x = x.level[0].forward
    removed = 0
    while x is not None and traversed <= end:
        nxt = x.level[0].forward
        zsl_delete_node(zsl, x, update)
        if dict_delete is not None:
            dict_delete(x.ele)
        removed += 1
        traversed += 1
        x = nxt
    return removed


def zsl_get_rank(zsl: ZSkiplist, score: float, ele: bytes) -> int:
    """1-based rank of (score, ele), or 0 if it is not in the skiplist."""
    rank = 0
    x = zsl.header
    for i in range(zsl.level - 1, -1, -1):
        lvl = x.level[i]
        f = lvl.forward
        while f is not None and (f.score < score or (f.score == score and f.ele <= ele)):
            rank += lvl.span
            x = f
            lvl = x.level[i]
            f = lvl.forward
        # x may still be the header, whose ele is None.
        if x.ele is not None and x.score == score and x.ele == ele:
            return rank
    return 0


def zsl_get_element_by_rank(zsl: ZSkiplist, rank: int) -> ZSkiplistNode | None:
    """Node at 1-based ``rank``, or None."""
    traversed = 0
    x = zsl.header
    for i in range(zsl.level - 1, -1, -1):
        lvl = x.level[i]
        while lvl.forward is not None and traversed + lvl.span <= rank:
            traversed += lvl.span
            x = lvl.forward
            lvl = x.level[i]
        if traversed == rank:
            return x
    return None


# ----------------------------------------------------------------------------------------------
# Parsing ranges (ZRANGEBYSCORE min max, ZRANGEBYLEX min max)
# ----------------------------------------------------------------------------------------------

# What C strtod() accepts as a whole string (Redis then demands nothing left over): optional
# leading whitespace, a sign, then a decimal or hex float, "inf"/"infinity" or "nan".
_STRTOD_RE = re.compile(
    rb"[ \t\n\v\f\r]*[+-]?(?:"
    rb"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"
    rb"|0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?"
    rb"|[iI][nN][fF](?:[iI][nN][iI][tT][yY])?"
    rb"|[nN][aA][nN](?:\([0-9A-Za-z_]*\))?"
    rb")")


def strtod(s: bytes) -> float | None:
    """The value of ``s`` if C strtod() consumes all of it (up to a NUL), else None.

    Redis checks ``eptr[0] == '\\0'``, so text after an embedded NUL is ignored, as here.
    """
    nul = s.find(b"\x00")
    if nul >= 0:
        s = s[:nul]
    m = _STRTOD_RE.fullmatch(s)
    if m is None:
        return None
    t = s.strip(b" \t\n\v\f\r")
    body = t.lstrip(b"+-")
    if body[:2] in (b"0x", b"0X"):
        neg = t.startswith(b"-")
        try:
            v = float.fromhex(body.decode())
        except (OverflowError, ValueError):
            v = float("inf")
        return -v if neg else v
    if body[:1] in (b"n", b"N"):
        return float("nan")
    return float(t.decode())


def zsl_parse_range(min: bytes, max: bytes) -> ZRangeSpec | None:
    """Parse ZRANGEBYSCORE-style bounds ("1.5", "(1.5", "-inf", "+inf"); None if invalid.

    NaN is rejected, as in zslParseRange().
    """
    spec = ZRangeSpec(0.0, 0.0)
    if min[:1] == b"(":
        v = strtod(min[1:])
        spec.minex = True
    else:
        v = strtod(min)
    if v is None or v != v:
        return None
    spec.min = v
    if max[:1] == b"(":
        v = strtod(max[1:])
        spec.maxex = True
    else:
        v = strtod(max)
    if v is None or v != v:
        return None
    spec.max = v
    return spec


def zsl_parse_lex_range_item(item: bytes) -> tuple[bytes | _LexBound, bool] | None:
    """One ZRANGEBYLEX bound: "-", "+", "(member" or "[member" -> (value, exclusive)."""
    c = item[:1]
    if c == b"+":
        return (MAXSTRING, True) if len(item) == 1 else None
    if c == b"-":
        return (MINSTRING, True) if len(item) == 1 else None
    if c == b"(":
        return bytes(item[1:]), True
    if c == b"[":
        return bytes(item[1:]), False
    return None


def zsl_parse_lex_range(min: bytes, max: bytes) -> ZLexRangeSpec | None:
    """Parse both ZRANGEBYLEX bounds; None if either is invalid."""
    lo = zsl_parse_lex_range_item(min)
    hi = zsl_parse_lex_range_item(max)
    if lo is None or hi is None:
        return None
    return ZLexRangeSpec(lo[0], hi[0], lo[1], hi[1])


def sdscmplex(a: bytes | _LexBound, b: bytes | _LexBound) -> int:
    """Compare members where MINSTRING/MAXSTRING stand for -inf/+inf; <0, 0 or >0."""
    if a is b:
        return 0
    if a is MINSTRING or b is MAXSTRING:
        return -1
    if a is MAXSTRING or b is MINSTRING:
        return 1
    return (a > b) - (a < b)


def zsl_lex_value_gte_min(value: bytes, spec: ZLexRangeSpec) -> bool:
    c = sdscmplex(value, spec.min)
    return c > 0 if spec.minex else c >= 0


def zsl_lex_value_lte_max(value: bytes, spec: ZLexRangeSpec) -> bool:
    c = sdscmplex(value, spec.max)
    return c < 0 if spec.maxex else c <= 0


def zsl_is_in_lex_range(zsl: ZSkiplist, spec: ZLexRangeSpec) -> bool:
    cmp = sdscmplex(spec.min, spec.max)
    if cmp > 0 or (cmp == 0 and (spec.minex or spec.maxex)):
        return False
    x = zsl.tail
    if x is None or not zsl_lex_value_gte_min(x.ele, spec):
        return False
    x = zsl.header.level[0].forward
    if x is None or not zsl_lex_value_lte_max(x.ele, spec):
        return False
    return True


def zsl_first_in_lex_range(zsl: ZSkiplist, spec: ZLexRangeSpec) -> ZSkiplistNode | None:
    """First node whose member is inside the lex ``spec`` (meaningful when all scores are
    equal, as ZRANGEBYLEX requires), or None."""
    if not zsl_is_in_lex_range(zsl, spec):
        return None
    x = zsl.header
    for i in range(zsl.level - 1, -1, -1):
        f = x.level[i].forward
        while f is not None and not zsl_lex_value_gte_min(f.ele, spec):
            x = f
            f = x.level[i].forward
    x = x.level[0].forward
    assert x is not None
    if not zsl_lex_value_lte_max(x.ele, spec):
        return None
    return x


def zsl_last_in_lex_range(zsl: ZSkiplist, spec: ZLexRangeSpec) -> ZSkiplistNode | None:
    """Last node whose member is inside the lex ``spec``, or None."""
    if not zsl_is_in_lex_range(zsl, spec):
        return None
    x = zsl.header
    for i in range(zsl.level - 1, -1, -1):
        f = x.level[i].forward
        while f is not None and zsl_lex_value_lte_max(f.ele, spec):
            x = f
            f = x.level[i].forward
    if not zsl_lex_value_gte_min(x.ele, spec):
        return None
    return x


def zsl_delete_range_by_lex(zsl: ZSkiplist, spec: ZLexRangeSpec,
                            dict_delete: Callable[[bytes], object] | None = None) -> int:
    """Remove every node whose member is in the lex ``spec``; returns how many."""
    update: list[ZSkiplistNode] = [zsl.header] * ZSKIPLIST_MAXLEVEL
    x = zsl.header
    for i in range(zsl.level - 1, -1, -1):
        f = x.level[i].forward
        while f is not None and not zsl_lex_value_gte_min(f.ele, spec):
            x = f
            f = x.level[i].forward
        update[i] = x
    x = x.level[0].forward
    removed = 0
    while x is not None and zsl_lex_value_lte_max(x.ele, spec):
        nxt = x.level[0].forward
        zsl_delete_node(zsl, x, update)
        if dict_delete is not None:
            dict_delete(x.ele)
        removed += 1
        x = nxt
    return removed


def zsl_iter(zsl: ZSkiplist, reverse: bool = False) -> Iterator[tuple[bytes, float]]:
    """(member, score) pairs in rank order (or reverse).  No Redis counterpart; read-only."""
    if reverse:
        x = zsl.tail
        while x is not None:
            yield x.ele, x.score
            x = x.backward
    else:
        x = zsl.header.level[0].forward
        while x is not None:
            yield x.ele, x.score
            x = x.level[0].forward
