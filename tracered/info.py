"""INFO: the mirror of server.c's genRedisInfoString / infoCommand.

Sections, field names and their order are Redis 7.0.15's, so redis-py's ``info()``,
redis-cli and monitoring tools parse the reply unchanged.  Values come from the server
object; fields owned by subsystems that may not exist yet (persistence, replication,
scripting) are read with ``getattr(server, name, default)`` so those modules only have to
set the attribute Redis uses (``stat_rdb_saves``, ``aof_rewrite_scheduled`` ...).

Divergence (memory): Python has no allocator counter like zmalloc's used_memory, so
``used_memory`` is evict.py's estimate (the RSS once initialised, ``used_memory_startup``,
plus the priced keyspace and buffers; see evict.py for why), the same figure maxmemory
is checked against; ``used_memory_rss`` is the real resident size, so
``mem_fragmentation_ratio`` shows how far the estimate is from it.  The allocator ratios are
1.00 and ``mem_allocator`` is ``pymalloc``.  Other
divergences: ``gcc_version`` is 0.0.0 (no compiler), ``redis_build_id`` is derived from the
tracered version, a ``tracered_version`` field ends the Server section, and
``client_recent_max_*_buffer`` are the current maxima over connected clients (Redis keeps a
few seconds of samples).
"""

from __future__ import annotations

import os
import resource
import time

from tracered import REDIS_VERSION, __version__, util
from tracered import networking as net
from tracered import server as server_module
from tracered.commands import cmd
from tracered.server import server

DEFAULT_SECTIONS = ("server", "clients", "memory", "persistence", "stats", "replication",
                    "cpu", "module_list", "errorstats", "cluster", "keyspace")

# tracered-only sections other modules add (name -> function returning the section's
# lines): "tracing" (tracing_cmds.py), "gc" (gcpolicy.py).  Shown only when asked for by
# name, so INFO, INFO all and INFO everything stay line for line what Redis prints.
EXTRA_SECTIONS: dict = {}

CHILD_TYPE_RDB = 1
CHILD_TYPE_AOF = 2
CHILD_TYPE_MODULE = 4

_PAGESIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_uname = os.uname()


# --------------------------------------------------------------------------------------------
# Memory figures (zmalloc.c)
# --------------------------------------------------------------------------------------------

def zmalloc_get_rss() -> int:
    """zmalloc_get_rss: resident pages * page size (0 where /proc is missing)."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGESIZE
    except (OSError, IndexError, ValueError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def zmalloc_used_memory() -> int:
    """zmalloc_used_memory.  Divergence: evict.used_memory()'s estimate (see the module
    docstring), so INFO and maxmemory read the same figure."""
    from tracered import evict

    return evict.used_memory()


def zmalloc_get_memory_size() -> int:
    """zmalloc_get_memory_size: physical memory of the machine."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * _PAGESIZE
    except (ValueError, OSError, AttributeError):
        return 0


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------

def _safe(s: str) -> str:
    """getSafeInfoString: '#', ':', CR and LF would break the format; they become '_'."""
    if any(ch in s for ch in "#:\r\n"):
        for ch in "#:\r\n":
            s = s.replace(ch, "_")
    return s


def _ok(v) -> str:
    """A status field: True / 0 (C_OK) / "ok" read as ok, anything else as err."""
    if isinstance(v, bool):
        return "ok" if v else "err"
    if isinstance(v, int):
        return "ok" if v == 0 else "err"
    return "ok" if v in (None, "ok") else "err"


def _tv(t: float) -> str:
    """A struct timeval as "%ld.%06ld"."""
    us = int(round(t * 1_000_000))
    return "%d.%06d" % divmod(us, 1_000_000)


def _current_eviction_exceeded_time() -> int:
    from tracered import evict

    return evict.current_eviction_exceeded_time_ms()


def _g(name: str, default=0):
    return getattr(server, name, default)


