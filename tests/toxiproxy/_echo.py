"""Small real-socket helpers for the Toxiproxy client, backend and docker tests."""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator


class EchoServer:
    """A TCP echo server on 127.0.0.1 and an ephemeral port, one thread per connection."""

    def __init__(self, prefix: bytes = b"") -> None:
        self.prefix = prefix
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._echo, args=(conn,), daemon=True).start()

    def _echo(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        with conn, contextlib.suppress(OSError):
            while data := conn.recv(65536):
                conn.sendall(self.prefix + data)

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(5)


@contextlib.contextmanager
def echo_server(prefix: bytes = b"") -> Iterator[EchoServer]:
    server = EchoServer(prefix)
    try:
        yield server
    finally:
        server.close()


def roundtrip(address: str, payload: bytes = b"ping", timeout: float = 10.0) -> tuple[bytes, float]:
    """Send ``payload`` to ``host:port`` and read until as many bytes came back.

    :returns: what came back and how long it took, in seconds.
    """
    host, _, port = address.rpartition(":")
    host = "127.0.0.1" if host in ("", "0.0.0.0", "[::]") else host.strip("[]")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        sock.sendall(payload)
        received = b""
        while len(received) < len(payload):
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return received, time.monotonic() - started


def pid_alive(pid: int) -> bool:
    """Whether a process exists (zombies count as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def pids_with_arg(fragment: str) -> list[int]:
    """Live processes whose command line contains ``fragment`` (Linux /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue
        if fragment in cmdline and pid_alive(int(entry)):
            found.append(int(entry))
    return found


def wait_until(predicate, timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll ``predicate`` until it is true or ``timeout`` seconds passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
