"""REST API parity: status codes, headers and bodies as Toxiproxy 2.12 sends them.

Bytes are compared exactly where ``reference/toxiproxy.md`` quotes them. Runs
against the embedded server, or against ``TOXIPROXY_URL`` unchanged.
"""

from __future__ import annotations

import re
import socket

import pytest

from tests.toxiproxy._server_support import (
    EXTERNAL_URL,
    Api,
    EchoServer,
    api,
    echo,
    embedded_only,
    toxiproxy_url,
)

__all__ = ["api", "echo", "toxiproxy_url"]  # fixtures used by this module

PROXY_KEYS = ["name", "listen", "upstream", "enabled", "Logger", "toxics"]
TOXIC_KEYS = ["attributes", "name", "type", "stream", "toxicity"]
REQUEST_ID = re.compile(r"[0-9a-v]{20}")


def assert_error(answer, status: int, message: str) -> None:
    """An error sent through Go's http.Error: JSON + newline, text/plain, nosniff."""
    expected = f'{{"error":"{message}","status":{status}}}\n'.encode()
    assert (answer.status, answer.body) == (status, expected)
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert answer.headers["x-content-type-options"] == "nosniff"


def keys_without_logger(obj: dict) -> list[str]:
    return [key for key in obj if key != "Logger"]


# version, routing, middleware


def test_version_body_and_content_type(api: Api) -> None:
    answer = api.request("GET", "/version")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/json;charset=utf-8"
    assert answer.body.startswith(b'{"version": "')
    assert answer.body.endswith(b'"}\n')
    assert REQUEST_ID.fullmatch(answer.headers["x-toxiproxy-request-id"])


@embedded_only
def test_version_reports_compatible_release(api: Api) -> None:
    assert api.request("GET", "/version").body == b'{"version": "2.12.0"}\n'


@pytest.mark.parametrize("path", ["/nope", "/proxies/", "/Proxies", "/version/", "/metrics"])
def test_unknown_path_is_plain_404_without_request_id(api: Api, path: str) -> None:
    answer = api.request("GET", path)
    assert (answer.status, answer.body) == (404, b"404 page not found\n")
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert "x-toxiproxy-request-id" not in answer.headers


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/proxies"), ("GET", "/reset"), ("DELETE", "/version"), ("GET", "/populate")],
)
def test_wrong_method_is_405_with_empty_body(api: Api, method: str, path: str) -> None:
    answer = api.request(method, path)
    assert (answer.status, answer.body) == (405, b"")
    assert "x-toxiproxy-request-id" not in answer.headers


@pytest.mark.parametrize("path", ["/version", "/proxies"])
def test_browser_user_agent_is_blocked(api: Api, path: str) -> None:
    answer = api.request("GET", path, headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64)"})
    assert (answer.status, answer.body) == (403, b"User agent not allowed\n")
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    assert REQUEST_ID.fullmatch(answer.headers["x-toxiproxy-request-id"])


# proxies


def test_create_proxy_resolves_listen_and_keeps_field_order(api: Api, echo: EchoServer) -> None:
    name = api.name("order")
    answer = api.request(
        "POST", "/proxies", {"name": name, "upstream": echo.address, "listen": "localhost:0"}
    )
    api.created.add(name)
    assert answer.status == 201
    assert answer.headers["content-type"] == "application/json"
    proxy = answer.json()
    assert keys_without_logger(proxy) == [k for k in PROXY_KEYS if k != "Logger"]
    assert re.fullmatch(r"127\.0\.0\.1:\d+", proxy["listen"])
    assert proxy["listen"] != "127.0.0.1:0"
    assert (proxy["upstream"], proxy["enabled"], proxy["toxics"]) == (echo.address, True, [])
    assert api.request("GET", f"/proxies/{name}").json() == proxy


