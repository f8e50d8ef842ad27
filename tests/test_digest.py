"""tracered.digest against debug.c's digest, checked on a real redis-server 7.0.

The same dataset is loaded into Redis and described as plain data; DEBUG DIGEST and
DEBUG DIGEST-VALUE must equal compute_dataset_digest / digest_value bit for bit, across encodings
(int/embstr/raw strings, listpack/quicklist lists, intset/hashtable sets, listpack/skiplist
zsets, listpack/hashtable hashes, streams), TTLs, and databases 0 and 3."""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import socket
import subprocess
import time

import pytest

from tracered.digest import (
    OBJ_TYPES,
    compute_dataset_digest,
    compute_dataset_digest_raw,
    digest_value,
    mix_digest,
    mix_string_object_digest,
    xor_digest,
    xor_object_digest,
    xor_string_object_digest,
)

ZEROS = "0" * 40
FAR_FUTURE_MS = 4102444800000  # 2100-01-01: PEXPIREAT keeps the dataset stable while testing


def _redis_server_path() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def real_redis(tmp_path_factory):
    redis = pytest.importorskip("redis")
    path = _redis_server_path()
    if path is None:
        pytest.skip("redis-server is not installed (.ci/run installs Debian's redis-server)")
    workdir = tmp_path_factory.mktemp("redis-digest")
    port = _free_port()
    proc = subprocess.Popen(
        [path, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--enable-debug-command", "yes", "--dir", str(workdir), "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, protocol=2)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield client
        client.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def _raw_command(client, db: int, *args):
    """One command on a fresh RESP2 connection, bypassing redis-py's reply callbacks (XRANGE's
    would fold repeated field names into a dict)."""
    import redis

    kwargs = client.connection_pool.connection_kwargs
    conn = redis.Connection(host=kwargs["host"], port=kwargs["port"], socket_timeout=10,
                            protocol=2, db=db)
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        conn.disconnect()


def _debug(r, *args):
    reply = r.execute_command("DEBUG", *args)
    if isinstance(reply, list):
        return [x.decode() if isinstance(x, bytes) else x for x in reply]
    return reply.decode() if isinstance(reply, bytes) else reply


# ----------------------------------------------------------------------------------------------
# the dataset: {db: {key: (type, value, expire)}}


def _dataset() -> dict[int, dict[bytes, tuple[str, object, int]]]:
    rnd = random.Random(99)
    db0: dict[bytes, tuple[str, object, int]] = {
        b"s:embstr": ("string", b"hello", -1),
        b"s:int": ("string", b"12345", -1),
        b"s:negint": ("string", b"-42", -1),
        b"s:raw": ("string", bytes(rnd.randrange(256) for _ in range(200)), -1),
        b"s:empty": ("string", b"", -1),
        b"s:ttl": ("string", b"expiring", FAR_FUTURE_MS),
        b"": ("string", b"the empty key", -1),
        b"l:small": ("list", [b"a", b"1", b"b", b"-7", b""], -1),
        b"l:big": ("list", [b"item%d" % i for i in range(300)], -1),
        b"set:int": ("set", [b"1", b"2", b"30", b"-5"], -1),
        b"set:str": ("set", [b"x", b"y", b"zz", b"12"], -1),
        b"set:big": ("set", [b"m%d" % i for i in range(600)], FAR_FUTURE_MS),
        b"z:small": ("zset", [(b"a", 1.0), (b"b", 1.1), (b"c", -3.5), (b"7", 2.0 ** 70),
                              (b"d", 1e-9), (b"e", float("inf"))], -1),
        b"z:big": ("zset", [(b"m%d" % i, i / 7) for i in range(200)] + [(b"neg0", -0.0)], -1),
        b"h:small": ("hash", [(b"f1", b"v1"), (b"f2", b"22"), (b"n", b"")], -1),
        b"h:big": ("hash", [(b"f%d" % i, b"v%d" % (i * i)) for i in range(600)], -1),
        b"x:stream": ("stream", [(1, 0, [(b"a", b"1"), (b"b", b"2")]),
                                 (1, 5, [(b"a", b"3")]),
                                 (1700000000000, 1, [(b"k", b"v"), (b"k", b"w")])], -1),
    }
    db3: dict[bytes, tuple[str, object, int]] = {
        b"s:embstr": ("string", b"hello", -1),  # same key and value as db 0, other db
        b"l:ttl": ("list", [b"z", b"y"], FAR_FUTURE_MS),
        b"z:ttl": ("zset", [(b"only", 0.5)], FAR_FUTURE_MS),
    }
    return {0: db0, 3: db3}


def _load(r, dataset) -> None:
    for db, keys in dataset.items():
        r.select(db)
        with r.pipeline(transaction=False) as p:
            for key, (type_name, value, expire) in keys.items():
                if type_name == "string":
                    p.set(key, value)
                elif type_name == "list":
                    p.rpush(key, *value)
                elif type_name == "set":
                    p.sadd(key, *value)
                elif type_name == "zset":
                    p.zadd(key, dict(value))
                elif type_name == "hash":
                    p.hset(key, mapping=dict(value))
                elif type_name == "stream":
                    for ms, seq, fields in value:
                        p.execute_command("XADD", key, f"{ms}-{seq}",
                                          *[x for pair in fields for x in pair])
                if expire != -1:
                    p.pexpireat(key, expire)
            p.execute()
    r.select(0)


def _describe(dataset):
    return [(db, [(k, t, v, e) for k, (t, v, e) in keys.items()]) for db, keys in dataset.items()]


@pytest.fixture(scope="module")
def loaded(real_redis):
    r = real_redis
    r.flushall()
    assert _debug(r, "DIGEST") == ZEROS
    dataset = _dataset()
    _load(r, dataset)
    yield r, dataset
    r.flushall()


# ----------------------------------------------------------------------------------------------


def test_empty_dataset_is_zeros():
    assert compute_dataset_digest([]) == ZEROS
    assert compute_dataset_digest([(0, []), (5, iter(()))]) == ZEROS
    assert compute_dataset_digest_raw([]) == bytes(20)


def test_encodings_cover_what_the_dataset_claims(loaded):
    r, _ = loaded
    enc = {k: r.object("encoding", k) for k in (b"s:int", b"s:embstr", b"s:raw", b"l:small",
                                                 b"l:big", b"set:int", b"set:str", b"z:small",
                                                 b"z:big", b"h:small", b"h:big")}
    enc = {k: v.decode() if isinstance(v, bytes) else v for k, v in enc.items()}
    assert enc == {b"s:int": "int", b"s:embstr": "embstr", b"s:raw": "raw",
                   b"l:small": "quicklist", b"l:big": "quicklist", b"set:int": "intset",
                   b"set:str": "hashtable", b"z:small": "listpack", b"z:big": "skiplist",
                   b"h:small": "listpack", b"h:big": "hashtable"}


def test_dataset_digest_matches_real_redis(loaded):
    r, dataset = loaded
    expected = _debug(r, "DIGEST")
    assert expected != ZEROS
    assert compute_dataset_digest(_describe(dataset)) == expected


def test_digest_value_matches_real_redis(loaded):
    r, dataset = loaded
    for db, keys in dataset.items():
        r.select(db)
        names = list(keys)
        got = _debug(r, "DIGEST-VALUE", *names)
        assert len(got) == len(names)
        for name, real in zip(names, got, strict=True):
            type_name, value, expire = keys[name]
            assert digest_value(type_name, value, expire) == real, (db, name)
    r.select(0)
    assert _debug(r, "DIGEST-VALUE", b"no-such-key") == [ZEROS]


def test_digest_from_data_read_back_over_the_wire(loaded):
    """Rebuild the plain description from what Redis replies (SCAN, TYPE, PTTL, ...)."""
    r, _ = loaded
    dbs = []
    for db in range(16):
        r.select(db)
        keys = []
        for key in r.scan_iter(count=1000):
            t = r.type(key).decode()
            if t == "string":
                v = r.get(key)
            elif t == "list":
                v = r.lrange(key, 0, -1)
            elif t == "set":
                v = r.smembers(key)
            elif t == "zset":
                v = r.zrange(key, 0, -1, withscores=True)
            elif t == "hash":
                v = r.hgetall(key)
            else:
                v = []
                for eid, fields in _raw_command(r, db, "XRANGE", key, "-", "+"):
                    ms, seq = map(int, eid.split(b"-"))
                    v.append((ms, seq, list(zip(fields[0::2], fields[1::2], strict=True))))
            expire = -1 if r.pttl(key) < 0 else FAR_FUTURE_MS
            keys.append((key, t, v, expire))
        dbs.append((db, keys))
    r.select(0)
    assert compute_dataset_digest(dbs) == _debug(r, "DIGEST")


def test_digest_tracks_changes_like_redis(loaded):
    r, dataset = loaded
    before = _debug(r, "DIGEST")
    r.select(3)
    try:
        r.persist(b"l:ttl")  # only the TTL flag changes
        changed = {db: dict(keys) for db, keys in dataset.items()}
        t, v, _ = changed[3][b"l:ttl"]
        changed[3][b"l:ttl"] = (t, v, -1)
        after = _debug(r, "DIGEST")
        assert after != before
        assert compute_dataset_digest(_describe(changed)) == after
        assert compute_dataset_digest(_describe(dataset)) == before
    finally:
        r.pexpireat(b"l:ttl", FAR_FUTURE_MS)
        r.select(0)
    assert _debug(r, "DIGEST") == before


def test_order_rules():
    dataset = _describe(_dataset())
    reference = compute_dataset_digest(dataset)
    # key order inside a db and db order do not matter
    shuffled = [(db, list(reversed(keys))) for db, keys in reversed(dataset)]
    assert compute_dataset_digest(shuffled) == reference
    # the db id matters
    moved = [(db + 1, keys) for db, keys in dataset]
    assert compute_dataset_digest(moved) != reference
    # list order matters, set/hash/zset order does not
    assert digest_value("list", [b"a", b"b"]) != digest_value("list", [b"b", b"a"])
    assert digest_value("set", [b"a", b"b"]) == digest_value("set", [b"b", b"a"])
    assert digest_value("hash", [(b"f", b"1"), (b"g", b"2")]) == \
        digest_value("hash", {b"g": b"2", b"f": b"1"})
    assert digest_value("zset", [(b"a", 1.0), (b"b", 2.0)]) == \
        digest_value("zset", [(b"b", 2.0), (b"a", 1.0)])
    # the type is part of the digest; the TTL counts only as present/absent
    assert digest_value("list", [b"x"]) != digest_value("set", [b"x"])
    assert digest_value("string", b"x", 1) == digest_value("string", b"x", FAR_FUTURE_MS)
    assert digest_value("string", b"x", 1) != digest_value("string", b"x")
    # int-encoded strings digest as their decimal bytes
    assert digest_value("string", 12345) == digest_value("string", b"12345")
    with pytest.raises(ValueError):
        digest_value("module", b"?")
    with pytest.raises(ValueError):
        digest_value("nonsense", b"?")


def test_byte_array_primitives():
    sha = hashlib.sha1
    d = bytearray(20)
    xor_digest(d, b"foo")
    assert bytes(d) == sha(b"foo").digest()
    xor_digest(d, b"foo")
    assert bytes(d) == bytes(20)  # xor cancels
    mix_digest(d, b"foo")
    assert bytes(d) == sha(sha(b"foo").digest()).digest()
    a, b = bytearray(20), bytearray(20)
    mix_digest(a, b"fo")
    mix_digest(a, b"obar")
    mix_digest(b, b"foo")
    mix_digest(b, b"bar")
    assert a != b  # mixing keeps boundaries
    s1, s2 = bytearray(20), bytearray(20)
    xor_string_object_digest(s1, 7)
    xor_digest(s2, b"7")
    assert s1 == s2
    mix_string_object_digest(s1, b"x")
    mix_digest(s2, b"x")
    assert s1 == s2
    # xor_object_digest on a zero digest is DIGEST-VALUE
    o = bytearray(20)
    xor_object_digest(o, "hash", [(b"f", b"v")], FAR_FUTURE_MS)
    assert o.hex() == digest_value("hash", [(b"f", b"v")], FAR_FUTURE_MS)
    assert OBJ_TYPES["stream"] == 6 and OBJ_TYPES["string"] == 0


def test_dataset_digest_speed_is_reasonable():
    keys = [(b"k%d" % i, "string", b"v%d" % i, -1) for i in range(20000)]
    start = time.perf_counter()
    assert len(compute_dataset_digest([(0, keys)])) == 40
    assert time.perf_counter() - start < 2.0
