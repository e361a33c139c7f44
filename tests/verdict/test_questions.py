"""Logical calls by question, on real traffic: the real anthropic, openai and google-genai
SDKs through the real harness, in the app shapes that fooled a verdict linking by timing
and body bytes (issue 14): a RAG app, an unrelated later call, a same-dialect backup, a
Gemini model fallback, a naive app asking again, and Gemini's ``RetryInfo.retryDelay``."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

import pytest

anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")
genai = pytest.importorskip("google.genai")

QUESTIONS = [f"What does clause {n} of the contract say?" for n in range(4)]
PRO, FLASH = "gemini-2.5-pro", "gemini-2.5-flash"


@pytest.fixture(scope="module")
def harness() -> Iterator[Any]:
    from chaos import Harness, Target

    h = Harness(
        targets=[
            Target("anthropic", "anthropic"),
            Target("openai", "openai"),
            Target("backup", "openai"),
            Target("gemini", "gemini"),
        ],
        backend="embedded",
        seed=14,
        name_prefix="llm-chaos-questions",
    )
    with h:
        yield h


@pytest.fixture
def clients(h: Any) -> Iterator[Any]:
    """Makes SDK clients pointed at the harness's targets, closed after the test."""
    made: list[Any] = []

    def make(target: str, **kw: Any) -> Any:
        url = h.endpoints[target]
        if target == "anthropic":
            client = anthropic.Anthropic(base_url=url, api_key="sk-ant-test", timeout=10, **kw)
        elif target == "gemini":
            client = genai.Client(api_key="gemini-test", http_options={"base_url": url, **kw})
        else:
            client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", timeout=10, **kw)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


def verdict(h: Any) -> Any:
    from chaos.verdict import Verdict

    return Verdict(h.journal, declared=h.fired())


def ask_claude(client: Any, question: str) -> str:
    message = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=256,
        messages=[{"role": "user", "content": question}],
    )
    return "".join(b.text for b in message.content if b.type == "text")


def ask_gpt(client: Any, question: str, model: str = "gpt-4o-mini") -> str:
    completion = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": question}]
    )
    return completion.choices[0].message.content or ""


def ask_gemini(client: Any, question: str, model: str) -> str:
    return client.models.generate_content(model=model, contents=question).text or ""


def test_a_rag_app_with_no_fallback_does_not_fail_over(h: Any, clients: Any) -> None:
    from chaos import VerdictError

    # retry_after_ms keeps the SDK's own three attempts quick
    h.inject("anthropic", error="overloaded", retry_after_ms=10)
    claude, gpt = clients("anthropic"), clients("openai")
    errors = 0
    for question in QUESTIONS:  # the RAG app: embed with OpenAI, then ask Claude
        gpt.embeddings.create(model="text-embedding-3-small", input=question)
        try:
            ask_claude(claude, question)
        except anthropic.APIStatusError:
            errors += 1
    assert errors == 4  # the user got an error on every question

    v = verdict(h)
    assert not [a for a in v.attempts if a.attribution == "failover"], v.describe()
    assert [c.resolution() for c in v.calls] == ["ok", "failed"] * 4
    with pytest.raises(VerdictError) as info:
        v.assert_failed_over("anthropic", "openai", within_attempts=4)
    first = str(info.value).splitlines()[0]
    assert "no call that failed on 'anthropic' was answered by 'openai'" in first
    assert "embeddings.create ×4" in first


def test_a_later_unrelated_call_is_not_a_failover(h: Any, clients: Any) -> None:
    from chaos import VerdictError

    h.inject("anthropic", error="overloaded", should_retry=False)
    with contextlib.suppress(anthropic.APIStatusError):
        ask_claude(clients("anthropic"), QUESTIONS[0])
    ask_gpt(clients("openai"), "Summarise today's tickets.")  # another question, at once

    v = verdict(h)
    assert [a.attribution for a in v.attempts] == ["first", "first"]
    with pytest.raises(VerdictError, match="no call that failed on 'anthropic' was answered"):
        v.assert_failed_over("anthropic", "openai")


