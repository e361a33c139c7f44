"""``llm-chaos demo``: the README's main job, run for real (harnesses, example apps, SDKs)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from chaos.cli.demo import APPS, find_app

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

OUTAGE = ("elevated-errors", "login-failures", "methods-failing", "overload-waves.1",
          "overload-waves.2", "overload-waves.3")  # fmt: skip


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("LLM_CHAOS_", "TOXIPROXY"))}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """One run of ``llm-chaos demo --seed 1 --out OUT`` (about 15 s on an idle machine)."""
    cwd = tmp_path_factory.mktemp("demo")
    proc = subprocess.run(
        [sys.executable, "-m", "chaos", "demo", "--seed", "1", "--out", "out"],
        cwd=cwd,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    return proc, cwd / "out"


@pytest.mark.timeout(300)
def test_the_demo_tells_the_story(demo):
    proc, _ = demo
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert proc.stderr == ""  # the apps' warnings stay off the screen
    assert "llm-chaos demo: Claude outage of 2 March 2026" in out
    assert "seed 1" in out
    # progress: one line per app and phase, as the replay goes
    assert "  login-failures" in out
    assert "resilient app  " in out
    assert "naive app  " in out
    table = out[out.index("  phase ") :]
    header = table.splitlines()[0]
    assert "resilient app" in header
    assert "naive app" in header
    assert "Why the resilient app survived:" in out
    assert "Why the naive app did not survive:" in out
    assert "It never tried another provider: no request reached OpenAI." in out
    assert "reports written to out/" in out


@pytest.mark.timeout(300)
def test_the_progress_lines_come_in_incident_order(demo):
    proc, _ = demo
    assert proc.returncode == 0, proc.stdout + proc.stderr
    phases = ["elevated-errors", "login-failures", "methods-failing", "overload-waves.1",
              "overload-waves.2", "overload-waves.3", "partial-recovery", "recovered"]  # fmt: skip
    progress = [
        (phases.index(m[1]), int(m[2]) * 60 + int(m[3]), m[4])
        for line in proc.stdout.splitlines()
        if (m := re.match(r"  (\S+)\s+\+(\d+)h(\d\d)m  (resilient app|naive app)  ", line))
    ]
    assert {app for _, _, app in progress} == {"resilient app", "naive app"}
    # phase by phase, and within a phase by the incident time of each app's first answer
    # (two apps in one minute keep their finer order: compare phase and minute only)
    times = [(phase, minute) for phase, minute, _ in progress]
    assert times == sorted(times), "\n".join(map(str, progress))
    # each app's lines name its phases once each, in order
    for app in ("resilient app", "naive app"):
        mine = [phase for phase, _, name in progress if name == app]
        assert mine == sorted(set(mine))


@pytest.mark.timeout(300)
def test_the_demo_numbers_and_reports(demo):
    proc, out = demo
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads((out / "demo.json").read_text())
    assert data["profile"] == "claude-2026-03-02"
    assert data["seed"] == 1
    apps = {app["app"]: app for app in data["apps"]}
    assert set(apps) == {"resilient_app", "naive_app"}

    resilient, naive = apps["resilient_app"], apps["naive_app"]
    assert resilient["questions"] >= 20
    assert resilient["answered"] == resilient["questions"]  # it survived
    assert resilient["failovers"] > 0
    assert resilient["targets"]["openai"]["failovers_to"] > 0
    assert resilient["attempts"].get("sdk_retry", 0) == 0  # its SDK retries are off
    answered_by_openai = [a for a in resilient["answers"] if a["provider"] == "openai"]
    assert {a["phase"] for a in answered_by_openai} & set(OUTAGE)
    assert resilient["circuit_opened"] >= 1

    assert naive["failed"] > 0  # it did not
    errors = [a for a in naive["answers"] if a["provider"] == "error"]
    # while Claude was failing (an error can land early in partial-recovery: a naive
    # question takes seconds), never once it had recovered
    assert {a["phase"] for a in errors} & set(OUTAGE)
    assert "recovered" not in {a["phase"] for a in errors}
    assert all(a["error"].split(":")[0].endswith("Error") for a in errors)
    assert naive["targets"]["openai"]["attempts"] == 0
    assert naive["attempts"]["sdk_retry"] > 0
    assert naive["why"][-1].startswith(("It answered nothing during", "It never tried"))

    for app in ("resilient_app", "naive_app"):
        svg = out / f"timeline-{app}.svg"
        root = ET.parse(svg).getroot()
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        text = svg.read_text()
        for phase in ("elevated-errors", "methods-failing", "recovered"):
            assert phase in text
        journal = json.loads((out / f"journal-{app}.json").read_text())
        assert len(journal) == apps[app]["requests"]
    coverage = json.loads((out / "coverage.json").read_text())
    outcomes = {row["outcome"] for row in coverage["rows"]}
    assert "failover" in outcomes
    assert "failed" in outcomes
    markdown = (out / "demo.md").read_text()
    assert "| phase | incident | resilient app | naive app |" in markdown
    assert "![timeline](timeline-naive_app.svg)" in markdown


def _row(out: str, title: str) -> list[str]:
    """The two cells (resilient, naive) of a row of the printed comparison."""
    line = next(line for line in out.splitlines() if line.startswith(f"  {title}  "))
    return [cell.strip() for cell in re.split(r"\s{2,}", line.strip())[1:]]


@pytest.mark.timeout(300)
def test_every_count_agrees_across_the_summary_demo_json_and_coverage(demo):
    proc, out = demo
    assert proc.returncode == 0, proc.stdout + proc.stderr
    printed = proc.stdout
    apps = list(json.loads((out / "demo.json").read_text())["apps"])
    assert [app["app"] for app in apps] == ["resilient_app", "naive_app"]
    counts = [app["counts"] for app in apps]
    for app, c in zip(apps, counts, strict=True):
        answers = app["answers"]
        # each question has one route, and the routes add up
        assert c["questions"] == len(answers) == sum(c["routes"].values())
        assert Counter(a["route"] for a in answers) == {k: v for k, v in c["routes"].items() if v}
        by_openai = [a for a in answers if a["provider"] == "openai"]
        assert (
            c["by_openai"]
            == len(by_openai)
            == c["routes"]["failover"] + c["routes"]["circuit_open"]
        )
        # a failover tried Claude for that question; a question with the circuit open did not
        for a in by_openai:
            assert (a["claude_requests"] > 0) == (a["route"] == "failover"), a
        assert c["answered"] == c["routes"]["claude"] + c["by_openai"] == app["answered"]
        assert c["routes"]["error"] == app["failed"]
        assert c["claude_requests"] + c["openai_requests"] == app["requests"]
        assert c["claude_requests"] == app["targets"]["anthropic"]["attempts"]
        # the phase cells add up to the totals
        phases = app["phases"].values()
        assert sum(p["asked"] for p in phases) == c["questions"]
        assert sum(p["by"].get("openai", 0) for p in phases) == c["by_openai"]

    # the printed comparison shows those same numbers
    assert _row(printed, "answered") == [f"{c['answered']}/{c['questions']}" for c in counts]
    resilient, naive = counts
    assert naive["by_openai"] == 0  # it has no fallback
    assert _row(printed, "answered by OpenAI") == [
        f"{resilient['by_openai']} ({resilient['routes']['failover']} failed over, "
        f"{resilient['routes']['circuit_open']} circuit open)",
        "0",
    ]
    assert _row(printed, "errors shown to users") == [str(c["routes"]["error"]) for c in counts]
    assert _row(printed, "SDK retries") == [str(c["sdk_retries"]) for c in counts]
    assert _row(printed, "app retries") == [str(c["app_retries"]) for c in counts]
    assert _row(printed, "requests to Claude / OpenAI") == [
        f"{c['claude_requests']} / {c['openai_requests']}" for c in counts
    ]
    assert _row(printed, "circuit breaker")[0] == (
        f"opened {resilient['circuit_opened']}×, "
        f"skipped Claude {resilient['routes']['circuit_open']}×"
    )
    reasons = [line.strip()[2:] for line in printed.splitlines() if line.startswith("  - ")]
    assert f"It answered all {resilient['questions']} questions: " in printed
    assert f"OpenAI answered {resilient['by_openai']}" in printed
    # demo.md and demo.json give the same reasons, word for word
    assert reasons == [line for app in apps for line in app["why"]]
    markdown = (out / "demo.md").read_text()
    assert all(f"- {line}" in markdown for line in reasons)

    # coverage counts faulted attempts (not questions): the demo says so, with its number
    coverage = json.loads((out / "coverage.json").read_text())
    faulted_failovers = coverage["totals"].get("failover", 0)
    assert faulted_failovers == sum(c["faulted_failovers"] for c in counts)
    coverage_md = (out / "coverage.md").read_text()
    assert f"{faulted_failovers} failover" in coverage_md
    if resilient["routes"]["failover"]:
        assert f"(failover; {resilient['faulted_failovers']} faulted Claude attempt(s)" in printed
    # the demo's coverage does not call the faults its apps never send a failure
    assert "proved nothing" not in coverage_md
    assert "still waiting" not in printed  # an empty cell says what it means


def test_the_example_apps_are_found_where_the_package_is():
    for app in APPS:
        folder = find_app(app.name)
        assert (folder / app.name / "__init__.py").is_file()


def test_missing_sdks_say_which_pip_command_to_run(tmp_path):
    # an anthropic package that cannot be imported, first on the path
    (tmp_path / "anthropic").mkdir()
    (tmp_path / "anthropic" / "__init__.py").write_text("raise ImportError('not here')\n")
    env = _env() | {"PYTHONPATH": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "chaos", "demo", "--out", str(tmp_path / "out")],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    assert "anthropic is not installed here" in proc.stderr
    assert f"{sys.executable} -m pip install 'pytest-llm-chaos[demo]'" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_the_timelines_tell_the_story_without_hovering(demo):
    from tests.report._svg import groups, read, tick_labels, visible_text

    proc, out = demo
    assert proc.returncode == 0, proc.stdout + proc.stderr
    apps = {app["app"]: app for app in json.loads((out / "demo.json").read_text())["apps"]}
    for name, app in apps.items():
        root = read(out / f"timeline-{name}.svg")
        shown = visible_text(root)
        # every phase is named in full where a reader sees it, the three waves apart
        for phase in (*OUTAGE, "partial-recovery", "recovered"):
            assert any(text.endswith(f" {phase}") for text in shown), (name, phase)
        assert not any("…" in text for text in shown)
        ticks = tick_labels(root)
        assert len(set(ticks)) == len(ticks) > 2, ticks
        # one arrow per failover attempt the verdict saw, from a failed Claude attempt to OpenAI
        links = groups(root, "failover-link")
        assert len(links) == app["attempts"].get("failover", 0), name
        outcome = {int(g.get("data-seq")): g.get("data-outcome") for g in groups(root, "request")}
        lane_of = {
            int(r.get("data-seq")): lane.get("data-target")
            for lane in groups(root, "lane")
            for r in lane
            if r.get("class") == "request"
        }
        for link in links:
            assert outcome[int(link.get("data-from"))] != "ok"
            assert lane_of[int(link.get("data-from"))] == "anthropic"
            assert lane_of[int(link.get("data-to"))] == "openai"
        # what the users got: one mark per question, the errors they saw among them
        saw = Counter(g.get("data-saw") for g in groups(root, "user-outcome"))
        assert sum(saw.values()) == app["questions"]
        assert saw["error"] == app["failed"]
        assert saw["degraded"] == app["degraded"]
        assert saw["answered"] == app["answered"]
        # the network fault of methods-failing is drawn on Claude's lane
        (net,) = groups(root, "network-fault")
        assert net.get("data-target") == "anthropic"
    resilient, naive = apps["resilient_app"], apps["naive_app"]
    assert resilient["attempts"].get("failover", 0) > 0  # the story: failovers, drawn
    assert naive["failed"] > 0  # the naive app's users saw errors, and the chart marks them
    assert groups(read(out / "timeline-naive_app.svg"), "failover-link") == []
