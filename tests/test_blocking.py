"""Blocking list commands (blocked.py + t_list.py) with several real clients.

Each blocked client is a redis-py connection used from a thread; the main thread pushes
and checks.  Order of service, timeouts, BLMOVE chains, CLIENT UNBLOCK, disconnects while
blocked and the resumption of a pipeline after the blocking command are covered; the
in-process tests check what the AOF/replicas would receive for a served client.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis
from test_t_hash import InProc, Raw


class Waiter:
    """Run one command on its own connection in a thread; remember reply and duration."""

    def __init__(self, server, *args, resp3: bool = False) -> None:
        self.client = server.client(protocol=3) if resp3 else server.client()
        self.id = self.client.client_id()
        self.args = args
        self.reply = None
        self.error: Exception | None = None
        self.elapsed = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        t = time.monotonic()
        try:
            self.reply = self.client.execute_command(*self.args)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.error = e
        self.elapsed = time.monotonic() - t

    def join(self, timeout: float = 5.0):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"{self.args} still blocked"
        self.client.close()
        if self.error is not None:
            raise self.error
        # redis-py hands BLPOP/BRPOP back as a tuple.
        return list(self.reply) if isinstance(self.reply, tuple) else self.reply

    def close(self) -> None:
        self.client.close()


def wait_blocked(r, n: int, timeout: float = 5.0) -> None:
    """Wait until INFO says n clients are blocked."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if r.info("clients")["blocked_clients"] == n:
            return
        time.sleep(0.005)
    raise AssertionError(f"blocked_clients never reached {n}: {r.info('clients')}")


# --------------------------------------------------------------------------------------------
# Immediate replies (nothing to wait for)
# --------------------------------------------------------------------------------------------

def test_blocking_commands_pop_at_once_when_data_exists(r):
    r.rpush("a", "1", "2", "3")
    assert r.blpop(["nokey", "a"], 0) == (b"a", b"1")
    assert r.brpop(["a"], 0) == (b"a", b"3")
    r.rpush("a", "x", "y")
    assert r.execute_command("BLMPOP", 0, 2, "nokey", "a", "RIGHT", "COUNT", 2) == \
        [b"a", [b"y", b"x"]]
    assert r.blmove("a", "b", 0, "LEFT", "RIGHT") == b"2"
    assert r.brpoplpush("b", "c", 0) == b"2"
    assert r.lrange("c", 0, -1) == [b"2"]
    assert r.exists("a", "b") == 0


def test_timeout_argument_errors(r):
    msg_float = "timeout is not a float or out of range"
    for bad in ("x", "", " 1", "nan", "1s"):
        with pytest.raises(redis.ResponseError, match=msg_float):
            r.execute_command("BLPOP", "k", bad)
    for neg in ("-1", "-0.01", "inf", "-inf", "1e20"):
        with pytest.raises(redis.ResponseError, match="timeout is negative"):
            r.execute_command("BLPOP", "k", neg)
    with pytest.raises(redis.ResponseError, match=msg_float):
        r.execute_command("BLMOVE", "k", "d", "LEFT", "LEFT", "x")
    with pytest.raises(redis.ResponseError, match="syntax error"):
        r.execute_command("BLMOVE", "k", "d", "UP", "LEFT", "x")  # positions first
    with pytest.raises(redis.ResponseError, match=msg_float):
        r.execute_command("BRPOPLPUSH", "k", "d", "x")
    with pytest.raises(redis.ResponseError, match="numkeys should be greater than 0"):
        r.execute_command("BLMPOP", "x", 0, "k", "LEFT")  # numkeys before the timeout
    with pytest.raises(redis.ResponseError, match=msg_float):
        r.execute_command("BLMPOP", "x", 1, "k", "LEFT")


# --------------------------------------------------------------------------------------------
# Timeouts
# --------------------------------------------------------------------------------------------

