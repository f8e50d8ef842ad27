"""The COMMAND command: the mirror of commandCommand and its subcommands in server.c
(addReplyCommandInfo, addReplyCommandDocs, addReplyCommandKeySpecs, getKeysSubcommandImpl,
commandListWithFilter ...), reading the one command table assembled in commands.py.

Reply shapes are Redis 7.0's:

* COMMAND / COMMAND INFO: per command ``[name, arity, flags, first key, last key, step,
  ACL categories, tips, key specs, subcommands]``.
* COMMAND DOCS: a map ``name -> {summary, since, group, complexity, doc_flags,
  deprecated_since, replaced_by, history, arguments, subcommands}`` (absent fields left
  out); the argument trees come from the rows' syntax lines (command_docs.py).

Divergence: the table never changes after startup, so each command's INFO and DOCS reply
is encoded once per protocol version and cached; Redis formats them on every call.
Divergence: commands whose keys come from a ``getkeys`` proc report, in COMMAND
GETKEYSANDFLAGS, the flags of their first key spec (Redis's procs set flags per key).
"""

from __future__ import annotations

from tracered import command_docs, commands, shared, util
from tracered import networking as net
from tracered.commands import ACL_CATEGORIES, FLAG_NAMES, RedisCommand, cmd, sub
from tracered.server import server

# addReplyFlagsForCommand: the flags COMMAND shows, in its order.  may_replicate, sentinel,
# only_sentinel and protected are internal and hidden, as in Redis.
_INFO_FLAGS = [(FLAG_NAMES[n], n) for n in (
    "write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript", "blocking",
    "loading", "stale", "skip_monitor", "skip_slowlog", "asking", "fast", "no_auth",
    "no_mandatory_keys", "no_async_loading", "no_multi", "movablekeys", "allow_busy")]
# addReplyFlagsForKeyArgs order.
_KEY_FLAG_ORDER = ["RO", "RW", "OW", "RM", "access", "update", "insert", "delete", "not_key",
                   "incomplete", "variable_flags"]
_DOC_FLAG_ORDER = ["deprecated", "syscmd"]


# --------------------------------------------------------------------------------------------
# A small reply encoder (bytes for one protocol version)
# --------------------------------------------------------------------------------------------

class _Enc:
    """Collects the protocol bytes of one reply; RESP3 aggregates degrade to RESP2 arrays
    exactly as networking.add_reply_map_len / add_reply_set_len do."""

    __slots__ = ("resp", "parts")

    def __init__(self, resp: int) -> None:
        self.resp = resp
        self.parts: list[bytes] = []

    def array_len(self, n: int) -> None:
        self.parts.append(b"*%d\r\n" % n)

    def map_len(self, n: int) -> None:
        self.parts.append(b"%%%d\r\n" % n if self.resp == 3 else b"*%d\r\n" % (2 * n))

    def set_len(self, n: int) -> None:
        self.parts.append(b"~%d\r\n" % n if self.resp == 3 else b"*%d\r\n" % n)

    def bulk(self, s: str | bytes) -> None:
        if isinstance(s, str):
            s = s.encode()
        self.parts.append(net.bulk(s))

    def status(self, s: str) -> None:
        self.parts.append(b"+" + s.encode() + b"\r\n")

    def integer(self, v: int) -> None:
        self.parts.append(b":%d\r\n" % v)

    def null(self) -> None:
        self.parts.append(shared.null[self.resp])

    def getvalue(self) -> bytes:
        return b"".join(self.parts)


def _flag_set(e: _Enc, names: list[str]) -> None:
    """addReplyCommandFlags: a set of status replies."""
    e.set_len(len(names))
    for n in names:
        e.status(n)


_KEY_FLAG_CANON = {f.lower(): f for f in _KEY_FLAG_ORDER}


def _key_flags(spec_flags: list[str]) -> list[str]:
    """A key spec's flags in Redis's spelling and order (rows may write ``RW ACCESS``)."""
    have = {_KEY_FLAG_CANON.get(f.lower()) for f in spec_flags}
    return [f for f in _KEY_FLAG_ORDER if f in have]


