"""HyperLogLog: the mirror of hyperloglog.c.

An HLL is an ordinary string value (``raw`` encoding), byte for byte the one Redis stores, so
GET / SET / DUMP / DEBUG DIGEST of it equal Redis's:

* a 16-byte header: ``HYLL``, the encoding byte (0 dense, 1 sparse), three zero bytes, and
  the cached cardinality as a little-endian uint64 whose top bit set means "stale";
* **dense**: 16384 registers of 6 bits packed from the low bits of each byte upwards
  (12288 bytes), register i at bits 6i..6i+5 of the register bytes read little-endian;
* **sparse**: run-length opcodes over the registers: ``00xxxxxx`` ZERO (1..64 zero
  registers), ``01xxxxxx yyyyyyyy`` XZERO (1..16384 zero registers), ``1vvvvvxx`` VAL (1..4
  registers of value 1..32).  A new HLL is sparse; it becomes dense when a register needs a
  value above 32 or the string would grow past ``hll-sparse-max-bytes``
  (:func:`hll_sparse_to_dense`, probe ``hllSparseToDense``, event ``encoding.convert``).

Elements are hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits pick the register,
the position of the first 1 bit in the rest is the register's candidate value.  PFCOUNT
uses Redis 7.0's estimator (Ertl's improved raw estimator: hllSigma / hllTau over the
register histogram) and caches the result in the header.

Layout (hyperloglog.c order): constants and opcode helpers, MurmurHash64A and hllPatLen,
the dense representation, the sparse representation, hllCount, hllAdd / hllMerge, the
commands (PFADD PFCOUNT PFMERGE PFSELFTEST PFDEBUG) and the command table.

Where the C code loops over registers one at a time, this module works on whole buffers at
C speed, with results identical to the register loop:

* the dense histogram (:func:`hll_dense_reg_histo`) transposes the registers into six bit
  planes with ``bytes.translate`` tables over the three byte positions of each 4-register
  group, then counts each register value with ANDs and ``int.bit_count`` down a binary tree
  of planes (values absent from the HLL prune whole subtrees);
* merging (PFCOUNT with several keys, PFMERGE) keeps the running maximum as one Python
  integer in the dense layout and takes register-wise maxima with SWAR arithmetic: even and
  odd registers are split so each 6-bit field has a spare guard bit above it, one
  subtraction compares every pair at once;
* finding the sparse opcode that covers a register skips whole runs of one-byte opcodes by
  summing their spans (``translate`` + ``sum``) instead of decoding opcode by opcode;
* decoding a sparse HLL (hllSparseToDense, merges) splits off the XZERO opcodes with one
  regular expression and expands the one-byte opcodes through a 256-entry table with
  ``bytes.join``; the data is valid exactly when that makes 16384 registers, which is the
  condition the C decoder ends up checking.

Divergence: Redis's merge accumulator is a ``uint8_t max[16384]``, here it is the packed
integer above (same maxima).  PFMERGE into a sparse destination still performs one
hllSparseSet per non-zero register in register order, as Redis does, because the resulting
sparse bytes (and the point where it is promoted to dense) depend on that exact sequence; it
only remembers where the previous set ended so each set does not rescan from the start.

Divergence: PFSELFTEST runs the same two tests on a smaller scale (10 register-access cycles
instead of 1000; cardinalities up to 10**5 instead of 10**7): the full run would take
minutes in Python and the server is single-threaded.
"""

from __future__ import annotations

import math
import random
import re
import struct
from collections import Counter

from tracered import db as dbmod
from tracered import networking as net
from tracered import shared
from tracered import t_string as ts
from tracered.commands import KeySpec, cmd
from tracered.db import LOOKUP_WRITE, NOTIFY_STRING
from tracered.object import OBJ_ENCODING_EMBSTR, OBJ_ENCODING_RAW, OBJ_STRING, RObj
from tracered.server import server
from tracered.trace import probes
from tracered.trace.probes import probe

HLL_P = 14
HLL_Q = 64 - HLL_P
HLL_REGISTERS = 1 << HLL_P
HLL_P_MASK = HLL_REGISTERS - 1
HLL_BITS = 6
HLL_REGISTER_MAX = (1 << HLL_BITS) - 1
HLL_HDR_SIZE = 16
HLL_REGISTERS_BYTES = (HLL_REGISTERS * HLL_BITS + 7) // 8
HLL_DENSE_SIZE = HLL_HDR_SIZE + HLL_REGISTERS_BYTES
HLL_DENSE = 0
HLL_SPARSE = 1
HLL_MAX_ENCODING = 1

HLL_SPARSE_XZERO_BIT = 0x40
HLL_SPARSE_VAL_BIT = 0x80
HLL_SPARSE_VAL_MAX_VALUE = 32
HLL_SPARSE_VAL_MAX_LEN = 4
HLL_SPARSE_ZERO_MAX_LEN = 64
HLL_SPARSE_XZERO_MAX_LEN = 16384
HLL_ALPHA_INF = 0.721347520444481703680  # 0.5/ln(2)

_CARD_STALE = 0x80  # in header byte 15, the top byte of the cached cardinality
_M64 = (1 << 64) - 1
_MURMUR_M = 0xC6A4A7935BD1E995
_HLL_SEED = 0xADC83B19

HLL_TEST_CYCLES = 10
HLL_TEST_MAX_CARD = 100000


def _val_op(val: int, length: int) -> int:
    """HLL_SPARSE_VAL_SET: the VAL opcode byte for ``length`` registers of ``val``."""
    return ((val - 1) << 2 | (length - 1)) | HLL_SPARSE_VAL_BIT


