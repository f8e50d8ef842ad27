"""The breakpoint debugger engine: pause the whole server on a probe, inspect, step.

This is what gdb does to redis-server, done from inside: a breakpoint names a probe from the
catalogue (``call``, ``dictRehash``, ``processCommand`` ...), optionally with a condition;
when the server thread reaches it and the condition holds, the server thread blocks on a
condition variable until a UI (the Textual TUI, or a client of the control channel) resumes
it.  Like a process stopped under gdb, nothing else runs meanwhile: every client waits, no
cron fires, so the inspectors read a frozen, consistent server.

The engine knows no UI.  A UI calls its methods from its own thread and listens to events:

    add_breakpoint(spec)         "call", "call if cmd == 'SET'", "dictRehash if dict.ht0_size > 512"
    delete/enable/disable        at run time, paused or not
    resume(action)               "continue" | "step" | "next" | "finish"
    current_frame() / wait_paused(timeout)
    subscribe(callback)          events: paused, resumed, breakpoints, condition_error, log

Actions (gdb's, at the granularity of probes):
    continue   run until a breakpoint hits
    step       pause at the very next probe entered, of any kind (every probe is armed
               while stepping and disarmed after)
    next       pause when the next command starts (its processCommand)
    finish     run to the end of the current command (processCommand returns); outside a
               command, to the return of the probe paused in

Conditions are a small, safe expression language checked with ``ast`` (never ``eval``):
names ``cmd key argv argc probe hits db when`` and the views ``client.* robj.* dict.* repl.*
aof.*`` (fields listed in frame.VIEW_FIELDS), literals, ``== != < <= > >= in not in``,
``and or not``, ``+ - * % //``, ``argv[1]``, and the functions ``matches(value, "glob*")``,
``len``, ``lower``, ``upper``, ``int``, ``str``.  ``cmd`` compares case-insensitively.
``hits`` counts how many times the breakpoint's probe was reached (including this time), so
``call if hits == 3`` is gdb's ``ignore 1 2``.  A condition that fails to parse is refused
when added; one that fails while evaluating (e.g. ``cmd > 3``) disables its breakpoint,
stores the error and sends a ``condition_error`` event: a bad condition never stops or
crashes the server.

Besides probe names, a breakpoint may name a span event (``encoding.convert``,
``rehash.finished``, any name containing a dot): it pauses where the event is reported, and
``attrs["to"]`` reads the event's attributes.

Divergence from gdb: there is no instruction-level stepping; "step" moves from one probe to
the next, and only probes are places to stop.  A forked child (BGSAVE, BGREWRITEAOF) never
pauses: no UI thread survives a fork.
"""

from __future__ import annotations

import ast
import difflib
import itertools
import operator
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from tracered import util
from tracered.trace import frame as framemod
from tracered.trace import probes
from tracered.trace.frame import VIEW_FIELDS, Frame, ProbeContext

ACTIONS = ("continue", "step", "next", "finish")

# Probes recorded as the current command's spans while a breakpoint is armed (the command
# path; event-loop probes such as aeProcessEvents are left out: they would fire constantly).
CAPTURE_PROBES = (
    "processCommand", "lookupCommand", "call", "addReply", "addReplyBulk", "lookupKey",
    "dbAdd", "createStringObject", "createHashObject", "dictFind", "dictAddRaw",
    "dictExpand", "dictRehash", "_dictRehashStep", "feedAppendOnlyFile",
    "replicationFeedSlaves", "feedReplicationBuffer", "zslInsert",
)
MAX_SPANS = 2000            # spans kept for one command (a huge MSET would record many)
RECENT_COMMANDS = 200


class ConditionError(ValueError):
    """A condition that cannot be compiled or evaluated."""


# --------------------------------------------------------------------------------------------
# The condition language
# --------------------------------------------------------------------------------------------

def _matches(value: Any, pattern: Any) -> bool:
    if value is None or pattern is None:
        return False
    v = value.encode() if isinstance(value, str) else bytes(value)
    p = pattern.encode() if isinstance(pattern, str) else bytes(pattern)
    return util.string_match_len(p, v)


