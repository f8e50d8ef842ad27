"""Pub/Sub: the mirror of pubsub.c (SUBSCRIBE, PSUBSCRIBE, PUBLISH, PUBSUB, SSUBSCRIBE ...).

Layout (same order as pubsub.c):

    pubsub types         PubsubType: the global and the shard flavour share every function
    client replies       add_reply_pubsub_message / _pat_message / _subscribed /
                         _unsubscribed / _pat_subscribed / _pat_unsubscribed
    low level API        subscription counts, pubsub_subscribe_channel,
                         pubsub_unsubscribe_channel, pubsub_subscribe_pattern,
                         pubsub_unsubscribe_pattern, the unsubscribe-all functions,
                         pubsub_publish_message (probe pubsubPublishMessage)
    commands             SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE PUNSUBSCRIBE PUBLISH PUBSUB
                         SPUBLISH SSUBSCRIBE SUNSUBSCRIBE

Server state (Redis's server.pubsub_channels / pubsub_patterns / pubsubshard_channels):
``server.pubsub_channels`` maps a channel to the list of its subscribers in subscription
order, ``server.pubsub_patterns`` a pattern to its subscribers, ``server.pubsubshard_channels``
a shard channel to its subscribers.  Each client keeps the reverse maps
(``c.pubsub_channels``, ``c.pubsub_patterns``, ``c.pubsubshard_channels``) as dicts used as
ordered sets.

Messages are RESP2 arrays or, for a RESP3 client, push messages (``>``).  Like Redis's
CLIENT_PUSHING, they reach the client even under CLIENT REPLY OFF/SKIP: a push is not the
reply to a command.  After each message a subscriber's pending output is checked against
its client-output-buffer-limit class (``pubsub``), so a subscriber that stops reading is
disconnected instead of growing without bound (Redis checks on every reply it queues).

Divergence: a message is encoded once per publish and protocol version, then the same bytes
are queued for every subscriber (Redis appends the parts per client).
Divergence: pattern matchers are compiled once per subscribed pattern
(util.compile_string_match) instead of interpreting the glob for every message.
Divergence: the client's channels are an insertion-ordered dict, so UNSUBSCRIBE without
arguments reports the channels in subscription order (Redis: its hash table's order).
Non-cluster only: SSUBSCRIBE/SPUBLISH behave like Redis 7.0 with cluster-enabled no.
"""

from __future__ import annotations

from collections.abc import Callable

from tracered import db as dbmod
from tracered import networking as net
from tracered import server as server_module
from tracered import shared, util
from tracered.commands import KeySpec, cmd, sub
from tracered.server import server
from tracered.trace.probes import probe

CLIENT_DENY_BLOCKING = getattr(net, "CLIENT_DENY_BLOCKING", 1 << 41)

_CLIENT_PUBSUB = net.CLIENT_PUBSUB
# Reply-silencing flags a push ignores (CLIENT_PUSHING in Redis).
_SILENCED = net.CLIENT_REPLY_OFF | net.CLIENT_REPLY_SKIP
# Array header of a 3- and 4-element message: index by client.resp.
_HDR3 = {2: b"*3\r\n", 3: b">3\r\n"}
_HDR4 = {2: b"*4\r\n", 3: b">4\r\n"}
_bulk = net.bulk


# --------------------------------------------------------------------------------------------
# Pubsub types: global channels and shard channels
# --------------------------------------------------------------------------------------------

class PubsubType:
    """pubsubtype: what differs between the global and the shard flavour."""

    __slots__ = ("shard", "client_pubsub_channels", "subscription_count",
                 "server_table", "subscribe_msg", "unsubscribe_msg", "message_bulk")

    def __init__(self, shard: bool, client_pubsub_channels: Callable,
                 subscription_count: Callable, server_table: str, kind: bytes) -> None:
        self.shard = shard
        self.client_pubsub_channels = client_pubsub_channels
        self.subscription_count = subscription_count
        self.server_table = server_table         # attribute of server holding the table
        self.subscribe_msg = _bulk(kind + b"subscribe")
        self.unsubscribe_msg = _bulk(kind + b"unsubscribe")
        self.message_bulk = _bulk(kind + b"message")

    def server_pubsub_channels(self) -> dict:
        return getattr(server, self.server_table)


