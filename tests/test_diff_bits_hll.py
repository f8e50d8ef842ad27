"""Differential tests of bitmaps and HyperLogLog: the same commands go to tracered and to
the reference redis-server 7.0.15 over bare RESP; the reply bytes, the stored bytes (GET),
OBJECT ENCODING, MEMORY USAGE and DEBUG DIGEST must be equal.

HLL strings must be byte-identical in both representations: sparse opcodes after PFADD
sequences, the promotion point (hll-sparse-max-bytes, register values above 32), dense
registers, the cached-cardinality bytes, PFMERGE results, corrupted inputs.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_diff_strings import RawDiff

KEYS = ["a", "b", "c"]


@pytest.fixture
def rd(r, rr, tracered_server, redis_server):
    d = RawDiff(tracered_server.port, redis_server.port)
    yield d
    d("CONFIG", "SET", "hll-sparse-max-bytes", "3000")
    d.close()


def _check_keys(rd: RawDiff, keys) -> None:
    for k in keys:
        rd("GET", k)
        rd("OBJECT", "ENCODING", k)
        rd("MEMORY", "USAGE", k)


# --------------------------------------------------------------------------------------------
# Bitmaps: scripted
# --------------------------------------------------------------------------------------------

BIT_SCRIPT = [
    ("SETBIT", "b", 7, 1), ("SETBIT", "b", 100, 1), ("SETBIT", "b", 100, 1),
    ("SETBIT", "b", 3, 0), ("SETBIT", "b", -1, 1), ("SETBIT", "b", "x", 1),
    ("SETBIT", "b", 1, 2), ("SETBIT", "b", 4294967296, 1), ("SETBIT", "b", 1, "1 "),
    ("GETBIT", "b", 100), ("GETBIT", "b", 1000), ("GETBIT", "nokey", 1), ("GETBIT", "b", -1),
    ("SET", "i", "12345"), ("GETBIT", "i", 2), ("SETBIT", "i", 2, 1), ("SET", "i2", "7"),
    ("SETBIT", "i2", 1, 0), ("SET", "e", "hello"), ("SETBIT", "e", 100, 1),
    ("SET", "r", "x" * 60), ("SETBIT", "r", 600, 1), ("SETBIT", "r", 6000, 0),
    ("BITCOUNT", "b"), ("BITCOUNT", "b", 0, -1), ("BITCOUNT", "b", 1, 2, "BIT"),
    ("BITCOUNT", "b", 0, 100, "BIT"), ("BITCOUNT", "b", -5, -1, "bit"), ("BITCOUNT", "b", -1, -5),
    ("BITCOUNT", "b", -1, -5, "foo"), ("BITCOUNT", "b", 0), ("BITCOUNT", "b", 0, 1, "foo"),
    ("BITCOUNT", "nokey", 0), ("BITCOUNT", "b", "a", "b"), ("BITCOUNT", "b", 0, 1, "BIT", "x"),
    ("BITCOUNT", "i"), ("BITCOUNT", "b", 0, 1, "B\0IT"), ("BITCOUNT", "b", 0, 1, "BIT\0x"),
    ("BITPOS", "b", 1), ("BITPOS", "b", 0), ("BITPOS", "b", 1, 2), ("BITPOS", "b", 1, 2, -1),
    ("BITPOS", "b", 0, 0, -1, "bit"), ("BITPOS", "b", 1, 7, 100, "BIT"), ("BITPOS", "b", 2),
    ("BITPOS", "nokey", 1), ("BITPOS", "nokey", 0), ("BITPOS", "b", 1, 0, 1, "x"),
    ("BITPOS", "b", "x"), ("BITPOS", "b", 1, "x"), ("BITPOS", "b", 1, 0, 1, "BIT", "x"),
    ("SET", "ones", b"\xff\xff\xff"), ("BITPOS", "ones", 0), ("BITPOS", "ones", 0, 0, -1),
    ("BITPOS", "ones", 0, 1), ("BITPOS", "ones", 0, 3, 20, "bit"),
    ("BITPOS", "ones", 1, 3, 20, "bit"), ("BITPOS", "ones", 0, 9, 15, "bit"),
    ("BITOP", "AND", "d", "b", "e"), ("BITOP", "or", "d", "b", "e", "nokey"),
    ("BITOP", "XOR", "d", "b", "i"), ("BITOP", "NOT", "d", "b"), ("BITOP", "NOT", "d", "b", "e"),
    ("BITOP", "FOO", "d", "b"), ("BITOP", "and\0x", "d2", "b"), ("BITOP", "AND", "d", "nokey"),
    ("EXISTS", "d"), ("HSET", "h", "f", "v"), ("BITOP", "AND", "d", "b", "h"),
    ("SETBIT", "h", 1, 1), ("GETBIT", "h", 1), ("BITCOUNT", "h"), ("BITPOS", "h", 1),
    ("BITFIELD", "h", "GET", "u8", 0), ("BITFIELD", "h", "SET", "u8", 0, 1),
    ("BITFIELD", "bf", "SET", "i8", 0, 100, "GET", "i8", 0, "INCRBY", "i8", 0, 100,
     "OVERFLOW", "SAT", "INCRBY", "i8", 0, 100, "OVERFLOW", "FAIL", "INCRBY", "i8", 0, 100),
    ("BITFIELD", "bf", "SET", "u8", "#1", 300, "GET", "u8", "#1", "INCRBY", "u63", 5, -1,
     "GET", "i64", 0, "SET", "i64", 3, -9223372036854775808),
    ("BITFIELD", "bf", "SET", "u64", 0, 1), ("BITFIELD", "bf", "SET", "i65", 0, 1),
    ("BITFIELD", "bf", "SET", "i0", 0, 1), ("BITFIELD", "bf", "SET", "x8", 0, 1),
    ("BITFIELD", "bf", "SET", "i8\0zz", 0, 1), ("BITFIELD", "bf", "SET", "i8", "#", 1),
    ("BITFIELD", "bf", "SET", "i8", "-1", 1), ("BITFIELD", "bf", "OVERFLOW", "foo"),
    ("BITFIELD", "bf", "GET", "i8"), ("BITFIELD", "bf", "FOO"),
    ("BITFIELD", "bf", "SET", "i8", 0, "x"), ("BITFIELD_RO", "bf", "GET", "i8", 0),
    ("BITFIELD_RO", "bf", "SET", "i8", 0, 1), ("BITFIELD", "bf"),
    ("BITFIELD", "nokey", "GET", "u4", 3), ("BITFIELD", "i", "GET", "u8", 0),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", 0, -5, "SET", "i8", 8, -200,
     "OVERFLOW", "WRAP", "SET", "i4", 0, -9),
    ("BITFIELD", "bf", "OVERFLOW", "FAIL", "SET", "u2", 0, 5, "INCRBY", "u2", 0, -1),
    ("BITFIELD", "bf", "INCRBY", "i64", 0, 9223372036854775807,
     "INCRBY", "i64", 0, 9223372036854775807, "OVERFLOW", "SAT", "INCRBY", "i64", 64, -1,
     "INCRBY", "i64", 64, -9223372036854775808),
    ("BITFIELD", "bf", "GET", "i64", "#9999", "SET", "u1", "#65000", 1),
    ("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i3", 0, -9223372036854775808,
     "SET", "u5", 8, -1, "SET", "i9", 30, 9223372036854775807, "OVERFLOW", "WRAP",
     "SET", "i7", 20, -9223372036854775808, "SET", "i64", 40, -9223372036854775808,
     "OVERFLOW", "FAIL", "SET", "i3", 0, -9223372036854775808, "SET", "i3", 0, -4),
    ("BITFIELD", "grow", "SET", "u3", 17, 5), ("BITFIELD", "grow", "SET", "u3", 17, 5),
    ("BITFIELD", "grow", "SET", "u3", 300, 0),
]


def test_diff_bits_scripted(rd):
    for args in BIT_SCRIPT:
        rd(*args)
    _check_keys(rd, ["b", "i", "i2", "e", "r", "ones", "d", "d2", "bf", "grow"])
    rd.digest()


def test_diff_bitop_lengths_and_types(rd):
    rnd = random.Random(7)
    vals = [b"", b"\x00", b"\xff" * 3, bytes(rnd.getrandbits(8) for _ in range(40)),
            bytes(rnd.getrandbits(8) for _ in range(100)), b"12345", b"-7"]
    for i, v in enumerate(vals):
        rd("SET", f"s{i}", v)
    names = [f"s{i}" for i in range(len(vals))] + ["missing"]
    for op in ("AND", "OR", "XOR"):
        for _ in range(6):
            srcs = rnd.sample(names, rnd.randint(1, 5))
            rd("BITOP", op, "dst", *srcs)
            _check_keys(rd, ["dst"])
    for n in names:
        rd("BITOP", "NOT", "dst", n)
        _check_keys(rd, ["dst"])
    rd.digest()


# --------------------------------------------------------------------------------------------
# Bitmaps: generated sequences
# --------------------------------------------------------------------------------------------

_key = st.sampled_from(KEYS)
_idx = st.integers(-40, 40)
_unit = st.sampled_from(["BIT", "BYTE", "bit"])
_bftype = st.one_of(st.builds(lambda b: f"i{b}", st.integers(1, 64)),
                    st.builds(lambda b: f"u{b}", st.integers(1, 63)))
_bfoff = st.one_of(st.integers(0, 160).map(str), st.integers(0, 5).map(lambda n: f"#{n}"))
_i64 = st.one_of(st.integers(-300, 300), st.integers(-(1 << 63), (1 << 63) - 1))
_bfop = st.one_of(
    st.tuples(st.just("GET"), _bftype, _bfoff),
    st.tuples(st.sampled_from(["SET", "INCRBY"]), _bftype, _bfoff, _i64.map(str)),
    st.tuples(st.just("OVERFLOW"), st.sampled_from(["WRAP", "SAT", "FAIL"])),
)

_bit_cmd = st.one_of(
    st.tuples(st.just("SETBIT"), _key, st.integers(0, 200), st.integers(0, 1)),
    st.tuples(st.just("GETBIT"), _key, st.integers(0, 220)),
    st.tuples(st.just("SET"), _key, st.binary(max_size=12)),
    st.tuples(st.just("SET"), _key, st.integers(-1000, 100000).map(str)),
    st.tuples(st.just("BITCOUNT"), _key),
    st.tuples(st.just("BITCOUNT"), _key, _idx, _idx),
    st.tuples(st.just("BITCOUNT"), _key, st.integers(-200, 200), st.integers(-200, 200),
              _unit),
    st.tuples(st.just("BITPOS"), _key, st.integers(0, 1)),
    st.tuples(st.just("BITPOS"), _key, st.integers(0, 1), _idx),
    st.tuples(st.just("BITPOS"), _key, st.integers(0, 1), _idx, _idx),
    st.tuples(st.just("BITPOS"), _key, st.integers(0, 1), st.integers(-200, 200),
              st.integers(-200, 200), _unit),
    st.builds(lambda op, d, srcs: ("BITOP", op, d, *srcs),
              st.sampled_from(["AND", "OR", "XOR"]), _key, st.lists(_key, min_size=1,
                                                                     max_size=3)),
    st.tuples(st.just("BITOP"), st.just("NOT"), _key, _key),
    st.builds(lambda k, ops: ("BITFIELD", k, *[a for op in ops for a in op]), _key,
              st.lists(_bfop, max_size=4)),
    st.builds(lambda k, ops: ("BITFIELD_RO", k, *[a for op in ops for a in op]), _key,
              st.lists(st.tuples(st.just("GET"), _bftype, _bfoff), max_size=3)),
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(st.lists(_bit_cmd, min_size=1, max_size=15))
def test_diff_bits_generated(rd, cmds):
    rd("FLUSHALL")
    for args in cmds:
        rd(*args)
    _check_keys(rd, KEYS)
    rd.digest(xfail_if_missing=False)


# --------------------------------------------------------------------------------------------
# HyperLogLog
# --------------------------------------------------------------------------------------------

def _elements(rnd: random.Random, n: int) -> list[bytes]:
    kind = rnd.random()
    if kind < 0.3:
        return [b"%d" % rnd.randrange(10**9) for _ in range(n)]
    if kind < 0.6:
        return [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 20))) for _ in range(n)]
    return [b"element:%d" % rnd.randrange(10**6) for _ in range(n)]


def test_diff_hll_sparse_to_dense_growth(rd):
    """PFADD in batches from one element to past promotion: bytes equal after each batch."""
    rnd = random.Random(11)
    added = 0
    for batch in (1, 1, 2, 5, 10, 30, 100, 300, 600, 1200, 3000):
        rd("PFADD", "h", *_elements(rnd, batch))
        added += batch
        _check_keys(rd, ["h"])
        rd("PFDEBUG", "ENCODING", "h")
        rd("PFCOUNT", "h")
        rd("GET", "h")  # the cached cardinality written by PFCOUNT
    assert rd.t("PFDEBUG", "ENCODING", "h") == b"+dense\r\n"
    rd("PFADD", "h", "one more")
    rd("GET", "h")
    rd.digest()


@pytest.mark.parametrize("max_bytes", [0, 40, 300, 3000, 20000])
def test_diff_hll_sparse_max_bytes(rd, max_bytes):
    rd("CONFIG", "SET", "hll-sparse-max-bytes", str(max_bytes))
    rnd = random.Random(max_bytes)
    for step in range(25):
        n = rnd.choice([1, 2, 5, 20, 80])
        rd("PFADD", "h%d" % (step % 3), *_elements(rnd, n))
        rd("GET", "h%d" % (step % 3))
    for k in ("h0", "h1", "h2"):
        rd("PFDEBUG", "ENCODING", k)
        rd("PFCOUNT", k)
        _check_keys(rd, [k])
    rd("PFCOUNT", "h0", "h1", "h2")
    rd("PFMERGE", "m", "h0", "h1", "h2")
    _check_keys(rd, ["m"])
    rd.digest()


def test_diff_hll_crafted_dense(rd):
    """Dense registers written by hand, values up to 63 (above the 51 a hash can produce and
    above the 32 a sparse HLL can hold): counting, adding and merging them."""
    from tracered.hyperloglog import hll_pack_registers

    rnd = random.Random(3)
    for name, top, density in (("d1", 63, 0.02), ("d2", 63, 1.0), ("d3", 40, 0.3)):
        regs = bytes(rnd.randint(1, top) if rnd.random() < density else 0
                     for _ in range(16384))
        rd("SET", name, b"HYLL\x00\x00\x00\x00" + bytes(7) + b"\x80" +
           bytes(hll_pack_registers(regs)))
        rd("PFCOUNT", name)
        rd("GET", name)
    rd("PFADD", "sp", "x", "y")
    rd("PFMERGE", "sp", "d3")
    rd("PFCOUNT", "d1", "d2", "sp")
    rd("PFADD", "d1", *_elements(rnd, 100))
    _check_keys(rd, ["d1", "d2", "d3", "sp"])
    rd.digest()


def test_diff_pfmerge(rd):
    rnd = random.Random(5)
    for i, n in enumerate((0, 3, 40, 400, 2500, 8000)):
        if n:
            rd("PFADD", f"s{i}", *_elements(rnd, n))
    rd("PFDEBUG", "TODENSE", "s2")  # a small dense one
    rd("PFADD", "dst", *_elements(rnd, 50))
    rd("PFCOUNT", "dst")  # dst has a valid cached cardinality before the merges
    cases = [("m0", "s1"), ("m1", "s1", "s3"), ("m2", "s3", "s4"), ("m3", "s2", "s1"),
             ("m4", "s5", "s1", "missing"), ("dst", "s1", "s3"), ("dst", "s4"),
             ("m5",), ("m6", "missing"), ("m7", "s2")]
    for args in cases:
        rd("PFMERGE", *args)
        _check_keys(rd, [args[0]])
        rd("PFCOUNT", args[0])
        rd("GET", args[0])
    rd("PFCOUNT", "s1", "s3", "s5", "missing")
    rd("PFCOUNT", "s2", "s4")
    rd.digest()


CORRUPT_VALUES = [
    b"\x7f\xff", b"\x7f\xfe", b"\x7f", b"\x7f\xff\x00", b"\x80" * 10, b"\x3f" * 300,
    b"\x3f" * 256, b"\x3f" * 255 + b"\xff", b"\x7f\xfa\xff\xff", b"\x7f\xfb\xff", b"",
    b"\x7f\xfc\x80\x40", b"\x40\x00" * 16384, b"\x7f\xfe\x40", b"\x00",
]


def test_diff_hll_corrupted_and_invalid(rd):
    hdr = b"HYLL\x01\x00\x00\x00" + bytes(8)
    stale = hdr[:15] + b"\x80"
    values = [h + v for v in CORRUPT_VALUES for h in (hdr, stale)] + [
        b"HYLL\x00" + bytes(11) + bytes(12288), b"HYLL\x00" + bytes(11) + bytes(100),
        b"HYLL\x02" + bytes(11), b"HYLX\x01" + bytes(11) + b"\x7f\xff", b"HYLL", b"12345",
        hdr[:15],
    ]
    cmds = [("PFADD", "k", "foo", "bar", "baz"), ("PFCOUNT", "k"), ("PFCOUNT", "k", "x"),
            ("PFMERGE", "k"), ("PFMERGE", "z", "k"), ("PFDEBUG", "GETREG", "k"),
            ("PFDEBUG", "DECODE", "k"), ("PFDEBUG", "ENCODING", "k"),
            ("PFDEBUG", "TODENSE", "k"), ("PFDEBUG", "FOO", "k")]
    for v in values:
        for args in cmds:
            rd("SET", "k", v)
            rd("DEL", "z")
            rd(*args)
            rd("GET", "k")
            rd("GET", "z")
    rd("PFDEBUG", "GETREG", "nokey")
    rd("HSET", "hash", "a", "b")
    for args in (("PFADD", "hash", "x"), ("PFCOUNT", "hash"), ("PFMERGE", "hash"),
                 ("PFMERGE", "d", "hash"), ("PFDEBUG", "ENCODING", "hash")):
        rd(*args)


_hll_cmd = st.one_of(
    st.tuples(st.just("PFADD"), _key, st.lists(st.binary(max_size=6), max_size=30)),
    st.tuples(st.just("PFADDMANY"), _key, st.integers(1, 400), st.integers(0, 10**6)),
    st.tuples(st.just("PFCOUNT"), st.lists(_key, min_size=1, max_size=3)),
    st.tuples(st.just("PFMERGE"), _key, st.lists(_key, max_size=3)),
    st.tuples(st.just("TODENSE"), _key),
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(st.sampled_from([3000, 100, 600]), st.lists(_hll_cmd, min_size=1, max_size=10))
def test_diff_hll_generated(rd, max_bytes, cmds):
    rd("FLUSHALL")
    rd("CONFIG", "SET", "hll-sparse-max-bytes", str(max_bytes))
    for cmd in cmds:
        op = cmd[0]
        if op == "PFADD":
            rd("PFADD", cmd[1], *cmd[2])
        elif op == "PFADDMANY":
            rd("PFADD", cmd[1], *[b"%d" % (cmd[3] + i) for i in range(cmd[2])])
        elif op == "PFCOUNT":
            rd("PFCOUNT", *cmd[1])
        elif op == "PFMERGE":
            rd("PFMERGE", cmd[1], *cmd[2])
        else:
            rd("EXISTS", cmd[1])
            if rd.t("EXISTS", cmd[1]) == b":1\r\n":
                rd("PFDEBUG", "TODENSE", cmd[1])
        for k in KEYS:
            rd("GET", k)
    _check_keys(rd, KEYS)
    rd.digest(xfail_if_missing=False)


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

def test_diff_command_info(rd):
    # BITFIELD and PFCOUNT are left out: Redis adds a "notes" text to their key specs.
    for name in ("setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield_ro", "pfadd",
                 "pfmerge", "pfdebug", "pfselftest"):
        rd("COMMAND", "INFO", name)


def test_diff_command_docs_hints(tracered_server, redis_server):
    """COMMAND DOCS gives redis-cli the same typing hints (argument names may differ)."""
    import hiredis
    from test_command_cmd import _cli_params, _pairs
    from test_t_string import Raw

    def docs(port, name):
        c = Raw(port)
        try:
            reader = hiredis.Reader()
            reader.feed(c("COMMAND", "DOCS", name))
            return _pairs(_pairs(reader.gets())[name.encode()])
        finally:
            c.close()

    for name in ("setbit", "getbit", "bitcount", "bitpos", "bitop", "bitfield", "bitfield_ro",
                 "pfadd", "pfcount", "pfmerge", "pfdebug", "pfselftest"):
        ours = docs(tracered_server.port, name)
        theirs = docs(redis_server.port, name)
        for field in (b"summary", b"since", b"group", b"complexity", b"doc_flags", b"history"):
            assert ours.get(field) == theirs.get(field), (name, field)
        assert _cli_params(ours.get(b"arguments", [])) == \
            _cli_params(theirs.get(b"arguments", [])), name
