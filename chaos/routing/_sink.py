"""The stray-request sink: the guard's protection for an app in another process.

``llm-chaos run`` and ``serve`` cannot patch the app's sockets as the plugin's guard
(:mod:`chaos.routing._guard`) does in process. Instead they point the standard proxy
variables (``HTTP_PROXY``, ``HTTPS_PROXY``, ``ALL_PROXY`` and their lower-case
twins) at this sink, a local HTTP proxy, with ``NO_PROXY`` covering loopback, where
the harness listens. A client that honours the variables and still aims at a
provider's API host (built with an explicit URL, or reading a variable routing
does not cover) then asks the sink, not the network: the sink records the request
and refuses it with a 403 whose reason says what happened, before any DNS lookup
or byte leaves for the provider. Other hosts are tunnelled through (they are the
app's own business), unless ``sealed``; provider hosts too with ``allow_providers``
(``--allow-network``).

Limits (docs/routing.md): a client that ignores the proxy variables (Node's
built-in ``fetch`` without ``NODE_USE_ENV_PROXY=1``, raw sockets, gRPC, a
hard-coded ``trust_env=False``) is not caught; an app that needs a corporate
proxy gets direct connections for the hosts the sink lets through.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chaos.routing._guard import _is_loopback, is_provider_host

__all__ = ["PROXY_VARIABLES", "Sink", "Stray"]

PROXY_VARIABLES: tuple[str, ...] = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
)
"""The variables pointed at the sink (curl, httpx, requests, aiohttp with
``trust_env``, urllib, Go's net/http and Node with ``NODE_USE_ENV_PROXY`` read them)."""

_LOOPBACK = ("localhost", "127.0.0.1", "::1")
_HEAD_LIMIT = 64 * 1024
_IDLE_S = 60.0


@dataclass(frozen=True)
class Stray:
    """One request that came to the sink instead of the harness.

    :param host: the host it was for.
    :param port: the port.
    :param method: ``CONNECT`` (an https tunnel) or the HTTP method.
    :param refused: whether the sink refused it (else it was tunnelled through).
    :param why: why it was refused (or let through).
    :param at: when (epoch seconds).
    """

    host: str
    port: int
    method: str
    refused: bool
    why: str
    at: float

    def line(self) -> str:
        """``refused CONNECT api.anthropic.com:443 (a provider's API host)``."""
        verb = "refused" if self.refused else "let through"
        return f"{verb} {self.method} {self.host}:{self.port} ({self.why})"

    def to_dict(self) -> dict[str, Any]:
        """As JSON-ready data."""
        return {
            "host": self.host,
            "port": self.port,
            "method": self.method,
            "refused": self.refused,
            "why": self.why,
            "at": self.at,
        }


class Sink:
    """A local HTTP proxy that records and refuses requests bypassing the harness.

    A context manager (or :meth:`start` / :meth:`stop`)::

        with Sink() as sink:
            env = {**os.environ, **harness.env, **sink.env(os.environ)}
            subprocess.run(command, env=env)
            print([s.line() for s in sink.strays])

    :param allow_providers: tunnel requests to providers' API hosts instead of refusing them.
    :param sealed: refuse every request, not only those to providers' API hosts.
    :param on_stray: called (in the sink's thread) with each :class:`Stray` as it comes.
    """

    def __init__(
        self,
        *,
        allow_providers: bool = False,
        sealed: bool = False,
        on_stray: Callable[[Stray], None] | None = None,
    ) -> None:
        self.allow_providers = allow_providers
        self.sealed = sealed
        self.on_stray = on_stray
        self._strays: list[Stray] = []
        self._lock = threading.Lock()
        self._server: socketserver.ThreadingTCPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Sink:
        """Listen on a free loopback port."""
        if self._server is not None:
            return self
        sink = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                sink._handle(self.request)

        class Server(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="llm-chaos-sink", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what the app gets and what came -----------------------------------------------

    @property
    def url(self) -> str:
        """The proxy's URL (``http://127.0.0.1:PORT``)."""
        if self._server is None:
            raise RuntimeError("the sink is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def env(self, current: Mapping[str, str] | None = None) -> dict[str, str]:
        """The proxy variables for the app: every one at the sink, ``NO_PROXY`` (and
        ``no_proxy``) the loopback names plus what ``current`` already excluded."""
        excluded = list(_LOOPBACK)
        for var in ("NO_PROXY", "no_proxy"):
            for item in (current or {}).get(var, "").split(","):
                if item.strip() and item.strip() not in excluded and item.strip() != "*":
                    excluded.append(item.strip())
        env = dict.fromkeys(PROXY_VARIABLES, self.url)
        env["NO_PROXY"] = env["no_proxy"] = ",".join(excluded)
        return env

    @property
    def strays(self) -> list[Stray]:
        """Every request that came, in order."""
        with self._lock:
            return list(self._strays)

    @property
    def refused(self) -> list[Stray]:
        """The requests the sink refused."""
        return [s for s in self.strays if s.refused]

    # -- one connection ----------------------------------------------------------------

    def _decide(self, host: str) -> tuple[bool, str]:
        if is_provider_host(host):
            if self.allow_providers:
                return False, "a provider's API host, allowed by --allow-network"
            return True, "a provider's API host: it bypassed the harness"
        if self.sealed and not _is_loopback(host):
            return True, "not loopback, and the run is sealed"
        return False, "not a provider's API host"

    def _record(self, stray: Stray) -> None:
        with self._lock:
            self._strays.append(stray)
        if self.on_stray is not None:
            with contextlib.suppress(Exception):
                self.on_stray(stray)

    def _handle(self, client: socket.socket) -> None:
        client.settimeout(_IDLE_S)
        head, rest = _read_head(client)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split() if lines else []
        if len(parts) != 3:
            _answer(client, 400, "Bad Request", "llm-chaos sink: not an HTTP proxy request")
            return
        method, target, version = parts
        if method == "CONNECT":
            host, _, port_text = target.rpartition(":")
            host = host.strip("[]")
            port = int(port_text) if port_text.isdigit() else 443
            path = ""
        else:
            url = urlsplit(target)
            if not url.hostname:
                _answer(client, 400, "Bad Request", "llm-chaos sink: not an absolute URL")
                return
            host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
            path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        refuse, why = self._decide(host)
        self._record(Stray(host, port, method, refuse, why, time.time()))
        if refuse:
            text = (
                f"llm-chaos refused {method} {host}:{port}: {why}. Nothing was sent. Point "
                "the client at the harness (the environment llm-chaos sets; docs/routing.md)"
                + ("" if self.sealed else ", or pass --allow-network to reach the provider")
            )
            _answer(client, 403, "Refused by llm-chaos: the request bypassed the harness", text)
            return
        try:
            upstream = socket.create_connection((host, port), timeout=_IDLE_S)
        except OSError as exc:
            _answer(client, 502, "Bad Gateway", f"llm-chaos sink: {host}:{port}: {exc}")
            return
        with upstream:
            if method == "CONNECT":
                client.sendall(b"HTTP/1.1 200 Connection Established\r\n\r\n")
            else:
                kept = [h for h in lines[1:] if h and not h.lower().startswith("proxy-")]
                first = f"{method} {path} {version}\r\n" + "".join(f"{h}\r\n" for h in kept)
                upstream.sendall(first.encode("latin-1") + b"\r\n")
            if rest:
                upstream.sendall(rest)
            _relay(client, upstream)


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    data = b""
    while b"\r\n\r\n" not in data and len(data) < _HEAD_LIMIT:
        try:
            chunk = sock.recv(4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def _answer(sock: socket.socket, status: int, reason: str, text: str) -> None:
    body = (text + "\n").encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\nX-LLM-Chaos: sink\r\nConnection: close\r\n\r\n"
    )
    with contextlib.suppress(OSError):
        sock.sendall(head.encode("latin-1") + body)


def _relay(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways until one side closes or both are idle for a minute."""
    with selectors.DefaultSelector() as sel:
        sel.register(a, selectors.EVENT_READ, b)
        sel.register(b, selectors.EVENT_READ, a)
        while True:
            ready = sel.select(timeout=_IDLE_S)
            if not ready:
                return
            for key, _ in ready:
                src = key.fileobj
                assert isinstance(src, socket.socket)
                try:
                    data = src.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
                except OSError:
                    return
