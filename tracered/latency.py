"""The latency monitor and per-command latency histograms: the mirror of latency.c (plus
the slice of hdr_histogram Redis uses for ``INFO latencystats`` / ``LATENCY HISTOGRAM``).

Latency monitor: when ``latency-monitor-threshold`` is non-zero, events that took at least
that many milliseconds are recorded per event name ("command", "fast-command", later
"fork", "aof-fsync-always" ...) in a ring of the last 160 samples, one sample a second
(the worst one).  LATENCY LATEST / HISTORY / RESET / DOCTOR / GRAPH read it.

Command histograms: call() records every command's duration into a histogram with HDR's
bucketing (2 significant decimal digits, 1 ns .. 1 s), so percentiles come out with the
same resolution as Redis's (``p50=5.023`` for a 5 us command).

Divergence: Redis keeps the histogram pointer on the command struct; RedisCommand here has
fixed ``__slots__``, so histograms live in :data:`command_histograms` keyed by the command.
LATENCY GRAPH draws a plain bar chart instead of Redis's sparkline renderer.
"""

from __future__ import annotations

import time

from tracered import networking as net
from tracered.commands import cmd, lookup_command_by_name, sub
from tracered.server import server

LATENCY_TS_LEN = 160

# LATENCY_HISTOGRAM_MIN_VALUE / MAX_VALUE / PRECISION (server.h)
LATENCY_HISTOGRAM_MIN_VALUE = 1
LATENCY_HISTOGRAM_MAX_VALUE = 1_000_000_000


# --------------------------------------------------------------------------------------------
# hdr_histogram (the parts Redis uses)
# --------------------------------------------------------------------------------------------

# hdr_init(1, 1e9, 2): 2 significant digits need 2*10^2 = 200 values of unit resolution,
# rounded up to 256 sub-buckets; each further bucket doubles the unit.
_SUB_BUCKET_COUNT_MAGNITUDE = 8
_SUB_BUCKET_HALF_COUNT_MAGNITUDE = _SUB_BUCKET_COUNT_MAGNITUDE - 1
_SUB_BUCKET_HALF_COUNT = 1 << _SUB_BUCKET_HALF_COUNT_MAGNITUDE
_SUB_BUCKET_MASK = (1 << _SUB_BUCKET_COUNT_MAGNITUDE) - 1


def _counts_index_for(value: int) -> int:
    """counts_index_for with unit_magnitude 0 (lowest trackable value 1)."""
    bucket_index = (value | _SUB_BUCKET_MASK).bit_length() - (_SUB_BUCKET_HALF_COUNT_MAGNITUDE
                                                             + 1)
    sub_bucket_index = value >> bucket_index
    return ((bucket_index + 1) << _SUB_BUCKET_HALF_COUNT_MAGNITUDE) + \
        (sub_bucket_index - _SUB_BUCKET_HALF_COUNT)


def _value_at_index(index: int) -> int:
    bucket_index = (index >> _SUB_BUCKET_HALF_COUNT_MAGNITUDE) - 1
    sub_bucket_index = (index & (_SUB_BUCKET_HALF_COUNT - 1)) + _SUB_BUCKET_HALF_COUNT
    if bucket_index < 0:
        sub_bucket_index -= _SUB_BUCKET_HALF_COUNT
        bucket_index = 0
    return sub_bucket_index << bucket_index


def _size_of_equivalent_range(value: int) -> int:
    bucket_index = (value | _SUB_BUCKET_MASK).bit_length() - (_SUB_BUCKET_HALF_COUNT_MAGNITUDE
                                                             + 1)
    sub_bucket_index = value >> bucket_index
    adjusted = bucket_index + 1 if sub_bucket_index >= (1 << _SUB_BUCKET_COUNT_MAGNITUDE) \
        else bucket_index
    return 1 << adjusted


def _lowest_equivalent_value(value: int) -> int:
    bucket_index = (value | _SUB_BUCKET_MASK).bit_length() - (_SUB_BUCKET_HALF_COUNT_MAGNITUDE
                                                             + 1)
    return (value >> bucket_index) << bucket_index


def _highest_equivalent_value(value: int) -> int:
    return _lowest_equivalent_value(value) + _size_of_equivalent_range(value) - 1


