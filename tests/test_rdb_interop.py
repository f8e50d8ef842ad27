"""RDB persistence across processes: dumps exchanged with Debian's redis-server 7.0 in both
directions (same DEBUG DIGEST, same OBJECT ENCODING, redis-check-rdb happy), BGSAVE forked
under a write load, save points, SHUTDOWN/SIGTERM saving, restart, failed saves (MISCONF),
and refusal to start on a damaged file.

Every server is started on a free loopback port and stopped by PID (conftest.ServerProc).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import redis
from conftest import ROOT, ServerProc, free_port

REDIS_CHECK_RDB = shutil.which("redis-check-rdb")

# Shared by both servers so node layout (and so OBJECT ENCODING) is comparable.
LIST_OPTS = ("--list-compress-depth", "1")


def _wait(pred, timeout: float = 15.0, step: float = 0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("condition not met in time")


def _has_list_commands(c: redis.Redis) -> bool:
    try:
        c.execute_command("LLEN", "no-such-key")
    except redis.ResponseError as e:
        if "unknown command" in str(e):
            return False
        raise
    return True


def populate(c: redis.Redis, lists: bool = True) -> list[str]:
    """Every type in every encoding, TTLs, several dbs.  Returns the keys of db 0."""
    p = c.pipeline(transaction=False)
    p.set("s:int8", "12")
    p.set("s:int16", "-3000")
    p.set("s:int32", "2000000000")
    p.set("s:int64", "-9000000000000")
    p.set("s:embstr", "hello world")
    p.set("s:raw", "r" * 50)
    p.set("s:compressible", "abcd" * 100)
    p.set("s:binary", bytes(range(256)) * 2)
    p.set("s:ttl", "soon", px=3_600_000)
    p.hset("h:listpack", mapping={"a": "1", "b": "two", "n": "-5"})
    p.hset("h:hashtable", mapping={f"f{i}": f"v{i}" for i in range(700)})
    p.hset("h:longvalue", "f", "x" * 100)
    p.sadd("set:intset16", 1, 2, 3, -400)
    p.sadd("set:intset64", 1, 10_000_000_000)
    p.sadd("set:hashtable", "a", "b", "c", "1")
    p.sadd("set:bigints", *range(700))
    p.zadd("z:listpack", {"a": 1, "b": 2.5, "c": -1, "inf": float("inf")})
    p.zadd("z:skiplist", {f"m{i}": i / 7 for i in range(300)})
    p.zadd("z:longmember", {"m" * 100: 1})
    p.expire("h:listpack", 7200)
    keys = ["s:int8", "s:int16", "s:int32", "s:int64", "s:embstr", "s:raw", "s:compressible",
            "s:binary", "s:ttl", "h:listpack", "h:hashtable", "h:longvalue", "set:intset16",
            "set:intset64", "set:hashtable", "set:bigints", "z:listpack", "z:skiplist",
            "z:longmember"]
    if lists:
        p.rpush("l:small", "a", "1", "b")
        p.rpush("l:large", *[f"element-{i}" for i in range(5000)])
        p.rpush("l:compressible", *["same-text-" * 5 for _ in range(2000)])
        p.pexpire("l:small", 9_000_000)
        keys += ["l:small", "l:large", "l:compressible"]
    p.execute()
    c.execute_command("SELECT", 2)
    c.set("db2:key", "in db 2")
    c.hset("db2:hash", "f", "v")
    c.execute_command("SELECT", 9)
    c.sadd("db9:set", "x", "y")
    c.execute_command("SELECT", 0)
    return keys


def encodings(c: redis.Redis, keys: list[str]) -> dict:
    return {k: c.object("encoding", k) for k in keys}


def check_rdb(path: str) -> None:
    if REDIS_CHECK_RDB is None:
        pytest.skip("redis-check-rdb is not installed")
    out = subprocess.run([REDIS_CHECK_RDB, path], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "RDB looks OK" in out.stdout, out.stdout


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="tracered-rdb-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def servers():
    started: list[ServerProc] = []
    yield started
    for sp in started:
        sp.stop()


# --------------------------------------------------------------------------------------------
# Interop with redis-server 7.0
# --------------------------------------------------------------------------------------------

def test_redis_dump_loads_in_tracered_and_back(workdir, servers):
    """Real Redis writes every type (lists included); tracered loads it with the same digest
    and encodings, saves it again, and a second redis-server loads that file identically."""
    ref = ServerProc.start_redis(*LIST_OPTS, workdir=workdir)
    servers.append(ref)
    rc = ref.client()
    keys = populate(rc)
    want_digest = rc.execute_command("DEBUG", "DIGEST")
    want_enc = encodings(rc, keys)
    assert rc.save()
    ref.stop()

    t = ServerProc.start_tracered(*LIST_OPTS, workdir=workdir)
    servers.append(t)
    tc = t.client()
    assert tc.execute_command("DEBUG", "DIGEST") == want_digest
    assert encodings(tc, keys) == want_enc
    assert tc.ttl("s:ttl") > 3000 and tc.pttl("l:small") > 8_000_000
    assert tc.execute_command("SELECT", 9) and tc.smembers("db9:set") == {b"x", b"y"}
    assert "Loading RDB produced by version 7.0.15" in t.log()
    assert re.search(r"Done loading RDB, keys loaded: \d+, keys expired: 0\.", t.log())
    assert "DB loaded from disk:" in t.log()
    tc.execute_command("SELECT", 0)
    assert tc.save()
    t.stop()
    check_rdb(os.path.join(workdir, "dump.rdb"))

    ref2 = ServerProc.start_redis(*LIST_OPTS, workdir=workdir)
    servers.append(ref2)
    rc2 = ref2.client()
    assert rc2.execute_command("DEBUG", "DIGEST") == want_digest
    assert encodings(rc2, keys) == want_enc


def test_tracered_dataset_loads_in_redis(workdir, servers):
    """A dataset built by tracered's own commands, saved by tracered (BGSAVE, forked)."""
    t = ServerProc.start_tracered(*LIST_OPTS, workdir=workdir)
    servers.append(t)
    tc = t.client()
    keys = populate(tc, lists=_has_list_commands(tc))
    want_digest = tc.execute_command("DEBUG", "DIGEST")
    want_enc = encodings(tc, keys)
    before = tc.lastsave()
    time.sleep(1.05)  # LASTSAVE has a one-second resolution
    assert tc.bgsave()
    _wait(lambda: tc.info("persistence")["rdb_bgsave_in_progress"] == 0 and
          tc.lastsave() != before)
    info = tc.info("persistence")
    assert info["rdb_last_bgsave_status"] == "ok" and info["rdb_saves"] == 1
    assert info["rdb_changes_since_last_save"] == 0
    t.stop()
    check_rdb(os.path.join(workdir, "dump.rdb"))

    ref = ServerProc.start_redis(*LIST_OPTS, workdir=workdir)
    servers.append(ref)
    rc = ref.client()
    assert rc.execute_command("DEBUG", "DIGEST") == want_digest
    assert encodings(rc, keys) == want_enc


