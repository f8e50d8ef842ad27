"""RDB format, in process: CRC-64, the low-level encodings, every type and encoding round
trip, the older encodings a real dump may contain, and refusal of damaged files.

The server's command path runs in this process (no socket) to build datasets; the RDB is
written to memory (rdb_save_to_bytes) and read back with rdb_load_rio into fresh databases.
"""

from __future__ import annotations

import os
import random
import struct

import pytest

from tracered import commands, debug, rdb
from tracered import crc64 as crcmod
from tracered import db as dbmod
from tracered import networking as net
from tracered import object as obj
from tracered import quicklist as qlmod
from tracered import server as sm
from tracered.listpack import lp_build

# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------

class InProc:
    """A fresh keyspace plus a fake client running real commands."""

    CONFIGS = ("rdbcompression", "rdbchecksum", "list_compress_depth", "list_max_listpack_size",
               "hash_max_listpack_entries", "set_max_intset_entries",
               "zset_max_listpack_entries", "sanitize_dump_payload", "masterhost")

    def __init__(self) -> None:
        srv = sm.server
        self.srv = srv
        self.saved_db = srv.db
        self.saved_cfg = {k: getattr(srv, k) for k in self.CONFIGS}
        self.saved_threshold = qlmod.packed_threshold
        srv.db = [dbmod.RedisDb(i) for i in range(srv.databases)]
        commands.populate_command_table(sm.all_command_tables())
        self.c = net.create_client(None)

    def close(self) -> None:
        srv = self.srv
        srv.db = self.saved_db
        for k, v in self.saved_cfg.items():
            setattr(srv, k, v)
        qlmod.packed_threshold = self.saved_threshold

    def __call__(self, *args) -> bytes:
        c = self.c
        c.argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        sm.process_command(c)
        out = b"".join(c.reply)
        c.reply.clear()
        c.reply_bytes = 0
        return out

    def value(self, key: bytes, dbid: int = 0):
        de = self.srv.db[dbid].dict.find(key)
        return None if de is None else de.val

    def digest(self) -> str:
        return debug.compute_dataset_digest()

    def reload(self, data: bytes, rdbflags: int = 0, keep: bool = False) -> bool:
        """Load ``data`` into fresh databases (or the current ones with keep=True)."""
        srv = self.srv
        if not keep:
            srv.db = [dbmod.RedisDb(i) for i in range(srv.databases)]
            self.c.db = srv.db[self.c.db.id]
        rdb.start_loading(len(data))
        try:
            return rdb.rdb_load_rio(rdb.RioReader(data), rdbflags)
        finally:
            rdb.stop_loading(True)


@pytest.fixture
def ip():
    p = InProc()
    yield p
    p.close()


def roundtrip(ip: InProc) -> bytes:
    """Save, reload into empty databases, assert the same digest; return the RDB."""
    before = ip.digest()
    data = rdb.rdb_save_to_bytes()
    assert ip.reload(data), "reload failed"
    assert ip.digest() == before
    return data


# --------------------------------------------------------------------------------------------
# CRC-64 and the low-level encodings
# --------------------------------------------------------------------------------------------

def test_crc64_redis_test_vector():
    assert crcmod.crc64(0, b"123456789") == 0xE9C6D914C4B8D9CA
    assert crcmod.py_crc64(0, b"123456789") == 0xE9C6D914C4B8D9CA


def test_crc64_compiled_matches_fallback_and_is_incremental():
    rnd = random.Random(7)
    data = bytes(rnd.getrandbits(8) for _ in range(5000))
    whole = crcmod.py_crc64(0, data)
    assert crcmod.crc64(0, data) == whole
    assert crcmod.crc64(crcmod.crc64(0, data[:1234]), data[1234:]) == whole
    assert crcmod.crc64(0, memoryview(bytearray(data))) == whole


def test_crc64_is_compiled():
    # The loader checks whole files: the pure-Python loop (~10 MB/s) is not acceptable.
    assert crcmod.HAVE_COMPILED_CRC64


