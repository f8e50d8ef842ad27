"""Differential tests of lists: tracered against Debian's redis-server 7.0.15.

Replies (redis-py and raw RESP2/RESP3 bytes), OBJECT ENCODING, MEMORY USAGE, DEBUG
DIGEST-VALUE / DEBUG DIGEST, the command table rows (COMMAND INFO, the typing hints of
COMMAND DOCS), and hypothesis-generated sequences under varied list-max-listpack-size /
list-compress-depth settings.
"""

from __future__ import annotations

import pytest
from conftest import Differential
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_command_cmd import Raw as ParsedRaw
from test_command_cmd import _cli_params, _flat_docs, _pairs
from test_t_hash import Raw

LIST_COMMANDS = ["lpush", "rpush", "lpushx", "rpushx", "lpop", "rpop", "llen", "lrange",
                 "lindex", "lset", "linsert", "lrem", "ltrim", "lpos", "lmove", "rpoplpush",
                 "lmpop", "blpop", "brpop", "blmove", "brpoplpush", "blmpop"]


@pytest.fixture
def d(diff):
    """The diff fixture with the list options reset on both servers afterwards."""
    yield diff
    for c in (diff.t, diff.ref):
        c.config_set("list-max-listpack-size", -2)
        c.config_set("list-compress-depth", 0)


@pytest.fixture
def raws(d, tracered_server, redis_server):
    a, b = Raw(tracered_server.port), Raw(redis_server.port)
    yield a, b
    a.close()
    b.close()


def same_raw(raws, *args) -> bytes:
    a, b = raws
    x, y = a(*args), b(*args)
    assert x == y, f"{args!r}: tracered={x!r} redis={y!r}"
    return x


def set_options(d: Differential, fill, depth) -> None:
    d("CONFIG", "SET", "list-max-listpack-size", fill)
    d("CONFIG", "SET", "list-compress-depth", depth)


def check_keys(d: Differential, *keys) -> None:
    for k in keys:
        d("EXISTS", k)
        if d.t.exists(k):
            d("OBJECT", "ENCODING", k)
            d("DEBUG", "DIGEST-VALUE", k)
            d("MEMORY", "USAGE", k, "SAMPLES", "0")
    d.digest()


# --------------------------------------------------------------------------------------------
# Hand-written scenarios
# --------------------------------------------------------------------------------------------

