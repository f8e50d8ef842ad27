"""The debugger driven through its control channel: tracered runs as a subprocess
(``--break ... --no-tui --debug-port P``) and the test is the remote UI, like
``tracered tui --attach``."""

from __future__ import annotations

import json
import os
import socket
import stat
import threading

import pytest
import redis
from conftest import ServerProc, free_port

from tracered.cli import split_tracered_options
from tracered.trace.control import ControlClient, ControlError, parse_hostport, read_token_file

TIMEOUT = 15


@pytest.fixture(scope="module")
def debug_server():
    cport = free_port()
    sp = ServerProc.start_tracered("--break", 'call if cmd == "SET"', "--no-tui",
                                   "--debug-port", str(cport))
    sp.control_port = cport
    sp.token_file = os.path.join(sp.workdir, f"tracered-{cport}.token")
    yield sp
    sp.stop()


def connect(sp) -> ControlClient:
    return ControlClient("127.0.0.1", sp.control_port, read_token_file(sp.token_file))


class Bg:
    def __init__(self, fn, *args) -> None:
        self.result = self.error = None
        self.done = threading.Event()

        def run():
            try:
                self.result = fn(*args)
            except Exception as e:  # noqa: BLE001
                self.error = e
            finally:
                self.done.set()

        threading.Thread(target=run, daemon=True).start()

    def get(self, timeout: float = TIMEOUT):
        assert self.done.wait(timeout), "client call did not return"
        if self.error:
            raise self.error
        return self.result


def test_token_file_is_private_and_logged(debug_server):
    st = os.stat(debug_server.token_file)
    assert stat.S_IMODE(st.st_mode) == 0o600
    token = read_token_file(debug_server.token_file)
    assert len(token) == 32 and int(token, 16) >= 0
    log = debug_server.log()
    assert f"127.0.0.1:{debug_server.control_port}" in log
    assert debug_server.token_file in log


def test_wrong_token_and_no_auth_are_refused(debug_server):
    with pytest.raises(ControlError, match="authentication"):
        ControlClient("127.0.0.1", debug_server.control_port, "0" * 32)
    # A raw connection that skips auth gets an error and is closed.
    with socket.create_connection(("127.0.0.1", debug_server.control_port), timeout=5) as s:
        s.sendall(b'{"seq": 1, "op": "list"}\n')
        f = s.makefile("rb")
        reply = json.loads(f.readline())
        assert reply["ok"] is False and "authentication" in reply["error"]
        assert f.readline() == b""
    with pytest.raises(ControlError):
        ControlClient("10.0.0.1", debug_server.control_port, "x")


def test_full_round_trip(debug_server):
    ctl = connect(debug_server)
    events = []
    got_pause = threading.Event()

    def on_event(ev):
        events.append(ev)
        if ev.get("event") == "paused":
            got_pause.set()

    try:
        ctl.subscribe(on_event)
        r = debug_server.client()
        bg = Bg(r.set, "k", "v")
        frame = ctl.wait_paused(TIMEOUT)
        assert frame is not None
        assert frame["probe"] == "call" and frame["client"]["argv"] == ["SET", "k", "v"]
        assert frame["dict"]["rehashidx"] == -1
        assert got_pause.wait(5)
        assert any(e.get("event") == "paused" and e["frame"]["seq"] == frame["seq"]
                   for e in events)
        assert ctl.current_frame()["seq"] == frame["seq"]
        assert ctl.state()["paused"] is True
        # Everyone waits while paused.
        other = debug_server.client()
        ping = Bg(other.ping)
        assert not ping.done.wait(0.7)
        # The control channel itself still answers while the server thread is frozen.
        assert ctl.snapshot()["port"] == debug_server.port
        assert ctl.resume("step") is True
        f = ctl.wait_paused(TIMEOUT)
        assert f["reason"] == "step"
        assert ctl.resume("finish") is True
        f = ctl.wait_paused(TIMEOUT)
        assert (f["probe"], f["when"]) == ("processCommand", "leave")
        assert f["robj"]["encoding"] == "embstr" and f["robj"]["preview"] == "v"
        assert ctl.resume("continue") is True
        assert bg.get() is True
        assert ping.get() is True
        assert any(e.get("event") == "resumed" for e in events)
        assert ctl.resume("continue") is False   # not paused any more
        # Breakpoint management over the channel.
        bp = ctl.add_breakpoint('call if cmd == "GET" and key == "k"')
        assert bp["id"] >= 2
        with pytest.raises(Exception, match="unknown probe"):
            ctl.add_breakpoint("nosuch")
        with pytest.raises(Exception, match="only these functions"):
            ctl.add_breakpoint("call if __import__('os')")
        assert ctl.disable_breakpoint(bp["id"])
        assert r.get("k") == b"v"                 # disabled: no pause
        assert ctl.toggle_breakpoint(bp["id"])    # enabled again
        bg = Bg(r.get, "k")
        assert ctl.wait_paused(TIMEOUT)["client"]["argv"] == ["GET", "k"]
        ctl.resume("continue")
        assert bg.get() == b"v"
        assert ctl.delete_breakpoint(bp["id"])
        with pytest.raises(ControlError, match="no breakpoint"):
            ctl.delete_breakpoint(999)
        assert any(c["argv"][:2] == ["GET", "k"] for c in ctl.recent_commands())
        names = {p["name"] for p in ctl.probe_names()}
        assert {"call", "processCommand", "dictRehash"} <= names
        r.close()
        other.close()
    finally:
        ctl.close()


