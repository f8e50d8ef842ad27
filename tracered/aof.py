"""The append-only file: the mirror of aof.c (Redis 7.0's multi-part AOF), with the bits of
bio.c (the background fsync/close thread) and server.c (loadDataFromDisk's AOF half, the
AOF parts of serverCron, beforeSleep and prepareForShutdown) that it needs.

Since 7.0 the AOF is a directory (``appenddirname``) of several files tied together by a
manifest, ``<appendfilename>.manifest``, one line per file::

    file appendonly.aof.2.base.rdb seq 2 type b      BASE: the dataset at the last rewrite
    file appendonly.aof.1.incr.aof seq 1 type h      HISTORY: waiting to be deleted
    file appendonly.aof.2.incr.aof seq 2 type i      INCR: commands since then, in order

The BASE is an RDB (``aof-use-rdb-preamble yes``, name ``.base.rdb``) or a command stream
(``.base.aof``); INCR files hold the RESP of every write command, exactly as propagated to
replicas, with a SELECT whenever the database changes.

Path of a write (names as in Redis)::

    call -> propagatePendingCommands -> feedAppendOnlyFile   RESP appended to server.aof_buf
    beforeSleep -> flushAppendOnlyFile                        one write(2) of aof_buf, then
                                                              fsync per appendfsync, all
                                                              before any reply leaves
    serverCron                                                scheduled / automatic rewrites,
                                                              postponed flushes, write-error
                                                              retries

A rewrite (BGREWRITEAOF, rewriteAppendOnlyFileBackground) first makes the parent open a new
INCR file, so everything written from then on lands there; the forked child writes the new
BASE from its copy-on-write snapshot; when the child is reaped
(backgroundRewriteDoneHandler) the parent renames the BASE in, turns the old BASE and INCR
files into HISTORY, persists the manifest (temp file, fsync, rename) and deletes the
history.  No rewrite buffer and no parent/child pipe are needed, unlike Redis <= 6.

Layout (same order as aof.c):

    manifest            AofInfo, AofManifest, aof_load_manifest_from_disk/_from_file,
                        get_new_base_file_name_and_mark_pre_as_history, get_new_incr_aof_name,
                        mark_rewritten_incr_aof_as_history, persist_aof_manifest,
                        aof_upgrade_prepare, aof_del_history_files,
                        aof_open_if_needed_on_server_start, open_new_incr_aof_for_append,
                        aof_rewrite_limited
    AOF file            bio (fsync/close thread), kill_append_only_child, stop_append_only,
                        start_append_only, flush_append_only_file (probe flushAppendOnlyFile),
                        cat_append_only_generic_command, feed_append_only_file (probe
                        feedAppendOnlyFile)
    loading             create_aof_client, load_single_append_only_file,
                        load_append_only_files
    rewrite             rewrite_*_object, rewrite_append_only_file_rio,
                        rewrite_append_only_file, rewrite_append_only_file_background (probe
                        rewriteAppendOnlyFileBackground), BGREWRITEAOF,
                        background_rewrite_done_handler
    server glue         loading at startup, serverCron / beforeSleep / shutdown parts,
                        CONFIG SET appendonly, DEBUG LOADAOF, init()

Forking and child reaping are rdb.py's (redis_fork, check_children_done, the child info
pipe): one fork child at a time, whatever its type, exactly as server.c does it.

Divergence: a corrupt command stream is refused with Redis's log line plus the byte offset
where parsing stopped (a truncated one also names the offset of the last complete
command); an RDB preamble that does not load is always fatal (Redis, with
aof-load-truncated, would truncate that file at the last command offset - 0 for a pure RDB
base - and then refuse anyway, or in an old single-file AOF start empty).  When a truncated
tail follows an RDB preamble the truncation point is never before the end of the preamble.
Divergence: AOF records are built from argv as bytes; relative expires (EXPIRE, PEXPIRE,
SETEX, PSETEX) are turned into absolute ones here if one ever reaches the AOF (7.0's
commands already propagate PEXPIREAT / SET ... PXAT, so this is a safety net only).
Divergence: one bio thread runs fsync and close jobs in order (Redis 7.0 has a thread per
job type), so closing a big history file can delay the next everysec fsync a little.
Divergence: the AOF loading client runs each command through call() with CMD_CALL_NONE
(no stats, no propagation) instead of calling the proc directly, so a bug in a command is
contained the same way as for a network client; replies it collects are dropped.
"""

from __future__ import annotations

import errno
import mmap
import os
import re
import signal
import threading
import time
from collections import deque
from collections.abc import Callable

from tracered import latency, shared
from tracered import networking as net
from tracered import rdb as rdbmod
from tracered.commands import cmd
from tracered.intset import intset_to_list
from tracered.listpack import lp_iter
from tracered.object import (
    OBJ_ENCODING_HT,
    OBJ_ENCODING_INT,
    OBJ_ENCODING_INTSET,
    OBJ_ENCODING_LISTPACK,
    OBJ_ENCODING_QUICKLIST,
    OBJ_ENCODING_SKIPLIST,
    OBJ_HASH,
    OBJ_LIST,
    OBJ_SET,
    OBJ_STRING,
    OBJ_ZSET,
    RObj,
)
from tracered.rdb import CHILD_TYPE_AOF, CHILD_TYPE_NONE
from tracered.resp import split_args
from tracered.server import (
    CMD_CALL_NONE,
    PROPAGATE_AOF,
    Server,
    call,
    lookup_command,
    sds_cat_repr,
    server,
)
from tracered.trace.probes import probe

# --------------------------------------------------------------------------------------------
# server.h
# --------------------------------------------------------------------------------------------

AOF_OFF = 0
AOF_ON = 1
AOF_WAIT_REWRITE = 2

# loadSingleAppendOnlyFile / loadAppendOnlyFiles results
AOF_OK = 0
AOF_NOT_EXIST = 1
AOF_EMPTY = 2
AOF_OPEN_ERR = 3
AOF_FAILED = 4
AOF_TRUNCATED = 5

AOF_FSYNC_NO = "no"
AOF_FSYNC_ALWAYS = "always"
AOF_FSYNC_EVERYSEC = "everysec"

AOF_FILE_TYPE_BASE = "b"
AOF_FILE_TYPE_HIST = "h"
AOF_FILE_TYPE_INCR = "i"

AOF_REWRITE_ITEMS_PER_CMD = 64
AOF_ANNOTATION_LINE_MAX_LEN = 1024
AOF_WRITE_LOG_ERROR_RATE = 30          # seconds between two logged write errors
AOF_REWRITE_LIMITE_THRESHOLD = 3       # consecutive failures before rewrites are delayed
AOF_REWRITE_LIMITE_MAX_MINUTES = 60

C_OK = 0
C_ERR = -1

# The AOF loading client's id: commands check it to obey unconditionally (t_string.py,
# multi.py read it as server.aof_client_id).
CLIENT_ID_AOF = (1 << 64) - 1
CLIENT_DENY_BLOCKING = getattr(net, "CLIENT_DENY_BLOCKING", 1 << 41)

BASE_FILE_SUFFIX = ".base"
INCR_FILE_SUFFIX = ".incr"
RDB_FORMAT_SUFFIX = ".rdb"
AOF_FORMAT_SUFFIX = ".aof"
MANIFEST_NAME_SUFFIX = ".manifest"
TEMP_FILE_NAME_PREFIX = "temp-"
MANIFEST_MAX_LINE = 1024

# Types that live in modules written later (streams, module types) rewrite themselves:
# OBJ_* type -> fn(out: bytearray, key: bytes, o: RObj, dbid: int) appending commands.
rewrite_object_funcs: dict[int, Callable] = {}
# The scripting module's FUNCTION libraries: fn() -> list of library codes (bytes).
functions_lib_get: Callable[[], list[bytes]] | None = None


# --------------------------------------------------------------------------------------------
# AOF manifest
# --------------------------------------------------------------------------------------------

class AofInfo:
    """aofInfo: one line of the manifest."""

    __slots__ = ("file_name", "file_seq", "file_type")

    def __init__(self, file_name: str = "", file_seq: int = 0, file_type: str = "") -> None:
        self.file_name = file_name
        self.file_seq = file_seq
        self.file_type = file_type

    def dup(self) -> AofInfo:
        return AofInfo(self.file_name, self.file_seq, self.file_type)

    def __repr__(self) -> str:
        return f"<aofInfo {self.file_name} seq={self.file_seq} type={self.file_type}>"


class AofManifest:
    """aofManifest: at most one BASE, the HISTORY files, the INCR files in order."""

    __slots__ = ("base_aof_info", "incr_aof_list", "history_aof_list", "curr_base_file_seq",
                 "curr_incr_file_seq", "dirty")

    def __init__(self) -> None:
        self.base_aof_info: AofInfo | None = None
        self.incr_aof_list: list[AofInfo] = []
        self.history_aof_list: list[AofInfo] = []
        self.curr_base_file_seq = 0
        self.curr_incr_file_seq = 0
        self.dirty = False

    def dup(self) -> AofManifest:
        """aofManifestDup: changes are made on a copy, which replaces the live manifest
        only once it is safely on disk."""
        am = AofManifest()
        am.base_aof_info = self.base_aof_info.dup() if self.base_aof_info else None
        am.incr_aof_list = [ai.dup() for ai in self.incr_aof_list]
        am.history_aof_list = [ai.dup() for ai in self.history_aof_list]
        am.curr_base_file_seq = self.curr_base_file_seq
        am.curr_incr_file_seq = self.curr_incr_file_seq
        am.dirty = self.dirty
        return am


def _fs(name: str) -> bytes:
    return os.fsencode(name)


def sds_needs_repr(s: bytes) -> bool:
    """sdsneedsrepr: quoting is needed for spaces, quotes, backslashes, control bytes."""
    for ch in s:
        if ch <= 32 or ch >= 127 or ch == 0x5C or ch == 0x22:
            return True
    return False


def aof_info_format(ai: AofInfo) -> bytes:
    """aofInfoFormat: ``file <name> seq <n> type <t>\\n`` (the name quoted if needed)."""
    name = _fs(ai.file_name)
    if sds_needs_repr(name):
        name = sds_cat_repr(name)
    return b"file %s seq %d type %s\n" % (name, ai.file_seq, ai.file_type.encode())


def get_aof_manifest_file_name() -> str:
    return server.appendfilename + MANIFEST_NAME_SUFFIX


