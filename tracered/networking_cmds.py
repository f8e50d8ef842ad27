"""CLIENT and MONITOR: the command half of networking.c (clientCommand and its helpers)
and monitorCommand from server.c.

Redis runs every CLIENT subcommand through one ``clientCommand`` that dispatches on
argv[1]; in 7.0 each subcommand is also its own row of the command table (``client|list``),
which is what ACL rules, COMMAND INFO and the arity check see.  Here each row has its own
proc named after the branch of clientCommand it mirrors (``client_list_command`` ...), so a
learner can break on one of them.

Subcommand-specific argument counts that the table cannot express (CLIENT PAUSE takes 3 or
4 arguments) end, as in Redis, in addReplySubcommandSyntaxError.

The client side caching branches (TRACKING, CACHING, GETREDIR, TRACKINGINFO) live in
tracking.py next to the state they read.
Divergence: CLIENT UNPAUSE releases the postponed clients from beforeSleep (a hook that
init() installs) instead of re-running their commands nested inside the UNPAUSE call; Redis
gets the same effect from unblockPostponedClients and server.unblocked_clients.
"""

from __future__ import annotations

import time

from tracered import networking as net
from tracered import server as server_module
from tracered import shared, tracking, util
from tracered.commands import cmd, sub
from tracered.server import CLIENT_PAUSE_ALL, CLIENT_PAUSE_OFF, CLIENT_PAUSE_WRITE, server

# --------------------------------------------------------------------------------------------
# Helpers (networking.c)
# --------------------------------------------------------------------------------------------

_CLIENT_TYPES = {
    b"normal": net.CLIENT_TYPE_NORMAL, b"slave": net.CLIENT_TYPE_SLAVE,
    b"replica": net.CLIENT_TYPE_SLAVE, b"pubsub": net.CLIENT_TYPE_PUBSUB,
    b"master": net.CLIENT_TYPE_MASTER,
}


def get_client_type_by_name(name: bytes) -> int:
    """getClientTypeByName: -1 for an unknown class name."""
    return _CLIENT_TYPES.get(name.lower(), -1)


def lookup_client_by_id(cid: int) -> net.Client | None:
    """lookupClientByID (Redis keeps a radix tree by id; the clients dict is keyed by id)."""
    return server.clients.get(cid)


def client_set_name(c: net.Client, name: bytes) -> bool:
    """clientSetName: an empty name removes it; otherwise only printable ASCII without
    spaces, so a CLIENT LIST line can always be split on spaces."""
    if not name:
        c.name = None
        return True
    for ch in name:
        if ch < 33 or ch > 126:
            return False
    c.name = name
    return True


def client_set_name_or_reply(c: net.Client, name: bytes) -> bool:
    """clientSetNameOrReply (also what HELLO SETNAME should use)."""
    if client_set_name(c, name):
        return True
    net.add_reply_error(c, "Client names cannot contain spaces, newlines or special "
                           "characters.")
    return False


def _client_user_name(c: net.Client) -> str:
    u = c.user
    return u if isinstance(u, str) else getattr(u, "name", str(u))


def _user_exists(name: bytes) -> bool:
    """ACLGetUserByName, through acl.py when it is there (only 'default' exists before)."""
    try:
        from tracered import acl
    except ImportError:
        acl = None
    lookup = getattr(acl, "acl_get_user_by_name", None) if acl is not None else None
    if lookup is not None:
        return lookup(name) is not None
    return name == b"default"


# --------------------------------------------------------------------------------------------
# CLIENT subcommands
# --------------------------------------------------------------------------------------------

_CLIENT_HELP = [
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
]


def client_help_command(c: net.Client) -> None:
    net.add_reply_help(c, _CLIENT_HELP)


def client_id_command(c: net.Client) -> None:
    net.add_reply_long_long(c, c.id)


def client_info_command(c: net.Client) -> None:
    """CLIENT INFO: this connection's CLIENT LIST line (verbatim text in RESP3)."""
    net.add_reply_verbatim(c, (net.cat_client_info_string(c) + "\n").encode(
        "utf-8", "surrogateescape"))


def client_list_command(c: net.Client) -> None:
    """CLIENT LIST [TYPE normal|master|replica|pubsub] | [ID id [id ...]]."""
    argv = c.argv
    argc = len(argv)
    if argc == 4 and argv[2].lower() == b"type":
        ctype = get_client_type_by_name(argv[3])
        if ctype == -1:
            net.add_reply_error(c, "Unknown client type '%s'" % argv[3].decode(
                errors="replace"))
            return
        text = net.get_all_clients_info_string(ctype)
    elif argc > 3 and argv[2].lower() == b"id":
        lines = []
        for a in argv[3:]:
            cid = util.string2ll(a)
            if cid is None:
                net.add_reply_error(c, "Invalid client ID")
                return
            target = lookup_client_by_id(cid)
            if target is not None:
                lines.append(net.cat_client_info_string(target) + "\n")
        text = "".join(lines)
    elif argc != 2:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    else:
        text = net.get_all_clients_info_string()
    net.add_reply_verbatim(c, text.encode("utf-8", "surrogateescape"))


