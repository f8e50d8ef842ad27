"""Connection and server commands implemented in server.c and networking.c:
PING ECHO QUIT RESET HELLO AUTH SELECT TIME SHUTDOWN.

INFO, COMMAND, CONFIG, CLIENT, DEBUG and friends live in their own modules (info.py,
command_cmd.py ...), each declaring its rows of the command table.
"""

from __future__ import annotations

import time

from tracered import REDIS_VERSION, shared
from tracered import networking as net
from tracered.commands import cmd
from tracered.server import server


def ping_command(c: net.Client) -> None:
    """PING [message]: +PONG, or the message as a bulk; in RESP2 pubsub context an array."""
    if len(c.argv) > 2:
        net.add_reply_error_arity(c)
        return
    if c.flags & net.CLIENT_PUBSUB and c.resp == 2:
        net.add_reply(c, b"*2\r\n$4\r\npong\r\n")
        net.add_reply_bulk(c, c.argv[1] if len(c.argv) == 2 else b"")
    elif len(c.argv) == 1:
        net.add_reply(c, shared.pong)
    else:
        net.add_reply_bulk(c, c.argv[1])


def echo_command(c: net.Client) -> None:
    net.add_reply_bulk(c, c.argv[1])


def quit_command(c: net.Client) -> None:
    """QUIT: +OK, then close once the reply is written."""
    net.add_reply(c, shared.ok)
    c.flags |= net.CLIENT_CLOSE_AFTER_REPLY


def time_command(c: net.Client) -> None:
    now = time.time()
    sec = int(now)
    usec = int((now - sec) * 1_000_000)
    net.add_reply_array_len(c, 2)
    net.add_reply_bulk(c, str(sec).encode())
    net.add_reply_bulk(c, str(usec).encode())


def select_command(c: net.Client) -> None:
    """SELECT index."""
    try:
        idx = int(c.argv[1])
        if str(idx).encode() != c.argv[1].lstrip(b"+") and c.argv[1] != b"-0":
            raise ValueError
    except ValueError:
        net.add_reply_error(c, shared.NOT_INTEGER)
        return
    if idx < 0 or idx >= server.databases:
        net.add_reply_error(c, shared.DB_INDEX_OUT_OF_RANGE)
        return
    c.db = server.db[idx]
    net.add_reply(c, shared.ok)


def check_password(username: bytes, password: bytes) -> bool:
    """ACLCheckUserCredentials (acl.py): the user exists, is on, and the password fits."""
    from tracered import acl

    return acl.acl_check_user_credentials(username, password)


def authenticate_user(c: net.Client, username: bytes, password: bytes) -> bool:
    """ACLAuthenticateUser (acl.py): bind the client to the user, or log the failure."""
    from tracered import acl

    return acl.acl_authenticate_user(c, username, password)


def auth_command(c: net.Client) -> None:
    """AUTH [username] password."""
    argv = c.argv
    # Never show passwords to MONITOR or SLOWLOG.
    for i in range(1, len(argv)):
        net.redact_client_command_argument(c, i)
    if len(argv) > 3:
        net.add_reply(c, shared.syntaxerr)
        return
    if len(argv) == 2:
        if not server.default_user_requires_auth:
            net.add_reply_error(c, "AUTH <password> called without any password configured for "
                                   "the default user. Are you sure your configuration is "
                                   "correct?")
            return
        user, pw = b"default", argv[1]
    else:
        user, pw = argv[1], argv[2]
    if authenticate_user(c, user, pw):
        net.add_reply(c, shared.ok)
    else:
        net.add_reply_error(c, "-" + shared.INVALID_PASSWORD)


def hello_command(c: net.Client) -> None:
    """HELLO [protover [AUTH username password] [SETNAME clientname]]."""
    argv = c.argv
    ver = 0
    j = 1
    if len(argv) >= 2:
        try:
            ver = int(argv[1])
        except ValueError:
            net.add_reply_error(c, "Protocol version is not an integer or out of range")
            return
        j = 2
        if ver < 2 or ver > 3:
            net.add_reply_error(c, "-NOPROTO unsupported protocol version")
            return
    clientname = None
    while j < len(argv):
        opt = argv[j].lower()
        more = len(argv) - j - 1
        if opt == b"auth" and more >= 2:
            net.redact_client_command_argument(c, j + 1)
            net.redact_client_command_argument(c, j + 2)
            if not authenticate_user(c, argv[j + 1], argv[j + 2]):
                net.add_reply_error(c, "-" + shared.INVALID_PASSWORD)
                return
            j += 3
        elif opt == b"setname" and more >= 1:
            clientname = argv[j + 1]
            if not valid_client_name(clientname):
                net.add_reply_error(c, "Client names cannot contain spaces, newlines or special "
                                       "characters.")
                return
            j += 2
        else:
            net.add_reply_error(c, "Syntax error in HELLO option '%s'"
                                % argv[j].decode(errors="replace"))
            return
    if not c.authenticated:
        net.add_reply_error(c, "-NOAUTH HELLO must be called with the client already "
                               "authenticated, otherwise the HELLO <proto> AUTH <user> <pass> "
                               "option can be used to authenticate the client and select the "
                               "RESP protocol version at the same time")
        return
    if clientname is not None:
        c.name = clientname or None
    if ver:
        c.resp = ver
    net.add_reply_map_len(c, 7)
    pairs = [
        (b"server", b"redis"), (b"version", REDIS_VERSION.encode()),
    ]
    for k, v in pairs:
        net.add_reply_bulk(c, k)
        net.add_reply_bulk(c, v)
    net.add_reply_bulk(c, b"proto")
    net.add_reply_long_long(c, c.resp)
    net.add_reply_bulk(c, b"id")
    net.add_reply_long_long(c, c.id)
    net.add_reply_bulk(c, b"mode")
    net.add_reply_bulk(c, b"standalone")
    net.add_reply_bulk(c, b"role")
    net.add_reply_bulk(c, b"replica" if server.masterhost else b"master")
    net.add_reply_bulk(c, b"modules")
    net.add_reply_array_len(c, 0)


