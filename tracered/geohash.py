"""Geohash cells and search areas: the mirror of Redis 7.0 src/geohash.c and
src/geohash_helper.c (with the types of geohash.h and geohash_helper.h).

A GEO set is a sorted set whose scores are 52-bit geohashes.  The world, restricted to the
Web Mercator latitudes (EPSG:3785, +-85.05112878: the poles cannot be projected), is halved
26 times in each direction; the 26 longitude bits and 26 latitude bits of a point's cell
are interleaved (longitude in the odd bits, latitude in the even ones) so that points close
on the map tend to have close scores, and one cell of any size is one contiguous score
range.

A radius or box query (geohash_calculate_areas_by_shape_wgs84) picks the cell size from the
search radius, takes the cell holding the centre plus its 8 neighbours, and drops the
neighbours the bounding box of the shape cannot reach.  geo.py then scans the 9 score ranges
and filters points with the exact distance (geohash_get_distance: haversine on a sphere of
Earth's mean radius).

Layout (same order as the C files):

    geohash.h          GeoHashBits GeoHashRange GeoHashArea GeoHashNeighbors GeoShape
    geohash.c          interleave64 deinterleave64 geohash_get_coord_range geohash_encode
                       (_type, _wgs84) geohash_decode (_type, _wgs84)
                       geohash_decode_area_to_long_lat geohash_decode_to_long_lat_type
                       (_wgs84) geohash_decode_bits_to_long_lat geohash_move_x
                       geohash_move_y geohash_neighbors
    geohash_helper.c   geohash_estimate_steps_by_radius geohash_bounding_box
                       geohash_calculate_areas_by_shape_wgs84 geohash_align_52bits
                       geohash_get_lat_distance geohash_get_distance
                       geohash_get_distance_if_in_radius (_wgs84)
                       geohash_get_distance_if_in_rectangle

Every floating-point expression keeps the C operand order: Python floats are IEEE doubles
and math.sin/cos/asin/sqrt are the C library's, so scores, distances and coordinates come
out bit for bit like redis-server's (the differential tests compare the printed digits).

Divergence: the C functions fill out-parameters and return 1/0; here they return the value
(a GeoHashBits, a GeoHashArea, a distance) or None where the C returns 0.
Divergence: C's double -> uint32/uint64 conversions are spelled out (``int()`` truncation,
``double_to_uint64`` for what x86-64 does with a score outside 0..2**64), and C's math
library returns NaN where Python's raises (``asin`` of a value rounded just above 1,
``cos(inf)``): the wrappers here return NaN like C.
Divergence: geohash_decode_bits_to_long_lat (no Redis counterpart) computes a cell's centre
without building a GeoHashArea first (a search runs it once per candidate point); the
arithmetic is that of geohashDecode + geohashDecodeAreaToLongLat.
"""

from __future__ import annotations

import math

from tracered.trace.probes import probe

__all__ = [
    "GEO_STEP_MAX", "GEO_LAT_MIN", "GEO_LAT_MAX", "GEO_LONG_MIN", "GEO_LONG_MAX",
    "CIRCULAR_TYPE", "RECTANGLE_TYPE", "EARTH_RADIUS_IN_METERS", "MERCATOR_MAX",
    "MERCATOR_MIN", "GeoHashBits", "GeoHashRange", "GeoHashArea", "GeoHashNeighbors",
    "GeoShape", "GeoHashRadius", "interleave64", "deinterleave64", "double_to_uint64",
    "geohash_get_coord_range", "geohash_encode", "geohash_encode_type",
    "geohash_encode_wgs84", "geohash_decode", "geohash_decode_type", "geohash_decode_wgs84",
    "geohash_decode_area_to_long_lat", "geohash_decode_to_long_lat_type",
    "geohash_decode_to_long_lat_wgs84", "geohash_decode_bits_to_long_lat", "geohash_move_x",
    "geohash_move_y",
    "geohash_neighbors", "geohash_estimate_steps_by_radius", "geohash_bounding_box",
    "geohash_calculate_areas_by_shape_wgs84", "geohash_align_52bits",
    "geohash_get_lat_distance", "geohash_get_distance", "geohash_get_distance_if_in_radius",
    "geohash_get_distance_if_in_radius_wgs84", "geohash_get_distance_if_in_rectangle",
]

