"""DEBUG (tracered/debug.py) against the reference redis-server.

The digest tests are the point of DEBUG DIGEST: the same writes on both servers must give the
same 40 hex chars, so other test files can compare whole datasets with one command.  Reply
texts (errors, PROTOCOL samples in RESP2 and RESP3, HELP, HTSTATS layout, OBJECT fields) are
compared byte for byte where both servers can agree.
"""

from __future__ import annotations

import re
import socket
import threading
import time

import pytest
import redis

ZERO = b"0" * 40


def dbg(client: redis.Redis, *args):
    try:
        return client.execute_command("DEBUG", *args)
    except redis.ResponseError as e:
        return ("error", str(e))


def both(diff, *args):
    return dbg(diff.t, *args), dbg(diff.ref, *args)


def need_commands(r: redis.Redis, *names: str) -> None:
    """Skip when a command family this test leans on has not landed in tracered yet."""
    for name in names:
        try:
            r.execute_command(name)
        except redis.ResponseError as e:
            if "unknown command" in str(e):
                pytest.skip(f"tracered has no {name.upper()} yet")


# --------------------------------------------------------------------------------------------
# Raw RESP helpers (exact bytes, RESP3 included)
# --------------------------------------------------------------------------------------------

class Raw:
    def __init__(self, port: int) -> None:
        self.s = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = bytearray()

    def close(self) -> None:
        self.s.close()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        i = self.buf.index(b"\r\n")
        line = bytes(self.buf[:i + 2])
        del self.buf[:i + 2]
        return line

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            d = self.s.recv(65536)
            if not d:
                raise ConnectionError("closed")
            self.buf += d
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def reply(self) -> bytes:
        """One whole reply (attributes and pushes count as their own replies), raw."""
        line = self._line()
        t, rest = line[:1], line[1:-2]
        if t in b"$=!":
            n = int(rest)
            return line if n < 0 else line + self._take(n + 2)
        if t in b"*~>|%":
            n = int(rest)
            if t in b"|%":
                n *= 2
            return line + b"".join(self.reply() for _ in range(max(n, 0)))
        return line

    def call(self, *args: bytes | str) -> bytes:
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a.encode() if isinstance(a, str) else a
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.s.sendall(b"".join(out))
        return self.reply()


@pytest.fixture
def raws(tracered_server, redis_server):
    pair = Raw(tracered_server.port), Raw(redis_server.port)
    yield pair
    for x in pair:
        x.close()


# --------------------------------------------------------------------------------------------
# DIGEST and DIGEST-VALUE
# --------------------------------------------------------------------------------------------

STRINGS = [
    ("s:empty", b""), ("s:one", b"a"), ("s:int0", b"0"), ("s:int", b"12345"),
    ("s:neg", b"-42"), ("s:bigint", b"1234567890123456789"), ("s:notint", b"007"),
    ("s:float", b"3.14"), ("s:embstr", b"e" * 44), ("s:raw", b"r" * 45),
    ("s:bin", bytes(range(256))), ("s:crlf", b"a\r\nb\x00c"), ("s:utf8", "héllo".encode()),
    ("s:huge", b"0123456789" * 10000),
]


def write_strings(diff, suffix: str = "") -> list[bytes]:
    keys = []
    for i, (k, v) in enumerate(STRINGS):
        key = (k + suffix).encode()
        keys.append(key)
        if i % 3 == 0:
            diff("SET", key, v)
        elif i % 3 == 1:
            diff("SET", key, v, "EX", 1000)
        else:
            diff("SET", key, v, "PX", 5_000_000)
    return keys


def test_digest_empty_dataset_is_zeros(diff):
    assert diff.digest() == ZERO
    assert both(diff, "DIGEST-VALUE", "nosuchkey") == ([ZERO], [ZERO])
    assert both(diff, "DIGEST-VALUE") == ([], [])


def test_digest_strings_and_ttls_match_redis(diff, tracered_server, redis_server):
    keys = write_strings(diff)
    d1 = diff.digest()
    assert d1 != ZERO
    a, b = both(diff, "DIGEST-VALUE", *keys, "missing")
    assert a == b and a[-1] == ZERO and len(set(a)) == len(a)
    # Overwriting without a TTL drops the "!!expire!!" mark: the digest changes, equally.
    diff("SET", "s:one", "a")
    d2 = diff.digest()
    assert d2 != d1
    # The same data in another db is another digest (the db id is mixed in).
    t3 = tracered_server.client(db=3)
    r3 = redis_server.client(db=3)
    try:
        from conftest import Differential

        diff3 = Differential(t3, r3)
        write_strings(diff3, suffix=":db3")
        d3 = diff.digest()
        assert d3 not in (d1, d2)
        assert both(diff3, "DIGEST-VALUE", "s:int:db3") == both(diff, "DIGEST-VALUE", "s:int")
    finally:
        t3.close()
        r3.close()


