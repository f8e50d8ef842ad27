"""The protocol layer over TCP, byte-exact against the reference redis-server.

Raw sockets only (no client library in the way): malformed requests get Redis's exact error
and the connection closes while other clients keep being served; limits (proto-max-bulk-len,
client-query-buffer-limit, pre-AUTH sizes, 64 KiB lines) close only the offending client;
big pipelines, a 50 MB value and byte-at-a-time sending work; random garbage does not hurt.
"""

from __future__ import annotations

import random
import socket
import threading
import time

import pytest
from conftest import ServerProc


def mb(*args: bytes | str) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def connect(port: int, timeout: float = 5.0) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_until_close(s: socket.socket, quiet: float) -> tuple[bytes, bool]:
    """Everything the server sends until it closes (True) or stays quiet for ``quiet`` s."""
    s.settimeout(quiet)
    out = bytearray()
    while True:
        try:
            d = s.recv(65536)
        except TimeoutError:
            return bytes(out), False
        except ConnectionResetError:
            return bytes(out), True
        if not d:
            return bytes(out), True
        out += d


def exchange(port: int, data: bytes, quiet: float = 2.0) -> tuple[bytes, bool]:
    s = connect(port)
    try:
        s.sendall(data)
        return read_until_close(s, quiet)
    finally:
        s.close()