def _zero_ops(length: int) -> bytes:
    """A run of ``length`` zero registers as Redis writes it when splitting: ZERO up to 64,
    XZERO above."""
    if length > HLL_SPARSE_ZERO_MAX_LEN:
        n = length - 1
        return bytes(((n >> 8) | HLL_SPARSE_XZERO_BIT, n & 0xFF))
    return bytes((length - 1,))


# Span (registers covered) of each one-byte opcode; XZERO first bytes map to 0 (never summed:
# runs of one-byte opcodes are cut at XZERO opcodes before summing).
_SPAN = bytes((b & 0x3F) + 1 if b < 0x40 else (0 if b < 0x80 else (b & 3) + 1)
              for b in range(256))
# Registers set to zero by each one-byte opcode (VAL -> 0).
_ZERO_SPAN = bytes((b & 0x3F) + 1 if b < 0x40 else 0 for b in range(256))
# An XZERO opcode: its first byte and the next one (or the end of the string, where the C
# code reads the sds terminator).  Scanning left to right, non-overlapping, these matches are
# exactly the XZERO opcodes a sequential decode finds: between two of them there can only be
# one-byte opcodes.
_XZERO_RE = re.compile(rb"[\x40-\x7f](?:.|\Z)", re.S)
_XZERO_SPLIT_RE = re.compile(rb"([\x40-\x7f](?:.|\Z))", re.S)
_NONZERO_RUN_RE = re.compile(rb"[^\x00]+")
# The ZERO opcode bytes (deleted to leave only the VAL opcodes of a run).
_ZERO_OPCODES = bytes(range(0x40))


# --------------------------------------------------------------------------------------------
# MurmurHash64A and hllPatLen
# --------------------------------------------------------------------------------------------

def murmurhash64a(key: bytes, seed: int = _HLL_SEED) -> int:
    """MurmurHash64A as in hyperloglog.c: 8-byte little-endian blocks, the tail folded in
    little-endian too, so the result does not depend on the host's byte order."""
    m = _MURMUR_M
    mask = _M64
    n = len(key)
    h = (seed ^ (n * m)) & mask
    nblocks = n >> 3
    if nblocks:
        for k in struct.unpack_from("<%dQ" % nblocks, key):
            k = (k * m) & mask
            k ^= k >> 47
            h ^= (k * m) & mask
            h = (h * m) & mask
    tail = n & 7
    if tail:
        h ^= int.from_bytes(key[n - tail:], "little")
        h = (h * m) & mask
    h ^= h >> 47
    h = (h * m) & mask
    return h ^ (h >> 47)


def hll_pat_len(ele: bytes) -> tuple[int, int]:
    """hllPatLen: (register index, length of the 000..1 pattern after the index bits).

    Bit 50 of the shifted hash is forced to 1, so the count is at most HLL_Q+1 = 51.
    """
    h = murmurhash64a(ele)
    rest = (h >> HLL_P) | (1 << HLL_Q)
    return h & HLL_P_MASK, (rest & -rest).bit_length()


# --------------------------------------------------------------------------------------------
# Dense representation
# --------------------------------------------------------------------------------------------

def hll_dense_get_register(buf: bytes, regnum: int, base: int = HLL_HDR_SIZE) -> int:
    """HLL_DENSE_GET_REGISTER over registers starting at ``buf[base]``."""
    pos = regnum * HLL_BITS
    byte = base + (pos >> 3)
    fb = pos & 7
    if fb <= 2:
        return (buf[byte] >> fb) & HLL_REGISTER_MAX
    return ((buf[byte] >> fb) | (buf[byte + 1] << (8 - fb))) & HLL_REGISTER_MAX


def hll_dense_set_register(buf: bytearray, regnum: int, val: int,
                           base: int = HLL_HDR_SIZE) -> None:
    """HLL_DENSE_SET_REGISTER.  A register at bit offset 0 or 2 of its byte fits in it; the
    C macro also touches the next byte with masks that change nothing (which is how it can
    read past the last register into the sds terminator)."""
    pos = regnum * HLL_BITS
    byte = base + (pos >> 3)
    fb = pos & 7
    if fb <= 2:
        buf[byte] = (buf[byte] & ~(HLL_REGISTER_MAX << fb)) | (val << fb)
    else:
        fb8 = 8 - fb
        buf[byte] = (buf[byte] & ((1 << fb) - 1)) | ((val << fb) & 0xFF)
        buf[byte + 1] = (buf[byte + 1] & ~(HLL_REGISTER_MAX >> fb8)) | (val >> fb8)


def hll_dense_set(buf: bytearray, index: int, count: int) -> int:
    """hllDenseSet: raise register ``index`` to ``count``; 1 if it changed."""
    pos = index * HLL_BITS
    byte = HLL_HDR_SIZE + (pos >> 3)
    fb = pos & 7
    b0 = buf[byte]
    if fb <= 2:
        if count > (b0 >> fb) & HLL_REGISTER_MAX:
            buf[byte] = (b0 & ~(HLL_REGISTER_MAX << fb)) | (count << fb)
            return 1
        return 0
    fb8 = 8 - fb
    b1 = buf[byte + 1]
    if count > ((b0 >> fb) | (b1 << fb8)) & HLL_REGISTER_MAX:
        buf[byte] = (b0 & ((1 << fb) - 1)) | ((count << fb) & 0xFF)
        buf[byte + 1] = (b1 & ~(HLL_REGISTER_MAX >> fb8)) | (count >> fb8)
        return 1
    return 0


def hll_dense_add(buf: bytearray, ele: bytes) -> int:
    """hllDenseAdd."""
    index, count = hll_pat_len(ele)
    return hll_dense_set(buf, index, count)


