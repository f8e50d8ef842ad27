"""Clients, reading queries and writing replies: the mirror of networking.c.

Path of a request (names as in Redis)::

    acceptTcpHandler -> createClient            a Client per connection, read handler armed
    readQueryFromClient                         recv() into the query buffer
      processInputBuffer                        one command at a time (resp.py parses)
        processCommand (server.py)              checks, then call() runs the command proc
    addReply* (here)                            append to the client's reply list and queue
                                                the client in clients_pending_write
    beforeSleep -> handleClientsWithPendingWrites
      writeToClient                             one send() of everything queued; a write
                                                handler is armed only if the socket is full

Writing replies in beforeSleep rather than at once is what lets a pipeline of 16 commands
turn into one send() call, the single largest saving of Redis's design.

Divergence: Redis keeps a 16 KB static buffer plus a list of reply blocks per client; here a
client's pending reply is a Python list of byte strings joined once at write time, which is
the cheap way to batch in Python.  ``reply_bytes`` tracks its size for the output buffer
limits and CLIENT LIST's omem.
"""

from __future__ import annotations

import socket
import time

from tracered import shared
from tracered.ae import AE_BARRIER, AE_READABLE, AE_WRITABLE
from tracered.resp import (
    MultibulkState,
    ProtocolError,
    parse_canonical_pipeline,
    parse_inline,
    parse_multibulk,
)
from tracered.trace.probes import probe

# Client flags (server.h). Same bits, so a learner can compare with CLIENT LIST output.
CLIENT_SLAVE = 1 << 0
CLIENT_MASTER = 1 << 1
CLIENT_MONITOR = 1 << 2
CLIENT_MULTI = 1 << 3
CLIENT_BLOCKED = 1 << 4
CLIENT_DIRTY_CAS = 1 << 5
CLIENT_CLOSE_AFTER_REPLY = 1 << 6
CLIENT_UNBLOCKED = 1 << 7
CLIENT_SCRIPT = 1 << 8
CLIENT_ASKING = 1 << 9
CLIENT_CLOSE_ASAP = 1 << 10
CLIENT_UNIX_SOCKET = 1 << 11
CLIENT_DIRTY_EXEC = 1 << 12
CLIENT_MASTER_FORCE_REPLY = 1 << 13
CLIENT_FORCE_AOF = 1 << 14
CLIENT_FORCE_REPL = 1 << 15
CLIENT_PRE_PSYNC = 1 << 16
CLIENT_READONLY = 1 << 17
CLIENT_PUBSUB = 1 << 18
CLIENT_PREVENT_AOF_PROP = 1 << 19
CLIENT_PREVENT_REPL_PROP = 1 << 20
CLIENT_PENDING_WRITE = 1 << 21
CLIENT_REPLY_OFF = 1 << 22
CLIENT_REPLY_SKIP_NEXT = 1 << 23
CLIENT_REPLY_SKIP = 1 << 24
CLIENT_LUA_DEBUG = 1 << 25
CLIENT_TRACKING = 1 << 31
CLIENT_TRACKING_BROKEN_REDIR = 1 << 32  # the REDIRECT target went away
CLIENT_TRACKING_BCAST = 1 << 33         # tracking.py: broadcasting mode
CLIENT_TRACKING_OPTIN = 1 << 34
CLIENT_TRACKING_OPTOUT = 1 << 35
CLIENT_TRACKING_CACHING = 1 << 36       # CLIENT CACHING yes|no for the next command
CLIENT_TRACKING_NOLOOP = 1 << 37
CLIENT_PROTOCOL_ERROR = 1 << 39
CLIENT_NO_EVICT = 1 << 43

# Client types for output buffer limits (client-output-buffer-limit classes).
CLIENT_TYPE_NORMAL = 0
CLIENT_TYPE_SLAVE = 1
CLIENT_TYPE_PUBSUB = 2
CLIENT_TYPE_MASTER = 3

PROTO_IOBUF_LEN = 1024 * 16
# How much one read asks for.  Redis reads 16 KB (more for a known big argument); a
# bigger read here saves Python-level iterations of the event loop for pipelines.
READ_LEN = 1024 * 64
NET_MAX_WRITES_PER_EVENT = 1024 * 64

# The global server state (Redis's `server`), assigned by tracered.server (on import and
# again in init_server, in case this module finished importing after it).
server = None



