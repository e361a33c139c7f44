"""The verdict on apps built on real frameworks, through the real harness: LangChain
(``with_fallbacks``, invoke and stream, a tool-calling conversation) and pydantic-ai
(``FallbackModel``). Each framework rebuilds the conversation in its own way for each
provider; the verdict must still see one question, failed over or not."""

from __future__ import annotations

import asyncio
import inspect
import json
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("anthropic")
pytest.importorskip("openai")

QUESTION = "Which clause covers refunds?"


@pytest.fixture(scope="module")
def harness() -> Iterator[Any]:
    from chaos import Harness, Target

    h = Harness(
        targets=[Target("anthropic", "anthropic"), Target("openai", "openai")],
        backend="embedded",
        seed=14,
        name_prefix="llm-chaos-frameworks",
    )
    with h:
        yield h


def fails(action: Any) -> Exception:
    """Run ``action``; it must raise (whatever type the framework lets through)."""
    try:
        action()
    except Exception as exc:
        return exc
    raise AssertionError("expected the app to get an error")


def verdict(h: Any) -> Any:
    from chaos.verdict import Verdict

    return Verdict(h.journal, declared=h.fired())


# -- LangChain -----------------------------------------------------------------------


def claude(h: Any) -> Any:
    lc = pytest.importorskip("langchain_anthropic")
    return lc.ChatAnthropic(
        model="claude-sonnet-4-6", base_url=h.endpoints["anthropic"], api_key="sk-ant-x", timeout=10
    )


def gpt(h: Any) -> Any:
    lc = pytest.importorskip("langchain_openai")
    return lc.ChatOpenAI(
        model="gpt-4o-mini", base_url=h.endpoints["openai"] + "/v1", api_key="sk-x", timeout=10
    )


@pytest.mark.slow
def test_langchain_with_fallbacks_fails_over(h: Any) -> None:
    # retry_after_ms keeps the SDK's two retries (LangChain's max_retries=2) quick
    h.inject("anthropic", error="overloaded", retry_after_ms=10)
    reply = claude(h).with_fallbacks([gpt(h)]).invoke(QUESTION)
    assert reply.content

    v = verdict(h)
    call = v.assert_failed_over("anthropic", "openai", within_attempts=4)
    assert [a.attribution for a in call.attempts] == ["first", "sdk_retry", "sdk_retry", "failover"]


def test_langchain_without_fallbacks_fails_saying_so(h: Any) -> None:
    from chaos import VerdictError

    h.inject("anthropic", error="overloaded", retry_after_ms=10)
    model = claude(h)
    fails(lambda: model.invoke(QUESTION))
    gpt(h).invoke("Summarise the incident.")  # later, another question to OpenAI

    with pytest.raises(VerdictError, match="no call that failed on 'anthropic' was answered"):
        verdict(h).assert_failed_over("anthropic", "openai")


def test_langchain_tool_conversation_is_one_question_across_providers(h: Any) -> None:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
    from langchain_core.tools import tool

    @tool
    def refund_clause(contract: str) -> str:
        """Find the refund clause of a contract."""
        return "clause 7"

    messages = [
        SystemMessage("You answer from the contract."),
        HumanMessage(QUESTION),
        AIMessage(
            "",
            tool_calls=[{"name": "refund_clause", "args": {"contract": "A-1"}, "id": "toolu_01"}],
        ),
        ToolMessage("clause 7", tool_call_id="toolu_01"),
    ]
    h.inject("anthropic", error="overloaded", should_retry=False)
    primary = claude(h).bind_tools([refund_clause])
    backup = gpt(h).bind_tools([refund_clause])
    assert primary.with_fallbacks([backup]).invoke(messages) is not None

    v = verdict(h)
    bodies = [r.fingerprint for r in h.journal]
    assert bodies[0] != bodies[1]  # two dialects, two different bodies
    call = v.assert_failed_over("anthropic", "openai", within_attempts=2)
    assert [a.attribution for a in call.attempts] == ["first", "failover"]


