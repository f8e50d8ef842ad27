"""redis-benchmark (Debian's redis-tools 7.0) against tracered: every test must finish,
print its requests-per-second line and see no error reply."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

REDIS_BENCHMARK = shutil.which("redis-benchmark")

pytestmark = pytest.mark.skipif(REDIS_BENCHMARK is None,
                                reason="redis-benchmark is not installed")

RESULT = re.compile(r"^(.+?): ([\d.]+) requests per second")


def bench(port: int, *args: str, timeout: float = 60) -> tuple[str, dict[str, float]]:
    p = subprocess.run([REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(port), "-q", *args],
                       capture_output=True, timeout=timeout)
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 0, out
    # -q progress lines are rewritten in place with \r; the results end each test.
    results = {}
    for piece in re.split(r"[\r\n]", out):
        m = RESULT.match(piece.strip())
        if m:
            results[m.group(1)] = float(m.group(2))
    return out, results


def _no_errors(out: str) -> None:
    assert "ERR" not in out and "Error" not in out and "error" not in out.lower(), out


def test_benchmark_core_tests(tracered_server):
    out, results = bench(tracered_server.port, "-t", "ping,set,get,incr,mset", "-n", "2000")
    _no_errors(out)
    assert set(results) == {"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR",
                            "MSET (10 keys)"}, out
    assert all(v > 0 for v in results.values()), results


def test_benchmark_pipelined_many_clients(tracered_server):
    out, results = bench(tracered_server.port, "-t", "set,get", "-n", "5000", "-P", "16",
                         "-c", "20", "-r", "1000")
    _no_errors(out)
    assert set(results) == {"SET", "GET"}, out


def test_benchmark_reads_server_config(tracered_server):
    """redis-benchmark asks CONFIG GET save / appendonly first and warns if it cannot."""
    out, _ = bench(tracered_server.port, "-t", "ping", "-n", "200")
    assert "Could not fetch server CONFIG" not in out, out
