"""Sorted sets: the mirror of t_zset.c (plus createZsetObject / createZsetListpackObject from
object.c).  The zskiplist primitives (zslInsert, zslDelete, range search ...) live in
:mod:`tracered.skiplist`; this module is everything above them.

A sorted set starts as a **listpack** (``OBJ_ENCODING_LISTPACK``): ``o.ptr`` is a byte-real
listpack of alternating member, score entries kept sorted by score, then by member bytes.
Scores are stored the way zzlInsertAt() writes them: an integral score within +-2**62 as a
listpack integer (double2ll), anything else as its d2string() text ("1.5", "inf",
"1.1000000000000001").  So a -0.0 score in a listpack reads back as 0.

It becomes a **skiplist** (``OBJ_ENCODING_SKIPLIST``, ``o.ptr`` a :class:`ZSet`: a zskiplist
for order and ranks plus a :class:`~tracered.dict.Dict` member -> score for O(1) lookups) when
it would hold more than ``zset-max-listpack-entries`` members or one member longer than
``zset-max-listpack-value`` bytes.  The way back to a listpack exists only where Redis 7.0
takes it: the results of ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE (zsetConvertToListpackIfNeeded)
and ZRANGESTORE (which starts the destination as a listpack when the range is small).

Layout (same order as t_zset.c):

    listpack API       zzl_get_score, zzl_find, zzl_insert_at, zzl_insert, zzl_delete,
                       zzl_first_in_range ... zzl_delete_range_by_rank
    common zset API    zset_length, zset_convert (probe zsetConvert),
                       zset_convert_to_listpack_if_needed, zset_score, zset_add, zset_del,
                       zset_rank, zset_dup, zset_type_random_element
    commands           ZADD ZINCRBY ZREM ZREMRANGEBY* ZUNION/ZINTER/ZDIFF(+STORE) ZINTERCARD
                       ZRANGE ZRANGESTORE ZREVRANGE ZRANGEBYSCORE ... ZCOUNT ZLEXCOUNT ZCARD
                       ZSCORE ZMSCORE ZRANK ZREVRANK ZSCAN ZPOPMIN ZPOPMAX BZPOPMIN BZPOPMAX
                       ZRANDMEMBER ZMPOP BZMPOP
    per-type hooks     MEMORY USAGE, DEBUG DIGEST, COPY, length, inspector preview, ZSCAN

Blocking: BZPOPMIN / BZPOPMAX / BZMPOP pop at once when a key has members; otherwise they
block through tracered.blocked (block_for_zset_keys), which later serves each waiter by
calling generic_zpop_command, as blocked.c calls genericZpopCommand.  A served pop is
replicated as ZPOPMIN / ZPOPMAX key [count], like ZMPOP.

Divergence: Redis walks a listpack with entry pointers (zzlNext / zzlPrev).  Read paths here
(ranges, counts, ranks) decode the listpack once with lp_iter and work on indexes; the
zzl_first_in_range family takes those decoded arrays.  A listpack zset is small by
construction (128 entries by default), the results are the same, and one C-level decode is
an order of magnitude cheaper in Python than a pointer walk.  Writes (zzl_insert,
zzl_delete, the range deletions) change the listpack bytes exactly as Redis does.
Divergence: the skiplist zset's dict keeps the score itself as the entry value (Redis keeps a
pointer to the node's score); zset_add updates both together.
Divergence: ZUNION / ZINTER / ZDIFF without STORE sort their (member, score) pairs instead of
building a throw-away skiplist: the reply order (score, then member bytes) is the same.
Divergence: zsetConvert, zsetAdd and the conversion helpers take an optional ``key`` so the
``encoding.convert`` probe event can name the key.
Divergence: the skiplist's dict hashes with Python's hash, so ZSCAN of a skiplist zset and
ZRANDMEMBER's "copy and remove" case list members in another order than redis-server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from tracered import blocked, shared, util
from tracered import db as dbmod
from tracered import dict as dictmod
from tracered import networking as net
from tracered import object as obj
from tracered.commands import KeySpec, cmd
from tracered.intset import intset_find, intset_len, intset_to_list
from tracered.listpack import (
    LP_AFTER,
    LP_BEFORE,
    LP_EOF,
    LP_HDR_SIZE,
    lp_append,
    lp_build,
    lp_delete_range,
    lp_delete_range_with_entry,
    lp_find,
    lp_get,
    lp_get_bytes,
    lp_insert,
    lp_iter,
    lp_length,
    lp_new,
    lp_random_pair,
    lp_random_pairs,
    lp_random_pairs_unique,
    lp_safe_to_add,
    lp_seek,
    lp_skip,
    lp_to_list,
)
from tracered.object import (
    OBJ_ENCODING_INTSET,
    OBJ_ENCODING_LISTPACK,
    OBJ_ENCODING_SKIPLIST,
    OBJ_SET,
    OBJ_ZSET,
    RObj,
)
from tracered.object_cmd import sds_zmalloc_size, zmalloc_size
from tracered.server import server
from tracered.skiplist import (
    ZSKIPLIST_MAXLEVEL,
    ZLexRangeSpec,
    ZRangeSpec,
    ZSkiplist,
    sdscmplex,
    strtod,
    zsl_create,
    zsl_delete,
    zsl_delete_range_by_lex,
    zsl_delete_range_by_rank,
    zsl_delete_range_by_score,
    zsl_first_in_lex_range,
    zsl_first_in_range,
    zsl_get_element_by_rank,
    zsl_get_rank,
    zsl_insert,
    zsl_last_in_lex_range,
    zsl_last_in_range,
    zsl_lex_value_gte_min,
    zsl_lex_value_lte_max,
    zsl_parse_lex_range,
    zsl_update_score,
    zsl_value_gte_min,
    zsl_value_lte_max,
)
from tracered.t_hash import ht_keys
from tracered.trace import probes
from tracered.trace.probes import probe

LONG_MAX = (1 << 63) - 1

# zsetAdd() input flags (server.h ZADD_IN_*) and output flags (ZADD_OUT_*).
ZADD_IN_NONE = 0
ZADD_IN_INCR = 1 << 0
ZADD_IN_NX = 1 << 1
ZADD_IN_XX = 1 << 2
ZADD_IN_GT = 1 << 3
ZADD_IN_LT = 1 << 4
ZADD_OUT_NOP = 1 << 0
ZADD_OUT_NAN = 1 << 1
ZADD_OUT_ADDED = 1 << 2
ZADD_OUT_UPDATED = 1 << 3

# Which end ZPOP* and BZPOP* take from (server.h ZSET_MIN / ZSET_MAX).
ZSET_MIN = 0
ZSET_MAX = 1

# zrange_type / zrange_direction.
ZRANGE_AUTO = 0
ZRANGE_RANK = 1
ZRANGE_SCORE = 2
ZRANGE_LEX = 3
ZRANGE_DIRECTION_AUTO = 0
ZRANGE_DIRECTION_FORWARD = 1
ZRANGE_DIRECTION_REVERSE = 2

# Set operations (server.h) and ZUNION/ZINTER aggregates.
SET_OP_UNION = 0
SET_OP_DIFF = 1
SET_OP_INTER = 2
REDIS_AGGR_SUM = 1
REDIS_AGGR_MIN = 2
REDIS_AGGR_MAX = 3

# Redis struct sizes on x86-64 (MEMORY USAGE).
ROBJ_SIZE = 16
ZSET_SIZE = 16            # struct zset: dict*, zskiplist*
ZSKIPLIST_SIZE = 32       # header, tail, length, level (padded)
DICT_SIZE = 56            # sizeof(dict) in 7.0
DICT_ENTRY_SIZE = 24
POINTER_SIZE = 8
ZSKIPLIST_NODE_SIZE = 24  # ele, score, backward; then 16 bytes per level (forward, span)
ZSKIPLIST_LEVEL_SIZE = 16

NANERR = shared.ZSET_NAN_SCORE
MINMAX_NOT_FLOAT = shared.ZSET_MINMAX_NOT_FLOAT
MINMAX_NOT_STRING = shared.ZSET_MINMAX_NOT_STRING

_mbulkhdr = shared.mbulkhdr
_bulkhdr = shared.bulkhdr
_CRLF = b"\r\n"
_PAIR = b"*2\r\n"
_INF = float("inf")


def _arr(n: int) -> bytes:
    return _mbulkhdr[n] if n < 1024 else b"*%d\r\n" % n


def _bulk(x: bytes) -> bytes:
    n = len(x)
    if n < 1024:
        return _bulkhdr[n] + x + _CRLF
    return b"$%d\r\n%s\r\n" % (n, x)


def _as_bytes(v: bytes | int) -> bytes:
    return b"%d" % v if v.__class__ is int else v


def _dbl(resp: int, d: float) -> bytes:
    """addReplyDouble's bytes: a bulk string in RESP2, a ``,`` double in RESP3."""
    if d == _INF:
        s = b"inf"
    elif d == -_INF:
        s = b"-inf"
    else:
        s = b"%.17g" % d
    if resp == 2:
        return _bulkhdr[len(s)] + s + _CRLF
    return b"," + s + _CRLF


def _key_text(key: bytes | None) -> str:
    return key.decode("utf-8", "replace") if key is not None else ""


class ZSet:
    """struct zset: the skiplist (order, ranks) and the dict (member -> score)."""

    __slots__ = ("dict", "zsl")

    def __init__(self) -> None:
        self.dict = dictmod.Dict()
        self.zsl: ZSkiplist = zsl_create()

    def __len__(self) -> int:
        return self.zsl.length

    def __repr__(self) -> str:
        return f"<zset len={self.zsl.length} levels={self.zsl.level}>"


@probe("createZsetObject")
def create_zset_object() -> RObj:
    """createZsetObject (object.c): an empty skiplist-encoded sorted set."""
    return RObj(OBJ_ZSET, OBJ_ENCODING_SKIPLIST, ZSet())


@probe("createZsetListpackObject")
def create_zset_listpack_object() -> RObj:
    """createZsetListpackObject (object.c): an empty listpack-encoded sorted set."""
    return RObj(OBJ_ZSET, OBJ_ENCODING_LISTPACK, lp_new())


# --------------------------------------------------------------------------------------------
# Range parsing (zslParseRange)
# --------------------------------------------------------------------------------------------

def _strtod_whole(s: bytes) -> float | None:
    """C strtod() with Redis's ``eptr[0] == '\\0'`` test: text up to a NUL must be consumed.

    An empty text is accepted as 0 (strtod consumes nothing and the end pointer is already
    at the terminator), which tracered.skiplist.strtod does not do.
    """
    nul = s.find(b"\x00")
    if nul >= 0:
        s = s[:nul]
    if not s:
        return 0.0
    return strtod(s)


def zsl_parse_range(min_: bytes, max_: bytes) -> ZRangeSpec | None:
    """zslParseRange: ``[(]min [(]max``; None when either is not a float (or is NaN)."""
    spec = ZRangeSpec(0.0, 0.0)
    if min_[:1] == b"(":
        v = _strtod_whole(min_[1:])
        spec.minex = True
    else:
        v = _strtod_whole(min_)
    if v is None or v != v:
        return None
    spec.min = v
    if max_[:1] == b"(":
        v = _strtod_whole(max_[1:])
        spec.maxex = True
    else:
        v = _strtod_whole(max_)
    if v is None or v != v:
        return None
    spec.max = v
    return spec


# --------------------------------------------------------------------------------------------
# Listpack-backed sorted set API
# --------------------------------------------------------------------------------------------

# The longest prefix C strtod() would read, for score texts Python's float() refuses.
_STRTOD_PREFIX = re.compile(
    rb"[ \t\n\v\f\r]*[+-]?(?:inf(?:inity)?|nan|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)",
    re.IGNORECASE)


def zzl_strtod(v: bytes) -> float:
    """zzlStrtod: strtod over at most 127 bytes of a score entry, ignoring what follows.

    Scores tracered writes are always d2string() texts, which float() reads exactly; the
    prefix parse only matters for listpacks that came from elsewhere (RESTORE, RDB).
    """
    v = v[:127]
    if b"_" not in v:
        try:
            return float(v)
        except ValueError:
            pass
    whole = strtod(v)          # hex floats ("0x1p3"), which float() does not read
    if whole is not None:
        return whole
    m = _STRTOD_PREFIX.match(v)
    return float(m.group(0)) if m is not None else 0.0


def zzl_get_score(lp: bytearray, sptr: int) -> float:
    """zzlGetScore: the score entry at ``sptr`` as a double."""
    v = lp_get(lp, sptr)
    return float(v) if v.__class__ is int else zzl_strtod(v)


