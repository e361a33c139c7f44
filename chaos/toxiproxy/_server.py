"""The embedded Toxiproxy-compatible server, in process: :class:`ToxiproxyServer`
(asyncio) and :func:`serve_in_thread` (its own loop in a daemon thread).

Standard library only, so ``python3 -m chaos.toxiproxy`` runs on a bare interpreter.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import random
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from chaos.toxiproxy._server_api import TOXIPROXY_VERSION, ToxiproxyApi
from chaos.toxiproxy._server_http import HttpServer
from chaos.toxiproxy._server_json import GoDecodeError, decode_body
from chaos.toxiproxy._server_proxy import ApiError

__all__ = ["ServerThread", "ToxiproxyServer", "serve_in_thread"]

log = logging.getLogger("chaos.toxiproxy.server")
# a library stays quiet unless the application configures logging (the CLI does)
log.addHandler(logging.NullHandler())


class ToxiproxyServer:
    """A Toxiproxy 2.12-compatible server (REST API and proxies) on the running loop.

    :param host: the API's address (default loopback only).
    :param port: the API's port; 0 picks a free one (see :attr:`url`).
    :param seed: seeds toxicity draws, latency jitter, slicer sizes and packet
        loss, so a run can be repeated; ``None`` picks one (see :attr:`seed`).

    Use ``await server.start()`` / ``await server.stop()``, or ``async with``.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None) -> None:
        self.host = host
        self.port = port
        self.seed: int = seed if seed is not None else time.time_ns()
        self.api = ToxiproxyApi(random.Random(self.seed))
        self._http = HttpServer(self.api.handle)
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        """The API's base URL, e.g. ``http://127.0.0.1:8474``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Bind the API and start serving.

        :raises OSError: when the address cannot be bound (``strerror`` says why).
        """
        infos = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
        family, _, _, _, address = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(128)
            sock.setblocking(False)
            await self._http.start(sock)
        except BaseException:
            sock.close()
            raise
        self._sock = sock
        self.port = int(sock.getsockname()[1])
        log.info(
            "Starting Toxiproxy HTTP server",
            extra={
                "fields": {
                    "host": self.host,
                    "port": self.port,
                    "version": TOXIPROXY_VERSION,
                    "seed": self.seed,
                }
            },
        )

    async def stop(self) -> None:
        """Close every proxy and connection, then the API."""
        self.api.stop_all()
        await self.api.wait_closed()
        await self._http.close()
        self._sock = None

    async def populate_file(self, path: str | Path) -> None:
        """Create proxies from a JSON file (``-config``); problems are logged, not raised."""
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            log.error(
                "Error reading config file",
                extra={"fields": {"config": str(path), "error": str(exc)}},
            )
            return
        try:
            created, error = await self.api.populate_value(decode_body(data))
        except GoDecodeError as exc:
            created, error = [], ApiError(f"bad request body: {exc}", 400)
        except ApiError as exc:
            created, error = [], exc
        if error is not None:
            log.error(
                "Failed to populate proxies from file",
                extra={"fields": {"config": str(path), "error": error.message}},
            )
        else:
            log.info(
                "Populated proxies from file",
                extra={"fields": {"config": str(path), "proxies": len(created)}},
            )

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()


class ServerThread:
    """A :class:`ToxiproxyServer` running on its own event loop in a daemon thread.

    Made by :func:`serve_in_thread`; :meth:`stop` (or leaving the ``with``
    block) closes every proxy, connection and the API, then ends the thread.
    """

    def __init__(self, server: ToxiproxyServer) -> None:
        self.server = server
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="toxiproxy-server", daemon=True)
        self._ready: concurrent.futures.Future[None] = concurrent.futures.Future()
        self._stopped = False

    @property
    def url(self) -> str:
        """The API's base URL."""
        return self.server.url

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_until_complete(self.server.start())
        except BaseException as exc:
            self._ready.set_exception(exc)
            self.loop.close()
            return
        self._ready.set_result(None)
        try:
            self.loop.run_forever()
        finally:
            self.loop.run_until_complete(self.server.stop())
            pending = asyncio.all_tasks(self.loop)
            for task in pending:
                task.cancel()
            if pending:
                self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self.loop.run_until_complete(self.loop.shutdown_asyncgens())
            self.loop.close()

    def start(self, timeout: float = 10.0) -> None:
        """Start the thread and wait until the API listens (re-raises a bind error)."""
        self._thread.start()
        self._ready.result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server and its thread; safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        if self._thread.is_alive():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def serve_in_thread(
    host: str = "127.0.0.1", port: int = 0, seed: int | None = None
) -> ServerThread:
    """Start an embedded Toxiproxy server in a daemon thread and return its handle.

    :param host: the API's address (default loopback only).
    :param port: the API's port; 0 picks a free one (read it from ``handle.url``).
    :param seed: makes toxicity draws and jitter repeatable.
    :raises OSError: when the API cannot bind.

    ``handle.url`` is the base URL; ``handle.stop()`` closes everything::

        with serve_in_thread() as toxiproxy:
            requests.post(toxiproxy.url + "/proxies", json={...})
    """
    handle = ServerThread(ToxiproxyServer(host, port, seed))
    handle.start()
    return handle
