"""Lists: the mirror of t_list.c (plus createQuicklistObject from object.c).

Redis 7.0 has one list encoding, ``OBJ_ENCODING_QUICKLIST`` (OBJECT ENCODING "quicklist"):
``o.ptr`` is a :class:`~tracered.quicklist.Quicklist`, a doubly linked list of byte-real
listpack nodes whose size is bounded by ``list-max-listpack-size`` (the node ``fill``) and
whose inner nodes are LZF-compressed beyond ``list-compress-depth``.  Both options are read
when a list is created, as Redis does (CONFIG SET does not reshape existing lists).  A list
never exists empty: the command that removes its last element deletes the key.

Layout (same order as t_list.c):

    list API            list_type_push (probe listTypePush), list_type_pop,
                        list_type_length, list_type_dup, list_type_del_range
    commands            LPUSH RPUSH LPUSHX RPUSHX LINSERT LLEN LINDEX LSET
                        LPOP RPOP (with count) LMPOP LRANGE LTRIM LPOS LREM
                        LMOVE RPOPLPUSH
    blocking            BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP; serve_client_blocked_on_list
                        is what blocked.py calls to serve one waiting client
    per-type hooks      MEMORY USAGE, DEBUG DIGEST, COPY, length, inspector preview

Replication: the blocking and multi-key forms never reach the AOF or replicas as such.
A pop done at once is rewritten (BLPOP -> LPOP key, BLMPOP/LMPOP -> LPOP key count,
BLMOVE -> LMOVE, BRPOPLPUSH -> RPOPLPUSH); a pop served later to a blocked client is
propagated by also_propagate in the same non-blocking form.

Divergence: listTypeIterator/listTypeEntry are not wrapped around the quicklist iterator;
the commands use quicklist's iterator directly (one less layer per element in Python).
Read-only walks (LRANGE, LPOP count) decode a node at a time instead of element by
element, and leave compressed nodes compressed (Redis decompresses and recompresses them:
the stored result is the same).
Divergence: elements come out of a listpack as ``bytes`` or ``int`` (an integer-encoded
entry); replies print the integers in decimal where Redis uses ll2string.
"""

from __future__ import annotations

from tracered import blocked, shared, util
from tracered import db as dbmod
from tracered import networking as net
from tracered import object as obj
from tracered import quicklist as qlmod
from tracered import server as server_module
from tracered.commands import KeySpec, cmd
from tracered.listpack import LP_HDR_SIZE, lp_get_with_size, lp_seek
from tracered.lzf import lzf_decompress
from tracered.object import OBJ_ENCODING_QUICKLIST, OBJ_LIST, RObj
from tracered.object_cmd import zmalloc_size
from tracered.server import server
from tracered.trace.probes import probe

LIST_HEAD = 0
LIST_TAIL = 1

LONG_MAX = util.LLONG_MAX
LONG_MIN = util.LLONG_MIN

_bulkhdr = shared.bulkhdr
_mbulkhdr = shared.mbulkhdr
_CRLF = b"\r\n"
_PROPAGATE = server_module.PROPAGATE_AOF | server_module.PROPAGATE_REPL

_POP_NAME = {LIST_HEAD: b"LPOP", LIST_TAIL: b"RPOP"}
_POP_EVENT = {LIST_HEAD: "lpop", LIST_TAIL: "rpop"}
_PUSH_EVENT = {LIST_HEAD: "lpush", LIST_TAIL: "rpush"}
_POSITION_NAME = {LIST_HEAD: b"LEFT", LIST_TAIL: b"RIGHT"}

def _arr(n: int) -> bytes:
    return _mbulkhdr[n] if n < 1024 else b"*%d\r\n" % n


def _bulk(x: bytes) -> bytes:
    n = len(x)
    if n < 1024:
        return b"".join((_bulkhdr[n], x, _CRLF))
    return b"".join((b"$%d\r\n" % n, x, _CRLF))


def _bulks(items: list[bytes]) -> bytes:
    """Consecutive bulk strings (the body of an array reply), shared headers when short."""
    try:
        return b"".join([_bulkhdr[len(x)] + x + _CRLF for x in items])
    except IndexError:
        return b"".join([_bulk(x) for x in items])


def _as_bytes(v) -> bytes:
    """A listpack value as the string Redis replies with (integers in decimal)."""
    return b"%d" % v if v.__class__ is int else v


# --------------------------------------------------------------------------------------------
# createQuicklistObject (object.c)
# --------------------------------------------------------------------------------------------

@probe("createQuicklistObject")
def create_quicklist_object() -> RObj:
    """createQuicklistObject: an empty list (callers then apply the list-* options)."""
    return RObj(OBJ_LIST, OBJ_ENCODING_QUICKLIST, qlmod.quicklist_create())


def _create_list_for_push() -> RObj:
    """createQuicklistObject + quicklistSetOptions with the current config, as every push
    that creates a list does."""
    o = create_quicklist_object()
    qlmod.quicklist_set_options(o.ptr, server.list_max_listpack_size,
                                server.list_compress_depth)
    return o


# --------------------------------------------------------------------------------------------
# List API
# --------------------------------------------------------------------------------------------

@probe("listTypePush")
def list_type_push(subject: RObj, value: bytes, where: int) -> None:
    """listTypePush: add ``value`` at the head (LIST_HEAD) or the tail (LIST_TAIL)."""
    if where == LIST_HEAD:
        qlmod.quicklist_push_head(subject.ptr, value)
    else:
        qlmod.quicklist_push_tail(subject.ptr, value)


def list_type_pop(subject: RObj, where: int) -> bytes | None:
    """listTypePop: remove and return the head or tail element (None if empty)."""
    v = qlmod.quicklist_pop(subject.ptr, qlmod.QUICKLIST_HEAD if where == LIST_HEAD
                            else qlmod.QUICKLIST_TAIL)
    if v.__class__ is int:
        return b"%d" % v
    return v


def list_type_length(subject: RObj) -> int:
    """listTypeLength."""
    return subject.ptr.count


def list_type_dup(o: RObj) -> RObj:
    """listTypeDup: a deep copy with the same encoding (COPY)."""
    return RObj(OBJ_LIST, OBJ_ENCODING_QUICKLIST, qlmod.quicklist_dup(o.ptr))


