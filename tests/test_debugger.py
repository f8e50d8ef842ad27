"""The breakpoint debugger engine, driven in-process: a server on a thread of this process,
redis-py clients on other threads, the test as the "UI".

One in-process server serves the whole module (the server state is a process global).
Each test uses its own breakpoints and deletes them; a test that leaves the server paused
would make the next one fail, so every test resumes in a ``finally``.
"""

from __future__ import annotations

import socket
import threading
import time

import pytest
import redis

from tracered.trace import probes
from tracered.trace.debugger import Condition, ConditionError, Debugger
from tracered.trace.frame import CmdName, View

PAUSE_TIMEOUT = 10


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def inproc(tmp_path_factory):
    from tracered import server as server_mod

    srv = server_mod.server
    port = _free_port()
    log = tmp_path_factory.mktemp("dbg") / "tracered.log"
    dbg = Debugger(local_ui=True)
    ready = threading.Event()

    def hook(s):
        dbg.attach()
        ready.set()

    srv.startup_hooks.append(hook)
    t = threading.Thread(target=server_mod.main, name="test-server", daemon=True,
                         args=(["--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--logfile", str(log)],))
    t.start()
    assert ready.wait(30), "in-process server did not start"
    try:
        yield dbg, port
    finally:
        dbg.close()
        srv.shutdown_asap = True
        t.join(10)
        srv.startup_hooks.remove(hook)
        assert not t.is_alive()
        # Leave the process-global server as other in-process tests expect it: no keys,
        # no clients, no log file of ours.
        from tracered import db as dbmod

        for c in list(srv.clients.values()):
            if c.conn is not None:
                c.conn.close()
        srv.clients.clear()
        srv.db = [dbmod.RedisDb(i) for i in range(srv.databases)]
        srv.shutdown_asap = False
        srv.logfile = ""
        srv._logfile = None


@pytest.fixture
def dbg(inproc):
    d, _port = inproc
    yield d
    for bp in d.list_breakpoints():
        d.delete_breakpoint(bp["id"])
    d.resume("continue")


@pytest.fixture
def client(inproc):
    _d, port = inproc
    c = redis.Redis(port=port, socket_timeout=20)
    yield c
    c.close()


def new_client(inproc) -> redis.Redis:
    return redis.Redis(port=inproc[1], socket_timeout=20)


class Bg:
    """Run a client call on a thread; .done tells whether it returned."""

    def __init__(self, fn, *args) -> None:
        self.result = None
        self.error = None
        self.done = threading.Event()

        def run():
            try:
                self.result = fn(*args)
            except Exception as e:  # noqa: BLE001
                self.error = e
            finally:
                self.done.set()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def get(self, timeout: float = PAUSE_TIMEOUT):
        assert self.done.wait(timeout), "client call did not return"
        if self.error:
            raise self.error
        return self.result


# --------------------------------------------------------------------------------------------
# The headline: a SET pauses at call(), the frame shows it, everyone waits, continue
# --------------------------------------------------------------------------------------------

def test_set_pauses_at_call_and_frame_shows_internals(dbg, client, inproc):
    client.set("k", "old-value")
    bp = dbg.add_breakpoint('call if cmd == "SET"')
    bg = Bg(client.set, "k", "v")
    frame = dbg.wait_paused(PAUSE_TIMEOUT)
    try:
        assert frame is not None, "the server did not pause"
        assert frame["probe"] == "call" and frame["when"] == "enter"
        assert frame["reason"] == "breakpoint" and frame["breakpoint"] == bp["id"]
        assert frame["redis"]["location"] == "server.c:3347 @7.0.15"
        assert frame["tracered"]["file"].endswith("tracered/server.py")
        assert any("def call" in ln for ln in frame["source"]["lines"])
        assert frame["client"]["argv"] == ["SET", "k", "v"]
        assert frame["cmd"] == "SET" and frame["key"] == "k"
        # call() has not run yet: the robj is still the old value.
        robj = frame["robj"]
        assert robj["exists"] and robj["type"] == "string"
        assert robj["encoding"] == "embstr" and robj["preview"] == "old-value"
        assert robj["refcount"] == 1 and robj["length"] == 9
        d = frame["dict"]
        assert d["label"] == "db 0 keyspace" and d["rehashidx"] == -1
        assert d["used"] >= 1 and d["tables"][0]["size"] >= 4
        assert frame["repl"]["role"] == "master"
        assert [s["name"] for s in frame["spans"]][:1] == ["processCommand"]
        # The whole server is frozen: another client's PING gets no answer.
        other = new_client(inproc)
        ping = Bg(other.ping)
        assert not ping.done.wait(0.7), "a second client was served while paused"
        assert not bg.done.is_set()
        assert dbg.current_frame()["seq"] == frame["seq"]
    finally:
        assert dbg.resume("continue")
    assert bg.get() is True
    assert ping.get() is True
    assert client.get("k") == b"v"
    assert not dbg.paused
    info = {b["id"]: b for b in dbg.list_breakpoints()}[bp["id"]]
    assert info["pauses"] == 1
    other.close()


