"""The span builder: recorder units -> OpenTelemetry SDK spans -> exporters, off the server
thread.

Redis has no counterpart.  :class:`SpanBuilder` turns the compact units written by
``recorder.Recorder`` into real ``opentelemetry.sdk.trace.ReadableSpan`` objects (the recorded
trace ids, span ids and timestamps are the spans' own; missing span ids are drawn here) with
tracered's Resource and instrumentation scope, and hands them to the exporters made by
``spans.make_exporters``.  It runs in one of two backends:

* :class:`ThreadBackend`: a daemon thread in the server process.  Cheap to start; fine at
  low sampling ratios, but Python threads share one interpreter lock, so its work slows the
  server when many commands are sampled.
* :class:`ProcessBackend`: ``python -m tracered.trace.exporter`` as a child process fed
  through its stdin: length-prefixed ``marshal`` frames ``(epoch_offset_ns, units)``,
  written by the server thread with non-blocking writes from beforeSleep (measured: a
  writer thread cost ~10 µs a command in interpreter-lock hand-offs, these writes ~1 µs).
  A reader thread in the child drains the pipe at once into memory so the server never
  waits on span building; the child runs at nice 10, so when CPUs are short the server
  goes first and the child catches up from its backlog.  When the server exits, the child
  sees end-of-file, exports what it holds, flushes the exporters and exits on its own (the
  server waits only briefly for it).

Frames are ``marshal`` data: both ends run the same interpreter, and marshal is several
times faster than pickle for these lists of ints and strings.
"""

from __future__ import annotations

import collections
import marshal
import os
import queue
import struct
import subprocess
import sys
import threading
import time
from random import getrandbits

from tracered.trace import recorder as rec_mod
from tracered.trace import spans as spans_mod

_LEN = struct.Struct("<I")

_TYPE_NAMES = {0: "string", 1: "list", 2: "set", 3: "zset", 4: "hash", 5: "module",
               6: "stream"}
_ENCODING_NAMES = {0: "raw", 1: "int", 2: "hashtable", 3: "zipmap", 4: "linkedlist",
                   5: "ziplist", 6: "intset", 7: "skiplist", 8: "embstr", 9: "quicklist",
                   10: "stream", 11: "listpack"}


def _text(b) -> str:
    if b.__class__ is bytes:
        return b.decode("utf-8", "replace")
    return str(b)


def query_text(qargs: list, nargs: int) -> str:
    """db.query.text from the recorder's argv: elided values print as ``?``."""
    parts = ["?" if a is None else _text(a) for a in qargs]
    if nargs > len(qargs):
        parts.append("... (%d more arguments)" % (nargs - len(qargs)))
    return " ".join(parts)


def _split_addr(addr: str) -> tuple[str, int | None]:
    host, sep, port = addr.rpartition(":")
    if not sep:
        return addr, None
    try:
        return host, int(port)
    except ValueError:
        return host, None


