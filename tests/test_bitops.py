"""Bitmap commands (bitops.c): SETBIT GETBIT BITCOUNT BITPOS BITOP BITFIELD BITFIELD_RO.

Unit tests of the bit helpers against brute-force models, then every command and error over
TCP, the encodings the writes leave, keyspace events and propagation in process.
"""

from __future__ import annotations

import random

import pytest
from test_t_hash import InProc, Raw, enc, err

from tracered import bitops

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "value is not an integer or out of range"
BAD_OFFSET = "bit offset is not an integer or out of range"
BAD_BIT = "bit is not an integer or out of range"
BAD_TYPE = ("Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported "
            "but i64 is.")


@pytest.fixture
def raw(r, tracered_server):
    c = Raw(tracered_server.port)
    yield c
    c.close()


@pytest.fixture
def inproc():
    p = InProc()
    yield p
    p.close()


# --------------------------------------------------------------------------------------------
# Helpers, against models that walk bit by bit
# --------------------------------------------------------------------------------------------

def _bits(s: bytes) -> list[int]:
    return [(b >> (7 - i)) & 1 for b in s for i in range(8)]


def test_popcount_and_bitpos_against_model():
    rnd = random.Random(1)
    for _ in range(300):
        n = rnd.randrange(0, 40)
        kind = rnd.random()
        if kind < 0.3:
            s = bytes(n)
        elif kind < 0.6:
            s = b"\xff" * n
        else:
            s = bytes(rnd.getrandbits(8) for _ in range(n))
        bits = _bits(s)
        assert bitops.redis_popcount(s) == sum(bits)
        assert bitops.redis_bitpos(s, 1) == (bits.index(1) if 1 in bits else -1)
        assert bitops.redis_bitpos(s, 0) == (bits.index(0) if 0 in bits else 8 * n)


def test_popcount_chunks(monkeypatch):
    monkeypatch.setattr(bitops, "_POPCOUNT_CHUNK", 7)
    s = bytes(range(256)) * 3
    assert bitops.redis_popcount(s) == sum(_bits(s))


def test_bitfield_get_set_against_model():
    rnd = random.Random(2)
    for _ in range(500):
        buf = bytearray(rnd.getrandbits(8) for _ in range(12))
        bits = rnd.randint(1, 64)
        offset = rnd.randrange(0, 96 - bits + 1)
        model = _bits(buf)
        u = int("".join(map(str, model[offset:offset + bits])), 2)
        assert bitops.get_unsigned_bitfield(buf, offset, bits) == u
        s = u - (1 << bits) if u >> (bits - 1) else u
        assert bitops.get_signed_bitfield(buf, offset, bits) == s
        value = rnd.getrandbits(70) - (1 << 69)
        bitops.set_signed_bitfield(buf, offset, bits, value)
        low = value & ((1 << bits) - 1)
        model[offset:offset + bits] = [int(c) for c in format(low, "0%db" % bits)]
        assert _bits(buf) == model


def _c_unsigned(value, incr, bits, ow):
    """checkUnsignedBitfieldOverflow transcribed with explicit uint64/int64 wrapping."""
    u64 = (1 << 64) - 1

    def s64(x):
        x &= u64
        return x - (1 << 64) if x >> 63 else x

    mx = u64 if bits == 64 else (1 << bits) - 1
    maxincr = s64(mx - value)
    minincr = s64(-value)
    if value > mx or (incr > 0 and incr > maxincr):
        kind = 1
    elif incr < 0 and incr < minincr:
        kind = -1
    else:
        return 0, 0
    if ow == bitops.BFOVERFLOW_WRAP:
        return kind, ((value + incr) & u64) & ~(u64 << bits) & u64
    return kind, (mx if kind == 1 else 0)


