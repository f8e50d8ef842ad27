"""The Lua engine of Redis functions: the mirror of function_lua.c.

Layout (function_lua.c's order):

    lua_engine_load_hook          luaEngineLoadHook: FUNCTION LOAD's 500 ms budget
    LuaEngineCtx.create           luaEngineCreate: run a library's code once, with only the
                                  load-time API visible, so that it registers its functions
    LuaEngineCtx.call             luaEngineCall (+ script_lua.c luaCallFunction): run one
                                  registered callback with KEYS and ARGV as its arguments
    lua_register_function         luaRegisterFunction and its argument readers (positional
                                  and named-table forms, the flags table)
    lua_engine_init_engine        luaEngineInitEngine: a Lua state of its own, the redis.*
                                  API of EVAL, and the load-time globals

The engine has a Lua state of its own (SCRIPT FLUSH never touches it).  A library's chunk
and every function it defines share one environment table whose metatable is swapped
around FUNCTION LOAD: while the chunk runs, the only global is a ``redis`` table with
register_function, log, the LOG_* levels and the version fields (any other name is "Script
attempted to access nonexistent global variable"); afterwards the environment reads
through to the normal, protected globals.  Assigning a global is refused in both phases
("Attempt to modify a readonly table").

The redis.* functions of script_lua.py build their Lua values in ``script_lua.lctx``'s
state; while this engine runs Lua, ``lctx`` points at the engine's context so the tables
they return belong to the right state.

Divergence: Redis swaps the ``__index`` of the global table itself (its Lua has read-only
tables); tracered gives the library chunk its own environment with ``setfenv`` (lupa's Lua
is unpatched, see script_lua.py).  The effect seen by a library is the same.
Divergence: the runtime error handler is EVAL's (script_lua.py), which finds the same
``source``/``line`` as function_lua.c's simpler one.
"""

from __future__ import annotations

import time

from tracered import networking as net
from tracered import script_lua as sl
from tracered.server import server
from tracered.trace.probes import probe

LUA_ENGINE_NAME = b"LUA"
# luaEngineCreate's count hook period (VM instructions) while a library loads.
LOAD_HOOK_COUNT = 100000

_ENGINE_SETUP = r"""
local py, setfenv, sethook, getinfo, handler, rt_redis = ...
local RO_ERR = "Attempt to modify a readonly table"
local function ro_newindex() error(RO_ERR, 2) end

-- the load-time API: redis.register_function, redis.log, the levels and the version
local lredis = {register_function = py.register_function, log = rt_redis.log,
                LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3,
                REDIS_VERSION = rt_redis.REDIS_VERSION,
                REDIS_VERSION_NUM = rt_redis.REDIS_VERSION_NUM}
local function strict(t)
  return setmetatable({}, {
    __index = function(_, k)
      local v = rawget(t, k)
      if v == nil then
        error("Script attempted to access nonexistent global variable '" .. tostring(k) ..
              "'", 2)
      end
      return v
    end,
    __newindex = ro_newindex})
end
local load_globals = {redis = strict(lredis)}
local load_mt = getmetatable(strict(load_globals))
local run_mt = {__index = _G, __newindex = ro_newindex}
local env = setmetatable({}, run_mt)   -- shared by every library (Redis: the globals)

local function load_hook()
  -- never raise in this chunk's own code (it runs after the library, still hooked)
  local i = getinfo(2, 'S')
  if i and i.source == '=tracered' then return end
  if py.load_timedout() then
    sethook(load_hook, 'l')   -- every line from now on: pcall cannot keep the chunk alive
    error({err = 'ERR FUNCTION LOAD timeout'})
  end
end
local function identity(e) return e end

local function create(code, with_timeout)
  local fn, err = loadstring(code, '@user_function')
  if not fn then return false, err, true end
  setfenv(fn, env)
  setmetatable(env, load_mt)
  if with_timeout then sethook(load_hook, '', 100000) end
  local ok, e = xpcall(fn, identity)
  sethook()
  setmetatable(env, run_mt)
  if ok then return true end
  return false, e
end

local function call(f, keys, args)
  return xpcall(function() return f(keys, args) end, handler)
end
return {create = create, call = call}
"""


class LoadCtx:
    """loadCtx: the library being loaded and its time budget (0 = none)."""

    __slots__ = ("li", "start_time", "timeout")

    def __init__(self, li, timeout: int) -> None:
        self.li = li
        self.start_time = time.monotonic()
        self.timeout = timeout


# The FUNCTION LOAD in progress (Redis keeps it in the Lua registry).
_load_ctx: LoadCtx | None = None