def client_subscriptions_count(c: net.Client) -> int:
    """clientSubscriptionsCount: channels + patterns (the number SUBSCRIBE replies carry)."""
    return len(c.pubsub_channels) + len(c.pubsub_patterns)


def client_shard_subscriptions_count(c: net.Client) -> int:
    return len(c.pubsubshard_channels)


def client_total_pubsub_subscription_count(c: net.Client) -> int:
    return client_subscriptions_count(c) + client_shard_subscriptions_count(c)


def get_client_pubsub_channels(c: net.Client) -> dict:
    return c.pubsub_channels


def get_client_pubsub_shard_channels(c: net.Client) -> dict:
    return c.pubsubshard_channels


PUBSUB_TYPE = PubsubType(False, get_client_pubsub_channels, client_subscriptions_count,
                         "pubsub_channels", b"")
PUBSUB_SHARD_TYPE = PubsubType(True, get_client_pubsub_shard_channels,
                               client_shard_subscriptions_count, "pubsubshard_channels", b"s")

_PMESSAGE = _bulk(b"pmessage")
_PSUBSCRIBE = _bulk(b"psubscribe")
_PUNSUBSCRIBE = _bulk(b"punsubscribe")

# pattern -> compiled matcher, for every pattern in server.pubsub_patterns.
_pattern_matchers: dict[bytes, Callable[[bytes], bool]] = {}


# --------------------------------------------------------------------------------------------
# Pubsub client replies
# --------------------------------------------------------------------------------------------

def add_reply_pushing(c: net.Client, data: bytes) -> None:
    """addReply under CLIENT_PUSHING: a pubsub message or (un)subscribe confirmation is
    queued even when CLIENT REPLY OFF/SKIP silences command replies."""
    silenced = c.flags & _SILENCED
    if silenced:
        c.flags &= ~silenced
        net.add_reply(c, data)
        c.flags |= silenced
    else:
        net.add_reply(c, data)


def add_reply_pubsub_message(c: net.Client, channel: bytes, msg: bytes,
                             message_bulk: bytes) -> None:
    """addReplyPubsubMessage: ["message", channel, payload] (or "smessage")."""
    add_reply_pushing(c, b"".join((_HDR3[c.resp], message_bulk, _bulk(channel), _bulk(msg))))


def add_reply_pubsub_pat_message(c: net.Client, pat: bytes, channel: bytes,
                                 msg: bytes) -> None:
    """addReplyPubsubPatMessage: ["pmessage", pattern, channel, payload]."""
    add_reply_pushing(c, b"".join((_HDR4[c.resp], _PMESSAGE, _bulk(pat), _bulk(channel),
                                   _bulk(msg))))


def _count_reply(n: int) -> bytes:
    return shared.integers[n] if n < 10000 else b":%d\r\n" % n


def add_reply_pubsub_subscribed(c: net.Client, channel: bytes, ptype: PubsubType) -> None:
    """addReplyPubsubSubscribed: ["subscribe", channel, count]."""
    add_reply_pushing(c, b"".join((_HDR3[c.resp], ptype.subscribe_msg, _bulk(channel),
                                   _count_reply(ptype.subscription_count(c)))))


def add_reply_pubsub_unsubscribed(c: net.Client, channel: bytes | None,
                                  ptype: PubsubType) -> None:
    """addReplyPubsubUnsubscribed: ["unsubscribe", channel or null, count]; the null form
    answers an UNSUBSCRIBE-all from a client subscribed to nothing."""
    chan = shared.null[c.resp] if channel is None else _bulk(channel)
    add_reply_pushing(c, b"".join((_HDR3[c.resp], ptype.unsubscribe_msg, chan,
                                   _count_reply(ptype.subscription_count(c)))))


def add_reply_pubsub_pat_subscribed(c: net.Client, pattern: bytes) -> None:
    """addReplyPubsubPatSubscribed: ["psubscribe", pattern, count]."""
    add_reply_pushing(c, b"".join((_HDR3[c.resp], _PSUBSCRIBE, _bulk(pattern),
                                   _count_reply(client_subscriptions_count(c)))))


