"""Redis functions (functions.py, function_lua.py): FUNCTION LOAD/LIST/STATS/DELETE/FLUSH/
DUMP/RESTORE/KILL and FCALL/FCALL_RO, compared with Debian's redis-server 7.0, plus
persistence (DEBUG RELOAD, RDB files exchanged with redis-server in both directions) and a
replica receiving a library.

The module-scoped servers are shared between tests: every test flushes the libraries of
both servers before and after it runs.
"""

from __future__ import annotations

import os
import shutil
import threading
import time

import pytest
import redis
from conftest import ServerProc

LIB = """#!lua name=mylib
local function set_get(keys, args)
  redis.call('set', keys[1], args[1])
  return redis.call('get', keys[1])
end
redis.register_function('set_get', set_get)
redis.register_function{function_name='ro_get', callback=function(keys, args)
  return redis.call('get', keys[1]) end, flags={'no-writes', 'allow-stale'},
  description='read only get'}
redis.register_function{function_name='ro_set', callback=function(keys, args)
  return redis.call('set', keys[1], 'x') end, flags={'no-writes'}}
redis.register_function('echo_all', function(keys, args) return {keys, args, #keys, #args} end)
redis.register_function('types', function(keys, args)
  return {1, 'two', 3.9, true, false, {ok='fine'}, redis.pcall('nosuchcmd')['err']} end)
redis.register_function('fail', function() return redis.call('incr', 'str') end)
redis.register_function('raise', function() error('custom') end)
redis.register_function('raise_tbl', function() return redis.error_reply('MYERR boom') end)
redis.register_function('setglobal', function() newglobal = 1 end)
"""

LIB2 = """#!lua name=otherlib
redis.register_function('other', function(keys, args) return 'other' end)
"""


def _norm_list(reply):
    """FUNCTION LIST with libraries and functions sorted by name (Redis lists them in
    hash order)."""
    if not isinstance(reply, list):
        return reply
    out = []
    for lib in reply:
        lib = dict(lib)
        lib[b"functions"] = sorted(lib[b"functions"], key=lambda f: f[b"name"])
        out.append(lib)
    return sorted(out, key=lambda lib: lib[b"library_name"])


def flist(fd, *args):
    a, b = (_norm_list(x) for x in fd.both("FUNCTION", "LIST", *args))
    assert a == b, f"FUNCTION LIST {args!r}: tracered={a!r} redis={b!r}"
    return a


def _flush(*clients):
    for c in clients:
        c.execute_command("FUNCTION", "FLUSH")


@pytest.fixture
def fd(diff):
    _flush(diff.t, diff.ref)
    try:
        yield diff
    finally:
        _flush(diff.t, diff.ref)


LOAD_ERRORS = [
    "return 1",
    "#!lua\nreturn 1",
    "#!foo name=x\nreturn 1",
    "#!lua name=x\nreturn 1",
    "#!lua name=x foo=bar\nreturn 1",
    "#!lua name=x name=y\nreturn 1",
    "#!lua name=x-y\nreturn 1",
    "#!lua name=\nreturn 1",
    "#!lua name=x",
    "#!lua name=x\nredis.register_function('f')",
    "#!lua name=x\nredis.register_function('f', 1)",
    "#!lua name=x\nredis.register_function({}, function() end)",
    "#!lua name=x\nredis.register_function('f', function() end, 3)",
    "#!lua name=x\nredis.register_function()",
    "#!lua name=x\nredis.register_function({function_name='f', callback=function() end, "
    "flags={'bad'}})",
    "#!lua name=x\nredis.register_function({function_name='f', callback=function() end, "
    "flags='no-writes'})",
    "#!lua name=x\nredis.register_function({function_name='f', callback=1})",
    "#!lua name=x\nredis.register_function({function_name=1.5, callback=function() end})",
    "#!lua name=x\nredis.register_function({callback=function() end})",
    "#!lua name=x\nredis.register_function({function_name='f'})",
    "#!lua name=x\nredis.register_function({function_name='f', callback=function() end, "
    "description={}})",
    "#!lua name=x\nredis.register_function({function_name='f', callback=function() end, "
    "other=1})",
    "#!lua name=x\nredis.register_function('f-g', function() end)",
    "#!lua name=x\nredis.register_function('f', function() end)\n"
    "redis.register_function('F', function() end)",
    "#!lua name=x\nredis.call('ping')",
    "#!lua name=x\nx = 1",
    "#!lua name=x\nlocal a = string.len('a')",
    "#!lua name=x\nerror('boom')",
    "#!lua name=x\nlocal = 1",
    "#!lua name=x\nreturn math.random()",
    "#!lua name=x\nredis.log(redis.LOG_NOTICE, 'hello from load')\n"
    "return redis.REDIS_VERSION_NUM .. nil",
]