def _lua_load_timedout() -> bool:
    """luaEngineLoadHook's test: past the load budget?"""
    lc = _load_ctx
    if lc is None or lc.timeout <= 0:
        return False
    return (time.monotonic() - lc.start_time) * 1000 > lc.timeout


# --------------------------------------------------------------------------------------------
# redis.register_function
# --------------------------------------------------------------------------------------------

def _lua_raise(msg: str):
    raise sl.LuaRaise(sl.lua_push_error_buff(msg))


def _is_function(v) -> bool:
    return (sl._lupa is not None and sl._lupa.lua_type(v) == "function") or callable(v)


def _get_string(v) -> bytes | None:
    """luaGetStringSds: strings, and numbers as Lua prints them."""
    if type(v) is bytes:
        return v
    if type(v) in (int, float):
        return sl.lua_number_tostring(v)
    return None


def _read_flags(tbl) -> int | None:
    """luaRegisterFunctionReadFlags: the array part, each a known flag (any case)."""
    flags = 0
    j = 1
    while True:
        v = tbl[j]
        if v is None:
            return flags
        s = _get_string(v)
        if s is None:
            return None
        bit = sl.SCRIPTS_FLAGS_DEF.get(s.lower())
        if bit is None:
            return None
        flags |= bit
        j += 1


def _read_named_args(tbl) -> tuple:
    """luaRegisterFunctionReadNamedArgs: (name, callback, description, flags)."""
    if sl._lupa is None or sl._lupa.lua_type(tbl) != "table":
        _lua_raise("calling redis.register_function with a single argument is only "
                   "applicable to Lua table (representing named arguments).")
    name = desc = callback = None
    flags = 0
    for k, v in tbl.items():
        if type(k) is not bytes and type(k) not in (int, float):
            _lua_raise("named argument key given to redis.register_function is not a string")
        key = _get_string(k).lower()
        if key == b"function_name":
            name = _get_string(v)
            if name is None:
                _lua_raise("function_name argument given to redis.register_function must "
                           "be a string")
        elif key == b"description":
            desc = _get_string(v)
            if desc is None:
                _lua_raise("description argument given to redis.register_function must be "
                           "a string")
        elif key == b"callback":
            if not _is_function(v):
                _lua_raise("callback argument given to redis.register_function must be a "
                           "function")
            callback = v
        elif key == b"flags":
            if sl._lupa.lua_type(v) != "table":
                _lua_raise("flags argument to redis.register_function must be a table "
                           "representing function flags")
            flags = _read_flags(v)
            if flags is None:
                _lua_raise("unknown flag given")
        else:
            _lua_raise("unknown argument given to redis.register_function")
    if name is None:
        _lua_raise("redis.register_function must get a function name argument")
    if callback is None:
        _lua_raise("redis.register_function must get a callback argument")
    return name, callback, desc, flags


@probe("luaRegisterFunction")
def lua_register_function(*args) -> None:
    """luaRegisterFunction: redis.register_function(name, callback) or
    redis.register_function{function_name=, callback=, flags=, description=}."""
    from tracered import functions

    lc = _load_ctx
    if lc is None:
        _lua_raise("redis.register_function can only be called on FUNCTION LOAD command")
    if len(args) < 1 or len(args) > 2:
        _lua_raise("wrong number of arguments to redis.register_function")
    if len(args) == 1:
        name, callback, desc, flags = _read_named_args(args[0])
    else:
        name = _get_string(args[0])
        if name is None:
            _lua_raise("first argument to redis.register_function must be a string")
        if not _is_function(args[1]):
            _lua_raise("second argument to redis.register_function must be a function")
        callback, desc, flags = args[1], None, 0
    err = functions.function_lib_create_function(name, callback, lc.li, desc, flags)
    if err is not None:
        _lua_raise(err)


# --------------------------------------------------------------------------------------------
# The engine
# --------------------------------------------------------------------------------------------

