"""Client side caching: tracking.c (enableTracking, disableTracking, trackingRememberKeys,
sendTrackingMessage, trackingInvalidateKey, trackingHandlePendingKeyInvalidations,
trackingInvalidateKeysOnFlush, trackingLimitUsedSlots, trackingBroadcastInvalidationMessages)
plus the CLIENT TRACKING / CLIENT CACHING branches of clientCommand (networking.c).

Two ways to be told that a cached key changed:

* default mode: the server remembers, per key name, the ids of the tracking clients that
  read it (the tracking table, ``server.tracking_table``: key -> {client id}).  A write to
  the key sends each of them one invalidation and forgets the entry, so a client is told
  at most once per read.  Keys are names only: the db number is not part of the entry,
  exactly as in Redis.
* BCAST mode: nothing is remembered per client; a client registers key prefixes (the
  prefix table, ``server.tracking_prefix_table``: prefix -> BcastState) and every key
  written under a prefix during one event-loop iteration is batched into one message sent
  from beforeSleep.

Messages reach RESP3 clients as ``>2 invalidate <keys>`` pushes.  A RESP2 connection
cannot receive pushes among replies, so it names (REDIRECT) another connection subscribed
to ``__redis__:invalidate``, which gets an ordinary pubsub message.  A null key list means
"everything" (FLUSHDB / FLUSHALL).

An invalidation aimed at the client whose command is running is queued
(``_pending_keys``) and sent after its reply, so the client never sees the invalidation of
a key before the reply that reads it.

Divergence: tracking-table-max-keys is enforced from beforeSleep and serverCron (Redis also
does it in processCommand before each command), and the keys dropped are the oldest
remembered ones rather than random ones (a Python dict has no cheap random pick).
Divergence: the tracking table is a dict and the client sets are Python sets, so the
order in which several clients receive the same invalidation is not Redis's (rax order of
the raw id bytes).  Prefixes and broadcast keys are sorted like the rax iteration.
"""

from __future__ import annotations

from tracered import db as dbmod
from tracered import networking as net
from tracered import pubsub, shared
from tracered.commands import CMD_PUBSUB, CMD_READONLY, get_keys_from_command
from tracered.trace.probes import probe

CLIENT_TRACKING = net.CLIENT_TRACKING
BROKEN_REDIR = net.CLIENT_TRACKING_BROKEN_REDIR
BCAST = net.CLIENT_TRACKING_BCAST
OPTIN = net.CLIENT_TRACKING_OPTIN
OPTOUT = net.CLIENT_TRACKING_OPTOUT
CACHING = net.CLIENT_TRACKING_CACHING
NOLOOP = net.CLIENT_TRACKING_NOLOOP
_ALL_TRACKING_FLAGS = CLIENT_TRACKING | BROKEN_REDIR | BCAST | OPTIN | OPTOUT | CACHING | NOLOOP

TRACKING_CHANNEL = b"__redis__:invalidate"
# Header of a RESP2 pubsub message on the invalidation channel; the key array follows.
_REDIR_MESSAGE_HDR = b"*3\r\n$7\r\nmessage\r\n" + net.bulk(TRACKING_CHANNEL)
_PUSH_INVALIDATE = b">2\r\n$10\r\ninvalidate\r\n"

server = None          # the Server, set by init()
_pending_keys: list = []  # server.tracking_pending_keys: key bytes, or None for a flush
_timeout_counter = 0      # trackingLimitUsedSlots's effort grows while the limit is missed


class ClientTracking:
    """The tracking half of a client (client_tracking_redirection and
    client_tracking_prefixes in server.h); ``c.tracking`` is None while tracking is off."""

    __slots__ = ("redirection", "prefixes")

    def __init__(self, redirection: int) -> None:
        self.redirection = redirection
        self.prefixes: set[bytes] = set()


class BcastState:
    """bcastState: the keys written under one prefix in this event-loop iteration (key ->
    the client that wrote it, for NOLOOP) and the clients registered for the prefix."""

    __slots__ = ("keys", "clients")

    def __init__(self) -> None:
        self.keys: dict[bytes, object] = {}
        self.clients: dict[net.Client, None] = {}


# --------------------------------------------------------------------------------------------
# Enabling / disabling
# --------------------------------------------------------------------------------------------

