"""The admin API over HTTP: health, rules (PUT with the profile mapping form), journal, fired,
reset, and errors that say what is wrong. Served by the gateway's admin listener, over a fault
plane of the gateway's own (HTTP faults only: no Toxiproxy), as ``chaos.harness._admin`` says."""

from __future__ import annotations

import httpx
import pytest

from chaos.gateway import Gateway
from chaos.harness import AdminAPI, FaultPlane


@pytest.fixture
def gateway(gateway: Gateway) -> Gateway:
    """The started gateway, its admin API over a fault plane of its own (no network executor)."""
    gateway.admin_api = AdminAPI(FaultPlane(gateway))
    return gateway


def test_health(gateway: Gateway) -> None:
    health = httpx.get(f"{gateway.admin_url}/health").json()
    assert health["status"] == "ok"
    assert health["seed"] == 0
    assert health["targets"] == gateway.urls


@pytest.mark.slow
def test_rules_roundtrip_and_effect(gateway: Gateway, client: httpx.Client) -> None:
    admin = gateway.admin_url
    rules = [
        {
            "target": "t",
            "name": "boom",
            "error": "overloaded",
            "retry_after": 3,
            "match": {"operation": "messages.create"},
            "first": 1,
        }
    ]
    put = httpx.put(f"{admin}/rules", json=rules)
    assert put.status_code == 200, put.text
    listed = httpx.get(f"{admin}/rules").json()
    assert listed[0]["name"] == "boom"
    assert listed[0]["action"] == "error:overloaded"
    assert listed[0]["schedule"] == {"first": 1}
    r = client.post("/v1/messages", json={})
    assert (r.status_code, r.headers["retry-after"]) == (529, "3")
    assert client.post("/v1/messages", json={}).status_code == 200
    assert httpx.get(f"{admin}/fired").json() == {"boom": 1}
    journal = httpx.get(f"{admin}/journal", params={"since": 1}).json()
    assert [rec["seq"] for rec in journal["records"]] == [1]
    assert journal["dropped"] == 0
    assert httpx.delete(f"{admin}/rules").json() == []
    assert httpx.post(f"{admin}/reset").json() == {"status": "reset"}
    assert httpx.get(f"{admin}/journal").json()["records"] == []


def test_bad_rules_are_400_with_the_reason(gateway: Gateway) -> None:
    admin = gateway.admin_url
    r = httpx.put(f"{admin}/rules", json=[{"target": "t", "eror": "overloaded"}])
    assert r.status_code == 400
    assert "admin API" in r.json()["error"]
    r = httpx.put(f"{admin}/rules", content=b"{not json")
    assert (r.status_code, r.json()["error"].startswith("PUT /rules: the body is not JSON")) == (
        400,
        True,
    )
    r = httpx.put(f"{admin}/rules", json=[{"target": "t", "error": "nonsense_kind"}])
    assert r.status_code == 400
    assert "nonsense_kind" in r.json()["error"]
    r = httpx.get(f"{admin}/nowhere")
    assert r.status_code == 404
    assert "GET /health" in r.json()["error"]


class _Conn:
    """Just enough of a connection for the admin handler: a peer and a write sink."""

    def __init__(self, peer: str) -> None:
        self.peer = (peer, 40000)
        self.keep_alive = True
        self.head_only = False
        self.sent = b""

    def write(self, data: bytes) -> None:
        self.sent += data


def test_non_loopback_admin_clients_are_refused_by_default(gateway: Gateway) -> None:
    from chaos.gateway._admin import AdminHandler
    from chaos.providers import Request

    handler = AdminHandler(gateway)
    remote, local = _Conn("10.1.2.3"), _Conn("127.0.0.1")
    handler.on_request(remote, Request("DELETE", "/rules", []))  # type: ignore[arg-type]
    handler.on_request(local, Request("GET", "/health", []))  # type: ignore[arg-type]
    assert remote.sent.startswith(b"HTTP/1.1 403 Forbidden")
    assert b"loopback clients only, not 10.1.2.3" in remote.sent
    assert local.sent.startswith(b"HTTP/1.1 200 OK")
    gateway.admin_remote = True
    handler.on_request(remote, Request("GET", "/health", []))  # type: ignore[arg-type]
    assert remote.sent.count(b"HTTP/1.1 200 OK") == 1


def test_a_bare_gateway_refuses_a_network_fault_and_keeps_its_rules(gateway: Gateway) -> None:
    """A gateway's admin API over a plane of its own has the HTTP executor only."""
    admin = gateway.admin_url
    assert httpx.put(f"{admin}/rules", json=[{"target": "t", "error": "overloaded"}]).is_success
    r = httpx.put(f"{admin}/rules", json=[{"target": "t", "network": "down"}])
    assert r.status_code == 400
    assert "nothing here runs 'network' faults" in r.json()["error"]
    assert [rule["action"] for rule in httpx.get(f"{admin}/rules").json()] == ["error:overloaded"]
    r = httpx.post(f"{admin}/inject", json={"target": "t", "wire": "reset"})
    assert (r.status_code, r.json()["layer"]) == (200, "http")
    assert [rule["source"] for rule in httpx.get(f"{admin}/rules").json()] == ["inject", "inject"]
