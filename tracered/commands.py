"""The command table: the mirror of commands.c (and the COMMAND command from server.c).

Redis generates commands.c from one JSON file per command.  Here each command family keeps
its rows next to its procs (``t_string.COMMANDS``, ``db.COMMANDS`` ...), mini-redis style, so
a command's parse, apply, reply and declaration read in one place; this module assembles
them into the single table that lookupCommand, call, COMMAND and ACL categories all read.

A row is a :class:`RedisCommand`: name, proc, arity (negative = at least), flags, the legacy
first/last/step key positions, key specs, ACL categories, group, since, complexity, summary,
and the argument syntax used for COMMAND DOCS (which redis-cli turns into typing hints).
"""

from __future__ import annotations

from collections.abc import Callable

# Command flags (server.h CMD_*), same bits as Redis.
CMD_WRITE = 1 << 0
CMD_READONLY = 1 << 1
CMD_DENYOOM = 1 << 2
CMD_MODULE = 1 << 3
CMD_ADMIN = 1 << 4
CMD_PUBSUB = 1 << 5
CMD_NOSCRIPT = 1 << 6
CMD_BLOCKING = 1 << 8
CMD_LOADING = 1 << 9
CMD_STALE = 1 << 10
CMD_SKIP_MONITOR = 1 << 11
CMD_SKIP_SLOWLOG = 1 << 12
CMD_ASKING = 1 << 13
CMD_FAST = 1 << 14
CMD_NO_AUTH = 1 << 15
CMD_MAY_REPLICATE = 1 << 16
CMD_SENTINEL = 1 << 17
CMD_ONLY_SENTINEL = 1 << 18
CMD_NO_MANDATORY_KEYS = 1 << 19
CMD_PROTECTED = 1 << 20
CMD_MODULE_GETKEYS = 1 << 21
CMD_MODULE_NO_CLUSTER = 1 << 22
CMD_NO_ASYNC_LOADING = 1 << 23
CMD_NO_MULTI = 1 << 24
CMD_MOVABLE_KEYS = 1 << 25
CMD_ALLOW_BUSY = 1 << 26

FLAG_NAMES = {
    "write": CMD_WRITE, "readonly": CMD_READONLY, "denyoom": CMD_DENYOOM,
    "module": CMD_MODULE, "admin": CMD_ADMIN, "pubsub": CMD_PUBSUB, "noscript": CMD_NOSCRIPT,
    "blocking": CMD_BLOCKING, "loading": CMD_LOADING, "stale": CMD_STALE,
    "skip_monitor": CMD_SKIP_MONITOR, "skip_slowlog": CMD_SKIP_SLOWLOG, "asking": CMD_ASKING,
    "fast": CMD_FAST, "no_auth": CMD_NO_AUTH, "may_replicate": CMD_MAY_REPLICATE,
    "sentinel": CMD_SENTINEL, "only_sentinel": CMD_ONLY_SENTINEL,
    "no_mandatory_keys": CMD_NO_MANDATORY_KEYS, "protected": CMD_PROTECTED,
    "no_async_loading": CMD_NO_ASYNC_LOADING, "no_multi": CMD_NO_MULTI,
    "movablekeys": CMD_MOVABLE_KEYS, "allow_busy": CMD_ALLOW_BUSY,
}
# The order COMMAND INFO lists flags in (server.c addReplyCommandFlags).
_FLAG_REPLY_ORDER = ["write", "readonly", "denyoom", "module", "admin", "pubsub", "noscript",
                     "blocking", "loading", "stale", "skip_monitor", "skip_slowlog", "asking",
                     "fast", "no_auth", "may_replicate", "no_mandatory_keys", "no_async_loading",
                     "no_multi", "movablekeys", "allow_busy"]

# ACL categories (server.h ACL_CATEGORY_*).
ACL_CATEGORIES = ["keyspace", "read", "write", "set", "sortedset", "list", "hash", "string",
                  "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow",
                  "blocking", "dangerous", "connection", "transaction", "scripting"]


