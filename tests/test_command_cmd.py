"""COMMAND (COUNT, INFO, DOCS, GETKEYS, GETKEYSANDFLAGS, LIST, HELP) against a real
redis-server 7.0, plus the syntax-line parser of command_docs.py.

redis-py post-processes every reply of a command named COMMAND, so these tests talk RESP
through hiredis.Reader directly and compare the parsed replies.
"""

from __future__ import annotations

import socket

import hiredis
import pytest

from tracered.command_docs import SyntaxDocError, parse_args, render_args


class Raw:
    """A bare RESP connection: send a command, get hiredis's parse of the reply."""

    def __init__(self, port: int, resp: int = 2) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.reader = hiredis.Reader()
        if resp == 3:
            self.call("HELLO", "3")

    def call(self, *args):
        out = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(out))
        while True:
            reply = self.reader.gets()
            if reply is not False:
                return _norm(reply)
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError("closed")
            self.reader.feed(data)

    def close(self) -> None:
        self.sock.close()


def _norm(v):
    if isinstance(v, hiredis.ReplyError):
        return ("error", str(v))
    if isinstance(v, list):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    return v


@pytest.fixture
def t(tracered_server):
    c = Raw(tracered_server.port)
    yield c
    c.close()


@pytest.fixture
def ref(redis_server):
    c = Raw(redis_server.port)
    yield c
    c.close()


def _pairs(flat: list) -> dict:
    """A RESP2 map (flat key/value list) as a dict."""
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


# The CLIENT/COMMAND/MONITOR rows (tracking.py's CLIENT TRACKING/CACHING are compared in
# tests/test_tracking.py).
OWN = ["client|getname", "client|getredir", "client|help", "client|id", "client|info",
       "client|kill", "client|list", "client|no-evict", "client|pause", "client|reply",
       "client|setname", "client|trackinginfo", "client|unblock", "client|unpause",
       "monitor", "command|count", "command|docs", "command|getkeys",
       "command|getkeysandflags", "command|help", "command|info", "command|list"]


# ---------------------------------------------------------------------------- the parser

ROUND_TRIP = [
    "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
    "PXAT unix-time-milliseconds|KEEPTTL]",
    "key [key ...]",
    "key value [key value ...]",
    "ON|OFF|SKIP",
    "[TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]",
    "destination numkeys key [key ...] [WEIGHTS weight [weight ...]] "
    "[AGGREGATE SUM|MIN|MAX] [WITHSCORES]",
    "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value "
    "[field value ...]",
    "ON|OFF [REDIRECT client-id] [PREFIX prefix [PREFIX prefix ...]] [BCAST] [OPTIN]",
    "[protover [AUTH username password] [SETNAME clientname]]",
    "key [BY pattern] [LIMIT offset count] [GET pattern [GET pattern ...]] [ASC|DESC]",
    "[message]",
    "",
]


@pytest.mark.parametrize("syntax", ROUND_TRIP)
def test_parse_render_round_trip(syntax):
    assert render_args(parse_args(syntax)) == syntax


def test_parse_details():
    a = parse_args("source destination LEFT|RIGHT timeout:double [PREFIX p [PREFIX p ...]]",
                   num_key_specs=2)
    assert a[0] == {"name": "source", "type": "key", "key_spec_index": 0}
    assert a[1] == {"name": "destination", "type": "key", "key_spec_index": 1}
    assert a[2]["type"] == "oneof" and [x["token"] for x in a[2]["arguments"]] == \
        ["LEFT", "RIGHT"]
    assert a[3] == {"name": "timeout", "type": "double"}
    assert a[4] == {"name": "p", "type": "string", "token": "PREFIX",
                    "flags": ["optional", "multiple", "multiple_token"]}
    blk = parse_args("[LIMIT offset count]")[0]
    assert blk["type"] == "block" and blk["token"] == "LIMIT" and \
        [x["name"] for x in blk["arguments"]] == ["offset", "count"]
    assert parse_args("<A x | B y z>")[0]["type"] == "oneof"
    assert render_args(parse_args("[channel ...]")) == "[channel [channel ...]]"
    assert render_args(parse_args("key [field value ...]")) == \
        "key [field value [field value ...]]"
    for bad in ("[key", "key]", "a | ", "(a b"):
        with pytest.raises(SyntaxDocError):
            parse_args(bad)


def _shape(args: list) -> list:
    """An argument tree without what a syntax line cannot carry (since, hand-made names of
    choices and blocks), for comparison with Redis's JSON-born trees."""
    out = []
    for a in args:
        d = _pairs(a) if isinstance(a, list) else dict(a)
        d.pop(b"since", None)
        d.pop(b"deprecated_since", None)
        if d.get(b"type") in (b"oneof", b"block"):
            d.pop(b"name")
            d[b"arguments"] = _shape(d[b"arguments"])
        out.append(d)
    return out


