"""In-process micro-benchmark of the command path (no sockets): feed a pipeline of N
commands to one fake client and time processInputBuffer + reply building.

    python benchmarks/inproc.py [N] [command ...]     e.g. inproc.py 100000 SET k v

Prints CPU µs per command (process_time, less sensitive to a busy machine).  Useful to see
what the Python run per command costs, which is what decides redis-benchmark -P 16 (see
RESULTS.md).
"""

from __future__ import annotations

import sys
import time


def main() -> None:
    from tracered import networking as net
    from tracered import server as server_module

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    argv = [a.encode() for a in (sys.argv[2:] or ["PING"])]
    srv = server_module.server
    server_module.init_server()
    c = net.create_client(None)
    c.flags |= 0
    one = b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)
    batch = one * 16
    t0 = time.process_time()
    for _ in range(n // 16):
        c.querybuf += batch
        net.process_input_buffer(c)
        c.reply.clear()
        c.reply_bytes = 0
    dt = time.process_time() - t0
    print(f"{argv[0].decode()}: {dt / n * 1e6:.2f} us/command ({n} commands, 16 per buffer)")
    del srv


if __name__ == "__main__":
    main()
