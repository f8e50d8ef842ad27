"""Lists (t_list.py) over TCP with redis-py, plus in-process checks of what a socket does
not show: the quicklist layout, propagation rewrites and keyspace events."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import redis
from test_t_hash import InProc, Raw

# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


@pytest.fixture
def raw(r, tracered_server):
    c = Raw(tracered_server.port)
    yield c
    c.close()


@pytest.fixture
def inproc():
    p = InProc()
    yield p
    p.close()


def err(r, *args) -> str:
    with pytest.raises(redis.ResponseError) as e:
        r.execute_command(*args)
    return str(e.value)


# --------------------------------------------------------------------------------------------
# Pushes, LLEN, LRANGE, LINDEX
# --------------------------------------------------------------------------------------------

def test_push_and_range(r):
    assert r.rpush("l", "a", "b", "c") == 3
    assert r.lpush("l", "x", "y") == 5
    assert r.lrange("l", 0, -1) == [b"y", b"x", b"a", b"b", b"c"]
    assert r.llen("l") == 5
    assert r.object("encoding", "l") == b"quicklist"
    assert r.type("l") == b"list"
    assert r.lrange("l", -2, -1) == [b"b", b"c"]
    assert r.lrange("l", 1, 1) == [b"x"]
    assert r.lrange("l", 3, 100) == [b"b", b"c"]
    assert r.lrange("l", -100, 0) == [b"y"]
    assert r.lrange("l", 4, 2) == []
    assert r.lrange("l", 5, 10) == []
    assert r.lrange("l", 0, -6) == []
    assert r.lrange("nokey", 0, -1) == []
    assert r.llen("nokey") == 0


def test_integers_and_binary_round_trip(r):
    vals = [b"0", b"-1", b"127", b"128", b"-4096", b"4095", b"8191", b"-8192", b"32767",
            b"-2147483648", b"9223372036854775807", b"-9223372036854775808",
            b"9223372036854775808", b"007", b"-0", b"+1", b" 1", b"1.5", b"", b"\x00\xff",
            b"x" * 63, b"y" * 64, b"z" * 4096, b"w" * 5000]
    r.rpush("l", *vals)
    assert r.lrange("l", 0, -1) == vals
    assert [r.lindex("l", i) for i in range(len(vals))] == vals
    assert r.lpop("l", len(vals)) == vals


def test_pushx(r):
    assert r.lpushx("l", "a") == 0
    assert r.rpushx("l", "a", "b") == 0
    assert r.exists("l") == 0
    r.rpush("l", "m")
    assert r.lpushx("l", "a", "b") == 3
    assert r.rpushx("l", "y", "z") == 5
    assert r.lrange("l", 0, -1) == [b"b", b"a", b"m", b"y", b"z"]


def test_wrongtype_everywhere(r):
    r.set("s", "v")
    wt = "WRONGTYPE Operation against a key holding the wrong kind of value"
    for args in (("LPUSH", "s", "a"), ("RPUSHX", "s", "a"), ("LLEN", "s"),
                 ("LRANGE", "s", 0, 1), ("LINDEX", "s", 0), ("LSET", "s", 0, "x"),
                 ("LINSERT", "s", "BEFORE", "a", "b"), ("LREM", "s", 0, "a"),
                 ("LTRIM", "s", 0, 1), ("LPOS", "s", "a"), ("LPOP", "s"), ("RPOP", "s", 2),
                 ("LMOVE", "s", "d", "LEFT", "LEFT"), ("RPOPLPUSH", "s", "d"),
                 ("LMPOP", 1, "s", "LEFT"), ("BLPOP", "s", 0), ("BLMPOP", 0, 1, "s", "LEFT"),
                 ("BLMOVE", "s", "d", "LEFT", "LEFT", 0), ("BRPOPLPUSH", "s", "d", 0)):
        assert err(r, *args) == wt, args
    r.rpush("l", "a")
    assert err(r, "LMOVE", "l", "s", "LEFT", "LEFT") == wt
    assert r.lrange("l", 0, -1) == [b"a"]


def test_lindex_lset(r):
    assert r.lindex("nokey", 0) is None
    assert r.lindex("nokey", "notanint") is None  # the key is looked up first
    r.rpush("l", "a", "b", "c")
    assert r.lindex("l", 0) == b"a"
    assert r.lindex("l", -1) == b"c"
    assert r.lindex("l", 3) is None
    assert r.lindex("l", -4) is None
    assert err(r, "LINDEX", "l", "x") == "value is not an integer or out of range"
    assert r.lset("l", 1, "B") is True
    assert r.lset("l", -1, "C") is True
    assert r.lrange("l", 0, -1) == [b"a", b"B", b"C"]
    assert err(r, "LSET", "l", 3, "x") == "index out of range"
    assert err(r, "LSET", "l", "x", "x") == "value is not an integer or out of range"
    assert err(r, "LSET", "nokey", 0, "x") == "no such key"


def test_linsert(r):
    assert r.linsert("nokey", "before", "a", "b") == 0
    r.rpush("l", "a", "b", "c", "5")
    assert r.linsert("l", "BEFORE", "b", "x") == 5
    assert r.linsert("l", "after", "c", "y") == 6
    assert r.linsert("l", "after", "zz", "y") == -1
    assert r.linsert("l", "after", "5", "6") == 7  # integer-encoded pivot
    assert r.lrange("l", 0, -1) == [b"a", b"x", b"b", b"c", b"y", b"5", b"6"]
    assert err(r, "LINSERT", "l", "middle", "a", "b") == "syntax error"
    assert err(r, "LINSERT", "nokey", "middle", "a", "b") == "syntax error"


# --------------------------------------------------------------------------------------------
# Pops
# --------------------------------------------------------------------------------------------

def test_pop_single_and_count(r):
    r.rpush("l", "a", "b", "c", "d", "e")
    assert r.lpop("l") == b"a"
    assert r.rpop("l") == b"e"
    assert r.lpop("l", 2) == [b"b", b"c"]
    assert r.rpop("l", 0) == []
    assert r.rpop("l", 5) == [b"d"]
    assert r.exists("l") == 0
    assert r.lpop("l") is None
    assert r.lpop("l", 2) is None
    assert r.rpop("l", 0) is None  # missing key: null array even for 0


def test_pop_errors(r):
    assert err(r, "LPOP", "l", "-1") == "value is out of range, must be positive"
    assert err(r, "LPOP", "l", "x") == "value is out of range, must be positive"
    assert err(r, "RPOP", "l", "1", "2") == "wrong number of arguments for 'rpop' command"


def test_pop_reply_shapes_resp2_resp3(raw):
    assert raw("LPOP", "l") == b"$-1\r\n"
    assert raw("LPOP", "l", "1") == b"*-1\r\n"
    raw("RPUSH", "l", "a", "1")
    assert raw("RPOP", "l", "5") == b"*2\r\n$1\r\n1\r\n$1\r\na\r\n"
    raw("HELLO", "3")
    assert raw("LPOP", "l") == b"_\r\n"
    assert raw("LPOP", "l", "1") == b"_\r\n"
    assert raw("LINDEX", "l", "0") == b"_\r\n"
    assert raw("LMPOP", "1", "l", "LEFT") == b"_\r\n"
    assert raw("BLPOP", "l", "0.01") == b"_\r\n"


def test_lmpop(r):
    r.rpush("b", "1", "2", "3")
    assert r.execute_command("LMPOP", 2, "a", "b", "LEFT") == [b"b", [b"1"]]
    assert r.execute_command("LMPOP", 2, "a", "b", "RIGHT", "COUNT", 10) == [b"b", [b"3", b"2"]]
    assert r.exists("b") == 0
    assert r.execute_command("LMPOP", 1, "b", "LEFT") is None
    assert err(r, "LMPOP", 0, "a", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "LMPOP", "x", "a", "LEFT") == "numkeys should be greater than 0"
    assert err(r, "LMPOP", 3, "a", "LEFT") == "syntax error"
    assert err(r, "LMPOP", 1, "a", "UP") == "syntax error"
    assert err(r, "LMPOP", 1, "a", "LEFT", "COUNT") == "syntax error"
    assert err(r, "LMPOP", 1, "a", "LEFT", "COUNT", 0) == "count should be greater than 0"
    assert err(r, "LMPOP", 1, "a", "LEFT", "COUNT", 1, "COUNT", 1) == "syntax error"


def test_lmove_rpoplpush(r):
    assert r.lmove("a", "b") is None
    r.rpush("a", "1", "2", "3")
    assert r.lmove("a", "b", "LEFT", "RIGHT") == b"1"
    assert r.rpoplpush("a", "b") == b"3"
    assert r.lrange("b", 0, -1) == [b"3", b"1"]
    assert r.lmove("a", "a", "LEFT", "RIGHT") == b"2"  # one element rotates onto itself
    assert r.lrange("a", 0, -1) == [b"2"]
    r.rpush("a", "x", "y")
    assert r.lmove("a", "a", "RIGHT", "LEFT") == b"y"
    assert r.lrange("a", 0, -1) == [b"y", b"2", b"x"]
    assert r.lmove("a", "c", "RIGHT", "RIGHT") == b"x"
    assert r.lmove("a", "c", "RIGHT", "RIGHT") == b"2"
    assert r.lmove("a", "c", "RIGHT", "RIGHT") == b"y"
    assert r.exists("a") == 0
    assert err(r, "LMOVE", "a", "c", "UP", "LEFT") == "syntax error"
    assert err(r, "LMOVE", "a", "c", "LEFT", "DOWN") == "syntax error"


# --------------------------------------------------------------------------------------------
# LTRIM LREM LPOS
# --------------------------------------------------------------------------------------------

def test_ltrim(r):
    assert r.ltrim("nokey", 0, 1) is True
    r.rpush("l", *"abcdef")
    assert r.ltrim("l", 1, -2) is True
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"d", b"e"]
    assert r.ltrim("l", -100, 100) is True
    assert r.llen("l") == 4
    assert r.ltrim("l", 2, 1) is True
    assert r.exists("l") == 0
    assert err(r, "LTRIM", "l", "a", 1) == "value is not an integer or out of range"


def test_lrem(r):
    assert r.lrem("nokey", 0, "a") == 0
    r.rpush("l", *"abacada")
    assert r.lrem("l", 2, "a") == 2
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"d", b"a"]
    assert r.lrem("l", -1, "a") == 1
    assert r.lrange("l", 0, -1) == [b"b", b"c", b"a", b"d"]
    assert r.lrem("l", 0, "a") == 1
    assert r.lrem("l", 0, "zz") == 0
    r.rpush("n", "1", "01", "1")
    assert r.lrem("n", 0, "1") == 2  # integer-encoded entries compare as numbers' text
    assert r.lrange("n", 0, -1) == [b"01"]
    assert r.lrem("n", 0, "01") == 1
    assert r.exists("n") == 0
    assert err(r, "LREM", "l", "x", "a") == "value is not an integer or out of range"


def test_lpos(r):
    assert r.lpos("nokey", "a") is None
    assert r.lpos("nokey", "a", count=0) == []
    r.rpush("l", *"abcabcab")
    assert r.lpos("l", "a") == 0
    assert r.lpos("l", "c") == 2
    assert r.lpos("l", "z") is None
    assert r.lpos("l", "a", rank=2) == 3
    assert r.lpos("l", "a", rank=-1) == 6
    assert r.lpos("l", "a", rank=-2) == 3
    assert r.lpos("l", "a", count=0) == [0, 3, 6]
    assert r.lpos("l", "a", count=2) == [0, 3]
    assert r.lpos("l", "a", rank=-1, count=0) == [6, 3, 0]
    assert r.lpos("l", "b", count=0, maxlen=5) == [1, 4]
    assert r.lpos("l", "b", rank=2, maxlen=3) is None
    assert r.lpos("l", "z", count=3) == []
    assert err(r, "LPOS", "l", "a", "RANK", 0).startswith("RANK can't be zero")
    assert err(r, "LPOS", "l", "a", "COUNT", -1) == "COUNT can't be negative"
    assert err(r, "LPOS", "l", "a", "MAXLEN", -1) == "MAXLEN can't be negative"
    assert err(r, "LPOS", "l", "a", "RANK") == "syntax error"
    assert err(r, "LPOS", "l", "a", "FOO", 1) == "syntax error"
    assert err(r, "LPOS", "l", "a", "RANK", "x") == "value is not an integer or out of range"


# --------------------------------------------------------------------------------------------
# Encoding: quicklist nodes follow list-max-listpack-size and list-compress-depth
# --------------------------------------------------------------------------------------------

def test_options_apply_to_new_lists(inproc):
    p = inproc
    srv = p.sm.server
    saved = (srv.list_max_listpack_size, srv.list_compress_depth)
    try:
        srv.list_max_listpack_size, srv.list_compress_depth = 4, 1
        p("RPUSH", "l", *[b"element-%03d-padding-padding-padding" % i for i in range(20)])
        ql = p.value(b"l").ptr
        assert (ql.fill, ql.compress, ql.len) == (4, 1, 5)
        assert [n.count for n in ql.nodes()] == [4, 4, 4, 4, 4]
        encs = [n.encoding for n in ql.nodes()]
        assert encs[0] == encs[-1] == 1 and 2 in encs  # ends raw, inner LZF
        # Reading a compressed middle keeps the layout and returns the right data.
        assert p("LINDEX", "l", "9") == b"$35\r\nelement-009-padding-padding-padding\r\n"
        assert p("LRANGE", "l", "7", "8").count(b"element-00") == 2
        assert [n.encoding for n in ql.nodes()] == encs
        srv.list_max_listpack_size = -2
        p("RPUSH", "l", "x")  # existing lists keep their options
        assert ql.fill == 4
    finally:
        srv.list_max_listpack_size, srv.list_compress_depth = saved


def test_memory_usage_follows_nodes(r):
    r.rpush("l", *[f"value-{i}" for i in range(10)])
    small = r.memory_usage("l")
    # robj 16 + quicklist 40 + node 40 + the listpack's allocation class
    assert 96 < small < 96 + 256
    r.rpush("l", *[f"value-{i}" for i in range(3000)])
    assert r.memory_usage("l", samples=0) > 3000 * 8


def test_copy_and_digest_value(r):
    r.rpush("l", "a", "1", "b")
    assert r.copy("l", "m") is True
    r.rpush("m", "c")
    assert r.lrange("l", 0, -1) == [b"a", b"1", b"b"]
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "l") != \
        r.execute_command("DEBUG", "DIGEST-VALUE", "m")
    r.rpop("m")
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "l") == \
        r.execute_command("DEBUG", "DIGEST-VALUE", "m")


# --------------------------------------------------------------------------------------------
# In process: propagation rewrites, keyspace events, dirty
# --------------------------------------------------------------------------------------------

def test_propagated_forms(inproc):
    p = inproc
    p("RPUSH", "l", "a", "b", "c", "d")
    p("LMPOP", "2", "x", "l", "LEFT", "COUNT", "3")
    p("BLPOP", "x", "l", "0")
    p("RPUSH", "l", "e", "f", "g")
    p("BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "9")
    p("RPUSH", "s", "1", "2")
    p("BLMOVE", "s", "d", "LEFT", "RIGHT", "0")
    p("BRPOPLPUSH", "s", "d", "0")
    assert p.propagated == [
        [b"RPUSH", b"l", b"a", b"b", b"c", b"d"],
        [b"LPOP", b"l", b"3"],
        [b"LPOP", b"l"],
        [b"RPUSH", b"l", b"e", b"f", b"g"],
        [b"RPOP", b"l", b"3"],
        [b"RPUSH", b"s", b"1", b"2"],
        [b"LMOVE", b"s", b"d", b"LEFT", b"RIGHT"],
        [b"RPOPLPUSH", b"s", b"d"],
    ]
    p.propagated.clear()
    # Nothing changed, nothing propagated.
    p("LPOP", "nokey")
    p("LREM", "d", "0", "zz")
    p("LINSERT", "d", "BEFORE", "zz", "a")
    assert p.propagated == []


def test_keyspace_events(inproc):
    p = inproc
    p("RPUSH", "l", "a", "b")
    p("LPUSH", "l", "z")
    p("LINSERT", "l", "AFTER", "a", "x")
    p("LSET", "l", "0", "y")
    p("LREM", "l", "1", "x")
    p("LTRIM", "l", "0", "1")
    p("LMOVE", "l", "m", "RIGHT", "LEFT")
    p("RPOP", "l", "5")
    assert p.events == [
        ("new", b"l"), ("rpush", b"l"), ("lpush", b"l"), ("linsert", b"l"), ("lset", b"l"),
        ("lrem", b"l"), ("ltrim", b"l"), ("new", b"m"), ("lpush", b"m"), ("rpop", b"l"),
        ("rpop", b"l"), ("del", b"l"),
    ]


def test_dirty_counts(inproc):
    p = inproc
    srv = p.sm.server
    d0 = srv.dirty
    p("RPUSH", "l", "a", "b", "c", "d")
    assert srv.dirty - d0 == 4
    p("LTRIM", "l", "1", "1")
    assert srv.dirty - d0 == 7
    p("LPOP", "l", "3")
    assert srv.dirty - d0 == 8


def test_probes_are_registered():
    from tracered import blocked, t_list  # noqa: F401
    from tracered.trace import probes

    for name in ("createQuicklistObject", "listTypePush", "blockForKeys",
                 "handleClientsBlockedOnKeys"):
        assert probes.CATALOGUE[name].fn is not None, name


# --------------------------------------------------------------------------------------------
# redis-benchmark's list tests run clean
# --------------------------------------------------------------------------------------------

@pytest.mark.skipif(shutil.which("redis-benchmark") is None, reason="redis-benchmark missing")
def test_redis_benchmark_list_suite(tracered_server, r):
    out = subprocess.run(
        ["redis-benchmark", "-p", str(tracered_server.port), "-t",
         "lpush,rpush,lpop,rpop,lrange", "-n", "2000", "-q"],
        capture_output=True, text=True, timeout=80)
    text = out.stdout.replace("\r", "\n") + out.stderr
    assert out.returncode == 0, text
    assert "rror" not in text, text
    done = [ln for ln in text.splitlines() if "requests per second" in ln]
    assert any(ln.startswith("LPUSH") for ln in done), text
    assert any(ln.startswith("LRANGE_600") for ln in done), text
    assert r.ping()
