"""Replication under faults: the link dropped (within and beyond the backlog), the replica
killed and restarted from its own RDB, the master restarted (PSYNC through replid2), the
master frozen in the debugger past repl-timeout, a replica lost in the middle of a
diskless transfer.  After each: +CONTINUE when the backlog allows it and a full sync
otherwise, no write lost or applied twice (the ``seq`` list and ``ctr`` counter of
WriteLoad), DEBUG DIGEST equal on both sides once the load stops.

Dropping the link deterministically: SIGSTOP the replica, CLIENT KILL TYPE replica on the
master (the master closes its side), write, SIGCONT: the replica then finds the link dead
and must PSYNC from the offset it had.
"""

from __future__ import annotations

import os
import signal
import socket
import threading

import pytest
from conftest import ServerProc, free_port
from test_replication import (
    FAST,
    TIMEOUT,
    WriteLoad,
    assert_same_data,
    link_up,
    procs,  # noqa: F401 - fixture
    replica_of,
    start,
    sync_stats,
    wait_for,
    wait_link_up,
    wait_synced,
)


def _drop_link_while(master_c, replica_sp: ServerProc, writes) -> None:
    """Freeze the replica, make the master close the link, run ``writes()``, thaw."""
    os.kill(replica_sp.proc.pid, signal.SIGSTOP)
    try:
        assert master_c.execute_command("CLIENT", "KILL", "TYPE", "replica") == 1
        wait_for(lambda: master_c.info("replication")["connected_slaves"] == 0)
        writes()
    finally:
        os.kill(replica_sp.proc.pid, signal.SIGCONT)


def test_link_drop_within_backlog_continues_without_loss(procs):  # noqa: F811
    m = start(procs, "tracered", *FAST)
    r = start(procs, "tracered")
    mc = m.client()
    load = WriteLoad(m, seed=51)
    load.run(10)
    rc = replica_of(r, m)
    wait_link_up(rc)
    load.start(max_batches=3000, max_seconds=30)   # writes go on through the fault
    try:
        wait_for(lambda: load.n >= 20)
        before = sync_stats(mc)
        _drop_link_while(mc, r, lambda: wait_for(lambda: load.n >= 40))
        wait_link_up(rc)
        n1 = load.n
        wait_for(lambda: load.n >= n1 + 10)
    finally:
        n = load.stop()
    assert_same_data(mc, rc)
    full, pok, _ = sync_stats(mc)
    assert (full, pok) == (before[0], before[1] + 1)
    assert rc.lrange("seq", 0, -1) == [str(i).encode() for i in range(n)]
    assert int(rc.get("ctr")) == n
    load.close()


def test_link_drop_beyond_backlog_needs_a_full_sync(procs):  # noqa: F811
    m = start(procs, "tracered", *FAST, "--repl-backlog-size", "16kb")
    r = start(procs, "tracered")
    mc = m.client()
    assert mc.config_get("repl-backlog-size")["repl-backlog-size"] == "16384"
    load = WriteLoad(m, seed=52)
    rc = replica_of(r, m)
    wait_link_up(rc)
    load.run(10)
    wait_synced(mc, rc)
    before = sync_stats(mc)
    # ~40 KB of stream while the link is down: more than the 16 KB ring holds.
    _drop_link_while(mc, r, lambda: load.run(40))
    wait_for(lambda: sync_stats(mc)[0] == before[0] + 1, what="a second full sync")
    wait_link_up(rc)
    load.run(5)
    assert_same_data(mc, rc)
    full, pok, err = sync_stats(mc)
    assert pok == before[1] and err == before[2] + 1
    assert "for lack of backlog" in m.log()
    info = mc.info("replication")
    assert info["repl_backlog_histlen"] == 16384
    assert info["repl_backlog_first_byte_offset"] == info["master_repl_offset"] - 16384 + 1
    load.close()


def test_replica_killed_restarts_from_its_rdb_with_partial_resync(procs):  # noqa: F811
    m = start(procs, "tracered", *FAST)
    port = free_port()
    r = start(procs, "tracered", port=port)
    mc = m.client()
    load = WriteLoad(m, seed=53)
    load.run(15)
    rc = replica_of(r, m)
    wait_link_up(rc)
    load.run(15)
    wait_synced(mc, rc)
    rc.close()
    r.kill()                                          # SIGKILL: no save on the way out
    load.run(15)
    before = sync_stats(mc)
    # Restarted: it loads the dump.rdb of its full sync (repl-id/offset in the AUX fields)
    # and asks to continue from there.
    r2 = start(procs, "tracered", "--replicaof", "127.0.0.1", str(m.port),
               port=port, workdir=r.workdir)
    rc2 = r2.client()
    wait_link_up(rc2)
    load.run(5)
    assert_same_data(mc, rc2)
    full, pok, _ = sync_stats(mc)
    assert (full, pok) == (before[0], before[1] + 1)
    assert "Trying a partial resynchronization" in r2.log()
    load.close()


