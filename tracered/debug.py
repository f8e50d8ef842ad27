"""DEBUG: the mirror of debug.c (debugCommand and the DEBUG DIGEST machinery).

DEBUG is Redis's grab bag of introspection and fault-injection subcommands.  It is
``protected`` (processCommand refuses it unless ``enable-debug-command`` is ``yes``, or
``local`` and the client is local) and ``admin``.  The subcommands here are the ones that make
sense for a Python server, with debug.c's argument counts and reply texts:

    HELP                         debug.c's help lines (a jemalloc build's, like Debian's)
    OBJECT key                   "Value at:0x... refcount:N encoding:E serializedlength:N
                                 lru:N lru_seconds_idle:N" (+ ql_* fields for quicklists)
    DIGEST / DIGEST-VALUE key..  SHA1 dataset / value digests, equal to real Redis's
    HTSTATS dbid / HTSTATS-KEY   dict.c's dictGetStats text of a db or of a value's dict
    SLEEP seconds                blocks the whole server, like nanosleep() in Redis
    SET-ACTIVE-EXPIRE 0|1        turn the active expire cycle off/on
    POPULATE count [prefix] [size]   create key:N -> value:N string keys
    PROTOCOL type                one sample reply of each RESP2/RESP3 type
    LISTPACK key / QUICKLIST key [0|1]   dump an encoding to the log
    QUICKLIST-PACKED-THRESHOLD size, CHANGE-REPL-ID, LOG msg, ERROR msg, LEAK str,
    STRINGMATCH-TEST, RELOAD [MERGE|NOFLUSH|NOSAVE], SET-SKIP-CHECKSUM-VALIDATION,
    AOF-FLUSH-SLEEP, SET-DISABLE-DENY-SCRIPTS, PAUSE-CRON, REPLYBUFFER

Digests: debug.c's xorDigest/mixDigest/xorObjectDigest/computeDatasetDigest live in
``tracered/digest.py``, which works on plain Python data.  This module feeds it: each type
module registers ``object.digest_value_funcs[OBJ_*] = fn(o) -> plain value`` (list of
elements, (field, value) pairs, (member, score) pairs ...); strings fall back to
``object.string_bytes``.  Like Redis, digests read the keyspace directly (dictFind, not
lookupKey), so logically expired keys still count, with their "!!expire!!" mark.

Divergence:
- SEGFAULT, PANIC, ASSERT, OOM, RESTART, CRASH-AND-RECOVER, MALLCTL*, SDSLEN, STRUCTSIZE,
  CLIENT-EVICTION, CLUSTERLINK, DROP-CLUSTER-PACKET-FILTER, LOADAOF, REPLICATE and
  CONFIG-REWRITE-FORCE-ALL are not implemented: they crash the process on purpose or report
  C memory layouts that a Python server does not have.  They get debug.c's
  "unknown subcommand" error.
- OBJECT's serializedlength is rdbSavedObjectLen when tracered/rdb.py provides
  ``rdb_saved_object_len``; otherwise it is computed here with rdb.c's encoding rules
  (integer encodings, LZF for strings over 20 bytes when rdbcompression is on, raw listpack /
  intset blobs, quicklist nodes, dict-encoded hashes/sets/zsets): exact for those encodings
  (up to LZF's own nondeterminism, which Redis shares); for other encodings (streams, module
  types) an estimate from the value's plain form (length prefixes + element strings).
- HELP lists every subcommand of a jemalloc build (the reference, Debian's redis-server),
  including the unimplemented ones above.
- HTSTATS and HTSTATS-KEY accept 7.2's optional FULL argument; without it they still print
  7.0.15's full text (7.0.15 has no short form).
- STRINGMATCH-LEN (7.2's name) is accepted as well as 7.0.15's STRINGMATCH-TEST; the fuzz
  test runs at most 2,000 random cases (1 s) instead of 10,000,000 (a pure-Python matcher).
- JMAP is accepted and replies OK (there is no jemalloc heap map to dump).
- RELOAD needs tracered/rdb.py (``rdb_save`` / ``rdb_load``); without it the reply is
  "-ERR DEBUG RELOAD is not supported yet: ...".
- LISTPACK / QUICKLIST write their dump to the server log (Redis prints to stdout, which is
  the log when no logfile is set).
"""

from __future__ import annotations

import math
import random
import re
import time

from tracered import db as dbmod
from tracered import digest as digestmod
from tracered import networking as net
from tracered import object as obj
from tracered import shared, util
from tracered.commands import cmd
from tracered.server import server
from tracered.trace.probes import probe

# --------------------------------------------------------------------------------------------
# DEBUG DIGEST glue: robj -> digest.py's plain data (xorObjectDigest / computeDatasetDigest)
# --------------------------------------------------------------------------------------------