def list_type_del_range(subject: RObj, start: int, count: int) -> bool:
    """listTypeDelRange."""
    return qlmod.quicklist_del_range(subject.ptr, start, count)


_SMALL_INTS = [b"%d" % i for i in range(128)]


def _lp_values_into(lp, p: int, n: int, out: list) -> None:
    """Append the ``n`` elements of listpack ``lp`` from offset ``p`` to ``out`` as bytes.

    No Redis counterpart: the common encodings (7-bit uint, 6-bit string, 13-bit int) are
    decoded inline, as listpack.lp_iter does, but only as far as needed.
    """
    append = out.append
    small = _SMALL_INTS
    while n:
        b = lp[p]
        if b < 0x80:
            append(small[b])
            p += 2
        elif b < 0xC0:
            ln = b & 0x3F
            append(bytes(lp[p + 1:p + 1 + ln]))
            p += ln + 2
        elif b < 0xE0:
            v = ((b & 0x1F) << 8) | lp[p + 1]
            append(b"%d" % (v - 8192 if v >= 4096 else v))
            p += 3
        else:
            v, size = lp_get_with_size(lp, p)
            append(b"%d" % v if v.__class__ is int else v)
            p += size
        n -= 1


# The bulk protocol of the integers a 7-bit listpack entry can hold.
_SMALL_INT_BULKS = [_bulkhdr[len(b"%d" % i)] + b"%d" % i + _CRLF for i in range(128)]


def _lp_bulks_into(lp, p: int, n: int, out: list) -> None:
    """Like _lp_values_into, but append each element already as a bulk string: one pass
    instead of two for the forward replies (LRANGE, LPOP count)."""
    append = out.append
    hdr = _bulkhdr
    small = _SMALL_INT_BULKS
    while n:
        b = lp[p]
        if b < 0x80:
            append(small[b])
            p += 2
        elif b < 0xC0:
            ln = b & 0x3F
            append(hdr[ln] + lp[p + 1:p + 1 + ln] + _CRLF)
            p += ln + 2
        elif b < 0xE0:
            v = ((b & 0x1F) << 8) | lp[p + 1]
            v = b"%d" % (v - 8192 if v >= 4096 else v)
            append(hdr[len(v)] + v + _CRLF)
            p += 3
        else:
            v, size = lp_get_with_size(lp, p)
            append(_bulk(b"%d" % v if v.__class__ is int else v))
            p += size
        n -= 1


def _list_range(ql: qlmod.Quicklist, start: int, rangelen: int, into) -> list:
    """Walk elements start .. start+rangelen-1 (0-based from the head, already clipped),
    head to tail, giving each listpack run to ``into`` (_lp_values_into or
    _lp_bulks_into) and each PLAIN node's element as bytes.  A read-only walk: a compressed
    node is decompressed into a temporary copy, so the stored nodes stay as they are."""
    node = ql.head
    idx = start
    while node is not None and idx >= node.count:
        idx -= node.count
        node = node.next
    out: list = []
    need = rangelen
    bulks = into is _lp_bulks_into
    while need > 0 and node is not None:
        data = node.entry
        if node.encoding == qlmod.QUICKLIST_NODE_ENCODING_LZF:
            data = lzf_decompress(data, node.sz)
        if node.container == qlmod.QUICKLIST_NODE_CONTAINER_PLAIN:
            out.append(_bulk(bytes(data)) if bulks else bytes(data))
            need -= 1
        else:
            take = node.count - idx
            if take > need:
                take = need
            into(data, lp_seek(data, idx) if idx else LP_HDR_SIZE, take, out)
            need -= take
        idx = 0
        node = node.next
    return out


def list_range_values(ql: qlmod.Quicklist, start: int, rangelen: int) -> list[bytes]:
    """Elements start .. start+rangelen-1 (0-based from the head, already clipped), head to
    tail, as bytes."""
    return _list_range(ql, start, rangelen, _lp_values_into)


# --------------------------------------------------------------------------------------------
# LPUSH RPUSH LPUSHX RPUSHX
# --------------------------------------------------------------------------------------------

def push_generic_command(c: net.Client, where: int, xx: bool) -> None:
    """pushGenericCommand: LPUSH/RPUSH/LPUSHX/RPUSHX key element [element ...].  With
    ``xx`` (the X forms) a missing key is left alone and 0 is replied."""
    argv = c.argv
    db = c.db
    key = argv[1]
    lobj = dbmod.lookup_key_write(db, key)
    if lobj is not None:
        if lobj.type != OBJ_LIST:
            net.add_reply_error_object(c, shared.wrongtypeerr)
            return
    elif xx:
        net.add_reply(c, shared.czero)
        return
    else:
        lobj = _create_list_for_push()
        dbmod.db_add(db, key, lobj)
    for j in range(2, len(argv)):
        list_type_push(lobj, argv[j], where)
    srv = server
    srv.dirty += len(argv) - 2
    n = lobj.ptr.count
    net.add_reply(c, shared.integers[n] if n < 10000 else b":%d\r\n" % n)
    dbmod.signal_modified_key(c, db, key)
    if srv.notify_keyspace_events:
        dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, _PUSH_EVENT[where], key, db.id)


def lpush_command(c: net.Client) -> None:
    """LPUSH key element [element ...]."""
    push_generic_command(c, LIST_HEAD, False)


def rpush_command(c: net.Client) -> None:
    """RPUSH key element [element ...]."""
    push_generic_command(c, LIST_TAIL, False)


def lpushx_command(c: net.Client) -> None:
    """LPUSHX key element [element ...]."""
    push_generic_command(c, LIST_HEAD, True)


def rpushx_command(c: net.Client) -> None:
    """RPUSHX key element [element ...]."""
    push_generic_command(c, LIST_TAIL, True)


# --------------------------------------------------------------------------------------------
# LINSERT LLEN LINDEX LSET
# --------------------------------------------------------------------------------------------