FUNCS: dict[str, Callable] = {
    "matches": _matches, "len": len, "int": int, "str": str,
    "lower": lambda s: s.lower() if s is not None else None,
    "upper": lambda s: s.upper() if s is not None else None,
}
_CMP = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
        ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge}
_ORDERING = (ast.Lt, ast.LtE, ast.Gt, ast.GtE)
_BIN = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
        ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv}
MAX_CONDITION_LEN = 500


class Condition:
    """A compiled condition: the checked AST, evaluated by a tiny tree walker.

    Only the node kinds listed in :meth:`_check` exist in a Condition, attribute access is
    a dictionary lookup in a :class:`frame.View`, and calls go only to :data:`FUNCS`; no
    Python object of the server is reachable from a condition.
    """

    __slots__ = ("text", "tree", "names")

    def __init__(self, text: str) -> None:
        self.text = text.strip()
        if not self.text:
            raise ConditionError("empty condition")
        if len(self.text) > MAX_CONDITION_LEN:
            raise ConditionError(f"condition longer than {MAX_CONDITION_LEN} characters")
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as e:
            raise ConditionError(f"syntax error at column {e.offset}: {e.msg}") from None
        self.names: set[str] = set()
        self._check(tree.body)
        self.tree = tree.body

    def _check(self, n: ast.AST) -> None:
        if isinstance(n, ast.BoolOp):
            for v in n.values:
                self._check(v)
        elif isinstance(n, ast.UnaryOp) and isinstance(n.op, (ast.Not, ast.USub)):
            self._check(n.operand)
        elif isinstance(n, ast.BinOp) and type(n.op) in _BIN:
            self._check(n.left)
            self._check(n.right)
        elif isinstance(n, ast.Compare):
            for op in n.ops:
                if type(op) not in _CMP and not isinstance(op, (ast.In, ast.NotIn)):
                    raise ConditionError(f"operator {type(op).__name__} is not allowed")
            self._check(n.left)
            for v in n.comparators:
                self._check(v)
        elif isinstance(n, ast.Constant):
            if not isinstance(n.value, (str, bytes, int, float, bool, type(None))):
                raise ConditionError(f"constant {n.value!r} is not allowed")
        elif isinstance(n, (ast.Tuple, ast.List)):
            for v in n.elts:
                self._check(v)
        elif isinstance(n, ast.Name):
            if n.id in ("True", "False", "None"):
                return
            if n.id not in framemod.SCALARS and n.id not in VIEW_FIELDS:
                raise ConditionError(_unknown("name", n.id,
                                              list(framemod.SCALARS) + list(VIEW_FIELDS)))
            self.names.add(n.id)
        elif isinstance(n, ast.Attribute):
            if not isinstance(n.value, ast.Name) or n.value.id not in VIEW_FIELDS:
                raise ConditionError("attributes are read only on client, robj, dict, repl, "
                                     "aof (e.g. dict.rehashidx)")
            fields = VIEW_FIELDS[n.value.id]
            if n.attr not in fields:
                raise ConditionError(_unknown(f"field of {n.value.id}", n.attr, fields))
            self.names.add(n.value.id)
        elif isinstance(n, ast.Subscript):
            self._check(n.value)
            self._check(n.slice)
        elif isinstance(n, ast.Call):
            if not isinstance(n.func, ast.Name) or n.func.id not in FUNCS:
                raise ConditionError("only these functions exist: " + ", ".join(sorted(FUNCS)))
            if n.keywords:
                raise ConditionError("keyword arguments are not allowed")
            for a in n.args:
                self._check(a)
        else:
            raise ConditionError(f"{type(n).__name__} is not allowed in a condition")

    def evaluate(self, ctx: ProbeContext) -> bool:
        try:
            return bool(self._eval(self.tree, ctx))
        except ConditionError:
            raise
        except Exception as e:  # noqa: BLE001 - reported to the user, never raised further
            raise ConditionError(f"{type(e).__name__}: {e}") from None

    def _eval(self, n: ast.AST, ctx: ProbeContext) -> Any:
        ev = self._eval
        t = type(n)
        if t is ast.Compare:
            left = ev(n.left, ctx)
            for op, right_node in zip(n.ops, n.comparators, strict=True):
                right = ev(right_node, ctx)
                if isinstance(op, ast.In):
                    ok = right is not None and left in right
                elif isinstance(op, ast.NotIn):
                    ok = right is None or left not in right
                elif isinstance(op, _ORDERING) and (left is None or right is None):
                    ok = False  # a missing value (no key, no replica) orders as "no match"
                else:
                    ok = _CMP[type(op)](left, right)
                if not ok:
                    return False
                left = right
            return True
        if t is ast.BoolOp:
            if isinstance(n.op, ast.And):
                v = True
                for x in n.values:
                    v = ev(x, ctx)
                    if not v:
                        return v
                return v
            v = False
            for x in n.values:
                v = ev(x, ctx)
                if v:
                    return v
            return v
        if t is ast.Name:
            if n.id in ("True", "False", "None"):
                return {"True": True, "False": False, "None": None}[n.id]
            return ctx.value(n.id)
        if t is ast.Attribute:
            return ctx.value(n.value.id).get(n.attr)
        if t is ast.Constant:
            return n.value
        if t is ast.UnaryOp:
            v = ev(n.operand, ctx)
            return (not v) if isinstance(n.op, ast.Not) else -v
        if t is ast.BinOp:
            return _BIN[type(n.op)](ev(n.left, ctx), ev(n.right, ctx))
        if t is ast.Subscript:
            seq = ev(n.value, ctx)
            idx = ev(n.slice, ctx)
            if seq is None:
                return None
            if isinstance(seq, dict):
                return seq.get(idx)
            try:
                return seq[idx]
            except IndexError:
                return None  # argv[3] on a shorter command: no value, not an error
        if t in (ast.Tuple, ast.List):
            return tuple(ev(x, ctx) for x in n.elts)
        if t is ast.Call:
            return FUNCS[n.func.id](*[ev(a, ctx) for a in n.args])
        raise ConditionError(f"{t.__name__} is not allowed")  # pragma: no cover - checked


