"""GEO commands (geo.py, geohash.py) against Debian's redis-server 7.0.15.

Replies are compared as exact protocol bytes, in RESP2 and RESP3: the 4-decimal distances,
the ``%.17Lf`` coordinates (``,`` doubles in RESP3), the 52-bit hashes, the 11-character
geohash strings and the order of results (equal distances included: the COUNT case runs
Redis's partial quicksort).  After writes, OBJECT ENCODING of the keys involved and DEBUG
DIGEST are compared too; keyspace notifications, the dirty counter and what reaches the AOF
are compared separately.  The command table rows (COMMAND INFO, DOCS hints, GETKEYS) are
checked against the real server, and the geohash primitives get unit tests of their own.
"""

from __future__ import annotations

import glob
import math
import os
import random

import pytest
from conftest import ServerProc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_diff_zset import RawDiff
from test_t_hash import Raw

from tracered import geo, pqsort
from tracered import geohash as gh

PALERMO = ("13.361389", "38.115556", "Palermo")
CATANIA = ("15.087269", "37.502669", "Catania")
SICILY = [*PALERMO, *CATANIA]


@pytest.fixture(params=[2, 3], ids=["resp2", "resp3"])
def d(request, r, rr, tracered_server, redis_server):
    rd = RawDiff(tracered_server.port, redis_server.port, request.param)
    yield rd
    for name, value in (("zset-max-listpack-entries", "128"),
                        ("zset-max-listpack-value", "64"),
                        ("notify-keyspace-events", "")):
        rd.both("CONFIG", "SET", name, value)
    rd.close()


def run_script(d: RawDiff, lines: str, keys=()) -> None:
    """One command per line (whitespace-split, no quoting); ``keys`` are compared by
    OBJECT ENCODING after every step."""
    for line in lines.strip().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            d(*line.split(), keys=keys)


# --------------------------------------------------------------------------------------------
# Hand-written scenarios
# --------------------------------------------------------------------------------------------

BASIC_SCRIPT = """
GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
GEOADD Sicily 13.361389 38.115556 Palermo
ZRANGE Sicily 0 -1 WITHSCORES
TYPE Sicily
GEODIST Sicily Palermo Catania
GEODIST Sicily Palermo Catania m
GEODIST Sicily Palermo Catania km
GEODIST Sicily Palermo Catania MI
GEODIST Sicily Palermo Catania Ft
GEODIST Sicily Palermo Palermo
GEODIST Sicily Palermo Nope
GEODIST Sicily Nope Palermo
GEODIST nokey a b
GEODIST nokey a b parsec
GEODIST Sicily Palermo Catania parsec
GEODIST Sicily Palermo Catania km extra
GEOHASH Sicily Palermo Catania Nope
GEOHASH nokey a b
GEOHASH Sicily
GEOPOS Sicily Palermo Catania Nope
GEOPOS nokey a b
GEOPOS Sicily
GEORADIUS Sicily 15 37 200 km
GEORADIUS Sicily 15 37 200 KM WITHDIST
GEORADIUS Sicily 15 37 200 km WITHCOORD
GEORADIUS Sicily 15 37 200 km WITHHASH
GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH
GEORADIUS Sicily 15 37 200 km WITHCOORD WITHDIST ASC
GEORADIUS Sicily 15 37 200 km WITHDIST DESC
GEORADIUS Sicily 15 37 200 km WITHDIST COUNT 1
GEORADIUS Sicily 15 37 200 km WITHDIST COUNT 1 DESC
GEORADIUS Sicily 15 37 200 km WITHDIST COUNT 1 ANY
GEORADIUS Sicily 15 37 200 km COUNT 5 ANY ASC
GEORADIUS Sicily 15 37 100 km
GEORADIUS Sicily 15 37 100 mi WITHDIST
GEORADIUS Sicily 15 37 0 m
GEORADIUS Sicily 15 37 200000 ft WITHDIST
GEORADIUS_RO Sicily 15 37 200 km WITHDIST WITHCOORD ASC
GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST WITHCOORD WITHHASH
GEORADIUSBYMEMBER Sicily Palermo 100 km
GEORADIUSBYMEMBER Sicily Palermo 0 km WITHDIST
GEORADIUSBYMEMBER_RO Sicily Catania 500 km DESC WITHDIST
GEORADIUSBYMEMBER nokey Palermo 200 km
GEORADIUSBYMEMBER nokey Palermo abc xx
GEORADIUS nokey 15 37 200 km
GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC
GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHCOORD WITHDIST WITHHASH
GEOSEARCH Sicily FROMMEMBER Palermo BYRADIUS 200 km DESC WITHDIST
GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC WITHCOORD WITHDIST
GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 100 400 km ASC WITHDIST
GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 100 km ASC WITHDIST
GEOSEARCH Sicily FROMMEMBER Catania BYBOX 1 1 m WITHDIST
GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 1
GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 400 400 km COUNT 1 ANY WITHHASH
GEOSEARCH Sicily frommember Palermo byradius 300 KM count 2 desc withdist
GEOSEARCH nokey FROMLONLAT 15 37 BYRADIUS 200 km
GEOSEARCH nokey FROMMEMBER nope BYRADIUS 200 km
"""


def test_basic_commands(d):
    run_script(d, BASIC_SCRIPT, keys=("Sicily",))
    d.digest()


