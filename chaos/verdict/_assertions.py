"""The verdict's assertions: failover, retry budget, retry-after, no calls, circuit open,
degraded, every declared fault fired; each failure message tells the calls' story."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from chaos._errors import FaultNotTriggered, VerdictError
from chaos.common._journal import JournalRecord
from chaos.providers._steering import retry_delay
from chaos.verdict._calls import (
    _ATTRIBUTION_TEXT,
    Attempt,
    Call,
    _describe_side,
    _is,
)

__all__: list[str] = []


class _Assertions:
    """The verdict's assertions: the questions a reviewer asks of the calls (a base of
    :class:`~chaos.verdict.Verdict`, which reads the journal into calls)."""

    if TYPE_CHECKING:  # what the assertions read of the verdict (Verdict defines them)
        records: tuple[JournalRecord, ...]
        declared: Mapping[str, int]
        unseen: str | None
        calls: tuple[Call, ...]

        @property
        def attempts(self) -> tuple[Attempt, ...]: ...

        def calls_to(self, target: str) -> tuple[Call, ...]: ...

        def describe(self, calls: Iterable[Call] | None = None) -> str: ...

    # -- assertions ------------------------------------------------------------

    def assert_failed_over(
        self,
        from_: str,
        to: str,
        *,
        from_model: str | None = None,
        to_model: str | None = None,
        within_attempts: int | None = None,
        within_s: float | None = None,
    ) -> Call:
        """Assert that a call which failed on ``from_`` moved to ``to`` and ``to`` answered it.

        ``from_`` and ``to`` name a target or a model. To name a model on a
        target, give the target and ``from_model``/``to_model`` (glob patterns
        allowed), e.g. a Gemini model fallback on one target::

            verdict.assert_failed_over(
                "gemini", "gemini", from_model="gemini-2.5-pro", to_model="gemini-2.5-flash"
            )

        Only the same question counts (see the module docstring): another
        request to ``to`` (an embedding, another question) is no failover,
        however soon it came. Returns the call.

        :param from_model: the model that failed (on ``from_``).
        :param to_model: the model that answered (on ``to``).
        :param within_attempts: the first attempt to ``to`` must be at most the
            N-th attempt of its call.
        :param within_s: it must start at most this many seconds after the
            call's first attempt.
        """
        __tracebackhide__ = True  # pytest shows the caller's line and the message
        src = _describe_side(from_, from_model)
        dst = _describe_side(to, to_model)
        limits = []
        if within_attempts is not None:
            limits.append(f"within {within_attempts} attempts")
        if within_s is not None:
            limits.append(f"within {within_s:g}s")
        expected = f"expected a failover from {src} to {dst}" + (
            " " + " and ".join(limits) if limits else ""
        )
        late: list[str] = []
        for call in self.calls:
            failed_at = next(
                (i for i, a in enumerate(call.attempts) if a.failed and _is(a, from_, from_model)),
                None,
            )
            if failed_at is None:
                continue
            moved = next(
                (
                    i
                    for i, a in enumerate(call.attempts)
                    if i > failed_at and a.attribution == "failover" and _is(a, to, to_model)
                ),
                None,
            )
            if moved is None:
                continue
            attempt = call.attempts[moved]
            answered = any(not a.failed and _is(a, to, to_model) for a in call.attempts[moved:])
            took = attempt.record.time - call.start
            if not answered:
                late.append(
                    f"call {call.index} moved to {dst} but {dst} never answered it "
                    f"({self._breakdown(to, [call], to_model)})"
                )
            elif within_attempts is not None and moved + 1 > within_attempts:
                late.append(f"call {call.index} reached {dst} only at attempt {moved + 1}")
            elif within_s is not None and took > within_s:
                late.append(f"call {call.index} reached {dst} only after {took:.2f}s")
            else:
                return call
        detail = "; ".join(late) if late else self._story(from_, to, from_model, to_model)
        raise VerdictError(f"{expected}; {detail}\n{self.describe()}")

    def assert_retry_budget(self, target: str, max_attempts: int) -> None:
        """Assert that no call sent more than ``max_attempts`` requests to ``target``."""
        __tracebackhide__ = True
        over = []
        for call in self.calls:
            n = sum(_is(a, target) for a in call.attempts)
            if n > max_attempts:
                over.append(call)
        if over:
            worst = max(sum(_is(a, target) for a in c.attempts) for c in over)
            raise VerdictError(
                f"expected at most {max_attempts} attempts per call to {target!r}; "
                f"{len(over)} call(s) went over, up to {worst} attempts "
                f"({self._breakdown(target, over)})\n{self.describe(over)}"
            )

    def assert_honoured_retry_after(self, target: str, *, tolerance_s: float = 0.05) -> None:
        """Assert that after an answer from ``target`` that asked for a delay, the next
        request to ``target`` waited at least that long.

        Every form providers use counts: ``retry-after-ms``, ``retry-after``
        (seconds or a date) and Gemini's ``RetryInfo.retryDelay`` in the error
        body (``"26s"``), as the gateway recorded it (``JournalRecord.retry_delay``).

        Fails as well when no answer from ``target`` carried a retry-after: then
        there was nothing to honour and the test proved nothing.

        :param tolerance_s: clock slack allowed.
        """
        __tracebackhide__ = True
        attempts = [a for a in self.attempts if _is(a, target)]
        seen = 0
        problems: list[str] = []
        for i, attempt in enumerate(attempts):
            wait = _retry_after(attempt.record)
            if wait is None:
                continue
            seen += 1
            if i + 1 >= len(attempts):
                continue
            nxt = attempts[i + 1]
            gap = nxt.record.time - attempt.end
            if gap + tolerance_s < wait:
                problems.append(
                    f"{attempt.outcome_text()} at +{self._t(attempt.record)}s asked to wait "
                    f"{wait:g}s, the next request came {gap:.2f}s later "
                    f"({_ATTRIBUTION_TEXT[nxt.attribution]})"
                )
        if not seen:
            raise VerdictError(
                f"expected {target!r} to be asked to wait, but no answer from it asked for "
                "a delay (retry-after, retry-after-ms, RetryInfo.retryDelay): nothing to honour\n"
                f"{self.describe(self.calls_to(target))}"
            )
        if problems:
            raise VerdictError(
                f"expected the retry-after of {target!r} to be honoured; "
                + "; ".join(problems)
                + f"\n{self.describe(self.calls_to(target))}"
            )

    def assert_no_calls(self, target: str, *, after: int | float | None = None) -> None:
        """Assert that ``target`` was not called (again).

        :param after: an ``int`` N: no request to ``target`` after its N-th
            failed one; a ``float``: none later than that many seconds after
            the first request of the test; ``None``: none at all.
        """
        __tracebackhide__ = True
        attempts = [a for a in self.attempts if _is(a, target)]
        if after is None:
            extra, since = attempts, "at all"
        elif isinstance(after, int):
            failures = [i for i, a in enumerate(attempts) if a.failed]
            if len(failures) < after:
                raise VerdictError(
                    f"expected no calls to {target!r} after {after} failures, but it failed "
                    f"only {len(failures)} time(s): the condition never arose\n{self.describe()}"
                )
            cut = failures[after - 1] if after else -1
            extra, since = attempts[cut + 1 :], f"after its failure #{after}"
        else:
            t0 = self.records[0].time if self.records else 0.0
            extra = [a for a in attempts if a.record.time - t0 > after]
            since = f"after +{after:g}s"
        if extra:
            times = ", ".join(f"+{self._t(a.record)}s {a.outcome_text()}" for a in extra[:8])
            raise VerdictError(
                f"expected no calls to {target!r} {since}; saw {len(extra)}: {times}"
                f"\n{self.describe()}"
            )

    def assert_circuit_opened(
        self, target: str, *, after_failures: int, for_s: float | None = None
    ) -> None:
        """Assert that after ``after_failures`` consecutive failures of ``target``
        the app stopped calling it (a circuit breaker opened).

        :param for_s: the breaker's open time: requests later than this after the
            opening failure are allowed (half-open probes). ``None``: none at all.
        """
        __tracebackhide__ = True
        attempts = [a for a in self.attempts if _is(a, target)]
        run = 0
        for i, attempt in enumerate(attempts):
            run = run + 1 if attempt.failed else 0
            if run < after_failures:
                continue
            rest = attempts[i + 1 :]
            if for_s is not None:
                rest = [a for a in rest if a.record.time - attempt.end < for_s]
            if rest:
                window = f"within {for_s:g}s " if for_s is not None else ""
                raise VerdictError(
                    f"expected the circuit to {target!r} to open after {after_failures} "
                    f"consecutive failures; it kept calling: {len(rest)} more request(s) "
                    f"{window}after failure #{after_failures} at +{self._t(attempt.record)}s"
                    f"\n{self.describe()}"
                )
            return
        raise VerdictError(
            f"expected the circuit to {target!r} to open after {after_failures} consecutive "
            f"failures, but it never failed {after_failures} times in a row "
            f"(longest run: {_longest_failure_run(attempts)})\n{self.describe()}"
        )

    def assert_degraded(self) -> None:
        """Assert that the app faced failed calls and none of them got an answer
        from any provider, so whatever the app answered, it answered itself.

        Check the app's own answer in the test too: the journal cannot see it.
        """
        __tracebackhide__ = True
        hit = [c for c in self.calls if c.failed_attempts]
        if not hit:
            raise VerdictError(
                "expected a degraded answer after failed calls, but no call failed: "
                f"the fault never reached the app\n{self.describe()}"
            )
        recovered = [c for c in hit if c.succeeded]
        if recovered:
            how = "; ".join(f"call {c.index} {c.resolution()}" for c in recovered)
            raise VerdictError(
                f"expected a degraded answer (no successful upstream call), but {how}"
                f"\n{self.describe(recovered)}"
            )

    def assert_all_faults_fired(self) -> None:
        """Raise :class:`~chaos.FaultNotTriggered` naming each declared fault that
        never fired: the test exercised nothing and is inconclusive."""
        __tracebackhide__ = True
        silent = sorted(name for name, n in self.declared.items() if not n)
        if silent:
            fired = sum(self.declared.values())
            raise FaultNotTriggered(
                f"inconclusive: {len(silent)} declared fault(s) never fired: "
                + ", ".join(silent)
                + f" ({fired} firing(s) of the others, {len(self.records)} request(s) seen). "
                "Make the test send the requests they match, or relax it with "
                "@pytest.mark.chaos(strict=False)."
            )

    # -- findings --------------------------------------------------------------

    def _t(self, record: JournalRecord) -> str:
        t0 = self.records[0].time if self.records else record.time
        return f"{record.time - t0:.2f}"

    def _breakdown(self, target: str, calls: Iterable[Call], model: str | None = None) -> str:
        attempts = [a for c in calls for a in c.attempts if _is(a, target, model)]
        outcomes = Counter(a.outcome_text() for a in attempts if a.failed)
        parts = [f"{text} ×{n}" for text, n in outcomes.most_common()]
        ok = sum(not a.failed for a in attempts)
        if ok:
            parts.append(f"ok ×{ok}")
        for kind, plural in (("sdk_retry", "SDK retries"), ("app_retry", "app retries")):
            n = sum(a.attribution == kind for a in attempts)
            if n:
                parts.append(f"{plural} ×{n}")
        return ", ".join(parts)

    def _story(self, from_: str, to: str, from_model: str | None, to_model: str | None) -> str:
        src = _describe_side(from_, from_model)
        dst = _describe_side(to, to_model)
        from_calls = [c for c in self.calls if any(_is(a, from_, from_model) for a in c.attempts)]
        attempts = [a for c in from_calls for a in c.attempts if _is(a, from_, from_model)]
        failed_calls = [
            c for c in from_calls if any(a.failed and _is(a, from_, from_model) for a in c.attempts)
        ]
        if not attempts:
            head = f"saw no call to {src}"
            if self.unseen:
                head += f" (which proves nothing here: {self.unseen})"
        elif not failed_calls:
            head = (
                f"no call to {src} failed ({len(from_calls)} call(s), {len(attempts)} "
                "attempt(s)): there was nothing to fail over from"
            )
        else:
            failed = sum(a.failed for a in attempts)
            state = "all failed" if failed == len(attempts) else f"{failed} failed"
            lost = sum(not c.succeeded for c in failed_calls)
            head = (
                f"no call that failed on {src} was answered by {dst} (the fallback): "
                f"{len(failed_calls)} call(s) failed on {src} ({lost} never answered), "
                f"{len(attempts)} attempt(s) to it, {state} "
                f"({self._breakdown(from_, from_calls, from_model)})"
            )
        to_attempts = [a for a in self.attempts if _is(a, to, to_model)]
        if not to_attempts:
            return f"{head}; {dst} received no request"
        asked = Counter(
            a.record.operation or f"{a.record.method} {a.record.path}" for a in to_attempts
        )
        what = ", ".join(f"{op} ×{n}" for op, n in asked.most_common())
        return (
            f"{head}; the {len(to_attempts)} request(s) to {dst} ({what}) were not the same "
            "question as a failed call (another operation or conversation, or asked after "
            "it was answered)"
        )


# -- grouping ----------------------------------------------------------------


def _retry_after(record: JournalRecord) -> float | None:
    """Seconds the answer asked to wait: as the gateway recorded it, else (a record
    from an older journal) from its ``retry-after-ms``/``retry-after`` headers."""
    if record.retry_delay is not None:
        return record.retry_delay
    return retry_delay(record.response_headers.items())


def _longest_failure_run(attempts: Sequence[Attempt]) -> int:
    best = run = 0
    for attempt in attempts:
        run = run + 1 if attempt.failed else 0
        best = max(best, run)
    return best
