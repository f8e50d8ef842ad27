"""Pub/Sub on tracered with real clients: redis-py PubSub (get_message, listen, psubscribe,
run_in_thread as RQ's workers use it), a RESP3 client receiving push messages, CLIENT LIST
counters, the RESP2 pubsub context, and the pubsub client-output-buffer-limit disconnecting
a subscriber that stops reading.  Wire-level comparisons with redis-server live in
test_diff_multi_pubsub.py.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest


def _hello3(s, f) -> None:
    """Switch a raw connection to RESP3 and skip HELLO's map (up to a PING sentinel)."""
    s.sendall(b"HELLO 3\r\nPING\r\n")
    for _ in range(100):
        if f.readline() == b"+PONG\r\n":
            return
    raise AssertionError("no PONG after HELLO 3")


def _get(p, timeout=2.0):
    """The next non-None message within timeout (redis-py may return None early)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_message(timeout=max(0.01, deadline - time.monotonic()))
        if m is not None:
            return m
    raise AssertionError("no pubsub message within %.1fs" % timeout)


def test_subscribe_publish_get_message(tracered_server, r):
    p = r.pubsub()
    try:
        p.subscribe("news", "sport")
        assert _get(p) == {"type": "subscribe", "pattern": None, "channel": b"news", "data": 1}
        assert _get(p)["data"] == 2
        assert r.publish("news", "hello") == 1
        assert r.publish("nobody", "x") == 0
        assert _get(p) == {"type": "message", "pattern": None, "channel": b"news",
                           "data": b"hello"}
        assert p.get_message(timeout=0.1) is None
        assert r.pubsub_numsub("news", "sport", "other") == [
            (b"news", 1), (b"sport", 1), (b"other", 0)]
        assert sorted(r.pubsub_channels()) == [b"news", b"sport"]
        assert r.pubsub_channels("n*") == [b"news"]
        p.unsubscribe("news")
        assert _get(p) == {"type": "unsubscribe", "pattern": None, "channel": b"news",
                           "data": 1}
        assert r.publish("news", "gone") == 0
    finally:
        p.close()
    # The subscriber's connection is gone: the server forgot it.
    deadline = time.monotonic() + 3
    while r.pubsub_numsub("sport") != [(b"sport", 0)] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert r.pubsub_numsub("sport") == [(b"sport", 0)]
    assert r.pubsub_channels() == []


def test_psubscribe_patterns_and_handlers(r):
    got = []
    p = r.pubsub()
    try:
        p.psubscribe(**{"news.[ab]*": lambda m: got.append(m)})
        p.psubscribe("h?llo", "lit\\*")
        for _ in range(3):
            _get(p)
        assert r.pubsub_numpat() == 3
        assert r.publish("news.art", "1") == 1
        assert r.publish("news.cat", "2") == 0
        assert r.publish("hello", "3") == 1
        assert r.publish("lit*", "4") == 1
        assert r.publish("litx", "5") == 0
        # The first message went to the handler (get_message returns None for it).
        m = _get(p)
        assert m == {"type": "pmessage", "pattern": b"h?llo", "channel": b"hello", "data": b"3"}
        assert _get(p)["channel"] == b"lit*"
        assert [x["data"] for x in got] == [b"1"]
        # A client matched by a channel and two patterns receives three copies.
        p.subscribe("hello")
        p.psubscribe("h*")
        _get(p)
        _get(p)
        assert r.publish("hello", "x") == 3
        kinds = sorted((_get(p)["type"]) for _ in range(3))
        assert kinds == ["message", "pmessage", "pmessage"]
    finally:
        p.close()


def test_listen_with_socket_timeout_and_run_in_thread(tracered_server):
    sub = tracered_server.client(socket_timeout=5)
    pub = tracered_server.client()
    p = sub.pubsub(ignore_subscribe_messages=True)
    try:
        p.subscribe("jobs")
        received = []

        def producer():
            time.sleep(0.1)
            for i in range(5):
                pub.publish("jobs", str(i))

        t = threading.Thread(target=producer)
        t.start()
        for m in p.listen():
            if m["type"] == "message":
                received.append(m["data"])
                if len(received) == 5:
                    break
        t.join(5)
        assert received == [b"0", b"1", b"2", b"3", b"4"]
        p.unsubscribe()
        # run_in_thread: the way RQ's worker listens for commands.
        seen = threading.Event()
        p2 = sub.pubsub()
        p2.subscribe(**{"ctl": lambda m: seen.set()})
        th = p2.run_in_thread(sleep_time=0.05, daemon=True)
        try:
            deadline = time.monotonic() + 3
            while not seen.is_set() and time.monotonic() < deadline:
                pub.publish("ctl", "stop")
                seen.wait(0.1)
            assert seen.is_set()
        finally:
            th.stop()
            th.join(3)
            p2.close()
    finally:
        p.close()
        pub.close()
        sub.close()


def test_resp3_client_gets_push_messages_and_can_run_commands(tracered_server, r):
    c3 = tracered_server.client(protocol=3)
    p = c3.pubsub()
    try:
        p.subscribe("ch")
        p.psubscribe("c*")
        assert _get(p)["type"] == "subscribe"
        assert _get(p)["type"] == "psubscribe"
        assert r.publish("ch", "hi") == 2
        msgs = sorted([_get(p), _get(p)], key=lambda m: m["type"])
        assert msgs[0] == {"type": "message", "pattern": None, "channel": b"ch", "data": b"hi"}
        assert msgs[1]["type"] == "pmessage" and msgs[1]["pattern"] == b"c*"
    finally:
        p.close()
        c3.close()
    # Raw: a RESP3 subscriber may run any command; a RESP2 one may not.
    with socket.create_connection(("127.0.0.1", tracered_server.port), timeout=3) as s:
        f = s.makefile("rb")
        _hello3(s, f)
        s.sendall(b"SUBSCRIBE x\r\nSET k v\r\nGET k\r\n")
        assert f.readline() == b">3\r\n"
        for _ in range(5):
            f.readline()
        assert f.readline() == b"+OK\r\n"
        assert f.readline() == b"$1\r\n" and f.readline() == b"v\r\n"
        r.publish("x", "pushed")
        assert [f.readline() for _ in range(7)] == [
            b">3\r\n", b"$7\r\n", b"message\r\n", b"$1\r\n", b"x\r\n", b"$6\r\n",
            b"pushed\r\n"]
    with socket.create_connection(("127.0.0.1", tracered_server.port), timeout=3) as s:
        f = s.makefile("rb")
        s.sendall(b"SUBSCRIBE x\r\nGET k\r\n")
        for _ in range(6):
            f.readline()
        assert f.readline().startswith(b"-ERR Can't execute 'get': only (P|S)SUBSCRIBE")


def test_client_list_counters_and_flag(tracered_server, r):
    with socket.create_connection(("127.0.0.1", tracered_server.port), timeout=3) as s:
        f = s.makefile("rb")
        s.sendall(b"CLIENT ID\r\n")
        cid = int(f.readline()[1:])
        s.sendall(b"SUBSCRIBE a b\r\nPSUBSCRIBE p*\r\nSSUBSCRIBE s1\r\nPING\r\n")
        lines = [f.readline() for _ in range(4 * 6 + 5)]
        assert lines[-5:] == [b"*2\r\n", b"$4\r\n", b"pong\r\n", b"$0\r\n", b"\r\n"]
        ln = [x for x in r.client_list() if int(x["id"]) == cid][0]
        assert (ln["sub"], ln["psub"], ln["ssub"]) == ("2", "1", "1")
        assert "P" in ln["flags"]
        assert cid in [int(x["id"]) for x in r.client_list(_type="pubsub")]
        assert cid not in [int(x["id"]) for x in r.client_list(_type="normal")]
        assert r.pubsub_numsub("a", "b") == [(b"a", 1), (b"b", 1)]
        assert r.execute_command("PUBSUB", "SHARDNUMSUB", "s1") == [b"s1", 1]
        s.sendall(b"UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nSUNSUBSCRIBE\r\n")
        lines = [f.readline() for _ in range(4 * 6)]
        assert lines[-1] == b":0\r\n"
        ln = [x for x in r.client_list() if int(x["id"]) == cid][0]
        assert "P" not in ln["flags"] and ln["sub"] == "0"


def test_publish_inside_transaction(r):
    with r.pipeline(transaction=True) as pl:
        pl.publish("none", "x").set("k", "v")
        assert pl.execute() == [0, True]


def test_slow_subscriber_is_disconnected_by_output_buffer_limit(tracered_server, r):
    """A subscriber that never reads hits the pubsub hard limit and is closed, while the
    publisher and other clients carry on (Redis's client-output-buffer-limit pubsub)."""
    old = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    r.config_set("client-output-buffer-limit", "pubsub 262144 0 0")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(5)
    try:
        s.connect(("127.0.0.1", tracered_server.port))
        s.sendall(b"SUBSCRIBE slow\r\n")
        assert s.recv(100).startswith(b"*3")
        payload = b"x" * 65536
        dropped = False
        for _ in range(400):  # at most ~26 MB
            if r.publish("slow", payload) == 0:
                dropped = True
                break
        assert dropped, "the slow subscriber was never disconnected"
        assert r.pubsub_numsub("slow") == [(b"slow", 0)]
        assert r.ping()
        # The subscriber's socket is closed by the server after what was already sent.
        s.settimeout(5)
        total = 0
        while True:
            try:
                chunk = s.recv(1 << 20)
            except ConnectionResetError:
                break
            if not chunk:
                break
            total += len(chunk)
        assert total < 400 * 65536
    finally:
        s.close()
        r.config_set("client-output-buffer-limit", old)


def test_unsubscribe_without_subscriptions_and_reset(tracered_server):
    with socket.create_connection(("127.0.0.1", tracered_server.port), timeout=3) as s:
        f = s.makefile("rb")
        s.sendall(b"UNSUBSCRIBE\r\nPUNSUBSCRIBE\r\nPING\r\n")
        assert [f.readline() for _ in range(6)] == [
            b"*3\r\n", b"$11\r\n", b"unsubscribe\r\n", b"$-1\r\n", b":0\r\n", b"*3\r\n"]
        assert [f.readline() for _ in range(4)] == [
            b"$12\r\n", b"punsubscribe\r\n", b"$-1\r\n", b":0\r\n"]
        assert f.readline() == b"+PONG\r\n"  # never entered pubsub mode
        s.sendall(b"SUBSCRIBE a\r\nRESET\r\nGET x\r\n")
        for _ in range(6):
            f.readline()
        assert f.readline() == b"+RESET\r\n"
        assert f.readline() == b"$-1\r\n"


@pytest.mark.parametrize("proto", [2, 3])
def test_ping_in_subscribed_context(tracered_server, proto):
    with socket.create_connection(("127.0.0.1", tracered_server.port), timeout=3) as s:
        f = s.makefile("rb")
        if proto == 3:
            _hello3(s, f)
        s.sendall(b"SUBSCRIBE a\r\n")
        for _ in range(6):
            f.readline()
        s.sendall(b"PING\r\n")
        if proto == 2:
            assert [f.readline() for _ in range(5)] == [
                b"*2\r\n", b"$4\r\n", b"pong\r\n", b"$0\r\n", b"\r\n"]
        else:
            assert f.readline() == b"+PONG\r\n"
