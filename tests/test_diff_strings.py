"""Differential tests of the string commands: the same commands go to tracered and to the
reference redis-server 7.0.15; the exact reply bytes, OBJECT ENCODING after each step,
MEMORY USAGE, and DEBUG DIGEST at the end must be equal.

TTL replies are compared as ranges (the two servers' clocks are read at different moments).
"""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_t_string import Raw


class RawDiff:
    """Send each command to both servers over bare RESP and require identical bytes."""

    def __init__(self, tport: int, rport: int) -> None:
        self.t = Raw(tport)
        self.ref = Raw(rport)

    def close(self) -> None:
        self.t.close()
        self.ref.close()

    def __call__(self, *args) -> bytes:
        a = self.t(*args)
        b = self.ref(*args)
        assert a == b, f"{args!r}: tracered={a!r} redis={b!r}"
        return a

    def encoding(self, key) -> bytes:
        return self("OBJECT", "ENCODING", key)

    def memory(self, key) -> bytes:
        return self("MEMORY", "USAGE", key)

    def ttl_close(self, key, slack: int = 1) -> None:
        a = int(self.t("TTL", key)[1:-2])
        b = int(self.ref("TTL", key)[1:-2])
        assert abs(a - b) <= slack if min(a, b) >= 0 else a == b, (key, a, b)

    def digest(self, xfail_if_missing: bool = True) -> None:
        """DEBUG DIGEST on both.  Until tracered has DEBUG (debug.py), the comparison is marked
        xfail after every other assertion of the test has run (or skipped, inside hypothesis,
        which must not see pytest's outcome exceptions)."""
        a = self.t("DEBUG", "DIGEST")
        if a.startswith(b"-ERR unknown command"):
            if xfail_if_missing:
                pytest.xfail("DEBUG DIGEST missing in tracered (debug.py not there yet)")
            return
        b = self.ref("DEBUG", "DIGEST")
        assert a == b, f"DEBUG DIGEST differs: tracered={a!r} redis={b!r}"


@pytest.fixture
def rd(r, rr, tracered_server, redis_server):
    d = RawDiff(tracered_server.port, redis_server.port)
    yield d
    d.close()


# --------------------------------------------------------------------------------------------
# Scripted sequences
# --------------------------------------------------------------------------------------------

def test_diff_encodings(rd):
    """Every write path and the encoding it leaves behind."""
    steps = [
        ("SET", "k", "0"), ("SET", "k", "9999"), ("SET", "k", "10000"), ("SET", "k", "-1"),
        ("SET", "k", "007"), ("SET", "k", "-0"), ("SET", "k", "+5"), ("SET", "k", " 5"),
        ("SET", "k", "1.5"), ("SET", "k", "9223372036854775807"),
        ("SET", "k", "-9223372036854775808"), ("SET", "k", "9223372036854775808"),
        ("SET", "k", "12345678901234567890"), ("SET", "k", "x" * 44), ("SET", "k", "x" * 45),
        ("SET", "k", ""), ("SET", "k", "12"), ("APPEND", "k", "3"), ("INCR", "k"),
        ("SET", "k", "x" * 20), ("APPEND", "k", "y"), ("APPEND", "k", "z" * 100),
        ("SET", "k", "abc"), ("SETRANGE", "k", "1", "Z"), ("SET", "k", "5"),
        ("SETRANGE", "k", "0", "6"), ("INCR", "k"), ("SETRANGE", "new", "3", "abc"),
        ("APPEND", "fresh", "42"), ("APPEND", "fresh2", "hello"), ("APPEND", "fresh3", "x" * 50),
        ("INCRBYFLOAT", "f", "3"), ("INCR", "f"), ("INCRBYFLOAT", "f", "0.5"),
        ("INCRBYFLOAT", "f", "1e40"), ("INCRBYFLOAT", "g", "1.7976931348623157e308"),
        ("INCRBYFLOAT", "g", "1.7976931348623157e308"), ("INCR", "i"), ("INCRBY", "i", "20000"),
        ("INCR", "i"), ("DECRBY", "i", "20000"), ("GETSET", "k", "100"), ("GETSET", "k", "x" * 50),
        ("SETNX", "nx", "77"), ("SETEX", "ex", "100", "12"), ("PSETEX", "px", "100000", "abc"),
        ("MSET", "m1", "1", "m2", "x" * 60, "m3", "short"), ("MSETNX", "m4", "-5", "m5", "x"),
        ("SET", "k", "v", "GET"), ("SET", "k", "10", "KEEPTTL", "GET"),
    ]
    for step in steps:
        rd(*step)
        key = step[1]
        rd.encoding(key)
        rd.memory(key)
        rd("GET", key)
    for key in ("m1", "m2", "m3", "m4", "m5"):
        rd.encoding(key)
    rd("MGET", "k", "nx", "ex", "px", "m1", "m2", "m5", "missing")
    rd.digest()