def _score_of(v: bytes | int) -> float:
    return float(v) if v.__class__ is int else zzl_strtod(v)


def zzl_length(lp: bytearray) -> int:
    """zzlLength: number of (member, score) pairs."""
    return lp_length(lp) >> 1


def zzl_decode(lp: bytearray) -> tuple[list[bytes], list[float]]:
    """Members (as bytes) and scores (as doubles) of a listpack zset, in order.

    No Redis counterpart: the read paths' one-pass decode (see the module Divergence).
    """
    flat = lp_to_list(lp)
    eles = [b"%d" % e if e.__class__ is int else e for e in flat[0::2]]
    scores = [float(s) if s.__class__ is int else zzl_strtod(s) for s in flat[1::2]]
    return eles, scores


def zzl_compare_elements(lp: bytearray, eptr: int, s: bytes) -> int:
    """zzlCompareElements: memcmp order of the member at ``eptr`` against ``s``."""
    v = lp_get(lp, eptr)
    if v.__class__ is int:
        v = b"%d" % v
    return (v > s) - (v < s)


def zzl_is_in_range(scores: list[float], spec: ZRangeSpec) -> bool:
    """zzlIsInRange: can any score fall in ``spec``?"""
    if spec.min > spec.max or (spec.min == spec.max and (spec.minex or spec.maxex)):
        return False
    if not scores or not zsl_value_gte_min(scores[-1], spec):
        return False
    return zsl_value_lte_max(scores[0], spec)


def zzl_first_in_range(scores: list[float], spec: ZRangeSpec) -> int:
    """zzlFirstInRange: index of the first pair inside ``spec``, or -1."""
    if not zzl_is_in_range(scores, spec):
        return -1
    minv = spec.min
    if spec.minex:
        for i, s in enumerate(scores):
            if s > minv:
                return i if zsl_value_lte_max(s, spec) else -1
    else:
        for i, s in enumerate(scores):
            if s >= minv:
                return i if zsl_value_lte_max(s, spec) else -1
    return -1


def zzl_last_in_range(scores: list[float], spec: ZRangeSpec) -> int:
    """zzlLastInRange: index of the last pair inside ``spec``, or -1."""
    if not zzl_is_in_range(scores, spec):
        return -1
    for i in range(len(scores) - 1, -1, -1):
        s = scores[i]
        if zsl_value_lte_max(s, spec):
            return i if zsl_value_gte_min(s, spec) else -1
    return -1


def zzl_is_in_lex_range(eles: list[bytes], spec: ZLexRangeSpec) -> bool:
    """zzlIsInLexRange: the last member is >= min and the first is <= max."""
    cmp = sdscmplex(spec.min, spec.max)
    if cmp > 0 or (cmp == 0 and (spec.minex or spec.maxex)):
        return False
    if not eles or not zsl_lex_value_gte_min(eles[-1], spec):
        return False
    return zsl_lex_value_lte_max(eles[0], spec)


def zzl_first_in_lex_range(eles: list[bytes], spec: ZLexRangeSpec) -> int:
    """zzlFirstInLexRange: walking from the head, the first member >= min (if it is also
    <= max), else -1.  Meaningful when all scores are equal, but defined (and mirrored)
    for any listpack."""
    if not zzl_is_in_lex_range(eles, spec):
        return -1
    for i, e in enumerate(eles):
        if zsl_lex_value_gte_min(e, spec):
            return i if zsl_lex_value_lte_max(e, spec) else -1
    return -1


def zzl_last_in_lex_range(eles: list[bytes], spec: ZLexRangeSpec) -> int:
    """zzlLastInLexRange: walking from the tail, the first member <= max (if >= min)."""
    if not zzl_is_in_lex_range(eles, spec):
        return -1
    for i in range(len(eles) - 1, -1, -1):
        e = eles[i]
        if zsl_lex_value_lte_max(e, spec):
            return i if zsl_lex_value_gte_min(e, spec) else -1
    return -1


def zzl_find(lp: bytearray, ele: bytes) -> tuple[int, float] | None:
    """zzlFind: (offset of the member entry, its score), or None if ``ele`` is absent."""
    if lp[LP_HDR_SIZE] == LP_EOF:
        return None
    eptr = lp_find(lp, LP_HDR_SIZE, ele, 1)
    if eptr is None:
        return None
    return eptr, zzl_get_score(lp, lp_skip(lp, eptr))


def zzl_delete(lp: bytearray, eptr: int) -> int | None:
    """zzlDelete: remove the (member, score) pair starting at ``eptr``."""
    return lp_delete_range_with_entry(lp, eptr, 2)


def _score_entry(score: float) -> bytes | int:
    """How zzlInsertAt stores a score: an int when double2ll allows, else d2string text."""
    lscore = util.double2ll(score)
    return lscore if lscore is not None else util.d2string(score)


def zzl_insert_at(lp: bytearray, eptr: int | None, ele: bytes, score: float) -> None:
    """zzlInsertAt: insert (ele, score) before the member at ``eptr`` (None = append)."""
    sval = _score_entry(score)
    if eptr is None:
        lp_append(lp, ele)
        lp_append(lp, sval)
    else:
        p = lp_insert(lp, ele, eptr, LP_BEFORE)
        lp_insert(lp, sval, p, LP_AFTER)


def zzl_insert(lp: bytearray, ele: bytes, score: float) -> None:
    """zzlInsert: insert a member that is not present yet at its sorted place."""
    p = LP_HDR_SIZE
    while lp[p] != LP_EOF:
        sptr = lp_skip(lp, p)
        s = zzl_get_score(lp, sptr)
        if s > score or (s == score and zzl_compare_elements(lp, p, ele) > 0):
            zzl_insert_at(lp, p, ele, score)
            return
        p = lp_skip(lp, sptr)
    zzl_insert_at(lp, None, ele, score)


def zzl_delete_range_by_score(lp: bytearray, spec: ZRangeSpec) -> int:
    """zzlDeleteRangeByScore: remove every pair with a score in ``spec``; returns how many."""
    _, scores = zzl_decode(lp)
    first = zzl_first_in_range(scores, spec)
    if first < 0:
        return 0
    n = 0
    for s in scores[first:]:
        if not zsl_value_lte_max(s, spec):
            break
        n += 1
    lp_delete_range(lp, 2 * first, 2 * n)
    return n


def zzl_delete_range_by_lex(lp: bytearray, spec: ZLexRangeSpec) -> int:
    """zzlDeleteRangeByLex: remove the run of members inside ``spec``; returns how many."""
    eles, _ = zzl_decode(lp)
    first = zzl_first_in_lex_range(eles, spec)
    if first < 0:
        return 0
    n = 0
    for e in eles[first:]:
        if not zsl_lex_value_lte_max(e, spec):
            break
        n += 1
    lp_delete_range(lp, 2 * first, 2 * n)
    return n


def zzl_delete_range_by_rank(lp: bytearray, start: int, end: int) -> int:
    """zzlDeleteRangeByRank: remove 1-based ranks ``start``..``end``; returns how many."""
    num = end - start + 1
    lp_delete_range(lp, 2 * (start - 1), 2 * num)
    return num


# --------------------------------------------------------------------------------------------
# Common sorted set API
# --------------------------------------------------------------------------------------------

def zset_length(zobj: RObj) -> int:
    """zsetLength."""
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        return lp_length(zobj.ptr) >> 1
    if zobj.encoding == OBJ_ENCODING_SKIPLIST:
        return zobj.ptr.zsl.length
    raise ValueError("Unknown sorted set encoding")


@probe("zsetConvert")
def zset_convert(zobj: RObj, encoding: int, key: bytes | None = None) -> None:
    """zsetConvert: listpack -> skiplist+dict, or skiplist -> listpack (in member order)."""
    if zobj.encoding == encoding:
        return
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        if encoding != OBJ_ENCODING_SKIPLIST:
            raise ValueError("Unknown target encoding")
        zs = ZSet()
        zsl = zs.zsl
        d = zs.dict
        it = lp_iter(zobj.ptr)
        for ele in it:
            score = _score_of(next(it))
            if ele.__class__ is int:
                ele = b"%d" % ele
            zsl_insert(zsl, score, ele)
            if not d.add(ele, score):
                raise AssertionError("zsetConvert: duplicate member in a listpack zset")
        frm, to = "listpack", "skiplist"
        zobj.ptr = zs
        zobj.encoding = OBJ_ENCODING_SKIPLIST
    elif zobj.encoding == OBJ_ENCODING_SKIPLIST:
        if encoding != OBJ_ENCODING_LISTPACK:
            raise ValueError("Unknown target encoding")
        flat: list[bytes | int] = []
        x = zobj.ptr.zsl.header.level[0].forward
        while x is not None:
            flat.append(x.ele)
            flat.append(_score_entry(x.score))
            x = x.level[0].forward
        frm, to = "skiplist", "listpack"
        zobj.ptr = lp_build(flat)
        zobj.encoding = OBJ_ENCODING_LISTPACK
    else:
        raise ValueError("Unknown sorted set encoding")
    if probes.armed:
        probes.event("encoding.convert", {
            "redis.key": _key_text(key), "from": frm, "to": to,
            "redis.zset.length": zset_length(zobj)})


def zset_convert_to_listpack_if_needed(zobj: RObj, maxelelen: int, totelelen: int,
                                       key: bytes | None = None) -> None:
    """zsetConvertToListpackIfNeeded: a skiplist small enough for the listpack limits goes
    back to a listpack (only the *STORE set operations call this)."""
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        return
    if (zobj.ptr.zsl.length <= server.zset_max_listpack_entries
            and maxelelen <= server.zset_max_listpack_value
            and lp_safe_to_add(None, totelelen)):
        zset_convert(zobj, OBJ_ENCODING_LISTPACK, key)


def zset_score(zobj: RObj | None, member: bytes) -> float | None:
    """zsetScore: the member's score, or None."""
    if zobj is None:
        return None
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        found = zzl_find(zobj.ptr, member)
        return None if found is None else found[1]
    de = zobj.ptr.dict.find(member)
    return None if de is None else de.val


def zset_add(zobj: RObj, score: float, ele: bytes, in_flags: int,
             key: bytes | None = None) -> tuple[bool, int, float]:
    """zsetAdd: add ``ele`` or update its score; returns (ok, out_flags, newscore).

    ``in_flags`` are ZADD_IN_* (INCR adds ``score`` to the current one, NX/XX only add/only
    update, GT/LT only update upward/downward).  ``out_flags`` tell ADDED, UPDATED, NOP (an
    option prevented the change) or NAN; ``ok`` is False only for NAN (a NaN score, or an
    increment that produced one).  A listpack converts to a skiplist before an insertion
    that would break its limits.
    """
    incr = in_flags & ZADD_IN_INCR
    nx = in_flags & ZADD_IN_NX
    xx = in_flags & ZADD_IN_XX
    gt = in_flags & ZADD_IN_GT
    lt = in_flags & ZADD_IN_LT
    if score != score:
        return False, ZADD_OUT_NAN, score

    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        lp = zobj.ptr
        found = zzl_find(lp, ele)
        if found is not None:
            if nx:
                return True, ZADD_OUT_NOP, score
            eptr, curscore = found
            if incr:
                score += curscore
                if score != score:
                    return False, ZADD_OUT_NAN, score
            if (lt and score >= curscore) or (gt and score <= curscore):
                return True, ZADD_OUT_NOP, score
            if score != curscore:
                zzl_delete(lp, eptr)
                zzl_insert(lp, ele, score)
                return True, ZADD_OUT_UPDATED, score
            return True, 0, score
        if xx:
            return True, ZADD_OUT_NOP, score
        if ((lp_length(lp) >> 1) + 1 > server.zset_max_listpack_entries
                or len(ele) > server.zset_max_listpack_value
                or not lp_safe_to_add(lp, len(ele))):
            zset_convert(zobj, OBJ_ENCODING_SKIPLIST, key)
        else:
            zzl_insert(lp, ele, score)
            return True, ZADD_OUT_ADDED, score

    if zobj.encoding != OBJ_ENCODING_SKIPLIST:
        raise ValueError("Unknown sorted set encoding")
    zs = zobj.ptr
    de = zs.dict.find(ele)
    if de is not None:
        if nx:
            return True, ZADD_OUT_NOP, score
        curscore = de.val
        if incr:
            score += curscore
            if score != score:
                return False, ZADD_OUT_NAN, score
        if (lt and score >= curscore) or (gt and score <= curscore):
            return True, ZADD_OUT_NOP, score
        if score != curscore:
            zsl_update_score(zs.zsl, curscore, ele, score)
            de.val = score
            return True, ZADD_OUT_UPDATED, score
        return True, 0, score
    if xx:
        return True, ZADD_OUT_NOP, score
    ele = bytes(ele)
    zsl_insert(zs.zsl, score, ele)
    zs.dict.add(ele, score)
    return True, ZADD_OUT_ADDED, score


