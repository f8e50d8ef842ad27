"""RESP request parsing, sans-IO: the parsing half of Redis's networking.c.

Mirrors processMultibulkBuffer (``*<n>\\r\\n$<len>\\r\\n<bytes>\\r\\n...``), processInlineBuffer
(``SET k v\\n`` typed by telnet) and sdssplitargs (the inline tokenizer, also used by
redis.conf parsing).  Nothing here touches a socket: the caller feeds a buffer and a start
offset and gets back one command, "need more data", or a :class:`ProtocolError`.

Buffers are consumed by offset, never by slicing the front off (which would copy the rest
of the buffer for every command and make a pipelined read O(n^2)).

A half-received multibulk command keeps its progress in a :class:`MultibulkState` owned by
the caller (Redis keeps the same three facts in the client: ``argv``, ``multibulklen`` and
the query buffer position).  Without it, every read of a command with many arguments would
re-parse all the arguments already seen: a 200k-argument RPUSH arriving in 64 KB reads costs
seconds instead of milliseconds.  The parser also reports ``need``, the buffer length below
which retrying is pointless, so a 500 MB value received in 64 KB reads is not re-scanned
8000 times.

Quirks kept on purpose, because clients and tests can see them:

- Redis looks for a line end with ``strchr``, which stops at a NUL byte.  A header line or
  an inline line holding a NUL before its line end is therefore never seen as complete: the
  client waits (and is cut off with "too big ... string" past 64 KB), it does not get
  "invalid multibulk length".
- The two bytes after a bulk payload are skipped, not checked to be ``\\r\\n``.
- ``*0`` and ``*-1`` (any count <= 0) are empty commands: nothing runs and nothing is
  replied.

The "expected '$', got 'X'" text carries the offending byte as is, like Redis's ``%c``; it is
handed back as a str holding that byte as a surrogate escape (see :func:`_byte_str`), so
encoding the reply with ``surrogateescape`` restores the raw byte.

Divergence: Redis avoids copying an argument of 32 KB or more (PROTO_MBULK_BIG_ARG) by
handing its query buffer over as the argument; here every argument is one slice (one copy),
which Python cannot avoid while arguments are immutable ``bytes``.

The fast path, and why it cannot change what a client sees
----------------------------------------------------------
Parsing in Python costs ~1.8 µs a command, a third of a SET's whole run; hiredis (C) parses
the same bytes in ~0.2 µs.  But hiredis parses *replies*: it accepts what no request may
hold (integers, nested arrays, ``$-1``), checks the CRLF after a payload, knows no
proto-max-bulk-len, and does not say where each command ended.  So
:func:`parse_canonical_pipeline` uses it only as a shortcut that must prove itself: the
buffer is taken whole, must hold no array header of 5+ digits (hiredis would allocate
the array before seeing its elements), every command must be a non-empty array of bulk
strings within ``max_bulk``, and the sizes of their *canonical* encodings (``*<n>\r\n``,
``$<len>\r\n``, payload, ``\r\n``, no leading zeros or signs) must add up to exactly the
buffer's length.
A non-canonical header is always longer than the canonical one, so equal totals mean the
buffer *is* that canonical text, and each command's end offset is known.  Anything else
(a partial command at the end, inline commands, odd spellings, bad input) returns None and
the caller parses with :func:`parse_multibulk`, which gives Redis's exact errors.
"""

from __future__ import annotations

import re

try:
    import hiredis as _hiredis
except ImportError:  # pragma: no cover - hiredis is a dependency; the slow path still works
    _hiredis = None

from tracered.trace.probes import probe

# Limits from server.h.  The inline limit bounds any line we wait for: a header line or an
# inline command longer than this with no newline is an attack or a bug, not a request.
PROTO_INLINE_MAX_SIZE = 1024 * 64
PROTO_MBULK_BIG_ARG = 1024 * 32
INT_MAX = 2**31 - 1
# authRequired(): before AUTH a client may only send small commands (networking.c).
UNAUTH_MAX_MULTIBULK = 10
UNAUTH_MAX_BULK = 16384