def _plain_value(o: obj.RObj):
    """The value of ``o`` in digest.py's plain form: the type's registered hook, else a
    reading of the standard encodings (so DEBUG DIGEST works before every type module
    registers its hook).  LookupError when neither applies."""
    fn = obj.digest_value_funcs.get(o.type)
    if fn is not None:
        return fn(o)
    t, enc, p = o.type, o.encoding, o.ptr
    if t == obj.OBJ_STRING:
        return obj.string_bytes(o)
    if enc == obj.OBJ_ENCODING_LISTPACK:
        from tracered.listpack import lp_to_list

        items = lp_to_list(p)
        if t == obj.OBJ_HASH:
            return list(zip(items[0::2], items[1::2], strict=True))
        if t == obj.OBJ_ZSET:
            # zzlGetScore: an integer score reads back as that integer as a double.
            return [(m, float(sc)) for m, sc in zip(items[0::2], items[1::2], strict=True)]
        return items
    if enc == obj.OBJ_ENCODING_INTSET:
        from tracered.intset import intset_to_list

        return intset_to_list(p)
    if enc == obj.OBJ_ENCODING_QUICKLIST:
        return list(p)
    if enc == obj.OBJ_ENCODING_HT and hasattr(p, "iterator"):
        if t == obj.OBJ_HASH:
            return [(de.key, de.val) for de in p.iterator(False)]
        return [de.key for de in p.iterator(False)]
    if enc == obj.OBJ_ENCODING_SKIPLIST and hasattr(getattr(p, "dict", None), "iterator"):
        return [(de.key, de.val) for de in p.dict.iterator(False)]
    raise LookupError(f"no digest hook registered for type "
                      f"'{obj.TYPE_NAMES.get(t, t)}' (encoding "
                      f"'{obj.str_encoding(enc)}')")


def _db_expire(db, key: bytes) -> int:
    """getExpire without expiring anything: the absolute ms time or -1."""
    e = db.expires
    if not (e.ht_used[0] or e.ht_used[1]):
        return -1
    de = e.find(key)
    return -1 if de is None else de.val


def _db_keys(db):
    """Every (key, type, plain value, expire) of one db, for digest.py."""
    names = obj.TYPE_NAMES
    for de in db.dict.iterator(True):
        o = de.val
        yield de.key, names[o.type], _plain_value(o), _db_expire(db, de.key)


@probe("computeDatasetDigest")
def compute_dataset_digest() -> str:
    """computeDatasetDigest: DEBUG DIGEST's 40 hex chars over every db (empty db skipped)."""
    return digestmod.compute_dataset_digest(
        (db.id, _db_keys(db)) for db in server.db if len(db.dict))


@probe("xorObjectDigest")
def object_digest(db, key: bytes) -> str:
    """DEBUG DIGEST-VALUE for one key: type + value + TTL mark, not the key name; 40 zeros
    when the key does not exist (expired-but-present keys do)."""
    de = db.dict.find(key)
    if de is None:
        return "0" * 40
    o = de.val
    return digestmod.digest_value(obj.TYPE_NAMES[o.type], _plain_value(o), _db_expire(db, key))


# --------------------------------------------------------------------------------------------
# rdbSavedObjectLen (DEBUG OBJECT's serializedlength)
# --------------------------------------------------------------------------------------------

def _rdb_len_len(n: int) -> int:
    """rdbSaveLen: bytes of an RDB length prefix."""
    if n < 1 << 6:
        return 1
    if n < 1 << 14:
        return 2
    if n <= 0xFFFFFFFF:
        return 5
    return 9


def _rdb_int_len(v: int) -> int:
    """rdbEncodeInteger: 2, 3 or 5 bytes, or 0 when v does not fit in 32 bits."""
    if -(1 << 7) <= v <= (1 << 7) - 1:
        return 2
    if -(1 << 15) <= v <= (1 << 15) - 1:
        return 3
    if -(1 << 31) <= v <= (1 << 31) - 1:
        return 5
    return 0


def _rdb_raw_string_len(s: bytes | bytearray) -> int:
    """rdbSaveRawString: integer encoding for short canonical ints, LZF when it saves at
    least 4 bytes (strings over 20 bytes, rdbcompression on), else length + bytes."""
    n = len(s)
    if n <= 11:
        v = obj.parse_long_long(bytes(s))
        if v is not None:
            enc = _rdb_int_len(v)
            if enc:
                return enc
    if n > 20 and getattr(server, "rdbcompression", True):
        from tracered.lzf import lzf_compress

        comp = lzf_compress(s, n - 4)
        if comp:
            return 1 + _rdb_len_len(len(comp)) + _rdb_len_len(n) + len(comp)
    return _rdb_len_len(n) + n