def _unknown(what: str, name: str, choices) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"unknown {what} '{name}'{hint}"


# --------------------------------------------------------------------------------------------
# Breakpoints
# --------------------------------------------------------------------------------------------

class Breakpoint:
    """One breakpoint: a probe (or span event) name, an optional condition, counters."""

    __slots__ = ("id", "probe", "condition", "enabled", "hits", "pauses", "error", "is_event")

    def __init__(self, bid: int, probe: str, condition: Condition | None,
                 is_event: bool = False) -> None:
        self.id = bid
        self.probe = probe
        self.condition = condition
        self.enabled = True
        self.hits = 0       # times the probe was reached while enabled
        self.pauses = 0     # times it actually paused the server
        self.error: str | None = None
        self.is_event = is_event

    @property
    def spec(self) -> str:
        return self.probe + (f" if {self.condition.text}" if self.condition else "")

    def to_dict(self) -> dict:
        return {"id": self.id, "probe": self.probe, "spec": self.spec,
                "condition": self.condition.text if self.condition else None,
                "enabled": self.enabled, "hits": self.hits, "pauses": self.pauses,
                "error": self.error, "event": self.is_event}


def parse_spec(spec: str) -> tuple[str, str | None]:
    """``"call"`` -> ("call", None); ``"call if cmd == 'SET'"`` -> ("call", "cmd == 'SET'")."""
    spec = spec.strip()
    head, sep, cond = spec.partition(" if ")
    if not sep and spec.endswith(" if"):
        raise ConditionError("empty condition after 'if'")
    return head.strip(), (cond.strip() if sep else None)


def check_probe_name(name: str) -> bool:
    """True for a catalogue probe, False for a span event name; raises for anything else."""
    if name in probes.CATALOGUE:
        return True
    if "." in name and name.replace(".", "").replace("_", "").isalnum():
        return False
    raise ConditionError(_unknown("probe", name, probes.CATALOGUE))


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------

