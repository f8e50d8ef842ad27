"""Tests for tracered.dict (mirror of Redis 7.0.15 dict.c).

Model-based checks against Python's dict, the rehash and resize rules, the SCAN guarantee
across resizes, sampling, iterators, the DEBUG HTSTATS text (also against a real
redis-server when one is installed) and the probe contract (nothing cached, so arming works).
"""

from __future__ import annotations

import random
import re
import shutil
import socket
import subprocess
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracered.dict as D
from tracered.dict import Dict, DictType
from tracered.trace import probes

# Identity hash on small ints: bucket positions are predictable in the layout tests.
INT_TYPE = DictType(hash_function=lambda k: k)
# Every key lands in one of 8 buckets whatever the table size: long chains everywhere.
COLLIDING_TYPE = DictType(hash_function=lambda k: hash(k) & 7)


@pytest.fixture(autouse=True)
def _resize_policy_restored():
    D.dict_set_resize_enabled(True)
    yield
    D.dict_set_resize_enabled(True)


def raw_contents(d: Dict) -> dict:
    """Walk both tables without touching the dict (no rehash steps) and check invariants."""
    out = {}
    for htidx in (0, 1):
        table = d.ht_table[htidx]
        exp = d.ht_size_exp[htidx]
        if table is None:
            assert exp == -1 and d.ht_used[htidx] == 0
            continue
        assert len(table) == 1 << exp
        mask = len(table) - 1
        n = 0
        for i, he in enumerate(table):
            if htidx == 0 and d.rehashidx != -1 and i < d.rehashidx:
                assert he is None, "bucket below rehashidx not moved"
            while he is not None:
                assert d.get_hash(he.key) & mask == i, "entry in the wrong bucket"
                assert he.key not in out, "duplicate key"
                out[he.key] = he.val
                n += 1
                he = he.next
        assert n == d.ht_used[htidx]
    if d.rehashidx == -1:
        assert d.ht_table[1] is None and d.ht_size_exp[1] == -1
    else:
        assert d.ht_table[0] is not None and d.ht_table[1] is not None
        assert 0 <= d.rehashidx < len(d.ht_table[0])
    assert len(d) == d.size() == len(out)
    return out


def full_scan(d: Dict, between=None, limit: int = 100_000) -> list:
    seen = []
    cursor = 0
    calls = 0
    while True:
        cursor = d.scan(cursor, lambda de: seen.append(de.key))
        calls += 1
        assert calls < limit, "scan does not terminate"
        if cursor == 0:
            return seen
        if between is not None:
            between(calls)


def finish_rehash(d: Dict) -> None:
    while D.dict_rehash(d, 1000):
        pass


# ---------------------------------------------------------------------------------------
# Model-based test against Python's dict
# ---------------------------------------------------------------------------------------

keys_st = st.integers(0, 60).map(lambda i: b"k%d" % i)
op_st = st.one_of(
    st.tuples(st.just("add"), keys_st, st.integers()),
    st.tuples(st.just("replace"), keys_st, st.integers()),
    st.tuples(st.just("delete"), keys_st),
    st.tuples(st.just("unlink"), keys_st),
    st.tuples(st.just("find"), keys_st),
    st.tuples(st.just("add_or_find"), keys_st),
    st.tuples(st.just("random")),
    st.tuples(st.just("fair")),
    st.tuples(st.just("some"), st.integers(0, 20)),
    st.tuples(st.just("scan")),
    st.tuples(st.just("rehash"), st.integers(1, 5)),
    st.tuples(st.just("resize")),
    st.tuples(st.just("expand"), st.integers(0, 200)),
    st.tuples(st.just("policy"), st.sampled_from(
        [D.DICT_RESIZE_ENABLE, D.DICT_RESIZE_AVOID, D.DICT_RESIZE_FORBID])),
    st.tuples(st.just("iterate_delete"), st.integers(0, 3)),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(op_st, max_size=120), colliding=st.booleans())