@pytest.mark.parametrize("n, encoded", [
    (0, b"\x00"), (63, b"\x3f"), (64, b"\x40\x40"), (16383, b"\x7f\xff"),
    (16384, b"\x80\x00\x00\x40\x00"), (2**32 - 1, b"\x80\xff\xff\xff\xff"),
    (2**32, b"\x81\x00\x00\x00\x01\x00\x00\x00\x00"),
])
def test_rdb_save_len_forms(n, encoded):
    out = bytearray()
    assert rdb.rdb_save_len(out, n) == len(encoded)
    assert bytes(out) == encoded
    r = rdb.RioReader(bytes(out))
    assert rdb.rdb_load_len(r) == (n, False)
    assert r.pos == len(encoded)


@pytest.mark.parametrize("s, encoded", [
    (b"0", b"\xc0\x00"), (b"-128", b"\xc0\x80"), (b"127", b"\xc0\x7f"),
    (b"128", b"\xc1\x80\x00"), (b"-32768", b"\xc1\x00\x80"), (b"32768", b"\xc2\x00\x80\x00\x00"),
    (b"2147483647", b"\xc2\xff\xff\xff\x7f"), (b"-2147483648", b"\xc2\x00\x00\x00\x80"),
    # Not encodable as integers: past 32 bits, non-canonical, too long.
    (b"2147483648", b"\x0a2147483648"), (b"007", b"\x03007"), (b"+1", b"\x02+1"),
    (b"-0", b"\x02-0"), (b"", b"\x00"),
])
def test_rdb_save_raw_string_integer_encoding(s, encoded):
    out = bytearray()
    assert rdb.rdb_save_raw_string(out, s) == len(encoded)
    assert bytes(out) == encoded
    assert rdb.rdb_generic_load_string(rdb.RioReader(bytes(out))) == s


def test_lzf_strings(ip):
    s = b"abcdefgh" * 20
    out = bytearray()
    rdb.rdb_save_raw_string(out, s)
    assert out[0] == 0xC3 and len(out) < len(s)          # RDB_ENCVAL|RDB_ENC_LZF
    assert rdb.rdb_generic_load_string(rdb.RioReader(bytes(out))) == s
    # 20 bytes is never tried; incompressible data is stored verbatim.
    out = bytearray()
    rdb.rdb_save_raw_string(out, b"a" * 20)
    assert bytes(out) == b"\x14" + b"a" * 20
    noise = os.urandom(200)
    out = bytearray()
    rdb.rdb_save_raw_string(out, noise)
    assert bytes(out[:2]) == b"\x40\xc8" and bytes(out[2:]) == noise
    ip.srv.rdbcompression = False
    out = bytearray()
    rdb.rdb_save_raw_string(out, s)
    assert bytes(out) == b"\x40\xa0" + s


def test_header_aux_fields_and_checksum(ip):
    ip("SET", "k", "v")
    data = rdb.rdb_save_to_bytes()
    assert data[:9] == b"REDIS0010"
    for field in (b"redis-ver", b"7.0.15", b"redis-bits", b"ctime", b"used-mem", b"aof-base"):
        assert field in data
    assert data[-9] == rdb.RDB_OPCODE_EOF
    assert struct.unpack("<Q", data[-8:])[0] == crcmod.crc64(0, data[:-8])
    ip.srv.rdbchecksum = False
    data = rdb.rdb_save_to_bytes()
    assert data[-8:] == b"\0" * 8
    assert ip.reload(data)  # a zero checksum means "not computed", as in Redis


# --------------------------------------------------------------------------------------------
# Round trips, type by type and encoding by encoding
# --------------------------------------------------------------------------------------------

def test_strings_every_encoding(ip):
    ip("SET", "int8", "-100")
    ip("SET", "int16", "30000")
    ip("SET", "int32", "-2000000000")
    ip("SET", "int64", "9223372036854775807")
    ip("SET", "shared", "42")
    ip("SET", "embstr", "hello world")
    ip("SET", "raw", "r" * 60)
    ip("SET", "compressible", "abc" * 200)
    ip("SET", "binary", bytes(range(256)))
    ip("SET", "empty", "")
    ip("APPEND", "appended", "x" * 50)
    roundtrip(ip)
    enc = {k: obj.str_encoding(ip.value(k.encode()).encoding) for k in (
        "int8", "int16", "int32", "int64", "embstr", "raw", "compressible", "empty")}
    assert enc == {"int8": "int", "int16": "int", "int32": "int", "int64": "int",
                   "embstr": "embstr", "raw": "raw", "compressible": "raw", "empty": "embstr"}
    # Small integers load as the shared objects, like SET makes them.
    assert ip.value(b"shared") is obj.shared_integers[42]


