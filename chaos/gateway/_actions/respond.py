"""``respond: {status, headers, body}``: a raw answer, byte for byte as given."""

from __future__ import annotations

import json
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from chaos.faults import RespondAction
from chaos.gateway._actions._base import Applier
from chaos.providers._base import Response

if TYPE_CHECKING:
    from chaos.gateway._exchange import Exchange


def render(action: RespondAction) -> Response:
    """The response ``action`` describes: str bodies as UTF-8, JSON values compact."""
    headers = list(action.headers.items())
    body = action.body
    if isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = json.dumps(body, separators=(",", ":")).encode()
        if not any(name.lower() == "content-type" for name, _ in headers):
            headers.append(("content-type", "application/json"))
    return Response(action.status, headers, data)


class RespondApplier(Applier[RespondAction]):
    """Answers at once with the given status, headers and body."""

    def start(self, ex: Exchange, action: RespondAction) -> Coroutine[Any, Any, None] | None:
        ex.send(render(action), outcome="fault")
        return None