def _c_signed(value, incr, bits, ow):
    """checkSignedBitfieldOverflow transcribed with explicit wrapping."""
    u64 = (1 << 64) - 1

    def s64(x):
        x &= u64
        return x - (1 << 64) if x >> 63 else x

    mx = (1 << 63) - 1 if bits == 64 else (1 << (bits - 1)) - 1
    mn = -mx - 1
    maxincr = s64(mx - value)
    minincr = s64(mn - value)
    if value > mx or (bits != 64 and incr > maxincr) or (value >= 0 and incr > 0 and
                                                          incr > maxincr):
        kind = 1
    elif value < mn or (bits != 64 and incr < minincr) or (value < 0 and incr < 0 and
                                                            incr < minincr):
        kind = -1
    else:
        return 0, 0
    if ow == bitops.BFOVERFLOW_WRAP:
        c = (value + incr) & u64
        if bits < 64:
            mask = (u64 << bits) & u64
            c = c | mask if c & (1 << (bits - 1)) else c & ~mask
        return kind, s64(c)
    return kind, (mx if kind == 1 else mn)


def test_overflow_checks_match_the_c_formulas():
    rnd = random.Random(3)
    for _ in range(3000):
        ow = rnd.choice([bitops.BFOVERFLOW_WRAP, bitops.BFOVERFLOW_SAT])
        bits = rnd.choice([1, 2, 7, 8, 16, 31, 32, 62, 63, 64])
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        value = rnd.choice([lo, hi, 0, -1 if bits > 1 else 0, rnd.randint(lo, hi)])
        incr = rnd.choice([0, 1, -1, rnd.getrandbits(64) - (1 << 63), (1 << 63) - 1,
                           -(1 << 63), rnd.randint(-300, 300)])
        assert bitops.check_signed_bitfield_overflow(value, incr, bits, ow) == \
            _c_signed(value, incr, bits, ow), (value, incr, bits, ow)
        # SET checks any int64 against the range, with no increment.
        assert bitops.check_signed_bitfield_overflow(incr, 0, bits, ow) == \
            _c_signed(incr, 0, bits, ow), (incr, bits, ow)
        if bits < 64:
            uvalue = rnd.choice([0, (1 << bits) - 1, rnd.randrange(1 << bits)])
            assert bitops.check_unsigned_bitfield_overflow(uvalue, incr, bits, ow) == \
                _c_unsigned(uvalue, incr, bits, ow), (uvalue, incr, bits, ow)
            # SET passes the int64 argument as a uint64 with no increment.
            sval = incr & ((1 << 64) - 1)
            assert bitops.check_unsigned_bitfield_overflow(sval, 0, bits, ow) == \
                _c_unsigned(sval, 0, bits, ow)


# --------------------------------------------------------------------------------------------
# SETBIT / GETBIT
# --------------------------------------------------------------------------------------------

def test_setbit_getbit(r):
    assert r.setbit("b", 7, 1) == 0
    assert r.get("b") == b"\x01"
    assert enc(r, "b") == b"raw"  # a new bitmap is raw even at one byte
    assert r.setbit("b", 7, 1) == 1
    assert r.setbit("b", 7, 0) == 1
    assert r.setbit("b", 20, 1) == 0
    assert r.get("b") == b"\x00\x00\x08"
    assert r.getbit("b", 20) == 1
    assert r.getbit("b", 21) == 0
    assert r.getbit("b", 10**6) == 0
    assert r.getbit("nokey", 5) == 0


def test_setbit_errors(r):
    r.hset("h", "a", "b")
    assert err(r, "SETBIT", "b", -1, 1) == BAD_OFFSET
    assert err(r, "SETBIT", "b", "x", 1) == BAD_OFFSET
    assert err(r, "SETBIT", "b", 4 * 1024 * 1024 * 1024, 1) == BAD_OFFSET  # 512 MB limit
    assert err(r, "SETBIT", "b", 1, 2) == BAD_BIT
    assert err(r, "SETBIT", "b", 1, -1) == BAD_BIT
    assert err(r, "SETBIT", "b", 1, "1 ") == BAD_BIT
    assert err(r, "SETBIT", "h", 1, 1) == WRONGTYPE
    assert err(r, "SETBIT", "h", -1, 1) == BAD_OFFSET  # arguments are checked first
    assert err(r, "GETBIT", "h", 1) == WRONGTYPE
    assert err(r, "GETBIT", "b", -1) == BAD_OFFSET
    assert err(r, "SETBIT", "b", 1) == "wrong number of arguments for 'setbit' command"
    assert not r.exists("b")


