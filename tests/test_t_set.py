"""Set commands (tracered/t_set.py) over TCP with redis-py, plus in-process checks of the
intset bytes, conversion probes and events, SPOP's propagation as SREM/DEL and keyspace
notifications.

Error texts are Redis 7.0.15's, byte for byte.
"""

from __future__ import annotations

import pytest
import redis
from test_t_hash import InProc, Raw, _Sink, enc, err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "value is not an integer or out of range"


@pytest.fixture
def raw(r, tracered_server):
    c = Raw(tracered_server.port)
    yield c
    c.close()


@pytest.fixture
def plain(r):
    """The ``r`` client without redis-py's reply conversions."""
    r.response_callbacks.clear()
    return r


@pytest.fixture
def inproc():
    p = InProc()
    yield p
    p.close()


# --------------------------------------------------------------------------------------------
# SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS
# --------------------------------------------------------------------------------------------

def test_sadd_srem_basic(r):
    assert r.sadd("s", "1", "2", "3", "2") == 3
    assert r.sadd("s", "3", "4") == 1
    assert r.scard("s") == 4
    assert r.scard("nokey") == 0
    assert r.sismember("s", "2") == 1
    assert r.sismember("s", "5") == 0
    assert r.sismember("nokey", "5") == 0
    assert r.smismember("s", "1", "9", "4") == [1, 0, 1]
    assert r.smismember("nokey", "1", "2") == [0, 0]
    assert r.srem("s", "1", "9", "1") == 1
    assert r.srem("nokey", "1") == 0
    assert r.srem("s", "2", "3", "4", "5") == 3
    assert not r.exists("s")


def test_wrongtype_and_arity(r):
    r.set("str", "x")
    r.sadd("s", "a")
    for args in (("SADD", "str", "a"), ("SREM", "str", "a"), ("SCARD", "str"),
                 ("SISMEMBER", "str", "a"), ("SMISMEMBER", "str", "a"), ("SMEMBERS", "str"),
                 ("SPOP", "str"), ("SPOP", "str", "2"), ("SRANDMEMBER", "str"),
                 ("SRANDMEMBER", "str", "2"), ("SINTER", "s", "str"), ("SUNION", "s", "str"),
                 ("SDIFF", "s", "str"), ("SINTERSTORE", "d", "s", "str"),
                 ("SUNIONSTORE", "d", "s", "str"), ("SDIFFSTORE", "d", "s", "str"),
                 ("SINTERCARD", "2", "s", "str"), ("SSCAN", "str", "0"),
                 ("SMOVE", "str", "s", "a"), ("SMOVE", "s", "str", "a")):
        assert err(r, *args) == WRONGTYPE, args
    # A missing key before a wrong-typed one still errors (every key is checked).
    assert err(r, "SINTER", "nokey", "str") == WRONGTYPE
    assert err(r, "SADD", "s") == "wrong number of arguments for 'sadd' command"
    assert err(r, "SPOP", "s", "1", "2") == "syntax error"
    assert err(r, "SRANDMEMBER", "s", "1", "2") == "syntax error"
    assert not r.exists("d")


def test_smembers_intset_sorted(r, raw):
    r.sadd("s", "5", "-3", "100000", "0", "70000000000")
    assert raw("SMEMBERS", "s") == (b"*5\r\n$2\r\n-3\r\n$1\r\n0\r\n$1\r\n5\r\n$6\r\n100000\r\n"
                                    b"$11\r\n70000000000\r\n")
    assert raw("SMEMBERS", "nokey") == b"*0\r\n"
    raw("HELLO", "3")
    assert raw("SMEMBERS", "s")[:4] == b"~5\r\n"
    assert raw("SMEMBERS", "nokey") == b"~0\r\n"
    assert raw("SINTER", "s", "nokey") == b"~0\r\n"
    assert raw("SUNION", "nokey") == b"~0\r\n"