def _plane_tables() -> list[tuple[bytes, bytes, bytes]]:
    """translate tables that turn the three bytes of a 4-register group into bit planes.

    Table [q][p] maps byte p (0..2) of a group to an output byte whose bit r (r = 0..3) is
    bit 2q of register r and whose bit 4+r is bit 2q+1 of register r; OR-ing the three
    outputs gives planes 2q and 2q+1 of the group's four registers.
    """
    tables = []
    for q in range(3):
        row = []
        for p in range(3):
            t = bytearray(256)
            for x in range(256):
                out = 0
                for b in range(8):
                    if x >> b & 1:
                        reg, regbit = divmod(8 * p + b, HLL_BITS)
                        if regbit == 2 * q:
                            out |= 1 << reg
                        elif regbit == 2 * q + 1:
                            out |= 1 << (4 + reg)
                t[x] = out
            row.append(bytes(t))
        tables.append(tuple(row))
    return tables


_PLANE_TABLES = _plane_tables()
_GROUPS = HLL_REGISTERS // 4
_LOW_NIBBLES = int.from_bytes(b"\x0f" * _GROUPS, "little")


def hll_dense_reg_histo(buf: bytes, base: int = HLL_HDR_SIZE) -> list[int]:
    """hllDenseRegHisto: how many registers hold each value 0..63.

    The registers become six bit planes (one bit per register, four registers per nibble),
    then a walk down the planes from bit 5 to bit 0 splits the set of registers by each bit:
    one AND and one popcount per non-empty (value prefix) node.
    """
    b0 = buf[base:base + HLL_REGISTERS_BYTES:3]
    b1 = buf[base + 1:base + HLL_REGISTERS_BYTES:3]
    b2 = buf[base + 2:base + HLL_REGISTERS_BYTES:3]
    frombytes = int.from_bytes
    low = _LOW_NIBBLES
    planes = [0] * 6
    for q in range(3):
        ta, tb, tc = _PLANE_TABLES[q]
        y = (frombytes(b0.translate(ta), "little") | frombytes(b1.translate(tb), "little") |
             frombytes(b2.translate(tc), "little"))
        if y:
            planes[2 * q] = y & low
            planes[2 * q + 1] = (y >> 4) & low
    nodes = [(low, HLL_REGISTERS, 0)]
    for k in range(5, -1, -1):
        pk = planes[k]
        if not pk:
            continue
        split = []
        add = split.append
        for mask, cnt, val in nodes:
            m1 = mask & pk
            if m1:
                c1 = m1.bit_count()
                if c1 < cnt:
                    add((mask ^ m1, cnt - c1, val))
                add((m1, c1, val | (1 << k)))
            else:
                add((mask, cnt, val))
        nodes = split
    reghisto = [0] * 64
    for _mask, cnt, val in nodes:
        reghisto[val] = cnt
    return reghisto


# The register-order unpacking of dense bytes (PFMERGE into a sparse key, PFDEBUG GETREG) and
# its inverse: register 4g+r of group g comes from the group's three bytes as below.
_LOW6 = bytes(x & 63 for x in range(256))
_B0_HI2 = bytes(x >> 6 for x in range(256))
_B1_LO4 = bytes((x & 15) << 2 for x in range(256))
_B1_HI4 = bytes(x >> 4 for x in range(256))
_B2_LO2 = bytes((x & 3) << 4 for x in range(256))
_SHR2 = bytes(x >> 2 for x in range(256))
_R1_TO_B0 = bytes(((x & 3) << 6) for x in range(256))
_R1_TO_B1 = bytes((x >> 2) & 15 for x in range(256))
_R2_TO_B1 = bytes(((x & 15) << 4) for x in range(256))
_R2_TO_B2 = bytes((x >> 4) & 3 for x in range(256))
_R3_TO_B2 = bytes(((x & 63) << 2) & 0xFF for x in range(256))


def hll_dense_registers(buf: bytes, base: int = HLL_HDR_SIZE) -> bytearray:
    """All 16384 registers of dense data as one byte each, in register order."""
    end = base + HLL_REGISTERS_BYTES
    b0 = buf[base:end:3]
    b1 = buf[base + 1:end:3]
    b2 = buf[base + 2:end:3]
    frombytes = int.from_bytes
    out = bytearray(HLL_REGISTERS)
    out[0::4] = b0.translate(_LOW6)
    out[1::4] = (frombytes(b0.translate(_B0_HI2), "little") |
                 frombytes(b1.translate(_B1_LO4), "little")).to_bytes(_GROUPS, "little")
    out[2::4] = (frombytes(b1.translate(_B1_HI4), "little") |
                 frombytes(b2.translate(_B2_LO2), "little")).to_bytes(_GROUPS, "little")
    out[3::4] = b2.translate(_SHR2)
    return out


def hll_pack_registers(regs: bytes) -> bytearray:
    """The inverse of hll_dense_registers: 16384 register bytes (values 0..63) -> the 12288
    bytes of the dense representation."""
    r0 = regs[0::4]
    r1 = regs[1::4]
    r2 = regs[2::4]
    r3 = regs[3::4]
    frombytes = int.from_bytes
    out = bytearray(HLL_REGISTERS_BYTES)
    out[0::3] = (frombytes(r0, "little") |
                 frombytes(r1.translate(_R1_TO_B0), "little")).to_bytes(_GROUPS, "little")
    out[1::3] = (frombytes(r1.translate(_R1_TO_B1), "little") |
                 frombytes(r2.translate(_R2_TO_B1), "little")).to_bytes(_GROUPS, "little")
    out[2::3] = (frombytes(r2.translate(_R2_TO_B2), "little") |
                 frombytes(r3.translate(_R3_TO_B2), "little")).to_bytes(_GROUPS, "little")
    return out


# --------------------------------------------------------------------------------------------
# Sparse representation
# --------------------------------------------------------------------------------------------

