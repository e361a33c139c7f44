"""One report bundle for every caller: a run's journal, timeline and coverage, and their files.

The pytest plugin (:class:`~chaos.report.FileReporter` and the Allure adapter),
``llm-chaos run`` (the gate) and ``llm-chaos demo`` all describe a run as a
:class:`RunReport` and write it through a :class:`ReportBundle`, so the three
cannot draw or name the same thing differently.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chaos.common._journal import JournalRecord
from chaos.faults import Fault
from chaos.report._context import network_spans, phase_spans
from chaos.report._coverage import CoverageReport, coverage
from chaos.report._journal_json import journal_json
from chaos.report._timeline import NetworkSpan, PhaseSpan, UserOutcome, timeline_svg
from chaos.verdict import Verdict

__all__ = ["ReportBundle", "RunReport"]


@dataclass(frozen=True)
class RunReport:
    """What one run (a test, a profile of the gate, an app of the demo) reports.

    Everything but ``name`` and ``records`` is optional; what is left out is
    read from ``profile`` when it is a loaded ``chaos.profiles.Profile``.

    :param name: the run's name (a test node id, a profile or app name): the
        coverage rows' test, the default timeline title and file name.
    :param records: the run's journal.
    :param profile: the profile the run replayed: a loaded profile, its name, or None.
    :param faults: the declared faults, for ``not fired`` coverage rows
        (default: the loaded profile's).
    :param fired: fault name -> times fired.
    :param verdict: the verdict over ``records``, if at hand.
    :param title: the timeline's title (default: ``name``).
    :param targets: the timeline's lane order.
    :param origin: the timeline's time zero (default: the first request).
    :param outcomes: what the user got, for the timeline's last lane (default:
        per call of the verdict, answered or not).
    :param phases: the timeline's phase spans (default: from ``profile`` and ``records``).
    :param network: network faults on the timeline (default: from ``profile``).
    """

    name: str
    records: Sequence[JournalRecord]
    profile: Any = None
    faults: Sequence[Fault] | None = None
    fired: Mapping[str, int] | None = None
    verdict: Verdict | None = None
    title: str | None = None
    targets: Sequence[str] | None = None
    origin: float | None = None
    outcomes: Sequence[UserOutcome] | None = None
    phases: Sequence[PhaseSpan] | None = None
    network: Sequence[NetworkSpan] | None = None

    def journal_json(self) -> str:
        """The journal as JSON, secrets redacted (see :func:`~chaos.report.journal_json`)."""
        return journal_json(self.records)

    def coverage(self) -> CoverageReport:
        """This run's part of the fault-coverage report."""
        faults = self.faults
        if faults is None:
            faults = self.profile.faults() if hasattr(self.profile, "faults") else ()
        return coverage(
            self.records, faults=faults, fired=self.fired, verdict=self.verdict, test=self.name
        )

    def timeline_svg(self) -> str:
        """The timeline picture (see :func:`~chaos.report.timeline_svg`)."""
        spans = (
            list(self.phases)
            if self.phases is not None
            else phase_spans(self.profile, self.records)
        )
        network = self.network if self.network is not None else network_spans(self.profile, spans)
        return timeline_svg(
            self.records,
            phases=spans,
            title=self.title if self.title is not None else self.name,
            targets=self.targets,
            origin=self.origin,
            verdict=self.verdict,
            outcomes=self.outcomes,
            network=network,
        )


class ReportBundle:
    """A report directory: per run a journal and a timeline, over all runs the coverage.

    Each :meth:`add` writes that run's files at once (a long session keeps no
    journal in memory) and merges its coverage; :meth:`write_coverage` writes
    ``coverage.json`` and ``coverage.md``; :meth:`write_text` adds a caller's own
    file (``gate.json``, ``demo.md``). :attr:`written` lists every file in order.

    :param directory: where the files go (created when needed).
    :param meta: context for the coverage report's header (profile, seed, command...).
    :param timeline_name: a run's timeline file under ``directory``; ``{stem}``
        is the run's name made a file name (see :meth:`file_stem`).
    :param journal_name: a run's journal file likewise, None for no journal file.
    :param unfired: the coverage Markdown's note on faults that never fired
        (default: :meth:`CoverageReport.to_markdown`'s).
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        *,
        meta: Mapping[str, str] | None = None,
        timeline_name: str = "timeline-{stem}.svg",
        journal_name: str | None = "journal-{stem}.json",
        unfired: str | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.timeline_name = timeline_name
        self.journal_name = journal_name
        self.unfired = unfired
        self.coverage = CoverageReport(meta=dict(meta or {}))
        """The coverage of the runs added so far."""
        self.written: list[Path] = []
        """Every file written, in order."""

    def add(self, run: RunReport, *, files: bool = True) -> dict[str, Path]:
        """Merge ``run``'s coverage and write its journal and timeline.

        :param files: False to merge the coverage only (e.g. a run that sent nothing).
        :return: the files written, by kind (``journal``, ``timeline``).
        """
        self.coverage = self.coverage.merge(run.coverage())
        if not files:
            return {}
        stem = _slug(run.name)
        out: dict[str, Path] = {}
        if self.journal_name is not None:
            out["journal"] = self._write(self.journal_name.format(stem=stem), run.journal_json())
        out["timeline"] = self._write(self.timeline_name.format(stem=stem), run.timeline_svg())
        return out

    def write_coverage(self, report: CoverageReport | None = None) -> list[Path]:
        """Write ``coverage.json`` and ``coverage.md``: ``report``, default the runs' so far."""
        report = report if report is not None else self.coverage
        return [
            self._write("coverage.json", report.to_json()),
            self._write("coverage.md", report.to_markdown(unfired=self.unfired)),
        ]

    def write_text(self, name: str, text: str) -> Path:
        """Write a file of the caller's own (``gate.json``, ``demo.md``) into the bundle."""
        return self._write(name, text)

    def _write(self, name: str, text: str) -> Path:
        path = self.directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        self.written.append(path)
        return path


def _slug(name: str) -> str:
    """A file name for a test node id, a profile or an app name."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", name).strip("_.")[:150] or "run"
