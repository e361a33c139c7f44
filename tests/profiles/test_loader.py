"""Loading: parameters, extends/include, lookup by name in folders, durations, ramps."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from chaos import ProfileError, UnknownPhase
from chaos.faults import ErrorAction, NetworkAction
from chaos.profiles import (
    find_profiles,
    format_duration,
    load_profile,
    load_profile_text,
    parse_duration,
    resolve_profile,
)

BASE = """\
version: 1
name: base
title: a base profile
clock: wall
time_scale: 60
parameters:
  rate: 0.25
  kind: server_error
targets:
  anthropic: {dialect: anthropic}
phases:
  - name: storm
    at: 0s
    faults:
      - error: ${kind}
        rate: ${rate}
        message: "rate ${rate}, cost $$5"
  - name: calm
    at: 10m
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("LLM_CHAOS_PROFILES_DIRS", raising=False)
    (tmp_path / "base.yaml").write_text(BASE)
    return tmp_path


def test_parameters_defaults_and_overrides(folder: Path) -> None:
    profile = load_profile("base", dirs=[folder])
    fault = profile.phases[0].faults[0]
    assert fault.schedule.rate == 0.25
    assert fault.action == ErrorAction(error="server_error", message="rate 0.25, cost $5")
    assert profile.parameters == {"rate": 0.25, "kind": "server_error"}

    profile = load_profile("base", dirs=[folder], params={"rate": 1, "kind": "overloaded"})
    fault = profile.phases[0].faults[0]
    assert fault.schedule.rate == 1.0
    assert fault.action.error == "overloaded"  # type: ignore[attr-defined]


def test_an_override_is_validated_like_the_file(folder: Path) -> None:
    with pytest.raises(ProfileError) as info:
        load_profile("base", dirs=[folder], params={"rate": 2, "rte": 1})
    assert info.value.errors == [
        f"{folder / 'base.yaml'}:16:15: phases[0].faults[0].rate: must be between 0 and 1, got 2.0",
        f"{folder / 'base.yaml'}: parameters: unknown parameter 'rte'; valid: rate, kind; "
        "did you mean 'rate'? (given at load time)",
    ]


def test_extends_overrides_fields_targets_and_parameters(folder: Path) -> None:
    (folder / "child.yaml").write_text(
        "version: 1\nname: child\ntitle: a child\nextends: base\n"
        "parameters: {rate: 0.75}\n"
        "targets:\n  openai: {dialect: openai}\n"
    )
    profile = load_profile(folder / "child.yaml")
    assert profile.name == "child"
    assert profile.clock == "wall"
    assert profile.time_scale == 60
    assert set(profile.targets) == {"anthropic", "openai"}
    assert [p.name for p in profile.phases] == ["storm", "calm"]
    # the base's ${rate} takes the child's default
    assert profile.phases[0].faults[0].schedule.rate == 0.75


def test_extends_with_phases_replaces_them(folder: Path) -> None:
    (folder / "child.yaml").write_text(
        "version: 1\nname: child\ntitle: t\nextends: ./base.yaml\n"
        "phases:\n  - {name: only, at: 0s, faults: [{target: anthropic, wire: reset}]}\n"
    )
    profile = load_profile(folder / "child.yaml")
    assert [p.name for p in profile.phases] == ["only"]
    assert profile.faults()[0].name == "only/0-wire"


def test_include_merges_phases_by_name(folder: Path) -> None:
    (folder / "net.yaml").write_text(
        "version: 1\nname: net\ntitle: network\nclock: wall\n"
        "targets:\n  openai: {dialect: openai}\n"
        "phases:\n"
        "  - {name: storm, at: 0s, faults: [{target: openai, network: down}]}\n"
        "  - name: late\n    at: 20m\n"
        "    faults: [{target: openai, network: {toxic: latency, latency: 5}}]\n"
    )
    (folder / "both.yaml").write_text(
        "version: 1\nname: both\ntitle: both\nextends: base\ninclude: [net]\n"
    )
    profile = load_profile("both", dirs=[folder])
    assert [p.name for p in profile.phases] == ["storm", "calm", "late"]
    storm = profile.phase("storm")
    assert [f.name for f in storm.faults] == ["storm/0-error", "storm/1-network"]
    assert storm.network_faults()[0].action == NetworkAction(toxic="down")
    assert profile.phase("late").at == 1200