ERRORS_SCRIPT = """
SET str x
RPUSH list a
GEOADD str 1 2 m
GEOADD list 1 2 m
GEOPOS str a
GEOHASH str a
GEODIST str a b
GEODIST str a b km
GEORADIUS str 15 37 200 km
GEORADIUSBYMEMBER str a 200 km
GEOSEARCH str FROMLONLAT 15 37 BYRADIUS 200 km
GEOSEARCHSTORE dst str FROMLONLAT 15 37 BYRADIUS 200 km
GEOSEARCHSTORE dst list FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST
GEOADD k 1 2
GEOADD k 1 2 m 3
GEOADD k 1 2 m 3 4
GEOADD k NX XX 1 2 m
GEOADD k XX NX CH 1 2 m
GEOADD k GT 1 2 m
GEOADD k gt 1 2
GEOADD k CH CH CH
GEOADD k NX nx
GEOADD k abc 2 m
GEOADD k 1 abc m
GEOADD k 1 2 m abc 2 n
GEOADD k 1 2 m 181 2 n
GEOADD k 181 2 m
GEOADD k -180.0000001 2 m
GEOADD k 0 85.05112879 m
GEOADD k 0 -85.05112879 m
GEOADD k 0 -90 m
GEOADD k inf 0 m
GEOADD k -inf 0 m
GEOADD k 0 nan m
GEOADD k 1e400 0 m
GEOADD k 1e300 1e300 m
GEOADD k " 1" 0 m
GEOADD k 0x10 0 m
EXISTS k
GEOADD k 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
GEODIST k Palermo Catania
GEORADIUS k 15 37 200 parsec
GEORADIUS k 15 37 -1 km
GEORADIUS k 15 37 abc km
GEORADIUS k 15 37 200
GEORADIUS k 181 37 200 km
GEORADIUS k 15 86 200 km
GEORADIUS k abc 37 200 km
GEORADIUS k 15 abc 200 km
GEORADIUS k 15 37 200 km COUNT
GEORADIUS k 15 37 200 km COUNT 0
GEORADIUS k 15 37 200 km COUNT -5
GEORADIUS k 15 37 200 km COUNT abc
GEORADIUS k 15 37 200 km COUNT 1.5
GEORADIUS k 15 37 200 km ANY
GEORADIUS k 15 37 200 km ANY ASC
GEORADIUS k 15 37 200 km COUNT 0 ANY
GEORADIUS k 15 37 200 km STORE
GEORADIUS k 15 37 200 km STORE dst WITHDIST
GEORADIUS k 15 37 200 km WITHCOORD STOREDIST dst
GEORADIUS k 15 37 200 km WITHHASH STORE dst
GEORADIUS k 15 37 200 km FROMMEMBER Palermo
GEORADIUS k 15 37 200 km BYBOX 1 1 km
GEORADIUS k 15 37 200 km NOSUCH
GEORADIUS_RO k 15 37 200 km STORE dst
GEORADIUS_RO k 15 37 200 km STOREDIST dst
GEORADIUSBYMEMBER k Nope 200 km
GEORADIUSBYMEMBER k Palermo 200 parsec
GEORADIUSBYMEMBER k Palermo -3 km
GEORADIUSBYMEMBER k Nope abc km
GEORADIUSBYMEMBER_RO k Palermo 200 km STORE dst
GEORADIUSBYMEMBER k Palermo 200 km STORE dst WITHDIST
GEOSEARCH k FROMLONLAT 15 37
GEOSEARCH k BYRADIUS 200 km
GEOSEARCH k FROMLONLAT 15 37 FROMMEMBER Palermo BYRADIUS 200 km
GEOSEARCH k FROMMEMBER Palermo FROMLONLAT 15 37 BYRADIUS 200 km
GEOSEARCH k FROMMEMBER Palermo FROMMEMBER Catania BYRADIUS 200 km WITHDIST
GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 200 km BYBOX 1 1 km
GEOSEARCH k FROMLONLAT 15 37 BYBOX 1 1 km BYRADIUS 200 km
GEOSEARCH k FROMMEMBER Nope BYRADIUS 200 km
GEOSEARCH k FROMMEMBER Nope BYRADIUS abc km
GEOSEARCH k FROMLONLAT 200 37 BYRADIUS 200 km
GEOSEARCH k FROMLONLAT 15 37 BYRADIUS -1 km
GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 1 parsec
GEOSEARCH k FROMLONLAT 15 37 BYBOX -1 1 km
GEOSEARCH k FROMLONLAT 15 37 BYBOX 1 -1 km
GEOSEARCH k FROMLONLAT 15 37 BYBOX abc 1 km
GEOSEARCH k FROMLONLAT 15 37 BYBOX 1 abc km
GEOSEARCH k FROMLONLAT 15 37 BYBOX 1 1 parsec
GEOSEARCH k FROMLONLAT 15 37 BYBOX 1 1
GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 1
GEOSEARCH k FROMLONLAT 15 BYRADIUS 1 km
GEOSEARCH k FROMMEMBER
GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 200 km STORE dst
GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST
GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 200 km ANY
GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 200 km COUNT 0
geosearch k FROMLONLAT 15 37 COUNT 1
GeoSearch k BYBOX 1 1 km
GEOSEARCH nokey FROMLONLAT 15 37 BYRADIUS 200 km ANY
GEOSEARCH nokey BYRADIUS 200 km
GEOSEARCHSTORE dst k FROMLONLAT 15 37 BYRADIUS 200 km WITHDIST
GEOSEARCHSTORE dst k FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD STOREDIST
GEOSEARCHSTORE dst k FROMLONLAT 15 37 BYRADIUS 200 km STORE x
GEOSEARCHSTORE dst k FROMLONLAT 15 37
geosearchstore dst k BYRADIUS 200 km
GEOSEARCHSTORE dst k FROMLONLAT 15 37 BYRADIUS 200 km ANY
EXISTS dst
"""


def test_errors(d):
    run_script(d, ERRORS_SCRIPT)
    d.digest()


def test_arity_errors(d):
    for args in (("GEOADD", "k", "1", "2"), ("GEODIST", "k", "a"), ("GEOHASH",),
                 ("GEOPOS",), ("GEORADIUS", "k", "1", "2", "3"),
                 ("GEORADIUS_RO", "k", "1", "2", "3"), ("GEORADIUSBYMEMBER", "k", "m", "1"),
                 ("GEORADIUSBYMEMBER_RO", "k", "m", "1"),
                 ("GEOSEARCH", "k", "FROMMEMBER", "m", "BYRADIUS", "1"),
                 ("GEOSEARCHSTORE", "d", "k", "FROMMEMBER", "m", "BYRADIUS", "1")):
        d(*args)


