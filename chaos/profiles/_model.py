"""The typed profile: targets, phases on a timeline, and their faults.

A :class:`Profile` is what :func:`~chaos.profiles.load_profile` returns after
full validation: every field has its final type, ramps are expanded into
phases, parameters are substituted, and every fault is a
:class:`~chaos.faults.Fault` with a stable name (``<phase>/<index>-<kind>``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from chaos._errors import UnknownPhase
from chaos.common._target import Target
from chaos.faults import Fault
from chaos.providers._replies import Reply

__all__ = ["Clock", "Count", "Phase", "Profile", "Start", "TargetSpec"]

Clock = Literal["requests", "wall"]
Count = Literal["global", "per_target"]
Start = Literal["first_request", "apply"]

CLOCKS: tuple[Clock, ...] = ("requests", "wall")
COUNTS: tuple[Count, ...] = ("global", "per_target")
STARTS: tuple[Start, ...] = ("first_request", "apply")
VERSION = 1


TargetSpec = Target
"""A target a profile's faults aim at: :class:`chaos.Target` (the one target type;
this name is kept for code that imports it from here)."""


@dataclass(frozen=True, slots=True)
class Phase:
    """One window of a profile's timeline and the faults active in it.

    :param name: unique in the profile; ramp steps are ``<ramp>.<step>`` (from 1).
    :param at: start, in seconds of incident time (``wall`` clock) or in requests.
    :param until: end (exclusive), or None: open until the next phase or forever.
    :param faults: the faults active in this phase, in priority order.
    :param description: what happened then, in words.
    :param hold: ``wall`` clock: the phase lasts its scaled time and at least until this
        many attempts on the targets its faults aim at met it (0: no hold).
    """

    name: str
    at: float
    until: float | None
    faults: tuple[Fault, ...] = ()
    description: str = ""
    hold: int = 0

    def http_faults(self) -> tuple[Fault, ...]:
        """The faults the gateway applies (HTTP, SSE and wire actions)."""
        return tuple(f for f in self.faults if f.action.layer == "http")

    def network_faults(self) -> tuple[Fault, ...]:
        """The faults applied as Toxiproxy toxics (``network:``)."""
        return tuple(f for f in self.faults if f.action.layer == "network")


@dataclass(frozen=True, slots=True)
class Profile:
    """A validated fault profile.

    :param name: the profile's name (``claude-2026-03-02``).
    :param title: one line for lists and reports.
    :param source: the incident it models (a link or a report's file name), or ``generic``.
    :param description: what it models and what an app should do about it.
    :param clock: ``wall`` (``at`` in incident time, scaled by ``time_scale``)
        or ``requests`` (``at`` counts requests).
    :param time_scale: incident seconds per second of test time (``wall`` clock).
    :param start: ``wall`` clock: when incident time 0 is: at the first request a
        target receives after the profile is applied (``first_request``: an app that
        takes seconds to start still sees the whole incident) or at apply time
        (``apply``: for profiles whose first phase keeps every request away).
    :param count: ``requests`` clock: count all targets' requests (``global``)
        or each target's own (``per_target``).
    :param seed: the seed for probabilistic faults, unless the run gives one.
    :param targets: name -> target.
    :param phases: the timeline, in order of ``at``.
    :param parameters: the parameter values substituted into this profile.
    :param path: the file it was loaded from, if any.
    :param replies: (target, scripted reply) pairs, tried in order.
    """

    name: str
    title: str
    targets: Mapping[str, TargetSpec]
    phases: tuple[Phase, ...]
    source: str = ""
    description: str = ""
    clock: Clock = "requests"
    time_scale: float = 1.0
    start: Start = "first_request"
    count: Count = "global"
    seed: int | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None
    version: int = VERSION
    replies: tuple[tuple[str, Reply], ...] = ()
    """Scripted replies, as (target, reply), in order (the top-level ``replies`` list)."""

    def faults(self) -> tuple[Fault, ...]:
        """Every fault of every phase, in timeline order."""
        return tuple(fault for phase in self.phases for fault in phase.faults)

    def phase(self, name: str) -> Phase:
        """The phase called ``name``.

        :raises chaos.UnknownPhase: (a ``ProfileError`` and a ``KeyError``) naming
            the profile's phases, if it has none called ``name``.
        """
        for phase in self.phases:
            if phase.name == name:
                return phase
        raise UnknownPhase(self.name, name, (p.name for p in self.phases))

    def unreached_faults(self, seen: Iterable[str]) -> frozenset[str]:
        """The faults of phases not in ``seen`` (the phases a run met): not the run's to
        fire. None when no phase was met: then the first phase was missed, and that is
        the problem to report."""
        reached = set(seen)
        if not reached:
            return frozenset()
        missed = (f.name for p in self.phases if p.name not in reached for f in p.faults)
        return frozenset(name for name in missed if name)

    def span(self) -> float:
        """Where the timeline's last phase starts or, if it has one, ends."""
        last = self.phases[-1] if self.phases else None
        if last is None:
            return 0.0
        return last.until if last.until is not None else last.at
