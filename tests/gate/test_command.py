"""The gate's command runner: its own process group, killed with its children."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from chaos.cli.gate.command import run_command
from tests.gate._util import llm_chaos


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead too: it waits for its parent (init here) to reap it
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pid: int, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    return False


def _wait_file(path: Path, within: float = 30.0) -> str:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def test_timeout_kills_the_command_and_its_children(tmp_path):
    pidfile = tmp_path / "child.pid"
    command = ["sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait"]

    result = run_command(command, env=os.environ, timeout=1.0)

    assert result.timed_out
    assert result.signal == "SIGTERM"
    assert result.returncode == 128 + signal.SIGTERM
    assert _wait_gone(int(pidfile.read_text()))


def test_children_left_behind_are_killed(tmp_path):
    pidfile = tmp_path / "child.pid"
    command = ["sh", "-c", f"sleep 60 > /dev/null 2>&1 & echo $! > {pidfile}"]

    result = run_command(command, env=os.environ, timeout=10)

    assert result.returncode == 0
    assert not result.timed_out
    assert _wait_gone(int(pidfile.read_text()))


def test_not_found_and_not_executable(tmp_path):
    missing = run_command(["no-such-command-llm-chaos"], env=os.environ)
    assert missing.returncode == 127
    assert missing.error == "command not found: no-such-command-llm-chaos"

    plain = tmp_path / "notes.txt"
    plain.write_text("not a program")
    denied = run_command([str(plain)], env=os.environ)
    assert denied.returncode == 126
    assert denied.error is not None
    assert "not executable" in denied.error


@pytest.mark.slow
def test_the_gate_reports_a_timeout(tmp_path, profiles):
    proc = llm_chaos(
        "run", "-p", str(profiles["down"]), "--timeout", "0.5", "--",
        sys.executable, "-c", "import time; time.sleep(30)",
        cwd=tmp_path,
    )  # fmt: skip

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "timed out; the command and its children were killed, ended by SIGTERM" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.startswith("always-500 "))
    assert row.split()[1] == "timeout"


@pytest.mark.slow
def test_ctrl_c_ends_the_command_group_and_the_harness(tmp_path, profiles):
    pidfile = tmp_path / "child.pid"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLM_CHAOS_")}
    gate = subprocess.Popen(
        [
            sys.executable, "-m", "chaos", "run", "-p", str(profiles["down"]), "--",
            "sh", "-c", f"sleep 60 & echo $! > {pidfile}; wait",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        child = int(_wait_file(pidfile))
        gate.send_signal(signal.SIGINT)
        out, err = gate.communicate(timeout=30)
    finally:
        if gate.poll() is None:
            gate.kill()
            gate.communicate()

    assert gate.returncode == 130, out + err
    assert "Traceback" not in err
    assert _wait_gone(child)
