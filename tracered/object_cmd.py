"""OBJECT and MEMORY: the command half of object.c (objectCommand, memoryCommand,
objectComputeSize, getMemoryOverheadData, getMemoryDoctorReport).

OBJECT ENCODING / REFCOUNT / IDLETIME / FREQ look a key up without touching it (no LRU/LFU
update, no keymiss event) and show the robj header fields.

MEMORY USAGE adds up what Redis would allocate for a key: the value (each type registers
an estimate in ``object.memory_usage_funcs``, sampling ``SAMPLES`` elements of big
aggregates), plus the key's sds and its dictEntry.  Sizes are jemalloc's: an allocation of
n bytes really takes the next size class (``zmalloc_size``), which is why ``SET foo bar``
costs 64 bytes and not 3.  The helpers ``zmalloc_size`` / ``sds_zmalloc_size`` are public
so type modules can price their own structures the same way.

Divergence: tracered's real memory is Python objects, so MEMORY USAGE is Redis's estimate
of the same data (what a learner compares with redis-server), not tracered's own footprint.

Divergence: MEMORY STATS and DOCTOR start from the process RSS (/proc/self/statm): Python's
allocator is process wide, so "allocated" is the resident size, the allocator ratios are 1,
and the per-db overheads use Redis's struct sizes (dictEntry 24, bucket pointer 8, robj 16).
DOCTOR's "empty instance" test is applied to memory grown since startup, because a bare
interpreter is already bigger than Redis's 5 MB threshold.  MALLOC-STATS reports what the
Python allocator tells (there is no jemalloc), and PURGE runs the garbage collector and
glibc's malloc_trim.
"""

from __future__ import annotations

import gc
import os
import sys

from tracered import db as dbmod
from tracered import networking as net
from tracered import object as obj
from tracered import shared
from tracered.commands import KeySpec, cmd, sub

# Redis struct sizes on a 64-bit build (what getMemoryOverheadData multiplies by).
SIZEOF_ROBJ = 16
SIZEOF_DICT_ENTRY = 24
SIZEOF_POINTER = 8

OBJ_COMPUTE_SIZE_DEF_SAMPLES = 5
LLONG_MAX = (1 << 63) - 1


def _server():
    from tracered.server import server

    return server


# --------------------------------------------------------------------------------------------
# Allocation sizes (zmalloc_size / sdsZmallocSize)
# --------------------------------------------------------------------------------------------

def zmalloc_size(n: int) -> int:
    """The jemalloc size class an n-byte allocation lands in (x86-64, 16-byte quantum):
    8, then multiples of 16 up to 128, then four classes per doubling (160 192 224 256,
    320 384 448 512, ...)."""
    if n <= 8:
        return 8
    if n <= 128:
        return (n + 15) & ~15
    step = 1 << ((n - 1).bit_length() - 3)
    return (n + step - 1) & ~(step - 1)


def sds_hdr_size(length: int) -> int:
    """sdsHdrSize(sdsReqType(length)): the smallest header that can hold the length."""
    if length < 1 << 5:
        return 1
    if length < 1 << 8:
        return 3
    if length < 1 << 16:
        return 5
    if length < 1 << 32:
        return 9
    return 17


def sds_zmalloc_size(length: int) -> int:
    """sdsZmallocSize of a string built by sdsnewlen(length): header, bytes and NUL.
    An empty sds gets an sdshdr8, as sdsnewlen does (it is likely to be appended to)."""
    hdr = 3 if length == 0 else sds_hdr_size(length)
    return zmalloc_size(hdr + length + 1)


def string_memory_usage(o: obj.RObj, samples: int) -> int:
    """objectComputeSize for strings: an int lives in the robj itself; an embstr is one
    allocation holding robj, sdshdr8 and bytes; a raw string is a robj plus its sds."""
    enc = o.encoding
    if enc == obj.OBJ_ENCODING_INT:
        return SIZEOF_ROBJ
    if enc == obj.OBJ_ENCODING_EMBSTR:
        return zmalloc_size(SIZEOF_ROBJ + 3 + len(o.ptr) + 1)
    return sds_zmalloc_size(len(o.ptr)) + SIZEOF_ROBJ


