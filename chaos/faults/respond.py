"""``respond: {status, headers, body}``: a raw answer, byte for byte as given."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chaos.faults._base import Action

__all__ = ["RespondAction"]


@dataclass(frozen=True)
class RespondAction(Action):
    """Answer with exactly this status, these headers and this body.

    :param status: the HTTP status code.
    :param headers: extra response headers.
    :param body: a string (sent as UTF-8) or a JSON value (sent compact).
    """

    kind = "respond"
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    body: Any = ""

    def describe(self) -> str:
        return f"respond:{self.status}"

    def check(self) -> list[tuple[str, str]]:
        if not 100 <= self.status <= 599:
            return [("status", f"must be an HTTP status between 100 and 599, got {self.status}")]
        return []