def add_reply_pubsub_pat_unsubscribed(c: net.Client, pattern: bytes | None) -> None:
    """addReplyPubsubPatUnsubscribed: ["punsubscribe", pattern or null, count]."""
    pat = shared.null[c.resp] if pattern is None else _bulk(pattern)
    add_reply_pushing(c, b"".join((_HDR3[c.resp], _PUNSUBSCRIBE, pat,
                                   _count_reply(client_subscriptions_count(c)))))


# --------------------------------------------------------------------------------------------
# Pubsub low level API
# --------------------------------------------------------------------------------------------

def server_pubsub_subscription_count() -> int:
    """serverPubsubSubscriptionCount: channels + patterns with at least one subscriber."""
    return len(server.pubsub_channels) + len(server.pubsub_patterns)


def server_pubsub_shard_subscription_count() -> int:
    return len(server.pubsubshard_channels)


@probe("pubsubSubscribeChannel")
def pubsub_subscribe_channel(c: net.Client, channel: bytes, ptype: PubsubType) -> int:
    """pubsubSubscribeChannel: 1 if newly subscribed, 0 if it already was; confirms either
    way."""
    mine = ptype.client_pubsub_channels(c)
    retval = 0
    if channel not in mine:
        retval = 1
        mine[channel] = None
        table = ptype.server_pubsub_channels()
        clients = table.get(channel)
        if clients is None:
            clients = table[channel] = []
        clients.append(c)
    add_reply_pubsub_subscribed(c, channel, ptype)
    return retval


def pubsub_unsubscribe_channel(c: net.Client, channel: bytes, notify: bool,
                               ptype: PubsubType) -> int:
    """pubsubUnsubscribeChannel: 1 if the client was subscribed.  A channel nobody listens
    to any more leaves the server table (so PUBSUB CHANNELS and memory stay bounded)."""
    mine = ptype.client_pubsub_channels(c)
    retval = 0
    if channel in mine:
        retval = 1
        del mine[channel]
        table = ptype.server_pubsub_channels()
        clients = table.get(channel)
        if clients is not None:
            try:
                clients.remove(c)
            except ValueError:
                pass
            if not clients:
                del table[channel]
    if notify:
        add_reply_pubsub_unsubscribed(c, channel, ptype)
    return retval


def pubsub_shard_unsubscribe_all_clients(channel: bytes) -> None:
    """pubsubShardUnsubscribeAllClients: drop every subscriber of a shard channel (cluster
    mode, when the slot moves away), telling each of them."""
    table = server.pubsubshard_channels
    for c in table.pop(channel, ()):
        c.pubsubshard_channels.pop(channel, None)
        add_reply_pubsub_unsubscribed(c, channel, PUBSUB_SHARD_TYPE)
        if client_total_pubsub_subscription_count(c) == 0:
            c.flags &= ~_CLIENT_PUBSUB


@probe("pubsubSubscribePattern")
def pubsub_subscribe_pattern(c: net.Client, pattern: bytes) -> int:
    """pubsubSubscribePattern: 1 if newly subscribed to the pattern."""
    retval = 0
    if pattern not in c.pubsub_patterns:
        retval = 1
        c.pubsub_patterns[pattern] = None
        table = server.pubsub_patterns
        clients = table.get(pattern)
        if clients is None:
            clients = table[pattern] = []
            _pattern_matchers[pattern] = util.compile_string_match(pattern)
        clients.append(c)
    add_reply_pubsub_pat_subscribed(c, pattern)
    return retval


def pubsub_unsubscribe_pattern(c: net.Client, pattern: bytes, notify: bool) -> int:
    """pubsubUnsubscribePattern: 1 if the client was subscribed to the pattern."""
    retval = 0
    if pattern in c.pubsub_patterns:
        retval = 1
        del c.pubsub_patterns[pattern]
        table = server.pubsub_patterns
        clients = table.get(pattern)
        if clients is not None:
            try:
                clients.remove(c)
            except ValueError:
                pass
            if not clients:
                del table[pattern]
                _pattern_matchers.pop(pattern, None)
    if notify:
        add_reply_pubsub_pat_unsubscribed(c, pattern)
    return retval


