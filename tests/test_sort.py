"""SORT and SORT_RO (tracered/sort.py) against Debian's redis-server 7.0.15.

Every scenario sends the same commands to both servers through the ``diff`` fixture and
compares the replies; STORE results are also compared with DEBUG DIGEST, OBJECT ENCODING
and MEMORY USAGE.  Covered: lists, sets (intset and hashtable), sorted sets (listpack and
skiplist), numeric and ALPHA order, BY with string keys, hash fields and ``nosort``, GET
``#`` / patterns / missing keys, LIMIT clamping, STORE (empty result deletes the
destination, keyspace events), the error replies, SORT_RO, scripts (a set sorted BY nosort
is sorted ALPHA there), ties under BY + ALPHA + LIMIT (Redis's pqsort), the command table
row (COMMAND INFO / DOCS / GETKEYS), and that STORE reaches the AOF.

A hashtable set (and a sorted set's dict) iterates in hash order, which differs between the
two servers (and between two runs of redis-server); replies that expose that order are
compared as multisets.
"""

from __future__ import annotations

import os
import random
import time

import pytest
from conftest import Differential, ServerProc
from test_command_cmd import Raw as ParsedRaw
from test_command_cmd import _cli_params, _pairs
from test_t_hash import Raw

from tracered.pqsort import pqsort
from tracered.sort import sort_get_keys, sort_strtod

LIMITS = [(0, 0), (0, 1), (0, 3), (2, 3), (1, -1), (-1, 2), (-5, -5), (3, 0), (5, 100),
          (7, 1), (8, 1), (9, 5), (100, 2), (-100, 100), (0, 9223372036854775807),
          (9223372036854775807, 9223372036854775807), (-9223372036854775808, 3),
          (2, -9223372036854775808)]


def same_multiset(d: Differential, *args):
    """For replies in a hashtable's order: equal as multisets, same length."""
    a, b = d.both(*args)
    if isinstance(a, list) and isinstance(b, list):
        assert sorted(a, key=repr) == sorted(b, key=repr), (args, a, b)
    else:
        assert a == b, (args, a, b)
    return a


def check_dest(d: Differential, key) -> None:
    d("EXISTS", key)
    d("TYPE", key)
    d("LRANGE", key, 0, -1)
    if d.t.exists(key):
        d("OBJECT", "ENCODING", key)
        d("MEMORY", "USAGE", key, "SAMPLES", "0")
        d("TTL", key)
    d.digest()


# --------------------------------------------------------------------------------------------
# Lists
# --------------------------------------------------------------------------------------------

def test_list_numeric_and_alpha(diff):
    d = diff
    d("RPUSH", "l", "3", "10", "-2.5", "1e2", "0x10", " 7", "007", "-0", "0", "2")
    for extra in ((), ("DESC",), ("ASC",), ("ALPHA",), ("ALPHA", "DESC"), ("desc", "asc"),
                  ("alpha", "DESC", "ASC")):
        d("SORT", "l", *extra)
        d("SORT_RO", "l", *extra)
    for off, cnt in LIMITS:
        d("SORT", "l", "LIMIT", off, cnt)
        d("SORT", "l", "LIMIT", off, cnt, "DESC")
        d("SORT", "l", "LIMIT", off, cnt, "ALPHA")
        d("SORT_RO", "l", "ALPHA", "DESC", "LIMIT", off, cnt)
    # The last LIMIT wins.
    d("SORT", "l", "LIMIT", 0, 2, "LIMIT", 3, 2)


def test_list_by_nosort_keeps_native_order(diff):
    d = diff
    d("RPUSH", "l", *[f"e{i}" for i in range(12)])
    d("RPUSH", "big", *[str(i) for i in range(300)])
    for key in ("l", "big", "nokey"):
        for extra in ((), ("DESC",), ("ALPHA",)):
            d("SORT", key, "BY", "nosort", *extra)
            for off, cnt in LIMITS:
                d("SORT", key, "BY", "nosort", "LIMIT", off, cnt, *extra)
                d("SORT", key, "BY", "constant", "LIMIT", off, cnt, "GET", "#", *extra)


