"""Configuration: the mirror of config.c.

One declarative table (:data:`CONFIGS`) drives everything: the defaults set on the server at
startup, redis.conf parsing, ``--name value`` command-line options, CONFIG GET (glob match
over names and aliases), CONFIG SET (type check, bounds, immutability, apply callback),
CONFIG RESETSTAT and CONFIG REWRITE.

Every config lives on the server object as an attribute named after it with ``-`` turned into
``_`` (``hash-max-listpack-entries`` -> ``server.hash_max_listpack_entries``), so a reader can
find where a setting is used by grepping its name.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

from tracered import util

IMMUTABLE = 1 << 0
SENSITIVE = 1 << 1
DEBUG = 1 << 2
MULTI_ARG = 1 << 3
HIDDEN = 1 << 4
PROTECTED = 1 << 5
DENY_LOADING = 1 << 6
ALIAS = 1 << 7
MODIFIABLE = 0

LLONG_MAX = 2**63 - 1
LONG_MAX = LLONG_MAX
INT_MAX = 2**31 - 1
UINT_MAX = 2**32 - 1


@dataclass
class StandardConfig:
    """standardConfig: name, alias, flags, kind and the type's bounds/choices."""

    name: str
    kind: str                 # bool | int | memory | string | enum | special
    default: object
    flags: int = MODIFIABLE
    alias: str | None = None
    lower: int = 0
    upper: int = LLONG_MAX
    enum: dict[str, object] = field(default_factory=dict)   # text -> value
    apply: Callable | None = None                            # apply(server) -> error str|None
    # special configs: parse(server, args:list[str]) -> error str|None ; render(server) -> str
    parse: Callable | None = None
    render: Callable | None = None

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")


def _b(name, default, flags=MODIFIABLE, alias=None, apply=None):
    return StandardConfig(name, "bool", default, flags, alias, apply=apply)


def _i(name, default, lower, upper, flags=MODIFIABLE, alias=None, apply=None):
    return StandardConfig(name, "int", default, flags, alias, lower, upper, apply=apply)


def _m(name, default, lower, upper, flags=MODIFIABLE, alias=None, apply=None):
    return StandardConfig(name, "memory", default, flags, alias, lower, upper, apply=apply)


def _s(name, default, flags=MODIFIABLE, alias=None, apply=None):
    return StandardConfig(name, "string", default, flags, alias, apply=apply)


def _e(name, default, choices, flags=MODIFIABLE, alias=None, apply=None):
    if isinstance(choices, (list, tuple)):
        choices = {c: c for c in choices}
    return StandardConfig(name, "enum", default, flags, alias, enum=choices, apply=apply)


