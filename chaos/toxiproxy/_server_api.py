"""Toxiproxy 2.12's REST API: routes, handlers, status codes and exact bodies.

Behaviour follows ``reference/toxiproxy.md`` §2-§6: gorilla/mux routing (404
``404 page not found`` for unknown paths, 405 with an empty body for a wrong
method), the ``Mozilla/`` user-agent block, ``X-Toxiproxy-Request-Id`` on every
handler answer, errors sent like Go's ``http.Error`` (JSON + newline,
``text/plain``), ``/populate``'s validation pass and non-atomic creation.
Where this server differs on purpose (attribute validation), the answer is a
400 with a message that names the attribute, the value and the valid range.
Standard library only.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import logging
import os
import random
import re
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from chaos.toxiproxy._events import EventHub
from chaos.toxiproxy._server_http import Request, Response
from chaos.toxiproxy._server_json import GoDecodeError, decode_body, decode_fields, encode
from chaos.toxiproxy._server_link import Direction, ToxicEntry
from chaos.toxiproxy._server_proxy import ApiError, Proxy, resolved_listen_string, toxic_json
from chaos.toxiproxy._toxics import TOXICS

__all__ = ["TOXIPROXY_VERSION", "ToxiproxyApi"]

#: The Toxiproxy version this server is compatible with (what ``/version`` reports).
TOXIPROXY_VERSION = "2.12.0"

log = logging.getLogger("chaos.toxiproxy.server")

_PROXY_FIELDS = {"name": "string", "listen": "string", "upstream": "string", "enabled": "bool"}
_TOXIC_FIELDS = {
    "attributes": "object:toxics.NoopToxic",
    "name": "string",
    "type": "string",
    "stream": "string",
    "toxicity": "float32",
}

_TEXT = "text/plain; charset=utf-8"

Handler = Callable[..., Awaitable[Response]]


class _RequestIds:
    """20-character ids in the shape of Go's ``xid`` (time, machine, pid, counter)."""

    def __init__(self) -> None:
        self._machine = os.urandom(3)
        self._pid = (os.getpid() & 0xFFFF).to_bytes(2, "big")
        self._counter = random.SystemRandom().getrandbits(24)
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            self._counter = (self._counter + 1) & 0xFFFFFF
            counter = self._counter
        raw = (
            int(time.time()).to_bytes(4, "big")
            + self._machine
            + self._pid
            + counter.to_bytes(3, "big")
        )
        return base64.b32hexencode(raw).decode("ascii").rstrip("=").lower()


_IDS = _RequestIds()


def _plain(status: int, text: str) -> Response:
    return Response(
        status,
        text.encode(),
        [("Content-Type", _TEXT), ("X-Content-Type-Options", "nosniff")],
    )


