"""Chained hash tables with incremental rehashing: the mirror of Redis 7.0.15 src/dict.c + dict.h.

Every keyspace (``db.dict``, ``db.expires``) and every large hash, set and sorted set lives in a
:class:`Dict`.  Like dict.c it keeps two power-of-two tables: ``ht_table[0]`` is the live one,
``ht_table[1]`` only exists while a rehash moves buckets from table 0 into it, ``rehashidx``
buckets at a time.  The move is spread over ordinary operations (``find``/``add``/``delete``/
random sampling each move one bucket) and over ``databasesCron`` (``dict_rehash_milliseconds``),
so no single command pays for a whole resize.

Map to dict.c (section order follows the C file):

    DictEntry / DictType / Dict       dictEntry / dictType / dict (dict.h)
    Dict.find / fetch_value           dictFind / dictFetchValue
    Dict.add / add_raw / replace      dictAdd / dictAddRaw / dictReplace
    Dict.add_or_find                  dictAddOrFind
    Dict.delete / unlink              dictDelete / dictUnlink (dictGenericDelete)
    Dict.free_unlinked_entry          dictFreeUnlinkedEntry
    Dict.expand / try_expand          dictExpand / dictTryExpand (_dictExpand)
    dict_resize / Dict.resize         dictResize
    dict_rehash / _dict_rehash_step   dictRehash / _dictRehashStep
    dict_rehash_milliseconds          dictRehashMilliseconds
    Dict.empty                        dictEmpty (_dictClear)
    Dict.iterator(safe)               dictGetIterator / dictGetSafeIterator / dictNext / release
    dict_fingerprint                  dictFingerprint
    Dict.get_random_key               dictGetRandomKey
    Dict.get_some_keys                dictGetSomeKeys
    Dict.get_fair_random_key          dictGetFairRandomKey
    Dict.scan                         dictScan (with rev())
    Dict.stats                        dictGetStats / _dictGetStatsHt
    dict_set_resize_enabled           dictSetResizeEnabled
    ht_needs_resize                   htNeedsResize (server.c, kept here: it only reads the dict)

Probes: ``dictFind``, ``dictAddRaw``, ``dictExpand``, ``dictRehash``, ``_dictRehashStep``.  The
probe system rebinds the class attribute or module global when armed, so this module always
calls them as ``self.find`` / ``d.expand`` / ``dict_rehash(...)`` (never through a cached
reference).  Span events: ``rehash.started`` (from expand) and ``rehash.finished``.

Divergence: the hash function defaults to Python's ``hash`` instead of SipHash-1-2 with a
random seed.  For ``bytes``/``str`` it is SipHash too (CPython's, seeded per process by
PYTHONHASHSEED, inherited by fork children just as Redis's seed is), it is computed in C and
cached on the bytes object, which matters more here than bit-for-bit fidelity: bucket indexes
and SCAN cursors therefore differ from redis-server's (no client may rely on them anyway).
Small ints hash to themselves, which spreads sequential ints perfectly.

Divergence: keys are compared with ``==`` (Python equality; ``bytes`` in the keyspace); there
is no ``keyCompare``/``keyDup``/``valDup`` hook and no ``dictGenCaseHashFunction``.  A
case-insensitive table normalises its keys before calling in.  ``key_destructor`` and
``val_destructor`` exist (called on delete/replace/empty) for callers that keep refcounts.

Divergence: no per-entry metadata (dictEntryMetadataBytes, used by Redis Cluster's slot lists)
and no ``dictFindEntryRefByPtrAndHash`` (active defrag): neither exists in tracered.

Divergence: the resize policy keeps 7.0.15's three states (ENABLE / AVOID while a fork child
runs / FORBID inside the child); ``dict_set_resize_enabled`` also accepts a bool
(True = ENABLE, False = AVOID).
"""

from __future__ import annotations

import random
import struct
import time
from collections.abc import Callable, Hashable, Iterator
from typing import Any

from tracered.trace import probes
from tracered.trace.probes import probe

__all__ = [
    "DICT_ERR", "DICT_HT_INITIAL_EXP", "DICT_HT_INITIAL_SIZE", "DICT_OK", "DICT_RESIZE_AVOID",
    "DICT_RESIZE_ENABLE", "DICT_RESIZE_FORBID", "DICT_STATS_VECTLEN", "GETFAIR_NUM_ENTRIES",
    "HASHTABLE_MIN_FILL", "Dict", "DictEntry", "DictType", "dict_fingerprint",
    "dict_get_resize_enabled", "dict_rehash", "dict_rehash_milliseconds", "dict_resize",
    "dict_set_resize_enabled", "ht_needs_resize",
]

DICT_OK = 0
DICT_ERR = 1

