"""The timeline: phases by request count (global or per target) or by scaled wall time."""

from __future__ import annotations

import pytest

from chaos import ProfileError
from chaos.profiles import Timeline, load_profile, load_profile_text
from chaos.profiles._timeline import QUIET_S

REQUESTS = """\
version: 1
name: counted
title: counted
clock: requests
count: COUNT
targets:
  anthropic: {dialect: anthropic}
  openai: {dialect: openai}
phases:
  - name: storm
    at: 0
    faults:
      - {target: anthropic, error: server_error}
      - {target: openai, error: overloaded, rate: 0.5}
      - {target: openai, network: {toxic: latency, latency: 100}}
  - name: gap
    at: 3
    duration: 2
  - name: recovered
    at: 6
"""

WALL = """\
version: 1
name: walled
title: walled
clock: wall
time_scale: 3600
targets:
  anthropic: {dialect: anthropic}
phases:
  - {name: later, at: 30m, faults: [{error: overloaded}]}
  - {name: wave, at: 1h, ramp: {rate: [0.5, 1.0], every: 30m}, faults: [{error: server_error}]}
  - {name: recovered, at: 3h58m}
"""


def _phase(timeline: Timeline, **kwargs: object) -> str | None:
    return timeline.select(**kwargs)[0]  # type: ignore[arg-type]


def test_requests_clock_counts_every_target_by_default() -> None:
    timeline = Timeline(load_profile_text(REQUESTS.replace("COUNT", "global")), seed=1)
    seen = [
        timeline.select(target="openai", request_index=i, target_index=0, elapsed=99.0)
        for i in range(8)
    ]
    assert [name for name, _ in seen] == [
        "storm", "storm", "storm", "gap", "gap", None, "recovered", "recovered"
    ]  # fmt: skip
    _name, faults = seen[0]
    assert [f.name for f in faults] == ["storm/1-error", "storm/2-network"]
    assert seen[3][1] == ()


def test_requests_clock_per_target() -> None:
    timeline = Timeline(load_profile_text(REQUESTS.replace("COUNT", "per_target")), seed=1)
    # 100 requests elsewhere do not move anthropic's phase
    name, faults = timeline.select(
        target="anthropic", request_index=100, target_index=2, elapsed=0.0
    )
    assert name == "storm"
    assert [f.name for f in faults] == ["storm/0-error"]
    assert _phase(timeline, target="anthropic", request_index=3, target_index=6, elapsed=0) == (
        "recovered"
    )


def test_wall_clock_is_scaled() -> None:
    timeline = Timeline(load_profile_text(WALL), seed=1)
    at = {
        elapsed: _phase(timeline, target="anthropic", request_index=0, target_index=0,
                        elapsed=elapsed)
        for elapsed in (0.0, 0.49, 0.5, 1.0, 1.49, 1.5, 3.96, 3.97, 100.0)
    }  # fmt: skip
    assert at == {
        0.0: None,  # before the first phase
        0.49: None,
        0.5: "later",
        1.0: "wave.1",
        1.49: "wave.1",
        1.5: "wave.2",
        3.96: "wave.2",
        3.97: "recovered",
        100.0: "recovered",
    }
    assert timeline.boundaries() == pytest.approx([0.5, 1.0, 1.5, 14280 / 3600])
    assert timeline.duration() == pytest.approx(14280 / 3600)
    phase = timeline.phase_at(elapsed=1.6)
    assert phase is not None
    assert phase.faults[0].schedule.rate == 1.0


def test_phase_at_and_network_faults() -> None:
    profile = load_profile_text(REQUESTS.replace("COUNT", "global"))
    timeline = Timeline(profile, seed=1)
    storm = timeline.phase_at(requests=0)
    assert storm is not None
    assert [f.name for f in timeline.network_faults(storm)] == ["storm/2-network"]
    assert timeline.network_faults("recovered") == ()
    assert timeline.network_faults(None) == ()
    assert timeline.phase_at(requests=5) is None
    assert timeline.boundaries() == [0, 3, 5, 6]
    with pytest.raises(TypeError, match="requests clock: pass requests="):
        timeline.phase_at(elapsed=1.0)