def test_timeout_replies_and_precision(r, tracered_server):
    t = time.monotonic()
    assert r.blpop(["k1", "k2"], 0.05) is None
    took = time.monotonic() - t
    assert 0.045 <= took < 0.5, took
    # Float seconds, hex floats too (strtold).
    t = time.monotonic()
    assert r.execute_command("BRPOP", "k", "0x1p-4") is None
    assert 0.06 <= time.monotonic() - t < 0.5
    raw = Raw(tracered_server.port)
    try:
        assert raw("BLPOP", "k", "0.01") == b"*-1\r\n"
        assert raw("BLMOVE", "k", "d", "LEFT", "LEFT", "0.01") == b"*-1\r\n"  # as Redis
        assert raw("BRPOPLPUSH", "k", "d", "0.01") == b"*-1\r\n"
        assert raw("BLMPOP", "0.01", "1", "k", "LEFT") == b"*-1\r\n"
        raw("HELLO", "3")
        assert raw("BLPOP", "k", "0.01") == b"_\r\n"
    finally:
        raw.close()
    assert r.info("clients")["blocked_clients"] == 0


def test_several_timeouts_fire_in_deadline_order(r, tracered_server):
    ws = [Waiter(tracered_server, "BLPOP", "k", t) for t in ("0.3", "0.1", "0.2")]
    for w in ws:
        assert w.join() is None
    assert ws[1].elapsed < ws[2].elapsed < ws[0].elapsed
    assert ws[0].elapsed < 1.0
    assert r.info("clients")["blocked_clients"] == 0


# --------------------------------------------------------------------------------------------
# Order of service
# --------------------------------------------------------------------------------------------

def test_fifo_per_key(r, tracered_server):
    ws = []
    for _ in range(3):
        ws.append(Waiter(tracered_server, "BLPOP", "k", "0"))
        wait_blocked(r, len(ws))  # blocked in this order
    assert r.client_list()[0] is not None
    r.rpush("k", "a", "b", "c")
    assert [w.join() for w in ws] == [[b"k", b"a"], [b"k", b"b"], [b"k", b"c"]]
    assert r.exists("k") == 0


def test_one_element_serves_only_the_first(r, tracered_server):
    w1 = Waiter(tracered_server, "BRPOP", "k", "0")
    wait_blocked(r, 1)
    w2 = Waiter(tracered_server, "BRPOP", "k", "0")
    wait_blocked(r, 2)
    r.lpush("k", "only")
    assert w1.join() == [b"k", b"only"]
    wait_blocked(r, 1)
    r.lpush("k", "next")
    assert w2.join() == [b"k", b"next"]


def test_multiple_keys_first_ready_wins(r, tracered_server):
    w = Waiter(tracered_server, "BLPOP", "a", "b", "c", "0")
    wait_blocked(r, 1)
    r.rpush("c", "from-c")
    assert w.join() == [b"c", b"from-c"]
    # It no longer waits on a or b.
    r.rpush("a", "x")
    assert r.lrange("a", 0, -1) == [b"x"]


def test_blmpop_served_with_count(r, tracered_server):
    w = Waiter(tracered_server, "BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2")
    wait_blocked(r, 1)
    r.rpush("b", "1", "2", "3")
    assert w.join() == [b"b", [b"3", b"2"]]
    assert r.lrange("b", 0, -1) == [b"1"]


def test_resp3_served_reply(r, tracered_server):
    w = Waiter(tracered_server, "BLPOP", "k", "0", resp3=True)
    wait_blocked(r, 1)
    r.rpush("k", "v")
    assert w.join() == [b"k", b"v"]


# --------------------------------------------------------------------------------------------
# BLMOVE chains
# --------------------------------------------------------------------------------------------

def test_blmove_chain(r, tracered_server):
    # a -> b -> c, and a BLPOP at the end of the chain: one push travels through all.
    w1 = Waiter(tracered_server, "BLMOVE", "a", "b", "LEFT", "RIGHT", "0")
    wait_blocked(r, 1)
    w2 = Waiter(tracered_server, "BRPOPLPUSH", "b", "c", "0")
    wait_blocked(r, 2)
    w3 = Waiter(tracered_server, "BLPOP", "c", "0")
    wait_blocked(r, 3)
    r.rpush("a", "token")
    assert w1.join() == b"token"
    assert w2.join() == b"token"
    assert w3.join() == [b"c", b"token"]
    assert r.exists("a", "b", "c") == 0


def test_blmove_to_wrong_type_destination(r, tracered_server):
    r.set("dst", "string")
    w = Waiter(tracered_server, "BLMOVE", "src", "dst", "LEFT", "LEFT", "0")
    wait_blocked(r, 1)
    r.rpush("src", "v")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        w.join()
    assert r.lrange("src", 0, -1) == [b"v"]  # nothing was popped