def get_temp_aof_manifest_file_name() -> str:
    return TEMP_FILE_NAME_PREFIX + server.appendfilename + MANIFEST_NAME_SUFFIX


def get_aof_manifest_as_string(am: AofManifest) -> bytes:
    """getAofManifestAsString: BASE first, then HISTORY, then INCR."""
    out = []
    if am.base_aof_info is not None:
        out.append(aof_info_format(am.base_aof_info))
    out.extend(aof_info_format(ai) for ai in am.history_aof_list)
    out.extend(aof_info_format(ai) for ai in am.incr_aof_list)
    return b"".join(out)


def _aof_path(name: str) -> str:
    """makePath(server.aof_dirname, name)."""
    return os.path.join(server.appenddirname, name)


def aof_load_manifest_from_disk() -> None:
    """aofLoadManifestFromDisk: read the manifest if the directory and the file exist (a
    missing one is how an upgrade from a single-file AOF starts); any defect is fatal."""
    srv = server
    srv.aof_manifest = AofManifest()
    if not os.path.isdir(srv.appenddirname):
        srv.log_debug("The AOF directory %s doesn't exist" % srv.appenddirname)
        return
    am_name = get_aof_manifest_file_name()
    am_filepath = _aof_path(am_name)
    if not os.path.isfile(am_filepath):
        srv.log_debug("The AOF manifest file %s doesn't exist" % am_name)
        return
    srv.aof_manifest = aof_load_manifest_from_file(am_filepath)


def _manifest_fatal(err: str, linenum: int, line: bytes | None) -> SystemExit:
    srv = server
    srv.log_warning("\n*** FATAL AOF MANIFEST FILE ERROR ***\n")
    if line is not None:
        srv.log_warning("Reading the manifest file, at line %d\n" % linenum)
        srv.log_warning(">>> '%s'\n" % line.decode("utf-8", "replace"))
    srv.log_warning("%s\n" % err)
    return SystemExit(1)


def aof_load_manifest_from_file(am_filepath: str) -> AofManifest:
    """aofLoadManifestFromFile: parse and check every line; raises SystemExit(1) on an
    unreadable or malformed manifest (the server must not guess which files count)."""
    try:
        with open(am_filepath, "rb") as f:
            data = f.read()
    except OSError as e:
        server.log_warning("Fatal error: can't open the AOF manifest file %s for reading: %s"
                           % (am_filepath, e.strerror))
        raise SystemExit(1) from e
    am = AofManifest()
    maxseq = 0
    if not data:
        raise _manifest_fatal("Found an empty AOF manifest", 0, None)
    pos = 0
    linenum = 0
    end = len(data)
    while pos < end:
        # fgets with a MANIFEST_MAX_LINE+1 buffer: at most 1024 bytes per read.
        nl = data.find(b"\n", pos, pos + MANIFEST_MAX_LINE)
        raw = data[pos:nl + 1] if nl != -1 else data[pos:pos + MANIFEST_MAX_LINE]
        pos += len(raw)
        linenum += 1
        if raw[:1] == b"#":
            continue
        if nl == -1:
            raise _manifest_fatal("The AOF manifest file contains too long line", linenum,
                                  None)
        line = raw.strip(b" \t\r\n")
        if not line:
            raise _manifest_fatal("Invalid AOF manifest file format", linenum, line)
        argv = split_args(line)
        # More than six fields is accepted: later versions may add key/value pairs.
        if argv is None or len(argv) < 6 or len(argv) % 2:
            raise _manifest_fatal("Invalid AOF manifest file format", linenum, line)
        ai = AofInfo()
        for i in range(0, len(argv), 2):
            k = argv[i].lower()
            v = argv[i + 1]
            if k == b"file":
                ai.file_name = os.fsdecode(v)
                if b"/" in v or b"\\" in v:
                    raise _manifest_fatal("File can't be a path, just a filename", linenum,
                                          line)
            elif k == b"seq":
                ai.file_seq = _atoi(v)
            elif k == b"type":
                ai.file_type = chr(v[0]) if v else ""
        if not ai.file_name or not ai.file_seq or not ai.file_type:
            raise _manifest_fatal("Invalid AOF manifest file format", linenum, line)
        if ai.file_type == AOF_FILE_TYPE_BASE:
            if am.base_aof_info is not None:
                raise _manifest_fatal("Found duplicate base file information", linenum, line)
            am.base_aof_info = ai
            am.curr_base_file_seq = ai.file_seq
        elif ai.file_type == AOF_FILE_TYPE_HIST:
            am.history_aof_list.append(ai)
        elif ai.file_type == AOF_FILE_TYPE_INCR:
            if ai.file_seq <= maxseq:
                raise _manifest_fatal("Found a non-monotonic sequence number", linenum, line)
            am.incr_aof_list.append(ai)
            am.curr_incr_file_seq = ai.file_seq
            maxseq = ai.file_seq
        else:
            raise _manifest_fatal("Unknown AOF file type", linenum, line)
    return am


_ATOI = re.compile(rb"\s*([+-]?\d+)")


def _atoi(s: bytes) -> int:
    """atoi/strtol: the leading integer, 0 when there is none."""
    try:
        return int(s)
    except ValueError:
        m = _ATOI.match(s)
        return int(m.group(1)) if m else 0


def get_new_base_file_name_and_mark_pre_as_history(am: AofManifest) -> str:
    """getNewBaseFileNameAndMarkPreAsHistory: ``<appendfilename>.<seq>.base.rdb|aof``; the
    current BASE, if any, becomes the first HISTORY entry."""
    if am.base_aof_info is not None:
        am.base_aof_info.file_type = AOF_FILE_TYPE_HIST
        am.history_aof_list.insert(0, am.base_aof_info)
    fmt = RDB_FORMAT_SUFFIX if server.aof_use_rdb_preamble else AOF_FORMAT_SUFFIX
    am.curr_base_file_seq += 1
    name = "%s.%d%s%s" % (server.appendfilename, am.curr_base_file_seq, BASE_FILE_SUFFIX, fmt)
    am.base_aof_info = AofInfo(name, am.curr_base_file_seq, AOF_FILE_TYPE_BASE)
    am.dirty = True
    return name


def get_new_incr_aof_name(am: AofManifest) -> str:
    """getNewIncrAofName: append ``<appendfilename>.<seq>.incr.aof`` to the INCR list."""
    am.curr_incr_file_seq += 1
    name = "%s.%d%s%s" % (server.appendfilename, am.curr_incr_file_seq, INCR_FILE_SUFFIX,
                          AOF_FORMAT_SUFFIX)
    am.incr_aof_list.append(AofInfo(name, am.curr_incr_file_seq, AOF_FILE_TYPE_INCR))
    am.dirty = True
    return name


def get_temp_incr_aof_name() -> str:
    """getTempIncrAofName: where writes go while AOF waits for its first rewrite."""
    return TEMP_FILE_NAME_PREFIX + server.appendfilename + INCR_FILE_SUFFIX


def get_last_incr_aof_name(am: AofManifest) -> str:
    """getLastIncrAofName: the INCR file to append to, created if there is none."""
    if not am.incr_aof_list:
        return get_new_incr_aof_name(am)
    return am.incr_aof_list[-1].file_name


def mark_rewritten_incr_aof_as_history(am: AofManifest) -> None:
    """markRewrittenIncrAofAsHistory: after a rewrite every INCR file but the one being
    written (when AOF is on) is covered by the new BASE."""
    incr = am.incr_aof_list
    if not incr:
        return
    keep = incr[-1:] if server.aof_fd != -1 else []
    done = incr[:-1] if keep else incr
    am.history_aof_list[0:0] = [AofInfo(ai.file_name, ai.file_seq, AOF_FILE_TYPE_HIST)
                                for ai in done]
    am.incr_aof_list = keep
    am.dirty = True


