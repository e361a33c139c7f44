"""``@pytest.mark.chaos(time=...)`` and ``--chaos-time`` / ``LLM_CHAOS_TIME`` / ``chaos_time``
through real pytest runs (subprocess: the plugin loads from its entry point)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

TESTS = """
import time
import pytest
from chaos.common import _vtime


def test_default(chaos):
    time.sleep(0.01)
    print("CLOCK default", "virtual" if _vtime.active() else "real")


@pytest.mark.chaos(time="virtual")
def test_virtual(chaos):
    time.sleep(3600)  # an hour's back-off
    assert _vtime.skipped() > 3599
    print("CLOCK marked-virtual", "virtual" if _vtime.active() else "real")


@pytest.mark.chaos(time="real")
def test_real(chaos):
    print("CLOCK marked-real", "virtual" if _vtime.active() else "real")


def test_after_them():
    print("CLOCK no-chaos", "virtual" if _vtime.active() else "real")


@pytest.mark.chaos(time="fast")
def test_bad(chaos):
    pass
"""


def clocks(result: pytest.RunResult) -> dict[str, str]:
    lines = [line.split("CLOCK ", 1)[1] for line in result.outlines if "CLOCK " in line]
    return dict(line.split() for line in lines)


@pytest.mark.parametrize(
    ("how", "default"),
    [
        ("none", "real"),
        ("cli", "virtual"),
        ("env", "virtual"),
        ("ini", "virtual"),
    ],
)
def test_the_clock_per_test_and_per_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, how: str, default: str
) -> None:
    monkeypatch.delenv("LLM_CHAOS_TIME", raising=False)
    pytester.makepyfile(test_clock=TESTS)
    args = ["-s", "-p", "no:cacheprovider", "--chaos-backend=embedded"]
    if how == "cli":
        args.append("--chaos-time=virtual")
    elif how == "env":
        monkeypatch.setenv("LLM_CHAOS_TIME", "virtual")
    elif how == "ini":
        pytester.makeini("[pytest]\nchaos_time = virtual\n")
    result = pytester.runpytest_subprocess(*args)

    result.assert_outcomes(passed=4, errors=1)
    assert clocks(result) == {
        "default": default,
        "marked-virtual": "virtual",  # the marker wins over the session...
        "marked-real": "real",  # ...both ways
        "no-chaos": "real",  # only chaos tests, and only while they run
    }
    result.stdout.fnmatch_lines(
        ["@pytest.mark.chaos(time=...)='fast': unknown clock; valid choices: real, virtual"]
    )


def test_a_bad_session_value_names_its_source(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_CHAOS_TIME", "warp")
    pytester.makepyfile("def test_one(chaos):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--chaos-backend=embedded")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*LLM_CHAOS_TIME='warp': unknown clock; valid choices: real, virtual*"]
    )