@embedded_only
def test_proxy_json_bytes_match_go(api: Api) -> None:
    proxy = api.create("bytes", "127.0.0.1:1")
    body = api.request("GET", f"/proxies/{proxy['name']}").body
    assert (
        body
        == (
            f'{{"name":"{proxy["name"]}","listen":"{proxy["listen"]}","upstream":"127.0.0.1:1",'
            '"enabled":true,"Logger":{},"toxics":[]}'
        ).encode()
    )


def test_upstream_is_not_validated_at_create(api: Api) -> None:
    assert api.create("lazy", "not-a-host-port")["upstream"] == "not-a-host-port"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"upstream": "127.0.0.1:1"}, "missing required field: name"),
        ({"name": "", "upstream": "127.0.0.1:1"}, "missing required field: name"),
        ({"name": "x_missing_upstream"}, "missing required field: upstream"),
        (None, "bad request body: EOF"),
    ],
)
def test_create_proxy_validation_errors(api: Api, body, message: str) -> None:
    raw = b"" if body is None else None
    assert_error(api.request("POST", "/proxies", body, raw=raw), 400, message)


def test_create_proxy_type_error_names_go_field(api: Api) -> None:
    answer = api.request("POST", "/proxies", {"name": 5, "upstream": "127.0.0.1:1"})
    assert_error(
        answer,
        400,
        "bad request body: json: cannot unmarshal number into Go struct field Proxy.name "
        "of type string",
    )


def test_create_proxy_bad_json(api: Api) -> None:
    answer = api.request("POST", "/proxies", raw=b"{nope")
    assert answer.status == 400
    assert answer.json()["error"].startswith("bad request body: invalid character 'n'")


def test_duplicate_proxy_is_409(api: Api) -> None:
    proxy = api.create("dup", "127.0.0.1:1")
    answer = api.request("POST", "/proxies", {"name": proxy["name"], "upstream": "127.0.0.1:2"})
    assert_error(answer, 409, "proxy already exists")


def test_listen_port_in_use_is_500_with_go_text(api: Api) -> None:
    holder = socket.create_server(("127.0.0.1", 0))
    try:
        port = holder.getsockname()[1]
        answer = api.request(
            "POST",
            "/proxies",
            {"name": api.name("busy"), "upstream": "127.0.0.1:1", "listen": f"127.0.0.1:{port}"},
        )
        assert_error(answer, 500, f"listen tcp 127.0.0.1:{port}: bind: address already in use")
        assert api.request("GET", f"/proxies/{api.name('busy')}").status == 404
    finally:
        holder.close()


def test_listen_without_port_is_500(api: Api) -> None:
    answer = api.request(
        "POST", "/proxies", {"name": api.name("nope"), "upstream": "x:1", "listen": "nope"}
    )
    assert_error(answer, 500, "listen tcp: address nope: missing port in address")


def test_unknown_proxy_is_404(api: Api) -> None:
    for method, path in [
        ("GET", "/proxies/absent_proxy"),
        ("DELETE", "/proxies/absent_proxy"),
        ("PATCH", "/proxies/absent_proxy"),
        ("GET", "/proxies/absent_proxy/toxics"),
        ("POST", "/proxies/absent_proxy/toxics"),
        ("GET", "/proxies/absent_proxy/toxics/x"),
        ("DELETE", "/proxies/absent_proxy/toxics/x"),
    ]:
        assert_error(api.request(method, path, {}), 404, "proxy not found")


def test_proxy_index_is_map_by_name(api: Api) -> None:
    first = api.create("b_second", "127.0.0.1:1")
    second = api.create("a_first", "127.0.0.1:2")
    answer = api.request("GET", "/proxies")
    assert answer.status == 200
    proxies = answer.json()
    assert proxies[first["name"]] == first
    assert proxies[second["name"]] == second
    mine = [name for name in proxies if name.startswith(api.prefix)]
    assert mine == sorted(mine)


