"""Scripted replies: matched on the request, rendered by each dialect, parsed by the real SDKs.

One gateway serves the three fakes; each test scripts replies on the dialect's book
and reads the answer back through the official SDK (typed objects) or raw HTTP (bytes).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chaos._errors import ConfigError
from chaos.gateway import Gateway
from chaos.providers._replies import ReplyBook, ReplyMatch, ReplyQuery, parse_reply
from tests.providers._gateway import three_dialects

anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")
genai = pytest.importorskip("google.genai")
gtypes = pytest.importorskip("google.genai.types")

CLAUDE = "claude-sonnet-4-5"
GPT = "gpt-4o-mini"
GEMINI = "gemini-2.5-flash"
LABEL = {"label": "bug", "confidence": 0.9}
TOOL = {"name": "lookup_order", "arguments": {"order_id": "A-17", "urgent": True}}
ANTHROPIC_TOOLS = [
    {
        "name": "lookup_order",
        "description": "Find an order.",
        "input_schema": {"type": "object", "properties": {"order_id": {"type": "string"}}},
    }
]
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "lookup_order",
            "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}},
        },
    }
]


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with three_dialects(seed=3) as gw:
        yield gw


@pytest.fixture
def gw(gateway: Gateway) -> Iterator[Gateway]:
    yield gateway
    for name in gateway.targets:
        gateway.dialect(name).replies.clear()


def script(gw: Gateway, target: str, **spec: Any) -> None:
    gw.dialect(target).replies.add(parse_reply(spec, source="test"))


@pytest.fixture
def claude(gw: Gateway) -> Iterator[Any]:
    with anthropic.Anthropic(base_url=gw.urls["anthropic"], api_key="k", max_retries=0) as c:
        yield c


@pytest.fixture
def gpt(gw: Gateway) -> Iterator[Any]:
    with openai.OpenAI(base_url=gw.urls["openai"] + "/v1", api_key="k", max_retries=0) as c:
        yield c


@pytest.fixture
def gemini(gw: Gateway) -> Any:
    options = gtypes.HttpOptions(base_url=gw.urls["gemini"])
    return genai.Client(api_key="k", http_options=options)


def ask_claude(claude: Any, prompt: str, **kw: Any) -> Any:
    kw.setdefault("max_tokens", 200)
    return claude.messages.create(
        model=CLAUDE, messages=[{"role": "user", "content": prompt}], **kw
    )


# -- anthropic ------------------------------------------------------------------------


def test_anthropic_json_text_and_usage_parse(gw: Gateway, claude: Any) -> None:
    script(gw, "anthropic", json=LABEL, usage={"input_tokens": 42, "output_tokens": 7})
    message = ask_claude(claude, "triage: the app crashes")
    assert json.loads(message.content[0].text) == LABEL
    assert message.stop_reason == "end_turn"
    assert (message.usage.input_tokens, message.usage.output_tokens) == (42, 7)
    with claude.messages.stream(
        model=CLAUDE, max_tokens=200, messages=[{"role": "user", "content": "again"}]
    ) as stream:
        final = stream.get_final_message()
    assert json.loads(final.content[0].text) == LABEL


def test_anthropic_tool_use_plain_and_streamed(gw: Gateway, claude: Any) -> None:
    script(gw, "anthropic", tool_call=TOOL, match={"tools": True})
    message = ask_claude(claude, "where is my order?", tools=ANTHROPIC_TOOLS)
    block = message.content[-1]
    assert (block.type, block.name, block.input) == ("tool_use", "lookup_order", TOOL["arguments"])
    assert message.stop_reason == "tool_use"
    with claude.messages.stream(
        model=CLAUDE,
        max_tokens=200,
        tools=ANTHROPIC_TOOLS,
        messages=[{"role": "user", "content": "where is it?"}],
    ) as stream:
        final = stream.get_final_message()
    assert final.content[-1].input == TOOL["arguments"]


def test_anthropic_stream_bytes_carry_input_json_delta(gw: Gateway) -> None:
    script(gw, "anthropic", tool_call=TOOL)
    body = {
        "model": CLAUDE,
        "max_tokens": 100,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    raw = httpx.post(gw.urls["anthropic"] + "/v1/messages", json=body, headers=headers).text
    events = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: ")]
    starts = [e["content_block"] for e in events if e["type"] == "content_block_start"]
    assert starts[-1]["type"] == "tool_use"
    assert starts[-1]["name"] == "lookup_order"
    partial = "".join(
        e["delta"]["partial_json"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    )
    assert json.loads(partial) == TOOL["arguments"]
    delta = next(e for e in events if e["type"] == "message_delta")
    assert delta["delta"]["stop_reason"] == "tool_use"
    assert "event: message_stop" in raw


def test_a_long_reply_is_cut_by_the_requests_token_limit(gw: Gateway, claude: Any) -> None:
    script(gw, "anthropic", text="word " * 300)
    message = ask_claude(claude, "essay", max_tokens=10)
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 10
    assert len(message.content[0].text.split()) == 10


# -- openai ---------------------------------------------------------------------------


def test_openai_chat_json_and_tool_calls_parse(gw: Gateway, gpt: Any) -> None:
    script(gw, "openai", tool_call=TOOL, match={"tools": "lookup_order"})
    script(gw, "openai", json=LABEL)
    messages = [{"role": "user", "content": "triage this"}]
    plain = gpt.chat.completions.create(model=GPT, messages=messages)
    assert json.loads(plain.choices[0].message.content) == LABEL
    assert plain.choices[0].finish_reason == "stop"
    called = gpt.chat.completions.create(model=GPT, messages=messages, tools=OPENAI_TOOLS)
    call = called.choices[0].message.tool_calls[0]
    assert call.function.name == "lookup_order"
    assert json.loads(call.function.arguments) == TOOL["arguments"]
    assert called.choices[0].finish_reason == "tool_calls"


def test_openai_chat_stream_tool_call_deltas(gw: Gateway, gpt: Any) -> None:
    script(gw, "openai", tool_call=TOOL)
    chunks = list(
        gpt.chat.completions.create(
            model=GPT,
            messages=[{"role": "user", "content": "x"}],
            tools=OPENAI_TOOLS,
            stream=True,
        )
    )
    deltas = [c.choices[0].delta.tool_calls for c in chunks if c.choices]
    arguments = "".join(d[0].function.arguments or "" for d in deltas if d)
    assert json.loads(arguments) == TOOL["arguments"]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_openai_responses_text(gw: Gateway, gpt: Any) -> None:
    script(gw, "openai", json=LABEL, match={"operation": "responses.create"})
    response = gpt.responses.create(model=GPT, input="triage")
    assert json.loads(response.output_text) == LABEL


def test_openai_stop_reason_is_rendered_natively(gw: Gateway, gpt: Any) -> None:
    script(gw, "openai", text="I can't help with that.", stop_reason="refusal")
    done = gpt.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "x"}])
    assert done.choices[0].finish_reason == "content_filter"


# -- gemini ---------------------------------------------------------------------------


def test_gemini_json_and_function_call_parse(gw: Gateway, gemini: Any) -> None:
    script(gw, "gemini", json=LABEL, match={"contains": "triage"})
    script(gw, "gemini", tool_call=TOOL)
    answer = gemini.models.generate_content(model=GEMINI, contents="triage: crash")
    assert json.loads(answer.text) == LABEL
    streamed = gemini.models.generate_content_stream(model=GEMINI, contents="triage: crash")
    assert json.loads("".join(c.text or "" for c in streamed)) == LABEL
    called = gemini.models.generate_content(model=GEMINI, contents="find order A-17")
    part = called.candidates[0].content.parts[0]
    assert part.function_call.name == "lookup_order"
    assert part.function_call.args == TOOL["arguments"]


def test_gemini_stream_bytes_carry_the_function_call(gw: Gateway) -> None:
    script(gw, "gemini", tool_call=TOOL, stop_reason="tool_use")
    url = gw.urls["gemini"] + f"/v1beta/models/{GEMINI}:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "order?"}]}]}
    raw = httpx.post(url, json=body, headers={"x-goog-api-key": "k"}).text
    chunks = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: ")]
    candidate = chunks[-1]["candidates"][0]
    assert candidate["content"]["parts"][0]["functionCall"]["args"] == TOOL["arguments"]
    assert candidate["finishReason"] == "STOP"


# -- matching -------------------------------------------------------------------------


def test_matching_order_once_and_the_default_echo(gw: Gateway, claude: Any) -> None:
    script(gw, "anthropic", text="first", match={"regex": r"^order \d+$"}, once=True)
    script(gw, "anthropic", text="second", match={"contains": "order"}, times=1)
    script(gw, "anthropic", text="other model", match={"model": "claude-opus-4-1"})
    texts = [ask_claude(claude, "order 1").content[0].text for _ in range(3)]
    assert texts == ["first", "second", "Echo: order 1"]


def test_book_matches_every_condition() -> None:
    book = ReplyBook()
    query = ReplyQuery("messages.create", "m", "hello world", ("search",))
    assert ReplyMatch(contains="world", operation="messages.create", tools="search").matches(query)
    assert not ReplyMatch(tools=False).matches(query)
    assert not ReplyMatch(model="other").matches(query)
    always = book.add(parse_reply({"text": "x"}, source="t"))
    assert [book.take(query) for _ in range(3)] == [always] * 3
    assert always.used == 3


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"txt": "x"}, "unknown reply key 'txt' (did you mean 'text'?)"),
        ({"text": "a", "json": {}}, "'text' or 'json', not both"),
        ({"stop_reason": "length"}, "unknown stop_reason 'length'"),
        ({"match": {"regex": "("}}, "match 'regex' '(' is invalid"),
        ({"match": {"contain": "x"}}, "unknown match key 'contain'"),
        ({"times": 0}, "'times' must be an integer >= 1"),
        ({"tool_call": {"arguments": {}}}, "'tool_call' takes {name: ..."),
        ({"usage": {"tokens": 3}}, "'usage' takes input_tokens"),
    ],
)
def test_bad_replies_are_clear_errors(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=r"^where: ") as info:
        parse_reply(spec, source="where")
    assert message in str(info.value)
