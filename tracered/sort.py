"""SORT and SORT_RO: the mirror of sort.c, plus sortGetKeys / sortROGetKeys from db.c.

SORT reads a list, set or sorted set, optionally weighs each element by an external key
(``BY weight_*`` or a hash field ``BY obj_*->field``), orders the elements numerically or
as strings (ALPHA), cuts a window (LIMIT), replaces each element by external values
(``GET pattern``, ``GET #`` for the element itself) and replies, or stores the result as a
list (STORE).  SORT_RO is the same command without STORE, flagged read-only so it may run
on read-only replicas and in read-only scripts.

Layout (same order as sort.c):

    patterns        lookup_key_by_pattern (probe lookupKeyByPattern)
    comparison      sort_compare (sortCompare), the key functions the full sort uses,
                    and pqsort (pqsort.py, used with BY + LIMIT)
    the command     sort_command_generic, sort_command, sortro_command
    key extraction  sort_get_keys, sortro_get_keys (db.c)

How the pieces map to Redis:

* The sort vector is a list of :class:`RedisSortObject`, one per element: the element
  (``obj``, always ``bytes``) and ``u``, the union of sort.c: the numeric score, or the
  string to compare (``cmpobj``, None when the BY key is missing).
* Numeric scores are C ``strtod`` over the whole string (leading blanks allowed, hex floats,
  ``inf``; an empty string is 0).  Anything left over, NaN, overflow or an inexact
  underflow (glibc's ERANGE) fails the whole command with "One or more scores can't be
  converted into double", after the sort, as Redis does.
* Redis sorts with libc ``qsort`` (glibc: a stable merge sort) unless BY and LIMIT are both
  given, where it uses ``pqsort``, which only orders the requested window and is not stable.
  Here the full sort is Python's stable sort with key functions equivalent to sortCompare
  (equal elements keep their load order, as with glibc), and the partial sort is a port of
  pqsort, run only where its order is observable: ALPHA with BY, where distinct elements can
  compare equal.  With numeric BY, ties are broken by the element itself, so the order is
  total and any sort yields the same window.
* A set sorted ``BY nosort`` is replied in the set's own order, except with STORE or inside
  a script (CLIENT_SCRIPT), where Redis forces an ALPHA sort so that replicas and the AOF get
  the same result.  Lists and sorted sets keep their native order, so BY nosort on them is
  deterministic and also honours DESC and LIMIT by reading only the requested range.
* A listpack sorted set is converted to a skiplist before sorting, even by SORT_RO
  (zsetConvert in sortCommandGeneric): OBJECT ENCODING shows it afterwards.
* STORE builds a fresh quicklist with the default node size (createQuicklistObject does not
  apply list-max-listpack-size), replaces the destination (dropping its TTL), raises the
  "sortstore" event and adds the number of stored elements to ``server.dirty``; an empty
  result deletes the destination instead ("del" event, dirty + 1).

Divergence: ALPHA without STORE compares with ``strcoll`` in Redis (setlocale(LC_COLLATE,
"") at startup).  tracered compares bytes up to the first NUL, which is what strcoll does in
the C and C.UTF-8 locales; other locales' collation is not reproduced.
Divergence: ``errno`` is not reset before strtod in Redis, so a stale ERANGE from an earlier
failure in the same connection's call chain could fail a later SORT; tracered judges every
value on its own.
Divergence: the ACL check for BY/GET (keys that are not declared, so only users with
unrestricted key access may use them) goes through
``acl.acl_user_check_cmd_with_unrestricted_key_access(user, cmd, argv)`` when acl.py
provides it; without it every user has full key access.  Cluster mode does not exist in
tracered, so the cluster refusals of BY/GET are not reachable.
The key specs for BY/GET and STORE are "unknown", with Redis's notes, as in COMMAND INFO:
a key-spec walker skips them and only sort_get_keys finds those keys, as Redis's
getKeysUsingKeySpecs does (invalid_spec).
"""

from __future__ import annotations

from fractions import Fraction
from operator import attrgetter