# ============================================================================ geohash.h

GEO_STEP_MAX = 26  # bits per coordinate: 26 * 2 = 52 bits, exact in a double score

# The Web Mercator limits (EPSG:900913 / EPSG:3785 / OSGEO:41001).
GEO_LAT_MIN = -85.05112878
GEO_LAT_MAX = 85.05112878
GEO_LONG_MIN = -180.0
GEO_LONG_MAX = 180.0

CIRCULAR_TYPE = 1
RECTANGLE_TYPE = 2

_U64 = (1 << 64) - 1
_U32 = (1 << 32) - 1
_EVEN = 0x5555555555555555   # latitude bits of an interleaved hash
_ODD = 0xAAAAAAAAAAAAAAAA    # longitude bits
_TWO63 = 9223372036854775808.0
_NAN = float("nan")


class GeoHashBits:
    """A cell: ``step`` bits per coordinate, interleaved in ``bits``.  bits == step == 0
    is the "zero" hash (HASHISZERO / GZERO) that marks a dropped neighbour."""

    __slots__ = ("bits", "step")

    def __init__(self, bits: int = 0, step: int = 0) -> None:
        self.bits = bits
        self.step = step

    def copy(self) -> GeoHashBits:
        return GeoHashBits(self.bits, self.step)

    def is_zero(self) -> bool:
        return not self.bits and not self.step

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GeoHashBits) and self.bits == other.bits and \
            self.step == other.step

    __hash__ = None  # mutable

    def __repr__(self) -> str:
        return f"GeoHashBits(bits={self.bits:#x}, step={self.step})"


class GeoHashRange:
    __slots__ = ("min", "max")

    def __init__(self, min: float = 0.0, max: float = 0.0) -> None:
        self.min = min
        self.max = max

    def is_zero(self) -> bool:
        return not self.max and not self.min

    def __repr__(self) -> str:
        return f"GeoHashRange({self.min!r}, {self.max!r})"


class GeoHashArea:
    """A decoded cell: its hash and its longitude / latitude extent."""

    __slots__ = ("hash", "longitude", "latitude")

    def __init__(self, hash: GeoHashBits, longitude: GeoHashRange,
                 latitude: GeoHashRange) -> None:
        self.hash = hash
        self.longitude = longitude
        self.latitude = latitude

    def __repr__(self) -> str:
        return f"GeoHashArea({self.hash!r}, lon={self.longitude!r}, lat={self.latitude!r})"


class GeoHashNeighbors:
    """The 8 cells around one cell, same step."""

    __slots__ = ("north", "east", "west", "south", "north_east", "south_east", "north_west",
                 "south_west")

    def __init__(self, center: GeoHashBits) -> None:
        self.north = center.copy()
        self.east = center.copy()
        self.west = center.copy()
        self.south = center.copy()
        self.north_east = center.copy()
        self.south_east = center.copy()
        self.north_west = center.copy()
        self.south_west = center.copy()


class GeoShape:
    """What a query searches: a circle (``radius``) or an axis-aligned box (``width`` x
    ``height``) around ``xy`` (longitude, latitude), sizes in the unit whose length in
    meters is ``conversion``.  ``bounds`` (min lon, min lat, max lon, max lat) is filled by
    geohash_bounding_box.  Divergence: C's union of radius and (height, width) is three
    plain fields."""

    __slots__ = ("type", "xy", "conversion", "bounds", "radius", "height", "width")

    def __init__(self) -> None:
        self.type = 0
        self.xy = [0.0, 0.0]
        self.conversion = 0.0
        self.bounds = [0.0, 0.0, 0.0, 0.0]
        self.radius = 0.0
        self.height = 0.0
        self.width = 0.0

    def __repr__(self) -> str:
        kind = {CIRCULAR_TYPE: "circle", RECTANGLE_TYPE: "box"}.get(self.type, "?")
        return (f"GeoShape({kind} at {self.xy}, radius={self.radius}, width={self.width}, "
                f"height={self.height}, conversion={self.conversion})")


