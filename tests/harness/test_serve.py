"""``llm-chaos serve`` as a real subprocess: ready line, traffic, admin API, clean SIGTERM."""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import openai
import pytest

pytestmark = pytest.mark.sdk


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((parts.hostname, parts.port)) == 0


def _ready_line(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    sel = selectors.DefaultSelector()
    assert proc.stdout is not None
    sel.register(proc.stdout, selectors.EVENT_READ)
    if not sel.select(timeout):
        proc.kill()
        pytest.fail(f"no ready line within {timeout} s")
    return proc.stdout.readline()


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[str], dict]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chaos",
            "serve",
            "--backend",
            "embedded",
            "--seed",
            "5",
            "--target",
            "openai=openai",
            "--target",
            "backup=openai",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = _ready_line(proc)
        yield proc, json.loads(line)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]


def test_serve_ready_line_traffic_admin_and_sigterm(served) -> None:
    proc, ready = served
    assert set(ready) == {"admin", "targets", "env", "unset"}
    assert set(ready["targets"]) == {"openai", "backup"}
    assert ready["env"]["OPENAI_BASE_URL"] == ready["targets"]["openai"] + "/v1"
    client = openai.OpenAI(base_url=ready["env"]["OPENAI_BASE_URL"], api_key="k", max_retries=0)
    gpt = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    assert client.chat.completions.create(**gpt).choices[0].message.content

    admin = ready["admin"]
    rules = [{"target": "openai", "error": "overloaded", "match": {"stream": False}, "first": 1}]
    put = httpx.put(f"{admin}/rules", json=rules)
    assert put.status_code == 200, put.text
    with pytest.raises(openai.APIStatusError) as info:
        client.chat.completions.create(**gpt)
    assert info.value.status_code == 503  # OpenAI says "overloaded" with a 503
    records = httpx.get(f"{admin}/journal").json()["records"]
    assert [(r["target"], r["status"]) for r in records] == [("openai", 200), ("openai", 503)]
    client.close()

    urls = [admin, *ready["targets"].values()]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=20) == 0
    assert not any(_port_open(u) for u in urls)


@pytest.mark.slow
def test_serve_rejects_a_bad_target() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chaos", "serve", "--target", "nonsense"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "expected NAME=DIALECT" in result.stderr


@pytest.mark.slow
def test_serve_suggests_the_dialect_a_typo_meant() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "chaos", "serve", "--target", "anthropic=antropic"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "unknown dialect 'antropic'" in result.stderr
    assert "did you mean 'anthropic'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_replays_a_profile_with_its_own_seed() -> None:
    # without --seed, the profile's seed decides its probabilistic faults (as under run)
    from chaos.profiles import load_profile

    profile = load_profile("claude-2026-03-02")
    assert profile.seed is not None
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chaos",
            "serve",
            "--backend",
            "embedded",
            "--profile",
            profile.name,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "LLM_CHAOS_SEED"}
        | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        ready = json.loads(_ready_line(proc))
        info = httpx.get(ready["admin"] + "/harness", timeout=10).json()
        assert info["seed"] == profile.seed
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)
            proc.stdout.close()  # type: ignore[union-attr]
            proc.stderr.close()  # type: ignore[union-attr]
