"""The Allure adapter, through real allure-pytest: results JSON and attachment files checked."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

pytest.importorskip("allure_pytest")

pytestmark = pytest.mark.slow

CONFTEST = '''
import time
from types import SimpleNamespace

import pytest

from chaos.common._journal import JournalRecord
from chaos.report import make_reporter

T = time.time()
PROFILE = """version: 1
name: tiny-storm
title: A tiny 529 storm
phases:
  - name: storm
    at: 0
    faults: []
"""


def journal():
    return [
        JournalRecord(0, T, "anthropic", "POST", "/v1/messages?key=sk-query-SECRET",
                      operation="messages.create", fingerprint="q", rule="storm/0-error",
                      action="error:overloaded", phase="storm", status=529, outcome="fault",
                      request_headers={"x-api-key": "sk-ant-SECRET"}),
        JournalRecord(1, T + 0.2, "openai", "POST", "/v1/chat/completions",
                      operation="chat.completions.create", fingerprint="q2", status=200,
                      request_headers={"authorization": "Bearer sk-SECRET"}),
    ]


class Verdict:
    def describe(self):
        return "call 1: anthropic 529 overloaded (first attempt), openai 200 ok (failover)"


@pytest.fixture
def stand_in(request, tmp_path):
    path = tmp_path / "tiny-storm.yaml"
    path.write_text(PROFILE)
    harness = SimpleNamespace(
        journal=journal(), seed=4242, backend=SimpleNamespace(name="embedded"),
        endpoints={"anthropic": "http://127.0.0.1:1", "openai": "http://127.0.0.1:2"},
        profile=SimpleNamespace(name="tiny-storm", path=str(path)),
        fired=lambda: {"storm/0-error": 1},
    )
    reporter = make_reporter(request.config)
    reporter.on_test_start(request.node, harness)
    yield harness
    reporter.on_test_end(request.node, harness, Verdict())


@pytest.fixture
def broken(request):
    yield SimpleNamespace()
    make_reporter(request.config).on_test_end(request.node, SimpleNamespace(journal=None), None)
'''

TESTS = """
def test_failover(stand_in):
    assert stand_in.seed == 4242


def test_reporter_failure_does_not_fail_the_test(broken):
    pass
"""


def run_with_allure(pytester: pytest.Pytester, *args: str) -> tuple[Path, pytest.RunResult]:
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_app=TESTS)
    results = pytester.path / "allure-results"
    run = pytester.runpytest_subprocess("-p", "allure_pytest", f"--alluredir={results}", *args)
    return results, run


def load_result(results: Path, name: str) -> tuple[dict, list[dict]]:
    """The test's result JSON and every attachment on it or on its fixtures' containers."""
    docs = [json.loads(p.read_text()) for p in results.glob("*-result.json")]
    [result] = [d for d in docs if d["name"] == name]
    containers = [json.loads(p.read_text()) for p in results.glob("*-container.json")]
    attachments = list(_walk(result))
    for container in (d for d in containers if result["uuid"] in d.get("children", ())):
        for fixture in container.get("befores", []) + container.get("afters", []):
            attachments += _walk(fixture)
    return result, attachments


def _walk(node: dict):
    yield from node.get("attachments", [])
    for step in node.get("steps", []):
        yield from _walk(step)


def test_a_chaos_test_carries_profile_journal_timeline_labels_and_parameters(pytester):
    results, run = run_with_allure(pytester)
    run.assert_outcomes(passed=2)
    result, attachments = load_result(results, "test_failover")
    assert result["status"] == "passed"
    by_name = {a["name"]: a for a in attachments}
    assert set(by_name) == {"chaos profile", "chaos journal", "chaos timeline", "chaos verdict"}
    assert by_name["chaos timeline"]["type"] == "image/svg+xml"
    assert by_name["chaos journal"]["type"] == "application/json"
    assert by_name["chaos profile"]["type"] == "application/yaml"

    profile = yaml.safe_load((results / by_name["chaos profile"]["source"]).read_text())
    assert profile["name"] == "tiny-storm"
    assert profile["phases"][0]["name"] == "storm"

    journal_text = (results / by_name["chaos journal"]["source"]).read_text()
    assert "SECRET" not in journal_text
    journal = json.loads(journal_text)
    assert [r["target"] for r in journal] == ["anthropic", "openai"]
    assert journal[0]["request_headers"]["x-api-key"] == "[redacted]"
    assert journal[0]["path"] == "/v1/messages?key=[redacted]"
    assert journal[1]["request_headers"]["authorization"] == "[redacted]"

    svg = ET.parse(results / by_name["chaos timeline"]["source"]).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    lanes = [g.get("data-target") for g in svg.iter(f"{ns}g") if g.get("class") == "lane"]
    assert lanes == ["anthropic", "openai"]
    phases = [g.get("data-phase") for g in svg.iter(f"{ns}g") if g.get("class") == "phase"]
    assert phases == ["storm"]

    verdict = (results / by_name["chaos verdict"]["source"]).read_text()
    assert "failover" in verdict

    labels = [(label["name"], label["value"]) for label in result["labels"]]
    assert ("chaos_profile", "tiny-storm") in labels
    assert [v for n, v in labels if n == "chaos_target"] == ["anthropic", "openai"]
    params = {p["name"]: p for p in result["parameters"]}
    assert params["chaos seed"]["value"] == "'4242'"
    assert params["chaos backend"]["value"] == "'embedded'"
    assert params["chaos seed"]["excluded"] is True  # a new seed is not a new test history


def test_a_broken_reporter_logs_a_warning_and_the_test_still_passes(pytester):
    results, run = run_with_allure(pytester, "-rA", "-o", "log_level=WARNING")
    run.assert_outcomes(passed=2)
    run.stdout.fnmatch_lines(["*chaos reporter AllureReporter failed in on_test_end*"])
    result, attachments = load_result(results, "test_reporter_failure_does_not_fail_the_test")
    assert result["status"] == "passed"
    assert [a["name"] for a in attachments] == ["log"]  # allure's captured log, nothing of ours
    log = (results / attachments[0]["source"]).read_text()
    assert "chaos reporter AllureReporter failed in on_test_end" in log


def test_without_alluredir_no_allure_reporter_is_made(pytester):
    pytester.makeconftest(CONFTEST)
    pytester.makepyfile(
        test_plain="""
        from chaos.report import make_reporter

        def test_plain(request):
            assert make_reporter(request.config).reporters == []
        """
    )
    pytester.runpytest_subprocess("-p", "allure_pytest").assert_outcomes(passed=1)
