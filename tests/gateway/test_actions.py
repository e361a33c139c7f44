"""Every action kind on the wire, with the tiny dialect: the exact bytes a client gets."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import httpx
import pytest

from chaos.common._journal import JournalRecord
from chaos.faults import (
    DelayAction,
    EdgeAction,
    ErrorAction,
    Fault,
    Match,
    RespondAction,
    SseAction,
    WireAction,
)
from chaos.gateway import Gateway
from tests.gateway._raw import connect, read_all, read_until, request
from tests.gateway._tiny import EVENTS

STREAM = b'{"model": "m", "stream": true}'
PLAIN = b'{"model": "m"}'


def _last(gw: Gateway, outcome: str, timeout: float = 5.0) -> JournalRecord:
    """The newest journal record once its outcome is ``outcome`` (the end may lag a close)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        records = gw.journal()
        if records and records[-1].outcome == outcome:
            return records[-1]
        time.sleep(0.01)
    raise AssertionError(f"no {outcome!r} record; journal: {gw.journal()}")


def _set(gw: Gateway, action, **match: object) -> None:
    gw.set_faults([Fault("t", action, match=Match(**match), name="f")])  # type: ignore[arg-type]


def _chunks(body: bytes) -> tuple[list[bytes], bool]:
    """Decode a chunked body: (chunks, whether the zero chunk ended it)."""
    chunks = []
    while body:
        size_line, _, body = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return chunks, True
        chunks.append(body[:size])
        body = body[size + 2 :]
    return chunks, False


def _raw(gw: Gateway, payload: bytes, timeout: float = 5.0) -> tuple[bytes, bytes, str]:
    with connect(gw.urls["t"], timeout=timeout) as s:
        s.sendall(request("POST", "/v1/messages", payload, {"connection": "close"}))
        data, how = read_all(s, limit=timeout)
    head, _, body = data.partition(b"\r\n\r\n")
    return head, body, how


