"""The header of a failed chaos test's report, from real faults and a real verdict."""

from __future__ import annotations

from chaos.faults import ErrorAction, Fault, NetworkAction
from chaos.report._failure import failure_header, library_path
from chaos.verdict import Verdict
from tests.report._sample import storm_journal


def test_a_network_outage_says_why_the_journal_is_empty() -> None:
    down = Fault("anthropic", NetworkAction("down"), name="outage/0-network")
    lines = failure_header(
        exception=ConnectionRefusedError("refused"),
        profile="provider-down",
        seed=7,
        fired={"outage/0-network": 1},
        faults=[down],
        summary=Verdict([]).summary(),
        records=0,
        shortened=True,
    )
    assert lines == [
        "llm-chaos: failed under profile provider-down, seed 7: ConnectionRefusedError: refused",
        "llm-chaos: faults that fired: outage/0-network ×1 (anthropic network:down)",
        "llm-chaos: verdict: no request reached any target (a network fault refuses or cuts "
        "connections before the gateway, so they are not in the journal)",
        "llm-chaos: the traceback is cut to your code and the line that raised "
        "(--tb=long or --full-trace shows every frame)",
    ]


def test_the_verdict_counts_and_the_silent_faults_are_named_briefly() -> None:
    records = storm_journal()
    verdict = Verdict(records)
    silent = {f"phase-{i}/0-error": 0 for i in range(6)}
    fault = Fault("anthropic", ErrorAction("overloaded"), name="storm/0-error")
    lines = failure_header(
        exception=AssertionError("no answer"),
        profile=None,
        seed=None,
        fired={"storm/0-error": 3, **silent},
        faults=[fault],
        summary=verdict.summary(),
        records=len(records),
        shortened=False,
    )
    assert lines[0] == (
        "llm-chaos: failed under the faults the test injected: AssertionError: no answer"
    )
    assert lines[1] == "llm-chaos: faults that fired: storm/0-error ×3 (anthropic error:overloaded)"
    assert lines[2] == (
        "llm-chaos: faults that never fired: phase-0/0-error, phase-1/0-error, "
        "phase-2/0-error, phase-3/0-error and 2 more"
    )
    counted = [line for line in lines if line.startswith("llm-chaos: verdict: ")]
    assert [line.split(":")[2].strip() for line in counted] == [
        name for name, s in verdict.summary().items() if s.attempts
    ]
    assert lines[-1] == "llm-chaos: every attempt is in the 'llm-chaos journal' section below"
    assert not any("traceback is cut" in line for line in lines)


def test_no_fault_at_all_is_said() -> None:
    lines = failure_header(
        exception=ValueError("bad"),
        profile=None,
        seed=1,
        fired={},
        faults=[],
        summary={},
        records=0,
        shortened=False,
    )
    assert lines == [
        "llm-chaos: failed under the harness, with no fault, seed 1: ValueError: bad",
        "llm-chaos: no fault was declared: the harness passed every request through",
        "llm-chaos: verdict: no request reached any target",
    ]


def test_library_frames_are_told_from_the_users() -> None:
    import json

    assert library_path(json.__file__)  # the standard library
    assert not library_path(__file__)  # this test, as a user's test