def test_list_with_integer_entries_and_big_values(diff):
    d = diff
    d("CONFIG", "SET", "list-max-listpack-size", 3)
    try:
        d("RPUSH", "l", "9223372036854775807", "-9223372036854775808", "12345678901234567890",
          "1" * 30, "x" * 100, "5", "-5", "1.5e300")
        d("SORT", "l")
        d("SORT", "l", "DESC", "LIMIT", 1, 4)
        d("SORT", "l", "ALPHA")
    finally:
        d("CONFIG", "SET", "list-max-listpack-size", -2)


# --------------------------------------------------------------------------------------------
# Sets and sorted sets
# --------------------------------------------------------------------------------------------

def test_sets(diff):
    d = diff
    d("SADD", "iset", "5", "-3", "100", "7", "0", "42")
    d("OBJECT", "ENCODING", "iset")
    d("SADD", "hset", "b", "a", "10", "2.5", "c", "-1", "zz", "aa")
    d("OBJECT", "ENCODING", "hset")
    d("SADD", "nums", *[str(i * 7 % 101) + ".5" for i in range(60)])
    for key in ("iset", "nums"):
        for extra in ((), ("DESC",)):
            d("SORT", key, *extra)
            d("SORT_RO", key, *extra)
            for off, cnt in LIMITS:
                d("SORT", key, "LIMIT", off, cnt, *extra)
    for extra in ((), ("DESC",)):
        d("SORT", "hset", "ALPHA", *extra)
        d("SORT", "hset", "ALPHA", "LIMIT", 2, 3, *extra)
    d("SORT", "hset")  # "b" is not a number
    # BY nosort: an intset's own order is sorted, so it is the same on both servers...
    d("SORT", "iset", "BY", "nosort")
    d("SORT", "iset", "BY", "nosort", "DESC", "LIMIT", 1, 3)
    # ...a hashtable's is not; compare the members only.
    same_multiset(d, "SORT", "hset", "BY", "nosort")
    same_multiset(d, "SORT_RO", "nums", "BY", "nosort", "DESC")
    assert len(d.t.execute_command("SORT", "hset", "BY", "nosort", "LIMIT", 0, 3)) == 3
    # With STORE the set is sorted ALPHA first (replicas must store the same list).
    for key in ("hset", "nums", "iset"):
        d("SORT", key, "BY", "nosort", "STORE", "dst")
        check_dest(d, "dst")
        d("SORT", key, "BY", "nosort", "DESC", "LIMIT", 2, 4, "STORE", "dst")
        check_dest(d, "dst")


def test_sorted_sets(diff):
    d = diff
    d("ZADD", "zl", "3", "c", "1", "a", "2", "b", "5", "10", "4", "-7", "0", "x")
    d("OBJECT", "ENCODING", "zl")
    d("SORT_RO", "zl", "BY", "nosort")
    # SORT converts a listpack sorted set to a skiplist, even SORT_RO.
    d("OBJECT", "ENCODING", "zl")
    d("ZADD", "zl2", "1", "1", "2", "2")
    d("SORT_RO", "zl2")
    d("OBJECT", "ENCODING", "zl2")
    d("ZADD", "zs", *[x for i in range(200) for x in (str(i % 17), f"m{i:03d}")])
    d("OBJECT", "ENCODING", "zs")
    d("ZADD", "zn", *[x for i in range(150) for x in (str(-i), str(i * 3))])
    for key in ("zl", "zs"):
        for extra in ((), ("DESC",)):
            d("SORT", key, "BY", "nosort", *extra)
            d("SORT", key, "ALPHA", *extra)
            for off, cnt in LIMITS:
                d("SORT", key, "BY", "nosort", "LIMIT", off, cnt, *extra)
                d("SORT_RO", key, "ALPHA", "LIMIT", off, cnt, *extra)
    d("SORT", "zl")  # letters are not numbers
    for extra in ((), ("DESC",)):
        d("SORT", "zn", *extra)
        d("SORT", "zn", "LIMIT", 10, 20, *extra)
    d("SORT", "zs", "BY", "nosort", "LIMIT", 5, 10, "STORE", "dst")
    check_dest(d, "dst")


# --------------------------------------------------------------------------------------------
# BY and GET patterns
# --------------------------------------------------------------------------------------------