EDGE_SCRIPT = """
GEOADD e 180 85.05112878 ne -180 -85.05112878 sw 180 -85.05112878 se -180 85.05112878 nw
GEOADD e 0 0 origin 179.9999 0 east1 -179.9999 0 west1 179.5 0.5 east2 -179.5 -0.5 west2
GEOADD e 0 85 north 0 -85 south 90 84.9 n2 -90 -84.9 s2 -0 -0 negzero
GEOADD e 0.000001 0.000001 tiny 1e-300 -1e-300 tinier
ZRANGE e 0 -1 WITHSCORES
GEOPOS e ne sw se nw origin east1 west1 north south negzero tiny tinier
GEOHASH e ne sw se nw origin east1 west1 north south negzero tiny tinier
GEODIST e ne sw
GEODIST e east1 west1 m
GEODIST e east2 west2 km
GEODIST e north south km
GEODIST e ne nw
GEOSEARCH e FROMLONLAT 180 0 BYRADIUS 500 km ASC WITHCOORD WITHDIST WITHHASH
GEOSEARCH e FROMLONLAT -180 0 BYRADIUS 500 km ASC WITHCOORD WITHDIST WITHHASH
GEOSEARCH e FROMLONLAT 180 0 BYBOX 500 500 km ASC WITHCOORD WITHDIST
GEOSEARCH e FROMLONLAT -180 0 BYBOX 200 200 km DESC WITHDIST
GEOSEARCH e FROMMEMBER east1 BYRADIUS 100 km ASC WITHDIST
GEOSEARCH e FROMMEMBER west2 BYBOX 300 300 km ASC WITHDIST
GEOSEARCH e FROMMEMBER ne BYRADIUS 1000 km ASC WITHDIST WITHCOORD
GEOSEARCH e FROMMEMBER sw BYRADIUS 1000 km ASC WITHDIST WITHCOORD
GEOSEARCH e FROMLONLAT 0 85.05112878 BYRADIUS 5000 km ASC WITHDIST
GEOSEARCH e FROMLONLAT 0 -85.05112878 BYRADIUS 5000 km ASC WITHDIST
GEOSEARCH e FROMLONLAT 0 84 BYBOX 3000 3000 km ASC WITHDIST
GEOSEARCH e FROMLONLAT 45 -70 BYBOX 10000 3000 km ASC WITHDIST
GEOSEARCH e FROMLONLAT 0 0 BYRADIUS 20000 km ASC WITHDIST
GEOSEARCH e FROMLONLAT 0 0 BYRADIUS 50000 km DESC WITHDIST
GEOSEARCH e FROMLONLAT 0 0 BYBOX 40000 40000 km ASC WITHDIST
GEOSEARCH e FROMLONLAT 0 0 BYRADIUS 0 m WITHDIST
GEOSEARCH e FROMLONLAT 0 0 BYRADIUS 0.1 m WITHDIST
GEOSEARCH e FROMLONLAT 0 0 BYBOX 0 0 m WITHDIST
GEOSEARCH e FROMLONLAT 0 0 BYRADIUS inf m WITHDIST
GEOSEARCH e FROMLONLAT 0 0 BYBOX inf 1 m WITHDIST
GEOSEARCH e FROMLONLAT 0 0 BYBOX 1e308 1e308 mi WITHDIST
GEOSEARCH e FROMLONLAT -0 -0 BYRADIUS -0 m WITHDIST
GEOSEARCH e FROMLONLAT 180 85.05112878 BYRADIUS 1 m WITHDIST
GEORADIUS e 180 85.05112878 50000 km WITHDIST COUNT 3
GEORADIUS e -180 -85.05112878 50000 km WITHDIST COUNT 3 DESC
GEORADIUSBYMEMBER e origin 10000 km WITHDIST WITHHASH
"""


def test_edge_coordinates(d):
    run_script(d, EDGE_SCRIPT, keys=("e",))
    d.digest()


NON_GEO_SCRIPT = """
ZADD z -1 neg inf pinf 1e30 huge 1.5 frac -inf ninf 1e19 big 4503599627370496 p52
ZADD z 9007199254740993 p53 0 zero 18014398509481984 p54 3.7 frac2 -3.7 nfrac
GEOPOS z neg pinf huge frac ninf big p52 p53 zero p54 frac2 nfrac
GEOHASH z neg pinf huge frac ninf big p52 p53 zero p54 frac2 nfrac
GEODIST z neg pinf km
GEODIST z frac big
GEORADIUS z 0 0 100 km WITHHASH WITHCOORD WITHDIST
GEOSEARCH z FROMLONLAT 0 0 BYRADIUS 30000 km WITHHASH WITHCOORD WITHDIST
GEOSEARCH z FROMMEMBER nfrac BYRADIUS 30000 km WITHHASH WITHDIST
GEOSEARCH z FROMMEMBER pinf BYBOX 100 100 km WITHHASH WITHDIST
GEOSEARCHSTORE dst z FROMMEMBER pinf BYRADIUS 40000 km
ZRANGE dst 0 -1 WITHSCORES
"""


def test_non_geo_scores(d):
    """A sorted set filled by ZADD: any score decodes (C's double -> uint64 included)."""
    run_script(d, NON_GEO_SCRIPT, keys=("z",))
    d.digest()