DICT_HT_INITIAL_EXP = 2
DICT_HT_INITIAL_SIZE = 1 << DICT_HT_INITIAL_EXP

# server.h: below 10% fill the server shrinks a table (htNeedsResize).
HASHTABLE_MIN_FILL = 10

DICT_STATS_VECTLEN = 50
GETFAIR_NUM_ENTRIES = 15

# dictResizeEnable.  AVOID is set while a fork child exists (growing would copy pages shared
# with the child), FORBID inside the child itself.
DICT_RESIZE_ENABLE = 0
DICT_RESIZE_AVOID = 1
DICT_RESIZE_FORBID = 2

# Process-wide policy, like dict.c's statics.  Even under AVOID a table still grows once it
# holds more than dict_force_resize_ratio elements per bucket: chains that long cost more than
# the copied pages.
dict_can_resize = DICT_RESIZE_ENABLE
dict_force_resize_ratio = 5

_LONG_MAX = (1 << 63) - 1
_MASK64 = (1 << 64) - 1
# The C code works on `unsigned long` cursors and pointers; Python ints are unbounded, so the
# places that rely on wrap-around mask with this explicitly.

_rand64 = random.getrandbits   # randomULong(); shares the module RNG so random.seed() applies
_randbelow = random.randrange
_f32 = struct.Struct("f")      # dictGetStats computes in C `float`; we round the same way


# ------------------------------------------------------------------------------------------
# Structures (dict.h)
# ------------------------------------------------------------------------------------------

class DictEntry:
    """One key/value in a bucket chain (dictEntry).  Three slots: the smallest entry possible.

    ``val`` holds whatever the caller stores (Redis's union of val/u64/s64/double collapses to
    one Python reference).
    """

    __slots__ = ("key", "val", "next")

    def __init__(self, key: Any, val: Any, next: DictEntry | None) -> None:
        self.key = key
        self.val = val
        self.next = next

    def __repr__(self) -> str:
        return f"DictEntry({self.key!r}, {self.val!r})"


class DictType:
    """Per-dict callbacks (dictType), reduced to what tracered uses.

    ``hash_function(key) -> int``; destructors are called as ``fn(d, key_or_val)``;
    ``expand_allowed(more_mem_bytes, used_ratio) -> bool`` lets the server refuse a growth
    that would break maxmemory (dictExpandAllowed in server.c).
    """

    __slots__ = ("hash_function", "key_destructor", "val_destructor", "expand_allowed")

    def __init__(self, hash_function: Callable[[Any], int] = hash,
                 key_destructor: Callable[[Dict, Any], None] | None = None,
                 val_destructor: Callable[[Dict, Any], None] | None = None,
                 expand_allowed: Callable[[int, float], bool] | None = None) -> None:
        self.hash_function = hash_function
        self.key_destructor = key_destructor
        self.val_destructor = val_destructor
        self.expand_allowed = expand_allowed


DEFAULT_DICT_TYPE = DictType()


def _dictht_size(exp: int) -> int:
    return 0 if exp == -1 else 1 << exp


# ------------------------------------------------------------------------------------------
# API implementation
# ------------------------------------------------------------------------------------------

