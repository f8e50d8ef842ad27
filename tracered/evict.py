"""maxmemory and eviction: the mirror of evict.c (plus updateLFU from db.c).

Sections follow evict.c: the eviction pool, LRU aging (estimateObjectIdleTime), pool
population (evictionPoolPopulate), the LFU counter (LFUGetTimeInMinutes, LFUTimeElapsed,
LFULogIncr, LFUDecrAndReturn), the memory figure seen by maxmemory (getMaxmemoryState,
freeMemoryGetNotCountedMemory), and performEvictions with its time limit and the timer that
keeps evicting when one call could not get back under the limit.

How a key is chosen (same algorithm as Redis, nothing exact about it): each round samples
``maxmemory-samples`` keys per db (``Dict.get_some_keys``) and merges them into a pool of the
16 best candidates seen so far, kept in ascending "idle" order, where idle means the score of
the policy: milliseconds since last access (LRU), 255 minus the decayed access counter (LFU),
or how soon the TTL ends (volatile-ttl).  The best live entry at the right end of the pool is
evicted.  The pool outlives the call, so good candidates accumulate across commands.

Probes: ``performEvictions``, ``evictionPoolPopulate`` (functions) and one ``eviction`` event
per evicted key (key, db, policy).

Divergence (the memory figure): Redis compares maxmemory with zmalloc's count of allocated
bytes, updated on every malloc/free.  CPython has no such counter that is both cheap and
prompt: the RSS rarely shrinks after frees (pymalloc keeps partly used arenas, glibc keeps
its heap), so an RSS-driven eviction would evict everything; ``sys.getallocatedblocks()``
walks every pool of every arena (about 80 µs at 1.2M objects, far too slow per command) and
tracemalloc slows every allocation.  tracered's ``used_memory()`` is therefore an estimate:

    used_memory_startup (the RSS once the server was set up)
    + sum over dbs of  keys(db) * average bytes per key(db)
    + the replication backlog + the AOF buffer

The key count is read live, so deleting or evicting a key lowers the figure at once.  The
averages are re-priced at most every 100 ms: exactly (every key) when a db has at most 32
keys, else as a moving average over ``get_some_keys(16)`` samples.  Cost: about 2 µs per
call with 16 dbs, paid once per command when maxmemory is set.  A key's price is its
CPython footprint: the key bytes, the DictEntry and RObj (``sys.getsizeof`` rounded to
pymalloc's 16-byte classes), the bucket slots, the TTL entry when it has one, and the value:
exact for strings and listpack/intset values (the bytes/bytearray/int held), and for
aggregates whose payload is Python objects (quicklist, hashtable, skiplist) Redis's own
MEMORY USAGE estimate times the Python/Redis ratio measured for that encoding on CPython 3.11
(``AGGREGATE_PY_FACTORS``).  Against tracemalloc the result lands within about 10% for
strings, listpacks and intsets, and within a factor 1.5 for the aggregates.
Consequences: values that grow in place are seen within 100 ms, not at once; a db where one
huge key hides among many small ones is under-priced until a sample hits it; each eviction
counts as freeing its db's average, not that key's own size; client buffers are not counted
(iterating the clients on every command would cost too much).  INFO's used_memory and
CONFIG SET maxmemory's warning read this same function.  A limit below the startup
footprint (tens of MB, against Redis's ~1 MB) can never be met: set maxmemory relative to
INFO's used_memory.

Divergence: there is no lazyfree thread (lazyfree-lazy-eviction only changes the propagated
command to UNLINK), so the wait for background frees is skipped; replicas' output buffers
are not flushed every 16 evictions (writes go out from beforeSleep).  Evicted keys are
propagated one DEL at a time as they go, never wrapped in MULTI (Redis's
propagate_no_multi gives the same stream).
"""

from __future__ import annotations

import random
import sys
import time

