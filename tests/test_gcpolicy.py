"""gcpolicy.py over TCP: the dataset is frozen out of the collector's walks, and the
things clients do leave no cyclic garbage behind (what makes freezing safe)."""

import threading
import time

import redis
from conftest import ServerProc


def _gc(r) -> dict:
    return r.info("gc")


def test_survivors_are_frozen_and_config_turns_it_off():
    sp = ServerProc.start_tracered()
    try:
        r = sp.client()
        first = _gc(r)
        assert first["gc_freeze"] == "yes"
        assert first["gc_frozen_objects"] > 10_000          # the startup heap
        pipe = r.pipeline(transaction=False)
        for i in range(20_000):
            pipe.set(f"key:{i}", i)
        pipe.execute()
        time.sleep(1.3)                                      # > FREEZE_INTERVAL
        later = _gc(r)
        assert later["gc_freezes"] > first["gc_freezes"]
        # 20k keys = an robj and a dictEntry each, all frozen by now.
        assert later["gc_frozen_objects"] >= first["gc_frozen_objects"] + 20_000
        r.config_set("gc-freeze", "no")
        off = _gc(r)
        assert off["gc_freeze"] == "no" and off["gc_frozen_objects"] == 0
        time.sleep(1.2)
        assert _gc(r)["gc_frozen_objects"] == 0
        assert r.config_get("gc-freeze") == {"gc-freeze": "no"}
    finally:
        sp.stop()


def test_client_lifecycles_leave_no_cyclic_garbage():
    sp = ServerProc.start_tracered()
    try:
        r = sp.client()
        r.memory_purge()                       # start from a clean, fully collected heap
        assert _gc(r)["gc_full_collections"] == 1
        for _ in range(5):
            c = sp.client()
            c.client_setname("worker")
            c.set("k", "v")
            c.blpop(["nolist"], timeout=0.05)                     # blocks, times out
            p = c.pipeline(transaction=True)
            p.watch("k")
            p.multi()
            p.incr("n")
            p.execute()
            c.eval("return redis.call('GET', KEYS[1])", 1, "k")
            with __import__("contextlib").suppress(redis.ResponseError):
                c.eval("return redis.call('NOPE')", 0)            # a script error
            with __import__("contextlib").suppress(redis.ResponseError):
                c.execute_command("LPUSH", "k", "x")               # WRONGTYPE
            ps = c.pubsub()
            ps.subscribe("ch")
            ps.psubscribe("p*")
            r.publish("ch", "hello")
            ps.close()
            c.close()
        # A client blocked forever and dropped while blocked.
        blocked = sp.client(socket_timeout=5)
        t = threading.Thread(target=lambda: _swallow(blocked.blpop, ["never"], 0))
        t.start()
        time.sleep(0.3)
        blocked.connection_pool.disconnect()
        t.join(5)
        time.sleep(0.3)
        r.memory_purge()
        info = _gc(r)
        assert info["gc_full_collections"] == 2
        assert info["gc_last_full_collected"] == 0, sp.log()[-3000:]
        assert "Full garbage collection: 0 unreachable objects" in sp.log()
    finally:
        sp.stop()


def _swallow(fn, *args):
    try:
        fn(*args)
    except Exception:  # noqa: BLE001 - the connection is cut under it on purpose
        pass
