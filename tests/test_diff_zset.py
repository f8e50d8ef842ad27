"""Differential tests of sorted sets: tracered against Debian's redis-server 7.0.15.

Replies are compared as exact protocol bytes, in RESP2 and in RESP3 (so "-0" vs "0", "inf",
the "%.17g" digits and RESP3's ``,`` doubles and nested [member, score] pairs all count).
OBJECT ENCODING of the keys involved is compared after every step, through the listpack ->
skiplist threshold conversions, CONFIG SET of the thresholds and the *STORE commands that
build listpacks again; each scenario ends with DEBUG DIGEST.

What Redis leaves to chance is compared through what is deterministic about it: ZRANDMEMBER
sizes and membership (its whole-set case is ordered and compared exactly), ZSCAN of a
skiplist as the set of pairs seen over a full iteration.  Lex ranges are only asked of sorted
sets whose scores are all equal: otherwise a skiplist's answer depends on its random levels.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_t_hash import Raw


class RawDiff:
    """The same command to both servers over bare sockets; the reply bytes must be equal."""

    def __init__(self, tport: int, rport: int, resp: int) -> None:
        self.t = Raw(tport)
        self.ref = Raw(rport)
        self.resp = resp
        if resp == 3:
            self.t("HELLO", "3")
            self.ref("HELLO", "3")

    def close(self) -> None:
        self.t.close()
        self.ref.close()

    def both(self, *args) -> tuple[bytes, bytes]:
        return self.t(*args), self.ref(*args)

    def __call__(self, *args, keys=()) -> bytes:
        a, b = self.both(*args)
        assert a == b, f"{args!r}: tracered={a!r} redis={b!r}"
        for k in keys:
            self.encoding(k)
        return a

    def encoding(self, key) -> bytes:
        return self("OBJECT", "ENCODING", key)

    def digest(self) -> bytes:
        return self("DEBUG", "DIGEST")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def d(request, r, rr, tracered_server, redis_server):
    rd = RawDiff(tracered_server.port, redis_server.port, request.param)
    yield rd
    for name, value in (("zset-max-listpack-entries", "128"),
                        ("zset-max-listpack-value", "64")):
        rd.both("CONFIG", "SET", name, value)
    rd.close()


def run_script(d: RawDiff, lines: str, keys=()) -> None:
    """One command per line (whitespace-split); every key in ``keys`` is compared by
    OBJECT ENCODING after each step."""
    for line in lines.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            d(*line.split(), keys=keys)


# --------------------------------------------------------------------------------------------
# Hand-written scenarios
# --------------------------------------------------------------------------------------------

ZADD_SCRIPT = """
ZADD z 1 a 2 b 1.5 c
ZADD z NX XX 1 a
ZADD z GT LT 1 a
ZADD z NX GT 1 a
ZADD z INCR 1 a 2 b
ZADD z 1
ZADD z abc a
ZADD z nan a
ZADD z 1e400 a
ZADD z inf a
ZADD z INCR -inf a
ZADD z CH 5 a 6 b 7 new
ZADD z XX 10 nope
ZADD z GT 1 a
ZADD z LT 1 a
ZADD z GT CH 100 a
ZADD z INCR 1 q
ZADD z XX INCR 1 zz
ZADD zz XX INCR 1 zz
ZADD zz XX 1 zz
EXISTS zz
ZINCRBY z 2.5 b
ZINCRBY z abc b
ZINCRBY z 1 b c
ZINCRBY z nx a
ZADD z -0 negz 0x10 hex 4e-320 tiny
ZADD z 1e308 big -1e308 nbig 1.1 f 0.1 g 3.0000000000000004 h 9007199254740993 i
ZADD z 4611686018427387904 p62 -4611686018427387904 n62 4611686018427387905 p62b
ZRANGE z 0 -1 WITHSCORES
ZSCORE z negz
ZSCORE z nope
ZSCORE nokey a
ZMSCORE z a nope big
ZMSCORE nokey a b
ZRANK z a
ZREVRANK z a
ZRANK z nope
ZCARD z
ZCARD nokey
ZREM z a nope
ZREM nokey a
ZRANGE z 0 -1 WITHSCORES
"""

RANGE_SCRIPT = """
ZCOUNT z -inf +inf
ZCOUNT z (1 3
ZCOUNT z "" 5
ZCOUNT z x 5
ZRANGE z 0 -1
ZRANGE z 2 1
ZRANGE z -100 100 WITHSCORES
ZRANGE z 0 -1 REV WITHSCORES
ZRANGE z (1 +inf BYSCORE WITHSCORES
ZRANGE z +inf (1 BYSCORE REV WITHSCORES
ZRANGE z -inf +inf BYSCORE LIMIT 1 2
ZRANGE z -inf +inf BYSCORE LIMIT -1 2
ZRANGE z -inf +inf BYSCORE LIMIT 1 -5
ZRANGE z -inf +inf BYSCORE LIMIT 100 1
ZRANGE z 0 -1 LIMIT 0 1
ZRANGE z 0 -1 BYSCORE BYLEX
ZRANGE z 0 -1 REV REV
ZRANGE z 0 -1 WITHSCORES WITHSCORES
ZRANGE z a b
ZRANGE z 0 1 LIMIT
ZRANGE z - + BYLEX WITHSCORES
ZRANGEBYSCORE z -inf inf WITHSCORES LIMIT 0 3
ZRANGEBYSCORE z (2 (3
ZRANGEBYSCORE z 3 2
ZRANGEBYSCORE z nan 1
ZREVRANGEBYSCORE z inf -inf WITHSCORES LIMIT 0 3
ZRANGEBYSCORE z -inf inf REV
ZREVRANGE z 0 2 WITHSCORES
ZREVRANGE z 0 2 LIMIT 0 1
ZRANGEBYLEX z - + WITHSCORES
ZREMRANGEBYSCORE z 100 200
ZREMRANGEBYSCORE z x 1
ZREMRANGEBYLEX z x y
ZREMRANGEBYRANK z a 1
ZREMRANGEBYRANK z 0 0
ZREMRANGEBYRANK z -1 -1
ZREMRANGEBYSCORE z (1 2
ZRANGE z 0 -1 WITHSCORES
"""

LEX_SCRIPT = """
ZADD l 0 a 0 b 0 c 0 d 0 e 0 ee 0 f 0 007 0 10
ZRANGEBYLEX l - +
ZRANGEBYLEX l [b (e
ZRANGEBYLEX l (b [ee LIMIT 1 2
ZRANGEBYLEX l [b [e LIMIT -1 2
ZREVRANGEBYLEX l + - LIMIT 0 3
ZREVRANGEBYLEX l [ee (a
ZRANGE l [c + BYLEX LIMIT 0 2
ZRANGE l + [c BYLEX REV
ZRANGEBYLEX l a b
ZRANGEBYLEX l [z [a
ZLEXCOUNT l - +
ZLEXCOUNT l (a [c
ZLEXCOUNT l +a -
ZRANK l 10
ZSCORE l 007
ZREMRANGEBYLEX l [c [d
ZREMRANGEBYLEX l - [b
ZRANGE l 0 -1
"""

POP_SCRIPT = """
ZADD p 1 a 2 b 3 c 4 d 5 e -inf ninf inf pinf
ZPOPMIN p
ZPOPMAX p
ZPOPMIN p 2
ZPOPMAX p 0
ZPOPMIN p -1
ZPOPMIN p abc
ZPOPMIN p 1 2
ZPOPMIN nokey
ZPOPMIN nokey 3
ZMPOP 1 p MIN
ZMPOP 2 nokey p MAX COUNT 10
ZMPOP 1 nokey MIN
ZMPOP 0 p MIN
ZMPOP 1 p foo
ZMPOP 1 p MIN COUNT 0
ZMPOP 1 p MIN COUNT 1 COUNT 2
ZMPOP 1 p
ZADD p 1 a 2 b
BZPOPMIN nokey p 0
BZPOPMAX p 0.5
BZPOPMIN p -1
BZPOPMIN p abc
BZPOPMIN p inf
ZADD p 1 a 2 b 3 c
BZMPOP 0 1 p MAX COUNT 2
BZMPOP 0 2 nokey p MIN
EXISTS p
BZMPOP 0.01 1 p MIN
BZPOPMAX p 0.01
"""

SETOP_SCRIPT = """
ZADD z1 1 a 2 b 3 c
ZADD z2 10 b 20 c 30 d
SADD s1 a d e
SADD s2 1 2 3
ZADD z3 5 1 6 2
ZADD zi inf a -inf b 1e308 c
ZADD zn -inf a inf b 1e308 c
ZUNION 2 z1 z2 WITHSCORES
ZINTER 2 z1 z2 WITHSCORES
ZDIFF 2 z1 z2 WITHSCORES
ZUNION 3 z1 z2 s1 WITHSCORES
ZUNION 3 z1 z2 s1 WEIGHTS 1 2 3 WITHSCORES
ZUNION 3 z1 z2 s1 WEIGHTS 1 2 WITHSCORES
ZUNION 3 z1 z2 s1 AGGREGATE MIN WITHSCORES
ZUNION 3 z1 z2 s1 AGGREGATE max WITHSCORES
ZUNION 3 z1 z2 s1 AGGREGATE foo
ZINTER 3 z1 z2 s1 WITHSCORES
ZINTER 2 z1 s1 WEIGHTS 2 inf WITHSCORES
ZINTER 2 z3 s2 WITHSCORES
ZUNION 2 z3 s2 WITHSCORES AGGREGATE MAX
ZDIFF 2 s2 z3 WITHSCORES
ZDIFF 2 s1 z1
ZUNION 2 zi zn WITHSCORES
ZUNION 2 zi zn WEIGHTS 0 1 WITHSCORES
ZINTER 2 zi zn AGGREGATE MIN WITHSCORES
ZINTER 2 zi zi WITHSCORES
ZUNION 2 zi zi WEIGHTS -1 1 WITHSCORES
ZDIFF 1 z1 WEIGHTS 1
ZUNION 0 z1
ZUNION -1 z1
ZUNION abc z1
ZUNION 3 z1 z2
ZUNION 1 z1 WEIGHTS x
ZUNIONSTORE out 2 z1 z2
ZRANGE out 0 -1 WITHSCORES
ZINTERSTORE out 2 z1 z2 WEIGHTS 0 1
ZRANGE out 0 -1 WITHSCORES
ZDIFFSTORE out 2 z1 z2
ZRANGE out 0 -1 WITHSCORES
ZDIFFSTORE out 2 z1 z1
EXISTS out
ZUNIONSTORE out 1 nokey
ZINTERSTORE out 2 z1 z2 WITHSCORES
ZINTERCARD 2 z1 z2
ZINTERCARD 3 z1 z2 s1
ZINTERCARD 2 z1 z2 LIMIT 1
ZINTERCARD 2 z1 z2 LIMIT -1
ZINTERCARD 0 z1
ZINTERCARD 2 z1 z2 WEIGHTS 1 2
ZUNION 2 z1 z1 WITHSCORES
ZUNION 2 z1 nokey WITHSCORES
ZINTER 2 z1 nokey WITHSCORES
SET str x
ZUNION 2 z1 str
ZINTERSTORE out 1 str
ZRANGESTORE dst z1 0 -1
ZRANGESTORE dst z1 0 -1 WITHSCORES
ZRANGESTORE dst z1 (1 inf BYSCORE
ZRANGE dst 0 -1 WITHSCORES
ZRANGESTORE dst z1 [b + BYLEX
ZRANGESTORE dst z1 5 10
EXISTS dst
ZRANGESTORE dst nokey 0 -1
ZRANGESTORE dst str 0 -1
ZRANGESTORE str z1 0 0
TYPE str
"""


def test_zadd_and_reads(d):
    run_script(d, ZADD_SCRIPT, keys=("z", "zz"))
    d.digest()


def test_ranges(d):
    d("ZADD", "z", "1", "a", "2", "b", "2", "c", "3", "d", "-0", "e", "inf", "f", "-inf", "g")
    run_script(d, RANGE_SCRIPT, keys=("z",))
    d.digest()


def test_ranges_skiplist(d):
    d("CONFIG", "SET", "zset-max-listpack-entries", "2")
    d("ZADD", "z", "1", "a", "2", "b", "2", "c", "3", "d", "-0", "e", "inf", "f", "-inf", "g",
      keys=("z",))
    run_script(d, RANGE_SCRIPT, keys=("z",))
    d.digest()


@pytest.mark.parametrize("entries", ["128", "3"])
def test_lex(d, entries):
    d("CONFIG", "SET", "zset-max-listpack-entries", entries)
    run_script(d, LEX_SCRIPT, keys=("l",))
    d.digest()


@pytest.mark.parametrize("entries", ["128", "3"])
def test_pops(d, entries):
    d("CONFIG", "SET", "zset-max-listpack-entries", entries)
    run_script(d, POP_SCRIPT, keys=("p",))
    d.digest()


@pytest.mark.parametrize("entries", ["128", "2"])
def test_set_operations(d, entries):
    d("CONFIG", "SET", "zset-max-listpack-entries", entries)
    run_script(d, SETOP_SCRIPT, keys=("out", "dst", "z1", "z2"))
    d.digest()


def test_wrongtype_everywhere(d):
    d("SET", "s", "v")
    for args in (("ZADD", "s", "1", "a"), ("ZINCRBY", "s", "1", "a"), ("ZREM", "s", "a"),
                 ("ZCARD", "s"), ("ZSCORE", "s", "a"), ("ZMSCORE", "s", "a"),
                 ("ZRANK", "s", "a"), ("ZREVRANK", "s", "a"), ("ZCOUNT", "s", "0", "1"),
                 ("ZLEXCOUNT", "s", "-", "+"), ("ZRANGE", "s", "0", "1"),
                 ("ZRANGEBYSCORE", "s", "0", "1"), ("ZREVRANGEBYLEX", "s", "+", "-"),
                 ("ZREMRANGEBYRANK", "s", "0", "1"), ("ZREMRANGEBYSCORE", "s", "0", "1"),
                 ("ZREMRANGEBYLEX", "s", "-", "+"), ("ZPOPMIN", "s"), ("ZPOPMAX", "s", "2"),
                 ("ZMPOP", "1", "s", "MIN"), ("BZPOPMIN", "s", "0"),
                 ("BZMPOP", "0", "1", "s", "MAX"), ("ZRANDMEMBER", "s"),
                 ("ZRANDMEMBER", "s", "2"), ("ZSCAN", "s", "0"), ("ZUNION", "1", "s"),
                 ("ZINTERCARD", "1", "s"), ("ZDIFFSTORE", "d", "1", "s"),
                 ("ZRANGESTORE", "d", "s", "0", "-1")):
        d(*args)


def test_arity_errors(d):
    for args in (("ZADD", "k", "1"), ("ZCARD",), ("ZSCORE", "k"), ("ZMSCORE", "k"),
                 ("ZRANGESTORE", "d", "s", "0"), ("ZREMRANGEBYRANK", "k", "0"),
                 ("BZPOPMIN", "k"), ("BZMPOP", "0", "1", "k"), ("ZMPOP", "1", "k"),
                 ("ZUNIONSTORE", "d", "1"), ("ZINTER", "1"), ("ZRANK", "k"),
                 ("ZSCAN", "k"), ("ZRANDMEMBER",), ("ZPOPMIN",), ("ZINTERCARD", "1")):
        d(*args)


# --------------------------------------------------------------------------------------------
# Encodings: thresholds, CONFIG SET, conversions back to listpack, -0 across them
# --------------------------------------------------------------------------------------------

def test_thresholds_and_config_set(d):
    script = """
    CONFIG SET zset-max-listpack-entries 3
    ZADD z 1 a 2 b 3 c
    ZADD z 4 d
    ZREM z d c b
    ZADD z -0 negz 0 zero
    ZSCORE z negz
    ZRANGE z 0 -1 WITHSCORES
    ZADD y -0 negz
    ZSCORE y negz
    ZADD w 1 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
    ZUNIONSTORE u 1 z
    ZRANGE u 0 -1 WITHSCORES
    ZUNIONSTORE u 2 z y
    ZUNIONSTORE u 1 w
    ZINTERSTORE u 2 z z
    ZDIFFSTORE u 2 z y
    ZRANGESTORE r z 0 -1
    ZRANGESTORE r z 0 1
    ZRANGESTORE r z -inf +inf BYSCORE
    ZRANGESTORE r w 0 -1
    ZRANGESTORE r z - + BYLEX LIMIT 0 2
    CONFIG SET zset-max-listpack-entries 0
    ZADD e 1 a
    ZRANGESTORE r y 0 -1
    ZUNIONSTORE u 1 y
    ZRANGESTORE r z 5 9
    CONFIG SET zset-max-listpack-entries 128
    CONFIG SET zset-max-listpack-value 2
    ZADD v 1 abc
    ZADD v2 1 ab
    ZADD v2 1 abc
    ZUNIONSTORE u 1 v2
    CONFIG SET zset-max-listpack-value 64
    CONFIG SET zset-max-ziplist-entries 5
    CONFIG GET zset-max-listpack-entries
    CONFIG GET zset-max-ziplist-value
    ZADD q 1.5 a 2.25 b 1e20 c -1e-5 d inf e -inf f
    ZADD q 1 g
    ZRANGE q 0 -1 WITHSCORES
    COPY q qc
    COPY z zc
    ZPOPMIN q 10
    """
    run_script(d, script, keys=("z", "y", "w", "u", "r", "e", "v", "v2", "q", "qc", "zc"))
    d.digest()


def test_conversion_at_exact_thresholds(d):
    for i in range(128):
        d("ZADD", "z", str(i), f"m{i}")
    d.encoding("z")
    d("ZADD", "z", "1000", "one-more", keys=("z",))
    d("ZADD", "v", "1", "x" * 64, keys=("v",))
    d("ZADD", "v", "1", "x" * 65, keys=("v",))
    d("ZADD", "nv", "1", "y" * 65, keys=("nv",))
    d("ZREMRANGEBYRANK", "z", "0", "-3", keys=("z",))
    d("ZUNIONSTORE", "u", "1", "z", keys=("u",))
    d("ZINTERSTORE", "u", "2", "z", "nv", keys=("u",))
    d("ZRANGE", "z", "0", "-1", "WITHSCORES")
    d.digest()


def test_zrandmember_deterministic_parts(d):
    d("ZADD", "z", "1", "a", "2.5", "b", "-0", "c")
    d("CONFIG", "SET", "zset-max-listpack-entries", "1")
    d("ZADD", "s", "1", "a", "2.5", "b", "-0", "c")
    for key in ("z", "s"):
        d("ZRANDMEMBER", key, "3", "WITHSCORES")       # whole set: walked from the top
        d("ZRANDMEMBER", key, "100")
        d("ZRANDMEMBER", key, "0")
        d("ZRANDMEMBER", key, "0", "WITHSCORES")
        d("ZRANDMEMBER", key, "1", "x")
        d("ZRANDMEMBER", key, "x")
        d("ZRANDMEMBER", key, str(2**62), "WITHSCORES")
        d("ZRANDMEMBER", key, str(-2**63))
        for args in ((key,), (key, "2"), (key, "-5", "WITHSCORES")):
            a, b = d.both("ZRANDMEMBER", *args)
            assert a.split(b"\r\n", 1)[0] == b.split(b"\r\n", 1)[0], args   # same length
    d("ZRANDMEMBER", "nokey")
    d("ZRANDMEMBER", "nokey", "5", "WITHSCORES")


def test_zscan(d):
    d("ZADD", "small", "1", "a", "1.5", "b", "inf", "c", "-0", "d", "1e20", "e")
    d("ZSCAN", "small", "0")
    d("ZSCAN", "small", "0", "MATCH", "[a-c]", "COUNT", "1")
    d("ZSCAN", "small", "x")
    d("ZSCAN", "small", "0", "COUNT", "0")
    d("ZSCAN", "nokey", "0")
    d("CONFIG", "SET", "zset-max-listpack-entries", "2")
    d("ZADD", "big", *[v for i in range(50) for v in (repr(i / 3), f"m{i}")])
    d("ZADD", "big", "-0", "negz", "inf", "pinf")
    seen = []
    for side in (d.t, d.ref):
        pairs = set()
        cursor = b"0"
        for _ in range(200):
            reply = side("ZSCAN", "big", cursor, "COUNT", "7")
            parts = reply.split(b"\r\n")
            cursor = parts[2]
            items = parts[5::2]
            pairs.update(zip(items[0::2], items[1::2], strict=True))
            if cursor == b"0":
                break
        seen.append(pairs)
    assert seen[0] == seen[1] and len(seen[0]) == 52


# --------------------------------------------------------------------------------------------
# Hypothesis: random command sequences over a few keys, small thresholds
# --------------------------------------------------------------------------------------------

SCORES = ["0", "-0", "1", "-1", "2", "1.5", "0.1", "-2.5", "inf", "-inf", "+inf", "1e308",
          "-1e308", "4611686018427387904", "9007199254740993", "3.0", "1e-300", "7"]
MEMBERS = ["a", "b", "c", "d", "e", "1", "10", "-3", "007", "xxxxxxxxxx", ""]
BOUNDS = ["-inf", "+inf", "0", "(0", "1", "(1", "2.5", "(-1", "inf", "-0", "x"]
LEX = ["-", "+", "[a", "(a", "[c", "(d", "[1", "[", "a"]
ZKEYS = ["z1", "z2", "z3"]
ANYKEYS = ZKEYS + ["s", "nokey"]

score = st.sampled_from(SCORES)
member = st.sampled_from(MEMBERS)
zkey = st.sampled_from(ZKEYS)
anykey = st.sampled_from(ANYKEYS)
bound = st.sampled_from(BOUNDS)
idx = st.integers(-6, 6).map(str)


def _pairs(draw_pairs):
    return [v for s, m in draw_pairs for v in (s, m)]


command = st.one_of(
    st.tuples(st.just("ZADD"), zkey,
              st.lists(st.sampled_from(["NX", "XX", "GT", "LT", "CH"]), max_size=2,
                       unique=True),
              st.lists(st.tuples(score, member), min_size=1, max_size=4)).map(
        lambda t: (t[0], t[1], *t[2], *_pairs(t[3]))),
    st.tuples(st.just("ZINCRBY"), zkey, score, member),
    st.tuples(st.just("ZADD"), zkey, st.just("INCR"), score, member),
    st.tuples(st.just("ZREM"), zkey, member, member),
    st.tuples(st.sampled_from(["ZSCORE", "ZRANK", "ZREVRANK"]), zkey, member),
    st.tuples(st.just("ZMSCORE"), zkey, member, member),
    st.tuples(st.just("ZCARD"), zkey),
    st.tuples(st.just("ZCOUNT"), zkey, bound, bound),
    st.tuples(st.just("ZRANGE"), zkey, idx, idx,
              st.sampled_from([(), ("WITHSCORES",), ("REV", "WITHSCORES")])).map(
        lambda t: (*t[:4], *t[4])),
    st.tuples(st.just("ZRANGE"), zkey, bound, bound, st.just("BYSCORE"),
              st.sampled_from([(), ("REV",), ("WITHSCORES",), ("LIMIT", "1", "2"),
                               ("REV", "LIMIT", "0", "-1", "WITHSCORES")])).map(
        lambda t: (*t[:5], *t[5])),
    st.tuples(st.sampled_from(["ZREMRANGEBYSCORE"]), zkey, bound, bound),
    st.tuples(st.just("ZREMRANGEBYRANK"), zkey, idx, idx),
    st.tuples(st.sampled_from(["ZPOPMIN", "ZPOPMAX"]), zkey,
              st.sampled_from([(), ("1",), ("3",)])).map(lambda t: (*t[:2], *t[2])),
    st.tuples(st.just("ZMPOP"), st.just("2"), zkey, zkey, st.sampled_from(["MIN", "MAX"]),
              st.just("COUNT"), st.sampled_from(["1", "2", "10"])),
    st.tuples(st.sampled_from(["ZUNIONSTORE", "ZINTERSTORE"]), zkey, st.just("2"), anykey,
              anykey, st.sampled_from([(), ("WEIGHTS", "2", "-0.5"), ("AGGREGATE", "MIN"),
                                       ("AGGREGATE", "MAX"), ("WEIGHTS", "0", "inf")])).map(
        lambda t: (*t[:5], *t[5])),
    st.tuples(st.just("ZDIFFSTORE"), zkey, st.just("2"), anykey, anykey),
    st.tuples(st.sampled_from(["ZUNION", "ZINTER", "ZDIFF"]), st.just("3"), anykey, anykey,
              anykey, st.just("WITHSCORES")),
    st.tuples(st.just("ZINTERCARD"), st.just("2"), anykey, anykey),
    st.tuples(st.just("ZRANGESTORE"), zkey, zkey, idx, idx),
    st.tuples(st.just("ZRANGESTORE"), zkey, zkey, bound, bound, st.just("BYSCORE")),
    st.tuples(st.just("ZADD"), st.just("lex"), st.just("0"), member),
    st.tuples(st.sampled_from(["ZRANGEBYLEX", "ZLEXCOUNT", "ZREMRANGEBYLEX"]), st.just("lex"),
              st.sampled_from(LEX), st.sampled_from(LEX)),
    st.tuples(st.just("ZRANDMEMBER"), zkey, st.just("100"), st.just("WITHSCORES")),
)


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(cmds=st.lists(command, min_size=5, max_size=35),
       entries=st.sampled_from(["2", "4", "128"]), value=st.sampled_from(["3", "64"]))
def test_random_sequences(d, cmds, entries, value):
    d.both("FLUSHALL")
    d("CONFIG", "SET", "zset-max-listpack-entries", entries)
    d("CONFIG", "SET", "zset-max-listpack-value", value)
    d("SADD", "s", "a", "1", "10", "e")
    for args in cmds:
        d(*args, keys=("lex", *ZKEYS))
    d.digest()