class SpanBuilder:
    """Units -> ReadableSpans -> exporters.  Not thread-safe: one backend owns it."""

    def __init__(self, settings: dict, exporters: list | None = None) -> None:
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope
        from opentelemetry.trace import TraceFlags

        self.settings = settings
        self.resource = spans_mod.make_resource(settings)
        self.scope = InstrumentationScope(spans_mod.SCOPE_NAME, settings.get("version") or "")
        self.exporters = exporters if exporters is not None else \
            spans_mod.make_exporters(settings)
        from opentelemetry.trace import Status, StatusCode

        self.sampled = TraceFlags(TraceFlags.SAMPLED)
        self._unset = Status(StatusCode.UNSET)
        self.port = (settings.get("resource") or {}).get("server.port")
        self.spans_built = 0
        self.units_built = 0
        self.export_failures = 0

    # -- building ------------------------------------------------------------------------

    def _attrs(self, name: str, values) -> dict:
        if values is None:
            return {}
        if values.__class__ is dict:
            return {k: (_text(v) if v.__class__ is bytes else v) for k, v in values.items()
                    if v is not None}
        keys = rec_mod.ATTR_KEYS.get(name)
        if keys is None and name.endswith("Command"):
            keys = rec_mod.ATTR_KEYS["*Command"]
        out: dict = {}
        if keys is None:
            return out
        for k, v in zip(keys, values, strict=False):
            if v is None:
                continue
            if k.endswith(".size_exp"):
                k = k[:-4]
                v = 1 << v if v >= 0 else 0
            elif k == "redis.robj.type":
                v = _TYPE_NAMES.get(v, str(v))
            elif k == "redis.robj.encoding":
                v = _ENCODING_NAMES.get(v, str(v))
            elif k == "db.namespace":
                v = str(v)
            elif v.__class__ is bytes:
                v = _text(v)
            out[k] = v
        return out

    def _events(self, evs, offset: int) -> tuple:
        from opentelemetry.sdk.trace import Event

        return tuple(Event(name, {k: (_text(v) if v.__class__ is bytes else v)
                                  for k, v in (attrs or {}).items() if v is not None},
                           t + offset) for t, name, attrs in evs)

    def build(self, offset: int, units: list) -> list:
        """ReadableSpans for a batch of units; ``offset`` maps perf_counter_ns to epoch ns."""
        from opentelemetry.sdk.trace import ReadableSpan
        from opentelemetry.trace import Link, SpanContext, SpanKind

        out: list = []
        append = out.append
        res = self.resource
        scope = self.scope
        flags = self.sampled
        internal = SpanKind.INTERNAL
        server = SpanKind.SERVER
        unset = self._unset
        attrs_of = self._attrs
        events_of = self._events
        for kind, trace_id, parent_sid, links, meta, recs in units:
            ctxs: list = []
            top_parent = SpanContext(trace_id, parent_sid, True, flags) if parent_sid else None
            if kind == rec_mod.UNIT_COMMAND:
                root_ctx = SpanContext(trace_id, getrandbits(64) or 1, False, flags)
                a, status, name = self._command_attrs(meta)
                lk = ()
                # An int is a command's place in a read that was no pipeline: no link.
                if links.__class__ is list and links and links[0].__class__ is tuple:
                    lk = tuple(Link(SpanContext(t, s, False, flags), {"redis.pipeline.index": i})
                               for t, s, i in links)
                append(ReadableSpan(name, root_ctx, top_parent, res, a, (), lk, server, None,
                                    status, recs[2] + offset, recs[3] + offset, scope))
                top_parent = root_ctx
            sk = server if kind == rec_mod.UNIT_READ else internal
            for i in range(0, len(recs), 7):
                name = recs[i]
                p = recs[i + 1]
                ctx = SpanContext(trace_id, recs[i + 6] or getrandbits(64) or 1, False, flags)
                ctxs.append(ctx)
                t0 = recs[i + 2] + offset
                t1 = recs[i + 3]
                evs = recs[i + 5]
                append(ReadableSpan(name, ctx, top_parent if p < 0 else ctxs[p // 7], res,
                                    attrs_of(name, recs[i + 4]),
                                    events_of(evs, offset) if evs else (), (), sk, None, unset,
                                    t0, t1 + offset if t1 else t0, scope))
        self.units_built += len(units)
        self.spans_built += len(out)
        return out

    def _command_attrs(self, meta: tuple) -> tuple[dict, object, str]:
        from opentelemetry.trace import Status, StatusCode

        (opname, dbid, qargs, nargs, addr, cid, cname, err, laddr) = meta
        a: dict = {"db.system.name": "redis", "db.operation.name": opname,
                   "db.namespace": str(dbid), "db.query.text": query_text(qargs, nargs),
                   "network.transport": "tcp"}
        if self.port is not None:
            a["server.port"] = self.port
        if laddr:
            a["server.address"] = _split_addr(laddr)[0]
        if addr:
            host, port = _split_addr(addr)
            a["client.address"] = host
            a["network.peer.address"] = host
            if port is not None:
                a["client.port"] = port
                a["network.peer.port"] = port
        a["redis.client.id"] = cid
        if cname:
            a["redis.client.name"] = _text(cname)
        status = self._unset
        if err:
            code = err.split(" ", 1)[0]
            a["db.response.status_code"] = code
            a["error.type"] = code
            status = Status(StatusCode.ERROR, err)
        return a, status, opname or "command"

    def export(self, spans: list) -> None:
        for exp in self.exporters:
            for i in range(0, len(spans), 4096):
                try:
                    res = exp.export(spans[i:i + 4096])
                except Exception:  # noqa: BLE001 - a broken collector must not stop the others
                    res = None
                if res is None or getattr(res, "value", 0) != 0:
                    self.export_failures += 1

    def shutdown(self) -> None:
        for exp in self.exporters:
            try:
                exp.force_flush()
            except Exception:  # noqa: BLE001
                pass
            try:
                exp.shutdown()
            except Exception:  # noqa: BLE001
                pass


# --------------------------------------------------------------------------------------------
# Backends
# --------------------------------------------------------------------------------------------

_MAX_SPANS_PER_EXPORT = 8192


class ThreadBackend:
    """Builds and exports in a daemon thread of the server process."""

    kind = "thread"
    MAX_PENDING = 200_000          # units queued before new ones are dropped (and counted)

    def __init__(self, settings: dict, exporters: list | None = None) -> None:
        self.builder = SpanBuilder(settings, exporters)
        self.q: queue.SimpleQueue = queue.SimpleQueue()
        self.pending = 0
        self.dropped = 0
        self.thread = threading.Thread(target=self._run, name="tracered-span-exporter",
                                       daemon=True)
        self.thread.start()

    @property
    def pending_bytes(self) -> int:
        return 0

    def submit(self, offset: int, units: list) -> None:
        if self.pending > self.MAX_PENDING:
            self.dropped += len(units)
            return
        self.pending += len(units)
        self.q.put((offset, units))

    def _run(self) -> None:
        q = self.q
        b = self.builder
        stop = False
        while not stop:
            item = q.get()
            if item is None:
                break
            spans = b.build(*item)
            n = len(item[1])
            while len(spans) < _MAX_SPANS_PER_EXPORT:
                try:
                    item = q.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                spans.extend(b.build(*item))
                n += len(item[1])
            b.export(spans)
            self.pending -= n
        b.shutdown()

    def close(self, timeout: float = 5.0) -> bool:
        self.q.put(None)
        self.thread.join(timeout)
        return not self.thread.is_alive()


class ProcessBackend:
    """Builds and exports in a child process (``python -m tracered.trace.exporter``).

    The server thread marshals each batch itself and writes it to the child's stdin with
    non-blocking writes (:meth:`pump`, called from beforeSleep); what the pipe cannot take
    yet waits in :attr:`out`.  No writer thread: a thread would take the interpreter lock
    back from the server thread after every chunk written to the pipe, which costs more
    than the writes."""

    kind = "process"
    PIPE_SIZE = 1 << 20            # F_SETPIPE_SZ: fewer, larger writes (Linux caps it)
    MAX_PENDING = 256 << 20        # bytes the server keeps for a child that cannot keep up

    def __init__(self, settings: dict) -> None:
        import tracered

        root = os.path.dirname(os.path.dirname(os.path.abspath(tracered.__file__)))
        env = dict(os.environ)
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"]
                                    if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen([sys.executable, "-m", "tracered.trace.exporter"],
                                     stdin=subprocess.PIPE, env=env, close_fds=True,
                                     bufsize=0)
        self.fd = self.proc.stdin.fileno()
        try:
            import fcntl

            fcntl.fcntl(self.fd, getattr(fcntl, "F_SETPIPE_SZ", 1031), self.PIPE_SIZE)
        except (OSError, ImportError):
            pass
        self.out: collections.deque = collections.deque()   # bytes chunks not yet written
        self.out_bytes = 0
        self.dropped = 0
        self.broken = False
        self.closed = False
        data = marshal.dumps(settings)
        os.write(self.fd, _LEN.pack(len(data)) + data)       # small: fits the empty pipe
        os.set_blocking(self.fd, False)

    @property
    def pending(self) -> int:
        return self.out_bytes

    @property
    def pending_bytes(self) -> int:
        return self.out_bytes

    def submit(self, offset: int, units: list) -> None:
        if self.broken or self.closed:
            return
        if self.out_bytes > self.MAX_PENDING:
            self.dropped += len(units)
            return
        data = marshal.dumps((offset, units))
        self.out.append(_LEN.pack(len(data)) + data)
        self.out_bytes += len(data) + 4
        self.pump()

    def pump(self) -> None:
        """Write what the pipe takes now, without blocking."""
        out = self.out
        while out:
            chunk = out[0]
            try:
                n = os.write(self.fd, chunk)
            except BlockingIOError:
                return
            except OSError:
                self.broken = True   # the child died: drop everything from now on
                out.clear()
                self.out_bytes = 0
                return
            self.out_bytes -= n
            if n < len(chunk):
                out[0] = chunk[n:]
                return
            out.popleft()

    def _drain_and_close(self) -> None:
        try:
            os.set_blocking(self.fd, True)
            while self.out and not self.broken:
                chunk = self.out.popleft()
                view = memoryview(chunk)
                while view:
                    view = view[os.write(self.fd, view):]
        except OSError:
            self.broken = True
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def close(self, timeout: float = 5.0) -> bool:
        """Send what is pending, close the pipe (the child then exports its backlog and
        exits), and wait up to ``timeout`` for it.  A child still busy after that keeps
        running on its own until it has exported everything.  With ``timeout`` 0 the
        remaining writes happen on a short-lived thread."""
        if self.closed:
            return self.proc.poll() is not None
        self.closed = True
        if timeout <= 0:
            threading.Thread(target=self._drain_and_close, daemon=True,
                             name="tracered-span-drain").start()
            return False
        deadline = time.monotonic() + timeout
        self._drain_and_close()
        try:
            self.proc.wait(max(0.01, deadline - time.monotonic()))
            return True
        except subprocess.TimeoutExpired:
            return False


# --------------------------------------------------------------------------------------------
# The child process
# --------------------------------------------------------------------------------------------

def _read_exact(f, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = f.read(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


def child_main(max_backlog_bytes: int = 1 << 30) -> int:
    """Read frames from stdin until EOF, build and export them, flush, exit."""
    import signal

    # Ctrl-C in a terminal reaches the whole process group: let the server decide.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Span building is background work: it runs only on CPU time nothing else wants
    # (SCHED_IDLE, or nice 19 where that policy is refused), so a saturated machine serves
    # clients first and this process catches up from its bounded in-memory backlog after.
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (OSError, AttributeError):
        try:
            os.nice(19)
        except OSError:
            pass
    f = sys.stdin.buffer
    hdr = _read_exact(f, 4)
    if hdr is None:
        return 0
    data = _read_exact(f, _LEN.unpack(hdr)[0])
    if data is None:
        return 0
    builder = SpanBuilder(marshal.loads(data))
    backlog: collections.deque = collections.deque()
    cond = threading.Condition()
    state = {"bytes": 0, "dropped": 0, "eof": False}

    def reader() -> None:
        while True:
            h = _read_exact(f, 4)
            frame = _read_exact(f, _LEN.unpack(h)[0]) if h is not None else None
            with cond:
                if frame is None:
                    state["eof"] = True
                    cond.notify()
                    return
                if state["bytes"] > max_backlog_bytes:
                    state["dropped"] += 1
                    continue
                backlog.append(frame)
                state["bytes"] += len(frame)
                cond.notify()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    while True:
        with cond:
            while not backlog and not state["eof"]:
                cond.wait()
            if not backlog and state["eof"]:
                break
            frames = []
            size = 0
            while backlog and size < 4 << 20:
                fr = backlog.popleft()
                size += len(fr)
                frames.append(fr)
            state["bytes"] -= size
        spans: list = []
        for fr in frames:
            off, units = marshal.loads(fr)
            spans.extend(builder.build(off, units))
            if len(spans) >= _MAX_SPANS_PER_EXPORT:
                builder.export(spans)
                spans = []
        if spans:
            builder.export(spans)
    builder.shutdown()
    if state["dropped"] or builder.export_failures:
        sys.stderr.write("tracered span exporter: %d spans exported, %d frames dropped "
                         "(backlog full), %d failed exports\n"
                         % (builder.spans_built, state["dropped"], builder.export_failures))
    return 0


def make_backend(settings: dict, mode: str) -> ThreadBackend | ProcessBackend:
    if mode == "process":
        return ProcessBackend(settings)
    return ThreadBackend(settings)


def epoch_offset() -> int:
    """epoch ns - perf_counter ns, taken now (the recorder stores perf_counter_ns)."""
    return time.time_ns() - time.perf_counter_ns()


if __name__ == "__main__":
    sys.exit(child_main())
