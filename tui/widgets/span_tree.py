"""The current command's spans as a tree (processCommand > lookupCommand, call > ...)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Tree


def span_label(span: dict, here: bool) -> Text:
    t = Text(span["name"], style="bold" if here else "")
    dur = span.get("dur_us")
    if dur is None:
        t.append("  … running", style="yellow")
    else:
        t.append(f"  {dur} µs", style="dim")
    if here:
        t.append("  ◀ paused here", style="bold red")
    return t


class SpanTree(Tree):
    """Spans recorded by the debugger for the current command (armed probes only)."""

    def on_mount(self) -> None:
        self.border_title = "Spans of the current command"
        self.show_root = True
        self.guide_depth = 3

    def show(self, frame: dict | None) -> None:
        self.clear()
        if not frame:
            self.root.set_label("(running)")
            return
        spans = frame.get("spans") or []
        cmd = frame.get("cmd") or "(no command)"
        self.root.set_label(Text(cmd, style="bold green"))
        here = -1
        if frame.get("when") == "enter":
            for i in range(len(spans) - 1, -1, -1):
                if spans[i]["name"] == frame.get("probe") and spans[i].get("dur_us") is None:
                    here = i
                    break
        parents = {s.get("parent", -1) for s in spans}
        nodes = {}
        for i, s in enumerate(spans):
            parent = nodes.get(s.get("parent", -1), self.root)
            label = span_label(s, i == here)
            if i in parents or s.get("events"):
                node = parent.add(label, expand=True)
                for ev in s.get("events") or []:
                    node.add_leaf(Text(f"⚡ {ev['name']} {ev.get('attrs', {})}",
                                       style="magenta"))
            else:
                node = parent.add_leaf(label)
            nodes[i] = node
        self.root.expand_all()