from tracered import db as dbmod
from tracered import networking as net
from tracered import pqsort, shared
from tracered import t_list as tlist
from tracered import t_zset as tzset
from tracered.commands import KeySpec, cmd
from tracered.object import (
    OBJ_ENCODING_INT,
    OBJ_ENCODING_SKIPLIST,
    OBJ_HASH,
    OBJ_LIST,
    OBJ_SET,
    OBJ_STRING,
    OBJ_ZSET,
)
from tracered.server import server
from tracered.skiplist import strtod as _strtod_whole
from tracered.skiplist import zsl_get_element_by_rank
from tracered.t_hash import hash_type_get_value, ht_keys
from tracered.t_set import set_type_members
from tracered.trace.probes import probe

SORT_OP_GET = 0

_DBL_MIN = 2.2250738585072014e-308
_INF = float("inf")


class RedisSortObject:
    """redisSortObject: one element of the sort vector.

    ``u`` is sort.c's union: the numeric score (float) or, for ALPHA with BY, the string
    to compare (``cmpobj``: bytes, or None when the BY key is missing).
    """

    __slots__ = ("obj", "u")

    def __init__(self, obj: bytes, u) -> None:
        self.obj = obj
        self.u = u

    def __repr__(self) -> str:
        return f"<RedisSortObject {self.obj!r} u={self.u!r}>"


class RedisSortOperation:
    """redisSortOperation: a GET pattern to apply to every sorted element."""

    __slots__ = ("type", "pattern")

    def __init__(self, type_: int, pattern: bytes) -> None:
        self.type = type_
        self.pattern = pattern


def _cstr(s: bytes) -> bytes:
    """What C string functions (strchr, strstr, strcoll) see of an sds: up to the first NUL."""
    nul = s.find(b"\x00")
    return s if nul < 0 else s[:nul]


# --------------------------------------------------------------------------------------------
# Patterns (lookupKeyByPattern)
# --------------------------------------------------------------------------------------------

@probe("lookupKeyByPattern")
def lookup_key_by_pattern(db, pattern: bytes, subst: bytes) -> bytes | int | None:
    """lookupKeyByPattern: the value named by ``pattern`` for the element ``subst``.

    ``#`` is the element itself.  Otherwise the first ``*`` is replaced by the element to
    form a key name; a ``->field`` suffix after the ``*`` reads that field of a hash, else
    the key must hold a string.  None when the pattern has no ``*``, the key is missing or
    has another type, or the field is missing.  An integer-encoded value comes back as int.
    """
    if pattern[:1] == b"#" and (len(pattern) == 1 or pattern[1] == 0):
        return subst
    spat = _cstr(pattern)
    p = spat.find(b"*")
    if p < 0:
        return None
    # The field is everything after the first "->" that follows the '*', provided it is
    # not empty (C: the character after the arrow is not the terminator).  Its length is
    # counted on the whole pattern, so bytes after an embedded NUL belong to it.
    f = spat.find(b"->", p + 1)
    if f >= 0 and f + 2 < len(spat):
        field = pattern[f + 2:]
        keyname = pattern[:p] + subst + pattern[p + 1:f]
    else:
        field = None
        keyname = pattern[:p] + subst + pattern[p + 1:]
    o = dbmod.lookup_key_read(db, keyname)
    if o is None:
        return None
    if field is not None:
        if o.type != OBJ_HASH:
            return None
        return hash_type_get_value(o, field)
    if o.type != OBJ_STRING:
        return None
    v = o.ptr
    if o.encoding == OBJ_ENCODING_INT or v.__class__ is bytes:
        return v
    return bytes(v)


# --------------------------------------------------------------------------------------------
# Scores: strtod with sortCommandGeneric's checks
# --------------------------------------------------------------------------------------------

def _hex_fraction(t: bytes) -> Fraction:
    """The exact value of a C hex float literal already validated by strtod's grammar."""
    neg = t[:1] == b"-"
    body = t.lstrip(b"+-")[2:]
    mant, _, exp = body.lower().partition(b"p")
    ip, _, fp = mant.partition(b".")
    digits = (ip + fp) or b"0"
    e = int(exp) if exp else 0
    v = Fraction(int(digits, 16)) * Fraction(2) ** (e - 4 * len(fp))
    return -v if neg else v


