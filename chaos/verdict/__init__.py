"""Verdicts: what the app did when the provider failed, read from the request journal.

A :class:`Verdict` groups the journal's attempts into *logical calls* and
attributes every attempt. A logical call is one question the app asked, however
many requests it took: the journal's ``content_key`` names the question (its
conversation, normalised across dialects, without model, stream flag or
limits), ``system_keys`` its system prompt (two requests are one question when
one's system blocks are all in the other's: frameworks add their own blocks
for one provider) and ``call_kind`` what is done with it (``generate``,
``count_tokens``, ``embed``). Attempts link only within one question: an
embedding of the same text, another question, or a request that asks none
(``models.list``) is never a retry or a failover of a call, whatever its timing.

``first``
    the first attempt of a logical call.
``sdk_retry``
    the SDK's own retry: ``x-stainless-retry-count`` > 0, the same question.
    The SDK does this before the app sees anything, so it proves nothing
    about the app.
``app_retry``
    the same question to the same target and model, the SDK's count back at 0
    (or no count: a client without the header), after a failed attempt on
    which the SDK did not retry itself: the app caught the error and asked again.
``failover``
    the same question, after a failed attempt, to another target, or to
    another model on the same target: the app moved the call.

A call is *open* while its last attempt failed (and for ``window_s`` after
it); a successful answer closes it. The same question asked again after a
success is a new call (a repeated question). So is the same question asked
again of the same target and model after the SDK's own retries gave up (the
last attempt was an SDK retry): the app got the error, and asking again is
indistinguishable from a user asking again, so it counts as a new call, failed
or not. Hence an app that retries on top of an SDK that retries too shows its
retries as calls; one that turns the SDK's retries off (``max_retries=0``)
shows them as app retries. Clients that send no retry count (google-genai,
plain HTTP) have their own retries read as app retries.

A *blind* attempt is one the harness saw fail without seeing its request (a
connection refused, reset or cut by a network fault before the request
arrived): it names no question. Blind attempts are the one place linking goes
by timing: a blind attempt right after a failed attempt on its target is a
retry of that call, and the first question right after a run of blind
failures (within ``window_s``) is what they were asking: a failover if it goes
elsewhere.

A *degraded* answer has no upstream request, so the journal cannot see it
directly: :meth:`Verdict.assert_degraded` checks what the journal can prove
(calls failed and none of them got a successful upstream answer); the test
checks the app's own answer (e.g. ``assert answer.degraded``).

No pytest and no network here: a verdict is plain data over
:class:`~chaos.common._journal.JournalRecord` objects, usable from any script.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from chaos._errors import FaultNotTriggered, VerdictError
from chaos.common._journal import JournalRecord
from chaos.providers._steering import retry_delay

__all__ = ["Attempt", "Attribution", "Call", "Finding", "TargetSummary", "Verdict"]

Attribution = Literal["first", "sdk_retry", "app_retry", "failover"]

_ATTRIBUTION_TEXT: Mapping[str, str] = {
    "first": "first attempt",
    "sdk_retry": "SDK retry",
    "app_retry": "app retry",
    "failover": "failover",
}

# statuses no client should send again unchanged (quota is a 429 told apart by its rule)
_NON_RETRYABLE_STATUSES = frozenset({400, 401, 403, 404, 413, 422})


@dataclass(frozen=True)
class Attempt:
    """One HTTP request of a logical call, with how it came about.

    :param record: the journal record.
    :param attribution: why this request was sent (see the module docstring).
    :param failed: whether the app got a failure from it (a status >= 400 or a
        wire or stream fault).
    """

    record: JournalRecord
    attribution: Attribution
    failed: bool

    @property
    def target(self) -> str:
        """The target that received the request."""
        return self.record.target

    @property
    def end(self) -> float:
        """When the answer ended (seconds since the epoch)."""
        return self.record.time + self.record.duration

    def outcome_text(self) -> str:
        """What the app got, e.g. ``529 overloaded``, ``reset``, ``200 ok``."""
        return _outcome_text(self.record)


@dataclass(frozen=True)
class Call:
    """One logical call: every attempt the app and its SDK made for one question.

    :param index: position among the calls, from 1.
    :param attempts: the attempts, in order.
    """

    index: int
    attempts: tuple[Attempt, ...]

    @property
    def succeeded(self) -> bool:
        """Whether the last attempt got a successful answer."""
        return not self.attempts[-1].failed

    @property
    def failed_attempts(self) -> int:
        """How many attempts failed."""
        return sum(a.failed for a in self.attempts)

    @property
    def targets(self) -> tuple[str, ...]:
        """The targets tried, in first-tried order."""
        return tuple(dict.fromkeys(a.target for a in self.attempts))

    @property
    def start(self) -> float:
        """When the first attempt started."""
        return self.attempts[0].record.time

    def resolution(self) -> str:
        """How the call ended: ``ok``, ``recovered by SDK retry``, ``recovered by
        app retry``, ``failed over``, or ``failed`` (the app had to degrade or error)."""
        last = self.attempts[-1]
        if last.failed:
            return "failed"
        if len(self.attempts) == 1:
            return "ok"
        if any(a.attribution == "failover" for a in self.attempts):
            return "failed over"
        if any(a.attribution == "app_retry" for a in self.attempts):
            return "recovered by app retry"
        return "recovered by SDK retry"


@dataclass(frozen=True)
class Finding:
    """Something worth a reviewer's attention, found in the journal.

    :param kind: ``retry_storm``, ``retried_non_retryable``, ``no_backoff`` or
        ``sdk_only_absorption``.
    :param message: what happened, with targets, counts and times.
    :param target: the target concerned, if one.
    :param severity: ``warning`` (the test may prove less than it seems) or
        ``problem`` (the app behaves badly).
    """

    kind: str
    message: str
    target: str | None = None
    severity: Literal["warning", "problem"] = "problem"


@dataclass
class TargetSummary:
    """Counts for one target, as reports show them.

    :param target: the target name.
    :param calls: logical calls that tried this target.
    :param attempts: requests it received.
    :param failures: of those, how many failed.
    :param sdk_retries: attempts that were the SDK's retries.
    :param app_retries: attempts that were the app's retries.
    :param failovers_from: calls that left this target for another.
    :param failovers_to: failover attempts this target received.
    :param faults_fired: requests a fault rule answered.
    """

    target: str
    calls: int = 0
    attempts: int = 0
    failures: int = 0
    sdk_retries: int = 0
    app_retries: int = 0
    failovers_from: int = 0
    failovers_to: int = 0
    faults_fired: int = 0

    def to_dict(self) -> dict[str, Any]:
        """The counts as JSON-ready data."""
        return dict(vars(self))


@dataclass
class _Open:
    """A call under construction."""

    attempts: list[Attempt] = field(default_factory=list)

    @property
    def last(self) -> Attempt:
        return self.attempts[-1]


class Verdict:
    """The journal of a test, grouped into logical calls, with assertions about them.

    :param records: journal records, in any order (sorted by ``seq``).
    :param targets: target name -> dialect, for messages and for telling a
        failover to another provider from one to another model.
    :param declared: every declared fault name -> times it fired (the
        harness's ``fired()``), for :meth:`assert_all_faults_fired`.
    :param window_s: how long after a failed attempt a retry or failover is
        still linked to it.
    :param unseen: what the journal cannot show (the harness's ``network_unseen``:
        a Toxiproxy that reports nothing per connection); messages that depend on
        it say so rather than answer.
    """

    def __init__(
        self,
        records: Sequence[JournalRecord],
        *,
        targets: Mapping[str, str] | None = None,
        declared: Mapping[str, int] | None = None,
        window_s: float = 30.0,
        unseen: str | None = None,
    ) -> None:
        self.records: tuple[JournalRecord, ...] = tuple(sorted(records, key=lambda r: r.seq))
        self.targets: Mapping[str, str] = dict(targets or {})
        self.declared: Mapping[str, int] = dict(declared or {})
        self.window_s = window_s
        self.unseen = unseen
        self.calls: tuple[Call, ...] = _group(self.records, window_s)

    # -- reading ---------------------------------------------------------------

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        """Every attempt of every call, in journal order."""
        return tuple(
            sorted((a for c in self.calls for a in c.attempts), key=lambda a: a.record.seq)
        )

    def calls_to(self, target: str) -> tuple[Call, ...]:
        """The calls that tried ``target`` (a target name or a model)."""
        return tuple(c for c in self.calls if any(_is(a, target) for a in c.attempts))

    def describe(self, calls: Iterable[Call] | None = None) -> str:
        """The calls as text, one line per attempt, for messages and reports."""
        chosen = list(self.calls if calls is None else calls)
        if not chosen:
            return "  (no request reached any target)"
        t0 = self.records[0].time if self.records else 0.0
        lines: list[str] = []
        for call in chosen:
            rec = call.attempts[0].record
            where = f"{rec.method} {rec.path}" if rec.method else "connection"
            what = " ".join(x for x in (rec.operation or where, rec.model) if x)
            lines.append(f"  call {call.index} ({what}): {call.resolution()}")
            for n, attempt in enumerate(call.attempts, 1):
                r = attempt.record
                label = _ATTRIBUTION_TEXT[attempt.attribution]
                if attempt.attribution == "sdk_retry":
                    label += f" {r.retry_count}"
                model = f" {r.model}" if r.model and r.model != rec.model else ""
                lines.append(
                    f"    #{n} {r.target}{model} at +{r.time - t0:.2f}s: "
                    f"{attempt.outcome_text()} ({label})"
                )
        return "\n".join(lines)

    def summary(self) -> dict[str, TargetSummary]:
        """Per target: calls, attempts, failures, retries, failovers and faults fired."""
        out: dict[str, TargetSummary] = {}
        for name in self.targets:
            out[name] = TargetSummary(name)
        for call in self.calls:
            for name in call.targets:
                out.setdefault(name, TargetSummary(name)).calls += 1
            for prev, attempt in zip((None, *call.attempts), call.attempts, strict=False):
                s = out.setdefault(attempt.target, TargetSummary(attempt.target))
                s.attempts += 1
                s.failures += attempt.failed
                s.sdk_retries += attempt.attribution == "sdk_retry"
                s.app_retries += attempt.attribution == "app_retry"
                s.faults_fired += (attempt.record.rule or attempt.record.network) is not None
                if attempt.attribution == "failover":
                    s.failovers_to += 1
                    if prev is not None:
                        out[prev.target].failovers_from += 1
        return out

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

    def findings(
        self,
        *,
        storm_attempts: int = 10,
        storm_window_s: float = 1.0,
        min_backoff_s: float = 0.1,
    ) -> list[Finding]:
        """What a reviewer should know, beyond pass or fail.

        :param storm_attempts: this many retries to one target within
            ``storm_window_s`` is a retry storm.
        :param min_backoff_s: a retry sooner than this after the failure has no backoff.
        """
        found: list[Finding] = []
        retries: dict[str, list[float]] = {}
        for call in self.calls:
            for prev, attempt in zip(call.attempts, call.attempts[1:], strict=False):
                if attempt.attribution not in ("sdk_retry", "app_retry"):
                    continue
                if attempt.target != prev.target:
                    continue
                retries.setdefault(attempt.target, []).append(attempt.record.time)
                if prev.failed and _non_retryable(prev.record):
                    found.append(
                        Finding(
                            "retried_non_retryable",
                            f"call {call.index}: {prev.outcome_text()} from {prev.target!r} "
                            f"cannot succeed unchanged, yet it was sent again "
                            f"({_ATTRIBUTION_TEXT[attempt.attribution]})",
                            prev.target,
                        )
                    )
                gap = attempt.record.time - prev.end
                if gap < min_backoff_s:
                    found.append(
                        Finding(
                            "no_backoff",
                            f"call {call.index}: {_ATTRIBUTION_TEXT[attempt.attribution]} to "
                            f"{attempt.target!r} {gap * 1000:.0f} ms after "
                            f"{prev.outcome_text()} (less than {min_backoff_s * 1000:.0f} ms)",
                            attempt.target,
                        )
                    )
        for target, times in retries.items():
            burst = _densest(times, storm_window_s)
            if burst >= storm_attempts:
                found.append(
                    Finding(
                        "retry_storm",
                        f"{burst} retries to {target!r} within {storm_window_s:g}s",
                        target,
                    )
                )
        found.extend(self._sdk_only())
        return found

    def _sdk_only(self) -> list[Finding]:
        hit = [c for c in self.calls if any(a.failed and a.record.rule for a in c.attempts)]
        if not hit or not all(c.resolution() == "recovered by SDK retry" for c in hit):
            return []
        targets = sorted({a.target for c in hit for a in c.attempts})
        return [
            Finding(
                "sdk_only_absorption",
                f"every injected failure ({sum(c.failed_attempts for c in hit)} in "
                f"{len(hit)} call(s) to {', '.join(map(repr, targets))}) was absorbed by the "
                "SDK's own retries: the app's fallback was never exercised. Fail more "
                "consecutive attempts than the SDK retries (e.g. first=3 for max_retries=2) "
                "or send should_retry=False.",
                targets[0] if len(targets) == 1 else None,
                "warning",
            )
        ]

    # -- message helpers -------------------------------------------------------

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


def _question(record: JournalRecord) -> tuple[str, ...]:
    """What links attempts: the question (kind and content key) when the record names
    one, else the request itself on its target (retries only, never a failover)."""
    if record.content_key:
        return (record.call_kind or record.operation or "", record.content_key)
    return ("", record.target, record.operation or record.method, record.fingerprint or record.path)


def _same_system(a: JournalRecord, b: JournalRecord) -> bool:
    """Whether two requests' system prompts can be one question's: one's blocks are
    all in the other's (a framework may add its own blocks for one provider)."""
    x, y = set(a.system_keys), set(b.system_keys)
    return x <= y or y <= x


def _blind(record: JournalRecord) -> bool:
    """Whether the harness saw a failed attempt but not its request (a connection
    refused, reset or cut before the request arrived): it asks no question it can name."""
    return (
        record.status is None
        and not record.content_key
        and not record.fingerprint
        and record.operation is None
        and _failed(record)
    )


def _group(records: Sequence[JournalRecord], window_s: float) -> tuple[Call, ...]:
    calls: list[_Open] = []
    latest: dict[tuple[str, ...], _Open] = {}  # question -> its latest call
    previous: _Open | None = None  # the call of the record just before
    for record in records:
        key = _question(record)
        call, attribution = _link(record, latest.get(key), window_s)
        recent = (
            previous is not None
            and previous.last.failed
            and record.time - previous.last.end <= window_s
        )
        if call is None and recent and previous is not None:
            # Blind attempts are linked by timing alone, the one place the verdict does:
            # a blind attempt right after a failed one on its target retries it, and the
            # question right after a run of blind failures is what they were asking.
            if _blind(record) and previous.last.target == record.target:
                call, attribution = previous, "app_retry"
            elif record.content_key and _blind(previous.last.record):
                call = previous
                attribution = _moved(record, previous.last.record)
                latest[key] = call
        if call is None:
            call = _Open()
            calls.append(call)
            latest[key] = call
        call.attempts.append(Attempt(record, attribution, _failed(record)))
        previous = call
    return tuple(Call(i, tuple(c.attempts)) for i, c in enumerate(calls, 1))


def _moved(record: JournalRecord, last: JournalRecord) -> Attribution:
    """How ``record`` follows ``last`` in one call: a failover to another target or
    model (when both models are known), else a retry (the SDK's when it says so)."""
    if record.target != last.target or (last.model and record.model != last.model):
        return "failover"
    return "sdk_retry" if record.retry_count else "app_retry"


def _link(
    record: JournalRecord, same: _Open | None, window_s: float
) -> tuple[_Open | None, Attribution]:
    """The call ``record`` continues (its latest call with the same question) and how,
    or ``(None, "first")`` for a new call."""
    if (
        same is None
        or not same.last.failed
        or record.time - same.last.end > window_s
        or not _same_system(record, same.last.record)
    ):
        return None, "first"  # a new question, or asked again after an answer
    if record.retry_count:
        return same, "sdk_retry"
    last = same.last.record
    if _moved(record, last) != "failover":
        if last.retry_count:  # the SDK retried and gave up: asking again is a new call
            return None, "first"
        return same, "app_retry"
    if not record.content_key:
        return None, "first"  # no question to compare: not provably the same call
    return same, "failover"


# -- record helpers ----------------------------------------------------------

_OK_OUTCOMES = frozenset({"ok", "fault"})


def _failed(record: JournalRecord) -> bool:
    if record.outcome not in _OK_OUTCOMES:
        return True
    return record.status is None or record.status >= 400


def _outcome_text(record: JournalRecord) -> str:
    if record.layer == "network":  # what the gateway answered never reached the app
        return f"{record.outcome.replace('_', ' ')} by network fault {record.network}"
    if record.outcome not in _OK_OUTCOMES:
        prefix = f"{record.status} " if record.status else ""
        return prefix + record.outcome.replace("_", " ")
    kind = ""
    if record.action and record.action.startswith("error:"):
        kind = record.action.split(":", 1)[1].split()[0]
    if record.status is None:
        return "no answer"
    if record.status < 400:
        return f"{record.status} ok"
    return f"{record.status} {kind}".rstrip()


def _is(attempt: Attempt, name: str, model: str | None = None) -> bool:
    """Whether ``attempt`` went to ``name`` (a target or a model), and to ``model``
    (a glob) when one is given."""
    if attempt.target != name and attempt.record.model != name:
        return False
    return model is None or fnmatch.fnmatchcase(attempt.record.model or "", model)


def _describe_side(name: str, model: str | None) -> str:
    return repr(name) if model is None else f"{name!r} (model {model!r})"


def _retry_after(record: JournalRecord) -> float | None:
    """Seconds the answer asked to wait: as the gateway recorded it, else (a record
    from an older journal) from its ``retry-after-ms``/``retry-after`` headers."""
    if record.retry_delay is not None:
        return record.retry_delay
    return retry_delay(record.response_headers.items())


def _non_retryable(record: JournalRecord) -> bool:
    if record.status in _NON_RETRYABLE_STATUSES:
        return True
    return bool(record.action and "quota" in record.action)


def _densest(times: list[float], window: float) -> int:
    best, lo = 0, 0
    ordered = sorted(times)
    for hi, t in enumerate(ordered):
        while t - ordered[lo] > window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def _longest_failure_run(attempts: Sequence[Attempt]) -> int:
    best = run = 0
    for attempt in attempts:
        run = run + 1 if attempt.failed else 0
        best = max(best, run)
    return best
