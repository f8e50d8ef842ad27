"""RDB snapshots: the mirror of rdb.c (with the parts of rio.c, childinfo.c and server.c's
fork/child bookkeeping that persistence needs).

An RDB file is what ``SAVE``/``BGSAVE`` write and what the server loads at startup::

    "REDIS0010"                              magic + RDB version (Redis 7.0 writes 10)
    AUX redis-ver 7.0.15, redis-bits 64, ctime, used-mem, [repl-stream-db repl-id
        repl-offset], aof-base 0
    SELECTDB n, RESIZEDB keys expires        per non-empty database
    [EXPIRETIME_MS t] [IDLE s | FREQ f] TYPE key value     per key
    EOF, then the CRC-64/Jones of everything before it (0 when rdbchecksum is off)

Lengths use rdbSaveLen's 1/2/5/9-byte forms; strings are a length and bytes, an 8/16/32-bit
integer encoding when the text is a canonical integer, or LZF (rdbcompression, strings over
20 bytes, when compression saves at least 4 bytes).  Values are saved in the encoding they
live in: a listpack hash/zset, an intset, a quicklist's nodes go to disk as their raw bytes
(RDB_TYPE_HASH_LISTPACK, _ZSET_LISTPACK, _SET_INTSET, _LIST_QUICKLIST_2), hashtables and
skiplists element by element (RDB_TYPE_HASH, _SET, _ZSET_2 with binary doubles).  Loading
accepts every older form a real dump may hold (zipmap, ziplist, quicklist of ziplists,
linked lists, string-encoded zset scores, EXPIRETIME in seconds, RDB versions 1..10) and
converts on load exactly where Redis does, so OBJECT ENCODING after a restart matches.

Layout (same order as rdb.c):

    low level save/load    rdb_save_len / rdb_load_len, integer and LZF strings, doubles
    object save            rdb_save_object_type, rdb_save_object, rdb_save_key_value_pair,
                           rdb_save_info_aux_fields, rdb_save_db, rdb_save_rio
    rdbSave / BGSAVE       rdb_save (probe rdbSave), rdb_save_background (probe
                           rdbSaveBackground), rdb_remove_temp_file
    old encodings          ziplist / zipmap readers (ziplist.c, zipmap.c) used only here
    object load            rdb_load_object, the loading state (start_loading ...),
                           rdb_load_rio, rdb_load (probe rdbLoad)
    child handling         background_save_done_handler (probe backgroundSaveDoneHandler),
                           kill_rdb_child, redis_fork, check_children_done, child info pipe
    commands               SAVE, BGSAVE [SCHEDULE], LASTSAVE
    server glue            save points in serverCron, loading at startup, SHUTDOWN and
                           FLUSHALL hooks, init()

Forking like Redis: BGSAVE calls ``os.fork()``.  The child writes ``temp-<pid>.rdb``,
fsyncs, renames it over ``dbfilename``, sends its copy-on-write figure through the child
info pipe and leaves with ``os._exit``; the parent keeps serving and reaps it from
serverCron (check_children_done -> background_save_done_handler).  While a child exists
the dicts only resize past dict_force_resize_ratio (updateDictResizePolicy), to spare
copy-on-write.

Copy-on-write in Python (measured in tests/test_rdb_interop.py, see the report): Redis's
child dirties almost nothing, because reading a value does not write to it.  CPython
writes to every object it touches, since taking a reference increments ``ob_refcnt`` in the
object's header; walking the keyspace therefore dirties every page that holds a key, a
robj or a value, and the child's Private_Dirty ends close to the size of the dataset.  The
child turns the cyclic GC off (a collection would write to every tracked object's GC
header too), which is all that can be done without immortal objects (PEP 683).  Measured
here (tests/test_rdb_interop.py::test_cow_figure, 100k-200k small strings): the child's
copy-on-write is 1.05-1.16x the dataset's own memory (rdb_last_cow_size ~57 MB for a 56 MB
dataset in an 88 MB process), where Redis's child stays near zero.

Divergence: the loader maps the whole file (mmap) and checks the CRC in one call once the
EOF opcode is reached, where Redis updates the CRC as each read happens; both refuse a
file with a bad checksum after parsing it.  Errors name the offset (bytes consumed) and
the Python function where the problem was found instead of an rdb.c line number; the
server logs and exits with status 1 as Redis does (no redis-check-rdb run).
Divergence: check_children_done waits for ``server.child_pid`` only (Redis: any child), so
helper processes started by other parts of tracered are never reaped by mistake.
Divergence: module types and streams need their modules (which register in
``rdb_save_object_funcs`` / ``rdb_load_object_funcs``); without them such values are
refused as in a Redis without the module.  Module AUX fields are skipped with a warning
when they use the self-describing (opcode-annotated) encoding; Redis refuses to start.
Function libraries (RDB_OPCODE_FUNCTION2) are saved and loaded through the hooks that
functions.py installs (function_save_hook, function_load_begin_hook, function_load_hook).
Divergence: events are processed while loading (clients get -LOADING) only at startup,
not during DEBUG RELOAD.
"""

from __future__ import annotations

import gc
import math
import mmap
import os
import random
import signal
import struct
import time
from collections.abc import Callable

from tracered import REDIS_VERSION, gcpolicy, shared, util
from tracered import dict as dictmod
from tracered import networking as net
from tracered import object as obj
from tracered import quicklist as qlmod
from tracered.commands import cmd
from tracered.crc64 import crc64
from tracered.intset import intset_add, intset_len, intset_validate_integrity
from tracered.listpack import lp_build, lp_iter, lp_length, lp_safe_to_add, lp_validate_integrity
from tracered.lzf import lzf_compress, lzf_decompress
from tracered.object import (
    OBJ_ENCODING_HT,
    OBJ_ENCODING_INT,
    OBJ_ENCODING_INTSET,
    OBJ_ENCODING_LISTPACK,
    OBJ_ENCODING_QUICKLIST,
    OBJ_ENCODING_SKIPLIST,
    OBJ_HASH,
    OBJ_LIST,
    OBJ_SET,
    OBJ_STRING,
    OBJ_ZSET,
    RObj,
)
from tracered.server import server
from tracered.trace.probes import probe

# --------------------------------------------------------------------------------------------
# rdb.h
# --------------------------------------------------------------------------------------------

RDB_VERSION = 10

RDB_6BITLEN = 0
RDB_14BITLEN = 1
RDB_32BITLEN = 0x80
RDB_64BITLEN = 0x81
RDB_ENCVAL = 3

RDB_ENC_INT8 = 0
RDB_ENC_INT16 = 1
RDB_ENC_INT32 = 2
RDB_ENC_LZF = 3

RDB_TYPE_STRING = 0
RDB_TYPE_LIST = 1
RDB_TYPE_SET = 2
RDB_TYPE_ZSET = 3
RDB_TYPE_HASH = 4
RDB_TYPE_ZSET_2 = 5
RDB_TYPE_MODULE = 6
RDB_TYPE_MODULE_2 = 7
RDB_TYPE_HASH_ZIPMAP = 9
RDB_TYPE_LIST_ZIPLIST = 10
RDB_TYPE_SET_INTSET = 11
RDB_TYPE_ZSET_ZIPLIST = 12
RDB_TYPE_HASH_ZIPLIST = 13
RDB_TYPE_LIST_QUICKLIST = 14
RDB_TYPE_STREAM_LISTPACKS = 15
RDB_TYPE_HASH_LISTPACK = 16
RDB_TYPE_ZSET_LISTPACK = 17
RDB_TYPE_LIST_QUICKLIST_2 = 18
RDB_TYPE_STREAM_LISTPACKS_2 = 19

RDB_OPCODE_FUNCTION2 = 245
RDB_OPCODE_FUNCTION = 246
RDB_OPCODE_MODULE_AUX = 247
RDB_OPCODE_IDLE = 248
RDB_OPCODE_FREQ = 249
RDB_OPCODE_AUX = 250
RDB_OPCODE_RESIZEDB = 251
RDB_OPCODE_EXPIRETIME_MS = 252
RDB_OPCODE_EXPIRETIME = 253
RDB_OPCODE_SELECTDB = 254
RDB_OPCODE_EOF = 255

RDB_MODULE_OPCODE_EOF = 0
RDB_MODULE_OPCODE_SINT = 1
RDB_MODULE_OPCODE_UINT = 2
RDB_MODULE_OPCODE_FLOAT = 3
RDB_MODULE_OPCODE_DOUBLE = 4
RDB_MODULE_OPCODE_STRING = 5

RDBFLAGS_NONE = 0
RDBFLAGS_AOF_PREAMBLE = 1 << 0
RDBFLAGS_REPLICATION = 1 << 1
RDBFLAGS_ALLOW_DUP = 1 << 2
RDBFLAGS_FEED_REPL = 1 << 3


def rdb_is_object_type(t: int) -> bool:
    return 0 <= t <= 7 or 9 <= t <= 19


# server.h: child types, child info messages
CHILD_TYPE_NONE = 0
CHILD_TYPE_RDB = 1
CHILD_TYPE_AOF = 2
CHILD_TYPE_LDB = 3
CHILD_TYPE_MODULE = 4
CHILD_INFO_TYPE_CURRENT_INFO = 0
CHILD_INFO_TYPE_AOF_COW_SIZE = 1
CHILD_INFO_TYPE_RDB_COW_SIZE = 2
CHILD_INFO_TYPE_MODULE_COW_SIZE = 3
RDB_CHILD_TYPE_NONE = 0
RDB_CHILD_TYPE_DISK = 1
RDB_CHILD_TYPE_SOCKET = 2   # a diskless replication transfer (replication.py)
SERVER_CHILD_NOERROR_RETVAL = 255
CONFIG_BGSAVE_RETRY_DELAY = 5
REDIS_AUTOSYNC_BYTES = 4 * 1024 * 1024
CHILD_COW_DUTY_CYCLE = 100
DICT_HT_INITIAL_SIZE = 4

# Bytes gathered in memory before a write(): one syscall per 64 KiB instead of per key.
RIO_WRITE_CHUNK = 64 * 1024

# Extension points for types that live in modules written later (streams, module types):
# OBJ_* type -> fn(out: bytearray, o, key, dbid) writing the value after its type byte, and
# the RDB type byte to use; RDB_TYPE_* -> fn(r: RioReader, key, dbid) -> RObj | None.
rdb_save_object_funcs: dict[int, Callable] = {}
rdb_save_object_type_bytes: dict[int, int] = {}
rdb_load_object_funcs: dict[int, Callable] = {}
# Called in a forked child right after fork() and right before it exits (the span
# exporter flushes the child's spans there).
fork_child_hooks: list[Callable[[int], None]] = []
child_exit_hooks: list[Callable[[int], None]] = []
# child type -> fn(exitcode, bysignal): aof.py registers backgroundRewriteDoneHandler.
child_done_handlers: dict[int, Callable[[int, int], None]] = {}
# backgroundSaveDoneHandlerSocket, installed by replication.py: fn(exitcode, bysignal).
socket_done_handler: Callable[[int, int], None] | None = None


class RdbLoadError(Exception):
    """Loading failed.  ``corrupt`` tells rdbReportCorruptRDB (bad data) from
    rdbReportReadError (the file ended too early)."""

    def __init__(self, msg: str, corrupt: bool = True, where: str = "") -> None:
        super().__init__(msg)
        self.corrupt = corrupt
        self.where = where


class RdbSaveInfo:
    """rdbSaveInfo: replication state stored in (and read back from) the AUX fields."""

    __slots__ = ("repl_stream_db", "repl_id_is_set", "repl_id", "repl_offset")

    def __init__(self) -> None:
        self.repl_stream_db = -1
        self.repl_id_is_set = False
        self.repl_id = ""
        self.repl_offset = -1


def _corrupt(msg: str) -> RdbLoadError:
    import sys

    return RdbLoadError(msg, True, sys._getframe(1).f_code.co_name)


def _short_read() -> RdbLoadError:
    import sys

    return RdbLoadError("Unexpected EOF reading RDB file", False, sys._getframe(1).f_code.co_name)


