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
