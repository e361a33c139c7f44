"""The README's main-job command, exactly as written, in a fresh clone and a fresh venv."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.sdk

ROOT = Path(__file__).resolve().parents[2]


def main_command(readme: str) -> str:
    """The command in the first fenced block after ``<!-- main-command -->``."""
    marker = readme.index("<!-- main-command -->")
    block = re.search(r"^```[^\n]*\n(.*?)^```", readme[marker:], re.S | re.M)
    assert block is not None, "README.md: no fenced block after <!-- main-command -->"
    return block.group(1).strip()


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
