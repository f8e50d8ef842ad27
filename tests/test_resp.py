"""Sans-IO tests of tracered/resp.py (processMultibulkBuffer / processInlineBuffer /
sdssplitargs): bytes in, commands or Redis's exact protocol errors out, no sockets.

``Feeder`` drives the parser the way networking.process_input_buffer does (query buffer,
``need`` gating, MultibulkState resume, trimming of absorbed arguments), so partial and
byte-at-a-time feeding is tested against the same contract the server relies on.
"""

from __future__ import annotations

import random
import time

import pytest

from tracered.resp import (
    PROTO_INLINE_MAX_SIZE,
    MultibulkState,
    ProtocolError,
    parse_inline,
    parse_multibulk,
    split_args,
)

MAX_BULK = 512 * 1024 * 1024


def mb(*args: bytes | str) -> bytes:
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a.encode() if isinstance(a, str) else a
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


class Feeder:
    """A client's query buffer plus the parse loop of networking.process_input_buffer."""

    def __init__(self, auth_required: bool = False, is_master: bool = False,
                 max_bulk: int = MAX_BULK) -> None:
        self.qb = bytearray()
        self.need = 0
        self.state = MultibulkState()
        self.auth_required = auth_required
        self.is_master = is_master
        self.max_bulk = max_bulk
        self.commands: list[list[bytes]] = []
        self.error: ProtocolError | None = None
        self.parses = 0

    def feed(self, data: bytes) -> None:
        if self.error is not None:
            return
        self.qb += data
        if len(self.qb) < self.need:
            return
        buf = bytes(self.qb)
        pos, n = 0, len(buf)
        st = self.state
        while pos < n:
            self.parses += 1
            try:
                if buf[pos] == 42 or st.argv is not None:
                    argv, npos = parse_multibulk(buf, pos, self.max_bulk, self.auth_required,
                                                 self.is_master, st)
                else:
                    argv, npos = parse_inline(buf, pos, self.is_master)
            except ProtocolError as e:
                self.error = e
                pos = n
                break
            if argv is None:
                if st.argv is not None and not self.is_master:
                    pos += st.offset
                    st.offset = 0
                self.need = npos - pos
                break
            self.need = 0
            pos = npos
            if argv:
                self.commands.append(argv)
        del self.qb[:pos]


def feed_all(chunks, **kw) -> Feeder:
    f = Feeder(**kw)
    for ch in chunks:
        f.feed(ch)
    return f


def one_shot(data: bytes, **kw) -> Feeder:
    return feed_all([data], **kw)


def outcome(f: Feeder):
    return (f.commands, None if f.error is None else (f.error.reply, f.error.reason),
            bytes(f.qb) if f.error is None else None)


# --------------------------------------------------------------------------------------------
# Well-formed requests
# --------------------------------------------------------------------------------------------

def test_multibulk_simple_and_binary():
    argv, pos = parse_multibulk(mb("SET", "k", b"\x00\r\n\xff"), 0, MAX_BULK, False)
    assert argv == [b"SET", b"k", b"\x00\r\n\xff"]
    assert pos == len(mb("SET", "k", b"\x00\r\n\xff"))
    assert all(type(a) is bytes for a in argv)


def test_multibulk_at_offset_and_empty_argument():
    data = b"garbage" + mb("ECHO", "")
    argv, pos = parse_multibulk(data, 7, MAX_BULK, False)
    assert argv == [b"ECHO", b""] and pos == len(data)


@pytest.mark.parametrize("count", [b"0", b"-1", b"-5", b"-2147483649", b"-9223372036854775808"])
def test_zero_or_negative_count_is_an_empty_command(count):
    argv, pos = parse_multibulk(b"*" + count + b"\r\nPING\r\n", 0, MAX_BULK, False)
    assert argv == [] and pos == len(count) + 3
    f = one_shot(b"*" + count + b"\r\n" + mb("PING") + b"*0\r\nECHO x\r\n")
    assert f.commands == [[b"PING"], [b"ECHO", b"x"]] and f.error is None


def test_bytes_after_payload_are_skipped_not_checked():
    argv, pos = parse_multibulk(b"*1\r\n$4\r\nPINGxy*1\r\n$4\r\nPING\r\n", 0, MAX_BULK, False)
    assert argv == [b"PING"] and pos == 14
    # The '\n' after a header's '\r' is not checked either (Redis skips two bytes).
    assert parse_multibulk(b"*1\rX$4\rXPING\r\n", 0, MAX_BULK, False)[0] == [b"PING"]


