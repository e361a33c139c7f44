"""The Gemini dialect byte for byte (reference/providers.md §3) and its fake's validation."""

from __future__ import annotations

import asyncio
import json

import pytest

from chaos import ConfigError
from chaos.providers import DIALECTS, CallInfo, GeminiDialect, Request, Response
from chaos.providers._sse import parse_frame
from chaos.providers.gemini import proto_duration

pytestmark = pytest.mark.sdk

KEY = [("x-goog-api-key", "test-key")]
GENERATE = "/v1beta/models/gemini-2.5-flash:generateContent"
STREAM = "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
BODY = {"contents": [{"role": "user", "parts": [{"text": "Count to three"}]}]}


def serve(path: str, body: object = BODY, headers=KEY, method: str = "POST", **options):
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    dialect = GeminiDialect(**options)
    return asyncio.run(dialect.serve(Request(method, path, list(headers), raw)))


def frames_of(response: Response) -> list[bytes]:
    async def collect() -> list[bytes]:
        assert response.events is not None
        return [frame async for frame in response.events]

    return asyncio.run(collect())


def header(response: Response, name: str) -> str | None:
    return next((v for k, v in response.headers if k.lower() == name), None)


def test_registered_with_the_sdk_environment() -> None:
    assert DIALECTS["gemini"] is GeminiDialect
    env = GeminiDialect.env
    assert env["GOOGLE_GEMINI_BASE_URL"] == "{url}"
    # one key: google-genai warns "Both GOOGLE_API_KEY and GEMINI_API_KEY are set"
    assert "GOOGLE_API_KEY" in env
    assert "GEMINI_API_KEY" not in env
    assert "GEMINI_API_KEY" in GeminiDialect.env_unset


def test_overloaded_is_the_recorded_503() -> None:
    response = GeminiDialect().error("overloaded")
    assert response.status == 503
    assert response.body.decode() == (
        "{\n"
        '  "error": {\n'
        '    "code": 503,\n'
        '    "message": "The model is overloaded. Please try again later.",\n'
        '    "status": "UNAVAILABLE"\n'
        "  }\n"
        "}\n"
    )


RECORDED_429 = {
    "error": {
        "code": 429,
        "message": "You exceeded your current quota, please check your plan and billing details."
        " For more information on this error, head to:"
        " https://ai.google.dev/gemini-api/docs/rate-limits.",
        "status": "RESOURCE_EXHAUSTED",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/"
                        "generate_content_free_tier_input_token_count",
                        "quotaId": "GenerateContentInputTokensPerModelPerMinute-FreeTier",
                        "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
                        "quotaValue": "250000",
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "26s"},
        ],
    }
}


def test_rate_limited_is_the_recorded_429_with_retry_info_and_no_retry_after() -> None:
    response = GeminiDialect().error("rate_limited")
    assert response.status == 429
    assert response.body == (json.dumps(RECORDED_429, indent=2) + "\n").encode()
    assert header(response, "retry-after") is None


def test_retry_after_goes_into_retry_info_only() -> None:
    response = GeminiDialect().error("rate_limited", retry_after=45.837906927)
    details = json.loads(response.body)["error"]["details"]
    assert details[-1] == {
        "@type": "type.googleapis.com/google.rpc.RetryInfo",
        "retryDelay": "45.837906927s",
    }
    assert header(response, "retry-after") is None
    overloaded = GeminiDialect().error("overloaded", retry_after_ms=300, should_retry=False)
    assert json.loads(overloaded.body)["error"]["details"][0]["retryDelay"] == "0.300s"
    assert header(overloaded, "x-should-retry") == "false"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(26, "26s"), (0.3, "0.300s"), (1.5e-5, "0.000015s"), (2.000000001, "2.000000001s")],
)
def test_proto_duration(seconds: float, text: str) -> None:
    assert proto_duration(seconds) == text


STATUS = {
    "bad_request": (400, "INVALID_ARGUMENT"),
    "unauthorized": (400, "INVALID_ARGUMENT"),
    "forbidden": (403, "PERMISSION_DENIED"),
    "not_found": (404, "NOT_FOUND"),
    "request_too_large": (400, "INVALID_ARGUMENT"),
    "rate_limited": (429, "RESOURCE_EXHAUSTED"),
    "quota_exceeded": (429, "RESOURCE_EXHAUSTED"),
    "server_error": (500, "INTERNAL"),
    "bad_gateway": (502, None),
    "service_unavailable": (503, "UNAVAILABLE"),
    "overloaded": (503, "UNAVAILABLE"),
    "gateway_timeout": (504, "DEADLINE_EXCEEDED"),
}


def test_every_required_kind_is_in_the_catalogue() -> None:
    assert set(GeminiDialect().error_kinds()) == set(STATUS)


