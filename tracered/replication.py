"""Master/replica replication: the mirror of replication.c.

A master turns every write into its *replication stream*: the command in RESP, preceded by
SELECT when the database changes.  The stream has a global byte position,
``server.master_repl_offset``, and a history, the *replication backlog*; a replica that knows
the replication ID and the offset it reached can continue from the backlog after a
disconnection (+CONTINUE) instead of copying the whole dataset again (+FULLRESYNC).

Master side (same order as replication.c)::

    ReplBacklog / create_replication_backlog       the ring buffer: buf, size, idx, histlen,
                                                   offset (first byte it still holds)
    feed_replication_buffer                        probe feedReplicationBuffer: stream bytes
                                                   to the backlog and every replica
    replication_feed_slaves                        probe replicationFeedSlaves: call()'s writes
    replication_feed_stream_from_master_stream     a replica proxies its master's bytes
    add_reply_replication_backlog                  probe addReplyReplicationBacklog
    master_try_partial_resynchronization           probe masterTryPartialResynchronization
    start_bgsave_for_replication / sync_command    SYNC, PSYNC and the full resync states
    replconf_command                               listening-port, ip-address, capa, ack, getack
    send_bulk_to_slave                             disk target: "$<len>" + dump.rdb
    rdb_save_to_slaves_sockets / rdb_pipe_*        diskless target: a forked child writes the
                                                   EOF-marked RDB into a pipe, the parent
                                                   relays it to every replica socket
    update_slaves_waiting_bgsave                   the RDB is ready: send it / go online
    change_replication_id / shift_replication_id   replid and replid2

Replica side::

    replication_create_master_client               probe replicationCreateMasterClient
    read_sync_bulk_payload                         probe readSyncBulkPayload: "$<len>" or
                                                   "$EOF:<mark>", to a file or to memory, load
    slave_try_partial_resynchronization            PSYNC <replid> <offset+1>, parse the reply
    sync_with_master                               probe syncWithMaster: the handshake state
                                                   machine (connect, PING, AUTH, REPLCONF, PSYNC)
    replication_set_master / _unset_master         REPLICAOF host port / NO ONE
    replication_cache_master ...                   keep the master's state for a later PSYNC
    replication_master_applied                     after each command of the master link:
                                                   offsets, proxy to sub-replicas and backlog

Then min-replicas-to-write, WAIT, replicationCron (probe replicationCron) and the glue.

How the pieces run: a master feeds the stream from call() through ``server.propagate_hooks``
(installed only while a backlog exists, so a server that never had a replica pays nothing);
replicas' socket writes go through networking's reply lists and beforeSleep.  A replica's
handshake is a set of file-event handlers on one socket (``server.repl_transfer_s``); once
synchronized, that socket becomes an ordinary client flagged CLIENT_MASTER whose commands
networking.process_input_buffer runs and whose replies add_reply swallows.

Probed functions are always called by their module-global name; what the event loop and
the server hold (file-event handlers, cron/beforeSleep/free-client hooks) are small
``_*_handler`` / ``_*_hook`` wrappers that look the probed function up at call time, so an
armed breakpoint is always seen.

Divergence: the backlog is Redis 6.2's ring buffer (one buffer of repl-backlog-size bytes,
with idx/histlen/offset), not 7.0's list of shared reply blocks; the ring is what a learner
expects to see drawn and is equivalent on the wire.  Its buffer grows up to its size as
the stream arrives (7.0 also allocates on demand).  CONFIG SET repl-backlog-size keeps the
most recent bytes (6.2 dropped them all).
Divergence: replicas get their stream through their own reply list (a copy per replica)
instead of sharing reference-counted blocks with the backlog.
Divergence: networking's Client has no slots for c->replid, c->repl_applied and
c->repl_start_cmd_stream_on_ack; the first two live in ``server.master_link`` (a
:class:`MasterLink`, for whichever of server.master / server.cached_master exists), the
last in the module set ``_stream_on_ack``.
Divergence: repl-diskless-load (on-empty-db / swapdb) reads the payload into memory without
blocking and then loads it; swapdb does not keep serving the old dataset meanwhile.
Divergence: no FAILOVER command, no REPLCONF rdb-only / rdb-filter-only effect (accepted
and ignored), and SHUTDOWN does not wait for lagging replicas (shutdown-timeout).
Divergence: a replica whose first REPLCONF ACK came before the diskless child was reaped
gets its stream when the child is reaped, instead of at its next ACK a second later (a
replica ACKs only after loading the whole RDB).
Divergence: the pipe relay and disk sender move 64 KB per write (Redis: 16 KB), since each
event-loop turn costs more in Python.
"""

from __future__ import annotations

import errno
import mmap
import os
import socket
import time

from tracered import blocked, shared, util
from tracered import db as dbmod
from tracered import networking as net
from tracered import rdb as rdbmod
from tracered import server as server_module
from tracered.ae import AE_READABLE, AE_WRITABLE
from tracered.commands import cmd
from tracered.server import PROPAGATE_REPL, server
from tracered.trace.probes import probe

# --------------------------------------------------------------------------------------------
# server.h
# --------------------------------------------------------------------------------------------

SLAVE_CAPA_NONE = 0
SLAVE_CAPA_EOF = 1 << 0      # can parse the RDB EOF-marked streaming format
SLAVE_CAPA_PSYNC2 = 1 << 1   # understands "+CONTINUE <new replid>"

# A replica's state, seen from its master (client.replstate).
SLAVE_STATE_WAIT_BGSAVE_START = 6
SLAVE_STATE_WAIT_BGSAVE_END = 7
SLAVE_STATE_SEND_BULK = 8
SLAVE_STATE_ONLINE = 9
SLAVE_STATE_RDB_TRANSMITTED = 10

# This instance's state as a replica (server.repl_state).
REPL_STATE_NONE = 0
REPL_STATE_CONNECT = 1
REPL_STATE_CONNECTING = 2
REPL_STATE_RECEIVE_PING_REPLY = 3
REPL_STATE_SEND_HANDSHAKE = 4
REPL_STATE_RECEIVE_AUTH_REPLY = 5
REPL_STATE_RECEIVE_PORT_REPLY = 6
REPL_STATE_RECEIVE_IP_REPLY = 7
REPL_STATE_RECEIVE_CAPA_REPLY = 8
REPL_STATE_SEND_PSYNC = 9
REPL_STATE_RECEIVE_PSYNC_REPLY = 10
REPL_STATE_TRANSFER = 11
REPL_STATE_CONNECTED = 12

# slaveTryPartialResynchronization results.
PSYNC_WRITE_ERROR = 0
PSYNC_WAIT_REPLY = 1
PSYNC_CONTINUE = 2
PSYNC_FULLRESYNC = 3
PSYNC_NOT_SUPPORTED = 4
PSYNC_TRY_LATER = 5

CONFIG_RUN_ID_SIZE = 40
RDB_EOF_MARK_SIZE = 40
CONFIG_REPL_BACKLOG_MIN_SIZE = 16 * 1024
CONFIG_REPL_SYNCIO_TIMEOUT = 5        # seconds a handshake read/write may block
NET_HOST_STR_LEN = 256
REPL_IOBUF_LEN = 64 * 1024
REPL_MAX_WRITTEN_BEFORE_FSYNC = 8 * 1024 * 1024
RDB_CHILD_TYPE_DISK = rdbmod.RDB_CHILD_TYPE_DISK
RDB_CHILD_TYPE_SOCKET = getattr(rdbmod, "RDB_CHILD_TYPE_SOCKET", 2)

_REPL_STATE_NAMES = {REPL_STATE_NONE: "none", REPL_STATE_CONNECT: "connect",
                     REPL_STATE_CONNECTING: "connecting", REPL_STATE_TRANSFER: "sync",
                     REPL_STATE_CONNECTED: "connected"}


# --------------------------------------------------------------------------------------------
# The replication backlog
# --------------------------------------------------------------------------------------------

class ReplBacklog:
    """replBacklog: the last ``size`` bytes of the replication stream, in a ring.

    ``idx`` is where the next byte goes, ``histlen`` how many valid bytes the ring holds and
    ``offset`` the replication offset of the oldest of them, so the backlog covers offsets
    ``offset .. offset + histlen - 1`` (= master_repl_offset).  A PSYNC for offset ``o`` can
    be served when ``offset <= o <= offset + histlen``.
    """

    __slots__ = ("buf", "size", "idx", "histlen", "offset")

    def __init__(self, size: int, offset: int) -> None:
        self.buf = bytearray()   # grows to ``size`` as the stream arrives, then wraps
        self.size = size
        self.idx = 0
        self.histlen = 0
        self.offset = offset

    def __repr__(self) -> str:
        return (f"<backlog size={self.size} idx={self.idx} histlen={self.histlen} "
                f"offset={self.offset}>")

    def feed(self, data, master_repl_offset: int) -> None:
        """feedReplicationBacklog: write ``data`` at idx, wrapping; the oldest bytes are
        overwritten once the ring is full."""
        n = len(data)
        size = self.size
        buf = self.buf
        pos = self.idx
        end = pos + n
        if end < size:
            # The common case: no wrap (a full ring overwrites in place, a growing one
            # appends: while growing the write index is the end of the buffer).
            if len(buf) == pos:
                buf += data
            else:
                buf[pos:end] = data
            self.idx = end
            h = self.histlen + n
            self.histlen = h if h < size else size
        elif n >= size:
            buf[:] = data[n - size:]
            self.idx = 0
            self.histlen = size
        else:
            first = size - pos
            if len(buf) < size:
                buf += data[:first]
            else:
                buf[pos:] = data[:first]
            buf[:n - first] = data[first:]
            self.idx = n - first
            h = self.histlen + n
            self.histlen = h if h < size else size
        self.offset = master_repl_offset - self.histlen + 1

    def copy_from(self, offset: int) -> bytes:
        """The stream from ``offset`` to the end (the caller checked it is held)."""
        skip = offset - self.offset
        length = self.histlen - skip
        if length <= 0:
            return b""
        size = self.size
        start = (self.idx - self.histlen + skip) % size
        end = start + length
        buf = self.buf
        if end <= size:
            return bytes(buf[start:end])
        return bytes(buf[start:]) + bytes(buf[:end - size])

    def resize(self, newsize: int, master_repl_offset: int) -> None:
        """Keep the most recent ``newsize`` bytes in a ring of the new size."""
        hist = self.copy_from(self.offset)[-newsize:]
        self.buf = bytearray(hist)
        self.size = newsize
        self.histlen = len(hist)
        self.idx = self.histlen % newsize
        self.offset = master_repl_offset - self.histlen + 1


class MasterLink:
    """The replication fields of Redis's master client (c->replid, c->repl_applied):
    ``applied`` is the offset whose effects are applied (and proxied), ``seen`` the end of
    the last command read, ``pending`` the bytes of a MULTI block not yet applied."""

    __slots__ = ("replid", "applied", "seen", "pending")

    def __init__(self, replid: str, offset: int) -> None:
        self.replid = replid
        self.applied = offset
        self.seen = offset
        self.pending = bytearray()


# Replicas put online after a diskless transfer that wait for their first REPLCONF ACK
# before their accumulated stream is sent (c->repl_start_cmd_stream_on_ack).
_stream_on_ack: set = set()
# Replicas whose diskless transfer write was partial, and when (c->repl_last_partial_write).
_last_partial_write: dict = {}
# Replicas that ACKed during their diskless transfer, before the child was reaped: a replica
# ACKs only once it has loaded the whole RDB, so its stream starts when the child is reaped.
_acked_early: set = set()


class _RdbPipe:
    """The diskless transfer in progress (server.rdb_pipe_* in Redis)."""

    __slots__ = ("read_fd", "exit_fd", "conns", "numconns_writing", "buf")

    def __init__(self) -> None:
        self.read_fd = -1
        self.exit_fd = -1           # rdb_child_exit_pipe: closing it lets the child exit
        self.conns: list | None = None
        self.numconns_writing = 0
        self.buf = b""


_pipe = _RdbPipe()
_rdb_generated_by_replication = False


# --------------------------------------------------------------------------------------------
# MASTER: the backlog and the stream
# --------------------------------------------------------------------------------------------

def replication_get_slave_name(c: net.Client) -> str:
    """replicationGetSlaveName: "ip:port" as the replica announced it."""
    addr = c.slave_addr or (c.addr.rsplit(":", 1)[0] if c.addr else "")
    if addr:
        if c.slave_listening_port:
            return f"{addr}:{c.slave_listening_port}"
        return f"{addr}:<unknown-replica-port>"
    return f"client id #{c.id}"


