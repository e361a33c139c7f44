"""Gemini over real sockets: raw httpx against the Gemini fake behind the real gateway."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from chaos.faults import ErrorAction, Fault, Match, SseAction
from chaos.gateway import Gateway, TargetConfig
from chaos.providers import GeminiDialect

BODY = {"contents": [{"role": "user", "parts": [{"text": "Say hello"}]}]}
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    gw = Gateway({"gemini": TargetConfig(GeminiDialect())}, admin=False, seed=3)
    gw.start_in_thread()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def http(gateway: Gateway) -> Iterator[httpx.Client]:
    gateway.clear()
    with httpx.Client(
        base_url=gateway.urls["gemini"], headers={"x-goog-api-key": "k"}, timeout=10
    ) as client:
        yield client
    gateway.clear()


def test_generate_content_over_http(http: httpx.Client) -> None:
    response = http.post(GENERATE, json=BODY)
    assert response.status_code == 200
    body = response.json()
    assert body["candidates"][0]["content"]["parts"][0]["text"] == "Echo: Say hello"
    assert response.headers["server"] == "scaffolding on HTTPServer2"


def test_sse_stream_arrives_crlf_framed(http: httpx.Client) -> None:
    with http.stream("POST", STREAM, json=BODY) as response:
        assert response.headers["content-type"] == "text/event-stream"
        raw = response.read()
    frames = raw.split(b"\r\n\r\n")
    assert frames[-1] == b""
    texts = [json.loads(f[6:])["candidates"][0]["content"]["parts"][0]["text"] for f in frames[:-1]]
    assert "".join(texts) == "Echo: Say hello"


def test_key_in_the_query_string_is_accepted(gateway: Gateway) -> None:
    url = gateway.urls["gemini"] + GENERATE
    with httpx.Client(timeout=10) as client:
        assert client.post(url, params={"key": "k"}, json=BODY).status_code == 200
        assert client.post(url, json=BODY).status_code == 403


def test_injected_429_has_retry_info_and_no_retry_after(
    gateway: Gateway, http: httpx.Client
) -> None:
    gateway.set_faults([Fault("gemini", ErrorAction(error="rate_limited"))])
    response = http.post(GENERATE, json=BODY)
    assert response.status_code == 429
    assert "retry-after" not in response.headers
    error = response.json()["error"]
    assert error["status"] == "RESOURCE_EXHAUSTED"
    assert error["details"][-1]["retryDelay"] == "26s"
    assert gateway.journal()[-1].operation == "models.generate_content"


def test_explicit_retry_after_sets_the_retry_delay(gateway: Gateway, http: httpx.Client) -> None:
    gateway.set_faults([Fault("gemini", ErrorAction(error="overloaded", retry_after=3))])
    response = http.post(GENERATE, json=BODY)
    assert response.status_code == 503
    assert response.json()["error"]["details"][-1]["retryDelay"] == "3s"


def test_overload_only_on_streams_leaves_generate_working(
    gateway: Gateway, http: httpx.Client
) -> None:
    fault = Fault(
        "gemini", ErrorAction(error="overloaded"), Match(operation="models.generate_content_stream")
    )
    gateway.set_faults([fault])
    assert http.post(STREAM, json=BODY).status_code == 503
    assert http.post(GENERATE, json=BODY).status_code == 200


def test_in_stream_error_frame_after_two_chunks(gateway: Gateway, http: httpx.Client) -> None:
    fault = Fault(
        "gemini",
        SseAction(error_event="overloaded", after=2),
        Match(operation="models.generate_content_stream", stream=True),
    )
    gateway.set_faults([fault])
    with http.stream("POST", STREAM, json=BODY) as response:
        assert response.status_code == 200
        frames = response.read().split(b"\r\n\r\n")[:-1]
    assert len(frames) == 3
    assert json.loads(frames[-1][6:]) == {
        "error": {
            "code": 503,
            "message": "The model is overloaded. Please try again later.",
            "status": "UNAVAILABLE",
        }
    }