def test_patch_and_deprecated_post_update_enabled(api: Api) -> None:
    proxy = api.create("toggle", "127.0.0.1:1")
    name = proxy["name"]
    answer = api.request("PATCH", f"/proxies/{name}", {"enabled": False})
    assert answer.status == 200
    assert answer.json()["enabled"] is False
    answer = api.request("POST", f"/proxies/{name}", {"enabled": True, "name": "renamed"})
    assert answer.status == 200
    assert (answer.json()["enabled"], answer.json()["name"]) == (True, name)


def test_patch_same_values_is_a_noop(api: Api) -> None:
    proxy = api.create("same", "127.0.0.1:1")
    answer = api.request(
        "PATCH", f"/proxies/{proxy['name']}", {"listen": proxy["listen"], "upstream": "127.0.0.1:1"}
    )
    assert answer.status == 200
    assert answer.json() == proxy


def test_patch_bad_listen_is_500(api: Api) -> None:
    proxy = api.create("badlisten", "127.0.0.1:1")
    answer = api.request("PATCH", f"/proxies/{proxy['name']}", {"listen": "bad"})
    assert_error(answer, 500, "address bad: missing port in address")


def test_patch_empty_body_is_eof(api: Api) -> None:
    proxy = api.create("eof", "127.0.0.1:1")
    assert_error(
        api.request("PATCH", f"/proxies/{proxy['name']}", raw=b""), 400, "bad request body: EOF"
    )


def test_delete_proxy_is_204_then_404(api: Api) -> None:
    proxy = api.create("gone", "127.0.0.1:1")
    answer = api.request("DELETE", f"/proxies/{proxy['name']}")
    assert (answer.status, answer.body) == (204, b"")
    assert REQUEST_ID.fullmatch(answer.headers["x-toxiproxy-request-id"])
    assert api.request("GET", f"/proxies/{proxy['name']}").status == 404


# toxics


def test_toxic_create_defaults_and_field_order(api: Api) -> None:
    proxy = api.create("tox", "127.0.0.1:1")
    answer = api.request("POST", f"/proxies/{proxy['name']}/toxics", {"type": "latency"})
    assert answer.status == 200  # not 201
    toxic = answer.json()
    assert list(toxic) == TOXIC_KEYS
    assert toxic == {
        "attributes": {"latency": 0, "jitter": 0},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 1,
    }
    assert answer.body == (
        b'{"attributes":{"latency":0,"jitter":0},"name":"latency_downstream",'
        b'"type":"latency","stream":"downstream","toxicity":1}'
    )


def test_toxic_stream_is_case_insensitive_and_echoed_as_sent(api: Api) -> None:
    proxy = api.create("case", "127.0.0.1:1")
    toxic = api.add_toxic(proxy["name"], type="latency", stream="UPSTREAM")
    assert (toxic["name"], toxic["stream"]) == ("latency_UPSTREAM", "UPSTREAM")


def test_toxic_names_are_unique_across_streams(api: Api) -> None:
    proxy = api.create("uniq", "127.0.0.1:1")
    api.add_toxic(proxy["name"], type="latency", name="foobar", stream="upstream")
    answer = api.request(
        "POST",
        f"/proxies/{proxy['name']}/toxics",
        {"type": "latency", "name": "foobar", "stream": "downstream"},
    )
    assert_error(answer, 409, "toxic already exists")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"type": "bogus"}, "invalid toxic type"),
        ({}, "invalid toxic type"),
        (
            {"type": "latency", "stream": "sideways"},
            "stream was invalid, can be either upstream or downstream",
        ),
        (
            {"type": "latency", "stream": ""},
            "stream was invalid, can be either upstream or downstream",
        ),
        (
            {"type": "bogus", "stream": "sideways"},
            "stream was invalid, can be either upstream or downstream",
        ),
        (
            {"type": "latency", "attributes": {"latency": 1.5}},
            "bad request body: json: cannot unmarshal number 1.5 into Go struct field "
            "LatencyToxic.attributes.latency of type int64",
        ),
        (
            {"type": "latency", "attributes": {"latency": "100"}},
            "bad request body: json: cannot unmarshal string into Go struct field "
            "LatencyToxic.attributes.latency of type int64",
        ),
        (
            {"type": "latency", "toxicity": "high"},
            "bad request body: json: cannot unmarshal string into Go struct field "
            "ToxicWrapper.toxicity of type float32",
        ),
    ],
)
def test_toxic_create_errors(api: Api, body, message: str) -> None:
    proxy = api.create("badtox", "127.0.0.1:1")
    assert_error(api.request("POST", f"/proxies/{proxy['name']}/toxics", body), 400, message)


