"""Throughput and server CPU of tracered with tracing off, at ratio 1.0 and at ratio 0.01.

    python benchmarks/tracing_bench.py [--requests 100000] [--rounds 3] [--tests set,get]

Starts one tracered per mode on free loopback ports (stopped by PID at the end), then runs
``redis-benchmark -c 50`` at ``-P 1`` and ``-P 16`` against each mode in turn, round after
round (alternating, so machine noise hits every mode alike).  For every run it reads the
server's CPU time (utime+stime from /proc/<pid>/stat) and its exporter child's, and reports
requests/s, the ratio to tracing off, and CPU µs per request, as a markdown table.

Modes:
  off      no trace option: no probe armed.  This *is* "probes compiled out": an unarmed
           @probe returns the function itself, so no wrapper or flag test runs on the
           command path (only `if probes.armed:` at the few span-event sites).
  armed-0  a destination configured and ratio 0: every probe armed, nothing sampled (the
           cost of the armed wrappers alone).
  r0.01    --trace-sample-ratio 0.01 (file exporter, spans built in a thread)
  r1.0     --trace-sample-ratio 1 (file exporter, spans built in a child process)

After the runs it waits for the exporters to drain, stops the servers, and counts the
SET/GET root spans in each mode's trace files against the requests sent (ratio 1.0 must
have exactly one per request: no span lost) and checks no span ends before it starts.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def cpu_seconds(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK   # utime + stime


def children(pid: int) -> list[int]:
    out = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(task) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


class Server:
    def __init__(self, name: str, args: list[str]) -> None:
        self.name = name
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix=f"tracing-bench-{name}-")
        self.trace_dir = os.path.join(self.dir, "traces")
        args = [a.replace("{traces}", self.trace_dir) for a in args]
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        self.log = open(os.path.join(self.dir, "log"), "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tracered", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--dir", self.dir, *args],
            stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=self.dir)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{name}: tracered exited:\n" + open(self.log.name).read())
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.5) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(10).startswith(b"+PONG"):
                        break
            except OSError:
                time.sleep(0.1)
        self.exporter_pids: list[int] = []

    def cpu(self) -> tuple[float, float]:
        kids = children(self.proc.pid)
        for k in kids:
            if k not in self.exporter_pids:
                self.exporter_pids.append(k)
        return cpu_seconds(self.proc.pid), sum(cpu_seconds(k) for k in self.exporter_pids)

    def wait_drained(self, quiet: float = 1.0, limit: float = 600.0) -> None:
        """Until the exporter child has used no CPU for ``quiet`` seconds."""
        t0 = time.time()
        last = self.cpu()[1]
        still = time.time()
        while time.time() - t0 < limit:
            time.sleep(0.25)
            now = self.cpu()[1]
            if now - last > 0.02:
                last = now
                still = time.time()
            elif time.time() - still >= quiet:
                return

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for k in self.exporter_pids:   # the exporter exits at EOF; wait for its last write
            for _ in range(12000):
                if not os.path.exists(f"/proc/{k}") or _zombie(k):
                    break
                time.sleep(0.1)
        self.log.close()


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def run_benchmark(port: int, test: str, n: int, pipeline: int) -> float:
    out = subprocess.run(["redis-benchmark", "-p", str(port), "-t", test, "-n", str(n), "-c",
                          "50", "-P", str(pipeline), "--csv"], capture_output=True, text=True,
                         timeout=900).stdout
    for line in out.splitlines():
        parts = [p.strip('"') for p in line.split(",")]
        if parts and parts[0].upper() == test.upper():
            return float(parts[1])
    raise RuntimeError(f"no result from redis-benchmark:\n{out}")


def count_roots(trace_dir: str) -> tuple[dict, int, int]:
    roots: dict[str, int] = {}
    spans = bad = 0
    for path in glob.glob(os.path.join(trace_dir, "*.jsonl")):
        with open(path) as f:
            for line in f:
                doc = json.loads(line)
                for rs in doc["resourceSpans"]:
                    for ss in rs["scopeSpans"]:
                        for s in ss["spans"]:
                            spans += 1
                            if int(s["endTimeUnixNano"]) < int(s["startTimeUnixNano"]):
                                bad += 1
                            if s.get("kind") == 2 and "parentSpanId" not in s:
                                roots[s["name"]] = roots.get(s["name"], 0) + 1
    return roots, spans, bad


MODES = {
    "off": [],
    "armed-0": ["--trace-dir", "{traces}", "--trace-sample-ratio", "0"],
    "r0.01": ["--trace-dir", "{traces}", "--trace-sample-ratio", "0.01"],
    # (enough file parts that rotation keeps every span of the run for the count below)
    "r1.0": ["--trace-dir", "{traces}", "--trace-sample-ratio", "1",
             "--trace-file-max-files", "100000"],
}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=100000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tests", default="set,get")
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--modes", default=",".join(MODES))
    args = ap.parse_args()
    if shutil.which("redis-benchmark") is None:
        print("redis-benchmark not found (apt-get install redis-tools)")
        return 1
    modes = args.modes.split(",")
    servers = {m: Server(m, MODES[m]) for m in modes}
    results: dict = {}   # (mode, test, P) -> list of (rps, server_us, exporter_us)
    sent: dict = {m: {} for m in modes}
    try:
        for rnd in range(args.rounds):
            for test in args.tests.split(","):
                for p in (int(x) for x in args.pipelines.split(",")):
                    for m in modes:
                        srv = servers[m]
                        srv.wait_drained(quiet=0.5)
                        c0, e0 = srv.cpu()
                        rps = run_benchmark(srv.port, test, args.requests, p)
                        c1, e1 = srv.cpu()
                        srv.wait_drained(quiet=0.5)
                        e2 = srv.cpu()[1]
                        sent[m][test.upper()] = sent[m].get(test.upper(), 0) + args.requests
                        results.setdefault((m, test, p), []).append(
                            (rps, (c1 - c0) * 1e6 / args.requests,
                             (e2 - e0) * 1e6 / args.requests))
                        print(f"round {rnd + 1} {m:8s} {test} -P {p:<2d} {rps:10.0f} rps  "
                              f"server {(c1 - c0) * 1e6 / args.requests:6.1f} us/req  "
                              f"exporter {(e2 - e0) * 1e6 / args.requests:6.1f} us/req",
                              flush=True)
    finally:
        for s in servers.values():
            s.wait_drained(quiet=1.0)
            s.stop()
    print()
    print("| test | -P | mode | rps (median) | vs off | server CPU µs/req | "
          "exporter CPU µs/req |")
    print("|---|---|---|---|---|---|---|")
    for test in args.tests.split(","):
        for p in (int(x) for x in args.pipelines.split(",")):
            base = None
            for m in modes:
                runs = results.get((m, test, p), [])
                if not runs:
                    continue
                rps = sorted(r[0] for r in runs)[len(runs) // 2]
                cpu = sorted(r[1] for r in runs)[len(runs) // 2]
                exp = sorted(r[2] for r in runs)[len(runs) // 2]
                if m == "off":
                    base = rps
                ratio = f"{rps / base:.2f}x" if base else "-"
                print(f"| {test.upper()} | {p} | {m} | {rps:,.0f} | {ratio} | {cpu:.1f} | "
                      f"{exp:.1f} |")
    print()
    ok = True
    for m in modes:
        if m == "off":
            continue
        roots, spans, bad = count_roots(servers[m].trace_dir)
        line = ", ".join(f"{k}: {roots.get(k, 0)} roots / {v} sent"
                         for k, v in sorted(sent[m].items()))
        print(f"{m}: {spans} spans, {bad} ending before they start; {line}")
        if m == "r1.0":
            for k, v in sent[m].items():
                if roots.get(k, 0) != v:
                    ok = False
                    print(f"  LOST: {k} {v - roots.get(k, 0)} commands without a trace")
        if bad:
            ok = False
    for s in servers.values():
        shutil.rmtree(s.dir, ignore_errors=True)
    return 0 if ok else 2


if __name__ == "__main__":
    sys.exit(main())
