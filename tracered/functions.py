"""Redis functions: the mirror of functions.c (FUNCTION *, FCALL, FCALL_RO).

Layout (functions.c's order):

    FunctionInfo, FunctionLibInfo, EngineInfo, FunctionsLibCtx    the structs
    functions_lib_ctx_clear / _clear_current / _swap_with_current / _create
    function_lib_create_function    a library's code registering one function
    library_unlink / library_link / library_join                   (FUNCTION RESTORE)
    functions_register_engine, FUNCTION STATS / LIST / DELETE / KILL, FCALL, FCALL_RO,
    FUNCTION DUMP / RESTORE / FLUSH / HELP
    function_extract_lib_meta_data  the ``#!<engine> name=<library>`` shebang
    functions_create_with_library_ctx, FUNCTION LOAD, functions_init
    rdb_save_functions / the RDB load hooks (rdb.c's rdbSaveFunctions / rdbFunctionLoad)

A library is the code given to FUNCTION LOAD, run once by its engine (function_lua.py) so
that it registers functions.  Function names are global across libraries and compared
without case (like the engine names); library names are exact.  FCALL runs a function
through script_lua.py's run context (script_prepare_for_run / script_call / script_reset_run)
exactly as EVAL does: the same read-only, OOM, stale and MISCONF checks, the same busy
script handling (FUNCTION KILL is script_kill for non-EVAL scripts), and the same
replication of effects instead of the FCALL.  FUNCTION LOAD / DELETE / FLUSH / RESTORE
change ``server.dirty`` and so are propagated verbatim to the AOF and the replicas.

Persistence: each library is written into RDB files as RDB_OPCODE_FUNCTION2 followed by
its code, before the databases (rdbSaveFunctions).  Loading an RDB (startup, DEBUG RELOAD,
full sync, AOF preamble) first drops the libraries, as emptyData does in Redis, unless the
load may replace existing data (RDBFLAGS_ALLOW_DUP: DEBUG RELOAD MERGE).

Divergence: the libraries and functions live in Python dicts, so FUNCTION LIST reports
libraries in load order and a library's functions in registration order (Redis: hash
order, which looks random).
Divergence: FUNCTION FLUSH ASYNC frees like SYNC (dropping the references is the work).
Divergence: the memory figures of INFO (used_memory_functions) are estimates of Redis's
allocations, not Python's.
Divergence: processCommand does not read a function's flags (fcallGetCommandFlags);
FCALL itself refuses a write function on a read-only replica or on OOM with
processCommand's errors, and leaves the other checks (stale replica, MISCONF, min-replicas)
to script_prepare_for_run, whose texts differ from processCommand's.
"""

from __future__ import annotations

from tracered import networking as net
from tracered import rdb as rdbmod
from tracered import script_lua as sl
from tracered import server as server_module
from tracered import shared, util
from tracered.commands import KeySpec, cmd, sub
from tracered.crc64 import crc64
from tracered.server import server
from tracered.trace.probes import probe

LOAD_TIMEOUT_MS = 500

RESTORE_POLICY_FLUSH, RESTORE_POLICY_APPEND, RESTORE_POLICY_REPLACE = 0, 1, 2

_NAME_ERR = ("Library names can only contain letters, numbers, or underscores(_) and must "
             "be at least one character long")


# --------------------------------------------------------------------------------------------
# The structs (functions.h)
# --------------------------------------------------------------------------------------------

class EngineInfo:
    """engineInfo: a registered engine, its name and the fake client its scripts use."""

    __slots__ = ("name", "engine", "c")

    def __init__(self, name: bytes, engine, c) -> None:
        self.name = name
        self.engine = engine
        self.c = c


class FunctionLibInfo:
    """functionLibInfo: a library: its name, engine, code and functions (name ->
    FunctionInfo, in registration order; exact names, unlike the global dict)."""

    __slots__ = ("name", "functions", "ei", "code")

    def __init__(self, name: bytes, ei: EngineInfo, code: bytes) -> None:
        self.name = name
        self.functions: dict[bytes, FunctionInfo] = {}
        self.ei = ei
        self.code = code