def sort_strtod(s: bytes) -> float | None:
    """The score of a sds value as sortCommandGeneric computes it, or None for the
    conversion error (trailing characters, NaN, or strtod's ERANGE)."""
    if s.isdigit() and len(s) < 309:
        return float(s)  # plain digits below 1e308: strtod's value, nothing to check
    s = _cstr(s)
    if not s:
        return 0.0  # strtod converts nothing and stops on the terminator: no error
    v = _strtod_whole(s)
    if v is None or v != v:
        return None
    if v == _INF or v == -_INF:
        # An explicit "inf"/"infinity" is fine; a finite number too large is ERANGE.
        t = s.strip(b" \t\n\v\f\r").lstrip(b"+-")
        return v if t[:1] in (b"i", b"I") else None
    if v == 0.0 or -_DBL_MIN < v < _DBL_MIN:
        # glibc reports ERANGE for a result that is subnormal (or zero) and inexact.
        t = s.strip(b" \t\n\v\f\r")
        try:
            if t.lstrip(b"+-")[:2] in (b"0x", b"0X"):
                exact = _hex_fraction(t)
            else:
                exact = Fraction(t.decode("ascii"))
        except (ValueError, ZeroDivisionError):
            return v
        if exact != Fraction(v):
            return None
    return v


def _score(v: bytes | int) -> float | None:
    """A BY value or an element as a score: an integer-encoded value is cast, as Redis does
    for OBJ_ENCODING_INT; a string goes through strtod."""
    if v.__class__ is int:
        return float(v)
    return sort_strtod(v)


# --------------------------------------------------------------------------------------------
# Comparison (sortCompare); the partial quicksort is pqsort.py (pqsort.c)
# --------------------------------------------------------------------------------------------

def sort_compare(so1: RedisSortObject, so2: RedisSortObject, desc: bool, alpha: bool,
                 bypattern: bool, store: bool) -> int:
    """sortCompare: <0, 0 or >0.  Redis passes the four options through globals of the
    server struct (qsort has no context argument); here they are parameters.

    Numeric: by score, equal scores by the elements' bytes so the result is deterministic.
    ALPHA with BY: a missing weight sorts first; otherwise the weights' bytes (with STORE)
    or their collation.  ALPHA alone: the elements, the same way.  With ``alpha`` and BY,
    ``u`` already holds the string to compare, cut at its NUL unless ``store`` (see
    sort_command_generic), so both comparisons are plain byte comparisons here.
    """
    if not alpha:
        a, b = so1.u, so2.u
        if a > b:
            cmp = 1
        elif a < b:
            cmp = -1
        else:
            x, y = so1.obj, so2.obj
            cmp = (x > y) - (x < y)
    elif bypattern:
        a, b = so1.u, so2.u
        if a is None or b is None:
            cmp = 0 if a is b else (-1 if a is None else 1)
        else:
            cmp = (a > b) - (a < b)
    else:
        x, y = so1.obj, so2.obj
        if not store:
            x, y = _cstr(x), _cstr(y)
        cmp = (x > y) - (x < y)
    return -cmp if desc else cmp


_get_obj = attrgetter("obj")
_get_u = attrgetter("u")


def _coll_key(so: RedisSortObject) -> bytes:
    return _cstr(so.obj)


def _full_sort(vector: list, desc: bool, alpha: bool, bypattern: bool,
               store: bool) -> list:
    """What qsort(vector, sortCompare) yields with glibc, whose qsort is a stable merge
    sort: sortCompare's order, equal elements in load order.  Done with Python's stable
    sort on plain keys (C-speed comparisons) rather than through the comparator."""
    if not alpha:
        # By score, equal scores by the element: two stable passes, the second one on
        # floats only, beat one pass on (score, element) tuples by about three times.
        vector.sort(key=_get_obj, reverse=desc)
        vector.sort(key=_get_u, reverse=desc)
        return vector
    if bypattern:
        # A missing weight sorts before any string; missing ones keep their load order.
        missing = [so for so in vector if so.u is None]
        present = [so for so in vector if so.u is not None]
        present.sort(key=_get_u, reverse=desc)
        return present + missing if desc else missing + present
    vector.sort(key=_get_obj if store else _coll_key, reverse=desc)
    return vector


