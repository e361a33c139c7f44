"""``llm-chaos run`` with a compressed wall-clock replay and a command that takes seconds
to start: incident time starts at its first request, so the replay is not over before."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

# starts slowly (3 s, as pytest with a big conftest would), then keeps calling Claude
# (plain, streaming, count_tokens) and OpenAI for the replay's length (12 s); an app that
# copes: every failure is caught
SLOW_APP = """\
import os, threading, time
import anthropic, openai

time.sleep(3.0)
claude = anthropic.Anthropic(max_retries=0, timeout=5.0)
gpt = openai.OpenAI(max_retries=0, timeout=5.0)
MESSAGES = [{"role": "user", "content": "hi"}]
deadline = time.monotonic() + 15.0

def plain(model):
    claude.messages.create(model=model, max_tokens=16, messages=MESSAGES)

def stream(model):
    with claude.messages.stream(model=model, max_tokens=16, messages=MESSAGES) as s:
        for _ in s.text_stream:
            pass

def count(model):
    claude.messages.count_tokens(model=model, messages=MESSAGES)

def chat(model):
    gpt.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)

def loop(call, model):
    while time.monotonic() < deadline:
        try:
            call(model)
        except (anthropic.APIError, openai.APIError):
            pass

calls = [(plain, "claude-opus-4-1"), (plain, "claude-sonnet-4-6"), (plain, "claude-opus-4-1"),
         (stream, "claude-opus-4-1"), (count, "claude-sonnet-4-6"), (chat, None)]
threads = [threading.Thread(target=loop, args=call) for call in calls]
for t in threads:
    t.start()
for t in threads:
    t.join()
print("done")
"""


def test_a_slow_starting_command_is_not_inconclusive_under_a_compressed_replay(
    tmp_path: Path,
) -> None:
    app = tmp_path / "slow_app.py"
    app.write_text(textwrap.dedent(SLOW_APP))
    # the incident at 20 incident minutes per second (12 s, not 4): at 3600 the 1 s
    # methods-failing phase, under its 800 +- 400 ms latency, may see no count_tokens call
    # when the machine is loaded (two xdist workers), and the test is about the start
    profile = tmp_path / "claude-slower.yaml"
    profile.write_text(
        "version: 1\nname: claude-slower\nextends: claude-2026-03-02\ntime_scale: 1200\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLM_CHAOS_")}
    env.pop("TOXIPROXY_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "chaos", "run", "--profile", str(profile),
         "--backend", "embedded", "--timeout", "60", "--report", str(tmp_path / "reports"),
         "--", sys.executable, str(app)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "1 of 1 profile(s) passed" in out
    [run] = json.loads((tmp_path / "reports" / "gate.json").read_text())["runs"]
    assert run["outcome"] == "passed"
    assert run["phases_seen"][0] == "elevated-errors"
    assert run["phases_seen"][-1] == "recovered"
    assert run["silent_faults"] == []
    assert run["faults_fired"] == run["faults_declared"]
    assert run["duration_s"] >= 3.0 + 12.0  # start-up, then the 12 s replay