def test_resume_when_not_paused_is_refused(dbg):
    assert dbg.resume("continue") is False
    with pytest.raises(ValueError):
        dbg.resume("jump")


# --------------------------------------------------------------------------------------------
# step / finish / next, checked against the span tree
# --------------------------------------------------------------------------------------------

def _ancestors(spans: list[dict], i: int) -> list[str]:
    out = []
    p = spans[i]["parent"]
    while p != -1:
        out.append(spans[p]["name"])
        p = spans[p]["parent"]
    return out


def test_step_finish_next_follow_the_span_tree(dbg, client, inproc):
    client.delete("order")
    dbg.add_breakpoint('call if matches(key, "ord*") and cmd == "SET"')
    pipe_client = new_client(inproc)
    bg = Bg(lambda: (pipe_client.set("order", "1"), pipe_client.get("order")))
    try:
        f = dbg.wait_paused(PAUSE_TIMEOUT)
        assert f["probe"] == "call"
        call_index = len(f["spans"]) - 1
        assert f["spans"][call_index]["name"] == "call"

        # step: the very next probe, entered inside call()
        assert dbg.resume("step")
        f = dbg.wait_paused(PAUSE_TIMEOUT)
        assert f["reason"] == "step" and f["when"] == "enter"
        spans = f["spans"]
        stepped = len(spans) - 1
        assert spans[stepped]["name"] == f["probe"]
        assert "call" in _ancestors(spans, stepped), spans
        assert spans[stepped]["dur_us"] is None  # still running

        # step again: another probe, later in the same command
        assert dbg.resume("step")
        f2 = dbg.wait_paused(PAUSE_TIMEOUT)
        assert len(f2["spans"]) > len(spans)

        # finish: processCommand returns; the tree is complete and ordered
        assert dbg.resume("finish")
        f = dbg.wait_paused(PAUSE_TIMEOUT)
        assert (f["probe"], f["when"], f["reason"]) == ("processCommand", "leave", "finish")
        spans = f["spans"]
        assert spans[0]["name"] == "processCommand" and spans[0]["parent"] == -1
        assert all(s["dur_us"] is not None for s in spans)
        names = [s["name"] for s in spans]
        assert names.index("lookupCommand") < names.index("call")
        assert spans[names.index("call")]["parent"] == 0
        assert spans[stepped]["name"] == f2["spans"][stepped]["name"]
        starts = [s["start_us"] for s in spans]
        assert starts == sorted(starts)
        for s in spans[1:]:
            parent = spans[s["parent"]]
            assert parent["start_us"] <= s["start_us"]
            assert s["start_us"] + s["dur_us"] <= parent["start_us"] + parent["dur_us"] + 1
        # the SET ran: its robj is in the frame now
        assert f["robj"]["exists"] and f["robj"]["encoding"] == "int"

        # next: the client's following command, at its processCommand
        assert dbg.resume("next")
        f = dbg.wait_paused(PAUSE_TIMEOUT)
        assert (f["probe"], f["when"], f["reason"]) == ("processCommand", "enter", "next")
        assert f["client"]["argv"] == ["GET", "order"]
    finally:
        dbg.resume("continue")
    assert bg.get() == (True, b"1")
    pipe_client.close()
    # After continue, stepping probes are disarmed again.
    assert dbg._mode == "continue"
    assert "aeProcessEvents" not in dbg._armed


# --------------------------------------------------------------------------------------------
# Conditions
# --------------------------------------------------------------------------------------------

def test_condition_match_and_mismatch(dbg, client):
    client.set("x", "1")
    bp = dbg.add_breakpoint('call if cmd == "get" and key == "x"')  # cmd: any case
    assert client.set("x", "2") is True          # SET x: cmd mismatch, no pause
    assert client.get("y") is None               # GET y: key mismatch, no pause
    assert not dbg.paused
    bg = Bg(client.get, "x")
    f = dbg.wait_paused(PAUSE_TIMEOUT)
    try:
        assert f is not None and f["client"]["argv"] == ["GET", "x"]
    finally:
        dbg.resume("continue")
    assert bg.get() == b"2"
    # Disabled: no pause; enabled again: pauses.
    dbg.disable_breakpoint(bp["id"])
    assert client.get("x") == b"2"
    dbg.enable_breakpoint(bp["id"])
    bg = Bg(client.get, "x")
    try:
        assert dbg.wait_paused(PAUSE_TIMEOUT) is not None
    finally:
        dbg.resume("continue")
    assert bg.get() == b"2"
    dbg.delete_breakpoint(bp["id"])
    assert client.get("x") == b"2"
    assert dbg.list_breakpoints() == []


