"""DUMP, RESTORE and MIGRATE: the non-cluster part of cluster.c (createDumpPayload,
verifyDumpPayload, dumpCommand, restoreCommand, the migrate socket cache, migrateCommand).

A DUMP payload is one RDB value without its key, followed by a small footer::

    type byte | value, exactly as rdbSaveObject writes it | RDB version (2 bytes LE)
              | CRC-64/Jones of everything before (8 bytes LE)

The value keeps its in-memory encoding (a listpack hash travels as the listpack's bytes),
so DUMP of the same data in the same encoding is byte-identical to Redis 7.0's; RESTORE
goes through rdbLoadObject and therefore converts exactly where loading an RDB does.

RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f] refuses a payload from a
newer RDB version or with a wrong CRC (unless DEBUG SET-SKIP-CHECKSUM-VALIDATION 1), and
answers "Bad data format" for anything the loader cannot parse.  A relative TTL is
propagated as an absolute one (``... <unix-ms> ... ABSTTL``) so a replica or a replayed AOF
expires the key at the same instant; a TTL already in the past creates nothing (and, with
REPLACE, propagates the deletion of the old value as ``DEL``).

RESTORE-ASKING is the same proc under the name the cluster's MIGRATE sends to a slot being
imported; without cluster mode it behaves as RESTORE.

MIGRATE serializes the keys with the same payload, sends AUTH/SELECT/RESTORE over a blocking
connection kept in a small cache (host:port -> socket and the db it last SELECTed, swept
after 10 idle seconds from serverCron), and deletes the keys the target acknowledged
(propagated as one ``DEL``) unless COPY.  The server does nothing else meanwhile, as in
Redis.

Divergence: a corrupt payload can make Redis's loader assert and crash when
sanitize-dump-payload is off; here any exception the loader raises is caught and answered
"Bad data format", so the server always keeps serving.
Divergence: MIGRATE always sends RESTORE (tracered has no cluster mode, so never
RESTORE-ASKING) and never uses TLS.
"""

from __future__ import annotations

import errno
import random
import re
import select
import socket

from tracered import db as dbmod
from tracered import networking as net
from tracered import rdb as rdbmod
from tracered import shared
from tracered.commands import KeySpec, cmd
from tracered.crc64 import crc64
from tracered.object import RObj
from tracered.server import server
from tracered.trace.probes import probe

# Footer: 2 bytes of RDB version, then 8 bytes of CRC64, both little endian.
DUMP_FOOTER_LEN = 10


# --------------------------------------------------------------------------------------------
# DUMP / RESTORE commands
# --------------------------------------------------------------------------------------------

@probe("createDumpPayload")
def create_dump_payload(o: RObj, key: bytes, dbid: int) -> bytes:
    """createDumpPayload: the serialized value, RDB version and CRC (see the module doc)."""
    out = bytearray()
    rdbmod.rdb_save_object_type(out, o)
    rdbmod.rdb_save_object(out, o, key, dbid)
    out += rdbmod.RDB_VERSION.to_bytes(2, "little")
    out += crc64(0, out).to_bytes(8, "little")
    return bytes(out)


@probe("verifyDumpPayload")
def verify_dump_payload(p: bytes) -> tuple[bool, int]:
    """verifyDumpPayload: (payload acceptable, RDB version read from its footer).

    Acceptable means at least a footer long, a version this server can read, and a CRC
    that matches, unless checksum validation was switched off with DEBUG.
    """
    n = len(p)
    if n < DUMP_FOOTER_LEN:
        return False, 0
    footer = n - DUMP_FOOTER_LEN
    rdbver = p[footer] | (p[footer + 1] << 8)
    if rdbver > rdbmod.RDB_VERSION:
        return False, rdbver
    if getattr(server, "skip_checksum_validation", False):
        return True, rdbver
    ok = crc64(0, memoryview(p)[:n - 8]).to_bytes(8, "little") == p[n - 8:]
    return ok, rdbver


def dump_command(c: net.Client) -> None:
    """DUMP key: the payload as a bulk string, nil for a missing key."""
    key = c.argv[1]
    o = dbmod.lookup_key_read(c.db, key)
    if o is None:
        net.add_reply_null(c)
        return
    net.add_reply_bulk(c, create_dump_payload(o, key, c.db.id))