# Header lines ("*3", "$5") are overwhelmingly small numbers: looking the digits up in a
# table is faster than int() and as strict as string2ll (no '+', no spaces, no leading
# zeros, no underscores, all of which int() would accept).
_SMALL = {str(i).encode(): i for i in range(0, 10000)}


class ProtocolError(Exception):
    """A malformed request.  ``reply`` is the error text sent to the client (Redis's wording),
    or None when Redis closes the connection without replying (a master speaking inline);
    ``reason`` is the short text Redis logs in setProtocolError."""

    def __init__(self, reply: str | None, reason: str) -> None:
        super().__init__(reply or reason)
        self.reply = reply
        self.reason = reason


class MultibulkState:
    """The progress of one half-received multibulk command (Redis: ``c->argv``,
    ``c->multibulklen``, ``c->qb_pos``).

    Contract: the caller feeds the unparsed tail of its buffer again, with more bytes
    appended, passing the same state; ``pos`` is where the partial command started.  The
    caller may drop the first ``offset`` bytes of that tail (their arguments are already in
    ``argv``) if it then sets ``offset`` to 0: the next call resumes at ``pos`` on a ``$``
    line, which is how networking.py keeps a command with many arguments from being copied
    again on every read.  Whoever throws the tail away must call :meth:`reset`.
    """

    __slots__ = ("argv", "multibulklen", "offset")

    def __init__(self) -> None:
        self.argv: list[bytes] | None = None  # None: no command in progress
        self.multibulklen = 0                 # arguments still to read
        self.offset = 0                       # where the next header starts, from the '*'

    def reset(self) -> None:
        self.argv = None
        self.multibulklen = 0
        self.offset = 0

    def __repr__(self) -> str:
        if self.argv is None:
            return "<MultibulkState idle>"
        return (f"<MultibulkState args={len(self.argv)} missing={self.multibulklen} "
                f"offset={self.offset}>")


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


def _byte_str(b: int) -> str:
    """One byte as a str that encodes back to the same byte with 'surrogateescape'."""
    return bytes((b,)).decode("utf-8", "surrogateescape")


def _no_line_yet(buf: bytes, start: int, reply: str, reason: str) -> tuple[None, int]:
    """What Redis does while a line has no end: wait, unless more than 64 KB are already
    buffered after ``start`` (then the line can only be garbage)."""
    n = len(buf)
    if n - start > PROTO_INLINE_MAX_SIZE:
        raise ProtocolError(reply, reason)
    return None, n + 1


_BULK_TOO_BIG = ("Protocol error: too big bulk count string", "too big bulk count string")
_MBULK_TOO_BIG = ("Protocol error: too big mbulk count string", "too big mbulk count string")


# hiredis allocates a list of <n> slots as soon as it reads "*<n>": a 14-byte request
# "*3000000000\r\n" would ask for 24 GB.  Any "*" followed by 5+ digits anywhere in the
# buffer (a header, or just payload bytes that look like one) sends it to the slow path.
_BIG_COUNT = re.compile(rb"\*[0-9]{5}")

# Size of a "$<len>\r\n" (or "*<n>\r\n") header for len < 10000: 3 + digits.
_HDR = [3 + len(str(i)) for i in range(10000)]
_HDR_GET = _HDR.__getitem__