def gen_info_section_dict(args: list[bytes]) -> tuple[set[str], bool, bool]:
    """genInfoSectionDict: (section names, all, everything); 'default' adds the default
    sections, names compare case-insensitively."""
    if not args:
        return set(DEFAULT_SECTIONS), False, False
    sections: set[str] = set()
    all_sections = everything = False
    for a in args:
        low = a.decode("utf-8", "surrogateescape").lower()
        if low == "default":
            sections.update(DEFAULT_SECTIONS)
        elif low == "all":
            all_sections = True
        elif low == "everything":
            all_sections = everything = True
        else:
            sections.add(low)
    return sections, all_sections, everything


# --------------------------------------------------------------------------------------------
# The sections, in Redis's order
# --------------------------------------------------------------------------------------------

def _section_server() -> list[str]:
    srv = server
    uptime = srv.unixtime - int(srv.start_time)
    mode = "cluster" if srv.cluster_enabled else "standalone"
    supervised = srv.supervised if srv.supervised in ("upstart", "systemd") else "no"
    lines = [
        "# Server",
        f"redis_version:{REDIS_VERSION}",
        "redis_git_sha1:00000000",
        "redis_git_dirty:0",
        "redis_build_id:" + __version__.encode().hex()[:16].ljust(16, "0"),
        f"redis_mode:{mode}",
        f"os:{_uname.sysname} {_uname.release} {_uname.machine}",
        "arch_bits:64",
        "monotonic_clock:POSIX clock_gettime",
        "multiplexing_api:epoll",
        "atomicvar_api:c11-builtin",
        "gcc_version:0.0.0",
        f"process_id:{os.getpid()}",
        f"process_supervised:{supervised}",
        f"run_id:{srv.run_id}",
        f"tcp_port:{srv.port or srv.tls_port}",
        f"server_time_usec:{int(time.time() * 1_000_000)}",
        f"uptime_in_seconds:{uptime}",
        f"uptime_in_days:{uptime // 86400}",
        f"hz:{srv.hz_current}",
        f"configured_hz:{srv.hz}",
        f"lru_clock:{srv.lruclock}",
        f"executable:{srv.executable or ''}",
        f"config_file:{srv.configfile or ''}",
        "io_threads_active:0",
    ]
    shutdown_mstime = _g("shutdown_mstime", 0)
    if shutdown_mstime:
        lines.append(f"shutdown_in_milliseconds:{shutdown_mstime - srv.mstime}")
    lines.append(f"tracered_version:{__version__}")
    return lines


def _section_clients() -> list[str]:
    srv = server
    maxin = maxout = 0
    for c in srv.clients.values():
        if len(c.querybuf) > maxin:
            maxin = len(c.querybuf)
        if c.reply_bytes > maxout:
            maxout = c.reply_bytes
    return [
        "# Clients",
        f"connected_clients:{len(srv.clients) - len(srv.slaves)}",
        "cluster_connections:0",
        f"maxclients:{srv.maxclients}",
        f"client_recent_max_input_buffer:{maxin}",
        f"client_recent_max_output_buffer:{maxout}",
        f"blocked_clients:{srv.blocked_clients}",
        f"tracking_clients:{_g('tracking_clients')}",
        f"clients_in_timeout_table:{_g('clients_in_timeout_table')}",
    ]


