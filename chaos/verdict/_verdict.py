"""The :class:`Verdict`: a test's journal read into logical calls, with its assertions
(:mod:`._assertions`) and its findings (what a passing test did not prove)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from chaos.common._journal import JournalRecord
from chaos.verdict._assertions import _Assertions
from chaos.verdict._calls import (
    _ATTRIBUTION_TEXT,
    _NON_RETRYABLE_STATUSES,
    Attempt,
    Call,
    Finding,
    TargetSummary,
    _group,
    _is,
)

__all__ = ["Verdict"]


class Verdict(_Assertions):
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
