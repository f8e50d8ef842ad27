"""Replication between tracered servers: full sync (diskless and disk), the streamed
commands, partial resync, the backlog ring, WAIT, min-replicas-to-write, chained replicas,
promotion with replid2, stale data, masterauth, ROLE/INFO, the old SYNC protocol, and the
debugger's view of the backlog.

The helpers at the top (WriteLoad, wait_* ...) are shared with test_replication_interop.py
and test_replication_faults.py.  Every server runs on a free loopback port and is stopped
by PID (conftest.ServerProc).
"""

from __future__ import annotations

import os
import random
import socket
import threading
import time

import pytest
import redis
from conftest import ServerProc, free_port

from tracered.replication import ReplBacklog

TIMEOUT = 20
FAST = ("--repl-diskless-sync-delay", "0")


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------

def wait_for(pred, timeout: float = TIMEOUT, step: float = 0.05, what: str = "condition"):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"{what} not met in {timeout}s (last: {last!r})")


def link_up(c: redis.Redis) -> bool:
    return c.info("replication").get("master_link_status") == "up"


def wait_link_up(c: redis.Redis, timeout: float = TIMEOUT) -> None:
    wait_for(lambda: link_up(c), timeout, what="master_link_status:up")


def repl_offset(c: redis.Redis) -> int:
    info = c.info("replication")
    if info["role"] == "master":
        return info["master_repl_offset"]
    return info.get("slave_repl_offset", -1)


def wait_synced(master: redis.Redis, *replicas: redis.Redis, timeout: float = TIMEOUT) -> int:
    """Until every replica processed the master's whole stream (same offset twice in a row,
    so a PING landing in between does not fool us)."""
    def caught_up():
        off = repl_offset(master)
        ok = all(link_up(r) and repl_offset(r) == off for r in replicas) and \
            off == repl_offset(master)
        return (off,) if ok else None      # a tuple: offset 0 is a valid answer
    return wait_for(caught_up, timeout, what="replicas caught up")[0]


def digest(c: redis.Redis) -> bytes:
    return c.execute_command("DEBUG", "DIGEST")


def sync_stats(c: redis.Redis) -> tuple[int, int, int]:
    s = c.info("stats")
    return s["sync_full"], s["sync_partial_ok"], s["sync_partial_err"]


def assert_same_data(master: redis.Redis, *replicas: redis.Redis) -> None:
    """Stop active expiry on the master (so no DEL races the comparison), wait for the
    stream to drain, then compare DEBUG DIGEST and the write-sequence checks."""
    master.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        wait_synced(master, *replicas)
        d = digest(master)
        for r in replicas:
            assert digest(r) == d, "DEBUG DIGEST differs between master and replica"
        seq = master.lrange("seq", 0, -1)
        ctr = master.get("ctr")
        for r in replicas:
            assert r.lrange("seq", 0, -1) == seq
            assert r.get("ctr") == ctr
    finally:
        master.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def replica_of(sp: ServerProc, master: ServerProc) -> redis.Redis:
    c = sp.client()
    assert c.execute_command("REPLICAOF", "127.0.0.1", master.port) == b"OK"
    return c


_TRACERED_COMMANDS: set[str] | None = None


def tracered_commands() -> set[str]:
    """The command names tracered implements (a load must stay within them in interop)."""
    global _TRACERED_COMMANDS
    if _TRACERED_COMMANDS is None:
        from tracered import server as server_mod

        _TRACERED_COMMANDS = {c.name for t in server_mod.all_command_tables() for c in t}
    return _TRACERED_COMMANDS


