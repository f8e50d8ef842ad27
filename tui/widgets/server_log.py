"""The server's own log lines (serverLog), shown instead of printed over the UI."""

from __future__ import annotations

from textual.widgets import RichLog


class ServerLog(RichLog):
    def __init__(self, **kw) -> None:
        super().__init__(max_lines=1000, wrap=True, markup=False, **kw)

    def add_line(self, line: str) -> None:
        self.write(line.rstrip("\n"))