def test_langchain_stream_does_not_fall_back_after_the_first_chunk(h: Any) -> None:
    """The documented trap: ChatAnthropic yields a chunk for ``message_start``, so a
    stream cut after it raises instead of falling back (docs/frameworks.md)."""
    from chaos import VerdictError

    h.inject("anthropic", sse={"cut_after": 3}, match={"stream": True})
    chunks: list[Any] = []
    fails(lambda: chunks.extend(claude(h).with_fallbacks([gpt(h)]).stream(QUESTION)))
    assert chunks  # it had started: too late for with_fallbacks

    v = verdict(h)
    assert {r.target for r in h.journal} == {"anthropic"}
    with pytest.raises(VerdictError, match="'openai' received no request"):
        v.assert_failed_over("anthropic", "openai")


# -- pydantic-ai ---------------------------------------------------------------------


def run_agent(h: Any, *, fallback: bool) -> Any:
    """Ask ``QUESTION`` of a pydantic-ai agent (Claude, with ``FallbackModel`` to GPT if
    ``fallback``), on SDK clients closed afterwards in the agent's own event loop."""
    pytest.importorskip("pydantic_ai")
    import anthropic
    import openai
    from pydantic_ai import Agent
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.models.fallback import FallbackModel
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.anthropic import AnthropicProvider
    from pydantic_ai.providers.openai import OpenAIProvider

    async def main() -> Any:
        claude_client = anthropic.AsyncAnthropic(
            base_url=h.endpoints["anthropic"], api_key="sk-ant-x", timeout=10
        )
        gpt_client = openai.AsyncOpenAI(
            base_url=h.endpoints["openai"] + "/v1", api_key="sk-x", timeout=10
        )
        try:
            primary = AnthropicModel(
                "claude-sonnet-4-6", provider=AnthropicProvider(anthropic_client=claude_client)
            )
            backup = OpenAIChatModel(
                "gpt-4o-mini", provider=OpenAIProvider(openai_client=gpt_client)
            )
            model = FallbackModel(primary, backup) if fallback else primary
            agent = Agent(model, instructions="You answer from the contract.")
            return await agent.run(QUESTION)
        finally:
            await claude_client.close()
            await gpt_client.close()

    return asyncio.run(main())


@pytest.mark.slow
def test_pydantic_ai_fallback_model_fails_over(h: Any) -> None:
    h.inject("anthropic", error="overloaded", retry_after_ms=10)
    result = run_agent(h, fallback=True)
    assert result.output

    v = verdict(h)
    call = v.assert_failed_over("anthropic", "openai", within_attempts=4)
    assert call.resolution() == "failed over"
    assert json.dumps(v.summary()["openai"].to_dict())  # counts render


def test_pydantic_ai_without_fallback_fails_saying_so(h: Any) -> None:
    from chaos import VerdictError

    h.inject("anthropic", error="overloaded", retry_after_ms=10)
    fails(lambda: run_agent(h, fallback=False))

    with pytest.raises(VerdictError, match="'openai' received no request"):
        verdict(h).assert_failed_over("anthropic", "openai")


# -- litellm -------------------------------------------------------------------------

# litellm's own types trip a pydantic warning (not ours to fix) the first time its
# Router cools a deployment down; the suite runs with warnings as errors
_LITELLM_PYDANTIC = "ignore:.* using the `ReadOnly` qualifier:UserWarning"


@pytest.fixture
def litellm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # the model cost map from the package, not fetched from GitHub at import
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    module = pytest.importorskip("litellm")
    yield module
    # litellm caches its HTTP clients process-wide: close them, not leave them to the GC
    cache = module.in_memory_llm_clients_cache
    for client in list(cache.cache_dict.values()):
        close = getattr(client, "close", None)
        if callable(close) and not inspect.iscoroutinefunction(close):
            close()
    cache.flush_cache()


