"""Scripted replies parsed by the frameworks into their own types, for every dialect each
framework speaks: LangChain (``AIMessage.content`` / ``.tool_calls``, structured output),
litellm (``ModelResponse`` ``message.content`` / ``.tool_calls``, streams rebuilt by
``stream_chunk_builder``) and pydantic-ai (structured output, tools the agent runs).

Each framework talks to the fakes over real sockets through its own client; nothing
is mocked. LangChain's Gemini chat model (``langchain-google-genai``) is not in the
test extra (it needs google-genai 2.20 or later, above the lowest google-genai the
SDK tests run at), so its test runs only where it is installed.
"""

from __future__ import annotations

import asyncio
import gc
import json
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from chaos.gateway import Gateway
from chaos.providers._replies import parse_reply
from tests.providers._gateway import three_dialects

CLAUDE = "claude-sonnet-4-6"
GPT = "gpt-4o-mini"
GEMINI = "gemini-2.5-flash"
LABEL = {"label": "bug", "confidence": 0.9}
CALLS = [
    {"name": "get_weather", "arguments": {"city": "Paris"}},
    {"name": "get_time", "arguments": {"timezone": "Europe/Paris"}},
]
WANTED = [(c["name"], c["arguments"]) for c in CALLS]

# litellm's own types trip a pydantic warning (not ours to fix); the suite runs with
# warnings as errors
_LITELLM_PYDANTIC = "ignore:.* using the `ReadOnly` qualifier:UserWarning"
# google-genai's async client (pydantic-ai's Gemini model) subclasses aiohttp's session
# when aiohttp is installed
_GENAI_AIOHTTP = "ignore:Inheritance class AiohttpClientSession:DeprecationWarning"


class Label(BaseModel):
    """The structured answer the apps ask for."""

    label: str
    confidence: float


def get_weather(city: str) -> str:
    """The weather in a city."""
    return f"sunny in {city}"


def get_time(timezone: str) -> str:
    """The time in a time zone."""
    return f"noon in {timezone}"


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    with three_dialects(seed=13, pad_events=True) as gw:
        yield gw


@pytest.fixture
def gw(gateway: Gateway) -> Iterator[Gateway]:
    yield gateway
    for name in gateway.targets:
        gateway.dialect(name).replies.clear()
    # A framework may leave an event loop or a socket of its own to the garbage collector
    # (not ours to close); collect it here, its ResourceWarning ignored, rather than
    # have it fail whichever later test the collector happens to run in.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def script(gw: Gateway, target: str, **spec: Any) -> None:
    gw.dialect(target).replies.add(parse_reply(spec, source="test"))


# -- LangChain -------------------------------------------------------------------------


def chat_model(gw: Gateway, dialect: str) -> Any:
    if dialect == "anthropic":
        lc = pytest.importorskip("langchain_anthropic")
        return lc.ChatAnthropic(
            model=CLAUDE, base_url=gw.urls["anthropic"], api_key="k", max_retries=0
        )
    if dialect == "openai":
        lc = pytest.importorskip("langchain_openai")
        return lc.ChatOpenAI(
            model=GPT, base_url=gw.urls["openai"] + "/v1", api_key="k", max_retries=0
        )
    lc = pytest.importorskip(
        "langchain_google_genai", reason="langchain-google-genai is not installed"
    )
    return lc.ChatGoogleGenerativeAI(
        model=GEMINI, google_api_key="k", base_url=gw.urls["gemini"], max_retries=0
    )


DIALECTS = ["anthropic", "openai", "gemini"]


def streamed(model: Any, prompt: str) -> Any:
    whole = None
    for chunk in model.stream(prompt):
        whole = chunk if whole is None else whole + chunk
    return whole