def test_model_against_python_dict(ops, colliding):
    d = Dict(COLLIDING_TYPE if colliding else None)
    model: dict = {}
    for op in ops:
        name = op[0]
        if name == "add":
            assert d.add(op[1], op[2]) == (op[1] not in model)
            model.setdefault(op[1], op[2])
        elif name == "replace":
            assert d.replace(op[1], op[2]) == (op[1] not in model)
            model[op[1]] = op[2]
        elif name == "delete":
            assert d.delete(op[1]) == (op[1] in model)
            model.pop(op[1], None)
        elif name == "unlink":
            he = d.unlink(op[1])
            if op[1] in model:
                assert he is not None and he.key == op[1] and he.val == model.pop(op[1])
            else:
                assert he is None
        elif name == "find":
            he = d.find(op[1])
            assert (he is None) == (op[1] not in model)
            if he is not None:
                assert he.val == model[op[1]]
            assert d.fetch_value(op[1], "missing") == model.get(op[1], "missing")
        elif name == "add_or_find":
            he = d.add_or_find(op[1])
            if op[1] not in model:
                assert he.val is None
                he.val = 0
                model[op[1]] = 0
            assert he.val == model[op[1]]
        elif name == "random":
            he = d.get_random_key()
            assert (he is None) == (not model)
            if he is not None:
                assert model[he.key] == he.val
        elif name == "fair":
            he = d.get_fair_random_key()
            assert (he is None) == (not model)
            if he is not None:
                assert he.key in model
        elif name == "some":
            got = d.get_some_keys(op[1])
            assert len(got) <= min(op[1], len(model))
            assert all(he.key in model for he in got)
        elif name == "scan":
            assert set(full_scan(d)) == set(model)
        elif name == "rehash":
            D.dict_rehash(d, op[1])
        elif name == "resize":
            if D.ht_needs_resize(d):
                D.dict_resize(d)
        elif name == "expand":
            d.expand(op[1])
        elif name == "policy":
            D.dict_set_resize_enabled(op[1])
        elif name == "iterate_delete":
            for he in d.iterator(safe=True):
                if hash(he.key) % 4 == op[1]:
                    assert d.delete(he.key)
                    del model[he.key]
            assert d.pauserehash == 0
        assert raw_contents(d) == model
    assert sorted(he.key for he in d.iterator(safe=False)) == sorted(model)


# ---------------------------------------------------------------------------------------
# Sizes, growth and the resize policy
# ---------------------------------------------------------------------------------------

def test_expansion_sizes_double_from_four():
    d = Dict()
    assert d.slots() == 0 and d.ht_size_exp == [-1, -1]
    sizes = []
    for i in range(70):
        d.add(b"k%d" % i, i)
        if d.is_rehashing():
            # The new key went to the target table; the old one still holds the rest.
            assert d.ht_used[1] >= 1
            finish_rehash(d)
        if not sizes or sizes[-1] != d.slots():
            sizes.append(d.slots())
    assert sizes == [4, 8, 16, 32, 64, 128]
    # Growth happens on the insert that finds used == size: the 5th key, the 9th ...
    d = Dict()
    for i in range(4):
        d.add(i, i)
    assert d.slots() == 4 and not d.is_rehashing()
    d.add(4, 4)
    assert d.is_rehashing() and len(d.ht_table[1]) == 8


def test_next_exp_rule():
    assert D._dict_next_exp(0) == 2
    assert D._dict_next_exp(4) == 2
    assert D._dict_next_exp(5) == 3
    assert D._dict_next_exp(8) == 3
    assert D._dict_next_exp(9) == 4
    assert D._dict_next_exp(1 << 40) == 40
    assert D._dict_next_exp((1 << 40) + 1) == 41
    assert D._dict_next_exp(1 << 63) == 63


def test_forced_ratio_when_resize_avoided():
    d = Dict(INT_TYPE)
    for i in range(4):
        d.add(i, i)
    D.dict_set_resize_enabled(False)  # a fork child exists
    assert D.dict_get_resize_enabled() == D.DICT_RESIZE_AVOID
    for i in range(4, 24):
        d.add(i, i)
    # 24 elements in 4 buckets: 24 // 4 == 6 > 5, but the check runs before inserting.
    assert d.slots() == 4 and not d.is_rehashing() and len(d) == 24
    d.add(24, 24)
    assert d.is_rehashing() and len(d.ht_table[1]) == 32
    # 32 / 4 >= dict_force_resize_ratio, so rehashing continues even while avoided.
    assert D.dict_rehash(d, 1)
    finish_rehash(d)
    assert d.slots() == 32 and len(d) == 25
    assert raw_contents(d) == {i: i for i in range(25)}


