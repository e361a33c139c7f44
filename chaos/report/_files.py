"""Report files for CI: ``--chaos-report PATH`` (pytest) and ``--report PATH`` (``llm-chaos run``).

``PATH`` is a directory. It receives ``coverage.json`` and ``coverage.md`` (the
fault-coverage report over the whole run) and ``timelines/<test>.svg`` (one
timeline per test that sent requests). Under pytest-xdist each worker writes
its part to ``parts/<worker>.json``; the controller merges the parts when the
session ends, so the report covers every worker.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from chaos._journal import JournalRecord
from chaos.faults import Fault
from chaos.report._base import Reporter
from chaos.report._coverage import CoverageReport, coverage
from chaos.report._timeline import PhaseSpan, timeline_svg

__all__ = ["FileReporter"]


class FileReporter(Reporter):
    """Collects each chaos test's coverage and timeline, writes them under ``path``.

    Usable without pytest: call :meth:`add` per run (e.g. per profile of
    ``llm-chaos run``), then :meth:`write`.

    :param path: the report directory (created when needed).
    :param meta: context for the report header (profile, seed, backend, ...).
    """

    def __init__(self, path: str | os.PathLike[str], *, meta: Mapping[str, str] | None = None):
        self.path = Path(path)
        self.meta: dict[str, str] = dict(meta or {})
        self.report = CoverageReport(meta=self.meta)

    def add(
        self,
        records: Sequence[JournalRecord],
        *,
        name: str,
        faults: Sequence[Fault] = (),
        fired: Mapping[str, int] | None = None,
        verdict: Any = None,
        phases: Sequence[PhaseSpan] | None = None,
        targets: Sequence[str] | None = None,
    ) -> Path | None:
        """Add one run's coverage and write its timeline; return the timeline's path.

        :param records: the run's journal.
        :param name: the run's name (a test node id, a profile name), used for
            the timeline's file name and title, and in the coverage rows.
        :param faults: the declared faults (for ``not fired`` rows).
        :param fired: fault name -> times fired.
        :param verdict: a ``chaos.verdict.Verdict`` over ``records``, if at hand.
        :param phases: phase spans for the timeline (default: from the records).
        :param targets: lane order for the timeline.
        """
        part = coverage(records, faults=faults, fired=fired, verdict=verdict, test=name)
        self.report = self.report.merge(part)
        if not records:
            return None
        svg = timeline_svg(records, phases=phases, title=name, targets=targets)
        target = self.path / "timelines" / f"{_slug(name)}.svg"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(svg, encoding="utf-8")
        return target

    def write(self) -> list[Path]:
        """Write the coverage report (merging xdist workers' parts); return the files written."""
        self.path.mkdir(parents=True, exist_ok=True)
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        if worker:
            part = self.path / "parts" / f"{_slug(worker)}.json"
            part.parent.mkdir(exist_ok=True)
            part.write_text(self.report.to_json(), encoding="utf-8")
            return [part]
        report = self.report
        parts_dir = self.path / "parts"
        if parts_dir.is_dir():
            for part in sorted(parts_dir.glob("*.json")):
                report = report.merge(CoverageReport.from_json(part.read_text(encoding="utf-8")))
                part.unlink()
            if not any(parts_dir.iterdir()):
                parts_dir.rmdir()
        files = [self.path / "coverage.json", self.path / "coverage.md"]
        files[0].write_text(report.to_json(), encoding="utf-8")
        files[1].write_text(report.to_markdown(), encoding="utf-8")
        return files

    def on_test_end(self, item: Any, harness: Any, verdict: Any = None) -> None:
        """Add the test's journal to the report and write its timeline."""
        self.add(
            harness.journal,
            name=item.nodeid,
            fired=harness.fired(),
            verdict=verdict,
            targets=list(getattr(harness, "endpoints", {}) or {}) or None,
        )

    def on_session_end(self, config: Any) -> None:
        """Write the coverage report."""
        self.write()


def _slug(name: str) -> str:
    """A file name for a test node id or profile name."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_.")[:150] or "run"