def create_replication_backlog() -> None:
    """createReplicationBacklog: empty; its first byte will be the next stream byte."""
    srv = server
    size = max(srv.repl_backlog_size, CONFIG_REPL_BACKLOG_MIN_SIZE)
    srv.repl_backlog = ReplBacklog(size, srv.master_repl_offset + 1)
    _update_propagate_hook()


def resize_replication_backlog(srv=None) -> None:
    """resizeReplicationBacklog (CONFIG SET repl-backlog-size)."""
    srv = srv or server
    if srv.repl_backlog_size < CONFIG_REPL_BACKLOG_MIN_SIZE:
        srv.repl_backlog_size = CONFIG_REPL_BACKLOG_MIN_SIZE
    bl = srv.repl_backlog
    if bl is not None and bl.size != srv.repl_backlog_size:
        bl.resize(srv.repl_backlog_size, srv.master_repl_offset)


def free_replication_backlog() -> None:
    """freeReplicationBacklog: only when no replica is attached."""
    server.repl_backlog = None
    _update_propagate_hook()


def _update_propagate_hook() -> None:
    """A top-level master with a backlog takes its stream from call(); anyone else (no
    backlog, or a replica that proxies its master) needs no hook, and call() then skips
    propagation bookkeeping entirely."""
    srv = server
    want = srv.repl_backlog is not None and srv.masterhost is None
    hooks = srv.propagate_hooks
    have = _propagate_hook in hooks
    if want and not have:
        hooks.append(_propagate_hook)
    elif have and not want:
        hooks.remove(_propagate_hook)


def _propagate_hook(dbid: int, argv: list, target: int) -> None:
    if target & PROPAGATE_REPL:
        replication_feed_slaves(dbid, argv)


@probe("feedReplicationBuffer")
def feed_replication_buffer(data: bytes) -> None:
    """feedReplicationBuffer: append stream bytes to the backlog and to every replica that
    is past WAIT_BGSAVE_START (a replica waiting for its RDB accumulates the stream from the
    RDB's point in time; it is sent only once the RDB is)."""
    srv = server
    bl = srv.repl_backlog
    if bl is None:
        return
    n = len(data)
    srv.master_repl_offset += n
    bl.feed(data, srv.master_repl_offset)
    slaves = srv.slaves
    if not slaves:
        return
    pending = srv.clients_pending_write
    limit = _obuf_check_threshold()
    for c in slaves:
        state = c.replstate
        if state == SLAVE_STATE_WAIT_BGSAVE_START:
            continue
        c.reply.append(data)
        c.reply_bytes += n
        if state == SLAVE_STATE_ONLINE and not c.flags & _PENDING_WRITE and \
                (not _stream_on_ack or c not in _stream_on_ack):
            c.flags |= _PENDING_WRITE
            pending.append(c)
        if limit and c.reply_bytes >= limit:
            net.close_client_on_output_buffer_limit_reached(c)


_PENDING_WRITE = net.CLIENT_PENDING_WRITE


def _obuf_check_threshold() -> int:
    """The size from which a replica's output buffer must be checked against
    client-output-buffer-limit replica (the smaller of its set limits; 0 = none)."""
    hard, soft, _ = server.client_obuf_limits[net.CLIENT_TYPE_SLAVE]
    if hard and soft:
        return min(hard, soft)
    return hard or soft


def _select_command(dictid: int) -> bytes:
    s = b"%d" % dictid
    return b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n" % (len(s), s)


@probe("replicationFeedSlaves")
def replication_feed_slaves(dictid: int, argv: list) -> None:
    """replicationFeedSlaves: a command executed here, as RESP, into the stream.

    Only a top-level master builds a stream: a replica proxies its master's bytes verbatim
    (replication_feed_stream_from_master_stream), so its replicas share the same history,
    replication ID and offsets.  ``dictid`` -1 (PING, REPLCONF GETACK) emits no SELECT.
    """
    srv = server
    if srv.masterhost is not None:
        return
    if srv.repl_backlog is None and not srv.slaves:
        return
    parts = [b"*%d\r\n" % len(argv)]
    for a in argv:
        parts.append(b"$%d\r\n" % len(a))
        parts.append(a)
        parts.append(b"\r\n")
    if srv.slaveseldb != dictid:
        parts.insert(0, _select_command(dictid))
        srv.slaveseldb = dictid
    feed_replication_buffer(b"".join(parts))


def replication_feed_stream_from_master_stream(data: bytes) -> None:
    """replicationFeedStreamFromMasterStream: the exact bytes applied from our master go to
    our backlog and our own replicas."""
    if server.repl_backlog is not None:
        feed_replication_buffer(data)


@probe("addReplyReplicationBacklog")
def add_reply_replication_backlog(c: net.Client, offset: int) -> int:
    """addReplyReplicationBacklog: queue the backlog from ``offset`` to its end for the
    replica; returns the number of bytes."""
    bl = server.repl_backlog
    server.log_debug("[PSYNC] Replica request offset: %d" % offset)
    if bl.histlen == 0:
        server.log_debug("[PSYNC] Backlog history len is zero")
        return 0
    data = bl.copy_from(offset)
    if data:
        c.reply.append(data)
        c.reply_bytes += len(data)
        if not c.flags & _PENDING_WRITE:
            c.flags |= _PENDING_WRITE
            server.clients_pending_write.append(c)
    return len(data)


def get_psync_initial_offset() -> int:
    """getPsyncInitialOffset: valid right after the BGSAVE started."""
    return server.master_repl_offset


def _conn_write(c: net.Client, data: bytes) -> bool:
    """connWrite of a short line on an idle socket (the reply buffers hold the stream)."""
    try:
        return c.conn is not None and c.conn.send(data) == len(data)
    except OSError:
        return False


def replication_setup_slave_for_full_resync(slave: net.Client, offset: int) -> bool:
    """replicationSetupSlaveForFullResync: remember the RDB's offset, start accumulating the
    stream for this replica (SELECT re-emitted) and send +FULLRESYNC <replid> <offset>."""
    srv = server
    slave.psync_initial_offset = offset
    slave.replstate = SLAVE_STATE_WAIT_BGSAVE_END
    srv.slaveseldb = -1
    if not slave.flags & net.CLIENT_PRE_PSYNC:
        if not _conn_write(slave, b"+FULLRESYNC %s %d\r\n" % (srv.replid.encode(), offset)):
            net.free_client_async(slave)
            return False
    return True


@probe("masterTryPartialResynchronization")
def master_try_partial_resynchronization(c: net.Client, psync_offset: int) -> bool:
    """masterTryPartialResynchronization: True when the replica continues from the backlog
    (+CONTINUE); False when it needs a full resync.

    The replica's history is ours if it names our replid, or our previous one (replid2,
    inherited from the master we replicated before a failover) up to second_replid_offset;
    and the backlog must still hold every byte from its offset on.
    """
    srv = server
    master_replid = c.argv[1].decode("latin-1")
    want = master_replid.lower()
    if want != srv.replid.lower() and \
            (want != srv.replid2.lower() or psync_offset > srv.second_replid_offset):
        if master_replid[:1] != "?":
            if want != srv.replid.lower() and want != srv.replid2.lower():
                srv.log_notice("Partial resynchronization not accepted: Replication ID "
                               "mismatch (Replica asked for '%s', my replication IDs are "
                               "'%s' and '%s')" % (master_replid, srv.replid, srv.replid2))
            else:
                srv.log_notice("Partial resynchronization not accepted: Requested offset "
                               "for second ID was %d, but I can reply up to %d"
                               % (psync_offset, srv.second_replid_offset))
        else:
            srv.log_notice("Full resync requested by replica %s" % replication_get_slave_name(c))
        return False
    bl = srv.repl_backlog
    if bl is None or psync_offset < bl.offset or psync_offset > bl.offset + bl.histlen:
        srv.log_notice("Unable to partial resync with replica %s for lack of backlog "
                       "(Replica request was: %d)." % (replication_get_slave_name(c),
                                                         psync_offset))
        if psync_offset > srv.master_repl_offset:
            srv.log_warning("Warning: replica %s tried to PSYNC with an offset that is "
                            "greater than the master replication offset."
                            % replication_get_slave_name(c))
        return False
    c.flags |= net.CLIENT_SLAVE
    c.replstate = SLAVE_STATE_ONLINE
    c.repl_ack_time = srv.unixtime
    _stream_on_ack.discard(c)
    srv.slaves.append(c)
    # The socket is idle (PSYNC is refused with pending output), so this write is whole.
    line = (b"+CONTINUE %s\r\n" % srv.replid.encode() if c.slave_capa & SLAVE_CAPA_PSYNC2
            else b"+CONTINUE\r\n")
    if not _conn_write(c, line):
        net.free_client_async(c)
        return True
    psync_len = add_reply_replication_backlog(c, psync_offset)
    srv.log_notice("Partial resynchronization request from %s accepted. Sending %d bytes of "
                   "backlog starting from offset %d." % (replication_get_slave_name(c),
                                                         psync_len, psync_offset))
    refresh_good_slaves_count()
    return True


def start_bgsave_for_replication(mincapa: int) -> bool:
    """startBgsaveForReplication: an RDB for the replicas waiting in WAIT_BGSAVE_START, to
    their sockets (diskless, when they all support EOF) or to disk."""
    global _rdb_generated_by_replication
    srv = server
    socket_target = bool(srv.repl_diskless_sync) and bool(mincapa & SLAVE_CAPA_EOF)
    srv.log_notice("Starting BGSAVE for SYNC with target: %s"
                   % ("replicas sockets" if socket_target else "disk"))
    rsi = rdbmod.rdb_populate_save_info()
    if rsi is not None:
        if socket_target:
            ok = rdb_save_to_slaves_sockets(rsi)
        else:
            ok = rdbmod.rdb_save_background(srv.dbfilename, rsi)
    else:
        srv.log_warning("BGSAVE for replication: replication information not available, "
                        "can't generate the RDB file right now. Try later.")
        ok = False
    if ok and not socket_target and srv.rdb_del_sync_files:
        _rdb_generated_by_replication = True
    if not ok:
        srv.log_warning("BGSAVE for replication failed")
        for slave in list(srv.slaves):
            if slave.replstate == SLAVE_STATE_WAIT_BGSAVE_START:
                slave.replstate = 0
                slave.flags &= ~net.CLIENT_SLAVE
                srv.slaves.remove(slave)
                net.add_reply_error(slave, "BGSAVE failed, replication can't continue")
                slave.flags |= net.CLIENT_CLOSE_AFTER_REPLY
        return False
    if not socket_target:
        for slave in list(srv.slaves):
            if slave.replstate == SLAVE_STATE_WAIT_BGSAVE_START:
                replication_setup_slave_for_full_resync(slave, get_psync_initial_offset())
    return True


