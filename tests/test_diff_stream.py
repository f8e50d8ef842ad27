"""Differential tests of streams: tracered against Debian's redis-server 7.0.15.

Replies are compared as exact protocol bytes in RESP2 and RESP3 (XREAD's map in RESP3, nulls
versus null arrays, XINFO maps).  IDs are explicit so replies are deterministic; where Redis
replies a clock reading (XPENDING idle times, XINFO CONSUMERS idle, XINFO STREAM FULL
delivery and seen times) those numbers are masked and everything else compared.  Scenarios
cover listpack node boundaries (small stream-node-max-entries / -bytes), approximate and
exact trimming, consumer groups end to end, XINFO's radix-tree-nodes, MEMORY USAGE and DEBUG
OBJECT's serializedlength (the RDB bytes of the value), DEBUG DIGEST, RDB files exchanged in
both directions, and hypothesis-generated command sequences.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import time

import hiredis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


class Conn:
    """A bare RESP connection: exact reply bytes, and hiredis's parse of them."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def _need(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _reply(self) -> bytes:
        line = self._line()
        t = line[:1]
        if t in (b"$", b"=", b"!"):
            n = int(line[1:-2])
            return line if n < 0 else line + self._need(n + 2)
        if t in (b"*", b"~", b">", b"%"):
            n = int(line[1:-2])
            if t == b"%":
                n *= 2
            return line + b"".join(self._reply() for _ in range(max(n, 0)))
        return line

    def __call__(self, *args) -> bytes:
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(parts))
        return self._reply()


def parse(raw: bytes):
    r = hiredis.Reader()
    r.feed(raw)
    v = r.gets()
    return ("error", str(v)) if isinstance(v, hiredis.ReplyError) else v


class Pair:
    """The same command to both servers; replies must be equal."""

    def __init__(self, tport: int, rport: int, resp: int) -> None:
        self.t = Conn(tport)
        self.ref = Conn(rport)
        self.resp = resp
        if resp == 3:
            self.t("HELLO", "3")
            self.ref("HELLO", "3")

    def close(self) -> None:
        self.t.close()
        self.ref.close()

    def both(self, *args) -> tuple[bytes, bytes]:
        return self.t(*args), self.ref(*args)

    def __call__(self, *args) -> bytes:
        a, b = self.both(*args)
        assert a == b, f"{args!r}:\n tracered={a!r}\n redis=   {b!r}"
        return a

    def masked(self, mask, *args):
        """Compare ``mask(parsed reply)`` (for replies that contain clock readings)."""
        a, b = self.both(*args)
        ma, mb = mask(parse(a)), mask(parse(b))
        assert ma == mb, f"{args!r}:\n tracered={ma!r}\n redis=   {mb!r}"
        return ma

    def digest(self) -> bytes:
        return self("DEBUG", "DIGEST")


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def d(request, r, rr, tracered_server, redis_server):
    p = Pair(tracered_server.port, redis_server.port, request.param)
    yield p
    for name, value in (("stream-node-max-entries", "100"), ("stream-node-max-bytes", "4096")):
        p("CONFIG", "SET", name, value)
    p.close()


@pytest.fixture
def d2(r, rr, tracered_server, redis_server):
    p = Pair(tracered_server.port, redis_server.port, 2)
    yield p
    for name, value in (("stream-node-max-entries", "100"), ("stream-node-max-bytes", "4096")):
        p("CONFIG", "SET", name, value)
    p.close()


def run_script(d: Pair, script: str) -> None:
    for line in script.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            d(*line.split())


# -------------------------------------------------------------------------------- masks

def _pairs(v) -> dict:
    if isinstance(v, dict):
        return dict(v)
    return {v[i]: v[i + 1] for i in range(0, len(v), 2)}


def mask_pending_ext(v):
    """XPENDING extended: [id, consumer, idle, count] -> idle masked."""
    if isinstance(v, tuple):
        return v
    return [[e[0], e[1], "idle", e[3]] for e in v]


def mask_consumers(v):
    """XINFO CONSUMERS: the idle time masked."""
    if isinstance(v, tuple):
        return v
    out = []
    for m in v:
        m = _pairs(m)
        m[b"idle"] = "idle"
        out.append(m)
    return out


def mask_full(v):
    """XINFO STREAM FULL: delivery and seen times masked."""
    if isinstance(v, tuple):
        return v
    m = _pairs(v)
    groups = []
    for g in m[b"groups"]:
        g = _pairs(g)
        g[b"pending"] = [[e[0], e[1], "t", e[3]] for e in g[b"pending"]]
        cons = []
        for cdict in g[b"consumers"]:
            cdict = _pairs(cdict)
            cdict[b"seen-time"] = "t"
            cdict[b"pending"] = [[e[0], "t", e[2]] for e in cdict[b"pending"]]
            cons.append(cdict)
        g[b"consumers"] = cons
        groups.append(g)
    m[b"groups"] = groups
    return m


# -------------------------------------------------------------------------------- scripts