def _rdb_string_object_len(o: obj.RObj) -> int:
    """rdbSaveStringObject."""
    if o.encoding == obj.OBJ_ENCODING_INT:
        enc = _rdb_int_len(o.ptr)
        if enc:
            return enc
        s = b"%d" % o.ptr
        return _rdb_len_len(len(s)) + len(s)
    return _rdb_raw_string_len(o.ptr)


def _as_bytes(v) -> bytes:
    return b"%d" % v if isinstance(v, int) else bytes(v)


def _rdb_dict_len(o: obj.RObj) -> int:
    """A dict-encoded hash (field, value), set (member) or zset (member + 8-byte score)."""
    d = o.ptr
    if o.type == obj.OBJ_ZSET:
        d = getattr(d, "dict", d)
        total = _rdb_len_len(len(d))
        for de in d.iterator(False):
            total += _rdb_raw_string_len(_as_bytes(de.key)) + 8
        return total
    total = _rdb_len_len(len(d))
    for de in d.iterator(False):
        total += _rdb_raw_string_len(_as_bytes(de.key))
        if o.type == obj.OBJ_HASH:
            total += _rdb_raw_string_len(_as_bytes(de.val))
    return total


def _rdb_quicklist_len(ql) -> int:
    """A quicklist: node count, then per node its container and its (maybe LZF) blob."""
    from tracered import quicklist as qlmod

    total = _rdb_len_len(ql.len)
    node = ql.head
    while node is not None:
        total += _rdb_len_len(node.container)
        if node.encoding == qlmod.QUICKLIST_NODE_ENCODING_LZF:
            clen = len(node.entry)
            total += 1 + _rdb_len_len(clen) + _rdb_len_len(node.sz) + clen
        else:
            total += _rdb_raw_string_len(node.entry)
        node = node.next
    return total


def _rdb_estimate_len(o: obj.RObj) -> int:
    """Streams, module types and unknown layouts: length prefixes + element strings."""
    try:
        value = _plain_value(o)
    except LookupError:
        return 0
    total = 1
    if isinstance(value, dict):
        value = value.items()
    for item in value:
        parts = item if isinstance(item, tuple) else (item,)
        for p in parts:
            if isinstance(p, (bytes, bytearray, int)):
                total += _rdb_raw_string_len(_as_bytes(p))
            elif isinstance(p, float):
                total += 8
            else:  # a stream entry's fields
                for f, v in p:
                    total += _rdb_raw_string_len(_as_bytes(f)) + _rdb_raw_string_len(
                        _as_bytes(v))
    return total


def rdb_saved_object_len(o: obj.RObj, key: bytes, dbid: int) -> int:
    """rdbSavedObjectLen: the bytes rdbSaveObject would write for ``o`` (see the module
    docstring for when this is exact)."""
    try:
        from tracered import rdb as rdbmod
    except ImportError:
        rdbmod = None
    fn = getattr(rdbmod, "rdb_saved_object_len", None) if rdbmod is not None else None
    if fn is not None:
        return fn(o, key, dbid)
    enc = o.encoding
    if o.type == obj.OBJ_STRING:
        return _rdb_string_object_len(o)
    try:
        if enc in (obj.OBJ_ENCODING_LISTPACK, obj.OBJ_ENCODING_INTSET, obj.OBJ_ENCODING_ZIPLIST):
            return _rdb_raw_string_len(o.ptr)
        if enc == obj.OBJ_ENCODING_QUICKLIST:
            return _rdb_quicklist_len(o.ptr)
        if enc in (obj.OBJ_ENCODING_HT, obj.OBJ_ENCODING_SKIPLIST):
            return _rdb_dict_len(o)
    except (AttributeError, TypeError):
        pass  # a layout this estimator does not know: fall through to the estimate
    return _rdb_estimate_len(o)


# --------------------------------------------------------------------------------------------
# Small C-library parsers DEBUG uses on its arguments
# --------------------------------------------------------------------------------------------

_ATOI = re.compile(rb"[ \t\n\v\f\r]*([+-]?[0-9]+)")
_STRTOD = re.compile(
    rb"[ \t\n\v\f\r]*([+-]?(?:0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)"
    rb"(?:[pP][+-]?[0-9]+)?|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
    rb"|inf(?:inity)?|nan))", re.IGNORECASE)


def _atoi(s: bytes) -> int:
    """atoi(): the leading integer of s, 0 when there is none (clamped to a C int)."""
    m = _ATOI.match(s)
    if m is None:
        return 0
    v = int(m.group(1))
    return max(-(2**31), min(2**31 - 1, v))


