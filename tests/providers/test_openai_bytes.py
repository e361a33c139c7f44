"""The OpenAI dialect byte for byte: error bodies, streams and the fake's validation.

Expected bytes are the recorded examples of reference/providers.md §2.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from chaos import ConfigError
from chaos.providers import DIALECTS, OpenAIDialect, Request, Response
from chaos.providers._sse import parse_frame
from chaos.providers.openai import go_duration

AUTH = [("Authorization", "Bearer sk-test")]


def serve(dialect: OpenAIDialect, method: str, path: str, body: object = None, headers=AUTH):
    raw = b"" if body is None else json.dumps(body).encode()
    return asyncio.run(dialect.serve(Request(method, path, list(headers), raw)))


def frames_of(response: Response) -> list[bytes]:
    async def collect() -> list[bytes]:
        assert response.events is not None
        return [frame async for frame in response.events]

    return asyncio.run(collect())


def header(response: Response, name: str) -> str | None:
    return next((v for k, v in response.headers if k.lower() == name), None)


# -- error catalogue ----------------------------------------------------------------


def test_registered_under_its_name() -> None:
    assert DIALECTS["openai"] is OpenAIDialect
    assert OpenAIDialect.env["OPENAI_BASE_URL"] == "{url}/v1"


def test_quota_body_is_the_recorded_four_space_json() -> None:
    # providers.md §2.6, verbatim.
    expected = """{
    "error": {
        "message": "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "type": "insufficient_quota",
        "param": null,
        "code": "insufficient_quota"
    }
}
"""  # noqa: E501
    response = OpenAIDialect().error("quota_exceeded")
    assert response.status == 429
    assert response.body.decode() == expected


def test_request_too_large_is_the_recorded_429() -> None:
    # providers.md §2.6 prints it as a dict; the wire form is the 4-space JSON.
    recorded = {
        "error": {
            "message": "Request too large for gpt-4o in organization org-VDAWofJASuLH0vVz8o9tiQZr"
            " on tokens per min (TPM): Limit 30000, Requested 30601. The input or output tokens"
            " must be reduced in order to run successfully. Visit"
            " https://platform.openai.com/account/rate-limits to learn more.",
            "type": "tokens",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    }
    response = OpenAIDialect().error("request_too_large")
    assert response.status == 429
    assert response.body == (json.dumps(recorded, indent=4) + "\n").encode()


def test_overloaded_is_503_server_is_overloaded() -> None:
    response = OpenAIDialect().error("overloaded")
    assert response.status == 503
    assert json.loads(response.body) == {
        "error": {
            "message": "Our servers are currently overloaded. Please try again later.",
            "type": "service_unavailable_error",
            "param": None,
            "code": "server_is_overloaded",
        }
    }


def test_cloudflare_502_is_the_recorded_84_bytes() -> None:
    # providers.md §2.8: compact, content-length 84, server: cloudflare.
    response = OpenAIDialect().error("bad_gateway")
    assert response.status == 502
    assert response.body == (
        b'{"error":{"code":502,"message":"Bad gateway.","param":null,"type":"cf_bad_gateway"}}'
    )
    assert len(response.body) == 84
    assert header(response, "server") == "cloudflare"
    unavailable = OpenAIDialect().error("service_unavailable")
    assert unavailable.body == (
        b'{"error":{"code":503,"message":"Service Unavailable.","param":null,'
        b'"type":"cf_service_unavailable"}}'
    )


STATUS = {
    "bad_request": 400,
    "unauthorized": 401,
    "forbidden": 403,
    "not_found": 404,
    "request_too_large": 429,
    "rate_limited": 429,
    "quota_exceeded": 429,
    "server_error": 500,
    "bad_gateway": 502,
    "service_unavailable": 503,
    "overloaded": 503,
    "gateway_timeout": 504,
}


def test_every_required_kind_is_in_the_catalogue() -> None:
    assert set(OpenAIDialect().error_kinds()) == set(STATUS)


@pytest.mark.parametrize("kind", sorted(STATUS))
def test_every_api_error_has_the_openai_shape(kind: str) -> None:
    response = OpenAIDialect().error(kind)
    assert response.status == STATUS[kind]
    if kind in ("bad_gateway", "service_unavailable", "gateway_timeout"):
        return  # the edge answers these (tested above and in test_edge)
    error = json.loads(response.body)["error"]
    assert list(error) == ["message", "type", "param", "code"]
    assert response.body == (json.dumps({"error": error}, indent=4) + "\n").encode()
    assert re.fullmatch(r"req_[0-9a-f]{32}", header(response, "x-request-id") or "")
    assert header(response, "content-type") == "application/json"


def test_unauthorized_says_invalid_api_key_and_realm() -> None:
    response = OpenAIDialect().error("unauthorized")
    error = json.loads(response.body)["error"]
    assert error["code"] == "invalid_api_key"
    assert error["message"].startswith("Incorrect API key provided: sk-chaos")
    assert header(response, "www-authenticate") == 'Bearer realm="OpenAI API"'


def test_rate_limit_headers_use_go_durations() -> None:
    response = OpenAIDialect().error("rate_limited")
    assert header(response, "x-ratelimit-remaining-tokens") == "0"
    assert header(response, "x-ratelimit-reset-tokens") == "644ms"
    assert header(response, "x-ratelimit-reset-requests") == "120ms"
    assert header(response, "retry-after") is None


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0s"), (0.12, "120ms"), (0.066, "66ms"), (8.64, "8.64s"), (360, "6m0s"), (3725, "1h2m5s")],
)
def test_go_duration(seconds: float, text: str) -> None:
    assert go_duration(seconds) == text


def test_retry_steering_parameters() -> None:
    response = OpenAIDialect().error(
        "rate_limited", retry_after=2, retry_after_ms=1500, should_retry=False, message="slow down"
    )
    assert header(response, "retry-after") == "2"
    assert header(response, "retry-after-ms") == "1500"
    assert header(response, "x-should-retry") == "false"
    assert json.loads(response.body)["error"]["message"] == "slow down"
    assert header(OpenAIDialect().error("server_error", retry_after=0.5), "retry-after") == "0.5"
    edge = OpenAIDialect().error("gateway_timeout", message="Upstream timed out.")
    assert edge.status == 504
    assert edge.body == (
        b'{"error":{"code":504,"message":"Upstream timed out.","param":null,'
        b'"type":"cf_gateway_timeout"}}'
    )


def test_unknown_kind_lists_the_choices_and_the_close_match() -> None:
    with pytest.raises(ConfigError, match=r"'overload'.*did you mean 'overloaded'.*bad_gateway"):
        OpenAIDialect().error("overload")
    with pytest.raises(ConfigError, match="valid: bad_gateway"):
        OpenAIDialect().stream_error("nope", operation="chat.completions.create")


# -- in-stream errors -----------------------------------------------------------------


def test_chat_stream_error_is_the_recorded_data_line_then_done() -> None:
    # providers.md §2.7, with a fresh 32-hex request id in place of the recorded one.
    recorded = (
        'data: {"error":{"message":"The server had an error processing your request. Sorry about'
        " that! You can retry your request, or contact us through our help center at"
        " help.openai.com if you keep seeing this error. (Please include the request ID"
        ' fb94b183e8b7bc5aca22fa62981cc107 in your email.)","type":"server_error","param":null,'
        '"code":null}}\n\ndata: [DONE]\n\n'
    )
    frame = OpenAIDialect().stream_error("server_error", operation="chat.completions.create")
    request_id = re.search(rb"request ID ([0-9a-f]{32})", frame)
    assert request_id is not None
    assert frame.decode() == recorded.replace(
        "fb94b183e8b7bc5aca22fa62981cc107", request_id[1].decode()
    )


def test_responses_stream_error_is_the_recorded_event() -> None:
    # providers.md §2.5, the nested shape the SDK raises on.
    frame = OpenAIDialect().stream_error("overloaded", operation="responses.create")
    assert frame == (
        b'event: error\ndata: {"type":"error","error":{"type":"service_unavailable_error",'
        b'"code":"server_is_overloaded","message":"Our servers are currently overloaded.'
        b' Please try again later."}}\n\n'
    )


def test_response_failed_event_has_the_recorded_shape() -> None:
    frame = OpenAIDialect().response_failed_event(
        "overloaded", response_id="resp_1", model="gpt-5.5", sequence_number=3
    )
    event = parse_frame(frame)
    assert event.event == "response.failed"
    data = event.json()
    assert isinstance(data, dict)
    data["response"].pop("created_at")
    assert data == {
        "type": "response.failed",
        "sequence_number": 3,
        "response": {
            "id": "resp_1",
            "status": "failed",
            "error": {
                "code": "server_is_overloaded",
                "message": "Our servers are currently overloaded. Please try again later.",
            },
            "model": "gpt-5.5",
            "usage": None,
            "output": [],
        },
    }
    assert OpenAIDialect().is_terminal_event(frame, operation="responses.create")


# -- streams from the fake --------------------------------------------------------------

CHUNK_KEYS = [
    "id",
    "object",
    "created",
    "model",
    "service_tier",
    "system_fingerprint",
    "choices",
    "obfuscation",
]


def chat_body(**extra: object) -> dict[str, object]:
    return {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "Count to 3"}],
        **extra,
    }


def test_chat_stream_has_the_recorded_chunk_shapes() -> None:
    dialect = OpenAIDialect()
    response = serve(dialect, "POST", "/v1/chat/completions", chat_body(stream=True))
    assert response.status == 200
    assert header(response, "content-type") == "text/event-stream; charset=utf-8"
    frames = frames_of(response)
    assert all(f.startswith(b"data: ") and f.endswith(b"\n\n") and b"\r" not in f for f in frames)
    assert frames[-1] == b"data: [DONE]\n\n"
    chunks = [json.loads(f[6:]) for f in frames[:-1]]
    assert all(list(c) == CHUNK_KEYS for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"] == [
        {
            "index": 0,
            "delta": {"role": "assistant", "content": "", "refusal": None},
            "logprobs": None,
            "finish_reason": None,
        }
    ]
    assert chunks[-1]["choices"][0]["delta"] == {}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text == "Echo: Count to 3"
    assert [dialect.is_terminal_event(f, operation="chat.completions.create") for f in frames] == [
        False
    ] * (len(frames) - 1) + [True]


def test_chat_stream_usage_chunk_comes_last_before_done() -> None:
    body = chat_body(stream=True, stream_options={"include_usage": True})
    frames = frames_of(serve(OpenAIDialect(), "POST", "/v1/chat/completions", body))
    chunks = [json.loads(f[6:]) for f in frames[:-1]]
    assert all(c["usage"] is None for c in chunks[:-1])
    last = chunks[-1]
    assert last["choices"] == []
    assert last["usage"]["completion_tokens"] == len(chunks) - 3  # minus role, finish, usage
    usage = last["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


RESPONSE_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]


def test_responses_stream_events_are_named_ordered_and_numbered() -> None:
    dialect = OpenAIDialect()
    body = {"model": "gpt-4o", "input": "Say hi", "stream": True}
    frames = frames_of(serve(dialect, "POST", "/v1/responses", body))
    events = [parse_frame(f) for f in frames]
    assert all(re.match(rb"event: [\w.]+\ndata: \{", f) and f.endswith(b"}\n\n") for f in frames)
    names = [e.event for e in events]
    deltas = names.count("response.output_text.delta")
    assert deltas == 4  # "Echo", ":", " Say", " hi"
    assert [n for i, n in enumerate(names) if i == 0 or n != names[i - 1]] == RESPONSE_EVENTS
    data = [e.json() for e in events]
    assert [d["type"] for d in data] == names
    assert [d["sequence_number"] for d in data] == list(range(len(data)))
    final = data[-1]["response"]
    assert final["status"] == "completed"
    assert final["output"][0]["content"][0]["text"] == "Echo: Say hi"
    assert {d["response"]["id"] for d in data if "response" in d} == {final["id"]}
    terminal = [dialect.is_terminal_event(f, operation="responses.create") for f in frames]
    assert terminal == [False] * (len(frames) - 1) + [True]


def test_token_rate_paces_the_stream() -> None:
    dialect = OpenAIDialect(token_rate=50)
    body = json.dumps(chat_body(stream=True)).encode()

    async def timed() -> tuple[int, float]:
        loop = asyncio.get_running_loop()
        response = await dialect.serve(Request("POST", "/v1/chat/completions", AUTH, body))
        assert response.events is not None
        start = loop.time()
        frames = [f async for f in response.events]
        return len(frames), loop.time() - start

    count, elapsed = asyncio.run(timed())
    # role, 5 tokens ("Echo", ":", " Count", " to", " 3"), finish, [DONE]: 7 gaps of 20 ms
    assert count == 8
    assert elapsed >= 7 * 0.02 * 0.9


def test_token_rate_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="token_rate"):
        OpenAIDialect(token_rate=0)


def test_crlf_framing_when_asked() -> None:
    dialect = OpenAIDialect(sse_newline="\r\n")
    frames = frames_of(serve(dialect, "POST", "/v1/chat/completions", chat_body(stream=True)))
    assert frames[-1] == b"data: [DONE]\r\n\r\n"
    assert all(f.endswith(b"}\r\n\r\n") for f in frames[:-1])
    assert dialect.is_terminal_event(frames[-1], operation="chat.completions.create")
    error = dialect.stream_error("overloaded", operation="responses.create")
    assert error.startswith(b"event: error\r\ndata: {")
    assert error.endswith(b"}\r\n\r\n")
    with pytest.raises(ConfigError, match="sse_newline"):
        OpenAIDialect(sse_newline="\r")  # type: ignore[arg-type]
