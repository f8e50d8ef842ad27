"""GEO commands: the mirror of Redis 7.0 src/geo.c (and geoArray from geo.h, the partial
quicksort of pqsort.c, and georadiusGetKeys from db.c).

A GEO set is an ordinary sorted set: each member's score is its 52-bit geohash
(tracered.geohash), so GEOADD is ZADD with computed scores, and ZREM, ZRANGE, TYPE, OBJECT
ENCODING, RDB and AOF need nothing GEO-specific.  A search (GEORADIUS*, GEOSEARCH*):

1. parses the centre (coordinates or an existing member) and the shape (a radius, or a box),
2. asks geohash_calculate_areas_by_shape_wgs84 for the centre cell and its useful
   neighbours: up to 9 contiguous score ranges,
3. walks each range in the sorted set (listpack or skiplist) and keeps the points inside
   the shape, with their distance to the centre (geo_get_points_in_range),
4. sorts by distance when asked (or when COUNT is given), fully or, with COUNT, only as far
   as the first COUNT places (pqsort),
5. replies, or stores the result as a new sorted set (STORE: the geohash scores; STOREDIST:
   the distances in the query's unit).

Layout (same order as geo.c):

    geoArray          GeoPoint (a plain list is the array)
    helpers           decode_geohash extract_long_lat_or_reply long_lat_from_member
                      extract_unit_or_reply extract_distance_or_reply extract_box_or_reply
                      add_reply_double_distance geo_within_shape geo_get_points_in_range
                      scores_of_geohash_box members_of_geohash_box members_of_all_neighbors
                      sort_gp_asc sort_gp_desc (+ pqsort, glibc's qsort order)
    commands          GEOADD GEORADIUS(_RO) GEORADIUSBYMEMBER(_RO) GEOSEARCH GEOSEARCHSTORE
                      GEOHASH GEOPOS GEODIST (georadius_generic does all the searches)
    key extraction    georadius_get_keys (db.c georadiusGetKeys)

Replies are byte-for-byte Redis's: distances with 4 decimals (fixedpoint_d2string),
coordinates as ``%.17Lf`` with trailing zeros trimmed (addReplyHumanLongDouble: a bulk
string in RESP2, a ``,`` double in RESP3), and the same order of equal-distance results:
the full sort is stable like glibc's qsort (a merge sort), the COUNT case runs Redis's own
partial quicksort.

Divergence: geoArray (a growable C array of geoPoint) is a Python list of GeoPoint.
Divergence: a listpack sorted set is decoded once per search and the 9 range scans binary
search the decoded scores (t_zset.py's read-path convention); the points visited, their
order and the COUNT ANY cut-off are those of the C pointer walk.
Divergence: a STOREDIST of a NaN distance (two nearly antipodal points, where the C asin()
of a value rounded above 1 gives NaN) makes Redis's zslInsert assert; here the point is
stored with the geohash score instead of stopping the server.
"""

from __future__ import annotations

from bisect import bisect_left

from tracered import db as dbmod
from tracered import geohash as gh
from tracered import networking as net
from tracered import pqsort, shared, t_zset, util
from tracered.commands import KeySpec, cmd
from tracered.geohash import (
    CIRCULAR_TYPE,
    GEO_LAT_MAX,
    GEO_LAT_MIN,
    GEO_LONG_MAX,
    GEO_LONG_MIN,
    GEO_STEP_MAX,
    RECTANGLE_TYPE,
    GeoHashBits,
    GeoHashRadius,
    GeoShape,
)
from tracered.object import OBJ_ENCODING_LISTPACK, OBJ_ENCODING_SKIPLIST, OBJ_ZSET, RObj
from tracered.server import server
from tracered.skiplist import ZRangeSpec, zsl_first_in_range, zsl_insert
from tracered.trace.probes import probe

# ============================================================================ geoArray


class GeoPoint:
    """struct geoPoint: one search result."""

    __slots__ = ("longitude", "latitude", "dist", "score", "member")

    def __init__(self, longitude: float, latitude: float, dist: float, score: float,
                 member: bytes) -> None:
        self.longitude = longitude
        self.latitude = latitude
        self.dist = dist
        self.score = score
        self.member = member

    def __repr__(self) -> str:
        return (f"GeoPoint({self.member!r}, lon={self.longitude}, lat={self.latitude}, "
                f"dist={self.dist}, score={self.score})")


# ============================================================================ helpers

_INF = float("inf")
_LLONG_MIN = -(1 << 63)


def decode_geohash(bits: float) -> tuple[float, float]:
    """decodeGeohash: the (longitude, latitude) a sorted-set score stands for.  Any double
    decodes (a score set by plain ZADD too), after C's double -> uint64 conversion."""
    if 0.0 <= bits < 9.2233720368547758e18:
        u = int(bits)  # every score GEOADD writes
    else:
        u = gh.double_to_uint64(bits)
    return gh.geohash_decode_bits_to_long_lat(u, GEO_STEP_MAX)


