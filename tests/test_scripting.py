"""Lua scripting on tracered (script_lua.py): EVAL/EVALSHA/SCRIPT over TCP with redis-py,
redis-py's Lock (which runs Lua), busy scripts (-BUSY, SCRIPT KILL, UNKILLABLE), effects
propagation as MULTI/EXEC (in-process), the probes, and INFO's scripting fields.

The byte-exact comparison with redis-server lives in test_diff_scripting.py.
"""

from __future__ import annotations

import threading
import time

import pytest
import redis
from conftest import ServerProc

# --------------------------------------------------------------------------------------------
# Over TCP
# --------------------------------------------------------------------------------------------

def test_eval_conversions(r):
    assert r.eval("return 1", 0) == 1
    assert r.eval("return 3.99", 0) == 3
    assert r.eval("return 'x'", 0) == b"x"
    assert r.eval("return {1, 'a', {2}, nil, 5}", 0) == [1, b"a", [2]]
    assert r.eval("return true", 0) == 1
    assert r.eval("return false", 0) is None
    assert r.eval("return redis.status_reply('FINE')", 0) == b"FINE"
    with pytest.raises(redis.ResponseError, match="^MYCODE oops$"):
        r.eval("return redis.error_reply('MYCODE oops')", 0)
    assert r.eval("return {KEYS[1], ARGV[1], #KEYS, #ARGV}", 1, "k", "a") == [b"k", b"a", 1, 1]
    r.set("s", "foo")
    assert r.eval("return redis.call('get', KEYS[1])", 1, "s") == b"foo"
    assert r.eval("return redis.call('get', 'missing') == false and 1 or 0", 0) == 1
    assert r.eval("return redis.pcall('incr', 's')['err']", 0) == \
        b"ERR value is not an integer or out of range"


def test_eval_errors(r):
    with pytest.raises(redis.ResponseError) as e:
        r.eval("return redis.call('incr', 's2', 'extra')", 0)
    assert str(e.value).startswith("Wrong number of args calling Redis command from script "
                                   "script: ")
    assert str(e.value).endswith(", on @user_script:1.")
    with pytest.raises(redis.ResponseError, match="Attempt to modify a readonly table"):
        r.eval("x = 5", 0)
    with pytest.raises(redis.ResponseError,
                       match="Script attempted to access nonexistent global variable 'nope'"):
        r.eval("return nope", 0)
    with pytest.raises(redis.ResponseError, match="This Redis command is not allowed from"):
        r.eval("return redis.call('multi')", 0)
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed from "
                                                  "read-only scripts"):
        r.execute_command("EVAL_RO", "return redis.call('set', 'a', 1)", 0)
    with pytest.raises(redis.ResponseError, match="Number of keys can't be greater"):
        r.eval("return 1", 3, "a")
    with pytest.raises(redis.ResponseError, match="Error compiling script"):
        r.eval("return +", 0)
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha("f" * 40, 0)


def test_script_load_exists_flush(r):
    sha = r.script_load("return ARGV[1]")
    assert sha == "5d29a18e8ea7aa0c86d6c3c95e9a3cffc47cfa55" or len(sha) == 40
    assert r.evalsha(sha, 0, "v") == b"v"
    assert r.evalsha(sha.upper(), 0, "w") == b"w"
    assert r.script_exists(sha, sha.upper(), "0" * 40) == [True, True, False]
    info = r.info("memory")
    assert info["number_of_cached_scripts"] >= 1
    assert info["used_memory_scripts_eval"] > 0
    assert info["used_memory_lua"] > 0
    assert r.script_flush("SYNC")
    assert r.script_exists(sha) == [False]
    assert r.info("memory")["number_of_cached_scripts"] == 0
    r.script_load("return 1")
    assert r.execute_command("SCRIPT", "FLUSH", "ASYNC")
    assert r.info("memory")["number_of_cached_scripts"] == 0
    with pytest.raises(redis.ResponseError, match="NOTBUSY No scripts in execution"):
        r.script_kill()


def test_select_in_script_keeps_caller_db(r):
    r.set("k", "zero")
    assert r.eval("redis.call('select', 3) redis.call('set', 'k', 'three') "
                  "return redis.call('get', 'k')", 0) == b"three"
    assert r.get("k") == b"zero"
    r.execute_command("SELECT", 3)
    try:
        assert r.get("k") == b"three"
    finally:
        r.execute_command("SELECT", 0)


def test_flush_gives_a_fresh_lua_state(r):
    r.eval("math.randomseed(1)", 0)
    first = r.eval("return tostring(math.random())", 0)
    r.eval("math.randomseed(1)", 0)
    assert r.eval("return tostring(math.random())", 0) == first
    r.script_flush()
    assert r.eval("return redis.call('ping')", 0) == b"PONG"