def sync_command(c: net.Client) -> None:
    """SYNC and PSYNC <replid> <offset>: a partial resync if possible, else a full one."""
    srv = server
    if c.flags & net.CLIENT_SLAVE:
        return  # already a replica (or a MONITOR): ignored
    if srv.masterhost and srv.repl_state != REPL_STATE_CONNECTED:
        net.add_reply_error(c, "-NOMASTERLINK Can't SYNC while not connected with my master")
        return
    if c.reply:
        net.add_reply_error(c, "SYNC and PSYNC are invalid with pending output")
        return
    srv.log_notice("Replica %s asks for synchronization" % replication_get_slave_name(c))
    if c.argv[0].lower() == b"psync":
        psync_offset = dbmod.get_long_long_from_object_or_reply(c, c.argv[2])
        if psync_offset is None:
            srv.log_warning("Replica %s asks for synchronization but with a wrong offset"
                            % replication_get_slave_name(c))
            return
        if master_try_partial_resynchronization(c, psync_offset):
            srv.stat_sync_partial_ok += 1
            return
        if c.argv[1][:1] != b"?":
            srv.stat_sync_partial_err += 1
    else:
        # An old-protocol replica (or redis-cli --replica): no REPLCONF ACKs expected.
        c.flags |= net.CLIENT_PRE_PSYNC
    srv.stat_sync_full += 1
    c.replstate = SLAVE_STATE_WAIT_BGSAVE_START
    if srv.repl_disable_tcp_nodelay and c.conn is not None:
        try:
            c.conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)
        except OSError:
            pass
    c.repldbfd = None
    c.flags |= net.CLIENT_SLAVE
    srv.slaves.append(c)
    if len(srv.slaves) == 1 and srv.repl_backlog is None:
        # A backlog from scratch starts a new history: no past offsets are valid.
        change_replication_id()
        clear_replication_id2()
        create_replication_backlog()
        srv.log_notice("Replication backlog created, my new replication IDs are '%s' and '%s'"
                       % (srv.replid, srv.replid2))
    if srv.child_type == rdbmod.CHILD_TYPE_RDB and srv.rdb_child_type == RDB_CHILD_TYPE_DISK:
        # A disk BGSAVE runs: usable if another replica accumulates the stream since its fork.
        other = None
        for slave in srv.slaves:
            if slave.replstate == SLAVE_STATE_WAIT_BGSAVE_END:
                other = slave
                break
        if other is not None and (c.slave_capa & other.slave_capa) == other.slave_capa:
            c.reply = list(other.reply)
            c.reply_bytes = other.reply_bytes
            replication_setup_slave_for_full_resync(c, other.psync_initial_offset)
            srv.log_notice("Waiting for end of BGSAVE for SYNC")
        else:
            srv.log_notice("Can't attach the replica to the current BGSAVE. Waiting for next "
                           "BGSAVE for SYNC")
    elif srv.child_type == rdbmod.CHILD_TYPE_RDB and \
            srv.rdb_child_type == RDB_CHILD_TYPE_SOCKET:
        srv.log_notice("Current BGSAVE has socket target. Waiting for next BGSAVE for SYNC")
    elif srv.repl_diskless_sync and c.slave_capa & SLAVE_CAPA_EOF and \
            srv.repl_diskless_sync_delay:
        # replicationCron starts the child, after the delay lets more replicas arrive.
        srv.log_notice("Delay next BGSAVE for diskless SYNC")
    elif not srv.has_active_child_process():
        start_bgsave_for_replication(c.slave_capa)
    else:
        srv.log_notice("No BGSAVE in progress, but another BG operation is active. BGSAVE "
                       "for replication delayed")


def replconf_command(c: net.Client) -> None:
    """REPLCONF <option> <value> ...: what a replica tells its master before (and, with ACK,
    during) replication; GETACK is the master asking its replica for an ACK."""
    srv = server
    argv = c.argv
    if len(argv) % 2 == 0:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    for j in range(1, len(argv), 2):
        opt = argv[j].lower()
        val = argv[j + 1]
        if opt == b"listening-port":
            port = dbmod.get_long_long_from_object_or_reply(c, val)
            if port is None:
                return
            c.slave_listening_port = port
        elif opt == b"ip-address":
            if len(val) < NET_HOST_STR_LEN:
                c.slave_addr = val.decode("utf-8", "replace")
            else:
                net.add_reply_error(c, "REPLCONF ip-address provided by replica instance is "
                                       "too long: %d bytes" % len(val))
                return
        elif opt == b"capa":
            v = val.lower()
            if v == b"eof":
                c.slave_capa |= SLAVE_CAPA_EOF
            elif v == b"psync2":
                c.slave_capa |= SLAVE_CAPA_PSYNC2
        elif opt == b"ack":
            # No reply: the replica reports the stream offset it has processed.
            if not c.flags & net.CLIENT_SLAVE:
                return
            offset = util.string2ll(val)
            if offset is None:
                return
            if offset > c.repl_ack_off:
                c.repl_ack_off = offset
            c.repl_ack_time = srv.unixtime
            # The ACK may come before serverCron noticed the diskless child is done.
            if srv.child_type == rdbmod.CHILD_TYPE_RDB and \
                    c.replstate == SLAVE_STATE_WAIT_BGSAVE_END:
                rdbmod.check_children_done()
                if c.replstate == SLAVE_STATE_WAIT_BGSAVE_END and \
                        srv.rdb_child_type == RDB_CHILD_TYPE_SOCKET:
                    _acked_early.add(c)
            if c in _stream_on_ack and c.replstate == SLAVE_STATE_ONLINE:
                replica_start_command_stream(c)
            return
        elif opt == b"getack":
            if srv.masterhost and srv.master is not None:
                replication_send_ack()
            return
        elif opt == b"rdb-only":
            if dbmod.get_range_long_from_object_or_reply(c, val, 0, 1) is None:
                return
        elif opt == b"rdb-filter-only":
            for f in val.split():
                if f.lower() != b"functions":
                    net.add_reply_error(c, "Unsupported rdb-filter-only option: %s"
                                        % f.decode("utf-8", "replace"))
                    return
        else:
            net.add_reply_error(c, "Unrecognized REPLCONF option: %s"
                                % argv[j].decode("utf-8", "replace"))
            return
    net.add_reply(c, shared.ok)


def replica_put_online(slave: net.Client) -> bool:
    """replicaPutOnline: the replica has its RDB; count it as good and log it."""
    slave.replstate = SLAVE_STATE_ONLINE
    slave.repl_ack_time = server.unixtime
    refresh_good_slaves_count()
    server.log_notice("Synchronization with replica %s succeeded"
                      % replication_get_slave_name(slave))
    return True


def replica_start_command_stream(slave: net.Client) -> None:
    """replicaStartCommandStream: send the stream accumulated during the transfer."""
    _stream_on_ack.discard(slave)
    if slave.reply and not slave.flags & _PENDING_WRITE:
        slave.flags |= _PENDING_WRITE
        server.clients_pending_write.append(slave)


def remove_rdb_used_to_sync_replicas() -> None:
    """removeRDBUsedToSyncReplicas: with rdb-del-sync-files and no persistence, the dump
    written only to feed replicas is deleted once no replica needs it."""
    global _rdb_generated_by_replication
    srv = server
    if not srv.rdb_del_sync_files:
        _rdb_generated_by_replication = False
        return
    if not _rdb_generated_by_replication or srv.save or srv.appendonly:
        return
    for slave in srv.slaves:
        if slave.replstate in (SLAVE_STATE_WAIT_BGSAVE_START, SLAVE_STATE_WAIT_BGSAVE_END,
                               SLAVE_STATE_SEND_BULK):
            return
    if os.path.exists(srv.dbfilename):
        _rdb_generated_by_replication = False
        srv.log_notice("Removing the RDB file used to feed replicas in a persistence-less "
                       "instance")
        try:
            os.unlink(srv.dbfilename)
        except OSError:
            pass


def send_bulk_to_slave(slave: net.Client) -> None:
    """sendBulkToSlave: the write handler of a disk-target transfer: "$<size>\\r\\n", then
    the file; once all is sent the replica is online and its accumulated stream follows."""
    srv = server
    if slave.replpreamble:
        try:
            n = slave.conn.send(slave.replpreamble)
        except BlockingIOError:
            return
        except OSError as e:
            srv.log_warning("Write error sending RDB preamble to replica: %s" % e.strerror)
            net.free_client(slave)
            return
        srv.stat_net_repl_output_bytes += n
        slave.replpreamble = slave.replpreamble[n:]
        if slave.replpreamble:
            return
        slave.replpreamble = None
    for _ in range(16):  # bounded work per event, like Redis's one buffer per call
        try:
            chunk = os.pread(slave.repldbfd, REPL_IOBUF_LEN, slave.repldboff)
        except OSError as e:
            srv.log_warning("Read error sending DB to replica: %s" % e.strerror)
            net.free_client(slave)
            return
        if not chunk:
            srv.log_warning("Read error sending DB to replica: premature EOF")
            net.free_client(slave)
            return
        try:
            n = slave.conn.send(chunk)
        except BlockingIOError:
            return
        except OSError as e:
            srv.log_warning("Write error sending DB to replica: %s" % e.strerror)
            net.free_client(slave)
            return
        slave.repldboff += n
        srv.stat_net_repl_output_bytes += n
        if slave.repldboff == slave.repldbsize:
            os.close(slave.repldbfd)
            slave.repldbfd = None
            srv.el.delete_file_event(slave.fd, AE_WRITABLE)
            replica_put_online(slave)
            replica_start_command_stream(slave)
            return
        if n < len(chunk):
            return


def _send_bulk_to_slave_handler(el, fd: int, slave: net.Client, mask: int) -> None:
    send_bulk_to_slave(slave)  # looked up at call time so an armed probe is seen


# --------------------------------------------------------------------------------------------
# MASTER: diskless transfer through a pipe (rdb.c rdbSaveToSlavesSockets + the relay)
# --------------------------------------------------------------------------------------------

def rdb_save_to_slaves_sockets(rsi) -> bool:
    """rdbSaveToSlavesSockets: fork a child that writes "$EOF:<mark>\\r\\n<RDB><mark>" into a
    pipe; the parent relays the pipe to every replica in WAIT_BGSAVE_START.

    The child does not write to the sockets itself so that the parent keeps full control of
    each connection; it waits on a second pipe for the parent's permission to exit, so it
    is only reaped once every byte has been relayed.
    """
    srv = server
    if srv.has_active_child_process() or _pipe.conns is not None:
        return False
    rfd, wfd = os.pipe()
    os.set_blocking(rfd, False)
    safe_r, safe_w = os.pipe()
    conns = []
    for slave in list(srv.slaves):
        if slave.replstate == SLAVE_STATE_WAIT_BGSAVE_START:
            conns.append(slave)
            replication_setup_slave_for_full_resync(slave, get_psync_initial_offset())
    try:
        childpid = rdbmod.redis_fork(rdbmod.CHILD_TYPE_RDB)
    except OSError as e:
        srv.log_warning("Can't save in background: fork: %s" % e.strerror)
        for slave in srv.slaves:
            if slave.replstate == SLAVE_STATE_WAIT_BGSAVE_END:
                slave.replstate = SLAVE_STATE_WAIT_BGSAVE_START
        for fd in (rfd, wfd, safe_r, safe_w):
            os.close(fd)
        return False
    if childpid == 0:
        _rdb_to_pipe_child(rfd, wfd, safe_r, safe_w, rsi)  # never returns
    srv.log_notice("Background RDB transfer started by pid %d" % childpid)
    srv.rdb_save_time_start = int(time.time())
    srv.rdb_child_type = RDB_CHILD_TYPE_SOCKET
    os.close(wfd)
    os.close(safe_r)
    _pipe.read_fd = rfd
    _pipe.exit_fd = safe_w
    _pipe.conns = conns
    _pipe.numconns_writing = 0
    srv.el.create_file_event(rfd, AE_READABLE, _rdb_pipe_read_handler_trampoline, None)
    return True


def _rdb_to_pipe_child(rfd: int, wfd: int, safe_r: int, safe_w: int, rsi) -> None:
    """The forked child of a diskless transfer (rdbSaveRioWithEOFMark)."""
    code = 1
    try:
        os.close(rfd)
        os.close(safe_w)
        f = os.fdopen(wfd, "wb", buffering=0)
        mark = util.get_random_hex_chars(RDB_EOF_MARK_SIZE).encode()
        _write_all(f, b"$EOF:" + mark + b"\r\n")
        rio = rdbmod.Rio(f)
        rdbmod.rdb_save_rio(rio, rdbmod.RDBFLAGS_NONE, rsi)
        _write_all(f, mark)
        rdbmod.send_child_cow_info(rdbmod.CHILD_INFO_TYPE_RDB_COW_SIZE, "RDB")
        f.close()
        code = 0
    except BaseException:  # noqa: BLE001 - the child must always reach exit_from_child
        import traceback

        server.log_warning("Diskless RDB child failed:\n" + traceback.format_exc())
    try:
        os.read(safe_r, 1)  # returns when the parent closes its end: safe to exit
    except OSError:
        pass
    rdbmod.exit_from_child(code)