def test_debug_reload_keeps_the_dataset(workdir, servers):
    t = ServerProc.start_tracered(workdir=workdir)
    servers.append(t)
    tc = t.client()
    populate(tc, lists=False)
    digest = tc.execute_command("DEBUG", "DIGEST")
    assert tc.execute_command("DEBUG", "RELOAD")
    assert tc.execute_command("DEBUG", "DIGEST") == digest
    assert tc.object("encoding", "h:listpack") == b"listpack"


# --------------------------------------------------------------------------------------------
# BGSAVE, save points, shutdown, restart
# --------------------------------------------------------------------------------------------

def _shutdown_nosave(sp: ServerProc) -> None:
    """SHUTDOWN NOSAVE over a raw socket (redis-py retries the closed connection for
    seconds), then wait for the process."""
    with socket.create_connection(("127.0.0.1", sp.port), timeout=10) as s:
        s.sendall(b"SHUTDOWN NOSAVE\r\n")
        s.recv(100)
    assert sp.proc.wait(10) == 0


def _child_pid(sp: ServerProc) -> int:
    pids = re.findall(r"Background saving started by pid (\d+)", sp.log())
    assert pids, sp.log()
    return int(pids[-1])


def test_bgsave_under_write_load_then_restart(workdir, servers):
    t = ServerProc.start_tracered("--rdb-key-save-delay", "200", workdir=workdir)
    servers.append(t)
    tc = t.client()
    tc.execute_command("DEBUG", "POPULATE", 3000, "pre")
    stop = threading.Event()
    written: list[int] = []
    latencies: list[float] = []
    errors: list[str] = []

    def writer() -> None:
        w = t.client()
        i = 0
        while not stop.is_set() and i < 20000:
            t0 = time.perf_counter()
            try:
                w.set(f"live:{i}", i)
            except redis.RedisError as e:
                errors.append(str(e))
                break
            latencies.append(time.perf_counter() - t0)
            written.append(i)
            i += 1
        w.close()

    th = threading.Thread(target=writer)
    th.start()
    try:
        time.sleep(0.2)
        before = tc.lastsave()
        time.sleep(1.05)
        assert tc.bgsave()
        info = tc.info("persistence")
        assert info["rdb_bgsave_in_progress"] == 1
        with pytest.raises(redis.ResponseError, match="Background save already in progress"):
            tc.bgsave()
        n0 = len(written)
        _wait(lambda: tc.info("persistence")["rdb_bgsave_in_progress"] == 0, timeout=30)
        # The parent kept serving while the child wrote.
        assert len(written) > n0
    finally:
        stop.set()
        th.join(10)
    assert not errors, errors
    assert max(latencies) < 2.0
    info = tc.info("persistence")
    assert info["rdb_last_bgsave_status"] == "ok"
    assert tc.lastsave() > before
    assert info["rdb_last_cow_size"] > 0
    assert info["rdb_changes_since_last_save"] >= 0
    log = t.log()
    assert "Background saving terminated with success" in log
    assert re.search(r"\d+:C .* DB saved on disk", log)
    # The snapshot holds everything written before the fork.
    _shutdown_nosave(t)
    t2 = ServerProc.start_tracered(workdir=workdir)
    servers.append(t2)
    c2 = t2.client()
    assert c2.dbsize() >= 3000
    assert c2.get("pre:2999") == b"value:2999"


