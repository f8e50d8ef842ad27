"""Client side caching (tracered/tracking.py) against the reference redis-server 7.0.

Each scenario drives raw RESP connections and returns a transcript of the exact reply
bytes (push messages included); the transcript from tracered must equal redis-server's.
Client ids differ between the two servers, so ids are replaced by "<id:name>" tokens.
Waiting for a message that must NOT come is done by sending PING on the same connection:
anything queued before it arrives first.
"""

from __future__ import annotations

import socket
import time

import pytest

from tests.conftest import ServerProc

TIMEOUT = 5.0


class Conn:
    """A raw RESP connection that returns each reply frame's exact bytes."""

    def __init__(self, port: int, resp3: bool = False) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.buf = b""
        self.id = int(self.cmd("CLIENT", "ID")[1:-2])
        if resp3:
            self.cmd("HELLO", "3")

    def send(self, *args) -> None:
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(parts))

    def cmd(self, *args) -> bytes:
        self.send(*args)
        return self.frame()

    def _line(self, pos: int) -> int:
        deadline = time.monotonic() + TIMEOUT
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i >= 0:
                return i
            if time.monotonic() > deadline:
                raise TimeoutError(self.buf)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk

    def _need(self, n: int) -> None:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk

    def _skip(self, pos: int) -> int:
        """Position just after the frame starting at ``pos``."""
        end = self._line(pos)
        t = self.buf[pos:pos + 1]
        if t in (b"$", b"="):
            n = int(self.buf[pos + 1:end])
            if n < 0:
                return end + 2
            self._need(end + 2 + n + 2)
            return end + 2 + n + 2
        if t in (b"*", b">", b"~", b"%", b"|"):
            n = int(self.buf[pos + 1:end])
            if t in (b"%", b"|"):
                n *= 2
            p = end + 2
            for _ in range(max(n, 0)):
                p = self._skip(p)
            return p
        return end + 2

    def frame(self) -> bytes:
        end = self._skip(0)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out

    def close(self) -> None:
        self.sock.close()


def _norm(frame: bytes, conns: dict) -> bytes:
    for name, c in conns.items():
        frame = frame.replace(b":%d\r\n" % c.id, b":<id:%s>\r\n" % name.encode())
    return frame


@pytest.fixture(scope="module")
def ports(tracered_server, redis_server):
    return tracered_server.port, redis_server.port


def _both(ports, scenario):
    """Run ``scenario(port) -> list[bytes]`` on both servers, assert equal transcripts."""
    out = []
    for port in ports:
        admin = Conn(port)
        admin.cmd("FLUSHALL")
        admin.close()
        out.append(scenario(port))
    assert out[0] == out[1]
    return out[0]


# --------------------------------------------------------------------------------------------
# Default mode
# --------------------------------------------------------------------------------------------

def test_resp3_invalidate_push(ports):
    def run(port):
        a, b = Conn(port, resp3=True), Conn(port)
        t = [a.cmd("CLIENT", "TRACKING", "on"), a.cmd("SET", "k", "v"), a.cmd("GET", "k"),
             a.cmd("MGET", "k", "k2"), b.cmd("SET", "k", "w"), a.frame(),
             b.cmd("SET", "k2", "x"), a.frame(),
             # told once per read: a second write sends nothing
             b.cmd("SET", "k", "z"), a.cmd("PING")]
        a.close(), b.close()
        return t

    t = _both(ports, run)
    assert t[5] == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
    assert t[-1] == b"+PONG\r\n"


def test_own_write_invalidation_after_reply_and_noloop(ports):
    def run(port):
        a = Conn(port, resp3=True)
        t = [a.cmd("CLIENT", "TRACKING", "on"), a.cmd("GET", "k"), a.cmd("SET", "k", "1"),
             a.frame(), a.cmd("CLIENT", "TRACKING", "on", "NOLOOP"), a.cmd("GET", "k"),
             a.cmd("SET", "k", "2"), a.cmd("PING"), a.cmd("CLIENT", "TRACKINGINFO")]
        a.close()
        return t

    t = _both(ports, run)
    assert t[2] == b"+OK\r\n" and t[3].startswith(b">2\r\n$10\r\ninvalidate")
    assert t[7] == b"+PONG\r\n"


def test_resp2_redirect_to_subscriber(ports):
    def run(port):
        sub, a, b = Conn(port), Conn(port), Conn(port)
        conns = {"sub": sub, "a": a}
        t = [sub.cmd("SUBSCRIBE", "__redis__:invalidate"),
             a.cmd("CLIENT", "TRACKING", "on", "REDIRECT", sub.id),
             a.cmd("CLIENT", "GETREDIR"), a.cmd("GET", "x"), b.cmd("DEL", "x"),
             b.cmd("SET", "x", "1"), sub.frame(), a.cmd("CLIENT", "TRACKINGINFO"),
             b.cmd("FLUSHALL"), sub.frame()]
        t.append(b.cmd("CLIENT", "LIST", "ID", a.id).split(b" flags=")[1][:2])
        t = [_norm(f, conns) for f in t]
        sub.close(), a.close(), b.close()
        return t

    t = _both(ports, run)
    assert t[6] == (b"*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"
                    b"*1\r\n$1\r\nx\r\n")
    assert t[9].endswith(b"$-1\r\n")


