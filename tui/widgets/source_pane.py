"""The paused frame's source: the tracered function around the line, and its Redis twin."""

from __future__ import annotations

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual.widgets import Static


def render_source(frame: dict | None):
    if not frame:
        return Text("Not paused.  The server runs; panes refresh live.\n\n"
                    "b  add a breakpoint (e.g.  call if cmd == \"SET\")\n"
                    "p  pause at the next probe", style="dim")
    redis = frame.get("redis") or {}
    tr = frame.get("tracered") or {}
    head = Text()
    head.append("Redis 7.0  ", style="dim")
    head.append(f"{redis.get('file') or '?'}:{redis.get('line') or '?'}", style="bold cyan")
    head.append(f"  {redis.get('function', '')}()", style="cyan")
    head.append("\ntracered   ", style="dim")
    head.append(f"{tr.get('file') or '?'}:{tr.get('line') or '?'}", style="bold green")
    head.append(f"  {tr.get('function', '')}()", style="green")
    caller = frame.get("caller")
    if caller:
        head.append("\ncalled from ", style="dim")
        head.append(f"{caller['file']}:{caller['line']} {caller['function']}()", style="dim")
    ev = frame.get("event")
    if ev:
        head.append(f"\nevent {ev.get('name')} {ev.get('attrs')}", style="magenta")
    src = frame.get("source") or {}
    lines = src.get("lines") or []
    if not lines:
        return Group(head, Text("\n(no source)", style="dim"))
    code = Syntax("\n".join(lines), "python", line_numbers=True,
                  start_line=src.get("start") or 1,
                  highlight_lines={src.get("current")} if src.get("current") else None,
                  theme="monokai", word_wrap=False, indent_guides=False)
    return Group(head, Text(""), code)


class SourcePane(Static):
    """Tracered source of the paused probe (highlighted line) under its Redis location."""

    def show(self, frame: dict | None) -> None:
        # The border belongs to the scrolling container around this pane.
        title = f"Frame · {frame.get('probe')} ({frame.get('when')})" if frame else "Frame"
        if self.parent is not None:
            self.parent.border_title = title
        self.update(render_source(frame))
