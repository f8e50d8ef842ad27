"""CLIENT and MONITOR over TCP, error texts compared with a real redis-server 7.0.

Wire-level checks (CLIENT REPLY, MONITOR, CLIENT PAUSE) use raw sockets so the exact bytes
and their timing are visible; the rest goes through redis-py and the ``diff`` fixture.
"""

from __future__ import annotations

import re
import socket
import time

import pytest
import redis

# ---------------------------------------------------------------------------- helpers


def _sock(port: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.settimeout(5)
    return s


def _cmd(*args) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def _recv_until(s: socket.socket, want: bytes, timeout: float = 5.0) -> bytes:
    """Read until ``want`` appears in what was received (or time out)."""
    buf = b""
    deadline = time.time() + timeout
    while want not in buf and time.time() < deadline:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            chunk = s.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        buf += chunk
    return buf


def _recv_nothing(s: socket.socket, wait: float) -> bytes:
    s.settimeout(wait)
    try:
        return s.recv(65536)
    except TimeoutError:
        return b""


def _fields(line: str) -> list[str]:
    return [kv.split("=", 1)[0] for kv in line.split(" ")]


def _parse_line(line: str) -> dict[str, str]:
    return dict(kv.split("=", 1) for kv in line.strip().split(" "))


@pytest.fixture
def port(tracered_server):
    return tracered_server.port


# ---------------------------------------------------------------------------- error texts

BAD_INPUTS = [
    ("CLIENT",),
    ("CLIENT", "NOSUCH"),
    ("CLIENT", "ID", "extra"),
    ("CLIENT", "LIST", "TYPE", "nosuch"),
    ("CLIENT", "LIST", "TYPE"),
    ("CLIENT", "LIST", "ID", "abc"),
    ("CLIENT", "LIST", "ID"),
    ("CLIENT", "LIST", "foo", "bar"),
    ("CLIENT", "KILL", "1.2.3.4:5"),
    ("CLIENT", "KILL", "ID", "0"),
    ("CLIENT", "KILL", "ID", "abc"),
    ("CLIENT", "KILL", "ID", "-5"),
    ("CLIENT", "KILL", "ID", "99999"),
    ("CLIENT", "KILL", "TYPE", "nosuch"),
    ("CLIENT", "KILL", "TYPE", "master"),
    ("CLIENT", "KILL", "USER", "nosuch"),
    ("CLIENT", "KILL", "SKIPME", "maybe"),
    ("CLIENT", "KILL", "ID", "1", "TYPE"),
    ("CLIENT", "KILL", "FOO", "bar"),
    ("CLIENT", "KILL", "ADDR", "1.2.3.4:5", "SKIPME", "yes"),
    ("CLIENT", "SETNAME", "a b"),
    ("CLIENT", "SETNAME", "a\nb"),
    ("CLIENT", "SETNAME", "caf\xe9"),
    ("CLIENT", "REPLY", "maybe"),
    ("CLIENT", "NO-EVICT", "maybe"),
    ("CLIENT", "NO-EVICT", "on"),
    ("CLIENT", "NO-EVICT", "OFF"),
    ("CLIENT", "PAUSE", "abc"),
    ("CLIENT", "PAUSE", "-1"),
    ("CLIENT", "PAUSE", "10", "sometimes"),
    ("CLIENT", "PAUSE", "1", "2", "3"),
    ("CLIENT", "PAUSE", "0"),
    ("CLIENT", "UNPAUSE"),
    ("CLIENT", "UNPAUSE", "x"),
    ("CLIENT", "UNBLOCK", "abc"),
    ("CLIENT", "UNBLOCK", "1", "maybe"),
    ("CLIENT", "UNBLOCK", "99999"),
    ("CLIENT", "UNBLOCK", "99999", "ERROR"),
    ("CLIENT", "UNBLOCK", "1", "2", "3"),
    ("CLIENT", "GETREDIR"),
    ("CLIENT", "TRACKINGINFO"),
    ("CLIENT", "HELP"),
    ("MONITOR", "extra"),
]


@pytest.mark.parametrize("args", BAD_INPUTS, ids=lambda a: " ".join(a)[:40])
def test_replies_match_redis(diff, args):
    diff(*args)


def test_setname_getname(diff):
    assert diff("CLIENT", "GETNAME") is None
    assert diff("CLIENT", "SETNAME", "worker-1") == b"OK"
    assert diff("CLIENT", "GETNAME") == b"worker-1"
    assert diff("CLIENT", "SETNAME", "") == b"OK"
    assert diff("CLIENT", "GETNAME") is None


# ---------------------------------------------------------------------------- LIST / INFO

def test_client_list_fields_match_redis(r, rr):
    ours = r.execute_command("CLIENT", "INFO").decode()
    theirs = rr.execute_command("CLIENT", "INFO").decode()
    assert ours.endswith("\n")
    assert _fields(ours.strip()) == _fields(theirs.strip())
    f = _parse_line(ours)
    assert f["cmd"] == "client|info"
    assert f["flags"] == "N" and f["db"] == "0" and f["multi"] == "-1"
    assert f["resp"] == _parse_line(theirs)["resp"]
    assert f["user"] == "default" and f["redir"] == "-1"
    assert int(f["argv-mem"]) >= 0 and f["laddr"].endswith(":%d" % r.connection_pool
                                                          .connection_kwargs["port"])


def test_client_list_filters(r, tracered_server):
    other = tracered_server.client()
    try:
        other.execute_command("CLIENT", "SETNAME", "other")
        my_id = r.client_id()
        other_id = other.client_id()
        lines = r.execute_command("CLIENT", "LIST").decode().splitlines()
        ids = {int(_parse_line(ln)["id"]) for ln in lines}
        assert {my_id, other_id} <= ids
        named = [_parse_line(ln) for ln in lines if "name=other " in ln]
        assert len(named) == 1 and int(named[0]["id"]) == other_id
        normal = r.execute_command("CLIENT", "LIST", "TYPE", "NORMAL").decode()
        assert f"id={my_id} " in normal
        assert r.execute_command("CLIENT", "LIST", "TYPE", "pubsub") == b""
        assert r.execute_command("CLIENT", "LIST", "TYPE", "replica") == b""
        only = r.execute_command("CLIENT", "LIST", "ID", other_id, 999999).decode()
        assert only.count("\n") == 1 and only.startswith(f"id={other_id} ")
        info = r.execute_command("CLIENT", "INFO").decode()
        assert info.startswith(f"id={my_id} ")
    finally:
        other.close()


def test_client_info_resp3_is_verbatim(port):
    s = _sock(port)
    try:
        s.sendall(_cmd("HELLO", "3"))
        _recv_until(s, b"modules")
        s.sendall(_cmd("CLIENT", "INFO"))
        data = _recv_until(s, b"resp=3\n\r\n")
        assert re.match(rb"=\d+\r\ntxt:id=\d+ addr=", data), data
    finally:
        s.close()


# ---------------------------------------------------------------------------- KILL

def test_client_kill_by_id_addr_laddr(r, tracered_server):
    victim = _sock(tracered_server.port)
    try:
        victim.sendall(_cmd("CLIENT", "ID"))
        vid = int(_recv_until(victim, b"\r\n")[1:-2])
        assert r.execute_command("CLIENT", "KILL", "ID", vid) == 1
        assert victim.recv(10) == b""  # the server closed it
        assert r.execute_command("CLIENT", "KILL", "ID", vid) == 0
    finally:
        victim.close()
    victim = _sock(tracered_server.port)
    try:
        addr = "%s:%d" % victim.getsockname()
        victim.sendall(_cmd("PING"))
        _recv_until(victim, b"PONG\r\n")
        assert r.execute_command("CLIENT", "KILL", addr) == b"OK"  # old form
        assert victim.recv(10) == b""
        with pytest.raises(redis.ResponseError, match="^No such client$"):
            r.execute_command("CLIENT", "KILL", addr)
    finally:
        victim.close()
    victim = _sock(tracered_server.port)
    try:
        victim.sendall(_cmd("PING"))
        _recv_until(victim, b"PONG\r\n")
        laddr = "127.0.0.1:%d" % tracered_server.port
        # Everyone else connected to this listener goes (the caller is skipped by default).
        n = r.execute_command("CLIENT", "KILL", "LADDR", laddr, "TYPE", "normal")
        assert n >= 1
        assert victim.recv(10) == b""
        assert r.ping()
    finally:
        victim.close()


def test_client_kill_self(tracered_server):
    s = _sock(tracered_server.port)
    try:
        s.sendall(_cmd("CLIENT", "ID"))
        my_id = int(_recv_until(s, b"\r\n")[1:-2])
        s.sendall(_cmd("CLIENT", "KILL", "ID", my_id))
        assert _recv_until(s, b"\r\n") == b":0\r\n"  # SKIPME yes by default
        s.sendall(_cmd("CLIENT", "KILL", "ID", my_id, "SKIPME", "no"))
        # The reply is still delivered, then the connection is closed.
        assert _recv_until(s, b"\r\n") == b":1\r\n"
        assert s.recv(10) == b""
    finally:
        s.close()


# ---------------------------------------------------------------------------- REPLY

def test_client_reply_skip_off_on(port):
    s = _sock(port)
    try:
        s.sendall(_cmd("CLIENT", "REPLY", "SKIP") + _cmd("PING") + _cmd("ECHO", "after-skip"))
        assert _recv_until(s, b"after-skip\r\n") == b"$10\r\nafter-skip\r\n"
        s.sendall(_cmd("CLIENT", "REPLY", "OFF") + _cmd("PING") + _cmd("ECHO", "x") +
                  _cmd("CLIENT", "REPLY", "ON") + _cmd("ECHO", "back"))
        assert _recv_until(s, b"back\r\n") == b"+OK\r\n$4\r\nback\r\n"
    finally:
        s.close()


# ---------------------------------------------------------------------------- PAUSE

def test_client_pause_write_and_unpause(r, port):
    writer = _sock(port)
    reader = _sock(port)
    try:
        assert r.execute_command("CLIENT", "PAUSE", 5000, "WRITE") == b"OK"
        writer.sendall(_cmd("SET", "paused-key", "v"))
        assert _recv_nothing(writer, 0.3) == b""           # the write is held back
        reader.sendall(_cmd("PING"))                       # PING may not replicate: runs
        assert _recv_until(reader, b"\r\n", 2) == b"+PONG\r\n"
        t0 = time.time()
        assert r.execute_command("CLIENT", "UNPAUSE") == b"OK"
        assert _recv_until(writer, b"\r\n", 2) == b"+OK\r\n"
        assert time.time() - t0 < 1.0
    finally:
        writer.close()
        reader.close()
        r.execute_command("CLIENT", "UNPAUSE")


def test_client_pause_all_times_out(r, port):
    other = _sock(port)
    try:
        t0 = time.time()
        assert r.execute_command("CLIENT", "PAUSE", 400, "ALL") == b"OK"
        other.sendall(_cmd("PING"))
        assert _recv_until(other, b"\r\n", 5) == b"+PONG\r\n"
        waited = time.time() - t0
        assert 0.3 <= waited < 3.0, waited
    finally:
        other.close()


# ---------------------------------------------------------------------------- MONITOR

MONITOR_LINE = re.compile(rb'^\+(\d+)\.(\d{6}) \[(\d+) 127\.0\.0\.1:(\d+)\] (.*)\r\n$')


def _monitor_sees(port: int, *commands) -> list[bytes]:
    mon = _sock(port)
    actor = _sock(port)
    try:
        mon.sendall(_cmd("MONITOR"))
        assert _recv_until(mon, b"\r\n") == b"+OK\r\n"
        for c in commands:
            actor.sendall(_cmd(*c))
            _recv_until(actor, b"\r\n")
        actor.sendall(_cmd("ECHO", "monitor-end"))
        data = _recv_until(mon, b'"monitor-end"\r\n')
        return [ln + b"\r\n" for ln in data.split(b"\r\n") if ln]
    finally:
        mon.close()
        actor.close()


@pytest.mark.parametrize("server_kind", ["tracered", "redis"])
def test_monitor_format(server_kind, tracered_server, redis_server):
    port = tracered_server.port if server_kind == "tracered" else redis_server.port
    lines = _monitor_sees(port, ("SELECT", "3"), ("ECHO", 'a"b\\c\n\x01'),
                          ("CLIENT", "LIST"), ("PING",))
    parsed = [MONITOR_LINE.match(ln) for ln in lines]
    assert all(parsed), lines
    bodies = [m.group(5) for m in parsed]
    # Admin commands (CLIENT LIST) are never shown; the db is the one after SELECT.
    assert bodies == [b'"SELECT" "3"', b'"ECHO" "a\\"b\\\\c\\n\\x01"', b'"PING"',
                      b'"ECHO" "monitor-end"'], bodies
    assert [m.group(3) for m in parsed] == [b"3", b"3", b"3", b"3"]
    now = time.time()
    assert all(abs(int(m.group(1)) - now) < 60 for m in parsed)


def test_monitor_client_flags_and_second_monitor_ignored(r, port):
    mon = _sock(port)
    try:
        mon.sendall(_cmd("MONITOR"))
        assert _recv_until(mon, b"\r\n") == b"+OK\r\n"
        mon.sendall(_cmd("MONITOR"))                  # already a monitor: no reply at all
        assert _recv_nothing(mon, 0.2) == b""
        lines = r.execute_command("CLIENT", "LIST").decode().splitlines()
        flags = [_parse_line(ln)["flags"] for ln in lines]
        assert "O" in flags
        # A monitor is a 'normal' client for CLIENT LIST TYPE / KILL TYPE.
        assert r.execute_command("CLIENT", "KILL", "TYPE", "replica") == 0
    finally:
        mon.close()


def _has_command(port: int, name: str) -> bool:
    s = _sock(port)
    try:
        s.sendall(_cmd("COMMAND", "LIST", "FILTERBY", "PATTERN", name))
        return _recv_until(s, b"\r\n") != b"*0\r\n"
    finally:
        s.close()


def test_monitor_in_multi_is_refused(r, rr, port):
    if not _has_command(port, "multi"):
        pytest.skip("MULTI/EXEC not implemented yet")
    for cl in (r, rr):
        p = cl.pipeline(transaction=True)
        p.execute_command("MONITOR")
        res = p.execute(raise_on_error=False)
        assert isinstance(res[0], redis.ResponseError)
        assert str(res[0]) == "MONITOR isn't allowed for DENY BLOCKING client"


# ---------------------------------------------------------------------------- UNBLOCK

def test_client_unblock_blpop(r, port):
    if not _has_command(port, "blpop"):
        pytest.skip("BLPOP not implemented yet")
    blocked = _sock(port)
    try:
        blocked.sendall(_cmd("CLIENT", "ID") + _cmd("BLPOP", "nokey-unblock", "0"))
        bid = int(_recv_until(blocked, b"\r\n")[1:-2])
        deadline = time.time() + 2
        while time.time() < deadline:
            if "flags=b" in r.execute_command("CLIENT", "LIST", "ID", bid).decode():
                break
            time.sleep(0.02)
        assert r.execute_command("CLIENT", "UNBLOCK", bid) == 1
        assert _recv_until(blocked, b"\r\n") == b"*-1\r\n"
        assert r.execute_command("CLIENT", "UNBLOCK", bid) == 0
        blocked.sendall(_cmd("BLPOP", "nokey-unblock", "0"))
        time.sleep(0.1)
        assert r.execute_command("CLIENT", "UNBLOCK", bid, "ERROR") == 1
        assert _recv_until(blocked, b"\r\n") == \
            b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    finally:
        blocked.close()


def test_client_info_reflects_name_and_no_evict(r):
    r.execute_command("CLIENT", "SETNAME", "named-conn")
    r.execute_command("CLIENT", "NO-EVICT", "on")
    f = _parse_line(r.execute_command("CLIENT", "INFO").decode())
    assert f["name"] == "named-conn" and f["flags"] == "e"
    r.execute_command("CLIENT", "NO-EVICT", "off")
    r.execute_command("SELECT", "2")
    f = _parse_line(r.execute_command("CLIENT", "INFO").decode())
    assert f["flags"] == "N" and f["db"] == "2"
    assert int(f["argv-mem"]) == len("CLIENT") + len("INFO")
