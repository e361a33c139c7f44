"""What the reporters need to know about a test: the profile applied and its phases."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chaos.common._journal import JournalRecord
from chaos.report._timeline import NetworkSpan, PhaseSpan, phases_from_records

__all__ = ["applied_profile", "network_spans", "phase_spans"]


def applied_profile(item: Any, harness: Any) -> Any:
    """The profile a test ran under: a loaded ``chaos.profiles.Profile``, a name, or None.

    Looked up on the harness (``harness.profile``), then on the test's ``chaos``
    fixture (the last profile it applied), then on its ``chaos`` marker.
    """
    profile = getattr(harness, "profile", None)
    if profile is not None:
        return profile
    fixture = (getattr(item, "funcargs", None) or {}).get("chaos")
    applied = list(getattr(fixture, "profiles", None) or ())
    if applied:
        return applied[-1]
    named = getattr(fixture, "profile", None)
    if isinstance(named, str):
        return named
    get_marker = getattr(item, "get_closest_marker", None)
    marker = get_marker("chaos") if get_marker is not None else None
    return marker.kwargs.get("profile") if marker is not None else None


def phase_spans(profile: Any, records: Sequence[JournalRecord]) -> list[PhaseSpan]:
    """The profile's phases in seconds from the first request, for the timeline.

    ``wall`` clock: incident time divided by ``time_scale`` (with a phase ``hold``:
    the phases the journal shows, since holds moved them). ``requests`` clock:
    a phase starts at the request its ``at`` counts to (global count), so only
    phases the run reached are drawn. Without a loaded profile: the phases the
    journal shows (see :func:`~chaos.report.phases_from_records`).
    """
    ordered = sorted(records, key=lambda r: r.seq)
    origin = ordered[0].time if ordered else 0.0
    phases = getattr(profile, "phases", None)
    if not phases:
        return phases_from_records(ordered, origin)
    if getattr(profile, "clock", "requests") == "wall" and any(
        getattr(p, "hold", 0) for p in phases
    ):  # held phases moved the later ones by as long as they held: the journal knows where
        return phases_from_records(ordered, origin)
    if getattr(profile, "clock", "requests") == "wall":
        scale = float(getattr(profile, "time_scale", 1.0) or 1.0)
        return [
            PhaseSpan(p.name, p.at / scale, None if p.until is None else p.until / scale)
            for p in phases
        ]
    spans: list[PhaseSpan] = []
    for phase in phases:
        index = int(phase.at)
        if index < len(ordered):
            end = None if phase.until is None or phase.until >= len(ordered) else int(phase.until)
            spans.append(
                PhaseSpan(
                    phase.name,
                    ordered[index].time - origin,
                    None if end is None else ordered[end].time - origin,
                )
            )
    return spans


def network_spans(profile: Any, spans: Sequence[PhaseSpan]) -> list[NetworkSpan]:
    """The profile's network faults (Toxiproxy toxics) on the timeline, per target.

    Each fault of a phase that was drawn (see :func:`phase_spans`) becomes a band
    over that phase on its target's lane: the requests a network fault stops may
    never reach the journal, so the band is what shows the target was hit.
    """
    phases = {p.name: p for p in getattr(profile, "phases", None) or ()}
    out: list[NetworkSpan] = []
    for index, span in enumerate(spans):
        phase = phases.get(span.name)
        if phase is None:
            continue
        end = span.end if span.end is not None else _next_start(spans, index)
        for fault in phase.network_faults():
            out.append(NetworkSpan(fault.target, _network_label(fault), span.start, end))
    return out


def _next_start(spans: Sequence[PhaseSpan], index: int) -> float | None:
    return spans[index + 1].start if index + 1 < len(spans) else None


def _network_label(fault: Any) -> str:
    text = str(fault.action.describe())
    kind, _, rest = text.partition(":")
    return f"network {rest.strip() or kind}" if kind == "network" else f"network: {text}"
