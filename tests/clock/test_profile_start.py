"""``start: first_request | apply``: how profiles declare when incident time 0 is."""

from __future__ import annotations

import subprocess
import sys

import pytest

from chaos import ProfileError
from chaos.profiles import Timeline, json_schema, load_profile, load_profile_text

WALL = """\
version: 1
name: wall-start
title: a wall-clock profile
source: generic
clock: wall
{start}targets:
  anthropic: {{dialect: anthropic}}
  openai: {{dialect: openai}}
phases:
  - name: first
    at: 0s
    faults:
{first}
  - name: later
    at: 10s
    faults: []
"""
ONE_DOWN = "      - {target: anthropic, network: down}"
BOTH_DOWN = ONE_DOWN + "\n      - {target: openai, network: down}"


def wall(start: str | None = None, first: str = ONE_DOWN) -> str:
    return WALL.format(start=f"start: {start}\n" if start else "", first=first)


def test_wall_profiles_start_at_the_first_request_by_default() -> None:
    assert load_profile_text(wall()).start == "first_request"
    assert load_profile_text(wall("apply")).start == "apply"
    assert Timeline(load_profile_text(wall())).start == "first_request"
    assert Timeline(load_profile_text(wall("apply"))).start == "apply"


def test_a_first_phase_that_takes_every_target_down_needs_start_apply() -> None:
    with pytest.raises(ProfileError) as info:
        load_profile_text(wall(first=BOTH_DOWN), source="p.yaml")
    [error] = info.value.errors
    assert error.startswith("p.yaml:10:5: phases[0]: phase 'first' takes every target down")
    assert "set start: apply" in error
    with pytest.raises(ProfileError, match=r"p.yaml:6:8: start: phase 'first' takes every"):
        load_profile_text(wall("first_request", BOTH_DOWN), source="p.yaml")
    assert load_profile_text(wall("apply", BOTH_DOWN)).start == "apply"


def test_start_is_checked_and_belongs_to_the_wall_clock() -> None:
    with pytest.raises(ProfileError, match=r"start: unknown value 'later'.*first_request, apply"):
        load_profile_text(wall("later"))
    requests = wall("apply").replace("clock: wall", "clock: requests").replace("10s", "10")
    overloaded = "      - {target: openai, error: overloaded}"
    requests = requests.replace("0s", "0").replace(ONE_DOWN, overloaded)
    with pytest.raises(ProfileError, match=r"start: applies to the wall clock only"):
        load_profile_text(requests)


def test_builtin_profiles_choose_their_start() -> None:
    assert load_profile("claude-2026-03-02").start == "first_request"
    assert load_profile("blackout").start == "apply"  # nothing reaches the harness at first
    assert load_profile("connect-failures").start == "apply"
    assert json_schema()["properties"]["start"]["enum"] == ["first_request", "apply"]


@pytest.mark.slow
def test_profiles_show_prints_the_start() -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "chaos", "profiles", "show", "claude-2026-03-02"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "start: first_request (incident time 0 is the first request" in shown
    blackout = Timeline(load_profile("blackout"), seed=1).describe()
    assert "start: apply (incident time 0 is when the profile is applied)" in blackout
