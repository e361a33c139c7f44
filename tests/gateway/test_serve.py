"""The gateway serves a dialect's fake over a real socket, with no faults."""

from __future__ import annotations

import asyncio
import socket

import httpx

from chaos.gateway import Gateway, TargetConfig
from tests.gateway._tiny import EVENTS, TinyDialect


def test_serves_fake_answers_and_streams(gateway: Gateway, client: httpx.Client) -> None:
    r = client.post("/v1/messages", json={"model": "m"})
    assert r.status_code == 200
    assert r.json()["text"] == "hello world"
    with client.stream("POST", "/v1/messages", json={"model": "m", "stream": True}) as r:
        assert r.headers["transfer-encoding"] == "chunked"
        frames = [line for line in r.iter_lines() if line.startswith("event:")]
    assert len(frames) == EVENTS
    assert client.get("/v1/models").json() == {"data": []}
    records = gateway.journal()
    assert [(j.operation, j.stream, j.status, j.outcome, j.events) for j in records] == [
        ("messages.create", False, 200, "ok", 0),
        ("messages.create", True, 200, "ok", EVENTS),
        ("models.list", False, 200, "ok", 0),
    ]


def test_start_and_stop_inside_a_running_loop() -> None:
    async def main() -> int:
        gw = Gateway({"t": TargetConfig(dialect=TinyDialect())}, seed=1, admin=False)
        await gw.start()
        async with httpx.AsyncClient(base_url=gw.urls["t"]) as c:
            status = (await c.get("/v1/models")).status_code
        await gw.stop()
        await gw.stop()  # idempotent
        return status

    assert asyncio.run(main()) == 200


def test_stop_closes_the_listener_and_is_idempotent() -> None:
    gw = Gateway({"t": TargetConfig(dialect=TinyDialect())}).start_in_thread()
    port = int(gw.urls["t"].rsplit(":", 1)[1])
    gw.stop()
    gw.stop()
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
