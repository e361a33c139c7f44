"""The fault-coverage report: fault kind × call site × what became of the failed attempt.

Each request a fault hit is followed to the end of its logical call and given
one outcome: absorbed by an SDK retry, by an app retry, by a failover to
another target or model, a degraded answer, tolerated (the faulted attempt
still succeeded, e.g. a delay), or failed. Declared faults that never fired
get a row of their own: a chaos test whose faults never fired proved nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from chaos.common._journal import JournalRecord
from chaos.faults import Fault
from chaos.verdict import Verdict

__all__ = ["OUTCOME_LABELS", "CoverageReport", "CoverageRow", "Outcome", "coverage"]

Outcome = Literal[
    "sdk_retry",
    "app_retry",
    "failover",
    "degraded",
    "tolerated",
    "failed",
    "network",
    "not_fired",
]

OUTCOME_LABELS: dict[Outcome, str] = {
    "sdk_retry": "absorbed by SDK retry",
    "app_retry": "absorbed by app retry",
    "failover": "failover",
    "degraded": "degraded answer",
    "tolerated": "tolerated",
    "failed": "failed",
    "network": "fired below HTTP",
    "not_fired": "not fired",
}
_SHORT: dict[Outcome, str] = {
    "sdk_retry": "SDK retry",
    "app_retry": "app retry",
    "failover": "failover",
    "degraded": "degraded",
    "tolerated": "tolerated",
    "failed": "failed",
    "network": "network",
    "not_fired": "not fired",
}
# outcomes that count something else than faulted attempts the journal followed to a call
_NOT_ATTEMPTS: frozenset[Outcome] = frozenset({"network", "not_fired"})


@dataclass(frozen=True, slots=True)
class CoverageRow:
    """How often one fault kind at one call site ended one way.

    :param fault: the fault kind as the journal describes it, e.g. ``error:overloaded``.
    :param target: the target of the call site (``*`` when unknown).
    :param operation: the dialect operation (``*`` when any).
    :param stream: True or False, None when the fault matched both.
    :param outcome: what became of the faulted attempts (see :data:`OUTCOME_LABELS`).
    :param count: faulted attempts with that outcome (0 for ``not_fired``).
    :param rules: the fault rule names involved.
    :param tests: the tests (node ids) where it happened, when known.
    """

    fault: str
    target: str
    operation: str
    stream: bool | None
    outcome: Outcome
    count: int
    rules: tuple[str, ...] = ()
    tests: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON-ready data."""
        return {
            "fault": self.fault,
            "target": self.target,
            "operation": self.operation,
            "stream": self.stream,
            "outcome": self.outcome,
            "outcome_label": OUTCOME_LABELS[self.outcome],
            "count": self.count,
            "rules": list(self.rules),
            "tests": list(self.tests),
        }


