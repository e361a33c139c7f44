"""A small HTTP/1.1 server on asyncio streams, enough for Toxiproxy's REST API.

Keep-alive, ``Content-Length`` and chunked request bodies, ``Connection:
close``, a read timeout, and a ``Date`` header like Go's ``net/http``. It knows
nothing about Toxiproxy: a handler maps a :class:`Request` to a
:class:`Response`. Standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from http import HTTPStatus
from urllib.parse import unquote

__all__ = ["HttpServer", "Request", "Response"]

log = logging.getLogger("chaos.toxiproxy.server")

_MAX_HEADER_BYTES = 1 << 20
_MAX_BODY_BYTES = 1 << 24  # the API's JSON bodies are tiny; this only bounds memory
_READ_TIMEOUT = 15.0
_IDLE_TIMEOUT = 60.0


class Request:
    """A parsed request: method, decoded path, lower-cased headers, body."""

    __slots__ = ("body", "headers", "method", "path")

    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body


class Response:
    """A response; ``headers`` keep their order and case."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self, status: int, body: bytes = b"", headers: list[tuple[str, str]] | None = None
    ) -> None:
        self.status = status
        self.body = body
        self.headers = headers or []


Handler = Callable[[Request], Awaitable[Response]]


class _BadRequest(Exception):
    pass


class HttpServer:
    """Serves ``handler`` on every connection until :meth:`close`."""

    def __init__(self, handler: Handler) -> None:
        self._handler = handler
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False
        self._server: asyncio.Server | None = None

    async def start(self, sock: socket.socket) -> None:
        """Serve on an already bound, listening socket."""
        self._server = await asyncio.start_server(self._serve, sock=sock)

    async def close(self) -> None:
        """Stop accepting and close every open API connection."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        # connections accepted in the same loop pass as the close still come in
        for _ in range(3):
            await asyncio.sleep(0)
        for writer in list(self._writers):
            writer.close()
        for writer in list(self._writers):
            with contextlib.suppress(Exception):
                await writer.wait_closed()
        if self._tasks:
            # let each connection handler see its EOF and end by itself
            await asyncio.wait(list(self._tasks), timeout=2)
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._closing:
            writer.close()
            return
        self._writers.add(writer)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            keep_alive = True
            first = True
            while keep_alive:
                try:
                    timeout = _READ_TIMEOUT if first else _IDLE_TIMEOUT
                    request, keep_alive = await asyncio.wait_for(
                        _read_request(reader, writer), timeout
                    )
                except (TimeoutError, asyncio.IncompleteReadError, ConnectionError):
                    return
                except _BadRequest as exc:
                    _write(writer, Response(400, f"400 Bad Request: {exc}".encode()), False)
                    await writer.drain()
                    return
                if request is None:
                    return
                first = False
                try:
                    response = await self._handler(request)
                except Exception:
                    log.exception("API handler failed for %s %s", request.method, request.path)
                    response = Response(500, b"Internal Server Error\n")
                _write(writer, response, keep_alive)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            writer.close()


async def _read_request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> tuple[Request | None, bool]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None, False
        raise
    except asyncio.LimitOverrunError:
        raise _BadRequest("request header too large") from None
    if len(head) > _MAX_HEADER_BYTES:
        raise _BadRequest("request header too large")
    lines = head.decode("latin-1").split("\r\n")
    while lines and not lines[0]:
        lines.pop(0)
    try:
        method, target, version = lines[0].split(" ")
    except (IndexError, ValueError):
        raise _BadRequest("malformed request line") from None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise _BadRequest("malformed header line")
        headers[name.strip().lower()] = value.strip()
    if headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = await _read_chunked(reader)
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise _BadRequest("bad Content-Length") from None
        if length < 0 or length > _MAX_BODY_BYTES:
            raise _BadRequest("bad Content-Length")
        body = await reader.readexactly(length) if length > 0 else b""
    connection = headers.get("connection", "").lower()
    keep_alive = connection != "close" if version == "HTTP/1.1" else connection == "keep-alive"
    raw_path = target.split("?", 1)[0]
    if raw_path.startswith(("http://", "https://")):
        raw_path = "/" + raw_path.split("/", 3)[-1] if raw_path.count("/") >= 3 else "/"
    return Request(method, unquote(raw_path), headers, body), keep_alive


async def _read_line(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n")
    except asyncio.LimitOverrunError:
        raise _BadRequest("chunk line too long") from None


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = await _read_line(reader)
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise _BadRequest("bad chunk size") from None
        if size < 0:
            raise _BadRequest("bad chunk size")
        total += size
        if total > _MAX_BODY_BYTES:
            raise _BadRequest("request body too large")
        if size == 0:
            while (await _read_line(reader)) != b"\r\n":
                pass
            return b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def _write(writer: asyncio.StreamWriter, response: Response, keep_alive: bool) -> None:
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {response.status} {reason}"]
    lines += [f"{name}: {value}" for name, value in response.headers]
    lines.append(f"Date: {formatdate(usegmt=True)}")
    if response.status != 204:
        lines.append(f"Content-Length: {len(response.body)}")
    if not keep_alive:
        lines.append("Connection: close")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + response.body)
