"""``error: KIND``: the dialect's exact error answer.

The dialect renders the retry-steering parameters (``retry_after``, ``retry_after_ms``,
``should_retry``) the way its provider does: headers for Anthropic and OpenAI, a
``RetryInfo`` in the body (and no header) for Gemini.
"""

from __future__ import annotations

import itertools
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from chaos._errors import ConfigError
from chaos.faults import Action, ErrorAction
from chaos.gateway._actions._base import Applier
from chaos.gateway._exchange import header_block
from chaos.providers._base import Response

if TYPE_CHECKING:
    from chaos.gateway._exchange import Exchange
    from chaos.providers._base import Dialect

_serial = itertools.count(1)


class _Template:
    """A rendered error answer, re-issued with a fresh request id each time.

    Rendering an error (ids, JSON) costs more than the rest of a fault answer, and
    everything but the request id is the same for every request a rule hits.
    """

    __slots__ = ("block", "body", "headers", "id_at", "old_id", "status")

    def __init__(self, response: Response, id_header: str) -> None:
        self.status = response.status
        self.headers = list(response.headers)
        self.body = response.body
        self.block = header_block(self.headers)
        self.id_at = -1
        self.old_id = ""
        wanted = id_header.lower()
        for index, (name, value) in enumerate(self.headers):
            if name.lower() == wanted and len(value) > 8:
                self.id_at, self.old_id = index, value
                break

    def issue(self, ex: Exchange) -> None:
        """Send the answer on ``ex`` with a fresh request id."""
        if self.id_at < 0:
            ex.send_prepared(self.status, self.headers, self.block, self.body, outcome="fault")
            return
        suffix = format(next(_serial), "x")
        old = self.old_id
        new_id = old[: len(old) - len(suffix)] + suffix
        headers = list(self.headers)
        headers[self.id_at] = (headers[self.id_at][0], new_id)
        old_b, new_b = old.encode(), new_id.encode()
        ex.send_prepared(
            self.status,
            headers,
            self.block.replace(old_b, new_b),
            self.body.replace(old_b, new_b),
            outcome="fault",
        )


class ErrorApplier(Applier):
    """Answers with ``dialect.error(kind, ...)`` at once (no task, no upstream call)."""

    kind = "error"

    def __init__(self) -> None:
        self._templates: dict[tuple[int, ErrorAction], _Template] = {}

    def check(self, action: Action, dialect: Dialect) -> None:
        assert isinstance(action, ErrorAction)
        kinds = dialect.error_kinds()
        if action.error not in kinds:
            raise ConfigError(
                f"error kind {action.error!r} is not in the {dialect.name} dialect's catalogue; "
                f"valid kinds: {', '.join(kinds)}"
            )

    def start(self, ex: Exchange, action: ErrorAction) -> Coroutine[Any, Any, None] | None:
        dialect = ex.dialect
        key = (id(dialect), action)
        template = self._templates.get(key)
        if template is None:
            response = dialect.error(
                action.error,
                retry_after=action.retry_after,
                retry_after_ms=action.retry_after_ms,
                should_retry=action.should_retry,
                message=action.message,
            )
            template = _Template(response, dialect.request_id_header)
            if len(self._templates) > 1024:
                self._templates.clear()
            self._templates[key] = template
        template.issue(ex)
        return None
