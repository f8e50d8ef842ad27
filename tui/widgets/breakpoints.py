"""The breakpoints pane: list, toggle (space), delete (d), add (a or b)."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import DataTable


class BreakpointsPane(DataTable):
    """One row per breakpoint: ● on / ○ off and id, hits, spec; a failed condition is red."""

    BINDINGS = [
        Binding("space", "toggle", "Toggle", show=False),
        Binding("d,delete", "delete", "Delete", show=False),
        Binding("a", "app.breakpoints", "Add", show=False),
    ]

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = False
        self.add_column("#", key="id", width=4)
        self.add_column("hits", key="hits", width=4)
        self.add_column("breakpoint", key="spec")
        self.border_title = "Breakpoints  (space toggle · d delete · a add)"

    def set_breakpoints(self, bps: list[dict]) -> None:
        keep = self.cursor_row
        self.clear()
        for bp in bps:
            spec = Text(bp["spec"])
            if bp.get("error"):
                spec = Text(f"{bp['spec']}  ⚠ {bp['error']}", style="red")
            elif not bp.get("enabled"):
                spec.stylize("dim")
            mark = Text("● " if bp.get("enabled") else "○ ",
                        style="bold red" if bp.get("enabled") else "dim")
            mark.append(str(bp["id"]))
            self.add_row(mark, str(bp.get("hits", 0)), spec, key=str(bp["id"]))
        if self.row_count:
            self.move_cursor(row=min(keep, self.row_count - 1))

    def selected_id(self) -> int | None:
        if not self.row_count:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        return int(key.value) if key and key.value is not None else None

    def action_toggle(self) -> None:
        bid = self.selected_id()
        if bid is not None:
            self.app.call_backend("toggle_breakpoint", bid)

    def action_delete(self) -> None:
        bid = self.selected_id()
        if bid is not None:
            self.app.call_backend("delete_breakpoint", bid)