def test_rehash_paused_when_avoided_and_forbidden():
    d = Dict(INT_TYPE)
    for i in range(5):
        d.add(i, i)
    assert d.is_rehashing()  # 4 -> 8
    D.dict_set_resize_enabled(False)
    assert D.dict_rehash(d, 100) is False and d.rehashidx == 0  # 8/4 < 5: waits
    D.dict_set_resize_enabled(D.DICT_RESIZE_FORBID)
    assert D.dict_rehash(d, 100) is False and d.rehashidx == 0
    for i in range(5, 200):  # forbidden: never grows, whatever the ratio
        d.add(i, i)
    assert len(d.ht_table[0]) == 4 and len(d.ht_table[1]) == 8
    assert raw_contents(d) == {i: i for i in range(200)}
    D.dict_set_resize_enabled(True)
    finish_rehash(d)
    assert d.slots() == 8 and len(d) == 200
    with pytest.raises(ValueError):
        D.dict_set_resize_enabled(7)


def test_shrink_rule_and_dict_resize():
    d = Dict()
    for i in range(100):
        d.add(b"k%d" % i, i)
    finish_rehash(d)
    assert d.slots() == 128 and not D.ht_needs_resize(d)
    for i in range(88):
        d.delete(b"k%d" % i)
    # 12 * 100 // 128 = 9 < 10
    assert D.ht_needs_resize(d)
    D.dict_set_resize_enabled(False)
    assert D.dict_resize(d) is False
    D.dict_set_resize_enabled(True)
    assert d.resize() is True
    assert d.is_rehashing() and len(d.ht_table[1]) == 16
    assert D.dict_resize(d) is False  # already rehashing
    finish_rehash(d)
    assert d.slots() == 16 and not D.ht_needs_resize(d)
    assert D.dict_resize(d) is False  # same size: nothing to do
    small = Dict()
    small.add(b"a", 1)
    assert not D.ht_needs_resize(small)  # never below the initial size


def test_expand_rules():
    d = Dict()
    assert d.expand(3) and d.slots() == 4 and not d.is_rehashing()  # first table, no rehash
    assert d.expand(4) is False  # same size
    for i in range(4):
        d.add(i, i)
    assert d.expand(2) is False  # smaller than the element count
    assert d.expand(100) is True and len(d.ht_table[1]) == 128
    assert d.expand(1000) is False  # already rehashing
    assert d.try_expand(1000) is True  # skipped still counts as success, as in dict.c
    e = Dict()
    assert e.try_expand(1 << 62) is False  # allocation failure reported, not raised
    with pytest.raises(MemoryError):
        e.expand(1 << 62)
    assert e.expand((1 << 64) + 5) is False  # dict.c's overflow check
    assert e.slots() == 0


def test_expand_allowed_hook_can_refuse():
    calls = []

    def allowed(more_mem, ratio):
        calls.append((more_mem, ratio))
        return False

    d = Dict(DictType(expand_allowed=allowed))
    for i in range(10):
        d.add(i, i)
    assert d.slots() == 4 and len(d) == 10
    assert calls[0] == (8 * 8, 1.0)


# ---------------------------------------------------------------------------------------
# Incremental rehash
# ---------------------------------------------------------------------------------------

def test_rehash_invariants_and_table_swap():
    d = Dict()
    for i in range(1000):
        d.add(b"k%d" % i, i)
    finish_rehash(d)
    model = raw_contents(d)
    assert d.expand(5000)
    target = d.ht_table[1]
    last = d.rehashidx
    assert last == 0
    while d.is_rehashing():
        more = D.dict_rehash(d, 3)
        if d.is_rehashing():
            assert more and d.rehashidx > last
            last = d.rehashidx
        else:
            assert more is False
        assert raw_contents(d) == model
    assert d.ht_table[0] is target and d.ht_size_exp == [13, -1] and d.ht_used == [1000, 0]
    assert all(d.find(k).val == v for k, v in model.items())


def test_rehash_visits_at_most_ten_empty_buckets_per_step():
    d = Dict(INT_TYPE)
    d.expand(1024)
    d.add(1000, "x")
    d.add(1001, "y")
    assert d.resize()  # shrink 1024 -> 4
    assert D.dict_rehash(d, 1) is True and d.rehashidx == 10 and d.ht_used == [2, 0]
    assert D.dict_rehash(d, 2) is True and d.rehashidx == 30
    finish_rehash(d)
    assert d.slots() == 4 and raw_contents(d) == {1000: "x", 1001: "y"}