def test_hit_count_condition(dbg, client):
    dbg.add_breakpoint('call if cmd == "INCR" and hits >= 0')  # sanity: hits is a number
    bp = dbg.add_breakpoint('call if cmd == "ECHO" and argv[1] == "third"')
    dbg.delete_breakpoint(dbg.list_breakpoints()[0]["id"])
    assert client.echo("first") == b"first"
    assert client.echo("second") == b"second"
    bg = Bg(client.echo, "third")
    try:
        f = dbg.wait_paused(PAUSE_TIMEOUT)
        assert f["client"]["argv"] == ["ECHO", "third"]
        assert f["hits"] >= 3
    finally:
        dbg.resume("continue")
    assert bg.get() == b"third"
    assert {b["id"]: b for b in dbg.list_breakpoints()}[bp["id"]]["pauses"] == 1


def test_broken_condition_is_reported_and_server_keeps_running(dbg, client):
    events = []
    dbg.subscribe(events.append)
    try:
        bp = dbg.add_breakpoint("call if cmd > 3")  # str > int: fails when evaluated
        assert client.ping() is True                # not paused, not crashed
        info = {b["id"]: b for b in dbg.list_breakpoints()}[bp["id"]]
        assert info["enabled"] is False
        assert "TypeError" in info["error"]
        errs = [e for e in events if e["event"] == "condition_error"]
        assert errs and errs[0]["breakpoint"] == bp["id"] and "TypeError" in errs[0]["error"]
        assert client.set("after", "1") is True
    finally:
        dbg.unsubscribe(events.append)


@pytest.mark.parametrize("spec, message", [
    ("nosuchprobe", "unknown probe"),
    ("cal", "did you mean call"),
    ("call if", "empty condition"),
    ("call if import os", "syntax error"),
    ("call if __import__('os')", "only these functions"),
    ("call if open('/etc/passwd')", "only these functions"),
    ("call if client.__class__", "unknown field of client"),
    ("call if robj.encodng == 'int'", "did you mean encoding"),
    ("call if (lambda: 1)()", "only these functions"),
    ("call if [x for x in argv]", "ListComp is not allowed"),
    ("call if cmd.upper()", "only these functions"),
    ("call if argv.__class__", "attributes are read only"),
    ("call if nosuchname == 1", "unknown name"),
    ("call if len(argv) ** 2", "BinOp is not allowed"),
])
def test_bad_breakpoints_are_refused(spec, message):
    d = Debugger()
    with pytest.raises(ConditionError) as e:
        d.add_breakpoint(spec)
    assert message in str(e.value)
    assert d.list_breakpoints() == []


class FakeCtx:
    def __init__(self, **values) -> None:
        self.values = values

    def value(self, name):
        return self.values[name]


@pytest.mark.parametrize("text, expected", [
    ('cmd == "HSET" and dict.rehashidx != -1', True),
    ('cmd == "hset" and dict.rehashidx == -1', False),
    ('matches(key, "user:*")', True),
    ('matches(key, "order:*")', False),
    ('client.id in (3, 4) and client.name == "worker"', True),
    ('robj.encoding == "listpack" or robj.length > 100', True),
    ('robj.length > 1000', False),
    ('robj.expire_ms > 3', False),           # None orders as no match
    ('argv[5] == "x"', False),               # out of range: None, not an error
    ('len(argv) == 4 and argv[1] == "user:1"', True),
    ('hits % 10 == 0', True),
    ('not (hits > 100)', True),
    ('upper(key) == "USER:1"', True),
])
def test_condition_language(text, expected):
    ctx = FakeCtx(cmd=CmdName("HSET"), key="user:1", hits=20,
                  argv=["HSET", "user:1", "f", "v"],
                  dict=View(rehashidx=5), client=View(id=3, name="worker"),
                  robj=View(encoding="listpack", length=3, expire_ms=None))
    assert Condition(text).evaluate(ctx) is expected