def client_reply_command(c: net.Client) -> None:
    """CLIENT REPLY ON|OFF|SKIP.  OFF and SKIP send nothing back (that is their point);
    SKIP_NEXT turns into SKIP for the following command (see networking.reset_client)."""
    mode = c.argv[2].lower()
    if mode == b"on":
        c.flags &= ~(net.CLIENT_REPLY_SKIP | net.CLIENT_REPLY_OFF)
        net.add_reply(c, shared.ok)
    elif mode == b"off":
        c.flags |= net.CLIENT_REPLY_OFF
    elif mode == b"skip":
        if not c.flags & net.CLIENT_REPLY_OFF:
            c.flags |= net.CLIENT_REPLY_SKIP_NEXT
    else:
        net.add_reply_error_object(c, shared.syntaxerr)


def client_no_evict_command(c: net.Client) -> None:
    """CLIENT NO-EVICT ON|OFF: exempt this connection from client eviction."""
    mode = c.argv[2].lower()
    if mode == b"on":
        c.flags |= net.CLIENT_NO_EVICT
    elif mode == b"off":
        c.flags &= ~net.CLIENT_NO_EVICT
    else:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    net.add_reply(c, shared.ok)


def client_kill_command(c: net.Client) -> None:
    """CLIENT KILL addr (old form: replies OK or 'No such client', may kill the caller)
    or CLIENT KILL <filter> <value> ... (new form: replies the number killed; the caller
    is spared unless SKIPME no)."""
    argv = c.argv
    argc = len(argv)
    addr = laddr = user = None
    ctype = -1
    cid = 0
    skipme = True
    if argc == 3:
        addr = argv[2]
        skipme = False
    else:
        i = 2
        while i < argc:
            opt = argv[i].lower()
            if i + 1 >= argc:
                net.add_reply_error_object(c, shared.syntaxerr)
                return
            val = argv[i + 1]
            if opt == b"id":
                v = util.string2ll(val)
                if v is None or v < 1:
                    net.add_reply_error(c, "client-id should be greater than 0")
                    return
                cid = v
            elif opt == b"type":
                ctype = get_client_type_by_name(val)
                if ctype == -1:
                    net.add_reply_error(c, "Unknown client type '%s'" % val.decode(
                        errors="replace"))
                    return
            elif opt == b"addr":
                addr = val
            elif opt == b"laddr":
                laddr = val
            elif opt == b"user":
                if not _user_exists(val):
                    net.add_reply_error(c, "No such user '%s'" % val.decode(errors="replace"))
                    return
                user = val.decode(errors="replace")
            elif opt == b"skipme":
                v = val.lower()
                if v == b"yes":
                    skipme = True
                elif v == b"no":
                    skipme = False
                else:
                    net.add_reply_error_object(c, shared.syntaxerr)
                    return
            else:
                net.add_reply_error_object(c, shared.syntaxerr)
                return
            i += 2
    addr_s = addr.decode(errors="replace") if addr is not None else None
    laddr_s = laddr.decode(errors="replace") if laddr is not None else None
    killed = 0
    close_self = False
    for target in list(server.clients.values()):
        if addr_s is not None and target.addr != addr_s:
            continue
        if laddr_s is not None and target.laddr != laddr_s:
            continue
        if ctype != -1 and net.get_client_type(target) != ctype:
            continue
        if cid and target.id != cid:
            continue
        if user is not None and _client_user_name(target) != user:
            continue
        if target is c:
            if skipme:
                continue
            close_self = True
        else:
            net.free_client(target)
        killed += 1
    if argc == 3:
        if killed == 0:
            net.add_reply_error(c, "No such client")
        else:
            net.add_reply(c, shared.ok)
    else:
        net.add_reply_long_long(c, killed)
    if close_self:
        # Only after the reply is queued: the client still gets it, then is closed.
        c.flags |= net.CLIENT_CLOSE_AFTER_REPLY