def test_error_renders_the_dialect_answer_with_retry_steering(
    gateway: Gateway, client: httpx.Client
) -> None:
    _set(
        gateway,
        ErrorAction(
            "overloaded", retry_after=2, retry_after_ms=1500, should_retry=False, message="busy"
        ),
    )
    r = client.post("/v1/messages", json={})
    assert r.status_code == 529
    assert r.json() == {"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}
    assert r.headers["retry-after"] == "2"
    assert r.headers["retry-after-ms"] == "1500"
    assert r.headers.get_list("x-should-retry") == ["false"]  # the dialect's, not doubled
    record = gateway.journal()[-1]
    assert (record.status, record.outcome, record.rule) == (529, "fault", "f")


def test_respond_sends_exactly_what_it_is_given(gateway: Gateway, client: httpx.Client) -> None:
    _set(gateway, RespondAction(status=503, headers={"x-custom": "1"}, body={"down": True}))
    r = client.post("/v1/messages", json={})
    assert (r.status_code, r.headers["x-custom"], r.content) == (503, "1", b'{"down":true}')
    assert r.headers["content-type"] == "application/json"
    _set(gateway, RespondAction(status=200, body="plain text"))
    assert client.get("/v1/models").text == "plain text"


def test_edge_page(gateway: Gateway, client: httpx.Client) -> None:
    _set(gateway, EdgeAction("cloudflare_502"))
    r = client.post("/v1/messages", json={})
    assert r.status_code == 502
    assert r.headers["content-type"].startswith("text/html")
    assert "cloudflare" in r.text.lower()


def test_delay_holds_the_headers_then_answers(gateway: Gateway, client: httpx.Client) -> None:
    _set(gateway, DelayAction(300))
    start = time.monotonic()
    r = client.post("/v1/messages", json={})
    assert time.monotonic() - start >= 0.29
    assert r.json()["text"] == "hello world"
    assert gateway.journal()[-1].action == "delay:300ms"


def test_hang_never_answers(gateway: Gateway) -> None:
    _set(gateway, WireAction("hang"))
    head, body, how = _raw(gateway, PLAIN, timeout=0.3)
    assert (head, body, how) == (b"", b"", "timeout")
    record = _last(gateway, "hang")
    assert record.status is None


def test_reset_sends_rst(gateway: Gateway) -> None:
    _set(gateway, WireAction("reset"))
    head, _, how = _raw(gateway, PLAIN)
    assert (head, how) == (b"", "reset")
    assert gateway.journal()[-1].outcome == "reset"


def test_close_sends_fin_before_any_byte(gateway: Gateway) -> None:
    _set(gateway, WireAction("close"))
    head, _, how = _raw(gateway, PLAIN)
    assert (head, how) == (b"", "eof")
    assert gateway.journal()[-1].outcome == "closed"


def test_truncate_promises_a_body_it_does_not_send(gateway: Gateway) -> None:
    _set(gateway, WireAction("truncate", fraction=0.5))
    head, body, how = _raw(gateway, PLAIN)
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    assert how == "eof"
    assert 0 < len(body) == length // 2


def test_truncate_stream_ends_without_the_zero_chunk(gateway: Gateway) -> None:
    _set(gateway, WireAction("truncate"))
    head, body, how = _raw(gateway, STREAM)
    chunks, terminated = _chunks(body)
    assert b"transfer-encoding: chunked" in head
    assert how == "eof"
    assert not terminated
    assert b"message_stop" not in b"".join(chunks)
    assert gateway.journal()[-1].outcome == "truncated"


def test_malformed_is_200_with_invalid_json(gateway: Gateway, client: httpx.Client) -> None:
    _set(gateway, WireAction("malformed"))
    r = client.post("/v1/messages", json={})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(r.content)


def test_malformed_stream_carries_a_broken_data_line(gateway: Gateway) -> None:
    _set(gateway, WireAction("malformed"))
    _, body, _ = _raw(gateway, STREAM, timeout=1)
    chunks, terminated = _chunks(body)
    assert terminated
    data = chunks[0].split(b"data: ", 1)[1].strip()
    with pytest.raises(json.JSONDecodeError):
        json.loads(data)


def test_drip_sends_the_body_slowly(gateway: Gateway, client: httpx.Client) -> None:
    _set(gateway, WireAction("drip", interval=20, chunk=8))
    start = time.monotonic()
    r = client.post("/v1/messages", json={"model": "m"})
    size = len(r.content)
    assert r.json()["text"] == "hello world"
    assert time.monotonic() - start >= 0.02 * (size // 8) * 0.9


def _stream(gw: Gateway, timeout: float = 5.0) -> tuple[list[bytes], bool, str]:
    _, body, how = _raw(gw, STREAM, timeout=timeout)
    chunks, terminated = _chunks(body)
    return chunks, terminated, how


@pytest.mark.parametrize("n", [0, 2])
def test_sse_cut_after(gateway: Gateway, n: int) -> None:
    _set(gateway, SseAction(cut_after=n))
    chunks, terminated, how = _stream(gateway)
    assert (len(chunks), terminated, how) == (n, False, "eof")
    assert _last(gateway, "stream_cut").events == n


def test_sse_error_event_after(gateway: Gateway) -> None:
    _set(gateway, SseAction(error_event="overloaded", after=2))
    chunks, terminated, _ = _stream(gateway)
    assert terminated
    assert len(chunks) == 3
    assert chunks[2].startswith(b"event: error\ndata: ")
    assert b"overloaded_error" in chunks[2]
    assert gateway.journal()[-1].outcome == "stream_error"


def test_sse_end_early_ends_cleanly_without_the_terminal_event(gateway: Gateway) -> None:
    _set(gateway, SseAction(end_early=True))
    chunks, terminated, _ = _stream(gateway)
    assert terminated
    assert len(chunks) == EVENTS - 1
    assert not any(c.startswith(b"event: message_stop") for c in chunks)
    assert gateway.journal()[-1].outcome == "stream_ended_early"


def test_sse_stall_after_keeps_the_connection_open(gateway: Gateway) -> None:
    _set(gateway, SseAction(stall_after=1))
    chunks, terminated, how = _stream(gateway, timeout=0.4)
    assert (len(chunks), terminated, how) == (1, False, "timeout")
    assert _last(gateway, "stream_stalled").events == 1


def test_sse_token_delay_paces_every_event(gateway: Gateway) -> None:
    _set(gateway, SseAction(token_delay=40))
    start = time.monotonic()
    chunks, terminated, _ = _stream(gateway)
    assert terminated
    assert len(chunks) == EVENTS
    assert time.monotonic() - start >= 0.04 * EVENTS * 0.9


def test_sse_fault_leaves_non_streaming_answers_alone(
    gateway: Gateway, client: httpx.Client
) -> None:
    _set(gateway, SseAction(cut_after=1))
    assert client.post("/v1/messages", json={}).json()["text"] == "hello world"


def test_client_going_away_mid_stream_is_journaled(gateway: Gateway) -> None:
    _set(gateway, SseAction(token_delay=100))
    with connect(gateway.urls["t"]) as s:
        s.sendall(request("POST", "/v1/messages", STREAM))
        read_until(s, b'{"i":0}')
    assert _last(gateway, "client_gone").events < EVENTS


def _wait(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert predicate()


def test_stop_ends_hanging_connections(gateway: Gateway) -> None:
    _set(gateway, WireAction("hang"))
    with connect(gateway.urls["t"]) as s:
        s.sendall(request("POST", "/v1/messages", PLAIN))
        _wait(lambda: len(gateway._conns) == 1)
        gateway.stop()
        _, how = read_all(s, limit=2)
    assert how in ("eof", "reset")
