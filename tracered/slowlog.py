"""The SLOWLOG command: the mirror of slowlog.c's slowlogCommand.

The log itself is ``server.slowlog``, newest entry first, filled by
server.slowlog_push (slowlogPushEntryIfNeeded) from call() when a command ran for at least
``slowlog-log-slower-than`` microseconds, and trimmed to ``slowlog-max-len``.  An entry is
the tuple ``(id, unix time, duration us, args, client addr bytes, client name bytes)`` with
at most 32 arguments of at most 128 bytes each (longer ones are summarised, as in Redis).
"""

from __future__ import annotations

from tracered import networking as net
from tracered import shared, util
from tracered.commands import cmd, sub
from tracered.server import server

SLOWLOG_HELP = [
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
]

LONG_MAX = 2**63 - 1


def slowlog_reset() -> None:
    """slowlogReset."""
    server.slowlog.clear()


def slowlog_get_command(c: net.Client) -> None:
    """SLOWLOG GET [count]: the newest ``count`` entries (10 by default, -1 for all), each
    [id, timestamp, duration, [args...], "ip:port", client name]."""
    argv = c.argv
    if len(argv) > 3:
        net.add_reply_subcommand_syntax_error(c)
        return
    count = 10
    if len(argv) == 3:
        v = util.string2ll(argv[2])
        if v is None or v < -1 or v > LONG_MAX:
            net.add_reply_error(c, "count should be greater than or equal to -1")
            return
        count = len(server.slowlog) if v == -1 else v
    entries = server.slowlog[:count]
    out = [shared.mbulkhdr[len(entries)] if len(entries) < 1024
           else b"*%d\r\n" % len(entries)]
    for eid, when, duration, args, peerid, cname in entries:
        out.append(b"*6\r\n:%d\r\n:%d\r\n:%d\r\n*%d\r\n" % (eid, when, duration, len(args)))
        out.extend(net.bulk(a) for a in args)
        out.append(net.bulk(peerid))
        out.append(net.bulk(cname))
    net.add_reply(c, b"".join(out))


def slowlog_len_command(c: net.Client) -> None:
    net.add_reply_long_long(c, len(server.slowlog))


def slowlog_reset_command(c: net.Client) -> None:
    slowlog_reset()
    net.add_reply(c, shared.ok)


def slowlog_help_command(c: net.Client) -> None:
    net.add_reply_help(c, SLOWLOG_HELP)


_ALL_NODES = "request_policy:all_nodes"

COMMANDS = [
    cmd("slowlog", None, -2, "", group="server", since="2.2.12",
        complexity="Depends on subcommand.", summary="A container for slow log commands",
        subcommands=[
            sub("get", slowlog_get_command, -2, "admin loading stale", since="2.2.12",
                complexity="O(N) where N is the number of entries returned",
                summary="Get the slow log's entries", args="[count]",
                tips=f"{_ALL_NODES} nondeterministic_output"),
            sub("help", slowlog_help_command, 2, "loading stale", since="6.2.0",
                summary="Show helpful text about the different subcommands"),
            sub("len", slowlog_len_command, 2, "admin loading stale", since="2.2.12",
                summary="Get the slow log's length",
                tips=f"{_ALL_NODES} response_policy:agg_sum nondeterministic_output"),
            sub("reset", slowlog_reset_command, 2, "admin loading stale", since="2.2.12",
                complexity="O(N) where N is the number of entries in the slowlog",
                summary="Clear all entries from the slow log",
                tips=f"{_ALL_NODES} response_policy:all_succeeded"),
        ]),
]
