"""Span machinery without a server: recorder -> units -> SDK spans -> OTLP JSON, traceparent
parsing, db.query.text elision, the ``tracered traces`` tree printer and Jaeger conversion.

The OTLP JSON written by the file exporter is checked against opentelemetry-proto: parsed
into an ExportTraceServiceRequest it must equal what the SDK's own OTLP encoder produces for
the same spans.
"""

from __future__ import annotations

import base64
import json
import marshal

import pytest

from tracered import dict as dictmod
from tracered.trace import exporter, probes, recorder, spans, traces_cli
from tracered.tracing_cmds import parse_traceparent

# -- helpers ----------------------------------------------------------------------------------


class FakeDb:
    def __init__(self, dbid=0):
        self.id = dbid
        self.dict = dictmod.Dict()
        self.expires = dictmod.Dict()


class FakeCmd:
    def __init__(self, fullname, firstkey=1, lastkey=1, keystep=1, parent=None):
        self.fullname = fullname
        self.name = fullname.split("|")[-1]
        self.firstkey, self.lastkey, self.keystep = firstkey, lastkey, keystep
        self.parent = parent
        self.getkeys_proc = None
        self.key_specs = []


class FakeClient:
    def __init__(self, argv, cmd=None, db=None):
        self.argv = argv
        self.cmd = cmd
        self.db = db or FakeDb()
        self.trace_parent = None
        self.addr = "127.0.0.1:50001"
        self.laddr = "127.0.0.1:6379"
        self.id = 7
        self.name = b"worker-1"
        self.reply = []


class FakeServer:
    stat_total_error_replies = 0
    cronloops = 3
    hz_current = 10
    master_repl_offset = 0
    child_pid = -1


def _info(name):
    return probes.CATALOGUE.get(name) or probes.ProbeInfo(name)


def record_set_command(rec, c, d):
    """Drive the recorder like the armed wrappers would for SET k v with one dictFind."""
    t = rec.enter(_info("processCommand"), (c,))
    t1 = rec.enter(_info("lookupCommand"), (c.argv,))
    rec.leave(_info("lookupCommand"), t1)
    t2 = rec.enter(_info("call"), (c, 15))
    t3 = rec.enter(_info("dictFind"), (d, b"k"))
    rec.event("rehash.started", {"redis.dict.ht0.size": 4})
    rec.leave(_info("dictFind"), t3)
    rec.leave(_info("call"), t2)
    rec.leave(_info("processCommand"), t)
    return t


@pytest.fixture
def settings(tmp_path):
    s = spans.default_settings()
    s["exporters"] = []
    s["trace_dir"] = str(tmp_path)
    s["file_name"] = "t.jsonl"
    s["resource"] = {"service.name": "tracered", "server.port": 6379,
                     "service.instance.id": "abc"}
    s["version"] = "0.1.0"
    return s


# -- traceparent ------------------------------------------------------------------------------

