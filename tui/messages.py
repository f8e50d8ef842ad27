"""Messages from backend threads (the server thread, a control-channel reader) to the UI.

Posted with ``App.post_message``, which is thread-safe; each is a dataclass (Textual calls
``__post_init__`` for dataclass messages).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual.message import Message


@dataclass
class Paused(Message):
    """The server stopped; ``frame`` is a Frame dict (see tracered/trace/frame.py)."""

    frame: dict


@dataclass
class Resumed(Message):
    action: str


@dataclass
class BreakpointsChanged(Message):
    breakpoints: list = field(default_factory=list)


@dataclass
class ConditionFailed(Message):
    breakpoint: int
    spec: str
    error: str


@dataclass
class LogLine(Message):
    line: str


@dataclass
class ServerStopped(Message):
    """The server thread ended (SHUTDOWN, a fatal error) or the remote one went away."""

    reason: str


def from_event(ev: dict) -> Message | None:
    """The message for one backend event dict, or None for events the UI ignores."""
    kind = ev.get("event")
    if kind == "paused":
        return Paused(ev.get("frame") or {})
    if kind == "resumed":
        return Resumed(ev.get("action", "continue"))
    if kind == "breakpoints":
        return BreakpointsChanged(ev.get("breakpoints") or [])
    if kind == "condition_error":
        return ConditionFailed(ev.get("breakpoint", 0), ev.get("spec", ""), ev.get("error", ""))
    if kind == "disconnected":
        return ServerStopped("control connection closed")
    return None
