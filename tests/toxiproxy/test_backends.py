"""Backend selection and the embedded, external and binary backends, for real.

The binary backend runs a real child process: a ``toxiproxy-server`` executable
on PATH that is a small script running ``python3 -m chaos.toxiproxy`` with the
same flags as Shopify's server.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from chaos._errors import BackendUnavailable, ConfigError, ToxiproxyError
from chaos.toxiproxy import BACKENDS, BackendInfo, ToxiproxyClient, serve_in_thread, start_backend
from chaos.toxiproxy._backends import Backend
from chaos.toxiproxy._backends._base import BackendOptions
from chaos.toxiproxy._backends.auto import choose
from tests.toxiproxy._echo import echo_server, pid_alive, pids_with_arg, roundtrip, wait_until

REPO = Path(__file__).resolve().parents[2]
SLEEP = shutil.which("sleep")
DEAD_DOCKER = "unix:///nonexistent/llm-chaos-test/docker.sock"


@pytest.fixture
def bare_env(monkeypatch, tmp_path):
    """No TOXIPROXY_URL, no toxiproxy-server on PATH, no Docker daemon."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setenv("DOCKER_HOST", DEAD_DOCKER)
    return empty


def fake_toxiproxy_server(bin_dir: Path, body: str | None = None) -> Path:
    """Write an executable ``toxiproxy-server`` into ``bin_dir``."""
    script = bin_dir / "toxiproxy-server"
    body = body or f'exec "{sys.executable}" -m chaos.toxiproxy "$@"'
    script.write_text(f"#!/bin/sh\nexport PYTHONPATH='{REPO}'\n{body}\n")
    script.chmod(0o755)
    return script


def port_of(url: str) -> int:
    return int(url.rpartition(":")[2])


def server_pids(url: str) -> list[int]:
    return pids_with_arg(f"-port {port_of(url)}")


# -- registry and names --------------------------------------------------------------


def test_every_backend_is_registered_by_name():
    assert set(BACKENDS) == {"auto", "binary", "docker", "embedded", "external"}


def test_a_duplicate_backend_name_is_refused():
    with pytest.raises(TypeError, match="already registered"):

        class Again(Backend):
            name = "embedded"


def test_unknown_backend_name_lists_the_choices():
    with pytest.raises(ConfigError) as err:
        start_backend("kubernetes")
    assert "'kubernetes'" in str(err.value)
    assert "auto, binary, docker, embedded, external" in str(err.value)


# -- embedded ------------------------------------------------------------------------


def test_embedded_backend_starts_answers_and_stops():
    with echo_server() as echo, start_backend("embedded", seed=7) as backend:
        assert backend.info == BackendInfo("embedded", "embedded: requested", backend.url)
        proxy = backend.client.create_proxy("e", upstream=echo.address)
        assert roundtrip(proxy.listen, b"hi")[0] == b"hi"
    assert not backend.running
    with pytest.raises(ToxiproxyError):
        ToxiproxyClient(backend.url, timeout=1).version()
    backend.stop()  # idempotent


# -- auto ----------------------------------------------------------------------------


def test_auto_falls_back_to_embedded_and_says_why(bare_env):
    with start_backend("auto") as backend:
        assert backend.info.name == "embedded"
        assert backend.info.reason == (
            "auto: no --toxiproxy-url and no TOXIPROXY_URL, no toxiproxy-server on PATH, "
            f"Docker daemon not answering at {DEAD_DOCKER} → embedded"
        )
        assert backend.client.version()


def test_auto_prefers_toxiproxy_url_from_the_env(bare_env, monkeypatch):
    other = serve_in_thread()
    try:
        monkeypatch.setenv("TOXIPROXY_URL", other.url)
        with start_backend() as backend:
            assert backend.info.name == "external"
            assert backend.info.reason == f"auto: TOXIPROXY_URL={other.url} → external"
            assert backend.url == other.url
            backend.client.create_proxy("ext", upstream="127.0.0.1:9")
        # Stopping an external backend leaves the server (and its proxies) alone.
        assert "ext" in ToxiproxyClient(other.url).proxies()
    finally:
        other.stop()


def test_url_argument_wins_over_the_env(bare_env, monkeypatch):
    monkeypatch.setenv("TOXIPROXY_URL", "http://127.0.0.1:1")
    other = serve_in_thread()
    try:
        name, reason = choose(BackendOptions(url=other.url))
        assert (name, reason) == ("external", f"auto: --toxiproxy-url={other.url} → external")
        with start_backend("external", url=other.url) as backend:
            assert backend.url == other.url
    finally:
        other.stop()


