"""The verdict on apps built on real frameworks, through the real harness: LangChain
(``with_fallbacks``, invoke and stream, a tool-calling conversation) and pydantic-ai
(``FallbackModel``). Each framework rebuilds the conversation in its own way for each
provider; the verdict must still see one question, failed over or not."""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import json
import sys
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from tests.docs._markdown import ROOT, fenced_block

pytest.importorskip("anthropic")
pytest.importorskip("openai")

QUESTION = "Which clause covers refunds?"


@pytest.fixture(scope="module")
def harness() -> Iterator[Any]:
    from chaos import Harness, Target

    h = Harness(
        targets=[
            Target("anthropic", "anthropic"),
            Target("openai", "openai"),
            Target("gemini", "gemini"),
        ],
        backend="embedded",
        seed=14,
        name_prefix="llm-chaos-frameworks",
    )
    with h:
        yield h


@pytest.fixture(autouse=True)
def _framework_clients() -> Iterator[None]:
    """The frameworks leave HTTP clients open: LangChain caches its clients process-wide
    (an ``lru_cache`` per base URL, in private modules, hence the lookups) and closes
    none. Drop its caches after each test and collect what it left, ignoring the
    frameworks' unclosed sockets there, rather than let them fail the run at the
    interpreter's exit, after this module's harness is gone."""
    yield
    for name in ("langchain_anthropic._client_utils", "langchain_openai.chat_models._client_utils"):
        for value in getattr(sys.modules.get(name), "__dict__", {}).values():
            clear = getattr(value, "cache_clear", None)
            if callable(clear):
                clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


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


def run_agent(h: Any, *, fallback: bool, question: str = QUESTION) -> Any:
    """Ask ``question`` of a pydantic-ai agent (Claude, with ``FallbackModel`` to GPT if
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
            # max_tokens set, as apps do: without it (and with a custom client timeout)
            # pydantic-ai streams its Claude requests (docs/frameworks.md)
            agent = Agent(
                model,
                instructions="You answer from the contract.",
                model_settings={"max_tokens": 1024},
            )
            return await agent.run(question)
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


# -- every framework, resilient and naive, under a single fault and the profiles ----
#
# One app per framework and kind: ``resilient`` falls back from Claude to GPT the way
# the framework's docs say, ``naive`` asks Claude alone with the framework's defaults.
# Under each source of faults the verdict must pass the resilient app and fail the naive
# one saying what happened, and its count of failed calls must be the errors the app's
# users got. ``provider-down`` (refused connections, the SDKs' backoff), the storm and
# the ``claude-2026-03-02`` replay (wall clock, asked through until it recovers) take
# seconds; litellm waits about a second before each of its retries.

FRAMEWORKS = (
    "langchain",
    "pydantic-ai",
    pytest.param(
        "litellm", marks=[pytest.mark.slow, pytest.mark.filterwarnings(_LITELLM_PYDANTIC)]
    ),
)
SOURCES = [
    "overloaded",
    pytest.param("provider-down", marks=pytest.mark.slow),
    pytest.param("http-500-storm", marks=pytest.mark.slow),
    pytest.param("claude-2026-03-02", marks=pytest.mark.slow),
]
# questions per source: the storm's nine 500s outlast three questions of three attempts
QUESTIONS_PER_SOURCE = {"overloaded": 2, "provider-down": 2, "http-500-storm": 4}
REPLAY = "claude-2026-03-02"
# the replay lasts about 4 s, more while a held phase waits for attempts; a bound on the
# questions in case it never ends
MAX_REPLAY_QUESTIONS = 200


def app_for(h: Any, request: pytest.FixtureRequest, framework: str, resilient: bool) -> Any:
    """The app: a function from a question to the answer's text, raising what the
    framework lets through when no model answered."""
    if framework == "langchain":
        model = claude(h).with_fallbacks([gpt(h)]) if resilient else claude(h)
        return lambda q: model.invoke(q).content
    if framework == "pydantic-ai":
        return lambda q: run_agent(h, fallback=resilient, question=q).output
    litellm = request.getfixturevalue("litellm")
    app = router(h, litellm, **({"fallbacks": [{"claude": ["gpt"]}]} if resilient else {}))
    return lambda q: (
        app.completion(model="claude", messages=[{"role": "user", "content": q}])
        .choices[0]
        .message.content
    )


def ask_through(h: Any, source: str, app: Any) -> list[Asked]:
    """Put ``source`` in place and ask ``app`` questions through it: a fixed number, or
    through the replay until it has recovered. Each answer, or the error raised."""
    if source == "overloaded":
        # 529 on every Claude request; retry-after-ms keeps the SDK's retries quick
        h.inject("anthropic", error="overloaded", retry_after_ms=10)
    else:
        h.apply(source)
    asked: list[Asked] = []
    for n in range(QUESTIONS_PER_SOURCE.get(source, MAX_REPLAY_QUESTIONS)):
        if source == REPLAY and "recovered" in h.phases_seen():
            break
        before = len(h.journal)
        try:
            asked.append(Asked(app(f"{QUESTION} ({n})")))
        except Exception as exc:
            sent = len(h.journal) > before
            asked.append(Asked(exc, sent=sent))
            if not sent:  # failed without a request (litellm's cool-down): ask again later,
                time.sleep(0.25)  # as a user would, not in a tight loop
    return asked


@dataclasses.dataclass
class Asked:
    """One question's outcome: the answer's text or the error raised, and whether the app
    sent anything for it (litellm cools its only deployment down for 5 s after a 401 and
    fails every call meanwhile without a request: docs/frameworks.md)."""

    outcome: Exception | str
    sent: bool = True


def errors_of(asked: list[Asked]) -> list[Exception]:
    return [a.outcome for a in asked if isinstance(a.outcome, Exception)]


def counts_what_the_users_got(v: Any, source: str, asked: list[Asked]) -> None:
    """The verdict's calls are the app's questions that reached the harness, its failed
    calls the errors the app got for them; except under ``provider-down``, whose refused
    attempts name no question."""
    if source == "provider-down":
        return
    sent = [a for a in asked if a.sent]
    assert len(v.calls) == len(sent), v.describe()
    assert sum(not c.succeeded for c in v.calls) == len(errors_of(sent)), v.describe()


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_resilient_app_passes(
    h: Any, request: pytest.FixtureRequest, framework: str, source: str
) -> None:
    asked = ask_through(h, source, app_for(h, request, framework, resilient=True))
    assert not errors_of(asked), asked

    v = verdict(h)
    counts_what_the_users_got(v, source, asked)
    assert all(c.succeeded for c in v.calls), v.describe()
    # the replay holds its methods-failing phase until 5 attempts met it: a whole call's
    # retries fail there, so its failover is certain
    v.assert_failed_over("anthropic", "openai")


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_a_naive_app_fails_saying_what_happened(
    h: Any, request: pytest.FixtureRequest, framework: str, source: str
) -> None:
    from chaos import VerdictError

    asked = ask_through(h, source, app_for(h, request, framework, resilient=False))
    assert errors_of(asked), asked

    v = verdict(h)
    counts_what_the_users_got(v, source, asked)
    with pytest.raises(VerdictError) as info:
        v.assert_failed_over("anthropic", "openai")
    first = str(info.value).splitlines()[0]
    assert "no call that failed on 'anthropic' was answered by 'openai' (the fallback)" in first
    assert first.endswith("'openai' received no request"), first


# -- google-genai: a model fallback, pro -> flash ----------------------------------

PRO, FLASH = "gemini-2.5-pro", "gemini-2.5-flash"
# http-500-storm aimed at Gemini's pro model, the way docs/profiles.md says to aim a
# built-in profile at other targets (extend it, redeclare its phases): the example of
# docs/frameworks.md, read from the page so that the page's example is what runs
GEMINI_STORM = fenced_block((ROOT / "docs" / "frameworks.md").read_text(), "gemini-storm")


@pytest.fixture
def gemini(h: Any) -> Iterator[Any]:
    """A google-genai client on the harness's ``gemini`` target, closed afterwards."""
    genai = pytest.importorskip("google.genai")
    client = genai.Client(api_key="gemini-x", http_options={"base_url": h.endpoints["gemini"]})
    yield client
    client.close()