def linsert_command(c: net.Client) -> None:
    """LINSERT key BEFORE|AFTER pivot element: insert next to the first element equal to
    pivot (searching from the head); -1 if there is none."""
    argv = c.argv
    how = argv[2].lower()
    if how == b"after":
        after = True
    elif how == b"before":
        after = False
    else:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    db = c.db
    subject = dbmod.lookup_key_write_or_reply(c, argv[1], shared.czero)
    if subject is None or dbmod.check_type(c, subject, OBJ_LIST):
        return
    ql = subject.ptr
    pivot = argv[3]
    it = qlmod.quicklist_get_iterator_at_idx(ql, qlmod.AL_START_HEAD, 0)
    entry = qlmod.QuicklistEntry()
    inserted = False
    while qlmod.quicklist_next(it, entry):
        if qlmod.quicklist_compare(entry, pivot):
            if after:
                qlmod.quicklist_insert_after(it, entry, argv[4])
            else:
                qlmod.quicklist_insert_before(it, entry, argv[4])
            inserted = True
            break
    qlmod.quicklist_release_iterator(it)
    if not inserted:
        net.add_reply(c, shared.cnegone)
        return
    dbmod.signal_modified_key(c, db, argv[1])
    if server.notify_keyspace_events:
        dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, "linsert", argv[1], db.id)
    server.dirty += 1
    net.add_reply_long_long(c, ql.count)


def llen_command(c: net.Client) -> None:
    """LLEN key."""
    o = dbmod.lookup_key_read_or_reply(c, c.argv[1], shared.czero)
    if o is None or dbmod.check_type(c, o, OBJ_LIST):
        return
    net.add_reply_long_long(c, o.ptr.count)


def lindex_command(c: net.Client) -> None:
    """LINDEX key index (negative from the tail); null when out of range."""
    argv = c.argv
    o = dbmod.lookup_key_read_or_reply(c, argv[1], shared.null[c.resp])
    if o is None or dbmod.check_type(c, o, OBJ_LIST):
        return
    index = dbmod.get_long_long_from_object_or_reply(c, argv[2])
    if index is None:
        return
    entry = qlmod.QuicklistEntry()
    it = qlmod.quicklist_get_iterator_entry_at_idx(o.ptr, index, entry)
    if it is not None:
        net.add_reply_bulk(c, _as_bytes(entry.value))
    else:
        net.add_reply_null(c)
    qlmod.quicklist_release_iterator(it)


def lset_command(c: net.Client) -> None:
    """LSET key index element."""
    argv = c.argv
    o = dbmod.lookup_key_write_or_reply(c, argv[1], shared.nokeyerr)
    if o is None or dbmod.check_type(c, o, OBJ_LIST):
        return
    index = dbmod.get_long_long_from_object_or_reply(c, argv[2])
    if index is None:
        return
    if not qlmod.quicklist_replace_at_index(o.ptr, index, argv[3]):
        net.add_reply_error_object(c, shared.outofrangeerr)
        return
    net.add_reply(c, shared.ok)
    db = c.db
    dbmod.signal_modified_key(c, db, argv[1])
    if server.notify_keyspace_events:
        dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, "lset", argv[1], db.id)
    server.dirty += 1


# --------------------------------------------------------------------------------------------
# Ranges and pops
# --------------------------------------------------------------------------------------------

def add_list_range_reply(c: net.Client, o: RObj, start: int, end: int,
                         reverse: bool) -> None:
    """addListRangeReply: elements start..end (inclusive, negative from the tail) as an
    array, from end to start when ``reverse``."""
    ql = o.ptr
    llen = ql.count
    if start < 0:
        start += llen
    if end < 0:
        end += llen
    if start < 0:
        start = 0
    # start >= 0 now, so end < 0 also lands here.
    if start > end or start >= llen:
        net.add_reply(c, shared.emptyarray)
        return
    if end >= llen:
        end = llen - 1
    rangelen = end - start + 1
    if reverse:
        vals = list_range_values(ql, start, rangelen)
        vals.reverse()
        net.add_reply(c, _arr(rangelen) + _bulks(vals))
    else:
        parts = _list_range(ql, start, rangelen, _lp_bulks_into)
        parts.insert(0, _arr(rangelen))
        net.add_reply(c, b"".join(parts))


def list_elements_removed(c: net.Client, key: bytes, where: int, o: RObj,
                          count: int) -> bool:
    """listElementsRemoved: after popping ``count`` elements: the pop event, the key
    deleted if the list is now empty (returns True then), WATCH and dirty."""
    db = c.db
    srv = server
    notify = srv.notify_keyspace_events
    if notify:
        dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, _POP_EVENT[where], key, db.id)
    deleted = False
    if o.ptr.count == 0:
        deleted = True
        dbmod.db_delete(db, key)
        if notify:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, db.id)
    dbmod.signal_modified_key(c, db, key)
    srv.dirty += count
    return deleted


def list_pop_range_and_reply_with_key(c: net.Client, o: RObj, key: bytes, where: int,
                                      count: int) -> bool:
    """listPopRangeAndReplyWithKey: reply [key, [elements...]] and pop them (LMPOP,
    BLMPOP).  Returns True when the key was deleted."""
    llen = o.ptr.count
    rangelen = count if count < llen else llen
    if where == LIST_HEAD:
        rangestart, rangeend, reverse = 0, rangelen - 1, False
    else:
        rangestart, rangeend, reverse = -rangelen, -1, True
    net.add_reply(c, _mbulkhdr[2] + _bulk(key))
    add_list_range_reply(c, o, rangestart, rangeend, reverse)
    list_type_del_range(o, rangestart, rangelen)
    return list_elements_removed(c, key, where, o, rangelen)


def pop_generic_command(c: net.Client, where: int) -> None:
    """popGenericCommand: LPOP/RPOP key [count].  Without count: one bulk (null if the key
    is missing); with count: an array (a null array if the key is missing)."""
    argv = c.argv
    argc = len(argv)
    hascount = argc == 3
    count = 0
    if argc > 3:
        net.add_reply_error_arity(c)
        return
    if hascount:
        count = dbmod.get_range_long_from_object_or_reply(c, argv[2], 0, LONG_MAX,
                                                          shared.MUST_BE_POSITIVE)
        if count is None:
            return
    key = argv[1]
    o = dbmod.lookup_key_write(c.db, key)
    if o is None:
        net.add_reply(c, (shared.nullarray if hascount else shared.null)[c.resp])
        return
    if o.type != OBJ_LIST:
        net.add_reply_error_object(c, shared.wrongtypeerr)
        return
    if hascount and not count:
        net.add_reply(c, shared.emptyarray)
        return
    if not count:
        value = list_type_pop(o, where)
        net.add_reply(c, _bulk(value))
        list_elements_removed(c, key, where, o, 1)
        return
    llen = o.ptr.count
    rangelen = count if count < llen else llen
    if where == LIST_HEAD:
        add_list_range_reply(c, o, 0, rangelen - 1, False)
        list_type_del_range(o, 0, rangelen)
    else:
        add_list_range_reply(c, o, -rangelen, -1, True)
        list_type_del_range(o, -rangelen, rangelen)
    list_elements_removed(c, key, where, o, rangelen)


