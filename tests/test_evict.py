"""maxmemory and eviction (tracered/evict.py).

In process: the LFU counter arithmetic, the tenacity time limit, the eviction pool order,
and performEvictions' side effects (DEL/UNLINK propagation, the "evicted" notification, the
probe event, the stat, the replica and pause rules, the timer that keeps evicting).

Over TCP: every policy against a small maxmemory on a live tracered, the -OOM reply and
OBJECT FREQ compared with redis-server, INFO's evicted_keys and used_memory, CONFIG SET
maxmemory at run time.  The limits are set relative to INFO's used_memory, as Redis's own
maxmemory tests do, since a Python server's startup footprint is far above Redis's.
"""

from __future__ import annotations

import time

import pytest
import redis
from conftest import ServerProc

from tracered import db as dbmod
from tracered import evict
from tracered import networking as net
from tracered import object as obj
from tracered import server as sm
from tracered.trace import probes

# --------------------------------------------------------------------------------------------
# In process
# --------------------------------------------------------------------------------------------

_SAVED_ATTRS = ("db", "maxmemory", "maxmemory_policy", "maxmemory_samples",
                "maxmemory_eviction_tenacity", "lfu_log_factor", "lfu_decay_time",
                "lazyfree_lazy_eviction", "notify_keyspace_events", "masterhost",
                "replica_ignore_maxmemory", "client_pause_type", "client_pause_end_time",
                "perform_evictions", "stat_evictedkeys", "unixtime", "el",
                "stat_last_eviction_exceeded_time", "stat_total_eviction_exceeded_time")


class InProc:
    """The command path on a fake client, with propagation and notifications recorded."""

    def __init__(self) -> None:
        from tracered import commands

        srv = sm.server
        net.server = srv
        self.srv = srv
        self.saved = {a: getattr(srv, a, None) for a in _SAVED_ATTRS}
        self.saved_hooks = list(srv.propagate_hooks)
        self.saved_notify = dbmod.notify_hook
        self.saved_lfu = (obj.lfu_mode, obj.no_shared_integers)
        self.saved_pool = list(evict.EvictionPoolLRU)
        srv.db = [dbmod.RedisDb(i) for i in range(srv.databases)]
        commands.populate_command_table(sm.all_command_tables())
        self.propagated: list[list[bytes]] = []
        self.events: list[tuple[str, bytes]] = []
        srv.propagate_hooks[:] = [lambda dbid, argv, target: self.propagated.append(argv)]
        dbmod.notify_hook = lambda t, ev, key, dbid: self.events.append((ev, key))
        srv.notify_keyspace_events = "KEA"
        srv.perform_evictions = evict._perform_evictions_for_command
        srv.maxmemory = 0
        srv.maxmemory_eviction_tenacity = 100   # no time limit unless a test sets one
        srv.stat_evictedkeys = 0
        evict.EvictionPoolLRU[:] = evict.eviction_pool_alloc()
        self.c = net.create_client(None)

    def close(self) -> None:
        srv = self.srv
        for a, v in self.saved.items():
            setattr(srv, a, v)
        srv.propagate_hooks[:] = self.saved_hooks
        dbmod.notify_hook = self.saved_notify
        obj.lfu_mode, obj.no_shared_integers = self.saved_lfu
        evict.EvictionPoolLRU[:] = self.saved_pool
        evict._eviction_proc_running = False

    def __call__(self, *args) -> bytes:
        c = self.c
        c.argv = [a if isinstance(a, bytes) else str(a).encode() for a in args]
        sm.process_command(c)
        out = b"".join(c.reply)
        c.reply.clear()
        c.reply_bytes = 0
        return out

    def fill(self, n: int, prefix: str = "k", ttl: int | None = None) -> None:
        for i in range(n):
            if ttl is None:
                self("SET", f"{prefix}{i}", "v" * 50)
            else:
                self("SET", f"{prefix}{i}", "v" * 50, "EX", ttl + i)

    def keys(self) -> set[bytes]:
        out = set()
        for db in self.srv.db:
            for table in db.dict.ht_table:
                for he in table or ():
                    while he is not None:
                        out.add(he.key)
                        he = he.next
        return out

    def squeeze(self, nkeys: int) -> None:
        """Set maxmemory so that about ``nkeys`` keys must go."""
        used = evict.used_memory()
        per_key = evict.dataset_memory() / max(1, sum(len(d.dict) for d in self.srv.db))
        self.srv.maxmemory = int(used - nkeys * per_key)


