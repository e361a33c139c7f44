"""The fault-coverage report: fault kind × call site × outcome, as JSON and Markdown."""

from __future__ import annotations

import json

from chaos.faults import ErrorAction, Fault, Match, NetworkAction
from chaos.report import CoverageReport, coverage
from chaos.verdict import Verdict
from tests.report._sample import rec, storm_journal


def outcomes(report: CoverageReport) -> dict[tuple[str, str, bool | None], dict[str, int]]:
    table: dict[tuple[str, str, bool | None], dict[str, int]] = {}
    for row in report.rows:
        table.setdefault((row.fault, row.target, row.stream), {})[row.outcome] = row.count
    return table


def test_each_faulted_attempt_gets_the_outcome_of_its_logical_call():
    report = coverage(storm_journal())
    assert outcomes(report) == {
        ("error:overloaded", "anthropic", False): {"failover": 3},
        ("sse:cut_after=3", "anthropic", True): {"app_retry": 1},
        ("error:server_error", "anthropic", False): {"failed": 1},
        ("wire:reset", "anthropic", False): {"failed": 1},
    }
    assert report.totals() == {"app_retry": 1, "failover": 3, "failed": 2}


def test_sdk_retry_absorption_and_tolerated_faults():
    records = [
        rec(0, 0.0, "anthropic", status=529, outcome="fault", rule="w", action="error:overloaded"),
        rec(1, 0.5, "anthropic", retry=1),
        rec(2, 1.0, "anthropic", fp="q2", rule="d", action="delay:300ms", duration=0.3),
    ]
    assert outcomes(coverage(records)) == {
        ("error:overloaded", "anthropic", False): {"sdk_retry": 1},
        ("delay:300ms", "anthropic", False): {"tolerated": 1},
    }


def test_failed_calls_read_as_degraded_when_the_test_says_the_app_answered_itself():
    records = [rec(0, 0, "anthropic", status=500, outcome="fault", rule="r", action="error:x")]
    assert coverage(records).totals() == {"failed": 1}
    assert coverage(records, degraded=True).totals() == {"degraded": 1}


def test_declared_faults_that_never_fired_are_listed_with_their_call_site():
    faults = [
        Fault("anthropic", ErrorAction("overloaded"), Match(operation="messages.create"), name="w"),
        Fault(
            "anthropic",
            ErrorAction("server_error"),
            Match(operation="messages.count_tokens", stream=False),
            name="ct",
        ),
        Fault("anthropic", NetworkAction("latency", {"latency": 100}), name="net"),
    ]
    records = [
        rec(0, 0, "anthropic", status=529, outcome="fault", rule="w", action="error:overloaded"),
        rec(1, 0.5, "anthropic", retry=1),
    ]
    report = coverage(records, faults=faults, fired={"w": 1, "ct": 0, "net": 1, "ghost": 0})
    silent = [
        (r.fault, r.operation, r.stream, r.rules) for r in report.rows if r.outcome == "not_fired"
    ]
    assert sorted(silent) == [
        ("error:server_error", "messages.count_tokens", False, ("ct",)),
        ("ghost", "*", None, ("ghost",)),
    ]
    assert report.totals()["not_fired"] == 2


def test_an_explicit_verdict_is_used_as_given():
    records = storm_journal()
    assert coverage(records, verdict=Verdict(records)).rows == coverage(records).rows


def test_json_round_trip_and_merge_across_tests():
    one = coverage(storm_journal(), test="t::a", meta={"profile": "claude-2026-03-02"})
    two = coverage(storm_journal(), test="t::b")
    data = json.loads(one.to_json())
    assert data["version"] == 1
    assert data["meta"] == {"profile": "claude-2026-03-02"}
    assert data["totals"] == {"app_retry": 1, "failover": 3, "failed": 2}
    row = next(r for r in data["rows"] if r["fault"] == "error:overloaded")
    assert row == {
        "fault": "error:overloaded",
        "target": "anthropic",
        "operation": "messages.create",
        "stream": False,
        "outcome": "failover",
        "outcome_label": "failover",
        "count": 3,
        "rules": ["methods-failing/0-error"],
        "tests": ["t::a"],
    }
    assert CoverageReport.from_json(one.to_json()) == one
    merged = one.merge(two)
    assert merged.totals() == {"app_retry": 2, "failover": 6, "failed": 4}
    assert {t for r in merged.rows for t in r.tests} == {"t::a", "t::b"}
    assert merged.meta == {"profile": "claude-2026-03-02"}


def test_markdown_is_a_matrix_with_a_summary_that_calls_out_failures_and_silent_faults():
    faults = [Fault("openai", ErrorAction("rate_limited"), Match(stream=True), name="never")]
    md = coverage(storm_journal(), faults=faults, meta={"profile": "p"}).to_markdown()
    lines = md.splitlines()
    assert lines[0] == "# Fault coverage"
    assert "- **profile**: p" in lines
    assert "Faulted attempts: 1 absorbed by app retry, 3 failover, 2 failed." in lines
    assert any(line.startswith("**1 declared fault(s) never fired**") for line in lines)
    assert any(
        line.startswith("**2 faulted attempt(s) ended without any fallback**") for line in lines
    )
    header = "| fault | target | operation | stream | app retry | failover | failed | not fired |"
    assert header in lines
    assert "| `error:overloaded` | anthropic | messages.create | no | · | 3 | · | · |" in lines
    assert "| `error:rate_limited` | openai | * | yes | · | · | · | ✗ |" in lines


def test_markdown_can_say_what_silent_faults_mean_where_they_are_no_failure():
    faults = [Fault("openai", ErrorAction("rate_limited"), Match(stream=True), name="never")]
    report = coverage(storm_journal(), faults=faults)
    lines = report.to_markdown(unfired="the apps make no streaming call.").splitlines()
    assert "1 declared fault(s) never fired: the apps make no streaming call." in lines
    assert not any("proved nothing" in line for line in lines)
    assert "| `error:rate_limited` | openai | * | yes | · | · | · | ✗ |" in lines  # still shown


def test_an_empty_run_says_so():
    assert "No fault was declared and none fired." in coverage([]).to_markdown()
    assert json.loads(coverage([]).to_json())["rows"] == []


def test_network_faults_are_counted_from_the_harness_when_the_journal_cannot_show_them():
    from chaos.profiles import load_profile

    (down,) = load_profile("provider-down").faults()
    assert down.action.layer == "network"
    fired = coverage([], faults=[down], fired={down.name: 2})
    assert fired.totals() == {"network": 2}
    (row,) = fired.rows
    assert (row.fault, row.target, row.outcome, row.count) == (
        "network:down",
        "anthropic",
        "network",
        2,
    )
    text = fired.to_markdown()
    assert "No fault was declared" not in text
    assert "1 network fault(s) fired (2×) below HTTP" in text
    assert down.name in text
    silent = coverage([], faults=[down], fired={down.name: 0})
    assert silent.totals() == {"not_fired": 1}
    # without the harness's count there is nothing to say about it
    assert coverage([], faults=[down]).rows == []
    # once the journal shows the fault on a request, the request's row counts it
    hit = rec(
        0, 0, "anthropic", status=None, outcome="reset", rule=down.name, action="network:down"
    )
    shown = coverage([hit], faults=[down], fired={down.name: 1})
    assert [r.outcome for r in shown.rows] == ["failed"]