class WriteLoad:
    """Writes of every type, from a seeded RNG, in pipelines of ``batch`` commands to db 0
    and db 1 (so SELECT is in the stream), with a few MULTI/EXEC blocks and short TTLs (so
    expired-key DELs are propagated).  Each batch also appends its number to the list
    ``seq`` and increments ``ctr``: a lost or doubled write shows up there exactly."""

    def __init__(self, sp: ServerProc, seed: int = 1, batch: int = 40) -> None:
        self.c0 = sp.client()
        self.c1 = sp.client(db=1)
        self.rng = random.Random(seed)
        self.batch = batch
        self.n = 0
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ops = [op for op in self._ops() if op[0] in tracered_commands()]

    def _ops(self):
        r = self.rng
        k = lambda t: f"{t}:{r.randrange(12)}"  # noqa: E731
        v = lambda: r.choice([str(r.randrange(-1000, 100000)), "x" * r.randrange(1, 80),  # noqa: E731
                              f"{r.random():.5f}", "héllo\r\n\x00"])
        return [
            ("set", lambda: ("SET", k("s"), v())),
            ("set", lambda: ("SET", k("s"), v(), "EX", 1000)),
            ("append", lambda: ("APPEND", k("s"), v())),
            ("incr", lambda: ("INCR", k("n"))),
            ("incrbyfloat", lambda: ("INCRBYFLOAT", k("f"), f"{r.uniform(-5, 5):.3f}")),
            ("setrange", lambda: ("SETRANGE", k("s"), r.randrange(20), v())),
            ("mset", lambda: ("MSET", k("s"), v(), k("s"), v())),
            ("getdel", lambda: ("GETDEL", k("s"))),
            ("pexpire", lambda: ("PEXPIRE", k("s"), r.randrange(5, 300))),
            ("hset", lambda: ("HSET", k("h"), f"f{r.randrange(200)}", v())),
            ("hincrby", lambda: ("HINCRBY", k("h"), f"c{r.randrange(5)}", r.randrange(100))),
            ("hincrbyfloat", lambda: ("HINCRBYFLOAT", k("h"), "fl", "1.5")),
            ("hdel", lambda: ("HDEL", k("h"), f"f{r.randrange(200)}")),
            ("rpush", lambda: ("RPUSH", k("l"), v(), v())),
            ("lpush", lambda: ("LPUSH", k("l"), v())),
            ("lpop", lambda: ("LPOP", k("l"))),
            ("ltrim", lambda: ("LTRIM", k("l"), 0, r.randrange(5, 150))),
            ("lmove", lambda: ("LMOVE", k("l"), k("l"), "LEFT", "RIGHT")),
            ("sadd", lambda: ("SADD", k("set"), r.randrange(600), v())),
            ("srem", lambda: ("SREM", k("set"), r.randrange(600))),
            ("spop", lambda: ("SPOP", k("set"))),
            ("smove", lambda: ("SMOVE", k("set"), k("set"), r.randrange(600))),
            ("zadd", lambda: ("ZADD", k("z"), r.uniform(-100, 100), f"m{r.randrange(300)}")),
            ("zincrby", lambda: ("ZINCRBY", k("z"), 2.5, f"m{r.randrange(300)}")),
            ("zpopmin", lambda: ("ZPOPMIN", k("z"))),
            ("zunionstore", lambda: ("ZUNIONSTORE", k("z"), 2, k("z"), k("z"))),
            ("setbit", lambda: ("SETBIT", k("b"), r.randrange(5000), r.randrange(2))),
            ("bitop", lambda: ("BITOP", "OR", k("b"), k("b"), k("b"))),
            ("pfadd", lambda: ("PFADD", k("hll"), *[str(r.randrange(10**6)) for _ in range(5)])),
            ("pfmerge", lambda: ("PFMERGE", k("hll"), k("hll"))),
            ("copy", lambda: ("COPY", k("h"), k("h"), "REPLACE")),
            ("rename", lambda: ("RENAME", k("s"), k("s"))),
            ("del", lambda: ("DEL", k(r.choice("shlz")))),
            ("expire", lambda: ("EXPIRE", k(r.choice(["h", "l", "z", "set"])), 10000)),
        ]

    def step(self) -> None:
        r = self.rng
        c = self.c1 if r.random() < 0.2 else self.c0
        p = c.pipeline(transaction=r.random() < 0.15)
        for _ in range(self.batch):
            _, gen = r.choice(self.ops)
            p.execute_command(*gen())
        p.execute(raise_on_error=False)
        p = self.c0.pipeline(transaction=True)
        p.rpush("seq", self.n)
        p.incr("ctr")
        p.execute()
        self.n += 1

    def run(self, batches: int) -> None:
        for _ in range(batches):
            self.step()

    def start(self, max_batches: int = 10_000, max_seconds: float = 30.0,
              pause: float = 0.0) -> None:
        """Batches in a thread until stop(); ``pause`` seconds between batches keeps a
        fast master (redis-server) from running far ahead of a slower replica."""
        def loop():
            deadline = time.time() + max_seconds
            try:
                while not self._stop.is_set() and self.n < max_batches and \
                        time.time() < deadline:
                    self.step()
                    if pause:
                        self._stop.wait(pause)
            except BaseException as e:  # noqa: BLE001 - reported by stop()
                self.errors.append(e)

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()

    def stop(self) -> int:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        if self.errors:
            raise self.errors[0]
        return self.n

    def close(self) -> None:
        self.c0.close()
        self.c1.close()