def _write_all(f, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = f.write(view) or 0
        view = view[n:]


def _rdb_pipe_read_handler_trampoline(el, fd: int, data, mask: int) -> None:
    rdb_pipe_read_handler(fd)


def rdb_pipe_read_handler(fd: int) -> None:
    """rdbPipeReadHandler: relay what the child wrote to every replica; a replica whose
    socket is full gets a write handler and the pipe is not read until all caught up."""
    srv = server
    el = srv.el
    while True:
        try:
            buf = os.read(fd, REPL_IOBUF_LEN)
        except BlockingIOError:
            return
        except OSError as e:
            srv.log_warning("Diskless rdb transfer, read error sending DB to replicas: %s"
                            % e.strerror)
            for i, slave in enumerate(_pipe.conns or []):
                if slave is not None:
                    _pipe.conns[i] = None
                    net.free_client(slave)
            rdbmod.kill_rdb_child()
            return
        if not buf:
            el.delete_file_event(fd, AE_READABLE)
            still_up = sum(1 for s in _pipe.conns or [] if s is not None)
            srv.log_warning("Diskless rdb transfer, done reading from pipe, %d replicas "
                            "still up." % still_up)
            _close_exit_pipe()
            return
        _pipe.buf = buf
        still_alive = 0
        conns = _pipe.conns
        for i, slave in enumerate(conns):
            if slave is None:
                continue
            try:
                n = slave.conn.send(buf)
            except BlockingIOError:
                n = 0
            except OSError as e:
                srv.log_warning("Diskless rdb transfer, write error sending DB to replica: %s"
                                % e.strerror)
                conns[i] = None
                net.free_client(slave)
                continue
            srv.stat_net_repl_output_bytes += n
            slave.repldboff = n   # offset inside the current pipe buffer
            if n != len(buf):
                _last_partial_write[slave] = srv.unixtime
                _pipe.numconns_writing += 1
                el.create_file_event(slave.fd, AE_WRITABLE, _rdb_pipe_write_handler, slave)
            still_alive += 1
        if still_alive == 0:
            srv.log_warning("Diskless rdb transfer, last replica dropped, killing fork child.")
            rdbmod.kill_rdb_child()
        if _pipe.numconns_writing or still_alive == 0:
            el.delete_file_event(fd, AE_READABLE)
            return


def _rdb_pipe_write_handler(el, fd: int, slave: net.Client, mask: int) -> None:
    """rdbPipeWriteHandler: finish the current pipe buffer for one replica."""
    srv = server
    buf = _pipe.buf
    try:
        n = slave.conn.send(memoryview(buf)[slave.repldboff:])
    except BlockingIOError:
        return
    except OSError as e:
        srv.log_warning("Write error sending DB to replica: %s" % e.strerror)
        net.free_client(slave)
        return
    slave.repldboff += n
    srv.stat_net_repl_output_bytes += n
    if slave.repldboff < len(buf):
        _last_partial_write[slave] = srv.unixtime
        return
    _rdb_pipe_write_handler_conn_removed(slave)


def _rdb_pipe_write_handler_conn_removed(slave: net.Client) -> None:
    """rdbPipeWriteHandlerConnRemoved: one fewer replica to wait for before the pipe is
    read again."""
    el = server.el
    if slave.conn is None or not el.has_write_handler(slave.fd):
        return
    el.delete_file_event(slave.fd, AE_WRITABLE)
    _last_partial_write.pop(slave, None)
    _pipe.numconns_writing -= 1
    if _pipe.numconns_writing == 0 and _pipe.read_fd != -1:
        el.create_file_event(_pipe.read_fd, AE_READABLE, _rdb_pipe_read_handler_trampoline,
                             None)


def _close_exit_pipe() -> None:
    if _pipe.exit_fd != -1:
        try:
            os.close(_pipe.exit_fd)
        except OSError:
            pass
        _pipe.exit_fd = -1


def background_save_done_handler_socket(exitcode: int, bysignal: int) -> None:
    """backgroundSaveDoneHandlerSocket: log, then tear the pipe relay down."""
    srv = server
    if not bysignal and exitcode == 0:
        srv.log_notice("Background RDB transfer terminated with success")
    elif not bysignal:
        srv.log_warning("Background transfer error")
    else:
        srv.log_warning("Background transfer terminated by signal %d" % bysignal)
    _close_exit_pipe()
    if _pipe.read_fd != -1:
        srv.el.delete_file_event(_pipe.read_fd, AE_READABLE)
        try:
            os.close(_pipe.read_fd)
        except OSError:
            pass
    for slave in _pipe.conns or []:
        if slave is not None and slave.conn is not None and \
                srv.el.has_write_handler(slave.fd):
            srv.el.delete_file_event(slave.fd, AE_WRITABLE)
        _last_partial_write.pop(slave, None)
    _pipe.read_fd = -1
    _pipe.conns = None
    _pipe.numconns_writing = 0
    _pipe.buf = b""


def update_slaves_waiting_bgsave(ok: bool, rdb_child_type: int) -> None:
    """updateSlavesWaitingBgsave: the RDB child ended.  Disk target: start sending the file
    to the replicas that waited for it.  Socket target: the transfer is complete; the
    replica is online but its stream starts at its first REPLCONF ACK, so the EOF mark is
    the last thing it reads before it has loaded."""
    srv = server
    early = set(_acked_early)
    _acked_early.clear()
    for slave in list(srv.slaves):
        if slave.replstate != SLAVE_STATE_WAIT_BGSAVE_END:
            continue
        if not ok:
            net.free_client_async(slave)
            srv.log_warning("SYNC failed. BGSAVE child returned an error")
            continue
        if rdb_child_type == RDB_CHILD_TYPE_SOCKET:
            srv.log_notice("Streamed RDB transfer with replica %s succeeded (socket). Waiting "
                           "for REPLCONF ACK from slave to enable streaming"
                           % replication_get_slave_name(slave))
            replica_put_online(slave)
            if slave in early:
                replica_start_command_stream(slave)
            else:
                _stream_on_ack.add(slave)
        else:
            try:
                fd = os.open(srv.dbfilename, os.O_RDONLY)
                size = os.fstat(fd).st_size
            except OSError as e:
                net.free_client_async(slave)
                srv.log_warning("SYNC failed. Can't open/stat DB after BGSAVE: %s"
                                % e.strerror)
                continue
            slave.repldbfd = fd
            slave.repldboff = 0
            slave.repldbsize = size
            slave.replstate = SLAVE_STATE_SEND_BULK
            slave.replpreamble = b"$%d\r\n" % size
            srv.el.delete_file_event(slave.fd, AE_WRITABLE)
            srv.el.create_file_event(slave.fd, AE_WRITABLE, _send_bulk_to_slave_handler, slave)


def change_replication_id() -> None:
    """changeReplicationId: a new history starts (no PSYNC with the old ID any more)."""
    server.replid = util.get_random_hex_chars(CONFIG_RUN_ID_SIZE)


def clear_replication_id2() -> None:
    """clearReplicationId2."""
    server.replid2 = "0" * CONFIG_RUN_ID_SIZE
    server.second_replid_offset = -1


def shift_replication_id() -> None:
    """shiftReplicationId: on promotion the inherited ID becomes replid2, valid up to the
    next offset (a replica asks for the first byte it lacks), and a new ID starts."""
    srv = server
    srv.replid2 = srv.replid
    srv.second_replid_offset = srv.master_repl_offset + 1
    change_replication_id()
    srv.log_warning("Setting secondary replication ID to %s, valid up to offset: %d. New "
                    "replication ID is %s" % (srv.replid2, srv.second_replid_offset, srv.replid))


def disconnect_slaves() -> None:
    """disconnectSlaves: every replica must resync with us."""
    for slave in list(server.slaves):
        net.free_client(slave)


# --------------------------------------------------------------------------------------------
# REPLICA: receiving the RDB and creating the master client
# --------------------------------------------------------------------------------------------

def slave_is_in_handshake_state() -> bool:
    return REPL_STATE_RECEIVE_PING_REPLY <= server.repl_state <= REPL_STATE_RECEIVE_PSYNC_REPLY


@probe("replicationCreateMasterClient")
def replication_create_master_client(conn: socket.socket | None, dbid: int) -> net.Client:
    """replicationCreateMasterClient: the synchronized link becomes server.master, a client
    whose commands are applied without replies, starting at master_initial_offset."""
    srv = server
    c = net.create_client(conn)
    c.flags |= net.CLIENT_MASTER
    c.authenticated = True
    c.reploff = srv.master_initial_offset
    c.read_reploff = c.reploff
    srv.master = c
    srv.master_link = MasterLink(srv.master_replid, c.reploff)
    if c.reploff == -1:
        c.flags |= net.CLIENT_PRE_PSYNC
    if dbid != -1:
        dbmod.select_db(c, dbid)
    return c


def _use_diskless_load() -> bool:
    """useDisklessLoad."""
    mode = server.repl_diskless_load
    return mode == "swapdb" or (mode == "on-empty-db" and
                                not any(len(d.dict) for d in server.db))


def replication_attach_to_new_master() -> None:
    """replicationAttachToNewMaster: a new dataset from a master: our own replicas and our
    backlog describe a history that ended."""
    replication_discard_cached_master()
    disconnect_slaves()
    free_replication_backlog()


@probe("readSyncBulkPayload")
def read_sync_bulk_payload(conn: socket.socket) -> None:
    """readSyncBulkPayload: the RDB after +FULLRESYNC, in one of two forms:

    ``$<count>\\r\\n`` and count bytes (disk target), or ``$EOF:<40 chars>\\r\\n``, the RDB,
    then the same 40 chars (diskless: the master did not know the size).  It is stored in a
    temp file renamed over dbfilename (or kept in memory with repl-diskless-load), then
    the old data is flushed, the RDB loaded and the link becomes the master client.
    """
    srv = server
    st = _transfer
    use_diskless_load = _use_diskless_load()
    if srv.repl_transfer_size == -1:
        line = _sync_read_line(conn)
        if line is None:
            srv.log_warning("I/O error reading bulk count from MASTER: connection lost")
            _read_sync_error()
            return
        srv.stat_net_repl_input_bytes += len(line) + 2
        if line[:1] == "-":
            srv.log_warning("MASTER aborted replication with an error: %s" % line[1:])
            _read_sync_error()
            return
        if line == "":
            # A newline is the master's keepalive while it prepares the RDB.
            srv.repl_transfer_lastio = srv.unixtime
            return
        if line[:1] != "$":
            srv.log_warning("Bad protocol from MASTER, the first byte is not '$' (we received "
                            "'%s'), are you sure the host and port are right?" % line)
            _read_sync_error()
            return
        if line[1:5] == "EOF:" and len(line) - 5 >= CONFIG_RUN_ID_SIZE:
            st.usemark = True
            st.eofmark = line[5:5 + CONFIG_RUN_ID_SIZE].encode("latin-1")
            st.lastbytes = b""
            srv.repl_transfer_size = 0
            srv.log_notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with "
                           "EOF %s" % ("to parser" if use_diskless_load else "to disk"))
        else:
            st.usemark = False
            srv.repl_transfer_size = util.string2ll(line[1:].encode()) or 0
            srv.log_notice("MASTER <-> REPLICA sync: receiving %d bytes from master %s"
                           % (srv.repl_transfer_size,
                              "to parser" if use_diskless_load else "to disk"))
        return
    if st.usemark:
        readlen = REPL_IOBUF_LEN
    else:
        readlen = min(srv.repl_transfer_size - srv.repl_transfer_read, REPL_IOBUF_LEN)
    try:
        buf = conn.recv(readlen) if readlen > 0 else b""
    except (BlockingIOError, InterruptedError):
        return
    except OSError as e:
        srv.log_warning("I/O error trying to sync with MASTER: %s" % e.strerror)
        cancel_replication_handshake(True)
        return
    if not buf and readlen > 0:
        srv.log_warning("I/O error trying to sync with MASTER: connection lost")
        cancel_replication_handshake(True)
        return
    nread = len(buf)
    srv.stat_net_repl_input_bytes += nread
    eof_reached = False
    if st.usemark:
        st.lastbytes = buf[-RDB_EOF_MARK_SIZE:] if nread >= RDB_EOF_MARK_SIZE else \
            (st.lastbytes + buf)[-RDB_EOF_MARK_SIZE:]
        eof_reached = st.lastbytes == st.eofmark
    srv.repl_transfer_lastio = srv.unixtime
    if st.membuf is not None:
        st.membuf += buf
    else:
        try:
            _write_fd_all(srv.repl_transfer_fd, buf)
        except OSError as e:
            srv.log_warning("Write error or short write writing to the DB dump file needed "
                            "for MASTER <-> REPLICA synchronization: %s" % e.strerror)
            _read_sync_error()
            return
    srv.repl_transfer_read += nread
    if st.usemark and eof_reached:
        keep = srv.repl_transfer_read - RDB_EOF_MARK_SIZE
        if st.membuf is not None:
            del st.membuf[keep:]
        else:
            try:
                os.ftruncate(srv.repl_transfer_fd, keep)
            except OSError as e:
                srv.log_warning("Error truncating the RDB file received from the master for "
                                "SYNC: %s" % e.strerror)
                _read_sync_error()
                return
    if st.membuf is None and srv.repl_transfer_read >= \
            srv.repl_transfer_last_fsync_off + REPL_MAX_WRITTEN_BEFORE_FSYNC:
        # Flush as we go, so the final fsync does not stall on gigabytes of dirty pages.
        try:
            os.fdatasync(srv.repl_transfer_fd)
        except OSError:
            pass
        srv.repl_transfer_last_fsync_off = srv.repl_transfer_read
    if not st.usemark and srv.repl_transfer_read == srv.repl_transfer_size:
        eof_reached = True
    if not eof_reached:
        return
    _load_transferred_rdb(conn, st)


