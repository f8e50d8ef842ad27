"""HyperLogLog (hyperloglog.c): the byte format, the bulk register helpers against
register-at-a-time models, the estimator, and PFADD PFCOUNT PFMERGE PFDEBUG PFSELFTEST with
their errors over TCP; probes, events and propagation in process.

The byte strings below were produced by redis-server 7.0.15 for the same commands.
"""

from __future__ import annotations

import random

import pytest
from test_t_hash import InProc, _Sink, enc, err

from tracered import hyperloglog as hll
from tracered.object import OBJ_ENCODING_RAW, OBJ_STRING, RObj
from tracered.t_string import sds_new_len

WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_HLL = "WRONGTYPE Key is not a valid HyperLogLog string value."
CORRUPT = "INVALIDOBJ Corrupted HLL object detected"
HDR_SPARSE = b"HYLL\x01\x00\x00\x00" + bytes(8)


@pytest.fixture
def inproc():
    p = InProc()
    yield p
    p.close()


@pytest.fixture
def max_bytes(r):
    """Restore hll-sparse-max-bytes after a test that changes it."""
    yield
    r.config_set("hll-sparse-max-bytes", 3000)


def _random_registers(rnd: random.Random, density: float, top: int = 63) -> bytes:
    return bytes(rnd.randint(1, top) if rnd.random() < density else 0
                 for _ in range(hll.HLL_REGISTERS))


def _pack_model(regs: bytes) -> bytearray:
    out = bytearray(hll.HLL_REGISTERS_BYTES + 1)
    for i, v in enumerate(regs):
        hll.hll_dense_set_register(out, i, v, 0)
    return out[:hll.HLL_REGISTERS_BYTES]


# --------------------------------------------------------------------------------------------
# Hash, registers, histogram, merge, estimator
# --------------------------------------------------------------------------------------------

def test_pat_len_and_redis_bytes():
    assert hll.hll_pat_len(b"a") == (12711, 2)  # PFDEBUG GETREG on redis-server
    o = hll.create_hll_object()
    assert bytes(o.ptr) == HDR_SPARSE + b"\x7f\xff"  # XZERO:16384
    assert o.encoding == OBJ_ENCODING_RAW
    assert hll.hll_add(o, b"a") == 1
    assert hll.hll_add(o, b"a") == 0
    o.ptr[15] |= 0x80
    assert bytes(o.ptr) == HDR_SPARSE[:15] + b"\x80q\xa6\x84NW"
    o = hll.create_hll_object()
    for e in (b"a", b"b", b"c", b"hello", b"world"):
        hll.hll_add(o, e)
    assert bytes(o.ptr) == (HDR_SPARSE[:15] + b"\x80J\xb5\x88V<\x80C\n\x80M\xa5\x84K\xfb"
                            b"\x80BZ")
    assert hll.hll_count(o.ptr) == (5, False)


def test_murmurhash_lengths():
    # Every tail length and a multi-block key go through the same register/count split the
    # C code uses; the sparse bytes of these adds match Redis in test_diff_bits_hll.
    seen = {hll.murmurhash64a(b"x" * n) for n in range(0, 40)}
    assert len(seen) == 40
    assert all(0 <= h < 1 << 64 for h in seen)
    idx, count = hll.hll_pat_len(b"")
    assert 0 <= idx < hll.HLL_REGISTERS and 1 <= count <= hll.HLL_Q + 1


def test_dense_registers_pack_roundtrip():
    rnd = random.Random(1)
    for density in (0.0, 0.01, 0.5, 1.0):
        regs = _random_registers(rnd, density)
        packed = _pack_model(regs)
        assert hll.hll_pack_registers(regs) == packed
        assert hll.hll_dense_registers(packed, 0) == regs
        for i in rnd.sample(range(hll.HLL_REGISTERS), 50):
            assert hll.hll_dense_get_register(packed, i, 0) == regs[i]


def test_dense_histogram_against_model():
    rnd = random.Random(2)
    for density, top in ((0.0, 63), (0.3, 5), (1.0, 63), (0.9, 20), (1.0, 1)):
        regs = _random_registers(rnd, density, top)
        histo = hll.hll_dense_reg_histo(_pack_model(regs), 0)
        model = [0] * 64
        for v in regs:
            model[v] += 1
        assert histo == model