@pytest.fixture
def inproc():
    p = InProc()
    yield p
    p.close()


def test_eviction_time_limit_follows_tenacity(inproc):
    srv = inproc.srv
    expected = {0: 0, 1: 50, 10: 500, 11: 575, 20: int(500 * 1.15 ** 10), 100: evict.ULONG_MAX}
    for tenacity, us in expected.items():
        srv.maxmemory_eviction_tenacity = tenacity
        assert evict.eviction_time_limit_us() == us
    srv.maxmemory_eviction_tenacity = 99
    assert 100e6 < evict.eviction_time_limit_us() < 150e6   # "about 2 minutes"


def test_lfu_counter_arithmetic(inproc):
    srv = inproc.srv
    srv.unixtime = 1_700_000_000
    now_min = (srv.unixtime // 60) & 65535
    assert evict.lfu_get_time_in_minutes() == now_min
    o = obj.RObj(obj.OBJ_STRING, obj.OBJ_ENCODING_RAW, b"v", lru=(now_min << 8) | 20)
    srv.lfu_decay_time = 1
    assert evict.lfu_decr_and_return(o) == 20
    o.lru = ((now_min - 7) << 8) | 20            # 7 minutes untouched: minus 7
    assert evict.lfu_decr_and_return(o) == 13
    assert o.lru & 255 == 20                     # read-only
    srv.lfu_decay_time = 3
    assert evict.lfu_decr_and_return(o) == 18    # 7 // 3 periods
    srv.lfu_decay_time = 0
    assert evict.lfu_decr_and_return(o) == 20    # decay disabled
    srv.lfu_decay_time = 1
    o.lru = ((now_min - 100) << 8) | 20
    assert evict.lfu_decr_and_return(o) == 0     # floored
    # The 16-bit minute clock wrapped once since the stamp.
    srv.unixtime = 60 * 3                        # minute 3
    o.lru = (65530 << 8) | 30
    assert evict.lfu_time_elapsed(65530) == 8
    assert evict.lfu_decr_and_return(o) == 22
    # update_lfu: age, then count, then stamp.
    srv.unixtime = 1_700_000_000
    srv.lfu_log_factor = 0                       # p = 1: every access counts
    o.lru = ((now_min - 2) << 8) | 10
    evict.update_lfu(o)
    assert o.lru == (now_min << 8) | 9


def test_lfu_log_incr_probability(inproc):
    srv = inproc.srv
    srv.lfu_log_factor = 0
    assert all(evict.lfu_log_incr(c) == c + 1 for c in range(255))
    assert evict.lfu_log_incr(255) == 255
    srv.lfu_log_factor = 10
    assert all(evict.lfu_log_incr(c) == c + 1 for c in range(obj.LFU_INIT_VAL + 1))
    # At 15, p = 1/(10*10+1): about 99 increments in 10000 tries.
    hits = sum(evict.lfu_log_incr(15) - 15 for _ in range(10000))
    assert 40 < hits < 200


def test_idle_time_handles_clock_wrap(inproc):
    saved = obj.lru_clock
    try:
        obj.lru_clock = 100
        o = obj.RObj(obj.OBJ_STRING, obj.OBJ_ENCODING_RAW, b"v", lru=40)
        assert evict.estimate_object_idle_time(o) == 60_000
        o.lru = obj.LRU_CLOCK_MAX - 5
        assert evict.estimate_object_idle_time(o) == 105_000
    finally:
        obj.lru_clock = saved


def test_pool_keeps_best_candidates_in_ascending_order(inproc):
    srv = inproc.srv
    srv.maxmemory_policy = "allkeys-lru"
    srv.maxmemory_samples = 64                   # sample (nearly) everything each round
    saved = obj.lru_clock
    try:
        obj.lru_clock = 10_000
        for i in range(40):
            inproc("SET", f"k{i}", "v")
            srv.db[0].dict.find(f"k{i}".encode()).val.lru = 10_000 - i   # k39 idlest
        pool = evict.eviction_pool_alloc()
        d = srv.db[0].dict
        evict.eviction_pool_populate(0, d, d, pool)
        idles = [e.idle for e in pool]
        assert all(e.key is not None for e in pool)
        assert idles == sorted(idles)
        # One round saw every key: the pool holds exactly the 16 idlest.
        assert [e.key for e in pool] == [f"k{i}".encode() for i in range(24, 40)]
        assert pool[-1].idle == 39_000
        # Like Redis, later rounds may insert a key already pooled; the order holds.
        evict.eviction_pool_populate(0, d, d, pool)
        idles = [e.idle for e in pool]
        assert idles == sorted(idles) and pool[-1].key == b"k39"
        assert min(idles) >= 24_000
    finally:
        obj.lru_clock = saved


def test_volatile_ttl_pool_scores_soonest_expiry_highest(inproc):
    srv = inproc.srv
    srv.maxmemory_policy = "volatile-ttl"
    srv.maxmemory_samples = 64
    for i in range(20):
        inproc("SET", f"k{i}", "v", "PX", 100_000 + i * 1000)
    pool = evict.eviction_pool_alloc()
    db = srv.db[0]
    for _ in range(3):
        evict.eviction_pool_populate(0, db.expires, db.dict, pool)
    assert pool[-1].key == b"k0"


def test_eviction_side_effects_and_probe(inproc, monkeypatch):
    srv = inproc.srv
    srv.maxmemory_policy = "allkeys-lru"
    inproc.fill(200)
    inproc.propagated.clear()
    # used_memory() re-prices the keyspace every 0.1 s; on a slow machine a re-pricing
    # between the eviction and the final check moved the estimate by a few kB.  Price
    # once now (in squeeze) and keep that price for the whole test.
    monkeypatch.setattr(evict, "REPRICE_INTERVAL", 3600.0)
    monkeypatch.setattr(evict, "_next_pricing", 0.0)

    class Sink(probes.Sink):
        def __init__(self) -> None:
            self.entered: list[str] = []
            self.evs: list[dict] = []

        def enter(self, info, args):
            self.entered.append(info.name)

        def leave(self, info, token):
            pass

        def event(self, name, attrs):
            if name == "eviction":
                self.evs.append(attrs)

    sink = Sink()
    probes.arm("performEvictions", sink)
    try:
        inproc.squeeze(50)
        reply = inproc("SET", "newkey", "x")
    finally:
        probes.remove_sink(sink)
    assert reply == b"+OK\r\n"
    evicted = [k for ev, k in inproc.events if ev == "evicted"]
    assert 30 <= len(evicted) <= 80
    assert srv.stat_evictedkeys == len(evicted)
    assert [a for a in inproc.propagated if a[0] == b"DEL"] == [[b"DEL", k] for k in evicted]
    assert inproc.propagated[-1] == [b"SET", b"newkey", b"x"]   # evictions go first
    assert sink.entered and sink.entered[0] == "performEvictions"
    assert [e["redis.key"].encode() for e in sink.evs] == evicted
    assert sink.evs[0]["redis.maxmemory_policy"] == "allkeys-lru"
    assert not set(evicted) & inproc.keys()
    # Back under the limit before the SET ran; the new key may tip it over again.
    assert evict.used_memory() <= srv.maxmemory + 1000


def test_lazyfree_eviction_propagates_unlink(inproc):
    srv = inproc.srv
    srv.maxmemory_policy = "allkeys-random"
    srv.lazyfree_lazy_eviction = True
    inproc.fill(100)
    inproc.propagated.clear()
    inproc.squeeze(10)
    inproc("SET", "x", "y")
    assert inproc.propagated[0][0] == b"UNLINK"
    assert {a[0] for a in inproc.propagated[:-1]} == {b"UNLINK"}


def test_no_eviction_on_ignoring_replica_or_when_paused(inproc):
    srv = inproc.srv
    srv.maxmemory_policy = "allkeys-lru"
    inproc.fill(100)
    inproc.squeeze(20)
    srv.masterhost = "127.0.0.1"
    srv.replica_ignore_maxmemory = True
    assert evict.perform_evictions() == evict.EVICT_OK
    assert srv.stat_evictedkeys == 0
    srv.masterhost = None
    srv.client_pause_type = sm.CLIENT_PAUSE_WRITE
    srv.client_pause_end_time = 0
    assert evict.perform_evictions() == evict.EVICT_OK
    assert srv.stat_evictedkeys == 0
    srv.client_pause_type = sm.CLIENT_PAUSE_OFF
    srv.masterhost = "127.0.0.1"
    srv.replica_ignore_maxmemory = False     # a replica told to obey maxmemory evicts
    assert evict.perform_evictions() == evict.EVICT_OK
    assert srv.stat_evictedkeys > 0


def test_tenacity_limit_hands_over_to_the_timer(inproc, monkeypatch):
    srv = inproc.srv
    monkeypatch.setattr(evict, "REPRICE_INTERVAL", 3600.0)   # one price for the test
    monkeypatch.setattr(evict, "_next_pricing", 0.0)
    srv.maxmemory_policy = "allkeys-random"
    srv.maxmemory_eviction_tenacity = 0          # no time: stop after the first 16 keys

    class Loop:
        def __init__(self) -> None:
            self.timers: list = []

        def create_time_event(self, ms, proc, client_data=None, finalizer_proc=None):
            self.timers.append(proc)
            return len(self.timers)

    srv.el = Loop()
    inproc.fill(300)
    inproc.squeeze(100)
    assert evict.perform_evictions() == evict.EVICT_RUNNING
    assert srv.stat_evictedkeys == 16
    assert srv.el.timers == [evict.eviction_time_proc]
    from tracered.ae import AE_NOMORE

    rounds = 0
    while evict.eviction_time_proc(srv.el, 1, None) == 0:
        rounds += 1
        assert rounds < 100
    assert evict.used_memory() <= srv.maxmemory
    assert 80 <= srv.stat_evictedkeys <= 130
    assert evict.eviction_time_proc(srv.el, 1, None) == AE_NOMORE
    assert srv.stat_total_eviction_exceeded_time > 0 and not srv.stat_last_eviction_exceeded_time


def test_nothing_to_evict_is_oom(inproc):
    srv = inproc.srv
    srv.maxmemory_policy = "volatile-lru"
    inproc.fill(50)                              # no TTLs: nothing is evictable
    inproc.squeeze(10)
    assert evict.perform_evictions() == evict.EVICT_FAIL
    assert inproc("SET", "x", "y").startswith(b"-OOM command not allowed")
    assert inproc("GET", "k1") == b"$50\r\n" + b"v" * 50 + b"\r\n"
    inproc("MULTI")
    assert inproc("GET", "k1").startswith(b"-OOM")   # queuing is refused in MULTI
    assert inproc("EXEC").startswith(b"-EXECABORT")
    assert inproc("DEL", "k1", "k2", "k3") == b":3\r\n"


def test_used_memory_follows_deletes_at_once(inproc):
    inproc.fill(1000)
    before = evict.used_memory()
    per_key = evict.dataset_memory() / 1000
    assert 150 < per_key < 600
    for i in range(500):
        inproc("DEL", f"k{i}")
    after = evict.used_memory()
    assert 0.8 * 500 * per_key < before - after < 1.2 * 500 * per_key
    inproc("FLUSHALL")
    assert evict.dataset_memory() == 0


# --------------------------------------------------------------------------------------------
# Over TCP, on a live tracered
# --------------------------------------------------------------------------------------------

VALUE = "x" * 100


def _used(c: redis.Redis) -> int:
    return int(c.info("memory")["used_memory"])


def _evicted(c: redis.Redis) -> int:
    return int(c.info("stats")["evicted_keys"])


def _fill(c: redis.Redis, prefix: str, n: int, ttl: int | None = None) -> None:
    p = c.pipeline(transaction=False)
    for i in range(n):
        if ttl is None:
            p.set(f"{prefix}{i}", VALUE)
        else:
            p.set(f"{prefix}{i}", VALUE, ex=ttl + i)
    p.execute()


def _alive(c: redis.Redis, prefix: str, n: int) -> list[int]:
    p = c.pipeline(transaction=False)
    for i in range(n):
        p.exists(f"{prefix}{i}")
    return [i for i, e in enumerate(p.execute()) if e]


def _settle(c: redis.Redis) -> None:
    """Wait (bounded) until used_memory is back under maxmemory: past the tenacity limit
    (500 µs, about 16 keys in Python) the eviction timer goes on between commands."""
    limit = int(c.config_get("maxmemory")["maxmemory"])
    deadline = time.time() + 10
    while _used(c) > limit:
        assert time.time() < deadline, "eviction did not bring used_memory under maxmemory"
        time.sleep(0.02)


def _per_key(c: redis.Redis, prefix: str, n: int) -> float:
    """used_memory growth per key of a fresh batch."""
    before = _used(c)
    _fill(c, prefix, n)
    time.sleep(0.15)                 # let the pricing see the batch
    return (_used(c) - before) / n


@pytest.fixture
def lr(tracered_server):
    """A client on the module's tracered with the maxmemory settings reset afterwards."""
    c = tracered_server.client()
    c.config_set("maxmemory", 0)
    c.flushall()
    c.config_resetstat()
    yield c
    c.config_set("maxmemory", 0)
    c.config_set("maxmemory-policy", "noeviction")
    c.config_set("lfu-log-factor", 10)
    c.config_set("notify-keyspace-events", "")
    c.flushall()
    c.close()


def test_allkeys_lru_keeps_recently_used_keys(lr):
    lr.config_set("maxmemory-policy", "allkeys-lru")
    per_key = _per_key(lr, "cold", 1000)
    assert 150 < per_key < 600
    time.sleep(1.3)                  # the LRU clock ticks in seconds
    p = lr.pipeline(transaction=False)
    for i in range(500):             # cold0..cold499 become recently used
        p.get(f"cold{i}")
    p.execute()
    # Room for 700 of the next 1000 keys: about 300 must be evicted.
    lr.config_set("maxmemory", int(_used(lr) + 700 * per_key))
    for i in range(1000):
        lr.set(f"new{i}", VALUE)
    _settle(lr)
    evicted = _evicted(lr)
    assert 200 <= evicted <= 420
    hot = _alive(lr, "cold", 500)
    cold = [i for i in _alive(lr, "cold", 1000) if i >= 500]
    new = _alive(lr, "new", 1000)
    # Sampling makes it approximate: redis-server 7.0 in this very scenario loses 10-25 of
    # the 500 recently used keys, and takes ~90% of its victims among the idle ones.
    assert len(hot) >= 465                   # recently used keys survive
    assert 500 - len(cold) >= 0.8 * evicted  # the idle ones went first
    assert len(new) >= 950
    assert _used(lr) <= int(lr.config_get("maxmemory")["maxmemory"])


def test_allkeys_lfu_keeps_frequently_used_keys(lr):
    lr.config_set("maxmemory-policy", "allkeys-lfu")
    lr.config_set("lfu-log-factor", 0)       # every access counts: deterministic counters
    per_key = _per_key(lr, "k", 1000)
    p = lr.pipeline(transaction=False)
    for _ in range(5):
        for i in range(0, 1000, 4):          # every 4th key: counter 5 -> 10
            p.get(f"k{i}")
    p.execute()
    lr.config_set("maxmemory", int(_used(lr) - 300 * per_key))
    lr.set("trigger", "x")
    _settle(lr)
    alive = set(_alive(lr, "k", 1000))
    assert 200 <= _evicted(lr) <= 420
    assert all(i in alive for i in range(0, 1000, 4))


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-lfu", "volatile-random",
                                    "volatile-ttl"])
