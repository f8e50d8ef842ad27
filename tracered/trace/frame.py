"""What the debugger shows when the server is paused: the Frame and its inspectors.

Under gdb a learner pauses redis-server in ``call()`` and then prints ``*c``, ``c->argv``,
``*o``, ``*db->dict`` and ``server.repl_backlog``.  This module is that set of ``print``
commands, done once and turned into plain data:

    ProbeContext    the lazy view of one probe hit, used to evaluate breakpoint conditions
                    (``cmd``, ``key``, ``client.id``, ``robj.encoding``, ``dict.rehashidx`` ...)
                    without paying for what the condition does not read
    Frame           a full capture at a pause: probe, Redis 7.0 file:line, tracered
                    file:line and source, client + argv, the key's robj, a dict's two tables,
                    replication and AOF state, the current command's spans
    inspect_*       one inspector per structure (client, robj, dict, replication, aof)
    snapshot        cheap live counters for a UI refreshing while the server runs

Everything a Frame holds is JSON-ready (str/int/float/bool/None, lists, dicts): the same
dict goes to the in-process TUI and over the control channel to an attached one.

Contract on threads: ``Frame.capture`` and ``ProbeContext`` run on the server thread inside a
probe.  ``snapshot`` runs on a UI thread while the server runs; it only reads (never calls a
probed function, never takes a lock the server holds) and tolerates a structure changing under
it, so a picture may be a little torn but the server is never slowed or blocked.

Nothing here may call a probed function (``Dict.find`` would also move a rehash step and
re-enter the debugger): keys are looked up by walking the tables directly (:func:`peek`).
"""

from __future__ import annotations

import inspect
import os
import sys
import time
from typing import Any

from tracered import dict as dictmod
from tracered import networking as net
from tracered import object as obj
from tracered import server as server_mod
from tracered.trace import probes

# Files whose frames are the probe machinery itself, skipped when finding "where we are".
_MACHINERY = frozenset(os.path.normcase(os.path.abspath(p)) for p in (
    probes.__file__, __file__,
    os.path.join(os.path.dirname(__file__), "debugger.py"),
))
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

PREVIEW_LIMIT = 16          # elements shown by a preview
HEX_PREVIEW_BYTES = 48      # listpack / intset bytes shown in hex
DICT_CELLS = 64             # cells in the picture of one hash table
SAMPLES_PER_CELL = 16       # buckets sampled per cell when a cell covers many buckets
MAX_SOURCE_LINES = 80
MAX_STACK = 16


def text(b: Any) -> str | None:
    """bytes -> str for display and conditions (invalid UTF-8 shown as \\x escapes)."""
    if b is None:
        return None
    if isinstance(b, (bytes, bytearray)):
        return bytes(b).decode("utf-8", "backslashreplace")
    return str(b)


def relpath(path: str) -> str:
    """A source path relative to the repository when it is inside it."""
    try:
        rel = os.path.relpath(path, PACKAGE_ROOT)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def srv():
    return server_mod.server


# --------------------------------------------------------------------------------------------
# Lookups that have no side effects
# --------------------------------------------------------------------------------------------

def peek(d: dictmod.Dict, key: Any) -> dictmod.DictEntry | None:
    """dictFind without its rehash step and without the probe: walk both tables."""
    try:
        h = d._hash(key)
        for t in d.ht_table:
            if t is None:
                continue
            de = t[h & (len(t) - 1)]
            n = 0
            while de is not None and n < 10_000:
                if de.key == key:
                    return de
                de = de.next
                n += 1
    except Exception:  # noqa: BLE001 - a torn read while the server runs: report "not found"
        return None
    return None


def command_for(argv: list[bytes]):
    """lookupCommand without the probe (and tolerant of an empty argv)."""
    from tracered.commands import lookup_command_by_name

    if not argv:
        return None
    base = lookup_command_by_name(argv[0])
    if base is not None and base.subcommands is not None and len(argv) >= 2:
        return base.subcommands.get(argv[1].lower(), base)
    return base


