"""Where the embedded server deliberately differs from Toxiproxy 2.12 (see docs/toxiproxy.md)."""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading

import pytest

from chaos.toxiproxy import serve_in_thread
from chaos.toxiproxy._events import ConnectionEvent
from tests.toxiproxy._server_support import (
    Api,
    EchoServer,
    api,
    connect,
    echo,
    embedded_only,
    recv_until_closed,
    round_trip,
    toxiproxy_url,
)

__all__ = ["api", "echo", "toxiproxy_url"]  # fixtures used by this module

pytestmark = embedded_only


def assert_error(answer, status: int, message: str) -> None:
    assert answer.status == status, answer
    assert (
        answer.body
        == json.dumps({"error": message, "status": status}, separators=(",", ":")).encode() + b"\n"
    )


@pytest.mark.parametrize(
    ("toxic", "message"),
    [
        (
            {"type": "bandwidth", "attributes": {"rate": -1}},
            "invalid attribute rate=-1 for toxic bandwidth: "
            "must be 0 or more (KB/s; 0 stalls the link)",
        ),
        (
            {"type": "slicer", "attributes": {"average_size": 0}},
            "invalid attribute average_size=0 for toxic slicer: must be 1 or more (bytes)",
        ),
        (
            {"type": "slicer", "attributes": {"average_size": 10, "size_variation": -2}},
            "invalid attribute size_variation=-2 for toxic slicer: must be 0 or more (bytes)",
        ),
    ],
)
def test_attributes_that_crash_toxiproxy_are_400(api: Api, toxic: dict, message: str) -> None:
    proxy = api.create("validate", "127.0.0.1:1")
    assert_error(api.request("POST", f"/proxies/{proxy['name']}/toxics", toxic), 400, message)
    assert api.request("GET", f"/proxies/{proxy['name']}/toxics").body == b"[]"


def test_update_to_a_crashing_value_is_400_and_keeps_old(api: Api) -> None:
    proxy = api.create("validate_upd", "127.0.0.1:1")
    api.add_toxic(proxy["name"], type="bandwidth", attributes={"rate": 10})
    answer = api.request(
        "PATCH",
        f"/proxies/{proxy['name']}/toxics/bandwidth_downstream",
        {"attributes": {"rate": -5}},
    )
    assert answer.status == 400
    shown = api.request("GET", f"/proxies/{proxy['name']}/toxics/bandwidth_downstream").json()
    assert shown["attributes"] == {"rate": 10}


def test_empty_listen_binds_loopback(api: Api) -> None:
    name = api.name("loop")
    api.created.add(name)
    answer = api.request("POST", "/proxies", {"name": name, "upstream": "127.0.0.1:1"})
    assert answer.status == 201
    host, _, port = answer.json()["listen"].rpartition(":")
    assert host == "127.0.0.1"
    assert int(port) > 0


def test_reset_peer_on_live_connection_sends_rst(api: Api, echo: EchoServer) -> None:
    proxy = api.create("rstlive", echo.address)
    with connect(proxy["listen"]) as sock:
        round_trip(sock)
        api.add_toxic(proxy["name"], type="reset_peer", attributes={"timeout": 0})
        sock.sendall(b"x")
        sock.settimeout(5)
        with pytest.raises(ConnectionResetError):
            recv_until_closed(sock, 5)


def affected_pattern(seed: int, echo: EchoServer, connections: int = 24) -> list[bool]:
    """Which connections a toxicity-0.5 ``timeout`` hits, on a fresh server seeded ``seed``."""
    with serve_in_thread(seed=seed) as server:
        client = Api(server.url)
        proxy = client.create("seeded", echo.address)
        client.add_toxic(proxy["name"], type="timeout", toxicity=0.5, attributes={"timeout": 1})
        pattern = []
        for _ in range(connections):
            with connect(proxy["listen"]) as sock:
                sock.sendall(b"?")
                pattern.append(sock.recv(10) == b"")  # closed at once, or echoed
        return pattern


def test_seed_makes_toxicity_draws_repeatable(echo: EchoServer) -> None:
    first = affected_pattern(7, echo)
    assert first == affected_pattern(7, echo)
    assert 0 < sum(first) < len(first)
    assert first != affected_pattern(8, echo)


def test_reset_peer_at_toxicity_zero_leaves_normal_closes_alone(api: Api, echo: EchoServer) -> None:
    """Toxiproxy sets SO_LINGER 0 on every connection opened while a reset_peer
    exists, even at toxicity 0, so normal closes become RSTs (issue #603)."""
    import time

    proxy = api.create("rst0", echo.address)
    api.add_toxic(proxy["name"], type="reset_peer", toxicity=0, attributes={"timeout": 0})
    with connect(proxy["listen"]) as sock:
        round_trip(sock)
    time.sleep(0.3)  # the upstream side sees the close
    assert echo.errors == []


def _resetting_upstream() -> tuple[socket.socket, threading.Thread]:
    """A listener that resets every connection once it has read something."""
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            conn, _ = listener.accept()
            conn.recv(100)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def test_an_upstream_reset_is_passed_on_as_a_reset(api: Api) -> None:
    """Toxiproxy 2.12 closes the client with a FIN when the upstream resets."""
    listener, thread = _resetting_upstream()
    with listener:
        host, port = listener.getsockname()
        proxy = api.create("rstpass", f"{host}:{port}")
        with connect(proxy["listen"]) as sock:
            sock.sendall(b"x")
            sock.settimeout(5)
            with pytest.raises(ConnectionResetError):
                recv_until_closed(sock, 5)
        thread.join(5)


def _send_then_read(sock: socket.socket, data: bytes) -> bytes:
    """Send ``data``, then read until the connection ends (the send may meet a reset too)."""
    sock.sendall(data)
    sock.settimeout(5)
    return recv_until_closed(sock, 5)[0]


def test_a_watched_disabled_proxy_resets_and_reports_what_it_turns_away(
    echo: EchoServer,
) -> None:
    events: list[ConnectionEvent] = []
    with serve_in_thread() as server:
        server.server.api.events.subscribe(events.append)
        client = Api(server.url)
        proxy = client.create("watched", echo.address)
        with connect(proxy["listen"]) as live:
            round_trip(live)
            disabled = client.request("PATCH", f"/proxies/{proxy['name']}", {"enabled": False})
            assert disabled.json()["enabled"] is False
            with connect(proxy["listen"]) as new, pytest.raises(ConnectionResetError):
                _send_then_read(new, b"?")
            # a live connection is reset when its client sends again
            with pytest.raises(ConnectionResetError):
                _send_then_read(live, b"again")
        assert [(e.proxy, e.kind) for e in events] == [(proxy["name"], "refused")] * 2
        assert events[1].local_port is not None  # the live one had reached the upstream
        client.request("PATCH", f"/proxies/{proxy['name']}", {"enabled": True})
        with connect(proxy["listen"]) as again:
            round_trip(again)