def zset_remove_from_skiplist(zs: ZSet, ele: bytes) -> bool:
    """zsetRemoveFromSkiplist: drop ``ele`` from dict and skiplist (no dict resize)."""
    d = zs.dict
    de = d.unlink(ele)
    if de is None:
        return False
    score = de.val
    d.free_unlinked_entry(de)
    if zsl_delete(zs.zsl, score, ele) is None:
        raise AssertionError("zsetRemoveFromSkiplist: member in dict but not in skiplist")
    return True


def zset_del(zobj: RObj, ele: bytes) -> bool:
    """zsetDel: True if ``ele`` was a member.  A skiplist's dict shrinks when sparse."""
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        found = zzl_find(zobj.ptr, ele)
        if found is not None:
            zzl_delete(zobj.ptr, found[0])
            return True
        return False
    if zobj.encoding == OBJ_ENCODING_SKIPLIST:
        zs = zobj.ptr
        if zset_remove_from_skiplist(zs, ele):
            if dictmod.ht_needs_resize(zs.dict):
                dictmod.dict_resize(zs.dict)
            return True
        return False
    raise ValueError("Unknown sorted set encoding")


def zset_rank(zobj: RObj, ele: bytes, reverse: bool) -> int:
    """zsetRank: 0-based rank (from the top when ``reverse``), or -1 if absent."""
    llen = zset_length(zobj)
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        eles, _ = zzl_decode(zobj.ptr)
        try:
            rank = eles.index(ele) + 1
        except ValueError:
            return -1
    else:
        zs = zobj.ptr
        de = zs.dict.find(ele)
        if de is None:
            return -1
        rank = zsl_get_rank(zs.zsl, de.val, ele)
        if not rank:
            raise AssertionError("zsetRank: member in dict without a rank")
    return llen - rank if reverse else rank - 1


def zset_dup(o: RObj) -> RObj:
    """zsetDup (COPY): a deep copy with the same encoding.  A skiplist is refilled from its
    tail, so each insertion stops at the header (O(1) per element)."""
    if o.encoding == OBJ_ENCODING_LISTPACK:
        return RObj(OBJ_ZSET, OBJ_ENCODING_LISTPACK, bytearray(o.ptr))
    zobj = create_zset_object()
    new_zs = zobj.ptr
    zs = o.ptr
    new_zs.dict.expand(len(zs.dict))
    ln = zs.zsl.tail
    while ln is not None:
        zsl_insert(new_zs.zsl, ln.score, ln.ele)
        new_zs.dict.add(ln.ele, ln.score)
        ln = ln.backward
    return zobj


def zset_type_random_element(zobj: RObj, size: int) -> tuple[bytes | int, float]:
    """zsetTypeRandomElement: (member, score) of a non-empty zset; a listpack member may
    come back as an int (its integer encoding)."""
    if zobj.encoding == OBJ_ENCODING_SKIPLIST:
        de = zobj.ptr.dict.get_fair_random_key()
        return de.key, de.val
    ele, sv = lp_random_pair(zobj.ptr, size)
    return ele, _score_of(sv)


def zset_type_iter(zobj: RObj, reverse: bool = False) -> Iterator[tuple[bytes, float]]:
    """Every (member, score) in rank order (or reverse), members as bytes.  No Redis
    counterpart: the walk AOF rewrite, RDB save, DEBUG DIGEST and SORT need."""
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        eles, scores = zzl_decode(zobj.ptr)
        pairs = zip(eles, scores, strict=True)
        return iter(list(pairs)[::-1]) if reverse else pairs
    zsl = zobj.ptr.zsl
    return _zsl_pairs(zsl, reverse)


def _zsl_pairs(zsl: ZSkiplist, reverse: bool) -> Iterator[tuple[bytes, float]]:
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


# --------------------------------------------------------------------------------------------
# Sorted set commands: ZADD ZINCRBY ZREM
# --------------------------------------------------------------------------------------------

def get_double_from_object_or_reply(c, arg: bytes, msg: str | None = None) -> float | None:
    """getDoubleFromObjectOrReply: strict strtod (no spaces, no trailing text, no NaN, no
    overflow), else an error reply and None."""
    v = util.string2d(arg)
    if v is None or v != v:
        net.add_reply_error(c, msg or shared.NOT_FLOAT)
        return None
    return v


def zadd_generic_command(c, flags: int) -> None:
    """zaddGenericCommand: ZADD and ZINCRBY (which is ZADD with INCR)."""
    argv = c.argv
    argc = len(argv)
    key = argv[1]
    ch = False
    scoreidx = 2
    while scoreidx < argc:
        opt = argv[scoreidx].lower()
        if opt == b"nx":
            flags |= ZADD_IN_NX
        elif opt == b"xx":
            flags |= ZADD_IN_XX
        elif opt == b"ch":
            ch = True
        elif opt == b"incr":
            flags |= ZADD_IN_INCR
        elif opt == b"gt":
            flags |= ZADD_IN_GT
        elif opt == b"lt":
            flags |= ZADD_IN_LT
        else:
            break
        scoreidx += 1
    incr = flags & ZADD_IN_INCR
    nx = flags & ZADD_IN_NX
    xx = flags & ZADD_IN_XX
    gt = flags & ZADD_IN_GT
    lt = flags & ZADD_IN_LT

    elements = argc - scoreidx
    if elements % 2 or not elements:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    elements //= 2
    if nx and xx:
        net.add_reply_error(c, shared.ZADD_XX_AND_NX)
        return
    if (gt and nx) or (lt and nx) or (gt and lt):
        net.add_reply_error(c, shared.ZADD_GT_LT_NX)
        return
    if incr and elements > 1:
        net.add_reply_error(c, shared.ZADD_INCR_SINGLE_PAIR)
        return

    # Every score is parsed before anything changes: the command runs whole or not at all.
    scores = []
    for j in range(elements):
        v = get_double_from_object_or_reply(c, argv[scoreidx + j * 2])
        if v is None:
            return
        scores.append(v)

    db = c.db
    zobj = dbmod.lookup_key_write(db, key)
    if dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    added = updated = processed = 0
    score = 0.0
    if zobj is None:
        if xx:
            # No key and XX: nothing to do, nothing created.
            if incr:
                net.add_reply_null(c)
            else:
                net.add_reply(c, shared.czero)
            return
        if (server.zset_max_listpack_entries == 0
                or server.zset_max_listpack_value < len(argv[scoreidx + 1])):
            zobj = create_zset_object()
        else:
            zobj = create_zset_listpack_object()
        dbmod.db_add(db, key, zobj)

    failed = False
    for j in range(elements):
        ok, retflags, newscore = zset_add(zobj, scores[j], argv[scoreidx + 1 + j * 2],
                                          flags, key)
        if not ok:
            net.add_reply_error(c, NANERR)
            failed = True
            break
        if retflags & ZADD_OUT_ADDED:
            added += 1
        if retflags & ZADD_OUT_UPDATED:
            updated += 1
        if not retflags & ZADD_OUT_NOP:
            processed += 1
        score = newscore
    if not failed:
        server.dirty += added + updated
        if incr:
            if processed:
                net.add_reply(c, _dbl(c.resp, score))
            else:
                net.add_reply_null(c)
        else:
            net.add_reply_long_long(c, added + updated if ch else added)
    if added or updated:
        dbmod.signal_modified_key(c, db, key)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_ZSET, "zincr" if incr else "zadd", key,
                                    db.id)


def zadd_command(c) -> None:
    """ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]."""
    zadd_generic_command(c, ZADD_IN_NONE)


def zincrby_command(c) -> None:
    """ZINCRBY key increment member."""
    zadd_generic_command(c, ZADD_IN_INCR)


def zrem_command(c) -> None:
    """ZREM key member [member ...]: the key goes away with its last member."""
    argv = c.argv
    key = argv[1]
    db = c.db
    zobj = dbmod.lookup_key_write_or_reply(c, key, shared.czero)
    if zobj is None or dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    deleted = 0
    keyremoved = False
    for ele in argv[2:]:
        if zset_del(zobj, ele):
            deleted += 1
        if zset_length(zobj) == 0:
            dbmod.db_delete(db, key)
            keyremoved = True
            break
    if deleted:
        dbmod.notify_keyspace_event(dbmod.NOTIFY_ZSET, "zrem", key, db.id)
        if keyremoved:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, db.id)
        dbmod.signal_modified_key(c, db, key)
        server.dirty += deleted
    net.add_reply_long_long(c, deleted)


# --------------------------------------------------------------------------------------------
# ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX
# --------------------------------------------------------------------------------------------

def zremrange_generic_command(c, rangetype: int) -> None:
    """zremrangeGenericCommand: parse the range, delete it, drop an emptied key."""
    argv = c.argv
    key = argv[1]
    db = c.db
    start = end = 0
    spec = lexspec = None
    if rangetype == ZRANGE_RANK:
        notify_type = "zremrangebyrank"
        start = dbmod.get_long_long_from_object_or_reply(c, argv[2])
        if start is None:
            return
        end = dbmod.get_long_long_from_object_or_reply(c, argv[3])
        if end is None:
            return
    elif rangetype == ZRANGE_SCORE:
        notify_type = "zremrangebyscore"
        spec = zsl_parse_range(argv[2], argv[3])
        if spec is None:
            net.add_reply_error(c, MINMAX_NOT_FLOAT)
            return
    elif rangetype == ZRANGE_LEX:
        notify_type = "zremrangebylex"
        lexspec = zsl_parse_lex_range(argv[2], argv[3])
        if lexspec is None:
            net.add_reply_error(c, MINMAX_NOT_STRING)
            return
    else:
        raise ValueError(f"unknown rangetype {rangetype}")

    zobj = dbmod.lookup_key_write_or_reply(c, key, shared.czero)
    if zobj is None or dbmod.check_type(c, zobj, OBJ_ZSET):
        return

    if rangetype == ZRANGE_RANK:
        llen = zset_length(zobj)
        if start < 0:
            start += llen
        if end < 0:
            end += llen
        if start < 0:
            start = 0
        # start >= 0 here, so an end < 0 also means an empty range.
        if start > end or start >= llen:
            net.add_reply(c, shared.czero)
            return
        if end >= llen:
            end = llen - 1

    keyremoved = False
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        lp = zobj.ptr
        if rangetype == ZRANGE_RANK:
            deleted = zzl_delete_range_by_rank(lp, start + 1, end + 1)
        elif rangetype == ZRANGE_SCORE:
            deleted = zzl_delete_range_by_score(lp, spec)
        else:
            deleted = zzl_delete_range_by_lex(lp, lexspec)
        if lp_length(lp) == 0:
            dbmod.db_delete(db, key)
            keyremoved = True
    else:
        zs = zobj.ptr
        d = zs.dict
        if rangetype == ZRANGE_RANK:
            deleted = zsl_delete_range_by_rank(zs.zsl, start + 1, end + 1, d.delete)
        elif rangetype == ZRANGE_SCORE:
            deleted = zsl_delete_range_by_score(zs.zsl, spec, d.delete)
        else:
            deleted = zsl_delete_range_by_lex(zs.zsl, lexspec, d.delete)
        if dictmod.ht_needs_resize(d):
            dictmod.dict_resize(d)
        if len(d) == 0:
            dbmod.db_delete(db, key)
            keyremoved = True

    if deleted:
        dbmod.signal_modified_key(c, db, key)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_ZSET, notify_type, key, db.id)
        if keyremoved:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, db.id)
    server.dirty += deleted
    net.add_reply_long_long(c, deleted)


def zremrangebyrank_command(c) -> None:
    zremrange_generic_command(c, ZRANGE_RANK)


def zremrangebyscore_command(c) -> None:
    zremrange_generic_command(c, ZRANGE_SCORE)


def zremrangebylex_command(c) -> None:
    zremrange_generic_command(c, ZRANGE_LEX)


# --------------------------------------------------------------------------------------------
# ZUNION / ZINTER / ZDIFF and their STORE forms, ZINTERCARD (the zui* source iterators)
# --------------------------------------------------------------------------------------------

class ZSetOpSrc:
    """zsetopsrc: one input of a set operation (a zset, a set, or a missing key)."""

    __slots__ = ("subject", "type", "encoding", "weight")

    def __init__(self, subject: RObj | None) -> None:
        self.subject = subject
        self.type = subject.type if subject is not None else 0
        self.encoding = subject.encoding if subject is not None else 0
        self.weight = 1.0


