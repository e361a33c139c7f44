"""The timeline: phases by request count (global or per target) or by scaled wall time."""

from __future__ import annotations

import pytest

from chaos.profiles import Timeline, load_profile, load_profile_text

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
