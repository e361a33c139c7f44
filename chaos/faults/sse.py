"""``sse: {...}``: faults inside a server-sent-events stream (after HTTP 200)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from chaos.faults._base import Action

__all__ = ["SSE_MODES", "SseAction"]


@dataclass(frozen=True)
class SseAction(Action):
    """Break a stream after it started; exactly one of the modes is set.

    :param cut_after: drop the connection after N events (no terminal event).
    :param error_event: send the dialect's in-stream error of this kind after ``after`` events.
    :param after: events passed before ``error_event``.
    :param end_early: end cleanly (EOF) without the terminal event.
    :param stall_after: stop sending after N events, keeping the connection open.
    :param token_delay: milliseconds between events (alone, or pacing one of the modes).
    """

    kind = "sse"
    vocabularies = MappingProxyType({"error_event": "error_kind"})
    cut_after: int | None = None
    error_event: str | None = None
    after: int = 0
    end_early: bool = False
    stall_after: int | None = None
    token_delay: int | None = None

    def describe(self) -> str:
        if self.cut_after is not None:
            return f"sse:cut_after={self.cut_after}"
        if self.error_event is not None:
            return f"sse:error_event={self.error_event}@{self.after}"
        if self.end_early:
            return "sse:end_early"
        if self.stall_after is not None:
            return f"sse:stall_after={self.stall_after}"
        return f"sse:token_delay={self.token_delay}ms"

    def check(self) -> list[tuple[str, str]]:
        modes = [name for name in SSE_MODES if getattr(self, name) not in (None, False)]
        if len(modes) > 1:
            choices = ", ".join(SSE_MODES)
            return [(modes[1], f"conflicts with {modes[0]}: give at most one of {choices}")]
        if not modes and self.token_delay is None:
            choices = ", ".join((*SSE_MODES, "token_delay"))
            return [("", f"no stream fault: give one of {choices}")]
        if self.after and self.error_event is None:
            return [("after", "only applies to error_event (cut_after/stall_after take the count)")]
        return []


SSE_MODES: tuple[str, ...] = ("cut_after", "error_event", "end_early", "stall_after")
"""The exclusive modes of an ``sse`` fault (``token_delay`` paces any of them, or stands alone)."""