def test_hash_listpack_and_hashtable(ip):
    ip("HSET", "small", "a", "1", "b", "two", "n", "-5")
    for i in range(600):
        ip("HSET", "big", "f%d" % i, "v%d" % i)
    ip("HSET", "longval", "f", "x" * 100)
    roundtrip(ip)
    assert ip.value(b"small").encoding == obj.OBJ_ENCODING_LISTPACK
    assert ip.value(b"big").encoding == obj.OBJ_ENCODING_HT
    assert ip.value(b"longval").encoding == obj.OBJ_ENCODING_HT


def test_hash_converts_on_load_when_over_the_limits(ip):
    for i in range(10):
        ip("HSET", "h", "f%d" % i, "v")
    data = rdb.rdb_save_to_bytes()
    ip.srv.hash_max_listpack_entries = 5
    assert ip.reload(data)
    assert ip.value(b"h").encoding == obj.OBJ_ENCODING_HT


def test_set_intset_widths_and_hashtable(ip):
    ip("SADD", "i16", "1", "-2", "300")
    ip("SADD", "i32", "1", "100000")
    ip("SADD", "i64", "1", "10000000000")
    ip("SADD", "strs", "a", "b", "1")
    for i in range(600):
        ip("SADD", "many", str(i))
    data = roundtrip(ip)
    for k in (b"i16", b"i32", b"i64"):
        assert ip.value(k).encoding == obj.OBJ_ENCODING_INTSET
    assert ip.value(b"strs").encoding == obj.OBJ_ENCODING_HT
    assert ip.value(b"many").encoding == obj.OBJ_ENCODING_HT
    # An intset over set-max-intset-entries converts on load.
    ip.srv.set_max_intset_entries = 2
    assert ip.reload(data)
    assert ip.value(b"i16").encoding == obj.OBJ_ENCODING_HT


def test_zset_listpack_and_skiplist(ip):
    ip("ZADD", "small", "1", "a", "2.5", "b", "-1", "c", "inf", "d", "-inf", "e", "0.1", "f")
    for i in range(300):
        ip("ZADD", "big", str(i / 3), "m%d" % i)
    ip("ZADD", "big", "inf", "top", "-inf", "bottom", "-0", "zero")
    ip("ZADD", "longmember", "1", "m" * 100)
    data = roundtrip(ip)
    assert ip.value(b"small").encoding == obj.OBJ_ENCODING_LISTPACK
    assert ip.value(b"big").encoding == obj.OBJ_ENCODING_SKIPLIST
    assert ip.value(b"longmember").encoding == obj.OBJ_ENCODING_SKIPLIST
    assert ip("ZRANGE", "big", "0", "2") == b"*3\r\n$6\r\nbottom\r\n$2\r\nm0\r\n$4\r\nzero\r\n"
    # A small skiplist becomes a listpack on load, with the bytes zsetConvert would make.
    ip.srv.zset_max_listpack_entries = 1000
    assert ip.reload(data)
    z = ip.value(b"big")
    assert z.encoding == obj.OBJ_ENCODING_LISTPACK
    from tracered import t_zset

    ref = t_zset.create_zset_object()
    for ele, score in t_zset.zset_type_iter(z):
        t_zset.zset_add(ref, score, ele, 0)
    t_zset.zset_convert(ref, obj.OBJ_ENCODING_LISTPACK)
    assert bytes(ref.ptr) == bytes(z.ptr)


def _make_list(ip, key: bytes, values: list[bytes], fill: int = -2, depth: int = 0) -> obj.RObj:
    ql = qlmod.quicklist_new(fill, depth)
    for v in values:
        qlmod.quicklist_push_tail(ql, v)
    o = obj.RObj(obj.OBJ_LIST, obj.OBJ_ENCODING_QUICKLIST, ql)
    ip.srv.db[0].dict.add(key, o)
    return o