class Client:
    """client (server.h): one connection's state."""

    __slots__ = (
        "id", "conn", "fd", "addr", "laddr", "name", "db", "resp", "flags", "querybuf",
        "qb_need", "argv", "cmd", "lastcmd", "reply", "reply_bytes", "authenticated",
        "user", "ctime", "lastinteraction", "mstate", "bpop", "btype", "woff",
        "pubsub_channels", "pubsub_patterns", "obuf_soft_limit_reached_time", "peerid",
        "read_reploff", "reploff", "repl_ack_off", "repl_ack_time", "replstate",
        "slave_listening_port", "slave_addr", "slave_capa", "psync_initial_offset",
        "replpreamble", "repldbfd", "repldboff", "repldbsize", "trace_parent", "argv_len_sum",
        "postponed", "paused_reads", "tracking", "client_cron_last_memory", "mbulk",
        "original_argv", "pubsubshard_channels",
    )

    def __init__(self, conn: socket.socket | None) -> None:
        self.id = server.next_client_id
        server.next_client_id += 1
        self.conn = conn
        self.fd = conn.fileno() if conn is not None else -1
        self.addr = ""
        self.laddr = ""
        self.name: bytes | None = None
        self.db = server.db[0]
        self.resp = 2
        self.flags = 0
        self.querybuf = bytearray()
        self.qb_need = 0            # don't re-parse until the buffer is this long
        self.mbulk = MultibulkState()  # a half-received multibulk command (resp.py)
        self.argv: list[bytes] = []
        self.original_argv: list[bytes] | None = None  # argv as sent, when rewritten
        self.argv_len_sum = 0
        self.cmd = None
        self.lastcmd = None
        self.reply: list[bytes] = []
        self.reply_bytes = 0
        # clientSetDefaultAuth (acl.py keeps default_user_requires_auth in step with the
        # default user's nopass/off flags).
        self.authenticated = not server.default_user_requires_auth
        self.user = "default"
        now = time.time()
        self.ctime = now
        self.lastinteraction = now
        self.mstate = None          # multi.py's MultiState while in MULTI
        self.bpop = None            # blocking state (blocked.py)
        self.btype = 0
        self.woff = 0
        self.pubsub_channels: dict = {}
        self.pubsub_patterns: dict = {}
        self.pubsubshard_channels: dict = {}   # SSUBSCRIBE channels (pubsub.py)
        self.obuf_soft_limit_reached_time = 0
        self.peerid = ""
        self.read_reploff = 0
        self.reploff = 0
        self.repl_ack_off = 0
        self.repl_ack_time = 0
        self.replstate = 0
        self.slave_listening_port = 0
        self.slave_addr = None
        self.slave_capa = 0
        self.psync_initial_offset = 0
        self.replpreamble = None
        self.repldbfd = None
        self.repldboff = 0
        self.repldbsize = 0
        self.trace_parent = None    # W3C traceparent for the next command (CLIENT TRACEPARENT)
        self.postponed = False
        self.paused_reads = False
        self.tracking = None        # tracking.ClientTracking while CLIENT TRACKING is on
        self.client_cron_last_memory = 0

    def __repr__(self) -> str:
        return f"<client id={self.id} addr={self.addr}>"


# --------------------------------------------------------------------------------------------
# Client creation and destruction
# --------------------------------------------------------------------------------------------

@probe("createClient")
def create_client(conn: socket.socket | None) -> Client:
    """createClient: a Client for a connection (or a fake one with ``conn=None``, used for
    Lua, AOF loading and the master link before it has a socket)."""
    c = Client(conn)
    if conn is not None:
        conn.setblocking(False)
        try:
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass  # unix sockets have no Nagle
        try:
            peer = conn.getpeername()
            c.addr = f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) else "/unixsocket:0"
            local = conn.getsockname()
            c.laddr = f"{local[0]}:{local[1]}" if isinstance(local, tuple) else str(local)
        except OSError:
            pass
        server.el.create_file_event(c.fd, AE_READABLE, read_query_from_client, c)
        server.clients[c.id] = c
    return c


def free_client(c: Client) -> None:
    """freeClient: unlink the client from every server structure and close its socket."""
    if c.flags & CLIENT_CLOSE_ASAP and c in server.clients_to_close:
        server.clients_to_close.remove(c)
    if c is server.current_client:
        # Like Redis: a client freed while its command runs is closed after the command.
        c.flags |= CLIENT_CLOSE_ASAP
        if c not in server.clients_to_close:
            server.clients_to_close.append(c)
        return
    for hook in server.free_client_hooks:
        hook(c)
    if c.conn is not None:
        server.el.delete_file_event(c.fd, AE_READABLE | AE_WRITABLE)
        try:
            c.conn.close()
        except OSError:
            pass
        c.conn = None
    server.clients.pop(c.id, None)
    if c.flags & CLIENT_PENDING_WRITE:
        c.flags &= ~CLIENT_PENDING_WRITE
        try:
            server.clients_pending_write.remove(c)
        except ValueError:
            pass
    if c.flags & CLIENT_MONITOR:
        try:
            server.monitors.remove(c)
        except ValueError:
            pass


