"""The verdict over hand-built journals: grouping, attribution, assertions, findings.

Real-traffic attribution (real SDKs through the real harness) is in
tests/plugin/test_attribution.py; these pin the rules on exact timelines.
"""

from __future__ import annotations

import itertools

import pytest

from chaos import FaultNotTriggered, VerdictError
from chaos.common._journal import JournalRecord
from chaos.verdict import Verdict

T0 = 1_700_000_000.0


class Journal:
    """Builds records the way the gateway would write them."""

    def __init__(self) -> None:
        self.records: list[JournalRecord] = []
        self._seq = itertools.count()

    def add(
        self,
        at: float,
        target: str,
        *,
        status: int = 200,
        fp: str = "q1",
        retry: int | None = 0,
        model: str | None = None,
        outcome: str = "ok",
        action: str | None = None,
        rule: str | None = None,
        duration: float = 0.01,
        headers: dict[str, str] | None = None,
        kind: str = "generate",
        retry_delay: float | None = None,
        system: tuple[str, ...] = (),
    ) -> JournalRecord:
        if status >= 400 and outcome == "ok":
            outcome = "fault"
        if model is None:
            model = "claude-sonnet-4-5" if target == "anthropic" else "gpt-5"
        if rule is None and (status >= 400 or outcome not in ("ok", "fault")):
            rule = "r1"
        rec = JournalRecord(
            seq=next(self._seq),
            time=T0 + at,
            target=target,
            method="POST",
            path="/v1/messages" if target == "anthropic" else "/v1/chat/completions",
            operation="messages.create" if target == "anthropic" else "chat.completions.create",
            model=model,
            retry_count=retry,
            fingerprint=f"{target}:{model}:{fp}",  # the bytes differ per dialect and model
            content_key=fp,  # the question does not
            call_kind=kind,
            system_keys=system,
            rule=rule,
            action=action,
            status=status if outcome not in ("reset", "hang", "closed") else None,
            outcome=outcome,  # type: ignore[arg-type]
            duration=duration,
            response_headers=headers or {},
            retry_delay=retry_delay,
        )
        self.records.append(rec)
        return rec

    def overloaded(self, at: float, retry: int, **kw: object) -> None:
        self.add(at, "anthropic", status=529, retry=retry, action="error:overloaded", **kw)  # type: ignore[arg-type]

    def verdict(self, **kw: object) -> Verdict:
        return Verdict(self.records, **kw)  # type: ignore[arg-type]


def sdk_exhausted(j: Journal, start: float = 0.0, fp: str = "q1") -> None:
    """The anthropic SDK's three attempts at 529, with its real backoff gaps."""
    j.overloaded(start, 0, fp=fp)
    j.overloaded(start + 0.5, 1, fp=fp)
    j.overloaded(start + 1.4, 2, fp=fp)


def test_sdk_retries_then_failover_is_one_call() -> None:
    j = Journal()
    sdk_exhausted(j)
    j.add(1.5, "openai")
    v = j.verdict()
    assert len(v.calls) == 1
    call = v.calls[0]
    assert [a.attribution for a in call.attempts] == [
        "first",
        "sdk_retry",
        "sdk_retry",
        "failover",
    ]
    assert call.resolution() == "failed over"
    assert v.assert_failed_over("anthropic", "openai", within_attempts=4, within_s=2) is call


def test_app_retry_is_the_same_question_with_the_count_reset() -> None:
    j = Journal()
    j.overloaded(0, 0)  # SDK retries off (max_retries=0): the app is the retry layer
    j.add(0.5, "anthropic", retry=0)  # the app tries again: count at 0
    v = j.verdict()
    assert [a.attribution for a in v.calls[0].attempts] == ["first", "app_retry"]
    assert v.calls[0].resolution() == "recovered by app retry"


def test_asking_again_after_the_sdk_gave_up_is_a_new_call() -> None:
    # a naive app asked the same question four times under a 500 storm: the SDK
    # retried each time (0, 1, 2) and gave up; the app never retried anything
    j = Journal()
    for n in range(3):
        sdk_exhausted(j, start=2.0 * n)
    j.add(6.0, "anthropic")
    v = j.verdict()
    assert [c.resolution() for c in v.calls] == ["failed", "failed", "failed", "ok"]
    assert [a.attribution for a in v.calls[1].attempts] == ["first", "sdk_retry", "sdk_retry"]
    assert v.summary()["anthropic"].app_retries == 0
    assert not [f for f in v.findings() if f.kind == "no_backoff"]