def valid_client_name(name: bytes) -> bool:
    """validateClientName: printable ASCII without spaces."""
    return all(33 <= ch <= 126 for ch in name)


def reset_command(c: net.Client) -> None:
    """RESET: back to a fresh connection's state (db 0, RESP2, no MULTI/pubsub/name)."""
    for hook in RESET_HOOKS:
        hook(c)
    c.db = server.db[0]
    c.resp = 2
    c.name = None
    c.flags &= ~(net.CLIENT_REPLY_OFF | net.CLIENT_REPLY_SKIP | net.CLIENT_REPLY_SKIP_NEXT |
                 net.CLIENT_ASKING | net.CLIENT_READONLY)
    c.user = "default"  # clientSetDefaultAuth
    c.authenticated = not server.default_user_requires_auth
    net.add_reply_status(c, "RESET")


RESET_HOOKS: list = []  # multi.py (discard), pubsub.py (unsubscribe all), tracking


# Same bits as server.h (and config.py's shutdown-on-sig* values).
from tracered.config import SHUTDOWN_FORCE, SHUTDOWN_NOSAVE, SHUTDOWN_NOW, SHUTDOWN_SAVE  # noqa: E402,I001


def shutdown_command(c: net.Client) -> None:
    """SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]."""
    from tracered import server as server_module

    flags = 0
    abort = False
    for a in c.argv[1:]:
        a = a.lower()
        if a == b"nosave":
            flags |= SHUTDOWN_NOSAVE
        elif a == b"save":
            flags |= SHUTDOWN_SAVE
        elif a == b"now":
            flags |= SHUTDOWN_NOW
        elif a == b"force":
            flags |= SHUTDOWN_FORCE
        elif a == b"abort":
            abort = True
        else:
            net.add_reply(c, shared.syntaxerr)
            return
    if (abort and flags) or (flags & SHUTDOWN_NOSAVE and flags & SHUTDOWN_SAVE):
        net.add_reply(c, shared.syntaxerr)
        return
    if abort:
        net.add_reply_error(c, "No shutdown in progress.")
        return
    if getattr(server, "script_timedout", False) and not flags & SHUTDOWN_NOSAVE:
        # During a busy script only SHUTDOWN NOSAVE may stop the server (the dataset may
        # be half-modified, so it must not be saved).
        net.add_reply_error_object(c, shared.slowevalerr)
        return
    if server_module.prepare_for_shutdown(flags):
        server.el.stop = True
        server.exit_code = 0
        # Redis exits without replying: the client sees the connection close.
        c.flags |= net.CLIENT_CLOSE_ASAP
        return
    net.add_reply_error(c, "Errors trying to SHUTDOWN. Check logs.")


COMMANDS = [
    cmd("ping", ping_command, -1, "fast sentinel", acl="connection", group="connection",
        summary="Ping the server", args="[message]"),
    cmd("echo", echo_command, 2, "fast", acl="connection", group="connection",
        summary="Echo the given string", args="message"),
    cmd("quit", quit_command, -1, "allow_busy noscript loading stale fast no_auth",
        acl="connection", group="connection", summary="Close the connection"),
    cmd("reset", reset_command, 1, "noscript loading stale fast no_auth allow_busy",
        acl="connection", group="connection", since="6.2.0",
        summary="Reset the connection"),
    cmd("time", time_command, 1, "loading stale fast", acl="fast", group="server",
        since="2.6.0", summary="Return the current server time", tips="nondeterministic_output"),
    cmd("select", select_command, 2, "loading stale fast", acl="connection", group="connection",
        summary="Change the selected database for the current connection", args="index"),
    cmd("auth", auth_command, -2, "noscript loading stale fast no_auth sentinel allow_busy",
        acl="connection", group="connection", summary="Authenticate to the server",
        args="[username] password"),
    cmd("hello", hello_command, -1, "noscript loading stale fast no_auth sentinel allow_busy",
        acl="connection", group="connection", since="6.0.0",
        summary="Handshake with Redis",
        args="[protover [AUTH username password] [SETNAME clientname]]"),
    cmd("shutdown", shutdown_command, -1,
        "admin noscript loading stale no_multi sentinel allow_busy", group="server",
        summary="Synchronously save the dataset to disk and then shut down the server",
        args="[NOSAVE|SAVE] [NOW] [FORCE] [ABORT]"),
]
