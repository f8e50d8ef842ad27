"""CRC-64/Jones, the RDB checksum: the mirror of src/crc64.c (and crcspeed.c's contract).

Redis protects every RDB file (and the RDB preamble of an AOF, and the payload of DUMP)
with a 64-bit CRC in the "Jones" variant:

    polynomial 0xad93d23594c935a9, reflected input and output, initial value 0, no final
    xor.  Check value: crc64(0, b"123456789") == 0xe9c6d914c4b8d9ca.

The CRC is a running value: ``crc64(crc64(0, a), b) == crc64(0, a + b)``, which is how rio
feeds it one write at a time and how the loader checks a file it reads in chunks.

Speed: the work is done by the compiled ``crcmod`` extension (``crcmod._crcfunext``, a
table-driven C loop, about 170 MB/s here) when it is installed.  The pure-Python fallback
below uses the same 256-entry table one byte at a time (about 100 ns a byte, 10 MB/s): fine for
tests, far too slow for a real dataset.

Divergence: Redis computes the CRC with crcspeed's slicing-by-8 tables (several GB/s).  The
result is the same number; only the speed differs.
"""

from __future__ import annotations

__all__ = ["crc64", "py_crc64", "HAVE_COMPILED_CRC64", "CRC64_JONES_POLY"]

# The polynomial as Redis writes it (normal form) and bit-reversed, which is the form a
# reflected, LSB-first table uses.
CRC64_JONES_POLY = 0xAD93D23594C935A9
_POLY_REFLECTED = int(f"{CRC64_JONES_POLY:064b}"[::-1], 2)


def _make_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ _POLY_REFLECTED if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _make_table()


def py_crc64(crc: int, data: bytes | bytearray | memoryview) -> int:
    """crc64() in Python: extend the running CRC ``crc`` over ``data`` (slow, see module doc)."""
    table = _TABLE
    for b in bytes(data):
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc


try:  # pragma: no cover - which branch runs depends on the machine
    import crcmod
    import crcmod._crcfunext  # noqa: F401 - only the compiled extension is worth having

    # crcmod takes the polynomial with its x^64 term; rev=True is the reflected variant.
    _c_crc64 = crcmod.mkCrcFun((1 << 64) | CRC64_JONES_POLY, initCrc=0, rev=True, xorOut=0)
    HAVE_COMPILED_CRC64 = True
except ImportError:  # pragma: no cover
    _c_crc64 = None
    HAVE_COMPILED_CRC64 = False


if _c_crc64 is not None:
    def crc64(crc: int, data: bytes | bytearray | memoryview) -> int:
        """crc64(crc, s, l): extend the running CRC ``crc`` (0 to start) over ``data``."""
        return _c_crc64(data, crc)
else:  # pragma: no cover
    crc64 = py_crc64
