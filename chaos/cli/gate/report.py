"""The gate's report: every profile's run, and the renderings CI systems read.

The matrix printed at the end of ``llm-chaos run``, ``gate.json``, ``gate.md``,
JUnit XML, and :func:`write_reports`, which writes them with each profile's
timeline, journal and the fault-coverage report (a :class:`chaos.report.ReportBundle`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from chaos.cli.gate.command import shown
from chaos.cli.gate.outcome import ProfileRun

__all__ = ["GateReport", "write_reports"]


@dataclass
class GateReport:
    """Every profile's run, and the renderings CI systems read.

    :param command: the command that was run.
    :param runs: one per profile, in the order given.
    :param strict: whether faults that never fired fail a profile.
    :param started: when the gate started (UTC).
    """

    command: list[str]
    runs: list[ProfileRun]
    strict: bool = True
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def passed(self) -> bool:
        """Whether every profile passed."""
        return all(run.passed for run in self.runs)

    @property
    def exit_code(self) -> int:
        """0 when every profile passed, else 1."""
        return 0 if self.passed else 1

    def matrix(self) -> str:
        """The profile × outcome matrix as a text table."""
        head = ("profile", "outcome", "exit", "calls", "failed", "failovers", "faults", "time")
        rows = [head]
        for run in self.runs:
            status = str(run.command.returncode)
            if run.command.signal:
                status += f" ({run.command.signal})"
            rows.append(
                (
                    run.profile,
                    run.outcome,
                    status,
                    str(run.calls),
                    str(run.failed_calls),
                    str(run.failovers),
                    f"{run.faults_fired}/{run.faults_declared}",
                    f"{run.command.duration:.1f}s",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        passed = sum(run.passed for run in self.runs)
        lines.append("")
        lines.append(
            f"{passed} of {len(self.runs)} profile(s) passed"
            + ("" if self.passed else "; the gate FAILED")
        )
        for run in self.runs:
            if not run.passed:
                lines.append(f"  {run.profile}: {run.reason}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The gate's result as JSON-ready data (``gate.json``)."""
        return {
            "version": 1,
            "command": list(self.command),
            "started": self.started.isoformat(timespec="seconds"),
            "strict": self.strict,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "profiles": len(self.runs),
            "failed": sum(not r.passed for r in self.runs),
            "runs": [run.to_dict() for run in self.runs],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_markdown(self) -> str:
        """The matrix and each profile's story as Markdown (``gate.md``)."""
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            "# llm-chaos gate",
            "",
            f"`{shown(self.command)}` under {len(self.runs)} profile(s): **{verdict}**"
            f" ({'strict' if self.strict else 'not strict'}; {self.started:%Y-%m-%d %H:%M} UTC)",
            "",
            "| profile | outcome | exit | calls | failed calls | failovers | SDK retries "
            "| app retries | faults fired | time |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in self.runs:
            status = str(run.command.returncode)
            if run.command.signal:
                status += f" ({run.command.signal})"
            lines.append(
                f"| {run.profile} | {run.outcome} | {status} | {run.calls} | {run.failed_calls} "
                f"| {run.failovers} | {run.sdk_retries} | {run.app_retries} "
                f"| {run.faults_fired}/{run.faults_declared} | {run.command.duration:.1f}s |"
            )
        for run in self.runs:
            lines += ["", f"## {run.profile}: {run.outcome}", "", f"{run.title}", ""]
            lines.append(f"- why: {run.reason}")
            lines.append(f"- seed {run.seed}, backend {run.backend}")
            lines += [f"- bypassed the harness: {s.line()}" for s in run.strays]
            lines.append(f"- phases reached: {', '.join(run.phases_seen) or 'none'}")
            if run.silent:
                lines.append(f"- faults that never fired: {', '.join(run.silent)}")
            lines += [f"- finding: {text}" for text in run.findings]
            timeline = run.files.get("timeline")
            if timeline:
                lines += ["", f"![timeline of {run.profile}]({Path(timeline).name})"]
        return "\n".join(lines) + "\n"

    def to_junit(self) -> str:
        """JUnit XML: one testcase per profile; a failing one's message says why."""
        failures = sum(r.outcome in ("failed", "inconclusive") for r in self.runs)
        errors = sum(r.outcome in ("crashed", "timeout", "error") for r in self.runs)
        total = sum(r.command.duration for r in self.runs)
        suites = ET.Element(
            "testsuites",
            name="llm-chaos",
            tests=str(len(self.runs)),
            failures=str(failures),
            errors=str(errors),
            time=f"{total:.3f}",
        )
        suite = ET.SubElement(
            suites,
            "testsuite",
            name="llm-chaos run",
            tests=str(len(self.runs)),
            failures=str(failures),
            errors=str(errors),
            skipped="0",
            time=f"{total:.3f}",
            timestamp=self.started.isoformat(timespec="seconds"),
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="command", value=shown(self.command))
        ET.SubElement(props, "property", name="strict", value=str(self.strict).lower())
        for run in self.runs:
            case = ET.SubElement(
                suite,
                "testcase",
                classname="llm-chaos",
                name=run.profile,
                time=f"{run.command.duration:.3f}",
            )
            if not run.passed:
                tag = "failure" if run.outcome in ("failed", "inconclusive") else "error"
                node = ET.SubElement(case, tag, message=run.reason, type=run.outcome)
                node.text = _junit_body(run)
            out = ET.SubElement(case, "system-out")
            out.text = run.summary_line() + f" (seed {run.seed}, backend {run.backend})\n"
        ET.indent(suites)
        body: str = ET.tostring(suites, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _junit_body(run: ProfileRun) -> str:
    lines = [run.reason, "", run.summary_line(), f"phases reached: {', '.join(run.phases_seen)}"]
    lines += [f"finding: {text}" for text in run.findings]
    lines += [f"bypassed the harness: {s.line()}" for s in run.strays]
    if run.records:
        lines += ["", "calls:", run.journal_text]
    return "\n".join(lines)


def write_reports(report: GateReport, directory: str | os.PathLike[str]) -> list[Path]:
    """Write ``journal-<profile>.json``, ``timeline-<profile>.svg``, the fault-coverage
    report (``coverage.json``, ``coverage.md``), ``gate.json``, ``gate.md`` and
    ``junit.xml`` into ``directory`` (a :class:`chaos.report.ReportBundle`); return the files.
    """
    from chaos.profiles import load_profile
    from chaos.report import ReportBundle, RunReport
    from chaos.verdict import Verdict

    bundle = ReportBundle(directory, meta={"command": shown(report.command)})
    for run in report.runs:
        profile = run.loaded if run.loaded is not None else load_profile(run.profile)
        files = bundle.add(
            RunReport(
                run.profile,
                run.records,
                profile=profile,
                fired=run.fired,
                verdict=run.verdict or Verdict(run.records, declared=run.fired),
                title=f"{run.profile}: {shown(report.command)} ({run.outcome})",
                targets=sorted(set(profile.targets) | {r.target for r in run.records}) or None,
                origin=run.started_at if profile.clock == "wall" else None,
            )
        )
        run.files.update((kind, str(path)) for kind, path in files.items())
    bundle.write_coverage()
    bundle.write_text("gate.json", report.to_json())
    bundle.write_text("gate.md", report.to_markdown())
    bundle.write_text("junit.xml", report.to_junit())
    return bundle.written
