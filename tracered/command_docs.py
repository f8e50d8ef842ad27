"""Argument documentation for COMMAND DOCS: the mirror of the ``arguments`` sections of
Redis's src/commands/*.json (and of ``struct redisCommandArg`` in commands.c).

Redis describes every argument of every command as a tree in JSON, and generates C tables
from it.  tracered's command rows carry the compact syntax line instead, the one a human
reads in the docs (``args="key value [NX|XX] [GET]"``); :func:`parse_args` turns that line
into the same tree Redis's COMMAND DOCS returns, which redis-cli 7.0 renders back into the
grey typing hints of its prompt (``cliAddArgument`` in redis-cli.c; :func:`render_args`
here does the same, so a test can check the round trip).

An argument node is a plain dict with the keys COMMAND DOCS replies with, in Redis's order:
``name``, ``type``, ``key_spec_index`` (key arguments only), ``token``, ``flags`` (a list of
``optional`` / ``multiple`` / ``multiple_token``) and, for ``oneof`` and ``block``,
``arguments``.

The syntax, as used in the command rows
---------------------------------------
* ``word`` in lower case is an argument; its type comes from its name (``key``, names ending
  in ``key``, ``source``/``destination`` -> key; ``*pattern`` -> pattern; ``unix-time-*`` ->
  unix-time; ``count``/``seconds``/``offset``... -> integer; ``score``/``longitude``... ->
  double; anything else -> string).  Override with a suffix: ``timeout:double``.
* ``WORD`` with no lower-case letter (``NX``, ``*``, ``~``) is a literal token.  A token right
  before an argument or a required group names it (``EX seconds`` is the integer argument
  ``seconds`` with token ``EX``); alone it is a ``pure-token``.
* ``[ ... ]`` is optional; ``( ... )`` and ``< ... >`` group without making optional.
* ``a|b|c`` is a choice (``oneof``).  Inside a group, ``|`` separates whole alternatives when
  each alternative is one argument (``[EX seconds|PX milliseconds|KEEPTTL]``); otherwise it
  binds only the two words it touches (``[MAXLEN|MINID [=|~] threshold]``).  A pipe with
  spaces around it (``<A x | B y z>``) always separates alternatives.
* ``x [x ...]`` repeats: the previous argument(s) get the ``multiple`` flag (several of them
  become one ``block``); ``[TOKEN x [TOKEN x ...]]`` adds ``multiple_token``.  A lone
  ``[x ...]`` is zero or more ``x`` (optional and multiple).
* A group of several arguments becomes a ``block``; if it starts with a token
  (``[LIMIT offset count]``) the block carries that token.

Divergence: argument names of choices and blocks are derived (``nx_xx``, ``limit``) where
Redis's JSON names them by hand (``condition``, ``limit``); per-argument ``since`` and
``summary`` are not in the syntax line and so are not reported.
"""

from __future__ import annotations

ARG_TYPES = ("string", "integer", "double", "key", "pattern", "unix-time", "pure-token",
             "oneof", "block")

_KEY_NAMES = frozenset(("key", "source", "destination", "newkey"))
_INTEGER_NAMES = frozenset((
    "count", "seconds", "milliseconds", "index", "start", "end", "stop", "offset", "db",
    "numkeys", "port", "cursor", "increment", "decrement", "ttl", "timeout", "client-id",
    "numreplicas", "numslots", "len", "length", "rank", "maxlen", "bit", "protover",
    "destination-db", "index1", "index2", "samples", "threshold-ms", "numerator",
    "numlocal", "numsub", "slot", "pivot-index", "replicas", "lag", "value-count",
    "integer", "position", "maxmemory-samples", "version", "unit-count", "unit",
))
_DOUBLE_NAMES = frozenset((
    "score", "longitude", "latitude", "radius", "width", "height", "weight", "float",
))


class SyntaxDocError(ValueError):
    """The syntax line of a command row is malformed (unbalanced brackets ...)."""