def extract_long_lat_or_reply(c: net.Client, argv: list[bytes],
                              idx: int) -> list[float] | None:
    """extractLongLatOrReply: argv[idx] longitude, argv[idx+1] latitude, both floats and
    inside the Mercator limits; else an error reply and None."""
    xy = []
    for i in range(2):
        v = t_zset.get_double_from_object_or_reply(c, argv[idx + i])
        if v is None:
            return None
        xy.append(v)
    if xy[0] < GEO_LONG_MIN or xy[0] > GEO_LONG_MAX or \
            xy[1] < GEO_LAT_MIN or xy[1] > GEO_LAT_MAX:
        net.add_reply_error(c, "-ERR invalid longitude,latitude pair %f,%f" % (xy[0], xy[1]))
        return None
    return xy


def long_lat_from_member(zobj: RObj, member: bytes) -> tuple[float, float] | None:
    """longLatFromMember: the position of a member, None if it is not in the set."""
    score = t_zset.zset_score(zobj, member)
    if score is None:
        return None
    return decode_geohash(score)


_UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}


def extract_unit_or_reply(c: net.Client, unit: bytes) -> float:
    """extractUnitOrReply: meters per unit (case-insensitive), or -1 after an error
    reply."""
    to_meters = _UNITS.get(unit.lower())
    if to_meters is None:
        net.add_reply_error(c, "unsupported unit provided. please use M, KM, FT, MI")
        return -1.0
    return to_meters


def extract_distance_or_reply(c: net.Client, argv: list[bytes],
                              idx: int) -> tuple[float, float] | None:
    """extractDistanceOrReply: ``<radius> <unit>`` at argv[idx] -> (radius, meters per
    unit), or None after an error reply."""
    distance = t_zset.get_double_from_object_or_reply(c, argv[idx], "need numeric radius")
    if distance is None:
        return None
    if distance < 0:
        net.add_reply_error(c, "radius cannot be negative")
        return None
    to_meters = extract_unit_or_reply(c, argv[idx + 1])
    if to_meters < 0:
        return None
    return distance, to_meters


def extract_box_or_reply(c: net.Client, argv: list[bytes],
                         idx: int) -> tuple[float, float, float] | None:
    """extractBoxOrReply: ``<width> <height> <unit>`` at argv[idx] -> (width, height,
    meters per unit), or None after an error reply."""
    w = t_zset.get_double_from_object_or_reply(c, argv[idx], "need numeric width")
    if w is None:
        return None
    h = t_zset.get_double_from_object_or_reply(c, argv[idx + 1], "need numeric height")
    if h is None:
        return None
    if h < 0 or w < 0:
        net.add_reply_error(c, "height or width cannot be negative")
        return None
    to_meters = extract_unit_or_reply(c, argv[idx + 2])
    if to_meters < 0:
        return None
    return w, h, to_meters


def double_distance(d: float) -> bytes:
    """The text of addReplyDoubleDistance: 4 decimals ("5.2145", not "5.2144992818115"),
    enough for kilometers too.  A NaN or overflowing value prints what C's llrint gives
    (LLONG_MIN), as redis-server does."""
    scaled = d * 10000.0
    if scaled != scaled or not -9.2233720368547758e18 <= scaled < 9.2233720368547758e18:
        v = -_LLONG_MIN  # |LLONG_MIN| printed after the sign
        digits = b"%d" % v
        return b"-" + digits[:-4] + b"." + digits[-4:]
    return util.fixedpoint_d2string(d, 4)


def add_reply_double_distance(c: net.Client, d: float) -> None:
    """addReplyDoubleDistance: a distance as a bulk string (in RESP3 too)."""
    net.add_reply_bulk(c, double_distance(d))


def _human(resp: int, d: float) -> bytes:
    """addReplyHumanLongDouble's bytes for a coordinate."""
    s = util.ld2string(d, util.LD_STR_HUMAN)
    if resp == 2:
        return b"$%d\r\n%s\r\n" % (len(s), s)
    return b"," + s + b"\r\n"


def geo_within_shape(shape: GeoShape, score: float) -> tuple[float, float, float] | None:
    """geoWithinShape: (longitude, latitude, distance to the centre) of the point a score
    stands for, or None when the point is outside the circle or the box."""
    x, y = decode_geohash(score)
    if shape.type == CIRCULAR_TYPE:
        # geohashGetDistanceIfInRadiusWGS84, without its two wrapper calls (hot path).
        distance = gh.geohash_get_distance(shape.xy[0], shape.xy[1], x, y)
        if distance > shape.radius * shape.conversion:
            return None
    elif shape.type == RECTANGLE_TYPE:
        distance = gh.geohash_get_distance_if_in_rectangle(
            shape.width * shape.conversion, shape.height * shape.conversion,
            shape.xy[0], shape.xy[1], x, y)
    else:
        distance = 0.0
    if distance is None:
        return None
    return x, y, distance


