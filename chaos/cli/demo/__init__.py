"""``llm-chaos demo``: the 2 March 2026 outage replayed against the two example apps.

One module per concern: :mod:`~chaos.cli.demo.apps` the example apps and the
questions, :mod:`~chaos.cli.demo.driver` the process that drives one app,
:mod:`~chaos.cli.demo.replay` running both apps through the outage,
:mod:`~chaos.cli.demo.model` what each replay came to (routes and counts),
:mod:`~chaos.cli.demo.story` why an app survived or not, and
:mod:`~chaos.cli.demo.report` the table and the report files.
"""

from __future__ import annotations

from chaos.cli.demo.apps import APPS, DemoApp, find_app, missing_sdks, require_sdks
from chaos.cli.demo.model import ROUTES, AppRun, DemoCounts, Question
from chaos.cli.demo.replay import DEFAULT_PROFILE, run_demo
from chaos.cli.demo.report import LEGEND, DemoResult, write_reports
from chaos.cli.demo.story import why

__all__ = [
    "APPS",
    "DEFAULT_PROFILE",
    "LEGEND",
    "ROUTES",
    "AppRun",
    "DemoApp",
    "DemoCounts",
    "DemoResult",
    "Question",
    "find_app",
    "missing_sdks",
    "require_sdks",
    "run_demo",
    "why",
    "write_reports",
]