def test_diff_set_options_and_ttl(rd):
    now = int(time.time())
    for step in [
        ("SET", "a", "1", "EX", "100"), ("SET", "a", "2", "KEEPTTL"), ("SET", "a", "3"),
        ("SET", "a", "4", "PX", "200000"), ("SET", "a", "5", "EXAT", str(now + 300)),
        ("SET", "a", "6", "PXAT", str((now + 400) * 1000)), ("SET", "a", "7", "XX", "GET"),
        ("SET", "b", "1", "NX", "EX", "50"), ("SET", "b", "2", "NX", "GET"),
        ("GETEX", "a", "EX", "500"), ("GETEX", "a", "PERSIST"), ("GETEX", "a", "PX", "600000"),
        ("GETEX", "b"), ("GETSET", "b", "3"), ("SETEX", "c", "700", "x"),
        ("INCR", "d"), ("SET", "d", "5", "EX", "100"), ("INCR", "d"),
        ("INCRBYFLOAT", "d", "1.5"), ("APPEND", "d", "0"), ("SETRANGE", "d", "0", "9"),
    ]:
        rd(*step)
        rd.ttl_close(step[1])
    # C compares option names up to the first NUL byte
    rd("SET", "nul", "v", "nx\x00junk")
    rd("SET", "nul", "w", "XX\x00", "GET\x00zz")
    rd("GETEX", "nul", "persist\x00?")
    rd("LCS", "nul", "a", "len\x00")
    rd("SET", "e", "v", "PXAT", "1")
    rd("GET", "e")
    rd("GETEX", "a", "EXAT", "1")
    rd("EXISTS", "a")
    rd.digest()