class GeoHashRadius:
    """geohash_helper.h GeoHashRadius: the centre cell, its area and its neighbours."""

    __slots__ = ("hash", "area", "neighbors")

    def __init__(self, hash: GeoHashBits, area: GeoHashArea,
                 neighbors: GeoHashNeighbors) -> None:
        self.hash = hash
        self.area = area
        self.neighbors = neighbors


# ============================================================================ geohash.c

def interleave64(xlo: int, ylo: int) -> int:
    """Spread the 32 bits of ``xlo`` over the even bit positions and those of ``ylo`` over
    the odd ones (the "binary magic numbers" trick: five mask-and-shift rounds)."""
    x = xlo & _U32
    y = ylo & _U32
    x = (x | (x << 16)) & 0x0000FFFF0000FFFF
    y = (y | (y << 16)) & 0x0000FFFF0000FFFF
    x = (x | (x << 8)) & 0x00FF00FF00FF00FF
    y = (y | (y << 8)) & 0x00FF00FF00FF00FF
    x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0F
    y = (y | (y << 4)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x << 2)) & 0x3333333333333333
    y = (y | (y << 2)) & 0x3333333333333333
    x = (x | (x << 1)) & 0x5555555555555555
    y = (y | (y << 1)) & 0x5555555555555555
    return x | (y << 1)


def deinterleave64(interleaved: int) -> int:
    """The inverse of interleave64 on a 64-bit value: the even bits gathered in the low 32
    bits of the result, the odd bits in the high 32."""
    x = interleaved & _EVEN
    y = (interleaved >> 1) & _EVEN
    x = (x | (x >> 1)) & 0x3333333333333333
    y = (y | (y >> 1)) & 0x3333333333333333
    x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0F
    y = (y | (y >> 2)) & 0x0F0F0F0F0F0F0F0F
    x = (x | (x >> 4)) & 0x00FF00FF00FF00FF
    y = (y | (y >> 4)) & 0x00FF00FF00FF00FF
    x = (x | (x >> 8)) & 0x0000FFFF0000FFFF
    y = (y | (y >> 8)) & 0x0000FFFF0000FFFF
    x = (x | (x >> 16)) & 0x00000000FFFFFFFF
    y = (y | (y >> 16)) & 0x00000000FFFFFFFF
    return x | (y << 32)


def double_to_uint64(d: float) -> int:
    """C's ``(uint64_t)d`` as gcc compiles it for x86-64 (cvttsd2si, with 2**63 subtracted
    first for large values): exact truncation for 0 <= d < 2**64; negative values wrap
    modulo 2**64; NaN, infinities and values too large for the instruction give its
    "indefinite" result.  Only a sorted set filled by ZADD with non-geo scores gets here
    with such values, and GEOPOS then answers what redis-server answers."""
    if d != d:
        return 1 << 63  # comisd reports NaN as "below": the signed conversion fails
    if d < _TWO63:
        if d < -_TWO63:
            return 1 << 63
        return int(d) & _U64
    d -= _TWO63
    if d >= _TWO63:  # includes +inf
        return 0  # the indefinite value with its top bit flipped back
    return int(d) ^ (1 << 63)


def geohash_get_coord_range() -> tuple[GeoHashRange, GeoHashRange]:
    """geohashGetCoordRange: (longitude range, latitude range) a geo score can encode."""
    return GeoHashRange(GEO_LONG_MIN, GEO_LONG_MAX), GeoHashRange(GEO_LAT_MIN, GEO_LAT_MAX)


