"""Report files for CI: ``--chaos-report PATH`` (pytest) and ``--report PATH`` (``llm-chaos run``).

``PATH`` is a directory. It receives ``coverage.json`` and ``coverage.md`` (the
fault-coverage report over the whole run) and ``timelines/<test>.svg`` (one
timeline per test that sent requests). Under pytest-xdist each worker saves
its part under ``parts/<run>/<worker>.json`` and rewrites the report from all
parts so far, under a file lock: the last worker to finish writes the report of
the whole run.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from chaos.common._journal import JournalRecord
from chaos.faults import Fault
from chaos.report._base import Reporter
from chaos.report._bundle import ReportBundle, RunReport, _slug
from chaos.report._context import applied_profile
from chaos.report._coverage import CoverageReport
from chaos.report._timeline import NetworkSpan, PhaseSpan, phases_from_records

__all__ = ["FileReporter"]


class FileReporter(Reporter):
    """Collects each chaos test's coverage and timeline, writes them under ``path``.

    Usable without pytest: call :meth:`add` per run (e.g. per profile of
    ``llm-chaos run``), then :meth:`write`. The files are a
    :class:`~chaos.report.ReportBundle`'s, with the timelines under ``timelines/``
    and no journal files.

    :param path: the report directory (created when needed).
    :param meta: context for the report header (profile, seed, backend, ...).
    """

    def __init__(self, path: str | os.PathLike[str], *, meta: Mapping[str, str] | None = None):
        self.path = Path(path)
        self.meta: dict[str, str] = dict(meta or {})
        self.bundle = ReportBundle(
            self.path, meta=self.meta, timeline_name="timelines/{stem}.svg", journal_name=None
        )

    @property
    def report(self) -> CoverageReport:
        """The coverage of the runs added so far (this process's part under xdist)."""
        return self.bundle.coverage

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
        network: Sequence[NetworkSpan] = (),
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
        :param network: network faults to draw on their targets' lanes.
        """
        if phases is None and records:  # as the journal shows them, from the first request
            phases = phases_from_records(records, min(r.time for r in records))
        run = RunReport(
            name,
            records,
            faults=faults,
            fired=fired,
            verdict=verdict,
            phases=phases,
            targets=targets,
            network=network,
        )
        return self.bundle.add(run, files=bool(records)).get("timeline")

    def write(self) -> list[Path]:
        """Write the coverage report (with every xdist worker's part); return the files."""
        self.path.mkdir(parents=True, exist_ok=True)
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        with _locked(self.path / ".lock") if worker else nullcontext():
            report = self._merge_parts(worker) if worker else self.report
            return self.bundle.write_coverage(report)

    def _merge_parts(self, worker: str) -> CoverageReport:
        """Save this worker's part, then merge the parts of this run's workers so far.

        Each worker ends the session on its own, so each rewrites the report
        from every part present; the last one to finish writes the full report.
        """
        run = _slug(os.environ.get("PYTEST_XDIST_TESTRUNUID", "run"))
        parts = self.path / "parts"
        mine = parts / run / f"{_slug(worker)}.json"
        mine.parent.mkdir(parents=True, exist_ok=True)
        mine.write_text(self.report.to_json(), encoding="utf-8")
        for stale in parts.iterdir():
            if stale.name != run:  # parts of an earlier run
                shutil.rmtree(stale, ignore_errors=True)
        others = [p for p in sorted(mine.parent.glob("*.json")) if p != mine]
        return self.report.merge(
            *(CoverageReport.from_json(p.read_text(encoding="utf-8")) for p in others)
        )

    def on_test_end(self, item: Any, harness: Any, verdict: Any = None) -> None:
        """Add the test's journal to the report and write its timeline."""
        records = harness.journal
        run = RunReport(
            item.nodeid,
            records,
            profile=applied_profile(item, harness),
            fired=harness.fired(),
            verdict=verdict,
            targets=list(getattr(harness, "endpoints", {}) or {}) or None,
        )
        self.bundle.add(run, files=bool(records))

    def on_session_end(self, config: Any) -> None:
        """Write the coverage report."""
        self.write()


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (POSIX; no lock where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        yield
        return
    with open(path, "a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