def pubsub_unsubscribe_all_channels_internal(c: net.Client, notify: bool,
                                             ptype: PubsubType) -> int:
    """pubsubUnsubscribeAllChannelsInternal: returns how many channels were left; with
    nothing to leave, a notifying call still answers once (with a null channel)."""
    count = 0
    mine = ptype.client_pubsub_channels(c)
    if mine:
        for channel in list(mine):
            count += pubsub_unsubscribe_channel(c, channel, notify, ptype)
    if notify and count == 0:
        add_reply_pubsub_unsubscribed(c, None, ptype)
    return count


def pubsub_unsubscribe_all_channels(c: net.Client, notify: bool) -> int:
    return pubsub_unsubscribe_all_channels_internal(c, notify, PUBSUB_TYPE)


def pubsub_unsubscribe_shard_all_channels(c: net.Client, notify: bool) -> int:
    return pubsub_unsubscribe_all_channels_internal(c, notify, PUBSUB_SHARD_TYPE)


def pubsub_unsubscribe_shard_channels(channels: list[bytes]) -> None:
    """pubsubUnsubscribeShardChannels (cluster: a slot's channels go away)."""
    for ch in channels:
        if ch in server.pubsubshard_channels:
            pubsub_shard_unsubscribe_all_clients(ch)


def pubsub_unsubscribe_all_patterns(c: net.Client, notify: bool) -> int:
    """pubsubUnsubscribeAllPatterns, in subscription order."""
    count = 0
    for pattern in list(c.pubsub_patterns):
        count += pubsub_unsubscribe_pattern(c, pattern, notify)
    if notify and count == 0:
        add_reply_pubsub_pat_unsubscribed(c, None)
    return count


def _obuf_threshold() -> float:
    """The smallest non-zero pubsub output limit: below it no subscriber can be over."""
    hard, soft, _secs = server.client_obuf_limits[net.CLIENT_TYPE_PUBSUB]
    limits = [x for x in (hard, soft) if x]
    return min(limits) if limits else float("inf")


def _deliver(clients: list, msg2: bytes, build3: Callable[[], bytes], limit: float) -> int:
    """Queue one encoded message to each client, then enforce output-buffer limits.

    The subscriber lists are walked without a copy: nothing here can unsubscribe anyone
    (a client over its limit is only scheduled for closing, freeClientAsync).  The RESP3
    encoding is built only if a RESP3 subscriber is reached."""
    msg3 = None
    for c in clients:
        if c.resp == 3:
            if msg3 is None:
                msg3 = build3()
            add_reply_pushing(c, msg3)
        else:
            add_reply_pushing(c, msg2)
        if c.reply_bytes >= limit or c.obuf_soft_limit_reached_time:
            net.close_client_on_output_buffer_limit_reached(c)
    return len(clients)


def pubsub_publish_message_internal(channel: bytes, message: bytes,
                                    ptype: PubsubType) -> int:
    """pubsubPublishMessageInternal: deliver to the channel's subscribers, then (global
    flavour only) to every client whose pattern matches; returns the receivers count (a
    client reached through two patterns counts twice, as in Redis)."""
    receivers = 0
    limit = _obuf_threshold()
    clients = ptype.server_pubsub_channels().get(channel)
    if clients:
        body = b"".join((ptype.message_bulk, _bulk(channel), _bulk(message)))
        receivers += _deliver(clients, b"*3\r\n" + body,
                              lambda body=body: b">3\r\n" + body, limit)
    if ptype.shard:
        return receivers  # shard channels ignore patterns
    patterns = server.pubsub_patterns
    if patterns:
        tail = None
        for pattern, pclients in patterns.items():
            matcher = _pattern_matchers.get(pattern)
            if matcher is None:
                matcher = _pattern_matchers[pattern] = util.compile_string_match(pattern)
            if not matcher(channel):
                continue
            if tail is None:
                tail = _bulk(channel) + _bulk(message)
            body = b"".join((_PMESSAGE, _bulk(pattern), tail))
            receivers += _deliver(pclients, b"*4\r\n" + body,
                                  lambda body=body: b">4\r\n" + body, limit)
    return receivers


@probe("pubsubPublishMessage")
def pubsub_publish_message(channel: bytes, message: bytes, sharded: bool = False) -> int:
    """pubsubPublishMessage: the entry point for PUBLISH, SPUBLISH and keyspace events."""
    return pubsub_publish_message_internal(channel, message,
                                           PUBSUB_SHARD_TYPE if sharded else PUBSUB_TYPE)


