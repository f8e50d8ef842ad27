"""The Lua libraries Redis links into its interpreter: the mirror of deps/lua/src/lua_cjson.c,
lua_cmsgpack.c, lua_struct.c and lua_bit.c, as Python functions a script calls like C ones.

    cjson      encode, decode, null, the encode_* / decode_* settings, _NAME, _VERSION
    cmsgpack   pack, unpack, unpack_one, unpack_limit
    struct     pack, unpack, size (x86-64 sizes and alignment, native little-endian)
    bit        tobit bnot band bor bxor lshift rshift arshift rol ror bswap tohex

Each function takes the Lua arguments (lupa hands strings over as bytes, numbers as int or
float, tables as lupa tables) and raises ``LuaRaise`` for a Lua error, with the message
luaL_error/luaL_argerror would build ("user_script:1: bad argument #1 to 'decode' (...)").

Divergence: these are re-implementations, not the C libraries: the wire formats, number
formatting (%.14g), array detection and error texts follow the C sources, but a deeply
nested value is limited by Python's recursion limit too, ``cjson.null`` is a userdata
standing for a Python sentinel (Redis: a NULL lightuserdata; both compare equal to
themselves and are replied as null), and the cjson settings functions only record their
values (encode_keep_buffer and encode_number_precision change nothing).
"""

from __future__ import annotations

import math
import re
import struct as _struct

from tracered.script_lua import (
    LuaRaise,
    lctx,
    lua_arg_error,
    lua_number_tostring,
    lua_tonumber,
    lua_typename,
    lua_where,
)

try:
    import lupa.lua51 as _lupa
except ImportError:  # pragma: no cover
    _lupa = None


def _lua_error(msg: str | bytes) -> LuaRaise:
    """luaL_error: the message at the calling script line."""
    if isinstance(msg, str):
        msg = msg.encode("utf-8", "surrogateescape")
    return LuaRaise(lua_where() + msg)


def _is_table(v) -> bool:
    return _lupa is not None and _lupa.lua_type(v) == "table"


def _is_number(v) -> bool:
    return type(v) is int or type(v) is float


def _check_number(args: tuple, narg: int) -> float:
    """luaL_checknumber."""
    v = lua_tonumber(args[narg - 1]) if len(args) >= narg else None
    if v is None:
        got = "no value" if len(args) < narg else lua_typename(args[narg - 1])
        raise lua_arg_error(narg, "number expected, got %s" % got)
    return float(v)


def _check_lstring(args: tuple, narg: int) -> bytes:
    """luaL_checklstring: strings, or numbers converted as Lua does."""
    v = args[narg - 1] if len(args) >= narg else None
    if type(v) is bytes:
        return v
    if _is_number(v):
        return lua_number_tostring(v)
    got = "no value" if len(args) < narg else lua_typename(v)
    raise lua_arg_error(narg, "string expected, got %s" % got)


def _opt_integer(args: tuple, narg: int, default: int) -> int:
    """luaL_optinteger."""
    if len(args) < narg or args[narg - 1] is None:
        return default
    return int(_check_number(args, narg))


# --------------------------------------------------------------------------------------------
# cjson (lua_cjson.c)
# --------------------------------------------------------------------------------------------