def read_exactly(s: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        d = s.recv(min(1 << 20, n - len(buf)))
        if not d:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += d
    return bytes(buf)


def ping_ok(s: socket.socket) -> bool:
    s.sendall(b"PING\r\n")
    s.settimeout(5)
    return read_exactly(s, 7) == b"+PONG\r\n"


def send_in_background(s: socket.socket, data: bytes) -> threading.Thread:
    """sendall from a thread, so a test can read replies while a big request goes out."""
    t = threading.Thread(target=s.sendall, args=(data,), daemon=True)
    t.start()
    return t


# --------------------------------------------------------------------------------------------
# Malformed requests: same bytes as Redis, then the connection closes
# --------------------------------------------------------------------------------------------

CLOSING = [
    b"*abc\r\n",
    b"*+1\r\n",
    b"*3000000000\r\n",
    b"*1\r\nfoo\r\n",
    b"*2\r\n$4\r\nECHO\r\n:1\r\n",
    b"*1\r\n\xff3\r\n",
    b"*1\r\n\r\n",
    b"*1\r\n$-1\r\n",
    b"*1\r\n$abc\r\n",
    b"*1\r\n$04\r\n",
    b"*1\r\n$999999999999\r\n",
    b'"unbalanced\r\n',
    b"SET 'a\r\n",
    b'ECHO "a"b\r\n',
    b"PING\r\n" + mb("ECHO", "x") + b"*1\r\nx\r\n" + b"PING\r\n",
    b"x" * 70000,
    b"*" + b"1" * 70000,
    b"*1\r\n$" + b"1" * 70000,
    b"*1\x00\r\n" + b"x" * 70000,
]


@pytest.mark.parametrize("data", CLOSING, ids=lambda d: repr(d[:24]))
def test_malformed_request_same_error_then_close(tracered_server, redis_server, data):
    bystander = connect(tracered_server.port)
    try:
        assert ping_ok(bystander)
        got, closed = exchange(tracered_server.port, data)
        want, ref_closed = exchange(redis_server.port, data)
        assert ref_closed and want.startswith((b"+", b"$", b"-ERR Protocol error"))
        assert (got, closed) == (want, ref_closed)
        assert ping_ok(bystander)
    finally:
        bystander.close()


NOT_CLOSING = [
    b"*0\r\n*-1\r\n*-77\r\nPING\r\n",
    b"\r\n\n   \r\nPING\r\n",
    b"*1\r\n$4\r\nPINGxy",               # the two bytes after a payload are not checked
    b"ping\x0bx\r\n",                     # \v is not a separator inside a token
    b"ECHO \"a\\x41\\n\" 'b\\'c'\r\n",
    b"ECHO \"a\\x41\\n\"\r\n",
    b"*1\x00\r\n",                        # NUL hides the line end: Redis just waits
    b"PI\x00NG\r\n",
    b"*2\r\n$4\r\nECHO\r\n$3\r\nab",      # incomplete: no reply, no close
]


@pytest.mark.parametrize("data", NOT_CLOSING, ids=lambda d: repr(d[:24]))
def test_quirky_requests_same_reply_no_close(tracered_server, redis_server, data):
    got = exchange(tracered_server.port, data, quiet=0.4)
    want = exchange(redis_server.port, data, quiet=0.4)
    assert got == want
    assert not want[1]


def test_protocol_error_after_pipelined_commands_replies_to_them_first(tracered_server):
    data = mb("ECHO", "one") + b"ECHO two\r\n" + b"*1\r\n$x\r\n" + mb("ECHO", "never")
    got, closed = exchange(tracered_server.port, data)
    assert got == b"$3\r\none\r\n$3\r\ntwo\r\n-ERR Protocol error: invalid bulk length\r\n"
    assert closed


# --------------------------------------------------------------------------------------------
# Limits on a server with small limits and a password (and the same for redis-server)
# --------------------------------------------------------------------------------------------

LIMIT_ARGS = ("--proto-max-bulk-len", "2mb", "--client-query-buffer-limit", "1mb",
              "--requirepass", "secret")


@pytest.fixture(scope="module")
def limited():
    t = ServerProc.start_tracered(*LIMIT_ARGS)
    try:
        ref = ServerProc.start_redis(*LIMIT_ARGS)
    except BaseException:
        t.stop()
        raise
    yield t, ref
    t.stop()
    ref.stop()


AUTH = mb("AUTH", "secret")

LIMIT_CASES = [
    ("unauth-multibulk", b"*11\r\n"),
    ("unauth-bulk", b"*1\r\n$16385\r\n"),
    ("unauth-small-ok", mb(*["x"] * 10) + mb("PING")),
    ("unauth-bulk-16384-ok", mb("a" * 16384)),
    ("proto-max-bulk-len", AUTH + b"*2\r\n$4\r\nECHO\r\n$2097153\r\n"),
    ("proto-max-bulk-len-ok-header", AUTH + b"*2\r\n$4\r\nECHO\r\n$2097152\r\nabc"),
    ("authed-multibulk", AUTH + mb("PING", *["x"] * 20)),
]


@pytest.mark.parametrize("name,data", LIMIT_CASES, ids=[c[0] for c in LIMIT_CASES])
def test_limits_same_as_redis(limited, name, data):
    t, ref = limited
    quiet = 2.0 if name in ("unauth-multibulk", "unauth-bulk", "proto-max-bulk-len") else 0.4
    got = exchange(t.port, data, quiet)
    want = exchange(ref.port, data, quiet)
    assert got == want, name


@pytest.mark.parametrize("which", ["tracered", "redis"])
def test_query_buffer_limit_closes_only_that_client(limited, which):
    t, ref = limited
    port = t.port if which == "tracered" else ref.port
    bystander = connect(port)
    try:
        bystander.sendall(AUTH)
        assert read_exactly(bystander, 5) == b"+OK\r\n"
        s = connect(port, timeout=10)
        try:
            s.sendall(AUTH)
            assert read_exactly(s, 5) == b"+OK\r\n"
            # 1.5 MB of a 2 MB argument: legal per proto-max-bulk-len, over the 1 MB buffer.
            payload = b"*2\r\n$4\r\nECHO\r\n$2000000\r\n" + b"z" * 1_500_000
            try:
                s.sendall(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass
            got, closed = read_until_close(s, 5.0)
            assert (got, closed) == (b"", True)
        finally:
            s.close()
        assert ping_ok(bystander)
    finally:
        bystander.close()


# --------------------------------------------------------------------------------------------
# Volume: pipelines, many arguments, a 50 MB value, byte-at-a-time
# --------------------------------------------------------------------------------------------

def test_pipeline_of_10k_commands(tracered_server, r):
    n = 10_000
    sets = b"".join(mb("SET", "pk:%d" % i, "val:%d" % i) for i in range(n))
    gets = b"".join(mb("GET", "pk:%d" % i) for i in range(n))
    expected = b"+OK\r\n" * n + b"".join(
        b"$%d\r\nval:%d\r\n" % (len(b"val:%d" % i), i) for i in range(n))
    s = connect(tracered_server.port, timeout=30)
    try:
        sender = send_in_background(s, sets + gets)
        got = read_exactly(s, len(expected))
        sender.join(30)
        assert got == expected
    finally:
        s.close()


def test_one_command_with_300k_arguments(tracered_server, redis_server):
    n = 300_000
    data = mb("PING", *[b"a%d" % i for i in range(n)])
    replies = []
    for port in (tracered_server.port, redis_server.port):
        s = connect(port, timeout=30)
        try:
            t0 = time.perf_counter()
            sender = send_in_background(s, data)
            s.settimeout(30)
            reply = s.recv(200)
            replies.append((reply, time.perf_counter() - t0))
            sender.join(30)
        finally:
            s.close()
    assert replies[0][0] == replies[1][0] == \
        b"-ERR wrong number of arguments for 'ping' command\r\n"
    # Arguments are parsed once each, not once per read (quadratic: ~10 s here).
    assert replies[0][1] < 4, replies[0][1]


def _big_round_trip(port: int, size: int) -> float:
    value = bytes(range(256)) * (size // 256)
    s = connect(port, timeout=60)
    try:
        t0 = time.perf_counter()
        sender = send_in_background(s, mb("SET", "bigvalue", value) + mb("GET", "bigvalue")
                                    + mb("STRLEN", "bigvalue"))
        assert read_exactly(s, 5) == b"+OK\r\n"
        hdr = b"$%d\r\n" % len(value)
        reply = read_exactly(s, len(hdr) + len(value) + 2)
        assert read_exactly(s, len(b":%d\r\n" % len(value))) == b":%d\r\n" % len(value)
        elapsed = time.perf_counter() - t0
        sender.join(60)
        assert reply[:len(hdr)] == hdr and reply[-2:] == b"\r\n"
        assert reply[len(hdr):-2] == value
        return elapsed
    finally:
        s.close()


def test_50mb_value_round_trip_in_bounded_time(tracered_server, r):
    t10 = _big_round_trip(tracered_server.port, 10 * 1024 * 1024)
    t50 = _big_round_trip(tracered_server.port, 50 * 1024 * 1024)
    r.delete("bigvalue")
    # Linear work would make t50 about 5 * t10; quadratic copying made it much worse.
    assert t50 < 20, (t10, t50)
    assert t50 < 12 * t10 + 2.0, (t10, t50)


def test_byte_at_a_time(tracered_server, redis_server):
    stream = (mb("SET", "bat", b"a\r\nb\x00c") + b"GET bat\r\n" + b"*0\r\n" +
              mb("ECHO", "x" * 40) + b'ECHO "q\\x41\\n"\n' + b"ECHO 'z' y\r\n" +
              mb("DEL", "bat"))
    results = []
    for port in (tracered_server.port, redis_server.port):
        s = connect(port)
        try:
            for i in range(len(stream)):
                s.sendall(stream[i:i + 1])
                if i % 8 == 0:
                    time.sleep(0.001)  # let the server see (and parse) partial data
            results.append(read_until_close(s, 0.5))
        finally:
            s.close()
    assert results[0] == results[1]
    assert results[0] == (b"+OK\r\n$6\r\na\r\nb\x00c\r\n$40\r\n" + b"x" * 40 + b"\r\n"
                          b"$3\r\nqA\n\r\n-ERR wrong number of arguments for 'echo' command\r\n"
                          b":1\r\n", False)


def test_server_survives_random_garbage(tracered_server):
    rnd = random.Random(20240611)
    prefixes = [b"", b"*", b"*2\r\n", b"*1\r\n$", b"$", b'"', b"'", b"PING ", b"*3\r\n$3\r\nSET"]
    keeper = connect(tracered_server.port)
    try:
        for i in range(200):
            n = rnd.choice((1, 5, 50, 500, 5000))
            junk = rnd.choice(prefixes) + bytes(rnd.randrange(256) for _ in range(n))
            if rnd.random() < 0.3:
                junk = junk.replace(b"\x00", b"")
            s = connect(tracered_server.port)
            try:
                s.sendall(junk)
                if i % 10 == 0:
                    read_until_close(s, 0.05)
            except OSError:
                pass
            finally:
                s.close()
        assert ping_ok(keeper)
    finally:
        keeper.close()
    s = connect(tracered_server.port)
    try:
        assert ping_ok(s)
    finally:
        s.close()
    assert tracered_server.alive()
    assert "BUG REPORT" not in tracered_server.log()