from tracered import db as dbmod
from tracered import dict as dictmod
from tracered import latency
from tracered import object as obj
from tracered.server import Server, server
from tracered.trace import probes
from tracered.trace.probes import probe

# --------------------------------------------------------------------------------------------
# Data structures
# --------------------------------------------------------------------------------------------

# maxmemory-policy values (server.h): flag bits in the low byte, an index above them.
MAXMEMORY_FLAG_LRU = 1 << 0
MAXMEMORY_FLAG_LFU = 1 << 1
MAXMEMORY_FLAG_ALLKEYS = 1 << 2
MAXMEMORY_VOLATILE_LRU = (0 << 8) | MAXMEMORY_FLAG_LRU
MAXMEMORY_VOLATILE_LFU = (1 << 8) | MAXMEMORY_FLAG_LFU
MAXMEMORY_VOLATILE_TTL = 2 << 8
MAXMEMORY_VOLATILE_RANDOM = 3 << 8
MAXMEMORY_ALLKEYS_LRU = (4 << 8) | MAXMEMORY_FLAG_LRU | MAXMEMORY_FLAG_ALLKEYS
MAXMEMORY_ALLKEYS_LFU = (5 << 8) | MAXMEMORY_FLAG_LFU | MAXMEMORY_FLAG_ALLKEYS
MAXMEMORY_ALLKEYS_RANDOM = (6 << 8) | MAXMEMORY_FLAG_ALLKEYS
MAXMEMORY_NO_EVICTION = 7 << 8

# config.py stores the policy by name; this is the number Redis keeps in the server struct.
POLICY_BY_NAME = {
    "volatile-lru": MAXMEMORY_VOLATILE_LRU, "volatile-lfu": MAXMEMORY_VOLATILE_LFU,
    "volatile-ttl": MAXMEMORY_VOLATILE_TTL, "volatile-random": MAXMEMORY_VOLATILE_RANDOM,
    "allkeys-lru": MAXMEMORY_ALLKEYS_LRU, "allkeys-lfu": MAXMEMORY_ALLKEYS_LFU,
    "allkeys-random": MAXMEMORY_ALLKEYS_RANDOM, "noeviction": MAXMEMORY_NO_EVICTION,
}

EVPOOL_SIZE = 16

# performEvictions results (server.h).
EVICT_OK = 0
EVICT_RUNNING = 1
EVICT_FAIL = 2

ULLONG_MAX = (1 << 64) - 1
ULONG_MAX = (1 << 64) - 1


class EvictionPoolEntry:
    """evictionPoolEntry: a candidate key, its db and its score ("idle", higher = evict
    first).  An empty slot has ``key`` None.  Divergence: no cached sds buffer; Python
    shares the key bytes with the dict instead of copying them."""

    __slots__ = ("idle", "key", "dbid")

    def __init__(self) -> None:
        self.idle = 0
        self.key: bytes | None = None
        self.dbid = 0

    def __repr__(self) -> str:
        return f"<evpool {self.key!r} idle={self.idle} db={self.dbid}>"


def eviction_pool_alloc() -> list[EvictionPoolEntry]:
    """evictionPoolAlloc: EVPOOL_SIZE empty entries."""
    return [EvictionPoolEntry() for _ in range(EVPOOL_SIZE)]


EvictionPoolLRU: list[EvictionPoolEntry] = eviction_pool_alloc()


# --------------------------------------------------------------------------------------------
# Implementation of eviction, aging and LRU
# --------------------------------------------------------------------------------------------

def lru_clock() -> int:
    """LRU_CLOCK: the 24-bit seconds clock serverCron refreshes (hz >= 1 always makes the
    cached value fine-grained enough, as in Redis)."""
    return obj.lru_clock