XADD_SCRIPT = """
XADD s 1-1 a 1
XADD s 1-1 a 1
XADD s 0-0 a 1
XADD s2 0-0 a 1
EXISTS s2
XADD s 0-5 a 1
XADD s 1 a 1
XADD s 1-* a 1
XADD s 2-* a 1 b 2
XADD s 2-* a 1 b 2
XADD s 3-0 b 1 a 2
XADD s 3-1 a x b y
XADD s 3-2 f
XADD s 3-2 f v g
XADD s NOMKSTREAM 4-0 f v
XADD nos NOMKSTREAM 4-0 f v
XADD nos NOMKSTREAM * f v
EXISTS nos
XADD s MAXLEN 10 MINID 0 5-0 f v
XADD s MINID 0 MAXLEN 10 5-0 f v
XADD s MAXLEN -1 5-0 f v
XADD s MAXLEN abc 5-0 f v
XADD s LIMIT 10 5-0 f v
XADD s MAXLEN 100 LIMIT 10 5-0 f v
XADD s MAXLEN ~ 100 LIMIT -1 5-0 f v
XADD s MAXLEN ~ 100 LIMIT 10 5-0 f v
XADD s MAXLEN = 100 5-1 f v
XADD s MINID ~ 0 5-2 f v
XADD s MINID = - 5-3 f v
XADD s MINID + 5-3 f v
XADD s MAXLEN ~ 5-3 f v
XADD s bogus f v
XADD s 5-x f v
XADD s -5 f v
XADD s 18446744073709551616 f v
XADD s 007-01 f v
XADD s 8-1
XADD s 8-1 a
XADD s 8-1 a b c
XADD s 9-18446744073709551615 a b
XADD s 9-* a b
XADD s 18446744073709551615-18446744073709551615 a b
XADD s * a b
XADD s 18446744073709551615-* a b
XRANGE s - +
XRANGE s - + COUNT 2
XRANGE s - + COUNT 0
XRANGE s - + COUNT -5
XRANGE s - + COUNT
XRANGE s - + FOO 1
XRANGE s (1-1 +
XRANGE s - (3-0
XRANGE s 2 3
XRANGE s (- +
XRANGE s - (+
XRANGE s (18446744073709551615-18446744073709551615 +
XRANGE s - (0-0
XRANGE s x +
XRANGE s - x
XREVRANGE s + -
XREVRANGE s + - COUNT 3
XREVRANGE s (3-1 -
XREVRANGE s 3 2
XRANGE nokey - +
XREVRANGE nokey + -
XLEN s
XLEN nokey
SET str x
XLEN str
XADD str * a b
XRANGE str - +
XDEL str 1-1
XTRIM str MAXLEN 1
XDEL s 1-1 2-0
XDEL s 1-1
XDEL s bad
XDEL s 3-0 bad
XDEL nokey 1-1
XRANGE s - +
XINFO STREAM s
XTRIM s MAXLEN 2
XRANGE s - +
XINFO STREAM s
XTRIM s
XTRIM s FOO 1
XTRIM s MAXLEN ~ 1
XTRIM s LIMIT 0
XTRIM s LIMIT 5
XTRIM s MAXLEN 1 LIMIT 5
XTRIM nokey MAXLEN 1
XTRIM s MINID 5
XINFO STREAM s
XTRIM s MINID 100
XINFO STREAM s
XLEN s
TYPE s
OBJECT ENCODING s
"""

