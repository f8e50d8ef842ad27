"""Entry points behind the CLI: the TUI with an in-process server, or attached remotely.

``run_with_server``: the server loop runs on a worker thread (so Textual owns the main thread
and the terminal); the server's log lines are routed to the TUI's log pane instead of
stdout.  Quitting the TUI resumes a paused server, shuts it down cleanly (shutdown hooks,
listeners closed) and joins the thread.

``attach_main``: connect to a running tracered's control channel with the token from its
token file and drive it with the same UI.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import traceback
from collections.abc import Callable


class LogTap:
    """A file-like sink for serverLog lines: kept (for the UI) and appended to the
    configured logfile, if any, so nothing is printed over the TUI."""

    def __init__(self, srv) -> None:
        self.srv = srv
        self.lines: collections.deque[str] = collections.deque(maxlen=1000)
        self._sink: Callable[[str], None] | None = None
        self._lock = threading.Lock()
        self._file = None

    def write(self, line: str) -> int:
        with self._lock:
            self.lines.append(line)
            sink = self._sink
        if sink is not None:
            sink(line)
        path = getattr(self.srv, "logfile", "")
        if path:
            try:
                if self._file is None:
                    self._file = open(path, "a", buffering=1)  # noqa: SIM115 - kept open
                self._file.write(line)
            except OSError:
                pass
        return len(line)

    def flush(self) -> None:
        pass

    def attach(self, sink: Callable[[str], None]) -> None:
        """Replay the lines so far to ``sink`` and send it every later line."""
        with self._lock:
            old = list(self.lines)
            self._sink = sink
        for line in old:
            sink(line)


def run_with_server(rest: list[str], opts: dict) -> int:
    from tracered import server as server_mod
    from tracered.cli import add_breakpoints, import_probe_modules
    from tracered.trace import control, debugger
    from tui.app import DebuggerApp
    from tui.messages import ServerStopped

    srv = server_mod.server
    import_probe_modules()
    dbg = debugger.get_debugger(local_ui=True)
    dbg.local_ui = True
    err = add_breakpoints(dbg, opts.get("break") or [])
    if err:
        sys.stderr.write(f"tracered: {err}\n")
        return 1
    tap = LogTap(srv)
    srv._logfile = tap
    ready = threading.Event()
    state: dict = {"app": None, "code": None}

    def on_startup(s) -> None:
        dbg.attach()
        control.start_control_channel(dbg, opts.get("debug_port") or 0)
        ready.set()

    srv.startup_hooks.append(on_startup)

    def serve() -> None:
        reason = "exited"
        try:
            state["code"] = server_mod.main(rest)
        except SystemExit as e:
            state["code"] = e.code if isinstance(e.code, int) else 1
        except BaseException:  # noqa: BLE001 - shown to the user, then the UI exits
            reason = "crashed"
            state["code"] = 1
            tap.write(traceback.format_exc())
        finally:
            ready.set()
            app = state["app"]
            if app is not None:
                app.post_message(ServerStopped(reason))

    thread = threading.Thread(target=serve, name="tracered-server", daemon=True)
    thread.start()
    ready.wait(60)
    if not thread.is_alive():
        sys.stderr.write("".join(tap.lines))
        return state["code"] or 1
    app = DebuggerApp(dbg, log_tap=tap, title=f"tracered :{srv.port}")
    state["app"] = app
    try:
        app.run()
    finally:
        dbg.close()
        srv.shutdown_asap = True
        thread.join(15)
    return 0 if state["code"] in (None, 0) else state["code"]


def attach_main(address: str, token_file: str | None = None) -> int:
    from tracered.trace import control
    from tui.app import DebuggerApp

    try:
        host, port = control.parse_hostport(address)
        path = token_file or os.path.join(os.getcwd(), f"tracered-{port}.token")
        token = control.read_token_file(path)
        client = control.ControlClient(host, port, token)
    except (OSError, control.ControlError) as e:
        sys.stderr.write(f"tracered: cannot attach to {address}: {e}\n")
        return 1
    app = DebuggerApp(client, title=f"tracered (attached to {host}:{port})")
    try:
        app.run()
    finally:
        client.close()
    return 0