# t_string.py may register a better estimate (e.g. for APPEND's greedy growth).
obj.memory_usage_funcs.setdefault(obj.OBJ_STRING, string_memory_usage)


def object_compute_size(key: bytes, o: obj.RObj, samples: int, dbid: int) -> int:
    """objectComputeSize: dispatch to the type's estimate."""
    fn = obj.memory_usage_funcs.get(o.type)
    if fn is not None:
        return fn(o, samples)
    # A type whose module registered no estimate: the robj plus Python's size of the
    # payload, a rough stand-in rather than no answer at all.
    return SIZEOF_ROBJ + sys.getsizeof(o.ptr)


# --------------------------------------------------------------------------------------------
# LRU / LFU readings
# --------------------------------------------------------------------------------------------

def estimate_object_idle_time(o: obj.RObj) -> int:
    """estimateObjectIdleTime (evict.c): ms since the last access, from the 24-bit LRU
    clock, which wraps about every 194 days."""
    lruclock = obj.lru_clock
    if lruclock >= o.lru:
        return (lruclock - o.lru) * obj.LRU_CLOCK_RESOLUTION
    return (lruclock + (obj.LRU_CLOCK_MAX - o.lru)) * obj.LRU_CLOCK_RESOLUTION


def _lfu_decr_and_return(o: obj.RObj) -> int:
    """LFUDecrAndReturn (evict.c): the 8-bit counter, minus one per lfu-decay-time minutes
    elapsed since the 16-bit minute stamp in the high bits.  Read-only: the object is not
    updated.  evict.py's version is used when it exists."""
    try:
        from tracered import evict

        fn = getattr(evict, "lfu_decr_and_return", None)
    except ImportError:
        fn = None
    if fn is not None:
        return fn(o)
    srv = _server()
    ldt = o.lru >> 8
    counter = o.lru & 255
    now = (srv.unixtime // 60) & 65535
    elapsed = now - ldt if now >= ldt else 65535 - ldt + now
    periods = elapsed // srv.lfu_decay_time if srv.lfu_decay_time else 0
    if periods:
        counter = 0 if periods > counter else counter - periods
    return counter


def _lfu_policy(srv) -> bool:
    return srv.maxmemory_policy.endswith("-lfu")


# --------------------------------------------------------------------------------------------
# OBJECT
# --------------------------------------------------------------------------------------------

def object_command_lookup(c, key: bytes) -> obj.RObj | None:
    """objectCommandLookup: look at a key without changing its LRU/LFU or firing keymiss."""
    return dbmod.lookup_key(c.db, key, dbmod.LOOKUP_NOTOUCH | dbmod.LOOKUP_NONOTIFY)


def object_command_lookup_or_reply(c, key: bytes, reply: bytes) -> obj.RObj | None:
    o = object_command_lookup(c, key)
    if o is None:
        net.add_reply(c, reply)
    return o


_OBJECT_HELP = [
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
]


def object_help_command(c) -> None:
    net.add_reply_help(c, _OBJECT_HELP)


def object_refcount_command(c) -> None:
    o = object_command_lookup_or_reply(c, c.argv[2], shared.null[c.resp])
    if o is not None:
        net.add_reply_long_long(c, o.refcount)


def object_encoding_command(c) -> None:
    o = object_command_lookup_or_reply(c, c.argv[2], shared.null[c.resp])
    if o is not None:
        net.add_reply_bulk(c, obj.str_encoding(o.encoding).encode())


def object_idletime_command(c) -> None:
    o = object_command_lookup_or_reply(c, c.argv[2], shared.null[c.resp])
    if o is None:
        return
    if _lfu_policy(_server()):
        net.add_reply_error(c, "An LFU maxmemory policy is selected, idle time not tracked. "
                               "Please note that when switching between policies at runtime "
                               "LRU and LFU data will take some time to adjust.")
        return
    net.add_reply_long_long(c, estimate_object_idle_time(o) // 1000)


def object_freq_command(c) -> None:
    o = object_command_lookup_or_reply(c, c.argv[2], shared.null[c.resp])
    if o is None:
        return
    if not _lfu_policy(_server()):
        net.add_reply_error(c, "An LFU maxmemory policy is not selected, access frequency not "
                               "tracked. Please note that when switching between policies at "
                               "runtime LRU and LFU data will take some time to adjust.")
        return
    # The counter decays on access only; decaying it here shows its value as of now.
    net.add_reply_long_long(c, _lfu_decr_and_return(o))


# --------------------------------------------------------------------------------------------
# MEMORY
# --------------------------------------------------------------------------------------------

_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def zmalloc_get_rss() -> int:
    """zmalloc_get_rss: resident pages of this process (/proc/self/statm, 2nd field)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return 0


def zmalloc_used_memory() -> int:
    """What tracered calls 'allocated' memory: evict.py's estimate, the same figure INFO's
    used_memory and maxmemory use."""
    from tracered import evict

    return evict.used_memory()


def _client_memory(srv) -> tuple[int, int]:
    """Output and query buffers of normal clients and of replicas."""
    normal = slaves = 0
    for c in list(srv.clients.values()):
        used = c.reply_bytes + len(c.querybuf) + c.argv_len_sum
        if c.flags & net.CLIENT_SLAVE and not c.flags & net.CLIENT_MONITOR:
            slaves += used
        else:
            normal += used
    return normal, slaves


def _sized(x) -> int:
    if x is None:
        return 0
    try:
        return len(x)
    except TypeError:
        return 0


def get_memory_overhead_data() -> dict:
    """getMemoryOverheadData: where the memory goes, as MEMORY STATS and INFO show it."""
    srv = _server()
    used = zmalloc_used_memory()
    rss = used
    if used > srv.stat_peak_memory:
        srv.stat_peak_memory = used
    startup = getattr(srv, "initial_memory_usage", 0) or used
    mh: dict = {"total_allocated": used, "startup_allocated": startup,
                "peak_allocated": srv.stat_peak_memory}
    mh["total_frag"] = rss / used if used else 0.0
    mh["total_frag_bytes"] = rss - used
    mh["allocator_allocated"] = mh["allocator_active"] = mh["allocator_resident"] = used
    mh["allocator_frag"] = mh["allocator_rss"] = mh["rss_extra"] = 1.0
    mh["allocator_frag_bytes"] = mh["allocator_rss_bytes"] = mh["rss_extra_bytes"] = 0
    total = startup
    normal, slaves = _client_memory(srv)
    backlog = srv.repl_backlog
    backlog_mem = _sized(getattr(backlog, "buf", backlog)) if backlog is not None else 0
    mh["repl_backlog"] = backlog_mem
    mh["clients_slaves"] = slaves
    mh["clients_normal"] = normal
    mh["cluster_links"] = 0
    mh["aof_buffer"] = _sized(getattr(srv, "aof_buf", None)) if srv.aof_state else 0
    mh["lua_caches"] = int(getattr(srv, "lua_scripts_mem", 0) or 0)
    mh["functions_caches"] = 0
    total += backlog_mem + slaves + normal + mh["aof_buffer"] + mh["lua_caches"]
    dbs = []
    total_keys = 0
    for db in srv.db:
        keys = len(db.dict)
        if keys == 0:
            continue
        total_keys += keys
        main = keys * SIZEOF_DICT_ENTRY + db.dict.slots() * SIZEOF_POINTER + keys * SIZEOF_ROBJ
        expires = len(db.expires) * SIZEOF_DICT_ENTRY + db.expires.slots() * SIZEOF_POINTER
        dbs.append((db.id, main, expires, 0))
        total += main + expires
    mh["db"] = dbs
    mh["total_keys"] = total_keys
    mh["overhead_total"] = total
    mh["dataset"] = used - total
    mh["peak_perc"] = used * 100 / mh["peak_allocated"] if mh["peak_allocated"] else 0.0
    net_usage = used - startup if used > startup else 1
    mh["net_usage"] = net_usage
    mh["dataset_perc"] = mh["dataset"] * 100 / net_usage
    mh["bytes_per_key"] = net_usage // total_keys if total_keys else 0
    return mh


_MEMORY_HELP = [
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
]


def memory_help_command(c) -> None:
    net.add_reply_help(c, _MEMORY_HELP)


def memory_usage_command(c) -> None:
    """MEMORY USAGE key [SAMPLES count]: the value's estimate plus the key's sds and
    dictEntry.  The key is found in the table directly, so a logically expired key not
    yet deleted still has a size (as in Redis)."""
    argv = c.argv
    samples = OBJ_COMPUTE_SIZE_DEF_SAMPLES
    j = 3
    while j < len(argv):
        if argv[j].lower() == b"samples" and j + 1 < len(argv):
            samples = dbmod.get_long_long_from_object_or_reply(c, argv[j + 1])
            if samples is None:
                return
            if samples < 0:
                net.add_reply_error_object(c, shared.syntaxerr)
                return
            if samples == 0:
                samples = LLONG_MAX
            j += 2
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
    de = c.db.dict.find(argv[2])
    if de is None:
        net.add_reply_null(c)
        return
    usage = object_compute_size(argv[2], de.val, samples, c.db.id)
    usage += sds_zmalloc_size(len(de.key))
    usage += SIZEOF_DICT_ENTRY
    net.add_reply_long_long(c, usage)


def memory_stats_command(c) -> None:
    """MEMORY STATS: getMemoryOverheadData as a map, with Redis's field names and order."""
    mh = get_memory_overhead_data()
    ll = net.add_reply_long_long
    dbl = net.add_reply_double

    def field(name: bytes) -> None:
        net.add_reply_bulk(c, name)

    net.add_reply_map_len(c, 27 + len(mh["db"]))
    for name, key in ((b"peak.allocated", "peak_allocated"),
                      (b"total.allocated", "total_allocated"),
                      (b"startup.allocated", "startup_allocated"),
                      (b"replication.backlog", "repl_backlog"),
                      (b"clients.slaves", "clients_slaves"),
                      (b"clients.normal", "clients_normal"),
                      (b"cluster.links", "cluster_links"),
                      (b"aof.buffer", "aof_buffer"),
                      (b"lua.caches", "lua_caches"),
                      (b"functions.caches", "functions_caches")):
        field(name)
        ll(c, mh[key])
    for dbid, main, expires, slot_to_keys in mh["db"]:
        field(b"db.%d" % dbid)
        net.add_reply_map_len(c, 3)
        field(b"overhead.hashtable.main")
        ll(c, main)
        field(b"overhead.hashtable.expires")
        ll(c, expires)
        field(b"overhead.hashtable.slot-to-keys")
        ll(c, slot_to_keys)
    field(b"overhead.total")
    ll(c, mh["overhead_total"])
    field(b"keys.count")
    ll(c, mh["total_keys"])
    field(b"keys.bytes-per-key")
    ll(c, mh["bytes_per_key"])
    field(b"dataset.bytes")
    ll(c, mh["dataset"])
    field(b"dataset.percentage")
    dbl(c, mh["dataset_perc"])
    field(b"peak.percentage")
    dbl(c, mh["peak_perc"])
    field(b"allocator.allocated")
    ll(c, mh["allocator_allocated"])
    field(b"allocator.active")
    ll(c, mh["allocator_active"])
    field(b"allocator.resident")
    ll(c, mh["allocator_resident"])
    field(b"allocator-fragmentation.ratio")
    dbl(c, mh["allocator_frag"])
    field(b"allocator-fragmentation.bytes")
    ll(c, mh["allocator_frag_bytes"])
    field(b"allocator-rss.ratio")
    dbl(c, mh["allocator_rss"])
    field(b"allocator-rss.bytes")
    ll(c, mh["allocator_rss_bytes"])
    field(b"rss-overhead.ratio")
    dbl(c, mh["rss_extra"])
    field(b"rss-overhead.bytes")
    ll(c, mh["rss_extra_bytes"])
    field(b"fragmentation")
    dbl(c, mh["total_frag"])
    field(b"fragmentation.bytes")
    ll(c, mh["total_frag_bytes"])


_DOCTOR_EMPTY = (
    "Hi Sam, this instance is empty or is using very little memory, my issues detector "
    "can't be used in these conditions. Please, leave for your mission on Earth and fill it "
    "with some data. The new Sam and I will be back to our programming as soon as I finished "
    "rebooting.\n")
_DOCTOR_OK = ("Hi Sam, I can't find any memory issue in your instance. I can only account "
              "for what occurs on this base.\n")
_DOCTOR_ISSUES = {
    "big_peak": (
        " * Peak memory: In the past this instance used more than 150% the memory that is "
        "currently using. The allocator is normally not able to release memory after a peak, "
        "so you can expect to see a big fragmentation ratio, however this is actually "
        "harmless and is only due to the memory peak, and if the Redis instance Resident Set "
        "Size (RSS) is currently bigger than expected, the memory will be used as soon as you "
        "fill the Redis instance with more data. If the memory peak was only occasional and "
        "you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise "
        "the only other option is to shutdown and restart the instance.\n\n"),
    "big_client_buf": (
        " * Big client buffers: The clients output buffers in this instance are greater than "
        "200K per client (on average). This may result from different causes, like Pub/Sub "
        "clients subscribed to channels bot not receiving data fast enough, so that data "
        "piles on the Redis instance output buffer, or clients sending commands with large "
        "replies or very large sequences of commands in the same pipeline. Please use the "
        "CLIENT LIST command in order to investigate the issue if it causes problems in your "
        "instance, or to understand better why certain clients are using a big amount of "
        "memory.\n\n"),
    "big_slave_buf": (
        " * Big replica buffers: The replica output buffers in this instance are greater "
        "than 10MB for each replica (on average). This likely means that there is some "
        "replica instance that is struggling receiving data, either because it is too slow "
        "or because of networking issues. As a result, data piles on the master output "
        "buffers. Please try to identify what replica is not receiving data correctly and "
        "why. You can use the INFO output in order to check the replicas delays and the "
        "CLIENT LIST command to check the output buffers of each replica.\n\n"),
    "many_scripts": (
        " * Many scripts: There seem to be many cached scripts in this instance (more than "
        "1000). This may be because scripts are generated and `EVAL`ed, instead of being "
        "parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT "
        "FLUSH` is called periodically, the scripts' caches may end up consuming most of "
        "your memory.\n\n"),
}


def get_memory_doctor_report() -> str:
    """getMemoryDoctorReport.  The fragmentation/RSS checks of Redis cannot fire here (the
    allocator ratios are 1 by construction), so they are not evaluated."""
    srv = _server()
    mh = get_memory_overhead_data()
    if mh["net_usage"] < 5 * 1024 * 1024:
        return _DOCTOR_EMPTY
    issues = []
    if mh["peak_allocated"] / mh["total_allocated"] > 1.5:
        issues.append("big_peak")
    numslaves = len(srv.slaves)
    numclients = max(1, len(srv.clients) - numslaves)
    if mh["clients_normal"] // numclients > 1024 * 200:
        issues.append("big_client_buf")
    if numslaves > 0 and mh["clients_slaves"] > 1024 * 1024 * 10:
        issues.append("big_slave_buf")
    if _sized(getattr(srv, "lua_scripts", None)) > 1000:
        issues.append("many_scripts")
    if not issues:
        return _DOCTOR_OK
    out = "Sam, I detected a few issues in this Redis instance memory implants:\n\n"
    for name in ("big_peak", "big_slave_buf", "big_client_buf", "many_scripts"):
        if name in issues:
            out += _DOCTOR_ISSUES[name]
    return out + "I'm here to keep you safe, Sam. I want to help you.\n"


def memory_doctor_command(c) -> None:
    net.add_reply_verbatim(c, get_memory_doctor_report().encode())


def memory_malloc_stats_command(c) -> None:
    """MEMORY MALLOC-STATS: Python allocator figures in place of jemalloc's report."""
    counts = gc.get_count()
    lines = [
        "___ Begin pymalloc statistics ___",
        f"Python: {sys.version.split()[0]} ({sys.implementation.name})",
        f"allocated blocks: {sys.getallocatedblocks()}",
        f"resident set size: {zmalloc_get_rss()}",
        f"gc generation counts: {counts[0]} {counts[1]} {counts[2]}",
        f"gc tracked objects: {len(gc.get_objects())}",
        "--- End pymalloc statistics ---",
    ]
    net.add_reply_verbatim(c, ("\n".join(lines) + "\n").encode())


def memory_purge_command(c) -> None:
    """MEMORY PURGE: a complete cycle collection (frozen objects included, see
    gcpolicy.py), then give free heap pages back to the OS."""
    from tracered import gcpolicy

    gcpolicy.full_collection(net.server)
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
    net.add_reply(c, shared.ok)


_trim_fn: list = []


def _malloc_trim():
    """glibc's malloc_trim, loaded once (a ctypes library object is itself a reference
    cycle: loading it per call left garbage for the next collection), or None."""
    if not _trim_fn:
        try:
            import ctypes

            _trim_fn.append(ctypes.CDLL("libc.so.6").malloc_trim)
        except (OSError, AttributeError):
            _trim_fn.append(None)   # not glibc: collecting is all that can be done
    return _trim_fn[0]


def init(srv) -> None:
    """Remember the startup footprint (server.initial_memory_usage) for MEMORY STATS."""
    if not getattr(srv, "initial_memory_usage", 0):
        srv.initial_memory_usage = zmalloc_used_memory()


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

def _key2() -> list[KeySpec]:
    return [KeySpec("RO", 2)]


COMMANDS = [
    cmd("object", None, -2, "", since="2.2.3", complexity="Depends on subcommand.",
        summary="A container for object introspection commands", subcommands=[
            sub("encoding", object_encoding_command, 3, "readonly", keys=(2, 2, 1),
                acl="keyspace", key_specs=_key2(), since="2.2.3",
                summary="Inspect the internal encoding of a Redis object", args="key",
                tips="nondeterministic_output"),
            sub("freq", object_freq_command, 3, "readonly", keys=(2, 2, 1), acl="keyspace",
                key_specs=_key2(), since="4.0.0",
                summary="Get the logarithmic access frequency counter of a Redis object",
                args="key", tips="nondeterministic_output"),
            sub("help", object_help_command, 2, "loading stale", acl="keyspace",
                since="6.2.0",
                summary="Show helpful text about the different subcommands"),
            sub("idletime", object_idletime_command, 3, "readonly", keys=(2, 2, 1),
                acl="keyspace", key_specs=_key2(), since="2.2.3",
                summary="Get the time since a Redis object was last accessed", args="key",
                tips="nondeterministic_output"),
            sub("refcount", object_refcount_command, 3, "readonly", keys=(2, 2, 1),
                acl="keyspace", key_specs=_key2(), since="2.2.3",
                summary="Get the number of references to the value of the key", args="key",
                tips="nondeterministic_output"),
        ]),
    cmd("memory", None, -2, "", group="server", since="4.0.0",
        complexity="Depends on subcommand.",
        summary="A container for memory diagnostics commands", subcommands=[
            sub("doctor", memory_doctor_command, 2, "", since="4.0.0",
                summary="Outputs memory problems report",
                tips="nondeterministic_output request_policy:all_shards "
                     "response_policy:special"),
            sub("help", memory_help_command, 2, "loading stale", since="4.0.0",
                summary="Show helpful text about the different subcommands"),
            sub("malloc-stats", memory_malloc_stats_command, 2, "", since="4.0.0",
                complexity="Depends on how much memory is allocated, could be slow",
                summary="Show allocator internal stats",
                tips="nondeterministic_output request_policy:all_shards "
                     "response_policy:special"),
            sub("purge", memory_purge_command, 2, "", since="4.0.0",
                complexity="Depends on how much memory is allocated, could be slow",
                summary="Ask the allocator to release memory",
                tips="request_policy:all_shards response_policy:all_succeeded"),
            sub("stats", memory_stats_command, 2, "", since="4.0.0",
                summary="Show memory usage details",
                tips="nondeterministic_output request_policy:all_shards "
                     "response_policy:special"),
            sub("usage", memory_usage_command, -3, "readonly", keys=(2, 2, 1),
                key_specs=_key2(), since="4.0.0",
                complexity="O(N) where N is the number of samples.",
                summary="Estimate the memory usage of a key", args="key [SAMPLES count]"),
        ]),
]
