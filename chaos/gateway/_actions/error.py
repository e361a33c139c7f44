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
from chaos.faults import ErrorAction
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

    __slots__ = (
        "block",
        "block_parts",
        "body",
        "body_parts",
        "headers",
        "id_at",
        "id_len",
        "status",
    )

    def __init__(self, response: Response, id_header: str) -> None:
        self.status = response.status
        self.headers = list(response.headers)
        self.body = response.body
        self.block = header_block(self.headers)
        self.id_at = -1
        self.id_len = 0
        self.block_parts: list[bytes] = []
        self.body_parts: list[bytes] = []
        wanted = id_header.lower()
        for index, (name, value) in enumerate(self.headers):
            if name.lower() == wanted and len(value) > 8:
                self.id_at, self.id_len = index, len(value)
                old = value.encode()
                # the bytes around each occurrence of the id, for a join per answer
                self.block_parts = self.block.split(old)
                self.body_parts = self.body.split(old)
                break

    def issue(self, ex: Exchange) -> None:
        """Send the answer on ``ex`` with a fresh request id."""
        if self.id_at < 0:
            ex.send_prepared(self.status, self.headers, self.block, self.body, outcome="fault")
            return
        suffix = format(next(_serial), "x")
        name, old = self.headers[self.id_at]
        new_id = old[: self.id_len - len(suffix)] + suffix
        headers = self.headers.copy()
        headers[self.id_at] = (name, new_id)
        new_b = new_id.encode()
        ex.send_prepared(
            self.status,
            headers,
            new_b.join(self.block_parts),
            new_b.join(self.body_parts),
            outcome="fault",
        )


class ErrorApplier(Applier[ErrorAction]):
    """Answers with ``dialect.error(kind, ...)`` at once (no task, no upstream call)."""

    def __init__(self) -> None:
        # (id(action), id(dialect)) -> (action, dialect, template): no dataclass hashing
        self._templates: dict[tuple[int, int], tuple[ErrorAction, Dialect, _Template]] = {}

    def check(self, action: ErrorAction, dialect: Dialect) -> None:
        kinds = dialect.error_kinds()
        if action.error not in kinds:
            raise ConfigError(
                f"error kind {action.error!r} is not in the {dialect.name} dialect's catalogue; "
                f"valid kinds: {', '.join(kinds)}"
            )

    def start(self, ex: Exchange, action: ErrorAction) -> Coroutine[Any, Any, None] | None:
        dialect = ex.target.dialect
        key = (id(action), id(dialect))
        cached = self._templates.get(key)
        if cached is not None and cached[0] is action and cached[1] is dialect:
            template = cached[2]
        else:
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
            self._templates[key] = (action, dialect, template)
        template.issue(ex)
        return None
