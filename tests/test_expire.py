"""expire.c over TCP: EXPIRE PEXPIRE EXPIREAT PEXPIREAT (NX XX GT LT), TTL PTTL EXPIRETIME
PEXPIRETIME PERSIST TOUCH, lazy and active expiry; and, in-process, what these commands
propagate to the AOF/replicas (absolute PEXPIREAT, DEL for a TTL in the past).
"""

from __future__ import annotations

import time

import pytest
import redis


def err(r: redis.Redis, *args) -> str:
    with pytest.raises(redis.ResponseError) as ei:
        r.execute_command(*args)
    return str(ei.value)


def now_ms() -> int:
    return int(time.time() * 1000)


# --------------------------------------------------------------------------------------------
# Setting TTLs
# --------------------------------------------------------------------------------------------

def test_expire_and_ttl(r):
    assert r.expire("nokey", 100) is False
    r.set("k", "v")
    assert r.ttl("k") == -1 and r.pttl("k") == -1
    assert r.expiretime("k") == -1
    assert r.ttl("nokey") == -2 and r.pttl("nokey") == -2
    assert r.execute_command("PEXPIRETIME", "nokey") == -2
    assert r.expire("k", 100) is True
    assert r.ttl("k") == 100
    assert 99000 < r.pttl("k") <= 100000
    t = r.execute_command("PEXPIRETIME", "k")
    assert abs(t - (now_ms() + 100000)) < 2000
    assert r.expiretime("k") == (t + 500) // 1000  # ttlGenericCommand rounds to the nearest s
    assert r.pexpire("k", 5000) is True
    assert 4000 < r.pttl("k") <= 5000
    assert r.ttl("k") == 5


def test_ttl_rounds_to_nearest_second(r):
    r.set("k", 1)
    r.pexpire("k", 1600)
    assert r.ttl("k") == 2  # (ttl + 500) / 1000
    r.pexpire("k", 1400)
    assert r.ttl("k") == 1


def test_expireat_absolute(r):
    r.set("k", 1)
    at = int(time.time()) + 1000
    assert r.expireat("k", at) is True
    assert r.expiretime("k") == at
    assert r.execute_command("PEXPIRETIME", "k") == at * 1000
    assert r.pexpireat("k", at * 1000 + 123) is True
    assert r.execute_command("PEXPIRETIME", "k") == at * 1000 + 123
    assert r.expiretime("k") == at


def test_expire_in_the_past_deletes(r):
    for cmd_args in (("EXPIRE", "k", "-1"), ("EXPIRE", "k", "0"), ("PEXPIRE", "k", "-100"),
                     ("EXPIREAT", "k", "100"), ("PEXPIREAT", "k", "1")):
        r.set("k", 1)
        assert r.execute_command(*cmd_args) == 1, cmd_args
        assert r.exists("k") == 0, cmd_args


def test_expire_options(r):
    r.set("k", 1)
    assert r.expire("k", 100, xx=True) is False     # no TTL yet
    assert r.expire("k", 100, gt=True) is False     # no TTL counts as infinite
    assert r.expire("k", 100, nx=True) is True
    assert r.expire("k", 200, nx=True) is False
    assert r.expire("k", 50, gt=True) is False
    assert r.expire("k", 200, gt=True) is True
    assert r.ttl("k") == 200
    assert r.expire("k", 300, lt=True) is False
    assert r.expire("k", 150, lt=True) is True
    assert r.expire("k", 120, xx=True) is True
    assert r.ttl("k") == 120
    r.persist("k")
    assert r.expire("k", 100, lt=True) is True      # infinite > anything
    assert r.execute_command("EXPIRE", "k", "10", "xx", "GT") == 0
    assert r.execute_command("EXPIRE", "k", "1000", "Xx", "gt") == 1