class FunctionInfo:
    """functionInfo: one registered function: the engine's compiled callback and flags."""

    __slots__ = ("name", "function", "li", "desc", "f_flags")

    def __init__(self, name: bytes, function, li: FunctionLibInfo, desc: bytes | None,
                 f_flags: int) -> None:
        self.name = name
        self.function = function
        self.li = li
        self.desc = desc
        self.f_flags = f_flags


class FunctionsLibCtx:
    """functionsLibCtx: the libraries (by name), all their functions (by lower-cased name),
    the per-engine counts [libraries, functions] and an estimate of the memory used."""

    __slots__ = ("libraries", "functions", "engines_stats", "cache_memory")

    def __init__(self) -> None:
        self.libraries: dict[bytes, FunctionLibInfo] = {}
        self.functions: dict[bytes, FunctionInfo] = {}
        self.engines_stats: dict[bytes, list[int]] = {k: [0, 0] for k in engines}
        self.cache_memory = 0


engines: dict[bytes, EngineInfo] = {}
curr_functions_lib_ctx: FunctionsLibCtx | None = None
engine_cache_memory = 0


def _sds_size(s: bytes | None) -> int:
    """sdsZmallocSize estimate: header + data + NUL, rounded to the allocator's 16."""
    return 0 if s is None else (len(s) + 3 + 15) & ~15


def _function_malloc_size(fi: FunctionInfo) -> int:
    return 48 + _sds_size(fi.name) + _sds_size(fi.desc) + 16


def _library_malloc_size(li: FunctionLibInfo) -> int:
    return 48 + _sds_size(li.name) + _sds_size(li.code)


def functions_lib_ctx_clear(lib_ctx: FunctionsLibCtx) -> None:
    """functionsLibCtxClear."""
    lib_ctx.functions = {}
    lib_ctx.libraries = {}
    for stats in lib_ctx.engines_stats.values():
        stats[0] = stats[1] = 0
    lib_ctx.cache_memory = 0


@probe("functionsLibCtxClearCurrent")
def functions_lib_ctx_clear_current(is_async: bool) -> None:
    """functionsLibCtxClearCurrent (FUNCTION FLUSH, emptyData)."""
    functions_lib_ctx_clear(curr_functions_lib_ctx)
    _update_memory_stats()


def functions_lib_ctx_swap_with_current(new_lib_ctx: FunctionsLibCtx) -> None:
    global curr_functions_lib_ctx
    curr_functions_lib_ctx = new_lib_ctx
    _update_memory_stats()


def functions_lib_ctx_get_current() -> FunctionsLibCtx:
    return curr_functions_lib_ctx


def functions_lib_ctx_create() -> FunctionsLibCtx:
    return FunctionsLibCtx()


def _functions_verify_name(name: bytes) -> bool:
    """functionsVerifyName: [A-Za-z0-9_]+."""
    return bool(name) and all(ch == 95 or 48 <= ch <= 57 or 65 <= ch <= 90 or 97 <= ch <= 122
                              for ch in name)


def function_lib_create_function(name: bytes, function, li: FunctionLibInfo,
                                 desc: bytes | None, f_flags: int) -> str | None:
    """functionLibCreateFunction: add a function to the library being loaded (called by the
    engine's register_function).  Returns an error text or None."""
    if not _functions_verify_name(name):
        return _NAME_ERR
    if name in li.functions:
        return "Function already exists in the library"
    li.functions[name] = FunctionInfo(name, function, li, desc, f_flags)
    return None


def library_unlink(lib_ctx: FunctionsLibCtx, li: FunctionLibInfo) -> None:
    """libraryUnlink: take a library and its functions out of ``lib_ctx``."""
    functions = lib_ctx.functions
    for fi in li.functions.values():
        key = fi.name.lower()
        if functions.get(key) is fi:
            del functions[key]
        lib_ctx.cache_memory -= _function_malloc_size(fi)
    del lib_ctx.libraries[li.name]
    lib_ctx.cache_memory -= _library_malloc_size(li)
    stats = lib_ctx.engines_stats[li.ei.name.lower()]
    stats[0] -= 1
    stats[1] -= len(li.functions)