def pubsub_publish_message_and_propagate_to_cluster(channel: bytes, message: bytes,
                                                    sharded: bool) -> int:
    """pubsubPublishMessageAndPropagateToCluster (no cluster bus here: publish only)."""
    return pubsub_publish_message(channel, message, sharded)


# --------------------------------------------------------------------------------------------
# Pubsub commands implementation
# --------------------------------------------------------------------------------------------

def subscribe_command(c: net.Client) -> None:
    """SUBSCRIBE channel [channel ...].  Allowed inside MULTI (for old clients' sake), but
    not for other clients that must get exactly one reply per command."""
    if c.flags & CLIENT_DENY_BLOCKING and not c.flags & net.CLIENT_MULTI:
        net.add_reply_error(c, "SUBSCRIBE isn't allowed for a DENY BLOCKING client")
        return
    for channel in c.argv[1:]:
        pubsub_subscribe_channel(c, channel, PUBSUB_TYPE)
    c.flags |= _CLIENT_PUBSUB


def unsubscribe_command(c: net.Client) -> None:
    """UNSUBSCRIBE [channel ...]."""
    argv = c.argv
    if len(argv) == 1:
        pubsub_unsubscribe_all_channels(c, True)
    else:
        for channel in argv[1:]:
            pubsub_unsubscribe_channel(c, channel, True, PUBSUB_TYPE)
    if client_total_pubsub_subscription_count(c) == 0:
        c.flags &= ~_CLIENT_PUBSUB


def psubscribe_command(c: net.Client) -> None:
    """PSUBSCRIBE pattern [pattern ...]."""
    if c.flags & CLIENT_DENY_BLOCKING and not c.flags & net.CLIENT_MULTI:
        net.add_reply_error(c, "PSUBSCRIBE isn't allowed for a DENY BLOCKING client")
        return
    for pattern in c.argv[1:]:
        pubsub_subscribe_pattern(c, pattern)
    c.flags |= _CLIENT_PUBSUB


def punsubscribe_command(c: net.Client) -> None:
    """PUNSUBSCRIBE [pattern ...]."""
    argv = c.argv
    if len(argv) == 1:
        pubsub_unsubscribe_all_patterns(c, True)
    else:
        for pattern in argv[1:]:
            pubsub_unsubscribe_pattern(c, pattern, True)
    if client_total_pubsub_subscription_count(c) == 0:
        c.flags &= ~_CLIENT_PUBSUB


def publish_command(c: net.Client) -> None:
    """PUBLISH channel message: the number of clients that received it.  Replicas get the
    command too (their subscribers hear it), the AOF does not."""
    receivers = pubsub_publish_message_and_propagate_to_cluster(c.argv[1], c.argv[2], False)
    if not server.cluster_enabled:
        dbmod.force_command_propagation(c, server_module.PROPAGATE_REPL)
    net.add_reply_long_long(c, receivers)


_PUBSUB_HELP = [
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: "
    "'*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
]


def pubsub_command(c: net.Client) -> None:
    """PUBSUB <subcommand>: one proc for every subcommand, as in pubsub.c (the per-
    subcommand argument counts are checked here)."""
    argv = c.argv
    argc = len(argv)
    sc = argv[1].lower()
    if argc == 2 and sc == b"help":
        net.add_reply_help(c, _PUBSUB_HELP)
    elif sc == b"channels" and argc in (2, 3):
        channel_list(c, argv[2] if argc == 3 else None, server.pubsub_channels)
    elif sc == b"numsub":
        _numsub(c, server.pubsub_channels)
    elif sc == b"numpat" and argc == 2:
        net.add_reply_long_long(c, len(server.pubsub_patterns))
    elif sc == b"shardchannels" and argc in (2, 3):
        channel_list(c, argv[2] if argc == 3 else None, server.pubsubshard_channels)
    elif sc == b"shardnumsub":
        _numsub(c, server.pubsubshard_channels)
    else:
        net.add_reply_subcommand_syntax_error(c)