class _ListpackView:
    """A listpack sorted set decoded once for the (up to 9) range scans of one search."""

    __slots__ = ("eles", "scores")

    def __init__(self, lp: bytearray) -> None:
        self.eles, self.scores = t_zset.zzl_decode(lp)


@probe("geoGetPointsInRange")
def geo_get_points_in_range(zobj: RObj, min: float, max: float, shape: GeoShape,
                            ga: list[GeoPoint], limit: int,
                            view: _ListpackView | None = None) -> int:
    """geoGetPointsInRange: append to ``ga`` the points with min <= score < max that are
    inside the shape; returns how many were added.  With ``limit`` (COUNT ANY) the scan
    stops as soon as ``ga`` holds that many points.  ``view`` is the listpack already
    decoded by the caller (built here when None)."""
    origincount = len(ga)
    append = ga.append
    within = geo_within_shape
    if zobj.encoding == OBJ_ENCODING_LISTPACK:
        if view is None:
            view = _ListpackView(zobj.ptr)
        scores = view.scores
        eles = view.eles
        n = len(scores)
        i = bisect_left(scores, min)  # zzlFirstInRange for [min, max)
        while i < n:
            score = scores[i]
            if not score < max:
                break
            hit = within(shape, score)
            if hit is not None:
                append(GeoPoint(hit[0], hit[1], hit[2], score, eles[i]))
            if limit and len(ga) >= limit:
                break
            i += 1
    elif zobj.encoding == OBJ_ENCODING_SKIPLIST:
        ln = zsl_first_in_range(zobj.ptr.zsl, ZRangeSpec(min, max, False, True))
        while ln is not None:
            score = ln.score
            if not score < max:
                break
            hit = within(shape, score)
            if hit is not None:
                append(GeoPoint(hit[0], hit[1], hit[2], score, ln.ele))
            if limit and len(ga) >= limit:
                break
            ln = ln.level[0].forward
    return len(ga) - origincount


def scores_of_geohash_box(hash: GeoHashBits) -> tuple[int, int]:
    """scoresOfGeoHashBox: the score range [min, max) of every point inside the cell:
    the cell's bits aligned to 52 bits, and the next cell's."""
    smin = gh.geohash_align_52bits(hash)
    smax = gh.geohash_align_52bits(GeoHashBits(hash.bits + 1, hash.step))
    return smin, smax


def members_of_geohash_box(zobj: RObj, hash: GeoHashBits, ga: list[GeoPoint],
                           shape: GeoShape, limit: int,
                           view: _ListpackView | None = None) -> int:
    """membersOfGeoHashBox: the points of one cell that are inside the shape."""
    smin, smax = scores_of_geohash_box(hash)
    return geo_get_points_in_range(zobj, float(smin), float(smax), shape, ga, limit, view)


@probe("membersOfAllNeighbors")
def members_of_all_neighbors(zobj: RObj, n: GeoHashRadius, shape: GeoShape,
                             ga: list[GeoPoint], limit: int) -> int:
    """membersOfAllNeighbors: scan the centre cell and its 8 neighbours, skipping zeroed
    ones and a neighbour equal to the one scanned just before it (with a huge radius the
    cells are so big that neighbours coincide)."""
    nb = n.neighbors
    neighbors = [n.hash, nb.north, nb.south, nb.east, nb.west, nb.north_east, nb.north_west,
                 nb.south_east, nb.south_west]
    view = _ListpackView(zobj.ptr) if zobj.encoding == OBJ_ENCODING_LISTPACK else None
    count = 0
    last_processed = 0
    for i, h in enumerate(neighbors):
        if h.is_zero():
            continue
        # As in Redis, index 0 never counts as "processed before" (last_processed == 0).
        if last_processed and h.bits == neighbors[last_processed].bits and \
                h.step == neighbors[last_processed].step:
            continue
        if ga and limit and len(ga) >= limit:
            break
        count += members_of_geohash_box(zobj, h, ga, shape, limit, view)
        last_processed = i
    return count


def sort_gp_asc(a: GeoPoint, b: GeoPoint) -> int:
    """The qsort comparator: by distance (a NaN compares "less" both ways, as in C)."""
    if a.dist > b.dist:
        return 1
    if a.dist == b.dist:
        return 0
    return -1


def sort_gp_desc(a: GeoPoint, b: GeoPoint) -> int:
    return -sort_gp_asc(a, b)