def test_operations_step_the_rehash_unless_paused():
    d = Dict()
    for i in range(64):
        d.add(b"k%d" % i, i)
    finish_rehash(d)
    d.expand(1024)
    idx = d.rehashidx
    d.find(b"k1")
    assert d.rehashidx > idx
    idx = d.rehashidx
    d.get_random_key()
    assert d.rehashidx > idx
    idx = d.rehashidx
    d.delete(b"nope")
    assert d.rehashidx > idx
    d.pause_rehashing()
    idx = d.rehashidx
    d.find(b"k1")
    d.add(b"new", 1)
    d.delete(b"k2")
    assert d.rehashidx == idx
    assert D.dict_rehash_milliseconds(d, 10) == 0
    d.resume_rehashing()
    assert d.pauserehash == 0


def test_rehash_milliseconds_finishes_a_big_table():
    d = Dict()
    for i in range(20000):
        d.add(i, i)
    finish_rehash(d)
    d.expand(1 << 17)
    total = 0
    for _ in range(1000):
        if not d.is_rehashing():
            break
        done = D.dict_rehash_milliseconds(d, 1)
        assert done % 100 == 0
        total += done
    assert not d.is_rehashing() and d.slots() == 1 << 17 and total > 0
    assert len(raw_contents(d)) == 20000


# ---------------------------------------------------------------------------------------
# SCAN
# ---------------------------------------------------------------------------------------

def test_scan_cursor_is_reverse_binary():
    d = Dict(INT_TYPE)
    for i in range(9):
        d.add(i, i)
    finish_rehash(d)
    assert d.slots() == 16
    cursors = [0]
    while True:
        cursors.append(d.scan(cursors[-1], lambda de: None))
        if cursors[-1] == 0:
            break
    assert cursors == [0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15, 0]
    assert Dict().scan(0, lambda de: None) == 0


def test_scan_during_rehash_visits_expansions():
    for grow in (True, False):
        d = Dict()
        n = 40 if grow else 9
        for i in range(200):
            d.add(b"k%d" % i, i)
        finish_rehash(d)
        for i in range(n, 200):
            d.delete(b"k%d" % i)
        assert d.expand(4000) if grow else d.resize()
        D.dict_rehash(d, 3)
        assert d.is_rehashing()
        seen = full_scan(d)
        assert d.is_rehashing()  # scan pauses rehashing
        assert set(seen) == {b"k%d" % i for i in range(n)}


scan_mutation_st = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.integers(1, 200)),
        st.tuples(st.just("del"), st.integers(1, 200)),
        st.tuples(st.just("rehash"), st.integers(1, 50)),
        st.tuples(st.just("shrink")),
        st.tuples(st.just("expand"), st.integers(1, 4096)),
        st.tuples(st.just("none")),
    ),
    min_size=1, max_size=30,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(initial=st.integers(0, 300), volatile=st.integers(0, 400), muts=scan_mutation_st,
       seed=st.integers(0, 2**32))
def test_scan_guarantee_across_resizes(initial, volatile, muts, seed):
    rnd = random.Random(seed)
    d = Dict()
    stable = [b"s%d" % i for i in range(initial)]
    vol = [b"v%d" % i for i in range(volatile)]
    for k in stable + vol:
        d.add(k, 1)
    if rnd.random() < 0.5:
        finish_rehash(d)
    fresh = iter(range(10**9))
    live_vol = set(vol)

    def between(call):
        # One mutation per call for the first len(muts) calls, then the scan runs out.
        if call > len(muts):
            return
        kind = muts[call - 1]
        if kind[0] == "add":
            for _ in range(kind[1]):
                k = b"n%d" % next(fresh)
                d.add(k, 1)
                live_vol.add(k)
        elif kind[0] == "del":
            for k in rnd.sample(sorted(live_vol), min(kind[1], len(live_vol))):
                assert d.delete(k)
                live_vol.discard(k)
        elif kind[0] == "rehash":
            D.dict_rehash(d, kind[1])
        elif kind[0] == "shrink":
            if D.ht_needs_resize(d):
                D.dict_resize(d)
        elif kind[0] == "expand":
            d.expand(kind[1])

    seen = set(full_scan(d, between))
    missing = set(stable) - seen
    assert not missing, f"scan missed {len(missing)} stable keys"
    assert seen <= set(stable) | set(vol) | {b"n%d" % i for i in range(next(fresh))}


