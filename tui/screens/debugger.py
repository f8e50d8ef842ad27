"""The main screen: every pane of the debugger, fed by the app."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, TabbedContent, TabPane

from tui.widgets.breakpoints import BreakpointsPane
from tui.widgets.client_pane import ClientPane
from tui.widgets.commands_log import CommandsLog
from tui.widgets.dict_pane import DictPane
from tui.widgets.live_stats import LiveStats
from tui.widgets.repl_pane import ReplPane
from tui.widgets.robj_pane import RObjPane
from tui.widgets.server_log import ServerLog
from tui.widgets.source_pane import SourcePane
from tui.widgets.span_tree import SpanTree
from tui.widgets.status_line import StatusLine


class DebuggerScreen(Screen):
    """Left: breakpoints, live counters, commands/log.  Centre: source and span tree.
    Right: client, robj, dict, replication."""

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Horizontal(id="main"):
            with Vertical(id="left"):
                yield BreakpointsPane(id="breakpoints")
                yield LiveStats(id="live")
                with TabbedContent(id="logs"):
                    with TabPane("Commands", id="tab-commands"):
                        yield CommandsLog(id="commands")
                    with TabPane("Server log", id="tab-log"):
                        yield ServerLog(id="serverlog")
            with Vertical(id="center"):
                with VerticalScroll(id="source-scroll"):
                    yield SourcePane(id="source")
                yield SpanTree("spans", id="spans")
            with VerticalScroll(id="right"):
                yield ClientPane(id="client")
                yield RObjPane(id="robj")
                yield DictPane(id="dict")
                yield ReplPane(id="repl")
        yield Footer()

    def on_mount(self) -> None:
        self.show_frame(None)
        self.app.screen_ready()

    # -- called by the app ---------------------------------------------------------------

    def show_frame(self, frame: dict | None, snapshot: dict | None = None) -> None:
        self.query_one(StatusLine).show(frame, snapshot)
        self.query_one(SourcePane).show(frame)
        self.query_one(SpanTree).show(frame)
        self.query_one(ClientPane).show(frame)
        self.query_one(RObjPane).show(frame)
        if frame:
            self.query_one(DictPane).show(frame.get("dict"))
            self.query_one(ReplPane).show(frame.get("repl"), frame.get("aof"))
        elif snapshot:
            self.update_live(snapshot)

    def update_live(self, snap: dict) -> None:
        """Refresh the running view (ignored panes keep the paused frame's picture)."""
        self.query_one(LiveStats).update_snapshot(snap)
        if not self.app.paused_frame:
            self.query_one(StatusLine).show(None, snap)
            self.query_one(DictPane).show(snap.get("dict"))
            self.query_one(ReplPane).show(snap.get("repl"), snap.get("aof"))

    def set_breakpoints(self, bps: list[dict]) -> None:
        self.query_one(BreakpointsPane).set_breakpoints(bps)

    def add_commands(self, cmds: list[dict]) -> None:
        self.query_one(CommandsLog).add_commands(cmds)

    def add_log(self, line: str) -> None:
        self.query_one(ServerLog).add_line(line)
