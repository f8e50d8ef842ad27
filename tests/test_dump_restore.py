"""DUMP / RESTORE / RESTORE-ASKING (tracered/cluster.py) against a real redis-server 7.0.

* DUMP payloads are byte-identical to Redis's wherever the encoding is deterministic.
* Payloads cross both ways (Redis -> tracered, tracered -> Redis) for every type and
  encoding, with OBJECT ENCODING and DEBUG DIGEST-VALUE equal afterwards.
* Errors, option parsing, TTL/ABSTTL/IDLETIME/FREQ, keyspace notification, AOF
  propagation of the absolute TTL, and corrupt payloads that must not kill the server.
"""

from __future__ import annotations

import glob
import os
import random
import socket
import time

import pytest
import redis
from conftest import ServerProc

from tracered.crc64 import crc64

# (key, setup commands) with an encoding that both servers lay out the same way.
DETERMINISTIC = [
    ("int_small", [("SET", "int_small", "42")]),
    ("int_neg", [("SET", "int_neg", "-7")]),
    ("int_16", [("SET", "int_16", "30000")]),
    ("int_32", [("SET", "int_32", "-2000000000")]),
    ("int_64", [("SET", "int_64", "9000000000000000000")]),
    ("embstr", [("SET", "embstr", "hello")]),
    ("raw", [("SET", "raw", "".join(chr(33 + (i * 7) % 90) for i in range(60)))]),
    ("lzf", [("SET", "lzf", "abcabcabc" * 40)]),
    ("bin", [("SET", "bin", bytes(range(256)))]),
    ("list_small", [("RPUSH", "list_small", "a", "1", "-5", "x" * 70, "3.5")]),
    ("list_big", [("RPUSH", "list_big", *[f"item:{i}:{'z' * (i % 17)}" for i in range(900)])]),
    ("hash_lp", [("HSET", "hash_lp", "f1", "v1", "f2", "123", "f3", "x" * 40)]),
    ("zset_lp", [("ZADD", "zset_lp", "1", "a", "2.5", "b", "-3", "c", "1e10", "d",
                  "inf", "e")]),
    ("zset_sl", [("ZADD", "zset_sl", *[x for i in range(200)
                                       for x in (str(i * 0.37), f"m{i}")])]),
    ("intset16", [("SADD", "intset16", "1", "2", "3", "-100")]),
    ("intset32", [("SADD", "intset32", "1", "70000", "-5")]),
    ("intset64", [("SADD", "intset64", "1", str(2 ** 40), str(-(2 ** 50)))]),
    ("stream", [("XADD", "stream", "1-1", "f", "v"), ("XADD", "stream", "1-2", "f", "w", "g",
                                                       "1"),
                ("XADD", "stream", "5-0", "a", "b"), ("XDEL", "stream", "1-2"),
                ("XGROUP", "CREATE", "stream", "grp", "1-1")]),
]

# Hashtable encodings: iteration order follows the hash function, so bytes differ.
HASHED = [
    ("set_ht", [("SADD", "set_ht", *[f"member{i}" for i in range(20)])]),
    ("hash_ht", [("HSET", "hash_ht", *[x for i in range(200) for x in (f"f{i}", f"v{i}")])]),
    ("hash_long", [("HSET", "hash_long", "k", "v" * 100)]),
]

ALL = DETERMINISTIC + HASHED


def _setup(diff, cmds):
    for c in cmds:
        diff(*c)


def _fix_crc(body: bytes, version: int = 10) -> bytes:
    """A payload with the given value bytes and version and a correct CRC."""
    p = body + version.to_bytes(2, "little")
    return p + crc64(0, p).to_bytes(8, "little")


def _err(client, *args) -> str:
    with pytest.raises(redis.ResponseError) as ei:
        client.execute_command(*args)
    return str(ei.value)