def _fsync_dir_of(path: str) -> None:
    """fsyncFileDir: make a rename or a new file in the directory durable."""
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_aof_manifest_file(buf: bytes) -> bool:
    """writeAofManifestFile: temp file, fsync, rename over the manifest, fsync the dir.
    The manifest therefore changes atomically: a crash leaves the old or the new one."""
    srv = server
    am_name = get_aof_manifest_file_name()
    am_filepath = _aof_path(am_name)
    tmp_am_name = get_temp_aof_manifest_file_name()
    tmp_am_filepath = _aof_path(tmp_am_name)
    try:
        fd = os.open(tmp_am_filepath, os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
    except OSError as e:
        srv.log_warning("Can't open the AOF manifest file %s: %s" % (tmp_am_name, e.strerror))
        return False
    try:
        try:
            view = memoryview(buf)
            while view:
                view = view[os.write(fd, view):]
        except OSError as e:
            srv.log_warning("Error trying to write the temporary AOF manifest file %s: %s"
                            % (tmp_am_name, e.strerror))
            return False
        try:
            os.fdatasync(fd)
        except OSError as e:
            srv.log_warning("Fail to fsync the temp AOF file %s: %s." % (tmp_am_name,
                                                                        e.strerror))
            return False
        try:
            os.rename(tmp_am_filepath, am_filepath)
        except OSError as e:
            srv.log_warning("Error trying to rename the temporary AOF manifest file %s into "
                            "%s: %s" % (tmp_am_name, am_name, e.strerror))
            return False
        try:
            _fsync_dir_of(am_filepath)
        except OSError as e:
            srv.log_warning("Fail to fsync AOF directory %s: %s." % (am_filepath, e.strerror))
            return False
    finally:
        os.close(fd)
    return True


def persist_aof_manifest(am: AofManifest) -> bool:
    """persistAofManifest: write the manifest if it changed."""
    if not am.dirty:
        return True
    ok = write_aof_manifest_file(get_aof_manifest_as_string(am))
    if ok:
        am.dirty = False
    return ok


def _dir_create_if_missing(dirname: str) -> None:
    """dirCreateIfMissing: raises OSError unless the directory exists afterwards."""
    try:
        os.mkdir(dirname, 0o755)
    except FileExistsError:
        if not os.path.isdir(dirname):
            raise
    return None


def aof_upgrade_prepare(am: AofManifest) -> None:
    """aofUpgradePrepare: adopt a pre-7.0 ``appendonly.aof`` as the BASE of a new AOF
    directory (manifest first, then the move, so a crash in between is retried at the
    next start)."""
    srv = server
    fname = srv.appendfilename
    try:
        _dir_create_if_missing(srv.appenddirname)
    except OSError as e:
        srv.log_warning("Can't open or create append-only dir %s: %s"
                        % (srv.appenddirname, e.strerror))
        raise SystemExit(1) from e
    am.base_aof_info = AofInfo(fname, 1, AOF_FILE_TYPE_BASE)
    am.curr_base_file_seq = 1
    am.dirty = True
    if not persist_aof_manifest(am):
        raise SystemExit(1)
    try:
        os.rename(fname, _aof_path(fname))
    except OSError as e:
        srv.log_warning("Error trying to move the old AOF file %s into dir %s: %s"
                        % (fname, srv.appenddirname, e.strerror))
        raise SystemExit(1) from e
    srv.log_notice("Successfully migrated an old-style AOF file (%s) into the AOF directory "
                   "(%s)." % (fname, srv.appenddirname))


def aof_del_history_files() -> bool:
    """aofDelHistoryFiles: unlink the HISTORY files (their blocks are freed by the bio
    thread) and drop them from the manifest, unless aof-disable-auto-gc is set."""
    srv = server
    am = srv.aof_manifest
    if am is None or srv.aof_disable_auto_gc or not am.history_aof_list:
        return True
    for ai in am.history_aof_list:
        srv.log_notice("Removing the history file %s in the background" % ai.file_name)
        bg_unlink(_aof_path(ai.file_name))
    am.history_aof_list = []
    am.dirty = True
    return persist_aof_manifest(am)


def aof_del_temp_incr_aof_file() -> None:
    """aofDelTempIncrAofFile: drop the temp INCR file of a failed first rewrite."""
    name = get_temp_incr_aof_name()
    server.log_notice("Removing the temp incr aof file %s in the background" % name)
    bg_unlink(_aof_path(name))


def aof_open_if_needed_on_server_start() -> None:
    """aofOpenIfNeededOnServerStart: with AOF on, make sure a BASE exists (written now from
    the loaded, possibly empty, dataset), open the last INCR file for appending and persist
    the manifest.  Any failure stops the server."""
    srv = server
    if srv.aof_state != AOF_ON:
        return
    am = srv.aof_manifest
    try:
        _dir_create_if_missing(srv.appenddirname)
    except OSError as e:
        srv.log_warning("Can't open or create append-only dir %s: %s"
                        % (srv.appenddirname, e.strerror))
        raise SystemExit(1) from e
    incr_aof_len = len(am.incr_aof_list)
    if am.base_aof_info is None and not incr_aof_len:
        base_name = get_new_base_file_name_and_mark_pre_as_history(am)
        if not rewrite_append_only_file(_aof_path(base_name)):
            raise SystemExit(1)
        srv.log_notice("Creating AOF base file %s on server start" % base_name)
    aof_name = get_last_incr_aof_name(am)
    try:
        srv.aof_fd = os.open(_aof_path(aof_name), os.O_WRONLY | os.O_APPEND | os.O_CREAT,
                             0o644)
    except OSError as e:
        srv.log_warning("Can't open the append-only file %s: %s" % (aof_name, e.strerror))
        raise SystemExit(1) from e
    if not persist_aof_manifest(am):
        raise SystemExit(1)
    srv.aof_last_incr_size = get_append_only_file_size(aof_name)[0]
    srv.aof_last_incr_fsync_offset = srv.aof_last_incr_size
    if incr_aof_len:
        srv.log_notice("Opening AOF incr file %s on server start" % aof_name)
    else:
        srv.log_notice("Creating AOF incr file %s on server start" % aof_name)


def aof_file_exist(filename: str) -> bool:
    return os.path.isfile(_aof_path(filename))


def open_new_incr_aof_for_append() -> bool:
    """openNewIncrAofForAppend: at the start of a rewrite, switch writing to a new INCR
    file (a temp one while AOF waits for its first rewrite).  The new file and the manifest
    naming it are both on disk before the switch; on failure nothing has changed."""
    srv = server
    if srv.aof_state == AOF_OFF:
        return True
    temp_am = None
    if srv.aof_state == AOF_WAIT_REWRITE:
        new_aof_name = get_temp_incr_aof_name()
    else:
        temp_am = srv.aof_manifest.dup()
        new_aof_name = get_new_incr_aof_name(temp_am)
    try:
        newfd = os.open(_aof_path(new_aof_name), os.O_WRONLY | os.O_TRUNC | os.O_CREAT, 0o644)
    except OSError as e:
        srv.log_warning("Can't open the append-only file %s: %s" % (new_aof_name, e.strerror))
        return False
    if temp_am is not None and not persist_aof_manifest(temp_am):
        os.close(newfd)
        return False
    srv.log_notice("Creating AOF incr file %s on background rewrite" % new_aof_name)
    # The old file is fsynced and closed by the bio thread: with everysec a late fsync is
    # fine as long as it happens, with always it is already synced.
    if srv.aof_fd != -1:
        aof_background_fsync_and_close(srv.aof_fd)
        srv.aof_last_fsync = srv.unixtime
    srv.aof_fd = newfd
    srv.aof_last_incr_size = 0
    srv.aof_last_incr_fsync_offset = 0
    if temp_am is not None:
        srv.aof_manifest = temp_am
    return True


_limit_state = {"next_delay_minutes": 0, "next_rewrite_time": 0}


def aof_rewrite_limited() -> bool:
    """aofRewriteLimited: after 3 consecutive failed rewrites, automatic ones wait 1, 2, 4
    ... 60 minutes (each failure leaves a small INCR file behind); BGREWRITEAOF resets the
    count."""
    srv = server
    st = _limit_state
    if srv.stat_aofrw_consecutive_failures < AOF_REWRITE_LIMITE_THRESHOLD:
        st["next_delay_minutes"] = 0
        st["next_rewrite_time"] = 0
        return False
    if st["next_rewrite_time"]:
        if srv.unixtime < st["next_rewrite_time"]:
            return True
        st["next_rewrite_time"] = 0
        return False
    delay = 1 if st["next_delay_minutes"] == 0 else st["next_delay_minutes"] * 2
    delay = min(delay, AOF_REWRITE_LIMITE_MAX_MINUTES)
    st["next_delay_minutes"] = delay
    st["next_rewrite_time"] = srv.unixtime + delay * 60
    srv.log_warning("Background AOF rewrite has repeatedly failed and triggered the limit, "
                    "will retry in %d minutes" % delay)
    return True


# --------------------------------------------------------------------------------------------
# bio: the background fsync / close thread (bio.c, BIO_AOF_FSYNC and BIO_CLOSE_AOF/FILE)
# --------------------------------------------------------------------------------------------

BIO_AOF_FSYNC = 0
BIO_CLOSE_AOF = 1
BIO_CLOSE_FILE = 2


class Bio:
    """One worker thread running jobs in order.  ``os.fdatasync`` and ``os.close`` release
    the interpreter lock, so a slow disk stalls this thread, not the event loop."""

    def __init__(self) -> None:
        self.jobs: deque = deque()
        self.cond = threading.Condition()
        self.pending = [0, 0, 0]
        self.thread: threading.Thread | None = None

    def create_job(self, kind: int, fd: int) -> None:
        with self.cond:
            self.jobs.append((kind, fd))
            self.pending[kind] += 1
            if kind == BIO_AOF_FSYNC:
                server.aof_pending_bio_fsync = self.pending[BIO_AOF_FSYNC]
            self.cond.notify()
        if self.thread is None or not self.thread.is_alive():
            self.thread = threading.Thread(target=self._run, name="bio_aof", daemon=True)
            self.thread.start()

    def pending_jobs_of_type(self, kind: int) -> int:
        return self.pending[kind]

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.jobs:
                    self.cond.wait()
                kind, fd = self.jobs[0]
            try:
                if kind == BIO_AOF_FSYNC or kind == BIO_CLOSE_AOF:
                    _bio_fsync(fd)
                if kind != BIO_AOF_FSYNC:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            finally:
                with self.cond:
                    self.jobs.popleft()
                    self.pending[kind] -= 1
                    if kind == BIO_AOF_FSYNC:
                        server.aof_pending_bio_fsync = self.pending[BIO_AOF_FSYNC]

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every queued job ran (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.cond:
                if not self.jobs:
                    return True
            time.sleep(0.001)
        return False


def _bio_fsync(fd: int) -> None:
    """The fsync half of a BIO_AOF_FSYNC / BIO_CLOSE_AOF job: an error is kept for
    writeCommandsDeniedByDiskError; EBADF/EINVAL mean the fd was closed meanwhile."""
    srv = server
    try:
        os.fdatasync(fd)
    except OSError as e:
        if e.errno in (errno.EBADF, errno.EINVAL):
            srv.aof_bio_fsync_status = C_OK
            return
        last = srv.aof_bio_fsync_status
        srv.aof_bio_fsync_status = C_ERR
        srv.aof_bio_fsync_errno = e.errno
        if last == C_OK:
            srv.log_warning("Fail to fsync the AOF file: %s" % e.strerror)
        return
    srv.aof_bio_fsync_status = C_OK


bio = Bio()


def aof_fsync_in_progress() -> bool:
    """aofFsyncInProgress: an fsync of the current file is queued or running."""
    return bio.pending[BIO_AOF_FSYNC] != 0


def aof_background_fsync(fd: int) -> None:
    bio.create_job(BIO_AOF_FSYNC, fd)


def aof_background_fsync_and_close(fd: int) -> None:
    bio.create_job(BIO_CLOSE_AOF, fd)


def bg_unlink(path: str) -> None:
    """bg_unlink: unlink now, free the blocks later (the last close of a big file can take
    a long time, so it happens in the bio thread)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        try:
            os.unlink(path)
        except OSError:
            pass
        return
    try:
        os.unlink(path)
    except OSError:
        os.close(fd)
        return
    bio.create_job(BIO_CLOSE_FILE, fd)


# --------------------------------------------------------------------------------------------
# AOF file implementation
# --------------------------------------------------------------------------------------------

def kill_append_only_child() -> None:
    """killAppendOnlyChild: stop a rewrite child and wait for it (SIGUSR1: not an error)."""
    srv = server
    if srv.child_type != CHILD_TYPE_AOF:
        return
    pid = srv.child_pid
    srv.log_notice("Killing running AOF rewrite child: %d" % pid)
    try:
        os.kill(pid, signal.SIGUSR1)
        os.waitpid(pid, 0)
    except OSError:
        pass
    aof_remove_temp_file(pid)
    rdbmod.reset_child_state()
    srv.aof_rewrite_time_start = -1


@probe("stopAppendOnly")
def stop_append_only() -> None:
    """stopAppendOnly: CONFIG SET appendonly no.  Flush, fsync and close the file, stop a
    rewrite."""
    srv = server
    flush_append_only_file(True)
    if srv.aof_fd != -1:
        try:
            os.fdatasync(srv.aof_fd)
            srv.aof_last_fsync = srv.unixtime
        except OSError as e:
            srv.log_warning("Fail to fsync the AOF file: %s" % e.strerror)
        try:
            os.close(srv.aof_fd)
        except OSError:
            pass
    srv.aof_fd = -1
    srv.aof_selected_db = -1
    _set_aof_state(AOF_OFF)
    srv.aof_rewrite_scheduled = False
    srv.aof_last_incr_size = 0
    srv.aof_last_incr_fsync_offset = 0
    kill_append_only_child()
    srv.aof_buf = bytearray()


@probe("startAppendOnly")
def start_append_only() -> bool:
    """startAppendOnly: CONFIG SET appendonly yes.  The AOF only counts once a rewrite has
    written a BASE of the current dataset; until then (AOF_WAIT_REWRITE) writes go to a
    temp INCR file."""
    srv = server
    _set_aof_state(AOF_WAIT_REWRITE)
    if srv.has_active_child_process() and srv.child_type != CHILD_TYPE_AOF:
        srv.aof_rewrite_scheduled = True
        srv.log_warning("AOF was enabled but there is already another background operation. "
                        "An AOF background was scheduled to start when possible.")
    elif srv.in_exec:
        srv.aof_rewrite_scheduled = True
        srv.log_warning("AOF was enabled during a transaction. An AOF background was "
                        "scheduled to start when possible.")
    else:
        # A running rewrite cannot be reused: it is not collecting into the temp INCR file.
        if srv.child_type == CHILD_TYPE_AOF:
            srv.log_warning("AOF was enabled but there is already an AOF rewriting in "
                            "background. Stopping background AOF and starting a rewrite now.")
            kill_append_only_child()
        if not rewrite_append_only_file_background():
            _set_aof_state(AOF_OFF)
            srv.log_warning("Redis needs to enable the AOF but can't trigger a background AOF "
                            "rewrite operation. Check the above logs for more info about the "
                            "error.")
            return False
    srv.aof_last_fsync = srv.unixtime
    if srv.aof_bio_fsync_status == C_ERR:
        srv.log_warning("AOF reopen, just ignore the AOF fsync error in bio job")
        srv.aof_bio_fsync_status = C_OK
    if srv.aof_last_write_status == C_ERR:
        srv.log_warning("AOF reopen, just ignore the last error.")
        srv.aof_last_write_status = C_OK
    return True


def aof_write(fd: int, buf) -> tuple[int, int]:
    """aofWrite: write everything, retrying short writes and EINTR.  Returns (bytes
    written or -1 when nothing was, errno of the failure or 0)."""
    total = 0
    n = len(buf)
    view = memoryview(buf)
    try:
        while total < n:
            try:
                w = os.write(fd, view[total:])
            except InterruptedError:
                continue
            except OSError as e:
                return (total if total else -1), e.errno or errno.EIO
            if w == 0:
                return (total if total else -1), errno.ENOSPC
            total += w
    finally:
        view.release()
    return total, 0


_last_write_error_log = [0]


@probe("flushAppendOnlyFile")
def flush_append_only_file(force: bool = False) -> None:
    """flushAppendOnlyFile: write server.aof_buf with one write(2), then fsync as
    appendfsync asks.  Runs in beforeSleep, so with ``always`` the data is on disk before
    any reply of the commands that produced it is sent.

    ``force``: with everysec, write even if a background fsync is still running (the
    write would block behind it; normally it is postponed up to 2 seconds)."""
    srv = server
    buf = srv.aof_buf
    policy = srv.appendfsync
    sync_in_progress = False
    if not buf:
        # Nothing to write, but data written earlier may still wait for its fsync.
        if policy == AOF_FSYNC_EVERYSEC and \
                srv.aof_last_incr_fsync_offset != srv.aof_last_incr_size and \
                srv.unixtime > srv.aof_last_fsync and not aof_fsync_in_progress():
            pass
        elif policy == AOF_FSYNC_ALWAYS and \
                srv.aof_last_incr_fsync_offset != srv.aof_last_incr_size:
            pass
        else:
            return
    else:
        if policy == AOF_FSYNC_EVERYSEC:
            sync_in_progress = aof_fsync_in_progress()
        if policy == AOF_FSYNC_EVERYSEC and not force and sync_in_progress:
            if srv.aof_flush_postponed_start == 0:
                srv.aof_flush_postponed_start = srv.unixtime
                return
            if srv.unixtime - srv.aof_flush_postponed_start < 2:
                return
            srv.aof_delayed_fsync += 1
            srv.log_notice("Asynchronous AOF fsync is taking too long (disk is busy?). Writing "
                           "the AOF buffer without waiting for fsync to complete, this may "
                           "slow down Redis.")
        if srv.aof_flush_sleep:
            time.sleep(srv.aof_flush_sleep / 1_000_000)
        start = time.perf_counter()
        nwritten, err = aof_write(srv.aof_fd, buf)
        if srv.latency_monitor_threshold:
            ms = int((time.perf_counter() - start) * 1000)
            if sync_in_progress:
                latency.latency_add_sample_if_needed("aof-write-pending-fsync", ms)
            elif srv.has_active_child_process():
                latency.latency_add_sample_if_needed("aof-write-active-child", ms)
            else:
                latency.latency_add_sample_if_needed("aof-write-alone", ms)
            latency.latency_add_sample_if_needed("aof-write", ms)
        srv.aof_flush_postponed_start = 0
        if nwritten != len(buf):
            _aof_write_failed(nwritten, err, buf)
            return
        if srv.aof_last_write_status == C_ERR:
            srv.log_warning("AOF write error looks solved, Redis can write again.")
            srv.aof_last_write_status = C_OK
        srv.aof_current_size += nwritten
        srv.aof_last_incr_size += nwritten
        # Keep a small buffer's allocation for reuse, drop a big one.
        if len(buf) < 4000:
            buf.clear()
        else:
            srv.aof_buf = bytearray()
    # try_fsync:
    if srv.no_appendfsync_on_rewrite and srv.has_active_child_process():
        return
    if policy == AOF_FSYNC_ALWAYS:
        start = time.perf_counter()
        try:
            os.fdatasync(srv.aof_fd)
        except OSError as e:
            # The replies are queued and the dataset changed: the promise that every
            # acknowledged write is on disk can only be kept by stopping here.
            srv.log_warning("Can't persist AOF for fsync error when the AOF fsync policy is "
                            "'always': %s. Exiting..." % e.strerror)
            raise SystemExit(1) from e
        if srv.latency_monitor_threshold:
            latency.latency_add_sample_if_needed(
                "aof-fsync-always", int((time.perf_counter() - start) * 1000))
        srv.aof_last_incr_fsync_offset = srv.aof_last_incr_size
        srv.aof_last_fsync = srv.unixtime
    elif policy == AOF_FSYNC_EVERYSEC and srv.unixtime > srv.aof_last_fsync:
        if not sync_in_progress:
            aof_background_fsync(srv.aof_fd)
            srv.aof_last_incr_fsync_offset = srv.aof_last_incr_size
        srv.aof_last_fsync = srv.unixtime


def _aof_write_failed(nwritten: int, err: int, buf: bytearray) -> None:
    """The error half of flushAppendOnlyFile: with appendfsync always the process exits;
    otherwise what was not written stays in the buffer for the next try and writes are
    refused (-MISCONF) until one succeeds."""
    srv = server
    can_log = False
    if srv.unixtime - _last_write_error_log[0] > AOF_WRITE_LOG_ERROR_RATE:
        can_log = True
        _last_write_error_log[0] = srv.unixtime
    if nwritten == -1:
        if can_log:
            srv.log_warning("Error writing to the AOF file: %s" % os.strerror(err))
        srv.aof_last_write_errno = err
    else:
        if can_log:
            srv.log_warning("Short write while writing to the AOF file: (nwritten=%d, "
                            "expected=%d)" % (nwritten, len(buf)))
        try:
            os.ftruncate(srv.aof_fd, srv.aof_last_incr_size)
            nwritten = -1   # the partial record is gone again
        except OSError as e:
            if can_log:
                srv.log_warning("Could not remove short write from the append-only file.  "
                                "Redis may refuse to load the AOF the next time it starts.  "
                                "ftruncate: %s" % e.strerror)
        srv.aof_last_write_errno = errno.ENOSPC
    if srv.appendfsync == AOF_FSYNC_ALWAYS:
        srv.log_warning("Can't recover from AOF write error when the AOF fsync policy is "
                        "'always'. Exiting...")
        raise SystemExit(1)
    srv.aof_last_write_status = C_ERR
    if nwritten > 0:
        srv.aof_current_size += nwritten
        srv.aof_last_incr_size += nwritten
        del buf[:nwritten]


# One %-format per common argc: a single formatting call instead of one per argument.
_CAT2 = b"*2\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
_CAT3 = b"*3\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"
_CAT4 = b"*4\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n"


def cat_append_only_generic_command(argv: list) -> bytes:
    """catAppendOnlyGenericCommand: ``*<argc>`` then ``$<len>`` + bytes for each argument."""
    try:
        n = len(argv)
        if n == 3:
            a, b, c = argv
            return _CAT3 % (len(a), a, len(b), b, len(c), c)
        if n == 2:
            a, b = argv
            return _CAT2 % (len(a), a, len(b), b)
        if n == 4:
            a, b, c, d = argv
            return _CAT4 % (len(a), a, len(b), b, len(c), c, len(d), d)
        return b"*%d\r\n" % n + b"".join([b"$%d\r\n%s\r\n" % (len(a), a) for a in argv])
    except TypeError:
        # getDecodedObject: an integer (or an RObj) in argv is written as its text.
        return cat_append_only_generic_command([_decoded(a) for a in argv])


def _decoded(a) -> bytes:
    if isinstance(a, (bytes, bytearray, memoryview)):
        return bytes(a)
    if isinstance(a, int):
        return b"%d" % a
    if isinstance(a, RObj):
        from tracered.object import string_bytes

        return string_bytes(a)
    return str(a).encode()


def gen_aof_timestamp_annotation_if_needed(force: bool) -> bytes | None:
    """genAofTimestampAnnotationIfNeeded: ``#TS:<unix time>`` once per second of writes
    (aof-timestamp-enabled); loaders skip ``#`` lines."""
    srv = server
    if force or srv.aof_cur_timestamp < srv.unixtime:
        srv.aof_cur_timestamp = int(time.time()) if force else srv.unixtime
        return b"#TS:%d\r\n" % srv.aof_cur_timestamp
    return None


_RELATIVE_EXPIRE = frozenset((b"expire", b"pexpire", b"setex", b"psetex"))


def _absolute_expire_argv(argv: list[bytes]) -> list[bytes]:
    """The absolute form of a relative expire, against the command's cached clock (what
    Redis 6's catAppendOnlyExpireAtCommand did); 7.0's commands never send these here."""
    name = argv[0].lower()
    try:
        if name in (b"expire", b"pexpire") and len(argv) >= 3:
            when = int(argv[2]) * (1000 if name == b"expire" else 1)
            return [b"PEXPIREAT", argv[1], b"%d" % (server.mstime + when)] + list(argv[3:])
        if name in (b"setex", b"psetex") and len(argv) == 4:
            when = int(argv[2]) * (1000 if name == b"setex" else 1)
            return [b"SET", argv[1], argv[3], b"PXAT", b"%d" % (server.mstime + when)]
    except ValueError:
        pass
    return argv


@probe("feedAppendOnlyFile")
def feed_append_only_file(dictid: int, argv: list[bytes]) -> None:
    """feedAppendOnlyFile: append one propagated command to server.aof_buf, preceded by
    SELECT when it targets another db than the last one written.  Written to disk in
    beforeSleep, before the client can see its reply."""
    srv = server
    head = None
    if srv.aof_timestamp_enabled or dictid != srv.aof_selected_db:
        head = _feed_head(srv, dictid)
    if argv[0].lower() in _RELATIVE_EXPIRE:
        argv = _absolute_expire_argv(argv)
    state = srv.aof_state
    # While AOF waits for its first BASE, commands only count once the rewrite child exists
    # (what came before is in the child's snapshot).
    if state == AOF_ON or (state == AOF_WAIT_REWRITE and srv.child_type == CHILD_TYPE_AOF):
        buf = srv.aof_buf
        if head:
            buf += head
        buf += cat_append_only_generic_command(argv)


def _feed_head(srv, dictid: int) -> bytes:
    """What goes before a command: a #TS annotation and/or a SELECT."""
    head = b""
    if srv.aof_timestamp_enabled:
        head = gen_aof_timestamp_annotation_if_needed(False) or b""
    if dictid != srv.aof_selected_db:
        seldb = b"%d" % dictid
        head += b"*2\r\n$6\r\nSELECT\r\n$%d\r\n%s\r\n" % (len(seldb), seldb)
        srv.aof_selected_db = dictid
    return head


def _propagate_hook(dbid: int, argv: list[bytes], target: int) -> None:
    """propagateNow's AOF branch (server.propagate_hooks entry while AOF is not off)."""
    if target & PROPAGATE_AOF and server.aof_state != AOF_OFF:
        feed_append_only_file(dbid, argv)


def _set_aof_state(state: int) -> None:
    """server.aof_state = state, keeping the propagation hook installed only while AOF is
    not off (call() skips propagation altogether when no hook exists).  AOF comes first,
    as in propagateNow."""
    srv = server
    srv.aof_state = state
    hooks = srv.propagate_hooks
    if state != AOF_OFF:
        if _propagate_hook not in hooks:
            hooks.insert(0, _propagate_hook)
    elif _propagate_hook in hooks:
        hooks.remove(_propagate_hook)


# --------------------------------------------------------------------------------------------
# AOF loading
# --------------------------------------------------------------------------------------------

def create_aof_client() -> net.Client:
    """createAOFClient: a connection-less client with CLIENT_ID_AOF that may never block."""
    c = net.create_client(None)
    c.id = CLIENT_ID_AOF
    c.flags = CLIENT_DENY_BLOCKING
    return c


class _ShortRead(Exception):
    """The file ended inside a command (goto readerr with feof)."""


class _FormatError(Exception):
    """The bytes at this offset are not a command (goto fmterr)."""


def _fgets(data, pos: int, end: int) -> tuple[bytes | None, int]:
    """fgets with an AOF_ANNOTATION_LINE_MAX_LEN buffer: a line with its newline, at most
    1023 bytes, or None at end of file."""
    if pos >= end:
        return None, pos
    limit = min(end, pos + AOF_ANNOTATION_LINE_MAX_LEN - 1)
    nl = data.find(b"\n", pos, limit)
    q = nl + 1 if nl != -1 else limit
    return data[pos:q], q


@probe("loadSingleAppendOnlyFile")
def load_single_append_only_file(filename: str) -> int:
    """loadSingleAppendOnlyFile: replay one file of the AOF directory (an RDB, an RDB
    preamble with a command tail, or commands).  Returns AOF_OK, AOF_TRUNCATED (a short
    tail was cut off under aof-load-truncated), AOF_NOT_EXIST, AOF_EMPTY, AOF_OPEN_ERR or
    AOF_FAILED (after logging why)."""
    srv = server
    aof_filepath = _aof_path(filename)
    try:
        fd = os.open(aof_filepath, os.O_RDONLY)
    except OSError as e:
        if e.errno == errno.ENOENT:
            srv.log_warning("The append log file %s doesn't exist: %s" % (filename, e.strerror))
            return AOF_NOT_EXIST
        srv.log_warning("Fatal error: can't open the append log file %s for reading: %s"
                        % (filename, e.strerror))
        return AOF_OPEN_ERR
    try:
        size = os.fstat(fd).st_size
        if size == 0:
            return AOF_EMPTY
        data = mmap.mmap(fd, size, access=mmap.ACCESS_READ)
    except OSError as e:
        srv.log_warning("Fatal error: can't open the append log file %s for reading: %s"
                        % (filename, e.strerror))
        return AOF_OPEN_ERR
    finally:
        os.close(fd)
    old_aof_state = srv.aof_state
    # No EXEC replayed here may feed a MULTI into the file being read.
    srv.aof_state = AOF_OFF
    fake = create_aof_client()
    try:
        ret = _load_aof_data(filename, aof_filepath, data, fake)
    finally:
        srv.aof_state = old_aof_state
        net.free_client(fake)
        data.close()
    return ret


def _load_aof_data(filename: str, aof_filepath: str, data, fake: net.Client) -> int:
    srv = server
    end = len(data)
    pos = 0
    valid_up_to = 0          # offset after the last complete command
    valid_before_multi = 0   # offset before the MULTI of an open transaction
    last_progress = 0
    if data[:5] == b"REDIS":
        old_style = filename == srv.appendfilename
        if old_style:
            srv.log_notice("Reading RDB preamble from AOF file...")
        else:
            srv.log_notice("Reading RDB base file on AOF loading...")
        r = rdbmod.RioReader(data)
        before = srv.loading_loaded_bytes
        if not rdbmod.rdb_load_rio(r, rdbmod.RDBFLAGS_AOF_PREAMBLE, None):
            if old_style:
                srv.log_warning("Error reading the RDB preamble of the AOF file %s, AOF "
                                "loading aborted" % filename)
            else:
                srv.log_warning("Error reading the RDB base file %s, AOF loading aborted"
                                % filename)
            return AOF_FAILED
        pos = valid_up_to = valid_before_multi = r.pos
        # rdbLoadRio reports progress within this file only.
        srv.loading_loaded_bytes = before + pos
        last_progress = pos
        if old_style:
            srv.log_notice("Reading the remaining AOF tail...")
    loops = 0
    fgets = _fgets
    lookup = lookup_command
    truncated_ok = srv.aof_load_truncated
    key_load_delay = srv.key_load_delay
    multi_flag = net.CLIENT_MULTI
    try:
        while True:
            if loops & 1023 == 0:
                srv.loading_loaded_bytes += pos - last_progress
                last_progress = pos
                rdbmod.process_events_while_blocked()
            loops += 1
            line, pos = fgets(data, pos, end)
            if line is None:
                break
            first = line[:1]
            if first == b"#":
                continue  # an annotation (#TS:...)
            if first != b"*":
                raise _FormatError(pos - len(line))
            if len(line) == 1:
                raise _ShortRead()
            argc = _atoi(line[1:])
            if argc < 1:
                raise _FormatError(pos - len(line))
            argv = []
            for _ in range(argc):
                line, pos = fgets(data, pos, end)
                if line is None:
                    raise _ShortRead()
                if line[:1] != b"$":
                    raise _FormatError(pos - len(line))
                ln = _atoi(line[1:])
                if ln < 0:
                    raise _FormatError(pos - len(line))
                q = pos + ln
                if q > end:
                    raise _ShortRead()
                argv.append(data[pos:q])
                pos = q + 2   # the CRLF after the bulk, not checked (as fread(buf,2,1))
                if pos > end:
                    raise _ShortRead()
            command = lookup(argv)
            if command is None:
                srv.log_warning("Unknown command '%s' reading the append only file %s"
                                % (argv[0].decode("utf-8", "replace"), filename))
                return AOF_FAILED
            if command.name == "multi":
                valid_before_multi = valid_up_to
            fake.argv = argv
            fake.cmd = fake.lastcmd = command
            if fake.flags & multi_flag and command.name != "exec":
                srv.queue_multi_command(fake)
            else:
                old_client = srv.current_client
                srv.current_client = fake
                try:
                    call(fake, CMD_CALL_NONE)
                finally:
                    srv.current_client = old_client
            if fake.reply:
                fake.reply = []
                fake.reply_bytes = 0
            if fake.flags & net.CLIENT_BLOCKED:
                srv.log_warning("The AOF client got blocked by '%s': this is a bug"
                                % command.fullname)
            fake.argv = []
            if truncated_ok:
                valid_up_to = pos
            if key_load_delay:
                rdbmod.debug_delay(key_load_delay)
        # A transaction without its EXEC is an incomplete tail, even though every command
        # in it parsed: it is cut off like a short read.
        if fake.flags & multi_flag:
            srv.log_warning("Revert incomplete MULTI/EXEC transaction in AOF file %s"
                            % filename)
            valid_up_to = valid_before_multi
            raise _ShortRead()
    except _FormatError as e:
        srv.log_warning("Bad file format reading the append only file %s at offset %d: make a "
                        "backup of your AOF file, then use ./redis-check-aof --fix "
                        "<filename.manifest>" % (filename, e.args[0]))
        return AOF_FAILED
    except _ShortRead:
        return _aof_short_read(filename, aof_filepath, valid_up_to, end)
    srv.loading_loaded_bytes += pos - last_progress
    return AOF_OK


def _aof_short_read(filename: str, aof_filepath: str, valid_up_to: int, size: int) -> int:
    """The uxeof branch: cut the file after the last complete command when
    aof-load-truncated allows it, else refuse to start."""
    srv = server
    if srv.aof_load_truncated:
        srv.log_warning("!!! Warning: short read while loading the AOF file %s!!!" % filename)
        srv.log_warning("!!! Truncating the AOF %s at offset %d !!!" % (filename, valid_up_to))
        try:
            os.truncate(aof_filepath, valid_up_to)
        except OSError as e:
            srv.log_warning("Error truncating the AOF file %s: %s" % (filename, e.strerror))
        else:
            srv.log_warning("AOF %s loaded anyway because aof-load-truncated is enabled"
                            % filename)
            return AOF_TRUNCATED
    srv.log_warning("Unexpected end of file reading the append only file %s (file size %d, "
                    "last complete command ends at offset %d). You can: 1) Make a backup of "
                    "your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) "
                    "Alternatively you can set the 'aof-load-truncated' configuration option "
                    "to yes and restart the server." % (filename, size, valid_up_to))
    return AOF_FAILED


@probe("loadAppendOnlyFiles")
def load_append_only_files(am: AofManifest) -> int:
    """loadAppendOnlyFiles: the BASE then every INCR file in manifest order.  Only the last
    file may be truncated; a file named by the manifest but missing is fatal."""
    srv = server
    fname = srv.appendfilename
    if os.path.isfile(fname):
        if not os.path.isdir(srv.appenddirname) or \
                (am.base_aof_info is None and not am.incr_aof_list) or \
                (am.base_aof_info is not None and not am.incr_aof_list and
                 am.base_aof_info.file_name == fname and not aof_file_exist(fname)):
            aof_upgrade_prepare(am)
    if am.base_aof_info is None and not am.incr_aof_list:
        return AOF_NOT_EXIST
    total_num = get_base_and_incr_append_only_files_num(am)
    total_size, status = get_base_and_incr_append_only_files_size(am)
    if status != AOF_OK:
        return AOF_FAILED if status == AOF_NOT_EXIST else status
    if total_size == 0:
        return AOF_EMPTY
    rdbmod.start_loading(total_size, rdbmod.RDBFLAGS_AOF_PREAMBLE)
    ret = AOF_OK
    aof_num = 0
    base_size = 0
    try:
        files = ([am.base_aof_info] if am.base_aof_info is not None else []) + \
            list(am.incr_aof_list)
        for ai in files:
            is_base = ai is am.base_aof_info
            if is_base:
                base_size = get_append_only_file_size(ai.file_name)[0]
            aof_num += 1
            last_file = aof_num == total_num
            start = time.perf_counter()
            ret = load_single_append_only_file(ai.file_name)
            if ret == AOF_OK or (ret == AOF_TRUNCATED and last_file):
                srv.log_notice("DB loaded from %s file %s: %.3f seconds"
                               % ("base" if is_base else "incr", ai.file_name,
                                  time.perf_counter() - start))
            if not is_base and ret == AOF_EMPTY:
                ret = AOF_OK  # an empty INCR file is normal (nothing written yet)
            if ret == AOF_TRUNCATED and not last_file:
                ret = AOF_FAILED
                srv.log_warning("Fatal error: the truncated file is not the last file")
            if ret in (AOF_OPEN_ERR, AOF_FAILED):
                return ret
        srv.aof_current_size = total_size
        # The base size is not persisted: after a restart it is the BASE file's size, so
        # the first automatic rewrite may come a little early.
        srv.aof_rewrite_base_size = base_size
        return ret
    finally:
        rdbmod.stop_loading(ret in (AOF_OK, AOF_TRUNCATED))


# --------------------------------------------------------------------------------------------
# AOF rewrite
# --------------------------------------------------------------------------------------------

def _bulk(out: bytearray, s) -> None:
    """rioWriteBulkString / rioWriteBulkLongLong (an int is written as its text)."""
    if s.__class__ is int:
        s = b"%d" % s
    out += b"$%d\r\n%s\r\n" % (len(s), s)


def rio_write_bulk_object(out: bytearray, o: RObj) -> None:
    """rioWriteBulkObject: a string object, integer-encoded or not, without decoding it
    into a new object (the child must not write to shared pages needlessly)."""
    v = o.ptr
    if o.encoding == OBJ_ENCODING_INT:
        v = b"%d" % v
    out += b"$%d\r\n%s\r\n" % (len(v), v)


def _dict_entries(d):
    """dictIterator's walk (table 0 then 1) without touching the entries."""
    for table in d.ht_table:
        if table is None:
            continue
        for he in table:
            while he is not None:
                yield he
                he = he.next


def _emit_variadic(out: bytearray, name: bytes, key: bytes, items, total: int,
                   per_item: int) -> None:
    """Commands of at most AOF_REWRITE_ITEMS_PER_CMD items: ``*<2+n*per_item>`` name key,
    then each item's ``per_item`` bulks (``items`` yields tuples of that many values)."""
    count = 0
    for item in items:
        if count == 0:
            n = min(total, AOF_REWRITE_ITEMS_PER_CMD)
            out += b"*%d\r\n" % (2 + n * per_item)
            _bulk(out, name)
            _bulk(out, key)
        for v in item:
            _bulk(out, v)
        count += 1
        if count == AOF_REWRITE_ITEMS_PER_CMD:
            count = 0
        total -= 1


def rewrite_list_object(out: bytearray, key: bytes, o: RObj) -> None:
    """rewriteListObject: RPUSH key e1 .. e64, repeated."""
    if o.encoding != OBJ_ENCODING_QUICKLIST:
        raise ValueError("Unknown list encoding")
    from tracered.t_list import list_range_values

    ql = o.ptr
    values = list_range_values(ql, 0, ql.count)
    _emit_variadic(out, b"RPUSH", key, ((v,) for v in values), len(values), 1)


def rewrite_set_object(out: bytearray, key: bytes, o: RObj) -> None:
    """rewriteSetObject: SADD key m1 .. m64, repeated."""
    if o.encoding == OBJ_ENCODING_INTSET:
        members = intset_to_list(o.ptr)
        _emit_variadic(out, b"SADD", key, ((m,) for m in members), len(members), 1)
    elif o.encoding == OBJ_ENCODING_HT:
        d = o.ptr
        _emit_variadic(out, b"SADD", key, ((he.key,) for he in _dict_entries(d)), len(d), 1)
    else:
        raise ValueError("Unknown set encoding")


def _score(d: float) -> bytes:
    """rioWriteBulkDouble: %.17g."""
    return b"%.17g" % d


def rewrite_sorted_set_object(out: bytearray, key: bytes, o: RObj) -> None:
    """rewriteSortedSetObject: ZADD key score member .. (64 pairs), repeated."""
    if o.encoding == OBJ_ENCODING_LISTPACK:
        from tracered.t_zset import zzl_decode

        eles, scores = zzl_decode(o.ptr)
        _emit_variadic(out, b"ZADD", key,
                       ((_score(s), e) for e, s in zip(eles, scores, strict=True)),
                       len(eles), 2)
    elif o.encoding == OBJ_ENCODING_SKIPLIST:
        d = o.ptr.dict
        _emit_variadic(out, b"ZADD", key,
                       ((_score(he.val), he.key) for he in _dict_entries(d)), len(d), 2)
    else:
        raise ValueError("Unknown sorted zset encoding")


def rewrite_hash_object(out: bytearray, key: bytes, o: RObj) -> None:
    """rewriteHashObject: HMSET key f1 v1 .. (64 pairs), repeated."""
    if o.encoding == OBJ_ENCODING_LISTPACK:
        it = lp_iter(o.ptr)
        pairs = list(zip(it, it, strict=True))
        _emit_variadic(out, b"HMSET", key, pairs, len(pairs), 2)
    elif o.encoding == OBJ_ENCODING_HT:
        d = o.ptr
        _emit_variadic(out, b"HMSET", key, ((he.key, he.val) for he in _dict_entries(d)),
                       len(d), 2)
    else:
        raise ValueError("Unknown hash encoding")


def rewrite_functions(out: bytearray) -> None:
    """rewriteFunctions: FUNCTION LOAD <code> for every library (scripting module)."""
    if functions_lib_get is None:
        return
    for code in functions_lib_get():
        out += b"*3\r\n$8\r\nFUNCTION\r\n$4\r\nLOAD\r\n"
        _bulk(out, code)


def rewrite_append_only_file_rio(aof: rdbmod.Rio) -> None:
    """rewriteAppendOnlyFileRio: the dataset as commands - SELECT per non-empty db, one
    SET/RPUSH/SADD/ZADD/HMSET group per key, PEXPIREAT for keys with a TTL.  Raises
    OSError on a write error."""
    srv = server
    out = aof.buf
    if srv.aof_timestamp_enabled:
        out += gen_aof_timestamp_annotation_if_needed(True)
    rewrite_functions(out)
    key_count = 0
    updated_time = 0.0
    in_child = srv.in_fork_child != CHILD_TYPE_NONE
    delay = srv.rdb_key_save_delay
    for j, db in enumerate(srv.db):
        d = db.dict
        if not len(d):
            continue
        out += b"*2\r\n$6\r\nSELECT\r\n"
        _bulk(out, j)
        expires = db.expires
        has_expires = len(expires) > 0
        for he in _dict_entries(d):
            key = he.key
            o = he.val
            t = o.type
            if t == OBJ_STRING:
                out += b"*3\r\n$3\r\nSET\r\n"
                _bulk(out, key)
                rio_write_bulk_object(out, o)
            elif t == OBJ_LIST:
                rewrite_list_object(out, key, o)
            elif t == OBJ_SET:
                rewrite_set_object(out, key, o)
            elif t == OBJ_ZSET:
                rewrite_sorted_set_object(out, key, o)
            elif t == OBJ_HASH:
                rewrite_hash_object(out, key, o)
            else:
                fn = rewrite_object_funcs.get(t)
                if fn is None:
                    raise ValueError("Unknown object type %d" % t)
                fn(out, key, o, j)
            if has_expires:
                ede = expires.find(key)
                if ede is not None:
                    out += b"*3\r\n$9\r\nPEXPIREAT\r\n"
                    _bulk(out, key)
                    _bulk(out, ede.val)
            key_count += 1
            if in_child and key_count & 1023 == 1:
                now = time.monotonic()
                if now - updated_time >= 1.0:
                    rdbmod.send_child_info(rdbmod.CHILD_INFO_TYPE_CURRENT_INFO, key_count,
                                           "AOF rewrite")
                    updated_time = now
            if delay:
                rdbmod.debug_delay(delay)
            if len(out) >= rdbmod.RIO_WRITE_CHUNK:
                aof.flush()
                out = aof.buf
    aof.flush()


@probe("rewriteAppendOnlyFile")
def rewrite_append_only_file(filename: str) -> bool:
    """rewriteAppendOnlyFile: write a BASE of the current dataset to ``filename`` (an RDB
    with aof-use-rdb-preamble, else commands) through temp-rewriteaof-<pid>.aof, fsync and
    rename, so ``filename`` is either complete or absent."""
    srv = server
    tmpfile = "temp-rewriteaof-%d.aof" % os.getpid()
    try:
        f = open(tmpfile, "wb", buffering=0)
    except OSError as e:
        srv.log_warning("Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): %s"
                        % e.strerror)
        return False
    aof = rdbmod.Rio(f)
    if srv.aof_rewrite_incremental_fsync:
        aof.autosync = rdbmod.REDIS_AUTOSYNC_BYTES
    try:
        if srv.aof_use_rdb_preamble:
            rdbmod.rdb_save_rio(aof, rdbmod.RDBFLAGS_AOF_PREAMBLE, None)
        else:
            rewrite_append_only_file_rio(aof)
        os.fsync(f.fileno())
        f.close()
    except OSError as e:
        srv.log_warning("Write error writing append only file on disk: %s" % e.strerror)
        try:
            f.close()
        except OSError:
            pass
        _unlink_quietly(tmpfile)
        return False
    try:
        os.rename(tmpfile, filename)
    except OSError as e:
        srv.log_warning("Error moving temp append only file on the final destination: %s"
                        % e.strerror)
        _unlink_quietly(tmpfile)
        return False
    return True


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


@probe("rewriteAppendOnlyFileBackground")
def rewrite_append_only_file_background() -> bool:
    """rewriteAppendOnlyFileBackground: switch writes to a new INCR file, then fork; the
    child writes temp-rewriteaof-bg-<pid>.aof and exits, the parent carries on and adopts
    the file when it reaps the child (backgroundRewriteDoneHandler)."""
    srv = server
    if srv.has_active_child_process():
        return False
    try:
        _dir_create_if_missing(srv.appenddirname)
    except OSError as e:
        srv.log_warning("Can't open or create append-only dir %s: %s"
                        % (srv.appenddirname, e.strerror))
        srv.aof_lastbgrewrite_status = C_ERR
        return False
    # The new INCR file must start with a SELECT: force one on the next write.
    srv.aof_selected_db = -1
    flush_append_only_file(True)
    if not open_new_incr_aof_for_append():
        srv.aof_lastbgrewrite_status = C_ERR
        return False
    srv.stat_aof_rewrites += 1
    try:
        childpid = rdbmod.redis_fork(CHILD_TYPE_AOF)
    except OSError as e:
        srv.aof_lastbgrewrite_status = C_ERR
        srv.log_warning("Can't rewrite append only file in background: fork: %s" % e.strerror)
        return False
    if childpid == 0:
        # The child: nothing here may return into the event loop.
        code = 1
        try:
            tmpfile = "temp-rewriteaof-bg-%d.aof" % os.getpid()
            if rewrite_append_only_file(tmpfile):
                srv.log_notice("Successfully created the temporary AOF base file %s" % tmpfile)
                rdbmod.send_child_cow_info(rdbmod.CHILD_INFO_TYPE_AOF_COW_SIZE, "AOF rewrite")
                code = 0
        except BaseException:  # noqa: BLE001 - the child must always reach exit_from_child
            import traceback

            srv.log_warning("AOF rewrite child failed:\n" + traceback.format_exc())
        rdbmod.exit_from_child(code)
    srv.log_notice("Background append only file rewriting started by pid %d" % childpid)
    srv.aof_rewrite_scheduled = False
    srv.aof_rewrite_time_start = int(time.time())
    return True


def bgrewriteaof_command(c: net.Client) -> None:
    """BGREWRITEAOF: start a rewrite now, or schedule it behind another child / a
    transaction."""
    srv = server
    if srv.child_type == CHILD_TYPE_AOF:
        net.add_reply_error(c, "Background append only file rewriting already in progress")
    elif srv.has_active_child_process() or srv.in_exec:
        srv.aof_rewrite_scheduled = True
        # A manual request runs at once even if automatic ones are being held back.
        srv.stat_aofrw_consecutive_failures = 0
        net.add_reply_status(c, "Background append only file rewriting scheduled")
    elif rewrite_append_only_file_background():
        net.add_reply_status(c, "Background append only file rewriting started")
    else:
        net.add_reply_error(c, "Can't execute an AOF background rewriting. Please check the "
                               "server logs for more information.")


def aof_remove_temp_file(childpid: int) -> None:
    """aofRemoveTempFile: what a killed or failed child left behind."""
    bg_unlink("temp-rewriteaof-bg-%d.aof" % childpid)
    bg_unlink("temp-rewriteaof-%d.aof" % childpid)


def get_append_only_file_size(filename: str) -> tuple[int, int]:
    """getAppendOnlyFileSize: (size, AOF_OK | AOF_NOT_EXIST | AOF_OPEN_ERR)."""
    srv = server
    start = time.perf_counter()
    try:
        size = os.stat(_aof_path(filename)).st_size
        status = AOF_OK
    except OSError as e:
        status = AOF_NOT_EXIST if e.errno == errno.ENOENT else AOF_OPEN_ERR
        srv.log_warning("Unable to obtain the AOF file %s length. stat: %s"
                        % (filename, e.strerror))
        size = 0
    if srv.latency_monitor_threshold:
        latency.latency_add_sample_if_needed("aof-fstat",
                                             int((time.perf_counter() - start) * 1000))
    return size, status


def get_base_and_incr_append_only_files_size(am: AofManifest) -> tuple[int, int]:
    """getBaseAndIncrAppendOnlyFilesSize: total bytes of BASE + INCR (history excluded)."""
    total = 0
    files = ([am.base_aof_info] if am.base_aof_info is not None else []) + am.incr_aof_list
    for ai in files:
        size, status = get_append_only_file_size(ai.file_name)
        if status != AOF_OK:
            return 0, status
        total += size
    return total, AOF_OK


def get_base_and_incr_append_only_files_num(am: AofManifest) -> int:
    return (1 if am.base_aof_info is not None else 0) + len(am.incr_aof_list)


@probe("backgroundRewriteDoneHandler")
def background_rewrite_done_handler(exitcode: int, bysignal: int) -> None:
    """backgroundRewriteDoneHandler: on success rename the new BASE in (and the temp INCR
    file of a first rewrite), turn what it covers into HISTORY, persist the manifest, then
    delete the history.  Every step that can fail happens on a copy of the manifest: the
    AOF on disk stays the old, complete one until the new manifest is renamed in."""
    srv = server
    if not bysignal and exitcode == 0:
        now = time.perf_counter()
        srv.log_notice("Background AOF rewrite terminated with success")
        tmpfile = "temp-rewriteaof-bg-%d.aof" % srv.child_pid
        temp_am = srv.aof_manifest.dup()
        new_base_filename = get_new_base_file_name_and_mark_pre_as_history(temp_am)
        new_base_filepath = _aof_path(new_base_filename)
        if not _done_handler_install(tmpfile, temp_am, new_base_filename, new_base_filepath):
            srv.aof_lastbgrewrite_status = C_ERR
            srv.stat_aofrw_consecutive_failures += 1
        else:
            srv.aof_manifest = temp_am
            if srv.aof_state != AOF_OFF:
                srv.aof_current_size = get_append_only_file_size(new_base_filename)[0] + \
                    srv.aof_last_incr_size
                srv.aof_rewrite_base_size = srv.aof_current_size
            aof_del_history_files()
            srv.aof_lastbgrewrite_status = C_OK
            srv.stat_aofrw_consecutive_failures = 0
            srv.log_notice("Background AOF rewrite finished successfully")
            if srv.aof_state == AOF_WAIT_REWRITE:
                _set_aof_state(AOF_ON)
            srv.log_verbose("Background AOF rewrite signal handler took %dus"
                            % int((time.perf_counter() - now) * 1_000_000))
    elif not bysignal and exitcode != 0:
        srv.aof_lastbgrewrite_status = C_ERR
        srv.stat_aofrw_consecutive_failures += 1
        srv.log_warning("Background AOF rewrite terminated with error")
    else:
        # SIGUSR1 is how the server itself stops a rewrite: not an error.
        if bysignal != signal.SIGUSR1:
            srv.aof_lastbgrewrite_status = C_ERR
            srv.stat_aofrw_consecutive_failures += 1
        srv.log_warning("Background AOF rewrite terminated by signal %d" % bysignal)
    # cleanup:
    aof_remove_temp_file(srv.child_pid)
    if srv.aof_state == AOF_WAIT_REWRITE:
        # The first rewrite failed: its temp INCR data is useless without a BASE.
        srv.aof_buf = bytearray()
        aof_del_temp_incr_aof_file()
    srv.aof_rewrite_time_last = int(time.time()) - srv.aof_rewrite_time_start
    srv.aof_rewrite_time_start = -1
    if srv.aof_state == AOF_WAIT_REWRITE:
        srv.aof_rewrite_scheduled = True


def _done_handler_install(tmpfile: str, temp_am: AofManifest, new_base_filename: str,
                          new_base_filepath: str) -> bool:
    """The renames and the manifest write of a successful rewrite; False (after undoing
    what it did) when one fails."""
    srv = server
    start = time.perf_counter()
    try:
        os.rename(tmpfile, new_base_filepath)
    except OSError as e:
        srv.log_warning("Error trying to rename the temporary AOF base file %s into %s: %s"
                        % (tmpfile, new_base_filepath, e.strerror))
        return False
    if srv.latency_monitor_threshold:
        latency.latency_add_sample_if_needed("aof-rename",
                                             int((time.perf_counter() - start) * 1000))
    srv.log_notice("Successfully renamed the temporary AOF base file %s into %s"
                   % (tmpfile, new_base_filename))
    new_incr_filepath = None
    if srv.aof_state == AOF_WAIT_REWRITE:
        temp_incr_aof_name = get_temp_incr_aof_name()
        temp_incr_filepath = _aof_path(temp_incr_aof_name)
        new_incr_filename = get_new_incr_aof_name(temp_am)
        new_incr_filepath = _aof_path(new_incr_filename)
        try:
            os.rename(temp_incr_filepath, new_incr_filepath)
        except OSError as e:
            srv.log_warning("Error trying to rename the temporary AOF incr file %s into %s: %s"
                            % (temp_incr_filepath, new_incr_filepath, e.strerror))
            bg_unlink(new_base_filepath)
            return False
        srv.log_notice("Successfully renamed the temporary AOF incr file %s into %s"
                       % (temp_incr_aof_name, new_incr_filename))
    mark_rewritten_incr_aof_as_history(temp_am)
    if not persist_aof_manifest(temp_am):
        bg_unlink(new_base_filepath)
        if new_incr_filepath is not None:
            bg_unlink(new_incr_filepath)
        return False
    return True


# --------------------------------------------------------------------------------------------
# Server glue: startup loading, serverCron, beforeSleep, shutdown, CONFIG SET, DEBUG LOADAOF
# --------------------------------------------------------------------------------------------

def write_commands_denied_by_aof_error() -> bool:
    """writeCommandsDeniedByDiskError's AOF half: a failed write or background fsync
    stops writes (-MISCONF) until a later flush succeeds."""
    srv = server
    return srv.aof_state != AOF_OFF and (srv.aof_last_write_status == C_ERR or
                                         srv.aof_bio_fsync_status == C_ERR)


def write_commands_get_aof_error_message() -> str:
    srv = server
    err = srv.aof_last_write_errno
    if srv.aof_bio_fsync_status == C_ERR:
        err = srv.aof_bio_fsync_errno
    return "-MISCONF Errors writing to the AOF file: %s" % os.strerror(err or errno.EIO)


def load_data_from_disk(srv=None) -> None:
    """The AOF half of server.c's startup: aofLoadManifestFromDisk, loadDataFromDisk (when
    AOF is on it wins over the RDB file, which rdb.py then leaves alone),
    aofOpenIfNeededOnServerStart, aofDelHistoryFiles."""
    srv = srv or server
    aof_load_manifest_from_disk()
    if srv.aof_state == AOF_ON:
        start = time.perf_counter()
        ret = load_append_only_files(srv.aof_manifest)
        if ret in (AOF_FAILED, AOF_OPEN_ERR):
            raise SystemExit(1)
        if ret != AOF_NOT_EXIST:
            srv.log_notice("DB loaded from append only file: %.3f seconds"
                           % (time.perf_counter() - start))
    aof_open_if_needed_on_server_start()
    aof_del_history_files()


def _startup_hook(srv) -> None:
    load_data_from_disk(srv)


_last_write_retry = [0.0]


def aof_cron(srv) -> None:
    """serverCron's AOF part: a scheduled rewrite when no child runs, the automatic
    rewrite on growth, postponed flushes and (once a second) write-error retries.  Reaping
    the child is rdb.py's check_children_done, which calls
    background_rewrite_done_handler."""
    if not srv.has_active_child_process() and srv.aof_rewrite_scheduled and \
            not aof_rewrite_limited():
        rewrite_append_only_file_background()
    if srv.aof_state == AOF_ON and not srv.has_active_child_process() and \
            srv.auto_aof_rewrite_percentage and \
            srv.aof_current_size > srv.auto_aof_rewrite_min_size:
        base = srv.aof_rewrite_base_size or 1
        growth = srv.aof_current_size * 100 // base - 100
        if growth >= srv.auto_aof_rewrite_percentage and not aof_rewrite_limited():
            srv.log_notice("Starting automatic rewriting of AOF on %d%% growth" % growth)
            rewrite_append_only_file_background()
    state = srv.aof_state
    if state == AOF_OFF:
        return
    if srv.aof_flush_postponed_start:
        flush_append_only_file(False)
    now = time.monotonic()
    if now - _last_write_retry[0] >= 1.0:
        _last_write_retry[0] = now
        if srv.aof_last_write_status == C_ERR:
            flush_append_only_file(False)


def _before_sleep(srv) -> None:
    """beforeSleep's flushAppendOnlyFile: runs before handleClientsWithPendingWrites."""
    if srv.aof_state != AOF_OFF:
        flush_append_only_file(False)


def _shutdown_flags(srv, flags: int) -> bool:
    from tracered import server_cmds

    if not flags and srv.shutdown_asap:
        return "force" in str(getattr(srv, "shutdown_on_sigterm", "default")).split()
    return bool(flags & server_cmds.SHUTDOWN_FORCE)


def _shutdown_hook(srv, flags: int) -> bool:
    """prepareForShutdown's AOF part: never exit while the first BASE is being written
    (the dataset would be lost) unless forced; stop a rewrite; flush and fsync."""
    if srv.child_type == CHILD_TYPE_AOF:
        if srv.aof_state == AOF_WAIT_REWRITE:
            if _shutdown_flags(srv, flags):
                srv.log_warning("Writing initial AOF. Exit anyway.")
            else:
                srv.log_warning("Writing initial AOF, can't exit.")
                return False
        srv.log_warning("There is a child rewriting the AOF. Killing it!")
        kill_append_only_child()
    if srv.aof_state != AOF_OFF:
        srv.log_notice("Calling fsync() on the AOF file.")
        flush_append_only_file(True)
        if srv.aof_fd != -1:
            try:
                os.fdatasync(srv.aof_fd)
            except OSError as e:
                srv.log_warning("Fail to fsync the AOF file: %s." % e.strerror)
    return True


def update_appendonly(srv) -> str | None:
    """updateAppendonly: CONFIG SET appendonly yes|no starts (with a rewrite that writes
    the BASE) or stops the AOF."""
    if not srv.appendonly and srv.aof_state != AOF_OFF:
        stop_append_only()
    elif srv.appendonly and srv.aof_state == AOF_OFF:
        if not start_append_only():
            return "Unable to turn on AOF. Check server logs."
    return None


def debug_loadaof(c: net.Client) -> None:
    """DEBUG LOADAOF: flush the AOF, empty the dataset, load it back from the AOF files."""
    from tracered import db as dbmod

    srv = server
    if srv.aof_state == AOF_ON:
        flush_append_only_file(True)
    dbmod.empty_data(-1)
    aof_load_manifest_from_disk()
    aof_del_history_files()
    ret = load_append_only_files(srv.aof_manifest)
    if ret != AOF_OK and ret != AOF_EMPTY:
        raise SystemExit(1)
    srv.dirty = 0   # what was loaded is not a change to propagate
    srv.log_warning("Append Only File loaded by DEBUG LOADAOF")
    net.add_reply(c, shared.ok)


def _init_state(srv) -> None:
    """The AOF fields of redisServer, with initServer's values."""
    defaults = {
        "aof_fd": -1, "aof_selected_db": -1, "aof_rewrite_base_size": 0,
        "aof_current_size": 0, "aof_last_incr_size": 0, "aof_last_incr_fsync_offset": 0,
        "aof_rewrite_scheduled": False, "aof_flush_sleep": 0, "aof_last_fsync": int(time.time()),
        "aof_cur_timestamp": 0, "aof_bio_fsync_status": C_OK, "aof_bio_fsync_errno": 0,
        "aof_rewrite_time_last": -1, "aof_rewrite_time_start": -1,
        "aof_lastbgrewrite_status": C_OK, "aof_delayed_fsync": 0,
        "aof_flush_postponed_start": 0, "aof_last_write_status": C_OK,
        "aof_last_write_errno": 0, "stat_aof_rewrites": 0,
        "stat_aofrw_consecutive_failures": 0, "stat_aof_cow_bytes": 0,
        "aof_pending_bio_fsync": 0,
    }
    for k, v in defaults.items():
        if not hasattr(srv, k):
            setattr(srv, k, v)
    if not isinstance(getattr(srv, "aof_buf", None), bytearray):
        srv.aof_buf = bytearray()
    if getattr(srv, "aof_manifest", None) is None:
        srv.aof_manifest = AofManifest()
    srv.aof_client_id = CLIENT_ID_AOF


def init(srv) -> None:
    """Called by initServer: aof_state from the appendonly config, the hooks into
    propagation, beforeSleep, serverCron, startup, shutdown, CONFIG SET and DEBUG."""
    from tracered import config, debug

    _init_state(srv)
    _set_aof_state(AOF_ON if srv.appendonly else AOF_OFF)
    if _before_sleep not in srv.before_sleep_hooks:
        srv.before_sleep_hooks.append(_before_sleep)
    if aof_cron not in srv.cron_hooks:
        srv.cron_hooks.append(aof_cron)
    if _startup_hook not in srv.startup_hooks:
        # Right after rdb.py's loader (which steps aside when AOF is on), before the
        # debugger and tracing start.
        hooks = srv.startup_hooks
        idx = hooks.index(rdbmod._startup_hook) + 1 if rdbmod._startup_hook in hooks else 0
        hooks.insert(idx, _startup_hook)
    if _shutdown_hook not in srv.shutdown_hooks:
        # Before rdb.py's final SAVE, as in prepareForShutdown.
        srv.shutdown_hooks.insert(0, _shutdown_hook)
    if update_appendonly not in config.apply_hooks["appendonly"]:
        config.apply_hooks["appendonly"].append(update_appendonly)
    rdbmod.child_done_handlers[CHILD_TYPE_AOF] = background_rewrite_done_handler
    debug._SUBCOMMANDS[b"loadaof"] = (debug_loadaof, 2)


_init_state(server)
# Read by processCommand on every write: class defaults so the check never needs getattr.
Server.aof_last_write_status = C_OK  # type: ignore[attr-defined]
Server.aof_bio_fsync_status = C_OK  # type: ignore[attr-defined]


COMMANDS = [
    cmd("bgrewriteaof", bgrewriteaof_command, 1, "admin noscript no_async_loading",
        group="server", since="1.0.0", complexity="O(1)",
        summary="Asynchronously rewrite the append-only file"),
]