def test_toxic_create_empty_body_is_eof(api: Api) -> None:
    proxy = api.create("toxeof", "127.0.0.1:1")
    answer = api.request("POST", f"/proxies/{proxy['name']}/toxics", raw=b"")
    assert_error(answer, 400, "bad request body: EOF")


@pytest.mark.parametrize("toxicity", [-1, 0, 2, 0.5])
def test_toxicity_is_not_validated(api: Api, toxicity: float) -> None:
    proxy = api.create("toxicity", "127.0.0.1:1")
    assert api.add_toxic(proxy["name"], type="noop", toxicity=toxicity)["toxicity"] == toxicity


def test_unknown_and_null_attributes_are_ignored(api: Api) -> None:
    proxy = api.create("unknown", "127.0.0.1:1")
    toxic = api.add_toxic(proxy["name"], type="latency", attributes={"latency": 5, "color": "red"})
    assert toxic["attributes"] == {"latency": 5, "jitter": 0}
    toxic = api.add_toxic(proxy["name"], type="bandwidth", attributes=None)
    assert toxic["attributes"] == {"rate": 0}


def test_every_toxic_type_echoes_all_attributes(api: Api) -> None:
    proxy = api.create("types", "127.0.0.1:1")
    expected = {
        "latency": {"latency": 0, "jitter": 0},
        "bandwidth": {"rate": 0},
        "slow_close": {"delay": 0},
        "timeout": {"timeout": 0},
        "reset_peer": {"timeout": 0},
        "limit_data": {"bytes": 0},
        "noop": {},
    }
    for kind, attributes in expected.items():
        toxic = api.add_toxic(proxy["name"], type=kind, stream="upstream")
        assert toxic["attributes"] == attributes, kind
    slicer = api.add_toxic(proxy["name"], type="slicer", attributes={"average_size": 5})
    assert slicer["attributes"] == {"average_size": 5, "size_variation": 0, "delay": 0}


def test_toxic_list_is_upstream_first_in_insertion_order(api: Api) -> None:
    proxy = api.create("chain", "127.0.0.1:1")
    name = proxy["name"]
    api.add_toxic(name, type="latency", name="d1")
    api.add_toxic(name, type="latency", name="u1", stream="upstream")
    api.add_toxic(name, type="noop", name="d2")
    api.add_toxic(name, type="noop", name="u2", stream="upstream")
    listed = api.request("GET", f"/proxies/{name}/toxics").json()
    assert [t["name"] for t in listed] == ["u1", "u2", "d1", "d2"]
    shown = api.request("GET", f"/proxies/{name}").json()["toxics"]
    assert shown == listed
    assert (
        api.request("GET", f"/proxies/{api.create('empty', '127.0.0.1:1')['name']}/toxics").body
        == b"[]"
    )


