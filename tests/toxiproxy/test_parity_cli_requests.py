"""toxiproxy-cli compatibility, by replaying the exact requests it sends.

Shopify's Go CLI cannot be installed here (no Go toolchain, no binary), so this
replays what its client package (``client/client.go``, ``client/proxy.go``,
``client/toxic.go`` in Shopify/toxiproxy) puts on the wire: the same methods,
paths, headers (``User-Agent: toxiproxy-cli``, ``Content-Type:
application/json``) and bodies as Go's ``json.Marshal`` writes them (compact;
``Toxic.Stream`` has ``omitempty``; ``Proxy.toxics`` is ``null`` on create).
Each answer is then checked the way that client reads it: 2xx bodies must
decode into its ``Proxy``/``Toxic`` structs, anything else into ``ApiError``
(``{"error": string, "status": int}``).
"""

from __future__ import annotations

import json
from typing import Any

from tests.toxiproxy._server_support import (
    Api,
    EchoServer,
    api,
    connect,
    echo,
    round_trip,
    toxiproxy_url,
)

__all__ = ["api", "echo", "toxiproxy_url"]  # fixtures used by this module

CLI_HEADERS = {
    "User-Agent": "toxiproxy-cli",
    "Content-Type": "application/json",
    "Accept-Encoding": "gzip",
}


def go_marshal(value: Any) -> bytes:
    """Go's json.Marshal output for plain data: compact, keys in struct order."""
    return json.dumps(value, separators=(",", ":")).encode()


