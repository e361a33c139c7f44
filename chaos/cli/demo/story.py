"""Why an app survived the outage or did not, in sentences built from the verdict.

:func:`why` is what ``llm-chaos demo`` prints under the table and ``demo.md``
and ``demo.json`` repeat: a sentence on Claude's failures, then either how every
question got its answer or what the user saw instead.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chaos.cli.demo.model import AppRun, DemoCounts

__all__ = ["why"]


def why(run: AppRun) -> list[str]:
    """Why the app survived or not, in sentences built from the verdict."""
    counts = run.counts()
    lines = _claude_failures(run, counts)
    if counts.answered == counts.questions:
        return lines + _survived(run, counts)
    return lines + _did_not_survive(run, counts)


def _claude_failures(run: AppRun, counts: DemoCounts) -> list[str]:
    """How many of Claude's requests failed, with the commonest ways (none if it got none)."""
    if not counts.claude_requests:
        return []
    failed = Counter(
        a.outcome_text() for a in run.verdict.attempts if a.failed and a.target == "anthropic"
    )
    shown = _most_common(failed, 4)
    return [
        f"Claude failed {counts.claude_failed} of the {counts.claude_requests} requests "
        "it got" + (f" ({shown})" if shown else "") + "."
    ]


# -- an app that answered every question ---------------------------------------------------


def _survived(run: AppRun, counts: DemoCounts) -> list[str]:
    lines = [f"It answered all {counts.questions} questions: " + "; ".join(_how(counts)) + "."]
    if _back_on_claude(run):
        lines.append("When Claude recovered, it went back to Claude.")
    return lines


def _how(counts: DemoCounts) -> list[str]:
    """Who answered, by route, and the app's own retries."""
    routes = counts.routes
    how = [f"Claude answered {routes['claude']}"]
    if counts.by_openai:
        how.append(f"OpenAI answered {counts.by_openai}")
    if routes["failover"]:
        how.append(
            f"{routes['failover']} of them after Claude failed the question (failover; "
            f"{counts.faulted_failovers} faulted Claude attempt(s), as coverage.md counts "
            "them)"
        )
    if routes["circuit_open"]:
        how.append(f"{routes['circuit_open']} without trying Claude: its circuit breaker was open")
    if routes["degraded"]:
        how.append(f"{routes['degraded']} got a degraded answer")
    if counts.app_retries:
        n = counts.app_retries
        how.append(f"{n} app retr{'y' if n == 1 else 'ies'} along the way")
    return how


def _back_on_claude(run: AppRun) -> bool:
    """Whether Claude answered every question of the last phase (and there was one)."""
    recovered = [q for q in run.questions if q.phase == run.phases[-1]]
    return bool(recovered) and all(q.provider == "anthropic" for q in recovered)


# -- an app that let errors through ---------------------------------------------------------


def _did_not_survive(run: AppRun, counts: DemoCounts) -> list[str]:
    lines = [_errors_shown(run, counts)]
    if counts.sdk_retries:
        lines.append(
            f"The SDK retried {counts.sdk_retries} time(s) on its own, into the same outage: "
            "an SDK retry is not a fallback."
        )
    if not counts.openai_requests:
        lines.append("It never tried another provider: no request reached OpenAI.")
    dead = _unanswered_phases(run)
    if dead:
        lines.append(f"It answered nothing during: {', '.join(dead)}.")
    return lines


def _errors_shown(run: AppRun, counts: DemoCounts) -> str:
    """How many questions ended in an error the user saw, with the commonest errors."""
    errors = Counter(q.error.split(":")[0] for q in run.questions if q.error)
    shown = _most_common(errors, 3)
    failed = counts.questions - counts.answered
    return (
        f"{failed} of its {counts.questions} questions ended in an error shown to the user"
        + (f" ({shown})" if shown else "")
        + "."
    )


def _unanswered_phases(run: AppRun) -> list[str]:
    """The phases in which questions ended and none was answered."""
    return [name for name, qs in run.by_phase().items() if qs and not any(q.answered for q in qs)]


def _most_common(counter: Counter[str], n: int) -> str:
    """``text ×3, other ×1``: the ``n`` commonest, or '' when there are none."""
    return ", ".join(f"{text} ×{count}" for text, count in counter.most_common(n))
