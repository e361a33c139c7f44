"""The embedded server under every Python (>= 3.11) on this machine, with ``-S`` (no
site-packages): catches asyncio differences between releases, such as 3.11.2
(Debian bookworm, the Docker stand-in image) reading a paused transport."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMOKE = Path(__file__).with_name("server_smoke.py")


def interpreters() -> list[str]:
    found: dict[str, str] = {}
    candidates = [sys.executable, "/usr/bin/python3"]
    candidates += [shutil.which(f"python3.{minor}") or "" for minor in (11, 12, 13, 14)]
    candidates += sorted(map(str, Path.home().glob(".pyenv/versions/3.*/bin/python3")))
    for candidate in candidates:
        if not candidate or not os.path.exists(candidate):
            continue
        try:
            version = subprocess.run(
                [candidate, "-S", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                capture_output=True,
                text=True,
                timeout=20,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            continue
        if tuple(map(int, version.split("."))) >= (3, 11) and version not in found:
            found[version] = candidate
    return [found[version] for version in sorted(found)]


@pytest.mark.parametrize("python", interpreters())
def test_server_smoke_on_bare_python(python: str) -> None:
    result = subprocess.run(
        [python, "-S", str(SMOKE)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        cwd="/",
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("smoke ok on Python ")
