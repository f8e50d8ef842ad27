"""Differential tests of Lua scripting against redis-server 7.0.15: the same EVAL sent to
both servers must get the same reply, byte for byte (error texts, SHA1s and line numbers
included).

Replies are read raw from a socket (the exact RESP bytes of one reply), in RESP2 and, for
the RESP3 catalogue, after HELLO 3, so a status that redis-py would decode like a bulk
string, or a RESP3 double that it would turn into a float, is still compared exactly.
"""

from __future__ import annotations

import socket

import pytest

READ_TIMEOUT = 5.0


class RawConn:
    """A connection that returns each reply as its exact protocol bytes."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=READ_TIMEOUT)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed")
        self.buf += data

    def _line_end(self, pos: int) -> int:
        while True:
            i = self.buf.find(b"\r\n", pos)
            if i >= 0:
                return i
            self._fill()

    def _reply_end(self, pos: int) -> int:
        end = self._line_end(pos)
        t = self.buf[pos:pos + 1]
        rest = self.buf[pos + 1:end]
        pos = end + 2
        if t in (b"$", b"=", b"!"):
            n = int(rest)
            if n < 0:
                return pos
            while len(self.buf) < pos + n + 2:
                self._fill()
            return pos + n + 2
        if t in (b"*", b"~", b">", b"%", b"|"):
            n = int(rest)
            if t in (b"%", b"|"):
                n *= 2
            for _ in range(max(n, 0)):
                pos = self._reply_end(pos)
            if t == b"|":
                pos = self._reply_end(pos)  # the attribute precedes the real reply
            return pos
        return pos

    def call(self, *args) -> bytes:
        parts = [b"*%d\r\n" % len(args)]
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            parts.append(b"$%d\r\n%s\r\n" % (len(a), a))
        self.sock.sendall(b"".join(parts))
        end = self._reply_end(0)
        out, self.buf = self.buf[:end], self.buf[end:]
        return out


@pytest.fixture
def conns(r, rr, tracered_server, redis_server):
    """Raw connections to both (flushed) servers, with empty script caches."""
    a, b = RawConn(tracered_server.port), RawConn(redis_server.port)
    for c in (a, b):
        assert c.call("SCRIPT", "FLUSH") == b"+OK\r\n"
    yield a, b
    a.close()
    b.close()


def same(conns, *args) -> bytes:
    a, b = conns
    x, y = a.call(*args), b.call(*args)
    assert x == y, f"{args!r}:\n tracered={x!r}\n redis=   {y!r}"
    return x


# Each entry: (script, numkeys, keys and args...).  Run in order on the same connection, so
# later scripts see the keys earlier ones wrote.
CATALOGUE_RESP2 = [
    # Lua -> Redis conversions
    ("return 1", 0), ("return -3.99", 0), ("return 3.99", 0), ("return 1e20", 0),
    ("return 0/0", 0), ("return 1/0", 0), ("return 'str'", 0), ("return ''", 0),
    ("return true", 0), ("return false", 0), ("return nil", 0), ("return", 0),
    ("return {}", 0), ("return {1, 2, {3, 'x', {true, false}}, 'y'}", 0),
    ("return {1, nil, 3}", 0), ("return {1, 2, ok='x'}", 0), ("return {err=5}", 0),
    ("return {ok=5}", 0), ("return {ok='fine\\r\\nline'}", 0),
    ("return {err='MYCODE something'}", 0), ("return {1, {err='E inner'}, 3}", 0),
    ("return {double=3.5}", 0), ("return {big_number='123456789012345678901234567890'}", 0),
    ("return {map={a=1}}", 0), ("return {set={x=true}}", 0),
    ("return {verbatim_string={format='txt', string='hello'}}", 0),
    ("return function() end", 0), ("return coroutine.create(function() end)", 0),
    ("return redis.status_reply('FINE')", 0), ("return redis.error_reply('bad thing')", 0),
    ("return redis.error_reply('-X bad thing')", 0), ("return redis.error_reply('x')", 0),
    ("return redis.error_reply(5)", 0), ("return redis.status_reply()", 0),
    # KEYS / ARGV
    ("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", 2, "k1", "k2", "a1", "a2"),
    ("KEYS[1] = 'changed' return KEYS[1]", 1, "k"), ("return ARGV", 0, "x", "y", "z"),
    # Redis -> Lua conversions
    ("return redis.call('set', KEYS[1], ARGV[1])", 1, "s", "foo"),
    ("return redis.call('get', KEYS[1])", 1, "s"),
    ("return type(redis.call('get', 'nosuchkey'))", 0),
    ("return tostring(redis.call('get', 'nosuchkey'))", 0),
    ("return redis.call('ping')", 0), ("return redis.call('ping').ok", 0),
    ("return type(redis.call('ping'))", 0),
    ("return redis.call('incrby', 'n', 5) + 0.5", 0),
    ("redis.call('rpush', 'l', 'a', 'b', 'c') return redis.call('lrange', 'l', 0, -1)", 0),
    ("return redis.call('hset', 'h', 'f1', 'v1', 'f2', 'v2')", 0),
    ("return redis.call('hgetall', 'h')", 0),
    ("return redis.call('mget', 's', 'nokey', 'n')", 0),
    ("return type(redis.call('blpop', 'nolist', 0))", 0),
    ("return redis.call('set', 'x', 3.0)", 0), ("return redis.call('get', 'x')", 0),
    ("return redis.call('set', 'x', 0.1)", 0), ("return redis.call('get', 'x')", 0),
    ("return redis.call('set', 'x', 2^60)", 0), ("return redis.call('get', 'x')", 0),
    ("return redis.call('zadd', 'z', 1.5, 'm')", 0),
    ("return redis.call('zscore', 'z', 'm')", 0),
    # redis.call / redis.pcall errors
    ("return redis.call('nosuch')", 0), ("return redis.call('get')", 0),
    ("return redis.pcall('get')", 0), ("return redis.call('incr', 's')", 0),
    ("return redis.pcall('incr', 's')", 0), ("return redis.pcall('incr', 's').err", 0),
    ("return {pcall(redis.call, 'incr', 's')}", 0),
    ("local ok, e = pcall(redis.call, 'incr', 's') return type(e)", 0),
    ("return redis.call('lpush', 's', 'x')", 0), ("return redis.call(1)", 0),
    ("return redis.call({})", 0), ("return redis.call()", 0),
    ("return redis.call('get', nil)", 0), ("return redis.call('multi')", 0),
    ("return redis.call('eval', 'return 1', 0)", 0),
    ("return redis.call('script', 'flush')", 0),
    ("return redis.call('object', 'nosuch')", 0),
    ("redis.call('set', 'w', 1) return redis.call('get')", 0),
    ("return redis.pcall('nosuch')", 0),
    # script errors and the globals protection
    ("error('boom')", 0), ("error({err='MY err'})", 0), ("error()", 0), ("error(5)", 0),
    ("local x = nil; return x.y", 0), ("return 1 +", 0), ("return syntax error here", 0),
    ("x = 1", 0), ("return y", 0), ("string.foo = 1", 0), ("redis.call = nil", 0),
    ("return {pcall(function() string.x = 1 end)}", 0),
    ("return {pcall(rawset, _G, 'x', 1)}", 0), ("return {pcall(setmetatable, _G, nil)}", 0),
    ("return type(getmetatable(_G))", 0), ("return type(debug)", 0),
    ("return type(os)", 0), ("return loadstring('return 1+1')()", 0),
    ("return loadstring('y = 1')()", 0),
    ("local t={} for k in pairs(_G) do t[#t+1]=k end table.sort(t) "
     "return table.concat(t,' ')", 0),
    ("local t={} for k in pairs(redis) do t[#t+1]=k end table.sort(t) "
     "return table.concat(t,' ')", 0),
    ("local t={} for k in pairs(string) do t[#t+1]=k end return #t", 0),
    ("return {rawget(_G, 'KEYS') ~= nil, next(redis) ~= nil}", 0),
    ("local f = function() return redis.call('nosuch') end\n\nreturn f()", 0),
    ("local a = 1\nlocal b = 2\nerror('line three')", 0),
    # the other redis.* functions
    ("return redis.sha1hex('abc')", 0), ("return redis.sha1hex('')", 0),
    ("return redis.sha1hex()", 0), ("return redis.log(redis.LOG_WARNING)", 0),
    ("return redis.log('x', 'y')", 0), ("return redis.log(9, 'y')", 0),
    ("return redis.log(redis.LOG_DEBUG, 'quiet')", 0), ("return redis.setresp(4)", 0),
    ("return redis.setresp()", 0), ("return redis.set_repl(7)", 0),
    ("return redis.set_repl()", 0), ("return redis.set_repl(redis.REPL_ALL)", 0),
    ("return redis.REDIS_VERSION_NUM", 0), ("return redis.REDIS_VERSION", 0),
    ("return tostring(redis.replicate_commands())", 0), ("return redis.breakpoint()", 0),
    ("return redis.debug('x')", 0),
    ("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, "
     "redis.REPL_ALL, redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, "
     "redis.LOG_WARNING}", 0),
    ("return redis.acl_check_cmd('get', 'x')", 0),
    ("return redis.acl_check_cmd('nope')", 0),
    # math.random (redisLrand48: the same sequence on every server)
    ("math.randomseed(7) return {tostring(math.random()), math.random(10), "
     "math.random(5, 9)}", 0),
    ("return math.random(0)", 0), ("return math.random('x')", 0),
    ("return math.random(1, 2, 3)", 0), ("return math.random(3, 1)", 0),
    # cjson
    ("return cjson.encode({1, 2, 3, {a=1}, 'x\"/\\n', true, false, 1.5, 1e20, 0.1})", 0),
    ("return cjson.encode({})", 0), ("return cjson.encode({[1]=1, [20]=2})", 0),
    ("return cjson.encode({a={b={c=1}}, [5]=3})", 0),
    ("return cjson.encode(function() end)", 0), ("return cjson.encode(0/0)", 0),
    ("return cjson.encode({[true]=1})", 0), ("return cjson.encode()", 0),
    ("return cjson.encode('\\1\\127')", 0),
    ("return cjson.decode('[1,2,{\"a\":null}]')[3].a == cjson.null", 0),
    ("return cjson.decode('{\"a\": [1, 2.5, \"x\\\\u00e9\\\\ud83d\\\\ude00\"]}').a[3]", 0),
    ("return cjson.decode('[1,2')", 0), ("return cjson.decode('nul')", 0),
    ("return cjson.decode('0x10')", 0), ("return tostring(cjson.decode('-Infinity'))", 0),
    ("return cjson.decode('\"\\\\q\"')", 0), ("return cjson.decode('{1:2}')", 0),
    ("return cjson.decode('[1,]')", 0), ("return cjson.decode('')", 0),
    ("return cjson.decode()", 0), ("return type(cjson.null)", 0),
    ("return cjson._NAME .. ' ' .. cjson._VERSION", 0),
    ("return cjson.encode(cjson.decode('{\"a\":[1,2,{\"b\":false}]}'))", 0),
    ("return cjson.decode('[1, 2, 3]')", 0),
    # cmsgpack
    ("return cmsgpack.pack({1, 2, 3}, 'abc', 1.5, -1, 300, -300, 2^40, -2^40, 0.1, {a=1}, "
     "true, false, nil, string.rep('x', 40), {})", 0),
    ("return {cmsgpack.unpack(cmsgpack.pack({1, 2, {x='y'}}, 'z', 3.25, -7))}", 0),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}", 0),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}", 0),
    ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 0)}", 0),
    ("return cmsgpack.unpack(string.char(0xcd))", 0),
    ("return cmsgpack.unpack(string.char(0xc1))", 0), ("return cmsgpack.pack()", 0),
    ("return cmsgpack._VERSION", 0),
    # struct
    ("return struct.pack('>i2Bc3s', 300, 7, 'abc', 'zz')", 0),
    ("return {struct.unpack('>i2Bc3s', struct.pack('>i2Bc3s', -300, 7, 'abc', 'zz'))}", 0),
    ("return {struct.unpack('<hHlf', struct.pack('<hHlf', -2, 65535, -5, 1.5))}", 0),
    ("return {struct.unpack('!4bi4d', struct.pack('!4bi4d', 1, 2, 2.5))}", 0),
    ("return struct.size('!4bi4d')", 0), ("return struct.size('s')", 0),
    ("return struct.pack('q', 1)", 0), ("return struct.unpack('i4', 'ab')", 0),
    ("return {struct.unpack('Bc0', struct.pack('Bc0', 3, 'xyz'))}", 0),
    ("return struct.pack('i', 'x')", 0),
    # bit
    ("return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0), "
     "bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-16, 2), bit.rol(0x12345678, 8), "
     "bit.ror(0x12345678, 8), bit.bswap(0x12345678), bit.tohex(255), bit.tohex(-1, -4), "
     "bit.tobit(2^32 + 5), bit.tobit(1.5), bit.tobit(2.5), bit.band('7', 3)}", 0),
    ("return bit.band()", 0), ("return bit.band('x')", 0),
    # assorted shapes and failures
    ("local t = {} for i = 1, 5000 do t[i] = i end return t", 0),
    ("local t = {} for i = 1, 300 do t[i] = {i, tostring(i)} end return t", 0),
    ("return redis.call('zrange', 'z', 0, -1, 'withscores')", 0),
    ("return redis.call('scan', 0)[1]", 0), ("return redis.call('hgetall', 'nokey')", 0),
    ("return {ARGV[1], #ARGV[1]}", 0, b"bin\x00ary\xff\r\n"),
    ("local function f(n) return 1 + f(n + 1) end return f(1)", 0),
    ("return {pcall(error, {err='caught'})}", 0),
    ("local ok, e = pcall(function() error('inner', 0) end) return e", 0),
    ("return select('#', redis.call('ping'))", 0),
    ("return string.format('%d %s %5.2f', 42, 'x', 3.14159)", 0),
    ("return tostring(12345678901234567890)", 0), ("return tostring(0.1 + 0.2)", 0),
    ("return table.concat({1, 2, 3}, '-')", 0), ("return #redis.call('keys', '*') > 0", 0),
    ("return string.rep('ab', 3) .. string.upper('x') .. ('y'):rep(2)", 0),
    ("return tonumber('0x10') + tonumber('  12  ')", 0),
    ("return coroutine.wrap(function() coroutine.yield(redis.call('ping')) end)()", 0),
    ("return {type(_G), _G == _G._G, _VERSION}", 0),
    ("return unpack({1, 2, 3})", 0), ("return {unpack({1, 2, 3})}", 0),
    # shebang flags (7.0)
    ("#!lua\nreturn 1", 0), ("#!lua flags=no-writes\nreturn redis.call('set', 'a', 'b')", 0),
    ("#!lua flags=no-writes,allow-oom\nreturn redis.call('get', 's')", 0),
    ("#!lua flags=bad\nreturn 1", 0), ("#!lua foo=bar\nreturn 1", 0),
    ("#!python\nreturn 1", 0), ("#!lua", 0), ("#!lua flags=\nreturn 1", 0),
    ("#!lua name=x\nreturn 1", 0), ("#!\nreturn 1", 0),
    ("#!lua flags=no-writes\nerror('x')", 0),
    ("#!lua flags=allow-stale,no-cluster,allow-cross-slot-keys\nreturn 2", 0),
]


def test_catalogue_resp2(conns):
    for entry in CATALOGUE_RESP2:
        script, numkeys, *rest = entry
        same(conns, "EVAL", script, numkeys, *rest)
    # Whatever the scripts wrote is the same on both servers.
    same(conns, "DEBUG", "DIGEST")


CATALOGUE_RESP3 = [
    "return {double=3.5}", "return {double=1/0}", "return {big_number='12345'}",
    "return {map={a=1}}", "return {set={x=true}}",
    "return {verbatim_string={format='txt', string='hello'}}", "return true", "return false",
    "return nil", "return {1, true, false}",
    # redis.setresp(3): RESP3 replies become the RESP3 Lua types
    "redis.setresp(3) return redis.call('hgetall', 'h')",
    "redis.setresp(3) return redis.call('hgetall', 'h').map.f1",
    "redis.setresp(3) return redis.call('smembers', 'st')",
    "redis.setresp(3) return type(redis.call('smembers', 'st').set)",
    "redis.setresp(3) return redis.call('zscore', 'z', 'm')",
    "redis.setresp(3) return redis.call('zscore', 'z', 'm').double",
    "redis.setresp(3) return type(redis.call('get', 'nokey'))",
    "redis.setresp(3) return redis.call('get', 'nokey')",
    "redis.setresp(3) return {redis.call('exists', 'h') == 1}",
    "redis.setresp(3) return true", "redis.setresp(3) return false",
    "redis.setresp(3) return redis.call('zrange', 'z', 0, -1, 'withscores')",
    "redis.setresp(2) return redis.call('hgetall', 'h')",
    "redis.setresp(3) return redis.call('debug', 'protocol', 'bignum')",
    "redis.setresp(3) return redis.call('debug', 'protocol', 'verbatim')",
    "redis.setresp(3) return redis.call('debug', 'protocol', 'true')",
    "redis.setresp(3) return redis.call('debug', 'protocol', 'null')",
    "redis.setresp(3) return redis.call('debug', 'protocol', 'attrib')",
]


def test_catalogue_resp3_and_resp2_callers(conns):
    same(conns, "HSET", "h", "f1", "v1")
    same(conns, "SADD", "st", "only")
    same(conns, "ZADD", "z", "1.5", "m")
    for script in CATALOGUE_RESP3:
        same(conns, "EVAL", script, 0)
    a, b = conns
    a.call("HELLO", "3")
    b.call("HELLO", "3")
    for script in CATALOGUE_RESP3:
        same(conns, "EVAL", script, 0)


def test_evalsha_script_commands(conns):
    sha = same(conns, "SCRIPT", "LOAD", "return {KEYS[1], ARGV[1]}")
    sha_text = sha.split(b"\r\n")[1].decode()
    same(conns, "EVALSHA", sha_text, 1, "k", "v")
    same(conns, "EVALSHA", sha_text.upper(), 1, "k", "v")
    same(conns, "EVALSHA_RO", sha_text, 1, "k", "v")
    same(conns, "SCRIPT", "EXISTS", sha_text, sha_text.upper(), "0" * 40, "nope")
    same(conns, "EVALSHA", "abc", 0)
    same(conns, "EVALSHA", "f" * 40, 0)
    same(conns, "EVALSHA", "f" * 40, "x")
    same(conns, "EVALSHA", "abc", "x")
    same(conns, "SCRIPT", "LOAD", "return +")
    same(conns, "SCRIPT", "LOAD", "#!lua flags=bad\nreturn 1")
    same(conns, "SCRIPT", "FLUSH", "SYNC")
    same(conns, "SCRIPT", "EXISTS", sha_text)
    same(conns, "EVALSHA", sha_text, 0)
    same(conns, "SCRIPT", "FLUSH", "ASYNC")
    same(conns, "SCRIPT", "FLUSH", "BAD")
    same(conns, "SCRIPT", "FLUSH", "SYNC", "ASYNC")
    same(conns, "SCRIPT", "KILL")
    same(conns, "SCRIPT", "HELP")
    same(conns, "SCRIPT", "NOPE")
    same(conns, "SCRIPT", "LOAD")
    same(conns, "SCRIPT", "EXISTS")
    same(conns, "SCRIPT", "DEBUG", "NO")
    same(conns, "SCRIPT", "DEBUG", "MAYBE")
    same(conns, "SCRIPT")


def test_eval_argument_errors(conns):
    same(conns, "EVAL", "return 1", -1)
    same(conns, "EVAL", "return 1", 2, "a")
    same(conns, "EVAL", "return 1", "x")
    same(conns, "EVAL", "return 1")
    same(conns, "EVAL_RO", "return redis.call('set', 'a', 'b')", 1, "a")
    same(conns, "EVAL_RO", "return redis.call('get', 'a')", 1, "a")
    same(conns, "EVAL_RO", "#!lua\nreturn 1", 0)
    same(conns, "EVAL_RO", "#!lua flags=no-writes\nreturn 1", 0)
    same(conns, "EVAL_RO", "return redis.call('publish', 'ch', 'm')", 0)
    same(conns, "EVAL", "return redis.call('publish', 'ch', 'm')", 0)


def test_eval_in_multi_and_select_in_script(conns):
    same(conns, "SET", "k", "db0")
    same(conns, "EVAL", "redis.call('select', 9) redis.call('set', 'k', 'db9') "
                        "return redis.call('get', 'k')", 0)
    same(conns, "GET", "k")  # the caller's database did not change
    same(conns, "SELECT", "9")
    same(conns, "GET", "k")
    same(conns, "SELECT", "0")
    same(conns, "MULTI")
    same(conns, "EVAL", "return redis.call('incr', 'cnt')", 0)
    same(conns, "EVAL", "return redis.call('incr', 'cnt')", 0)
    same(conns, "EXEC")
    same(conns, "MULTI")
    same(conns, "EVAL", "return redis.call('nosuch')", 0)
    same(conns, "EXEC")


def test_command_info_and_getkeys(conns):
    # (EVAL and EVAL_RO's key specs carry "notes", which tracered's KeySpec has not yet;
    # SCRIPT's subcommands come in redis-server's dict order, which varies by process.)
    for name in ("evalsha", "evalsha_ro", "script|load", "script|kill"):
        same(conns, "COMMAND", "INFO", name)
    same(conns, "COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c")
    same(conns, "COMMAND", "GETKEYS", "EVAL", "return 1", "0", "a")


def _stats(conn: RawConn) -> list[str]:
    """errorstats, error totals and the calls/rejected/failed counters of the commands."""
    out = []
    for section in (b"errorstats", b"commandstats", b"stats"):
        text = conn.call("INFO", section).split(b"\r\n", 1)[1].decode()
        for line in text.splitlines():
            if line.startswith("errorstat_") or "error_replies" in line:
                out.append(line)
            elif line.startswith("cmdstat_"):
                name, fields = line.split(":", 1)
                kept = [f for f in fields.split(",") if not f.startswith("usec")]
                out.append(name + ":" + ",".join(kept))
    return sorted(out)


def test_error_stats_match(conns):
    for c in conns:
        c.call("CONFIG", "RESETSTAT")
    same(conns, "SET", "s", "foo")
    for script in ("return redis.call('incr', 's')", "return redis.pcall('incr', 's')",
                   "return redis.call('nosuch')", "return redis.call('get')", "error('x')",
                   "return redis.error_reply('MY err')", "return {err='OTHER x'}",
                   "return redis.call('set', 'x', 'y')"):
        same(conns, "EVAL", script, 0)
    same(conns, "EVAL_RO", "return redis.call('set', 'a', 'b')", 0)
    a, b = conns
    assert _stats(a) == _stats(b)