class Debugger(probes.Sink):
    """The UI-free engine.  One per process (the server is one per process).

    Thread contract: ``enter``/``leave``/``event`` run on the server thread; everything else
    may be called from any thread.  The server thread only ever blocks in :meth:`_pause`.
    """

    def __init__(self, *, capture_spans: bool = True, local_ui: bool = False) -> None:
        self._lock = threading.RLock()          # breakpoints, arming, listeners
        self._cond = threading.Condition()      # the pause/resume handshake
        self._ids = itertools.count(1)
        self.breakpoints: dict[int, Breakpoint] = {}
        self._by_probe: dict[str, list[Breakpoint]] = {}     # enabled breakpoints only
        self._listeners: list[Callable[[dict], None]] = []
        self.capture_spans = capture_spans
        self.local_ui = local_ui     # a UI lives in this process (TUI): never auto-detach
        self.attached = False
        self.closed = False
        self._pid = os.getpid()
        self._armed: set[str] = set()
        # resume state
        self._mode = "continue"
        self._finish_serial = -1
        self._paused: Frame | None = None
        self._action: str | None = None
        self._pause_seq = 0
        # current command bookkeeping (server thread only)
        self._serial = itertools.count(1)
        self._stack: list[tuple[int, int]] = []   # (serial, span index or -1)
        self._cmd_depth = 0
        self._cmd_serial = -1
        self._cmd_client = None
        self._cmd_t0 = 0
        self._paused_ns = 0       # time spent paused, left out of span timings
        # True while the debugger itself runs inspectors on the server thread: probes they
        # reach (a type's preview hook calling a probed function) must not re-enter.
        self._busy = False
        self._spans: list[dict] = []
        self.last_spans: list[dict] = []
        self.recent: deque = deque(maxlen=RECENT_COMMANDS)

    # -- attaching ---------------------------------------------------------------------------

    def attach(self) -> None:
        """Start listening to probes (call once the server modules are imported)."""
        with self._lock:
            self.attached = True
            self.closed = False
            _install_event_loop_rebinder()
            self._rearm()
            probes.refresh_all()

    def close(self) -> None:
        """Detach for good: resume a paused server, disarm everything, stop pausing."""
        with self._lock:
            self.closed = True
            self.attached = False
        with self._cond:
            self._mode = "continue"
            if self._paused is not None:
                self._action = "continue"
                self._paused = None
            self._cond.notify_all()
        with self._lock:
            probes.remove_sink(self)
            self._armed.clear()
        self._emit({"event": "closed"})

    def detach_controllers(self) -> None:
        """The last remote UI left a headless server: disable every breakpoint and resume,
        so the server is never left frozen with nobody to continue it."""
        with self._lock:
            for bp in self.breakpoints.values():
                bp.enabled = False
            self._index()
        self._mode = "continue"
        self.resume("continue")
        self._rearm()
        self._emit_breakpoints()

    # -- listeners ---------------------------------------------------------------------------

    def subscribe(self, fn: Callable[[dict], None]) -> None:
        """``fn(event)`` is called on the thread that produced the event (often the server
        thread): it must not block.  Post to a queue or a UI message loop."""
        with self._lock:
            self._listeners.append(fn)

    def unsubscribe(self, fn: Callable[[dict], None]) -> None:
        with self._lock:
            if fn in self._listeners:
                self._listeners.remove(fn)

    def _emit(self, ev: dict) -> None:
        for fn in list(self._listeners):
            try:
                fn(ev)
            except Exception:  # noqa: BLE001 - a broken UI must not break the server
                pass

    def _emit_breakpoints(self) -> None:
        self._emit({"event": "breakpoints", "breakpoints": self.list_breakpoints()})

    # -- breakpoints -------------------------------------------------------------------------

    def add_breakpoint(self, spec: str, condition: str | None = None) -> dict:
        """Add ``"probe"`` or ``"probe if expr"`` (or probe + a separate condition).
        Raises ConditionError (a ValueError for callers) on a bad name or condition."""
        name, cond_text = parse_spec(spec)
        if condition:
            if cond_text:
                raise ConditionError("condition given twice")
            cond_text = condition
        is_probe = check_probe_name(name)
        cond = Condition(cond_text) if cond_text else None
        with self._lock:
            bp = Breakpoint(next(self._ids), name, cond, is_event=not is_probe)
            self.breakpoints[bp.id] = bp
            self._index()
        self._rearm()
        self._emit_breakpoints()
        return bp.to_dict()

    def delete_breakpoint(self, bid: int) -> bool:
        with self._lock:
            bp = self.breakpoints.pop(int(bid), None)
            self._index()
        if bp is None:
            return False
        self._rearm()
        self._emit_breakpoints()
        return True

    def enable_breakpoint(self, bid: int, enabled: bool = True) -> bool:
        with self._lock:
            bp = self.breakpoints.get(int(bid))
            if bp is None:
                return False
            bp.enabled = bool(enabled)
            if enabled:
                bp.error = None
            self._index()
        self._rearm()
        self._emit_breakpoints()
        return True

    def disable_breakpoint(self, bid: int) -> bool:
        return self.enable_breakpoint(bid, False)

    def toggle_breakpoint(self, bid: int) -> bool:
        bp = self.breakpoints.get(int(bid))
        return bp is not None and self.enable_breakpoint(bid, not bp.enabled)

    def list_breakpoints(self) -> list[dict]:
        with self._lock:
            return [bp.to_dict() for bp in self.breakpoints.values()]

    def _index(self) -> None:
        by: dict[str, list[Breakpoint]] = {}
        for bp in self.breakpoints.values():
            if bp.enabled:
                by.setdefault(bp.probe, []).append(bp)
        self._by_probe = by

    def _wanted(self) -> set[str]:
        """Probes this sink must be armed on right now."""
        want = {n for n in self._by_probe if n in probes.CATALOGUE}
        if self._mode == "step":
            want.update(probes.CATALOGUE)
        elif want or self._mode in ("next", "finish") or self._paused is not None:
            if self.capture_spans:
                want.update(n for n in CAPTURE_PROBES if n in probes.CATALOGUE)
        # processCommand marks command boundaries (spans, next, finish, the command log).
        want.add("processCommand")
        return want

    def _rearm(self) -> None:
        with self._lock:
            if not self.attached or self.closed:
                return
            want = self._wanted()
            for name in self._armed - want:
                probes.disarm(name, self)
            for name in want - self._armed:
                probes.arm(name, self)
            self._armed = want
            if self._by_probe:
                # Event breakpoints need events delivered even if no probe breakpoint exists.
                probes.armed = True

    # -- pause / resume ----------------------------------------------------------------------

    @property
    def paused(self) -> bool:
        return self._paused is not None

    def current_frame(self) -> dict | None:
        f = self._paused
        return f.to_dict() if f is not None else None

    def wait_paused(self, timeout: float | None = None) -> dict | None:
        """Block the caller (a UI or test thread) until the server pauses."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while self._paused is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return None
                self._cond.wait(left)
            return self._paused.to_dict()

    def resume(self, action: str = "continue") -> bool:
        """Resume a paused server with continue/step/next/finish.  False if not paused."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")
        with self._cond:
            if self._paused is None:
                return False
            self._action = action
            # Cleared here, not when the server thread wakes, so a wait_paused() right after
            # resume() waits for the *next* pause instead of returning this one.
            self._paused = None
            self._cond.notify_all()
        return True

    def interrupt(self) -> bool:
        """Pause as soon as possible (gdb's Ctrl-C): step mode, so the next probe of any
        kind, at the latest the event loop's next aeProcessEvents, stops the server."""
        if self.paused or self.closed:
            return False
        self._mode = "step"
        self._rearm()
        return True

    def _pause(self, ctx: ProbeContext, reason: str, bp: Breakpoint | None) -> None:
        """Block the server thread until a UI resumes it (runs on the server thread)."""
        srv = framemod.srv()
        if self.closed or os.getpid() != self._pid or srv.shutdown_asap:
            return
        t0 = time.perf_counter_ns()
        self._pause_seq += 1
        spans = [dict(s) for s in self._spans] if self._cmd_depth else \
            [dict(s) for s in self.last_spans]
        self._busy = True
        try:
            frame = Frame.capture(ctx, reason, bp.id if bp else None, spans, self._pause_seq)
        finally:
            self._busy = False
        with self._cond:
            self._action = None
            self._paused = frame
            self._cond.notify_all()
        self._emit({"event": "paused", "frame": frame.to_dict()})
        with self._cond:
            # shutdown_asap: SIGTERM/SIGINT on a headless server ends the pause, so the
            # signal still stops the server.
            while self._action is None and not self.closed and not srv.shutdown_asap:
                self._cond.wait(0.5)
            action = self._action or "continue"
            self._paused = None
            self._action = None
            self._set_mode(action)
        self._rearm()
        self._emit({"event": "resumed", "action": action})
        # Capturing, waiting and re-arming are the debugger's time, not the command's.
        self._paused_ns += time.perf_counter_ns() - t0

    def _set_mode(self, action: str) -> None:
        self._mode = action
        if action == "finish":
            if self._cmd_depth:
                self._finish_serial = self._cmd_serial
            elif self._stack:
                self._finish_serial = self._stack[-1][0]
            else:
                self._mode = "continue"

    # -- the Sink interface (server thread) ---------------------------------------------------

    def enter(self, info: probes.ProbeInfo, args: tuple) -> Any:
        if self._busy:
            return None  # a probe reached by the debugger's own inspectors: not the program's
        name = info.name
        serial = next(self._serial)
        span = -1
        if name == "processCommand":
            self._cmd_depth += 1
            if self._cmd_depth == 1:
                self._cmd_serial = serial
                self._cmd_client = args[0] if args else None
                self._cmd_t0 = time.perf_counter_ns() - self._paused_ns
                self._spans = []
        if self._cmd_depth and len(self._spans) < MAX_SPANS:
            spans = self._spans
            span = len(spans)
            parent = self._stack[-1][1] if self._stack else -1
            spans.append({"name": name, "parent": parent, "depth": len(self._stack),
                          "start_us": self._now_us(),
                          "dur_us": None, "events": []})
        self._stack.append((serial, span))
        try:
            self._check_enter(info, args, name)
        except Exception:  # noqa: BLE001 - the debugger must never break a command
            pass
        return serial

    def _now_us(self) -> int:
        """Microseconds since the current command started, not counting paused time."""
        return (time.perf_counter_ns() - self._paused_ns - self._cmd_t0) // 1000

    def _check_enter(self, info: probes.ProbeInfo, args: tuple, name: str) -> None:
        mode = self._mode
        if mode == "step":
            self._pause(ProbeContext(info, args, "enter", 0, self._cmd_client), "step", None)
            return
        if mode == "next" and name == "processCommand" and self._cmd_depth == 1:
            self._pause(ProbeContext(info, args, "enter", 0, self._cmd_client), "next", None)
            return
        bps = self._by_probe.get(name)
        if bps:
            self._check_breakpoints(bps, ProbeContext(info, args, "enter", 0, self._cmd_client))

    def _check_breakpoints(self, bps: list[Breakpoint], ctx: ProbeContext) -> None:
        for bp in list(bps):
            if not bp.enabled:
                continue
            bp.hits += 1
            ctx.hits = bp.hits
            ctx._cache.pop("hits", None)
            if bp.condition is not None:
                try:
                    self._busy = True
                    try:
                        ok = bp.condition.evaluate(ctx)
                    finally:
                        self._busy = False
                except ConditionError as e:
                    self._condition_failed(bp, str(e))
                    continue
                if not ok:
                    continue
            bp.pauses += 1
            self._pause(ctx, "breakpoint", bp)
            return

    def _condition_failed(self, bp: Breakpoint, msg: str) -> None:
        with self._lock:
            bp.error = msg
            bp.enabled = False
            self._index()
        self._rearm()
        self._emit({"event": "condition_error", "breakpoint": bp.id, "spec": bp.spec,
                    "error": msg})
        self._emit_breakpoints()

    def leave(self, info: probes.ProbeInfo, token: Any) -> None:
        if token is None:
            return
        stack = self._stack
        # Pop to our token.  Defensive: every wrapper calls leave after enter, but a token
        # from before a close()/attach() cycle is not on the stack and is ignored.
        for i in range(len(stack) - 1, -1, -1):
            if stack[i][0] == token:
                span = stack[i][1]
                del stack[i:]
                break
        else:
            return
        if span >= 0 and span < len(self._spans):
            s = self._spans[span]
            s["dur_us"] = self._now_us() - s["start_us"]
        try:
            if self._mode == "finish" and token == self._finish_serial:
                self._finish_serial = -1
                self._pause(ProbeContext(info, (), "leave", 0, self._cmd_client), "finish", None)
            if info.name == "processCommand" and self._cmd_depth:
                self._cmd_depth -= 1
                if self._cmd_depth == 0:
                    self._command_done()
        except Exception:  # noqa: BLE001
            pass

    def _command_done(self) -> None:
        c = self._cmd_client
        self.last_spans = self._spans
        self._spans = []
        if c is not None:
            argv = c.argv or []
            self.recent.append({
                "time": time.time(), "client": c.id, "addr": c.addr,
                "db": c.db.id if c.db is not None else 0,
                "argv": [framemod.text(a[:64]) for a in argv[:8]],
                "argc": len(argv),
                "us": self._now_us(),
            })
        self._cmd_client = None

    def event(self, name: str, attrs: dict) -> None:
        if self._busy:
            return
        if self._cmd_depth and self._stack:
            span = self._stack[-1][1]
            if 0 <= span < len(self._spans) and len(self._spans[span]["events"]) < 32:
                self._spans[span]["events"].append(
                    {"name": name, "attrs": {k: _plain(v) for k, v in attrs.items()}})
        bps = self._by_probe.get(name)
        if bps:
            try:
                ctx = ProbeContext(None, (), "event", 0, self._cmd_client,
                                   dict(attrs, event=name))
                self._check_breakpoints(bps, ctx)
            except Exception:  # noqa: BLE001
                pass

    # -- status for UIs ----------------------------------------------------------------------

    def recent_commands(self) -> list[dict]:
        try:
            return list(self.recent)
        except RuntimeError:
            return []

    def snapshot(self) -> dict:
        snap = framemod.snapshot()
        snap["paused"] = self.paused
        snap["mode"] = self._mode
        return snap

    def probe_names(self) -> list[dict]:
        return [{"name": i.name, "redis": i.redis_location, "exposes": i.exposes,
                 "available": i.fn is not None} for i in probes.CATALOGUE.values()]

    def state(self) -> dict:
        return {"paused": self.paused, "mode": self._mode, "attached": self.attached,
                "breakpoints": self.list_breakpoints()}


