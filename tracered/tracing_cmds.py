"""Tracing at run time: the ``trace-*`` / ``otlp-*`` configs, CLIENT TRACEPARENT, and the
wiring that arms the span recorder and runs the exporter.

Redis has no counterpart (tracing is tracered's own); see ``trace/spans.py`` for what the
spans look like and ``trace/recorder.py`` / ``trace/exporter.py`` for how they are made.

When tracing is on
------------------
Off by default, and then it costs nothing: no probe is armed.  It turns on when an exporter
destination is configured (``otlp-endpoint``, ``trace-dir``, or ``trace-exporter`` naming
one) or ``trace-sample-ratio`` is set above 0; ``trace-exporter none`` forces it off.
``trace-sample-ratio auto`` (the default) means 1.0 once tracing is on.  Examples::

    tracered --otlp-endpoint http://localhost:4317          every command to Jaeger (gRPC)
    tracered --trace-sample-ratio 0.01                      1% of commands to traces/*.jsonl
    tracered --trace-dir /tmp/tr --trace-args full          files, with argument values
    CONFIG SET trace-sample-ratio 0.1                       at run time (0 with a destination
                                                            set: only CLIENT TRACEPARENT's)

Configs (all settable with CONFIG SET; exporter changes restart the exporter):

    trace-sample-ratio       auto | 0..1     commands sampled (parent-based)
    trace-cron-sample-ratio  0..1 (0.001)    serverCron / cron rehash / active expiry roots
    trace-exporter           auto | any of "file otlp console" | none
                             auto = otlp when otlp-endpoint is set, else file (plus file
                             when trace-dir is set)
    trace-dir                directory of the JSON Lines files (default ./traces, relative
                             to the server's working directory, i.e. ``dir``)
    trace-file-max-size      size of one file before the next part starts (64mb)
    trace-file-max-files     parts kept per run (10)
    trace-args               elide (default) | full   argument values in db.query.text
    trace-export-mode        auto | thread | process  where spans are built; auto = a child
                             process when the ratio is above 0.05, else a thread
    otlp-endpoint            e.g. http://localhost:4317 (gRPC) or http://localhost:4318 (HTTP)
    otlp-protocol            auto | grpc | http/protobuf   (auto: OTEL_EXPORTER_OTLP_PROTOCOL,
                             else port 4318 means HTTP, else gRPC)

The standard OTEL_EXPORTER_OTLP_* variables (endpoint, headers, timeout, compression,
certificates) are honoured by the OTLP exporters for whatever the configs leave unset.

CLIENT TRACEPARENT <traceparent>
--------------------------------
A tracered extension (real Redis answers "unknown subcommand"): the W3C traceparent
``00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`` becomes the parent of the client's
next command, whose trace then joins the client's trace.  Its sampled flag (01) decides
sampling for that command, whatever the ratio.
"""

from __future__ import annotations

import os
import time

from tracered import __version__, config, shared
from tracered import commands as commands_mod
from tracered import networking as net
from tracered.config import MODIFIABLE, StandardConfig
from tracered.trace import probes
from tracered.trace import recorder as recorder_mod

_EXPORTER_NAMES = ("auto", "file", "otlp", "console", "none")
_PROCESS_MODE_ABOVE = 0.05
_FLUSH_UNITS = 512          # hand units to the exporter once this many wait ...
_FLUSH_SECONDS = 0.05       # ... or this long after the oldest
_SHUTDOWN_WAIT = 5.0


# --------------------------------------------------------------------------------------------
# Configs
# --------------------------------------------------------------------------------------------

def _parse_ratio(server, args: list[str]) -> str | None:
    if len(args) != 1:
        return "wrong number of arguments"
    raw = args[0].strip().lower()
    if raw in ("auto", ""):
        server.trace_sample_ratio = None
    else:
        try:
            v = float(raw)
        except ValueError:
            return "argument must be 'auto' or a number between 0 and 1"
        if not 0.0 <= v <= 1.0:
            return "argument must be 'auto' or a number between 0 and 1"
        server.trace_sample_ratio = v
    return _apply(server)


def _render_ratio(server) -> str:
    v = getattr(server, "trace_sample_ratio", None)
    return "auto" if v is None else "%g" % v


