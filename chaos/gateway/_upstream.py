"""Upstreams: the in-process fake (default) and any HTTP(S) URL forwarded with httpx."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from chaos._errors import ConfigError, NetworkNotAllowed
from chaos.providers._base import Dialect, Request, Response

if TYPE_CHECKING:
    import httpx

__all__ = ["FakeUpstream", "HttpUpstream", "check_upstream", "is_loopback"]

_NOT_FORWARDED = frozenset(
    {
        "host",
        "content-length",
        "connection",
        "keep-alive",
        "transfer-encoding",
        "expect",
        "accept-encoding",
        "te",
        "upgrade",
        "proxy-connection",
    }
)
_NOT_RETURNED = frozenset(
    {"content-length", "connection", "keep-alive", "transfer-encoding", "content-encoding"}
)
_FRAME_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine (``localhost``, 127.0.0.0/8, ``::1``)."""
    if host.lower() in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_upstream(target: str, url: str, *, allow_network: bool) -> str:
    """Validate an upstream URL; non-loopback hosts need ``allow_network``.

    :returns: the URL without a trailing slash.
    :raises ConfigError: not an http(s) URL.
    :raises NetworkNotAllowed: a non-loopback host and network access not allowed.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"target {target!r}: upstream {url!r} is neither 'fake' nor an http(s):// URL"
        )
    if not allow_network and not is_loopback(parts.hostname):
        raise NetworkNotAllowed(
            f"target {target!r} would forward to {url}, a real network host; network access "
            "is off by default. Allow it with --chaos-allow-network (ini chaos_allow_network "
            "= true, env LLM_CHAOS_ALLOW_NETWORK=1) or Harness(allow_network=True)"
        )
    return url.rstrip("/")


class FakeUpstream:
    """The dialect's fake provider, served in process (no second hop)."""

    description = "fake"

    def __init__(self, dialect: Dialect) -> None:
        self._serve = dialect.serve

    async def __call__(self, request: Request) -> Response:
        return await self._serve(request)

    async def aclose(self) -> None:
        """Nothing to release."""


class HttpUpstream:
    """Forwards to an HTTP(S) base URL; SSE answers are passed on frame by frame.

    :param url: the base URL (the request path is appended to it).
    """

    def __init__(self, url: str) -> None:
        self.description = url
        self._base = url
        self._client: httpx.AsyncClient | None = None

    async def __call__(self, request: Request) -> Response:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(600.0, connect=10.0))
        client = self._client
        headers = [(k, v) for k, v in request.headers if k.lower() not in _NOT_FORWARDED]
        headers.append(("accept-encoding", "identity"))
        outgoing = client.build_request(
            request.method, self._base + request.path, headers=headers, content=request.body
        )
        answer = await client.send(outgoing, stream=True)
        reply = [
            (k.decode("latin-1"), v.decode("latin-1"))
            for k, v in answer.headers.raw
            if k.decode("latin-1").lower() not in _NOT_RETURNED
        ]
        if answer.headers.get("content-type", "").startswith("text/event-stream"):
            return Response(answer.status_code, reply, events=_frames(answer))
        try:
            body = await answer.aread()
        finally:
            await answer.aclose()
        return Response(answer.status_code, reply, body)

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


async def _frames(answer: httpx.Response) -> AsyncIterator[bytes]:
    """Split an upstream SSE body into complete frames as the bytes arrive."""
    buffer = b""
    try:
        async for chunk in answer.aiter_raw():
            buffer += chunk
            start = 0
            for end in _FRAME_END.finditer(buffer):
                yield buffer[start : end.end()]
                start = end.end()
            buffer = buffer[start:]
        if buffer:
            yield buffer
    finally:
        await answer.aclose()