def _is_key(ks) -> bool:
    """Not a NOT_KEY spec (those describe arguments that only look like keys)."""
    return not any(f.lower() == "not_key" for f in ks.flags)


# --------------------------------------------------------------------------------------------
# COMMAND INFO
# --------------------------------------------------------------------------------------------

def _encode_key_specs(e: _Enc, c: RedisCommand) -> None:
    """addReplyCommandKeySpecs."""
    e.set_len(len(c.key_specs))
    for ks in c.key_specs:
        e.map_len(4 if ks.notes else 3)
        if ks.notes:
            e.bulk("notes")
            e.bulk(ks.notes)
        e.bulk("flags")
        _flag_set(e, _key_flags(ks.flags))
        e.bulk("begin_search")
        e.map_len(2)
        e.bulk("type")
        if ks.kind == "unknown":
            e.bulk("unknown")
            e.bulk("spec")
            e.map_len(0)
        elif ks.begin_keyword is not None:
            e.bulk("keyword")
            e.bulk("spec")
            e.map_len(2)
            e.bulk("keyword")
            e.bulk(ks.begin_keyword)
            e.bulk("startfrom")
            e.integer(ks.keyword_startfrom)
        else:
            e.bulk("index")
            e.bulk("spec")
            e.map_len(1)
            e.bulk("index")
            e.integer(ks.begin_index)
        e.bulk("find_keys")
        e.map_len(2)
        e.bulk("type")
        if ks.kind == "unknown":
            e.bulk("unknown")
            e.bulk("spec")
            e.map_len(0)
        elif ks.kind == "keynum":
            e.bulk("keynum")
            e.bulk("spec")
            e.map_len(3)
            e.bulk("keynumidx")
            e.integer(ks.keynumidx)
            e.bulk("firstkey")
            e.integer(ks.firstkey)
            e.bulk("keystep")
            e.integer(ks.keystep)
        else:
            e.bulk("range")
            e.bulk("spec")
            e.map_len(3)
            e.bulk("lastkey")
            e.integer(ks.lastkey)
            e.bulk("keystep")
            e.integer(ks.keystep)
            e.bulk("limit")
            e.integer(ks.limit)


def _encode_info(e: _Enc, c: RedisCommand) -> None:
    """addReplyCommandInfo."""
    e.array_len(10)
    e.bulk(c.fullname)
    e.integer(c.arity)
    _flag_set(e, [name for bit, name in _INFO_FLAGS if c.flags & bit])
    e.integer(c.firstkey)
    e.integer(c.lastkey)
    e.integer(c.keystep)
    _flag_set(e, ["@" + cat for cat in c.acl_categories])
    e.set_len(len(c.tips))
    for t in c.tips:
        e.bulk(t)
    _encode_key_specs(e, c)
    if c.subcommands:
        e.array_len(len(c.subcommands))
        for s in c.subcommands.values():
            _encode_info(e, s)
    else:
        e.set_len(0)


# --------------------------------------------------------------------------------------------
# COMMAND DOCS
# --------------------------------------------------------------------------------------------

def command_arguments(c: RedisCommand) -> list[dict]:
    """The argument tree of a command (parsed from its syntax line, cached)."""
    tree = _args_cache.get(c)
    if tree is None:
        try:
            tree = command_docs.parse_args(c.args, len(c.key_specs))
        except command_docs.SyntaxDocError as err:
            server.log_warning(f"COMMAND DOCS: bad syntax line for '{c.fullname}': {err}")
            tree = []
        _args_cache[c] = tree
    return tree


_args_cache: dict[RedisCommand, list[dict]] = {}


def _encode_arg(e: _Enc, a: dict) -> None:
    """addReplyCommandArgList, one argument."""
    e.map_len(len(a))
    for k, v in a.items():
        e.bulk(k)
        if k == "flags":
            _flag_set(e, v)
        elif k == "arguments":
            e.array_len(len(v))
            for sa in v:
                _encode_arg(e, sa)
        elif k == "key_spec_index":
            e.integer(v)
        else:
            e.bulk(v)