def test_toxic_update_merges_attributes_and_ignores_identity(api: Api) -> None:
    proxy = api.create("upd", "127.0.0.1:1")
    name = proxy["name"]
    api.add_toxic(name, type="latency", attributes={"latency": 100, "jitter": 10}, toxicity=0.5)
    answer = api.request(
        "PATCH",
        f"/proxies/{name}/toxics/latency_downstream",
        {"attributes": {"latency": 5}, "name": "other", "type": "bandwidth", "stream": "upstream"},
    )
    assert answer.status == 200
    assert answer.json() == {
        "attributes": {"latency": 5, "jitter": 10},
        "name": "latency_downstream",
        "type": "latency",
        "stream": "downstream",
        "toxicity": 0.5,
    }
    answer = api.request("POST", f"/proxies/{name}/toxics/latency_downstream", {"toxicity": 0.25})
    assert answer.status == 200
    assert answer.json()["toxicity"] == 0.25
    assert answer.json()["attributes"] == {"latency": 5, "jitter": 10}


def test_toxic_update_errors(api: Api) -> None:
    proxy = api.create("upderr", "127.0.0.1:1")
    name = proxy["name"]
    assert_error(api.request("PATCH", f"/proxies/{name}/toxics/nope", {}), 404, "toxic not found")
    api.add_toxic(name, type="latency")
    path = f"/proxies/{name}/toxics/latency_downstream"
    assert_error(api.request("PATCH", path, raw=b""), 400, "bad request body: EOF")
    assert_error(
        api.request("PATCH", path, {"attributes": {"jitter": 0.5}}),
        400,
        "bad request body: json: cannot unmarshal number 0.5 into Go struct field "
        "LatencyToxic.attributes.jitter of type int64",
    )


def test_toxic_show_and_delete(api: Api) -> None:
    proxy = api.create("del", "127.0.0.1:1")
    name = proxy["name"]
    created = api.add_toxic(name, type="timeout", attributes={"timeout": 10})
    assert api.request("GET", f"/proxies/{name}/toxics/timeout_downstream").json() == created
    answer = api.request("DELETE", f"/proxies/{name}/toxics/timeout_downstream")
    assert (answer.status, answer.body) == (204, b"")
    assert_error(
        api.request("DELETE", f"/proxies/{name}/toxics/timeout_downstream"), 404, "toxic not found"
    )
    assert_error(
        api.request("GET", f"/proxies/{name}/toxics/timeout_downstream"), 404, "toxic not found"
    )


# populate and reset


def test_populate_creates_in_order(api: Api, echo: EchoServer) -> None:
    names = [api.name("pop1"), api.name("pop2")]
    api.created.update(names)
    answer = api.request(
        "POST",
        "/populate",
        [
            {"name": names[0], "upstream": echo.address, "listen": "127.0.0.1:0"},
            {"name": names[1], "upstream": echo.address, "listen": "127.0.0.1:0", "enabled": None},
        ],
    )
    assert answer.status == 201
    assert answer.headers["content-type"] == "application/json"
    proxies = answer.json()["proxies"]
    assert [p["name"] for p in proxies] == names
    assert all(p["enabled"] for p in proxies)


def test_populate_empty_array_gives_null(api: Api) -> None:
    answer = api.request("POST", "/populate", [])
    assert (answer.status, answer.body) == (201, b'{"proxies":null}')


def test_populate_validation_pass_creates_nothing(api: Api) -> None:
    first = api.name("never")
    answer = api.request(
        "POST",
        "/populate",
        [{"name": first, "upstream": "127.0.0.1:1"}, {"upstream": "127.0.0.1:1"}],
    )
    assert answer.status == 400
    assert answer.headers["content-type"] == "application/json"
    assert answer.body == (
        b'{"error":"missing required field: name at proxy 2","status":400,"proxies":null}'
    )
    assert api.request("GET", f"/proxies/{first}").status == 404


def test_populate_object_body_is_400_json(api: Api) -> None:
    answer = api.request("POST", "/populate", {"name": "x"})
    assert answer.status == 400
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert body["proxies"] is None
    assert body["status"] == 400
    assert body["error"].startswith("bad request body: json: cannot unmarshal object")