@probe("disableTracking")
def disable_tracking(c: net.Client) -> None:
    """disableTracking: leave every prefix (dropping prefixes nobody else uses) and clear
    the tracking flags.  Keys this client read stay in the tracking table: they are
    dropped lazily when invalidated (the client is then found not tracking)."""
    srv = server
    if c.flags & BCAST and c.tracking is not None:
        table = srv.tracking_prefix_table
        for prefix in c.tracking.prefixes:
            bs = table.get(prefix)
            if bs is None:
                continue
            bs.clients.pop(c, None)
            if not bs.clients:
                del table[prefix]
    if c.flags & CLIENT_TRACKING:
        srv.tracking_clients -= 1
        c.flags &= ~_ALL_TRACKING_FLAGS
    c.tracking = None


def _prefix_overlap(a: bytes, b: bytes) -> bool:
    """stringCheckPrefix: one is a prefix of the other."""
    return a.startswith(b) or b.startswith(a)


def check_prefix_collisions_or_reply(c: net.Client, prefixes: list[bytes]) -> bool:
    """checkPrefixCollisionsOrReply: a client's prefixes must not overlap, or one write
    would produce two messages for the same key."""
    existing = sorted(c.tracking.prefixes) if c.tracking is not None else ()
    for i, p in enumerate(prefixes):
        for old in existing:
            if _prefix_overlap(old, p):
                net.add_reply_error(
                    c, "Prefix '%s' overlaps with an existing prefix '%s'. Prefixes for a "
                       "single client must not overlap." % (_txt(p), _txt(old)))
                return False
        for q in prefixes[i + 1:]:
            if _prefix_overlap(p, q):
                net.add_reply_error(
                    c, "Prefix '%s' overlaps with another provided prefix '%s'. Prefixes "
                       "for a single client must not overlap." % (_txt(p), _txt(q)))
                return False
    return True


def _txt(b: bytes) -> str:
    # %s of a C string: stops at the first NUL byte.
    return b.split(b"\0", 1)[0].decode("utf-8", "replace")


def enable_bcast_tracking_for_prefix(c: net.Client, prefix: bytes) -> None:
    """enableBcastTrackingForPrefix."""
    table = server.tracking_prefix_table
    bs = table.get(prefix)
    if bs is None:
        bs = table[prefix] = BcastState()
    if c not in bs.clients:
        bs.clients[c] = None
        c.tracking.prefixes.add(prefix)


@probe("enableTracking")
def enable_tracking(c: net.Client, redirect_to: int, options: int,
                    prefixes: list[bytes]) -> None:
    """enableTracking: turn tracking on (or change its options while on)."""
    srv = server
    if not c.flags & CLIENT_TRACKING:
        srv.tracking_clients += 1
    c.flags = (c.flags | CLIENT_TRACKING) & ~(BROKEN_REDIR | BCAST | OPTIN | OPTOUT | NOLOOP)
    if c.tracking is None:
        c.tracking = ClientTracking(redirect_to)
    else:
        c.tracking.redirection = redirect_to
    _install_hooks()
    if options & BCAST:
        c.flags |= BCAST
        for prefix in prefixes or (b"",):
            enable_bcast_tracking_for_prefix(c, prefix)
    c.flags |= options & (OPTIN | OPTOUT | NOLOOP)


# --------------------------------------------------------------------------------------------
# Remembering and invalidating keys
# --------------------------------------------------------------------------------------------

@probe("trackingRememberKeys")
def tracking_remember_keys(c: net.Client) -> None:
    """trackingRememberKeys: note that ``c`` (the caller) may now cache the keys of the
    command it runs, unless OPTIN without CACHING yes / OPTOUT with CACHING no."""
    f = c.flags
    if f & OPTIN and not f & CACHING or f & OPTOUT and f & CACHING:
        return
    cmd = c.cmd
    if cmd is None or cmd.flags & CMD_PUBSUB:
        return
    argv = c.argv
    positions = get_keys_from_command(cmd, argv)
    if not positions:
        return
    srv = server
    table = srv.tracking_table
    cid = c.id
    added = 0
    for pos in positions:
        key = argv[pos]
        ids = table.get(key)
        if ids is None:
            table[key] = {cid}
            added += 1
        elif cid not in ids:
            ids.add(cid)
            added += 1
    srv.tracking_total_items += added


@probe("sendTrackingMessage")
def send_tracking_message(c: net.Client, payload: bytes, proto: bool) -> None:
    """sendTrackingMessage: deliver one invalidation (``payload`` is a key, or with
    ``proto`` ready RESP: a key array or null) to ``c`` or to its REDIRECT target."""
    using_redirection = False
    redir_id = c.tracking.redirection if c.tracking is not None else 0
    if redir_id:
        target = server.clients.get(redir_id)
        if target is None:
            c.flags |= BROKEN_REDIR
            if c.resp > 2:
                pubsub.add_reply_pushing(
                    c, b">2\r\n$21\r\ntracking-redir-broken\r\n:%d\r\n" % redir_id)
            return
        c = target
        using_redirection = True
    if c.resp > 2:
        head = _PUSH_INVALIDATE
    elif using_redirection and c.flags & net.CLIENT_PUBSUB:
        head = _REDIR_MESSAGE_HDR
    else:
        return  # a RESP2 client without a subscribed redirect cannot be told
    body = payload if proto else b"*1\r\n$%d\r\n%s\r\n" % (len(payload), payload)
    pubsub.add_reply_pushing(c, head + body)


