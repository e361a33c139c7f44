"""A lean HTTP/1.1 server connection on a raw asyncio protocol, with full control of the bytes.

No framework: a fault gateway must be able to send a chunked body without its
terminator, reset a connection, or never answer, and a framework forbids all
three. :class:`Connection` parses requests (content-length and chunked bodies,
``Expect: 100-continue``, keep-alive and pipelining), hands each complete one to
its :class:`Handler`, and offers the writing primitives the fault actions use.
Requests on one connection are answered strictly in order.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Coroutine
from http import HTTPStatus
from typing import Any, Protocol, cast

from chaos.providers._base import Request

__all__ = [
    "MAX_BODY",
    "MAX_HEAD",
    "REQUEST_TIMEOUT",
    "Connection",
    "Handler",
    "parse_request",
    "status_line",
]

MAX_HEAD = 64 * 1024
"""Largest request line + headers accepted; more is answered 431."""
MAX_BODY = 32 * 1024 * 1024
"""Largest request body accepted; more is answered 413."""
REQUEST_TIMEOUT = 30.0
"""Seconds from a request's first byte to its last; a slower one (a slowloris client)
is answered 408 and the connection closed. Idle keep-alive connections are not timed."""

_REASONS: dict[int, bytes] = {s.value: s.phrase.encode() for s in HTTPStatus}
_REASONS.update({520: b"", 522: b"", 524: b"", 529: b"", 530: b""})
_STATUS_LINES: dict[int, bytes] = {}
_LINGER_RST = struct.pack("ii", 1, 0)
_SPECIAL = frozenset({"content-length", "transfer-encoding", "connection", "expect"})
_SPECIAL_LENGTHS = frozenset(len(name) for name in _SPECIAL)
_VERSIONS = {"HTTP/1.1": b"HTTP/1.1", "HTTP/1.0": b"HTTP/1.0"}


def status_line(status: int, version: bytes = b"HTTP/1.1") -> bytes:
    """``HTTP/1.1 529 \\r\\n``-style status line (cached for HTTP/1.1)."""
    if version == b"HTTP/1.1":
        line = _STATUS_LINES.get(status)
        if line is None:
            line = b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b""))
            _STATUS_LINES[status] = line
        return line
    return b"%s %d %s\r\n" % (version, status, _REASONS.get(status, b""))


class Handler(Protocol):
    """What a listener does with each complete request."""

    def on_request(self, conn: Connection, request: Request) -> Coroutine[Any, Any, None] | None:
        """Answer ``request``: return None if it was answered already, else a coroutine to run."""


class _BadRequest(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


class Connection(asyncio.Protocol):
    """One client connection: request parser plus the response-writing primitives."""

    def __init__(self, handler: Handler, registry: set[Connection]) -> None:
        self.handler = handler
        self._registry = registry
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[Any, ...] | None = None
        self._buf = bytearray()
        self._busy = False
        self._closed = False
        self._eof = False
        self._closed_waiter: asyncio.Future[None] | None = None
        self._drain_waiter: asyncio.Future[None] | None = None
        self._paused = False
        self._pending: list[bytes] = []
        self._continue_sent = False
        self._task: asyncio.Task[None] | None = None
        self._request_timer: asyncio.TimerHandle | None = None
        # per-request state, valid while a request is being answered
        self.version = b"HTTP/1.1"
        self.keep_alive = True
        self.head_only = False
        self.bytes_out = 0

    # -- asyncio.Protocol ---------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as such
        self.transport = cast("asyncio.Transport", transport)
        self.peer = transport.get_extra_info("peername")
        self._registry.add(self)
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._registry.discard(self)
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None
        for waiter in (self._closed_waiter, self._drain_waiter):
            if waiter is not None and not waiter.done():
                waiter.set_result(None)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        waiter = self._drain_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if not self._busy:
            self._pump()
        elif len(self._buf) > MAX_HEAD + MAX_BODY and self.transport is not None:
            self.transport.pause_reading()

    def eof_received(self) -> bool | None:
        # The client closed its side. HTTP clients do that only when they give up,
        # so a hanging or stalled answer ends here; one being written still completes
        # (the socket is half-open), then the connection closes. Bytes of a request
        # that can no longer complete are dropped with the connection (else it is
        # kept forever).
        self.keep_alive = False
        waiter = self._closed_waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
        self._eof = True
        return self._busy

    # -- request side -------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether the connection is gone (closed by either side, or the client's side)."""
        return self._closed or self._eof

    def _pump(self) -> None:
        while not self._busy and not self._closed:
            try:
                request = self._parse()
            except _BadRequest as exc:
                self._refuse(exc.status, str(exc))
                return
            if request is None:
                if self._buf and self._request_timer is None:
                    # the clock runs from the request's first byte, not the last one, so
                    # a client dripping a byte at a time cannot hold the connection
                    self._request_timer = asyncio.get_running_loop().call_later(
                        REQUEST_TIMEOUT, self._request_timed_out
                    )
                return
            if self._request_timer is not None:
                self._request_timer.cancel()
                self._request_timer = None
            self._busy = True
            coro = self.handler.on_request(self, request)
            if coro is None:
                self._done()
            else:
                task = asyncio.get_running_loop().create_task(self._run(coro))
                # a task cancelled before its first step (shutdown) never awaits ``coro``
                task.add_done_callback(lambda _, c=coro: c.close())  # type: ignore[misc]
                self._task = task

    async def _run(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        finally:
            self._task = None
            self._done()

    def _done(self) -> None:
        self._busy = False
        if self._closed:
            return
        if not self.keep_alive or (self._eof and not self._buf):
            self.close()
            return
        if self.transport is not None and not self.transport.is_reading():
            self.transport.resume_reading()
        if self._buf:
            self._pump()

    def _parse(self) -> Request | None:
        buf = self._buf
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            if len(buf) > MAX_HEAD:
                raise _BadRequest(431, "request header fields too large")
            while buf[:2] == b"\r\n":  # tolerated stray CRLF between requests
                del buf[:2]
            return None
        if end > MAX_HEAD:
            raise _BadRequest(431, "request header fields too large")
        lines = buf[:end].decode("latin-1").split("\r\n")
        try:
            method, target, version = lines[0].split(" ")
        except ValueError:
            raise _BadRequest(400, "malformed request line") from None
        if version not in ("HTTP/1.1", "HTTP/1.0") or not method.isalpha():
            raise _BadRequest(400, "unsupported HTTP version or method")
        headers: list[tuple[str, str]] = []
        length = 0
        chunked = False
        expect = False
        keep_alive = version == "HTTP/1.1"
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise _BadRequest(400, "malformed header line")
            value = value.strip()
            headers.append((name, value))
            if len(name) not in _SPECIAL_LENGTHS:  # skips lower-casing most names
                continue
            lname = name.lower()
            if lname in _SPECIAL:
                if lname == "content-length":
                    if not value.isdigit():
                        raise _BadRequest(400, "invalid content-length")
                    length = int(value)
                elif lname == "transfer-encoding":
                    chunked = value.lower().endswith("chunked")
                    if not chunked:
                        raise _BadRequest(400, "unsupported transfer-encoding")
                elif lname == "connection":
                    token = value.lower()
                    if token == "close":
                        keep_alive = False
                    elif token == "keep-alive":
                        keep_alive = True
                elif value.lower() == "100-continue":
                    expect = True
        start = end + 4
        if chunked:
            parsed = self._parse_chunked(start)
            if parsed is None:
                self._maybe_continue(expect)
                return None
            body, consumed = parsed
        else:
            if length > MAX_BODY:
                raise _BadRequest(413, "request body too large")
            if len(buf) - start < length:
                self._maybe_continue(expect)
                return None
            body = bytes(buf[start : start + length])
            consumed = start + length
        del buf[:consumed]
        self._continue_sent = False
        self.version = _VERSIONS[version]
        self.keep_alive = keep_alive
        self.head_only = method == "HEAD"
        self.bytes_out = 0
        return Request(method, target, headers, body)

    def _parse_chunked(self, pos: int) -> tuple[bytes, int] | None:
        buf = self._buf
        parts: list[bytes] = []
        total = 0
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return None
            size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise _BadRequest(400, "invalid chunk size") from None
            total += size
            if total > MAX_BODY:
                raise _BadRequest(413, "request body too large")
            pos = eol + 2
            if size == 0:
                # skip trailers up to the blank line
                while True:
                    eol = buf.find(b"\r\n", pos)
                    if eol < 0:
                        return None
                    if eol == pos:
                        return b"".join(parts), eol + 2
                    pos = eol + 2
            if len(buf) < pos + size + 2:
                return None
            parts.append(bytes(buf[pos : pos + size]))
            if buf[pos + size : pos + size + 2] != b"\r\n":
                raise _BadRequest(400, "chunk not terminated by CRLF")
            pos += size + 2

    def _maybe_continue(self, expect: bool) -> None:
        if expect and not self._continue_sent and self.transport is not None:
            self._continue_sent = True
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _request_timed_out(self) -> None:
        self._request_timer = None
        if not (self._busy or self._closed) and self._buf:
            self._refuse(
                408, f"request timeout: the request did not arrive within {REQUEST_TIMEOUT:g} s"
            )

    def _refuse(self, status: int, reason: str) -> None:
        body = reason.encode() + b"\n"
        self.write(
            status_line(status)
            + b"content-type: text/plain\r\ncontent-length: %d\r\nconnection: close\r\n\r\n"
            % len(body)
            + body
        )
        self.close()

    # -- response side ------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Write raw bytes now (with anything :meth:`write_soon` still holds, in one send);
        a no-op once the connection is gone."""
        if self._closed or self.transport is None:
            return
        self.bytes_out += len(data)
        if self._pending:
            self._pending.append(data)
            self._flush()
        else:
            self.transport.write(data)

    def write_soon(self, data: bytes) -> None:
        """Write ``data`` as soon as the current task yields to the event loop.

        Frames produced back to back (a fake stream with no pacing) leave in one
        send; a frame followed by any wait (a token delay, the upstream) leaves at
        once, alone: nothing is ever held back while the gateway is idle.
        """
        if self._closed:
            return
        if not self._pending:
            asyncio.get_running_loop().call_soon(self._flush)
        self._pending.append(data)
        self.bytes_out += len(data)

    def _flush(self) -> None:
        pending, self._pending = self._pending, []
        if pending and not self._closed and self.transport is not None:
            self.transport.write(b"".join(pending))

    async def drain(self) -> None:
        """Wait until the kernel took what was written (flow control)."""
        if len(self._pending) >= 64:
            self._flush()
        if self._paused and not self._closed:
            self._drain_waiter = asyncio.get_running_loop().create_future()
            await self._drain_waiter

    async def wait_closed(self) -> None:
        """Wait until the client closes the connection (or its side of it), or the gateway
        shuts down."""
        if self._closed or self._eof:
            return
        if self._closed_waiter is None:
            self._closed_waiter = asyncio.get_running_loop().create_future()
        await self._closed_waiter

    def close(self) -> None:
        """Close gracefully (FIN after what was written)."""
        self.keep_alive = False
        if self._pending:
            self._flush()
        if self.transport is not None and not self.transport.is_closing():
            self.transport.close()

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0, then close)."""
        self.keep_alive = False
        if self.transport is None or self._closed:
            return
        if self._pending:
            self._flush()
        sock = self.transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RST)
        self.transport.abort()

    def abort(self) -> None:
        """Drop the connection now, discarding anything unsent (used at shutdown)."""
        if self.transport is not None:
            self.transport.abort()
        if self._task is not None:
            self._task.cancel()


class _Unanswered:
    def on_request(self, conn: Connection, request: Request) -> None:
        return None


def parse_request(data: bytes) -> Request | None:
    """The first request in ``data`` (bytes a client sent), read as a :class:`Connection`
    reads it; None when ``data`` holds no complete, well-formed request (the network
    plane reads with it what a refused connection had asked)."""
    conn = Connection(_Unanswered(), set())
    conn._buf = bytearray(data)
    try:
        return conn._parse()
    except _BadRequest:
        return None