class _CjsonNull:
    """cjson.null: JSON null inside Lua tables, where nil cannot be stored."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "cjson.null"


CJSON_NULL = _CjsonNull()

_ENCODE_MAX_DEPTH = 1000
_DECODE_MAX_DEPTH = 1000
_SPARSE_RATIO = 2
_SPARSE_SAFE = 10

_ESCAPES = {i: b"\\u%04x" % i for i in range(32)}
_ESCAPES.update({8: b"\\b", 9: b"\\t", 10: b"\\n", 12: b"\\f", 13: b"\\r", 34: b'\\"',
                 47: b"\\/", 92: b"\\\\", 127: b"\\u007f"})
_ESCAPE_RE = re.compile(rb'[\x00-\x1f"/\\\x7f]')


def _json_string(s: bytes) -> bytes:
    return b'"' + _ESCAPE_RE.sub(lambda m: _ESCAPES[m.group()[0]], s) + b'"'


class _Cjson:
    """One cjson module table's settings (lua_cjson_new creates one per module)."""

    def __init__(self) -> None:
        self.sparse_convert = False
        self.sparse_ratio = _SPARSE_RATIO
        self.sparse_safe = _SPARSE_SAFE
        self.encode_max_depth = _ENCODE_MAX_DEPTH
        self.decode_max_depth = _DECODE_MAX_DEPTH
        self.encode_invalid_numbers = 0
        self.decode_invalid_numbers = 1
        self.encode_keep_buffer = 1
        self.encode_number_precision = 14

    # -- encode -------------------------------------------------------------------------

    def encode(self, *args) -> bytes:
        """json_encode: a Lua value as JSON text."""
        if len(args) != 1:
            raise lua_arg_error(1, "expected 1 argument")
        out: list[bytes] = []
        self._append_data(args[0], 0, out)
        return b"".join(out)

    def _exception(self, v, reason: str) -> LuaRaise:
        return _lua_error("Cannot serialise %s: %s" % (lua_typename(v), reason))

    def _append_number(self, v, out: list[bytes]) -> None:
        num = float(v)
        if math.isinf(num) or num != num:
            if self.encode_invalid_numbers == 0:
                raise self._exception(v, "must not be NaN or Inf")
            if self.encode_invalid_numbers == 1:
                if num != num:
                    out.append(b"nan")
                    return
            else:
                out.append(b"null")
                return
        out.append(b"%.*g" % (self.encode_number_precision, num))

    def _array_length(self, items: list) -> int:
        """lua_array_length: -1 for an object, else the array's length (holes included)."""
        max_k = 0
        n = 0
        for k, _ in items:
            if _is_number(k) and k and math.floor(k) == k and k >= 1:
                max_k = max(max_k, int(k))
                n += 1
                continue
            return -1
        if self.sparse_ratio > 0 and max_k > n * self.sparse_ratio and \
                max_k > self.sparse_safe:
            if not self.sparse_convert:
                raise _lua_error("Cannot serialise table: excessively sparse array")
            return -1
        return max_k

    def _append_data(self, v, depth: int, out: list[bytes]) -> None:
        tv = type(v)
        if tv is bytes:
            out.append(_json_string(v))
        elif tv is bool:
            out.append(b"true" if v else b"false")
        elif tv is int or tv is float:
            self._append_number(v, out)
        elif v is None or v is CJSON_NULL:
            out.append(b"null")
        elif _is_table(v):
            depth += 1
            if depth > self.encode_max_depth:
                raise _lua_error("Cannot serialise, excessive nesting (%d)" % depth)
            items = list(v.items())
            n = self._array_length(items)
            if n > 0:
                out.append(b"[")
                for i in range(1, n + 1):
                    if i > 1:
                        out.append(b",")
                    self._append_data(v[i], depth, out)
                out.append(b"]")
                return
            out.append(b"{")
            first = True
            for k, val in items:
                if not first:
                    out.append(b",")
                first = False
                if type(k) is bytes:
                    out.append(_json_string(k))
                    out.append(b":")
                elif _is_number(k):
                    out.append(b'"')
                    self._append_number(k, out)
                    out.append(b'":')
                else:
                    raise self._exception(k, "table key must be a number or string")
                self._append_data(val, depth, out)
            out.append(b"}")
        else:
            raise self._exception(v, "type not supported")

    # -- decode -------------------------------------------------------------------------

    def decode(self, *args):
        """json_decode: JSON text as Lua values (null -> cjson.null)."""
        if len(args) != 1:
            raise lua_arg_error(1, "expected 1 argument")
        data = _check_lstring(args, 1)
        if len(data) >= 2 and (data[0] == 0 or data[1] == 0):
            raise _lua_error("JSON parser does not support UTF-16 or UTF-32")
        z = data.find(b"\0")
        if z >= 0:
            data = data[:z]  # the C parser reads a C string
        p = _JsonParser(self, data)
        tok = p.next_token()
        v = p.process_value(tok)
        tok = p.next_token()
        if tok[0] != "T_END":
            p.throw("the end", tok)
        return v

    # -- settings (json_cfg_*): record and return the values ------------------------------

    def cfg_encode_sparse_array(self, *args):
        if len(args) >= 1 and args[0] is not None:
            self.sparse_convert = bool(args[0])
        if len(args) >= 2 and args[1] is not None:
            self.sparse_ratio = int(_check_number(args, 2))
        if len(args) >= 3 and args[2] is not None:
            self.sparse_safe = int(_check_number(args, 3))
        return self.sparse_convert, self.sparse_ratio, self.sparse_safe

    def _int_setting(self, name: str, args: tuple):
        if args and args[0] is not None:
            setattr(self, name, int(_check_number(args, 1)))
        return getattr(self, name)

    def cfg_encode_max_depth(self, *args):
        return self._int_setting("encode_max_depth", args)

    def cfg_decode_max_depth(self, *args):
        return self._int_setting("decode_max_depth", args)

    def cfg_encode_number_precision(self, *args):
        if args and args[0] is not None:
            prec = int(_check_number(args, 1))
            if not 1 <= prec <= 14:
                raise lua_arg_error(1, "expected integer between 1 and 14")
            self.encode_number_precision = prec
        return self.encode_number_precision

    def cfg_encode_keep_buffer(self, *args):
        if args and args[0] is not None:
            self.encode_keep_buffer = 1 if args[0] else 0
        return bool(self.encode_keep_buffer)

    def _invalid_numbers(self, name: str, args: tuple):
        if args and args[0] is not None:
            v = args[0]
            if v == b"null":
                setattr(self, name, 2)
            else:
                setattr(self, name, 1 if v else 0)
        cur = getattr(self, name)
        return b"null" if cur == 2 else bool(cur)

    def cfg_encode_invalid_numbers(self, *args):
        return self._invalid_numbers("encode_invalid_numbers", args)

    def cfg_decode_invalid_numbers(self, *args):
        return self._invalid_numbers("decode_invalid_numbers", args)