STORE_SCRIPT = """
GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
GEOADD Sicily 13.583333 37.316667 Agrigento 14.015 37.49 Caltanissetta 12.5 37.8 Marsala
GEORADIUS Sicily 15 37 200 km STORE dst
ZRANGE dst 0 -1 WITHSCORES
GEORADIUS Sicily 15 37 200 km STOREDIST dst
ZRANGE dst 0 -1 WITHSCORES
GEORADIUS Sicily 15 37 200 km STORE a STOREDIST dst2
ZRANGE dst2 0 -1 WITHSCORES
EXISTS a
GEORADIUS Sicily 15 37 200 km STOREDIST a STORE dst3
ZRANGE dst3 0 -1 WITHSCORES
GEORADIUS Sicily 15 37 300 mi COUNT 2 DESC STOREDIST dst
ZRANGE dst 0 -1 WITHSCORES
GEORADIUS Sicily 15 37 300 km COUNT 2 ANY STORE dst
ZRANGE dst 0 -1 WITHSCORES
GEORADIUSBYMEMBER Sicily Palermo 100 km STORE dst
ZRANGE dst 0 -1 WITHSCORES
GEORADIUSBYMEMBER Sicily Palermo 100 km store dst storedist dst4
ZRANGE dst4 0 -1 WITHSCORES
GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC COUNT 3
ZRANGE dst 0 -1 WITHSCORES
GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYBOX 400 400 km ASC COUNT 3 STOREDIST
ZRANGE dst 0 -1 WITHSCORES
GEOSEARCHSTORE dst Sicily FROMMEMBER Palermo BYRADIUS 500 ft STOREDIST
ZRANGE dst 0 -1 WITHSCORES
GEOSEARCHSTORE Sicily Sicily FROMMEMBER Palermo BYRADIUS 100 km
ZRANGE Sicily 0 -1 WITHSCORES
SET str value
EXPIRE dst 1000
GEOSEARCHSTORE dst Sicily FROMLONLAT 13 38 BYRADIUS 500 km STOREDIST
TTL dst
GEOSEARCHSTORE str Sicily FROMLONLAT 13 38 BYRADIUS 500 km
TYPE str
GEOSEARCHSTORE dst Sicily FROMLONLAT 0 0 BYRADIUS 1 km
EXISTS dst
GEOSEARCHSTORE str Sicily FROMLONLAT 0 0 BYRADIUS 1 km
EXISTS str
GEORADIUS Sicily 0 0 1 km STORE dst2
EXISTS dst2
GEOSEARCHSTORE dst3 nokey FROMLONLAT 0 0 BYRADIUS 1 km
EXISTS dst3
GEORADIUS nokey 0 0 1 km STORE dst4
EXISTS dst4
GEORADIUSBYMEMBER nokey m 1 km STOREDIST a
GEORADIUSBYMEMBER nokey m abc km
GEOSEARCHSTORE x nokey FROMMEMBER m BYRADIUS 1 km
GEOSEARCHSTORE x nokey FROMMEMBER m BYRADIUS 1 km WITHDIST
"""


def test_store_and_storedist(d):
    run_script(d, STORE_SCRIPT, keys=("Sicily", "dst", "dst2", "dst3", "dst4", "a"))
    d.digest()


def test_geoadd_options(d):
    run_script(d, """
GEOADD g 13.361389 38.115556 Palermo
GEOADD g NX 13 38 Palermo 15.087269 37.502669 Catania
GEOADD g XX 13 38 Palermo 1 1 nope
GEOADD g XX CH 13 38 Palermo 1 1 nope
GEOADD g CH 13 38 Palermo 14 38 Palermo 12 37 new
GEOADD g CH XX 13 38 Palermo
GEOADD g CH NX 13 38 Palermo
GEOADD g nx ch 13 38 other
GEOADD nokey XX 1 1 a
EXISTS nokey
GEOPOS g Palermo Catania nope new other
ZRANGE g 0 -1 WITHSCORES
""", keys=("g",))
    d.digest()


def _points(rnd: random.Random, n: int, center=(13.0, 38.0), spread=2.0) -> list[str]:
    out = []
    for i in range(n):
        lon = max(-180.0, min(180.0, center[0] + rnd.uniform(-spread, spread)))
        lat = max(-85.0, min(85.0, center[1] + rnd.uniform(-spread, spread)))
        out += ["%.6f" % lon, "%.6f" % lat, "p%d" % i]
    return out


@pytest.mark.parametrize("entries", ["128", "0"], ids=["listpack", "skiplist"])
def test_encodings_and_conversion(d, entries):
    """The same searches over a listpack and over a skiplist, through the conversion."""
    d("CONFIG", "SET", "zset-max-listpack-entries", entries)
    rnd = random.Random(11)
    pts = _points(rnd, 200)
    d("GEOADD", "g", *pts[:100 * 3], keys=("g",))
    d("GEOADD", "g", *pts[100 * 3:], keys=("g",))
    for args in (("FROMLONLAT", "13", "38", "BYRADIUS", "80", "km", "ASC"),
                 ("FROMLONLAT", "13", "38", "BYBOX", "150", "100", "km", "DESC", "WITHDIST"),
                 ("FROMMEMBER", "p7", "BYRADIUS", "50", "mi", "COUNT", "10", "WITHCOORD"),
                 ("FROMMEMBER", "p8", "BYRADIUS", "500", "km", "COUNT", "10", "ANY")):
        d("GEOSEARCH", "g", *args)
    d("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "13", "38", "BYRADIUS", "60", "km",
      keys=("dst",))
    d("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "13", "38", "BYRADIUS", "600", "km",
      "STOREDIST", keys=("dst",))
    d("CONFIG", "SET", "zset-max-listpack-value", "3")
    d("GEOSEARCHSTORE", "dst", "g", "FROMLONLAT", "13", "38", "BYRADIUS", "60", "km",
      keys=("dst",))
    d("GEOADD", "h", "1", "1", "a-long-member", keys=("h",))
    d.digest()


