"""Anthropic error bodies and streams, byte for byte against the reference's recordings.

Recorded examples are from ``reference/providers.md`` §1.5, §1.7 and §1.8; ids, ray ids
and the random whitespace padding are the only bytes allowed to differ.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from chaos import ConfigError
from chaos.providers import DIALECTS, AnthropicDialect, Request
from chaos.providers._sse import parse_frame, split_frames

REQ_ID = re.compile(rb'"request_id":"req_011C[0-9A-Za-z]{20}"')

RECORDED_429 = (
    b'{"type":"error","error":{"type":"rate_limit_error","message":"This request would exceed '
    b"your organization's rate limit of 20,000,000 prompt bytes per hour (org: "
    b"5576611f-a1ee-427c-9800-298d9579899c, model: claude-sonnet-4-5-20250929). For details, "
    b"refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers "
    b"for current usage. Please reduce the prompt length or the maximum tokens requested, or "
    b"try again later. You may also contact sales at https://www.anthropic.com/contact-sales to "
    b'discuss your options for a rate limit increase."},'
    b'"request_id":"req_011CYK5mje9HkutJtmfPzzNC"}'
)
RECORDED_529 = (
    b'{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},'
    b'"request_id":"req_011CZbiHognn1znP8MCgREwD"}'
)
RECORDED_500 = (
    b'{"type":"error","error":{"type":"api_error","message":"Internal server error"},'
    b'"request_id":"req_011CXmPAT8xd3GWgKxdq8TRC"}'
)
RECORDED_401 = (
    b'{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},'
    b'"request_id":"req_011CXw8h8A796q3f74Ezmhav"}'
)
RECORDED_400 = (
    b'{"type":"error","error":{"type":"invalid_request_error","message":"messages.0.content.1: '
    b"unexpected `tool_use_id` found in `tool_result` blocks: toolu_01GHndag5wQmbzNihYmV2UBj. "
    b"Each `tool_result` block must have a corresponding `tool_use` block in the previous "
    b'message."},"request_id":"req_011CYHyk9NPsBYeGbC9LuDNK"}'
)
RECORDED_STREAM_ERROR = (
    b"event: error\n"
    b'data: {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}\n\n'
)
RECORDED_STREAM = b"""event: message_start
data: {"type":"message_start","message":{"model":"claude-sonnet-4-5-20250929","id":"msg_013nnniYDrJDocdy5nrMU7cH","type":"message","role":"assistant","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":135,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":0,"ephemeral_1h_input_tokens":0},"output_tokens":1,"service_tier":"standard","inference_geo":"not_available"}}   }

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}     }

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"["}             }

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"12"}   }

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"345,"}    }

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"67890]"}               }

