"""Transactions on tracered: redis-py pipelines (transaction=True) and WATCH retry loops over
TCP, plus in-process checks of what EXEC propagates to the AOF/replicas and of the WATCH
bookkeeping (multi.py).  Reply-for-reply comparisons with redis-server live in
test_diff_multi_pubsub.py.
"""

from __future__ import annotations

import threading
import time

import pytest
import redis

# --------------------------------------------------------------------------------------------
# Over TCP with redis-py
# --------------------------------------------------------------------------------------------


def test_pipeline_transaction_results(r):
    r.set("n", "10")
    with r.pipeline(transaction=True) as p:
        p.set("a", "1").incr("n").lpush("l", "x", "y").get("a").lrange("l", 0, -1)
        assert p.execute() == [True, 11, 2, b"1", [b"y", b"x"]]
    assert r.get("n") == b"11"


def test_runtime_error_inside_exec_does_not_stop_the_others(r):
    r.set("s", "text")
    with r.pipeline(transaction=True) as p:
        p.incr("s").set("after", "yes").get("after")
        res = p.execute(raise_on_error=False)
    assert isinstance(res[0], redis.ResponseError)
    assert res[1:] == [True, b"yes"]


def test_queueing_error_aborts_whole_transaction(r):
    with r.pipeline(transaction=True) as p:
        p.set("a", "1")
        p.execute_command("SET", "onlykey")  # arity error while queueing
        with pytest.raises(redis.ResponseError) as ei:
            p.execute()
    assert "wrong number of arguments" in str(ei.value) or "EXECABORT" in str(ei.value)
    assert r.get("a") is None


def test_watch_error_then_retry(tracered_server, r):
    other = tracered_server.client()
    r.set("k", "1")
    with r.pipeline(transaction=True) as p:
        p.watch("k")
        assert p.get("k") == b"1"
        other.set("k", "2")
        p.multi()
        p.set("k", "3")
        with pytest.raises(redis.WatchError):
            p.execute()
        # Retry: the failed EXEC unwatched everything.
        p.watch("k")
        v = int(p.get("k"))
        p.multi()
        p.set("k", v + 10)
        assert p.execute() == [True]
    assert r.get("k") == b"12"
    other.close()


