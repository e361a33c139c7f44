"""Several tool calls in one scripted reply (parallel tool use), in every dialect.

Each provider sends parallel calls its own way: Anthropic as ``tool_use`` content
blocks one after the other (streamed: one block's start, ``input_json_delta``s and
stop, then the next's); OpenAI Chat as a ``tool_calls`` array (streamed: each call's
first delta carries its ``index``, ``id`` and name, later ones only ``index`` and
argument text); OpenAI Responses as one ``function_call`` output item per call;
Gemini as several ``functionCall`` parts of one content. The byte tests read those
shapes off the wire; the SDK tests read them back through the official SDKs' types.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chaos._errors import ConfigError
from chaos.gateway import Gateway
from chaos.providers._replies import ToolCall, parse_reply, reply_from_kwargs
from tests.providers._gateway import three_dialects

pytestmark = pytest.mark.sdk

anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")
genai = pytest.importorskip("google.genai")
gtypes = pytest.importorskip("google.genai.types")

CLAUDE = "claude-sonnet-4-6"
GPT = "gpt-4o-mini"
GEMINI = "gemini-2.5-flash"
CALLS = [
    {"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}},
    {"name": "get_time", "arguments": {"timezone": "Europe/Paris"}},
]
NAMES = [c["name"] for c in CALLS]
ARGS = [c["arguments"] for c in CALLS]
ANTHROPIC_HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
OPENAI_HEADERS = {"authorization": "Bearer k"}


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with three_dialects(seed=11) as gw:
        yield gw


@pytest.fixture
def gw(gateway: Gateway) -> Iterator[Gateway]:
    for name in gateway.targets:
        gateway.dialect(name).replies.add(parse_reply({"tool_calls": CALLS}, source="test"))
    yield gateway
    for name in gateway.targets:
        gateway.dialect(name).replies.clear()


def sse_data(raw: str) -> list[dict[str, Any]]:
    return [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: {")]


def messages_body(**extra: Any) -> dict[str, Any]:
    return {
        "model": CLAUDE,
        "max_tokens": 200,
        "messages": [{"role": "user", "content": "weather and time in Paris?"}],
        **extra,
    }


# -- the reply model --------------------------------------------------------------------


def test_tool_calls_parse_in_order_after_a_tool_call() -> None:
    reply = parse_reply({"tool_call": CALLS[0], "tool_calls": CALLS[1:]}, source="t")
    assert [c.name for c in reply.calls] == NAMES
    assert reply.stop_for("openai") == "tool_calls"
    assert reply.to_dict()["tool_calls"] == CALLS[1:]
    typed = reply_from_kwargs("t", tool_calls=[ToolCall("a", {"x": 1}), {"name": "b"}])
    assert [(c.name, c.arguments_object()) for c in typed.calls] == [("a", {"x": 1}), ("b", {})]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "'tool_calls' takes a non-empty list"),
        ({"name": "a"}, "'tool_calls' takes a non-empty list"),
        ([{"name": "a"}, {"arguments": {}}], "'tool_calls[1]' takes {name: ..."),
        ([{"name": "a", "args": {}}], "unknown tool_calls[0] key(s) ['args']"),
        ([None], "'tool_calls[0]' is empty"),
    ],
)
def test_bad_tool_calls_are_clear_errors(value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=r"^where: ") as info:
        parse_reply({"tool_calls": value}, source="where")
    assert message in str(info.value)


# -- bytes --------------------------------------------------------------------------------


def test_anthropic_plain_bytes_are_tool_use_blocks(gw: Gateway) -> None:
    answer = httpx.post(
        gw.urls["anthropic"] + "/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS
    ).json()
    blocks = answer["content"]
    assert [b["type"] for b in blocks] == ["tool_use", "tool_use"]
    assert [(b["name"], b["input"]) for b in blocks] == list(zip(NAMES, ARGS, strict=True))
    assert all(b["id"].startswith("toolu_01") for b in blocks)
    assert blocks[0]["id"] != blocks[1]["id"]
    assert answer["stop_reason"] == "tool_use"


def test_anthropic_stream_bytes_send_one_block_after_the_other(gw: Gateway) -> None:
    raw = httpx.post(
        gw.urls["anthropic"] + "/v1/messages",
        json=messages_body(stream=True),
        headers=ANTHROPIC_HEADERS,
    ).text
    events = sse_data(raw)
    shape = [(e["type"], e.get("index")) for e in events if "content_block" in e["type"]]
    kinds = [kind for kind, _ in shape]
    # start, deltas, stop of block 0, then of block 1: never interleaved
    assert kinds[0] == "content_block_start"
    assert [i for _, i in shape] == sorted(i for _, i in shape)
    starts = [e for e in events if e["type"] == "content_block_start"]
    assert [(s["index"], s["content_block"]["name"]) for s in starts] == [
        (0, NAMES[0]),
        (1, NAMES[1]),
    ]
    assert [s["content_block"]["input"] for s in starts] == [{}, {}]
    for index, args in enumerate(ARGS):
        text = "".join(
            e["delta"]["partial_json"]
            for e in events
            if e["type"] == "content_block_delta" and e["index"] == index
        )
        assert json.loads(text) == args
    assert [e["index"] for e in events if e["type"] == "content_block_stop"] == [0, 1]
    assert next(e for e in events if e["type"] == "message_delta")["delta"]["stop_reason"] == (
        "tool_use"
    )


def test_anthropic_text_before_the_calls_is_block_zero(gw: Gateway) -> None:
    gw.dialect("anthropic").replies.clear()
    gw.dialect("anthropic").replies.add(
        parse_reply({"text": "Checking both.", "tool_calls": CALLS}, source="test")
    )
    answer = httpx.post(
        gw.urls["anthropic"] + "/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS
    ).json()
    assert [b["type"] for b in answer["content"]] == ["text", "tool_use", "tool_use"]


def chat(gw: Gateway, **extra: Any) -> httpx.Response:
    body = {"model": GPT, "messages": [{"role": "user", "content": "weather and time?"}], **extra}
    return httpx.post(gw.urls["openai"] + "/v1/chat/completions", json=body, headers=OPENAI_HEADERS)


def test_openai_chat_plain_bytes_are_a_tool_calls_array(gw: Gateway) -> None:
    choice = chat(gw).json()["choices"][0]
    message = choice["message"]
    assert message["content"] is None
    calls = message["tool_calls"]
    assert [c["type"] for c in calls] == ["function", "function"]
    assert [c["function"]["name"] for c in calls] == NAMES
    assert [json.loads(c["function"]["arguments"]) for c in calls] == ARGS
    assert all(c["id"].startswith("call_") for c in calls)
    assert calls[0]["id"] != calls[1]["id"]
    assert "index" not in calls[0]  # only stream deltas carry an index
    assert choice["finish_reason"] == "tool_calls"


def test_openai_chat_stream_bytes_index_each_call(gw: Gateway) -> None:
    chunks = sse_data(chat(gw, stream=True).text)
    deltas = [
        d for c in chunks if c["choices"] for d in c["choices"][0]["delta"].get("tool_calls") or []
    ]
    heads = [d for d in deltas if "id" in d]
    assert [(h["index"], h["function"]["name"], h["function"]["arguments"]) for h in heads] == [
        (0, NAMES[0], ""),
        (1, NAMES[1], ""),
    ]
    assert all(h["type"] == "function" for h in heads)
    indexes = [d["index"] for d in deltas]
    assert indexes == sorted(indexes)  # call 0 whole, then call 1
    for index, args in enumerate(ARGS):
        text = "".join(d["function"]["arguments"] for d in deltas if d["index"] == index)
        assert json.loads(text) == args
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def responses(gw: Gateway, **extra: Any) -> httpx.Response:
    body = {"model": GPT, "input": "weather and time?", **extra}
    return httpx.post(gw.urls["openai"] + "/v1/responses", json=body, headers=OPENAI_HEADERS)


def test_openai_responses_plain_bytes_are_function_call_items(gw: Gateway) -> None:
    output = responses(gw).json()["output"]
    assert [i["type"] for i in output] == ["function_call", "function_call"]
    assert [(i["name"], json.loads(i["arguments"])) for i in output] == list(
        zip(NAMES, ARGS, strict=True)
    )
    assert output[0]["call_id"] != output[1]["call_id"]


def test_openai_responses_stream_bytes_add_and_finish_each_item(gw: Gateway) -> None:
    events = sse_data(responses(gw, stream=True).text)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    items = [
        (e["type"].removeprefix("response."), e["output_index"])
        for e in events
        if e["type"].startswith("response.output_item")
    ]
    assert items == [
        ("output_item.added", 0),
        ("output_item.done", 0),
        ("output_item.added", 1),
        ("output_item.done", 1),
    ]
    done = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert [json.loads(e["arguments"]) for e in done] == ARGS
    assert len(events[-1]["response"]["output"]) == 2
    assert events[-1]["type"] == "response.completed"


def gemini_post(gw: Gateway, action: str) -> httpx.Response:
    body = {"contents": [{"role": "user", "parts": [{"text": "weather and time?"}]}]}
    url = f"{gw.urls['gemini']}/v1beta/models/{GEMINI}:{action}"
    return httpx.post(url, json=body, headers={"x-goog-api-key": "k"})


def test_gemini_plain_and_streamed_bytes_are_function_call_parts(gw: Gateway) -> None:
    plain = gemini_post(gw, "generateContent").json()["candidates"][0]
    parts = plain["content"]["parts"]
    assert [(p["functionCall"]["name"], p["functionCall"]["args"]) for p in parts] == list(
        zip(NAMES, ARGS, strict=True)
    )
    assert plain["finishReason"] == "STOP"
    chunks = sse_data(gemini_post(gw, "streamGenerateContent?alt=sse").text)
    assert len(chunks) == 1  # the calls arrive whole, in one chunk
    streamed = chunks[0]["candidates"][0]
    assert streamed["content"]["parts"] == parts
    assert streamed["finishReason"] == "STOP"


# -- the official SDKs -----------------------------------------------------------------


def test_anthropic_sdk_reads_every_tool_use_block(gw: Gateway) -> None:
    with anthropic.Anthropic(base_url=gw.urls["anthropic"], api_key="k", max_retries=0) as c:
        message = c.messages.create(**messages_body())
        with c.messages.stream(**messages_body()) as stream:
            final = stream.get_final_message()
    for answer in (message, final):
        uses = [b for b in answer.content if b.type == "tool_use"]
        assert [(b.name, b.input) for b in uses] == list(zip(NAMES, ARGS, strict=True))
        assert answer.stop_reason == "tool_use"


def test_openai_sdk_reads_every_tool_call(gw: Gateway) -> None:
    messages = [{"role": "user", "content": "weather and time?"}]
    with openai.OpenAI(base_url=gw.urls["openai"] + "/v1", api_key="k", max_retries=0) as c:
        plain = c.chat.completions.create(model=GPT, messages=messages)
        with c.chat.completions.stream(model=GPT, messages=messages) as stream:
            final = stream.get_final_completion()
        response = c.responses.create(model=GPT, input="weather and time?")
        with c.responses.stream(model=GPT, input="weather and time?") as events:
            streamed = events.get_final_response()
    for completion in (plain, final):
        calls = completion.choices[0].message.tool_calls
        assert [(t.function.name, json.loads(t.function.arguments)) for t in calls] == list(
            zip(NAMES, ARGS, strict=True)
        )
        assert completion.choices[0].finish_reason == "tool_calls"
    for answer in (response, streamed):
        calls = [i for i in answer.output if i.type == "function_call"]
        assert [(i.name, json.loads(i.arguments)) for i in calls] == list(
            zip(NAMES, ARGS, strict=True)
        )


def test_google_genai_sdk_reads_every_function_call(gw: Gateway) -> None:
    client = genai.Client(api_key="k", http_options=gtypes.HttpOptions(base_url=gw.urls["gemini"]))
    plain = client.models.generate_content(model=GEMINI, contents="weather and time?")
    assert [(f.name, f.args) for f in plain.function_calls] == list(zip(NAMES, ARGS, strict=True))
    chunks = list(client.models.generate_content_stream(model=GEMINI, contents="weather?"))
    streamed = [f for chunk in chunks for f in chunk.function_calls or []]
    assert [(f.name, f.args) for f in streamed] == list(zip(NAMES, ARGS, strict=True))


def test_a_content_fault_breaks_the_first_call_and_keeps_the_rest(gw: Gateway) -> None:
    from chaos.faults import Fault, MalformedToolArgsAction

    gw.set_faults([Fault("anthropic", MalformedToolArgsAction(), name="broken")])
    try:
        answer = httpx.post(
            gw.urls["anthropic"] + "/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS
        ).json()
    finally:
        gw.set_faults([])
    first, second = answer["content"]
    assert isinstance(first["input"], str)  # the cut argument text, not an object
    assert second["input"] == ARGS[1]