def _numsub(c: net.Client, table: dict) -> None:
    """PUBSUB NUMSUB / SHARDNUMSUB: a flat [channel, count, ...] array (also in RESP3)."""
    names = c.argv[2:]
    net.add_reply_array_len(c, len(names) * 2)
    for ch in names:
        net.add_reply_bulk(c, ch)
        net.add_reply_long_long(c, len(table.get(ch, ())))


def channel_list(c: net.Client, pat: bytes | None, pubsub_channels: dict) -> None:
    """channelList: the channels with subscribers, filtered by a glob pattern."""
    if pat is None:
        names = list(pubsub_channels)
    else:
        match = util.compile_string_match(pat)
        names = [ch for ch in pubsub_channels if match(ch)]
    net.add_reply_bulk_array(c, names)


def spublish_command(c: net.Client) -> None:
    """SPUBLISH shardchannel message."""
    receivers = pubsub_publish_message_and_propagate_to_cluster(c.argv[1], c.argv[2], True)
    if not server.cluster_enabled:
        dbmod.force_command_propagation(c, server_module.PROPAGATE_REPL)
    net.add_reply_long_long(c, receivers)


def ssubscribe_command(c: net.Client) -> None:
    """SSUBSCRIBE shardchannel [shardchannel ...].  Unlike SUBSCRIBE there is no MULTI
    exception: inside EXEC it is refused (Redis 7.0)."""
    if c.flags & CLIENT_DENY_BLOCKING:
        net.add_reply_error(c, "SSUBSCRIBE isn't allowed for a DENY BLOCKING client")
        return
    for channel in c.argv[1:]:
        pubsub_subscribe_channel(c, channel, PUBSUB_SHARD_TYPE)
    c.flags |= _CLIENT_PUBSUB


def sunsubscribe_command(c: net.Client) -> None:
    """SUNSUBSCRIBE [shardchannel ...]."""
    argv = c.argv
    if len(argv) == 1:
        pubsub_unsubscribe_shard_all_channels(c, True)
    else:
        for channel in argv[1:]:
            pubsub_unsubscribe_channel(c, channel, True, PUBSUB_SHARD_TYPE)
    if client_total_pubsub_subscription_count(c) == 0:
        c.flags &= ~_CLIENT_PUBSUB


def pubsub_mem_overhead(c: net.Client) -> int:
    """pubsubMemOverhead: C-sized estimate (list node 24 bytes, dict entry 24 + slot 8)."""
    return (len(c.pubsub_patterns) * 24 + len(c.pubsub_channels) * 32
            + len(c.pubsubshard_channels) * 32)


# --------------------------------------------------------------------------------------------
# Hooks
# --------------------------------------------------------------------------------------------

def _free_client_hook(c: net.Client) -> None:
    """freeClient's pubsub half: leave everything silently."""
    if c.pubsub_channels or c.pubsub_patterns or c.pubsubshard_channels:
        pubsub_unsubscribe_all_channels(c, False)
        pubsub_unsubscribe_shard_all_channels(c, False)
        pubsub_unsubscribe_all_patterns(c, False)
    c.flags &= ~_CLIENT_PUBSUB


def _reset_hook(c: net.Client) -> None:
    """RESET (clearClientConnectionState): leave everything silently, leave pubsub mode."""
    _free_client_hook(c)


def _install(srv) -> None:
    for name in ("pubsub_channels", "pubsub_patterns", "pubsubshard_channels"):
        if not isinstance(getattr(srv, name, None), dict):
            setattr(srv, name, {})


def init(srv) -> None:
    """Create the server tables and hook freeClient and RESET (idempotent)."""
    _install(srv)
    if _free_client_hook not in srv.free_client_hooks:
        srv.free_client_hooks.append(_free_client_hook)
    from tracered import server_cmds

    if _reset_hook not in server_cmds.RESET_HOOKS:
        server_cmds.RESET_HOOKS.append(_reset_hook)


_install(server)


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

_SUB = "pubsub noscript loading stale"


def _not_key(lastkey: int) -> list[KeySpec]:
    return [KeySpec("NOT_KEY", 1, lastkey=lastkey)]


