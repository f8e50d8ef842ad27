"""The client of the paused command: id, address, name, db, flags and argv."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static


def render_client(c: dict | None):
    if not c:
        return Text("(no client)", style="dim")
    t = Table.grid(padding=(0, 1))
    t.add_column(style="dim")
    t.add_column()
    t.add_row("id", f"{c['id']}  {c.get('addr', '')}")
    t.add_row("name", c.get("name") or "-")
    t.add_row("db", f"{c.get('db')}   resp {c.get('resp')}   flags {c.get('flags')}")
    argv = c.get("argv") or []
    shown = Text()
    for i, a in enumerate(argv[:12]):
        if i:
            shown.append(" ")
        shown.append(a if i else a.upper(), style="bold green" if i == 0 else "green")
    if len(argv) > 12:
        shown.append(f" … ({c.get('argc')} args)", style="dim")
    t.add_row("argv", shown)
    return t


class ClientPane(Static):
    def on_mount(self) -> None:
        self.border_title = "Client"

    def show(self, frame: dict | None) -> None:
        self.update(render_client((frame or {}).get("client")) if frame else
                    Text("(running)", style="dim"))
