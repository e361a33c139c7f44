"""Under ``llm-chaos run`` the harness, and its clock, are the gate's (another process):
a ``time="virtual"`` test runs on real time there, rather than skip sleeps the gate's
journal would not see skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SUITE = """\
import time
import pytest
from chaos.common import _vtime


@pytest.mark.chaos(time="virtual")
def test_virtual_asked(chaos):
    time.sleep(0.01)
    print("CLOCK", "virtual" if _vtime.active() else "real", _vtime.skipped())
"""


def test_a_virtual_test_under_the_gate_runs_on_real_time(tmp_path: Path) -> None:
    (tmp_path / "test_suite.py").write_text(SUITE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "LLM_CHAOS_"))}
    env.pop("TOXIPROXY_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "run", "--profile", "provider-down",
         "--backend", "embedded", "--timeout", "120",
         "--", sys.executable, "-m", "pytest", "test_suite.py", "-p", "no:cacheprovider",
         "-p", "no:randomly", "-s", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert "1 passed" in out, out
    assert "CLOCK real 0.0" in out, out
