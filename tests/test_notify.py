"""Keyspace notifications (notify.py): channel names and payloads, the class filter, K vs E,
db ids, the new/keymiss opt-in classes, events from inside EXEC, active expiry, and the
notify-keyspace-events spelling (checked against redis-server).  Whole command sequences are
compared with redis-server in test_diff_multi_pubsub.py.
"""

from __future__ import annotations

import time

import pytest


@pytest.fixture
def events(r):
    """set(classes) then read() the next pmessage of a __key*__:* subscriber."""
    p = r.pubsub(ignore_subscribe_messages=True)
    p.psubscribe("__key*__:*")

    class Ev:
        def set(self, classes: str) -> None:
            r.config_set("notify-keyspace-events", classes)

        def read(self, timeout: float = 2.0):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                m = p.get_message(timeout=0.05)
                if m is not None and m["type"] == "pmessage":
                    return m["channel"], m["data"]
            return None

        def drain(self, quiet: float = 0.15) -> list:
            out = []
            while True:
                m = self.read(quiet)
                if m is None:
                    return out
                out.append(m)

    yield Ev()
    r.config_set("notify-keyspace-events", "")
    p.close()


def test_keyspace_and_keyevent_channels(r, events):
    events.set("KEA")
    r.set("k", "v")
    assert events.drain() == [(b"__keyspace@0__:k", b"set"), (b"__keyevent@0__:set", b"k")]
    events.set("K$")
    r.set("k", "v")
    r.delete("k")  # generic class not enabled
    assert events.drain() == [(b"__keyspace@0__:k", b"set")]
    events.set("Eg")
    r.set("k", "v")
    r.expire("k", 100)
    r.delete("k")
    assert events.drain() == [(b"__keyevent@0__:expire", b"k"), (b"__keyevent@0__:del", b"k")]
    events.set("A")  # classes without K or E: nothing is published
    r.set("k", "v")
    assert events.drain() == []


def test_db_id_and_binary_keys(tracered_server, r, events):
    events.set("KEA")
    c3 = tracered_server.client(db=3)
    try:
        c3.hset(b"bin\x00key", "f", "v")
    finally:
        c3.close()
    assert events.drain() == [(b"__keyspace@3__:bin\x00key", b"hset"),
                              (b"__keyevent@3__:hset", b"bin\x00key")]


def test_new_and_keymiss_are_opt_in(r, events):
    events.set("KEA")
    r.get("missing")
    r.set("fresh", "1")
    assert [e for _, e in events.drain()] == [b"set", b"fresh"]
    events.set("KEAmn")
    r.get("missing")
    r.set("fresh2", "1")
    assert events.drain() == [
        (b"__keyspace@0__:missing", b"keymiss"), (b"__keyevent@0__:keymiss", b"missing"),
        (b"__keyspace@0__:fresh2", b"new"), (b"__keyevent@0__:new", b"fresh2"),
        (b"__keyspace@0__:fresh2", b"set"), (b"__keyevent@0__:set", b"fresh2")]


def test_events_from_inside_exec(r, events):
    events.set("Kl")
    with r.pipeline(transaction=True) as p:
        p.rpush("l", "a", "b").lpop("l").set("s", "1").lpop("l")
        p.execute()
    assert events.drain() == [(b"__keyspace@0__:l", b"rpush"), (b"__keyspace@0__:l", b"lpop"),
                              (b"__keyspace@0__:l", b"lpop"), ]


def test_active_expiry_emits_expired(r, events):
    events.set("Ex")
    r.set("soon", "1", px=30)
    assert events.read(3.0) == (b"__keyevent@0__:expired", b"soon")


def test_config_spelling_matches_redis(diff):
    try:
        for classes in ["KEA", "A", "gK", "Ex", "", "mKE", "n", "K$", "Ag$lshzxeKEtmdn",
                        "KEAn", "AX", "KEz?", "tdeK"]:
            diff("CONFIG", "SET", "notify-keyspace-events", classes)
            diff("CONFIG", "GET", "notify-keyspace-events")
    finally:
        diff("CONFIG", "SET", "notify-keyspace-events", "")


# --------------------------------------------------------------------------------------------
# In process: the publisher itself
# --------------------------------------------------------------------------------------------

def test_notify_keyspace_event_in_process():
    from tracered import db as dbmod
    from tracered import networking as net
    from tracered import notify, pubsub
    from tracered import server as sm

    srv = sm.server
    net.server = srv
    saved_db, saved_flags = srv.db, srv.notify_keyspace_events_flags
    srv.db = [dbmod.RedisDb(i) for i in range(srv.databases)]
    pubsub.init(srv)
    notify.init(srv)
    sub = net.create_client(None)
    try:
        sub.argv = [b"PSUBSCRIBE", b"*"]
        pubsub.psubscribe_command(sub)
        sub.reply.clear()
        srv.notify_keyspace_events_flags = dbmod.NOTIFY_KEYSPACE | dbmod.NOTIFY_HASH
        dbmod.notify_keyspace_event(dbmod.NOTIFY_HASH, "hset", b"h", 5)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, "lpush", b"l", 5)
        assert b"".join(sub.reply) == (b"*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n"
                                       b"$16\r\n__keyspace@5__:h\r\n$4\r\nhset\r\n")
        sub.reply.clear()
        srv.notify_keyspace_events_flags = dbmod.NOTIFY_KEYEVENT | dbmod.NOTIFY_HASH
        sub.resp = 3
        dbmod.notify_keyspace_event(dbmod.NOTIFY_HASH, "hdel", b"h", 0)
        assert b"".join(sub.reply) == (b">4\r\n$8\r\npmessage\r\n$1\r\n*\r\n"
                                       b"$19\r\n__keyevent@0__:hdel\r\n$1\r\nh\r\n")
    finally:
        pubsub.pubsub_unsubscribe_all_patterns(sub, False)
        srv.db, srv.notify_keyspace_events_flags = saved_db, saved_flags