def library_link(lib_ctx: FunctionsLibCtx, li: FunctionLibInfo) -> None:
    """libraryLink: put a library and its functions into ``lib_ctx``."""
    functions = lib_ctx.functions
    for fi in li.functions.values():
        # Two names of one library that differ only in case: the first one wins, as
        # dictAdd into the case-insensitive dict refuses the second.
        functions.setdefault(fi.name.lower(), fi)
        lib_ctx.cache_memory += _function_malloc_size(fi)
    lib_ctx.libraries[li.name] = li
    lib_ctx.cache_memory += _library_malloc_size(li)
    stats = lib_ctx.engines_stats[li.ei.name.lower()]
    stats[0] += 1
    stats[1] += len(li.functions)


def library_join(dst: FunctionsLibCtx, src: FunctionsLibCtx, replace: bool) -> str | None:
    """libraryJoin: move every library of ``src`` into ``dst`` (FUNCTION RESTORE APPEND or
    REPLACE).  All or nothing: on a collision ``dst`` is left as it was."""
    old_libraries: list[FunctionLibInfo] = []
    err = None
    for name in src.libraries:
        old_li = dst.libraries.get(name)
        if old_li is None:
            continue
        if not replace:
            err = "Library %s already exists" % name.decode("utf-8", "surrogateescape")
            break
        library_unlink(dst, old_li)
        old_libraries.append(old_li)
    if err is None:
        for key, fi in src.functions.items():
            if key in dst.functions:
                err = "Function %s already exists" % fi.name.decode("utf-8", "surrogateescape")
                break
    if err is not None:
        for li in old_libraries:
            library_link(dst, li)
        return err
    for li in list(src.libraries.values()):
        library_link(dst, li)
    functions_lib_ctx_clear(src)
    return None


# --------------------------------------------------------------------------------------------
# Engines
# --------------------------------------------------------------------------------------------

def functions_register_engine(engine_name: bytes, engine) -> bool:
    """functionsRegisterEngine: an engine and the fake client its functions run on."""
    global engine_cache_memory
    key = engine_name.lower()
    if key in engines:
        server.log_warning("Same engine was registered twice")
        return False
    engines[key] = EngineInfo(engine_name, engine, engine.lctx.lua_client)
    engine_cache_memory += 64 + _sds_size(engine_name) + 64
    return True


# --------------------------------------------------------------------------------------------
# FUNCTION STATS / LIST / DELETE / KILL
# --------------------------------------------------------------------------------------------

def function_stats_command(c: net.Client) -> None:
    """FUNCTION STATS: the running function (name, command, duration_ms) or null, and each
    engine's library and function counts."""
    rctx = sl.curr_run_ctx
    if rctx is not None and rctx.flags & sl.SCRIPT_EVAL_MODE:
        net.add_reply_error_object(c, shared.slowevalerr)
        return
    net.add_reply_map_len(c, 2)
    net.add_reply_bulk(c, b"running_script")
    if rctx is None:
        net.add_reply_null(c)
    else:
        import time

        net.add_reply_map_len(c, 3)
        net.add_reply_bulk(c, b"name")
        net.add_reply_bulk(c, rctx.funcname.encode("utf-8", "surrogateescape"))
        net.add_reply_bulk(c, b"command")
        caller = rctx.original_client
        net.add_reply_array_len(c, len(caller.argv))
        for a in caller.argv:
            net.add_reply_bulk(c, a)
        net.add_reply_bulk(c, b"duration_ms")
        net.add_reply_long_long(c, int((time.monotonic() - rctx.start_time) * 1000))
    net.add_reply_bulk(c, b"engines")
    net.add_reply_map_len(c, len(engines))
    for key, ei in engines.items():
        stats = curr_functions_lib_ctx.engines_stats[key]
        net.add_reply_bulk(c, ei.name)
        net.add_reply_map_len(c, 2)
        net.add_reply_bulk(c, b"libraries_count")
        net.add_reply_long_long(c, stats[0])
        net.add_reply_bulk(c, b"functions_count")
        net.add_reply_long_long(c, stats[1])


def _function_list_reply_flags(c: net.Client, fi: FunctionInfo) -> None:
    """functionListReplyFlags: a set of status replies, in scripts_flags_def order."""
    names = [name for name, bit in sl.SCRIPTS_FLAGS_DEF.items() if fi.f_flags & bit]
    net.add_reply_set_len(c, len(names))
    for name in names:
        net.add_reply_status(c, name.decode())