_STRTOD = re.compile(
    rb"([+-]?)(?:0x([0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(p[+-]?[0-9]+)?"
    rb"|((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)"
    rb"|(inf(?:inity)?|nan(?:\([0-9a-z_]*\))?))", re.I)

_SINGLE = {ord("{"): "T_OBJ_BEGIN", ord("}"): "T_OBJ_END", ord("["): "T_ARR_BEGIN",
           ord("]"): "T_ARR_END", ord(":"): "T_COLON", ord(","): "T_COMMA"}
_UNKNOWN_START = frozenset(b"fiInNt\"+-0123456789")
_ESCAPE2CHAR = {ord('"'): b'"', ord("\\"): b"\\", ord("/"): b"/", ord("b"): b"\b",
                ord("t"): b"\t", ord("n"): b"\n", ord("f"): b"\f", ord("r"): b"\r"}


def strtod(data: bytes, pos: int) -> tuple[float, int] | None:
    """strtod (C locale) from ``pos``: (value, end), or None when nothing converts."""
    m = _STRTOD.match(data, pos)
    if m is None:
        return None
    sign = -1.0 if m.group(1) == b"-" else 1.0
    if m.group(2) is not None:
        mant = m.group(2).decode()
        exp = m.group(3).decode() if m.group(3) else "p0"
        try:
            v = float.fromhex("0x" + (mant if mant[0] != "." else "0" + mant) + exp)
        except OverflowError:
            v = math.inf
    elif m.group(4) is not None:
        v = float(m.group(4))
    else:
        v = math.nan if m.group(5)[:1].lower() == b"n" else math.inf
    return sign * v, m.end()


