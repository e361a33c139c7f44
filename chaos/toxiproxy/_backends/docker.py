"""``docker``: Toxiproxy in a container, driven with the ``docker`` SDK.

Networking: the container runs with **host networking** and its API bound to
``127.0.0.1:<free port>``. That is what works both ways without rewriting
addresses: proxies created with ``listen: 127.0.0.1:0`` are reachable by the app
at the address the API reports, and upstreams on ``127.0.0.1`` (the fault
gateway) are reachable from the proxies. Published ports cannot work here:
proxies are created after the container starts, so their ports cannot be
published in advance, and a host service bound to loopback is not reachable
through ``host-gateway``. Host networking needs a Linux daemon (or Docker
Desktop with host networking enabled).

Every container carries the label ``llm-chaos.backend=docker`` and its owner
(``llm-chaos.owner=<hostname>:<pid>``). It is removed on stop; if the process dies
without stopping it (SIGKILL, ``os._exit``), a watchdog process
(``chaos.common._reaper``) removes it; one left anyway (owner on this host, process
gone) is swept when the next docker backend starts, or with :func:`sweep_leftovers`.

``auto`` picks docker only when a daemon answers and the image is present
locally: no registry is reachable from CI machines, so auto never pulls.
"""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from typing import Any

from chaos._errors import BackendUnavailable
from chaos.common._reaper import Reaper
from chaos.toxiproxy._backends._base import (
    Backend,
    BackendInfo,
    BackendOptions,
    RunningBackend,
    free_port,
    wait_ready,
)
from chaos.toxiproxy._client import ToxiproxyClient

__all__ = [
    "DEFAULT_IMAGE",
    "LABEL",
    "STANDIN_IMAGE",
    "DockerBackend",
    "daemon_url",
    "sweep_leftovers",
]

DEFAULT_IMAGE = "ghcr.io/shopify/toxiproxy:2.12.0"
"""Shopify's image, used when no image is given."""

STANDIN_IMAGE = "llm-chaos/toxiproxy-standin:latest"
"""The local stand-in that ``.ci/docker`` builds (Debian + python3 + the embedded server)."""

LABEL = "llm-chaos.backend"
"""Label key on every container this backend starts (value ``docker``)."""

OWNER_LABEL = "llm-chaos.owner"
READY_TIMEOUT = 30.0
_PING_TIMEOUT = 3
_API_TIMEOUT = 60
_LOG_TAIL = 2000