def tracking_remember_key_to_broadcast(c, key: bytes) -> None:
    """trackingRememberKeyToBroadcast: queue ``key`` for every prefix it starts with."""
    for prefix, bs in server.tracking_prefix_table.items():
        if key.startswith(prefix):
            bs.keys[key] = c


@probe("trackingInvalidateKey")
def tracking_invalidate_key(c, key: bytes, bcast: bool = True) -> None:
    """trackingInvalidateKey: tell every client that read ``key`` that it changed, then
    forget them (they must read it again to be told again)."""
    srv = server
    if bcast and srv.tracking_prefix_table:
        tracking_remember_key_to_broadcast(c, key)
    ids = srv.tracking_table.pop(key, None)
    if ids is None:
        return
    clients = srv.clients
    current = srv.current_client
    for cid in ids:
        target = clients.get(cid)
        if target is None or target.flags & (CLIENT_TRACKING | BCAST) != CLIENT_TRACKING:
            continue
        if target is current:
            if target.flags & NOLOOP:
                continue
            if srv.fixed_time_expire:
                # Inside the client's own command: send after its reply.
                _pending_keys.append(key)
                continue
        send_tracking_message(target, key, False)
    srv.tracking_total_items -= len(ids)


def _signal_modified_key_hook(c, db, key: bytes) -> None:
    tracking_invalidate_key(c, key, True)


def _signal_flushed_db_hook(dbid: int, async_: bool) -> None:
    tracking_invalidate_keys_on_flush(dbid, async_)


def tracking_handle_pending_key_invalidations() -> None:
    """trackingHandlePendingKeyInvalidations: after the command's reply, send the current
    client the invalidations its own command caused."""
    if not _pending_keys:
        return
    c = server.current_client
    keys = _pending_keys[:]
    _pending_keys.clear()
    if c is None:
        return
    for key in keys:
        if key is None:
            send_tracking_message(c, shared.null[c.resp], True)
        else:
            send_tracking_message(c, key, False)


@probe("trackingInvalidateKeysOnFlush")
def tracking_invalidate_keys_on_flush(dbid: int, async_: bool) -> None:
    """trackingInvalidateKeysOnFlush: every tracking client (either mode) gets a null
    invalidation, and the whole tracking table is dropped.  ``dbid`` is unused: the table
    does not know dbs, so any flush invalidates everything."""
    srv = server
    if srv.tracking_clients:
        current = srv.current_client
        for c in list(srv.clients.values()):
            if c.flags & CLIENT_TRACKING:
                if c is current:
                    _pending_keys.append(None)
                else:
                    send_tracking_message(c, shared.null[c.resp], True)
    srv.tracking_table = {}
    srv.tracking_total_items = 0


@probe("trackingLimitUsedSlots")
def tracking_limit_used_slots() -> None:
    """trackingLimitUsedSlots: keep the table under tracking-table-max-keys by invalidating
    keys (their readers are told, as if the keys had changed).  The effort per call grows
    while the limit keeps being missed, so a burst of reads is absorbed over a few calls."""
    global _timeout_counter
    srv = server
    max_keys = srv.tracking_table_max_keys
    if not max_keys:
        return
    table = srv.tracking_table
    if len(table) <= max_keys:
        _timeout_counter = 0
        return
    effort = 100 * (_timeout_counter + 1)
    while effort > 0 and table:
        effort -= 1
        tracking_invalidate_key(None, next(iter(table)), False)
        if len(table) <= max_keys:
            _timeout_counter = 0
            return
    _timeout_counter += 1


def _build_broadcast_reply(c, keys: dict) -> bytes | None:
    """trackingBuildBroadcastReply: the key array, without the keys ``c`` wrote itself
    when ``c`` is given (NOLOOP); None if nothing is left."""
    names = sorted(k for k, writer in keys.items() if c is None or writer is not c)
    if not names:
        return None
    return b"*%d\r\n" % len(names) + b"".join(
        b"$%d\r\n%s\r\n" % (len(k), k) for k in names)