GROUPS_SCRIPT = """
XGROUP HELP
XGROUP CREATE s g $
XGROUP CREATE s g $ MKSTREAM
XGROUP CREATE s g $ MKSTREAM
XGROUP CREATE s g2 0 ENTRIESREAD -2
XGROUP CREATE s g2 0 ENTRIESREAD x
XGROUP CREATE s g2 0 ENTRIESREAD
XGROUP CREATE s g2 0 FOO
XGROUP CREATE s g2 +
XGROUP CREATE s g2 -
XGROUP CREATE s g3 0 ENTRIESREAD 5
XGROUP CREATE s g4 0 MKSTREAM ENTRIESREAD 5 MKSTREAM MKSTREAM
XGROUP SETID s nog 0
XGROUP SETID nokey g 0
XGROUP SETID s g 0 MKSTREAM
XGROUP SETID s g 0 ENTRIESREAD 3
XGROUP SETID s g - ENTRIESREAD 3
XGROUP SETID s g +
XGROUP SETID s g $
XGROUP CREATECONSUMER s g alice
XGROUP CREATECONSUMER s g alice
XGROUP CREATECONSUMER s nog alice
XGROUP DELCONSUMER s g bob
XGROUP DELCONSUMER s g alice
XGROUP DESTROY s nog
XGROUP DESTROY s g4
XGROUP FOO s g
XGROUP CREATE s
XGROUP DESTROY s g x
XINFO GROUPS s
XINFO HELP
XINFO FOO s
XINFO STREAM nokey
XINFO STREAM s FULL
XINFO STREAM s FULL COUNT
XINFO STREAM s FOO
XINFO STREAM s FULL FOO 1
XINFO STREAM s FULL COUNT x
XINFO CONSUMERS s nog
SET str x
XGROUP CREATE str g 0
XINFO GROUPS str
XADD s 1-1 a 1
XADD s 1-2 a 2 b 3
XADD s 1-3 a 3
XADD s 2-0 c 4
XINFO GROUPS s
XGROUP SETID s g 0
XINFO GROUPS s
XREADGROUP GROUP g alice COUNT 2 STREAMS s >
XINFO GROUPS s
XPENDING s g
XREADGROUP GROUP g bob STREAMS s >
XPENDING s g
XREADGROUP GROUP g bob STREAMS s >
XREADGROUP GROUP g alice STREAMS s 0
XREADGROUP GROUP g alice STREAMS s 1-1
XREADGROUP GROUP g alice COUNT 1 STREAMS s 0
XREADGROUP GROUP g alice STREAMS s $
XREADGROUP GROUP nog alice STREAMS s >
XREADGROUP GROUP g alice STREAMS nokey >
XREADGROUP GROUP g alice STREAMS str >
XREADGROUP GROUP g alice STREAMS s
XREADGROUP GROUP g alice STREAMS s > >
XREADGROUP GROUP g alice STREAMS s bad
XREADGROUP STREAMS s > x y z
XREADGROUP GROUP g alice FOO STREAMS s >
XREADGROUP GROUP g alice NOACK STREAMS s 0
XREADGROUP GROUP g alice COUNT x STREAMS s 0
XREADGROUP GROUP g alice BLOCK x STREAMS s 0
XREADGROUP GROUP g alice BLOCK -1 STREAMS s 0
XREADGROUP GROUP g alice COUNT -1 STREAMS s 0
XREAD STREAMS s 0
XREAD COUNT 1 STREAMS s 0
XREAD STREAMS s $
XREAD STREAMS s >
XREAD GROUP g a STREAMS s 0
XREAD NOACK STREAMS s 0
XREAD STREAMS s s2 0 0
XREAD STREAMS s s2 0
XREAD STREAMS nokey 0
XREAD STREAMS str 0
XREAD COUNT 2 STREAMS s s 0 1-1
XREAD STREAMS s 2-0
XREAD STREAMS s - +
XREAD COUNT 1 STREAMS
XREAD BLOCK x STREAMS s 0
XACK s g 1-1 1-2
XACK s g 1-1
XACK s g bad
XACK s g 1-3 bad
XACK s nog 1-1
XACK nokey g 1-1
XACK str g 1-1
XPENDING s g
XPENDING s g - + 0
XPENDING s g - + -1
XPENDING s g - + 10 nobody
XPENDING s g IDLE x - + 10
XPENDING s g IDLE 10 - +
XPENDING s g - +
XPENDING s g - + x
XPENDING s g ( + 10
XPENDING s g - (0 10
XPENDING s nog
XPENDING nokey g
XPENDING str g
XPENDING s g a b c d e f g h
XCLAIM s g carol 0 1-3 JUSTID
XCLAIM s g carol 0 1-3 TIME 1000 RETRYCOUNT 7
XCLAIM s g carol 0 1-3 IDLE x
XCLAIM s g carol 0 1-3 TIME x
XCLAIM s g carol 0 1-3 RETRYCOUNT x
XCLAIM s g carol 0 1-3 FOO
XCLAIM s g carol 0 1-3 IDLE
XCLAIM s g carol 0 1-3 2-0
XCLAIM s g carol x 1-3
XCLAIM s nog carol 0 1-3
XCLAIM nokey g carol 0 1-3
XCLAIM str g carol 0 1-3
XCLAIM s g carol 0 1-3 LASTID bad
XCLAIM s g carol 0 1-3 LASTID 5-0 JUSTID TIME 1
XINFO GROUPS s
XCLAIM s g dave 0 1-1 FORCE JUSTID TIME 5 RETRYCOUNT 3
XCLAIM s g dave 0 9-9 FORCE JUSTID
XCLAIM s g dave 0 1-2 FORCE TIME 5
XCLAIM s g dave 3600000 2-0 TIME 5
XPENDING s g
XAUTOCLAIM s g erin 0 0 COUNT 1 JUSTID
XAUTOCLAIM s g erin 0 0 COUNT 0
XAUTOCLAIM s g erin 0 0 COUNT x
XAUTOCLAIM s g erin x 0
XAUTOCLAIM s g erin 0 bad
XAUTOCLAIM s g erin 0 (18446744073709551615-18446744073709551615
XAUTOCLAIM s g erin 0 0 FOO
XAUTOCLAIM s g erin 0 0 COUNT
XAUTOCLAIM s nog erin 0 0
XAUTOCLAIM nokey g erin 0 0
XAUTOCLAIM str g erin 0 0
XAUTOCLAIM s g erin 3600000 0 JUSTID
XDEL s 1-2
XAUTOCLAIM s g erin 0 (1-1 COUNT 10 JUSTID
XAUTOCLAIM s g frank 0 0 COUNT 1
XPENDING s g
XGROUP DELCONSUMER s g erin
XPENDING s g
XINFO GROUPS s
XSETID s 1
XSETID s 100-0
XSETID s 100-0 ENTRIESADDED 1
XSETID s 100-0 ENTRIESADDED -1
XSETID s 100-0 ENTRIESADDED x
XSETID s 100-0 MAXDELETEDID 200-0
XSETID s 100-0 MAXDELETEDID bad
XSETID s 100-0 FOO
XSETID s +
XSETID nokey 1-0
XSETID str 1-0
XSETID s 200-0 ENTRIESADDED 100 MAXDELETEDID 150-0
XINFO STREAM s
XINFO GROUPS s
XADD s 200-* a b
XINFO GROUPS s
XGROUP DESTROY s g
XINFO GROUPS s
"""


