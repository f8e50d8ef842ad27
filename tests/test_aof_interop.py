"""AOF directories exchanged with Debian's redis-server 7.0 in both directions: a directory
written by tracered (RDB-preamble BASE or command BASE, INCR files with transactions and
several dbs) is accepted by redis-check-aof and loads in real Redis with the same DEBUG
DIGEST; one written by real Redis loads in tracered with the same digest and can be
appended to and handed back.  Both servers write the same manifest for the same history.

Every server is started on a free loopback port and stopped by PID (conftest.ServerProc).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile

import pytest
import redis
from conftest import ServerProc
from test_aof import _digest, _manifest, _raw, _ready, _rewrite_done, _wait, populate

REDIS_CHECK_AOF = shutil.which("redis-check-aof")


@pytest.fixture
def dirs():
    made = [tempfile.mkdtemp(prefix="aof-interop-") for _ in range(3)]
    yield made
    for d in made:
        shutil.rmtree(d, ignore_errors=True)


def _start_redis(workdir: str, *args: str) -> ServerProc:
    sp = ServerProc.start_redis("--appendonly", "yes", *args, workdir=workdir)
    _ready(sp.client())
    return sp


def _start_tracered(workdir: str, *args: str) -> ServerProc:
    sp = ServerProc.start_tracered("--appendonly", "yes", *args, workdir=workdir)
    _ready(sp.client())
    return sp


def _sigterm(sp: ServerProc) -> None:
    """A clean stop: both servers flush and fsync the AOF on SIGTERM."""
    if sp.alive():
        sp.proc.send_signal(signal.SIGTERM)
        try:
            sp.proc.wait(15)
        except subprocess.TimeoutExpired:
            sp.kill()
            raise


def _copy_aofdir(src: str, dst: str) -> None:
    shutil.copytree(os.path.join(src, "appendonlydir"), os.path.join(dst, "appendonlydir"))


def _check_aof(workdir: str) -> str:
    if REDIS_CHECK_AOF is None:
        pytest.skip("redis-check-aof (Debian's redis-tools) is not installed")
    res = subprocess.run([REDIS_CHECK_AOF,
                          os.path.join(workdir, "appendonlydir", "appendonly.aof.manifest")],
                         capture_output=True, text=True, timeout=60)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out
    assert "All AOF files and manifest are valid" in out, out
    return out


def _history(c: redis.Redis) -> None:
    """Data in the BASE (after a rewrite) and more in the INCR file after it."""
    populate(c)
    assert _raw(c.connection_pool.connection_kwargs["port"], "BGREWRITEAOF") == \
        b"+Background append only file rewriting started"
    _rewrite_done(c, 1)
    c.set("incr:after-rewrite", "yes", px=9_000_000)
    c.rpush("l:small", "tail")
    c.hset("h:big", "f0", "changed")
    c.zadd("z:big", {"new": 99})
    with c.pipeline(transaction=True) as tx:
        tx.incr("tx:counter")
        tx.sadd("set:int", 100)
        tx.execute()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_tracered_aof_loads_in_redis(dirs, preamble):
    tdir, rdir, _ = dirs
    sp = _start_tracered(tdir, "--aof-use-rdb-preamble", preamble)
    try:
        c = sp.client()
        _history(c)
        digest = _digest(c)
    finally:
        _sigterm(sp)
    out = _check_aof(tdir)
    if preamble == "yes":
        assert "RDB preamble is OK" in out
    _copy_aofdir(tdir, rdir)
    ref = _start_redis(rdir, "--aof-use-rdb-preamble", preamble)
    try:
        assert _digest(ref.client()) == digest
        assert "DB loaded from append only file" in ref.log()
    finally:
        ref.stop()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_redis_aof_loads_in_tracered_and_back(dirs, preamble):
    rdir, tdir, rdir2 = dirs
    ref = _start_redis(rdir, "--aof-use-rdb-preamble", preamble)
    try:
        c = ref.client()
        _history(c)
        digest = _digest(c)
    finally:
        _sigterm(ref)
    _copy_aofdir(rdir, tdir)
    sp = _start_tracered(tdir, "--aof-use-rdb-preamble", preamble)
    try:
        c = sp.client()
        assert _digest(c) == digest
        # Keep going on Redis's files: append, rewrite, append again.
        c.set("written:by", "tracered")
        c.lpush("l:small", "head")
        assert _raw(sp.port, "BGREWRITEAOF") == \
            b"+Background append only file rewriting started"
        _rewrite_done(c, 1)
        c.incr("tx:counter")
        digest = _digest(c)
        manifest = _manifest(tdir)
    finally:
        _sigterm(sp)
    assert manifest.startswith("file appendonly.aof.3.base.")   # Redis had written seq 2
    _check_aof(tdir)
    _copy_aofdir(tdir, rdir2)
    ref = _start_redis(rdir2, "--aof-use-rdb-preamble", preamble)
    try:
        assert _digest(ref.client()) == digest
    finally:
        ref.stop()


def test_same_manifest_and_files_as_redis(dirs):
    tdir, rdir, _ = dirs
    results = []
    for start, wd in ((_start_tracered, tdir), (_start_redis, rdir)):
        sp = start(wd)
        try:
            c = sp.client()
            c.set("a", "1")
            for n in (1, 2):
                assert _raw(sp.port, "BGREWRITEAOF") == \
                    b"+Background append only file rewriting started"
                _rewrite_done(c, n)
                c.set("b", str(n))
            aofdir = os.path.join(wd, "appendonlydir")
            _wait(lambda d=aofdir: len(os.listdir(d)) == 3)   # history deleted
            results.append((_manifest(wd), sorted(os.listdir(aofdir)), _digest(c)))
        finally:
            sp.stop()
    assert results[0] == results[1]
    assert results[0][0] == ("file appendonly.aof.3.base.rdb seq 3 type b\n"
                             "file appendonly.aof.3.incr.aof seq 3 type i\n")