def test_redis_py_lock(r):
    """redis-py's Lock acquires, extends, releases and refuses others through Lua."""
    lock = r.lock("resource", timeout=10, blocking_timeout=0.2)
    assert lock.acquire()
    assert r.get("resource") is not None
    other = r.lock("resource", timeout=10, blocking_timeout=0.1)
    assert not other.acquire()
    assert lock.extend(5)
    assert r.pttl("resource") > 10_000
    assert lock.reacquire()
    lock.release()
    assert r.get("resource") is None
    # Someone else's token: the release script refuses (returns 0).
    assert lock.acquire()
    r.set("resource", "not-my-token")
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        lock.release()
    with r.lock("resource2", timeout=5):
        assert r.exists("resource2") == 1
    assert r.exists("resource2") == 0


def test_register_script_object(r):
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr_by(keys=["counter"], args=[5]) == 5
    r.script_flush()  # the Script object falls back to EVAL on NOSCRIPT
    assert incr_by(keys=["counter"], args=[2]) == 7


def test_resp3_caller(tracered_server):
    c = tracered_server.client(protocol=3)
    try:
        assert c.eval("return {double=1.5}", 0) == 1.5
        assert c.eval("return true", 0) == 1  # the script's own protocol is RESP2
        assert c.eval("redis.setresp(3) return true", 0) is True
        assert c.eval("return {map={a=1}}", 0) == {b"a": 1}
        c.hset("h", "f", "v")
        assert c.eval("redis.setresp(3) return redis.call('hgetall', 'h')", 0) == {b"f": b"v"}
    finally:
        c.close()


# --------------------------------------------------------------------------------------------
# Busy scripts: -BUSY, SCRIPT KILL, UNKILLABLE, SHUTDOWN NOSAVE
# --------------------------------------------------------------------------------------------

@pytest.fixture
def busy_server():
    sp = ServerProc.start_tracered("--busy-reply-threshold", "100")
    yield sp
    sp.stop()


def _run_in_thread(fn):
    out = {}

    def target():
        try:
            out["result"] = fn()
        except Exception as e:  # noqa: BLE001 - handed to the test
            out["error"] = e

    t = threading.Thread(target=target, daemon=True)
    t.start()
    return t, out


def _wait_busy(c: redis.Redis, deadline_s: float = 5.0) -> None:
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        try:
            c.ping()
        except redis.exceptions.BusyLoadingError:
            raise
        except redis.ResponseError as e:
            if "Redis is busy running a script" in str(e):
                return
            raise
        time.sleep(0.02)
    raise AssertionError("the script never became busy")


def test_busy_script_and_script_kill(busy_server):
    runner = busy_server.client()
    other = busy_server.client(socket_timeout=5)
    t, out = _run_in_thread(lambda: runner.eval("local i = 0 while true do i = i + 1 end", 0))
    try:
        _wait_busy(other)
        with pytest.raises(redis.ResponseError, match="BUSY|busy running a script"):
            other.set("a", "b")
        assert other.script_kill()
        t.join(5)
        assert not t.is_alive()
        err = out.get("error")
        assert isinstance(err, redis.ResponseError)
        assert str(err).startswith("Script killed by user with SCRIPT KILL... script: ")
        assert other.ping()
        assert other.get("a") is None
    finally:
        runner.close()
        other.close()


def test_busy_write_script_is_unkillable(busy_server):
    runner = busy_server.client(socket_timeout=10)
    other = busy_server.client(socket_timeout=5)
    # Writes, then spins for 1-2 s of server time (TIME is read through redis.call).
    script = ("redis.call('set', 'w', '1') local t0 = tonumber(redis.call('time')[1]) "
              "local n = 0 while tonumber(redis.call('time')[1]) - t0 < 2 do n = n + 1 end "
              "return 'done'")
    t, out = _run_in_thread(lambda: runner.eval(script, 0))
    try:
        _wait_busy(other)
        with pytest.raises(redis.ResponseError, match="UNKILLABLE Sorry the script already "
                                                      "executed write commands"):
            other.script_kill()
        t.join(8)
        assert out.get("result") == b"done", out
        assert other.get("w") == b"1"
    finally:
        runner.close()
        other.close()


def test_shutdown_nosave_stops_a_busy_script(busy_server):
    runner = busy_server.client()
    other = busy_server.client(socket_timeout=5)
    t, _ = _run_in_thread(lambda: runner.eval("while true do end", 0))
    try:
        _wait_busy(other)
        other.shutdown(nosave=True)  # redis-py treats the closed connection as success
        busy_server.proc.wait(10)
        assert not busy_server.alive()
        t.join(5)
    finally:
        runner.close()
        other.close()


# --------------------------------------------------------------------------------------------
# In-process: propagation of effects, probes
# --------------------------------------------------------------------------------------------