class _JsonParser:
    """json_parse_t plus the tokenizer (json_next_token) and the recursive descent."""

    def __init__(self, cfg: _Cjson, data: bytes) -> None:
        self.cfg = cfg
        self.data = data
        self.ptr = 0
        self.depth = 0

    def throw(self, expected: str, tok) -> None:
        found = tok[2] if tok[0] == "T_ERROR" else tok[0]
        raise _lua_error("Expected %s but found %s at character %d"
                         % (expected, found, tok[1] + 1))

    def _is_invalid_number(self) -> bool:
        d, p = self.data, self.ptr
        if d[p:p + 1] == b"+":
            return True
        if d[p:p + 1] == b"-":
            p += 1
        c = d[p:p + 1]
        if c == b"0":
            c2 = d[p + 1:p + 2]
            return c2.lower() == b"x" or c2.isdigit()
        if c and c <= b"9":
            return False
        low = d[p:p + 3].lower()
        return low in (b"inf", b"nan")

    def next_token(self):
        """(type, index, value-or-error-text)."""
        d = self.data
        n = len(d)
        while self.ptr < n and d[self.ptr] in b" \t\n\r":
            self.ptr += 1
        start = self.ptr
        if start >= n:
            return ("T_END", start, None)
        ch = d[start]
        single = _SINGLE.get(ch)
        if single is not None:
            self.ptr += 1
            return (single, start, None)
        if ch not in _UNKNOWN_START:
            return ("T_ERROR", start, "invalid token")
        if ch == 34:  # "
            return self._string_token(start)
        if ch == 45 or 48 <= ch <= 57:
            if not self.cfg.decode_invalid_numbers and self._is_invalid_number():
                return ("T_ERROR", start, "invalid number")
            return self._number_token(start)
        if d.startswith(b"true", start):
            self.ptr += 4
            return ("T_BOOLEAN", start, True)
        if d.startswith(b"false", start):
            self.ptr += 5
            return ("T_BOOLEAN", start, False)
        if d.startswith(b"null", start):
            self.ptr += 4
            return ("T_NULL", start, None)
        if self.cfg.decode_invalid_numbers and self._is_invalid_number():
            return self._number_token(start)
        return ("T_ERROR", start, "invalid token")

    def _number_token(self, start: int):
        r = strtod(self.data, self.ptr)
        if r is None:
            return ("T_ERROR", self.ptr, "invalid number")
        self.ptr = r[1]
        return ("T_NUMBER", start, r[0])

    def _string_token(self, start: int):
        d = self.data
        n = len(d)
        p = start + 1
        out = bytearray()
        while True:
            if p >= n:
                return ("T_ERROR", p, "unexpected end of string")
            ch = d[p]
            if ch == 34:
                break
            if ch == 92:
                esc = d[p + 1] if p + 1 < n else 0
                if esc == 117:  # \u
                    r = self._unicode_escape(p)
                    if r is None:
                        return ("T_ERROR", p, "invalid unicode escape code")
                    out += r[0]
                    p += r[1]
                    continue
                rep = _ESCAPE2CHAR.get(esc)
                if rep is None:
                    return ("T_ERROR", p, "invalid escape code")
                out += rep
                p += 2
                continue
            out.append(ch)
            p += 1
        self.ptr = p + 1
        return ("T_STRING", start, bytes(out))

    def _unicode_escape(self, p: int):
        d = self.data

        def hex4(at: int) -> int:
            h = d[at:at + 4]
            if len(h) < 4 or not all(c in b"0123456789abcdefABCDEF" for c in h):
                return -1
            return int(h, 16)

        cp = hex4(p + 2)
        if cp < 0:
            return None
        esc_len = 6
        if cp & 0xF800 == 0xD800:
            if cp & 0x400:
                return None
            if d[p + 6:p + 8] != b"\\u":
                return None
            low = hex4(p + 8)
            if low < 0 or low & 0xFC00 != 0xDC00:
                return None
            cp = (((cp & 0x3FF) << 10) | (low & 0x3FF)) + 0x10000
            esc_len = 12
        return chr(cp).encode("utf-8", "surrogatepass"), esc_len

    def _descend(self) -> None:
        self.depth += 1
        if self.depth > self.cfg.decode_max_depth:
            raise _lua_error("Found too many nested data structures (%d) at character %d"
                             % (self.depth, self.ptr))

    def process_value(self, tok):
        kind = tok[0]
        if kind == "T_STRING" or kind == "T_NUMBER" or kind == "T_BOOLEAN":
            return tok[2]
        if kind == "T_NULL":
            return CJSON_NULL
        if kind == "T_OBJ_BEGIN":
            return self._object()
        if kind == "T_ARR_BEGIN":
            return self._array()
        self.throw("value", tok)

    def _object(self):
        self._descend()
        obj: dict = {}
        tok = self.next_token()
        if tok[0] == "T_OBJ_END":
            self.depth -= 1
            return lctx.table()
        while True:
            if tok[0] != "T_STRING":
                self.throw("object key string", tok)
            key = tok[2]
            tok = self.next_token()
            if tok[0] != "T_COLON":
                self.throw("colon", tok)
            obj[key] = self.process_value(self.next_token())
            tok = self.next_token()
            if tok[0] == "T_OBJ_END":
                self.depth -= 1
                return lctx.table_from(obj)
            if tok[0] != "T_COMMA":
                self.throw("comma or object end", tok)
            tok = self.next_token()

    def _array(self):
        self._descend()
        items: list = []
        tok = self.next_token()
        if tok[0] == "T_ARR_END":
            self.depth -= 1
            return lctx.table()
        while True:
            items.append(self.process_value(tok))
            tok = self.next_token()
            if tok[0] == "T_ARR_END":
                self.depth -= 1
                return lctx.table_from(items)
            if tok[0] != "T_COMMA":
                self.throw("comma or array end", tok)
            tok = self.next_token()


def _cjson_module(lua) -> dict:
    cfg = _Cjson()
    return {
        b"encode": cfg.encode, b"decode": cfg.decode,
        b"encode_sparse_array": cfg.cfg_encode_sparse_array,
        b"encode_max_depth": cfg.cfg_encode_max_depth,
        b"decode_max_depth": cfg.cfg_decode_max_depth,
        b"encode_number_precision": cfg.cfg_encode_number_precision,
        b"encode_keep_buffer": cfg.cfg_encode_keep_buffer,
        b"encode_invalid_numbers": cfg.cfg_encode_invalid_numbers,
        b"decode_invalid_numbers": cfg.cfg_decode_invalid_numbers,
        b"new": lambda *a: lua.table_from(_cjson_module(lua)),
        b"null": CJSON_NULL, b"_NAME": b"cjson", b"_VERSION": b"2.1.0",
    }