def free_client_async(c: Client) -> None:
    """freeClientAsync: close at the next beforeSleep (safe from inside a command)."""
    if c.flags & CLIENT_CLOSE_ASAP:
        return
    c.flags |= CLIENT_CLOSE_ASAP
    server.clients_to_close.append(c)


def free_clients_in_async_free_queue() -> None:
    while server.clients_to_close:
        c = server.clients_to_close.pop()
        c.flags &= ~CLIENT_CLOSE_ASAP
        if c is server.current_client:
            continue
        free_client(c)


# --------------------------------------------------------------------------------------------
# Accepting connections
# --------------------------------------------------------------------------------------------

MAX_ACCEPTS_PER_CALL = 1000


@probe("acceptTcpHandler")
def accept_tcp_handler(el, fd: int, lsock: socket.socket, mask: int) -> None:
    """acceptTcpHandler: accept up to MAX_ACCEPTS_PER_CALL pending connections."""
    for _ in range(MAX_ACCEPTS_PER_CALL):
        try:
            conn, addr = lsock.accept()
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            server.log_warning(f"Accepting client connection: {e}")
            return
        accept_common_handler(conn, addr)


def accept_common_handler(conn: socket.socket, addr) -> None:
    """acceptCommonHandler: maxclients, protected mode, then createClient."""
    if len(server.clients) >= server.maxclients:
        try:
            conn.send(b"-ERR max number of clients reached\r\n")
        finally:
            conn.close()
        server.stat_rejected_conn += 1
        return
    c = create_client(conn)
    server.stat_numconnections += 1
    if server.protected_mode and not server.requirepass and server.bind_is_default \
            and not _is_loopback(addr):
        add_reply(c, b"-DENIED Redis is running in protected mode because protected mode is "
                     b"enabled and no password is set for the default user. Connect from "
                     b"the loopback interface or set a password.\r\n")
        c.flags |= CLIENT_CLOSE_AFTER_REPLY


def _is_loopback(addr) -> bool:
    if not isinstance(addr, tuple):
        return True  # unix socket
    host = addr[0]
    return host.startswith("127.") or host == "::1" or host.startswith("::ffff:127.")


# --------------------------------------------------------------------------------------------
# Reading and parsing queries
# --------------------------------------------------------------------------------------------

@probe("readQueryFromClient")
def read_query_from_client(el, fd: int, c: Client, mask: int) -> None:
    """readQueryFromClient: one recv() into the query buffer, then processInputBuffer."""
    try:
        data = c.conn.recv(READ_LEN)
    except (BlockingIOError, InterruptedError):
        return
    except OSError as e:
        server.log_verbose(f"Reading from client: {e}")
        free_client(c)
        return
    if not data:
        server.log_verbose("Client closed connection")
        free_client(c)
        return
    server.stat_net_input_bytes += len(data)
    c.lastinteraction = server.unixtime
    if c.flags & CLIENT_MASTER:
        c.read_reploff += len(data)
    qb = c.querybuf
    qb += data
    if len(qb) > server.client_query_buffer_limit and not (c.flags & CLIENT_MASTER):
        server.log_warning(f"Closing client that reached max query buffer length: "
                           f"id={c.id} addr={c.addr} qbuf={len(qb)}")
        free_client_async(c)
        return
    if len(qb) < c.qb_need:
        return  # a known-incomplete command: parse again only when it can be whole
    process_input_buffer(c)


def auth_required(c: Client) -> bool:
    """authRequired: the client has not authenticated and the default user still wants a
    password (so it may run only no-auth commands, within the small pre-AUTH limits)."""
    return not c.authenticated and server.default_user_requires_auth


