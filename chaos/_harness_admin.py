"""The harness's admin API routes: one API over every fault in force, HTTP and network.

The gateway serves ``/health``, ``/journal`` and ``/fired`` itself; a harness
replaces its ``/rules`` and ``/reset`` with these (the gateway alone sees only
its HTTP rules: a profile's timeline, the network faults and the injected
faults are the harness's) and adds ``/harness`` and ``/inject``:

``GET /harness``
    what a client needs to share this harness (seed, endpoints, env...).
``GET /rules``
    every fault in force now: injected ones, then the active phase's.
``PUT /rules``
    replace every fault (the profile's included) with a JSON list of mappings.
``DELETE /rules``
    remove every fault: injected ones and the profile, timeline and toxics.
``POST /reset``
    ``DELETE /rules``, then forget the journal, fired counts and phases.
``POST /inject``
    one fault mapping with its ``target``, layered over the profile.
``DELETE /inject[?name=N]``
    remove the injected fault(s) named N, or every injected one; the profile stays.

Routes run in a worker thread (they may call Toxiproxy).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chaos._harness import Harness
    from chaos.gateway._gateway import AdminRoute

__all__ = ["admin_routes"]

Answer = tuple[int, Any]


def admin_routes(harness: Harness) -> dict[tuple[str, str], AdminRoute]:
    """The routes of ``harness``'s admin API, for ``Gateway.admin_routes``."""
    api = _HarnessAdmin(harness)
    return {
        ("GET", "/harness"): api.describe,
        ("GET", "/rules"): api.rules,
        ("PUT", "/rules"): api.put_rules,
        ("DELETE", "/rules"): api.delete_rules,
        ("POST", "/reset"): api.reset,
        ("POST", "/inject"): api.inject,
        ("DELETE", "/inject"): api.remove,
    }


def _json(body: bytes, what: str) -> tuple[Any, Answer | None]:
    try:
        return json.loads(body or b"null"), None
    except ValueError as exc:
        return None, (400, {"error": f"{what}: the body is not JSON: {exc}"})


class _HarnessAdmin:
    def __init__(self, harness: Harness) -> None:
        self.harness = harness

    def describe(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``GET /harness``: what a client needs to share this harness."""
        h = self.harness
        backend = h.backend
        return 200, {
            "seed": h.seed,
            "targets": {t.name: t.dialect_name for t in h.targets},
            "endpoints": h.endpoints,
            "env": h.env,
            "backend": {"name": backend.name, "reason": backend.reason, "caveat": backend.caveat},
            "profile": h.profile.name if h.profile is not None else None,
            "fired": h.fired(),
            "network_unseen": h.network_unseen,
            "phases": h.phases_seen(),
            "next_seq": h._gw()._journal.next_seq,
        }

    def rules(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``GET /rules``: every fault in force now, with where it comes from."""
        from chaos.gateway._admin import describe_fault

        return 200, [
            {**describe_fault(fault), "source": source, "layer": fault.action.layer}
            for source, fault in self.harness.active_faults()
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
        for index, item in enumerate(data):  # all checked before any is in force
            parse_fault(item, source=f"admin API: rule {index}")
        self.harness.clear()
        for item in data:
            fault = dict(item)
            self.harness.inject(fault.pop("target"), **fault)
        return self.rules(query, b"")

    def delete_rules(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``DELETE /rules``: remove every fault (injected and the profile's)."""
        self.harness.clear()
        return 200, []

    def reset(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``POST /reset``: remove every fault, forget the journal, fired counts, phases."""
        self.harness.reset()
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
        injected = self.harness.inject(target, **fault)
        return 200, {"name": injected.name, "layer": injected.action.layer}

    def remove(self, query: Mapping[str, list[str]], body: bytes) -> Answer:
        """``DELETE /inject[?name=N]``: remove the injected fault(s) named N, or every
        injected fault; the profile stays."""
        names = set(query.get("name", []))
        chosen = [f for f in self.harness.injected() if not names or f.name in names]
        for fault in chosen:
            self.harness.remove(fault)
        return 200, {"removed": [f.name for f in chosen]}
