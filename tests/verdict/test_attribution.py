"""Attribution on real traffic: the real anthropic and openai SDKs through the real
harness, and the verdict telling SDK retries, app retries and failover apart."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

# plain imports: the harness and both SDKs are test requirements, and a module that
# fails to import must fail the run, never skip it
import anthropic
import openai
import pytest

from chaos import Harness, Target

QUESTION = [{"role": "user", "content": "Is the provider up?"}]


@pytest.fixture(scope="module")
def harness() -> Iterator[Any]:
    h = Harness(
        targets=[Target("anthropic", "anthropic"), Target("openai", "openai")],
        backend="embedded",
        seed=7,
        name_prefix="llm-chaos-attribution",
    )
    with h:
        yield h


@pytest.fixture
def clients() -> Iterator[list[Any]]:
    made: list[Any] = []
    yield made
    for client in made:
        client.close()


@pytest.fixture
def claude(h: Any, clients: list[Any]) -> Any:
    def make(**kw: Any) -> Any:
        client = anthropic.Anthropic(
            base_url=h.endpoints["anthropic"], api_key="sk-ant-test", timeout=10, **kw
        )
        clients.append(client)
        return client

    return make


@pytest.fixture
def gpt(h: Any, clients: list[Any]) -> Any:
    def make(**kw: Any) -> Any:
        client = openai.OpenAI(
            base_url=h.endpoints["openai"] + "/v1", api_key="sk-test", timeout=10, **kw
        )
        clients.append(client)
        return client

    return make


def ask_claude(client: Any) -> Any:
    return client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=QUESTION)


def ask_gpt(client: Any) -> Any:
    return client.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)


def verdict(h: Any) -> Any:
    from chaos.verdict import Verdict

    return Verdict(h.journal, declared=h.fired())


def test_sdk_retries_are_the_sdks(h: Any, claude: Any) -> None:
    h.inject("anthropic", error="overloaded", first=2, retry_after_ms=10)
    ask_claude(claude())  # the SDK's third attempt gets through
    v = verdict(h)
    (call,) = v.calls
    assert [a.attribution for a in call.attempts] == ["first", "sdk_retry", "sdk_retry"]
    assert [a.record.retry_count for a in call.attempts] == [0, 1, 2]
    assert call.resolution() == "recovered by SDK retry"
    kinds = [f.kind for f in v.findings()]
    assert "sdk_only_absorption" in kinds
    assert set(kinds) <= {"sdk_only_absorption", "no_backoff"}  # retry-after-ms: 10


def test_app_retry_is_the_apps(h: Any, claude: Any) -> None:
    h.inject("anthropic", error="overloaded", first=1)
    client = claude(max_retries=0)
    with pytest.raises(anthropic.APIStatusError):
        ask_claude(client)
    ask_claude(client)  # the app asks again, the same question
    (call,) = verdict(h).calls
    assert [a.attribution for a in call.attempts] == ["first", "app_retry"]
    assert call.resolution() == "recovered by app retry"
    # the app's own path ran: no SDK-only warning (a no_backoff finding depends on timing)
    assert "sdk_only_absorption" not in [f.kind for f in verdict(h).findings()]


def test_failover_after_the_sdk_gave_up(h: Any, claude: Any, gpt: Any) -> None:
    h.inject("anthropic", error="overloaded", should_retry=False)
    with pytest.raises(anthropic.APIStatusError):
        ask_claude(claude())
    ask_gpt(gpt())
    v = verdict(h)
    (call,) = v.calls
    assert [(a.target, a.attribution) for a in call.attempts] == [
        ("anthropic", "first"),
        ("openai", "failover"),
    ]
    v.assert_failed_over("anthropic", "openai", within_attempts=2, within_s=5)
    summary = v.summary()
    assert (summary["anthropic"].failovers_from, summary["openai"].failovers_to) == (1, 1)


def test_a_new_question_after_success_is_a_new_call(h: Any, gpt: Any) -> None:
    client = gpt()
    ask_gpt(client)
    ask_gpt(client)
    assert [c.resolution() for c in verdict(h).calls] == ["ok", "ok"]
