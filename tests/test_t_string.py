"""String commands (tracered/t_string.py) over TCP with redis-py, plus in-process checks of
what cannot be seen from a client: propagation rewrites, keyspace notifications and the sds /
jemalloc accounting behind MEMORY USAGE.

Error texts are Redis 7.0.15's, byte for byte.
"""

from __future__ import annotations

import socket
import time

import pytest
import redis

NOT_INT = "value is not an integer or out of range"
NOT_FLOAT = "value is not a valid float"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
LLONG_MAX = 2**63 - 1
LLONG_MIN = -(2**63)


def err(r: redis.Redis, *args) -> str:
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


class Raw:
    """A bare RESP client: the exact reply bytes (no redis-py conversions)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self.buf += self.sock.recv(65536)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def _need(self, n: int) -> bytes:
        while len(self.buf) < n:
            self.buf += self.sock.recv(65536)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _reply(self) -> bytes:
        line = self._line()
        t = line[:1]
        if t in (b"$", b"=", b"!"):
            n = int(line[1:-2])
            return line if n < 0 else line + self._need(n + 2)
        if t in (b"*", b"~", b">", b"%"):
            n = int(line[1:-2])
            if t == b"%":
                n *= 2
            return line + b"".join(self._reply() for _ in range(max(n, 0)))
        return line

    def __call__(self, *args) -> bytes:
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(parts))
        return self._reply()


@pytest.fixture
def raw(r, tracered_server):
    c = Raw(tracered_server.port)
    yield c
    c.close()


# --------------------------------------------------------------------------------------------
# GET / SET and its options
# --------------------------------------------------------------------------------------------

def test_get_set_basic(r):
    assert r.get("nokey") is None
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.set("k", b"\x00bin\xff\r\n") is True
    assert r.get("k") == b"\x00bin\xff\r\n"
    r.set("big", "x" * 100_000)
    assert r.get("big") == b"x" * 100_000
    r.set("n", 12345)
    assert r.get("n") == b"12345"
    r.set("empty", "")
    assert r.get("empty") == b""


def test_get_wrong_type_and_arity(r):
    r.execute_command("SADD", "l", "a")
    assert err(r, "GET", "l") == WRONGTYPE
    assert err(r, "GET") == "wrong number of arguments for 'get' command"
    assert err(r, "SET", "k") == "wrong number of arguments for 'set' command"


def test_set_nx_xx(r):
    assert r.execute_command("SET", "k", "1", "XX") is None
    assert r.exists("k") == 0
    assert r.execute_command("SET", "k", "1", "NX") is True
    assert r.execute_command("SET", "k", "2", "NX") is None
    assert r.get("k") == b"1"
    assert r.execute_command("SET", "k", "3", "xx") is True
    assert r.get("k") == b"3"


def test_set_get_option(r, raw):
    nil = b"$-1\r\n"
    assert raw("SET", "k", "a", "GET") == nil
    assert raw("SET", "k", "b", "GET") == b"$1\r\na\r\n"
    assert raw("SET", "k", "c", "get", "GET") == b"$1\r\nb\r\n"
    # NX + GET (7.0): the old value is replied, nothing is set when the key exists
    assert raw("SET", "k", "d", "NX", "GET") == b"$1\r\nc\r\n"
    assert r.get("k") == b"c"
    assert raw("SET", "new", "d", "NX", "GET") == nil
    assert r.get("new") == b"d"
    assert raw("SET", "none", "x", "XX", "GET") == nil
    assert r.exists("none") == 0
    r.set("n", 5)
    assert raw("SET", "n", "6", "GET", "EX", "100") == b"$1\r\n5\r\n"
    # repeated options are accepted: the last EX wins
    assert raw("SET", "n", "7", "EX", "1", "EX", "200", "NX", "NX") == nil
    assert raw("SET", "n", "7", "EX", "1", "EX", "200", "XX", "XX") == b"+OK\r\n"
    assert 199 <= r.ttl("n") <= 200
    r.execute_command("SADD", "s", "m")
    assert err(r, "SET", "s", "x", "GET") == WRONGTYPE
    assert r.type("s") == b"set"
    # without GET, SET overwrites any type
    assert r.set("s", "x") is True
    assert r.get("s") == b"x"


@pytest.mark.parametrize("args", [
    ("NX", "XX"), ("XX", "NX"), ("EX", "10", "PX", "100"), ("PX", "10", "EX", "1"),
    ("EX", "10", "EXAT", "9999999999"), ("PXAT", "1", "EXAT", "1"), ("KEEPTTL", "EX", "10"),
    ("EX", "10", "KEEPTTL"), ("EX",), ("PX",), ("EXAT",), ("PXAT",), ("PERSIST",), ("FOO",),
    ("NX", "FOO"), ("EX", "1", "PXAT", "2"), ("GETX",), ("N",), ("NX\x00", "XX"),
])
def test_set_syntax_errors(r, args):
    assert err(r, "SET", "k", "v", *args) == "syntax error"
    assert r.exists("k") == 0


def test_set_expire_errors(r):
    for opt in ("EX", "PX", "EXAT", "PXAT"):
        assert err(r, "SET", "k", "v", opt, "0") == "invalid expire time in 'set' command"
        assert err(r, "SET", "k", "v", opt, "-5") == "invalid expire time in 'set' command"
        assert err(r, "SET", "k", "v", opt, "abc") == NOT_INT
        assert err(r, "SET", "k", "v", opt, "1.5") == NOT_INT
    # seconds * 1000 would overflow, and now + ms overflows
    assert err(r, "SET", "k", "v", "EX", str(LLONG_MAX // 1000 + 1)) == \
        "invalid expire time in 'set' command"
    assert err(r, "SET", "k", "v", "PX", str(LLONG_MAX)) == "invalid expire time in 'set' command"
    assert r.exists("k") == 0
    # the expire is validated before GET replies
    r.set("k", "old")
    assert err(r, "SET", "k", "v", "GET", "EX", "0") == "invalid expire time in 'set' command"
    assert r.get("k") == b"old"


def test_set_ttls(r):
    r.execute_command("SET", "k", "v", "EX", "100")
    assert 99 <= r.ttl("k") <= 100
    r.execute_command("SET", "k", "v", "PX", "50000")
    assert 49000 <= r.pttl("k") <= 50000
    now = int(time.time())
    r.execute_command("SET", "k", "v", "EXAT", str(now + 200))
    assert 198 <= r.ttl("k") <= 200
    r.execute_command("SET", "k", "v", "PXAT", str((now + 300) * 1000))
    assert 298 <= r.ttl("k") <= 300
    r.execute_command("SET", "k", "v2", "KEEPTTL")
    assert 298 <= r.ttl("k") <= 300
    assert r.get("k") == b"v2"
    r.set("k", "v3")
    assert r.ttl("k") == -1
    # an absolute time in the past: the key is set, then already expired
    r.execute_command("SET", "past", "v", "PXAT", "1")
    assert r.get("past") is None
    # a short TTL really expires
    r.execute_command("SET", "short", "v", "PX", "30")
    time.sleep(0.1)
    assert r.get("short") is None


def test_setnx_setex_psetex(r):
    assert r.execute_command("SETNX", "k", "1") == 1
    assert r.execute_command("SETNX", "k", "2") == 0
    assert r.get("k") == b"1"
    assert r.execute_command("SETEX", "k", "100", "v") is True
    assert 99 <= r.ttl("k") <= 100 and r.get("k") == b"v"
    assert r.execute_command("PSETEX", "k", "100000", "w") is True
    assert 99000 <= r.pttl("k") <= 100000 and r.get("k") == b"w"
    assert err(r, "SETEX", "k", "0", "v") == "invalid expire time in 'setex' command"
    assert err(r, "SETEX", "k", "-1", "v") == "invalid expire time in 'setex' command"
    assert err(r, "PSETEX", "k", "0", "v") == "invalid expire time in 'psetex' command"
    assert err(r, "SETEX", "k", "x", "v") == NOT_INT
    assert err(r, "SETEX", "k", "10") == "wrong number of arguments for 'setex' command"


# --------------------------------------------------------------------------------------------
# GETSET / GETDEL / GETEX
# --------------------------------------------------------------------------------------------

def test_getset(r):
    assert r.getset("k", "a") is None
    assert r.getset("k", "b") == b"a"
    assert r.get("k") == b"b"
    r.execute_command("SET", "k", "v", "EX", "100")
    assert r.getset("k", "c") == b"v"
    assert r.ttl("k") == -1
    r.execute_command("SADD", "s", "m")
    assert err(r, "GETSET", "s", "x") == WRONGTYPE
    assert r.type("s") == b"set"


def test_getdel(r):
    assert r.execute_command("GETDEL", "k") is None
    r.set("k", "v")
    assert r.execute_command("GETDEL", "k") == b"v"
    assert r.exists("k") == 0
    r.set("n", 42)
    assert r.execute_command("GETDEL", "n") == b"42"
    r.execute_command("SADD", "s", "m")
    assert err(r, "GETDEL", "s") == WRONGTYPE
    assert r.exists("s") == 1


def test_getex(r):
    assert r.execute_command("GETEX", "k") is None
    r.set("k", "v")
    assert r.execute_command("GETEX", "k") == b"v"
    assert r.ttl("k") == -1
    assert r.execute_command("GETEX", "k", "EX", "100") == b"v"
    assert 99 <= r.ttl("k") <= 100
    assert r.execute_command("GETEX", "k", "PX", "50000") == b"v"
    assert 49000 <= r.pttl("k") <= 50000
    now = int(time.time())
    assert r.execute_command("GETEX", "k", "EXAT", str(now + 200)) == b"v"
    assert 198 <= r.ttl("k") <= 200
    assert r.execute_command("GETEX", "k", "PXAT", str((now + 300) * 1000)) == b"v"
    assert 298 <= r.ttl("k") <= 300
    assert r.execute_command("GETEX", "k", "PERSIST") == b"v"
    assert r.ttl("k") == -1
    # an absolute time in the past deletes the key after replying its value
    assert r.execute_command("GETEX", "k", "PXAT", "1") == b"v"
    assert r.exists("k") == 0
    r.set("n", 7)
    assert r.execute_command("GETEX", "n", "EXAT", "1") == b"7"
    assert r.exists("n") == 0


def test_getex_errors(r):
    r.set("k", "v")
    for args in (("NX",), ("XX",), ("GET",), ("KEEPTTL",), ("EX", "1", "PX", "1"),
                 ("PERSIST", "EX", "1"), ("EX", "1", "PERSIST"), ("EX",), ("FOO",)):
        assert err(r, "GETEX", "k", *args) == "syntax error", args
    assert err(r, "GETEX", "k", "EX", "0") == "invalid expire time in 'getex' command"
    assert err(r, "GETEX", "k", "PX", "-1") == "invalid expire time in 'getex' command"
    assert err(r, "GETEX", "k", "EX", "z") == NOT_INT
    assert r.ttl("k") == -1
    # a missing key answers nil before the expire time is even looked at
    assert r.execute_command("GETEX", "missing", "EX", "0") is None
    r.execute_command("SADD", "s", "m")
    assert err(r, "GETEX", "s") == WRONGTYPE
    assert err(r, "GETEX", "s", "EX", "0") == WRONGTYPE


# --------------------------------------------------------------------------------------------
# MGET / MSET / MSETNX
# --------------------------------------------------------------------------------------------

def test_mget_mset_msetnx(r):
    assert r.execute_command("MSET", "a", "1", "b", "2", "c", "x" * 50) is True
    r.execute_command("SADD", "s", "m")
    assert r.execute_command("MGET", "a", "b", "nokey", "s", "c") == \
        [b"1", b"2", None, None, b"x" * 50]
    assert err(r, "MSET", "a", "1", "b") == "wrong number of arguments for 'mset' command"
    assert err(r, "MSET", "a") == "wrong number of arguments for 'mset' command"
    assert err(r, "MSETNX", "a", "1", "b") == "wrong number of arguments for 'msetnx' command"
    assert r.execute_command("MSETNX", "a", "9", "d", "4") == 0
    assert r.get("a") == b"1" and r.exists("d") == 0
    assert r.execute_command("MSETNX", "d", "4", "e", "5") == 1
    assert r.mget("d", "e") == [b"4", b"5"]
    # MSET overwrites other types and drops TTLs; repeated keys: the last value wins
    r.execute_command("SET", "a", "v", "EX", "100")
    r.execute_command("MSET", "s", "now-string", "a", "1", "a", "2")
    assert r.get("s") == b"now-string" and r.get("a") == b"2" and r.ttl("a") == -1


# --------------------------------------------------------------------------------------------
# INCR family
# --------------------------------------------------------------------------------------------

def test_incr_decr(r):
    assert r.incr("k") == 1
    assert r.incr("k") == 2
    assert r.decr("k") == 1
    assert r.execute_command("INCRBY", "k", "100") == 101
    assert r.execute_command("DECRBY", "k", "200") == -99
    assert r.execute_command("INCRBY", "k", "-1") == -100
    assert r.get("k") == b"-100"
    r.set("big", str(LLONG_MAX - 1))
    assert r.incr("big") == LLONG_MAX
    assert err(r, "INCR", "big") == "increment or decrement would overflow"
    r.set("small", str(LLONG_MIN + 1))
    assert r.decr("small") == LLONG_MIN
    assert err(r, "DECR", "small") == "increment or decrement would overflow"
    assert err(r, "DECRBY", "k", str(LLONG_MIN)) == "decrement would overflow"
    assert err(r, "INCRBY", "k", "1.5") == NOT_INT
    assert err(r, "INCRBY", "k", str(LLONG_MAX + 1)) == NOT_INT
    for bad in ("abc", " 1", "1 ", "+1", "01", "-0", "", "1.0", "9223372036854775808"):
        r.set("bad", bad)
        assert err(r, "INCR", "bad") == NOT_INT, bad
    r.execute_command("SADD", "s", "m")
    assert err(r, "INCR", "s") == WRONGTYPE
    # INCR keeps the TTL
    r.execute_command("SET", "t", "5", "EX", "100")
    assert r.incr("t") == 6 and 99 <= r.ttl("t") <= 100


def test_incrbyfloat_exact_replies(r, raw):
    def f(key, inc):
        return raw("INCRBYFLOAT", key, inc)

    assert f("k", "10.5") == b"$4\r\n10.5\r\n"
    assert f("k", "0.1") == b"$4\r\n10.6\r\n"
    r.set("e", "5.0e3")
    assert f("e", "200") == b"$4\r\n5200\r\n"
    r.set("i", 17)
    assert f("i", "0.5") == b"$4\r\n17.5\r\n"
    assert f("z", "1e-5") == b"$7\r\n0.00001\r\n"
    assert f("m", "-0.0") == b"$1\r\n0\r\n"
    assert f("h", "0x10") == b"$2\r\n16\r\n"
    assert f("inc3", "3") == b"$1\r\n3\r\n"
    assert r.get("k") == b"10.6"


def test_incrbyfloat_errors(r):
    r.set("k", "1")
    assert err(r, "INCRBYFLOAT", "k", "inf") == "increment would produce NaN or Infinity"
    assert err(r, "INCRBYFLOAT", "k", "-inf") == "increment would produce NaN or Infinity"
    assert err(r, "INCRBYFLOAT", "k", "nan") == NOT_FLOAT
    assert err(r, "INCRBYFLOAT", "k", "abc") == NOT_FLOAT
    assert err(r, "INCRBYFLOAT", "k", " 1") == NOT_FLOAT
    assert err(r, "INCRBYFLOAT", "k", "") == NOT_FLOAT
    r.set("bad", "1.5x")
    assert err(r, "INCRBYFLOAT", "bad", "1") == NOT_FLOAT
    r.set("huge", "1e4932")
    assert err(r, "INCRBYFLOAT", "huge", "1e4932") == "increment would produce NaN or Infinity"
    r.execute_command("SADD", "s", "m")
    assert err(r, "INCRBYFLOAT", "s", "1") == WRONGTYPE
    assert r.get("k") == b"1"


# --------------------------------------------------------------------------------------------
# APPEND / STRLEN / GETRANGE / SETRANGE
# --------------------------------------------------------------------------------------------

def test_append_strlen(r):
    assert r.append("k", "ab") == 2
    assert r.append("k", "cd") == 4
    assert r.get("k") == b"abcd"
    assert r.strlen("k") == 4
    assert r.strlen("nokey") == 0
    r.set("n", 123)
    assert r.strlen("n") == 3
    assert r.append("n", "4") == 4
    assert r.get("n") == b"1234"
    assert r.append("k", "") == 4
    for _ in range(200):
        r.append("grow", "0123456789")
    assert r.strlen("grow") == 2000 and r.get("grow") == b"0123456789" * 200
    r.execute_command("SADD", "s", "m")
    assert err(r, "APPEND", "s", "x") == WRONGTYPE
    assert err(r, "STRLEN", "s") == WRONGTYPE


def test_getrange(r):
    r.set("k", "Hello World")
    cases = {(0, 4): b"Hello", (-5, -1): b"World", (0, -1): b"Hello World", (6, 100): b"World",
             (-100, 2): b"Hel", (5, 3): b"", (-1, -5): b"", (11, 20): b"", (-1, -1): b"d",
             (0, 0): b"H", (100, 200): b"", (-3, 100): b"rld"}
    for (s, e), want in cases.items():
        assert r.getrange("k", s, e) == want, (s, e)
        assert r.execute_command("SUBSTR", "k", s, e) == want
    assert r.getrange("nokey", 0, -1) == b""
    r.set("n", -1234)
    assert r.getrange("n", 1, 2) == b"12"
    r.set("e", "")
    assert r.getrange("e", 0, -1) == b""
    assert err(r, "GETRANGE", "k", "a", "1") == NOT_INT
    assert err(r, "GETRANGE", "k", "0", str(LLONG_MAX + 1)) == NOT_INT
    r.execute_command("SADD", "s", "m")
    assert err(r, "GETRANGE", "s", "0", "1") == WRONGTYPE


def test_setrange(r):
    assert r.setrange("k", 0, "") == 0
    assert r.exists("k") == 0
    assert r.setrange("k", 5, "ab") == 7
    assert r.get("k") == b"\x00" * 5 + b"ab"
    assert r.setrange("k", 1, "XYZ") == 7
    assert r.get("k") == b"\x00XYZ\x00ab"
    assert r.setrange("k", 0, "") == 7
    assert r.setrange("k", 10, "!") == 11
    r.set("n", 1234)
    assert r.setrange("n", 1, "9") == 4
    assert r.get("n") == b"1934"
    assert err(r, "SETRANGE", "k", "-1", "x") == "offset is out of range"
    assert err(r, "SETRANGE", "k", "x", "x") == NOT_INT
    assert err(r, "SETRANGE", "k", str(512 * 1024 * 1024), "x") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"
    assert err(r, "SETRANGE", "new", str(512 * 1024 * 1024 - 1), "xy") == \
        "string exceeds maximum allowed size (proto-max-bulk-len)"
    assert r.exists("new") == 0
    r.execute_command("SADD", "s", "m")
    assert err(r, "SETRANGE", "s", "0", "x") == WRONGTYPE
    assert err(r, "SETRANGE", "s", "0", "") == WRONGTYPE
    # an empty value on a missing key with a huge offset is still just 0
    assert r.setrange("none", 2**40, "") == 0


def test_append_limit():
    """proto-max-bulk-len caps APPEND and SETRANGE (a server started with a 1 MB limit)."""
    from conftest import ServerProc

    sp = ServerProc.start_tracered("--proto-max-bulk-len", str(1024 * 1024))
    try:
        r = sp.client()
        r.set("k", "x" * (1024 * 1024 - 1))
        assert r.append("k", "y") == 1024 * 1024
        assert err(r, "APPEND", "k", "z") == \
            "string exceeds maximum allowed size (proto-max-bulk-len)"
        assert err(r, "SETRANGE", "k", str(1024 * 1024), "z") == \
            "string exceeds maximum allowed size (proto-max-bulk-len)"
        assert r.setrange("k", 1024 * 1024 - 1, "z") == 1024 * 1024
        r.set("a", "x" * 600)
        assert err(r, "LCS", "a", "k") == \
            "Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
        r.close()
    finally:
        sp.stop()


# --------------------------------------------------------------------------------------------
# LCS
# --------------------------------------------------------------------------------------------

def test_lcs(r):
    r.mset({"key1": "ohmytext", "key2": "mynewtext"})
    assert r.execute_command("LCS", "key1", "key2") == b"mytext"
    assert r.execute_command("LCS", "key1", "key2", "LEN") == 6
    assert r.execute_command("LCS", "key1", "key2", "IDX") == \
        [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert r.execute_command("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4",
                             "WITHMATCHLEN") == [b"matches", [[[4, 7], [5, 8], 4]], b"len", 6]
    assert r.execute_command("LCS", "key1", "key2", "idx", "minmatchlen", "-3") == \
        [b"matches", [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], b"len", 6]
    assert r.execute_command("LCS", "key1", "nokey") == b""
    assert r.execute_command("LCS", "nokey", "nokey2", "IDX") == [b"matches", [], b"len", 0]
    assert err(r, "LCS", "key1", "key2", "LEN", "IDX") == \
        "If you want both the length and indexes, please just use IDX."
    assert err(r, "LCS", "key1", "key2", "MINMATCHLEN") == "syntax error"
    assert err(r, "LCS", "key1", "key2", "FOO") == "syntax error"
    assert err(r, "LCS", "key1", "key2", "MINMATCHLEN", "x") == NOT_INT
    r.execute_command("SADD", "s", "m")
    assert err(r, "LCS", "key1", "s") == "The specified keys must contain string values"
    assert err(r, "LCS", "key1") == "wrong number of arguments for 'lcs' command"


def test_lcs_matches_brute_force():
    """lcs_rows against the textbook cell-by-cell table."""
    import random

    from tracered.t_string import lcs_rows

    rng = random.Random(7)
    for _ in range(200):
        a = bytes(rng.choice(b"abc\x00\xff") for _ in range(rng.randint(0, 12)))
        b = bytes(rng.choice(b"abc\x00\xff") for _ in range(rng.randint(0, 12)))
        table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
        for i in range(1, len(a) + 1):
            for j in range(1, len(b) + 1):
                table[i][j] = table[i - 1][j - 1] + 1 if a[i - 1] == b[j - 1] else \
                    max(table[i - 1][j], table[i][j - 1])
        rows = lcs_rows(a, b)
        for i in range(len(a) + 1):
            for j in range(len(b) + 1):
                assert (rows[i] & ((1 << j) - 1)).bit_count() == table[i][j]


# --------------------------------------------------------------------------------------------
# In process: propagation, notifications, memory accounting
# --------------------------------------------------------------------------------------------

class InProc:
    """The server's command path run in this process on a fake client (no socket)."""

    def __init__(self) -> None:
        from tracered import commands
        from tracered import db as dbmod
        from tracered import networking as net
        from tracered import server as sm

        self.sm = sm
        self.dbmod = dbmod
        srv = sm.server
        net.server = srv  # set by init_server in a real server
        self.saved = (srv.db, list(srv.propagate_hooks), dbmod.notify_hook,
                      srv.notify_keyspace_events)
        srv.db = [dbmod.RedisDb(i) for i in range(srv.databases)]
        commands.populate_command_table(sm.all_command_tables())
        self.propagated: list[list[bytes]] = []
        self.events: list[tuple[str, bytes]] = []
        srv.propagate_hooks.append(lambda dbid, argv, target: self.propagated.append(argv))
        dbmod.notify_hook = lambda t, ev, key, dbid: self.events.append((ev, key))
        srv.notify_keyspace_events = "KEA"
        self.c = net.create_client(None)

    def close(self) -> None:
        srv = self.sm.server
        srv.db, srv.propagate_hooks, self.dbmod.notify_hook, srv.notify_keyspace_events = \
            self.saved

    def __call__(self, *args) -> bytes:
        c = self.c
        c.argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sm.process_command(c)
        out = b"".join(c.reply)
        c.reply.clear()
        c.reply_bytes = 0
        return out

    def value(self, key: bytes):
        de = self.sm.server.db[0].dict.find(key)
        return None if de is None else de.val