def _byte_at(buf: bytes, i: int) -> int:
    """buf[i], or the sds terminator (0) just past the end, as the C code reads it."""
    return buf[i] if i < len(buf) else 0


def _xzero_span(op: bytes) -> int:
    """Registers covered by an XZERO opcode (one byte long when cut by the end)."""
    return (((op[0] & 0x3F) << 8) | (op[1] if len(op) > 1 else 0)) + 1


# What each one-byte opcode expands to, one byte per register.
_EXPAND = [bytes((b & 0x3F) + 1) if b < 0x40 else
           (b"" if b < 0x80 else bytes((((b >> 2) & 0x1F) + 1,)) * ((b & 3) + 1))
           for b in range(256)]


def hll_sparse_registers(buf: bytes) -> bytes | None:
    """The registers of a sparse HLL, one byte each in register order; None when the opcodes
    do not cover exactly 16384 registers (hllSparseToDense's validity test: a VAL running
    past the last register stops its decode, so any other total fails it too)."""
    parts = _XZERO_SPLIT_RE.split(bytes(buf[HLL_HDR_SIZE:]))
    expand = _EXPAND.__getitem__
    out = []
    for i, part in enumerate(parts):
        if i & 1:
            out.append(bytes(_xzero_span(part)))
        elif part:
            out.append(b"".join(map(expand, part)))
    regs = b"".join(out)
    return regs if len(regs) == HLL_REGISTERS else None


@probe("hllSparseToDense")
def hll_sparse_to_dense(o: RObj, key: bytes | None = None) -> bool:
    """hllSparseToDense: replace a sparse HLL's string by the dense one (header copied, so the
    cached cardinality survives); False if the sparse data is corrupted.  Already dense: True.
    """
    sparse = o.ptr
    if sparse[4] == HLL_DENSE:
        return True
    regs = hll_sparse_registers(sparse)
    if regs is None:
        return False
    dense = ts.sds_new_len(HLL_DENSE_SIZE)
    dense[:HLL_HDR_SIZE] = sparse[:HLL_HDR_SIZE]
    dense[4] = HLL_DENSE
    dense[HLL_HDR_SIZE:] = hll_pack_registers(regs)
    if probes.armed:
        probes.event("encoding.convert", {
            "redis.key": key.decode("utf-8", "replace") if key is not None else "",
            "from": "sparse", "to": "dense", "redis.hll.sparse_bytes": len(sparse)})
    o.ptr = dense
    return True


def _sparse_locate(buf: bytes, index: int) -> tuple[int, int, int, int]:
    """Step 1 of hllSparseSet: (p, first, span, prev) for the opcode covering register
    ``index``: its offset, its first register, the registers it covers, the offset of the
    opcode before it (-1 if none).  p is len(buf) when no opcode covers it.

    Runs of one-byte opcodes (everything between XZEROs) are skipped by their summed spans,
    64 opcodes at a time; only the last stretch is walked opcode by opcode.
    """
    end = len(buf)
    spans = buf.translate(_SPAN)
    p = HLL_HDR_SIZE
    first = 0
    prev = -1
    for mo in _XZERO_RE.finditer(buf, HLL_HDR_SIZE):
        q = mo.start()
        if q > p:
            total = sum(spans[p:q])
            if first + total > index:
                return _locate_in_run(spans, p, q, first, index, prev)
            first += total
            prev = q - 1
        span = (((buf[q] & 0x3F) << 8) | _byte_at(buf, q + 1)) + 1
        if first + span > index:
            return q, first, span, prev
        first += span
        prev = q
        p = q + 2
    if p < end:
        total = sum(spans[p:end])
        if first + total > index:
            return _locate_in_run(spans, p, end, first, index, prev)
        first += total
        prev = end - 1
    return end, first, 0, prev


def _locate_in_run(spans: bytes, p: int, q: int, first: int, index: int,
                   prev: int) -> tuple[int, int, int, int]:
    """_sparse_locate inside spans[p:q], a run of one-byte opcodes known to cover index."""
    i = p
    while i + 64 < q:
        s = sum(spans[i:i + 64])
        if first + s > index:
            break
        first += s
        i += 64
    for s in spans[i:q]:
        if first + s > index:
            return i, first, s, (i - 1 if i > p else prev)
        first += s
        i += 1
    raise AssertionError("unreachable: the run covers index")


def _sparse_locate_from(buf: bytes, index: int, trail: list) -> tuple[int, int, int, int]:
    """Step 1 of hllSparseSet resumed from ``trail``, the (offset, first register) of opcodes
    known to precede the target (see hll_sparse_set); passed opcodes are appended to it."""
    end = len(buf)
    # The trail is the chain of opcodes from the start, so the entry before the resume point
    # is its predecessor.
    if trail:
        p, first = trail[-1]
        prev = trail[-2][0] if len(trail) > 1 else -1
    else:
        p, first = HLL_HDR_SIZE, 0
        prev = -1
    span = 0
    while p < end:
        b = buf[p]
        if b < 0x40:
            span = (b & 0x3F) + 1
            oplen = 1
        elif b >= 0x80:
            span = (b & 3) + 1
            oplen = 1
        else:
            span = (((b & 0x3F) << 8) | _byte_at(buf, p + 1)) + 1
            oplen = 2
        if index <= first + span - 1:
            return p, first, span, prev
        if not trail or trail[-1][0] != p:
            trail.append((p, first))
        prev = p
        p += oplen
        first += span
    return end, first, span, prev


