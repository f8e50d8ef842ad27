"""The key's robj: type, encoding, refcount, lru/idle, length, preview, raw bytes."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.widgets import Static


def render_robj(o: dict | None, key: str | None):
    if not o:
        return Text("(no key in this command)" if key is None else f"{key!r}: (none)",
                    style="dim")
    if not o.get("exists"):
        return Text(f"key {o.get('key')!r} does not exist (yet)", style="yellow")
    t = Table.grid(padding=(0, 1))
    t.add_column(style="dim")
    t.add_column()
    t.add_row("key", Text(str(o["key"]), style="bold"))
    t.add_row("type", Text(f"{o['type']}  encoding {o['encoding']}", style="cyan"))
    rc = str(o["refcount"]) + ("  (shared)" if o.get("shared") else "")
    t.add_row("refcount", rc)
    if o.get("lfu_counter") is not None:
        t.add_row("lfu", f"counter {o['lfu_counter']}  lru field {o['lru']}")
    else:
        t.add_row("lru", f"{o['lru']}  idle {o.get('idle')} s")
    t.add_row("length", str(o.get("length")))
    if o.get("expire_ms") is not None:
        t.add_row("expire", f"{o['expire_ms']} ms")
    t.add_row("value", Text(str(o.get("preview", ""))[:200], style="green"))
    if o.get("bytes_hex"):
        t.add_row("bytes", Text(f"{o['bytes_len']} B: {o['bytes_hex']}", style="magenta"))
    return t


class RObjPane(Static):
    def on_mount(self) -> None:
        self.border_title = "robj"

    def show(self, frame: dict | None) -> None:
        if not frame:
            self.update(Text("(running)", style="dim"))
            return
        self.border_title = f"robj · {frame.get('key')}" if frame.get("key") else "robj"
        self.update(render_robj(frame.get("robj"), frame.get("key")))