@pytest.fixture
def inproc():
    p = InProc()
    yield p
    p.close()


def test_propagation_rewrites(inproc):
    p = inproc
    prop = p.propagated
    p("SET", "k", "v")
    assert prop[-1] == [b"SET", b"k", b"v"]
    p("SET", "k", "v", "EX", "100")
    cmd, key, val, pxat, when = prop[-1]
    assert (cmd, key, val, pxat) == (b"SET", b"k", b"v", b"PXAT")
    assert abs(int(when) - (int(time.time() * 1000) + 100_000)) < 5000
    p("SET", "k", "v2", "EXAT", "4102444800")
    assert prop[-1] == [b"SET", b"k", b"v2", b"PXAT", b"4102444800000"]
    p("SET", "k", "v3", "NX", "PXAT", "4102444800000")
    assert prop[-1][2] == b"v2"  # NX failed: nothing propagated
    p("SET", "k", "v4", "GET", "XX", "get", "KEEPTTL")
    assert prop[-1] == [b"SET", b"k", b"v4", b"XX", b"KEEPTTL"]
    p("SETEX", "k", "10", "v5")
    assert prop[-1][:4] == [b"SET", b"k", b"v5", b"PXAT"]
    p("PSETEX", "k", "10000", "v6")
    assert prop[-1][:4] == [b"SET", b"k", b"v6", b"PXAT"]
    p("GETSET", "k", "v7")
    assert prop[-1] == [b"SET", b"k", b"v7"]
    n = len(prop)
    p("GETEX", "k")
    assert len(prop) == n  # a plain GETEX changes nothing
    p("GETEX", "k", "PXAT", "4102444800000")
    assert prop[-1] == [b"PEXPIREAT", b"k", b"4102444800000"]
    p("GETEX", "k", "PERSIST")
    assert prop[-1] == [b"PERSIST", b"k"]
    n = len(prop)
    p("GETEX", "k", "PERSIST")
    assert len(prop) == n  # no TTL to remove: not propagated
    p("GETEX", "k", "EXAT", "1")
    assert prop[-1] == [b"DEL", b"k"]
    p("SET", "k", "1.5")
    p("INCRBYFLOAT", "k", "0.1")
    assert prop[-1] == [b"SET", b"k", b"1.6", b"KEEPTTL"]
    p("GETDEL", "k")
    assert prop[-1] == [b"DEL", b"k"]
    n = len(prop)
    p("GETDEL", "k")
    assert len(prop) == n
    p("MSET", "a", "1", "b", "2")
    assert prop[-1] == [b"MSET", b"a", b"1", b"b", b"2"]
    p("INCR", "a")
    assert prop[-1] == [b"INCR", b"a"]
    p("APPEND", "a", "x")
    p("SETRANGE", "a", "0", "y")
    assert prop[-2:] == [[b"APPEND", b"a", b"x"], [b"SETRANGE", b"a", b"0", b"y"]]
    assert p.c.cmd.name == "setrange"
    n = len(prop)
    p("SETRANGE", "a", "0", "")
    p("MSETNX", "a", "1")
    p("GET", "a")
    p("SET", "nonint", "x")
    p("INCR", "nonint")
    p("INCRBYFLOAT", "nonint", "1")
    assert len(prop) == n + 1  # only the SET changed something


