"""The append-only file (tracered/aof.py): manifest format and parsing, the command stream
feedAppendOnlyFile builds, and whole-server behaviour - restart on the AOF, BGREWRITEAOF
with and without an RDB preamble while writes continue, scheduled and automatic rewrites,
CONFIG SET appendonly at run time, truncated / corrupt / incomplete files, the upgrade from
a single pre-7.0 appendonly.aof, INFO persistence's aof_* fields.

Servers are started on free loopback ports and stopped by PID (conftest.ServerProc).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import pytest
import redis
from conftest import ROOT, ServerProc, free_port

from tracered import aof
from tracered.server import server

# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------


def _wait(pred, timeout: float = 20.0, step: float = 0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("condition not met in time")


def _info(c: redis.Redis, section: str = "persistence") -> dict:
    return c.info(section)


def _ready(c: redis.Redis) -> None:
    """Wait until the dataset is loaded (PING answers -LOADING before that)."""
    def loaded():
        try:
            return _info(c)["loading"] == 0
        except redis.BusyLoadingError:
            return False
    _wait(loaded)


def _start(workdir: str, *args: str) -> ServerProc:
    """tracered with AOF on.  appendfsync always unless ``args`` says otherwise: tests that
    kill -9 rely on it (with everysec a write may wait up to 2 s behind a slow background
    fsync while its reply is already sent, exactly as in Redis)."""
    sp = ServerProc.start_tracered("--appendonly", "yes", "--appendfsync", "always", *args,
                                   workdir=workdir)
    _ready(sp.client())
    return sp


def _rewrite_done(c: redis.Redis, count: int) -> None:
    def done():
        i = _info(c)
        return i["aof_rewrites"] >= count and not i["aof_rewrite_in_progress"] and \
            not i["aof_rewrite_scheduled"]
    _wait(done)


def _aofdir(workdir: str) -> str:
    return os.path.join(workdir, "appendonlydir")


def _manifest(workdir: str) -> str:
    with open(os.path.join(_aofdir(workdir), "appendonly.aof.manifest")) as f:
        return f.read()


def _start_expecting_exit(workdir: str, *args: str, timeout: float = 30.0) -> tuple[int, str]:
    """Run tracered in ``workdir``; it must exit by itself.  Returns (exit code, log)."""
    logpath = os.path.join(workdir, "exit.log")
    cmd = [sys.executable, "-m", "tracered", "--port", str(free_port()), "--bind", "127.0.0.1",
           "--save", "", "--dir", workdir, *args]
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    with open(logpath, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir, env=env)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
        raise AssertionError("tracered kept running on a file it should refuse") from None
    with open(logpath, errors="replace") as f:
        return code, f.read()


def _raw(port: int, *args: str) -> bytes:
    """One command over a plain socket; the first reply line (redis-py maps BGREWRITEAOF's
    status to True)."""
    import socket

    payload = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(payload)
        buf = b""
        while not buf.endswith(b"\r\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            buf += chunk
    return buf.rstrip(b"\r\n")


def _digest(c: redis.Redis) -> bytes:
    return c.execute_command("DEBUG", "DIGEST")


def populate(c: redis.Redis) -> None:
    """Every type in its encodings, TTLs, several dbs, a transaction, and commands that
    propagate as something else (INCRBYFLOAT, SPOP, GETEX, EXPIRE ...)."""
    p = c.pipeline(transaction=False)
    p.set("s:int", "12345")
    p.set("s:embstr", "hello")
    p.set("s:raw", "r" * 100)
    p.set("s:bin", bytes(range(256)))
    p.set("s:ttl", "v", px=3_600_000)
    p.execute_command("SETEX", "s:setex", 3600, "v")
    p.incrbyfloat("s:float", "1.5")
    p.append("s:embstr", " world")
    p.rpush("l:small", "a", "1", "b")
    p.rpush("l:big", *[f"e{i}" for i in range(600)])
    p.lpop("l:big")
    p.hset("h:small", mapping={"a": "1", "b": "two"})
    p.hset("h:big", mapping={f"f{i}": f"v{i}" for i in range(600)})
    p.hincrbyfloat("h:small", "f", "2.5")
    p.sadd("set:int", 1, 2, 3, -7)
    p.sadd("set:str", *[f"m{i}" for i in range(200)])
    p.spop("set:str")
    p.zadd("z:small", {"a": 1, "b": 2.5, "inf": float("inf")})
    p.zadd("z:big", {f"m{i}": i / 7 for i in range(300)})
    p.zincrby("z:small", 3, "a")
    p.expire("h:small", 7200)
    p.getex("s:embstr", ex=5000)
    p.set("gone", "x")
    p.delete("gone")
    p.execute()
    with c.pipeline(transaction=True) as tx:
        tx.incr("tx:counter")
        tx.incr("tx:counter")
        tx.rpush("tx:list", "x", "y")
        tx.execute()
    c2 = redis.Redis(host="127.0.0.1", port=c.connection_pool.connection_kwargs["port"], db=3)
    c2.set("db3:key", "three")
    c2.hset("db3:h", "f", "v")
    c2.close()


# --------------------------------------------------------------------------------------------
# Unit: manifest and command stream (no server process)
# --------------------------------------------------------------------------------------------

@pytest.fixture
def aofdir(tmp_path, monkeypatch):
    d = tmp_path / "appendonlydir"
    d.mkdir()
    monkeypatch.setattr(server, "appenddirname", str(d))
    monkeypatch.setattr(server, "appendfilename", "appendonly.aof")
    return d


def test_manifest_lines_are_redis_format(aofdir, monkeypatch):
    monkeypatch.setattr(server, "aof_use_rdb_preamble", True)
    am = aof.AofManifest()
    assert aof.get_new_base_file_name_and_mark_pre_as_history(am) == "appendonly.aof.1.base.rdb"
    assert aof.get_new_incr_aof_name(am) == "appendonly.aof.1.incr.aof"
    assert aof.get_aof_manifest_as_string(am) == (
        b"file appendonly.aof.1.base.rdb seq 1 type b\n"
        b"file appendonly.aof.1.incr.aof seq 1 type i\n")
    # A second rewrite: old BASE becomes history, a new INCR was opened when it started.
    aof.get_new_incr_aof_name(am)
    monkeypatch.setattr(server, "aof_use_rdb_preamble", False)
    assert aof.get_new_base_file_name_and_mark_pre_as_history(am) == "appendonly.aof.2.base.aof"
    monkeypatch.setattr(server, "aof_fd", 99)   # AOF on: the last INCR is kept
    aof.mark_rewritten_incr_aof_as_history(am)
    assert aof.get_aof_manifest_as_string(am) == (
        b"file appendonly.aof.2.base.aof seq 2 type b\n"
        b"file appendonly.aof.1.incr.aof seq 1 type h\n"
        b"file appendonly.aof.1.base.rdb seq 1 type h\n"
        b"file appendonly.aof.2.incr.aof seq 2 type i\n")


def test_manifest_round_trip_and_quoted_names(aofdir):
    am = aof.AofManifest()
    am.base_aof_info = aof.AofInfo("my base.rdb", 3, "b")
    am.curr_base_file_seq = 3
    am.history_aof_list = [aof.AofInfo("old.aof", 2, "h")]
    am.incr_aof_list = [aof.AofInfo("a.incr", 4, "i"), aof.AofInfo('q"x.incr', 5, "i")]
    am.dirty = True
    assert aof.persist_aof_manifest(am)
    text = (aofdir / "appendonly.aof.manifest").read_bytes()
    assert b'file "my base.rdb" seq 3 type b\n' in text
    assert b'file "q\\"x.incr" seq 5 type i\n' in text
    back = aof.aof_load_manifest_from_file(str(aofdir / "appendonly.aof.manifest"))
    assert back.base_aof_info.file_name == "my base.rdb"
    assert [(a.file_name, a.file_seq) for a in back.incr_aof_list] == \
        [("a.incr", 4), ('q"x.incr', 5)]
    assert [a.file_name for a in back.history_aof_list] == ["old.aof"]
    assert back.curr_incr_file_seq == 5 and back.curr_base_file_seq == 3
    assert not (aofdir / "temp-appendonly.aof.manifest").exists()


@pytest.mark.parametrize("text,err", [
    (b"", "Found an empty AOF manifest"),
    (b"file a seq 1 type b\nfile b seq 2 type b\n", "Found duplicate base file information"),
    (b"file a seq 2 type i\nfile b seq 2 type i\n", "Found a non-monotonic sequence number"),
    (b"file ../a seq 1 type i\n", "File can't be a path, just a filename"),
    (b"file a seq 1 type x\n", "Unknown AOF file type"),
    (b"file a seq 1\n", "Invalid AOF manifest file format"),
    (b"file a seq 0 type i\n", "Invalid AOF manifest file format"),
    (b"\n", "Invalid AOF manifest file format"),
    (b"file a seq 1 type i", "The AOF manifest file contains too long line"),
])
def test_bad_manifests_are_fatal(aofdir, text, err, monkeypatch):
    logged = []
    monkeypatch.setattr(server, "log", lambda level, msg: logged.append(msg))
    path = aofdir / "appendonly.aof.manifest"
    path.write_bytes(text)
    with pytest.raises(SystemExit) as e:
        aof.aof_load_manifest_from_file(str(path))
    assert e.value.code == 1
    assert any(err in m for m in logged), logged


def test_manifest_comments_and_extra_fields_are_accepted(aofdir):
    path = aofdir / "appendonly.aof.manifest"
    path.write_bytes(b"# a comment\nfile a.rdb seq 1 type b newkey newval\n"
                     b"FILE b.aof SEQ 7 TYPE i\n")
    am = aof.aof_load_manifest_from_file(str(path))
    assert am.base_aof_info.file_name == "a.rdb"
    assert am.incr_aof_list[0].file_seq == 7


def test_command_stream_select_and_absolute_expires(monkeypatch):
    monkeypatch.setattr(server, "aof_buf", bytearray())
    monkeypatch.setattr(server, "aof_selected_db", -1)
    monkeypatch.setattr(server, "aof_state", aof.AOF_ON)
    monkeypatch.setattr(server, "aof_timestamp_enabled", False)
    monkeypatch.setattr(server, "mstime", 1_000_000)
    aof.feed_append_only_file(0, [b"SET", b"k", b"v"])
    aof.feed_append_only_file(0, [b"INCR", b"n"])
    aof.feed_append_only_file(12, [b"DEL", b"k"])
    aof.feed_append_only_file(12, [b"expire", b"k", b"10", b"NX"])
    aof.feed_append_only_file(12, [b"SETEX", b"k", b"2", b"val"])
    assert bytes(server.aof_buf) == (
        b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
        b"*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n"
        b"*2\r\n$6\r\nSELECT\r\n$2\r\n12\r\n*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n"
        b"*4\r\n$9\r\nPEXPIREAT\r\n$1\r\nk\r\n$7\r\n1010000\r\n$2\r\nNX\r\n"
        b"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\nval\r\n$4\r\nPXAT\r\n$7\r\n1002000\r\n")
    # AOF waiting for its first rewrite without a child: SELECT is tracked, nothing kept.
    monkeypatch.setattr(server, "aof_buf", bytearray())
    monkeypatch.setattr(server, "aof_state", aof.AOF_WAIT_REWRITE)
    aof.feed_append_only_file(1, [b"SET", b"k", b"v"])
    assert server.aof_buf == b"" and server.aof_selected_db == 1


def test_generic_command_encodes_integers():
    assert aof.cat_append_only_generic_command([b"SET", b"k", 42]) == \
        b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n42\r\n"


@pytest.fixture
def aoffile(tmp_path, monkeypatch):
    """server.aof_fd open on a temp INCR file, AOF on, clean counters."""
    path = tmp_path / "x.incr.aof"
    fd = os.open(str(path), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    for name, val in (("aof_fd", fd), ("aof_state", aof.AOF_ON), ("aof_buf", bytearray()),
                      ("aof_last_incr_size", 0), ("aof_last_incr_fsync_offset", 0),
                      ("aof_current_size", 0), ("aof_flush_postponed_start", 0),
                      ("aof_delayed_fsync", 0), ("aof_last_fsync", 100), ("unixtime", 101),
                      ("aof_last_write_status", aof.C_OK), ("child_pid", -1)):
        monkeypatch.setattr(server, name, val)
    yield path
    assert aof.bio.wait_idle()
    os.close(fd)


def test_flush_always_writes_and_fsyncs_in_line(aoffile, monkeypatch):
    monkeypatch.setattr(server, "appendfsync", "always")
    server.aof_buf += b"*1\r\n$4\r\nPING\r\n"
    aof.flush_append_only_file(False)
    assert aoffile.read_bytes() == b"*1\r\n$4\r\nPING\r\n"
    assert server.aof_buf == b""
    assert server.aof_last_incr_size == server.aof_last_incr_fsync_offset == 14
    assert server.aof_current_size == 14
    assert aof.bio.pending_jobs_of_type(aof.BIO_AOF_FSYNC) == 0   # nothing in the background


def test_flush_everysec_fsyncs_in_the_background_and_postpones(aoffile, monkeypatch):
    monkeypatch.setattr(server, "appendfsync", "everysec")
    server.aof_buf += b"abc"
    aof.flush_append_only_file(False)
    assert aoffile.read_bytes() == b"abc"
    assert server.aof_last_fsync == 101 and server.aof_last_incr_fsync_offset == 3
    assert aof.bio.wait_idle()
    # Within the same second: written, no new fsync asked for.
    server.aof_buf += b"def"
    aof.flush_append_only_file(False)
    assert aoffile.read_bytes() == b"abcdef" and server.aof_last_incr_fsync_offset == 3
    # An fsync still running: the write waits (up to 2 s), then goes ahead and counts as a
    # delayed fsync.
    monkeypatch.setattr(aof, "aof_fsync_in_progress", lambda: True)
    server.aof_buf += b"ghi"
    aof.flush_append_only_file(False)
    assert server.aof_flush_postponed_start == 101 and aoffile.read_bytes() == b"abcdef"
    monkeypatch.setattr(server, "unixtime", 102)
    aof.flush_append_only_file(False)
    assert aoffile.read_bytes() == b"abcdef" and server.aof_delayed_fsync == 0
    monkeypatch.setattr(server, "unixtime", 104)
    aof.flush_append_only_file(False)
    assert aoffile.read_bytes() == b"abcdefghi" and server.aof_delayed_fsync == 1
    assert server.aof_flush_postponed_start == 0
    # force writes at once whatever the background thread does.
    server.aof_buf += b"jk"
    aof.flush_append_only_file(True)
    assert aoffile.read_bytes() == b"abcdefghijk"


def test_write_error_keeps_data_and_denies_writes(aoffile, monkeypatch):
    monkeypatch.setattr(server, "appendfsync", "everysec")
    monkeypatch.setattr(server, "aof_last_write_errno", 0)
    good_fd = server.aof_fd
    monkeypatch.setattr(server, "aof_fd", 987654)   # EBADF on write
    server.aof_buf += b"data"
    aof.flush_append_only_file(False)
    assert server.aof_last_write_status == aof.C_ERR and server.aof_buf == b"data"
    assert aof.write_commands_denied_by_aof_error()
    assert aof.write_commands_get_aof_error_message() == \
        "-MISCONF Errors writing to the AOF file: Bad file descriptor"
    monkeypatch.setattr(server, "aof_fd", good_fd)
    aof.flush_append_only_file(False)
    assert server.aof_last_write_status == aof.C_OK and aoffile.read_bytes() == b"data"
    assert not aof.write_commands_denied_by_aof_error()


# --------------------------------------------------------------------------------------------
# Whole server
# --------------------------------------------------------------------------------------------

@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="tracered-aof-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_start_creates_base_and_incr_then_restart_keeps_everything(workdir):
    sp = _start(workdir)
    try:
        c = sp.client()
        assert _manifest(workdir) == ("file appendonly.aof.1.base.rdb seq 1 type b\n"
                                      "file appendonly.aof.1.incr.aof seq 1 type i\n")
        populate(c)
        digest = _digest(c)
        assert digest != b"0" * 40
        with open(os.path.join(_aofdir(workdir), "appendonly.aof.1.incr.aof"), "rb") as f:
            stream = f.read()
        assert stream.startswith(b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n")
        assert b"MULTI" in stream and b"EXEC" in stream and b"$6\r\nSELECT\r\n$1\r\n3\r\n" in stream
        # Relative TTLs never reach the file: SET ... PXAT / PEXPIREAT only.
        up = stream.upper()
        assert b"$5\r\nSETEX\r\n" not in up and b"$6\r\nEXPIRE\r\n" not in up
        assert b"$4\r\nPXAT\r\n" in up and b"$9\r\nPEXPIREAT\r\n" in up
        info = _info(c)
        assert info["aof_enabled"] == 1 and info["aof_last_write_status"] == "ok"
        assert info["aof_current_size"] == len(stream)
        assert info["aof_buffer_length"] == 0
    finally:
        sp.kill()   # kill -9: nothing but what is already in the file survives
    sp = _start(workdir)
    try:
        c = sp.client()
        assert _digest(c) == digest
        assert c.ttl("s:ttl") > 3000 and c.ttl("h:small") > 7000
        assert c.get("tx:counter") == b"2"
        assert redis.Redis(port=sp.port, db=3).get("db3:key") == b"three"
        assert "DB loaded from append only file" in sp.log()
    finally:
        sp.stop()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_bgrewriteaof_under_writes_then_restart(workdir, preamble):
    sp = _start(workdir, "--aof-use-rdb-preamble", preamble, "--appendfsync", "always",
                "--rdb-key-save-delay", "20000")
    acked = []
    stop = threading.Event()

    def writer():
        w = sp.client()
        i = 0
        while not stop.is_set():
            w.rpush("acked", i)
            acked.append(i)
            i += 1

    try:
        c = sp.client()
        populate(c)
        t = threading.Thread(target=writer)
        t.start()
        try:
            assert _raw(sp.port, "BGREWRITEAOF") == \
                b"+Background append only file rewriting started"
            assert _raw(sp.port, "BGREWRITEAOF") == \
                b"-ERR Background append only file rewriting already in progress"
            assert _info(c)["aof_rewrite_in_progress"] == 1
            _rewrite_done(c, 1)
        finally:
            stop.set()
            t.join(10)
        info = _info(c)
        assert info["aof_last_bgrewrite_status"] == "ok" and info["aof_rewrites"] == 1
        assert info["aof_last_rewrite_time_sec"] >= 0
        ext = "rdb" if preamble == "yes" else "aof"
        _wait(lambda: sorted(os.listdir(_aofdir(workdir))) == sorted(
            [f"appendonly.aof.2.base.{ext}", "appendonly.aof.2.incr.aof",
             "appendonly.aof.manifest"]))   # history files deleted
        assert _manifest(workdir) == (f"file appendonly.aof.2.base.{ext} seq 2 type b\n"
                                      "file appendonly.aof.2.incr.aof seq 2 type i\n")
        with open(os.path.join(_aofdir(workdir), f"appendonly.aof.2.base.{ext}"), "rb") as f:
            head = f.read(16)
        if preamble == "yes":
            assert head.startswith(b"REDIS0010")
        else:
            assert head.startswith(b"*2\r\n$6\r\nSELECT\r\n")
        with open(os.path.join(_aofdir(workdir), "appendonly.aof.2.incr.aof"), "rb") as f:
            assert f.read(16).startswith(b"*2\r\n$6\r\nSELECT\r\n")  # forced SELECT
        c.set("after", "rewrite")
        digest = _digest(c)
        assert len(acked) > 0
    finally:
        sp.kill()
    sp = _start(workdir)
    try:
        c = sp.client()
        assert _digest(c) == digest
        assert c.lrange("acked", 0, -1) == [str(i).encode() for i in acked]
    finally:
        sp.stop()


def test_rewrite_scheduled_behind_bgsave(workdir):
    sp = _start(workdir, "--rdb-key-save-delay", "100000")
    try:
        c = sp.client()
        for i in range(20):
            c.set(f"k{i}", i)
        c.bgsave()
        assert _raw(sp.port, "BGREWRITEAOF") == \
            b"+Background append only file rewriting scheduled"
        assert _info(c)["aof_rewrite_scheduled"] == 1
        c.config_set("rdb-key-save-delay", "0")
        _rewrite_done(c, 1)
        assert _info(c)["aof_last_bgrewrite_status"] == "ok"
        assert _manifest(workdir).startswith("file appendonly.aof.2.base.rdb seq 2 type b\n")
    finally:
        sp.stop()


def test_automatic_rewrite_on_growth(workdir):
    sp = _start(workdir, "--auto-aof-rewrite-min-size", "4096",
                "--auto-aof-rewrite-percentage", "100")
    try:
        c = sp.client()
        for i in range(100):
            c.set(f"key:{i}", "x" * 50)
        _wait(lambda: _info(c)["aof_rewrites"] >= 1)
        _rewrite_done(c, 1)
        assert "Starting automatic rewriting of AOF on" in sp.log()
        info = _info(c)
        assert info["aof_base_size"] > 0 and info["aof_current_size"] >= info["aof_base_size"]
        assert c.dbsize() == 100
    finally:
        sp.stop()


def test_config_set_appendonly_at_run_time(workdir):
    sp = ServerProc.start_tracered("--appendfsync", "always", workdir=workdir)
    try:
        c = sp.client()
        assert _info(c)["aof_enabled"] == 0
        populate(c)
        assert c.config_set("appendonly", "yes")
        _rewrite_done(c, 1)
        info = _info(c)
        assert info["aof_enabled"] == 1 and info["aof_last_bgrewrite_status"] == "ok"
        # The first rewrite wrote the BASE and renamed the temp INCR file in.
        assert _manifest(workdir) == ("file appendonly.aof.1.base.rdb seq 1 type b\n"
                                      "file appendonly.aof.1.incr.aof seq 1 type i\n")
        assert not os.path.exists(os.path.join(_aofdir(workdir), "temp-appendonly.aof.incr"))
        c.set("later", "1")
        c.rpush("l:small", "more")
        digest = _digest(c)
        assert c.config_set("appendonly", "no")
        assert _info(c)["aof_enabled"] == 0
        c.set("not:logged", "1")
    finally:
        sp.kill()
    sp = _start(workdir)
    try:
        c = sp.client()
        assert _digest(c) == digest
        assert c.get("not:logged") is None
    finally:
        sp.stop()


def _write_and_kill(workdir: str, *args: str) -> str:
    """Start with AOF, write a few keys, kill -9; returns the INCR file's path."""
    sp = _start(workdir, *args)
    try:
        c = sp.client()
        for i in range(10):
            c.set(f"k{i}", f"v{i}")
    finally:
        sp.kill()
    return os.path.join(_aofdir(workdir), "appendonly.aof.1.incr.aof")