def _weights(d: Differential) -> None:
    d("RPUSH", "l", "a", "b", "c", "d", "e", "f", "g")
    d("MSET", "w_a", "5", "w_b", "-1", "w_c", "2.5", "w_d", "100", "w_f", "5",
      "s_a", "zeta", "s_b", "alpha", "s_c", "Mid", "s_d", "alpha", "s_e", "a\x00z",
      "s_f", "a\x00b", "o_a", "x", "o_b", "y")
    d("HSET", "h_a", "f", "3", "g", "gamma")
    d("HSET", "h_b", "f", "1.5", "g", "beta")
    d("HSET", "h_c", "f", "-4", "g", "alpha")
    d("HSET", "h_d", "f", "x" * 80, "g", "delta")   # a hashtable-encoded hash
    d("HSET", "h_d", "f", "3", *[x for i in range(200) for x in (f"k{i}", "v")])
    d("OBJECT", "ENCODING", "h_d")
    d("SADD", "w_g", "not-a-string")                # wrong type: treated as missing


def test_by_string_and_hash_weights(diff):
    d = diff
    _weights(d)
    for by in ("w_*", "h_*->f", "s_*", "h_*->g", "h_*->nofield", "none_*", "w_*->f",
               "h_*->", "*", "w_*_suffix", "->*", "h_*->f->x"):
        for extra in ((), ("DESC",), ("ALPHA",), ("ALPHA", "DESC"), ("LIMIT", 1, 3),
                      ("ALPHA", "LIMIT", 2, 3), ("ALPHA", "DESC", "LIMIT", 0, 4)):
            d("SORT", "l", "BY", by, *extra)
            d("SORT", "l", "BY", by, "GET", "#", "GET", by, *extra)
            d("SORT", "l", "BY", by, "STORE", "dst", *extra)
            d("LRANGE", "dst", 0, -1)
    d.digest()


def test_repeated_by_and_keyspace_stats(diff):
    d = diff
    _weights(d)
    # A constant BY is never undone by a later pattern; the last pattern is the one used.
    d("SORT", "l", "BY", "nosort", "BY", "w_*")
    d("SORT", "l", "BY", "w_*", "BY", "nosort", "DESC")
    d("SORT", "l", "BY", "s_*", "BY", "w_*", "LIMIT", 1, 4)
    # Every BY and GET lookup counts as a keyspace hit or miss, as in Redis.
    before = [c.info("stats") for c in (d.t, d.ref)]
    d("SORT", "l", "BY", "w_*", "GET", "h_*->f", "GET", "#", "GET", "s_*")
    d("SORT", "l", "BY", "nosort", "GET", "nope_*", "LIMIT", 2, 2)
    after = [c.info("stats") for c in (d.t, d.ref)]
    for k in ("keyspace_hits", "keyspace_misses"):
        assert after[0][k] - before[0][k] == after[1][k] - before[1][k], k


def test_get_patterns(diff):
    d = diff
    _weights(d)
    d("SET", "n_c", "12345")  # an integer-encoded string
    for gets in (("#",), ("w_*",), ("h_*->g",), ("h_*->f", "#", "s_*"), ("nopattern",),
                 ("n_*",), ("h_*->",), ("#x",), ("",), ("*",), ("h_*->nope",)):
        args = [x for g in gets for x in ("GET", g)]
        d("SORT", "l", "ALPHA", *args)
        d("SORT", "l", "ALPHA", "DESC", "LIMIT", 1, 2, *args)
        d("SORT", "l", "BY", "nosort", *args)
        d("SORT_RO", "l", "BY", "w_*", *args)
        d("SORT", "l", "ALPHA", *args, "STORE", "dst")
        check_dest(d, "dst")


def test_resp3_nulls_and_bytes(diff, tracered_server, redis_server):
    a, b = Raw(tracered_server.port), Raw(redis_server.port)
    try:
        for proto in ("2", "3"):
            assert a("HELLO", proto)[:1] == b("HELLO", proto)[:1]
            for args in (("RPUSH", "l", "x", "y"), ("SET", "w_x", "1"),
                         ("SORT", "l", "ALPHA", "GET", "#", "GET", "w_*"),
                         ("SORT", "l", "ALPHA", "STORE", "d"), ("SORT", "nokey"),
                         ("SORT", "l", "LIMIT", "0", "1", "BY", "w_*"),
                         ("SORT", "l"), ("DEL", "l", "w_x", "d")):
                x, y = a(*args), b(*args)
                assert x == y, (proto, args, x, y)
    finally:
        a.close()
        b.close()


