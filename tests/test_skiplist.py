"""Skiplist: structure invariants (spans, backward links), ranks and ranges vs a sorted model."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracered.skiplist import (
    MAXSTRING,
    MINSTRING,
    ZSKIPLIST_MAXLEVEL,
    ZLexRangeSpec,
    ZRangeSpec,
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
    zsl_iter,
    zsl_last_in_lex_range,
    zsl_last_in_range,
    zsl_parse_lex_range,
    zsl_parse_range,
    zsl_random_level,
    zsl_update_score,
)


def check_invariants(zsl, model):
    """The skiplist holds exactly ``model`` (sorted list of (score, ele)) with correct links."""
    assert zsl.length == len(model)
    assert [(s, e) for e, s in zsl_iter(zsl)] == model
    assert [(s, e) for e, s in zsl_iter(zsl, reverse=True)] == model[::-1]
    nodes = []
    x = zsl.header.level[0].forward
    while x is not None:
        nodes.append(x)
        x = x.level[0].forward
    rank_of = {id(n): i + 1 for i, n in enumerate(nodes)}
    rank_of[id(zsl.header)] = 0
    assert zsl.tail is (nodes[-1] if nodes else None)
    top = max((len(n.level) for n in nodes), default=1)
    assert zsl.level == top
    for i, n in enumerate(nodes):
        assert n.backward is (nodes[i - 1] if i else None)
    # At every level, span = rank(forward) - rank(node); links skip only lower nodes.
    for lvl in range(zsl.level):
        x = zsl.header
        while True:
            f = x.level[lvl].forward
            if f is None:
                break
            assert len(f.level) > lvl
            assert x.level[lvl].span == rank_of[id(f)] - rank_of[id(x)]
            between = nodes[rank_of[id(x)]:rank_of[id(f)] - 1]
            assert all(len(b.level) <= lvl for b in between)
            x = f


def build(pairs):
    zsl = zsl_create()
    for score, ele in pairs:
        zsl_insert(zsl, score, ele)
    return zsl


def test_random_level_distribution():
    random.seed(11)
    levels = Counter(zsl_random_level() for _ in range(40000))
    assert min(levels) >= 1 and max(levels) <= ZSKIPLIST_MAXLEVEL
    assert abs(levels[1] / 40000 - 0.75) < 0.015
    assert abs(levels[2] / 40000 - 0.1875) < 0.015
    assert abs(levels[3] / 40000 - 0.046875) < 0.008


def test_insert_orders_by_score_then_bytes():
    random.seed(1)
    pairs = [(1.0, b"b"), (1.0, b"a"), (1.0, b"ab"), (-math.inf, b"z"), (math.inf, b"a"),
             (0.5, b"\xff"), (0.5, b""), (-0.0, b"m"), (2.0, b"a\x00")]
    zsl = build(pairs)
    model = sorted(pairs)
    check_invariants(zsl, model)
    for rank, (score, ele) in enumerate(model, start=1):
        assert zsl_get_rank(zsl, score, ele) == rank
        node = zsl_get_element_by_rank(zsl, rank)
        assert (node.score, node.ele) == (score, ele)
    assert zsl_get_rank(zsl, 1.0, b"c") == 0
    assert zsl_get_rank(zsl, 3.0, b"a") == 0
    assert zsl_get_element_by_rank(zsl, 0) is zsl.header  # as in C: rank 0 is the header
    assert zsl_get_element_by_rank(zsl, len(pairs) + 1) is None
    with pytest.raises(ValueError):
        zsl_insert(zsl, math.nan, b"nan")


def test_delete_and_update_score():
    random.seed(2)
    pairs = [(float(i % 7), b"m%03d" % i) for i in range(200)]
    zsl = build(pairs)
    model = sorted(pairs)
    node = zsl_delete(zsl, 3.0, b"m003")
    assert node is not None and node.ele == b"m003"
    model.remove((3.0, b"m003"))
    assert zsl_delete(zsl, 3.0, b"m003") is None
    assert zsl_delete(zsl, 4.0, b"m003") is None
    check_invariants(zsl, model)
    # In place: still strictly between the neighbours.
    first = zsl.header.level[0].forward
    same = zsl_update_score(zsl, first.score, first.ele, -1.0)
    assert same is first
    model[0] = (-1.0, first.ele)
    check_invariants(zsl, model)
    # Moves: re-inserted elsewhere.
    moved = zsl_update_score(zsl, 0.0, b"m007", 100.0)
    assert moved.score == 100.0 and zsl.tail is moved
    model.remove((0.0, b"m007"))
    model.append((100.0, b"m007"))
    model.sort()
    check_invariants(zsl, model)


RANGES = [
    ZRangeSpec(1.0, 3.0), ZRangeSpec(1.0, 3.0, True, False), ZRangeSpec(1.0, 3.0, False, True),
    ZRangeSpec(1.0, 3.0, True, True), ZRangeSpec(2.0, 2.0), ZRangeSpec(2.0, 2.0, True),
    ZRangeSpec(5.0, 1.0), ZRangeSpec(-math.inf, math.inf), ZRangeSpec(6.5, 100.0),
    ZRangeSpec(-100.0, -0.5), ZRangeSpec(2.5, 2.7),
]


def in_range(score, r):
    lo = score > r.min if r.minex else score >= r.min
    hi = score < r.max if r.maxex else score <= r.max
    return lo and hi


@pytest.mark.parametrize("r", RANGES, ids=repr)
def test_score_ranges_against_model(r):
    random.seed(3)
    pairs = [(float(random.randrange(7)), b"e%d" % i) for i in range(150)]
    zsl = build(pairs)
    model = sorted(pairs)
    inside = [p for p in model if in_range(p[0], r)]
    first = zsl_first_in_range(zsl, r)
    last = zsl_last_in_range(zsl, r)
    if inside:
        assert (first.score, first.ele) == inside[0]
        assert (last.score, last.ele) == inside[-1]
    else:
        assert first is None and last is None
    deleted = []
    removed = zsl_delete_range_by_score(zsl, r, deleted.append)
    assert removed == len(inside) and sorted(deleted) == sorted(e for _, e in inside)
    check_invariants(zsl, [p for p in model if not in_range(p[0], r)])


LEX = [
    (b"-", b"+"), (b"[b", b"[d"), (b"(b", b"[d"), (b"[b", b"(d"), (b"(b", b"(d"),
    (b"[c", b"[c"), (b"(c", b"[c"), (b"[d", b"[b"), (b"-", b"(c"), (b"(cc", b"+"),
    (b"[", b"[a"), (b"+", b"-"),
]


def lex_in(ele, spec):
    return (sdscmplex(ele, spec.min) > 0 if spec.minex else sdscmplex(ele, spec.min) >= 0) and (
        sdscmplex(ele, spec.max) < 0 if spec.maxex else sdscmplex(ele, spec.max) <= 0)


@pytest.mark.parametrize("lo, hi", LEX)
def test_lex_ranges_against_model(lo, hi):
    members = [b"", b"a", b"b", b"ba", b"c", b"cc", b"d", b"e", b"\xff"]
    zsl = build([(0.0, m) for m in members])
    spec = zsl_parse_lex_range(lo, hi)
    inside = [m for m in members if lex_in(m, spec)]
    first = zsl_first_in_lex_range(zsl, spec)
    last = zsl_last_in_lex_range(zsl, spec)
    assert (first.ele if first else None) == (inside[0] if inside else None)
    assert (last.ele if last else None) == (inside[-1] if inside else None)
    gone = []
    assert zsl_delete_range_by_lex(zsl, spec, gone.append) == len(inside) and gone == inside
    check_invariants(zsl, [(0.0, m) for m in members if m not in inside])


def test_delete_range_by_rank():
    pairs = [(float(i), b"r%d" % i) for i in range(50)]
    zsl = build(pairs)
    gone = []
    assert zsl_delete_range_by_rank(zsl, 10, 19, gone.append) == 10
    assert gone == [b"r%d" % i for i in range(9, 19)]
    assert zsl_delete_range_by_rank(zsl, 35, 100) == 6
    check_invariants(zsl, pairs[:9] + pairs[19:44])


def test_parse_range():
    r = zsl_parse_range(b"(1.5", b"+inf")
    assert (r.min, r.max, r.minex, r.maxex) == (1.5, math.inf, True, False)
    r = zsl_parse_range(b"-inf", b"(2")
    assert (r.min, r.max, r.minex, r.maxex) == (-math.inf, 2.0, False, True)
    assert zsl_parse_range(b"1e400", b"0x10").max == 16.0
    assert zsl_parse_range(b"1e400", b"1").min == math.inf
    assert zsl_parse_range(b" 1", b"2").min == 1.0       # strtod skips leading spaces
    for bad in (b"nan", b"(nan", b"abc", b"1 ", b"", b"(", b"1e", b"0x", b"1_0", b"--1"):
        assert zsl_parse_range(bad, b"1") is None, bad
        assert zsl_parse_range(b"1", bad) is None, bad
    assert strtod(b"-Infinity") == -math.inf and strtod(b".5") == 0.5 and strtod(b"5.") == 5.0
    assert strtod(b"1\x00junk") == 1.0                  # C stops at the NUL


def test_parse_lex_range():
    spec = zsl_parse_lex_range(b"-", b"+")
    assert spec.min is MINSTRING and spec.max is MAXSTRING
    spec = zsl_parse_lex_range(b"(a", b"[b")
    assert (spec.min, spec.max, spec.minex, spec.maxex) == (b"a", b"b", True, False)
    for bad in (b"a", b"-a", b"+b", b""):
        assert zsl_parse_lex_range(bad, b"+") is None
    assert sdscmplex(MINSTRING, b"") < 0 and sdscmplex(b"\xff" * 9, MAXSTRING) < 0
    assert sdscmplex(MAXSTRING, MAXSTRING) == 0 and sdscmplex(b"b", b"a") > 0
    assert isinstance(ZLexRangeSpec(b"a", b"b"), ZLexRangeSpec)


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(
    st.sampled_from(["add", "add", "del", "update", "delrank"]),
    st.sampled_from([-2.5, 0.0, 1.0, 1.0, 3.25, 1e300]),
    st.binary(min_size=0, max_size=3),
    st.integers(1, 40), st.integers(0, 6)), max_size=80))
def test_model_random_ops(ops):
    zsl = zsl_create()
    scores: dict[bytes, float] = {}
    for op, score, ele, rank, width in ops:
        if op == "add" and ele not in scores:
            zsl_insert(zsl, score, ele)
            scores[ele] = score
        elif op == "del":
            node = zsl_delete(zsl, scores.get(ele, score), ele)
            assert (node is not None) == (ele in scores)
            scores.pop(ele, None)
        elif op == "update" and ele in scores:
            node = zsl_update_score(zsl, scores[ele], ele, score)
            assert node.score == score and node.ele == ele
            scores[ele] = score
        elif op == "delrank":
            model = sorted((s, e) for e, s in scores.items())
            gone = []
            n = zsl_delete_range_by_rank(zsl, rank, rank + width, gone.append)
            expect = [e for _, e in model[rank - 1:rank + width]]
            assert n == len(expect) and gone == expect
            for e in gone:
                del scores[e]
    model = sorted((s, e) for e, s in scores.items())
    check_invariants(zsl, model)
    for rank, (s, e) in enumerate(model, start=1):
        assert zsl_get_rank(zsl, s, e) == rank
        assert zsl_get_element_by_rank(zsl, rank).ele == e