@pytest.mark.parametrize("code", LOAD_ERRORS)
def test_load_errors(fd, code):
    fd("FUNCTION", "LOAD", code)


def test_load_command_errors(fd):
    fd("FUNCTION", "LOAD", "REPLACE")
    fd("FUNCTION", "LOAD", "BOGUS", LIB)
    fd("FUNCTION", "LOAD")


def test_load_replace_and_collisions(fd):
    assert fd("FUNCTION", "LOAD", LIB) == b"mylib"
    assert fd("FUNCTION", "LOAD", LIB)[0] == "error"  # Library 'mylib' already exists
    assert fd("FUNCTION", "LOAD", "replace", LIB) == b"mylib"
    # A function name collides across libraries, without regard to case.
    clash = "#!lua name=clash\nredis.register_function('SET_GET', function() return 1 end)"
    assert fd("FUNCTION", "LOAD", clash)[0] == "error"
    # REPLACE that fails keeps the old library.
    bad = "#!lua name=mylib\nerror('no')"
    assert fd("FUNCTION", "LOAD", "REPLACE", bad)[0] == "error"
    fd("FCALL", "set_get", 1, "k", "v")
    fd("FUNCTION", "LOAD", LIB2)
    fd("FUNCTION", "STATS")


def test_list_and_stats_shapes(fd):
    flist(fd)
    fd("FUNCTION", "STATS")
    fd("FUNCTION", "LOAD", LIB)
    flist(fd)
    flist(fd, "WITHCODE")
    flist(fd, "LIBRARYNAME", "my*", "WITHCODE")
    flist(fd, "withcode", "libraryname", "MY*")
    flist(fd, "LIBRARYNAME", "nomatch*")
    flist(fd, "LIBRARYNAME")
    flist(fd, "WITHCODE", "WITHCODE")
    flist(fd, "bogus")
    fd("FUNCTION", "STATS")
    fd("FUNCTION", "LOAD", LIB2)
    flist(fd, "LIBRARYNAME", "other*")
    fd("FUNCTION", "STATS")
    # RESP3: maps, sets of flags, null descriptions.
    t3 = redis.Redis(port=fd.t.connection_pool.connection_kwargs["port"], protocol=3)
    r3 = redis.Redis(port=fd.ref.connection_pool.connection_kwargs["port"], protocol=3)
    try:
        for args in (("FUNCTION", "LIST", "LIBRARYNAME", "mylib"), ("FUNCTION", "STATS")):
            assert _norm_list(t3.execute_command(*args)) == \
                _norm_list(r3.execute_command(*args))
    finally:
        t3.close()
        r3.close()


def test_help_kill_not_busy(fd):
    fd("FUNCTION", "HELP")
    fd("FUNCTION", "KILL")
    fd("FUNCTION", "NOSUCHSUB")


def test_fcall_results_and_errors(fd):
    fd("FUNCTION", "LOAD", LIB)
    fd("SET", "str", "abc")
    assert fd("FCALL", "set_get", 1, "k", "v") == b"v"
    fd("FCALL", "SET_GET", 1, "k", "v2")
    fd("FCALL", "echo_all", 2, "a", "b", "x", "y", "z")
    fd("FCALL", "echo_all", 0)
    fd("FCALL", "types", 0)
    fd("FCALL", "fail", 0)
    fd("FCALL", "raise", 0)
    fd("FCALL", "raise_tbl", 0)
    fd("FCALL", "setglobal", 0)
    fd("FCALL", "nosuch", 0)
    fd("FCALL", "set_get", "x")
    fd("FCALL", "set_get", 5, "a")
    fd("FCALL", "set_get", -1)
    fd("FCALL_RO", "ro_get", 1, "k")
    fd("FCALL_RO", "set_get", 1, "k", "v")   # write flag through *_ro
    fd("FCALL_RO", "ro_set", 1, "k")          # no-writes function writing
    fd("FCALL", "ro_set", 1, "k")
    fd("GET", "k")


def test_runtime_globals(fd):
    code = ("#!lua name=g\n"
            "redis.register_function('g', function(keys, args)\n"
            "  return {type(KEYS), type(ARGV), type(string.format), type(cjson), "
            "redis.sha1hex('x'), tostring(redis.register_function)} end)\n"
            "redis.register_function('h', function() return unknownvar end)\n")
    fd("FUNCTION", "LOAD", code)
    fd("FCALL", "g", 0)
    fd("FCALL", "h", 0)