def hll_sparse_set(o: RObj, index: int, count: int, trail: list | None = None,
                   key: bytes | None = None) -> int:
    """hllSparseSet: raise register ``index`` to ``count`` in a sparse HLL, splitting and
    re-merging opcodes in place.  1 if it changed, 0 if not, -1 if the data is corrupted.
    May promote the HLL to dense (value above 32, or the string would outgrow
    hll-sparse-max-bytes).

    ``trail`` (PFMERGE's sequence of sets in increasing register order) lists opcodes that
    precede everything this and later sets can touch, so the scan resumes there; entries at
    or after the opcode before the one changed are dropped, because the merge step may
    rewrite from there on.
    """
    if count > HLL_SPARSE_VAL_MAX_VALUE:
        return _hll_sparse_promote(o, index, count, key)
    buf = o.ptr
    # Room for the worst case (XZERO split into XZERO-VAL-XZERO) is made first, as Redis
    # does: it moves the sds allocation, which MEMORY USAGE shows.
    ts.sds_make_room_for(buf, 3)
    if trail is None:
        p, first, span, prev = _sparse_locate(buf, index)
    else:
        p, first, span, prev = _sparse_locate_from(buf, index, trail)
    end = len(buf)
    if span == 0 or p >= end:
        return -1
    b = buf[p]
    if b >= 0x80:
        if ((b >> 2) & 0x1F) + 1 >= count:
            return 0
        if (b & 3) == 0:
            buf[p] = _val_op(count, 1)
            return _hll_sparse_updated(buf, prev, trail)
    elif b == 0:
        buf[p] = _val_op(count, 1)
        return _hll_sparse_updated(buf, prev, trail)

    # General case: the opcode at p becomes up to three (before, our VAL, after).
    last = first + span - 1
    if b < 0x80:
        seq = bytearray()
        if index != first:
            seq += _zero_ops(index - first)
        seq.append(_val_op(count, 1))
        if index != last:
            seq += _zero_ops(last - index)
        oldlen = 1 if b < 0x40 else 2
    else:
        curval = ((b >> 2) & 0x1F) + 1
        seq = bytearray()
        if index != first:
            seq.append(_val_op(curval, index - first))
        seq.append(_val_op(count, 1))
        if index != last:
            seq.append(_val_op(curval, last - index))
        oldlen = 1
    deltalen = len(seq) - oldlen
    if deltalen > 0 and end + deltalen > server.hll_sparse_max_bytes:
        return _hll_sparse_promote(o, index, count, key)
    nxt = p + oldlen
    newlen = end + deltalen
    buf[p:] = seq + buf[nxt:] if nxt < end else seq
    if len(buf) > newlen:  # only for an XZERO cut off by the end of a corrupted string
        del buf[newlen:]
    return _hll_sparse_updated(buf, prev, trail)


def _hll_sparse_updated(buf: bytearray, prev: int, trail: list | None) -> int:
    """Step 4 of hllSparseSet ("updated:"): merge equal adjacent VAL opcodes, looking at up
    to five opcodes from the one before the change, then mark the cached cardinality stale."""
    p = prev if prev >= 0 else HLL_HDR_SIZE
    end = len(buf)
    scanlen = 5
    while p < end and scanlen:
        scanlen -= 1
        b = buf[p]
        if b < 0x80:
            p += 2 if b >= 0x40 else 1
            continue
        if p + 1 < end:
            b2 = buf[p + 1]
            if b2 & 0x80 and ((b ^ b2) & 0x7C) == 0:
                length = (b & 3) + (b2 & 3) + 2
                if length <= HLL_SPARSE_VAL_MAX_LEN:
                    buf[p + 1] = _val_op(((b >> 2) & 0x1F) + 1, length)
                    del buf[p]
                    end -= 1
                    continue
        p += 1
    buf[15] |= _CARD_STALE
    if trail is not None:
        while trail and trail[-1][0] >= prev:
            trail.pop()
    return 1


def _hll_sparse_promote(o: RObj, index: int, count: int, key: bytes | None) -> int:
    """hllSparseSet's "promote:" path: convert to dense, then set the register there."""
    if not hll_sparse_to_dense(o, key):
        return -1
    hll_dense_set(o.ptr, index, count)
    return 1


def hll_sparse_add(o: RObj, ele: bytes, key: bytes | None = None) -> int:
    """hllSparseAdd."""
    index, count = hll_pat_len(ele)
    return hll_sparse_set(o, index, count, None, key)


def hll_sparse_reg_histo(buf: bytes) -> tuple[list[int], bool]:
    """hllSparseRegHisto: (histogram, invalid); invalid means the opcodes do not cover
    16384 registers.  XZERO opcodes are split off first; the one-byte opcodes left are
    summed by span (ZERO) and counted by byte (VAL) at C speed."""
    reghisto = [0] * 64
    parts = _XZERO_SPLIT_RE.split(bytes(buf[HLL_HDR_SIZE:]))
    idx = 0
    for op in parts[1::2]:
        idx += _xzero_span(op)
    ops = b"".join(parts[0::2])
    zeros = sum(ops.translate(_ZERO_SPAN))
    reghisto[0] = idx + zeros
    idx += zeros
    for op, n in Counter(ops.translate(None, _ZERO_OPCODES)).items():
        runlen = ((op & 3) + 1) * n
        reghisto[((op >> 2) & 0x1F) + 1] += runlen
        idx += runlen
    return reghisto, idx != HLL_REGISTERS


# --------------------------------------------------------------------------------------------
# HyperLogLog count
# --------------------------------------------------------------------------------------------

def hll_sigma(x: float) -> float:
    """hllSigma (Ertl, arXiv:1702.01284)."""
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        z_prime = z
        z += x * y
        y += y
        if z_prime == z:
            return z


def hll_tau(x: float) -> float:
    """hllTau (Ertl, arXiv:1702.01284)."""
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        z_prime = z
        y *= 0.5
        z -= math.pow(1 - x, 2) * y
        if z_prime == z:
            return z / 3


