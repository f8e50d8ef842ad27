"""Differential tests: the keyspace, expire, OBJECT and MEMORY commands against the real
redis-server 7.0.15, reply for reply (errors included), plus hypothesis-generated
sequences of keyspace operations whose replies and final dataset (DEBUG DIGEST) must agree.
"""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# Absolute expiry instants far in the future, so both servers see the same TTL state.
FUTURE_S = 4_000_000_000
FUTURE_MS = FUTURE_S * 1000


def sorted_both(diff, *args):
    a, b = diff.both(*args)
    if isinstance(a, list) and isinstance(b, list):
        a, b = sorted(a), sorted(b)
    assert a == b, f"{args!r}: tracered={a!r} redis={b!r}"
    return a


def scan_all(client, *opts) -> set:
    out = set()
    cursor = 0
    for _ in range(10000):
        cursor, keys = client.execute_command("SCAN", cursor, *opts)
        out.update(keys)
        if int(cursor) == 0:
            return out
    raise AssertionError("SCAN did not terminate")


def test_errors_match(diff):
    diff("SET", "k", "v")
    diff("SET", "n", "12")
    cases = [
        ("DEL",), ("UNLINK",), ("EXISTS",), ("TYPE",), ("TYPE", "a", "b"), ("KEYS",),
        ("KEYS", "a", "b"), ("SCAN",), ("RANDOMKEY", "x"), ("DBSIZE", "x"), ("RENAME", "k"),
        ("RENAME", "nokey", "x"), ("RENAMENX", "nokey", "x"), ("MOVE", "k"),
        ("MOVE", "k", "x"), ("MOVE", "k", "0"), ("MOVE", "k", "16"), ("MOVE", "k", "-1"),
        ("MOVE", "k", "2147483648"), ("MOVE", "k", " 1"), ("MOVE", "k", "01"),
        ("COPY", "k"), ("COPY", "k", "k"), ("COPY", "k", "d", "DB"), ("COPY", "k", "d", "X"),
        ("COPY", "k", "d", "DB", "x"), ("COPY", "k", "d", "DB", "16"),
        ("COPY", "k", "k", "DB", "0"), ("COPY", "k", "d", "REPLACE", "DB", "99999999999"),
        ("FLUSHDB", "x"), ("FLUSHDB", "async", "sync"), ("FLUSHALL", "LAZY"),
        ("SWAPDB", "0"), ("SWAPDB", "a", "b"), ("SWAPDB", "0", "b"), ("SWAPDB", "0", "16"),
        ("SWAPDB", "-1", "0"), ("SWAPDB", "4294967296", "0"),
        ("SCAN", "x"), ("SCAN", " 0"), ("SCAN", "0 "), ("SCAN", "-"), ("SCAN", "0x1"),
        ("SCAN", "18446744073709551616"), ("SCAN", "0", "COUNT"), ("SCAN", "0", "COUNT", "0"),
        ("SCAN", "0", "COUNT", "-5"), ("SCAN", "0", "COUNT", "1.5"), ("SCAN", "0", "TYPE"),
        ("SCAN", "0", "MATCH"), ("SCAN", "0", "BOGUS", "x"),
        ("EXPIRE", "k"), ("EXPIRE", "k", "x"), ("EXPIRE", "k", "1", "NX", "XX"),
        ("EXPIRE", "k", "1", "NX", "GT"), ("EXPIRE", "k", "1", "LT", "NX"),
        ("EXPIRE", "k", "1", "GT", "LT"), ("EXPIRE", "k", "1", "GT", "GT", "LT"),
        ("EXPIRE", "k", "1", "bogus"), ("PEXPIRE", "k", "1", "nx", "foo"),
        ("EXPIRE", "k", "9223372036854776"), ("EXPIRE", "k", "-9223372036854776"),
        ("EXPIREAT", "k", "9223372036854776"), ("PEXPIRE", "k", "9223372036854775807"),
        ("PEXPIRE", "k", "9223372036854775808"), ("PEXPIREAT", "k", "x"),
        ("EXPIRE", "nokey", "9223372036854776"),
        ("TTL",), ("PTTL", "a", "b"), ("EXPIRETIME",), ("PEXPIRETIME",), ("PERSIST",),
        ("TOUCH",),
        ("OBJECT",), ("OBJECT", "ENCODING"), ("OBJECT", "FOO", "k"), ("OBJECT", "HELP", "x"),
        ("OBJECT", "FREQ", "k"), ("OBJECT", "REFCOUNT", "k", "x"),
        ("MEMORY",), ("MEMORY", "USAGE"), ("MEMORY", "USAGE", "k", "SAMPLES"),
        ("MEMORY", "USAGE", "k", "SAMPLES", "-1"), ("MEMORY", "USAGE", "k", "SAMPLES", "x"),
        ("MEMORY", "USAGE", "k", "x"), ("MEMORY", "FOO"), ("MEMORY", "STATS", "x"),
        ("MEMORY", "DOCTOR", "x"), ("MEMORY", "PURGE", "x"), ("MEMORY", "MALLOC-STATS", "x"),
    ]
    for args in cases:
        diff(*args)
    diff("TTL", "k")
    diff("GET", "k")