# --------------------------------------------------------------------------------------------
# SORT / SORT_RO (sortCommandGeneric)
# --------------------------------------------------------------------------------------------

_acl_check = None


def _user_has_full_key_access(c: net.Client) -> bool:
    """ACLUserCheckCmdWithUnrestrictedKeyAccess, through acl.py when it provides it."""
    global _acl_check
    if _acl_check is None:
        try:
            from tracered import acl
        except ImportError:
            acl = None
        fn = getattr(acl, "acl_user_check_cmd_with_unrestricted_key_access", None)
        _acl_check = fn if fn is not None else False
    if _acl_check is False:
        return True
    return bool(_acl_check(c.user, c.cmd, c.argv))


def sort_command_generic(c: net.Client, readonly: bool) -> None:
    """sortCommandGeneric: parse the options, load, weigh, sort, then reply or STORE."""
    argv = c.argv
    argc = len(argv)
    db = c.db
    operations: list[RedisSortOperation] = []
    desc = alpha = dontsort = False
    limit_start, limit_count = 0, -1
    sortby: bytes | None = None
    storekey: bytes | None = None
    full_key_access = _user_has_full_key_access(c)

    # The options, SQL-like; a repeated option overrides the previous one.
    j = 2
    while j < argc:
        leftargs = argc - j - 1
        opt = argv[j].lower()
        if opt == b"asc":
            desc = False
        elif opt == b"desc":
            desc = True
        elif opt == b"alpha":
            alpha = True
        elif opt == b"limit" and leftargs >= 2:
            limit_start = dbmod.get_long_long_from_object_or_reply(c, argv[j + 1])
            if limit_start is None:
                return
            limit_count = dbmod.get_long_long_from_object_or_reply(c, argv[j + 2])
            if limit_count is None:
                return
            j += 2
        elif not readonly and opt == b"store" and leftargs >= 1:
            storekey = argv[j + 1]
            j += 1
        elif opt == b"by" and leftargs >= 1:
            sortby = argv[j + 1]
            # A constant BY pattern weighs every element the same: nothing to sort.
            if b"*" not in _cstr(sortby):
                dontsort = True
            elif not full_key_access:
                net.add_reply_error(
                    c, "BY option of SORT denied due to insufficient ACL permissions.")
                return
            j += 1
        elif opt == b"get" and leftargs >= 1:
            if not full_key_access:
                net.add_reply_error(
                    c, "GET option of SORT denied due to insufficient ACL permissions.")
                return
            operations.append(RedisSortOperation(SORT_OP_GET, argv[j + 1]))
            j += 1
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        j += 1

    sortval = dbmod.lookup_key_read(db, argv[1])
    if sortval is None:
        sortval = tlist.create_quicklist_object()
    elif sortval.type not in (OBJ_SET, OBJ_LIST, OBJ_ZSET):
        net.add_reply_error_object(c, shared.wrongtypeerr)
        return
    stype = sortval.type

    # A set's own order is not the same on a replica or after an AOF reload: where the
    # result must be reproducible (STORE is propagated, scripts are replicated as such),
    # sort it.  Lists and sorted sets have a stable native order.
    if dontsort and stype == OBJ_SET and (storekey is not None
                                          or c.flags & net.CLIENT_SCRIPT):
        dontsort = False
        alpha = True
        sortby = None

    if stype == OBJ_ZSET:
        tzset.zset_convert(sortval, OBJ_ENCODING_SKIPLIST, argv[1])

    if stype == OBJ_LIST:
        vectorlen = tlist.list_type_length(sortval)
    elif stype == OBJ_SET:
        members = set_type_members(sortval)
        vectorlen = len(members)
    else:
        vectorlen = len(sortval.ptr.dict)

    # LIMIT, clamped to the vector (which also keeps the arithmetic in range).
    start = min(max(limit_start, 0), vectorlen)
    limit_count = min(max(limit_count, -1), vectorlen)
    end = vectorlen - 1 if limit_count < 0 else start + limit_count - 1
    if start >= vectorlen:
        start = vectorlen - 1
        end = vectorlen - 2
    if end >= vectorlen:
        end = vectorlen - 1

    # Unsorted lists and sorted sets load only the requested range, already in order.
    if stype != OBJ_SET and dontsort and (start != 0 or end != vectorlen - 1):
        vectorlen = end - start + 1

    vector: list[RedisSortObject]
    if stype == OBJ_LIST and dontsort:
        vector = []
        if end >= start:
            length = tlist.list_type_length(sortval)
            if desc:
                # From index length-start-1 towards the head.
                first = length - start - vectorlen
                items = tlist.list_range_values(sortval.ptr, first, vectorlen)
                items.reverse()
            else:
                items = tlist.list_range_values(sortval.ptr, start, vectorlen)
            vector = [RedisSortObject(e, 0.0) for e in items]
            end -= start
            start = 0
    elif stype == OBJ_LIST:
        vector = [RedisSortObject(e, 0.0)
                  for e in tlist.list_range_values(sortval.ptr, 0, vectorlen)]
    elif stype == OBJ_SET:
        vector = [RedisSortObject(e, 0.0) for e in members]
    elif dontsort:
        zsl = sortval.ptr.zsl
        zsetlen = len(sortval.ptr.dict)
        if desc:
            ln = zsl.tail
            if start > 0:
                ln = zsl_get_element_by_rank(zsl, zsetlen - start)
        else:
            ln = zsl.header.level[0].forward
            if start > 0:
                ln = zsl_get_element_by_rank(zsl, start + 1)
        vector = []
        append = vector.append
        for _ in range(vectorlen):
            append(RedisSortObject(ln.ele, 0.0))
            ln = ln.backward if desc else ln.level[0].forward
        end -= start
        start = 0
    else:
        vector = [RedisSortObject(e, 0.0) for e in ht_keys(sortval.ptr.dict)]

    int_conversion_error = False
    if not dontsort:
        # The weights: the BY values, or the elements themselves.
        if alpha:
            if sortby is not None:
                for so in vector:
                    byval = lookup_key_by_pattern(db, sortby, so.obj)
                    if byval is None:
                        so.u = None
                        continue
                    if byval.__class__ is int:
                        byval = b"%d" % byval
                    # Without STORE the comparison is strcoll's, which ends at a NUL.
                    so.u = byval if storekey is not None else _cstr(byval)
        else:
            for so in vector:
                if sortby is not None:
                    byval = lookup_key_by_pattern(db, sortby, so.obj)
                    if byval is None:
                        continue
                else:
                    byval = so.obj
                if byval.__class__ is bytes and byval.isdigit() and len(byval) < 309:
                    so.u = float(byval)  # below 1e308: strtod's value, nothing to check
                    continue
                score = _score(byval)
                if score is None:
                    int_conversion_error = True
                else:
                    so.u = score

        if sortby is not None and alpha and (start != 0 or end != len(vector) - 1):
            # Equal weights of distinct elements: only pqsort's own moves give Redis's
            # window (numeric ties fall back to the element, a total order).
            store = storekey is not None

            def cmp(a, b):
                return sort_compare(a, b, desc, True, True, store)

            pqsort.pqsort(vector, len(vector), cmp, start, end)
        else:
            vector = _full_sort(vector, desc, alpha, sortby is not None,
                                storekey is not None)

    outputlen = (end - start + 1) * (len(operations) or 1)
    if int_conversion_error:
        net.add_reply_error(c, "One or more scores can't be converted into double")
    elif storekey is None:
        out: list[bytes | None] = []
        append = out.append
        for j in range(start, end + 1):
            ele = vector[j].obj
            if not operations:
                append(ele)
                continue
            for sop in operations:
                val = lookup_key_by_pattern(db, sop.pattern, ele)
                if val is not None and val.__class__ is int:
                    val = b"%d" % val
                append(val)
        net.add_reply_bulk_array(c, out)
    else:
        sobj = tlist.create_quicklist_object()
        for j in range(start, end + 1):
            ele = vector[j].obj
            if not operations:
                tlist.list_type_push(sobj, ele, tlist.LIST_TAIL)
                continue
            for sop in operations:
                val = lookup_key_by_pattern(db, sop.pattern, ele)
                if val is None:
                    val = b""
                elif val.__class__ is int:
                    val = b"%d" % val
                tlist.list_type_push(sobj, val, tlist.LIST_TAIL)
        if outputlen:
            dbmod.set_key(c, db, storekey, sobj, 0)
            dbmod.notify_keyspace_event(dbmod.NOTIFY_LIST, "sortstore", storekey, db.id)
            server.dirty += outputlen
        elif dbmod.db_delete(db, storekey):
            dbmod.signal_modified_key(c, db, storekey)
            dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", storekey, db.id)
            server.dirty += 1
        net.add_reply_long_long(c, outputlen)