def test_an_unknown_phase_is_a_profile_error_naming_the_phases(folder: Path) -> None:
    (folder / "two.yaml").write_text(
        "version: 1\nname: two\ntitle: two\nclock: wall\n"
        "targets:\n  openai: {dialect: openai}\n"
        "phases:\n"
        "  - {name: storm, at: 0s, faults: [{target: openai, error: overloaded}]}\n"
        "  - {name: calm, at: 10s}\n"
    )
    profile = load_profile("two", dirs=[folder])
    with pytest.raises(UnknownPhase) as caught:
        profile.phase("strom")
    error = caught.value
    assert isinstance(error, ProfileError)
    assert isinstance(error, KeyError)  # a lookup by name, as before
    assert str(error) == (
        "profile 'two' has no phase 'strom'; did you mean 'storm'? (its phases: 'storm', 'calm')"
    )
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), str(again), again.phases) == (UnknownPhase, str(error), ["storm", "calm"])


def test_include_with_a_different_clock_is_an_error(folder: Path) -> None:
    (folder / "counted.yaml").write_text(
        "version: 1\nname: counted\ntitle: t\nclock: requests\n"
        "targets: {anthropic: {dialect: anthropic}}\nphases: [{name: a, at: 0}]\n"
    )
    with pytest.raises(ProfileError, match=r"counted.yaml:4:8: clock: an included profile must"):
        load_profile_text(
            "version: 1\nname: x\ntitle: x\nextends: base\ninclude: counted\n", dirs=[folder]
        )