def parse_canonical_pipeline(buf: bytes, max_bulk: int) -> list | None:
    """The whole of ``buf`` as ``[(argv, end_offset), ...]`` when it is exactly a run of
    complete, canonically encoded multibulk commands; None when the caller must use
    parse_multibulk (see "The fast path" above)."""
    if _hiredis is None or _BIG_COUNT.search(buf) is not None:
        return None
    reader = _hiredis.Reader()
    reader.feed(buf)
    gets = reader.gets
    out = []
    pos = 0
    try:
        while True:
            argv = gets()
            if argv is False:
                break
            if argv.__class__ is not list or not argv:
                return None
            lens = list(map(len, argv))
            longest = max(lens)
            if longest >= 10000:
                if longest > max_bulk:
                    return None
                hdrs = sum(3 + len(str(n)) for n in lens)
            else:
                hdrs = sum(map(_HDR_GET, lens))
            for a in argv:
                if a.__class__ is not bytes:
                    return None
            n = len(argv)
            pos += (_HDR[n] if n < 10000 else 3 + len(str(n))) + hdrs + sum(lens) + 2 * n
            out.append((argv, pos))
    except Exception:  # noqa: BLE001 - hiredis's protocol errors: the slow path words them
        return None
    return out if pos == len(buf) else None


@probe("processMultibulkBuffer")
def parse_multibulk(buf: bytes, pos: int, max_bulk: int, auth_required: bool,
                    is_master: bool = False, state: MultibulkState | None = None
                    ) -> tuple[list[bytes] | None, int]:
    """processMultibulkBuffer: parse one ``*`` command starting at ``buf[pos]``.

    Returns ``(argv, newpos)`` for a whole command (``argv`` is empty for ``*0``/``*-1``), or
    ``(None, need)`` when more bytes are needed: ``need`` is the buffer length (counted from
    the same buffer start) below which a retry cannot succeed.  Raises ProtocolError.

    ``max_bulk`` is proto-max-bulk-len (not applied to the master link, as in Redis); it
    must be at least 10000 (the config minimum is 1 MB), since lengths below that take a
    fast path that skips the check;
    ``auth_required`` enables the small pre-AUTH limits.  With ``state``, a partial command's
    progress is saved there and the next call resumes instead of starting over.
    """
    n = len(buf)
    if state is not None and state.argv is not None:
        # Resume where the last call stopped (a caller that dropped its buffer without a
        # reset gets, at worst, a protocol error: the bytes there are not a '$' line).
        if pos + state.offset <= n:
            argv = state.argv
            p = pos + state.offset
            left = state.multibulklen
            state.argv = None
        else:
            state.reset()
            return parse_multibulk(buf, pos, max_bulk, auth_required, is_master, state)
    else:
        nl = buf.find(b"\r", pos)
        if nl < 0:
            return _no_line_yet(buf, pos, *_MBULK_TOO_BIG)
        if nl + 1 >= n:
            return None, n + 1  # the '\n' (or whatever byte stands for it) is missing
        count = _SMALL.get(buf[pos + 1:nl])
        if count is None:
            count = _strict_ll(buf[pos + 1:nl])
            if count is None or count > INT_MAX:
                if buf.find(b"\0", pos, nl) >= 0:  # strchr never saw this line end
                    return _no_line_yet(buf, pos, *_MBULK_TOO_BIG)
                raise ProtocolError("Protocol error: invalid multibulk length",
                                    "invalid mbulk count")
        if count > UNAUTH_MAX_MULTIBULK and auth_required:
            raise ProtocolError("Protocol error: unauthenticated multibulk length",
                                "unauth mbulk count")
        p = nl + 2
        if count <= 0:
            return [], p
        argv = []
        left = count
    append = argv.append
    small = _SMALL
    find = buf.find
    for i in range(left):
        nl = find(b"\r", p)
        if nl < 0 or nl + 1 >= n or (buf[p] != 36 and find(b"\0", p, nl) >= 0):
            # No whole header line yet (a NUL before the '\r' hides it, as for strchr).
            if nl < 0 or nl + 1 < n:
                _no_line_yet(buf, p, *_BULK_TOO_BIG)
            if state is not None:
                state.argv, state.multibulklen, state.offset = argv, left - i, p - pos
            return None, n + 1
        if buf[p] != 36:  # '$'
            raise ProtocolError("Protocol error: expected '$', got '%s'" % _byte_str(buf[p]),
                                "expected $ but got something else")
        ln = small.get(buf[p + 1:nl])
        if ln is None:
            ln = _strict_ll(buf[p + 1:nl])
            if ln is None and find(b"\0", p, nl) >= 0:
                _no_line_yet(buf, p, *_BULK_TOO_BIG)
                if state is not None:
                    state.argv, state.multibulklen, state.offset = argv, left - i, p - pos
                return None, n + 1
            if ln is None or ln < 0 or (not is_master and ln > max_bulk):
                raise ProtocolError("Protocol error: invalid bulk length", "invalid bulk length")
            if ln > UNAUTH_MAX_BULK and auth_required:
                raise ProtocolError("Protocol error: unauthenticated bulk length",
                                    "unauth bulk length")
        start = nl + 2
        end = start + ln
        if end + 2 > n:
            if state is not None:
                state.argv, state.multibulklen, state.offset = argv, left - i, p - pos
            return None, end + 2
        append(buf[start:end])
        # Like Redis, the two bytes after the payload are skipped, not checked.
        p = end + 2
    return argv, p