class Dict:
    """The two-table hash (struct dict).

    A table is a Python list of bucket heads (``DictEntry`` or None) whose length is
    ``1 << ht_size_exp[i]``; an unallocated table is None with ``ht_size_exp`` -1.
    ``rehashidx`` is the next table-0 bucket to move, -1 when not rehashing.
    ``pauserehash`` > 0 stops the per-operation rehash steps (safe iterators, scan).
    """

    __slots__ = ("type", "ht_table", "ht_used", "ht_size_exp", "rehashidx", "pauserehash",
                 "_hash")

    def __init__(self, type: DictType | None = None) -> None:
        # dictCreate + _dictInit
        self.type = type if type is not None else DEFAULT_DICT_TYPE
        # Cached so the hot paths do one attribute load instead of two.
        self._hash = self.type.hash_function
        self.ht_table: list[list[DictEntry | None] | None] = [None, None]
        self.ht_used = [0, 0]
        self.ht_size_exp = [-1, -1]
        self.rehashidx = -1
        self.pauserehash = 0

    # -- small accessors (dict.h macros) ------------------------------------------------

    def size(self) -> int:
        """dictSize: elements in both tables."""
        return self.ht_used[0] + self.ht_used[1]

    def __len__(self) -> int:
        return self.ht_used[0] + self.ht_used[1]

    def slots(self) -> int:
        """dictSlots: buckets in both tables."""
        return _dictht_size(self.ht_size_exp[0]) + _dictht_size(self.ht_size_exp[1])

    def is_rehashing(self) -> bool:
        return self.rehashidx != -1

    def pause_rehashing(self) -> None:
        self.pauserehash += 1

    def resume_rehashing(self) -> None:
        self.pauserehash -= 1

    def get_hash(self, key: Hashable) -> int:
        """dictGetHash."""
        return self._hash(key)

    def __repr__(self) -> str:
        return (f"<Dict size={self.ht_used[0] + self.ht_used[1]} "
                f"ht0={_dictht_size(self.ht_size_exp[0])}/{self.ht_used[0]} "
                f"ht1={_dictht_size(self.ht_size_exp[1])}/{self.ht_used[1]} "
                f"rehashidx={self.rehashidx}>")

    # -- resizing ------------------------------------------------------------------------

    def resize(self) -> bool:
        """dictResize (see :func:`dict_resize`)."""
        return dict_resize(self)

    @probe("dictExpand")
    def expand(self, size: int) -> bool:
        """dictExpand: grow or shrink to the smallest power of two >= ``size``.

        Starts a rehash (or allocates table 0 on first use).  Returns False when skipped:
        already rehashing, ``size`` below the element count, or the same size as now.
        """
        return _dict_expand(self, size, False) == DICT_OK

    def try_expand(self, size: int) -> bool:
        """dictTryExpand: like expand, but an allocation failure returns False instead of
        raising.  A skipped expand still counts as success, as in dict.c."""
        return _dict_expand(self, size, True) != _ALLOC_FAILED

    def rehash(self, n: int) -> bool:
        return dict_rehash(self, n)

    def rehash_milliseconds(self, ms: int) -> int:
        return dict_rehash_milliseconds(self, ms)

    # -- insertion -----------------------------------------------------------------------

    def add(self, key: Hashable, val: Any) -> bool:
        """dictAdd: insert; False if the key already exists (the dict is then unchanged)."""
        entry = self.add_raw(key)[0]
        if entry is None:
            return False
        entry.val = val
        return True

    @probe("dictAddRaw")
    def add_raw(self, key: Hashable) -> tuple[DictEntry | None, DictEntry | None]:
        """dictAddRaw: ``(new_entry, None)`` with ``val`` None for the caller to fill, or
        ``(None, existing_entry)`` when the key is already present.

        New entries go to the head of their chain (recent keys are the likeliest to be read
        again) and, during a rehash, always into table 1 so table 0 only ever shrinks.
        """
        if self.rehashidx != -1:
            _dict_rehash_step(self)
        # _dictKeyIndex starts with _dictExpandIfNeeded; every growth rule needs used >= size,
        # so that cheap test guards the call.
        if self.rehashidx == -1:
            t0 = self.ht_table[0]
            if (t0 is None or self.ht_used[0] >= len(t0)) and \
                    _dict_expand_if_needed(self) == DICT_ERR:
                return None, None
        h = self._hash(key)
        table = self.ht_table[0]
        idx = h & (len(table) - 1)
        he = table[idx]
        while he is not None:
            if he.key == key:
                return None, he
            he = he.next
        if self.rehashidx == -1:
            table[idx] = entry = DictEntry(key, None, table[idx])
            self.ht_used[0] += 1
            return entry, None
        table = self.ht_table[1]
        idx = h & (len(table) - 1)
        he = table[idx]
        while he is not None:
            if he.key == key:
                return None, he
            he = he.next
        table[idx] = entry = DictEntry(key, None, table[idx])
        self.ht_used[1] += 1
        return entry, None

    def replace(self, key: Hashable, val: Any) -> bool:
        """dictReplace: add or overwrite.  True if the key was added, False if updated.

        The new value is stored before the old one is destroyed: they may be the same
        refcounted object.
        """
        entry, existing = self.add_raw(key)
        if entry is not None:
            entry.val = val
            return True
        old = existing.val
        existing.val = val
        vd = self.type.val_destructor
        if vd is not None:
            vd(self, old)
        return False

    def add_or_find(self, key: Hashable) -> DictEntry:
        """dictAddOrFind: the entry of ``key``, created (val None) if missing."""
        entry, existing = self.add_raw(key)
        return entry if entry is not None else existing

    # -- deletion ------------------------------------------------------------------------

    def _generic_delete(self, key: Hashable, nofree: bool) -> DictEntry | None:
        """dictGenericDelete."""
        if self.ht_used[0] + self.ht_used[1] == 0:
            return None
        if self.rehashidx != -1:
            _dict_rehash_step(self)
        h = self._hash(key)
        for htidx in (0, 1):
            table = self.ht_table[htidx]
            idx = h & (len(table) - 1)
            he = table[idx]
            prev = None
            while he is not None:
                if he.key == key:
                    if prev is None:
                        table[idx] = he.next
                    else:
                        prev.next = he.next
                    self.ht_used[htidx] -= 1
                    # Divergence: dict.c leaves the dangling pointer; we drop it so an
                    # unlinked entry does not keep the rest of its old chain alive.
                    he.next = None
                    if not nofree:
                        self.free_unlinked_entry(he)
                    return he
                prev = he
                he = he.next
            if self.rehashidx == -1:
                break
        return None

    def delete(self, key: Hashable) -> bool:
        """dictDelete: remove ``key`` (running the destructors); False if it was missing."""
        return self._generic_delete(key, False) is not None

    def unlink(self, key: Hashable) -> DictEntry | None:
        """dictUnlink: detach ``key``'s entry without destroying it, so the caller can still
        use the value; pass it to :meth:`free_unlinked_entry` afterwards."""
        return self._generic_delete(key, True)

    def free_unlinked_entry(self, he: DictEntry | None) -> None:
        """dictFreeUnlinkedEntry: run the destructors (None is accepted)."""
        if he is None:
            return
        t = self.type
        if t.key_destructor is not None:
            t.key_destructor(self, he.key)
        if t.val_destructor is not None:
            t.val_destructor(self, he.val)

    def empty(self, callback: Callable[[Dict], None] | None = None) -> None:
        """dictEmpty: drop every element and both tables.

        ``callback(d)`` runs every 65536 buckets so a huge FLUSHALL can keep serving events
        (Redis uses it to answer the replication link while emptying).
        """
        _dict_clear(self, 0, callback)
        _dict_clear(self, 1, callback)
        self.rehashidx = -1
        self.pauserehash = 0

    # -- lookup --------------------------------------------------------------------------

    @probe("dictFind")
    def find(self, key: Hashable) -> DictEntry | None:
        """dictFind: the entry holding ``key`` or None."""
        if self.rehashidx == -1:
            table = self.ht_table[0]
            if table is None:
                return None
            he = table[self._hash(key) & (len(table) - 1)]
            while he is not None:
                if he.key == key:
                    return he
                he = he.next
            return None
        if self.ht_used[0] + self.ht_used[1] == 0:
            return None
        _dict_rehash_step(self)
        h = self._hash(key)
        table = self.ht_table[0]
        he = table[h & (len(table) - 1)]
        while he is not None:
            if he.key == key:
                return he
            he = he.next
        if self.rehashidx == -1:  # that step may have finished the rehash
            return None
        table = self.ht_table[1]
        he = table[h & (len(table) - 1)]
        while he is not None:
            if he.key == key:
                return he
            he = he.next
        return None

    def fetch_value(self, key: Hashable, default: Any = None) -> Any:
        """dictFetchValue (``default`` stands for C's NULL)."""
        he = self.find(key)
        return default if he is None else he.val

    # -- iteration -----------------------------------------------------------------------

    def iterator(self, safe: bool = True) -> Iterator[DictEntry]:
        """dictGetSafeIterator / dictGetIterator + dictNext + dictReleaseIterator.

        A safe iterator pauses rehashing from its first step until it is exhausted or
        closed, so the caller may find/add/delete meanwhile (deleting the entry just returned
        is fine: its successor was read first).  Entries added meanwhile may or may not be
        returned.  An unsafe iterator allows nothing but iterating; it takes a fingerprint at
        the first step and raises AssertionError at the end if the dict changed, as Redis's
        release-time assert does.  Close an abandoned iterator (``.close()``) to resume
        rehashing at once instead of at garbage collection.
        """
        if safe:
            self.pauserehash += 1
        else:
            fingerprint = dict_fingerprint(self)
        try:
            htidx = 0
            index = 0
            while True:
                table = self.ht_table[htidx]
                if table is None or index >= len(table):
                    if htidx == 0 and self.rehashidx != -1:
                        htidx = 1
                        index = 0
                        continue
                    break
                he = table[index]
                index += 1
                while he is not None:
                    nxt = he.next
                    yield he
                    he = nxt
        finally:
            if safe:
                self.pauserehash -= 1
            elif fingerprint != dict_fingerprint(self):
                raise AssertionError("dict changed while an unsafe iterator was in use")

    # -- random sampling -----------------------------------------------------------------

    def get_random_key(self) -> DictEntry | None:
        """dictGetRandomKey: a random non-empty bucket, then a random entry of its chain
        (so entries in short chains are likelier; see get_fair_random_key)."""
        if self.ht_used[0] + self.ht_used[1] == 0:
            return None
        if self.rehashidx != -1:
            _dict_rehash_step(self)
        if self.rehashidx != -1:
            t0, t1 = self.ht_table
            s0 = len(t0)
            # Buckets of table 0 below rehashidx are known empty: draw past them.
            base = self.rehashidx
            span = s0 + len(t1) - base
            while True:
                h = base + _rand64(64) % span
                he = t1[h - s0] if h >= s0 else t0[h]
                if he is not None:
                    break
        else:
            t0 = self.ht_table[0]
            m = len(t0) - 1
            while True:
                he = t0[_rand64(64) & m]
                if he is not None:
                    break
        listlen = 0
        orighe = he
        while he is not None:
            listlen += 1
            he = he.next
        he = orighe
        for _ in range(_randbelow(listlen)):
            he = he.next
        return he

    def get_some_keys(self, count: int) -> list[DictEntry]:
        """dictGetSomeKeys: up to ``count`` entries from a random stretch of buckets.

        Fast, not uniform, may repeat entries and may return fewer than asked: it walks
        at most count*10 buckets, jumping elsewhere after a run of empty ones.  Reservoir
        sampling over the last chain keeps the tail of long chains reachable.
        """
        size = self.ht_used[0] + self.ht_used[1]
        if size < count:
            count = size
        if count <= 0:
            return []
        maxsteps = count * 10
        # Rehash work proportional to the sample size.
        for _ in range(count):
            if self.rehashidx == -1:
                break
            _dict_rehash_step(self)

        rehashidx = self.rehashidx
        tables = 2 if rehashidx != -1 else 1
        t0, t1 = self.ht_table
        s0 = len(t0)
        s1 = len(t1) if t1 is not None else 0
        maxsizemask = s0 - 1
        if tables > 1 and maxsizemask < s1 - 1:
            maxsizemask = s1 - 1
        des: list[DictEntry] = []
        stored = 0
        i = _rand64(64) & maxsizemask
        emptylen = 0
        while stored < count and maxsteps:
            maxsteps -= 1
            for j in range(tables):
                if j == 0:
                    if tables == 2 and i < rehashidx:
                        # Table 0 is empty below rehashidx.  If i is also beyond table 1
                        # (shrinking), both are empty here: jump to rehashidx.
                        if i >= s1:
                            i = rehashidx
                        else:
                            continue
                    if i >= s0:
                        continue
                    he = t0[i]
                else:
                    if i >= s1:
                        continue
                    he = t1[i]
                if he is None:
                    emptylen += 1
                    if emptylen >= 5 and emptylen > count:
                        i = _rand64(64) & maxsizemask
                        emptylen = 0
                else:
                    emptylen = 0
                    while he is not None:
                        if stored < count:
                            des.append(he)
                        else:
                            r = _rand64(64) % (stored + 1)
                            if r < count:
                                des[r] = he
                        he = he.next
                        stored += 1
                    if stored >= count:
                        return des
            i = (i + 1) & maxsizemask
        return des

    def get_fair_random_key(self) -> DictEntry | None:
        """dictGetFairRandomKey: pick among a get_some_keys sample so chain lengths bias the
        choice less; falls back to get_random_key when the sample comes back empty."""
        entries = self.get_some_keys(GETFAIR_NUM_ENTRIES)
        if not entries:
            return self.get_random_key()
        return entries[_randbelow(len(entries))]

    # -- scan ----------------------------------------------------------------------------

    def scan(self, v: int, fn: Callable[[DictEntry], Any]) -> int:
        """dictScan: call ``fn(entry)`` for the bucket(s) at cursor ``v``; return the next
        cursor (0 when done).  ``fn`` replaces C's privdata+callback pair (use a closure).

        Contract: an element present from the first call to the last is reported at least
        once, whatever resizes happen between calls; some may be reported twice.  The cursor
        counts with its bits reversed (high bits first), so a bucket done in a small table
        covers all its expansions in a bigger one, and shrinking never revisits a finished
        prefix.  During a rehash it visits the small table's bucket and then every bucket of
        the big table that expands it.  Cursor values are 64-bit unsigned.
        """
        if self.ht_used[0] + self.ht_used[1] == 0:
            return 0
        # fn may call find(): no rehash step may move entries under our feet.
        self.pauserehash += 1
        try:
            if self.rehashidx == -1:
                t0 = self.ht_table[0]
                m0 = len(t0) - 1
                de = t0[v & m0]
                while de is not None:
                    nxt = de.next
                    fn(de)
                    de = nxt
                # Set the bits above the mask so the reversed +1 carries through them.
                v = _rev(_rev(v | (~m0 & _MASK64)) + 1)
            else:
                small, big = self.ht_table
                if len(small) > len(big):
                    small, big = big, small
                m0 = len(small) - 1
                m1 = len(big) - 1
                de = small[v & m0]
                while de is not None:
                    nxt = de.next
                    fn(de)
                    de = nxt
                while True:
                    de = big[v & m1]
                    while de is not None:
                        nxt = de.next
                        fn(de)
                        de = nxt
                    v = _rev(_rev(v | (~m1 & _MASK64)) + 1)
                    # Continue while the bits only the big mask covers are non-zero.
                    if not v & (m0 ^ m1):
                        break
        finally:
            self.pauserehash -= 1
        return v

    # -- debugging -----------------------------------------------------------------------

    def stats(self, full: bool = True) -> str:
        """dictGetStats: the text of DEBUG HTSTATS / HTSTATS-KEY for this dict.

        Exactly 7.0.15's format when ``full`` (the default).  The "[Dictionary HT]" /
        "[Expires HT]" headers belong to debug.c (DEBUG HTSTATS), not to this function.
        ``full=False`` gives 7.2's short form (title, table size, number of elements);
        7.0.15 has no short form.  Divergence: no 4096-byte truncation (the text never
        reaches it: at most 49 distribution lines per table).
        """
        text = _dict_get_stats_ht(self, 0, full)
        if self.rehashidx != -1:
            text += _dict_get_stats_ht(self, 1, full)
        return text