def test_redirect_broken(ports):
    def run(port):
        target, a, b = Conn(port, resp3=True), Conn(port, resp3=True), Conn(port)
        conns = {"target": target}
        t = [a.cmd("CLIENT", "TRACKING", "on", "REDIRECT", target.id), a.cmd("GET", "q")]
        target.close()
        # wait (bounded) until the server has dropped the redirect target
        deadline = time.monotonic() + TIMEOUT
        while b"id=%d " % target.id in b.cmd("CLIENT", "LIST") and \
                time.monotonic() < deadline:
            time.sleep(0.01)
        t += [b.cmd("SET", "q", "1"), a.frame(), a.cmd("CLIENT", "TRACKINGINFO")]
        t = [_norm(f, conns) for f in t]
        a.close(), b.close()
        return t

    t = _both(ports, run)
    assert t[3] == b">2\r\n$21\r\ntracking-redir-broken\r\n:<id:target>\r\n"
    assert b"broken_redirect" in t[4]


def test_flushall_and_flushdb_null_invalidation(ports):
    def run(port):
        a, b = Conn(port, resp3=True), Conn(port)
        t = [a.cmd("CLIENT", "TRACKING", "on"), b.cmd("FLUSHDB"), a.frame(),
             a.cmd("FLUSHALL"), a.frame(), a.cmd("PING")]
        a.close(), b.close()
        return t

    t = _both(ports, run)
    assert t[2] == b">2\r\n$10\r\ninvalidate\r\n_\r\n"
    assert t[3] == b"+OK\r\n" and t[4] == t[2]


def test_expiry_invalidates(ports):
    def run(port):
        a, b = Conn(port, resp3=True), Conn(port)
        t = [b.cmd("SET", "e", "1", "PX", "30"), a.cmd("CLIENT", "TRACKING", "on"),
             a.cmd("GET", "e")]
        time.sleep(0.1)
        t += [b.cmd("GET", "e"), a.frame()]   # lazy expiry by another client
        a.close(), b.close()
        return t

    t = _both(ports, run)
    assert t[-1] == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\ne\r\n"


def test_optin_optout_caching(ports):
    def run(port):
        a, b = Conn(port, resp3=True), Conn(port)
        t = [a.cmd("CLIENT", "CACHING", "yes"),
             a.cmd("CLIENT", "TRACKING", "on", "OPTIN"), a.cmd("CLIENT", "CACHING", "no"),
             a.cmd("GET", "n1"), a.cmd("CLIENT", "CACHING", "yes"),
             a.cmd("CLIENT", "TRACKINGINFO"), a.cmd("GET", "y1"),
             a.cmd("CLIENT", "TRACKINGINFO"),
             b.cmd("SET", "n1", "1"), b.cmd("SET", "y1", "1"), a.frame(), a.cmd("PING"),
             a.cmd("CLIENT", "TRACKING", "on", "OPTOUT"), a.cmd("CLIENT", "TRACKING", "off"),
             a.cmd("CLIENT", "TRACKING", "on", "OPTOUT"), a.cmd("CLIENT", "CACHING", "yes"),
             a.cmd("CLIENT", "CACHING", "no"), a.cmd("GET", "n2"), a.cmd("GET", "y2"),
             b.cmd("SET", "n2", "1"), b.cmd("SET", "y2", "1"), a.frame(), a.cmd("PING"),
             a.cmd("CLIENT", "CACHING", "maybe")]
        a.close(), b.close()
        return t

    t = _both(ports, run)
    assert t[10] == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\ny1\r\n"
    assert t[11] == b"+PONG\r\n"


