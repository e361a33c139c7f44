"""Content faults through the gateway and the official SDKs: each dialect's own stop
reasons, refusal fields and broken tool arguments, streamed or not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chaos._errors import ConfigError
from chaos.faults import Fault
from chaos.gateway import Gateway
from chaos.profiles import parse_fault
from chaos.providers._replies import parse_reply
from tests.providers._gateway import three_dialects

anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")
genai = pytest.importorskip("google.genai")
gtypes = pytest.importorskip("google.genai.types")

CLAUDE = "claude-sonnet-4-5"
GPT = "gpt-4o-mini"
GEMINI = "gemini-2.5-flash"
LONG = "one two three four five six seven eight nine ten"
ARGS = {"order_id": "A-17", "note": "deliver to the back door"}
TOOL = {"name": "lookup_order", "arguments": ARGS}
ANTHROPIC_TOOLS = [{"name": "lookup_order", "input_schema": {"type": "object"}}]
OPENAI_TOOLS = [{"type": "function", "function": {"name": "lookup_order", "parameters": {}}}]


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with three_dialects(seed=4) as gw:
        yield gw


@pytest.fixture
def gw(gateway: Gateway) -> Iterator[Gateway]:
    yield gateway
    gateway.clear()
    for name in gateway.targets:
        gateway.dialect(name).replies.clear()


def fault_all(gw: Gateway, **spec: Any) -> None:
    """The same content fault on every target."""
    faults = []
    for target in gw.targets:
        parsed = parse_fault({**spec, "target": target}, source="test", dialect=target)
        faults.append(Fault(target, parsed.action, parsed.match, name=f"{target}-content"))
    gw.set_faults(faults)


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
    return genai.Client(api_key="k", http_options=gtypes.HttpOptions(base_url=gw.urls["gemini"]))


def claude_ask(claude: Any, **kw: Any) -> Any:
    return claude.messages.create(
        model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "go"}], **kw
    )


# -- truncate_answer ------------------------------------------------------------------


def test_truncate_answer_in_every_dialect(gw: Gateway, claude: Any, gpt: Any, gemini: Any) -> None:
    for target in gw.targets:
        script(gw, target, text=LONG)
    fault_all(gw, truncate_answer=3)
    message = claude_ask(claude)
    assert (message.content[0].text, message.stop_reason) == ("one two three", "max_tokens")
    with claude.messages.stream(
        model=CLAUDE, max_tokens=100, messages=[{"role": "user", "content": "go"}]
    ) as stream:
        final = stream.get_final_message()
    assert (final.content[0].text, final.stop_reason) == ("one two three", "max_tokens")
    chat = gpt.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "go"}])
    assert (chat.choices[0].message.content, chat.choices[0].finish_reason) == (
        "one two three",
        "length",
    )
    chunks = list(
        gpt.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": "go"}], stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == (
        "one two three"
    )
    assert chunks[-1].choices[0].finish_reason == "length"
    response = gpt.responses.create(model=GPT, input="go")
    assert (response.output_text, response.status) == ("one two three", "incomplete")
    answer = gemini.models.generate_content(model=GEMINI, contents="go")
    assert answer.text == "one two three"
    assert answer.candidates[0].finish_reason == gtypes.FinishReason.MAX_TOKENS


# -- malformed_tool_args --------------------------------------------------------------


def test_malformed_tool_args_do_not_parse(gw: Gateway, claude: Any, gpt: Any, gemini: Any) -> None:
    for target in gw.targets:
        script(gw, target, tool_call=TOOL)
    fault_all(gw, malformed_tool_args={})
    chat = gpt.chat.completions.create(
        model=GPT, messages=[{"role": "user", "content": "go"}], tools=OPENAI_TOOLS
    )
    arguments = chat.choices[0].message.tool_calls[0].function.arguments
    assert json.dumps(ARGS, separators=(",", ":")).startswith(arguments)
    with pytest.raises(json.JSONDecodeError):
        json.loads(arguments)
    chunks = list(
        gpt.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": "go"}], tools=OPENAI_TOOLS, stream=True
        )
    )
    streamed = "".join(
        c.choices[0].delta.tool_calls[0].function.arguments or ""
        for c in chunks
        if c.choices and c.choices[0].delta.tool_calls
    )
    assert streamed == arguments
    message = claude_ask(claude, tools=ANTHROPIC_TOOLS)
    assert message.stop_reason == "tool_use"
    assert not isinstance(message.content[-1].input, dict)  # the cut JSON text, not an object
    body = {
        "model": CLAUDE,
        "max_tokens": 100,
        "stream": True,
        "tools": ANTHROPIC_TOOLS,
        "messages": [{"role": "user", "content": "go"}],
    }
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    raw = httpx.post(gw.urls["anthropic"] + "/v1/messages", json=body, headers=headers).text
    events = [json.loads(line[6:]) for line in raw.splitlines() if line.startswith("data: ")]
    partial = "".join(
        e["delta"]["partial_json"]
        for e in events
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "input_json_delta"
    )
    with pytest.raises(json.JSONDecodeError):
        json.loads(partial)
    answer = gemini.models.generate_content(model=GEMINI, contents="go")
    candidate = answer.candidates[0]
    assert candidate.finish_reason == gtypes.FinishReason.MALFORMED_FUNCTION_CALL
    assert answer.function_calls is None


# -- refusal and empty_answer ---------------------------------------------------------


@pytest.mark.slow
def test_refusal_in_every_dialect(gw: Gateway, claude: Any, gpt: Any, gemini: Any) -> None:
    fault_all(gw, refusal="No.")
    message = claude_ask(claude)
    assert message.stop_reason == "refusal"
    chat = gpt.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "go"}])
    assert chat.choices[0].message.refusal == "No."
    assert chat.choices[0].message.content is None
    chunks = list(
        gpt.chat.completions.create(
            model=GPT, messages=[{"role": "user", "content": "go"}], stream=True
        )
    )
    assert "".join(c.choices[0].delta.refusal or "" for c in chunks if c.choices) == "No."
    response = gpt.responses.create(model=GPT, input="go")
    assert response.output[0].content[0].refusal == "No."
    with gpt.responses.stream(model=GPT, input="go") as stream:
        final = stream.get_final_response()
    assert final.output[0].content[0].refusal == "No."
    answer = gemini.models.generate_content(model=GEMINI, contents="go")
    assert answer.candidates[0].finish_reason == gtypes.FinishReason.SAFETY
    assert answer.text is None


def test_empty_answer_in_every_dialect(gw: Gateway, claude: Any, gpt: Any, gemini: Any) -> None:
    fault_all(gw, empty_answer={})
    message = claude_ask(claude)
    assert (message.content, message.stop_reason) == ([], "end_turn")
    chat = gpt.chat.completions.create(model=GPT, messages=[{"role": "user", "content": "go"}])
    assert (chat.choices[0].message.content, chat.choices[0].finish_reason) == ("", "stop")
    answer = gemini.models.generate_content(model=GEMINI, contents="go")
    assert not answer.text
    assert gw.dialect("gemini").replies.content_faults()[-1].kind == "empty_answer"


def test_content_fault_settings_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"malformed_tool_args: must be between 0 and 1"):
        parse_fault({"target": "a", "malformed_tool_args": 1.5}, source="t", dialect="openai")
    with pytest.raises(ConfigError, match=r"truncate_answer: must be >= 0"):
        parse_fault({"target": "a", "truncate_answer": -1}, source="t", dialect="openai")
