"""Shared fixtures: real servers on free loopback ports, started and stopped by PID.

* ``tracered_server`` / ``redis_server``: a fresh server per test module (class ServerProc).
* ``r`` / ``rr``: redis-py clients (hiredis parser when installed) for tracered and for the
  reference redis-server; both servers are flushed before each test.
* ``diff``: a Differential helper that sends the same command to both and asserts equal
  replies (and, on demand, OBJECT ENCODING and DEBUG DIGEST).

Start extra servers in a test with ``ServerProc.start_tracered(...)`` / ``start_redis(...)``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest
import redis
from hypothesis import settings as _hyp_settings

# Property tests replay the same examples on every run by default ("ci"), so the suite's
# verdict does not depend on the draw; HYPOTHESIS_PROFILE=explore draws new examples each
# run, to hunt for divergences from Redis (README: Tests).
_hyp_settings.register_profile("ci", derandomize=True)
_hyp_settings.register_profile("explore", derandomize=False)
_hyp_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REDIS_SERVER = shutil.which("redis-server")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class ServerProc:
    """A server process we started (tracered or redis-server), stopped by its PID."""

    def __init__(self, kind: str, port: int, proc: subprocess.Popen, workdir: str,
                 logpath: str) -> None:
        self.kind = kind
        self.port = port
        self.proc = proc
        self.workdir = workdir
        self.logpath = logpath

    @classmethod
    def start_tracered(cls, *args: str, port: int | None = None,
                       workdir: str | None = None, env: dict | None = None) -> ServerProc:
        port = port or free_port()
        workdir = workdir or tempfile.mkdtemp(prefix="tracered-test-")
        logpath = os.path.join(workdir, "tracered.log")
        cmd = [sys.executable, "-m", "tracered", "--port", str(port), "--bind", "127.0.0.1",
               "--save", "", "--enable-debug-command", "yes", "--dir", workdir, *args]
        e = dict(os.environ)
        e["PYTHONPATH"] = ROOT + os.pathsep + e.get("PYTHONPATH", "")
        if env:
            e.update(env)
        with open(logpath, "ab") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir,
                                    env=e)
        sp = cls("tracered", port, proc, workdir, logpath)
        sp._ready_or_kill()
        return sp

    @classmethod
    def start_redis(cls, *args: str, port: int | None = None,
                    workdir: str | None = None) -> ServerProc:
        if REDIS_SERVER is None:
            pytest.skip("redis-server (Debian's redis-server 7.0) is not installed")
        port = port or free_port()
        workdir = workdir or tempfile.mkdtemp(prefix="redis-ref-")
        logpath = os.path.join(workdir, "redis.log")
        cmd = [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
               "--appendonly", "no", "--enable-debug-command", "yes", "--dir", workdir,
               "--daemonize", "no", *args]
        with open(logpath, "ab") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
        sp = cls("redis", port, proc, workdir, logpath)
        sp._ready_or_kill()
        return sp

    def _ready_or_kill(self) -> None:
        """Wait for the server; if it never answers, stop it so no process is left behind."""
        try:
            self.wait_ready()
        except BaseException:
            self.kill()
            raise

    def wait_ready(self, timeout: float = 15.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.kind} exited early:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(100).startswith((b"+PONG", b"-")):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.kind} did not start on {self.port}:\n{self.log()}")

    def client(self, **kw) -> redis.Redis:
        kw.setdefault("socket_timeout", 20)
        return redis.Redis(host="127.0.0.1", port=self.port, **kw)

    def log(self) -> str:
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()[-5000:]
        except OSError:
            return ""

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture(scope="module")
def tracered_server():
    sp = ServerProc.start_tracered()
    yield sp
    sp.stop()


@pytest.fixture(scope="module")
def redis_server():
    sp = ServerProc.start_redis()
    yield sp
    sp.stop()


@pytest.fixture
def r(tracered_server):
    c = tracered_server.client()
    c.flushall()
    yield c
    c.close()


@pytest.fixture
def rr(redis_server):
    c = redis_server.client()
    c.flushall()
    yield c
    c.close()


def _norm(reply):
    """Make replies comparable: exceptions become ('ERR', message)."""
    if isinstance(reply, Exception):
        return ("error", str(reply))
    return reply


class Differential:
    """Send each command to tracered and to redis-server; assert the replies are equal."""

    def __init__(self, t: redis.Redis, ref: redis.Redis) -> None:
        self.t = t
        self.ref = ref

    def both(self, *args):
        out = []
        for c in (self.t, self.ref):
            try:
                out.append(_norm(c.execute_command(*args)))
            except redis.ResponseError as e:
                out.append(("error", str(e)))
        return out

    def __call__(self, *args):
        a, b = self.both(*args)
        assert a == b, f"{args!r}: tracered={a!r} redis={b!r}"
        return a

    def encoding(self, key):
        return self("OBJECT", "ENCODING", key)

    def digest(self):
        a = self.t.execute_command("DEBUG", "DIGEST")
        b = self.ref.execute_command("DEBUG", "DIGEST")
        assert a == b, f"DEBUG DIGEST differs: tracered={a!r} redis={b!r}"
        return a


@pytest.fixture
def diff(r, rr):
    return Differential(r, rr)