def lpop_command(c: net.Client) -> None:
    """LPOP key [count]."""
    pop_generic_command(c, LIST_HEAD)


def rpop_command(c: net.Client) -> None:
    """RPOP key [count]."""
    pop_generic_command(c, LIST_TAIL)


def mpop_generic_command(c: net.Client, keys: list[bytes], where: int, count: int) -> None:
    """mpopGenericCommand: pop up to ``count`` from the first non-empty list of ``keys``;
    replicated as LPOP/RPOP key count."""
    db = c.db
    for key in keys:
        o = dbmod.lookup_key_write(db, key)
        if o is None:
            continue
        if dbmod.check_type(c, o, OBJ_LIST):
            return
        llen = o.ptr.count
        if llen == 0:
            continue
        list_pop_range_and_reply_with_key(c, o, key, where, count)
        net.rewrite_client_command_vector(
            c, [_POP_NAME[where], key, b"%d" % (count if count < llen else llen)])
        return
    net.add_reply_null_array(c)


def lrange_command(c: net.Client) -> None:
    """LRANGE key start stop."""
    argv = c.argv
    start = util.string2ll(argv[2])
    end = util.string2ll(argv[3])
    if start is None or end is None:
        net.add_reply_error(c, shared.NOT_INTEGER)
        return
    o = dbmod.lookup_key_read(c.db, argv[1])
    if o is None:
        net.add_reply(c, shared.emptyarray)
        return
    if o.type != OBJ_LIST:
        net.add_reply_error_object(c, shared.wrongtypeerr)
        return
    add_list_range_reply(c, o, start, end, False)


def ltrim_command(c: net.Client) -> None:
    """LTRIM key start stop: keep only that range (an empty range deletes the key)."""
    argv = c.argv
    start = dbmod.get_long_long_from_object_or_reply(c, argv[2])
    if start is None:
        return
    end = dbmod.get_long_long_from_object_or_reply(c, argv[3])
    if end is None:
        return
    o = dbmod.lookup_key_write_or_reply(c, argv[1], shared.ok)
    if o is None or dbmod.check_type(c, o, OBJ_LIST):
        return
    ql = o.ptr
    llen = ql.count
    if start < 0:
        start += llen
    if end < 0:
        end += llen
    if start < 0:
        start = 0
    if start > end or start >= llen:
        ltrim, rtrim = llen, 0
    else:
        if end >= llen:
            end = llen - 1
        ltrim, rtrim = start, llen - end - 1
    qlmod.quicklist_del_range(ql, 0, ltrim)
    qlmod.quicklist_del_range(ql, -rtrim, rtrim)
    db = c.db
    key = argv[1]
    notify = server.notify_keyspace_events
    if notify:
        dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, "ltrim", key, db.id)
    if ql.count == 0:
        dbmod.db_delete(db, key)
        if notify:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, db.id)
    dbmod.signal_modified_key(c, db, key)
    server.dirty += ltrim + rtrim
    net.add_reply(c, shared.ok)


def lpos_command(c: net.Client) -> None:
    """LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].

    RANK n picks the n-th match (negative: searching from the tail); COUNT returns up to
    that many match indexes (0 = all) as an array; MAXLEN bounds the elements compared.
    Indexes are always from the head, as LINDEX counts them.
    """
    argv = c.argv
    argc = len(argv)
    ele = argv[2]
    rank, count, maxlen = 1, -1, 0
    j = 3
    while j < argc:
        opt = argv[j].lower()
        moreargs = argc - 1 - j
        if opt == b"rank" and moreargs:
            j += 1
            rank = dbmod.get_long_long_from_object_or_reply(c, argv[j])
            if rank is None:
                return
            if rank == 0:
                net.add_reply_error(c, shared.LPOS_RANK_ZERO)
                return
        elif opt == b"count" and moreargs:
            j += 1
            count = dbmod.get_range_long_from_object_or_reply(c, argv[j], 0, LONG_MAX,
                                                              shared.LPOS_COUNT_NEGATIVE)
            if count is None:
                return
        elif opt == b"maxlen" and moreargs:
            j += 1
            maxlen = dbmod.get_range_long_from_object_or_reply(c, argv[j], 0, LONG_MAX,
                                                               shared.LPOS_MAXLEN_NEGATIVE)
            if maxlen is None:
                return
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1
    from_tail = rank < 0
    if from_tail and rank != LONG_MIN:
        # C's -LONG_MIN stays LONG_MIN: such a rank then accepts the first match.
        rank = -rank
    o = dbmod.lookup_key_read(c.db, argv[1])
    if o is None:
        net.add_reply(c, shared.emptyarray if count != -1 else shared.null[c.resp])
        return
    if dbmod.check_type(c, o, OBJ_LIST):
        return
    ql = o.ptr
    llen = ql.count
    it = qlmod.quicklist_get_iterator_at_idx(
        ql, qlmod.AL_START_TAIL if from_tail else qlmod.AL_START_HEAD, -1 if from_tail else 0)
    entry = qlmod.QuicklistEntry()
    next_ = qlmod.quicklist_next
    compare = qlmod.quicklist_compare
    index = matches = 0
    matchindex = -1
    found: list[int] = []
    while next_(it, entry) and (maxlen == 0 or index < maxlen):
        if compare(entry, ele):
            matches += 1
            matchindex = llen - index - 1 if from_tail else index
            if matches >= rank:
                if count != -1:
                    found.append(matchindex)
                    if count and matches - rank + 1 >= count:
                        break
                else:
                    break
        index += 1
        matchindex = -1
    qlmod.quicklist_release_iterator(it)
    if count != -1:
        net.add_reply(c, _arr(len(found)) + b"".join(
            [shared.integers[i] if i < 10000 else b":%d\r\n" % i for i in found]))
    elif matchindex != -1:
        net.add_reply_long_long(c, matchindex)
    else:
        net.add_reply(c, shared.null[c.resp])