def estimate_object_idle_time(o: obj.RObj) -> int:
    """estimateObjectIdleTime: at least how many ms the object went unrequested.  The clock
    wraps every 2^24 s (~194 days); a stamp ahead of the clock is taken as one wrap."""
    clock = obj.lru_clock
    if clock >= o.lru:
        return (clock - o.lru) * obj.LRU_CLOCK_RESOLUTION
    return (clock + (obj.LRU_CLOCK_MAX - o.lru)) * obj.LRU_CLOCK_RESOLUTION


@probe("evictionPoolPopulate")
def eviction_pool_populate(dbid: int, sampledict, keydict,
                           pool: list[EvictionPoolEntry]) -> None:
    """evictionPoolPopulate: score ``maxmemory-samples`` keys of ``sampledict`` (the keyspace
    or the expires dict) and merge each into the pool, kept in ascending score order.

    A sample enters when the pool has a free slot or it beats the worst (leftmost) entry,
    which then falls off.  The pool is not purged of deleted keys here: performEvictions
    skips those "ghosts" when it picks.
    """
    srv = server
    policy = POLICY_BY_NAME[srv.maxmemory_policy]
    samples = sampledict.get_some_keys(srv.maxmemory_samples)
    for de in samples:
        key = de.key
        if policy & MAXMEMORY_FLAG_LRU or policy & MAXMEMORY_FLAG_LFU:
            if sampledict is not keydict:
                # Sampled from expires: the value object lives in the main dict.
                de = keydict.find(key)
                if de is None:
                    continue
            o = de.val
            if policy & MAXMEMORY_FLAG_LRU:
                idle = estimate_object_idle_time(o)
            else:
                # Least frequent first: invert the 0..255 counter so bigger still means
                # "better to evict", like the idle time.
                idle = 255 - lfu_decr_and_return(o)
        elif policy == MAXMEMORY_VOLATILE_TTL:
            # The sooner the key expires, the better a candidate (the value is its expire).
            idle = ULLONG_MAX - de.val
        else:
            raise AssertionError("Unknown eviction policy in evictionPoolPopulate()")

        # Find the first empty slot or the first entry scoring at least as high.
        k = 0
        while k < EVPOOL_SIZE and pool[k].key is not None and pool[k].idle < idle:
            k += 1
        if k == 0 and pool[EVPOOL_SIZE - 1].key is not None:
            continue  # worse than everything in a full pool
        if k < EVPOOL_SIZE and pool[k].key is None:
            entry = pool[k]  # an empty slot right where it belongs
        elif pool[EVPOOL_SIZE - 1].key is None:
            # Room on the right: shift entries k.. one step right, reusing the empty tail.
            entry = pool.pop()
            pool.insert(k, entry)
        else:
            # Full: drop the worst entry (leftmost) and shift the ones before k left.
            k -= 1
            entry = pool.pop(0)
            pool.insert(k, entry)
        entry.key = key
        entry.idle = idle
        entry.dbid = dbid


# --------------------------------------------------------------------------------------------
# LFU (Least Frequently Used) implementation
#
# Under an LFU policy the 24-bit lru field holds two things: the high 16 bits are the time of
# the last decrement, in minutes (wrapping every ~45 days), the low 8 bits a logarithmic
# access counter.  New objects start at LFU_INIT_VAL (5) so they survive a few samplings
# before counting as cold.  The counter grows with probability 1/((c-5)*lfu-log-factor+1)
# per access and loses one point per lfu-decay-time minutes without access.
# --------------------------------------------------------------------------------------------