def test_equal_distances_and_count(d):
    """Many members on a few identical spots: the order of ties with and without COUNT
    (qsort's stable merge sort vs pqsort) and the COUNT ANY cut-off."""
    rnd = random.Random(7)
    spots = [(10, 10), (10.001, 10), (10, 10.002), (9.999, 9.999), (10.0005, 10.0005),
             (10.01, 10.01)]
    pts = []
    for i in range(150):
        lon, lat = spots[rnd.randrange(len(spots))]
        pts += [str(lon), str(lat), "m%d" % i]
    d("GEOADD", "t", *pts[:100 * 3], keys=("t",))
    d("GEOADD", "s", *pts, keys=("s",))
    for key in ("t", "s"):
        for cnt in (1, 2, 6, 7, 8, 13, 40, 41, 60, 99, 100, 149, 150, 200):
            for order in ("ASC", "DESC"):
                d("GEOSEARCH", key, "FROMLONLAT", "10", "10", "BYRADIUS", "100", "km", order,
                  "COUNT", cnt, "WITHDIST")
            d("GEOSEARCH", key, "FROMLONLAT", "10", "10", "BYRADIUS", "100", "km", "COUNT",
              cnt, "ANY")
            d("GEOSEARCH", key, "FROMLONLAT", "10", "10", "BYRADIUS", "100", "km", "COUNT",
              cnt, "ANY", "DESC", "WITHDIST")
        for order in ("ASC", "DESC"):
            d("GEOSEARCH", key, "FROMLONLAT", "10", "10", "BYRADIUS", "100", "km", order)
        d("GEOSEARCH", key, "FROMLONLAT", "10", "10", "BYRADIUS", "100", "km")
        d("GEOSEARCHSTORE", "st", key, "FROMLONLAT", "10", "10", "BYRADIUS", "100", "km",
          "COUNT", "30", "STOREDIST", keys=("st",))
        d("ZRANGE", "st", "0", "-1", "WITHSCORES")
    d.digest()


def test_huge_radius_world(d):
    """Points all over the world and radii up to beyond the antipode: the neighbour cells
    coincide and are skipped, the step drops to 1."""
    rnd = random.Random(5)
    pts = _points(rnd, 120, center=(0.0, 0.0), spread=180.0)
    d("GEOADD", "w", *pts, keys=("w",))
    for radius in ("1000", "5000", "10000", "15000", "19000", "20000", "20100", "30000"):
        d("GEOSEARCH", "w", "FROMLONLAT", "0", "0", "BYRADIUS", radius, "km", "ASC",
          "WITHDIST")
        d("GEOSEARCH", "w", "FROMMEMBER", "p3", "BYRADIUS", radius, "km", "DESC",
          "COUNT", "7", "WITHDIST", "WITHHASH")
        d("GEOSEARCH", "w", "FROMLONLAT", "170", "60", "BYBOX", radius, radius, "km",
          "WITHCOORD")
    d.digest()


# --------------------------------------------------------------------------------------------
# Writes: notifications, dirty counter, AOF
# --------------------------------------------------------------------------------------------

WRITES = [
    ("GEOADD", "k", *SICILY),
    ("GEOADD", "k", *PALERMO),
    ("GEOADD", "k", "CH", "13", "38", "Palermo"),
    ("GEOADD", "k", "XX", "1", "1", "nope"),
    ("GEORADIUS", "k", "15", "37", "200", "km", "STORE", "r1"),
    ("GEORADIUS", "k", "15", "37", "200", "km", "STOREDIST", "r1"),
    ("GEORADIUS", "k", "15", "37", "200", "km"),
    ("GEORADIUSBYMEMBER", "k", "Palermo", "300", "km", "STORE", "r2"),
    ("GEORADIUS", "k", "0", "0", "1", "km", "STORE", "r2"),
    ("GEORADIUS", "k", "0", "0", "1", "km", "STORE", "r2"),
    ("GEOSEARCHSTORE", "r3", "k", "FROMMEMBER", "Catania", "BYRADIUS", "300", "km"),
    ("GEOSEARCHSTORE", "r3", "k", "FROMMEMBER", "Catania", "BYRADIUS", "3", "km",
     "STOREDIST"),
    ("GEOSEARCHSTORE", "r3", "k", "FROMLONLAT", "0", "0", "BYRADIUS", "3", "km"),
    ("GEOSEARCHSTORE", "r3", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "3", "km"),
    ("SET", "r4", "x"),
    ("GEOSEARCHSTORE", "r4", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "3", "km"),
    ("SET", "r4", "x"),
    ("GEORADIUS", "nokey", "0", "0", "3", "km", "STOREDIST", "r4"),
    ("GEOADD", "k", "1", "2", "m", "200", "0", "bad"),
]


def _dirty(raw: Raw) -> int:
    info = raw("INFO", "persistence").decode()
    for line in info.split("\r\n"):
        if line.startswith("rdb_changes_since_last_save:"):
            return int(line.split(":")[1])
    raise AssertionError("no rdb_changes_since_last_save in INFO")


def test_dirty_counting(d):
    """Each write moves the dirty counter (what makes call() propagate) as in Redis."""
    for args in WRITES:
        before = (_dirty(d.t), _dirty(d.ref))
        d(*args)
        after = (_dirty(d.t), _dirty(d.ref))
        assert after[0] - before[0] == after[1] - before[1], args
    d.digest()


def _drain_until_pong(sub: Raw) -> list[bytes]:
    sub.sock.sendall(b"*1\r\n$4\r\nPING\r\n")
    out = []
    while True:
        msg = sub._reply()
        if msg in (b"*2\r\n$4\r\npong\r\n$0\r\n\r\n", b"+PONG\r\n"):
            return out
        out.append(msg)


def test_keyspace_notifications(d, tracered_server, redis_server):
    d("CONFIG", "SET", "notify-keyspace-events", "KEA")
    subs = [Raw(tracered_server.port), Raw(redis_server.port)]
    try:
        for s in subs:
            s("PSUBSCRIBE", "__key*__:*")
        for args in WRITES:
            d(*args)
        got = [_drain_until_pong(s) for s in subs]
        assert got[0] == got[1]
        assert any(b"georadiusstore" in m for m in got[0])
        assert any(b"geosearchstore" in m for m in got[0])
        assert any(b"zadd" in m for m in got[0])
    finally:
        for s in subs:
            s.close()


def _incr_aof(workdir: str) -> bytes:
    files = sorted(glob.glob(os.path.join(workdir, "appendonlydir", "*.incr.aof")))
    assert files, os.listdir(workdir)
    with open(files[-1], "rb") as f:
        return f.read()