def _load_transferred_rdb(conn: socket.socket, st) -> None:
    """readSyncBulkPayload's second half: flush, load, create the master client."""
    srv = server
    el = srv.el
    if srv.child_type == rdbmod.CHILD_TYPE_RDB:
        if st.membuf is None:
            srv.log_notice("Replica is about to load the RDB file received from the master, "
                           "but there is a pending RDB child running. Killing process %d and "
                           "removing its temp file to avoid any race" % srv.child_pid)
        rdbmod.kill_rdb_child()
        rdbmod.rdb_remove_temp_file(srv.child_pid)
    replication_attach_to_new_master()
    srv.log_notice("MASTER <-> REPLICA sync: Flushing old data")
    dbmod.empty_data(-1, None, dbmod.EMPTYDB_ASYNC if srv.replica_lazy_flush
                     else dbmod.EMPTYDB_NO_FLAGS)
    # Loading serves other clients now and then (-LOADING): this socket must stay quiet.
    el.delete_file_event(conn.fileno(), AE_READABLE)
    srv.log_notice("MASTER <-> REPLICA sync: Loading DB in memory")
    rsi = rdbmod.RdbSaveInfo()
    if st.membuf is not None:
        data = bytes(st.membuf)
        st.membuf = None
        rdbmod.start_loading(len(data), rdbmod.RDBFLAGS_REPLICATION)
        ok = rdbmod.rdb_load_rio(rdbmod.RioReader(data), rdbmod.RDBFLAGS_REPLICATION, rsi)
        rdbmod.stop_loading(ok)
        if not ok:
            srv.log_warning("Failed trying to load the MASTER synchronization DB from socket")
            cancel_replication_handshake(True)
            dbmod.empty_data(-1, None, dbmod.EMPTYDB_NO_FLAGS)
            return
        srv.dirty += 1  # no save happened: the dataset changed
    else:
        fd = srv.repl_transfer_fd
        try:
            os.fsync(fd)
        except OSError as e:
            srv.log_warning("Failed trying to sync the temp DB to disk in MASTER <-> REPLICA "
                            "synchronization: %s" % e.strerror)
            cancel_replication_handshake(True)
            return
        try:
            os.rename(srv.repl_transfer_tmpfile, srv.dbfilename)
        except OSError as e:
            srv.log_warning("Failed trying to rename the temp DB into %s in MASTER <-> "
                            "REPLICA synchronization: %s" % (srv.dbfilename, e.strerror))
            cancel_replication_handshake(True)
            return
        os.close(fd)
        srv.repl_transfer_fd = -1
        srv.repl_transfer_tmpfile = None
        if not _load_rdb_file(srv.dbfilename, rsi):
            srv.log_warning("Failed trying to load the MASTER synchronization DB from disk")
            cancel_replication_handshake(True)
            if srv.rdb_del_sync_files and not srv.save and not srv.appendonly:
                srv.log_notice("Removing the RDB file obtained from the master. This replica "
                               "has persistence disabled")
                _unlink_quietly(srv.dbfilename)
            return
        if srv.rdb_del_sync_files and not srv.save and not srv.appendonly:
            srv.log_notice("Removing the RDB file obtained from the master. This replica has "
                           "persistence disabled")
            _unlink_quietly(srv.dbfilename)
    replication_create_master_client(conn, rsi.repl_stream_db)
    srv.repl_transfer_s = None
    srv.repl_state = REPL_STATE_CONNECTED
    srv.repl_down_since = 0
    # A full resync adopts the master's history: its ID and offset; no ID2.
    srv.replid = srv.master_link.replid
    srv.master_repl_offset = srv.master.reploff
    clear_replication_id2()
    if srv.repl_backlog is None:
        create_replication_backlog()
    srv.log_notice("MASTER <-> REPLICA sync: Finished with success")
    if st.usemark:
        replication_send_ack()  # the diskless master starts our stream at this ACK


def _load_rdb_file(path: str, rsi) -> bool:
    """rdbLoad without its fatal exit: a bad payload cancels this sync, not the server."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        size = os.fstat(fd).st_size
        data = mmap.mmap(fd, size, access=mmap.ACCESS_READ) if size else b""
    except OSError:
        os.close(fd)
        return False
    os.close(fd)
    rdbmod.start_loading(size, rdbmod.RDBFLAGS_REPLICATION)
    ok = False
    try:
        ok = rdbmod.rdb_load_rio(rdbmod.RioReader(data), rdbmod.RDBFLAGS_REPLICATION, rsi)
    finally:
        if isinstance(data, mmap.mmap):
            data.close()
        rdbmod.stop_loading(ok)
    return ok


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _write_fd_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _read_sync_error() -> None:
    cancel_replication_handshake(True)


class _Transfer:
    """readSyncBulkPayload's static variables, plus the in-memory payload."""

    __slots__ = ("usemark", "eofmark", "lastbytes", "membuf")

    def __init__(self) -> None:
        self.usemark = False
        self.eofmark = b""
        self.lastbytes = b""
        self.membuf: bytearray | None = None


_transfer = _Transfer()


def _read_sync_bulk_payload_handler(el, fd: int, data, mask: int) -> None:
    conn = server.repl_transfer_s
    if conn is None or conn.fileno() != fd:
        el.delete_file_event(fd, AE_READABLE)
        return
    read_sync_bulk_payload(conn)


# --------------------------------------------------------------------------------------------
# REPLICA: the handshake (syncWithMaster)
# --------------------------------------------------------------------------------------------

def _sync_read_line(conn: socket.socket, timeout: float = CONFIG_REPL_SYNCIO_TIMEOUT) -> str | None:
    """syncReadLine: one reply line, read a byte at a time (never past the line: what
    follows belongs to the RDB or the stream), waiting at most ``timeout`` seconds.
    None on error, timeout or EOF."""
    out = bytearray()
    conn.settimeout(timeout)
    try:
        while True:
            ch = conn.recv(1)
            if not ch:
                return None
            if ch == b"\n":
                break
            out += ch
    except OSError:
        return None
    finally:
        try:
            conn.setblocking(False)
        except OSError:
            pass
    if out.endswith(b"\r"):
        del out[-1]
    return out.decode("latin-1")


def _send_command(conn: socket.socket, *args: bytes) -> str | None:
    """sendCommand: one multibulk command, written synchronously; an error text or None."""
    payload = b"*%d\r\n" % len(args) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in args)
    conn.settimeout(CONFIG_REPL_SYNCIO_TIMEOUT)
    try:
        conn.sendall(payload)
    except OSError as e:
        return "Writing to master: %s" % (e.strerror or str(e))
    finally:
        try:
            conn.setblocking(False)
        except OSError:
            pass
    return None


def _conn_close(conn: socket.socket | None) -> None:
    if conn is None:
        return
    try:
        fd = conn.fileno()
    except OSError:
        fd = -1
    if fd != -1:
        server.el.delete_file_event(fd, AE_READABLE | AE_WRITABLE)
    try:
        conn.close()
    except OSError:
        pass


def slave_try_partial_resynchronization(conn: socket.socket, read_reply: bool) -> int:
    """slaveTryPartialResynchronization: the write half sends PSYNC with the cached master's
    replid and offset+1 (or "? -1" to ask for a full resync); the read half parses
    +FULLRESYNC <replid> <offset>, +CONTINUE [<new replid>] or an error."""
    srv = server
    if not read_reply:
        srv.master_initial_offset = -1
        cached = srv.cached_master
        if cached is not None:
            psync_replid = srv.master_link.replid
            psync_offset = b"%d" % (cached.reploff + 1)
            srv.log_notice("Trying a partial resynchronization (request %s:%s)."
                           % (psync_replid, psync_offset.decode()))
        else:
            srv.log_notice("Partial resynchronization not possible (no cached master)")
            psync_replid = "?"
            psync_offset = b"-1"
        err = _send_command(conn, b"PSYNC", psync_replid.encode(), psync_offset)
        if err is not None:
            srv.log_warning("Unable to send PSYNC to master: %s" % err)
            srv.el.delete_file_event(conn.fileno(), AE_READABLE)
            return PSYNC_WRITE_ERROR
        return PSYNC_WAIT_REPLY
    reply = _sync_read_line(conn)
    if reply is None:
        srv.el.delete_file_event(conn.fileno(), AE_READABLE)
        srv.log_warning("Master did not reply to PSYNC, will try later")
        return PSYNC_TRY_LATER
    if reply == "":
        return PSYNC_WAIT_REPLY  # keepalive newlines while the master prepares
    srv.el.delete_file_event(conn.fileno(), AE_READABLE)
    if reply.startswith("+FULLRESYNC"):
        parts = reply.split(" ")
        if len(parts) < 3 or len(parts[1]) != CONFIG_RUN_ID_SIZE:
            srv.log_warning("Master replied with wrong +FULLRESYNC syntax.")
            srv.master_replid = ""
        else:
            srv.master_replid = parts[1]
            srv.master_initial_offset = util.string2ll(parts[2].encode()) or 0
            srv.log_notice("Full resync from master: %s:%d"
                           % (srv.master_replid, srv.master_initial_offset))
        return PSYNC_FULLRESYNC
    if reply.startswith("+CONTINUE"):
        srv.log_notice("Successful partial resynchronization with master.")
        new = reply[10:].strip()
        link = srv.master_link
        if len(new) == CONFIG_RUN_ID_SIZE and new != link.replid:
            # The master was promoted (failover): our history continues under its new ID;
            # the old one stays valid as our ID2 for our own replicas.
            srv.log_warning("Master replication ID changed to %s" % new)
            srv.replid2 = link.replid
            srv.second_replid_offset = srv.master_repl_offset + 1
            srv.replid = new
            link.replid = new
            disconnect_slaves()
        replication_resurrect_cached_master(conn)
        if srv.repl_backlog is None:
            create_replication_backlog()
        return PSYNC_CONTINUE
    if reply.startswith(("-NOMASTERLINK", "-LOADING")):
        srv.log_notice("Master is currently unable to PSYNC but should be in the future: %s"
                       % reply)
        return PSYNC_TRY_LATER
    if not reply.startswith("-ERR"):
        srv.log_warning("Unexpected reply to PSYNC from master: %s" % reply)
    else:
        srv.log_notice("Master does not support PSYNC or is in error state (reply: %s)"
                       % reply)
    return PSYNC_NOT_SUPPORTED