def test_oom_script_flush_and_info(fd):
    fd("FUNCTION", "LOAD", LIB)
    fd("SET", "k", "v")
    try:
        fd("CONFIG", "SET", "maxmemory", "1")
        fd("FCALL", "set_get", 1, "k", "v")       # -OOM allow-oom flag is not set
        fd("FCALL_RO", "ro_get", 1, "k")          # no-writes functions still run
    finally:
        fd("CONFIG", "SET", "maxmemory", "0")
    fd("SCRIPT", "FLUSH")                         # the scripts cache, not the libraries
    fd("FCALL", "ro_get", 1, "k")
    for c in (fd.t, fd.ref):
        info = c.info("memory")
        assert info["number_of_functions"] == 9
        assert info["number_of_libraries"] == 1


def test_delete_and_flush(fd):
    fd("FUNCTION", "LOAD", LIB)
    fd("FUNCTION", "DELETE", "nosuch")
    fd("FUNCTION", "DELETE", "mylib")
    fd("FCALL", "set_get", 1, "k", "v")
    fd("FUNCTION", "LOAD", LIB)
    fd("FUNCTION", "FLUSH", "BOGUS")
    fd("FUNCTION", "FLUSH", "SYNC", "extra")
    fd("FUNCTION", "FLUSH", "ASYNC")
    flist(fd)
    fd("FUNCTION", "LOAD", LIB)
    fd("FLUSHALL")                      # FLUSHALL keeps the libraries
    flist(fd)


def _libs(c):
    return sorted((lib[b"library_name"], lib[b"library_code"])
                  for lib in c.execute_command("FUNCTION", "LIST", "WITHCODE"))


def test_dump_restore_roundtrip_and_policies(fd):
    t, ref = fd.t, fd.ref
    fd("FUNCTION", "LOAD", LIB)
    fd("FUNCTION", "LOAD", LIB2)
    dump_t = t.execute_command("FUNCTION", "DUMP")
    dump_r = ref.execute_command("FUNCTION", "DUMP")
    assert dump_t[-10:-8] == dump_r[-10:-8] == b"\x0a\x00"
    # Each server restores the other's payload.
    _flush(t, ref)
    assert t.execute_command("FUNCTION", "RESTORE", dump_r) == b"OK"
    assert ref.execute_command("FUNCTION", "RESTORE", dump_t) == b"OK"
    assert _libs(t) == _libs(ref)
    fd("FCALL", "set_get", 1, "k", "v")
    # One library per payload from here: with several, which collision is reported first
    # depends on Redis's hash order.
    fd("FUNCTION", "DELETE", "otherlib")
    dump_r = ref.execute_command("FUNCTION", "DUMP")
    fd("FUNCTION", "LOAD", LIB2)
    # APPEND (the default) refuses an existing library, REPLACE takes it.
    fd("FUNCTION", "RESTORE", dump_r)
    fd("FUNCTION", "RESTORE", dump_r, "APPEND")
    fd("FUNCTION", "RESTORE", dump_r, "REPLACE")
    clash = "#!lua name=clash\nredis.register_function('SET_GET', function() return 1 end)"
    fd("FUNCTION", "DELETE", "mylib")
    fd("FUNCTION", "LOAD", clash)
    fd("FUNCTION", "RESTORE", dump_r, "REPLACE")        # Function set_get already exists
    flist(fd, "LIBRARYNAME", "mylib")
    fd("FUNCTION", "RESTORE", dump_r, "FLUSH")
    assert _libs(t) == _libs(ref)
    fd("FUNCTION", "RESTORE", dump_r, "BOGUS")
    fd("FUNCTION", "RESTORE", dump_r, "FLUSH", "extra")
    fd("FUNCTION", "RESTORE", b"short")
    fd("FUNCTION", "RESTORE", dump_r[:-1] + bytes([dump_r[-1] ^ 1]))
    # A DUMP payload of a key is not a function payload.
    fd("SET", "k", "v")
    key_payload = ref.execute_command("DUMP", "k")
    fd("FUNCTION", "RESTORE", key_payload)
    # An empty DUMP restores nothing.
    _flush(t, ref)
    empty_r = ref.execute_command("FUNCTION", "DUMP")
    assert t.execute_command("FUNCTION", "DUMP") == empty_r
    fd("FUNCTION", "RESTORE", empty_r)