def first_key(argv: list[bytes]) -> bytes | None:
    """The command's first key argument (from the command table's key specs)."""
    from tracered.commands import get_keys_from_command

    cmd = command_for(argv)
    if cmd is None:
        return None
    try:
        idx = get_keys_from_command(cmd, argv)
    except Exception:  # noqa: BLE001 - a malformed argv: no key
        return None
    return argv[idx[0]] if idx else None


def find_client(args: tuple, fallback: net.Client | None = None) -> net.Client | None:
    """The client a probe is about: an argument (processCommand(c), call(c, flags),
    addReply(c, data), readQueryFromClient(el, fd, c, mask)), else the command's client."""
    for a in args[:4]:
        if type(a) is net.Client:
            return a
    if fallback is not None:
        return fallback
    s = srv()
    return s.current_client or s.executing_client


def dict_label(d: dictmod.Dict) -> str:
    """Name a dict a probe works on: a db's keyspace or expires, else a value's table."""
    for db in srv().db:
        if d is db.dict:
            return f"db {db.id} keyspace"
        if d is db.expires:
            return f"db {db.id} expires"
    return "probe argument (a value's table)"


def find_dict(args: tuple) -> dictmod.Dict | None:
    """The Dict a dict probe works on (dictFind(d, key), dictRehash(d, n) ...)."""
    if args and type(args[0]) is dictmod.Dict:
        return args[0]
    return None


# --------------------------------------------------------------------------------------------
# Inspectors: one structure -> plain data
# --------------------------------------------------------------------------------------------

def inspect_client(c: net.Client | None) -> dict | None:
    if c is None:
        return None
    argv = [text(a) for a in (c.argv or [])[:64]]
    return {
        "id": c.id, "addr": c.addr, "laddr": c.laddr, "name": text(c.name) or "",
        "db": c.db.id if c.db is not None else 0, "resp": c.resp,
        "flags": net.client_flags_string(c), "argv": argv, "argc": len(c.argv or []),
        "cmd": argv[0].upper() if argv else None,
        "qbuf": len(c.querybuf), "reply_bytes": c.reply_bytes, "reply_chunks": len(c.reply),
        "user": c.user,
    }


def _length(o: obj.RObj) -> int | None:
    if o.type == obj.OBJ_STRING:
        return obj.string_len(o)
    fn = obj.length_funcs.get(o.type)
    if fn is None:
        return None
    try:
        return fn(o)
    except Exception:  # noqa: BLE001 - a type module's hook must not break the inspector
        return None


def _preview(o: obj.RObj) -> str:
    if o.type == obj.OBJ_STRING:
        if o.encoding == obj.OBJ_ENCODING_INT:
            return str(o.ptr)
        s = bytes(o.ptr[:64])
        more = "..." if len(o.ptr) > 64 else ""
        return repr(s)[2:-1] + more
    fn = obj.preview_funcs.get(o.type)
    if fn is None:
        return ""
    try:
        return str(fn(o, PREVIEW_LIMIT))
    except Exception as e:  # noqa: BLE001
        return f"<preview failed: {type(e).__name__}>"


def idle_seconds(o: obj.RObj) -> int | None:
    """estimateObjectIdleTime in seconds (None under an LFU policy, where lru holds a
    counter)."""
    if obj.lfu_mode:
        return None
    now = obj.lru_clock or (int(time.time()) & obj.LRU_CLOCK_MAX)
    lru = o.lru
    if now >= lru:
        ms = (now - lru) * obj.LRU_CLOCK_RESOLUTION
    else:
        ms = (now + (obj.LRU_CLOCK_MAX - lru)) * obj.LRU_CLOCK_RESOLUTION
    return ms // 1000