def test_master_restart_accepts_psync_through_replid2(procs):  # noqa: F811
    mport = free_port()
    m = start(procs, "tracered", *FAST, port=mport)
    r = start(procs, "tracered")
    mc = m.client()
    load = WriteLoad(m, seed=54)
    load.run(15)
    rc = replica_of(r, m)
    wait_link_up(rc)
    load.run(10)
    wait_synced(mc, rc)
    old_id = mc.info("replication")["master_replid"]
    with socket.create_connection(("127.0.0.1", mport), timeout=TIMEOUT) as s:
        s.sendall(b"SHUTDOWN SAVE\r\n")       # (redis-py retries a dropped SHUTDOWN)
        assert s.recv(100) == b""
    m.proc.wait(TIMEOUT)
    wait_for(lambda: not link_up(rc))
    m2 = start(procs, "tracered", *FAST, port=mport, workdir=m.workdir)
    mc2 = m2.client()
    info = mc2.info("replication")
    assert info["master_replid2"] == old_id and info["master_replid"] != old_id
    wait_link_up(rc)
    assert sync_stats(mc2)[:2] == (0, 1)            # +CONTINUE, no full sync
    assert "Master replication ID changed" in r.log()
    load2 = WriteLoad(m2, seed=55)
    load2.n = load.n
    load2.run(5)
    assert_same_data(mc2, rc)
    load.close()
    load2.close()


def test_master_paused_in_debugger_past_repl_timeout(procs):  # noqa: F811
    """The whole master frozen at a breakpoint: the replica hears nothing for repl-timeout,
    drops the link and retries; once resumed the master continues it with +CONTINUE."""
    from tracered.trace.control import ControlClient, read_token_file

    cport = free_port()
    m = start(procs, "tracered", *FAST, "--repl-ping-replica-period", "1", "--no-tui",
              "--debug-port", str(cport))
    r = start(procs, "tracered", "--repl-timeout", "2")
    mc = m.client()
    load = WriteLoad(m, seed=56)
    load.run(10)
    rc = replica_of(r, m)
    wait_link_up(rc)
    load.run(10)
    wait_synced(mc, rc)
    before = sync_stats(mc)
    ctl = ControlClient("127.0.0.1", cport,
                        read_token_file(os.path.join(m.workdir, f"tracered-{cport}.token")))
    try:
        bp = ctl.add_breakpoint('call if cmd == "SET" and key == "frozen"')
        done = threading.Event()
        threading.Thread(target=lambda: (m.client().set("frozen", "1"), done.set()),
                         daemon=True).start()
        frame = ctl.wait_paused(TIMEOUT)
        assert frame is not None and frame["client"]["argv"][:2] == ["SET", "frozen"]
        wait_for(lambda: "MASTER timeout: no data nor PING received" in r.log(), timeout=15)
        assert not link_up(rc)
        ctl.delete_breakpoint(bp["id"])
        ctl.resume("continue")
        assert done.wait(TIMEOUT)
    finally:
        ctl.close()
    wait_link_up(rc)
    load.run(5)
    assert_same_data(mc, rc)
    assert rc.get("frozen") == b"1"
    full, pok, _ = sync_stats(mc)
    assert full == before[0] and pok >= before[1] + 1
    load.close()


def test_replica_lost_during_diskless_transfer(procs):  # noqa: F811
    """A replica that dies in the middle of the streamed RDB: the master stops the child,
    keeps serving, and the next replica gets a complete sync."""
    m = start(procs, "tracered", *FAST, "--rdb-key-save-delay", "2000", "--rdbcompression", "no")
    mc = m.client()
    p = mc.pipeline(transaction=False)
    for i in range(1500):
        p.set(f"key:{i}", "v" * 500)     # the child flushes 64 KB every ~130 keys
    p.execute()
    r = start(procs, "tracered")
    replica_of(r, m)
    wait_for(lambda: "Background RDB transfer started" in m.log())
    r.kill()
    wait_for(lambda: "last replica dropped, killing fork child" in m.log() or
             "write error sending DB to replica" in m.log(), what="transfer aborted")
    wait_for(lambda: "Background transfer terminated by signal" in m.log() or
             "Background transfer error" in m.log(), what="child reaped")
    assert mc.ping() and mc.dbsize() == 1500
    assert mc.info("replication")["connected_slaves"] == 0
    mc.config_set("rdb-key-save-delay", 0)
    r2 = start(procs, "tracered")
    rc2 = replica_of(r2, m)
    wait_link_up(rc2)
    assert rc2.dbsize() == 1500
    wait_synced(mc, rc2)
    assert rc2.execute_command("DEBUG", "DIGEST") == mc.execute_command("DEBUG", "DIGEST")


@pytest.mark.soak
def test_soak_repeated_link_drops_under_load(procs):  # noqa: F811
    """Many cuts of the link under a continuous load, each one continued from the
    backlog: nothing lost or doubled at the end."""
    m = start(procs, "tracered", *FAST)
    r = start(procs, "tracered")
    mc = m.client()
    rc = replica_of(r, m)
    wait_link_up(rc)
    load = WriteLoad(m, seed=57)
    load.start(max_batches=100_000, max_seconds=120)
    try:
        for i in range(20):
            n0 = load.n
            wait_for(lambda n0=n0: load.n >= n0 + 10)
            if i % 2:
                rc.execute_command("CLIENT", "KILL", "TYPE", "master")
            else:
                _drop_link_while(mc, r, lambda n0=n0: wait_for(lambda: load.n >= n0 + 20))
            wait_link_up(rc, timeout=60)
    finally:
        n = load.stop()
    assert_same_data(mc, rc)
    assert sync_stats(mc)[0] == 1
    assert rc.lrange("seq", 0, -1) == [str(i).encode() for i in range(n)]
    load.close()