def _msort(a: list, cmp) -> None:
    """glibc's qsort (msort.c: a top-down merge sort), for result lists holding NaN
    distances where the comparator is not an order and Python's sort would place them
    elsewhere."""
    n = len(a)
    if n <= 1:
        return
    n1 = n // 2
    left = a[:n1]
    right = a[n1:]
    _msort(left, cmp)
    _msort(right, cmp)
    i = j = k = 0
    n2 = n - n1
    while i < n1 and j < n2:
        if cmp(left[i], right[j]) <= 0:
            a[k] = left[i]
            i += 1
        else:
            a[k] = right[j]
            j += 1
        k += 1
    while i < n1:
        a[k] = left[i]
        i += 1
        k += 1
    while j < n2:
        a[k] = right[j]
        j += 1
        k += 1


def _dist_key(gp: GeoPoint) -> float:
    return gp.dist


# ============================================================================ commands

def geoadd_command(c: net.Client) -> None:
    """GEOADD key [NX|XX] [CH] longitude latitude member [...]: validate, turn each
    position into its geohash score and run ZADD with the rewritten arguments (which is
    also what replicas and the AOF receive)."""
    argv = c.argv
    argc = len(argv)
    xx = nx = False
    longidx = 2
    while longidx < argc:
        opt = argv[longidx].lower()
        if opt == b"nx":
            nx = True
        elif opt == b"xx":
            xx = True
        elif opt == b"ch":
            pass  # ZADD handles it
        else:
            break
        longidx += 1
    if (argc - longidx) % 3 or (xx and nx):
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    elements = (argc - longidx) // 3
    newargv = [b"zadd"]
    newargv.extend(argv[1:longidx])
    for i in range(elements):
        base = longidx + i * 3
        xy = extract_long_lat_or_reply(c, argv, base)
        if xy is None:
            return
        h = gh.geohash_encode_wgs84(xy[0], xy[1], GEO_STEP_MAX)
        bits = gh.geohash_align_52bits(h)
        newargv.append(b"%d" % bits)
        newargv.append(argv[base + 2])
    net.rewrite_client_command_vector(c, newargv)
    t_zset.zadd_command(c)


SORT_NONE = 0
SORT_ASC = 1
SORT_DESC = 2

RADIUS_COORDS = 1 << 0    # search around coordinates
RADIUS_MEMBER = 1 << 1    # search around a member
RADIUS_NOSTORE = 1 << 2   # STORE / STOREDIST refused (the _RO variants)
GEOSEARCH = 1 << 3        # GEOSEARCH syntax (FROM* / BY*)
GEOSEARCHSTORE = 1 << 4   # GEOSEARCHSTORE: destination first, STOREDIST flag only