def _parse_cron_ratio(server, args: list[str]) -> str | None:
    if len(args) != 1:
        return "wrong number of arguments"
    try:
        v = float(args[0])
    except ValueError:
        return "argument must be a number between 0 and 1"
    if not 0.0 <= v <= 1.0:
        return "argument must be a number between 0 and 1"
    server.trace_cron_sample_ratio = v
    return _apply(server)


def _render_cron_ratio(server) -> str:
    return "%g" % getattr(server, "trace_cron_sample_ratio", 0.001)


def _parse_exporter(server, args: list[str]) -> str | None:
    names = [a.lower() for arg in args for a in arg.replace(",", " ").split()] or ["auto"]
    bad = [n for n in names if n not in _EXPORTER_NAMES]
    if bad:
        return "argument(s) must be 'auto', 'none' or any of: file, otlp, console"
    server.trace_exporter = names
    return _apply(server)


def _render_exporter(server) -> str:
    return " ".join(getattr(server, "trace_exporter", ["auto"]))


def _apply(server) -> str | None:
    """Config apply callback (and special configs' parse tail): reconfigure a running
    tracing setup.  Before startup the values are only stored."""
    t = _tracing
    if t is None or not t.live:
        return None
    try:
        t.reconfigure()
    except Exception as e:  # noqa: BLE001 - a bad exporter setting is a CONFIG SET error
        return f"tracing: {e}"
    return None


CONFIGS = [
    StandardConfig("trace-sample-ratio", "special", "auto", MODIFIABLE,
                   parse=_parse_ratio, render=_render_ratio),
    StandardConfig("trace-cron-sample-ratio", "special", "0.001", MODIFIABLE,
                   parse=_parse_cron_ratio, render=_render_cron_ratio),
    StandardConfig("trace-exporter", "special", "auto", MODIFIABLE,
                   parse=_parse_exporter, render=_render_exporter),
    StandardConfig("trace-dir", "string", "", MODIFIABLE, apply=_apply),
    StandardConfig("trace-file-max-size", "memory", 64 * 1024 * 1024, MODIFIABLE,
                   lower=0, upper=config.LLONG_MAX, apply=_apply),
    StandardConfig("trace-file-max-files", "int", 10, MODIFIABLE, lower=1,
                   upper=config.INT_MAX, apply=_apply),
    StandardConfig("trace-args", "enum", "elide", MODIFIABLE,
                   enum={"elide": "elide", "full": "full"}, apply=_apply),
    StandardConfig("trace-export-mode", "enum", "auto", MODIFIABLE,
                   enum={"auto": "auto", "thread": "thread", "process": "process"},
                   apply=_apply),
    StandardConfig("otlp-endpoint", "string", "", MODIFIABLE, apply=_apply),
    StandardConfig("otlp-protocol", "enum", "", MODIFIABLE,
                   enum={"auto": "", "grpc": "grpc", "http/protobuf": "http/protobuf",
                         "http": "http/protobuf"}, apply=_apply),
]


def register_configs(server) -> None:
    """Add the tracing configs to the config table and give ``server`` their defaults.
    Runs on import, so redis.conf / ``--trace-...`` options parse once this module is
    imported (server.main must import it before loading the configuration)."""
    for cfg in CONFIGS:
        if cfg.name in config.BY_NAME:
            continue
        config.register(cfg)
        if cfg.kind == "special":
            # Defaults only: no reconfigure yet (_tracing is None or not live).
            cfg.parse(server, str(cfg.default).split() or [""])
        elif not hasattr(server, cfg.attr):
            setattr(server, cfg.attr, cfg.default)


# --------------------------------------------------------------------------------------------
# The controller
# --------------------------------------------------------------------------------------------

