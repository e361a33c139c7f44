"""Logical calls: the model (attempts, calls, findings, per-target summaries) and how the
journal becomes calls: grouping attempts by question and attributing each one (first, SDK
retry, app retry, failover); the rules are :mod:`chaos.verdict`'s docstring."""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from chaos.common._journal import JournalRecord

__all__ = ["Attempt", "Attribution", "Call", "Finding", "TargetSummary"]

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
