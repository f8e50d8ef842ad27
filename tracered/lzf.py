"""LZF compression in liblzf's format, as Redis uses it (mirror of src/lzf_c.c and src/lzf_d.c).

Redis compresses quicklist nodes (``list-compress-depth``) and RDB strings
(``rdbcompression yes``) with Marc Lehmann's liblzf 3.6.  The format is a stream of
control bytes:

* ``000LLLLL`` + L+1 literal bytes (a run of 1..32 bytes copied as is);
* ``LLLooooo oooooooo`` a back reference: copy L+2 bytes (L = 1..6) from ``o+1`` bytes back;
* ``111ooooo LLLLLLLL oooooooo`` the same with a length of L+9 (up to 264 bytes).

The window is 8 KiB.  There is no header and no stored length: the caller keeps the
uncompressed size (quicklist node ``sz``, the RDB string header) and passes it to
``lzf_decompress``.

Speed: the work is done by the compiled ``python-lzf`` package (liblzf 3.6 in C, the same
code and settings Redis ships: HLOG 16, VERY_FAST) when it is installed.  Without it the
pure-Python fallback below is used; it produces the same bytes but compresses at about
2-3 MB/s and decompresses at about 10 MB/s (the C codec: ~400 MB/s), which is acceptable for
tests and small lists, not for a loaded server.

Divergence: liblzf does not clear its hash table between calls (INIT_HTAB 0), so in C a stale
slot can occasionally point into the input and yield a different but equally valid match.
The pure-Python compressor starts from an empty table each time, which is what liblzf
produces whenever no stale slot happens to line up.  Any of these outputs decompresses to
the same bytes with any LZF decoder, including Redis's.
"""

from __future__ import annotations

__all__ = ["lzf_compress", "lzf_decompress", "py_lzf_compress", "py_lzf_decompress",
           "HAVE_COMPILED_LZF"]

try:  # pragma: no cover - which branch runs depends on the machine
    import lzf as _clzf  # python-lzf: liblzf 3.6 compiled
    HAVE_COMPILED_LZF = True
except ImportError:  # pragma: no cover
    _clzf = None
    HAVE_COMPILED_LZF = False

# Format limits (lzf_c.c).
HLOG = 16
HSIZE = 1 << HLOG
MAX_LIT = 1 << 5           # longest literal run
MAX_OFF = 1 << 13          # back-reference window
MAX_REF = (1 << 8) + (1 << 3)  # longest back reference, minus 2


# ----------------------------------------------------------------------------------------------
# Public entry points
# ----------------------------------------------------------------------------------------------


def lzf_compress(data: bytes | bytearray, out_len: int | None = None) -> bytes | None:
    """Compress ``data``; None if the result would not fit in ``out_len`` bytes.

    ``out_len`` defaults to ``len(data)``: "compress, or tell me it does not pay".  Redis's
    callers pass the room they have (quicklist: the node size; RDB: the length minus 4) and
    treat a 0 return, None here, as "store uncompressed".  Empty input gives None, as in C.
    """
    in_len = len(data)
    if out_len is None:
        out_len = in_len
    if not in_len or out_len <= 0:
        return None
    if _clzf is not None:
        if out_len < 2:
            return None  # any non-empty input needs a control byte plus one literal
        # python-lzf hands liblzf a buffer of max_length + 1 bytes.
        out = _clzf.compress(bytes(data), out_len - 1)
        if out is None or len(out) > out_len:
            return None
        return out
    return py_lzf_compress(data, out_len)


def lzf_decompress(data: bytes | bytearray, out_len: int) -> bytes | None:
    """Decompress ``data`` expecting at most ``out_len`` bytes; None on corrupt input or overflow.

    Callers compare ``len(result)`` with the size they recorded, as Redis compares the
    return value of lzf_decompress() with the expected length.
    """
    if not data:
        return b""
    if out_len <= 0:
        return None
    if _clzf is not None:
        try:
            return _clzf.decompress(bytes(data), out_len)
        except ValueError:
            return None
    return py_lzf_decompress(data, out_len)


# ----------------------------------------------------------------------------------------------
# Pure-Python fallback (slow; same output as liblzf with a clean hash table)
# ----------------------------------------------------------------------------------------------


