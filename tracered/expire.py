"""Expiry: the mirror of expire.c.

Keys with a TTL are in ``db.expires`` (key -> absolute unix ms).  They die two ways:

* lazily, when a command touches them (db.expire_if_needed), and
* actively, in activeExpireCycle: serverCron samples keys from the expires dict of each db,
  deletes the expired ones, and repeats on a db while more than ~10% of the sample was
  expired, within a CPU budget (25% of a cron tick at active-expire-effort 1).  A "fast"
  cycle from beforeSleep exists in Redis for when the slow one ran out of time.

The commands that set TTLs (EXPIRE and friends) are declared here too, as in expire.c.
"""

from __future__ import annotations

import time

from tracered import db as dbmod

ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP = 20     # keys sampled per db per loop
ACTIVE_EXPIRE_CYCLE_FAST_DURATION = 1000   # microseconds
ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC = 25    # max CPU percent of a cron tick
ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE = 10  # percent of expired keys tolerated in a sample

ACTIVE_EXPIRE_CYCLE_SLOW = 0
ACTIVE_EXPIRE_CYCLE_FAST = 1

DICT_HT_INITIAL_SIZE = 4


class _CycleState:
    """The C function's static variables."""

    current_db = 0
    timelimit_exit = False
    last_fast_cycle = 0


def _server():
    from tracered.server import server

    return server


def active_expire_cycle_try_expire(db, de, now: int) -> bool:
    """activeExpireCycleTryExpire: delete the entry's key if its time has passed."""
    if now > de.val:
        dbmod.delete_expired_key_and_propagate(db, de.key)
        return True
    return False


def active_expire_cycle(cycle_type: int) -> None:
    """activeExpireCycle: sample expiring keys db by db within a time budget."""
    srv = _server()
    effort = srv.active_expire_effort - 1
    keys_per_loop = ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP + ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP // 4 \
        * effort
    fast_duration = ACTIVE_EXPIRE_CYCLE_FAST_DURATION + ACTIVE_EXPIRE_CYCLE_FAST_DURATION // 4 \
        * effort
    slow_time_perc = ACTIVE_EXPIRE_CYCLE_SLOW_TIME_PERC + 2 * effort
    acceptable_stale = ACTIVE_EXPIRE_CYCLE_ACCEPTABLE_STALE - effort

    st = _CycleState
    start = time.perf_counter_ns() // 1000
    if srv.client_pause_type != 0:
        return  # a paused dataset must not change
    if cycle_type == ACTIVE_EXPIRE_CYCLE_FAST:
        if not st.timelimit_exit and srv.stat_expired_stale_perc < acceptable_stale:
            return
        if start < st.last_fast_cycle + fast_duration * 2:
            return
        st.last_fast_cycle = start

    dbs_per_call = min(dbmod.CRON_DBS_PER_CALL, srv.databases)
    if st.timelimit_exit:
        dbs_per_call = srv.databases
    timelimit = slow_time_perc * 1_000_000 // max(1, srv.hz_current) // 100
    st.timelimit_exit = False
    if timelimit <= 0:
        timelimit = 1
    if cycle_type == ACTIVE_EXPIRE_CYCLE_FAST:
        timelimit = fast_duration

    total_sampled = total_expired = 0
    iteration = 0
    for _ in range(dbs_per_call):
        if st.timelimit_exit:
            break
        db = srv.db[st.current_db % srv.databases]
        st.current_db += 1
        while True:
            iteration += 1
            expires = db.expires
            num = len(expires)
            if num == 0:
                db.avg_ttl = 0
                break
            slots = expires.slots()
            now = int(time.time() * 1000)
            # Less than 1% of buckets used: sampling would mostly hit empty buckets, and the
            # table will be shrunk by databasesCron soon anyway.
            if slots > DICT_HT_INITIAL_SIZE and num * 100 // slots < 1:
                break
            expired = sampled = 0
            ttl_sum = ttl_samples = 0
            num = min(num, keys_per_loop)
            max_buckets = num * 20
            checked = 0
            while sampled < num and checked < max_buckets:
                for table in (0, 1):
                    if table == 1 and expires.rehashidx == -1:
                        break
                    ht = expires.ht_table[table]
                    if ht is None:
                        continue
                    idx = db.expires_cursor & (len(ht) - 1)
                    de = ht[idx]
                    checked += 1
                    while de is not None:
                        e = de
                        de = de.next
                        ttl = e.val - now
                        if active_expire_cycle_try_expire(db, e, now):
                            expired += 1
                        if ttl > 0:
                            ttl_sum += ttl
                            ttl_samples += 1
                        sampled += 1
                db.expires_cursor += 1
            total_expired += expired
            total_sampled += sampled
            if ttl_samples:
                avg = ttl_sum // ttl_samples
                if db.avg_ttl == 0:
                    db.avg_ttl = avg
                db.avg_ttl = (db.avg_ttl // 50) * 49 + avg // 50
            if iteration & 0xF == 0:
                if time.perf_counter_ns() // 1000 - start > timelimit:
                    st.timelimit_exit = True
                    srv.stat_expired_time_cap_reached_count += 1
                    break
            if not (sampled == 0 or expired * 100 // sampled > acceptable_stale):
                break
    elapsed = time.perf_counter_ns() // 1000 - start
    srv.stat_expire_cycle_time_used += elapsed
    perc = total_expired / total_sampled if total_sampled else 0.0
    srv.stat_expired_stale_perc = perc * 0.05 + srv.stat_expired_stale_perc * 0.95


def expire_slave_keys() -> None:
    """expireSlaveKeys: on a writable replica, keys given a TTL locally expire locally.
    Divergence: tracered does not track replica-local TTLs yet, so this does nothing more
    than Redis does with no such keys."""
    return None