def function_list_command(c: net.Client) -> None:
    """FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern]."""
    with_code = False
    library_name = None
    argv = c.argv
    i = 2
    while i < len(argv):
        arg = argv[i]
        low = arg.lower()
        if not with_code and low == b"withcode":
            with_code = True
            i += 1
            continue
        if library_name is None and low == b"libraryname":
            if i >= len(argv) - 1:
                net.add_reply_error(c, "library name argument was not given")
                return
            library_name = argv[i + 1]
            i += 2
            continue
        net.add_reply_error(c, "Unknown argument %s"
                            % arg.decode("utf-8", "surrogateescape"))
        return
    libs = list(curr_functions_lib_ctx.libraries.values())
    if library_name is not None:
        libs = [li for li in libs if util.string_match_len(library_name, li.name, True)]
    net.add_reply_array_len(c, len(libs))
    for li in libs:
        net.add_reply_map_len(c, 4 if with_code else 3)
        net.add_reply_bulk(c, b"library_name")
        net.add_reply_bulk(c, li.name)
        net.add_reply_bulk(c, b"engine")
        net.add_reply_bulk(c, li.ei.name)
        net.add_reply_bulk(c, b"functions")
        net.add_reply_array_len(c, len(li.functions))
        for fi in li.functions.values():
            net.add_reply_map_len(c, 3)
            net.add_reply_bulk(c, b"name")
            net.add_reply_bulk(c, fi.name)
            net.add_reply_bulk(c, b"description")
            if fi.desc is None:
                net.add_reply_null(c)
            else:
                net.add_reply_bulk(c, fi.desc)
            net.add_reply_bulk(c, b"flags")
            _function_list_reply_flags(c, fi)
        if with_code:
            net.add_reply_bulk(c, b"library_code")
            net.add_reply_bulk(c, li.code)


def function_delete_command(c: net.Client) -> None:
    """FUNCTION DELETE library-name."""
    li = curr_functions_lib_ctx.libraries.get(c.argv[2])
    if li is None:
        net.add_reply_error(c, "Library not found")
        return
    library_unlink(curr_functions_lib_ctx, li)
    _update_memory_stats()
    server.dirty += 1
    net.add_reply(c, shared.ok)


def function_kill_command(c: net.Client) -> None:
    sl.script_kill(c, False)


# --------------------------------------------------------------------------------------------
# FCALL / FCALL_RO
# --------------------------------------------------------------------------------------------

def _fcall_process_command_checks(c: net.Client, f_flags: int) -> bool:
    """The refusals processCommand makes from the flags fcallGetCommandFlags derives from
    the function's flags (a write function is a write command, denyoom unless allow-oom):
    a write function on a read-only replica, or on OOM.  True = refused (replied)."""
    if f_flags & sl.SCRIPT_FLAG_NO_WRITES or sl.must_obey_client(c):
        return False
    if not f_flags & sl.SCRIPT_FLAG_ALLOW_OOM and server.maxmemory and sl._is_oom():
        server_module.reject_command(c, shared.oomerr)
        return True
    if server.masterhost and server.replica_read_only:
        server_module.reject_command(c, shared.roslaveerr)
        return True
    return False


@probe("fcallCommandGeneric")
def fcall_command_generic(c: net.Client, ro: bool) -> None:
    """fcallCommandGeneric: find the function, check numkeys, run it in a script run
    context.  MONITOR sees the FCALL before the commands it runs."""
    argv = c.argv
    if server.monitors:
        server_module.replication_feed_monitors(c, c.db.id, argv)
    fi = curr_functions_lib_ctx.functions.get(argv[1].lower())
    if fi is None:
        net.add_reply_error(c, "Function not found")
        return
    numkeys = util.string2ll(argv[2])
    if numkeys is None:
        net.add_reply_error(c, "Bad number of keys provided")
        return
    if numkeys > len(argv) - 3:
        net.add_reply_error(c, "Number of keys can't be greater than number of args")
        return
    if numkeys < 0:
        net.add_reply_error(c, "Number of keys can't be negative")
        return
    if _fcall_process_command_checks(c, fi.f_flags):
        return
    ei = fi.li.ei
    rctx = sl.ScriptRunCtx()
    if not sl.script_prepare_for_run(rctx, ei.c, c,
                                     fi.name.decode("utf-8", "surrogateescape"),
                                     fi.f_flags, ro):
        return
    try:
        ei.engine.call(rctx, fi.function, argv[3:3 + numkeys], argv[3 + numkeys:])
    finally:
        sl.script_reset_run(rctx)
    server.used_memory_vm_functions = ei.engine.get_used_memory()