@probe("georadiusGeneric")
def georadius_generic(c: net.Client, src_key_index: int, flags: int) -> None:
    """georadiusGeneric: every search command.

    GEORADIUS key lon lat radius unit [WITHDIST] [WITHHASH] [WITHCOORD] [ASC|DESC]
              [COUNT count [ANY]] [STORE key] [STOREDIST key]
    GEORADIUSBYMEMBER key member radius unit ... same options ...
    GEOSEARCH key FROMMEMBER member|FROMLONLAT lon lat BYRADIUS radius unit|BYBOX w h unit
              [ASC|DESC] [COUNT count [ANY]] [WITHCOORD] [WITHDIST] [WITHHASH]
    GEOSEARCHSTORE dest src ... same FROM / BY / order / COUNT ... [STOREDIST]
    """
    argv = c.argv
    argc = len(argv)
    db = c.db
    storekey: bytes | None = None
    storedist = False

    zobj = dbmod.lookup_key_read(db, argv[src_key_index])
    if dbmod.check_type(c, zobj, OBJ_ZSET):
        return

    shape = GeoShape()
    if flags & RADIUS_COORDS:
        base_args = 6
        shape.type = CIRCULAR_TYPE
        xy = extract_long_lat_or_reply(c, argv, 2)
        if xy is None:
            return
        shape.xy = xy
        dist = extract_distance_or_reply(c, argv, base_args - 2)
        if dist is None:
            return
        shape.radius, shape.conversion = dist
    elif flags & RADIUS_MEMBER and zobj is None:
        # No source key: still parse the options, to know which empty reply to give.
        base_args = 5
    elif flags & RADIUS_MEMBER:
        base_args = 5
        shape.type = CIRCULAR_TYPE
        xy = long_lat_from_member(zobj, argv[2])
        if xy is None:
            net.add_reply_error(c, "could not decode requested zset member")
            return
        shape.xy = list(xy)
        dist = extract_distance_or_reply(c, argv, base_args - 2)
        if dist is None:
            return
        shape.radius, shape.conversion = dist
    elif flags & GEOSEARCH:
        base_args = 2
        if flags & GEOSEARCHSTORE:
            base_args = 3
            storekey = argv[1]
    else:
        net.add_reply_error(c, "Unknown georadius search type")
        return

    withdist = withhash = withcoords = False
    frommember = fromloc = byradius = bybox = False
    sort = SORT_NONE
    any_ = False   # stop the scan once COUNT points are found
    count = 0      # 0: no limit
    remaining = argc - base_args
    i = 0
    while i < remaining:
        j = base_args + i
        arg = argv[j].lower()
        if arg == b"withdist":
            withdist = True
        elif arg == b"withhash":
            withhash = True
        elif arg == b"withcoord":
            withcoords = True
        elif arg == b"any":
            any_ = True
        elif arg == b"asc":
            sort = SORT_ASC
        elif arg == b"desc":
            sort = SORT_DESC
        elif arg == b"count" and i + 1 < remaining:
            v = dbmod.get_long_long_from_object_or_reply(c, argv[j + 1])
            if v is None:
                return
            if v <= 0:
                net.add_reply_error(c, "COUNT must be > 0")
                return
            count = v
            i += 1
        elif arg == b"store" and i + 1 < remaining and \
                not flags & RADIUS_NOSTORE and not flags & GEOSEARCH:
            storekey = argv[j + 1]
            storedist = False
            i += 1
        elif arg == b"storedist" and i + 1 < remaining and \
                not flags & RADIUS_NOSTORE and not flags & GEOSEARCH:
            storekey = argv[j + 1]
            storedist = True
            i += 1
        elif arg == b"storedist" and flags & GEOSEARCH and flags & GEOSEARCHSTORE:
            storedist = True
        elif arg == b"frommember" and i + 1 < remaining and flags & GEOSEARCH and \
                not fromloc:
            # Without a source key keep parsing: the empty reply comes after the checks.
            if zobj is not None:
                xy = long_lat_from_member(zobj, argv[j + 1])
                if xy is None:
                    net.add_reply_error(c, "could not decode requested zset member")
                    return
                shape.xy = list(xy)
            frommember = True
            i += 1
        elif arg == b"fromlonlat" and i + 2 < remaining and flags & GEOSEARCH and \
                not frommember:
            xy = extract_long_lat_or_reply(c, argv, j + 1)
            if xy is None:
                return
            shape.xy = xy
            fromloc = True
            i += 2
        elif arg == b"byradius" and i + 2 < remaining and flags & GEOSEARCH and \
                not bybox:
            dist = extract_distance_or_reply(c, argv, j + 1)
            if dist is None:
                return
            shape.radius, shape.conversion = dist
            shape.type = CIRCULAR_TYPE
            byradius = True
            i += 2
        elif arg == b"bybox" and i + 3 < remaining and flags & GEOSEARCH and \
                not byradius:
            box = extract_box_or_reply(c, argv, j + 1)
            if box is None:
                return
            shape.width, shape.height, shape.conversion = box
            shape.type = RECTANGLE_TYPE
            bybox = True
            i += 3
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
        i += 1

    # Options that cannot go with STORE / STOREDIST.
    if storekey is not None and (withdist or withhash or withcoords):
        net.add_reply_error(
            c, "%s is not compatible with WITHDIST, WITHHASH and WITHCOORD options" %
            ("GEOSEARCHSTORE" if flags & GEOSEARCHSTORE else "STORE option in GEORADIUS"))
        return
    if flags & GEOSEARCH and not (frommember or fromloc):
        net.add_reply_error(c, "exactly one of FROMMEMBER or FROMLONLAT can be specified "
                               "for %s" % argv[0].decode("utf-8", "surrogateescape"))
        return
    if flags & GEOSEARCH and not (byradius or bybox):
        net.add_reply_error(c, "exactly one of BYRADIUS and BYBOX can be specified for %s" %
                            argv[0].decode("utf-8", "surrogateescape"))
        return
    if any_ and not count:
        net.add_reply_error(c, "the ANY argument requires COUNT argument")
        return

    if zobj is None:
        if storekey is not None:
            # Nothing found: the destination is deleted, as for an empty result.
            if dbmod.db_delete(db, storekey):
                dbmod.signal_modified_key(c, db, storekey)
                dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", storekey, db.id)
                server.dirty += 1
            net.add_reply(c, shared.czero)
        else:
            net.add_reply(c, shared.emptyarray)
        return

    # COUNT returns the N closest: it implies ASC unless an order (or ANY) was given.
    if count and sort == SORT_NONE and not any_:
        sort = SORT_ASC

    georadius = gh.geohash_calculate_areas_by_shape_wgs84(shape)
    ga: list[GeoPoint] = []
    members_of_all_neighbors(zobj, georadius, shape, ga, count if any_ else 0)

    if not ga and storekey is None:
        net.add_reply(c, shared.emptyarray)
        return

    result_length = len(ga)
    returned_items = result_length if (count == 0 or result_length < count) else count

    if sort != SORT_NONE:
        cmpf = sort_gp_asc if sort == SORT_ASC else sort_gp_desc
        if returned_items == result_length:
            if any(gp.dist != gp.dist for gp in ga):
                _msort(ga, cmpf)
            else:
                # Stable like glibc's merge sort, and equal to it for a real order.
                ga.sort(key=_dist_key, reverse=sort == SORT_DESC)
        else:
            pqsort.pqsort(ga, len(ga), cmpf, 0, returned_items - 1)

    conversion = shape.conversion
    if storekey is None:
        resp = c.resp
        option_length = withdist + withcoords + withhash
        parts = [b"*%d\r\n" % returned_items]
        append = parts.append
        for k in range(returned_items):
            gp = ga[k]
            gp.dist /= conversion
            if option_length:
                append(b"*%d\r\n" % (option_length + 1))
            append(net.bulk(gp.member))
            if withdist:
                append(net.bulk(double_distance(gp.dist)))
            if withhash:
                append(b":%d\r\n" % _double_to_long_long(gp.score))
            if withcoords:
                append(b"*2\r\n")
                append(_human(resp, gp.longitude))
                append(_human(resp, gp.latitude))
        net.add_reply(c, b"".join(parts))
        return

    # STORE / STOREDIST / GEOSEARCHSTORE: a new sorted set with the results.
    if returned_items:
        dst = t_zset.create_zset_object()
        zs = dst.ptr
        maxelelen = totelelen = 0
        for k in range(returned_items):
            gp = ga[k]
            gp.dist /= conversion
            score = gp.dist if storedist and gp.dist == gp.dist else gp.score
            elelen = len(gp.member)
            if maxelelen < elelen:
                maxelelen = elelen
            totelelen += elelen
            member = bytes(gp.member)
            zsl_insert(zs.zsl, score, member)
            if not zs.dict.add(member, score):
                raise AssertionError("georadiusGeneric: duplicate member in the result")
        t_zset.zset_convert_to_listpack_if_needed(dst, maxelelen, totelelen, storekey)
        dbmod.set_key(c, db, storekey, dst, 0)
        dbmod.notify_keyspace_event(
            dbmod.NOTIFY_ZSET, "geosearchstore" if flags & GEOSEARCH else "georadiusstore",
            storekey, db.id)
        server.dirty += returned_items
    elif dbmod.db_delete(db, storekey):
        dbmod.signal_modified_key(c, db, storekey)
        dbmod.notify_keyspace_event(dbmod.NOTIFY_GENERIC, "del", storekey, db.id)
        server.dirty += 1
    net.add_reply_long_long(c, returned_items)


