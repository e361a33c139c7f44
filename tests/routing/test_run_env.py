"""``llm-chaos run`` gives its command the same routing: set, and removed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.gate._util import FLAKY, llm_chaos, script

pytestmark = pytest.mark.slow


def test_the_command_sees_the_routing_and_not_the_second_credential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ANTHROPIC_AUTH_TOKEN", "sk-ant-oat01-REAL-looking-token")
    monkeypatch.setenv("ANTHROPIC_API_URL", "http://127.0.0.1:9")  # LangChain's, stale
    monkeypatch.setenv("OPENAI_API_BASE", "http://127.0.0.1:9/v1")
    (tmp_path / "flaky.yaml").write_text(FLAKY)
    seen = tmp_path / "env.json"
    names = ["ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_API_URL", "ANTHROPIC_BASE_URL", "OPENAI_API_BASE"]
    command = script(
        tmp_path,
        "env.py",
        f"""
        import json, os
        with open({str(seen)!r}, "w") as f:
            json.dump({{n: os.environ.get(n) for n in {names!r}}}, f)
        """,
    )
    proc = llm_chaos(
        "run", "-p", str(tmp_path / "flaky.yaml"), "--no-strict", "--", *command, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    env = json.loads(seen.read_text())
    assert env["ANTHROPIC_AUTH_TOKEN"] is None
    assert env["ANTHROPIC_API_URL"] == env["ANTHROPIC_BASE_URL"]
    assert env["ANTHROPIC_BASE_URL"].startswith("http://127.0.0.1:")
    assert env["ANTHROPIC_BASE_URL"] != "http://127.0.0.1:9"
    assert env["OPENAI_API_BASE"] != "http://127.0.0.1:9/v1"