def lfu_get_time_in_minutes() -> int:
    """LFUGetTimeInMinutes: the 16 low bits of the unix time in minutes."""
    return (server.unixtime // 60) & 65535


def lfu_time_elapsed(ldt: int) -> int:
    """LFUTimeElapsed: minutes since ``ldt``, assuming the 16-bit clock wrapped at most
    once."""
    now = (server.unixtime // 60) & 65535
    if now >= ldt:
        return now - ldt
    return 65535 - ldt + now


def lfu_log_incr(counter: int) -> int:
    """LFULogIncr: add one with a probability that shrinks as the counter grows, so 255
    stands for about a million hits with the default factor 10.  Saturates at 255."""
    if counter == 255:
        return 255
    baseval = counter - obj.LFU_INIT_VAL
    if baseval < 0:
        baseval = 0
    p = 1.0 / (baseval * server.lfu_log_factor + 1)
    if random.random() < p:
        counter += 1
    return counter


def lfu_decr_and_return(o: obj.RObj) -> int:
    """LFUDecrAndReturn: the counter minus one per elapsed lfu-decay-time period (floored
    at 0).  Read-only: the object is only rewritten on a real access (update_lfu)."""
    lru = o.lru
    counter = lru & 255
    decay = server.lfu_decay_time
    if decay:
        periods = lfu_time_elapsed(lru >> 8) // decay
        if periods:
            counter = 0 if periods > counter else counter - periods
    return counter


def update_lfu(val: obj.RObj) -> None:
    """updateLFU (db.c): on access, first age the counter, then maybe increment it, and
    stamp the current minute."""
    counter = lfu_log_incr(lfu_decr_and_return(val))
    val.lru = (((server.unixtime // 60) & 65535) << 8) | counter


# --------------------------------------------------------------------------------------------
# The memory figure (zmalloc_used_memory's stand-in; see the module docstring)
# --------------------------------------------------------------------------------------------

REPRICE_INTERVAL = 0.1     # seconds between two pricings of the dbs
PRICE_EXACT_UPTO = 32      # dbs this small are priced key by key
PRICE_SAMPLES = 16         # keys sampled per pricing of a bigger db
PRICE_SMOOTHING = 0.25     # weight of a new sample mean in the moving average
# CPython bytes per byte of Redis's MEMORY USAGE estimate, for the encodings whose payload is
# Python objects rather than one bytearray; measured with tracemalloc on CPython 3.11 (lists
# of 10 to 1000 elements, sets and zsets of 200).  A quicklist of one small node is closer to
# 3: its node object outweighs the listpack.  Other encodings (streams) use the default.
AGGREGATE_PY_FACTORS = {
    obj.OBJ_ENCODING_QUICKLIST: 1.3,
    obj.OBJ_ENCODING_HT: 2.3,
    obj.OBJ_ENCODING_SKIPLIST: 3.6,
}
AGGREGATE_PY_FACTOR_DEFAULT = 2.5
_VALUE_SAMPLES = 5         # OBJ_COMPUTE_SIZE_DEF_SAMPLES


def _py_alloc(n: int) -> int:
    """What pymalloc (16-byte size classes) or malloc really hands out for ``n`` bytes."""
    return (n + 15) & ~15


_getsizeof = sys.getsizeof
# Per-key constants: a slotted object's getsizeof includes its GC header.
SIZEOF_PY_DICT_ENTRY = _py_alloc(_getsizeof(dictmod.DictEntry(None, None, None)))
SIZEOF_PY_ROBJ = _py_alloc(_getsizeof(obj.RObj(obj.OBJ_STRING, obj.OBJ_ENCODING_RAW, None, 0)))
SIZEOF_PY_EXPIRE = SIZEOF_PY_DICT_ENTRY + _py_alloc(_getsizeof(1 << 40))
SIZEOF_POINTER = 8


def value_py_size(o: obj.RObj) -> int:
    """The CPython bytes behind a value (the robj itself excluded)."""
    p = o.ptr
    t = type(p)
    if t is bytes or t is bytearray:
        return _py_alloc(_getsizeof(p))
    if t is int:
        if o.refcount == obj.OBJ_SHARED_REFCOUNT or -5 <= p <= 256:
            return 0  # shared robj or one of CPython's cached small ints
        return _py_alloc(_getsizeof(p))
    fn = obj.memory_usage_funcs.get(o.type)
    if fn is None:
        return _py_alloc(_getsizeof(p))
    return int(fn(o, _VALUE_SAMPLES) *
               AGGREGATE_PY_FACTORS.get(o.encoding, AGGREGATE_PY_FACTOR_DEFAULT))


def key_py_size(key: bytes, o: obj.RObj) -> int:
    """The CPython bytes one key costs in the keyspace, TTL entry and bucket slots apart."""
    return _py_alloc(_getsizeof(key)) + SIZEOF_PY_DICT_ENTRY + SIZEOF_PY_ROBJ + value_py_size(o)


class DbPrice:
    """The price per key of one db: ``per_key`` = a (moving) average of key_py_size plus
    the db's bucket slots and TTL entries spread over its keys."""

    __slots__ = ("per_key", "key_avg")

    def __init__(self) -> None:
        self.per_key = 0.0
        self.key_avg = 0.0


_prices: list[DbPrice] = []
# True inside performEvictions' loop: the prices stay fixed so that each deletion's effect
# on used_memory() (what the loop counts as freed) is exactly that db's per-key price.
_prices_frozen = False
_monotonic = time.monotonic


def price_db(db, n: int, price: DbPrice) -> None:
    """Re-price one db's keys (n > 0): every key when small, else a sample."""
    d = db.dict
    total = 0
    if n <= PRICE_EXACT_UPTO:
        count = 0
        for table in d.ht_table:
            if table is None:
                continue
            for he in table:
                while he is not None:
                    total += key_py_size(he.key, he.val)
                    count += 1
                    he = he.next
        key_avg = total / count if count else 0.0
    else:
        sample = d.get_some_keys(PRICE_SAMPLES)
        for he in sample:
            total += key_py_size(he.key, he.val)
        mean = total / len(sample) if sample else price.key_avg
        key_avg = mean if not price.key_avg else \
            price.key_avg + PRICE_SMOOTHING * (mean - price.key_avg)
    slots = 0
    for table in d.ht_table:
        if table is not None:
            slots += len(table)
    ex = db.expires
    nexp = ex.ht_used[0] + ex.ht_used[1]
    if nexp:
        for table in ex.ht_table:
            if table is not None:
                slots += len(table)
    price.key_avg = key_avg
    price.per_key = key_avg + (slots * SIZEOF_POINTER + nexp * SIZEOF_PY_EXPIRE) / n


_next_pricing = 0.0


def dataset_memory() -> int:
    """The keyspace part of used_memory(): keys(db) * price(db).  Every db is re-priced
    when the last pricing is REPRICE_INTERVAL old, and a db seen with keys but no price yet
    is priced on the spot (so a fresh db never counts as free)."""
    global _next_pricing
    dbs = server.db
    prices = _prices
    if len(prices) != len(dbs):
        prices[:] = [DbPrice() for _ in dbs]
    if not _prices_frozen:
        now = _monotonic()
        if now >= _next_pricing:
            _next_pricing = now + REPRICE_INTERVAL
            for db, price in zip(dbs, prices, strict=True):
                used = db.dict.ht_used
                n = used[0] + used[1]
                if n:
                    price_db(db, n, price)
    total = 0.0
    for db, price in zip(dbs, prices, strict=True):
        used = db.dict.ht_used
        n = used[0] + used[1]
        if n:
            per_key = price.per_key
            if not per_key:
                price_db(db, n, price)
                per_key = price.per_key
            total += n * per_key
    return int(total)


def used_memory_startup() -> int:
    """The RSS once the server was initialised (info.init records it), measured here if
    nothing did yet."""
    srv = server
    base = srv.stat_used_memory_startup
    if not base:
        from tracered import info

        base = srv.stat_used_memory_startup = info.zmalloc_get_rss()
    return base


def used_memory() -> int:
    """zmalloc_used_memory's stand-in: startup footprint + priced keyspace + replication
    backlog + AOF buffer (see the module docstring for why it is an estimate)."""
    srv = server
    total = (srv.stat_used_memory_startup or used_memory_startup()) + dataset_memory()
    if srv.repl_backlog is not None:
        total += srv.repl_backlog_size
    aof_buf = getattr(srv, "aof_buf", None)
    if aof_buf:
        total += len(aof_buf)
    return total


def free_memory_get_not_counted_memory() -> int:
    """freeMemoryGetNotCountedMemory: memory that must not drive eviction, or each evicted
    key's DEL would grow it and evict more.  Here only the AOF buffer: replicas' output
    buffers are not part of used_memory() in the first place."""
    srv = server
    if srv.aof_state:
        aof_buf = getattr(srv, "aof_buf", None)
        if aof_buf:
            return len(aof_buf)
    return 0


def get_maxmemory_state() -> tuple[bool, int, int, int, float]:
    """getMaxmemoryState: (within limit, total, logical, tofree, level).  ``logical`` is
    the used memory minus what is not counted; ``tofree`` how far over the limit that is
    (both 0 when within)."""
    srv = server
    reported = used_memory()
    maxmemory = srv.maxmemory
    if not maxmemory:
        return True, reported, 0, 0, 0.0
    overhead = free_memory_get_not_counted_memory()
    used = reported - overhead if reported > overhead else 0
    level = used / maxmemory
    if reported <= maxmemory or used <= maxmemory:
        return True, reported, 0, 0, level
    return False, reported, used, used - maxmemory, level


def over_maxmemory_after_alloc(moremem: int) -> bool:
    """overMaxmemoryAfterAlloc: would allocating ``moremem`` more bytes exceed maxmemory?"""
    srv = server
    if not srv.maxmemory:
        return False
    used = used_memory()
    if used + moremem <= srv.maxmemory:
        return False
    overhead = free_memory_get_not_counted_memory()
    used = used - overhead if used > overhead else 0
    return used + moremem > srv.maxmemory


# --------------------------------------------------------------------------------------------
# performEvictions and its timer
# --------------------------------------------------------------------------------------------

_eviction_proc_running = False
_next_db = 0   # the random policies visit dbs round robin (a static in Redis)


def eviction_time_proc(el, event_id: int, client_data) -> int:
    """evictionTimeProc: keep evicting from the event loop, one performEvictions per loop
    iteration, until memory is fine (EVICT_OK) or nothing is left to evict (EVICT_FAIL)."""
    global _eviction_proc_running
    if perform_evictions() == EVICT_RUNNING:
        return 0
    _eviction_proc_running = False
    from tracered.ae import AE_NOMORE

    return AE_NOMORE


def start_eviction_time_proc() -> None:
    """startEvictionTimeProc: arm the timer once (CONFIG SET maxmemory, or a cycle that
    ran out of time)."""
    global _eviction_proc_running
    el = getattr(server, "el", None)
    if not _eviction_proc_running and el is not None:
        _eviction_proc_running = True
        el.create_time_event(0, eviction_time_proc)


def is_inside_yielding_long_command() -> bool:
    """isInsideYieldingLongCommand: a script past busy-reply-threshold is running (the
    scripting module sets ``server.script_timedout``)."""
    return bool(getattr(server, "script_timedout", False))


def is_safe_to_perform_evictions() -> bool:
    """isSafeToPerformEvictions: not while loading or inside a timed-out script, not on a
    replica that ignores maxmemory (it mirrors its master, whose DELs arrive), and not
    while clients are paused (the dataset must stay still)."""
    srv = server
    if srv.loading or is_inside_yielding_long_command():
        return False
    if srv.masterhost and srv.replica_ignore_maxmemory:
        return False
    if srv.client_pause_type:
        end = srv.client_pause_end_time
        if not end or srv.mstime < end:
            return False
    return True


def eviction_time_limit_us() -> int:
    """evictionTimeLimitUs: maxmemory-eviction-tenacity 0..10 -> 0..500 µs linearly, then
    15% more per step (~2 minutes at 99), 100 -> no limit."""
    tenacity = server.maxmemory_eviction_tenacity
    if tenacity <= 10:
        return 50 * tenacity
    if tenacity < 100:
        return int(500.0 * 1.15 ** (tenacity - 10.0))
    return ULONG_MAX


def _update_metrics(result: int) -> int:
    """performEvictions' update_metrics: time spent over the limit (INFO stats)."""
    srv = server
    if result == EVICT_OK:
        start = srv.stat_last_eviction_exceeded_time
        if start:
            srv.stat_total_eviction_exceeded_time += int((_monotonic() - start) * 1_000_000)
            srv.stat_last_eviction_exceeded_time = 0
    elif not srv.stat_last_eviction_exceeded_time:
        srv.stat_last_eviction_exceeded_time = _monotonic()
    return result


def current_eviction_exceeded_time_ms() -> int:
    """INFO's current_eviction_exceeded_time: ms since memory went over and stayed over."""
    start = server.stat_last_eviction_exceeded_time
    return int((_monotonic() - start) * 1000) if start else 0


def _pick_from_pool(policy: int) -> tuple[bytes | None, int]:
    """The pool half of a round: populate from every db, then take the best live entry
    (right to left), dropping ghosts (keys deleted since they were sampled)."""
    srv = server
    pool = EvictionPoolLRU
    allkeys = policy & MAXMEMORY_FLAG_ALLKEYS
    while True:
        total_keys = 0
        for i, db in enumerate(srv.db):
            d = db.dict if allkeys else db.expires
            keys = d.ht_used[0] + d.ht_used[1]
            if keys:
                # Sample every db, so the choice is global rather than local to one db.
                eviction_pool_populate(i, d, db.dict, pool)
                total_keys += keys
        if not total_keys:
            return None, 0
        for k in range(EVPOOL_SIZE - 1, -1, -1):
            entry = pool[k]
            key = entry.key
            if key is None:
                continue
            dbid = entry.dbid
            db = srv.db[dbid]
            de = (db.dict if allkeys else db.expires).find(key)
            entry.key = None
            entry.idle = 0
            if de is not None:
                return de.key, dbid
        # Every entry was a ghost: sample again.


def _pick_random(policy: int) -> tuple[bytes | None, int]:
    """volatile-random / allkeys-random: a random key of the next non-empty db."""
    global _next_db
    srv = server
    dbnum = len(srv.db)
    for _ in range(dbnum):
        _next_db += 1
        j = _next_db % dbnum
        db = srv.db[j]
        d = db.dict if policy == MAXMEMORY_ALLKEYS_RANDOM else db.expires
        if d.ht_used[0] + d.ht_used[1]:
            de = d.get_random_key()
            if de is not None:
                return de.key, j
    return None, 0


@probe("performEvictions")
def perform_evictions() -> int:
    """performEvictions: if used memory is over maxmemory, evict keys by the policy until
    enough is freed or the tenacity time limit is hit (then a timer goes on evicting).

    Returns EVICT_OK (fine, or evicting is not allowed right now), EVICT_RUNNING (still
    over, the timer is at work) or EVICT_FAIL (over, and nothing can be evicted): on
    EVICT_FAIL processCommand refuses commands that may grow memory with -OOM.
    """
    global _prices_frozen
    if not is_safe_to_perform_evictions():
        return EVICT_OK  # as if eviction were not needed; metrics untouched
    srv = server
    if used_memory() <= srv.maxmemory:
        # getMaxmemoryState's early return, inlined: this runs before every command.
        if srv.stat_last_eviction_exceeded_time:
            return _update_metrics(EVICT_OK)
        return EVICT_OK
    ok, _total, _logical, tofree, _level = get_maxmemory_state()
    if ok:
        if srv.stat_last_eviction_exceeded_time:
            return _update_metrics(EVICT_OK)
        return EVICT_OK
    policy = POLICY_BY_NAME[srv.maxmemory_policy]
    if policy == MAXMEMORY_NO_EVICTION:
        return _update_metrics(EVICT_FAIL)  # over the limit and not allowed to free

    limit_us = eviction_time_limit_us()
    lazy = srv.lazyfree_lazy_eviction
    result = EVICT_FAIL
    mem_freed = 0
    keys_freed = 0
    pooled = bool(policy & (MAXMEMORY_FLAG_LRU | MAXMEMORY_FLAG_LFU)) or \
        policy == MAXMEMORY_VOLATILE_TTL
    perf = time.perf_counter
    start = perf()
    cant_free = False
    _prices_frozen = True
    try:
        while mem_freed < tofree:
            if pooled:
                bestkey, bestdbid = _pick_from_pool(policy)
            else:
                bestkey, bestdbid = _pick_random(policy)
            if bestkey is None:
                cant_free = True  # nothing left to evict
                break
            db = srv.db[bestdbid]
            # Count only what the deletion itself frees: the DEL queued for the AOF and
            # replicas may take more, but counting it would never let the loop end.
            delta = used_memory()
            t0 = perf()
            if lazy:
                dbmod.db_async_delete(db, bestkey)
            else:
                dbmod.db_sync_delete(db, bestkey)
            latency.latency_add_sample_if_needed("eviction-del", int((perf() - t0) * 1000))
            delta -= used_memory()
            mem_freed += delta
            srv.stat_evictedkeys += 1
            dbmod.signal_modified_key(None, db, bestkey)
            if srv.notify_keyspace_events:
                dbmod.notify_keyspace_event(dbmod.NOTIFY_EVICTED, "evicted", bestkey, db.id)
            dbmod.propagate_deletion(db, bestkey, lazy)
            if probes.armed:
                probes.event("eviction", {
                    "redis.key": bestkey.decode("utf-8", "replace"),
                    "db.namespace": str(bestdbid),
                    "redis.maxmemory_policy": srv.maxmemory_policy,
                    "redis.evict.freed": delta})
            keys_freed += 1
            if keys_freed % 16 == 0 and (perf() - start) * 1_000_000 > limit_us:
                # Out of time with memory still to free: the timer carries on.
                start_eviction_time_proc()
                break
    finally:
        _prices_frozen = False
    if not cant_free:
        # Under the limit again, or out of time with the timer now evicting.
        result = EVICT_RUNNING if _eviction_proc_running else EVICT_OK
    latency.latency_add_sample_if_needed("eviction-cycle", int((perf() - start) * 1000))
    return _update_metrics(result)


def _perform_evictions_for_command() -> bool:
    """What processCommand calls (server.perform_evictions): False means out of memory
    (EVICT_FAIL), so denyoom commands get -OOM."""
    return perform_evictions() != EVICT_FAIL


def _on_maxmemory_set(srv) -> str | None:
    """CONFIG SET maxmemory (updateMaxmemory's second half): start evicting now rather than
    waiting for the next command."""
    if srv.maxmemory:
        start_eviction_time_proc()
    return None


# The eviction-time stats (INFO stats, CONFIG RESETSTAT): class defaults, so a server that
# never evicted (or a test's bare Server) reads 0.  The "last" one holds a monotonic start
# time in seconds while memory stays over the limit.
for _name in ("stat_last_eviction_exceeded_time", "stat_total_eviction_exceeded_time",
              "stat_used_memory_startup"):
    if not hasattr(Server, _name):
        setattr(Server, _name, 0)


def init(srv) -> None:
    """Install the processCommand hook and the CONFIG SET maxmemory reaction."""
    from tracered import config

    srv.perform_evictions = _perform_evictions_for_command
    hooks = config.apply_hooks["maxmemory"]
    if _on_maxmemory_set not in hooks:
        hooks.append(_on_maxmemory_set)