def test_expire_errors(r):
    r.set("k", 1)
    assert err(r, "EXPIRE", "k", "10", "NX", "XX") == \
        "NX and XX, GT or LT options at the same time are not compatible"
    assert err(r, "EXPIRE", "k", "10", "NX", "GT") == \
        "NX and XX, GT or LT options at the same time are not compatible"
    assert err(r, "PEXPIRE", "k", "10", "LT", "NX") == \
        "NX and XX, GT or LT options at the same time are not compatible"
    assert err(r, "EXPIRE", "k", "10", "GT", "LT") == \
        "GT and LT options at the same time are not compatible"
    assert err(r, "EXPIRE", "k", "10", "FOO") == "Unsupported option FOO"
    assert err(r, "EXPIRE", "k", "abc") == "value is not an integer or out of range"
    assert err(r, "EXPIRE", "k", "1.5") == "value is not an integer or out of range"
    assert err(r, "EXPIRE", "k", "9223372036854776") == \
        "invalid expire time in 'expire' command"
    assert err(r, "EXPIREAT", "k", "-9223372036854776") == \
        "invalid expire time in 'expireat' command"
    assert err(r, "PEXPIRE", "k", "9223372036854775807") == \
        "invalid expire time in 'pexpire' command"
    assert err(r, "EXPIRE", "k") == "wrong number of arguments for 'expire' command"
    # Errors are detected before the key is looked up, and change nothing.
    assert r.ttl("k") == -1
    # An absolute time at the edge of the range is fine.
    assert r.pexpireat("k", 9223372036854775807) is True
    assert r.execute_command("PEXPIRETIME", "k") == 9223372036854775807


def test_persist(r):
    assert r.persist("nokey") is False
    r.set("k", 1)
    assert r.persist("k") is False
    r.expire("k", 100)
    assert r.persist("k") is True
    assert r.ttl("k") == -1


def test_touch(r):
    r.mset({"a": 1, "b": 2})
    assert r.touch("a", "b", "c", "a") == 3


def test_set_clears_ttl_and_keepttl(r):
    r.set("k", 1, ex=100)
    r.set("k", 2)
    assert r.ttl("k") == -1
    r.set("k", 1, ex=100)
    r.set("k", 3, keepttl=True)
    assert r.ttl("k") == 100


# --------------------------------------------------------------------------------------------
# Lazy and active expiry
# --------------------------------------------------------------------------------------------

def test_lazy_expire(r):
    r.set("k", "v", px=300)
    assert r.get("k") == b"v"
    time.sleep(0.35)
    assert r.get("k") is None
    assert r.ttl("k") == -2
    assert r.exists("k") == 0


def test_active_expire_removes_untouched_keys(r):
    n = 2000
    p = r.pipeline(transaction=False)
    for i in range(n):
        p.set(f"vol:{i}", i, px=1500 + i % 200)
    for i in range(50):
        p.set(f"keep:{i}", i)
    p.execute()
    assert r.dbsize() == n + 50
    deadline = time.monotonic() + 8.0
    while r.dbsize() > 50 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert r.dbsize() == 50  # only DBSIZE was asked: the cron cycle deleted them
    try:
        keyspace = r.info("keyspace")
    except redis.ResponseError:
        keyspace = None  # INFO arrives with info.py
    if keyspace is not None:
        assert keyspace["db0"]["keys"] == 50 and keyspace["db0"]["expires"] == 0
    assert sorted(r.keys("vol:*")) == []


def _debug_available(r) -> bool:
    try:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        return True
    except redis.ResponseError:
        return False


def test_debug_set_active_expire_stops_cycle(r):
    if not _debug_available(r):
        pytest.skip("DEBUG SET-ACTIVE-EXPIRE not available yet (debug.py)")
    try:
        assert r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "0") in (b"OK", True, "OK")
        p = r.pipeline(transaction=False)
        for i in range(300):
            p.set(f"vol:{i}", i, px=50)
        p.execute()
        time.sleep(0.6)
        assert r.dbsize() == 300  # nothing deleted them
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")
        deadline = time.monotonic() + 3.0
        while r.dbsize() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert r.dbsize() == 0
    finally:
        r.execute_command("DEBUG", "SET-ACTIVE-EXPIRE", "1")


# --------------------------------------------------------------------------------------------
# Propagation, in-process: what call() hands to the AOF/replication hooks
# --------------------------------------------------------------------------------------------