def _double_to_long_long(d: float) -> int:
    """C's ``(long long)d`` on x86-64: truncation, LLONG_MIN when out of range or NaN."""
    if d != d or not -9.2233720368547758e18 <= d < 9.2233720368547758e18:
        return _LLONG_MIN
    return int(d)


def georadius_command(c: net.Client) -> None:
    """GEORADIUS key longitude latitude radius unit [options]."""
    georadius_generic(c, 1, RADIUS_COORDS)


def georadiusbymember_command(c: net.Client) -> None:
    """GEORADIUSBYMEMBER key member radius unit [options]."""
    georadius_generic(c, 1, RADIUS_MEMBER)


def georadius_ro_command(c: net.Client) -> None:
    """GEORADIUS_RO: GEORADIUS without STORE / STOREDIST (a read-only command)."""
    georadius_generic(c, 1, RADIUS_COORDS | RADIUS_NOSTORE)


def georadiusbymember_ro_command(c: net.Client) -> None:
    """GEORADIUSBYMEMBER_RO."""
    georadius_generic(c, 1, RADIUS_MEMBER | RADIUS_NOSTORE)


def geosearch_command(c: net.Client) -> None:
    """GEOSEARCH key FROMMEMBER|FROMLONLAT ... BYRADIUS|BYBOX ... [options]."""
    georadius_generic(c, 1, GEOSEARCH)


def geosearchstore_command(c: net.Client) -> None:
    """GEOSEARCHSTORE destination source ... [STOREDIST]."""
    georadius_generic(c, 2, GEOSEARCH | GEOSEARCHSTORE)


_GEOALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"
_STD_LONG = gh.GeoHashRange(-180.0, 180.0)
_STD_LAT = gh.GeoHashRange(-90.0, 90.0)


def geohash_command(c: net.Client) -> None:
    """GEOHASH key member [member ...]: standard 11-character geohash strings (a null for
    a missing member).  Scores use latitudes -85..85; a standard geohash uses -90..90, so
    each position is decoded and encoded again with the standard ranges.  Only 52 bits
    exist: the 11th character (bits 51..55) is always '0'."""
    argv = c.argv
    zobj = dbmod.lookup_key_read(c.db, argv[1])
    if dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    nullb = shared.null[c.resp]
    parts = [b"*%d\r\n" % (len(argv) - 2)]
    alphabet = _GEOALPHABET
    for member in argv[2:]:
        score = t_zset.zset_score(zobj, member) if zobj is not None else None
        if score is None:
            parts.append(nullb)
            continue
        xy = decode_geohash(score)
        h = gh.geohash_encode(_STD_LONG, _STD_LAT, xy[0], xy[1], 26)
        bits = h.bits if h is not None else 0
        buf = bytearray(11)
        for k in range(10):
            buf[k] = alphabet[(bits >> (52 - (k + 1) * 5)) & 0x1F]
        buf[10] = alphabet[0]
        parts.append(b"$11\r\n" + bytes(buf) + b"\r\n")
    net.add_reply(c, b"".join(parts))