def fcall_command(c: net.Client) -> None:
    """FCALL function numkeys [key ...] [arg ...]."""
    fcall_command_generic(c, False)


def fcallro_command(c: net.Client) -> None:
    """FCALL_RO: only functions flagged no-writes may run."""
    fcall_command_generic(c, True)


# --------------------------------------------------------------------------------------------
# FUNCTION DUMP / RESTORE / FLUSH / HELP
# --------------------------------------------------------------------------------------------

def rdb_save_functions(out: bytearray) -> None:
    """rdbSaveFunctions: RDB_OPCODE_FUNCTION2 + the code, for each library."""
    for li in curr_functions_lib_ctx.libraries.values():
        out.append(rdbmod.RDB_OPCODE_FUNCTION2)
        rdbmod.rdb_save_raw_string(out, li.code)


def function_dump_command(c: net.Client) -> None:
    """FUNCTION DUMP: the libraries as RDB records, the RDB version (2 bytes) and the CRC64
    of all that (8 bytes), both little endian: DUMP's payload format."""
    out = bytearray()
    rdb_save_functions(out)
    out += rdbmod.RDB_VERSION.to_bytes(2, "little")
    out += crc64(0, out).to_bytes(8, "little")
    net.add_reply_bulk(c, bytes(out))


def _verify_dump_payload(p: bytes) -> tuple[bool, int]:
    """verifyDumpPayload (cluster.c): long enough, a readable RDB version, a good CRC."""
    n = len(p)
    if n < 10:
        return False, 0
    rdbver = p[n - 10] | (p[n - 9] << 8)
    if rdbver > rdbmod.RDB_VERSION:
        return False, rdbver
    if getattr(server, "skip_checksum_validation", False):
        return True, rdbver
    return crc64(0, memoryview(p)[:n - 8]).to_bytes(8, "little") == p[n - 8:], rdbver


def _rdb_function_load_payload(r, t: int) -> bytes:
    """rdbFunctionLoad's reading part: the code of a FUNCTION2 record, or the pre-GA
    FUNCTION record (name, engine, optional description, body) turned into a shebang."""
    if t == rdbmod.RDB_OPCODE_FUNCTION:
        name = rdbmod.rdb_generic_load_string(r)
        engine_name = rdbmod.rdb_generic_load_string(r)
        if rdbmod.rdb_load_len_plain(r):
            rdbmod.rdb_generic_load_string(r)
        blob = rdbmod.rdb_generic_load_string(r)
        return b"#!%s name=%s\n%s" % (engine_name, name, blob)
    return rdbmod.rdb_generic_load_string(r)


def function_restore_command(c: net.Client) -> None:
    """FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] (default APPEND)."""
    argv = c.argv
    if len(argv) > 4:
        net.add_reply_subcommand_syntax_error(c)
        return
    policy = RESTORE_POLICY_APPEND
    if len(argv) == 4:
        p = argv[3].lower()
        if p == b"append":
            policy = RESTORE_POLICY_APPEND
        elif p == b"replace":
            policy = RESTORE_POLICY_REPLACE
        elif p == b"flush":
            policy = RESTORE_POLICY_FLUSH
        else:
            net.add_reply_error(c, "Wrong restore policy given, value should be either "
                                   "FLUSH, APPEND or REPLACE.")
            return
    data = argv[2]
    ok, _rdbver = _verify_dump_payload(data)
    if not ok:
        net.add_reply_error(c, "DUMP payload version or checksum are wrong")
        return
    lib_ctx = functions_lib_ctx_create()
    r = rdbmod.RioReader(data)
    err = None
    while len(data) - r.pos > 10:
        try:
            t = rdbmod.rdb_load_type(r)
        except rdbmod.RdbLoadError:
            err = "can not read data type"
            break
        if t != rdbmod.RDB_OPCODE_FUNCTION and t != rdbmod.RDB_OPCODE_FUNCTION2:
            err = "given type is not a function"
            break
        try:
            code = _rdb_function_load_payload(r, t)
        except rdbmod.RdbLoadError:
            err = "Failed loading library payload"
            break
        name, err = functions_create_with_library_ctx(code, False, lib_ctx, 0)
        if name is None:
            err = err or "Failed creating the library"
            break
    if err is None:
        if policy == RESTORE_POLICY_FLUSH:
            functions_lib_ctx_swap_with_current(lib_ctx)
        else:
            err = library_join(curr_functions_lib_ctx, lib_ctx,
                               policy == RESTORE_POLICY_REPLACE)
    if err is not None:
        net.add_reply_error(c, err)
        return
    _update_memory_stats()
    server.dirty += 1
    net.add_reply(c, shared.ok)