ERROR_CASES = [
    ("SET", "k"), ("SET", "k", "v", "NX", "XX"), ("SET", "k", "v", "EX", "0"),
    ("SET", "k", "v", "EX", "x"), ("SET", "k", "v", "EX"), ("SET", "k", "v", "KEEPTTL", "PX", "1"),
    ("SET", "k", "v", "PX", "9223372036854775807"),
    ("SET", "k", "v", "EX", "9223372036854776"), ("SET", "k", "v", "EXAT", "9223372036854776"),
    ("SET", "k", "v", "PERSIST"), ("SET", "k", "v", "foo"), ("SETEX", "k", "-1", "v"),
    ("PSETEX", "k", "0", "v"), ("SETEX", "k", "1.5", "v"), ("GETEX", "s", "EX", "1"),
    ("GETEX", "str", "NX"), ("GETEX", "str", "EX", "-1"), ("GETEX", "str", "PERSIST", "PX", "1"),
    ("GET", "s"), ("GETSET", "s", "1"), ("GETDEL", "s"), ("SET", "s", "1", "GET"),
    ("INCR", "s"), ("INCR", "str"), ("INCRBY", "n", "x"), ("DECRBY", "n", "-9223372036854775808"),
    ("INCRBY", "max", "1"), ("DECR", "min"), ("INCRBYFLOAT", "str", "1"),
    ("INCRBYFLOAT", "n", "x"), ("INCRBYFLOAT", "n", "inf"), ("INCRBYFLOAT", "n", "nan"),
    ("INCRBYFLOAT", "s", "1"), ("APPEND", "s", "x"), ("STRLEN", "s"),
    ("GETRANGE", "s", "0", "1"), ("GETRANGE", "str", "a", "1"), ("SUBSTR", "str", "0", "z"),
    ("SETRANGE", "str", "-1", "x"), ("SETRANGE", "str", "536870912", "x"),
    ("SETRANGE", "s", "0", "x"), ("SETRANGE", "str", "x", "y"),
    ("MSET", "a"), ("MSET", "a", "1", "b"), ("MSETNX", "a", "1", "b"),
    ("LCS", "str", "s"), ("LCS", "str", "n", "LEN", "IDX"), ("LCS", "str", "n", "MINMATCHLEN"),
    ("LCS", "str", "n", "BOGUS"), ("LCS", "str", "n", "MINMATCHLEN", "1.5"), ("LCS", "str"),
    ("GET",), ("GETRANGE", "str", "0"), ("MGET",), ("INCRBY", "n"), ("STRLEN", "a", "b"),
]


def test_diff_errors(rd):
    rd("SADD", "s", "member")
    rd("SET", "str", "hello")
    rd("SET", "n", "10")
    rd("SET", "max", "9223372036854775807")
    rd("SET", "min", "-9223372036854775808")
    for case in ERROR_CASES:
        reply = rd(*case)
        assert reply.startswith(b"-"), case
    rd("MGET", "s", "str", "n")
    rd.digest()


def test_diff_incrbyfloat(rd):
    rng = random.Random(11)
    incs = ["0.1", "10.5", "-3", "1e-5", "3.0e3", "0x1p-3", "-0", ".5", "5.", "1E2",
            "123456789.123456789", "-0.30000000000000004", "1e17", "7e-20", "+2.5"]
    for _ in range(150):
        inc = rng.choice(incs) if rng.random() < 0.5 else repr(rng.uniform(-1e6, 1e6))
        rd("INCRBYFLOAT", rng.choice(["a", "b"]), inc)
    rd.encoding("a")
    rd.encoding("b")
    rd("SET", "big", "1e300")
    rd("INCRBYFLOAT", "big", "1e300")
    rd.encoding("big")
    rd.memory("big")
    rd.digest()


def test_diff_getrange_setrange(rd):
    rng = random.Random(5)
    rd("SET", "s", "The quick brown fox jumps over the lazy dog")
    rd("SET", "n", "-123456789")
    for _ in range(200):
        a, b = rng.randint(-60, 60), rng.randint(-60, 60)
        rd("GETRANGE", rng.choice(["s", "n", "missing"]), a, b)
    for _ in range(60):
        key = rng.choice(["s", "n", "t"])
        rd("SETRANGE", key, rng.randint(0, 70), rng.choice(["", "x", "hello", "\x00\xff", "9"]))
        rd.encoding(key)
        rd.memory(key)
    rd("MGET", "s", "n", "t")
    rd.digest()


