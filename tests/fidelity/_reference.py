"""A raw HTTP/1.1 server that replays recorded provider bytes: the real API's side of the
differential tests.

It knows nothing of ``chaos``. Each attempt it receives gets one :data:`Plan`: a recorded
answer, a recorded stream (whole, cut, ended early, stalled, or with the provider's in-stream
error), or a wire event (hang, RST, FIN, a body cut short). Every attempt is counted with its
arrival time, so the tests compare what the SDK did, not what it said.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tests.fidelity._recorded import Recorded, RecordedStream

LIMIT = 10.0  # no connection of this server lives longer than this


@dataclass(frozen=True)
class Answer:
    """Send a recorded answer (content-length framed), after ``delay`` seconds, in
    ``chunk``-byte pieces ``interval`` seconds apart when ``chunk`` is set (a slow body)."""

    recorded: Recorded
    delay: float = 0.0
    chunk: int | None = None
    interval: float = 0.0


@dataclass(frozen=True)
class Stream:
    """Send a recorded stream, chunked. ``cut_after``: drop the connection after N events
    (no terminating chunk); ``end_after``: end cleanly after N events; ``stall_after``: stop
    sending after N events and hold the connection; ``error_after``: send the provider's
    in-stream error event after N events, then end."""

    recorded: RecordedStream
    cut_after: int | None = None
    end_after: int | None = None
    stall_after: int | None = None
    error_after: int | None = None
    delay: float = 0.0  # seconds between events


@dataclass(frozen=True)
class Wire:
    """``hang``: never answer; ``reset``: RST before any byte; ``close``: FIN before any
    byte; ``truncate``: headers and part of the body, then FIN; ``malformed``: a 200 whose
    body is not JSON; ``limit``: the first ``limit`` bytes of the answer, then FIN."""

    mode: str
    recorded: Recorded | None = None
    limit: int = 0


Plan = Answer | Stream | Wire


@dataclass
class Attempt:
    """One request as the server saw it."""

    time: float
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)


class ReferenceServer:
    """Serve ``plan(attempt_number)`` to each request, on 127.0.0.1, in a thread."""

    def __init__(self, plan: Callable[[int], Plan]) -> None:
        self.plan = plan
        self.attempts: list[Attempt] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> ReferenceServer:
        self._acceptor.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._acceptor.join(5)
        for t in self._threads:
            t.join(LIMIT + 1)
        for conn in self._conns:
            conn.close()
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self._conns.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(0.1)
        deadline = time.monotonic() + LIMIT
        buf = b""
        try:
            while time.monotonic() < deadline and not self._stop.is_set():
                head, buf = self._read_head(conn, buf, deadline)
                if head is None:
                    return
                first, *lines = head.decode("latin-1").split("\r\n")
                method, path, _ = first.split(" ", 2)
                headers = {}
                for line in lines:
                    name, _, value = line.partition(":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                while len(buf) < length and time.monotonic() < deadline:
                    chunk = self._recv(conn)
                    if chunk == b"":
                        return
                    buf += chunk or b""
                buf = buf[length:]
                with self._lock:
                    number = len(self.attempts)
                    self.attempts.append(Attempt(time.monotonic(), method, path, headers))
                if not self._answer(conn, self.plan(number), deadline):
                    return
        except OSError:
            return
        finally:
            conn.close()

    def _recv(self, conn: socket.socket) -> bytes | None:
        try:
            return conn.recv(65536)
        except TimeoutError:
            return None

    def _read_head(
        self, conn: socket.socket, buf: bytes, deadline: float
    ) -> tuple[bytes | None, bytes]:
        while b"\r\n\r\n" not in buf:
            if time.monotonic() > deadline or self._stop.is_set():
                return None, buf
            chunk = self._recv(conn)
            if chunk == b"":
                return None, buf
            buf += chunk or b""
        head, _, rest = buf.partition(b"\r\n\r\n")
        return head, rest

    def _hold(self, conn: socket.socket, deadline: float) -> None:
        """Keep the connection open, sending nothing, until the client gives up."""
        while time.monotonic() < deadline and not self._stop.is_set():
            if self._recv(conn) == b"":
                return

    def _answer(self, conn: socket.socket, plan: Plan, deadline: float) -> bool:
        """Send one answer; True when the connection stays usable (keep-alive)."""
        if isinstance(plan, Answer):
            rec = plan.recorded
            time.sleep(plan.delay)
            data = _head(rec.status, rec.headers, len(rec.body)) + rec.body
            step = plan.chunk or len(data)
            for i in range(0, len(data), step):
                if i:
                    time.sleep(plan.interval)
                conn.sendall(data[i : i + step])
            return True
        if isinstance(plan, Wire):
            return self._wire(conn, plan, deadline)
        rec = plan.recorded
        head = _head(200, rec.headers, None)
        events = list(rec.events)
        stop = len(events)
        for limit in (plan.cut_after, plan.end_after, plan.stall_after, plan.error_after):
            if limit is not None:
                stop = min(stop, limit)
        conn.sendall(head)
        for event in events[:stop]:
            time.sleep(plan.delay)
            conn.sendall(_chunk(event))
        if plan.cut_after is not None:
            return False
        if plan.stall_after is not None:
            self._hold(conn, deadline)
            return False
        if plan.error_after is not None:
            conn.sendall(_chunk(rec.error_event))
        conn.sendall(b"0\r\n\r\n")
        return True

    def _wire(self, conn: socket.socket, plan: Wire, deadline: float) -> bool:
        if plan.mode == "hang":
            self._hold(conn, deadline)
        elif plan.mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif plan.mode == "truncate" and plan.recorded is not None:
            rec = plan.recorded
            conn.sendall(
                _head(rec.status, rec.headers, len(rec.body)) + rec.body[: len(rec.body) // 2]
            )
        elif plan.mode == "limit" and plan.recorded is not None:
            rec = plan.recorded
            conn.sendall((_head(rec.status, rec.headers, len(rec.body)) + rec.body)[: plan.limit])
        elif plan.mode == "malformed":
            body = b'{"type":"message","content":[{"type":"te'
            conn.sendall(_head(200, (("content-type", "application/json"),), len(body)) + body)
            return True
        conn.close()
        return False


def _head(status: int, headers: tuple[tuple[str, str], ...], length: int | None) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    lines += [f"{k}: {v}" for k, v in headers]
    lines.append("transfer-encoding: chunked" if length is None else f"content-length: {length}")
    lines.append("connection: keep-alive")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    529: "",
}


def refused_url() -> str:
    """A loopback URL on which nothing listens: a provider that is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"
