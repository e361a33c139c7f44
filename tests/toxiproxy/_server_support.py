"""Shared parts of the Toxiproxy parity suite (``test_parity_*.py``, ``test_server_*.py``).

The suite runs against the embedded server (one per test module, seeded) or,
unchanged, against any Toxiproxy named by ``TOXIPROXY_URL``; tests of the
embedded server's deliberate differences are marked :data:`embedded_only`.
Everything uses real sockets on 127.0.0.1 with ephemeral ports.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

EXTERNAL_URL = os.environ.get("TOXIPROXY_URL", "")

embedded_only = pytest.mark.skipif(
    bool(EXTERNAL_URL),
    reason="checks a deliberate difference of the embedded server (TOXIPROXY_URL is set)",
)


class Answer:
    """One HTTP answer: status, headers (lower-cased names), raw body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<Answer {self.status} {self.body[:200]!r}>"


class Api:
    """Raw HTTP to a Toxiproxy API; remembers proxies it created and deletes them."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.url = url
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 8474
        self.prefix = f"t{uuid.uuid4().hex[:8]}_"
        self.created: set[str] = set()

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        try:
            data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
            conn.request(method, path, body=data, headers=headers or {})
            resp = conn.getresponse()
            payload = resp.read()
            found = {name.lower(): value for name, value in resp.getheaders()}
            return Answer(resp.status, found, payload)
        finally:
            conn.close()

    def name(self, base: str = "p") -> str:
        return self.prefix + base

    def create(self, base: str, upstream: str, **extra: Any) -> dict[str, Any]:
        name = self.name(base)
        answer = self.request(
            "POST",
            "/proxies",
            {"name": name, "upstream": upstream, "listen": "127.0.0.1:0", **extra},
        )
        assert answer.status == 201, answer
        self.created.add(name)
        return answer.json()

    def add_toxic(self, proxy: str, **toxic: Any) -> dict[str, Any]:
        answer = self.request("POST", f"/proxies/{proxy}/toxics", toxic)
        assert answer.status == 200, answer
        return answer.json()

    def cleanup(self) -> None:
        for name in list(self.created):
            self.request("DELETE", f"/proxies/{name}")
        self.created.clear()


@pytest.fixture(scope="module")
def toxiproxy_url() -> Iterator[str]:
    """The server under test: ``TOXIPROXY_URL`` or a fresh embedded one (seeded)."""
    if EXTERNAL_URL:
        yield EXTERNAL_URL.rstrip("/")
        return
    from chaos.toxiproxy import serve_in_thread

    handle = serve_in_thread(seed=1234)
    try:
        yield handle.url
    finally:
        handle.stop()


@pytest.fixture
def api(toxiproxy_url: str) -> Iterator[Api]:
    """Raw HTTP client; proxies it creates are deleted after the test."""
    client = Api(toxiproxy_url)
    try:
        yield client
    finally:
        client.cleanup()


class EchoServer:
    """TCP echo on 127.0.0.1:0 (a thread per connection); records what it saw."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        conn.settimeout(15)
        with conn:
            try:
                while data := conn.recv(65536):
                    conn.sendall(data)
            except OSError as exc:
                self.errors.append(exc)

    def close(self) -> None:
        self._stop.set()
        self.sock.close()
        self._thread.join(5)


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    """An echo server upstream."""
    server = EchoServer()
    try:
        yield server
    finally:
        server.close()


def connect(listen: str, timeout: float = 10.0) -> socket.socket:
    """A client socket to a proxy's ``listen`` address."""
    host, _, port = listen.rpartition(":")
    if host in ("", "[::]", "0.0.0.0"):
        host = "127.0.0.1"
    sock = socket.create_connection((host.strip("[]"), int(port)), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    """Read ``size`` bytes (fewer only at EOF)."""
    parts: list[bytes] = []
    got = 0
    while got < size:
        data = sock.recv(min(65536, size - got))
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def round_trip(sock: socket.socket, payload: bytes = b"ping") -> float:
    """Send ``payload``, read it back; seconds taken."""
    start = time.perf_counter()
    sock.sendall(payload)
    back = recv_exactly(sock, len(payload))
    assert back == payload
    return time.perf_counter() - start


def recv_until_closed(sock: socket.socket, limit: float = 10.0) -> tuple[bytes, float]:
    """Read until EOF; the bytes and the seconds it took."""
    start = time.perf_counter()
    parts: list[bytes] = []
    sock.settimeout(limit)
    while data := sock.recv(65536):
        parts.append(data)
    return b"".join(parts), time.perf_counter() - start