class KeySpec:
    """A key spec (7.0): where key arguments start (``begin``: an index, or a keyword to
    search for) and how many follow (``find``: range lastkey/step/limit or a keynum)."""

    __slots__ = ("flags", "begin_index", "begin_keyword", "keyword_startfrom", "kind",
                 "lastkey", "keystep", "limit", "keynumidx", "firstkey", "notes")

    def __init__(self, flags: str = "", begin_index: int = 1, begin_keyword: str | None = None,
                 keyword_startfrom: int = 1, kind: str = "range", lastkey: int = 0,
                 keystep: int = 1, limit: int = 0, keynumidx: int = 0, firstkey: int = 1,
                 notes: str | None = None):
        # kind "unknown" (KSPEC_BS_UNKNOWN + KSPEC_FK_UNKNOWN): the keys cannot be found from
        # the arguments' positions (SORT's BY/GET patterns); only the command's getkeys
        # proc knows them.  ``notes`` is the spec's free-text explanation in COMMAND INFO.
        self.flags = flags.split()
        self.begin_index = begin_index
        self.begin_keyword = begin_keyword
        self.keyword_startfrom = keyword_startfrom
        self.kind = kind
        self.lastkey = lastkey
        self.keystep = keystep
        self.limit = limit
        self.keynumidx = keynumidx
        self.firstkey = firstkey
        self.notes = notes


class RedisCommand:
    """redisCommand: one row of the table, plus its run-time statistics."""

    __slots__ = ("name", "fullname", "proc", "arity", "flags", "firstkey", "lastkey", "keystep",
                 "key_specs", "acl_categories", "group", "since", "complexity", "summary",
                 "args", "subcommands", "parent", "calls", "microseconds", "rejected_calls",
                 "failed_calls", "getkeys_proc", "tips", "doc_flags", "deprecated_since",
                 "replaced_by", "history")

    def __init__(self, name: str, proc: Callable | None, arity: int, flags: str = "",
                 keys: tuple[int, int, int] = (0, 0, 0), acl: str = "", group: str = "generic",
                 since: str = "1.0.0", complexity: str = "O(1)", summary: str = "",
                 args: str = "", key_specs: list[KeySpec] | None = None,
                 subcommands: list[RedisCommand] | None = None,
                 getkeys: Callable | None = None, tips: str = "",
                 doc_flags: str = "", deprecated_since: str = "", replaced_by: str = ""):
        self.name = name.lower()
        self.fullname = self.name
        self.proc = proc
        self.arity = arity
        self.flags = 0
        for f in flags.split():
            self.flags |= FLAG_NAMES[f]
        self.firstkey, self.lastkey, self.keystep = keys
        if key_specs is None and keys[0]:
            key_specs = [KeySpec("", keys[0], lastkey=keys[1] - keys[0] if keys[1] >= 0 else
                                 keys[1], keystep=keys[2])]
        self.key_specs = key_specs or []
        cats = set(acl.split())
        # Implicit categories as in Redis's setImplicitACLCategories.
        if self.flags & CMD_WRITE:
            cats.add("write")
        if self.flags & CMD_READONLY and "scripting" not in cats:
            cats.add("read")
        if self.flags & CMD_ADMIN:
            cats.update(("admin", "dangerous"))
        if self.flags & CMD_PUBSUB:
            cats.add("pubsub")
        if self.flags & CMD_FAST:
            cats.add("fast")
        if self.flags & CMD_BLOCKING:
            cats.add("blocking")
        if "fast" not in cats:
            cats.add("slow")
        self.acl_categories = [c for c in ACL_CATEGORIES if c in cats]
        self.group = group
        self.since = since
        self.complexity = complexity
        self.summary = summary
        self.args = args
        self.subcommands: dict[bytes, RedisCommand] | None = None
        self.parent: RedisCommand | None = None
        if subcommands:
            self.subcommands = {}
            for sc in subcommands:
                sc.parent = self
                sc.fullname = f"{self.name}|{sc.name}"
                sc.group = group
                self.subcommands[sc.name.encode()] = sc
        self.calls = 0
        self.microseconds = 0
        self.rejected_calls = 0
        self.failed_calls = 0
        self.getkeys_proc = getkeys
        self.tips = tips.split()
        self.doc_flags = doc_flags.split()
        self.deprecated_since = deprecated_since
        self.replaced_by = replaced_by
        self.history = []

    def __repr__(self) -> str:
        return f"<command {self.fullname} arity={self.arity}>"

    def all_commands(self):
        yield self
        if self.subcommands:
            yield from self.subcommands.values()