# --------------------------------------------------------------------------------------------
# Lexing and grouping
# --------------------------------------------------------------------------------------------

class _Word:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


class _Pipe:
    __slots__ = ("spaced",)

    def __init__(self, spaced: bool) -> None:
        self.spaced = spaced


class _Group:
    __slots__ = ("optional", "children")

    def __init__(self, optional: bool) -> None:
        self.optional = optional
        self.children: list = []


_OPEN = {"[": "]", "(": ")", "<": ">"}
_CLOSE = frozenset("])>")


def _lex_and_group(syntax: str) -> _Group:
    """Split the line into words, pipes and bracket groups (a tree of _Group)."""
    top = _Group(False)
    stack: list[tuple[_Group, str]] = [(top, "")]
    i, n = 0, len(syntax)
    while i < n:
        ch = syntax[i]
        if ch.isspace():
            i += 1
        elif ch in _OPEN:
            g = _Group(ch == "[")
            stack[-1][0].children.append(g)
            stack.append((g, _OPEN[ch]))
            i += 1
        elif ch in _CLOSE:
            if len(stack) == 1 or stack[-1][1] != ch:
                raise SyntaxDocError(f"unbalanced {ch!r} in {syntax!r}")
            stack.pop()
            i += 1
        elif ch == "|":
            spaced = (i > 0 and syntax[i - 1].isspace()) or (i + 1 < n and syntax[i + 1].isspace())
            stack[-1][0].children.append(_Pipe(spaced))
            i += 1
        else:
            j = i
            while j < n and not syntax[j].isspace() and syntax[j] not in "[]()<>|":
                j += 1
            stack[-1][0].children.append(_Word(syntax[i:j]))
            i = j
    if len(stack) != 1:
        raise SyntaxDocError(f"unclosed group in {syntax!r}")
    return top


def _is_token(text: str) -> bool:
    return not any(ch.islower() for ch in text)


def _source(child) -> str:
    """A canonical spelling of a piece of syntax, used to recognise repetitions."""
    if isinstance(child, _Word):
        return child.text
    if isinstance(child, _Pipe):
        return "|"
    if isinstance(child, _Alt):
        return "|".join(_source(u) for u in child.units)
    inner = " ".join(_source(c) for c in child.children)
    return f"[{inner}]" if child.optional else f"({inner})"


class _Alt:
    """Units joined by pipes that bind tightly (``SUM|MIN|MAX``)."""

    __slots__ = ("units",)

    def __init__(self, units: list) -> None:
        self.units = units


# --------------------------------------------------------------------------------------------
# Building argument nodes
# --------------------------------------------------------------------------------------------

def _arg_type(name: str) -> str:
    if name in _KEY_NAMES or name.endswith("key"):
        return "key"
    if name.endswith("pattern"):
        return "pattern"
    if name.startswith("unix-time"):
        return "unix-time"
    if name in _INTEGER_NAMES:
        return "integer"
    if name in _DOUBLE_NAMES:
        return "double"
    return "string"


def _word_node(text: str) -> dict:
    if text == '""':
        # MIGRATE's "empty key" choice: Redis's JSON token is "" and COMMAND DOCS
        # replies with it as an empty string.
        return {"name": "empty_string", "type": "pure-token", "token": "", "flags": []}
    if _is_token(text):
        return {"name": text.lower(), "type": "pure-token", "token": text, "flags": []}
    name, sep, typ = text.rpartition(":")
    if sep and typ in ARG_TYPES:
        return {"name": name, "type": typ, "flags": []}
    return {"name": text, "type": _arg_type(text), "flags": []}


def _with_token(node: dict, token: str) -> dict:
    """Insert ``token`` in Redis's key order (after name/type)."""
    out = {"name": node["name"], "type": node["type"], "token": token}
    for k, v in node.items():
        if k not in out:
            out[k] = v
    return out


