"""Live counters while the server runs: an ops/s sparkline, keys, clients, memory."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Sparkline, Static


def human(n: int) -> str:
    for unit in ("B", "K", "M", "G"):
        if abs(n) < 1024:
            return f"{n:.1f}{unit}" if unit != "B" else f"{n}B"
        n /= 1024
    return f"{n:.1f}T"


class LiveStats(Vertical):
    """ops/s computed from successive snapshots (commands processed / elapsed time)."""

    HISTORY = 60

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._last: tuple[float, int] | None = None
        self._rates: list[float] = []

    def compose(self) -> ComposeResult:
        yield Sparkline(self._rates, id="ops-spark")
        yield Static(id="live-text")

    def on_mount(self) -> None:
        self.border_title = "Live"

    def update_snapshot(self, snap: dict) -> None:
        now, ops = snap.get("time", 0.0), snap.get("ops", 0)
        if self._last is not None and now > self._last[0]:
            self._rates.append(max(0.0, (ops - self._last[1]) / (now - self._last[0])))
            self._rates = self._rates[-self.HISTORY:]
        self._last = (now, ops)
        # An all-zero series would draw as full bars: show nothing until there is traffic.
        self.query_one("#ops-spark", Sparkline).data = (
            list(self._rates) if any(self._rates) else [])
        t = Text()
        t.append(f"ops/s {self._rates[-1] if self._rates else 0:.0f}", style="bold")
        t.append(f"  total {ops}\n")
        t.append(f"keys {snap.get('keys')}  clients {snap.get('clients')}  "
                 f"rss {human(snap.get('rss') or 0)}")
        self.query_one("#live-text", Static).update(t)