def test_xadd_xrange_xdel_xtrim_and_errors(d):
    run_script(d, XADD_SCRIPT)
    d.digest()


def test_consumer_groups_and_errors(d):
    run_script(d, GROUPS_SCRIPT)
    d.digest()


def test_pending_and_claim_replies_with_clock_masked(d):
    run_script(d, """
    XGROUP CREATE s g 0 MKSTREAM
    XADD s 1-1 a 1
    XADD s 1-2 a 2
    XADD s 1-3 a 3 b 4
    XREADGROUP GROUP g alice COUNT 2 STREAMS s >
    XREADGROUP GROUP g bob STREAMS s >
    XCLAIM s g carol 0 1-2 TIME 12345 RETRYCOUNT 9 JUSTID
    """)
    for args in (("XPENDING", "s", "g", "-", "+", "10"),
                 ("XPENDING", "s", "g", "-", "+", "10", "bob"),
                 ("XPENDING", "s", "g", "IDLE", "0", "-", "+", "10"),
                 ("XPENDING", "s", "g", "(1-1", "+", "1"),
                 ("XPENDING", "s", "g", "-", "+", "10", "bob", "extra")):
        d.masked(mask_pending_ext, *args)
    # IDLE filters on the delivery time: carol's entry was delivered at 12345 ms.
    d.masked(mask_pending_ext, "XPENDING", "s", "g", "IDLE", "3600000", "-", "+", "10")
    d.masked(mask_consumers, "XINFO", "CONSUMERS", "s", "g")
    d.masked(mask_full, "XINFO", "STREAM", "s", "FULL")
    d.masked(mask_full, "XINFO", "STREAM", "s", "FULL", "COUNT", "1")
    d.masked(mask_full, "XINFO", "STREAM", "s", "FULL", "COUNT", "0")
    d.masked(mask_full, "XINFO", "STREAM", "s", "FULL", "COUNT", "-3")
    # XAUTOCLAIM with entries (not JUSTID), and a deleted one reported in the third part.
    d("XDEL", "s", "1-1")
    d("XAUTOCLAIM", "s", "g", "dave", "0", "0", "COUNT", "2")
    d.masked(mask_pending_ext, "XPENDING", "s", "g", "-", "+", "10")
    d("XCLAIM", "s", "g", "erin", "0", "1-3", "1-1", "TIME", "777")
    d.masked(mask_full, "XINFO", "STREAM", "s", "FULL")
    d.digest()


def test_xreadgroup_history_of_deleted_entries_and_lag(d):
    run_script(d, """
    XADD s 1-1 a 1
    XADD s 1-2 a 2
    XADD s 1-3 a 3
    XADD s 1-4 a 4
    XGROUP CREATE s g 0
    XGROUP CREATE s late $
    XGROUP CREATE s mid 1-2
    XINFO GROUPS s
    XREADGROUP GROUP g c1 STREAMS s >
    XDEL s 1-2 1-4
    XREADGROUP GROUP g c1 STREAMS s 0
    XREADGROUP GROUP g c1 COUNT 2 STREAMS s 1-2
    XINFO GROUPS s
    XINFO STREAM s
    XREADGROUP GROUP mid c1 NOACK STREAMS s >
    XINFO GROUPS s
    XADD s 1-5 a 5
    XINFO GROUPS s
    XREADGROUP GROUP late c2 STREAMS s >
    XINFO GROUPS s
    XGROUP SETID s g 0 ENTRIESREAD 0
    XINFO GROUPS s
    XREADGROUP GROUP g c3 STREAMS s >
    XINFO GROUPS s
    XPENDING s g
    XTRIM s MAXLEN 0
    XINFO GROUPS s
    XINFO STREAM s
    XREADGROUP GROUP g c1 STREAMS s 0
    XADD s 2-0 x y
    XINFO GROUPS s
    XREAD STREAMS s 0
    XREADGROUP GROUP g c1 STREAMS s >
    XINFO GROUPS s
    """)
    d.masked(mask_consumers, "XINFO", "CONSUMERS", "s", "g")
    d.digest()