# --------------------------------------------------------------------------------------------
# cmsgpack (lua_cmsgpack.c)
# --------------------------------------------------------------------------------------------

LUACMSGPACK_MAX_NESTING = 16


def _mp_encode_int(n: int, out: bytearray) -> None:
    if n >= 0:
        if n <= 127:
            out.append(n)
        elif n <= 0xFF:
            out += b"\xcc" + _struct.pack(">B", n)
        elif n <= 0xFFFF:
            out += b"\xcd" + _struct.pack(">H", n)
        elif n <= 0xFFFFFFFF:
            out += b"\xce" + _struct.pack(">I", n)
        else:
            out += b"\xcf" + _struct.pack(">Q", n)
    elif n >= -32:
        out.append(n & 0xFF)
    elif n >= -128:
        out += b"\xd0" + _struct.pack(">b", n)
    elif n >= -32768:
        out += b"\xd1" + _struct.pack(">h", n)
    elif n >= -2147483648:
        out += b"\xd2" + _struct.pack(">i", n)
    else:
        out += b"\xd3" + _struct.pack(">q", n)


def _mp_encode_double(d: float, out: bytearray) -> None:
    try:
        f = _struct.unpack(">f", _struct.pack(">f", d))[0]
    except OverflowError:
        f = None
    if f is not None and f == d:
        out += b"\xca" + _struct.pack(">f", d)
    else:
        out += b"\xcb" + _struct.pack(">d", d)


def _mp_encode_bytes(s: bytes, out: bytearray) -> None:
    n = len(s)
    if n < 32:
        out.append(0xA0 | n)
    elif n <= 0xFF:
        out += b"\xd9" + _struct.pack(">B", n)
    elif n <= 0xFFFF:
        out += b"\xda" + _struct.pack(">H", n)
    else:
        out += b"\xdb" + _struct.pack(">I", n)
    out += s


def _mp_encode_len(n: int, fix: int, b16: bytes, b32: bytes, out: bytearray) -> None:
    if n <= 15:
        out.append(fix | n)
    elif n <= 0xFFFF:
        out += b16 + _struct.pack(">H", n)
    else:
        out += b32 + _struct.pack(">I", n)


def _mp_encode_lua_type(v, level: int, out: bytearray) -> None:
    tv = type(v)
    if tv is bytes:
        _mp_encode_bytes(v, out)
    elif tv is bool:
        out.append(0xC3 if v else 0xC2)
    elif tv is int or tv is float:
        d = float(v)
        if not math.isinf(d) and d == d and -9.2233720368547758e18 <= d < 9.2233720368547758e18 \
                and d == math.floor(d):
            _mp_encode_int(int(d), out)
        else:
            _mp_encode_double(d, out)
    elif _is_table(v) and level < LUACMSGPACK_MAX_NESTING:
        items = list(v.items())
        is_array = True
        max_k = 0
        for k, _ in items:
            if not _is_number(k) or k <= 0 or k != math.floor(k) or k > 2147483647:
                is_array = False
                break
            max_k = max(max_k, int(k))
        if is_array and max_k == len(items):
            _mp_encode_len(max_k, 0x90, b"\xdc", b"\xdd", out)
            for j in range(1, max_k + 1):
                _mp_encode_lua_type(v[j], level + 1, out)
        else:
            _mp_encode_len(len(items), 0x80, b"\xde", b"\xdf", out)
            for k, val in items:
                _mp_encode_lua_type(k, level + 1, out)
                _mp_encode_lua_type(val, level + 1, out)
    else:
        out.append(0xC0)


def _mp_pack(*args) -> bytes:
    if not args:
        raise lua_arg_error(0, "MessagePack pack needs input.")
    out = bytearray()
    for a in args:
        _mp_encode_lua_type(a, 0, out)
    return bytes(out)


class _MpEOF(Exception):
    pass


class _MpBadFmt(Exception):
    pass