def test_set_arguments_match_redis(ref):
    docs = _pairs(ref.call("COMMAND", "DOCS", "set")[1])
    theirs = _shape(docs[b"arguments"])

    def enc(node):
        return {k.encode(): (enc_list(v) if k == "arguments" else
                             [f.encode() for f in v] if k == "flags" else
                             v if isinstance(v, int) else v.encode())
                for k, v in node.items()}

    def enc_list(nodes):
        return [enc(n) for n in nodes]

    ours = _shape(enc_list(parse_args(
        "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|"
        "PXAT unix-time-milliseconds|KEEPTTL]")))
    assert ours == theirs


def test_every_command_row_parses():
    from tracered import server as server_module

    bad = []
    for table in server_module.all_command_tables():
        for c in table:
            for x in c.all_commands():
                try:
                    parse_args(x.args, len(x.key_specs))
                except SyntaxDocError as e:
                    bad.append(f"{x.fullname}: {e}")
    assert not bad, bad


# ---------------------------------------------------------------------------- COMMAND INFO

def _info_by_name(infos: list) -> dict:
    return {i[0]: i for i in infos}


def test_command_count_and_listing(t):
    count = t.call("COMMAND", "COUNT")
    everything = t.call("COMMAND")
    assert isinstance(count, int) and count == len(everything) > 10
    assert everything == t.call("COMMAND", "INFO")
    names = t.call("COMMAND", "LIST")
    subs = sum(len(i[9]) for i in everything)
    assert len(names) == len(set(names)) == count + subs
    assert b"client|list" in names and b"command" in names


@pytest.mark.parametrize("name", OWN + ["client", "command"])
def test_command_info_matches_redis(t, ref, name):
    ours = t.call("COMMAND", "INFO", name)[0]
    theirs = ref.call("COMMAND", "INFO", name)[0]
    if name in ("client", "command"):
        # Containers: compare everything but the subcommand list, then the list by name.
        assert ours[:9] == theirs[:9]
        ours_subs = _info_by_name(ours[9])
        theirs_subs = _info_by_name(theirs[9])
        assert set(theirs_subs) == set(ours_subs) - {b"client|traceparent"}
        # tracered's own extension (tracing_cmds.py) has no Redis counterpart.
        assert set(ours_subs) - set(theirs_subs) <= {b"client|traceparent"}
        for k, v in ours_subs.items():
            if k in theirs_subs:
                assert v == theirs_subs[k]
    else:
        assert ours == theirs


def test_command_info_unknown_and_resp3(t, tracered_server):
    assert t.call("COMMAND", "INFO", "nosuch", "client|nosuch", "a|b|c", "get|x") == \
        [None, None, None, None]
    assert t.call("COMMAND", "INFO", "CLIENT|LIST")[0][0] == b"client|list"
    t3 = Raw(tracered_server.port, resp=3)
    try:
        info = t3.call("COMMAND", "INFO", "client|kill")[0]
        assert info[2] == [b"admin", b"noscript", b"loading", b"stale"]
        docs = t3.call("COMMAND", "DOCS", "client|list")
        assert set(docs) == {b"client|list"}
        assert docs[b"client|list"][b"group"] == b"connection"
        assert docs[b"client|list"][b"arguments"][1][b"flags"] == [b"optional", b"multiple"]
    finally:
        t3.close()


# ---------------------------------------------------------------------------- COMMAND DOCS

def _cli_params(args: list) -> str:
    """redis-cli's cliConcatArguments over a RESP2 arguments reply."""
    return " ".join(_cli_arg(_pairs(a)) for a in args)


def _cli_arg(a: dict) -> str:
    typ = a[b"type"].decode()
    token = a.get(b"token", b"").decode()
    flags = a.get(b"flags", [])
    if typ == "oneof":
        rep = "|".join(_cli_arg(_pairs(x)) for x in a[b"arguments"])
    elif typ == "block":
        rep = " ".join(_cli_arg(_pairs(x)) for x in a[b"arguments"])
    elif typ == "pure-token":
        rep = ""
    else:
        rep = a[b"name"].decode()
    if token and typ != "pure-token":
        token += " "
    s = token + rep
    if b"multiple" in flags:
        s += " [" + (token if b"multiple_token" in flags else "") + rep + " ...]"
    return "[" + s + "]" if b"optional" in flags else s


