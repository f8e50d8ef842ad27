"""``tracered traces``: read the OTLP JSON Lines trace files, print span trees, convert them
for Jaeger.

Redis has no counterpart.  Usage::

    tracered traces [FILE] [-n N] [--dir DIR] [--trace ID] [--jaeger OUT]

FILE defaults to the newest ``*.jsonl`` in ``./traces`` (or ``--dir``).  Without
``--jaeger`` the traces are printed newest first, ``-n`` of them (20; 0 = all), one tree
each: every span with its duration and the attributes worth reading (``db.query.text``,
``redis.key``, the robj and dict internals), and span events as ``*`` lines.
``--jaeger OUT`` writes the whole file as Jaeger's own JSON (what Jaeger's HTTP API returns
and its UI's "JSON File" upload opens), ``-`` for stdout.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

# Attributes shown in the terminal tree, in this order (the others are in the files).
_SHOWN = ("db.query.text", "db.namespace", "client.address", "redis.client.name", "redis.key",
          "redis.robj.type", "redis.robj.encoding", "redis.robj.refcount", "redis.expire",
          "redis.dict.rehashidx", "redis.dict.ht0.used", "redis.dict.ht0.size",
          "redis.dict.ht1.used", "redis.dict.ht1.size", "redis.dict.bucket",
          "redis.pipeline.commands", "redis.repl.master_repl_offset", "redis.child_pid",
          "db.response.status_code")


def any_value(v: dict):
    """An OTLP/JSON AnyValue as a Python value."""
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        return int(v["intValue"])
    if "doubleValue" in v:
        return float(v["doubleValue"])
    if "boolValue" in v:
        return bool(v["boolValue"])
    if "arrayValue" in v:
        return [any_value(x) for x in v["arrayValue"].get("values", [])]
    if "kvlistValue" in v:
        return {kv["key"]: any_value(kv.get("value", {}))
                for kv in v["kvlistValue"].get("values", [])}
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def attrs_dict(attrs: list | None) -> dict:
    return {a["key"]: any_value(a.get("value", {})) for a in attrs or []}


def load(path: str) -> tuple[list[dict], dict]:
    """Every span in an OTLP JSON Lines file, flattened: each a dict with the OTLP fields
    plus ``attrs`` (a plain dict) and ``resource`` (the resource's attributes).  Also returns
    the resources seen, by their JSON text."""
    spans: list[dict] = []
    resources: dict = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                sys.stderr.write(f"{path}:{lineno}: not JSON, skipped (a cut-off last line?)\n")
                continue
            for rs in doc.get("resourceSpans", []):
                rattrs = attrs_dict(rs.get("resource", {}).get("attributes"))
                rkey = json.dumps(rattrs, sort_keys=True)
                resources.setdefault(rkey, rattrs)
                for ss in rs.get("scopeSpans", []):
                    for s in ss.get("spans", []):
                        s = dict(s)
                        s["attrs"] = attrs_dict(s.get("attributes"))
                        s["resource_key"] = rkey
                        spans.append(s)
    return spans, resources


def group_traces(spans: list[dict]) -> list[list[dict]]:
    """Spans grouped by trace, newest trace first (by its earliest start)."""
    by: dict[str, list[dict]] = {}
    for s in spans:
        by.setdefault(s["traceId"], []).append(s)
    traces = list(by.values())
    traces.sort(key=lambda t: min(int(s["startTimeUnixNano"]) for s in t), reverse=True)
    return traces


def tree(trace: list[dict]) -> list[tuple[int, dict]]:
    """(depth, span) in display order: roots (spans whose parent is not in this trace,
    e.g. a client's span given with CLIENT TRACEPARENT) first, children by start time."""
    ids = {s["spanId"] for s in trace}
    kids: dict[str, list[dict]] = {}
    roots = []
    for s in trace:
        p = s.get("parentSpanId") or ""
        if p and p in ids:
            kids.setdefault(p, []).append(s)
        else:
            roots.append(s)
    out: list[tuple[int, dict]] = []

    def walk(s: dict, depth: int) -> None:
        out.append((depth, s))
        for k in sorted(kids.get(s["spanId"], []), key=lambda x: int(x["startTimeUnixNano"])):
            walk(k, depth + 1)

    for r in sorted(roots, key=lambda x: int(x["startTimeUnixNano"])):
        walk(r, 0)
    return out


def _dur_ms(s: dict) -> float:
    return (int(s["endTimeUnixNano"]) - int(s["startTimeUnixNano"])) / 1e6


def _fmt_attrs(a: dict) -> str:
    parts = []
    for k in _SHOWN:
        if k in a:
            v = a[k]
            short = k.replace("redis.", "").replace("db.", "")
            parts.append(f"{short}={json.dumps(v) if isinstance(v, str) else v}")
    return " ".join(parts)


def format_trace(trace: list[dict]) -> str:
    lines = []
    first = min(trace, key=lambda s: int(s["startTimeUnixNano"]))
    lines.append(f"trace {first['traceId']}")
    for depth, s in tree(trace):
        ind = "  " * (depth + 1)
        extra = _fmt_attrs(s["attrs"])
        parent = s.get("parentSpanId")
        note = ""
        if depth == 0 and parent:
            note = f" (parent {parent}, remote)"
        st = s.get("status") or {}
        if st.get("code") == 2:
            msg = st.get("message", "")
            note += f" ERROR {msg[:60]}{'...' if len(msg) > 60 else ''}"
        lines.append(f"{ind}{s['name']}  {_dur_ms(s):.3f} ms{note}" +
                     (f"  {extra}" if extra else ""))
        for ev in s.get("events", []):
            ea = attrs_dict(ev.get("attributes"))
            lines.append(f"{ind}  * {ev['name']} " +
                         " ".join(f"{k}={v}" for k, v in ea.items()))
        for ln in s.get("links", []):
            la = attrs_dict(ln.get("attributes"))
            lines.append(f"{ind}  -> link {ln['traceId']}/{ln['spanId']} " +
                         " ".join(f"{k}={v}" for k, v in la.items()))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Jaeger JSON
# --------------------------------------------------------------------------------------------

_KINDS = {1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}


def _jaeger_tag(k: str, v) -> dict:
    if isinstance(v, bool):
        return {"key": k, "type": "bool", "value": v}
    if isinstance(v, int):
        return {"key": k, "type": "int64", "value": v}
    if isinstance(v, float):
        return {"key": k, "type": "float64", "value": v}
    if isinstance(v, str):
        return {"key": k, "type": "string", "value": v}
    return {"key": k, "type": "string", "value": json.dumps(v)}


def to_jaeger(spans: list[dict], resources: dict) -> dict:
    """Jaeger's JSON model: {"data": [{"traceID", "spans": [...], "processes": {...}}]}."""
    pids = {rk: f"p{i + 1}" for i, rk in enumerate(resources)}
    data = []
    for trace in group_traces(spans):
        jspans = []
        used: set[str] = set()
        for s in trace:
            refs = []
            if s.get("parentSpanId"):
                refs.append({"refType": "CHILD_OF", "traceID": s["traceId"],
                             "spanID": s["parentSpanId"]})
            for ln in s.get("links", []):
                refs.append({"refType": "FOLLOWS_FROM", "traceID": ln["traceId"],
                             "spanID": ln["spanId"]})
            tags = [_jaeger_tag(k, v) for k, v in s["attrs"].items()]
            tags.append(_jaeger_tag("span.kind", _KINDS.get(s.get("kind", 1), "internal")))
            st = s.get("status") or {}
            if st.get("code") == 2:
                tags.append(_jaeger_tag("error", True))
                tags.append(_jaeger_tag("otel.status_code", "ERROR"))
                if st.get("message"):
                    tags.append(_jaeger_tag("otel.status_description", st["message"]))
            logs = [{"timestamp": int(ev["timeUnixNano"]) // 1000,
                     "fields": [_jaeger_tag("event", ev["name"])] +
                     [_jaeger_tag(k, v) for k, v in attrs_dict(ev.get("attributes")).items()]}
                    for ev in s.get("events", [])]
            pid = pids[s["resource_key"]]
            used.add(s["resource_key"])
            start = int(s["startTimeUnixNano"])
            jspans.append({"traceID": s["traceId"], "spanID": s["spanId"], "flags": 1,
                           "operationName": s["name"], "references": refs,
                           "startTime": start // 1000,
                           "duration": max(0, (int(s["endTimeUnixNano"]) - start) // 1000),
                           "tags": tags, "logs": logs, "processID": pid, "warnings": None})
        processes = {}
        for rk in used:
            ra = resources[rk]
            processes[pids[rk]] = {
                "serviceName": ra.get("service.name", "tracered"),
                "tags": [_jaeger_tag(k, v) for k, v in ra.items() if k != "service.name"]}
        data.append({"traceID": trace[0]["traceId"], "spans": jspans,
                     "processes": processes, "warnings": None})
    return {"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}


# --------------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------------

def newest_file(directory: str) -> str | None:
    files = glob.glob(os.path.join(directory, "*.jsonl"))
    if not files:
        return None
    return max(files, key=lambda p: (os.path.getmtime(p), p))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="tracered traces",
                                 description="Print span trees from a tracered trace file "
                                             "(OTLP JSON Lines), newest first, or convert "
                                             "it to Jaeger JSON.")
    ap.add_argument("file", nargs="?", help="trace file (default: newest in --dir)")
    ap.add_argument("--dir", default="traces", help="where to look for the newest file")
    ap.add_argument("-n", type=int, default=20, help="traces to print (0 = all)")
    ap.add_argument("--trace", help="print only this trace id (or a prefix of it)")
    ap.add_argument("--jaeger", metavar="OUT", help="write Jaeger JSON to OUT ('-': stdout)")
    args = ap.parse_args(sys.argv[1:] if argv is None else argv)
    path = args.file or newest_file(args.dir)
    if path is None:
        sys.stderr.write(f"no trace files in {args.dir}/ (start tracered with "
                         f"--trace-sample-ratio 1 or --trace-dir DIR)\n")
        return 1
    try:
        spans, resources = load(path)
    except OSError as e:
        sys.stderr.write(f"{path}: {e.strerror}\n")
        return 1
    if args.jaeger:
        doc = to_jaeger(spans, resources)
        text = json.dumps(doc)
        if args.jaeger == "-":
            sys.stdout.write(text + "\n")
        else:
            with open(args.jaeger, "w", encoding="utf-8") as f:
                f.write(text)
            sys.stderr.write(f"wrote {len(doc['data'])} traces ({len(spans)} spans) to "
                             f"{args.jaeger}\n")
        return 0
    traces = group_traces(spans)
    if args.trace:
        traces = [t for t in traces if t[0]["traceId"].startswith(args.trace.lower())]
    if args.n > 0:
        traces = traces[:args.n]
    out = sys.stdout
    try:
        out.write(f"{path}: {len(spans)} spans\n")
        for t in traces:
            out.write(format_trace(t) + "\n\n")
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
