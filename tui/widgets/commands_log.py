"""The recent commands (client, argv, duration), newest at the bottom."""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import RichLog


class CommandsLog(RichLog):
    def __init__(self, **kw) -> None:
        super().__init__(max_lines=500, wrap=False, markup=False, **kw)
        self._seen = 0.0

    def add_commands(self, cmds: list[dict]) -> None:
        for c in cmds:
            if c["time"] <= self._seen:
                continue
            self._seen = c["time"]
            t = Text()
            t.append(time.strftime("%H:%M:%S ", time.localtime(c["time"])), style="dim")
            t.append(f"#{c['client']} ", style="cyan")
            argv = c.get("argv") or []
            t.append(" ".join(argv[:6])[:48], style="green")
            if c.get("argc", 0) > 6:
                t.append(" …", style="dim")
            t.append(f"  {c.get('us')}µs", style="dim")
            self.write(t)