@pytest.mark.slow
def test_external_that_does_not_answer_is_unavailable(bare_env, monkeypatch):
    import socket

    with socket.create_server(("127.0.0.1", 0)) as sock:
        port = sock.getsockname()[1]
    monkeypatch.setenv("TOXIPROXY_URL", f"http://127.0.0.1:{port}")
    # auto does not silently fall through when the user named a server.
    with pytest.raises(BackendUnavailable) as err:
        start_backend("auto")
    message = str(err.value)
    assert f"http://127.0.0.1:{port}" in message
    assert "TOXIPROXY_URL" in message
    assert "--chaos-backend embedded" in message


def test_external_without_any_url_says_how_to_give_one(bare_env):
    with pytest.raises(BackendUnavailable, match="--toxiproxy-url http://HOST:PORT"):
        start_backend("external")


# -- binary --------------------------------------------------------------------------


def test_auto_runs_toxiproxy_server_from_path(bare_env):
    script = fake_toxiproxy_server(bare_env)
    with echo_server() as echo, start_backend("auto") as backend:
        assert backend.info.name == "binary"
        assert backend.info.reason.startswith(
            f"auto: no --toxiproxy-url and no TOXIPROXY_URL, {script} on PATH → binary (pid "
        )
        (pid,) = server_pids(backend.url)
        proxy = backend.client.create_proxy("b", upstream=echo.address)
        assert roundtrip(proxy.listen, b"via binary")[0] == b"via binary"
    assert wait_until(lambda: not pid_alive(pid), timeout=10)
    assert server_pids(backend.url) == []


def test_binary_without_executable_is_unavailable(bare_env):
    with pytest.raises(BackendUnavailable, match="no toxiproxy-server on PATH") as err:
        start_backend("binary")
    assert "--chaos-backend embedded" in str(err.value)


def test_binary_that_exits_at_once_reports_its_output(bare_env):
    fake_toxiproxy_server(bare_env, 'echo "boom: bad flag $1" >&2; exit 3')
    with pytest.raises(BackendUnavailable) as err:
        start_backend("binary")
    message = str(err.value)
    assert "exited with 3" in message
    assert "boom: bad flag -host" in message


def test_binary_that_never_answers_is_killed_with_its_group(bare_env, monkeypatch):
    from chaos.toxiproxy._backends import binary

    monkeypatch.setattr(binary, "READY_TIMEOUT", 1.0)
    # A wrapper that does not exec: the sleeping child must die with the group. Its
    # argument is this run's own, so that another run's sleeper on the machine is not it.
    seconds = f"{300 + uuid.uuid4().int % 10**6 / 10**7:.7f}"
    fake_toxiproxy_server(bare_env, f"{SLEEP} {seconds} & wait")
    with pytest.raises(BackendUnavailable, match="not ready after"):
        start_backend("binary")
    assert wait_until(lambda: pids_with_arg(f"sleep {seconds}") == [], timeout=10)


def test_binary_server_dies_with_its_parent(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_toxiproxy_server(bin_dir)
    parent = textwrap.dedent(
        """
        import sys, time
        from chaos.toxiproxy import start_backend
        backend = start_backend("binary")
        print(backend.url, flush=True)
        time.sleep(300)
        """
    )
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(REPO)}
    env.pop("TOXIPROXY_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-c", parent], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), url
        (pid,) = server_pids(url)
        proc.send_signal(signal.SIGKILL)  # no cleanup code runs in the parent
        proc.wait(10)
        assert wait_until(lambda: not pid_alive(pid), timeout=10), "server outlived its parent"
    finally:
        proc.kill()
        proc.wait(10)
        proc.stdout.close()


# -- docker, without a daemon --------------------------------------------------------


def test_docker_without_a_daemon_says_what_to_do(bare_env):
    with pytest.raises(BackendUnavailable) as err:
        start_backend("docker")
    assert str(err.value).startswith(
        f"Docker daemon not reachable at {DEAD_DOCKER}: start dockerd "
        "or use --chaos-backend embedded"
    )


# -- the package stays lazy ------------------------------------------------------------


def test_importing_the_package_loads_no_client_or_backend_dependency():
    code = (
        "import sys, chaos.toxiproxy as t; "
        "assert {'ToxiproxyClient', 'start_backend', 'BackendInfo'} <= set(t.__all__); "
        "print(sorted(m for m in ('requests', 'docker', 'tenacity', 'toxiproxy') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
        timeout=60,
    ).stdout
    assert out.strip() == "[]"