def sortro_command(c: net.Client) -> None:
    """SORT_RO: SORT without STORE."""
    sort_command_generic(c, True)


def sort_command(c: net.Client) -> None:
    sort_command_generic(c, False)


# --------------------------------------------------------------------------------------------
# Key extraction (db.c sortGetKeys / sortROGetKeys)
# --------------------------------------------------------------------------------------------

def sortro_get_keys(argv: list[bytes]) -> list[int]:
    """sortROGetKeys: only the key to sort (BY/GET keys cannot be known in advance)."""
    return [1]


def sort_get_keys(argv: list[bytes]) -> list[int]:
    """sortGetKeys: the key to sort plus the last STORE destination.

    Only the options with arguments are understood, to skip over those arguments; every
    other word is taken as an option without one.  Like Redis, "STORE" itself does not
    skip its argument, so a destination named "limit", "get" or "by" makes the scan skip
    the words after it.
    """
    argc = len(argv)
    store = 0
    i = 2
    while i < argc:
        a = argv[i].lower()
        if a == b"limit":
            i += 2
        elif a == b"store" and i + 1 < argc:
            store = i + 1
        elif a == b"get" or a == b"by":
            i += 1
        i += 1
    return [1, store] if store else [1]


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

_NOTE_BY_GET = ("For the optional BY/GET keyword. It is marked 'unknown' because the key "
                "names derive from the content of the key we sort")