def _strtod(s: bytes) -> float:
    """strtod(s, NULL): the longest leading float of s (hex floats, inf, nan), else 0."""
    m = _STRTOD.match(s)
    if m is None:
        return 0.0
    t = m.group(1)
    if b"x" in t.lower() and b"n" not in t.lower():  # hex float ("inf"/"nan" have no 'x')
        sign = -1.0 if t[:1] == b"-" else 1.0
        body = t.lstrip(b"+-")
        if b"p" not in body.lower():
            body += b"p0"
        try:
            return sign * float.fromhex(body.decode())
        except (ValueError, OverflowError):
            return 0.0
    try:
        return float(t)
    except ValueError:
        return 0.0


# --------------------------------------------------------------------------------------------
# debugCommand
# --------------------------------------------------------------------------------------------

DEBUG_HELP = [
    "AOF-FLUSH-SLEEP <microsec>",
    "    Server will sleep before flushing the AOF, this is used for testing.",
    "ASSERT",
    "    Crash by assertion failed.",
    "CHANGE-REPL-ID",
    "    Change the replication IDs of the instance.",
    "    Dangerous: should be used only for testing the replication subsystem.",
    "CONFIG-REWRITE-FORCE-ALL",
    "    Like CONFIG REWRITE but writes all configuration options, including",
    "    keywords not listed in original configuration file or default values.",
    "CRASH-AND-RECOVER [<milliseconds>]",
    "    Hard crash and restart after a <milliseconds> delay (default 0).",
    "DIGEST",
    "    Output a hex signature representing the current DB content.",
    "DIGEST-VALUE <key> [<key> ...]",
    "    Output a hex signature of the values of all the specified keys.",
    "ERROR <string>",
    "    Return a Redis protocol error with <string> as message. Useful for clients",
    "    unit tests to simulate Redis errors.",
    "LEAK <string>",
    "    Create a memory leak of the input string.",
    "LOG <message>",
    "    Write <message> to the server log.",
    "HTSTATS <dbid>",
    "    Return hash table statistics of the specified Redis database.",
    "HTSTATS-KEY <key>",
    "    Like HTSTATS but for the hash table stored at <key>'s value.",
    "LOADAOF",
    "    Flush the AOF buffers on disk and reload the AOF in memory.",
    "REPLICATE <string>",
    "    Replicates the provided string to replicas, allowing data divergence.",
    "MALLCTL <key> [<val>]",
    "    Get or set a malloc tuning integer.",
    "MALLCTL-STR <key> [<val>]",
    "    Get or set a malloc tuning string.",
    "OBJECT <key>",
    "    Show low level info about `key` and associated value.",
    "DROP-CLUSTER-PACKET-FILTER <packet-type>",
    "    Drop all packets that match the filtered type. Set to -1 allow all packets.",
    "OOM",
    "    Crash the server simulating an out-of-memory error.",
    "PANIC",
    "    Crash the server simulating a panic.",
    "POPULATE <count> [<prefix>] [<size>]",
    "    Create <count> string keys named key:<num>. If <prefix> is specified then",
    "    it is used instead of the 'key' prefix. These are not propagated to",
    "    replicas. Cluster slots are not respected so keys not belonging to the",
    "    current node can be created in cluster mode.",
    "PROTOCOL <type>",
    "    Reply with a test value of the specified type. <type> can be: string,",
    "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    "    true, false.",
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Valid <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    "RESTART [<milliseconds>]",
    "    Graceful restart: save config, db, restart after a <milliseconds> delay (default 0).",
    "SDSLEN <key>",
    "    Show low level SDS string info representing `key` and value.",
    "SEGFAULT",
    "    Crash the server with sigsegv.",
    "SET-ACTIVE-EXPIRE <0|1>",
    "    Setting it to 0 disables expiring keys in background when they are not",
    "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    "    default.",
    "QUICKLIST-PACKED-THRESHOLD <size>",
    "    Sets the threshold for elements to be inserted as plain vs packed nodes",
    "    Default value is 1GB, allows values up to 4GB. Setting to 0 restores to default.",
    "SET-SKIP-CHECKSUM-VALIDATION <0|1>",
    "    Enables or disables checksum checks for RDB files and RESTORE's payload.",
    "SLEEP <seconds>",
    "    Stop the server for <seconds>. Decimals allowed.",
    "STRINGMATCH-TEST",
    "    Run a fuzz tester against the stringmatchlen() function.",
    "STRUCTSIZE",
    "    Return the size of different Redis core C structures.",
    "LISTPACK <key>",
    "    Show low level info about the listpack encoding of <key>.",
    "QUICKLIST <key> [<0|1>]",
    "    Show low level info about the quicklist encoding of <key>.",
    "    The optional argument (0 by default) sets the level of detail",
    "CLIENT-EVICTION",
    "    Show low level client eviction pools info (maxmemory-clients).",
    "PAUSE-CRON <0|1>",
    "    Stop periodic cron job processing.",
    "REPLYBUFFER PEAK-RESET-TIME <NEVER||RESET|time>",
    "    Sets the time (in milliseconds) to wait between client reply buffer peak resets.",
    "    In case NEVER is provided the last observed peak will never be reset",
    "    In case RESET is provided the peak reset time will be restored to the default value",
    "REPLYBUFFER RESIZING <0|1>",
    "    Enable or disable the reply buffer resize cron job",
    "CLUSTERLINK KILL <to|from|all> <node-id>",
    "    Kills the link based on the direction to/from (both) with the provided node.",
]