def test_xread_multiple_streams_and_types(d):
    run_script(d, """
    XADD a 1-1 f 1
    XADD a 1-2 f 2
    XADD b 5-0 g 1
    SET str v
    XREAD STREAMS a b 0 0
    XREAD COUNT 1 STREAMS a b 1-1 0
    XREAD STREAMS a b $ $
    XREAD STREAMS a nokey b 0 0 4-9
    XREAD STREAMS a str 0 0
    XREAD STREAMS streams a 0 0
    XREAD COUNT 1 BLOCK 0 STREAMS a 0
    XREAD BLOCK 10 COUNT 1 STREAMS a b 0 0
    XGROUP CREATE a g 0
    XGROUP CREATE b g $
    XREADGROUP GROUP g c COUNT 1 STREAMS a b > >
    XREADGROUP GROUP g c STREAMS a b > 0
    XREADGROUP GROUP g c STREAMS a b 0 0
    XREADGROUP GROUP g c BLOCK 10 STREAMS a b > 0
    XREADGROUP GROUP g c NOACK STREAMS a >
    COMMAND GETKEYS XREAD COUNT 1 STREAMS a b 0 0
    COMMAND GETKEYS XREADGROUP GROUP streams c STREAMS a b > >
    """)
    d.digest()


def test_xinfo_stream_radix_tree_memory_and_serialized_length(d):
    """Many nodes (stream-node-max-entries / -bytes small), tombstones and trims: XINFO
    STREAM (radix-tree-keys / -nodes included), MEMORY USAGE, DEBUG OBJECT's
    serializedlength and the digest agree with Redis at every step."""
    for maxe, maxb in ((100, 4096), (3, 4096), (5, 0), (0, 200), (2, 120)):
        d("FLUSHALL")
        d("CONFIG", "SET", "stream-node-max-entries", maxe)
        d("CONFIG", "SET", "stream-node-max-bytes", maxb)
        rnd = random.Random(maxe * 1000 + maxb)
        ms = 1
        for i in range(120):
            ms += rnd.choice([0, 1, 1, 1000, 70000, 2 ** 40])
            nf = rnd.randint(1, 4)
            if rnd.random() < 0.5:
                fields = ["a", "b", "c", "d"][:nf]
            else:
                fields = [f"f{rnd.randint(0, 3)}" for _ in range(nf)]
            seq = rnd.randint(0, 3) if rnd.random() < 0.3 else "*"
            args = ["XADD", "s", f"{ms}-{seq}"]
            for f in fields:
                args += [f, rnd.choice(["1", "-5", "300000", "x" * rnd.randint(0, 70), "007",
                                        str(2 ** 63), "-0"])]
            d(*args)
            if rnd.random() < 0.1:
                first = parse(d("XRANGE", "s", "-", "+", "COUNT", 1))
                d("XDEL", "s", first[0][0] if first and rnd.random() < 0.5 else f"{ms}-0")
            if rnd.random() < 0.04:
                d("XTRIM", "s", "MAXLEN", "~", rnd.randint(0, 100))
            if rnd.random() < 0.04:
                d("XTRIM", "s", "MINID", rnd.choice(["~", "="]), f"{ms - rnd.randint(0, 5000)}")
            if rnd.random() < 0.02:
                d("XTRIM", "s", "MAXLEN", rnd.randint(0, 100))
            if rnd.random() < 0.03:
                d("XADD", "s", "MAXLEN", "~", rnd.randint(0, 50), "LIMIT", rnd.randint(0, 20),
                  f"{ms}-*", "q", "1")
            if i % 40 == 0:
                d("XINFO", "STREAM", "s")
                d("MEMORY", "USAGE", "s")
        d("XINFO", "STREAM", "s")
        d("XRANGE", "s", "-", "+")
        d("XREVRANGE", "s", "+", "-", "COUNT", 7)
        d("MEMORY", "USAGE", "s")
        d("MEMORY", "USAGE", "s", "SAMPLES", 0)
        ta, ra = d.both("DEBUG", "OBJECT", "s")
        assert ta.split(b"serializedlength:")[1].split()[0] == \
            ra.split(b"serializedlength:")[1].split()[0]
        d.digest()


def test_many_nodes_radix_tree_and_group_memory(d2):
    d = d2
    d("CONFIG", "SET", "stream-node-max-entries", "4")
    for i in range(1, 400):
        d("XADD", "s", f"{i * 977}-{i % 7}", "k", i)
    d("XINFO", "STREAM", "s")
    d("XGROUP", "CREATE", "s", "g", "0")
    d("XGROUP", "CREATE", "s", "g2", "0")
    d("XREADGROUP", "GROUP", "g", "alice", "COUNT", "150", "STREAMS", "s", ">")
    d("XREADGROUP", "GROUP", "g", "bob", "COUNT", "100", "STREAMS", "s", ">")
    d("XREADGROUP", "GROUP", "g2", "carol", "COUNT", "7", "STREAMS", "s", ">")
    d("MEMORY", "USAGE", "s")
    d("MEMORY", "USAGE", "s", "SAMPLES", "0")
    d("XTRIM", "s", "MAXLEN", "~", "333")
    d("XTRIM", "s", "MINID", "100000")
    d("XINFO", "STREAM", "s")
    d("MEMORY", "USAGE", "s", "SAMPLES", "3")
    d.digest()