def inspect_robj(o: obj.RObj | None, key: bytes | None = None, db=None) -> dict | None:
    """type, encoding, refcount, lru/idle (or LFU counter), length, a content preview and,
    for the byte-real encodings (listpack, intset, ziplist), the first bytes in hex."""
    if o is None:
        return None if key is None else {"key": text(key), "exists": False}
    shared = o.refcount >= obj.OBJ_SHARED_REFCOUNT
    out: dict = {
        "key": text(key), "exists": True,
        "type": obj.TYPE_NAMES.get(o.type, str(o.type)),
        "encoding": obj.ENCODING_NAMES.get(o.encoding, str(o.encoding)),
        "refcount": o.refcount, "shared": shared, "lru": o.lru,
        "idle": idle_seconds(o),
        "lfu_counter": (o.lru & 255) if obj.lfu_mode else None,
        "length": _length(o), "preview": _preview(o),
        "ptr_type": type(o.ptr).__name__,
    }
    p = o.ptr
    if isinstance(p, bytearray) and o.type != obj.OBJ_STRING:
        out["bytes_len"] = len(p)
        out["bytes_hex"] = p[:HEX_PREVIEW_BYTES].hex(" ")
    if db is not None and key is not None:
        de = peek(db.expires, key)
        out["expire_ms"] = de.val if de is not None else None
    return out


