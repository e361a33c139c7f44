"""The Anthropic fake's logic: validation, answers, usage, tools, models, batches, identify."""

from __future__ import annotations

import asyncio
import json

import pytest

from chaos.providers import AnthropicDialect, CallInfo, Request, Response
from chaos.providers._fake import answer_text
from chaos.providers._sse import parse_frame

AUTH = [("x-api-key", "sk-test"), ("anthropic-version", "2023-06-01"), ("host", "127.0.0.1:1")]
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}, "unit": {"enum": ["c", "f"]}},
        "required": ["location"],
    },
}


def call(
    dialect: AnthropicDialect,
    method: str,
    path: str,
    body: object = None,
    headers: list[tuple[str, str]] | None = None,
) -> Response:
    raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
    return asyncio.run(
        dialect.serve(Request(method, path, AUTH if headers is None else headers, raw))
    )


def events(response: Response) -> list[bytes]:
    assert response.events is not None

    async def collect() -> list[bytes]:
        return [frame async for frame in response.events]

    return asyncio.run(collect())


def error_of(response: Response) -> tuple[int, str, str]:
    body = json.loads(response.body)
    return response.status, body["error"]["type"], body["error"]["message"]


def create(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "model": "claude-sonnet-4-5-20250929",
        "max_tokens": 256,
        "messages": [{"role": "user", "content": "What is the capital of France?"}],
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


@pytest.fixture
def fake() -> AnthropicDialect:
    return AnthropicDialect()


# -- validation -------------------------------------------------------------------------


def test_missing_auth_is_401_with_the_real_message(fake) -> None:
    response = call(
        fake, "POST", "/v1/messages", create(), headers=[("anthropic-version", "2023-06-01")]
    )
    assert error_of(response) == (401, "authentication_error", "x-api-key header is required")
    assert json.loads(response.body)["request_id"] == dict(response.headers)["request-id"]


def test_bearer_token_is_accepted(fake) -> None:
    headers = [("authorization", "Bearer tok"), ("anthropic-version", "2023-06-01")]
    assert call(fake, "POST", "/v1/messages", create(), headers=headers).status == 200
    headers = [("authorization", "Bearer "), ("anthropic-version", "2023-06-01")]
    assert call(fake, "POST", "/v1/messages", create(), headers=headers).status == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (create(max_tokens=None), "max_tokens: Field required"),
        (create(model=None), "model: Field required"),
        (create(messages=None), "messages: Field required"),
        (create(messages=[]), "messages: at least one message is required"),
        (create(max_tokens=0), "max_tokens: Input should be greater than or equal to 1"),
        (
            create(messages=[{"role": "system", "content": "x"}]),
            "messages.0.role: Input should be 'user' or 'assistant'",
        ),
    ],
)
def test_invalid_requests_are_400_with_the_api_message(fake, body, message) -> None:
    response = call(fake, "POST", "/v1/messages", body)
    assert error_of(response) == (400, "invalid_request_error", message)
    assert dict(response.headers)["x-should-retry"] == "false"


def test_bad_json_is_400(fake) -> None:
    status, kind, message = error_of(call(fake, "POST", "/v1/messages", b"{nope"))
    assert (status, kind) == (400, "invalid_request_error")
    assert "request body" in message


def test_missing_version_header_is_400(fake) -> None:
    response = call(fake, "POST", "/v1/messages", create(), headers=[("x-api-key", "k")])
    assert error_of(response) == (
        400,
        "invalid_request_error",
        "anthropic-version: header is required",
    )


def test_unknown_model_and_path_are_404(fake) -> None:
    assert error_of(call(fake, "POST", "/v1/messages", create(model="gpt-4o"))) == (
        404,
        "not_found_error",
        "model: gpt-4o",
    )
    assert error_of(call(fake, "GET", "/v1/nothing")) == (404, "not_found_error", "Not Found")


# -- answers and usage ------------------------------------------------------------------


def test_answer_is_deterministic_and_echoes_the_last_user_message(fake) -> None:
    body = create(
        messages=[
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": [{"type": "text", "text": "second question"}]},
        ]
    )
    first = json.loads(call(fake, "POST", "/v1/messages", body).body)
    again = json.loads(call(fake, "POST", "/v1/messages", body).body)
    assert (
        first["content"]
        == again["content"]
        == [{"type": "text", "text": answer_text("second question")}]
    )
    assert first["id"] != again["id"]
    assert first["id"].startswith("msg_01")
    assert list(first) == [
        "model",
        "id",
        "type",
        "role",
        "content",
        "stop_reason",
        "stop_sequence",
        "usage",
    ]
    assert first["stop_reason"] == "end_turn"


