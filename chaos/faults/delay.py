"""``delay: MS``: hold the request before the response headers, then forward it."""

from __future__ import annotations

from dataclasses import dataclass

from chaos.faults._base import Action

__all__ = ["DelayAction"]


@dataclass(frozen=True)
class DelayAction(Action):
    """Wait ``delay`` milliseconds before the headers, then answer normally.

    :param delay: milliseconds before the first byte of the response.
    """

    kind = "delay"
    shorthand = "delay"
    delay: int

    def describe(self) -> str:
        return f"delay:{self.delay}ms"
