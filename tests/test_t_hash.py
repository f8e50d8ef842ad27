"""Hash commands (tracered/t_hash.py) over TCP with redis-py, plus in-process checks of what a
client cannot see: the listpack bytes, conversion probes and events, propagation rewrites and
keyspace notifications.

Error texts are Redis 7.0.15's, byte for byte.
"""

from __future__ import annotations

import socket

import pytest
import redis

NOT_INT = "value is not an integer or out of range"
NOT_FLOAT = "value is not a valid float"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
LONG_MAX = 2**63 - 1


def err(r: redis.Redis, *args) -> str:
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


def enc(r: redis.Redis, key) -> bytes:
    return r.execute_command("OBJECT", "ENCODING", key)


class Raw:
    """A bare RESP client: the exact reply bytes (no redis-py conversions)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
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
def plain(r):
    """The ``r`` client without redis-py's reply conversions (HSCAN, HINCRBYFLOAT ...)."""
    r.response_callbacks.clear()
    return r


@pytest.fixture
def raw(r, tracered_server):
    c = Raw(tracered_server.port)
    yield c
    c.close()


# --------------------------------------------------------------------------------------------
# HSET HSETNX HMSET HGET HMGET HDEL HLEN HSTRLEN HEXISTS
# --------------------------------------------------------------------------------------------

def test_hset_hget_basic(r):
    assert r.execute_command("HSET", "h", "a", "1", "b", "2") == 2
    assert r.execute_command("HSET", "h", "a", "10", "c", "3") == 1  # one new, one updated
    assert r.hget("h", "a") == b"10"
    assert r.hget("h", "zz") is None
    assert r.hget("nokey", "a") is None
    assert r.hmget("h", "a", "nope", "c") == [b"10", None, b"3"]
    assert r.hmget("nokey", "a", "b") == [None, None]
    assert r.hlen("h") == 3
    assert r.hlen("nokey") == 0
    assert r.hexists("h", "b") is True
    assert r.hexists("h", "nope") is False
    assert r.hexists("nokey", "b") is False
    assert enc(r, "h") == b"listpack"


def test_hset_arity_and_wrongtype(r):
    assert err(r, "HSET", "h", "a") == "wrong number of arguments for 'hset' command"
    assert err(r, "HSET", "h", "a", "1", "b") == "wrong number of arguments for 'hset' command"
    assert err(r, "HMSET", "h", "a", "1", "b") == \
        "wrong number of arguments for 'hmset' command"
    assert not r.exists("h")  # nothing created by a rejected call
    r.set("s", "x")
    for args in (("HSET", "s", "a", "1"), ("HSETNX", "s", "a", "1"), ("HGET", "s", "a"),
                 ("HMGET", "s", "a"), ("HDEL", "s", "a"), ("HLEN", "s"), ("HSTRLEN", "s", "a"),
                 ("HEXISTS", "s", "a"), ("HKEYS", "s"), ("HVALS", "s"), ("HGETALL", "s"),
                 ("HINCRBY", "s", "a", "1"), ("HINCRBYFLOAT", "s", "a", "1"),
                 ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "2"), ("HSCAN", "s", "0")):
        assert err(r, *args) == WRONGTYPE, args


def test_hmset_replies_ok(r, raw):
    assert raw("HMSET", "h", "a", "1", "b", "2") == b"+OK\r\n"
    assert raw("hmset", "h", "a", "3") == b"+OK\r\n"
    assert raw("HSET", "h", "a", "4", "c", "5") == b":1\r\n"
    assert r.hgetall("h") == {b"a": b"4", b"b": b"2", b"c": b"5"}


def test_hsetnx(r):
    assert r.hsetnx("h", "a", "1") == 1
    assert r.hsetnx("h", "a", "2") == 0
    assert r.hget("h", "a") == b"1"
    assert r.hsetnx("h", "long", "x" * 100) == 1
    assert enc(r, "h") == b"hashtable"
    assert r.hsetnx("h", "long", "y") == 0