def test_ties_under_by_alpha_limit(diff):
    """Equal ALPHA weights: the full sort is stable (glibc's merge sort), the windowed sort
    is pqsort's own order.  Lists and intsets load in the same order on both servers."""
    d = diff
    rnd = random.Random(7)
    n = 120
    d("RPUSH", "l", *[f"e{i}" for i in range(n)])
    d("SADD", "iset", *[str(i * 3) for i in range(n)])
    pairs = []
    for i in range(n):
        w = rnd.choice(["a", "b", "c", "b", None])
        if w is not None:
            pairs += [f"w_e{i}", w, f"w_{i * 3}", w]
    d("MSET", *pairs)
    for key in ("l", "iset"):
        for extra in ((), ("DESC",)):
            d("SORT", key, "BY", "w_*", "ALPHA", *extra)
            d("SORT", key, "BY", "w_*", "ALPHA", "STORE", "dst", *extra)
            for off, cnt in ((0, 10), (5, 17), (30, 40), (60, 1), (110, 20), (0, 119),
                             (1, 119), (-3, 8), (119, 1), (40, 0), (200, 3)):
                d("SORT", key, "BY", "w_*", "ALPHA", "LIMIT", off, cnt, *extra)
                d("SORT", key, "BY", "w_*", "ALPHA", "LIMIT", off, cnt, "GET", "w_*",
                  "GET", "#", *extra)
        # Numeric weights with ties are ordered by the element: a total order.
        d("SORT", key, "BY", "w_*", "LIMIT", 3, 30)


def test_random_scenarios(diff):
    """Seeded random lists, weights and option mixes, compared reply by reply."""
    d = diff
    rnd = random.Random(20240611)
    values = ["1", "2", "2", "-3", "10", "0.5", "abc", "b", "", "1e3", " 4", "x\x00y",
              "0x1A", "7", "-0", "Z", "a", "ab"]
    for _ in range(60):
        d("FLUSHALL")
        elems = [rnd.choice(values) + (str(rnd.randrange(3)) if rnd.random() < .5 else "")
                 for _ in range(rnd.randrange(0, 30))]
        if elems:
            d("RPUSH", "l", *elems)
        for e in set(elems):
            r = rnd.random()
            if r < .4:
                d("SET", f"w_{e}", rnd.choice(["1", "2", "3", "1.5", "-2", "9"]))
            elif r < .6:
                d("HSET", f"h_{e}", "f", rnd.choice(["a", "b", "c", "10", "3"]))
        opts: list = []
        if rnd.random() < .5:
            opts += ["BY", rnd.choice(["w_*", "h_*->f", "nosort", "missing_*"])]
        if rnd.random() < .5:
            opts += ["LIMIT", rnd.randrange(-2, 12), rnd.randrange(-2, 12)]
        for _ in range(rnd.randrange(3)):
            opts += ["GET", rnd.choice(["#", "w_*", "h_*->f", "k"])]
        if rnd.random() < .5:
            opts.append(rnd.choice(["ASC", "DESC"]))
        if rnd.random() < .6:
            opts.append("ALPHA")
        d("SORT", "l", *opts)
        if rnd.random() < .4:
            d("SORT", "l", *opts, "STORE", "dst")
            d("LRANGE", "dst", 0, -1)
            d("EXISTS", "dst")
    d.digest()


# --------------------------------------------------------------------------------------------
# STORE
# --------------------------------------------------------------------------------------------

