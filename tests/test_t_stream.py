"""Streams (tracered/t_stream.py): the listpack node format, IDs, trimming and the groups'
bookkeeping without a server; then over TCP: blocking XREAD / XREADGROUP with several
clients (FIFO serving, timeouts, -NOGROUP / -UNBLOCKED, MULTI, scripts, CLIENT UNBLOCK,
the default batch of a blocked reader), what is propagated to the AOF (XADD's concrete ID,
exact trims, XREADGROUP as XCLAIM / XGROUP SETID / CREATECONSUMER), AOF rewrite and RDB
reload round trips, COPY, and replication of streams to and from a real redis-server.

Differential checks of replies against redis-server are in test_diff_stream.py.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import pytest
import redis
from conftest import ServerProc
from test_diff_stream import Conn, mask_full, parse

from tracered import rdb as rdbmod
from tracered import t_stream as ts
from tracered.listpack import lp_build, lp_to_list
from tracered.server import server

M64 = (1 << 64) - 1


def sid(ms: int, seq: int) -> int:
    return (ms << 64) | seq


# -------------------------------------------------------------------------------- no server

def test_stream_id_helpers_and_parsing():
    assert ts.create_stream_id_string(sid(5, 7)) == b"5-7"
    assert ts.stream_incr_id(sid(5, M64)) == (sid(6, 0), True)
    assert ts.stream_incr_id(ts.STREAM_ID_MAX) == (0, False)
    assert ts.stream_decr_id(sid(6, 0)) == (sid(5, M64), True)
    assert ts.stream_decr_id(0) == (ts.STREAM_ID_MAX, False)
    assert ts.stream_encode_id(sid(1, 2)) == (1).to_bytes(8, "big") + (2).to_bytes(8, "big")
    p = ts.stream_generic_parse_id_or_reply
    assert p(None, b"5", 0, True) == (sid(5, 0), True)
    assert p(None, b"5", M64, True) == (sid(5, M64), True)
    assert p(None, b"5-*", 0, True, True) == (sid(5, 0), False)
    assert p(None, b"5-*", 0, True) is None                   # ms-* only where allowed
    assert p(None, b"-", 0, True) is None and p(None, b"+", 0, True) is None
    assert p(None, b"-", 0, False) == (0, True)
    assert p(None, b"+", 0, False) == (ts.STREAM_ID_MAX, True)
    assert p(None, b" 7-0", 0, True) == (sid(7, 0), True)     # strtoull's leniency
    assert p(None, b"007-01", 0, True) == (sid(7, 1), True)
    assert p(None, b"-1", 0, True) is None
    assert p(None, b"18446744073709551616", 0, True) is None
    assert p(None, b"3\x00junk", 0, True) == (sid(3, 0), True)  # a C string
    assert p(None, b"1" * 128, 0, True) is None
    assert p(None, b"", 0, True) is None


def _new_stream(maxe: int = 100, maxb: int = 4096):
    server.stream_node_max_entries = maxe
    server.stream_node_max_bytes = maxb
    return ts.Stream()


@pytest.fixture
def restore_config():
    yield
    server.stream_node_max_entries = 100
    server.stream_node_max_bytes = 4096


def test_node_layout_is_redis_format(restore_config):
    s = _new_stream(maxe=3)
    assert ts.stream_append_item(s, [b"a", b"1", b"b", b"x"], sid(10, 5), True) == (sid(10, 5), 0)
    assert ts.stream_append_item(s, [b"a", b"2", b"b", b"y"], sid(11, 2), True)[1] == 0
    assert ts.stream_append_item(s, [b"c", b"3"], sid(11, 9), True)[1] == 0
    assert ts.stream_append_item(s, [b"a", b"4"], sid(12, 0), True)[1] == 0   # a new node
    assert s.rax_keys == [sid(10, 5), sid(12, 0)]
    # count deleted num-fields fields.. 0 | flags ms seq values.. lp-count | ...
    assert bytes(s.rax_lps[0]) == bytes(lp_build([
        3, 0, 2, b"a", b"b", 0,
        2, 0, 0, 1, b"x", 5,                     # SAMEFIELDS, delta 0-0
        2, 1, -3, 2, b"y", 5,                    # seq delta wraps to -3 (2 - 5)
        0, 1, 4, 1, b"c", 3, 6]))                # own fields: num-fields, f, v, lp-count 6
    assert lp_to_list(s.rax_lps[1]) == [1, 0, 1, b"a", 0, 2, 0, 0, 4, 4]
    assert (s.length, s.entries_added, s.first_id, s.last_id) == (4, 4, sid(10, 5), sid(12, 0))
    # Errors: not greater (EDOM), and ms-* with no sequence left (ERANGE, as Redis).
    assert ts.stream_append_item(s, [b"a", b"1"], sid(12, 0), True) == (0, ts.EDOM)
    s.last_id = sid(20, M64)
    assert ts.stream_append_item(s, [b"a", b"1"], sid(20, 0), False) == (0, ts.ERANGE)
    assert ts.stream_append_item(s, [b"a", b"1"], sid(21, 0), False) == (sid(21, 0), 0)
    # A huge ms gap is stored as a negative int64 delta and reads back.
    big = sid((1 << 63) + 50, 1)
    assert ts.stream_append_item(s, [b"a", b"1"], big, True) == (big, 0)
    assert [x[0] for x in ts.stream_iterate(s)][-1] == big
    assert [x[0] for x in ts.stream_iterate(s, rev=True)][0] == big


def test_delete_trim_and_tombstones(restore_config):
    s = _new_stream(maxe=4)
    for i in range(1, 11):
        ts.stream_append_item(s, [b"f", b"%d" % i], sid(i, 0), True)
    assert len(s.rax_keys) == 3
    assert ts.stream_delete_item(s, sid(2, 0))
    assert not ts.stream_delete_item(s, sid(2, 0))           # already a tombstone
    assert not ts.stream_delete_item(s, sid(99, 0))
    assert lp_to_list(s.rax_lps[0])[:2] == [3, 1]             # count, deleted
    for i in (9, 10):                                          # the last node empties
        assert ts.stream_delete_item(s, sid(i, 0))
    assert len(s.rax_keys) == 2 and s.length == 7
    assert ts.stream_last_valid_id(s) == sid(8, 0)
    assert ts.stream_get_edge_id(s, True, True) == sid(1, 0)
    args = ts.StreamAddTrimArgs()
    args.trim_strategy = ts.TRIM_STRATEGY_MAXLEN
    args.maxlen = 5
    assert ts.stream_trim(s, args) == 2                        # 1-0 and 3-0 flagged
    assert s.first_id == sid(4, 0) and s.length == 5
    assert lp_to_list(s.rax_lps[0])[:2] == [1, 3]
    args.approx_trim = True
    args.maxlen = 0
    assert ts.stream_trim(s, args) == 5 and s.rax_keys == [] and s.first_id == 0
    assert ts.stream_get_edge_id(s, True, False) == ts.STREAM_ID_MAX


def test_rax_num_nodes():
    assert ts.rax_num_nodes([]) == 1
    assert ts.rax_num_nodes([sid(1, 0)]) == 2
    # 15 shared bytes (one compressed node), a branch, two leaves.
    assert ts.rax_num_nodes([sid(1, 0), sid(1, 1)]) == 4
    # Branching at the first byte: branch + (16-byte tails: node + leaf) * 2.
    assert ts.rax_num_nodes([sid(1, 0), sid(1 << 56, 0)]) == 5


def test_pel_keeps_id_order():
    pel = ts.StreamPel()
    for i in (5, 1, 9, 3):
        assert pel.try_insert(i, ts.StreamNACK(None))
    assert not pel.try_insert(5, ts.StreamNACK(None))
    assert pel.ids == [1, 3, 5, 9] and len(pel) == 4
    assert pel.remove(3) is not None and pel.remove(3) is None
    assert [k for k, _ in pel.items()] == [1, 5, 9]


def _populated_object():
    o = ts.create_stream_object()
    s = o.ptr
    for i in range(1, 8):
        ts.stream_append_item(s, [b"k", b"v%d" % i] * (1 + i % 2), sid(i, i), True)
    ts.stream_delete_item(s, sid(3, 3))
    s.max_deleted_entry_id = sid(3, 3)
    g = ts.stream_create_cg(s, b"g", sid(5, 5), 4)
    ts.stream_create_cg(s, b"h", 0, ts.SCG_INVALID_ENTRIES_READ)
    c = ts.stream_create_consumer(g, b"alice", None, 0, ts.SCC_NO_NOTIFY | ts.SCC_NO_DIRTIFY)
    ts.stream_create_consumer(g, b"idle", None, 0, ts.SCC_NO_NOTIFY | ts.SCC_NO_DIRTIFY)
    for i in (1, 2, 5):
        n = ts.StreamNACK(c)
        n.delivery_time, n.delivery_count = 1000 + i, i
        g.pel.insert(sid(i, i), n)
        c.pel.insert(sid(i, i), n)
    return o


def _state(o):
    s = o.ptr
    groups = {name: (cg.last_id, cg.entries_read,
                     [(k, n.consumer.name, n.delivery_time, n.delivery_count)
                      for k, n in cg.pel.items()],
                     {cn: (c.seen_time, c.pel.ids) for cn, c in cg.consumers.items()})
              for name, cg in (s.cgroups or {}).items()}
    return ([bytes(lp) for lp in s.rax_lps], s.rax_keys, s.length, s.last_id, s.first_id,
            s.max_deleted_entry_id, s.entries_added, groups)


def test_rdb_round_trip_dup_and_validation():
    o = _populated_object()
    out = bytearray()
    rdbmod.rdb_save_object(out, o, b"k", 0)
    assert rdbmod.rdb_save_object_type_bytes[ts.OBJ_STREAM] == 19
    loaded = ts.rdb_load_stream_object(rdbmod.RioReader(bytes(out)), b"k", 0, 19)
    assert _state(loaded) == _state(o)
    dup = ts.stream_dup(o)
    assert _state(dup) == _state(o)
    ts.stream_append_item(o.ptr, [b"x", b"y"], sid(50, 0), True)
    assert _state(dup) != _state(o)          # a deep copy
    lp = o.ptr.rax_lps[0]
    assert ts.stream_validate_listpack_integrity(lp, True)
    bad = bytearray(lp)
    bad[-2] = 0x05                            # the last lp-count no longer adds up
    assert ts.stream_validate_listpack_integrity(bad, False)
    assert not ts.stream_validate_listpack_integrity(bad, True)


def test_aof_rewrite_commands():
    o = _populated_object()
    out = bytearray()
    ts.rewrite_stream_object(out, b"k", o, 0)
    text = bytes(out)
    assert text.startswith(b"*7\r\n$4\r\nXADD\r\n$1\r\nk\r\n$3\r\n1-1\r\n$1\r\nk\r\n$2\r\nv1\r\n"
                           b"$1\r\nk\r\n$2\r\nv1\r\n*5\r\n$4\r\nXADD\r\n$1\r\nk\r\n$3\r\n2-2\r\n")
    assert b"$6\r\nXSETID\r\n$1\r\nk\r\n$3\r\n7-7\r\n$12\r\nENTRIESADDED\r\n$1\r\n7\r\n" \
           b"$12\r\nMAXDELETEDID\r\n$3\r\n3-3\r\n" in text
    assert b"$6\r\nCREATE\r\n$1\r\nk\r\n$1\r\nh\r\n$3\r\n0-0\r\n$11\r\nENTRIESREAD\r\n$2\r\n-1" \
        in text
    assert text.count(b"XCLAIM") == 3 and b"$14\r\nCREATECONSUMER\r\n" in text
    empty = ts.create_stream_object()
    out = bytearray()
    ts.rewrite_stream_object(out, b"e", empty, 0)
    assert out.startswith(b"*7\r\n$4\r\nXADD\r\n$1\r\ne\r\n$6\r\nMAXLEN\r\n$1\r\n0\r\n")


# -------------------------------------------------------------------------------- blocking

@pytest.fixture
def conns(r, tracered_server):
    made = []

    def make(resp: int = 2) -> Conn:
        c = Conn(tracered_server.port)
        if resp == 3:
            c("HELLO", "3")
        made.append(c)
        return c
    yield make
    for c in made:
        c.close()


def _send(c: Conn, *args) -> None:
    parts = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
    c.sock.sendall(b"".join(parts))


def _blocked_count(r: redis.Redis) -> int:
    return r.info("clients")["blocked_clients"]


def _wait_blocked(r: redis.Redis, n: int) -> None:
    deadline = time.time() + 5
    while _blocked_count(r) != n:
        assert time.time() < deadline, f"expected {n} blocked clients"
        time.sleep(0.01)


def test_xread_block_serves_every_waiter(r, conns):
    r.xadd("s", {"a": "0"}, id="1-0")
    waiters = [conns(resp) for resp in (2, 3, 2)]
    for w in waiters:
        _send(w, "XREAD", "BLOCK", "0", "STREAMS", "s", "other", "$", "$")
    _wait_blocked(r, 3)
    r.xadd("s", {"a": "1"}, id="2-0")
    assert waiters[0]._reply() == (b"*1\r\n*2\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n"
                                   b"*2\r\n$1\r\na\r\n$1\r\n1\r\n")
    assert waiters[1]._reply() == (b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n2-0\r\n"
                                   b"*2\r\n$1\r\na\r\n$1\r\n1\r\n")
    assert parse(waiters[2]._reply()) == [[b"s", [[b"2-0", [b"a", b"1"]]]]]
    assert _blocked_count(r) == 0
    # An entry below the ID a reader waits for does not wake it.
    _send(waiters[0], "XREAD", "COUNT", "1", "BLOCK", "0", "STREAMS", "s", "other", "9-0", "0")
    _wait_blocked(r, 1)
    r.xadd("s", {"x": "y"}, id="3-0")
    time.sleep(0.05)
    assert _blocked_count(r) == 1
    r.xadd("other", {"o": "1"}, id="1-1")
    assert parse(waiters[0]._reply()) == [[b"other", [[b"1-1", [b"o", b"1"]]]]]


def test_xread_block_timeout_and_non_blocking_contexts(r, conns):
    c2, c3 = conns(2), conns(3)
    t0 = time.time()
    assert c2("XREAD", "BLOCK", "80", "STREAMS", "s", "$") == b"*-1\r\n"
    assert c3("XREAD", "BLOCK", "50", "STREAMS", "s", "$") == b"_\r\n"
    assert time.time() - t0 >= 0.12
    assert c2("XREAD", "STREAMS", "s", "0") == b"*-1\r\n"
    assert c2("MULTI") == b"+OK\r\n"
    assert c2("XREAD", "BLOCK", "0", "STREAMS", "s", "$") == b"+QUEUED\r\n"
    assert c2("EXEC") == b"*1\r\n*-1\r\n"
    err = c2("EVAL", "return redis.call('xread','BLOCK','0','STREAMS','s','$')", "0")
    assert b"xread command is not allowed with BLOCK option from scripts" in err
    # CLIENT UNBLOCK: the timeout reply, or an error with ERROR.
    w = conns(2)
    wid = int(w("CLIENT", "ID")[1:-2])
    _send(w, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    _wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", wid) == 1
    assert w._reply() == b"*-1\r\n"
    _send(w, "XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    _wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", wid, "ERROR") == 1
    assert w._reply() == b"-UNBLOCKED client unblocked via CLIENT UNBLOCK\r\n"
    _send(w, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "nokey", ">")
    assert w._reply().startswith(b"-NOGROUP No such key 'nokey' or consumer group 'g'")


def test_blocked_reader_gets_at_most_1000_by_default(r, conns):
    r.xgroup_create("s", "g", "$", mkstream=True)
    plain, grp = conns(), conns()
    _send(plain, "XREAD", "BLOCK", "0", "STREAMS", "s", "0")
    _send(grp, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">")
    _wait_blocked(r, 2)
    p = r.pipeline(transaction=True)
    for i in range(1, 1201):
        p.xadd("s", {"f": i}, id=f"{i}-0")
    p.execute()
    assert len(parse(plain._reply())[0][1]) == 1000
    assert len(parse(grp._reply())[0][1]) == 1000
    assert r.xpending("s", "g")["pending"] == 1000


def test_xreadgroup_block_consumers_share_the_group(r, conns):
    r.xgroup_create("s", "g", "$", mkstream=True)
    a, b, c = conns(), conns(), conns()
    _send(a, "XREADGROUP", "GROUP", "g", "alice", "BLOCK", "0", "STREAMS", "s", ">")
    _send(b, "XREADGROUP", "GROUP", "g", "bob", "BLOCK", "0", "STREAMS", "s", ">")
    _send(c, "XREADGROUP", "GROUP", "g", "carol", "NOACK", "BLOCK", "0", "STREAMS", "s", ">")
    _wait_blocked(r, 3)
    r.xadd("s", {"n": "1"}, id="1-0")
    assert parse(a._reply()) == [[b"s", [[b"1-0", [b"n", b"1"]]]]]
    time.sleep(0.05)
    assert _blocked_count(r) == 2              # bob waits for what comes after 1-0
    r.xadd("s", {"n": "2"}, id="2-0")
    assert parse(b._reply()) == [[b"s", [[b"2-0", [b"n", b"2"]]]]]
    r.xadd("s", {"n": "3"}, id="3-0")
    assert parse(c._reply()) == [[b"s", [[b"3-0", [b"n", b"3"]]]]]
    pend = r.xpending_range("s", "g", "-", "+", 10)
    assert [(p["message_id"], p["consumer"]) for p in pend] == [(b"1-0", b"alice"),
                                                               (b"2-0", b"bob")]
    info = r.xinfo_groups("s")[0]
    assert info["last-delivered-id"] == b"3-0" and info["entries-read"] == 3 and info["lag"] == 0


def test_xreadgroup_waiters_learn_group_or_key_is_gone(r, conns):
    for key in ("s1", "s2", "s3"):
        r.xgroup_create(key, "g", "$", mkstream=True)
    w1, w2, w3, plain = conns(), conns(3), conns(), conns()
    _send(w1, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s1", ">")
    _send(w2, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s2", ">")
    _send(w3, "XREADGROUP", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s3", ">")
    _send(plain, "XREAD", "BLOCK", "0", "STREAMS", "s2", "$")
    _wait_blocked(r, 4)
    assert r.xgroup_destroy("s1", "g") == 1
    assert w1._reply() == (b"-NOGROUP the consumer group this client was blocked on no "
                           b"longer exists\r\n")
    r.delete("s2")
    assert w2._reply() == b"-UNBLOCKED the stream key no longer exists\r\n"
    r.set("s3", "now a string")
    assert w3._reply() == b"-UNBLOCKED the stream key no longer exists\r\n"
    time.sleep(0.05)
    assert _blocked_count(r) == 1              # XREAD keeps waiting on a deleted key
    r.xadd("s2", {"back": "1"}, id="5-0")
    assert parse(plain._reply()) == [[b"s2", [[b"5-0", [b"back", b"1"]]]]]
    assert r.info("errorstats")["errorstat_UNBLOCKED"]["count"] >= 2


def test_copy_type_encoding_and_memory(r):
    r.xadd("s", {"a": "1"}, id="1-1")
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"})
    assert r.type("s") == b"stream" and r.object("ENCODING", "s") == b"stream"
    assert r.copy("s", "t") is True
    r.xadd("s", {"a": "2"}, id="2-2")
    r.xack("s", "g", "1-1")
    assert r.xlen("t") == 1 and r.xpending("t", "g")["pending"] == 1
    assert r.xinfo_consumers("t", "g")[0]["name"] == b"c"
    assert r.memory_usage("s") > 100 and r.memory_usage("t") > 100
    assert r.execute_command("DEBUG", "DIGEST-VALUE", "t") != \
        r.execute_command("DEBUG", "DIGEST-VALUE", "s")
    assert r.scan(0, _type="stream")[1] in ([b"s", b"t"], [b"t", b"s"])


def test_debug_reload_keeps_groups_exactly(r):
    r.config_set("stream-node-max-entries", 5)
    try:
        for i in range(1, 30):
            r.xadd("s", {"i": i, "pad": "x" * (i % 7)}, id=f"{i}-{i % 3}")
        r.xdel("s", "4-1", "29-2")
        r.xgroup_create("s", "g", "0")
        r.xreadgroup("g", "a", {"s": ">"}, count=5)
        r.xreadgroup("g", "b", {"s": ">"}, count=3, noack=True)
        r.xgroup_createconsumer("s", "g", "idle")
        before = (r.xinfo_stream("s", full=True), r.xinfo_groups("s"),
                  r.execute_command("DEBUG", "DIGEST"))
        assert r.execute_command("DEBUG", "RELOAD") == b"OK"
        after = (r.xinfo_stream("s", full=True), r.xinfo_groups("s"),
                 r.execute_command("DEBUG", "DIGEST"))
        assert after == before
    finally:
        r.config_set("stream-node-max-entries", 100)


# -------------------------------------------------------------------------------- AOF

def _parse_commands(data: bytes) -> list[list[bytes]]:
    out = []
    pos = 0
    while pos < len(data):
        assert data[pos:pos + 1] == b"*", data[pos:pos + 40]
        end = data.index(b"\r\n", pos)
        n = int(data[pos + 1:end])
        pos = end + 2
        argv = []
        for _ in range(n):
            end = data.index(b"\r\n", pos)
            ln = int(data[pos + 1:end])
            argv.append(data[end + 2:end + 2 + ln])
            pos = end + 2 + ln + 2
        out.append(argv)
    return out


@pytest.fixture
def aof_server():
    workdir = tempfile.mkdtemp(prefix="tracered-stream-aof-")
    sp = ServerProc.start_tracered("--appendonly", "yes", "--appendfsync", "always",
                                   "--stream-node-max-entries", "2", workdir=workdir)
    yield sp, workdir
    sp.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def _incr(workdir: str) -> list[list[bytes]]:
    d = os.path.join(workdir, "appendonlydir")
    name = [f for f in os.listdir(d) if f.endswith(".incr.aof")][-1]
    with open(os.path.join(d, name), "rb") as f:
        return _parse_commands(f.read())


def _wait_loaded(c: redis.Redis):
    deadline = time.time() + 15
    while True:
        try:
            c.ping()
            if not c.info("persistence").get("loading"):
                return
        except redis.BusyLoadingError:
            pass
        assert time.time() < deadline, "still loading"
        time.sleep(0.05)


def _masked_full(c: redis.Redis):
    """XINFO STREAM FULL without what a replica or an AOF reload does not carry: consumer
    seen-times (each side's clock) and the group read counters (XCLAIM's LASTID moves the
    last ID but, in Redis 7.0 too, not entries-read)."""
    full = c.xinfo_stream("s", full=True)
    for g in full["groups"]:
        g["entries-read"] = g["lag"] = None
        for cons in g["consumers"]:
            cons[b"seen-time"] = 0             # redis-py leaves these keys as bytes
    return full


def test_propagation_to_the_aof_and_reload(aof_server):
    sp, workdir = aof_server
    c = sp.client()
    _wait_loaded(c)
    new_id = c.xadd("s", {"a": "1"})
    big = "99999999999999"
    c.xadd("s", {"a": "2"}, id=f"{big}-*")
    for i in range(3, 9):
        c.xadd("s", {"a": i}, id=f"{big}-{i}")
    c.execute_command("XADD", "s", "MAXLEN", "~", "3", "*", "a", "9")
    len_after_xadd = c.xlen("s")
    assert c.execute_command("XTRIM", "s", "MINID", "~", f"{big}-9") == 2
    first_after_xtrim = c.xrange("s", count=1)[0][0]
    for i in range(10, 15):
        c.xadd("s", {"a": i}, id=f"{big}-{i}")
    c.xgroup_create("s", "g", "0")
    c.xreadgroup("g", "alice", {"s": ">"}, count=2)
    c.xreadgroup("g", "bob", {"s": ">"}, count=1, noack=True)
    entries_read = c.xinfo_groups("s")[0]["entries-read"]
    c.xread({"s": "0"})
    c.xreadgroup("g", "alice", {"s": "0"})              # history: nothing to propagate
    c.xclaim("s", "g", "carol", 0, [f"{big}-9"])
    # The history read's new delivery counts are not propagated (nor in Redis): ack them.
    assert c.xack("s", "g", f"{big}-10") == 1
    cmds = _incr(workdir)
    names = [a[0].upper() for a in cmds]
    xadds = [a for a in cmds if a[0].upper() == b"XADD"]
    assert xadds[0][2] == new_id                         # "*" became the concrete ID
    assert xadds[1][2] == f"{big}-0".encode()            # and "ms-*" the full ID
    # "MAXLEN ~ 3" went out as the exact result of the trim, with the ID it got.
    assert xadds[8][2:6] == [b"MAXLEN", b"=", b"%d" % len_after_xadd, f"{big}-9".encode()]
    assert [a for a in cmds if a[0].upper() == b"XTRIM"] == [
        [b"XTRIM", b"s", b"MINID", b"=", first_after_xtrim]]
    assert b"XREAD" not in names and b"XREADGROUP" not in names
    claims = [a for a in cmds if a[0] == b"XCLAIM"]
    assert [(a[3], a[5]) for a in claims] == [(b"alice", f"{big}-9".encode()),
                                              (b"alice", f"{big}-10".encode()),
                                              (b"carol", f"{big}-9".encode())]
    assert claims[0][4] == b"0" and claims[0][6] == b"TIME"
    assert claims[0][8:] == [b"RETRYCOUNT", b"1", b"FORCE", b"JUSTID", b"LASTID", claims[0][5]]
    assert claims[2][8:10] == [b"RETRYCOUNT", b"3"]     # history read, then XCLAIM
    assert [b"XGROUP", b"CREATECONSUMER", b"s", b"g", b"bob"] in cmds
    setid = [a for a in cmds if a[:2] == [b"XGROUP", b"SETID"]]
    assert setid == [[b"XGROUP", b"SETID", b"s", b"g", f"{big}-11".encode(), b"ENTRIESREAD",
                      b"%d" % entries_read]]
    assert b"MULTI" in names                             # XCLAIMs of one read go together
    # A served blocked XREADGROUP propagates too.
    c.xreadgroup("g", "eve", {"s": ">"})                # nothing left undelivered
    w = Conn(sp.port)
    try:
        _send(w, "XREADGROUP", "GROUP", "g", "dave", "BLOCK", "0", "STREAMS", "s", ">")
        _wait_blocked(c, 1)
        c.xadd("s", {"z": "1"}, id=f"{big}-100")
        assert parse(w._reply())[0][1][0][0] == f"{big}-100".encode()
    finally:
        w.close()
    cmds = _incr(workdir)
    assert cmds[-1][:6] == [b"XCLAIM", b"s", b"g", b"dave", b"0", f"{big}-100".encode()]
    state = (_masked_full(c), c.execute_command("DEBUG", "DIGEST"))
    # Restart from the AOF, then again after BGREWRITEAOF: the same stream, groups and
    # PELs (delivery times and counts were propagated, and are rewritten as XCLAIM TIME).
    sp.stop()
    for rewrite in (True, False):
        # No RDB preamble: the rewrite writes the stream as commands (rewriteStreamObject).
        sp2 = ServerProc.start_tracered("--appendonly", "yes", "--stream-node-max-entries", "2",
                                        "--aof-use-rdb-preamble", "no", workdir=workdir)
        try:
            c2 = sp2.client()
            _wait_loaded(c2)
            assert (_masked_full(c2), c2.execute_command("DEBUG", "DIGEST")) == state
            if rewrite:
                c2.bgrewriteaof()
                deadline = time.time() + 20
                while True:
                    p = c2.info("persistence")
                    if p["aof_rewrites"] >= 1 and not p["aof_rewrite_in_progress"]:
                        break
                    assert time.time() < deadline
                    time.sleep(0.05)
                base = [f for f in os.listdir(os.path.join(workdir, "appendonlydir"))
                        if ".base." in f]
                assert base and base[0].endswith(".base.aof")
        finally:
            sp2.stop()


# -------------------------------------------------------------------------------- replication

def _stream_ops(c: redis.Redis) -> None:
    for i in range(1, 12):
        c.xadd("s", {"i": i})
    c.execute_command("XADD", "s", "MAXLEN", "~", "5", "*", "x", "y")
    c.xgroup_create("s", "g", "0")
    c.xgroup_create("s", "n", "$")
    c.xreadgroup("g", "alice", {"s": ">"}, count=3)
    c.xreadgroup("g", "bob", {"s": ">"}, count=2, noack=True)
    c.xreadgroup("g", "carol", {"s": ">"}, count=1)
    c.xadd("s", {"late": "1"})
    c.xreadgroup("n", "dave", {"s": ">"}, noack=True)
    first = c.xrange("s", count=1)[0][0]
    c.xclaim("s", "g", "erin", 0, [first], retrycount=7)
    c.xdel("s", first)
    c.xautoclaim("s", "g", "frank", 0, "0", count=10)
    c.execute_command("XTRIM", "s", "MINID", "~", "0")
    c.xgroup_createconsumer("s", "g", "idle")
    c.xgroup_delconsumer("s", "g", "carol")
    c.xack("s", "g", c.xrange("s", count=1)[0][0])


def _comparable(c: redis.Redis):
    return _masked_full(c), c.xpending("s", "g"), c.execute_command("DEBUG", "DIGEST")


@pytest.mark.parametrize("master_kind", ["tracered", "redis"])
def test_replication_with_real_redis(master_kind):
    from test_replication import wait_link_up, wait_synced

    started = []
    try:
        m = (ServerProc.start_tracered if master_kind == "tracered" else
             ServerProc.start_redis)("--repl-diskless-sync-delay", "0",
                                     "--stream-node-max-entries", "3")
        started.append(m)
        rep = (ServerProc.start_redis if master_kind == "tracered" else
               ServerProc.start_tracered)("--stream-node-max-entries", "3")
        started.append(rep)
        mc, rc = m.client(), rep.client()
        mc.xadd("s", {"before": "sync"}, id="1-1")
        assert rc.execute_command("REPLICAOF", "127.0.0.1", m.port) == b"OK"
        wait_link_up(rc)
        _stream_ops(mc)
        wait_synced(mc, rc)
        assert _comparable(rc) == _comparable(mc)
    finally:
        for sp in started:
            sp.stop()


def test_full_mask_helper_shape(r):
    r.xadd("s", {"a": "1"}, id="1-1")
    r.xgroup_create("s", "g", "0")
    r.xreadgroup("g", "c", {"s": ">"})
    raw = Conn(r.connection_pool.connection_kwargs["port"])
    try:
        m = mask_full(parse(raw("XINFO", "STREAM", "s", "FULL")))
    finally:
        raw.close()
    assert m[b"groups"][0][b"pending"] == [[b"1-1", b"c", "t", 1]]