def test_replies_match(diff):
    for args in [
        ("SET", "a", "1"), ("SET", "b", "hello"), ("SET", "c", "x" * 60), ("SET", "d", "123456"),
        ("EXISTS", "a", "b", "zz", "a"), ("TYPE", "a"), ("TYPE", "zz"), ("DBSIZE",),
        ("RENAME", "a", "a"), ("RENAMENX", "a", "a"), ("RENAME", "a", "e"),
        ("RENAMENX", "b", "e"), ("RENAMENX", "b", "f"), ("EXPIREAT", "f", FUTURE_S),
        ("EXPIRETIME", "f"), ("PEXPIRETIME", "f"), ("RENAME", "f", "g"), ("EXPIRETIME", "g"),
        ("MOVE", "g", "3"), ("MOVE", "g", "3"), ("COPY", "c", "c2"), ("COPY", "c", "c2"),
        ("COPY", "c", "c2", "REPLACE"), ("COPY", "d", "d2", "DB", "4"),
        ("COPY", "d", "d", "DB", "4"), ("COPY", "d", "d", "DB", "4", "REPLACE"),
        ("OBJECT", "ENCODING", "c2"), ("OBJECT", "ENCODING", "d"),
        ("OBJECT", "REFCOUNT", "d"), ("OBJECT", "ENCODING", "nokey"),
        ("OBJECT", "REFCOUNT", "nokey"), ("OBJECT", "IDLETIME", "nokey"),
        ("OBJECT", "FREQ", "nokey"),
        ("SET", "s", "5"), ("OBJECT", "REFCOUNT", "s"), ("COPY", "s", "s2"),
        ("OBJECT", "REFCOUNT", "s2"), ("OBJECT", "ENCODING", "s2"),
        ("EXPIRE", "s", "100", "XX"), ("EXPIRE", "s", "100", "GT"), ("EXPIRE", "s", "-1", "GT"),
        ("EXPIRE", "s", "-1", "LT"), ("EXISTS", "s"), ("PEXPIREAT", "s2", FUTURE_MS, "NX"),
        ("PEXPIREAT", "s2", FUTURE_MS + 1, "NX"), ("PEXPIREAT", "s2", FUTURE_MS - 1, "GT"),
        ("PEXPIREAT", "s2", FUTURE_MS + 1, "GT"), ("PEXPIRETIME", "s2"),
        ("PEXPIREAT", "s2", FUTURE_MS, "LT"), ("PEXPIRETIME", "s2"), ("PERSIST", "s2"),
        ("PERSIST", "s2"), ("PEXPIRETIME", "s2"), ("TTL", "s2"), ("TOUCH", "s2", "nokey"),
        ("SWAPDB", "0", "3"), ("DBSIZE",), ("EXPIRETIME", "g"), ("SWAPDB", "3", "0"),
        ("SWAPDB", "2", "2"), ("DEL", "e", "zz", "e"), ("UNLINK", "c", "c2"), ("DBSIZE",),
        ("MEMORY", "USAGE", "d"), ("MEMORY", "USAGE", "s2"), ("MEMORY", "USAGE", "nokey"),
        ("SET", "" , "empty"), ("MEMORY", "USAGE", ""), ("SET", "k" * 40, "v" * 40),
        ("MEMORY", "USAGE", "k" * 40), ("SET", "big", "z" * 300), ("MEMORY", "USAGE", "big"),
        ("MEMORY", "USAGE", "big", "SAMPLES", "0"),
        ("FLUSHDB",), ("DBSIZE",), ("RANDOMKEY",), ("SCAN", "0"), ("KEYS", "*"),
        ("SET", "only", "1"), ("RANDOMKEY",), ("SCAN", "0"), ("SCAN", "0", "TYPE", "string"),
        ("SCAN", "0", "TYPE", "hash"), ("SCAN", "0", "MATCH", "o*"), ("SCAN", "", "COUNT", "1000"),
        ("SCAN", "-0"), ("KEYS", "o?l*"), ("KEYS", "[a-z]nly"), ("FLUSHALL", "ASYNC"),
        ("FLUSHALL", "SYNC"), ("FLUSHDB", "sync"), ("OBJECT", "HELP"), ("MEMORY", "HELP"),
    ]:
        diff(*args)
    diff.digest()