def test_digest_value_ignores_key_name_but_not_ttl(diff):
    diff("SET", "a", "same")
    diff("SET", "b", "same")
    diff("SET", "c", "same", "EX", 100)
    a, b = both(diff, "DIGEST-VALUE", "a", "b", "c")
    assert a == b
    assert a[0] == a[1] != a[2]


def test_digest_counts_logically_expired_keys(diff):
    assert both(diff, "SET-ACTIVE-EXPIRE", "0") == (b"OK", b"OK")
    try:
        diff("SET", "gone", "v", "PX", 1)
        diff("SET", "stays", "v")
        time.sleep(0.05)
        d = diff.digest()
        a, b = both(diff, "DIGEST-VALUE", "gone")
        assert a == b and a != [ZERO]
        assert d != ZERO
    finally:
        both(diff, "SET-ACTIVE-EXPIRE", "1")


def test_digest_hashes_match_redis(diff):
    need_commands(diff.t, "hset")
    diff("HSET", "h:small", "f1", "v1", "f2", "2", "n", "123456789012")
    diff("HSET", "h:big", "field", "x" * 100, "f2", "y")
    diff("HSET", "h:ttl", "a", "b")
    diff("EXPIRE", "h:ttl", 100)
    assert diff("OBJECT", "ENCODING", "h:big") == b"hashtable"
    diff.digest()
    a, b = both(diff, "DIGEST-VALUE", "h:small", "h:big", "h:ttl")
    assert a == b


def test_populate_then_digest_matches_redis(diff):
    diff("SET", "key:5", "custom")
    assert both(diff, "POPULATE", "1000") == (b"OK", b"OK")
    assert diff("GET", "key:5") == b"custom"          # existing keys are skipped
    assert diff("GET", "key:999") == b"value:999"
    assert both(diff, "POPULATE", "20", "pad", "12") == (b"OK", b"OK")
    assert diff("GET", "pad:3") == b"value:3\x00\x00\x00\x00\x00"
    assert both(diff, "POPULATE", "20", "cut", "3") == (b"OK", b"OK")
    assert diff("GET", "cut:7") == b"val"
    assert diff("DBSIZE") == 1040
    diff.digest()
    # Values are strings as created, never int-encoded (no tryObjectEncoding).
    assert diff("OBJECT", "ENCODING", "key:1") == b"embstr"
    assert diff("OBJECT", "ENCODING", "pad:1") == b"embstr"


@pytest.mark.parametrize("args", [("-1",), ("abc",), ("5", "p", "-3"), ("5", "p", "x"),
                                  ("1", "2", "3", "4")])
def test_populate_errors_match_redis(diff, args):
    a, b = both(diff, "POPULATE", *args)
    assert a == b


# --------------------------------------------------------------------------------------------
# OBJECT
# --------------------------------------------------------------------------------------------

OBJECT_RE = re.compile(rb"^Value at:0x[0-9a-f]+ refcount:(\d+) encoding:(\w+) "
                       rb"serializedlength:(\d+) lru:(\d+) lru_seconds_idle:(\d+)$")

OBJECT_VALUES = [b"", b"a", b"12345", b"-1", b"1234567890123", b"99999999999999999999",
                 b"3.14", b"e" * 20, b"e" * 21, b"e" * 44, b"x" * 45, bytes(range(100)),
                 b"abc" * 1000, b"0" * 11, b"-0"]


def test_object_fields_match_redis(diff):
    for i, v in enumerate(OBJECT_VALUES):
        diff("SET", f"o:{i}", v)
    for i, v in enumerate(OBJECT_VALUES):
        a, b = both(diff, "OBJECT", f"o:{i}")
        ma, mb = OBJECT_RE.match(a), OBJECT_RE.match(b)
        assert ma and mb, (a, b)
        # refcount, encoding and serializedlength (rdbSavedObjectLen) agree.
        assert ma.group(1, 2, 3) == mb.group(1, 2, 3), (v[:30], a, b)
        assert int(ma.group(5)) < 1000


def test_object_hash_serializedlength_matches_redis(diff):
    need_commands(diff.t, "hset")
    diff("HSET", "oh:lp", "a", "1", "b", "hello", "c", "x" * 30)
    diff("HSET", "oh:ht", "f", "v" * 100, "g", "12")
    for key in ("oh:lp", "oh:ht"):
        a, b = both(diff, "OBJECT", key)
        assert OBJECT_RE.match(a).group(1, 2, 3) == OBJECT_RE.match(b).group(1, 2, 3)