class HdrHistogram:
    """hdr_histogram: sparse counts (index -> count) with HDR's bucket layout."""

    __slots__ = ("counts", "total_count")

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total_count = 0

    def record_value(self, value: int) -> None:
        """hdr_record_value."""
        idx = _counts_index_for(value)
        counts = self.counts
        counts[idx] = counts.get(idx, 0) + 1
        self.total_count += 1

    def value_at_percentile(self, percentile: float) -> int:
        """hdr_value_at_percentile: the highest value equivalent to the one where the
        cumulative count reaches percentile% of the samples (rounded half up)."""
        requested = min(percentile, 100.0)
        count_at = int((requested / 100) * self.total_count + 0.5)
        count_at = max(count_at, 1)
        total = 0
        value = 0
        for idx in sorted(self.counts):
            total += self.counts[idx]
            if total >= count_at:
                value = _value_at_index(idx)
                break
        if percentile == 0.0:
            return _lowest_equivalent_value(value)
        return _highest_equivalent_value(value)

    def log_buckets(self) -> list[tuple[int, int]]:
        """What fillCommandCDF reads from hdr_iter_log_init(1024, 2): at each reporting
        level 1024, 2048, 4096 ... ns, the highest value equivalent to the level and the
        count of samples up to and including the level's bucket; levels that add nothing
        are skipped, and the walk stops once every sample is counted."""
        out: list[tuple[int, int]] = []
        items = sorted(self.counts.items())
        n = len(items)
        cumulative = prev = i = 0
        level = 1024
        while cumulative < self.total_count and level <= 1 << 30:
            trigger = _counts_index_for(level)
            while i < n and items[i][0] <= trigger:
                cumulative += items[i][1]
                i += 1
            if cumulative > prev:
                out.append((_highest_equivalent_value(level), cumulative))
            prev = cumulative
            level *= 2
        return out


# RedisCommand -> HdrHistogram, created on first use (updateCommandLatencyHistogram).
command_histograms: dict = {}


def update_command_latency_histogram(cmd, duration_us: int) -> None:
    """updateCommandLatencyHistogram: record one call, in nanoseconds like Redis (which
    measures in microseconds and multiplies by 1000), clamped to 1 ns .. 1 s.

    For call(): ``if server.latency_tracking and not c.flags & CLIENT_BLOCKED:``.
    """
    v = duration_us * 1000
    if v < LATENCY_HISTOGRAM_MIN_VALUE:
        v = LATENCY_HISTOGRAM_MIN_VALUE
    elif v > LATENCY_HISTOGRAM_MAX_VALUE:
        v = LATENCY_HISTOGRAM_MAX_VALUE
    h = command_histograms.get(cmd)
    if h is None:
        h = command_histograms[cmd] = HdrHistogram()
    h.record_value(v)


def reset_command_histograms() -> None:
    command_histograms.clear()


# --------------------------------------------------------------------------------------------
# Latency monitor
# --------------------------------------------------------------------------------------------

class LatencyTimeSeries:
    """latencyTimeSeries: a ring of (unix time, ms) samples and the all-time max."""

    __slots__ = ("idx", "max", "samples")

    def __init__(self) -> None:
        self.idx = 0
        self.max = 0
        self.samples: list[list[int]] = [[0, 0] for _ in range(LATENCY_TS_LEN)]


# event name -> LatencyTimeSeries (server.latency_events)
latency_events: dict[str, LatencyTimeSeries] = {}


def latency_add_sample_if_needed(event: str, ms: int) -> None:
    """latencyAddSampleIfNeeded: record when monitoring is on and ms >= the threshold.

    call() uses event "fast-command" for CMD_FAST commands, "command" otherwise."""
    threshold = server.latency_monitor_threshold
    if threshold and ms >= threshold:
        latency_add_sample(event, ms)