class ToxiproxyApi:
    """The proxies of one server and the REST API over them.

    :param rng: the random source for toxicity draws and jitter (seeded by
        ``-seed``), shared by every proxy of this server.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        # writes a toxic link cannot finish at once (a slow reader) wait here, off the loop
        self.executor = concurrent.futures.ThreadPoolExecutor(
            max_workers=32, thread_name_prefix="toxiproxy-write"
        )
        self.proxies: dict[str, Proxy] = {}
        self.events = EventHub()
        """Per-connection events of every proxy, for in-process subscribers."""
        self._lock = asyncio.Lock()
        param = "([^/]+)"
        self._routes: list[tuple[re.Pattern[str], dict[str, Handler]]] = [
            (re.compile(r"/reset"), {"POST": self.reset}),
            (re.compile(r"/proxies"), {"GET": self.proxy_index, "POST": self.proxy_create}),
            (re.compile(r"/populate"), {"POST": self.populate}),
            (
                re.compile(rf"/proxies/{param}"),
                {
                    "GET": self.proxy_show,
                    "POST": self.proxy_update,
                    "PATCH": self.proxy_update,
                    "DELETE": self.proxy_delete,
                },
            ),
            (
                re.compile(rf"/proxies/{param}/toxics"),
                {"GET": self.toxic_index, "POST": self.toxic_create},
            ),
            (
                re.compile(rf"/proxies/{param}/toxics/{param}"),
                {
                    "GET": self.toxic_show,
                    "POST": self.toxic_update,
                    "PATCH": self.toxic_update,
                    "DELETE": self.toxic_delete,
                },
            ),
            (re.compile(r"/version"), {"GET": self.version}),
        ]

    # dispatch
    async def handle(self, request: Request) -> Response:
        """Route ``request`` like gorilla/mux and answer it."""
        path_matched = False
        for pattern, methods in self._routes:
            match = pattern.fullmatch(request.path)
            if match is None:
                continue
            handler = methods.get(request.method)
            if handler is None:
                path_matched = True
                continue
            response = await self._run(request, handler, match.groups())
            log.debug(
                "%s %s -> %d",
                request.method,
                request.path,
                response.status,
                extra={"fields": {"method": request.method, "path": request.path}},
            )
            return response
        if path_matched:
            return Response(405)
        return Response(404, b"404 page not found\n", [("Content-Type", _TEXT)])

    async def _run(self, request: Request, handler: Handler, args: tuple[str, ...]) -> Response:
        request_id = _IDS.next()
        if request.headers.get("user-agent", "").startswith("Mozilla/"):
            response = _plain(403, "User agent not allowed\n")
        else:
            try:
                async with self._lock:
                    response = await handler(request, *args)
            except ApiError as exc:
                response = self._error(exc.message, exc.status)
        response.headers.append(("X-Toxiproxy-Request-Id", request_id))
        return response

    @staticmethod
    def _error(message: str, status: int) -> Response:
        return _plain(status, encode({"error": message, "status": status}) + "\n")

    @staticmethod
    def _json(status: int, value: Any) -> Response:
        return Response(status, encode(value).encode(), [("Content-Type", "application/json")])

    def _proxy(self, name: str) -> Proxy:
        proxy = self.proxies.get(name)
        if proxy is None:
            raise ApiError("proxy not found", 404)
        return proxy

    @staticmethod
    def _decode(body: bytes) -> Any:
        try:
            return decode_body(body)
        except GoDecodeError as exc:
            raise ApiError(f"bad request body: {exc}", 400) from None

    # proxies
    async def proxy_index(self, request: Request) -> Response:
        """``GET /proxies``: every proxy by name (sorted, like Go's map encoding)."""
        return self._json(
            200, {name: self.proxies[name].to_json() for name in sorted(self.proxies)}
        )

    async def proxy_create(self, request: Request) -> Response:
        """``POST /proxies``: create (and start, unless ``enabled`` is false) a proxy."""
        fields: dict[str, Any] = {"name": "", "listen": "", "upstream": "", "enabled": True}
        error = decode_fields(self._decode(request.body), "Proxy", _PROXY_FIELDS, fields)
        if error:
            raise ApiError(f"bad request body: {error}", 400)
        if not fields["name"]:
            raise ApiError("missing required field: name", 400)
        if not fields["upstream"]:
            raise ApiError("missing required field: upstream", 400)
        if fields["name"] in self.proxies:
            raise ApiError("proxy already exists", 409)
        proxy = Proxy(
            fields["name"],
            fields["listen"],
            fields["upstream"],
            self.rng,
            self.executor,
            self.events,
        )
        if fields["enabled"]:
            await proxy.start()
        self.proxies[proxy.name] = proxy
        return self._json(201, proxy.to_json())

    async def proxy_show(self, request: Request, name: str) -> Response:
        """``GET /proxies/{proxy}``."""
        return self._json(200, self._proxy(name).to_json())

    async def proxy_update(self, request: Request, name: str) -> Response:
        """``PATCH`` (or deprecated ``POST``) ``/proxies/{proxy}``: listen, upstream, enabled."""
        proxy = self._proxy(name)
        if request.method == "POST":
            log.warning(
                "POST /proxies/{proxy} is deprecated since Toxiproxy 2.6.0: use PATCH",
                extra={"fields": {"proxy": name}},
            )
        fields: dict[str, Any] = {
            "listen": proxy.listen,
            "upstream": proxy.upstream,
            "enabled": proxy.enabled,
        }
        error = decode_fields(self._decode(request.body), "Proxy", _PROXY_FIELDS, fields)
        if error:
            raise ApiError(f"bad request body: {error}", 400)
        fields.pop("name", None)
        resolved = resolved_listen_string(fields["listen"])
        if resolved != proxy.listen or fields["upstream"] != proxy.upstream:
            proxy.stop()
            proxy.listen = fields["listen"]
            proxy.upstream = fields["upstream"]
        if fields["enabled"] != proxy.enabled:
            if fields["enabled"]:
                await proxy.start()
            else:
                proxy.stop(disable=True)
        return self._json(200, proxy.to_json())

    async def proxy_delete(self, request: Request, name: str) -> Response:
        """``DELETE /proxies/{proxy}``: stop it (closing its connections) and forget it."""
        proxy = self._proxy(name)
        proxy.stop()
        del self.proxies[name]
        return Response(204)

    async def reset(self, request: Request) -> Response:
        """``POST /reset``: re-enable every proxy and remove every toxic."""
        for proxy in list(self.proxies.values()):
            await proxy.start()
            proxy.remove_all_toxics()
        return Response(204)

    async def populate(self, request: Request) -> Response:
        """``POST /populate``: create or replace proxies from a JSON array (see §6)."""
        try:
            created, error = await self.populate_value(self._decode(request.body))
        except ApiError as exc:
            created, error = [], exc
        body: dict[str, Any] = {}
        if error is not None:
            body = {"error": error.message, "status": error.status}
        body["proxies"] = [proxy.to_json() for proxy in created] or None
        status = error.status if error is not None else 201
        return self._json(status, body)

    async def populate_value(self, value: Any) -> tuple[list[Proxy], ApiError | None]:
        """Populate from an already decoded body (also used for ``-config``).

        :returns: the proxies created or kept, in input order, and the error
            that stopped the run (``None`` when every entry was applied).
        """
        if not isinstance(value, list):
            if value is None:
                return [], None
            raise ApiError(
                "bad request body: json: cannot unmarshal "
                f"{'object' if isinstance(value, dict) else type(value).__name__} "
                "into Go value of type []toxiproxy.Proxy",
                400,
            )
        entries: list[dict[str, Any]] = []
        for index, item in enumerate(value, start=1):
            fields: dict[str, Any] = {"name": "", "listen": "", "upstream": "", "enabled": True}
            error = decode_fields(item, "", _PROXY_FIELDS, fields, go_value_type="toxiproxy.Proxy")
            if error:
                raise ApiError(f"bad request body: {error}", 400)
            if not fields["name"]:
                raise ApiError(f"missing required field: name at proxy {index}", 400)
            if not fields["upstream"]:
                raise ApiError(f"missing required field: upstream at proxy {index}", 400)
            entries.append(fields)
        done: list[Proxy] = []
        for fields in entries:
            existing = self.proxies.get(fields["name"])
            if existing is not None:
                try:
                    same_listen = resolved_listen_string(fields["listen"]) == existing.listen
                except ApiError:
                    same_listen = False
                if same_listen and existing.upstream == fields["upstream"]:
                    done.append(existing)
                    continue
                existing.stop()
            proxy = Proxy(
                fields["name"],
                fields["listen"],
                fields["upstream"],
                self.rng,
                self.executor,
                self.events,
            )
            if fields["enabled"]:
                try:
                    await proxy.start()
                except ApiError as exc:
                    return done, exc
            self.proxies[proxy.name] = proxy
            done.append(proxy)
        return done, None

    # toxics
    async def toxic_index(self, request: Request, name: str) -> Response:
        """``GET /proxies/{proxy}/toxics``: upstream toxics first, then downstream."""
        return self._json(200, [toxic_json(entry) for entry in self._proxy(name).toxics()])

    async def toxic_create(self, request: Request, name: str) -> Response:
        """``POST /proxies/{proxy}/toxics``: add a toxic; it reaches live connections."""
        proxy = self._proxy(name)
        body = self._decode(request.body)
        wrapper: dict[str, Any] = {"stream": "downstream", "toxicity": 1.0, "name": "", "type": ""}
        error = decode_fields(
            body, "ToxicWrapper", _TOXIC_FIELDS, wrapper, go_value_type="toxics.ToxicWrapper"
        )
        if error:
            raise ApiError(f"bad request body: {error}", 400)
        stream = wrapper["stream"]
        direction: Direction
        if stream.lower() == "upstream":
            direction = "upstream"
        elif stream.lower() == "downstream":
            direction = "downstream"
        else:
            raise ApiError("stream was invalid, can be either upstream or downstream", 400)
        toxic_name = wrapper["name"] or f"{wrapper['type']}_{stream}"
        toxic_class = TOXICS.get(wrapper["type"])
        if toxic_class is None:
            raise ApiError("invalid toxic type", 400)
        if proxy.find_toxic(toxic_name) is not None:
            raise ApiError("toxic already exists", 409)
        toxic = toxic_class()
        values = dict(toxic.values)
        error = decode_fields(
            wrapper.get("attributes"),
            toxic_class.go_struct,
            toxic_class.attributes,
            values,
            path="attributes.",
            go_value_type=f"toxics.{toxic_class.go_struct}",
        )
        if error:
            raise ApiError(f"bad request body: {error}", 400)
        problem = toxic.validate(values)
        if problem:
            raise ApiError(problem, 400)
        toxic.values.update(values)
        entry = ToxicEntry(
            toxic_name, wrapper["type"], stream, direction, wrapper["toxicity"], toxic
        )
        proxy.add_toxic(entry)
        return self._json(200, toxic_json(entry))

    def _toxic(self, proxy: Proxy, name: str) -> ToxicEntry:
        entry = proxy.find_toxic(name)
        if entry is None:
            raise ApiError("toxic not found", 404)
        return entry

    async def toxic_show(self, request: Request, name: str, toxic: str) -> Response:
        """``GET /proxies/{proxy}/toxics/{toxic}``."""
        return self._json(200, toxic_json(self._toxic(self._proxy(name), toxic)))

    async def toxic_update(self, request: Request, name: str, toxic: str) -> Response:
        """``PATCH`` (or ``POST``): merge ``attributes``, set ``toxicity``; restarts it on links."""
        proxy = self._proxy(name)
        entry = self._toxic(proxy, toxic)
        body = self._decode(request.body)
        fields: dict[str, Any] = {"toxicity": entry.toxicity}
        toxic_class = type(entry.toxic)
        update_fields = {
            "attributes": f"object:toxics.{toxic_class.go_struct}",
            "toxicity": "float32",
        }
        error = decode_fields(body, "", update_fields, fields)
        values = dict(entry.toxic.values)
        error = error or decode_fields(
            fields.get("attributes"),
            toxic_class.go_struct,
            toxic_class.attributes,
            values,
            path="attributes.",
            go_value_type=f"toxics.{toxic_class.go_struct}",
        )
        if error:
            raise ApiError(f"bad request body: {error}", 400)
        problem = entry.toxic.validate(values)
        if problem:
            raise ApiError(problem, 400)
        entry.toxic.values.update(values)
        entry.toxicity = fields["toxicity"]
        proxy.update_toxic(entry)
        return self._json(200, toxic_json(entry))

    async def toxic_delete(self, request: Request, name: str, toxic: str) -> Response:
        """``DELETE /proxies/{proxy}/toxics/{toxic}``: never waits on the data path."""
        proxy = self._proxy(name)
        proxy.remove_toxic(self._toxic(proxy, toxic))
        return Response(204)

    async def version(self, request: Request) -> Response:
        """``GET /version``: ``{"version": "2.12.0"}`` plus a newline, as Toxiproxy sends it."""
        body = f'{{"version": "{TOXIPROXY_VERSION}"}}\n'.encode()
        return Response(200, body, [("Content-Type", "application/json;charset=utf-8")])

    # shutdown
    def stop_all(self) -> None:
        """Stop every proxy (closing every connection)."""
        for proxy in self.proxies.values():
            proxy.stop()

    async def wait_closed(self, timeout: float = 5.0) -> None:
        """Wait until every connection has released its sockets, then stop the writers."""
        deadline = asyncio.get_running_loop().time() + timeout
        while any(proxy.connections for proxy in self.proxies.values()):
            if asyncio.get_running_loop().time() > deadline:
                log.warning("connections still open at shutdown")
                break
            await asyncio.sleep(0.01)
        self.executor.shutdown(wait=False, cancel_futures=True)