def geopos_command(c: net.Client) -> None:
    """GEOPOS key member [member ...]: [longitude, latitude] of each member, a null array
    for a missing one."""
    argv = c.argv
    zobj = dbmod.lookup_key_read(c.db, argv[1])
    if dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    resp = c.resp
    nullarr = shared.nullarray[resp]
    parts = [b"*%d\r\n" % (len(argv) - 2)]
    for member in argv[2:]:
        score = t_zset.zset_score(zobj, member) if zobj is not None else None
        if score is None:
            parts.append(nullarr)
            continue
        x, y = decode_geohash(score)
        parts.append(b"*2\r\n")
        parts.append(_human(resp, x))
        parts.append(_human(resp, y))
    net.add_reply(c, b"".join(parts))


def geodist_command(c: net.Client) -> None:
    """GEODIST key member1 member2 [M|KM|FT|MI]: the distance (4 decimals), or a null
    when either member is missing."""
    argv = c.argv
    to_meter = 1.0
    if len(argv) == 5:
        to_meter = extract_unit_or_reply(c, argv[4])
        if to_meter < 0:
            return
    elif len(argv) > 5:
        net.add_reply_error_object(c, shared.syntaxerr)
        return
    zobj = dbmod.lookup_key_read_or_reply(c, argv[1], shared.null[c.resp])
    if zobj is None or dbmod.check_type(c, zobj, OBJ_ZSET):
        return
    score1 = t_zset.zset_score(zobj, argv[2])
    score2 = t_zset.zset_score(zobj, argv[3]) if score1 is not None else None
    if score2 is None:
        net.add_reply_null(c)
        return
    x1, y1 = decode_geohash(score1)
    x2, y2 = decode_geohash(score2)
    add_reply_double_distance(c, gh.geohash_get_distance(x1, y1, x2, y2) / to_meter)


# ============================================================================ key extraction

def georadius_get_keys(argv: list[bytes]) -> list[int]:
    """georadiusGetKeys (db.c): the source key, plus the STORE / STOREDIST destination
    (the last one given wins, as in the command)."""
    stored_key = -1
    argc = len(argv)
    i = 5
    while i < argc:
        arg = argv[i].lower()
        if (arg == b"store" or arg == b"storedist") and i + 1 < argc:
            stored_key = i + 1
            i += 1
        i += 1
    return [1] if stored_key == -1 else [1, stored_key]


# ============================================================================ command table

def _ks(flags: str, begin: int = 1) -> KeySpec:
    return KeySpec(flags, begin, lastkey=0, keystep=1)


def _ks_kw(flags: str, keyword: str, startfrom: int) -> KeySpec:
    return KeySpec(flags, begin_keyword=keyword, keyword_startfrom=startfrom, lastkey=0,
                   keystep=1)


def _hist(c, *history: tuple[str, str]):
    c.history = list(history)
    return c


_SEARCH_CX = ("O(N+log(M)) where N is the number of elements inside the bounding box of "
              "the circular area delimited by center and radius and M is the number of "
              "items inside the index.")
_GEOSEARCH_CX = ("O(N+log(M)) where N is the number of elements in the grid-aligned "
                 "bounding box area around the shape provided as the filter and M is the "
                 "number of items inside the shape")
_UNIT = "M|KM|FT|MI"
_OPTS = "[WITHCOORD] [WITHDIST] [WITHHASH] [COUNT count [ANY]] [ASC|DESC]"
_STORE = "[STORE key] [STOREDIST key]"
_FROM_BY = (f"<FROMMEMBER member | FROMLONLAT longitude latitude> "
            f"<BYRADIUS radius {_UNIT} | BYBOX width height {_UNIT}> "
            f"[ASC|DESC] [COUNT count [ANY]]")
_UPPER_UNITS = ("7.0.0", "Added support for uppercase unit names.")
_ANY = ("6.2.0", "Added the `ANY` option for `COUNT`.")

