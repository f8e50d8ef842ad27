"""The span recorder: a probe sink that writes compact records on the server thread.

Redis has no counterpart; this is the hot half of tracered's tracing (see ``spans.py`` for
the whole picture).  Building one OpenTelemetry SDK span costs tens of microseconds in
Python, so the server thread never touches the SDK.  When a probe fires inside a sampled
command, :class:`Recorder` appends one record, seven slots, to the command's buffer (a flat
list: one allocation per command, not one per span, which keeps the garbage collector out
of the hot path)::

    name, parent, start_perf_ns, end_perf_ns, attrs, events, span_id

``parent`` is the parent record's offset in the buffer (-1 for the root), ``attrs`` a small
tuple pulled from the probe's arguments by an *extractor* (or None), ``events`` a list of
``(perf_ns, name, attrs)`` from :func:`probes.event`, ``span_id`` 0 until someone needs the
id on the server side (:meth:`Recorder.current_context`).  A finished buffer becomes a
*unit*::

    (kind, trace_id, parent_span_id, links, meta, records)

kind 0 is a command (records[0] is processCommand, meta describes the command and client),
kind 1 a background root (serverCron, a cron-driven dictRehash, rdbSaveBackground ...),
kind 2 the readQueryFromClient span of a pipelined read.  Units wait in :attr:`done` until
the server's beforeSleep hands them to the exporter (``exporter.py``), which turns them into
real SDK spans in another thread or process.  Every value in a unit is a builtin type, so a
batch crosses the process boundary with ``marshal`` (well under a µs a command).

Sampling is decided once, at processCommand entry: an unsampled command sets :attr:`cur` to
False and every probe inside it returns after one test.  The decision follows the SDK's
``ParentBased(TraceIdRatioBased(ratio))`` exactly: a client's traceparent (CLIENT
TRACEPARENT) decides by its sampled flag; otherwise the command is sampled when the low 64
bits of its new trace id are below ``ratio * 2**64``.

Divergence: tracered-only (no Redis equivalent).  The command procs (``setCommand`` ...)
are not probes in the catalogue; :meth:`Recorder.wrap_procs` wraps the command table's procs
directly while tracing is on, so each command gets a span named like the Redis function.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from random import getrandbits
from typing import Any

from tracered.trace import probes

UNIT_COMMAND = 0
UNIT_BACKGROUND = 1
UNIT_READ = 2

_perf_ns = time.perf_counter_ns
_TRACE_ID_LIMIT = (1 << 64) - 1

# Tokens handed from enter() to leave() that are not record indexes.
_SKIP = object()   # the root of an unsampled unit: leave() clears the unsampled state
_READ = object()   # readQueryFromClient

# Probes that become a root when they fire outside any command: periodic work sampled by
# trace-cron-sample-ratio, and rare background work sampled like commands.
CRON_ROOTS = ("serverCron", "databasesCron", "activeExpireCycle", "dictRehash",
              "incrementallyRehash", "replicationCron", "clientsCron")
BACKGROUND_ROOTS = ("rdbSaveBackground", "rdbSave", "rewriteAppendOnlyFileBackground",
                    "syncWithMaster", "masterTryPartialResynchronization", "readSyncBulkPayload",
                    "loadDataFromDisk")

# Probes never recorded as spans: the event loop's own iterations and the parsing steps
# under readQueryFromClient would only add noise (and cost) to every trace.
NOT_SPANS = frozenset(("aeProcessEvents", "beforeSleep", "processInputBuffer",
                       "processMultibulkBuffer", "processInlineBuffer", "acceptTcpHandler",
                       "createClient", "flushAppendOnlyFile", "writeToClient",
                       "handleClientsWithPendingWrites"))


# --------------------------------------------------------------------------------------------
# Attribute extractors: args tuple -> small tuple.  ATTR_KEYS names the tuple's fields for the
# exporter.  They run inside the probed call, so they stay cheap and never raise.
# --------------------------------------------------------------------------------------------

def _x_dict(args: tuple) -> tuple:
    d = args[0]
    u = d.ht_used
    e = d.ht_size_exp
    return (d.rehashidx, u[0], u[1], e[0], e[1])


def _x_dict_key(args: tuple) -> tuple:
    d = args[0]
    u = d.ht_used
    e = d.ht_size_exp
    t = d.ht_table[0]
    bucket = d._hash(args[1]) & (len(t) - 1) if t is not None and len(args) > 1 else -1
    return (d.rehashidx, u[0], u[1], e[0], e[1], bucket)


def _x_dict_n(args: tuple) -> tuple:
    d = args[0]
    u = d.ht_used
    e = d.ht_size_exp
    return (d.rehashidx, u[0], u[1], e[0], e[1], args[1] if len(args) > 1 else 0)


def _x_lookup_key(args: tuple) -> tuple:
    return (args[0].id, args[1][:128])


def _x_db_add(args: tuple) -> tuple:
    v = args[2]
    return (args[0].id, args[1][:128], v.type, v.encoding)


def _x_len1(args: tuple) -> tuple:
    return (len(args[1]),)


def _x_len0(args: tuple) -> tuple:
    return (len(args[0]),)


EXTRACTORS: dict[str, Callable[[tuple], Any]] = {
    "dictFind": _x_dict_key,
    "dictAddRaw": _x_dict_key,
    "dictExpand": _x_dict_n,
    "dictRehash": _x_dict_n,
    "_dictRehashStep": _x_dict,
    "lookupKey": _x_lookup_key,
    "dbAdd": _x_db_add,
    "createStringObject": _x_len0,
    "addReply": _x_len1,
    "addReplyBulk": _x_len1,
}

_DICT5 = ("redis.dict.rehashidx", "redis.dict.ht0.used", "redis.dict.ht1.used",
          "redis.dict.ht0.size_exp", "redis.dict.ht1.size_exp")
ATTR_KEYS: dict[str, tuple[str, ...]] = {
    "dictFind": _DICT5 + ("redis.dict.bucket",),
    "dictAddRaw": _DICT5 + ("redis.dict.bucket",),
    "dictExpand": _DICT5 + ("redis.dict.expand.size",),
    "dictRehash": _DICT5 + ("redis.dict.rehash.n",),
    "_dictRehashStep": _DICT5,
    "lookupKey": ("db.namespace", "redis.key"),
    "dbAdd": ("db.namespace", "redis.key", "redis.robj.type", "redis.robj.encoding"),
    "createStringObject": ("redis.string.length",),
    "addReply": ("redis.reply.bytes",),
    "addReplyBulk": ("redis.reply.bytes",),
    "serverCron": ("redis.cron.loops", "redis.cron.hz"),
    "replicationFeedSlaves": ("redis.repl.master_repl_offset", "redis.repl.backlog.histlen",
                              "redis.repl.backlog.idx", "redis.repl.backlog.offset"),
    "feedAppendOnlyFile": ("redis.aof.buf_len",),
    "rdbSaveBackground": ("redis.child_pid",),
    "rewriteAppendOnlyFileBackground": ("redis.child_pid",),
    # a command proc span: the touched key's robj, read after the proc ran
    "*Command": ("redis.key", "redis.robj.type", "redis.robj.encoding", "redis.robj.refcount",
                 "redis.robj.lru", "redis.expire"),
    # unit kind 2: the pipelined read
    "readQueryFromClient": ("redis.client.id", "redis.pipeline.commands"),
}


def proc_span_name(fullname: str) -> str:
    """The Redis-style name of a command proc: ``set`` -> ``setCommand``, ``config|get`` ->
    ``configGetCommand``, ``client|no-evict`` -> ``clientNoEvictCommand``."""
    parts = [p for p in fullname.replace("|", "-").split("-") if p]
    if not parts:
        return "Command"
    return parts[0].lower() + "".join(p[:1].upper() + p[1:].lower() for p in parts[1:]) + \
        "Command"


def peek_dict(d, key) -> Any:
    """The value under ``key`` in a :class:`~tracered.dict.Dict`, read without the side
    effects of ``find`` (no rehash step, no probe): tracing must not change what it shows."""
    tables = d.ht_table
    h = None
    for t in tables:
        if t is None:
            continue
        if h is None:
            h = d._hash(key)
        he = t[h & (len(t) - 1)]
        while he is not None:
            if he.key == key:
                return he.val
            he = he.next
        if d.rehashidx == -1:
            break
    return None


# --------------------------------------------------------------------------------------------
# The sink
# --------------------------------------------------------------------------------------------

class Recorder(probes.Sink):
    """Records sampled units on the server thread; see the module docstring."""

    def __init__(self, server, ratio: float = 1.0, cron_ratio: float = 0.001,
                 args_full: bool = False) -> None:
        self.srv = server
        self.cur: list | None | bool = None   # records of the unit being recorded
        self.top = -1                         # index of the innermost open record
        self.unit: tuple | None = None        # per-unit data kept until the root leaves
        self.done: list = []                  # finished units, handed off by take()
        self.read: list | None = None         # [client, ncommands, t0, len(done) at start]
        self.units_recorded = 0
        self.args_full = args_full
        self.bound = 0
        self.cron_bound = 0
        self.set_ratio(ratio)
        self.set_cron_ratio(cron_ratio)
        self.roots: dict[str, Callable] = {"processCommand": self._enter_command,
                                           "readQueryFromClient": self._enter_read}
        for n in CRON_ROOTS:
            self.roots[n] = self._enter_cron
        for n in BACKGROUND_ROOTS:
            self.roots[n] = self._enter_background
        self.extractors = dict(EXTRACTORS)
        self.leave_extractors: dict[str, Callable[[], tuple]] = {
            "replicationFeedSlaves": self._x_repl,
            "feedAppendOnlyFile": self._x_aof,
            "rdbSaveBackground": self._x_child,
            "rewriteAppendOnlyFileBackground": self._x_child,
        }
        self._opnames: dict = {}
        # (trace_id, span_id) set in a forked child: parent of its first background root.
        self.fork_parent: tuple[int, int] | None = None
        self._wrapped: dict = {}   # RedisCommand -> (original proc, wrapper)

    # -- sampling ----------------------------------------------------------------------

    def set_ratio(self, ratio: float) -> None:
        """TraceIdRatioBased's bound: sampled iff (trace_id & (2**64-1)) < bound."""
        self.ratio = ratio
        self.bound = round(max(0.0, min(1.0, ratio)) * (_TRACE_ID_LIMIT + 1))

    def set_cron_ratio(self, ratio: float) -> None:
        self.cron_ratio = ratio
        self.cron_bound = round(max(0.0, min(1.0, ratio)) * (_TRACE_ID_LIMIT + 1))

    # -- Sink interface ----------------------------------------------------------------

    def enter(self, info: probes.ProbeInfo, args: tuple) -> Any:
        cur = self.cur
        if not cur:
            if cur is None:
                root = self.roots.get(info.name)
                if root is not None:
                    return root(info, args)
            return None
        x = self.extractors.get(info.name)
        attrs = None
        if x is not None:
            try:
                attrs = x(args)
            except Exception:  # noqa: BLE001 - an odd argument must not break the command
                attrs = None
        idx = len(cur)
        cur += (info.name, self.top, _perf_ns(), 0, attrs, None, 0)
        self.top = idx
        return idx

    def leave(self, info: probes.ProbeInfo, tok: Any) -> None:
        if tok is None:
            return
        if tok is _SKIP:
            self.cur = None
            return
        if tok is _READ:
            self._leave_read()
            return
        cur = self.cur
        cur[tok + 3] = _perf_ns()
        self.top = cur[tok + 1]
        if tok == 0:
            self._finish()
            return
        lx = self.leave_extractors.get(info.name)
        if lx is not None:
            try:
                cur[tok + 4] = lx()
            except Exception:  # noqa: BLE001
                pass

    def event(self, name: str, attrs: dict) -> None:
        cur = self.cur
        if not cur:
            return
        i = self.top + 5
        ev = (_perf_ns(), name, attrs)
        if cur[i] is None:
            cur[i] = [ev]
        else:
            cur[i].append(ev)

    def make_wrapper(self, info: probes.ProbeInfo, fn: Callable) -> Callable | None:
        """The wrapper of a non-root probe with :meth:`enter` and :meth:`leave` inlined.

        A command records ~10 probe hits, and two bound-method calls per hit were a third
        of the recording cost.  Roots (processCommand, cron and background work) keep the
        generic path: they start units and are rare."""
        name = info.name
        rec = self
        perf = _perf_ns
        if name == "processCommand":
            return self._make_command_root_wrapper(info, fn)
        if name == "readQueryFromClient":
            return self._make_read_root_wrapper(info, fn)
        if name in self.roots:
            return None
        x = self.extractors.get(name)
        lx = self.leave_extractors.get(name)
        if x is None and lx is None:
            def wrapper(*args, **kw):
                cur = rec.cur
                if not cur:            # outside a sampled command: one test and go
                    return fn(*args, **kw)
                idx = len(cur)
                cur += (name, rec.top, perf(), 0, None, None, 0)
                rec.top = idx
                try:
                    return fn(*args, **kw)
                finally:
                    cur[idx + 3] = perf()
                    rec.top = cur[idx + 1]
            return wrapper

        def wrapper_attrs(*args, **kw):
            cur = rec.cur
            if not cur:
                return fn(*args, **kw)
            attrs = None
            if x is not None:
                try:
                    attrs = x(args)
                except Exception:  # noqa: BLE001 - an odd argument must not break the command
                    attrs = None
            idx = len(cur)
            cur += (name, rec.top, perf(), 0, attrs, None, 0)
            rec.top = idx
            try:
                return fn(*args, **kw)
            finally:
                cur[idx + 3] = perf()
                rec.top = cur[idx + 1]
                if lx is not None:
                    try:
                        cur[idx + 4] = lx()
                    except Exception:  # noqa: BLE001
                        pass
        return wrapper_attrs

    def _generic_call(self, info: probes.ProbeInfo, fn: Callable, args: tuple, kw: dict):
        """What probes.py's generic wrapper does: enter, call, leave."""
        tok = self.enter(info, args)
        try:
            return fn(*args, **kw)
        finally:
            self.leave(info, tok)

    def _make_command_root_wrapper(self, info: probes.ProbeInfo, fn: Callable) -> Callable:
        """processCommand: starts a unit when no command is being recorded (the usual
        case, inlined); nested or odd cases take the generic enter/leave path."""
        rec = self
        perf = _perf_ns
        enter_command = self._enter_command
        finish = self._finish
        generic = self._generic_call

        def wrapper(*args, **kw):
            if rec.cur is not None:
                return generic(info, fn, args, kw)
            tok = enter_command(info, args)
            try:
                return fn(*args, **kw)
            finally:
                if tok is _SKIP:
                    rec.cur = None
                else:
                    cur = rec.cur
                    if cur:        # (a forked child forgot the unit: nothing to finish)
                        cur[3] = perf()
                        rec.top = -1
                        finish()
        return wrapper

    def _make_read_root_wrapper(self, info: probes.ProbeInfo, fn: Callable) -> Callable:
        """readQueryFromClient outside any command: remember the read (for pipeline links)
        without going through enter()'s root lookup and token."""
        rec = self
        enter_read = self._enter_read
        leave_read = self._leave_read
        generic = self._generic_call

        def wrapper(*args, **kw):
            if rec.cur is not None:
                return generic(info, fn, args, kw)
            enter_read(info, args)
            try:
                return fn(*args, **kw)
            finally:
                leave_read()
        return wrapper

    # -- roots -------------------------------------------------------------------------

    def _enter_command(self, info: probes.ProbeInfo, args: tuple) -> Any:
        c = args[0]
        rd = self.read
        if rd is not None:
            rd[1] += 1
        tp = c.trace_parent
        if tp is not None:
            c.trace_parent = None
            if not tp[2] & 1:
                self.cur = False
                return _SKIP
            trace_id, parent = tp[0], tp[1]
        else:
            low = getrandbits(64)
            if low >= self.bound:
                self.cur = False
                return _SKIP
            trace_id = (getrandbits(64) << 64) | low
            parent = 0
        # The link's target (the read's span) exists only if the read turns out to be a
        # pipeline: keep the command's position in the read (an int) for now; the read's
        # end turns it into a link, or leaves it (the exporter ignores an int).
        links = rd[1] - 1 if rd is not None and rd[0] is c else None
        self.unit = (c, c.argv, c.db.id, self.srv.stat_total_error_replies, trace_id, parent,
                     links)
        self.cur = ["processCommand", -1, _perf_ns(), 0, None, None, 0]
        self.top = 0
        return 0

    def _enter_cron(self, info: probes.ProbeInfo, args: tuple) -> Any:
        low = getrandbits(64)
        if low >= self.cron_bound:
            return None   # unsampled: nested cron work may still be sampled on its own
        return self._start_background(info, args, (getrandbits(64) << 64) | low)

    def _enter_background(self, info: probes.ProbeInfo, args: tuple) -> Any:
        fp = self.fork_parent
        if fp is not None:
            # First background root in a forked child: the parent's open span is its parent.
            self.fork_parent = None
            return self._start_background(info, args, fp[0], fp[1])
        low = getrandbits(64)
        if low >= self.bound:
            return None
        return self._start_background(info, args, (getrandbits(64) << 64) | low)

    def _start_background(self, info: probes.ProbeInfo, args: tuple, trace_id: int,
                          parent: int = 0) -> int:
        attrs = None
        if info.name == "serverCron":
            attrs = (self.srv.cronloops, self.srv.hz_current)
        else:
            x = self.extractors.get(info.name)
            if x is not None:
                try:
                    attrs = x(args)
                except Exception:  # noqa: BLE001
                    attrs = None
        self.unit = (None, None, 0, 0, trace_id, parent, None)
        self.cur = [info.name, -1, _perf_ns(), 0, attrs, None, 0]
        self.top = 0
        return 0

    def _enter_read(self, info: probes.ProbeInfo, args: tuple) -> Any:
        # readQueryFromClient(el, fd, client, mask)
        self.read = [args[2] if len(args) > 2 else None, 0, _perf_ns(), len(self.done)]
        return _READ

    def _leave_read(self) -> None:
        rd = self.read
        self.read = None
        if rd is None or rd[1] < 2:
            return          # one command (or none): not a pipeline, nothing to link
        done = self.done
        start = min(rd[3], len(done))   # (units handed off mid-read keep no link)
        pending = [i for i in range(start, len(done))
                   if done[i][0] == UNIT_COMMAND and done[i][3].__class__ is int]
        if not pending:
            return          # no command of this read was sampled
        t1 = _perf_ns()
        trace_id = getrandbits(128) or 1
        span_id = getrandbits(64) or 1
        for i in pending:
            u = done[i]
            done[i] = (u[0], u[1], u[2], [(trace_id, span_id, u[3])], u[4], u[5])
        c = rd[0]
        rec = ["readQueryFromClient", -1, rd[2], t1, (c.id if c is not None else 0, rd[1]),
               None, span_id]
        self.done.append((UNIT_READ, trace_id, 0, None, None, rec))

    def _finish(self) -> None:
        """The root record closed: turn the buffer into a unit."""
        cur = self.cur
        c, argv, dbid, errs0, trace_id, parent, links = self.unit
        self.cur = None
        self.unit = None
        self.top = -1
        self.units_recorded += 1
        if c is None:
            self.done.append((UNIT_BACKGROUND, trace_id, parent, None, None, cur))
            return
        cmd = c.cmd
        if cmd is not None:
            opname = self._opnames.get(cmd)
            if opname is None:
                opname = self._opnames[cmd] = cmd.fullname.replace("|", " ").upper()
        else:
            opname = argv[0][:64].decode("utf-8", "replace").upper() if argv else ""
        err = None
        if self.srv.stat_total_error_replies != errs0:
            rep = c.reply
            if rep and rep[-1][:1] == b"-":
                err = rep[-1][1:200].rstrip(b"\r\n").decode("utf-8", "replace")
            else:
                err = "ERR"
        meta = (opname, dbid, self._query_args(cmd, argv), len(argv), c.addr, c.id, c.name,
                err, c.laddr)
        self.done.append((UNIT_COMMAND, trace_id, parent, links, meta, cur))

    def _query_args(self, cmd, argv: list) -> list:
        """argv for db.query.text: all of it (cut to 256 bytes an argument, 64 arguments)
        with trace-args full, else the name, subcommand and keys with None for values."""
        n = len(argv)
        if self.args_full:
            return [a if len(a) <= 256 else a[:256] for a in argv[:64]]
        if cmd is None or not n:
            return [argv[0][:64]] if n else []
        m = n if n <= 64 else 64
        out: list = [None] * m
        out[0] = argv[0]
        if cmd.parent is not None and m > 1:
            out[1] = argv[1]
        first = cmd.firstkey
        if first > 0 and cmd.getkeys_proc is None:
            last = cmd.lastkey
            if last < 0:
                last += n
            step = cmd.keystep or 1
            for i in range(first, min(last, m - 1) + 1, step):
                out[i] = argv[i][:256]
        elif cmd.key_specs or cmd.getkeys_proc is not None:
            try:
                from tracered.commands import get_keys_from_command

                for i in get_keys_from_command(cmd, argv):
                    if i < m:
                        out[i] = argv[i][:256]
            except Exception:  # noqa: BLE001
                pass
        return out

    # -- leave extractors (state after the call) ----------------------------------------

    def _x_repl(self) -> tuple:
        srv = self.srv
        bl = getattr(srv, "repl_backlog", None)
        return (srv.master_repl_offset, getattr(bl, "histlen", -1),
                getattr(bl, "idx", -1), getattr(bl, "offset", -1))

    def _x_aof(self) -> tuple:
        buf = getattr(self.srv, "aof_buf", None)
        return (len(buf) if buf is not None else -1,)

    def _x_child(self) -> tuple:
        return (self.srv.child_pid,)

    # -- command procs -------------------------------------------------------------------

    def wrap_procs(self, table: dict) -> None:
        """Wrap every command proc in ``table`` (commands.commands) with a span named like
        the Redis function (setCommand)."""
        for base in table.values():
            for rc in base.all_commands():
                if rc.proc is None or rc in self._wrapped:
                    continue
                w = self._make_proc_wrapper(rc, rc.proc)
                self._wrapped[rc] = (rc.proc, w)
                rc.proc = w

    def unwrap_procs(self) -> None:
        for rc, (orig, w) in list(self._wrapped.items()):
            if rc.proc is w:
                rc.proc = orig
        self._wrapped.clear()

    def rebind_proc(self, old: Callable, new: Callable) -> None:
        """A probes rebinder: someone (the debugger) swapped a proc we wrap; wrap the new
        one instead so both keep working."""
        for rc, (orig, w) in list(self._wrapped.items()):
            if orig is old and rc.proc is w:
                w2 = self._make_proc_wrapper(rc, new)
                self._wrapped[rc] = (new, w2)
                rc.proc = w2

    def _make_proc_wrapper(self, rc, fn: Callable) -> Callable:
        name = proc_span_name(rc.fullname)
        rec = self
        perf = _perf_ns
        key_of = self._proc_key_attrs

        def proc(c, *rest):
            cur = rec.cur
            if not cur:
                return fn(c, *rest)
            idx = len(cur)
            cur += (name, rec.top, perf(), 0, None, None, 0)
            rec.top = idx
            try:
                return fn(c, *rest)
            finally:
                cur[idx + 3] = perf()
                rec.top = cur[idx + 1]
                try:
                    cur[idx + 4] = key_of(c, rc)
                except Exception:  # noqa: BLE001
                    pass

        proc.__name__ = getattr(fn, "__name__", "proc")
        proc.__wrapped__ = fn  # type: ignore[attr-defined]
        return proc

    def _proc_key_attrs(self, c, rc) -> tuple | None:
        """The first key's robj after the proc ran: type, encoding, refcount, lru, expire."""
        first = rc.firstkey
        argv = c.argv
        if first <= 0 or first >= len(argv):
            return None
        key = argv[first]
        if key.__class__ is not bytes:
            return None
        db = c.db
        o = peek_dict(db.dict, key)
        if o is None:
            return (key[:128], None, None, None, None, None)
        exp = peek_dict(db.expires, key) if db.expires.ht_used[0] or db.expires.ht_used[1] \
            else None
        return (key[:128], o.type, o.encoding, o.refcount, o.lru, exp)

    # -- hand-off ------------------------------------------------------------------------

    def take(self) -> list:
        """The finished units so far (the caller owns the list)."""
        done = self.done
        self.done = []
        return done

    def after_fork_child(self) -> None:
        """In a forked child (BGSAVE): forget the parent's buffers; the child's first
        background root (rdbSave) becomes a child of the span open at fork time."""
        self.fork_parent = self.current_context()
        self.cur = None
        self.unit = None
        self.top = -1
        self.done = []
        self.read = None

    def current_context(self) -> tuple[int, int] | None:
        """(trace_id, span_id) of the innermost open span, or None when nothing is recorded.
        Lets a forked child (rdbSave) or a script parent its spans under the running span."""
        cur = self.cur
        if not cur or self.unit is None or self.top < 0:
            return None
        i = self.top + 6
        if not cur[i]:
            cur[i] = getrandbits(64) or 1
        return self.unit[4], cur[i]


def arm(rec: Recorder, names: list[str] | None = None) -> list[str]:
    """Arm ``rec`` on every catalogue probe that makes a span (or on ``names``)."""
    armed = []
    for name in (names if names is not None else list(probes.CATALOGUE)):
        if name in NOT_SPANS:
            continue
        if probes.arm(name, rec):
            armed.append(name)
    return armed
