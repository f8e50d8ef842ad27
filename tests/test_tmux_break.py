"""The real thing in a real terminal: ``tracered --break call`` in a tmux pane, redis-cli's
SET waits on the paused server, the screen shows the frame, ``c`` lets it through."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

import pytest
from conftest import ROOT, free_port

TMUX = shutil.which("tmux")
REDIS_CLI = shutil.which("redis-cli")

pytestmark = pytest.mark.skipif(not TMUX or not REDIS_CLI, reason="needs tmux and redis-cli")


def tmux(*args: str) -> str:
    return subprocess.run([TMUX, *args], capture_output=True, text=True, timeout=10).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-t", session, "-p")


def wait_screen(session: str, *needles: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = screen(session)
        if all(n in text for n in needles):
            return text
        time.sleep(0.2)
    raise AssertionError(f"{needles} not on screen:\n{text}")


def test_break_call_in_tmux():
    port = free_port()
    workdir = tempfile.mkdtemp(prefix="tracered-tmux-")
    session = f"tracered-test-{os.getpid()}-{port}"
    # COLUMNS/LINES inherited from a test runner would override the pane size in Textual.
    cmd = (f"cd {shlex.quote(workdir)} && unset COLUMNS LINES && PYTHONPATH={shlex.quote(ROOT)} "
           f"{shlex.quote(sys.executable)} -m tracered --break call --port {port} "
           f"--save '' ; echo TRACERED-EXITED-$?; sleep 60")
    tmux("new-session", "-d", "-s", session, "-x", "200", "-y", "50", cmd)
    cli = None
    try:
        wait_screen(session, "RUNNING", "Breakpoints")
        cli = subprocess.Popen([REDIS_CLI, "-p", str(port), "SET", "k", "v"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        # The status line, the Redis location and the tracered source of call().
        wait_screen(session, "PAUSED", "call", "SET k v", "server.c:3347", "def call")
        time.sleep(0.5)
        assert cli.poll() is None, "redis-cli got an answer while the server was paused"
        tmux("send-keys", "-t", session, "c")
        out, _ = cli.communicate(timeout=15)
        assert out.strip() == "OK"
        wait_screen(session, "RUNNING")
        tmux("send-keys", "-t", session, "q")
        wait_screen(session, "TRACERED-EXITED-0", timeout=20)
        # The server shut down with the UI: nothing listens on the port any more.
        p = subprocess.run([REDIS_CLI, "-p", str(port), "PING"], capture_output=True,
                           text=True, timeout=10)
        assert "PONG" not in p.stdout
        assert not [f for f in os.listdir(workdir) if f.endswith(".token")]
    finally:
        if cli is not None and cli.poll() is None:
            cli.kill()
        tmux("kill-session", "-t", session)