def test_prefill_is_continued_with_the_echo_of_the_last_user_message(fake) -> None:
    body = create(
        messages=[
            {"role": "user", "content": "tell me"},
            {"role": "assistant", "content": "Sure:"},
        ]
    )
    assert json.loads(call(fake, "POST", "/v1/messages", body).body)["content"] == [
        {"type": "text", "text": "Echo: tell me"}
    ]


def test_alias_is_answered_with_the_dated_model(fake) -> None:
    message = json.loads(call(fake, "POST", "/v1/messages", create(model="claude-sonnet-4-5")).body)
    assert message["model"] == "claude-sonnet-4-5-20250929"


def test_count_tokens_equals_usage_input_tokens(fake) -> None:
    body = create(system="Be brief.", tools=[WEATHER])
    message = json.loads(call(fake, "POST", "/v1/messages", body).body)
    counted = call(
        fake,
        "POST",
        "/v1/messages/count_tokens",
        {k: v for k, v in body.items() if k != "max_tokens"},
    )
    assert counted.status == 200
    assert json.loads(counted.body) == {"input_tokens": message["usage"]["input_tokens"]}
    longer = create(messages=[{"role": "user", "content": "What is the capital of France? " * 5}])
    assert (
        json.loads(call(fake, "POST", "/v1/messages", longer).body)["usage"]["input_tokens"]
        > json.loads(call(fake, "POST", "/v1/messages", create()).body)["usage"]["input_tokens"]
    )


def test_stream_text_and_usage_add_up_to_the_non_stream_answer(fake) -> None:
    plain = json.loads(call(fake, "POST", "/v1/messages", create()).body)
    frames = [
        parse_frame(f) for f in events(call(fake, "POST", "/v1/messages", create(stream=True)))
    ]
    names = [f.event for f in frames]
    assert names[:3] == ["message_start", "content_block_start", "ping"]
    assert names[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    deltas = [f.json()["delta"]["text"] for f in frames if f.event == "content_block_delta"]
    assert "".join(deltas) == plain["content"][0]["text"]
    final_usage = frames[-2].json()["usage"]
    assert final_usage["output_tokens"] == len(deltas) == plain["usage"]["output_tokens"]
    assert final_usage["input_tokens"] == plain["usage"]["input_tokens"]
    assert frames[0].json()["message"]["usage"]["output_tokens"] == 1


def test_max_tokens_cuts_the_answer(fake) -> None:
    message = json.loads(call(fake, "POST", "/v1/messages", create(max_tokens=3)).body)
    assert message["stop_reason"] == "max_tokens"
    assert message["usage"]["output_tokens"] == 3
    assert message["content"][0]["text"] == "Echo: What"


def test_stop_sequence_ends_the_answer_at_the_earliest_one(fake) -> None:
    message = json.loads(
        call(fake, "POST", "/v1/messages", create(stop_sequences=["France", "capital"])).body
    )
    assert message["stop_reason"] == "stop_sequence"
    assert message["stop_sequence"] == "capital"
    assert message["content"][0]["text"] == "Echo: What is the "


def test_tools_give_a_tool_use_block(fake) -> None:
    body = create(
        tools=[{"name": "other", "input_schema": {"type": "object"}}, WEATHER],
        messages=[{"role": "user", "content": "get_weather for Paris please"}],
    )
    message = json.loads(call(fake, "POST", "/v1/messages", body).body)
    assert message["stop_reason"] == "tool_use"
    text, tool = message["content"]
    assert text["type"] == "text"
    assert tool["type"] == "tool_use"
    assert tool["name"] == "get_weather"  # the tool the prompt names
    assert tool["id"].startswith("toolu_01")
    assert set(tool["input"]) == {"location"}
    assert message["usage"]["output_tokens"] > len(text["text"].split())


def test_tool_choice_and_tool_result(fake) -> None:
    forced = create(
        tools=[WEATHER, {"name": "clock", "input_schema": {"type": "object"}}],
        tool_choice={"type": "tool", "name": "clock"},
    )
    assert (
        json.loads(call(fake, "POST", "/v1/messages", forced).body)["content"][-1]["name"]
        == "clock"
    )
    none = create(tools=[WEATHER], tool_choice={"type": "none"})
    assert json.loads(call(fake, "POST", "/v1/messages", none).body)["stop_reason"] == "end_turn"
    after = create(
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "get_weather",
                        "input": {"location": "x"},
                    }
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny 21C"}
                ],
            },
        ],
    )
    message = json.loads(call(fake, "POST", "/v1/messages", after).body)
    assert message["stop_reason"] == "end_turn"
    assert message["content"] == [{"type": "text", "text": "Echo: sunny 21C"}]


