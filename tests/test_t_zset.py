"""Sorted set commands (tracered/t_zset.py) over TCP with redis-py, plus in-process checks of
what a client cannot see: the listpack bytes, conversion probes and events, propagation
rewrites (ZMPOP, BZPOP*), keyspace notifications, server.dirty and the per-type hooks.

Error texts are Redis 7.0.15's, byte for byte.  The differential tests against redis-server
live in test_diff_zset.py.
"""

from __future__ import annotations

import threading
import time

import pytest
import redis
from test_t_hash import InProc, Raw, _Sink, enc, err

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INT = "value is not an integer or out of range"
NOT_FLOAT = "value is not a valid float"
SYNTAX = "syntax error"
NANERR = "resulting score is not a number (NaN)"
MINMAX_FLOAT = "min or max is not a float"
MINMAX_LEX = "min or max not valid string range item"


@pytest.fixture
def raw(r, tracered_server):
    c = Raw(tracered_server.port)
    yield c
    c.close()


@pytest.fixture
def plain(r, tracered_server):
    """A RESP2 client without redis-py's reply conversions (scores stay bytes; redis-py 8
    speaks RESP3 by default)."""
    c = tracered_server.client(protocol=2)
    c.response_callbacks.clear()
    yield c
    c.close()


@pytest.fixture
def inproc():
    p = InProc()
    yield p
    p.close()


def x(r, *args):
    return r.execute_command(*args)


# --------------------------------------------------------------------------------------------
# ZADD ZINCRBY
# --------------------------------------------------------------------------------------------

def test_zadd_basic_and_options(plain):
    r = plain
    assert x(r, "ZADD", "z", "1", "a", "2", "b", "1.5", "c") == 3
    assert x(r, "ZRANGE", "z", "0", "-1", "WITHSCORES") == [b"a", b"1", b"c", b"1.5", b"b",
                                                             b"2"]
    assert x(r, "ZADD", "z", "5", "a", "9", "new") == 1            # a updated, new added
    assert x(r, "ZADD", "z", "CH", "6", "a", "9", "new", "1", "x") == 2
    assert x(r, "ZADD", "z", "NX", "100", "a", "3", "y") == 1      # only y
    assert x(r, "ZSCORE", "z", "a") == b"6"
    assert x(r, "ZADD", "z", "XX", "7", "a", "1", "nope") == 0     # a updated, not counted
    assert x(r, "ZSCORE", "z", "a") == b"7"
    assert x(r, "ZSCORE", "z", "nope") is None
    assert x(r, "ZADD", "z", "XX", "CH", "8", "a") == 1
    assert x(r, "ZADD", "z", "GT", "CH", "1", "a", "20", "b") == 1  # a not lowered
    assert x(r, "ZMSCORE", "z", "a", "b") == [b"8", b"20"]
    assert x(r, "ZADD", "z", "LT", "CH", "1", "a", "30", "b", "0", "fresh") == 2
    assert x(r, "ZMSCORE", "z", "a", "b", "fresh") == [b"1", b"20", b"0"]
    assert x(r, "zadd", "z", "xx", "gt", "ch", "2", "a") == 1       # options are case-free


def test_zadd_incr(plain):
    r = plain
    assert x(r, "ZADD", "z", "INCR", "2.5", "a") == b"2.5"
    assert x(r, "ZADD", "z", "INCR", "-1", "a") == b"1.5"
    assert x(r, "ZADD", "z", "NX", "INCR", "5", "a") is None        # exists: NX stops it
    assert x(r, "ZADD", "z", "XX", "INCR", "5", "nope") is None
    assert x(r, "ZADD", "nokey", "XX", "INCR", "5", "m") is None
    assert x(r, "ZADD", "z", "GT", "INCR", "-1", "a") is None       # would lower it
    assert x(r, "ZADD", "z", "LT", "INCR", "-1", "a") == b"0.5"
    assert x(r, "ZINCRBY", "z", "10", "b") == b"10"
    assert x(r, "ZINCRBY", "z", "0.1", "b") == b"10.1"
    assert x(r, "ZINCRBY", "z", "inf", "b") == b"inf"
    assert err(r, "ZINCRBY", "z", "-inf", "b") == NANERR
    assert x(r, "ZSCORE", "z", "b") == b"inf"
    assert err(r, "ZINCRBY", "z", "abc", "b") == NOT_FLOAT
    assert not r.exists("nokey")


def test_zadd_errors(r):
    assert err(r, "ZADD", "z", "1") == "wrong number of arguments for 'zadd' command"
    assert err(r, "ZADD", "z", "NX", "1") == SYNTAX
    assert err(r, "ZADD", "z", "1", "a", "2") == SYNTAX
    assert err(r, "ZADD", "z", "NX", "XX", "1", "a") == \
        "XX and NX options at the same time are not compatible"
    for opts in (("GT", "LT"), ("GT", "NX"), ("LT", "NX")):
        assert err(r, "ZADD", "z", *opts, "1", "a") == \
            "GT, LT, and/or NX options at the same time are not compatible"
    assert err(r, "ZADD", "z", "INCR", "1", "a", "2", "b") == \
        "INCR option supports a single increment-element pair"
    for bad in ("abc", "nan", "", " 1", "1 ", "1e400", "1e-400"):
        assert err(r, "ZADD", "z", bad, "a") == NOT_FLOAT
    # The scores are checked before anything is added: the command does all or nothing.
    assert err(r, "ZADD", "z", "1", "a", "x", "b") == NOT_FLOAT
    assert not r.exists("z")
    r.set("s", "v")
    assert err(r, "ZADD", "s", "1", "a") == WRONGTYPE
    assert err(r, "ZINCRBY", "s", "1", "a") == WRONGTYPE
    assert err(r, "ZINCRBY", "z", "1") == "wrong number of arguments for 'zincrby' command"


