"""The docker backend against the real daemon, with the local stand-in image.

``.ci/docker`` starts dockerd and builds ``llm-chaos/toxiproxy-standin:latest``.
Without them these tests skip with the reason; with env ``CI`` set they fail
instead, so CI really runs them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from chaos._errors import BackendUnavailable
from chaos.toxiproxy import start_backend
from chaos.toxiproxy._backends import docker as backend_docker
from chaos.toxiproxy._backends.docker import (
    LABEL,
    OWNER_LABEL,
    STANDIN_IMAGE,
    daemon_url,
    sweep_leftovers,
)
from tests.toxiproxy._echo import echo_server, roundtrip

pytestmark = pytest.mark.docker


def _unusable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set, so the docker tests must run: see .ci/docker)")
    pytest.skip(f"{reason}; run .ci/docker to start dockerd and build the stand-in image")


@pytest.fixture(scope="module")
def docker_client():
    try:
        client = backend_docker._connect(30)
    except BackendUnavailable as exc:
        _unusable(str(exc))
    if not backend_docker._image_present(client, STANDIN_IMAGE):
        client.close()
        _unusable(f"the image {STANDIN_IMAGE} is missing")
    yield client
    client.close()


DOCKER_CLI = shutil.which("docker") or "docker"  # resolved before tests empty PATH


def our_containers() -> list[str]:
    """Names of every container with our label, as ``docker ps -a`` lists them."""
    out = subprocess.run(
        [DOCKER_CLI, "ps", "-a", "--filter", f"label={LABEL}", "--format", "{{.Names}}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return out.split()


def container_name(reason: str) -> str:
    return reason.rpartition("container ")[2].rstrip(")")


@pytest.fixture
def no_toxiproxy_env(monkeypatch, tmp_path):
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no toxiproxy-server


def test_docker_backend_end_to_end(docker_client):
    with echo_server() as echo:
        with start_backend("docker", image=STANDIN_IMAGE) as backend:
            assert backend.info.name == "docker"
            name = container_name(backend.info.reason)
            assert name in our_containers()
            container = docker_client.containers.get(name)
            assert container.labels[LABEL] == "docker"
            assert container.labels[OWNER_LABEL].endswith(f":{os.getpid()}")

            assert backend.client.version()
            # Host networking: the container's proxy reaches the host's echo server,
            # and the test reaches the proxy at the address the API reports.
            proxy = backend.client.create_proxy("through-docker", upstream=echo.address)
            assert roundtrip(proxy.listen, b"across the container")[0] == b"across the container"

            backend.client.add_toxic("through-docker", "latency", attributes={"latency": 300})
            data, elapsed = roundtrip(proxy.listen, b"slow")
            assert data == b"slow"
            assert elapsed >= 0.28
        assert name not in our_containers()


def test_auto_picks_docker_when_the_daemon_answers_and_the_image_is_local(
    docker_client, no_toxiproxy_env
):
    with start_backend("auto", image=STANDIN_IMAGE) as backend:
        assert backend.info.name == "docker"
        assert backend.info.reason.startswith(
            "auto: no --toxiproxy-url and no TOXIPROXY_URL, no toxiproxy-server on PATH, "
            f"Docker daemon at {daemon_url()} with image {STANDIN_IMAGE} → docker"
        )
        name = container_name(backend.info.reason)
        assert backend.client.proxies() == {}
    assert name not in our_containers()


def test_auto_never_pulls_a_missing_image(docker_client, no_toxiproxy_env):
    missing = "llm-chaos/not-built-here:0"
    with start_backend("auto", image=missing) as backend:
        assert backend.info.name == "embedded"
        assert f"Docker image {missing} not present locally (auto never pulls)" in (
            backend.info.reason
        )
    with pytest.raises(docker_errors().ImageNotFound):
        docker_client.images.get(missing)


def docker_errors():
    import docker.errors

    return docker.errors


def test_container_that_exits_reports_its_output(docker_client, monkeypatch):
    monkeypatch.setattr(
        backend_docker,
        "_command",
        lambda config, port, seed: ["python3", "-c", "raise SystemExit('bad start')"],
    )
    with pytest.raises(BackendUnavailable) as err:
        start_backend("docker", image=STANDIN_IMAGE)
    assert "before answering" in str(err.value)
    assert "bad start" in str(err.value)
    mine = f"llm-chaos-toxiproxy-{os.getpid()}-"
    assert [n for n in our_containers() if n.startswith(mine)] == []


def test_sweep_removes_only_containers_whose_owner_is_gone(docker_client):
    import socket

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    host = socket.gethostname()
    made = {}
    for owner in (f"{host}:{dead}", f"{host}:{os.getpid()}", f"elsewhere:{dead}"):
        container = docker_client.containers.run(
            STANDIN_IMAGE,
            ["sleep", "120"],
            detach=True,
            labels={LABEL: "docker", OWNER_LABEL: owner},
            name=f"llm-chaos-sweep-test-{os.getpid()}-{len(made)}",
        )
        made[owner] = container.name
    try:
        removed = sweep_leftovers(docker_client)
        assert made[f"{host}:{dead}"] in removed
        left = our_containers()
        assert made[f"{host}:{dead}"] not in left
        assert made[f"{host}:{os.getpid()}"] in left  # a live run's container
        assert made[f"elsewhere:{dead}"] in left  # another host's: not ours to judge
    finally:
        for name in made.values():
            try:
                docker_client.containers.get(name).remove(force=True)
            except docker_errors().NotFound:
                pass
    assert not set(made.values()) & set(our_containers())