def test_propagation_to_aof():
    """GEOADD reaches the AOF as the ZADD it runs; searches with STORE as themselves;
    read-only searches and no-op writes not at all.  Same bytes as redis-server's AOF."""
    args = ("--appendonly", "yes", "--appendfsync", "always")
    t = ServerProc.start_tracered(*args)
    try:
        ref = ServerProc.start_redis(*args)
        try:
            rd = RawDiff(t.port, ref.port, 2)
            try:
                for cmd in WRITES:
                    rd(*cmd)
                rd("MULTI")
                rd("GEOADD", "k", "2", "2", "two")
                rd("GEOSEARCH", "k", "FROMLONLAT", "2", "2", "BYRADIUS", "1", "km")
                rd("GEOSEARCHSTORE", "m1", "k", "FROMLONLAT", "2", "2", "BYRADIUS", "1", "km")
                rd("EXEC")
                rd("EVAL", "return redis.call('GEOADD', KEYS[1], 3, 3, 'three')", "1", "k")
                rd.digest()
            finally:
                rd.close()
            ours, theirs = _incr_aof(t.workdir), _incr_aof(ref.workdir)
        finally:
            ref.stop()
    finally:
        t.stop()
    assert b"$4\r\nzadd\r\n" in ours
    assert b"GEORADIUS" in ours and b"GEOSEARCHSTORE" in ours
    assert ours == theirs


# --------------------------------------------------------------------------------------------
# The command table
# --------------------------------------------------------------------------------------------

GEO_COMMANDS = ["geoadd", "geodist", "geohash", "geopos", "georadius", "georadius_ro",
                "georadiusbymember", "georadiusbymember_ro", "geosearch", "geosearchstore"]


def test_command_info_matches_redis(d):
    for name in GEO_COMMANDS:
        d("COMMAND", "INFO", name)


@pytest.mark.parametrize("args", [
    ("georadius", "k", "1", "2", "3", "m", "STORE", "dst"),
    ("georadius", "k", "1", "2", "3", "m", "STOREDIST", "dst"),
    ("georadius", "k", "1", "2", "3", "m", "STORE", "a", "STOREDIST", "b"),
    ("georadius", "k", "1", "2", "3", "m", "WITHDIST", "store", "a"),
    ("georadius", "k", "1", "2", "3", "m", "STORE"),
    ("georadius", "k", "1", "2", "3", "m"),
    ("georadiusbymember", "k", "m", "3", "m", "STORE", "a"),
    ("georadiusbymember", "k", "m", "3", "m", "COUNT", "3", "STOREDIST", "a"),
    ("georadius_ro", "k", "1", "2", "3", "m"),
    ("georadiusbymember_ro", "k", "m", "3", "m"),
    ("geosearch", "k", "FROMMEMBER", "m", "BYRADIUS", "1", "m"),
    ("geosearchstore", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "m"),
    ("geoadd", "k", "1", "2", "m"),
    ("geodist", "k", "a", "b"),
    ("geohash", "k", "a"),
    ("geopos", "k", "a"),
], ids=lambda a: " ".join(a))
@pytest.mark.parametrize("sub", ["GETKEYS", "GETKEYSANDFLAGS"])
def test_command_getkeys_matches_redis(d, sub, args):
    d("COMMAND", sub, *args)


def test_georadius_get_keys_proc():
    f = geo.georadius_get_keys
    assert f([b"georadius", b"k", b"1", b"2", b"3", b"m"]) == [1]
    assert f([b"georadius", b"k", b"1", b"2", b"3", b"m", b"STORE", b"d"]) == [1, 7]
    assert f([b"georadius", b"k", b"1", b"2", b"3", b"m", b"store", b"a", b"storedist",
              b"b"]) == [1, 9]
    assert f([b"georadiusbymember", b"k", b"m", b"3", b"m", b"STOREDIST", b"d"]) == [1, 6]
    assert f([b"georadius", b"k", b"1", b"2", b"3", b"m", b"STORE"]) == [1]


def test_command_list_and_docs_match_redis(tracered_server, redis_server):
    from test_command_cmd import Raw as HRaw
    from test_command_cmd import _cli_params, _pairs

    t, ref = HRaw(tracered_server.port), HRaw(redis_server.port)
    try:
        cat = ("COMMAND", "LIST", "FILTERBY", "ACLCAT", "geo")
        assert sorted(t.call(*cat)) == sorted(ref.call(*cat)) == \
            sorted(n.encode() for n in GEO_COMMANDS)
        for name in GEO_COMMANDS:
            ours = _pairs(t.call("COMMAND", "DOCS", name)[1])
            theirs = _pairs(ref.call("COMMAND", "DOCS", name)[1])
            for field in (b"summary", b"since", b"group", b"complexity", b"doc_flags",
                          b"deprecated_since", b"replaced_by", b"history"):
                assert ours.get(field) == theirs.get(field), (name, field)
            assert _cli_params(ours[b"arguments"]) == _cli_params(theirs[b"arguments"]), name
    finally:
        t.close()
        ref.close()


# --------------------------------------------------------------------------------------------
# Random differential tests
# --------------------------------------------------------------------------------------------

