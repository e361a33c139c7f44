"""``llm-chaos profiles ...`` as a user runs it: a subprocess, its output and exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chaos.profiles import builtin_dir, schema_text

BROKEN = Path(__file__).parent / "broken"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k != "LLM_CHAOS_PROFILES_DIRS"}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "chaos", "profiles", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ,
        check=False,
    )


@pytest.mark.slow
def test_list_shows_name_title_source_and_where() -> None:
    result = run("list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("claude-2026-03-02 "))
    assert "Claude outage of 2 March 2026" in lines[index]
    assert lines[index + 1].strip().startswith("source: incidents/claude-2026-03-02.md")
    assert lines[index + 2].strip() == f"built-in: {builtin_dir() / 'claude-2026-03-02.yaml'}"


@pytest.mark.slow
def test_list_includes_user_folders_from_option_and_env(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "my-outage.yaml").write_text("version: 1\nname: my-outage\ntitle: Mine\n")
    result = run("list", "--dir", str(mine))
    assert "my-outage" in result.stdout
    assert f"user: {mine / 'my-outage.yaml'}" in result.stdout
    result = run("list", env={"LLM_CHAOS_PROFILES_DIRS": str(mine)})
    assert f"user: {mine / 'my-outage.yaml'}" in result.stdout


@pytest.mark.slow
def test_show_resolves_and_draws_the_timeline() -> None:
    result = run("show", "http-500-storm", "--seed", "5", "--param", "storm=6")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("http-500-storm: HTTP 500 storm on the primary provider")
    assert "seed: 5" in out
    assert "parameters: storm=6" in out
    assert "recovered (from #6)" in out
    assert "anthropic: error:server_error  <storm/0-error>" in out


@pytest.mark.slow
def test_show_an_unknown_name_is_bad_input() -> None:
    result = run("show", "http-500-strom")
    assert result.returncode == 2
    assert "no profile named 'http-500-strom'" in result.stderr
    assert "did you mean 'http-500-storm'?" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_validate_ok_prints_a_summary() -> None:
    paths = [str(p) for p in sorted(builtin_dir().glob("*.yaml"))]
    result = run("validate", *paths)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == f"{len(paths)} profiles valid"
    assert f"{paths[0]}: ok (" in result.stdout


@pytest.mark.slow
def test_validate_lists_every_error_of_every_file_and_exits_2() -> None:
    good = str(builtin_dir() / "blackout.yaml")
    bad = [str(BROKEN / "fault-values.yaml"), str(BROKEN / "wrong-type.yaml")]
    result = run("validate", good, *bad)
    assert result.returncode == 2
    errors = result.stderr.splitlines()
    assert sum(line.startswith(bad[0]) for line in errors) == 6
    assert sum(line.startswith(bad[1]) for line in errors) == 3
    assert errors[-1] == "2 of 3 profiles invalid"
    assert f"{good}: ok (blackout: 2 phases, 2 faults, wall clock)" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_validate_takes_names_like_show() -> None:
    result = run("validate", "provider-down", str(builtin_dir() / "blackout.yaml"))
    assert result.returncode == 0, result.stderr
    assert "provider-down: ok (provider-down: 1 phase, 1 fault, wall clock)" in result.stdout
    assert result.stdout.splitlines()[-1] == "2 profiles valid"


@pytest.mark.slow
def test_validate_an_unknown_name_suggests_the_closest() -> None:
    result = run("validate", "provder-down")
    assert result.returncode == 2
    assert "no profile named 'provder-down'" in result.stderr
    assert "did you mean 'provider-down'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_validate_a_missing_file() -> None:
    result = run("validate", "nowhere.yaml")
    assert result.returncode == 2
    assert "nowhere.yaml: no such profile file" in result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("args", [["schema"], []])
def test_schema_and_usage(args: list[str]) -> None:
    result = run(*args)
    if args:
        assert result.returncode == 0
        assert result.stdout == schema_text()
        assert json.loads(result.stdout)["$schema"].endswith("2020-12/schema")
    else:
        assert result.returncode == 2
        assert "list,show,validate,schema" in result.stderr.replace(" ", "") or "SUBVERB" in (
            result.stderr
        )