def test_seed_makes_choices_repeatable() -> None:
    profile = load_profile("claude-2026-03-02")
    assert Timeline(profile).seed == 20260302  # the profile's own seed
    first = Timeline(profile, seed=42)
    again = Timeline(profile, seed=42)
    other = Timeline(profile, seed=43)
    draws = [first.rng("elevated-errors/0-error").random() for _ in range(5)]
    assert draws == [again.rng("elevated-errors/0-error").random() for _ in range(5)]
    assert draws != [other.rng("elevated-errors/0-error").random() for _ in range(5)]
    assert first.rng("a").random() != first.rng("b").random()


def test_describe_draws_every_phase_and_fault() -> None:
    profile = load_profile("claude-2026-03-02")
    text = Timeline(profile, seed=7).describe()
    assert "clock: wall, time_scale 3600 (3h58m of incident in 3.97s)" in text
    assert "seed: 7" in text
    for phase in profile.phases:
        assert f"\n{phase.name} (from " in text
        for fault in phase.faults:
            assert f"<{fault.name}>" in text
    assert (
        "anthropic [operation=messages.create, stream=false]: error:overloaded  "
        "<methods-failing/0-error>" in text
    )
    bars = [line for line in text.splitlines() if line.endswith("|") and "|" in line[:40]]
    assert len(bars) == len(profile.phases)


HELD = """\
version: 1
name: held
title: held
clock: wall
time_scale: 3600
hold: 3
targets:
  anthropic: {dialect: anthropic}
  openai: {dialect: openai}
phases:
  - name: failing
    at: 0m
    faults:
      - {target: anthropic, error: overloaded}
  - name: waves
    at: 1h
    ramp: {rate: [1.0, 0.5], every: 30m}
    faults:
      - {target: anthropic, error: overloaded}
  - name: quick
    at: 2h
    hold: 0
    faults:
      - {target: anthropic, error: server_error}
  - name: recovered
    at: 3h
"""


def _attempt(timeline: Timeline, target: str, elapsed: float) -> str | None:
    index = timeline.count_attempt(target, elapsed)
    return None if index is None else timeline.profile.phases[index].name


def test_a_held_phase_lasts_until_its_attempts_met_it_and_later_phases_start_later() -> None:
    timeline = Timeline(load_profile_text(HELD), seed=1)
    assert [p.hold for p in timeline.profile.phases] == [3, 3, 3, 0, 0]
    assert _attempt(timeline, "anthropic", 0.1) == "failing"
    # its scaled hour is over, but only one attempt met it: it holds
    assert timeline.phase_at(elapsed=2.0).name == "failing"  # type: ignore[union-attr]
    assert _attempt(timeline, "anthropic", 2.0) == "failing"
    assert _attempt(timeline, "openai", 2.1) == "failing"  # no fault aims at openai: not met
    assert _attempt(timeline, "anthropic", 2.2) == "failing"  # the third: the hold ends with it
    # the next phase starts now with its whole scaled time: its ramp steps too
    assert timeline.incident_seconds(2.2) == pytest.approx(3600)
    assert timeline.incident_seconds(1.5) == pytest.approx(3600)  # held: incident time stood
    assert timeline.incident_seconds(0.5) == pytest.approx(1800)
    assert timeline.phase_at(elapsed=2.1).name == "failing"  # type: ignore[union-attr]
    assert timeline.phase_at(elapsed=2.3).name == "waves.1"  # type: ignore[union-attr]
    assert timeline.boundaries()[:3] == pytest.approx([1.2, 2.2, 2.7])
    for elapsed in (2.3, 2.4, 2.5):  # three attempts before its half hour is over: no shift
        assert _attempt(timeline, "anthropic", elapsed) == "waves.1"
    assert timeline.phase_at(elapsed=2.71).name == "waves.2"  # type: ignore[union-attr]
    # a phase whose hold is 0 passes on time, with or without attempts
    assert [_attempt(timeline, "anthropic", t) for t in (2.8, 2.9, 3.0)] == ["waves.2"] * 3
    assert timeline.phase_at(elapsed=3.3).name == "quick"  # type: ignore[union-attr]
    assert timeline.phase_at(elapsed=100).name == "recovered"  # type: ignore[union-attr]
    assert timeline.incident_seconds(100) == pytest.approx((100 - 1.2) * 3600)
    # looking back: the phases as this run met them
    then = {t: timeline.phase_at(elapsed=t).name for t in (0.5, 1.5, 2.19, 2.25)}  # type: ignore[union-attr]
    assert then == {0.5: "failing", 1.5: "failing", 2.19: "failing", 2.25: "waves.1"}


