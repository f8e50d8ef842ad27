"""INFO (info.py): sections, field names and order against redis-server 7.0.15, parsing by
redis-py, section selection, commandstats / errorstats / keyspace / latencystats content."""

from __future__ import annotations

import os

import pytest
import redis

from tracered import latency

# Sections whose field lists do not depend on what ran before.
FIXED_SECTIONS = ["Server", "Clients", "Memory", "Persistence", "Stats", "Replication",
                  "CPU", "Cluster"]
SERVER_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "tracered", "server.py")


def _raw_info(client, *sections) -> str:
    """INFO as text (redis-py would parse it into a dict)."""
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command("INFO", *sections)
        data = conn.read_response(disable_decoding=True)
    finally:
        client.connection_pool.release(conn)
    return data.decode()


def _layout(text: str) -> dict[str, list[str]]:
    """{section title: [field names in order]}."""
    out: dict[str, list[str]] = {}
    cur = None
    for line in text.split("\r\n"):
        if line.startswith("# "):
            cur = line[2:]
            out[cur] = []
        elif line and cur is not None:
            out[cur].append(line.split(":", 1)[0])
    return out


def test_info_everything_has_redis_sections_and_fields_in_order(r, rr):
    mine, ref = _layout(_raw_info(r, "everything")), _layout(_raw_info(rr, "everything"))
    assert list(mine) == list(ref)
    assert mine["Server"][-1] == "tracered_version"
    mine["Server"].pop()
    for sec in FIXED_SECTIONS:
        assert mine[sec] == ref[sec], sec


def test_info_text_format(r):
    text = _raw_info(r)
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    assert text.startswith("# Server\r\nredis_version:7.0.15\r\n")
    # Sections are separated by exactly one empty line.
    assert "\r\n\r\n# Clients\r\n" in text and "\r\n\r\n\r\n" not in text


def test_info_default_sections_like_redis(r, rr):
    for args in ((), ("default",), ("all",), ("SERVER", "clients"), ("commandstats",),
                 ("latencystats",), ("modules",), ("nosuchsection",), ("keyspace", "server"),
                 ("everything",), ("all", "default")):
        assert list(_layout(_raw_info(r, *args))) == list(_layout(_raw_info(rr, *args))), args
    assert _raw_info(r, "nosuchsection") == ""


def test_info_parses_with_redis_py(r):
    info = r.info()
    assert info["redis_version"] == "7.0.15"
    assert info["redis_mode"] == "standalone" and info["arch_bits"] == 64
    assert info["multiplexing_api"] == "epoll"
    assert info["process_id"] > 0 and len(info["run_id"]) == 40
    assert info["tcp_port"] == r.connection_pool.connection_kwargs["port"]
    assert info["role"] == "master" and info["connected_slaves"] == 0
    assert info["cluster_enabled"] == 0 and info["io_threads_active"] == 0
    assert info["used_memory"] > 1_000_000 and info["used_memory_human"].endswith("M")
    assert info["maxmemory_policy"] == "noeviction"
    assert info["connected_clients"] >= 1 and info["maxclients"] == 10000
    assert info["rdb_last_bgsave_status"] == "ok" and info["aof_enabled"] == 0
    assert isinstance(info["used_cpu_user"], float)
    assert info["tracered_version"]
    assert info["configured_hz"] == 10 and info["hz"] >= 10
    everything = r.info("everything")
    assert "cmdstat_info" in everything
    r3 = redis.Redis(port=r.connection_pool.connection_kwargs["port"], protocol=3)
    try:
        assert r3.info("server")["redis_version"] == "7.0.15"   # RESP3 verbatim string
    finally:
        r3.close()


def test_info_keyspace(r):
    r.flushall()
    assert r.info("keyspace") == {}
    r.execute_command("SELECT", 3)
    r.execute_command("SET", "a", "1")
    r.execute_command("SET", "b", "2", "EX", "100")
    ks = r.info("keyspace")
    assert ks["db3"]["keys"] == 2 and ks["db3"]["expires"] == 1
    assert "avg_ttl" in ks["db3"]
    r.flushall()
    r.execute_command("SELECT", 0)


