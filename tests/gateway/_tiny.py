"""A tiny dialect for gateway tests that must not depend on the real provider dialects."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import MappingProxyType

from chaos.providers._base import CallInfo, Dialect, Operation, Request, Response

_ERRORS = {
    "server_error": (500, "api_error"),
    "overloaded": (529, "overloaded_error"),
    "rate_limited": (429, "rate_limit_error"),
    "unauthorized": (401, "authentication_error"),
}
EVENTS = 6  # frames per fake stream, the terminal one included


class TinyDialect(Dialect):
    """Anthropic-shaped enough for wire tests: ``messages.create`` and ``models.list``."""

    name = "tiny-test"
    operations = (
        Operation("messages.create", "POST", "/v1/messages", streams=True),
        Operation("models.list", "GET", "/v1/models"),
    )
    auth_headers = ("x-api-key",)
    request_id_header = "request-id"
    host = "api.tiny.test"
    env = MappingProxyType({"TINY_BASE_URL": "{url}"})

    def identify(self, method: str, path: str, body: bytes) -> CallInfo:
        path = path.partition("?")[0]
        if method == "GET" and path == "/v1/models":
            return CallInfo("models.list", False, None)
        if method == "POST" and path == "/v1/messages":
            data = json.loads(body or b"{}")
            return CallInfo("messages.create", bool(data.get("stream")), data.get("model"))
        return CallInfo(None, False, None)

    def error_kinds(self) -> tuple[str, ...]:
        return tuple(_ERRORS)

    def error(
        self, kind, *, retry_after=None, retry_after_ms=None, should_retry=None, message=None
    ) -> Response:
        status, etype = _ERRORS[kind]
        body = json.dumps({"type": "error", "error": {"type": etype, "message": message or kind}})
        headers = [("content-type", "application/json")]
        # the dialect contract: the dialect renders the retry-steering parameters
        if retry_after is not None:
            headers.append(("retry-after", f"{retry_after:g}"))
        if retry_after_ms is not None:
            headers.append(("retry-after-ms", str(retry_after_ms)))
        if should_retry is not None:
            headers.append(("x-should-retry", "true" if should_retry else "false"))
        return Response(status, headers, body.encode())

    def stream_error(self, kind, *, operation, message=None) -> bytes:
        _, etype = _ERRORS[kind]
        data = json.dumps({"type": "error", "error": {"type": etype, "message": message or kind}})
        return f"event: error\ndata: {data}\n\n".encode()

    def is_terminal_event(self, frame: bytes, *, operation) -> bool:
        return frame.startswith(b"event: message_stop")

    async def serve(self, request: Request) -> Response:
        info = self.identify(request.method, request.path, request.body)
        if info.operation == "models.list":
            return Response(200, [("content-type", "application/json")], b'{"data":[]}')
        if info.operation != "messages.create":
            return Response(404, [("content-type", "application/json")], b'{"error":"nope"}')
        if info.stream:
            return Response(200, [("content-type", "text/event-stream")], events=_events())
        body = json.dumps({"type": "message", "model": info.model, "text": "hello world"})
        return Response(200, [("content-type", "application/json")], body.encode())


async def _events() -> AsyncIterator[bytes]:
    for i in range(EVENTS - 1):
        yield f'event: delta\ndata: {{"i":{i}}}\n\n'.encode()
    yield b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