def _encode_docs(e: _Enc, c: RedisCommand) -> None:
    """addReplyCommandDocs."""
    fields: list[tuple[str, object]] = []
    if c.summary:
        fields.append(("summary", c.summary))
    if c.since:
        fields.append(("since", c.since))
    fields.append(("group", c.group))
    if c.complexity:
        fields.append(("complexity", c.complexity))
    if c.doc_flags:
        fields.append(("doc_flags", None))
    if c.deprecated_since:
        fields.append(("deprecated_since", c.deprecated_since))
    if c.replaced_by:
        fields.append(("replaced_by", c.replaced_by))
    if c.history:
        fields.append(("history", None))
    args = command_arguments(c) if c.args else None
    if args:
        fields.append(("arguments", None))
    if c.subcommands:
        fields.append(("subcommands", None))
    e.map_len(len(fields))
    for k, v in fields:
        e.bulk(k)
        if k == "doc_flags":
            _flag_set(e, [f for f in _DOC_FLAG_ORDER if f in c.doc_flags])
        elif k == "history":
            e.set_len(len(c.history))
            for since, change in c.history:
                e.array_len(2)
                e.bulk(since)
                e.bulk(change)
        elif k == "arguments":
            e.array_len(len(args))
            for a in args:
                _encode_arg(e, a)
        elif k == "subcommands":
            e.map_len(len(c.subcommands))
            for s in c.subcommands.values():
                e.bulk(s.fullname)
                _encode_docs(e, s)
        else:
            e.bulk(v)


_reply_cache: dict[tuple[str, RedisCommand, int], bytes] = {}


def _cached(kind: str, c: RedisCommand, resp: int) -> bytes:
    key = (kind, c, resp)
    out = _reply_cache.get(key)
    if out is None:
        e = _Enc(resp)
        (_encode_info if kind == "info" else _encode_docs)(e, c)
        out = _reply_cache[key] = e.getvalue()
    return out


def lookup_command_by_fullname(name: bytes) -> RedisCommand | None:
    """lookupCommandBySds: ``get`` or ``config|get``; None for anything else."""
    parts = name.split(b"|")
    if len(parts) > 2:
        return None
    base = commands.lookup_command_by_name(parts[0])
    if base is None or len(parts) == 1:
        return base
    if not base.subcommands:
        return None
    return base.subcommands.get(parts[1].lower())


# --------------------------------------------------------------------------------------------
# Key extraction (getKeysUsingKeySpecs / getKeysSubcommandImpl)
# --------------------------------------------------------------------------------------------