def lrem_command(c: net.Client) -> None:
    """LREM key count element: remove the first ``count`` matches from the head (count >
    0), from the tail (count < 0), or all of them (0)."""
    argv = c.argv
    toremove = dbmod.get_long_long_from_object_or_reply(c, argv[2])
    if toremove is None:
        return
    subject = dbmod.lookup_key_write_or_reply(c, argv[1], shared.czero)
    if subject is None or dbmod.check_type(c, subject, OBJ_LIST):
        return
    ql = subject.ptr
    if toremove < 0:
        toremove = -toremove
        it = qlmod.quicklist_get_iterator_at_idx(ql, qlmod.AL_START_TAIL, -1)
    else:
        it = qlmod.quicklist_get_iterator_at_idx(ql, qlmod.AL_START_HEAD, 0)
    entry = qlmod.QuicklistEntry()
    obj_ = argv[3]
    removed = 0
    while qlmod.quicklist_next(it, entry):
        if qlmod.quicklist_compare(entry, obj_):
            qlmod.quicklist_del_entry(it, entry)
            removed += 1
            if toremove and removed == toremove:
                break
    qlmod.quicklist_release_iterator(it)
    db = c.db
    key = argv[1]
    notify = server.notify_keyspace_events
    if removed:
        server.dirty += removed
        dbmod.signal_modified_key(c, db, key)
        if notify:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, "lrem", key, db.id)
    if ql.count == 0:
        dbmod.db_delete(db, key)
        if notify:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, db.id)
    net.add_reply_long_long(c, removed)


# --------------------------------------------------------------------------------------------
# LMOVE RPOPLPUSH
# --------------------------------------------------------------------------------------------

def lmove_handle_push(c: net.Client, dstkey: bytes, dstobj: RObj | None, value: bytes,
                      where: int) -> None:
    """lmoveHandlePush: push ``value`` on the destination (creating the list), notify, and
    reply with the value."""
    db = c.db
    if dstobj is None:
        dstobj = _create_list_for_push()
        dbmod.db_add(db, dstkey, dstobj)
    dbmod.signal_modified_key(c, db, dstkey)
    list_type_push(dstobj, value, where)
    if server.notify_keyspace_events:
        dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, _PUSH_EVENT[where], dstkey, db.id)
    net.add_reply(c, _bulk(value))


def get_list_position_from_object_or_reply(c: net.Client, arg: bytes) -> int | None:
    """getListPositionFromObjectOrReply: LEFT -> LIST_HEAD, RIGHT -> LIST_TAIL."""
    a = arg.lower()
    if a == b"right":
        return LIST_TAIL
    if a == b"left":
        return LIST_HEAD
    net.add_reply_error_object(c, shared.syntaxerr)
    return None


def lmove_generic_command(c: net.Client, wherefrom: int, whereto: int) -> None:
    """lmoveGenericCommand: pop from argv[1], push on argv[2], reply with the element
    (null if the source is missing).  The same key on both sides rotates the list."""
    argv = c.argv
    db = c.db
    srckey = argv[1]
    sobj = dbmod.lookup_key_write_or_reply(c, srckey, shared.null[c.resp])
    if sobj is None or dbmod.check_type(c, sobj, OBJ_LIST):
        return
    if sobj.ptr.count == 0:
        # Only an empty list loaded from a very old RDB file can get here.
        net.add_reply_null(c)
        return
    dobj = dbmod.lookup_key_write(db, argv[2])
    if dbmod.check_type(c, dobj, OBJ_LIST):
        return
    value = list_type_pop(sobj, wherefrom)
    lmove_handle_push(c, argv[2], dobj, value, whereto)
    notify = server.notify_keyspace_events
    if notify:
        dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, _POP_EVENT[wherefrom], srckey, db.id)
    if sobj.ptr.count == 0:
        dbmod.db_delete(db, srckey)
        if notify:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", srckey, db.id)
    dbmod.signal_modified_key(c, db, srckey)
    server.dirty += 1
    name = c.cmd.name if c.cmd is not None else ""
    if name == "blmove":
        net.rewrite_client_command_vector(c, [b"LMOVE", argv[1], argv[2], argv[3], argv[4]])
    elif name == "brpoplpush":
        net.rewrite_client_command_vector(c, [b"RPOPLPUSH", argv[1], argv[2]])


def lmove_command(c: net.Client) -> None:
    """LMOVE source destination LEFT|RIGHT LEFT|RIGHT."""
    argv = c.argv
    wherefrom = get_list_position_from_object_or_reply(c, argv[3])
    if wherefrom is None:
        return
    whereto = get_list_position_from_object_or_reply(c, argv[4])
    if whereto is None:
        return
    lmove_generic_command(c, wherefrom, whereto)


def rpoplpush_command(c: net.Client) -> None:
    """RPOPLPUSH source destination (LMOVE source destination RIGHT LEFT)."""
    lmove_generic_command(c, LIST_TAIL, LIST_HEAD)


# --------------------------------------------------------------------------------------------
# Blocking POP operations
# --------------------------------------------------------------------------------------------