def function_flush_command(c: net.Client) -> None:
    """FUNCTION FLUSH [ASYNC|SYNC]."""
    argv = c.argv
    if len(argv) > 3:
        net.add_reply_subcommand_syntax_error(c)
        return
    if len(argv) == 3 and argv[2].lower() == b"sync":
        is_async = False
    elif len(argv) == 3 and argv[2].lower() == b"async":
        is_async = True
    elif len(argv) == 2:
        is_async = bool(server.lazyfree_lazy_user_flush)
    else:
        net.add_reply_error(c, "FUNCTION FLUSH only supports SYNC|ASYNC option")
        return
    functions_lib_ctx_clear_current(is_async)
    server.dirty += 1
    net.add_reply(c, shared.ok)


_FUNCTION_HELP = [
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME "
    "argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored "
    "using FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a "
    "restore policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, "
    "abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
    "replace the old",
    "      libraries with the new libraries (notice that even on this option there is a "
    "chance of failure",
    "      in case of functions name collision with another library).",
]


def function_help_command(c: net.Client) -> None:
    net.add_reply_help(c, _FUNCTION_HELP)


# --------------------------------------------------------------------------------------------
# FUNCTION LOAD
# --------------------------------------------------------------------------------------------

def function_extract_lib_meta_data(payload: bytes) -> tuple[tuple | None, str | None]:
    """functionExtractLibMetaData: ((engine, name, code), None) or (None, error).  The code
    keeps the shebang's newline, so line numbers are the user's."""
    from tracered.resp import split_args

    if not payload.startswith(b"#!"):
        return None, "Missing library metadata"
    nl = payload.find(b"\n")
    z = payload.find(b"\0")
    if nl < 0 or 0 <= z < nl:
        return None, "Invalid library metadata"
    parts = split_args(payload[:nl])
    if not parts:
        return None, "Invalid library metadata"
    engine = parts[0][2:]
    name = None
    for part in parts[1:]:
        if part[:5].lower() == b"name=":
            if name is not None:
                return None, "Invalid metadata value, name argument was given multiple times"
            name = part[5:]
            continue
        return None, "Invalid metadata value given: %s" % part.decode("utf-8",
                                                                      "surrogateescape")
    if name is None:
        return None, "Library name was not given"
    return (engine, name, payload[nl:]), None


@probe("functionsCreateWithLibraryCtx")
def functions_create_with_library_ctx(code: bytes, replace: bool, lib_ctx: FunctionsLibCtx,
                                      timeout: int) -> tuple[bytes | None, str | None]:
    """functionsCreateWithLibraryCtx: run a library's code with its engine and link it into
    ``lib_ctx`` (replacing a library of the same name when ``replace``).  Returns (library
    name, None) or (None, error); on error ``lib_ctx`` is unchanged."""
    md, err = function_extract_lib_meta_data(code)
    if md is None:
        return None, err
    engine_name, name, body = md
    if not _functions_verify_name(name):
        return None, _NAME_ERR
    ei = engines.get(engine_name.lower())
    if ei is None:
        return None, "Engine '%s' not found" % engine_name.decode("utf-8", "surrogateescape")
    old_li = lib_ctx.libraries.get(name)
    if old_li is not None and not replace:
        return None, "Library '%s' already exists" % name.decode("utf-8", "surrogateescape")
    if old_li is not None:
        library_unlink(lib_ctx, old_li)
    new_li = FunctionLibInfo(name, ei, code)
    err = ei.engine.create(new_li, body, timeout)
    if err is None and not new_li.functions:
        err = "No functions registered"
    if err is None:
        for fi in new_li.functions.values():
            if fi.name.lower() in lib_ctx.functions:
                err = "Function %s already exists" % fi.name.decode("utf-8", "surrogateescape")
                break
    if err is not None:
        if old_li is not None:
            library_link(lib_ctx, old_li)
        return None, err
    library_link(lib_ctx, new_li)
    return name, None


