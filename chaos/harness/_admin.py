"""The admin API: drive the fault plane over HTTP/JSON, from tests in any language.

One API over every fault in force, HTTP and network (the fault plane's), served
on the gateway's admin listener (:class:`chaos.gateway._admin.AdminHandler`), which
answers for the gateway's own routes (``/health``, ``/journal``) too. Only
loopback clients are served unless the gateway allows remote admins. Routes:

``GET /health``
    status, seed, the target listeners, the journal's next sequence number (the gateway's).
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
    the journal's records from SEQ on, and how many were dropped (the gateway's).
``GET /fired``
    fault name -> times it fired (every declared fault, 0 if it never did).

The admin API sits above the plane and the gateway: the gateway serves whatever
routes it is handed (:attr:`chaos.gateway.Gateway.admin_api`) and knows nothing of
the plane. A harness hands it this API over its plane; a gateway alone serves its
own routes, or this API over a plane of its own:
``gateway.admin_api = AdminAPI(FaultPlane(gateway))`` (HTTP faults only).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from chaos.gateway._admin import Answer, gateway_routes

if TYPE_CHECKING:
    from chaos.faults import Fault
    from chaos.gateway._gateway import AdminRoute
    from chaos.harness._contract import HarnessLike
    from chaos.harness._plane import FaultPlane

__all__ = ["AdminAPI", "describe_fault"]


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
    :param harness: the harness around it, for ``GET /harness`` (None: a plane alone over a
        gateway, with no network executor).
    """

    def __init__(self, plane: FaultPlane, harness: HarnessLike | None = None) -> None:
        self.plane = plane
        self.harness = harness

    def routes(self) -> dict[tuple[str, str], AdminRoute]:
        """``(METHOD, /path)`` -> route."""
        routes: dict[tuple[str, str], AdminRoute] = {
            **gateway_routes(self.plane.gateway),
            ("GET", "/rules"): self.rules,
            ("PUT", "/rules"): self.put_rules,
            ("DELETE", "/rules"): self.delete_rules,
            ("POST", "/inject"): self.inject,
            ("DELETE", "/inject"): self.remove,
            ("POST", "/reset"): self.reset,
            ("GET", "/fired"): self.fired,
        }
        if self.harness is not None:
            routes[("GET", "/harness")] = self.describe
        return routes

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

    def fired(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``GET /fired``."""
        return 200, self.plane.fired()
