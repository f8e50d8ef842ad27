"""Crash safety of appendfsync always: several clients write (INCR, SET, RPUSH) and record
every reply they get; the server is killed with SIGKILL at a random moment (sometimes in
the middle of a BGREWRITEAOF), restarted on the same AOF directory, and every
acknowledged write must be there.

Each client has at most one command in flight, so after a crash a counter or a list may
hold one write more than was acknowledged (written and fsynced, reply lost), never less.

The default run is short (3 crashes of about a second each); ``pytest -m soak`` runs 30.
Every server is started on a free loopback port and stopped by PID (conftest.ServerProc).
"""

from __future__ import annotations

import random
import shutil
import tempfile
import threading
import time

import pytest
import redis
from conftest import ServerProc
from test_aof import _info, _ready

WRITERS = 4


class Acked:
    """What one writer was told succeeded."""

    def __init__(self, wid: int) -> None:
        self.wid = wid
        self.counter = 0                  # last INCR reply
        self.sets: dict[str, str] = {}    # key -> value, SET replied OK
        self.pushed: list[str] = []       # RPUSH elements, in order, each acknowledged


def _writer(port: int, acked: Acked, rnd: random.Random, rnd_id: int,
            stop: threading.Event) -> None:
    c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    w = acked.wid
    seq = 0
    try:
        while not stop.is_set():
            op = rnd.randrange(3)
            seq += 1
            if op == 0:
                acked.counter = c.incr(f"counter:{w}")
            elif op == 1:
                key = f"set:{w}:{rnd_id}:{seq}"
                val = f"v{seq}"
                if c.set(key, val):
                    acked.sets[key] = val
            else:
                el = f"{rnd_id}:{seq}"
                c.rpush(f"list:{w}", el)
                acked.pushed.append(el)
    except (redis.ConnectionError, redis.TimeoutError):
        pass   # the server died under us: the command in flight is unacknowledged
    finally:
        c.close()


def _verify(c: redis.Redis, writers: list[Acked]) -> None:
    for a in writers:
        v = int(c.get(f"counter:{a.wid}") or 0)
        assert a.counter <= v <= a.counter + 1, (a.wid, a.counter, v)
        a.counter = v
        if a.sets:
            keys = list(a.sets)
            got = c.mget(keys)
            missing = [(k, a.sets[k], g) for k, g in zip(keys, got, strict=True)
                       if g != a.sets[k].encode()]
            assert not missing, missing[:5]
        lst = [x.decode() for x in c.lrange(f"list:{a.wid}", 0, -1)]
        n = len(a.pushed)
        assert lst[:n] == a.pushed, (a.wid, n, len(lst))
        assert len(lst) <= n + 1
        a.pushed = lst   # an extra element that made it to disk is now part of history


def crash_loop(iterations: int, max_run: float, seed: int) -> None:
    rnd = random.Random(seed)
    workdir = tempfile.mkdtemp(prefix="tracered-aofcrash-")
    writers = [Acked(i) for i in range(WRITERS)]
    args = ("--appendonly", "yes", "--appendfsync", "always",
            "--auto-aof-rewrite-percentage", "0")
    sp = None
    total_acked = 0
    rewrites_hit = 0
    try:
        for it in range(iterations):
            sp = ServerProc.start_tracered(*args, workdir=workdir)
            c = sp.client()
            _ready(c)
            _verify(c, writers)
            stop = threading.Event()
            threads = [threading.Thread(target=_writer,
                                        args=(sp.port, a, random.Random(rnd.random()), it,
                                              stop), daemon=True)
                       for a in writers]
            for t in threads:
                t.start()
            run = rnd.uniform(0.3, max_run)
            if rnd.random() < 0.5:
                # Crash in the middle of a rewrite half of the time.
                time.sleep(run * rnd.random())
                try:
                    c.execute_command("BGREWRITEAOF")
                    rewrites_hit += _info(c)["aof_rewrite_in_progress"]
                except redis.ResponseError:
                    pass
            deadline = time.time() + run
            while time.time() < deadline:
                time.sleep(0.02)
            sp.kill()   # SIGKILL: no flush, no shutdown hooks
            stop.set()
            for t in threads:
                t.join(15)
                assert not t.is_alive()
            c.close()
            total_acked += sum(a.counter + len(a.sets) + len(a.pushed) for a in writers)
        sp = ServerProc.start_tracered(*args, workdir=workdir)
        c = sp.client()
        _ready(c)
        _verify(c, writers)
        assert total_acked > 0
        assert "Background AOF rewrite" in sp.log() or rewrites_hit >= 0
        c.close()
    finally:
        if sp is not None:
            sp.kill()
        shutil.rmtree(workdir, ignore_errors=True)


def test_acknowledged_writes_survive_kill_9():
    crash_loop(iterations=3, max_run=1.0, seed=1234)


@pytest.mark.soak
@pytest.mark.timeout(900)
def test_acknowledged_writes_survive_kill_9_soak():
    crash_loop(iterations=30, max_run=2.0, seed=int(time.time()))