def geohash_encode(long_range: GeoHashRange, lat_range: GeoHashRange, longitude: float,
                   latitude: float, step: int) -> GeoHashBits | None:
    """geohashEncode: the ``step``-bit cell of (longitude, latitude) within the ranges, or
    None when the step or the ranges are invalid or the point is outside the Mercator
    limits or outside the ranges."""
    if step > 32 or step == 0 or lat_range.is_zero() or long_range.is_zero():
        return None
    if longitude > GEO_LONG_MAX or longitude < GEO_LONG_MIN or \
            latitude > GEO_LAT_MAX or latitude < GEO_LAT_MIN:
        return None
    if latitude < lat_range.min or latitude > lat_range.max or \
            longitude < long_range.min or longitude > long_range.max:
        return None
    lat_offset = (latitude - lat_range.min) / (lat_range.max - lat_range.min)
    long_offset = (longitude - long_range.min) / (long_range.max - long_range.min)
    # Fixed point with ``step`` bits; the C converts to uint32 by truncation.  A point on
    # the upper edge (offset 1.0) yields 2**step: one bit above the cell grid, as in Redis.
    scale = float(1 << step)
    lat_offset *= scale
    long_offset *= scale
    return GeoHashBits(interleave64(int(lat_offset), int(long_offset)), step)


def geohash_encode_type(longitude: float, latitude: float, step: int) -> GeoHashBits | None:
    """geohashEncodeType: encode within the Mercator ranges."""
    long_range, lat_range = geohash_get_coord_range()
    return geohash_encode(long_range, lat_range, longitude, latitude, step)


def geohash_encode_wgs84(longitude: float, latitude: float, step: int) -> GeoHashBits | None:
    """geohashEncodeWGS84."""
    return geohash_encode_type(longitude, latitude, step)


def geohash_decode(long_range: GeoHashRange, lat_range: GeoHashRange,
                   hash: GeoHashBits) -> GeoHashArea | None:
    """geohashDecode: the extent of the cell ``hash``; None for the zero hash or zero
    ranges."""
    if hash.is_zero() or lat_range.is_zero() or long_range.is_zero():
        return None
    step = hash.step
    hash_sep = deinterleave64(hash.bits & _U64)  # [LAT][LONG] -> lat low, long high
    lat_scale = lat_range.max - lat_range.min
    long_scale = long_range.max - long_range.min
    ilato = hash_sep & _U32
    ilono = hash_sep >> 32
    div = float(1 << step)
    area = GeoHashArea(hash, GeoHashRange(), GeoHashRange())
    # (x + 1) is uint32 arithmetic in C: it wraps at 2**32.
    area.latitude.min = lat_range.min + (ilato * 1.0 / div) * lat_scale
    area.latitude.max = lat_range.min + (((ilato + 1) & _U32) * 1.0 / div) * lat_scale
    area.longitude.min = long_range.min + (ilono * 1.0 / div) * long_scale
    area.longitude.max = long_range.min + (((ilono + 1) & _U32) * 1.0 / div) * long_scale
    return area


def geohash_decode_type(hash: GeoHashBits) -> GeoHashArea | None:
    """geohashDecodeType: decode within the Mercator ranges."""
    long_range, lat_range = geohash_get_coord_range()
    return geohash_decode(long_range, lat_range, hash)


def geohash_decode_wgs84(hash: GeoHashBits) -> GeoHashArea | None:
    """geohashDecodeWGS84."""
    return geohash_decode_type(hash)


def geohash_decode_area_to_long_lat(area: GeoHashArea) -> tuple[float, float]:
    """geohashDecodeAreaToLongLat: the centre of the cell, clamped to the Mercator limits."""
    x = (area.longitude.min + area.longitude.max) / 2
    if x > GEO_LONG_MAX:
        x = GEO_LONG_MAX
    if x < GEO_LONG_MIN:
        x = GEO_LONG_MIN
    y = (area.latitude.min + area.latitude.max) / 2
    if y > GEO_LAT_MAX:
        y = GEO_LAT_MAX
    if y < GEO_LAT_MIN:
        y = GEO_LAT_MIN
    return x, y


_LAT_SCALE = GEO_LAT_MAX - GEO_LAT_MIN
_LONG_SCALE = GEO_LONG_MAX - GEO_LONG_MIN


def geohash_decode_to_long_lat_type(hash: GeoHashBits) -> tuple[float, float] | None:
    """geohashDecodeToLongLatType: the (longitude, latitude) a cell stands for (its centre),
    None for the zero hash."""
    if not hash.bits and not hash.step:
        return None
    return geohash_decode_bits_to_long_lat(hash.bits, hash.step)