def test_debug_reload_keeps_libraries(r):
    r.execute_command("FUNCTION", "FLUSH")
    try:
        r.execute_command("FUNCTION", "LOAD", LIB)
        before = r.execute_command("FUNCTION", "LIST", "WITHCODE")
        assert r.execute_command("DEBUG", "RELOAD") == b"OK"
        assert r.execute_command("FUNCTION", "LIST", "WITHCODE") == before
        assert r.execute_command("FCALL", "set_get", 1, "k", "v") == b"v"
        stats = r.execute_command("FUNCTION", "STATS")
        assert stats[b"engines"] == {b"LUA": {b"libraries_count": 1, b"functions_count": 9}}
        r.execute_command("FUNCTION", "FLUSH")
        r.execute_command("SAVE")
        r.execute_command("FUNCTION", "LOAD", LIB2)
        # Reloading a file without libraries drops the ones in memory (emptyData).
        assert r.execute_command("DEBUG", "RELOAD", "NOSAVE") == b"OK"
        assert r.execute_command("FUNCTION", "LIST") == []
    finally:
        r.execute_command("FUNCTION", "FLUSH")


def _move_rdb(src: ServerProc, dst_dir: str) -> None:
    shutil.copy(os.path.join(src.workdir, "dump.rdb"), os.path.join(dst_dir, "dump.rdb"))


@pytest.mark.parametrize("direction", ["tracered_to_redis", "redis_to_tracered"])
def test_rdb_interop(direction, tmp_path):
    starters = [ServerProc.start_tracered, ServerProc.start_redis]
    if direction == "redis_to_tracered":
        starters.reverse()
    src = starters[0]()
    dst = None
    try:
        c = src.client()
        assert c.execute_command("FUNCTION", "LOAD", LIB) == b"mylib"
        c.execute_command("FUNCTION", "LOAD", LIB2)
        c.set("k", "v0")
        expect = _libs(c)
        assert c.execute_command("SAVE")
        c.close()
        dst_dir = str(tmp_path / "dst")
        os.makedirs(dst_dir)
        _move_rdb(src, dst_dir)
        dst = starters[1](workdir=dst_dir)
        d = dst.client()
        assert _libs(d) == expect
        assert d.execute_command("FCALL", "set_get", 1, "k", "v1") == b"v1"
        assert d.execute_command("FCALL", "other", 0) == b"other"
        d.close()
    finally:
        src.stop()
        if dst is not None:
            dst.stop()


def test_function_kill_busy_script(r, tracered_server):
    r.execute_command("FUNCTION", "FLUSH")
    r.config_set("busy-reply-threshold", 50)
    code = ("#!lua name=busy\n"
            "redis.register_function{function_name='spin', callback=function() "
            "local i = 0 while true do i = i + 1 end end, flags={'no-writes'}}")
    r.execute_command("FUNCTION", "LOAD", code)
    result = {}

    def run():
        c = tracered_server.client()
        try:
            c.execute_command("FCALL", "spin", 0)
        except redis.ResponseError as e:
            result["err"] = str(e)
        finally:
            c.close()

    th = threading.Thread(target=run)
    th.start()
    try:
        other = tracered_server.client()
        deadline = time.time() + 10
        while True:
            try:
                other.ping()
            except redis.exceptions.BusyLoadingError:
                break
            except redis.ResponseError as e:
                if "BUSY" in str(e):
                    break
                raise
            assert time.time() < deadline, "function never became busy"
            time.sleep(0.05)
        # Other commands get the BUSY error naming FUNCTION KILL (EVAL's names SCRIPT KILL).
        with pytest.raises(redis.exceptions.RedisError, match="only call FUNCTION KILL"):
            other.get("somekey")
        stats = other.execute_command("FUNCTION", "STATS")
        running = stats[b"running_script"]
        assert running[b"name"] == b"spin"
        assert running[b"command"] == [b"FCALL", b"spin", b"0"]
        assert running[b"duration_ms"] >= 50
        with pytest.raises(redis.ResponseError, match="FUNCTION KILL"):
            other.execute_command("SCRIPT", "KILL")
        assert other.execute_command("FUNCTION", "KILL") == b"OK"
        th.join(10)
        assert not th.is_alive()
        assert "Script killed by user" in result["err"]
        assert other.ping()
        other.close()
    finally:
        th.join(10)
        r.config_set("busy-reply-threshold", 5000)
        r.execute_command("FUNCTION", "FLUSH")


