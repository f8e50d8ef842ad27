"""tracered: a Redis 7.0-compatible server in Python that mirrors Redis's own source.

Layout (each module is named after the Redis file it mirrors):

    ae.py            ae.c          the event loop (epoll), file and time events
    resp.py          networking.c  the request parser, sans-IO (processMultibulkBuffer/Inline)
    networking.py    networking.c  clients, reading queries, the reply buffers and writers
    server.py        server.c      Server state, processCommand, lookupCommand, call, crons
    commands.py      commands.c    the command table (assembled from each family's table)
    config.py        config.c      the config table, CONFIG GET/SET/REWRITE, redis.conf parsing
    object.py        object.c      RObj, encodings, OBJECT
    dict.py          dict.c        the chained hash table with incremental rehashing
    db.py expire.py  db.c expire.c the keyspace, lazy and active expiry
    t_string.py ...  t_*.c         the data type commands
    trace/           probes (the breakpoint catalogue), spans, debugger
"""

__version__ = "0.1.0"
# What INFO reports as redis_version: clients pick features by it, so it names the Redis
# release whose behaviour tracered follows.
REDIS_VERSION = "7.0.15"