def zui_length(op: ZSetOpSrc) -> int:
    """zuiLength: 0 for a missing key."""
    o = op.subject
    if o is None:
        return 0
    if op.type == OBJ_SET:
        return intset_len(o.ptr) if op.encoding == OBJ_ENCODING_INTSET else len(o.ptr)
    return zset_length(o)


def zui_iter(op: ZSetOpSrc) -> Iterator[tuple[bytes | int, float]]:
    """zuiInitIterator + zuiNext: (member, score) pairs.  Set members score 1.0 (intset
    members come as ints, ascending); sorted sets are walked from the tail, which makes
    inserting into a new skiplist cheap."""
    o = op.subject
    if o is None:
        return iter(())
    if op.type == OBJ_SET:
        if op.encoding == OBJ_ENCODING_INTSET:
            return ((v, 1.0) for v in intset_to_list(o.ptr))
        return ((k, 1.0) for k in ht_keys(o.ptr))
    if op.encoding == OBJ_ENCODING_LISTPACK:
        flat = lp_to_list(o.ptr)
        n = len(flat)
        return ((flat[i], _score_of(flat[i + 1])) for i in range(n - 2, -1, -2))
    return _zsl_pairs(o.ptr.zsl, True)


def zui_find(op: ZSetOpSrc, ele: bytes | int) -> float | None:
    """zuiFind: the score of ``ele`` in this input (1.0 for a set member), or None."""
    o = op.subject
    if o is None:
        return None
    if op.type == OBJ_SET:
        if op.encoding == OBJ_ENCODING_INTSET:
            v = ele if ele.__class__ is int else util.string2ll(ele)
            return 1.0 if v is not None and intset_find(o.ptr, v) else None
        return 1.0 if o.ptr.find(_as_bytes(ele)) is not None else None
    return zset_score(o, _as_bytes(ele))


def zunion_inter_aggregate(target: float, val: float, aggregate: int) -> float:
    """zunionInterAggregate: SUM (inf + -inf counts as 0), MIN or MAX."""
    if aggregate == REDIS_AGGR_SUM:
        target = target + val
        return 0.0 if target != target else target
    if aggregate == REDIS_AGGR_MIN:
        return val if val < target else target
    if aggregate == REDIS_AGGR_MAX:
        return val if val > target else target
    raise ValueError("Unknown ZUNION/INTER aggregate type")


def zdiff_algorithm1(src: list[ZSetOpSrc], out: dict) -> None:
    """zdiffAlgorithm1: keep each member of the first input absent from all the others
    (O(N*M)); the others are probed biggest first, to find a common member sooner."""
    rest = sorted(src[1:], key=zui_length, reverse=True)
    first = src[0]
    for ele, score in zui_iter(first):
        for op in rest:
            if op.subject is first.subject or zui_find(op, ele) is not None:
                break
        else:
            out[_as_bytes(ele)] = score


def zdiff_algorithm2(src: list[ZSetOpSrc], out: dict) -> None:
    """zdiffAlgorithm2: copy the first input, then remove the others' members
    (O(L + (N-K)log N)); stops as soon as nothing is left."""
    cardinality = 0
    for j, op in enumerate(src):
        if zui_length(op) == 0:
            continue
        for ele, score in zui_iter(op):
            if j == 0:
                out[_as_bytes(ele)] = score
                cardinality += 1
            elif out.pop(_as_bytes(ele), None) is not None:
                cardinality -= 1
            if cardinality == 0:
                break
        if cardinality == 0:
            break


def zset_choose_diff_algorithm(src: list[ZSetOpSrc]) -> int:
    """zsetChooseDiffAlgorithm: 0 (empty result: an input repeats the first), 1 or 2 by
    estimated work, algorithm 1 given a 2x head start."""
    algo_one_work = algo_two_work = 0
    first_len = zui_length(src[0])
    for j, op in enumerate(src):
        if j > 0 and op.subject is src[0].subject:
            return 0
        algo_one_work += first_len
        algo_two_work += zui_length(op)
    algo_one_work //= 2
    return 1 if algo_one_work <= algo_two_work else 2


def zdiff(src: list[ZSetOpSrc], out: dict) -> None:
    """zdiff: the first input minus all the others, into ``out`` (member -> score)."""
    if zui_length(src[0]) > 0:
        algo = zset_choose_diff_algorithm(src)
        if algo == 1:
            zdiff_algorithm1(src, out)
        elif algo == 2:
            zdiff_algorithm2(src, out)


def zunion_inter_diff_generic_command(c, dstkey: bytes | None, numkeys_index: int, op: int,
                                      cardinality_only: bool = False) -> None:
    """zunionInterDiffGenericCommand: ZUNION ZINTER ZDIFF, their STORE forms, ZINTERCARD.

    Inputs may be sets (every member scores 1).  Weights multiply each input's scores (a
    NaN product, inf*0, counts as 0); AGGREGATE SUM/MIN/MAX combines a member's scores.
    """
    argv = c.argv
    argc = len(argv)
    db = c.db
    setnum = dbmod.get_long_long_from_object_or_reply(c, argv[numkeys_index])
    if setnum is None:
        return
    if setnum < 1:
        net.add_reply_error(c, shared.ZSET_AT_LEAST_ONE_KEY % c.cmd.fullname)
        return
    if setnum > argc - (numkeys_index + 1):
        net.add_reply_error_object(c, shared.syntaxerr)
        return

    src: list[ZSetOpSrc] = []
    j = numkeys_index + 1
    for _ in range(setnum):
        o = dbmod.lookup_key_read(db, argv[j])
        if o is not None and o.type != OBJ_ZSET and o.type != OBJ_SET:
            net.add_reply_error_object(c, shared.wrongtypeerr)
            return
        src.append(ZSetOpSrc(o))
        j += 1

    aggregate = REDIS_AGGR_SUM
    withscores = False
    limit = 0
    remaining = argc - j
    while remaining:
        opt = argv[j].lower()
        if (op != SET_OP_DIFF and not cardinality_only and remaining >= setnum + 1
                and opt == b"weights"):
            j += 1
            remaining -= 1
            for i in range(setnum):
                w = get_double_from_object_or_reply(c, argv[j], shared.ZSET_WEIGHT_NOT_FLOAT)
                if w is None:
                    return
                src[i].weight = w
                j += 1
                remaining -= 1
        elif (op != SET_OP_DIFF and not cardinality_only and remaining >= 2
                and opt == b"aggregate"):
            j += 1
            remaining -= 1
            agg = argv[j].lower()
            if agg == b"sum":
                aggregate = REDIS_AGGR_SUM
            elif agg == b"min":
                aggregate = REDIS_AGGR_MIN
            elif agg == b"max":
                aggregate = REDIS_AGGR_MAX
            else:
                net.add_reply_error_object(c, shared.syntaxerr)
                return
            j += 1
            remaining -= 1
        elif remaining >= 1 and dstkey is None and not cardinality_only and \
                opt == b"withscores":
            j += 1
            remaining -= 1
            withscores = True
        elif cardinality_only and remaining >= 2 and opt == b"limit":
            j += 1
            remaining -= 1
            limit = dbmod.get_range_long_from_object_or_reply(
                c, argv[j], 0, LONG_MAX, shared.ZSET_LIMIT_NEGATIVE)
            if limit is None:
                return
            j += 1
            remaining -= 1
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return

    if op != SET_OP_DIFF:
        # Smallest input first (a stable sort, like glibc's merge-sort qsort).
        src.sort(key=zui_length)

    # member (bytes) -> score, the content of the result zset.
    result: dict[bytes, float] = {}
    cardinality = 0
    if op == SET_OP_INTER:
        if zui_length(src[0]) > 0:
            first = src[0]
            rest = src[1:]
            for ele, zscore in zui_iter(first):
                score = first.weight * zscore
                if score != score:
                    score = 0.0
                for other in rest:
                    if other.subject is first.subject:
                        value = zscore * other.weight
                    else:
                        value = zui_find(other, ele)
                        if value is None:
                            break
                        value *= other.weight
                    score = zunion_inter_aggregate(score, value, aggregate)
                else:
                    if cardinality_only:
                        cardinality += 1
                        if limit and cardinality >= limit:
                            break
                    else:
                        result[_as_bytes(ele)] = score
    elif op == SET_OP_UNION:
        for opsrc in src:
            if zui_length(opsrc) == 0:
                continue
            weight = opsrc.weight
            for ele, zscore in zui_iter(opsrc):
                score = weight * zscore
                if score != score:
                    score = 0.0
                ele = _as_bytes(ele)
                existing = result.get(ele)
                if existing is None:
                    result[ele] = score
                else:
                    result[ele] = zunion_inter_aggregate(existing, score, aggregate)
    else:
        zdiff(src, result)

    if dstkey is not None:
        if result:
            dstobj = create_zset_object()
            zs = dstobj.ptr
            zs.dict.expand(len(result))
            maxelelen = totelelen = 0
            for ele, score in result.items():
                zsl_insert(zs.zsl, score, ele)
                zs.dict.add(ele, score)
                n = len(ele)
                totelelen += n
                if n > maxelelen:
                    maxelelen = n
            zset_convert_to_listpack_if_needed(dstobj, maxelelen, totelelen, dstkey)
            dbmod.set_key(c, db, dstkey, dstobj, 0)
            net.add_reply_long_long(c, zset_length(dstobj))
            dbmod.notify_keyspace_event(
                dbmod.NOTIFY_ZSET,
                "zunionstore" if op == SET_OP_UNION else
                ("zinterstore" if op == SET_OP_INTER else "zdiffstore"), dstkey, db.id)
            server.dirty += 1
        else:
            net.add_reply(c, shared.czero)
            if dbmod.db_delete(db, dstkey):
                dbmod.signal_modified_key(c, db, dstkey)
                dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", dstkey, db.id)
                server.dirty += 1
    elif cardinality_only:
        net.add_reply_long_long(c, cardinality)
    else:
        pairs = sorted(result.items(), key=_by_score_then_member)
        resp = c.resp
        # WITHSCORES: one flat array in RESP2, [member, score] pairs in RESP3 (not a map:
        # the order matters).
        parts = [_arr(len(pairs) * 2 if withscores and resp == 2 else len(pairs))]
        append = parts.append
        for ele, score in pairs:
            if withscores:
                if resp > 2:
                    append(_PAIR)
                append(_bulk(ele))
                append(_dbl(resp, score))
            else:
                append(_bulk(ele))
        net.add_reply(c, b"".join(parts))


def _by_score_then_member(item: tuple[bytes, float]) -> tuple[float, bytes]:
    return item[1], item[0]


def zunionstore_command(c) -> None:
    """ZUNIONSTORE destination numkeys key [key ...] [WEIGHTS w ...] [AGGREGATE ...]."""
    zunion_inter_diff_generic_command(c, c.argv[1], 2, SET_OP_UNION)


def zinterstore_command(c) -> None:
    zunion_inter_diff_generic_command(c, c.argv[1], 2, SET_OP_INTER)


def zdiffstore_command(c) -> None:
    zunion_inter_diff_generic_command(c, c.argv[1], 2, SET_OP_DIFF)


def zunion_command(c) -> None:
    zunion_inter_diff_generic_command(c, None, 1, SET_OP_UNION)


def zinter_command(c) -> None:
    zunion_inter_diff_generic_command(c, None, 1, SET_OP_INTER)


def zintercard_command(c) -> None:
    """ZINTERCARD numkeys key [key ...] [LIMIT limit]."""
    zunion_inter_diff_generic_command(c, None, 1, SET_OP_INTER, True)


def zdiff_command(c) -> None:
    zunion_inter_diff_generic_command(c, None, 1, SET_OP_DIFF)


# --------------------------------------------------------------------------------------------
# ZRANGE and friends: result handlers (client reply or ZRANGESTORE destination)
# --------------------------------------------------------------------------------------------

