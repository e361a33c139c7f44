"""``llm-chaos serve`` stopped by SIGINT, SIGTERM or SIGKILL, and ``llm-chaos run``
interrupted, leave no process, port or proxy; serve's listeners are all on loopback."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.reliability._proc import (
    MARK_VAR,
    eventually,
    leftovers_of,
    listeners,
    marked_processes,
)

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _clean_env(mark: str, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LLM_CHAOS_", "ANTHROPIC_", "OPENAI_", "GEMINI_", "TOXIPROXY_URL"))
    }
    env.update({MARK_VAR: mark, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT), **extra})
    return env


def _read_line(proc: subprocess.Popen[str], timeout: float = 60) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            pytest.fail(f"no line from {proc.args} within {timeout} s")
    return proc.stdout.readline()


@pytest.fixture
def external() -> Iterator[str]:
    from chaos.toxiproxy import serve_in_thread

    with serve_in_thread() as server:
        yield server.url


@pytest.fixture
def fake_binary(tmp_path: Path) -> Path:
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "toxiproxy-server"
    script.write_text(f'#!/bin/sh\nexec {sys.executable} -m chaos.toxiproxy "$@"\n')
    script.chmod(0o755)
    return folder


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=str)
@pytest.mark.parametrize("backend", ["embedded", "binary", "external"])
def test_serve_stopped_by_a_signal_leaves_nothing(
    backend: str, sig: signal.Signals, external: str, fake_binary: Path
) -> None:
    mark = uuid.uuid4().hex
    extra = {"PATH": f"{fake_binary}:{os.environ['PATH']}"}
    if backend == "external":
        extra["TOXIPROXY_URL"] = external
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaos", "serve", "--backend", backend],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env(mark, **extra),
    )
    try:
        ready = json.loads(_read_line(proc))
        # every socket serve listens on (gateway, admin, proxies, an embedded API) is loopback
        # (an embedded Toxiproxy is in serve, a binary one in its child, an external one here)
        own = [s for pid, _ in marked_processes(mark) for s in listeners(pid)]
        wanted = len(ready["targets"]) + 1 + (0 if backend == "external" else 1 + 2)
        assert len(own) >= wanted, own
        assert {s.host for s in own} == {"127.0.0.1"}, own
        base = ready["env"]["OPENAI_BASE_URL"]
        answer = httpx.post(
            f"{base}/chat/completions",
            json={"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]},
            headers={"authorization": "Bearer k"},
            timeout=10,
        )
        assert answer.status_code == 200
        if backend == "external":
            assert httpx.get(f"{external}/proxies", timeout=5).json()
        proc.send_signal(sig)
        proc.wait(timeout=30)
        stderr = proc.stderr.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
        proc.stderr.close()  # type: ignore[union-attr]
    if sig != signal.SIGKILL:
        assert proc.returncode == 0, stderr
        assert "Traceback" not in stderr, stderr
    assert not eventually(lambda: marked_processes(mark)), "a child outlived serve"
    urls = [*ready["targets"].values(), ready["admin"]]
    assert not eventually(lambda: leftovers_of(urls))
    if backend == "external":
        assert eventually(lambda: httpx.get(f"{external}/proxies", timeout=5).json()) == {}


BLOCKER = """
import os, pathlib, signal, sys, time
# quiet on the SIGINT llm-chaos run forwards, installed before we say we started
signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
pathlib.Path(sys.argv[1]).write_text(os.environ["ANTHROPIC_BASE_URL"])
time.sleep(120)
"""


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=str)
def test_run_interrupted_ends_its_command_and_the_harness(
    tmp_path: Path, sig: signal.Signals
) -> None:
    mark = uuid.uuid4().hex
    started = tmp_path / "started"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chaos",
            "run",
            "--backend",
            "embedded",
            "-p",
            "provider-down",
            "--",
            sys.executable,
            "-c",
            BLOCKER,
            str(started),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=_clean_env(mark),
    )
    try:
        deadline = time.monotonic() + 60
        while not started.exists():
            assert proc.poll() is None, proc.stdout.read()  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the command never started"
            time.sleep(0.05)
        endpoint = started.read_text()
        proc.send_signal(sig)
        proc.wait(timeout=60)
        output = proc.stdout.read()  # type: ignore[union-attr]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
    if sig != signal.SIGKILL:
        assert proc.returncode == 130, output
        assert "Traceback" not in output, output
    # the command runs in its own session: a SIGKILLed gate's watchdog ends its group
    assert not eventually(lambda: marked_processes(mark)), output
    assert not eventually(lambda: leftovers_of([endpoint]))