PROTOCOL_TYPES_ERR = ("Wrong protocol type name. Please use one of the following: "
                      "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|"
                      "true|false")
QUICKLIST_THRESHOLD_ERR = "argument must be a memory value bigger than 1 and smaller than 4gb"
NOT_HT_ERR = "The value stored at the specified key is not represented using an hash table"
# A pure-Python matcher runs ~4000 random cases a second: stop after a bounded count or time.
STRINGMATCH_FUZZ_CYCLES = 2000
STRINGMATCH_FUZZ_SECONDS = 1.0


def _status_hex(c: net.Client, hexdigest: str) -> None:
    net.add_reply(c, b"+" + hexdigest.encode() + b"\r\n")


def _object_lookup_or_reply(c: net.Client, key: bytes) -> obj.RObj | None:
    """objectCommandLookupOrReply: a read lookup that neither touches the LRU nor notifies."""
    o = dbmod.lookup_key(c.db, key, dbmod.LOOKUP_NOTOUCH | dbmod.LOOKUP_NONOTIFY)
    if o is None:
        net.add_reply_error_object(c, shared.nokeyerr)
    return o


def _positive_long_or_reply(c: net.Client, arg: bytes) -> int | None:
    """getPositiveLongFromObjectOrReply: one message for "not a number" and "negative"."""
    v = obj.parse_long_long(arg)
    if v is None or v < 0:
        net.add_reply_error(c, "value is out of range, must be positive")
        return None
    return v


def _log_dump(title: str, text: str) -> None:
    server.log_notice(f"{title}\n{text.rstrip()}")


def _estimate_idle_ms(o: obj.RObj) -> int:
    """estimateObjectIdleTime: ms since the object's LRU clock, wrapping the 24-bit clock."""
    now = obj.lru_clock
    if now >= o.lru:
        return (now - o.lru) * obj.LRU_CLOCK_RESOLUTION
    return (now + (obj.LRU_CLOCK_MAX - o.lru)) * obj.LRU_CLOCK_RESOLUTION


def debug_object(c: net.Client) -> None:
    """DEBUG OBJECT key: reads the dict directly, so an expired-but-present key is shown."""
    key = c.argv[2]
    de = c.db.dict.find(key)
    if de is None:
        net.add_reply_error_object(c, shared.nokeyerr)
        return
    val = de.val
    extra = ""
    if val.encoding == obj.OBJ_ENCODING_QUICKLIST:
        ql = val.ptr
        size = 0
        node = ql.head
        while node is not None:
            size += node.sz
            node = node.next
        avg = ql.count / ql.len if ql.len else float("nan")
        extra = (f" ql_nodes:{ql.len} ql_avg_node:{avg:.2f} ql_listpack_max:{ql.fill} "
                 f"ql_compressed:{int(ql.compress != 0)} ql_uncompressed_size:{size}")
    net.add_reply_status(
        c, f"Value at:0x{id(val):x} refcount:{val.refcount} "
           f"encoding:{obj.str_encoding(val.encoding)} "
           f"serializedlength:{rdb_saved_object_len(val, key, c.db.id)} "
           f"lru:{val.lru} lru_seconds_idle:{_estimate_idle_ms(val) // 1000}{extra}")