class Tracing:
    """Owns the recorder (armed on the probes) and the exporter backend."""

    def __init__(self, server) -> None:
        self.srv = server
        self.live = False            # startup done: config changes apply at once
        self.recorder: recorder_mod.Recorder | None = None
        self.backend = None
        self.backend_key: tuple | None = None
        self.starts = 0
        self.file_name = ""
        self.in_child = False
        self.armed: list[str] = []
        self._oldest = 0.0
        self.units_flushed = 0
        self.retired: list = []      # backends being drained after a reconfigure

    # -- what the configs ask for --------------------------------------------------------

    def destinations(self) -> list[str]:
        srv = self.srv
        spec = list(getattr(srv, "trace_exporter", ["auto"]))
        if "none" in spec:
            return []
        out: list[str] = []
        for n in spec:
            if n == "auto":
                if srv.otlp_endpoint:
                    out.append("otlp")
                if srv.trace_dir or not srv.otlp_endpoint:
                    out.append("file")
            elif n not in out:
                out.append(n)
        return list(dict.fromkeys(out))

    def wanted(self) -> bool:
        srv = self.srv
        spec = getattr(srv, "trace_exporter", ["auto"])
        if "none" in spec:
            return False
        explicit = srv.otlp_endpoint or srv.trace_dir or any(n != "auto" for n in spec)
        ratio = srv.trace_sample_ratio
        return bool(explicit) or (ratio is not None and ratio > 0)

    def ratio(self) -> float:
        r = self.srv.trace_sample_ratio
        return 1.0 if r is None else r

    def mode(self) -> str:
        m = self.srv.trace_export_mode
        if m != "auto":
            return m
        return "process" if self.ratio() > _PROCESS_MODE_ABOVE else "thread"

    def settings(self) -> dict:
        """The exporter settings the configs ask for (``file_name`` left to the backend
        start: each exporter started gets its own file)."""
        from tracered.trace import spans

        srv = self.srv
        s = spans.default_settings()
        s["exporters"] = self.destinations()
        s["trace_dir"] = os.path.abspath(srv.trace_dir or spans.TRACES_DIR)
        s["file_max_bytes"] = int(srv.trace_file_max_size)
        s["file_max_files"] = int(srv.trace_file_max_files)
        s["otlp_endpoint"] = srv.otlp_endpoint
        s["otlp_protocol"] = srv.otlp_protocol
        s["version"] = __version__
        s["resource"] = {"service.name": "tracered", "service.instance.id": srv.run_id,
                         "service.version": __version__, "server.port": srv.port,
                         "process.pid": os.getpid(), "db.system.name": "redis"}
        return s

    # -- start / stop / reconfigure ------------------------------------------------------

    def reconfigure(self) -> None:
        if not self.wanted():
            self.stop()
            return
        srv = self.srv
        settings = self.settings()
        key = (repr(sorted(settings.items())), self.mode())
        if self.backend is None or key != self.backend_key:
            from tracered.trace import exporter, spans

            spans.check_exporters(settings)
            old = self.backend
            self.flush()
            # One file per run; a restarted exporter (CONFIG SET) starts the next one.
            self.starts += 1
            settings["file_name"] = "tracered-%d-%s-%d%s.jsonl" % (
                srv.port, time.strftime("%Y%m%d-%H%M%S"), os.getpid(),
                "" if self.starts == 1 else "-%d" % self.starts)
            self.file_name = settings["file_name"]
            self.backend = exporter.make_backend(settings, self.mode())
            self.backend_key = key
            if old is not None:
                old.close(0.0)   # drains on its own thread / process
                self.retired.append(old)
        rec = self.recorder
        if rec is None:
            rec = self.recorder = recorder_mod.Recorder(
                srv, self.ratio(), srv.trace_cron_sample_ratio, srv.trace_args == "full")
            rec.wrap_procs(commands_mod.commands)
            self.armed = recorder_mod.arm(rec)
            if self._before_sleep not in srv.before_sleep_hooks:
                srv.before_sleep_hooks.append(self._before_sleep)
        rec.set_ratio(self.ratio())
        rec.set_cron_ratio(srv.trace_cron_sample_ratio)
        rec.args_full = srv.trace_args == "full"

    def stop(self, wait: float = 0.0) -> None:
        """Disarm every probe (tracing then costs nothing) and retire the exporter."""
        rec = self.recorder
        if rec is not None:
            probes.remove_sink(rec)
            rec.unwrap_procs()
            self.flush()
            self.recorder = None
            self.armed = []
        hooks = self.srv.before_sleep_hooks
        if self._before_sleep in hooks:
            hooks.remove(self._before_sleep)
        if self.backend is not None:
            self.backend.close(wait)
            self.retired.append(self.backend)
            self.backend = None
            self.backend_key = None

    # -- hand-off ------------------------------------------------------------------------

    def flush(self) -> None:
        rec = self.recorder
        if rec is None or not rec.done or self.backend is None:
            return
        from tracered.trace.exporter import epoch_offset

        units = rec.take()
        self.units_flushed += len(units)
        self.backend.submit(epoch_offset(), units)

    def _before_sleep(self, srv) -> None:
        rec = self.recorder
        if rec is None:
            return
        done = rec.done
        if not done:
            self._oldest = 0.0
            b = self.backend
            if b is not None and b.pending and b.kind == "process":
                b.pump()    # what the pipe could not take last time
            return
        now = time.monotonic()
        if not self._oldest:
            self._oldest = now
        if len(done) >= _FLUSH_UNITS or now - self._oldest >= _FLUSH_SECONDS:
            self._oldest = 0.0
            self.flush()

    def info_lines(self) -> list[str]:
        """INFO tracing: whether spans are recorded, and whether the exporter keeps up."""
        rec = self.recorder
        b = self.backend
        dests = self.destinations()
        lines = ["# Tracing", f"tracing_enabled:{int(rec is not None)}"]
        if rec is not None:
            lines += [f"trace_sample_ratio:{rec.ratio:g}",
                      f"trace_cron_sample_ratio:{rec.cron_ratio:g}",
                      f"trace_exporters:{','.join(dests)}",
                      f"trace_export_mode:{self.mode()}",
                      f"trace_probes_armed:{len(self.armed)}"]
        proc = getattr(b, "proc", None)
        dropped = sum(getattr(x, "dropped", 0) for x in [b, *self.retired] if x is not None)
        lines += [f"trace_exporter_pid:{proc.pid if proc is not None else 0}",
                  f"trace_file:{self.file_name if 'file' in dests else ''}",
                  f"trace_units_recorded:{rec.units_recorded if rec is not None else 0}",
                  f"trace_units_handed_off:{self.units_flushed}",
                  f"trace_units_dropped:{dropped}",
                  f"trace_export_backlog_bytes:{b.pending_bytes if b is not None else 0}"]
        return lines

    def shutdown(self, srv, flags: int = 0) -> None:
        """A shutdown hook: export what was recorded (no span lost), then let go."""
        if self.recorder is not None or self.backend is not None:
            self.stop(wait=_SHUTDOWN_WAIT)
        for b in self.retired:
            b.close(_SHUTDOWN_WAIT)
        self.retired = []


