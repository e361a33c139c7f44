"""``error: KIND``: an error answer rendered by the target's dialect (exact provider bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from chaos.faults._base import Action

__all__ = ["ErrorAction"]


@dataclass(frozen=True)
class ErrorAction(Action):
    """Answer with the dialect's error ``kind`` (``server_error``, ``overloaded``, ...).

    :param error: the fault kind, looked up in the target dialect's error catalogue.
    :param retry_after: seconds for a ``retry-after`` header.
    :param retry_after_ms: milliseconds for a ``retry-after-ms`` header.
    :param should_retry: sets ``x-should-retry: true|false``.
    :param message: replaces the provider's default error message.
    """

    kind = "error"
    shorthand = "error"
    vocabularies = MappingProxyType({"error": "error_kind"})
    error: str
    retry_after: float | None = None
    retry_after_ms: int | None = None
    should_retry: bool | None = None
    message: str | None = None

    def describe(self) -> str:
        return f"error:{self.error}"

    def check(self) -> list[tuple[str, str]]:
        if self.retry_after is not None and self.retry_after < 0:
            return [("retry_after", f"must be >= 0 seconds, got {self.retry_after}")]
        return []
