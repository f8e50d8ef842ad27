"""The Textual debugger: Pilot tests against a scripted backend, a snapshot of the paused
screen, and the attached UI driving a real tracered through the control channel."""

from __future__ import annotations

import asyncio
import copy
import functools
import io
import os
import threading
import time

import pytest
from conftest import ServerProc, free_port
from rich.console import Console

from tracered.trace.control import ControlClient, read_token_file
from tracered.trace.debugger import ConditionError
from tui.app import DebuggerApp
from tui.screens.add_breakpoint import AddBreakpointScreen
from tui.widgets.dict_pane import render_dict
from tui.widgets.repl_pane import backlog_bar

SIZE = (180, 50)

SAMPLE_FRAME = {
    "seq": 1, "probe": "call", "when": "enter", "reason": "breakpoint", "breakpoint": 1,
    "hits": 1,
    "redis": {"file": "server.c", "line": 3347, "function": "call",
              "location": "server.c:3347 @7.0.15"},
    "tracered": {"file": "tracered/server.py", "line": 386, "function": "call"},
    "caller": {"file": "tracered/server.py", "line": 343, "function": "process_command"},
    "stack": [],
    "source": {"file": "tracered/server.py", "start": 386, "current": 387, "lines": [
        '@probe("call")',
        "def call(c: net.Client, flags: int = CMD_CALL_FULL) -> None:",
        '    """call: run the command proc, then account for it and propagate."""',
        "    srv = server",
        "    cmd = c.cmd",
        "    dirty = srv.dirty",
        "    cmd.proc(c)",
    ]},
    "client": {"id": 7, "addr": "127.0.0.1:50123", "laddr": "127.0.0.1:6380", "name": "worker",
               "db": 0, "resp": 2, "flags": "N", "argv": ["HSET", "user:1", "name", "ada"],
               "argc": 4, "cmd": "HSET", "qbuf": 0, "reply_bytes": 0, "reply_chunks": 0,
               "user": "default"},
    "cmd": "HSET", "key": "user:1", "db": 0,
    "robj": {"key": "user:1", "exists": True, "type": "hash", "encoding": "listpack",
             "refcount": 1, "shared": False, "lru": 495388, "idle": 3, "lfu_counter": None,
             "length": 1, "preview": "{age: 36}", "ptr_type": "bytearray", "bytes_len": 16,
             "bytes_hex": "10 00 00 00 02 00 83 61 67 65 04 24 01 ff", "expire_ms": None},
    "dict": {"label": "db 0 keyspace", "used": 12, "rehashidx": 5, "rehashing": True,
             "pauserehash": 0, "rehash_cell": 5,
             "tables": [
                 {"size": 8, "used": 9, "exp": 3, "cells": [0, 0, 0, 0, 0, 2, 3, 4],
                  "buckets_per_cell": 1, "mode": "chain"},
                 {"size": 16, "used": 3, "exp": 4,
                  "cells": [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0],
                  "buckets_per_cell": 1, "mode": "chain"}]},
    "repl": {"role": "master", "replid": "8c3f0b1a2d4e5f60718293a4b5c6d7e8f9012345",
             "replid2": "0" * 40, "master_repl_offset": 5000, "second_replid_offset": -1,
             "masterhost": None, "masterport": None, "repl_state": 0,
             "backlog": {"idx": 5000, "histlen": 5000, "offset": 1, "size": 10000},
             "replicas": [{"id": 9, "addr": "127.0.0.1:6381", "listening_port": 6381,
                           "state": 9, "ack_off": 4900, "lag": 0}]},
    "aof": {"state": 0, "enabled": False, "buf_len": 0, "fsync": "everysec",
            "current_size": None},
    "spans": [
        {"name": "processCommand", "parent": -1, "depth": 0, "start_us": 0, "dur_us": None,
         "events": []},
        {"name": "lookupCommand", "parent": 0, "depth": 1, "start_us": 3, "dur_us": 4,
         "events": []},
        {"name": "call", "parent": 0, "depth": 1, "start_us": 9, "dur_us": None,
         "events": []},
    ],
    "event": None, "server": {"pid": 1, "port": 6380},
}

SNAPSHOT = {"time": 1000.0, "pid": 1, "port": 6380, "ops": 10, "ops_per_sec": 0, "keys": 12,
            "expires": 0, "dbs": {0: 12}, "clients": 2, "rss": 50 << 20, "net_in": 0,
            "net_out": 0, "dict": SAMPLE_FRAME["dict"], "repl": SAMPLE_FRAME["repl"],
            "aof": SAMPLE_FRAME["aof"], "paused": False, "mode": "continue"}


