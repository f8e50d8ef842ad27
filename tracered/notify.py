"""Keyspace notifications: the mirror of notify.c.

notifyKeyspaceEvent(type, event, key, dbid) is called by every command that changes a key
(``db.notify_keyspace_event``).  When ``notify-keyspace-events`` enables the event's class
it publishes, through Pub/Sub:

    __keyspace@<db>__:<key>      with the event name as the message   (class K)
    __keyevent@<db>__:<event>    with the key name as the message     (class E)

Classes (one character each, as in the config): g generic (DEL EXPIRE RENAME ...), $ string,
l list, s set, h hash, z sorted set, x expired, e evicted, t stream, m key miss, d module,
n new key, A = every class except m and n.  K and/or E choose which of the two channels
are published; without either nothing is sent whatever the classes say.

Divergence: keyspaceEventsStringToFlags / keyspaceEventsFlagsToString live in config.py,
which needs them to parse and render the config before any command module is loaded; they
are re-exported here under their notify.c names.
Divergence: when no client is subscribed to anything the channel names are not even built
(the messages would reach nobody); Redis builds and publishes them regardless.
"""

from __future__ import annotations

from tracered import db as dbmod
from tracered import pubsub
from tracered.config import (  # noqa: F401 - notify.c's API, re-exported
    NOTIFY_ALL,
    keyspace_events_flags_to_string,
    keyspace_events_string_to_flags,
)
from tracered.db import NOTIFY_KEYEVENT, NOTIFY_KEYSPACE
from tracered.server import server
from tracered.trace.probes import probe

# "__keyspace@<db>__:" and "__keyevent@<db>__:" for each db id, built on first use.
_keyspace_prefix: dict[int, bytes] = {}
_keyevent_prefix: dict[int, bytes] = {}


@probe("notifyKeyspaceEvent")
def notify_keyspace_event(type_: int, event: str | bytes, key: bytes, dbid: int) -> None:
    """notifyKeyspaceEvent: publish the event on the keyspace and/or keyevent channel."""
    srv = server
    flags = srv.notify_keyspace_events_flags
    if not flags & type_:
        return
    if not srv.pubsub_channels and not srv.pubsub_patterns:
        return
    ev = event.encode() if type(event) is str else bytes(event)
    if flags & NOTIFY_KEYSPACE:
        prefix = _keyspace_prefix.get(dbid)
        if prefix is None:
            prefix = _keyspace_prefix[dbid] = b"__keyspace@%d__:" % dbid
        pubsub.pubsub_publish_message(prefix + key, ev, False)
    if flags & NOTIFY_KEYEVENT:
        prefix = _keyevent_prefix.get(dbid)
        if prefix is None:
            prefix = _keyevent_prefix[dbid] = b"__keyevent@%d__:" % dbid
        pubsub.pubsub_publish_message(prefix + ev, key, False)


def _notify_hook(type_: int, event, key: bytes, dbid: int) -> None:
    """db.notify_hook: a module-global call, so an armed notifyKeyspaceEvent probe sees it."""
    notify_keyspace_event(type_, event, key, dbid)


def init(srv) -> None:
    """Install the publisher behind db.notify_keyspace_event."""
    dbmod.notify_hook = _notify_hook


dbmod.notify_hook = _notify_hook
