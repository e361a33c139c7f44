"""``llm-chaos serve`` works unchanged for other languages: the official Node SDKs and
the Vercel AI SDK, configured by the printed environment alone, talk to the harness."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.harness.test_serve import _ready_line

pytestmark = pytest.mark.slow

# ai-fallback (major 2 is for the AI SDK v6) is for tests/verdict/test_node_apps.py
PACKAGES = (
    "@anthropic-ai/sdk",
    "openai",
    "ai",
    "@ai-sdk/anthropic",
    "@ai-sdk/openai",
    "ai-fallback@2",
)
SERVE = (sys.executable, "-m", "chaos", "serve", "--backend", "embedded")
SCRIPT = Path(__file__).with_name("node") / "clients.mjs"


def install_node_clients(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the Node clients installed from npm, once per run (shared by every
    module that runs Node apps); skips when node or npm is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are needed to run the Node SDKs (apt-get install nodejs npm)")
    folder = tmp_path_factory.getbasetemp() / "node-clients"
    if (folder / "node_modules" / ".package-lock.json").exists():
        return folder
    folder.mkdir(exist_ok=True)
    (folder / "package.json").write_text('{"private": true, "type": "module"}')
    done = subprocess.run(
        [npm, "install", "--no-audit", "--no-fund", "--loglevel=error", *PACKAGES],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"npm install failed:\n{done.stderr}"
    return folder


@pytest.fixture(scope="module")
def node_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the Node clients installed from npm and the clients script."""
    folder = install_node_clients(tmp_path_factory)
    shutil.copy(SCRIPT, folder / SCRIPT.name)
    return folder


@contextmanager
def serving(*args: str) -> Iterator[dict]:
    """``llm-chaos serve`` (embedded Toxiproxy) with ``args``: yields its ready line."""
    proc = subprocess.Popen(
        [*SERVE, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield json.loads(_ready_line(proc))
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]


@pytest.fixture
def served() -> Iterator[dict]:
    with serving("--target", "anthropic=anthropic", "--target", "openai=openai") as ready:
        yield ready


def test_node_sdks_and_the_vercel_ai_sdk_with_the_printed_env_alone(
    node_project: Path, served: dict
) -> None:
    assert served["unset"] == ["ANTHROPIC_AUTH_TOKEN"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    env.update(served["env"])  # only what serve printed
    done = subprocess.run(
        ["node", SCRIPT.name],
        cwd=node_project,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert results == {
        name: {"ok": True, "text": "Echo: hi"}
        for name in ("@anthropic-ai/sdk", "openai", "@ai-sdk/anthropic", "@ai-sdk/openai")
    }
    records = httpx.get(f"{served['admin']}/journal").json()["records"]
    seen = sorted((r["target"], r["path"].split("?")[0], r["status"]) for r in records)
    assert seen == [
        ("anthropic", "/messages", 200),  # @ai-sdk/anthropic: ANTHROPIC_BASE_URL is its /v1
        ("anthropic", "/v1/messages", 200),
        ("openai", "/v1/chat/completions", 200),
        ("openai", "/v1/responses", 200),  # @ai-sdk/openai speaks the Responses API
    ]