def debug_populate(c: net.Client) -> None:
    """DEBUG POPULATE count [prefix] [size]: key:N -> value:N (embstr/raw, never int), keys
    that exist are skipped; size pads with zero bytes or truncates the value."""
    argv = c.argv
    count = _positive_long_or_reply(c, argv[2])
    if count is None:
        return
    db = c.db
    db.dict.try_expand(count)  # like dictExpand, a failed allocation is not fatal
    valsize = 0
    if len(argv) == 5:
        valsize = _positive_long_or_reply(c, argv[4])
        if valsize is None:
            return
    # The C code formats into a 128-byte buffer from a C string: NUL ends the prefix and the
    # key is cut to 127 bytes.
    prefix = b"key" if len(argv) == 3 else argv[3].split(b"\0", 1)[0]
    for j in range(count):
        key = (b"%s:%d" % (prefix, j))[:127]
        if dbmod.lookup_key_write(db, key) is not None:
            continue
        value = b"value:%d" % j
        if valsize:
            value = value[:valsize].ljust(valsize, b"\0")
        dbmod.db_add(db, key, obj.create_string_object(value))
        dbmod.signal_modified_key(c, db, key)
    net.add_reply(c, shared.ok)


def debug_digest_value(c: net.Client) -> None:
    try:
        digests = [object_digest(c.db, key) for key in c.argv[2:]]
    except LookupError as e:
        net.add_reply_error(c, f"DEBUG DIGEST-VALUE: {e}")
        return
    net.add_reply_array_len(c, len(digests))
    for d in digests:
        _status_hex(c, d)


def debug_protocol(c: net.Client) -> None:
    """DEBUG PROTOCOL type: one sample of each reply type, downgraded for RESP2 clients."""
    name = c.argv[2].lower()
    if name == b"string":
        net.add_reply_bulk(c, b"Hello World")
    elif name == b"integer":
        net.add_reply_long_long(c, 12345)
    elif name == b"double":
        net.add_reply_double(c, 3.141)
    elif name == b"bignum":
        num = b"1234567999999999999999999999999999999"
        if c.resp == 2:
            net.add_reply_bulk(c, num)
        else:
            net.add_reply(c, b"(" + num + b"\r\n")
    elif name == b"null":
        net.add_reply_null(c)
    elif name == b"array":
        net.add_reply_array_len(c, 3)
        for j in range(3):
            net.add_reply_long_long(c, j)
    elif name == b"set":
        net.add_reply_set_len(c, 3)
        for j in range(3):
            net.add_reply_long_long(c, j)
    elif name == b"map":
        net.add_reply_map_len(c, 3)
        for j in range(3):
            net.add_reply_long_long(c, j)
            net.add_reply_bool(c, j == 1)
    elif name == b"attrib":
        if c.resp >= 3:
            net.add_reply_attribute_len(c, 1)
            net.add_reply_bulk(c, b"key-popularity")
            net.add_reply_array_len(c, 2)
            net.add_reply_bulk(c, b"key:123")
            net.add_reply_long_long(c, 90)
        net.add_reply_bulk(c, b"Some real reply following the attribute")
    elif name == b"push":
        if c.resp < 3:
            net.add_reply_error(c, "RESP2 is not supported by this command")
            return
        net.add_reply_push_len(c, 2)
        net.add_reply_bulk(c, b"server-cpu-usage")
        net.add_reply_long_long(c, 42)
        net.add_reply_bulk(c, b"Some real reply following the push reply")
    elif name == b"true":
        net.add_reply_bool(c, True)
    elif name == b"false":
        net.add_reply_bool(c, False)
    elif name == b"verbatim":
        net.add_reply_verbatim(c, b"This is a verbatim\nstring", b"txt")
    else:
        net.add_reply_error(c, PROTOCOL_TYPES_ERR)


def _ht_stats_full_arg(c: net.Client) -> bool | None:
    """The optional 7.2 FULL argument; None (after a syntax error reply) for anything else."""
    if len(c.argv) == 4:
        if c.argv[3].lower() != b"full":
            net.add_reply_subcommand_syntax_error(c)
            return None
    return True


def debug_htstats(c: net.Client) -> None:
    full = _ht_stats_full_arg(c)
    if full is None:
        return
    dbid = obj.parse_long_long(c.argv[2])
    if dbid is None:
        net.add_reply_error(c, shared.NOT_INTEGER)
        return
    if dbid < 0 or dbid >= len(server.db):
        net.add_reply_error(c, "Out of range database")
        return
    db = server.db[dbid]
    text = ("[Dictionary HT]\n" + db.dict.stats(full) + "[Expires HT]\n" +
            db.expires.stats(full))
    net.add_reply_verbatim(c, text.encode(), b"txt")


def debug_htstats_key(c: net.Client) -> None:
    full = _ht_stats_full_arg(c)
    if full is None:
        return
    o = _object_lookup_or_reply(c, c.argv[2])
    if o is None:
        return
    ht = None
    if o.encoding == obj.OBJ_ENCODING_SKIPLIST:
        ht = getattr(o.ptr, "dict", None)
    elif o.encoding == obj.OBJ_ENCODING_HT:
        ht = o.ptr
    stats = getattr(ht, "stats", None)
    if stats is None:
        net.add_reply_error(c, NOT_HT_ERR)
        return
    net.add_reply_verbatim(c, stats(full).encode(), b"txt")