def test_scan_guarantee_shrink_mid_scan_deterministic():
    # Grow big, scan half way, delete most keys and shrink (with the rehash finished), then
    # finish the scan: every surviving key must have been reported.
    for seed in range(20):
        rnd = random.Random(seed)
        d = Dict()
        keep = [b"keep%d" % i for i in range(30)]
        drop = [b"drop%d" % i for i in range(2000)]
        for k in keep + drop:
            d.add(k, 1)
        finish_rehash(d)
        seen = set()
        report = seen.add
        cursor = 0
        for _ in range(rnd.randrange(1, 200)):
            cursor = d.scan(cursor, lambda de, report=report: report(de.key))
            if cursor == 0:
                break
        for k in drop:
            d.delete(k)
        assert d.resize()
        if rnd.random() < 0.5:
            finish_rehash(d)
        while cursor != 0:
            cursor = d.scan(cursor, lambda de, report=report: report(de.key))
        assert set(keep) <= seen


# ---------------------------------------------------------------------------------------
# Random sampling
# ---------------------------------------------------------------------------------------

def test_random_sampling_returns_existing_keys():
    random.seed(1234)
    d = Dict()
    assert d.get_random_key() is None and d.get_fair_random_key() is None
    assert d.get_some_keys(5) == []
    keys = {b"k%d" % i for i in range(300)}
    for k in keys:
        d.add(k, k)
    for rehashing in (False, True):
        if rehashing:
            assert d.expand(5000)
        else:
            finish_rehash(d)
        sampled = 0
        for _ in range(200):
            assert d.get_random_key().key in keys
            assert d.get_fair_random_key().key in keys
            got = d.get_some_keys(10)
            # A sparse table may legitimately yield nothing in count*10 steps.
            assert len(got) <= 10 and all(he.key in keys for he in got)
            sampled += len(got)
        assert sampled > 0
    finish_rehash(d)
    assert d.slots() == 8192
    d.resize()
    finish_rehash(d)
    assert d.slots() == 512
    got = d.get_some_keys(10)  # dense enough: a run of buckets always yields 10
    assert len(got) == 10 and all(he.key in keys for he in got)
    assert len(d.get_some_keys(10_000)) <= 300


def test_random_key_reaches_every_key():
    random.seed(99)
    d = Dict()
    for i in range(20):
        d.add(i, i)
    seen = {d.get_random_key().key for _ in range(2000)}
    fair = {d.get_fair_random_key().key for _ in range(2000)}
    assert seen == fair == set(range(20))


def test_get_some_keys_while_shrinking():
    random.seed(7)
    d = Dict()  # ints hash to themselves: key k sits in bucket k
    for i in range(2000):
        d.add(i, i)
    finish_rehash(d)
    kept = set(range(0, 2000, 20))
    for i in range(2000):
        if i not in kept:
            d.delete(i)
    assert d.resize() and len(d.ht_table[1]) == 128
    while d.ht_used[1] < 50:  # half moved: table 0 is empty below rehashidx
        D.dict_rehash(d, 1)
    assert d.rehashidx > 128
    d.pause_rehashing()
    sampled = []
    for _ in range(300):
        got = d.get_some_keys(5)
        assert len(got) <= 5 and all(he.key in kept for he in got)
        sampled += [he.key for he in got]
    assert d.rehashidx > 128 and d.ht_used == [50, 50]
    # Both the moved keys (table 1) and the ones still waiting (table 0) get sampled.
    assert min(sampled) < 1000 <= max(sampled)
    d.resume_rehashing()


# ---------------------------------------------------------------------------------------
# Iterators, empty, destructors
# ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [None, COLLIDING_TYPE], ids=["spread", "long-chains"])
def test_safe_iterator_allows_deletes_and_pauses_rehash(dtype):
    d = Dict(dtype)
    for i in range(500):
        d.add(i, i)
    finish_rehash(d)
    assert d.expand(4096)
    D.dict_rehash(d, 2)
    assert d.is_rehashing()
    idx = d.rehashidx
    seen = []
    for he in d.iterator(safe=True):
        assert d.pauserehash == 1
        seen.append(he.key)
        assert d.delete(he.key)  # the entry just returned
        d.find(he.key + 1)
        assert d.rehashidx == idx
    assert sorted(seen) == list(range(500)) and len(d) == 0 and d.pauserehash == 0