def _section_memory() -> list[str]:
    srv = server
    rss = zmalloc_get_rss()
    used = zmalloc_used_memory()
    if used > srv.stat_peak_memory:
        srv.stat_peak_memory = used
    peak = srv.stat_peak_memory
    startup = _g("stat_used_memory_startup", 0) or used
    clients_normal = clients_slaves = 0
    for c in srv.clients.values():
        if c.flags & net.CLIENT_SLAVE:
            clients_slaves += c.reply_bytes
        else:
            clients_normal += c.reply_bytes + len(c.querybuf)
    backlog = srv.repl_backlog_size if srv.repl_backlog is not None else 0
    aof_buf = len(_g("aof_buf", b""))
    overhead = startup + clients_normal + clients_slaves + backlog + aof_buf
    dataset = max(0, used - overhead)
    net_usage = used - startup if used > startup else 1
    total_system = zmalloc_get_memory_size()
    lua = _g("used_memory_lua", 0)
    functions = _g("used_memory_vm_functions", 0)
    lua_caches = _g("used_memory_scripts_eval", 0)
    functions_caches = _g("used_memory_functions", 0)
    h = util.bytes_to_human
    return [
        "# Memory",
        f"used_memory:{used}",
        f"used_memory_human:{h(used)}",
        f"used_memory_rss:{rss}",
        f"used_memory_rss_human:{h(rss)}",
        f"used_memory_peak:{peak}",
        f"used_memory_peak_human:{h(peak)}",
        "used_memory_peak_perc:%.2f%%" % (used * 100 / peak if peak else 0),
        f"used_memory_overhead:{overhead}",
        f"used_memory_startup:{startup}",
        f"used_memory_dataset:{dataset}",
        "used_memory_dataset_perc:%.2f%%" % (dataset * 100 / net_usage),
        f"allocator_allocated:{used}",
        f"allocator_active:{used}",
        f"allocator_resident:{rss}",
        f"total_system_memory:{total_system}",
        f"total_system_memory_human:{h(total_system)}",
        f"used_memory_lua:{lua}",
        f"used_memory_vm_eval:{lua}",
        f"used_memory_lua_human:{h(lua)}",
        f"used_memory_scripts_eval:{lua_caches}",
        f"number_of_cached_scripts:{_g('number_of_cached_scripts')}",
        f"number_of_functions:{_g('number_of_functions')}",
        f"number_of_libraries:{_g('number_of_libraries')}",
        f"used_memory_vm_functions:{functions}",
        f"used_memory_vm_total:{functions + lua}",
        f"used_memory_vm_total_human:{h(functions + lua)}",
        f"used_memory_functions:{functions_caches}",
        f"used_memory_scripts:{lua_caches + functions_caches}",
        f"used_memory_scripts_human:{h(lua_caches + functions_caches)}",
        f"maxmemory:{srv.maxmemory}",
        f"maxmemory_human:{h(srv.maxmemory)}",
        f"maxmemory_policy:{srv.maxmemory_policy}",
        "allocator_frag_ratio:1.00",
        "allocator_frag_bytes:0",
        "allocator_rss_ratio:1.00",
        "allocator_rss_bytes:0",
        "rss_overhead_ratio:1.00",
        "rss_overhead_bytes:0",
        "mem_fragmentation_ratio:%.2f" % (rss / used if used else 0),
        f"mem_fragmentation_bytes:{rss - used}",
        f"mem_not_counted_for_evict:{_g('mem_not_counted_for_evict', aof_buf)}",
        f"mem_replication_backlog:{backlog}",
        f"mem_total_replication_buffers:{_g('repl_buffer_mem')}",
        f"mem_clients_slaves:{clients_slaves}",
        f"mem_clients_normal:{clients_normal}",
        "mem_cluster_links:0",
        f"mem_aof_buffer:{aof_buf}",
        "mem_allocator:pymalloc",
        "active_defrag_running:0",
        f"lazyfree_pending_objects:{_g('lazyfree_pending_objects')}",
        f"lazyfreed_objects:{_g('lazyfreed_objects')}",
    ]


