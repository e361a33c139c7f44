"""The README's code, exactly as written: the main-job command in a fresh clone and a fresh
venv, and the quick-start tests against the example apps (issue 14)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.docs._markdown import MY_APPS, ROOT, example, fenced_block, route_example_apps

pytestmark = pytest.mark.sdk


def main_command(readme: str) -> str:
    """The command in the first fenced block after ``<!-- main-command -->``."""
    return fenced_block(readme, "main-command").strip()


def test_the_main_command_is_found():
    command = main_command((ROOT / "README.md").read_text())
    assert "llm-chaos demo" in command


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_the_readme_main_command_works_in_a_fresh_clone(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True, timeout=120)
    command = main_command((clone / "README.md").read_text())
    # a fresh shell: not inside this test run's virtualenv, pip's cache reused as is
    venv_bin = str(Path(sys.prefix) / "bin")
    path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LLM_CHAOS_", "TOXIPROXY", "PYTEST", "VIRTUAL_ENV", "PYTHON"))
    }
    env["PATH"] = path

    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=1100,
        check=False,
    )

    out = proc.stdout
    assert proc.returncode == 0, f"$ {command}\n{out[-4000:]}\n{proc.stderr[-4000:]}"
    assert "llm-chaos demo: Claude outage of 2 March 2026" in out
    assert "Why the resilient app survived:" in out
    assert "Why the naive app did not survive:" in out
    reports = clone / "chaos-reports" / "demo"
    for name in ("demo.md", "demo.json", "timeline-resilient_app.svg", "timeline-naive_app.svg"):
        assert (reports / name).is_file(), name


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider or harness settings from the outer run; the embedded Toxiproxy."""
    route_example_apps(monkeypatch)


@pytest.mark.slow
@pytest.mark.usefixtures("clean_env")
@pytest.mark.parametrize("app", ["resilient", "naive", "apologising"])
def test_the_readme_quick_start(pytester: pytest.Pytester, app: str) -> None:
    pytest.importorskip("anthropic")
    pytest.importorskip("openai")
    code = example(ROOT / "README.md", "quick-start").code
    assert "import my_app" in code
    pytester.makepyfile(my_app=textwrap.dedent(MY_APPS[app]), test_quick_start=code)

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-rA")

    out = result.stdout.str()
    if app == "resilient":
        result.assert_outcomes(passed=2)
        return
    overloaded = "test_quick_start.py::test_fails_over_when_claude_is_overloaded"
    survive = "test_quick_start.py::test_answers_survive_the_outage"
    # both tests fail, every run: the replay holds each phase until 5 attempts met it, so
    # the SDK's 2 retries cannot ride out the methods-failing phase (529 on every attempt)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert result.parseoutcomes().get("failed") == 2, out
    if app == "naive":  # the SDK's error reaches the test; the journal shows why
        assert f"FAILED {overloaded}" in out
        assert f"FAILED {survive}" in out
        assert "llm-chaos journal" in out
        assert re.search(r"call \d+ \(messages\.create claude-sonnet-4-6\): failed", out), out
        return
    # the apology has text; the verdict sees through it
    assert re.search(
        rf"FAILED {survive} - AssertionError: +"
        r"call \d+ \(messages\.create claude-sonnet-4-6\): failed",
        out,
    ), out
    assert re.search(
        rf"FAILED {overloaded} - chaos\.VerdictError: expected a failover from "
        r"'anthropic' to 'openai' within 4 attempts; no call that failed on 'anthropic' was "
        r"answered by 'openai' \(the fallback\)",
        out,
    ), out