_tracing: Tracing | None = None


# --------------------------------------------------------------------------------------------
# Forked children (BGSAVE, BGREWRITEAOF)
# --------------------------------------------------------------------------------------------

def after_fork_child() -> None:
    """Call in a forked child right after fork(): its first background probe (rdbSave)
    becomes a child span of the parent's span open at fork time (rdbSaveBackground), in
    the same trace.  The parent's exporter thread and pipe are left alone (threads do not
    survive fork; the pipe is the parent's); the child exports on its own in
    :func:`child_before_exit`."""
    t = _tracing
    if t is None or t.recorder is None:
        return
    t.recorder.after_fork_child()
    t.backend = None
    t.retired = []
    t.in_child = True
    hooks = t.srv.before_sleep_hooks
    if t._before_sleep in hooks:
        hooks.remove(t._before_sleep)


def child_before_exit() -> None:
    """Call in a forked child before it exits: build and export its spans synchronously
    (a few ms; the child is not the server thread).  OTLP over gRPC is skipped when this
    process had gRPC running before the fork (gRPC is not fork-safe); files and HTTP work."""
    import sys

    t = _tracing
    if t is None or t.recorder is None or not getattr(t, "in_child", False):
        return
    units = t.recorder.take()
    if not units:
        return
    from tracered.trace import exporter, spans

    settings = t.settings()
    if "otlp" in settings["exporters"] and "grpc" in sys.modules and \
            spans.resolve_otlp_protocol(settings) == "grpc":
        settings["exporters"].remove("otlp")
    # Appended to the run's file: one unbuffered write a batch, which Linux does not
    # interleave with the parent exporter's appends.
    settings["file_name"] = t.file_name
    settings["file_max_bytes"] = 0
    settings["resource"]["process.pid"] = os.getpid()
    try:
        b = exporter.SpanBuilder(settings)
        b.export(b.build(exporter.epoch_offset(), units))
        b.shutdown()
    except Exception:  # noqa: BLE001 - tracing must never fail a save
        pass


def tracing() -> Tracing | None:
    """The controller (None before init)."""
    return _tracing


# --------------------------------------------------------------------------------------------
# CLIENT TRACEPARENT
# --------------------------------------------------------------------------------------------

_HEX = frozenset(b"0123456789abcdef")