@probe("syncWithMaster")
def sync_with_master(conn: socket.socket) -> None:
    """syncWithMaster: one step of the replica's handshake per readable event.

    CONNECTING -> (PING) RECEIVE_PING_REPLY -> SEND_HANDSHAKE (AUTH, REPLCONF listening-port,
    [ip-address], capa eof psync2, pipelined) -> RECEIVE_AUTH/PORT/IP/CAPA_REPLY ->
    SEND_PSYNC -> RECEIVE_PSYNC_REPLY -> TRANSFER (readSyncBulkPayload) or, on +CONTINUE,
    CONNECTED at once.
    """
    srv = server
    el = srv.el
    fd = conn.fileno()
    if srv.repl_state == REPL_STATE_NONE:
        _conn_close(conn)
        return
    if srv.repl_state == REPL_STATE_CONNECTING:
        err = conn.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            srv.log_warning("Error condition on socket for SYNC: %s" % os.strerror(err))
            _sync_error()
            return
        srv.log_notice("Non blocking connect for SYNC fired the event.")
        el.delete_file_event(fd, AE_WRITABLE)
        el.create_file_event(fd, AE_READABLE, _sync_with_master_handler, None)
        srv.repl_state = REPL_STATE_RECEIVE_PING_REPLY
        err = _send_command(conn, b"PING")
        if err:
            _sync_write_error(err)
        return
    if srv.repl_state == REPL_STATE_RECEIVE_PING_REPLY:
        reply = _sync_read_line(conn)
        if reply is None:
            _sync_no_response_error()
            return
        # +PONG, or an auth error (we authenticate next), are fine.
        if reply[:1] != "+" and not reply.startswith(("-NOAUTH", "-NOPERM",
                                                      "-ERR operation not permitted")):
            srv.log_warning("Error reply to PING from master: '%s'" % reply)
            _sync_error()
            return
        srv.log_notice("Master replied to PING, replication can continue...")
        srv.repl_state = REPL_STATE_SEND_HANDSHAKE
    if srv.repl_state == REPL_STATE_SEND_HANDSHAKE:
        if srv.masterauth:
            args = [b"AUTH"]
            if srv.masteruser:
                args.append(srv.masteruser.encode())
            args.append(srv.masterauth.encode())
            err = _send_command(conn, *args)
            if err:
                _sync_write_error(err)
                return
        port = srv.replica_announce_port or srv.port
        err = _send_command(conn, b"REPLCONF", b"listening-port", b"%d" % port)
        if err:
            _sync_write_error(err)
            return
        if srv.replica_announce_ip:
            err = _send_command(conn, b"REPLCONF", b"ip-address",
                                srv.replica_announce_ip.encode())
            if err:
                _sync_write_error(err)
                return
        err = _send_command(conn, b"REPLCONF", b"capa", b"eof", b"capa", b"psync2")
        if err:
            _sync_write_error(err)
            return
        srv.repl_state = REPL_STATE_RECEIVE_AUTH_REPLY
        return
    if srv.repl_state == REPL_STATE_RECEIVE_AUTH_REPLY and not srv.masterauth:
        srv.repl_state = REPL_STATE_RECEIVE_PORT_REPLY
    if srv.repl_state == REPL_STATE_RECEIVE_AUTH_REPLY:
        reply = _sync_read_line(conn)
        if reply is None:
            _sync_no_response_error()
            return
        if reply[:1] == "-":
            srv.log_warning("Unable to AUTH to MASTER: %s" % reply)
            _sync_error()
            return
        srv.repl_state = REPL_STATE_RECEIVE_PORT_REPLY
        return
    if srv.repl_state == REPL_STATE_RECEIVE_PORT_REPLY:
        reply = _sync_read_line(conn)
        if reply is None:
            _sync_no_response_error()
            return
        if reply[:1] == "-":
            srv.log_notice("(Non critical) Master does not understand REPLCONF "
                           "listening-port: %s" % reply)
        srv.repl_state = REPL_STATE_RECEIVE_IP_REPLY
        return
    if srv.repl_state == REPL_STATE_RECEIVE_IP_REPLY and not srv.replica_announce_ip:
        srv.repl_state = REPL_STATE_RECEIVE_CAPA_REPLY
    if srv.repl_state == REPL_STATE_RECEIVE_IP_REPLY:
        reply = _sync_read_line(conn)
        if reply is None:
            _sync_no_response_error()
            return
        if reply[:1] == "-":
            srv.log_notice("(Non critical) Master does not understand REPLCONF ip-address: %s"
                           % reply)
        srv.repl_state = REPL_STATE_RECEIVE_CAPA_REPLY
        return
    if srv.repl_state == REPL_STATE_RECEIVE_CAPA_REPLY:
        reply = _sync_read_line(conn)
        if reply is None:
            _sync_no_response_error()
            return
        if reply[:1] == "-":
            srv.log_notice("(Non critical) Master does not understand REPLCONF capa: %s"
                           % reply)
        srv.repl_state = REPL_STATE_SEND_PSYNC
    if srv.repl_state == REPL_STATE_SEND_PSYNC:
        if slave_try_partial_resynchronization(conn, False) == PSYNC_WRITE_ERROR:
            _sync_write_error("Write error sending the PSYNC command.")
            return
        srv.repl_state = REPL_STATE_RECEIVE_PSYNC_REPLY
        return
    if srv.repl_state != REPL_STATE_RECEIVE_PSYNC_REPLY:
        srv.log_warning("syncWithMaster(): state machine error, state should be RECEIVE_PSYNC "
                        "but is %d" % srv.repl_state)
        _sync_error()
        return
    result = slave_try_partial_resynchronization(conn, True)
    if result == PSYNC_WAIT_REPLY:
        return
    if result == PSYNC_TRY_LATER:
        _sync_error()
        return
    if result == PSYNC_CONTINUE:
        srv.log_notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.")
        return
    if result == PSYNC_NOT_SUPPORTED:
        srv.log_notice("Retrying with SYNC...")
        err = _send_command(conn, b"SYNC")
        if err:
            srv.log_warning("I/O error writing to MASTER: %s" % err)
            _sync_error()
            return
    _transfer.membuf = None
    if _use_diskless_load():
        _transfer.membuf = bytearray()
    else:
        dfd = -1
        tmpfile = ""
        for attempt in range(5):
            tmpfile = "temp-%d.%d%s.rdb" % (int(time.time()), os.getpid(),
                                            "" if not attempt else ".%d" % attempt)
            try:
                dfd = os.open(tmpfile, os.O_CREAT | os.O_WRONLY | os.O_EXCL, 0o644)
                break
            except OSError:
                continue
        if dfd == -1:
            srv.log_warning("Opening the temp file needed for MASTER <-> REPLICA "
                            "synchronization: %s" % os.strerror(errno.EEXIST))
            _sync_error()
            return
        srv.repl_transfer_tmpfile = tmpfile
        srv.repl_transfer_fd = dfd
    el.create_file_event(fd, AE_READABLE, _read_sync_bulk_payload_handler, None)
    srv.repl_state = REPL_STATE_TRANSFER
    srv.repl_transfer_size = -1
    srv.repl_transfer_read = 0
    srv.repl_transfer_last_fsync_off = 0
    srv.repl_transfer_lastio = srv.unixtime


def _sync_write_error(err: str) -> None:
    server.log_warning("Sending command to master in replication handshake: %s" % err)
    _sync_error()


def _sync_no_response_error() -> None:
    server.log_warning("Master did not respond to command during SYNC handshake")
    _sync_error()


def _sync_error() -> None:
    """syncWithMaster's error path: drop the socket and any temp file; retry from cron."""
    srv = server
    _conn_close(srv.repl_transfer_s)
    srv.repl_transfer_s = None
    if srv.repl_transfer_fd != -1:
        os.close(srv.repl_transfer_fd)
    if srv.repl_transfer_tmpfile:
        _unlink_quietly(srv.repl_transfer_tmpfile)
    srv.repl_transfer_tmpfile = None
    srv.repl_transfer_fd = -1
    srv.repl_state = REPL_STATE_CONNECT


def _sync_with_master_handler(el, fd: int, data, mask: int) -> None:
    conn = server.repl_transfer_s
    if conn is None or conn.fileno() != fd:
        el.delete_file_event(fd, AE_READABLE | AE_WRITABLE)
        return
    sync_with_master(conn)


def connect_with_master() -> bool:
    """connectWithMaster: a non-blocking connect; syncWithMaster runs when it completes."""
    srv = server
    conn = None
    try:
        family, stype, proto, _, addr = socket.getaddrinfo(
            srv.masterhost, srv.masterport, 0, socket.SOCK_STREAM)[0]
        conn = socket.socket(family, stype, proto)
        conn.setblocking(False)
        if srv.bind_source_addr:
            conn.bind((srv.bind_source_addr, 0))
        err = conn.connect_ex(addr)
        if err not in (0, errno.EINPROGRESS):
            raise OSError(err, os.strerror(err))
    except OSError as e:
        srv.log_warning("Unable to connect to MASTER: %s" % (e.strerror or str(e)))
        if conn is not None:
            conn.close()
        return False
    srv.repl_transfer_s = conn
    srv.el.create_file_event(conn.fileno(), AE_WRITABLE, _sync_with_master_handler, None)
    srv.repl_transfer_lastio = srv.unixtime
    srv.repl_state = REPL_STATE_CONNECTING
    srv.log_notice("MASTER <-> REPLICA sync started")
    return True


def undo_connect_with_master() -> None:
    _conn_close(server.repl_transfer_s)
    server.repl_transfer_s = None


def replication_abort_sync_transfer() -> None:
    """replicationAbortSyncTransfer: close the link, drop the partial payload."""
    srv = server
    undo_connect_with_master()
    if srv.repl_transfer_fd != -1:
        os.close(srv.repl_transfer_fd)
        _unlink_quietly(srv.repl_transfer_tmpfile or "")
        srv.repl_transfer_tmpfile = None
        srv.repl_transfer_fd = -1
    _transfer.membuf = None


def cancel_replication_handshake(reconnect: bool) -> bool:
    """cancelReplicationHandshake: abort a connect, handshake or transfer in progress;
    with ``reconnect`` try again at once.  False when there was nothing to cancel."""
    srv = server
    if srv.repl_state == REPL_STATE_TRANSFER:
        replication_abort_sync_transfer()
        srv.repl_state = REPL_STATE_CONNECT
    elif srv.repl_state == REPL_STATE_CONNECTING or slave_is_in_handshake_state():
        undo_connect_with_master()
        srv.repl_state = REPL_STATE_CONNECT
    else:
        return False
    if not reconnect or not srv.masterhost:
        return True
    srv.log_notice("Reconnecting to MASTER %s:%d after failure"
                   % (srv.masterhost, srv.masterport))
    connect_with_master()
    return True


def replication_set_master(ip: str, port: int) -> None:
    """replicationSetMaster: become a replica of ip:port.  A master keeps its own replid and
    offset as a cached master, so it can PSYNC with a replica promoted in its place."""
    srv = server
    was_master = srv.masterhost is None
    srv.masterhost = None
    if srv.master is not None:
        net.free_client(srv.master)
    blocked.disconnect_all_blocked_clients()
    srv.masterhost = ip
    srv.masterport = port
    _update_propagate_hook()
    cancel_replication_handshake(False)
    if was_master:
        replication_discard_cached_master()
        replication_cache_master_using_myself()
    srv.repl_state = REPL_STATE_CONNECT
    srv.log_notice("Connecting to MASTER %s:%d" % (srv.masterhost, srv.masterport))
    connect_with_master()


def replication_unset_master() -> None:
    """replicationUnsetMaster: become a master.  The inherited replid becomes replid2, so
    the former siblings can PSYNC with us after a failover."""
    srv = server
    if srv.masterhost is None:
        return
    srv.masterhost = None
    if srv.master is not None:
        net.free_client(srv.master)
    replication_discard_cached_master()
    cancel_replication_handshake(False)
    shift_replication_id()
    # Our replicas must learn the new replid; they will partially resync at once.
    disconnect_slaves()
    srv.repl_state = REPL_STATE_NONE
    srv.slaveseldb = -1
    srv.repl_no_slaves_since = srv.unixtime
    srv.repl_down_since = 0
    _update_propagate_hook()


def replication_handle_master_disconnection() -> None:
    """replicationHandleMasterDisconnection: our replicas stay (we may PSYNC); reconnect now
    rather than at the next cron, so the master's backlog is less likely to be gone."""
    srv = server
    srv.master = None
    srv.repl_state = REPL_STATE_CONNECT
    srv.repl_down_since = srv.unixtime
    if srv.masterhost:
        srv.log_notice("Reconnecting to MASTER %s:%d" % (srv.masterhost, srv.masterport))
        connect_with_master()


def replicaof_command(c: net.Client) -> None:
    """REPLICAOF host port | NO ONE (and SLAVEOF)."""
    srv = server
    if srv.cluster_enabled:
        net.add_reply_error(c, "REPLICAOF not allowed in cluster mode.")
        return
    host, port_arg = c.argv[1], c.argv[2]
    if host.lower() == b"no" and port_arg.lower() == b"one":
        if srv.masterhost:
            replication_unset_master()
            srv.log_notice("MASTER MODE enabled (user request from '%s')"
                           % net.cat_client_info_string(c))
    else:
        if c.flags & net.CLIENT_SLAVE:
            net.add_reply_error(c, "Command is not valid when client is a replica.")
            return
        port = dbmod.get_range_long_from_object_or_reply(c, port_arg, 0, 65535,
                                                         "Invalid master port")
        if port is None:
            return
        hoststr = host.decode("utf-8", "replace")
        if srv.masterhost and srv.masterhost.lower() == hoststr.lower() and \
                srv.masterport == port:
            srv.log_notice("REPLICAOF would result into synchronization with the master we are "
                           "already connected with. No operation performed.")
            net.add_reply(c, b"+OK Already connected to specified master\r\n")
            return
        replication_set_master(hoststr, port)
        srv.log_notice("REPLICAOF %s:%d enabled (user request from '%s')"
                       % (srv.masterhost, srv.masterport, net.cat_client_info_string(c)))
    net.add_reply(c, shared.ok)