def test_member_parsing_decides_encoding(r):
    r.sadd("i", "1", "-9223372036854775808", "9223372036854775807")
    assert enc(r, "i") == b"intset"
    for odd in ("+1", "01", "-0", " 1", "1.0", "9223372036854775808", ""):
        r.delete("o")
        r.sadd("o", odd)
        assert enc(r, "o") == b"hashtable", odd
        assert r.sismember("o", odd)
    r.sadd("i", "007")
    assert enc(r, "i") == b"hashtable"
    assert r.sismember("i", "007") and not r.sismember("i", "7")
    assert r.sismember("i", "1")


def test_intset_to_hashtable_on_size(r):
    r.sadd("s", *range(512))
    assert enc(r, "s") == b"intset"
    r.sadd("s", 512)
    assert enc(r, "s") == b"hashtable"
    r.srem("s", *range(1, 513))
    assert enc(r, "s") == b"hashtable"  # never back to intset
    assert r.smembers("s") == {b"0"}


def test_smove(r):
    r.sadd("a", "1", "2", "x")
    assert r.smove("a", "b", "1") is True
    assert enc(r, "b") == b"intset"
    assert r.smove("a", "b", "nope") is False
    assert r.smove("nokey", "b", "1") is False
    assert r.smove("a", "a", "2") is True  # same key: membership only
    assert r.smove("a", "a", "9") is False
    assert r.smove("a", "b", "x") is True
    assert enc(r, "b") == b"hashtable"
    assert r.smove("a", "b", "2") is True
    assert not r.exists("a")
    assert r.smembers("b") == {b"1", b"2", b"x"}
    r.sadd("c", "1")
    assert r.smove("c", "b", "1") is True  # already in the destination
    assert not r.exists("c")
    assert r.scard("b") == 3
    r.set("str", "v")
    assert r.smove("nokey", "str", "1") is False  # missing source wins over wrong type


# --------------------------------------------------------------------------------------------
# SPOP SRANDMEMBER
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["intset", "hashtable"])
def test_spop_all_strategies(r, kind):
    members = [str(i) if kind == "intset" else f"m{i}" for i in range(100)]
    for count in (0, 1, 5, 30, 90, 99, 100, 150):
        r.delete("s")
        r.sadd("s", *members)
        got = r.spop("s", count)
        assert len(got) == min(count, 100)
        assert len(set(got)) == len(got)
        assert set(got) <= {m.encode() for m in members}
        left = r.smembers("s")
        assert not (left & set(got))
        assert len(left) + len(got) == 100
    r.delete("s")
    r.sadd("s", *members[:3])
    one = r.spop("s")
    assert one in {m.encode() for m in members[:3]}
    assert r.spop("s", 10) and not r.exists("s")
    assert r.spop("nokey") is None
    assert r.spop("nokey", 3) == []


def test_spop_remaining_strategy_rebuilds_as_intset(r):
    # 600 integers: a hashtable.  Popping 590 keeps 10, rebuilt from scratch: an intset.
    r.sadd("s", *range(600))
    assert enc(r, "s") == b"hashtable"
    assert len(r.spop("s", 590)) == 590
    assert r.scard("s") == 10
    assert enc(r, "s") == b"intset"


def test_spop_count_errors(r):
    r.sadd("s", "a")
    msg = "value is out of range, must be positive"
    assert err(r, "SPOP", "s", "-1") == msg
    assert err(r, "SPOP", "s", "x") == msg
    assert err(r, "SPOP", "nokey", "x") == msg