def send(api: Api, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    """``Client.send``: the answer decoded as the client does (or its ApiError)."""
    raw = None if body is None else go_marshal(body)
    answer = api.request(method, path, raw=raw, headers=CLI_HEADERS)
    if not 200 <= answer.status < 300:
        error = json.loads(answer.body)  # validateResponse: json.NewDecoder(...).Decode(&apiError)
        assert isinstance(error["error"], str)
        assert error["status"] == answer.status
        return answer.status, error
    return answer.status, (json.loads(answer.body) if answer.body else None)


def assert_go_toxic(toxic: dict[str, Any]) -> None:
    """Decodes into client.Toxic {Name, Type, Stream, Toxicity float32, Attributes map}."""
    assert isinstance(toxic["name"], str)
    assert isinstance(toxic["type"], str)
    assert isinstance(toxic["stream"], str)
    assert isinstance(toxic["toxicity"], int | float)
    assert isinstance(toxic["attributes"], dict)


def assert_go_proxy(proxy: dict[str, Any]) -> None:
    """Decodes into client.Proxy {Name, Listen, Upstream, Enabled, ActiveToxics}."""
    assert isinstance(proxy["name"], str)
    assert isinstance(proxy["listen"], str)
    assert isinstance(proxy["upstream"], str)
    assert isinstance(proxy["enabled"], bool)
    assert isinstance(proxy["toxics"], list)
    for toxic in proxy["toxics"]:
        assert_go_toxic(toxic)


def test_cli_session_replayed(api: Api, echo: EchoServer) -> None:
    name = api.name("cli")
    api.created.add(name)

    # toxiproxy-cli create -l 127.0.0.1:0 -u UPSTREAM NAME -> CreateProxy -> Save (not created)
    status, proxy = send(
        api,
        "POST",
        "/proxies",
        {
            "name": name,
            "listen": "127.0.0.1:0",
            "upstream": echo.address,
            "enabled": True,
            "toxics": None,
        },
    )
    assert status == 201
    assert_go_proxy(proxy)

    # toxiproxy-cli list -> Proxies(): map[string]*Proxy
    status, proxies = send(api, "GET", "/proxies")
    assert status == 200
    assert_go_proxy(proxies[name])

    # toxiproxy-cli toxic add -t latency -a latency=100 NAME -> Proxy() then AddToxic()
    status, proxy = send(api, "GET", f"/proxies/{name}")
    assert status == 200
    status, toxic = send(
        api,
        "POST",
        f"/proxies/{name}/toxics",
        {
            "name": "",
            "type": "latency",
            "stream": "downstream",
            "toxicity": 1,
            "attributes": {"latency": 100},
        },
    )
    assert status == 200
    assert_go_toxic(toxic)
    assert toxic["name"] == "latency_downstream"

    # toxiproxy-cli toxic update -n latency_downstream -a latency=50 NAME (toxicity -1: omitted)
    status, toxic = send(
        api, "PATCH", f"/proxies/{name}/toxics/latency_downstream", {"attributes": {"latency": 50}}
    )
    assert status == 200
    assert toxic["attributes"] == {"latency": 50, "jitter": 0}

    # toxiproxy-cli inspect NAME
    status, proxy = send(api, "GET", f"/proxies/{name}")
    assert_go_proxy(proxy)
    assert [t["name"] for t in proxy["toxics"]] == ["latency_downstream"]

    # toxiproxy-cli toggle NAME -> Save() of an existing proxy: POST /proxies/NAME, whole struct
    proxy_body = {
        "name": proxy["name"],
        "listen": proxy["listen"],
        "upstream": proxy["upstream"],
        "enabled": False,
        "toxics": [
            {
                "name": t["name"],
                "type": t["type"],
                "stream": t["stream"],
                "toxicity": t["toxicity"],
                "attributes": t["attributes"],
            }
            for t in proxy["toxics"]
        ],
    }
    status, toggled = send(api, "POST", f"/proxies/{name}", proxy_body)
    assert status == 200
    assert_go_proxy(toggled)
    assert toggled["enabled"] is False
    assert toggled["toxics"] == proxy["toxics"]  # the toxics key of the body is ignored
    status, toggled = send(api, "POST", f"/proxies/{name}", {**proxy_body, "enabled": True})
    assert toggled["enabled"] is True
    with connect(toggled["listen"]) as sock:
        assert round_trip(sock) >= 0.045  # the 50 ms latency toxic is still there

    # toxiproxy-cli toxic remove -n latency_downstream NAME
    status, body = send(api, "DELETE", f"/proxies/{name}/toxics/latency_downstream")
    assert (status, body) == (204, None)

    # toxiproxy-cli delete NAME -> Proxy() then Delete()
    status, body = send(api, "DELETE", f"/proxies/{name}")
    assert (status, body) == (204, None)


def test_cli_errors_decode_as_api_error(api: Api) -> None:
    status, error = send(api, "GET", "/proxies/does_not_exist")
    assert (status, error) == (404, {"error": "proxy not found", "status": 404})
    name = api.name("clierr")
    api.created.add(name)
    body = {
        "name": name,
        "listen": "127.0.0.1:0",
        "upstream": "127.0.0.1:1",
        "enabled": True,
        "toxics": None,
    }
    assert send(api, "POST", "/proxies", body)[0] == 201
    status, error = send(api, "POST", "/proxies", body)
    assert (status, error["error"]) == (409, "proxy already exists")
    status, error = send(
        api,
        "POST",
        f"/proxies/{name}/toxics",
        {"name": "", "type": "nope", "toxicity": 1, "attributes": {}},
    )
    assert (status, error["error"]) == (400, "invalid toxic type")


def test_client_populate_and_version(api: Api, echo: EchoServer) -> None:
    names = [api.name("cpop1"), api.name("cpop2")]
    api.created.update(names)
    config = [
        {
            "name": n,
            "listen": "127.0.0.1:0",
            "upstream": echo.address,
            "enabled": True,
            "toxics": None,
        }
        for n in names
    ]
    status, body = send(api, "POST", "/populate", config)
    assert status == 201
    assert [p["name"] for p in body["proxies"]] == names  # struct{ Proxies []*Proxy }
    for proxy in body["proxies"]:
        assert_go_proxy(proxy)
    status, version = send(api, "GET", "/version")
    assert status == 200
    assert isinstance(version["version"], str)