def client_unblock_command(c: net.Client) -> None:
    """CLIENT UNBLOCK id [TIMEOUT|ERROR]: wake a client blocked in BLPOP & co as if its
    timeout fired (or with an -UNBLOCKED error).  1 if a client was unblocked, else 0."""
    argv = c.argv
    if len(argv) > 4:
        net.add_reply_subcommand_syntax_error(c)
        return
    unblock_error = False
    if len(argv) == 4:
        how = argv[3].lower()
        if how == b"error":
            unblock_error = True
        elif how != b"timeout":
            net.add_reply_error(c, "CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
            return
    cid = util.string2ll(argv[2])
    if cid is None:
        net.add_reply_error(c, shared.NOT_INTEGER)
        return
    target = lookup_client_by_id(cid)
    blocked = _blocked_module()
    # A client postponed by CLIENT PAUSE is not waiting on keys: nothing to unblock.
    if target is None or blocked is None or not target.flags & net.CLIENT_BLOCKED or \
            target.postponed:
        net.add_reply(c, shared.czero)
        return
    if unblock_error:
        net.add_reply_error(target, "-UNBLOCKED client unblocked via CLIENT UNBLOCK")
    else:
        blocked.reply_to_blocked_client_timed_out(target)
    blocked.unblock_client(target)
    # As in Redis 7.0, the interrupted command counts as failed in INFO commandstats.
    blocked.update_stats_on_unblock(target, 0, 0, True)
    net.add_reply(c, shared.cone)


def _blocked_module():
    """blocked.py, if it provides unblockClient/replyToBlockedClientTimedOut yet."""
    try:
        from tracered import blocked
    except ImportError:
        return None
    if all(hasattr(blocked, f) for f in ("unblock_client", "reply_to_blocked_client_timed_out",
                                         "update_stats_on_unblock")):
        return blocked
    return None


def client_setname_command(c: net.Client) -> None:
    if client_set_name_or_reply(c, c.argv[2]):
        net.add_reply(c, shared.ok)


def client_getname_command(c: net.Client) -> None:
    net.add_reply_bulk_or_null(c, c.name)


def client_pause_command(c: net.Client) -> None:
    """CLIENT PAUSE timeout [WRITE|ALL]: postpone other clients' commands (all of them, or
    only those that may write) for timeout milliseconds."""
    argv = c.argv
    if len(argv) > 4:
        net.add_reply_subcommand_syntax_error(c)
        return
    ptype = CLIENT_PAUSE_ALL
    if len(argv) == 4:
        mode = argv[3].lower()
        if mode == b"write":
            ptype = CLIENT_PAUSE_WRITE
        elif mode != b"all":
            net.add_reply_error(c, "CLIENT PAUSE mode must be WRITE or ALL")
            return
    tval = util.string2ll(argv[2])
    if tval is None:
        net.add_reply_error(c, "timeout is not an integer or out of range")
        return
    if tval < 0:
        net.add_reply_error(c, shared.TIMEOUT_NEGATIVE)
        return
    # A zero timeout is an end time already past: like Redis, it pauses nobody (but can
    # still raise an existing pause from WRITE to ALL).
    if tval > 0 or server.client_pause_type != CLIENT_PAUSE_OFF:
        end = int(time.time() * 1000) + tval if tval > 0 else 0
        server_module.pause_clients(ptype, end)
    net.add_reply(c, shared.ok)


def client_unpause_command(c: net.Client) -> None:
    """CLIENT UNPAUSE: end the pause now; the postponed commands run from beforeSleep."""
    global _unpause_pending
    server.client_pause_type = CLIENT_PAUSE_OFF
    server.client_pause_end_time = 0
    if server.postponed_clients:
        _unpause_pending = True
    net.add_reply(c, shared.ok)


_unpause_pending = False


def _release_postponed(srv: server_module.Server) -> None:
    """beforeSleep hook: after CLIENT UNPAUSE, re-run the commands the pause held back
    (unless a new pause began meanwhile; its end releases them)."""
    global _unpause_pending
    if not _unpause_pending:
        return
    _unpause_pending = False
    if srv.client_pause_type == CLIENT_PAUSE_OFF:
        server_module.unpause_clients()


def init(srv: server_module.Server) -> None:
    """Called once at startup (server.init_server)."""
    srv.before_sleep_hooks.append(_release_postponed)


# --------------------------------------------------------------------------------------------
# MONITOR (server.c)
# --------------------------------------------------------------------------------------------

def monitor_command(c: net.Client) -> None:
    """MONITOR: from now on this connection receives every command the server runs
    (call() feeds server.monitors through replicationFeedMonitors)."""
    blocked = _blocked_module()
    deny = blocked.client_deny_blocking(c) if blocked is not None else \
        c.flags & (net.CLIENT_MULTI | net.CLIENT_SCRIPT) or server.in_exec
    if deny:
        # CLIENT_DENY_BLOCKING: a transaction or a script expects one reply per command,
        # which a monitor stream is not.
        net.add_reply_error(c, "MONITOR isn't allowed for DENY BLOCKING client")
        return
    if c.flags & net.CLIENT_SLAVE:
        return  # already a replica or a monitor: ignored, no reply
    c.flags |= net.CLIENT_SLAVE | net.CLIENT_MONITOR
    server.monitors.append(c)
    net.add_reply(c, shared.ok)


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

_CONN = "noscript loading stale sentinel"
# CLIENT KILL's new-style filters: any number of them, each optional.
_KILL_FILTER = ("<[ID client-id] | [TYPE NORMAL|MASTER|SLAVE|REPLICA|PUBSUB] | "
                "[USER username] | [ADDR ip:port] | [LADDR ip:port] | [SKIPME yes/no]>")
_ADMIN = "admin noscript loading stale sentinel"


def _client_sub(name, proc, arity, flags, **kw):
    kw.setdefault("acl", "connection")
    kw.setdefault("group", "connection")
    return sub(name, proc, arity, flags, **kw)


COMMANDS = [
    cmd("client", None, -2, "sentinel", group="connection", since="2.4.0",
        complexity="Depends on subcommand.",
        summary="A container for client connection commands",
        subcommands=[
            _client_sub("getname", client_getname_command, 2, _CONN, since="2.6.9",
                        summary="Get the current connection name"),
            _client_sub("caching", tracking.client_caching_command, 3, _CONN, since="6.0.0",
                        summary="Instruct the server about tracking or not keys in the next "
                                "request", args="YES|NO"),
            _client_sub("getredir", tracking.client_getredir_command, 2, _CONN, since="6.0.0",
                        summary="Get tracking notifications redirection client ID if any"),
            _client_sub("help", client_help_command, 2, "loading stale sentinel",
                        since="5.0.0",
                        summary="Show helpful text about the different subcommands"),
            _client_sub("id", client_id_command, 2, _CONN, since="5.0.0",
                        summary="Returns the client ID for the current connection"),
            _client_sub("info", client_info_command, 2, _CONN, since="6.2.0",
                        tips="nondeterministic_output",
                        summary="Returns information about the current client connection."),
            _client_sub("kill", client_kill_command, -3, _ADMIN, since="2.4.0",
                        complexity="O(N) where N is the number of client connections",
                        summary="Kill the connection of a client",
                        args=f"<ip:port | {_KILL_FILTER} [{_KILL_FILTER} ...]>"),
            _client_sub("list", client_list_command, -2, _ADMIN, since="2.4.0",
                        complexity="O(N) where N is the number of client connections",
                        tips="nondeterministic_output",
                        summary="Get the list of client connections",
                        args="[TYPE NORMAL|MASTER|REPLICA|PUBSUB] "
                             "[ID client-id [client-id ...]]"),
            _client_sub("no-evict", client_no_evict_command, 3, _ADMIN, since="7.0.0",
                        summary="Set client eviction mode for the current connection",
                        args="ON|OFF"),
            _client_sub("pause", client_pause_command, -3, _ADMIN, since="2.9.50",
                        summary="Stop processing commands from clients for some time",
                        args="timeout [WRITE|ALL]"),
            _client_sub("reply", client_reply_command, 3, _CONN, since="3.2.0",
                        summary="Instruct the server whether to reply to commands",
                        args="ON|OFF|SKIP"),
            _client_sub("setname", client_setname_command, 3, _CONN, since="2.6.9",
                        summary="Set the current connection name", args="connection-name"),
            _client_sub("tracking", tracking.client_tracking_command, -3, _CONN,
                        since="6.0.0", complexity="O(1). Some options may introduce "
                        "additional complexity.",
                        summary="Enable or disable server assisted client side caching "
                                "support",
                        args="ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] "
                             "[BCAST] [OPTIN] [OPTOUT] [NOLOOP]"),
            _client_sub("trackinginfo", tracking.client_trackinginfo_command, 2, _CONN,
                        since="6.2.0",
                        summary="Return information about server assisted client side "
                                "caching for the current connection"),
            _client_sub("unblock", client_unblock_command, -3, _ADMIN, since="5.0.0",
                        complexity="O(log N) where N is the number of client connections",
                        summary="Unblock a client blocked in a blocking command from a "
                                "different connection",
                        args="client-id [TIMEOUT|ERROR]"),
            _client_sub("unpause", client_unpause_command, 2, _ADMIN, since="6.2.0",
                        complexity="O(N) Where N is the number of paused clients",
                        summary="Resume processing of clients that were paused"),
        ]),
    cmd("monitor", monitor_command, 1, "admin noscript loading stale", group="server",
        complexity="",
        summary="Listen for all requests received by the server in real time"),
]
