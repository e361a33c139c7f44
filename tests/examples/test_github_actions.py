"""The GitHub Actions example: its steps run here as they run on GitHub, through run-gate.sh,
with the embedded Toxiproxy-compatible server standing in for Shopify's container."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from chaos.profiles import load_profile
from tests.examples.conftest import EXAMPLES

ROOT = EXAMPLES.parent
WORKFLOW = EXAMPLES / "github-actions" / "chaos.yml"
SCRIPT = EXAMPLES / "github-actions" / "run-gate.sh"


def job() -> dict:
    workflow = yaml.safe_load(WORKFLOW.read_text())
    [(_name, gate)] = workflow["jobs"].items()
    return gate


def script_steps(profile: str) -> list[str]:
    """The workflow's `run:` commands that call run-gate.sh, with the matrix filled in."""
    commands = [step["run"] for step in job()["steps"] if "run-gate.sh" in step.get("run", "")]
    return [c.replace("${{ matrix.profile }}", profile) for c in commands]


def test_the_workflow_runs_a_matrix_of_builtin_profiles_and_uploads_the_reports():
    gate = job()
    profiles = gate["strategy"]["matrix"]["profile"]
    assert len(profiles) >= 3
    for name in profiles:
        assert load_profile(name).name == name
    assert gate["strategy"]["fail-fast"] is False  # one failing profile must not hide the others
    assert gate["env"]["TOXIPROXY_URL"] == "http://127.0.0.1:8474"
    assert [c.split()[1] for c in script_steps("p")] == [
        "toxiproxy-container",
        "wait-toxiproxy",
        "gate",
    ]
    [upload] = [s for s in gate["steps"] if s.get("uses", "").startswith("actions/upload-artifact")]
    assert upload["if"] == "always()"  # the reports matter most when the gate fails
    assert upload["with"]["path"] == "${{ env.REPORTS }}"


@pytest.fixture
def toxiproxy_url():
    """The embedded Toxiproxy-compatible server, as the external Toxiproxy, on a free port."""
    server = subprocess.Popen(
        [sys.executable, "-m", "chaos", "toxiproxy-server", "-host", "127.0.0.1", "-port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        line = server.stdout.readline()
        port = json.loads(line)["port"]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        server.stdout.close()


def run_step(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.mark.slow
def test_the_workflow_steps_pass_the_gate_locally_through_an_external_toxiproxy(
    toxiproxy_url, tmp_path
):
    env = dict(os.environ)
    env = {k: v for k, v in env.items() if not k.startswith(("PYTEST_", "LLM_CHAOS_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"  # llm-chaos
    env["TOXIPROXY_URL"] = toxiproxy_url
    env["REPORTS"] = str(tmp_path / "reports")
    container, wait, gate = script_steps("provider-down")

    waited = run_step(wait, env)
    assert waited.returncode == 0, waited.stderr
    assert f"toxiproxy 2.12.0 at {toxiproxy_url}" in waited.stdout

    done = run_step(gate, env)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert re.search(r"harness up \(external Toxiproxy", out), out
    assert "1 of 1 profile(s) passed" in out
    reports = tmp_path / "reports"
    assert {"gate.md", "junit.xml", "coverage.json", "coverage.md"} <= {
        p.name for p in reports.iterdir()
    }
    assert list(reports.glob("*.svg"))
    assert "toxiproxy-container" in container  # the one step that needs Docker and a registry


def test_the_script_says_how_to_use_it():
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert "run-gate.sh gate PROFILE [DIR]" in done.stderr
    missing = subprocess.run(
        ["bash", str(SCRIPT), "wait-toxiproxy"],
        capture_output=True,
        text=True,
        check=False,
        env={k: v for k, v in os.environ.items() if k != "TOXIPROXY_URL"},
    )
    assert missing.returncode != 0
    assert "set TOXIPROXY_URL" in missing.stderr