def test_keyspace_events(inproc):
    p = inproc
    ev = _Events(p.events)
    p("SET", "k", "v", "EX", "100")
    assert ev[-2:] == [("set", b"k"), ("expire", b"k")]
    p("INCR", "n")
    p("INCRBYFLOAT", "n", "1")
    p("APPEND", "n", "x")
    p("SETRANGE", "n", "0", "y")
    assert [e for e, _ in ev[-4:]] == ["incrby", "incrbyfloat", "append", "setrange"]
    p("MSET", "a", "1", "b", "2")
    assert ev[-2:] == [("set", b"a"), ("set", b"b")]
    p("GETDEL", "a")
    assert ev[-1] == ("del", b"a")
    p("GETEX", "b", "EX", "10")
    assert ev[-1] == ("expire", b"b")
    p("GETEX", "b", "PERSIST")
    assert ev[-1] == ("persist", b"b")
    p("GETSET", "b", "3")
    assert ev[-1] == ("set", b"b")
    p("SET", "k", "v")
    assert ev[-1] == ("set", b"k")


class _Events:
    """The recorded events without db.py's own 'new' (dbAdd) events."""

    def __init__(self, events: list) -> None:
        self.events = events

    def __getitem__(self, i):
        return [e for e in self.events if e[0] != "new"][i]