def test_list_quicklist_nodes_packed_compressed_and_plain(ip):
    ip.srv.list_compress_depth = 1
    ip.srv.list_max_listpack_size = -2
    small = _make_list(ip, b"small", [b"a", b"1", b"-7"])
    big = _make_list(ip, b"big", [b"element-%d" % i for i in range(3000)], depth=1)
    assert any(n.encoding == qlmod.QUICKLIST_NODE_ENCODING_LZF for n in big.ptr.nodes())
    qlmod.packed_threshold = 100
    _make_list(ip, b"plain", [b"x", b"y" * 200, b"12345" * 30, b"z"])
    data = roundtrip(ip)
    assert small.ptr.count == 3
    loaded = ip.value(b"big").ptr
    assert loaded.count == 3000 and loaded.len == big.ptr.len
    assert any(n.encoding == qlmod.QUICKLIST_NODE_ENCODING_LZF for n in loaded.nodes())
    plain = ip.value(b"plain").ptr
    assert [n.container for n in plain.nodes()].count(qlmod.QUICKLIST_NODE_CONTAINER_PLAIN) == 2
    assert list(plain) == [b"x", b"y" * 200, b"12345" * 30, b"z"]
    # A compressed node is written as the LZF blob it already is (opcode 0xC3).
    assert b"\x02\xc3" in data


def test_expires_and_dbs_and_expired_keys_skipped(ip):
    ip("SET", "live", "v")
    ip("PEXPIRE", "live", "100000")
    ip("SELECT", "5")
    ip("SET", "five", "v")
    ip("SELECT", "0")
    ip("SET", "dead", "v")
    ip.srv.db[0].expires.replace(b"dead", 1000)   # long expired, never looked up
    data = rdb.rdb_save_to_bytes()
    assert ip.reload(data)
    assert ip.value(b"live") is not None and ip.value(b"five", 5) is not None
    assert ip.value(b"dead") is None
    assert ip.srv.rdb_last_load_keys_expired == 1
    assert ip.srv.rdb_last_load_keys_loaded == 2
    assert dbmod.get_expire(ip.srv.db[0], b"live") > 0
    # A replica keeps expired keys: its master decides when they go.
    ip.srv.masterhost = "127.0.0.1"
    assert ip.reload(data)
    assert ip.value(b"dead") is not None


def test_duplicate_key_is_refused_unless_merging(ip):
    ip("SET", "k", "new")
    data = rdb.rdb_save_to_bytes()
    ip("SET", "k", "old")
    assert not ip.reload(data, keep=True)
    assert rdb.last_error == "CORRUPT"
    assert ip.reload(data, rdb.RDBFLAGS_ALLOW_DUP, keep=True)
    assert ip("GET", "k") == b"$3\r\nnew\r\n"


def test_saved_object_len_matches_the_bytes_written(ip):
    ip("HSET", "h", "a", "1")
    o = ip.value(b"h")
    out = bytearray()
    rdb.rdb_save_object(out, o)
    assert rdb.rdb_saved_object_len(o) == len(out)


# --------------------------------------------------------------------------------------------
# Older encodings: handmade payloads in the formats of earlier Redis versions
# --------------------------------------------------------------------------------------------

def ziplist(entries: list[bytes | int]) -> bytes:
    """A ziplist as Redis <= 6.2 writes it (strings and 8..64-bit / immediate integers)."""
    body = bytearray()
    prevlen = 0
    last = 10
    for e in entries:
        last = 10 + len(body)
        ent = bytearray([prevlen] if prevlen < 254 else b"\xfe" + struct.pack("<I", prevlen))
        if isinstance(e, int):
            if 0 <= e <= 12:
                ent.append(0xF1 + e)
            elif -128 <= e <= 127:
                ent += b"\xfe" + struct.pack("<b", e)
            elif -32768 <= e <= 32767:
                ent += b"\xc0" + struct.pack("<h", e)
            elif -(2**23) <= e < 2**23:
                ent += b"\xf0" + e.to_bytes(3, "little", signed=True)
            elif -(2**31) <= e < 2**31:
                ent += b"\xd0" + struct.pack("<i", e)
            else:
                ent += b"\xe0" + struct.pack("<q", e)
        else:
            n = len(e)
            if n < 64:
                ent.append(n)
            elif n < 16384:
                ent += bytes([0x40 | (n >> 8), n & 0xFF])
            else:
                ent += b"\x80" + struct.pack(">I", n)
            ent += e
        prevlen = len(ent)
        body += ent
    total = 10 + len(body) + 1
    return struct.pack("<IIH", total, last, len(entries)) + bytes(body) + b"\xff"


