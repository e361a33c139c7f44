"""The examples' own chaos suites, run as a user runs them: pytest in the example's folder,
with the real plugin, harness, SDKs, allure-pytest and ``--chaos-report``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from chaos.common._redact import is_secret_name
from chaos.profiles import load_profile
from tests.examples.conftest import EXAMPLES
from tests.fidelity._expect import real_exception
from tests.fidelity._recorded import ANTHROPIC_ERRORS
from tests.fidelity._reference import Answer

pytestmark = [pytest.mark.slow, pytest.mark.sdk]
SVG = "{http://www.w3.org/2000/svg}"


def run_suite(app: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_CHAOS_", "PYTEST_"))}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests", "-p", "no:cacheprovider", "-q", *args],
        cwd=EXAMPLES / app,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def resilient(tmp_path_factory):
    out = tmp_path_factory.mktemp("resilient")
    done = run_suite(
        "resilient_app", f"--alluredir={out / 'allure'}", f"--chaos-report={out / 'report'}"
    )
    return done, out


def test_the_resilient_app_passes_its_chaos_suite(resilient):
    done, _ = resilient
    assert done.returncode == 0, done.stdout + done.stderr
    assert "8 passed" in done.stdout
    assert "profile claude-2026-03-02: 1 test(s)" in done.stdout


def allure_result(allure: Path, name: str) -> tuple[dict, dict[str, dict]]:
    [result] = [
        doc
        for doc in (json.loads(p.read_text()) for p in allure.glob("*-result.json"))
        if doc["name"] == name
    ]
    attachments = list(result.get("attachments", []))
    for container in (json.loads(p.read_text()) for p in allure.glob("*-container.json")):
        if result["uuid"] in container.get("children", []):
            for fixture in container.get("befores", []) + container.get("afters", []):
                attachments += fixture.get("attachments", [])
    return result, {a["name"]: a for a in attachments}


def test_allure_results_carry_profile_journal_and_a_timeline_showing_the_phases(resilient):
    _, out = resilient
    allure = out / "allure"
    result, attached = allure_result(allure, "test_survives_the_2_march_2026_outage")
    assert {"chaos profile", "chaos journal", "chaos timeline", "chaos verdict"} <= set(attached)

    profile = yaml.safe_load((allure / attached["chaos profile"]["source"]).read_text())
    assert profile["name"] == "claude-2026-03-02"

    journal = json.loads((allure / attached["chaos journal"]["source"]).read_text())
    assert {r["target"] for r in journal} >= {"anthropic", "openai"}
    assert any(r["rule"] for r in journal)
    secrets = [v for r in journal for k, v in r["request_headers"].items() if is_secret_name(k)]
    assert secrets  # the SDKs sent their (dummy) keys...
    assert set(secrets) == {"[redacted]"}  # ...and none of them is in the report

    svg = ET.parse(allure / attached["chaos timeline"]["source"]).getroot()
    drawn = [g.get("data-phase") for g in svg.iter(f"{SVG}g") if g.get("class") == "phase"]
    assert drawn == [p.name for p in load_profile("claude-2026-03-02").phases]
    lanes = [g.get("data-target") for g in svg.iter(f"{SVG}g") if g.get("class") == "lane"]
    assert {"anthropic", "openai"} <= set(lanes)

    labels = {(label["name"], label["value"]) for label in result["labels"]}
    assert ("chaos_profile", "claude-2026-03-02") in labels
    assert ("chaos_target", "anthropic") in labels
    params = {p["name"] for p in result["parameters"]}
    assert {"chaos seed", "chaos backend"} <= params

    _, plain = allure_result(allure, "test_fails_over_to_openai_when_claude_is_overloaded")
    assert "chaos profile" not in plain  # no profile applied: none attached
    assert {"chaos journal", "chaos timeline"} <= set(plain)


def test_chaos_report_has_coverage_and_a_timeline_per_test(resilient):
    _, out = resilient
    report = out / "report"
    data = json.loads((report / "coverage.json").read_text())
    outcome = {(r["fault"], r["target"], r["outcome"]) for r in data["rows"]}
    assert ("error:overloaded", "anthropic", "failover") in outcome
    assert ("error:overloaded", "anthropic", "app_retry") in outcome  # the single 529
    assert ("error:rate_limited", "anthropic", "failover") in outcome  # retry-after: 3600
    assert ("error:server_error", "openai", "failed") in outcome  # both down: degraded
    md = (report / "coverage.md").read_text()
    assert md.startswith("# Fault coverage")
    assert "| `error:overloaded` | anthropic | messages.create | no |" in md
    timelines = sorted(p.name for p in (report / "timelines").glob("*.svg"))
    assert len(timelines) == 8
    for path in (report / "timelines").glob("*.svg"):
        ET.parse(path)


def test_the_naive_app_fails_its_chaos_suite_and_says_why():
    done = run_suite("naive_app")
    assert done.returncode == 1
    assert "3 failed" in done.stdout
    out = done.stdout
    # the SDK words its error (anthropic 2.17 changed it): the class comes from the real bytes
    real = real_exception("anthropic", Answer(ANTHROPIC_ERRORS["overloaded"]))
    assert f"{real.__module__.split('.')[0]}.{real.__name__}: " in out
    assert (
        "expected a failover from 'anthropic' to 'openai'; no call that failed on 'anthropic' "
        "was answered by 'openai' (the fallback): 1 call(s) failed on 'anthropic' (1 never "
        "answered), 3 attempt(s) to it, all failed (529 overloaded ×3, SDK retries ×2); "
        "'openai' received no request"
    ) in out
    assert "#3 anthropic at" in out  # the failed test shows every attempt it made


def test_the_streaming_app_passes_its_chaos_suite():
    done = run_suite("streaming_app")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout
    assert "no_backoff" not in done.stdout
