"""The ``tracered`` command line, shaped like redis-server's.

    tracered [/path/to/redis.conf] [--port 6380] [--<any-config> value ...]
    tracered --break call [--break 'call if cmd == "SET"'] [--tui]   pause on probes (TUI)
    tracered traces [FILE] [--jaeger OUT]                           print/convert trace files
    tracered tui --attach HOST:PORT                                  attach the TUI

Options that are not Redis configs (``--break``, ``--tui``) are taken out here; everything
else is handed to config parsing exactly as redis-server does.
"""

from __future__ import annotations

import sys


def split_tracered_options(argv: list[str]) -> tuple[list[str], dict]:
    """Take tracered-only flags out of argv; return (redis-style argv, options)."""
    opts: dict = {"break": [], "tui": False}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--break" and i + 1 < len(argv):
            opts["break"].append(argv[i + 1])
            i += 2
            continue
        if a.startswith("--break="):
            opts["break"].append(a.split("=", 1)[1])
            i += 1
            continue
        if a == "--tui":
            opts["tui"] = True
            i += 1
            continue
        rest.append(a)
        i += 1
    return rest, opts


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-v", "--version"):
        from tracered import REDIS_VERSION, __version__

        print(f"tracered v={__version__} redis_version={REDIS_VERSION} bits=64")
        return 0
    if argv and argv[0] == "traces":
        from tracered.trace import traces_cli

        return traces_cli.main(argv[1:])
    if argv and argv[0] == "tui":
        from tui import app

        return app.attach_main(argv[1:])
    rest, opts = split_tracered_options(argv)
    if opts["break"] or opts["tui"]:
        from tui import app

        return app.run_with_server(rest, opts)
    from tracered import server

    return server.main(rest)


if __name__ == "__main__":
    sys.exit(main())
