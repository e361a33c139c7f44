"""The admin API: drive the fault plane over HTTP/JSON, from tests in any language.

One API over every fault in force, HTTP and network (the fault plane's), served
on the gateway's admin listener. Only loopback clients are served unless the
gateway allows remote admins. Routes:

``GET /health``
    status, seed, the target listeners, the journal's next sequence number.
``GET /harness``
    what a client needs to share a harness (seed, endpoints, env...); harness only.
``GET /rules``
    every fault in force now: injected ones, then the active phase's, with
    ``source`` (``inject`` or ``profile``) and ``layer``.
``PUT /rules``
    replace every fault (a profile included) with a JSON list of fault mappings
    (the form a profile uses); all are checked before any is in force.
``DELETE /rules``
    remove every fault: injected ones and the profile (its timeline, toxics, replies).
``POST /inject``
    one fault mapping with its ``target``, layered over the profile.
``DELETE /inject[?name=N]``
    remove the injected fault(s) named N, or every injected one; the profile stays.
``POST /reset``
    ``DELETE /rules``, then forget the journal, fired counts and phases seen.
``GET /journal?since=SEQ``
    the journal's records from SEQ on, and how many were dropped.
``GET /fired``
    fault name -> times it fired (every declared fault, 0 if it never did).

Routes other than ``/health`` run in a worker thread (they may call Toxiproxy,
which can be served by the gateway's own loop). A bare :class:`~chaos.gateway.Gateway`
serves the same API over a fault plane of its own without a network executor.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from chaos._errors import ChaosError
from chaos.gateway._exchange import header_block
from chaos.gateway._http import Connection, status_line
from chaos.gateway._upstream import is_loopback
from chaos.providers._base import Request

if TYPE_CHECKING:
    from chaos._harness import Harness
    from chaos._plane import FaultPlane
    from chaos.faults import Fault
    from chaos.gateway._gateway import AdminRoute, Gateway

__all__ = ["AdminAPI", "AdminHandler", "describe_fault"]

Answer = tuple[int, Any]


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


def _json(body: bytes, what: str) -> tuple[Any, Answer | None]:
    try:
        return json.loads(body or b"null"), None
    except ValueError as exc:
        return None, (400, {"error": f"{what}: the body is not JSON: {exc}"})


class AdminAPI:
    """The admin API's routes over a fault plane (see the module's docstring).

    :param plane: the fault plane the routes drive.
    :param harness: the harness around it, for ``GET /harness``; None for a bare gateway.
    """

    def __init__(self, plane: FaultPlane, harness: Harness | None = None) -> None:
        self.plane = plane
        self.harness = harness

    def routes(self) -> dict[tuple[str, str], AdminRoute]:
        """``(METHOD, /path)`` -> route."""
        routes: dict[tuple[str, str], AdminRoute] = {
            ("GET", "/health"): self.health,
            ("GET", "/rules"): self.rules,
            ("PUT", "/rules"): self.put_rules,
            ("DELETE", "/rules"): self.delete_rules,
            ("POST", "/inject"): self.inject,
            ("DELETE", "/inject"): self.remove,
            ("POST", "/reset"): self.reset,
            ("GET", "/journal"): self.journal,
            ("GET", "/fired"): self.fired,
        }
        if self.harness is not None:
            routes[("GET", "/harness")] = self.describe
        return routes

    def health(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``GET /health``."""
        gw = self.plane.gateway
        return 200, {
            "status": "ok",
            "seed": gw.seed,
            "targets": gw.urls,
            "journal": {"next_seq": gw.next_seq, "dropped": gw.dropped},
        }

    def describe(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``GET /harness``: what a client needs to share this harness."""
        h = self.harness
        assert h is not None
        backend = h.backend
        return 200, {
            "seed": h.seed,
            "targets": {t.name: t.dialect_name for t in h.targets},
            "endpoints": h.endpoints,
            "env": h.env,
            "backend": {"name": backend.name, "reason": backend.reason, "caveat": backend.caveat},
            "profile": h.profile.name if h.profile is not None else None,
            "fired": self.plane.fired(),
            "network_unseen": self.plane.network_unseen,
            "phases": self.plane.phases_seen(),
            "next_seq": self.plane.gateway.next_seq,
        }

    def rules(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``GET /rules``: every fault in force now, with where it comes from."""
        return 200, [
            {**describe_fault(fault), "source": source, "layer": fault.action.layer}
            for source, fault in self.plane.active_faults()
        ]

    def put_rules(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``PUT /rules``: replace every fault, the profile's included."""
        from chaos.profiles import parse_fault

        data, error = _json(body, "PUT /rules")
        if error is not None:
            return error
        if isinstance(data, dict) and "rules" in data:
            data = data["rules"]
        if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
            return 400, {"error": "PUT /rules takes a JSON list of fault mappings"}
        gateway = self.plane.gateway
        parsed = [parse_fault(item, source=f"admin API: rule {i}") for i, item in enumerate(data)]
        for fault in parsed:  # all checked before any is in force
            self.plane.executor(fault).check([fault])
        self.plane.clear()
        for item in data:
            mapping = dict(item)
            target = mapping.pop("target", None)
            if target not in gateway.targets:
                return 400, {
                    "error": f"admin API: unknown target {target!r}; "
                    f"targets: {', '.join(gateway.targets)}"
                }
            self.plane.inject(target, **mapping)
        return self.rules(query, b"")

    def delete_rules(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``DELETE /rules``: remove every fault (injected and the profile's)."""
        self.plane.clear()
        return 200, []

    def reset(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``POST /reset``: remove every fault, forget the journal, fired counts, phases."""
        if self.harness is not None:
            self.harness.reset()  # its scripted replies too
        else:
            self.plane.reset()
        return 200, {"status": "reset"}

    def inject(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``POST /inject``: one fault mapping with its ``target``, layered over the profile
        (unlike ``PUT /rules``, which replaces every fault, the profile's included)."""
        data, error = _json(body, "POST /inject")
        if error is not None:
            return error
        if not isinstance(data, dict) or not isinstance(data.get("target"), str):
            return 400, {"error": "POST /inject takes a JSON fault mapping with a 'target'"}
        fault = dict(data)
        target = fault.pop("target")
        injected = self.plane.inject(target, **fault)
        return 200, {"name": injected.name, "layer": injected.action.layer}

    def remove(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``DELETE /inject[?name=N]``: remove the injected fault(s) named N, or every
        injected fault; the profile stays."""
        names = set(query.get("name", []))
        chosen = [f for f in self.plane.injected() if not names or f.name in names]
        for fault in chosen:
            self.plane.remove(fault)
        return 200, {"removed": [f.name for f in chosen]}

    def journal(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``GET /journal?since=SEQ``."""
        try:
            since = int(query.get("since", ["0"])[0])
        except ValueError:
            return 400, {"error": "since must be an integer journal sequence number"}
        gw = self.plane.gateway
        return 200, {"dropped": gw.dropped, "records": [r.to_dict() for r in gw.journal(since)]}

    def fired(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``GET /fired``."""
        return 200, self.plane.fired()


class AdminHandler:
    """Serves the admin API on the gateway's admin listener; every answer is JSON.

    The routes are the gateway's :attr:`~chaos.gateway.Gateway.admin_api`'s (a bare
    gateway makes one over a fault plane of its own), then its extra ``admin_routes``.
    """

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway

    def _routes(self) -> dict[tuple[str, str], AdminRoute]:
        gw = self.gateway
        if gw.admin_api is None:
            from chaos._plane import FaultPlane

            gw.admin_api = AdminAPI(FaultPlane(gw))
        return {**gw.admin_api.routes(), **gw.admin_routes}

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
