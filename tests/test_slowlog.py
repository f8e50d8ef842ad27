"""SLOWLOG (slowlog.py) and LATENCY (latency.py): reply shapes and texts against
redis-server 7.0.15, plus the latency monitor's bookkeeping in-process."""

from __future__ import annotations

import os
import time

import pytest
import redis

SERVER_PY = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                         "tracered", "server.py")


def _raw(client, *args):
    """A reply without redis-py's response callbacks (SLOWLOG GET is otherwise parsed)."""
    conn = client.connection_pool.get_connection()
    try:
        conn.send_command(*args)
        return conn.read_response(disable_decoding=True)
    finally:
        client.connection_pool.release(conn)


@pytest.fixture
def both(r, rr):
    for c in (r, rr):
        c.config_set("slowlog-log-slower-than", 0)
        c.config_set("slowlog-max-len", 128)
        c.slowlog_reset()
    yield r, rr
    for c in (r, rr):
        c.config_set("slowlog-log-slower-than", 10000)
        c.config_set("slowlog-max-len", 128)
        c.slowlog_reset()


def _shape(entry, port):
    """An entry with the non-deterministic parts checked and replaced."""
    eid, when, duration, args, peer, name = entry
    assert isinstance(eid, int) and isinstance(duration, int) and duration >= 0
    assert abs(when - time.time()) < 60
    host, _, p = peer.decode().rpartition(":")
    assert host == "127.0.0.1" and int(p) > 0
    return [args, name]


def test_slowlog_get_entries_like_redis(both):
    r, rr = both
    out = []
    for c in (r, rr):
        c.ping()
        c.echo("x" * 200)                                        # one argument cut to 128
        c.execute_command("CONFIG", "GET", *[f"a{i}" for i in range(40)])  # 32 arguments
        raw = _raw(c, "SLOWLOG", "GET")
        port = c.connection_pool.connection_kwargs["port"]
        ids = [e[0] for e in raw]
        assert ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids)
        out.append([_shape(e, port) for e in raw])
    assert out[0] == out[1]
    args = out[0][0][0]
    assert len(args) == 32 and args[-1] == b"... (11 more arguments)"
    assert out[0][1][0][1] == b"x" * 128 + b"... (72 more bytes)"
    assert [e[0][0] for e in out[0]] == [b"CONFIG", b"ECHO", b"PING", b"SLOWLOG"]


def test_slowlog_count_len_reset_like_redis(both, diff):
    r, rr = both
    for c in (r, rr):
        for _ in range(12):
            c.ping()
    assert len(_raw(r, "SLOWLOG", "GET")) == len(_raw(rr, "SLOWLOG", "GET")) == 10
    for count in ("-1", "0", "1", "3"):
        a, b = _raw(r, "SLOWLOG", "GET", count), _raw(rr, "SLOWLOG", "GET", count)
        assert len(a) == len(b), count
    for bad in (("SLOWLOG", "GET", "-2"), ("SLOWLOG", "GET", "x"), ("SLOWLOG", "GET", "1", "2"),
                ("SLOWLOG", "LEN", "x"), ("SLOWLOG", "NOSUB"), ("SLOWLOG",)):
        diff(*bad)
    diff("SLOWLOG", "HELP")
    diff("SLOWLOG", "LEN")
    diff("SLOWLOG", "RESET")
    diff("SLOWLOG", "LEN")  # the RESET itself was logged after the reset


def test_slowlog_max_len_and_disable(both):
    r, rr = both
    for c in (r, rr):
        c.config_set("slowlog-max-len", 2)
        for _ in range(5):
            c.ping()
        assert c.slowlog_len() == 2
        c.config_set("slowlog-log-slower-than", -1)
        c.slowlog_reset()
        c.ping()
        assert c.slowlog_len() == 0


def test_slowlog_client_name(both):
    r, rr = both
    names = []
    for c in (r, rr):
        try:
            c.client_setname("worker-1")
        except redis.ResponseError:
            pytest.skip("CLIENT SETNAME is not implemented yet")
        c.ping()
        entry = _raw(c, "SLOWLOG", "GET", "1")[0]
        names.append(entry[5])
        c.client_setname("")
    assert names == [b"worker-1", b"worker-1"]