# --------------------------------------------------------------------------------------------
# rio: the stream an RDB is written to / read from (rio.c)
# --------------------------------------------------------------------------------------------

class Rio:
    """rio with a file target (rioInitWithFile), or a memory one when ``fileobj`` is None.

    Callers append encoded bytes to ``buf`` and call :meth:`maybe_flush`; the CRC
    (``update_cksum``) and ``processed_bytes`` advance as data leaves the buffer, exactly as
    rio updates them per write.  ``autosync`` fsyncs every that many bytes
    (rdb-save-incremental-fsync) so the kernel never holds a huge dirty backlog.
    """

    __slots__ = ("buf", "fileobj", "cksum", "update_cksum", "processed_bytes", "autosync",
                 "synced", "out")

    def __init__(self, fileobj=None) -> None:
        self.buf = bytearray()
        self.fileobj = fileobj
        self.cksum = 0
        self.update_cksum = False
        self.processed_bytes = 0
        self.autosync = 0
        self.synced = 0
        self.out: list[bytes] | None = [] if fileobj is None else None

    def maybe_flush(self) -> None:
        if len(self.buf) >= RIO_WRITE_CHUNK:
            self.flush()

    def flush(self) -> None:
        """Push ``buf`` through the checksum and to the target."""
        data = self.buf
        if not data:
            return
        self.buf = bytearray()
        if self.update_cksum:
            self.cksum = crc64(self.cksum, data)
        self.processed_bytes += len(data)
        f = self.fileobj
        if f is None:
            self.out.append(bytes(data))
            return
        view = memoryview(data)
        while view:
            n = f.write(view)
            if n is None:
                n = 0
            view = view[n:]
        if self.autosync and self.processed_bytes - self.synced >= self.autosync:
            os.fsync(f.fileno())
            self.synced = self.processed_bytes

    def getvalue(self) -> bytes:
        """Everything written to a memory rio (rioInitWithBuffer's sds)."""
        self.flush()
        return b"".join(self.out or ())


class RioReader:
    """rio for loading: a read-only view of the whole input (an mmapped file or bytes).

    ``pos`` is rio's processed_bytes: error messages and INFO's loading_loaded_bytes report
    it.  Reads past ``end`` raise the short-read error (rioRead returning 0).
    """

    __slots__ = ("data", "pos", "end")

    def __init__(self, data, pos: int = 0) -> None:
        self.data = data
        self.pos = pos
        self.end = len(data)

    def read(self, n: int) -> bytes:
        p = self.pos
        q = p + n
        if q > self.end:
            self.pos = self.end
            raise _short_read()
        self.pos = q
        return self.data[p:q]


# --------------------------------------------------------------------------------------------
# Low level save: lengths, integers, strings, doubles
# --------------------------------------------------------------------------------------------

_ENC_INT8 = struct.Struct("<Bb")
_ENC_INT16 = struct.Struct("<Bh")
_ENC_INT32 = struct.Struct("<Bi")
_I64 = struct.Struct("<q")
_U64 = struct.Struct("<Q")
_DOUBLE = struct.Struct("<d")
_FLOAT = struct.Struct("<f")
_LZF_OPCODE = (RDB_ENCVAL << 6) | RDB_ENC_LZF


def rdb_save_len(out: bytearray, n: int) -> int:
    """rdbSaveLen: 6-bit, 14-bit, 32-bit or 64-bit big-endian length; bytes written."""
    if n < 64:
        out.append(n)
        return 1
    if n < 16384:
        out.append((n >> 8) | 0x40)
        out.append(n & 0xFF)
        return 2
    if n <= 0xFFFFFFFF:
        out.append(RDB_32BITLEN)
        out += n.to_bytes(4, "big")
        return 5
    out.append(RDB_64BITLEN)
    out += n.to_bytes(8, "big")
    return 9


def rdb_encode_integer(v: int) -> bytes | None:
    """rdbEncodeInteger: the 2, 3 or 5 byte integer encoding, or None past 32 bits."""
    if -128 <= v <= 127:
        return _ENC_INT8.pack(0xC0 | RDB_ENC_INT8, v)
    if -32768 <= v <= 32767:
        return _ENC_INT16.pack(0xC0 | RDB_ENC_INT16, v)
    if -2147483648 <= v <= 2147483647:
        return _ENC_INT32.pack(0xC0 | RDB_ENC_INT32, v)
    return None


def rdb_try_integer_encoding(s: bytes) -> bytes | None:
    """rdbTryIntegerEncoding: only canonical integers (string2ll), so the text reloads
    byte for byte."""
    v = util.string2ll(bytes(s))
    return None if v is None else rdb_encode_integer(v)


def rdb_save_lzf_blob(out: bytearray, data: bytes, original_len: int) -> int:
    """rdbSaveLzfBlob: the LZF marker, compressed length, original length, data."""
    out.append(_LZF_OPCODE)
    n = 1 + rdb_save_len(out, len(data)) + rdb_save_len(out, original_len)
    out += data
    return n + len(data)


def rdb_save_lzf_string_object(out: bytearray, s: bytes | bytearray) -> int:
    """rdbSaveLzfStringObject: 0 when compression would not save at least 4 bytes."""
    n = len(s)
    if n <= 4:
        return 0
    comp = lzf_compress(s, n - 4)
    if comp is None:
        return 0
    return rdb_save_lzf_blob(out, comp, n)


def rdb_save_raw_string(out: bytearray, s: bytes | bytearray) -> int:
    """rdbSaveRawString: integer encoding for short canonical integers, else LZF when on and
    worth it (only above 20 bytes: shorter strings never compress), else length + bytes."""
    n = len(s)
    if n <= 11 and n:
        c = s[0]
        if 48 <= c <= 57 or c == 45:
            v = util.string2ll(bytes(s))
            if v is not None:
                enc = rdb_encode_integer(v)
                if enc is not None:
                    out += enc
                    return len(enc)
    if n > 20 and server.rdbcompression:
        k = rdb_save_lzf_string_object(out, s)
        if k:
            return k
    if n < 64:
        out.append(n)
        out += s
        return n + 1
    k = rdb_save_len(out, n)
    out += s
    return k + n


def rdb_save_long_long_as_string_object(out: bytearray, v: int) -> int:
    """rdbSaveLongLongAsStringObject: integer encoding, or the decimal text past 32 bits."""
    enc = rdb_encode_integer(v)
    if enc is not None:
        out += enc
        return len(enc)
    s = b"%d" % v
    k = rdb_save_len(out, len(s))
    out += s
    return k + len(s)


def rdb_save_string_object(out: bytearray, o: RObj) -> int:
    """rdbSaveStringObject: an int-encoded object skips the text round trip."""
    if o.encoding == OBJ_ENCODING_INT:
        return rdb_save_long_long_as_string_object(out, o.ptr)
    return rdb_save_raw_string(out, o.ptr)


def rdb_save_double_value(out: bytearray, val: float) -> int:
    """rdbSaveDoubleValue: the pre-RDB-8 text double (253 nan, 254 +inf, 255 -inf)."""
    if val != val:
        out.append(253)
        return 1
    if math.isinf(val):
        out.append(255 if val < 0 else 254)
        return 1
    lv = util.double2ll(val)
    s = b"%d" % lv if lv is not None else b"%.17g" % val
    out.append(len(s))
    out += s
    return len(s) + 1


def rdb_save_binary_double_value(out: bytearray, val: float) -> int:
    """rdbSaveBinaryDoubleValue: IEEE 754 binary64, little endian."""
    out += _DOUBLE.pack(val)
    return 8


def rdb_save_millisecond_time(out: bytearray, t: int) -> int:
    out += _I64.pack(t)
    return 8


# --------------------------------------------------------------------------------------------
# Object save
# --------------------------------------------------------------------------------------------

def rdb_save_object_type(out: bytearray, o: RObj) -> int:
    """rdbSaveObjectType: the RDB type byte that says how the value is laid out."""
    t = o.type
    enc = o.encoding
    if t == OBJ_STRING:
        b = RDB_TYPE_STRING
    elif t == OBJ_LIST:
        if enc != OBJ_ENCODING_QUICKLIST:
            raise ValueError("Unknown list encoding")
        b = RDB_TYPE_LIST_QUICKLIST_2
    elif t == OBJ_SET:
        if enc == OBJ_ENCODING_INTSET:
            b = RDB_TYPE_SET_INTSET
        elif enc == OBJ_ENCODING_HT:
            b = RDB_TYPE_SET
        else:
            raise ValueError("Unknown set encoding")
    elif t == OBJ_ZSET:
        if enc == OBJ_ENCODING_LISTPACK:
            b = RDB_TYPE_ZSET_LISTPACK
        elif enc == OBJ_ENCODING_SKIPLIST:
            b = RDB_TYPE_ZSET_2
        else:
            raise ValueError("Unknown sorted set encoding")
    elif t == OBJ_HASH:
        if enc == OBJ_ENCODING_LISTPACK:
            b = RDB_TYPE_HASH_LISTPACK
        elif enc == OBJ_ENCODING_HT:
            b = RDB_TYPE_HASH
        else:
            raise ValueError("Unknown hash encoding")
    else:
        b = rdb_save_object_type_bytes.get(t)
        if b is None:
            raise ValueError(f"Unknown object type {t}")
    out.append(b)
    return 1


def _ht_entries(d):
    """Every DictEntry of a tracered Dict, table 0 then 1 (dictIterator's order)."""
    for table in d.ht_table:
        if table is None:
            continue
        for he in table:
            while he is not None:
                yield he
                he = he.next


def rdb_save_object(out: bytearray, o: RObj, key: bytes | None = None, dbid: int = 0) -> int:
    """rdbSaveObject: the value part of a key; returns the bytes written."""
    start = len(out)
    t = o.type
    if t == OBJ_STRING:
        rdb_save_string_object(out, o)
    elif t == OBJ_LIST:
        if o.encoding != OBJ_ENCODING_QUICKLIST:
            raise ValueError("Unknown list encoding")
        ql = o.ptr
        rdb_save_len(out, ql.len)
        node = ql.head
        lzf_node = qlmod.QUICKLIST_NODE_ENCODING_LZF
        while node is not None:
            rdb_save_len(out, node.container)
            if node.encoding == lzf_node:
                # A compressed node goes to disk as it is: no decompress/recompress.
                rdb_save_lzf_blob(out, qlmod.quicklist_get_lzf(node), node.sz)
            else:
                rdb_save_raw_string(out, node.entry)
            node = node.next
    elif t == OBJ_SET:
        if o.encoding == OBJ_ENCODING_HT:
            d = o.ptr
            rdb_save_len(out, len(d))
            for he in _ht_entries(d):
                rdb_save_raw_string(out, he.key)
        elif o.encoding == OBJ_ENCODING_INTSET:
            rdb_save_raw_string(out, o.ptr)
        else:
            raise ValueError("Unknown set encoding")
    elif t == OBJ_ZSET:
        if o.encoding == OBJ_ENCODING_LISTPACK:
            rdb_save_raw_string(out, o.ptr)
        elif o.encoding == OBJ_ENCODING_SKIPLIST:
            zsl = o.ptr.zsl
            rdb_save_len(out, zsl.length)
            # Greatest to smallest: the loader's every insert then stops at the header,
            # O(1) instead of O(log N).
            pack = _DOUBLE.pack
            zn = zsl.tail
            while zn is not None:
                rdb_save_raw_string(out, zn.ele)
                out += pack(zn.score)
                zn = zn.backward
        else:
            raise ValueError("Unknown sorted set encoding")
    elif t == OBJ_HASH:
        if o.encoding == OBJ_ENCODING_LISTPACK:
            rdb_save_raw_string(out, o.ptr)
        elif o.encoding == OBJ_ENCODING_HT:
            d = o.ptr
            rdb_save_len(out, len(d))
            for he in _ht_entries(d):
                rdb_save_raw_string(out, he.key)
                rdb_save_raw_string(out, he.val)
        else:
            raise ValueError("Unknown hash encoding")
    else:
        fn = rdb_save_object_funcs.get(t)
        if fn is None:
            raise ValueError(f"Unknown object type {t}")
        fn(out, o, key, dbid)
    return len(out) - start