def test_replica_receives_library_and_effects():
    master = ServerProc.start_tracered()
    replica = None
    try:
        m = master.client()
        replica = ServerProc.start_redis("--replicaof", "127.0.0.1", str(master.port))
        s = replica.client()
        deadline = time.time() + 15
        while s.info("replication").get("master_link_status") != "up":
            assert time.time() < deadline, "replica never synced"
            time.sleep(0.1)
        assert m.execute_command("FUNCTION", "LOAD", LIB) == b"mylib"
        assert m.execute_command("FCALL", "set_get", 1, "k", "from-fcall") == b"from-fcall"
        m.execute_command("FUNCTION", "LOAD", LIB2)
        m.execute_command("FUNCTION", "DELETE", "otherlib")
        m.execute_command("WAIT", 1, 5000)
        deadline = time.time() + 10
        while s.get("k") != b"from-fcall":
            assert time.time() < deadline, "FCALL effects never reached the replica"
            time.sleep(0.05)
        assert _libs(s) == _libs(m)
        assert s.execute_command("FCALL_RO", "ro_get", 1, "k") == b"from-fcall"
        # The effects were replicated, not the FCALL (the replica ran a SET, no FCALL).
        stats = s.info("commandstats")
        assert "cmdstat_set" in stats and "cmdstat_fcall" not in stats
        assert "cmdstat_function|load" in stats
        m.close()
        s.close()
    finally:
        if replica is not None:
            replica.stop()
        master.stop()


def test_load_timeout(fd):
    spin = "#!lua name=spin\nlocal a = 1\nwhile true do a = a + 1 end"
    fd("FUNCTION", "LOAD", spin)          # Error registering functions: ... timeout
    flist(fd)


def test_tracered_replica_of_redis():
    master = ServerProc.start_redis()
    replica = None
    try:
        m = master.client()
        m.execute_command("FUNCTION", "LOAD", LIB2)   # goes over in the full sync RDB
        m.set("k", "v0")
        replica = ServerProc.start_tracered("--replicaof", "127.0.0.1", str(master.port))
        s = replica.client()
        deadline = time.time() + 15
        while s.info("replication").get("master_link_status") != "up":
            assert time.time() < deadline, "replica never synced"
            time.sleep(0.1)
        assert m.execute_command("FUNCTION", "LOAD", LIB) == b"mylib"
        assert m.execute_command("FCALL", "set_get", 1, "k", "v1") == b"v1"
        m.execute_command("WAIT", 1, 5000)
        deadline = time.time() + 10
        while s.get("k") != b"v1":
            assert time.time() < deadline, "FCALL effects never reached the replica"
            time.sleep(0.05)
        assert _libs(s) == _libs(m)
        assert s.execute_command("FCALL_RO", "ro_get", 1, "k") == b"v1"
        with pytest.raises(redis.ResponseError, match="^You can't write against a read only"):
            s.execute_command("FCALL", "set_get", 1, "k", "v2")
        m.execute_command("FUNCTION", "FLUSH")
        m.execute_command("WAIT", 1, 5000)
        deadline = time.time() + 10
        while s.execute_command("FUNCTION", "LIST"):
            assert time.time() < deadline, "FUNCTION FLUSH never reached the replica"
            time.sleep(0.05)
        m.close()
        s.close()
    finally:
        if replica is not None:
            replica.stop()
        master.stop()


@pytest.mark.parametrize("preamble", ["yes", "no"])
def test_aof_rewrite_keeps_libraries(tmp_path, preamble):
    """BGREWRITEAOF writes the libraries (in the RDB preamble, or as FUNCTION LOAD commands
    at the head of a command-only BASE) and a restart from the AOF has them back."""
    from conftest import ServerProc

    code = "#!lua name=aoflib\nredis.register_function('hello', function() return 'hi' end)"
    args = ("--appendonly", "yes", "--aof-use-rdb-preamble", preamble)
    sp = ServerProc.start_tracered(*args, workdir=str(tmp_path))
    try:
        c = sp.client()
        c.execute_command("FUNCTION", "LOAD", code)
        c.set("k", "v")
        c.execute_command("BGREWRITEAOF")
        deadline = time.time() + 20
        while True:
            i = c.info("persistence")
            if i["aof_rewrites"] >= 1 and not i["aof_rewrite_in_progress"]:
                break
            assert time.time() < deadline, "rewrite did not finish"
            time.sleep(0.05)
    finally:
        sp.stop()
    sp = ServerProc.start_tracered(*args, workdir=str(tmp_path), port=sp.port)
    try:
        c = sp.client()
        assert c.execute_command("FCALL", "hello", "0") == b"hi"
        assert c.get("k") == b"v"
    finally:
        sp.stop()