def test_save_points_and_sigterm_final_save(workdir, servers):
    t = ServerProc.start_tracered("--save", "1 1", workdir=workdir)
    servers.append(t)
    tc = t.client()
    tc.set("a", "1")
    _wait(lambda: tc.info("persistence")["rdb_saves"] >= 1 and
          tc.info("persistence")["rdb_bgsave_in_progress"] == 0)
    assert "1 changes in 1 seconds. Saving..." in t.log()
    tc.set("b", "2")          # not yet saved by a save point: SIGTERM must save it
    t.proc.send_signal(signal.SIGTERM)
    assert t.proc.wait(15) == 0
    assert "Saving the final RDB snapshot before exiting." in t.log()
    t2 = ServerProc.start_tracered(workdir=workdir)
    servers.append(t2)
    assert t2.client().mget("a", "b") == [b"1", b"2"]


def test_flushall_with_save_points_writes_an_empty_dataset(workdir, servers):
    t = ServerProc.start_tracered("--save", "900 1", workdir=workdir)
    servers.append(t)
    tc = t.client()
    tc.set("k", "v")
    assert tc.save()
    tc.flushall()
    assert tc.info("persistence")["rdb_changes_since_last_save"] == 0
    _shutdown_nosave(t)
    t2 = ServerProc.start_tracered(workdir=workdir)
    servers.append(t2)
    assert t2.client().dbsize() == 0


def test_killed_bgsave_sets_misconf(workdir, servers):
    t = ServerProc.start_tracered("--save", "900 1", "--rdb-key-save-delay", "100000",
                                  workdir=workdir)
    servers.append(t)
    tc = t.client()
    tc.execute_command("DEBUG", "POPULATE", 50)
    assert tc.bgsave()
    os.kill(_child_pid(t), signal.SIGKILL)
    _wait(lambda: tc.info("persistence")["rdb_last_bgsave_status"] == "err")
    assert "Background saving terminated by signal 9" in t.log()
    assert not [f for f in os.listdir(workdir) if f.startswith("temp-")]
    with pytest.raises(redis.ResponseError, match="MISCONF"):
        tc.set("x", "1")
    assert tc.get("key:1") == b"value:1"      # reads still work
    tc.config_set("rdb-key-save-delay", 0)
    assert tc.bgsave()
    _wait(lambda: tc.info("persistence")["rdb_last_bgsave_status"] == "ok")
    assert tc.set("x", "1")


