"""``llm-chaos run --report``: every count agrees across the matrix, gate.json, gate.md,
JUnit and the coverage report, and the timelines show what happened (a small stdlib
app that fails over from Claude to OpenAI, under ``provider-down`` and a 529)."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from chaos.common._journal import JournalRecord
from chaos.verdict import Verdict
from tests.gate._util import FLAKY, llm_chaos, script
from tests.report._svg import groups, read, tick_labels, visible_text

# asks three questions; any failure from Claude (refused connection, HTTP error) -> OpenAI
FAILOVER = """\
import json, os, urllib.error, urllib.request

def post(url, body, headers):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json", **headers})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status

for n in range(3):
    question = f"question {n + 1}"
    try:
        post(os.environ["ANTHROPIC_BASE_URL"].rstrip("/") + "/v1/messages",
             {"model": "claude-sonnet-4-6", "max_tokens": 16,
              "messages": [{"role": "user", "content": question}]},
             {"x-api-key": os.environ["ANTHROPIC_API_KEY"], "anthropic-version": "2023-06-01"})
        print(question, "answered by anthropic")
    except OSError as exc:  # URLError and HTTPError included
        post(os.environ["OPENAI_BASE_URL"].rstrip("/") + "/chat/completions",
             {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}]},
             {"authorization": "Bearer " + os.environ["OPENAI_API_KEY"]})
        print(question, "answered by openai after", type(exc).__name__)