def test_inline_lf_and_crlf():
    assert parse_inline(b"PING\n", 0) == ([b"PING"], 5)
    assert parse_inline(b"PING\r\n", 0) == ([b"PING"], 6)
    # Only one '\r' is stripped; the next one ends the token like a space.
    assert parse_inline(b"PING\r\r\n", 0) == ([b"PING"], 7)
    assert parse_inline(b"\n", 0) == ([], 1)
    assert parse_inline(b"\r\n", 0) == ([], 2)
    assert parse_inline(b"   \t \r\n", 0) == ([], 7)
    assert parse_inline(b"xSET a b\r\n", 1) == ([b"SET", b"a", b"b"], 10)


def test_inline_and_multibulk_mixed_pipeline():
    data = b"PING\r\n" + mb("ECHO", "a") + b"\n" + b'SET k "v w"\n' + mb("GET", "k")
    f = one_shot(data)
    assert f.commands == [[b"PING"], [b"ECHO", b"a"], [b"SET", b"k", b"v w"], [b"GET", b"k"]]
    assert f.error is None and not f.qb


def test_huge_pipeline_one_buffer():
    n = 100_000
    data = b"".join(mb("SET", "key:%d" % i, "v%d" % i) for i in range(n))
    t0 = time.perf_counter()
    f = one_shot(data)
    elapsed = time.perf_counter() - t0
    assert len(f.commands) == n
    assert f.commands[-1] == [b"SET", b"key:%d" % (n - 1), b"v%d" % (n - 1)]
    assert elapsed < 10, elapsed


# --------------------------------------------------------------------------------------------
# Protocol errors: Redis's exact texts (networking.c) and log reasons
# --------------------------------------------------------------------------------------------

ERRORS = [
    (b"*abc\r\n", "Protocol error: invalid multibulk length", "invalid mbulk count"),
    (b"*+1\r\n", "Protocol error: invalid multibulk length", "invalid mbulk count"),
    (b"*01\r\n", "Protocol error: invalid multibulk length", "invalid mbulk count"),
    (b"*-0\r\n", "Protocol error: invalid multibulk length", "invalid mbulk count"),
    (b"* 1\r\n", "Protocol error: invalid multibulk length", "invalid mbulk count"),
    (b"*\r\n", "Protocol error: invalid multibulk length", "invalid mbulk count"),
    (b"*2147483648\r\n", "Protocol error: invalid multibulk length", "invalid mbulk count"),
    (b"*99999999999999999999\r\n", "Protocol error: invalid multibulk length",
     "invalid mbulk count"),
    (b"*1\n$4\r\nPING\r\n", "Protocol error: invalid multibulk length", "invalid mbulk count"),
    (b"*1\r\nfoo\r\n", "Protocol error: expected '$', got 'f'",
     "expected $ but got something else"),
    (b"*2\r\n$4\r\nECHO\r\n:1\r\n", "Protocol error: expected '$', got ':'",
     "expected $ but got something else"),
    (b"*1\r\n\r\n", "Protocol error: expected '$', got '\r'", "expected $ but got something else"),
    (b"*1\r\n$-1\r\n", "Protocol error: invalid bulk length", "invalid bulk length"),
    (b"*1\r\n$abc\r\n", "Protocol error: invalid bulk length", "invalid bulk length"),
    (b"*1\r\n$\r\n", "Protocol error: invalid bulk length", "invalid bulk length"),
    (b"*1\r\n$04\r\n", "Protocol error: invalid bulk length", "invalid bulk length"),
    (b"*1\r\n$536870913\r\n", "Protocol error: invalid bulk length", "invalid bulk length"),
    (b"*1\r\n$9223372036854775808\r\n", "Protocol error: invalid bulk length",
     "invalid bulk length"),
    (b'"unbalanced\r\n', "Protocol error: unbalanced quotes in request",
     "unbalanced quotes in inline request"),
    (b"SET 'a\r\n", "Protocol error: unbalanced quotes in request",
     "unbalanced quotes in inline request"),
    (b'SET "a"b\r\n', "Protocol error: unbalanced quotes in request",
     "unbalanced quotes in inline request"),
]


@pytest.mark.parametrize("data,reply,reason", ERRORS)
def test_protocol_error_texts(data, reply, reason):
    f = one_shot(data)
    assert f.error is not None, f.commands
    assert (f.error.reply, f.error.reason) == (reply, reason)
    assert f.commands == []