@dataclass(slots=True)
class CoverageReport:
    """Fault kind × call site × outcome, with JSON and Markdown renderings.

    Build one with :func:`coverage`; combine several (tests, profiles) with
    :meth:`merge`.

    :param rows: one per (fault, call site, outcome), sorted.
    :param meta: free context shown in the header (profile, seed, backend, ...).
    """

    rows: list[CoverageRow] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)

    def totals(self) -> dict[Outcome, int]:
        """Faulted attempts per outcome (``not_fired``: faults that never fired;
        ``network``: firings of network faults, which act below HTTP where the
        journal cannot follow them to a call)."""
        totals: Counter[Outcome] = Counter()
        for row in self.rows:
            totals[row.outcome] += 1 if row.outcome == "not_fired" else row.count
        return {outcome: totals[outcome] for outcome in OUTCOME_LABELS if totals[outcome]}

    def merge(self, *others: CoverageReport) -> CoverageReport:
        """One report adding this one's rows and ``others``' (meta from this one)."""
        return CoverageReport(
            _combine([*self.rows, *(r for o in others for r in o.rows)]),
            {
                **{k: v for o in reversed(others) for k, v in o.meta.items()},
                **self.meta,
            },
        )

    @classmethod
    def from_json(cls, text: str) -> CoverageReport:
        """Read back :meth:`to_json` output."""
        data = json.loads(text)
        rows = [
            CoverageRow(
                fault=row["fault"],
                target=row["target"],
                operation=row["operation"],
                stream=row["stream"],
                outcome=row["outcome"],
                count=row["count"],
                rules=tuple(row["rules"]),
                tests=tuple(row["tests"]),
            )
            for row in data["rows"]
        ]
        return cls(rows, dict(data.get("meta", {})))

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data: ``meta``, ``totals``, ``rows``."""
        return {
            "version": 1,
            "meta": dict(self.meta),
            "totals": dict(self.totals()),
            "rows": [row.to_dict() for row in self.rows],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The report as JSON text (see :meth:`to_dict` for the shape)."""
        return json.dumps(self.to_dict(), indent=indent) + "\n"

    def to_markdown(self, *, unfired: str | None = None) -> str:
        """The report as a Markdown document: a summary line and a fault × call-site matrix.

        :param unfired: what the faults that never fired mean here, instead of the
            tests' warning (the demo's apps never send what some faults match: that
            is not a failure of theirs).
        """
        lines = ["# Fault coverage", ""]
        lines += [f"- **{key}**: {value}" for key, value in self.meta.items()]
        if self.meta:
            lines.append("")
        totals = self.totals()
        if not self.rows:
            return "\n".join([*lines, "No fault was declared and none fired.", ""])
        summary = ", ".join(
            f"{count} {OUTCOME_LABELS[outcome]}"
            for outcome, count in totals.items()
            if outcome not in _NOT_ATTEMPTS
        )
        lines.append(f"Faulted attempts: {summary or 'none'}.")
        if totals.get("network"):
            names = sorted({n for r in self.rows if r.outcome == "network" for n in r.rules})
            lines.append(
                f"{len(names)} network fault(s) fired ({totals['network']}×) below HTTP, where "
                f"the journal cannot follow them to a call: {', '.join(names)}."
            )
        if totals.get("not_fired") and unfired is not None:
            lines.append(f"{totals['not_fired']} declared fault(s) never fired: {unfired}")
        elif totals.get("not_fired"):
            lines.append(
                f"**{totals['not_fired']} declared fault(s) never fired**: "
                "the tests that declared them proved nothing about them."
            )
        if totals.get("failed"):
            lines.append(
                f"**{totals['failed']} faulted attempt(s) ended without any fallback** "
                "(no successful retry, failover or degraded answer)."
            )
        lines.append("")
        outcomes = [o for o in OUTCOME_LABELS if any(r.outcome == o for r in self.rows)]
        lines.append(
            "| fault | target | operation | stream | "
            + " | ".join(_SHORT[o] for o in outcomes)
            + " |"
        )
        lines.append("|---|---|---|---|" + "---:|" * len(outcomes))
        for (fault, target, operation, stream), cells in _matrix(self.rows).items():
            counts = [
                ("✗" if cells.get(o) == 0 else str(cells[o])) if o in cells else "·"
                for o in outcomes
            ]
            lines.append(
                f"| `{_md(fault)}` | {_md(target)} | {_md(operation)} | {_stream(stream)} | "
                + " | ".join(counts)
                + " |"
            )
        lines += ["", "Cells count faulted attempts; ✗ marks a declared fault that never fired."]
        return "\n".join(lines) + "\n"