def _load_payload(c: net.Client, key: bytes, payload: bytes) -> RObj | None:
    """rdbLoadObjectType + rdbLoadObject over the payload; None for any failure."""
    # How deeply to check the payload (sanitize-dump-payload, 'clients' looking at this
    # client) is rdb.py's _deep_sanitize, as in rdbLoadObject.
    r = rdbmod.RioReader(payload)
    try:
        rdbtype = rdbmod.rdb_load_type(r)
        if not rdbmod.rdb_is_object_type(rdbtype):
            return None
        return rdbmod.rdb_load_object(rdbtype, r, key, c.db.id)
    except Exception:  # noqa: BLE001 - corrupt input of any shape must not kill the server
        return None


def restore_command(c: net.Client) -> None:
    """RESTORE / RESTORE-ASKING key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME s]
    [FREQ f]."""
    argv = c.argv
    argc = len(argv)
    replace = absttl = False
    lfu_freq = lru_idle = lru_clock = -1
    j = 4
    while j < argc:
        opt = argv[j].lower()
        more = argc - j - 1
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more >= 1 and lfu_freq == -1:
            lru_idle = dbmod.get_long_long_from_object_or_reply(c, argv[j + 1])
            if lru_idle is None:
                return
            if lru_idle < 0:
                net.add_reply_error(c, "Invalid IDLETIME value, must be >= 0")
                return
            from tracered import evict

            lru_clock = evict.lru_clock()
            j += 1
        elif opt == b"freq" and more >= 1 and lru_idle == -1:
            lfu_freq = dbmod.get_long_long_from_object_or_reply(c, argv[j + 1])
            if lfu_freq is None:
                return
            if lfu_freq < 0 or lfu_freq > 255:
                net.add_reply_error(c, "Invalid FREQ value, must be >= 0 and <= 255")
                return
            j += 1
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1

    key = argv[1]
    db = c.db
    # Checked before the payload is even looked at, as Redis does.
    if not replace and dbmod.lookup_key_write(db, key) is not None:
        net.add_reply_error_object(c, shared.busykeyerr)
        return

    ttl = dbmod.get_long_long_from_object_or_reply(c, argv[2])
    if ttl is None:
        return
    if ttl < 0:
        net.add_reply_error(c, "Invalid TTL value, must be >= 0")
        return

    payload = argv[3]
    if not verify_dump_payload(payload)[0]:
        net.add_reply_error(c, "DUMP payload version or checksum are wrong")
        return
    o = _load_payload(c, key, payload)
    if o is None:
        net.add_reply_error(c, "Bad data format")
        return

    deleted = dbmod.db_delete(db, key) if replace else False

    if ttl and not absttl:
        ttl += server.mstime
    from tracered import expire

    if ttl and expire.check_already_expired(ttl):
        # Nothing is created; the old value (if REPLACE removed one) goes as a DEL.
        if deleted:
            net.rewrite_client_command_vector(c, [b"DEL", key])
            dbmod.signal_modified_key(c, db, key)
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, db.id)
            server.dirty += 1
        net.add_reply(c, shared.ok)
        return

    dbmod.db_add(db, key, o)
    if ttl:
        dbmod.set_expire(c, db, key, ttl)
        if not absttl:
            net.rewrite_client_command_argument(c, 2, str(ttl).encode())
            net.rewrite_client_command_argument(c, len(c.argv), b"ABSTTL")
    rdbmod.object_set_lru_or_lfu(o, lfu_freq, lru_idle, lru_clock, 1000)
    dbmod.signal_modified_key(c, db, key)
    dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "restore", key, db.id)
    net.add_reply(c, shared.ok)
    server.dirty += 1


# --------------------------------------------------------------------------------------------
# MIGRATE: socket cache and command
# --------------------------------------------------------------------------------------------

MIGRATE_SOCKET_CACHE_ITEMS = 64   # at most this many idle connections are kept
MIGRATE_SOCKET_CACHE_TTL = 10     # seconds a cached connection may sit unused


class MigrateCachedSocket:
    """migrateCachedSocket: a blocking connection to a target, and the db it has SELECTed
    (-1: unknown, so the next MIGRATE sends SELECT)."""

    __slots__ = ("sock", "last_dbid", "last_use_time", "rbuf")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.last_dbid = -1
        self.last_use_time = server.unixtime
        self.rbuf = bytearray()


# "host:port" -> MigrateCachedSocket (server.migrate_cached_sockets in Redis).
migrate_cached_sockets: dict[bytes, MigrateCachedSocket] = {}