def _plain(v: Any) -> Any:
    if isinstance(v, (bytes, bytearray)):
        return framemod.text(v)
    return v if isinstance(v, (int, float, str, bool)) or v is None else str(v)


# --------------------------------------------------------------------------------------------
# References the probe system's module scan cannot see: the event loop's handlers
# --------------------------------------------------------------------------------------------

_el_rebinder_installed = False


def _rebind_event_loop(old: Callable, new: Callable) -> None:
    """Swap a probed handler stored inside the event loop (client read handlers, the
    listening socket's accept handler, serverCron's time event, beforeSleep), so that
    readQueryFromClient, acceptTcpHandler, serverCron and beforeSleep can be stepped into."""
    from tracered import server as server_mod

    el = server_mod.server.el
    if el is None:
        return
    if el.beforesleep is old:
        el.beforesleep = new
    for fe in list(el.events.values()):
        if fe.rfile_proc is old:
            fe.rfile_proc = new
        if fe.wfile_proc is old:
            fe.wfile_proc = new
    for te in list(el.time_events):
        if te.proc is old:
            te.proc = new


def _install_event_loop_rebinder() -> None:
    global _el_rebinder_installed
    if not _el_rebinder_installed:
        probes.add_rebinder(_rebind_event_loop)
        _el_rebinder_installed = True


# The process-wide debugger (created on demand by the CLI / control channel).
_debugger: Debugger | None = None


def get_debugger(create: bool = True, **kw) -> Debugger | None:
    global _debugger
    if _debugger is None and create:
        _debugger = Debugger(**kw)
    return _debugger


def reset_debugger() -> None:
    """Close and forget the process-wide debugger (tests)."""
    global _debugger
    if _debugger is not None:
        _debugger.close()
    _debugger = None
