"""``wire: MODE``: break the exchange on the wire: hang, reset, close, truncate, malformed, drip."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from chaos.faults import WireAction
from chaos.gateway._actions._base import Applier
from chaos.providers._base import Response

if TYPE_CHECKING:
    from chaos.gateway._exchange import Exchange


async def _payload(ex: Exchange) -> tuple[Response, bytes]:
    """The upstream answer and its whole payload (a stream's frames joined)."""
    response = await ex.upstream()
    if response.events is None:
        return response, response.body
    frames = [frame async for frame in response.events]
    return response, b"".join(frames)


def _broken_frame(payload: bytes) -> bytes:
    """The first SSE frame of ``payload`` with its JSON cut in the middle of its data line."""
    first = payload.split(b"\n\n", 1)[0]
    head, sep, data = first.partition(b"data: ")
    if not sep:
        return b'data: {"type":\n\n'
    return head + sep + data[: max(1, len(data) // 2)] + b"\n\n"


class WireApplier(Applier[WireAction]):
    """Applies the six wire modes; ``reset`` and ``close`` answer at once."""

    def start(self, ex: Exchange, action: WireAction) -> Coroutine[Any, Any, None] | None:
        mode = action.wire
        if mode == "reset":
            ex.reset()
            return None
        if mode == "close":
            ex.cut("closed")
            return None
        if mode == "hang":
            return ex.hang()
        if mode == "truncate":
            return self._truncate(ex, action)
        if mode == "malformed":
            return self._malformed(ex)
        return self._drip(ex, action)

    async def _truncate(self, ex: Exchange, action: WireAction) -> None:
        response, payload = await _payload(ex)
        part = payload[: int(len(payload) * action.fraction)]
        if response.events is None:
            # the head promises the whole body; only part of it comes
            ex.send_head(response, length=len(payload))
            ex.write(part)
        else:
            ex.start_stream(response)
            ex.send_event(part)
        ex.cut("truncated")

    async def _malformed(self, ex: Exchange) -> None:
        response, payload = await _payload(ex)
        if response.events is None:
            body = payload[: len(payload) // 2] or b'{"type":'
            headers = [(k, v) for k, v in response.headers if k.lower() != "content-type"]
            ex.send(Response(200, [*headers, ("content-type", "application/json")], body))
            return
        ex.start_stream(Response(200, response.headers))
        ex.end_stream("ok", last=_broken_frame(payload))

    async def _drip(self, ex: Exchange, action: WireAction) -> None:
        response, payload = await _payload(ex)
        interval = action.interval / 1000
        step = max(1, action.chunk)
        if response.events is None:
            ex.send_head(response, length=len(payload))
            if not payload:
                ex.finish("ok")
            for i in range(0, len(payload), step):
                await asyncio.sleep(interval)
                if ex.closed:
                    ex.finish("client_gone")
                    return
                piece = payload[i : i + step]
                if i + step >= len(payload):
                    ex.finish("ok", pending=len(piece))
                ex.write(piece)
            return
        ex.start_stream(response)
        for i in range(0, len(payload), step):
            await asyncio.sleep(interval)
            if ex.closed:
                ex.finish("client_gone")
                return
            ex.send_event(payload[i : i + step])
        ex.end_stream("ok")
