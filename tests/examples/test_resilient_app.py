"""The resilient example app's fallbacks, driven by real faults through the real SDKs."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest
from resilient_app import DEGRADED_TEXT, Assistant, CircuitBreaker
from resilient_app.retry import retry_after

pytestmark = pytest.mark.sdk

Q = "What is chaos engineering?"


@pytest.fixture
def assistant(providers):
    # generous timeout: the machine may be busy; the hang test uses its own short one
    return Assistant(timeout=5.0, cooldown=60.0, max_retry_wait=3.0)


def test_answers_from_claude_when_all_is_well(providers, assistant):
    answer = assistant.answer(Q)
    assert answer.provider == "anthropic"
    assert not answer.degraded
    assert "chaos engineering" in answer.text
    assert [r.target for r in providers.journal] == ["anthropic"]


@pytest.mark.slow
def test_fails_over_after_three_overloaded_attempts(providers, assistant):
    providers.inject("anthropic", error="overloaded")
    answer = assistant.answer(Q)
    assert answer.provider == "openai"
    assert [(r.target, r.status) for r in providers.journal] == [
        ("anthropic", 529),
        ("anthropic", 529),
        ("anthropic", 529),
        ("openai", 200),
    ]
    providers.verdict().assert_failed_over("anthropic", "openai", within_attempts=4)


def test_sdk_retries_are_off_so_every_retry_is_the_apps(providers, assistant):
    providers.inject("anthropic", error="overloaded", first=2)
    assert assistant.answer(Q).provider == "anthropic"
    assert [r.retry_count for r in providers.journal] == [0, 0, 0]
    attributions = [a.attribution for a in providers.verdict().attempts]
    assert attributions == ["first", "app_retry", "app_retry"]


def test_a_bad_request_is_not_retried(providers, assistant):
    providers.inject("anthropic", error="bad_request")
    assert assistant.answer(Q).provider == "openai"
    assert [r.target for r in providers.journal] == ["anthropic", "openai"]


def test_honours_retry_after_then_succeeds(providers, assistant):
    providers.inject("anthropic", error="rate_limited", retry_after=1, first=1)
    started = time.monotonic()
    assert assistant.answer(Q).provider == "anthropic"
    assert time.monotonic() - started >= 1.0
    first, second = providers.journal
    assert second.time - first.time >= 1.0
    providers.verdict().assert_honoured_retry_after("anthropic")


def test_a_retry_after_beyond_the_cap_fails_over_at_once(providers, assistant):
    providers.inject("anthropic", error="rate_limited", retry_after=3600)
    started = time.monotonic()
    assert assistant.answer(Q).provider == "openai"
    assert time.monotonic() - started < 30  # bounded: not the hour the provider asked for
    assert [r.target for r in providers.journal] == ["anthropic", "openai"]


def test_the_circuit_opens_after_three_failures_and_stops_calling_claude(providers, assistant):
    providers.inject("anthropic", error="server_error")
    providers_used = [assistant.answer(f"{Q} {i}").provider for i in range(4)]
    assert providers_used == ["openai"] * 4
    assert sum(r.target == "anthropic" for r in providers.journal) == 3
    assert assistant.breakers["anthropic"].state == "open"
    providers.verdict().assert_circuit_opened("anthropic", after_failures=3)


@pytest.mark.slow
def test_a_hung_provider_is_timed_out_and_failed_over(providers):
    providers.inject("anthropic", wire="hang")
    assert Assistant(timeout=1.5, attempts=2).answer(Q).provider == "openai"
    assert [r.outcome for r in providers.journal if r.target == "anthropic"] == ["hang"] * 2


@pytest.mark.slow
def test_degrades_when_both_providers_are_down(providers, assistant):
    providers.inject("anthropic", error="overloaded")
    providers.inject("openai", wire="reset")
    answer = assistant.answer(Q)
    assert answer.degraded
    assert answer.provider == "none"
    assert answer.text == DEGRADED_TEXT
    providers.verdict().assert_degraded()


@pytest.mark.slow
def test_cli_prints_the_answer_and_who_gave_it(providers):
    providers.inject("anthropic", error="overloaded")
    done = subprocess.run(
        [sys.executable, "-m", "resilient_app", "--json", Q],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=providers_app_dir(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"provider": "openai"' in done.stdout
    assert '"degraded": false' in done.stdout


def providers_app_dir():
    from tests.examples.conftest import EXAMPLES

    return EXAMPLES / "resilient_app"


def test_retry_after_reads_ms_seconds_and_http_dates():
    def exc(headers):
        return type("E", (Exception,), {"response": type("R", (), {"headers": headers})()})()

    assert retry_after(exc({"retry-after-ms": "250"})) == 0.25
    assert retry_after(exc({"retry-after": "3"})) == 3.0
    assert retry_after(exc({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(exc({})) is None


def test_circuit_breaker_half_opens_after_the_cooldown_with_one_probe():
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, cooldown=10, clock=lambda: now[0])
    breaker.record_failure()
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state == "open"
    assert not breaker.allow()
    now[0] = 10.0
    assert breaker.allow()  # the probe
    assert not breaker.allow()  # only one
    breaker.record_failure()
    assert breaker.state == "open"
    now[0] = 20.0
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.allow()