def test_errors(ports):
    cases = [
        ("CLIENT", "TRACKING", "on", "PREFIX", "a"),
        ("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "ab", "PREFIX", "a"),
        ("CLIENT", "TRACKING", "on", "BCAST", "OPTIN"),
        ("CLIENT", "TRACKING", "on", "OPTIN", "OPTOUT"),
        ("CLIENT", "TRACKING", "on", "REDIRECT", "999999"),
        ("CLIENT", "TRACKING", "on", "REDIRECT", "x"),
        ("CLIENT", "TRACKING", "on", "BOGUS"),
        ("CLIENT", "TRACKING", "maybe"),
        ("CLIENT", "TRACKING", "on", "PREFIX"),
        ("CLIENT", "TRACKING"),
        ("CLIENT", "CACHING"),
        ("CLIENT", "CACHING", "yes"),
        ("CLIENT", "GETREDIR"),
        ("CLIENT", "TRACKINGINFO"),
    ]

    def run(port):
        a = Conn(port)
        t = [a.cmd(*args) for args in cases]
        t += [a.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a:"),
              a.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "a"),
              a.cmd("CLIENT", "TRACKING", "on"),
              a.cmd("CLIENT", "TRACKING", "off"),
              a.cmd("CLIENT", "TRACKING", "on", "OPTIN"),
              a.cmd("CLIENT", "TRACKING", "on", "OPTOUT"),
              a.cmd("CLIENT", "TRACKING", "on", "REDIRECT", a.id, "REDIRECT", a.id),
              a.cmd("CLIENT", "CACHING", "no")]
        a.close()
        return t

    t = _both(ports, run)
    assert t[0] == b"-ERR PREFIX option requires BCAST mode to be enabled\r\n"
    assert b"overlaps with another provided prefix" in t[1]


# --------------------------------------------------------------------------------------------
# BCAST
# --------------------------------------------------------------------------------------------

def test_bcast_prefixes(ports):
    def run(port):
        a, b = Conn(port, resp3=True), Conn(port)
        t = [a.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "user:", "PREFIX", "obj:"),
             a.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "o"),
             a.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "zz"),
             a.cmd("CLIENT", "TRACKINGINFO"),
             b.cmd("MSET", "user:2", "1", "user:1", "1", "other", "1", "obj:9", "1"),
             a.frame(), a.frame(), a.cmd("PING"),
             b.cmd("CLIENT", "LIST", "ID", a.id).split(b" flags=")[1][:2]]
        a.close(), b.close()
        return t

    t = _both(ports, run)
    assert t[5] == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\nobj:9\r\n"
    assert t[6] == b">2\r\n$10\r\ninvalidate\r\n*2\r\n$6\r\nuser:1\r\n$6\r\nuser:2\r\n"


def test_bcast_all_keys_noloop_and_redirect(ports):
    def run(port):
        a, b, sub = Conn(port, resp3=True), Conn(port), Conn(port)
        conns = {"sub": sub}
        t = [a.cmd("CLIENT", "TRACKING", "on", "BCAST", "NOLOOP"),
             sub.cmd("SUBSCRIBE", "__redis__:invalidate"),
             b.cmd("CLIENT", "TRACKING", "on", "BCAST", "REDIRECT", sub.id),
             a.cmd("SET", "mine", "1"), a.cmd("PING"), sub.frame(),
             b.cmd("SET", "theirs", "1"), a.frame(), sub.frame(),
             a.cmd("CLIENT", "TRACKINGINFO")]
        t = [_norm(f, conns) for f in t]
        a.close(), b.close(), sub.close()
        return t

    t = _both(ports, run)
    assert t[4] == b"+PONG\r\n"


# --------------------------------------------------------------------------------------------
# INFO, table limit, lifecycle (tracered only where ids/memory make Redis's output differ)
# --------------------------------------------------------------------------------------------

def _info(c: Conn) -> dict:
    raw = c.cmd("INFO", "everything")
    body = raw.split(b"\r\n", 1)[1]
    out = {}
    for line in body.decode().splitlines():
        if ":" in line and line.startswith("tracking_"):
            k, v = line.split(":", 1)
            out[k] = v
    return out


def test_info_fields(ports):
    def run(port):
        a, b = Conn(port, resp3=True), Conn(port)
        a.cmd("CLIENT", "TRACKING", "on")
        a.cmd("MGET", "i1", "i2", "i3")
        b.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "p1", "PREFIX", "p2")
        first = _info(b)
        a.close()
        b.cmd("SET", "i1", "x")   # the closed client's entry is dropped, not sent
        second = _info(b)
        b.close()
        return [first, second]

    t = _both(ports, run)
    assert t[0] == {"tracking_clients": "2", "tracking_total_keys": "3",
                    "tracking_total_items": "3", "tracking_total_prefixes": "2"}


def test_tracking_table_max_keys(tracered_server):
    a, b = Conn(tracered_server.port, resp3=True), Conn(tracered_server.port)
    try:
        b.cmd("CONFIG", "SET", "tracking-table-max-keys", "2")
        a.cmd("CLIENT", "TRACKING", "on")
        a.cmd("MGET", "m1", "m2", "m3", "m4")
        pushes = [a.frame(), a.frame()]   # two keys must go: their readers are told
        assert all(p.startswith(b">2\r\n$10\r\ninvalidate\r\n*1\r\n") for p in pushes)
        deadline = time.monotonic() + TIMEOUT
        while _info(b)["tracking_total_keys"] != "2" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _info(b)["tracking_total_keys"] == "2"
    finally:
        b.cmd("CONFIG", "SET", "tracking-table-max-keys", "1000000")
        a.close(), b.close()