@pytest.mark.parametrize("kind", sorted(STATUS))
def test_every_error_has_the_google_shape(kind: str) -> None:
    status, grpc = STATUS[kind]
    response = GeminiDialect().error(kind)
    assert response.status == status
    if grpc is None:  # Google's front end answers a 502 with its HTML page
        assert header(response, "content-type") == "text/html; charset=UTF-8"
        assert b"<b>502.</b>" in response.body
        return
    error = json.loads(response.body)["error"]
    assert list(error)[:3] == ["code", "message", "status"]
    assert (error["code"], error["status"]) == (status, grpc)
    assert response.body == (json.dumps({"error": error}, indent=2) + "\n").encode()
    assert header(response, "retry-after") is None


def test_unauthorized_is_api_key_invalid() -> None:
    error = json.loads(GeminiDialect().error("unauthorized").body)["error"]
    assert error["message"] == "API key not valid. Please pass a valid API key."
    assert error["details"][0]["reason"] == "API_KEY_INVALID"


def test_unknown_kind_lists_the_choices() -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'overloaded'.*valid: bad_gateway"):
        GeminiDialect().error("overload")


def test_stream_error_is_a_crlf_data_frame() -> None:
    frame = GeminiDialect().stream_error("overloaded", operation="models.generate_content_stream")
    assert frame == (
        b'data: {"error": {"code": 503,"message": "The model is overloaded. Please try again'
        b' later.","status": "UNAVAILABLE"}}\r\n\r\n'
    )


# -- the fake ------------------------------------------------------------------------------


def test_generate_content_is_pretty_json_with_usage_that_adds_up() -> None:
    response = serve(GENERATE)
    assert response.status == 200
    assert header(response, "content-type") == "application/json; charset=UTF-8"
    body = json.loads(response.body)
    assert response.body.decode() == json.dumps(body, indent=2)
    assert list(body) == ["candidates", "usageMetadata", "modelVersion", "responseId"]
    candidate = body["candidates"][0]
    assert candidate["content"] == {"role": "model", "parts": [{"text": "Echo: Count to three"}]}
    assert candidate["finishReason"] == "STOP"
    usage = body["usageMetadata"]
    assert usage["candidatesTokenCount"] == 5  # "Echo", ":", " Count", " to", " three"
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]
    assert body["modelVersion"] == "gemini-2.5-flash"


def test_sse_stream_is_crlf_framed_spaced_json_without_terminator() -> None:
    response = serve(STREAM)
    assert header(response, "content-type") == "text/event-stream"
    frames = frames_of(response)
    assert all(f.startswith(b'data: {"candidates": [{"content": {"parts": [') for f in frames)
    assert all(f.endswith(b"}\r\n\r\n") and f.count(b"\r\n") == 2 for f in frames)
    chunks = [json.loads(parse_frame(f).data) for f in frames]
    # The capture's JSON style: no space after ",", one after ":" (providers.md §3).
    assert all(
        parse_frame(f).data == json.dumps(c, separators=(",", ": "))
        for f, c in zip(frames, chunks, strict=True)
    )
    assert list(chunks[-1]) == ["candidates", "usageMetadata", "modelVersion", "responseId"]
    assert list(chunks[-1]["candidates"][0]) == ["content", "finishReason", "index"]
    assert list(chunks[-1]["candidates"][0]["content"]) == ["parts", "role"]
    text = "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks)
    assert text == "Echo: Count to three"
    assert [("finishReason" in c["candidates"][0]) for c in chunks] == [False] * (
        len(chunks) - 1
    ) + [True]
    assert len({c["responseId"] for c in chunks}) == 1
    dialect = GeminiDialect()
    terminal = [
        dialect.is_terminal_event(f, operation="models.generate_content_stream") for f in frames
    ]
    assert terminal == [False] * (len(frames) - 1) + [True]
    usage = chunks[-1]["usageMetadata"]
    assert usage["totalTokenCount"] == usage["promptTokenCount"] + usage["candidatesTokenCount"]


def test_stream_without_alt_sse_is_one_json_array() -> None:
    response = serve(STREAM.split("?")[0])
    raw = b"".join(frames_of(response))
    assert raw.startswith(b"[{")
    assert raw.endswith(b"\n]")
    assert b"\n,\r\n{" in raw
    chunks = json.loads(raw)
    assert "".join(c["candidates"][0]["content"]["parts"][0]["text"] for c in chunks) == (
        "Echo: Count to three"
    )


def test_count_tokens_matches_prompt_token_count() -> None:
    counted = json.loads(serve("/v1beta/models/gemini-2.5-flash:countTokens").body)
    generated = json.loads(serve(GENERATE).body)
    assert counted["totalTokens"] == generated["usageMetadata"]["promptTokenCount"] == 3