def role_command(c: net.Client) -> None:
    """ROLE: ["master", offset, [[ip, port, acked offset], ...]] or
    ["slave", host, port, state, offset]."""
    srv = server
    if srv.masterhost is None:
        rows = []
        for slave in srv.slaves:
            if slave.replstate != SLAVE_STATE_ONLINE:
                continue
            addr = slave.slave_addr or (slave.addr.rsplit(":", 1)[0] if slave.addr else "")
            if not addr:
                continue
            rows.append((addr, slave.slave_listening_port, slave.repl_ack_off))
        net.add_reply_array_len(c, 3)
        net.add_reply_bulk(c, b"master")
        net.add_reply_long_long(c, srv.master_repl_offset)
        net.add_reply_array_len(c, len(rows))
        for addr, port, off in rows:
            net.add_reply_array_len(c, 3)
            net.add_reply_bulk(c, addr.encode())
            net.add_reply_bulk(c, b"%d" % port)
            net.add_reply_bulk(c, b"%d" % off)
        return
    if slave_is_in_handshake_state():
        state = "handshake"
    else:
        state = _REPL_STATE_NAMES.get(srv.repl_state, "unknown")
    net.add_reply_array_len(c, 5)
    net.add_reply_bulk(c, b"slave")
    net.add_reply_bulk(c, srv.masterhost.encode())
    net.add_reply_long_long(c, srv.masterport)
    net.add_reply_bulk(c, state.encode())
    net.add_reply_long_long(c, srv.master.reploff if srv.master is not None else -1)


def replication_send_ack() -> None:
    """replicationSendAck: REPLCONF ACK <applied offset> to our master, forced through the
    reply path that is otherwise mute towards the master."""
    srv = server
    c = srv.master
    if c is None:
        return
    link = srv.master_link
    offset = link.applied if link is not None else c.reploff
    c.flags |= net.CLIENT_MASTER_FORCE_REPLY
    net.add_reply(c, b"*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n" + net.bulk(b"%d" % offset))
    c.flags &= ~net.CLIENT_MASTER_FORCE_REPLY


def replication_master_applied(c: net.Client) -> None:
    """commandProcessed's master half, called by process_input_buffer after each command of
    the master link: the offset advances only by what was applied (a MULTI block counts at
    its EXEC), and exactly those bytes are proxied to our replicas and our backlog."""
    srv = server
    link = srv.master_link
    if c is not srv.master or link is None:
        return
    raw = c.reploff          # end of this command in the stream (set by the caller)
    qb = c.querybuf
    base = c.read_reploff - len(qb)
    start = link.seen - base
    if start < 0:
        # Bytes consumed without a command (empty lines) were trimmed away already: they
        # were newlines, so newlines keep the proxied stream the same length.
        chunk = b"\n" * -start + bytes(qb[:raw - base])
    else:
        chunk = bytes(qb[start:raw - base])
    link.seen = raw
    if c.flags & net.CLIENT_MULTI:
        link.pending += chunk
        c.reploff = link.applied
        return
    if link.pending:
        chunk = bytes(link.pending) + chunk
        link.pending.clear()
    link.applied = raw
    if chunk:
        replication_feed_stream_from_master_stream(chunk)


# --------------------------------------------------------------------------------------------
# Master caching for PSYNC
# --------------------------------------------------------------------------------------------

def replication_cache_master(c: net.Client) -> None:
    """replicationCacheMaster: keep the lost master's client (db, offset, replid) for a
    PSYNC; whatever was read but not applied is dropped, including an open MULTI."""
    srv = server
    srv.log_notice("Caching the disconnected master state.")
    link = srv.master_link
    c.querybuf.clear()
    c.qb_need = 0
    c.mbulk.reset()
    if link is not None:
        c.reploff = link.applied
        link.seen = link.applied
        link.pending.clear()
    c.read_reploff = c.reploff
    if c.flags & net.CLIENT_MULTI:
        c.flags &= ~(net.CLIENT_MULTI | net.CLIENT_DIRTY_CAS | net.CLIENT_DIRTY_EXEC)
        c.mstate = None
    c.reply = []
    c.reply_bytes = 0
    c.argv = []
    c.peerid = ""
    srv.cached_master = c
    replication_handle_master_disconnection()


def replication_cache_master_using_myself() -> None:
    """replicationCacheMasterUsingMyself: a master about to become a replica poses as its
    own cached master (our replid and offset), to PSYNC with whoever took over."""
    srv = server
    srv.log_notice("Before turning into a replica, using my own master parameters to "
                   "synthesize a cached master: I may be able to synchronize with the new "
                   "master with just a partial transfer.")
    srv.master_initial_offset = srv.master_repl_offset
    srv.master_replid = srv.replid
    replication_create_master_client(None, -1)
    srv.cached_master = srv.master
    srv.master = None


def replication_discard_cached_master() -> None:
    """replicationDiscardCachedMaster."""
    srv = server
    c = srv.cached_master
    if c is None:
        return
    srv.log_notice("Discarding previously cached master state.")
    c.flags &= ~net.CLIENT_MASTER
    srv.cached_master = None
    if srv.master is None:
        srv.master_link = None


def replication_resurrect_cached_master(conn: socket.socket) -> None:
    """replicationResurrectCachedMaster: +CONTINUE: the cached client, on the new socket."""
    srv = server
    c = srv.cached_master
    srv.master = c
    srv.cached_master = None
    srv.repl_transfer_s = None
    conn.setblocking(False)
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except OSError:
        pass
    c.conn = conn
    c.fd = conn.fileno()
    try:
        peer = conn.getpeername()
        c.addr = f"{peer[0]}:{peer[1]}"
        local = conn.getsockname()
        c.laddr = f"{local[0]}:{local[1]}"
    except OSError:
        pass
    c.flags &= ~(net.CLIENT_CLOSE_AFTER_REPLY | net.CLIENT_CLOSE_ASAP)
    c.authenticated = True
    c.lastinteraction = srv.unixtime
    srv.repl_state = REPL_STATE_CONNECTED
    srv.repl_down_since = 0
    link = srv.master_link
    link.applied = link.seen = c.reploff
    c.read_reploff = c.reploff
    srv.clients[c.id] = c
    srv.el.delete_file_event(c.fd, AE_READABLE | AE_WRITABLE)
    srv.el.create_file_event(c.fd, AE_READABLE, net.read_query_from_client, c)
    if c.reply and not c.flags & _PENDING_WRITE:
        c.flags |= _PENDING_WRITE
        srv.clients_pending_write.append(c)


# --------------------------------------------------------------------------------------------
# min-replicas-to-write
# --------------------------------------------------------------------------------------------

def refresh_good_slaves_count(srv=None) -> None:
    """refreshGoodSlavesCount: online replicas whose last ACK is at most
    min-replicas-max-lag seconds old."""
    srv = srv or server
    if not srv.min_replicas_to_write or not srv.min_replicas_max_lag:
        return
    now = srv.unixtime
    lag = srv.min_replicas_max_lag
    srv.repl_good_slaves_count = sum(
        1 for s in srv.slaves if s.replstate == SLAVE_STATE_ONLINE and now - s.repl_ack_time <= lag)


def check_good_replicas_status() -> bool:
    """checkGoodReplicasStatus: may a write run here, as far as min-replicas goes?"""
    srv = server
    return bool(srv.masterhost or not srv.min_replicas_max_lag or
                not srv.min_replicas_to_write or
                srv.repl_good_slaves_count >= srv.min_replicas_to_write)


# --------------------------------------------------------------------------------------------
# WAIT: synchronous replication
# --------------------------------------------------------------------------------------------

def replication_request_ack_from_slaves() -> None:
    """One REPLCONF GETACK for every client that started waiting in this loop iteration,
    sent from beforeSleep."""
    server.get_ack_from_slaves = True


def replication_count_acks_by_offset(offset: int) -> int:
    """replicationCountAcksByOffset."""
    return sum(1 for s in server.slaves
               if s.replstate == SLAVE_STATE_ONLINE and s.repl_ack_off >= offset)


def wait_command(c: net.Client) -> None:
    """WAIT numreplicas timeout: block until that many replicas acknowledged everything this
    client wrote (its c.woff), or the timeout (ms, 0 = forever); reply the count."""
    srv = server
    if srv.masterhost:
        net.add_reply_error(c, "WAIT cannot be used with replica instances. Please also note "
                               "that since Redis 4.0 if a replica is configured to be "
                               "writable (which is not the default) writes to replicas are "
                               "just local and are not propagated.")
        return
    numreplicas = dbmod.get_long_long_from_object_or_reply(c, c.argv[1])
    if numreplicas is None:
        return
    tval = dbmod.get_long_long_from_object_or_reply(
        c, c.argv[2], "timeout is not an integer or out of range")
    if tval is None:
        return
    if tval < 0:
        net.add_reply_error(c, "timeout is negative")
        return
    if tval > 0:
        tval += time.time_ns() // 1_000_000
    ackreplicas = replication_count_acks_by_offset(c.woff)
    if ackreplicas >= numreplicas or c.flags & net.CLIENT_MULTI or srv.in_exec:
        net.add_reply_long_long(c, ackreplicas)
        return
    bp = blocked.BlockingState()
    bp.timeout = tval
    bp.reploffset = c.woff
    bp.numreplicas = numreplicas
    c.bpop = bp
    srv.clients_waiting_acks.insert(0, c)
    blocked.block_client(c, blocked.BLOCKED_WAIT)
    replication_request_ack_from_slaves()


def unblock_client_waiting_replicas(c: net.Client) -> None:
    """unblockClientWaitingReplicas (blocked.unblock_client's BLOCKED_WAIT cleanup)."""
    try:
        server.clients_waiting_acks.remove(c)
    except ValueError:
        pass


def _reply_wait_timed_out(c: net.Client) -> None:
    net.add_reply_long_long(c, replication_count_acks_by_offset(c.bpop.reploffset))


def process_clients_waiting_replicas() -> None:
    """processClientsWaitingReplicas (beforeSleep): unblock WAITs now satisfied; a client
    satisfied for (offset, n) lets later ones with smaller demands skip the count."""
    last_offset = 0
    last_numreplicas = 0
    for c in list(server.clients_waiting_acks):
        bp = c.bpop
        if bp is None:
            continue
        if last_offset and last_offset >= bp.reploffset and \
                last_numreplicas >= bp.numreplicas:
            blocked.unblock_client(c)
            net.add_reply_long_long(c, last_numreplicas)
        else:
            numreplicas = replication_count_acks_by_offset(bp.reploffset)
            if numreplicas >= bp.numreplicas:
                last_offset = bp.reploffset
                last_numreplicas = numreplicas
                blocked.unblock_client(c)
                net.add_reply_long_long(c, numreplicas)


def replication_get_slave_offset() -> int:
    """replicationGetSlaveOffset: how much of our master's stream we processed."""
    srv = server
    offset = 0
    if srv.masterhost is not None:
        if srv.master is not None:
            offset = srv.master.reploff
        elif srv.cached_master is not None:
            offset = srv.cached_master.reploff
    return max(offset, 0)


# --------------------------------------------------------------------------------------------
# replicationCron
# --------------------------------------------------------------------------------------------