def test_empty_streams(d):
    run_script(d, """
    XADD s MAXLEN 0 1-1 a b
    XLEN s
    XINFO STREAM s
    XRANGE s - +
    XREVRANGE s + -
    XREAD STREAMS s 0
    XADD s 1-1 a b
    XADD s 2-1 a b
    XDEL s 2-1
    XINFO STREAM s
    XTRIM s MINID ~ 5
    XTRIM s MINID = 5
    XINFO STREAM s
    XGROUP CREATE e g $ MKSTREAM
    XINFO STREAM e
    XINFO GROUPS e
    XREADGROUP GROUP g c STREAMS e >
    EXISTS e
    """)
    d("MEMORY", "USAGE", "s")
    d("MEMORY", "USAGE", "e")
    d.digest()


def test_keyspace_notifications_match(r, rr, tracered_server, redis_server):
    """The NOTIFY_STREAM events (and the generic ones XADD/XGROUP CREATE MKSTREAM cause)."""
    events = {}
    for name, port in (("t", tracered_server.port), ("r", redis_server.port)):
        c = Conn(port)
        c("CONFIG", "SET", "notify-keyspace-events", "KEA")
        sub = Conn(port)
        sub("PSUBSCRIBE", "__keyevent@0__:*")
        for line in """XADD s 1-1 a 1
                       XADD s 2-1 a 1
                       XADD s MAXLEN 1 3-1 a 1
                       XDEL s 3-1
                       XDEL s 3-1
                       XADD s 4-1 a 1
                       XTRIM s MAXLEN 0
                       XTRIM s MAXLEN 0
                       XGROUP CREATE s g $
                       XGROUP CREATE m g $ MKSTREAM
                       XGROUP CREATECONSUMER s g c
                       XGROUP DELCONSUMER s g c
                       XGROUP SETID s g 0
                       XREADGROUP GROUP g c2 STREAMS s >
                       XCLAIM s g c3 0 4-1 FORCE
                       XGROUP DESTROY s g
                       XSETID s 9-9
                       SET end 1""".splitlines():
            c(*line.split())
        got = []
        while True:
            msg = parse(sub._reply())
            got.append(msg[2:])
            if msg[3] == b"end":
                break
        events[name] = got
        c("CONFIG", "SET", "notify-keyspace-events", "")
        c.close()
        sub.close()
    assert events["t"] == events["r"]
    assert [b"__keyevent@0__:xgroup-createconsumer", b"s"] in events["t"]


# -------------------------------------------------------------------------------- RDB

def _config_dir(c: Conn) -> str:
    return parse(c("CONFIG", "GET", "dir"))[1].decode()


def _wait_loaded(c: Conn) -> None:
    deadline = time.time() + 10
    while time.time() < deadline:
        if parse(c("PING")) in (b"PONG", "PONG"):
            return
        time.sleep(0.05)


