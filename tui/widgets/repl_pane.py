"""Replication and AOF: role, offsets, the backlog ring as a bar, replicas' acked offsets."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

BAR = 30


def backlog_bar(bl: dict, width: int = BAR) -> Text:
    """``[████····|···]``: the filled share is histlen/size, ``|`` marks the write index."""
    size = bl.get("size") or 0
    hist = bl.get("histlen") or 0
    idx = bl.get("idx")
    out = Text("[")
    if not isinstance(size, int) or size <= 0:
        out.append("·" * width, style="dim")
    else:
        filled = min(width, hist * width // size)
        mark = (idx * width // size) if isinstance(idx, int) and 0 <= idx < size else None
        for i in range(width):
            if mark is not None and i == mark:
                out.append("|", style="bold yellow")
            elif i < filled:
                out.append("█", style="cyan")
            else:
                out.append("·", style="dim")
    out.append("]")
    return out


def render_repl(repl: dict | None, aof: dict | None) -> Text:
    out = Text()
    if repl:
        out.append(f"role {repl['role']}", style="bold")
        if repl.get("masterhost"):
            out.append(f" of {repl['masterhost']}:{repl.get('masterport')}")
        out.append(f"   offset {repl['master_repl_offset']}\n")
        out.append(f"replid {str(repl['replid'])[:16]}…\n", style="dim")
        bl = repl.get("backlog")
        if bl:
            out.append("backlog ")
            out.append(backlog_bar(bl))
            out.append(f"\n  size {bl.get('size')} histlen {bl.get('histlen')} "
                       f"idx {bl.get('idx')} offset {bl.get('offset')}\n")
        else:
            out.append("backlog (none: no replica has connected)\n", style="dim")
        for r in repl.get("replicas") or []:
            behind = repl["master_repl_offset"] - (r.get("ack_off") or 0)
            out.append(f"{r['addr']} ack {r['ack_off']}",
                       style="green" if behind == 0 else "yellow")
            out.append(f" -{behind}B lag {r.get('lag')}s\n", style="dim")
    if aof:
        out.append("AOF ", style="bold")
        if aof.get("enabled"):
            out.append(f"on  buf {aof.get('buf_len')} B  fsync {aof.get('fsync')}")
        else:
            out.append("off", style="dim")
    return out


class ReplPane(Static):
    def on_mount(self) -> None:
        self.border_title = "Replication / AOF"

    def show(self, repl: dict | None, aof: dict | None) -> None:
        self.update(render_repl(repl, aof))