class FakeBackend:
    """A scripted debugger: records calls, emits events like the real engine."""

    def __init__(self, frame: dict | None = None) -> None:
        self.frame = copy.deepcopy(frame) if frame else None
        self.calls: list[tuple] = []
        self.listeners: list = []
        self.bps = [{"id": 1, "probe": "call", "spec": 'call if cmd == "HSET"',
                     "condition": 'cmd == "HSET"', "enabled": True, "hits": 1, "pauses": 1,
                     "error": None, "event": False}]

    def _emit(self, ev):
        for fn in list(self.listeners):
            fn(ev)

    def subscribe(self, fn):
        self.listeners.append(fn)

    def unsubscribe(self, fn):
        if fn in self.listeners:
            self.listeners.remove(fn)

    def list_breakpoints(self):
        return copy.deepcopy(self.bps)

    def add_breakpoint(self, spec):
        self.calls.append(("add", spec))
        if spec.startswith("nosuch"):
            raise ConditionError("unknown probe 'nosuch'")
        bp = {"id": len(self.bps) + 1, "probe": spec.split()[0], "spec": spec,
              "condition": None, "enabled": True, "hits": 0, "pauses": 0, "error": None,
              "event": False}
        self.bps.append(bp)
        self._emit({"event": "breakpoints", "breakpoints": self.list_breakpoints()})
        return bp

    def toggle_breakpoint(self, bid):
        self.calls.append(("toggle", bid))
        for bp in self.bps:
            if bp["id"] == bid:
                bp["enabled"] = not bp["enabled"]
        self._emit({"event": "breakpoints", "breakpoints": self.list_breakpoints()})
        return True

    def delete_breakpoint(self, bid):
        self.calls.append(("delete", bid))
        self.bps = [b for b in self.bps if b["id"] != bid]
        self._emit({"event": "breakpoints", "breakpoints": self.list_breakpoints()})
        return True

    def resume(self, action):
        self.calls.append(("resume", action))
        if self.frame is None:
            return False
        self.frame = None
        self._emit({"event": "resumed", "action": action})
        return True

    def interrupt(self):
        self.calls.append(("interrupt",))
        return True

    def pause(self, frame):
        self.frame = copy.deepcopy(frame)
        self._emit({"event": "paused", "frame": self.frame})

    def current_frame(self):
        return self.frame

    def snapshot(self):
        return dict(SNAPSHOT)

    def recent_commands(self):
        return [{"time": 1000.0, "client": 7, "addr": "127.0.0.1:50123", "db": 0,
                 "argv": ["HSET", "user:1", "age", "36"], "argc": 4, "us": 41}]

    def probe_names(self):
        return [{"name": n, "redis": "", "exposes": "", "available": True}
                for n in ("call", "processCommand", "dictRehash")]


def sync(fn):
    """Run an async test with asyncio.run (no pytest asyncio plugin needed)."""

    @functools.wraps(fn)
    def run(*args, **kw):
        return asyncio.run(fn(*args, **kw))

    return run


def plain(widget) -> str:
    con = Console(width=200, record=True, file=io.StringIO(), color_system=None)
    con.print(widget.content)
    return con.export_text()


def tree_labels(tree) -> list[str]:
    out = []

    def walk(node):
        out.append(str(node.label))
        for ch in node.children:
            walk(ch)

    walk(tree.root)
    return out


async def wait_for(pilot, cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not reached in time"
        await pilot.pause(0.05)


# --------------------------------------------------------------------------------------------
# Pilot tests with the scripted backend
# --------------------------------------------------------------------------------------------

@sync
async def test_running_then_paused_then_continue():
    backend = FakeBackend()
    app = DebuggerApp(backend, live_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.view
        assert "RUNNING" in plain(screen.query_one("#status"))
        assert "keys 12" in plain(screen.query_one("#live-text"))
        assert "rehashidx=5" in plain(screen.query_one("#dict"))
        # c while running does nothing but warn
        await pilot.press("c")
        assert ("resume", "continue") not in backend.calls
        backend.pause(SAMPLE_FRAME)
        await wait_for(pilot, lambda: app.paused_frame is not None)
        status = plain(screen.query_one("#status"))
        assert "PAUSED" in status and "call" in status and "server.c:3347" in status
        assert "HSET user:1 name ada" in status
        source = plain(screen.query_one("#source"))
        assert "def call" in source and "tracered/server.py:386" in source
        assert "server.c:3347" in source and "process_command" in source
        client = plain(screen.query_one("#client"))
        assert "127.0.0.1:50123" in client and "worker" in client and "HSET" in client
        robj = plain(screen.query_one("#robj"))
        assert "hash" in robj and "listpack" in robj and "10 00 00 00" in robj
        assert "rehashidx=5" in plain(screen.query_one("#dict"))
        repl = plain(screen.query_one("#repl"))
        assert "offset 5000" in repl and "ack 4900 -100B" in repl
        labels = tree_labels(screen.query_one("#spans"))
        assert labels[0] == "HSET"
        assert any("call" in lb and "paused here" in lb for lb in labels)
        assert any("lookupCommand" in lb and "4 µs" in lb for lb in labels)
        await pilot.press("s")
        assert backend.calls[-1] == ("resume", "step")
        await wait_for(pilot, lambda: app.paused_frame is None)
        assert "RUNNING" in plain(screen.query_one("#status"))
        backend.pause(SAMPLE_FRAME)
        await wait_for(pilot, lambda: app.paused_frame is not None)
        for key, action in (("n", "next"), ("f", "finish"), ("c", "continue")):
            backend.pause(SAMPLE_FRAME)
            await wait_for(pilot, lambda: app.paused_frame is not None)
            await pilot.press(key)
            assert backend.calls[-1] == ("resume", action)
            await wait_for(pilot, lambda: app.paused_frame is None)
        await pilot.press("p")
        assert backend.calls[-1] == ("interrupt",)


@sync
async def test_breakpoints_pane_add_toggle_delete():
    backend = FakeBackend()
    app = DebuggerApp(backend, live_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = app.view.query_one("#breakpoints")
        assert table.row_count == 1
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, AddBreakpointScreen))
        await pilot.press(*"nosuch")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, AddBreakpointScreen)   # stays open on an error
        assert "unknown probe" in plain(app.screen.query_one("#bp-error"))
        inp = app.screen.query_one("#bp-spec")
        inp.value = "dictRehash"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, AddBreakpointScreen))
        await wait_for(pilot, lambda: table.row_count == 2)
        assert ("add", "dictRehash") in backend.calls
        table.focus()
        table.move_cursor(row=1)
        await pilot.press("space")
        assert backend.calls[-1] == ("toggle", 2)
        await wait_for(pilot, lambda: not backend.bps[1]["enabled"])
        await pilot.press("d")
        assert backend.calls[-1] == ("delete", 2)
        await wait_for(pilot, lambda: table.row_count == 1)
        # escape closes the dialog without adding
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, AddBreakpointScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, AddBreakpointScreen))