def hll_estimate(reghisto: list[int]) -> int:
    """The cardinality estimate of hllCount from a register histogram (the same double
    operations in the same order, then llroundl)."""
    m = float(HLL_REGISTERS)
    z = m * hll_tau((m - reghisto[HLL_Q + 1]) / m)
    for j in range(HLL_Q, 0, -1):
        z += reghisto[j]
        z *= 0.5
    z += m * hll_sigma(reghisto[0] / m)
    if not z:
        # Only corrupted sparse data (opcodes covering no register) gets here; Redis divides
        # by zero and then discards the result as invalid, so any value will do.
        return 0
    e = HLL_ALPHA_INF * m * m / z
    fl = math.floor(e)
    return int(fl + 1 if e - fl >= 0.5 else fl)


def hll_count(buf: bytes) -> tuple[int, bool]:
    """hllCount: (estimated cardinality, invalid) of a dense or sparse HLL string."""
    if buf[4] == HLL_DENSE:
        return hll_estimate(hll_dense_reg_histo(buf)), False
    reghisto, invalid = hll_sparse_reg_histo(buf)
    return hll_estimate(reghisto), invalid


def hll_count_packed(regs: int) -> int:
    """hllCount of the HLL_RAW kind: registers given as the packed integer of hll_merge."""
    return hll_estimate(hll_dense_reg_histo(regs.to_bytes(HLL_REGISTERS_BYTES, "little"), 0))


# --------------------------------------------------------------------------------------------
# hllAdd / hllMerge
# --------------------------------------------------------------------------------------------

def hll_add(o: RObj, ele: bytes, key: bytes | None = None) -> int:
    """hllAdd: 1 if a register changed, 0 if not, -1 for an unknown encoding or corrupted
    sparse data."""
    buf = o.ptr
    enc = buf[4]
    if enc == HLL_DENSE:
        index, count = hll_pat_len(ele)
        return hll_dense_set(buf, index, count)
    if enc == HLL_SPARSE:
        index, count = hll_pat_len(ele)
        return hll_sparse_set(o, index, count, None, key)
    return -1