class ZRangeResultHandler:
    """zrange_result_handler: where a range goes.  This base class replies to the client;
    :class:`ZRangeResultStoreHandler` fills a destination zset instead.

    ``begin(length)`` (beginResultEmission), ``emit(ele, score)`` (emitResultFromCBuffer /
    emitResultFromLongLong: ``ele`` bytes or a listpack int), ``finalize(count)``.
    """

    __slots__ = ("client", "withscores", "should_emit_array_length", "parts", "resp")

    def __init__(self, client) -> None:
        self.client = client
        self.withscores = False
        self.should_emit_array_length = False
        self.parts: list[bytes] = []
        self.resp = client.resp

    def score_emission_enable(self) -> None:
        """zrangeResultHandlerScoreEmissionEnable: scores too; [member, score] pairs in
        RESP3."""
        self.withscores = True
        self.should_emit_array_length = self.client.resp > 2

    def begin(self, length: int) -> None:
        # The reply is assembled in one piece at finalize, so the length is not needed up
        # front (Redis uses it to avoid a deferred length).
        pass

    def emit(self, ele: bytes | int, score: float) -> None:
        parts = self.parts
        if self.should_emit_array_length:
            parts.append(_PAIR)
        parts.append(_bulk(b"%d" % ele if ele.__class__ is int else ele))
        if self.withscores:
            parts.append(_dbl(self.resp, score))

    def finalize(self, result_count: int) -> None:
        n = result_count * 2 if self.withscores and self.resp == 2 else result_count
        self.parts.insert(0, _arr(n))
        net.add_reply(self.client, b"".join(self.parts))


class ZRangeResultStoreHandler(ZRangeResultHandler):
    """The ZRANGESTORE consumer: members go into a new zset stored at ``dstkey``."""

    __slots__ = ("dstkey", "dstobj")

    def __init__(self, client, dstkey: bytes) -> None:
        super().__init__(client)
        self.dstkey = dstkey
        self.dstobj: RObj | None = None

    def begin(self, length: int) -> None:
        """zrangeResultBeginStore: a listpack unless the range is known to be too long."""
        if length > server.zset_max_listpack_entries:
            self.dstobj = create_zset_object()
        else:
            self.dstobj = create_zset_listpack_object()

    def emit(self, ele: bytes | int, score: float) -> None:
        ok, _, _ = zset_add(self.dstobj, score, _as_bytes(ele), ZADD_IN_NONE, self.dstkey)
        if not ok:
            raise AssertionError("ZRANGESTORE: zsetAdd failed")

    def finalize(self, result_count: int) -> None:
        c = self.client
        db = c.db
        dstkey = self.dstkey
        if result_count:
            dbmod.set_key(c, db, dstkey, self.dstobj, 0)
            net.add_reply_long_long(c, result_count)
            dbmod.notify_keyspace_event(dbmod.NOTIFY_ZSET, "zrangestore", dstkey, db.id)
            server.dirty += 1
        else:
            net.add_reply(c, shared.czero)
            if dbmod.db_delete(db, dstkey):
                dbmod.signal_modified_key(c, db, dstkey)
                dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", dstkey, db.id)
                server.dirty += 1
        self.dstobj = None


def generic_zrangebyrank_command(handler: ZRangeResultHandler, zobj: RObj, start: int,
                                 end: int, withscores: bool, reverse: bool) -> None:
    """genericZrangebyrankCommand: ZRANGE by index (negative counts from the end)."""
    llen = zset_length(zobj)
    if start < 0:
        start += llen
    if end < 0:
        end += llen
    if start < 0:
        start = 0
    if start > end or start >= llen:
        handler.begin(0)
        handler.finalize(0)
        return
    if end >= llen:
        end = llen - 1
    rangelen = end - start + 1
    handler.begin(rangelen)
    emit = handler.emit
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        flat = lp_to_list(zobj.ptr)
        if reverse:
            first = 2 * (llen - 1 - start)
            idx = range(first, first - 2 * rangelen, -2)
        else:
            idx = range(2 * start, 2 * (start + rangelen), 2)
        for i in idx:
            emit(flat[i], _score_of(flat[i + 1]) if withscores else 0.0)
    else:
        zsl = zobj.ptr.zsl
        if reverse:
            ln = zsl.tail
            if start > 0:
                ln = zsl_get_element_by_rank(zsl, llen - start)
            for _ in range(rangelen):
                emit(ln.ele, ln.score)
                ln = ln.backward
        else:
            ln = zsl.header.level[0].forward
            if start > 0:
                ln = zsl_get_element_by_rank(zsl, start + 1)
            for _ in range(rangelen):
                emit(ln.ele, ln.score)
                ln = ln.level[0].forward
    handler.finalize(rangelen)


def generic_zrangebyscore_command(handler: ZRangeResultHandler, spec: ZRangeSpec,
                                  zobj: RObj, offset: int, limit: int, reverse: bool) -> None:
    """genericZrangebyscoreCommand: members with a score in ``spec``, skipping ``offset``
    (a negative offset skips everything), at most ``limit`` (negative: no limit)."""
    rangelen = 0
    handler.begin(-1)
    if offset > 0 and offset >= zset_length(zobj):
        handler.finalize(0)
        return
    emit = handler.emit
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        flat = lp_to_list(zobj.ptr)
        scores = [_score_of(s) for s in flat[1::2]]
        n = len(scores)
        i = zzl_last_in_range(scores, spec) if reverse else zzl_first_in_range(scores, spec)
        if i >= 0:
            if offset < 0:
                i = -1
            else:
                i = i - offset if reverse else i + offset
        while 0 <= i < n and limit != 0:
            limit -= 1
            score = scores[i]
            if reverse:
                if not zsl_value_gte_min(score, spec):
                    break
            elif not zsl_value_lte_max(score, spec):
                break
            rangelen += 1
            emit(flat[2 * i], score)
            i = i - 1 if reverse else i + 1
    else:
        zsl = zobj.ptr.zsl
        ln = zsl_last_in_range(zsl, spec) if reverse else zsl_first_in_range(zsl, spec)
        while ln is not None and offset:
            offset -= 1
            ln = ln.backward if reverse else ln.level[0].forward
        while ln is not None and limit != 0:
            limit -= 1
            if reverse:
                if not zsl_value_gte_min(ln.score, spec):
                    break
            elif not zsl_value_lte_max(ln.score, spec):
                break
            rangelen += 1
            emit(ln.ele, ln.score)
            ln = ln.backward if reverse else ln.level[0].forward
    handler.finalize(rangelen)


def generic_zrangebylex_command(handler: ZRangeResultHandler, spec: ZLexRangeSpec,
                                zobj: RObj, withscores: bool, offset: int, limit: int,
                                reverse: bool) -> None:
    """genericZrangebylexCommand: members inside the lex ``spec`` (offset/limit as for
    scores, without the early offset check)."""
    rangelen = 0
    handler.begin(-1)
    emit = handler.emit
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        flat = lp_to_list(zobj.ptr)
        eles = [b"%d" % e if e.__class__ is int else e for e in flat[0::2]]
        n = len(eles)
        i = zzl_last_in_lex_range(eles, spec) if reverse else \
            zzl_first_in_lex_range(eles, spec)
        if i >= 0:
            if offset < 0:
                i = -1
            else:
                i = i - offset if reverse else i + offset
        while 0 <= i < n and limit != 0:
            limit -= 1
            ele = eles[i]
            if reverse:
                if not zsl_lex_value_gte_min(ele, spec):
                    break
            elif not zsl_lex_value_lte_max(ele, spec):
                break
            rangelen += 1
            emit(ele, _score_of(flat[2 * i + 1]) if withscores else 0.0)
            i = i - 1 if reverse else i + 1
    else:
        zsl = zobj.ptr.zsl
        ln = zsl_last_in_lex_range(zsl, spec) if reverse else \
            zsl_first_in_lex_range(zsl, spec)
        while ln is not None and offset:
            offset -= 1
            ln = ln.backward if reverse else ln.level[0].forward
        while ln is not None and limit != 0:
            limit -= 1
            if reverse:
                if not zsl_lex_value_gte_min(ln.ele, spec):
                    break
            elif not zsl_lex_value_lte_max(ln.ele, spec):
                break
            rangelen += 1
            emit(ln.ele, ln.score)
            ln = ln.backward if reverse else ln.level[0].forward
    handler.finalize(rangelen)


def zrange_generic_command(handler: ZRangeResultHandler, argc_start: int, store: bool,
                           rangetype: int, direction: int) -> None:
    """zrangeGenericCommand: ZRANGE / ZRANGESTORE and the legacy Z[REV]RANGE[BYSCORE|BYLEX].

    Syntax from ``argc_start`` (the source key): ``<src> <min> <max> [BYSCORE|BYLEX] [REV]
    [WITHSCORES] [LIMIT offset count]``; the legacy commands pass a fixed type/direction.
    """
    c = handler.client
    argv = c.argv
    argc = len(argv)
    key = argv[argc_start]
    minidx = argc_start + 1
    maxidx = argc_start + 2
    opt_withscores = False
    opt_offset = 0
    opt_limit = -1

    j = argc_start + 3
    while j < argc:
        leftargs = argc - j - 1
        opt = argv[j].lower()
        if not store and opt == b"withscores":
            opt_withscores = True
        elif opt == b"limit" and leftargs >= 2:
            opt_offset = dbmod.get_long_long_from_object_or_reply(c, argv[j + 1])
            if opt_offset is None:
                return
            opt_limit = dbmod.get_long_long_from_object_or_reply(c, argv[j + 2])
            if opt_limit is None:
                return
            j += 2
        elif direction == ZRANGE_DIRECTION_AUTO and opt == b"rev":
            direction = ZRANGE_DIRECTION_REVERSE
        elif rangetype == ZRANGE_AUTO and opt == b"bylex":
            rangetype = ZRANGE_LEX
        elif rangetype == ZRANGE_AUTO and opt == b"byscore":
            rangetype = ZRANGE_SCORE
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1

    if direction == ZRANGE_DIRECTION_AUTO:
        direction = ZRANGE_DIRECTION_FORWARD
    if rangetype == ZRANGE_AUTO:
        rangetype = ZRANGE_RANK

    if opt_limit != -1 and rangetype == ZRANGE_RANK:
        net.add_reply_error(c, shared.ZRANGE_LIMIT_NEEDS_BY)
        return
    if opt_withscores and rangetype == ZRANGE_LEX:
        net.add_reply_error(c, shared.ZRANGE_WITHSCORES_BYLEX)
        return
    reverse = direction == ZRANGE_DIRECTION_REVERSE
    if reverse and rangetype in (ZRANGE_SCORE, ZRANGE_LEX):
        # The range is given as <max> <min>.
        minidx, maxidx = maxidx, minidx

    start = end = 0
    spec = lexspec = None
    if rangetype == ZRANGE_RANK:
        start = dbmod.get_long_long_from_object_or_reply(c, argv[minidx])
        if start is None:
            return
        end = dbmod.get_long_long_from_object_or_reply(c, argv[maxidx])
        if end is None:
            return
    elif rangetype == ZRANGE_SCORE:
        spec = zsl_parse_range(argv[minidx], argv[maxidx])
        if spec is None:
            net.add_reply_error(c, MINMAX_NOT_FLOAT)
            return
    else:
        lexspec = zsl_parse_lex_range(argv[minidx], argv[maxidx])
        if lexspec is None:
            net.add_reply_error(c, MINMAX_NOT_STRING)
            return

    if opt_withscores or store:
        handler.score_emission_enable()

    zobj = dbmod.lookup_key_read(c.db, key)
    if zobj is None:
        if store:
            handler.begin(-1)
            handler.finalize(0)
        else:
            net.add_reply(c, shared.emptyarray)
        return
    if dbmod.check_type(c, zobj, OBJ_ZSET):
        return

    if rangetype == ZRANGE_RANK:
        generic_zrangebyrank_command(handler, zobj, start, end, opt_withscores or store,
                                     reverse)
    elif rangetype == ZRANGE_SCORE:
        generic_zrangebyscore_command(handler, spec, zobj, opt_offset, opt_limit, reverse)
    else:
        generic_zrangebylex_command(handler, lexspec, zobj, opt_withscores or store,
                                    opt_offset, opt_limit, reverse)


def zrangestore_command(c) -> None:
    """ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]."""
    zrange_generic_command(ZRangeResultStoreHandler(c, c.argv[1]), 2, True, ZRANGE_AUTO,
                           ZRANGE_DIRECTION_AUTO)


def zrange_command(c) -> None:
    """ZRANGE key min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES]."""
    zrange_generic_command(ZRangeResultHandler(c), 1, False, ZRANGE_AUTO,
                           ZRANGE_DIRECTION_AUTO)


def zrevrange_command(c) -> None:
    """ZREVRANGE key start stop [WITHSCORES]."""
    zrange_generic_command(ZRangeResultHandler(c), 1, False, ZRANGE_RANK,
                           ZRANGE_DIRECTION_REVERSE)