# --------------------------------------------------------------------------------------------
# DUMP
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key,cmds", DETERMINISTIC, ids=[k for k, _ in DETERMINISTIC])
def test_dump_byte_identical(diff, key, cmds):
    _setup(diff, cmds)
    diff.encoding(key)
    payload = diff("DUMP", key)
    assert isinstance(payload, bytes) and len(payload) > 10
    assert payload[-10:-8] == b"\x0a\x00"


def test_dump_compressed_list_nodes(diff):
    for c in (diff.t, diff.ref):
        c.config_set("list-compress-depth", "1")
    try:
        diff("RPUSH", "cl", *[f"entry-{i % 50}-{'q' * 30}" for i in range(3000)])
        diff.encoding("cl")
        diff("DUMP", "cl")
    finally:
        for c in (diff.t, diff.ref):
            c.config_set("list-compress-depth", "0")


def test_dump_without_rdbcompression(diff):
    for c in (diff.t, diff.ref):
        c.config_set("rdbcompression", "no")
    try:
        diff("SET", "long", "y" * 500)
        payload = diff("DUMP", "long")
        assert b"y" * 500 in payload
    finally:
        for c in (diff.t, diff.ref):
            c.config_set("rdbcompression", "yes")
    assert b"y" * 500 not in diff("DUMP", "long")


def test_dump_missing_and_arity(diff):
    assert diff("DUMP", "nokey") is None
    diff("DUMP")
    diff("DUMP", "a", "b")


# --------------------------------------------------------------------------------------------
# RESTORE across servers
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("key,cmds", ALL, ids=[k for k, _ in ALL])
def test_restore_crosses_both_ways(diff, r, rr, key, cmds):
    _setup(diff, cmds)
    from_redis = rr.dump(key)
    from_tracered = r.dump(key)
    assert r.restore("copy", 0, from_redis) == b"OK"
    assert rr.restore("copy", 0, from_tracered) == b"OK"
    diff.encoding("copy")
    diff("TYPE", "copy")
    for c in (r, rr):
        assert c.execute_command("DEBUG", "DIGEST-VALUE", "copy") == \
            c.execute_command("DEBUG", "DIGEST-VALUE", key)
    diff("DEBUG", "DIGEST-VALUE", "copy")
    diff.digest()


def test_restore_converts_like_redis(diff, r, rr):
    """A listpack payload bigger than this server's limits converts on load."""
    diff("HSET", "h", *[x for i in range(50) for x in (f"f{i}", str(i))])
    payload = rr.dump("h")
    for c in (r, rr):
        c.config_set("hash-max-listpack-entries", "10")
    try:
        diff("RESTORE", "h2", "0", payload)
        assert diff.encoding("h2") == b"hashtable"
        diff("DEBUG", "DIGEST-VALUE", "h2")
    finally:
        for c in (r, rr):
            c.config_set("hash-max-listpack-entries", "128")


# --------------------------------------------------------------------------------------------
# Errors and options, compared with Redis
# --------------------------------------------------------------------------------------------

def test_restore_errors_match_redis(diff, rr):
    diff("SET", "k", "v")
    good = rr.dump("k")
    diff("RESTORE", "k", "0", good)                      # BUSYKEY
    diff("RESTORE", "k", "0", b"garbage")                # BUSYKEY comes first
    diff("RESTORE", "n", "abc", good)
    diff("RESTORE", "n", "-1", good)
    diff("RESTORE", "n", "0", b"short")
    diff("RESTORE", "n", "0", good[:-1] + bytes([good[-1] ^ 1]))
    diff("RESTORE", "n", "0", _fix_crc(good[:-10], 11))  # newer RDB version
    diff("RESTORE", "n", "0", _fix_crc(good[:-10], 9))   # older version: fine
    diff("RESTORE", "n2", "0", _fix_crc(b"\x63" + good[1:-10]))  # not an object type
    diff("RESTORE", "n2", "0", _fix_crc(b"\x00\x40"))     # truncated string
    diff("RESTORE", "n2", "0", _fix_crc(b"\x02\x00"))     # empty set
    diff("RESTORE", "n3", "0", good, "BOGUS")
    diff("RESTORE", "n3", "0", good, "IDLETIME")
    diff("RESTORE", "n3", "0", good, "IDLETIME", "-1")
    diff("RESTORE", "n3", "0", good, "IDLETIME", "x")
    diff("RESTORE", "n3", "0", good, "FREQ", "256")
    diff("RESTORE", "n3", "0", good, "FREQ", "-1")
    diff("RESTORE", "n3", "0", good, "FREQ", "1", "IDLETIME", "5")
    diff("RESTORE", "n3", "0", good, "IDLETIME", "5", "FREQ", "1")
    diff("RESTORE", "n3", "0", good, "replace", "absttl", "idletime", "5")
    diff("RESTORE", "n3")
    diff("RESTORE-ASKING", "n4", "0", good)
    diff("RESTORE-ASKING", "n4", "0", good)
    assert sorted(diff.t.keys()) == sorted(diff.ref.keys()) == [b"k", b"n", b"n3", b"n4"]
    diff("GET", "n")