def test_streamed_tool_use_is_input_json_deltas(fake) -> None:
    frames = [
        parse_frame(f)
        for f in events(call(fake, "POST", "/v1/messages", create(tools=[WEATHER], stream=True)))
    ]
    starts = [f.json()["content_block"] for f in frames if f.event == "content_block_start"]
    assert [b["type"] for b in starts] == ["text", "tool_use"]
    assert starts[1]["input"] == {}
    partial = [
        f.json()["delta"]["partial_json"]
        for f in frames
        if f.event == "content_block_delta" and f.json()["index"] == 1
    ]
    assert partial[0] == ""
    assert set(json.loads("".join(partial))) == {"location"}
    assert frames[-2].json()["delta"]["stop_reason"] == "tool_use"


def test_success_headers(fake) -> None:
    headers = dict(call(fake, "POST", "/v1/messages", create()).headers)
    assert headers["content-type"] == "application/json"
    assert headers["request-id"].startswith("req_011C")
    assert headers["anthropic-ratelimit-requests-limit"].isdigit()
    stream_headers = dict(call(fake, "POST", "/v1/messages", create(stream=True)).headers)
    assert stream_headers["content-type"] == "text/event-stream; charset=utf-8"
    assert stream_headers["cache-control"] == "no-cache"
    quiet = AnthropicDialect(ratelimit_headers=False)
    assert not any(
        k.startswith("anthropic-ratelimit")
        for k, _ in call(quiet, "POST", "/v1/messages", create()).headers
    )


# -- models -----------------------------------------------------------------------------


def test_models_list_and_pagination(fake) -> None:
    page = json.loads(call(fake, "GET", "/v1/models").body)
    ids = [m["id"] for m in page["data"]]
    assert "claude-sonnet-4-5-20250929" in ids
    assert page["has_more"] is False
    assert (page["first_id"], page["last_id"]) == (ids[0], ids[-1])
    first = json.loads(call(fake, "GET", "/v1/models?limit=2").body)
    assert first["has_more"] is True
    assert [m["id"] for m in first["data"]] == ids[:2]
    rest = json.loads(call(fake, "GET", f"/v1/models?limit=20&after_id={first['last_id']}").body)
    assert [m["id"] for m in rest["data"]] == ids[2:]
    assert call(fake, "GET", "/v1/models?limit=0").status == 400


def test_models_retrieve_by_id_and_alias(fake) -> None:
    model = json.loads(call(fake, "GET", "/v1/models/claude-haiku-4-5").body)
    assert model["id"] == "claude-haiku-4-5-20251001"
    assert model["type"] == "model"
    assert model["display_name"] == "Claude Haiku 4.5"
    assert error_of(call(fake, "GET", "/v1/models/claude-nope")) == (
        404,
        "not_found_error",
        "model: claude-nope",
    )


# -- batches ----------------------------------------------------------------------------


def test_batch_lifecycle_and_jsonl_results(fake) -> None:
    requests = [
        {"custom_id": "ok", "params": create()},
        {"custom_id": "bad", "params": create(max_tokens=None)},
    ]
    created = json.loads(call(fake, "POST", "/v1/messages/batches", {"requests": requests}).body)
    assert created["processing_status"] == "in_progress"
    assert created["request_counts"]["processing"] == 2
    assert created["results_url"] is None
    batch_id = created["id"]
    assert batch_id.startswith("msgbatch_01")
    assert call(fake, "DELETE", f"/v1/messages/batches/{batch_id}").status == 400
    ended = json.loads(call(fake, "GET", f"/v1/messages/batches/{batch_id}").body)
    assert ended["processing_status"] == "ended"
    assert ended["request_counts"] == {
        "processing": 0,
        "succeeded": 1,
        "errored": 1,
        "canceled": 0,
        "expired": 0,
    }
    assert ended["results_url"] == f"http://127.0.0.1:1/v1/messages/batches/{batch_id}/results"
    results = call(fake, "GET", f"/v1/messages/batches/{batch_id}/results")
    lines = [json.loads(line) for line in results.body.decode().splitlines()]
    assert results.body.endswith(b"\n")
    assert lines[0]["custom_id"] == "ok"
    assert lines[0]["result"]["type"] == "succeeded"
    assert lines[0]["result"]["message"]["content"][0]["text"] == answer_text(
        "What is the capital of France?"
    )
    assert lines[1]["result"] == {
        "type": "errored",
        "error": {
            "type": "error",
            "error": {"type": "invalid_request_error", "message": "max_tokens: Field required"},
        },
    }
    listed = json.loads(call(fake, "GET", "/v1/messages/batches").body)
    assert [b["id"] for b in listed["data"]] == [batch_id]
    deleted = json.loads(call(fake, "DELETE", f"/v1/messages/batches/{batch_id}").body)
    assert deleted == {"id": batch_id, "type": "message_batch_deleted"}
    assert call(fake, "GET", f"/v1/messages/batches/{batch_id}").status == 404