def test_encodings_in_process(inproc):
    from tracered import object as obj

    p = inproc
    p("SET", "k", "123")
    assert p.value(b"k") is obj.shared_integers[123]
    p("INCRBY", "k", "10000")
    o = p.value(b"k")
    assert o.encoding == obj.OBJ_ENCODING_INT and o.refcount == 1 and o.ptr == 10123
    p("INCR", "k")
    assert p.value(b"k") is o and o.ptr == 10124  # in place, like incrDecrCommand
    p("DECRBY", "k", "10124")
    assert p.value(b"k") is obj.shared_integers[0]
    p("INCRBYFLOAT", "f", "3")
    assert p.value(b"f").encoding == obj.OBJ_ENCODING_EMBSTR
    p("APPEND", "k", "x")
    assert p.value(b"k").encoding == obj.OBJ_ENCODING_RAW


def test_memory_usage_matches_redis(inproc, rr):
    """string_memory_usage + key_memory_usage == Redis's MEMORY USAGE (jemalloc, sds)."""
    from tracered import object as obj
    from tracered.t_string import key_memory_usage

    p = inproc
    scripts = [
        [("SET", "k", "1")], [("SET", "k", "123456789012")], [("SET", "k", "abc")],
        [("SET", "k", "x" * 44)], [("SET", "k", "x" * 45)], [("SET", "k", "x" * 300)],
        [("SET", "k" * 40, "x" * 70000)], [("SET", "k", "")],
        [("SET", "k", "ab"), ("APPEND", "k", "c")],
        [("SET", "k", "x" * 100), ("APPEND", "k", "y")],
        [("APPEND", "k", "abc")] * 30, [("APPEND", "k", "a" * 100)] * 12,
        [("SETRANGE", "k", "10", "xyz")], [("SET", "k", "hello"), ("SETRANGE", "k", "3", "p" * 40)],
        [("SET", "k", "x" * 60), ("SETRANGE", "k", "1", "y")],
        [("INCRBYFLOAT", "k", "1.25")], [("SET", "k", "77777"), ("INCR", "k")],
    ]
    for script in scripts:
        rr.flushall()
        p("FLUSHALL")
        for step in script:
            assert p(*step)[:1] != b"-"
            rr.execute_command(*step)
        key = script[0][1].encode()
        o = p.value(key)
        mine = obj.memory_usage_funcs[obj.OBJ_STRING](o, 5) + key_memory_usage(key)
        assert mine == rr.memory_usage(key), script


def test_jemalloc_size_classes():
    from tracered.t_string import jemalloc_size

    assert [jemalloc_size(n) for n in (1, 8, 9, 16, 17, 48, 49, 128, 129, 160, 161, 256, 257)] \
        == [8, 8, 16, 16, 32, 48, 64, 128, 160, 160, 192, 256, 320]
    assert jemalloc_size(14337) == 16384 and jemalloc_size(16385) == 20480
    assert jemalloc_size(1024 * 1024 + 1) == 1024 * 1024 + 256 * 1024