def test_an_unrelated_request_is_never_a_failover() -> None:
    # a RAG app: embed the question with OpenAI, then ask Claude; Claude is down
    j = Journal()
    for n in range(4):
        j.add(2.0 * n, "openai", fp=f"q{n}", kind="embed", model="text-embedding-3-small")
        sdk_exhausted(j, start=2.0 * n + 0.1, fp=f"q{n}")
    j.add(9.0, "openai", fp="something else")  # a later, unrelated question to OpenAI
    v = j.verdict()
    assert len(v.calls) == 9
    assert not [a for a in v.attempts if a.attribution == "failover"]
    with pytest.raises(VerdictError) as info:
        v.assert_failed_over("anthropic", "openai", within_attempts=4)
    first_line = str(info.value).splitlines()[0]
    assert "no call that failed on 'anthropic' was answered by 'openai' (the fallback)" in (
        first_line
    )
    assert "chat.completions.create ×5" in first_line


def test_a_failover_to_a_target_of_the_same_dialect_with_the_same_body() -> None:
    j = Journal()
    j.add(0, "openai", status=500, action="error:server_error", model="gpt-4o")
    j.add(0.05, "backup", model="gpt-4o")
    v = j.verdict()
    assert [a.attribution for a in v.attempts] == ["first", "failover"]
    v.assert_failed_over("openai", "backup")


def test_a_framework_s_extra_system_block_keeps_the_question_another_system_does_not() -> None:
    j = Journal()
    j.add(0, "anthropic", status=529, system=("preamble", "yours"), action="error:overloaded")
    j.add(0.05, "openai", system=("yours",))  # the same instructions, without the preamble
    j.add(1, "anthropic", status=529, fp="q2", system=("yours",), action="error:overloaded")
    j.add(1.05, "openai", fp="q2", system=("other instructions",))  # another question
    v = j.verdict()
    assert [a.attribution for a in v.attempts] == ["first", "failover", "first", "first"]


def blind(j: Journal, at: float, target: str) -> None:
    """A connection refused by a network fault: the harness never saw the request."""
    rec = JournalRecord(
        seq=next(j._seq), time=T0 + at, target=target, method="", path="", outcome="reset"
    )
    j.records.append(rec)


def test_blind_failures_are_the_question_that_follows_them() -> None:
    j = Journal()
    for n in range(3):  # the SDK's three attempts, refused before any byte
        blind(j, 0.5 * n, "anthropic")
    j.add(1.2, "openai")  # the app's fallback asks its question
    j.add(5.0, "openai", fp="q2")  # a later question: not linked
    v = j.verdict()
    assert [[a.attribution for a in c.attempts] for c in v.calls] == [
        ["first", "app_retry", "app_retry", "failover"],
        ["first"],
    ]
    v.assert_failed_over("anthropic", "openai", within_attempts=4)


def test_a_blind_failure_inside_a_call_is_one_of_its_retries() -> None:
    j = Journal()
    j.overloaded(0, 0)
    blind(j, 0.5, "anthropic")  # the SDK's retry, reset by a network fault
    j.overloaded(1.0, 2)
    j.overloaded(2.0, 0)  # the app asks again after the SDK gave up: a new call
    k = Journal()
    k.overloaded(0, 0)
    blind(k, 0.5, "anthropic")
    k.add(1.0, "anthropic", retry=0)  # SDK retries off: the app's retry gets through
    v = j.verdict()
    assert [a.attribution for a in v.calls[0].attempts] == ["first", "app_retry", "sdk_retry"]
    assert len(v.calls) == 2
    assert [a.attribution for a in k.verdict().attempts] == ["first", "app_retry", "app_retry"]


def test_a_model_fallback_named_by_target_and_model() -> None:
    j = Journal()
    j.add(0, "gemini", status=503, model="gemini-2.5-pro", action="error:overloaded")
    j.add(0.01, "gemini", model="gemini-2.5-flash")
    v = j.verdict()
    v.assert_failed_over("gemini", "gemini", from_model="gemini-2.5-pro", to_model="gemini-2.5-*")
    assert not v.findings()
    with pytest.raises(VerdictError, match=r"from 'gemini' \(model 'gemini-2.5-flash'\)"):
        v.assert_failed_over("gemini", "gemini", from_model="gemini-2.5-flash")


def test_a_failover_the_fallback_never_answered_does_not_pass() -> None:
    j = Journal()
    j.add(0, "anthropic", status=529, action="error:overloaded")
    j.add(0.1, "openai", status=500, action="error:server_error")
    v = j.verdict()
    assert v.attempts[1].attribution == "failover"
    with pytest.raises(VerdictError, match="moved to 'openai' but 'openai' never answered it"):
        v.assert_failed_over("anthropic", "openai")