# ------------------------------------------------------------------------------------------
# Rehashing and resizing
# ------------------------------------------------------------------------------------------

_ALLOC_FAILED = 2


def _dict_expand(d: Dict, size: int, try_only: bool) -> int:
    """_dictExpand: DICT_OK, DICT_ERR (skipped) or, when ``try_only``, _ALLOC_FAILED."""
    # A target below the element count could never hold them all.
    if d.rehashidx != -1 or d.ht_used[0] > size:
        return DICT_ERR
    new_exp = _dict_next_exp(size)
    newsize = 1 << new_exp
    if newsize < size:  # above 2**63: dict.c's overflow check
        return DICT_ERR
    if new_exp == d.ht_size_exp[0]:
        return DICT_ERR
    try:
        new_table: list[DictEntry | None] = [None] * newsize
    except (MemoryError, OverflowError):
        if try_only:
            return _ALLOC_FAILED
        raise
    if d.ht_table[0] is None:
        # First allocation: nothing to move, so no rehash.
        d.ht_table[0] = new_table
        d.ht_size_exp[0] = new_exp
        d.ht_used[0] = 0
        return DICT_OK
    d.ht_table[1] = new_table
    d.ht_size_exp[1] = new_exp
    d.ht_used[1] = 0
    d.rehashidx = 0
    if probes.armed:
        probes.event("rehash.started", {"redis.dict.ht0.size": len(d.ht_table[0]),
                                        "redis.dict.ht1.size": newsize,
                                        "redis.dict.used": d.ht_used[0]})
    return DICT_OK