def _section_persistence() -> list[str]:
    srv = server
    now = int(time.time())
    child_type = srv.child_type
    keys_total = _g("stat_current_save_keys_total")
    keys_done = _g("stat_current_save_keys_processed")
    module_progress = _g("stat_module_progress", 0.0)
    fork_perc = module_progress * 100 if module_progress else \
        (keys_done / keys_total * 100 if keys_total else 0.0)
    cow_updated = _g("stat_current_cow_updated", 0)
    loading = srv.loading
    async_loading = _g("async_loading", False)
    aof_state = srv.aof_state
    lines = [
        "# Persistence",
        f"loading:{int(bool(loading and not async_loading))}",
        f"async_loading:{int(bool(async_loading))}",
        f"current_cow_peak:{_g('stat_current_cow_peak')}",
        f"current_cow_size:{_g('stat_current_cow_bytes')}",
        f"current_cow_size_age:{int(time.monotonic() - cow_updated) if cow_updated else 0}",
        "current_fork_perc:%.2f" % fork_perc,
        f"current_save_keys_processed:{keys_done}",
        f"current_save_keys_total:{keys_total}",
        f"rdb_changes_since_last_save:{srv.dirty}",
        f"rdb_bgsave_in_progress:{int(child_type == CHILD_TYPE_RDB)}",
        f"rdb_last_save_time:{srv.lastsave}",
        f"rdb_last_bgsave_status:{_ok(_g('lastbgsave_status', srv.last_bgsave_ok))}",
        f"rdb_last_bgsave_time_sec:{_g('rdb_save_time_last', -1)}",
        "rdb_current_bgsave_time_sec:%d" % (
            now - _g("rdb_save_time_start", now) if child_type == CHILD_TYPE_RDB else -1),
        f"rdb_saves:{_g('stat_rdb_saves')}",
        f"rdb_last_cow_size:{_g('stat_rdb_cow_bytes')}",
        f"rdb_last_load_keys_expired:{_g('rdb_last_load_keys_expired')}",
        f"rdb_last_load_keys_loaded:{_g('rdb_last_load_keys_loaded')}",
        f"aof_enabled:{int(aof_state != 0)}",
        f"aof_rewrite_in_progress:{int(child_type == CHILD_TYPE_AOF)}",
        f"aof_rewrite_scheduled:{int(bool(_g('aof_rewrite_scheduled')))}",
        f"aof_last_rewrite_time_sec:{_g('aof_rewrite_time_last', -1)}",
        "aof_current_rewrite_time_sec:%d" % (
            now - _g("aof_rewrite_time_start", now) if child_type == CHILD_TYPE_AOF else -1),
        f"aof_last_bgrewrite_status:{_ok(_g('aof_lastbgrewrite_status', 0))}",
        f"aof_rewrites:{_g('stat_aof_rewrites')}",
        f"aof_rewrites_consecutive_failures:{_g('stat_aofrw_consecutive_failures')}",
        "aof_last_write_status:%s" % (
            "ok" if _ok(_g("aof_last_write_status", 0)) == "ok" and
            _ok(_g("aof_bio_fsync_status", 0)) == "ok" else "err"),
        f"aof_last_cow_size:{_g('stat_aof_cow_bytes')}",
        f"module_fork_in_progress:{int(child_type == CHILD_TYPE_MODULE)}",
        f"module_fork_last_cow_size:{_g('stat_module_cow_bytes')}",
    ]
    if srv.appendonly:
        lines += [
            f"aof_current_size:{_g('aof_current_size')}",
            f"aof_base_size:{_g('aof_rewrite_base_size')}",
            f"aof_pending_rewrite:{int(bool(_g('aof_rewrite_scheduled')))}",
            f"aof_buffer_length:{len(_g('aof_buf', b''))}",
            f"aof_pending_bio_fsync:{_g('aof_pending_bio_fsync')}",
            f"aof_delayed_fsync:{_g('aof_delayed_fsync')}",
        ]
    if loading:
        total = _g("loading_total_bytes")
        loaded = _g("loading_loaded_bytes")
        rdb_used = _g("loading_rdb_used_mem")
        start = _g("loading_start_time", now)
        perc = 0.0
        remaining = 1
        if total:
            perc = loaded / total * 100
            remaining = total - loaded
        elif rdb_used:
            perc = min(loaded / rdb_used * 100, 99.99)
            remaining = max(1, rdb_used - loaded)
        elapsed = now - start
        eta = 1 if elapsed == 0 else elapsed * remaining // (loaded + 1)
        lines += [
            f"loading_start_time:{start}",
            f"loading_total_bytes:{total}",
            f"loading_rdb_used_mem:{rdb_used}",
            f"loading_loaded_bytes:{loaded}",
            "loading_loaded_perc:%.2f" % perc,
            f"loading_eta_seconds:{eta}",
        ]
    return lines


