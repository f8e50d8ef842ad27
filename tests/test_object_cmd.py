"""OBJECT and MEMORY over TCP, plus the jemalloc size arithmetic MEMORY USAGE relies on."""

from __future__ import annotations

import socket
import time

import pytest
import redis

from tests.conftest import ServerProc
from tracered import object_cmd


def err(r: redis.Redis, *args) -> str:
    with pytest.raises(redis.ResponseError) as ei:
        r.execute_command(*args)
    return str(ei.value)


def raw(port: int, payload: bytes, done, timeout: float = 5.0) -> bytes:
    """Send raw RESP; read until ``done(buffer)`` is true."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        buf = b""
        while not done(buf):
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf


# --------------------------------------------------------------------------------------------
# Size arithmetic (no server)
# --------------------------------------------------------------------------------------------

def test_zmalloc_size_classes():
    z = object_cmd.zmalloc_size
    assert [z(n) for n in (1, 8, 9, 16, 17, 48, 112, 128)] == [8, 8, 16, 16, 32, 48, 112, 128]
    assert [z(n) for n in (129, 160, 161, 192, 224, 225, 256)] == \
        [160, 160, 192, 192, 224, 256, 256]
    assert [z(n) for n in (257, 320, 321, 512, 513, 4096, 4097, 16385)] == \
        [320, 320, 384, 512, 640, 4096, 5120, 20480]


def test_sds_sizes():
    s = object_cmd.sds_zmalloc_size
    assert s(0) == 8      # empty sds gets an sdshdr8: 3 + 0 + 1
    assert s(3) == 8      # sdshdr5: 1 + 3 + 1
    assert s(31) == 48    # 1 + 31 + 1 = 33
    assert s(32) == 48    # sdshdr8: 3 + 32 + 1 = 36
    assert s(300) == 320  # sdshdr16: 5 + 300 + 1


# --------------------------------------------------------------------------------------------
# OBJECT
# --------------------------------------------------------------------------------------------

def test_object_encoding_refcount(r):
    r.set("int", 12345)
    r.set("shared", 7)
    r.set("emb", "hello")
    r.set("raw", "x" * 100)
    assert r.object("encoding", "int") == b"int"
    assert r.object("encoding", "emb") == b"embstr"
    assert r.object("encoding", "raw") == b"raw"
    assert r.object("encoding", "nokey") is None
    assert r.object("refcount", "int") == 1
    assert r.object("refcount", "shared") == 2147483647
    assert r.object("refcount", "nokey") is None
    r.hset("h", "f", "v")
    assert r.object("encoding", "h") == b"listpack"


def test_object_idletime_and_freq_without_lfu(r):
    r.set("k", "v")
    assert r.object("idletime", "k") in (0, 1)
    assert r.object("idletime", "nokey") is None
    assert err(r, "OBJECT", "FREQ", "k") == (
        "An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
        "that when switching between policies at runtime LRU and LFU data will take some time "
        "to adjust.")


def test_object_help_and_errors(r):
    lines = r.execute_command("OBJECT", "HELP")
    assert lines[0] == b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert b"ENCODING <key>" in lines and b"FREQ <key>" in lines
    assert lines[-2:] == [b"HELP", b"    Prints this help."]
    assert len(lines) == 15
    assert err(r, "OBJECT", "FOO", "k") == "unknown subcommand 'FOO'. Try OBJECT HELP."
    assert err(r, "OBJECT", "ENCODING") == \
        "wrong number of arguments for 'object|encoding' command"
    assert err(r, "OBJECT", "HELP", "x") == "wrong number of arguments for 'object|help' command"
    assert err(r, "OBJECT") == "wrong number of arguments for 'object' command"


def test_object_does_not_touch_key(r):
    r.set("k", "v")
    time.sleep(1.15)  # the LRU clock ticks once a second
    assert r.object("idletime", "k") >= 1
    assert r.object("encoding", "k") == b"embstr"
    assert r.type("k") == b"string"          # TYPE looks with NOTOUCH too
    assert r.object("idletime", "k") >= 1   # so the key is still idle
    r.get("k")
    assert r.object("idletime", "k") == 0


def test_object_under_lfu_policy():
    sp = ServerProc.start_tracered("--maxmemory-policy", "allkeys-lfu")
    try:
        r = sp.client()
        r.set("k", "v")
        freq = r.object("freq", "k")
        assert isinstance(freq, int) and 0 <= freq <= 255
        assert r.object("freq", "nokey") is None
        assert err(r, "OBJECT", "IDLETIME", "k") == (
            "An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
            "switching between policies at runtime LRU and LFU data will take some time to "
            "adjust.")
        r.close()
    finally:
        sp.stop()


# --------------------------------------------------------------------------------------------
# MEMORY
# --------------------------------------------------------------------------------------------

def test_memory_usage_strings(r):
    r.set("foo", "bar")
    assert r.memory_usage("foo") == 64     # embstr 32 + key 8 + dictEntry 24
    r.set("k1", 12345)
    assert r.memory_usage("k1") == 48      # robj 16 + key 8 + dictEntry 24
    r.set("k3", "a" * 83)
    assert r.memory_usage("k3") == 144     # sds 96 + robj 16 + key 8 + 24
    r.set("a" * 46, "x")
    assert r.memory_usage("a" * 46) == 120
    assert r.memory_usage("nokey") is None
    assert r.memory_usage("foo", samples=0) == 64
    assert r.execute_command("MEMORY", "USAGE", "foo", "SAMPLES", "3") == 64


def test_memory_usage_errors(r):
    r.set("foo", "bar")
    assert err(r, "MEMORY", "USAGE", "foo", "SAMPLES", "-1") == "syntax error"
    assert err(r, "MEMORY", "USAGE", "foo", "SAMPLES", "x") == \
        "value is not an integer or out of range"
    assert err(r, "MEMORY", "USAGE", "foo", "SAMPLES") == "syntax error"
    assert err(r, "MEMORY", "USAGE", "foo", "bar") == "syntax error"
    assert err(r, "MEMORY", "USAGE") == "wrong number of arguments for 'memory|usage' command"


def test_memory_usage_other_types(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    r.sadd("s", 1, 2, 3)
    assert r.memory_usage("h") > 24
    assert r.memory_usage("s") > 24


def test_memory_stats(r):
    r.mset({f"k{i}": i for i in range(100)})
    r.set("e", 1, ex=100)
    stats = r.execute_command("MEMORY", "STATS")
    if isinstance(stats, list):
        stats = dict(zip(stats[::2], stats[1::2], strict=True))
    stats = {k.decode() if isinstance(k, bytes) else k: v for k, v in stats.items()}
    keys = list(stats)
    assert keys[:10] == ["peak.allocated", "total.allocated", "startup.allocated",
                         "replication.backlog", "clients.slaves", "clients.normal",
                         "cluster.links", "aof.buffer", "lua.caches", "functions.caches"]
    assert keys[-17:] == [
        "overhead.total", "keys.count", "keys.bytes-per-key", "dataset.bytes",
        "dataset.percentage", "peak.percentage", "allocator.allocated", "allocator.active",
        "allocator.resident", "allocator-fragmentation.ratio",
        "allocator-fragmentation.bytes", "allocator-rss.ratio", "allocator-rss.bytes",
        "rss-overhead.ratio", "rss-overhead.bytes", "fragmentation", "fragmentation.bytes"]
    assert stats["keys.count"] == 101
    assert stats["total.allocated"] > 1_000_000
    db0 = stats["db.0"]
    if isinstance(db0, list):
        db0 = dict(zip(db0[::2], db0[1::2], strict=True))
    db0 = {k.decode() if isinstance(k, bytes) else k: v for k, v in db0.items()}
    # 101 keys: 101*24 + 128 buckets*8 + 101*16 for the main table; 1 expire entry.
    assert db0["overhead.hashtable.main"] == 101 * 24 + 128 * 8 + 101 * 16
    assert db0["overhead.hashtable.expires"] == 24 + 4 * 8
    assert db0["overhead.hashtable.slot-to-keys"] == 0
    assert len(keys) == 28


def test_memory_stats_resp3_map(tracered_server, r):
    r.set("k", 1)
    out = raw(tracered_server.port, b"HELLO 3\r\nMEMORY STATS\r\n",
              lambda b: b"fragmentation.bytes\r\n:" in b and b.endswith(b"\r\n"))
    assert b"%28\r\n$14\r\npeak.allocated\r\n:" in out
    assert b"$4\r\ndb.0\r\n%3\r\n" in out


def test_memory_doctor_malloc_stats_purge_help(r):
    report = r.execute_command("MEMORY", "DOCTOR")
    text = report.decode() if isinstance(report, bytes) else str(report)
    assert text.startswith(("Hi Sam", "Sam, I detected"))
    stats = r.execute_command("MEMORY", "MALLOC-STATS")
    assert b"allocated blocks" in (stats if isinstance(stats, bytes) else str(stats).encode())
    assert r.execute_command("MEMORY", "PURGE") in (True, b"OK")
    lines = r.execute_command("MEMORY", "HELP")
    assert lines[0] == b"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert b"USAGE <key> [SAMPLES <count>]" in lines
    assert len(lines) == 14
    assert err(r, "MEMORY", "FOO") == "unknown subcommand 'FOO'. Try MEMORY HELP."
    assert err(r, "MEMORY", "DOCTOR", "x") == \
        "wrong number of arguments for 'memory|doctor' command"


def test_memory_doctor_wire_is_verbatim_in_resp3(tracered_server):
    out = raw(tracered_server.port, b"HELLO 3\r\nMEMORY DOCTOR\r\n",
              lambda b: b.endswith(b"\n\r\n"))
    assert b"\r\n=" in out and b"txt:" in out