class InProcess:
    """A server state in this process, driven through processCommand/call with a fake
    client, recording what gets propagated."""

    def __init__(self) -> None:
        from tracered import commands
        from tracered import db as dbmod
        from tracered import networking as net
        from tracered import server as sm

        self.sm = sm
        self.net = net
        srv = sm.server
        self.srv = srv
        if not srv.db:
            srv.db = [dbmod.RedisDb(i) for i in range(srv.databases)]
        if not commands.commands:
            commands.populate_command_table(sm.all_command_tables())
        net.server = srv
        self.c = net.create_client(None)
        self.propagated: list = []
        self.hook = lambda dbid, argv, target: self.propagated.append(list(argv))
        srv.propagate_hooks.append(self.hook)

    def close(self) -> None:
        self.srv.propagate_hooks.remove(self.hook)
        for db in self.srv.db:
            db.dict.__init__()
            db.expires.__init__()

    def run(self, *args) -> bytes:
        c = self.c
        c.argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        c.reply = []
        c.reply_bytes = 0
        self.srv.current_client = c
        try:
            self.sm.process_command(c)
        finally:
            self.srv.current_client = None
        return b"".join(c.reply)


@pytest.fixture
def inproc():
    ip = InProcess()
    yield ip
    ip.close()


def test_propagation_of_expire_commands(inproc):
    ip = inproc
    ip.run("SET", "k", "v")
    ip.propagated.clear()
    before = now_ms()
    assert ip.run("EXPIRE", "k", "100") == b":1\r\n"
    assert ip.run("PEXPIRE", "k", "5000", "GT") == b":0\r\n"  # refused: not propagated
    assert ip.run("PEXPIRE", "k", "200000", "GT") == b":1\r\n"
    assert ip.run("EXPIREAT", "k", "4000000000") == b":1\r\n"
    assert ip.run("PEXPIREAT", "k", "4000000000123") == b":1\r\n"
    after = now_ms()
    p = ip.propagated
    assert [a[0] for a in p] == [b"PEXPIREAT"] * 4
    assert p[0][1] == b"k" and before + 100000 <= int(p[0][2]) <= after + 100000
    assert p[1][3] == b"GT" and before + 200000 <= int(p[1][2]) <= after + 200000
    assert p[2] == [b"PEXPIREAT", b"k", b"4000000000000"]
    assert p[3] == [b"PEXPIREAT", b"k", b"4000000000123"]


def test_propagation_of_expire_in_the_past_and_lazy_expire(inproc):
    ip = inproc
    ip.run("SET", "k", "v")
    ip.propagated.clear()
    assert ip.run("EXPIRE", "k", "-5") == b":1\r\n"
    assert ip.propagated == [[b"DEL", b"k"]]
    ip.propagated.clear()
    ip.srv.lazyfree_lazy_expire = True
    try:
        ip.run("SET", "k", "v")
        ip.run("PEXPIREAT", "k", "1")
        assert ip.propagated[-1] == [b"UNLINK", b"k"]
    finally:
        ip.srv.lazyfree_lazy_expire = False
    # Lazy expiry on access propagates a DEL; the read itself is not propagated.
    ip.run("SET", "lazy", "v", "PX", "20")
    time.sleep(0.05)
    ip.propagated.clear()
    assert ip.run("GET", "lazy") == b"$-1\r\n"
    assert ip.propagated == [[b"DEL", b"lazy"]]


def test_propagation_of_keyspace_writes(inproc):
    ip = inproc
    ip.run("SET", "a", "1")
    ip.propagated.clear()
    ip.run("DEL", "a", "nokey")
    ip.run("DEL", "nokey")          # nothing deleted: dirty unchanged, not propagated
    ip.run("PERSIST", "nokey")
    ip.run("SET", "b", "1")
    ip.run("RENAME", "b", "c")
    assert ip.propagated == [[b"DEL", b"a", b"nokey"], [b"SET", b"b", b"1"],
                             [b"RENAME", b"b", b"c"]]
    # FLUSHALL on an empty dataset asks call() to propagate anyway (forceCommandPropagation).
    ip.run("FLUSHALL")
    from tracered import networking as net

    assert ip.propagated[-1] == [b"FLUSHALL"]
    # ... and the per-call force flags do not outlive the call, as in Redis's call().
    assert not ip.c.flags & (net.CLIENT_FORCE_REPL | net.CLIENT_FORCE_AOF)