@probe("replicationCron")
def replication_cron() -> None:
    """replicationCron, once a second: handshake/transfer/link timeouts, (re)connecting,
    ACKs to our master, PINGs and keepalive newlines to our replicas, replica timeouts, the
    backlog's time to live, delayed diskless syncs, min-replicas bookkeeping."""
    srv = server
    now = int(time.time())
    if srv.masterhost and (srv.repl_state == REPL_STATE_CONNECTING or
                           slave_is_in_handshake_state()) and \
            now - srv.repl_transfer_lastio > srv.repl_timeout:
        srv.log_warning("Timeout connecting to the MASTER...")
        cancel_replication_handshake(True)
    if srv.masterhost and srv.repl_state == REPL_STATE_TRANSFER and \
            now - srv.repl_transfer_lastio > srv.repl_timeout:
        srv.log_warning("Timeout receiving bulk data from MASTER... If the problem persists "
                        "try to set the 'repl-timeout' parameter in redis.conf to a larger "
                        "value.")
        cancel_replication_handshake(True)
    if srv.masterhost and srv.repl_state == REPL_STATE_CONNECTED and \
            srv.master is not None and now - srv.master.lastinteraction > srv.repl_timeout:
        srv.log_warning("MASTER timeout: no data nor PING received...")
        net.free_client(srv.master)
    if srv.masterhost and srv.repl_state == REPL_STATE_CONNECT:
        srv.log_notice("Connecting to MASTER %s:%d" % (srv.masterhost, srv.masterport))
        connect_with_master()
    if srv.masterhost and srv.master is not None and \
            not srv.master.flags & net.CLIENT_PRE_PSYNC:
        replication_send_ack()
    # PINGs are part of the stream: a replica that hears nothing for repl-timeout knows the
    # link is dead even when TCP does not say so.
    if srv.slaves and srv.repl_cron_loops % max(1, srv.repl_ping_replica_period) == 0:
        replication_feed_slaves(srv.slaveseldb, [b"PING"])
    # Replicas still waiting for their RDB get a newline each second (not stream bytes).
    for slave in srv.slaves:
        if slave.replstate == SLAVE_STATE_WAIT_BGSAVE_START or \
                (slave.replstate == SLAVE_STATE_WAIT_BGSAVE_END and
                 srv.rdb_child_type != RDB_CHILD_TYPE_SOCKET):
            try:
                slave.conn.send(b"\n")
            except OSError:
                pass
    for slave in list(srv.slaves):
        if slave.replstate == SLAVE_STATE_ONLINE:
            if slave.flags & net.CLIENT_PRE_PSYNC:
                continue
            if srv.unixtime - slave.repl_ack_time > srv.repl_timeout:
                srv.log_warning("Disconnecting timedout replica (streaming sync): %s"
                                % replication_get_slave_name(slave))
                net.free_client(slave)
                continue
        if slave.replstate == SLAVE_STATE_WAIT_BGSAVE_END and \
                srv.rdb_child_type == RDB_CHILD_TYPE_SOCKET:
            last = _last_partial_write.get(slave, 0)
            if last and srv.unixtime - last > srv.repl_timeout:
                srv.log_warning("Disconnecting timedout replica (full sync): %s"
                                % replication_get_slave_name(slave))
                net.free_client(slave)
    if not srv.slaves and srv.repl_backlog_ttl and srv.repl_backlog is not None and \
            srv.masterhost is None:
        idle = srv.unixtime - srv.repl_no_slaves_since
        if idle > srv.repl_backlog_ttl:
            # Without a backlog the offset stops moving: a new ID keeps anyone from a PSYNC
            # that would skip the writes made meanwhile.
            change_replication_id()
            clear_replication_id2()
            free_replication_backlog()
            srv.log_notice("Replication backlog freed after %d seconds without connected "
                           "replicas." % srv.repl_backlog_ttl)
    replication_start_pending_fork()
    remove_rdb_used_to_sync_replicas()
    refresh_good_slaves_count()
    bl = srv.repl_backlog
    srv.repl_buffer_mem = (len(bl.buf) if bl is not None else 0) + \
        sum(s.reply_bytes for s in srv.slaves)
    srv.repl_cron_loops += 1


def should_start_child_replication() -> int | None:
    """shouldStartChildReplication: the capabilities shared by the replicas waiting in
    WAIT_BGSAVE_START, when a BGSAVE for them should start now (None otherwise).  Diskless
    waits repl-diskless-sync-delay seconds (or for repl-diskless-sync-max-replicas) so
    several replicas share one transfer."""
    srv = server
    if srv.has_active_child_process() or _pipe.conns is not None:
        return None
    waiting = 0
    max_idle = 0
    mincapa = -1
    for slave in srv.slaves:
        if slave.replstate == SLAVE_STATE_WAIT_BGSAVE_START:
            idle = srv.unixtime - int(slave.lastinteraction)
            max_idle = max(max_idle, idle)
            waiting += 1
            mincapa = slave.slave_capa if mincapa == -1 else mincapa & slave.slave_capa
    if waiting and (not srv.repl_diskless_sync or
                    (srv.repl_diskless_sync_max_replicas > 0 and
                     waiting >= srv.repl_diskless_sync_max_replicas) or
                    max_idle >= srv.repl_diskless_sync_delay):
        return mincapa
    return None


def replication_start_pending_fork() -> None:
    """replicationStartPendingFork."""
    mincapa = should_start_child_replication()
    if mincapa is not None:
        start_bgsave_for_replication(mincapa)


# --------------------------------------------------------------------------------------------
# Glue: hooks into the server, startup, commands
# --------------------------------------------------------------------------------------------

def _cron_hook(srv) -> None:
    """serverCron's run_with_period(1000) { replicationCron() }; also starts a pending
    diskless sync as soon as possible once the delay has passed."""
    now = time.monotonic()
    if now - srv.repl_cron_last >= 1.0:
        srv.repl_cron_last = now
        replication_cron()
    elif srv.slaves and not srv.has_active_child_process():
        replication_start_pending_fork()


def _before_sleep_hook(srv) -> None:
    """beforeSleep's replication part: one GETACK for all the clients that started a WAIT in
    this iteration, then the WAITs that are satisfied."""
    if srv.get_ack_from_slaves and srv.client_pause_type == 0:
        replication_feed_slaves(srv.slaveseldb, [b"REPLCONF", b"GETACK", b"*"])
        srv.get_ack_from_slaves = False
    if srv.clients_waiting_acks:
        process_clients_waiting_replicas()


def _free_client_hook(c: net.Client) -> None:
    """freeClient's replication part: a lost master is cached for PSYNC; a lost replica
    leaves the replica list (and a diskless transfer)."""
    srv = server
    flags = c.flags
    if flags & net.CLIENT_MASTER:
        if c is srv.master:
            srv.log_warning("Connection with master lost.")
            if not flags & (net.CLIENT_PROTOCOL_ERROR | net.CLIENT_BLOCKED):
                c.flags &= ~(net.CLIENT_CLOSE_ASAP | net.CLIENT_CLOSE_AFTER_REPLY)
                replication_cache_master(c)
            else:
                srv.master_link = None
                replication_handle_master_disconnection()
        return
    if not flags & net.CLIENT_SLAVE or flags & net.CLIENT_MONITOR:
        return
    if c.replstate == SLAVE_STATE_SEND_BULK and c.repldbfd is not None:
        try:
            os.close(c.repldbfd)
        except OSError:
            pass
        c.repldbfd = None
    if _pipe.conns is not None and c in _pipe.conns:
        _rdb_pipe_write_handler_conn_removed(c)
        _pipe.conns[_pipe.conns.index(c)] = None
    try:
        srv.slaves.remove(c)
        srv.log_warning("Connection with replica %s lost." % replication_get_slave_name(c))
    except ValueError:
        pass
    _stream_on_ack.discard(c)
    _acked_early.discard(c)
    _last_partial_write.pop(c, None)
    if not srv.slaves:
        srv.repl_no_slaves_since = srv.unixtime
    refresh_good_slaves_count()


def _startup_hook(srv) -> None:
    """loadDataFromDisk's replication part: the RDB's repl-id/offset let a restarted replica
    PSYNC, and a restarted master accept PSYNCs from its old replicas (as replid2)."""
    rsi = srv.rdb_loaded_save_info
    if rsi is None or not rsi.repl_id_is_set or rsi.repl_offset == -1 or \
            rsi.repl_stream_db == -1:
        return
    if srv.masterhost:
        srv.replid = rsi.repl_id
        srv.master_repl_offset = rsi.repl_offset
        replication_cache_master_using_myself()
        dbmod.select_db(srv.cached_master, rsi.repl_stream_db)
    else:
        srv.replid2 = rsi.repl_id
        srv.second_replid_offset = rsi.repl_offset + 1
        srv.master_repl_offset += rsi.repl_offset
        if srv.repl_backlog is None:
            create_replication_backlog()
        bl = srv.repl_backlog
        bl.offset = srv.master_repl_offset - bl.histlen + 1
        srv.repl_no_slaves_since = int(time.time())


def _init_state(srv) -> None:
    defaults = {
        "slaveseldb": -1, "repl_no_slaves_since": int(time.time()),
        "get_ack_from_slaves": False, "master_replid": "", "master_initial_offset": -1,
        "cached_master": None, "master_link": None, "repl_transfer_s": None,
        "repl_transfer_fd": -1, "repl_transfer_tmpfile": None, "repl_transfer_size": -1,
        "repl_transfer_read": 0, "repl_transfer_last_fsync_off": 0,
        "repl_transfer_lastio": 0, "repl_down_since": 0, "repl_cron_loops": 0,
        "repl_cron_last": 0.0, "stat_net_repl_input_bytes": 0,
        "stat_net_repl_output_bytes": 0, "repl_buffer_mem": 0,
    }
    for k, v in defaults.items():
        if not hasattr(srv, k):
            setattr(srv, k, v)
    if not hasattr(srv, "clients_waiting_acks"):
        srv.clients_waiting_acks = []


def init(srv) -> None:
    """Called by initServer: state, hooks, config apply functions, blocking kinds."""
    from tracered import config

    _init_state(srv)
    srv.replication_master_applied = replication_master_applied
    srv.update_slaves_waiting_bgsave = update_slaves_waiting_bgsave
    rdbmod.socket_done_handler = background_save_done_handler_socket
    if _cron_hook not in srv.cron_hooks:
        srv.cron_hooks.append(_cron_hook)
    if _before_sleep_hook not in srv.before_sleep_hooks:
        srv.before_sleep_hooks.append(_before_sleep_hook)
    if _free_client_hook not in srv.free_client_hooks:
        srv.free_client_hooks.append(_free_client_hook)
    if _startup_hook not in srv.startup_hooks:
        srv.startup_hooks.append(_startup_hook)
    blocked.unblock_funcs[blocked.BLOCKED_WAIT] = unblock_client_waiting_replicas
    blocked.timeout_reply_funcs[blocked.BLOCKED_WAIT] = _reply_wait_timed_out
    for name, fn in (("repl-backlog-size", resize_replication_backlog),
                     ("min-replicas-to-write", refresh_good_slaves_count),
                     ("min-replicas-max-lag", refresh_good_slaves_count)):
        if fn not in config.apply_hooks[name]:
            config.apply_hooks[name].append(fn)
    _update_propagate_hook()


# processCommand and INFO test server.REPL_STATE_CONNECTED; both must agree.
assert server_module.REPL_STATE_CONNECTED == REPL_STATE_CONNECTED
_init_state(server)

_REPL_ADMIN = "admin noscript no_async_loading no_multi"

COMMANDS = [
    cmd("sync", sync_command, 1, _REPL_ADMIN, group="server", complexity="",
        summary="Internal command used for replication"),
    cmd("psync", sync_command, -3, _REPL_ADMIN, group="server", since="2.8.0", complexity="",
        summary="Internal command used for replication", args="replicationid offset"),
    cmd("replconf", replconf_command, -1, "admin noscript loading stale allow_busy",
        group="server", since="3.0.0", doc_flags="syscmd",
        summary="An internal command for configuring the replication stream"),
    cmd("replicaof", replicaof_command, 3, "admin noscript stale no_async_loading",
        group="server", since="5.0.0",
        summary="Make the server a replica of another instance, or promote it as master.",
        args="host port | NO ONE"),
    cmd("slaveof", replicaof_command, 3, "admin noscript stale no_async_loading",
        group="server", doc_flags="deprecated", deprecated_since="5.0.0",
        replaced_by="`REPLICAOF`",
        summary="Make the server a replica of another instance, or promote it as master.",
        args="host port | NO ONE"),
    cmd("role", role_command, 1, "noscript loading stale fast sentinel", acl="admin dangerous",
        group="server", since="2.8.12",
        summary="Return the role of the instance in the context of replication"),
    cmd("wait", wait_command, 3, "noscript", acl="connection", group="generic", since="3.0.0",
        tips="request_policy:all_shards response_policy:agg_min",
        summary="Wait for the synchronous replication of all the write commands sent in the "
                "context of the current connection", args="numreplicas timeout"),
]
