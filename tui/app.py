"""DebuggerApp: key bindings and the wiring between a debugger backend and the screen.

The backend is the in-process engine or a control-channel client (same methods, same event
dicts).  Backend events arrive on other threads and are turned into messages with the
thread-safe ``post_message``; the live panes are refreshed by a timer on the UI thread with
``backend.snapshot()``, which only reads server state and never blocks the server.
"""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.binding import Binding

from tui import messages
from tui.screens.add_breakpoint import AddBreakpointScreen
from tui.screens.debugger import DebuggerScreen


class DebuggerApp(App):
    CSS_PATH = "debugger.tcss"
    TITLE = "tracered debugger"
    BINDINGS = [
        Binding("c", "resume('continue')", "Continue"),
        Binding("s", "resume('step')", "Step"),
        Binding("n", "resume('next')", "Next"),
        Binding("f", "resume('finish')", "Finish"),
        Binding("p", "interrupt", "Pause"),
        Binding("b", "breakpoints", "Breakpoints"),
        Binding("q", "quit_app", "Quit"),
    ]

    def __init__(self, backend: Any, *, live_interval: float = 0.5, log_tap: Any = None,
                 title: str | None = None) -> None:
        super().__init__()
        self.backend = backend
        self.live_interval = live_interval
        self.log_tap = log_tap
        self.paused_frame: dict | None = None
        self.last_snapshot: dict | None = None
        if title:
            self.title = title

    def get_default_screen(self) -> DebuggerScreen:
        return DebuggerScreen()

    @property
    def view(self) -> DebuggerScreen:
        """The debugger screen, even while a dialog is on top of it."""
        for s in self.screen_stack:
            if isinstance(s, DebuggerScreen):
                return s
        raise LookupError("debugger screen not mounted")

    def screen_ready(self) -> None:
        """Called by DebuggerScreen once its panes exist: subscribe and fill them."""
        self.backend.subscribe(self._on_backend_event)
        if self.log_tap is not None:
            self.log_tap.attach(lambda line: self._post(messages.LogLine(line)))
        bps = self.call_backend("list_breakpoints")
        if bps is not None:
            self.view.set_breakpoints(bps)
        frame = self.call_backend("current_frame")
        if frame:
            self._show_paused(frame)
        self.refresh_live()
        if self.live_interval:
            self.set_interval(self.live_interval, self.refresh_live)

    def on_unmount(self) -> None:
        try:
            self.backend.unsubscribe(self._on_backend_event)
        except Exception:  # noqa: BLE001 - the backend may be gone already
            pass

    # -- backend plumbing ------------------------------------------------------------------

    def _post(self, msg) -> None:
        try:
            self.post_message(msg)
        except RuntimeError:  # the UI loop is closing
            pass

    def _on_backend_event(self, ev: dict) -> None:
        """Runs on a backend thread: only post a message."""
        msg = messages.from_event(ev)
        if msg is not None:
            self._post(msg)

    def call_backend(self, name: str, *args) -> Any:
        """Call a backend method; errors become a notification, not a crash."""
        try:
            return getattr(self.backend, name)(*args)
        except Exception as e:  # noqa: BLE001
            self.notify(f"{name}: {e}", severity="error")
            return None

    def try_add_breakpoint(self, spec: str) -> tuple[bool, Any]:
        try:
            return True, self.backend.add_breakpoint(spec)
        except Exception as e:  # noqa: BLE001 - shown in the dialog
            return False, str(e)

    def refresh_live(self) -> None:
        # Also while paused: the counters are cheap to read, and the frame's panes are not
        # touched by update_live then.
        snap = self.call_backend("snapshot")
        if snap:
            self.last_snapshot = snap
            self.view.update_live(snap)
        cmds = self.call_backend("recent_commands")
        if cmds:
            self.view.add_commands(cmds)
        bps = self.call_backend("list_breakpoints")
        if bps is not None:
            self.view.set_breakpoints(bps)

    def _show_paused(self, frame: dict) -> None:
        self.paused_frame = frame
        self.view.show_frame(frame)
        cmds = self.call_backend("recent_commands")
        if cmds:
            self.view.add_commands(cmds)

    # -- messages from the backend -----------------------------------------------------------

    def on_paused(self, msg: messages.Paused) -> None:
        self._show_paused(msg.frame)

    def on_resumed(self, msg: messages.Resumed) -> None:
        if self.paused_frame is not None:
            self.paused_frame = None
            self.view.show_frame(None, self.last_snapshot)

    def on_breakpoints_changed(self, msg: messages.BreakpointsChanged) -> None:
        self.view.set_breakpoints(msg.breakpoints)

    def on_condition_failed(self, msg: messages.ConditionFailed) -> None:
        self.notify(f"breakpoint #{msg.breakpoint} ({msg.spec}) disabled: {msg.error}",
                    severity="error", timeout=8)

    def on_log_line(self, msg: messages.LogLine) -> None:
        self.view.add_log(msg.line)

    def on_server_stopped(self, msg: messages.ServerStopped) -> None:
        self.notify(f"server stopped: {msg.reason}", severity="warning")
        self.set_timer(0.5, self.exit)

    # -- actions -----------------------------------------------------------------------------

    def action_resume(self, action: str) -> None:
        if self.paused_frame is None:
            self.notify("not paused (p pauses at the next probe)", severity="warning")
            return
        self.call_backend("resume", action)

    def action_interrupt(self) -> None:
        if self.paused_frame is None:
            self.call_backend("interrupt")

    def action_breakpoints(self) -> None:
        names = self.call_backend("probe_names") or []
        self.push_screen(AddBreakpointScreen([n["name"] for n in names if n.get("available")]))

    def action_quit_app(self) -> None:
        self.exit()
