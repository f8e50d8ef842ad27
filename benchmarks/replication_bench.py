"""Replication benchmark: write throughput with 0, 1 and 2 replicas, and replication lag,
tracered beside redis-server in the same topology.

For each server kind and replica count it starts one master and N replicas of the same
kind (diskless sync, no delay), waits until every link is up, then:

* runs ``redis-benchmark -t set`` against the master (``--requests``, ``--clients``,
  ``--pipeline``) and reports requests/s, the ratio to the same server without replicas,
  and the master's CPU time (user+system, /proc) per SET: on a machine with fewer cores
  than processes the replicas compete with the master, and CPU per request is the figure
  that contention does not distort;
* samples, every 100 ms during that run, how far the slowest replica is behind the
  master (master_repl_offset - slave_repl_offset, in bytes) and keeps the maximum;
* after the run, the time until every replica has processed the whole stream (catch-up);
* at rest, the latency from a SET on the master until the key is readable on a replica
  (median of ``--probes`` writes, a redis-py client polling the replica).

    python benchmarks/replication_bench.py [--requests 100000] [--clients 50]
        [--pipeline 16] [--replicas 0,1,2] [--kinds tracered,redis] [--probes 50]

Prints a markdown table.  Servers run on free loopback ports and are stopped by PID; every
wait is bounded by a timeout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time

import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import cpu_seconds, start  # noqa: E402  (the sibling driver's helpers)

REDIS_BENCHMARK = shutil.which("redis-benchmark") or "redis-benchmark"
_clients: dict[int, redis.Redis] = {}


def conn(port: int) -> redis.Redis:
    c = _clients.get(port)
    if c is None:
        c = _clients[port] = redis.Redis(host="127.0.0.1", port=port, socket_timeout=30)
    return c


def info(port: int) -> dict:
    return conn(port).info("replication")


def offset(port: int) -> int:
    i = info(port)
    key = "master_repl_offset" if i.get("role") == "master" else "slave_repl_offset"
    return int(i.get(key, -1))


def wait(pred, timeout: float, what: str) -> float:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if pred():
            return time.time() - t0
        time.sleep(0.01)
    raise RuntimeError(f"timeout waiting for {what}")


class Topology:
    """A master and ``n`` replicas of one server kind."""

    def __init__(self, kind: str, n: int) -> None:
        self.kind = kind
        fast = ["--repl-diskless-sync-delay", "0"]
        self.master = start(kind, fast)
        self.replicas = []
        try:
            for _ in range(n):
                self.replicas.append(start(kind, fast))
            for _, port in self.replicas:
                conn(port).replicaof("127.0.0.1", self.master[1])
            for _, port in self.replicas:
                wait(lambda p=port: info(p).get("master_link_status") == "up", 60,
                     "replica link up")
        except BaseException:
            self.stop()
            raise

    def max_lag(self) -> int:
        if not self.replicas:
            return 0
        m = offset(self.master[1])
        return max(m - offset(p) for _, p in self.replicas)

    def caught_up(self) -> bool:
        m = offset(self.master[1])
        return all(offset(p) == m for _, p in self.replicas)

    def stop(self) -> None:
        for _, port in [self.master, *self.replicas]:
            c = _clients.pop(port, None)
            if c is not None:
                c.close()
        for proc, _ in [self.master, *self.replicas]:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


def run_set_benchmark(port: int, n: int, clients: int, pipeline: int) -> float:
    p = subprocess.run([REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(port), "-t", "set",
                        "-n", str(n), "-c", str(clients), "-P", str(pipeline), "-r", "100000",
                        "-q"], capture_output=True, text=True, timeout=600)
    for piece in p.stdout.replace("\r", "\n").splitlines():
        if piece.startswith("SET:") and "requests per second" in piece:
            return float(piece.split()[1])
    raise RuntimeError(f"no result from redis-benchmark: {p.stdout[-300:]} {p.stderr[-300:]}")


def measure(kind: str, n_replicas: int, args) -> dict:
    topo = Topology(kind, n_replicas)
    try:
        lag_max = [0]
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    lag_max[0] = max(lag_max[0], topo.max_lag())
                except (ValueError, redis.RedisError):
                    pass
                stop.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        mpid = topo.master[0].pid
        cpu0 = cpu_seconds(mpid)
        rps = run_set_benchmark(topo.master[1], args.requests, args.clients, args.pipeline)
        cpu = cpu_seconds(mpid) - cpu0
        stop.set()
        sampler.join(10)
        catch_up = wait(topo.caught_up, 300, "replicas caught up") if topo.replicas else 0.0
        probes = []
        if topo.replicas:
            mc, rc = conn(topo.master[1]), conn(topo.replicas[-1][1])
            for i in range(args.probes):
                key = f"probe:{i}"
                t0 = time.perf_counter()
                mc.set(key, "1")
                deadline = t0 + 30
                while not rc.exists(key):        # busy poll: sub-millisecond resolution
                    if time.perf_counter() > deadline:
                        raise RuntimeError("probe write never reached the replica")
                probes.append(time.perf_counter() - t0)
        return {"kind": kind, "replicas": n_replicas, "rps": rps, "lag": lag_max[0],
                "cpu_us": cpu * 1e6 / args.requests,
                "catch_up": catch_up,
                "probe": statistics.median(probes) if probes else None}
    finally:
        topo.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--requests", type=int, default=100_000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--pipeline", type=int, default=16)
    ap.add_argument("--replicas", default="0,1,2")
    ap.add_argument("--kinds", default="tracered,redis")
    ap.add_argument("--probes", type=int, default=50)
    args = ap.parse_args()
    rows = []
    for kind in args.kinds.split(","):
        for n in (int(x) for x in args.replicas.split(",")):
            r = measure(kind, n, args)
            rows.append(r)
            print(f"# {kind} with {n} replicas: {r['rps']:.0f} SET/s", file=sys.stderr)
    base = {r["kind"]: r["rps"] for r in rows if r["replicas"] == 0}
    print(f"\nSET, {args.requests} requests, {args.clients} clients, pipeline "
          f"{args.pipeline}; lag = bytes the slowest replica is behind during the run; "
          f"catch-up = time to drain it after the run; visible = SET on the master until "
          f"readable on a replica, at rest (median of {args.probes}, redis-py client polling "
          f"the replica).\n")
    print("| server | replicas | SET/s | vs no replica | master CPU/SET | max lag | catch-up "
          "| visible |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        rel = f"{r['rps'] / base[r['kind']]:.2f}x" if base.get(r["kind"]) else "-"
        lag = f"{r['lag'] / 1024:.0f} KB" if r["replicas"] else "-"
        cu = f"{r['catch_up'] * 1000:.0f} ms" if r["replicas"] else "-"
        vis = f"{r['probe'] * 1000:.1f} ms" if r["probe"] is not None else "-"
        print(f"| {r['kind']} | {r['replicas']} | {r['rps']:,.0f} | {rel} "
              f"| {r['cpu_us']:.1f} µs | {lag} | {cu} | {vis} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
