"""Reporting as an observer: the :class:`Reporter` base and the registry that fans out.

The plugin (and ``llm-chaos run``) tell one reporter what happens; reporters
never decide pass or fail. A reporter that raises is logged at *warning* level
and the run goes on: a broken report must not turn a green chaos test red.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

__all__ = ["Reporter", "ReporterRegistry"]

log = logging.getLogger("chaos.report")


class Reporter:
    """Base of every reporter; every method is a no-op, override the ones you need.

    The arguments are the plugin's objects: ``config`` a ``pytest.Config`` (or
    None outside pytest), ``item`` a ``pytest.Item``, ``harness`` the running
    ``chaos.Harness``, ``verdict`` a ``chaos.verdict.Verdict`` over the test's
    journal (None when it could not be built).
    """

    def on_session_start(self, config: Any) -> None:
        """The session started (the harness may not be up yet: it starts lazily)."""

    def on_test_start(self, item: Any, harness: Any, verdict: Any = None) -> None:
        """A test that uses the harness is about to run (faults applied, journal empty)."""

    def on_test_end(self, item: Any, harness: Any, verdict: Any = None) -> None:
        """A test that used the harness finished; its journal is still in ``harness``."""

    def on_session_end(self, config: Any) -> None:
        """The session ended: write whatever was collected."""


class ReporterRegistry(Reporter):
    """Several reporters behind one; each call reaches every reporter.

    A reporter that raises is logged at warning level (with its traceback) and
    skipped for that call only; the others still run.

    :param reporters: the reporters, called in this order.
    """

    def __init__(self, reporters: Iterable[Reporter] = ()) -> None:
        self.reporters: list[Reporter] = list(reporters)

    def register(self, reporter: Reporter) -> None:
        """Add ``reporter`` after the ones already registered."""
        self.reporters.append(reporter)

    def _each(self, method: str, *args: Any) -> None:
        for reporter in self.reporters:
            try:
                getattr(reporter, method)(*args)
            except Exception:
                log.warning(
                    "chaos reporter %s failed in %s; the test result is not affected",
                    type(reporter).__name__,
                    method,
                    exc_info=True,
                )

    def on_session_start(self, config: Any) -> None:
        """Tell every reporter the session started."""
        self._each("on_session_start", config)

    def on_test_start(self, item: Any, harness: Any, verdict: Any = None) -> None:
        """Tell every reporter a test starts."""
        self._each("on_test_start", item, harness, verdict)

    def on_test_end(self, item: Any, harness: Any, verdict: Any = None) -> None:
        """Tell every reporter a test ended."""
        self._each("on_test_end", item, harness, verdict)

    def on_session_end(self, config: Any) -> None:
        """Tell every reporter the session ended."""
        self._each("on_session_end", config)
