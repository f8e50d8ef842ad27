"""Real Redis Sentinel (Debian's 7.0, ``redis-sentinel`` or ``redis-server --sentinel``)
monitoring a tracered master with two tracered replicas: when the master dies, Sentinel
promotes a replica (REPLICAOF NO ONE: its old replid becomes replid2), the other replica
follows it with a partial resync, and clients asking Sentinel find the new master.

Every process runs on a free loopback port and is stopped by PID.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest
import redis
from conftest import free_port
from test_replication import (
    FAST,
    WriteLoad,
    assert_same_data,
    procs,  # noqa: F401 - fixture
    replica_of,
    start,
    sync_stats,
    wait_for,
    wait_link_up,
    wait_synced,
)

SENTINEL = shutil.which("redis-sentinel")
REDIS_SERVER = shutil.which("redis-server")


class SentinelProc:
    def __init__(self, master_port: int, down_after_ms: int = 1000) -> None:
        if SENTINEL is None and REDIS_SERVER is None:
            pytest.skip("neither redis-sentinel nor redis-server is installed")
        self.port = free_port()
        self.workdir = tempfile.mkdtemp(prefix="sentinel-test-")
        self.conf = os.path.join(self.workdir, "sentinel.conf")
        with open(self.conf, "w") as f:
            f.write(f"port {self.port}\nbind 127.0.0.1\ndir {self.workdir}\n"
                    f"sentinel monitor mymaster 127.0.0.1 {master_port} 1\n"
                    f"sentinel down-after-milliseconds mymaster {down_after_ms}\n"
                    "sentinel failover-timeout mymaster 10000\n"
                    "sentinel parallel-syncs mymaster 2\n")
        cmd = [SENTINEL, self.conf] if SENTINEL else [REDIS_SERVER, self.conf, "--sentinel"]
        self.logpath = os.path.join(self.workdir, "sentinel.log")
        with open(self.logpath, "ab") as log:
            self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=self.workdir)
        self.client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)
        try:
            wait_for(self._ping, 15, what="sentinel up")
        except BaseException:
            self.stop()
            raise

    def _ping(self) -> bool:
        try:
            return self.client.ping()
        except redis.ConnectionError:
            return False

    def master_addr(self) -> tuple[str, int]:
        host, port = self.client.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME",
                                                 "mymaster")
        return host.decode(), int(port)

    def replicas(self) -> list[dict]:
        rows = self.client.execute_command("SENTINEL", "REPLICAS", "mymaster")
        out = []
        for row in rows:
            if isinstance(row, dict):
                out.append({k.decode() if isinstance(k, bytes) else k:
                            v.decode() if isinstance(v, bytes) else v for k, v in row.items()})
            else:
                it = iter(row)
                out.append({k.decode(): v.decode() for k, v in zip(it, it, strict=False)})
        return out

    def log(self) -> str:
        try:
            with open(self.logpath, errors="replace") as f:
                return f.read()[-5000:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def test_sentinel_fails_over_to_a_tracered_replica(procs):  # noqa: F811
    m = start(procs, "tracered", *FAST)
    r1 = start(procs, "tracered", *FAST)
    r2 = start(procs, "tracered", *FAST)
    mc = m.client()
    load = WriteLoad(m, seed=61)
    load.run(10)
    c1, c2 = replica_of(r1, m), replica_of(r2, m)
    wait_link_up(c1)
    wait_link_up(c2)
    load.run(10)
    wait_synced(mc, c1, c2)
    old_id = mc.info("replication")["master_replid"]
    sentinel = SentinelProc(m.port)
    try:
        # Sentinel found both replicas through the master's INFO and talks to them.
        wait_for(lambda: len([r for r in sentinel.replicas()
                              if "s_down" not in r["flags"]
                              and r.get("master-link-status") == "ok"]) == 2,
                 timeout=30, what="sentinel sees two healthy replicas")
        assert sentinel.master_addr() == ("127.0.0.1", m.port)
        wait_synced(mc, c1, c2)
        m.kill()                                          # the master dies
        wait_for(lambda: sentinel.master_addr()[1] != m.port, timeout=60,
                 what="sentinel switched master")
        new_port = sentinel.master_addr()[1]
        assert new_port in (r1.port, r2.port)
        new_c, other_c = (c1, c2) if new_port == r1.port else (c2, c1)
        info = new_c.info("replication")
        assert info["role"] == "master"
        assert info["master_replid2"] == old_id            # shifted on promotion
        # The other replica follows the new master, continuing from its backlog.
        wait_for(lambda: other_c.info("replication").get("master_port") == new_port and
                 other_c.info("replication").get("master_link_status") == "up",
                 timeout=60, what="other replica reconfigured")
        full, pok, _ = sync_stats(new_c)
        assert full == 0 and pok >= 1, "the other replica should have partially resynced"
        assert other_c.info("replication")["master_replid"] == info["master_replid"]
        # Writes go to the master Sentinel names, and replicate.
        client = redis.Redis(host="127.0.0.1", port=sentinel.master_addr()[1])
        client.set("after-failover", "yes")
        client.rpush("seq", "x")
        assert_same_data(new_c, other_c)
        assert other_c.get("after-failover") == b"yes"
        client.close()
        wait_for(lambda: "+switch-master" in sentinel.log() and
                 "+slave-reconf-done" in sentinel.log(), timeout=60,
                 what="sentinel ended the failover")
        addr = sentinel.master_addr()
        assert addr == ("127.0.0.1", new_port)
        wait_for(lambda: any(r["port"] == str(other_c.connection_pool.connection_kwargs["port"])
                             and "s_down" not in r["flags"] for r in sentinel.replicas()),
                 timeout=30, what="sentinel lists the other replica under the new master")
    finally:
        sentinel.stop()
        load.close()