def test_rdb_files_exchanged_both_ways(d2):
    """SAVE on one side, DEBUG RELOAD NOSAVE of that file on the other: the same stream,
    groups, PELs (with delivery times and counts) and consumers."""
    d = d2
    d("CONFIG", "SET", "stream-node-max-entries", "3")
    for i in range(1, 20):
        d("XADD", "s", f"{i}-{i}", "a", i, "b", "x" * i)
    d("XADD", "s", "20-0", "other", "fields")
    d("XDEL", "s", "3-3", "20-0")
    d("XADD", "empty", "MAXLEN", "0", "1-1", "a", "b")
    d("XGROUP", "CREATE", "s", "g", "0")
    d("XGROUP", "CREATE", "s", "g2", "5", "ENTRIESREAD", "3")
    d("XGROUP", "CREATE", "s", "g3", "$")
    d("XGROUP", "SETID", "s", "g3", "$")        # entries_read invalid: saved as UINT64_MAX
    d("XREADGROUP", "GROUP", "g", "alice", "COUNT", "4", "STREAMS", "s", ">")
    d("XREADGROUP", "GROUP", "g", "bob", "COUNT", "3", "STREAMS", "s", ">")
    d("XGROUP", "CREATECONSUMER", "s", "g", "idle-one")
    d("XCLAIM", "s", "g", "bob", "0", "1-1", "TIME", "4242", "RETRYCOUNT", "5")
    d("XSETID", "s", "30-0", "ENTRIESADDED", "40", "MAXDELETEDID", "25-0")
    d("SET", "plain", "v")
    digest = d.digest()
    full = d.masked(mask_full, "XINFO", "STREAM", "s", "FULL")
    pending = d.masked(mask_pending_ext, "XPENDING", "s", "g", "IDLE", "0", "(0", "+", "1")
    tdir, rdir = _config_dir(d.t), _config_dir(d.ref)
    for src, dst, srcdir, dstdir in ((d.t, d.ref, tdir, rdir), (d.ref, d.t, rdir, tdir)):
        assert parse(src("SAVE")) in (b"OK", "OK")
        shutil.copyfile(os.path.join(srcdir, "dump.rdb"), os.path.join(dstdir, "dump.rdb"))
        assert parse(dst("DEBUG", "RELOAD", "NOSAVE")) in (b"OK", "OK")
        _wait_loaded(dst)
        d("XINFO", "STREAM", "s")
        d("XINFO", "STREAM", "empty")
        d("XINFO", "GROUPS", "s")
        assert d.masked(mask_full, "XINFO", "STREAM", "s", "FULL") == full
        # The delivery time survives the file (4242 is far in the past): the same bucket.
        assert parse(d.both("XPENDING", "s", "g", "-", "+", "1")[0])[0][3] == 5
        assert d.digest() == digest
        assert d.masked(mask_pending_ext, "XPENDING", "s", "g", "IDLE", "0", "(0", "+",
                        "1") == pending
    for k in ("s", "empty"):
        ta, ra = d.both("DEBUG", "OBJECT", k)
        assert ta.split(b"serializedlength:")[1].split()[0] == \
            ra.split(b"serializedlength:")[1].split()[0]
    # Files saved by both sides are byte-identical from the first key on (the AUX
    # fields before it carry times and memory figures).
    d("FLUSHALL")
    d("XADD", "k", "1-1", "a", "1", "b", "2")
    d("XADD", "k", "2-5", "a", "3", "c", "4")
    d("XGROUP", "CREATE", "k", "g", "0")
    d("XCLAIM", "k", "g", "c", "0", "1-1", "FORCE", "TIME", "99", "JUSTID")
    d("XGROUP", "CREATECONSUMER", "k", "g", "zed")
    files = []
    for c, dr in ((d.t, tdir), (d.ref, rdir)):
        c("SAVE")
        with open(os.path.join(dr, "dump.rdb"), "rb") as f:
            data = f.read()
        start = data.index(b"\xfe\x00\xfb")      # SELECTDB 0, RESIZEDB
        files.append(data[start:-8])             # up to the checksum
    # Consumer seen-times differ (8 bytes after each consumer name): compare around them.
    a, b = files
    assert len(a) == len(b)
    diffs = [i for i in range(len(a)) if a[i] != b[i]]
    for name in (b"c", b"zed"):
        pos = a.rindex(b"\x01" + name if len(name) == 1 else b"\x03" + name)
        seen = range(pos + 1 + len(name), pos + 1 + len(name) + 8)
        diffs = [i for i in diffs if i not in seen]
    assert diffs == []


# -------------------------------------------------------------------------------- hypothesis

_ids = st.builds(lambda ms, seq: f"{ms}-{seq}", st.integers(0, 6), st.integers(0, 3))
_maybe_ids = st.one_of(_ids, st.sampled_from(["-", "+", "(1-1", "(3", "0", "5"]))
_fields = st.lists(st.sampled_from(["a", "b", "c", "1", "007"]), min_size=1, max_size=3)
_vals = st.sampled_from(["1", "x", "", "-3", "99999999999", "v" * 70])
_group = st.sampled_from(["g", "h"])
_consumer = st.sampled_from(["c1", "c2", "c3"])

_op = st.one_of(
    st.builds(lambda i, f, v: ("XADD", "s", i, *[x for k in f for x in (k, v)]),
              st.one_of(_ids, st.builds(lambda ms: f"{ms}-*", st.integers(0, 8))), _fields, _vals),
    st.builds(lambda n, a: ("XTRIM", "s", "MAXLEN", a, str(n)),
              st.integers(0, 6), st.sampled_from(["=", "~"])),
    st.builds(lambda i, n: ("XADD", "s", "MAXLEN", "~", str(n), "LIMIT", "2", i, "f", "v"),
              _ids, st.integers(0, 6)),
    st.builds(lambda i, a: ("XTRIM", "s", "MINID", a, i), _ids, st.sampled_from(["=", "~"])),
    st.builds(lambda ids: ("XDEL", "s", *ids), st.lists(_ids, min_size=1, max_size=3)),
    st.builds(lambda a, b, n: ("XRANGE", "s", a, b, "COUNT", str(n)), _maybe_ids, _maybe_ids,
              st.integers(0, 4)),
    st.builds(lambda a, b: ("XREVRANGE", "s", a, b), _maybe_ids, _maybe_ids),
    st.builds(lambda g, i: ("XGROUP", "CREATE", "s", g, i, "MKSTREAM"), _group,
              st.one_of(_ids, st.just("$"))),
    st.builds(lambda g, i: ("XGROUP", "SETID", "s", g, i), _group,
              st.one_of(_ids, st.just("$"))),
    st.builds(lambda g, c, n, noack: ("XREADGROUP", "GROUP", g, c, "COUNT", str(n),
                                      *(["NOACK"] if noack else []), "STREAMS", "s", ">"),
              _group, _consumer, st.integers(0, 3), st.booleans()),
    st.builds(lambda g, c, i: ("XREADGROUP", "GROUP", g, c, "STREAMS", "s", i),
              _group, _consumer, _ids),
    st.builds(lambda i: ("XREAD", "STREAMS", "s", i), _ids),
    st.builds(lambda g, ids: ("XACK", "s", g, *ids), _group,
              st.lists(_ids, min_size=1, max_size=3)),
    st.builds(lambda g, c, ids, extra: ("XCLAIM", "s", g, c, "0", *ids, "TIME", "1000",
                                        *extra),
              _group, _consumer, st.lists(_ids, min_size=1, max_size=2),
              st.sampled_from([[], ["JUSTID"], ["FORCE"], ["RETRYCOUNT", "4"],
                               ["LASTID", "5-0"]])),
    st.builds(lambda g, c, i, n: ("XAUTOCLAIM", "s", g, c, "0", i, "COUNT", str(n), "JUSTID"),
              _group, _consumer, _ids, st.integers(1, 3)),
    st.builds(lambda g, c: ("XGROUP", "DELCONSUMER", "s", g, c), _group, _consumer),
    st.builds(lambda g, c: ("XGROUP", "CREATECONSUMER", "s", g, c), _group, _consumer),
    st.builds(lambda i: ("XSETID", "s", i), _ids),
    st.builds(lambda g: ("XPENDING", "s", g), _group),
    st.just(("XINFO", "GROUPS", "s")),
    st.just(("XINFO", "STREAM", "s")),
    st.just(("XLEN", "s")),
)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ops=st.lists(_op, min_size=1, max_size=25), maxe=st.sampled_from(["2", "3", "100"]))
def test_hypothesis_sequences(d2, ops, maxe):
    d = d2
    d("FLUSHALL")
    d("CONFIG", "SET", "stream-node-max-entries", maxe)
    for op in ops:
        d(*op)
    d.masked(mask_full, "XINFO", "STREAM", "s", "FULL")
    for g in ("g", "h"):
        d.masked(mask_pending_ext, "XPENDING", "s", g, "-", "+", "100")
    d.digest()


