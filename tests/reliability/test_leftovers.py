"""Nothing left behind: after a pytest session that passes, fails, is interrupted (SIGINT),
terminated (SIGTERM) or crashes (``os._exit``), no process, listening port, container or
Toxiproxy proxy of the harness remains. Real pytest subprocesses, real backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.reliability._proc import MARK_VAR, eventually, leftovers_of, marked_processes

pytestmark = pytest.mark.sdk

pytest.importorskip("anthropic")

TEST_FILE = """
import json, os, pathlib, time
import anthropic
import pytest

STATE = pathlib.Path(os.environ["RELIABILITY_STATE"])
GO = pathlib.Path(os.environ["RELIABILITY_GO"])

@pytest.mark.chaos(strict=False)  # the openai fault is there to be active, not fired
def test_session(chaos):
    h = chaos.harness
    client = anthropic.Anthropic(max_retries=0, timeout=10)
    client.messages.create(model="claude-sonnet-4-6", max_tokens=8,
                           messages=[{"role": "user", "content": "hi"}])
    chaos.inject("anthropic", network={"toxic": "latency", "latency": 5})
    chaos.inject("openai", error="overloaded", first=1)
    STATE.write_text(json.dumps({
        "pid": os.getpid(),
        "endpoints": h.endpoints,
        "gateway": h.gateway_urls,
        "admin": h.admin_url,
        "toxiproxy": h.backend.url,
        "backend": h.backend.name,
        "reason": h.backend.reason,
        "proxies": sorted(h.toxiproxy.proxies()),
    }))
    mode = os.environ["RELIABILITY_MODE"]
    if mode == "fail":
        assert False, "this chaos test fails on purpose"
    if mode == "crash":
        os._exit(1)
    if mode == "block":
        deadline = time.monotonic() + 120
        while not GO.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
"""

MODES = {
    "pass": None,
    "fail": None,
    "sigint": signal.SIGINT,
    "sigterm": signal.SIGTERM,
    "crash": None,
    "sigkill": signal.SIGKILL,
}


@dataclass
class Session:
    """One finished inner pytest session and what it recorded while running."""

    returncode: int
    output: str
    state: dict
    mark: str


def run_session(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    env: dict[str, str],
    *,
    args: tuple[str, ...] = (),
) -> Session:
    """Run the inner session in ``mode``; signal it once its chaos test is running."""
    pytester.makepyfile(test_inner=TEST_FILE)
    mark = uuid.uuid4().hex
    state, go = pytester.path / "state.json", pytester.path / "go"
    for var in list(os.environ):
        if var.startswith(("LLM_CHAOS_", "ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_")):
            monkeypatch.delenv(var)
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    for var, value in {
        MARK_VAR: mark,
        "RELIABILITY_STATE": str(state),
        "RELIABILITY_GO": str(go),
        "RELIABILITY_MODE": "block" if MODES[mode] else mode,
        "LLM_CHAOS_BACKEND": "embedded",
        **env,
    }.items():
        monkeypatch.setenv(var, value)
    log = pytester.path / "pytest.log"
    with open(log, "wb") as out:
        proc = pytester.popen(
            [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *args],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            if MODES[mode] is not None:
                deadline = time.monotonic() + 90
                while not state.exists() and proc.poll() is None:
                    assert time.monotonic() < deadline, "the chaos test never started"
                    time.sleep(0.05)
                time.sleep(0.2)  # inside the blocking loop, the harness fully up
                proc.send_signal(MODES[mode])
            proc.wait(timeout=90)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    output = log.read_text(errors="replace")
    assert state.exists(), f"the inner session never reached its chaos test:\n{output}"
    return Session(proc.returncode, output, json.loads(state.read_text()), mark)


def assert_nothing_left(session: Session) -> None:
    """No process carrying the session's mark and none of its ports listening."""
    procs = eventually(lambda: marked_processes(session.mark))
    assert not procs, f"processes left behind: {procs}\n{session.output}"
    s = session.state
    urls = [*s["endpoints"].values(), *s["gateway"].values(), s["admin"]]
    if s["backend"] != "external":  # an external Toxiproxy is not ours to stop
        urls.append(s["toxiproxy"])
    left = eventually(lambda: leftovers_of(urls))
    assert not left, f"ports still listening: {left} ({s['reason']})\n{session.output}"