def _atoi(b: bytes) -> int:
    """atoi(): the leading decimal digits (with an optional sign), 0 when there are none."""
    m = re.match(rb"\s*([+-]?\d+)", b)
    return int(m.group(1)) if m else 0


def migrate_get_socket(c: net.Client, host: bytes, port: bytes,
                       timeout: int) -> MigrateCachedSocket | None:
    """migrateGetSocket: the cached connection to host:port, or a new one (replying the
    IOERR to the client and returning None when the connect fails or times out)."""
    name = host + b":" + port
    cs = migrate_cached_sockets.get(name)
    if cs is not None:
        cs.last_use_time = server.unixtime
        return cs
    if len(migrate_cached_sockets) >= MIGRATE_SOCKET_CACHE_ITEMS:
        victim = random.choice(list(migrate_cached_sockets))
        migrate_cached_sockets.pop(victim).sock.close()
    sock = _blocking_connect(host, _atoi(port), timeout)
    if sock is None:
        net.add_reply_error(c, "-IOERR error or timeout connecting to the client")
        return None
    cs = MigrateCachedSocket(sock)
    migrate_cached_sockets[name] = cs
    return cs


def _blocking_connect(host: bytes, port: int, timeout: int) -> socket.socket | None:
    """connBlockingConnect: a non-blocking connect, then wait up to ``timeout`` ms for it
    to become writable.  Like Redis, only a connect that fails at once (bad address, no
    route) is an error here: a refused or slow connection is handed back and fails on the
    first write, so the client sees "IOERR ... writing to target instance"."""
    try:
        infos = socket.getaddrinfo(host.decode("latin-1"), port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError, OverflowError):
        return None
    for family, type_, proto, _canon, addr in infos:
        try:
            sock = socket.socket(family, type_, proto)
        except OSError:
            continue
        sock.setblocking(False)
        err = sock.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            sock.close()
            continue
        select.select([], [sock], [], timeout / 1000)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return sock
    return None


def migrate_close_socket(host: bytes, port: bytes) -> None:
    """migrateCloseSocket: forget (and close) the cached connection, if any."""
    cs = migrate_cached_sockets.pop(host + b":" + port, None)
    if cs is not None:
        cs.sock.close()


def migrate_close_timedout_sockets(srv=None) -> None:
    """migrateCloseTimedoutSockets (serverCron): drop connections idle too long."""
    now = server.unixtime
    for name, cs in list(migrate_cached_sockets.items()):
        if now - cs.last_use_time > MIGRATE_SOCKET_CACHE_TTL:
            cs.sock.close()
            del migrate_cached_sockets[name]


def _sync_read_line(cs: MigrateCachedSocket) -> bytes:
    """connSyncReadLine: one reply line without its CRLF.  Raises OSError (TimeoutError
    for a timeout) or ConnectionError when the peer closes."""
    buf = cs.rbuf
    while True:
        i = buf.find(b"\n")
        if i >= 0:
            line = bytes(buf[:i])
            del buf[:i + 1]
            return line[:-1] if line.endswith(b"\r") else line
        chunk = cs.sock.recv(16 * 1024)
        if not chunk:
            raise ConnectionError("connection closed by the target")
        buf += chunk


def _bulk_cmd(out: bytearray, *args: bytes) -> None:
    out += b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n" % len(a)
        out += a
        out += b"\r\n"


def migrate_get_keys(argv: list[bytes]) -> list[int]:
    """migrateGetKeys: argv[3], or every argument after KEYS (skipping AUTH/AUTH2's
    arguments while looking for it); no keys when KEYS is used with a non-empty argv[3]."""
    first, num = 3, 1
    argc = len(argv)
    skip = {b"copy": 0, b"replace": 0, b"auth": 1, b"auth2": 2}
    i = 6
    while i < argc:
        low = argv[i].lower()
        if low == b"keys":
            if argv[3]:
                num = 0
            else:
                first = i + 1
                num = argc - first
            break
        i += skip.get(low, 0) + 1
    return list(range(first, first + num))


