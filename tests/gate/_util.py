"""Helpers for the gate's tests: profiles, a small client, ``llm-chaos`` run as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

# one request a second can fail: the first one gets a 529, a retry gets through
FLAKY = """\
version: 1
name: flaky-once
title: The first request is overloaded
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

DOWN = """\
version: 1
name: always-500
title: Every request fails with 500
source: generic
clock: requests
targets:
  anthropic: {dialect: anthropic}
phases:
  - name: broken
    at: 0
    faults:
      - {target: anthropic, error: server_error}
"""

# a client in any language would do; this one is stdlib Python so it starts fast
CLIENT = """\
import json, os, sys, urllib.error, urllib.request
base = os.environ["ANTHROPIC_BASE_URL"]
body = json.dumps({"model": "claude-sonnet-4-6", "max_tokens": 16,
                   "messages": [{"role": "user", "content": "hi"}]}).encode()
for attempt in range(3):
    req = urllib.request.Request(base + "/v1/messages", data=body, method="POST", headers={
        "content-type": "application/json", "x-api-key": os.environ["ANTHROPIC_API_KEY"],
        "anthropic-version": "2023-06-01"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            print("answered", resp.status, "after", attempt + 1, "attempt(s)")
            sys.exit(0)
    except urllib.error.HTTPError as exc:
        print("attempt", attempt + 1, "got", exc.code)
print("no answer")
sys.exit(1)
"""


def llm_chaos(*args: str, cwd: Path, timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run ``python -m chaos ARGS`` (the ``llm-chaos`` entry point) and capture its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLM_CHAOS_")}
    env.pop("TOXIPROXY_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "chaos", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def script(tmp_path: Path, name: str, body: str) -> list[str]:
    """A Python script written to ``tmp_path``, as a command."""
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return [sys.executable, str(path)]