class LuaEngineCtx:
    """luaEngineCtx: the engine's Lua state (a script_lua.LuaCtx, so the redis.* functions
    work in it), its fake client, and the create/call entry points of _ENGINE_SETUP."""

    __slots__ = ("lctx", "create_fn", "call_fn")

    def __init__(self, lctx: sl.LuaCtx, create_fn, call_fn) -> None:
        self.lctx = lctx
        self.create_fn = create_fn
        self.call_fn = call_fn

    @probe("luaEngineCreate")
    def create(self, li, code: bytes, timeout: int) -> str | None:
        """luaEngineCreate: compile ``code`` and run it so it registers its functions into
        ``li``.  Returns the error text, or None."""
        global _load_ctx
        prev, sl.lctx = sl.lctx, self.lctx
        _load_ctx = LoadCtx(li, timeout)
        try:
            r = self.create_fn(code, timeout > 0)
        finally:
            _load_ctx = None
            sl.lctx = prev
        if type(r) is not tuple:
            return None if r else _load_error_text(None)
        if r[0]:
            return None
        if len(r) > 2 and r[2]:
            return "Error compiling function: %s" % (r[1] or b"").decode("utf-8",
                                                                         "surrogateescape")
        return _load_error_text(r[1])

    @probe("luaEngineCall")
    def call(self, run_ctx: sl.ScriptRunCtx, fn, keys: list[bytes],
             args: list[bytes]) -> None:
        """luaEngineCall / luaCallFunction: the callback gets KEYS and ARGV as its two
        arguments; its result (or error) becomes the caller's reply."""
        lctx = self.lctx
        prev, sl.lctx = sl.lctx, lctx
        c = run_ctx.original_client
        errors_before = server.stat_total_error_replies
        delhook = server.busy_reply_threshold > 0
        try:
            if delhook:
                lctx.sethook(lctx.hook, b"", sl.LUA_HOOK_COUNT)
            try:
                r = self.call_fn(fn, lctx.table_from(keys), lctx.table_from(args))
            finally:
                if delhook:
                    lctx.sethook()
            ok, value = (r[0], r[1]) if type(r) is tuple else (r, None)
            if ok:
                sl.lua_reply_to_redis_reply(c, run_ctx.c, value)
                return
            if type(value) is not bytes and sl._lupa.lua_type(value) != "table":
                value = sl._lua_unwrap(value)
            if sl._lupa.lua_type(value) != "table":
                msg = value if type(value) is bytes else b"execution failure"
                net.add_reply_error(c, "Error running script %s, %.100s\n"
                                    % (run_ctx.funcname, msg.decode("utf-8", "replace")))
                return
            msg, source, line, ignore = sl.lua_extract_error_information(value)
            text = b"-" + sl._cstr(msg if msg is not None else b"(null)")
            if line is not None and source is not None:
                text += b" script: %s, on %s:%s." % (run_ctx.funcname.encode(), source, line)
            sl._add_reply_error_ex(c, text, ignore)
            if ignore and server.stat_total_error_replies == errors_before and \
                    c.cmd is not None:
                c.cmd.failed_calls += 1
        finally:
            sl.lctx = prev

    def get_used_memory(self) -> int:
        """luaEngineGetUsedMemoy: the Lua state's size."""
        return int(self.lctx.collectgarbage(b"count") * 1024)


def _load_error_text(err) -> str:
    """luaEngineCreate's two failures: a compile error (a string from loadstring, whose
    text starts with the chunk name) or a runtime error of the chunk (luaExtractErrorInformation:
    a string gets "ERR ", an {err=} table gives its text)."""
    err = sl._lua_unwrap(err)
    if type(err) is bytes:
        msg = b"ERR " + err
    elif type(err) in (int, float):
        msg = b"ERR " + sl.lua_number_tostring(err)
    elif sl._lupa is not None and sl._lupa.lua_type(err) == "table":
        m = err[b"err"]
        msg = m if type(m) is bytes else (sl.lua_number_tostring(m) if type(m) in (int, float)
                                          else b"")
    else:
        msg = b""
    return "Error registering functions: %s" % msg.decode("utf-8", "surrogateescape")


@probe("luaEngineInitEngine")
def lua_engine_init_engine() -> LuaEngineCtx | None:
    """luaEngineInitEngine: a new Lua state with EVAL's libraries, redis.* API and globals
    protection (script_lua.py's bootstrap), plus the load-time environment.  None when
    lupa is missing."""
    if sl._lupa is None:
        return None
    lctx = sl.LuaCtx()
    setfenv = sl.lua_state_init(lctx)
    lua = lctx.lua
    epy = lua.table_from({b"register_function": lua_register_function,
                          b"load_timedout": _lua_load_timedout})
    setup = lctx.loadstring(_ENGINE_SETUP.encode(), b"=tracered")
    fns = setup(epy, setfenv, lctx.sethook, lctx.getinfo, lctx.handler,
                lctx.env[b"redis"])
    c = net.create_client(None)
    c.flags |= net.CLIENT_SCRIPT | sl.CLIENT_DENY_BLOCKING
    lctx.lua_client = c
    return LuaEngineCtx(lctx, fns[b"create"], fns[b"call"])