@pytest.mark.parametrize("size", [3, 50, 1000])
def test_srandmember(r, size):
    members = {f"m{i}".encode() for i in range(size)}
    r.sadd("s", *members)
    assert r.srandmember("s") in members
    for count in (1, 2, size // 3, size // 2, size - 1, size, size + 10):
        got = r.srandmember("s", count)
        assert len(got) == min(count, size)
        assert len(set(got)) == len(got) and set(got) <= members
    got = r.srandmember("s", -2 * size)
    assert len(got) == 2 * size and set(got) <= members
    assert r.srandmember("s", 0) == []
    assert r.scard("s") == size


def test_srandmember_errors_and_missing(r):
    assert r.srandmember("nokey") is None
    assert r.srandmember("nokey", 5) == []
    r.sadd("s", "1")
    assert err(r, "SRANDMEMBER", "s", "x") == NOT_INT
    assert err(r, "SRANDMEMBER", "s", "-9223372036854775808") == \
        "value is out of range, value must between -9223372036854775807 and 9223372036854775807"
    assert err(r, "SRANDMEMBER", "nokey", "x") == NOT_INT
    got = r.srandmember("s", -5)
    assert got == [b"1"] * 5


# --------------------------------------------------------------------------------------------
# SINTER SINTERCARD SUNION SDIFF and *STORE
# --------------------------------------------------------------------------------------------

def test_sinter_sunion_sdiff(r):
    r.sadd("a", 1, 2, 3, 4)
    r.sadd("b", 3, 4, 5)
    r.sadd("c", "x", 3, 4, "y")
    assert r.sinter("a", "b") == {b"3", b"4"}
    assert r.sinter("a", "b", "c") == {b"3", b"4"}
    assert r.sinter("a", "nokey") == set()
    assert r.sinter("a", "a") == {b"1", b"2", b"3", b"4"}
    assert r.sunion("a", "b", "nokey") == {b"1", b"2", b"3", b"4", b"5"}
    assert r.sunion("a", "c") == {b"1", b"2", b"3", b"4", b"x", b"y"}
    assert r.sdiff("a", "b") == {b"1", b"2"}
    assert r.sdiff("c", "a") == {b"x", b"y"}
    assert r.sdiff("a", "a") == set()
    assert r.sdiff("a", "b", "a") == set()
    assert r.sdiff("nokey", "a") == set()
    assert r.sdiff("a", "nokey") == {b"1", b"2", b"3", b"4"}
    # Both SDIFF algorithms: a small first set against big ones, and the reverse.
    r.sadd("big", *range(1000))
    r.sadd("small", 5, 50, 5000)
    assert r.sdiff("small", "big") == {b"5000"}
    assert r.sdiff("big", "small", "a") == {str(i).encode() for i in range(1000)} - \
        {b"1", b"2", b"3", b"4", b"5", b"50"}


def test_sintercard(r):
    r.sadd("a", 1, 2, 3, 4)
    r.sadd("b", 2, 3, 4, 5)
    assert r.sintercard(2, ["a", "b"]) == 3
    assert r.sintercard(2, ["a", "b"], limit=2) == 2
    assert r.sintercard(2, ["a", "b"], limit=0) == 3
    assert r.sintercard(2, ["a", "nokey"]) == 0
    assert r.sintercard(1, ["a"]) == 4
    assert err(r, "SINTERCARD", "0", "a") == "numkeys should be greater than 0"
    assert err(r, "SINTERCARD", "x", "a") == "numkeys should be greater than 0"
    assert err(r, "SINTERCARD", "3", "a", "b") == \
        "Number of keys can't be greater than number of args"
    assert err(r, "SINTERCARD", "1", "a", "LIMIT") == "syntax error"
    assert err(r, "SINTERCARD", "1", "a", "LIMIT", "-1") == "LIMIT can't be negative"
    assert err(r, "SINTERCARD", "1", "a", "LIMIT", "x") == "LIMIT can't be negative"
    assert err(r, "SINTERCARD", "1", "a", "FOO", "1") == "syntax error"
    assert r.execute_command("SINTERCARD", "1", "a", "LIMIT", "1", "limit", "3") == 3


def test_store_variants(r):
    r.sadd("a", 1, 2, 3)
    r.sadd("b", 2, 3, "x")
    assert r.sinterstore("d", "a", "b") == 2
    assert r.smembers("d") == {b"2", b"3"}
    assert enc(r, "d") == b"intset"
    assert r.sunionstore("d", "a", "b") == 4
    assert enc(r, "d") == b"hashtable"
    assert r.sdiffstore("d", "a", "b") == 1
    assert r.smembers("d") == {b"1"} and enc(r, "d") == b"intset"
    r.set("str", "v")
    assert r.sunionstore("str", "a") == 3  # the destination is overwritten whatever it was
    assert r.type("str") == b"set"
    r.expire("d", 100)
    assert r.sinterstore("d", "a", "b") == 2
    assert r.ttl("d") == -1  # a stored result drops the old TTL
    assert r.sinterstore("d", "a", "nokey") == 0
    assert not r.exists("d")
    r.sadd("d", 1)
    assert r.sdiffstore("d", "a", "a") == 0
    assert not r.exists("d")
    r.sadd("d", 1)
    assert r.sinterstore("d", "a", "str", "b") == 2  # "str" is a set now
    # Storing into one of the sources works: the result is built first.
    assert r.sunionstore("a", "a", "b") == 4
    assert r.smembers("a") == {b"1", b"2", b"3", b"x"}


# --------------------------------------------------------------------------------------------
# SSCAN
# --------------------------------------------------------------------------------------------

def test_sscan(plain):
    r = plain
    r.sadd("i", 3, 1, 2)
    assert r.execute_command("SSCAN", "i", "0") == [b"0", [b"1", b"2", b"3"]]
    assert r.execute_command("SSCAN", "i", "0", "MATCH", "2") == [b"0", [b"2"]]
    assert r.execute_command("SSCAN", "nokey", "0") == [b"0", []]
    members = {f"m{i}".encode() for i in range(2000)}
    r.sadd("h", *members)
    seen = set()
    cursor = b"0"
    calls = 0
    while True:
        cursor, items = r.execute_command("SSCAN", "h", cursor, "COUNT", "100")
        seen |= set(items)
        calls += 1
        if cursor == b"0":
            break
    assert seen == members and calls > 5
    assert err(r, "SSCAN", "h", "x") == "invalid cursor"
    assert err(r, "SSCAN", "h", "0", "COUNT", "-1") == "syntax error"


# --------------------------------------------------------------------------------------------
# COPY, MEMORY USAGE, CONFIG SET
# --------------------------------------------------------------------------------------------

def test_copy_keeps_encoding_and_is_deep(r):
    r.sadd("i", 1, 2)
    r.sadd("h", "a", "b")
    assert r.copy("i", "i2") and r.copy("h", "h2")
    assert enc(r, "i2") == b"intset" and enc(r, "h2") == b"hashtable"
    r.sadd("i", 3)
    r.srem("h", "a")
    assert r.smembers("i2") == {b"1", b"2"} and r.smembers("h2") == {b"a", b"b"}


def test_memory_usage(r):
    r.sadd("i", 1)
    small = r.memory_usage("i")
    r.sadd("i", *range(100))
    assert small < r.memory_usage("i")
    r.sadd("h", *[f"member{i}" for i in range(1000)])
    assert r.memory_usage("h") > r.memory_usage("i")


def test_config_set_intset_entries(r):
    try:
        r.config_set("set-max-intset-entries", 3)
        r.sadd("s", 1, 2, 3)
        assert enc(r, "s") == b"intset"
        r.sadd("s", 4)
        assert enc(r, "s") == b"hashtable"
    finally:
        r.config_set("set-max-intset-entries", 512)


# --------------------------------------------------------------------------------------------
# In process: intset bytes, probes, propagation, notifications, hooks
# --------------------------------------------------------------------------------------------

def test_intset_bytes(inproc):
    p = inproc
    p("SADD", "s", "5", "1", "3")
    o = p.value(b"s")
    assert bytes(o.ptr) == b"\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x03\x00\x05\x00"
    p("SADD", "s", "70000")  # upgrade to 32-bit
    assert bytes(o.ptr)[:8] == b"\x04\x00\x00\x00\x04\x00\x00\x00"


def test_probes_and_conversion_event(inproc):
    from tracered.trace import probes

    p = inproc
    sink = _Sink()
    for name in ("createSetObject", "createIntsetObject", "setTypeConvert"):
        assert probes.arm(name, sink)
    try:
        p("SADD", "i", "1")
        p("SADD", "h", "a")
        p("SADD", "i", "b")
    finally:
        probes.remove_sink(sink)
    assert sink.hits == ["createIntsetObject", "createSetObject", "setTypeConvert"]
    conv = [a for n, a in sink.events if n == "encoding.convert"]
    assert len(conv) == 1
    assert (conv[0]["redis.key"], conv[0]["from"], conv[0]["to"]) == ("i", "intset",
                                                                      "hashtable")


def test_spop_propagation(inproc):
    p = inproc
    prop = p.propagated
    p("SADD", "s", *range(20))
    reply = p("SPOP", "s")
    member = reply.split(b"\r\n")[1]
    assert prop[-1] == [b"SREM", b"s", member]
    n = len(prop)
    p("SPOP", "s", "3")  # few of many: popped one by one, each replicated as SREM
    new = prop[n:]
    assert [a[:2] for a in new] == [[b"MULTI"]] + [[b"SREM", b"s"]] * 3 + [[b"EXEC"]] \
        or [a[:2] for a in new] == [[b"SREM", b"s"]] * 3
    n = len(prop)
    p("SPOP", "s", "14")  # most of them: the remaining-elements strategy, same SREMs
    srems = [a for a in prop[n:] if a[0] == b"SREM"]
    assert len(srems) == 14 and not [a for a in prop[n:] if a[0] == b"SPOP"]
    n = len(prop)
    p("SPOP", "s", "10")  # everything: a DEL
    assert prop[n:] == [[b"DEL", b"s"]]


def test_spop_count_does_not_silence_later_commands(inproc):
    p = inproc
    p("SADD", "s", *range(20))
    p("SPOP", "s", "3")
    p("SADD", "t", "x")
    assert p.propagated[-1] == [b"SADD", b"t", b"x"]


def test_keyspace_events(inproc):
    p = inproc
    ev = p.events
    p("SADD", "s", "1", "2", "3")
    assert ev[-2:] == [("new", b"s"), ("sadd", b"s")]
    p("SREM", "s", "1")
    assert ev[-1] == ("srem", b"s")
    p("SMOVE", "s", "t", "2")
    assert ev[-3:] == [("srem", b"s"), ("new", b"t"), ("sadd", b"t")]
    p("SPOP", "s")
    assert ev[-2:] == [("spop", b"s"), ("del", b"s")]
    p("SADD", "a", "1", "2")
    p("SINTERSTORE", "d", "a", "t")
    assert ev[-1] == ("sinterstore", b"d")
    p("SUNIONSTORE", "d", "a", "t")
    assert ev[-1] == ("sunionstore", b"d")
    p("SDIFFSTORE", "d", "a", "t")
    assert ev[-1] == ("sdiffstore", b"d")
    p("SDIFFSTORE", "d", "a", "a")
    assert ev[-1] == ("del", b"d")
    n = len(ev)
    p("SADD", "a", "1")
    p("SREM", "a", "9")
    assert len(ev) == n


def test_dirty_counts(inproc):
    p = inproc
    srv = p.sm.server
    d0 = srv.dirty
    p("SADD", "s", "1", "2", "2")
    assert srv.dirty - d0 == 2
    d0 = srv.dirty
    p("SPOP", "s", "5")
    assert srv.dirty - d0 == 2
    d0 = srv.dirty
    p("SADD", "a", "1")
    p("SMOVE", "a", "b", "1")
    assert srv.dirty - d0 == 3


def test_hooks(inproc):
    from tracered import object as obj

    p = inproc
    p("SADD", "i", "2", "1")
    p("SADD", "h", "x")
    oi, oh = p.value(b"i"), p.value(b"h")
    assert obj.digest_value_funcs[obj.OBJ_SET](oi) == [b"1", b"2"]
    assert obj.digest_value_funcs[obj.OBJ_SET](oh) == [b"x"]
    assert obj.length_funcs[obj.OBJ_SET](oi) == 2
    dup = obj.dup_funcs[obj.OBJ_SET](oi)
    assert dup.ptr == oi.ptr and dup.ptr is not oi.ptr
    assert obj.preview_funcs[obj.OBJ_SET](oi, 1) == "{'1', ...}"


def test_arity_errors(r):
    for name, args in (("sintercard", ("1",)), ("smove", ("a", "b")), ("spop", ()),
                       ("smembers", ("a", "b")), ("sismember", ("a",))):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command(name.upper(), *args)
        assert str(e.value) == f"wrong number of arguments for '{name}' command"
