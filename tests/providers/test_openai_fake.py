"""The OpenAI fake: request validation, deterministic answers, tools, embeddings, identify()."""

from __future__ import annotations

import asyncio
import base64
import json
import struct

import pytest

from chaos.providers import CallInfo, OpenAIDialect, Request, Response

AUTH = [("Authorization", "Bearer sk-test")]
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city", "unit"],
            },
        },
    }
]


def serve(dialect: OpenAIDialect, method: str, path: str, body: object = None, headers=AUTH):
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    return asyncio.run(dialect.serve(Request(method, path, list(headers), raw)))


def error_of(response: Response) -> dict[str, object]:
    return json.loads(response.body)["error"]


def frames_of(response: Response) -> list[bytes]:
    async def collect() -> list[bytes]:
        assert response.events is not None
        return [frame async for frame in response.events]

    return asyncio.run(collect())


CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}


def test_missing_auth_is_401_you_didnt_provide_an_api_key() -> None:
    response = serve(OpenAIDialect(), "POST", "/v1/chat/completions", CHAT, headers=[])
    assert response.status == 401
    error = error_of(response)
    assert str(error["message"]).startswith("You didn't provide an API key.")
    assert error["type"] == "invalid_request_error"
    assert error["code"] is None


def test_wrong_key_is_401_invalid_api_key_masked() -> None:
    dialect = OpenAIDialect(api_key="sk-right")
    key = "sk-proj-abcdefghijklmnopWXYZ"
    wrong = serve(dialect, "GET", "/v1/models", headers=[("Authorization", f"Bearer {key}")])
    assert wrong.status == 401
    error = error_of(wrong)
    assert error["code"] == "invalid_api_key"
    assert "sk-proj-" + "*" * 16 + "WXYZ" in str(error["message"])
    right = serve(dialect, "GET", "/v1/models", headers=[("Authorization", "Bearer sk-right")])
    assert right.status == 200


def test_missing_model_and_messages_give_the_real_messages() -> None:
    no_model = serve(OpenAIDialect(), "POST", "/v1/chat/completions", {"messages": []})
    assert no_model.status == 400
    assert error_of(no_model)["message"] == "you must provide a model parameter"
    no_messages = serve(OpenAIDialect(), "POST", "/v1/chat/completions", {"model": "gpt-4o"})
    assert no_messages.status == 400
    assert error_of(no_messages) == {
        "message": "Missing required parameter: 'messages'.",
        "type": "invalid_request_error",
        "param": "messages",
        "code": "missing_required_parameter",
    }
    no_input = serve(OpenAIDialect(), "POST", "/v1/responses", {"model": "gpt-4o"})
    assert error_of(no_input)["param"] == "input"


def test_invalid_json_and_unknown_url() -> None:
    bad = serve(OpenAIDialect(), "POST", "/v1/chat/completions", b"{not json")
    assert bad.status == 400
    assert str(error_of(bad)["message"]).startswith("We could not parse the JSON body")
    unknown = serve(OpenAIDialect(), "POST", "/v1/nothing-here", CHAT)
    assert unknown.status == 404
    assert error_of(unknown)["message"] == "Invalid URL (POST /v1/nothing-here)"


def test_answer_is_deterministic_and_usage_adds_up() -> None:
    response = serve(OpenAIDialect(), "POST", "/v1/chat/completions", CHAT)
    first = json.loads(response.body)
    assert response.body == json.dumps(first, indent=2).encode()  # 2-space, as recorded
    assert list(first) == [
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "service_tier",
        "system_fingerprint",
    ]
    second = json.loads(serve(OpenAIDialect(), "POST", "/v1/chat/completions", CHAT).body)
    assert first["choices"][0]["message"]["content"] == "Echo: Hello"
    assert second["choices"][0]["message"]["content"] == "Echo: Hello"
    assert first["id"] != second["id"]
    usage = first["usage"]
    assert usage["completion_tokens"] == 3  # "Echo", ":", " Hello"
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_max_tokens_cuts_with_finish_reason_length() -> None:
    body = {**CHAT, "max_completion_tokens": 2}
    choice = json.loads(serve(OpenAIDialect(), "POST", "/v1/chat/completions", body).body)
    assert choice["choices"][0]["message"]["content"] == "Echo:"
    assert choice["choices"][0]["finish_reason"] == "length"
    cut = json.loads(
        serve(
            OpenAIDialect(),
            "POST",
            "/v1/responses",
            {"model": "gpt-4o", "input": "a b c", "max_output_tokens": 1},
        ).body
    )
    assert cut["status"] == "incomplete"
    assert cut["incomplete_details"] == {"reason": "max_output_tokens"}