def test_restore_replace(diff, rr):
    diff("RPUSH", "src", "a", "b")
    payload = rr.dump("src")
    diff("SET", "dst", "old", "EX", "100")
    diff("RESTORE", "dst", "0", payload, "REPLACE")
    diff("LRANGE", "dst", "0", "-1")
    diff("TTL", "dst")
    diff("OBJECT", "ENCODING", "dst")


def test_restore_ttl(diff, r, rr):
    diff("SET", "src", "v")
    payload = rr.dump("src")
    diff("RESTORE", "rel", "100000", payload)
    for c in (r, rr):
        assert 99000 <= c.pttl("rel") <= 100000
    future = int(time.time() * 1000) + 60000
    diff("RESTORE", "abs", str(future), payload, "ABSTTL")
    diff("PEXPIRETIME", "abs")
    past = int(time.time() * 1000) - 1000
    diff("RESTORE", "gone", str(past), payload, "ABSTTL")
    diff("EXISTS", "gone")
    diff("SET", "old", "x")
    diff("RESTORE", "old", str(past), payload, "ABSTTL", "REPLACE")
    diff("EXISTS", "old")
    diff("RESTORE", "zero", "0", payload)
    diff("TTL", "zero")


def test_restore_idletime_and_freq(diff, r, rr):
    diff("SET", "src", "some value")
    payload = rr.dump("src")
    diff("RESTORE", "idle", "0", payload, "IDLETIME", "1000")
    for c in (r, rr):
        assert 1000 <= c.object("idletime", "idle") <= 1003
    for c in (r, rr):
        c.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        diff("RESTORE", "hot", "0", payload, "FREQ", "100")
        diff("OBJECT", "FREQ", "hot")
    finally:
        for c in (r, rr):
            c.config_set("maxmemory-policy", "noeviction")


@pytest.mark.parametrize("mode", ["yes", "clients"])
def test_sanitize_payload_rejects_duplicates(diff, rr, mode):
    diff("HSET", "h", "aa", "1", "bb", "2")
    body = rr.dump("h")[:-10]
    assert body.count(b"bb") == 1
    bad = _fix_crc(body.replace(b"bb", b"aa"))
    for c in (diff.t, diff.ref):
        c.config_set("sanitize-dump-payload", mode)
    try:
        diff("RESTORE", "dup", "0", bad)
        diff("EXISTS", "dup")
    finally:
        for c in (diff.t, diff.ref):
            c.config_set("sanitize-dump-payload", "no")