def test_truncated_tail_is_cut_with_aof_load_truncated(workdir):
    incr = _write_and_kill(workdir)
    good = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*3\r\n$3\r\nSET\r\n$2\r\nzz\r\n$10\r\nshort")
    code, log = _start_expecting_exit(workdir, "--appendonly", "yes",
                                      "--aof-load-truncated", "no")
    assert code == 1
    assert "Unexpected end of file reading the append only file appendonly.aof.1.incr.aof" in log
    assert os.path.getsize(incr) > good   # untouched
    sp = _start(workdir, "--aof-load-truncated", "yes")
    try:
        c = sp.client()
        assert c.dbsize() == 10 and c.get("zz") is None
        log = sp.log()
        assert "!!! Warning: short read while loading the AOF file " \
               "appendonly.aof.1.incr.aof!!!" in log
        assert f"!!! Truncating the AOF appendonly.aof.1.incr.aof at offset {good} !!!" in log
        assert os.path.getsize(incr) == good
        c.set("after", "1")   # appended after the cut: the file stays well formed
    finally:
        sp.kill()
    sp = _start(workdir)
    try:
        assert sp.client().dbsize() == 11
    finally:
        sp.stop()


def test_incomplete_transaction_is_reverted(workdir):
    incr = _write_and_kill(workdir)
    good = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(b"*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$2\r\ntx\r\n$1\r\n1\r\n")
    sp = _start(workdir)
    try:
        c = sp.client()
        assert c.get("tx") is None and c.dbsize() == 10
        assert "Revert incomplete MULTI/EXEC transaction in AOF file" in sp.log()
        assert os.path.getsize(incr) == good
    finally:
        sp.stop()