def _oneof(nodes: list[dict]) -> dict:
    return {"name": "_".join(n["name"] for n in nodes), "type": "oneof", "flags": [],
            "arguments": nodes}


def _to_single(nodes: list[dict], children: list) -> dict:
    """One node for a group: the node itself, or a block (carrying the group's leading
    token, as in ``[LIMIT offset count]``)."""
    if len(nodes) == 1:
        return nodes[0]
    first = children[0] if children else None
    if isinstance(first, _Word) and _is_token(first.text) and nodes[0].get("token") == \
            first.text:
        tok = first.text
        head = nodes[0]
        if head["type"] == "pure-token":
            rest = nodes[1:]
        else:
            head = {k: v for k, v in head.items() if k != "token"}
            rest = [head] + nodes[1:]
        if len(rest) == 1:
            if head["type"] == "pure-token" and "token" in rest[0]:
                # ``[FULL [COUNT count]]``: the second token is not the first one's
                # argument; a block of the pure token and the tokened argument.
                return {"name": tok.lower(), "type": "block", "flags": [],
                        "arguments": nodes}
            return _with_token(rest[0], tok)
        return {"name": tok.lower(), "type": "block", "token": tok, "flags": [],
                "arguments": rest}
    return {"name": "_".join(n["name"] for n in nodes), "type": "block", "flags": [],
            "arguments": nodes}


def _split(children: list, only_spaced: bool) -> list[list]:
    alts: list[list] = [[]]
    for ch in children:
        if isinstance(ch, _Pipe) and (ch.spaced or not only_spaced):
            alts.append([])
        else:
            alts[-1].append(ch)
    return alts


def _group_nodes(children: list) -> list[dict]:
    """Nodes for the contents of a group (or the whole line), alternatives resolved."""
    pipes = [ch for ch in children if isinstance(ch, _Pipe)]
    if not pipes:
        return _seq_nodes(children)
    if any(p.spaced for p in pipes):
        alts = _split(children, True)
        if all(alts):
            return [_oneof([_to_single(_group_nodes(a), a) for a in alts])]
    alts = _split(children, False)
    if all(alts):
        per = [_seq_nodes(a) for a in alts]
        if all(len(p) == 1 for p in per):
            return [_oneof([p[0] for p in per])]
    return _seq_nodes(children)


def _units(children: list) -> list:
    """Fold tightly bound pipes: ``a | b`` next to each other become one _Alt unit."""
    units: list = []
    i = 0
    while i < len(children):
        ch = children[i]
        if isinstance(ch, _Pipe):
            if not units or i + 1 >= len(children):
                raise SyntaxDocError("'|' without an alternative on both sides")
            prev = units.pop()
            nxt = children[i + 1]
            alt = prev if isinstance(prev, _Alt) else _Alt([prev])
            alt.units.append(nxt)
            units.append(alt)
            i += 2
        else:
            units.append(ch)
            i += 1
    return units


def _unit_node(u) -> dict:
    if isinstance(u, _Word):
        return _word_node(u.text)
    if isinstance(u, _Alt):
        return _oneof([_unit_node(x) for x in u.units])
    node = dict(_to_single(_group_nodes(u.children), u.children))
    if u.optional:
        node["flags"] = node["flags"] + ["optional"]
    return node