def geohash_decode_bits_to_long_lat(bits: int, step: int) -> tuple[float, float]:
    """The centre of the cell (bits, step), clamped to the Mercator limits.  No Redis
    counterpart: geohashDecodeType + geohashDecodeAreaToLongLat fused, without the
    GeoHashBits / GeoHashArea objects, because a search runs it for every candidate point;
    the arithmetic is the same, operation for operation."""
    hash_sep = deinterleave64(bits & _U64)
    ilato = hash_sep & _U32
    ilono = hash_sep >> 32
    div = float(1 << step)
    lat_min = GEO_LAT_MIN + (ilato * 1.0 / div) * _LAT_SCALE
    lat_max = GEO_LAT_MIN + (((ilato + 1) & _U32) * 1.0 / div) * _LAT_SCALE
    lon_min = GEO_LONG_MIN + (ilono * 1.0 / div) * _LONG_SCALE
    lon_max = GEO_LONG_MIN + (((ilono + 1) & _U32) * 1.0 / div) * _LONG_SCALE
    x = (lon_min + lon_max) / 2
    if x > GEO_LONG_MAX:
        x = GEO_LONG_MAX
    if x < GEO_LONG_MIN:
        x = GEO_LONG_MIN
    y = (lat_min + lat_max) / 2
    if y > GEO_LAT_MAX:
        y = GEO_LAT_MAX
    if y < GEO_LAT_MIN:
        y = GEO_LAT_MIN
    return x, y


def geohash_decode_to_long_lat_wgs84(hash: GeoHashBits) -> tuple[float, float] | None:
    """geohashDecodeToLongLatWGS84."""
    return geohash_decode_to_long_lat_type(hash)


def geohash_move_x(hash: GeoHashBits, d: int) -> None:
    """Move the cell one column east (d > 0) or west (d < 0), wrapping around the
    antimeridian: add or subtract 1 to the longitude bits only, carrying through the
    latitude bits (set to 1 for the carry, masked away after)."""
    if d == 0:
        return
    shift = 64 - hash.step * 2
    x = hash.bits & _ODD
    y = hash.bits & _EVEN
    zz = _EVEN >> shift
    if d > 0:
        x = x + (zz + 1)
    else:
        x = x | zz
        x = x - (zz + 1)
    x &= _ODD >> shift  # also drops the C's uint64 wrap-around (a negative x here)
    hash.bits = x | y


def geohash_move_y(hash: GeoHashBits, d: int) -> None:
    """Move the cell one row north (d > 0) or south (d < 0), wrapping at the limits."""
    if d == 0:
        return
    shift = 64 - hash.step * 2
    x = hash.bits & _ODD
    y = hash.bits & _EVEN
    zz = _ODD >> shift
    if d > 0:
        y = y + (zz + 1)
    else:
        y = y | zz
        y = y - (zz + 1)
    y &= _EVEN >> shift
    hash.bits = x | y


def geohash_neighbors(hash: GeoHashBits) -> GeoHashNeighbors:
    """geohashNeighbors: the 8 cells around ``hash``."""
    n = GeoHashNeighbors(hash)
    geohash_move_x(n.east, 1)
    geohash_move_y(n.east, 0)
    geohash_move_x(n.west, -1)
    geohash_move_y(n.west, 0)
    geohash_move_x(n.south, 0)
    geohash_move_y(n.south, -1)
    geohash_move_x(n.north, 0)
    geohash_move_y(n.north, 1)
    geohash_move_x(n.north_west, -1)
    geohash_move_y(n.north_west, 1)
    geohash_move_x(n.north_east, 1)
    geohash_move_y(n.north_east, 1)
    geohash_move_x(n.south_east, 1)
    geohash_move_y(n.south_east, -1)
    geohash_move_x(n.south_west, -1)
    geohash_move_y(n.south_west, -1)
    return n


# ============================================================================ geohash_helper.c

D_R = math.pi / 180.0
R_MAJOR = 6378137.0
R_MINOR = 6356752.3142
# Earth's quadratic mean radius for WGS-84: the sphere the haversine distances use.
EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37
MERCATOR_MIN = -20037726.37