def test_setbit_on_int_and_embstr_becomes_raw(r):
    r.set("i", "12345")
    assert r.getbit("i", 2) == 1  # '1' is 0x31
    assert r.setbit("i", 2, 0) == 1
    assert enc(r, "i") == b"raw"
    assert r.get("i") == b"\x112345"
    r.set("e", "hello")
    assert enc(r, "e") == b"embstr"
    r.setbit("e", 47, 1)
    assert r.get("e") == b"hello\x01"
    assert enc(r, "e") == b"raw"


def test_setbit_grows_like_sds(r):
    r.setbit("b", 0, 1)
    small = r.memory_usage("b")
    r.setbit("b", 8 * 100, 1)  # grows greedily: the allocation doubles the request
    assert r.strlen("b") == 101
    assert r.memory_usage("b") > small + 101


# --------------------------------------------------------------------------------------------
# BITCOUNT / BITPOS
# --------------------------------------------------------------------------------------------

def test_bitcount(r):
    r.set("s", "foobar")
    assert r.bitcount("s") == 26
    assert r.bitcount("s", 0, 0) == 4
    assert r.bitcount("s", 1, 1) == 6
    assert r.bitcount("s", -2, -1) == 7
    assert r.execute_command("BITCOUNT", "s", 5, 30, "BIT") == 17
    assert r.execute_command("BITCOUNT", "s", 5, 30, "byte") == 4  # end clipped to 5
    assert r.execute_command("BITCOUNT", "s", -6, -1, "bit") == 3
    assert r.bitcount("s", 4, 2) == 0
    assert r.bitcount("s", -1, -3) == 0
    # start > end < 0 answers 0 before the unit is even read
    assert r.execute_command("BITCOUNT", "s", -1, -3, "nonsense") == 0
    assert r.bitcount("nokey") == 0
    assert r.execute_command("BITCOUNT", "nokey", "x") == 0  # the key is looked up first
    r.set("n", 255)
    assert r.bitcount("n") == 11  # "255" as text: 0x32 0x35 0x35


def test_bitcount_errors(r):
    r.set("s", "foobar")
    r.hset("h", "a", "b")
    assert err(r, "BITCOUNT", "s", 0) == "syntax error"
    assert err(r, "BITCOUNT", "s", 0, 1, "BIT", "x") == "syntax error"
    assert err(r, "BITCOUNT", "s", 0, 1, "bits") == "syntax error"
    assert err(r, "BITCOUNT", "s", "a", 1) == NOT_INT
    assert err(r, "BITCOUNT", "s", 0, "b") == NOT_INT
    assert err(r, "BITCOUNT", "h") == WRONGTYPE


def test_bitpos(r):
    r.set("s", b"\xff\xf0\x00")
    assert r.bitpos("s", 0) == 12
    assert r.bitpos("s", 1) == 0
    assert r.bitpos("s", 1, 2) == -1
    assert r.bitpos("s", 0, 0, 0) == -1  # explicit end: no zero inside the range
    r.set("ones", b"\xff\xff")
    assert r.bitpos("ones", 0) == 16  # no end: the string continues with zeros
    assert r.bitpos("ones", 0, 0, -1) == -1
    assert r.bitpos("ones", 0, 1) == 16
    r.set("z", b"\x00\x01\x00")
    assert r.bitpos("z", 1) == 15
    assert r.execute_command("BITPOS", "z", 1, 7, 15, "BIT") == 15
    assert r.execute_command("BITPOS", "z", 1, 7, 14, "BIT") == -1
    assert r.execute_command("BITPOS", "z", 0, 15, 15, "BIT") == -1
    assert r.execute_command("BITPOS", "z", 0, 15, 16, "BIT") == 16
    assert r.execute_command("BITPOS", "z", 1, 3, -1, "bit") == 15
    assert r.bitpos("nokey", 1) == -1
    assert r.bitpos("nokey", 0) == 0
    assert r.bitpos("s", 1, 5, 2) == -1


def test_bitpos_errors(r):
    r.set("s", "x")
    r.hset("h", "a", "b")
    assert err(r, "BITPOS", "s", 2) == "The bit argument must be 1 or 0."
    assert err(r, "BITPOS", "s", "x") == NOT_INT
    assert err(r, "BITPOS", "s", 1, "x") == NOT_INT
    assert err(r, "BITPOS", "s", 1, 0, "y") == NOT_INT
    assert err(r, "BITPOS", "s", 1, 0, "y", "foo") == "syntax error"  # unit before end
    assert err(r, "BITPOS", "s", 1, 0, 1, "BIT", "x") == "syntax error"
    assert err(r, "BITPOS", "h", 1) == WRONGTYPE


