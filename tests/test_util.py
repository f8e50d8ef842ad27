"""tracered.util against Redis 7.0.15's util.c: tables of known behaviour, a model of the C glob
walk, and differential checks against a real redis-server (KEYS, INCRBY, INCRBYFLOAT, ZSCAN,
ZSCORE, CONFIG SET maxmemory, INFO)."""

from __future__ import annotations

import math
import os
import random
import shutil
import socket
import subprocess
import time

import pytest

from tracered.util import (
    LD_STR_AUTO,
    LD_STR_HEX,
    LD_STR_HUMAN,
    LLONG_MAX,
    LLONG_MIN,
    ULLONG_MAX,
    LongDouble,
    bytes_to_human,
    compile_string_match,
    d2string,
    digits10,
    double2ll,
    fixedpoint_d2string,
    fmt_17g,
    get_random_hex_chars,
    human_bytes,
    ld2string,
    ld_isfinite,
    ll2string,
    memtoull,
    mstime,
    sdigits10,
    string2d,
    string2l,
    string2ld,
    string2ll,
    string2ull,
    string_match,
    string_match_len,
    trim_double_string,
    ull2string,
    ustime,
)

# ----------------------------------------------------------------------------------------------
# A real redis-server for differential checks


def _redis_server_path() -> str | None:
    return shutil.which("redis-server") or (
        "/usr/bin/redis-server" if os.path.exists("/usr/bin/redis-server") else None)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def real_redis(tmp_path_factory):
    redis = pytest.importorskip("redis")
    path = _redis_server_path()
    if path is None:
        pytest.skip("redis-server is not installed (.ci/run installs Debian's redis-server)")
    workdir = tmp_path_factory.mktemp("redis-util")
    port = _free_port()
    proc = subprocess.Popen(
        [path, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--enable-debug-command", "yes", "--dir", str(workdir), "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield client
        client.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# ----------------------------------------------------------------------------------------------
# A line-by-line model of stringmatchlen_impl (recursive, with its skip-longer-matches flag),
# used as the oracle for the compiled matcher. It reads one byte past the pattern's end as NUL,
# as the C does with an sds.


def _c_lower(c: int) -> int:
    return c + 32 if 65 <= c <= 90 else c


def _c_signed(b: int) -> int:
    return b - 256 if b > 127 else b


def model_stringmatchlen(pattern: bytes, string: bytes, nocase: bool = False) -> bool:
    pat = pattern + b"\0"
    skip = [False]

    def walk(pi: int, plen: int, si: int, slen: int) -> bool:
        while plen and slen:
            c = pat[pi]
            if c == 42:  # '*'
                while plen and pat[pi + 1] == 42:
                    pi += 1
                    plen -= 1
                if plen == 1:
                    return True
                while slen:
                    if walk(pi + 1, plen - 1, si, slen):
                        return True
                    if skip[0]:
                        return False
                    si += 1
                    slen -= 1
                skip[0] = True
                return False
            if c == 63:  # '?'
                si += 1
                slen -= 1
            elif c == 91:  # '['
                pi += 1
                plen -= 1
                negate = pat[pi] == 94
                if negate:
                    pi += 1
                    plen -= 1
                hit = False
                sc = string[si]
                while True:
                    if pat[pi] == 92 and plen >= 2:
                        pi += 1
                        plen -= 1
                        hit = hit or pat[pi] == sc
                    elif pat[pi] == 93:
                        break
                    elif plen == 0:
                        pi -= 1
                        plen += 1
                        break
                    elif plen >= 3 and pat[pi + 1] == 45:
                        lo, hi, x = _c_signed(pat[pi]), _c_signed(pat[pi + 2]), _c_signed(sc)
                        if lo > hi:
                            lo, hi = hi, lo
                        if nocase:
                            lo, hi, x = _c_lower(lo), _c_lower(hi), _c_lower(x)
                        pi += 2
                        plen -= 2
                        hit = hit or lo <= x <= hi
                    elif nocase:
                        hit = hit or _c_lower(_c_signed(pat[pi])) == _c_lower(_c_signed(sc))
                    else:
                        hit = hit or pat[pi] == sc
                    pi += 1
                    plen -= 1
                if negate:
                    hit = not hit
                if not hit:
                    return False
                si += 1
                slen -= 1
            else:
                if c == 92 and plen >= 2:
                    pi += 1
                    plen -= 1
                a, b = pat[pi], string[si]
                if nocase:
                    a, b = _c_lower(_c_signed(a)), _c_lower(_c_signed(b))
                if a != b:
                    return False
                si += 1
                slen -= 1
            pi += 1
            plen -= 1
            if slen == 0:
                while plen > 0 and pat[pi] == 42:
                    pi += 1
                    plen -= 1
                break
        return plen == 0 and slen == 0

    return walk(0, len(pattern), 0, len(string))


# ----------------------------------------------------------------------------------------------
# stringmatchlen

GLOB_CASES = [
    # pattern, string, nocase, expected
    (b"", b"", False, True),
    (b"", b"a", False, False),
    (b"*", b"", False, False),  # the C loop never runs on an empty string
    (b"*", b"anything", False, True),
    (b"**", b"x", False, True),
    (b"a*", b"a", False, True),
    (b"a*", b"", False, False),
    (b"*a", b"a", False, True),
    (b"a*a", b"a", False, False),
    (b"a*a", b"aa", False, True),
    (b"h?llo", b"hello", False, True),
    (b"h?llo", b"hllo", False, False),
    (b"h*llo", b"hllo", False, True),
    (b"h[ae]llo", b"hallo", False, True),
    (b"h[ae]llo", b"hillo", False, False),
    (b"h[^e]llo", b"hallo", False, True),
    (b"h[^e]llo", b"hello", False, False),
    (b"h[a-b]llo", b"hbllo", False, True),
    (b"h[b-a]llo", b"hallo", False, True),  # reversed range is swapped
    (b"[z-a]", b"m", False, True),
    (b"h\\*llo", b"h*llo", False, True),
    (b"h\\*llo", b"hello", False, False),
    (b"\\", b"\\", False, True),  # trailing backslash is literal
    (b"a\\", b"a\\", False, True),
    (b"[", b"[", False, False),  # unterminated empty class matches nothing
    (b"[", b"a", False, False),
    (b"[^", b"x", False, True),  # unterminated negated empty class matches any byte
    (b"[a", b"a", False, True),  # unterminated class runs to the end
    (b"[ab", b"b", False, True),
    (b"[]", b"]", False, False),
    (b"[]a]", b"]", False, False),
    (b"[]a]", b"a]", False, False),
    (b"[^]", b"q", False, True),
    (b"[a-]", b"_", False, True),  # "a-]" is the range ']'..'a'
    (b"[a-]", b"b", False, False),
    (b"[\\]]", b"]", False, True),
    (b"[\\", b"\\", False, True),
    (b"HELLO", b"hello", False, False),
    (b"HELLO", b"hello", True, True),
    (b"h[A-C]llo", b"hbllo", True, True),
    (b"h[Z-a]llo", b"hzllo", True, False),  # nocase lowers range ends after the swap
    (b"[\\A]", b"a", True, False),  # escaped class members compare exactly
    (b"[\\A]", b"A", True, True),
    (b"\\A", b"a", True, True),  # an escaped literal outside a class honours nocase
    (b"[a-\xe1]", b"\xf0", False, True),  # signed chars: -31..97 covers 0xe1..0xff
    (b"[a-\xe1]", b"b", False, False),
    (b"[a-\xe1]", b"\x00", False, True),
    (b"user:*", b"user:1000", False, True),
    (b"user:*", b"users:1000", False, False),
    (b"*:1000", b"user:1000", False, True),
    (b"*er:1*", b"user:1000", False, True),
    (b"u*0", b"user:1000", False, True),
    (b"u*1", b"user:1000", False, False),
]


@pytest.mark.parametrize("pattern,string,nocase,expected", GLOB_CASES)
def test_string_match_len_table(pattern, string, nocase, expected):
    assert model_stringmatchlen(pattern, string, nocase) is expected
    assert string_match_len(pattern, string, nocase) is expected
    assert compile_string_match(pattern, nocase)(string) is expected


def test_string_match_stops_at_nul():
    assert string_match(b"ab\0zzz", b"ab")
    assert string_match(b"a*", b"ab\0c")
    assert not string_match_len(b"a*", b"\0a")


def test_string_match_len_pathological_is_bounded():
    cases = [
        (b"a*" * 60 + b"b", b"a" * 200),
        (b"*a" * 2000 + b"b", b"a" * 20000),
        (b"?*" * 1500 + b"b", b"a" * 5000),
        (b"[a-z]*" * 1000 + b"!", b"q" * 20000),
        (b"*" * 10000 + b"a" * 10000 + b"*", b"a" * 9999),
    ]
    for pattern, string in cases:
        for nocase in (False, True):
            start = time.perf_counter()
            assert string_match_len(pattern, string, nocase) is False
            # A hang guard, not a speed test: a backtracking matcher takes hours here.
            assert time.perf_counter() - start < 5, (pattern[:20], nocase)


def test_string_match_len_against_model_fuzz():
    rnd = random.Random(7000)
    pat_alphabet = b"ab*?[]^-\\Az\xe1\x80"
    str_alphabet = b"abAz-]^\\[\xe1\x80\x7f"
    for i in range(15000):
        pattern = bytes(rnd.choice(pat_alphabet) for _ in range(rnd.randint(0, 10)))
        string = bytes(rnd.choice(str_alphabet) for _ in range(rnd.randint(0, 9)))
        nocase = i % 3 == 0
        assert string_match_len(pattern, string, nocase) is model_stringmatchlen(
            pattern, string, nocase), (pattern, string, nocase)


def test_string_match_len_against_real_keys(real_redis):
    """KEYS runs stringmatchlen over every key: compare whole result sets."""
    r = real_redis
    r.select(9)
    r.flushdb()
    rnd = random.Random(42)
    alphabet = b"abcAB-]^[\\*?:\xe1\x80"
    keys = set()
    while len(keys) < 120:
        keys.add(bytes(rnd.choice(alphabet) for _ in range(rnd.randint(1, 6))))
    with r.pipeline(transaction=False) as p:
        for k in keys:
            p.set(k, b"1")
        p.execute()
    pat_alphabet = b"abcAB-]^[\\*?:\xe1"
    patterns = [bytes(rnd.choice(pat_alphabet) for _ in range(rnd.randint(1, 7)))
                for _ in range(300)]
    patterns += [b"a*", b"*b", b"*a*", b"[a-c]*", b"[^a]*", b"*\\*", b"?", b"??", b"[\xe1-a]*"]
    patterns = [p for p in patterns if p != b"*"]  # KEYS short-cuts a lone "*"
    with r.pipeline(transaction=False) as p:
        for pat in patterns:
            p.keys(pat)
        replies = p.execute()
    for pat, reply in zip(patterns, replies, strict=True):
        m = compile_string_match(pat)
        assert set(reply) == {k for k in keys if m(k)}, pat
    r.flushdb()
    r.select(0)


# ----------------------------------------------------------------------------------------------
# integers


STRING2LL_CASES = [
    (b"", None), (b" ", None), (b"-", None), (b" 1", None), (b"1 ", None), (b"01", None),
    (b"+1", None), (b"-0", None), (b"00", None), (b"1.0", None), (b"1e3", None),
    (b"0", 0), (b"1", 1), (b"-1", -1), (b"99", 99), (b"-99", -99),
    (b"9223372036854775807", LLONG_MAX), (b"9223372036854775808", None),
    (b"-9223372036854775808", LLONG_MIN), (b"-9223372036854775809", None),
    (b"18446744073709551615", None), (b"18446744073709551616", None),
    (b"123456789012345678901", None), (b"1_000", None), (b"\xd9\xa1", None), (b"1\0", None),
]


@pytest.mark.parametrize("s,expected", STRING2LL_CASES)
def test_string2ll_table(s, expected):
    assert string2ll(s) == expected
    assert string2l(s) == expected
    if expected is not None:
        assert ll2string(expected) == s  # strictness: parse/print round-trips


def test_string2ll_against_real_incrby(real_redis):
    r = real_redis
    import redis

    cases = [s for s, _ in STRING2LL_CASES if s and b"\0" not in s] + [
        b"4611686018427387904", b"-4611686018427387905", b"12345678901234567890"]
    for s in cases:
        r.set(b"n", s)
        try:
            got = r.incrby(b"n", 0)
        except redis.ResponseError as e:
            assert "not an integer" in str(e)
            got = None
        assert got == string2ll(s), s


def test_string2ull():
    assert string2ull(b"0") == 0
    assert string2ull(b"18446744073709551615") == ULLONG_MAX
    assert string2ull(b"18446744073709551616") is None
    assert string2ull(b"-1") is None  # string2ll parsed it: negative is out of range
    assert string2ull(b"007") == 7  # strtoull fallback accepts what string2ll refused
    assert string2ull(b" +7") == 7
    assert string2ull(b"-01") == ULLONG_MAX  # strtoull wraps negatives
    assert string2ull(b"") is None
    assert string2ull(b"7x") is None


def test_ll2string_and_digits():
    assert ll2string(0) == b"0"
    assert ll2string(LLONG_MIN) == b"-9223372036854775808"
    assert ull2string(ULLONG_MAX) == b"18446744073709551615"
    assert digits10(0) == 1 and digits10(9) == 1 and digits10(10) == 2
    assert digits10(ULLONG_MAX) == 20
    assert sdigits10(-1) == 2 and sdigits10(LLONG_MIN) == 20


def test_memtoull_table():
    assert memtoull(b"1gb") == (1024 ** 3, False)
    assert memtoull(b"1GB") == (1024 ** 3, False)
    assert memtoull(b"1g") == (10 ** 9, False)
    assert memtoull(b"10mb") == (10 * 1024 * 1024, False)
    assert memtoull(b"100k") == (100000, False)
    assert memtoull(b"100kb") == (102400, False)
    assert memtoull(b"5") == (5, False)
    assert memtoull(b"5b") == (5, False)
    assert memtoull("2Mb") == (2 * 1024 * 1024, False)
    assert memtoull(b"") == (0, False)
    assert memtoull(b"gb") == (0, False)
    assert memtoull(b"-1") == (0, True)
    assert memtoull(b"1.5gb") == (0, True)
    assert memtoull(b"1 gb") == (0, True)
    assert memtoull(b"+1") == (0, True)
    assert memtoull(b"1tb") == (0, True)
    assert memtoull(b"9" * 130) == (0, True)
    assert memtoull(b"99999999999999999999") == (ULLONG_MAX, False)  # strtoull saturates


def test_memtoull_against_real_config(real_redis):
    r = real_redis
    import redis

    try:
        for s in [b"1gb", b"10mb", b"100k", b"1K", b"5", b"0", b"1b", b"1g", b"2Mb", b"3mB",
                  b"1.5gb", b"-1", b"1tb", b"12 mb", b"+5"]:
            value, err = memtoull(s)
            try:
                r.config_set("maxmemory", s)
                ok = True
            except redis.ResponseError:
                ok = False
            assert ok is (not err), s
            if ok:
                assert int(r.config_get("maxmemory")["maxmemory"]) == value, s
            r.config_set("maxmemory", 0)
    finally:
        r.config_set("maxmemory", 0)


def test_bytes_to_human():
    assert bytes_to_human(0) == "0B"
    assert bytes_to_human(1023) == "1023B"
    assert bytes_to_human(1024) == "1.00K"
    assert bytes_to_human(1536) == "1.50K"
    assert bytes_to_human(1024 * 1024 * 3 // 2) == "1.50M"
    assert bytes_to_human(1024 ** 3) == "1.00G"
    assert bytes_to_human(1024 ** 4 * 2) == "2.00T"
    assert bytes_to_human(1024 ** 5) == "1.00P"
    assert bytes_to_human(1024 ** 6) == f"{1024 ** 6}B"
    assert human_bytes is bytes_to_human


def test_bytes_to_human_against_real_info(real_redis):
    fields = real_redis.info("memory")  # one INFO reply: raw and human fields agree
    for name in ("used_memory", "used_memory_rss", "used_memory_peak", "total_system_memory"):
        assert bytes_to_human(int(fields[name])) == str(fields[name + "_human"]), name


def test_random_hex_and_clocks():
    run_id = get_random_hex_chars(40)
    assert len(run_id) == 40 and set(run_id) <= set("0123456789abcdef")
    assert get_random_hex_chars(40) != run_id
    assert len(get_random_hex_chars(7)) == 7
    us, ms = ustime(), mstime()
    assert abs(us // 1000 - ms) < 1000
    assert abs(ms / 1000 - time.time()) < 5


# ----------------------------------------------------------------------------------------------
# floating point


STRING2LD_CASES = [
    (b"", None), (b" 1", None), (b"1 ", None), (b"1x", None), (b"nan", None), (b"NaN", None),
    (b"-nan", None), (b".", None), (b"e3", None), (b"1e", None), (b"1e+", None), (b"0x", None),
    (b"1_0", None), (b"1e5000", None), (b"1e-5000", None), (b"--1", None), (b"1\0", None),
    (b"1", "1"), (b"-1.5", "-1.5"), (b".5", "0.5"), (b"5.", "5"), (b"+2", "2"), (b"1e3", "1000"),
    (b"1E-2", "0.01"), (b"0x10", "16"), (b"0x1p3", "8"), (b"0x.8", "0.5"), (b"-0", "0"),
    (b"0.1", "0.1"), (b"inf", "inf"), (b"-Infinity", "-inf"),
    (b"00012.50", "12.5"), (b"0e999999999999", "0"),
]


@pytest.mark.parametrize("s,human", STRING2LD_CASES)
def test_string2ld_table(s, human):
    v = string2ld(s)
    if human is None:
        assert v is None
    else:
        assert v is not None
        assert ld2string(v, LD_STR_HUMAN) == human.encode()


def test_string2ld_beyond_double_range():
    # digits as glibc prints strtold("1e400") with %.17Lf: the exact 64-bit-significand value
    s = ld2string(string2ld(b"1e400"), LD_STR_HUMAN)
    assert len(s) == 401
    assert s.startswith(b"100000000000000000002818806839475865145864534336290520386259")
    assert ld2string(string2ld(b"1e400"), LD_STR_AUTO) == b"1e+400"


# sums computed by a C program (strtold, +, printf "%.17Lf" / "%La") on x86-64 glibc
GLIBC_SUMS = [
    (b"-634.0314931343777971051168", b"176e11", b"17599999999365.96850776672363281",
     b"0x8.00e8dfbec2fbf81p+41"),
    (b"381e15", b"903.02153542819542054", b"381000000000000903.03125",
     b"0xa.932af676d9070e1p+55"),
    (b"-516e16", b"129.645837373219592337", b"-5159999999999999870.5",
     b"-0x8.f3801528207fefdp+59"),
    (b"10.5", b"0.1", b"10.6", b"0xa.99999999999999ap+0"),
]


@pytest.mark.parametrize("a,b,human,hexa", GLIBC_SUMS)
def test_long_double_sums_match_glibc(a, b, human, hexa):
    total = string2ld(a) + string2ld(b)
    assert ld2string(total, LD_STR_HUMAN) == human
    assert ld2string(total, LD_STR_HEX) == hexa


def test_string2ld_length_limit():
    assert string2ld(b"1" + b"0" * 5118) is None  # MAX_LONG_DOUBLE_CHARS
    assert string2ld(b"0." + b"0" * 5000 + b"1") is None
    v = string2ld(b"0." + b"0" * 4000 + b"1")
    assert v is not None and ld2string(v, LD_STR_AUTO) == b"1e-4001"


def test_string2d_table():
    assert string2d(b"1.5") == 1.5
    assert string2d(b"-0") == 0.0 and math.copysign(1, string2d(b"-0")) < 0
    assert string2d(b"0x1p3") == 8.0
    assert string2d(b"inf") == math.inf
    assert string2d(b"1e308") == 1e308
    assert string2d(b"4e-320") == 4e-320  # subnormal: ERANGE but non-zero, accepted
    for bad in (b"", b" 1", b"1 ", b"nan", b"1e309", b"1e-400", b"0x1p-1080", b"1_0", b"abc"):
        assert string2d(bad) is None, bad


def test_long_double_arithmetic():
    a, b = string2ld(b"10.5"), string2ld(b"0.1")
    assert isinstance(a, LongDouble) and isinstance(a, float)
    assert ld2string(a + b, LD_STR_HUMAN) == b"10.6"  # binary64 would say 10.59999999999999964
    assert ld2string(10.5 + 0.1, LD_STR_HUMAN) == b"10.59999999999999964"
    assert ld2string(string2ld(b"0.1") + string2ld(b"0.2"), LD_STR_HUMAN) == b"0.3"
    assert ld2string(string2ld(b"1.5e5") + string2ld(b"0"), LD_STR_HUMAN) == b"150000"
    assert ld2string(string2ld(b"5.0e3") + string2ld(b"2.0e2"), LD_STR_HUMAN) == b"5200"
    assert ld2string(string2ld(b"3.0e3") + 0, LD_STR_HUMAN) == b"3000"
    assert ld2string(7 + string2ld(b"0.5"), LD_STR_HUMAN) == b"7.5"  # int-encoded value
    assert ld2string(string2ld(b"1") - string2ld(b"1"), LD_STR_HUMAN) == b"0"
    assert ld2string(-string2ld(b"0.25"), LD_STR_HUMAN) == b"-0.25"
    big = string2ld(b"1e400")
    assert math.isinf(float(big)) and ld_isfinite(big)  # finite in extended precision
    assert not ld_isfinite(big + math.inf) and not ld_isfinite(math.nan)
    assert math.isnan(string2ld(b"inf") + string2ld(b"-inf"))


def test_ld2string_modes():
    assert ld2string(string2ld(b"10.6"), LD_STR_HEX) == b"0xa.99999999999999ap+0"
    assert ld2string(1.0, LD_STR_HEX) == b"0x8p-3"
    assert ld2string(0.0, LD_STR_HEX) == b"0x0p+0"
    assert ld2string(string2ld(b"1e-4950"), LD_STR_HEX) == b"0x0.000000000000003p-16385"
    assert ld2string(1e17, LD_STR_AUTO) == b"1e+17"
    assert ld2string(-0.0, LD_STR_AUTO) == b"-0"
    assert ld2string(-0.0, LD_STR_HUMAN) == b"0"
    assert ld2string(-1e-30, LD_STR_HUMAN) == b"0"  # "-0.000..." trims to "-0", printed "0"
    assert ld2string(1.1, LD_STR_AUTO) == b"1.1000000000000001"
    assert ld2string(string2ld(b"1.1"), LD_STR_AUTO) == b"1.1"  # 1.1L has 64 bits
    assert ld2string(123, LD_STR_HUMAN) == b"123"
    for mode in (LD_STR_AUTO, LD_STR_HUMAN, LD_STR_HEX):
        assert ld2string(math.inf, mode) == b"inf"
        assert ld2string(-math.inf, mode) == b"-inf"
        assert ld2string(math.nan, mode) in (b"nan", b"-nan")


def _incrbyfloat_model(start: bytes | None, incr: bytes) -> bytes | str:
    value = 0 if start is None else string2ld(start)
    by = string2ld(incr)
    if value is None or by is None:
        return "not a valid float"
    total = value + by
    if total != total or not ld_isfinite(total):
        return "NaN or Infinity"
    return ld2string(total, LD_STR_HUMAN)


def test_incrbyfloat_against_real_redis(real_redis):
    r = real_redis
    import redis

    rnd = random.Random(1234)
    pairs = [(b"10.5", b"0.1"), (b"1.5e5", b"0"), (b"5.0e3", b"2.0e2"), (b"0.1", b"0.2"),
             (b"3.0e3", b"0"), (b"1", b"-1"), (b"-0", b"0"), (b"0x10", b"1"), (b"1e400", b"1"),
             (b"inf", b"1"), (b"1", b"nan"), (b"abc", b"1"), (b"1", b" 1"), (b"17", b"1.5"),
             (b"1e-4950", b"0"), (b"99999999999999999999", b"0.5"), (b"-3.5", b"3.5")]
    for _ in range(200):
        a = f"{rnd.uniform(-1e6, 1e6):.{rnd.randint(0, 12)}f}"
        b = rnd.choice([f"{rnd.uniform(-100, 100):.{rnd.randint(0, 8)}f}",
                        f"{rnd.randint(-99, 99)}e{rnd.randint(-20, 20)}",
                        repr(rnd.uniform(-1, 1))])
        pairs.append((a.encode(), b.encode()))
    for start, incr in pairs:
        r.set(b"f", start)
        expected = _incrbyfloat_model(start, incr)
        try:
            got = r.incrbyfloat(b"f", incr)
            got = r.get(b"f")
        except redis.ResponseError as e:
            assert isinstance(expected, str) and expected in str(e), (start, incr, str(e))
            continue
        assert got == expected, (start, incr)
    # a chain of increments on one key, each reply feeding the next like a real counter
    r.delete(b"chain")
    current = None
    for _ in range(60):
        incr = rnd.choice([b"0.1", b"-0.3", b"1.7", b"100.01", b"1e-3", b"3e2"])
        expected = _incrbyfloat_model(current, incr)
        r.incrbyfloat(b"chain", incr)
        current = r.get(b"chain")
        assert current == expected


def test_d2string_and_fmt_17g_tables():
    assert d2string(1.1) == b"1.1000000000000001"
    assert d2string(1.0) == b"1"
    assert d2string(-0.0) == b"-0"
    assert d2string(0.0) == b"0"
    assert d2string(1e17) == b"100000000000000000"  # integral within 2**62: printed as int
    assert d2string(2.0 ** 62) == b"4611686018427387904"
    assert d2string(2.0 ** 63) == b"9.2233720368547758e+18"
    assert d2string(math.inf) == b"inf" and d2string(-math.inf) == b"-inf"
    assert d2string(math.nan) == b"nan"
    assert fmt_17g(1e17) == b"1e+17"
    assert fmt_17g(1.5) == b"1.5"
    assert fmt_17g(0.1) == b"0.10000000000000001"
    assert fmt_17g(-math.inf) == b"-inf"
    assert double2ll(3.0) == 3 and double2ll(3.5) is None and double2ll(2.0 ** 63) is None


def _raw_command(client, *args):
    """Send one command on a fresh connection and return the RESP reply unparsed by redis-py's
    per-command callbacks (which would turn scores into floats)."""
    import redis

    kwargs = client.connection_pool.connection_kwargs
    conn = redis.Connection(host=kwargs["host"], port=kwargs["port"], socket_timeout=10,
                            protocol=2)
    try:
        conn.send_command(*args)
        return conn.read_response()
    finally:
        conn.disconnect()


def test_scores_against_real_zsets(real_redis):
    """ZSCAN of a listpack zset shows what zzlInsertAt stored (double2ll, else d2string), of a
    skiplist zset %.17Lg (LD_STR_AUTO); ZSCORE in RESP2 shows %.17g."""
    r = real_redis
    scores = [1.1, 1.0, -0.0, 0.5, 1e17, 2.0 ** 62, 2.0 ** 63, -3.75, 1e-300, 123456.789,
              1.0 / 3, 1e300, -2.5e-7, 1e16 + 2]
    members = {f"m{i}".encode(): s for i, s in enumerate(scores)}
    r.delete(b"zl", b"zs")
    r.zadd(b"zl", members)
    old = r.config_get("zset-max-listpack-entries")["zset-max-listpack-entries"]
    try:
        r.config_set("zset-max-listpack-entries", 0)
        r.zadd(b"zs", members)
    finally:
        r.config_set("zset-max-listpack-entries", old)
    assert r.object("encoding", b"zl") in (b"listpack", "listpack")
    assert r.object("encoding", b"zs") in (b"skiplist", "skiplist")

    def listpack_score(d: float) -> bytes:
        as_int = double2ll(d)  # -0.0 is stored as the integer 0
        return d2string(d) if as_int is None else ll2string(as_int)

    for key, fmt in ((b"zl", listpack_score), (b"zs", lambda d: ld2string(d, LD_STR_AUTO))):
        reply = _raw_command(r, "ZSCAN", key, 0, "COUNT", 1000)
        flat = reply[1]
        got = dict(zip(flat[0::2], flat[1::2], strict=True))
        assert got == {m: fmt(s) for m, s in members.items()}, key
    for m, s in members.items():
        assert _raw_command(r, "ZSCORE", b"zs", m) == fmt_17g(s)


def test_fixedpoint_d2string_and_trim():
    assert fixedpoint_d2string(0.0, 4) == b"0.0000"
    assert fixedpoint_d2string(0.0, 1) == b"0.0"
    assert fixedpoint_d2string(0.0001, 4) == b"0.0001"
    assert fixedpoint_d2string(6.0642951598391699e-05, 4) == b"0.0001"
    assert fixedpoint_d2string(0.01, 4) == b"0.0100"
    assert fixedpoint_d2string(0.01, 1) == b"0.0"
    assert fixedpoint_d2string(-0.01, 4) == b"-0.0100"
    assert fixedpoint_d2string(-0.1, 1) == b"-0.1"
    assert fixedpoint_d2string(0.01, 17) == b"0.01000000000000000"
    assert fixedpoint_d2string(10.01, 4) == b"10.0100"
    assert fixedpoint_d2string(10.01, 18) == b""
    assert fixedpoint_d2string(10.01, 0) == b""
    assert trim_double_string(b"1.5000") == b"1.5"
    assert trim_double_string(b"2.000") == b"2"
    assert trim_double_string(b"100") == b"100"
