"""Chaos tests of the resilient app: it must answer through every outage below."""

import time

import pytest
from resilient_app import Assistant

QUESTION = "What should I do when my LLM provider is down?"


def test_fails_over_to_openai_when_claude_is_overloaded(chaos, assistant):
    chaos.inject("anthropic", error="overloaded", match={"operation": "messages.create"})

    answer = assistant.answer(QUESTION)

    assert answer.provider == "openai"
    assert not answer.degraded
    chaos.verdict.assert_failed_over("anthropic", "openai", within_attempts=4)


def test_a_single_529_is_retried_on_claude(chaos, assistant):
    chaos.inject("anthropic", error="overloaded", first=1)

    answer = assistant.answer(QUESTION)

    assert answer.provider == "anthropic"
    chaos.verdict.assert_retry_budget("anthropic", max_attempts=3)


def test_honours_retry_after(chaos, assistant):
    chaos.inject("anthropic", error="rate_limited", retry_after=1, first=1)

    started = time.monotonic()
    answer = assistant.answer(QUESTION)

    assert answer.provider == "anthropic"
    assert time.monotonic() - started >= 1.0
    chaos.verdict.assert_honoured_retry_after("anthropic")


def test_does_not_wait_an_hour_when_told_to(chaos, assistant):
    # the Anthropic SDK 2.x would sleep the full hour; the app fails over instead
    chaos.inject("anthropic", error="rate_limited", retry_after=3600)

    answer = assistant.answer(QUESTION)

    assert answer.provider == "openai"
    chaos.verdict.assert_failed_over("anthropic", "openai", within_s=5)


def test_circuit_opens_and_stops_calling_a_dead_provider(chaos, assistant):
    chaos.inject("anthropic", error="server_error")

    answers = [assistant.answer(f"{QUESTION} ({i})") for i in range(4)]

    assert [a.provider for a in answers] == ["openai"] * 4
    chaos.verdict.assert_circuit_opened("anthropic", after_failures=3)


def test_times_out_a_hung_provider_and_fails_over(chaos, assistant):
    chaos.inject("anthropic", wire="hang", first=1)

    answer = assistant.answer(QUESTION)

    assert answer.provider in ("anthropic", "openai")  # retried after the timeout, or failed over
    assert not answer.degraded


def test_degrades_gracefully_when_every_provider_is_down(chaos, assistant):
    chaos.inject("anthropic", error="overloaded")
    chaos.inject("openai", error="server_error")

    answer = assistant.answer(QUESTION)

    assert answer.degraded
    assert "temporarily unavailable" in answer.text
    chaos.verdict.assert_degraded()


# strict=False: the profile also breaks call sites this app does not have (Opus
# streams, count_tokens); those faults cannot fire here, and that is expected.
@pytest.mark.chaos(profile="claude-2026-03-02", strict=False)
def test_survives_the_2_march_2026_outage(chaos):
    # the replay squeezes 4 hours into seconds: squeeze the breaker's cool-down too
    assistant = Assistant(timeout=3.0, cooldown=0.3, max_retry_wait=2.0)
    answers = []
    recovered_at = None
    for _ in range(2000):  # the whole incident, then a second of the recovery
        answers.append(assistant.answer(QUESTION))
        if recovered_at is None and "recovered" in chaos.harness.phases_seen():
            recovered_at = time.monotonic()
        if recovered_at is not None and time.monotonic() - recovered_at > 1.0:
            break
        time.sleep(0.05)

    assert not any(a.degraded for a in answers)
    assert answers[-1].provider == "anthropic"  # back on Claude once it recovered
    calls = chaos.verdict.calls
    assert any(c.failed_attempts for c in calls), "the outage never reached the app"
    assert all(c.succeeded for c in calls), chaos.verdict.describe()