def test_function_declarations_give_a_function_call() -> None:
    tools = [
        {
            "functionDeclarations": [
                {
                    "name": "get_weather",
                    "parameters": {
                        "type": "OBJECT",
                        "properties": {"days": {"type": "INTEGER"}},
                        "required": ["days"],
                    },
                }
            ]
        }
    ]
    body = json.loads(serve(GENERATE, {**BODY, "tools": tools}).body)
    part = body["candidates"][0]["content"]["parts"][0]
    assert part == {"functionCall": {"name": "get_weather", "args": {"days": 1}}}
    answered = {
        "contents": [
            *BODY["contents"],
            {"role": "model", "parts": [part]},
            {
                "role": "user",
                "parts": [{"functionResponse": {"name": "get_weather", "response": {}}}],
            },
        ],
        "tools": tools,
    }
    final = json.loads(serve(GENERATE, answered).body)
    assert final["candidates"][0]["content"]["parts"][0]["text"] == "Echo: Count to three"


def test_max_output_tokens_gives_max_tokens() -> None:
    body = json.loads(serve(GENERATE, {**BODY, "generationConfig": {"maxOutputTokens": 2}}).body)
    assert body["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert body["candidates"][0]["content"]["parts"][0]["text"] == "Echo:"


def test_missing_key_is_403_and_a_wrong_key_400_api_key_invalid() -> None:
    missing = serve(GENERATE, headers=[])
    assert missing.status == 403
    assert json.loads(missing.body)["error"]["status"] == "PERMISSION_DENIED"
    wrong = serve(GENERATE, api_key="right")
    assert wrong.status == 400
    assert json.loads(wrong.body)["error"]["details"][0]["reason"] == "API_KEY_INVALID"
    by_query = serve(GENERATE + "?key=right", headers=[], api_key="right")
    assert by_query.status == 200


def test_missing_contents_and_bad_json() -> None:
    missing = serve(GENERATE, {"generationConfig": {}})
    assert missing.status == 400
    assert json.loads(missing.body)["error"]["message"] == (
        "* GenerateContentRequest.contents: contents is not specified\n"
    )
    bad = serve(GENERATE, b"{oops")
    assert json.loads(bad.body)["error"]["status"] == "INVALID_ARGUMENT"


def test_models_list_and_get() -> None:
    listed = json.loads(serve("/v1beta/models", None, method="GET").body)
    assert "models/gemini-2.5-flash" in [m["name"] for m in listed["models"]]
    got = json.loads(serve("/v1beta/models/gemini-2.5-pro", None, method="GET").body)
    assert got["name"] == "models/gemini-2.5-pro"


@pytest.mark.parametrize(
    ("method", "path", "info"),
    [
        ("POST", GENERATE, CallInfo("models.generate_content", False, "gemini-2.5-flash")),
        ("POST", STREAM, CallInfo("models.generate_content_stream", True, "gemini-2.5-flash")),
        ("POST", "/v1/models/g:countTokens?key=k", CallInfo("models.count_tokens", False, "g")),
        ("GET", "/v1beta/models", CallInfo("models.list", False, None)),
        ("GET", "/v1beta/models/g", CallInfo("models.get", False, "g")),
        ("POST", "/v1beta/models/g:unknownMethod", CallInfo(None, False, None)),
        ("GET", "/v1beta/other", CallInfo(None, False, None)),
    ],
)
def test_identify(method: str, path: str, info: CallInfo) -> None:
    assert GeminiDialect().identify(method, path, b"{}") == info


def test_snake_case_fields_as_the_google_genai_sdk_sends_them() -> None:
    # google-genai 3.x sends a Python function tool as `parameters_json_schema`.
    tools = [
        {
            "functionDeclarations": [
                {
                    "name": "weather",
                    "parameters_json_schema": {
                        "type": "object",
                        "properties": {"city": {"type": "string"}},
                        "required": ["city"],
                    },
                }
            ]
        }
    ]
    body = {**BODY, "tools": tools, "generation_config": {"max_output_tokens": 1}}
    call = json.loads(serve(GENERATE, body).body)["candidates"][0]["content"]["parts"][0]
    assert call["functionCall"]["name"] == "weather"
    assert isinstance(call["functionCall"]["args"]["city"], str)
    no_tools = json.loads(
        serve(GENERATE, {**BODY, "generation_config": {"max_output_tokens": 1}}).body
    )
    assert no_tools["candidates"][0]["finishReason"] == "MAX_TOKENS"


def test_response_schema_gives_json_that_fits() -> None:
    schema = {
        "type": "OBJECT",
        "properties": {
            "city": {"type": "STRING"},
            "days": {"type": "ARRAY", "items": {"type": "INTEGER"}},
        },
        "required": ["city", "days"],
    }
    config = {"responseMimeType": "application/json", "responseSchema": schema}
    body = json.loads(serve(GENERATE, {**BODY, "generationConfig": config}).body)
    text = body["candidates"][0]["content"]["parts"][0]["text"]
    assert json.loads(text) == {"city": "Echo: Count to three", "days": [1]}
    plain_json = {"generationConfig": {"responseMimeType": "application/json"}}
    reply = json.loads(serve(GENERATE, {**BODY, **plain_json}).body)
    assert json.loads(reply["candidates"][0]["content"]["parts"][0]["text"]) == {
        "answer": "Echo: Count to three"
    }