def test_basic_commands_and_errors(d):
    for args in (
        ("RPUSH", "l", "a", "b", "c", "1", "2", "3", "-5", "007", "x" * 70),
        ("LPUSH", "l", "z", "9223372036854775807", "-9223372036854775808"),
        ("LPUSHX", "l", "p"), ("RPUSHX", "l", "q", "r"), ("LPUSHX", "nokey", "p"),
        ("LLEN", "l"), ("LLEN", "nokey"),
        ("LRANGE", "l", "0", "-1"), ("LRANGE", "l", "-3", "100"), ("LRANGE", "l", "5", "2"),
        ("LRANGE", "l", "x", "1"), ("LRANGE", "nokey", "0", "-1"),
        ("LINDEX", "l", "0"), ("LINDEX", "l", "-1"), ("LINDEX", "l", "99"),
        ("LINDEX", "l", "x"), ("LINDEX", "nokey", "x"),
        ("LSET", "l", "1", "set"), ("LSET", "l", "-1", "last"), ("LSET", "l", "99", "v"),
        ("LSET", "l", "x", "v"), ("LSET", "nokey", "0", "v"),
        ("LINSERT", "l", "BEFORE", "c", "ins"), ("LINSERT", "l", "after", "3", "4"),
        ("LINSERT", "l", "AFTER", "missing", "v"), ("LINSERT", "l", "SIDEWAYS", "c", "v"),
        ("LINSERT", "nokey", "BEFORE", "c", "v"),
        ("LPOS", "l", "3"), ("LPOS", "l", "3", "RANK", "-1", "COUNT", "0"),
        ("LPOS", "l", "3", "RANK", "0"), ("LPOS", "l", "3", "COUNT", "-2"),
        ("LPOS", "l", "3", "MAXLEN", "-2"), ("LPOS", "l", "3", "MAXLEN"),
        ("LPOS", "l", "3", "RANK", "-9223372036854775808"),
        ("LPOS", "l", "3", "RANK", "9223372036854775807", "COUNT", "0"),
        ("LPOS", "nokey", "3", "COUNT", "1"), ("LPOS", "nokey", "3"),
        ("LREM", "l", "0", "zz"), ("LREM", "l", "-1", "3"), ("LREM", "l", "x", "3"),
        ("LTRIM", "l", "1", "-2"), ("LTRIM", "l", "a", "1"), ("LTRIM", "nokey", "0", "1"),
        ("LPOP", "l"), ("RPOP", "l", "2"), ("LPOP", "l", "0"), ("LPOP", "l", "-1"),
        ("LPOP", "l", "x"), ("LPOP", "l", "1", "2"), ("RPOP", "nokey", "0"),
        ("LMOVE", "l", "m", "LEFT", "RIGHT"), ("LMOVE", "l", "m", "UP", "LEFT"),
        ("RPOPLPUSH", "l", "m"), ("RPOPLPUSH", "nokey", "m"), ("LMOVE", "m", "m", "RIGHT", "LEFT"),
        ("LMPOP", "2", "nokey", "l", "LEFT", "COUNT", "2"), ("LMPOP", "1", "nokey", "RIGHT"),
        ("LMPOP", "0", "l", "LEFT"), ("LMPOP", "5", "l", "LEFT"), ("LMPOP", "1", "l", "MID"),
        ("LMPOP", "1", "l", "LEFT", "COUNT", "0"), ("LMPOP", "1", "l", "LEFT", "COUNT"),
        ("LMPOP", "1", "l", "LEFT", "COUNT", "1", "COUNT", "2"),
        ("LMPOP", "1", "l", "LEFT", "EXTRA"),
        ("LPUSH", "l"), ("LLEN", "l", "x"), ("LINSERT", "l", "BEFORE", "a"),
    ):
        d(*args)
    check_keys(d, "l", "m")


def test_wrongtype_and_empty_results(d):
    d("SET", "s", "v")
    for args in (("LPUSH", "s", "a"), ("LPOP", "s"), ("LRANGE", "s", "0", "1"),
                 ("LPOS", "s", "a"), ("LMPOP", "2", "nokey", "s", "LEFT"),
                 ("BLPOP", "nokey", "s", "0"), ("LMOVE", "nokey", "s", "LEFT", "LEFT"),
                 ("BLMOVE", "s", "d", "LEFT", "LEFT", "0")):
        d(*args)
    d("RPUSH", "l", "only")
    d("LMOVE", "l", "s", "LEFT", "LEFT")
    d("RPOP", "l", "5")
    d("EXISTS", "l")
    d("RPUSH", "l", "a", "b")
    d("LTRIM", "l", "5", "10")
    d("EXISTS", "l")
    d("RPUSH", "l", "a", "a")
    d("LREM", "l", "0", "a")
    d("EXISTS", "l")
    d.digest()


def test_blocking_forms_when_not_blocking(d):
    d("RPUSH", "a", "1", "2", "3", "4")
    d("BLPOP", "nokey", "a", "0")
    d("BRPOP", "a", "0")
    d("BLMPOP", "0", "2", "nokey", "a", "RIGHT", "COUNT", "5")
    d("RPUSH", "a", "x")
    d("BLMOVE", "a", "b", "RIGHT", "LEFT", "0")
    d("RPUSH", "a", "y")
    d("BRPOPLPUSH", "a", "b", "0")
    d("BLPOP", "nokey", "0.01")
    d("BLMOVE", "nokey", "b", "LEFT", "LEFT", "0.01")
    d("BLMPOP", "0.01", "1", "nokey", "LEFT")
    for bad in ("x", "-1", "inf", "nan", "1e20", " 1"):
        d("BLPOP", "k", bad)
        d("BLMPOP", bad, "1", "k", "LEFT")
    d("BLMOVE", "k", "d", "UP", "LEFT", "x")
    d("BLMPOP", "x", "0", "k", "LEFT")
    d("BLMPOP", "0", "1", "k", "LEFT", "COUNT", "0")
    check_keys(d, "a", "b")


