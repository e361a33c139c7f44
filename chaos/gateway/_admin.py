"""The gateway's admin listener: serves admin routes as JSON, to loopback clients only.

What it serves is handed to it: the gateway's own routes (``GET /health``, ``GET
/journal``, ``GET /fired``: :func:`gateway_routes`) unless the gateway's
:attr:`~chaos.gateway.Gateway.admin_api` gives the routes (a harness hands it the
admin API over its fault plane, :mod:`chaos.harness._admin`), then the gateway's
extra ``admin_routes``. Only loopback clients are served unless the gateway allows
remote admins. Routes other than ``/health`` run in a worker thread (they may call
Toxiproxy, which can be served by the gateway's own loop).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qs, urlsplit

from chaos._errors import ChaosError
from chaos.gateway._exchange import header_block
from chaos.gateway._http import Connection, status_line
from chaos.gateway._upstream import is_loopback
from chaos.providers._base import Request

if TYPE_CHECKING:
    from chaos.gateway._gateway import AdminRoute, Gateway

__all__ = ["AdminHandler", "AdminRoutes", "gateway_routes"]

Answer = tuple[int, Any]


class AdminRoutes(Protocol):
    """What hands the admin listener its routes (the harness's admin API over its plane)."""

    def routes(self) -> dict[tuple[str, str], AdminRoute]:
        """``(METHOD, /path)`` -> route."""
        ...


def gateway_routes(gateway: Gateway) -> dict[tuple[str, str], AdminRoute]:
    """The routes a gateway answers for itself: ``GET /health``, ``GET /journal``, ``GET /fired``.

    :param gateway: the gateway whose listeners, journal and fired counts they read.
    """

    def health(query: Mapping[str, list[str]], body: bytes) -> Answer:
        return 200, {
            "status": "ok",
            "seed": gateway.seed,
            "targets": gateway.urls,
            "journal": {"next_seq": gateway.next_seq, "dropped": gateway.dropped},
        }

    def journal(query: Mapping[str, list[str]], body: bytes) -> Answer:
        try:
            since = int(query.get("since", ["0"])[0])
        except ValueError:
            return 400, {"error": "since must be an integer journal sequence number"}
        records = [r.to_dict() for r in gateway.journal(since)]
        return 200, {"dropped": gateway.dropped, "records": records}

    def fired(query: Mapping[str, list[str]], body: bytes) -> Answer:
        return 200, gateway.fired()

    return {("GET", "/health"): health, ("GET", "/journal"): journal, ("GET", "/fired"): fired}


class AdminHandler:
    """Serves the admin API on the gateway's admin listener; every answer is JSON.

    The routes are the gateway's :attr:`~chaos.gateway.Gateway.admin_api`'s (a gateway
    without one answers its own, :func:`gateway_routes`), then its extra ``admin_routes``.
    """

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def _routes(self) -> dict[tuple[str, str], AdminRoute]:
        gw = self.gateway
        routes = gateway_routes(gw) if gw.admin_api is None else gw.admin_api.routes()
        return {**routes, **gw.admin_routes}

    def on_request(self, conn: Connection, request: Request) -> Coroutine[Any, Any, None] | None:
        peer = conn.peer[0] if conn.peer else ""
        if not self.gateway.admin_remote and not is_loopback(str(peer)):
            self._send(conn, 403, {"error": f"admin API serves loopback clients only, not {peer}"})
            return None
        parts = urlsplit(request.path)
        method, path = request.method, parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query)
        routes = self._routes()
        route = routes.get((method, path))
        if route is None:
            known = ", ".join(f"{m} {p}" for m, p in routes)
            self._send(conn, 404, {"error": f"no admin route {method} {path}; routes: {known}"})
            return None
        if path == "/health":  # answered on the loop: it must answer while a route is busy
            self._send(conn, *self._call(route, query, request.body))
            return None
        return self._offload(conn, route, query, request.body)

    @staticmethod
    def _call(route: Callable[..., Answer], query: Mapping[str, list[str]], body: bytes) -> Answer:
        try:
            return route(query, body)
        except ChaosError as exc:
            return 400, {"error": str(exc)}
        except Exception as exc:  # a bug must not kill the admin connection silently
            return 500, {"error": repr(exc)}

    async def _offload(
        self, conn: Connection, route: AdminRoute, query: Mapping[str, list[str]], body: bytes
    ) -> None:
        # a route may call Toxiproxy, which can be served by this very loop
        status, payload = await asyncio.to_thread(self._call, route, query, body)
        self._send(conn, status, payload)

    @staticmethod
    def _send(conn: Connection, status: int, payload: Any) -> None:
        body = json.dumps(payload, default=str).encode()
        head = status_line(status) + header_block([("content-type", "application/json")])
        head += b"content-length: %d\r\n%s\r\n" % (
            len(body),
            b"connection: keep-alive\r\n" if conn.keep_alive else b"connection: close\r\n",
        )
        conn.write(head if conn.head_only else head + body)