def serve_client_blocked_on_list(receiver: net.Client, o: RObj, key: bytes,
                                 dstkey: bytes | None, db, wherefrom: int,
                                 whereto: int) -> bool:
    """serveClientBlockedOnList: give one element (BLPOP/BRPOP), a range (BLMPOP) or a
    moved element (BLMOVE/BRPOPLPUSH) of the ready list ``key`` to ``receiver``, and
    propagate it as LPOP/RPOP [count] / LMOVE / RPOPLPUSH.  Returns True when the list
    was emptied and deleted.  WATCH was already touched by the push that woke it."""
    srv = server
    lastcmd = receiver.lastcmd.name if receiver.lastcmd is not None else ""
    if dstkey is None:
        if lastcmd == "blmpop":
            count = receiver.bpop.count
            llen = o.ptr.count
            server_module.also_propagate(
                db.id, [_POP_NAME[wherefrom], key, b"%d" % (count if count < llen else llen)],
                _PROPAGATE)
            return list_pop_range_and_reply_with_key(receiver, o, key, wherefrom, count)
        server_module.also_propagate(db.id, [_POP_NAME[wherefrom], key], _PROPAGATE)
        value = list_type_pop(o, wherefrom)
        net.add_reply(receiver, _mbulkhdr[2] + _bulk(key) + _bulk(value))
        srv.dirty += 1
        if srv.notify_keyspace_events:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, _POP_EVENT[wherefrom], key,
                                        receiver.db.id)
    else:
        dstobj = dbmod.lookup_key_write(receiver.db, dstkey)
        if dstobj is not None and dbmod.check_type(receiver, dstobj, OBJ_LIST):
            pass  # the receiver got WRONGTYPE and is unblocked; the source is untouched
        else:
            value = list_type_pop(o, wherefrom)
            lmove_handle_push(receiver, dstkey, dstobj, value, whereto)
            if lastcmd == "brpoplpush":
                argv = [b"RPOPLPUSH", key, dstkey]
            else:
                argv = [b"LMOVE", key, dstkey, _POSITION_NAME[wherefrom],
                        _POSITION_NAME[whereto]]
            server_module.also_propagate(db.id, argv, _PROPAGATE)
            srv.dirty += 1
            if srv.notify_keyspace_events:
                dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, _POP_EVENT[wherefrom], key,
                                            receiver.db.id)
    if o.ptr.count == 0:
        dbmod.db_delete(receiver.db, key)
        if srv.notify_keyspace_events:
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", key, receiver.db.id)
        return True
    return False


def _serve_list_receiver(receiver: net.Client, o: RObj, db, key: bytes) -> int:
    """blocked.serve_funcs[BLOCKED_LIST]: serve one client blocked on list ``key``."""
    bp = receiver.bpop
    deleted = serve_client_blocked_on_list(receiver, o, key, bp.target, db, bp.wherefrom,
                                           bp.whereto)
    return blocked.SERVE_KEY_DELETED if deleted else blocked.SERVE_DONE


blocked.serve_funcs[blocked.BLOCKED_LIST] = _serve_list_receiver


def blocking_pop_generic_command(c: net.Client, keys: list[bytes], where: int,
                                 timeout_idx: int, count: int) -> None:
    """blockingPopGenericCommand: BLPOP/BRPOP (count -1: reply [key, element]) and BLMPOP
    (reply [key, [elements]]): pop from the first non-empty list now, or block."""
    timeout = blocked.get_timeout_from_object_or_reply(c, c.argv[timeout_idx])
    if timeout is None:
        return
    db = c.db
    for key in keys:
        o = dbmod.lookup_key_write(db, key)
        if o is None:
            continue
        if dbmod.check_type(c, o, OBJ_LIST):
            return
        llen = o.ptr.count
        if llen == 0:
            continue
        if count != -1:
            list_pop_range_and_reply_with_key(c, o, key, where, count)
            net.rewrite_client_command_vector(
                c, [_POP_NAME[where], key, b"%d" % (count if count < llen else llen)])
            return
        value = list_type_pop(o, where)
        net.add_reply(c, _mbulkhdr[2] + _bulk(key) + _bulk(value))
        list_elements_removed(c, key, where, o, 1)
        net.rewrite_client_command_vector(c, [_POP_NAME[where], key])
        return
    # A client that may not block (MULTI, scripts) gets what a timeout would give.
    if blocked.client_deny_blocking(c):
        net.add_reply_null_array(c)
        return
    blocked.block_for_keys(c, blocked.BLOCKED_LIST, keys, count, timeout, None, where, 0)


def blpop_command(c: net.Client) -> None:
    """BLPOP key [key ...] timeout."""
    argv = c.argv
    blocking_pop_generic_command(c, argv[1:-1], LIST_HEAD, len(argv) - 1, -1)


def brpop_command(c: net.Client) -> None:
    """BRPOP key [key ...] timeout."""
    argv = c.argv
    blocking_pop_generic_command(c, argv[1:-1], LIST_TAIL, len(argv) - 1, -1)


def blmove_generic_command(c: net.Client, wherefrom: int, whereto: int,
                           timeout: int) -> None:
    """blmoveGenericCommand: LMOVE now if the source has elements, else block on it."""
    argv = c.argv
    o = dbmod.lookup_key_write(c.db, argv[1])
    if dbmod.check_type(c, o, OBJ_LIST):
        return
    if o is None:
        if blocked.client_deny_blocking(c):
            net.add_reply_null(c)
        else:
            blocked.block_for_keys(c, blocked.BLOCKED_LIST, [argv[1]], -1, timeout, argv[2],
                                   wherefrom, whereto)
        return
    lmove_generic_command(c, wherefrom, whereto)


def blmove_command(c: net.Client) -> None:
    """BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout."""
    argv = c.argv
    wherefrom = get_list_position_from_object_or_reply(c, argv[3])
    if wherefrom is None:
        return
    whereto = get_list_position_from_object_or_reply(c, argv[4])
    if whereto is None:
        return
    timeout = blocked.get_timeout_from_object_or_reply(c, argv[5])
    if timeout is None:
        return
    blmove_generic_command(c, wherefrom, whereto, timeout)


def brpoplpush_command(c: net.Client) -> None:
    """BRPOPLPUSH source destination timeout."""
    timeout = blocked.get_timeout_from_object_or_reply(c, c.argv[3])
    if timeout is None:
        return
    blmove_generic_command(c, LIST_TAIL, LIST_HEAD, timeout)


def lmpop_generic_command(c: net.Client, numkeys_idx: int, is_block: bool) -> None:
    """lmpopGenericCommand: [timeout] numkeys key [key ...] LEFT|RIGHT [COUNT count]."""
    argv = c.argv
    argc = len(argv)
    numkeys = dbmod.get_range_long_from_object_or_reply(c, argv[numkeys_idx], 1, LONG_MAX,
                                                        shared.NUMKEYS_NOT_POSITIVE)
    if numkeys is None:
        return
    where_idx = numkeys_idx + numkeys + 1
    if where_idx >= argc:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    where = get_list_position_from_object_or_reply(c, argv[where_idx])
    if where is None:
        return
    count = -1
    j = where_idx + 1
    while j < argc:
        moreargs = argc - 1 - j
        if count == -1 and argv[j].lower() == b"count" and moreargs:
            j += 1
            count = dbmod.get_range_long_from_object_or_reply(
                c, argv[j], 1, LONG_MAX, shared.COUNT_NOT_POSITIVE)
            if count is None:
                return
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1
    if count == -1:
        count = 1
    keys = argv[numkeys_idx + 1:where_idx]
    if is_block:
        blocking_pop_generic_command(c, keys, where, 1, count)
    else:
        mpop_generic_command(c, keys, where, count)