def test_abandoned_safe_iterator_resumes_on_close():
    d = Dict()
    for i in range(10):
        d.add(i, i)
    it = d.iterator()
    assert d.pauserehash == 0  # nothing paused until the first step, as in dictNext
    next(it)
    assert d.pauserehash == 1
    it.close()
    assert d.pauserehash == 0


def test_unsafe_iterator_fingerprint():
    d = Dict()
    for i in range(50):
        d.add(i, i)
    assert sorted(he.key for he in d.iterator(safe=False)) == list(range(50))
    with pytest.raises(AssertionError):
        for he in d.iterator(safe=False):
            if he.key == 7:
                d.delete(7)
    fp = D.dict_fingerprint(d)
    assert fp == D.dict_fingerprint(d) and 0 <= fp < 1 << 64
    d.add(1000, 1)
    assert fp != D.dict_fingerprint(d)


def test_empty_with_callback_and_destructors():
    freed_keys, freed_vals, ticks = [], [], []
    t = DictType(key_destructor=lambda d, k: freed_keys.append(k),
                 val_destructor=lambda d, v: freed_vals.append(v))
    d = Dict(t)
    for i in range(100):
        d.add(i, -i)
    d.expand(1000)
    D.dict_rehash(d, 5)
    d.pause_rehashing()
    d.empty(callback=lambda dd: ticks.append(dd))
    assert ticks and ticks[0] is d
    assert sorted(freed_keys) == list(range(100))
    assert sorted(freed_vals) == sorted(-i for i in range(100))
    assert d.ht_table == [None, None] and d.ht_used == [0, 0] and d.ht_size_exp == [-1, -1]
    assert d.rehashidx == -1 and d.pauserehash == 0
    assert d.add(1, 1) and d.slots() == 4


def test_replace_delete_unlink_destructors():
    freed = []
    d = Dict(DictType(val_destructor=lambda d, v: freed.append(v)))
    assert d.replace(b"a", 1) is True and freed == []
    assert d.replace(b"a", 2) is False and freed == [1] and d.fetch_value(b"a") == 2
    he = d.unlink(b"a")
    assert he.val == 2 and he.next is None and freed == [1] and len(d) == 0
    d.free_unlinked_entry(he)
    d.free_unlinked_entry(None)
    assert freed == [1, 2]
    d.add(b"b", 3)
    assert d.delete(b"b") and freed == [1, 2, 3]
    assert d.delete(b"b") is False and d.unlink(b"b") is None


def test_add_raw_semantics():
    d = Dict()
    entry, existing = d.add_raw(b"x")
    assert entry is not None and existing is None and entry.val is None and len(d) == 1
    entry.val = 5
    entry2, existing2 = d.add_raw(b"x")
    assert entry2 is None and existing2 is entry
    assert d.add_or_find(b"x") is entry
    assert d.add(b"x", 9) is False and d.fetch_value(b"x") == 5


# ---------------------------------------------------------------------------------------
# Stats text (dictGetStats)
# ---------------------------------------------------------------------------------------

def test_stats_known_layout():
    d = Dict(INT_TYPE)
    assert d.stats() == ("Hash table 0 stats (main hash table):\n"
                         "No stats available for empty dictionaries\n")
    for k in (0, 4, 1):  # bucket 0 holds 0 and 4, bucket 1 holds 1
        d.add(k, k)
    assert d.stats() == (
        "Hash table 0 stats (main hash table):\n"
        " table size: 4\n"
        " number of elements: 3\n"
        " different slots: 2\n"
        " max chain length: 2\n"
        " avg chain length (counted): 1.50\n"
        " avg chain length (computed): 1.50\n"
        " Chain length distribution:\n"
        "   0: 2 (50.00%)\n"
        "   1: 1 (25.00%)\n"
        "   2: 1 (25.00%)\n")
    assert d.stats(full=False) == ("Hash table 0 stats (main hash table):\n"
                                   " table size: 4\n"
                                   " number of elements: 3\n")


