"""The ``llm-chaos`` entry point itself: usage errors, version, broken pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import chaos


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chaos", *args], capture_output=True, text=True, timeout=60
    )


def test_version() -> None:
    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"llm-chaos {chaos.__version__}"


def test_unknown_verb_is_exit_2_with_one_clear_line() -> None:
    result = _run("explode")
    assert result.returncode == 2
    assert "invalid choice: 'explode'" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_option_names_the_verb_and_the_closest_option() -> None:
    result = _run("profiles", "show", "provider-down", "--sed", "3")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "llm-chaos profiles show: error: unrecognized arguments: --sed 3 (did you mean '--seed'?)\n"
    )
    assert "Traceback" not in result.stderr


def test_an_unknown_option_with_nothing_close_has_no_suggestion() -> None:
    result = _run("profiles", "list", "--zzzzzz")
    assert result.returncode == 2
    assert "unrecognized arguments: --zzzzzz\n" in result.stderr
    assert "did you mean" not in result.stderr


def test_one_did_you_mean_helper() -> None:
    # every "unknown X" message suggests through chaos._errors.did_you_mean, so the
    # suggestions read alike and tune in one place
    package = Path(chaos.__file__).parent
    users = sorted(
        str(p.relative_to(package))
        for p in package.rglob("*.py")
        if "get_close_matches" in p.read_text(encoding="utf-8")
    )
    assert users == ["_errors.py"]


def test_no_verb_is_exit_2() -> None:
    result = _run()
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_a_reader_that_goes_away_is_not_a_traceback() -> None:
    # `llm-chaos profiles schema | head -1` where head exits first: the read end
    # is closed before the producer writes, so its first flush hits EPIPE.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "chaos", "profiles", "schema"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
        )
    finally:
        os.close(write_end)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0
