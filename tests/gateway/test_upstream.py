"""Forwarding to an HTTP upstream: passthrough, SSE per event, faults on top, refusals."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from chaos import ConfigError, NetworkNotAllowed
from chaos.faults import Fault, SseAction
from chaos.gateway import Gateway, TargetConfig
from tests.gateway._raw import connect, read_until, request
from tests.gateway._tiny import EVENTS, TinyDialect


@pytest.fixture
def chain() -> Iterator[tuple[Gateway, Gateway]]:
    """(front, upstream): the front gateway forwards to the upstream gateway's fake."""
    with Gateway({"t": TargetConfig(TinyDialect())}, admin=False) as upstream:
        front = Gateway(
            {"t": TargetConfig(TinyDialect(), upstream=upstream.urls["t"])}, admin=False
        )
        with front:
            yield front, upstream


def test_forwards_requests_and_answers(chain: tuple[Gateway, Gateway]) -> None:
    front, upstream = chain
    with httpx.Client(base_url=front.urls["t"]) as c:
        r = c.post("/v1/messages?x=1", json={"model": "m"}, headers={"x-api-key": "secret"})
    assert r.json()["text"] == "hello world"
    seen = upstream.journal()[0]
    assert (seen.path, seen.request_headers["x-api-key"]) == ("/v1/messages?x=1", "[redacted]")
    assert seen.model == "m"


def test_forwarded_stream_is_passed_event_by_event(chain: tuple[Gateway, Gateway]) -> None:
    front, upstream = chain
    upstream.set_faults([Fault("t", SseAction(token_delay=150))])
    with connect(front.urls["t"]) as s:
        start = time.monotonic()
        s.sendall(request("POST", "/v1/messages", b'{"stream": true}'))
        read_until(s, b'{"i":0}')
        first = time.monotonic() - start
        read_until(s, b"0\r\n\r\n")
        whole = time.monotonic() - start
    assert first < whole - 0.3  # the first event did not wait for the rest
    assert front.journal()[0].events == EVENTS


def test_sse_faults_apply_to_a_forwarded_stream(chain: tuple[Gateway, Gateway]) -> None:
    front, _ = chain
    front.set_faults([Fault("t", SseAction(end_early=True))])
    with httpx.Client(base_url=front.urls["t"]) as c:
        text = c.post("/v1/messages", json={"stream": True}).text
    assert "message_stop" not in text
    assert text.count("event: delta") == EVENTS - 1


def test_unreachable_upstream_is_a_502_in_the_journal() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    with Gateway({"t": TargetConfig(TinyDialect(), upstream=dead)}, admin=False) as gw:
        r = httpx.get(gw.urls["t"] + "/v1/models")
        assert r.status_code == 502
        assert dead in r.text
        assert gw.journal()[0].outcome == "upstream_error"


def test_real_network_needs_permission() -> None:
    with pytest.raises(NetworkNotAllowed, match="LLM_CHAOS_ALLOW_NETWORK=1"):
        Gateway({"t": TargetConfig("openai", upstream="https://api.openai.com")})
    Gateway({"t": TargetConfig("openai", upstream="https://api.openai.com")}, allow_network=True)
    Gateway({"t": TargetConfig("openai", upstream="http://localhost:1")})  # loopback is fine


def test_bad_upstream_and_dialect_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="neither 'fake' nor an http"):
        Gateway({"t": TargetConfig("openai", upstream="ftp://x")})
    with pytest.raises(ConfigError, match=r"unknown dialect 'nope'; valid: .*openai"):
        Gateway({"t": TargetConfig("nope")})