def test_hdel(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    assert r.hdel("h", "a", "nope", "a") == 1
    assert r.hdel("nokey", "a") == 0
    assert r.hdel("h", "b", "c", "d") == 2
    assert not r.exists("h")  # the key goes with its last field


def test_hdel_hashtable_shrinks_but_stays_hashtable(r):
    r.hset("h", mapping={f"f{i}": i for i in range(600)})
    assert enc(r, "h") == b"hashtable"
    assert r.hdel("h", *[f"f{i}" for i in range(599)]) == 599
    assert r.hgetall("h") == {b"f599": b"599"}
    assert enc(r, "h") == b"hashtable"  # never converted back


def test_hstrlen(r):
    r.hset("h", mapping={"s": "hello", "i": "-12345", "big": "9223372036854775807"})
    assert r.hstrlen("h", "s") == 5
    assert r.hstrlen("h", "i") == 6  # integer-encoded in the listpack: sdigits10
    assert r.hstrlen("h", "big") == 19
    assert r.hstrlen("h", "nope") == 0
    assert r.hstrlen("nokey", "s") == 0


def test_integer_like_fields_round_trip(r):
    # Canonical integers are stored as listpack integers; others stay strings.
    vals = ["0", "-0", "007", "+1", " 1", "1 ", "9223372036854775807", "9223372036854775808",
            "-9223372036854775808", "-9223372036854775809", "1.0", "", "12"]
    for i, v in enumerate(vals):
        r.hset("h", v, f"v{i}")
        r.hset("h", f"k{i}", v)
    for i, v in enumerate(vals):
        assert r.hget("h", v) == f"v{i}".encode(), v
        assert r.hget("h", f"k{i}") == v.encode(), v
    assert enc(r, "h") == b"listpack"


# --------------------------------------------------------------------------------------------
# HKEYS HVALS HGETALL
# --------------------------------------------------------------------------------------------

def test_hkeys_hvals_hgetall_listpack_order(r):
    r.execute_command("HSET", "h", "z", "1", "a", "2", "m", "3", "7", "x")
    assert r.hkeys("h") == [b"z", b"a", b"m", b"7"]
    assert r.hvals("h") == [b"1", b"2", b"3", b"x"]
    assert r.execute_command("HGETALL", "h") == {b"z": b"1", b"a": b"2", b"m": b"3",
                                                  b"7": b"x"}
    assert r.hkeys("nokey") == []
    assert r.hvals("nokey") == []
    assert r.hgetall("nokey") == {}


def test_hgetall_hashtable(r):
    data = {f"f{i}".encode(): str(i).encode() for i in range(1000)}
    r.hset("h", mapping=data)
    assert enc(r, "h") == b"hashtable"
    assert r.hgetall("h") == data
    assert sorted(r.hkeys("h")) == sorted(data)
    assert sorted(r.hvals("h")) == sorted(data.values())


def test_hgetall_raw_resp2_resp3(raw):
    raw("HSET", "h", "a", "1", "b", "xy")
    assert raw("HGETALL", "h") == b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$2\r\nxy\r\n"
    assert raw("HGETALL", "nokey") == b"*0\r\n"
    assert raw("HKEYS", "h") == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    raw("HELLO", "3")
    assert raw("HGETALL", "h") == b"%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$2\r\nxy\r\n"
    assert raw("HGETALL", "nokey") == b"%0\r\n"
    assert raw("HKEYS", "nokey") == b"*0\r\n"
    assert raw("HVALS", "h") == b"*2\r\n$1\r\n1\r\n$2\r\nxy\r\n"
    assert raw("HGET", "h", "nope") == b"_\r\n"
    assert raw("HMGET", "h", "a", "nope") == b"*2\r\n$1\r\n1\r\n_\r\n"


# --------------------------------------------------------------------------------------------
# HINCRBY HINCRBYFLOAT
# --------------------------------------------------------------------------------------------

def test_hincrby(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    r.hset("h", "s", "17")
    assert r.hincrby("h", "s", 3) == 20
    r.hset("h", "big", str(LONG_MAX - 1))
    assert r.hincrby("h", "big", 1) == LONG_MAX
    assert err(r, "HINCRBY", "h", "big", "1") == "increment or decrement would overflow"
    r.hset("h", "neg", str(-(2**63) + 1))
    assert err(r, "HINCRBY", "h", "neg", "-2") == "increment or decrement would overflow"
    assert r.hget("h", "big") == str(LONG_MAX).encode()
    r.hset("h", "str", "abc")
    assert err(r, "HINCRBY", "h", "str", "1") == "hash value is not an integer"
    r.hset("h", "sp", " 1")
    assert err(r, "HINCRBY", "h", "sp", "1") == "hash value is not an integer"
    assert err(r, "HINCRBY", "h", "n", "1.5") == NOT_INT
    assert err(r, "HINCRBY", "h", "n", "9223372036854775808") == NOT_INT
    assert err(r, "HINCRBY", "h", "n") == "wrong number of arguments for 'hincrby' command"


def test_hincrby_long_field_converts(r):
    r.hset("h", "a", "1")
    assert r.hincrby("h", "f" * 65, 1) == 1
    assert enc(r, "h") == b"hashtable"


def test_hincrbyfloat(plain):
    r = plain
    assert r.execute_command("HINCRBYFLOAT", "h", "f", "10.5") == b"10.5"
    assert r.execute_command("HINCRBYFLOAT", "h", "f", "0.1") == b"10.6"
    r.hset("h", "e", "5.0e3")
    assert r.execute_command("HINCRBYFLOAT", "h", "e", "2.0e2") == b"5200"
    assert r.execute_command("HINCRBYFLOAT", "h", "i", "3") == b"3"
    assert r.execute_command("HINCRBYFLOAT", "h", "i", "-3.0") == b"0"
    assert r.execute_command("HINCRBYFLOAT", "h", "x", "1.23456789012345678901") == \
        b"1.23456789012345679"
    assert err(r, "HINCRBYFLOAT", "h", "f", "abc") == NOT_FLOAT
    assert err(r, "HINCRBYFLOAT", "h", "f", "") == NOT_FLOAT
    assert err(r, "HINCRBYFLOAT", "h", "f", "nan") == NOT_FLOAT
    assert err(r, "HINCRBYFLOAT", "h", "f", "inf") == "value is NaN or Infinity"
    assert err(r, "HINCRBYFLOAT", "h", "f", "-infinity") == "value is NaN or Infinity"
    r.hset("h", "s", "hello")
    assert err(r, "HINCRBYFLOAT", "h", "s", "1") == "hash value is not a float"
    r.hset("h", "inf", "inf")
    assert err(r, "HINCRBYFLOAT", "h", "inf", "1") == "increment would produce NaN or Infinity"
    r.hset("h", "huge", "1e4932")
    assert err(r, "HINCRBYFLOAT", "h", "huge", "1e4932") == \
        "increment would produce NaN or Infinity"
    assert not r.exists("nokey2")
    assert err(r, "HINCRBYFLOAT", "nokey2", "f", "nan") == NOT_FLOAT
    assert not r.exists("nokey2")


# --------------------------------------------------------------------------------------------
# HRANDFIELD
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [5, 100, 1000])
def test_hrandfield_cases(r, size):
    data = {f"f{i}".encode(): f"v{i}".encode() for i in range(size)}
    r.hset("h", mapping=data)
    assert enc(r, "h") == (b"listpack" if size <= 512 else b"hashtable")
    assert r.hrandfield("h") in data
    for count in (1, 2, 3, size // 2, size - 1, size, size + 5):
        got = r.hrandfield("h", count)
        assert len(got) == min(count, size), count
        assert len(set(got)) == len(got)
        assert set(got) <= set(data)
        flat = r.hrandfield("h", count, withvalues=True)
        assert len(flat) == 2 * min(count, size)
        pairs = dict(zip(flat[0::2], flat[1::2], strict=True))
        assert len(pairs) == min(count, size)
        assert all(data[k] == v for k, v in pairs.items())
    for count in (1, 5, 3 * size):
        got = r.hrandfield("h", -count)
        assert len(got) == count and set(got) <= set(data)
        flat = r.hrandfield("h", -count, withvalues=True)
        assert len(flat) == 2 * count
        assert all(data[k] == v for k, v in zip(flat[0::2], flat[1::2], strict=True))
    assert r.hrandfield("h", 0) == []
    assert r.hrandfield("h", 0, withvalues=True) == []


def test_hrandfield_distribution_negative_count(r):
    r.hset("h", mapping={"a": 1, "b": 2, "c": 3})
    got = r.hrandfield("h", -3000)
    counts = {k: got.count(k) for k in (b"a", b"b", b"c")}
    assert all(700 < n < 1300 for n in counts.values()), counts


def test_hrandfield_errors_and_missing(r):
    assert r.hrandfield("nokey") is None
    assert r.hrandfield("nokey", 5) == []
    assert r.hrandfield("nokey", -5, withvalues=True) == []
    r.hset("h", "a", "1")
    assert err(r, "HRANDFIELD", "h", "x") == NOT_INT
    assert err(r, "HRANDFIELD", "h", "1", "foo") == "syntax error"
    assert err(r, "HRANDFIELD", "h", "1", "withvalues", "x") == "syntax error"
    assert err(r, "HRANDFIELD", "h", "-9223372036854775808") == \
        "value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    assert err(r, "HRANDFIELD", "h", "4611686018427387904", "WITHVALUES") == \
        "value is out of range"
    assert err(r, "HRANDFIELD", "h", "-4611686018427387904", "withvalues") == \
        "value is out of range"
    # The count is parsed before the key is looked up, as in Redis.
    assert err(r, "HRANDFIELD", "nokey", "x") == NOT_INT


def test_hrandfield_resp3_shapes(raw):
    raw("HSET", "h", "a", "1")
    raw("HELLO", "3")
    assert raw("HRANDFIELD", "h", "1", "WITHVALUES") == b"*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert raw("HRANDFIELD", "h", "-2", "WITHVALUES") == \
        b"*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert raw("HRANDFIELD", "h", "2") == b"*1\r\n$1\r\na\r\n"
    assert raw("HRANDFIELD", "nokey") == b"_\r\n"
    assert raw("HRANDFIELD", "nokey", "3") == b"*0\r\n"


# --------------------------------------------------------------------------------------------
# HSCAN
# --------------------------------------------------------------------------------------------

def test_hscan_listpack_all_at_once(plain):
    r = plain
    r.execute_command("HSET", "h", "a", "1", "b", "2", "c", "3")
    assert r.execute_command("HSCAN", "h", "0") == [b"0", [b"a", b"1", b"b", b"2", b"c", b"3"]]
    assert r.execute_command("HSCAN", "h", "0", "MATCH", "b*", "COUNT", "1") == \
        [b"0", [b"b", b"2"]]
    assert r.execute_command("HSCAN", "nokey", "0") == [b"0", []]


def test_hscan_hashtable_full_iteration(plain):
    r = plain
    data = {f"f{i}".encode(): str(i).encode() for i in range(1500)}
    r.hset("h", mapping=data)
    seen = {}
    cursor = 0
    calls = 0
    while True:
        cursor, items = r.execute_command("HSCAN", "h", cursor, "COUNT", "50")
        cursor = int(cursor)
        assert len(items) % 2 == 0
        seen.update(zip(items[0::2], items[1::2], strict=True))
        calls += 1
        if cursor == 0:
            break
    assert seen == data
    assert calls > 5
    matched = {}
    cursor = 0
    while True:
        cursor, items = r.execute_command("HSCAN", "h", cursor, "MATCH", "f1?")
        cursor = int(cursor)
        matched.update(zip(items[0::2], items[1::2], strict=True))
        if cursor == 0:
            break
    assert set(matched) == {f"f1{i}".encode() for i in range(10)}


def test_hscan_errors(plain):
    r = plain
    r.hset("h", "a", "1")
    assert err(r, "HSCAN", "h", "abc") == "invalid cursor"
    assert err(r, "HSCAN", "h", " 1") == "invalid cursor"
    assert err(r, "HSCAN", "h", "18446744073709551616") == "invalid cursor"
    assert err(r, "HSCAN", "h", "0", "COUNT", "0") == "syntax error"
    assert err(r, "HSCAN", "h", "0", "COUNT", "x") == NOT_INT
    assert err(r, "HSCAN", "h", "0", "MATCH") == "syntax error"
    assert err(r, "HSCAN", "h", "0", "TYPE", "string") == "syntax error"
    assert err(r, "HSCAN", "nokey", "x") == "invalid cursor"
    assert r.execute_command("HSCAN", "h", "") == [b"0", [b"a", b"1"]]


# --------------------------------------------------------------------------------------------
# Encodings: listpack -> hashtable only
# --------------------------------------------------------------------------------------------

def test_encoding_thresholds(r):
    r.hset("h", mapping={f"f{i}": i for i in range(512)})
    assert enc(r, "h") == b"listpack"
    r.hset("h", "f512", "x")
    assert enc(r, "h") == b"hashtable"
    r.hset("v", "a", "x" * 64)
    assert enc(r, "v") == b"listpack"
    r.hset("v", "b", "x" * 65)
    assert enc(r, "v") == b"hashtable"
    r.hset("fld", "x" * 65, "1")
    assert enc(r, "fld") == b"hashtable"
    assert r.hget("fld", "x" * 65) == b"1"


def test_config_set_thresholds(r):
    try:
        r.config_set("hash-max-listpack-entries", 2)
        r.hset("h", mapping={"a": 1, "b": 2})
        assert enc(r, "h") == b"listpack"
        r.hset("h", "c", 3)
        assert enc(r, "h") == b"hashtable"
        r.config_set("hash-max-ziplist-value", 3)  # the old name is an alias
        r.hset("v", "a", "abc")
        assert enc(r, "v") == b"listpack"
        r.hset("v", "b", "abcd")
        assert enc(r, "v") == b"hashtable"
        assert r.config_get("hash-max-listpack-value") == {"hash-max-listpack-value": "3"}
    finally:
        r.config_set("hash-max-listpack-entries", 512)
        r.config_set("hash-max-listpack-value", 64)


def test_copy_keeps_encoding_and_is_deep(r):
    r.hset("lp", mapping={"a": 1, "b": "x"})
    r.hset("ht", mapping={f"f{i}": i for i in range(600)})
    assert r.copy("lp", "lp2") and r.copy("ht", "ht2")
    assert enc(r, "lp2") == b"listpack" and enc(r, "ht2") == b"hashtable"
    r.hset("lp", "a", "changed")
    r.hdel("ht", "f1")
    assert r.hget("lp2", "a") == b"1"
    assert r.hget("ht2", "f1") == b"1"
    assert r.hlen("ht2") == 600


def test_memory_usage_grows_with_content(r):
    r.hset("h", "a", "1")
    small = r.memory_usage("h")
    r.hset("h", mapping={f"f{i}": "x" * 30 for i in range(100)})
    mid = r.memory_usage("h")
    r.hset("h", mapping={f"g{i}": "x" * 30 for i in range(1000)})
    big = r.memory_usage("h", samples=0)
    assert small < mid < big


# --------------------------------------------------------------------------------------------
# In process: listpack bytes, probes, propagation, notifications
# --------------------------------------------------------------------------------------------

class InProc:
    """The server's command path run in this process on a fake client (no socket)."""

    def __init__(self) -> None:
        # tracered.server first: importing networking first would leave networking.server
        # unset (its module body runs after server.py sets it).
        from tracered import server as sm  # noqa: I001
        from tracered import commands
        from tracered import db as dbmod
        from tracered import networking as net

        self.sm = sm
        self.dbmod = dbmod
        srv = sm.server
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


def test_listpack_bytes_match_redis_layout(inproc):
    from tracered.listpack import lp_build

    p = inproc
    p("HSET", "h", "a", "1", "bb", "hello", "-5", "300")
    o = p.value(b"h")
    # field, value alternate; canonical integers use the integer encodings.
    assert bytes(o.ptr) == bytes(lp_build([b"a", 1, b"bb", b"hello", -5, 300]))
    p("HSET", "h", "bb", "x")
    assert bytes(o.ptr) == bytes(lp_build([b"a", 1, b"bb", b"x", -5, 300]))
    p("HDEL", "h", "a")
    assert bytes(o.ptr) == bytes(lp_build([b"bb", b"x", -5, 300]))


class _Sink:
    def __init__(self) -> None:
        self.hits: list[str] = []
        self.events: list[tuple[str, dict]] = []

    def enter(self, info, args):
        self.hits.append(info.name)

    def leave(self, info, token):
        pass

    def event(self, name, attrs):
        self.events.append((name, dict(attrs)))


def test_probes_and_conversion_event(inproc):
    from tracered import object as obj
    from tracered.trace import probes

    p = inproc
    sink = _Sink()
    for name in ("createHashObject", "hashTypeConvert"):
        assert probes.arm(name, sink)
    try:
        p("HSET", "small", "a", "1")
        p("HSET", "big", "a", "x" * 100)
    finally:
        probes.remove_sink(sink)
    assert sink.hits == ["createHashObject", "createHashObject", "hashTypeConvert"]
    conv = [a for n, a in sink.events if n == "encoding.convert"]
    assert len(conv) == 1
    assert conv[0]["redis.key"] == "big"
    assert (conv[0]["from"], conv[0]["to"]) == ("listpack", "hashtable")
    assert p.value(b"big").encoding == obj.OBJ_ENCODING_HT
    assert p.value(b"small").encoding == obj.OBJ_ENCODING_LISTPACK


def test_propagation_and_dirty(inproc):
    p = inproc
    prop = p.propagated
    srv = p.sm.server
    d0 = srv.dirty
    p("HSET", "h", "a", "1", "b", "2")
    assert srv.dirty - d0 == 2
    assert prop[-1] == [b"HSET", b"h", b"a", b"1", b"b", b"2"]
    p("HINCRBYFLOAT", "h", "f", "10.5")
    p("HINCRBYFLOAT", "h", "f", "0.1")
    assert prop[-1] == [b"HSET", b"h", b"f", b"10.6"]  # the result, not the increment
    p("HINCRBY", "h", "a", "5")
    assert prop[-1] == [b"HINCRBY", b"h", b"a", b"5"]
    n = len(prop)
    p("HSETNX", "h", "a", "x")
    p("HDEL", "h", "nope")
    p("HGET", "h", "a")
    assert len(prop) == n  # nothing changed: nothing propagated
    p("HDEL", "h", "a", "b", "f")
    assert prop[-1] == [b"HDEL", b"h", b"a", b"b", b"f"]


def test_keyspace_events(inproc):
    p = inproc
    ev = p.events
    p("HSET", "h", "a", "1")
    assert ev[-2:] == [("new", b"h"), ("hset", b"h")]
    p("HMSET", "h", "b", "2")
    p("HSETNX", "h", "c", "3")
    p("HINCRBY", "h", "n", "1")
    p("HINCRBYFLOAT", "h", "n", "1.5")
    assert [e for e, _ in ev[-4:]] == ["hset", "hset", "hincrby", "hincrbyfloat"]
    n = len(ev)
    p("HSETNX", "h", "c", "3")
    p("HDEL", "h", "nope")
    assert len(ev) == n
    p("HDEL", "h", "a", "b", "c", "n")
    assert ev[-2:] == [("hdel", b"h"), ("del", b"h")]


def test_digest_and_dup_hooks(inproc):
    from tracered import object as obj

    p = inproc
    p("HSET", "h", "a", "1", "b", "xy")
    o = p.value(b"h")
    assert obj.digest_value_funcs[obj.OBJ_HASH](o) == [(b"a", b"1"), (b"b", b"xy")]
    assert obj.length_funcs[obj.OBJ_HASH](o) == 2
    copy = obj.dup_funcs[obj.OBJ_HASH](o)
    assert copy.ptr == o.ptr and copy.ptr is not o.ptr
    assert "'a': '1'" in obj.preview_funcs[obj.OBJ_HASH](o, 10)
