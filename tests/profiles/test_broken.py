"""The corpus of broken profiles: each gives exactly these errors, with file, line and column.

Where a message lists a vocabulary owned by another part (a dialect's error
kinds, the edge catalogue, the built-in profiles), the expectation is built from
that part, so the test pins the format without freezing someone else's list.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chaos import ProfileError
from chaos.faults.network import TOXICS
from chaos.profiles import builtin_dir, find_profiles, load_profile
from chaos.providers import DIALECTS
from chaos.providers._edge import EDGE_PAGES

BROKEN = Path(__file__).parent / "broken"


def _kinds(dialect: str) -> str:
    return ", ".join(DIALECTS[dialect]().error_kinds())


def _operations(dialect: str) -> str:
    return ", ".join(op.name for op in DIALECTS[dialect].operations)


FAULT_KEYS = (
    "target, name, match, rate, first, after, every, times, "
    "truncate_answer, malformed_tool_args, refusal, empty_answer, "
    "delay, edge, error, network, respond, sse, wire"
)
TOP_KEYS = (
    "version, name, title, source, description, clock, time_scale, start, hold, count, seed, "
    "parameters, extends, include, targets, phases, replies"
)

EXPECTED: dict[str, list[str]] = {
    "bad-duration": [
        "{f}:9:9: phases[0].at: expected a duration like 90s, 20m, 3h58m or 500ms "
        "(or seconds as a number), got '20 minutes'",
        "{f}:13:15: phases[1].duration: expected a duration like 90s, 20m, 3h58m or 500ms "
        "(or seconds as a number) above 0, got '5m1h'",
    ],
    "bad-phase-order": [
        "{f}:12:9: phases[1].at: phases must start in increasing order: 'second' starts at 10m, "
        "not after 'first' at 20m",
    ],
    "bad-version": [
        "{f}:1:10: version: unsupported version 2; this pytest-llm-chaos reads version 1",
    ],
    "bad-yaml": [
        "{f}:6:7: not valid YAML: expected ',' or '}}', but got ':' "
        "(while parsing a flow mapping at 5:14)",
    ],
    "duplicate-key": ["{f}:6:1: duplicate key 'targets'"],
    "empty": ["{f}: the file is empty: a profile starts with 'version: 1'"],
    "extends-missing": [
        "{f}:4:10: extends: no profile named 'http-500-strom' (looked in {builtins}); "
        "known profiles: {known}; did you mean 'http-500-storm'?",
    ],
    "fault-values": [
        "{f}:10:15: phases[0].faults[0].edge: unknown edge page 'cloudflare_503'; "
        "valid: {edges}; did you mean 'cloudflare_520'?",
        "{f}:11:15: phases[0].faults[1].wire: unknown value 'trunkate'; "
        "valid: hang, reset, close, truncate, malformed, drip; did you mean 'truncate'?",
        "{f}:12:42: phases[0].faults[2].sse.stall_after: conflicts with cut_after: "
        "give at most one of cut_after, error_event, end_early, stall_after",
        "{f}:13:26: phases[0].faults[3].network.toxic: unknown toxic type 'latncy'; "
        "valid: {toxics}; did you mean 'latency'?",
        "{f}:15:15: phases[0].faults[4].rate: must be between 0 and 1, got 1.5",
        "{f}:16:28: phases[0].faults[5].match.operation: unknown operation 'messages.craete' "
        "for dialect 'anthropic'; valid: {operations}; did you mean 'messages.create'?",
    ],
    "include-cycle": [
        "{f}:4:11: include[0]: profiles include each other in a cycle: "
        "include-cycle -> include-cycle",
    ],
    "missing-fields": [
        "{f}:1:1: (top level): missing 'name'",
        "{f}:1:1: (top level): missing 'title'",
        "{f}:1:1: (top level): missing 'targets': declare at least one "
        "(e.g. anthropic: {{dialect: anthropic}})",
        "{f}:3:5: phases[0]: missing or bad 'name': a word (letters, digits, '-', '_', '.')",
    ],
    "missing-target": [
        "{f}:11:17: phases[0].faults[0].target: unknown target 'opneai'; "
        "declared targets: anthropic, openai; did you mean 'openai'?",
        "{f}:13:9: phases[0].faults[1]: missing target (declared targets: anthropic, openai)",
    ],
    "not-a-mapping": [
        "{f}:1:1: (top level): a profile must be a mapping of keys (version, name, title, ...)",
    ],
    "requests-clock-duration": [
        "{f}:8:9: phases[0].at: with clock: requests this counts requests: expected an integer "
        ">= 0, got '20m'; set clock: wall for durations",
    ],
    "undefined-parameter": [
        "{f}:13:15: phases[0].faults[0].rate: unknown parameter 'rat'; valid: rate; "
        "did you mean 'rate'? (declare it under parameters:)",
    ],
    "unknown-action": [
        "{f}:10:9: phases[0].faults[0]: no action: give exactly one of "
        "truncate_answer, malformed_tool_args, refusal, empty_answer, "
        "delay, edge, error, network, respond, sse, wire",
        "{f}:10:9: phases[0].faults[0].erorr: unknown key 'erorr'; valid: {fault_keys}; "
        "did you mean 'error'?",
    ],
    "unknown-dialect": [
        "{f}:5:24: targets.anthropic.dialect: unknown dialect 'antropic'; valid: {dialects}; "
        "did you mean 'anthropic'?",
    ],
    "unknown-key": [
        "{f}:1:1: (top level): missing 'phases': a profile needs at least one phase",
        "{f}:6:1: phasse: unknown key 'phasse'; valid: {top_keys}; did you mean 'phases'?",
    ],
    "unknown-kind": [
        "{f}:10:16: phases[0].faults[0].error: unknown error kind 'overloded' for dialect "
        "'anthropic'; valid: {anthropic_kinds}; did you mean 'overloaded'?",
    ],
    "wrong-type": [
        "{f}:5:13: time_scale: expected a number above 0 (incident seconds per test second), "
        "got 'fast'",
        "{f}:13:16: phases[0].faults[0].first: expected an integer, got 'three' (string)",
        "{f}:14:25: phases[0].faults[0].match.stream: expected true or false, got 'maybe' (string)",
    ],
}


def test_the_corpus_and_the_expectations_match() -> None:
    assert sorted(p.stem for p in BROKEN.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_profile_gives_exact_errors(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_CHAOS_PROFILES_DIRS", raising=False)
    path = BROKEN / f"{name}.yaml"
    values = {
        "f": str(path),
        "builtins": f"{BROKEN}, {builtin_dir()}",  # the referring file's folder first
        "known": ", ".join(info.name for info in find_profiles([BROKEN])),
        "edges": ", ".join(EDGE_PAGES),
        "toxics": ", ".join(TOXICS),
        "operations": _operations("anthropic"),
        "anthropic_kinds": _kinds("anthropic"),
        "dialects": ", ".join(DIALECTS),
        "fault_keys": FAULT_KEYS,
        "top_keys": TOP_KEYS,
    }
    with pytest.raises(ProfileError) as info:
        load_profile(path)
    assert info.value.errors == [line.format(**values) for line in EXPECTED[name]]
    assert str(info.value) == "\n".join(info.value.errors)