def ask_gemini(client: Any, question: str, *, fallback: bool) -> str:
    """The app: ask pro; if ``fallback``, ask flash when pro answers an error."""
    from google.genai import errors

    try:
        return client.models.generate_content(model=PRO, contents=question).text or ""
    except errors.APIError:
        if not fallback:
            raise
        return client.models.generate_content(model=FLASH, contents=question).text or ""


@pytest.mark.sdk
@pytest.mark.parametrize("source", ["overloaded", "gemini-500-storm"])
@pytest.mark.parametrize("resilient", [True, False], ids=["resilient", "naive"])
def test_google_genai_model_fallback(
    h: Any, gemini: Any, tmp_path: Any, source: str, resilient: bool
) -> None:
    from chaos import VerdictError

    if source == "overloaded":
        h.inject("gemini", error="overloaded", match={"model": PRO})
        questions = 2
    else:
        profile = tmp_path / "gemini-500-storm.yaml"
        profile.write_text(GEMINI_STORM)
        # three questions: google-genai does not retry by default, so three storm answers
        h.apply(profile, params={"storm": 3})
        questions = 4
    outcomes: list[Exception | str] = []
    for n in range(questions):
        try:
            outcomes.append(ask_gemini(gemini, f"{QUESTION} ({n})", fallback=resilient))
        except Exception as exc:
            outcomes.append(exc)
    errors = [o for o in outcomes if isinstance(o, Exception)]

    v = verdict(h)
    assert len(v.calls) == questions, v.describe()
    assert len([c for c in v.calls if not c.succeeded]) == len(errors), v.describe()
    if resilient:
        assert not errors, errors
        call = v.assert_failed_over("gemini", "gemini", from_model=PRO, to_model=FLASH)
        assert [a.attribution for a in call.attempts] == ["first", "failover"]
        assert not v.findings(), v.describe()
        return
    assert errors
    with pytest.raises(VerdictError) as info:
        v.assert_failed_over("gemini", "gemini", from_model=PRO, to_model=FLASH)
    first = str(info.value).splitlines()[0]
    assert (
        "no call that failed on 'gemini' (model 'gemini-2.5-pro') was answered by "
        "'gemini' (model 'gemini-2.5-flash')" in first
    ), first
    assert first.endswith("received no request"), first