def get_keys_using_key_specs(c: RedisCommand, argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """getKeysUsingKeySpecs: (position, key spec flags) of every key argument.  Raises
    ValueError when a spec does not fit the arguments (Redis returns -1: invalid)."""
    out: list[tuple[int, list[str]]] = []
    argc = len(argv)
    for ks in c.key_specs:
        if not _is_key(ks):
            continue
        if ks.kind == "unknown":
            raise ValueError("unknown key spec")   # only the getkeys proc knows
        if ks.begin_keyword is not None:
            first = 0
            kw = ks.begin_keyword.encode().lower()
            # Like Redis's loop, a forward search stops before the last argument (a
            # keyword there would have no key after it).
            if ks.keyword_startfrom > 0:
                rng = range(ks.keyword_startfrom, argc - 1)
            else:
                rng = range(argc + ks.keyword_startfrom, 0, -1)
            for i in rng:
                if i < 1 or i >= argc:
                    break
                if argv[i].lower() == kw:
                    first = i + 1
                    break
            if not first:
                continue
        else:
            first = ks.begin_index
        if ks.kind == "keynum":
            step = ks.keystep
            if first + ks.keynumidx >= argc:
                raise ValueError("keynum index out of range")
            numkeys = util.string2ll(argv[first + ks.keynumidx])
            if numkeys is None or numkeys < 0:
                raise ValueError("bad numkeys")
            first += ks.firstkey
            last = first + numkeys - 1
        else:
            step = ks.keystep
            if ks.lastkey >= 0:
                last = first + ks.lastkey
            elif not ks.limit:
                last = argc + ks.lastkey
            else:
                last = first + ((argc - first) // ks.limit + ks.lastkey)
        if last >= argc or last < first or first >= argc:
            raise ValueError("key range out of bounds")
        flags = _key_flags(ks.flags)
        for i in range(first, last + 1, step or 1):
            out.append((i, flags))
        if "incomplete" in flags:
            raise ValueError("incomplete key spec")
    return out


def get_keys_from_command_with_specs(c: RedisCommand,
                                     argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """getKeysFromCommandWithSpecs: key specs when they are reliable, else the command's
    own getkeys proc."""
    has_specs = any(_is_key(ks) for ks in c.key_specs)
    varflags = any("variable_flags" in _key_flags(ks.flags) for ks in c.key_specs)
    if has_specs and (not varflags or c.getkeys_proc is None):
        try:
            return get_keys_using_key_specs(c, argv)
        except ValueError:
            if c.getkeys_proc is None:
                return []
    if c.getkeys_proc is not None:
        flags = _key_flags(c.key_specs[0].flags) if c.key_specs else []
        return [(p, flags) for p in c.getkeys_proc(argv)]
    return []


def _get_keys_subcommand(c: net.Client, with_flags: bool) -> None:
    """getKeysSubcommandImpl: COMMAND GETKEYS / GETKEYSANDFLAGS <full command>."""
    from tracered import server as server_module

    argv = c.argv[2:]
    target = server_module.lookup_command(argv)
    if target is None:
        net.add_reply_error(c, "Invalid command specified")
        return
    if target.getkeys_proc is None and \
            not any(_is_key(ks) for ks in target.key_specs):
        net.add_reply_error(c, "The command has no key arguments")
        return
    argc = len(argv)
    if (target.arity > 0 and target.arity != argc) or argc < -target.arity:
        net.add_reply_error(c, "Invalid number of arguments specified for command")
        return
    keys = get_keys_from_command_with_specs(target, argv)
    if not keys and not target.flags & commands.CMD_NO_MANDATORY_KEYS:
        net.add_reply_error(c, "Invalid arguments specified for command")
        return
    e = _Enc(c.resp)
    e.array_len(len(keys))
    for pos, flags in keys:
        if with_flags:
            e.array_len(2)
            e.bulk(argv[pos])
            _flag_set(e, flags)
        else:
            e.bulk(argv[pos])
    net.add_reply(c, e.getvalue())


# --------------------------------------------------------------------------------------------
# The procs
# --------------------------------------------------------------------------------------------

def command_command(c: net.Client) -> None:
    """COMMAND: the INFO of every command."""
    table = commands.commands
    resp = c.resp
    parts = [b"*%d\r\n" % len(table)]
    parts.extend(_cached("info", x, resp) for x in table.values())
    net.add_reply(c, b"".join(parts))


def command_count_command(c: net.Client) -> None:
    net.add_reply_long_long(c, len(commands.commands))


def command_info_command(c: net.Client) -> None:
    """COMMAND INFO [name ...]: all commands without names; a null for unknown names."""
    resp = c.resp
    if len(c.argv) == 2:
        command_command(c)
        return
    parts = [b"*%d\r\n" % (len(c.argv) - 2)]
    for name in c.argv[2:]:
        x = lookup_command_by_fullname(name)
        parts.append(shared.null[resp] if x is None else _cached("info", x, resp))
    net.add_reply(c, b"".join(parts))


def command_docs_command(c: net.Client) -> None:
    """COMMAND DOCS [name ...]: a map of name -> docs; unknown names are skipped."""
    resp = c.resp
    if len(c.argv) == 2:
        found = list(commands.commands.values())
    else:
        found = [x for x in map(lookup_command_by_fullname, c.argv[2:]) if x is not None]
    e = _Enc(resp)
    e.map_len(len(found))
    parts = e.parts
    for x in found:
        parts.append(net.bulk(x.fullname.encode()))
        parts.append(_cached("docs", x, resp))
    net.add_reply(c, e.getvalue())


def command_getkeys_command(c: net.Client) -> None:
    _get_keys_subcommand(c, False)


def command_getkeysandflags_command(c: net.Client) -> None:
    _get_keys_subcommand(c, True)


def _all_with_subcommands():
    for x in commands.commands.values():
        yield x
        if x.subcommands:
            yield from x.subcommands.values()


def command_list_command(c: net.Client) -> None:
    """COMMAND LIST [FILTERBY MODULE name|ACLCAT category|PATTERN pattern]."""
    argv = c.argv
    filt = None
    i = 2
    while i < len(argv):
        if argv[i].lower() == b"filterby" and len(argv) - 1 - i == 2:
            kind = argv[i + 1].lower()
            if kind not in (b"module", b"aclcat", b"pattern"):
                net.add_reply_error_object(c, shared.syntaxerr)
                return
            filt = (kind, argv[i + 2])
            i += 3
        else:
            net.add_reply_error_object(c, shared.syntaxerr)
            return
    if filt is None:
        names = [x.fullname.encode() for x in _all_with_subcommands()]
    elif filt[0] == b"module":
        names = []  # no modules are ever loaded
    elif filt[0] == b"aclcat":
        cat = filt[1].decode(errors="replace").lower()
        names = [] if cat not in ACL_CATEGORIES else [
            x.fullname.encode() for x in _all_with_subcommands() if cat in x.acl_categories]
    else:
        match = util.compile_string_match(filt[1], True)
        names = [n for n in (x.fullname.encode() for x in _all_with_subcommands())
                 if match(n)]
    net.add_reply_bulk_array(c, names)


_COMMAND_HELP = [
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
]


def command_help_command(c: net.Client) -> None:
    net.add_reply_help(c, _COMMAND_HELP)


_F = "loading stale sentinel"

COMMANDS = [
    cmd("command", command_command, -1, _F, acl="connection", group="server",
        since="2.8.13", complexity="O(N) where N is the total number of Redis commands",
        summary="Get array of Redis command details", tips="nondeterministic_output_order",
        subcommands=[
            sub("count", command_count_command, 2, _F, acl="connection", since="2.8.13",
                summary="Get total number of Redis commands"),
            sub("docs", command_docs_command, -2, _F, acl="connection", since="7.0.0",
                complexity="O(N) where N is the number of commands to look up",
                summary="Get array of specific Redis command documentation",
                tips="nondeterministic_output_order",
                args="[command-name [command-name ...]]"),
            sub("getkeys", command_getkeys_command, -4, _F, acl="connection",
                since="2.8.13",
                complexity="O(N) where N is the number of arguments to the command",
                summary="Extract keys given a full Redis command"),
            sub("getkeysandflags", command_getkeysandflags_command, -4, _F,
                acl="connection", since="7.0.0",
                complexity="O(N) where N is the number of arguments to the command",
                summary="Extract keys and access flags given a full Redis command"),
            sub("help", command_help_command, 2, _F, acl="connection", since="5.0.0",
                summary="Show helpful text about the different subcommands"),
            sub("info", command_info_command, -2, _F, acl="connection", since="2.8.13",
                complexity="O(N) where N is the number of commands to look up",
                summary="Get array of specific Redis command details, or all when no "
                        "argument is given.",
                tips="nondeterministic_output_order",
                args="[command-name [command-name ...]]"),
            sub("list", command_list_command, -2, _F, acl="connection", since="7.0.0",
                complexity="O(N) where N is the total number of Redis commands",
                summary="Get an array of Redis command names",
                tips="nondeterministic_output_order",
                args="[FILTERBY <MODULE module-name|ACLCAT category|PATTERN pattern>]"),
        ]),
]