def test_volatile_policies_only_evict_keys_with_ttl(lr, policy):
    lr.config_set("maxmemory-policy", policy)
    _fill(lr, "persist", 300)
    before = _used(lr)
    _fill(lr, "ttl", 300, ttl=1000)
    time.sleep(0.15)
    per_key = (_used(lr) - before) / 300
    lr.config_set("maxmemory", int(_used(lr) - 100 * per_key))
    lr.set("trigger", "x")
    _settle(lr)
    assert len(_alive(lr, "persist", 300)) == 300
    gone = sorted(set(range(300)) - set(_alive(lr, "ttl", 300)))
    assert 60 <= len(gone) <= 160
    if policy == "volatile-ttl":
        # TTLs grow with the index: the soonest to expire are evicted first.
        assert sum(1 for i in gone if i < 150) >= 0.9 * len(gone)
    # With nothing volatile left to evict, writes are refused; reads and deletes are not.
    lr.config_set("maxmemory", 1)
    deadline = time.time() + 10
    while True:
        try:
            lr.set("more", "x")
        except redis.exceptions.OutOfMemoryError:
            break
        assert time.time() < deadline
        time.sleep(0.05)
    assert _alive(lr, "ttl", 300) == []
    assert len(_alive(lr, "persist", 300)) == 300
    assert lr.get("persist1") == VALUE.encode()
    assert lr.delete("persist1") == 1