def test_object_sees_expired_but_present_keys(diff):
    assert both(diff, "OBJECT", "nope") == (("error", "no such key"),) * 2
    both(diff, "SET-ACTIVE-EXPIRE", "0")
    try:
        diff("SET", "exp", "v", "PX", 1)
        time.sleep(0.05)
        a, b = both(diff, "OBJECT", "exp")
        assert OBJECT_RE.match(a) and OBJECT_RE.match(b)
    finally:
        both(diff, "SET-ACTIVE-EXPIRE", "1")


# --------------------------------------------------------------------------------------------
# HTSTATS / HTSTATS-KEY
# --------------------------------------------------------------------------------------------

def test_htstats_empty_db_exact(raws):
    t, ref = raws
    assert t.call("DEBUG", "HTSTATS", "9") == ref.call("DEBUG", "HTSTATS", "9")
    t.call("HELLO", "3")
    ref.call("HELLO", "3")
    got, want = t.call("DEBUG", "HTSTATS", "9"), ref.call("DEBUG", "HTSTATS", "9")
    assert got == want and got.startswith(b"=")


def _table_lines(text: bytes) -> list[bytes]:
    keep = (b"[", b"Hash table", b" table size", b" number of elements")
    return [ln for ln in text.split(b"\n") if ln.startswith(keep)]


def test_htstats_layout_matches_redis(diff):
    for i in range(3):
        diff("SET", f"k{i}", "v")
    diff("SET", "t", "v", "EX", 100)
    a, b = both(diff, "HTSTATS", "0")
    assert _table_lines(a) == _table_lines(b)
    assert a.startswith(b"[Dictionary HT]\nHash table 0 stats (main hash table):\n")
    assert b"\n[Expires HT]\n" in a and b" number of elements: 4\n" in a
    assert re.search(rb"\n Chain length distribution:\n(   \d+: \d+ \(\d+\.\d\d%\)\n)+\[Exp", a)
    # 7.2's FULL is accepted (7.0.15 has no short form, so the text is the same).
    assert dbg(diff.t, "HTSTATS", "0", "FULL") == a


@pytest.mark.parametrize("args", [("99",), ("-1",), ("x",), ("0", "bogus"), ()])
def test_htstats_errors_match_redis(diff, args):
    a, b = both(diff, "HTSTATS", *args)
    assert a == b


def test_htstats_key(diff):
    diff("SET", "str", "v")
    assert both(diff, "HTSTATS-KEY", "str") == (
        ("error", "The value stored at the specified key is not represented using an hash "
                  "table"),) * 2
    assert both(diff, "HTSTATS-KEY", "missing") == (("error", "no such key"),) * 2
    need_commands(diff.t, "hset")
    diff("HSET", "hk", "f", "v" * 100)
    a, b = both(diff, "HTSTATS-KEY", "hk")
    assert _table_lines(a) == _table_lines(b)
    assert b" number of elements: 1\n" in a


# --------------------------------------------------------------------------------------------
# PROTOCOL, HELP, errors
# --------------------------------------------------------------------------------------------

PROTOCOL_TYPES = ["string", "integer", "double", "bignum", "null", "array", "set", "map",
                  "attrib", "push", "verbatim", "true", "false", "nosuchtype"]


@pytest.mark.parametrize("resp", [2, 3])
def test_protocol_samples_byte_exact(raws, resp):
    t, ref = raws
    if resp == 3:
        t.call("HELLO", "3")
        ref.call("HELLO", "3")
    for name in PROTOCOL_TYPES:
        got = t.call("DEBUG", "PROTOCOL", name)
        want = ref.call("DEBUG", "PROTOCOL", name)
        if want[:1] in b"|>":  # an attribute or push comes before the real reply
            got += t.reply()
            want += ref.reply()
        assert got == want, name


def test_help_matches_redis(raws):
    t, ref = raws
    assert t.call("DEBUG", "HELP") == ref.call("DEBUG", "help")


ERROR_CASES = [
    ("object",), ("object", "a", "b"), ("nosuch",), ("digest", "x"), ("sleep",),
    ("protocol",), ("log",), ("listpack",), ("quicklist", "k", "1", "2"),
    ("set-active-expire",), ("reload", "bogus"), ("error", "MYERR custom\r\ntext"),
    ("error", "plain text"), ("quicklist-packed-threshold", "5gb"),
    ("quicklist-packed-threshold", "-1"), ("quicklist-packed-threshold", "abc"),
    ("change-repl-id", "x"), ("htstats-key",), ("replybuffer", "bogus", "1"),
]


