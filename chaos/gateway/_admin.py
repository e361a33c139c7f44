"""The admin API: drive the gateway over HTTP/JSON from tests in any language.

``GET /health``, ``GET|PUT|DELETE /rules``, ``GET /journal?since=SEQ``,
``POST /reset``, ``GET /fired``. ``PUT /rules`` takes a JSON list of faults in
the mapping form a profile uses (parsed by ``chaos.profiles.parse_fault``).
Only loopback clients are served unless the gateway allows remote admins.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from chaos._errors import ChaosError
from chaos.gateway._exchange import header_block
from chaos.gateway._http import Connection, status_line
from chaos.gateway._upstream import is_loopback
from chaos.providers._base import Request

if TYPE_CHECKING:
    from chaos.faults import Fault
    from chaos.gateway._gateway import AdminRoute, Gateway

__all__ = ["AdminHandler", "describe_fault"]


def describe_fault(fault: Fault, name: str | None = None) -> dict[str, Any]:
    """A JSON-ready view of a fault (what ``GET /rules`` lists)."""
    from dataclasses import asdict, fields, is_dataclass

    match = {k: v for k, v in asdict(fault.match).items() if v is not None}
    schedule = {k: v for k, v in asdict(fault.schedule).items() if v is not None}
    action = fault.action
    params: dict[str, Any] = (
        {f.name: getattr(action, f.name) for f in fields(action)} if is_dataclass(action) else {}
    )
    return {
        "name": name or fault.name,
        "target": fault.target,
        "phase": fault.phase,
        "match": match,
        "schedule": schedule,
        "action": action.describe(),
        action.kind: params,
    }


class AdminHandler:
    """Routes admin requests; every answer is JSON."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def on_request(self, conn: Connection, request: Request) -> Coroutine[Any, Any, None] | None:
        peer = conn.peer[0] if conn.peer else ""
        if not self.gateway.admin_remote and not is_loopback(str(peer)):
            self._send(conn, 403, {"error": f"admin API serves loopback clients only, not {peer}"})
            return None
        parts = urlsplit(request.path)
        route = (request.method, parts.path.rstrip("/") or "/")
        extra = self.gateway.admin_routes.get(route)
        if extra is not None:
            return self._offload(conn, extra, parse_qs(parts.query), request.body)
        try:
            status, payload = self._route(route, parse_qs(parts.query), request)
        except ChaosError as exc:
            status, payload = 400, {"error": str(exc)}
        except Exception as exc:  # a bug must not kill the admin connection silently
            status, payload = 500, {"error": repr(exc)}
        self._send(conn, status, payload)
        return None

    def _route(
        self, route: tuple[str, str], query: dict[str, list[str]], request: Request
    ) -> tuple[int, Any]:
        gw = self.gateway
        method, path = route
        if path == "/health" and method == "GET":
            return 200, {
                "status": "ok",
                "seed": gw.seed,
                "targets": gw.urls,
                "journal": {"next_seq": gw._journal.next_seq, "dropped": gw.dropped},
            }
        if path == "/rules":
            if method == "GET":
                return 200, self._rules()
            if method == "PUT":
                return self._put_rules(request.body)
            if method == "DELETE":
                gw.clear()
                return 200, []
        if path == "/journal" and method == "GET":
            try:
                since = int(query.get("since", ["0"])[0])
            except ValueError:
                return 400, {"error": "since must be an integer journal sequence number"}
            return 200, {
                "dropped": gw.dropped,
                "records": [r.to_dict() for r in gw.journal(since)],
            }
        if path == "/reset" and method == "POST":
            gw.reset()
            return 200, {"status": "reset"}
        if path == "/fired" and method == "GET":
            return 200, gw.fired()
        known = (
            "GET /health, GET|PUT|DELETE /rules, GET /journal?since=SEQ, POST /reset, GET /fired"
        )
        if gw.admin_routes:
            known += ", " + ", ".join(f"{m} {p}" for m, p in gw.admin_routes)
        return 404, {"error": f"no admin route {method} {path}; routes: {known}"}

    async def _offload(
        self, conn: Connection, route: AdminRoute, query: dict[str, list[str]], body: bytes
    ) -> None:
        # a route of the harness may call Toxiproxy, which can be served by this very loop
        try:
            status, payload = await asyncio.to_thread(route, query, body)
        except ChaosError as exc:
            status, payload = 400, {"error": str(exc)}
        except Exception as exc:
            status, payload = 500, {"error": repr(exc)}
        self._send(conn, status, payload)

    def _rules(self) -> list[dict[str, Any]]:
        faults = getattr(self.gateway.source, "faults", ())
        return [describe_fault(f) for f in faults]

    def _put_rules(self, body: bytes) -> tuple[int, Any]:
        from chaos.profiles import parse_fault

        try:
            data = json.loads(body or b"null")
        except ValueError as exc:
            return 400, {"error": f"PUT /rules: the body is not JSON: {exc}"}
        if isinstance(data, dict) and "rules" in data:
            data = data["rules"]
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            return 400, {"error": "PUT /rules takes a JSON list of fault mappings"}
        faults = [parse_fault(item, source=f"admin API: rule {i}") for i, item in enumerate(data)]
        self.gateway.set_faults(faults, keep_counts=False)
        return 200, self._rules()

    @staticmethod
    def _send(conn: Connection, status: int, payload: Any) -> None:
        body = json.dumps(payload, default=str).encode()
        head = status_line(status) + header_block([("content-type", "application/json")])
        head += b"content-length: %d\r\n%s\r\n" % (
            len(body),
            b"connection: keep-alive\r\n" if conn.keep_alive else b"connection: close\r\n",
        )
        conn.write(head if conn.head_only else head + body)