def coverage(
    records: Sequence[JournalRecord],
    *,
    faults: Sequence[Fault] = (),
    fired: Mapping[str, int] | None = None,
    verdict: Verdict | None = None,
    degraded: bool = False,
    test: str | None = None,
    meta: Mapping[str, str] | None = None,
) -> CoverageReport:
    """The fault-coverage report of one journal.

    :param records: the journal (any order).
    :param faults: the faults that were declared (profile and ``inject``), so that
        those that never fired get a ``not_fired`` row with their call site.
    :param fired: fault name -> times fired (``harness.fired()``); names listed
        with 0 get a ``not_fired`` row too (call site ``*`` when not in ``faults``).
    :param verdict: the ``chaos.verdict.Verdict`` over the same records; built
        from ``records`` when not given. Its per-attempt attribution decides outcomes.
    :param degraded: the app answered its failed calls itself (the test knows it,
        e.g. it asserted ``answer.degraded``): report them as degraded, not failed.
    :param test: the test node id, recorded in every row.
    :param meta: context for the header (profile, seed, backend, ...).
    """
    if verdict is None:
        verdict = Verdict(records)
    outcomes = _outcomes(verdict, degraded)
    tests = (test,) if test else ()
    rows: list[CoverageRow] = []
    for record in records:
        outcome = outcomes.get(record.seq)
        if record.rule is None or outcome is None:
            continue
        operation = record.operation or f"{record.method} {record.path}"
        rows.append(
            CoverageRow(
                record.action or record.rule,
                record.target,
                operation,
                record.stream,
                outcome,
                1,
                (record.rule,),
                tests,
            )
        )
    journaled = {r.rule for r in records if r.rule is not None}
    seen = journaled | {name for name, times in (fired or {}).items() if times}
    silent = {name for name, times in (fired or {}).items() if not times and name not in seen}
    for fault in faults:
        name = fault.name or fault.action.describe()
        silent.discard(name)
        if name in journaled:
            continue
        if fault.action.layer != "http":
            # network faults act below HTTP: the journal cannot show them firing,
            # the harness's count can
            times = (fired or {}).get(name)
            if times is not None:
                rows.append(
                    CoverageRow(
                        fault.action.describe(),
                        fault.target,
                        "*",
                        None,
                        "network" if times else "not_fired",
                        times,
                        (name,),
                        tests,
                    )
                )
            continue
        if name in seen:
            continue
        rows.append(
            CoverageRow(
                fault.action.describe(),
                fault.target,
                fault.match.operation or "*",
                fault.match.stream,
                "not_fired",
                0,
                (name,),
                tests,
            )
        )
    rows += [CoverageRow(name, "*", "*", None, "not_fired", 0, (name,), tests) for name in silent]
    return CoverageReport(_combine(rows), dict(meta or {}))


def _outcomes(verdict: Verdict, degraded: bool) -> dict[int, Outcome]:
    """Each faulted attempt's outcome: how the logical call it belongs to ended."""
    outcomes: dict[int, Outcome] = {}
    for call in verdict.calls:
        resolution: Outcome
        if not call.succeeded:
            resolution = "degraded" if degraded else "failed"
        elif any(a.attribution == "failover" for a in call.attempts):
            resolution = "failover"
        elif any(a.attribution == "app_retry" for a in call.attempts):
            resolution = "app_retry"
        else:
            resolution = "sdk_retry"
        for attempt in call.attempts:
            if attempt.record.rule is not None:
                outcomes[attempt.record.seq] = "tolerated" if not attempt.failed else resolution
    return outcomes


def _combine(rows: Iterable[CoverageRow]) -> list[CoverageRow]:
    merged: dict[tuple[str, str, str, bool | None, Outcome], CoverageRow] = {}
    for row in rows:
        key = (row.fault, row.target, row.operation, row.stream, row.outcome)
        old = merged.get(key)
        if old is None:
            merged[key] = row
            continue
        merged[key] = CoverageRow(
            *key,
            count=old.count + row.count,
            rules=tuple(dict.fromkeys(old.rules + row.rules)),
            tests=tuple(dict.fromkeys(old.tests + row.tests)),
        )
    order = list(OUTCOME_LABELS)
    return sorted(
        merged.values(),
        key=lambda r: (r.target, r.operation, str(r.stream), r.fault, order.index(r.outcome)),
    )


def _matrix(
    rows: Iterable[CoverageRow],
) -> dict[tuple[str, str, str, bool | None], dict[Outcome, int]]:
    matrix: dict[tuple[str, str, str, bool | None], dict[Outcome, int]] = {}
    for row in rows:
        matrix.setdefault((row.fault, row.target, row.operation, row.stream), {})[row.outcome] = (
            row.count
        )
    return matrix


def _stream(stream: bool | None) -> str:
    return "any" if stream is None else ("yes" if stream else "no")


def _md(text: str) -> str:
    return text.replace("|", "\\|")