LOGLEVELS = ["debug", "verbose", "notice", "warning"]
MAXMEMORY_POLICIES = ["volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                      "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"]
PROTECTED_CHOICES = ["no", "yes", "local"]
SHUTDOWN_CHOICES = ["default", "save", "nosave", "now", "force"]


# -- special configs ----------------------------------------------------------------------

def _parse_save(server, args: list[str]) -> str | None:
    if len(args) == 1 and args[0] == "":
        server.save = []
        return None
    if len(args) % 2:
        return "Invalid save parameters"
    points = []
    for i in range(0, len(args), 2):
        try:
            secs, changes = int(args[i]), int(args[i + 1])
        except ValueError:
            return "Invalid save parameters"
        if secs < 1 or changes < 0:
            return "Invalid save parameters"
        points.append((secs, changes))
    server.save = points
    return None


def _render_save(server) -> str:
    return " ".join(f"{s} {c}" for s, c in server.save)


OBUF_CLASSES = {"normal": 0, "slave": 1, "replica": 1, "pubsub": 2}
OBUF_NAMES = ["normal", "slave", "pubsub"]


def _parse_obuf(server, args: list[str]) -> str | None:
    if len(args) % 4:
        return "Wrong number of arguments in buffer limit configuration."
    limits = [list(x) for x in server.client_obuf_limits]
    for i in range(0, len(args), 4):
        cls = OBUF_CLASSES.get(args[i].lower())
        hard, e1 = util.memtoull(args[i + 1])
        soft, e2 = util.memtoull(args[i + 2])
        try:
            secs = int(args[i + 3])
        except ValueError:
            secs = -1
        if cls is None or e1 or e2 or secs < 0:
            return "Invalid client class specified in buffer limit configuration." \
                if cls is None else "Error in hard, soft or soft_seconds setting in buffer " \
                                    "limit configuration."
        limits[cls] = [hard, soft, secs]
    server.client_obuf_limits = limits
    return None


def _render_obuf(server) -> str:
    return " ".join(f"{OBUF_NAMES[i]} {h} {s} {t}"
                    for i, (h, s, t) in enumerate(server.client_obuf_limits))


def _parse_dir(server, args: list[str]) -> str | None:
    if len(args) != 1:
        return "wrong number of arguments"
    try:
        os.chdir(args[0])
    except OSError as e:
        return str(e.strerror)
    server.dir = os.getcwd()
    return None


def _render_dir(server) -> str:
    return os.getcwd()


def _parse_bind(server, args: list[str]) -> str | None:
    if not args or len(args) > 16:
        return "Too many bind addresses specified."
    server.bind = [a.lstrip("-") for a in args if a]
    server.bind_is_default = False
    return None


def _render_bind(server) -> str:
    return " ".join(server.bind)


def _special(name, parse, render, default, flags=MODIFIABLE):
    return StandardConfig(name, "special", default, flags, parse=parse, render=render)


CONFIGS: list[StandardConfig] = [
    # networking
    _special("bind", _parse_bind, _render_bind, "127.0.0.1 -::1", MULTI_ARG),
    _i("port", 6379, 0, 65535, IMMUTABLE),
    _i("tcp-backlog", 511, 0, INT_MAX, IMMUTABLE),
    _i("timeout", 0, 0, INT_MAX),
    _i("tcp-keepalive", 300, 0, INT_MAX),
    _b("protected-mode", True),
    _s("unixsocket", "", IMMUTABLE),
    _i("unixsocketperm", 0, 0, 0o777, IMMUTABLE),
    _i("maxclients", 10000, 1, UINT_MAX),
    _m("proto-max-bulk-len", 512 * 1024 * 1024, 1024 * 1024, LONG_MAX, DEBUG),
    _m("client-query-buffer-limit", 1024 * 1024 * 1024, 1024 * 1024, LONG_MAX, DEBUG),
    _special("client-output-buffer-limit", _parse_obuf, _render_obuf,
             "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
             MULTI_ARG),
    # general
    _b("daemonize", False, IMMUTABLE),
    _s("pidfile", "", IMMUTABLE),
    _e("loglevel", "notice", LOGLEVELS),
    _s("logfile", "", IMMUTABLE),
    _i("databases", 16, 1, INT_MAX, IMMUTABLE),
    _b("always-show-logo", False, IMMUTABLE),
    _b("set-proc-title", True, IMMUTABLE),
    _i("hz", 10, 0, INT_MAX),
    _b("dynamic-hz", True),
    _e("enable-debug-command", "no", PROTECTED_CHOICES, IMMUTABLE),
    _e("enable-module-command", "no", PROTECTED_CHOICES, IMMUTABLE),
    _e("enable-protected-configs", "no", PROTECTED_CHOICES, IMMUTABLE),
    _b("cluster-enabled", False, IMMUTABLE),
    _e("shutdown-on-sigint", "default", SHUTDOWN_CHOICES),
    _e("shutdown-on-sigterm", "default", SHUTDOWN_CHOICES),
    _i("shutdown-timeout", 10, 0, INT_MAX),
    _special("dir", _parse_dir, _render_dir, ".", PROTECTED),
    # security
    _s("requirepass", "", SENSITIVE),
    _s("masterauth", "", SENSITIVE),
    _s("masteruser", ""),
    # memory
    _m("maxmemory", 0, 0, LLONG_MAX),
    _e("maxmemory-policy", "noeviction", MAXMEMORY_POLICIES),
    _i("maxmemory-samples", 5, 1, 64),
    _i("maxmemory-eviction-tenacity", 10, 0, 100),
    _m("maxmemory-clients", 0, 0, LLONG_MAX),
    _i("lfu-log-factor", 10, 0, INT_MAX),
    _i("lfu-decay-time", 1, 0, INT_MAX),
    _b("lazyfree-lazy-eviction", False),
    _b("lazyfree-lazy-expire", False),
    _b("lazyfree-lazy-server-del", False),
    _b("lazyfree-lazy-user-del", False),
    _b("lazyfree-lazy-user-flush", False),
    _i("active-expire-effort", 1, 1, 10),
    _b("activerehashing", True),
    # slowlog / latency
    _i("slowlog-log-slower-than", 10000, -1, LLONG_MAX),
    _i("slowlog-max-len", 128, 0, LONG_MAX),
    _i("latency-monitor-threshold", 0, 0, LLONG_MAX),
    _b("latency-tracking", True),
    _s("latency-tracking-info-percentiles", "50 99 99.9"),
    # encodings
    _m("hash-max-listpack-entries", 512, 0, LONG_MAX, alias="hash-max-ziplist-entries"),
    _m("hash-max-listpack-value", 64, 0, LONG_MAX, alias="hash-max-ziplist-value"),
    _i("list-max-listpack-size", -2, -5, INT_MAX, alias="list-max-ziplist-size"),
    _i("list-compress-depth", 0, 0, INT_MAX, DEBUG),
    _m("set-max-intset-entries", 512, 0, LONG_MAX),
    _m("zset-max-listpack-entries", 128, 0, LONG_MAX, alias="zset-max-ziplist-entries"),
    _m("zset-max-listpack-value", 64, 0, LONG_MAX, alias="zset-max-ziplist-value"),
    _m("hll-sparse-max-bytes", 3000, 0, LONG_MAX),
    _m("stream-node-max-bytes", 4096, 0, LONG_MAX),
    _i("stream-node-max-entries", 100, 0, LLONG_MAX),
    # persistence
    _special("save", _parse_save, _render_save, "3600 1 300 100 60 10000", MULTI_ARG),
    _b("stop-writes-on-bgsave-error", True),
    _b("rdbcompression", True),
    _b("rdbchecksum", True, IMMUTABLE),
    _s("dbfilename", "dump.rdb", PROTECTED),
    _b("rdb-del-sync-files", False),
    _b("rdb-save-incremental-fsync", True),
    _i("rdb-key-save-delay", 0, -(2**31), INT_MAX, HIDDEN),
    _i("key-load-delay", 0, -(2**31), INT_MAX, HIDDEN),
    _b("appendonly", False),
    _s("appendfilename", "appendonly.aof", IMMUTABLE),
    _s("appenddirname", "appendonlydir", IMMUTABLE),
    _e("appendfsync", "everysec", ["always", "everysec", "no"]),
    _b("no-appendfsync-on-rewrite", False),
    _i("auto-aof-rewrite-percentage", 100, 0, INT_MAX),
    _m("auto-aof-rewrite-min-size", 64 * 1024 * 1024, 0, LLONG_MAX),
    _b("aof-load-truncated", True),
    _b("aof-use-rdb-preamble", True),
    _b("aof-rewrite-incremental-fsync", True),
    _b("aof-timestamp-enabled", False),
    # replication
    _b("replica-serve-stale-data", True, alias="slave-serve-stale-data"),
    _b("replica-read-only", True, DEBUG, alias="slave-read-only"),
    _b("repl-diskless-sync", True, DEBUG),
    _i("repl-diskless-sync-delay", 5, 0, INT_MAX),
    _i("repl-diskless-sync-max-replicas", 0, 0, INT_MAX),
    _e("repl-diskless-load", "disabled", ["disabled", "on-empty-db", "swapdb"], DEBUG),
    _i("repl-ping-replica-period", 10, 1, INT_MAX, alias="repl-ping-slave-period"),
    _i("repl-timeout", 60, 1, INT_MAX),
    _b("repl-disable-tcp-nodelay", False),
    _m("repl-backlog-size", 1024 * 1024, 1, LLONG_MAX),
    _i("repl-backlog-ttl", 3600, 0, LONG_MAX),
    _i("replica-priority", 100, 0, INT_MAX, alias="slave-priority"),
    _s("replica-announce-ip", "", alias="slave-announce-ip"),
    _i("replica-announce-port", 0, 0, 65535, alias="slave-announce-port"),
    _b("replica-announced", True),
    _b("replica-lazy-flush", False, alias="slave-lazy-flush"),
    _b("replica-ignore-maxmemory", True, alias="slave-ignore-maxmemory"),
    _i("min-replicas-to-write", 0, 0, INT_MAX, alias="min-slaves-to-write"),
    _i("min-replicas-max-lag", 10, 0, INT_MAX, alias="min-slaves-max-lag"),
    # scripting
    _i("busy-reply-threshold", 5000, 0, LONG_MAX, alias="lua-time-limit"),
    # misc that clients read
    _e("supervised", "no", ["upstart", "systemd", "auto", "no"], IMMUTABLE),
    _e("oom-score-adj", "no", ["no", "yes", "relative", "absolute"]),
    _s("oom-score-adj-values", "0 200 800"),
    _i("io-threads", 1, 1, 128, DEBUG | IMMUTABLE),
    _b("io-threads-do-reads", False, DEBUG | IMMUTABLE),
    _b("activedefrag", False, DEBUG),
    _b("jemalloc-bg-thread", True),
    _i("tracking-table-max-keys", 1000000, 0, LONG_MAX),
    _s("notify-keyspace-events", ""),
    _e("acl-pubsub-default", "resetchannels", ["allchannels", "resetchannels"]),
    _i("acllog-max-len", 128, 0, LONG_MAX),
    _s("aclfile", "", IMMUTABLE),
    _b("crash-log-enabled", True),
    _b("crash-memcheck-enabled", True),
    _b("disable-thp", True, IMMUTABLE),
]

BY_NAME: dict[str, StandardConfig] = {}
for _c in CONFIGS:
    BY_NAME[_c.name] = _c
    if _c.alias:
        BY_NAME[_c.alias] = _c


def register(cfg: StandardConfig) -> None:
    """Add a config from another module (e.g. tracing's trace-sample-ratio)."""
    CONFIGS.append(cfg)
    BY_NAME[cfg.name] = cfg
    if cfg.alias:
        BY_NAME[cfg.alias] = cfg


def init_defaults(server) -> None:
    """initServerConfig's half that sets every config to its default."""
    server.client_obuf_limits = [[0, 0, 0], [256 << 20, 64 << 20, 60], [32 << 20, 8 << 20, 60]]
    server.save = []
    server.bind = ["127.0.0.1", "-::1"]
    for cfg in CONFIGS:
        if cfg.kind == "special":
            if cfg.name in ("dir",):
                server.dir = os.getcwd()
                continue
            cfg.parse(server, str(cfg.default).split())
        else:
            setattr(server, cfg.attr, cfg.default)
    # Divergence: redis-server with no config binds every interface (protected mode then
    # refuses remote clients); tracered binds loopback only unless told otherwise.
    server.bind = ["127.0.0.1", "-::1"]
    server.bind_is_default = True


def _format_value(server, cfg: StandardConfig) -> str:
    if cfg.kind == "special":
        return cfg.render(server)
    v = getattr(server, cfg.attr)
    if cfg.kind == "bool":
        return "yes" if v else "no"
    if cfg.kind == "enum":
        for k, val in cfg.enum.items():
            if val == v:
                return k
        return str(v)
    return str(v)


def _set_value(server, cfg: StandardConfig, args: list[str], starting: bool) -> str | None:
    """Parse and apply one config.  Returns an error text or None."""
    if cfg.kind == "special":
        return cfg.parse(server, args)
    if len(args) != 1:
        return "wrong number of arguments"
    raw = args[0]
    if cfg.kind == "bool":
        low = raw.lower()
        if low not in ("yes", "no"):
            return "argument must be 'yes' or 'no'"
        value: object = low == "yes"
    elif cfg.kind == "int":
        v = util.string2ll(raw.encode())
        if v is None:
            return "argument couldn't be parsed into an integer"
        if v < cfg.lower or v > cfg.upper:
            return f"argument must be between {cfg.lower} and {cfg.upper} inclusive"
        value = v
    elif cfg.kind == "memory":
        v, err = util.memtoull(raw)
        if err:
            neg = raw.startswith("-")
            return "argument must be a memory value" if not neg else \
                "argument must be a memory value"
        if v < cfg.lower or v > cfg.upper:
            return f"argument must be between {cfg.lower} and {cfg.upper} inclusive"
        value = v
    elif cfg.kind == "enum":
        low = raw.lower()
        if low not in cfg.enum:
            return "argument(s) must be one of the following: " + ", ".join(cfg.enum)
        value = cfg.enum[low]
    else:
        value = raw
    old = getattr(server, cfg.attr, None)
    setattr(server, cfg.attr, value)
    if cfg.apply is not None and not starting:
        err = cfg.apply(server)
        if err:
            setattr(server, cfg.attr, old)
            return err
    return None


# --------------------------------------------------------------------------------------------
# redis.conf and command line
# --------------------------------------------------------------------------------------------

class ConfigError(Exception):
    pass


def load_server_config_from_string(server, text: str) -> None:
    """loadServerConfigFromString: one directive a line, arguments split like sdssplitargs."""
    from tracered.resp import split_args

    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        argv = split_args(line.encode())
        if argv is None:
            raise ConfigError(f"Unbalanced quotes in configuration line at line {lineno}")
        if not argv:
            continue
        name = argv[0].decode().lower()
        args = [a.decode("utf-8", "surrogateescape") for a in argv[1:]]
        if name == "include":
            with open(args[0]) as f:
                load_server_config_from_string(server, f.read())
            continue
        if name in ("rename-command", "user", "loadmodule", "sentinel"):
            continue  # not supported: ignored with the rest of the line (see README)
        cfg = BY_NAME.get(name)
        if cfg is None:
            raise ConfigError(f"Bad directive or wrong number of arguments at line {lineno}: "
                              f"'{line}'")
        if cfg.kind == "special" and cfg.flags & MULTI_ARG and name == "save" and \
                getattr(server, "_save_seen", False):
            args = _render_save(server).split() + args
        err = _set_value(server, cfg, args, starting=True)
        if name == "save":
            server._save_seen = True
        if err:
            raise ConfigError(f"*** FATAL CONFIG FILE ERROR (Redis {server.version}) ***\n"
                              f"Reading the configuration file, at line {lineno}\n"
                              f">>> '{line}'\n{err}")


def config_argv_to_text(argv: list[str]) -> tuple[str | None, str]:
    """redis-server's argv handling: an optional config file first, then ``--name value...``
    options appended as config lines (a bare ``-`` reads the config from stdin)."""
    path = None
    if argv and not argv[0].startswith("--"):
        path = argv[0]
        argv = argv[1:]
    lines: list[str] = []
    cur: list[str] = []
    for a in argv:
        if a.startswith("--") and len(a) > 2:
            if cur:
                lines.append(" ".join(cur))
            cur = [a[2:]]
        else:
            cur.append(_quote(a))
    if cur:
        lines.append(" ".join(cur))
    return path, "\n".join(lines)


def _quote(s: str) -> str:
    if s == "":
        return '""'
    if any(ch in s for ch in " \"'\\\t\n"):
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return s


# --------------------------------------------------------------------------------------------
# CONFIG command
# --------------------------------------------------------------------------------------------

def config_get(server, patterns: list[bytes]) -> list[tuple[str, str]]:
    """CONFIG GET: every config whose name (or alias) matches one of the globs, once."""
    out: dict[str, str] = {}
    for pat in patterns:
        p = pat.lower()
        exact = BY_NAME.get(p.decode(errors="replace"))
        if exact is not None and not any(ch in p for ch in b"*?["):
            # An alias asked for by name is answered under that name, like Redis.
            out[p.decode()] = _format_value(server, exact)
            continue
        for cfg in CONFIGS:
            if cfg.flags & HIDDEN:
                continue
            for nm in (cfg.name, cfg.alias):
                if nm and util.string_match_len(p, nm.encode(), False):
                    out.setdefault(nm, _format_value(server, cfg))
    return list(out.items())


def config_set(server, pairs: list[tuple[str, list[str]]]) -> str | None:
    """CONFIG SET name value [name value ...], all or nothing.  Returns an error or None."""
    seen = set()
    olds = []
    for name, args in pairs:
        cfg = BY_NAME.get(name.lower())
        if cfg is None:
            return f"Unknown option or number of arguments for CONFIG SET - '{name}'"
        if cfg.name in seen:
            return f"Duplicate parameter - '{name}'"
        seen.add(cfg.name)
        if cfg.flags & IMMUTABLE:
            return f"CONFIG SET failed (possibly related to argument '{name}') - " \
                   f"can't set immutable config"
        if cfg.flags & PROTECTED and server.enable_protected_configs == "no":
            return f"CONFIG SET failed (possibly related to argument '{name}') - " \
                   f"can't set protected config"
    for name, args in pairs:
        cfg = BY_NAME[name.lower()]
        old = _format_value(server, cfg)
        err = _set_value(server, cfg, args, starting=False)
        if err:
            for c2, v2 in reversed(olds):
                _set_value(server, c2, v2.split() if c2.kind == "special" else [v2], True)
            return f"CONFIG SET failed (possibly related to argument '{name}') - {err}"
        olds.append((cfg, old))
    return None


def rewrite_config(server, path: str) -> None:
    """CONFIG REWRITE: keep the file's comments and lines, replace each set directive in
    place, append changed ones that were not there, drop duplicates."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        lines = []
    from tracered.resp import split_args

    done: set[str] = set()
    out: list[str] = []
    for line in lines:
        s = line.strip()
        argv = split_args(s.encode()) if s and not s.startswith("#") else None
        if not argv:
            out.append(line)
            continue
        cfg = BY_NAME.get(argv[0].decode().lower())
        if cfg is None:
            out.append(line)
            continue
        if cfg.name in done:
            continue
        done.add(cfg.name)
        out.extend(_rewrite_lines(server, cfg))
    changed = [c for c in CONFIGS if c.name not in done and not c.flags & HIDDEN
               and _format_value(server, c) != _default_text(server, c)]
    if changed:
        out.append("# Generated by CONFIG REWRITE")
        for c in changed:
            out.extend(_rewrite_lines(server, c))
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        f.write("\n".join(out) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _rewrite_lines(server, cfg: StandardConfig) -> list[str]:
    v = _format_value(server, cfg)
    if cfg.name == "save":
        if not server.save:
            return ['save ""']
        return [f"save {s} {c}" for s, c in server.save]
    if cfg.name == "client-output-buffer-limit":
        return [f"client-output-buffer-limit {OBUF_NAMES[i]} {h} {s} {t}"
                for i, (h, s, t) in enumerate(server.client_obuf_limits)]
    return [f"{cfg.name} {_quote(v) if cfg.kind == 'string' else v}"]


def _default_text(server, cfg: StandardConfig) -> str:
    if cfg.kind == "bool":
        return "yes" if cfg.default else "no"
    if cfg.name == "dir":
        return _format_value(server, cfg)
    if cfg.kind == "special":
        return str(cfg.default)
    return str(cfg.default)