def daemon_url() -> str:
    """Where the Docker SDK looks for the daemon (``DOCKER_HOST`` or the default socket)."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def _connect(timeout: int) -> Any:
    """A Docker client that answered a ping.

    :raises BackendUnavailable: when the SDK is missing or the daemon does not answer.
    """
    try:
        import docker
    except ImportError:
        raise BackendUnavailable(
            "the docker SDK is not installed: pip install 'pytest-llm-chaos[docker]', "
            "or use --chaos-backend embedded"
        ) from None
    unreachable = _unix_socket_unreachable(daemon_url())
    if unreachable:
        raise BackendUnavailable(
            f"Docker daemon not reachable at {daemon_url()}: start dockerd "
            f"or use --chaos-backend embedded ({unreachable})"
        )
    client = None
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # the SDK raises DockerException, requests' and OSError alike
        if client is not None:
            client.close()
        raise BackendUnavailable(
            f"Docker daemon not reachable at {daemon_url()}: start dockerd "
            f"or use --chaos-backend embedded ({type(exc).__name__}: {_first_line(exc)})"
        ) from None
    return client


def _unix_socket_unreachable(url: str) -> str | None:
    """Why a ``unix://`` daemon socket cannot be connected to, or ``None``.

    Checked before the SDK touches it: docker-py leaks the socket of a failed
    unix connect (a ResourceWarning, an error under ``-W error``).
    """
    if not url.startswith("unix://"):
        return None
    path = url.removeprefix("unix://")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(_PING_TIMEOUT)
        try:
            sock.connect(path)
        except OSError as exc:
            return f"{type(exc).__name__}: {exc.strerror or exc}"
    return None


def _image_present(client: Any, image: str) -> bool:
    import docker.errors

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_leftovers(client: Any = None) -> list[str]:
    """Remove containers of ours whose owning process (on this host) is gone.

    Containers of live runs, other hosts' runs and anything without our label
    are left alone.

    :param client: a Docker SDK client; one is connected when ``None``.
    :returns: the names of the containers removed.
    """
    client = client or _connect(_PING_TIMEOUT)
    host = socket.gethostname()
    removed: list[str] = []
    for container in client.containers.list(all=True, filters={"label": f"{LABEL}=docker"}):
        owner_host, _, pid = str(container.labels.get(OWNER_LABEL, "")).rpartition(":")
        if owner_host != host or not pid.isdigit() or _pid_alive(int(pid)):
            continue
        with contextlib.suppress(Exception):  # already being removed by someone else
            container.remove(force=True)
            removed.append(container.name)
    return removed


def _command(image_config: dict[str, Any], port: int, seed: int | None) -> list[str]:
    """The image's own command with our listen flags appended (the last flag wins).

    Works for Shopify's image (entrypoint ``/toxiproxy``, cmd ``-host=0.0.0.0``) and
    for the stand-in (no entrypoint, cmd ``python3 -m chaos.toxiproxy ...``).
    """
    command = list(image_config.get("Cmd") or [])
    command += ["-host", "127.0.0.1", "-port", str(port)]
    if seed is not None:
        command += ["-seed", str(seed)]
    return command


class DockerBackend(Backend):
    """Toxiproxy in a labelled container with host networking, removed on stop."""

    name = "docker"

    def unavailable(self, options: BackendOptions) -> str | None:
        image = options.image or DEFAULT_IMAGE
        try:
            client = _connect(_PING_TIMEOUT)
        except BackendUnavailable:
            return f"Docker daemon not answering at {daemon_url()}"
        try:
            if not _image_present(client, image):
                return f"Docker image {image} not present locally (auto never pulls)"
        finally:
            client.close()
        return None

    def available_because(self, options: BackendOptions) -> str:
        return f"Docker daemon at {daemon_url()} with image {options.image or DEFAULT_IMAGE}"

    def start(self, options: BackendOptions, reason: str) -> RunningBackend:
        import docker.errors

        image = options.image or DEFAULT_IMAGE
        client = _connect(_API_TIMEOUT)
        try:
            sweep_leftovers(client)
            if not _image_present(client, image):
                _pull(client, image)
            image_config = client.images.get(image).attrs.get("Config") or {}
            port = free_port()
            name = f"llm-chaos-toxiproxy-{os.getpid()}-{uuid.uuid4().hex[:8]}"
            try:
                container = client.containers.run(
                    image,
                    _command(image_config, port, options.seed),
                    name=name,
                    detach=True,
                    network_mode="host",
                    labels={LABEL: "docker", OWNER_LABEL: _owner()},
                )
            except docker.errors.DockerException as exc:
                raise BackendUnavailable(
                    f"cannot start a container from {image}: {_first_line(exc)}"
                ) from None
        except BaseException:
            client.close()
            raise
        # should this process die without stopping us, a watchdog removes the container
        reaper = Reaper()
        reaper.watch(kind="container", daemon=daemon_url(), name=name)

        def exited() -> str | None:
            try:
                container.reload()
            except docker.errors.NotFound:
                return f"container {name} disappeared before answering"
            if container.status in ("created", "running"):
                return None
            logs = container.logs().decode("utf-8", "replace").strip()[-_LOG_TAIL:]
            return (
                f"container {name} ({image}) is {container.status} before answering; "
                f"its output:\n{logs or '(no output)'}"
            )

        def stop() -> None:
            try:
                with contextlib.suppress(docker.errors.NotFound):
                    container.remove(force=True)
                reaper.release()
            finally:
                client.close()

        url = ToxiproxyClient(f"http://127.0.0.1:{port}").url
        info = BackendInfo(self.name, f"{reason} (image {image}, container {name})", url)
        running = RunningBackend(info, stop)
        try:
            wait_ready(running.client, READY_TIMEOUT, still_alive=exited)
        except BaseException:
            running.stop()
            raise
        return running


def _pull(client: Any, image: str) -> None:
    """Pull ``image`` (explicit ``docker`` backend only; ``auto`` never gets here)."""
    import docker.errors

    try:
        client.images.pull(image)
    except docker.errors.DockerException as exc:
        raise BackendUnavailable(
            f"Docker image {image} is not present locally and pulling it failed "
            f"({_first_line(exc)}): pull or build it first (.ci/docker builds the stand-in "
            f"{STANDIN_IMAGE}), pass that image, or use --chaos-backend embedded"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