def _mp_decode(buf: bytes, p: int):
    """mp_decode_to_lua_type: (value, new position)."""
    n = len(buf)

    def need(k: int) -> None:
        if p + k > n:
            raise _MpEOF

    need(1)
    b = buf[p]
    fixed = _MP_FIXED.get(b)
    if fixed is not None:
        size, fmt = fixed
        need(size)
        return _struct.unpack(fmt, buf[p + 1:p + size])[0], p + size
    if b == 0xC0:
        return None, p + 1
    if b == 0xC3:
        return True, p + 1
    if b == 0xC2:
        return False, p + 1
    if b in (0xD9, 0xDA, 0xDB):
        hl = {0xD9: 1, 0xDA: 2, 0xDB: 4}[b]
        need(1 + hl)
        ln = int.from_bytes(buf[p + 1:p + 1 + hl], "big")
        start = p + 1 + hl
        if start + ln > n:
            raise _MpEOF
        return buf[start:start + ln], start + ln
    if b in (0xDC, 0xDD, 0xDE, 0xDF):
        hl = 2 if b in (0xDC, 0xDE) else 4
        need(1 + hl)
        ln = int.from_bytes(buf[p + 1:p + 1 + hl], "big")
        return _mp_decode_aggregate(buf, p + 1 + hl, ln, b in (0xDE, 0xDF))
    if b & 0x80 == 0:
        return b, p + 1
    if b & 0xE0 == 0xE0:
        return b - 256, p + 1
    if b & 0xE0 == 0xA0:
        ln = b & 0x1F
        if p + 1 + ln > n:
            raise _MpEOF
        return buf[p + 1:p + 1 + ln], p + 1 + ln
    if b & 0xF0 == 0x90:
        return _mp_decode_aggregate(buf, p + 1, b & 0xF, False)
    if b & 0xF0 == 0x80:
        return _mp_decode_aggregate(buf, p + 1, b & 0xF, True)
    raise _MpBadFmt


_MP_FIXED = {
    0xCC: (2, ">B"), 0xD0: (2, ">b"), 0xCD: (3, ">H"), 0xD1: (3, ">h"), 0xCE: (5, ">I"),
    0xD2: (5, ">i"), 0xCF: (9, ">Q"), 0xD3: (9, ">q"), 0xCA: (5, ">f"), 0xCB: (9, ">d"),
}


def _mp_decode_aggregate(buf: bytes, p: int, ln: int, is_map: bool):
    t = lctx.table()
    for i in range(1, ln + 1):
        if is_map:
            k, p = _mp_decode(buf, p)
        else:
            k = i
        v, p = _mp_decode(buf, p)
        if k is not None:
            t[k] = v
    return t, p


def _mp_unpack_full(args: tuple, limit: int, offset: int):
    s = _check_lstring(args, 1)
    ln = len(s)
    decode_all = not limit and not offset
    if offset < 0 or limit < 0:
        raise _lua_error("Invalid request to unpack with offset of %d and limit of %d."
                         % (offset, ln))
    if offset > ln:
        raise _lua_error("Start offset %d greater than input length %d." % (offset, ln))
    if decode_all:
        limit = 2147483647
    out = []
    p = offset
    cnt = 0
    while p < ln and cnt < limit:
        try:
            v, p = _mp_decode(s, p)
        except _MpEOF:
            raise _lua_error("Missing bytes in input.") from None
        except _MpBadFmt:
            raise _lua_error("Bad data format in input.") from None
        out.append(v)
        cnt += 1
    if not decode_all:
        out.insert(0, -1 if p >= ln else p)
    return tuple(out) if len(out) != 1 else out[0]


def _mp_unpack(*args):
    return _mp_unpack_full(args, 0, 0)


def _mp_unpack_one(*args):
    return _mp_unpack_full(args[:1], 1, _opt_integer(args, 2, 0))


def _mp_unpack_limit(*args):
    limit = int(_check_number(args, 2))
    return _mp_unpack_full(args[:1], limit, _opt_integer(args, 3, 0))


def _cmsgpack_module() -> dict:
    return {
        b"pack": _mp_pack, b"unpack": _mp_unpack, b"unpack_one": _mp_unpack_one,
        b"unpack_limit": _mp_unpack_limit, b"_NAME": b"cmsgpack",
        b"_VERSION": b"lua-cmsgpack 0.4.0",
        b"_COPYRIGHT": b"Copyright (C) 2012, Salvatore Sanfilippo",
        b"_DESCRIPTION": b"MessagePack C implementation for Lua",
    }


# --------------------------------------------------------------------------------------------
# struct (lua_struct.c), with x86-64 sizes
# --------------------------------------------------------------------------------------------