def zrangebyscore_command(c) -> None:
    """ZRANGEBYSCORE key min max [WITHSCORES] [LIMIT offset count]."""
    zrange_generic_command(ZRangeResultHandler(c), 1, False, ZRANGE_SCORE,
                           ZRANGE_DIRECTION_FORWARD)


def zrevrangebyscore_command(c) -> None:
    """ZREVRANGEBYSCORE key max min [WITHSCORES] [LIMIT offset count]."""
    zrange_generic_command(ZRangeResultHandler(c), 1, False, ZRANGE_SCORE,
                           ZRANGE_DIRECTION_REVERSE)


def zrangebylex_command(c) -> None:
    """ZRANGEBYLEX key min max [LIMIT offset count]."""
    zrange_generic_command(ZRangeResultHandler(c), 1, False, ZRANGE_LEX,
                           ZRANGE_DIRECTION_FORWARD)


def zrevrangebylex_command(c) -> None:
    """ZREVRANGEBYLEX key max min [LIMIT offset count]."""
    zrange_generic_command(ZRangeResultHandler(c), 1, False, ZRANGE_LEX,
                           ZRANGE_DIRECTION_REVERSE)


# --------------------------------------------------------------------------------------------
# ZCOUNT ZLEXCOUNT ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK ZSCAN
# --------------------------------------------------------------------------------------------

def zcount_command(c) -> None:
    """ZCOUNT key min max: on a skiplist, two rank lookups instead of a walk."""
    argv = c.argv
    spec = zsl_parse_range(argv[2], argv[3])
    if spec is None:
        net.add_reply_error(c, MINMAX_NOT_FLOAT)
        return
    zobj = dbmod.lookup_key_read_or_reply(c, argv[1], shared.czero)
    if zobj is None or dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    count = 0
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        _, scores = zzl_decode(zobj.ptr)
        i = zzl_first_in_range(scores, spec)
        if i >= 0:
            for s in scores[i:]:
                if not zsl_value_lte_max(s, spec):
                    break
                count += 1
    else:
        zsl = zobj.ptr.zsl
        zn = zsl_first_in_range(zsl, spec)
        if zn is not None:
            rank = zsl_get_rank(zsl, zn.score, zn.ele)
            count = zsl.length - (rank - 1)
            zn = zsl_last_in_range(zsl, spec)
            if zn is not None:
                rank = zsl_get_rank(zsl, zn.score, zn.ele)
                count -= zsl.length - rank
    net.add_reply_long_long(c, count)


def zlexcount_command(c) -> None:
    """ZLEXCOUNT key min max."""
    argv = c.argv
    spec = zsl_parse_lex_range(argv[2], argv[3])
    if spec is None:
        net.add_reply_error(c, MINMAX_NOT_STRING)
        return
    zobj = dbmod.lookup_key_read_or_reply(c, argv[1], shared.czero)
    if zobj is None or dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    count = 0
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        eles, _ = zzl_decode(zobj.ptr)
        i = zzl_first_in_lex_range(eles, spec)
        if i >= 0:
            for e in eles[i:]:
                if not zsl_lex_value_lte_max(e, spec):
                    break
                count += 1
    else:
        zsl = zobj.ptr.zsl
        zn = zsl_first_in_lex_range(zsl, spec)
        if zn is not None:
            rank = zsl_get_rank(zsl, zn.score, zn.ele)
            count = zsl.length - (rank - 1)
            zn = zsl_last_in_lex_range(zsl, spec)
            if zn is not None:
                rank = zsl_get_rank(zsl, zn.score, zn.ele)
                count -= zsl.length - rank
    net.add_reply_long_long(c, count)


def zcard_command(c) -> None:
    """ZCARD key."""
    zobj = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.czero)
    if zobj is None or dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    net.add_reply_long_long(c, zset_length(zobj))


def zscore_command(c) -> None:
    """ZSCORE key member: a bulk string in RESP2 ("%.17g"), a double in RESP3."""
    zobj = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.null[c.resp])
    if zobj is None or dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    score = zset_score(zobj, c.argv[2])
    if score is None:
        net.add_reply_null(c)
    else:
        net.add_reply(c, _dbl(c.resp, score))


def zmscore_command(c) -> None:
    """ZMSCORE key member [member ...]: a missing key answers nulls."""
    argv = c.argv
    zobj = dbmod.lookup_key_read(c.db, argv[1])
    if dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    resp = c.resp
    nullb = shared.null[resp]
    parts = [_arr(len(argv) - 2)]
    for ele in argv[2:]:
        score = zset_score(zobj, ele)
        parts.append(nullb if score is None else _dbl(resp, score))
    net.add_reply(c, b"".join(parts))


def zrank_generic_command(c, reverse: bool) -> None:
    """zrankGenericCommand: ZRANK / ZREVRANK."""
    zobj = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.null[c.resp])
    if zobj is None or dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    rank = zset_rank(zobj, c.argv[2], reverse)
    if rank >= 0:
        net.add_reply_long_long(c, rank)
    else:
        net.add_reply_null(c)


def zrank_command(c) -> None:
    zrank_generic_command(c, False)


def zrevrank_command(c) -> None:
    zrank_generic_command(c, True)


def zscan_command(c) -> None:
    """ZSCAN key cursor [MATCH pattern] [COUNT count] (db.scan_generic_command walks it)."""
    cursor = dbmod.parse_scan_cursor_or_reply(c, c.argv[2])
    if cursor is None:
        return
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.emptyscan)
    if o is None or dbmod.check_type(c, o, OBJ_ZSET):
        return
    dbmod.scan_generic_command(c, o, cursor)


def _zset_scan_emit(de, out: list) -> None:
    out.append(de.key)
    out.append(util.ld2string(de.val, util.LD_STR_AUTO))


def zset_scan_source(o: RObj):
    """db.scan_funcs hook: a skiplist zset is scanned through its dict by cursor, scores
    printed like createStringObjectFromLongDouble ("%.17Lg"); a listpack is small and
    returned whole (cursor 0) with its entries as stored (integral scores as integers)."""
    if o.encoding == OBJ_ENCODING_SKIPLIST:
        return o.ptr.dict, True, _zset_scan_emit
    return None, True, [b"%d" % v if v.__class__ is int else v for v in lp_iter(o.ptr)]


# --------------------------------------------------------------------------------------------
# ZPOPMIN ZPOPMAX ZMPOP and the blocking BZPOPMIN BZPOPMAX BZMPOP
# --------------------------------------------------------------------------------------------

def generic_zpop_command(c, keyv: list[bytes], where: int, emitkey: bool, count: int,
                         use_nested_array: bool, reply_nil_when_empty: bool) -> bool:
    """genericZpopCommand: pop up to ``count`` members (-1: a plain single pop) from the
    first existing key of ``keyv``.  Returns True when the key was deleted (emptied).

    Reply shapes: flat [member, score, ...] (ZPOPMIN/ZPOPMAX in RESP2, or without count);
    nested [[member, score], ...] (ZPOPMIN/ZPOPMAX with count in RESP3); [key, member,
    score] (BZPOPMIN/BZPOPMAX); [key, [[member, score], ...]] (ZMPOP/BZMPOP).  Also used by
    blocked.py to serve a client blocked on a sorted set.
    """
    db = c.db
    key = None
    zobj = None
    for k in keyv:
        key = k
        zobj = dbmod.lookup_key_write(db, k)
        if zobj is None:
            continue
        if dbmod.check_type(c, zobj, OBJ_ZSET):
            return False
        break
    if zobj is None:
        if reply_nil_when_empty:
            net.add_reply_null_array(c)
        else:
            net.add_reply(c, shared.emptyarray)
        return False
    if count == 0:
        net.add_reply(c, shared.emptyarray)
        return False
    if count == -1:
        count = 1
    llen = zset_length(zobj)
    rangelen = count if count < llen else llen
    resp = c.resp

    if not use_nested_array and not emitkey:
        parts = [_arr(rangelen * 2)]
    elif use_nested_array and not emitkey:
        parts = [_arr(rangelen)]
    elif not use_nested_array and emitkey:
        parts = [_arr(rangelen * 2 + 1), _bulk(key)]
    else:
        parts = [_mbulkhdr[2], _bulk(key), _arr(rangelen)]

    result_count = 0
    while rangelen:
        rangelen -= 1
        if zobj.encoding == OBJ_ENCODING_LISTPACK:
            lp = zobj.ptr
            eptr = lp_seek(lp, -2 if where == ZSET_MAX else 0)
            ele = lp_get_bytes(lp, eptr)
            score = zzl_get_score(lp, lp_skip(lp, eptr))
            zzl_delete(lp, eptr)
        else:
            zs = zobj.ptr
            zln = zs.zsl.tail if where == ZSET_MAX else zs.zsl.header.level[0].forward
            ele = zln.ele
            score = zln.score
            if not zset_del(zobj, ele):
                raise AssertionError("genericZpopCommand: zsetDel failed")
        server.dirty += 1
        if result_count == 0:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_ZSET,
                                        "zpopmax" if where == ZSET_MAX else "zpopmin",
                                        key, db.id)
            dbmod.signal_modified_key(c, db, key)
        if use_nested_array:
            parts.append(_PAIR)
        parts.append(_bulk(ele))
        parts.append(_dbl(resp, score))
        result_count += 1
    net.add_reply(c, b"".join(parts))

    deleted = False
    if zset_length(zobj) == 0:
        deleted = True
        dbmod.db_delete(db, key)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, db.id)

    if c.cmd is not None and c.cmd.name == "zmpop":
        # ZMPOP is replicated as ZPOPMIN/ZPOPMAX with the count actually popped.
        net.rewrite_client_command_vector(
            c, [b"ZPOPMAX" if where == ZSET_MAX else b"ZPOPMIN", key,
                b"%d" % (count if count < llen else llen)])
    return deleted


def zpop_min_max_command(c, where: int) -> None:
    """zpopMinMaxCommand: ZPOPMIN/ZPOPMAX key [count]."""
    argv = c.argv
    if len(argv) > 3:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    count = -1
    if len(argv) == 3:
        count = dbmod.get_range_long_from_object_or_reply(
            c, argv[2], 0, LONG_MAX, shared.MUST_BE_POSITIVE)
        if count is None:
            return
    # A flat array in RESP2 or for a single pop; pairs nested in RESP3 with a count.
    generic_zpop_command(c, [argv[1]], where, False, count, c.resp > 2 and count != -1,
                         False)


def zpopmin_command(c) -> None:
    zpop_min_max_command(c, ZSET_MIN)


def zpopmax_command(c) -> None:
    zpop_min_max_command(c, ZSET_MAX)


def blocking_generic_zpop_command(c, keys: list[bytes], where: int, timeout_idx: int,
                                  count: int, use_nested_array: bool,
                                  reply_nil_when_empty: bool) -> None:
    """blockingGenericZpopCommand: pop from the first non-empty key, else block.

    A served call is replicated as ZPOPMIN/ZPOPMAX key [count], never as the blocking form.
    """
    timeout = blocked.get_timeout_from_object_or_reply(c, c.argv[timeout_idx])
    if timeout is None:
        return
    db = c.db
    for key in keys:
        o = dbmod.lookup_key_write(db, key)
        if o is None:
            continue
        if dbmod.check_type(c, o, OBJ_ZSET):
            return
        llen = zset_length(o)
        if llen == 0:
            continue
        generic_zpop_command(c, [key], where, True, count, use_nested_array,
                             reply_nil_when_empty)
        name = b"ZPOPMAX" if where == ZSET_MAX else b"ZPOPMIN"
        if count == -1:
            net.rewrite_client_command_vector(c, [name, key])
        else:
            net.rewrite_client_command_vector(
                c, [name, key, b"%d" % (count if count < llen else llen)])
        return
    # A client that may not block (MULTI, scripts) gets what a timeout would give it.
    if blocked.client_deny_blocking(c):
        net.add_reply_null_array(c)
        return
    blocked.block_for_zset_keys(c, keys, count, timeout, where)


def bzpopmin_command(c) -> None:
    """BZPOPMIN key [key ...] timeout."""
    blocking_generic_zpop_command(c, c.argv[1:-1], ZSET_MIN, len(c.argv) - 1, -1, False,
                                  False)


def bzpopmax_command(c) -> None:
    """BZPOPMAX key [key ...] timeout."""
    blocking_generic_zpop_command(c, c.argv[1:-1], ZSET_MAX, len(c.argv) - 1, -1, False,
                                  False)


# ZRANDMEMBER with count: when the zset is at most this many times the count, copy it and
# remove random members instead of drawing unique ones.
ZRANDMEMBER_SUB_STRATEGY_MUL = 3
# At most this many random picks are formatted at a time (bounds the reply buffer growth).
ZRANDMEMBER_RANDOM_SAMPLE_LIMIT = 1000