def _random_search(rnd: random.Random, key: str, members: list[str]) -> list[str]:
    if rnd.random() < 0.5 or not members:
        center = ["FROMLONLAT", "%.5f" % rnd.uniform(-180, 180),
                  "%.5f" % rnd.uniform(-85.05, 85.05)]
    else:
        center = ["FROMMEMBER", rnd.choice(members)]
    unit = rnd.choice(["m", "km", "ft", "mi", "KM"])
    scale = {"m": 1000, "km": 1, "ft": 3280.84, "mi": 0.621371, "KM": 1}[unit]
    size = rnd.choice([1, 10, 100, 500, 2000, 8000, 21000])
    if rnd.random() < 0.5:
        shape = ["BYRADIUS", "%g" % (size * scale * rnd.uniform(0.5, 1.5)), unit]
    else:
        shape = ["BYBOX", "%g" % (size * scale * rnd.uniform(0.5, 2)),
                 "%g" % (size * scale * rnd.uniform(0.5, 2)), unit]
    opts: list[str] = []
    opts += rnd.choice([[], ["ASC"], ["DESC"]])
    if rnd.random() < 0.5:
        opts += ["COUNT", str(rnd.choice([1, 2, 3, 5, 10, 50]))]
        if rnd.random() < 0.4:
            opts.append("ANY")
    for w in ("WITHCOORD", "WITHDIST", "WITHHASH"):
        if rnd.random() < 0.4:
            opts.append(w)
    if "COUNT" not in opts:
        rnd.shuffle(opts)
    return ["GEOSEARCH", key, *center, *shape, *opts]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_geoadd_and_search(d, seed):
    """Seeded random clustered and world-wide points (duplicates included) and random
    searches of every shape, unit and option, on a listpack and on a skiplist."""
    rnd = random.Random(seed)
    d.both("FLUSHALL")
    members = []
    for key, n in (("small", 60), ("big", 300)):
        pts = []
        for _ in range(n):
            if rnd.random() < 0.7:
                lon = rnd.gauss(2.35, 3.0)
                lat = rnd.gauss(48.85, 2.0)
            else:
                lon = rnd.uniform(-180, 180)
                lat = rnd.uniform(-85.05112878, 85.05112878)
            lon = max(-180.0, min(180.0, lon))
            lat = max(-85.05112878, min(85.05112878, lat))
            if pts and rnd.random() < 0.1:
                lon, lat = float(pts[-3]), float(pts[-2])  # same spot, other member
            name = "m%d" % rnd.randrange(n * 2)
            pts += ["%.6f" % lon, "%.6f" % lat, name]
            members.append(name)
        for i in range(0, len(pts), 90):
            d("GEOADD", key, *pts[i:i + 90], keys=(key,))
    for _ in range(60):
        key = rnd.choice(["small", "big"])
        d(*_random_search(rnd, key, members))
    for _ in range(10):
        key = rnd.choice(["small", "big"])
        search = _random_search(rnd, key, members)
        opts = [o for o in search[2:] if o not in ("WITHCOORD", "WITHDIST", "WITHHASH")]
        if rnd.random() < 0.5:
            opts.append("STOREDIST")
        d("GEOSEARCHSTORE", "dst", key, *opts, keys=("dst",))
        d("ZRANGE", "dst", "0", "-1", "WITHSCORES")
    a, b = rnd.sample(members, 2)
    for key in ("small", "big"):
        d("GEODIST", key, a, b, "km")
        d("GEOPOS", key, a, b)
        d("GEOHASH", key, a, b)
    d.digest()


coord_lon = st.one_of(st.floats(-180, 180, allow_nan=False),
                      st.sampled_from([-180.0, 180.0, 0.0, -0.0, 179.99999, -179.99999]))
coord_lat = st.one_of(st.floats(-85.05112878, 85.05112878, allow_nan=False),
                      st.sampled_from([-85.05112878, 85.05112878, 0.0, 66.5, -80.5]))
geo_member = st.sampled_from(["a", "b", "c", "d", "e", "f", "g", "12", "-7"])


@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(points=st.lists(st.tuples(coord_lon, coord_lat, geo_member), min_size=1,
                       max_size=12),
       center=st.tuples(coord_lon, coord_lat),
       radius=st.sampled_from(["0", "1", "1000", "250000", "5000000", "20037726"]),
       box=st.tuples(st.sampled_from(["1", "3000", "800000"]),
                     st.sampled_from(["2", "9000", "4000000"])),
       count=st.sampled_from([(), ("COUNT", "1"), ("COUNT", "3", "ANY"), ("COUNT", "100")]),
       order=st.sampled_from([(), ("ASC",), ("DESC",)]))
def test_hypothesis_geoadd_geosearch(d, points, center, radius, box, count, order):
    d.both("FLUSHALL")
    args = []
    for lon, lat, m in points:
        args += [repr(lon), repr(lat), m]
    d("GEOADD", "h", *args, keys=("h",))
    lon, lat = repr(center[0]), repr(center[1])
    with_all = ("WITHCOORD", "WITHDIST", "WITHHASH")
    d("GEOSEARCH", "h", "FROMLONLAT", lon, lat, "BYRADIUS", radius, "m", *order, *count,
      *with_all)
    d("GEOSEARCH", "h", "FROMLONLAT", lon, lat, "BYBOX", *box, "m", *order, *count,
      *with_all)
    d("GEOSEARCH", "h", "FROMMEMBER", points[0][2], "BYRADIUS", radius, "m", *order,
      *count, "WITHDIST")
    d("GEORADIUS", "h", lon, lat, radius, "m", *order, *count, "WITHDIST", "WITHCOORD")
    d("GEOPOS", "h", *{p[2] for p in points})
    d("GEOHASH", "h", *{p[2] for p in points})
    d.digest()


# --------------------------------------------------------------------------------------------
# Unit tests of the geohash primitives
# --------------------------------------------------------------------------------------------

def test_interleave_round_trip():
    rnd = random.Random(3)
    for _ in range(2000):
        x = rnd.getrandbits(32)
        y = rnd.getrandbits(32)
        bits = gh.interleave64(x, y)
        assert bits < 1 << 64
        assert gh.deinterleave64(bits) == x | (y << 32)
        # Even bits carry x, odd bits y.
        assert sum(((bits >> (2 * i)) & 1) << i for i in range(32)) == x
    assert gh.interleave64(1, 0) == 1 and gh.interleave64(0, 1) == 2