def rdb_saved_object_len(o: RObj, key: bytes | None = None, dbid: int = 0) -> int:
    """rdbSavedObjectLen (DEBUG OBJECT's serializedlength)."""
    return rdb_save_object(bytearray(), o, key, dbid)


def _policy_flags() -> tuple[bool, bool]:
    """MAXMEMORY_FLAG_LRU / MAXMEMORY_FLAG_LFU of the current maxmemory-policy."""
    p = server.maxmemory_policy
    return p.endswith("-lru"), p.endswith("-lfu")


def rdb_save_key_value_pair(out: bytearray, key: bytes, val: RObj, expiretime: int,
                            dbid: int, savelru: bool = False, savelfu: bool = False) -> int:
    """rdbSaveKeyValuePair: [EXPIRETIME_MS] [IDLE|FREQ] type key value."""
    if expiretime != -1:
        out.append(RDB_OPCODE_EXPIRETIME_MS)
        out += _I64.pack(expiretime)
    if savelru:
        from tracered.object_cmd import estimate_object_idle_time

        out.append(RDB_OPCODE_IDLE)
        rdb_save_len(out, estimate_object_idle_time(val) // 1000)
    if savelfu:
        from tracered.object_cmd import _lfu_decr_and_return

        out.append(RDB_OPCODE_FREQ)
        out.append(_lfu_decr_and_return(val) & 0xFF)
    rdb_save_object_type(out, val)
    rdb_save_raw_string(out, key)
    rdb_save_object(out, val, key, dbid)
    if server.rdb_key_save_delay:
        debug_delay(server.rdb_key_save_delay)
    return 1


def debug_delay(usec: int) -> None:
    """debugDelay: sleep usec microseconds; a negative value sleeps 1 µs once every -usec
    calls on average (statistical short sleeps, for tests that slow a save down)."""
    if usec < 0:
        usec = 1 if random.randrange(-usec) == 0 else 0
    if usec:
        time.sleep(usec / 1_000_000)


def rdb_save_aux_field(out: bytearray, key: bytes, val: bytes) -> int:
    """rdbSaveAuxField."""
    out.append(RDB_OPCODE_AUX)
    return 1 + rdb_save_raw_string(out, key) + rdb_save_raw_string(out, val)


def rdb_save_info_aux_fields(out: bytearray, rdbflags: int, rsi: RdbSaveInfo | None) -> None:
    """rdbSaveInfoAuxFields: version, bits, creation time, memory, replication state,
    whether this RDB is an AOF base."""
    from tracered.object_cmd import zmalloc_used_memory

    rdb_save_aux_field(out, b"redis-ver", REDIS_VERSION.encode())
    rdb_save_aux_field(out, b"redis-bits", b"64")
    rdb_save_aux_field(out, b"ctime", b"%d" % int(time.time()))
    rdb_save_aux_field(out, b"used-mem", b"%d" % zmalloc_used_memory())
    if rsi is not None:
        rdb_save_aux_field(out, b"repl-stream-db", b"%d" % rsi.repl_stream_db)
        rdb_save_aux_field(out, b"repl-id", server.replid.encode())
        rdb_save_aux_field(out, b"repl-offset", b"%d" % server.master_repl_offset)
    rdb_save_aux_field(out, b"aof-base", b"1" if rdbflags & RDBFLAGS_AOF_PREAMBLE else b"0")


def rdb_save_db(rdb: Rio, dbid: int, rdbflags: int, key_counter: list[int]) -> int:
    """rdbSaveDb: SELECTDB, RESIZEDB, then every key of one database (none if empty)."""
    db = server.db[dbid]
    d = db.dict
    if not len(d):
        return 0
    expires = db.expires
    out = rdb.buf
    out.append(RDB_OPCODE_SELECTDB)
    rdb_save_len(out, dbid)
    out.append(RDB_OPCODE_RESIZEDB)
    rdb_save_len(out, len(d))
    rdb_save_len(out, len(expires))
    savelru, savelfu = _policy_flags()
    has_expires = len(expires) > 0
    in_child = server.in_fork_child != CHILD_TYPE_NONE
    pname = "AOF rewrite" if rdbflags & RDBFLAGS_AOF_PREAMBLE else "RDB"
    save_kv = rdb_save_key_value_pair
    chunk = RIO_WRITE_CHUNK
    n = 0
    for table in d.ht_table:
        if table is None:
            continue
        for he in table:
            while he is not None:
                key = he.key
                exp = -1
                if has_expires:
                    ede = expires.find(key)
                    if ede is not None:
                        exp = ede.val
                save_kv(out, key, he.val, exp, dbid, savelru, savelfu)
                if len(out) >= chunk:
                    rdb.flush()
                    out = rdb.buf
                n += 1
                key_counter[0] += 1
                if in_child and key_counter[0] & 1023 == 0:
                    now = time.monotonic()
                    if now - _child_info_state["info_updated"] >= 1.0:
                        send_child_info(CHILD_INFO_TYPE_CURRENT_INFO, key_counter[0], pname)
                        _child_info_state["info_updated"] = now
                he = he.next
    return n


def rdb_save_rio(rdb: Rio, rdbflags: int = RDBFLAGS_NONE, rsi: RdbSaveInfo | None = None) -> None:
    """rdbSaveRio: the whole RDB stream; raises OSError on a write error."""
    rdb.update_cksum = bool(server.rdbchecksum)
    out = rdb.buf
    out += b"REDIS%04d" % RDB_VERSION
    rdb_save_info_aux_fields(out, rdbflags, rsi)
    if function_save_hook is not None:
        function_save_hook(out)  # rdbSaveFunctions: the libraries, before the databases
    key_counter = [0]
    for j in range(len(server.db)):
        rdb_save_db(rdb, j, rdbflags, key_counter)
    rdb.buf.append(RDB_OPCODE_EOF)
    rdb.flush()
    # Zero when checksums are off: the loader then skips the check.
    cksum = rdb.cksum if rdb.update_cksum else 0
    rdb.update_cksum = False
    rdb.buf += _U64.pack(cksum)
    rdb.flush()


def rdb_save_to_bytes(rsi: RdbSaveInfo | None = None, rdbflags: int = RDBFLAGS_NONE) -> bytes:
    """The whole dataset as an RDB in memory (rdbSaveRio over a buffer rio): used by tests
    and by callers that stream an RDB elsewhere (AOF preamble, replication)."""
    rdb = Rio(None)
    rdb_save_rio(rdb, rdbflags, rsi)
    return rdb.getvalue()


# --------------------------------------------------------------------------------------------
# SAVE / BGSAVE
# --------------------------------------------------------------------------------------------

def _fsync_file_dir(filename: str) -> None:
    """fsyncFileDir: make the rename itself durable."""
    dirname = os.path.dirname(os.path.abspath(filename))
    fd = os.open(dirname, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@probe("rdbSave")
def rdb_save(filename: str | None = None, rsi: RdbSaveInfo | None = None) -> bool:
    """rdbSave: write temp-<pid>.rdb, fsync, rename over ``filename`` (dbfilename by
    default).  True on success; on success the dirty counter and LASTSAVE are reset."""
    if filename is None:
        filename = server.dbfilename
    tmpfile = "temp-%d.rdb" % os.getpid()
    try:
        f = open(tmpfile, "wb", buffering=0)
    except OSError as e:
        server.log_warning("Failed opening the temp RDB file %s (in server root dir %s) for "
                           "saving: %s" % (tmpfile, _cwd(), e.strerror))
        return False
    rdb = Rio(f)
    if server.rdb_save_incremental_fsync:
        rdb.autosync = REDIS_AUTOSYNC_BYTES
    err_op = "rdbSaveRio"
    try:
        rdb_save_rio(rdb, RDBFLAGS_NONE, rsi)
        err_op = "fsync"
        os.fsync(f.fileno())
        err_op = "fclose"
        f.close()
    except OSError as e:
        server.log_warning("Write error saving DB on disk(%s): %s" % (err_op, e.strerror))
        _close_quietly(f)
        _unlink_quietly(tmpfile)
        return False
    try:
        os.rename(tmpfile, filename)
    except OSError as e:
        server.log_warning("Error moving temp DB file %s on the final destination %s (in "
                           "server root dir %s): %s" % (tmpfile, filename, _cwd(), e.strerror))
        _unlink_quietly(tmpfile)
        return False
    try:
        _fsync_file_dir(filename)
    except OSError as e:
        server.log_warning("Write error saving DB on disk(fsyncFileDir): %s" % e.strerror)
        return False
    server.log_notice("DB saved on disk")
    server.dirty = 0
    server.lastsave = int(time.time())
    server.last_bgsave_ok = True
    server.lastbgsave_status = True
    return True


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:
        return "unknown"


def _close_quietly(f) -> None:
    try:
        f.close()
    except OSError:
        pass


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


@probe("rdbSaveBackground")
def rdb_save_background(filename: str | None = None, rsi: RdbSaveInfo | None = None) -> bool:
    """rdbSaveBackground: fork; the child runs rdbSave and exits, the parent returns at
    once.  False when a child already exists or fork() fails."""
    srv = server
    if srv.has_active_child_process():
        return False
    if filename is None:
        filename = srv.dbfilename
    srv.stat_rdb_saves += 1
    srv.dirty_before_bgsave = srv.dirty
    srv.lastbgsave_try = int(time.time())
    try:
        childpid = redis_fork(CHILD_TYPE_RDB)
    except OSError as e:
        srv.last_bgsave_ok = False
        srv.lastbgsave_status = False
        srv.log_warning("Can't save in background: fork: %s" % e.strerror)
        return False
    if childpid == 0:
        # The child: nothing here may return into the event loop.
        code = 1
        try:
            if rdb_save(filename, rsi):
                send_child_cow_info(CHILD_INFO_TYPE_RDB_COW_SIZE, "RDB")
                code = 0
        except BaseException:  # noqa: BLE001 - the child must always reach exit_from_child
            import traceback

            srv.log_warning("Background save child failed:\n" + traceback.format_exc())
        exit_from_child(code)
    srv.log_notice("Background saving started by pid %d" % childpid)
    srv.rdb_save_time_start = int(time.time())
    srv.rdb_child_type = RDB_CHILD_TYPE_DISK
    return True


def rdb_remove_temp_file(childpid: int) -> None:
    """rdbRemoveTempFile: drop what a killed child left behind."""
    _unlink_quietly("temp-%d.rdb" % childpid)


def rdb_populate_save_info() -> RdbSaveInfo | None:
    """rdbPopulateSaveInfo: the replication state worth persisting, or None when this
    instance is in no replication chain."""
    srv = server
    rsi = RdbSaveInfo()
    if not srv.masterhost and srv.repl_backlog is not None:
        seldb = getattr(srv, "slaveseldb", -1)
        rsi.repl_stream_db = 0 if seldb == -1 else seldb
        return rsi
    if srv.master is not None:
        rsi.repl_stream_db = srv.master.db.id
        return rsi
    cached = getattr(srv, "cached_master", None)
    if cached is not None:
        rsi.repl_stream_db = cached.db.id
        return rsi
    return None


# --------------------------------------------------------------------------------------------
# Old encodings, read only: ziplist (ziplist.c) and zipmap (zipmap.c)
# --------------------------------------------------------------------------------------------

_ZL_HDR = struct.Struct("<IIH")
_ZL_HEADER_SIZE = 10
_ZL_END = 0xFF
_ZL_BIG_PREVLEN = 254


def ziplist_entries(zl: bytes) -> list[bytes | int] | None:
    """Decode and deep-validate a ziplist (ziplistValidateIntegrity with deep=1 plus
    ziplistGet on each entry).  Integers come back as int, strings as bytes; None when the
    ziplist is malformed."""
    size = len(zl)
    if size < _ZL_HEADER_SIZE + 1:
        return None
    zlbytes, zltail, zllen = _ZL_HDR.unpack_from(zl, 0)
    if zlbytes != size or zl[size - 1] != _ZL_END or zltail > size - 1:
        return None
    out: list[bytes | int] = []
    p = _ZL_HEADER_SIZE
    end = size - 1
    prevlen = 0
    last = None
    while p < end:
        start = p
        b = zl[p]
        if b < _ZL_BIG_PREVLEN:
            plen = b
            p += 1
        elif b == _ZL_BIG_PREVLEN:
            if p + 5 > end:
                return None
            plen = int.from_bytes(zl[p + 1:p + 5], "little")
            p += 5
        else:
            return None
        if plen != prevlen or p >= end:
            return None
        enc = zl[p]
        kind = enc >> 6
        if kind == 0:
            n = enc & 0x3F
            p += 1
            val = zl[p:p + n]
            p += n
        elif kind == 1:
            if p + 2 > end:
                return None
            n = ((enc & 0x3F) << 8) | zl[p + 1]
            p += 2
            val = zl[p:p + n]
            p += n
        elif enc == 0x80:
            if p + 5 > end:
                return None
            n = int.from_bytes(zl[p + 1:p + 5], "big")
            p += 5
            val = zl[p:p + n]
            p += n
        elif enc == 0xC0:
            val = int.from_bytes(zl[p + 1:p + 3], "little", signed=True)
            p += 3
        elif enc == 0xD0:
            val = int.from_bytes(zl[p + 1:p + 5], "little", signed=True)
            p += 5
        elif enc == 0xE0:
            val = int.from_bytes(zl[p + 1:p + 9], "little", signed=True)
            p += 9
        elif enc == 0xF0:
            val = int.from_bytes(zl[p + 1:p + 4], "little", signed=True)
            p += 4
        elif enc == 0xFE:
            val = int.from_bytes(zl[p + 1:p + 2], "little", signed=True)
            p += 2
        elif 0xF1 <= enc <= 0xFD:
            val = (enc & 0x0F) - 1
            p += 1
        else:
            return None
        if p > end:
            return None
        out.append(val)
        prevlen = p - start
        last = start
    if p != end:
        return None
    if zltail != (last if last is not None else _ZL_HEADER_SIZE):
        return None
    if zllen != 0xFFFF and zllen != len(out):
        return None
    return out


def zipmap_pairs(zm: bytes) -> list[tuple[bytes, bytes]] | None:
    """Decode and validate a zipmap (zipmapValidateIntegrity + zipmapNext): the
    (field, value) pairs, or None when malformed."""
    size = len(zm)
    if size < 2:
        return None
    count = zm[0]
    p = 1
    out: list[tuple[bytes, bytes]] = []

    def read_len(p: int) -> tuple[int, int] | None:
        if p >= size:
            return None
        b = zm[p]
        if b < 254:
            return b, p + 1
        if b == 254:
            if p + 5 > size:
                return None
            return int.from_bytes(zm[p + 1:p + 5], "little"), p + 5
        return None

    while True:
        if p >= size:
            return None
        if zm[p] == 255:
            break
        r = read_len(p)
        if r is None:
            return None
        flen, p = r
        field = zm[p:p + flen]
        p += flen
        r = read_len(p)
        if r is None:
            return None
        vlen, p = r
        if p >= size:
            return None
        free = zm[p]
        p += 1
        value = zm[p:p + vlen]
        p += vlen + free
        if p > size - 1:
            return None
        out.append((field, value))
    if p != size - 1:
        return None
    if count < 254 and count != len(out):
        return None
    return out


_MODULE_NAME_CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def module_type_name_by_id(moduleid: int) -> str:
    """moduleTypeNameByID: the 9-character type name packed in a module id's high bits."""
    moduleid >>= 10
    name = []
    for _ in range(9):
        name.append(_MODULE_NAME_CHARSET[moduleid & 63])
        moduleid >>= 6
    return "".join(reversed(name))


# --------------------------------------------------------------------------------------------
# Low level load
# --------------------------------------------------------------------------------------------

def rdb_load_type(r: RioReader) -> int:
    p = r.pos
    if p >= r.end:
        raise _short_read()
    r.pos = p + 1
    return r.data[p]


def rdb_load_len(r: RioReader) -> tuple[int, bool]:
    """rdbLoadLenByRef: (length, False) or (RDB_ENC_* code, True) for a special encoding."""
    data = r.data
    p = r.pos
    if p >= r.end:
        raise _short_read()
    b = data[p]
    kind = b >> 6
    if kind == RDB_6BITLEN:
        r.pos = p + 1
        return b & 0x3F, False
    if kind == RDB_ENCVAL:
        r.pos = p + 1
        return b & 0x3F, True
    if kind == RDB_14BITLEN:
        if p + 2 > r.end:
            r.pos = r.end
            raise _short_read()
        r.pos = p + 2
        return ((b & 0x3F) << 8) | data[p + 1], False
    if b == RDB_32BITLEN:
        r.pos = p + 1
        return int.from_bytes(r.read(4), "big"), False
    if b == RDB_64BITLEN:
        r.pos = p + 1
        return int.from_bytes(r.read(8), "big"), False
    r.pos = p + 1
    raise _corrupt("Unknown length encoding %d in rdbLoadLen()" % kind)


def rdb_load_len_plain(r: RioReader) -> int:
    """rdbLoadLen where a special encoding makes no sense (counts, ids)."""
    n, _ = rdb_load_len(r)
    return n


def _load_int_enc(r: RioReader, enctype: int) -> int:
    """rdbLoadIntegerObject's reading half."""
    if enctype == RDB_ENC_INT8:
        return int.from_bytes(r.read(1), "little", signed=True)
    if enctype == RDB_ENC_INT16:
        return int.from_bytes(r.read(2), "little", signed=True)
    if enctype == RDB_ENC_INT32:
        return int.from_bytes(r.read(4), "little", signed=True)
    raise _corrupt("Unknown RDB integer encoding type %d" % enctype)


def rdb_load_lzf_string(r: RioReader) -> bytes:
    """rdbLoadLzfStringObject: compressed length, original length, data."""
    clen = rdb_load_len_plain(r)
    length = rdb_load_len_plain(r)
    c = r.read(clen)
    if length == 0:
        raise _corrupt("Invalid LZF compressed string")
    val = lzf_decompress(c, length)
    if val is None or len(val) != length:
        raise _corrupt("Invalid LZF compressed string")
    return val


def rdb_generic_load_string(r: RioReader) -> bytes:
    """rdbGenericLoadStringObject with RDB_LOAD_PLAIN/SDS: the bytes, whatever the
    encoding on disk (integers come back as their decimal text)."""
    data = r.data
    p = r.pos
    if p < r.end:
        b = data[p]
        if b < 64:
            # The common case inlined: a short raw string.
            q = p + 1 + b
            if q <= r.end:
                r.pos = q
                return data[p + 1:q]
    n, enc = rdb_load_len(r)
    if enc:
        if n == RDB_ENC_LZF:
            return rdb_load_lzf_string(r)
        if n <= RDB_ENC_INT32:
            return b"%d" % _load_int_enc(r, n)
        raise _corrupt("Unknown RDB string encoding type %d" % n)
    return r.read(n)


def rdb_load_encoded_string_object(r: RioReader) -> RObj:
    """rdbLoadEncodedStringObject + tryObjectEncoding: int (maybe shared), embstr or raw,
    as the same value set with SET would be."""
    data = r.data
    p = r.pos
    if p < r.end and data[p] >> 6 == RDB_ENCVAL and (data[p] & 0x3F) <= RDB_ENC_INT32:
        r.pos = p + 1
        return obj.create_string_object_from_long_long_for_value(
            _load_int_enc(r, data[p] & 0x3F))
    return obj.create_object_for_value(rdb_generic_load_string(r))


def rdb_load_double_value(r: RioReader) -> float:
    """rdbLoadDoubleValue: the old text double."""
    n = rdb_load_type(r)
    if n == 255:
        return float("-inf")
    if n == 254:
        return float("inf")
    if n == 253:
        return float("nan")
    s = r.read(n)
    try:
        return float(s.split(b"\0", 1)[0].decode("ascii"))
    except ValueError:
        raise _corrupt("Invalid double value in RDB") from None


def rdb_load_binary_double_value(r: RioReader) -> float:
    return _DOUBLE.unpack(r.read(8))[0]


def rdb_load_binary_float_value(r: RioReader) -> float:
    return _FLOAT.unpack(r.read(4))[0]


def rdb_load_millisecond_time(r: RioReader) -> int:
    return _I64.unpack(r.read(8))[0]


def rdb_load_time(r: RioReader) -> int:
    """rdbLoadTime: the pre-RDB-3 expire, seconds as int32."""
    return int.from_bytes(r.read(4), "little", signed=True)


def rdb_load_check_module_value(r: RioReader, modulename: str) -> None:
    """rdbLoadCheckModuleValue: walk an opcode-annotated module value without the module."""
    while True:
        opcode = rdb_load_len_plain(r)
        if opcode == RDB_MODULE_OPCODE_EOF:
            return
        if opcode in (RDB_MODULE_OPCODE_SINT, RDB_MODULE_OPCODE_UINT):
            rdb_load_len(r)
        elif opcode == RDB_MODULE_OPCODE_STRING:
            rdb_generic_load_string(r)
        elif opcode == RDB_MODULE_OPCODE_FLOAT:
            r.read(4)
        elif opcode == RDB_MODULE_OPCODE_DOUBLE:
            r.read(8)
        else:
            raise _corrupt("Unknown module opcode %d in module %s value"
                           % (opcode, modulename))


# --------------------------------------------------------------------------------------------
# Object load
# --------------------------------------------------------------------------------------------

def _deep_sanitize() -> bool:
    """Whether to validate every entry of a compact encoding (rdbLoadObject's
    deep_integrity_validation): always with sanitize-dump-payload yes; with 'clients', for a
    RESTORE from an ordinary client (not while loading an RDB file, not from our master,
    not for an ACL user flagged skip-sanitize-payload); never with 'no'."""
    mode = server.sanitize_dump_payload
    if mode == "yes":
        return True
    if mode != "clients" or server.loading:
        return False
    c = server.current_client
    if c is None:
        return True
    from tracered import acl
    from tracered import networking as net

    if c.flags & net.CLIENT_MASTER:
        return False
    u = acl.acl_get_user_by_name(c.user) if c.user else None
    return not (u is not None and u.flags & acl.USER_FLAG_SANITIZE_PAYLOAD_SKIP)


def lp_pairs_validate_integrity_and_dups(lp: bytes | bytearray, deep: bool) -> bool:
    """lpPairsValidateIntegrityAndDups: a listpack of field/value pairs; deep also checks
    every entry, an even count and no duplicate field."""
    if not lp_validate_integrity(lp, deep):
        return False
    if not deep:
        return True
    items = list(lp_iter(lp))
    if len(items) & 1:
        return False
    fields = items[0::2]
    return len(set(fields)) == len(fields)


def _create_quicklist_object() -> RObj:
    """createQuicklistObject with the configured fill and compress depth (t_list.py's own
    when it provides one)."""
    try:
        from tracered import t_list
    except ImportError:
        t_list = None
    fn = getattr(t_list, "create_quicklist_object", None)
    if fn is not None:
        o = fn()
        qlmod.quicklist_set_options(o.ptr, server.list_max_listpack_size,
                                    server.list_compress_depth)
        return o
    return RObj(OBJ_LIST, OBJ_ENCODING_QUICKLIST,
                qlmod.quicklist_new(server.list_max_listpack_size, server.list_compress_depth))


def _score_entry(score: float) -> bytes | int:
    """How zzlInsertAt stores a score in a listpack: an integer when double2ll allows."""
    lv = util.double2ll(score)
    return lv if lv is not None else util.d2string(score)


def rdb_load_object(rdbtype: int, r: RioReader, key: bytes, dbid: int = 0) -> RObj | None:
    """rdbLoadObject: one value of RDB type ``rdbtype``; None for an empty value (skipped,
    as Redis does since #8453); raises RdbLoadError on bad data."""
    from tracered import t_set

    srv = server
    if rdbtype == RDB_TYPE_STRING:
        return rdb_load_encoded_string_object(r)

    if rdbtype == RDB_TYPE_LIST:
        n = rdb_load_len_plain(r)
        if n == 0:
            return None
        o = _create_quicklist_object()
        ql = o.ptr
        for _ in range(n):
            qlmod.quicklist_push_tail(ql, rdb_generic_load_string(r))
        return o

    if rdbtype == RDB_TYPE_SET:
        n = rdb_load_len_plain(r)
        if n == 0:
            return None
        max_entries = srv.set_max_intset_entries
        if max_entries >= 1 << 30:
            max_entries = 1 << 30
        if n > max_entries:
            o = t_set.create_set_object()
            if n > DICT_HT_INITIAL_SIZE:
                o.ptr.expand(n)
        else:
            o = t_set.create_intset_object()
        for _ in range(n):
            ele = rdb_generic_load_string(r)
            if o.encoding == OBJ_ENCODING_INTSET:
                v = util.string2ll(ele)
                if v is not None:
                    is_, ok = intset_add(o.ptr, v)
                    o.ptr = is_
                    if not ok:
                        raise _corrupt("Duplicate set members detected")
                    continue
                t_set.set_type_convert(o, OBJ_ENCODING_HT, key)
                o.ptr.expand(n)
            if not o.ptr.add(ele, None):
                raise _corrupt("Duplicate set members detected")
        return o

    if rdbtype == RDB_TYPE_ZSET_2 or rdbtype == RDB_TYPE_ZSET:
        return _rdb_load_zset(r, rdbtype, key)

    if rdbtype == RDB_TYPE_HASH:
        return _rdb_load_hash(r, key)

    if rdbtype == RDB_TYPE_LIST_QUICKLIST or rdbtype == RDB_TYPE_LIST_QUICKLIST_2:
        n = rdb_load_len_plain(r)
        if n == 0:
            return None
        o = _create_quicklist_object()
        ql = o.ptr
        deep = _deep_sanitize()
        container = qlmod.QUICKLIST_NODE_CONTAINER_PACKED
        for _ in range(n):
            if rdbtype == RDB_TYPE_LIST_QUICKLIST_2:
                container = rdb_load_len_plain(r)
                if container not in (qlmod.QUICKLIST_NODE_CONTAINER_PACKED,
                                     qlmod.QUICKLIST_NODE_CONTAINER_PLAIN):
                    raise _corrupt("Quicklist integrity check failed.")
            data = rdb_generic_load_string(r)
            if not data:
                raise RdbLoadError("Empty quicklist node", False, "rdb_load_object")
            if container == qlmod.QUICKLIST_NODE_CONTAINER_PLAIN:
                qlmod.quicklist_append_plain_node(ql, data)
                continue
            if rdbtype == RDB_TYPE_LIST_QUICKLIST_2:
                if deep:
                    srv.stat_dump_payload_sanitizations = getattr(
                        srv, "stat_dump_payload_sanitizations", 0) + 1
                if not lp_validate_integrity(data, deep):
                    raise _corrupt("Listpack integrity check failed.")
                lp = bytearray(data)
            else:
                items = ziplist_entries(data)
                if items is None:
                    raise _corrupt("Ziplist integrity check failed.")
                lp = lp_build(items)
            if lp_length(lp) == 0:
                continue  # Redis silently skips empty nodes
            qlmod.quicklist_append_listpack(ql, lp)
        if ql.count == 0:
            return None
        return o

    if rdbtype in (RDB_TYPE_HASH_ZIPMAP, RDB_TYPE_LIST_ZIPLIST, RDB_TYPE_SET_INTSET,
                   RDB_TYPE_ZSET_ZIPLIST, RDB_TYPE_ZSET_LISTPACK, RDB_TYPE_HASH_ZIPLIST,
                   RDB_TYPE_HASH_LISTPACK):
        return _rdb_load_encoded_blob(rdbtype, rdb_generic_load_string(r), key)

    fn = rdb_load_object_funcs.get(rdbtype)
    if fn is not None:
        return fn(r, key, dbid)
    if rdbtype in (RDB_TYPE_MODULE, RDB_TYPE_MODULE_2):
        moduleid = rdb_load_len_plain(r)
        raise _corrupt("The RDB file contains module data I can't load: no matching module "
                       "'%s'" % module_type_name_by_id(moduleid))
    if rdbtype in (RDB_TYPE_STREAM_LISTPACKS, RDB_TYPE_STREAM_LISTPACKS_2):
        raise _corrupt("The RDB file contains a stream, which this build of tracered cannot "
                       "load (no stream type)")
    raise RdbLoadError("Unknown RDB encoding type %d" % rdbtype, False, "rdb_load_object")


def _rdb_load_zset(r: RioReader, rdbtype: int, key: bytes) -> RObj | None:
    """RDB_TYPE_ZSET_2 / RDB_TYPE_ZSET: members greatest to smallest, then the conversion
    to a listpack when small enough.  Building the listpack straight from the sorted pairs
    gives the bytes zsetConvert produces, without a throw-away skiplist."""
    from tracered import t_zset
    from tracered.skiplist import zsl_insert

    srv = server
    n = rdb_load_len_plain(r)
    if n == 0:
        return None
    pairs = []
    maxelelen = 0
    totelelen = 0
    load_score = rdb_load_binary_double_value if rdbtype == RDB_TYPE_ZSET_2 \
        else rdb_load_double_value
    for _ in range(n):
        ele = rdb_generic_load_string(r)
        score = load_score(r)
        if score != score:
            raise _corrupt("Zset with NAN score detected")
        ln = len(ele)
        if ln > maxelelen:
            maxelelen = ln
        totelelen += ln
        pairs.append((ele, score))
    if (n <= srv.zset_max_listpack_entries and maxelelen <= srv.zset_max_listpack_value
            and lp_safe_to_add(None, totelelen)):
        if len({e for e, _ in pairs}) != n:
            raise _corrupt("Duplicate zset fields detected")
        pairs.sort(key=lambda es: (es[1], es[0]))
        flat: list[bytes | int] = []
        for ele, score in pairs:
            flat.append(ele)
            flat.append(_score_entry(score))
        o = t_zset.create_zset_listpack_object()
        o.ptr = lp_build(flat)
        return o
    o = t_zset.create_zset_object()
    zs = o.ptr
    if n > DICT_HT_INITIAL_SIZE:
        zs.dict.expand(n)
    zsl = zs.zsl
    d = zs.dict
    for ele, score in pairs:
        if not d.add(ele, score):
            raise _corrupt("Duplicate zset fields detected")
        zsl_insert(zsl, score, ele)
    return o


def _rdb_load_hash(r: RioReader, key: bytes) -> RObj | None:
    """RDB_TYPE_HASH: pairs go into a listpack until one is too long (then the rest into a
    hashtable); more fields than hash-max-listpack-entries means a hashtable from the
    start."""
    from tracered import t_hash

    srv = server
    n = rdb_load_len_plain(r)
    if n == 0:
        return None
    o = t_hash.create_hash_object()
    if n > srv.hash_max_listpack_entries:
        t_hash.hash_type_convert(o, OBJ_ENCODING_HT, key)
    dup_search = set() if o.encoding == OBJ_ENCODING_LISTPACK and _deep_sanitize() else None
    maxlen = srv.hash_max_listpack_value
    flat: list[bytes] = []
    total = 0
    while o.encoding == OBJ_ENCODING_LISTPACK and n > 0:
        n -= 1
        field = rdb_generic_load_string(r)
        value = rdb_generic_load_string(r)
        if dup_search is not None:
            if field in dup_search:
                raise _corrupt("Hash with dup elements")
            dup_search.add(field)
        total += len(field) + len(value)
        if len(field) > maxlen or len(value) > maxlen or not lp_safe_to_add(None, total):
            o.ptr = lp_build(flat)
            t_hash.hash_type_convert(o, OBJ_ENCODING_HT, key)
            if not o.ptr.add(field, value):
                raise _corrupt("Duplicate hash fields detected")
            break
        flat.append(field)
        flat.append(value)
    if o.encoding == OBJ_ENCODING_LISTPACK:
        o.ptr = lp_build(flat)
        return o
    d = o.ptr
    if n > DICT_HT_INITIAL_SIZE:
        d.expand(len(d) + n)
    while n > 0:
        n -= 1
        field = rdb_generic_load_string(r)
        value = rdb_generic_load_string(r)
        if not d.add(field, value):
            raise _corrupt("Duplicate hash fields detected")
    return o


def _rdb_load_encoded_blob(rdbtype: int, encoded: bytes, key: bytes) -> RObj | None:
    """The types saved as one blob (zipmap, ziplists, intset, listpacks): validate, adopt
    or convert, and apply the same size checks as Redis (length only: the per-element
    length limit is left to the next write)."""
    from tracered import t_hash, t_set, t_zset

    srv = server
    deep = _deep_sanitize()
    if rdbtype == RDB_TYPE_HASH_ZIPMAP:
        pairs = zipmap_pairs(encoded)
        if pairs is None:
            raise _corrupt("Zipmap integrity check failed.")
        seen = set()
        flat: list[bytes] = []
        maxlen = 0
        for f, v in pairs:
            maxlen = max(maxlen, len(f), len(v))
            if f in seen:
                raise _corrupt("Hash zipmap with dup elements, or big length (%d)" % len(f))
            seen.add(f)
            flat.append(f)
            flat.append(v)
        o = t_hash.create_hash_object()
        o.ptr = lp_build(flat)
        if len(pairs) > srv.hash_max_listpack_entries or maxlen > srv.hash_max_listpack_value:
            t_hash.hash_type_convert(o, OBJ_ENCODING_HT, key)
        return o
    if rdbtype == RDB_TYPE_LIST_ZIPLIST:
        items = ziplist_entries(encoded)
        if items is None:
            raise _corrupt("List ziplist integrity check failed.")
        if not items:
            return None
        o = _create_quicklist_object()
        for v in items:
            qlmod.quicklist_push_tail(o.ptr, b"%d" % v if v.__class__ is int else v)
        return o
    if rdbtype == RDB_TYPE_SET_INTSET:
        if deep:
            srv.stat_dump_payload_sanitizations = getattr(
                srv, "stat_dump_payload_sanitizations", 0) + 1
        if not intset_validate_integrity(encoded, deep):
            raise _corrupt("Intset integrity check failed.")
        o = t_set.create_intset_object()
        o.ptr = bytearray(encoded)
        if intset_len(o.ptr) > srv.set_max_intset_entries:
            t_set.set_type_convert(o, OBJ_ENCODING_HT, key)
        return o
    if rdbtype in (RDB_TYPE_ZSET_ZIPLIST, RDB_TYPE_HASH_ZIPLIST):
        items = ziplist_entries(encoded)
        if items is None or len(items) & 1:
            raise _corrupt("%s ziplist integrity check failed."
                           % ("Zset" if rdbtype == RDB_TYPE_ZSET_ZIPLIST else "Hash"))
        fields = [b"%d" % f if f.__class__ is int else f for f in items[0::2]]
        if len(set(fields)) != len(fields):
            raise _corrupt("%s ziplist integrity check failed."
                           % ("Zset" if rdbtype == RDB_TYPE_ZSET_ZIPLIST else "Hash"))
        if not items:
            return None
        lp = lp_build(items)
        if rdbtype == RDB_TYPE_ZSET_ZIPLIST:
            o = t_zset.create_zset_listpack_object()
            o.ptr = lp
            if len(items) // 2 > srv.zset_max_listpack_entries:
                t_zset.zset_convert(o, OBJ_ENCODING_SKIPLIST, key)
            return o
        o = t_hash.create_hash_object()
        o.ptr = lp
        if len(items) // 2 > srv.hash_max_listpack_entries:
            t_hash.hash_type_convert(o, OBJ_ENCODING_HT, key)
        return o
    # RDB_TYPE_ZSET_LISTPACK / RDB_TYPE_HASH_LISTPACK
    is_zset = rdbtype == RDB_TYPE_ZSET_LISTPACK
    if deep:
        srv.stat_dump_payload_sanitizations = getattr(
            srv, "stat_dump_payload_sanitizations", 0) + 1
    if not lp_pairs_validate_integrity_and_dups(encoded, deep):
        raise _corrupt("%s listpack integrity check failed." % ("Zset" if is_zset else "Hash"))
    lp = bytearray(encoded)
    length = lp_length(lp) // 2
    if length == 0:
        return None
    if is_zset:
        o = t_zset.create_zset_listpack_object()
        o.ptr = lp
        if length > srv.zset_max_listpack_entries:
            t_zset.zset_convert(o, OBJ_ENCODING_SKIPLIST, key)
        return o
    o = t_hash.create_hash_object()
    o.ptr = lp
    if length > srv.hash_max_listpack_entries:
        t_hash.hash_type_convert(o, OBJ_ENCODING_HT, key)
    return o


# --------------------------------------------------------------------------------------------
# Loading state and progress
# --------------------------------------------------------------------------------------------

def start_loading(size: int, rdbflags: int = RDBFLAGS_NONE, async_: bool = False) -> None:
    """startLoading: INFO's loading fields start counting."""
    srv = server
    srv.loading = True
    srv.async_loading = bool(async_)
    srv.loading_start_time = int(time.time())
    srv.loading_loaded_bytes = 0
    srv.loading_total_bytes = size
    srv.loading_rdb_used_mem = 0
    srv.rdb_last_load_keys_expired = 0
    srv.rdb_last_load_keys_loaded = 0


def stop_loading(success: bool) -> None:
    """stopLoading."""
    server.loading = False
    server.async_loading = False


def loading_abs_progress(pos: int) -> None:
    server.loading_loaded_bytes = pos


def process_events_while_blocked() -> None:
    """processEventsWhileBlocked: serve clients (with -LOADING) during a long load.  Only
    at startup: inside a command (DEBUG RELOAD) re-entering the event loop is not safe."""
    from tracered.ae import AE_CALL_BEFORE_SLEEP, AE_DONT_WAIT, AE_FILE_EVENTS

    srv = server
    el = srv.el
    if el is None or srv.executing_client is not None or srv.current_client is not None:
        return
    for _ in range(4):
        if not el.process_events(AE_FILE_EVENTS | AE_DONT_WAIT | AE_CALL_BEFORE_SLEEP):
            break
    if srv.clients_pending_write:
        net.handle_clients_with_pending_writes()


def object_set_lru_or_lfu(val: RObj, lfu_freq: int, lru_idle: int, lru_clock: int,
                          lru_multiplier: int) -> bool:
    """objectSetLRUOrLFU: restore the access information saved with a key."""
    if val.refcount == obj.OBJ_SHARED_REFCOUNT:
        return False  # a shared integer has no access time of its own
    if server.maxmemory_policy.endswith("-lfu"):
        if lfu_freq >= 0:
            val.lru = ((int(time.time() / 60) & 0xFFFF) << 8) | (lfu_freq & 0xFF)
            return True
    elif lru_idle >= 0:
        lru_idle = lru_idle * lru_multiplier // obj.LRU_CLOCK_RESOLUTION
        lru_abs = lru_clock - lru_idle
        if lru_abs < 0:
            lru_abs = (lru_clock + (obj.LRU_CLOCK_MAX // 2)) % obj.LRU_CLOCK_MAX
        val.lru = lru_abs
        return True
    return False


# --------------------------------------------------------------------------------------------
# rdbLoadRio / rdbLoad
# --------------------------------------------------------------------------------------------

def rdb_report_error(err: RdbLoadError, offset: int) -> None:
    """rdbReportError's log line (the caller decides whether the server goes on)."""
    server.log_warning("Internal error in RDB reading offset %d, function at %s -> %s"
                       % (offset, err.where or "rdb_load_rio", err))


def rdb_load_rio(r: RioReader, rdbflags: int = RDBFLAGS_NONE,
                 rsi: RdbSaveInfo | None = None, dbs: list | None = None) -> bool:
    """rdbLoadRio: read a whole RDB stream into ``dbs`` (the server's databases).

    Returns False after logging why (wrong signature or version: errno-style failures;
    short read or corruption: the "Internal error in RDB reading offset N" line).  The
    attribute ``last_error`` of this module tells them apart: "EINVAL", "EOF", "CORRUPT".
    """
    global last_error
    srv = server
    if dbs is None:
        dbs = srv.db
    last_error = ""
    start_pos = r.pos
    try:
        magic = r.read(9)
    except RdbLoadError:
        return _load_failed(r, _short_read())
    if magic[:5] != b"REDIS":
        srv.log_warning("Wrong signature trying to load DB from file")
        last_error = "EINVAL"
        return False
    try:
        rdbver = int(magic[5:].decode("ascii"))
    except ValueError:
        rdbver = 0
    if rdbver < 1 or rdbver > RDB_VERSION:
        srv.log_warning("Can't handle RDB format version %d" % rdbver)
        last_error = "EINVAL"
        return False
    # Loading creates millions of objects and frees none: the cyclic GC would rescan the
    # growing heap over and over (measured: loading 6x slower).  Nothing made here is
    # garbage yet, so collection waits until the load is over.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    if function_load_begin_hook is not None:
        function_load_begin_hook(rdbflags)
    try:
        ok = _rdb_load_body(r, rdbver, rdbflags, rsi, dbs, start_pos)
    except RdbLoadError as e:
        return _load_failed(r, e)
    finally:
        if gc_was_enabled:
            gc.enable()
    if ok:
        # The loaded dataset is long-lived and acyclic: out of the collector's walks.
        gcpolicy.freeze_survivors(srv)
    return ok


def _load_failed(r: RioReader, e: RdbLoadError) -> bool:
    global last_error
    if e.corrupt:
        last_error = "CORRUPT"
    else:
        last_error = "EOF"
        server.log_warning("Short read or OOM loading DB. Unrecoverable error, aborting now.")
    rdb_report_error(e, r.pos)
    return False


last_error = ""


def _rdb_load_body(r: RioReader, rdbver: int, rdbflags: int, rsi: RdbSaveInfo | None,
                   dbs: list, start_pos: int) -> bool:
    srv = server
    db = dbs[0]
    lru_idle = lfu_freq = expiretime = -1
    now = int(time.time() * 1000)
    lru_clock = obj.lru_clock
    empty_keys_skipped = 0
    i_am_master = srv.masterhost is None
    allow_dup = rdbflags & RDBFLAGS_ALLOW_DUP
    interval = srv.loading_process_events_interval_bytes or 0
    next_events = r.pos + interval if interval else -1
    key_load_delay = srv.key_load_delay
    load_type = rdb_load_type
    load_string = rdb_load_encoded_string_object
    load_object = rdb_load_object
    load_key = rdb_generic_load_string
    while True:
        t = load_type(r)
        if t >= RDB_OPCODE_FUNCTION2:
            if t == RDB_OPCODE_EXPIRETIME_MS:
                expiretime = rdb_load_millisecond_time(r)
                continue
            if t == RDB_OPCODE_EXPIRETIME:
                expiretime = rdb_load_time(r) * 1000
                continue
            if t == RDB_OPCODE_FREQ:
                lfu_freq = load_type(r)
                continue
            if t == RDB_OPCODE_IDLE:
                lru_idle = rdb_load_len_plain(r)
                continue
            if t == RDB_OPCODE_EOF:
                break
            if t == RDB_OPCODE_SELECTDB:
                dbid = rdb_load_len_plain(r)
                if dbid >= len(dbs):
                    srv.log_warning("FATAL: Data file was created with a Redis server "
                                    "configured to handle more than %d databases. Exiting\n"
                                    % len(dbs))
                    raise SystemExit(1)
                db = dbs[dbid]
                continue
            if t == RDB_OPCODE_RESIZEDB:
                db_size = rdb_load_len_plain(r)
                expires_size = rdb_load_len_plain(r)
                db.dict.expand(db_size)
                db.expires.expand(expires_size)
                continue
            if t == RDB_OPCODE_AUX:
                _rdb_load_aux(load_key(r), load_key(r), rsi)
                continue
            if t == RDB_OPCODE_MODULE_AUX:
                moduleid = rdb_load_len_plain(r)
                when_opcode = rdb_load_len_plain(r)
                rdb_load_len_plain(r)  # when
                if when_opcode != RDB_MODULE_OPCODE_UINT:
                    raise RdbLoadError("bad when_opcode", False, "rdb_load_rio")
                name = module_type_name_by_id(moduleid)
                srv.log_warning("The RDB file contains AUX module data for module '%s', "
                                "which tracered has no module for: skipping it" % name)
                rdb_load_check_module_value(r, name)
                continue
            if t == RDB_OPCODE_FUNCTION or t == RDB_OPCODE_FUNCTION2:
                _rdb_function_load(r, t)
                continue
            raise RdbLoadError("Unknown RDB encoding type %d" % t, False, "rdb_load_rio")
        if not rdb_is_object_type(t):
            raise RdbLoadError("Unknown RDB encoding type %d" % t, False, "rdb_load_rio")
        key = load_key(r)
        if t == RDB_TYPE_STRING:
            val = load_string(r)
        else:
            val = load_object(t, r, key, db.id)
        if val is None:
            if empty_keys_skipped < 10:
                srv.log_warning("rdbLoadObject skipping empty key: %s"
                                % key.decode("utf-8", "replace"))
            empty_keys_skipped += 1
        elif i_am_master and not rdbflags & RDBFLAGS_AOF_PREAMBLE and \
                expiretime != -1 and expiretime < now:
            srv.rdb_last_load_keys_expired += 1
        else:
            entry, _existing = db.dict.add_raw(key)
            srv.rdb_last_load_keys_loaded += 1
            if entry is None:
                if not allow_dup:
                    srv.log_warning("RDB has duplicated key '%s' in DB %d"
                                    % (key.decode("utf-8", "replace"), db.id))
                    raise RdbLoadError("Duplicated key found in RDB file", True,
                                       "rdb_load_rio")
                from tracered import db as dbmod

                dbmod.db_delete(db, key)
                entry, _existing = db.dict.add_raw(key)
            entry.val = val
            if expiretime != -1:
                db.expires.replace(entry.key, expiretime)
            if lru_idle != -1 or lfu_freq != -1:
                object_set_lru_or_lfu(val, lfu_freq, lru_idle, lru_clock, 1000)
        if key_load_delay:
            debug_delay(key_load_delay)
        expiretime = lfu_freq = lru_idle = -1
        if next_events != -1 and r.pos >= next_events:
            next_events = r.pos + interval
            loading_abs_progress(r.pos - start_pos)
            process_events_while_blocked()
    if rdbver >= 5:
        payload_end = r.pos
        cksum = _U64.unpack(r.read(8))[0]
        if srv.rdbchecksum and not getattr(srv, "skip_checksum_validation", False):
            if cksum == 0:
                srv.log_warning("RDB file was saved with checksum disabled: no check "
                                "performed.")
            else:
                expected = _crc_range(r.data, start_pos, payload_end)
                if cksum != expected:
                    srv.log_warning("Wrong RDB checksum expected: (%x) but got (%x). "
                                    "Aborting now." % (expected, cksum))
                    raise RdbLoadError("RDB CRC error", True, "rdb_load_rio")
    loading_abs_progress(r.pos - start_pos)
    if empty_keys_skipped:
        srv.log_warning("Done loading RDB, keys loaded: %d, keys expired: %d, empty keys "
                        "skipped: %d." % (srv.rdb_last_load_keys_loaded,
                                          srv.rdb_last_load_keys_expired, empty_keys_skipped))
    else:
        srv.log_notice("Done loading RDB, keys loaded: %d, keys expired: %d."
                       % (srv.rdb_last_load_keys_loaded, srv.rdb_last_load_keys_expired))
    return True


def _crc_range(data, start: int, end: int) -> int:
    """CRC-64 of data[start:end] without copying it (8 MiB views at a time)."""
    crc = 0
    view = memoryview(data)
    try:
        step = 8 << 20
        for p in range(start, end, step):
            chunk = view[p:min(p + step, end)]
            crc = crc64(crc, chunk)
            chunk.release()
    finally:
        view.release()
    return crc


def _rdb_load_aux(k: bytes, v: bytes, rsi: RdbSaveInfo | None) -> None:
    """An AUX field: known ones are used or logged, unknown ones ignored by contract."""
    srv = server
    if k[:1] == b"%":
        srv.log_notice("RDB '%s': %s" % (k.decode("utf-8", "replace"),
                                         v.decode("utf-8", "replace")))
        return
    name = k.lower()
    try:
        if name == b"repl-stream-db":
            if rsi is not None:
                rsi.repl_stream_db = int(v)
        elif name == b"repl-id":
            if rsi is not None and len(v) == 40:
                rsi.repl_id = v.decode("ascii", "replace")
                rsi.repl_id_is_set = True
        elif name == b"repl-offset":
            if rsi is not None:
                rsi.repl_offset = int(v)
        elif name == b"redis-ver":
            srv.log_notice("Loading RDB produced by version %s" % v.decode("utf-8", "replace"))
        elif name == b"ctime":
            age = max(0, int(time.time()) - int(v))
            srv.log_notice("RDB age %d seconds" % age)
        elif name == b"used-mem":
            used = int(v)
            srv.log_notice("RDB memory usage when created %.2f Mb" % (used / (1024 * 1024)))
            srv.loading_rdb_used_mem = used
        elif name == b"aof-preamble":
            if int(v):
                srv.log_notice("RDB has an AOF tail")
        elif name == b"aof-base":
            if int(v):
                srv.log_notice("RDB is base AOF")
        elif name in (b"lua", b"redis-bits"):
            pass
        else:
            srv.log_debug("Unrecognized RDB AUX field: '%s'" % k.decode("utf-8", "replace"))
    except ValueError:
        pass  # strtoll/atoi read garbage as 0; a malformed informational field is harmless


# Installed by the scripting module: fn(code: bytes) -> error text | None.
function_load_hook: Callable[[bytes], str | None] | None = None
# Installed by functions.py: fn(rdbflags) before a stream is read (every caller empties the
# data, libraries included, before loading; RDBFLAGS_ALLOW_DUP keeps and replaces them), and
# fn(out) writing the RDB_OPCODE_FUNCTION2 records when saving.
function_load_begin_hook: Callable[[int], None] | None = None
function_save_hook: Callable[[bytearray], None] | None = None


def _rdb_function_load(r: RioReader, t: int) -> None:
    """rdbFunctionLoad: a library's code (FUNCTION2); the old 7.0-rc format is refused."""
    if t == RDB_OPCODE_FUNCTION:
        raise _corrupt("Pre-GA function format not supported")
    code = rdb_generic_load_string(r)
    hook = function_load_hook
    if hook is None:
        server.log_warning("The RDB file contains a function library, which this build of "
                           "tracered cannot load: skipping it")
        return
    err = hook(code)
    if err:
        raise _corrupt("Failed loading library, %s" % err)


@probe("rdbLoad")
def rdb_load(filename: str, rsi: RdbSaveInfo | None = None, rdbflags: int = RDBFLAGS_NONE,
             merge: bool = False) -> bool:
    """rdbLoad: load ``filename`` into the databases.

    Returns False when the file cannot be opened (module attribute ``last_error`` is then
    "ENOENT" or the errno name) or has a wrong signature/version ("EINVAL").  A truncated or
    corrupt file is fatal, as in Redis: the error is logged with its offset and the process
    exits with status 1 (SystemExit), so the server never runs on half a dataset.
    ``merge`` (DEBUG RELOAD MERGE) lets keys in the file replace existing ones.
    """
    global last_error
    if merge:
        rdbflags |= RDBFLAGS_ALLOW_DUP
    try:
        fd = os.open(filename, os.O_RDONLY)
    except OSError as e:
        import errno

        last_error = errno.errorcode.get(e.errno, "EIO")
        return False
    try:
        size = os.fstat(fd).st_size
        data = mmap.mmap(fd, size, access=mmap.ACCESS_READ) if size else b""
    except OSError as e:
        os.close(fd)
        import errno

        last_error = errno.errorcode.get(e.errno, "EIO")
        return False
    os.close(fd)
    start_loading(size, rdbflags)
    ok = False
    try:
        ok = rdb_load_rio(RioReader(data), rdbflags, rsi)
    finally:
        if isinstance(data, mmap.mmap):
            data.close()
        stop_loading(ok)
    if not ok and last_error in ("EOF", "CORRUPT"):
        server.log_warning("Terminating server after rdb file reading failure.")
        raise SystemExit(1)
    return ok


# --------------------------------------------------------------------------------------------
# Background children: fork, child info pipe, reaping (server.c / childinfo.c)
# --------------------------------------------------------------------------------------------

_CHILD_INFO = struct.Struct("<iQQdd")   # type, keys, cow bytes, cow_updated (s), progress
_child_info_state = {"info_updated": 0.0, "cow_updated": 0.0, "cow_cost": 0.0, "cow": 0,
                     "peak": 0, "sum": 0, "count": 0}


def update_dict_resize_policy() -> None:
    """updateDictResizePolicy: forbid resizes in a child, avoid them while one exists."""
    if server.in_fork_child != CHILD_TYPE_NONE:
        dictmod.dict_set_resize_enabled(dictmod.DICT_RESIZE_FORBID)
    elif server.has_active_child_process():
        dictmod.dict_set_resize_enabled(dictmod.DICT_RESIZE_AVOID)
    else:
        dictmod.dict_set_resize_enabled(dictmod.DICT_RESIZE_ENABLE)


def open_child_info_pipe() -> None:
    """openChildInfoPipe: the child writes fixed-size records, the parent drains them."""
    r, w = os.pipe()
    os.set_blocking(r, False)
    server.child_info_pipe = [r, w]
    server.child_info_nread = b""


def close_child_info_pipe() -> None:
    pipe = server.child_info_pipe
    for fd in pipe:
        if fd != -1:
            try:
                os.close(fd)
            except OSError:
                pass
    server.child_info_pipe = [-1, -1]
    server.child_info_nread = b""


def redis_fork(purpose: int) -> int:
    """redisFork: os.fork() with Redis's bookkeeping.  Returns 0 in the child and the
    child's pid in the parent; raises OSError when fork fails (or EEXIST when a child of
    an exclusive type already exists)."""
    import errno

    srv = server
    if srv.has_active_child_process():
        raise OSError(errno.EEXIST, os.strerror(errno.EEXIST))
    open_child_info_pipe()
    start = time.perf_counter()
    try:
        childpid = os.fork()
    except OSError:
        close_child_info_pipe()
        raise
    if childpid == 0:
        srv.in_fork_child = purpose
        # A collection would write to the GC header of every tracked object: pure
        # copy-on-write cost for a process that only reads and exits.
        gc.disable()
        for sig in (signal.SIGUSR1, signal.SIGTERM, signal.SIGINT):
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (ValueError, OSError):
                pass
        for s in srv.listeners:  # closeChildUnusedResourceAfterFork
            try:
                s.close()
            except OSError:
                pass
        r = srv.child_info_pipe[0]
        if r != -1:
            os.close(r)
            srv.child_info_pipe[0] = -1
        _child_info_state.update(info_updated=time.monotonic(), cow_updated=0.0,
                                 cow_cost=0.0, cow=0, peak=0, sum=0, count=0)
        update_dict_resize_policy()
        for hook in list(fork_child_hooks):
            hook(purpose)
        return 0
    srv.stat_total_forks = getattr(srv, "stat_total_forks", 0) + 1
    srv.stat_fork_time = int((time.perf_counter() - start) * 1_000_000)
    srv.child_pid = childpid
    srv.child_type = purpose
    srv.stat_current_cow_peak = 0
    srv.stat_current_cow_bytes = 0
    srv.stat_current_cow_updated = 0
    srv.stat_current_save_keys_processed = 0
    srv.stat_module_progress = 0
    srv.stat_current_save_keys_total = sum(len(db.dict) for db in srv.db)
    os.close(srv.child_info_pipe[1])
    srv.child_info_pipe[1] = -1
    update_dict_resize_policy()
    return childpid


def exit_from_child(retcode: int) -> None:
    """exitFromChild: leave without running the parent's cleanup (atexit, buffers)."""
    for hook in list(child_exit_hooks):
        try:
            hook(retcode)
        except Exception:  # noqa: BLE001 - a hook must not keep the child alive
            pass
    try:
        import sys

        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    os._exit(retcode)


def zmalloc_get_private_dirty() -> int:
    """zmalloc_get_private_dirty: this process's Private_Dirty bytes, i.e. the pages
    copy-on-write has duplicated so far (a fork child's cost)."""
    try:
        with open("/proc/self/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Private_Dirty:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def send_child_info_generic(info_type: int, keys: int, progress: float, pname: str) -> None:
    """sendChildInfoGeneric: measure copy-on-write (throttled to ~1% of the child's time)
    and report it with the keys processed so far."""
    srv = server
    w = srv.child_info_pipe[1]
    if w == -1:
        return
    st = _child_info_state
    now = time.monotonic()
    if info_type != CHILD_INFO_TYPE_CURRENT_INFO or not st["cow_updated"] or \
            now - st["cow_updated"] > st["cow_cost"] * CHILD_COW_DUTY_CYCLE:
        cow = zmalloc_get_private_dirty()
        st["cow_updated"] = time.monotonic()
        st["cow_cost"] = st["cow_updated"] - now
        st["cow"] = cow
        st["peak"] = max(st["peak"], cow)
        st["sum"] += cow
        st["count"] += 1
        cow_info = info_type != CHILD_INFO_TYPE_CURRENT_INFO
        if cow or cow_info:
            msg = "Fork CoW for %s: current %d MB, peak %d MB, average %d MB" % (
                pname, cow >> 20, st["peak"] >> 20, (st["sum"] // st["count"]) >> 20)
            if cow_info:
                srv.log_notice(msg)
            else:
                srv.log_verbose(msg)
    data = _CHILD_INFO.pack(info_type, keys, st["cow"], st["cow_updated"], progress)
    try:
        os.write(w, data)
    except OSError as e:
        srv.log_warning("Child failed reporting info to parent, exiting. %s" % e.strerror)
        exit_from_child(1)


def send_child_info(info_type: int, keys: int, pname: str) -> None:
    send_child_info_generic(info_type, keys, -1.0, pname)


def send_child_cow_info(info_type: int, pname: str) -> None:
    send_child_info_generic(info_type, 0, -1.0, pname)


def update_child_info(info_type: int, cow: int, cow_updated: float, keys: int,
                      progress: float) -> None:
    """updateChildInfo."""
    srv = server
    if cow > srv.stat_current_cow_peak:
        srv.stat_current_cow_peak = cow
    if info_type == CHILD_INFO_TYPE_CURRENT_INFO:
        srv.stat_current_cow_bytes = cow
        srv.stat_current_cow_updated = cow_updated
        srv.stat_current_save_keys_processed = keys
        if progress != -1:
            srv.stat_module_progress = progress
    elif info_type == CHILD_INFO_TYPE_AOF_COW_SIZE:
        srv.stat_aof_cow_bytes = srv.stat_current_cow_peak
    elif info_type == CHILD_INFO_TYPE_RDB_COW_SIZE:
        srv.stat_rdb_cow_bytes = srv.stat_current_cow_peak
    elif info_type == CHILD_INFO_TYPE_MODULE_COW_SIZE:
        srv.stat_module_cow_bytes = srv.stat_current_cow_peak


def receive_child_info() -> None:
    """receiveChildInfo: drain the pipe, applying every complete record."""
    srv = server
    r = srv.child_info_pipe[0]
    if r == -1:
        return
    buf = srv.child_info_nread
    while True:
        try:
            chunk = os.read(r, 4096)
        except BlockingIOError:
            break
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
    size = _CHILD_INFO.size
    while len(buf) >= size:
        t, keys, cow, cow_updated, progress = _CHILD_INFO.unpack_from(buf, 0)
        buf = buf[size:]
        update_child_info(t, cow, cow_updated, keys, progress)
    srv.child_info_nread = buf


def reset_child_state() -> None:
    """resetChildState."""
    srv = server
    srv.child_type = CHILD_TYPE_NONE
    srv.child_pid = -1
    srv.stat_current_cow_peak = 0
    srv.stat_current_cow_bytes = 0
    srv.stat_current_cow_updated = 0
    srv.stat_current_save_keys_processed = 0
    srv.stat_module_progress = 0
    srv.stat_current_save_keys_total = 0
    update_dict_resize_policy()
    close_child_info_pipe()


def check_children_done() -> None:
    """checkChildrenDone: reap a finished child and run its type's done handler."""
    srv = server
    pid = srv.child_pid
    if pid == -1:
        return
    try:
        wpid, status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError as e:
        srv.log_warning("waitpid() returned an error: %s. child_type: %d, child_pid = %d"
                        % (e.strerror, srv.child_type, pid))
        reset_child_state()
        return
    if wpid == 0:
        return
    exitcode = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
    bysignal = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    if exitcode == SERVER_CHILD_NOERROR_RETVAL:
        bysignal = signal.SIGUSR1
        exitcode = 1
    if srv.child_type == CHILD_TYPE_RDB:
        background_save_done_handler(exitcode, bysignal)
    else:
        handler = child_done_handlers.get(srv.child_type)
        if handler is not None:
            handler(exitcode, bysignal)
    if not bysignal and exitcode == 0:
        receive_child_info()
    reset_child_state()


def _background_save_done_handler_disk(exitcode: int, bysignal: int) -> None:
    """backgroundSaveDoneHandlerDisk."""
    srv = server
    if not bysignal and exitcode == 0:
        srv.log_notice("Background saving terminated with success")
        srv.dirty = srv.dirty - srv.dirty_before_bgsave
        srv.lastsave = int(time.time())
        srv.last_bgsave_ok = True
    elif not bysignal and exitcode != 0:
        srv.log_warning("Background saving error")
        srv.last_bgsave_ok = False
    else:
        srv.log_warning("Background saving terminated by signal %d" % bysignal)
        rdb_remove_temp_file(srv.child_pid)
        # SIGUSR1 is how the server itself stops a save: not an error.
        if bysignal != signal.SIGUSR1:
            srv.last_bgsave_ok = False
    srv.lastbgsave_status = srv.last_bgsave_ok


@probe("backgroundSaveDoneHandler")
def background_save_done_handler(exitcode: int, bysignal: int) -> None:
    """backgroundSaveDoneHandler: account for a finished BGSAVE child."""
    srv = server
    rdb_child_type = srv.rdb_child_type
    if rdb_child_type == RDB_CHILD_TYPE_SOCKET and socket_done_handler is not None:
        socket_done_handler(exitcode, bysignal)
    else:
        _background_save_done_handler_disk(exitcode, bysignal)
    srv.rdb_child_type = RDB_CHILD_TYPE_NONE
    srv.rdb_save_time_last = int(time.time()) - srv.rdb_save_time_start
    srv.rdb_save_time_start = -1
    hook = getattr(srv, "update_slaves_waiting_bgsave", None)
    if hook is not None:
        hook(not bysignal and exitcode == 0, rdb_child_type or RDB_CHILD_TYPE_DISK)


def kill_rdb_child() -> None:
    """killRDBChild: SIGUSR1 (not an error); check_children_done cleans up later."""
    try:
        os.kill(server.child_pid, signal.SIGUSR1)
    except OSError:
        pass


# --------------------------------------------------------------------------------------------
# Commands
# --------------------------------------------------------------------------------------------

def save_command(c) -> None:
    """SAVE: a synchronous rdbSave, refused while a BGSAVE child runs."""
    srv = server
    if srv.child_type == CHILD_TYPE_RDB:
        net.add_reply_error(c, "Background save already in progress")
        return
    srv.stat_rdb_saves += 1
    if rdb_save(srv.dbfilename, rdb_populate_save_info()):
        net.add_reply(c, shared.ok)
    else:
        net.add_reply_error_object(c, shared.err)


def bgsave_command(c) -> None:
    """BGSAVE [SCHEDULE]."""
    srv = server
    schedule = False
    if len(c.argv) > 1:
        if len(c.argv) == 2 and c.argv[1].lower() == b"schedule":
            schedule = True
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
    rsi = rdb_populate_save_info()
    if srv.child_type == CHILD_TYPE_RDB:
        net.add_reply_error(c, "Background save already in progress")
    elif srv.has_active_child_process() or srv.in_exec:
        if schedule or srv.in_exec:
            srv.rdb_bgsave_scheduled = True
            net.add_reply_status(c, "Background saving scheduled")
        else:
            net.add_reply_error(c, "Another child process is active (AOF?): can't BGSAVE right "
                                   "now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE "
                                   "whenever possible.")
    elif rdb_save_background(srv.dbfilename, rsi):
        net.add_reply_status(c, "Background saving started")
    else:
        net.add_reply_error_object(c, shared.err)


def lastsave_command(c) -> None:
    """LASTSAVE (server.c): unix time of the last successful save."""
    net.add_reply_long_long(c, server.lastsave)


# --------------------------------------------------------------------------------------------
# Server glue: serverCron, startup, shutdown, FLUSHALL
# --------------------------------------------------------------------------------------------

def rdb_cron(srv) -> None:
    """serverCron's persistence part: reap a finished child, else check the save points;
    then start a scheduled BGSAVE when possible."""
    if srv.has_active_child_process():
        receive_child_info()
        check_children_done()
    else:
        now = srv.unixtime
        for seconds, changes in srv.save:
            if srv.dirty >= changes and now - srv.lastsave > seconds and \
                    (now - srv.lastbgsave_try > CONFIG_BGSAVE_RETRY_DELAY or srv.last_bgsave_ok):
                srv.log_notice("%d changes in %d seconds. Saving..." % (changes, seconds))
                rdb_save_background(srv.dbfilename, rdb_populate_save_info())
                break
    if not srv.has_active_child_process() and srv.rdb_bgsave_scheduled and \
            (srv.unixtime - srv.lastbgsave_try > CONFIG_BGSAVE_RETRY_DELAY or
             srv.last_bgsave_ok):
        if rdb_save_background(srv.dbfilename, rdb_populate_save_info()):
            srv.rdb_bgsave_scheduled = False


@probe("loadDataFromDisk")
def load_data_from_disk(srv=None) -> None:
    """loadDataFromDisk's RDB half (aof.py loads instead when appendonly is on): a missing
    file is an empty dataset, any other failure stops the server with status 1."""
    srv = srv or server
    if srv.appendonly or srv.aof_state:
        return
    start = time.perf_counter()
    rsi = RdbSaveInfo()
    if rdb_load(srv.dbfilename, rsi, RDBFLAGS_NONE):
        srv.log_notice("DB loaded from disk: %.3f seconds" % (time.perf_counter() - start))
        srv.rdb_loaded_save_info = rsi
    elif last_error != "ENOENT":
        import errno

        code = getattr(errno, last_error, errno.EINVAL) if last_error else errno.EINVAL
        srv.log_warning("Fatal error loading the DB: %s. Exiting." % os.strerror(code))
        raise SystemExit(1)


def _startup_hook(srv) -> None:
    load_data_from_disk(srv)


def _shutdown_hook(srv, flags: int) -> bool:
    """prepareForShutdown's RDB part: stop a saving child, then the final SAVE when save
    points are configured (or SHUTDOWN SAVE), unless NOSAVE.  False aborts the shutdown."""
    from tracered import server_cmds

    if srv.child_type == CHILD_TYPE_RDB:
        srv.log_warning("There is a child saving an .rdb. Killing it!")
        kill_rdb_child()
        rdb_remove_temp_file(srv.child_pid)
    save = bool(flags & server_cmds.SHUTDOWN_SAVE)
    nosave = bool(flags & server_cmds.SHUTDOWN_NOSAVE)
    force = bool(flags & server_cmds.SHUTDOWN_FORCE)
    if not flags and srv.shutdown_asap:
        # A signal: shutdown-on-sigint / shutdown-on-sigterm decides.
        which = "shutdown_on_sigint" if getattr(srv, "shutdown_signal", "") == "SIGINT" \
            else "shutdown_on_sigterm"
        words = str(getattr(srv, which, "default")).split()
        save = "save" in words
        nosave = "nosave" in words
        force = "force" in words
    if (srv.save and not nosave) or save:
        srv.log_notice("Saving the final RDB snapshot before exiting.")
        if not rdb_save(srv.dbfilename, rdb_populate_save_info()):
            if force:
                srv.log_warning("Error trying to save the DB. Exit anyway.")
            else:
                srv.log_warning("Error trying to save the DB, can't exit.")
                return False
    return True


def _flush_all_hook(flags: int) -> None:
    """flushAllDataAndResetRDB's RDB part: a running save would resurrect the flushed data,
    so it is stopped; with save points the empty dataset is written at once."""
    srv = server
    if srv.child_type == CHILD_TYPE_RDB:
        kill_rdb_child()
    if srv.save:
        rdb_save(srv.dbfilename, rdb_populate_save_info())


def _init_state(srv) -> None:
    """The persistence fields of redisServer, with initServer's values."""
    defaults = {
        "dirty_before_bgsave": 0, "lastbgsave_try": 0, "lastbgsave_status": True,
        "rdb_bgsave_scheduled": False, "rdb_child_type": RDB_CHILD_TYPE_NONE,
        "rdb_save_time_last": -1, "rdb_save_time_start": -1, "stat_rdb_saves": 0,
        "stat_rdb_cow_bytes": 0, "stat_current_cow_peak": 0, "stat_current_cow_bytes": 0,
        "stat_current_cow_updated": 0, "stat_current_save_keys_processed": 0,
        "stat_current_save_keys_total": 0, "stat_module_progress": 0,
        "stat_total_forks": 0, "stat_fork_time": 0, "in_fork_child": CHILD_TYPE_NONE,
        "loading_start_time": 0, "loading_total_bytes": 0, "loading_rdb_used_mem": 0,
        "loading_loaded_bytes": 0, "async_loading": False, "rdb_last_load_keys_expired": 0,
        "rdb_last_load_keys_loaded": 0, "stat_dump_payload_sanitizations": 0,
        "child_info_nread": b"", "rdb_loaded_save_info": None,
    }
    for k, v in defaults.items():
        if not hasattr(srv, k):
            setattr(srv, k, v)
    if not hasattr(srv, "child_info_pipe"):
        srv.child_info_pipe = [-1, -1]


def init(srv) -> None:
    """Called by initServer: state, the serverCron part, startup load, shutdown and
    FLUSHALL hooks."""
    from tracered import db as dbmod

    _init_state(srv)
    if rdb_cron not in srv.cron_hooks:
        srv.cron_hooks.append(rdb_cron)
    if _startup_hook not in srv.startup_hooks:
        # Load before anything else that runs at startup (the debugger, tracing): Redis
        # loads the dataset right after initServer.
        srv.startup_hooks.insert(0, _startup_hook)
    if _shutdown_hook not in srv.shutdown_hooks:
        srv.shutdown_hooks.append(_shutdown_hook)
    if _flush_all_hook not in dbmod.flush_all_hooks:
        dbmod.flush_all_hooks.append(_flush_all_hook)


_init_state(server)


COMMANDS = [
    cmd("save", save_command, 1, "admin noscript no_async_loading no_multi", group="server",
        complexity="O(N) where N is the total number of keys in all databases",
        summary="Synchronously save the dataset to disk"),
    cmd("bgsave", bgsave_command, -1, "admin noscript no_async_loading", group="server",
        summary="Asynchronously save the dataset to disk", args="[SCHEDULE]"),
    cmd("lastsave", lastsave_command, 1, "loading stale fast", acl="admin dangerous",
        group="server", tips="nondeterministic_output",
        summary="Get the UNIX time stamp of the last successful save to disk"),
]
COMMANDS[1].history = [("3.2.2", "Added the `SCHEDULE` option.")]
