"""pqsort.c: a quicksort that only finishes the part of the array a caller will read.

Redis uses it where a command wants a window of a sorted result (SORT ... LIMIT with BY or
ALPHA, GEORADIUS/GEOSEARCH ... COUNT): it is Bentley & McIlroy's three-way quicksort
("Engineering a Sort Function", the NetBSD qsort) that skips every partition lying wholly
outside the window ``lrange..rrange``.  The window then holds what a full sort would put
there, in less time when the window is small.

It is ported move for move, not replaced by Python's sort, because it is *not stable*:
elements that compare equal come out in this algorithm's order, and tracered must return
them in the same order as Redis.

Divergence: the C recursion into the left partition is an explicit stack of pending
partitions here (they are disjoint, so the order they are finished in does not change the
result, and deep recursion cannot hit Python's limit); the right partition is iterated,
as the C does.  Indexes replace byte pointers.
"""

from __future__ import annotations


def _med3(v: list, a: int, b: int, c: int, cmp) -> int:
    """The index of the median of three (Bentley & McIlroy's pivot choice)."""
    if cmp(v[a], v[b]) < 0:
        if cmp(v[b], v[c]) < 0:
            return b
        return c if cmp(v[a], v[c]) < 0 else a
    if cmp(v[b], v[c]) > 0:
        return b
    return a if cmp(v[a], v[c]) < 0 else c


def pqsort(v: list, n: int, cmp, lrange: int, rrange: int) -> None:
    """pqsort: order ``v[0:n]`` enough that positions ``lrange..rrange`` hold what a full
    sort would put there (ties aside: not stable).  Bentley & McIlroy's three-way
    quicksort, skipping every partition that lies wholly outside the window.

    The element moves are exactly those of pqsort.c, so the window is the same as in Redis
    when elements compare equal.  Pending partitions are kept on an explicit stack instead
    of the C recursion: partitions are disjoint, so the order they are done in does not
    change the result, and Python's recursion limit is not at stake.
    """
    pending = [(0, n)]
    while pending:
        base, n = pending.pop()
        while True:
            if n < 7:
                # Insertion sort for small partitions.
                for m in range(base + 1, base + n):
                    lpos = m
                    while lpos > base and cmp(v[lpos - 1], v[lpos]) > 0:
                        v[lpos], v[lpos - 1] = v[lpos - 1], v[lpos]
                        lpos -= 1
                break
            pm = base + n // 2
            if n > 7:
                pl = base
                pn = base + n - 1
                if n > 40:
                    d = n // 8
                    pl = _med3(v, pl, pl + d, pl + 2 * d, cmp)
                    pm = _med3(v, pm - d, pm, pm + d, cmp)
                    pn = _med3(v, pn - 2 * d, pn - d, pn, cmp)
                pm = _med3(v, pl, pm, pn, cmp)
            v[base], v[pm] = v[pm], v[base]
            pivot = v[base]
            # Partition: elements equal to the pivot gather at both ends (pa, pd), the
            # smaller ones after the left run, the larger ones before the right run.
            pa = pb = base + 1
            pc = pd = base + n - 1
            while True:
                while pb <= pc:
                    r = cmp(v[pb], pivot)
                    if r > 0:
                        break
                    if r == 0:
                        v[pa], v[pb] = v[pb], v[pa]
                        pa += 1
                    pb += 1
                while pb <= pc:
                    r = cmp(v[pc], pivot)
                    if r < 0:
                        break
                    if r == 0:
                        v[pc], v[pd] = v[pd], v[pc]
                        pd -= 1
                    pc -= 1
                if pb > pc:
                    break
                v[pb], v[pc] = v[pc], v[pb]
                pb += 1
                pc -= 1
            # Move the equal runs to the middle.
            pn = base + n
            r = min(pa - base, pb - pa)
            for i in range(r):
                x, y = base + i, pb - r + i
                v[x], v[y] = v[y], v[x]
            r = min(pd - pc, pn - pd - 1)
            for i in range(r):
                x, y = pb + i, pn - r + i
                v[x], v[y] = v[y], v[x]
            # Recurse only into partitions that overlap the window lrange..rrange.
            r = pb - pa
            if r > 1 and not ((lrange < base and rrange < base)
                              or (lrange >= base + r and rrange >= base + r)):
                pending.append((base, r))
            r = pd - pc
            if r > 1:
                base = pn - r
                n = r
                if not ((lrange < base and rrange < base)
                        or (lrange >= base + r and rrange >= base + r)):
                    continue
            break
