"""``llm-chaos run``: exit codes, the matrix, and JUnit XML / JSON that agree with it."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.gate._util import llm_chaos, script


def _junit_cases(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    assert root.tag == "testsuites"
    return {case.get("name"): case for case in root.iter("testcase")}


@pytest.mark.slow
def test_a_passing_and_a_failing_profile(tmp_path, profiles, client):
    report = tmp_path / "reports"
    junit = tmp_path / "ci" / "junit.xml"
    proc = llm_chaos(
        "run",
        "--profile", str(profiles["flaky"]),
        "--profile", str(profiles["down"]),
        "--report", str(report),
        "--junit", str(junit),
        "--seed", "7",
        "--", *client,
        cwd=tmp_path,
    )  # fmt: skip

    assert proc.returncode == 1, proc.stdout + proc.stderr
    out = proc.stdout
    assert "Traceback" not in out + proc.stderr
    # progress while it runs, then the command's own output, then the matrix
    assert "[1/2] flaky-once: harness up" in out
    assert "answered 200 after 2 attempt(s)" in out
    assert "[2/2] always-500: running" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1].isalpha()}
    assert rows["flaky-once"][1:6] == ["passed", "0", "1", "0", "0"]
    assert rows["always-500"][1:3] == ["failed", "1"]
    assert rows["flaky-once"][6] == "1/1"
    assert rows["always-500"][6] == "1/1"
    assert "1 of 2 profile(s) passed; the gate FAILED" in out
    assert "always-500: the command exited with status 1" in out

    gate = json.loads((report / "gate.json").read_text())
    assert gate["passed"] is False
    assert gate["exit_code"] == 1
    runs = {run["profile"]: run for run in gate["runs"]}
    assert runs["flaky-once"]["outcome"] == "passed"
    assert runs["flaky-once"]["requests"] == 2
    assert runs["flaky-once"]["fired"] == {"wobble/0-error": 1}
    assert runs["flaky-once"]["app_retries"] == 1
    assert runs["flaky-once"]["seed"] == 7
    assert runs["always-500"]["outcome"] == "failed"
    assert runs["always-500"]["exit_status"] == 1
    assert runs["always-500"]["failed_calls"] == 1

    for path in (junit, report / "junit.xml"):
        cases = _junit_cases(path)
        assert set(cases) == {"flaky-once", "always-500"}
        assert cases["flaky-once"].find("failure") is None
        failure = cases["always-500"].find("failure")
        assert failure is not None
        assert failure.get("message") == runs["always-500"]["reason"]
        assert failure.get("type") == "failed"
        assert "500" in (failure.text or "")  # the calls, as the verdict reads them
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None
    assert suite.get("tests") == "2"
    assert suite.get("failures") == "1"

    markdown = (report / "gate.md").read_text()
    assert "| always-500 | failed | 1 |" in markdown
    svg = ET.parse(report / "timeline-always-500.svg").getroot()
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert "broken" in (report / "timeline-always-500.svg").read_text()  # the phase is drawn
    coverage = json.loads((report / "coverage.json").read_text())
    assert coverage["rows"], coverage
    journal = json.loads((report / "journal-flaky-once.json").read_text())
    assert [r["status"] for r in journal] == [529, 200]
    assert all(r["request_headers"].get("x-api-key", "") != "sk-ant-chaos" for r in journal)


@pytest.mark.slow
def test_every_profile_passing_exits_0_and_the_command_sees_the_harness(tmp_path, profiles):
    seen = tmp_path / "env.json"
    command = script(
        tmp_path,
        "env.py",
        f"""
        import json, os, urllib.request
        names = ["ANTHROPIC_BASE_URL", "OPENAI_BASE_URL", "LLM_CHAOS_ADMIN_URL",
                 "LLM_CHAOS_GATE_PROFILE", "LLM_CHAOS_GATE_SEED",
                 "LLM_CHAOS_PROFILE", "LLM_CHAOS_SEED"]
        env = {{n: os.environ.get(n) for n in names}}
        with urllib.request.urlopen(env["LLM_CHAOS_ADMIN_URL"] + "/journal") as resp:
            env["admin"] = resp.status
        with open({str(seen)!r}, "w") as f:
            json.dump(env, f)
        """,
    )
    proc = llm_chaos(
        "run", "-p", str(profiles["flaky"]), "--no-strict", "--seed", "3", "--", *command,
        cwd=tmp_path,
    )  # fmt: skip

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 of 1 profile(s) passed" in proc.stdout
    env = json.loads(seen.read_text())
    assert env["ANTHROPIC_BASE_URL"].startswith("http://127.0.0.1:")
    assert env["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")  # failover stays offline
    assert env["LLM_CHAOS_GATE_PROFILE"] == str(profiles["flaky"])
    assert env["LLM_CHAOS_GATE_SEED"] == "3"
    # the pytest plugin's own options stay unset: a suite under the gate does not
    # replay the profile a second time on a harness of its own
    assert (env["LLM_CHAOS_PROFILE"], env["LLM_CHAOS_SEED"]) == (None, None)
    assert env["admin"] == 200


@pytest.mark.slow
def test_faults_that_never_fired_are_inconclusive(tmp_path, profiles):
    quiet = [sys.executable, "-c", "print('sent nothing')"]
    proc = llm_chaos("run", "-p", str(profiles["down"]), "--", *quiet, cwd=tmp_path)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "sent nothing" in proc.stdout
    assert "inconclusive" in proc.stdout
    assert "1 declared fault(s) never fired (0 request(s) reached the harness): broken/0-error" in (
        proc.stdout
    )

    relaxed = llm_chaos(
        "run", "-p", str(profiles["down"]), "--no-strict", "--", *quiet, cwd=tmp_path
    )
    assert relaxed.returncode == 0, relaxed.stdout + relaxed.stderr


@pytest.mark.slow
def test_a_command_killed_by_a_signal_is_reported_with_it(tmp_path, profiles):
    crash = [sys.executable, "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"]
    junit = tmp_path / "junit.xml"
    proc = llm_chaos(
        "run", "-p", str(profiles["down"]), "--junit", str(junit), "--", *crash, cwd=tmp_path
    )

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "the command was killed by SIGKILL (exit status 137)" in proc.stdout
    row = next(line for line in proc.stdout.splitlines() if line.startswith("always-500 "))
    assert row.split()[1:4] == ["crashed", "137", "(SIGKILL)"]
    error = _junit_cases(junit)["always-500"].find("error")
    assert error is not None
    assert error.get("type") == "crashed"
    assert "SIGKILL" in (error.get("message") or "")


@pytest.mark.slow
def test_a_command_that_is_not_found(tmp_path, profiles):
    proc = llm_chaos(
        "run", "-p", str(profiles["down"]), "--", "no-such-command-llm-chaos", "--flag",
        cwd=tmp_path,
    )  # fmt: skip

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "command not found: no-such-command-llm-chaos (exit status 127)" in proc.stdout
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.slow
def test_an_unknown_profile_exits_2_with_the_choices(tmp_path):
    proc = llm_chaos("run", "-p", "claude-2026-03-03", "--", "true", cwd=tmp_path)

    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    err = proc.stderr.strip()
    assert err.startswith("llm-chaos: error: no profile named 'claude-2026-03-03'")
    assert "provider-down" in err  # the valid choices
    assert "did you mean 'claude-2026-03-02'?" in err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-p", "provider-down"], "no command to run"),
        (["-p", "provider-down", "--"], "no command to run"),
        (["--", "true"], "no profile"),
        (["-p", "provider-down", "--timeout", "-3", "--", "true"], "positive number of seconds"),
        (["-p", "provider-down", "--backend", "podman", "--", "true"], "invalid choice: 'podman'"),
        (["-p", "provider-down", "--bogus", "--", "true"], "unrecognized arguments: --bogus"),
        (["--profle", "provider-down", "--", "true"], "--profle (did you mean '--profile'?)"),
        (["-p", "provider-down", "--target", "oops", "--", "true"], "expected NAME=DIALECT"),
        (["-p", "provider-down", "--target", "x=klingon", "--", "true"], "klingon"),
        (
            ["-p", "provider-down", "--target", "x=antropic", "--", "true"],
            "'antropic'; valid: anthropic, gemini, openai; did you mean 'anthropic'?",
        ),
    ],
)
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    proc = llm_chaos("run", *args, cwd=tmp_path)

    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr


FAILOVER_APP = """
import anthropic, openai
claude = anthropic.Anthropic(max_retries=2, timeout=5)
gpt = openai.OpenAI(max_retries=0, timeout=5)
try:
    claude.messages.create(model="claude-sonnet-4-6", max_tokens=16,
                           messages=[{"role": "user", "content": "hi"}])
    print("claude answered")