EXPECTED_EXIT = {"pass": 0, "fail": 1, "sigint": 2, "crash": 1}


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["pass", "fail", "sigint", "sigterm", "crash", "sigkill"])
def test_embedded_leaves_nothing(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    session = run_session(pytester, monkeypatch, mode, {})
    assert session.state["backend"] == "embedded"
    if mode in EXPECTED_EXIT:
        assert session.returncode == EXPECTED_EXIT[mode], session.output
    assert_nothing_left(session)


@pytest.fixture
def fake_binary(tmp_path: Path) -> Path:
    """A ``toxiproxy-server`` on PATH that is the embedded server in its own process."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "toxiproxy-server"
    root = Path(__file__).resolve().parents[2]
    script.write_text(
        f'#!/bin/sh\nPYTHONPATH={root} exec {sys.executable} -m chaos.toxiproxy "$@"\n'
    )
    script.chmod(0o755)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["sigint", "sigterm", "crash", "sigkill"])
def test_binary_child_dies_with_the_session(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, fake_binary: Path, mode: str
) -> None:
    env = {"LLM_CHAOS_BACKEND": "binary", "PATH": f"{fake_binary}:{os.environ['PATH']}"}
    session = run_session(pytester, monkeypatch, mode, env)
    assert session.state["backend"] == "binary", session.state
    assert_nothing_left(session)


@pytest.fixture
def external() -> Iterator[str]:
    """An embedded Toxiproxy run by this test process, used as the ``external`` backend."""
    from chaos.toxiproxy import serve_in_thread

    with serve_in_thread() as server:
        yield server.url


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["pass", "fail", "sigint", "sigterm", "crash", "sigkill"])
def test_external_toxiproxy_keeps_no_proxy(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, external: str, mode: str
) -> None:
    env = {"LLM_CHAOS_BACKEND": "external", "TOXIPROXY_URL": external}
    session = run_session(pytester, monkeypatch, mode, env)
    assert session.state["backend"] == "external"
    assert session.state["proxies"], "the session created no proxy: nothing was checked"

    def proxies() -> list[str]:
        return list(httpx.get(f"{external}/proxies", timeout=5).json())

    assert eventually(proxies) == [], session.output
    assert_nothing_left(session)


# -- a docker container dies with its owner -------------------------------------------

DOCKER_SCRIPT = """
import json, os, sys, time
from chaos.toxiproxy import start_backend
from chaos.toxiproxy._backends.docker import STANDIN_IMAGE

backend = start_backend("docker", image=STANDIN_IMAGE)
backend.client.create_proxy("llm-chaos-reliability", "127.0.0.1:9")
print(json.dumps({"reason": backend.info.reason, "url": backend.url}), flush=True)
if sys.argv[1] == "crash":
    os._exit(1)
time.sleep(120)
"""


@pytest.fixture(scope="module")
def docker_ready() -> None:
    from chaos._errors import BackendUnavailable
    from chaos.toxiproxy._backends import docker as backend_docker

    def unusable(reason: str) -> None:
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the docker tests must run: see .ci/docker)")
        pytest.skip(f"{reason}; run .ci/docker to start dockerd and build the stand-in image")

    try:
        client = backend_docker._connect(30)
    except BackendUnavailable as exc:
        unusable(str(exc))
    try:
        if not backend_docker._image_present(client, backend_docker.STANDIN_IMAGE):
            unusable(f"the image {backend_docker.STANDIN_IMAGE} is missing")
    finally:
        client.close()


def _containers(name: str) -> list[str]:
    import docker

    client = docker.from_env(timeout=30)
    try:
        return [c.name for c in client.containers.list(all=True, filters={"name": name})]
    finally:
        client.close()


@pytest.mark.docker
@pytest.mark.usefixtures("docker_ready")
@pytest.mark.parametrize("mode", ["crash", "sigkill", "sigterm"])
def test_docker_container_removed_when_its_owner_dies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str
) -> None:
    mark = uuid.uuid4().hex
    monkeypatch.setenv(MARK_VAR, mark)
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.Popen(
        [sys.executable, "-c", DOCKER_SCRIPT, mode],
        stdout=subprocess.PIPE,
        text=True,
        cwd=root,
    )
    try:
        assert proc.stdout is not None
        ready = json.loads(proc.stdout.readline() or "{}")
        assert ready, "the docker backend did not start"
        name = ready["reason"].rpartition("container ")[2].rstrip(")")
        assert _containers(name) == [name]
        if mode != "crash":
            proc.send_signal(signal.SIGKILL if mode == "sigkill" else signal.SIGTERM)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()  # type: ignore[union-attr]
    assert eventually(lambda: _containers(name), timeout=30) == []
    assert not eventually(lambda: marked_processes(mark)), "the watchdog outlived its work"
    assert not eventually(lambda: leftovers_of([ready["url"]]))
