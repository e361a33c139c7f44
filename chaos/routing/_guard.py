"""The guard: while a chaos test runs, no connection to a provider's API host leaves.

Routing (:mod:`chaos.routing._env`) points every client that reads the environment at
the harness; the guard catches the others (a client built with an explicit URL,
or before the environment was routed). Like pytest-socket, it patches the socket
module: ``socket.getaddrinfo``, ``socket.create_connection`` and
``socket.socket.connect``/``connect_ex``. A name that matches a provider's API host
(:data:`PROVIDER_HOSTS`) is refused before the lookup, so no DNS query and no byte
leaves; the refusal is a :class:`~chaos.HarnessBypassed` (a
``ConnectionRefusedError``) raised in the client, and recorded, so the test fails
even if the app swallowed it.

Other non-loopback connections stay allowed and are recorded (the plugin lists
them); ``sealed`` refuses them too, except the ``allowed`` hosts (the harness's own:
an external Toxiproxy, forwarded upstreams). ``allow_providers`` (the
``--chaos-allow-network`` opt-in) lets provider hosts through.
"""

from __future__ import annotations

import contextlib
import fnmatch
import importlib
import ipaddress
import os
import socket
import sys
import threading
import weakref
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

from chaos._errors import HarnessBypassed

__all__ = [
    "PROVIDER_HOSTS",
    "Guard",
    "Refusal",
    "is_provider_host",
    "track_clients",
    "untrack_clients",
]

PROVIDER_HOSTS: tuple[str, ...] = (
    "api.anthropic.com",
    "api.openai.com",
    "generativelanguage.googleapis.com",
    # the clouds that serve the same models
    "*.openai.azure.com",
    "*.cognitiveservices.azure.com",
    "*.services.ai.azure.com",
    "bedrock-runtime.*.amazonaws.com",
    "bedrock-runtime-fips.*.amazonaws.com",
    "aiplatform.googleapis.com",
    "*-aiplatform.googleapis.com",
)
"""The API hosts of the providers and of the clouds that serve their models
(shell-style patterns, matched case-insensitively)."""

# packages whose objects we name as "the client" in the refusal, outermost first
_CLIENT_PACKAGES = frozenset(
    {
        "anthropic",
        "openai",
        "google",
        "langchain_anthropic",
        "langchain_openai",
        "langchain_google_genai",
        "litellm",
        "pydantic_ai",
        "llama_index",
    }
)
_LIBRARY_PARTS = ("site-packages", "dist-packages", f"{os.sep}lib{os.sep}python")
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the chaos package


def is_provider_host(host: str) -> bool:
    """Whether ``host`` is a provider's API host (see :data:`PROVIDER_HOSTS`)."""
    name = host.lower().rstrip(".")
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in PROVIDER_HOSTS)


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0]).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Refusal:
    """One connection the guard refused.

    :param host: the host asked for; :param port: its port.
    :param client: the client object that opened it, as ``module.Class (base_url ...)``.
    :param caller: the first frame outside libraries: ``file:line (function)``.
    :param sealed: refused because the test process is sealed (not a provider host).
    :param target: the harness target that stands for this host, if any.
    :param built: where its HTTP client was built (``file:line (function)``), when the
        plugin saw it built (see :func:`track_clients`).
    """

    host: str
    port: int | None
    client: str | None
    caller: str | None
    sealed: bool
    target: str | None = None
    built: str | None = None

    def message(self) -> str:
        """Which client bypassed the harness, from where, and how to route it."""
        where = f"{self.host}:{self.port}" if self.port is not None else self.host
        who = self.client or "a client"
        if self.built:
            who += f", built at {self.built},"
        called = f", called from {self.caller}" if self.caller else ""
        if self.sealed:
            return (
                f"llm-chaos: {who} connected to {where}{called}, refused before any DNS "
                "lookup or byte was sent: the test process is sealed (--chaos-seal), "
                "only loopback connections are allowed. Drop --chaos-seal (ini chaos_seal, "
                "env LLM_CHAOS_SEAL) to allow it. See docs/routing.md."
            )
        return (
            f"llm-chaos: {who} bypassed the harness: it connected to {where}{called}; "
            "refused before any DNS lookup or byte was sent. The client was built before "
            "the environment was routed to the harness (e.g. a module-level client imported "
            "by a conftest.py) or with an explicit base URL. Route it: build it inside the "
            f"test or lazily, or pass base_url=chaos.endpoints[{self.target or 'TARGET'!r}] "
            "(chaos.env has every routed variable). To let requests reach real providers, run with "
            "--chaos-allow-network. See docs/routing.md."
        )