def zipmap(pairs: list[tuple[bytes, bytes]]) -> bytes:
    out = bytearray([len(pairs)])
    for f, v in pairs:
        out += bytes([len(f)]) + f + bytes([len(v)]) + b"\x00" + v
    return bytes(out + b"\xff")


def rdb_file(body: bytes, version: int = 9, checksum: bool = True) -> bytes:
    data = b"REDIS%04d" % version + body + b"\xff"
    if version >= 5:
        data += struct.pack("<Q", crcmod.crc64(0, data) if checksum else 0)
    return data


def s(b: bytes) -> bytes:
    out = bytearray()
    rdb.rdb_save_raw_string(out, b)
    return bytes(out)


def test_ziplist_and_zipmap_payloads_load(ip):
    body = b"".join([
        b"\xfe\x00",
        bytes([rdb.RDB_TYPE_HASH_ZIPLIST]) + s(b"hz") + s(ziplist([b"a", 1, b"b", b"x" * 70])),
        bytes([rdb.RDB_TYPE_ZSET_ZIPLIST]) + s(b"zz") + s(ziplist([b"m1", 1, b"m2", b"2.5"])),
        bytes([rdb.RDB_TYPE_LIST_ZIPLIST]) + s(b"lz") + s(ziplist([b"a", 5, 300, -70000,
                                                                   2**40, b"b" * 100])),
        bytes([rdb.RDB_TYPE_HASH_ZIPMAP]) + s(b"hm") + s(zipmap([(b"f", b"v"), (b"g", b"w")])),
        bytes([rdb.RDB_TYPE_LIST_QUICKLIST]) + s(b"ql") + b"\x02" + s(ziplist([b"a", b"b"]))
        + s(ziplist([7, b"c"])),
        bytes([rdb.RDB_TYPE_LIST]) + s(b"ll") + b"\x03" + s(b"x") + s(b"12") + s(b"y"),
        bytes([rdb.RDB_TYPE_ZSET]) + s(b"zs") + b"\x02" + s(b"a") + b"\x031.5" + s(b"b")
        + b"\xfe",
        bytes([rdb.RDB_TYPE_SET]) + s(b"st") + b"\x02" + s(b"5") + s(b"6"),
        b"\xfd" + struct.pack("<i", 2**31 - 1) + bytes([rdb.RDB_TYPE_STRING]) + s(b"exp")
        + s(b"v"),
    ])
    for version in (6, 7, 8, 9):
        assert ip.reload(rdb_file(body, version)), version
        assert ip("HGETALL", "hz") == b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$70\r\n" + \
            b"x" * 70 + b"\r\n"
        assert ip.value(b"hz").encoding == obj.OBJ_ENCODING_LISTPACK
        assert ip("ZSCORE", "zz", "m2") == b"$3\r\n2.5\r\n"
        assert ip("ZSCORE", "zs", "b") == b"$3\r\ninf\r\n"
        assert ip.value(b"zs").encoding == obj.OBJ_ENCODING_LISTPACK
        assert list(ip.value(b"lz").ptr) == [b"a", 5, 300, -70000, 2**40, b"b" * 100]
        assert ip("HGET", "hm", "g") == b"$1\r\nw\r\n"
        assert list(ip.value(b"ql").ptr) == [b"a", b"b", 7, b"c"]
        assert list(ip.value(b"ll").ptr) == [b"x", 12, b"y"]
        assert ip.value(b"st").encoding == obj.OBJ_ENCODING_INTSET
        assert dbmod.get_expire(ip.srv.db[0], b"exp") == (2**31 - 1) * 1000


def test_old_payloads_convert_past_the_limits(ip):
    ip.srv.hash_max_listpack_entries = 1
    ip.srv.zset_max_listpack_entries = 1
    body = b"\xfe\x00" + \
        bytes([rdb.RDB_TYPE_HASH_ZIPLIST]) + s(b"h") + s(ziplist([b"a", 1, b"b", 2])) + \
        bytes([rdb.RDB_TYPE_ZSET_ZIPLIST]) + s(b"z") + s(ziplist([b"a", 1, b"b", 2])) + \
        bytes([rdb.RDB_TYPE_HASH_ZIPMAP]) + s(b"m") + s(zipmap([(b"a", b"1"), (b"b", b"2")]))
    assert ip.reload(rdb_file(body))
    assert ip.value(b"h").encoding == obj.OBJ_ENCODING_HT
    assert ip.value(b"z").encoding == obj.OBJ_ENCODING_SKIPLIST
    assert ip.value(b"m").encoding == obj.OBJ_ENCODING_HT
    assert ip("ZSCORE", "z", "b") == b"$1\r\n2\r\n"