def test_special_scores(plain):
    r = plain
    x(r, "ZADD", "z", "inf", "pinf", "-inf", "ninf", "1e308", "big", "-0", "negz",
      "0x10", "hex", "4e-320", "denorm", "3.0", "three", "0.1", "tenth")
    assert x(r, "ZRANGE", "z", "0", "-1", "WITHSCORES") == [
        b"ninf", b"-inf", b"negz", b"0", b"denorm", b"3.999955468730732e-320",
        b"tenth", b"0.10000000000000001", b"three", b"3", b"hex", b"16",
        b"big", b"1e+308", b"pinf", b"inf"]
    # A skiplist keeps -0 as such; a listpack stores it as the integer 0 (as Redis does).
    x(r, "ZADD", "big", "1", "x" * 100, "-0", "negz")
    assert enc(r, "big") == b"skiplist"
    assert x(r, "ZSCORE", "big", "negz") == b"-0"


# --------------------------------------------------------------------------------------------
# ZREM ZCARD ZSCORE ZMSCORE ZRANK ZREVRANK
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("big", [False, True])
def test_read_commands(plain, big):
    r = plain
    members = {"a": 1, "b": 2, "c": 3, "d": 3}
    if big:
        members["long" * 20] = 10
    x(r, "ZADD", "z", *[v for m, s in members.items() for v in (s, m)])
    assert enc(r, "z") == (b"skiplist" if big else b"listpack")
    assert x(r, "ZCARD", "z") == len(members)
    assert x(r, "ZCARD", "nokey") == 0
    assert x(r, "ZRANK", "z", "c") == 2
    assert x(r, "ZREVRANK", "z", "c") == len(members) - 3
    assert x(r, "ZRANK", "z", "nope") is None
    assert x(r, "ZRANK", "nokey", "a") is None
    assert x(r, "ZSCORE", "nokey", "a") is None
    assert x(r, "ZMSCORE", "z", "a", "nope", "d") == [b"1", None, b"3"]
    assert x(r, "ZMSCORE", "nokey", "a", "b") == [None, None]
    assert x(r, "ZREM", "z", "a", "nope", "a") == 1
    assert x(r, "ZREM", "nokey", "a") == 0
    assert x(r, "ZREM", "z", *members) == len(members) - 1
    assert not r.exists("z")
    r.set("s", "v")
    for args in (("ZCARD", "s"), ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a"),
                 ("ZRANK", "s", "a"), ("ZREVRANK", "s", "a"), ("ZREM", "s", "a")):
        assert err(r, *args) == WRONGTYPE


# --------------------------------------------------------------------------------------------
# ZRANGE family, ZCOUNT ZLEXCOUNT
# --------------------------------------------------------------------------------------------

def _fill(r, key, big):
    x(r, "ZADD", key, "1", "a", "2", "b", "2", "c", "3", "d", "4", "e", "5", "f")
    if big:
        x(r, "CONFIG", "SET", "zset-max-listpack-entries", "2")
        x(r, "ZADD", key, "6", "g")
        x(r, "CONFIG", "SET", "zset-max-listpack-entries", "128")
        assert enc(r, key) == b"skiplist"
    else:
        x(r, "ZADD", key, "6", "g")
        assert enc(r, key) == b"listpack"