_sin = math.sin
_cos = math.cos
_asin = math.asin
_sqrt = math.sqrt
_fabs = math.fabs


def deg_rad(ang: float) -> float:
    return ang * D_R


def rad_deg(ang: float) -> float:
    return ang / D_R


def _c_cos(x: float) -> float:
    """cos() that answers NaN for an infinite argument, as C does (Python raises)."""
    try:
        return _cos(x)
    except ValueError:
        return _NAN


def geohash_estimate_steps_by_radius(range_meters: float, lat: float) -> int:
    """geohashEstimateStepsByRadius: the cell size (bits per coordinate, 1..26) for the 9
    search cells: the largest cells whose side is about the radius (each halving of the
    Mercator width is one more step), one or two steps coarser near the poles where a
    cell is narrower on the ground."""
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2  # so that the radius fits in most cases
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    if step < 1:
        step = 1
    if step > 26:
        step = 26
    return step


def geohash_bounding_box(shape: GeoShape) -> list[float]:
    """geohashBoundingBox: (min lon, min lat, max lon, max lat) around the shape.  A
    degree of longitude is shorter away from the equator, so the longitude half-width is
    taken on the edge nearer the pole (the top edge in the north, the bottom in the south).
    Stores the box in shape.bounds and returns it."""
    longitude = shape.xy[0]
    latitude = shape.xy[1]
    circular = shape.type == CIRCULAR_TYPE
    height = shape.conversion * (shape.radius if circular else shape.height / 2)
    width = shape.conversion * (shape.radius if circular else shape.width / 2)
    lat_delta = rad_deg(height / EARTH_RADIUS_IN_METERS)
    long_delta_top = rad_deg(width / EARTH_RADIUS_IN_METERS /
                             _c_cos(deg_rad(latitude + lat_delta)))
    long_delta_bottom = rad_deg(width / EARTH_RADIUS_IN_METERS /
                                _c_cos(deg_rad(latitude - lat_delta)))
    if latitude < 0:
        bounds = [longitude - long_delta_bottom, latitude - lat_delta,
                  longitude + long_delta_bottom, latitude + lat_delta]
    else:
        bounds = [longitude - long_delta_top, latitude - lat_delta,
                  longitude + long_delta_top, latitude + lat_delta]
    shape.bounds = bounds
    return bounds


@probe("geohashCalculateAreasByShapeWGS84")
def geohash_calculate_areas_by_shape_wgs84(shape: GeoShape) -> GeoHashRadius:
    """geohashCalculateAreasByShapeWGS84: the centre cell and the neighbours that can hold
    points of the shape (the others are zeroed).  Fills shape.bounds."""
    min_lon, min_lat, max_lon, max_lat = geohash_bounding_box(shape)
    longitude = shape.xy[0]
    latitude = shape.xy[1]
    # A box is searched like the circle through its corners.
    if shape.type == CIRCULAR_TYPE:
        radius_meters = shape.radius
    else:
        radius_meters = _sqrt((shape.width / 2) * (shape.width / 2) +
                              (shape.height / 2) * (shape.height / 2))
    radius_meters *= shape.conversion

    steps = geohash_estimate_steps_by_radius(radius_meters, latitude)
    long_range, lat_range = geohash_get_coord_range()
    hash = geohash_encode(long_range, lat_range, longitude, latitude, steps)
    if hash is None:  # not reached: the centre was validated (the C reads a zeroed hash)
        hash = GeoHashBits(0, steps)
    neighbors = geohash_neighbors(hash)
    area = geohash_decode(long_range, lat_range, hash)

    # Near the edge of the centre cell one neighbour may not reach far enough: then use
    # cells of twice the size.
    north = geohash_decode(long_range, lat_range, neighbors.north)
    south = geohash_decode(long_range, lat_range, neighbors.south)
    east = geohash_decode(long_range, lat_range, neighbors.east)
    west = geohash_decode(long_range, lat_range, neighbors.west)
    decrease_step = (north.latitude.max < max_lat or south.latitude.min > min_lat or
                     east.longitude.max < max_lon or west.longitude.min > min_lon)

    if steps > 1 and decrease_step:
        steps -= 1
        hash = geohash_encode(long_range, lat_range, longitude, latitude, steps)
        if hash is None:
            hash = GeoHashBits(0, steps)
        neighbors = geohash_neighbors(hash)
        area = geohash_decode(long_range, lat_range, hash)

    # Drop the neighbours on a side the bounding box does not cross into.
    if steps >= 2:
        zero = _gzero
        if area.latitude.min < min_lat:
            zero(neighbors.south)
            zero(neighbors.south_west)
            zero(neighbors.south_east)
        if area.latitude.max > max_lat:
            zero(neighbors.north)
            zero(neighbors.north_east)
            zero(neighbors.north_west)
        if area.longitude.min < min_lon:
            zero(neighbors.west)
            zero(neighbors.south_west)
            zero(neighbors.north_west)
        if area.longitude.max > max_lon:
            zero(neighbors.east)
            zero(neighbors.south_east)
            zero(neighbors.north_east)
    return GeoHashRadius(hash, area, neighbors)


