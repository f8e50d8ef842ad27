"""The debugger's control channel: drive a running tracered's debugger from another process.

``tracered tui --attach 127.0.0.1:PORT`` and the tests talk to the engine in
``trace/debugger.py`` through this channel, the way gdb's remote protocol lets a debugger
drive a stopped process it does not host.

Transport and safety
    TCP on 127.0.0.1 only (never another address: pausing a server is as powerful as
    SHUTDOWN), one JSON object per line, UTF-8.  The first request of a connection must be
    ``{"op": "auth", "token": "..."}``; the token is 32 random hex digits written to
    ``<dir>/tracered-<control port>.token`` with mode 0600, so only the user running the
    server can read it.  A wrong token closes the connection.  Lines longer than 1 MiB close
    it too.

Requests ``{"seq": n, "op": ..., ...}`` are answered ``{"seq": n, "ok": true, "result": ...}``
or ``{"seq": n, "ok": false, "error": "..."}``.  Ops:

    auth token                       must come first
    state                            paused?, mode, breakpoints
    list                             breakpoints
    add spec [condition]             "call if cmd == 'SET'" -> the breakpoint
    delete|enable|disable|toggle bp  by breakpoint id
    continue|step|next|finish        resume a paused server -> true / false (not paused)
    interrupt                        pause a running server at its next probe
    frame                            the paused frame or null
    wait [timeout]                   block up to timeout (<= 60 s) for a pause -> frame|null
    subscribe / unsubscribe          start/stop receiving events on this connection
    snapshot                         live counters (ops, keys, memory, clients, dict picture)
    commands                         the recent commands log
    probes                           the probe catalogue

Events, after ``subscribe``: ``{"event": "paused", "frame": {...}}``, ``{"event":
"resumed", "action": ...}``, ``{"event": "breakpoints", ...}``, ``{"event":
"condition_error", ...}``.  They are queued per connection and written by that connection's
own thread, so a slow reader never slows the server thread.

When the last authenticated connection closes and no UI lives in the server process (a
headless server), every breakpoint is disabled and a paused server resumes: nobody is left
to continue it.

Config: ``debug-control-port`` (0 = off) starts the channel from a config file; the CLI's
``--debug-port N`` does the same, and ``--break``/``--tui`` start it on a free port.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import queue
import secrets
import socket
import threading
from collections.abc import Callable
from typing import Any

from tracered import config
from tracered.trace.debugger import ACTIONS, ConditionError, Debugger

MAX_LINE = 1 << 20
AUTH_TIMEOUT = 5.0
MAX_WAIT = 60.0

config.register(config._i("debug-control-port", 0, 0, 65535, config.IMMUTABLE))


def _ensure_config_default() -> None:
    """The server object is built before this module registers its config: give it the
    default (config files parsed later overwrite it)."""
    from tracered import server as server_mod

    if not hasattr(server_mod.server, "debug_control_port"):
        server_mod.server.debug_control_port = 0


_ensure_config_default()


class ControlError(Exception):
    """An error answered by the control channel (or a broken connection)."""


def token_path(directory: str, port: int) -> str:
    return os.path.join(directory, f"tracered-{port}.token")


def write_token_file(path: str, token: str) -> None:
    """Write the token readable by the owner only (0600), replacing any older file."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, (token + "\n").encode())
    finally:
        os.close(fd)


def read_token_file(path: str) -> str:
    with open(path) as f:
        return f.read().strip()


# --------------------------------------------------------------------------------------------
# Server side
# --------------------------------------------------------------------------------------------