def test_tools_give_a_tool_call_until_a_tool_result_comes_back() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": "Weather in Paris?"}],
        "tools": TOOLS,
    }
    reply = json.loads(serve(OpenAIDialect(), "POST", "/v1/chat/completions", body).body)
    choice = reply["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    call = choice["message"]["tool_calls"][0]
    assert call["function"]["name"] == "get_weather"
    args = json.loads(call["function"]["arguments"])
    assert args["unit"] == "celsius"
    assert isinstance(args["city"], str)
    body["messages"] += [
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "18C"},
    ]
    final = json.loads(serve(OpenAIDialect(), "POST", "/v1/chat/completions", body).body)
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["choices"][0]["message"]["content"] == "Echo: Weather in Paris?"


def test_streamed_tool_call_arguments_concatenate() -> None:
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}], "tools": TOOLS}
    frames = frames_of(
        serve(OpenAIDialect(), "POST", "/v1/chat/completions", {**body, "stream": True})
    )
    chunks = [json.loads(f[6:]) for f in frames[:-1]]
    calls = [c["choices"][0]["delta"].get("tool_calls") for c in chunks]
    arguments = "".join(c[0]["function"]["arguments"] for c in calls if c)
    assert json.loads(arguments)["unit"] == "celsius"
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_responses_tool_call_is_a_function_call_item() -> None:
    tools = [{"type": "function", **TOOLS[0]["function"]}]
    reply = json.loads(
        serve(
            OpenAIDialect(),
            "POST",
            "/v1/responses",
            {"model": "gpt-4o", "input": "x", "tools": tools},
        ).body
    )
    item = reply["output"][0]
    assert item["type"] == "function_call"
    assert item["name"] == "get_weather"
    assert json.loads(item["arguments"])["unit"] == "celsius"


def test_embeddings_float_and_base64_agree() -> None:
    body = {"model": "text-embedding-3-small", "input": ["alpha", "beta"], "dimensions": 8}
    floats = json.loads(serve(OpenAIDialect(), "POST", "/v1/embeddings", body).body)
    packed = json.loads(
        serve(OpenAIDialect(), "POST", "/v1/embeddings", {**body, "encoding_format": "base64"}).body
    )
    vector = floats["data"][0]["embedding"]
    assert len(vector) == 8
    assert abs(sum(v * v for v in vector) - 1) < 1e-5
    decoded = struct.unpack("<8f", base64.b64decode(packed["data"][0]["embedding"]))
    assert list(decoded) == vector
    assert floats["data"][1]["embedding"] != vector
    assert floats["usage"] == {"prompt_tokens": 2, "total_tokens": 2}


@pytest.mark.parametrize(
    ("method", "path", "body", "info"),
    [
        (
            "POST",
            "/v1/chat/completions",
            {"model": "m", "stream": True},
            CallInfo("chat.completions.create", True, "m"),
        ),
        (
            "POST",
            "/v1/chat/completions?x=1",
            {"model": "m"},
            CallInfo("chat.completions.create", False, "m"),
        ),
        (
            "POST",
            "/v1/responses",
            {"model": "m", "stream": True},
            CallInfo("responses.create", True, "m"),
        ),
        ("GET", "/v1/models", None, CallInfo("models.list", False, None)),
        ("GET", "/v1/models/gpt-4o", None, CallInfo("models.retrieve", False, "gpt-4o")),
        ("POST", "/v1/embeddings", {"model": "e"}, CallInfo("embeddings.create", False, "e")),
        ("POST", "/v1/completions", {"model": "c"}, CallInfo("completions.create", False, "c")),
        ("GET", "/v1/chat/completions", None, CallInfo(None, False, None)),
        ("POST", "/v2/other", None, CallInfo(None, False, None)),
    ],
)
def test_identify(method: str, path: str, body: object, info: CallInfo) -> None:
    raw = b"" if body is None else json.dumps(body).encode()
    assert OpenAIDialect().identify(method, path, raw) == info