def test_a_success_closes_the_call_so_the_same_question_again_is_a_new_call() -> None:
    j = Journal()
    j.add(0, "anthropic")
    j.add(1, "anthropic")
    v = j.verdict()
    assert [c.resolution() for c in v.calls] == ["ok", "ok"]
    assert all(a.attribution == "first" for a in v.attempts)


def test_model_fallback_on_the_same_target_is_a_failover() -> None:
    j = Journal()
    j.add(0, "anthropic", model="claude-opus-4-1", status=529, action="error:overloaded")
    j.add(0.1, "anthropic", model="claude-haiku-4-5")
    v = j.verdict()
    assert v.calls[0].attempts[1].attribution == "failover"
    v.assert_failed_over("claude-opus-4-1", "claude-haiku-4-5")


def test_a_request_after_a_success_is_not_a_failover() -> None:
    j = Journal()
    j.add(0, "anthropic", status=500, fp="a")
    j.add(0.1, "anthropic", fp="b")  # a different question succeeded in between
    j.add(0.2, "openai")
    v = j.verdict()
    assert [a.attribution for a in v.attempts] == ["first", "first", "first"]


def test_a_request_long_after_the_failure_is_not_a_failover() -> None:
    j = Journal()
    j.add(0, "anthropic", status=500)
    j.add(100, "openai")
    assert j.verdict().attempts[1].attribution == "first"


def test_failover_message_says_what_happened() -> None:
    j = Journal()
    sdk_exhausted(j)
    with pytest.raises(VerdictError) as info:
        j.verdict().assert_failed_over("anthropic", "openai", within_attempts=3)
    message = str(info.value)
    first_line = message.splitlines()[0]
    assert first_line == (
        "expected a failover from 'anthropic' to 'openai' within 3 attempts; "
        "no call that failed on 'anthropic' was answered by 'openai' (the fallback): "
        "1 call(s) failed on 'anthropic' (1 never answered), 3 attempt(s) to it, all failed "
        "(529 overloaded ×3, SDK retries ×2); 'openai' received no request"
    )
    assert "#3 anthropic at +1.40s: 529 overloaded (SDK retry 2)" in message


def test_failover_too_late_is_reported_with_the_attempt_count() -> None:
    j = Journal()
    sdk_exhausted(j)
    j.add(1.5, "openai")
    with pytest.raises(VerdictError, match="reached 'openai' only at attempt 4"):
        j.verdict().assert_failed_over("anthropic", "openai", within_attempts=3)
    with pytest.raises(VerdictError, match=r"only after 1\.50s"):
        j.verdict().assert_failed_over("anthropic", "openai", within_s=1.0)


def test_retry_budget() -> None:
    j = Journal()
    sdk_exhausted(j)
    j.add(1.5, "openai", status=500, action="error:server_error")  # failover, fails too
    j.add(1.6, "anthropic", status=529, action="error:overloaded")  # back: a 4th attempt
    v = j.verdict()
    assert len(v.calls) == 1
    v.assert_retry_budget("anthropic", 4)
    with pytest.raises(VerdictError, match=r"at most 3 attempts per call to 'anthropic'.*up to 4"):
        v.assert_retry_budget("anthropic", 3)


def test_retry_after_honoured_and_not() -> None:
    j = Journal()
    j.add(0, "anthropic", status=429, headers={"retry-after": "2"}, duration=0.0)
    j.add(2.05, "anthropic", retry=1)
    j.verdict().assert_honoured_retry_after("anthropic")

    j = Journal()
    j.add(0, "anthropic", status=429, headers={"Retry-After-Ms": "1500"}, duration=0.0)
    j.add(0.4, "anthropic", retry=1)
    with pytest.raises(VerdictError, match=r"asked to wait 1\.5s, the next request came 0\.40s"):
        j.verdict().assert_honoured_retry_after("anthropic")

    # Gemini's delay is in the body: the gateway records it as retry_delay
    j = Journal()
    j.add(0, "gemini", status=429, retry=None, retry_delay=1.0, duration=0.0)
    j.add(1.02, "gemini", retry=None)
    j.verdict().assert_honoured_retry_after("gemini")
    j.add(1.5, "gemini", status=429, retry=None, retry_delay=1.0, duration=0.0)
    j.add(1.6, "gemini", retry=None)
    with pytest.raises(VerdictError, match=r"asked to wait 1s, the next request came 0\.10s"):
        j.verdict().assert_honoured_retry_after("gemini")