@pytest.fixture
def procs():
    """Servers started by a test; all stopped by PID at the end."""
    started: list[ServerProc] = []
    yield started
    for sp in started:
        sp.stop()


def start(procs: list, kind: str, *args: str, **kw) -> ServerProc:
    sp = (ServerProc.start_tracered if kind == "tracered" else ServerProc.start_redis)(
        *args, **kw)
    procs.append(sp)
    return sp


# --------------------------------------------------------------------------------------------
# The backlog ring (no server)
# --------------------------------------------------------------------------------------------

def test_backlog_ring_grows_wraps_and_reads_back():
    stream = bytearray()
    off = 0
    bl = ReplBacklog(16, 1)
    for chunk in (b"abc", b"defgh", b"ijklmnop", b"q", b"rstuvwxyz0", b"1234567890abcdefXYZ"):
        stream += chunk
        off += len(chunk)
        bl.feed(chunk, off)
        assert bl.histlen == min(len(stream), 16)
        assert bl.offset == off - bl.histlen + 1
        assert bl.idx == len(stream) % 16 if len(chunk) < 16 else bl.idx == 0
        assert len(bl.buf) == min(len(stream), 16)
        # Every offset the ring covers reads back the exact stream tail.
        for start in range(bl.offset, off + 2):
            assert bl.copy_from(start) == bytes(stream[start - 1:])
    bl.resize(8, off)
    assert (bl.size, bl.histlen, bl.offset) == (8, 8, off - 7)
    assert bl.copy_from(bl.offset) == bytes(stream[-8:])
    bl.feed(b"+-", off + 2)
    assert bl.copy_from(bl.offset) == bytes(stream[-6:]) + b"+-"
    bl.resize(64, off + 2)
    assert bl.histlen == 8 and bl.copy_from(bl.offset) == bytes(stream[-6:]) + b"+-"


# --------------------------------------------------------------------------------------------
# Full sync and the stream
# --------------------------------------------------------------------------------------------

def test_full_sync_then_stream_every_type(procs):
    m = start(procs, "tracered", *FAST)
    r = start(procs, "tracered")
    mc = m.client()
    load = WriteLoad(m, seed=7)
    load.run(30)                                   # dataset before the sync
    rc = replica_of(r, m)
    wait_link_up(rc)
    load.run(30)                                   # the stream after it
    assert_same_data(mc, rc)
    assert rc.dbsize() == mc.dbsize() and rc.execute_command("DBSIZE") > 0
    # Same history: the replica took the master's replid and offset.
    mi, ri = mc.info("replication"), rc.info("replication")
    assert ri["master_replid"] == mi["master_replid"]
    assert ri["master_repl_offset"] == mi["master_repl_offset"]
    assert mi["connected_slaves"] == 1 and mi["slave0"]["state"] == "online"
    assert mi["slave0"]["port"] == r.port
    assert ri["role"] == "slave" and ri["master_port"] == m.port
    assert mi["repl_backlog_active"] == 1
    assert mi["repl_backlog_histlen"] == mi["master_repl_offset"]
    assert mc.info("stats")["sync_full"] == 1
    # ROLE on both sides.
    role = mc.execute_command("ROLE")
    assert role[0] == b"master" and role[2][0][1] == str(r.port).encode()
    role = rc.execute_command("ROLE")
    assert role[:4] == [b"slave", b"127.0.0.1", m.port, b"connected"]
    # A replica is read-only (but reads work).
    with pytest.raises(redis.ReadOnlyError):
        rc.set("x", 1)
    assert rc.get("ctr") == mc.get("ctr")
    with pytest.raises(redis.ResponseError, match="WAIT cannot be used with replica"):
        rc.execute_command("WAIT", 1, 0)
    load.close()


def test_disk_target_and_diskless_load(procs):
    """repl-diskless-sync no: the master BGSAVEs to disk and streams "$<len>" + the file;
    one replica loads through a file, the other (repl-diskless-load) from memory."""
    m = start(procs, "tracered", "--repl-diskless-sync", "no")
    r1 = start(procs, "tracered")
    r2 = start(procs, "tracered", "--repl-diskless-load", "on-empty-db")
    load = WriteLoad(m, seed=3)
    load.run(20)
    c1, c2 = replica_of(r1, m), replica_of(r2, m)
    wait_link_up(c1)
    wait_link_up(c2)
    load.run(10)
    mc = m.client()
    assert_same_data(mc, c1, c2)
    assert "with target: disk" in m.log()
    assert "to disk" in r1.log() and "to parser" in r2.log()
    assert os.path.exists(os.path.join(r1.workdir, "dump.rdb"))
    load.close()