def test_lookup_order_user_dirs_then_env_then_builtins(
    folder: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_dir = tmp_path_factory.mktemp("env")
    (env_dir / "http-500-storm.yaml").write_text(BASE.replace("name: base", "name: shadow"))
    monkeypatch.setenv("LLM_CHAOS_PROFILES_DIRS", str(env_dir))
    assert load_profile("http-500-storm").name == "shadow"  # env before built-ins
    assert load_profile("base", dirs=[folder]).name == "base"
    infos = {info.name: info for info in find_profiles([folder])}
    assert infos["base"].origin == "user"
    assert infos["http-500-storm"].path == env_dir / "http-500-storm.yaml"
    assert infos["blackout"].origin == "built-in"


def test_unknown_name_suggests_and_lists(folder: Path) -> None:
    with pytest.raises(ProfileError, match=r"no profile named 'bse' .*did you mean 'base'\?"):
        resolve_profile("bse", dirs=[folder])
    with pytest.raises(ProfileError, match=r"nope.yaml: no such profile file"):
        load_profile(folder / "nope.yaml")


def test_a_loaded_profile_passes_through(folder: Path) -> None:
    profile = load_profile("base", dirs=[folder])
    assert load_profile(profile) is profile
    assert load_profile(profile, params={"rate": 1}).phases[0].faults[0].schedule.rate == 1


def test_single_target_is_the_default_and_names_are_stable() -> None:
    profile = load_profile_text(
        "version: 1\nname: t\ntitle: t\ntargets: {a: {dialect: anthropic}}\n"
        "phases:\n  - name: one\n    at: 0\n    faults:\n"
        "      - {error: overloaded}\n      - {name: mine, wire: reset}\n"
        "      - {network: down}\n"
    )
    faults = profile.faults()
    assert [f.target for f in faults] == ["a", "a", "a"]
    assert [f.name for f in faults] == ["one/0-error", "mine", "one/2-network"]
    assert {f.phase for f in faults} == {"one"}


def test_ramp_unrolls_into_phases() -> None:
    profile = load_profile_text(
        "version: 1\nname: r\ntitle: r\nclock: requests\ntargets: {a: {dialect: anthropic}}\n"
        "phases:\n"
        "  - name: wave\n    at: 0\n    ramp: {rate: [0.2, 0.6, 1.0], every: 5}\n"
        "    faults: [{error: overloaded}, {error: server_error, rate: 0.1}]\n"
        "  - {name: calm, at: 20}\n"
    )
    assert [(p.name, p.at, p.until) for p in profile.phases] == [
        ("wave.1", 0, 5),
        ("wave.2", 5, 10),
        ("wave.3", 10, 20),
        ("calm", 20, None),
    ]
    assert [p.faults[0].schedule.rate for p in profile.phases[:3]] == [0.2, 0.6, 1.0]
    assert [p.faults[1].schedule.rate for p in profile.phases[:3]] == [0.1, 0.1, 0.1]
    assert profile.phases[1].faults[0].name == "wave.2/0-error"


def test_ramp_must_fit_before_the_next_phase() -> None:
    with pytest.raises(ProfileError, match=r"<string>:8:42: phases\[0\]\.ramp\.every: the ramp's"):
        load_profile_text(
            "version: 1\nname: r\ntitle: r\ntargets: {a: {dialect: anthropic}}\n"
            "phases:\n  - name: wave\n    at: 0\n"
            "    ramp: {rate: [0.2, 0.6, 1.0], every: 10}\n  - {name: calm, at: 15}\n"
        )


def test_duration_ends_a_phase_and_overlaps_are_errors() -> None:
    text = (
        "version: 1\nname: d\ntitle: d\nclock: wall\ntargets: {a: {dialect: anthropic}}\n"
        "phases:\n  - {name: one, at: 0s, duration: DUR, faults: [{wire: hang}]}\n"
        "  - {name: two, at: 10m}\n"
    )
    profile = load_profile_text(text.replace("DUR", "90s"))
    assert profile.phases[0].until == 90
    with pytest.raises(ProfileError, match=r"runs past the start of 'two' \(11m > 10m\)"):
        load_profile_text(text.replace("DUR", "11m"))


def test_every_error_of_every_file_is_listed(folder: Path) -> None:
    (folder / "bad-base.yaml").write_text("version: 1\nname: bad base\ntitle: t\n")
    with pytest.raises(ProfileError) as info:
        load_profile_text(
            "version: 1\nname: top\ntitle: 3\nextends: bad-base\nclock: sundial\n",
            dirs=[folder],
            source="top.yaml",
        )
    assert info.value.errors == [
        "top.yaml:1:1: (top level): missing 'targets': declare at least one "
        "(e.g. anthropic: {dialect: anthropic})",
        "top.yaml:1:1: (top level): missing 'phases': a profile needs at least one phase",
        "top.yaml:3:8: title: expected text, got 3",
        "top.yaml:5:8: clock: unknown value 'sundial'; valid: requests, wall",
        f"{folder / 'bad-base.yaml'}:2:7: name: expected a name (letters, digits, '-', '_', "
        "'.'), got 'bad base'",
    ]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0s", 0), ("90s", 90), ("20m", 1200), ("3h58m", 14280), ("500ms", 0.5), ("1d1h", 90000)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "20", "20 minutes", "5m1h", "1m1m", "h", "-5s", "1.s"])
def test_bad_durations(text: str) -> None:
    assert parse_duration(text) is None


def test_profile_label_names_a_builtin_and_keeps_other_paths(tmp_path) -> None:
    from chaos.profiles import builtin_dir, profile_label

    assert profile_label(builtin_dir() / "provider-down.yaml") == "provider-down"
    assert profile_label(str(builtin_dir() / "blackout.yml")) == "blackout"
    mine = tmp_path / "provider-down.yaml"
    assert profile_label(mine) == str(mine)
    assert profile_label("flaky/mine.yaml") == "flaky/mine.yaml"
    assert profile_label("provider-down") == "provider-down"