@pytest.mark.parametrize("garbage,needle", [
    (b"+GARBAGE\r\n", "Bad file format reading the append only file "
                      "appendonly.aof.1.incr.aof at offset {off}"),
    (b"*2\r\n$4\r\nNOPE\r\n$1\r\nx\r\n", "Unknown command 'NOPE' reading the append only "
                                         "file appendonly.aof.1.incr.aof"),
])
def test_corrupt_content_refuses_to_start(workdir, garbage, needle):
    incr = _write_and_kill(workdir)
    off = os.path.getsize(incr)
    with open(incr, "ab") as f:
        f.write(garbage + b"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\nb\r\n")
    code, log = _start_expecting_exit(workdir, "--appendonly", "yes")
    assert code == 1
    assert needle.format(off=off) in log
    assert "Ready to accept connections" not in log


def test_missing_or_corrupt_base_refuses_to_start(workdir):
    _write_and_kill(workdir)
    base = os.path.join(_aofdir(workdir), "appendonly.aof.1.base.rdb")
    with open(base, "rb") as f:
        data = f.read()
    with open(base, "wb") as f:
        f.write(data[:-3])   # cut into the RDB checksum
    code, log = _start_expecting_exit(workdir, "--appendonly", "yes")
    assert code == 1 and "Error reading the RDB base file appendonly.aof.1.base.rdb" in log
    os.unlink(base)
    code, log = _start_expecting_exit(workdir, "--appendonly", "yes")
    assert code == 1 and "Unable to obtain the AOF file appendonly.aof.1.base.rdb length" in log