def test_reset_and_disconnect_disable_tracking(tracered_server):
    a, b = Conn(tracered_server.port, resp3=True), Conn(tracered_server.port)
    try:
        base = int(_info(b)["tracking_clients"])
        a.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "r:")
        assert int(_info(b)["tracking_clients"]) == base + 1
        assert a.cmd("RESET") == b"+RESET\r\n"
        assert int(_info(b)["tracking_clients"]) == base
        assert _info(b)["tracking_total_prefixes"] == "0"
        a.cmd("CLIENT", "TRACKING", "on")
        a.close()
        deadline = time.monotonic() + TIMEOUT
        while int(_info(b)["tracking_clients"]) != base and time.monotonic() < deadline:
            time.sleep(0.01)
        assert int(_info(b)["tracking_clients"]) == base
    finally:
        b.close()


def test_multi_keys_remembered_and_pending_after_exec(ports):
    def run(port):
        a = Conn(port, resp3=True)
        t = [a.cmd("CLIENT", "TRACKING", "on"), a.cmd("MULTI"), a.cmd("GET", "t1"),
             a.cmd("SET", "t1", "v"), a.cmd("EXEC"), a.frame(), a.cmd("PING")]
        a.close()
        return t

    _both(ports, run)


def test_extra_server_isolated():
    """A fresh server: the first CLIENT TRACKING installs the hooks; writes before that
    (and on servers nobody tracks) send nothing."""
    sp = ServerProc.start_tracered()
    try:
        a, b = Conn(sp.port, resp3=True), Conn(sp.port)
        b.cmd("SET", "k", "1")
        a.cmd("CLIENT", "TRACKING", "on")
        a.cmd("GET", "k")
        b.cmd("DEL", "k")
        assert a.frame() == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$1\r\nk\r\n"
        a.close(), b.close()
    finally:
        sp.stop()


def test_script_reads_remember_declared_keys(ports):
    def run(port):
        a, b = Conn(port, resp3=True), Conn(port)
        t = [a.cmd("CLIENT", "TRACKING", "on"),
             a.cmd("EVAL", "return redis.call('get', KEYS[1])", "1", "s1"),
             a.cmd("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "s2"),
             b.cmd("SET", "s2", "1"), b.cmd("SET", "s1", "1"), a.frame(), a.cmd("PING")]
        a.close(), b.close()
        return t

    t = _both(ports, run)
    assert t[5] == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\ns1\r\n"


def test_push_ignores_client_reply_off(ports):
    def run(port):
        a, b = Conn(port, resp3=True), Conn(port)
        t = [a.cmd("CLIENT", "TRACKING", "on"), a.cmd("GET", "ro")]
        a.send("CLIENT", "REPLY", "OFF")
        t += [b.cmd("SET", "ro", "1"), a.frame(), a.cmd("CLIENT", "REPLY", "ON")]
        a.close(), b.close()
        return t

    t = _both(ports, run)
    assert t[3] == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nro\r\n"


def test_killed_tracking_client_is_forgotten(ports):
    def run(port):
        a, b = Conn(port, resp3=True), Conn(port)
        a.cmd("CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "kk")
        before = _info(b)
        t = [b.cmd("CLIENT", "KILL", "ID", a.id), b.cmd("SET", "kk1", "1"), b.cmd("PING")]
        after = _info(b)
        a.close(), b.close()
        return t + [before["tracking_clients"] != after["tracking_clients"],
                    after["tracking_total_prefixes"]]

    t = _both(ports, run)
    assert t[-2:] == [True, "0"]


def test_caching_covers_exactly_next_command_or_transaction(ports):
    def run(port):
        a, b = Conn(port, resp3=True), Conn(port)
        t = [a.cmd("CLIENT", "TRACKING", "on", "OPTIN"), a.cmd("CLIENT", "CACHING", "yes"),
             a.cmd("NOSUCHCMD"), a.cmd("GET", "c1"), a.cmd("CLIENT", "CACHING", "yes"),
             a.cmd("CLIENT", "GETREDIR"), a.cmd("MULTI"), a.cmd("GET", "c2"), a.cmd("EXEC"),
             a.cmd("GET", "c3"), b.cmd("MSET", "c1", "1", "c3", "1"), b.cmd("SET", "c2", "1"),
             a.frame(), a.cmd("PING")]
        a.close(), b.close()
        return t

    t = _both(ports, run)
    assert t[12] == b">2\r\n$10\r\ninvalidate\r\n*1\r\n$2\r\nc2\r\n"
    assert t[13] == b"+PONG\r\n"