def test_retry_after_never_sent_is_inconclusive() -> None:
    j = Journal()
    j.add(0, "anthropic", status=500)
    with pytest.raises(VerdictError, match="no answer from it asked for a delay"):
        j.verdict().assert_honoured_retry_after("anthropic")


def test_no_calls_after_failures_and_time() -> None:
    j = Journal()
    j.add(0, "anthropic", status=500, fp="a")
    j.add(0.1, "openai", fp="a")
    j.add(1.0, "openai", fp="b")
    v = j.verdict()
    v.assert_no_calls("anthropic", after=1)
    v.assert_no_calls("anthropic", after=0.5)
    with pytest.raises(VerdictError, match="no calls to 'openai' at all; saw 2"):
        v.assert_no_calls("openai")
    with pytest.raises(VerdictError, match="failed only 1 time"):
        v.assert_no_calls("anthropic", after=2)


def test_circuit_opened() -> None:
    j = Journal()
    for i in range(3):
        j.add(i, "anthropic", status=500, fp=f"q{i}")
        j.add(i + 0.1, "openai", fp=f"q{i}")
    j.add(3, "openai", fp="q3")  # breaker open: straight to openai
    j.add(10, "anthropic", fp="q4")  # half-open probe after the cool-down
    v = j.verdict()
    with pytest.raises(VerdictError, match="kept calling: 1 more request"):
        v.assert_circuit_opened("anthropic", after_failures=3)
    v.assert_circuit_opened("anthropic", after_failures=3, for_s=5)
    with pytest.raises(VerdictError, match=r"never failed 4 times in a row \(longest run: 3\)"):
        v.assert_circuit_opened("anthropic", after_failures=4)


def test_degraded() -> None:
    j = Journal()
    sdk_exhausted(j)
    j.verdict().assert_degraded()
    j.add(1.5, "openai")
    with pytest.raises(VerdictError, match="call 1 failed over"):
        j.verdict().assert_degraded()
    with pytest.raises(VerdictError, match="no call failed"):
        Journal().verdict().assert_degraded()


def test_wire_faults_are_failures() -> None:
    j = Journal()
    j.add(0, "anthropic", outcome="reset")
    j.add(0.5, "anthropic", outcome="stream_cut", retry=1)
    v = j.verdict()
    assert [a.failed for a in v.attempts] == [True, True]
    assert [a.outcome_text() for a in v.attempts] == ["reset", "200 stream cut"]


def test_all_faults_fired() -> None:
    Journal().verdict(declared={"a": 1}).assert_all_faults_fired()
    with pytest.raises(FaultNotTriggered, match=r"never fired: b, c"):
        Journal().verdict(declared={"a": 2, "b": 0, "c": 0}).assert_all_faults_fired()


def test_findings() -> None:
    j = Journal()
    j.add(0, "anthropic", status=401, action="error:unauthorized")
    j.add(0.01, "anthropic", retry=0, status=401, action="error:unauthorized")  # app retry, 10 ms
    for i in range(12):  # a storm of app retries
        j.add(1 + i * 0.05, "openai", status=500, fp="s", retry=i)
    kinds = [f.kind for f in j.verdict().findings()]
    assert kinds.count("retried_non_retryable") == 1
    assert "no_backoff" in kinds
    assert "retry_storm" in kinds
    assert "sdk_only_absorption" not in kinds


def test_sdk_only_absorption_is_a_warning() -> None:
    j = Journal()
    j.overloaded(0, 0)
    j.add(0.5, "anthropic", retry=1)
    (finding,) = j.verdict().findings()
    assert finding.kind == "sdk_only_absorption"
    assert finding.severity == "warning"
    assert "app's fallback was never exercised" in finding.message

    j.add(1.0, "anthropic", status=500, fp="b")
    j.add(1.1, "openai", fp="b")  # a real failover elsewhere: the app's path ran
    assert [f.kind for f in j.verdict().findings()] == []


def test_summary_per_target() -> None:
    j = Journal()
    sdk_exhausted(j)
    j.add(1.5, "openai")
    s = j.verdict(targets={"anthropic": "anthropic", "openai": "openai", "gemini": "gemini"})
    summary = s.summary()
    assert summary["anthropic"].to_dict() == {
        "target": "anthropic",
        "calls": 1,
        "attempts": 3,
        "failures": 3,
        "sdk_retries": 2,
        "app_retries": 0,
        "failovers_from": 1,
        "failovers_to": 0,
        "faults_fired": 3,
    }
    assert summary["openai"].failovers_to == 1
    assert summary["gemini"].attempts == 0