def test_blmove_same_key_rotates(r, tracered_server):
    w = Waiter(tracered_server, "BLMOVE", "k", "k", "RIGHT", "LEFT", "0")
    wait_blocked(r, 1)
    r.rpush("k", "a")
    assert w.join() == b"a"
    assert r.lrange("k", 0, -1) == [b"a"]


# --------------------------------------------------------------------------------------------
# Unblocking by other means
# --------------------------------------------------------------------------------------------

def test_client_unblock(r, tracered_server):
    w = Waiter(tracered_server, "BLPOP", "k", "0")
    wait_blocked(r, 1)
    assert r.client_unblock(w.id) == 1
    assert w.join() is None
    w = Waiter(tracered_server, "BLMOVE", "k", "d", "LEFT", "LEFT", "0")
    wait_blocked(r, 1)
    assert r.client_unblock(w.id, error=True) == 1
    with pytest.raises(redis.ResponseError, match="UNBLOCKED client unblocked via CLIENT"):
        w.join()
    assert r.client_unblock(w.id) == 0
    assert r.info("clients")["blocked_clients"] == 0
    r.rpush("k", "v")  # nobody waits any more
    assert r.lrange("k", 0, -1) == [b"v"]


def test_disconnect_while_blocked(r, tracered_server):
    s = socket.create_connection(("127.0.0.1", tracered_server.port))
    s.sendall(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n")
    wait_blocked(r, 1)
    w = Waiter(tracered_server, "BLPOP", "k", "0")
    wait_blocked(r, 2)
    s.close()
    wait_blocked(r, 1)
    r.rpush("k", "v")
    assert w.join() == [b"k", b"v"]  # the closed client is not served
    assert r.exists("k") == 0
    assert r.info("clients")["blocked_clients"] == 0


def test_pipeline_resumes_after_unblock(r, tracered_server):
    """Commands pipelined behind a blocking one wait, then run in order."""
    raw = Raw(tracered_server.port)
    try:
        raw.sock.sendall(b"*3\r\n$5\r\nBLPOP\r\n$1\r\nk\r\n$1\r\n0\r\n"
                         b"*2\r\n$4\r\nLLEN\r\n$1\r\nk\r\n"
                         b"*2\r\n$4\r\nECHO\r\n$4\r\ndone\r\n")
        wait_blocked(r, 1)
        r.rpush("k", "v1", "v2")
        assert raw._reply() == b"*2\r\n$1\r\nk\r\n$2\r\nv1\r\n"
        assert raw._reply() == b":1\r\n"  # ran after the pop
        assert raw._reply() == b"$4\r\ndone\r\n"
    finally:
        raw.close()


def test_blocked_client_shows_in_client_list(r, tracered_server):
    w = Waiter(tracered_server, "BLPOP", "k", "0")
    wait_blocked(r, 1)
    line = [c for c in r.client_list() if int(c["id"]) == w.id][0]
    assert "b" in line["flags"] and line["cmd"] == "blpop"
    r.rpush("k", "v")
    w.join()


def test_multi_makes_blocking_commands_non_blocking(r):
    try:
        r.execute_command("MULTI")
    except redis.ResponseError:
        pytest.skip("MULTI is not implemented yet")
    r.execute_command("BLPOP", "k", "0")
    r.execute_command("BLMOVE", "k", "d", "LEFT", "LEFT", "0")
    r.execute_command("BLMPOP", "0", "1", "k", "LEFT")
    assert r.execute_command("EXEC") == [None, None, None]


# --------------------------------------------------------------------------------------------
# In process: deny-blocking clients, propagation of served pops, bookkeeping
# --------------------------------------------------------------------------------------------

@pytest.fixture
def inproc():
    p = InProc()
    yield p
    p.close()


def _run(p, c, *args) -> bytes:
    c.argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
    p.sm.process_command(c)
    out = b"".join(c.reply)
    c.reply.clear()
    c.reply_bytes = 0
    return out


def test_inproc_deny_blocking_inside_exec(inproc):
    from tracered import networking as net

    p = inproc
    c = net.create_client(None)
    c.flags |= net.CLIENT_MULTI  # what EXEC's queued commands run with
    for args, reply in ((("BLPOP", "k", "0"), b"*-1\r\n"),
                        (("BLMOVE", "k", "d", "LEFT", "LEFT", "0"), b"$-1\r\n"),
                        (("BRPOPLPUSH", "k", "d", "0"), b"$-1\r\n"),
                        (("BLMPOP", "0", "1", "k", "LEFT"), b"*-1\r\n")):
        c.cmd = p.sm.lookup_command([a.encode() for a in args])
        c.argv = [a.encode() for a in args]
        p.sm.call(c)
        assert b"".join(c.reply) == reply, args
        c.reply.clear()
        assert not c.flags & net.CLIENT_BLOCKED


def test_inproc_served_clients_propagate_non_blocking_forms(inproc):
    from tracered import blocked
    from tracered import networking as net

    p = inproc
    srv = p.sm.server
    a, b, m, z = (net.create_client(None) for _ in range(4))
    blocked0 = srv.blocked_clients
    assert _run(p, a, "BLPOP", "k", "0") == b""
    assert _run(p, b, "BLMPOP", "0", "1", "k", "RIGHT", "COUNT", "5") == b""
    assert _run(p, m, "BLMOVE", "src", "k", "RIGHT", "LEFT", "0") == b""
    assert _run(p, z, "BRPOPLPUSH", "src2", "k", "0") == b""
    assert srv.blocked_clients - blocked0 == 4
    assert set(srv.db[0].blocking_keys) == {b"k", b"src", b"src2"}
    assert list(srv.db[0].blocking_keys[b"k"]) == [a, b]
    d0 = srv.dirty
    p("RPUSH", "k", "1", "2", "3", "4")
    assert b"".join(a.reply) == b"*2\r\n$1\r\nk\r\n$1\r\n1\r\n"
    assert b"".join(b.reply) == b"*2\r\n$1\r\nk\r\n*3\r\n$1\r\n4\r\n$1\r\n3\r\n$1\r\n2\r\n"
    assert srv.dirty - d0 == 4 + 1 + 3
    p("RPUSH", "src", "x")
    assert b"".join(m.reply) == b"$1\r\nx\r\n"
    p("RPUSH", "src2", "y")
    assert b"".join(z.reply) == b"$1\r\ny\r\n"
    assert srv.blocked_clients == blocked0
    assert srv.db[0].blocking_keys == {} and not srv.ready_keys
    # blpop served after RPUSH k: propagated right after the push, in serving order.
    assert p.propagated == [
        [b"RPUSH", b"k", b"1", b"2", b"3", b"4"], [b"LPOP", b"k"], [b"RPOP", b"k", b"3"],
        [b"RPUSH", b"src", b"x"], [b"LMOVE", b"src", b"k", b"RIGHT", b"LEFT"],
        [b"RPUSH", b"src2", b"y"], [b"RPOPLPUSH", b"src2", b"k"],
    ]
    assert p("LRANGE", "k", "0", "-1") == b"*2\r\n$1\r\ny\r\n$1\r\nx\r\n"
    assert a.flags & net.CLIENT_UNBLOCKED  # queued for reprocessing
    blocked.process_unblocked_clients()
    assert not a.flags & net.CLIENT_UNBLOCKED


def test_inproc_free_client_while_blocked(inproc):
    from tracered import networking as net

    p = inproc
    srv = p.sm.server
    a = net.create_client(None)
    before = srv.blocked_clients
    _run(p, a, "BLPOP", "k", "j", "10")
    assert srv.blocked_clients == before + 1 and srv.clients_in_timeout_table >= 1
    net.free_client(a)
    assert srv.blocked_clients == before
    assert b"k" not in srv.db[0].blocking_keys and b"j" not in srv.db[0].blocking_keys
    p("RPUSH", "k", "v")
    assert p("LLEN", "k") == b":1\r\n"


def test_inproc_timeout_check(inproc):
    from tracered import blocked
    from tracered import networking as net

    p = inproc
    a = net.create_client(None)
    _run(p, a, "BLPOP", "k", "0.001")
    time.sleep(0.01)
    blocked.handle_blocked_clients_timeout()
    assert b"".join(a.reply) == b"*-1\r\n"
    assert not a.flags & net.CLIENT_BLOCKED
    b = net.create_client(None)
    _run(p, b, "BLPOP", "k", "0.001")
    time.sleep(0.01)
    assert blocked.check_blocked_client_timeout(b, int(time.time() * 1000)) is True
    assert b"".join(b.reply) == b"*-1\r\n"