def _packed_masks() -> tuple[int, int]:
    even = 0
    guard = 0
    for i in range(HLL_REGISTERS // 2):
        even |= HLL_REGISTER_MAX << (12 * i)
        guard |= 1 << (12 * i + 6)
    return even, guard


_EVEN_FIELDS, _GUARDS = _packed_masks()


def _packed_max_half(a: int, b: int) -> int:
    """Field-wise max of two integers whose 6-bit fields sit 12 bits apart.

    ``(a | guard) - b`` cannot borrow across fields (each field of ``a | guard`` is at least
    64 > any field of ``b``), and keeps the guard bit exactly where a >= b; that bit,
    multiplied by 63, is the mask choosing a's field."""
    ge = ((a | _GUARDS) - b) & _GUARDS
    pick = (ge >> 6) * HLL_REGISTER_MAX
    return b ^ ((a ^ b) & pick)


def hll_packed_max(a: int, b: int) -> int:
    """Register-wise max of two dense register arrays given as little-endian integers."""
    even = _EVEN_FIELDS
    lo = _packed_max_half(a & even, b & even)
    hi = _packed_max_half((a >> 6) & even, (b >> 6) & even)
    return lo | (hi << 6)


def hll_merge(acc: int, o: RObj) -> int | None:
    """hllMerge: ``acc`` (packed registers) raised to the registers of HLL ``o``; None when a
    sparse ``o`` is corrupted.  ``o`` must have passed is_hll_object_or_reply."""
    buf = o.ptr
    if buf[4] == HLL_DENSE:
        regs = int.from_bytes(buf[HLL_HDR_SIZE:HLL_DENSE_SIZE], "little")
    else:
        sregs = hll_sparse_registers(buf)
        if sregs is None:
            return None
        regs = int.from_bytes(hll_pack_registers(sregs), "little")
    if not acc:
        return regs
    return hll_packed_max(acc, regs)


# --------------------------------------------------------------------------------------------
# HyperLogLog commands
# --------------------------------------------------------------------------------------------

_EMPTY_SPARSE = (b"HYLL" + bytes((HLL_SPARSE, 0, 0, 0)) + bytes(8) +
                 _zero_ops(HLL_SPARSE_XZERO_MAX_LEN))


def create_hll_object() -> RObj:
    """createHLLObject: an empty sparse HLL (one XZERO covering all registers) in a raw
    string of exactly 18 bytes."""
    return RObj(OBJ_STRING, OBJ_ENCODING_RAW, ts.sds_new_len(len(_EMPTY_SPARSE), _EMPTY_SPARSE))


def is_hll_object_or_reply(c: net.Client, o: RObj) -> bool:
    """isHLLObjectOrReply: a string with the HYLL magic, a known encoding and, if dense,
    exactly the dense size; otherwise a WRONGTYPE error."""
    if o.type != OBJ_STRING:
        net.add_reply_error_object(c, shared.wrongtypeerr)
        return False
    if o.encoding == OBJ_ENCODING_RAW or o.encoding == OBJ_ENCODING_EMBSTR:
        s = o.ptr
        n = len(s)
        if (n >= HLL_HDR_SIZE and s[:4] == b"HYLL" and s[4] <= HLL_MAX_ENCODING and
                (s[4] != HLL_DENSE or n == HLL_DENSE_SIZE)):
            return True
    net.add_reply_error(c, shared.HLL_WRONGTYPE)
    return False


def pfadd_command(c: net.Client) -> None:
    """PFADD key [element ...]: 1 if the estimate may have changed (a register grew, or the
    key was created)."""
    argv = c.argv
    key = argv[1]
    db = c.db
    o = dbmod.lookup_key(db, key, LOOKUP_WRITE)
    updated = 0
    if o is None:
        o = create_hll_object()
        dbmod.db_add(db, key, o)
        updated = 1
    else:
        if not is_hll_object_or_reply(c, o):
            return
        o = ts.db_unshare_string_value(db, key, o)
    for j in range(2, len(argv)):
        buf = o.ptr
        index, count = hll_pat_len(argv[j])
        enc = buf[4]
        if enc == HLL_DENSE:
            retval = hll_dense_set(buf, index, count)
        elif enc == HLL_SPARSE:
            retval = hll_sparse_set(o, index, count, None, key)
        else:
            retval = -1
        if retval == 1:
            updated += 1
        elif retval == -1:
            net.add_reply_error(c, shared.HLL_INVALID_OBJ)
            return
    if updated:
        dbmod.signal_modified_key(c, db, key)
        dbmod.notify_keyspace_event(NOTIFY_STRING, "pfadd", key, db.id)
        server.dirty += updated
        o.ptr[15] |= _CARD_STALE
    net.add_reply(c, shared.cone if updated else shared.czero)


def pfcount_command(c: net.Client) -> None:
    """PFCOUNT key [key ...]: the estimate of one HLL (cached in its header), or of the union
    of several (computed on a merged copy, nothing cached)."""
    argv = c.argv
    db = c.db
    if len(argv) > 2:
        acc = 0
        for key in argv[1:]:
            o = dbmod.lookup_key(db, key, 0)
            if o is None:
                continue
            if not is_hll_object_or_reply(c, o):
                return
            acc = hll_merge(acc, o)
            if acc is None:
                net.add_reply_error(c, shared.HLL_INVALID_OBJ)
                return
        net.add_reply_long_long(c, hll_count_packed(acc))
        return
    key = argv[1]
    o = dbmod.lookup_key(db, key, 0)
    if o is None:
        net.add_reply(c, shared.czero)
        return
    if not is_hll_object_or_reply(c, o):
        return
    o = ts.db_unshare_string_value(db, key, o)
    buf = o.ptr
    if not buf[15] & _CARD_STALE:
        card = int.from_bytes(buf[8:16], "little")
    else:
        card, invalid = hll_count(buf)
        if invalid:
            net.add_reply_error(c, shared.HLL_INVALID_OBJ)
            return
        buf[8:16] = card.to_bytes(8, "little")
        # A read-only command that rewrote the value: it must reach replicas and the AOF.
        dbmod.signal_modified_key(c, db, key)
        server.dirty += 1
    net.add_reply_long_long(c, card)


def pfmerge_command(c: net.Client) -> None:
    """PFMERGE destkey [sourcekey ...]: the destination (itself one of the inputs) gets the
    register-wise max of all.  Dense if any input is dense; otherwise the sparse destination
    receives one hllSparseSet per non-zero register, as in Redis."""
    argv = c.argv
    db = c.db
    acc = 0
    use_dense = False
    for key in argv[1:]:
        o = dbmod.lookup_key(db, key, 0)
        if o is None:
            continue
        if not is_hll_object_or_reply(c, o):
            return
        if o.ptr[4] == HLL_DENSE:
            use_dense = True
        acc = hll_merge(acc, o)
        if acc is None:
            net.add_reply_error(c, shared.HLL_INVALID_OBJ)
            return
    key = argv[1]
    o = dbmod.lookup_key(db, key, LOOKUP_WRITE)
    if o is None:
        o = create_hll_object()
        dbmod.db_add(db, key, o)
    else:
        o = ts.db_unshare_string_value(db, key, o)
    if use_dense and not hll_sparse_to_dense(o, key):
        net.add_reply_error(c, shared.HLL_INVALID_OBJ)
        return
    if acc and o.ptr[4] == HLL_SPARSE:
        regs = hll_dense_registers(acc.to_bytes(HLL_REGISTERS_BYTES, "little"), 0)
        trail: list = []
        for run in _NONZERO_RUN_RE.finditer(regs):
            for j in range(run.start(), run.end()):
                hll_sparse_set(o, j, regs[j], trail, key)
                if o.ptr[4] != HLL_SPARSE:
                    break
            if o.ptr[4] != HLL_SPARSE:
                break
    buf = o.ptr
    if acc and buf[4] == HLL_DENSE:
        cur = int.from_bytes(buf[HLL_HDR_SIZE:HLL_DENSE_SIZE], "little")
        buf[HLL_HDR_SIZE:HLL_DENSE_SIZE] = hll_packed_max(cur, acc).to_bytes(
            HLL_REGISTERS_BYTES, "little")
    buf[15] |= _CARD_STALE
    dbmod.signal_modified_key(c, db, key)
    # A merge is a mass add: keyspace events call it pfadd, as Redis does.
    dbmod.notify_keyspace_event(NOTIFY_STRING, "pfadd", key, db.id)
    server.dirty += 1
    net.add_reply(c, shared.ok)


def pfselftest_command(c: net.Client) -> None:
    """PFSELFTEST: register access round trips on a dense array, then dense and sparse HLLs
    fed the same elements must agree and stay within 6 standard errors (scaled down, see the
    module docstring)."""
    dense = bytearray(HLL_DENSE_SIZE)
    rnd = random.Random()
    for _ in range(HLL_TEST_CYCLES):
        values = [rnd.getrandbits(6) for _ in range(HLL_REGISTERS)]
        for i, v in enumerate(values):
            hll_dense_set_register(dense, i, v)
        for i, v in enumerate(values):
            got = hll_dense_get_register(dense, i)
            if got != v:
                net.add_reply_error(c, "TESTFAILED Register %d should be %d but is %d"
                                    % (i, v, got))
                return
        if hll_dense_registers(dense) != bytes(values):
            net.add_reply_error(c, "TESTFAILED bulk register decoding disagrees")
            return
    dense[HLL_HDR_SIZE:] = bytes(HLL_REGISTERS_BYTES)
    o = create_hll_object()
    relerr = 1.04 / math.sqrt(HLL_REGISTERS)
    checkpoint = 1
    seed = rnd.getrandbits(64)
    pack = struct.Struct("<Q").pack
    for j in range(1, HLL_TEST_MAX_CARD + 1):
        ele = pack(j ^ seed)
        hll_dense_add(dense, ele)
        hll_add(o, ele)
        if j != checkpoint:
            continue
        if j < server.hll_sparse_max_bytes // 2 and o.ptr[4] != HLL_SPARSE:
            net.add_reply_error(c, "TESTFAILED sparse encoding not used")
            return
        dense_card = hll_count(dense)[0]
        if dense_card != hll_count(o.ptr)[0]:
            net.add_reply_error(c, "TESTFAILED dense/sparse disagree")
            return
        abserr = abs(checkpoint - dense_card)
        maxerr = 1 if j == 10 else math.ceil(relerr * 6 * checkpoint)
        if abserr > maxerr:
            net.add_reply_error(c, "TESTFAILED Too big error. card:%d abserr:%d"
                                % (checkpoint, abserr))
            return
        checkpoint *= 10
    net.add_reply(c, shared.ok)


def pfdebug_command(c: net.Client) -> None:
    """PFDEBUG GETREG|DECODE|ENCODING|TODENSE key."""
    argv = c.argv
    sub = ts._c_str(argv[1]).lower()
    key = argv[2]
    db = c.db
    o = dbmod.lookup_key(db, key, LOOKUP_WRITE)
    if o is None:
        net.add_reply_error(c, shared.PFDEBUG_NO_KEY)
        return
    if not is_hll_object_or_reply(c, o):
        return
    o = ts.db_unshare_string_value(db, key, o)
    buf = o.ptr
    if sub == b"getreg":
        if buf[4] == HLL_SPARSE:
            if not hll_sparse_to_dense(o, key):
                net.add_reply_error(c, shared.HLL_INVALID_OBJ)
                return
            server.dirty += 1  # the encoding changed: propagate
        regs = hll_dense_registers(o.ptr)
        ints = shared.integers
        net.add_reply(c, b"".join([b"*%d\r\n" % HLL_REGISTERS, *[ints[v] for v in regs]]))
    elif sub == b"decode":
        if buf[4] != HLL_SPARSE:
            net.add_reply_error(c, shared.PFDEBUG_NOT_SPARSE)
            return
        parts = []
        p = HLL_HDR_SIZE
        end = len(buf)
        while p < end:
            b = buf[p]
            if b < 0x40:
                parts.append(b"z:%d" % ((b & 0x3F) + 1))
                p += 1
            elif b < 0x80:
                parts.append(b"Z:%d" % ((((b & 0x3F) << 8) | _byte_at(buf, p + 1)) + 1))
                p += 2
            else:
                parts.append(b"v:%d,%d" % (((b >> 2) & 0x1F) + 1, (b & 3) + 1))
                p += 1
        net.add_reply_bulk(c, b" ".join(parts))
    elif sub == b"encoding":
        net.add_reply_status(c, "dense" if buf[4] == HLL_DENSE else "sparse")
    elif sub == b"todense":
        conv = False
        if buf[4] == HLL_SPARSE:
            if not hll_sparse_to_dense(o, key):
                net.add_reply_error(c, shared.HLL_INVALID_OBJ)
                return
            conv = True
            server.dirty += 1
        net.add_reply(c, shared.cone if conv else shared.czero)
    else:
        net.add_reply_error(c, "Unknown PFDEBUG subcommand '%s'"
                            % ts._c_str(argv[1]).decode("utf-8", "replace"))


# --------------------------------------------------------------------------------------------
# Command table
# --------------------------------------------------------------------------------------------

_G = {"acl": "hyperloglog", "group": "hyperloglog", "since": "2.8.9"}

COMMANDS = [
    cmd("pfadd", pfadd_command, -2, "write denyoom fast", keys=(1, 1, 1),
        key_specs=[KeySpec("RW INSERT", 1)], complexity="O(1) to add every element.",
        summary="Adds the specified elements to the specified HyperLogLog.",
        args="key [element [element ...]]", **_G),
    cmd("pfcount", pfcount_command, -2, "readonly may_replicate", keys=(1, -1, 1),
        key_specs=[KeySpec("RW ACCESS", 1, lastkey=-1)],
        complexity="O(1) with a very small average constant time when called with a single "
                   "key. O(N) with N being the number of keys, and much bigger constant times, "
                   "when called with multiple keys.",
        summary="Return the approximated cardinality of the set(s) observed by the "
                "HyperLogLog at key(s).", args="key [key ...]", **_G),
    cmd("pfmerge", pfmerge_command, -2, "write denyoom", keys=(1, -1, 1),
        key_specs=[KeySpec("RW ACCESS INSERT", 1), KeySpec("RO ACCESS", 2, lastkey=-1)],
        complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
        summary="Merge N different HyperLogLogs into a single one.",
        args="destkey sourcekey [sourcekey ...]", **_G),
    cmd("pfdebug", pfdebug_command, 3, "write denyoom admin", keys=(2, 2, 1),
        key_specs=[KeySpec("RW ACCESS", 2)], complexity="N/A",
        summary="Internal commands for debugging HyperLogLog values", args="subcommand key",
        doc_flags="syscmd", **_G),
    cmd("pfselftest", pfselftest_command, 1, "admin", complexity="N/A",
        summary="An internal command for testing HyperLogLog values", doc_flags="syscmd", **_G),
]