except anthropic.APIConnectionError:
    gpt.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    print("failed over to gpt")
"""


@pytest.mark.slow
def test_provider_down_over_an_app_that_sends_nothing_is_inconclusive(tmp_path):
    proc = llm_chaos("run", "--profile", "provider-down", "--", "true", cwd=tmp_path)

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "inconclusive" in proc.stdout
    assert "never fired (0 request(s) reached the harness): anthropic-down/0-network" in (
        proc.stdout
    )


@pytest.mark.slow
def test_provider_down_counts_the_failovers_of_an_app_that_fails_over(tmp_path):
    report = tmp_path / "reports"
    app = script(tmp_path, "failover.py", FAILOVER_APP)
    proc = llm_chaos(
        "run", "--profile", "provider-down", "--report", str(report), "--", *app, cwd=tmp_path
    )

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "failed over to gpt" in proc.stdout
    rows = {
        line.split()[0]: line.split() for line in proc.stdout.splitlines() if line[:1].isalpha()
    }
    # profile, outcome, exit, calls, failed, failovers, faults
    assert rows["provider-down"][1:3] == ["passed", "0"]
    assert rows["provider-down"][5:7] == ["1", "1/1"]
    [run] = json.loads((report / "gate.json").read_text())["runs"]
    assert run["failovers"] == 1
    assert run["fired"] == {"anthropic-down/0-network": 3}  # the SDK's 3 attempts
    assert run["requests"] == 4  # 3 refused, 1 answered by openai


@pytest.mark.slow
def test_a_toxiproxy_that_reports_nothing_is_named_in_the_run_header(tmp_path):
    from chaos.toxiproxy import serve_in_thread

    with serve_in_thread() as other:  # stands in for a real toxiproxy-server
        proc = llm_chaos(
            "run", "--profile", "provider-down", "--backend", "external",
            "--toxiproxy-url", other.url, "--", "true", cwd=tmp_path,
        )  # fmt: skip

    assert "provider-down: harness up (external Toxiproxy" in proc.stdout, proc.stdout
    assert "note: a real Toxiproxy passes a gateway reset (wire: reset) on as a clean close" in (
        proc.stdout
    )
    # it cannot tell whether an attempt met the outage: applied counts as fired
    assert "a network fault counts as fired when applied" in proc.stdout
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.slow
def test_a_naive_app_asking_four_times_is_four_calls_in_the_matrix_and_json(tmp_path):
    # the official SDK with its default 2 retries and nothing else, asking the same
    # question four times under the built-in storm (9 failed attempts, then recovery)
    pytest.importorskip("anthropic")
    naive = script(
        tmp_path,
        "naive.py",
        """\
        import anthropic
        client = anthropic.Anthropic(timeout=10)
        for n in range(4):
            try:
                client.messages.create(model="claude-sonnet-4-6", max_tokens=64,
                    messages=[{"role": "user", "content": "Is it up?"}])
                print(n, "answered")
            except anthropic.APIStatusError as exc:
                print(n, "error", exc.status_code)
        """,
    )
    report = tmp_path / "reports"
    proc = llm_chaos(
        "run", "--profile", "http-500-storm", "--report", str(report), "--", *naive, cwd=tmp_path
    )

    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 answered" in proc.stdout
    rows = {
        line.split()[0]: line.split() for line in proc.stdout.splitlines() if line[:1].isalpha()
    }
    assert rows["http-500-storm"][3:6] == ["4", "3", "0"]  # calls, failed, failovers
    (run,) = json.loads((report / "gate.json").read_text())["runs"]
    assert (run["calls"], run["failed_calls"], run["app_retries"], run["sdk_retries"]) == (
        4,
        3,
        0,
        6,
    )