@pytest.mark.parametrize("name", OWN)
def test_command_docs_match_redis(t, ref, name):
    ours = _pairs(t.call("COMMAND", "DOCS", name)[1])
    theirs = _pairs(ref.call("COMMAND", "DOCS", name)[1])
    for field in (b"summary", b"since", b"group", b"complexity"):
        assert ours.get(field) == theirs.get(field), field
    # What redis-cli shows as the typing hint is the same.
    assert _cli_params(ours.get(b"arguments", [])) == \
        _cli_params(theirs.get(b"arguments", []))


def test_command_docs_shapes(t):
    assert t.call("COMMAND", "DOCS", "nosuch") == []
    both = _pairs(t.call("COMMAND", "DOCS", "ping", "nosuch", "client"))
    assert set(both) == {b"ping", b"client"}
    client = _pairs(both[b"client"])
    subs = _pairs(client[b"subcommands"])
    assert b"client|list" in subs and b"arguments" not in client
    everything = _pairs(t.call("COMMAND", "DOCS"))
    assert len(everything) == t.call("COMMAND", "COUNT")
    for name, docs in everything.items():
        d = _pairs(docs)
        assert b"group" in d, name


# ---------------------------------------------------------------------------- GETKEYS

GETKEYS_CASES = [
    ("COMMAND", "GETKEYS"),
    ("COMMAND", "GETKEYS", "get"),
    ("COMMAND", "GETKEYS", "nosuch", "a"),
    ("COMMAND", "GETKEYS", "ping", "x"),
    ("COMMAND", "GETKEYS", "echo", "x"),
    ("COMMAND", "GETKEYS", "get", "a", "b"),
    ("COMMAND", "GETKEYS", "get", "a"),
    ("COMMAND", "GETKEYS", "GET", "a"),
    ("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"),
    ("COMMAND", "GETKEYS", "client", "list"),
    ("COMMAND", "GETKEYSANDFLAGS", "get", "a"),
    ("COMMAND", "GETKEYSANDFLAGS", "mset", "a", "1", "b", "2"),
    ("COMMAND", "GETKEYSANDFLAGS", "nosuch", "x"),
]


@pytest.mark.parametrize("args", GETKEYS_CASES, ids=lambda a: " ".join(a[1:]))
def test_getkeys_matches_redis(t, ref, args):
    assert t.call(*args) == ref.call(*args)


# ---------------------------------------------------------------------------- LIST / HELP

OTHER_CASES = [
    ("COMMAND", "HELP"),
    ("COMMAND", "NOSUCH"),
    ("COMMAND", "COUNT", "x"),
    ("COMMAND", "LIST", "foo"),
    ("COMMAND", "LIST", "FILTERBY"),
    ("COMMAND", "LIST", "FILTERBY", "PATTERN"),
    ("COMMAND", "LIST", "FILTERBY", "nosuch", "x"),
    ("COMMAND", "LIST", "FILTERBY", "PATTERN", "a", "b"),
    ("COMMAND", "LIST", "FILTERBY", "MODULE", "nosuch"),
    ("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch"),
]


@pytest.mark.parametrize("args", OTHER_CASES, ids=lambda a: " ".join(a[1:]))
def test_command_misc_matches_redis(t, ref, args):
    assert t.call(*args) == ref.call(*args)


def test_command_list_filters(t, ref):
    pat = ("COMMAND", "LIST", "FILTERBY", "PATTERN", "COMMAND*")
    assert sorted(t.call(*pat)) == sorted(ref.call(*pat))
    conn = set(t.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "Connection"))
    assert {b"client|list", b"command|docs", b"ping"} <= conn
    assert b"monitor" not in conn
    danger = set(t.call("COMMAND", "LIST", "FILTERBY", "ACLCAT", "dangerous"))
    assert {b"monitor", b"client|kill"} <= danger


def _flat_docs(docs: dict) -> dict:
    out = {}
    for name, d in docs.items():
        d = _pairs(d)
        out[name] = d
        for sname, sd in _pairs(d.get(b"subcommands", [])).items():
            out[sname] = _pairs(sd)
    return out


def test_typing_hints_match_redis_for_every_command(t, ref):
    """For every command both servers know, redis-cli would show the same typing hint."""
    ours = _flat_docs(_pairs(t.call("COMMAND", "DOCS")))
    theirs = _flat_docs(_pairs(ref.call("COMMAND", "DOCS")))
    differ = {}
    for name in sorted(set(ours) & set(theirs)):
        a = _cli_params(ours[name].get(b"arguments", []))
        b = _cli_params(theirs[name].get(b"arguments", []))
        if a != b:
            differ[name.decode()] = (a, b)
    assert not differ, differ