def test_condition_runtime_errors_become_condition_errors():
    ctx = FakeCtx(cmd=CmdName("GET"), hits=1, argv=["GET"])
    for text in ("cmd > 3", "hits + cmd", "int(cmd) == 1"):
        with pytest.raises(ConditionError):
            Condition(text).evaluate(ctx)


# --------------------------------------------------------------------------------------------
# Interrupt, the command log, watch a rehash happen (the README walkthrough)
# --------------------------------------------------------------------------------------------

def test_interrupt_pauses_a_running_server(dbg, client):
    assert dbg.interrupt()
    f = dbg.wait_paused(PAUSE_TIMEOUT)
    try:
        assert f is not None and f["reason"] == "step"
        assert f["probe"] in probes.CATALOGUE
    finally:
        dbg.resume("continue")
    assert client.ping() is True


def test_recent_commands_log(dbg, client):
    client.set("logged", "1")
    recent = dbg.recent_commands()
    assert any(c["argv"] == ["SET", "logged", "1"] for c in recent)
    snap = dbg.snapshot()
    assert snap["keys"] >= 1 and snap["clients"] >= 1 and snap["paused"] is False
    assert snap["dict"]["tables"][0]["size"] >= 4


def test_watch_a_rehash_happen(dbg, client, inproc):
    from tracered import server as server_mod

    srv = server_mod.server
    client.flushall()
    old = srv.activerehashing
    srv.activerehashing = False   # the README starts the server with --activerehashing no
    try:
        pipe = client.pipeline(transaction=False)
        for i in range(1024):
            pipe.set(f"key:{i}", "v")
        pipe.execute()
        assert srv.db[0].dict.rehashidx == -1
        assert len(srv.db[0].dict.ht_table[0]) == 1024
        dbg.add_breakpoint("call if dict.rehashidx != -1")
        assert client.set("key:1024", "v") is True   # the 1025th key starts the rehash
        bg = Bg(client.get, "key:1")
        f = dbg.wait_paused(PAUSE_TIMEOUT)
        try:
            d = f["dict"]
            assert d["rehashing"] and d["tables"][1]["size"] == 2048
            assert d["tables"][0]["size"] == 1024
            start = d["rehashidx"]
            assert d["rehash_cell"] == start // d["tables"][0]["buckets_per_cell"]
            # step into the command until the rehash step itself
            seen = []
            for _ in range(12):
                dbg.resume("step")
                f = dbg.wait_paused(PAUSE_TIMEOUT)
                seen.append(f["probe"])
                if f["probe"] == "dictRehash":
                    break
            assert "dictRehash" in seen, seen
            assert f["dict"]["label"] == "db 0 keyspace"   # dictRehash's own argument
            dbg.resume("finish")
            f = dbg.wait_paused(PAUSE_TIMEOUT)
            assert f["dict"]["rehashidx"] > start
        finally:
            dbg.resume("continue")
        assert bg.get() == b"v"
    finally:
        srv.activerehashing = old


def test_forked_child_never_pauses(dbg):
    dbg._pid = -1   # pretend we are a fork child: pausing must be a no-op
    try:
        from tracered.trace.frame import ProbeContext

        t0 = time.monotonic()
        dbg._pause(ProbeContext(probes.CATALOGUE["call"], ()), "breakpoint", None)
        assert time.monotonic() - t0 < 1 and not dbg.paused
    finally:
        import os

        dbg._pid = os.getpid()


def test_inspectors_reaching_probes_do_not_reenter(dbg, client, monkeypatch):
    """A type's preview hook that calls a probed function (dictFind) while the debugger
    captures a frame must neither record a span nor pause again (it is the debugger's own
    work, not the program's)."""
    from tracered import object as obj
    from tracered import server as server_mod

    calls = []

    def preview(o, limit):
        calls.append(server_mod.server.db[0].dict.find(b"somekey"))
        return "patched preview"

    client.delete("h")
    client.hset("h", "f", "v")
    monkeypatch.setitem(obj.preview_funcs, obj.OBJ_HASH, preview)
    dbg.add_breakpoint('call if cmd == "HSET"')
    bg = Bg(client.hset, "h", "g", "w")
    try:
        f = dbg.wait_paused(PAUSE_TIMEOUT)
        assert f["robj"]["preview"] == "patched preview" and calls
        assert [s["name"] for s in f["spans"]] == ["processCommand", "lookupCommand", "call"]
        dbg.resume("step")   # the step pause captures again: the preview must not pause it
        f = dbg.wait_paused(PAUSE_TIMEOUT)
        assert f["reason"] == "step" and len(calls) >= 2
    finally:
        dbg.resume("continue")
    assert bg.get() == 1