@probe("processInputBuffer")
def process_input_buffer(c: Client) -> None:
    """processInputBuffer: run every whole command in the query buffer, one at a time.

    Stops early when the client gets blocked (BLPOP, CLIENT PAUSE), is to be closed, or the
    buffer holds only part of a command.
    """
    qb = c.querybuf
    if not qb:
        return
    # Parse from an immutable snapshot: slices of bytes are bytes, usable as keys.
    buf = bytes(qb)
    pos = 0
    n = len(buf)
    srv = server
    mbulk = c.mbulk
    if buf[0] == 42 and mbulk.argv is None and not c.flags & CLIENT_MASTER and \
            not auth_required(c) and \
            not hasattr(parse_multibulk, "__probe__"):
        # Fast path (resp.py explains why it cannot change any reply): a whole pipeline of
        # well-formed commands parsed by hiredis.  Not for the master link (its offsets
        # are per applied command), nor before AUTH (Redis's small pre-auth limits), nor
        # while processMultibulkBuffer is armed (its probe must see every command).
        cmds = parse_canonical_pipeline(buf, srv.proto_max_bulk_len)
        if cmds is not None:
            try:
                for argv, end in cmds:
                    if c.flags & (CLIENT_BLOCKED | CLIENT_CLOSE_AFTER_REPLY |
                                  CLIENT_CLOSE_ASAP):
                        break
                    pos = end
                    c.qb_need = 0
                    c.argv = argv
                    srv.current_client = c
                    server_module.process_command(c)
                    srv.current_client = None
                    if c.flags & (CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT |
                                  CLIENT_TRACKING_CACHING):
                        reset_client_reply_skip(c)
            finally:
                _drop_consumed(qb, pos)
            return
    try:
        while pos < n:
            if c.flags & (CLIENT_BLOCKED | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP):
                break
            try:
                # A resumed command starts mid-way (at a '$' line): Redis's c->reqtype.
                if buf[pos] == 42 or mbulk.argv is not None:  # '*'
                    argv, npos = parse_multibulk(buf, pos, srv.proto_max_bulk_len,
                                                 auth_required(c),
                                                 c.flags & CLIENT_MASTER != 0, mbulk)
                else:
                    argv, npos = parse_inline(buf, pos, c.flags & CLIENT_MASTER != 0)
            except ProtocolError as e:
                mbulk.reset()
                if e.reply is not None:
                    add_reply_error(c, e.reply)
                set_protocol_error(c, e.reason, buf[pos:])
                if e.reply is None:
                    free_client_async(c)  # nothing to reply, so no reply to close after
                pos = n
                break
            if argv is None:
                if mbulk.argv is not None and not c.flags & CLIENT_MASTER:
                    # Arguments already parsed live in mbulk.argv: drop their bytes so the
                    # next read does not copy them again (the master link keeps its stream
                    # whole, like Redis, for the offsets of what it applied).
                    pos += mbulk.offset
                    mbulk.offset = 0
                c.qb_need = npos - pos
                break
            c.qb_need = 0
            if c.flags & CLIENT_MASTER:
                # The master's stream offset advances per applied command (reploff), not
                # per read, so a partial command is never counted.
                c.reploff = c.read_reploff - (n - npos)
            pos = npos
            if not argv:
                continue  # "*0" or an empty inline line: nothing to run
            c.argv = argv
            srv.current_client = c
            server_module.process_command(c)
            srv.current_client = None
            if c.flags & (CLIENT_REPLY_SKIP | CLIENT_REPLY_SKIP_NEXT | CLIENT_TRACKING_CACHING):
                reset_client_reply_skip(c)
            if c.flags & CLIENT_MASTER and not (c.flags & CLIENT_BLOCKED):
                srv.replication_master_applied(c)
    finally:
        _drop_consumed(qb, pos)


def _drop_consumed(qb: bytearray, pos: int) -> None:
    """Drop what was consumed; the unparsed tail (part of a command) moves to the front."""
    if pos >= len(qb):
        qb.clear()
    elif pos:
        del qb[:pos]


def reset_client_reply_skip(c: Client) -> None:
    """The CLIENT REPLY SKIP half of resetClient: SKIP silences exactly one command, the
    one after CLIENT REPLY SKIP (which sets SKIP_NEXT).  A command left blocked has not
    replied yet, so it keeps the flags."""
    if c.flags & CLIENT_BLOCKED:
        return
    # CLIENT CACHING yes|no covers the next command (or MULTI ... EXEC), even a rejected one.
    if c.flags & CLIENT_TRACKING_CACHING and not c.flags & CLIENT_MULTI and \
            (c.cmd is None or (c.cmd.parent or c.cmd).name != "client"):
        c.flags &= ~CLIENT_TRACKING_CACHING
    c.flags &= ~CLIENT_REPLY_SKIP
    if c.flags & CLIENT_REPLY_SKIP_NEXT:
        c.flags = (c.flags | CLIENT_REPLY_SKIP) & ~CLIENT_REPLY_SKIP_NEXT


def rewrite_client_command_vector(c: Client, argv: list[bytes]) -> None:
    """rewriteClientCommandVector / replaceClientCommandVector: make ``argv`` the command
    that call() propagates to the AOF and the replicas (and that EXEC records).

    The reply has already been produced from the original arguments; only what happens after
    the proc returns sees the new vector.  MONITOR and SLOWLOG still show what the client
    sent (``original_argv``).  c.cmd follows argv[0] as in Redis.
    """
    from tracered import commands as cmdmod

    if c.original_argv is None:
        c.original_argv = c.argv
    c.argv = argv
    c.argv_len_sum = sum(len(a) for a in argv)
    newcmd = cmdmod.lookup_command_by_name(argv[0])
    if newcmd is not None:
        c.cmd = newcmd