def _zrandmember_reply_with_listpack(resp: int, parts: list, keys: list,
                                     vals: list | None) -> None:
    """zrandmemberReplyWithListpack: members (with scores; pairs nested in RESP3)."""
    append = parts.append
    nested = vals is not None and resp > 2
    for i, k in enumerate(keys):
        if nested:
            append(_PAIR)
        append(_bulk(b"%d" % k if k.__class__ is int else k))
        if vals is not None:
            append(_dbl(resp, _score_of(vals[i])))


def zrandmember_with_count_command(c, l: int, withscores: bool) -> None:
    """zrandmemberWithCountCommand: Redis's four cases, chosen by count vs size.

    1. negative count (repeats allowed) or count 1: independent random picks;
    2. count >= size: the whole zset (walked from the highest score down);
    3. count*3 > size: copy everything into a dict, remove random members;
    4. otherwise: unique random picks (one pass over a listpack, retries on a dict).
    """
    zsetobj = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.emptyarray)
    if zsetobj is None or dbmod.check_type(c, zsetobj, OBJ_ZSET):
        return
    size = zset_length(zsetobj)
    if l >= 0:
        count = l
        uniq = True
    else:
        count = -l
        uniq = False
    if count == 0:
        net.add_reply(c, shared.emptyarray)
        return
    resp = c.resp
    nested = withscores and resp > 2

    # CASE 1
    if not uniq or count == 1:
        net.add_reply(c, _arr(count * 2 if withscores and resp == 2 else count))
        if zsetobj.encoding == OBJ_ENCODING_SKIPLIST:
            d = zsetobj.ptr.dict
            while count:
                batch = min(count, ZRANDMEMBER_RANDOM_SAMPLE_LIMIT)
                count -= batch
                parts: list[bytes] = []
                for _ in range(batch):
                    de = d.get_fair_random_key()
                    if nested:
                        parts.append(_PAIR)
                    parts.append(_bulk(de.key))
                    if withscores:
                        parts.append(_dbl(resp, de.val))
                net.add_reply(c, b"".join(parts))
                if c.flags & net.CLIENT_CLOSE_ASAP:
                    break
        else:
            while count:
                sample = min(count, ZRANDMEMBER_RANDOM_SAMPLE_LIMIT)
                count -= sample
                keys, vals = lp_random_pairs(zsetobj.ptr, sample, withscores)
                parts = []
                _zrandmember_reply_with_listpack(resp, parts, keys, vals)
                net.add_reply(c, b"".join(parts))
                if c.flags & net.CLIENT_CLOSE_ASAP:
                    break
        return

    reply_size = count if count < size else size
    parts = [_arr(reply_size * 2 if withscores and resp == 2 else reply_size)]
    append = parts.append

    # CASE 2
    if count >= size:
        for ele, score in zui_iter(ZSetOpSrc(zsetobj)):
            if nested:
                append(_PAIR)
            append(_bulk(_as_bytes(ele)))
            if withscores:
                append(_dbl(resp, score))
        net.add_reply(c, b"".join(parts))
        return

    # CASE 3
    if count * ZRANDMEMBER_SUB_STRATEGY_MUL > size:
        d = dictmod.Dict()
        d.expand(size)
        for ele, score in zui_iter(ZSetOpSrc(zsetobj)):
            d.add(_as_bytes(ele), score)
        while size > count:
            d.delete(d.get_fair_random_key().key)
            size -= 1
        for de in d.iterator():
            if nested:
                append(_PAIR)
            append(_bulk(de.key))
            if withscores:
                append(_dbl(resp, de.val))
        net.add_reply(c, b"".join(parts))
        return

    # CASE 4
    if zsetobj.encoding == OBJ_ENCODING_LISTPACK:
        keys, vals = lp_random_pairs_unique(zsetobj.ptr, count, withscores)
        if len(keys) != count:
            raise AssertionError("lpRandomPairsUnique returned too few pairs")
        _zrandmember_reply_with_listpack(resp, parts, keys, vals)
        net.add_reply(c, b"".join(parts))
        return
    picked = dictmod.Dict()
    picked.expand(count)
    added = 0
    while added < count:
        ele, score = zset_type_random_element(zsetobj, size)
        ele = _as_bytes(ele)
        if not picked.add(ele, None):
            continue
        added += 1
        if nested:
            append(_PAIR)
        append(_bulk(ele))
        if withscores:
            append(_dbl(resp, score))
    net.add_reply(c, b"".join(parts))