def test_allkeys_random_evicts(lr):
    lr.config_set("maxmemory-policy", "allkeys-random")
    per_key = _per_key(lr, "k", 500)
    lr.config_set("maxmemory", int(_used(lr) - 100 * per_key))
    lr.set("trigger", "x")
    _settle(lr)
    assert 60 <= 501 - lr.dbsize() <= 160


def test_config_set_maxmemory_evicts_by_next_write(lr):
    lr.config_set("maxmemory-policy", "allkeys-lru")
    lr.config_set("notify-keyspace-events", "Ee")
    per_key = _per_key(lr, "k", 1000)
    assert _evicted(lr) == 0
    ps = lr.pubsub()
    ps.subscribe("__keyevent@0__:evicted")
    assert ps.get_message(timeout=2)["type"] == "subscribe"
    lr.config_set("maxmemory", int(_used(lr) - 200 * per_key))
    lr.set("after", "x")
    assert _evicted(lr) > 0          # this write found memory over the limit
    _settle(lr)
    n = _evicted(lr)
    assert 130 <= n <= 300
    assert lr.dbsize() == 1001 - n
    assert lr.get("after") == b"x"
    names = []
    while len(names) < n:
        m = ps.get_message(timeout=2)
        assert m is not None, f"got {len(names)} of {n} evicted notifications"
        names.append(m["data"])
    assert not any(lr.exists(k) for k in names[:20])
    ps.close()
    assert _used(lr) <= int(lr.config_get("maxmemory")["maxmemory"])