def debug_sleep(c: net.Client) -> None:
    """DEBUG SLEEP seconds: stop the whole server (strtod() seconds, microsecond grain)."""
    seconds = _strtod(c.argv[2])
    if math.isfinite(seconds) and seconds > 0:
        usec = int(seconds * 1_000_000)
        if usec > 0:
            time.sleep(usec / 1_000_000)
    net.add_reply(c, shared.ok)


def debug_reload(c: net.Client) -> None:
    """DEBUG RELOAD [MERGE|NOFLUSH|NOSAVE]: save, flush, load back (needs rdb.py)."""
    flush, save, merge = True, True, False
    for opt in c.argv[2:]:
        o = opt.lower()
        if o == b"merge":
            merge = True
        elif o == b"noflush":
            flush = False
        elif o == b"nosave":
            save = False
        else:
            net.add_reply_error(c, "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE "
                                   "options.")
            return
    try:
        from tracered import rdb as rdbmod
    except ImportError:
        rdbmod = None
    rdb_save = getattr(rdbmod, "rdb_save", None)
    rdb_load = getattr(rdbmod, "rdb_load", None)
    if rdb_save is None or rdb_load is None:
        net.add_reply_error(c, "DEBUG RELOAD is not supported yet: this build has no RDB "
                               "persistence (tracered/rdb.py)")
        return
    import os

    path = os.path.join(getattr(server, "dir", "") or "", server.dbfilename)
    if save and rdb_save(path) is False:
        net.add_reply_error_object(c, shared.err)
        return
    if flush:
        dbmod.empty_data(-1)
    ok = rdb_load(path, merge=merge) if merge else rdb_load(path)
    if ok is False:
        net.add_reply_error(c, "Error trying to load the RDB dump")
        return
    server.log_warning("DB reloaded by DEBUG RELOAD")
    net.add_reply(c, shared.ok)


def debug_change_repl_id(c: net.Client) -> None:
    """changeReplicationId + clearReplicationId2 (replication.py's own when it has them)."""
    server.log_warning("Changing replication IDs after receiving DEBUG change-repl-id")
    try:
        from tracered import replication as repl
    except ImportError:
        repl = None
    change = getattr(repl, "change_replication_id", None)
    clear2 = getattr(repl, "clear_replication_id2", None)
    if change is not None:
        change()
    else:
        server.replid = util.get_random_hex_chars(40)
    if clear2 is not None:
        clear2()
    else:
        server.replid2 = "0" * 40
        server.second_replid_offset = -1
    net.add_reply(c, shared.ok)


def debug_listpack(c: net.Client) -> None:
    o = _object_lookup_or_reply(c, c.argv[2])
    if o is None:
        return
    if o.encoding != obj.OBJ_ENCODING_LISTPACK:
        net.add_reply_error(c, "Not a listpack encoded object.")
        return
    from tracered.listpack import lp_repr

    _log_dump(f"DEBUG LISTPACK {c.argv[2].decode(errors='replace')}:", lp_repr(o.ptr))
    net.add_reply_status(c, "Listpack structure printed on stdout")


def debug_quicklist(c: net.Client) -> None:
    o = _object_lookup_or_reply(c, c.argv[2])
    if o is None:
        return
    full = _atoi(c.argv[3]) if len(c.argv) == 4 else 0
    if o.encoding != obj.OBJ_ENCODING_QUICKLIST:
        net.add_reply_error(c, "Not a quicklist encoded object.")
        return
    from tracered.quicklist import quicklist_repr

    _log_dump(f"DEBUG QUICKLIST {c.argv[2].decode(errors='replace')}:",
              quicklist_repr(o.ptr, bool(full)))
    net.add_reply_status(c, "Quicklist structure printed on stdout")


def debug_quicklist_packed_threshold(c: net.Client) -> None:
    from tracered.quicklist import quicklist_is_set_packed_threshold

    sz, err = util.memtoull(c.argv[2])
    if err or not quicklist_is_set_packed_threshold(sz):
        net.add_reply_error(c, QUICKLIST_THRESHOLD_ERR)
    else:
        net.add_reply(c, shared.ok)


def debug_stringmatch_test(c: net.Client) -> None:
    """stringmatchlen_fuzz_test: random patterns against random strings must not hang or
    crash the matcher (bounded cycles, see the module docstring)."""
    rnd = random.Random()
    match = util.string_match_len
    deadline = time.monotonic() + STRINGMATCH_FUZZ_SECONDS
    for _ in range(STRINGMATCH_FUZZ_CYCLES):
        if time.monotonic() > deadline:
            break
        s = bytes(rnd.randrange(128) for _ in range(rnd.randrange(32)))
        p = bytes(rnd.randrange(128) for _ in range(rnd.randrange(32)))
        match(p, s, False)
    net.add_reply_status(c, "Apparently Redis did not crash: test passed")