def test_partial_resync_after_link_kill(procs):
    m = start(procs, "tracered", *FAST)
    r = start(procs, "tracered")
    mc, rc = m.client(), replica_of(r, m)
    wait_link_up(rc)
    load = WriteLoad(m, seed=11)
    load.run(10)
    wait_synced(mc, rc)
    before = sync_stats(mc)
    assert rc.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
    load.run(10)
    wait_link_up(rc)
    load.run(5)
    assert_same_data(mc, rc)
    full, pok, _ = sync_stats(mc)
    assert (full, pok) == (before[0], before[1] + 1), "expected +CONTINUE, not a full sync"
    assert "Partial resynchronization request from" in m.log()
    assert "Successful partial resynchronization with master" in r.log()
    load.close()


def test_old_sync_protocol_gets_a_sized_rdb(procs):
    """SYNC (redis-cli --rdb / --replica): no +FULLRESYNC, a "$<len>" payload from disk."""
    m = start(procs, "tracered")
    mc = m.client()
    mc.set("a", "1")
    mc.rpush("l", "x")
    with socket.create_connection(("127.0.0.1", m.port), timeout=10) as s:
        s.sendall(b"SYNC\r\n")
        f = s.makefile("rb")
        line = f.readline()
        while line == b"\n":
            line = f.readline()
        assert line.startswith(b"$"), line
        payload = f.read(int(line[1:]))
        assert payload.startswith(b"REDIS0010") and b"repl-id" in payload
        mc.set("b", "2")          # streamed after the RDB, as RESP
        data = b""
        while b"$1\r\nb\r\n$1\r\n2\r\n" not in data:
            data += s.recv(4096)
        f.close()
    info = mc.info("replication")
    assert info["connected_slaves"] in (0, 1)


# --------------------------------------------------------------------------------------------
# WAIT and min-replicas-to-write
# --------------------------------------------------------------------------------------------

def test_wait_and_min_replicas_to_write(procs):
    m = start(procs, "tracered", *FAST)
    r = start(procs, "tracered")
    mc = m.client()
    assert mc.execute_command("WAIT", 0, 0) == 0
    t = time.time()
    assert mc.execute_command("WAIT", 1, 200) == 0           # no replica: times out
    assert 0.15 < time.time() - t < 5
    rc = replica_of(r, m)
    wait_link_up(rc)
    mc.set("k", "v")
    assert mc.execute_command("WAIT", 1, 5000) == 1          # acked by our replica
    mc.incr("n")
    t = time.time()
    assert mc.execute_command("WAIT", 2, 300) == 1           # only one replica exists
    assert time.time() - t >= 0.25
    p = mc.pipeline(transaction=True)
    p.set("x", 1)
    p.execute_command("WAIT", 5, 0)                          # in MULTI: never blocks
    assert p.execute()[1] in (0, 1)
    with pytest.raises(redis.ResponseError, match="timeout is negative"):
        mc.execute_command("WAIT", 1, -1)
    with pytest.raises(redis.ResponseError, match="not an integer"):
        mc.execute_command("WAIT", "x", 0)
    # min-replicas-to-write: one good replica is enough for 1, not for 2.
    mc.config_set("min-replicas-to-write", 1)
    wait_for(lambda: mc.info("replication").get("min_slaves_good_slaves") == 1)
    assert mc.set("ok", 1)
    mc.config_set("min-replicas-to-write", 2)
    with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
        mc.set("refused", 1)
    assert mc.get("ok") == b"1"                              # reads still work
    # Losing the replica makes the count drop to zero.
    mc.config_set("min-replicas-to-write", 1)
    rc.execute_command("REPLICAOF", "NO", "ONE")
    wait_for(lambda: mc.info("replication")["connected_slaves"] == 0)
    with pytest.raises(redis.ResponseError, match="NOREPLICAS"):
        mc.set("refused", 1)
    mc.config_set("min-replicas-to-write", 0)
    assert mc.set("fine", 1)


# --------------------------------------------------------------------------------------------
# Chained replicas, promotion, replid2
# --------------------------------------------------------------------------------------------