class InProc:
    """The command path in this process, on fake clients, capturing what is propagated."""

    def __init__(self) -> None:
        from tracered import commands, multi, script_lua
        from tracered import db as dbmod
        from tracered import networking as net
        from tracered import server as sm

        self.sm = sm
        srv = sm.server
        net.server = srv
        self.saved = (srv.db, list(srv.propagate_hooks))
        srv.db = [dbmod.RedisDb(i) for i in range(srv.databases)]
        commands.populate_command_table(sm.all_command_tables())
        multi.init(srv)
        script_lua.init(srv)
        self.propagated: list[tuple[int, list[bytes]]] = []
        srv.propagate_hooks[:] = [
            lambda dbid, argv, target: self.propagated.append((dbid, [bytes(a) for a in argv]))]
        self.c = net.create_client(None)

    def close(self) -> None:
        srv = self.sm.server
        srv.db, srv.propagate_hooks[:] = self.saved[0], self.saved[1]

    def __call__(self, *args) -> bytes:
        c = self.c
        c.argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        self.sm.server.current_client = c
        try:
            self.sm.process_command(c)
        finally:
            self.sm.server.current_client = None
        out = b"".join(c.reply)
        c.reply.clear()
        c.reply_bytes = 0
        return out

    def take(self) -> list[tuple[int, list[bytes]]]:
        out, self.propagated = self.propagated, []
        return out


@pytest.fixture
def inproc():
    p = InProc()
    yield p
    p.close()


def test_script_effects_propagate_as_multi_exec(inproc):
    p = inproc
    assert p("EVAL", "redis.call('set', 'a', '1') redis.call('incr', 'n') "
                     "redis.call('get', 'a') return 1", 0) == b":1\r\n"
    assert [argv for _, argv in p.take()] == [
        [b"MULTI"], [b"set", b"a", b"1"], [b"incr", b"n"], [b"EXEC"]]
    # One write: sent alone, no transaction around it; the EVAL itself never is.
    p("EVAL", "return redis.call('set', KEYS[1], 'x')", 1, "k")
    assert [argv for _, argv in p.take()] == [[b"set", b"k", b"x"]]
    # Reads only: nothing.
    p("EVAL", "return redis.call('get', 'a')", 0)
    assert p.take() == []
    # redis.set_repl(REPL_NONE) keeps the writes local.
    p("EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', 'quiet', 1) return 1", 0)
    assert p.take() == []
    assert p("GET", "quiet") == b"$1\r\n1\r\n"
    # A SELECT inside the script: each write goes out with its own database.
    p("EVAL", "redis.call('set', 'x', 0) redis.call('select', 5) redis.call('set', 'x', 5) "
              "return 1", 0)
    assert p.take() == [(0, [b"MULTI"]), (0, [b"set", b"x", b"0"]), (5, [b"set", b"x", b"5"]),
                        (0, [b"EXEC"])]
    # A failed script that wrote before failing still propagates what it did.
    assert p("EVAL", "redis.call('set', 'y', 1) error('boom')", 0).startswith(b"-ERR ")
    assert [argv for _, argv in p.take()] == [[b"set", b"y", b"1"]]


def test_eval_inside_multi_exec_propagates_one_transaction(inproc):
    p = inproc
    p("MULTI")
    p("EVAL", "redis.call('set', 'a', 1) return 1", 0)
    p("SET", "b", "2")
    p("EVAL", "redis.call('set', 'c', 3) redis.call('set', 'd', 4) return 1", 0)
    p("EXEC")
    assert [argv for _, argv in p.take()] == [
        [b"MULTI"], [b"set", b"a", b"1"], [b"SET", b"b", b"2"], [b"set", b"c", b"3"],
        [b"set", b"d", b"4"], [b"EXEC"]]


class _Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def enter(self, info, args):
        self.events.append(("enter", info.name))

    def leave(self, info, token):
        self.events.append(("leave", info.name))

    def event(self, name, attrs):
        pass


def test_probes_nest_redis_call_under_eval(inproc):
    from tracered.trace import probes

    names = ("call", "evalGenericCommand", "luaRedisGenericCommand")
    rec = _Recorder()
    for n in names:
        assert probes.arm(n, rec), n
    try:
        inproc("EVAL", "return redis.call('set', 'k', 'v')", 0)
    finally:
        for n in names:
            probes.disarm(n, rec)
    assert rec.events == [
        ("enter", "call"), ("enter", "evalGenericCommand"),
        ("enter", "luaRedisGenericCommand"), ("enter", "call"), ("leave", "call"),
        ("leave", "luaRedisGenericCommand"), ("leave", "evalGenericCommand"),
        ("leave", "call")]
    assert inproc("GET", "k") == b"$1\r\nv\r\n"


def test_scripts_on_a_read_only_replica(inproc):
    """Writes from a script are refused on a read-only replica; reads still run."""
    from tracered import server as sm

    srv = sm.server
    saved = (srv.masterhost, srv.repl_state)
    srv.masterhost, srv.repl_state = "127.0.0.1", sm.REPL_STATE_CONNECTED
    try:
        out = inproc("EVAL", "return redis.call('set', 'a', 1)", 0)
        assert out.startswith(b"-READONLY You can't write against a read only replica. "
                              b"script: ")
        assert inproc("EVAL", "#!lua\nreturn 1", 0) == \
            b"-READONLY Can not run script with write flag on readonly replica\r\n"
        assert inproc("EVAL", "#!lua flags=no-writes\nreturn redis.call('exists', 'a')",
                      0) == b":0\r\n"
        assert inproc("EVAL", "return redis.call('get', 'a')", 0) == b"$-1\r\n"
    finally:
        srv.masterhost, srv.repl_state = saved