class Guard:
    """Refuses connections that would bypass the harness while installed.

    :param allow_providers: let provider hosts through (``--chaos-allow-network``).
    :param sealed: refuse every other non-loopback host too (``--chaos-seal``).
    :param allowed: hosts always allowed (the harness's own non-loopback parts).
    :param targets: provider host -> the harness target that stands for it (for the hint).
    """

    def __init__(
        self,
        *,
        allow_providers: bool = False,
        sealed: bool = False,
        allowed: Iterable[str] = (),
        targets: Mapping[str, str] | None = None,
    ) -> None:
        self.allow_providers = allow_providers
        self.sealed = sealed
        self.allowed = frozenset(h.lower() for h in allowed)
        self.targets = {k.lower(): v for k, v in (targets or {}).items()}
        self.refused: list[Refusal] = []
        self.connections: Counter[str] = Counter()
        """``host:port`` -> how many times a non-loopback host was looked up or connected
        to (allowed)."""
        self._names: dict[str, str] = {}
        self._lock = threading.Lock()
        self._saved: dict[str, Any] | None = None

    # -- install / uninstall ----------------------------------------------------------

    def install(self) -> Guard:
        """Patch the socket module (idempotent)."""
        if self._saved is not None:
            return self
        saved: dict[str, Any] = {
            "getaddrinfo": socket.getaddrinfo,
            "create_connection": socket.create_connection,
            "connect": socket.socket.connect,
            "connect_ex": socket.socket.connect_ex,
        }
        self._saved = saved
        guard = self

        def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
            guard.check(host, port)
            result = saved["getaddrinfo"](host, port, *args, **kwargs)
            guard._remember(host, port, result)
            return result

        def create_connection(address: Any, *args: Any, **kwargs: Any) -> Any:
            guard.check(address[0], address[1])
            return saved["create_connection"](address, *args, **kwargs)

        def connect(sock: socket.socket, address: Any) -> Any:
            guard._on_connect(sock, address)
            return saved["connect"](sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            guard._on_connect(sock, address)
            return saved["connect_ex"](sock, address)

        socket.getaddrinfo = getaddrinfo
        socket.create_connection = create_connection
        socket.socket.connect = connect  # type: ignore[method-assign,assignment]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign,assignment]
        return self

    def uninstall(self) -> None:
        """Restore the socket module as it was before :meth:`install`."""
        saved, self._saved = self._saved, None
        if saved is None:
            return
        socket.getaddrinfo = saved["getaddrinfo"]
        socket.create_connection = saved["create_connection"]
        socket.socket.connect = saved["connect"]  # type: ignore[method-assign]
        socket.socket.connect_ex = saved["connect_ex"]  # type: ignore[method-assign]

    def __enter__(self) -> Guard:
        return self.install()

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    # -- the checks ----------------------------------------------------------------------

    def check(self, host: Any, port: Any) -> None:
        """Refuse ``host`` (raise :class:`HarnessBypassed`) if it may not be reached."""
        if host is None:
            return
        name = host.decode("idna") if isinstance(host, bytes) else str(host)
        if _is_loopback(name):
            return
        lowered = name.lower().rstrip(".")
        if is_provider_host(lowered) and not self.allow_providers:
            self._refuse(name, port, sealed=False)
        if (
            self.sealed
            and lowered not in self.allowed
            and not (self.allow_providers and is_provider_host(lowered))
        ):
            self._refuse(name, port, sealed=True)

    def _on_connect(self, sock: socket.socket, address: Any) -> None:
        if sock.family not in (socket.AF_INET, socket.AF_INET6) or not isinstance(address, tuple):
            return  # unix sockets (the Docker daemon, ...) are local
        host, port = str(address[0]), address[1]
        if _is_loopback(host) or host in self._names:
            return  # loopback, or counted when its name was looked up
        self.check(host, port)  # an IP literal: only a sealed guard can tell
        with self._lock:
            self.connections[f"{host}:{port}"] += 1

    def _remember(self, host: Any, port: Any, result: Any) -> None:
        """Count a lookup of a non-loopback name (every connection by name starts with
        one) and remember its addresses, so that the connect is not counted again."""
        if host is None:
            return
        name = host.decode("idna") if isinstance(host, bytes) else str(host)
        if _is_loopback(name):
            return
        with self._lock:
            self.connections[f"{name}:{port}"] += 1
            for entry in result or ():
                self._names[str(entry[4][0])] = name

    def _refuse(self, host: str, port: Any, *, sealed: bool) -> None:
        client, caller, built = _who(sys._getframe(2))
        number = int(port) if isinstance(port, int | str) and str(port).isdigit() else None
        target = self.targets.get(host.lower().rstrip("."))
        refusal = Refusal(host, number, client, caller, sealed, target, built)
        with self._lock:
            self.refused.append(refusal)
        raise HarnessBypassed(refusal.message())


def _who(frame: FrameType | None) -> tuple[str | None, str | None, str | None]:
    """The client object in the stack (outermost of the known libraries' objects that
    have a ``base_url``), the first caller outside libraries and this package, and where
    the HTTP client in the stack was built (when :func:`track_clients` saw it)."""
    client: str | None = None
    caller: str | None = None
    built: str | None = None
    while frame is not None:
        me = frame.f_locals.get("self")
        if me is not None:
            package = type(me).__module__.split(".", 1)[0]
            base_url = getattr(me, "base_url", None) if package in _CLIENT_PACKAGES else None
            if base_url is not None:
                kind = type(me)
                client = f"{kind.__module__}.{kind.__qualname__} (base_url {base_url})"
            if built is None:
                with contextlib.suppress(TypeError):  # not weak-referenceable, not hashable
                    built = _BUILT.get(me)
        if caller is None:
            caller = _outside_libraries(frame)
        frame = frame.f_back
    return client, caller, built


def _outside_libraries(frame: FrameType) -> str | None:
    """``file:line (function)`` of ``frame`` unless it is in a library or this package."""
    code = frame.f_code
    path = os.path.abspath(code.co_filename)
    if (
        path.startswith(_HERE)
        or any(part in path for part in _LIBRARY_PARTS)
        or code.co_filename.startswith("<")
    ):
        return None
    return f"{code.co_filename}:{frame.f_lineno} ({code.co_name})"


# -- where clients are built -------------------------------------------------------------

_BUILT: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
_TRACKED: dict[type, Any] = {}


def track_clients() -> None:
    """From now on, record where each ``httpx``/``httpx2`` client (the transport of the
    official SDKs) is built: the first frame outside libraries, i.e. the app's line that
    built the SDK client. A refusal then says where the client was built."""
    if _TRACKED:
        return
    for module_name in ("httpx", "httpx2"):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in ("Client", "AsyncClient"):
            cls = getattr(module, name, None)
            init = getattr(cls, "__dict__", {}).get("__init__")
            if isinstance(cls, type) and init is not None and cls not in _TRACKED:
                _TRACKED[cls] = init
                cls.__init__ = _recording(init)  # type: ignore[misc]


def untrack_clients() -> None:
    """Stop recording (undo :func:`track_clients`)."""
    for cls, init in _TRACKED.items():
        cls.__init__ = init  # type: ignore[misc]
    _TRACKED.clear()


def _recording(init: Any) -> Any:
    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            where = _outside_libraries(frame)
            if where is not None:
                with contextlib.suppress(TypeError):
                    _BUILT[self] = where
                return
            frame = frame.f_back

    __init__.__wrapped__ = init  # type: ignore[attr-defined]
    return __init__