def test_aof_wins_over_rdb_and_upgrade_from_single_file(workdir):
    # A pre-7.0 appendonly.aof in the working dir (RDB preamble + command tail), plus a
    # dump.rdb holding something else: with appendonly yes only the AOF is loaded.
    sp = ServerProc.start_tracered(workdir=workdir)
    try:
        c = sp.client()
        c.set("from", "rdb-only")
        c.save()   # dump.rdb holds another dataset
    finally:
        sp.stop()
    dump = os.path.join(workdir, "dump.rdb")
    # Rebuild the preamble dataset into appendonly.aof: an RDB then commands.
    sp = ServerProc.start_tracered("--dbfilename", "pre.rdb", workdir=workdir)
    try:
        c = sp.client()
        c.set("from", "preamble")
        c.rpush("list", "a", "b")
        c.save()
    finally:
        sp.stop()
    with open(os.path.join(workdir, "pre.rdb"), "rb") as f:
        preamble = f.read()
    os.unlink(os.path.join(workdir, "pre.rdb"))
    with open(os.path.join(workdir, "appendonly.aof"), "wb") as f:
        f.write(preamble + b"*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n"
                           b"*3\r\n$5\r\nRPUSH\r\n$4\r\nlist\r\n$1\r\nc\r\n")
    assert os.path.exists(dump)
    sp = _start(workdir)
    try:
        c = sp.client()
        assert c.get("from") == b"preamble"
        assert c.lrange("list", 0, -1) == [b"a", b"b", b"c"]
        log = sp.log()
        assert "Successfully migrated an old-style AOF file (appendonly.aof) into the AOF " \
               "directory (appendonlydir)." in log
        assert "Reading RDB preamble from AOF file..." in log
        assert _manifest(workdir) == ("file appendonly.aof seq 1 type b\n"
                                      "file appendonly.aof.1.incr.aof seq 1 type i\n")
        assert not os.path.exists(os.path.join(workdir, "appendonly.aof"))
        c.set("new", "1")
    finally:
        sp.kill()
    sp = _start(workdir)
    try:
        c = sp.client()
        assert c.get("new") == b"1" and c.get("from") == b"preamble"
    finally:
        sp.stop()


