"""The ``tracered`` command line, shaped like redis-server's.

    tracered [/path/to/redis.conf] [--port 6380] [--<any-config> value ...]
    tracered --break call [--break 'call if cmd == "SET"'] [--tui]   pause on probes (TUI)
    tracered --tui                                                  TUI, no breakpoint
    tracered --break call --no-tui --debug-port 7000                headless, driven remotely
    tracered --debug-port 7000                                      headless + control channel
    tracered tui --attach HOST:PORT [--token-file F]                attach the TUI
    tracered --attach HOST:PORT [--token-file F]                    the same
    tracered traces [FILE] [--jaeger OUT]                           print/convert trace files

Options that are not Redis configs (``--break``, ``--tui``, ``--no-tui``, ``--debug-port``,
``--attach``, ``--token-file``) are taken out here; everything else is handed to config
parsing exactly as redis-server does.  With no breakpoint, no TUI and no control port the
server runs headless exactly as before (the debugger is not even created).

``--break`` implies the TUI; ``--no-tui`` keeps the server headless with its breakpoints armed
and the control channel open (a UI attaches later, or a test drives it).
"""

from __future__ import annotations

import sys


class UsageError(Exception):
    pass


_VALUE_OPTS = {"--break": "break", "--debug-port": "debug_port", "--attach": "attach",
               "--token-file": "token_file"}
_FLAG_OPTS = {"--tui": "tui", "--no-tui": "no_tui"}


def split_tracered_options(argv: list[str]) -> tuple[list[str], dict]:
    """Take tracered-only flags out of argv; return (redis-style argv, options)."""
    opts: dict = {"break": [], "tui": False, "no_tui": False, "debug_port": None,
                  "attach": None, "token_file": None}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        name, eq, val = a.partition("=")
        if name in _VALUE_OPTS:
            if not eq:
                if i + 1 >= len(argv):
                    raise UsageError(f"{a} needs a value")
                val = argv[i + 1]
                i += 1
            key = _VALUE_OPTS[name]
            if key == "break":
                opts["break"].append(val)
            elif key == "debug_port":
                try:
                    opts["debug_port"] = int(val)
                except ValueError:
                    raise UsageError(f"--debug-port needs a port number, not {val!r}") from None
            else:
                opts[key] = val
            i += 1
            continue
        if a in _FLAG_OPTS:
            opts[_FLAG_OPTS[a]] = True
            i += 1
            continue
        rest.append(a)
        i += 1
    return rest, opts


def add_breakpoints(dbg, specs: list[str]) -> str | None:
    """Add each ``--break`` spec; the first error message, or None."""
    from tracered.trace.debugger import ConditionError

    for spec in specs:
        try:
            dbg.add_breakpoint(spec)
        except ConditionError as e:
            return f"bad --break {spec!r}: {e}"
    return None


def import_probe_modules() -> None:
    """Import every command family so each @probe is in the catalogue before --break
    names are checked."""
    from tracered import server as server_mod

    server_mod.all_command_tables()


def run_headless(rest: list[str], opts: dict) -> int:
    """The server on this (main) thread; a debugger and control channel when asked for."""
    from tracered import server as server_mod
    from tracered.trace import control  # noqa: F401 - registers debug-control-port

    srv = server_mod.server
    wants_debugger = bool(opts["break"]) or opts["debug_port"] is not None
    dbg = None
    if wants_debugger:
        from tracered.trace import debugger

        import_probe_modules()
        dbg = debugger.get_debugger()
        err = add_breakpoints(dbg, opts["break"])
        if err:
            sys.stderr.write(f"tracered: {err}\n")
            return 1

    def start_debugging(s) -> None:
        nonlocal dbg
        port = opts["debug_port"]
        if port is None and s.debug_control_port:
            port = s.debug_control_port
        if port is None and dbg is None:
            return
        if dbg is None:
            from tracered.trace import debugger

            dbg = debugger.get_debugger()
        dbg.attach()
        control.start_control_channel(dbg, port or 0)

    srv.startup_hooks.append(start_debugging)
    return server_mod.main(rest)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-v", "--version"):
        from tracered import REDIS_VERSION, __version__

        print(f"tracered v={__version__} redis_version={REDIS_VERSION} bits=64")
        return 0
    if argv and argv[0] == "traces":
        from tracered.trace import traces_cli

        return traces_cli.main(argv[1:])
    tui_subcommand = bool(argv) and argv[0] == "tui"
    if tui_subcommand:
        argv = argv[1:]
    try:
        rest, opts = split_tracered_options(argv)
    except UsageError as e:
        sys.stderr.write(f"tracered: {e}\n")
        return 1
    if opts["attach"] or tui_subcommand:
        if not opts["attach"]:
            sys.stderr.write("usage: tracered tui --attach HOST:PORT [--token-file FILE]\n")
            return 1
        from tui import runner

        return runner.attach_main(opts["attach"], opts["token_file"])
    if (opts["break"] or opts["tui"]) and not opts["no_tui"]:
        from tui import runner

        return runner.run_with_server(rest, opts)
    return run_headless(rest, opts)


if __name__ == "__main__":
    sys.exit(main())