@probe("processInlineBuffer")
def parse_inline(buf: bytes, pos: int, is_master: bool = False
                 ) -> tuple[list[bytes] | None, int]:
    """processInlineBuffer: parse one inline command (a text line ending in ``\\n`` or
    ``\\r\\n``).  Same return contract as parse_multibulk.

    A master may send bare newlines as keep-alives, never an inline command: that is a
    desynchronized replication stream, closed without a reply (``ProtocolError.reply`` None).
    """
    nl = buf.find(b"\n", pos)
    if nl < 0 or buf.find(b"\0", pos, nl) >= 0:  # strchr stops at a NUL
        return _no_line_yet(buf, pos, "Protocol error: too big inline request",
                            "too big inline request")
    end = nl
    if end > pos and buf[end - 1] == 13:
        end -= 1
    argv = split_args(buf[pos:end])
    if argv is None:
        raise ProtocolError("Protocol error: unbalanced quotes in request",
                            "unbalanced quotes in inline request")
    if is_master and end > pos:
        raise ProtocolError(None, "Master using the inline protocol. Desync?")
    return argv, nl + 1


_HEX = b"0123456789abcdefABCDEF"
_ESCAPES = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b",
            ord("a"): b"\a"}
# isspace() in the C locale: what separates arguments and what may follow a closing quote.
_SPACE = b" \n\r\t\v\f"
# Inside an unquoted argument only these end it (so "a\vb" is one argument, as in Redis).
_TOKEN_END = b" \n\r\t"


def split_args(line: bytes) -> list[bytes] | None:
    """sdssplitargs: split a line into arguments, honouring "double" (with \\n \\xHH escapes)
    and 'single' quotes.  Returns None on unbalanced quotes or a closing quote not followed
    by a space, exactly the inputs sdssplitargs rejects.  Like the C function, which reads a
    C string, the line ends at its first NUL byte."""
    z = line.find(b"\0")
    if z >= 0:
        line = line[:z]
    if not (b'"' in line or b"'" in line or b"\v" in line or b"\f" in line):
        # No quoting and no separator that only counts between arguments: bytes.split()
        # splits on exactly space \t \n \r (\v and \f were excluded above).
        return line.split()
    out: list[bytes] = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACE:
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
                    if i + 1 < n and line[i + 1] not in _SPACE:
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
                    if i + 1 < n and line[i + 1] not in _SPACE:
                        return None
                    i += 1
                    break
                else:
                    cur.append(ch)
            else:
                if i >= n:
                    break
                ch = line[i]
                if ch in _TOKEN_END:
                    break
                if ch == 34:
                    inq = True
                elif ch == 39:
                    insq = True
                else:
                    cur.append(ch)
            i += 1
        out.append(bytes(cur))