def test_store(diff):
    d = diff
    d("RPUSH", "l", "3", "1", "2")
    d("SET", "dst", "old", "EX", "100")
    d("SORT", "l", "STORE", "dst")
    check_dest(d, "dst")   # overwritten, TTL gone
    d("SORT", "l", "DESC", "STORE", "l")  # store over the source
    check_dest(d, "l")
    d("SORT", "l", "GET", "nope_*", "GET", "#", "STORE", "dst")
    check_dest(d, "dst")   # missing GET values are stored as ""
    # An empty result deletes the destination.
    d("SORT", "l", "LIMIT", 10, 5, "STORE", "dst")
    check_dest(d, "dst")
    d("SORT", "nokey", "STORE", "dst")
    d("SORT", "nokey", "STORE", "nokey2")
    d("DBSIZE")
    # The last STORE wins; a stored list uses the default node size.
    d("CONFIG", "SET", "list-max-listpack-size", 2)
    try:
        d("RPUSH", "big", *[str(i) for i in range(50)])
        d("SORT", "big", "DESC", "STORE", "a", "STORE", "b")
        d("EXISTS", "a")
        check_dest(d, "b")
    finally:
        d("CONFIG", "SET", "list-max-listpack-size", -2)
    d("SORT", "big", "STORE", "b", "LIMIT", 0, 3, "GET", "#", "GET", "#")
    check_dest(d, "b")


def test_store_keyspace_events(diff):
    got = []
    for c in (diff.t, diff.ref):
        c.config_set("notify-keyspace-events", "KEA")
        p = c.pubsub()
        p.psubscribe("__key*__:*")
        p.get_message(timeout=2)
        try:
            c.rpush("l", "b", "a")
            c.set("dst", "x")
            c.execute_command("SORT", "l", "ALPHA", "STORE", "dst")
            c.execute_command("SORT", "l", "LIMIT", "5", "1", "ALPHA", "STORE", "dst")
            c.execute_command("SORT", "l", "ALPHA", "LIMIT", "5", "1", "STORE", "dst")
            c.execute_command("SORT", "l", "ALPHA")
            msgs = []
            deadline = time.time() + 5
            while time.time() < deadline and len(msgs) < 12:
                m = p.get_message(timeout=0.2)
                if m is not None:
                    msgs.append((m["channel"], m["data"]))
            got.append(msgs)
        finally:
            p.close()
            c.config_set("notify-keyspace-events", "")
    assert got[0] == got[1]
    assert (b"__keyevent@0__:sortstore", b"dst") in got[0]
    assert (b"__keyevent@0__:del", b"dst") in got[0]


def test_store_reaches_the_aof_and_reloads():
    sp = ServerProc.start_tracered("--appendonly", "yes", "--appendfsync", "always")
    try:
        c = sp.client()
        c.rpush("l", "3", "1", "2")
        c.set("w_1", "9")
        assert c.execute_command("SORT", "l", "BY", "w_*", "STORE", "dst") == 3
        assert c.execute_command("SORT", "l", "DESC") == [b"3", b"2", b"1"]
        assert c.execute_command("SORT", "l", "LIMIT", "9", "9", "STORE", "gone") == 0
        c.close()
        aofdir = os.path.join(sp.workdir, "appendonlydir")
        text = b"".join(open(os.path.join(aofdir, f), "rb").read()
                        for f in sorted(os.listdir(aofdir)) if f.endswith(".aof"))
        assert b"STORE\r\n$3\r\ndst" in text
        assert b"DESC" not in text          # a plain SORT is not propagated
        assert b"gone" not in text          # nothing to delete: dirty stays 0
        sp.stop()
        sp2 = ServerProc.start_tracered("--appendonly", "yes", port=sp.port,
                                        workdir=sp.workdir)
        try:
            c = sp2.client()
            assert c.lrange("dst", 0, -1) == [b"2", b"3", b"1"]
            c.close()
        finally:
            sp2.stop()
    finally:
        sp.stop()


# --------------------------------------------------------------------------------------------
# Errors, scripts, SORT_RO
# --------------------------------------------------------------------------------------------