@pytest.mark.parametrize("big", [False, True])
def test_zrange_by_rank_score_lex(plain, big):
    r = plain
    _fill(r, "z", big)
    assert x(r, "ZRANGE", "z", "0", "2") == [b"a", b"b", b"c"]
    assert x(r, "ZRANGE", "z", "-2", "-1", "WITHSCORES") == [b"f", b"5", b"g", b"6"]
    assert x(r, "ZRANGE", "z", "5", "100") == [b"f", b"g"]
    assert x(r, "ZRANGE", "z", "3", "2") == []
    assert x(r, "ZRANGE", "z", "0", "1", "REV") == [b"g", b"f"]
    assert x(r, "ZREVRANGE", "z", "1", "2", "WITHSCORES") == [b"f", b"5", b"e", b"4"]
    assert x(r, "ZRANGE", "z", "(2", "4", "BYSCORE") == [b"d", b"e"]
    assert x(r, "ZRANGE", "z", "4", "(2", "BYSCORE", "REV") == [b"e", b"d"]
    assert x(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "3") == \
        [b"c", b"d", b"e"]
    assert x(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "3") == []
    assert x(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "5", "-1") == [b"f", b"g"]
    assert x(r, "ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "7", "1") == []
    assert x(r, "ZRANGEBYSCORE", "z", "2", "2", "WITHSCORES") == [b"b", b"2", b"c", b"2"]
    assert x(r, "ZRANGEBYSCORE", "z", "", "1") == [b"a"]           # "" parses as 0
    assert x(r, "ZREVRANGEBYSCORE", "z", "+inf", "5", "LIMIT", "1", "1") == [b"f"]
    assert x(r, "ZCOUNT", "z", "(1", "5") == 5
    assert x(r, "ZCOUNT", "z", "7", "+inf") == 0
    assert x(r, "ZCOUNT", "nokey", "0", "1") == 0
    # Lex ranges are meaningful with equal scores: use a second zset.
    x(r, "ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d")
    assert x(r, "ZRANGE", "l", "[b", "(d", "BYLEX") == [b"b", b"c"]
    assert x(r, "ZRANGE", "l", "+", "-", "BYLEX", "REV", "LIMIT", "1", "2") == [b"c", b"b"]
    assert x(r, "ZRANGEBYLEX", "l", "-", "+") == [b"a", b"b", b"c", b"d"]
    assert x(r, "ZREVRANGEBYLEX", "l", "[c", "-") == [b"c", b"b", b"a"]
    assert x(r, "ZLEXCOUNT", "l", "(a", "+") == 3
    assert x(r, "ZLEXCOUNT", "nokey", "-", "+") == 0
    assert x(r, "ZRANGE", "nokey", "0", "-1") == []


def test_zrange_errors(r):
    x(r, "ZADD", "z", "1", "a")
    assert err(r, "ZRANGE", "z", "0", "1", "LIMIT", "0", "1") == \
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
    assert err(r, "ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES") == \
        "syntax error, WITHSCORES not supported in combination with BYLEX"
    assert err(r, "ZRANGEBYLEX", "z", "-", "+", "WITHSCORES") == \
        "syntax error, WITHSCORES not supported in combination with BYLEX"
    for args in (("ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX"), ("ZRANGE", "z", "0", "1",
                 "REV", "REV"), ("ZRANGE", "z", "0", "1", "LIMIT", "1"),
                 ("ZRANGE", "z", "0", "1", "foo"), ("ZREVRANGE", "z", "0", "1", "REV"),
                 ("ZRANGEBYSCORE", "z", "0", "1", "BYSCORE"),
                 ("ZRANGESTORE", "d", "z", "0", "1", "WITHSCORES")):
        assert err(r, *args) == SYNTAX, args
    assert err(r, "ZRANGE", "z", "a", "1") == NOT_INT
    assert err(r, "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "x", "1") == NOT_INT
    assert err(r, "ZRANGE", "z", "x", "1", "BYSCORE") == MINMAX_FLOAT
    assert err(r, "ZRANGEBYSCORE", "z", "nan", "1") == MINMAX_FLOAT
    assert err(r, "ZRANGEBYSCORE", "z", "(", "1 ") == MINMAX_FLOAT
    assert err(r, "ZCOUNT", "z", "1", "x") == MINMAX_FLOAT
    assert err(r, "ZRANGE", "z", "a", "b", "BYLEX") == MINMAX_LEX
    assert err(r, "ZLEXCOUNT", "z", "+a", "-") == MINMAX_LEX
    r.set("s", "v")
    for args in (("ZRANGE", "s", "0", "1"), ("ZRANGEBYSCORE", "s", "0", "1"),
                 ("ZRANGEBYLEX", "s", "-", "+"), ("ZCOUNT", "s", "0", "1"),
                 ("ZLEXCOUNT", "s", "-", "+"), ("ZRANGESTORE", "d", "s", "0", "1")):
        assert err(r, *args) == WRONGTYPE


def test_zrangestore(plain):
    r = plain
    x(r, "ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert x(r, "ZRANGESTORE", "d", "z", "0", "1") == 2
    assert x(r, "ZRANGE", "d", "0", "-1", "WITHSCORES") == [b"a", b"1", b"b", b"2"]
    assert x(r, "ZRANGESTORE", "d", "z", "+inf", "(1", "BYSCORE", "REV", "LIMIT", "0", "1") \
        == 1
    assert x(r, "ZRANGE", "d", "0", "-1") == [b"c"]
    x(r, "EXPIRE", "d", "100")
    assert x(r, "ZRANGESTORE", "d", "z", "[a", "[b", "BYLEX") == 2
    assert x(r, "TTL", "d") == -1                      # replaced: the TTL goes
    assert x(r, "ZRANGESTORE", "d", "z", "5", "9") == 0
    assert not r.exists("d")
    x(r, "SET", "d", "string")
    assert x(r, "ZRANGESTORE", "d", "nokey", "0", "-1") == 0   # deletes the destination
    assert not r.exists("d")
    # A long range makes a skiplist destination; a small one a listpack.
    x(r, "ZADD", "big", *[v for i in range(200) for v in (i, f"m{i}")])
    assert x(r, "ZRANGESTORE", "d", "big", "0", "-1") == 200
    assert enc(r, "d") == b"skiplist"
    assert x(r, "ZRANGESTORE", "d", "big", "0", "9") == 10
    assert enc(r, "d") == b"listpack"
    assert x(r, "ZRANGESTORE", "d", "big", "-inf", "+inf", "BYSCORE") == 200
    assert enc(r, "d") == b"skiplist"              # converted while filling


# --------------------------------------------------------------------------------------------
# ZREMRANGEBYRANK ZREMRANGEBYSCORE ZREMRANGEBYLEX
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("big", [False, True])
def test_zremrange(r, big):
    _fill(r, "z", big)
    assert x(r, "ZREMRANGEBYRANK", "z", "-2", "-1") == 2
    assert x(r, "ZREMRANGEBYRANK", "z", "10", "20") == 0
    assert x(r, "ZREMRANGEBYSCORE", "z", "(1", "2") == 2
    assert x(r, "ZRANGE", "z", "0", "-1") == [b"a", b"d", b"e"]
    assert x(r, "ZREMRANGEBYSCORE", "z", "5", "1") == 0
    x(r, "ZADD", "l", "0", "a", "0", "b", "0", "c")
    assert x(r, "ZREMRANGEBYLEX", "l", "[b", "+") == 2
    assert x(r, "ZREMRANGEBYLEX", "l", "-", "+") == 1
    assert not r.exists("l")
    assert x(r, "ZREMRANGEBYRANK", "z", "0", "-1") == 3
    assert not r.exists("z")
    assert x(r, "ZREMRANGEBYRANK", "nokey", "0", "-1") == 0
    assert err(r, "ZREMRANGEBYRANK", "z", "a", "1") == NOT_INT
    assert err(r, "ZREMRANGEBYSCORE", "z", "a", "1") == MINMAX_FLOAT
    assert err(r, "ZREMRANGEBYLEX", "z", "a", "1") == MINMAX_LEX
    r.set("s", "v")
    assert err(r, "ZREMRANGEBYRANK", "s", "0", "1") == WRONGTYPE


# --------------------------------------------------------------------------------------------
# ZPOPMIN ZPOPMAX ZMPOP
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("big", [False, True])
def test_zpop_and_zmpop(plain, big):
    r = plain
    _fill(r, "z", big)
    assert x(r, "ZPOPMIN", "z") == [b"a", b"1"]
    assert x(r, "ZPOPMAX", "z", "2") == [b"g", b"6", b"f", b"5"]
    assert x(r, "ZPOPMIN", "z", "0") == []
    assert x(r, "ZPOPMIN", "nokey") == []
    assert x(r, "ZMPOP", "2", "nokey", "z", "MIN", "COUNT", "2") == \
        [b"z", [[b"b", b"2"], [b"c", b"2"]]]
    assert x(r, "ZMPOP", "1", "z", "MAX") == [b"z", [[b"e", b"4"]]]
    assert x(r, "ZMPOP", "1", "z", "MAX", "COUNT", "10") == [b"z", [[b"d", b"3"]]]
    assert not r.exists("z")
    assert x(r, "ZMPOP", "1", "z", "MIN") is None
    assert err(r, "ZPOPMIN", "z", "-1") == "value is out of range, must be positive"
    assert err(r, "ZPOPMIN", "z", "x") == "value is out of range, must be positive"
    assert err(r, "ZPOPMIN", "z", "1", "2") == SYNTAX
    assert err(r, "ZMPOP", "0", "z", "MIN") == "numkeys should be greater than 0"
    assert err(r, "ZMPOP", "2", "z", "MIN") == SYNTAX
    assert err(r, "ZMPOP", "1", "z", "MIDDLE") == SYNTAX
    assert err(r, "ZMPOP", "1", "z", "MIN", "COUNT", "0") == "count should be greater than 0"
    assert err(r, "ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1") == SYNTAX
    r.set("s", "v")
    assert err(r, "ZPOPMIN", "s") == WRONGTYPE
    assert err(r, "ZMPOP", "2", "nokey", "s", "MIN") == WRONGTYPE


# --------------------------------------------------------------------------------------------
# ZUNION ZINTER ZDIFF (+STORE) ZINTERCARD
# --------------------------------------------------------------------------------------------

def test_set_operations(plain):
    r = plain
    x(r, "ZADD", "z1", "1", "a", "2", "b", "3", "c")
    x(r, "ZADD", "z2", "10", "b", "20", "c", "30", "d")
    x(r, "SADD", "s", "a", "d", "e")
    assert x(r, "ZUNION", "2", "z1", "z2", "WITHSCORES") == \
        [b"a", b"1", b"b", b"12", b"c", b"23", b"d", b"30"]
    assert x(r, "ZINTER", "2", "z1", "z2", "AGGREGATE", "MAX", "WITHSCORES") == \
        [b"b", b"10", b"c", b"20"]
    assert x(r, "ZINTER", "2", "z1", "z2", "WEIGHTS", "2", "0.5", "AGGREGATE", "MIN") == \
        [b"b", b"c"]
    assert x(r, "ZDIFF", "2", "z1", "z2", "WITHSCORES") == [b"a", b"1"]
    assert x(r, "ZUNION", "2", "z1", "s", "WEIGHTS", "1", "5", "WITHSCORES") == \
        [b"b", b"2", b"c", b"3", b"d", b"5", b"e", b"5", b"a", b"6"]
    assert x(r, "ZINTER", "2", "s", "z2", "WITHSCORES") == [b"d", b"31"]
    assert x(r, "ZUNION", "2", "z1", "nokey") == [b"a", b"b", b"c"]
    assert x(r, "ZINTER", "2", "z1", "nokey") == []
    # inf * 0 is NaN, counted as 0; inf + -inf under SUM is 0 too.
    x(r, "ZADD", "inf", "inf", "a", "-inf", "b")
    x(r, "ZADD", "ninf", "-inf", "a", "inf", "b")
    assert x(r, "ZUNION", "1", "inf", "WEIGHTS", "0", "WITHSCORES") == [b"a", b"0", b"b", b"0"]
    assert x(r, "ZUNION", "2", "inf", "ninf", "WITHSCORES") == [b"a", b"0", b"b", b"0"]
    assert x(r, "ZUNIONSTORE", "d", "2", "z1", "z2", "AGGREGATE", "MIN") == 4
    assert x(r, "ZRANGE", "d", "0", "-1", "WITHSCORES") == \
        [b"a", b"1", b"b", b"2", b"c", b"3", b"d", b"30"]
    assert x(r, "ZINTERSTORE", "d", "2", "z1", "z2") == 2
    assert x(r, "ZDIFFSTORE", "d", "2", "z1", "z2") == 1
    assert x(r, "ZDIFFSTORE", "d", "2", "z1", "z1") == 0
    assert not r.exists("d")
    assert x(r, "ZINTERCARD", "2", "z1", "z2") == 2
    assert x(r, "ZINTERCARD", "2", "z1", "z2", "LIMIT", "1") == 1
    assert x(r, "ZINTERCARD", "2", "z1", "z2", "LIMIT", "0") == 2


def test_set_operation_errors(r):
    x(r, "ZADD", "z", "1", "a")
    r.set("str", "v")
    assert err(r, "ZUNION", "0", "z") == "at least 1 input key is needed for 'zunion' command"
    assert err(r, "ZUNIONSTORE", "d", "0", "z") == \
        "at least 1 input key is needed for 'zunionstore' command"
    assert err(r, "ZINTERCARD", "0", "z") == \
        "at least 1 input key is needed for 'zintercard' command"
    assert err(r, "ZUNION", "x", "z") == NOT_INT
    assert err(r, "ZUNION", "3", "z", "z") == SYNTAX
    assert err(r, "ZUNION", "1", "z", "WEIGHTS", "x") == "weight value is not a float"
    assert err(r, "ZUNION", "1", "z", "WEIGHTS") == SYNTAX
    assert err(r, "ZUNION", "1", "z", "AGGREGATE", "AVG") == SYNTAX
    assert err(r, "ZDIFF", "1", "z", "WEIGHTS", "1") == SYNTAX
    assert err(r, "ZDIFF", "1", "z", "AGGREGATE", "MIN") == SYNTAX
    assert err(r, "ZUNIONSTORE", "d", "1", "z", "WITHSCORES") == SYNTAX
    assert err(r, "ZINTERCARD", "1", "z", "WITHSCORES") == SYNTAX
    assert err(r, "ZINTERCARD", "1", "z", "LIMIT", "-1") == "LIMIT can't be negative"
    assert err(r, "ZUNION", "2", "z", "str") == WRONGTYPE
    assert err(r, "ZINTERSTORE", "d", "1", "str") == WRONGTYPE


# --------------------------------------------------------------------------------------------
# ZRANDMEMBER ZSCAN
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("size", [5, 200])
def test_zrandmember(plain, size):
    r = plain
    members = {f"m{i}".encode(): i for i in range(size)}
    x(r, "ZADD", "z", *[v for m, s in members.items() for v in (s, m)])
    assert enc(r, "z") == (b"listpack" if size < 128 else b"skiplist")
    assert x(r, "ZRANDMEMBER", "z") in members
    assert x(r, "ZRANDMEMBER", "nokey") is None
    assert x(r, "ZRANDMEMBER", "nokey", "5") == []
    assert x(r, "ZRANDMEMBER", "z", "0") == []
    for count in (1, 3, size - 1, size, size + 10):      # unique picks (cases 1-4)
        got = x(r, "ZRANDMEMBER", "z", count, "WITHSCORES")
        pairs = list(zip(got[0::2], got[1::2], strict=True))
        assert len(pairs) == min(count, size)
        assert len({m for m, _ in pairs}) == len(pairs)
        assert all(int(s) == members[m] for m, s in pairs)
    got = x(r, "ZRANDMEMBER", "z", "-50")
    assert len(got) == 50 and set(got) <= set(members)
    if size == 5:
        assert len(set(got)) <= 5                          # repeats allowed
    assert err(r, "ZRANDMEMBER", "z", "1", "2") == SYNTAX
    assert err(r, "ZRANDMEMBER", "z", "x") == NOT_INT
    assert err(r, "ZRANDMEMBER", "z", str(2**62), "WITHSCORES") == "value is out of range"


def test_zscan(plain):
    r = plain
    x(r, "ZADD", "small", "1", "a", "1.5", "b", "inf", "c")
    assert x(r, "ZSCAN", "small", "0") == [b"0", [b"a", b"1", b"b", b"1.5", b"c", b"inf"]]
    assert x(r, "ZSCAN", "small", "0", "MATCH", "b*") == [b"0", [b"b", b"1.5"]]
    assert x(r, "ZSCAN", "nokey", "0") == [b"0", []]
    x(r, "ZADD", "big", *[v for i in range(300) for v in (i / 4, f"m{i}")])
    seen = {}
    cursor = b"0"
    for _ in range(1000):
        cursor, items = x(r, "ZSCAN", "big", cursor, "COUNT", "20")
        seen.update(zip(items[0::2], items[1::2], strict=True))
        if cursor == b"0":
            break
    assert seen == {f"m{i}".encode(): repr(i / 4).removesuffix(".0").encode()
                    for i in range(300)}
    assert err(r, "ZSCAN", "big", "x") == "invalid cursor"
    assert err(r, "ZSCAN", "big", "0", "COUNT", "0") == SYNTAX
    r.set("s", "v")
    assert err(r, "ZSCAN", "s", "0") == WRONGTYPE


# --------------------------------------------------------------------------------------------
# Encodings, CONFIG SET, COPY, MEMORY USAGE
# --------------------------------------------------------------------------------------------

def test_encoding_thresholds(r):
    x(r, "ZADD", "z", *[v for i in range(128) for v in (i, f"m{i}")])
    assert enc(r, "z") == b"listpack"
    x(r, "ZADD", "z", "1", "one-more")
    assert enc(r, "z") == b"skiplist"
    x(r, "ZREMRANGEBYRANK", "z", "0", "-3")
    assert enc(r, "z") == b"skiplist"                  # never back on deletions
    x(r, "ZADD", "v", "1", "x" * 64)
    assert enc(r, "v") == b"listpack"
    x(r, "ZADD", "v", "1", "x" * 65)
    assert enc(r, "v") == b"skiplist"
    x(r, "ZADD", "w", "1", "y" * 65)                   # a new key picks skiplist at once
    assert enc(r, "w") == b"skiplist"
    # Set operations that STORE a small result go back to a listpack.
    assert x(r, "ZUNIONSTORE", "u", "1", "z") == 2
    assert enc(r, "u") == b"listpack"
    assert x(r, "ZUNIONSTORE", "u", "1", "w") == 1
    assert enc(r, "u") == b"skiplist"


def test_config_set_thresholds(r):
    try:
        assert x(r, "CONFIG", "SET", "zset-max-listpack-entries", "0") == b"OK"
        x(r, "ZADD", "a", "1", "m")
        assert enc(r, "a") == b"skiplist"
        x(r, "CONFIG", "SET", "zset-max-ziplist-entries", "2")   # the old alias
        assert r.config_get("zset-max-listpack-entries") == {
            "zset-max-listpack-entries": "2"}
        x(r, "ZADD", "b", "1", "m", "2", "n")
        assert enc(r, "b") == b"listpack"
        x(r, "ZADD", "b", "3", "o")
        assert enc(r, "b") == b"skiplist"
        x(r, "CONFIG", "SET", "zset-max-listpack-value", "3")
        x(r, "ZADD", "c", "1", "abcd")
        assert enc(r, "c") == b"skiplist"
    finally:
        x(r, "CONFIG", "SET", "zset-max-listpack-entries", "128")
        x(r, "CONFIG", "SET", "zset-max-listpack-value", "64")


@pytest.mark.parametrize("big", [False, True])
def test_copy_is_deep(plain, big):
    r = plain
    _fill(r, "z", big)
    assert x(r, "COPY", "z", "c") == 1
    assert enc(r, "c") == enc(r, "z")
    x(r, "ZADD", "c", "100", "a")
    assert x(r, "ZSCORE", "z", "a") == b"1"
    assert x(r, "ZRANGE", "c", "0", "-1") == [b"b", b"c", b"d", b"e", b"f", b"g", b"a"]


def test_memory_usage(r):
    x(r, "ZADD", "small", "1", "a")
    small = x(r, "MEMORY", "USAGE", "small")
    x(r, "ZADD", "big", *[v for i in range(1000) for v in (i, f"member:{i}")])
    big = x(r, "MEMORY", "USAGE", "big", "SAMPLES", "0")
    assert 16 < small < 100
    # Redis 7.0 reports about 90-100 bytes per member for this zset.
    assert 60_000 < big < 160_000


# --------------------------------------------------------------------------------------------
# RESP3 reply shapes (exact bytes)
# --------------------------------------------------------------------------------------------

def test_resp3_shapes(raw):
    raw("HELLO", "3")
    raw("ZADD", "z", "1", "a", "2.5", "b")
    assert raw("ZSCORE", "z", "b") == b",2.5\r\n"
    assert raw("ZSCORE", "z", "nope") == b"_\r\n"
    assert raw("ZINCRBY", "z", "1", "a") == b",2\r\n"
    assert raw("ZMSCORE", "z", "a", "x") == b"*2\r\n,2\r\n_\r\n"
    assert raw("ZRANGE", "z", "0", "-1", "WITHSCORES") == \
        b"*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    assert raw("ZUNION", "1", "z", "WITHSCORES") == \
        b"*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    assert raw("ZRANDMEMBER", "z", "5", "WITHSCORES") == \
        b"*2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n*2\r\n$1\r\na\r\n,2\r\n"
    assert raw("ZRANK", "z", "nope") == b"_\r\n"
    assert raw("ZPOPMIN", "z") == b"*2\r\n$1\r\na\r\n,2\r\n"
    raw("ZADD", "z", "1", "a", "-inf", "n")
    assert raw("ZPOPMIN", "z", "1") == b"*1\r\n*2\r\n$1\r\nn\r\n,-inf\r\n"
    assert raw("BZPOPMAX", "z", "0") == b"*3\r\n$1\r\nz\r\n$1\r\nb\r\n,2.5\r\n"
    assert raw("ZMPOP", "1", "z", "MIN") == b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    assert raw("ZMPOP", "1", "z", "MIN") == b"_\r\n"
    assert raw("ZPOPMIN", "z") == b"*0\r\n"


# --------------------------------------------------------------------------------------------
# Blocking: BZPOPMIN BZPOPMAX BZMPOP with several real clients
# --------------------------------------------------------------------------------------------

def test_blocking_pops_served_in_order(r, tracered_server):
    results: dict[str, object] = {}

    def waiter(name, *args):
        c = tracered_server.client(protocol=2)
        c.response_callbacks.clear()
        try:
            results[name] = c.execute_command(*args)
        finally:
            c.close()

    specs = [("first", ("BZPOPMIN", "k1", "k2", "5")),
             ("second", ("BZMPOP", "5", "2", "k2", "k1", "MAX", "COUNT", "2")),
             ("third", ("BZPOPMAX", "k1", "0.3"))]
    threads = []
    for name, args in specs:
        t = threading.Thread(target=waiter, args=(name, *args))
        t.start()
        threads.append(t)
        deadline = time.time() + 5
        while x(r, "INFO", "clients")["blocked_clients"] < len(threads):
            assert time.time() < deadline
            time.sleep(0.01)
    x(r, "ZADD", "k1", "1", "x", "2", "y", "3", "z")
    for t in threads:
        t.join(10)
    assert results["first"] == [b"k1", b"x", b"1"]
    assert results["second"] == [b"k1", [[b"z", b"3"], [b"y", b"2"]]]
    assert results["third"] is None                    # nothing left: it timed out
    assert not r.exists("k1")


def test_blocking_timeout_and_errors(plain):
    r = plain
    t0 = time.time()
    assert x(r, "BZPOPMIN", "nokey", "0.1") is None
    assert 0.05 < time.time() - t0 < 2
    assert x(r, "BZMPOP", "0.05", "1", "nokey", "MIN") is None
    assert err(r, "BZPOPMIN", "k", "-1") == "timeout is negative"
    assert err(r, "BZPOPMIN", "k", "inf") == "timeout is negative"
    assert err(r, "BZPOPMIN", "k", "abc") == "timeout is not a float or out of range"
    assert err(r, "BZMPOP", "0", "0", "k", "MIN") == "numkeys should be greater than 0"
    assert err(r, "BZMPOP", "0", "1", "k", "MIN", "COUNT", "0") == \
        "count should be greater than 0"
    r.set("s", "v")
    assert err(r, "BZPOPMIN", "s", "0") == WRONGTYPE
    # Inside MULTI a blocking pop cannot block: it answers like a timeout.
    p = r.pipeline(transaction=True)
    p.execute_command("BZPOPMIN", "nokey", "0")
    p.execute_command("BZMPOP", "0", "1", "nokey", "MAX")
    p.execute_command("BZPOPMAX", "s", "0")
    out = p.execute(raise_on_error=False)
    assert out[:2] == [None, None] and str(out[2]) == WRONGTYPE


# --------------------------------------------------------------------------------------------
# In process: listpack bytes, probes, propagation, notifications, dirty, hooks
# --------------------------------------------------------------------------------------------

def test_listpack_bytes(inproc):
    from tracered.listpack import lp_build

    p = inproc
    p("ZADD", "z", "1.5", "a", "-0", "neg", "7", "100", "1e20", "e", "inf", "i")
    o = p.value(b"z")
    # Sorted by score; integral scores as listpack integers (-0 too), others as d2string text;
    # an integer-looking member uses the integer encoding as well.
    assert bytes(o.ptr) == bytes(lp_build([b"neg", 0, b"a", b"1.5", 100, 7, b"e", b"1e+20",
                                           b"i", b"inf"]))
    p("ZINCRBY", "z", "1", "a")
    assert bytes(o.ptr) == bytes(lp_build([b"neg", 0, b"a", b"2.5", 100, 7, b"e", b"1e+20",
                                           b"i", b"inf"]))
    p("ZREM", "z", "100")
    assert bytes(o.ptr) == bytes(lp_build([b"neg", 0, b"a", b"2.5", b"e", b"1e+20", b"i",
                                           b"inf"]))


def test_probes_and_conversion_event(inproc):
    from tracered import object as obj
    from tracered.trace import probes

    p = inproc
    sink = _Sink()
    names = ("createZsetObject", "createZsetListpackObject", "zsetConvert", "zslInsert")
    for name in names:
        assert probes.arm(name, sink)
    try:
        p("ZADD", "small", "1", "a")
        p("ZADD", "big", "1", "x" * 100)
        p("ZADD", "small", "2", "y" * 100)
    finally:
        probes.remove_sink(sink)
    assert sink.hits == ["createZsetListpackObject", "createZsetObject", "zslInsert",
                         "zsetConvert", "zslInsert", "zslInsert"]
    conv = [a for n, a in sink.events if n == "encoding.convert"]
    assert len(conv) == 1
    assert (conv[0]["redis.key"], conv[0]["from"], conv[0]["to"]) == ("small", "listpack",
                                                                      "skiplist")
    assert p.value(b"small").encoding == obj.OBJ_ENCODING_SKIPLIST


def test_propagation_rewrites(inproc):
    p = inproc
    prop = p.propagated
    p("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d")
    assert prop[-1] == [b"ZADD", b"z", b"1", b"a", b"2", b"b", b"3", b"c", b"4", b"d"]
    p("ZPOPMIN", "z")
    assert prop[-1] == [b"ZPOPMIN", b"z"]
    p("ZMPOP", "2", "nokey", "z", "MAX", "COUNT", "10")
    assert prop[-1] == [b"ZPOPMAX", b"z", b"3"]
    p("ZADD", "z", "1", "a", "2", "b")
    p("BZPOPMAX", "nokey", "z", "0")
    assert prop[-1] == [b"ZPOPMAX", b"z"]
    p("BZMPOP", "0", "1", "z", "MIN", "COUNT", "5")
    assert prop[-1] == [b"ZPOPMIN", b"z", b"1"]
    n = len(prop)
    p("ZMPOP", "1", "z", "MIN")            # nothing popped: nothing propagated
    p("ZADD", "z", "XX", "1", "a")
    p("ZREM", "z", "nope")
    assert len(prop) == n


def test_blocked_client_served_and_propagated(inproc):
    from tracered import networking as net

    p = inproc
    waiter = net.create_client(None)
    waiter.argv = [b"BZPOPMIN", b"k", b"0"]
    p.sm.process_command(waiter)
    assert waiter.flags & net.CLIENT_BLOCKED and not waiter.reply
    p("ZADD", "k", "5", "m", "6", "n")
    assert b"".join(waiter.reply) == b"*3\r\n$1\r\nk\r\n$1\r\nm\r\n$1\r\n5\r\n"
    assert not waiter.flags & net.CLIENT_BLOCKED
    assert p.propagated[-2:] == [[b"ZADD", b"k", b"5", b"m", b"6", b"n"], [b"ZPOPMIN", b"k"]]


def test_keyspace_events(inproc):
    p = inproc
    ev = p.events
    p("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
    assert ev[-2:] == [("new", b"z"), ("zadd", b"z")]
    p("ZINCRBY", "z", "1", "a")
    assert ev[-1] == ("zincr", b"z")
    p("ZREM", "z", "a")
    assert ev[-1] == ("zrem", b"z")
    p("ZREMRANGEBYRANK", "z", "0", "0")
    assert ev[-1] == ("zremrangebyrank", b"z")
    p("ZREMRANGEBYSCORE", "z", "3", "3")
    assert ev[-1] == ("zremrangebyscore", b"z")
    p("ZREMRANGEBYLEX", "z", "[d", "[d")
    assert ev[-1] == ("zremrangebylex", b"z")
    p("ZADD", "z", "1", "x", "2", "y")
    p("ZPOPMIN", "z")
    assert ev[-1] == ("zpopmin", b"z")
    p("ZUNIONSTORE", "u", "1", "z")
    assert ev[-1] == ("zunionstore", b"u")
    p("ZINTERSTORE", "u", "1", "z")
    assert ev[-1] == ("zinterstore", b"u")
    p("ZDIFFSTORE", "u", "1", "z")
    assert ev[-1] == ("zdiffstore", b"u")
    p("ZRANGESTORE", "u", "z", "0", "0")
    assert ev[-1] == ("zrangestore", b"u")
    p("ZDIFFSTORE", "u", "2", "z", "z")
    assert ev[-1] == ("del", b"u")
    p("ZPOPMAX", "z", "10")
    assert ev[-2:] == [("zpopmax", b"z"), ("del", b"z")]
    n = len(ev)
    p("ZADD", "q", "1", "a")
    p("ZADD", "q", "1", "a")               # no change: no event
    p("ZREM", "q", "nope")
    assert len(ev) == n + 2


def test_dirty_counts(inproc):
    p = inproc
    srv = p.sm.server
    d0 = srv.dirty
    p("ZADD", "z", "1", "a", "2", "b", "2", "b")
    assert srv.dirty - d0 == 2
    d0 = srv.dirty
    p("ZADD", "z", "1", "a", "5", "b", "9", "c")           # same, updated, added
    assert srv.dirty - d0 == 2
    d0 = srv.dirty
    p("ZPOPMIN", "z", "2")
    assert srv.dirty - d0 == 2
    d0 = srv.dirty
    p("ZUNIONSTORE", "u", "1", "z")
    p("ZREMRANGEBYSCORE", "u", "-inf", "+inf")
    assert srv.dirty - d0 == 2


def test_hooks(inproc):
    from tracered import object as obj

    p = inproc
    p("ZADD", "lp", "2", "b", "-0", "a", "1.5", "c")
    p("ZADD", "sl", "1", "x" * 70, "-0", "a")
    lp, sl = p.value(b"lp"), p.value(b"sl")
    assert sl.encoding == obj.OBJ_ENCODING_SKIPLIST
    digest = obj.digest_value_funcs[obj.OBJ_ZSET]
    assert digest(lp) == [(b"a", 0.0), (b"c", 1.5), (b"b", 2.0)]
    assert str(digest(sl)[0][1]) == "-0.0"
    assert obj.length_funcs[obj.OBJ_ZSET](lp) == 3
    assert obj.length_funcs[obj.OBJ_ZSET](sl) == 2
    for o in (lp, sl):
        dup = obj.dup_funcs[obj.OBJ_ZSET](o)
        assert dup.encoding == o.encoding and dup.ptr is not o.ptr
        assert digest(dup) == digest(o)
    assert obj.preview_funcs[obj.OBJ_ZSET](lp, 2) == "{'a': 0, 'c': 1.5, ...}"
    assert obj.memory_usage_funcs[obj.OBJ_ZSET](sl, 0) > \
        obj.memory_usage_funcs[obj.OBJ_ZSET](lp, 0)


def test_arity_errors(r):
    for name, args in (("zadd", ("k", "1")), ("zcard", ()), ("zscore", ("k",)),
                       ("zrangestore", ("d", "s", "0")), ("zremrangebyrank", ("k", "0")),
                       ("bzpopmin", ("k",)), ("bzmpop", ("0", "1", "k")),
                       ("zmpop", ("1", "k")), ("zunionstore", ("d", "1")),
                       ("zinter", ("1",)), ("zrank", ("k",)), ("zscan", ("k",))):
        with pytest.raises(redis.ResponseError) as e:
            r.execute_command(name.upper(), *args)
        assert str(e.value) == f"wrong number of arguments for '{name}' command"


# --------------------------------------------------------------------------------------------
# Unit: range parsing, zzlStrtod, zsetAdd flags and zsetConvert round trips
# --------------------------------------------------------------------------------------------

def test_unit_range_parsing():
    from tracered import t_zset as tz

    spec = tz.zsl_parse_range(b"", b"(")              # strtod("") consumes nothing: 0
    assert (spec.min, spec.max, spec.minex, spec.maxex) == (0.0, 0.0, False, True)
    spec = tz.zsl_parse_range(b" 1", b"2\x00junk")    # leading space ok, text after NUL ignored
    assert (spec.min, spec.max) == (1.0, 2.0)
    spec = tz.zsl_parse_range(b"-inf", b"1e400")       # overflow is inf, not an error
    assert (spec.min, spec.max) == (float("-inf"), float("inf"))
    for lo, hi in ((b"nan", b"1"), (b"(1", b"nan"), (b"1 ", b"2"), (b"x", b"1"), (b" ", b"1")):
        assert tz.zsl_parse_range(lo, hi) is None, (lo, hi)
    assert tz.zzl_strtod(b"1.5") == 1.5
    assert tz.zzl_strtod(b"0x1p3") == 8.0
    assert tz.zzl_strtod(b"2.5xyz") == 2.5            # strtod stops at the garbage
    assert tz.zzl_strtod(b"1_0") == 1.0               # C, not Python, number syntax
    assert tz.zzl_strtod(b"junk") == 0.0


def test_unit_zset_add_flags_and_convert(inproc):
    from tracered import object as obj
    from tracered import t_zset as tz

    for make in (tz.create_zset_listpack_object, tz.create_zset_object):
        o = make()
        assert tz.zset_add(o, 1.0, b"a", tz.ZADD_IN_NONE) == (True, tz.ZADD_OUT_ADDED, 1.0)
        assert tz.zset_add(o, 1.0, b"a", tz.ZADD_IN_NONE) == (True, 0, 1.0)
        assert tz.zset_add(o, 5.0, b"a", tz.ZADD_IN_NX)[1] == tz.ZADD_OUT_NOP
        assert tz.zset_add(o, 5.0, b"b", tz.ZADD_IN_XX)[1] == tz.ZADD_OUT_NOP
        assert tz.zset_add(o, 0.5, b"a", tz.ZADD_IN_GT)[1] == tz.ZADD_OUT_NOP
        assert tz.zset_add(o, 2.0, b"a", tz.ZADD_IN_INCR) == (True, tz.ZADD_OUT_UPDATED, 3.0)
        assert tz.zset_add(o, float("nan"), b"a", 0)[:2] == (False, tz.ZADD_OUT_NAN)
        tz.zset_add(o, 0.0, b"z", 0)
        tz.zset_add(o, float("inf"), b"a", 0)
        ok, flags, _ = tz.zset_add(o, float("-inf"), b"a", tz.ZADD_IN_INCR)
        assert (ok, flags) == (False, tz.ZADD_OUT_NAN)
        assert tz.zset_score(o, b"a") == float("inf")
        assert tz.zset_rank(o, b"a", False) == 1 and tz.zset_rank(o, b"a", True) == 0
        assert tz.zset_del(o, b"a") and not tz.zset_del(o, b"a")
        assert tz.zset_length(o) == 1
    # listpack -> skiplist -> listpack gives the same bytes back.
    o = tz.create_zset_listpack_object()
    for i, m in enumerate([b"x", b"-0", b"12", b"y" * 60, b""]):
        tz.zset_add(o, i / 3 - 0.5, m, 0)
    before = bytes(o.ptr)
    tz.zset_convert(o, obj.OBJ_ENCODING_SKIPLIST)
    assert o.encoding == obj.OBJ_ENCODING_SKIPLIST and len(o.ptr.dict) == 5
    assert list(tz.zset_type_iter(o)) == list(tz.zset_type_iter(tz.zset_dup(o)))
    tz.zset_convert(o, obj.OBJ_ENCODING_LISTPACK)
    assert bytes(o.ptr) == before
