"""Toxiproxy backends: how a Toxiproxy is obtained, registered by name.

``embedded`` (in-process server), ``binary`` (``toxiproxy-server`` on PATH),
``docker`` (a container), ``external`` (a URL), and ``auto`` which picks the
first of external, binary, docker, embedded that can be had here.
"""

from __future__ import annotations

from chaos._errors import ConfigError
from chaos.toxiproxy._backends import auto, binary, docker, embedded, external
from chaos.toxiproxy._backends._base import (
    BACKENDS,
    Backend,
    BackendInfo,
    BackendOptions,
    RunningBackend,
)

__all__ = [
    "BACKENDS",
    "Backend",
    "BackendInfo",
    "BackendOptions",
    "RunningBackend",
    "start_backend",
]

# Importing them registered them; the names only keep linters quiet.
_MODULES = (auto, binary, docker, embedded, external)


def start_backend(
    name: str = "auto",
    *,
    url: str | None = None,
    seed: int | None = None,
    image: str | None = None,
) -> RunningBackend:
    """Start (or connect to) a Toxiproxy and wait until its API answers.

    Use the result as a context manager, or call its ``stop()``::

        with start_backend("auto") as toxi:
            print(toxi.info.reason)            # which backend, and why
            toxi.client.create_proxy("api", upstream="127.0.0.1:9000")

    :param name: ``auto``, ``embedded``, ``binary``, ``docker`` or ``external``.
    :param url: the external Toxiproxy's URL (else ``TOXIPROXY_URL``); used by
        ``external`` and, when set, chosen first by ``auto``.
    :param seed: seed for the server's toxic randomness (``embedded`` honours it;
        Shopify's server accepts ``-seed`` but ignores it since 2.5).
    :param image: Docker image for ``docker`` (default ``ghcr.io/shopify/toxiproxy:2.12.0``).
    :raises ConfigError: for an unknown backend name.
    :raises BackendUnavailable: with the cause and what to do about it.
    """
    backend = BACKENDS.get(name)
    if backend is None:
        raise ConfigError(
            f"unknown Toxiproxy backend {name!r}; choose one of: {', '.join(sorted(BACKENDS))}"
        )
    options = BackendOptions(url=url, seed=seed, image=image)
    return backend().start(options, f"{name}: requested")