@sync
async def test_condition_error_and_quit():
    backend = FakeBackend()
    app = DebuggerApp(backend, live_interval=0)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        backend._emit({"event": "condition_error", "breakpoint": 1, "spec": "call if cmd > 3",
                       "error": "TypeError: '>' not supported"})
        await pilot.pause(0.2)
        assert any("TypeError" in str(n.message) for n in app._notifications)
        await pilot.press("q")
    assert app.return_code in (0, None)


def test_dict_and_backlog_pictures():
    text = render_dict(SAMPLE_FRAME["dict"]).plain
    assert "ht[0]  size 8  used 9" in text and "ht[1]  size 16  used 3" in text
    assert "·····234" in text and "^ rehashidx=5" in text
    big = {"label": "x", "used": 100, "rehashidx": -1, "rehashing": False, "pauserehash": 0,
           "rehash_cell": None, "tables": [
               {"size": 4096, "used": 100, "exp": 12, "cells": [0, 50, 100] + [0] * 61,
                "buckets_per_cell": 64, "mode": "fill"},
               {"size": 0, "used": 0, "exp": -1, "cells": [], "buckets_per_cell": 0,
                "mode": "none"}]}
    text = render_dict(big).plain
    assert "(64 buckets/cell)" in text and "·▄█·" in text and "not allocated" in text
    bar = backlog_bar({"size": 100, "histlen": 50, "idx": 50, "offset": 1}, width=10).plain
    assert bar == "[█████|····]"


def test_paused_screen_snapshot(snap_compare, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        app = DebuggerApp(FakeBackend(SAMPLE_FRAME), live_interval=0)
        assert snap_compare(app, terminal_size=SIZE)
    finally:
        monkeypatch.undo()
        time.tzset()


# --------------------------------------------------------------------------------------------
# The attached UI against a real tracered (control channel)
# --------------------------------------------------------------------------------------------

@pytest.fixture
def debug_server():
    cport = free_port()
    sp = ServerProc.start_tracered("--break", 'call if cmd == "SET"', "--no-tui",
                                   "--debug-port", str(cport))
    sp.control_port = cport
    yield sp
    sp.stop()


@sync
async def test_attached_tui_pauses_and_continues_a_real_server(debug_server):
    token = read_token_file(os.path.join(debug_server.workdir,
                                         f"tracered-{debug_server.control_port}.token"))
    ctl = ControlClient("127.0.0.1", debug_server.control_port, token)
    app = DebuggerApp(ctl, live_interval=0.2)
    result = {}
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            r = debug_server.client()
            t = threading.Thread(target=lambda: result.setdefault("set", r.set("k", "v")),
                                 daemon=True)
            t.start()
            await wait_for(pilot, lambda: app.paused_frame is not None, 15)
            status = plain(app.view.query_one("#status"))
            assert "call" in status and "SET k v" in status
            assert "SET" in plain(app.view.query_one("#client"))
            assert "set" not in result
            await pilot.press("c")
            await wait_for(pilot, lambda: "set" in result, 15)
            assert result["set"] is True
            await wait_for(pilot, lambda: app.paused_frame is None)
            r.close()
    finally:
        ctl.close()