# -------------------------------------------------------------------------------- blocking

def _send(c: Conn, *args) -> None:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    c.sock.sendall(b"".join(parts))


def _blocking_scenario(port: int) -> list[bytes]:
    """Readers block, writers wake them; every reply in order, as bytes."""
    admin = Conn(port)
    admin("FLUSHALL")

    def wait_blocked(n: int) -> None:
        deadline = time.time() + 5
        while b"blocked_clients:%d\r" % n not in admin("INFO", "clients"):
            assert time.time() < deadline, f"expected {n} blocked clients"
            time.sleep(0.01)

    out = []
    readers = [Conn(port) for _ in range(5)]
    readers[1]("HELLO", "3")
    try:
        admin("XGROUP", "CREATE", "s", "g", "$", "MKSTREAM")
        admin("XGROUP", "CREATE", "t", "g", "$", "MKSTREAM")
        _send(readers[0], "XREAD", "BLOCK", "0", "STREAMS", "s", "x", "$", "$")
        _send(readers[1], "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "x", "s", "0", "0")
        _send(readers[2], "XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "s", ">")
        _send(readers[3], "XREADGROUP", "GROUP", "g", "b", "NOACK", "BLOCK", "0",
              "STREAMS", "s", ">")
        _send(readers[4], "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "t", ">")
        wait_blocked(5)
        out.append(admin("MULTI"))
        out.append(admin("XADD", "s", "1-1", "f", "1"))
        out.append(admin("XADD", "s", "1-2", "f", "2"))
        out.append(admin("EXEC"))
        out += [readers[i]._reply() for i in range(3)]
        wait_blocked(2)
        out.append(admin("XADD", "s", "2-0", "f", "3"))
        out.append(readers[3]._reply())
        out.append(admin("XPENDING", "s", "g"))
        out.append(admin("XINFO", "GROUPS", "s"))
        out.append(admin("XGROUP", "DESTROY", "t", "g"))
        out.append(readers[4]._reply())
        # XREADGROUP waiters of a deleted / overwritten key; XREAD ones keep waiting.
        admin("XGROUP", "CREATE", "t", "g", "$")
        _send(readers[2], "XREADGROUP", "GROUP", "g", "a", "BLOCK", "0", "STREAMS", "t", ">")
        _send(readers[3], "XREADGROUP", "GROUP", "g", "b", "BLOCK", "0", "STREAMS", "s", ">")
        _send(readers[0], "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
        wait_blocked(3)
        out.append(admin("DEL", "t"))
        out.append(readers[2]._reply())
        out.append(admin("SET", "s", "string now"))
        out.append(readers[3]._reply())
        out.append(admin("DEL", "s"))
        out.append(admin("XADD", "s", "5-0", "back", "1"))
        out.append(readers[0]._reply())
        out.append(readers[1]("XREAD", "BLOCK", "30", "STREAMS", "s", "$"))
        out.append(readers[0]("XREAD", "BLOCK", "30", "STREAMS", "s", "$"))
    finally:
        for c in readers + [admin]:
            c.close()
    return out


def test_blocking_replies_match(tracered_server, redis_server):
    ours = _blocking_scenario(tracered_server.port)
    theirs = _blocking_scenario(redis_server.port)
    assert ours == theirs
    assert ours[-1] == b"*-1\r\n" and ours[-2] == b"_\r\n"