def test_skip_checksum_validation(diff, rr):
    diff("SET", "k", "v")
    payload = rr.dump("k")
    bad = payload[:-8] + b"\x00" * 8
    diff("RESTORE", "x", "0", bad)
    for c in (diff.t, diff.ref):
        c.execute_command("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "1")
    try:
        diff("RESTORE", "x", "0", bad)
        diff("GET", "x")
    finally:
        for c in (diff.t, diff.ref):
            c.execute_command("DEBUG", "SET-SKIP-CHECKSUM-VALIDATION", "0")


# --------------------------------------------------------------------------------------------
# Side effects: notification, propagation
# --------------------------------------------------------------------------------------------

def test_restore_notifies(r):
    r.set("src", "v")
    payload = r.dump("src")
    r.config_set("notify-keyspace-events", "KEg")
    p = r.pubsub()
    try:
        p.subscribe("__keyevent@0__:restore")
        assert p.get_message(timeout=2)["type"] == "subscribe"
        r.restore("dst", 0, payload)
        msg = p.get_message(timeout=2)
        assert msg is not None and msg["data"] == b"dst"
    finally:
        p.close()
        r.config_set("notify-keyspace-events", "")


def test_restore_propagates_absolute_ttl_to_aof():
    sp = ServerProc.start_tracered("--appendonly", "yes", "--appendfsync", "always")
    try:
        c = sp.client()
        c.set("src", "v")
        payload = c.dump("src")
        before = int(time.time() * 1000)
        assert c.restore("dst", 50000, payload) == b"OK"
        c.set("old", "x")
        c.restore("old", 1, payload, replace=True, absttl=True)   # already expired: DEL
        c.close()
        deadline = time.time() + 5
        data = b""
        while time.time() < deadline:
            data = b"".join(open(f, "rb").read() for f in
                            glob.glob(os.path.join(sp.workdir, "**", "*.aof"), recursive=True))
            if b"DEL" in data:
                break
            time.sleep(0.05)
        assert b"ABSTTL" in data and b"restore" in data.lower()
        i = data.index(b"$3\r\ndst\r\n") + len(b"$3\r\ndst\r\n")
        ttl = int(data[i:].split(b"\r\n")[1])
        assert before + 50000 <= ttl <= int(time.time() * 1000) + 50000
        assert b"*2\r\n$3\r\nDEL\r\n$3\r\nold\r\n" in data
    finally:
        sp.stop()


# --------------------------------------------------------------------------------------------
# Corrupt payloads must not take the server down
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("sanitize", ["no", "yes"])
def test_corrupt_payloads_keep_server_alive(r, tracered_server, sanitize):
    rng = random.Random(7)
    for _key, cmds in ALL:
        for c in cmds:
            r.execute_command(*c)
    bodies = [r.dump(k)[:-10] for k, _ in ALL]
    r.config_set("sanitize-dump-payload", sanitize)
    try:
        outcomes = set()
        for n in range(300):
            body = bytearray(rng.choice(bodies))
            if n % 3 == 0:
                body = body[:rng.randrange(1, len(body))]
            else:
                for _ in range(rng.randint(1, 4)):
                    body[rng.randrange(len(body))] = rng.randrange(256)
            try:
                r.restore(f"fz{n}", 0, _fix_crc(bytes(body)), replace=True)
                outcomes.add("ok")
            except redis.ResponseError as e:
                assert str(e) == "Bad data format", str(e)
                outcomes.add("bad")
            assert tracered_server.alive()
        assert "bad" in outcomes
        assert r.ping() is True
        r.set("after", "fine")
        assert r.get("after") == b"fine"
    finally:
        r.config_set("sanitize-dump-payload", "no")


# --------------------------------------------------------------------------------------------
# MIGRATE
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def target():
    """A third server (real Redis) that both sources migrate to."""
    sp = ServerProc.start_redis()
    yield sp
    sp.stop()


@pytest.fixture
def tc(target):
    c = target.client()
    c.flushall()
    yield c
    c.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_migrate_errors_match_redis(diff, target, tc):
    p = str(target.port)
    dead = str(_closed_port())
    diff("MIGRATE", "127.0.0.1", dead, "k", "0", "1000")            # NOKEY first
    diff("SET", "k", "v")
    diff("MIGRATE", "127.0.0.1", dead, "k", "0", "1000")            # IOERR connecting
    diff("MIGRATE", "127.0.0.1", p, "k", "0", "1000", "BOGUS")
    diff("MIGRATE", "127.0.0.1", p, "k", "0", "1000", "AUTH")
    diff("MIGRATE", "127.0.0.1", p, "k", "0", "1000", "AUTH2", "u")
    diff("MIGRATE", "127.0.0.1", p, "k", "0", "1000", "KEYS", "k")
    diff("MIGRATE", "127.0.0.1", p, "k", "0", "x")
    diff("MIGRATE", "127.0.0.1", p, "k", "y", "1000")
    diff("MIGRATE", "127.0.0.1", p, "", "0", "1000", "KEYS", "nope1", "nope2")
    diff("MIGRATE", "127.0.0.1", p, "k", "0", "1000", "AUTH", "pw")  # target has no password
    diff("MIGRATE", "127.0.0.1", p, "k", "0")
    diff("GET", "k")
    # The failed AUTH does not stop the pipelined RESTORE: the target got a copy, yet the
    # source keeps its key because the reply reports the AUTH error (as in Redis).
    assert tc.keys() == [b"k"]
    for args in (("h", "1", "", "0", "5", "AUTH", "keys", "KEYS", "a", "b"),
                 ("h", "1", "key", "0", "5", "COPY"),
                 ("h", "1", "", "0", "5", "AUTH2", "u", "p", "KEYS", "x")):
        got = diff.t.command_getkeys("MIGRATE", *args)
        assert got == diff.ref.command_getkeys("MIGRATE", *args), args
        assert got


def test_migrate_busykey_and_replace(diff, r, rr, target, tc):
    p = str(target.port)
    diff("SET", "k", "mine")
    tc.set("k", "theirs")
    diff("MIGRATE", "127.0.0.1", p, "k", "0", "1000")                # BUSYKEY from target
    diff("MIGRATE", "127.0.0.1", p, "k", "0", "1000", "COPY", "REPLACE")
    diff("GET", "k")
    assert tc.get("k") == b"mine"
    diff("MIGRATE", "127.0.0.1", p, "k", "0", "1000", "REPLACE")
    diff("EXISTS", "k")


def test_migrate_moves_keys_between_dbs(r, target, tc):
    p = target.port
    for _key, cmds in ALL:
        for c in cmds:
            r.execute_command(*c)
    r.expire("embstr", 1000)
    digests = {k: r.execute_command("DEBUG", "DIGEST-VALUE", k) for k, _ in ALL}
    keys = [k for k, _ in ALL]
    half = len(keys) // 2
    assert r.execute_command("MIGRATE", "127.0.0.1", p, "", 3, 2000, "KEYS",
                             *keys[:half], "missing") == b"OK"
    assert r.execute_command("MIGRATE", "127.0.0.1", p, "", 5, 2000, "COPY", "KEYS",
                             *keys[half:]) == b"OK"
    assert r.execute_command("MIGRATE", "127.0.0.1", p, keys[half], 3, 2000) == b"OK"
    assert r.dbsize() == len(keys) - half - 1
    t3 = target.client(db=3)
    t5 = target.client(db=5)
    try:
        for i, k in enumerate(keys):
            tgt = t3 if i <= half else t5
            assert tgt.execute_command("DEBUG", "DIGEST-VALUE", k) == digests[k], k
            assert tgt.object("encoding", k) is not None
        assert 990 <= t3.ttl("embstr") <= 1000
        assert t3.ttl("int_small") == -1
        assert t5.exists(keys[half]) == 1   # the COPY left it in db 5 too
    finally:
        t3.close()
        t5.close()


def test_migrate_redis_to_tracered(r, rr, tracered_server):
    rr.hset("h", mapping={"a": "1", "b": "2"})
    rr.zadd("z", {f"m{i}": i for i in range(300)})
    rr.set("s", "x" * 300, px=50000)
    want = {k: rr.execute_command("DEBUG", "DIGEST-VALUE", k) for k in ("h", "z", "s")}
    assert rr.execute_command("MIGRATE", "127.0.0.1", tracered_server.port, "", 0, 2000,
                              "KEYS", "h", "z", "s") == b"OK"
    assert rr.dbsize() == 0
    for k, d in want.items():
        assert r.execute_command("DEBUG", "DIGEST-VALUE", k) == d
    assert r.object("encoding", "z") == b"skiplist"
    assert 49000 < r.pttl("s") <= 50000


def test_migrate_auth_to_tracered_target(diff, r, rr):
    sp = ServerProc.start_tracered("--requirepass", "sekret")
    try:
        p = str(sp.port)
        diff("SET", "a", "1")
        diff("SET", "b", "2")
        diff("MIGRATE", "127.0.0.1", p, "a", "0", "1000")                  # NOAUTH
        diff("MIGRATE", "127.0.0.1", p, "a", "0", "1000", "AUTH", "wrong")  # WRONGPASS
        assert r.execute_command("MIGRATE", "127.0.0.1", p, "a", 0, 1000, "AUTH",
                                 "sekret") == b"OK"
        assert r.execute_command("MIGRATE", "127.0.0.1", p, "b", 1, 1000, "AUTH2", "default",
                                 "sekret") == b"OK"
        t = sp.client(password="sekret")
        assert t.get("a") == b"1" and t.execute_command("SELECT", 1) and t.get("b") == b"2"
        t.close()
        # The password never shows in SLOWLOG (redactClientCommandArgument).
        r.config_set("slowlog-log-slower-than", "0")
        r.set("c", "3")
        r.execute_command("MIGRATE", "127.0.0.1", p, "c", 0, 1000, "AUTH", "sekret")
        entries = r.slowlog_get(5)
        r.config_set("slowlog-log-slower-than", "10000")
        mig = [e for e in entries if b"MIGRATE" in e["command"].upper()]
        assert mig and b"sekret" not in mig[0]["command"]
    finally:
        sp.stop()


def test_migrate_retries_after_target_restart(r):
    sp = ServerProc.start_redis()
    port = sp.port
    try:
        r.set("a", "1")
        r.set("b", "2")
        assert r.execute_command("MIGRATE", "127.0.0.1", port, "a", 0, 1000) == b"OK"
        sp.stop()
        sp = ServerProc.start_redis(port=port)
        # The cached connection is dead: one silent retry on a new one.
        assert r.execute_command("MIGRATE", "127.0.0.1", port, "b", 0, 1000) == b"OK"
        assert sp.client().get("b") == b"2"
    finally:
        sp.stop()


def test_migrate_timeout_reading(diff):
    """A target that accepts but never answers: both servers give the same IOERR."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)
    try:
        diff("SET", "k", "v")
        diff("MIGRATE", "127.0.0.1", str(lsock.getsockname()[1]), "k", "0", "200")
        diff("EXISTS", "k")
    finally:
        lsock.close()


def test_migrate_propagates_del(redis_server):
    sp = ServerProc.start_tracered("--appendonly", "yes", "--appendfsync", "always")
    try:
        tgt = redis_server.client()
        tgt.flushall()
        c = sp.client()
        c.mset({"m1": "1", "m2": "2", "m3": "3"})
        assert c.execute_command("MIGRATE", "127.0.0.1", redis_server.port, "", 0, 1000,
                                 "KEYS", "m1", "m2", "zz") == b"OK"
        c.close()
        deadline = time.time() + 5
        data = b""
        while time.time() < deadline:
            data = b"".join(open(f, "rb").read() for f in
                            glob.glob(os.path.join(sp.workdir, "**", "*.aof"), recursive=True))
            if b"DEL" in data:
                break
            time.sleep(0.05)
        assert b"*3\r\n$3\r\nDEL\r\n$2\r\nm1\r\n$2\r\nm2\r\n" in data
        assert b"MIGRATE" not in data.upper()
        assert tgt.mget("m1", "m2", "m3") == [b"1", b"2", None]
        tgt.close()
    finally:
        sp.stop()


@pytest.mark.parametrize("name", ["dump", "restore", "restore-asking", "migrate"])
def test_command_info_matches_redis(diff, name):
    diff("COMMAND", "INFO", name)