def _table_cells(t: list | None, cells: int) -> tuple[list[int], int, str]:
    """A picture of one table: ``cells`` numbers and how many buckets each covers.

    A small table is shown bucket by bucket (chain length, capped at 9); a large one as the
    percentage of non-empty buckets among a fixed sample of each cell's range, so the cost is
    bounded (cells * SAMPLES_PER_CELL reads) whatever the table size.
    """
    if not t or cells <= 0:
        return [], 0, "none"
    size = len(t)
    if size <= cells:
        out = []
        for i in range(size):
            de = t[i]
            n = 0
            while de is not None and n < 9:
                n += 1
                de = de.next
            out.append(n)
        return out, 1, "chain"
    per = size // cells
    step = max(1, per // SAMPLES_PER_CELL)
    out = []
    for c in range(cells):
        base = c * per
        seen = full = 0
        for i in range(base, base + per, step):
            seen += 1
            if t[i] is not None:
                full += 1
        out.append(full * 100 // max(1, seen))
    return out, per, "fill"


def inspect_dict(d: dictmod.Dict | None, cells: int = DICT_CELLS, label: str = "") -> dict | None:
    """Both hash tables (size, used, exp, a bucket picture), rehashidx and pauserehash."""
    if d is None:
        return None
    tables = []
    rehashidx = d.rehashidx
    for i in (0, 1):
        t = d.ht_table[i]
        size = len(t) if t is not None else 0
        try:
            pic, per, mode = _table_cells(t, cells)
        except (IndexError, TypeError):  # swapped under us while the server runs
            pic, per, mode = [], 0, "none"
        tables.append({"size": size, "used": d.ht_used[i], "exp": d.ht_size_exp[i],
                       "cells": pic, "buckets_per_cell": per, "mode": mode})
    return {
        "label": label, "used": d.ht_used[0] + d.ht_used[1], "rehashidx": rehashidx,
        "rehashing": rehashidx != -1, "pauserehash": d.pauserehash, "tables": tables,
        "rehash_cell": (rehashidx // tables[0]["buckets_per_cell"]
                        if rehashidx != -1 and tables[0]["buckets_per_cell"] else None),
    }


def inspect_replication(s=None) -> dict:
    """Role, replication ids and offsets, the backlog ring and each replica's acked offset."""
    s = s or srv()
    out: dict = {
        "role": "slave" if s.masterhost else "master",
        "replid": s.replid, "replid2": s.replid2,
        "master_repl_offset": s.master_repl_offset,
        "second_replid_offset": s.second_replid_offset,
        "masterhost": s.masterhost, "masterport": getattr(s, "masterport", None),
        "repl_state": s.repl_state, "backlog": None, "replicas": [],
    }
    bl = s.repl_backlog
    if bl is not None:
        size = getattr(bl, "size", None)
        if size is None:
            size = getattr(s, "repl_backlog_size", None)
        out["backlog"] = {k: _scalar(getattr(bl, k, None)) for k in ("idx", "histlen", "offset")}
        out["backlog"]["size"] = _scalar(size)
    for c in list(s.slaves):
        out["replicas"].append({
            "id": c.id, "addr": c.addr, "listening_port": c.slave_listening_port,
            "state": c.replstate, "ack_off": c.repl_ack_off,
            "lag": int(time.time() - c.repl_ack_time) if c.repl_ack_time else None,
        })
    return out


def _scalar(v: Any) -> Any:
    return v if isinstance(v, (int, float, str, bool)) or v is None else str(v)


def inspect_aof(s=None) -> dict:
    s = s or srv()
    buf = getattr(s, "aof_buf", None)
    return {
        "state": s.aof_state, "enabled": bool(getattr(s, "appendonly", False)),
        "buf_len": len(buf) if buf is not None else None,
        "fsync": getattr(s, "appendfsync", None),
        "current_size": _scalar(getattr(s, "aof_current_size", None)),
    }


def rss_bytes() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def snapshot(s=None, cells: int = DICT_CELLS) -> dict:
    """Live counters for a refreshing UI: cheap, read-only, safe while the server runs."""
    s = s or srv()
    dbs = {}
    keys = expires = 0
    for db in list(s.db):
        n = len(db.dict)
        if n:
            dbs[db.id] = n
        keys += n
        expires += len(db.expires)
    db0 = s.db[0] if s.db else None
    return {
        "time": time.time(), "pid": s.pid, "port": s.port,
        "ops": s.stat_numcommands, "ops_per_sec": s.instantaneous_ops_per_sec,
        "keys": keys, "expires": expires, "dbs": dbs, "clients": len(s.clients),
        "rss": rss_bytes(), "net_in": s.stat_net_input_bytes,
        "net_out": s.stat_net_output_bytes,
        "dict": inspect_dict(db0.dict, cells, "db 0 keyspace") if db0 is not None else None,
        "repl": inspect_replication(s), "aof": inspect_aof(s),
    }


# --------------------------------------------------------------------------------------------
# Source and stack
# --------------------------------------------------------------------------------------------

_source_cache: dict[Any, tuple[int, list[str]]] = {}


def function_source(fn: Any) -> tuple[int, list[str]]:
    """(first line, lines) of a function's source, cached (source does not change while
    the process runs)."""
    key = getattr(fn, "__code__", fn)
    got = _source_cache.get(key)
    if got is None:
        try:
            lines, start = inspect.getsourcelines(fn)
            got = (start, [ln.rstrip("\n") for ln in lines[:MAX_SOURCE_LINES]])
        except (OSError, TypeError):
            got = (0, [])
        _source_cache[key] = got
    return got


def python_stack(limit: int = MAX_STACK) -> list[dict]:
    """The paused thread's Python frames, innermost first, without the probe machinery."""
    out = []
    f = sys._getframe(1)
    while f is not None and len(out) < limit:
        fn = os.path.normcase(os.path.abspath(f.f_code.co_filename))
        if fn not in _MACHINERY:
            out.append({"file": relpath(f.f_code.co_filename), "line": f.f_lineno,
                        "function": f.f_code.co_name})
        f = f.f_back
    return out


# --------------------------------------------------------------------------------------------
# ProbeContext: the lazy view used by breakpoint conditions
# --------------------------------------------------------------------------------------------

class View(dict):
    """A read-only record whose fields a condition reads as attributes (``client.id``)."""

    __slots__ = ()


# Field names each view offers to conditions (checked when a condition is compiled).
VIEW_FIELDS: dict[str, frozenset] = {
    "client": frozenset(("id", "addr", "laddr", "name", "db", "resp", "flags", "argc", "cmd",
                         "qbuf", "reply_bytes", "reply_chunks", "user", "argv")),
    "robj": frozenset(("key", "exists", "type", "encoding", "refcount", "shared", "lru",
                       "idle", "lfu_counter", "length", "preview", "ptr_type", "bytes_len",
                       "bytes_hex", "expire_ms")),
    "dict": frozenset(("label", "used", "rehashidx", "rehashing", "pauserehash",
                       "ht0_size", "ht0_used", "ht1_size", "ht1_used")),
    "repl": frozenset(("role", "replid", "replid2", "master_repl_offset",
                       "second_replid_offset", "masterhost", "masterport", "repl_state",
                       "replicas", "backlog_histlen", "backlog_size")),
    "aof": frozenset(("state", "enabled", "buf_len", "fsync", "current_size")),
}
SCALARS = frozenset(("cmd", "key", "argv", "argc", "probe", "hits", "db", "attrs", "when"))


class ProbeContext:
    """One probe hit, seen lazily: each name is computed the first time a condition (or
    the Frame) asks for it."""

    __slots__ = ("info", "args", "when", "hits", "attrs", "_client", "_fallback", "_cache")

    def __init__(self, info: probes.ProbeInfo | None, args: tuple, when: str = "enter",
                 hits: int = 0, fallback_client: net.Client | None = None,
                 attrs: dict | None = None) -> None:
        self.info = info
        self.args = args
        self.when = when
        self.hits = hits
        self.attrs = attrs
        self._fallback = fallback_client
        self._client = False  # not looked up yet
        self._cache: dict[str, Any] = {}

    @property
    def probe(self) -> str:
        return self.info.name if self.info is not None else (self.attrs or {}).get("event", "")

    @property
    def client(self) -> net.Client | None:
        if self._client is False:
            self._client = find_client(self.args, self._fallback)
        return self._client

    def value(self, name: str) -> Any:
        """The value of a condition name (a scalar or a View)."""
        cache = self._cache
        if name in cache:
            return cache[name]
        v = getattr(self, "_v_" + name)()
        cache[name] = v
        return v

    # -- scalars ---------------------------------------------------------------------------

    def _v_probe(self) -> str:
        return self.probe

    def _v_hits(self) -> int:
        return self.hits

    def _v_when(self) -> str:
        return self.when

    def _v_attrs(self) -> View:
        return View({k: text(v) if isinstance(v, bytes) else v
                     for k, v in (self.attrs or {}).items()})

    def argv_bytes(self) -> list[bytes]:
        c = self.client
        return list(c.argv) if c is not None and c.argv else []

    def _v_argv(self) -> list[str]:
        return [text(a) for a in self.argv_bytes()]

    def _v_argc(self) -> int:
        return len(self.argv_bytes())

    def _v_cmd(self) -> str | None:
        argv = self.argv_bytes()
        return CmdName(text(argv[0]).upper()) if argv else None

    def key_bytes(self) -> bytes | None:
        if "_key" not in self._cache:
            self._cache["_key"] = first_key(self.argv_bytes())
        return self._cache["_key"]

    def _v_key(self) -> str | None:
        return text(self.key_bytes())

    def db_obj(self):
        c = self.client
        if c is not None and c.db is not None:
            return c.db
        s = srv()
        return s.db[0] if s.db else None

    def _v_db(self) -> int | None:
        db = self.db_obj()
        return db.id if db is not None else None

    # -- views -----------------------------------------------------------------------------

    def _v_client(self) -> View:
        return View(inspect_client(self.client) or {})

    def robj(self) -> obj.RObj | None:
        key = self.key_bytes()
        db = self.db_obj()
        if key is None or db is None:
            return None
        de = peek(db.dict, key)
        return de.val if de is not None else None

    def _v_robj(self) -> View:
        key = self.key_bytes()
        return View(inspect_robj(self.robj(), key, self.db_obj()) or {"exists": False})

    def the_dict(self) -> tuple[dictmod.Dict | None, str]:
        d = find_dict(self.args)
        if d is not None:
            return d, dict_label(d)
        db = self.db_obj()
        return (db.dict, f"db {db.id} keyspace") if db is not None else (None, "")

    def _v_dict(self) -> View:
        d, label = self.the_dict()
        info = inspect_dict(d, 0, label) or {}
        tables = info.pop("tables", [{}, {}])
        info.pop("rehash_cell", None)
        for i in (0, 1):
            info[f"ht{i}_size"] = tables[i].get("size", 0)
            info[f"ht{i}_used"] = tables[i].get("used", 0)
        return View(info)

    def _v_repl(self) -> View:
        r = inspect_replication()
        bl = r.get("backlog") or {}
        r["replicas"] = len(r["replicas"])
        r["backlog_histlen"] = bl.get("histlen")
        r["backlog_size"] = bl.get("size")
        r.pop("backlog", None)
        return View(r)

    def _v_aof(self) -> View:
        return View(inspect_aof())


class CmdName(str):
    """A command name that compares case-insensitively (``cmd == "set"`` matches SET)."""

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            return self.upper() == other.upper()
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        r = self.__eq__(other)
        return r if r is NotImplemented else not r

    def __hash__(self) -> int:
        return hash(self.upper())


# --------------------------------------------------------------------------------------------
# Frame: the full capture at a pause
# --------------------------------------------------------------------------------------------

class Frame:
    """Everything the UI shows about one pause, as plain data (``Frame.data``).

    Built on the server thread at the moment it pauses, so every value is consistent with
    the frozen server.  ``spans`` are the current command's probe enters/leaves recorded by
    the debugger (only probes that were armed appear: arm more to see more).
    """

    __slots__ = ("data",)

    def __init__(self, data: dict) -> None:
        self.data = data

    def __getitem__(self, k: str) -> Any:
        return self.data[k]

    def get(self, k: str, default: Any = None) -> Any:
        return self.data.get(k, default)

    def to_dict(self) -> dict:
        return self.data

    @classmethod
    def capture(cls, ctx: ProbeContext, reason: str, breakpoint_id: int | None = None,
                spans: list[dict] | None = None, seq: int = 0) -> Frame:
        s = srv()
        info = ctx.info
        name = ctx.probe
        if info is not None:
            fn = info.fn
            start, lines = function_source(fn) if fn is not None else (0, [])
            redis = {"file": info.redis_file, "line": info.redis_line, "function": name,
                     "location": info.redis_location}
            trfile = relpath(info.tracered_file) if info.tracered_file else ""
            trline = info.tracered_line
            func = getattr(fn, "__qualname__", name)
        else:
            start, lines = 0, []
            redis = {"file": "", "line": 0, "function": name, "location": ""}
            trfile, trline, func = "", 0, name
        stack = python_stack()
        caller = stack[0] if stack else None
        if info is None and caller is not None:
            trfile, trline, func = caller["file"], caller["line"], caller["function"]
        # The def line (the decorators above it are part of the listing).
        current = next((start + i for i, ln in enumerate(lines)
                        if ln.lstrip().startswith("def ")), trline)
        c = ctx.client
        key = ctx.key_bytes()
        db = ctx.db_obj()
        d, dict_label = ctx.the_dict()
        data = {
            "seq": seq, "probe": name, "when": ctx.when, "reason": reason,
            "breakpoint": breakpoint_id, "hits": ctx.hits,
            "redis": redis,
            "tracered": {"file": trfile, "line": trline, "function": func},
            "caller": caller, "stack": stack,
            "source": {"file": trfile, "start": start, "current": current, "lines": lines},
            "client": inspect_client(c),
            "cmd": ctx.value("cmd"), "key": text(key),
            "db": db.id if db is not None else None,
            "robj": inspect_robj(ctx.robj(), key, db) if key is not None else None,
            "dict": inspect_dict(d, DICT_CELLS, dict_label),
            "repl": inspect_replication(s), "aof": inspect_aof(s),
            "spans": spans or [],
            "event": ({"name": name, "attrs": dict(ctx.value("attrs"))}
                      if info is None else None),
            "server": {"pid": s.pid, "port": s.port},
        }
        if data["cmd"] is not None:
            data["cmd"] = str(data["cmd"])
        return cls(data)
