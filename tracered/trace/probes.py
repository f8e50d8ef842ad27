"""The probe catalogue and the ``@probe`` hook: where spans and breakpoints attach.

A probe is a named point in the code, named exactly like the Redis function a learner would
put a gdb breakpoint on (``processCommand``, ``call``, ``dictRehash`` ...).  Two consumers
listen to probes: the span recorder (``trace/spans.py``) and the debugger
(``trace/debugger.py``).  Both are *sinks* registered here.

How a probe costs nothing when unused
-------------------------------------
``@probe("dictFind")`` records the function in the catalogue and returns it **unchanged**:
with nothing armed there is no wrapper, no flag test, nothing.  When a sink arms a probe,
:func:`arm` builds a wrapper and rebinds every reference the server uses (the module global,
the class attribute, the command table entry) to it; :func:`disarm` puts the original back.
This is the Python counterpart of how gdb patches a breakpoint instruction into the code.

The contract for callers: call probed functions through their module or class attribute
(``dict_mod.dict_rehash(d, 1)``, ``d.find(key)``); never cache them in locals, default
arguments or private tables, or the rebinding cannot reach them.

Moments *inside* a function (an encoding conversion, a rehash finishing) are not functions;
they are reported with :func:`event`, guarded by the module flag ``armed``::

    if probes.armed:
        probes.event("encoding.convert", {"from": "listpack", "to": "hashtable"})
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable
from typing import Any

# True while at least one sink listens.  Hot code tests this single flag before calling
# event(); the wrappers themselves only exist while armed.
armed: bool = False


class ProbeInfo:
    """One entry of the catalogue: the Redis side and the tracered side of a probe."""

    __slots__ = ("name", "redis_file", "redis_line", "exposes", "fn", "owner", "attr",
                 "wrapper", "tracered_file", "tracered_line", "pid")

    def __init__(self, name: str, redis_file: str = "", redis_line: int = 0,
                 exposes: str = "") -> None:
        self.name = name
        self.redis_file = redis_file      # e.g. "server.c"
        self.redis_line = redis_line      # definition line at tag 7.0.15
        self.exposes = exposes            # which live state the debugger frame shows
        self.fn: Callable | None = None   # the original function (None until imported)
        self.owner: Any = None            # module or class holding the attribute
        self.attr = ""
        self.wrapper: Callable | None = None
        self.tracered_file = ""
        self.tracered_line = 0
        self.pid = 0                      # small integer id used in compact span records

    @property
    def redis_location(self) -> str:
        if not self.redis_file:
            return ""
        return f"{self.redis_file}:{self.redis_line} @7.0.15"

    def __repr__(self) -> str:
        return (f"<probe {self.name} {self.redis_location} -> "
                f"{self.tracered_file}:{self.tracered_line}>")


# name -> ProbeInfo.  Seeded with the Redis 7.0.15 locations of the design-card and seed
# probes; @probe fills in the tracered side when the module is imported.
CATALOGUE: dict[str, ProbeInfo] = {}
BY_ID: list[ProbeInfo] = []


def _declare(name: str, redis_file: str, line: int, exposes: str = "") -> ProbeInfo:
    info = CATALOGUE.get(name)
    if info is None:
        info = ProbeInfo(name, redis_file, line, exposes)
        info.pid = len(BY_ID)
        BY_ID.append(info)
        CATALOGUE[name] = info
    else:
        info.redis_file, info.redis_line = redis_file, line
        info.exposes = exposes or info.exposes
    return info


for _name, _file, _line, _exposes in (
    ("aeProcessEvents", "ae.c", 357, "event loop"),
    ("beforeSleep", "server.c", 1560, "pending writes"),
    ("serverCron", "server.c", 1201, "cron counters"),
    ("acceptTcpHandler", "networking.c", 1359, "listening socket"),
    ("createClient", "networking.c", 115, "client"),
    ("readQueryFromClient", "networking.c", 2619, "client, query buffer"),
    ("processInputBuffer", "networking.c", 2523, "client, query buffer"),
    ("processMultibulkBuffer", "networking.c", 2264, "client, query buffer"),
    ("processCommand", "server.c", 3679, "client, argv"),
    ("lookupCommand", "server.c", 3048, "command table"),
    ("call", "server.c", 3347, "client, argv, key robj, db dict"),
    ("addReply", "networking.c", 407, "client reply buffer"),
    ("addReplyBulk", "networking.c", 1019, "client reply buffer"),
    ("lookupKey", "db.c", 87, "key robj, db dict"),
    ("dbAdd", "db.c", 187, "key robj, db dict"),
    ("createStringObject", "object.c", 120, "robj"),
    ("createHashObject", "object.c", 251, "robj"),
    ("dictFind", "dict.c", 517, "dict tables, rehashidx"),
    ("dictAddRaw", "dict.c", 340, "dict tables, rehashidx"),
    ("dictExpand", "dict.c", 166, "dict tables"),
    ("dictRehash", "dict.c", 211, "dict tables, rehashidx"),
    ("_dictRehashStep", "dict.c", 298, "dict tables, rehashidx"),
    ("rdbSave", "rdb.c", 1405, "persistence"),
    ("rdbSaveBackground", "rdb.c", 1466, "persistence, child pid"),
    ("rewriteAppendOnlyFileBackground", "aof.c", 2431, "aof"),
    ("feedAppendOnlyFile", "aof.c", 1309, "aof buffer"),
    ("flushAppendOnlyFile", "aof.c", 1062, "aof buffer"),
    ("replicationFeedSlaves", "replication.c", 429, "replication backlog"),
    ("feedReplicationBuffer", "replication.c", 323, "replication backlog"),
    ("addReplyReplicationBacklog", "replication.c", 605, "replication backlog"),
    ("masterTryPartialResynchronization", "replication.c", 725, "replication"),
    ("syncWithMaster", "replication.c", 2570, "replication"),
    ("processInlineBuffer", "networking.c", 2146, "client, query buffer"),
    ("expireIfNeeded", "db.c", 1682, "key, expires dict"),
    ("activeExpireCycle", "expire.c", 113, "expires dicts"),
    ("setGenericCommand", "t_string.c", 84, "key robj"),
    ("incrDecrCommand", "t_string.c", 598, "key robj"),
    ("dbUnshareStringValue", "db.c", 387, "key robj"),
    ("createSetObject", "object.c", 237, "robj"),
    ("createIntsetObject", "object.c", 244, "robj, intset bytes"),
    ("createZsetObject", "object.c", 258, "robj"),
    ("createZsetListpackObject", "object.c", 269, "robj, listpack bytes"),
    ("createQuicklistObject", "object.c", 230, "robj, quicklist"),
    ("hashTypeConvert", "t_hash.c", 489, "robj encoding"),
    ("setTypeConvert", "t_set.c", 238, "robj encoding"),
    ("zsetConvert", "t_zset.c", 1167, "robj encoding"),
    ("zsetAdd", "t_zset.c", 1319, "robj"),
    ("zslInsert", "t_zset.c", 133, "skiplist"),
    ("listTypePush", "t_list.c", 41, "robj, quicklist"),
    ("_quicklistSplitNode", "quicklist.c", 905, "quicklist nodes"),
    ("_quicklistMergeNodes", "quicklist.c", 841, "quicklist nodes"),
    ("blockForKeys", "blocked.c", 729, "client, blocking keys"),
    ("handleClientsBlockedOnKeys", "blocked.c", 621, "ready keys"),
    ("hllSparseToDense", "hyperloglog.c", 585, "hll bytes"),
    ("computeDatasetDigest", "debug.c", 276, "all dbs"),
    ("xorObjectDigest", "debug.c", 139, "robj"),
    ("rdbLoad", "rdb.c", 3251, "persistence"),
    ("backgroundSaveDoneHandler", "rdb.c", 3329, "persistence"),
    ("replicationCron", "replication.c", 3565, "replication"),
    ("readSyncBulkPayload", "replication.c", 1819, "replication"),
    ("replicationCreateMasterClient", "replication.c", 1716, "replication"),
    ("performEvictions", "evict.c", 540, "maxmemory, eviction pool"),
    ("evictionPoolPopulate", "evict.c", 146, "eviction pool"),
    ("queueMultiCommand", "multi.c", 60, "client, MULTI state"),
    ("watchForKey", "multi.c", 279, "watched keys"),
    ("touchWatchedKey", "multi.c", 357, "watched keys"),
    ("touchAllWatchedKeysInDb", "multi.c", 405, "watched keys"),
    ("pubsubSubscribeChannel", "pubsub.c", 246, "channels"),
    ("pubsubSubscribePattern", "pubsub.c", 343, "patterns"),
    ("pubsubPublishMessage", "pubsub.c", 523, "channels, subscribers"),
    ("notifyKeyspaceEvent", "notify.c", 104, "notify-keyspace-events"),
    ("evalGenericCommand", "eval.c", 489, "script, client"),
    ("luaCreateFunction", "eval.c", 423, "scripts cache"),
    ("scriptingInit", "eval.c", 183, "Lua state"),
    ("luaRedisGenericCommand", "script_lua.c", 888, "script client, argv"),
    ("luaCallFunction", "script_lua.c", 1634, "script"),
    ("scriptCall", "script.c", 518, "script client, argv"),
    ("scriptKill", "script.c", 294, "running script"),
    ("scriptInterrupt", "script.c", 80, "running script"),
    ("scriptPrepareForRun", "script.c", 131, "script run context"),
    ("processEventsWhileBlocked", "networking.c", 4000, "event loop"),
    ("loadAppendOnlyFiles", "aof.c", 1634, "aof manifest"),
    ("loadSingleAppendOnlyFile", "aof.c", 1384, "aof file"),
    ("rewriteAppendOnlyFile", "aof.c", 2357, "aof rewrite (child)"),
    ("backgroundRewriteDoneHandler", "aof.c", 2572, "aof rewrite"),
    ("startAppendOnly", "aof.c", 974, "aof state"),
    ("stopAppendOnly", "aof.c", 951, "aof state"),
    ("createStreamObject", "object.c", 276, "robj"),
    ("streamAppendItem", "t_stream.c", 426, "stream nodes"),
    ("streamTrim", "t_stream.c", 717, "stream nodes"),
    ("streamDeleteItem", "t_stream.c", 1351, "stream nodes"),
    ("streamReplyWithRange", "t_stream.c", 1677, "stream, consumer group"),
    ("streamCreateCG", "t_stream.c", 2483, "consumer groups"),
    ("streamCreateConsumer", "t_stream.c", 2517, "consumers"),
    ("streamDelConsumer", "t_stream.c", 2549, "consumers"),
    ("lookupKeyByPattern", "sort.c", 61, "db, pattern"),
    ("georadiusGeneric", "geo.c", 523, "client, argv"),
    ("geoGetPointsInRange", "geo.c", 261, "zset"),
    ("membersOfAllNeighbors", "geo.c", 365, "zset, geohash cells"),
    ("geohashCalculateAreasByShapeWGS84", "geohash_helper.c", 121, "geohash cells"),
    ("loadDataFromDisk", "server.c", 6585, "dataset"),
    ("enableTracking", "tracking.c", 180, "client, tracking flags"),
    ("disableTracking", "tracking.c", 67, "client, tracking flags"),
    ("trackingRememberKeys", "tracking.c", 217, "tracking table"),
    ("sendTrackingMessage", "tracking.c", 268, "client, invalidation"),
    ("trackingInvalidateKey", "tracking.c", 366, "tracking table"),
    ("trackingInvalidateKeysOnFlush", "tracking.c", 464, "tracking table"),
    ("trackingLimitUsedSlots", "tracking.c", 504, "tracking table"),
    ("trackingBroadcastInvalidationMessages", "tracking.c", 594, "prefix table"),
    ("createDumpPayload", "cluster.c", 5941, "robj"),
    ("verifyDumpPayload", "cluster.c", 5975, "payload"),
    ("functionsInit", "functions.c", 1125, "engines"),
    ("functionsLibCtxClearCurrent", "functions.c", 190, "libraries"),
    ("functionsCreateWithLibraryCtx", "functions.c", 962, "libraries"),
    ("fcallCommandGeneric", "functions.c", 621, "client, function"),
    ("luaEngineCreate", "function_lua.c", 102, "Lua state"),
    ("luaEngineCall", "function_lua.c", 160, "Lua state, function"),
    ("luaRegisterFunction", "function_lua.c", 398, "library being loaded"),
    ("luaEngineInitEngine", "function_lua.c", 423, "Lua state"),
):
    _declare(_name, _file, _line, _exposes)


def probe(name: str) -> Callable[[Callable], Callable]:
    """Register ``fn`` as the probe ``name`` and return it unchanged (zero cost unarmed)."""

    def register(fn: Callable) -> Callable:
        info = CATALOGUE.get(name) or _declare(name, "", 0)
        info.fn = fn
        code = getattr(fn, "__code__", None)
        if code is not None:
            info.tracered_file = code.co_filename
            info.tracered_line = code.co_firstlineno
        return fn

    return register


# --------------------------------------------------------------------------------------------
# Sinks and arming
# --------------------------------------------------------------------------------------------

class Sink:
    """A consumer of probe hits.  ``enter`` returns a token handed back to ``leave``."""

    def enter(self, info: ProbeInfo, args: tuple) -> Any:  # pragma: no cover - interface
        return None

    def leave(self, info: ProbeInfo, token: Any) -> None:  # pragma: no cover - interface
        pass

    def event(self, name: str, attrs: dict) -> None:  # pragma: no cover - interface
        pass

    def make_wrapper(self, info: ProbeInfo, fn: Callable) -> Callable | None:
        """Optionally, a ready-made wrapper for ``fn`` when this sink is the probe's only
        one; it must behave like enter/call/leave.  None: use the generic wrapper."""
        return None


_sinks: list[Sink] = []
# probe name -> set of sinks that want it (a sink may arm every probe, or a few).
_wanted: dict[str, list[Sink]] = {}
# Extra places that hold direct references to probed functions (the command table).
# Each is a callable (old_fn, new_fn) -> None that swaps references it owns.
_rebinders: list[Callable[[Callable, Callable], None]] = []


def add_rebinder(fn: Callable[[Callable, Callable], None]) -> None:
    """Let a table that stores function references (e.g. the command table) be rebound."""
    _rebinders.append(fn)


def _rebind(old: Callable, new: Callable) -> None:
    """Point every reference tracered holds on ``old`` at ``new``."""
    for modname, mod in list(sys.modules.items()):
        if not modname.startswith(("tracered", "tui")) or mod is None:
            continue
        md = mod.__dict__
        for k, v in list(md.items()):
            if v is old:
                md[k] = new
            elif inspect.isclass(v) and v.__module__ == modname:
                cd = v.__dict__
                for ck, cv in list(cd.items()):
                    if cv is old:
                        setattr(v, ck, new)
    for rb in _rebinders:
        rb(old, new)


def _make_wrapper(info: ProbeInfo, fn: Callable, sinks: list[Sink]) -> Callable:
    if len(sinks) == 1:
        # A sink alone on a probe may build its own wrapper (the span recorder inlines its
        # enter/leave bookkeeping: two method calls less per probe hit).
        make = getattr(sinks[0], "make_wrapper", None)
        wrapper = make(info, fn) if make is not None else None
        if wrapper is not None:
            functools.update_wrapper(wrapper, fn)
            wrapper.__probe__ = info  # type: ignore[attr-defined]
            return wrapper
    if len(sinks) == 1:
        sink = sinks[0]
        enter, leave = sink.enter, sink.leave

        @functools.wraps(fn)
        def wrapper(*args, **kw):
            tok = enter(info, args)
            try:
                return fn(*args, **kw)
            finally:
                leave(info, tok)
    else:
        @functools.wraps(fn)
        def wrapper(*args, **kw):
            toks = [s.enter(info, args) for s in sinks]
            try:
                return fn(*args, **kw)
            finally:
                for s, t in zip(reversed(sinks), reversed(toks), strict=True):
                    s.leave(info, t)
    wrapper.__probe__ = info  # type: ignore[attr-defined]
    return wrapper


def _refresh(name: str) -> None:
    """(Re)install or remove the wrapper of one probe to match the sinks that want it."""
    info = CATALOGUE.get(name)
    if info is None or info.fn is None:
        return
    current = info.wrapper or info.fn
    sinks = _wanted.get(name) or []
    new = _make_wrapper(info, info.fn, sinks) if sinks else info.fn
    info.wrapper = new if sinks else None
    if current is not new:
        _rebind(current, new)


def arm(name: str, sink: Sink) -> bool:
    """Make ``sink`` receive hits of probe ``name``. Returns False if the name is unknown."""
    global armed
    if name not in CATALOGUE:
        return False
    lst = _wanted.setdefault(name, [])
    if sink not in lst:
        lst.append(sink)
        _refresh(name)
    if sink not in _sinks:
        _sinks.append(sink)
    armed = True
    return True


def disarm(name: str, sink: Sink) -> None:
    lst = _wanted.get(name)
    if lst and sink in lst:
        lst.remove(sink)
        _refresh(name)


def arm_all(sink: Sink) -> None:
    for name in list(CATALOGUE):
        arm(name, sink)


def remove_sink(sink: Sink) -> None:
    """Stop ``sink`` from receiving anything; clears ``armed`` when no sink is left."""
    global armed
    for name in list(_wanted):
        disarm(name, sink)
    if sink in _sinks:
        _sinks.remove(sink)
    armed = bool(_sinks)


def event(name: str, attrs: dict | None = None) -> None:
    """Report an internal moment (a span event).  Callers test ``probes.armed`` first."""
    for s in _sinks:
        s.event(name, attrs or {})


def refresh_all() -> None:
    """Re-apply arming after late imports (a module imported after arm() was called)."""
    for name in list(_wanted):
        _refresh(name)