# --------------------------------------------------------------------------------------------
# LATENCY
# --------------------------------------------------------------------------------------------

def test_latency_subcommands_like_redis(diff):
    for c in (diff.t, diff.ref):
        c.execute_command("LATENCY", "RESET")
    diff("LATENCY", "HELP")
    diff("LATENCY", "LATEST")
    diff("LATENCY", "HISTORY", "command")
    diff("LATENCY", "GRAPH", "command")
    diff("LATENCY", "RESET")
    diff("LATENCY", "RESET", "command", "fork")
    diff("LATENCY", "DOCTOR")
    diff("LATENCY", "NOSUB")
    diff("LATENCY", "HISTORY")
    diff("LATENCY", "HISTOGRAM", "nosuchcommand")


@pytest.mark.skipif("latency_add_sample_if_needed" not in open(SERVER_PY).read(),
                    reason="call() does not feed the latency monitor yet")
def test_latency_monitor_records_slow_commands(r, rr):
    for c in (r, rr):
        c.execute_command("LATENCY", "RESET")
        c.config_set("latency-monitor-threshold", 1)
        try:
            c.execute_command("DEBUG", "SLEEP", "0.01")
        except redis.ResponseError:
            pytest.skip("DEBUG SLEEP is not available")
        latest = c.execute_command("LATENCY", "LATEST")
        assert [row[0] for row in latest] in ([b"command"], ["command"])
        assert latest[0][2] >= 10 and latest[0][3] >= 10
        hist = c.execute_command("LATENCY", "HISTORY", "command")
        assert len(hist) == 1 and hist[0][1] >= 10
        assert c.execute_command("LATENCY", "RESET", "command") == 1
        c.config_set("latency-monitor-threshold", 0)


@pytest.mark.skipif("update_command_latency_histogram" not in open(SERVER_PY).read(),
                    reason="call() does not record command latency histograms yet")
def test_latency_histogram_shape_like_redis(r, rr):
    shapes = []
    for c in (r, rr):
        c.config_resetstat()
        c.ping()
        c.ping()
        reply = c.execute_command("LATENCY", "HISTOGRAM", "ping", "config")
        reply = {k.decode() if isinstance(k, bytes) else k: v for k, v in reply.items()}
        shapes.append(sorted(reply))
        ping = reply["ping"]
        ping = {k.decode() if isinstance(k, bytes) else k: v for k, v in ping.items()}
        assert ping["calls"] == 2 and sum(1 for _ in ping["histogram_usec"]) >= 1
    assert shapes[0] == shapes[1]


def test_latency_monitor_in_process():
    from tracered import latency
    from tracered.server import server

    latency.latency_reset_event(None)
    old = server.latency_monitor_threshold
    try:
        server.latency_monitor_threshold = 0
        latency.latency_add_sample_if_needed("command", 50)
        assert latency.latency_events == {}
        server.latency_monitor_threshold = 10
        latency.latency_add_sample_if_needed("command", 5)       # under the threshold
        assert latency.latency_events == {}
        latency.latency_add_sample_if_needed("command", 20)
        latency.latency_add_sample_if_needed("command", 30)      # same second: kept the max
        latency.latency_add_sample_if_needed("fast-command", 12)
        ts = latency.latency_events["command"]
        assert ts.max == 30
        assert [s for s in ts.samples if s[0]] == [[int(time.time()), 30]] or \
            len([s for s in ts.samples if s[0]]) == 2          # a second boundary was crossed
        ls = latency.analyze_latency_for_event("command")
        assert ls["samples"] >= 1 and ls["max"] == 30 and ls["all_time_high"] == 30
        report = latency.create_latency_report()
        assert report.startswith("Dave, I have observed latency spikes")
        assert "1. command: " in report and "2. fast-command: " in report
        assert "- Check your Slow Log" in report
        graph = latency.latency_command_gen_graph("command", ts)
        assert graph.startswith("command - high 30 ms, low 30 ms (all time high 30 ms)\n" +
                                "-" * 80 + "\n")
        assert latency.latency_reset_event("COMMAND") == 1
        assert list(latency.latency_events) == ["fast-command"]
    finally:
        server.latency_monitor_threshold = old
        latency.latency_reset_event(None)