def test_populate_keeps_identical_proxy_and_replaces_changed(api: Api, echo: EchoServer) -> None:
    same = api.create("same", echo.address)
    changed = api.create("changed", echo.address)
    api.add_toxic(same["name"], type="latency")
    api.add_toxic(changed["name"], type="latency")
    assert api.request("PATCH", f"/proxies/{same['name']}", {"enabled": False}).status == 200
    answer = api.request(
        "POST",
        "/populate",
        [
            {
                "name": same["name"],
                "upstream": echo.address,
                "listen": same["listen"],
                "enabled": True,
            },
            {"name": changed["name"], "upstream": "127.0.0.1:1", "listen": "127.0.0.1:0"},
        ],
    )
    assert answer.status == 201
    kept, replaced = answer.json()["proxies"]
    # disabled proxies keep their resolved listen; identical -> untouched, still disabled
    assert kept["enabled"] is False
    assert [t["name"] for t in kept["toxics"]] == ["latency_downstream"]
    assert replaced["upstream"] == "127.0.0.1:1"
    assert replaced["toxics"] == []


def test_populate_is_not_atomic(api: Api) -> None:
    holder = socket.create_server(("127.0.0.1", 0))
    try:
        port = holder.getsockname()[1]
        ok, bad = api.name("ok"), api.name("bad")
        api.created.update([ok, bad])
        answer = api.request(
            "POST",
            "/populate",
            [
                {"name": ok, "upstream": "127.0.0.1:1", "listen": "127.0.0.1:0"},
                {"name": bad, "upstream": "127.0.0.1:1", "listen": f"127.0.0.1:{port}"},
            ],
        )
        assert answer.status == 500
        body = answer.json()
        assert list(body) == ["error", "status", "proxies"]
        assert body["error"] == f"listen tcp 127.0.0.1:{port}: bind: address already in use"
        assert [p["name"] for p in body["proxies"]] == [ok]
        assert api.request("GET", f"/proxies/{ok}").status == 200
        assert api.request("GET", f"/proxies/{bad}").status == 404
    finally:
        holder.close()


@pytest.mark.skipif(
    bool(EXTERNAL_URL), reason="/reset would disturb other users of a shared server"
)
def test_reset_enables_proxies_and_clears_toxics(api: Api) -> None:
    proxy = api.create("reset", "127.0.0.1:1")
    name = proxy["name"]
    api.add_toxic(name, type="latency")
    api.request("PATCH", f"/proxies/{name}", {"enabled": False})
    answer = api.request("POST", "/reset")
    assert (answer.status, answer.body) == (204, b"")
    after = api.request("GET", f"/proxies/{name}").json()
    assert (after["enabled"], after["toxics"]) == (True, [])


def test_empty_toxic_name_means_default(api: Api) -> None:
    proxy = api.create("emptyname", "127.0.0.1:1")
    toxic = api.add_toxic(proxy["name"], type="slow_close", name="")
    assert toxic["name"] == "slow_close_downstream"


def test_toxicity_is_float32_printed_shortest(api: Api) -> None:
    proxy = api.create("float32", "127.0.0.1:1")
    answer = api.request(
        "POST", f"/proxies/{proxy['name']}/toxics", {"type": "noop", "toxicity": 0.3}
    )
    assert answer.status == 200
    assert answer.body.endswith(b'"toxicity":0.3}')


@pytest.mark.skipif(
    bool(EXTERNAL_URL), reason="/reset would disturb other users of a shared server"
)
def test_reset_removing_timeout_closes_its_connections(api: Api, echo: EchoServer) -> None:
    from tests.toxiproxy._server_support import connect, recv_until_closed

    proxy = api.create("resettimeout", echo.address)
    api.add_toxic(proxy["name"], type="timeout", attributes={"timeout": 0})
    with connect(proxy["listen"]) as sock:
        sock.sendall(b"blackholed")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):  # the toxic holds this connection
            sock.recv(100)
        assert api.request("POST", "/reset").status == 204
        assert recv_until_closed(sock, 5)[0] == b""