def test_keys_and_scan_sets_match(diff, r, rr):
    for c in (r, rr):
        p = c.pipeline(transaction=False)
        for i in range(400):
            p.set(f"user:{i}", i)
            if i % 3 == 0:
                p.hset(f"h:{i}", "f", i)
        p.execute()
    sorted_both(diff, "KEYS", "*")
    sorted_both(diff, "KEYS", "user:1*")
    sorted_both(diff, "KEYS", "h:[0-3]?")
    sorted_both(diff, "KEYS", "*:*9")
    for opts in ((), ("COUNT", "7"), ("MATCH", "user:2*"), ("TYPE", "hash"),
                 ("TYPE", "string", "MATCH", "*5", "COUNT", "1000")):
        assert scan_all(r, *opts) == scan_all(rr, *opts), opts
    diff("DBSIZE")
    diff.digest()


def test_expire_lazy_behaviour_matches(diff):
    diff("SET", "k", "v", "PX", "30")
    diff("SET", "k2", "v", "PX", "30")
    diff("SET", "k3", "v", "PX", "30")
    time.sleep(0.08)
    for args in [("EXISTS", "k"), ("TTL", "k"), ("TYPE", "k2"), ("RENAME", "k3", "x"),
                 ("PERSIST", "k3"), ("EXPIRE", "k3", "10"), ("TOUCH", "k3"),
                 ("OBJECT", "ENCODING", "k3"), ("SCAN", "0"), ("KEYS", "*"), ("DBSIZE",)]:
        diff(*args)


# --------------------------------------------------------------------------------------------
# Hypothesis: random sequences of keyspace operations
# --------------------------------------------------------------------------------------------

KEYS = ["a", "b", "c", "d"]
VALUES = ["1", "9999", "12345", "-7", "abc", "x" * 50, ""]
key = st.sampled_from(KEYS)
value = st.sampled_from(VALUES)
dbi = st.integers(min_value=0, max_value=2)
flag = st.sampled_from([[], ["NX"], ["XX"], ["GT"], ["LT"]])
abs_s = st.sampled_from([FUTURE_S, FUTURE_S + 10, FUTURE_S - 10, 100])
abs_ms = st.sampled_from([FUTURE_MS, FUTURE_MS + 7, FUTURE_MS - 7, 5])

op = st.one_of(
    st.tuples(st.just("SET"), key, value),
    st.tuples(st.just("HSET"), key, st.just("f"), value),
    st.tuples(st.just("SADD"), key, value),
    st.builds(lambda ks: ("DEL", *ks), st.lists(key, min_size=1, max_size=3)),
    st.builds(lambda ks: ("UNLINK", *ks), st.lists(key, min_size=1, max_size=3)),
    st.builds(lambda ks: ("EXISTS", *ks), st.lists(key, min_size=1, max_size=3)),
    st.tuples(st.just("TYPE"), key),
    st.tuples(st.sampled_from(["RENAME", "RENAMENX"]), key, key),
    st.tuples(st.just("MOVE"), key, dbi),
    st.builds(lambda a, b, d, rep: ("COPY", a, b, *(["DB", str(d)] if d is not None else []),
                                    *(["REPLACE"] if rep else [])),
              key, key, st.one_of(st.none(), dbi), st.booleans()),
    st.builds(lambda k, t, f: ("EXPIREAT", k, t, *f), key, abs_s, flag),
    st.builds(lambda k, t, f: ("PEXPIREAT", k, t, *f), key, abs_ms, flag),
    st.builds(lambda k, f: ("EXPIRE", k, "-1", *f), key, flag),
    st.tuples(st.sampled_from(["EXPIRETIME", "PEXPIRETIME", "PERSIST"]), key),
    st.tuples(st.just("OBJECT"), st.sampled_from(["ENCODING", "REFCOUNT"]), key),
    st.tuples(st.just("SWAPDB"), dbi, dbi),
    st.tuples(st.just("DBSIZE")),
    st.tuples(st.just("KEYS"), st.sampled_from(["*", "a*", "[bc]", "?"])),
    st.tuples(st.just("FLUSHDB")),
)


@settings(max_examples=80, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(ops=st.lists(op, min_size=1, max_size=25))
def test_random_keyspace_sequences(diff, r, rr, ops):
    r.flushall()
    rr.flushall()
    for args in ops:
        if args[0] == "KEYS":
            sorted_both(diff, *args)
        else:
            diff(*args)
    for d in range(3):
        diff("SWAPDB", "0", str(d))
        assert scan_all(r) == scan_all(rr)
        diff("SWAPDB", "0", str(d))
    diff.digest()