def test_parse_traceparent():
    tp = b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert parse_traceparent(tp) == (0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7, 1)
    assert parse_traceparent(tp[:-2] + b"00")[2] == 0
    for bad in (b"", b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                b"ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                b"00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                b"00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                b"00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"):
        assert parse_traceparent(bad) is None, bad
    # a future version may carry more fields after a dash
    assert parse_traceparent(b"01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xy")


def test_proc_span_names():
    assert recorder.proc_span_name("set") == "setCommand"
    assert recorder.proc_span_name("config|get") == "configGetCommand"
    assert recorder.proc_span_name("client|no-evict") == "clientNoEvictCommand"
    assert recorder.proc_span_name("hset") == "hsetCommand"


def test_query_text_elides_values_but_keeps_keys():
    rec = recorder.Recorder(FakeServer(), 1.0)
    mset = FakeCmd("mset", 1, -1, 2)
    q = rec._query_args(mset, [b"MSET", b"k1", b"v1", b"k2", b"v2"])
    assert exporter.query_text(q, 5) == "MSET k1 ? k2 ?"
    cfg = FakeCmd("config|get", 0, 0, 0, parent=FakeCmd("config"))
    q = rec._query_args(cfg, [b"CONFIG", b"GET", b"maxmemory"])
    assert exporter.query_text(q, 3) == "CONFIG GET ?"
    rec.args_full = True
    q = rec._query_args(mset, [b"MSET", b"k1", b"v1"])
    assert exporter.query_text(q, 3) == "MSET k1 v1"
    long_argv = [b"DEL"] + [b"k%d" % i for i in range(100)]
    rec.args_full = False
    q = rec._query_args(FakeCmd("del", 1, -1, 1), long_argv)
    text = exporter.query_text(q, len(long_argv))
    assert text.startswith("DEL k0 k1") and text.endswith("... (37 more arguments)")


# -- recorder -> builder -> OTLP JSON ---------------------------------------------------------

def test_recorder_units_become_linked_sdk_spans(settings):
    rec = recorder.Recorder(FakeServer(), 1.0)
    d = dictmod.Dict()
    d.add(b"k", b"v")
    c = FakeClient([b"SET", b"k", b"v"], FakeCmd("set"))
    assert record_set_command(rec, c, d) == 0
    units = rec.take()
    assert len(units) == 1 and rec.cur is None
    # units cross to the exporter process with marshal
    off, units = marshal.loads(marshal.dumps((exporter.epoch_offset(), units)))
    b = exporter.SpanBuilder(settings)
    out = b.build(off, units)
    names = [s.name for s in out]
    assert names == ["SET", "processCommand", "lookupCommand", "call", "dictFind"]
    by = {s.name: s for s in out}
    root = by["SET"]
    assert root.parent is None and root.kind.name == "SERVER"
    assert by["processCommand"].parent.span_id == root.context.span_id
    assert by["lookupCommand"].parent.span_id == by["processCommand"].context.span_id
    assert by["dictFind"].parent.span_id == by["call"].context.span_id
    assert len({s.context.trace_id for s in out}) == 1
    for s in out:
        assert s.start_time <= s.end_time
        if s.parent is not None and s.name != "processCommand":
            p = next(x for x in out if x.context.span_id == s.parent.span_id)
            assert p.start_time <= s.start_time and s.end_time <= p.end_time
    a = root.attributes
    assert a["db.system.name"] == "redis" and a["db.operation.name"] == "SET"
    assert a["db.query.text"] == "SET k ?" and a["db.namespace"] == "0"
    assert a["client.address"] == "127.0.0.1" and a["network.peer.port"] == 50001
    assert a["redis.client.id"] == 7 and a["redis.client.name"] == "worker-1"
    assert a["server.port"] == 6379
    df = by["dictFind"]
    assert df.attributes["redis.dict.rehashidx"] == -1
    assert df.attributes["redis.dict.ht0.used"] == 1
    assert df.attributes["redis.dict.ht0.size"] == 4
    assert 0 <= df.attributes["redis.dict.bucket"] < 4
    assert [e.name for e in df.events] == ["rehash.started"]
    assert df.start_time <= df.events[0].timestamp <= df.end_time


def test_sampling_follows_ratio_and_traceparent():
    rec = recorder.Recorder(FakeServer(), 0.0)
    d = dictmod.Dict()
    c = FakeClient([b"GET", b"k"], FakeCmd("get"))
    for _ in range(50):
        record_set_command(rec, c, d)
    assert rec.take() == [] and rec.cur is None
    # a sampled remote parent wins over ratio 0; its ids become the root's parent
    c.trace_parent = (0xabc, 0xdef, 1)
    record_set_command(rec, c, d)
    (u,) = rec.take()
    assert u[1] == 0xabc and u[2] == 0xdef and c.trace_parent is None
    # ... and an unsampled one over ratio 1
    rec.set_ratio(1.0)
    c.trace_parent = (0xabc, 0xdef, 0)
    record_set_command(rec, c, d)
    assert rec.take() == []
    rec.set_ratio(0.25)
    for _ in range(2000):
        record_set_command(rec, c, d)
    n = len(rec.take())
    assert 380 < n < 620, n   # binomial(2000, 0.25): mean 500, sd ~19


def test_error_reply_sets_status(settings):
    srv = FakeServer()
    rec = recorder.Recorder(srv, 1.0)
    c = FakeClient([b"NOPE"], None)
    t = rec.enter(_info("processCommand"), (c,))
    srv.stat_total_error_replies += 1
    c.reply.append(b"-ERR unknown command 'NOPE'\r\n")
    rec.leave(_info("processCommand"), t)
    (root, _pc) = exporter.SpanBuilder(settings).build(0, rec.take())
    assert root.name == "NOPE"
    assert root.status.status_code.name == "ERROR"
    assert root.attributes["db.response.status_code"] == "ERR"


def _hex_to_b64(doc):
    """OTLP/JSON writes ids in hex; protobuf's JSON mapping wants base64 for bytes."""
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                for k in ("traceId", "spanId", "parentSpanId"):
                    if k in s:
                        s[k] = base64.b64encode(bytes.fromhex(s[k])).decode()
                for ln in s.get("links", []):
                    for k in ("traceId", "spanId"):
                        ln[k] = base64.b64encode(bytes.fromhex(ln[k])).decode()
    return doc


def test_otlp_json_equals_the_sdk_protobuf_encoding(settings, tmp_path):
    from google.protobuf import json_format
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    srv = FakeServer()
    rec = recorder.Recorder(srv, 1.0)
    d = dictmod.Dict()
    for i in range(3):
        d.add(b"k%d" % i, i)
    c = FakeClient([b"SET", b"k", b"v \"quoted\" \xc3\xa9"], FakeCmd("set"))
    rec.args_full = True
    record_set_command(rec, c, d)
    t = rec.enter(_info("processCommand"), (c,))   # an error, with a status message
    srv.stat_total_error_replies += 1
    c.reply.append(b"-WRONGTYPE Operation against a key\r\n")
    rec.leave(_info("processCommand"), t)
    out = exporter.SpanBuilder(settings).build(exporter.epoch_offset(), rec.take())
    settings["exporters"] = ["file"]
    fexp = spans.OTLPJsonLinesFileExporter(str(tmp_path), "x.jsonl")
    fexp.export(out)
    fexp.shutdown()
    (line,) = open(fexp.path).read().splitlines()
    ours = json_format.ParseDict(_hex_to_b64(json.loads(line)), ExportTraceServiceRequest())
    sdk = encode_spans(out)
    # Same resource, scope and spans; compare span by span (the SDK also fills a few
    # optional fields, flags and dropped counts, that OTLP/JSON may omit).
    a = ours.resource_spans[0]
    b = sdk.resource_spans[0]
    assert {kv.key for kv in a.resource.attributes} == {kv.key for kv in b.resource.attributes}
    sa, sb = a.scope_spans[0].spans, b.scope_spans[0].spans
    assert len(sa) == len(sb) == len(out)
    for x, y in zip(sa, sb, strict=True):
        y.ClearField("flags")
        y.ClearField("dropped_attributes_count")
        y.ClearField("dropped_events_count")
        y.ClearField("dropped_links_count")
        for ev in y.events:
            ev.ClearField("dropped_attributes_count")
        assert x == y, (x, y)
    assert a.scope_spans[0].scope.name == "tracered"


def test_file_exporter_rotates_by_size(settings, tmp_path):
    rec = recorder.Recorder(FakeServer(), 1.0)
    d = dictmod.Dict()
    c = FakeClient([b"SET", b"k", b"v"], FakeCmd("set"))
    b = exporter.SpanBuilder(settings)
    fexp = spans.OTLPJsonLinesFileExporter(str(tmp_path), "run.jsonl", max_bytes=3000,
                                           max_files=3)
    for _ in range(12):
        record_set_command(rec, c, d)
        fexp.export(b.build(0, rec.take()))
    fexp.shutdown()
    files = sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".jsonl")
    assert len(files) == 3, files               # older parts deleted
    assert "run.jsonl" not in files             # the first part was the oldest
    for p in tmp_path.iterdir():
        for line in p.read_text().splitlines():
            assert json.loads(line)["resourceSpans"]