_NOTE_STORE = ("For the optional STORE keyword. It is marked 'unknown' because the keyword "
               "can appear anywhere in the argument array")


def _ks_unknown(flags: str, notes: str) -> KeySpec:
    """A key spec whose keys only sort_get_keys can find (type unknown in COMMAND INFO)."""
    return KeySpec(flags, kind="unknown", notes=notes)


_SORT_COMPLEXITY = ("O(N+M*log(M)) where N is the number of elements in the list or set to "
                    "sort, and M the number of returned elements. When the elements are not "
                    "sorted, complexity is O(N).")
_SORT_ARGS = "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC]"

COMMANDS = [
    cmd("sort", sort_command, -2, "write denyoom movablekeys", keys=(1, 1, 1),
        acl="set sortedset list dangerous", group="generic", since="1.0.0",
        complexity=_SORT_COMPLEXITY, summary="Sort the elements in a list, set or sorted set",
        args=_SORT_ARGS + " [ALPHA] [STORE destination]",
        key_specs=[KeySpec("RO ACCESS", 1), _ks_unknown("RO ACCESS", _NOTE_BY_GET),
                   _ks_unknown("OW UPDATE", _NOTE_STORE)],
        getkeys=sort_get_keys),
    cmd("sort_ro", sortro_command, -2, "readonly movablekeys", keys=(1, 1, 1),
        acl="set sortedset list dangerous", group="generic", since="7.0.0",
        complexity=_SORT_COMPLEXITY,
        summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
        args=_SORT_ARGS + " [ALPHA]",
        key_specs=[KeySpec("RO ACCESS", 1), _ks_unknown("RO ACCESS", _NOTE_BY_GET)],
        getkeys=sortro_get_keys),
]