def _gzero(h: GeoHashBits) -> None:
    """GZERO."""
    h.bits = 0
    h.step = 0


def geohash_align_52bits(hash: GeoHashBits) -> int:
    """geohashAlign52Bits: the cell's bits shifted to the top of a 52-bit score (the
    smallest score inside the cell)."""
    return (hash.bits << (52 - hash.step * 2)) & _U64


def geohash_get_lat_distance(lat1d: float, lat2d: float) -> float:
    """geohashGetLatDistance: the distance along a meridian (haversine with equal
    longitudes reduces to the latitude difference times the radius)."""
    return EARTH_RADIUS_IN_METERS * _fabs(lat2d * D_R - lat1d * D_R)


def geohash_get_distance(lon1d: float, lat1d: float, lon2d: float, lat2d: float) -> float:
    """geohashGetDistance: great-circle distance in meters (haversine).  NaN when rounding
    pushes the haversine term past 1 (nearly antipodal points), as C's asin() answers."""
    lon1r = lon1d * D_R
    lon2r = lon2d * D_R
    v = _sin((lon2r - lon1r) / 2)
    if v == 0.0:
        # Same longitude: skip the expensive part.
        return EARTH_RADIUS_IN_METERS * _fabs(lat2d * D_R - lat1d * D_R)
    lat1r = lat1d * D_R
    lat2r = lat2d * D_R
    u = _sin((lat2r - lat1r) / 2)
    a = u * u + _cos(lat1r) * _cos(lat2r) * v * v
    s = _sqrt(a)
    return 2.0 * EARTH_RADIUS_IN_METERS * (_asin(s) if s <= 1.0 else _NAN)


def geohash_get_distance_if_in_radius(x1: float, y1: float, x2: float, y2: float,
                                      radius: float) -> float | None:
    """geohashGetDistanceIfInRadius: the distance, or None when it is beyond ``radius``."""
    distance = geohash_get_distance(x1, y1, x2, y2)
    if distance > radius:
        return None
    return distance


def geohash_get_distance_if_in_radius_wgs84(x1: float, y1: float, x2: float, y2: float,
                                            radius: float) -> float | None:
    """geohashGetDistanceIfInRadiusWGS84."""
    return geohash_get_distance_if_in_radius(x1, y1, x2, y2, radius)


def geohash_get_distance_if_in_rectangle(width_m: float, height_m: float, x1: float,
                                         y1: float, x2: float, y2: float) -> float | None:
    """geohashGetDistanceIfInRectangle: the distance from the box centre (x1, y1) to the
    point (x2, y2) if the point is inside the box, else None.  Inside means: at most
    height/2 away along the meridian and at most width/2 away along the point's own
    parallel (so the box's sides follow meridians)."""
    # The latitude test is the cheaper one.
    lat_distance = EARTH_RADIUS_IN_METERS * _fabs(y1 * D_R - y2 * D_R)
    if lat_distance > height_m / 2:
        return None
    lon_distance = geohash_get_distance(x2, y2, x1, y2)
    if lon_distance > width_m / 2:
        return None
    return geohash_get_distance(x1, y1, x2, y2)