def redact_client_command_argument(c: Client, i: int) -> None:
    """redactClientCommandArgument: MONITOR and SLOWLOG show "(redacted)" for a secret
    (AUTH's password) while the command itself still sees the real argument."""
    if c.original_argv is None:
        c.original_argv = list(c.argv)
    else:
        c.original_argv = list(c.original_argv)
    if i < len(c.original_argv):
        c.original_argv[i] = b"(redacted)"


def rewrite_client_command_argument(c: Client, i: int, val: bytes) -> None:
    """rewriteClientCommandArgument: replace (or append, when i == argc) one argument."""
    argv = list(c.argv)
    if i >= len(argv):
        argv.extend([b""] * (i + 1 - len(argv)))
    argv[i] = val
    rewrite_client_command_vector(c, argv)


def set_protocol_error(c: Client, reason: str, rest: bytes) -> None:
    """setProtocolError: log (verbose) and close the client after the error reply."""
    sample = rest[:128].decode("latin-1")
    sample = "".join(ch if ch.isprintable() else "." for ch in sample)
    level = server.log_warning if c.flags & CLIENT_MASTER else server.log_verbose
    level(f"Protocol error ({reason}) from client: {cat_client_info_string(c)}. "
          f"Query buffer during protocol error: '{sample}'")
    c.flags |= CLIENT_CLOSE_AFTER_REPLY | CLIENT_PROTOCOL_ERROR


# --------------------------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------------------------

@probe("addReply")
def add_reply(c: Client, data: bytes) -> None:
    """addReply: queue protocol bytes for the client.

    Replies to the master link are swallowed (a replica never answers its master, except
    REPLCONF ACK which is written directly), as are replies under CLIENT REPLY OFF/SKIP.
    """
    if c.flags & (CLIENT_MASTER | CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_CLOSE_ASAP):
        if c.flags & CLIENT_MASTER and not (c.flags & CLIENT_MASTER_FORCE_REPLY):
            return
        if c.flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_CLOSE_ASAP):
            return
    c.reply.append(data)
    c.reply_bytes += len(data)
    # Fake clients (Lua, AOF loading) collect replies without a socket: nothing to queue.
    if c.conn is not None and not c.flags & CLIENT_PENDING_WRITE:
        c.flags |= CLIENT_PENDING_WRITE
        server.clients_pending_write.append(c)


# Error codes Redis sends besides ERR.  A message is sent under its own code when it starts
# with "-CODE" (Redis's convention) or with one of these words; anything else gets "ERR ",
# so a message that merely begins with a capitalised word ("DB index is out of range")
# is still an ERR, as in Redis's addReplyError.
ERROR_CODES = frozenset((
    "WRONGTYPE", "NOAUTH", "WRONGPASS", "NOPERM", "NOPROTO", "EXECABORT", "BUSY", "BUSYKEY",
    "NOSCRIPT", "LOADING", "MASTERDOWN", "MISCONF", "READONLY", "OOM", "NOREPLICAS",
    "NOTBUSY", "UNBLOCKED", "NOGROUP", "BUSYGROUP", "CROSSSLOT", "MOVED", "ASK", "TRYAGAIN",
    "CLUSTERDOWN", "UNKILLABLE", "DENIED", "NOTSUPPORTED",
))


def add_reply_error(c: Client, msg: str) -> None:
    """addReplyError: ``-ERR msg``, or ``-CODE msg`` when msg is ``-CODE ...`` or starts with a
    known error code; counted in INFO errorstats under its code."""
    explicit = msg.startswith("-")
    if explicit:
        msg = msg[1:]
    # Redis never lets a newline into an error line: it would break the protocol.
    if "\r" in msg or "\n" in msg:
        msg = msg.replace("\r", " ").replace("\n", " ")
    code = msg.split(" ", 1)[0]
    if not explicit and (code not in ERROR_CODES or code == msg):
        msg = "ERR " + msg
        code = "ERR"
    server.stat_total_error_replies += 1
    server.errors[code] = server.errors.get(code, 0) + 1
    add_reply(c, b"-" + msg.encode("utf-8", "surrogateescape") + b"\r\n")