@pytest.mark.parametrize("dialect", DIALECTS)
def test_langchain_text_and_json(gw: Gateway, dialect: str) -> None:
    from langchain_core.output_parsers import JsonOutputParser

    model = chat_model(gw, dialect)
    script(gw, dialect, text="It is a bug.", match={"contains": "plain"})
    script(gw, dialect, json=LABEL)
    assert model.invoke("plain: what is it?").text == "It is a bug."
    assert streamed(model, "plain: what is it?").text == "It is a bug."
    assert (model | JsonOutputParser()).invoke("triage: it crashes") == LABEL
    assert json.loads(streamed(model, "triage: it crashes").text) == LABEL


@pytest.mark.parametrize("dialect", DIALECTS)
def test_langchain_tool_calls_plain_and_streamed(gw: Gateway, dialect: str) -> None:
    model = chat_model(gw, dialect).bind_tools([get_weather, get_time])
    script(gw, dialect, tool_call=CALLS[0], match={"contains": "one"})
    script(gw, dialect, tool_calls=CALLS)
    for answer in (model.invoke("one: weather?"), streamed(model, "one: weather?")):
        assert [(c["name"], c["args"]) for c in answer.tool_calls] == WANTED[:1]
    for answer in (model.invoke("both?"), streamed(model, "both?")):
        assert [(c["name"], c["args"]) for c in answer.tool_calls] == WANTED
        assert len({c["id"] for c in answer.tool_calls}) == 2


@pytest.mark.parametrize("dialect", DIALECTS)
def test_langchain_structured_output(gw: Gateway, dialect: str) -> None:
    model = chat_model(gw, dialect)
    if dialect == "anthropic":  # ChatAnthropic's structured output is a forced tool call
        script(gw, dialect, tool_call={"name": "Label", "arguments": LABEL})
        structured = model.with_structured_output(Label)
    else:  # a JSON schema response format: the answer's text is the JSON
        script(gw, dialect, json=LABEL)
        structured = model.with_structured_output(Label, method="json_schema")
    assert structured.invoke("triage: it crashes") == Label(**LABEL)


# -- litellm ---------------------------------------------------------------------------


LITELLM = {
    "anthropic": (f"anthropic/{CLAUDE}", ""),
    "openai": (f"openai/{GPT}", "/v1"),
    "gemini": (f"gemini/{GEMINI}", "/v1beta"),
}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": "A tool.",
            "parameters": {"type": "object", "properties": {key: {"type": "string"}}},
        },
    }
    for name, key in (("get_weather", "city"), ("get_time", "timezone"))
]


@pytest.mark.filterwarnings(_LITELLM_PYDANTIC)
@pytest.mark.parametrize("dialect", DIALECTS)
def test_litellm_model_responses(gw: Gateway, litellm: Any, dialect: str) -> None:
    model, suffix = LITELLM[dialect]

    def ask(prompt: str, *, stream: bool, **kw: Any) -> Any:
        answer = litellm.completion(
            model=model,
            api_base=gw.urls[dialect] + suffix,
            api_key="k",
            messages=[{"role": "user", "content": prompt}],
            stream=stream,
            **kw,
        )
        return litellm.stream_chunk_builder(list(answer)) if stream else answer

    script(gw, dialect, tool_call=CALLS[0], match={"contains": "one"})
    script(gw, dialect, tool_calls=CALLS, match={"tools": True})
    script(gw, dialect, json=LABEL)
    for stream in (False, True):
        message = ask("triage", stream=stream).choices[0].message
        assert json.loads(message.content) == LABEL
        for prompt, wanted in (("one", WANTED[:1]), ("both", WANTED)):
            answer = ask(prompt, stream=stream, tools=TOOLS)
            calls = answer.choices[0].message.tool_calls
            assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == wanted
            assert answer.choices[0].finish_reason == "tool_calls"


# -- pydantic-ai -----------------------------------------------------------------------

GEMINI_AGENT = "gemini-3.5-flash-lite"  # pydantic-ai warns that gemini-2.5-flash is retired


