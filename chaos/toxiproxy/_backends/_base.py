"""The backend contract and registry: how a Toxiproxy is obtained, by name.

A backend module declares ``class Xxx(Backend): name = "xxx"``; the base's
``__init_subclass__`` registers it in :data:`BACKENDS`, so adding a backend is
one new module in this package (imported by the package ``__init__``).
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType, TracebackType
from typing import ClassVar, Self

from chaos._errors import BackendUnavailable, ToxiproxyError
from chaos.toxiproxy._client import ToxiproxyClient
from chaos.toxiproxy._events import EventHub

__all__ = [
    "BACKENDS",
    "Backend",
    "BackendInfo",
    "BackendOptions",
    "RunningBackend",
    "free_port",
    "wait_ready",
]

_BACKENDS: dict[str, type[Backend]] = {}
BACKENDS: Mapping[str, type[Backend]] = MappingProxyType(_BACKENDS)
"""Every registered backend class, by the name ``--chaos-backend`` takes."""


@dataclass(frozen=True, slots=True)
class BackendInfo:
    """Which Toxiproxy backend is in use, why, and where its API is.

    :param name: the concrete backend: ``embedded``, ``binary``, ``docker`` or ``external``.
    :param reason: one line for the run header, e.g.
        ``auto: no TOXIPROXY_URL, no toxiproxy-server on PATH, ... → embedded``.
    :param url: the Toxiproxy API's base URL.
    """

    name: str
    reason: str
    url: str

    @property
    def caveat(self) -> str | None:
        """What this Toxiproxy cannot do that the embedded one does (for run headers);
        None for the embedded one."""
        if self.name == "embedded":
            return None
        return (
            "a real Toxiproxy passes a gateway reset (wire: reset) on as a clean close (FIN) "
            "and reports nothing per connection: attempts a network fault stops are not "
            "in the journal, and a network fault counts as fired when applied"
        )


@dataclass(frozen=True, slots=True)
class BackendOptions:
    """What :func:`start_backend` passes to a backend.

    :param url: the external Toxiproxy's URL (``external``, and ``auto`` before the env).
    :param seed: seed for the server's toxic randomness, when it supports one.
    :param image: Docker image reference (``docker``), ``None`` for the default.
    """

    url: str | None = None
    seed: int | None = None
    image: str | None = None


class RunningBackend:
    """A Toxiproxy that is up, with a client for it; stop it with :meth:`stop`.

    Also a context manager that stops it on exit. Returned by :func:`start_backend`;
    exposed for typing.

    :param info: which backend, why, and its URL.
    :param stopper: releases what the backend started (idempotence is handled here).
    """

    def __init__(self, info: BackendInfo, stopper: Callable[[], None]) -> None:
        self.info = info
        """Which backend, why, and its URL."""
        self.client = ToxiproxyClient(info.url)
        """A client for this backend's API."""
        self.events: EventHub | None = None
        """What happened to each connection (the embedded server reports it in process);
        None for a Toxiproxy that reports nothing per connection."""
        self._stopper: Callable[[], None] | None = stopper

    @property
    def url(self) -> str:
        """The Toxiproxy API's base URL."""
        return self.info.url

    @property
    def running(self) -> bool:
        """``False`` once :meth:`stop` was called."""
        return self._stopper is not None

    def stop(self) -> None:
        """Stop what the backend started (a process, a container, a thread); idempotent.

        An ``external`` Toxiproxy is left running: it is not ours.
        """
        stopper, self._stopper = self._stopper, None
        if stopper is not None:
            stopper()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<RunningBackend {self.info.name} {self.info.url} {state}>"


class Backend:
    """Base of every backend; subclasses register under their ``name``."""

    name: ClassVar[str]
    """The name ``--chaos-backend`` takes."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("name")
        if name is None:
            return
        if name in _BACKENDS:
            raise TypeError(
                f"Toxiproxy backend {name!r} is already registered by {_BACKENDS[name]}"
            )
        _BACKENDS[name] = cls

    def unavailable(self, options: BackendOptions) -> str | None:
        """Why this backend cannot be used here, or ``None`` when it can.

        Cheap and side-effect free: ``auto`` calls it to choose.
        """
        raise NotImplementedError

    def available_because(self, options: BackendOptions) -> str:
        """Why ``auto`` could choose this backend, for the reason line ("" when obvious)."""
        return ""

    def start(self, options: BackendOptions, reason: str) -> RunningBackend:
        """Start (or connect to) a Toxiproxy and wait until its API answers.

        :param reason: why this backend was chosen, for :class:`BackendInfo`.
        :raises BackendUnavailable: with the cause and what to do about it.
        """
        raise NotImplementedError


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free on ``host`` a moment ago (for a server we start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def wait_ready(
    client: ToxiproxyClient, timeout: float, still_alive: Callable[[], str | None] | None = None
) -> str:
    """Wait (bounded) until ``client``'s API answers; return its version.

    :param still_alive: returns why the server is gone (e.g. "exited with 1: <log>")
        or ``None``; checked between attempts so a crashed server fails at once.
    :raises BackendUnavailable: when the server died or did not answer in time.
    """
    try:
        return client.wait_ready(timeout, give_up=still_alive)
    except ToxiproxyError as exc:
        raise BackendUnavailable(exc.message) from None
