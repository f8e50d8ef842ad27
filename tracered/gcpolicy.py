"""Python's cyclic garbage collector, kept off the keyspace.

Redis has no counterpart: C code frees each allocation when it is done with it, so Redis
never stops to look for garbage.  CPython frees most objects the same way (reference
counts), but it also runs a *cyclic* collector that walks every tracked container of a
generation looking for reference cycles.  Objects that survive two young collections end
in the oldest generation, and CPython walks *all* of it whenever it has grown by a quarter
since the last full collection.

For a server that is the worst case.  Every key is an robj plus a dictEntry (two tracked
objects), every SET of a new value promotes a fresh robj, and the oldest generation is the
whole dataset.  Measured here: with 316k keys a full collection stopped tracered for
~0.8 s (redis-benchmark's max latency: 788 ms), and a write load paid one every few
seconds, 4.6 s of pauses over three benchmark runs.

What tracered does instead: the keyspace never forms cycles (an robj, dictEntry,
listpack or skiplist node holds bytes and containers below it, never a reference back up),
so walking it can never find garbage.  tracered moves every object that is alive into
CPython's *permanent generation* with ``gc.freeze()`` (an O(1) list splice), once at startup
after the dataset is loaded, after every RDB load, and then at most once a
``FREEZE_INTERVAL`` from serverCron.  The collector keeps running as usual on what was
created since: the young generations cost what they cost before, and a full collection is
bounded by the objects that survived one interval instead of the whole dataset.  A side
benefit Redis users will recognise from BGSAVE: frozen objects are never written to by the
collector, so the parent's collections no longer copy the child's pages (copy-on-write).

The price, said plainly: a reference cycle that is still alive when frozen and dies later
is never collected.  tracered's own long-lived structures do not make cycles (the tests
connect and drop clients that blocked, subscribed, ran MULTI and scripts, and find no
cyclic garbage), so this only matters for a bug.  ``MEMORY PURGE`` runs a complete
collection (unfreeze, collect everything, freeze again) and logs what it found; ``CONFIG
SET gc-freeze no`` returns to CPython's default behaviour.  ``INFO gc`` (a tracered-only
section) shows the counts.
"""

from __future__ import annotations

import collections
import gc
import time

from tracered import config
from tracered.config import MODIFIABLE, StandardConfig

FREEZE_INTERVAL = 1.0   # seconds between two freezes from serverCron

_last_freeze = 0.0
_freezes = 0
_full_collections = 0           # complete collections run by MEMORY PURGE
_last_full_collected = 0
_last_full_ms = 0.0


def freeze_survivors(srv) -> None:
    """Move every object alive now into the permanent generation (no-op when disabled)."""
    global _last_freeze, _freezes
    if not srv.gc_freeze:
        return
    gc.freeze()
    _last_freeze = time.monotonic()
    _freezes += 1


def cron(srv) -> None:
    """serverCron hook: freeze the survivors of the last interval."""
    if srv.gc_freeze and time.monotonic() - _last_freeze >= FREEZE_INTERVAL:
        freeze_survivors(srv)


def full_collection(srv) -> int:
    """A complete collection over everything, frozen objects included; returns the number
    of unreachable objects found.  Stops the server for as long as it walks the heap."""
    global _full_collections, _last_full_collected, _last_full_ms
    t0 = time.perf_counter()
    gc.unfreeze()
    # Keep what is found for a moment to say what it was: a cycle here is a tracered bug
    # worth reporting (see the module docstring).  Then free it for real.
    flags = gc.get_debug()
    gc.set_debug(flags | gc.DEBUG_SAVEALL)
    try:
        found = gc.collect()
        kinds = collections.Counter(type(o).__name__ for o in gc.garbage)
        gc.garbage.clear()
    finally:
        gc.set_debug(flags)
    if found:
        gc.collect()
    freeze_survivors(srv)
    _last_full_ms = (time.perf_counter() - t0) * 1000
    _full_collections += 1
    _last_full_collected = found
    srv.log_notice("Full garbage collection: %d unreachable objects%s, %.1f ms"
                   % (found, " (%s)" % ", ".join("%s: %d" % kv for kv in kinds.most_common(6))
                      if found else "", _last_full_ms))
    return found


def _on_set(srv) -> None:
    """CONFIG SET gc-freeze no: give the frozen objects back to the collector."""
    if not srv.gc_freeze and gc.get_freeze_count():
        gc.unfreeze()


def info_lines() -> list[str]:
    counts = gc.get_count()
    stats = gc.get_stats()
    return ["# GC",
            f"gc_freeze:{'yes' if _server().gc_freeze else 'no'}",
            f"gc_frozen_objects:{gc.get_freeze_count()}",
            f"gc_freezes:{_freezes}",
            f"gc_gen_counts:{counts[0]},{counts[1]},{counts[2]}",
            f"gc_collections:{','.join(str(s['collections']) for s in stats)}",
            f"gc_collected:{sum(s['collected'] for s in stats)}",
            f"gc_uncollectable:{sum(s['uncollectable'] for s in stats)}",
            f"gc_full_collections:{_full_collections}",
            f"gc_last_full_collected:{_last_full_collected}",
            f"gc_last_full_ms:{_last_full_ms:.1f}"]


CONFIGS = [StandardConfig("gc-freeze", "bool", 1, MODIFIABLE, on_set=_on_set)]


def register_configs(srv) -> None:
    """Add gc-freeze to the config table (on import, so redis.conf can set it)."""
    for cfg in CONFIGS:
        if cfg.name not in config.BY_NAME:
            config.register(cfg)
            if not hasattr(srv, cfg.attr):
                setattr(srv, cfg.attr, bool(cfg.default))


def init(srv) -> None:
    """Install the cron hook, the startup freeze (startup hooks run in module order, so
    after loadDataFromDisk) and INFO gc."""
    from tracered import info

    register_configs(srv)
    if cron not in srv.cron_hooks:
        srv.cron_hooks.append(cron)
    if freeze_survivors not in srv.startup_hooks:
        srv.startup_hooks.append(freeze_survivors)
    info.EXTRA_SECTIONS["gc"] = info_lines


def _server():
    from tracered.server import server

    return server


register_configs(_server())

COMMANDS: list = []