def test_raw_reply_shapes_resp2_and_resp3(raws):
    for proto in ("2", "3"):
        if proto == "3":
            for c in raws:
                c("HELLO", "3")  # the client ids in the replies differ
        same_raw(raws, "DEL", "l")
        same_raw(raws, "LPOP", "l")
        same_raw(raws, "LPOP", "l", "1")
        same_raw(raws, "LPOP", "l", "0")
        same_raw(raws, "LINDEX", "l", "0")
        same_raw(raws, "LPOS", "l", "a")
        same_raw(raws, "LMPOP", "1", "l", "LEFT")
        same_raw(raws, "LMOVE", "l", "m", "LEFT", "LEFT")
        same_raw(raws, "BLPOP", "l", "0.01")
        same_raw(raws, "BLMOVE", "l", "m", "LEFT", "LEFT", "0.01")
        same_raw(raws, "BRPOPLPUSH", "l", "m", "0.01")
        same_raw(raws, "BLMPOP", "0.01", "1", "l", "LEFT")
        same_raw(raws, "RPUSH", "l", "a", "1", "-2", "b")
        same_raw(raws, "LRANGE", "l", "0", "-1")
        same_raw(raws, "LPOS", "l", "a", "COUNT", "0")
        same_raw(raws, "LPOS", "l", "b")
        same_raw(raws, "LPOP", "l", "0")
        same_raw(raws, "RPOP", "l", "2")
        same_raw(raws, "LMPOP", "1", "l", "RIGHT", "COUNT", "1")
        same_raw(raws, "BLPOP", "l", "0")
        same_raw(raws, "LPOP", "nokey", "1")


@pytest.mark.parametrize("fill,depth", [(-2, 0), (-1, 1), (-5, 2), (1, 0), (3, 1), (5, 2),
                                        (128, 0), (-3, 3)])
def test_encoding_layout_and_memory_match(d, fill, depth):
    set_options(d, fill, depth)
    d("RPUSH", "l", *[f"element-{i}-" + "p" * (i % 50) for i in range(300)])
    d("LPUSH", "l", *[str(i * 7919) for i in range(200)])
    d("LINSERT", "l", "BEFORE", "element-150-" + "p" * 0, "inserted")
    d("LSET", "l", "250", "set-" + "q" * 200)
    d("LREM", "l", "3", "element-7-ppppppp")
    d("LTRIM", "l", "5", "-6")
    d("LRANGE", "l", "0", "-1")
    d("LRANGE", "l", "-50", "-40")
    d("LINDEX", "l", "123")
    d("LPOS", "l", "inserted")
    d("LMOVE", "l", "m", "RIGHT", "LEFT")
    d("LPOP", "l", "17")
    d("RPOP", "l", "3")
    check_keys(d, "l", "m")
    d("MEMORY", "USAGE", "l")