def test_a_phase_whose_target_the_app_stopped_calling_ends_after_twice_the_hold() -> None:
    timeline = Timeline(load_profile_text(HELD), seed=1)
    assert _attempt(timeline, "anthropic", 0.1) == "failing"
    # a circuit breaker opened: the app asks openai only; 6 attempts in all end the hold
    assert [_attempt(timeline, "openai", 5 + i / 10) for i in range(5)] == ["failing"] * 5
    assert _attempt(timeline, "openai", 5.5) == "waves.1"


def test_a_held_phase_ends_when_the_app_goes_quiet() -> None:
    timeline = Timeline(load_profile_text(HELD), seed=1)
    assert QUIET_S == 10.0
    assert _attempt(timeline, "anthropic", 0.1) == "failing"
    assert _attempt(timeline, "anthropic", 5.0) == "failing"  # held: 5 s is within 10 s quiet
    assert timeline.phase_at(elapsed=14.9).name == "failing"  # type: ignore[union-attr]
    # nothing came for 10 s after the attempt at 5 s: the phase ended at 15 s, and the
    # app, quiet since, holds none of the phases after it
    assert _attempt(timeline, "anthropic", 20.0) == "recovered"
    assert timeline.incident_seconds(10.0) == pytest.approx(3600)
    assert timeline.incident_seconds(15.5) == pytest.approx(5400)  # 1h at 15 s, then on


def test_an_app_that_comes_late_meets_the_phases_on_time() -> None:
    late = Timeline(load_profile_text(HELD.replace("hold: 3", "hold: 3\nstart: apply")))
    assert _attempt(late, "anthropic", 50) == "recovered"


def test_hold_is_described_and_checked() -> None:
    timeline = Timeline(load_profile_text(HELD), seed=1)
    text = timeline.describe()
    assert "failing (from 0s until 1h, held for 3 attempts)" in text
    assert "quick (from 2h until 3h)" in text
    with pytest.raises(ProfileError) as info:
        load_profile_text(HELD.replace("hold: 3", "hold: -1").replace("hold: 0", "hold: x"))
    assert info.value.errors == [
        "<string>:6:7: hold: expected a number of attempts (an integer >= 0), got -1",
        "<string>:22:11: phases[2].hold: expected a number of attempts (an integer >= 0), got 'x'",
    ]
    counted = HELD.replace("clock: wall\ntime_scale: 3600\n", "clock: requests\n")
    counted = counted.replace("30m", "5").replace("0m", "0").replace("1h", "10")
    counted = counted.replace("2h", "20").replace("3h", "30")
    with pytest.raises(ProfileError) as info:
        load_profile_text(counted)
    assert info.value.errors == [
        "<string>:5:7: hold: applies to the wall clock only (set clock: wall)",
        "<string>:21:11: phases[2].hold: applies to the wall clock only (set clock: wall)",
    ]