def run_agent(
    gw: Gateway,
    dialect: str,
    prompts: list[str],
    build: Any,
    *,
    stream: bool,
) -> list[Any]:
    """The outputs of ``build(model)``'s agent for each prompt, on an SDK client of
    ``dialect`` opened and closed in the agent's own event loop."""
    pytest.importorskip("pydantic_ai")

    async def main() -> list[Any]:
        if dialect == "anthropic":
            import anthropic
            from pydantic_ai.models.anthropic import AnthropicModel
            from pydantic_ai.providers.anthropic import AnthropicProvider

            client: Any = anthropic.AsyncAnthropic(base_url=gw.urls["anthropic"], api_key="k")
            model: Any = AnthropicModel(CLAUDE, provider=AnthropicProvider(anthropic_client=client))
        elif dialect == "openai":
            import openai
            from pydantic_ai.models.openai import OpenAIChatModel
            from pydantic_ai.providers.openai import OpenAIProvider

            client = openai.AsyncOpenAI(base_url=gw.urls["openai"] + "/v1", api_key="k")
            model = OpenAIChatModel(GPT, provider=OpenAIProvider(openai_client=client))
        else:
            from google import genai
            from pydantic_ai.models.google import GoogleModel
            from pydantic_ai.providers.google import GoogleProvider

            options = genai.types.HttpOptions(base_url=gw.urls["gemini"])
            client = genai.Client(api_key="k", http_options=options)
            model = GoogleModel(GEMINI_AGENT, provider=GoogleProvider(client=client))
        try:
            outputs = []
            for prompt in prompts:
                agent = build(model)
                if stream:
                    async with agent.run_stream(prompt) as answer:
                        outputs.append(await answer.get_output())
                else:
                    outputs.append((await agent.run(prompt)).output)
            return outputs
        finally:
            if dialect == "gemini":
                await client.aio.aclose()
                client.close()
            else:
                await client.close()

    return asyncio.run(main())


@pytest.mark.filterwarnings(_GENAI_AIOHTTP)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_pydantic_ai_structured_output(gw: Gateway, dialect: str, stream: bool) -> None:
    from pydantic_ai import Agent, PromptedOutput

    # pydantic-ai's default structured output is a call of its 'final_result' tool; with
    # prompted output the answer's text is the JSON
    script(gw, dialect, tool_call={"name": "final_result", "arguments": LABEL}, once=True)
    script(gw, dialect, json=LABEL, once=True)
    builds = iter(
        [
            lambda m: Agent(m, output_type=Label),
            lambda m: Agent(m, output_type=PromptedOutput(Label)),
        ]
    )
    outputs = run_agent(gw, dialect, ["triage", "triage"], lambda m: next(builds)(m), stream=stream)
    assert outputs == [Label(**LABEL), Label(**LABEL)]


@pytest.mark.filterwarnings(_GENAI_AIOHTTP)
@pytest.mark.parametrize("stream", [False, True], ids=["plain", "streamed"])
@pytest.mark.parametrize("dialect", DIALECTS)
def test_pydantic_ai_runs_parallel_tool_calls(gw: Gateway, dialect: str, stream: bool) -> None:
    from pydantic_ai import Agent

    ran: list[tuple[str, dict[str, str]]] = []

    def weather(city: str) -> str:
        """The weather in a city."""
        ran.append(("get_weather", {"city": city}))
        return get_weather(city)

    def clock(timezone: str) -> str:
        """The time in a time zone."""
        ran.append(("get_time", {"timezone": timezone}))
        return get_time(timezone)

    def build(model: Any) -> Any:
        agent = Agent(model)
        agent.tool_plain(name="get_weather")(weather)
        agent.tool_plain(name="get_time")(clock)
        return agent

    script(gw, dialect, tool_calls=CALLS, once=True)
    script(gw, dialect, text="Sunny, and it is noon.")
    outputs = run_agent(gw, dialect, ["weather and time in Paris?"], build, stream=stream)
    assert outputs == ["Sunny, and it is noon."]
    assert sorted(ran) == sorted(WANTED)
