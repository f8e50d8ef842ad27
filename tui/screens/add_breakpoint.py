"""The add-breakpoint dialog: ``probe`` or ``probe if condition``; errors shown in place."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

EXAMPLES = (
    'call                                 every command, before its proc runs\n'
    'call if cmd == "SET"                 one command\n'
    'call if matches(key, "user:*")       keys matching a glob\n'
    'call if client.name == "worker"      one client (also client.id)\n'
    'call if hits % 100 == 0              every 100th time\n'
    'call if dict.rehashidx != -1         while the keyspace is rehashing\n'
    'dictRehash                           each rehash step\n'
    'encoding.convert                     a span event (listpack -> hashtable ...)'
)


class AddBreakpointScreen(ModalScreen[dict | None]):
    """Returns the new breakpoint (dict) or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, probe_names: list[str] | None = None) -> None:
        super().__init__()
        self.probe_names = probe_names or []

    def compose(self) -> ComposeResult:
        with Vertical(id="add-bp"):
            yield Static(Text("Add a breakpoint", style="bold"))
            yield Input(placeholder='call if cmd == "SET"', id="bp-spec")
            yield Static("", id="bp-error")
            yield Static(Text(EXAMPLES, style="dim"), id="bp-help")
            if self.probe_names:
                yield Static(Text("probes: " + " ".join(self.probe_names), style="dim"),
                             id="bp-probes")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        spec = event.value.strip()
        if not spec:
            self.dismiss(None)
            return
        ok, result = self.app.try_add_breakpoint(spec)
        if ok:
            self.dismiss(result)
        else:
            self.query_one("#bp-error", Static).update(Text(result, style="bold red"))

    def action_cancel(self) -> None:
        self.dismiss(None)