def test_everysec_timestamps_and_info_fields(workdir):
    sp = _start(workdir, "--appendfsync", "everysec", "--aof-timestamp-enabled", "yes")
    try:
        c = sp.client()
        for _ in range(50):
            c.incr("n")
        info = _info(c)
        for field in ("aof_enabled", "aof_rewrite_in_progress", "aof_rewrite_scheduled",
                      "aof_last_rewrite_time_sec", "aof_current_rewrite_time_sec",
                      "aof_last_bgrewrite_status", "aof_rewrites", "aof_last_write_status",
                      "aof_last_cow_size", "aof_current_size", "aof_base_size",
                      "aof_pending_rewrite", "aof_buffer_length", "aof_delayed_fsync",
                      "aof_pending_bio_fsync"):
            assert field in info, field
        time.sleep(1.5)   # at least one background fsync happened meanwhile
        incr = os.path.join(_aofdir(workdir), "appendonly.aof.1.incr.aof")
        with open(incr, "rb") as f:
            assert f.read().startswith(b"#TS:")
        assert c.execute_command("DEBUG", "LOADAOF") == b"OK"
        assert c.get("n") == b"50"
    finally:
        sp.kill()
    sp = _start(workdir)
    try:
        assert sp.client().get("n") == b"50"
    finally:
        sp.stop()