def test_info_memory_uses_the_eviction_figure(lr):
    base = _used(lr)
    _fill(lr, "k", 2000)
    time.sleep(0.15)
    grown = _used(lr) - base
    assert 2000 * 150 < grown < 2000 * 600
    info = lr.info("memory")
    assert info["used_memory_rss"] > 0 and info["maxmemory_policy"] == "noeviction"
    lr.flushall()
    assert _used(lr) - base < 0.05 * grown     # back down at once, unlike the RSS


def test_noeviction_from_the_command_line():
    sp = ServerProc.start_tracered("--maxmemory", "1", "--maxmemory-policy", "noeviction")
    try:
        c = sp.client()
        with pytest.raises(redis.exceptions.OutOfMemoryError) as e:
            c.set("k", "v")
        assert str(e.value) == "command not allowed when used memory > 'maxmemory'."
        assert c.get("k") is None
        assert c.delete("k") == 0
        assert c.ping()
        assert _evicted(c) == 0
        c.close()
    finally:
        sp.stop()


def _with_redis_config(rr: redis.Redis, **settings):
    old = {k: rr.config_get(k.replace("_", "-"))[k.replace("_", "-")] for k in settings}
    for k, v in settings.items():
        rr.config_set(k.replace("_", "-"), v)
    return old


