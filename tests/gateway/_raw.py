"""Raw-socket helpers: see exactly the bytes the gateway writes."""

from __future__ import annotations

import socket
import time
from urllib.parse import urlsplit


def connect(url: str, timeout: float = 5.0) -> socket.socket:
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    return sock


def read_until(sock: socket.socket, marker: bytes, limit: float = 5.0) -> bytes:
    """Read until ``marker`` is in the data (or the peer closes / ``limit`` seconds pass)."""
    data = b""
    deadline = time.monotonic() + limit
    while marker not in data and time.monotonic() < deadline:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    return data


def read_all(sock: socket.socket, limit: float = 5.0) -> tuple[bytes, str]:
    """Read until the peer closes: (data, "eof" | "reset" | "timeout")."""
    data = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, "reset"
        except TimeoutError:
            return data, "timeout"
        if not chunk:
            return data, "eof"
        data += chunk
    return data, "timeout"


def request(
    method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "host: test"]
    for k, v in (headers or {}).items():
        lines.append(f"{k}: {v}")
    if body or method == "POST":
        lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
