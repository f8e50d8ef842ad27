"""Replication with Debian's redis-server 7.0 in both directions: real Redis as a replica of
tracered, tracered as a replica of real Redis, and a mixed chain, each under a write load
of every type with a partial resync after the link is cut (CLIENT KILL TYPE master on the
replica); DEBUG DIGEST and the write-sequence list equal on every node once the load stops.

Every server runs on a free loopback port and is stopped by PID (conftest.ServerProc).
"""

from __future__ import annotations

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


def _cut_and_resume(load: WriteLoad, replica, master_sp, master_c) -> None:
    """Let the load run on a synced link, cut it from the replica side while writes keep
    coming, and wait until the replica is back and has seen more batches."""
    n0 = load.n
    wait_for(lambda: load.n >= n0 + 15, what="load running over the link")
    before = sync_stats(master_c)
    assert replica.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
    wait_link_up(replica)
    n1 = load.n
    wait_for(lambda: load.n >= n1 + 15, what="load running after the reconnection")
    full, pok, _ = sync_stats(master_c)
    assert full == before[0], "the reconnection must not be a full sync"
    assert pok == before[1] + 1, "expected exactly one +CONTINUE"


def test_redis_replica_of_tracered_master_under_load(procs):  # noqa: F811
    m = start(procs, "tracered", *FAST)
    r = start(procs, "redis")
    mc = m.client()
    load = WriteLoad(m, seed=21)
    load.run(25)
    rc = replica_of(r, m)
    load.start(max_batches=2000, max_seconds=40)   # the sync happens under writes
    try:
        wait_link_up(rc)
        _cut_and_resume(load, rc, m, mc)
    finally:
        n = load.stop()
    assert n > 50
    assert_same_data(mc, rc)
    assert sync_stats(mc)[0] == 1
    assert "Partial resynchronization request from" in m.log()
    assert "Successful partial resynchronization with master" in r.log()
    assert mc.lrange("seq", 0, -1) == [str(i).encode() for i in range(n)]
    load.close()


def test_tracered_replica_of_redis_master_under_load(procs):  # noqa: F811
    m = start(procs, "redis", *FAST)
    r = start(procs, "tracered")
    mc = m.client()
    load = WriteLoad(m, seed=22)
    load.run(25)
    rc = replica_of(r, m)
    load.start(max_batches=2000, max_seconds=40, pause=0.01)
    try:
        wait_link_up(rc)
        _cut_and_resume(load, rc, m, mc)
    finally:
        n = load.stop()
    assert_same_data(mc, rc)
    assert sync_stats(mc)[0] == 1
    assert "Successful partial resynchronization with master" in r.log()
    assert rc.lrange("seq", 0, -1) == [str(i).encode() for i in range(n)]
    assert rc.info("replication")["master_replid"] == mc.info("replication")["master_replid"]
    load.close()


def test_disk_target_both_directions(procs):  # noqa: F811
    """"$<len>" payloads (repl-diskless-sync no) read by the other implementation."""
    rm = start(procs, "redis", "--repl-diskless-sync", "no")
    tm = start(procs, "tracered", "--repl-diskless-sync", "no")
    tr = start(procs, "tracered")
    rr = start(procs, "redis")
    loads = [WriteLoad(rm, seed=31), WriteLoad(tm, seed=32)]
    for ld in loads:
        ld.run(20)
    trc, rrc = replica_of(tr, rm), replica_of(rr, tm)
    wait_link_up(trc)
    wait_link_up(rrc)
    for ld in loads:
        ld.run(10)
        ld.close()
    assert_same_data(rm.client(), trc)
    assert_same_data(tm.client(), rrc)
    assert "receiving" in tr.log() and "bytes from master to disk" in tr.log()
    assert "with target: disk" in tm.log()


def test_mixed_chain_redis_tracered_redis(procs):  # noqa: F811
    """Redis master -> tracered -> Redis: the middle node proxies the exact stream, so the
    bottom replica shares the top master's replid and offsets; cutting the middle link
    partially resyncs it without disturbing the bottom one."""
    top = start(procs, "redis", *FAST)
    mid = start(procs, "tracered", *FAST)
    bottom = start(procs, "redis")
    tc = top.client()
    load = WriteLoad(top, seed=41)
    load.run(20)
    midc = replica_of(mid, top)
    wait_link_up(midc)
    botc = replica_of(bottom, mid)
    wait_link_up(botc)
    load.run(20)
    assert_same_data(tc, midc, botc)
    ids = {c.info("replication")["master_replid"] for c in (tc, midc, botc)}
    assert len(ids) == 1
    bottom_full = sync_stats(midc)[0]
    assert midc.execute_command("CLIENT", "KILL", "TYPE", "master") == 1
    load.run(10)
    wait_link_up(midc)
    load.run(10)
    wait_synced(tc, midc, botc)
    assert_same_data(tc, midc, botc)
    assert sync_stats(tc)[1] >= 1                  # mid continued from top's backlog
    assert sync_stats(midc)[0] == bottom_full      # bottom was not resynced
    load.close()
