"""redis-cli 7.0 (Debian's redis-tools) against tracered: one-shot commands, --bigkeys,
--memkeys, --scan, --pipe, --stat, --latency, MONITOR, and the interactive prompt's typing
hints and help, which redis-cli builds from COMMAND DOCS (driven through tmux).

Every redis-cli run is bounded by a timeout; the tmux session is ours and killed by name.
"""

from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import time

import pytest

REDIS_CLI = shutil.which("redis-cli")
TMUX = shutil.which("tmux")

pytestmark = pytest.mark.skipif(REDIS_CLI is None, reason="redis-cli is not installed")


def cli(port: int, *args: str, timeout: float = 15, stdin: bytes | None = None,
        check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run([REDIS_CLI, "-p", str(port), *args], input=stdin,
                       capture_output=True, timeout=timeout)
    if check:
        assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    return p


def cli_on_tty(port: int, *args: str, seconds: float) -> str:
    """Run a never-ending mode (--stat) on a pseudo-terminal for a while, then kill it.

    A terminal is needed: redis-cli's stdio is block-buffered on a pipe and a killed
    process never flushes it."""
    master, slave = pty.openpty()
    p = subprocess.Popen([REDIS_CLI, "-p", str(port), *args], stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    deadline = time.time() + seconds
    try:
        while time.time() < deadline:
            ready, _, _ = select.select([master], [], [], 0.05)
            if ready:
                try:
                    out += os.read(master, 65536)
                except OSError:
                    break
    finally:
        p.kill()
        p.wait(5)
        os.close(master)
    return out.decode(errors="replace").replace("\r\n", "\n")


@pytest.fixture
def port(r, tracered_server):
    r.flushall()
    return tracered_server.port


def test_one_shot_commands(port):
    assert cli(port, "SET", "greeting", "hello world").stdout == b"OK\n"
    assert cli(port, "GET", "greeting").stdout == b"hello world\n"
    assert cli(port, "--no-raw", "GET", "greeting").stdout == b'"hello world"\n'
    assert cli(port, "GET", "missing").stdout == b"\n"
    assert cli(port, "--no-raw", "GET", "missing").stdout == b"(nil)\n"
    assert cli(port, "-r", "3", "PING").stdout == b"PONG\nPONG\nPONG\n"
    err = cli(port, "NOSUCHCMD", "x", check=False)
    assert err.stdout.startswith(b"ERR unknown command 'NOSUCHCMD'")
    assert cli(port, "-x", "SET", "fromstdin", stdin=b"piped\n").stdout == b"OK\n"
    assert cli(port, "GET", "fromstdin").stdout == b"piped\n\n"
    assert cli(port, "-3", "CLIENT", "INFO").stdout.startswith(b"id=")


def _fill(r) -> None:
    r.set("small", "x")
    r.set("biggest-string", "y" * 500)
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    r.sadd("s", "a", "b")
    r.rpush("l", *[str(i) for i in range(7)])
    r.zadd("z", {"a": 1, "b": 2})


def test_bigkeys(r, port):
    _fill(r)
    out = cli(port, "--bigkeys").stdout.decode()
    assert "Sampled 6 keys in the keyspace!" in out, out
    assert "Biggest string found '\"biggest-string\"' has 500 bytes" in out
    assert "Biggest   hash found '\"h\"' has 3 fields" in out
    assert "Biggest   list found '\"l\"' has 7 items" in out
    assert "Biggest    set found '\"s\"' has 2 members" in out
    assert "Biggest   zset found '\"z\"' has 2 members" in out
    assert "2 strings with 501 bytes" in out


def test_memkeys(r, port):
    _fill(r)
    out = cli(port, "--memkeys").stdout.decode()
    assert "Sampled 6 keys in the keyspace!" in out, out
    m = re.search(r"Biggest string found '\"biggest-string\"' has (\d+) bytes", out)
    assert m and int(m.group(1)) >= 500, out


def test_scan_and_pipe(r, port):
    data = b"".join(b"SET piped:%d %d\r\n" % (i, i) for i in range(200))
    p = cli(port, "--pipe", stdin=data)
    assert b"errors: 0, replies: 200" in p.stdout, p.stdout
    keys = cli(port, "--scan", "--pattern", "piped:1*").stdout.split()
    assert sorted(keys) == sorted(b"piped:%d" % i for i in range(200)
                                  if str(i).startswith("1"))


def test_stat(r, port):
    r.set("a", "1")
    out = cli_on_tty(port, "--stat", "-i", "0.2", seconds=1.5)
    lines = out.splitlines()
    assert lines and lines[0].split()[:3] == ["-------", "data", "------"], out
    assert lines[1].split() == ["keys", "mem", "clients", "blocked", "requests",
                                "connections"], out
    rows = [ln.split() for ln in lines[2:] if re.match(r"^\d+\s+\S+\s+\d+\s+\d+", ln)]
    assert len(rows) >= 3, out
    assert rows[0][0] == "1" and re.fullmatch(r"[\d.]+[BKMG]", rows[0][1]), rows
    # requests grow by at least the INFO that --stat itself sends each interval.
    assert int(rows[-1][4]) > int(rows[0][4]), rows


def test_latency(port):
    # Without a tty, --latency samples PING for one interval, prints min max avg samples
    # and exits by itself.
    p = cli(port, "--latency", "-i", "0.5", timeout=10)
    out = p.stdout.decode()
    m = re.fullmatch(r"(\d+) (\d+) (\d+\.\d+) (\d+)", out.strip())
    assert m, (out, p.stderr)
    assert int(m.group(4)) >= 5 and int(m.group(1)) <= int(m.group(2))


def test_monitor_mode(r, port):
    p = subprocess.Popen([REDIS_CLI, "-p", str(port), "MONITOR"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        first = p.stdout.readline()
        assert first == b"OK\n", first
        r.set("monitored-key", "v 1")
        line = p.stdout.readline().decode()
        assert re.match(r'^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "monitored-key" "v 1"$',
                        line.strip()), line
    finally:
        p.kill()
        p.wait(5)


# ---------------------------------------------------------------------------- interactive

@pytest.fixture
def tmux_cli(port):
    if TMUX is None:
        pytest.skip("tmux is not installed")
    session = f"tracered-cli-{os.getpid()}-{port}"
    env = dict(os.environ, TERM="xterm")
    subprocess.run([TMUX, "new-session", "-d", "-s", session, "-x", "220", "-y", "40",
                    f"{REDIS_CLI} -p {port}"], check=True, env=env, timeout=10)

    def capture() -> str:
        return subprocess.run([TMUX, "capture-pane", "-t", session, "-p"],
                              capture_output=True, timeout=10).stdout.decode(errors="replace")

    def send(*keys: str) -> None:
        subprocess.run([TMUX, "send-keys", "-t", session, *keys], check=True, timeout=10)

    def wait_for(text: str, timeout: float = 5.0) -> str:
        deadline = time.time() + timeout
        screen = ""
        while time.time() < deadline:
            screen = capture()
            if text in screen:
                return screen
            time.sleep(0.05)
        raise AssertionError(f"{text!r} not on screen:\n{screen}")

    wait_for(f"127.0.0.1:{port}>")
    try:
        yield send, wait_for
    finally:
        subprocess.run([TMUX, "kill-session", "-t", session], capture_output=True, timeout=10)


def test_interactive_typing_hints(tmux_cli):
    send, wait_for = tmux_cli
    send("SET ")
    screen = wait_for("SET key value [NX|XX] [GET] [EX seconds|PX milliseconds|"
                      "EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]")
    assert "SET key value" in screen
    send("C-u")
    send("CLIENT LIST ")
    wait_for("CLIENT LIST [TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]")
    send("C-u")
    send("help CLIENT PAUSE", "Enter")
    screen = wait_for("summary: Stop processing commands from clients for some time")
    assert "CLIENT PAUSE timeout [WRITE|ALL]" in screen
    assert "since: 2.9.50" in screen
