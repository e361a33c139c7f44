"""Rendering the demo: the side-by-side table, ``demo.md``, ``demo.json`` and the report files.

:class:`DemoResult` holds both apps' replays with the profile and renders them;
:func:`write_reports` writes them with a timeline and journal per app and the
fault-coverage report (a :class:`chaos.report.ReportBundle`).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaos.cli.demo.apps import SDKS
from chaos.cli.demo.model import ROUTES, AppRun, DemoCounts, Question
from chaos.cli.demo.story import why

if TYPE_CHECKING:
    from chaos.profiles import Profile
    from chaos.report import UserOutcome, UserSaw

__all__ = [
    "LEGEND",
    "MARKS",
    "UNFIRED",
    "DemoResult",
    "app_run_dict",
    "incident_clock",
    "write_reports",
]

# per question: "." Claude answered, "o" the fallback provider, "d" a degraded answer,
# "x" an error reached the user
MARKS: Mapping[str, str] = {"anthropic": ".", "openai": "o", "degraded": "d", "error": "x"}
LEGEND = ". Claude answered   o OpenAI answered (failover)   d degraded answer   x error"

UNFIRED = (
    "in one app's replay or in both, no request drew them (the example apps make no "
    "streaming, token-count or Opus calls, and a fault with a rate depends on the draw). "
    "The demo does not exercise them: that is no failure of the apps."
)


def incident_clock(at: float, profile: Profile) -> str:
    """``+1h40m``: ``at`` seconds of replay as incident time under ``profile``."""
    minutes = round(at * profile.time_scale / 60)
    return f"+{minutes // 60}h{minutes % 60:02d}m"


@dataclass
class DemoResult:
    """Both replays, and the profile."""

    profile: Profile
    runs: list[AppRun]
    seed: int

    def table(self) -> str:
        """The side-by-side comparison as text."""
        left, right = self.runs[0], self.runs[1]
        width = max(len(p.name) for p in self.profile.phases) + 2
        lp, rp = left.by_phase(), right.by_phase()
        phases = [
            (
                phase.name,
                incident_clock(phase.at / self.profile.time_scale, self.profile),
                _cell(lp.get(phase.name, [])),
                _cell(rp.get(phase.name, [])),
            )
            for phase in self.profile.phases
        ]
        rows: list[tuple[str, Callable[[AppRun, DemoCounts], str]]] = [
            ("answered", lambda r, c: f"{c.answered}/{c.questions}"),
            ("answered by OpenAI", _openai_cell),
            ("errors shown to users", lambda r, c: str(c.routes["error"])),
            ("SDK retries", lambda r, c: str(c.sdk_retries)),
            ("app retries", lambda r, c: str(c.app_retries)),
            ("slowest answer or error", lambda r, c: f"{c.slowest:.1f}s"),
            ("circuit breaker", _breaker_cell),
            (
                "requests to Claude / OpenAI",
                lambda r, c: f"{c.claude_requests} / {c.openai_requests}",
            ),
        ]
        lc, rc = left.counts(), right.counts()
        totals = [(title, cell(left, lc), cell(right, rc)) for title, cell in rows]
        # the left column fits its longest cell, so no two cells ever run together
        col = max(34, *(len(cells[2]) + 2 for cells in phases), *(len(t[1]) + 2 for t in totals))
        rule = f"  {'-' * (width + 9 + col + 24)}"
        out = [f"  {'phase':<{width}} {'incident':<9} {left.app.label:<{col}} {right.app.label}"]
        out.append(rule)
        out += [f"  {n:<{width}} {at:<9} {lcell:<{col}} {rcell}" for n, at, lcell, rcell in phases]
        out.append(rule)
        out += [f"  {title:<{width + 10}} {lcell:<{col}} {rcell}" for title, lcell, rcell in totals]
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``demo.json``)."""
        return {
            "version": 1,
            "profile": self.profile.name,
            "title": self.profile.title,
            "time_scale": self.profile.time_scale,
            "seed": self.seed,
            "apps": [app_run_dict(run) for run in self.runs],
        }

    def to_markdown(self) -> str:
        """The comparison and the reasons, as Markdown (``demo.md``)."""
        lines = [
            f"# llm-chaos demo: {self.profile.title}",
            "",
            f"Profile `{self.profile.name}` (seed {self.seed}, time scale "
            f"{self.profile.time_scale:g}), replayed against two example apps.",
            "",
            "| phase | incident | " + " | ".join(r.app.label for r in self.runs) + " |",
            "|---|---|" + "---|" * len(self.runs),
        ]
        by = [r.by_phase() for r in self.runs]
        for phase in self.profile.phases:
            at = incident_clock(phase.at / self.profile.time_scale, self.profile)
            cells = " | ".join(_cell(b.get(phase.name, [])) for b in by)
            lines.append(f"| {phase.name} | {at} | {cells} |")
        for run in self.runs:
            lines += ["", f"## {run.app.label}", "", run.app.blurb, ""]
            lines += [f"- {line}" for line in why(run)]
            lines += [f"- finding: {f.message}" for f in run.verdict.findings()]
            lines += ["", f"![timeline]({_timeline_name(run)})"]
        return "\n".join(lines) + "\n"


