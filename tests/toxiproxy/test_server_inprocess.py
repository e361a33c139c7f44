"""The embedded server's in-process API: ``ToxiproxyServer`` and ``serve_in_thread``."""

from __future__ import annotations

import asyncio
import socket
import urllib.request

import pytest

from chaos.toxiproxy import ToxiproxyServer, serve_in_thread
from tests.toxiproxy._server_support import (
    Api,
    EchoServer,
    connect,
    echo,
    recv_until_closed,
    round_trip,
)

__all__ = ["echo"]  # fixtures used by this module


def test_toxiproxy_server_async_api(echo: EchoServer) -> None:
    async def scenario() -> tuple[str, bytes]:
        async with ToxiproxyServer(port=0, seed=3) as server:
            url = server.url
            body = await asyncio.to_thread(
                lambda: urllib.request.urlopen(url + "/version", timeout=5).read()
            )
        return url, body

    url, body = asyncio.run(scenario())
    assert url.startswith("http://127.0.0.1:")
    assert body == b'{"version": "2.12.0"}\n'
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def test_serve_in_thread_stop_closes_everything(echo: EchoServer) -> None:
    handle = serve_in_thread()
    client = Api(handle.url)
    proxy = client.create("stop", echo.address)
    with connect(proxy["listen"]) as sock:
        round_trip(sock)
        handle.stop()
        assert recv_until_closed(sock, 5)[0] == b""
    for address in (proxy["listen"], handle.url.removeprefix("http://")):
        host, port = address.rsplit(":", 1)
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, int(port)), timeout=2)
    handle.stop()  # twice is fine


def test_serve_in_thread_bind_error_is_raised() -> None:
    holder = socket.create_server(("127.0.0.1", 0))
    try:
        with pytest.raises(OSError, match="in use"):
            serve_in_thread(port=holder.getsockname()[1])
    finally:
        holder.close()


@pytest.mark.slow
def test_no_connection_is_leaked_under_toggle_churn(echo: EchoServer) -> None:
    """Connections accepted while a proxy stops are closed and forgotten, not leaked."""
    import threading
    import time

    with serve_in_thread(seed=11) as handle:
        client = Api(handle.url)
        proxy = client.create("churn", echo.address)
        stop = time.monotonic() + 1.5

        def connections() -> None:
            while time.monotonic() < stop:
                try:
                    with connect(proxy["listen"], timeout=2) as sock:
                        sock.sendall(b"x")
                        sock.recv(1)
                except OSError:
                    pass

        workers = [threading.Thread(target=connections) for _ in range(4)]
        for worker in workers:
            worker.start()
        while time.monotonic() < stop:
            client.request("PATCH", f"/proxies/{proxy['name']}", {"enabled": False})
            client.request("PATCH", f"/proxies/{proxy['name']}", {"enabled": True})
        for worker in workers:
            worker.join(10)
        state = handle.server.api.proxies[proxy["name"]]
        deadline = time.monotonic() + 5
        while state.connections and time.monotonic() < deadline:
            time.sleep(0.05)
        assert state.connections == set()


def test_stop_with_open_api_connections_is_quiet(
    echo: EchoServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Keep-alive and idle API connections end cleanly: asyncio logs no error."""
    import http.client

    for _ in range(3):
        handle = serve_in_thread()
        host, port = handle.url.removeprefix("http://").split(":")
        keep_alive = http.client.HTTPConnection(host, int(port), timeout=5)
        keep_alive.request("GET", "/proxies")
        keep_alive.getresponse().read()
        idle = socket.create_connection((host, int(port)), timeout=5)
        handle.stop()
        keep_alive.close()
        idle.close()
    assert [r for r in caplog.records if r.name == "asyncio"] == []
