"""Keyspace commands of db.c over TCP: DEL UNLINK EXISTS TYPE KEYS SCAN RANDOMKEY RENAME
RENAMENX MOVE COPY DBSIZE FLUSHDB FLUSHALL SWAPDB, with exact replies and errors.

SCAN's guarantee (every key present for the whole walk is returned) is checked while the
keyspace dict grows and shrinks between calls, i.e. while it is rehashing.
"""

from __future__ import annotations

import socket
import time

import pytest
import redis


def raw(port: int, payload: bytes, expect_lines: int = 1, timeout: float = 5.0) -> bytes:
    """Send raw RESP and read until ``expect_lines`` CRLF-terminated lines arrived."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        buf = b""
        while buf.count(b"\r\n") < expect_lines:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf


def err(r: redis.Redis, *args) -> str:
    with pytest.raises(redis.ResponseError) as ei:
        r.execute_command(*args)
    return str(ei.value)


# --------------------------------------------------------------------------------------------
# DEL / UNLINK / EXISTS / TYPE / DBSIZE
# --------------------------------------------------------------------------------------------

def test_del_unlink_exists(r):
    r.mset({"a": "1", "b": "2", "c": "3"})
    assert r.exists("a", "a", "b", "zz") == 3  # a key named twice counts twice
    assert r.delete("a", "zz") == 1
    assert r.execute_command("UNLINK", "b", "c", "c") == 2
    assert r.exists("a", "b", "c") == 0
    assert r.dbsize() == 0
    assert "wrong number of arguments for 'del'" in err(r, "DEL")


def test_del_expired_key_counts_zero(r):
    r.set("x", "v", px=30)
    time.sleep(0.08)
    assert r.delete("x") == 0


def test_type(r):
    r.set("s", "v")
    assert r.type("s") == b"string"
    assert r.type("nope") == b"none"
    r.hset("h", "f", "v")
    assert r.type("h") == b"hash"
    r.sadd("st", "m")
    assert r.type("st") == b"set"


def test_dbsize_and_select(r):
    assert r.dbsize() == 0
    r.mset({f"k{i}": i for i in range(25)})
    assert r.dbsize() == 25


# --------------------------------------------------------------------------------------------
# KEYS
# --------------------------------------------------------------------------------------------

def test_keys_patterns(r):
    r.mset({"foo": 1, "foobar": 2, "bar": 3, "f[o]": 4, "": 5})
    assert sorted(r.keys("*")) == sorted([b"foo", b"foobar", b"bar", b"f[o]", b""])
    assert sorted(r.keys("foo*")) == [b"foo", b"foobar"]
    assert sorted(r.keys("?oo")) == [b"foo"]
    assert sorted(r.keys("f\\[o\\]")) == [b"f[o]"]
    assert sorted(r.keys("[bf]*r")) == [b"bar", b"foobar"]
    assert r.keys("nomatch*") == []


def test_keys_skips_expired_without_deleting(r):
    r.set("live", 1)
    r.set("dead", 1, px=20)
    time.sleep(0.06)
    assert r.keys("*") == [b"live"]
    # KEYS does not delete: the expired key is still counted by DBSIZE until touched.
    assert r.dbsize() in (1, 2)


def test_keys_pathological_pattern_is_bounded(r):
    r.set("a" * 3000, 1)
    pat = "a*" * 40 + "b"
    t0 = time.monotonic()
    assert r.keys(pat) == []
    assert time.monotonic() - t0 < 2.0


# --------------------------------------------------------------------------------------------
# SCAN
# --------------------------------------------------------------------------------------------

def full_scan(r, **kw) -> list[bytes]:
    out = []
    cursor = 0
    for _ in range(100000):
        cursor, keys = r.scan(cursor, **kw)
        out.extend(keys)
        if cursor == 0:
            return out
    raise AssertionError("SCAN did not terminate")


def test_scan_basic_and_options(r):
    r.mset({f"key:{i}": i for i in range(300)})
    r.mset({f"other:{i}": i for i in range(50)})
    r.hset("ahash", "f", "v")
    got = full_scan(r, count=17)
    assert set(got) == {f"key:{i}".encode() for i in range(300)} | \
        {f"other:{i}".encode() for i in range(50)} | {b"ahash"}
    got = full_scan(r, match="other:*", count=100)
    assert set(got) == {f"other:{i}".encode() for i in range(50)}
    assert full_scan(r, _type="hash") == [b"ahash"]
    assert full_scan(r, _type="HASH") == [b"ahash"]  # type names compare case-insensitively
    assert full_scan(r, _type="list") == []
    # MATCH * is the same as no pattern.
    assert len(set(full_scan(r, match="*"))) == 351


def test_scan_cursor_parsing(r):
    r.set("k", 1)
    # strtoul rules: "" is 0, a sign and leading zeros are fine, "-N" wraps around.
    for ok in ("", "+0", "00", "-0", "-18446744073709551616"[:0]):
        assert r.execute_command("SCAN", ok) == (0, [b"k"]), ok
    assert r.execute_command("SCAN", "-18446744073709551615")[0] >= 0
    for bad in (" 1", "1 ", "abc", "18446744073709551616", "-18446744073709551616", "-",
                "+", "0x10"):
        assert err(r, "SCAN", bad) == "invalid cursor", bad


def test_scan_errors(r):
    assert err(r, "SCAN", "0", "COUNT", "0") == "syntax error"
    assert err(r, "SCAN", "0", "COUNT", "-1") == "syntax error"
    assert err(r, "SCAN", "0", "COUNT", "x") == "value is not an integer or out of range"
    assert err(r, "SCAN", "0", "TYPE") == "syntax error"
    assert err(r, "SCAN", "0", "MATCH") == "syntax error"
    assert err(r, "SCAN", "0", "FOO", "bar") == "syntax error"


def test_scan_skips_expired_keys(r):
    r.set("live", 1)
    for i in range(20):
        r.set(f"dead{i}", 1, px=50)
    time.sleep(0.2)
    assert full_scan(r) == [b"live"]
    assert r.dbsize() == 1  # SCAN's filter deletes the expired keys it meets


def test_scan_complete_while_dict_grows(r):
    """Keys present for the whole walk are all returned while new keys make the table
    expand and rehash between SCAN calls."""
    original = {f"orig:{i}".encode() for i in range(1000)}
    r.mset({k: 1 for k in original})
    seen: set[bytes] = set()
    cursor = 0
    added = 0
    calls = 0
    rehash_seen = False
    debug_ok = True
    while True:
        cursor, keys = r.scan(cursor, count=25)
        seen.update(keys)
        calls += 1
        r.mset({f"new:{added + j}": 1 for j in range(60)})
        added += 60
        if debug_ok:
            try:
                st = r.execute_command("DEBUG", "HTSTATS", "0")
                if b"rehashing" in st.lower() if isinstance(st, bytes) else "rehash" in st:
                    rehash_seen = True
            except redis.ResponseError:
                debug_ok = False
        if cursor == 0:
            break
        assert calls < 5000
    assert original <= seen
    assert added >= 1000  # the table at least doubled during the walk
    if debug_ok:
        assert rehash_seen


def test_scan_complete_while_dict_shrinks(r):
    stay = {f"stay:{i}".encode() for i in range(200)}
    doomed = [f"gone:{i}" for i in range(3000)]
    r.mset({k: 1 for k in stay})
    for i in range(0, len(doomed), 500):
        r.mset({k: 1 for k in doomed[i:i + 500]})
    seen: set[bytes] = set()
    cursor = 0
    pos = 0
    while True:
        cursor, keys = r.scan(cursor, count=50)
        seen.update(keys)
        if pos < len(doomed):
            r.delete(*doomed[pos:pos + 300])
            pos += 300
            time.sleep(0.02)  # let serverCron shrink the table and rehash
        if cursor == 0:
            break
    assert stay <= seen


def test_scan_count_bounds_work(r):
    r.mset({f"k{i}": 1 for i in range(2000)})
    cursor, keys = r.scan(0, count=10)
    # COUNT is a hint: one bucket may hold a few keys more.
    assert 1 <= len(keys) <= 40 and cursor != 0


# --------------------------------------------------------------------------------------------
# RANDOMKEY
# --------------------------------------------------------------------------------------------

def test_randomkey(r):
    assert r.randomkey() is None
    r.mset({"a": 1, "b": 2, "c": 3})
    got = {r.randomkey() for _ in range(60)}
    assert got == {b"a", b"b", b"c"}


def test_randomkey_skips_expired(r):
    for i in range(30):
        r.set(f"dead{i}", 1, px=20)
    r.set("live", 1)
    time.sleep(0.06)
    for _ in range(5):
        assert r.randomkey() == b"live"
    r.delete("live")
    for i in range(5):
        r.set(f"x{i}", 1, px=20)
    time.sleep(0.06)
    assert r.randomkey() is None  # all volatile and all expired: deleted one by one


# --------------------------------------------------------------------------------------------
# RENAME / RENAMENX
# --------------------------------------------------------------------------------------------

def test_rename(r):
    assert err(r, "RENAME", "nokey", "x") == "no such key"
    assert err(r, "RENAMENX", "nokey", "x") == "no such key"
    r.set("a", "va")
    assert r.rename("a", "a") is True           # same key: no-op, OK
    assert r.renamenx("a", "a") is False        # same key: 0
    r.set("b", "vb")
    assert r.rename("a", "b") is True
    assert r.get("b") == b"va" and r.exists("a") == 0
    r.set("c", "vc")
    assert r.renamenx("b", "c") is False
    assert r.renamenx("b", "d") is True
    assert r.get("d") == b"va"


def test_rename_keeps_ttl_and_drops_destination_ttl(r):
    r.set("src", 1)
    r.pexpire("src", 100000)
    r.set("dst", 2)
    r.expire("dst", 50)
    r.rename("src", "dst")
    assert 99000 < r.pttl("dst") <= 100000
    r.set("p", 1)
    r.set("q", 2, ex=100)
    r.rename("p", "q")
    assert r.ttl("q") == -1  # the destination's old TTL went with its old value


# --------------------------------------------------------------------------------------------
# MOVE / COPY / SWAPDB
# --------------------------------------------------------------------------------------------

def test_move(tracered_server, r):
    r.set("k", "v", ex=100)
    assert r.move("k", 1) is True
    assert r.exists("k") == 0
    r1 = tracered_server.client(db=1)
    try:
        assert r1.get("k") == b"v"
        assert 0 < r1.ttl("k") <= 100
        r.set("k", "other")
        assert r.move("k", 1) is False           # exists in target
        assert r.move("nokey", 1) is False
        assert err(r, "MOVE", "k", "0") == "source and destination objects are the same"
        assert err(r, "MOVE", "k", "16") == "DB index is out of range"
        assert err(r, "MOVE", "k", "-1") == "DB index is out of range"
        assert err(r, "MOVE", "k", "x") == "value is not an integer or out of range"
        assert err(r, "MOVE", "k", "4294967296") == \
            "value is out of range, value must between -2147483648 and 2147483647"
    finally:
        r1.flushdb()
        r1.close()


def test_copy(tracered_server, r):
    r.set("s", "hello", ex=100)
    assert r.copy("s", "d") is True
    assert r.get("d") == b"hello" and 0 < r.ttl("d") <= 100
    assert r.copy("s", "d") is False
    r.set("s", "new")
    assert r.copy("s", "d", replace=True) is True
    assert r.get("d") == b"new" and r.ttl("d") == -1
    assert r.copy("nokey", "x") is False
    assert err(r, "COPY", "s", "s") == "source and destination objects are the same"
    assert err(r, "COPY", "s", "x", "FOO") == "syntax error"
    assert err(r, "COPY", "s", "x", "DB") == "syntax error"
    assert err(r, "COPY", "s", "x", "DB", "99") == "DB index is out of range"
    assert err(r, "COPY", "s", "x", "DB", "y") == "value is not an integer or out of range"
    assert r.copy("s", "s", destination_db=2) is True
    r2 = tracered_server.client(db=2)
    try:
        assert r2.get("s") == b"new"
    finally:
        r2.flushdb()
        r2.close()
    # A copy is deep: changing it leaves the source alone.
    r.hset("h", mapping={"a": "1", "b": "2"})
    r.copy("h", "h2")
    r.hset("h2", "a", "changed")
    assert r.hget("h", "a") == b"1"
    # A shared small integer is copied into a private object (refcount 1), like Redis.
    r.set("n", 7)
    r.copy("n", "n2")
    assert r.object("refcount", "n2") == 1
    assert r.object("encoding", "n2") == b"int"


def test_swapdb(tracered_server, r):
    r1 = tracered_server.client(db=1)
    try:
        r.set("in0", "zero", ex=100)
        r1.set("in1", "one")
        assert r.swapdb(0, 1) is True
        assert r.get("in1") == b"one" and r.exists("in0") == 0
        assert r1.get("in0") == b"zero" and 0 < r1.ttl("in0") <= 100
        assert r.swapdb(1, 1) is True
        assert err(r, "SWAPDB", "0", "16") == "DB index is out of range"
        assert err(r, "SWAPDB", "x", "1") == "invalid first DB index"
        assert err(r, "SWAPDB", "0", "x") == "invalid second DB index"
        assert err(r, "SWAPDB", "0", "99999999999") == "invalid second DB index"
    finally:
        r1.flushdb()
        r1.close()


# --------------------------------------------------------------------------------------------
# FLUSHDB / FLUSHALL
# --------------------------------------------------------------------------------------------

def test_flush(tracered_server, r):
    r1 = tracered_server.client(db=1)
    try:
        r.set("a", 1)
        r1.set("b", 1)
        assert r.flushdb() is True
        assert r.dbsize() == 0 and r1.dbsize() == 1
        r.set("a", 1)
        assert r.execute_command("FLUSHDB", "ASYNC") is True
        assert r.dbsize() == 0
        assert r.execute_command("FLUSHALL", "sync") is True
        assert r1.dbsize() == 0
        assert err(r, "FLUSHDB", "FOO") == "syntax error"
        assert err(r, "FLUSHALL", "ASYNC", "SYNC") == "syntax error"
    finally:
        r1.close()


def test_flushall_keeps_working_after_expires(r):
    r.set("v", 1, ex=100)
    r.flushall()
    assert r.ttl("v") == -2
    r.set("v", 1)
    assert r.ttl("v") == -1


# --------------------------------------------------------------------------------------------
# Wire format
# --------------------------------------------------------------------------------------------

def test_wire_bytes(tracered_server, r):
    port = tracered_server.port
    r.set("k", "v")
    assert raw(port, b"TYPE k\r\n") == b"+string\r\n"
    assert raw(port, b"TYPE nokey\r\n") == b"+none\r\n"
    assert raw(port, b"DEL nokey\r\n") == b":0\r\n"
    assert raw(port, b"RENAME nokey x\r\n") == b"-ERR no such key\r\n"
    assert raw(port, b"MOVE k 99\r\n") == b"-ERR DB index is out of range\r\n"
    assert raw(port, b"RANDOMKEY\r\n") == b"$1\r\nk\r\n"
    assert raw(port, b"SCAN 0 MATCH k\r\n", 4) == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\nk\r\n"
    r.delete("k")
    assert raw(port, b"RANDOMKEY\r\n") == b"$-1\r\n"
    assert raw(port, b"HELLO 3\r\nRANDOMKEY\r\n", 16).endswith(b"_\r\n")


def test_commands_are_registered(r):
    info = r.execute_command("COMMAND", "INFO", "scan", "copy", "flushall")
    assert {"scan", "copy", "flushall"} <= {str(k) for k in info}
