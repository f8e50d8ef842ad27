"""Differential tests against redis-server 7.0.15: transactions (MULTI/EXEC/WATCH replies,
error texts, EXECABORT), Pub/Sub message shapes in RESP2 and RESP3, and keyspace
notification sequences.

Everything goes over raw sockets with a small RESP parser that keeps the reply *types*
(status vs bulk, array vs RESP3 push, null bulk vs null array), so a message that redis-py
would decode the same way but that differs on the wire is still caught.  A script is a list
of steps run on both servers, each step on one of several connections:

    ("cmd", conn, [args...], n)   send one command, read n replies
    ("read", conn, n)             read n more replies (pubsub messages)
    ("sleep", seconds)            let time pass (expiry)

HELLO's reply carries the connection id, so it is not compared.
"""

from __future__ import annotations

import socket
import time

import pytest

READ_TIMEOUT = 3.0


class RespConn:
    """A raw connection with a typed RESP2/RESP3 reader."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, *args) -> None:
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(parts))

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed")
        self.buf += data

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n + 2:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n + 2:]
        return data

    def read(self):
        line = self._line()
        t, rest = line[:1], line[1:]
        if t == b"+":
            return ("status", rest)
        if t == b"-":
            return ("error", rest)
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            return None if n < 0 else self._exact(n)
        if t in (b"*", b">", b"~"):
            n = int(rest)
            if n < 0:
                return ("nullarray",)
            items = [self.read() for _ in range(n)]
            return {b"*": ("array", items), b">": ("push", items), b"~": ("set", items)}[t]
        if t == b"%":
            return ("map", [(self.read(), self.read()) for _ in range(int(rest))])
        if t == b"_":
            return ("null",)
        if t == b",":
            return ("double", rest)
        if t == b"#":
            return ("bool", rest)
        if t == b"=":
            return ("verbatim", self._exact(int(rest)))
        raise AssertionError(f"unexpected RESP line {line!r}")

    def call(self, *args):
        self.send(*args)
        return self.read()


def run_script(port: int, script: list, nconns: int = 2) -> list:
    conns = [RespConn(port) for _ in range(nconns)]
    out = []
    try:
        for step in script:
            if step[0] == "sleep":
                time.sleep(step[1])
                out.append([])
                continue
            if step[0] == "cmd":
                _, i, args, n = step
                conns[i].send(*args)
            else:
                _, i, n = step
            out.append([conns[i].read() for _ in range(n)])
    finally:
        for c in conns:
            c.close()
    return out


@pytest.fixture
def both(r, rr, tracered_server, redis_server):
    """Run a script on both (flushed) servers and assert the same replies."""

    def check(script: list, nconns: int = 2):
        a = run_script(tracered_server.port, script, nconns)
        b = run_script(redis_server.port, script, nconns)
        for step, x, y in zip(script, a, b, strict=True):
            if step[0] == "cmd" and step[2][0].upper() == "HELLO":
                continue  # carries the client id
            assert x == y, f"step {step!r}: tracered={x!r} redis={y!r}"
        return a

    return check


def C(conn, *args, n=1):
    return ("cmd", conn, list(args), n)


def R(conn, n=1):
    return ("read", conn, n)


def S(seconds):
    return ("sleep", seconds)


# --------------------------------------------------------------------------------------------
# Transactions
# --------------------------------------------------------------------------------------------

def test_multi_exec_replies_and_errors(both):
    both([
        C(0, "MULTI"), C(0, "SET", "a", "1"), C(0, "INCR", "a"), C(0, "LPUSH", "a", "x"),
        C(0, "GET", "a"), C(0, "EXEC"),
        C(0, "EXEC"), C(0, "DISCARD"), C(0, "EXEC", "x"),
        C(0, "MULTI"), C(0, "MULTI"), C(0, "EXEC"),
        C(0, "MULTI"), C(0, "SET", "b"), C(0, "INCR", "a"), C(0, "EXEC"), C(0, "GET", "a"),
        C(0, "MULTI"), C(0, "NOSUCHCMD", "x"), C(0, "EXEC"),
        C(0, "MULTI"), C(0, "CONFIG", "NOSUCHSUB"), C(0, "EXEC"),
        C(0, "MULTI"), C(0, "WATCH", "a"), C(0, "EXEC"),
        C(0, "MULTI"), C(0, "EXEC", "extra"), C(0, "EXEC"),
        C(0, "MULTI"), C(0, "DISCARD", "extra"), C(0, "DISCARD"),
        C(0, "MULTI"), C(0, "SHUTDOWN"), C(0, "EXEC"),
        C(0, "MULTI"), C(0, "EXEC"),
        C(0, "MULTI"), C(0, "PING"), C(0, "ECHO", "hi"), C(0, "DISCARD"), C(0, "GET", "a"),
        C(0, "UNWATCH"), C(0, "WATCH"), C(0, "MULTI", "x"),
    ], nconns=1)


def test_exec_resp3_shapes(both):
    both([
        C(0, "HELLO", "3"), C(0, "SET", "k", "v"),
        C(0, "MULTI"), C(0, "GET", "k"), C(0, "GET", "missing"), C(0, "HSET", "h", "f", "1"),
        C(0, "HGETALL", "h"), C(0, "SMEMBERS", "nokey"), C(0, "INCRBYFLOAT", "n", "1.5"),
        C(0, "EXEC"),
    ], nconns=1)
    # The WATCH-failed null reply: _ in RESP3, *-1 in RESP2.
    out = both([
        C(1, "HELLO", "3"), C(1, "WATCH", "k"), C(0, "SET", "k", "x"), C(1, "MULTI"),
        C(1, "PING"), C(1, "EXEC"),
        C(0, "WATCH", "k"), C(1, "SET", "k", "y"), C(0, "MULTI"), C(0, "EXEC"),
    ])
    assert out[5] == [("null",)]
    assert out[9] == [("nullarray",)]


def test_watch_semantics(both):
    both([
        # Touched by another client: EXEC fails.
        C(0, "SET", "k", "1"), C(0, "WATCH", "k"), C(1, "INCR", "k"), C(0, "MULTI"),
        C(0, "INCR", "k"), C(0, "EXEC"), C(0, "GET", "k"),
        # Not touched: EXEC runs, and the watch is gone afterwards.
        C(0, "WATCH", "k"), C(0, "MULTI"), C(0, "INCR", "k"), C(0, "EXEC"),
        C(1, "SET", "k", "9"), C(0, "MULTI"), C(0, "GET", "k"), C(0, "EXEC"),
        # UNWATCH forgets the watch (and a dirty flag).
        C(0, "WATCH", "k"), C(1, "SET", "k", "10"), C(0, "UNWATCH"), C(0, "MULTI"),
        C(0, "GET", "k"), C(0, "EXEC"),
        # DISCARD unwatches too.
        C(0, "WATCH", "k"), C(0, "MULTI"), C(0, "DISCARD"), C(1, "SET", "k", "11"),
        C(0, "MULTI"), C(0, "GET", "k"), C(0, "EXEC"),
        # A missing key that gets created; a key set to the same value; an own write.
        C(0, "WATCH", "nokey"), C(1, "SET", "nokey", "x"), C(0, "MULTI"), C(0, "EXEC"),
        C(0, "WATCH", "k"), C(1, "SET", "k", "11"), C(0, "MULTI"), C(0, "EXEC"),
        C(0, "WATCH", "k"), C(0, "SET", "k", "12"), C(0, "MULTI"), C(0, "EXEC"),
        # Failed commands touch nothing; DEL of a missing key neither.
        C(0, "WATCH", "k", "gone"), C(1, "LPUSH", "k", "x"), C(1, "DEL", "gone"),
        C(0, "MULTI"), C(0, "EXEC"),
        # Keys of another db are other keys.
        C(0, "WATCH", "k"), C(1, "SELECT", "1"), C(1, "SET", "k", "x"), C(1, "SELECT", "0"),
        C(0, "MULTI"), C(0, "EXEC"),
        # Watching in db 1, writing in db 1.
        C(0, "SELECT", "1"), C(0, "WATCH", "k"), C(1, "SELECT", "1"), C(1, "SET", "k", "y"),
        C(1, "SELECT", "0"), C(0, "SELECT", "0"), C(0, "MULTI"), C(0, "EXEC"),
    ])


def test_watch_flush_and_swapdb(both):
    both([
        C(0, "SET", "k", "1"), C(0, "WATCH", "k"), C(1, "FLUSHALL"), C(0, "MULTI"),
        C(0, "EXEC"),
        C(0, "WATCH", "k"), C(1, "FLUSHALL"), C(0, "MULTI"), C(0, "EXEC"),  # missing: no touch
        C(0, "SET", "k", "1"), C(0, "WATCH", "k"), C(1, "FLUSHDB"), C(0, "MULTI"),
        C(0, "EXEC"),
        C(0, "SET", "k", "1"), C(0, "WATCH", "k"), C(1, "SELECT", "3"), C(1, "FLUSHDB"),
        C(0, "MULTI"), C(0, "EXEC"),
        C(0, "WATCH", "k"), C(1, "SET", "k", "3"), C(1, "SWAPDB", "0", "3"),
        C(0, "MULTI"), C(0, "EXEC"),
        C(0, "WATCH", "nothing"), C(1, "SWAPDB", "0", "3"), C(0, "MULTI"), C(0, "EXEC"),
    ])


def test_watch_expired_keys(both, r, rr):
    for c in (r, rr):
        c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0")
    try:
        both([
            # Expired already at WATCH, then deleted: no change.
            C(0, "SET", "x", "1", "PX", "1"), S(0.01), C(0, "WATCH", "x"), C(1, "DEL", "x"),
            C(0, "MULTI"), C(0, "PING"), C(0, "EXEC"),
            # Expired at WATCH, then set again: a change.
            C(0, "SET", "x", "1", "PX", "1"), S(0.01), C(0, "WATCH", "x"),
            C(1, "SET", "x", "2"), C(0, "MULTI"), C(0, "PING"), C(0, "EXEC"),
            # Expired at WATCH, then flushed: no change.
            C(0, "SET", "y", "1", "PX", "1"), S(0.01), C(0, "WATCH", "y"), C(1, "FLUSHALL"),
            C(0, "MULTI"), C(0, "EXEC"),
            # Expired at WATCH and still there at EXEC: no change.
            C(0, "SET", "y", "1", "PX", "1"), S(0.01), C(0, "WATCH", "y"),
            C(0, "MULTI"), C(0, "EXEC"),
            # Alive at WATCH, expired by EXEC (never deleted): the EXEC fails.
            C(0, "SET", "z", "1", "PX", "50"), C(0, "WATCH", "z"), S(0.1),
            C(0, "MULTI"), C(0, "PING"), C(0, "EXEC"),
            # Alive at WATCH, swapped with a db holding it expired: a change.
            C(0, "SET", "w", "1"), C(0, "WATCH", "w"), C(1, "SELECT", "2"),
            C(1, "SET", "w", "1", "PX", "1"), S(0.01), C(1, "SWAPDB", "0", "2"),
            C(0, "MULTI"), C(0, "EXEC"),
        ])
    finally:
        for c in (r, rr):
            c.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


def test_blocking_commands_inside_multi_do_not_block(both):
    start = time.monotonic()
    both([
        C(0, "MULTI"), C(0, "BLPOP", "nolist", "0"), C(0, "BRPOP", "nolist", "0"),
        C(0, "BLMOVE", "nolist", "dst", "LEFT", "RIGHT", "0"), C(0, "RPUSH", "l", "a"),
        C(0, "BLPOP", "l", "0"), C(0, "EXEC"),
    ], nconns=1)
    assert time.monotonic() - start < 5


def test_pubsub_inside_multi(both):
    both([
        C(0, "MULTI"), C(0, "SUBSCRIBE", "a", "b"), C(0, "SSUBSCRIBE", "s"),
        C(0, "PSUBSCRIBE", "p*"), C(0, "EXEC"),
        C(1, "PUBLISH", "a", "m1"), R(0),
        C(1, "PUBLISH", "pq", "m2"), R(0),
        C(0, "SET", "x", "1"),
    ])


# --------------------------------------------------------------------------------------------
# Pub/Sub message shapes
# --------------------------------------------------------------------------------------------

def _pubsub_script(hello: bool) -> list:
    pre = [C(0, "HELLO", "3")] if hello else []
    return pre + [
        C(0, "SUBSCRIBE", "ch1", "ch2", "ch1", n=3),
        C(0, "PSUBSCRIBE", "ch*", "x?y", n=2),
        C(0, "SSUBSCRIBE", "sh1", n=1),
        C(1, "PUBLISH", "ch1", "hello"), R(0, 2),
        C(1, "PUBLISH", "xzy", "w"), R(0),
        C(1, "PUBLISH", "nobody", "w"),
        C(1, "SPUBLISH", "sh1", "shard"), R(0),
        C(1, "SPUBLISH", "ch1", "not-a-shard-subscriber"),
        C(1, "PUBSUB", "NUMSUB", "ch1", "ch2", "none"),
        C(1, "PUBSUB", "NUMPAT"),
        C(1, "PUBSUB", "SHARDNUMSUB", "sh1", "ch1"),
        C(1, "PUBSUB", "CHANNELS", "ch1"),
        C(1, "PUBSUB", "SHARDCHANNELS"),
        C(0, "PING"), C(0, "PING", "msg"),
        C(0, "GET", "k"),
        C(0, "UNSUBSCRIBE", "ch2", "never", n=2),
        C(0, "PUNSUBSCRIBE", "x?y", n=1),
        C(0, "SUNSUBSCRIBE", n=1),
        C(0, "SUNSUBSCRIBE", n=1),
        C(0, "UNSUBSCRIBE", n=1),
        C(0, "PUNSUBSCRIBE", n=1),
        C(0, "UNSUBSCRIBE", n=1),
        C(0, "PUNSUBSCRIBE", n=1),
        C(0, "PING"),
        C(0, "SUBSCRIBE", "z"), C(0, "RESET"), C(0, "PING"),
        C(1, "PUBSUB", "NUMSUB", "z"),
    ]


def test_pubsub_messages_resp2(both):
    both(_pubsub_script(False))


def test_pubsub_messages_resp3(both):
    out = both(_pubsub_script(True))
    assert out[1][0][0] == "push"


def test_pubsub_errors_and_help(both):
    both([
        C(0, "SUBSCRIBE"), C(0, "PSUBSCRIBE"), C(0, "PUBLISH", "a"), C(0, "SPUBLISH", "a"),
        C(0, "PUBSUB"), C(0, "PUBSUB", "NOPE"), C(0, "PUBSUB", "NUMPAT", "x"),
        C(0, "PUBSUB", "CHANNELS", "a", "b"), C(0, "PUBSUB", "SHARDCHANNELS", "a", "b"),
        C(0, "PUBSUB", "HELP"), C(0, "PUBSUB", "HELP", "x"), C(0, "PUBSUB", "NUMSUB"),
        C(0, "SSUBSCRIBE"), C(0, "UNSUBSCRIBE"), C(0, "PUNSUBSCRIBE"), C(0, "SUNSUBSCRIBE"),
        C(0, "PING"),
    ], nconns=1)


def test_pubsub_unsubscribe_all_many(r, rr, tracered_server, redis_server):
    """UNSUBSCRIBE / PUNSUBSCRIBE with no argument: one notification per subscription,
    counting down to 0.  Redis walks its hash table, so the order is compared as a set."""
    script = [C(0, "SUBSCRIBE", "a", "b", "c", n=3), C(0, "PSUBSCRIBE", "p1", "p2", n=2),
              C(0, "UNSUBSCRIBE", n=3), C(0, "PUNSUBSCRIBE", n=2), C(0, "PING")]
    outs = [run_script(sp.port, script, 1) for sp in (tracered_server, redis_server)]
    for out in outs:
        assert [m[1][2] for m in out[2]] == [4, 3, 2]
        assert [m[1][2] for m in out[3]] == [1, 0]
    a, b = ([sorted(m[1][:2] for m in step) for step in out] for out in outs)
    assert a == b
    assert outs[0][4] == outs[1][4] == [("status", b"PONG")]


def test_client_reply_off_still_gets_pushes(both):
    both([
        C(0, "CLIENT", "REPLY", "OFF", n=0),
        C(0, "SUBSCRIBE", "q", n=1),
        C(1, "PUBLISH", "q", "m"), R(0),
    ])


# --------------------------------------------------------------------------------------------
# Keyspace notifications
# --------------------------------------------------------------------------------------------

SEQUENCE = [
    ("SET", "s", "1"), ("APPEND", "s", "2"), ("INCR", "s"), ("INCRBYFLOAT", "s", "1.5"),
    ("SETRANGE", "s", "0", "x"), ("GETDEL", "s"), ("GET", "s"), ("SET", "s", "v", "EX", "100"),
    ("EXPIRE", "s", "200"), ("PEXPIRE", "s", "300000"), ("PERSIST", "s"),
    ("RENAME", "s", "t"), ("MOVE", "t", "1"), ("COPY", "nokey", "u"),
    ("DEL", "t", "nokey"), ("MSET", "a", "1", "b", "2"), ("UNLINK", "a", "b"),
    ("HSET", "h", "f", "1", "g", "2"), ("HINCRBY", "h", "f", "3"), ("HDEL", "h", "f", "g"),
    ("LPUSH", "l", "a", "b"), ("RPUSH", "l", "c"), ("LPOP", "l"), ("LSET", "l", "0", "z"),
    ("LTRIM", "l", "0", "0"), ("RPOP", "l"),
    ("SADD", "st", "a", "b"), ("SREM", "st", "a"), ("SPOP", "st"),
    ("ZADD", "z", "1", "a", "2", "b"), ("ZINCRBY", "z", "1", "a"), ("ZREM", "z", "a", "b"),
    ("SET", "e", "1"), ("EXPIRE", "e", "-1"), ("SET", "n1", "x", "NX"),
    ("HGET", "nohash", "f"), ("GET", "missing"),
]


def _notifications(port: int, classes: str, pattern: bytes = b"__key*__:*") -> list:
    ctl = RespConn(port)
    sub = RespConn(port)
    try:
        assert ctl.call("FLUSHALL") == ("status", b"OK")
        assert ctl.call("CONFIG", "SET", "notify-keyspace-events", classes)[0] == "status"
        sub.send("PSUBSCRIBE", pattern)
        sub.read()
        for cmd in SEQUENCE:
            ctl.call(*cmd)
        ctl.call("PUBLISH", "__keyspace@0__:~end", "end")
        msgs = []
        for _ in range(500):
            m = sub.read()
            if m[1][2] == b"__keyspace@0__:~end":
                break
            msgs.append(m)
        return msgs
    finally:
        ctl.call("CONFIG", "SET", "notify-keyspace-events", "")
        ctl.close()
        sub.close()


@pytest.mark.parametrize("classes", ["KEA", "Kg$", "Elshz", "KEx", "KEmn", "E$g"])
def test_keyspace_notification_sequences(r, rr, tracered_server, redis_server, classes):
    a = _notifications(tracered_server.port, classes)
    b = _notifications(redis_server.port, classes)
    assert a == b
    if classes == "KEA":
        assert len(a) > 40


def test_keyspace_notifications_resp3_and_lazy_expire(r, rr, tracered_server, redis_server):
    out = []
    for sp in (tracered_server, redis_server):
        ctl, sub = RespConn(sp.port), RespConn(sp.port)
        try:
            ctl.call("DEBUG", "SET-ACTIVE-EXPIRE", "0")
            ctl.call("CONFIG", "SET", "notify-keyspace-events", "Ex")
            sub.call("HELLO", "3")
            sub.send("SUBSCRIBE", "__keyevent@0__:expired")
            sub.read()
            ctl.call("SET", "k", "v", "PX", "5")
            time.sleep(0.03)
            ctl.call("GET", "k")
            out.append(sub.read())
        finally:
            ctl.call("CONFIG", "SET", "notify-keyspace-events", "")
            ctl.call("DEBUG", "SET-ACTIVE-EXPIRE", "1")
            ctl.close()
            sub.close()
    assert out[0] == out[1] == ("push", [b"message", b"__keyevent@0__:expired", b"k"])
