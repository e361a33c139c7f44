"""What one app's replay came to: its questions, how each ended, and the counts.

Every number the demo prints and writes about an app is computed once
(:meth:`AppRun.counts`), from what the user got and the verdict over the
harness's journal, so the table, the reasons, ``demo.json`` and ``demo.md`` agree
by construction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaos.cli.demo.apps import DemoApp

if TYPE_CHECKING:
    from chaos.common._journal import JournalRecord
    from chaos.verdict import Verdict

__all__ = ["ROUTES", "AppRun", "DemoCounts", "Question"]

_SLACK = 0.005  # seconds: the gateway stamps a request a little after the app sends it


@dataclass(frozen=True)
class Question:
    """One question the loop asked and what the user got.

    :param index: from 1.
    :param phase: the profile phase in which the answer (or the error) came.
    :param at: seconds since the profile was applied.
    :param took: seconds until the answer (or the error).
    :param provider: ``anthropic``, ``openai``, ``degraded`` or ``error``.
    :param error: the error the user saw (``OverloadedError: ...``), if any.
    :param breaker: the Claude circuit breaker's state after it, if the app has one.
    :param done: the wall time (``time.time()``) the user got the result: with ``took``,
        the span in which the journal's requests are this question's.
    """

    index: int
    phase: str
    at: float
    took: float
    provider: str
    error: str | None = None
    breaker: str | None = None
    done: float = 0.0

    @property
    def end(self) -> float:
        """Seconds since the profile was applied when the user got the result."""
        return self.at + self.took

    @property
    def answered(self) -> bool:
        """Whether the user got an answer from a provider."""
        return self.provider in ("anthropic", "openai")


ROUTES: Mapping[str, str] = {
    "claude": "Claude answered",
    "failover": "OpenAI answered after Claude failed it",
    "circuit_open": "OpenAI answered without trying Claude (circuit open)",
    "degraded": "degraded answer",
    "error": "error shown to the user",
}
"""How a question ended, from what the user got and the Claude requests in its span."""


@dataclass(frozen=True)
class DemoCounts:
    """Every number the demo prints and writes about one app, computed once
    (:meth:`AppRun.counts`), so the table, the reasons, ``demo.json`` and ``demo.md``
    agree by construction.

    :param routes: questions by route (see :data:`ROUTES`); they add up to ``questions``.
    :param claude_requests: requests Claude received; ``claude_failed`` of them failed.
    :param faulted_failovers: faulted attempts whose call ended on OpenAI (what
        ``coverage.md`` counts as ``failover``: attempts, not questions).
    """

    questions: int
    routes: Mapping[str, int]
    claude_requests: int
    claude_failed: int
    openai_requests: int
    sdk_retries: int
    app_retries: int
    faulted_failovers: int
    circuit_opened: int
    slowest: float

    @property
    def answered(self) -> int:
        """Questions a provider answered."""
        return self.routes["claude"] + self.by_openai

    @property
    def by_openai(self) -> int:
        """Questions OpenAI answered: after a failed Claude, or with the circuit open."""
        return self.routes["failover"] + self.routes["circuit_open"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "questions": self.questions,
            "answered": self.answered,
            "routes": dict(self.routes),
            "by_openai": self.by_openai,
            "claude_requests": self.claude_requests,
            "claude_failed": self.claude_failed,
            "openai_requests": self.openai_requests,
            "sdk_retries": self.sdk_retries,
            "app_retries": self.app_retries,
            "faulted_failovers": self.faulted_failovers,
            "circuit_opened": self.circuit_opened,
            "slowest_s": round(self.slowest, 3),
        }


@dataclass
class AppRun:
    """One app's replay: its questions, the journal and the verdict over it."""

    app: DemoApp
    questions: list[Question]
    records: list[JournalRecord]
    verdict: Verdict
    fired: dict[str, int]
    phases: list[str]
    seed: int
    backend: str
    started_at: float

    def by_phase(self) -> dict[str, list[Question]]:
        """The questions grouped by phase, in phase order."""
        out: dict[str, list[Question]] = {name: [] for name in self.phases}
        for q in self.questions:
            out.setdefault(q.phase, []).append(q)
        return out

    def claude_tries(self, question: Question) -> int:
        """The requests Claude received while the app was answering ``question`` (it asks
        one question at a time, so the requests of its span are its own)."""
        start, end = question.done - question.took - _SLACK, question.done + _SLACK
        return sum(1 for r in self.records if r.target == "anthropic" and start <= r.time <= end)

    def route(self, question: Question) -> str:
        """How ``question`` ended (a key of :data:`ROUTES`)."""
        if question.provider == "anthropic":
            return "claude"
        if question.provider == "openai":
            return "failover" if self.claude_tries(question) else "circuit_open"
        return "degraded" if question.provider == "degraded" else "error"

    def counts(self) -> DemoCounts:
        """The numbers of this run (see :class:`DemoCounts`)."""
        from chaos.report import coverage

        routes = Counter(self.route(q) for q in self.questions)
        summary = self.verdict.summary()
        claude, backup = summary.get("anthropic"), summary.get("openai")
        attempts = self.attributions()
        covered = coverage(self.records, verdict=self.verdict).totals()
        return DemoCounts(
            questions=len(self.questions),
            routes={route: routes[route] for route in ROUTES},
            claude_requests=claude.attempts if claude else 0,
            claude_failed=claude.failures if claude else 0,
            openai_requests=backup.attempts if backup else 0,
            sdk_retries=attempts["sdk_retry"],
            app_retries=attempts["app_retry"],
            faulted_failovers=covered.get("failover", 0),
            circuit_opened=self.breaker_opened,
            slowest=max((q.took for q in self.questions), default=0.0),
        )

    def attributions(self) -> Counter[str]:
        """Attempts by attribution (``first``, ``sdk_retry``, ``app_retry``, ``failover``)."""
        return Counter(a.attribution for a in self.verdict.attempts)

    @property
    def has_breaker(self) -> bool:
        """Whether the app has a circuit breaker in front of Claude."""
        return any(q.breaker is not None for q in self.questions)

    @property
    def breaker_opened(self) -> int:
        """How many times the Claude circuit was seen open after a question where it was not."""
        states = [q.breaker for q in self.questions if q.breaker is not None]
        return sum(
            1
            for before, after in zip(["closed", *states], states, strict=False)
            if after == "open" and before != "open"
        )