def test_errors(diff):
    d = diff
    # Valid edge values first: Redis does not clear errno before strtod, so once a value
    # overflowed, later SORTs on the same connection fail too (see sort.py's Divergence).
    d("RPUSH", "v", "0x1p-1074", "0e-999", "2.2250738585072014e-308", "-inf", "inf", "")
    d("SORT", "v")
    d("RPUSH", "l", "1", "x", "2")
    d("RPUSH", "n", "1", "2")
    d("SET", "str", "v")
    d("HSET", "hash", "f", "v")
    d("SET", "w_1", "nan")
    d("SET", "w_2", "1e400")
    d("SET", "w_x", "1e-320")
    for args in (
        ("SORT",), ("SORT_RO",), ("SORT", "nokey"), ("SORT_RO", "nokey", "DESC"),
        ("SORT", "str"), ("SORT", "hash"), ("SORT_RO", "str", "BY", "nosort"),
        ("SORT", "str", "FOO"),           # options are parsed before the key is looked up
        ("SORT", "l"), ("SORT", "l", "DESC", "LIMIT", 0, 1),
        ("SORT", "l", "STORE", "dst"), ("EXISTS", "dst"),
        ("SORT", "n", "BY", "w_*"), ("SORT", "l", "BY", "w_*"),
        ("SORT", "n", "BY", "w_*", "ALPHA"),
        ("SORT", "l", "FOO"), ("SORT", "l", "LIMIT"), ("SORT", "l", "LIMIT", 1),
        ("SORT", "l", "LIMIT", "a", "b"), ("SORT", "l", "LIMIT", 1, "b"),
        ("SORT", "l", "LIMIT", "1.5", 1), ("SORT", "l", "LIMIT", "99999999999999999999", 1),
        ("SORT", "l", "BY"), ("SORT", "l", "GET"), ("SORT", "l", "STORE"),
        ("SORT", "l", "ALPHA", "GET", "#", "BY"),
        ("SORT_RO", "l", "STORE", "dst"), ("SORT_RO", "l", "ALPHA", "STORE", "dst"),
        ("SORT", "l", "alpha", "Desc", "Limit", 0, 2, "get", "#", "by", "nosort"),
    ):
        d(*args)
    d("SET", "w_1", "1")
    d("SORT", "n", "BY", "w_*")  # w_2 still overflows
    d("RPUSH", "u", "1e-310", "5e-324")
    d("SORT", "u")
    d("RPUSH", "nines", "9" * 400, "1")
    d("SORT", "nines")


def test_scripts_sort_sets_by_nosort(diff):
    """In a script a set sorted BY nosort comes out ALPHA-sorted (CLIENT_SCRIPT)."""
    d = diff
    d("SADD", "s", "b", "a", "c", "10", "2", "aa", *[f"m{i}" for i in range(40)])
    d("RPUSH", "l", "b", "a", "c")
    for script in ("return redis.call('sort', KEYS[1], 'by', 'nosort')",
                   "return redis.call('sort_ro', KEYS[1], 'by', 'nosort', 'desc')",
                   "return redis.call('sort', KEYS[1], 'by', 'nosort', 'limit', 2, 5)",
                   "return redis.call('sort', KEYS[1], 'by', 'const', 'get', '#')"):
        d("EVAL", script, 1, "s")
        d("EVAL", script, 1, "l")
    d("EVAL_RO", "return redis.call('sort_ro', KEYS[1], 'alpha', 'desc')", 1, "s")
    d("EVAL_RO", "return redis.call('sort', KEYS[1], 'alpha')", 1, "s")
    d("EVAL_RO", "return redis.pcall('sort_ro', KEYS[1], 'store', 'x')", 1, "s")
    d("EVAL", "return redis.call('sort', KEYS[1], 'alpha', 'store', KEYS[2])", 2, "s", "d")
    check_dest(d, "d")


def test_sort_in_multi(diff):
    d = diff
    for c in (d.t, d.ref):
        p = c.pipeline(transaction=True)
        p.rpush("l", "2", "1")
        p.execute_command("SORT", "l", "STORE", "dst")
        p.execute_command("SORT_RO", "l", "DESC")
        p.execute_command("SORT", "l", "BY")
        assert p.execute(raise_on_error=False)[1:3] == [2, [b"2", b"1"]]
    check_dest(d, "dst")


# --------------------------------------------------------------------------------------------
# The command table row
# --------------------------------------------------------------------------------------------