def migrate_command(c: net.Client) -> None:
    """MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH pw]
    [AUTH2 user pw] [KEYS key ...]: DUMP here, RESTORE there, then DEL here (unless COPY).

    Blocks the whole server for the duration, as in Redis: the connection is synchronous,
    each read and write bounded by ``timeout`` ms.  One retry on a fresh connection when
    the cached one turns out to be dead before any reply was read.
    """
    argv = c.argv
    argc = len(argv)
    copy = replace = False
    username = password = None
    first_key, num_keys = 3, 1
    j = 6
    while j < argc:
        opt = argv[j].lower()
        more = argc - 1 - j
        if opt == b"copy":
            copy = True
        elif opt == b"replace":
            replace = True
        elif opt == b"auth":
            if not more:
                net.add_reply_error_object(c, shared.syntaxerr)
                return
            j += 1
            password = argv[j]
            net.redact_client_command_argument(c, j)
        elif opt == b"auth2":
            if more < 2:
                net.add_reply_error_object(c, shared.syntaxerr)
                return
            username, password = argv[j + 1], argv[j + 2]
            net.redact_client_command_argument(c, j + 1)
            net.redact_client_command_argument(c, j + 2)
            j += 2
        elif opt == b"keys":
            if argv[3]:
                net.add_reply_error(c, "When using MIGRATE KEYS option, the key argument "
                                       "must be set to the empty string")
                return
            first_key = j + 1
            num_keys = argc - j - 1
            break
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1

    timeout = dbmod.get_long_long_from_object_or_reply(c, argv[5])
    if timeout is None:
        return
    dbid = dbmod.get_long_long_from_object_or_reply(c, argv[4])
    if dbid is None:
        return
    if timeout <= 0:
        timeout = 1000

    db = c.db
    pairs = []
    for k in argv[first_key:first_key + num_keys]:
        o = dbmod.lookup_key_read(db, k)
        if o is not None:
            pairs.append((k, o))
    if not pairs:
        # Not an error: the usual reason is a key that expired meanwhile.
        net.add_reply(c, b"+NOKEY\r\n")
        return

    host, port = argv[1], argv[2]
    may_retry = True
    while True:
        cs = migrate_get_socket(c, host, port, timeout)
        if cs is None:
            return
        out = bytearray()
        if password is not None:
            if username is not None:
                _bulk_cmd(out, b"AUTH", username, password)
            else:
                _bulk_cmd(out, b"AUTH", password)
        select = cs.last_dbid != dbid
        if select:
            _bulk_cmd(out, b"SELECT", str(dbid).encode())
        sent = []
        for k, o in pairs:
            ttl = 0
            expireat = dbmod.get_expire(db, k)
            if expireat != -1:
                ttl = expireat - server.mstime
                if ttl < 0:
                    continue  # expired while we looked: not sent
                if ttl < 1:
                    ttl = 1
            sent.append(k)
            restore = (b"RESTORE", k, str(ttl).encode(), create_dump_payload(o, k, dbid))
            _bulk_cmd(out, *(restore + (b"REPLACE",) if replace else restore))

        write_error = timed_out = False
        sock = cs.sock
        sock.settimeout(timeout / 1000)
        try:
            sock.sendall(out)
        except OSError as e:
            write_error = True
            timed_out = isinstance(e, TimeoutError)
        if not write_error:
            err_line = None
            socket_error = False
            nread = 0
            deleted: list[bytes] = []
            try:
                auth_reply = _sync_read_line(cs) if password is not None else b"+"
                select_reply = _sync_read_line(cs) if select else b"+"
                for k in sent:
                    reply = _sync_read_line(cs)
                    nread += 1
                    if auth_reply[:1] == b"-" or select_reply[:1] == b"-" or \
                            reply[:1] == b"-":
                        if err_line is None:
                            cs.last_dbid = -1
                            err_line = (auth_reply if auth_reply[:1] == b"-" else
                                        select_reply if select_reply[:1] == b"-" else reply)
                            net.add_reply_error(
                                c, "Target instance replied with error: "
                                + err_line[1:].decode("utf-8", "surrogateescape"))
                    elif not copy:
                        dbmod.db_delete(db, k)
                        dbmod.signal_modified_key(c, db, k)
                        dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", k, db.id)
                        server.dirty += 1
                        deleted.append(k)
            except OSError as e:
                socket_error = True
                timed_out = isinstance(e, TimeoutError)
            if err_line is None and socket_error and nread == 0 and may_retry and \
                    not timed_out:
                migrate_close_socket(host, port)
                may_retry = False
                continue
            if socket_error:
                migrate_close_socket(host, port)
            if deleted:
                # Replicas and the AOF see only the keys the target acknowledged.
                net.rewrite_client_command_vector(c, [b"DEL", *deleted])
            if err_line is None and socket_error:
                net.add_reply_error(c, "-IOERR error or timeout reading to target instance")
                return
            if err_line is None:
                cs.last_dbid = dbid
                net.add_reply(c, shared.ok)
            return
        # The write failed: drop the connection and maybe retry once on a new one.
        migrate_close_socket(host, port)
        if not timed_out and may_retry:
            may_retry = False
            continue
        net.add_reply_error(c, "-IOERR error or timeout %s to target instance"
                            % ("writing" if write_error else "reading"))
        return