def py_lzf_compress(data: bytes | bytearray, out_len: int) -> bytes | None:
    """liblzf's lzf_compress() with HLOG=16 and VERY_FAST, in Python.  Slow: see module doc.

    The compressor hashes every 3-byte window; a table slot remembers the last position that
    hashed there.  A candidate match must lie within MAX_OFF bytes back and agree on 3 bytes;
    it is then extended up to MAX_REF+2 bytes.  Literals are gathered in runs of at most
    MAX_LIT, each prefixed by a control byte written once the run is closed.
    """
    ip_data = bytes(data)
    in_len = len(ip_data)
    if not in_len or out_len <= 0:
        return None
    htab = [-1] * HSIZE  # positions; -1 = never set (liblzf: a NULL slot)
    out = bytearray()
    lit_start = 0        # position in 'out' of the open run's control byte
    lit = 0
    out.append(0)        # control byte of the first run, filled in when the run closes
    ip = 0
    in_end = in_len
    hval = (ip_data[0] << 8) | ip_data[1] if in_len >= 2 else 0
    while ip < in_end - 2:
        hval = ((hval << 8) | ip_data[ip + 2]) & 0xFFFFFFFF
        slot = ((((hval >> 8) - hval * 5)) & (HSIZE - 1))
        ref = htab[slot]
        htab[slot] = ip
        off = ip - ref - 1
        if (ref > 0 and off < MAX_OFF
                and ip_data[ref + 2] == ip_data[ip + 2]
                and ip_data[ref] == ip_data[ip] and ip_data[ref + 1] == ip_data[ip + 1]):
            # A match of at least 3 bytes; grow it.
            length = 2
            maxlen = in_end - ip - length
            if maxlen > MAX_REF:
                maxlen = MAX_REF
            # Room for the longest back reference plus the next run's control byte.
            if len(out) + 3 + 1 >= out_len and len(out) - (1 if lit == 0 else 0) + 3 + 1 >= out_len:
                return None
            out[lit_start] = lit - 1 if lit else 0
            if lit == 0:
                del out[-1]  # the open run is empty: drop its control byte
            # liblzf first probes 16 bytes without looking at maxlen (safe: the input is at
            # least 19 bytes longer than ip there), then extends up to maxlen.  Keeping that
            # order keeps the output identical in the rare case it overshoots maxlen.
            extend = True
            if maxlen > 16:
                for _ in range(16):
                    length += 1
                    if ip_data[ref + length] != ip_data[ip + length]:
                        extend = False
                        break
            if extend:
                while True:
                    length += 1
                    if length >= maxlen or ip_data[ref + length] != ip_data[ip + length]:
                        break
            length -= 2  # now the number of bytes beyond the first two, minus one
            ip += 1
            if length < 7:
                out.append((off >> 8) + (length << 5))
            else:
                out.append((off >> 8) + (7 << 5))
                out.append(length - 7)
            out.append(off & 0xFF)
            lit = 0
            lit_start = len(out)
            out.append(0)
            ip += length + 1
            if ip >= in_end - 2:
                break
            # VERY_FAST: hash the two positions just before the new ip, not every one.
            ip -= 2
            hval = (ip_data[ip] << 8) | ip_data[ip + 1]
            hval = ((hval << 8) | ip_data[ip + 2]) & 0xFFFFFFFF
            htab[((hval >> 8) - hval * 5) & (HSIZE - 1)] = ip
            ip += 1
            hval = ((hval << 8) | ip_data[ip + 2]) & 0xFFFFFFFF
            htab[((hval >> 8) - hval * 5) & (HSIZE - 1)] = ip
            ip += 1
        else:
            if len(out) >= out_len:
                return None
            lit += 1
            out.append(ip_data[ip])
            ip += 1
            if lit == MAX_LIT:
                out[lit_start] = lit - 1
                lit = 0
                lit_start = len(out)
                out.append(0)
    if len(out) + 3 > out_len:
        return None
    while ip < in_end:
        lit += 1
        out.append(ip_data[ip])
        ip += 1
        if lit == MAX_LIT:
            out[lit_start] = lit - 1
            lit = 0
            lit_start = len(out)
            out.append(0)
    if lit:
        out[lit_start] = lit - 1
    else:
        del out[-1]
    if len(out) > out_len:
        return None
    return bytes(out)


def py_lzf_decompress(data: bytes | bytearray, out_len: int) -> bytes | None:
    """liblzf's lzf_decompress() in Python; None on corrupt input or if ``out_len`` is too small."""
    ip = 0
    in_end = len(data)
    out = bytearray()
    while ip < in_end:
        ctrl = data[ip]
        ip += 1
        if ctrl < 32:  # literal run of ctrl+1 bytes
            ctrl += 1
            if len(out) + ctrl > out_len:
                return None
            if ip + ctrl > in_end:
                return None
            out += data[ip:ip + ctrl]
            ip += ctrl
        else:  # back reference
            length = ctrl >> 5
            ref = len(out) - ((ctrl & 0x1F) << 8) - 1
            if ip >= in_end:
                return None
            if length == 7:
                length += data[ip]
                ip += 1
                if ip >= in_end:
                    return None
            ref -= data[ip]
            ip += 1
            length += 2
            if len(out) + length > out_len:
                return None
            if ref < 0:
                return None
            if ref + length <= len(out):
                out += out[ref:ref + length]
            else:
                # Overlapping copy (a run repeating the last few bytes): byte by byte.
                for i in range(length):
                    out.append(out[ref + i])
    return bytes(out)