def _cell(questions: Sequence[Question]) -> str:
    if not questions:
        return "no question ended in this phase"
    counts = Counter(q.provider for q in questions)
    text = f"{sum(q.answered for q in questions)}/{len(questions)} answered"
    extra = []
    if counts["openai"]:
        extra.append(f"{counts['openai']} by OpenAI")
    if counts["degraded"]:
        extra.append(f"{counts['degraded']} degraded")
    if counts["error"]:
        extra.append(f"{counts['error']} error{'s' if counts['error'] != 1 else ''}")
    return text + (f" ({', '.join(extra)})" if extra else "")


def _openai_cell(run: AppRun, counts: DemoCounts) -> str:
    if not counts.by_openai:
        return "0"
    return (
        f"{counts.by_openai} ({counts.routes['failover']} failed over, "
        f"{counts.routes['circuit_open']} circuit open)"
    )


def _breaker_cell(run: AppRun, counts: DemoCounts) -> str:
    if not run.has_breaker:
        return "none"
    return f"opened {counts.circuit_opened}×, skipped Claude {counts.routes['circuit_open']}×"


def _timeline_name(run: AppRun) -> str:
    return f"timeline-{run.app.name}.svg"


def _user_outcomes(run: AppRun) -> list[UserOutcome]:
    """What the user got for each question, for the timeline's last lane."""
    from chaos.report import UserOutcome

    saw: Mapping[str, UserSaw] = {"degraded": "degraded", "error": "error"}
    return [
        UserOutcome(
            q.done - run.started_at,
            saw.get(q.provider, "answered"),
            f"question {q.index}: {ROUTES[run.route(q)]}" + (f" ({q.error})" if q.error else ""),
            q.done - q.took - run.started_at,
        )
        for q in run.questions
    ]


def app_run_dict(run: AppRun) -> dict[str, Any]:
    """JSON-ready data for one app in ``demo.json``."""
    summary = {name: s.to_dict() for name, s in run.verdict.summary().items()}
    counts = run.counts()
    return {
        "app": run.app.name,
        "label": run.app.label,
        "seed": run.seed,
        "backend": run.backend,
        "counts": counts.to_dict(),
        "questions": counts.questions,
        "answered": counts.answered,
        "failed": counts.routes["error"],
        "degraded": counts.routes["degraded"],
        "failovers": counts.routes["failover"],
        "attempts": dict(run.attributions()),
        "circuit_opened": counts.circuit_opened,
        "circuit_skips": counts.routes["circuit_open"],
        "requests": len(run.records),
        "targets": summary,
        "fired": run.fired,
        "phases": {
            name: {
                "asked": len(qs),
                "answered": sum(q.answered for q in qs),
                "by": dict(Counter(q.provider for q in qs)),
            }
            for name, qs in run.by_phase().items()
        },
        "answers": [
            {
                "index": q.index,
                "phase": q.phase,
                "at_s": round(q.at, 3),
                "took_s": round(q.took, 3),
                "provider": q.provider,
                "error": q.error,
                "breaker": q.breaker,
                "route": run.route(q),
                "claude_requests": run.claude_tries(q),
            }
            for q in run.questions
        ],
        "findings": [f.message for f in run.verdict.findings()],
        "why": why(run),
    }


def write_reports(result: DemoResult, directory: str | os.PathLike[str]) -> list[Path]:
    """Write ``demo.md``, ``demo.json``, a timeline SVG and journal per app, and the
    fault-coverage report into ``directory`` (a :class:`chaos.report.ReportBundle`);
    return the files."""
    from chaos.report import ReportBundle, RunReport

    bundle = ReportBundle(
        directory,
        meta={"profile": result.profile.name, "seed": str(result.seed)},
        unfired=UNFIRED,
    )
    for run in result.runs:
        bundle.add(
            RunReport(
                run.app.name,
                run.records,
                profile=result.profile,
                fired=run.fired,
                verdict=run.verdict,
                title=f"{run.app.label} under {result.profile.name}",
                targets=list(SDKS),
                origin=run.started_at,
                outcomes=_user_outcomes(run),
            )
        )
    bundle.write_text("demo.md", result.to_markdown())
    bundle.write_text("demo.json", json.dumps(result.to_dict(), indent=2) + "\n")
    bundle.write_coverage()
    return bundle.written
