"""A pytest suite that uses the ``chaos`` fixture, run under ``llm-chaos run``: the fixture
drives the gate's harness (one replay of the gate's profile; the suite's requests and
injected faults in the gate's journal), not a harness of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

GATE_PROFILE = """\
version: 1
name: gate-once
title: The first Claude request is overloaded
source: generic
clock: requests
targets:
  anthropic: {dialect: anthropic}
phases:
  - name: wobble
    at: 0
    faults:
      - {target: anthropic, error: overloaded, first: 1}
"""

SUITE = """\
import anthropic
import openai
import pytest

MESSAGES = [{"role": "user", "content": "hi"}]


def test_the_fixture_is_the_gates_harness(chaos):
    assert chaos.harness.backend.name.startswith("gate")
    claude = anthropic.Anthropic(max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as info:  # the gate's profile: 529
        claude.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=MESSAGES)
    assert info.value.status_code == 529
    assert claude.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=MESSAGES)
    assert [(r.rule, r.status) for r in chaos.journal] == [("wobble/0-error", 529), (None, 200)]
    assert chaos.fired() == {}  # the gate's faults are the gate's to judge


def test_injected_faults_go_over_the_gates_profile(chaos):
    fault = chaos.inject("openai", error="server_error", first=1, name="mine")
    gpt = openai.OpenAI(max_retries=0)
    with pytest.raises(openai.InternalServerError):
        gpt.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert gpt.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert fault.name == "mine"
    assert [(r.target, r.rule) for r in chaos.journal] == [("openai", "mine"), ("openai", None)]
    assert chaos.fired() == {"mine": 1}


@pytest.mark.chaos(profile="http-500-storm")
def test_a_profile_of_its_own_is_skipped_under_the_gate(chaos):
    raise AssertionError("not run under the gate")


def test_after_a_test_its_faults_are_gone(chaos):
    gpt = openai.OpenAI(max_retries=0)
    assert gpt.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert [r.rule for r in chaos.journal] == [None]


def test_a_scripted_reply_is_the_gates_fakes_answer(chaos):
    chaos.reply("openai", text="scripted by the suite")
    gpt = openai.OpenAI(max_retries=0)
    answer = gpt.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert answer.choices[0].message.content == "scripted by the suite"
"""


def test_the_chaos_fixture_uses_the_gates_harness(tmp_path: Path) -> None:
    (tmp_path / "gate-once.yaml").write_text(GATE_PROFILE)
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_suite.py").write_text(textwrap.dedent(SUITE))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "LLM_CHAOS_"))}
    env.pop("TOXIPROXY_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "run", "--profile", str(tmp_path / "gate-once.yaml"),
         "--backend", "embedded", "--timeout", "120", "--report", str(tmp_path / "reports"),
         "--", sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider",
         "-p", "no:randomly", "-rs", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "4 passed, 1 skipped" in out
    assert "whose harness replays profile" in out  # the skip says why
    [run] = json.loads((tmp_path / "reports" / "gate.json").read_text())["runs"]
    assert run["outcome"] == "passed"
    assert run["fired"] == {"wobble/0-error": 1, "mine": 1}  # one replay, the suite's fault too
    journal = json.loads((tmp_path / "reports" / "journal-gate-once.json").read_text())
    records = journal["records"] if isinstance(journal, dict) else journal
    assert [(r["target"], r["status"]) for r in records] == [
        ("anthropic", 529),
        ("anthropic", 200),
        ("openai", 500),
        ("openai", 200),
        ("openai", 200),
        ("openai", 200),
    ]


BUILTIN_SUITE = """\
import pytest


@pytest.mark.chaos(profile="http-500-storm")
def test_own_profile(chaos):
    raise AssertionError("not run under the gate")


def test_fails(chaos):
    raise AssertionError("boom")
"""


def test_messages_name_a_builtin_gate_profile_not_its_install_path(tmp_path: Path) -> None:
    from chaos.profiles import builtin_dir

    (tmp_path / "test_suite.py").write_text(BUILTIN_SUITE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "LLM_CHAOS_"))}
    env.pop("TOXIPROXY_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "run", "--profile", "provider-down",
         "--backend", "embedded", "--timeout", "120",
         "--", sys.executable, "-m", "pytest", "test_suite.py", "-p", "no:cacheprovider",
         "-p", "no:randomly", "-rs", "-q"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 1, out  # test_fails fails
    assert "1 failed, 1 skipped" in out
    assert "whose harness replays profile 'provider-down'" in out
    assert "profile provider-down (llm-chaos run's)" in out
    assert str(builtin_dir()) not in out
    assert "provider-down.yaml" not in out