GETKEYS = [
    ("sort", "k"), ("sort", "k", "STORE", "d"), ("sort", "k", "store", "d", "STORE", "e"),
    ("sort", "k", "LIMIT", "0", "1", "STORE", "d"), ("sort", "k", "GET", "store", "x"),
    ("sort", "k", "BY", "store", "GET", "#", "store", "d"), ("sort", "k", "store"),
    ("sort", "k", "STORE", "limit", "1", "2", "STORE", "z"),
    ("sort", "k", "STORE", "by", "STORE", "q"), ("sort", "k", "foo", "STORE", "d"),
    ("sort_ro", "k"), ("sort_ro", "k", "STORE", "d"), ("sort", "k", "LIMIT"),
]


def test_command_rows(diff, tracered_server, redis_server):
    t, ref = ParsedRaw(tracered_server.port), ParsedRaw(redis_server.port)
    try:
        for name in ("sort", "sort_ro"):
            ours = t.call("COMMAND", "INFO", name)[0]
            theirs = ref.call("COMMAND", "INFO", name)[0]
            # Name, arity, flags, first/last/step, ACL categories, tips; subcommands.
            assert ours[:8] == theirs[:8], name
            assert ours[9] == theirs[9], name
            assert len(ours[8]) == len(theirs[8]), name
            assert ours[8][0] == theirs[8][0], name
            docs = _pairs(t.call("COMMAND", "DOCS", name)[1])
            rdocs = _pairs(ref.call("COMMAND", "DOCS", name)[1])
            for field in (b"summary", b"since", b"group", b"complexity"):
                assert docs[field] == rdocs[field], (name, field)
            assert _cli_params(docs[b"arguments"]) == _cli_params(rdocs[b"arguments"])
        for args in GETKEYS:
            assert t.call("COMMAND", "GETKEYS", *args) == \
                ref.call("COMMAND", "GETKEYS", *args), args
        for args in (("sort", "k"), ("sort", "k", "BY", "w_*"), ("sort_ro", "k", "ALPHA")):
            assert t.call("COMMAND", "GETKEYSANDFLAGS", *args) == \
                ref.call("COMMAND", "GETKEYSANDFLAGS", *args), args
    finally:
        t.close()
        ref.close()


def test_command_info_unknown_key_specs(tracered_server, redis_server):
    t, ref = ParsedRaw(tracered_server.port), ParsedRaw(redis_server.port)
    try:
        for name in ("sort", "sort_ro"):
            assert t.call("COMMAND", "INFO", name) == ref.call("COMMAND", "INFO", name)
    finally:
        t.close()
        ref.close()


# --------------------------------------------------------------------------------------------
# Unit tests of the helpers
# --------------------------------------------------------------------------------------------

def test_sort_get_keys_unit():
    argv = [b"sort", b"k", b"LIMIT", b"0", b"1", b"GET", b"store", b"STORE", b"d"]
    assert sort_get_keys(argv) == [1, 8]
    assert sort_get_keys([b"sort", b"k", b"store"]) == [1]


@pytest.mark.parametrize("text,value", [
    (b"12", 12.0), (b"", 0.0), (b" 5", 5.0), (b"5 ", None), (b"0x10", 16.0),
    (b"inf", float("inf")), (b"-Infinity", float("-inf")), (b"nan", None), (b"1e400", None),
    (b"1e-310", None), (b"0x1p-1074", 5e-324), (b"0e-400", 0.0), (b"1e-400", None),
    (b"1_0", None), (b"0x", None), (b"3\x00junk", 3.0), (b"\x00", 0.0), (b"+.5", 0.5),
    (b"-0", -0.0), (b"1" * 40, 1.1111111111111111e39), (b"9" * 308, 1e308),
    (b"9" * 309, None), (b"0" * 400 + b"1", 1.0),
])
def test_sort_strtod(text, value):
    assert sort_strtod(text) == value


def test_pqsort_orders_the_window():
    rnd = random.Random(3)
    for n in (0, 1, 6, 7, 8, 40, 41, 100, 257):
        for _ in range(20):
            base = [rnd.randrange(10) for _ in range(n)]
            lo = rnd.randrange(-1, n + 1)
            hi = rnd.randrange(lo - 1, n + 1)
            v = list(base)
            pqsort(v, n, lambda a, b: (a > b) - (a < b), lo, hi)
            assert sorted(v) == sorted(base)
            want = sorted(base)
            for i in range(max(lo, 0), min(hi, n - 1) + 1):
                assert v[i] == want[i], (n, lo, hi)