def cmd(name: str, proc: Callable | None, arity: int, flags: str = "", **kw) -> RedisCommand:
    """Shorthand used by the family tables."""
    return RedisCommand(name, proc, arity, flags, **kw)


def sub(name: str, proc: Callable | None, arity: int, flags: str = "", **kw) -> RedisCommand:
    return RedisCommand(name, proc, arity, flags, **kw)


# --------------------------------------------------------------------------------------------
# The assembled table
# --------------------------------------------------------------------------------------------

# name (lower-case bytes) -> RedisCommand.  lookup_command also stores the upper-case
# spelling so the two common spellings are one dict probe each.
commands: dict[bytes, RedisCommand] = {}
_lookup: dict[bytes, RedisCommand] = {}


def populate_command_table(tables: list[list[RedisCommand]]) -> None:
    """populateCommandTable: index every family's rows by name."""
    commands.clear()
    _lookup.clear()
    for table in tables:
        for c in table:
            key = c.name.encode()
            commands[key] = c
            _lookup[key] = c
            _lookup[key.upper()] = c


def lookup_command_by_name(name: bytes) -> RedisCommand | None:
    c = _lookup.get(name)
    if c is None:
        c = _lookup.get(name.lower())
    return c


def rebind_proc(old: Callable, new: Callable) -> None:
    """Let the probe system point table rows at a wrapped proc (see trace/probes.py)."""
    for c in commands.values():
        for x in c.all_commands():
            if x.proc is old:
                x.proc = new


def get_keys_from_command(c: RedisCommand, argv: list[bytes]) -> list[int]:
    """getKeysFromCommand: indexes of the key arguments, from the key specs (or the
    command's own getkeys proc for the movable-keys commands)."""
    if c.getkeys_proc is not None:
        return c.getkeys_proc(argv)
    out: list[int] = []
    argc = len(argv)
    for ks in c.key_specs:
        if ks.kind == "unknown":
            continue
        if ks.begin_keyword is not None:
            first = -1
            kw = ks.begin_keyword.encode().lower()
            rng = range(ks.keyword_startfrom, argc - 1) if ks.keyword_startfrom > 0 else \
                range(argc + ks.keyword_startfrom, 0, -1)
            for i in rng:
                if argv[i].lower() == kw:
                    first = i + 1
                    break
            if first < 0:
                continue
        else:
            first = ks.begin_index
            if first >= argc:
                continue
        if ks.kind == "range":
            if ks.lastkey >= 0:
                last = first + ks.lastkey
            else:
                if ks.limit > 1:
                    last = first + ((argc - 1 - first) // ks.limit)
                else:
                    last = argc + ks.lastkey
            last = min(last, argc - 1)
            out.extend(range(first, last + 1, ks.keystep or 1))
        else:  # keynum
            try:
                numkeys = int(argv[first + ks.keynumidx])
            except (ValueError, IndexError):
                continue
            start = first + ks.firstkey
            last = start + (numkeys - 1) * ks.keystep
            if numkeys <= 0 or last >= argc:
                continue
            out.extend(range(start, last + 1, ks.keystep))
    return out