def parse_traceparent(raw: bytes) -> tuple[int, int, int] | None:
    """W3C trace context ``version-traceid-parentid-flags`` -> (trace_id, span_id, flags), or
    None when invalid (version ff, all-zero ids, not lower-case hex, wrong lengths)."""
    s = raw.strip()
    if len(s) < 55 or s[2:3] != b"-" or s[35:36] != b"-" or s[52:53] != b"-":
        return None
    version = s[:2]
    if version == b"ff" or (version == b"00" and len(s) != 55) or \
            (len(s) > 55 and s[55:56] != b"-"):
        return None
    parts = (s[:2], s[3:35], s[36:52], s[53:55])
    if any(not p or not set(p) <= _HEX for p in parts):
        return None
    trace_id = int(parts[1], 16)
    span_id = int(parts[2], 16)
    if not trace_id or not span_id:
        return None
    return trace_id, span_id, int(parts[3], 16)


def client_traceparent_command(c: net.Client) -> None:
    """CLIENT TRACEPARENT <traceparent>: the parent span of this client's next command."""
    tp = parse_traceparent(c.argv[2])
    if tp is None:
        net.add_reply_error(c, "Invalid traceparent, expected "
                               "00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>")
        return
    c.trace_parent = tp
    net.add_reply(c, shared.ok)


def _install_client_traceparent() -> None:
    """Insert TRACEPARENT into the CLIENT container's subcommands (networking_cmds.py owns
    CLIENT; without it, a CLIENT with this one subcommand stands in)."""
    table = commands_mod.commands
    client = table.get(b"client")
    sc = commands_mod.sub("traceparent", client_traceparent_command, 3,
                          "noscript loading stale fast allow_busy", acl="connection",
                          since="7.0.15",
                          summary="Set the W3C traceparent of the next command (tracered "
                                  "extension)", args="traceparent", group="connection")
    if client is None:
        client = commands_mod.cmd("client", None, -2, "sentinel", group="connection",
                                  since="2.4.0", summary="A container for client connection "
                                                         "commands")
        client.subcommands = {}
        table[b"client"] = client
        commands_mod._lookup[b"client"] = client
        commands_mod._lookup[b"CLIENT"] = client
    if client.subcommands is None:
        return
    sc.parent = client
    sc.fullname = "client|traceparent"
    sc.group = client.group
    client.subcommands[b"traceparent"] = sc


# --------------------------------------------------------------------------------------------
# Wiring
# --------------------------------------------------------------------------------------------

def _rebind_recorder_procs(old, new) -> None:
    t = _tracing
    if t is not None and t.recorder is not None:
        t.recorder.rebind_proc(old, new)


def _rebind_event_loop(old, new) -> None:
    """Handlers stored in the event loop (serverCron's time event, each client's read
    handler) hold function references the module rebinding cannot see."""
    srv = _server()
    el = getattr(srv, "el", None)
    if el is None:
        return
    for te in el.time_events:
        if te.proc is old:
            te.proc = new
    for fe in el.events.values():
        if fe.rfile_proc is old:
            fe.rfile_proc = new
        if fe.wfile_proc is old:
            fe.wfile_proc = new


def _server():
    from tracered.server import server

    return server


def _startup(srv) -> None:
    t = _tracing
    if t is None:
        return
    t.live = True
    try:
        t.reconfigure()
    except Exception as e:  # noqa: BLE001
        srv.log_warning(f"Tracing disabled: {type(e).__name__}: {e}")
        return
    if t.recorder is not None:
        srv.log_notice("Tracing on: ratio %g, exporters %s, spans built in a %s (%d probes "
                       "armed)" % (t.ratio(), ",".join(t.destinations()) or "-",
                                   t.mode(), len(t.armed)))


def _shutdown(srv, flags: int = 0) -> None:
    t = _tracing
    if t is not None:
        t.shutdown(srv, flags)


def init(server) -> None:
    """Called by initServer: install CLIENT TRACEPARENT and arm tracing once the server
    listens (startup hook), so the resource carries the real port."""
    global _tracing
    register_configs(server)
    _install_client_traceparent()
    if _tracing is None:
        _tracing = Tracing(server)
        probes.add_rebinder(_rebind_recorder_procs)
        probes.add_rebinder(_rebind_event_loop)
    if _startup not in server.startup_hooks:
        server.startup_hooks.append(_startup)
    from tracered import info

    info.EXTRA_SECTIONS["tracing"] = _tracing.info_lines
    if _shutdown not in server.shutdown_hooks:
        server.shutdown_hooks.append(_shutdown)


register_configs(_server())

COMMANDS: list = []