def test_diff_lcs(rd):
    rng = random.Random(3)
    rd("SET", "key1", "ohmytext")
    rd("SET", "key2", "mynewtext")
    for opts in [(), ("LEN",), ("IDX",), ("IDX", "WITHMATCHLEN"), ("IDX", "MINMATCHLEN", "2"),
                 ("idx", "minmatchlen", "4", "withmatchlen"), ("MINMATCHLEN", "3"),
                 ("LEN", "LEN"), ("IDX", "IDX", "MINMATCHLEN", "0")]:
        rd("LCS", "key1", "key2", *opts)
    for _ in range(40):
        a = "".join(rng.choice("abcd") for _ in range(rng.randint(0, 40)))
        b = "".join(rng.choice("abcd") for _ in range(rng.randint(0, 40)))
        rd("SET", "a", a)
        rd("SET", "b", b)
        rd("LCS", "a", "b")
        rd("LCS", "a", "b", "IDX", "WITHMATCHLEN", "MINMATCHLEN", rng.randint(0, 3))
    # big enough that a cell-by-cell Python table would take seconds
    big_a = "".join(rng.choice("ACGT") for _ in range(3000))
    big_b = "".join(rng.choice("ACGT") for _ in range(3000))
    rd("SET", "ga", big_a)
    rd("SET", "gb", big_b)
    t0 = time.perf_counter()
    rd("LCS", "ga", "gb", "IDX", "MINMATCHLEN", "6", "WITHMATCHLEN")
    assert time.perf_counter() - t0 < 5
    rd("LCS", "ga", "gb", "LEN")
    rd("SET", "n1", "12345")
    rd("SET", "n2", "2468")
    rd("LCS", "n1", "n2", "IDX")
    rd.t("HELLO", "3")  # client ids differ: switch both without comparing
    rd.ref("HELLO", "3")
    rd("LCS", "key1", "key2", "IDX", "WITHMATCHLEN")
    rd("GET", "missing")
    rd("INCRBYFLOAT", "key3", "1.5")
    rd.t("HELLO", "2")
    rd.ref("HELLO", "2")
    rd.digest()


# --------------------------------------------------------------------------------------------
# Random sequences (hypothesis)
# --------------------------------------------------------------------------------------------

KEYS = ["k0", "k1", "k2"]

_ints = st.one_of(st.integers(-20, 20_000), st.integers(-(2**63), 2**63 - 1),
                  st.sampled_from([2**63 - 1, -(2**63), 9999, 10000, 0])).map(str)
_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(repr),
    st.sampled_from(["0.1", "1.5", "-2.25", "1e3", "3.0", "1e308", "5e-324", ".5"]))
_short = st.text(alphabet="abcxyz019 -.", max_size=12)
_long = st.integers(30, 300).map(lambda n: "v" * n)
_binary = st.binary(max_size=60)
_values = st.one_of(_ints, _floats, _short, _long, _binary)
_key = st.sampled_from(KEYS)

_command = st.one_of(
    st.tuples(st.just("SET"), _key, _values),
    st.tuples(st.just("GET"), _key),
    st.tuples(st.just("APPEND"), _key, _values),
    st.tuples(st.just("INCR"), _key),
    st.tuples(st.just("INCRBY"), _key, _ints),
    st.tuples(st.just("DECRBY"), _key, st.integers(-1000, 1000).map(str)),
    st.tuples(st.just("INCRBYFLOAT"), _key, _floats),
    st.tuples(st.just("SETRANGE"), _key, st.integers(0, 60), _values),
    st.tuples(st.just("GETRANGE"), _key, st.integers(-70, 70), st.integers(-70, 70)),
    st.tuples(st.just("MSET"), _key, _values, _key, _values),
    st.tuples(st.just("MSETNX"), _key, _values, _key, _values),
    st.tuples(st.just("GETDEL"), _key),
    st.tuples(st.just("STRLEN"), _key),
    st.tuples(st.just("GETSET"), _key, _values),
    st.tuples(st.just("SETNX"), _key, _values),
    st.tuples(st.just("MGET"), _key, _key, _key),
    st.tuples(st.just("LCS"), _key, _key, st.sampled_from(["IDX", "LEN", "WITHMATCHLEN"])),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(commands=st.lists(_command, min_size=1, max_size=30))
def test_diff_random_sequences(rd, commands):
    rd("FLUSHALL")
    for command in commands:
        rd(*command)
        for key in set(command[1:]) & set(KEYS):
            rd.encoding(key)
    for key in KEYS:
        rd.memory(key)
        rd("GET", key)
    rd.digest(xfail_if_missing=False)