def lmpop_command(c: net.Client) -> None:
    """LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]."""
    lmpop_generic_command(c, 1, False)


def blmpop_command(c: net.Client) -> None:
    """BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]."""
    lmpop_generic_command(c, 2, True)


# --------------------------------------------------------------------------------------------
# Per-type hooks: MEMORY USAGE, DEBUG DIGEST, COPY, length, preview
# --------------------------------------------------------------------------------------------

ROBJ_SIZE = 16              # sizeof(robj)
QUICKLIST_SIZE = 40         # sizeof(quicklist): 4 pointers/longs + the fill/compress/bm bits
QUICKLIST_NODE_SIZE = 40    # sizeof(quicklistNode): 3 pointers, sz, 32 bits of fields, padding
QUICKLIST_LZF_HDR = 8       # quicklistLZF's size_t in front of the compressed bytes


def _node_alloc_size(node: qlmod.QuicklistNode) -> int:
    """zmalloc_size(node->entry): the listpack, the PLAIN element, or the quicklistLZF."""
    if node.encoding == qlmod.QUICKLIST_NODE_ENCODING_LZF:
        return zmalloc_size(QUICKLIST_LZF_HDR + len(node.entry))
    return zmalloc_size(len(node.entry))


def list_memory_usage(o: RObj, samples: int) -> int:
    """objectComputeSize for a quicklist: the robj and quicklist structs plus the average of
    the first ``samples`` nodes (node struct + its allocation; 0 = all) times the node
    count."""
    ql = o.ptr
    asize = ROBJ_SIZE + QUICKLIST_SIZE
    node = ql.head
    if node is None:
        return asize
    elesize = 0
    n = 0
    while node is not None:
        elesize += QUICKLIST_NODE_SIZE + _node_alloc_size(node)
        n += 1
        node = node.next
        if samples and n >= samples:
            break
    return asize + int(elesize / n * ql.len)


def list_digest_value(o: RObj) -> list[bytes]:
    """digest.py's plain list: the elements head to tail, as bytes."""
    return [_as_bytes(v) for v in qlmod.quicklist_iter_values(o.ptr)]


def list_preview(o: RObj, limit: int) -> str:
    """At most ``limit`` elements as ``[a, b, ...]`` for the debugger's inspector."""
    out = []
    for n, v in enumerate(qlmod.quicklist_iter_values(o.ptr)):
        if n >= limit:
            out.append("...")
            break
        out.append(repr(_as_bytes(v).decode("utf-8", "replace")))
    return "[" + ", ".join(out) + "]"


obj.memory_usage_funcs[OBJ_LIST] = list_memory_usage
obj.digest_value_funcs[OBJ_LIST] = list_digest_value
obj.dup_funcs[OBJ_LIST] = list_type_dup
obj.length_funcs[OBJ_LIST] = list_type_length
obj.preview_funcs[OBJ_LIST] = list_preview


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

def _ks(flags: str, begin: int = 1, lastkey: int = 0) -> KeySpec:
    return KeySpec(flags, begin, lastkey=lastkey, keystep=1)


def _history(c, *items: tuple[str, str]):
    c.history = list(items)
    return c


_PUSH_COMPLEXITY = ("O(1) for each element added, so O(N) to add N elements when the "
                    "command is called with multiple arguments.")
_MULTI_ELEMENT = "Accepts multiple `element` arguments."
_DOUBLE_TIMEOUT = "`timeout` is interpreted as a double instead of an integer."
_MPOP_COMPLEXITY = ("O(N+M) where N is the number of provided keys and M is the number of "
                    "elements returned.")
_MOVE_KS = [_ks("RW access delete"), _ks("RW insert", 2)]