def zrandmember_command(c) -> None:
    """ZRANDMEMBER key [count [WITHSCORES]]."""
    argv = c.argv
    argc = len(argv)
    if argc >= 3:
        l = dbmod.get_range_long_from_object_or_reply(c, argv[2], -LONG_MAX, LONG_MAX)
        if l is None:
            return
        if argc > 4 or (argc == 4 and argv[3].lower() != b"withscores"):
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        withscores = argc == 4
        if withscores and (l < -(LONG_MAX // 2) or l > LONG_MAX // 2):
            net.add_reply_error(c, shared.VALUE_OUT_OF_RANGE)
            return
        zrandmember_with_count_command(c, l, withscores)
        return
    zobj = dbmod.lookup_key_read_or_reply(c, argv[1], shared.null[c.resp])
    if zobj is None or dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    ele, _ = zset_type_random_element(zobj, zset_length(zobj))
    net.add_reply_bulk(c, _as_bytes(ele))


def zmpop_generic_command(c, numkeys_idx: int, is_block: bool) -> None:
    """zmpopGenericCommand: [B]ZMPOP [timeout] numkeys key [key ...] MIN|MAX [COUNT count]."""
    argv = c.argv
    argc = len(argv)
    numkeys = dbmod.get_range_long_from_object_or_reply(
        c, argv[numkeys_idx], 1, LONG_MAX, shared.NUMKEYS_NOT_POSITIVE)
    if numkeys is None:
        return
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= argc:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    w = argv[where_idx].lower()
    if w == b"min":
        where = ZSET_MIN
    elif w == b"max":
        where = ZSET_MAX
    else:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    count = -1
    j = where_idx + 1
    while j < argc:
        moreargs = argc - 1 - j
        if count == -1 and argv[j].lower() == b"count" and moreargs:
            j += 1
            count = dbmod.get_range_long_from_object_or_reply(
                c, argv[j], 1, LONG_MAX, shared.COUNT_NOT_POSITIVE)
            if count is None:
                return
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1
    if count == -1:
        count = 1
    keys = argv[numkeys_idx + 1:numkeys_idx + 1 + numkeys]
    if is_block:
        blocking_generic_zpop_command(c, keys, where, 1, count, True, True)
    else:
        generic_zpop_command(c, keys, where, True, count, True, True)


def zmpop_command(c) -> None:
    """ZMPOP numkeys key [key ...] MIN|MAX [COUNT count]."""
    zmpop_generic_command(c, 1, False)


def bzmpop_command(c) -> None:
    """BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]."""
    zmpop_generic_command(c, 2, True)


# --------------------------------------------------------------------------------------------
# Per-type hooks: MEMORY USAGE, DEBUG DIGEST, COPY, length, preview, ZSCAN
# --------------------------------------------------------------------------------------------

def zset_memory_usage(o: RObj, samples: int) -> int:
    """objectComputeSize for a zset: the listpack, or the zset/skiplist/dict structs, the
    header node and table, plus the average of the first ``samples`` elements (0 = all:
    member sds, skiplist node, dict entry) times the number of members."""
    if o.encoding == OBJ_ENCODING_LISTPACK:
        return ROBJ_SIZE + zmalloc_size(len(o.ptr))
    zs = o.ptr
    d = zs.dict
    asize = (ROBJ_SIZE + ZSET_SIZE + ZSKIPLIST_SIZE + DICT_SIZE + POINTER_SIZE * d.slots()
             + zmalloc_size(ZSKIPLIST_NODE_SIZE + ZSKIPLIST_MAXLEVEL * ZSKIPLIST_LEVEL_SIZE))
    elesize = 0
    n = 0
    x = zs.zsl.header.level[0].forward
    while x is not None and (not samples or n < samples):
        elesize += sds_zmalloc_size(len(x.ele)) + DICT_ENTRY_SIZE + zmalloc_size(
            ZSKIPLIST_NODE_SIZE + len(x.level) * ZSKIPLIST_LEVEL_SIZE)
        n += 1
        x = x.level[0].forward
    if n:
        asize += int(elesize / n * len(d))
    return asize


def zset_digest_value(o: RObj) -> list[tuple[bytes, float]]:
    """digest.py's plain zset form: (member, score) with the score as stored (a listpack's
    integral scores read back as integers, so -0 digests as 0 there)."""
    return list(zset_type_iter(o))


def zset_preview(o: RObj, limit: int) -> str:
    """At most ``limit`` members as ``{m1: s1, ...}`` in rank order, for the inspector."""
    out = []
    for n, (ele, score) in enumerate(zset_type_iter(o)):
        if n >= limit:
            out.append("...")
            break
        out.append(f"{ele.decode('utf-8', 'replace')!r}: {util.fmt_17g(score).decode()}")
    return "{" + ", ".join(out) + "}"


obj.memory_usage_funcs[OBJ_ZSET] = zset_memory_usage
obj.digest_value_funcs[OBJ_ZSET] = zset_digest_value
obj.dup_funcs[OBJ_ZSET] = zset_dup
obj.length_funcs[OBJ_ZSET] = zset_length
obj.preview_funcs[OBJ_ZSET] = zset_preview
dbmod.scan_funcs[OBJ_ZSET] = zset_scan_source


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

def _ks(flags: str, begin: int = 1, lastkey: int = 0) -> KeySpec:
    return KeySpec(flags, begin, lastkey=lastkey, keystep=1)


def _ks_keynum(flags: str, begin: int) -> KeySpec:
    return KeySpec(flags, begin, kind="keynum", keynumidx=0, firstkey=1, keystep=1)


def _hist(c, *history: tuple[str, str]):
    c.history = list(history)
    return c


_RANGE_CX = ("O(log(N)+M) with N being the number of elements in the sorted set and M the "
             "number of elements being returned. If M is constant (e.g. always asking for "
             "the first 10 elements with LIMIT), you can consider it O(log(N)).")
_REMRANGE_CX = ("O(log(N)+M) with N being the number of elements in the sorted set and M "
                "the number of elements removed by the operation.")
_POP_CX = ("O(log(N)*M) with N being the number of elements in the sorted set, and M being "
           "the number of elements popped.")
_MPOP_CX = ("O(K) + O(M*log(N)) where K is the number of provided keys, N being the number "
            "of elements in the sorted set, and M being the number of elements popped.")
_UNION_CX = ("O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, "
             "and M being the number of elements in the resulting sorted set.")
_INTER_CX = ("O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K "
             "being the number of input sorted sets and M being the number of elements in "
             "the resulting sorted set.")
_DIFF_CX = ("O(L + (N-K)log(N)) worst case where L is the total number of elements in all "
            "the sets, N is the size of the first set, and K is the size of the result set.")
_SETOP_ARGS = ("numkeys key [key ...] [WEIGHTS weight:integer [weight:integer ...]] "
               "[AGGREGATE SUM|MIN|MAX]")

COMMANDS = [
    cmd("bzmpop", bzmpop_command, -5, "write blocking movablekeys", acl="sortedset",
        group="sorted-set", since="7.0.0", complexity=_MPOP_CX,
        summary="Remove and return members with scores in a sorted set or block until one "
                "is available",
        args="timeout:double numkeys key [key ...] MIN|MAX [COUNT count]",
        key_specs=[_ks_keynum("RW access delete", 2)]),
    _hist(cmd("bzpopmax", bzpopmax_command, -3, "write noscript fast blocking",
              keys=(1, -2, 1), acl="sortedset", group="sorted-set", since="5.0.0",
              complexity="O(log(N)) with N being the number of elements in the sorted set.",
              summary="Remove and return the member with the highest score from one or more "
                      "sorted sets, or block until one is available",
              args="key [key ...] timeout:double",
              key_specs=[_ks("RW access delete", 1, -2)]),
          ("6.0.0", "`timeout` is interpreted as a double instead of an integer.")),
    _hist(cmd("bzpopmin", bzpopmin_command, -3, "write noscript fast blocking",
              keys=(1, -2, 1), acl="sortedset", group="sorted-set", since="5.0.0",
              complexity="O(log(N)) with N being the number of elements in the sorted set.",
              summary="Remove and return the member with the lowest score from one or more "
                      "sorted sets, or block until one is available",
              args="key [key ...] timeout:double",
              key_specs=[_ks("RW access delete", 1, -2)]),
          ("6.0.0", "`timeout` is interpreted as a double instead of an integer.")),
    _hist(cmd("zadd", zadd_command, -4, "write denyoom fast", keys=(1, 1, 1),
              acl="sortedset", group="sorted-set", since="1.2.0",
              complexity="O(log(N)) for each item added, where N is the number of elements "
                         "in the sorted set.",
              summary="Add one or more members to a sorted set, or update its score if it "
                      "already exists",
              args="key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]",
              key_specs=[_ks("RW update")]),
          ("2.4.0", "Accepts multiple elements."),
          ("3.0.2", "Added the `XX`, `NX`, `CH` and `INCR` options."),
          ("6.2.0", "Added the `GT` and `LT` options.")),
    cmd("zcard", zcard_command, 2, "readonly fast", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="1.2.0", summary="Get the number of members in a sorted set",
        args="key", key_specs=[_ks("RO")]),
    cmd("zcount", zcount_command, 4, "readonly fast", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="2.0.0",
        complexity="O(log(N)) with N being the number of elements in the sorted set.",
        summary="Count the members in a sorted set with scores within the given values",
        args="key min:double max:double", key_specs=[_ks("RO access")]),
    cmd("zdiff", zdiff_command, -3, "readonly movablekeys", acl="sortedset",
        group="sorted-set", since="6.2.0", complexity=_DIFF_CX,
        summary="Subtract multiple sorted sets", args="numkeys key [key ...] [WITHSCORES]",
        key_specs=[_ks_keynum("RO access", 1)]),
    cmd("zdiffstore", zdiffstore_command, -4, "write denyoom movablekeys", keys=(1, 1, 1),
        acl="sortedset", group="sorted-set", since="6.2.0", complexity=_DIFF_CX,
        summary="Subtract multiple sorted sets and store the resulting sorted set in a new "
                "key",
        args="destination numkeys key [key ...]",
        key_specs=[_ks("OW update"), _ks_keynum("RO access", 2)]),
    cmd("zincrby", zincrby_command, 4, "write denyoom fast", keys=(1, 1, 1),
        acl="sortedset", group="sorted-set", since="1.2.0",
        complexity="O(log(N)) where N is the number of elements in the sorted set.",
        summary="Increment the score of a member in a sorted set",
        args="key increment member", key_specs=[_ks("RW access update")]),
    cmd("zinter", zinter_command, -3, "readonly movablekeys", acl="sortedset",
        group="sorted-set", since="6.2.0", complexity=_INTER_CX,
        summary="Intersect multiple sorted sets", args=_SETOP_ARGS + " [WITHSCORES]",
        key_specs=[_ks_keynum("RO access", 1)]),
    cmd("zintercard", zintercard_command, -3, "readonly movablekeys", acl="sortedset",
        group="sorted-set", since="7.0.0",
        complexity="O(N*K) worst case with N being the smallest input sorted set, K being "
                   "the number of input sorted sets.",
        summary="Intersect multiple sorted sets and return the cardinality of the result",
        args="numkeys key [key ...] [LIMIT limit:integer]",
        key_specs=[_ks_keynum("RO access", 1)]),
    cmd("zinterstore", zinterstore_command, -4, "write denyoom movablekeys", keys=(1, 1, 1),
        acl="sortedset", group="sorted-set", since="2.0.0", complexity=_INTER_CX,
        summary="Intersect multiple sorted sets and store the resulting sorted set in a new "
                "key",
        args="destination " + _SETOP_ARGS,
        key_specs=[_ks("OW update"), _ks_keynum("RO access", 2)]),
    cmd("zlexcount", zlexcount_command, 4, "readonly fast", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="2.8.9",
        complexity="O(log(N)) with N being the number of elements in the sorted set.",
        summary="Count the number of members in a sorted set between a given "
                "lexicographical range",
        args="key min:string max:string", key_specs=[_ks("RO access")]),
    cmd("zmpop", zmpop_command, -4, "write movablekeys", acl="sortedset",
        group="sorted-set", since="7.0.0", complexity=_MPOP_CX,
        summary="Remove and return members with scores in a sorted set",
        args="numkeys key [key ...] MIN|MAX [COUNT count]",
        key_specs=[_ks_keynum("RW access delete", 1)]),
    cmd("zmscore", zmscore_command, -3, "readonly fast", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="6.2.0",
        complexity="O(N) where N is the number of members being requested.",
        summary="Get the score associated with the given members in a sorted set",
        args="key member [member ...]", key_specs=[_ks("RO access")]),
    cmd("zpopmax", zpopmax_command, -2, "write fast", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="5.0.0", complexity=_POP_CX,
        summary="Remove and return members with the highest scores in a sorted set",
        args="key [count]", key_specs=[_ks("RW access delete")]),
    cmd("zpopmin", zpopmin_command, -2, "write fast", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="5.0.0", complexity=_POP_CX,
        summary="Remove and return members with the lowest scores in a sorted set",
        args="key [count]", key_specs=[_ks("RW access delete")]),
    cmd("zrandmember", zrandmember_command, -2, "readonly", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="6.2.0",
        complexity="O(N) where N is the number of elements returned",
        summary="Get one or multiple random elements from a sorted set",
        args="key [count [WITHSCORES]]", key_specs=[_ks("RO access")],
        tips="nondeterministic_output"),
    _hist(cmd("zrange", zrange_command, -4, "readonly", keys=(1, 1, 1), acl="sortedset",
              group="sorted-set", since="1.2.0",
              complexity="O(log(N)+M) with N being the number of elements in the sorted set "
                         "and M the number of elements returned.",
              summary="Return a range of members in a sorted set",
              args="key start:string stop:string [BYSCORE|BYLEX] [REV] [LIMIT offset count] "
                   "[WITHSCORES]",
              key_specs=[_ks("RO access")]),
          ("6.2.0", "Added the `REV`, `BYSCORE`, `BYLEX` and `LIMIT` options.")),
    cmd("zrangebylex", zrangebylex_command, -4, "readonly", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="2.8.9", complexity=_RANGE_CX,
        summary="Return a range of members in a sorted set, by lexicographical range",
        args="key min:string max:string [LIMIT offset count]", key_specs=[_ks("RO access")],
        doc_flags="deprecated", deprecated_since="6.2.0",
        replaced_by="`ZRANGE` with the `BYLEX` argument"),
    _hist(cmd("zrangebyscore", zrangebyscore_command, -4, "readonly", keys=(1, 1, 1),
              acl="sortedset", group="sorted-set", since="1.0.5", complexity=_RANGE_CX,
              summary="Return a range of members in a sorted set, by score",
              args="key min:double max:double [WITHSCORES] [LIMIT offset count]",
              key_specs=[_ks("RO access")], doc_flags="deprecated",
              deprecated_since="6.2.0", replaced_by="`ZRANGE` with the `BYSCORE` argument"),
          ("2.0.0", "Added the `WITHSCORES` modifier.")),
    cmd("zrangestore", zrangestore_command, -5, "write denyoom", keys=(1, 2, 1),
        acl="sortedset", group="sorted-set", since="6.2.0",
        complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                   "the number of elements stored into the destination key.",
        summary="Store a range of members from sorted set into another key",
        args="dst:key src:key min:string max:string [BYSCORE|BYLEX] [REV] "
             "[LIMIT offset count]",
        key_specs=[_ks("OW update"), _ks("RO access", 2)]),
    cmd("zrank", zrank_command, 3, "readonly fast", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="2.0.0", complexity="O(log(N))",
        summary="Determine the index of a member in a sorted set", args="key member",
        key_specs=[_ks("RO access")]),
    _hist(cmd("zrem", zrem_command, -3, "write fast", keys=(1, 1, 1), acl="sortedset",
              group="sorted-set", since="1.2.0",
              complexity="O(M*log(N)) with N being the number of elements in the sorted set "
                         "and M the number of elements to be removed.",
              summary="Remove one or more members from a sorted set",
              args="key member [member ...]", key_specs=[_ks("RW delete")]),
          ("2.4.0", "Accepts multiple elements.")),
    cmd("zremrangebylex", zremrangebylex_command, 4, "write", keys=(1, 1, 1),
        acl="sortedset", group="sorted-set", since="2.8.9", complexity=_REMRANGE_CX,
        summary="Remove all members in a sorted set between the given lexicographical range",
        args="key min:string max:string", key_specs=[_ks("RW delete")]),
    cmd("zremrangebyrank", zremrangebyrank_command, 4, "write", keys=(1, 1, 1),
        acl="sortedset", group="sorted-set", since="2.0.0", complexity=_REMRANGE_CX,
        summary="Remove all members in a sorted set within the given indexes",
        args="key start stop", key_specs=[_ks("RW delete")]),
    cmd("zremrangebyscore", zremrangebyscore_command, 4, "write", keys=(1, 1, 1),
        acl="sortedset", group="sorted-set", since="1.2.0", complexity=_REMRANGE_CX,
        summary="Remove all members in a sorted set within the given scores",
        args="key min:double max:double", key_specs=[_ks("RW delete")]),
    cmd("zrevrange", zrevrange_command, -4, "readonly", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="1.2.0",
        complexity="O(log(N)+M) with N being the number of elements in the sorted set and M "
                   "the number of elements returned.",
        summary="Return a range of members in a sorted set, by index, with scores ordered "
                "from high to low",
        args="key start stop [WITHSCORES]", key_specs=[_ks("RO access")],
        doc_flags="deprecated", deprecated_since="6.2.0",
        replaced_by="`ZRANGE` with the `REV` argument"),
    cmd("zrevrangebylex", zrevrangebylex_command, -4, "readonly", keys=(1, 1, 1),
        acl="sortedset", group="sorted-set", since="2.8.9", complexity=_RANGE_CX,
        summary="Return a range of members in a sorted set, by lexicographical range, "
                "ordered from higher to lower strings.",
        args="key max:string min:string [LIMIT offset count]", key_specs=[_ks("RO access")],
        doc_flags="deprecated", deprecated_since="6.2.0",
        replaced_by="`ZRANGE` with the `REV` and `BYLEX` arguments"),
    _hist(cmd("zrevrangebyscore", zrevrangebyscore_command, -4, "readonly", keys=(1, 1, 1),
              acl="sortedset", group="sorted-set", since="2.2.0", complexity=_RANGE_CX,
              summary="Return a range of members in a sorted set, by score, with scores "
                      "ordered from high to low",
              args="key max:double min:double [WITHSCORES] [LIMIT offset count]",
              key_specs=[_ks("RO access")], doc_flags="deprecated",
              deprecated_since="6.2.0",
              replaced_by="`ZRANGE` with the `REV` and `BYSCORE` arguments"),
          ("2.1.6", "`min` and `max` can be exclusive.")),
    cmd("zrevrank", zrevrank_command, 3, "readonly fast", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="2.0.0", complexity="O(log(N))",
        summary="Determine the index of a member in a sorted set, with scores ordered from "
                "high to low",
        args="key member", key_specs=[_ks("RO access")]),
    cmd("zscan", zscan_command, -3, "readonly", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="2.8.0",
        complexity="O(1) for every call. O(N) for a complete iteration, including enough "
                   "command calls for the cursor to return back to 0. N is the number of "
                   "elements inside the collection..",
        summary="Incrementally iterate sorted sets elements and associated scores",
        args="key cursor [MATCH pattern] [COUNT count]", key_specs=[_ks("RO access")],
        tips="nondeterministic_output"),
    cmd("zscore", zscore_command, 3, "readonly fast", keys=(1, 1, 1), acl="sortedset",
        group="sorted-set", since="1.2.0",
        summary="Get the score associated with the given member in a sorted set",
        args="key member", key_specs=[_ks("RO access")]),
    cmd("zunion", zunion_command, -3, "readonly movablekeys", acl="sortedset",
        group="sorted-set", since="6.2.0", complexity=_UNION_CX,
        summary="Add multiple sorted sets", args=_SETOP_ARGS + " [WITHSCORES]",
        key_specs=[_ks_keynum("RO access", 1)]),
    cmd("zunionstore", zunionstore_command, -4, "write denyoom movablekeys", keys=(1, 1, 1),
        acl="sortedset", group="sorted-set", since="2.0.0",
        complexity="O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted "
                   "sets, and M being the number of elements in the resulting sorted set.",
        summary="Add multiple sorted sets and store the resulting sorted set in a new key",
        args="destination " + _SETOP_ARGS,
        key_specs=[_ks("OW update"), _ks_keynum("RO access", 2)]),
]