def test_shutdown_flushes_and_sigterm_keeps_data(workdir):
    sp = _start(workdir, "--appendfsync", "no")
    try:
        c = sp.client()
        c.set("a", "1")
        c.mset({"b": "2", "c": "3"})
    finally:
        sp.proc.send_signal(signal.SIGTERM)
        sp.proc.wait(15)
    assert "Calling fsync() on the AOF file." in sp.log()
    sp = _start(workdir)
    try:
        assert sp.client().mget("a", "b", "c") == [b"1", b"2", b"3"]
    finally:
        sp.stop()


def test_shutdown_refused_while_the_first_base_is_written(workdir):
    sp = ServerProc.start_tracered("--rdb-key-save-delay", "200000", workdir=workdir)
    try:
        c = sp.client()
        for i in range(30):
            c.set(f"k{i}", i)
        c.config_set("appendonly", "yes")
        assert _info(c)["aof_rewrite_in_progress"] == 1
        with pytest.raises(redis.ResponseError, match="Errors trying to SHUTDOWN"):
            c.shutdown()
        assert "Writing initial AOF, can't exit." in sp.log()
        assert sp.alive() and c.ping()
    finally:
        sp.kill()


def test_killed_rewrite_is_an_error_and_the_aof_stays_whole(workdir):
    import re

    sp = _start(workdir, "--rdb-key-save-delay", "200000")
    try:
        c = sp.client()
        for i in range(30):
            c.set(f"k{i}", i)
        assert _raw(sp.port, "BGREWRITEAOF") == b"+Background append only file rewriting started"
        pid = int(_wait(lambda: re.search(r"rewriting started by pid (\d+)", sp.log())).group(1))
        c.set("during", "rewrite")
        os.kill(pid, signal.SIGKILL)
        _wait(lambda: not _info(c)["aof_rewrite_in_progress"])
        info = _info(c)
        assert info["aof_last_bgrewrite_status"] == "err"
        assert info["aof_rewrites_consecutive_failures"] == 1
        assert "Background AOF rewrite terminated by signal 9" in sp.log()
        # The old BASE and both INCR files still make up the AOF.
        assert _manifest(workdir) == ("file appendonly.aof.1.base.rdb seq 1 type b\n"
                                      "file appendonly.aof.1.incr.aof seq 1 type i\n"
                                      "file appendonly.aof.2.incr.aof seq 2 type i\n")
        assert not [f for f in os.listdir(workdir) if f.startswith("temp-rewriteaof")]
        c.set("after", "failure")
        c.config_set("rdb-key-save-delay", "0")
        assert _raw(sp.port, "BGREWRITEAOF") == b"+Background append only file rewriting started"
        _wait(lambda: _info(c)["aof_last_bgrewrite_status"] == "ok")
        assert _info(c)["aof_rewrites_consecutive_failures"] == 0
        assert _manifest(workdir) == ("file appendonly.aof.2.base.rdb seq 2 type b\n"
                                      "file appendonly.aof.3.incr.aof seq 3 type i\n")
        digest = _digest(c)
    finally:
        sp.kill()
    sp = _start(workdir)
    try:
        c = sp.client()
        assert _digest(c) == digest and c.dbsize() == 32
    finally:
        sp.stop()