def test_error_after_good_commands_keeps_them():
    f = one_shot(mb("PING") + b"PING\r\n" + b"*1\r\nx\r\n" + mb("ECHO", "never"))
    assert f.commands == [[b"PING"], [b"PING"]]
    assert f.error.reply == "Protocol error: expected '$', got 'x'"


def test_expected_dollar_carries_the_raw_byte():
    f = one_shot(b"*1\r\n\xff3\r\n")
    # Redis's %c puts the byte itself in the error line.
    line = b"-ERR " + f.error.reply.encode("utf-8", "surrogateescape") + b"\r\n"
    assert line == b"-ERR Protocol error: expected '$', got '\xff'\r\n"


def test_proto_max_bulk_len_and_master_exemption():
    limit = 1024 * 1024  # proto-max-bulk-len's minimum
    assert one_shot(b"*1\r\n$%d\r\n" % (limit + 1), max_bulk=limit).error.reply == \
        "Protocol error: invalid bulk length"
    f = one_shot(mb(b"x" * limit), max_bulk=limit)
    assert f.commands == [[b"x" * limit]]
    # The master link is exempt (networking.c: !(c->flags & CLIENT_MASTER)).
    f = one_shot(mb("SET", "k", b"y" * (limit + 1)), max_bulk=limit, is_master=True)
    assert f.commands == [[b"SET", b"k", b"y" * (limit + 1)]]


def test_multibulk_count_limit_is_int_max():
    f = one_shot(b"*2147483647\r\n$4\r\nPING\r\n")
    assert f.error is None and f.commands == []  # waits for the other arguments
    assert f.state.argv == [b"PING"] and f.state.multibulklen == 2147483646


def test_unauthenticated_limits():
    ok = one_shot(mb(*["a"] * 10), auth_required=True)
    assert ok.commands == [[b"a"] * 10]
    f = one_shot(mb(*["a"] * 11), auth_required=True)
    assert f.error.reply == "Protocol error: unauthenticated multibulk length"
    assert f.error.reason == "unauth mbulk count"
    assert one_shot(mb("a" * 16384), auth_required=True).commands == [[b"a" * 16384]]
    f = one_shot(b"*1\r\n$16385\r\n", auth_required=True)
    assert f.error.reply == "Protocol error: unauthenticated bulk length"
    assert f.error.reason == "unauth bulk length"
    # Authenticated clients have neither limit.
    assert one_shot(mb(*["a"] * 11)).commands == [[b"a"] * 11]


def test_inline_limit_64k():
    line = b"x" * PROTO_INLINE_MAX_SIZE
    f = one_shot(line)
    assert f.error is None and f.commands == []          # exactly 64 KiB: still waiting
    f.feed(b"y")
    assert f.error.reply == "Protocol error: too big inline request"
    assert f.error.reason == "too big inline request"
    # A long line that does end is fine.
    f = one_shot(b"ECHO " + b"z" * 100_000 + b"\r\n")
    assert f.commands == [[b"ECHO", b"z" * 100_000]]


def test_header_limits_64k():
    f = one_shot(b"*" + b"1" * PROTO_INLINE_MAX_SIZE)
    assert f.error.reply == "Protocol error: too big mbulk count string"
    assert f.error.reason == "too big mbulk count string"
    f = one_shot(b"*1\r\n$" + b"1" * PROTO_INLINE_MAX_SIZE)
    assert f.error.reply == "Protocol error: too big bulk count string"
    assert f.error.reason == "too big bulk count string"
    # A '\r' as the very last byte is a line waiting for its '\n', not an oversized one.
    f = one_shot(b"*" + b"1" * PROTO_INLINE_MAX_SIZE + b"\r")
    assert f.error is None
    f.feed(b"\n")
    assert f.error.reply == "Protocol error: invalid multibulk length"


def test_nul_hides_a_line_end_like_strchr():
    # Redis searches line ends with strchr(), which stops at NUL: the client waits.
    for data in (b"*1\x00\r\n", b"*1\r\n$\x004\r\nPING\r\n", b"*1\r\n\x00\r\n",
                 b"PI\x00NG\r\n"):
        f = one_shot(data)
        assert f.error is None and f.commands == [], data
    f = one_shot(b"*1\x00\r\n" + b"z" * PROTO_INLINE_MAX_SIZE)
    assert f.error.reply == "Protocol error: too big mbulk count string"
    f = one_shot(b"*1\r\n$\x00\r\n" + b"z" * PROTO_INLINE_MAX_SIZE)
    assert f.error.reply == "Protocol error: too big bulk count string"
    f = one_shot(b"PING\x00\r\n" + b"z" * PROTO_INLINE_MAX_SIZE)
    assert f.error.reply == "Protocol error: too big inline request"
    # A NUL inside a bulk payload is just data.
    assert one_shot(mb(b"a\x00b")).commands == [[b"a\x00b"]]