def router(h: Any, litellm: Any, **kw: Any) -> Any:
    return litellm.Router(
        model_list=[
            {
                "model_name": "claude",
                "litellm_params": {
                    "model": "anthropic/claude-sonnet-4-6",
                    "api_base": h.endpoints["anthropic"],
                    "api_key": "sk-ant-x",
                },
            },
            {
                "model_name": "gpt",
                "litellm_params": {
                    "model": "openai/gpt-4o-mini",
                    "api_base": h.endpoints["openai"] + "/v1",
                    "api_key": "sk-x",
                },
            },
        ],
        num_retries=1,
        **kw,
    )


@pytest.mark.slow
@pytest.mark.filterwarnings(_LITELLM_PYDANTIC)
def test_litellm_router_fallbacks_fail_over(h: Any, litellm: Any) -> None:
    h.inject("anthropic", error="overloaded")
    reply = router(h, litellm, fallbacks=[{"claude": ["gpt"]}]).completion(
        model="claude", messages=[{"role": "user", "content": QUESTION}]
    )
    assert reply.choices[0].message.content

    v = verdict(h)
    call = v.assert_failed_over("anthropic", "openai", within_attempts=3)
    # litellm is the only retry loop, and sends no retry count: its retries are the app's
    assert [a.attribution for a in call.attempts] == ["first", "app_retry", "failover"]


@pytest.mark.slow
@pytest.mark.filterwarnings(_LITELLM_PYDANTIC)
def test_litellm_without_fallbacks_fails_saying_so(h: Any, litellm: Any) -> None:
    from chaos import VerdictError

    h.inject("anthropic", error="overloaded")
    fails(
        lambda: router(h, litellm).completion(
            model="claude", messages=[{"role": "user", "content": QUESTION}]
        )
    )
    with pytest.raises(VerdictError, match="'openai' received no request"):
        verdict(h).assert_failed_over("anthropic", "openai")


@pytest.mark.slow
@pytest.mark.filterwarnings(_LITELLM_PYDANTIC)
def test_litellm_retries_an_exhausted_quota(h: Any, litellm: Any) -> None:
    """The documented trap: a quota 429 cannot succeed unchanged, litellm asks again."""
    h.inject("openai", error="quota_exceeded", should_retry=False)
    fails(
        lambda: router(h, litellm).completion(
            model="gpt", messages=[{"role": "user", "content": QUESTION}]
        )
    )
    kinds = [f.kind for f in verdict(h).findings()]
    assert "retried_non_retryable" in kinds, verdict(h).describe()


# -- under a built-in profile --------------------------------------------------------


@pytest.mark.slow
def test_langchain_with_fallbacks_through_the_500_storm(h: Any) -> None:
    # http-500-storm: nine 500s on anthropic (three questions' worth of the SDK's
    # three attempts), then recovery; the requests clock makes it deterministic
    h.apply("http-500-storm")
    app = claude(h).with_fallbacks([gpt(h)])
    replies = [app.invoke(f"{QUESTION} ({n})") for n in range(4)]
    assert all(r.content for r in replies)

    v = verdict(h)
    assert [c.resolution() for c in v.calls] == ["failed over"] * 3 + ["ok"]
    v.assert_failed_over("anthropic", "openai", within_attempts=4)
    v.assert_retry_budget("anthropic", max_attempts=3)
    assert v.calls[-1].targets == ("anthropic",)  # back on Claude once it recovered


@pytest.mark.slow
def test_pydantic_ai_fallback_model_through_the_500_storm(h: Any) -> None:
    h.apply("http-500-storm")
    outputs = [run_agent(h, fallback=True).output for _ in range(4)]
    assert all(outputs)

    v = verdict(h)
    assert [c.resolution() for c in v.calls] == ["failed over"] * 3 + ["ok"]
    v.assert_failed_over("anthropic", "openai", within_attempts=4)