COMMANDS = [
    cmd("subscribe", subscribe_command, -2, _SUB + " sentinel", group="pubsub",
        since="2.0.0",
        complexity="O(N) where N is the number of channels to subscribe to.",
        summary="Listen for messages published to the given channels",
        args="channel [channel ...]"),
    cmd("unsubscribe", unsubscribe_command, -1, _SUB + " sentinel", group="pubsub",
        since="2.0.0",
        complexity="O(N) where N is the number of clients already subscribed to a channel.",
        summary="Stop listening for messages posted to the given channels",
        args="[channel [channel ...]]"),
    cmd("psubscribe", psubscribe_command, -2, _SUB + " sentinel", group="pubsub",
        since="2.0.0",
        complexity="O(N) where N is the number of patterns the client is already subscribed "
                   "to.",
        summary="Listen for messages published to channels matching the given patterns",
        args="pattern [pattern ...]"),
    cmd("punsubscribe", punsubscribe_command, -1, _SUB + " sentinel", group="pubsub",
        since="2.0.0",
        complexity="O(N+M) where N is the number of patterns the client is already "
                   "subscribed and M is the number of total patterns subscribed in the "
                   "system (by any client).",
        summary="Stop listening for messages posted to channels matching the given patterns",
        args="[pattern [pattern ...]]"),
    cmd("publish", publish_command, 3, "pubsub loading stale fast may_replicate sentinel",
        group="pubsub", since="2.0.0",
        complexity="O(N+M) where N is the number of clients subscribed to the receiving "
                   "channel and M is the total number of subscribed patterns (by any "
                   "client).",
        summary="Post a message to a channel", args="channel message"),
    cmd("pubsub", None, -2, "", group="pubsub", since="2.8.0",
        complexity="Depends on subcommand.", summary="A container for Pub/Sub commands",
        subcommands=[
            sub("channels", pubsub_command, -2, "pubsub loading stale", since="2.8.0",
                complexity="O(N) where N is the number of active channels, and assuming "
                           "constant time pattern matching (relatively short channels and "
                           "patterns)",
                summary="List active channels", args="[pattern]"),
            sub("help", pubsub_command, 2, "loading stale", since="6.2.0",
                summary="Show helpful text about the different subcommands"),
            sub("numpat", pubsub_command, 2, "pubsub loading stale", since="2.8.0",
                summary="Get the count of unique patterns pattern subscriptions"),
            sub("numsub", pubsub_command, -2, "pubsub loading stale", since="2.8.0",
                complexity="O(N) for the NUMSUB subcommand, where N is the number of "
                           "requested channels",
                summary="Get the count of subscribers for channels", args="[channel ...]"),
            sub("shardchannels", pubsub_command, -2, "pubsub loading stale", since="7.0.0",
                complexity="O(N) where N is the number of active shard channels, and "
                           "assuming constant time pattern matching (relatively short shard "
                           "channels).",
                summary="List active shard channels", args="[pattern]"),
            sub("shardnumsub", pubsub_command, -2, "pubsub loading stale", since="7.0.0",
                complexity="O(N) for the SHARDNUMSUB subcommand, where N is the number of "
                           "requested shard channels",
                summary="Get the count of subscribers for shard channels",
                args="[shardchannel ...]"),
        ]),
    cmd("spublish", spublish_command, 3, "pubsub loading stale fast may_replicate",
        group="pubsub", since="7.0.0", keys=(1, 1, 1), key_specs=_not_key(0),
        complexity="O(N) where N is the number of clients subscribed to the receiving shard "
                   "channel.",
        summary="Post a message to a shard channel", args="shardchannel message"),
    cmd("ssubscribe", ssubscribe_command, -2, _SUB, group="pubsub", since="7.0.0",
        keys=(1, -1, 1), key_specs=_not_key(-1),
        complexity="O(N) where N is the number of shard channels to subscribe to.",
        summary="Listen for messages published to the given shard channels",
        args="shardchannel [shardchannel ...]"),
    cmd("sunsubscribe", sunsubscribe_command, -1, _SUB, group="pubsub", since="7.0.0",
        keys=(1, -1, 1), key_specs=_not_key(-1),
        complexity="O(N) where N is the number of clients already subscribed to a shard "
                   "channel.",
        summary="Stop listening for messages posted to the given shard channels",
        args="[shardchannel [shardchannel ...]]"),
]