COMMANDS = [
    cmd("blmove", blmove_command, 6, "write denyoom noscript blocking", keys=(1, 2, 1),
        acl="list", group="list", since="6.2.0",
        summary="Pop an element from a list, push it to another list and return it; or block "
                "until one is available",
        args="source destination LEFT|RIGHT LEFT|RIGHT timeout:double", key_specs=_MOVE_KS),
    cmd("blmpop", blmpop_command, -5, "write blocking movablekeys", acl="list", group="list",
        since="7.0.0", complexity=_MPOP_COMPLEXITY,
        summary="Pop elements from a list, or block until one is available",
        args="timeout:double numkeys key [key ...] LEFT|RIGHT [COUNT count]",
        key_specs=[KeySpec("RW access delete", 2, kind="keynum", keynumidx=0, firstkey=1,
                           keystep=1)]),
    _history(cmd("blpop", blpop_command, -3, "write noscript blocking", keys=(1, -2, 1),
                 acl="list", group="list", since="2.0.0",
                 complexity="O(N) where N is the number of provided keys.",
                 summary="Remove and get the first element in a list, or block until one is "
                         "available",
                 args="key [key ...] timeout:double",
                 key_specs=[_ks("RW access delete", 1, -2)]),
             ("6.0.0", _DOUBLE_TIMEOUT)),
    _history(cmd("brpop", brpop_command, -3, "write noscript blocking", keys=(1, -2, 1),
                 acl="list", group="list", since="2.0.0",
                 complexity="O(N) where N is the number of provided keys.",
                 summary="Remove and get the last element in a list, or block until one is "
                         "available",
                 args="key [key ...] timeout:double",
                 key_specs=[_ks("RW access delete", 1, -2)]),
             ("6.0.0", _DOUBLE_TIMEOUT)),
    _history(cmd("brpoplpush", brpoplpush_command, 4, "write denyoom noscript blocking",
                 keys=(1, 2, 1), acl="list", group="list", since="2.2.0",
                 summary="Pop an element from a list, push it to another list and return it; "
                         "or block until one is available",
                 args="source destination timeout:double", key_specs=_MOVE_KS,
                 doc_flags="deprecated", deprecated_since="6.2.0",
                 replaced_by="`BLMOVE` with the `RIGHT` and `LEFT` arguments"),
             ("6.0.0", _DOUBLE_TIMEOUT)),
    cmd("lindex", lindex_command, 3, "readonly", keys=(1, 1, 1), acl="list", group="list",
        complexity="O(N) where N is the number of elements to traverse to get to the element "
                   "at index. This makes asking for the first or the last element of the list "
                   "O(1).",
        summary="Get an element from a list by its index", args="key index",
        key_specs=[_ks("RO access")]),
    cmd("linsert", linsert_command, 5, "write denyoom", keys=(1, 1, 1), acl="list",
        group="list", since="2.2.0",
        complexity="O(N) where N is the number of elements to traverse before seeing the value "
                   "pivot. This means that inserting somewhere on the left end on the list "
                   "(head) can be considered O(1) and inserting somewhere on the right end "
                   "(tail) is O(N).",
        summary="Insert an element before or after another element in a list",
        args="key BEFORE|AFTER pivot element", key_specs=[_ks("RW insert")]),
    cmd("llen", llen_command, 2, "readonly fast", keys=(1, 1, 1), acl="list", group="list",
        summary="Get the length of a list", args="key", key_specs=[_ks("RO")]),
    cmd("lmove", lmove_command, 5, "write denyoom", keys=(1, 2, 1), acl="list", group="list",
        since="6.2.0",
        summary="Pop an element from a list, push it to another list and return it",
        args="source destination LEFT|RIGHT LEFT|RIGHT", key_specs=_MOVE_KS),
    cmd("lmpop", lmpop_command, -4, "write movablekeys", acl="list", group="list",
        since="7.0.0", complexity=_MPOP_COMPLEXITY, summary="Pop elements from a list",
        args="numkeys key [key ...] LEFT|RIGHT [COUNT count]",
        key_specs=[KeySpec("RW access delete", 1, kind="keynum", keynumidx=0, firstkey=1,
                           keystep=1)]),
    _history(cmd("lpop", lpop_command, -2, "write fast", keys=(1, 1, 1), acl="list",
                 group="list", complexity="O(N) where N is the number of elements returned",
                 summary="Remove and get the first elements in a list", args="key [count]",
                 key_specs=[_ks("RW access delete")]),
             ("6.2.0", "Added the `count` argument.")),
    cmd("lpos", lpos_command, -3, "readonly", keys=(1, 1, 1), acl="list", group="list",
        since="6.0.6",
        complexity="O(N) where N is the number of elements in the list, for the average case. "
                   "When searching for elements near the head or the tail of the list, or "
                   "when the MAXLEN option is provided, the command may run in constant time.",
        summary="Return the index of matching elements on a list",
        args="key element [RANK rank] [COUNT num-matches:integer] [MAXLEN len]",
        key_specs=[_ks("RO access")]),
    _history(cmd("lpush", lpush_command, -3, "write denyoom fast", keys=(1, 1, 1),
                 acl="list", group="list", complexity=_PUSH_COMPLEXITY,
                 summary="Prepend one or multiple elements to a list",
                 args="key element [element ...]", key_specs=[_ks("RW insert")]),
             ("2.4.0", _MULTI_ELEMENT)),
    _history(cmd("lpushx", lpushx_command, -3, "write denyoom fast", keys=(1, 1, 1),
                 acl="list", group="list", since="2.2.0", complexity=_PUSH_COMPLEXITY,
                 summary="Prepend an element to a list, only if the list exists",
                 args="key element [element ...]", key_specs=[_ks("RW insert")]),
             ("4.0.0", _MULTI_ELEMENT)),
    cmd("lrange", lrange_command, 4, "readonly", keys=(1, 1, 1), acl="list", group="list",
        complexity="O(S+N) where S is the distance of start offset from HEAD for small lists, "
                   "from nearest end (HEAD or TAIL) for large lists; and N is the number of "
                   "elements in the specified range.",
        summary="Get a range of elements from a list", args="key start stop",
        key_specs=[_ks("RO access")]),
    cmd("lrem", lrem_command, 4, "write", keys=(1, 1, 1), acl="list", group="list",
        complexity="O(N+M) where N is the length of the list and M is the number of elements "
                   "removed.",
        summary="Remove elements from a list", args="key count element",
        key_specs=[_ks("RW delete")]),
    cmd("lset", lset_command, 4, "write denyoom", keys=(1, 1, 1), acl="list", group="list",
        complexity="O(N) where N is the length of the list. Setting either the first or the "
                   "last element of the list is O(1).",
        summary="Set the value of an element in a list by its index", args="key index element",
        key_specs=[_ks("RW update")]),
    cmd("ltrim", ltrim_command, 4, "write", keys=(1, 1, 1), acl="list", group="list",
        complexity="O(N) where N is the number of elements to be removed by the operation.",
        summary="Trim a list to the specified range", args="key start stop",
        key_specs=[_ks("RW delete")]),
    _history(cmd("rpop", rpop_command, -2, "write fast", keys=(1, 1, 1), acl="list",
                 group="list", complexity="O(N) where N is the number of elements returned",
                 summary="Remove and get the last elements in a list", args="key [count]",
                 key_specs=[_ks("RW access delete")]),
             ("6.2.0", "Added the `count` argument.")),
    cmd("rpoplpush", rpoplpush_command, 3, "write denyoom", keys=(1, 2, 1), acl="list",
        group="list", since="1.2.0",
        summary="Remove the last element in a list, prepend it to another list and return it",
        args="source destination", key_specs=_MOVE_KS, doc_flags="deprecated",
        deprecated_since="6.2.0", replaced_by="`LMOVE` with the `RIGHT` and `LEFT` arguments"),
    _history(cmd("rpush", rpush_command, -3, "write denyoom fast", keys=(1, 1, 1),
                 acl="list", group="list", complexity=_PUSH_COMPLEXITY,
                 summary="Append one or multiple elements to a list",
                 args="key element [element ...]", key_specs=[_ks("RW insert")]),
             ("2.4.0", _MULTI_ELEMENT)),
    _history(cmd("rpushx", rpushx_command, -3, "write denyoom fast", keys=(1, 1, 1),
                 acl="list", group="list", since="2.2.0", complexity=_PUSH_COMPLEXITY,
                 summary="Append an element to a list, only if the list exists",
                 args="key element [element ...]", key_specs=[_ks("RW insert")]),
             ("4.0.0", _MULTI_ELEMENT)),
]