def dict_resize(d: Dict) -> bool:
    """dictResize: shrink (or grow) to the smallest power of two >= the element count, at
    least DICT_HT_INITIAL_SIZE.  Only with resizing fully enabled and no rehash running.
    The server decides when (ht_needs_resize from tryResizeHashTables)."""
    if dict_can_resize != DICT_RESIZE_ENABLE or d.rehashidx != -1:
        return False
    minimal = d.ht_used[0]
    if minimal < DICT_HT_INITIAL_SIZE:
        minimal = DICT_HT_INITIAL_SIZE
    return d.expand(minimal)


def ht_needs_resize(d: Dict) -> bool:
    """htNeedsResize (server.c): bigger than the initial size and under 10% full."""
    size = d.slots()
    used = d.ht_used[0] + d.ht_used[1]
    return size > DICT_HT_INITIAL_SIZE and used * 100 // size < HASHTABLE_MIN_FILL


@probe("dictRehash")
def dict_rehash(d: Dict, n: int) -> bool:
    """dictRehash: move up to ``n`` buckets from table 0 to table 1.  True if more remain.

    The work is bounded: at most n*10 empty buckets are skipped, so a sparse table cannot make
    one call walk it all (the call may then move nothing and still return True).  When the
    last entry moves, table 1 becomes table 0 and rehashidx returns to -1.
    """
    if d.rehashidx == -1:
        return False
    t0, t1 = d.ht_table
    if dict_can_resize != DICT_RESIZE_ENABLE:
        if dict_can_resize == DICT_RESIZE_FORBID:
            return False
        # With a fork child alive only a table that badly needs it keeps rehashing.
        s0 = len(t0)
        s1 = len(t1)
        if (s1 > s0 and s1 // s0 < dict_force_resize_ratio) or \
                (s1 < s0 and s0 // s1 < dict_force_resize_ratio):
            return False
    empty_visits = n * 10
    used = d.ht_used
    hashf = d._hash
    mask1 = len(t1) - 1
    idx = d.rehashidx
    while n > 0 and used[0]:
        n -= 1
        # used[0] != 0 guarantees a non-empty bucket at or after idx: idx stays in table 0.
        de = t0[idx]
        while de is None:
            idx += 1
            empty_visits -= 1
            if not empty_visits:
                d.rehashidx = idx
                return True
            de = t0[idx]
        t0[idx] = None
        idx += 1
        moved = 0
        while de is not None:
            nxt = de.next
            h = hashf(de.key) & mask1
            de.next = t1[h]
            t1[h] = de
            moved += 1
            de = nxt
        used[0] -= moved
        used[1] += moved
    d.rehashidx = idx
    if used[0]:
        return True
    d.ht_table[0] = t1
    d.ht_size_exp[0] = d.ht_size_exp[1]
    used[0] = used[1]
    d.ht_table[1] = None
    d.ht_size_exp[1] = -1
    used[1] = 0
    d.rehashidx = -1
    if probes.armed:
        probes.event("rehash.finished", {"redis.dict.size": mask1 + 1, "redis.dict.used": used[0]})
    return False


def _time_in_milliseconds() -> int:
    # Divergence: monotonic clock instead of gettimeofday, so a clock jump cannot stretch
    # or cut the budget.
    return time.monotonic_ns() // 1_000_000


def dict_rehash_milliseconds(d: Dict, ms: int) -> int:
    """dictRehashMilliseconds: rehash in batches of 100 buckets for about ``ms`` ms (the
    last batch may overrun).  Returns the number of buckets requested (a multiple of 100),
    as Redis does.  databasesCron calls it with 1 ms."""
    if d.pauserehash > 0:
        return 0
    start = _time_in_milliseconds()
    rehashes = 0
    while dict_rehash(d, 100):
        rehashes += 100
        if _time_in_milliseconds() - start > ms:
            break
    return rehashes


@probe("_dictRehashStep")
def _dict_rehash_step(d: Dict) -> None:
    """_dictRehashStep: one bucket of rehash work, unless paused (an iterator or scan holds
    positions that a move would invalidate)."""
    if d.pauserehash == 0:
        dict_rehash(d, 1)


def _dict_clear(d: Dict, htidx: int, callback: Callable[[Dict], None] | None) -> None:
    """_dictClear: drop table ``htidx``.  Walks the buckets only when a destructor or a
    callback needs it; otherwise the list is simply released."""
    table = d.ht_table[htidx]
    t = d.type
    kd, vd = t.key_destructor, t.val_destructor
    if table is not None and (callback is not None or kd is not None or vd is not None):
        i = 0
        size = len(table)
        while i < size and d.ht_used[htidx] > 0:
            if callback is not None and (i & 65535) == 0:
                callback(d)
            he = table[i]
            while he is not None:
                nxt = he.next
                if kd is not None:
                    kd(d, he.key)
                if vd is not None:
                    vd(d, he.val)
                d.ht_used[htidx] -= 1
                he = nxt
            table[i] = None
            i += 1
    d.ht_table[htidx] = None
    d.ht_size_exp[htidx] = -1
    d.ht_used[htidx] = 0


def dict_set_resize_enabled(enable: bool | int) -> None:
    """dictSetResizeEnabled.  True/False = ENABLE/AVOID; or one of DICT_RESIZE_ENABLE,
    DICT_RESIZE_AVOID (a fork child exists), DICT_RESIZE_FORBID (inside the child)."""
    global dict_can_resize
    if isinstance(enable, bool):
        dict_can_resize = DICT_RESIZE_ENABLE if enable else DICT_RESIZE_AVOID
    elif enable in (DICT_RESIZE_ENABLE, DICT_RESIZE_AVOID, DICT_RESIZE_FORBID):
        dict_can_resize = enable
    else:
        raise ValueError(f"invalid dict resize policy: {enable!r}")


def dict_get_resize_enabled() -> int:
    """The current policy (DICT_RESIZE_ENABLE / AVOID / FORBID)."""
    return dict_can_resize


def dict_fingerprint(d: Dict) -> int:
    """dictFingerprint: the table identities, sizes and counts mixed into one 64-bit number
    (Thomas Wang's integer hash, chained so order matters).  An unsafe iterator compares it
    at start and end."""
    t0, t1 = d.ht_table
    h = 0
    for x in (0 if t0 is None else id(t0), d.ht_size_exp[0], d.ht_used[0],
              0 if t1 is None else id(t1), d.ht_size_exp[1], d.ht_used[1]):
        h = (h + x) & _MASK64
        h = (~h + (h << 21)) & _MASK64
        h ^= h >> 24
        h = (h + (h << 3) + (h << 8)) & _MASK64
        h ^= h >> 14
        h = (h + (h << 2) + (h << 4)) & _MASK64
        h ^= h >> 28
        h = (h + (h << 31)) & _MASK64
    return h


# ------------------------------------------------------------------------------------------
# Private functions
# ------------------------------------------------------------------------------------------

def _rev(v: int) -> int:
    """Reverse the 64 bits of ``v`` (wrapping at 2**64 like an unsigned long)."""
    return int(f"{v & _MASK64:064b}"[::-1], 2)


def _dict_type_expand_allowed(d: Dict) -> bool:
    """dictTypeExpandAllowed: ask the type before allocating the bigger table."""
    allowed = d.type.expand_allowed
    if allowed is None:
        return True
    # Bytes of the new bucket array (8 per pointer in C) and the current fill ratio.
    return allowed(_dictht_size(_dict_next_exp(d.ht_used[0] + 1)) * 8,
                   d.ht_used[0] / _dictht_size(d.ht_size_exp[0]))


def _dict_expand_if_needed(d: Dict) -> int:
    """_dictExpandIfNeeded: allocate the first table, or grow once used reaches size (used/size
    above dict_force_resize_ratio when resizing is avoided; never when forbidden)."""
    if d.rehashidx != -1:
        return DICT_OK
    t0 = d.ht_table[0]
    if t0 is None:
        return DICT_OK if d.expand(DICT_HT_INITIAL_SIZE) else DICT_ERR
    size = len(t0)
    used = d.ht_used[0]
    if (dict_can_resize == DICT_RESIZE_ENABLE and used >= size) or \
            (dict_can_resize != DICT_RESIZE_FORBID and used // size > dict_force_resize_ratio):
        if not _dict_type_expand_allowed(d):
            return DICT_OK
        return DICT_OK if d.expand(used + 1) else DICT_ERR
    return DICT_OK


def _dict_next_exp(size: int) -> int:
    """_dictNextExp: exponent of the smallest power of two >= size (minimum 2, maximum 63)."""
    if size <= DICT_HT_INITIAL_SIZE:
        return DICT_HT_INITIAL_EXP
    if size >= _LONG_MAX:
        return 63
    return (size - 1).bit_length()


# ------------------------------------------------------------------------------------------
# Debugging
# ------------------------------------------------------------------------------------------

def _to_f32(x: float) -> float:
    return _f32.unpack(_f32.pack(x))[0]


def _dict_get_stats_ht(d: Dict, htidx: int, full: bool) -> str:
    """_dictGetStatsHt: one table's part of dictGetStats."""
    label = "main hash table" if htidx == 0 else "rehashing target"
    used = d.ht_used[htidx]
    if used == 0:
        return (f"Hash table {htidx} stats ({label}):\n"
                "No stats available for empty dictionaries\n")
    size = _dictht_size(d.ht_size_exp[htidx])
    if not full:
        return (f"Hash table {htidx} stats ({label}):\n"
                f" table size: {size}\n"
                f" number of elements: {used}\n")
    clvector = [0] * DICT_STATS_VECTLEN
    slots = maxchainlen = totchainlen = 0
    for he in d.ht_table[htidx]:
        if he is None:
            clvector[0] += 1
            continue
        slots += 1
        chainlen = 0
        while he is not None:
            chainlen += 1
            he = he.next
        clvector[chainlen if chainlen < DICT_STATS_VECTLEN else DICT_STATS_VECTLEN - 1] += 1
        if chainlen > maxchainlen:
            maxchainlen = chainlen
        totchainlen += chainlen
    # Redis divides in single precision; round like it so the two decimals agree.
    avg_counted = _to_f32(_to_f32(totchainlen) / _to_f32(slots))
    avg_computed = _to_f32(_to_f32(used) / _to_f32(slots))
    out = [f"Hash table {htidx} stats ({label}):\n"
           f" table size: {size}\n"
           f" number of elements: {used}\n"
           f" different slots: {slots}\n"
           f" max chain length: {maxchainlen}\n"
           f" avg chain length (counted): {avg_counted:.2f}\n"
           f" avg chain length (computed): {avg_computed:.2f}\n"
           " Chain length distribution:\n"]
    fsize = _to_f32(size)
    # The last counter (chains of 49 or more) is collected but, as in Redis, never printed.
    for i in range(DICT_STATS_VECTLEN - 1):
        c = clvector[i]
        if c == 0:
            continue
        pct = _to_f32(_to_f32(_to_f32(c) / fsize) * 100)
        out.append(f"   {i}: {c} ({pct:.2f}%)\n")
    return "".join(out)