"""

MATRIX = re.compile(
    r"^(?P<profile>\S+)\s+(?P<outcome>\w+)\s+(?P<exit>\S+)\s+(?P<calls>\d+)\s+(?P<failed>\d+)"
    r"\s+(?P<failovers>\d+)\s+(?P<fired>\d+)/(?P<declared>\d+)\s+\S+s$",
    re.M,
)


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One gate run of the failover app under provider-down and flaky-once, with reports."""
    tmp = tmp_path_factory.mktemp("gate")
    (tmp / "flaky.yaml").write_text(FLAKY)
    command = script(tmp, "failover.py", FAILOVER)
    proc = llm_chaos(
        "run", "-p", "provider-down", "-p", "flaky.yaml", "--report", "out", "--junit",
        "junit-extra.xml", "--", *command, cwd=tmp,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout, tmp


def test_every_count_agrees_across_the_matrix_gate_json_gate_md_junit_and_coverage(gate):
    printed, tmp = gate
    out = tmp / "out"
    runs = {run["profile"]: run for run in json.loads((out / "gate.json").read_text())["runs"]}
    assert list(runs) == ["provider-down", "flaky-once"]
    matrix = {m["profile"]: m for m in MATRIX.finditer(printed)}
    assert list(matrix) == list(runs)
    markdown = (out / "gate.md").read_text()
    junit = ET.fromstring((out / "junit.xml").read_bytes())
    assert (tmp / "junit-extra.xml").read_bytes() == (out / "junit.xml").read_bytes()
    cases = {case.get("name"): case for case in junit.iter("testcase")}
    assert list(cases) == list(runs)
    failovers_seen = 0
    for name, run in runs.items():
        # the journal, read again by the verdict, gives the numbers every file shows
        records = [
            JournalRecord.from_dict(r)
            for r in json.loads((out / f"journal-{name}.json").read_text())
        ]
        verdict = Verdict(records)
        calls = len(verdict.calls)
        failed = sum(not c.succeeded for c in verdict.calls)
        failovers = sum(any(a.attribution == "failover" for a in c.attempts) for c in verdict.calls)
        failovers_seen += failovers
        attempts = Counter(a.attribution for a in verdict.attempts)
        assert (run["calls"], run["failed_calls"], run["failovers"]) == (calls, failed, failovers)
        assert (run["sdk_retries"], run["app_retries"]) == (
            attempts["sdk_retry"],
            attempts["app_retry"],
        )
        assert run["requests"] == len(records)
        assert run["faults_fired"] == sum(1 for n in run["fired"].values() if n)
        assert run["faults_declared"] == len(run["fired"])
        row = matrix[name]
        assert (int(row["calls"]), int(row["failed"]), int(row["failovers"])) == (
            calls,
            failed,
            failovers,
        )
        assert (int(row["fired"]), int(row["declared"])) == (
            run["faults_fired"],
            run["faults_declared"],
        )
        assert (
            f"| {name} | {run['outcome']} | 0 | {calls} | {failed} | {failovers} "
            f"| {attempts['sdk_retry']} | {attempts['app_retry']} "
            f"| {run['faults_fired']}/{run['faults_declared']} |"
        ) in markdown
        said = cases[name].find("system-out").text or ""
        assert said.startswith(
            f"passed in {run['duration_s']:.1f}s: {calls} calls, {failed} failed, "
            f"{failovers} failovers, {run['faults_fired']}/{run['faults_declared']} faults fired"
        )
    assert failovers_seen  # flaky-once: a 529 from Claude, answered by OpenAI

    # the coverage report counts faulted attempts and network firings of the same runs
    coverage = json.loads((out / "coverage.json").read_text())
    totals = coverage["totals"]
    faulted, journaled = 0, set()
    for name in runs:
        records = [
            JournalRecord.from_dict(r)
            for r in json.loads((out / f"journal-{name}.json").read_text())
        ]
        faulted += sum(r.rule is not None for r in records)
        journaled |= {r.rule for r in records if r.rule is not None}
    followed = sum(n for k, n in totals.items() if k not in ("network", "not_fired"))
    assert followed == faulted
    down = "anthropic-down/0-network"
    network_firings = runs["provider-down"]["fired"][down]
    assert network_firings > 0
    # a network fault the journal cannot show is counted from the harness's firings
    expected = 0 if down in journaled else network_firings
    assert totals.get("network", 0) == expected
    unfired = sum(run["faults_declared"] - run["faults_fired"] for run in runs.values())
    assert totals.get("not_fired", 0) == unfired
    coverage_md = (out / "coverage.md").read_text()
    assert "No fault was declared" not in coverage_md
    if expected:
        assert f"1 network fault(s) fired ({network_firings}×)" in coverage_md
    if totals.get("failover"):
        assert f"{totals['failover']} failover" in coverage_md


def test_the_provider_down_timeline_shows_claude_down_and_the_users_answered(gate):
    _, tmp = gate
    root = read(tmp / "out" / "timeline-provider-down.svg")
    lanes = [g.get("data-target") for g in groups(root, "lane")]
    assert lanes == ["anthropic", "openai"]
    (down,) = groups(root, "network-fault")
    assert down.get("data-target") == "anthropic"
    shown = visible_text(root)
    assert "network down" in shown
    assert "network down on anthropic" in shown[1]  # the caption says it too
    assert any(text.endswith(" anthropic-down") for text in shown)  # the phase, in full
    ticks = tick_labels(root)
    assert len(set(ticks)) == len(ticks) > 2, ticks
    assert all(re.fullmatch(r"\d+(\.\d+)?(s|ms|µs)", t) for t in ticks), ticks
    saw = Counter(g.get("data-saw") for g in groups(root, "user-outcome"))
    assert saw == {"answered": 3}
    caption = shown[1]
    runs = {r["profile"]: r for r in json.loads((tmp / "out" / "gate.json").read_text())["runs"]}
    run = runs["provider-down"]
    # the connections Claude's outage turned away are attempts too, linked to OpenAI's answers
    assert run["requests"] > 3
    assert f"{run['requests']} requests in 3 calls" in caption
    assert len(groups(root, "failover-link")) == run["failovers"] == 3


def test_the_flaky_timeline_links_the_failed_claude_attempt_to_openai(gate):
    _, tmp = gate
    root = read(tmp / "out" / "timeline-flaky-once.svg")
    (link,) = groups(root, "failover-link")
    requests = {int(g.get("data-seq")): g.get("data-outcome") for g in groups(root, "request")}
    assert requests[int(link.get("data-from"))] == "http_5xx"
    assert requests[int(link.get("data-to"))] == "ok"
    assert "1 failed over" in visible_text(root)[1]