def debug_error(c: net.Client) -> None:
    """DEBUG ERROR string: the string verbatim as an error line (no ERR prefix added)."""
    text = c.argv[2].replace(b"\r", b" ").replace(b"\n", b" ")
    net.add_reply(c, b"-" + text + b"\r\n")


def debug_replybuffer(c: net.Client) -> None:
    what = c.argv[2].lower()
    arg = c.argv[3]
    if what == b"peak-reset-time":
        if arg.lower() == b"never":
            server.reply_buffer_peak_reset_time = -1
        elif arg.lower() == b"reset":
            server.reply_buffer_peak_reset_time = 5000
        else:
            v = obj.parse_long_long(arg)
            if v is None:
                net.add_reply_error(c, shared.NOT_INTEGER)
                return
            server.reply_buffer_peak_reset_time = v
    elif what == b"resizing":
        server.reply_buffer_resizing_enabled = _atoi(arg)
    else:
        net.add_reply_subcommand_syntax_error(c)
        return
    net.add_reply(c, shared.ok)


def _set_flag(attr: str):
    """The DEBUG subcommands that just store atoi(argv[2]) in a server field."""
    def proc(c: net.Client) -> None:
        setattr(server, attr, _atoi(c.argv[2]))
        net.add_reply(c, shared.ok)
    return proc


def _ok(c: net.Client) -> None:
    net.add_reply(c, shared.ok)


def _log(c: net.Client) -> None:
    server.log_warning("DEBUG LOG: %s" % c.argv[2].split(b"\0", 1)[0].decode(errors="replace"))
    net.add_reply(c, shared.ok)


def _digest(c: net.Client) -> None:
    try:
        d = compute_dataset_digest()
    except LookupError as e:
        net.add_reply_error(c, f"DEBUG DIGEST: {e}")
        return
    _status_hex(c, d)


def _help(c: net.Client) -> None:
    net.add_reply_help(c, DEBUG_HELP)


# name -> (proc, accepted argc: an exact count, a (min, max) range or a set of counts).
_SUBCOMMANDS = {
    b"help": (_help, 2),
    b"log": (_log, 3),
    b"leak": (_ok, 3),
    b"reload": (debug_reload, (2, None)),
    b"object": (debug_object, 3),
    b"listpack": (debug_listpack, 3),
    b"quicklist": (debug_quicklist, (3, 4)),
    b"populate": (debug_populate, (3, 5)),
    b"digest": (_digest, 2),
    b"digest-value": (debug_digest_value, (2, None)),
    b"protocol": (debug_protocol, 3),
    b"sleep": (debug_sleep, 3),
    b"set-active-expire": (_set_flag("active_expire_enabled"), 3),
    b"quicklist-packed-threshold": (debug_quicklist_packed_threshold, 3),
    b"set-skip-checksum-validation": (_set_flag("skip_checksum_validation"), 3),
    b"aof-flush-sleep": (_set_flag("aof_flush_sleep"), 3),
    b"error": (debug_error, 3),
    b"htstats": (debug_htstats, (3, 4)),
    b"htstats-key": (debug_htstats_key, (3, 4)),
    b"change-repl-id": (debug_change_repl_id, 2),
    b"stringmatch-test": (debug_stringmatch_test, 2),
    b"stringmatch-len": (debug_stringmatch_test, 2),
    b"set-disable-deny-scripts": (_set_flag("script_disable_deny_script"), 3),
    b"pause-cron": (_set_flag("pause_cron"), 3),
    b"replybuffer": (debug_replybuffer, 4),
    b"jmap": (_ok, 2),
}


def debug_command(c: net.Client) -> None:
    """debugCommand: dispatch on argv[1]; a wrong argument count is "unknown subcommand",
    as in debug.c (each branch there tests its own argc)."""
    argc = len(c.argv)
    entry = _SUBCOMMANDS.get(c.argv[1].lower())
    if entry is not None:
        proc, arity = entry
        if isinstance(arity, int):
            ok = argc == arity
        else:
            lo, hi = arity
            ok = argc >= lo and (hi is None or argc <= hi)
        if ok:
            proc(c)
            return
    net.add_reply_subcommand_syntax_error(c)


COMMANDS = [
    cmd("debug", debug_command, -2, "admin noscript loading stale protected", group="server",
        since="1.0.0", complexity="Depends on subcommand.",
        summary="A container for debugging commands", doc_flags="syscmd"),
]