def test_master_inline_is_a_desync_without_reply():
    with pytest.raises(ProtocolError) as ei:
        parse_inline(b"PING\r\n", 0, is_master=True)
    assert ei.value.reply is None
    assert ei.value.reason == "Master using the inline protocol. Desync?"
    # Bare newlines are the master's keep-alive.
    assert parse_inline(b"\n", 0, is_master=True) == ([], 1)
    assert parse_inline(b"\r\n", 0, is_master=True) == ([], 2)


# --------------------------------------------------------------------------------------------
# sdssplitargs
# --------------------------------------------------------------------------------------------

SPLIT = [
    (b"", []),
    (b"   ", []),
    (b"a b  c", [b"a", b"b", b"c"]),
    (b"\tset\tk\tv\t", [b"set", b"k", b"v"]),
    (b'"hello world"', [b"hello world"]),
    (b'"a\\x41\\x4a\\n\\r\\t\\b\\a\\"\\\\z"', [b"aAJ\n\r\t\b\a\"\\z"]),
    (b'"\\x4"', [b"x4"]),                 # not a full \xHH: the backslash escapes 'x'
    (b'"\\xZZ"', [b"xZZ"]),
    (b"'it\\'s' x", [b"it's", b"x"]),
    (b"'a\\nb'", [b"a\\nb"]),              # no escapes in single quotes except \'
    (b'foo"bar baz"', [b"foobar baz"]),    # a quote mid-token opens quoting
    (b'"" \'\'', [b"", b""]),
    (b"a\vb", [b"a\vb"]),                  # \v and \f separate only between arguments
    (b"a\fb c", [b"a\fb", b"c"]),
    (b"\v a \f", [b"a"]),
    (b'"a"\v', [b"a"]),                    # ... and may follow a closing quote
    (b"a\x00b c", [b"a"]),                 # a C string ends at NUL
    (b"\xff\xfe \x80", [b"\xff\xfe", b"\x80"]),
    (b'"unterminated', None),
    (b"'unterminated", None),
    (b'"a"b', None),
    (b"'a'b", None),
    (b'"a\\', None),
    (b'"\\"', None),
]


@pytest.mark.parametrize("line,expected", SPLIT)
def test_split_args(line, expected):
    assert split_args(line) == expected


def test_split_args_fast_path_matches_slow_path():
    rnd = random.Random(7)
    alphabet = b"ab \t\r\n\\x"
    for _ in range(2000):
        line = bytes(rnd.choice(alphabet) for _ in range(rnd.randrange(20)))
        fast = split_args(line)
        slow = split_args(line + b" '' ")  # quotes force the character loop
        assert slow is not None and slow[-1] == b""
        assert fast == slow[:-1], line


# --------------------------------------------------------------------------------------------
# Partial buffers, byte-at-a-time, resume
# --------------------------------------------------------------------------------------------

SAMPLES = [
    mb("SET", "key", "value") + mb("GET", "key"),
    b"PING\r\n" + mb("ECHO", b"\r\n\x00") + b'SET "a b" \'c\'\n' + b"*0\r\n" + mb("PING"),
    mb(*[b"x%d" % i for i in range(50)]) + b"\n\n" + mb("A", "B"),
    mb("PING") + b"*1\r\n$3\r\nab",                          # ends mid-command
    mb("PING") + b"*2\r\n$4\r\nECHO\r\n:1\r\n" + mb("PING"),  # error mid-stream
    b'ECHO "unterminated\r\n',
]


@pytest.mark.parametrize("sample", SAMPLES)
def test_every_split_point_gives_the_same_result(sample):
    whole = outcome(one_shot(sample))
    for i in range(len(sample) + 1):
        assert outcome(feed_all([sample[:i], sample[i:]])) == whole, i


@pytest.mark.parametrize("sample", SAMPLES)
def test_byte_at_a_time(sample):
    whole = outcome(one_shot(sample))
    assert outcome(feed_all([sample[i:i + 1] for i in range(len(sample))])) == whole


