"""The event loop: the mirror of ae.c (with ae_epoll.c as the backend).

One thread, one epoll set.  File events call a handler when a socket is readable or
writable; time events (serverCron) run when their time has come.  Each iteration of
aeProcessEvents: compute how long to sleep (until the nearest time event), call beforeSleep,
epoll_wait, call afterSleep, run the ready file handlers, then the due time events.

Divergence: ae.c uses the raw epoll API with one aeFileEvent slot per fd; here a dict maps
fd to its :class:`FileEvent` and ``select.epoll`` is used directly (the ``selectors``
module adds a Python layer per event that costs measurable time at 100k events/s).
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable

from tracered.trace.probes import probe

AE_NONE = 0
AE_READABLE = 1
AE_WRITABLE = 2
AE_BARRIER = 4

AE_FILE_EVENTS = 1 << 0
AE_TIME_EVENTS = 1 << 1
AE_ALL_EVENTS = AE_FILE_EVENTS | AE_TIME_EVENTS
AE_DONT_WAIT = 1 << 2
AE_CALL_BEFORE_SLEEP = 1 << 3
AE_CALL_AFTER_SLEEP = 1 << 4

AE_NOMORE = -1
AE_DELETED_EVENT_ID = -1

_EPOLLIN = select.EPOLLIN
_EPOLLOUT = select.EPOLLOUT
_EPOLLERR = select.EPOLLERR
_EPOLLHUP = select.EPOLLHUP


class FileEvent:
    """aeFileEvent: the handlers registered for one fd."""

    __slots__ = ("mask", "rfile_proc", "wfile_proc", "client_data")

    def __init__(self) -> None:
        self.mask = AE_NONE
        self.rfile_proc: Callable | None = None
        self.wfile_proc: Callable | None = None
        self.client_data = None


class TimeEvent:
    """aeTimeEvent: ``proc(el, id, client_data)`` returns ms until the next run, or
    AE_NOMORE to delete itself."""

    __slots__ = ("id", "when_ms", "proc", "client_data", "finalizer_proc")

    def __init__(self, id_: int, when_ms: float, proc: Callable, client_data,
                 finalizer_proc: Callable | None) -> None:
        self.id = id_
        self.when_ms = when_ms
        self.proc = proc
        self.client_data = client_data
        self.finalizer_proc = finalizer_proc


class EventLoop:
    """aeEventLoop."""

    def __init__(self, setsize: int = 10128) -> None:
        self.setsize = setsize
        self.events: dict[int, FileEvent] = {}
        self.time_events: list[TimeEvent] = []
        self.time_event_next_id = 0
        self.stop = False
        self.epoll = select.epoll()
        self.beforesleep: Callable | None = None
        self.aftersleep: Callable | None = None
        self.flags = 0
        self.on_handler_error: Callable | None = None

    # -- file events --------------------------------------------------------------------

    def create_file_event(self, fd: int, mask: int, proc: Callable, client_data) -> None:
        """aeCreateFileEvent: add ``mask`` to the fd's interest set with ``proc`` as handler."""
        fe = self.events.get(fd)
        new = fe is None
        if new:
            fe = FileEvent()
            self.events[fd] = fe
        old_mask = fe.mask
        fe.mask |= mask
        if mask & AE_READABLE:
            fe.rfile_proc = proc
        if mask & AE_WRITABLE:
            fe.wfile_proc = proc
        fe.client_data = client_data
        ev = (_EPOLLIN if fe.mask & AE_READABLE else 0) | \
             (_EPOLLOUT if fe.mask & AE_WRITABLE else 0)
        if old_mask == AE_NONE:
            self.epoll.register(fd, ev)
        else:
            self.epoll.modify(fd, ev)

    def delete_file_event(self, fd: int, mask: int) -> None:
        """aeDeleteFileEvent."""
        fe = self.events.get(fd)
        if fe is None or fe.mask == AE_NONE:
            return
        if mask & AE_WRITABLE:
            mask |= AE_BARRIER  # the barrier only makes sense with a write handler
        fe.mask &= ~mask
        if mask & AE_WRITABLE:
            fe.wfile_proc = None
        if mask & AE_READABLE:
            fe.rfile_proc = None
        try:
            if fe.mask == AE_NONE:
                self.epoll.unregister(fd)
                del self.events[fd]
            else:
                ev = (_EPOLLIN if fe.mask & AE_READABLE else 0) | \
                     (_EPOLLOUT if fe.mask & AE_WRITABLE else 0)
                self.epoll.modify(fd, ev)
        except (OSError, ValueError):
            self.events.pop(fd, None)

    def get_file_events(self, fd: int) -> int:
        fe = self.events.get(fd)
        return fe.mask if fe else AE_NONE

    def has_write_handler(self, fd: int) -> bool:
        fe = self.events.get(fd)
        return fe is not None and fe.mask & AE_WRITABLE != 0

    # -- time events --------------------------------------------------------------------

    def create_time_event(self, milliseconds: float, proc: Callable, client_data=None,
                          finalizer_proc: Callable | None = None) -> int:
        """aeCreateTimeEvent: run ``proc`` in ``milliseconds``; returns the event id."""
        eid = self.time_event_next_id
        self.time_event_next_id += 1
        self.time_events.append(
            TimeEvent(eid, time.monotonic() * 1000 + milliseconds, proc, client_data,
                      finalizer_proc))
        return eid

    def delete_time_event(self, eid: int) -> bool:
        for te in self.time_events:
            if te.id == eid:
                te.id = AE_DELETED_EVENT_ID
                return True
        return False

    def _ms_until_earliest_timer(self) -> float:
        """usUntilEarliestTimer, in ms: how long epoll_wait may sleep."""
        if not self.time_events:
            return -1
        earliest = min(te.when_ms for te in self.time_events)
        return max(0.0, earliest - time.monotonic() * 1000)

    def _process_time_events(self) -> int:
        """processTimeEvents: run every due timer; reschedule or delete each."""
        processed = 0
        now = time.monotonic() * 1000
        keep = []
        for te in list(self.time_events):
            if te.id == AE_DELETED_EVENT_ID:
                if te.finalizer_proc:
                    te.finalizer_proc(self, te.client_data)
                continue
            if te.when_ms <= now:
                ret = te.proc(self, te.id, te.client_data)
                processed += 1
                if ret == AE_NOMORE or te.id == AE_DELETED_EVENT_ID:
                    if te.finalizer_proc:
                        te.finalizer_proc(self, te.client_data)
                    continue
                te.when_ms = time.monotonic() * 1000 + ret
            keep.append(te)
        # Timers created by a timer proc were appended to self.time_events meanwhile.
        known = {id(t) for t in keep}
        for te in self.time_events:
            if id(te) not in known and te.id != AE_DELETED_EVENT_ID and te not in keep:
                keep.append(te)
        self.time_events = keep
        return processed

    # -- the loop -----------------------------------------------------------------------

    @probe("aeProcessEvents")
    def process_events(self, flags: int = AE_ALL_EVENTS | AE_CALL_BEFORE_SLEEP
                       | AE_CALL_AFTER_SLEEP) -> int:
        """aeProcessEvents: one iteration. Returns the number of events processed."""
        processed = 0
        if flags & AE_DONT_WAIT or self.flags & AE_DONT_WAIT:
            timeout = 0.0
        elif flags & AE_TIME_EVENTS:
            ms = self._ms_until_earliest_timer()
            timeout = -1 if ms < 0 else ms / 1000.0
        else:
            timeout = -1
        if self.beforesleep is not None and flags & AE_CALL_BEFORE_SLEEP:
            self.beforesleep(self)
            # beforeSleep may have queued work that must not wait for the timeout.
            if self.flags & AE_DONT_WAIT:
                timeout = 0.0
        try:
            ready = self.epoll.poll(timeout)
        except InterruptedError:
            ready = []
        if self.aftersleep is not None and flags & AE_CALL_AFTER_SLEEP:
            self.aftersleep(self)
        events = self.events
        for fd, ev in ready:
            fe = events.get(fd)
            if fe is None:
                continue
            try:
                fired = False
                # AE_BARRIER: write before read, so a reply produced by this iteration's
                # read waits for beforeSleep (appendfsync always fsyncs there first).
                invert = fe.mask & AE_BARRIER
                if not invert and ev & (_EPOLLIN | _EPOLLERR | _EPOLLHUP) and \
                        fe.mask & AE_READABLE:
                    fe.rfile_proc(self, fd, fe.client_data, AE_READABLE)
                    fired = True
                    fe = events.get(fd)  # the handler may have closed the fd
                    if fe is None:
                        processed += 1
                        continue
                if ev & (_EPOLLOUT | _EPOLLERR | _EPOLLHUP) and fe.mask & AE_WRITABLE:
                    if not fired or fe.wfile_proc is not fe.rfile_proc:
                        fe.wfile_proc(self, fd, fe.client_data, AE_WRITABLE)
                        fired = True
                if invert:
                    fe = events.get(fd)
                    if fe is not None and ev & (_EPOLLIN | _EPOLLERR | _EPOLLHUP) and \
                            fe.mask & AE_READABLE and \
                            (not fired or fe.wfile_proc is not fe.rfile_proc):
                        fe.rfile_proc(self, fd, fe.client_data, AE_READABLE)
            except Exception as e:  # noqa: BLE001
                # Divergence: a bug while serving one connection is reported and that
                # connection dropped; the loop (and every other client) keeps going.
                if self.on_handler_error is None:
                    raise
                self.on_handler_error(fd, fe, e)
            processed += 1
        if flags & AE_TIME_EVENTS:
            processed += self._process_time_events()
        return processed

    def main(self) -> None:
        """aeMain: loop until ``stop`` is set."""
        self.stop = False
        while not self.stop:
            # Looked up each time (not cached) so an armed aeProcessEvents probe is seen.
            self.process_events()

    def set_dont_wait(self, on: bool) -> None:
        if on:
            self.flags |= AE_DONT_WAIT
        else:
            self.flags &= ~AE_DONT_WAIT
