"""Shared replies and error strings: the mirror of createSharedObjects() in server.c.

Redis builds these once at startup so hot paths append a ready-made protocol string instead
of formatting one.  Every error text a client can see lives here (or is formatted from a
template here), so the wording is checked against Redis in one place.
"""

from __future__ import annotations

CRLF = b"\r\n"

ok = b"+OK\r\n"
pong = b"+PONG\r\n"
queued = b"+QUEUED\r\n"
emptybulk = b"$0\r\n\r\n"
czero = b":0\r\n"
cone = b":1\r\n"
cnegone = b":-1\r\n"
emptyarray = b"*0\r\n"
# RESP2 / RESP3 pairs, indexed by client.resp (2 or 3).
null = {2: b"$-1\r\n", 3: b"_\r\n"}
nullarray = {2: b"*-1\r\n", 3: b"_\r\n"}
emptymap = {2: b"*0\r\n", 3: b"%0\r\n"}
emptyset = {2: b"*0\r\n", 3: b"~0\r\n"}

# Error replies, complete lines (the client sees them verbatim).
wrongtypeerr = b"-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"
err = b"-ERR\r\n"
nokeyerr = b"-ERR no such key\r\n"
syntaxerr = b"-ERR syntax error\r\n"
sameobjecterr = b"-ERR source and destination objects are the same\r\n"
outofrangeerr = b"-ERR index out of range\r\n"
noscripterr = b"-NOSCRIPT No matching script. Please use EVAL.\r\n"
loadingerr = b"-LOADING Redis is loading the dataset in memory\r\n"
masterdownerr = (b"-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set "
                 b"to 'no'.\r\n")
bgsaveerr = (b"-MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
             b"persist to disk. Commands that may modify the data set are disabled, because this "
             b"instance is configured to report errors during writes if RDB snapshotting fails "
             b"(stop-writes-on-bgsave-error option). Please check the Redis logs for details "
             b"about the RDB error.\r\n")
roslaveerr = b"-READONLY You can't write against a read only replica.\r\n"
noautherr = b"-NOAUTH Authentication required.\r\n"
oomerr = b"-OOM command not allowed when used memory > 'maxmemory'.\r\n"
execaborterr = b"-EXECABORT Transaction discarded because of previous errors.\r\n"
noreplicaserr = b"-NOREPLICAS Not enough good replicas to write.\r\n"
busykeyerr = b"-BUSYKEY Target key name already exists.\r\n"

# Error texts used through add_reply_error (no leading '-' / trailing CRLF).
NOT_INTEGER = "value is not an integer or out of range"
NOT_FLOAT = "value is not a valid float"
INCR_OVERFLOW = "increment or decrement would overflow"
INVALID_EXPIRE = "invalid expire time in '%s' command"
WRONG_ARGS = "wrong number of arguments for '%s' command"
TIMEOUT_NEGATIVE = "timeout is negative"
STRING_TOO_LONG = "string exceeds maximum allowed size (proto-max-bulk-len)"
INVALID_PASSWORD = ("WRONGPASS invalid username-password pair or user is disabled.")
DB_INDEX_OUT_OF_RANGE = "DB index is out of range"

# Shared bulk headers for short lengths ("$<len>\r\n") and aggregate headers ("*<n>\r\n"),
# like shared.bulkhdr / shared.mbulkhdr: formatting a length is the hot part of a reply.
OBJ_SHARED_BULKHDR_LEN = 1024
bulkhdr = [b"$%d\r\n" % i for i in range(OBJ_SHARED_BULKHDR_LEN)]
mbulkhdr = [b"*%d\r\n" % i for i in range(OBJ_SHARED_BULKHDR_LEN)]
maphdr = [b"%%%d\r\n" % i for i in range(OBJ_SHARED_BULKHDR_LEN)]
sethdr = [b"~%d\r\n" % i for i in range(OBJ_SHARED_BULKHDR_LEN)]
# Integer replies for the small integers, like shared.integers rendered once.
integers = [b":%d\r\n" % i for i in range(10000)]
# SCAN-family reply for a missing key: cursor 0, no elements (shared.emptyscan).
emptyscan = b"*2\r\n$1\r\n0\r\n*0\r\n"
# t_string.c
OFFSET_OUT_OF_RANGE = "offset is out of range"
DECR_OVERFLOW = "decrement would overflow"
INCR_NAN_OR_INF = "increment would produce NaN or Infinity"
LCS_WRONG_TYPE = "The specified keys must contain string values"
LCS_LEN_AND_IDX = "If you want both the length and indexes, please just use IDX."
LCS_TOO_LONG = "String too long for LCS"
LCS_TOO_MUCH_MEMORY = ("Insufficient memory, transient memory for LCS exceeds "
                       "proto-max-bulk-len")