COMMANDS = [
    _hist(cmd("geoadd", geoadd_command, -5, "write denyoom", keys=(1, 1, 1), acl="geo",
              group="geo", since="3.2.0",
              complexity="O(log(N)) for each item added, where N is the number of elements "
                         "in the sorted set.",
              summary="Add one or more geospatial items in the geospatial index represented "
                      "using a sorted set",
              args="key [NX|XX] [CH] longitude latitude member "
                   "[longitude latitude member ...]",
              key_specs=[_ks("RW update")]),
          ("6.2.0", "Added the `CH`, `NX` and `XX` options.")),
    cmd("geodist", geodist_command, -4, "readonly", keys=(1, 1, 1), acl="geo", group="geo",
        since="3.2.0", complexity="O(log(N))",
        summary="Returns the distance between two members of a geospatial index",
        args=f"key member1 member2 [{_UNIT}]", key_specs=[_ks("RO access")]),
    cmd("geohash", geohash_command, -2, "readonly", keys=(1, 1, 1), acl="geo", group="geo",
        since="3.2.0",
        complexity="O(log(N)) for each member requested, where N is the number of elements "
                   "in the sorted set.",
        summary="Returns members of a geospatial index as standard geohash strings",
        args="key member [member ...]", key_specs=[_ks("RO access")]),
    cmd("geopos", geopos_command, -2, "readonly", keys=(1, 1, 1), acl="geo", group="geo",
        since="3.2.0", complexity="O(N) where N is the number of members requested.",
        summary="Returns longitude and latitude of members of a geospatial index",
        args="key member [member ...]", key_specs=[_ks("RO access")]),
    _hist(cmd("georadius", georadius_command, -6, "write denyoom movablekeys",
              keys=(1, 1, 1), acl="geo", group="geo", since="3.2.0",
              complexity=_SEARCH_CX,
              summary="Query a sorted set representing a geospatial index to fetch members "
                      "matching a given maximum distance from a point",
              args=f"key longitude latitude radius {_UNIT} {_OPTS} {_STORE}",
              key_specs=[_ks("RO access"), _ks_kw("OW update", "STORE", 6),
                         _ks_kw("OW update", "STOREDIST", 6)],
              getkeys=georadius_get_keys, doc_flags="deprecated", deprecated_since="6.2.0",
              replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` argument"),
          _ANY, _UPPER_UNITS),
    _hist(cmd("georadius_ro", georadius_ro_command, -6, "readonly", keys=(1, 1, 1),
              acl="geo", group="geo", since="3.2.10", complexity=_SEARCH_CX,
              summary="A read-only variant for GEORADIUS",
              args=f"key longitude latitude radius {_UNIT} {_OPTS}",
              key_specs=[_ks("RO access")], doc_flags="deprecated",
              deprecated_since="6.2.0",
              replaced_by="`GEOSEARCH` with the `BYRADIUS` argument"),
          _ANY),
    _hist(cmd("georadiusbymember", georadiusbymember_command, -5,
              "write denyoom movablekeys", keys=(1, 1, 1), acl="geo", group="geo",
              since="3.2.0", complexity=_SEARCH_CX,
              summary="Query a sorted set representing a geospatial index to fetch members "
                      "matching a given maximum distance from a member",
              args=f"key member radius {_UNIT} {_OPTS} {_STORE}",
              key_specs=[_ks("RO access"), _ks_kw("OW update", "STORE", 5),
                         _ks_kw("OW update", "STOREDIST", 5)],
              getkeys=georadius_get_keys, doc_flags="deprecated", deprecated_since="6.2.0",
              replaced_by="`GEOSEARCH` and `GEOSEARCHSTORE` with the `BYRADIUS` and "
                          "`FROMMEMBER` arguments"),
          _UPPER_UNITS),
    cmd("georadiusbymember_ro", georadiusbymember_ro_command, -5, "readonly",
        keys=(1, 1, 1), acl="geo", group="geo", since="3.2.10", complexity=_SEARCH_CX,
        summary="A read-only variant for GEORADIUSBYMEMBER",
        args=f"key member radius {_UNIT} {_OPTS}", key_specs=[_ks("RO access")],
        doc_flags="deprecated", deprecated_since="6.2.0",
        replaced_by="`GEOSEARCH` with the `BYRADIUS` and `FROMMEMBER` arguments"),
    _hist(cmd("geosearch", geosearch_command, -7, "readonly", keys=(1, 1, 1), acl="geo",
              group="geo", since="6.2.0", complexity=_GEOSEARCH_CX,
              summary="Query a sorted set representing a geospatial index to fetch members "
                      "inside an area of a box or a circle.",
              args=f"key {_FROM_BY} [WITHCOORD] [WITHDIST] [WITHHASH]",
              key_specs=[_ks("RO access")]),
          _UPPER_UNITS),
    _hist(cmd("geosearchstore", geosearchstore_command, -8, "write denyoom", keys=(1, 2, 1),
              acl="geo", group="geo", since="6.2.0", complexity=_GEOSEARCH_CX,
              summary="Query a sorted set representing a geospatial index to fetch members "
                      "inside an area of a box or a circle, and store the result in another "
                      "key.",
              args=f"destination source {_FROM_BY} [STOREDIST]",
              key_specs=[_ks("OW update"), _ks("RO access", 2)]),
          _UPPER_UNITS),
]