def test_encode_decode_palermo():
    h = gh.geohash_encode_wgs84(13.361389, 38.115556, 26)
    score = gh.geohash_align_52bits(h)
    assert score == 3479099956230698  # ZSCORE Sicily Palermo on redis-server
    lon, lat = geo.decode_geohash(float(score))
    assert abs(lon - 13.361389) < 1e-5 and abs(lat - 38.115556) < 1e-5
    area = gh.geohash_decode_wgs84(h)
    assert area.longitude.min <= 13.361389 <= area.longitude.max
    assert area.latitude.min <= 38.115556 <= area.latitude.max
    assert gh.geohash_encode_wgs84(181, 0, 26) is None
    assert gh.geohash_encode_wgs84(0, 85.06, 26) is None
    assert gh.geohash_encode_wgs84(0, 0, 0) is None
    assert gh.geohash_decode_wgs84(gh.GeoHashBits(0, 0)) is None


def test_neighbors_wrap_around_the_antimeridian():
    h = gh.geohash_encode_wgs84(179.9, 0.1, 10)
    n = gh.geohash_neighbors(h)
    east = gh.geohash_decode_wgs84(n.east)
    west = gh.geohash_decode_wgs84(n.west)
    center = gh.geohash_decode_wgs84(h)
    assert east.longitude.min == -180.0          # wrapped
    assert west.longitude.max == center.longitude.min
    north = gh.geohash_decode_wgs84(n.north)
    assert north.latitude.min == center.latitude.max
    ne = gh.geohash_decode_wgs84(n.north_east)
    assert ne.latitude.min == center.latitude.max and ne.longitude.min == -180.0
    for cell in (n.north, n.south, n.east, n.west, n.north_east, n.north_west,
                 n.south_east, n.south_west):
        assert cell.step == 10 and cell.bits < 1 << 20


def test_estimate_steps_and_areas():
    assert gh.geohash_estimate_steps_by_radius(0, 0) == 26
    assert gh.geohash_estimate_steps_by_radius(1, 0) == 24
    assert gh.geohash_estimate_steps_by_radius(0.1, 0) == 26
    assert gh.geohash_estimate_steps_by_radius(1e9, 0) == 1
    assert gh.geohash_estimate_steps_by_radius(math.inf, 0) == 1
    s = gh.geohash_estimate_steps_by_radius(10000, 0)
    assert gh.geohash_estimate_steps_by_radius(10000, 70) == s - 1
    assert gh.geohash_estimate_steps_by_radius(10000, -81) == s - 2
    shape = gh.GeoShape()
    shape.type = gh.CIRCULAR_TYPE
    shape.xy = [13.361389, 38.115556]
    shape.radius = 100
    shape.conversion = 1000.0
    radius = gh.geohash_calculate_areas_by_shape_wgs84(shape)
    min_lon, min_lat, max_lon, max_lat = shape.bounds
    assert min_lon < 13.361389 < max_lon and min_lat < 38.115556 < max_lat
    # The centre cell plus the non-zeroed neighbours cover the bounding box.
    cells = [radius.hash] + [getattr(radius.neighbors, f) for f in
                             gh.GeoHashNeighbors.__slots__]
    areas = [gh.geohash_decode_wgs84(c) for c in cells if not c.is_zero()]
    assert min(a.longitude.min for a in areas) <= min_lon
    assert max(a.longitude.max for a in areas) >= max_lon
    assert min(a.latitude.min for a in areas) <= min_lat
    assert max(a.latitude.max for a in areas) >= max_lat


def test_distances():
    d = gh.geohash_get_distance(13.361389, 38.115556, 15.087269, 37.502669)
    assert 166270 < d < 166280
    assert gh.geohash_get_distance(1, 2, 1, 2) == 0.0
    quarter = gh.geohash_get_distance(0, 0, 90, 0)
    assert quarter == pytest.approx(math.pi / 2 * gh.EARTH_RADIUS_IN_METERS)
    assert gh.geohash_get_distance_if_in_radius(0, 0, 0, 1, 1000) is None
    assert gh.geohash_get_distance_if_in_radius(0, 0, 0, 0.001, 1000) is not None
    assert gh.geohash_get_distance_if_in_rectangle(1000, 3000, 0, 0, 0, 0.01) is not None
    assert gh.geohash_get_distance_if_in_rectangle(3000, 1000, 0, 0, 0, 0.01) is None


def test_double_conversions_like_x86():
    f = gh.double_to_uint64
    assert f(1.9) == 1
    assert f(-1.0) == (1 << 64) - 1
    assert f(math.inf) == 0 and f(1e30) == 0
    assert f(-math.inf) == 1 << 63 and f(math.nan) == 1 << 63
    assert f(1e19) == int(1e19)
    assert geo.double_distance(166274.15156960033) == b"166274.1516"
    assert geo.double_distance(0.0) == b"0.0000"
    assert geo.double_distance(-0.00004) == b"0.0000"
    assert geo.double_distance(math.nan) == b"-922337203685477.5808"


def _gp(dist: float, name: str) -> geo.GeoPoint:
    return geo.GeoPoint(0.0, 0.0, dist, 0.0, name.encode())


def test_pqsort_puts_the_smallest_first():
    rnd = random.Random(9)
    for n in (1, 5, 7, 8, 40, 41, 100, 300):
        for k in sorted({1, 2, n // 2 or 1, n}):
            pts = [_gp(float(rnd.randrange(20)), str(i)) for i in range(n)]
            want = sorted(p.dist for p in pts)[:k]
            pqsort.pqsort(pts, len(pts), geo.sort_gp_asc, 0, k - 1)
            assert [p.dist for p in pts[:k]] == want
            assert sorted(p.member for p in pts) == sorted(str(i).encode() for i in range(n))


def test_msort_is_stable_and_total_on_nan():
    pts = [_gp(d, str(i)) for i, d in enumerate([3.0, 1.0, 2.0, 1.0, 3.0, 0.5])]
    geo._msort(pts, geo.sort_gp_asc)
    assert [p.member for p in pts] == [b"5", b"1", b"3", b"2", b"0", b"4"]
    pts = [_gp(d, str(i)) for i, d in enumerate([2.0, math.nan, 1.0])]
    geo._msort(pts, geo.sort_gp_asc)
    assert len(pts) == 3
