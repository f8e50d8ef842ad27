"""In-process micro-benchmark of the command path (no sockets): feed a pipeline of N
commands to one fake client and time processInputBuffer + reply building.

    python benchmarks/inproc.py [--trace off|armed|r1] [N] [command ...]
    e.g. inproc.py 100000 SET k v        inproc.py --trace r1 100000 SET k v

Prints CPU µs per command (process_time, less sensitive to a busy machine).  Useful to see
what the Python run per command costs, which is what decides redis-benchmark -P 16 (see
RESULTS.md).  ``--trace armed`` arms the span recorder with ratio 0 (the wrappers alone),
``--trace r1`` records every command and marshals each batch of units the way the
exporter hand-off does (without an exporter reading them).
"""

from __future__ import annotations

import marshal
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main() -> None:
    from tracered import commands as commands_mod
    from tracered import networking as net
    from tracered import server as server_module
    from tracered.trace import recorder as recorder_mod

    args = sys.argv[1:]
    mode = "off"
    if args[:1] == ["--trace"]:
        mode, args = args[1], args[2:]
    n = int(args[0]) if args else 100000
    argv = [a.encode() for a in (args[1:] or ["PING"])]
    srv = server_module.server
    server_module.init_server()
    rec = None
    if mode != "off":
        rec = recorder_mod.Recorder(srv, ratio=1.0 if mode == "r1" else 0.0)
        rec.wrap_procs(commands_mod.commands)
        recorder_mod.arm(rec)
    c = net.create_client(None)
    one = b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)
    batch = one * 16
    t0 = time.process_time()
    for _ in range(n // 16):
        c.querybuf += batch
        net.process_input_buffer(c)
        c.reply.clear()
        c.reply_bytes = 0
        if rec is not None and rec.done:
            marshal.dumps((0, rec.take()))
    dt = time.process_time() - t0
    print(f"{argv[0].decode()} (trace {mode}): {dt / n * 1e6:.2f} us/command "
          f"({n} commands, 16 per buffer)")


if __name__ == "__main__":
    main()