def _cmdstats(client) -> dict[str, tuple[int, int, int]]:
    return {k: (v["calls"], v["rejected_calls"], v["failed_calls"])
            for k, v in client.info("commandstats").items()}


def test_commandstats_and_errorstats_like_redis(r, rr):
    for c in (r, rr):
        c.config_resetstat()
        c.ping()
        c.config_get("maxmemory")
        c.config_get("hz")
        for bad in (("CONFIG", "SET", "nosuch", "1"), ("CONFIG", "GET"), ("NOSUCHCMD",),
                    ("SLOWLOG", "GET", "x"), ("CONFIG", "NOSUB")):
            with pytest.raises(redis.ResponseError):
                c.execute_command(*bad)
        c.execute_command("SLOWLOG", "LEN")
    a, b = _cmdstats(r), _cmdstats(rr)
    a.pop("cmdstat_config|resetstat")   # see the report: call() counts it as failed
    b.pop("cmdstat_config|resetstat")
    assert a == b
    assert a["cmdstat_config|get"] == (2, 1, 0)
    assert a["cmdstat_config|set"] == (1, 0, 1)
    assert r.info("errorstats") == rr.info("errorstats") == {"errorstat_ERR": {"count": 5}}
    assert _raw_info(r, "errorstats") == "# Errorstats\r\nerrorstat_ERR:count=5\r\n"


def test_commandstats_line_format(r):
    r.config_resetstat()
    r.ping()
    text = _raw_info(r, "commandstats")
    line = next(ln for ln in text.split("\r\n") if ln.startswith("cmdstat_ping:"))
    fields = dict(kv.split("=") for kv in line.split(":", 1)[1].split(","))
    assert list(fields) == ["calls", "usec", "usec_per_call", "rejected_calls", "failed_calls"]
    assert fields["calls"] == "1" and "." in fields["usec_per_call"]


def test_hdr_histogram_matches_redis_resolution():
    h = latency.HdrHistogram()
    for us in (5, 5, 5, 8, 100):
        h.record_value(us * 1000)
    assert h.value_at_percentile(50) / 1000 == 5.023      # Redis prints p50=5.023
    assert h.value_at_percentile(99) / 1000 == 100.351
    assert h.value_at_percentile(0) == 4992
    assert h.log_buckets() == [(8255, 4), (132095, 5)]
    one = latency.HdrHistogram()
    one.record_value(1)
    assert one.value_at_percentile(50) == 1 and one.log_buckets() == [(1031, 1)]


@pytest.mark.skipif("update_command_latency_histogram" not in open(SERVER_PY).read(),
                    reason="call() does not record command latency histograms yet")
def test_latencystats_like_redis(r, rr):
    for c in (r, rr):
        c.config_resetstat()
        c.ping()
        c.ping()
    mine = _raw_info(r, "latencystats").split("\r\n")
    ref = _raw_info(rr, "latencystats").split("\r\n")
    assert mine[0] == ref[0] == "# Latencystats"
    ping = next(ln for ln in mine if ln.startswith("latency_percentiles_usec_ping:"))
    assert [kv.split("=")[0] for kv in ping.split(":", 1)[1].split(",")] == \
        ["p50", "p99", "p99.9"]
    r.config_set("latency-tracking-info-percentiles", "50 99.5")
    try:
        ping = next(ln for ln in _raw_info(r, "latencystats").split("\r\n")
                    if ln.startswith("latency_percentiles_usec_ping:"))
        assert [kv.split("=")[0] for kv in ping.split(":", 1)[1].split(",")] == \
            ["p50", "p99.5"]
        r.config_set("latency-tracking", "no")
        assert _raw_info(r, "latencystats") == "# Latencystats\r\n"
    finally:
        r.config_set("latency-tracking", "yes")
        r.config_set("latency-tracking-info-percentiles", "50 99 99.9")
