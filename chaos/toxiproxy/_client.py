"""A typed, per-instance Toxiproxy client over ``toxiproxy-python`` 0.1.1.

What comes from ``toxiproxy-python`` and what does not:

- GET, POST and DELETE go through its ``APIConsumer`` (the wire format and its
  400/404/409 checks), but through a subclass made *per client instance*, so the
  library's process-wide ``APIConsumer.host``/``.port`` are never touched and
  two clients (or two xdist workers) can talk to two servers at once. Every call
  passes a request timeout, which the library itself never sets.
- PATCH (proxy and toxic updates) uses ``requests`` directly with the same wire
  format: the library has no PATCH at all.
- The library's ``Toxiproxy``/``Proxy`` classes are not used: they are bound to
  the global consumer, ``add_toxic`` drops the created toxic, ``populate`` is a
  client-side imitation that recreates proxies, and a server 500 surfaces as a
  ``KeyError``. Here ``/populate`` is the real endpoint and every answer is
  parsed into :class:`ProxyInfo` / :class:`ToxicInfo`.

Errors map into :mod:`chaos._errors` by HTTP status, with the server's ``error``
text as the message (the library's own exception classes are not trusted: it
raises ``ProxyExists`` for a *toxic* conflict and ``InvalidToxic`` for any 400).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType, TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote, urlsplit

import requests
import tenacity
from toxiproxy import exceptions as _tp_exceptions
from toxiproxy.api import APIConsumer

from chaos._errors import (
    ConfigError,
    InvalidRequest,
    ProxyConflict,
    ProxyNotFound,
    ToxiproxyError,
)

__all__ = ["ProxyInfo", "ProxySpec", "ToxicInfo", "ToxiproxyClient"]

Stream = Literal["upstream", "downstream"]

_LIBRARY_STATUS: dict[type[Exception], int] = {
    _tp_exceptions.ProxyExists: 409,
    _tp_exceptions.NotFound: 404,
    _tp_exceptions.InvalidToxic: 400,
}
_LIBRARY_ERRORS = tuple(_LIBRARY_STATUS)


@dataclass(frozen=True, slots=True)
class ToxicInfo:
    """A toxic as the server reports it.

    :param name: unique per proxy across both streams (default ``<type>_<stream>``).
    :param type: the toxic type, e.g. ``latency``.
    :param stream: ``downstream`` (server to client) or ``upstream`` (client to server),
        as the server echoes it.
    :param toxicity: probability that a connection is affected, drawn per connection.
    :param attributes: every attribute of the type, zero defaults included.
    """

    name: str
    type: str
    stream: str
    toxicity: float
    attributes: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ToxicInfo:
        """Build from one toxic object of the Toxiproxy API."""
        return cls(
            name=str(data["name"]),
            type=str(data["type"]),
            stream=str(data.get("stream", "downstream")),
            toxicity=float(data.get("toxicity", 1.0)),
            attributes=MappingProxyType(dict(data.get("attributes") or {})),
        )


@dataclass(frozen=True, slots=True)
class ProxyInfo:
    """A proxy as the server reports it.

    :param name: the proxy's name (it cannot be renamed).
    :param listen: the address actually bound, e.g. ``127.0.0.1:41449``.
    :param upstream: ``host:port`` dialled for each accepted connection.
    :param enabled: ``False`` means the listener is closed (connection refused).
    :param toxics: in chain order: upstream toxics first, then downstream.
    """

    name: str
    listen: str
    upstream: str
    enabled: bool
    toxics: tuple[ToxicInfo, ...] = ()

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProxyInfo:
        """Build from one proxy object of the Toxiproxy API."""
        return cls(
            name=str(data["name"]),
            listen=str(data.get("listen", "")),
            upstream=str(data["upstream"]),
            enabled=data.get("enabled") is not False,
            toxics=tuple(ToxicInfo.from_json(t) for t in data.get("toxics") or ()),
        )

    @property
    def listen_host(self) -> str:
        """The host part of :attr:`listen` (brackets of an IPv6 address removed)."""
        host = self.listen.rpartition(":")[0]
        return host[1:-1] if host.startswith("[") and host.endswith("]") else host

    @property
    def listen_port(self) -> int:
        """The port part of :attr:`listen`."""
        return int(self.listen.rpartition(":")[2])


@dataclass(frozen=True, slots=True)
class ProxySpec:
    """One entry of :meth:`ToxiproxyClient.populate`.

    :param name: the proxy's name.
    :param upstream: ``host:port`` to forward to.
    :param listen: address to bind; ``127.0.0.1:0`` picks a free loopback port.
    :param enabled: start listening at once.
    """

    name: str
    upstream: str
    listen: str = "127.0.0.1:0"
    enabled: bool = True


def _error_text(status: int, content: bytes) -> str:
    """The server's ``error`` text, or the raw body when it is not Toxiproxy JSON."""
    body = content.decode("utf-8", "replace").strip()
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    if status == 503 and "<title>Timeout</title>" in body:
        return "the server's 25 s request timeout fired (a handler hung)"
    return body[:200] or f"HTTP {status} with an empty body"