# --------------------------------------------------------------------------------------------
# BITOP
# --------------------------------------------------------------------------------------------

def test_bitop(r):
    r.set("a", b"\x0f\xf0\xaa")
    r.set("b", b"\xff\x00")
    assert r.bitop("AND", "d", "a", "b") == 3
    assert r.get("d") == b"\x0f\x00\x00"
    assert enc(r, "d") == b"raw"  # even for 3 bytes
    assert r.bitop("or", "d", "a", "b", "nokey") == 3
    assert r.get("d") == b"\xff\xf0\xaa"
    assert r.bitop("XOR", "d", "a", "b") == 3
    assert r.get("d") == b"\xf0\xf0\xaa"
    assert r.bitop("NOT", "d", "a") == 3
    assert r.get("d") == b"\xf0\x0f\x55"
    assert r.bitop("AND", "d", "a", "nokey") == 3
    assert r.get("d") == b"\x00\x00\x00"
    r.set("n", 12)
    assert r.bitop("OR", "d", "n") == 2
    assert r.get("d") == b"12"
    # All sources empty: the destination is deleted.
    r.expire("d", 100)
    assert r.bitop("AND", "d", "nokey", "nokey2") == 0
    assert not r.exists("d")
    # The result replaces the destination and drops its TTL.
    r.set("d", "old", ex=100)
    r.bitop("OR", "d", "a")
    assert r.ttl("d") == -1


def test_bitop_errors(r):
    r.set("a", "x")
    r.hset("h", "a", "b")
    assert err(r, "BITOP", "NOT", "d", "a", "a") == \
        "BITOP NOT must be called with a single source key."
    assert err(r, "BITOP", "NAND", "d", "a") == "syntax error"
    assert err(r, "BITOP", "AND", "d", "a", "h") == WRONGTYPE
    assert err(r, "BITOP", "AND", "d") == "wrong number of arguments for 'bitop' command"
    assert not r.exists("d")


# --------------------------------------------------------------------------------------------
# BITFIELD / BITFIELD_RO
# --------------------------------------------------------------------------------------------

def test_bitfield_basic(r):
    assert r.execute_command("BITFIELD", "bf", "SET", "i8", 0, 100, "GET", "i8", 0,
                             "INCRBY", "i8", 0, 100) == [0, 100, -56]
    assert r.execute_command("BITFIELD", "bf", "OVERFLOW", "SAT", "INCRBY", "i8", 0, -100,
                             "OVERFLOW", "FAIL", "INCRBY", "i8", 0, -100,
                             "OVERFLOW", "WRAP", "INCRBY", "i8", 0, -100) == [-128, None, 28]
    assert r.execute_command("BITFIELD", "bf", "SET", "u8", "#1", 300, "GET", "u8", "#1",
                             "GET", "u4", 8) == [0, 44, 2]
    assert r.get("bf") == b"\x1c\x2c"
    assert enc(r, "bf") == b"raw"
    assert r.execute_command("BITFIELD", "bf", "SET", "i64", 0, -1, "GET", "u63", 1,
                             "GET", "i64", 0) == [0x1C2C000000000000, (1 << 63) - 1, -1]
    assert r.execute_command("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", 0, -5,
                             "SET", "i8", 8, -200, "OVERFLOW", "WRAP", "SET", "i4", 16,
                             -9) == [255, -1, -1]  # the previous values
    assert r.execute_command("BITFIELD", "bf", "GET", "u8", 0, "GET", "i8", 8,
                             "GET", "i4", 16) == [255, -128, 7]
    # Redis's int64 arithmetic: INT64_MIN into an i3 with SAT saturates to the *maximum*.
    assert r.execute_command("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "i3", 0,
                             -(1 << 63), "GET", "i3", 0) == [-1, 3]
    assert r.execute_command("BITFIELD", "nokey", "GET", "u4", 3) == [0]
    assert not r.exists("nokey")
    assert r.execute_command("BITFIELD", "bf") == []
    assert r.execute_command("BITFIELD", "bf", "OVERFLOW", "FAIL") == []
    r.set("n", 7)
    assert r.execute_command("BITFIELD", "n", "GET", "u8", 0) == [ord("7")]
    assert enc(r, "n") == b"int"  # GET only: the value is not touched
    assert r.execute_command("BITFIELD_RO", "bf", "GET", "u8", 0, "GET", "u8", 800) == [127, 0]


