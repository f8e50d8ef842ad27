"""The one-line status at the top: running or paused, where, and why."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


def render_status(frame: dict | None, snapshot: dict | None = None) -> Text:
    t = Text()
    if frame:
        t.append(" ■ PAUSED ", style="bold white on red")
        t.append(f" {frame.get('probe', '?')}", style="bold")
        t.append(f" ({frame.get('when', 'enter')})", style="dim")
        loc = (frame.get("redis") or {}).get("location")
        if loc:
            t.append(f"  {loc}", style="cyan")
        reason = frame.get("reason", "")
        if reason == "breakpoint":
            t.append(f"  breakpoint #{frame.get('breakpoint')} (hit {frame.get('hits')})",
                     style="yellow")
        elif reason:
            t.append(f"  after {reason}", style="yellow")
        argv = (frame.get("client") or {}).get("argv")
        if argv:
            t.append("  " + " ".join(argv)[:60], style="bold green")
    else:
        t.append(" ▶ RUNNING ", style="bold black on green")
        if snapshot:
            t.append(f"  127.0.0.1:{snapshot.get('port')}  pid {snapshot.get('pid')}",
                     style="dim")
        t.append("  b: add a breakpoint   p: pause now", style="dim")
    return t


class StatusLine(Static):
    """Top line: ■ PAUSED at probe (Redis file:line) / ▶ RUNNING."""

    def show(self, frame: dict | None, snapshot: dict | None = None) -> None:
        self.update(render_status(frame, snapshot))
