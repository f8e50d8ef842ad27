"""RESP request parsing, sans-IO: the parsing half of Redis's networking.c.

Mirrors processMultibulkBuffer (``*<n>\\r\\n$<len>\\r\\n<bytes>\\r\\n...``), processInlineBuffer
(``SET k v\\n`` typed by telnet) and sdssplitargs (the inline tokenizer, also used by
redis.conf parsing).  Nothing here touches a socket: the caller feeds a buffer and a start
offset and gets back one command, "need more data", or a :class:`ProtocolError`.

Buffers are consumed by offset, never by slicing the front off (which would copy the rest
of the buffer for every command and make a pipelined read O(n^2)).

Divergence: Redis keeps partial parse state (multibulklen, bulklen) in the client so a
half-received command is not re-scanned.  Here a half-received command is re-parsed from
its start when more data arrives, but the caller learns how many bytes the command needs
(``need``) and does not retry until that many have arrived, so a 500 MB value received in
64 KB reads is parsed twice, not 8000 times.
"""

from __future__ import annotations

# Limits from server.h.  The inline limit bounds any line we wait for: a header line or an
# inline command longer than this with no newline is an attack or a bug, not a request.
PROTO_INLINE_MAX_SIZE = 1024 * 64
PROTO_MBULK_BIG_ARG = 1024 * 32
INT_MAX = 2**31 - 1

# Header lines ("*3", "$5") are overwhelmingly small numbers: looking the digits up in a
# table is faster than int() and as strict as string2ll (no '+', no spaces, no leading
# zeros, no underscores, all of which int() would accept).
_SMALL = {str(i).encode(): i for i in range(0, 10000)}


class ProtocolError(Exception):
    """A malformed request.  ``reply`` is the error text sent to the client (Redis's wording);
    ``reason`` is the short text Redis logs in setProtocolError."""

    def __init__(self, reply: str, reason: str) -> None:
        super().__init__(reply)
        self.reply = reply
        self.reason = reason


def _strict_ll(b: bytes) -> int | None:
    """string2ll for header lines: an int64 written the canonical way, else None."""
    v = _SMALL.get(b)
    if v is not None:
        return v
    n = len(b)
    if n == 0 or n > 20:
        return None
    neg = b[0] == 45  # '-'
    digits = b[1:] if neg else b
    if not digits or not digits.isdigit() or not digits.isascii():
        return None
    if digits[0] == 48 and len(digits) > 1:  # leading zero
        return None
    v = int(digits)
    if neg:
        if v == 0:
            return None
        v = -v
    if v > 2**63 - 1 or v < -(2**63):
        return None
    return v


def parse_multibulk(buf: bytes, pos: int, max_bulk: int, auth_required: bool,
                    is_master: bool = False) -> tuple[list[bytes] | None, int]:
    """Parse one ``*`` command starting at ``buf[pos]``.

    Returns ``(argv, newpos)`` for a whole command (``argv`` may be empty for ``*0``), or
    ``(None, need)`` when more bytes are needed: ``need`` is a lower bound on the total buffer
    length (from ``pos``'s buffer start) before a retry can succeed.  Raises ProtocolError.
    """
    n = len(buf)
    nl = buf.find(b"\r", pos)
    if nl < 0 or nl + 1 >= n:
        if n - pos > PROTO_INLINE_MAX_SIZE:
            raise ProtocolError("Protocol error: too big mbulk count string",
                                "too big mbulk count string")
        return None, n + 1
    count = _SMALL.get(buf[pos + 1:nl])
    if count is None:
        count = _strict_ll(buf[pos + 1:nl])
        if count is None or count > INT_MAX:
            raise ProtocolError("Protocol error: invalid multibulk length", "invalid mbulk count")
    if count > 10 and auth_required:
        raise ProtocolError("Protocol error: unauthenticated multibulk length",
                            "unauth mbulk count")
    p = nl + 2
    if count <= 0:
        return [], p
    argv: list[bytes] = []
    append = argv.append
    small = _SMALL
    find = buf.find
    for _ in range(count):
        nl = find(b"\r", p)
        if nl < 0 or nl + 1 >= n:
            if n - p > PROTO_INLINE_MAX_SIZE:
                raise ProtocolError("Protocol error: too big bulk count string",
                                    "too big bulk count string")
            return None, n + 1
        if buf[p] != 36:  # '$'
            raise ProtocolError("Protocol error: expected '$', got '%s'" % chr(buf[p]),
                                "expected $ but got something else")
        ln = small.get(buf[p + 1:nl])
        if ln is None:
            ln = _strict_ll(buf[p + 1:nl])
            if ln is None or ln < 0 or (not is_master and ln > max_bulk):
                raise ProtocolError("Protocol error: invalid bulk length", "invalid bulk length")
        if ln > 16384 and auth_required:
            raise ProtocolError("Protocol error: unauthenticated bulk length",
                                "unauth bulk length")
        start = nl + 2
        end = start + ln
        if end + 2 > n:
            return None, end + 2
        append(buf[start:end])
        # Like Redis, the two bytes after the payload are skipped, not checked.
        p = end + 2
    return argv, p


def parse_inline(buf: bytes, pos: int) -> tuple[list[bytes] | None, int]:
    """Parse one inline command (a text line).  Same return contract as parse_multibulk."""
    nl = buf.find(b"\n", pos)
    if nl < 0:
        if len(buf) - pos > PROTO_INLINE_MAX_SIZE:
            raise ProtocolError("Protocol error: too big inline request", "too big inline request")
        return None, len(buf) + 1
    end = nl
    if end > pos and buf[end - 1] == 13:
        end -= 1
    argv = split_args(buf[pos:end])
    if argv is None:
        raise ProtocolError("Protocol error: unbalanced quotes in request",
                            "unbalanced quotes in inline request")
    return argv, nl + 1


_HEX = b"0123456789abcdefABCDEF"
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b",
            ord("a"): b"\a"}


def split_args(line: bytes) -> list[bytes] | None:
    """sdssplitargs: split a line into arguments, honouring "double" (with \\n \\xHH escapes)
    and 'single' quotes.  Returns None on unbalanced quotes or a closing quote not followed
    by a space, exactly the inputs sdssplitargs rejects."""
    out: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in b" \n\r\t\v\f":
            i += 1
        if i >= n:
            return out
        cur = bytearray()
        inq = insq = False
        while True:
            if inq:
                if i >= n:
                    return None
                ch = line[i]
                if (ch == 92 and i + 3 < n and line[i + 1] == 120 and line[i + 2] in _HEX
                        and line[i + 3] in _HEX):  # \xHH
                    cur.append(int(line[i + 2:i + 4], 16))
                    i += 3
                elif ch == 92 and i + 1 < n:
                    i += 1
                    cur += _ESCAPES.get(line[i], bytes((line[i],)))
                elif ch == 34:  # closing quote must be followed by a space or the end
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f":
                        return None
                    i += 1
                    break
                else:
                    cur.append(ch)
            elif insq:
                if i >= n:
                    return None
                ch = line[i]
                if ch == 92 and i + 1 < n and line[i + 1] == 39:
                    i += 1
                    cur.append(39)
                elif ch == 39:
                    if i + 1 < n and line[i + 1] not in b" \n\r\t\v\f":
                        return None
                    i += 1
                    break
                else:
                    cur.append(ch)
            else:
                if i >= n:
                    break
                ch = line[i]
                if ch in b" \n\r\t\v\f":
                    break
                if ch == 34:
                    inq = True
                elif ch == 39:
                    insq = True
                else:
                    cur.append(ch)
            i += 1
        out.append(bytes(cur))
