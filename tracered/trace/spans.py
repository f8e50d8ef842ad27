"""OpenTelemetry spans from the probes: provider, resource, sampler and exporters.

Redis has no counterpart (Redis traces nothing); this module and its neighbours turn the
probe spine (``probes.py``) into OpenTelemetry traces that Jaeger or any OTLP collector shows.

The pipeline
------------
::

    server thread                         exporter (thread, or process at high ratios)
    probes -> recorder.Recorder           exporter.SpanBuilder -> ReadableSpan (SDK)
      compact records per command  ==>      -> exporters made here:
      units handed off in beforeSleep         OTLP JSON Lines files (traces/), OTLP gRPC,
      (marshal over a pipe)                   OTLP HTTP/protobuf, console

Building an SDK span costs tens of µs in Python (DESIGN.md §3), so the server thread only
appends records (name, parent index, perf_counter_ns start/end, a few attributes) and the
spans are built elsewhere with the recorded ids and timestamps as their own.  The sampler
decision is also taken on the server thread, at processCommand entry, with exactly the
semantics of :func:`make_sampler` (``ParentBased(TraceIdRatioBased(ratio))``).

One trace per command
---------------------
The root is a SERVER span named by the command (``SET``, ``CONFIG GET``) as the OpenTelemetry
database conventions ask, so Jaeger's trace list reads like a command log.  Under it the spans
are named exactly like the Redis functions, nested like the C call chain::

    SET                                         db.system.name=redis, db.query.text="SET k ?"
    └─ processCommand
       ├─ lookupCommand
       └─ call
          └─ setCommand                        redis.robj.* of the touched key, after the proc
             ├─ lookupKey ─ dictFind          redis.dict.* (rehashidx, used, size, bucket)
             ├─ dbAdd ─ dictAddRaw            events: rehash.started / rehash.finished
             └─ addReply

Internal moments (``probes.event``) are span events on the innermost open span: rehash
start/finish, encoding conversion (``listpack -> hashtable``), lazy expiry, eviction.

Pipelining: a read that parsed several commands is *not* their parent; each command keeps its
own trace (so Jaeger's list shows one entry per command, and sampling stays per command).
When a read holds two or more commands and at least one was sampled, tracered also exports a
``readQueryFromClient`` trace of its own (attributes ``redis.client.id`` and
``redis.pipeline.commands``), and each sampled command's root carries a span *link* to it with
``redis.pipeline.index``, its position in the read.  Jaeger shows the link as a FOLLOWS_FROM
reference.  A read with one command exports nothing extra.

Trace context from clients: ``CLIENT TRACEPARENT <w3c traceparent>`` (a tracered extension,
unknown to Redis) makes the client's span the parent of the next command's root; its sampled
flag decides sampling for that command (parent-based), whatever the ratio.

Background work gets its own root spans: serverCron, cron-driven dictRehash and active expiry
sampled by ``trace-cron-sample-ratio`` (default 0.001, so they don't drown command traces);
rdbSaveBackground, rewriteAppendOnlyFileBackground, syncWithMaster sampled like commands.

Settings are a plain dict (see :func:`default_settings`) so they cross into the exporter
process; tracing_cmds.py builds them from the ``trace-*`` / ``otlp-*`` configs.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from typing import Any

TRACES_DIR = "traces"
SCOPE_NAME = "tracered"


def default_settings() -> dict:
    """The exporter settings with their defaults (every value a builtin type)."""
    return {
        "exporters": ["file"],            # any of: file otlp console
        "trace_dir": TRACES_DIR,
        "file_name": "",                  # set per run: tracered-<port>-<time>-<pid>.jsonl
        "file_max_bytes": 64 * 1024 * 1024,
        "file_max_files": 10,
        "otlp_endpoint": "",
        "otlp_protocol": "",              # grpc | http/protobuf | "" (env, then the port)
        "resource": {"service.name": "tracered"},
        "version": "",
    }


# --------------------------------------------------------------------------------------------
# SDK objects
# --------------------------------------------------------------------------------------------

def make_resource(settings: dict):
    """The SDK Resource: service.name=tracered, service.instance.id (run id),
    service.version, server.port, process.pid."""
    from opentelemetry.sdk.resources import Resource

    return Resource.create(dict(settings.get("resource") or {}))


def make_sampler(ratio: float):
    """ParentBased(TraceIdRatioBased(ratio)): what the recorder decides on the server thread
    (a remote parent's sampled flag wins; otherwise the trace id's low 64 bits decide)."""
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    return ParentBased(TraceIdRatioBased(max(0.0, min(1.0, ratio))))


def make_tracer_provider(settings: dict, ratio: float = 1.0, exporters: Sequence | None = None):
    """A TracerProvider with tracered's resource and sampler, exporting through
    ``exporters`` (made from ``settings`` when None) with simple span processors.  The
    recorder does not use it to create spans; it is there for code that wants a tracer with
    the same identity (tests, scripts)."""
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    tp = TracerProvider(resource=make_resource(settings), sampler=make_sampler(ratio))
    for exp in exporters if exporters is not None else make_exporters(settings):
        tp.add_span_processor(SimpleSpanProcessor(exp))
    return tp


def resolve_otlp_protocol(settings: dict) -> str:
    """grpc or http/protobuf: the setting, else OTEL_EXPORTER_OTLP_(TRACES_)PROTOCOL, else
    guessed from the endpoint (port 4318 or a /v1/traces path mean HTTP), else grpc."""
    proto = (settings.get("otlp_protocol") or "").strip()
    if not proto:
        proto = os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or \
            os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL") or ""
    if not proto:
        ep = settings.get("otlp_endpoint") or os.environ.get(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or os.environ.get(
            "OTEL_EXPORTER_OTLP_ENDPOINT") or ""
        proto = "http/protobuf" if (":4318" in ep or "/v1/traces" in ep) else "grpc"
    if proto in ("http", "http/json"):
        proto = "http/protobuf"   # the Python SDK speaks protobuf over HTTP only
    return proto


def check_exporters(settings: dict) -> None:
    """Raise ImportError (naming the pip package) when a configured exporter's package is
    missing, so the server can say so at once instead of the exporter process dying."""
    import importlib.util

    needs = [("opentelemetry.sdk.trace", "opentelemetry-sdk")]
    if "otlp" in (settings.get("exporters") or []):
        if resolve_otlp_protocol(settings) == "grpc":
            needs.append(("opentelemetry.exporter.otlp.proto.grpc.trace_exporter",
                          "opentelemetry-exporter-otlp-proto-grpc"))
        else:
            needs.append(("opentelemetry.exporter.otlp.proto.http.trace_exporter",
                          "opentelemetry-exporter-otlp-proto-http"))
    for mod, pkg in needs:
        try:
            found = importlib.util.find_spec(mod) is not None
        except ModuleNotFoundError:
            found = False
        if not found:
            raise ImportError(f"{pkg} is not installed (pip install {pkg})")


def make_exporters(settings: dict) -> list:
    """The SpanExporters named in ``settings["exporters"]``."""
    out = []
    names = settings.get("exporters") or []
    if "file" in names:
        out.append(OTLPJsonLinesFileExporter(
            settings.get("trace_dir") or TRACES_DIR, settings.get("file_name") or "",
            settings.get("file_max_bytes", 64 << 20), settings.get("file_max_files", 10)))
    if "otlp" in names:
        ep = settings.get("otlp_endpoint") or None
        if resolve_otlp_protocol(settings) == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            out.append(OTLPSpanExporter(endpoint=ep))
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter as HTTPSpanExporter,
            )

            if ep and not ep.rstrip("/").endswith("/v1/traces"):
                ep = ep.rstrip("/") + "/v1/traces"
            out.append(HTTPSpanExporter(endpoint=ep))
    if "console" in names:
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        out.append(ConsoleSpanExporter())
    return out


# --------------------------------------------------------------------------------------------
# OTLP JSON (the OpenTelemetry file exporter format)
# --------------------------------------------------------------------------------------------
#
# Written by hand rather than through protobuf's json_format or json.dumps of nested dicts:
# at a span per probe hit those cost 30-40 µs a span; string assembly with cached key
# prefixes costs a few µs.  The output is plain OTLP/JSON (ids in hex, 64-bit integers as
# strings, enums as numbers), checked against opentelemetry-proto's parser in the tests.

try:
    from json.encoder import c_encode_basestring as _jstr  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - CPython always has the C encoder
    from json.encoder import py_encode_basestring as _jstr

_KEY_PREFIX: dict[str, str] = {}


def _value_json(v: Any) -> str:
    t = v.__class__
    if t is str:
        return '{"stringValue":' + _jstr(v) + "}"
    if t is bool:
        return '{"boolValue":true}' if v else '{"boolValue":false}'
    if t is int:
        return '{"intValue":"%d"}' % v
    if t is float:
        if v != v or v in (float("inf"), float("-inf")):
            return '{"doubleValue":"%s"}' % ("NaN" if v != v else
                                             ("Infinity" if v > 0 else "-Infinity"))
        return '{"doubleValue":%r}' % v
    if t is bytes:
        return '{"stringValue":' + _jstr(v.decode("utf-8", "replace")) + "}"
    if isinstance(v, (list, tuple)):
        return '{"arrayValue":{"values":[' + ",".join(_value_json(x) for x in v) + "]}}"
    if isinstance(v, bool):
        return '{"boolValue":true}' if v else '{"boolValue":false}'
    if isinstance(v, int):
        return '{"intValue":"%d"}' % v
    return '{"stringValue":' + _jstr(str(v)) + "}"


def attributes_json(attrs) -> str:
    """An OTLP/JSON KeyValue list (the text between and including the brackets)."""
    if not attrs:
        return "[]"
    kp = _KEY_PREFIX
    parts = []
    for k, v in attrs.items():
        p = kp.get(k)
        if p is None:
            p = kp[k] = '{"key":' + _jstr(k) + ',"value":'
        parts.append(p + _value_json(v) + "}")
    return "[" + ",".join(parts) + "]"


_KIND_NUMBERS: dict = {}
_STATUS_NUMBERS: dict = {}


def _kind_number(kind) -> int:
    """OTLP's number for an SDK SpanKind (SDK INTERNAL=0, SERVER=1 ...; OTLP
    SPAN_KIND_INTERNAL=1, SERVER=2 ...).  Cached by identity: Enum.value is slow."""
    n = _KIND_NUMBERS.get(id(kind))
    if n is None:
        n = _KIND_NUMBERS[id(kind)] = kind.value + 1
    return n


def span_json(s) -> str:
    """One ReadableSpan as an OTLP/JSON Span object."""
    ctx = s.context
    parent = s.parent
    if parent is not None:
        head = '{"traceId":"%032x","spanId":"%016x","parentSpanId":"%016x","name":' % (
            ctx.trace_id, ctx.span_id, parent.span_id)
    else:
        head = '{"traceId":"%032x","spanId":"%016x","name":' % (ctx.trace_id, ctx.span_id)
    out = [head, _jstr(s.name),
           ',"kind":%d,"startTimeUnixNano":"%d","endTimeUnixNano":"%d","attributes":'
           % (_kind_number(s.kind), s.start_time, s.end_time),
           attributes_json(s.attributes)]
    if s.events:
        out.append(',"events":[' + ",".join(
            '{"timeUnixNano":"%d","name":%s,"attributes":%s}'
            % (e.timestamp, _jstr(e.name), attributes_json(e.attributes))
            for e in s.events) + "]")
    if s.links:
        out.append(',"links":[' + ",".join(
            '{"traceId":"%032x","spanId":"%016x","attributes":%s}'
            % (ln.context.trace_id, ln.context.span_id, attributes_json(ln.attributes))
            for ln in s.links) + "]")
    st = s.status
    code = 0
    if st is not None:
        sc = st.status_code
        code = _STATUS_NUMBERS.get(id(sc))
        if code is None:
            code = _STATUS_NUMBERS[id(sc)] = sc.value
    if code == 2 and st.description:
        out.append(',"status":{"code":2,"message":' + _jstr(st.description) + "}}")
    elif code:
        out.append(',"status":{"code":%d}}' % code)
    else:
        out.append(',"status":{}}')
    return "".join(out)


def spans_to_otlp_json_text(spans: Sequence) -> str:
    """An ExportTraceServiceRequest in OTLP/JSON, one line of text: spans grouped by resource
    and instrumentation scope."""
    groups: dict = {}
    last_res = last_scope = lst = None
    for s in spans:
        res = s.resource
        scope = s.instrumentation_scope
        if res is not last_res or scope is not last_scope or lst is None:
            # Spans of one batch nearly always share both: look the group up only on change.
            last_res, last_scope = res, scope
            g = groups.get(id(res))
            if g is None:
                g = groups[id(res)] = (res, {})
            sk = (scope.name, scope.version) if scope is not None else (SCOPE_NAME, "")
            lst = g[1].get(sk)
            if lst is None:
                lst = g[1][sk] = []
        lst.append(span_json(s))
    rs = []
    for res, scopes in groups.values():
        ss = []
        for (name, version), lst in scopes.items():
            scope = '{"name":' + _jstr(name) + (
                (',"version":' + _jstr(version)) if version else "") + "}"
            ss.append('{"scope":' + scope + ',"spans":[' + ",".join(lst) + "]}")
        rs.append('{"resource":{"attributes":' + attributes_json(res.attributes) +
                  '},"scopeSpans":[' + ",".join(ss) + "]}")
    return '{"resourceSpans":[' + ",".join(rs) + "]}"


def spans_to_otlp_json(spans: Sequence) -> dict:
    """The same request as a dict."""
    return json.loads(spans_to_otlp_json_text(spans))


def _new_file_name(prefix: str = "tracered") -> str:
    return "%s-%s-%d.jsonl" % (prefix, time.strftime("%Y%m%d-%H%M%S"), os.getpid())


class OTLPJsonLinesFileExporter:
    """The OpenTelemetry (collector) file exporter format: one ExportTraceServiceRequest in
    OTLP/JSON per line.  One file per run, in ``directory``; when it passes ``max_bytes`` it
    is closed and the next part starts (``name.1.jsonl``, ``name.2.jsonl`` ...), keeping at
    most ``max_files`` parts of this run (the oldest part goes first)."""

    def __init__(self, directory: str = TRACES_DIR, file_name: str = "",
                 max_bytes: int = 64 * 1024 * 1024, max_files: int = 10) -> None:
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.base = file_name or _new_file_name()
        self.max_bytes = max_bytes
        self.max_files = max(1, max_files)
        self.part = 0
        self.parts: list[str] = []
        self._f = None
        self._size = 0
        self.spans_written = 0

    @property
    def path(self) -> str:
        if self.part == 0:
            return os.path.join(self.directory, self.base)
        stem = self.base[:-6] if self.base.endswith(".jsonl") else self.base
        return os.path.join(self.directory, "%s.%d.jsonl" % (stem, self.part))

    def _open(self) -> None:
        p = self.path
        # Unbuffered append: each line goes out in one write(), whole, even if another
        # exporter (a retiring one after CONFIG SET) appends to the same directory.
        self._f = open(p, "ab", buffering=0)
        self._size = self._f.seek(0, os.SEEK_END)
        self.parts.append(p)
        while len(self.parts) > self.max_files:
            old = self.parts.pop(0)
            try:
                os.unlink(old)
            except OSError:
                pass

    def export(self, spans: Sequence):
        from opentelemetry.sdk.trace.export import SpanExportResult

        if not spans:
            return SpanExportResult.SUCCESS
        line = (spans_to_otlp_json_text(spans) + "\n").encode("utf-8", "surrogateescape")
        try:
            if self._f is None:
                self._open()
            elif self.max_bytes and self._size + len(line) > self.max_bytes and self._size:
                self._f.close()
                self.part += 1
                self._open()
            self._f.write(line)
            self._f.flush()
        except OSError:
            return SpanExportResult.FAILURE
        self._size += len(line)
        self.spans_written += len(spans)
        return SpanExportResult.SUCCESS

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True

    def shutdown(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