def test_cow_figure(workdir, servers):
    """Measure what reference counting does to copy-on-write (figure for the docs)."""
    t = ServerProc.start_tracered(workdir=workdir)
    servers.append(t)
    tc = t.client()
    empty_rss = tc.info("memory")["used_memory_rss"]
    tc.execute_command("DEBUG", "POPULATE", 100_000, "k", 32)
    rss = tc.info("memory")["used_memory_rss"]
    assert tc.bgsave()
    _wait(lambda: tc.info("persistence")["rdb_bgsave_in_progress"] == 0, timeout=60)
    cow = tc.info("persistence")["rdb_last_cow_size"]
    sys.stderr.write(f"\nCOW: rdb_last_cow_size={cow} used_memory_rss={rss} "
                     f"dataset={rss - empty_rss} cow/dataset={cow / (rss - empty_rss):.2f}\n")
    assert tc.info("persistence")["rdb_last_bgsave_status"] == "ok"
    assert cow > 0


# --------------------------------------------------------------------------------------------
# Bad input at startup
# --------------------------------------------------------------------------------------------

def _start_expecting_exit(workdir: str) -> tuple[int, str]:
    port = free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-m", "tracered", "--port", str(port), "--bind", "127.0.0.1",
         "--save", "", "--dir", workdir], capture_output=True, text=True, timeout=60, env=env,
        cwd=workdir)
    return proc.returncode, proc.stdout + proc.stderr


def _good_dump(workdir: str, servers) -> bytes:
    t = ServerProc.start_tracered(workdir=workdir)
    servers.append(t)
    tc = t.client()
    tc.execute_command("DEBUG", "POPULATE", 2000)
    assert tc.save()
    t.stop()
    with open(os.path.join(workdir, "dump.rdb"), "rb") as f:
        return f.read()


def test_truncated_or_corrupt_rdb_refuses_to_start(workdir, servers):
    data = _good_dump(workdir, servers)
    path = os.path.join(workdir, "dump.rdb")
    with open(path, "wb") as f:
        f.write(data[:len(data) // 2])
    code, out = _start_expecting_exit(workdir)
    assert code == 1, out
    assert "Short read or OOM loading DB. Unrecoverable error, aborting now." in out
    assert re.search(r"Internal error in RDB reading offset \d+", out)
    assert "Ready to accept connections" not in out

    bad = bytearray(data)
    bad[bad.index(b"value:1000") + 6] ^= 0x01   # inside a value: parses, the CRC catches it
    with open(path, "wb") as f:
        f.write(bytes(bad))
    code, out = _start_expecting_exit(workdir)
    assert code == 1, out
    assert "Wrong RDB checksum expected" in out
    assert "Ready to accept connections" not in out

    with open(path, "wb") as f:
        f.write(b"NOTANRDBFILE")
    code, out = _start_expecting_exit(workdir)
    assert code == 1 and "Wrong signature trying to load DB from file" in out


def test_clients_get_loading_while_the_dataset_loads(workdir, servers):
    _good_dump(workdir, servers)   # 2000 keys
    t = ServerProc.start_tracered("--key-load-delay", "1000",
                                  "--loading-process-events-interval-bytes", "1024",
                                  workdir=workdir)
    servers.append(t)
    c = t.client()
    info = c.info("persistence")
    assert info["loading"] == 1
    assert info["loading_total_bytes"] > 0 and "loading_eta_seconds" in info
    # A raw socket: redis-py would quietly retry a LOADING error until loading ends.
    with socket.create_connection(("127.0.0.1", t.port), timeout=10) as s:
        s.sendall(b"GET key:1\r\n")
        assert s.recv(200).startswith(b"-LOADING Redis is loading the dataset in memory")
    _wait(lambda: c.info("persistence")["loading"] == 0, timeout=30)
    assert c.dbsize() == 2000
    assert c.info("persistence")["rdb_last_load_keys_loaded"] == 2000
