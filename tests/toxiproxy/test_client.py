"""ToxiproxyClient against the real embedded server, over real sockets."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time

import pytest
from toxiproxy.api import APIConsumer

from chaos._errors import ConfigError, InvalidRequest, ProxyConflict, ProxyNotFound, ToxiproxyError
from chaos.toxiproxy import ProxyInfo, ProxySpec, ToxicInfo, ToxiproxyClient, serve_in_thread
from tests.toxiproxy._echo import echo_server, roundtrip


@pytest.fixture
def server():
    handle = serve_in_thread()
    try:
        yield handle
    finally:
        handle.stop()


@pytest.fixture
def client(server):
    return ToxiproxyClient(server.url, timeout=5.0)


@pytest.fixture
def echo():
    with echo_server() as srv:
        yield srv


def refused(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host, int(port)), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


# -- version ---------------------------------------------------------------------


def test_version_is_parsed_from_json(client):
    version = client.version()
    assert version
    assert "{" not in version
    assert "\n" not in version


class _VersionHandler(http.server.BaseHTTPRequestHandler):
    body = b""
    status = 200

    def do_GET(self):
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def serve_canned(body: bytes, status: int = 200):
    handler = type("Handler", (_VersionHandler,), {"body": body, "status": status})
    httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    return httpd, thread


def stop_canned(httpd, thread):
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"version": "2.12.0"}\n', "2.12.0"),  # 2.7+
        (b'{"version": "2.6.0"}\\n', "2.6.0"),  # 2.6.0: a literal backslash-n
        (b"2.5.0", "2.5.0"),  # up to 2.5: plain text
    ],
)
def test_version_parses_every_historical_format(body, expected):
    httpd, thread = serve_canned(body)
    try:
        client = ToxiproxyClient(f"http://127.0.0.1:{httpd.server_port}")
        assert client.version() == expected
    finally:
        stop_canned(httpd, thread)


def test_a_503_from_the_servers_own_timeout_is_a_toxiproxy_error():
    # What Toxiproxy's 25 s TimeoutHandler sends when a handler hangs (issues #500, #558).
    page = b"<html><head><title>Timeout</title></head><body><h1>Timeout</h1></body></html>"
    httpd, thread = serve_canned(page, status=503)
    try:
        client = ToxiproxyClient(f"http://127.0.0.1:{httpd.server_port}")
        with pytest.raises(ToxiproxyError) as err:
            client.proxies()
    finally:
        stop_canned(httpd, thread)
    assert type(err.value) is ToxiproxyError
    assert err.value.status == 503
    assert "25 s request timeout" in err.value.message


# -- proxies ---------------------------------------------------------------------


def test_proxy_crud_and_traffic(client, echo):
    created = client.create_proxy("api", upstream=echo.address)
    assert isinstance(created, ProxyInfo)
    assert created.name == "api"
    assert created.upstream == echo.address
    assert created.enabled
    assert created.listen_host == "127.0.0.1"
    assert created.listen_port > 0
    assert created.toxics == ()

    assert client.get_proxy("api") == created
    assert client.proxies() == {"api": created}
    assert roundtrip(created.listen, b"hello")[0] == b"hello"

    client.delete_proxy("api")
    assert client.proxies() == {}
    with pytest.raises(ProxyNotFound) as err:
        client.get_proxy("api")
    assert err.value.status == 404
    assert "proxy not found" in str(err.value)


def test_update_proxy_with_patch(client):
    with echo_server(b"A:") as first, echo_server(b"B:") as second:
        proxy = client.create_proxy("svc", upstream=first.address)
        assert roundtrip(proxy.listen, b"x")[0] == b"A:x"

        disabled = client.disable("svc")
        assert disabled.enabled is False
        assert refused(proxy.listen)
        assert client.enable("svc").enabled is True
        assert roundtrip(proxy.listen, b"x")[0] == b"A:x"

        moved = client.update_proxy("svc", upstream=second.address)
        assert moved.upstream == second.address
        assert roundtrip(moved.listen, b"y")[0] == b"B:y"

        relisten = client.update_proxy("svc", listen="127.0.0.1:0")
        assert relisten.listen_port > 0
        assert roundtrip(relisten.listen, b"z")[0] == b"B:z"

        with client.down("svc"):
            assert refused(relisten.listen)
        assert client.get_proxy("svc").enabled


def test_populate_uses_the_real_endpoint(client, echo):
    first = client.populate([ProxySpec("a", echo.address), {"name": "b", "upstream": echo.address}])
    assert [p.name for p in first] == ["a", "b"]
    client.add_toxic("a", "latency", attributes={"latency": 10})

    # The server's /populate keeps an identical proxy untouched, toxics included
    # (toxiproxy-python's client-side imitation would destroy and recreate it).
    again = client.populate([ProxySpec("a", echo.address, listen=first[0].listen)])
    assert again[0].listen == first[0].listen
    assert [t.name for t in again[0].toxics] == ["latency_downstream"]


def test_populate_with_a_missing_field_creates_nothing(client, echo):
    with pytest.raises(InvalidRequest) as err:
        client.populate([ProxySpec("ok", echo.address), {"name": "bad"}])
    assert "missing required field: upstream" in str(err.value)
    assert client.proxies() == {}


# -- toxics ----------------------------------------------------------------------


def test_add_toxic_returns_the_created_toxic_and_applies_it(client, echo):
    proxy = client.create_proxy("slow", upstream=echo.address)
    _, baseline = roundtrip(proxy.listen)

    toxic = client.add_toxic("slow", "latency", attributes={"latency": 300})
    assert toxic == ToxicInfo(
        name="latency_downstream",
        type="latency",
        stream="downstream",
        toxicity=1.0,
        attributes=toxic.attributes,
    )
    assert dict(toxic.attributes) == {"latency": 300, "jitter": 0}
    _, delayed = roundtrip(proxy.listen)
    assert delayed >= 0.28
    assert delayed > baseline
    assert client.toxics("slow") == [toxic]


def test_update_and_remove_toxic(client, echo):
    client.create_proxy("p", upstream=echo.address)
    client.add_toxic("p", "latency", name="lag", stream="upstream", attributes={"latency": 100})

    updated = client.update_toxic("p", "lag", attributes={"jitter": 5}, toxicity=0.5)
    # PATCH merges attributes and keeps the rest.
    assert dict(updated.attributes) == {"latency": 100, "jitter": 5}
    assert updated.toxicity == 0.5
    assert updated.stream == "upstream"
    assert client.get_toxic("p", "lag") == updated

    client.remove_toxic("p", "lag")
    assert client.toxics("p") == []
    with pytest.raises(ProxyNotFound, match="toxic not found"):
        client.get_toxic("p", "lag")


def test_reset_reenables_proxies_and_clears_toxics(client, echo):
    proxy = client.create_proxy("r", upstream=echo.address)
    client.add_toxic("r", "timeout", attributes={"timeout": 0})
    client.disable("r")

    client.reset()

    after = client.get_proxy("r")
    assert after.enabled
    assert after.toxics == ()
    assert roundtrip(proxy.listen, b"back")[0] == b"back"


# -- errors ----------------------------------------------------------------------


def test_errors_map_by_status_and_server_text(client, echo):
    client.create_proxy("dup", upstream=echo.address)
    client.add_toxic("dup", "noop", name="t")

    with pytest.raises(ProxyConflict, match="proxy already exists") as err:
        client.create_proxy("dup", upstream=echo.address)
    assert err.value.status == 409
    # toxiproxy-python raises ProxyExists here; the text says what really conflicted.
    with pytest.raises(ProxyConflict, match="toxic already exists"):
        client.add_toxic("dup", "noop", name="t")
    with pytest.raises(InvalidRequest, match="invalid toxic type") as err400:
        client.add_toxic("dup", "bogus")
    assert err400.value.status == 400
    with pytest.raises(InvalidRequest, match="bad request body"):
        client.add_toxic("dup", "latency", name="f", attributes={"latency": 1.5})
    with pytest.raises(ProxyNotFound, match="proxy not found"):
        client.add_toxic("nope", "noop")
    with pytest.raises(ProxyNotFound):
        client.delete_proxy("nope")


def test_server_error_500_is_a_plain_toxiproxy_error(client, echo):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(ToxiproxyError) as err:
            client.create_proxy("clash", upstream=echo.address, listen=f"127.0.0.1:{port}")
    assert type(err.value) is ToxiproxyError
    assert err.value.status == 500
    assert "address already in use" in err.value.message
    assert f"POST {client.url}/proxies" in err.value.message


def test_connection_refused_is_a_toxiproxy_error():
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    client = ToxiproxyClient(f"http://127.0.0.1:{port}", timeout=2)
    with pytest.raises(ToxiproxyError) as err:
        client.proxies()
    assert err.value.status == 0
    assert "cannot connect to Toxiproxy" in err.value.message
    assert f"127.0.0.1:{port}" in err.value.message
    assert client.is_ready() is False


def test_timeout_against_a_server_that_never_answers():
    # A raw socket that accepts, reads nothing and never answers.
    held = []
    with socket.create_server(("127.0.0.1", 0)) as silent:
        silent.settimeout(5)

        def accept_and_sleep():
            with contextlib.suppress(OSError):
                held.append(silent.accept()[0])

        acceptor = threading.Thread(target=accept_and_sleep, daemon=True)
        acceptor.start()
        client = ToxiproxyClient(f"http://127.0.0.1:{silent.getsockname()[1]}", timeout=0.5)
        started = time.monotonic()
        try:
            with pytest.raises(ToxiproxyError, match=r"no answer from Toxiproxy within 0\.5 s"):
                client.version()
            # The request was bounded by the timeout, not by the server.
            assert time.monotonic() - started < 5
            acceptor.join(5)
            assert len(held) == 1  # it really was accepted, then ignored
        finally:
            for conn in held:
                conn.close()


def test_wait_ready_is_bounded_and_can_give_up_early():
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    client = ToxiproxyClient(f"http://127.0.0.1:{port}", timeout=0.5)
    with pytest.raises(ToxiproxyError, match="not ready after"):
        client.wait_ready(timeout=0.5)
    calls = []
    with pytest.raises(ToxiproxyError, match="the server crashed"):
        client.wait_ready(timeout=30, give_up=lambda: calls.append(1) or "the server crashed")
    assert calls == [1]


def test_wait_ready_returns_the_version(client):
    assert client.wait_ready(timeout=5) == client.version()


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1:8474", "127.0.0.1:8474", "http://h:1/prefix", "http://h:x"]
)
def test_bad_url_is_a_config_error(url):
    with pytest.raises(ConfigError, match="Toxiproxy URL"):
        ToxiproxyClient(url)


def test_unaddressable_proxy_name_is_rejected(client, echo):
    with pytest.raises(ConfigError, match="contain no '/'"):
        client.create_proxy("a/b", upstream=echo.address)


def test_clients_are_independent_and_leave_the_library_global_alone(client, echo):
    before = (APIConsumer.host, APIConsumer.port)
    other = serve_in_thread()
    try:
        second = ToxiproxyClient(other.url)
        client.create_proxy("only-here", upstream=echo.address)
        assert "only-here" not in second.proxies()
        assert second.url != client.url
    finally:
        other.stop()
    assert (APIConsumer.host, APIConsumer.port) == before


# -- scoped cleanup ---------------------------------------------------------------


def test_context_manager_removes_what_it_added_even_on_error(client, echo):
    kept = client.create_proxy("kept", upstream=echo.address)
    client.add_toxic("kept", "noop", name="outer")

    def test_body():
        with client.scope() as scoped:
            scoped.create_proxy("temp", upstream=echo.address)
            scoped.add_toxic("temp", "latency", attributes={"latency": 1})
            scoped.add_toxic("kept", "latency", name="inner", attributes={"latency": 1})
            scoped.add_toxic("kept", "noop", name="removed-already")
            scoped.remove_toxic("kept", "removed-already")
            raise RuntimeError("test body failed")

    with pytest.raises(RuntimeError, match="test body failed"):
        test_body()

    assert set(client.proxies()) == {"kept"}
    assert [t.name for t in client.toxics("kept")] == ["outer"]
    assert client.get_proxy("kept").listen == kept.listen


def test_context_manager_tolerates_things_already_gone(client, echo):
    with ToxiproxyClient(client.url) as scoped:
        scoped.create_proxy("gone", upstream=echo.address)
        scoped.add_toxic("gone", "noop")
        client.delete_proxy("gone")  # removed behind the scope's back
    assert client.proxies() == {}


def test_cleanup_error_does_not_hide_the_original_error(echo):
    handle = serve_in_thread()

    def test_body():
        with ToxiproxyClient(handle.url, timeout=1) as scoped:
            scoped.create_proxy("p", upstream=echo.address)
            handle.stop()  # the server dies: cleanup cannot reach it
            raise KeyError("original")

    try:
        with pytest.raises(KeyError) as err:
            test_body()
    finally:
        handle.stop()
    assert any("cleaning up Toxiproxy failed" in note for note in err.value.__notes__)