def add_reply_error_object(c: Client, line: bytes) -> None:
    """Send a ready-made error line from shared.py (e.g. shared.wrongtypeerr), counted."""
    code = line[1:].split(b" ", 1)[0].decode()
    server.stat_total_error_replies += 1
    server.errors[code] = server.errors.get(code, 0) + 1
    add_reply(c, line)


def add_reply_error_arity(c: Client) -> None:
    add_reply_error(c, shared.WRONG_ARGS % c.cmd.fullname)


def add_reply_error_format(c: Client, fmt: str, *args) -> None:
    add_reply_error(c, fmt % args)


def add_reply_status(c: Client, s: str) -> None:
    add_reply(c, b"+" + s.encode() + b"\r\n")


@probe("addReplyBulk")
def add_reply_bulk(c: Client, data: bytes) -> None:
    """addReplyBulk: ``$<len>\\r\\n<data>\\r\\n`` with the shared header for short lengths."""
    n = len(data)
    if n < 1024:
        add_reply(c, b"".join((shared.bulkhdr[n], data, b"\r\n")))
    else:
        # One copy (join), not two: it matters for a 50 MB GET.  Copying also snapshots a
        # bytearray value that a later APPEND could change before the write.
        add_reply(c, b"".join((b"$%d\r\n" % n, data, b"\r\n")))


def bulk(data: bytes) -> bytes:
    """The protocol bytes of one bulk string (for building a reply in one piece)."""
    n = len(data)
    if n < 1024:
        return b"".join((shared.bulkhdr[n], data, b"\r\n"))
    return b"".join((b"$%d\r\n" % n, data, b"\r\n"))


def add_reply_bulk_or_null(c: Client, data: bytes | None) -> None:
    if data is None:
        add_reply(c, shared.null[c.resp])
    else:
        add_reply_bulk(c, data)


def add_reply_null(c: Client) -> None:
    add_reply(c, shared.null[c.resp])


def add_reply_null_array(c: Client) -> None:
    add_reply(c, shared.nullarray[c.resp])


def add_reply_long_long(c: Client, v: int) -> None:
    if 0 <= v < 10000:
        add_reply(c, shared.integers[v])
    else:
        add_reply(c, b":%d\r\n" % v)


def add_reply_array_len(c: Client, n: int) -> None:
    add_reply(c, shared.mbulkhdr[n] if n < 1024 else b"*%d\r\n" % n)


def add_reply_map_len(c: Client, n: int) -> None:
    if c.resp == 2:
        n *= 2
        add_reply(c, shared.mbulkhdr[n] if n < 1024 else b"*%d\r\n" % n)
    else:
        add_reply(c, shared.maphdr[n] if n < 1024 else b"%%%d\r\n" % n)


def add_reply_set_len(c: Client, n: int) -> None:
    if c.resp == 2:
        add_reply_array_len(c, n)
    else:
        add_reply(c, shared.sethdr[n] if n < 1024 else b"~%d\r\n" % n)


def add_reply_attribute_len(c: Client, n: int) -> None:
    add_reply(c, b"|%d\r\n" % n)


def add_reply_push_len(c: Client, n: int) -> None:
    """RESP3 push (pubsub messages); RESP2 clients see a plain array."""
    add_reply(c, b">%d\r\n" % n if c.resp == 3 else b"*%d\r\n" % n)


def add_reply_bool(c: Client, b: bool) -> None:
    if c.resp == 2:
        add_reply(c, shared.cone if b else shared.czero)
    else:
        add_reply(c, b"#t\r\n" if b else b"#f\r\n")


def format_double(d: float) -> bytes:
    """The text Redis 7.0 uses for doubles in replies (%.17g, with inf/-inf/nan spelled out)."""
    if d != d:
        return b"nan"
    if d == float("inf"):
        return b"inf"
    if d == float("-inf"):
        return b"-inf"
    return b"%.17g" % d


def add_reply_double(c: Client, d: float) -> None:
    """addReplyDouble: a bulk string in RESP2, a ``,`` double in RESP3."""
    s = format_double(d)
    if c.resp == 2:
        add_reply_bulk(c, s)
    else:
        add_reply(c, b"," + s + b"\r\n")


def add_reply_human_long_double(c: Client, s: bytes) -> None:
    """addReplyHumanLongDouble: INCRBYFLOAT-style text, bulk in RESP2, double in RESP3."""
    if c.resp == 2:
        add_reply_bulk(c, s)
    else:
        add_reply(c, b"," + s + b"\r\n")


def add_reply_verbatim(c: Client, text: bytes, ext: bytes = b"txt") -> None:
    """addReplyVerbatim: ``=`` verbatim string in RESP3, plain bulk in RESP2."""
    if c.resp == 2:
        add_reply_bulk(c, text)
    else:
        add_reply(c, b"=%d\r\n%s:%s\r\n" % (len(text) + 4, ext, text))