def test_packed_max_against_model():
    rnd = random.Random(3)
    a = _random_registers(rnd, 0.5)
    b = _random_registers(rnd, 0.5)
    ia = int.from_bytes(_pack_model(a), "little")
    ib = int.from_bytes(_pack_model(b), "little")
    got = hll.hll_packed_max(ia, ib).to_bytes(hll.HLL_REGISTERS_BYTES, "little")
    assert hll.hll_dense_registers(got, 0) == bytes(map(max, a, b))


def test_sparse_registers_and_validity():
    o = hll.create_hll_object()
    rnd = random.Random(4)
    for _ in range(300):
        hll.hll_add(o, b"%d" % rnd.getrandbits(40))
    regs = hll.hll_sparse_registers(o.ptr)
    d = RObj(OBJ_STRING, OBJ_ENCODING_RAW, o.ptr)
    assert hll.hll_sparse_to_dense(d)
    assert hll.hll_dense_registers(d.ptr) == regs
    assert bytes(d.ptr[:16]) == b"HYLL\x00" + bytes(o.ptr[5:16])  # header kept
    assert hll.hll_count(d.ptr)[0] == hll.hll_count(o.ptr)[0]
    # Registers must add up to exactly 16384.
    for bad in (b"\x7f\xfe", b"\x7f\xff\x80", b"\x7f\xfb\x8f\x8f", b"", b"\x7f"):
        assert hll.hll_sparse_registers(HDR_SPARSE + bad) is None
        assert hll.hll_sparse_reg_histo(HDR_SPARSE + bad)[1] is True
    assert hll.hll_sparse_registers(HDR_SPARSE + b"\x7f\xfb\x8f") == bytes(16380) + b"\x04" * 4


def _decode(buf: bytes) -> str:
    """The opcodes of a sparse HLL in PFDEBUG DECODE's notation."""
    out = []
    p = 16
    while p < len(buf):
        b = buf[p]
        if b < 0x40:
            out.append("z:%d" % ((b & 0x3F) + 1))
            p += 1
        elif b < 0x80:
            out.append("Z:%d" % ((((b & 0x3F) << 8) | buf[p + 1]) + 1))
            p += 2
        else:
            out.append("v:%d,%d" % (((b >> 2) & 0x1F) + 1, (b & 3) + 1))
            p += 1
    return " ".join(out)


def test_sparse_set_splits_and_merges():
    o = hll.create_hll_object()
    assert _decode(o.ptr) == "Z:16384"
    assert hll.hll_sparse_set(o, 100, 3) == 1
    assert bytes(o.ptr[16:]) == b"\x40\x63\x88\x7f\x9a"
    assert _decode(o.ptr) == "Z:100 v:3,1 Z:16283"
    assert hll.hll_sparse_set(o, 101, 3) == 1  # XZERO split, then v:3,1 v:3,1 merged
    assert _decode(o.ptr) == "Z:100 v:3,2 Z:16282"
    assert hll.hll_sparse_set(o, 100, 2) == 0  # never lowered
    assert hll.hll_sparse_set(o, 100, 5) == 1  # VAL split
    assert _decode(o.ptr) == "Z:100 v:5,1 v:3,1 Z:16282"
    assert hll.hll_sparse_set(o, 16383, 1) == 1
    assert _decode(o.ptr) == "Z:100 v:5,1 v:3,1 Z:16281 v:1,1"
    assert hll.hll_sparse_set(o, 102, 3) == 1  # merges with the v:3,1 on its left
    assert _decode(o.ptr) == "Z:100 v:5,1 v:3,2 Z:16280 v:1,1"
    assert hll.hll_sparse_set(o, 140, 1) == 1  # short zero runs use ZERO
    assert _decode(o.ptr) == "Z:100 v:5,1 v:3,2 z:37 v:1,1 Z:16242 v:1,1"
    assert o.ptr[15] & 0x80
    # PFMERGE's resumable scan gives the same bytes as scanning from the start.
    a = hll.create_hll_object()
    b = hll.create_hll_object()
    trail: list = []
    rnd = random.Random(5)
    for j in sorted(rnd.sample(range(hll.HLL_REGISTERS), 400)):
        v = rnd.randint(1, 6)
        assert hll.hll_sparse_set(a, j, v) == hll.hll_sparse_set(b, j, v, trail)
    assert a.ptr == b.ptr