@probe("trackingBroadcastInvalidationMessages")
def tracking_broadcast_invalidation_messages() -> None:
    """trackingBroadcastInvalidationMessages: in beforeSleep, one message per prefix with
    the keys written under it since the last call, to each client registered for it."""
    srv = server
    if not srv.tracking_clients:
        return
    for prefix in sorted(srv.tracking_prefix_table):
        bs = srv.tracking_prefix_table[prefix]
        if not bs.keys:
            continue
        proto = _build_broadcast_reply(None, bs.keys)
        for c in list(bs.clients):
            if c.flags & NOLOOP:
                adhoc = _build_broadcast_reply(c, bs.keys)
                if adhoc is not None:
                    send_tracking_message(c, adhoc, True)
            else:
                send_tracking_message(c, proto, True)
        bs.keys = {}


# --------------------------------------------------------------------------------------------
# Hooks into call(), beforeSleep, serverCron, freeClient, RESET
# --------------------------------------------------------------------------------------------

def tracking_after_call(c: net.Client) -> None:
    """call()'s tracking tail, run while any client tracks: remember the keys a read-only
    command fetched for its (tracking, non-BCAST) caller; at the top-level call, send the
    invalidations held back for the current client (afterCommand).  CLIENT CACHING's
    one-command flag is cleared by networking.reset_client_reply_skip (resetClient)."""
    srv = server
    cmd = c.cmd
    if cmd is not None and cmd.flags & CMD_READONLY and \
            cmd.name not in ("eval_ro", "evalsha_ro", "fcall_ro"):
        caller = c
        if c.flags & net.CLIENT_SCRIPT:
            # A script's reads are remembered for the client that ran it, with the keys
            # it declared (the caller's argv).
            caller = getattr(srv, "script_caller", None) or c
        if caller.flags & (CLIENT_TRACKING | BCAST) == CLIENT_TRACKING:
            tracking_remember_keys(caller)
    if _pending_keys and srv.in_nested_call == 0:
        tracking_handle_pending_key_invalidations()


def _before_sleep(srv) -> None:
    if _pending_keys:
        tracking_handle_pending_key_invalidations()
    if srv.tracking_clients:
        tracking_limit_used_slots()
        tracking_broadcast_invalidation_messages()


def _cron(srv) -> None:
    if srv.tracking_clients:
        tracking_limit_used_slots()


def _free_client_hook(c: net.Client) -> None:
    if c.flags & CLIENT_TRACKING:
        disable_tracking(c)


_hooks_installed = False