def init(srv) -> None:
    """Hook the idle-connection sweep into serverCron."""
    if migrate_close_timedout_sockets not in srv.cron_hooks:
        srv.cron_hooks.append(migrate_close_timedout_sockets)


# --------------------------------------------------------------------------------------------
# Command table
# --------------------------------------------------------------------------------------------

_RESTORE_HISTORY = [("3.0.0", "Added the `REPLACE` modifier."),
                    ("5.0.0", "Added the `ABSTTL` modifier."),
                    ("5.0.0", "Added the `IDLETIME` and `FREQ` options.")]
_MIGRATE_HISTORY = [("3.0.0", "Added the `COPY` and `REPLACE` options."),
                    ("3.0.6", "Added the `KEYS` option."),
                    ("4.0.7", "Added the `AUTH` option."),
                    ("6.0.0", "Added the `AUTH2` option.")]
_RESTORE_ARGS = ("key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] "
                 "[FREQ frequency:integer]")
_RESTORE_COMPLEXITY = (
    "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, "
    "where N is the number of Redis objects composing the value and M their average size. "
    "For small string values the time complexity is thus O(1)+O(1*M) where M is small, so "
    "simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because "
    "inserting values into sorted sets is O(log(N)).")


def _with_history(c, history):
    c.history = list(history)
    return c


COMMANDS = [
    cmd("dump", dump_command, 2, "readonly", keys=(1, 1, 1), acl="keyspace",
        key_specs=[KeySpec("RO ACCESS", 1)], since="2.6.0",
        complexity="O(1) to access the key and additional O(N*M) to serialize it, where N "
                   "is the number of Redis objects composing the value and M their average "
                   "size. For small string values the time complexity is thus O(1)+O(1*M) "
                   "where M is small, so simply O(1).",
        summary="Return a serialized version of the value stored at the specified key.",
        args="key", tips="nondeterministic_output"),
    _with_history(cmd(
        "restore", restore_command, -4, "write denyoom", keys=(1, 1, 1),
        acl="keyspace dangerous", key_specs=[KeySpec("OW UPDATE", 1)], since="2.6.0",
        complexity=_RESTORE_COMPLEXITY,
        summary="Create a key using the provided serialized value, previously obtained "
                "using DUMP.", args=_RESTORE_ARGS), _RESTORE_HISTORY),
    _with_history(cmd(
        "restore-asking", restore_command, -4, "write denyoom asking", keys=(1, 1, 1),
        acl="keyspace dangerous", key_specs=[KeySpec("OW UPDATE", 1)], group="server",
        since="3.0.0", complexity=_RESTORE_COMPLEXITY,
        summary="An internal command for migrating keys in a cluster", args=_RESTORE_ARGS,
        doc_flags="syscmd"), _RESTORE_HISTORY),
    _with_history(cmd(
        "migrate", migrate_command, -6, "write movablekeys", keys=(3, 3, 1),
        acl="keyspace dangerous", since="2.6.0",
        key_specs=[KeySpec("RW ACCESS DELETE", 3),
                   KeySpec("RW ACCESS DELETE INCOMPLETE", begin_keyword="KEYS",
                           keyword_startfrom=-2, lastkey=-1)],
        complexity="This command actually executes a DUMP+DEL in the source instance, and a "
                   "RESTORE in the target instance. See the pages of these commands for time "
                   "complexity. Also an O(N) data transfer between the two instances is "
                   "performed.",
        summary="Atomically transfer a key from a Redis instance to another one.",
        args='host port key|"" destination-db timeout [COPY] [REPLACE] '
             '[[AUTH password] | [AUTH2 username password]] [KEYS key [key ...]]',
        getkeys=migrate_get_keys, tips="nondeterministic_output"), _MIGRATE_HISTORY),
]