def test_a_failover_to_a_same_dialect_backup_passes(h: Any, clients: Any) -> None:
    h.inject("openai", error="server_error")
    primary, backup = clients("openai", max_retries=0), clients("backup", max_retries=0)
    try:
        answer = ask_gpt(primary, QUESTIONS[0])
    except openai.APIStatusError:
        answer = ask_gpt(backup, QUESTIONS[0])  # the same body, to another target
    assert answer

    v = verdict(h)
    journal = h.journal
    assert journal[0].fingerprint == journal[1].fingerprint  # the bytes are identical
    call = v.assert_failed_over("openai", "backup", within_attempts=2)
    assert [a.attribution for a in call.attempts] == ["first", "failover"]
    assert not v.findings()


def test_a_gemini_model_fallback_passes_with_no_findings(h: Any, clients: Any) -> None:
    h.inject("gemini", error="overloaded", match={"model": PRO})
    client = clients("gemini")
    try:
        answer = ask_gemini(client, QUESTIONS[0], PRO)
    except Exception:  # whatever google-genai raises for a 503: fall back to flash
        answer = ask_gemini(client, QUESTIONS[0], FLASH)
    assert answer

    v = verdict(h)
    (call,) = v.calls
    assert [(a.record.model, a.attribution) for a in call.attempts] == [
        (PRO, "first"),
        (FLASH, "failover"),
    ]
    v.assert_failed_over("gemini", "gemini", from_model=PRO, to_model=FLASH)
    v.assert_failed_over(PRO, FLASH)  # a model alone names it too
    assert [f.kind for f in v.findings()] == []


@pytest.mark.slow
def test_a_naive_app_asking_four_times_under_a_500_storm_made_four_calls(
    h: Any, clients: Any
) -> None:
    h.apply("http-500-storm")
    claude = clients("anthropic")  # the SDK's default 2 retries, nothing else
    answers = []
    for _ in range(4):
        try:
            answers.append(ask_claude(claude, QUESTIONS[0]))
        except anthropic.APIStatusError:
            answers.append(None)
    assert [a is not None for a in answers] == [False, False, False, True]

    v = verdict(h)
    assert [c.resolution() for c in v.calls] == ["failed", "failed", "failed", "ok"]
    summary = v.summary()["anthropic"]
    assert (summary.calls, summary.attempts, summary.sdk_retries, summary.app_retries) == (
        4,
        10,
        6,
        0,
    )
    assert not [f for f in v.findings() if f.kind in ("no_backoff", "retry_storm")]


def _retry_delay(exc: Exception) -> float:
    """What a Gemini app must do itself: google-genai does not read ``RetryInfo``."""
    details = getattr(exc, "details", None) or {}
    for detail in details.get("error", {}).get("details", []):
        if detail.get("@type", "").endswith("google.rpc.RetryInfo"):
            return float(detail["retryDelay"].rstrip("s"))
    raise AssertionError(f"no RetryInfo in {details!r}")


@pytest.mark.parametrize("waits", [True, False], ids=["waits-retryDelay", "retries-at-once"])
def test_gemini_retry_delay_honoured_or_not(h: Any, clients: Any, waits: bool) -> None:
    from chaos import VerdictError

    # a short delay to wait out; a long one not to reach by accident on a slow machine
    asked = 0.6 if waits else 30.0
    h.inject("gemini", error="rate_limited", retry_after=asked, first=1)
    client = clients("gemini")
    try:
        ask_gemini(client, QUESTIONS[0], FLASH)
    except Exception as exc:  # the app's own retry, reading the delay from the body
        delay = _retry_delay(exc)
        assert delay == asked
        if waits:
            time.sleep(delay)
        assert ask_gemini(client, QUESTIONS[0], FLASH)

    v = verdict(h)
    assert h.journal[0].retry_delay == asked
    assert "retry-after" not in {k.lower() for k in h.journal[0].response_headers}
    if waits:
        v.assert_honoured_retry_after("gemini")
    else:
        with pytest.raises(VerdictError, match=r"asked to wait 30s, the next request came"):
            v.assert_honoured_retry_after("gemini")
