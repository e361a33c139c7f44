"""Reports of chaos runs: the timeline picture, the fault-coverage report, Allure and files.

Reporters observe; they never decide pass or fail (that is :mod:`chaos.verdict`'s
job). The plugin and ``llm-chaos run`` talk to one :class:`Reporter`, built by
:func:`make_reporter` (the default of the ``pytest_chaos_make_reporter`` hook).
Every report file (the plugin's, the gate's, the demo's) is written through one
:class:`ReportBundle` of :class:`RunReport` s.
"""

from __future__ import annotations

import os
from typing import Any

from chaos.report._allure import ATTACHMENTS, AllureReporter, allure_active
from chaos.report._base import Reporter, ReporterRegistry
from chaos.report._bundle import ReportBundle, RunReport
from chaos.report._classes import CLASS_LABELS, outcome_class
from chaos.report._coverage import OUTCOME_LABELS, CoverageReport, CoverageRow, coverage
from chaos.report._failure import lead_with_chaos
from chaos.report._files import FileReporter
from chaos.report._journal_json import journal_json
from chaos.report._timeline import (
    NetworkSpan,
    PhaseSpan,
    UserOutcome,
    UserSaw,
    phases_from_records,
    timeline_svg,
)

__all__ = [
    "ATTACHMENTS",
    "CLASS_LABELS",
    "OUTCOME_LABELS",
    "AllureReporter",
    "CoverageReport",
    "CoverageRow",
    "FileReporter",
    "NetworkSpan",
    "PhaseSpan",
    "ReportBundle",
    "Reporter",
    "ReporterRegistry",
    "RunReport",
    "UserOutcome",
    "UserSaw",
    "allure_active",
    "coverage",
    "journal_json",
    "lead_with_chaos",
    "make_reporter",
    "outcome_class",
    "phases_from_records",
    "timeline_svg",
]


def make_reporter(config: Any, *, path: str | os.PathLike[str] | None = None) -> Reporter:
    """The built-in reporter for a pytest session.

    :param config: the ``pytest.Config``.
    :param path: the ``--chaos-report`` directory, if one was asked for.
    :return: a :class:`ReporterRegistry` with the :class:`AllureReporter` when
        allure-pytest writes results, and a :class:`FileReporter` when
        ``path`` is given (empty otherwise: every call a no-op).
    """
    registry = ReporterRegistry()
    if allure_active(config):
        registry.register(AllureReporter())
    if path is not None:
        registry.register(FileReporter(path))
    return registry