# bitops.c
BIT_OFFSET_INVALID = "bit offset is not an integer or out of range"
BIT_VALUE_INVALID = "bit is not an integer or out of range"
BITFIELD_TYPE_INVALID = ("Invalid bitfield type. Use something like i16 u8. Note that u64 is "
                         "not supported but i64 is.")
BITFIELD_OVERFLOW_INVALID = "Invalid OVERFLOW type specified"
BITFIELD_RO_GET_ONLY = "BITFIELD_RO only supports the GET subcommand"
BITOP_NOT_SINGLE_KEY = "BITOP NOT must be called with a single source key."
BITPOS_BIT_INVALID = "The bit argument must be 1 or 0."
# hyperloglog.c (a leading "-" keeps the code: these are not ERR errors)
HLL_INVALID_OBJ = "-INVALIDOBJ Corrupted HLL object detected"
HLL_WRONGTYPE = "-WRONGTYPE Key is not a valid HyperLogLog string value."
PFDEBUG_NO_KEY = "The specified key does not exist"
PFDEBUG_NOT_SPARSE = "HLL encoding is not sparse"
# t_list.c / blocked.c / timeout.c
TIMEOUT_NOT_FLOAT = "timeout is not a float or out of range"
MUST_BE_POSITIVE = "value is out of range, must be positive"
NUMKEYS_NOT_POSITIVE = "numkeys should be greater than 0"
COUNT_NOT_POSITIVE = "count should be greater than 0"
LPOS_RANK_ZERO = ("RANK can't be zero: use 1 to start from the first match, 2 from the "
                  "second ... or use negative to start from the end of the list")
LPOS_COUNT_NEGATIVE = "COUNT can't be negative"
LPOS_MAXLEN_NEGATIVE = "MAXLEN can't be negative"
UNBLOCKED_INSTANCE_CHANGED = ("-UNBLOCKED force unblock from blocking operation, instance "
                              "state changed (master -> replica?)")
# script.c / server.c: a script past busy-reply-threshold (processCommand, SHUTDOWN)
slowevalerr = (b"-BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
               b"SHUTDOWN NOSAVE.\r\n")