def _section_stats() -> list[str]:
    srv = server
    repl_in = _g("stat_net_repl_input_bytes")
    repl_out = _g("stat_net_repl_output_bytes")
    return [
        "# Stats",
        f"total_connections_received:{srv.stat_numconnections}",
        f"total_commands_processed:{srv.stat_numcommands}",
        f"instantaneous_ops_per_sec:{srv.instantaneous_ops_per_sec}",
        f"total_net_input_bytes:{srv.stat_net_input_bytes + repl_in}",
        f"total_net_output_bytes:{srv.stat_net_output_bytes + repl_out}",
        f"total_net_repl_input_bytes:{repl_in}",
        f"total_net_repl_output_bytes:{repl_out}",
        "instantaneous_input_kbps:%.2f" % _g("instantaneous_input_kbps", 0.0),
        "instantaneous_output_kbps:%.2f" % _g("instantaneous_output_kbps", 0.0),
        "instantaneous_input_repl_kbps:%.2f" % _g("instantaneous_input_repl_kbps", 0.0),
        "instantaneous_output_repl_kbps:%.2f" % _g("instantaneous_output_repl_kbps", 0.0),
        f"rejected_connections:{srv.stat_rejected_conn}",
        f"sync_full:{srv.stat_sync_full}",
        f"sync_partial_ok:{srv.stat_sync_partial_ok}",
        f"sync_partial_err:{srv.stat_sync_partial_err}",
        f"expired_keys:{srv.stat_expiredkeys}",
        "expired_stale_perc:%.2f" % (srv.stat_expired_stale_perc * 100),
        f"expired_time_cap_reached_count:{srv.stat_expired_time_cap_reached_count}",
        f"expire_cycle_cpu_milliseconds:{srv.stat_expire_cycle_time_used // 1000}",
        f"evicted_keys:{srv.stat_evictedkeys}",
        f"evicted_clients:{_g('stat_evictedclients')}",
        f"total_eviction_exceeded_time:{_g('stat_total_eviction_exceeded_time') // 1000}",
        f"current_eviction_exceeded_time:{_current_eviction_exceeded_time()}",
        f"keyspace_hits:{srv.stat_keyspace_hits}",
        f"keyspace_misses:{srv.stat_keyspace_misses}",
        f"pubsub_channels:{len(_g('pubsub_channels', ()))}",
        f"pubsub_patterns:{len(_g('pubsub_patterns', ()))}",
        f"pubsubshard_channels:{len(_g('pubsubshard_channels', ()))}",
        f"latest_fork_usec:{_g('stat_fork_time')}",
        f"total_forks:{_g('stat_total_forks')}",
        "migrate_cached_sockets:0",
        f"slave_expires_tracked_keys:{_g('slave_expires_tracked_keys')}",
        "active_defrag_hits:0",
        "active_defrag_misses:0",
        "active_defrag_key_hits:0",
        "active_defrag_key_misses:0",
        "total_active_defrag_time:0",
        "current_active_defrag_time:0",
        f"tracking_total_keys:{len(_g('tracking_table', ()))}",
        f"tracking_total_items:{_g('tracking_total_items')}",
        f"tracking_total_prefixes:{len(_g('tracking_prefix_table', ()))}",
        f"unexpected_error_replies:{srv.stat_unexpected_error_replies}",
        f"total_error_replies:{srv.stat_total_error_replies}",
        f"dump_payload_sanitizations:{_g('stat_dump_payload_sanitizations')}",
        f"total_reads_processed:{_g('stat_total_reads_processed')}",
        f"total_writes_processed:{_g('stat_total_writes_processed')}",
        "io_threaded_reads_processed:0",
        "io_threaded_writes_processed:0",
        f"reply_buffer_shrinks:{_g('stat_reply_buffer_shrinks')}",
        f"reply_buffer_expands:{_g('stat_reply_buffer_expands')}",
    ]


# replstateToString (SLAVE_STATE_* values as in server.h)
_SLAVE_STATES = {6: "wait_bgsave", 7: "wait_bgsave", 8: "send_bulk", 9: "online"}