def test_chained_replicas_then_promotion_keeps_partial_resyncs(procs):
    m = start(procs, "tracered", *FAST)
    r1 = start(procs, "tracered", *FAST)
    r2 = start(procs, "tracered")
    mc = m.client()
    load = WriteLoad(m, seed=5)
    load.run(10)
    c1 = replica_of(r1, m)
    wait_link_up(c1)
    c2 = replica_of(r2, r1)                      # r2 replicates the replica r1
    wait_link_up(c2)
    load.run(15)
    assert_same_data(mc, c1, c2)
    # One history: same replid and offset all along the chain.
    ids = {c.info("replication")["master_replid"] for c in (mc, c1, c2)}
    assert len(ids) == 1
    old_id = ids.pop()
    # Failover: r1 becomes master; its old id is now its replid2.
    c1.execute_command("REPLICAOF", "NO", "ONE")
    i1 = c1.info("replication")
    assert i1["role"] == "master" and i1["master_replid2"] == old_id
    assert i1["second_repl_offset"] == i1["master_repl_offset"] + 1
    # r2 reconnects to r1 with a partial resync through replid2 ...
    wait_link_up(c2)
    wait_for(lambda: sync_stats(c1)[1] >= 1, what="r2 partial resync")
    # ... and so does the old master once it is demoted under r1.
    mc.execute_command("REPLICAOF", "127.0.0.1", r1.port)
    wait_link_up(mc)
    wait_for(lambda: sync_stats(c1)[1] >= 2, what="old master partial resync")
    assert sync_stats(c1)[0] == 1                  # r2's first sync only: no full sync
    c1.set("after-failover", "1")
    c1.rpush("seq", "x")
    assert_same_data(c1, c2, mc)
    assert mc.info("replication")["master_replid"] == c1.info("replication")["master_replid"]
    load.close()


# --------------------------------------------------------------------------------------------
# Link down: stale data, masterauth
# --------------------------------------------------------------------------------------------

def test_masterauth_and_stale_data(procs):
    m = start(procs, "tracered", *FAST, "--requirepass", "s3cret")
    r = start(procs, "tracered", "--masterauth", "s3cret", "--replica-serve-stale-data", "no")
    mc = m.client(password="s3cret")
    mc.set("k", "v")
    rc = r.client()
    rc.execute_command("REPLICAOF", "127.0.0.1", free_port())    # nobody there
    with pytest.raises(redis.exceptions.MasterDownError):
        rc.get("k")
    assert rc.info("server")                                    # stale-flagged commands run
    assert rc.execute_command("REPLICAOF", "127.0.0.1", m.port) == b"OK"
    wait_link_up(rc)
    assert rc.get("k") == b"v"
    m.stop()
    wait_for(lambda: not link_up(rc))
    with pytest.raises(redis.exceptions.MasterDownError):
        rc.get("k")
    assert rc.info("replication")["master_link_down_since_seconds"] >= 0
    rc.execute_command("REPLICAOF", "NO", "ONE")
    assert rc.get("k") == b"v"
    assert rc.set("now-writable", 1)


def test_wrong_masterauth_never_links(procs):
    m = start(procs, "tracered", *FAST, "--requirepass", "right")
    r = start(procs, "tracered", "--masterauth", "wrong")
    rc = replica_of(r, m)
    wait_for(lambda: "Unable to AUTH to MASTER" in r.log(), what="AUTH refused")
    assert not link_up(rc)
    assert rc.execute_command("ROLE")[3] in (b"connect", b"connecting", b"handshake")


# --------------------------------------------------------------------------------------------
# Protocol-level checks
# --------------------------------------------------------------------------------------------