def latency_add_sample(event: str, ms: int) -> None:
    """latencyAddSample: one sample per second per event, keeping that second's worst."""
    ts = latency_events.get(event)
    now = int(time.time())
    if ts is None:
        ts = latency_events[event] = LatencyTimeSeries()
    if ms > ts.max:
        ts.max = ms
    prev = ts.samples[(ts.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN]
    if prev[0] == now:
        if ms > prev[1]:
            prev[1] = ms
        return
    ts.samples[ts.idx] = [now, ms]
    ts.idx = (ts.idx + 1) % LATENCY_TS_LEN


def latency_reset_event(event: str | None) -> int:
    """latencyResetEvent: drop one event (case-insensitive) or all; returns how many."""
    names = [e for e in latency_events if event is None or e.lower() == event.lower()]
    for e in names:
        del latency_events[e]
    return len(names)


def analyze_latency_for_event(event: str) -> dict:
    """analyzeLatencyForEvent: samples, avg, min, max, mean absolute deviation, period."""
    ts = latency_events.get(event)
    ls = {"all_time_high": ts.max if ts else 0, "avg": 0, "min": 0, "max": 0, "mad": 0,
          "samples": 0, "period": 0}
    if ts is None:
        return ls
    vals = [(t, lat) for t, lat in ts.samples if t]
    if not vals:
        return ls
    lats = [lat for _, lat in vals]
    ls["samples"] = len(vals)
    ls["min"], ls["max"] = min(lats), max(lats)
    ls["avg"] = sum(lats) // len(lats)
    ls["period"] = max(1, int(time.time()) - min(t for t, _ in vals))
    ls["mad"] = sum(abs(ls["avg"] - lat) for lat in lats) // len(lats)
    return ls


def create_latency_report() -> str:
    """createLatencyReport: LATENCY DOCTOR's text (events, then the advice they call for).

    Divergence: only the advice for events tracered records (command, fast-command,
    expire-cycle, eviction-*, fork, aof-*) is produced; the THP check is skipped."""
    if not latency_events and server.latency_monitor_threshold == 0:
        return ("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this "
                "Redis instance. You may use \"CONFIG SET latency-monitor-threshold "
                "<milliseconds>.\" in order to enable it. If we weren't in a deep space "
                "mission I'd suggest to take a look at "
                "https://redis.io/topics/latency-monitor.\n")
    report = ""
    advise: set[str] = set()
    advices = 0
    eventnum = 0
    for event, ts in latency_events.items():
        eventnum += 1
        if eventnum == 1:
            report += ("Dave, I have observed latency spikes in this Redis instance. You "
                       "don't mind talking about it, do you Dave?\n\n")
        ls = analyze_latency_for_event(event)
        report += (f"{eventnum}. {event}: {ls['samples']} latency spikes (average "
                   f"{ls['avg']}ms, mean deviation {ls['mad']}ms, period "
                   f"{ls['period'] / max(1, ls['samples']):.2f} sec). Worst all time event "
                   f"{ts.max}ms.")
        ev = event.lower()
        if ev == "command":
            if server.slowlog_log_slower_than < 0:
                advise.add("slowlog_enabled")
                advices += 1
            elif server.slowlog_log_slower_than // 1000 > server.latency_monitor_threshold:
                advise.add("slowlog_tuning")
                advices += 1
            advise.update(("slowlog_inspect", "large_objects"))
            advices += 2
        elif ev == "fast-command":
            advise.add("scheduler")
            advices += 1
        elif ev == "expire-cycle":
            advise.update(("hz", "large_objects"))
            advices += 2
        elif ev == "eviction-del":
            advise.add("large_objects")
            advices += 1
        elif ev == "eviction-cycle":
            advise.add("mass_eviction")
            advices += 1
        report += "\n"
    if eventnum == 0 and advices == 0:
        return report + ("Dave, no latency spike was observed during the lifetime of this "
                         "Redis instance, not in the slightest bit. I honestly think you "
                         "ought to sit down calmly, take a stress pill, and think things "
                         "over.\n")
    if advices == 0:
        return report + ("\nWhile there are latency events logged, I'm not able to suggest "
                         "any easy fix. Please use the Redis community to get some help, "
                         "providing this report in your help request.\n")
    report += "\nI have a few advices for you:\n\n"
    thr = server.latency_monitor_threshold * 1000
    if "slowlog_enabled" in advise:
        report += ("- There are latency issues with potentially slow commands you are "
                   "using. Try to enable the Slow Log Redis feature using the command "
                   f"'CONFIG SET slowlog-log-slower-than {thr}'. If the Slow log is disabled "
                   "Redis is not able to log slow commands execution for you.\n")
    if "slowlog_tuning" in advise:
        report += ("- Your current Slow Log configuration only logs events that are slower "
                   "than your configured latency monitor threshold. Please use "
                   f"'CONFIG SET slowlog-log-slower-than {thr}'.\n")
    if "slowlog_inspect" in advise:
        report += ("- Check your Slow Log to understand what are the commands you are "
                   "running which are too slow to execute. Please check "
                   "https://redis.io/commands/slowlog for more information.\n")
    if "scheduler" in advise:
        report += ("- The system is slow to execute Redis code paths not containing system "
                   "calls. This usually means the system does not provide Redis CPU time to "
                   "run for long periods. You should try to:\n"
                   "  1) Lower the system load.\n"
                   "  2) Use a computer / VM just for Redis if you are running other "
                   "software in the same system.\n"
                   "  3) Check if you have a \"noisy neighbour\" problem.\n"
                   "  4) Check with 'redis-cli --intrinsic-latency 100' what is the "
                   "intrinsic latency in your system.\n"
                   "  5) Check if the problem is allocator-related by recompiling Redis "
                   "with MALLOC=libc, if you are using Jemalloc. However this may create "
                   "fragmentation problems.\n")
    if "hz" in advise and server.hz < 100:
        report += ("- In order to make the Redis keys expiring process more incremental, "
                   "try to set the 'hz' configuration parameter to 100 using "
                   "'CONFIG SET hz 100'.\n")
    if "large_objects" in advise:
        report += ("- Deleting, expiring or evicting (because of maxmemory policy) large "
                   "objects is a blocking operation. If you have very large objects that are "
                   "often deleted, expired, or evicted, try to fragment those objects into "
                   "multiple smaller objects.\n")
    if "mass_eviction" in advise:
        report += ("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or "
                   "allocation of large objects via sets or sorted sets intersections, STORE "
                   "option of SORT, Redis Cluster large keys migrations (RESTORE command), "
                   "may create sudden memory pressure forcing the server to block trying to "
                   "evict keys. \n")
    return report


def latency_command_gen_graph(event: str, ts: LatencyTimeSeries) -> str:
    """latencyCommandGenSparkeline's header line, rule and a simple 4-row bar chart."""
    samples = [(ts.samples[(ts.idx + j) % LATENCY_TS_LEN])
               for j in range(LATENCY_TS_LEN)]
    samples = [s for s in samples if s[0]]
    lats = [lat for _, lat in samples] or [0]
    hi, lo = max(lats), min(lats)
    out = f"{event} - high {hi} ms, low {lo} ms (all time high {ts.max} ms)\n" + "-" * 80 + "\n"
    cols = samples[-80:]
    for row in range(4, 0, -1):
        line = ""
        for _, lat in cols:
            level = 0 if hi == lo else (lat - lo) * 4 // (hi - lo)
            line += "#" if level >= row or (hi == lo and row == 1) else " "
        out += line.rstrip() + "\n"
    now = int(time.time())
    out += "".join(_ago(now - t)[0] for t, _ in cols) + "\n"
    return out


def _ago(elapsed: int) -> str:
    if elapsed < 60:
        return f"{elapsed}s"
    if elapsed < 3600:
        return f"{elapsed // 60}m"
    if elapsed < 86400:
        return f"{elapsed // 3600}h"
    return f"{elapsed // 86400}d"


# --------------------------------------------------------------------------------------------
# LATENCY command
# --------------------------------------------------------------------------------------------

def _fill_command_cdf(c: net.Client, h: HdrHistogram) -> None:
    """fillCommandCDF: {calls: N, histogram_usec: {usec: cumulative count, ...}}."""
    net.add_reply_map_len(c, 2)
    net.add_reply_bulk(c, b"calls")
    net.add_reply_long_long(c, h.total_count)
    net.add_reply_bulk(c, b"histogram_usec")
    buckets = h.log_buckets()
    net.add_reply_map_len(c, len(buckets))
    for top, cumulative in buckets:
        net.add_reply_long_long(c, top // 1000)
        net.add_reply_long_long(c, cumulative)


def _iter_commands():
    from tracered.commands import commands

    for base in commands.values():
        yield from base.all_commands()


def latency_history_command(c: net.Client) -> None:
    ts = latency_events.get(c.argv[2].decode("utf-8", "surrogateescape"))
    if ts is None:
        net.add_reply_array_len(c, 0)
        return
    rows = [ts.samples[(ts.idx + j) % LATENCY_TS_LEN] for j in range(LATENCY_TS_LEN)]
    rows = [r for r in rows if r[0]]
    net.add_reply_array_len(c, len(rows))
    for t, lat in rows:
        net.add_reply_array_len(c, 2)
        net.add_reply_long_long(c, t)
        net.add_reply_long_long(c, lat)


def latency_latest_command(c: net.Client) -> None:
    """LATENCY LATEST: [event, time of the last sample, its latency, all-time max]."""
    net.add_reply_array_len(c, len(latency_events))
    for event, ts in latency_events.items():
        t, lat = ts.samples[(ts.idx + LATENCY_TS_LEN - 1) % LATENCY_TS_LEN]
        net.add_reply_array_len(c, 4)
        net.add_reply_bulk(c, event.encode())
        net.add_reply_long_long(c, t)
        net.add_reply_long_long(c, lat)
        net.add_reply_long_long(c, ts.max)


def latency_doctor_command(c: net.Client) -> None:
    net.add_reply_verbatim(c, create_latency_report().encode())


def latency_graph_command(c: net.Client) -> None:
    name = c.argv[2].decode("utf-8", "surrogateescape")
    ts = latency_events.get(name)
    if ts is None:
        net.add_reply_error(c, f"No samples available for event '{name}'")
        return
    net.add_reply_verbatim(c, latency_command_gen_graph(name, ts).encode())


def latency_reset_command(c: net.Client) -> None:
    if len(c.argv) == 2:
        net.add_reply_long_long(c, latency_reset_event(None))
        return
    n = 0
    for a in c.argv[2:]:
        n += latency_reset_event(a.decode("utf-8", "surrogateescape"))
    net.add_reply_long_long(c, n)


def latency_histogram_command(c: net.Client) -> None:
    """LATENCY HISTOGRAM [command ...]: per command (and subcommand) CDFs; unknown names and
    commands never called are skipped."""
    if len(c.argv) == 2:
        picked = [x for x in _iter_commands() if x in command_histograms]
    else:
        picked = []
        for name in c.argv[2:]:
            base = lookup_command_by_name(name)
            if base is None:
                continue
            picked.extend(x for x in base.all_commands() if x in command_histograms)
    net.add_reply_map_len(c, len(picked))
    for x in picked:
        net.add_reply_bulk(c, x.fullname.encode())
        _fill_command_cdf(c, command_histograms[x])


LATENCY_HELP = [
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the "
    "specified command names.",
    "    If no commands are specified then all histograms are replied.",
]


def latency_help_command(c: net.Client) -> None:
    net.add_reply_help(c, LATENCY_HELP)


_ADMIN = "admin noscript loading stale"
_TIPS_ND = "nondeterministic_output request_policy:all_nodes response_policy:special"

COMMANDS = [
    cmd("latency", None, -2, "", group="server", since="2.8.13",
        complexity="Depends on subcommand.",
        summary="A container for latency diagnostics commands",
        subcommands=[
            sub("doctor", latency_doctor_command, 2, _ADMIN, since="2.8.13", tips=_TIPS_ND,
                summary="Return a human readable latency analysis report."),
            sub("graph", latency_graph_command, 3, _ADMIN, since="2.8.13", tips=_TIPS_ND,
                summary="Return a latency graph for the event.", args="event"),
            sub("help", latency_help_command, 2, "loading stale", since="2.8.13",
                summary="Show helpful text about the different subcommands."),
            sub("histogram", latency_histogram_command, -2, _ADMIN, since="7.0.0",
                tips=_TIPS_ND,
                complexity="O(N) where N is the number of commands with latency information "
                           "being retrieved.",
                summary="Return the cumulative distribution of latencies of a subset of "
                        "commands or all.", args="[command [command ...]]"),
            sub("history", latency_history_command, 3, _ADMIN, since="2.8.13", tips=_TIPS_ND,
                summary="Return timestamp-latency samples for the event.", args="event"),
            sub("latest", latency_latest_command, 2, _ADMIN, since="2.8.13", tips=_TIPS_ND,
                summary="Return the latest latency samples for all events."),
            sub("reset", latency_reset_command, -2, _ADMIN, since="2.8.13",
                tips="request_policy:all_nodes response_policy:all_succeeded",
                summary="Reset latency data for one or more events.",
                args="[event [event ...]]"),
        ]),
]