def test_sparse_promotion(monkeypatch):
    from tracered.server import server

    o = hll.create_hll_object()
    assert hll.hll_sparse_set(o, 5, 33) == 1  # above 32: only dense can hold it
    assert o.ptr[4] == hll.HLL_DENSE and len(o.ptr) == hll.HLL_DENSE_SIZE
    assert hll.hll_dense_get_register(o.ptr, 5) == 33
    monkeypatch.setattr(server, "hll_sparse_max_bytes", 20)
    o = hll.create_hll_object()
    assert hll.hll_sparse_set(o, 0, 1) == 1  # VAL + XZERO: 19 bytes
    assert o.ptr[4] == hll.HLL_SPARSE
    assert hll.hll_sparse_set(o, 500, 1) == 1  # would be 22 bytes
    assert o.ptr[4] == hll.HLL_DENSE
    assert hll.hll_dense_registers(o.ptr)[:501] == b"\x01" + bytes(499) + b"\x01"


def test_estimator():
    assert hll.hll_estimate([hll.HLL_REGISTERS] + [0] * 63) == 0
    assert hll.hll_sigma(1.0) == float("inf")
    assert hll.hll_tau(0.0) == 0.0 and hll.hll_tau(1.0) == 0.0
    o = hll.create_hll_object()
    hll.hll_sparse_to_dense(o)
    for i in range(20000):
        hll.hll_add(o, b"e%d" % i)
    card, invalid = hll.hll_count(o.ptr)
    assert not invalid and abs(card - 20000) < 20000 * 0.05


# --------------------------------------------------------------------------------------------
# Commands over TCP
# --------------------------------------------------------------------------------------------

def test_pfadd_pfcount(r):
    assert r.pfadd("h", "a", "b", "c") == 1
    assert r.pfadd("h", "a") == 0
    assert r.pfadd("h") == 0
    assert r.pfadd("new") == 1  # creating the key counts as an update
    assert r.pfcount("new") == 0
    assert r.pfcount("h") == 3
    assert r.pfcount("nokey") == 0
    assert enc(r, "h") == b"raw"
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"sparse"
    v = r.get("h")
    assert v[:4] == b"HYLL" and v[8:16] == b"\x03" + bytes(7)  # the cached cardinality
    r.pfadd("h", "d")
    assert r.get("h")[15] & 0x80  # stale until the next PFCOUNT
    assert r.pfcount("h") == 4
    assert r.get("h")[8:16] == b"\x04" + bytes(7)


def test_pfcount_multi_and_pfmerge(r):
    r.pfadd("a", *[f"x{i}" for i in range(100)])
    r.pfadd("b", *[f"x{i}" for i in range(50, 200)])
    union = r.pfcount("a", "b")
    assert abs(union - 200) <= 6  # an estimate (exactly Redis's: test_diff_bits_hll)
    assert r.pfcount("a", "b", "nokey") == union
    assert r.pfcount("nokey", "nokey2") == 0
    assert r.get("a")[15] & 0x80  # a multi-key PFCOUNT caches nothing
    assert r.pfmerge("m", "a", "b") is True
    assert r.pfcount("m") == union
    assert r.execute_command("PFDEBUG", "ENCODING", "m") == b"sparse"
    assert r.pfmerge("m") is True  # a merge of the destination alone
    assert r.pfmerge("empty") is True
    assert r.pfcount("empty") == 0
    r.execute_command("PFDEBUG", "TODENSE", "b")
    assert r.pfmerge("m2", "a", "b") is True  # any dense input: dense destination
    assert r.execute_command("PFDEBUG", "ENCODING", "m2") == b"dense"
    assert r.pfcount("m2") == union


def test_promotion_by_size(r, max_bytes):
    r.config_set("hll-sparse-max-bytes", 60)
    r.pfadd("h", *[f"x{i}" for i in range(10)])
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"sparse"
    r.pfadd("h", *[f"y{i}" for i in range(40)])
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"dense"
    assert r.strlen("h") == hll.HLL_DENSE_SIZE
    assert r.memory_usage("h") > hll.HLL_DENSE_SIZE


def test_pfdebug(r):
    r.pfadd("h", "a")
    assert r.execute_command("PFDEBUG", "DECODE", "h") == b"Z:12711 v:2,1 Z:3672"
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"sparse"
    regs = r.execute_command("PFDEBUG", "GETREG", "h")  # converts to dense
    assert len(regs) == hll.HLL_REGISTERS and regs[12711] == 2 and sum(regs) == 2
    assert r.execute_command("PFDEBUG", "ENCODING", "h") == b"dense"
    assert r.execute_command("PFDEBUG", "TODENSE", "h") == 0
    assert err(r, "PFDEBUG", "DECODE", "h") == "HLL encoding is not sparse"
    r.pfadd("s", "b")
    assert r.execute_command("PFDEBUG", "TODENSE", "s") == 1
    assert err(r, "PFDEBUG", "FOO", "h") == "Unknown PFDEBUG subcommand 'FOO'"
    assert err(r, "PFDEBUG", "GETREG", "nokey") == "The specified key does not exist"
    assert err(r, "PFDEBUG", "GETREG") == "wrong number of arguments for 'pfdebug' command"