def function_load_command(c: net.Client) -> None:
    """FUNCTION LOAD [REPLACE] function-code: the library's name, or the error."""
    argv = c.argv
    replace = False
    pos = 2
    while pos < len(argv) - 1:
        arg = argv[pos]
        pos += 1
        if arg.lower() == b"replace":
            replace = True
            continue
        net.add_reply_error(c, "Unknown option given: %s" % arg.decode("utf-8",
                                                                      "surrogateescape"))
        return
    if pos >= len(argv):
        net.add_reply_error(c, "Function code is missing")
        return
    if not engines:
        net.add_reply_error(c, "Lua scripting is not available: the 'lupa' package is not "
                               "installed")
        return
    timeout = 0 if sl.must_obey_client(c) else LOAD_TIMEOUT_MS
    name, err = functions_create_with_library_ctx(argv[pos], replace, curr_functions_lib_ctx,
                                                  timeout)
    if name is None:
        net.add_reply_error(c, err)
        return
    _update_memory_stats()
    server.dirty += 1
    net.add_reply_bulk(c, name)


# --------------------------------------------------------------------------------------------
# Memory, init, RDB hooks
# --------------------------------------------------------------------------------------------

def functions_memory() -> int:
    """functionsMemory: what the engines' Lua states use."""
    return sum(ei.engine.get_used_memory() for ei in engines.values())


def functions_memory_overhead() -> int:
    """functionsMemoryOverhead: dicts, structs and strings (estimated)."""
    ctx = curr_functions_lib_ctx
    n = len(ctx.functions)
    slots = 1 << max(2, (n - 1).bit_length()) if n else 0
    return (len(engines) * 24 + 4 * 8 + n * 24 + slots * 8 + 32 + ctx.cache_memory +
            engine_cache_memory)


def _update_memory_stats() -> None:
    """What INFO memory reads (info.py uses getattr on the server)."""
    srv = server
    srv.number_of_functions = len(curr_functions_lib_ctx.functions)
    srv.number_of_libraries = len(curr_functions_lib_ctx.libraries)
    srv.used_memory_vm_functions = functions_memory()
    srv.used_memory_functions = functions_memory_overhead()


_load_allow_dup = [False]


def _rdb_function_load_begin(rdbflags: int) -> None:
    """Before an RDB stream is read: drop the libraries (emptyData), unless the load may
    replace existing data, in which case loaded libraries replace same-named ones."""
    allow_dup = bool(rdbflags & rdbmod.RDBFLAGS_ALLOW_DUP)
    _load_allow_dup[0] = allow_dup
    if not allow_dup:
        functions_lib_ctx_clear_current(False)


def _rdb_function_load(code: bytes) -> str | None:
    """rdbFunctionLoad's second half: create the library (no time limit)."""
    name, err = functions_create_with_library_ctx(code, _load_allow_dup[0],
                                                  curr_functions_lib_ctx, 0)
    _update_memory_stats()
    return None if name is not None else (err or "Failed creating the library")


@probe("functionsInit")
def functions_init() -> None:
    """functionsInit: register the Lua engine, create the library context."""
    global curr_functions_lib_ctx
    from tracered import function_lua

    engines.clear()
    engine = function_lua.lua_engine_init_engine()
    if engine is not None:
        functions_register_engine(function_lua.LUA_ENGINE_NAME, engine)
    curr_functions_lib_ctx = functions_lib_ctx_create()
    _update_memory_stats()


def init(srv) -> None:
    """Called by initServer: the engines, and the RDB save/load hooks."""
    functions_init()
    rdbmod.function_load_hook = _rdb_function_load
    rdbmod.function_load_begin_hook = _rdb_function_load_begin
    rdbmod.function_save_hook = rdb_save_functions
    # An AOF rewrite without the RDB preamble starts with FUNCTION LOAD per library.
    from tracered import aof

    aof.functions_lib_get = _library_codes