def test_stats_while_rehashing_and_single_precision():
    d = Dict(INT_TYPE)
    for k in (0, 1, 2, 4, 8):  # fifth insert starts 4 -> 8; key 8 lands in table 1
        d.add(k, k)
    assert d.is_rehashing()
    text = d.stats()
    t0, t1 = text.split("Hash table 1 stats (rehashing target):\n")
    assert t0.startswith("Hash table 0 stats (main hash table):\n table size: 4\n"
                         " number of elements: 4\n different slots: 3\n max chain length: 2\n")
    assert " avg chain length (counted): 1.33\n" in t0  # 4/3 in float
    assert "   0: 1 (25.00%)\n   1: 2 (50.00%)\n   2: 1 (25.00%)\n" in t0
    assert t1.startswith(" table size: 8\n number of elements: 1\n")
    assert "   0: 7 (87.50%)\n   1: 1 (12.50%)\n" in t1
    # Empty target table while rehashing still gets its own "No stats" block.
    e = Dict(INT_TYPE)
    for k in range(4):
        e.add(k, k)
    e.expand(64)
    assert e.stats().endswith("Hash table 1 stats (rehashing target):\n"
                              "No stats available for empty dictionaries\n")
    # A value whose float32 and float64 roundings print differently at two decimals.
    assert D._to_f32(1 / 3 * 100) != 1 / 3 * 100


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server not installed")
def test_stats_format_matches_real_redis(tmp_path):
    redis = pytest.importorskip("redis")
    port = _free_port()
    proc = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--enable-debug-command", "yes", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        r = redis.Redis(host="127.0.0.1", port=port, decode_responses=True)
        deadline = time.monotonic() + 10
        while True:
            try:
                r.ping()
                break
            except redis.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start"
                time.sleep(0.02)
        empty = Dict().stats()
        assert r.execute_command("DEBUG", "HTSTATS", "0") == (
            "[Dictionary HT]\n" + empty + "[Expires HT]\n" + empty)
        r.hset("h", mapping={f"f{i}": i for i in range(1000)})
        theirs = r.execute_command("DEBUG", "HTSTATS-KEY", "h")
        d = Dict()
        for i in range(1000):  # above hash-max-listpack-entries (512): a real dict
            d.add(f"f{i}".encode(), i)
        ours = d.stats()

        def template(text):
            lines = text.splitlines()
            head = [re.sub(r"\d+", "N", ln) for ln in lines[:8]]
            for ln in lines[8:]:
                assert re.fullmatch(r"   \d+: \d+ \(\d+\.\d\d%\)", ln), ln
            return head

        assert template(ours) == template(theirs)
        assert theirs.splitlines()[2] == ours.splitlines()[2] == " number of elements: 1000"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# ---------------------------------------------------------------------------------------
# Probes: armed wrappers must be reached (nothing cached)
# ---------------------------------------------------------------------------------------

class RecordingSink(probes.Sink):
    def __init__(self):
        self.hits = []
        self.events = []

    def enter(self, info, args):
        self.hits.append(info.name)

    def leave(self, info, token):
        pass

    def event(self, name, attrs):
        self.events.append((name, dict(attrs)))


def test_armed_probes_are_reached():
    sink = RecordingSink()
    names = ["dictFind", "dictAddRaw", "dictExpand", "dictRehash", "_dictRehashStep"]
    try:
        for n in names:
            assert probes.arm(n, sink)
        d = Dict()
        for i in range(5):  # the 5th add expands 4 -> 8
            d.add(i, i)
        assert "dictAddRaw" in sink.hits and sink.hits.count("dictExpand") == 2
        assert any(e[0] == "rehash.started" for e in sink.events)
        sink.hits.clear()
        d.fetch_value(1)
        assert sink.hits[:3] == ["dictFind", "_dictRehashStep", "dictRehash"]
        while d.is_rehashing():
            d.find(0)
        assert any(e[0] == "rehash.finished" and e[1]["redis.dict.size"] == 8
                   for e in sink.events)
    finally:
        probes.remove_sink(sink)
    assert not probes.armed
    assert Dict.find is probes.CATALOGUE["dictFind"].fn
    assert D.dict_rehash is probes.CATALOGUE["dictRehash"].fn


def test_module_does_not_import_the_server():
    code = ("import sys, tracered.dict; "
            "bad = [m for m in sys.modules if m in ('tracered.server', 'tracered.networking',"
            " 'tracered.db')]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[1]),
                         timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