def test_module_aux_is_skipped_and_empty_keys_dropped(ip):
    moduleid = 0x1234 << 10
    module_aux = b"\xf7" + b"\x80" + struct.pack(">I", moduleid & 0xFFFFFFFF)  # 32-bit len
    module_aux += b"\x02" + b"\x02"        # when_opcode UINT, when 2
    module_aux += b"\x05" + s(b"payload") + b"\x02\x07" + b"\x04" + struct.pack("<d", 1.5)
    module_aux += b"\x00"                  # module EOF
    empty = bytes([rdb.RDB_TYPE_SET]) + s(b"empty") + b"\x00"
    body = module_aux + b"\xfe\x00" + empty + b"\x00" + s(b"k") + s(b"v")
    assert ip.reload(rdb_file(body, 10))
    assert ip("GET", "k") == b"$1\r\nv\r\n"
    assert ip.value(b"empty") is None


# --------------------------------------------------------------------------------------------
# Damaged input
# --------------------------------------------------------------------------------------------

def _dataset(ip) -> bytes:
    for i in range(50):
        ip("SET", "key:%d" % i, "value-%d" % i)
    ip("HSET", "h", "a", "1")
    return rdb.rdb_save_to_bytes()


def test_wrong_checksum_is_refused(ip):
    data = bytearray(_dataset(ip))
    i = data.index(b"value-25")
    data[i] ^= 0x01
    assert not ip.reload(bytes(data))
    assert rdb.last_error == "CORRUPT"


@pytest.mark.parametrize("cut", [5, 30, 200, -9, -1])
def test_truncated_file_is_refused(ip, cut):
    data = _dataset(ip)
    assert not ip.reload(data[:cut] if cut > 0 else data[:len(data) + cut])
    assert rdb.last_error in ("EOF", "CORRUPT")


def test_wrong_signature_and_version(ip):
    assert not ip.reload(b"RUBBISH00" + b"\xff" * 9)
    assert rdb.last_error == "EINVAL"
    assert not ip.reload(b"REDIS0011\xff" + b"\0" * 8)
    assert rdb.last_error == "EINVAL"


def test_corrupt_structures_are_refused(ip):
    bad_lp = bytearray(lp_build([b"a", b"1"]))
    bad_lp[0] += 1   # header size disagrees with the payload
    cases = [
        bytes([rdb.RDB_TYPE_HASH_LISTPACK]) + s(b"h") + s(bytes(bad_lp)),
        bytes([rdb.RDB_TYPE_SET_INTSET]) + s(b"s") + s(b"\x02\x00\x00\x00\x05\x00\x00\x00"),
        bytes([rdb.RDB_TYPE_HASH_ZIPLIST]) + s(b"z") + s(b"\x00" * 12),
        bytes([rdb.RDB_TYPE_ZSET_2]) + s(b"z") + b"\x01" + s(b"m") + struct.pack("<d",
                                                                                 float("nan")),
        bytes([rdb.RDB_TYPE_SET]) + s(b"d") + b"\x02" + s(b"x") + s(b"x"),
        bytes([rdb.RDB_TYPE_LIST_QUICKLIST_2]) + s(b"q") + b"\x01\x07" + s(b"abc"),
        b"\xc3\x05\x10" + b"\x00" * 5,   # LZF lengths that do not decompress
        bytes([42]) + s(b"k") + s(b"v"),  # unknown type
    ]
    for body in cases:
        assert not ip.reload(rdb_file(b"\xfe\x00" + body)), body
        assert rdb.last_error in ("CORRUPT", "EOF")


def test_rdb_load_of_a_corrupt_file_stops_the_process(ip, tmp_path):
    data = bytearray(_dataset(ip))
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "bad.rdb"
    path.write_bytes(bytes(data))
    with pytest.raises(SystemExit) as e:
        rdb.rdb_load(str(path))
    assert e.value.code == 1
    assert ip.srv.loading is False
    assert rdb.rdb_load(str(tmp_path / "missing.rdb")) is False
    assert rdb.last_error == "ENOENT"