class _GaveUp(ToxiproxyError):
    """Waiting stopped early: the caller knows the server will never answer."""


_BY_STATUS: dict[int, type[ToxiproxyError]] = {
    400: InvalidRequest,
    404: ProxyNotFound,
    409: ProxyConflict,
}


class ToxiproxyClient:
    """A client for one Toxiproxy API (Shopify's server or the embedded one).

    Used as a context manager, it removes on exit, even on error, every proxy
    and toxic it created inside the ``with`` block (and only those)::

        with ToxiproxyClient("http://127.0.0.1:8474") as toxi:
            proxy = toxi.create_proxy("anthropic", upstream="127.0.0.1:9000")
            toxi.add_toxic("anthropic", "latency", attributes={"latency": 800})
            ...  # the proxy and its toxic are gone after the block

    :param url: the API's base URL, ``http://HOST:PORT`` (Toxiproxy speaks plain HTTP).
    :param timeout: seconds to wait for each API answer, connect and read.
    :raises ConfigError: when ``url`` is not ``http://HOST:PORT``.
    """

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
            raise ConfigError(
                f"Toxiproxy URL {url!r} is not of the form http://HOST:PORT "
                "(the Toxiproxy API is plain HTTP at the root path)"
            )
        try:
            port = parts.port or 8474
        except ValueError as exc:
            raise ConfigError(f"Toxiproxy URL {url!r} has an invalid port: {exc}") from None
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        self.url = f"http://{host}:{port}"
        """The normalised base URL, ``http://HOST:PORT``."""
        self.timeout = timeout
        """Seconds to wait for each API answer."""
        # A subclass per instance: the library reads cls.host/cls.port, so this keeps
        # its global APIConsumer untouched while reusing its requests and checks.
        self._consumer: type[APIConsumer] = type(
            "_InstanceAPIConsumer", (APIConsumer,), {"host": host, "port": port}
        )
        self._created_proxies: list[str] = []
        self._added_toxics: list[tuple[str, str]] = []

    def __repr__(self) -> str:
        return f"ToxiproxyClient({self.url!r}, timeout={self.timeout})"

    # -- transport ------------------------------------------------------------

    def _request(
        self, method: str, path: str, body: object = None, *, ok: tuple[int, ...] = (200,)
    ) -> Any:
        """Send one request and return the decoded JSON (``None`` for an empty body)."""
        status, content = self._send(method, path, body)
        if status not in ok:
            cls = _BY_STATUS.get(status, ToxiproxyError)
            raise cls(status, f"{_error_text(status, content)} ({method} {self.url}{path})")
        if not content.strip():
            return None
        try:
            return json.loads(content)
        except ValueError:
            return content.decode("utf-8", "replace")

    def _send(self, method: str, path: str, body: object) -> tuple[int, bytes]:
        where = f"{method} {self.url}{path}"
        try:
            if method == "PATCH":
                # toxiproxy-python has no PATCH: same wire format, via requests directly.
                response = requests.patch(self.url + path, json=body, timeout=self.timeout)
            else:
                call = getattr(self._consumer, method.lower())
                kwargs: dict[str, Any] = {"timeout": self.timeout}
                if body is not None:
                    kwargs["json"] = body
                response = call(path, **kwargs)
        except _LIBRARY_ERRORS as exc:
            # The library raises by status (400/404/409), with the body as argument.
            raw = exc.args[0] if exc.args else b""
            return _LIBRARY_STATUS[type(exc)], raw if isinstance(raw, bytes) else str(raw).encode()
        except requests.Timeout:
            raise ToxiproxyError(
                0, f"no answer from Toxiproxy within {self.timeout} s ({where})"
            ) from None
        except requests.ConnectionError as exc:
            raise ToxiproxyError(
                0, f"cannot connect to Toxiproxy ({where}): {_root_cause(exc)}"
            ) from None
        return response.status_code, response.content

    # -- server ---------------------------------------------------------------

    def version(self) -> str:
        """The server's version, e.g. ``2.12.0``.

        Parses every format Toxiproxy has used: JSON ``{"version": ...}`` (2.7+),
        2.6.0's invalid JSON with a literal ``\\n``, and plain text (up to 2.5).
        """
        answer = self._request("GET", "/version")
        if isinstance(answer, dict) and "version" in answer:
            return str(answer["version"])
        text = str(answer or "").strip()
        if text.endswith("\\n"):
            text = text[:-2]
        try:
            data = json.loads(text)
        except ValueError:
            return text
        return str(data["version"]) if isinstance(data, dict) and "version" in data else text

    def is_ready(self) -> bool:
        """Whether the API answers ``/version`` right now."""
        try:
            self.version()
        except ToxiproxyError:
            return False
        return True

    def wait_ready(
        self, timeout: float = 15.0, *, give_up: Callable[[], str | None] | None = None
    ) -> str:
        """Wait (bounded, with tenacity) until the API answers, and return its version.

        :param timeout: seconds to keep trying.
        :param give_up: called between attempts; a non-``None`` answer (e.g. "the
            server process exited with 1") stops waiting at once with that reason.
        :raises ToxiproxyError: when it still does not answer after ``timeout``, or
            ``give_up`` said why it never will.
        """

        def attempt() -> str:
            if give_up is not None and (reason := give_up()) is not None:
                raise _GaveUp(0, reason)
            return self.version()

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_delay(timeout),
            wait=tenacity.wait_exponential(multiplier=0.02, max=0.5),
            retry=tenacity.retry_if_exception(
                lambda exc: isinstance(exc, ToxiproxyError) and not isinstance(exc, _GaveUp)
            ),
            reraise=True,
        )
        started = time.monotonic()
        try:
            return retrying(attempt)
        except _GaveUp as exc:
            raise ToxiproxyError(0, exc.message) from None
        except ToxiproxyError as exc:
            raise ToxiproxyError(
                exc.status,
                f"Toxiproxy at {self.url} not ready after {time.monotonic() - started:.1f} s: "
                f"{exc.message}",
            ) from None

    def reset(self) -> None:
        """Re-enable every proxy and remove every toxic (proxies are kept)."""
        self._request("POST", "/reset", ok=(204, 200))
        self._added_toxics.clear()

    # -- proxies --------------------------------------------------------------

    def proxies(self) -> dict[str, ProxyInfo]:
        """Every proxy on the server, by name."""
        answer = self._request("GET", "/proxies") or {}
        return {name: ProxyInfo.from_json(data) for name, data in answer.items()}

    def get_proxy(self, name: str) -> ProxyInfo:
        """One proxy with its toxics.

        :raises ProxyNotFound: when there is no proxy of that name.
        """
        return ProxyInfo.from_json(self._request("GET", _proxy_path(name)))

    def create_proxy(
        self, name: str, upstream: str, listen: str = "127.0.0.1:0", *, enabled: bool = True
    ) -> ProxyInfo:
        """Create a proxy and return it with the address it actually bound.

        :param name: the proxy's name; must not contain ``/``.
        :param upstream: ``host:port`` to forward to (not dialled until a client connects).
        :param listen: address to bind; the default picks a free loopback port.
        :param enabled: start listening at once.
        :raises ProxyConflict: when a proxy of that name exists.
        :raises ToxiproxyError: when the server cannot bind ``listen`` (500).
        """
        _check_name(name)
        body = {"name": name, "upstream": upstream, "listen": listen, "enabled": enabled}
        info = ProxyInfo.from_json(self._request("POST", "/proxies", body, ok=(201, 200)))
        self._created_proxies.append(name)
        return info

    def update_proxy(
        self,
        name: str,
        *,
        listen: str | None = None,
        upstream: str | None = None,
        enabled: bool | None = None,
    ) -> ProxyInfo:
        """Change a proxy with PATCH; only the arguments given are sent.

        A new ``listen`` or ``upstream`` restarts the proxy and closes its connections;
        ``enabled=False`` closes the listener and every connection.

        :raises ProxyNotFound: when there is no proxy of that name.
        """
        body: dict[str, Any] = {}
        if listen is not None:
            body["listen"] = listen
        if upstream is not None:
            body["upstream"] = upstream
        if enabled is not None:
            body["enabled"] = enabled
        return ProxyInfo.from_json(self._request("PATCH", _proxy_path(name), body))

    def enable(self, name: str) -> ProxyInfo:
        """Start listening again (``update_proxy(name, enabled=True)``)."""
        return self.update_proxy(name, enabled=True)

    def disable(self, name: str) -> ProxyInfo:
        """Close the listener and every connection: clients get connection refused."""
        return self.update_proxy(name, enabled=False)

    @contextmanager
    def down(self, name: str) -> Iterator[ProxyInfo]:
        """Keep a proxy disabled for the duration of a ``with`` block."""
        info = self.disable(name)
        try:
            yield info
        finally:
            self.enable(name)

    def delete_proxy(self, name: str) -> None:
        """Delete a proxy, closing its connections.

        :raises ProxyNotFound: when there is no proxy of that name.
        """
        self._request("DELETE", _proxy_path(name), ok=(204, 200))
        self._forget_proxy(name)

    def populate(self, proxies: Iterable[ProxySpec | Mapping[str, Any]]) -> list[ProxyInfo]:
        """Create or replace several proxies with the server's ``/populate``.

        An existing proxy with the same listen and upstream is kept untouched
        (toxics and connections included); one that differs is replaced. Entries
        without ``listen`` get ``127.0.0.1:0``, which never equals a bound address:
        to keep an existing proxy, pass the ``listen`` it reported.

        :returns: every listed proxy, in input order.
        :raises InvalidRequest: when an entry lacks ``name`` or ``upstream`` (nothing created).
        :raises ToxiproxyError: on a bind failure; the entries before it stay created.
        """
        body = [_spec_json(p) for p in proxies]
        names = [str(entry.get("name", "")) for entry in body]
        for name in names:
            _check_name(name)
        before = set(self.proxies())
        try:
            answer = self._request("POST", "/populate", body, ok=(201, 200))
        except ToxiproxyError as exc:
            # Populate is not atomic: what a partial failure created is ours to clean up.
            if exc.status:
                now = set(self.proxies())
                self._created_proxies.extend(n for n in names if n not in before and n in now)
            raise
        self._created_proxies.extend(n for n in names if n not in before)
        return [ProxyInfo.from_json(p) for p in (answer or {}).get("proxies") or ()]

    # -- toxics ---------------------------------------------------------------

    def toxics(self, proxy: str) -> list[ToxicInfo]:
        """The proxy's toxics in chain order.

        :raises ProxyNotFound: when there is no proxy of that name.
        """
        answer = self._request("GET", f"{_proxy_path(proxy)}/toxics") or []
        return [ToxicInfo.from_json(t) for t in answer]

    def get_toxic(self, proxy: str, name: str) -> ToxicInfo:
        """One toxic of a proxy.

        :raises ProxyNotFound: when the proxy or the toxic does not exist.
        """
        return ToxicInfo.from_json(self._request("GET", _toxic_path(proxy, name)))

    def add_toxic(
        self,
        proxy: str,
        type: str,
        *,
        name: str | None = None,
        stream: Stream = "downstream",
        toxicity: float = 1.0,
        attributes: Mapping[str, Any] | None = None,
    ) -> ToxicInfo:
        """Add a toxic; it applies to the proxy's live connections at once.

        :param proxy: the proxy's name.
        :param type: ``bandwidth``, ``latency``, ``limit_data``, ``noop``,
            ``packet_loss``, ``reset_peer``, ``slicer``, ``slow_close`` or ``timeout``
            (the embedded server's ``chaos.toxiproxy._toxics.TOXICS``; a test keeps
            this list in step).
        :param name: defaults to ``<type>_<stream>`` (server-side).
        :param stream: ``downstream`` (responses) or ``upstream`` (requests).
        :param toxicity: probability per connection that the toxic applies.
        :param attributes: the type's attributes (ms, except slicer ``delay`` in µs).
        :returns: the toxic as created, with its name and every attribute.
        :raises InvalidRequest: for an unknown type, stream or a mistyped attribute.
        :raises ProxyConflict: when a toxic of that name exists on the proxy.
        :raises ProxyNotFound: when there is no proxy of that name.
        """
        body: dict[str, Any] = {
            "type": type,
            "stream": stream,
            "toxicity": toxicity,
            "attributes": dict(attributes or {}),
        }
        if name:
            body["name"] = name
        answer = self._request("POST", f"{_proxy_path(proxy)}/toxics", body, ok=(200, 201))
        info = ToxicInfo.from_json(answer)
        self._added_toxics.append((proxy, info.name))
        return info

    def update_toxic(
        self,
        proxy: str,
        name: str,
        *,
        attributes: Mapping[str, Any] | None = None,
        toxicity: float | None = None,
    ) -> ToxicInfo:
        """Change a toxic's attributes (merged into the current ones) or toxicity.

        :raises ProxyNotFound: when the proxy or the toxic does not exist.
        :raises InvalidRequest: for a mistyped attribute.
        """
        body: dict[str, Any] = {}
        if attributes is not None:
            body["attributes"] = dict(attributes)
        if toxicity is not None:
            body["toxicity"] = toxicity
        return ToxicInfo.from_json(self._request("PATCH", _toxic_path(proxy, name), body))

    def remove_toxic(self, proxy: str, name: str) -> None:
        """Remove a toxic.

        :raises ProxyNotFound: when the proxy or the toxic does not exist.
        """
        self._request("DELETE", _toxic_path(proxy, name), ok=(204, 200))
        if (proxy, name) in self._added_toxics:
            self._added_toxics.remove((proxy, name))

    # -- scoped cleanup -------------------------------------------------------

    def scope(self) -> ToxiproxyClient:
        """A new client for the same server with its own record of what it adds.

        Use it as a context manager to undo exactly what one test added, while
        the outer client keeps its proxies.
        """
        return ToxiproxyClient(self.url, timeout=self.timeout)

    def cleanup(self) -> None:
        """Remove every toxic and proxy this client added and has not removed yet.

        Things already gone are skipped. Every removal is tried; the first
        failure is raised at the end.

        :raises ToxiproxyError: when a removal failed for another reason than 404.
        """
        failures: list[ToxiproxyError] = []
        created = set(self._created_proxies)
        for proxy, toxic in reversed(self._added_toxics):
            if proxy in created:
                continue  # deleting the proxy takes its toxics with it
            try:
                self._request("DELETE", _toxic_path(proxy, toxic), ok=(204, 200))
            except ProxyNotFound:
                pass
            except ToxiproxyError as exc:
                failures.append(exc)
        self._added_toxics.clear()
        for proxy in reversed(self._created_proxies):
            try:
                self._request("DELETE", _proxy_path(proxy), ok=(204, 200))
            except ProxyNotFound:
                pass
            except ToxiproxyError as exc:
                failures.append(exc)
        self._created_proxies.clear()
        if failures:
            raise failures[0]

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self.cleanup()
        except ToxiproxyError as cleanup_error:
            if exc is None:
                raise
            # Do not hide the error that ended the block.
            exc.add_note(f"also, cleaning up Toxiproxy failed: {cleanup_error}")

    def _forget_proxy(self, name: str) -> None:
        if name in self._created_proxies:
            self._created_proxies.remove(name)
        self._added_toxics[:] = [(p, t) for p, t in self._added_toxics if p != name]


def _check_name(name: str) -> None:
    if not name or "/" in name:
        raise ConfigError(
            f"Toxiproxy proxy name {name!r} is invalid: it must be non-empty and contain no '/' "
            "(Toxiproxy accepts such a name but can never address it again)"
        )


def _proxy_path(name: str) -> str:
    return "/proxies/" + quote(name, safe="")


def _toxic_path(proxy: str, toxic: str) -> str:
    return f"{_proxy_path(proxy)}/toxics/{quote(toxic, safe='')}"


def _spec_json(spec: ProxySpec | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(spec, ProxySpec):
        return {
            "name": spec.name,
            "upstream": spec.upstream,
            "listen": spec.listen,
            "enabled": spec.enabled,
        }
    # The same default as create_proxy: a free loopback port, never all interfaces.
    return {"listen": "127.0.0.1:0", **spec}


def _root_cause(exc: BaseException) -> str:
    while exc.__context__ is not None and exc.__context__ is not exc:
        exc = exc.__context__
    return str(exc) or type(exc).__name__
