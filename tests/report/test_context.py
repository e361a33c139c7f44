"""Which profile a test ran under, and its phases placed on the timeline."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from chaos.profiles import load_profile
from chaos.report import PhaseSpan
from chaos.report._context import applied_profile, phase_spans
from tests.report._sample import storm_journal

WALL = """version: 1
name: wall-demo
title: a wall-clock demo
clock: wall
time_scale: 60
targets:
  anthropic: {dialect: anthropic}
phases:
  - name: calm
    at: 0s
    faults: []
  - name: storm
    at: 1m
    faults:
      - target: anthropic
        error: overloaded
  - name: recovered
    at: 3m
    faults: []
"""

REQUESTS = WALL.replace("clock: wall\ntime_scale: 60\n", "").replace("name: wall-demo", "name: r")
REQUESTS = (
    REQUESTS.replace("at: 0s", "at: 0").replace("at: 1m", "at: 2").replace("at: 3m", "at: 50")
)


@pytest.fixture
def wall(tmp_path):
    path = tmp_path / "wall.yaml"
    path.write_text(WALL)
    return load_profile(str(path))


def test_wall_clock_phases_are_scaled_to_test_seconds(wall):
    assert phase_spans(wall, storm_journal()) == [
        PhaseSpan("calm", 0.0, 1.0),
        PhaseSpan("storm", 1.0, 3.0),
        PhaseSpan("recovered", 3.0, None),
    ]


def test_request_clock_phases_start_at_the_request_they_count_to(tmp_path):
    path = tmp_path / "requests.yaml"
    path.write_text(REQUESTS)
    records = storm_journal()
    spans = phase_spans(load_profile(str(path)), records)
    # "recovered" starts at request 50: the run never got there
    assert [(s.name, round(s.start, 2)) for s in spans] == [("calm", 0.0), ("storm", 0.8)]


def test_without_a_loaded_profile_the_journal_tells_the_phases():
    assert [s.name for s in phase_spans(None, storm_journal())] == [
        "methods-failing",
        "truncated",
        "elevated-errors",
    ]


def test_the_profile_comes_from_the_harness_then_the_fixture_then_the_marker(wall):
    marker = SimpleNamespace(kwargs={"profile": "from-marker"})
    item = SimpleNamespace(funcargs={}, get_closest_marker=lambda name: marker)
    assert applied_profile(item, SimpleNamespace()) == "from-marker"
    item.funcargs["chaos"] = SimpleNamespace(profiles=[wall], profile="wall-demo")
    assert applied_profile(item, SimpleNamespace()) is wall
    assert applied_profile(item, SimpleNamespace(profile="on-harness")) == "on-harness"
    bare = SimpleNamespace(funcargs={}, get_closest_marker=lambda name: None)
    assert applied_profile(bare, SimpleNamespace()) is None


def test_network_faults_become_bands_on_their_target_over_their_phase():
    from chaos.report import NetworkSpan
    from chaos.report._context import network_spans

    down = load_profile("provider-down")
    assert network_spans(down, [PhaseSpan("anthropic-down", 0.0)]) == [
        NetworkSpan("anthropic", "network down", 0.0, None)
    ]
    outage = load_profile("claude-2026-03-02")
    spans = [PhaseSpan(p.name, float(i)) for i, p in enumerate(outage.phases)]
    bands = network_spans(outage, spans)
    assert [(b.target, b.label) for b in bands] == [("anthropic", "network latency")]
    (band,) = bands
    nxt = [p.name for p in outage.phases].index("methods-failing") + 1
    assert (band.start, band.end) == (nxt - 1.0, float(nxt))  # to where the next phase starts
    # a phase the run never reached draws no band
    assert network_spans(outage, spans[:2]) == []