class ControlServer:
    """Listens on 127.0.0.1 and serves the debugger to authenticated connections."""

    def __init__(self, debugger: Debugger, port: int = 0, directory: str | None = None,
                 token: str | None = None, log: Callable[[str], None] | None = None) -> None:
        self.debugger = debugger
        self.requested_port = port
        self.directory = directory or os.getcwd()
        self.token = token or secrets.token_hex(16)
        self.port = 0
        self.token_file = ""
        self._log = log or (lambda msg: None)
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._conns: set[_Conn] = set()
        self._lock = threading.Lock()

    def start(self) -> ControlServer:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.requested_port))
        s.listen(16)
        s.settimeout(0.25)
        self._sock = s
        self.port = s.getsockname()[1]
        self.token_file = token_path(self.directory, self.port)
        write_token_file(self.token_file, self.token)
        self._thread = threading.Thread(target=self._accept_loop, name="tracered-control",
                                        daemon=True)
        self._thread.start()
        self._log(f"Debugger control channel listening on 127.0.0.1:{self.port}, "
                  f"token in {self.token_file}")
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
        with self._lock:
            conns = list(self._conns)
        for c in conns:
            c.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(2)
        if self.token_file:
            with contextlib.suppress(OSError):
                os.unlink(self.token_file)

    def _accept_loop(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _addr = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn = _Conn(self, sock)
            with self._lock:
                self._conns.add(conn)
            conn.start()

    def _closed(self, conn: _Conn) -> None:
        with self._lock:
            self._conns.discard(conn)
            left = sum(1 for c in self._conns if c.authed)
        if conn.authed and left == 0 and not self.debugger.local_ui and not self._stop.is_set():
            self._log("Last debugger client detached: breakpoints disabled, server resumed")
            self.debugger.detach_controllers()


class _Conn:
    """One control connection: a reader thread answering requests and a writer thread
    draining the outgoing queue (responses and subscribed events)."""

    def __init__(self, server: ControlServer, sock: socket.socket) -> None:
        self.server = server
        self.sock = sock
        self.authed = False
        self.out: queue.Queue = queue.Queue(maxsize=10_000)
        self.subscribed = False
        self._closed = False

    def start(self) -> None:
        threading.Thread(target=self._reader, name="tracered-control-r", daemon=True).start()
        threading.Thread(target=self._writer, name="tracered-control-w", daemon=True).start()

    def close(self, drain: bool = False) -> None:
        """Close the connection; with ``drain`` the writer first sends what is queued (an
        error answer before hanging up)."""
        if self._closed:
            return
        self._closed = True
        if self.subscribed:
            self.server.debugger.unsubscribe(self._on_event)
            self.subscribed = False
        if drain:
            with contextlib.suppress(queue.Full):
                self.out.put_nowait(None)  # the writer hangs up after the queued replies
        else:
            self._hangup()
            with contextlib.suppress(queue.Full):
                self.out.put_nowait(None)
        self.server._closed(self)

    def _hangup(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()

    def send(self, obj: dict) -> None:
        try:
            self.out.put_nowait(obj)
        except queue.Full:  # a reader that stopped reading: drop it rather than grow
            self.close()

    def _on_event(self, ev: dict) -> None:
        self.send(ev)

    def _writer(self) -> None:
        while True:
            obj = self.out.get()
            if obj is None:
                self._hangup()
                return
            try:
                data = (json.dumps(obj, default=str) + "\n").encode()
                self.sock.sendall(data)
            except (OSError, ValueError):
                self.close()
                return

    def _reader(self) -> None:
        buf = bytearray()
        self.sock.settimeout(AUTH_TIMEOUT)
        try:
            while not self._closed:
                try:
                    chunk = self.sock.recv(65536)
                except TimeoutError:
                    if not self.authed:
                        return
                    continue
                if not chunk:
                    return
                buf += chunk
                while True:
                    nl = buf.find(b"\n")
                    if nl < 0:
                        break
                    line = bytes(buf[:nl])
                    del buf[:nl + 1]
                    if line.strip() and not self._handle_line(line):
                        return
                if len(buf) > MAX_LINE:
                    return
        except OSError:
            return
        finally:
            self.close(drain=True)

    def _handle_line(self, line: bytes) -> bool:
        """Answer one request; False closes the connection."""
        try:
            req = json.loads(line)
            if not isinstance(req, dict):
                raise ValueError("a request is a JSON object")
        except ValueError as e:
            self.send({"seq": None, "ok": False, "error": f"bad request: {e}"})
            return self.authed
        seq = req.get("seq")
        op = req.get("op")
        if not self.authed:
            token = req.get("token")
            if op == "auth" and isinstance(token, str) and \
                    hmac.compare_digest(token.encode(), self.server.token.encode()):
                self.authed = True
                self.sock.settimeout(None)
                self.send({"seq": seq, "ok": True, "result": {"port": self.server.port}})
                return True
            self.send({"seq": seq, "ok": False, "error": "authentication required"})
            return False
        try:
            result = self._dispatch(op, req)
        except (ConditionError, ValueError, KeyError, TypeError) as e:
            self.send({"seq": seq, "ok": False, "error": str(e)})
            return True
        self.send({"seq": seq, "ok": True, "result": result})
        return True

    def _dispatch(self, op: Any, req: dict) -> Any:
        d = self.server.debugger
        if op in ACTIONS:
            return d.resume(op)
        if op == "interrupt":
            return d.interrupt()
        if op == "resume":
            return d.resume(req.get("action", "continue"))
        if op == "auth":
            return {"port": self.server.port}
        if op == "state":
            return d.state()
        if op == "list":
            return d.list_breakpoints()
        if op == "add":
            return d.add_breakpoint(str(req["spec"]), req.get("condition"))
        if op in ("delete", "enable", "disable", "toggle"):
            bid = int(req["bp"])
            fn = {"delete": d.delete_breakpoint, "enable": d.enable_breakpoint,
                  "disable": d.disable_breakpoint, "toggle": d.toggle_breakpoint}[op]
            if not fn(bid):
                raise ValueError(f"no breakpoint {bid}")
            return True
        if op == "frame":
            return d.current_frame()
        if op == "wait":
            return d.wait_paused(min(float(req.get("timeout", 10)), MAX_WAIT))
        if op == "subscribe":
            if not self.subscribed:
                self.subscribed = True
                d.subscribe(self._on_event)
            return True
        if op == "unsubscribe":
            if self.subscribed:
                d.unsubscribe(self._on_event)
                self.subscribed = False
            return True
        if op == "snapshot":
            return d.snapshot()
        if op == "commands":
            return d.recent_commands()
        if op == "probes":
            return d.probe_names()
        raise ValueError(f"unknown op {op!r}")


def start_control_channel(debugger: Debugger, port: int = 0,
                          directory: str | None = None) -> ControlServer:
    """Start the channel for the running server; the token path goes to the server log."""
    from tracered import server as server_mod

    srv = server_mod.server
    cs = ControlServer(debugger, port, directory or srv.dir or os.getcwd(),
                       log=srv.log_notice)
    cs.start()
    srv.shutdown_hooks.append(lambda s, flags: cs.stop())
    return cs


# --------------------------------------------------------------------------------------------
# Client side (the attached TUI, tests)
# --------------------------------------------------------------------------------------------

class ControlClient:
    """A connection to a ControlServer with the same methods as :class:`Debugger`, so a UI
    can drive a local engine or a remote one alike.  Thread-safe; events are delivered to
    subscribers on the client's reader thread."""

    def __init__(self, host: str, port: int, token: str, timeout: float = 10.0) -> None:
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ControlError("the control channel only listens on 127.0.0.1")
        self.timeout = timeout
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.sock.settimeout(None)
        self._wlock = threading.Lock()
        self._cond = threading.Condition()
        self._replies: dict[int, dict] = {}
        self._seq = 0
        self._listeners: list[Callable[[dict], None]] = []
        self._subscribed = False
        self.closed = False
        self._reader = threading.Thread(target=self._read_loop, name="tracered-attach",
                                        daemon=True)
        self._reader.start()
        self.request("auth", token=token)

    # -- transport ---------------------------------------------------------------------------

    def _read_loop(self) -> None:
        f = self.sock.makefile("rb")
        try:
            for line in f:
                try:
                    msg = json.loads(line)
                except ValueError:
                    continue
                if "event" in msg and "seq" not in msg:
                    for fn in list(self._listeners):
                        with contextlib.suppress(Exception):
                            fn(msg)
                    continue
                with self._cond:
                    self._replies[msg.get("seq")] = msg
                    self._cond.notify_all()
        except (OSError, ValueError):
            pass
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()
            for fn in list(self._listeners):
                with contextlib.suppress(Exception):
                    fn({"event": "disconnected"})

    def request(self, op: str, _wait: float | None = None, **kw) -> Any:
        """Send one request and wait (``_wait`` s, default the client timeout) for its
        answer; raises ControlError for an error answer or a lost connection."""
        with self._cond:
            if self.closed:
                raise ControlError("control connection closed")
            self._seq += 1
            seq = self._seq
        data = (json.dumps({"seq": seq, "op": op, **kw}) + "\n").encode()
        with self._wlock:
            try:
                self.sock.sendall(data)
            except OSError as e:
                raise ControlError(f"control connection lost: {e}") from None
        wait = self.timeout if _wait is None else _wait
        with self._cond:
            ok = self._cond.wait_for(lambda: seq in self._replies or self.closed, wait)
            msg = self._replies.pop(seq, None)
        if msg is None:
            raise ControlError("control connection closed" if ok else f"timeout waiting for {op}")
        if not msg.get("ok"):
            raise ControlError(msg.get("error", "error"))
        return msg.get("result")

    def close(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()

    # -- the Debugger-shaped API -------------------------------------------------------------

    def subscribe(self, fn: Callable[[dict], None]) -> None:
        self._listeners.append(fn)
        if not self._subscribed:
            self.request("subscribe")
            self._subscribed = True

    def unsubscribe(self, fn: Callable[[dict], None]) -> None:
        if fn in self._listeners:
            self._listeners.remove(fn)

    def list_breakpoints(self) -> list[dict]:
        return self.request("list")

    def add_breakpoint(self, spec: str, condition: str | None = None) -> dict:
        try:
            if condition:
                return self.request("add", spec=spec, condition=condition)
            return self.request("add", spec=spec)
        except ControlError as e:
            raise ConditionError(str(e)) from None

    def delete_breakpoint(self, bid: int) -> bool:
        return bool(self.request("delete", bp=bid))

    def enable_breakpoint(self, bid: int, enabled: bool = True) -> bool:
        return bool(self.request("enable" if enabled else "disable", bp=bid))

    def disable_breakpoint(self, bid: int) -> bool:
        return self.enable_breakpoint(bid, False)

    def toggle_breakpoint(self, bid: int) -> bool:
        return bool(self.request("toggle", bp=bid))

    def resume(self, action: str = "continue") -> bool:
        return bool(self.request("resume", action=action))

    def interrupt(self) -> bool:
        return bool(self.request("interrupt"))

    def current_frame(self) -> dict | None:
        return self.request("frame")

    def wait_paused(self, timeout: float | None = 10.0) -> dict | None:
        t = MAX_WAIT if timeout is None else min(timeout, MAX_WAIT)
        return self.request("wait", _wait=t + 5.0, timeout=t)

    def snapshot(self) -> dict:
        return self.request("snapshot")

    def recent_commands(self) -> list[dict]:
        return self.request("commands")

    def probe_names(self) -> list[dict]:
        return self.request("probes")

    def state(self) -> dict:
        return self.request("state")

    @property
    def paused(self) -> bool:
        return bool(self.state().get("paused"))


def parse_hostport(s: str) -> tuple[str, int]:
    host, _, port = s.rpartition(":")
    if not host:
        host = "127.0.0.1"
    try:
        return host, int(port)
    except ValueError:
        raise ControlError(f"bad address {s!r}: use HOST:PORT") from None