def test_large_elements_and_plain_nodes(d):
    d("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "100")
    try:
        d("RPUSH", "l", "small", "b" * 150, "c" * 99, "d" * 100, "e")
        d("LINSERT", "l", "AFTER", "small", "f" * 300)
        d("LSET", "l", "1", "tiny")
        d("LSET", "l", "2", "g" * 400)
        d("LRANGE", "l", "0", "-1")
        d("LPOS", "l", "g" * 400)
        d("LREM", "l", "0", "d" * 100)
        check_keys(d, "l")
        d("LPOP", "l", "2")
        d("RPOP", "l")
        check_keys(d, "l")
    finally:
        d("DEBUG", "QUICKLIST-PACKED-THRESHOLD", "0")


def test_command_rows_match_redis(d, tracered_server, redis_server):
    t, ref = ParsedRaw(tracered_server.port), ParsedRaw(redis_server.port)
    try:
        for name in LIST_COMMANDS:
            assert t.call("COMMAND", "INFO", name) == ref.call("COMMAND", "INFO", name), name
        ours = _flat_docs(_pairs(t.call("COMMAND", "DOCS", *LIST_COMMANDS)))
        theirs = _flat_docs(_pairs(ref.call("COMMAND", "DOCS", *LIST_COMMANDS)))
        for args in (("LMPOP", "2", "a", "b", "LEFT"), ("BLMPOP", "0", "2", "a", "b", "LEFT"),
                     ("BLPOP", "a", "b", "0"), ("LMOVE", "a", "b", "LEFT", "LEFT")):
            assert t.call("COMMAND", "GETKEYS", *args) == \
                ref.call("COMMAND", "GETKEYS", *args), args
    finally:
        t.close()
        ref.close()
    for name in LIST_COMMANDS:
        a, b = ours[name.encode()], theirs[name.encode()]
        for field in (b"summary", b"since", b"group", b"complexity", b"history",
                      b"doc_flags", b"deprecated_since", b"replaced_by"):
            assert a.get(field) == b.get(field), (name, field)
        assert _cli_params(a.get(b"arguments", [])) == _cli_params(b.get(b"arguments", [])), \
            name


# --------------------------------------------------------------------------------------------
# Hypothesis: random sequences under random options
# --------------------------------------------------------------------------------------------

KEYS = ["k1", "k2", "k3"]
_elem = st.one_of(
    st.sampled_from(["a", "b", "c", "0", "1", "-1", "42", "007", "", "x" * 60]),
    st.integers(-70000, 70000).map(str),
    st.text("abcxyz", min_size=1, max_size=12),
)
_key = st.sampled_from(KEYS)
_idx = st.integers(-8, 8).map(str)
_where = st.sampled_from(["LEFT", "RIGHT"])

list_ops = st.one_of(
    st.tuples(st.sampled_from(["LPUSH", "RPUSH", "LPUSHX", "RPUSHX"]), _key,
              st.lists(_elem, min_size=1, max_size=12)).map(lambda t: (t[0], t[1], *t[2])),
    st.tuples(st.sampled_from(["LPOP", "RPOP"]), _key),
    st.tuples(st.sampled_from(["LPOP", "RPOP"]), _key, st.integers(0, 6).map(str)),
    st.tuples(st.just("LRANGE"), _key, _idx, _idx),
    st.tuples(st.just("LINDEX"), _key, _idx),
    st.tuples(st.just("LSET"), _key, _idx, _elem),
    st.tuples(st.just("LINSERT"), _key, st.sampled_from(["BEFORE", "AFTER"]), _elem, _elem),
    st.tuples(st.just("LREM"), _key, st.integers(-3, 3).map(str), _elem),
    st.tuples(st.just("LTRIM"), _key, _idx, _idx),
    st.tuples(st.just("LPOS"), _key, _elem, st.sampled_from(["RANK", "COUNT", "MAXLEN"]),
              st.integers(-3, 3).map(str)),
    st.tuples(st.just("LMOVE"), _key, _key, _where, _where),
    st.tuples(st.just("RPOPLPUSH"), _key, _key),
    st.tuples(st.just("LMPOP"), st.just("2"), _key, _key, _where, st.just("COUNT"),
              st.integers(1, 5).map(str)),
    # A short timeout: on empty keys both servers answer nil after it.
    st.tuples(st.sampled_from(["BLPOP", "BRPOP"]), _key, _key, st.just("0.01")),
    st.tuples(st.just("BLMOVE"), _key, _key, _where, _where, st.just("0.01")),
    st.tuples(st.just("LLEN"), _key),
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(fill=st.sampled_from([-5, -2, -1, 1, 2, 3, 5, 16]),
       depth=st.sampled_from([0, 1, 2]),
       ops=st.lists(list_ops, min_size=1, max_size=30))
def test_random_sequences(d, fill, depth, ops):
    d.t.flushall()
    d.ref.flushall()
    set_options(d, fill, depth)
    for op in ops:
        d(*op)
        for k in KEYS:
            d("OBJECT", "ENCODING", k)
    for k in KEYS:
        d("LRANGE", k, "0", "-1")
        d("MEMORY", "USAGE", k, "SAMPLES", "0")
    d.digest()