def test_concurrent_watch_retry_loops_lose_no_update(tracered_server, r):
    """The classic optimistic-locking loop: several clients each add 1 a number of times
    with WATCH/MULTI/EXEC; every lost race is retried, so no increment is lost."""
    r.set("counter", "0")
    threads, per_thread = 4, 15
    retries = []
    errors = []

    def worker():
        c = tracered_server.client()
        try:
            for _ in range(per_thread):
                def incr(pipe):
                    v = int(pipe.get("counter"))
                    pipe.multi()
                    pipe.set("counter", v + 1)

                tries = 0
                for _ in range(200):
                    tries += 1
                    try:
                        with c.pipeline(transaction=True) as p:
                            p.watch("counter")
                            incr(p)
                            p.execute()
                        break
                    except redis.WatchError:
                        continue
                retries.append(tries - 1)
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            c.close()

    ts = [threading.Thread(target=worker) for _ in range(threads)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(60)
    assert not errors
    assert int(r.get("counter")) == threads * per_thread
    # redis-py's own helper does the same loop.
    assert r.transaction(lambda p: p.multi() or p.incr("counter"), "counter") == [
        threads * per_thread + 1]


def test_client_list_shows_transaction(tracered_server, r):
    c = tracered_server.client(single_connection_client=True)
    try:
        cid = c.client_id()
        c.execute_command("MULTI")
        c.execute_command("SET", "x", "1")
        c.execute_command("GET", "x")
        line = [x for x in r.client_list() if int(x["id"]) == cid][0]
        assert "x" in line["flags"] and line["multi"] == "2"
        assert c.execute_command("EXEC") == [b"OK", b"1"]
        line = [x for x in r.client_list() if int(x["id"]) == cid][0]
        assert line["multi"] == "-1"
    finally:
        c.close()


def test_reset_discards_transaction_and_watches(tracered_server, r):
    c = tracered_server.client(single_connection_client=True)
    try:
        c.execute_command("WATCH", "w")
        c.execute_command("MULTI")
        c.execute_command("SET", "w", "1")
        assert c.execute_command("RESET") in ("RESET", b"RESET")
        assert r.get("w") is None
        r.set("w", "2")  # would have failed a still-watching EXEC
        c.execute_command("MULTI")
        assert c.execute_command("EXEC") == []
    finally:
        c.close()


def test_blpop_inside_transaction_returns_at_once(r):
    start = time.monotonic()
    with r.pipeline(transaction=True) as p:
        p.blpop("empty", 0)
        p.rpush("empty", "v")
        p.blpop("empty", 0)
        res = p.execute()
    assert res[:2] == [None, 1] and list(res[2]) == [b"empty", b"v"]
    assert time.monotonic() - start < 5


def test_push_inside_exec_serves_a_blocked_client_after_exec(tracered_server, r):
    """Keys made ready inside EXEC are handed to blocked clients once EXEC is over."""
    blocked = tracered_server.client()
    got = []
    t = threading.Thread(target=lambda: got.append(blocked.blpop("jobs", 5)))
    t.start()
    try:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and not any(
                "b" in x["flags"] for x in r.client_list()):
            time.sleep(0.02)
        with r.pipeline(transaction=True) as p:
            p.rpush("jobs", "j1", "j2").lrange("jobs", 0, -1)
            assert p.execute() == [2, [b"j1", b"j2"]]  # nobody took j1 inside the EXEC
        t.join(5)
        assert [list(x) for x in got] == [[b"jobs", b"j1"]]
        assert r.lrange("jobs", 0, -1) == [b"j2"]
    finally:
        t.join(5)
        blocked.close()


def test_no_multi_commands_refused_inside_multi(tracered_server):
    c = tracered_server.client(single_connection_client=True)
    try:
        c.execute_command("MULTI")
        with pytest.raises(redis.ResponseError, match="not allowed inside a transaction"):
            c.execute_command("SHUTDOWN")
        with pytest.raises(redis.exceptions.ExecAbortError, match="previous errors"):
            c.execute_command("EXEC")
    finally:
        c.close()


# --------------------------------------------------------------------------------------------
# In process: propagation and bookkeeping
# --------------------------------------------------------------------------------------------

class InProc:
    """The command path in this process, on fake clients, capturing what is propagated."""

    def __init__(self) -> None:
        from tracered import commands, multi, pubsub
        from tracered import db as dbmod
        from tracered import networking as net
        from tracered import server as sm

        self.sm = sm
        self.net = net
        srv = sm.server
        net.server = srv
        self.saved = (srv.db, list(srv.propagate_hooks))
        srv.db = [dbmod.RedisDb(i) for i in range(srv.databases)]
        commands.populate_command_table(sm.all_command_tables())
        multi.init(srv)
        pubsub.init(srv)
        self.propagated: list[tuple[list[bytes], int]] = []
        srv.propagate_hooks[:] = [
            lambda dbid, argv, target: self.propagated.append(([bytes(a) for a in argv],
                                                               target))]
        self.c = net.create_client(None)

    def close(self) -> None:
        srv = self.sm.server
        srv.db, srv.propagate_hooks[:] = self.saved[0], self.saved[1]

    def __call__(self, *args, c=None) -> bytes:
        c = c or self.c
        c.argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sm.server.current_client = c
        try:
            self.sm.process_command(c)
        finally:
            self.sm.server.current_client = None
        out = b"".join(c.reply)
        c.reply.clear()
        c.reply_bytes = 0
        return out

    def argvs(self) -> list[list[bytes]]:
        out = [argv for argv, _ in self.propagated]
        self.propagated.clear()
        return out


@pytest.fixture
def inproc():
    p = InProc()
    yield p
    p.close()


def test_exec_propagates_writes_once_inside_multi_exec(inproc):
    p = inproc
    assert p("MULTI") == b"+OK\r\n"
    assert p("SET", "a", "1") == b"+QUEUED\r\n"
    p("INCR", "n")
    p("GET", "a")
    p("DEL", "nokey")
    assert p.argvs() == []  # nothing leaves before EXEC
    assert p("EXEC") == b"*4\r\n+OK\r\n:1\r\n$1\r\n1\r\n:0\r\n"
    assert p.argvs() == [[b"MULTI"], [b"SET", b"a", b"1"], [b"INCR", b"n"], [b"EXEC"]]


def test_exec_single_write_and_read_only(inproc):
    p = inproc
    p("MULTI")
    p("SET", "a", "1")
    p("GET", "a")
    p("EXEC")
    assert p.argvs() == [[b"SET", b"a", b"1"]]  # one command is atomic on its own
    p("MULTI")
    p("GET", "a")
    p("EXISTS", "a")
    p("EXEC")
    assert p.argvs() == []


def test_exec_propagates_rewritten_argv_and_lazy_expire(inproc):
    p = inproc
    p("SET", "e", "1", "PX", "1")
    p.argvs()
    time.sleep(0.01)
    p("MULTI")
    p("GET", "e")
    p("SET", "k", "v", "EX", "100")
    p("EXEC")
    out = p.argvs()
    assert out[0] == [b"MULTI"] and out[-1] == [b"EXEC"]
    assert out[1] == [b"DEL", b"e"]
    assert out[2][:3] == [b"SET", b"k", b"v"] and out[2][3].upper() == b"PXAT"
    assert len(out) == 4


def test_exec_publish_goes_to_replicas_only(inproc):
    p = inproc
    p("MULTI")
    p("SET", "a", "1")
    p("PUBLISH", "ch", "m")
    p("EXEC")
    from tracered.server import PROPAGATE_AOF, PROPAGATE_REPL

    assert [(a[0], t) for a, t in p.propagated] == [
        (b"MULTI", PROPAGATE_AOF | PROPAGATE_REPL), (b"SET", PROPAGATE_AOF | PROPAGATE_REPL),
        (b"PUBLISH", PROPAGATE_REPL), (b"EXEC", PROPAGATE_AOF | PROPAGATE_REPL)]


def test_failed_transactions_propagate_nothing(inproc):
    p = inproc
    p("MULTI")
    p("SET", "a", "1")
    p("NOSUCH")
    assert p("EXEC").startswith(b"-EXECABORT")
    c2 = p.net.create_client(None)
    p("WATCH", "w")
    p("SET", "w", "x", c=c2)
    p.argvs()
    p("MULTI")
    p("SET", "a", "1")
    assert p("EXEC") == b"*-1\r\n"
    assert p.argvs() == []


def test_queue_is_not_kept_after_an_error(inproc):
    p = inproc
    p("MULTI")
    p("SET", "a", "1")
    p("SET", "onlykey")
    for i in range(20):
        p("SET", "k%d" % i, "v")
    assert len(p.c.mstate.commands) == 1
    p("DISCARD")
    assert p.c.mstate is None


def test_watch_bookkeeping_and_free_client(inproc):
    p = inproc
    srv = p.sm.server
    c2 = p.net.create_client(None)
    p("WATCH", "a", "b", "a", c=c2)
    p("WATCH", "a")
    db0 = srv.db[0]
    assert sorted(db0.watched_keys) == [b"a", b"b"]
    assert len(db0.watched_keys[b"a"]) == 2
    assert len(c2.mstate.watched_keys) == 2
    # A touch unwatches the flagged client at once (nothing left for it to learn).
    p("SET", "a", "1")
    assert c2.flags & p.net.CLIENT_DIRTY_CAS
    assert c2.mstate.watched_keys == []
    assert db0.watched_keys == {}
    p("WATCH", "z", c=c2)
    assert db0.watched_keys == {}  # already dirty: WATCH adds nothing
    p("UNWATCH", c=c2)
    p("WATCH", "z", c=c2)
    assert list(db0.watched_keys) == [b"z"]
    for hook in srv.free_client_hooks:
        hook(c2)
    assert db0.watched_keys == {}


def test_exec_rejected_by_process_command_is_execabort(inproc):
    p = inproc
    srv = p.sm.server
    p("MULTI")
    p("SET", "a", "1")
    saved = srv.last_bgsave_ok, srv.save, srv.stop_writes_on_bgsave_error
    srv.last_bgsave_ok, srv.save, srv.stop_writes_on_bgsave_error = False, [(1, 1)], True
    try:
        out = p("EXEC")
    finally:
        srv.last_bgsave_ok, srv.save, srv.stop_writes_on_bgsave_error = saved
    assert out.startswith(b"-EXECABORT Transaction discarded because of: MISCONF ")
    assert out.endswith(b"\r\n") and out.count(b"\r\n") == 1
    assert not p.c.flags & p.net.CLIENT_MULTI
