"""toxiproxy-python 0.1.1, unchanged, against the server under test.

The library keeps its host and port in global class attributes
(``APIConsumer.host``/``.port``): each test sets them and restores them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from toxiproxy import Toxiproxy
from toxiproxy.api import APIConsumer
from toxiproxy.exceptions import InvalidToxic, NotFound, ProxyExists

from tests.toxiproxy._server_support import (
    EchoServer,
    connect,
    echo,
    recv_until_closed,
    round_trip,
    toxiproxy_url,
)

__all__ = ["echo", "toxiproxy_url"]  # fixtures used by this module


@pytest.fixture
def toxiproxy(toxiproxy_url: str) -> Iterator[Toxiproxy]:
    """A toxiproxy-python client pointed at the server; its proxies are destroyed after."""
    parts = urlsplit(toxiproxy_url)
    saved = (APIConsumer.host, APIConsumer.port)
    APIConsumer.host, APIConsumer.port = parts.hostname, parts.port
    client = Toxiproxy()
    before = set(client.proxies())
    try:
        yield client
    finally:
        for name, proxy in client.proxies().items():
            if name not in before:
                proxy.destroy()
        APIConsumer.host, APIConsumer.port = saved


def test_running_and_version(toxiproxy: Toxiproxy) -> None:
    assert toxiproxy.running()
    version = toxiproxy.version()
    assert isinstance(version, bytes)
    assert version.startswith(b'{"version": "')


def test_create_latency_toxic_and_remove(toxiproxy: Toxiproxy, echo: EchoServer) -> None:
    proxy = toxiproxy.create(upstream=echo.address, name="tpy_latency")
    assert proxy.listen != "127.0.0.1:0"
    assert proxy.enabled is True
    with connect(proxy.listen) as sock:
        baseline = round_trip(sock)
        proxy.add_toxic(type="latency", attributes={"latency": 300})
        slowed = round_trip(sock)
        toxics = proxy.toxics()
        assert list(toxics) == ["latency_downstream"]
        toxic = proxy.get_toxic("latency_downstream")
        assert (toxic.type, toxic.stream, toxic.toxicity) == ("latency", "downstream", 1.0)
        assert toxic.attributes == {"latency": 300, "jitter": 0}
        assert proxy.destroy_toxic("latency_downstream")
        after = round_trip(sock)
    assert 0.28 <= slowed - baseline < 0.6, slowed
    assert after < 0.2


def test_disable_enable_and_down(toxiproxy: Toxiproxy, echo: EchoServer) -> None:
    proxy = toxiproxy.create(upstream=echo.address, name="tpy_down")
    proxy.disable()
    assert proxy.enabled is False
    assert toxiproxy.get_proxy("tpy_down").enabled is False
    with pytest.raises(ConnectionRefusedError):
        connect(proxy.listen, timeout=2)
    proxy.enable()
    with connect(proxy.listen) as sock:
        round_trip(sock)
        with proxy.down():
            assert recv_until_closed(sock, 5)[0] == b""
            with pytest.raises(ConnectionRefusedError):
                connect(proxy.listen, timeout=2)
    with connect(proxy.listen) as sock:
        round_trip(sock)


def test_library_errors_from_server_answers(toxiproxy: Toxiproxy, echo: EchoServer) -> None:
    proxy = toxiproxy.create(upstream=echo.address, name="tpy_errors")
    with pytest.raises(ProxyExists):
        toxiproxy.create(upstream=echo.address, name="tpy_errors")  # client-side check
    with pytest.raises(NotFound) as missing:
        proxy.destroy_toxic("absent")
    assert missing.value.args[0] == b'{"error":"toxic not found","status":404}\n'
    with pytest.raises(InvalidToxic) as invalid:
        proxy.add_toxic(type="bogus")
    assert invalid.value.args[0] == b'{"error":"invalid toxic type","status":400}\n'
    proxy.add_toxic(type="noop", name="twice")
    with pytest.raises(ProxyExists) as conflict:  # the library maps every 409 to ProxyExists
        proxy.add_toxic(type="noop", name="twice")
    assert conflict.value.args[0] == b'{"error":"toxic already exists","status":409}\n'


def test_client_side_populate_and_destroy(toxiproxy: Toxiproxy, echo: EchoServer) -> None:
    created = toxiproxy.populate(
        [
            {"name": "tpy_pop1", "upstream": echo.address, "listen": "127.0.0.1:0"},
            {"name": "tpy_pop2", "upstream": echo.address, "listen": "127.0.0.1:0"},
        ]
    )
    assert sorted(p.name for p in created) == ["tpy_pop1", "tpy_pop2"]
    proxies = toxiproxy.proxies()
    assert {"tpy_pop1", "tpy_pop2"} <= set(proxies)
    assert toxiproxy.destroy(proxies["tpy_pop1"])
    assert toxiproxy.get_proxy("tpy_pop1") is None


def test_toxic_on_upstream_with_toxicity(toxiproxy: Toxiproxy, echo: EchoServer) -> None:
    proxy = toxiproxy.create(upstream=echo.address, name="tpy_up")
    proxy.add_toxic(
        type="timeout", stream="upstream", toxicity=1.0, attributes={"timeout": 200}, name="cut"
    )
    with connect(proxy.listen) as sock:
        start = time.perf_counter()
        sock.sendall(b"x")
        data, _ = recv_until_closed(sock, 5)
    assert data == b""
    assert time.perf_counter() - start >= 0.15
    assert proxy.get_toxic("cut").stream == "upstream"
