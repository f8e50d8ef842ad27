"""Latency under a write load on a large keyspace: what CPython's cycle collector costs.

    python benchmarks/gc_bench.py [--keys 300000] [--requests 300000] [--rounds 3]

Starts redis-server, tracered with ``gc-freeze yes`` (the default, see tracered/gcpolicy.py)
and tracered with ``gc-freeze no`` (CPython's default collector) on free loopback ports,
fills each with ``DEBUG POPULATE <keys>``, then runs ``redis-benchmark -t set -r <keys> -c 50
-P 16`` (overwrites of random existing keys, so every SET promotes a fresh long-lived robj)
against each in turn, round after round.  Reports requests/s, p50/p99/max latency from
redis-benchmark's CSV, and the full (generation 2) collections each tracered ran (INFO gc).
Every server is stopped by PID at the end.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cli(port: int, *args: str, timeout: float = 600) -> str:
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                          text=True, timeout=timeout).stdout


class Server:
    def __init__(self, name: str, cmd: list[str]) -> None:
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"gc-bench-{name}-")
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(
            cmd + ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no", "--dir", self.dir, "--enable-debug-command", "yes"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=self.dir)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{name} exited:\n" + open(self.log.name).read())
            if cli(self.port, "PING").strip() == "PONG":
                return
            time.sleep(0.1)
        raise SystemExit(f"{name} did not start")

    def full_collections(self) -> int | None:
        for line in cli(self.port, "INFO", "gc").splitlines():
            if line.startswith("gc_collections:"):
                return int(line.split(":")[1].split(",")[2])
        return None

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def run_benchmark(port: int, keys: int, requests: int) -> dict:
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", "set", "-r", str(keys), "-n", str(requests),
         "-c", "50", "-P", "16", "--csv"], capture_output=True, text=True, timeout=1200).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    row = rows[-1]
    return {"rps": float(row["rps"]), "p50": float(row["p50_latency_ms"]),
            "p99": float(row["p99_latency_ms"]), "max": float(row["max_latency_ms"])}


def median(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[len(xs) // 2]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", type=int, default=300_000)
    ap.add_argument("--requests", type=int, default=300_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    for tool in ("redis-server", "redis-benchmark", "redis-cli"):
        if shutil.which(tool) is None:
            print(f"{tool} not found (apt-get install redis-server redis-tools)")
            return 1
    tracered = [sys.executable, "-m", "tracered"]
    servers = [Server("redis-server", ["redis-server"]),
               Server("tracered gc-freeze yes", tracered + ["--gc-freeze", "yes"]),
               Server("tracered gc-freeze no", tracered + ["--gc-freeze", "no"])]
    results: dict[str, list[dict]] = {s.name: [] for s in servers}
    try:
        for s in servers:
            cli(s.port, "DEBUG", "POPULATE", str(args.keys))
        for rnd in range(args.rounds):
            for s in servers:
                g0 = s.full_collections()
                res = run_benchmark(s.port, args.keys, args.requests)
                g1 = s.full_collections()
                res["full_gc"] = (g1 - g0) if g0 is not None and g1 is not None else None
                results[s.name].append(res)
                print(f"round {rnd + 1} {s.name:24s} {res['rps']:9.0f} rps  p50 "
                      f"{res['p50']:7.3f} ms  p99 {res['p99']:8.3f} ms  max {res['max']:8.3f} ms"
                      f"  full collections {res['full_gc']}", flush=True)
    finally:
        for s in servers:
            s.stop()
    print()
    print(f"{args.keys:,} keys, SET -r {args.keys} -n {args.requests} -c 50 -P 16, medians of "
          f"{args.rounds} rounds")
    print()
    print("| server | rps | p50 ms | p99 ms | max ms | full collections / run |")
    print("|---|---|---|---|---|---|")
    for name, runs in results.items():
        fg = [r["full_gc"] for r in runs if r["full_gc"] is not None]
        print(f"| {name} | {median([r['rps'] for r in runs]):,.0f} | "
              f"{median([r['p50'] for r in runs]):.3f} | {median([r['p99'] for r in runs]):.3f} | "
              f"{median([r['max'] for r in runs]):.3f} | {median(fg) if fg else '-'} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
