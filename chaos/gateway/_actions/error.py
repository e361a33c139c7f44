"""``error: KIND``: the dialect's exact error answer, plus the retry-steering headers."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from chaos._errors import ConfigError
from chaos.faults import Action, ErrorAction
from chaos.gateway._actions._base import Applier

if TYPE_CHECKING:
    from chaos.gateway._exchange import Exchange
    from chaos.providers._base import Dialect, Response


def steer(response: Response, action: ErrorAction) -> Response:
    """Make sure the headers the action asks for are on ``response`` (a dialect may add them)."""
    present = {name.lower() for name, _ in response.headers}
    extra: list[tuple[str, str]] = []
    if action.should_retry is not None and "x-should-retry" not in present:
        extra.append(("x-should-retry", "true" if action.should_retry else "false"))
    if action.retry_after is not None and "retry-after" not in present:
        value = action.retry_after
        extra.append(("retry-after", str(int(value)) if value == int(value) else str(value)))
    if action.retry_after_ms is not None and "retry-after-ms" not in present:
        extra.append(("retry-after-ms", str(action.retry_after_ms)))
    if extra:
        response.headers = [*response.headers, *extra]
    return response


class ErrorApplier(Applier):
    """Answers with ``dialect.error(kind, ...)`` at once (no task, no upstream call)."""

    kind = "error"

    def check(self, action: Action, dialect: Dialect) -> None:
        assert isinstance(action, ErrorAction)
        kinds = dialect.error_kinds()
        if action.error not in kinds:
            raise ConfigError(
                f"error kind {action.error!r} is not in the {dialect.name} dialect's catalogue; "
                f"valid kinds: {', '.join(kinds)}"
            )

    def start(self, ex: Exchange, action: ErrorAction) -> Coroutine[Any, Any, None] | None:
        response = ex.dialect.error(
            action.error,
            retry_after=action.retry_after,
            retry_after_ms=action.retry_after_ms,
            should_retry=action.should_retry,
            message=action.message,
        )
        ex.send(steer(response, action), outcome="fault")
        return None
