"""CONFIG GET / SET / RESETSTAT / REWRITE and startup option parsing (config.py,
config_cmd.py), over TCP with redis-py and differentially against redis-server 7.0.15."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import pytest
import redis

from tests.conftest import REDIS_SERVER, ROOT, free_port
from tracered import config

# Configs whose values differ between the two servers by construction (each has its own
# port and working directory).
PER_PROCESS = {"port", "dir"}


def _s(x) -> str:
    return x.decode() if isinstance(x, bytes) else x


def _config_all(client) -> dict[str, str]:
    return {_s(k): _s(v) for k, v in client.config_get("*").items()}


# --------------------------------------------------------------------------------------------
# CONFIG GET
# --------------------------------------------------------------------------------------------

def test_config_get_star_names_match_redis(r, rr):
    mine, ref = _config_all(r), _config_all(rr)
    ours = {k for k in mine if not k.startswith(("trace-", "otlp-", "debug-control", "gc-"))}
    only_ours, only_redis = sorted(ours - set(ref)), sorted(set(ref) - ours)
    assert (only_ours, only_redis) == ([], []), (only_ours, only_redis)


def test_config_get_defaults_match_redis(r, rr):
    """Every config both servers know has the same value with the same startup options."""
    mine, ref = _config_all(r), _config_all(rr)
    diffs = {k: (mine[k], ref[k]) for k in ref
             if k in mine and k not in PER_PROCESS and mine[k] != ref[k]}
    assert diffs == {}


@pytest.mark.parametrize("pattern", [
    "maxmemory", "MAXMEMORY", "MaxMemory-Policy", "slave-read-only", "hash-max-ziplist-*",
    "*MAX*ENTRIES*", "h?", "[hz]z", "save", "client-output-buffer-limit", "notify*",
    "rdb-key-save-delay", "nonexistent", "*nomatch*",
])
def test_config_get_patterns_like_redis(diff, pattern):
    a, b = diff.both("CONFIG", "GET", pattern)   # redis-py turns the map into a dict
    assert a == b


def test_config_get_several_patterns_dedupe(diff):
    a, b = diff.both("CONFIG", "GET", "maxmemory", "MAXMEMORY", "maxmem*",
                     "hash-max-ziplist-entries", "hash-max-*")
    assert a == b and len(a) == 9


# --------------------------------------------------------------------------------------------
# CONFIG SET
# --------------------------------------------------------------------------------------------

SET_CASES = [
    ("maxmemory",), ("maxmemory", "1", "maxmemory", "2"), ("foo", "1"), ("port", "x"),
    ("daemonize", "yes"), ("dir", "/tmp"), ("dbfilename", "a/b"), ("maxmemory", "-1"),
    ("maxmemory", "1xb"), ("hz", "abc"), ("maxclients", "0"),
    ("hash-max-listpack-entries", "-1"), ("hash-max-listpack-value", "-1"),
    ("appendfsync", "bla"), ("save", "1"), ("save", "10 x"), ("activedefrag", "maybe"),
    ("activedefrag", "yes"), ("notify-keyspace-events", "Q"), ("unixsocketperm", "999"),
    ("maxmemory-clients", "200%"), ("maxmemory-clients", "-1"),
    ("client-output-buffer-limit", "foo 1 2 3"), ("client-output-buffer-limit", "normal 1 2"),
    ("client-output-buffer-limit", "normal x 2 3"), ("shutdown-on-sigint", "save nosave"),
    ("shutdown-on-sigint", ""), ("foo", "1", "port", "x"), ("port", "x", "foo", "1"),
    ("daemonize", "yes", "foo", "1"), ("latency-tracking-info-percentiles", "50 101"),
    ("latency-tracking-info-percentiles", "a"), ("replicaof", "a b"),
    ("proto-max-bulk-len", "1"), ("tracking-table-max-keys", "-1"), ("repl-backlog-size", "0"),
    ("cluster-announce-hostname", "a_b"), ("proc-title-template", "{foo}"),
    ("enable-debug-command", "yes"), ("tls-port", "1"), ("tls-replication", "yes"),
    ("oom-score-adj-values", "1 2"), ("oom-score-adj-values", "1 2 5000"),
    ("maxmemory-policy", "x"), ("loglevel", "loud"), ("list-max-listpack-size", "x"),
    ("slowlog-log-slower-than", "-2"), ("timeout", "1.5"), ("timeout", "+5"),
    ("timeout", "007"), ("SLAVE-READ-ONLY", "maybe"), ("DAEMONIZE", "yes"),
    ("slave-read-only", "no", "replica-read-only", "yes"),
]


@pytest.mark.parametrize("args", SET_CASES, ids=lambda a: " ".join(a) or "empty")
def test_config_set_errors_like_redis(diff, args):
    diff("CONFIG", "SET", *args)


SET_VALUES = [
    ("maxmemory", "1gb"), ("maxmemory", "100MB"), ("maxmemory", "3k"), ("maxmemory", "0"),
    ("maxmemory-clients", "10%"), ("maxmemory-clients", "0"),
    ("hash-max-listpack-value", "1kb"), ("hash-max-listpack-value", "64"),
    ("shutdown-on-sigint", "now save"), ("shutdown-on-sigint", "default"),
    ("oom-score-adj", "relative"), ("oom-score-adj", "no"),
    ("notify-keyspace-events", "KEA"), ("notify-keyspace-events", "Ex$"),
    ("notify-keyspace-events", "KEAmn"), ("notify-keyspace-events", ""),
    ("hz", "1000"), ("hz", "0"), ("hz", "10"), ("save", ""), ("save", "100 10 200 20"),
    ("save", ""), ("client-output-buffer-limit", "replica 1mb 2kb 3"),
    ("client-output-buffer-limit", "slave 268435456 67108864 60"),
    ("lua-time-limit", "100"), ("busy-reply-threshold", "5000"),
    ("latency-tracking-info-percentiles", "50.5 99"),
    ("latency-tracking-info-percentiles", ""),
    ("latency-tracking-info-percentiles", "50 99 99.9"), ("list-max-listpack-size", "-10"),
    ("list-max-listpack-size", "-2"), ("maxmemory-policy", "ALLKEYS-LFU"),
    ("maxmemory-policy", "noeviction"), ("loglevel", "WARNING"), ("loglevel", "notice"),
    ("appendfsync", "Always"), ("appendfsync", "everysec"), ("slave-read-only", "No"),
    ("replica-read-only", "yes"), ("bind-source-addr", "1.2.3.4"), ("bind-source-addr", ""),
]


def test_config_set_values_round_trip_like_redis(diff):
    """Each value is accepted (or refused) like Redis and reads back the same."""
    for name, value in SET_VALUES:
        diff("CONFIG", "SET", name, value)
        diff("CONFIG", "GET", name)


def test_config_set_is_all_or_nothing(r):
    r.config_set("maxmemory", "0")
    with pytest.raises(redis.ResponseError, match="related to argument 'port'"):
        r.execute_command("CONFIG", "SET", "maxmemory", "10mb", "port", "abc")
    assert _config_all(r)["maxmemory"] == "0"
    r.execute_command("CONFIG", "SET", "maxmemory", "10mb", "maxmemory-policy", "allkeys-lru")
    assert _config_all(r)["maxmemory"] == str(10 * 1024 * 1024)
    r.execute_command("CONFIG", "SET", "maxmemory", "0", "maxmemory-policy", "noeviction")


def test_config_set_sensitive_value_is_redacted_in_slowlog(diff):
    for c in (diff.t, diff.ref):
        c.config_set("slowlog-log-slower-than", 0)
        c.slowlog_reset()
        c.config_set("masterauth", "s3cret")
        entry = c.slowlog_get(1)[0]
        assert _s(entry["command"]) == "CONFIG SET masterauth (redacted)"
        c.config_set("masterauth", "")
        c.config_set("slowlog-log-slower-than", 10000)


def test_config_help_and_subcommand_errors_like_redis(diff):
    diff("CONFIG", "HELP")
    diff("CONFIG", "NOSUCH")
    diff("CONFIG", "GET")
    diff("CONFIG", "RESETSTAT", "x")
    diff("CONFIG", "REWRITE")  # neither server was started with a config file


# --------------------------------------------------------------------------------------------
# Side effects of CONFIG SET inside the server (in-process: config.py on a Server object)
# --------------------------------------------------------------------------------------------

def test_object_flags_follow_maxmemory_policy():
    from tracered import object as obj
    from tracered.server import Server

    s = Server()
    assert config.config_set(s, [("maxmemory-policy", "allkeys-lfu")]) is None
    assert obj.lfu_mode and not obj.no_shared_integers     # no maxmemory yet
    assert config.config_set(s, [("maxmemory", "1gb")]) is None
    assert obj.no_shared_integers
    assert config.config_set(s, [("maxmemory-policy", "allkeys-random")]) is None
    assert not obj.lfu_mode and not obj.no_shared_integers
    assert config.config_set(s, [("maxmemory", "0"), ("maxmemory-policy", "noeviction")]) \
        is None


def test_notify_keyspace_events_flags_and_string():
    from tracered import db
    from tracered.server import Server

    s = Server()
    assert config.config_set(s, [("notify-keyspace-events", "KEA")]) is None
    assert s.notify_keyspace_events == "AKE"
    assert s.notify_keyspace_events_flags & db.NOTIFY_KEYSPACE
    assert s.notify_keyspace_events_flags & db.NOTIFY_EXPIRED
    assert not s.notify_keyspace_events_flags & db.NOTIFY_KEY_MISS
    assert config.config_set(s, [("notify-keyspace-events", "Ex")]) is None
    assert s.notify_keyspace_events_flags == db.NOTIFY_KEYEVENT | db.NOTIFY_EXPIRED


def test_apply_hooks_run_and_failure_rolls_back():
    from tracered.server import Server

    s = Server()
    calls = []
    config.apply_hooks["appendonly"].append(lambda srv: calls.append(srv.appendonly))
    try:
        assert config.config_set(s, [("appendonly", "yes")]) is None
        assert calls == [True]
        assert config.config_set(s, [("appendonly", "yes")]) is None  # unchanged: no apply
        assert calls == [True]
        config.apply_hooks["appendonly"].append(lambda srv: "Unable to turn on AOF.")
        err = config.config_set(s, [("hz", "20"), ("appendonly", "no")])
        assert err == ("CONFIG SET failed (possibly related to argument 'appendonly') - "
                       "Unable to turn on AOF.")
        assert s.appendonly is True and s.hz == 10          # both restored
    finally:
        del config.apply_hooks["appendonly"]


# --------------------------------------------------------------------------------------------
# Startup options and config files
# --------------------------------------------------------------------------------------------

def test_parse_server_argv():
    p = config.parse_server_argv
    assert p(["--port", "1", "--save", "", "--appendonly", "yes"]) == \
        (None, False, 'port "1" \nsave "" \nappendonly "yes" ')
    assert p(["--save", "--port", "5"])[2] == 'save ""\nport "5" '
    assert p(["--save"])[2] == 'save ""'
    assert p(["--bind", "1.2.3.4", "::1", "--maxmemory-policy", "--weird"])[2] == \
        'bind "1.2.3.4" "::1" \nmaxmemory-policy "--weird" '
    path, stdin, opts = p(["my.conf", "--port 7000", "-"])
    assert path == os.path.abspath("my.conf") and stdin and opts == "port 7000 "


FATAL_CASES = [
    ("port abc\n", 1, "port abc", "argument couldn't be parsed into an integer"),
    ("# c\nmaxmemory-policy bla\n", 2, "maxmemory-policy bla",
     "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, "
     "volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"),
    ("foo bar\n", 1, "foo bar", "Bad directive or wrong number of arguments"),
    ("port 1 2\n", 1, "port 1 2", "wrong number of arguments"),
    ('save "10 a"\n', 1, 'save "10 a"', "Invalid save parameters"),
    ('port "1\n', 1, 'port "1', "Unbalanced quotes in configuration line"),
]


@pytest.mark.parametrize("text,lineno,line,err", FATAL_CASES)
def test_config_file_fatal_errors(text, lineno, line, err):
    from tracered.server import Server

    with pytest.raises(config.ConfigError) as ei:
        config.load_server_config_from_string(Server(), text)
    assert str(ei.value) == (f"*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\n"
                             f"Reading the configuration file, at line {lineno}\n"
                             f">>> '{line}'\n{err}")


def test_config_file_save_lines_accumulate_and_aliases():
    from tracered.server import Server

    s = Server()
    config.load_server_config_from_string(
        s, "save 900 1\nsave 300 10\nhash-max-ziplist-entries 7\nhz 9999\n"
           "list-max-ziplist-entries 5\nclient-output-buffer-limit 'pubsub 1mb 2mb 3'\n")
    assert s.save == [(900, 1), (300, 10)]
    assert s.hash_max_listpack_entries == 7
    assert s.hz == 500                         # clamped like Redis
    assert s.client_obuf_limits[2] == [1 << 20, 2 << 20, 3]
    s2 = Server()
    config.load_server_config_from_string(s2, '\nsave ""\n')
    assert s2.save == []


def _run_fatal(exe: list[str], args: list[str]) -> tuple[int, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    p = subprocess.run(exe + args, capture_output=True, text=True, timeout=20, env=env,
                       cwd=tempfile.gettempdir())
    return p.returncode, p.stderr


def test_startup_option_errors_exit_like_redis():
    code, err = _run_fatal([sys.executable, "-m", "tracered"],
                           ["--bind", "127.0.0.1", "--port", "99999"])
    assert code == 1
    assert "Reading the configuration file, at line 3\n>>> 'port \"99999\"'\n" \
           "argument must be between 0 and 65535 inclusive" in err
    if REDIS_SERVER:
        rcode, rerr = _run_fatal([REDIS_SERVER], ["--bind", "127.0.0.1", "--port", "99999"])
        assert rcode == 1 and rerr.strip().endswith(err.strip().split("***\n", 2)[-1])


# --------------------------------------------------------------------------------------------
# CONFIG REWRITE
# --------------------------------------------------------------------------------------------

CONF = """# my config
port {port}
   # indented comment