@pytest.mark.parametrize("args", ERROR_CASES, ids=lambda a: " ".join(a))
def test_error_replies_match_redis(raws, args):
    t, ref = raws
    assert t.call("DEBUG", *args) == ref.call("DEBUG", *args)


def test_encoding_specific_subcommands(diff, tracered_server):
    diff("SET", "plain", "v")
    for sub in ("LISTPACK", "QUICKLIST"):
        a, b = both(diff, sub, "plain")
        assert a == b and a[0] == "error"
        assert both(diff, sub, "missing") == (("error", "no such key"),) * 2
    need_commands(diff.t, "hset")
    diff("HSET", "lp", "a", "1")
    assert both(diff, "LISTPACK", "lp") == (b"Listpack structure printed on stdout",) * 2
    deadline = time.time() + 5
    while "DEBUG LISTPACK lp:" not in tracered_server.log() and time.time() < deadline:
        time.sleep(0.05)
    assert "num entries 2" in tracered_server.log()


def test_small_admin_subcommands(diff, tracered_server):
    assert both(diff, "QUICKLIST-PACKED-THRESHOLD", "1mb") == (b"OK", b"OK")
    assert both(diff, "QUICKLIST-PACKED-THRESHOLD", "0") == (b"OK", b"OK")
    assert both(diff, "CHANGE-REPL-ID") == (b"OK", b"OK")
    assert both(diff, "LOG", "hello-from-test_debug") == (b"OK", b"OK")
    assert both(diff, "LEAK", "x") == (b"OK", b"OK")
    assert both(diff, "SET-SKIP-CHECKSUM-VALIDATION", "0") == (b"OK", b"OK")
    deadline = time.time() + 5
    while "DEBUG LOG: hello-from-test_debug" not in tracered_server.log():
        assert time.time() < deadline
        time.sleep(0.05)
    # Divergences kept on purpose: 7.2's STRINGMATCH-LEN name and JMAP are accepted.
    assert dbg(diff.t, "JMAP") == b"OK"
    assert dbg(diff.t, "STRINGMATCH-LEN") == b"Apparently Redis did not crash: test passed"


def test_stringmatch_test_is_bounded(r):
    t0 = time.time()
    assert dbg(r, "STRINGMATCH-TEST") == b"Apparently Redis did not crash: test passed"
    assert time.time() - t0 < 5


def test_reload(r):
    r.set("before", "reload")
    got = dbg(r, "RELOAD")
    try:
        from tracered import rdb  # noqa: F401

        has_rdb = hasattr(rdb, "rdb_save") and hasattr(rdb, "rdb_load")
    except ImportError:
        has_rdb = False
    if has_rdb:
        assert got == b"OK"
        assert r.get("before") == b"reload"
    else:
        assert got[0] == "error" and got[1].startswith("DEBUG RELOAD is not supported yet")


# --------------------------------------------------------------------------------------------
# SLEEP and SET-ACTIVE-EXPIRE
# --------------------------------------------------------------------------------------------

def test_sleep_blocks_the_whole_server(tracered_server):
    sleeper = redis.Redis(port=tracered_server.port, socket_timeout=10)
    other = redis.Redis(port=tracered_server.port, socket_timeout=10)
    try:
        other.ping()
        sleeper.ping()
        th = threading.Thread(target=lambda: sleeper.execute_command("DEBUG", "SLEEP", "0.4"))
        t0 = time.perf_counter()
        th.start()
        time.sleep(0.1)
        assert other.ping()
        waited = time.perf_counter() - t0
        th.join(5)
        assert waited >= 0.35, waited
        assert dbg(other, "SLEEP", "0") == b"OK"
        assert dbg(other, "SLEEP", "junk") == b"OK"    # strtod("junk") is 0
    finally:
        sleeper.close()
        other.close()


def test_set_active_expire_toggles_the_cycle(r):
    assert dbg(r, "SET-ACTIVE-EXPIRE", "0") == b"OK"
    try:
        r.set("ae", "v", px=30)
        time.sleep(0.5)
        # Still in the keyspace: nothing touched it and the cycle is off.
        assert OBJECT_RE.match(dbg(r, "OBJECT", "ae"))
    finally:
        assert dbg(r, "SET-ACTIVE-EXPIRE", "1") == b"OK"
    deadline = time.time() + 5
    while dbg(r, "OBJECT", "ae") != ("error", "no such key"):
        assert time.time() < deadline, "active expire did not remove the key"
        time.sleep(0.05)