def test_batch_cancel(fake) -> None:
    created = json.loads(
        call(
            fake,
            "POST",
            "/v1/messages/batches",
            {"requests": [{"custom_id": "a", "params": create()}]},
        ).body
    )
    canceling = json.loads(call(fake, "POST", f"/v1/messages/batches/{created['id']}/cancel").body)
    assert canceling["processing_status"] == "canceling"
    assert canceling["cancel_initiated_at"] is not None
    ended = json.loads(call(fake, "GET", f"/v1/messages/batches/{created['id']}").body)
    assert ended["request_counts"]["canceled"] == 1
    lines = call(fake, "GET", f"/v1/messages/batches/{created['id']}/results").body.splitlines()
    assert json.loads(lines[0]) == {"custom_id": "a", "result": {"type": "canceled"}}


def test_batch_create_validates(fake) -> None:
    assert error_of(call(fake, "POST", "/v1/messages/batches", {}))[2] == "requests: Field required"
    assert call(fake, "POST", "/v1/messages/batches", {"requests": []}).status == 400


# -- legacy text completions ----------------------------------------------------------


def test_legacy_complete(fake) -> None:
    body = {
        "model": "claude-2.1",
        "max_tokens_to_sample": 50,
        "prompt": "\n\nHuman: hello there\n\nAssistant:",
    }
    completion = json.loads(call(fake, "POST", "/v1/complete", body).body)
    assert completion["type"] == "completion"
    assert completion["completion"] == " Echo: hello there"
    assert completion["stop_reason"] == "stop_sequence"
    frames = [
        parse_frame(f) for f in events(call(fake, "POST", "/v1/complete", body | {"stream": True}))
    ]
    assert {f.event for f in frames} == {"completion", "ping"}
    text = "".join(f.json()["completion"] for f in frames if f.event == "completion")
    assert text == " Echo: hello there"
    assert frames[-1].json()["stop_reason"] == "stop_sequence"
    assert fake.is_terminal_event(
        events(call(fake, "POST", "/v1/complete", body | {"stream": True}))[-1],
        operation="completions.create",
    )
    assert (
        error_of(call(fake, "POST", "/v1/complete", {"model": "claude-2.1", "prompt": "x"}))[2]
        == "max_tokens_to_sample: Field required"
    )


# -- identify ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        (
            "POST",
            "/v1/messages",
            b'{"model":"claude-opus-4-6","stream":true}',
            CallInfo("messages.create", True, "claude-opus-4-6"),
        ),
        (
            "POST",
            "/v1/messages?beta=true",
            b'{"model":"m"}',
            CallInfo("messages.create", False, "m"),
        ),
        ("POST", "/v1/messages", b"{not json", CallInfo("messages.create", False, None)),
        ("POST", "/v1/messages", b'{"stream":"yes"}', CallInfo("messages.create", False, None)),
        (
            "POST",
            "/v1/messages/count_tokens",
            b'{"model":"m","stream":true}',
            CallInfo("messages.count_tokens", False, "m"),
        ),
        ("GET", "/v1/models", b"", CallInfo("models.list", False, None)),
        (
            "GET",
            "/v1/models/claude-opus-4-6",
            b"",
            CallInfo("models.retrieve", False, "claude-opus-4-6"),
        ),
        ("POST", "/v1/messages/batches", b"{}", CallInfo("messages.batches.create", False, None)),
        ("GET", "/v1/messages/batches", b"", CallInfo("messages.batches.list", False, None)),
        (
            "GET",
            "/v1/messages/batches/msgbatch_1",
            b"",
            CallInfo("messages.batches.retrieve", False, None),
        ),
        (
            "POST",
            "/v1/messages/batches/msgbatch_1/cancel",
            b"",
            CallInfo("messages.batches.cancel", False, None),
        ),
        (
            "DELETE",
            "/v1/messages/batches/msgbatch_1",
            b"",
            CallInfo("messages.batches.delete", False, None),
        ),
        (
            "GET",
            "/v1/messages/batches/msgbatch_1/results",
            b"",
            CallInfo("messages.batches.results", False, None),
        ),
        (
            "POST",
            "/v1/complete",
            b'{"model":"claude-2.1","stream":true}',
            CallInfo("completions.create", True, "claude-2.1"),
        ),
        ("GET", "/v1/messages", b"", CallInfo(None, False, None)),
        ("POST", "/v2/other", b"", CallInfo(None, False, None)),
    ],
)
def test_identify(method, path, body, expected) -> None:
    assert AnthropicDialect().identify(method, path, body) == expected


def test_operations_are_declared(fake) -> None:
    names = {op.name for op in fake.operations}
    assert {
        "messages.create",
        "messages.count_tokens",
        "models.list",
        "completions.create",
    } <= names
    assert {op.name for op in fake.operations if op.streams} == {
        "messages.create",
        "completions.create",
    }