def _section_replication() -> list[str]:
    srv = server
    lines = ["# Replication", f"role:{'slave' if srv.masterhost else 'master'}"]
    now = srv.unixtime
    if srv.masterhost:
        master = srv.master
        cached = _g("cached_master", None)
        src = master or cached
        connected = srv.repl_state == server_module.REPL_STATE_CONNECTED
        transfer = srv.repl_state == server_module.REPL_STATE_TRANSFER
        lines += [
            f"master_host:{srv.masterhost}",
            f"master_port:{srv.masterport}",
            f"master_link_status:{'up' if connected else 'down'}",
            "master_last_io_seconds_ago:%d" % (
                int(now - master.lastinteraction) if master is not None else -1),
            f"master_sync_in_progress:{int(transfer)}",
            f"slave_read_repl_offset:{src.read_reploff if src is not None else 1}",
            f"slave_repl_offset:{src.reploff if src is not None else 1}",
        ]
        if transfer:
            size = _g("repl_transfer_size")
            read = _g("repl_transfer_read")
            lines += [
                f"master_sync_total_bytes:{size}",
                f"master_sync_read_bytes:{read}",
                f"master_sync_left_bytes:{size - read}",
                "master_sync_perc:%.2f" % (read / size * 100 if size else 0.0),
                f"master_sync_last_io_seconds_ago:{int(now - _g('repl_transfer_lastio', now))}",
            ]
        if not connected:
            down = _g("repl_down_since", 0)
            lines.append(f"master_link_down_since_seconds:{int(now - down) if down else -1}")
        lines += [
            f"slave_priority:{srv.replica_priority}",
            f"slave_read_only:{int(bool(srv.replica_read_only))}",
            f"replica_announced:{int(bool(srv.replica_announced))}",
        ]
    lines.append(f"connected_slaves:{len(srv.slaves)}")
    if srv.min_replicas_to_write and srv.min_replicas_max_lag:
        lines.append(f"min_slaves_good_slaves:{srv.repl_good_slaves_count}")
    slaveid = 0
    for s in srv.slaves:
        state = _SLAVE_STATES.get(s.replstate, "")
        if not state:
            continue
        ip = s.slave_addr or (s.addr.rsplit(":", 1)[0] if s.addr else "")
        lag = int(time.time() - s.repl_ack_time) if state == "online" else 0
        lines.append(f"slave{slaveid}:ip={ip},port={s.slave_listening_port},state={state},"
                     f"offset={s.repl_ack_off},lag={lag}")
        slaveid += 1
    backlog = srv.repl_backlog
    lines += [
        f"master_failover_state:{_g('failover_state_string', 'no-failover')}",
        f"master_replid:{srv.replid}",
        f"master_replid2:{srv.replid2}",
        f"master_repl_offset:{srv.master_repl_offset}",
        f"second_repl_offset:{srv.second_replid_offset}",
        f"repl_backlog_active:{int(backlog is not None)}",
        f"repl_backlog_size:{srv.repl_backlog_size}",
        f"repl_backlog_first_byte_offset:{getattr(backlog, 'offset', 0) if backlog else 0}",
        f"repl_backlog_histlen:{getattr(backlog, 'histlen', 0) if backlog else 0}",
    ]
    return lines


def _section_cpu() -> list[str]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    lines = [
        "# CPU",
        f"used_cpu_sys:{_tv(me.ru_stime)}",
        f"used_cpu_user:{_tv(me.ru_utime)}",
        f"used_cpu_sys_children:{_tv(ch.ru_stime)}",
        f"used_cpu_user_children:{_tv(ch.ru_utime)}",
    ]
    if hasattr(resource, "RUSAGE_THREAD"):
        th = resource.getrusage(resource.RUSAGE_THREAD)
        lines += [f"used_cpu_sys_main_thread:{_tv(th.ru_stime)}",
                  f"used_cpu_user_main_thread:{_tv(th.ru_utime)}"]
    return lines


def _iter_commands():
    from tracered.commands import commands

    for base in commands.values():
        yield from base.all_commands()