def test_pfselftest(r):
    assert r.execute_command("PFSELFTEST") == b"OK"


def test_wrong_types_and_corruption(r):
    r.hset("hash", "a", "b")
    r.set("str", "hello world")
    r.set("int", 12345)
    r.set("dense_short", b"HYLL\x00" + bytes(11) + bytes(100))
    r.set("bad_enc", b"HYLL\x02" + bytes(11))
    for key in ("str", "int", "dense_short", "bad_enc"):
        for args in (("PFADD", key, "x"), ("PFCOUNT", key), ("PFCOUNT", key, "str"),
                     ("PFMERGE", "d", key), ("PFDEBUG", "ENCODING", key)):
            assert err(r, *args) == NOT_HLL, args
    assert err(r, "PFADD", "hash", "x") == WRONGTYPE
    assert err(r, "PFCOUNT", "hash") == WRONGTYPE
    assert not r.exists("d")
    # Sparse opcodes that do not add up to 16384 registers.
    r.set("short", HDR_SPARSE + b"\x7f\xfe")
    r.set("long", HDR_SPARSE + b"\x7f\xff\x80")
    r.set("long2", HDR_SPARSE + b"\x7f\xff\x7f\xff")
    r.set("long_stale", HDR_SPARSE[:15] + b"\x80" + b"\x7f\xff\x80")
    assert err(r, "PFCOUNT", "long_stale") == CORRUPT
    assert r.pfcount("long") == 0  # a valid cached cardinality is answered without decoding
    assert err(r, "PFCOUNT", "long", "x") == CORRUPT
    assert err(r, "PFMERGE", "d", "long2") == CORRUPT
    assert err(r, "PFDEBUG", "TODENSE", "long2") == CORRUPT
    assert err(r, "PFDEBUG", "GETREG", "short") == CORRUPT
    r.set("one", HDR_SPARSE + b"\x00")  # ZERO:1, registers 1.. are missing
    assert hll.hll_pat_len(b"zzz")[0] != 0
    assert err(r, "PFADD", "one", "zzz") == CORRUPT
    assert r.pfadd("long2", "zzz") == 1  # the first XZERO covers every register
    assert err(r, "PFCOUNT", "long2") == CORRUPT


# --------------------------------------------------------------------------------------------
# In process: probe, conversion event, propagation
# --------------------------------------------------------------------------------------------

def test_probe_event_and_propagation(inproc):
    from tracered.trace import probes

    p = inproc
    prop = p.propagated
    sink = _Sink()
    assert probes.arm("hllSparseToDense", sink)
    try:
        p("PFADD", "h", "a", "b")
        assert p.events[-2:] == [("new", b"h"), ("pfadd", b"h")]
        assert sink.hits == []
        p("PFDEBUG", "TODENSE", "h")
    finally:
        probes.remove_sink(sink)
    assert sink.hits == ["hllSparseToDense"]
    conv = [a for n, a in sink.events if n == "encoding.convert"]
    assert len(conv) == 1
    assert (conv[0]["redis.key"], conv[0]["from"], conv[0]["to"]) == ("h", "sparse", "dense")
    assert prop[-1] == [b"PFDEBUG", b"TODENSE", b"h"]
    n = len(prop)
    p("PFADD", "h", "a")  # no register changed
    assert len(prop) == n
    p("PFCOUNT", "h")  # rewrites the cached cardinality: propagated
    assert prop[-1] == [b"PFCOUNT", b"h"]
    p("PFCOUNT", "h")  # cached: nothing to propagate
    assert len(prop) == n + 1
    p("PFMERGE", "m", "h")
    assert p.events[-1] == ("pfadd", b"m")


def test_sds_accounting_of_a_new_hll():
    o = hll.create_hll_object()
    # sdsnewlen(18) is an sdshdr5 (exact fit); the first sparse set makes room greedily.
    assert o.ptr.usable == 32  # jemalloc's class for 20 bytes
    hll.hll_add(o, b"a")
    assert o.ptr.usable == 48 and o.ptr.alloc == 44
    assert isinstance(sds_new_len(1), bytearray)