# -- tracered traces --------------------------------------------------------------------------

def _write_trace_file(settings, tmp_path, n=3):
    rec = recorder.Recorder(FakeServer(), 1.0)
    d = dictmod.Dict()
    b = exporter.SpanBuilder(settings)
    fexp = spans.OTLPJsonLinesFileExporter(str(tmp_path), "cli.jsonl")
    for i in range(n):
        c = FakeClient([b"SET", b"key%d" % i, b"v"], FakeCmd("set"))
        record_set_command(rec, c, d)
    fexp.export(b.build(exporter.epoch_offset(), rec.take()))
    fexp.shutdown()
    return fexp.path


def test_traces_cli_prints_trees_newest_first(settings, tmp_path, capsys):
    path = _write_trace_file(settings, tmp_path)
    assert traces_cli.main([path, "-n", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(path + ": 15 spans\n")
    blocks = [b[b.index("trace "):] for b in out.split("\n\n") if "trace " in b]
    assert len(blocks) == 3
    assert 'query.text="SET key2 ?"' in blocks[0]       # newest first
    assert 'query.text="SET key0 ?"' in blocks[2]
    lines = blocks[0].splitlines()
    assert lines[1].startswith("  SET  ")
    assert lines[2].startswith("    processCommand  ")
    assert lines[3].startswith("      lookupCommand  ")
    assert lines[4].startswith("      call  ")
    assert lines[5].startswith("        dictFind  ") and "dict.rehashidx=-1" in lines[5]
    assert lines[6].strip().startswith("* rehash.started")
    assert " ms" in lines[2]


def test_traces_cli_jaeger_json(settings, tmp_path):
    path = _write_trace_file(settings, tmp_path, n=2)
    out = tmp_path / "jaeger.json"
    assert traces_cli.main([path, "--jaeger", str(out)]) == 0
    doc = json.loads(out.read_text())
    assert len(doc["data"]) == 2
    t = doc["data"][0]
    ids = {s["spanID"] for s in t["spans"]}
    assert len(t["spans"]) == 5 and all(s["traceID"] == t["traceID"] for s in t["spans"])
    roots = [s for s in t["spans"] if not s["references"]]
    assert [r["operationName"] for r in roots] == ["SET"]
    for s in t["spans"]:
        for ref in s["references"]:
            assert ref["refType"] == "CHILD_OF" and ref["spanID"] in ids
        assert s["processID"] in t["processes"]
        assert isinstance(s["startTime"], int) and s["duration"] >= 0
    (proc,) = t["processes"].values()
    assert proc["serviceName"] == "tracered"
    df = next(s for s in t["spans"] if s["operationName"] == "dictFind")
    assert df["logs"][0]["fields"][0] == {"key": "event", "type": "string",
                                          "value": "rehash.started"}
    tags = {tg["key"]: tg for tg in roots[0]["tags"]}
    assert tags["span.kind"]["value"] == "server"
    assert tags["redis.client.id"] == {"key": "redis.client.id", "type": "int64", "value": 7}


def test_forked_child_root_is_a_child_of_the_span_open_at_fork(settings, tmp_path):
    """BGSAVE: the forked child's rdbSave span joins the parent's trace under
    rdbSaveBackground (recorder side of tracing_cmds.after_fork_child)."""
    import os

    rec = recorder.Recorder(FakeServer(), 1.0)
    c = FakeClient([b"BGSAVE"], FakeCmd("bgsave", 0, 0, 0))
    t0 = rec.enter(_info("processCommand"), (c,))
    t1 = rec.enter(_info("rdbSaveBackground"), ())
    ctx = rec.current_context()
    settings["exporters"] = ["file"]
    settings["file_name"] = "child.jsonl"
    pid = os.fork()
    if pid == 0:   # the child: record rdbSave, export, leave without running pytest's exit
        code = 1
        try:
            rec.after_fork_child()
            t = rec.enter(_info("rdbSave"), ())
            rec.leave(_info("rdbSave"), t)
            b = exporter.SpanBuilder(settings)
            b.export(b.build(exporter.epoch_offset(), rec.take()))
            b.shutdown()
            code = 0
        finally:
            os._exit(code)
    assert os.waitpid(pid, 0)[1] == 0
    rec.leave(_info("rdbSaveBackground"), t1)
    rec.leave(_info("processCommand"), t0)
    parent_spans = exporter.SpanBuilder(dict(settings, exporters=[])).build(0, rec.take())
    bg = next(s for s in parent_spans if s.name == "rdbSaveBackground")
    assert bg.context.span_id == ctx[1] and bg.context.trace_id == ctx[0]
    (line,) = (tmp_path / "child.jsonl").read_text().splitlines()
    (child_span,) = json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"]
    assert child_span["name"] == "rdbSave"
    assert child_span["traceId"] == "%032x" % ctx[0]
    assert child_span["parentSpanId"] == "%016x" % ctx[1]



def test_thread_backend_drops_and_counts_beyond_its_bound(settings):
    from tracered.trace import exporter

    class Slow:
        def __init__(self) -> None:
            self.gate = __import__("threading").Event()

        def export(self, spans):
            self.gate.wait(5)

        def shutdown(self):
            pass

    slow = Slow()
    b = exporter.ThreadBackend(settings, [slow])
    b.MAX_PENDING = 3
    try:
        for _ in range(10):
            b.submit(0, [(1, 1, 0, None, None, ["serverCron", -1, 1, 2, None, None, 0])])
        assert b.dropped > 0 and b.pending <= 4
    finally:
        slow.gate.set()
        assert b.close(5)
