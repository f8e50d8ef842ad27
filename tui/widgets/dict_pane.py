"""A dict's two hash tables drawn as bucket cells, with the rehash cursor.

Small tables show one cell per bucket (its chain length, · for empty); large ones one cell
per range of buckets, shaded by the share of non-empty buckets.  While rehashing, the cells
of table 0 before ``rehashidx`` are already moved (dim) and the cursor cell is highlighted.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

BLOCKS = " ▁▂▃▄▅▆▇█"
ROW = 32


def cell_char(v: int, mode: str) -> str:
    if v <= 0:
        return "·"
    if mode == "chain":
        return str(min(v, 9))
    return BLOCKS[max(1, min(8, (v * 8 + 99) // 100))]


def render_table(t: dict, i: int, info: dict) -> Text:
    out = Text()
    if not t.get("size"):
        out.append(f"ht[{i}]  (not allocated)\n", style="dim")
        return out
    out.append(f"ht[{i}]", style="bold")
    out.append(f"  size {t['size']}  used {t['used']}  exp {t['exp']}")
    per = t.get("buckets_per_cell") or 1
    if per > 1:
        out.append(f"  ({per} buckets/cell)", style="dim")
    out.append("\n")
    cells = t.get("cells") or []
    cur = info.get("rehash_cell") if i == 0 and info.get("rehashing") else None
    for r in range(0, len(cells), ROW):
        for j, v in enumerate(cells[r:r + ROW], r):
            ch = cell_char(v, t.get("mode", "chain"))
            if cur is not None and j == cur:
                out.append(ch, style="bold black on yellow")
            elif cur is not None and j < cur:
                out.append(ch, style="dim")
            else:
                out.append(ch, style="green" if v else "dim")
        out.append("\n")
        if cur is not None and r <= cur < r + ROW:
            out.append(" " * (cur - r) + f"^ rehashidx={info['rehashidx']}\n",
                       style="bold yellow")
    return out


def render_dict(info: dict | None) -> Text:
    if not info:
        return Text("(no dict)", style="dim")
    out = Text()
    out.append(f"{info.get('label') or 'dict'}", style="bold")
    out.append(f"  used {info['used']}  rehashidx ")
    out.append(str(info["rehashidx"]),
               style="bold yellow" if info.get("rehashing") else "")
    if info.get("pauserehash"):
        out.append(f"  pauserehash {info['pauserehash']}", style="red")
    out.append("\n")
    for i, t in enumerate(info.get("tables") or []):
        out.append(render_table(t, i, info))
    return out


class DictPane(Static):
    """dictht[0] / dictht[1] with size, used, rehashidx and the bucket picture."""

    def on_mount(self) -> None:
        self.border_title = "dict"

    def show(self, info: dict | None) -> None:
        self.update(render_dict(info))