def add_reply_help(c: Client, lines: list[str]) -> None:
    """addReplyHelp: the HELP text of a container command, as status lines."""
    name = c.argv[0].decode(errors="replace").upper()
    add_reply_array_len(c, len(lines) + 3)
    add_reply_status(c, f"{name} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
    for ln in lines:
        add_reply_status(c, ln)
    add_reply_status(c, "HELP")
    add_reply_status(c, "    Prints this help.")


def add_reply_subcommand_syntax_error(c: Client) -> None:
    """addReplySubcommandSyntaxError."""
    sub = c.argv[1].decode(errors="replace")[:128]
    add_reply_error(c, f"unknown subcommand or wrong number of arguments for '{sub}'. "
                       f"Try {c.argv[0].decode(errors='replace').upper()} HELP.")


def add_reply_bulk_array(c: Client, items) -> None:
    """An array of bulk strings, built in one piece (a common reply shape: KEYS, MGET)."""
    items = list(items)
    parts = [shared.mbulkhdr[len(items)] if len(items) < 1024 else b"*%d\r\n" % len(items)]
    nullb = shared.null[c.resp]
    hdr = shared.bulkhdr
    for it in items:
        if it is None:
            parts.append(nullb)
        else:
            n = len(it)
            if n < 1024:
                parts.append(hdr[n])
            else:
                parts.append(b"$%d\r\n" % n)
            parts.append(it)
            parts.append(b"\r\n")
    add_reply(c, b"".join(parts))


# --------------------------------------------------------------------------------------------
# Writing replies
# --------------------------------------------------------------------------------------------

def write_to_client(c: Client, handler_installed: bool) -> bool:
    """writeToClient: send what is queued.  Returns False if the client was freed."""
    if not c.reply or c.conn is None:
        return True
    data = c.reply[0] if len(c.reply) == 1 else b"".join(c.reply)
    try:
        nwritten = c.conn.send(data)
    except (BlockingIOError, InterruptedError):
        nwritten = 0
    except OSError as e:
        server.log_verbose(f"Error writing to client: {e}")
        free_client(c)
        return False
    server.stat_net_output_bytes += nwritten
    if nwritten == len(data):
        c.reply = []
        c.reply_bytes = 0
        if handler_installed:
            server.el.delete_file_event(c.fd, AE_WRITABLE)
        if c.flags & CLIENT_CLOSE_AFTER_REPLY:
            free_client(c)
            return False
        return True
    # A view, not a copy: a big reply drained by many partial sends would otherwise copy
    # its remaining bytes each time (quadratic in the reply size).
    rest = memoryview(data)[nwritten:]
    c.reply = [rest]
    c.reply_bytes = len(rest)
    if not handler_installed:
        # With appendfsync always, AE_BARRIER keeps this handler from sending a reply in
        # the same loop iteration that read (and ran) its command: the AOF is fsynced in
        # beforeSleep first.
        mask = AE_WRITABLE | AE_BARRIER if server.aof_state == 1 and \
            server.appendfsync == "always" else AE_WRITABLE
        server.el.create_file_event(c.fd, mask, send_reply_to_client, c)
    if nwritten:
        c.lastinteraction = server.unixtime
    return True


def send_reply_to_client(el, fd: int, c: Client, mask: int) -> None:
    """sendReplyToClient: the write handler, armed only when a send() was partial."""
    write_to_client(c, True)


def handle_clients_with_pending_writes() -> int:
    """handleClientsWithPendingWrites: called from beforeSleep."""
    pending = server.clients_pending_write
    if not pending:
        return 0
    server.clients_pending_write = []
    count = 0
    el = server.el
    for c in pending:
        c.flags &= ~CLIENT_PENDING_WRITE
        if c.conn is None:
            continue
        # Clients whose earlier send() was partial already have a write handler.
        if el.has_write_handler(c.fd):
            continue
        count += 1
        write_to_client(c, False)
    return count


# --------------------------------------------------------------------------------------------
# Client info and limits
# --------------------------------------------------------------------------------------------

def get_client_type(c: Client) -> int:
    if c.flags & CLIENT_MASTER:
        return CLIENT_TYPE_MASTER
    if c.flags & CLIENT_SLAVE and not (c.flags & CLIENT_MONITOR):
        return CLIENT_TYPE_SLAVE
    if c.flags & CLIENT_PUBSUB:
        return CLIENT_TYPE_PUBSUB
    return CLIENT_TYPE_NORMAL


def check_client_output_buffer_limits(c: Client) -> bool:
    """checkClientOutputBufferLimits: True when the hard limit is hit or the soft limit has
    been exceeded for longer than its seconds."""
    ctype = get_client_type(c)
    if ctype == CLIENT_TYPE_MASTER:
        ctype = CLIENT_TYPE_NORMAL
    hard, soft, soft_secs = server.client_obuf_limits[ctype]
    used = c.reply_bytes
    hard_hit = hard and used >= hard
    soft_hit = soft and used >= soft
    if soft_hit:
        if c.obuf_soft_limit_reached_time == 0:
            c.obuf_soft_limit_reached_time = server.unixtime
            soft_hit = False
        elif server.unixtime - c.obuf_soft_limit_reached_time <= soft_secs:
            soft_hit = False
    else:
        c.obuf_soft_limit_reached_time = 0
    return bool(hard_hit or soft_hit)


def close_client_on_output_buffer_limit_reached(c: Client) -> bool:
    if c.reply_bytes == 0 or c.flags & CLIENT_CLOSE_ASAP:
        return False
    if check_client_output_buffer_limits(c):
        server.log_warning(f"Client {cat_client_info_string(c)} scheduled to be closed ASAP "
                           f"for overcoming of output buffer limits.")
        server.stat_client_outbuf_limit_disconnections += 1
        c.reply = []
        c.reply_bytes = 0
        free_client_async(c)
        return True
    return False


def client_flags_string(c: Client) -> str:
    f = c.flags
    out = ""
    if f & CLIENT_SLAVE:
        out += "O" if f & CLIENT_MONITOR else "S"
    if f & CLIENT_MASTER:
        out += "M"
    if f & CLIENT_PUBSUB:
        out += "P"
    if f & CLIENT_MULTI:
        out += "x"
    if f & CLIENT_BLOCKED:
        out += "b"
    if f & CLIENT_TRACKING:
        out += "t"
    if f & CLIENT_TRACKING_BROKEN_REDIR:
        out += "R"
    if f & CLIENT_TRACKING_BCAST:
        out += "B"
    if f & CLIENT_DIRTY_CAS:
        out += "d"
    if f & CLIENT_CLOSE_AFTER_REPLY:
        out += "c"
    if f & CLIENT_UNBLOCKED:
        out += "u"
    if f & CLIENT_CLOSE_ASAP:
        out += "A"
    if f & CLIENT_UNIX_SOCKET:
        out += "U"
    if f & CLIENT_READONLY:
        out += "r"
    if f & CLIENT_NO_EVICT:
        out += "e"
    return out or "N"


def cat_client_info_string(c: Client) -> str:
    """catClientInfoString: one CLIENT LIST line."""
    now = server.unixtime
    events = ""
    if c.conn is not None:
        events = "r" + ("w" if server.el.has_write_handler(c.fd) else "")
    multi = len(c.mstate.commands) if (c.flags & CLIENT_MULTI and c.mstate) else -1
    name = c.name.decode(errors="replace") if c.name else ""
    lastcmd = c.lastcmd.fullname if c.lastcmd else "NULL"
    qbuf = len(c.querybuf)
    # argv-mem: the arguments a client holds right now: its running or blocked command
    # (Redis frees argv once a command completes, so an idle client shows 0).
    argv_mem = sum(map(len, c.argv)) if (c is server.current_client or
                                         c.flags & CLIENT_BLOCKED) else 0
    return (f"id={c.id} addr={c.addr} laddr={c.laddr} fd={c.fd} name={name} "
            f"age={int(now - c.ctime)} idle={int(now - c.lastinteraction)} "
            f"flags={client_flags_string(c)} db={c.db.id} sub={len(c.pubsub_channels)} "
            f"psub={len(c.pubsub_patterns)} ssub={len(c.pubsubshard_channels)} "
            f"multi={multi} qbuf={qbuf} qbuf-free=0 "
            f"argv-mem={argv_mem} multi-mem=0 rbs=1024 rbp=0 obl=0 "
            f"oll={len(c.reply)} omem={c.reply_bytes} tot-mem={c.reply_bytes + qbuf + 1024} "
            f"events={events} cmd={lastcmd} user={c.user} "
            f"redir={c.tracking.redirection if c.tracking else -1} resp={c.resp}")


def get_all_clients_info_string(ctype: int | None = None) -> str:
    out = []
    for c in list(server.clients.values()):
        if ctype is not None and get_client_type(c) != ctype:
            continue
        out.append(cat_client_info_string(c) + "\n")
    return "".join(out)



# Imported last: tracered.server imports this module, and its module-level code reads the
# constants above, so they must exist before the cycle closes.
from tracered import server as server_module  # noqa: E402