def _install_hooks() -> None:
    """Hook into signalModifiedKey / signalFlushedDb on the first CLIENT TRACKING on, so a
    server where nobody tracks pays nothing on writes."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    if _signal_modified_key_hook not in dbmod.signal_modified_key_hooks:
        dbmod.signal_modified_key_hooks.append(_signal_modified_key_hook)
    if _signal_flushed_db_hook not in dbmod.signal_flushed_db_hooks:
        dbmod.signal_flushed_db_hooks.append(_signal_flushed_db_hook)


def init(srv) -> None:
    """Called at startup: the tables live on the server (INFO reads them there)."""
    global server, _hooks_installed
    server = srv
    _hooks_installed = False
    _pending_keys.clear()
    srv.tracking_clients = 0
    srv.tracking_table = {}
    srv.tracking_prefix_table = {}
    srv.tracking_total_items = 0
    srv.tracking_after_call = tracking_after_call
    if _before_sleep not in srv.before_sleep_hooks:
        srv.before_sleep_hooks.append(_before_sleep)
    if _cron not in srv.cron_hooks:
        srv.cron_hooks.append(_cron)
    if _free_client_hook not in srv.free_client_hooks:
        srv.free_client_hooks.append(_free_client_hook)
    from tracered import server_cmds

    if _free_client_hook not in server_cmds.RESET_HOOKS:
        server_cmds.RESET_HOOKS.append(_free_client_hook)


# --------------------------------------------------------------------------------------------
# CLIENT TRACKING / CLIENT CACHING (clientCommand branches, networking.c)
# --------------------------------------------------------------------------------------------

def client_tracking_command(c: net.Client) -> None:
    """CLIENT TRACKING ON|OFF [REDIRECT id] [PREFIX p ...] [BCAST] [OPTIN] [OPTOUT]
    [NOLOOP]: options are parsed first, then checked against each other and against the
    current mode (BCAST and OPTIN/OPTOUT cannot change without turning tracking off)."""
    argv = c.argv
    argc = len(argv)
    redir = 0
    options = 0
    prefixes: list[bytes] = []
    j = 3
    while j < argc:
        opt = argv[j].lower()
        more = argc - 1 - j
        if opt == b"redirect" and more:
            j += 1
            if redir != 0:
                net.add_reply_error(c, "A client can only redirect to a single other client")
                return
            v = _parse_ll(argv[j])
            if v is None:
                net.add_reply_error(c, shared.NOT_INTEGER)
                return
            redir = v
            if server.clients.get(redir) is None:
                net.add_reply_error(c, "The client ID you want redirect to does not exist")
                return
        elif opt == b"bcast":
            options |= BCAST
        elif opt == b"optin":
            options |= OPTIN
        elif opt == b"optout":
            options |= OPTOUT
        elif opt == b"noloop":
            options |= NOLOOP
        elif opt == b"prefix" and more:
            j += 1
            prefixes.append(argv[j])
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1
    mode = argv[2].lower()
    if mode == b"on":
        if not options & BCAST and prefixes:
            net.add_reply_error(c, "PREFIX option requires BCAST mode to be enabled")
            return
        if c.flags & CLIENT_TRACKING and bool(c.flags & BCAST) != bool(options & BCAST):
            net.add_reply_error(
                c, "You can't switch BCAST mode on/off before disabling tracking for this "
                   "client, and then re-enabling it with a different mode.")
            return
        if options & BCAST and options & (OPTIN | OPTOUT):
            net.add_reply_error(c, "OPTIN and OPTOUT are not compatible with BCAST")
            return
        if options & OPTIN and options & OPTOUT:
            net.add_reply_error(c, "You can't specify both OPTIN mode and OPTOUT mode")
            return
        if options & OPTIN and c.flags & OPTOUT or options & OPTOUT and c.flags & OPTIN:
            net.add_reply_error(
                c, "You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
                   "client, and then re-enabling it with a different mode.")
            return
        if options & BCAST and not check_prefix_collisions_or_reply(c, prefixes):
            return
        enable_tracking(c, redir, options, prefixes)
    elif mode == b"off":
        disable_tracking(c)
    else:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    net.add_reply(c, shared.ok)


def _parse_ll(b: bytes) -> int | None:
    from tracered.object import parse_long_long

    return parse_long_long(b)


def client_caching_command(c: net.Client) -> None:
    """CLIENT CACHING YES|NO: override OPTIN/OPTOUT for the next command (or MULTI)."""
    if not c.flags & CLIENT_TRACKING:
        net.add_reply_error(c, "CLIENT CACHING can be called only when the client is in "
                               "tracking mode with OPTIN or OPTOUT mode enabled")
        return
    opt = c.argv[2].lower()
    if opt == b"yes":
        if not c.flags & OPTIN:
            net.add_reply_error(c, "CLIENT CACHING YES is only valid when tracking is "
                                   "enabled in OPTIN mode.")
            return
    elif opt == b"no":
        if not c.flags & OPTOUT:
            net.add_reply_error(c, "CLIENT CACHING NO is only valid when tracking is "
                                   "enabled in OPTOUT mode.")
            return
    else:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    c.flags |= CACHING
    net.add_reply(c, shared.ok)


def client_getredir_command(c: net.Client) -> None:
    """CLIENT GETREDIR: the REDIRECT id (0 for none), -1 when tracking is off."""
    net.add_reply_long_long(c, c.tracking.redirection if c.flags & CLIENT_TRACKING else -1)


_INFO_FLAGS = ((BCAST, b"bcast"), (OPTIN, b"optin"), (OPTIN | CACHING, b"caching-yes"),
               (OPTOUT, b"optout"), (OPTOUT | CACHING, b"caching-no"), (NOLOOP, b"noloop"),
               (BROKEN_REDIR, b"broken_redirect"))


def client_trackinginfo_command(c: net.Client) -> None:
    """CLIENT TRACKINGINFO: flags (a set), redirect, prefixes."""
    f = c.flags
    flags = [b"on" if f & CLIENT_TRACKING else b"off"]
    flags += [name for bits, name in _INFO_FLAGS if f & bits == bits]
    net.add_reply_map_len(c, 3)
    net.add_reply_bulk(c, b"flags")
    net.add_reply_set_len(c, len(flags))
    for name in flags:
        net.add_reply_bulk(c, name)
    net.add_reply_bulk(c, b"redirect")
    net.add_reply_long_long(c, c.tracking.redirection if f & CLIENT_TRACKING else -1)
    net.add_reply_bulk(c, b"prefixes")
    prefixes = sorted(c.tracking.prefixes) if c.tracking is not None else []
    net.add_reply_array_len(c, len(prefixes))
    for p in prefixes:
        net.add_reply_bulk(c, p)