def _section_commandstats() -> list[str]:
    """genRedisInfoStringCommandStats: commands (then their subcommands) ever called,
    rejected or failed."""
    lines = ["# Commandstats"]
    for c in _iter_commands():
        if c.calls or c.failed_calls or c.rejected_calls:
            lines.append("cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,"
                         "failed_calls=%d" % (
                             _safe(c.fullname), c.calls, c.microseconds,
                             c.microseconds / c.calls if c.calls else 0.0,
                             c.rejected_calls, c.failed_calls))
    return lines


def _section_errorstats() -> list[str]:
    lines = ["# Errorstats"]
    for code in sorted(server.errors):
        lines.append(f"errorstat_{_safe(code)}:count={server.errors[code]}")
    return lines


def _section_latencystats() -> list[str]:
    """genRedisInfoStringLatencyStats: percentiles (latency-tracking-info-percentiles) of
    each command's histogram, in microseconds with three decimals."""
    from tracered import config, latency

    lines = ["# Latencystats"]
    if not server.latency_tracking:
        return lines
    pcts = server.latency_tracking_info_percentiles
    for c in _iter_commands():
        h = latency.command_histograms.get(c)
        if h is None:
            continue
        parts = ["p%s=%.3f" % (config._fmt_percentile(p), h.value_at_percentile(p) / 1000.0)
                 for p in pcts]
        lines.append(f"latency_percentiles_usec_{_safe(c.fullname)}:" + ",".join(parts))
    return lines


def _section_keyspace() -> list[str]:
    lines = ["# Keyspace"]
    for db in server.db:
        keys = len(db.dict)
        vkeys = len(db.expires)
        if keys or vkeys:
            lines.append(f"db{db.id}:keys={keys},expires={vkeys},avg_ttl={db.avg_ttl}")
    return lines


def gen_redis_info_string(sections: set[str], all_sections: bool = False,
                          everything: bool = False) -> str:
    """genRedisInfoString: the selected sections, separated by a blank line, CRLF lines."""
    if everything:
        all_sections = True
    out: list[list[str]] = []

    def want(name: str) -> bool:
        return all_sections or name in sections

    if want("server"):
        out.append(_section_server())
    if want("clients"):
        out.append(_section_clients())
    if want("memory"):
        out.append(_section_memory())
    if want("persistence"):
        out.append(_section_persistence())
    if want("stats"):
        out.append(_section_stats())
    if want("replication"):
        out.append(_section_replication())
    if want("cpu"):
        out.append(_section_cpu())
    if all_sections or "module_list" in sections or "modules" in sections:
        out.append(["# Modules"])
    if want("commandstats"):
        out.append(_section_commandstats())
    if want("errorstats"):
        out.append(_section_errorstats())
    if want("latencystats"):
        out.append(_section_latencystats())
    if want("cluster"):
        out.append(["# Cluster", f"cluster_enabled:{int(bool(server.cluster_enabled))}"])
    if want("keyspace"):
        out.append(_section_keyspace())
    for name, gen in EXTRA_SECTIONS.items():
        if name in sections:
            out.append(gen())
    return "\r\n".join("\r\n".join(sec) + "\r\n" for sec in out)


def info_command(c: net.Client) -> None:
    """INFO [section ...]: a verbatim string (RESP3) or bulk string (RESP2)."""
    sections, all_sections, everything = gen_info_section_dict(c.argv[1:])
    text = gen_redis_info_string(sections, all_sections, everything)
    net.add_reply_verbatim(c, text.encode("utf-8", "surrogateescape"))


def init(srv) -> None:
    """Remember the memory in use once the server is set up (used_memory_startup)."""
    srv.stat_used_memory_startup = zmalloc_get_rss()


COMMANDS = [
    cmd("info", info_command, -1, "loading stale sentinel", acl="dangerous", group="server",
        since="1.0.0", summary="Get information and statistics about the server",
        tips="nondeterministic_output request_policy:all_shards response_policy:special",
        args="[section [section ...]]"),
]
