"""The terminal summary: every chaos test's counts, collected from the reports (xdist
workers' too), per profile and target."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    pass

from chaos.plugin._session import (
    _USER_PROPERTY,
    _Session,
)


class _Collector:
    """Collects every chaos test's summary from the reports (xdist workers' too)
    and prints the terminal summary; registered per config, so no global state."""

    def __init__(self, state: _Session) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Add a finished chaos test's counts."""
        if report.when != "teardown":
            return
        data = next((v for k, v in report.user_properties if k == _USER_PROPERTY), None)
        if not isinstance(data, dict):
            return
        state = self.state
        profile = str(data["profile"])
        state.tests[profile] = state.tests.get(profile, 0) + 1
        per_target = state.totals.setdefault(profile, {})
        for target, counts in data["targets"].items():
            acc = per_target.setdefault(target, {})
            for key, value in counts.items():
                if isinstance(value, int):
                    acc[key] = acc.get(key, 0) + value
        for kind in data["findings"]:
            state.findings[kind] = state.findings.get(kind, 0) + 1
        if data.get("idle"):
            state.idle += 1
        for where, count in (data.get("connections") or {}).items():
            state.connections[where] = state.connections.get(where, 0) + int(count)
        if "harness" in data:
            line = str(data["harness"])
            state.harnesses[line.split(":", 1)[0]] = line

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Per profile and target: calls, attempts, failures, failovers, faults fired."""
        state = self.state
        if not state.tests:
            return
        tr = terminalreporter
        tr.write_sep("=", "llm-chaos summary")
        for line in sorted(state.harnesses.values()):
            tr.write_line(line)
        for profile, per_target in state.totals.items():
            tr.write_line(f"profile {profile}: {state.tests[profile]} test(s)")
            for target, c in per_target.items():
                if not c.get("attempts"):
                    continue  # a target nobody called: nothing to say
                tr.write_line(
                    f"  {target}: {c.get('calls', 0)} calls, {c.get('attempts', 0)} attempts, "
                    f"{c.get('failures', 0)} failed, {c.get('sdk_retries', 0)} SDK retries, "
                    f"{c.get('app_retries', 0)} app retries, "
                    f"{c.get('failovers_from', 0)} failovers away, "
                    f"{c.get('faults_fired', 0)} faults fired"
                )
        if state.idle:
            tr.write_line(
                f"{state.idle} test(s) ran under chaos without any request reaching the "
                "harness: they did not exercise it"
            )
        if state.findings:
            found = ", ".join(f"{k} in {n} test(s)" for k, n in sorted(state.findings.items()))
            tr.write_line(f"findings: {found}")
        if state.connections:
            other = ", ".join(f"{k} ({n})" for k, n in sorted(state.connections.items()))
            tr.write_line(
                f"other connections during chaos tests (allowed; --chaos-seal refuses them): "
                f"{other}"
            )
