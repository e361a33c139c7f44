"""The ``llm-chaos`` entry point itself: usage errors, version, broken pipes."""

from __future__ import annotations

import os
import subprocess
import sys

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