def test_replconf_and_psync_replies(procs):
    m = start(procs, "tracered", "--repl-diskless-sync-delay", "1")
    c = m.client()
    assert c.execute_command("REPLCONF", "listening-port", 1234) == b"OK"
    assert c.execute_command("REPLCONF", "capa", "eof", "capa", "psync2", "capa", "x") == b"OK"
    with pytest.raises(redis.ResponseError, match="syntax error"):
        c.execute_command("REPLCONF", "listening-port")
    with pytest.raises(redis.ResponseError, match="Unrecognized REPLCONF option: foo"):
        c.execute_command("REPLCONF", "foo", "bar")
    with pytest.raises(redis.ResponseError, match="not an integer"):
        c.execute_command("REPLCONF", "listening-port", "x")
    # ACK from a non-replica, GETACK on a master: silently ignored (no reply at all).
    with socket.create_connection(("127.0.0.1", m.port), timeout=5) as s:
        s.sendall(b"REPLCONF ACK 10\r\nREPLCONF GETACK *\r\nPING\r\n")
        assert s.recv(100) == b"+PONG\r\n"
    with pytest.raises(redis.ResponseError, match="Invalid master port"):
        c.execute_command("REPLICAOF", "127.0.0.1", 70000)
    assert c.execute_command("REPLICAOF", "NO", "ONE") == b"OK"   # already a master
    assert c.execute_command("ROLE") == [b"master", 0, []]
    # PSYNC ? -1 by hand: +FULLRESYNC <replid> <offset>, then an EOF-marked RDB.
    with socket.create_connection(("127.0.0.1", m.port), timeout=10) as s:
        s.sendall(b"REPLCONF capa eof capa psync2\r\n")
        assert s.recv(100) == b"+OK\r\n"
        s.sendall(b"PSYNC ? -1\r\n")
        f = s.makefile("rb")
        full = f.readline()
        while full == b"\n":              # keepalives during repl-diskless-sync-delay
            full = f.readline()
        assert full.startswith(b"+FULLRESYNC ") and len(full.split()[1]) == 40
        replid = full.split()[1].decode()
        assert replid == c.info("replication")["master_replid"]
        line = f.readline()
        while line == b"\n":
            line = f.readline()
        assert line.startswith(b"$EOF:") and len(line) == 5 + 40 + 2
        f.close()                         # makefile() holds the socket open otherwise
    wait_for(lambda: c.info("replication")["connected_slaves"] == 0)
    # Now a PSYNC with our replid at a covered offset continues.
    off = c.info("replication")["master_repl_offset"]
    with socket.create_connection(("127.0.0.1", m.port), timeout=10) as s:
        s.sendall(b"REPLCONF capa psync2\r\n")
        assert s.recv(100) == b"+OK\r\n"
        s.sendall(b"PSYNC %s %d\r\n" % (replid.encode(), off + 1))
        assert s.recv(100) == b"+CONTINUE %s\r\n" % replid.encode()
        c.set("streamed", "1")
        got = b""
        while b"streamed" not in got:
            got += s.recv(4096)
        assert b"SELECT" in got
    assert sync_stats(c)[1] == 1


# --------------------------------------------------------------------------------------------
# The debugger shows the backlog
# --------------------------------------------------------------------------------------------

def test_break_on_replication_feed_slaves_shows_the_backlog(procs):
    from tracered.trace.control import ControlClient, read_token_file

    cport = free_port()
    m = start(procs, "tracered", *FAST, "--no-tui", "--debug-port", str(cport))
    r = start(procs, "tracered")
    rc = replica_of(r, m)
    wait_link_up(rc)
    mc = m.client()
    mc.set("warm", "1")
    ctl = ControlClient("127.0.0.1", cport,
                        read_token_file(os.path.join(m.workdir, f"tracered-{cport}.token")))
    try:
        bp = ctl.add_breakpoint("replicationFeedSlaves")
        frames = []
        done = threading.Event()

        def writes():
            c = m.client()
            c.set("a", "1")
            c.set("b", "22")
            done.set()

        threading.Thread(target=writes, daemon=True).start()
        for _ in range(2):
            f = ctl.wait_paused(TIMEOUT)
            assert f is not None and f["probe"] == "replicationFeedSlaves"
            frames.append(f["repl"])
            ctl.resume("continue")
        assert done.wait(TIMEOUT)
        ctl.delete_breakpoint(bp["id"])
        b0, b1 = frames[0]["backlog"], frames[1]["backlog"]
        assert set(b0) >= {"idx", "histlen", "offset", "size"}
        assert b0["size"] == 1024 * 1024
        # Paused on entry: the second write sees the first one in the ring.
        assert b1["histlen"] > b0["histlen"] and b1["idx"] > b0["idx"]
        assert frames[1]["master_repl_offset"] > frames[0]["master_repl_offset"]
        rep = frames[0]["replicas"][0]
        assert rep["listening_port"] == r.port and rep["state"] in (7, 9)  # END / ONLINE
    finally:
        ctl.close()
    assert_same_data(mc, rc)


def test_min_replicas_setting_on_a_replica_does_not_block_its_master(procs):
    m = start(procs, "tracered", *FAST)
    r = start(procs, "tracered", "--min-replicas-to-write", "1")
    rc = replica_of(r, m)
    wait_link_up(rc)
    mc = m.client()
    mc.set("k", "v")
    wait_synced(mc, rc)
    assert rc.get("k") == b"v"
