"""Side-by-side benchmark: redis-benchmark against tracered and redis-server in one run.

For each test (SET, GET, INCR, MSET) and pipeline depth (-P 1, -P 16) it runs
redis-benchmark against both servers, alternating which goes first, ``--rounds`` times, and
reports the median requests/s of each, the ratio tracered/redis, and each server's CPU time
(user+system from /proc/<pid>/stat) per request.  Then it measures memory: RSS after
``DEBUG POPULATE 1000000`` on each.

    python benchmarks/bench.py [--rounds 3] [--requests 200000] [--clients 50]
                               [--tests set,get,incr,mset] [--pipelines 1,16]
                               [--populate 1000000] [--markdown]

Servers are started on free loopback ports and stopped by PID.  Every load is bounded by
request count and a timeout.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 20) -> None:
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError("server exited")
        try:
            with socket.create_connection(("127.0.0.1", port), 0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(10).startswith(b"+PONG"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"no server on {port}")


def start(kind: str, extra: list[str] | None = None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    d = tempfile.mkdtemp(prefix=f"bench-{kind}-")
    common = ["--port", str(port), "--bind", "127.0.0.1", "--save", "",
              "--enable-debug-command", "yes", "--dir", d]
    if kind == "redis":
        cmd = [shutil.which("redis-server") or "redis-server", *common, "--appendonly", "no"]
    else:
        cmd = [sys.executable, "-m", "tracered", *common]
    cmd += extra or []
    env = dict(os.environ, PYTHONPATH=ROOT)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                            cwd=d)
    wait_port(port, proc)
    return proc, port


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * PAGE


def run_benchmark(port: int, test: str, n: int, clients: int, pipeline: int) -> float:
    cmd = ["redis-benchmark", "-p", str(port), "-t", test, "-n", str(n), "-c", str(clients),
           "-P", str(pipeline), "-q", "--csv"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600).stdout
    for line in out.splitlines():
        parts = [p.strip('"') for p in line.split(",")]
        if len(parts) >= 2 and parts[0].upper().startswith(test.upper()):
            return float(parts[1])
    raise RuntimeError(f"no result for {test}: {out!r}")


def measure(proc: subprocess.Popen, port: int, test: str, n: int, clients: int,
            pipeline: int) -> tuple[float, float]:
    c0 = cpu_seconds(proc.pid)
    rps = run_benchmark(port, test, n, clients, pipeline)
    c1 = cpu_seconds(proc.pid)
    return rps, (c1 - c0) * 1e6 / n


def redis_cmd(port: int, *args: str, timeout: float = 600) -> str:
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                          text=True, timeout=timeout).stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200000)
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--tests", default="set,get,incr,mset")
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--populate", type=int, default=1000000)
    ap.add_argument("--tracered-args", default="", help="extra args for tracered")
    args = ap.parse_args()

    servers = {"redis": start("redis"), "tracered": start("tracered",
                                                          args.tracered_args.split())}
    rows = []
    try:
        for pipeline in [int(p) for p in args.pipelines.split(",")]:
            for test in args.tests.split(","):
                res: dict[str, list[tuple[float, float]]] = {"redis": [], "tracered": []}
                for rnd in range(args.rounds):
                    order = ["redis", "tracered"] if rnd % 2 == 0 else ["tracered", "redis"]
                    for kind in order:
                        proc, port = servers[kind]
                        res[kind].append(measure(proc, port, test, args.requests,
                                                 args.clients, pipeline))
                med = {k: (statistics.median(r for r, _ in v), statistics.median(u for _, u in v))
                       for k, v in res.items()}
                rows.append((test.upper(), pipeline, med["tracered"][0], med["redis"][0],
                             med["tracered"][0] / med["redis"][0], med["tracered"][1],
                             med["redis"][1]))
                print(f"{test.upper():5} -P {pipeline:<3} tracered {med['tracered'][0]:>10.0f} rps"
                      f"  redis {med['redis'][0]:>10.0f} rps  ratio {rows[-1][4]:.2f}  "
                      f"cpu/req tracered {med['tracered'][1]:.1f} us  "
                      f"redis {med['redis'][1]:.1f} us",
                      flush=True)
        mem = {}
        if args.populate:
            for kind, (proc, port) in servers.items():
                redis_cmd(port, "FLUSHALL")
                base = rss_bytes(proc.pid)
                t0 = time.time()
                redis_cmd(port, "DEBUG", "POPULATE", str(args.populate))
                dt = time.time() - t0
                mem[kind] = (base, rss_bytes(proc.pid), dt, redis_cmd(port, "DBSIZE"))
                print(f"{kind:8} RSS before {base / 2**20:.1f} MiB, after DEBUG POPULATE "
                      f"{args.populate}: {mem[kind][1] / 2**20:.1f} MiB "
                      f"(dbsize {mem[kind][3]}, {dt:.1f} s)", flush=True)
        print()
        print("| test | -P | tracered rps | redis rps | ratio | tracered CPU µs/req "
              "| redis CPU µs/req |")
        print("|---|---|---|---|---|---|---|")
        for t, p, tr, rr, ratio, tu, ru in rows:
            print(f"| {t} | {p} | {tr:.0f} | {rr:.0f} | {ratio:.2f} | {tu:.1f} | {ru:.1f} |")
        if mem:
            tr_rss, rd_rss = mem["tracered"][1], mem["redis"][1]
            print(f"\nRSS after DEBUG POPULATE {args.populate}: tracered "
                  f"{tr_rss / 2**20:.0f} MiB, redis-server {rd_rss / 2**20:.0f} MiB, "
                  f"ratio {tr_rss / rd_rss:.2f}x")
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