slowscripterr = (b"-BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                 b"SHUTDOWN NOSAVE.\r\n")
# t_zset.c
ZSET_NAN_SCORE = "resulting score is not a number (NaN)"
ZSET_MINMAX_NOT_FLOAT = "min or max is not a float"
ZSET_MINMAX_NOT_STRING = "min or max not valid string range item"
ZADD_XX_AND_NX = "XX and NX options at the same time are not compatible"
ZADD_GT_LT_NX = "GT, LT, and/or NX options at the same time are not compatible"
ZADD_INCR_SINGLE_PAIR = "INCR option supports a single increment-element pair"
ZSET_WEIGHT_NOT_FLOAT = "weight value is not a float"
ZSET_AT_LEAST_ONE_KEY = "at least 1 input key is needed for '%s' command"
ZSET_LIMIT_NEGATIVE = "LIMIT can't be negative"
ZRANGE_LIMIT_NEEDS_BY = ("syntax error, LIMIT is only supported in combination with either "
                         "BYSCORE or BYLEX")
ZRANGE_WITHSCORES_BYLEX = "syntax error, WITHSCORES not supported in combination with BYLEX"
VALUE_OUT_OF_RANGE = "value is out of range"
# t_stream.c (a leading "-" keeps the code of NOGROUP / BUSYGROUP / UNBLOCKED errors)
STREAM_INVALID_ID = "Invalid stream ID specified as stream command argument"
STREAM_INVALID_START_ID = "invalid start ID for the interval"
STREAM_INVALID_END_ID = "invalid end ID for the interval"
XADD_ID_ZERO = "The ID specified in XADD must be greater than 0-0"
XADD_ID_NOT_GREATER = ("The ID specified in XADD is equal or smaller than the target stream "
                       "top item")
XADD_ID_EXHAUSTED = ("The stream has exhausted the last possible ID, unable to add more "
                     "items")
STREAM_ELEMENTS_TOO_LARGE = "Elements are too large to be stored"
STREAM_MAXLEN_AND_MINID = ("syntax error, MAXLEN and MINID options at the same time are not "
                           "compatible")
STREAM_MAXLEN_NEGATIVE = "The MAXLEN argument must be >= 0."
STREAM_LIMIT_NEGATIVE = "The LIMIT argument must be >= 0."
STREAM_LIMIT_WITHOUT_STRATEGY = ("syntax error, LIMIT cannot be used without specifying a "
                                 "trimming strategy")
STREAM_LIMIT_WITHOUT_APPROX = "syntax error, LIMIT cannot be used without the special ~ option"
XTRIM_NO_STRATEGY = "syntax error, XTRIM must be called with a trimming strategy"
XREAD_BLOCK_IN_SCRIPT = "%s command is not allowed with BLOCK option from scripts"
TIMEOUT_NOT_INTEGER = "timeout is not an integer or out of range"
XREAD_UNBALANCED = ("Unbalanced XREAD list of streams: for each stream key an ID or '$' must "
                    "be specified.")
XREAD_GROUP_OPTION = ("The GROUP option is only supported by XREADGROUP. You called XREAD "
                      "instead.")
XREAD_NOACK_OPTION = ("The NOACK option is only supported by XREADGROUP. You called XREAD "
                      "instead.")
XREADGROUP_MISSING_GROUP = "Missing GROUP option for XREADGROUP"
XREADGROUP_NOGROUP = ("-NOGROUP No such key '%s' or consumer group '%s' in XREADGROUP with "
                      "GROUP option")
XREADGROUP_DOLLAR_ID = ("The $ ID is meaningless in the context of XREADGROUP: you want to "
                        "read the history of this consumer by specifying a proper ID, or use "
                        "the > ID to get new messages. The $ ID would just return an empty "
                        "result set.")
XREAD_GREATER_ID = ("The > ID can be specified only when calling XREADGROUP using the GROUP "
                    "<group> <consumer> option.")
XREADGROUP_GROUP_DESTROYED = ("-NOGROUP the consumer group this client was blocked on no "
                              "longer exists")
XREADGROUP_KEY_DELETED = "-UNBLOCKED the stream key no longer exists"
XGROUP_ENTRIESREAD_INVALID = "value for ENTRIESREAD must be positive or -1"
XGROUP_KEY_MISSING = ("The XGROUP subcommand requires the key to exist. Note that for CREATE "
                      "you may want to use the MKSTREAM option to create an empty stream "
                      "automatically.")
XGROUP_NOGROUP = "-NOGROUP No such consumer group '%s' for key name '%s'"
XGROUP_BUSYGROUP = "-BUSYGROUP Consumer Group name already exists"
STREAM_NOGROUP = "-NOGROUP No such key '%s' or consumer group '%s'"
XSETID_ENTRIES_ADDED_NEGATIVE = "entries_added must be positive"
XSETID_BELOW_MAX_DELETED = ("The ID specified in XSETID is smaller than the provided "
                            "max_deleted_entry_id")
XSETID_BELOW_TOP_ITEM = "The ID specified in XSETID is smaller than the target stream top item"
XSETID_ENTRIES_ADDED_SMALL = ("The entries_added specified in XSETID is smaller than the "
                              "target stream length")
XCLAIM_MIN_IDLE_INVALID = "Invalid min-idle-time argument for XCLAIM"
XCLAIM_IDLE_INVALID = "Invalid IDLE option argument for XCLAIM"
XCLAIM_TIME_INVALID = "Invalid TIME option argument for XCLAIM"
XCLAIM_RETRYCOUNT_INVALID = "Invalid RETRYCOUNT option argument for XCLAIM"
XCLAIM_UNRECOGNIZED_OPTION = "Unrecognized XCLAIM option '%s'"
XAUTOCLAIM_MIN_IDLE_INVALID = "Invalid min-idle-time argument for XAUTOCLAIM"
XAUTOCLAIM_COUNT_INVALID = "COUNT must be > 0"
