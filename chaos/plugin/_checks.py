"""After a chaos test's body: a bypass of the harness fails it, a declared fault that never
fired fails it as inconclusive (strict), SDK-only absorption warns (:class:`ChaosWarning`),
and a failed test's report leads with what happened under chaos."""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from chaos.harness import HarnessLike

from chaos.plugin._session import (
    _RUN,
    _TestRun,
)


class ChaosWarning(pytest.PytestWarning):
    """A chaos test proved less than it seems (e.g. the SDK's own retries absorbed
    every injected fault, so the app's fallback never ran)."""


# -- after the test body: strictness and warnings ---------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """After a chaos test: fail it when a client bypassed the harness (the guard
    refused its connection, even if the app swallowed the error); after a passing
    one, fail it as inconclusive if a declared fault never fired (strict), and warn
    when only the SDK's retries absorbed faults."""
    try:
        result = yield  # a failing test raises here and is left as it is...
    except BaseException as exc:
        if not isinstance(exc, KeyboardInterrupt | SystemExit):
            _fail_on_bypass(item)  # ...unless it failed because the guard refused
        raise
    _fail_on_bypass(item)
    run = item.stash.get(_RUN, None)
    if run is None:
        return result
    run.verdict = verdict = run.fixture.verdict
    if run.strict and verdict.declared:
        __tracebackhide__ = True
        _strict_check(run)
    for finding in verdict.findings():
        if finding.kind == "sdk_only_absorption":
            warnings.warn(ChaosWarning(finding.message), stacklevel=1)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed chaos test's report shows its calls, as the verdict reads them, and
    (failed on an exception of its own) leads with what happened under chaos."""
    report = yield
    run = item.stash.get(_RUN, None)
    if run is not None and report.failed and report.when == "call":
        report.sections.append(("llm-chaos journal", run.fixture.verdict.describe()))
        from chaos.report import lead_with_chaos

        gate_profile = run.fixture.harness.gate_profile
        lead_with_chaos(item, call, report, run.fixture, run.profile or gate_profile)
    return report


def _fail_on_bypass(item: pytest.Item) -> None:
    run = item.stash.get(_RUN, None)
    if run is None or run.guard is None or not run.guard.refused:
        return
    __tracebackhide__ = True
    messages = dict.fromkeys(r.message() for r in run.guard.refused)  # once each, in order
    pytest.fail("\n".join(messages), pytrace=False)


def _strict_check(run: _TestRun) -> None:
    __tracebackhide__ = True
    from chaos.verdict import Verdict

    harness = run.fixture.harness
    declared = dict(harness.fired())
    unreached = _unreached_faults(run, harness)
    for name in unreached:
        declared.pop(name, None)
    Verdict(harness.journal, declared=declared).assert_all_faults_fired()


def _unreached_faults(run: _TestRun, harness: HarnessLike) -> set[str]:
    """Faults of profile phases the test never reached: not the test's to fire."""
    seen = harness.phases_seen()
    return {name for p in run.fixture.profiles for name in p.unreached_faults(seen)}