_MAXINTSIZE = 32
_MAXALIGN = 8
_LITTLE, _BIG = 1, 0
_SIZES = {"b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8, "x": 1}


class _Fmt:
    """The format string being read, with the header (endianness, max alignment)."""

    __slots__ = ("s", "i", "endian", "align")

    def __init__(self, s: bytes) -> None:
        z = s.find(b"\0")
        self.s = (s if z < 0 else s[:z]).decode("latin-1")
        self.i = 0
        self.endian = _LITTLE
        self.align = 1

    def getnum(self, default: int) -> int:
        s, i = self.s, self.i
        if i >= len(s) or not s[i].isdigit():
            return default
        a = 0
        while i < len(s) and s[i].isdigit():
            if a > 2147483647 // 10 or a * 10 > 2147483647 - int(s[i]):
                raise _lua_error("integral size overflow")
            a = a * 10 + int(s[i])
            i += 1
        self.i = i
        return a

    def optsize(self, opt: str) -> int:
        size = _SIZES.get(opt)
        if size is not None:
            return size
        if opt == "c":
            return self.getnum(1)
        if opt in "iI":
            sz = self.getnum(4)
            if sz > _MAXINTSIZE:
                raise _lua_error("integral size %d is larger than limit of %d"
                                 % (sz, _MAXINTSIZE))
            return sz
        return 0

    def toalign(self, length: int, opt: str, size: int) -> int:
        if size == 0 or opt == "c":
            return 0
        if size > self.align:
            size = self.align
        return (size - (length & (size - 1))) & (size - 1)

    def control(self, opt: str) -> None:
        if opt == " ":
            return
        if opt == ">":
            self.endian = _BIG
        elif opt == "<":
            self.endian = _LITTLE
        elif opt == "!":
            a = self.getnum(_MAXALIGN)
            if a & (a - 1):
                raise _lua_error("alignment %d is not a power of 2" % a)
            self.align = a
        else:
            raise lua_arg_error(1, "invalid format option '%s'" % opt)


def _struct_pack(*args) -> bytes:
    f = _Fmt(_check_lstring(args, 1))
    out = bytearray()
    arg = 2
    total = 0
    while f.i < len(f.s):
        opt = f.s[f.i]
        f.i += 1
        size = f.optsize(opt)
        pad = f.toalign(total, opt, size)
        total += pad
        out += b"\0" * pad
        if opt in "bBhHlLTiI":
            n = _check_number(args, arg)
            arg += 1
            value = (int(n) if n == n and not math.isinf(n) else 0) & 0xFFFFFFFFFFFFFFFF
            raw = bytes((value >> (8 * i)) & 0xFF if i < 8 else 0 for i in range(size))
            out += raw if f.endian == _LITTLE else raw[::-1]
        elif opt == "x":
            out.append(0)
        elif opt in "fd":
            n = _check_number(args, arg)
            arg += 1
            code = ("<" if f.endian == _LITTLE else ">") + opt
            try:
                out += _struct.pack(code, n)
            except OverflowError:
                out += _struct.pack(code, math.copysign(math.inf, n))
        elif opt in "cs":
            s = _check_lstring(args, arg)
            arg += 1
            if size == 0:
                size = len(s)
            if len(s) < size:
                raise lua_arg_error(arg, "string too short")
            out += s[:size]
            if opt == "s":
                out.append(0)
                size += 1
        else:
            f.control(opt)
        total += size
    return bytes(out)


def _struct_unpack(*args):
    f = _Fmt(_check_lstring(args, 1))
    data = _check_lstring(args, 2)
    ld = len(data)
    pos = _opt_integer(args, 3, 1)
    if pos <= 0:
        raise lua_arg_error(3, "offset must be 1 or greater")
    pos -= 1
    res: list = []
    while f.i < len(f.s):
        opt = f.s[f.i]
        f.i += 1
        size = f.optsize(opt)
        pos += f.toalign(pos, opt, size)
        if not (size <= ld and pos <= ld - size):
            raise lua_arg_error(2, "data string too short")
        if opt in "bBhHlLTiI":
            chunk = data[pos:pos + size]
            if f.endian == _BIG:
                chunk = chunk[::-1]
            v = 0
            for i in range(size - 1, -1, -1):
                v = ((v << 8) | chunk[i]) & 0xFFFFFFFFFFFFFFFF
            if opt.islower():  # sign-extend from the top bit of the field
                sh = size * 8 - 1
                if 0 <= sh < 64:
                    mask = (0xFFFFFFFFFFFFFFFF << sh) & 0xFFFFFFFFFFFFFFFF
                    if v & mask:
                        v |= mask
                if v & (1 << 63):
                    v -= 1 << 64
            res.append(float(v))
        elif opt == "x":
            pass
        elif opt in "fd":
            code = ("<" if f.endian == _LITTLE else ">") + opt
            res.append(_struct.unpack(code, data[pos:pos + size])[0])
        elif opt == "c":
            if size == 0:
                if not res or not _is_number(res[-1]):
                    raise _lua_error("format 'c0' needs a previous size")
                size = int(res.pop())
                if not (size <= ld and pos <= ld - size):
                    raise lua_arg_error(2, "data string too short")
            res.append(data[pos:pos + size])
        elif opt == "s":
            e = data.find(b"\0", pos)
            if e < 0:
                raise _lua_error("unfinished string in data")
            size = e - pos + 1
            res.append(data[pos:e])
        else:
            f.control(opt)
        pos += size
    res.append(pos + 1)
    return tuple(res) if len(res) != 1 else res[0]


def _struct_size(*args) -> int:
    f = _Fmt(_check_lstring(args, 1))
    pos = 0
    while f.i < len(f.s):
        opt = f.s[f.i]
        f.i += 1
        size = f.optsize(opt)
        pos += f.toalign(pos, opt, size)
        if opt == "s":
            raise lua_arg_error(1, "option 's' has no fixed size")
        if opt == "c" and size == 0:
            raise lua_arg_error(1, "option 'c0' has no fixed size")
        if not opt.isalnum():
            f.control(opt)
        pos += size
    return pos


# --------------------------------------------------------------------------------------------
# bit (lua_bit.c, LuaBitOp)
# --------------------------------------------------------------------------------------------

def _barg(args: tuple, i: int) -> int:
    """barg: the argument as an unsigned 32-bit value, rounded the way LuaBitOp does
    (adding 2^52+2^51 to the double and keeping the low word)."""
    v = args[i - 1] if len(args) >= i else None
    n = lua_tonumber(v)
    d = (float(n) if n is not None else 0.0) + 6755399441055744.0
    b = _struct.unpack("<Q", _struct.pack("<d", d))[0] & 0xFFFFFFFF
    if b == 0 and n is None:
        got = "no value" if len(args) < i else lua_typename(v)
        raise lua_arg_error(i, "number expected, got %s" % got)
    return b


def _bret(b: int) -> int:
    b &= 0xFFFFFFFF
    return b - (1 << 32) if b & 0x80000000 else b


def _bit_op(op):
    def f(*args):
        b = _barg(args, 1)
        for i in range(len(args), 1, -1):
            b = op(b, _barg(args, i))
        return _bret(b)
    return f


def _bit_sh(fn):
    def f(*args):
        b = _barg(args, 1)
        n = _barg(args, 2) & 31
        return _bret(fn(b, n))
    return f


def _bit_tohex(*args) -> bytes:
    b = _barg(args, 1)
    n = 8 if len(args) < 2 else _bret(_barg(args, 2))
    digits = "0123456789abcdef"
    if n < 0:
        n = -n
        digits = "0123456789ABCDEF"
    n = min(n, 8)
    out = []
    for _ in range(n):
        out.append(digits[b & 15])
        b >>= 4
    return "".join(reversed(out)).encode()


def _bit_module() -> dict:
    return {
        b"tobit": lambda *a: _bret(_barg(a, 1)),
        b"bnot": lambda *a: _bret(~_barg(a, 1)),
        b"band": _bit_op(lambda x, y: x & y),
        b"bor": _bit_op(lambda x, y: x | y),
        b"bxor": _bit_op(lambda x, y: x ^ y),
        b"lshift": _bit_sh(lambda b, n: b << n),
        b"rshift": _bit_sh(lambda b, n: b >> n),
        b"arshift": _bit_sh(lambda b, n: _bret(b) >> n),
        b"rol": _bit_sh(lambda b, n: (b << n) | (b >> (32 - n))),
        b"ror": _bit_sh(lambda b, n: (b << (32 - n)) | (b >> n)),
        b"bswap": lambda *a: _bret(int.from_bytes(_barg(a, 1).to_bytes(4, "little"), "big")),
        b"tohex": _bit_tohex,
    }


# --------------------------------------------------------------------------------------------
# Loading (luaLoadLibraries)
# --------------------------------------------------------------------------------------------

def load_libraries(lua) -> dict:
    """The four library tables for a new Lua state: name -> Lua table."""
    return {
        "cjson": lua.table_from(_cjson_module(lua)),
        "struct": lua.table_from({b"pack": _struct_pack, b"unpack": _struct_unpack,
                                  b"size": _struct_size}),
        "cmsgpack": lua.table_from(_cmsgpack_module()),
        "bit": lua.table_from(_bit_module()),
    }
