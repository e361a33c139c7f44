"""Faults in the harness's own dependencies: the Toxiproxy backend dies mid-test, the
Docker daemon is not there, a port is taken, a Toxiproxy URL answers something else,
the upstream is down. Each gives one clear error naming the cause and what to do
(a test error through the plugin, never an INTERNALERROR; exit 1 and one message,
no traceback, through the CLI), and the session ends cleanly with nothing left."""

from __future__ import annotations

import http.server
import os
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator

import pytest

from tests.reliability._proc import MARK_VAR, eventually, marked_processes
from tests.reliability.test_cli_leftovers import ROOT, _clean_env

pytestmark = pytest.mark.sdk

pytest.importorskip("anthropic")


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


@pytest.fixture
def not_toxiproxy() -> Iterator[str]:
    """An HTTP server that is not Toxiproxy (404 HTML on every path)."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)
            self.end_headers()
            self.wfile.write(b"<html>not here</html>")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


def _inner_env(monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for var in list(os.environ):
        if var.startswith(("LLM_CHAOS_", "ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_")):
            monkeypatch.delenv(var)
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    mark = uuid.uuid4().hex
    monkeypatch.setenv(MARK_VAR, mark)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    return mark


def _outcome(result: pytest.RunResult, mark: str) -> str:
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output, output
    assert not eventually(lambda: marked_processes(mark)), "something outlived the session"
    return output


USES_CHAOS = """
def test_one(chaos):
    assert chaos.endpoints
"""


@pytest.mark.slow
def test_plugin_docker_daemon_absent(pytester: pytest.Pytester, monkeypatch) -> None:
    mark = _inner_env(
        monkeypatch, LLM_CHAOS_BACKEND="docker", DOCKER_HOST="unix:///nonexistent/docker.sock"
    )
    pytester.makepyfile(USES_CHAOS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    output = _outcome(result, mark)
    assert "Docker daemon not reachable at unix:///nonexistent/docker.sock" in output
    assert "start dockerd or use --chaos-backend embedded" in output


@pytest.mark.slow
def test_plugin_toxiproxy_url_answers_something_else(
    pytester: pytest.Pytester, monkeypatch, not_toxiproxy: str
) -> None:
    mark = _inner_env(monkeypatch, TOXIPROXY_URL=not_toxiproxy)
    pytester.makepyfile(USES_CHAOS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    output = _outcome(result, mark)
    assert f"Toxiproxy at {not_toxiproxy} not ready" in output
    assert "start that Toxiproxy, fix the URL, or use --chaos-backend embedded" in output


@pytest.mark.slow
def test_plugin_admin_port_taken(pytester: pytest.Pytester, monkeypatch, taken_port) -> None:
    mark = _inner_env(monkeypatch, LLM_CHAOS_BACKEND="embedded")
    pytester.makeconftest(
        f"""
        import pytest

        @pytest.fixture(scope="session")
        def chaos_config():
            return {{"admin_port": {taken_port}}}
        """
    )
    pytester.makepyfile(USES_CHAOS + USES_CHAOS.replace("test_one", "test_two"))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=2)  # each chaos test errors; the session goes on
    output = _outcome(result, mark)
    assert f"for the admin API on port {taken_port}" in output
    assert "free that port or choose another one" in output


DIES_MID_TEST = """
import pytest
from chaos import ChaosError
from chaos.toxiproxy import serve_in_thread

SERVER = serve_in_thread()


@pytest.fixture(scope="session")
def chaos_config():
    return {"backend": "external", "toxiproxy_url": SERVER.url}


def test_toxiproxy_dies(chaos):
    chaos.inject("anthropic", network={"toxic": "latency", "latency": 5})
    if "{which}" == "embedded":
        chaos.harness._toxi.stop()  # the in-process server's loop and thread end
    else:
        SERVER.stop()  # the external Toxiproxy goes away
    chaos.inject("openai", network={"toxic": "latency", "latency": 5})


def test_next_test_is_told_too(chaos):
    chaos.inject("openai", network="down")
"""


@pytest.mark.slow
@pytest.mark.parametrize("which", ["embedded", "external"])
def test_plugin_toxiproxy_dies_mid_test(pytester: pytest.Pytester, monkeypatch, which) -> None:
    mark = _inner_env(monkeypatch)
    source = DIES_MID_TEST.replace("{which}", which)
    if which == "embedded":
        source = source.replace(
            'return {"backend": "external", "toxiproxy_url": SERVER.url}',
            'return {"backend": "embedded"}',
        )
    pytester.makepyfile(source)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    output = _outcome(result, mark)
    assert result.ret == 1, output
    # the test that lost Toxiproxy fails, and its teardown (the toxic it cannot remove)
    # errors once; the next test is told too, with no cascade of teardown errors
    result.assert_outcomes(failed=2, errors=1)
    assert "Traceback" not in output.split("short test summary info")[-1]
    assert f"the Toxiproxy in use ({which} at http://127.0.0.1:" in output, output
    assert "stopped answering, so network faults cannot be applied or removed" in output
    todo = "restart that Toxiproxy" if which == "external" else "re-run the tests"
    assert todo in output


def _cli(args: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "chaos", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=_clean_env(uuid.uuid4().hex, **env),
        cwd=ROOT,
    )


@pytest.mark.slow
def test_cli_dependency_failures_are_one_message(taken_port: int, not_toxiproxy: str) -> None:
    cases = {
        "docker absent": (
            ["serve", "--backend", "docker"],
            {"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
            "start dockerd or use --chaos-backend embedded",
        ),
        "admin port taken": (
            ["serve", "--backend", "embedded", "--admin-port", str(taken_port)],
            {},
            "free that port or choose another one",
        ),
        "not a toxiproxy": (
            ["serve", "--backend", "external", "--toxiproxy-url", not_toxiproxy],
            {},
            "start that Toxiproxy, fix the URL, or use --chaos-backend embedded",
        ),
        "run, docker absent": (
            ["run", "--backend", "docker", "-p", "provider-down", "--", sys.executable, "-V"],
            {"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
            "start dockerd or use --chaos-backend embedded",
        ),
    }
    for name, (args, env, hint) in cases.items():
        done = _cli(args, **env)
        assert done.returncode == 1, (name, done.stderr)
        assert "Traceback" not in done.stderr + done.stdout, (name, done.stderr)
        assert hint in done.stderr + done.stdout, (name, done.stderr, done.stdout)


def test_upstream_down_is_a_502_naming_it_and_journaled() -> None:
    import anthropic

    from chaos import Harness, Target

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"  # closed once we leave
    with Harness([Target("anthropic", upstream=closed)], backend="embedded") as h:
        client = anthropic.Anthropic(base_url=h.endpoints["anthropic"], api_key="k", max_retries=0)
        # closed before the harness stops: a pooled connection left to the garbage collector
        # is an unclosed socket, reported as a ResourceWarning in whichever test runs then
        with client, pytest.raises(anthropic.APIStatusError) as caught:
            client.messages.create(
                model="claude-sonnet-4-6", max_tokens=8, messages=[{"role": "user", "content": "x"}]
            )
        assert caught.value.status_code == 502
        assert f"upstream {closed} failed" in caught.value.response.text
        (record,) = h.journal
        assert (record.status, record.outcome) == (502, "upstream_error")