event: content_block_stop
data: {"type":"content_block_stop","index":0        }

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"end_turn","stop_sequence":null},"usage":{"input_tokens":135,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":10}             }

event: message_stop
data: {"type":"message_stop"              }

"""  # noqa: E501
HEADERS = [("x-api-key", "sk-test"), ("anthropic-version", "2023-06-01")]


def _same_modulo_request_id(ours: bytes, recorded: bytes) -> None:
    assert REQ_ID.search(ours), ours
    assert REQ_ID.sub(b"<id>", ours) == REQ_ID.sub(b"<id>", recorded)
    assert len(ours) == len(recorded)


@pytest.fixture
def dialect() -> AnthropicDialect:
    return AnthropicDialect(seed=7)


def test_registered_by_name() -> None:
    assert DIALECTS["anthropic"] is AnthropicDialect
    assert AnthropicDialect.env["ANTHROPIC_BASE_URL"] == "{url}"
    assert AnthropicDialect.env["ANTHROPIC_API_KEY"]
    assert AnthropicDialect.request_id_header == "request-id"


def test_429_is_the_recorded_606_bytes_with_should_retry_and_no_retry_after(dialect) -> None:
    response = dialect.error("rate_limited")
    assert response.status == 429
    _same_modulo_request_id(response.body, RECORDED_429)
    assert len(response.body) == 606
    headers = dict(response.headers)
    assert headers["x-should-retry"] == "true"
    assert "retry-after" not in headers
    assert "retry-after-ms" not in headers
    assert headers["content-type"] == "application/json"
    assert headers["request-id"].encode() in response.body


@pytest.mark.parametrize(
    ("kind", "status", "recorded"),
    [("overloaded", 529, RECORDED_529), ("server_error", 500, RECORDED_500)],
)
def test_5xx_bodies_match_the_recordings(dialect, kind, status, recorded) -> None:
    response = dialect.error(kind)
    assert response.status == status
    _same_modulo_request_id(response.body, recorded)


def test_529_headers_as_recorded(dialect) -> None:
    headers = dict(dialect.error("overloaded").headers)
    assert headers["x-should-retry"] == "true"
    assert headers["cache-control"] == "no-store, no-cache"
    assert headers["server"] == "cloudflare"
    assert re.fullmatch(r"req_011C[0-9A-Za-z]{20}", headers["request-id"])


def test_400_with_the_recorded_message_is_the_recorded_316_bytes(dialect) -> None:
    message = json.loads(RECORDED_400)["error"]["message"]
    response = dialect.error("bad_request", message=message)
    _same_modulo_request_id(response.body, RECORDED_400)
    assert len(response.body) == 316
    assert dict(response.headers)["x-should-retry"] == "false"


def test_401_and_400_bodies(dialect) -> None:
    _same_modulo_request_id(dialect.error("unauthorized").body, RECORDED_401)
    bad = dialect.error("bad_request")
    assert bad.status == 400
    assert dict(bad.headers)["x-should-retry"] == "false"
    assert json.loads(bad.body)["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("kind", "status", "error_type"),
    [
        ("bad_request", 400, "invalid_request_error"),
        ("unauthorized", 401, "authentication_error"),
        ("billing", 402, "billing_error"),
        ("forbidden", 403, "permission_error"),
        ("not_found", 404, "not_found_error"),
        ("conflict", 409, "conflict_error"),
        ("request_too_large", 413, "request_too_large"),
        ("rate_limited", 429, "rate_limit_error"),
        ("quota_exceeded", 429, "rate_limit_error"),
        ("server_error", 500, "api_error"),
        ("gateway_timeout", 504, "timeout_error"),
        ("overloaded", 529, "overloaded_error"),
    ],
)
def test_json_error_catalogue(dialect, kind, status, error_type) -> None:
    response = dialect.error(kind)
    body = json.loads(response.body)
    assert response.status == status
    assert list(body) == ["type", "error", "request_id"]
    assert body["type"] == "error"
    assert body["error"]["type"] == error_type
    assert body["error"]["message"]
    assert body["request_id"] == dict(response.headers)["request-id"]
    assert json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() == response.body


def test_edge_kinds_are_what_reaches_clients(dialect) -> None:
    gateway = dialect.error("bad_gateway")
    assert gateway.status == 502
    assert b"<title>api.anthropic.com | 502: Bad gateway</title>" in gateway.body
    unavailable = dialect.error("service_unavailable", message="upstream connect error x")
    assert (unavailable.status, unavailable.body) == (503, b"upstream connect error x")
    assert dict(unavailable.headers)["content-type"] == "text/plain"


def test_quota_exceeded_never_has_retry_after(dialect) -> None:
    headers = dict(dialect.error("quota_exceeded").headers)
    assert "retry-after" not in headers
    assert "usage limits" in json.loads(dialect.error("quota_exceeded").body)["error"]["message"]


@pytest.mark.parametrize("kind", AnthropicDialect().error_kinds())
def test_steering_parameters_work_on_every_kind(dialect, kind) -> None:
    response = dialect.error(
        kind, retry_after=1.5, retry_after_ms=50, should_retry=False, message="custom text"
    )
    headers = dict(response.headers)
    assert headers["retry-after"] == "1.5"
    assert headers["retry-after-ms"] == "50"
    assert headers["x-should-retry"] == "false"
    assert b"custom text" in response.body


def test_integral_retry_after_is_written_as_an_integer(dialect) -> None:
    assert dict(dialect.error("rate_limited", retry_after=3).headers)["retry-after"] == "3"


def test_unknown_kind_lists_the_valid_ones_with_a_close_match(dialect) -> None:
    with pytest.raises(
        ConfigError, match=r"'overload' \(did you mean 'overloaded'\?\).*server_error"
    ):
        dialect.error("overload")
    with pytest.raises(ConfigError, match="valid: bad_gateway, bad_request"):
        dialect.stream_error("nope", operation="messages.create")


def test_in_stream_error_is_the_documented_frame(dialect) -> None:
    assert dialect.stream_error("overloaded", operation="messages.create") == RECORDED_STREAM_ERROR
    api = parse_frame(dialect.stream_error("server_error", operation=None, message="boom")).json()
    assert api == {"type": "error", "error": {"type": "api_error", "message": "boom"}}


def _stream(dialect: AnthropicDialect, body: dict) -> list[bytes]:
    async def collect() -> list[bytes]:
        response = await dialect.serve(
            Request("POST", "/v1/messages", HEADERS, json.dumps(body).encode())
        )
        assert response.status == 200
        assert response.events is not None
        return [frame async for frame in response.events]

    return asyncio.run(collect())


_PADDING = re.compile(rb" *}\n\n$")


def _normalize(frame: bytes) -> bytes:
    """Drop padding, ids, texts and token counts: what must then match is the structure."""
    frame = _PADDING.sub(b"}\n\n", frame)
    frame = re.sub(rb'"(id|model)":"[^"]*"', rb'"\1":"<x>"', frame)
    frame = re.sub(rb'"text":"[^"]+"', b'"text":"<t>"', frame)
    return re.sub(rb'"(input_tokens|output_tokens)":\d+', rb'"\1":0', frame)


def test_stream_matches_the_recorded_stream_modulo_ids_text_and_padding() -> None:
    frames = _stream(
        AnthropicDialect(seed=1),
        {
            "model": "claude-sonnet-4-5-20250929",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "hi"}],
            "stream": True,
        },
    )
    recorded = split_frames(RECORDED_STREAM)
    ours = [_normalize(f) for f in frames]
    theirs = [_normalize(f) for f in recorded]
    # same head (start, block start, ping) and tail (block stop, message delta, stop)
    assert ours[:3] == theirs[:3]
    assert ours[-3:] == theirs[-3:]
    deltas = ours[3:-3]
    assert deltas
    assert set(deltas) == {theirs[3]}
    assert b"".join(frames).count(b"\n\n") == len(frames)


def test_stream_padding_is_0_to_15_spaces_and_ping_is_unpadded() -> None:
    frames = _stream(
        AnthropicDialect(seed=3),
        {
            "model": "claude-opus-4-6",
            "max_tokens": 64,
            "messages": [{"role": "user", "content": "one two three four"}],
            "stream": True,
        },
    )
    paddings = set()
    for frame in frames:
        event = parse_frame(frame)
        if event.event == "ping":
            assert frame == b'event: ping\ndata: {"type": "ping"}\n\n'
            continue
        match = re.search(rb"( *)}\n\n$", frame)
        assert match is not None
        paddings.add(len(match.group(1)))
    assert max(paddings) <= 15
    assert len(paddings) > 1


def test_unpadded_streams_are_byte_stable() -> None:
    body = {
        "model": "claude-opus-4-6",
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "x"}],
        "stream": True,
    }
    frames = _stream(AnthropicDialect(pad_events=False), body)
    assert all(not f.endswith(b" }\n\n") for f in frames)
    assert frames[-1] == b'event: message_stop\ndata: {"type":"message_stop"}\n\n'


def test_terminal_events(dialect) -> None:
    assert dialect.is_terminal_event(
        b'event: message_stop\ndata: {"type":"message_stop"    }\n\n', operation="messages.create"
    )
    assert not dialect.is_terminal_event(
        b"event: message_delta\ndata: {}\n\n", operation="messages.create"
    )
    assert not dialect.is_terminal_event(RECORDED_STREAM_ERROR, operation="messages.create")
    done = (
        b"event: completion\n"
        b'data: {"type":"completion","completion":"","stop_reason":"stop_sequence"}\n\n'
    )
    more = b'event: completion\ndata: {"type":"completion","completion":"a","stop_reason":null}\n\n'
    assert dialect.is_terminal_event(done, operation="completions.create")
    assert not dialect.is_terminal_event(more, operation="completions.create")
