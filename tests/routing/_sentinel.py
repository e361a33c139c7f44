"""A loopback sentinel: it stands for a real provider and counts what reaches it."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


class Sentinel:
    """A TCP server on 127.0.0.1 that counts connections and bytes, answers nothing and
    closes: any client that reaches it fails, and the count says it got there."""

    def __init__(self) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.connections = 0
        self.received = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            with conn, contextlib.suppress(OSError):
                conn.settimeout(1)
                with contextlib.suppress(TimeoutError):
                    data = conn.recv(65536)
                    with self._lock:
                        self.received += len(data)

    def close(self) -> None:
        self._stop.set()
        self._sock.close()
        self._thread.join(5)


@contextlib.contextmanager
def sentinel() -> Iterator[Sentinel]:
    """A running :class:`Sentinel`, closed afterwards."""
    server = Sentinel()
    try:
        yield server
    finally:
        server.close()
