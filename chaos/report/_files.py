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
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from chaos._journal import JournalRecord
from chaos.faults import Fault
from chaos.report._base import Reporter
from chaos.report._context import applied_profile, network_spans, phase_spans
from chaos.report._coverage import CoverageReport, coverage
from chaos.report._timeline import NetworkSpan, PhaseSpan, timeline_svg

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
        part = coverage(records, faults=faults, fired=fired, verdict=verdict, test=name)
        self.report = self.report.merge(part)
        if not records:
            return None
        svg = timeline_svg(
            records,
            phases=phases,
            title=name,
            targets=targets,
            verdict=verdict,
            network=network,
        )
        target = self.path / "timelines" / f"{_slug(name)}.svg"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(svg, encoding="utf-8")
        return target

    def write(self) -> list[Path]:
        """Write the coverage report (with every xdist worker's part); return the files."""
        self.path.mkdir(parents=True, exist_ok=True)
        report = self.report
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        with _locked(self.path / ".lock") if worker else nullcontext():
            if worker:
                report = self._merge_parts(worker)
            files = [self.path / "coverage.json", self.path / "coverage.md"]
            files[0].write_text(report.to_json(), encoding="utf-8")
            files[1].write_text(report.to_markdown(), encoding="utf-8")
        return files

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
        profile = applied_profile(item, harness)
        spans = phase_spans(profile, records)
        self.add(
            records,
            name=item.nodeid,
            faults=profile.faults() if hasattr(profile, "faults") else (),
            fired=harness.fired(),
            verdict=verdict,
            phases=spans,
            targets=list(getattr(harness, "endpoints", {}) or {}) or None,
            network=network_spans(profile, spans),
        )

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


def _slug(name: str) -> str:
    """A file name for a test node id or profile name."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_.")[:150] or "run"