def _seq_nodes(children: list) -> list[dict]:
    units = _units(children)
    out: list[dict] = []
    srcs: list[str] = []      # the source spelling behind each node of ``out``
    toks: list[str | None] = []
    i = 0
    while i < len(units):
        u = units[i]
        if isinstance(u, _Group) and u.optional and u.children and \
                isinstance(u.children[-1], _Word) and u.children[-1].text == "...":
            rep = " ".join(_source(c) for c in u.children[:-1])
            if not _apply_repeat(out, srcs, toks, rep):
                # ``[x ...]`` with no ``x`` before it: zero or more x.
                node = _to_single(_seq_nodes(u.children[:-1]), u.children[:-1])
                node = dict(node, flags=node["flags"] + ["optional", "multiple"])
                out.append(node)
                srcs.append(rep)
                toks.append(None)
            i += 1
            continue
        if isinstance(u, _Word) and _is_token(u.text) and i + 1 < len(units):
            nxt = units[i + 1]
            attach = (isinstance(nxt, _Word) and not _is_token(nxt.text)) or \
                isinstance(nxt, _Alt) or (isinstance(nxt, _Group) and not nxt.optional)
            if attach:
                out.append(_with_token(_unit_node(nxt), u.text))
                srcs.append(_source(nxt))
                toks.append(u.text)
                i += 2
                continue
        out.append(_unit_node(u))
        srcs.append(_source(u))
        toks.append(None)
        i += 1
    return out


def _apply_repeat(out: list[dict], srcs: list[str], toks: list, rep: str) -> bool:
    """``x [x ...]``: flag the node(s) ``rep`` repeats as multiple.  False if ``rep`` does
    not repeat what precedes it."""
    for k in range(1, len(out) + 1):
        plain = " ".join(srcs[-k:])
        with_tok = f"{toks[-1]} {srcs[-1]}" if k == 1 and toks[-1] else None
        if rep == plain or rep == with_tok:
            if k == 1:
                node = out[-1]
                flags = node["flags"] + ["multiple"]
                if rep != plain:
                    flags.append("multiple_token")
                node["flags"] = flags
            else:
                block = {"name": "_".join(n["name"] for n in out[-k:]), "type": "block",
                         "flags": ["multiple"], "arguments": out[-k:]}
                del out[-k:], srcs[-k:], toks[-k:]
                out.append(block)
                srcs.append(rep)
                toks.append(None)
            return True
    return False


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------

def parse_args(syntax: str, num_key_specs: int = 1) -> list[dict]:
    """The COMMAND DOCS ``arguments`` tree for a syntax line.

    Key arguments get ``key_spec_index`` in order of appearance (capped at the last key
    spec), as Redis's JSON files number them; with ``num_key_specs == 0`` they get none.
    """
    if not syntax.strip():
        return []
    nodes = _group_nodes(_lex_and_group(syntax).children)
    counter = [0]
    return [_finish(n, num_key_specs, counter) for n in nodes]


def _finish(node: dict, nspecs: int, counter: list[int]) -> dict:
    """Final key order (name, type, key_spec_index, token, flags, arguments), empty flags
    dropped, key spec indexes assigned."""
    out = {"name": node["name"], "type": node["type"]}
    if node["type"] == "key" and nspecs > 0:
        out["key_spec_index"] = min(counter[0], nspecs - 1)
        counter[0] += 1
    if "token" in node:
        out["token"] = node["token"]
    flags = [f for f in ("optional", "multiple", "multiple_token") if f in node["flags"]]
    if flags:
        out["flags"] = flags
    if node["type"] in ("oneof", "block"):
        out["arguments"] = [_finish(a, nspecs, counter) for a in node["arguments"]]
    return out


def render_args(nodes: list[dict]) -> str:
    """The hint text redis-cli builds from an arguments tree (cliConcatArguments)."""
    return " ".join(_render(n) for n in nodes)


def _render(node: dict) -> str:
    typ = node["type"]
    token = node.get("token", "")
    if typ == "oneof":
        rep = "|".join(_render(a) for a in node["arguments"])
    elif typ == "block":
        rep = " ".join(_render(a) for a in node["arguments"])
    elif typ == "pure-token":
        rep = ""
    else:
        rep = node["name"]
    if token and typ != "pure-token":
        token += " "
    flags = node.get("flags", ())
    s = token + rep
    if "multiple" in flags:
        s += " [" + (token if "multiple_token" in flags else "") + rep + " ...]"
    if "optional" in flags:
        s = "[" + s + "]"
    return s