maxmemory 100mb
save 900 1
save 300 10
hash-max-ziplist-entries 64
notify-keyspace-events ""

slaveof no one
dbfilename "dump.rdb"
"""

SETS = ["maxmemory", "200mb", "hz", "20", "save", "", "notify-keyspace-events", "KEA",
        "hash-max-listpack-entries", "100", "maxmemory-clients", "5%",
        "client-output-buffer-limit", "replica 1gb 2mb 30"]


def _start_with_conf(kind: str, path: str, port: int) -> subprocess.Popen:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    exe = [sys.executable, "-m", "tracered"] if kind == "tracered" else [REDIS_SERVER]
    log = open(path + ".log", "ab")
    p = subprocess.Popen(exe + [path], stdout=log, stderr=subprocess.STDOUT,
                         cwd=os.path.dirname(path), env=env)
    log.close()
    deadline = time.time() + 15
    while time.time() < deadline:
        try:
            if redis.Redis(port=port, socket_timeout=2).ping():
                return p
        except redis.ConnectionError:
            time.sleep(0.05)
    p.kill()
    raise RuntimeError(f"{kind} did not start: {open(path + '.log').read()[-2000:]}")


def _stop(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def test_config_rewrite_round_trip_like_redis():
    kinds = ["tracered"] + (["redis"] if REDIS_SERVER else [])
    results = {}
    for kind in kinds:
        d = tempfile.mkdtemp(prefix=f"rewrite-{kind}-")
        path = os.path.join(d, "x.conf")
        port = free_port()
        with open(path, "w") as f:
            f.write(CONF.format(port=port))
        p = _start_with_conf(kind, path, port)
        try:
            c = redis.Redis(port=port, socket_timeout=10, decode_responses=True)
            assert c.info("server")["config_file"] == path
            c.execute_command("CONFIG", "SET", *SETS)
            assert c.execute_command("CONFIG", "REWRITE") in (True, "OK", b"OK")
            with open(path) as f:
                text = f.read()
        finally:
            _stop(p)
        results[kind] = (text, d, port)
    text, d, port = results["tracered"]
    lines = text.split("\n")
    # Comments kept (trimmed), values rewritten in place, the alias line takes the primary
    # name, the second 'save' line and the 'slaveof no one' line are blanked.
    assert lines[:8] == ["# my config", f"port {port}", "# indented comment",
                         "maxmemory 200mb", 'save ""', "", "hash-max-listpack-entries 100",
                         'notify-keyspace-events "AKE"']
    assert "slaveof" not in text and 'dbfilename "dump.rdb"' in text
    head, tail = text.split("# Generated by CONFIG REWRITE\n")
    appended = set(tail.strip().split("\n"))
    # CONFIG REWRITE also writes every ACL user (no aclfile), as Redis does.
    assert {"hz 20", "maxmemory-clients 5%", "client-output-buffer-limit replica 1gb 2mb 30",
            f'dir "{d}"', "latency-tracking-info-percentiles 50 99 99.9",
            "user default on nopass ~* &* +@all"} == appended
    if "redis" in results:
        rtext, rd, rport = results["redis"]
        rhead, rtail = rtext.split("# Generated by CONFIG REWRITE\n")
        assert head.replace(f"port {port}", "P") == rhead.replace(f"port {rport}", "P")
        rappended = set(rtail.strip().split("\n"))
        assert {ln for ln in appended if not ln.startswith("dir ")} == \
            {ln for ln in rappended if not ln.startswith("dir ")}
    # The rewritten file loads back with the new values.
    path = os.path.join(d, "x.conf")
    p = _start_with_conf("tracered", path, port)
    try:
        c = redis.Redis(port=port, socket_timeout=10, decode_responses=True)
        got = c.config_get("*")
        assert (got["maxmemory"], got["hz"], got["save"], got["notify-keyspace-events"],
                got["hash-max-listpack-entries"], got["maxmemory-clients"]) == \
            ("209715200", "20", "", "AKE", "100", "5%")
        assert got["client-output-buffer-limit"].split()[4:8] == \
            ["slave", "1073741824", "2097152", "30"]
        # A second rewrite reuses the obuf line for the first class (at its default) and
        # appends the changed one, as config.c does.
        c.execute_command("CONFIG", "REWRITE")
        with open(path) as f:
            text2 = f.read()
        assert "client-output-buffer-limit normal 0 0 0\n" in text2
        assert text2.endswith("\nclient-output-buffer-limit replica 1gb 2mb 30\n")
    finally:
        _stop(p)


def test_config_rewrite_unknown_lines_become_comments(tmp_path):
    from tracered.server import Server

    path = tmp_path / "y.conf"
    path.write_text("# top\nrename-command FOO BAR\nmaxmemory 1mb\nmaxmemory 2mb\n")
    s = Server()
    config.config_set(s, [("maxmemory", "3mb")])
    config.BY_NAME.pop("zz-gone", None)
    config.rewrite_config(s, str(path))
    out = path.read_text()
    # rename-command lines are kept; the duplicate maxmemory line is blanked.
    assert out.startswith("# top\nrename-command FOO BAR\nmaxmemory 3mb\n\n")
    path.write_text("zz-gone 1\n")
    config.rewrite_config(s, str(path))
    assert path.read_text().startswith("# ??? zz-gone 1\n")


# --------------------------------------------------------------------------------------------
# CONFIG RESETSTAT
# --------------------------------------------------------------------------------------------

def test_config_resetstat_like_redis(diff):
    for c in (diff.t, diff.ref):
        c.config_resetstat()
        with pytest.raises(redis.ResponseError):
            c.execute_command("CONFIG", "SET", "nosuch", "1")
        c.ping()
        c.config_resetstat()
    a = diff.t.info("stats")
    b = diff.ref.info("stats")
    for k in ("total_commands_processed", "total_error_replies", "keyspace_hits",
              "expired_keys", "rejected_connections"):
        assert a[k] == b[k], k
    assert diff.t.info("errorstats") == diff.ref.info("errorstats") == {}
    counts = [{k: (v["calls"], v["rejected_calls"]) for k, v in c.info("commandstats").items()}
              for c in (diff.t, diff.ref)]
    assert counts[0] == counts[1]