def test_oom_replies_match_redis(lr, rr):
    from conftest import Differential

    diff = Differential(lr, rr)
    old = _with_redis_config(rr, maxmemory=1, maxmemory_policy="noeviction")
    lr.config_set("maxmemory", 1)
    try:
        diff("SET", "k", "v")
        diff("GET", "k")
        diff("DEL", "k")
        diff("LPUSH", "l", "a")
        diff("MULTI")
        diff("GET", "k")
        diff("EXEC")
        diff("PING")
    finally:
        _with_redis_config(rr, **{k.replace("-", "_"): v for k, v in old.items()})


def test_object_freq_counts_like_redis(lr, rr):
    from conftest import Differential

    diff = Differential(lr, rr)
    old = _with_redis_config(rr, maxmemory_policy="allkeys-lfu", lfu_log_factor=0)
    lr.config_set("maxmemory-policy", "allkeys-lfu")
    lr.config_set("lfu-log-factor", 0)
    try:
        diff("SET", "k", "v")
        assert diff("OBJECT", "FREQ", "k") == 5           # LFU_INIT_VAL
        for _ in range(10):
            diff("GET", "k")
        assert diff("OBJECT", "FREQ", "k") == 15          # factor 0: +1 per access
        diff("SET", "k", "w")                              # overwrite keeps the counter
        assert diff("OBJECT", "FREQ", "k") == 16
        # Default factor: the first access from 5 is certain, later ones get rarer.
        lr.config_set("lfu-log-factor", 10)
        rr.config_set("lfu-log-factor", 10)
        diff("SET", "f", "v")
        diff("GET", "f")
        assert diff("OBJECT", "FREQ", "f") == 6
        # One key's counter is a random walk (a single run reached 15 on real
        # Redis), so compare the mean over many keys: with factor 10, 100 hits
        # from 6 land near 9-10 on average; ignoring the factor would give ~105.
        means = []
        for c in (lr, rr):
            pipe = c.pipeline(transaction=False)
            for i in range(40):
                pipe.set(f"lfu:{i}", "v")
                for _ in range(100):
                    pipe.get(f"lfu:{i}")
            pipe.execute()
            freqs = [c.object("freq", f"lfu:{i}") for i in range(40)]
            means.append(sum(freqs) / len(freqs))
        assert all(7.5 <= m <= 12.5 for m in means), means
        assert abs(means[0] - means[1]) < 1.5, means
    finally:
        _with_redis_config(rr, **{k.replace("-", "_"): v for k, v in old.items()})