def test_random_chunking_of_a_big_mixed_stream():
    rnd = random.Random(3)
    parts = []
    for i in range(3000):
        k = rnd.randrange(4)
        if k == 0:
            parts.append(mb("SET", "k%d" % i, bytes(rnd.randrange(256) for _ in range(30))))
        elif k == 1:
            parts.append(b"ECHO x%d\r\n" % i)
        elif k == 2:
            parts.append(mb(*[b"a"] * rnd.randrange(1, 40)))
        else:
            parts.append(mb("BIG", b"v" * rnd.randrange(0, 70000)))
    data = b"".join(parts)
    whole = outcome(one_shot(data))
    assert len(whole[0]) == 3000 and whole[1] is None
    pos = 0
    chunks = []
    while pos < len(data):
        step = rnd.choice((1, 7, 100, 4096, 65536))
        chunks.append(data[pos:pos + step])
        pos += step
    assert outcome(feed_all(chunks)) == whole


def test_resume_keeps_parsed_arguments_and_is_linear():
    n = 200_000
    data = mb(*[b"arg%06d" % i for i in range(n)])
    f = Feeder()
    t0 = time.perf_counter()
    for i in range(0, len(data), 65536):
        f.feed(data[i:i + 65536])
        if f.state.argv is not None:
            # The buffer holds only what is not yet an argument (a header/payload tail).
            assert len(f.qb) < 30
    elapsed = time.perf_counter() - t0
    assert f.commands == [[b"arg%06d" % i for i in range(n)]]
    # Re-parsing from the start on every read (the old behaviour) took ~6 s here.
    assert elapsed < 3, elapsed


def test_need_gates_retries_of_a_big_value():
    value = b"v" * (10 * 1024 * 1024)
    data = mb("SET", "k", value)
    f = Feeder()
    for i in range(0, len(data), 65536):
        f.feed(data[i:i + 65536])
    assert f.commands == [[b"SET", b"k", value]]
    assert f.parses <= 3, f.parses


def test_state_reset_and_stale_state():
    st = MultibulkState()
    argv, need = parse_multibulk(b"*3\r\n$1\r\na\r\n$1\r\n", 0, MAX_BULK, False, False, st)
    assert argv is None and st.argv == [b"a"] and st.multibulklen == 2
    assert st.offset == len(b"*3\r\n$1\r\na\r\n")
    st.reset()
    assert st.argv is None
    argv, pos = parse_multibulk(mb("PING"), 0, MAX_BULK, False, False, st)
    assert argv == [b"PING"]
    # A state pointing past the end of a replaced buffer is dropped, not trusted.
    st.argv, st.multibulklen, st.offset = [b"x"], 1, 999
    assert parse_multibulk(mb("PING"), 0, MAX_BULK, False, False, st)[0] == [b"PING"]


def test_need_is_a_lower_bound():
    data = mb("SET", "key", b"x" * 5000) + mb("PING")
    first_cmd_len = len(mb("SET", "key", b"x" * 5000))
    for cut in range(1, first_cmd_len):
        st = MultibulkState()
        argv, need = parse_multibulk(data[:cut], 0, MAX_BULK, False, False, st)
        assert argv is None
        assert cut < need <= first_cmd_len, cut


def test_canonical_pipeline_fast_path_only_takes_what_it_can_prove():
    from tracered.resp import parse_canonical_pipeline

    one = b"*3\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$5\r\nvalue\r\n"
    two = b"*1\r\n$4\r\nPING\r\n"
    got = parse_canonical_pipeline(one + two + one, 512 << 20)
    assert got == [([b"SET", b"key:1", b"value"], 35), ([b"PING"], 49),
                   ([b"SET", b"key:1", b"value"], 84)]
    big = b"*1\r\n$10000\r\n" + b"x" * 10000 + b"\r\n"
    assert parse_canonical_pipeline(big, 512 << 20) == [([b"x" * 10000], len(big))]
    assert parse_canonical_pipeline(big, 9999) is None             # over proto-max-bulk-len
    for bad in (
        b"*3\r\n$03\r\nSET\r\n$5\r\nkey:1\r\n$5\r\nvalue\r\n",     # leading zero: longer
        one + b"*1\r\n",                                          # a partial command at the end
        one[:-3],                                                 # a partial payload
        b"*1\r\n:5\r\n", b"*1\r\n$-1\r\n", b"*0\r\n", b"*-1\r\n",  # not a request
        b"*1\r\n*1\r\n$1\r\na\r\n",                               # nested array
        b"PING\r\n", one + b"PING\r\n",                           # inline commands
        b"*3000000000\r\n",                                       # hiredis would allocate it
        b"*1\r\n$6\r\n*12345\r\n",                                # looks like one: slow path
        b"*+1\r\n$1\r\na\r\n", b"*1\r\n$+1\r\na\r\n",              # signs
    ):
        assert parse_canonical_pipeline(bad, 512 << 20) is None, bad