def _library_codes() -> list[bytes]:
    return [li.code for li in curr_functions_lib_ctx.libraries.values()]


# --------------------------------------------------------------------------------------------
# Command table rows
# --------------------------------------------------------------------------------------------

_ALL_SHARDS_ALL = "request_policy:all_shards response_policy:all_succeeded"
_FCALL_COMPLEXITY = "Depends on the function that is executed."


def _fcall_keyspec(flags: str, notes: str) -> list[KeySpec]:
    return [KeySpec(flags, 2, kind="keynum", keynumidx=0, firstkey=1, keystep=1,
                    notes="We cannot tell how the keys will be used so we assume the worst, "
                          + notes)]

COMMANDS = [
    cmd("fcall", fcall_command, -3,
        "noscript skip_monitor may_replicate no_mandatory_keys stale movablekeys",
        acl="scripting", group="scripting", since="7.0.0", complexity=_FCALL_COMPLEXITY,
        summary="Invoke a function", args="function numkeys [key [key ...]] [arg [arg ...]]",
        key_specs=_fcall_keyspec("RW access update", "RW and UPDATE"), getkeys=sl._eval_getkeys),
    cmd("fcall_ro", fcallro_command, -3,
        "noscript skip_monitor no_mandatory_keys stale readonly movablekeys",
        acl="scripting", group="scripting", since="7.0.0", complexity=_FCALL_COMPLEXITY,
        summary="Invoke a read-only function",
        args="function numkeys [key [key ...]] [arg [arg ...]]",
        key_specs=_fcall_keyspec("RO access", "RO and ACCESS"), getkeys=sl._eval_getkeys),
    cmd("function", None, -2, "", group="scripting", since="7.0.0",
        complexity="Depends on subcommand.", summary="A container for function commands",
        subcommands=[
            sub("delete", function_delete_command, 3, "noscript write", acl="scripting",
                since="7.0.0", complexity="O(1)", summary="Delete a function by name",
                args="library-name", tips=_ALL_SHARDS_ALL),
            sub("dump", function_dump_command, 2, "noscript", acl="scripting",
                since="7.0.0", complexity="O(N) where N is the number of functions",
                summary="Dump all functions into a serialized binary payload"),
            sub("flush", function_flush_command, -2, "noscript write", acl="scripting",
                since="7.0.0",
                complexity="O(N) where N is the number of functions deleted",
                summary="Deleting all functions", args="[ASYNC|SYNC]", tips=_ALL_SHARDS_ALL),
            sub("help", function_help_command, 2, "loading stale", acl="scripting",
                since="7.0.0", complexity="O(1)",
                summary="Show helpful text about the different subcommands"),
            sub("kill", function_kill_command, 2, "noscript allow_busy", acl="scripting",
                since="7.0.0", complexity="O(1)",
                summary="Kill the function currently in execution.",
                tips="request_policy:all_shards response_policy:one_succeeded"),
            sub("list", function_list_command, -2, "noscript", acl="scripting",
                since="7.0.0", complexity="O(N) where N is the number of functions",
                summary="List information about all the functions",
                args="[LIBRARYNAME library-name-pattern] [WITHCODE]",
                tips="nondeterministic_output_order"),
            sub("load", function_load_command, -3, "noscript write denyoom",
                acl="scripting", since="7.0.0",
                complexity="O(1) (considering compilation time is redundant)",
                summary="Create a function with the given arguments (name, code, "
                        "description)",
                args="[REPLACE] function-code", tips=_ALL_SHARDS_ALL),
            sub("restore", function_restore_command, -3, "noscript write denyoom",
                acl="scripting", since="7.0.0",
                complexity="O(N) where N is the number of functions on the payload",
                summary="Restore all the functions on the given payload",
                args="serialized-value [FLUSH|APPEND|REPLACE]", tips=_ALL_SHARDS_ALL),
            sub("stats", function_stats_command, 2, "noscript allow_busy", acl="scripting",
                since="7.0.0", complexity="O(1)",
                summary="Return information about the function currently running (name, "
                        "description, duration)",
                tips="nondeterministic_output request_policy:all_shards "
                     "response_policy:special"),
        ]),
]