def test_bitfield_errors(r):
    r.hset("h", "a", "b")
    r.set("bf", "x")
    assert err(r, "BITFIELD", "bf", "SET", "u64", 0, 1) == BAD_TYPE
    assert err(r, "BITFIELD", "bf", "GET", "i65", 0) == BAD_TYPE
    assert err(r, "BITFIELD", "bf", "GET", "i0", 0) == BAD_TYPE
    assert err(r, "BITFIELD", "bf", "GET", "x8", 0) == BAD_TYPE
    assert err(r, "BITFIELD", "bf", "GET", "", 0) == BAD_TYPE
    assert err(r, "BITFIELD", "bf", "GET", "i8", "#") == BAD_OFFSET
    assert err(r, "BITFIELD", "bf", "GET", "i8", -1) == BAD_OFFSET
    assert err(r, "BITFIELD", "bf", "GET", "i64", "#67108864") == BAD_OFFSET
    assert err(r, "BITFIELD", "bf", "OVERFLOW", "foo") == "Invalid OVERFLOW type specified"
    assert err(r, "BITFIELD", "bf", "GET", "i8") == "syntax error"
    assert err(r, "BITFIELD", "bf", "FOO", "i8", 0) == "syntax error"
    assert err(r, "BITFIELD", "bf", "SET", "i8", 0, "x") == NOT_INT
    assert err(r, "BITFIELD", "h", "GET", "i8", 0) == WRONGTYPE
    assert err(r, "BITFIELD", "h", "SET", "i8", 0, 1) == WRONGTYPE
    assert err(r, "BITFIELD_RO", "bf", "SET", "i8", 0, 1) == \
        "BITFIELD_RO only supports the GET subcommand"
    # Parse errors come before the read-only check; nothing was written.
    assert err(r, "BITFIELD_RO", "bf", "SET", "i8", 0, 1, "GET", "u64", 0) == BAD_TYPE
    assert r.get("bf") == b"x"


def test_resp3_null_for_fail(tracered_server):
    c = Raw(tracered_server.port)
    try:
        c("HELLO", "3")
        c("DEL", "bf")
        assert c("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 9) == b"*1\r\n_\r\n"
        c("HELLO", "2")
        assert c("BITFIELD", "bf", "OVERFLOW", "FAIL", "INCRBY", "u2", 0, 9) == \
            b"*1\r\n$-1\r\n"
    finally:
        c.close()


# --------------------------------------------------------------------------------------------
# In process: keyspace events and what reaches the AOF / replicas
# --------------------------------------------------------------------------------------------

def test_events_and_propagation(inproc):
    p = inproc
    ev = p.events
    prop = p.propagated
    p("SETBIT", "b", 3, 1)
    assert ev[-2:] == [("new", b"b"), ("setbit", b"b")]
    assert prop[-1] == [b"SETBIT", b"b", b"3", b"1"]
    n = len(prop)
    assert p("SETBIT", "b", 3, 1) == b":1\r\n"  # no change: not propagated
    assert p("SETBIT", "b", 4, 0) == b":0\r\n"
    assert len(prop) == n
    p("SETBIT", "b", 100, 0)  # no bit flips, but the string grew: propagated
    assert len(prop) == n + 1
    p("BITOP", "NOT", "d", "b")
    assert ev[-1] == ("set", b"d")
    p("BITOP", "AND", "d", "nokey")
    assert ev[-1] == ("del", b"d")
    n = len(prop)
    p("BITFIELD", "b", "GET", "u8", 0)
    assert len(prop) == n
    p("BITFIELD", "b", "SET", "u8", 0, 1)
    assert ev[-1] == ("setbit", b"b")
    assert len(prop) == n + 1
    p("BITFIELD", "b", "OVERFLOW", "FAIL", "INCRBY", "u1", 0, 5)
    assert len(prop) == n + 1