def test_last_client_leaving_resumes_a_headless_server(debug_server):
    ctl = connect(debug_server)
    ctl.enable_breakpoint(1)
    r = debug_server.client()
    bg = Bg(r.set, "left", "1")
    assert ctl.wait_paused(TIMEOUT) is not None
    ctl.close()                       # nobody left to press continue
    assert bg.get() is True
    ctl = connect(debug_server)
    try:
        assert all(not b["enabled"] for b in ctl.list_breakpoints())
        assert r.set("left", "2") is True
    finally:
        ctl.close()
        r.close()


def test_cli_option_parsing():
    rest, opts = split_tracered_options(
        ["--port", "7000", "--break", "call", "--break=dictRehash if dict.used > 3",
         "--tui", "--debug-port", "9000", "--save", ""])
    assert rest == ["--port", "7000", "--save", ""]
    assert opts["break"] == ["call", "dictRehash if dict.used > 3"]
    assert opts["tui"] and opts["debug_port"] == 9000
    _, opts = split_tracered_options(["--attach", "127.0.0.1:9000", "--token-file", "/t"])
    assert opts["attach"] == "127.0.0.1:9000" and opts["token_file"] == "/t"
    assert parse_hostport("127.0.0.1:9000") == ("127.0.0.1", 9000)
    assert parse_hostport("9000") == ("127.0.0.1", 9000)


def test_bad_break_exits_with_a_message(tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.run([sys.executable, "-m", "tracered", "--break", "call if cmd >", "--port",
                        str(free_port())], capture_output=True, text=True, timeout=60,
                       cwd=tmp_path, env=env)
    assert p.returncode == 1
    assert "bad --break" in p.stderr and "syntax error" in p.stderr


def test_headless_without_debug_options_has_no_control_channel(tracered_server):
    log = tracered_server.log()
    assert "control channel" not in log
    assert not [f for f in os.listdir(tracered_server.workdir) if f.endswith(".token")]
    r = redis.Redis(port=tracered_server.port)
    assert r.ping()
    r.close()


def test_config_debug_control_port_starts_the_channel():
    cport = free_port()
    sp = ServerProc.start_tracered("--debug-control-port", str(cport))
    try:
        path = os.path.join(sp.workdir, f"tracered-{cport}.token")
        assert os.path.exists(path)
        ctl = ControlClient("127.0.0.1", cport, read_token_file(path))
        try:
            assert ctl.list_breakpoints() == []
            assert ctl.state()["paused"] is False
        finally:
            ctl.close()
        r = sp.client()
        assert r.config_get("debug-control-port") == {"debug-control-port": str(cport)}
        r.close()
    finally:
        sp.stop()
    assert not os.path.exists(path), "the token file outlived the server"


def test_attach_reports_a_missing_token_file(tmp_path, capsys):
    from tui.runner import attach_main

    assert attach_main(f"127.0.0.1:{free_port()}", str(tmp_path / "none.token")) == 1
    assert "cannot attach" in capsys.readouterr().err
