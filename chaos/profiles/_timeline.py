"""The timeline: which phase is active, and which faults apply, for a given request or moment.

A :class:`Timeline` is the gateway's rule source for a profile. With the
``requests`` clock the phase follows the request count (all targets', or each
target's own with ``count: per_target``), so a run is deterministic whatever
the machine's speed. With the ``wall`` clock it follows ``elapsed *
time_scale``, so a six-hour incident with ``time_scale: 3600`` replays in six
seconds; a phase with a ``hold`` lasts its scaled time and at least until that
many attempts on its targets met it, and the phases after it start later by as
much (an SDK's retries cannot then ride out a phase that is shorter than its
back-off).
"""

from __future__ import annotations

import bisect
import dataclasses
import random
import threading
from collections.abc import Sequence

from chaos.faults import Fault, Match, Schedule
from chaos.profiles._duration import format_duration
from chaos.profiles._model import Phase, Profile

__all__ = ["Timeline"]

_BAR = 48
QUIET_S = 10.0
"""A held phase also ends once the app has made no attempt for this long (test seconds):
it went quiet (a circuit breaker open, a cool-down), so the incident moves on without it.
Longer than an SDK's longest back-off between two attempts (8 s)."""


class Timeline:
    """A profile's phases on its clock, answering "which phase, which faults, now?".

    :param profile: a validated profile.
    :param seed: the seed for probabilistic choices; default the profile's ``seed``,
        else a random one (see :attr:`seed`).
    """

    def __init__(self, profile: Profile, seed: int | None = None) -> None:
        self.profile = profile
        if seed is None:
            seed = (
                profile.seed if profile.seed is not None else random.SystemRandom().randrange(2**32)
            )
        self.seed: int = seed
        """The seed in use: print it so a run can be repeated."""
        self._starts = [phase.at for phase in profile.phases]
        empty: dict[str, tuple[Fault, ...]] = {}
        self._by_target: list[dict[str, tuple[Fault, ...]]] = []
        for phase in profile.phases:
            table = {
                name: tuple(f for f in phase.faults if f.target == name) for name in profile.targets
            }
            self._by_target.append(table or empty)
        wall = profile.clock == "wall"
        # a hold counts the attempts on the targets the phase's faults aim at
        self._holds = [phase.hold if wall and phase.faults else 0 for phase in profile.phases]
        self._aimed = [frozenset(f.target for f in phase.faults) for phase in profile.phases]
        self._lock = threading.Lock()
        self._met = [0] * len(profile.phases)  # attempts on the phase's targets
        self._all = [0] * len(profile.phases)  # attempts on any target
        self._lapsed = [False] * len(profile.phases)  # held until the app went quiet
        self._last: float | None = None  # test time of the last attempt
        self._shift = 0.0  # test seconds the held phases added, so far
        # the holds that ended: (from, to) in test time, the incident point, the phase
        self._frozen: list[tuple[float, float, float, int]] = []

    def __repr__(self) -> str:
        return f"Timeline({self.profile.name!r}, seed={self.seed})"

    @property
    def start(self) -> str:
        """When ``elapsed`` counts from: ``first_request`` (a ``wall`` clock profile with
        ``start: first_request``: the first request after it is applied) or ``apply``."""
        wall = self.profile.clock == "wall"
        return "first_request" if wall and self.profile.start == "first_request" else "apply"

    # -- the gateway's rule-source protocol -----------------------------------------------------

    def select(
        self, *, target: str, request_index: int, target_index: int, elapsed: float
    ) -> tuple[str | None, Sequence[Fault]]:
        """The active phase's name and the faults for ``target`` (HTTP and network).

        :param target: the target the request came to.
        :param request_index: requests seen so far on every target (this one is number N, from 0).
        :param target_index: requests seen so far on this target.
        :param elapsed: seconds of test time since the clock started (see :attr:`start`).
        """
        if self.profile.clock == "wall":
            index = self.count_attempt(target, elapsed)
        elif self.profile.count == "per_target":
            index = self._index(target_index)
        else:
            index = self._index(request_index)
        if index is None:
            return None, ()
        return self.profile.phases[index].name, self._by_target[index].get(target, ())

    def count_attempt(self, target: str, elapsed: float) -> int | None:
        """``wall`` clock: an attempt on ``target`` after ``elapsed`` seconds of test time
        (one the gateway answered, or one a network fault turned away); the index of the
        phase it met. A held phase whose hold this attempt completes (``hold`` attempts
        on the targets its faults aim at, or twice as many on any target) ends with it:
        the next phase starts now, with its whole scaled time. A held phase also ends
        :data:`QUIET_S` after the last attempt, when no other came: the app went quiet."""
        with self._lock:
            index = self._wall_index(elapsed)
            self._last = elapsed
            if index is None or not self._holds[index]:
                return index
            done = self._done(index)
            self._all[index] += 1
            if target in self._aimed[index]:
                self._met[index] += 1
            if not done and self._done(index):
                self._held_until(index, elapsed)
            return index

    def _held_until(self, index: int, moment: float) -> None:
        # the held phase ends at ``moment`` (test time): if that is after its scaled end,
        # incident time stood still until then and the phases after it start later
        end = self._end(index)
        if end is None:
            return
        held_from = end / self.profile.time_scale + self._shift
        if moment > held_from:
            self._frozen.append((held_from, moment, end, index))
            self._shift += moment - held_from

    def incident_seconds(self, elapsed: float) -> float:
        """``wall`` clock: the incident time (seconds) at ``elapsed`` seconds of test time
        of this run: test time times ``time_scale``, less the time held phases added
        (while a phase is held, incident time stands at its end)."""
        with self._lock:
            frozen = list(self._frozen)
        point, _held = self._looking_back(frozen, elapsed)
        return point

    def _then(self, elapsed: float) -> int | None:
        # the phase at that moment of this run: held phases that ended are history
        with self._lock:
            if not self._frozen or elapsed >= self._frozen[-1][1]:
                return self._wall_index(elapsed)
            frozen = list(self._frozen)
        point, held = self._looking_back(frozen, elapsed)
        return held if held is not None else self._index(point)

    def _looking_back(
        self, frozen: list[tuple[float, float, float, int]], elapsed: float
    ) -> tuple[float, int | None]:
        # the incident point at ``elapsed``, and the phase then held, if one was
        shifted = 0.0
        for start, stop, point, index in frozen:
            if elapsed < start:
                break
            if elapsed < stop:
                return point, index
            shifted += stop - start
        return (elapsed - shifted) * self.profile.time_scale, None

    @property
    def holds(self) -> bool:
        """Whether a phase of this timeline is held until attempts met it (``hold``)."""
        return any(self._holds)

    def _wall_index(self, elapsed: float) -> int | None:
        # under the lock; a held phase that lapsed (the app went quiet) moves the clock on
        scale = self.profile.time_scale
        while True:
            point = (elapsed - self._shift) * scale
            started = bisect.bisect_right(self._starts, point)
            for index in range(started):  # a phase whose time is over holds until it is done
                end = self._end(index)
                if end is None or end > point or self._done(index):
                    continue
                held_from = end / scale + self._shift
                quiet = held_from if self._last is None else self._last + QUIET_S
                if elapsed < quiet:
                    return index
                self._lapsed[index] = True
                self._held_until(index, quiet)
                break  # its end moved the phases after it: look again
            else:
                return self._index(point)

    def _done(self, index: int) -> bool:
        # N attempts on the phase's targets, or 2N in all: an app that moved its traffic
        # elsewhere (an open circuit breaker) does not keep the phase until it calls again
        hold = self._holds[index]
        return self._lapsed[index] or self._met[index] >= hold or self._all[index] >= 2 * hold

    def _end(self, index: int) -> float | None:
        phases = self.profile.phases
        until = phases[index].until
        if until is not None:
            return until
        return phases[index + 1].at if index + 1 < len(phases) else None

    # -- questions about the timeline -----------------------------------------------------------

    def phase_at(
        self, *, elapsed: float | None = None, requests: int | None = None
    ) -> Phase | None:
        """The phase active after ``elapsed`` seconds of test time (``wall`` clock) or at
        request number ``requests`` (``requests`` clock); None between or before phases.
        With ``hold``, the phase of this run at that moment (held phases as they held)."""
        if self.profile.clock == "wall":
            if elapsed is None:
                raise TypeError(f"{self.profile.name} runs on the wall clock: pass elapsed=")
            index = self._then(elapsed)
        else:
            if requests is None:
                raise TypeError(f"{self.profile.name} runs on the requests clock: pass requests=")
            index = self._index(requests)
        return None if index is None else self.profile.phases[index]

    def network_faults(self, phase: Phase | str | None) -> tuple[Fault, ...]:
        """The ``network:`` faults (Toxiproxy toxics, ``down``) of a phase (None: none)."""
        if phase is None:
            return ()
        if isinstance(phase, str):
            phase = self.profile.phase(phase)
        return phase.network_faults()

    def boundaries(self) -> list[float]:
        """Every moment the active phase changes, in seconds of test time (``wall`` clock)
        or in requests (``requests`` clock), in order; the harness ticks on these."""
        points: set[float] = set()
        for phase in self.profile.phases:
            points.add(phase.at)
            if phase.until is not None:
                points.add(phase.until)
        if self.profile.clock != "wall":
            return sorted(points)
        with self._lock:
            shift = self._shift
        return sorted(point / self.profile.time_scale + shift for point in points)

    def duration(self) -> float:
        """Test time (seconds) until the last phase starts or ends (``wall`` clock), when
        no phase is held longer than its scaled time (see :meth:`incident_seconds`)."""
        return self.profile.span() / self.profile.time_scale

    def rng(self, name: str) -> random.Random:
        """A random generator for ``name`` (e.g. a fault's name), the same for the same seed."""
        return random.Random(f"{self.seed}:{name}")

    def _index(self, point: float) -> int | None:
        index = bisect.bisect_right(self._starts, point) - 1
        if index < 0:
            return None
        until = self.profile.phases[index].until
        if until is not None and point >= until:
            return None
        return index

    # -- drawing --------------------------------------------------------------------------------

    def describe(self) -> str:
        """The profile and its timeline as text, as ``llm-chaos profiles show`` prints it."""
        profile = self.profile
        wall = profile.clock == "wall"
        lines = [f"{profile.name}: {profile.title}"]
        if profile.source:
            lines.append(f"source: {profile.source}")
        if wall:
            span = profile.span()
            lines.append(
                f"clock: wall, time_scale {profile.time_scale:g} "
                f"({format_duration(span)} of incident in {span / profile.time_scale:.3g}s)"
            )
            starts = {
                "first_request": "first_request (incident time 0 is the first request after "
                "the profile is applied)",
                "apply": "apply (incident time 0 is when the profile is applied)",
            }
            lines.append(f"start: {starts[profile.start]}")
            if self.holds:
                lines.append(
                    "hold: a phase marked 'held for N' lasts its scaled time and at least "
                    "until N attempts on its targets met it; later phases start later"
                )
        else:
            lines.append(f"clock: requests, counted {profile.count.replace('_', ' ')}")
        lines.append(f"seed: {self.seed}")
        targets = ", ".join(
            f"{t.name} ({t.dialect}{'' if t.upstream == 'fake' else ' -> ' + t.upstream})"
            for t in profile.targets.values()
        )
        lines.append(f"targets: {targets}")
        if profile.parameters:
            params = ", ".join(f"{k}={v!r}" for k, v in profile.parameters.items())
            lines.append(f"parameters: {params}")
        if profile.description:
            lines += ["", *(line.rstrip() for line in profile.description.strip().splitlines())]
        lines.append("")
        lines += self._chart()
        return "\n".join(lines)

    def _chart(self) -> list[str]:
        profile = self.profile
        phases = profile.phases
        last = phases[-1]
        horizon = last.until if last.until is not None else max(last.at * 1.1, last.at + 1)
        name_width = max(len(p.name) for p in phases)
        point_width = max(len(self._show(p.at)) for p in phases)

        def column(point: float) -> int:
            return min(_BAR, round(point / horizon * _BAR)) if horizon else 0

        header = f"{'phase':<{name_width}}  {'at':>{point_width}}  "
        right = self._show(horizon) if last.until is not None else f"{self._show(last.at)} ->"
        rule = f"{self._show(0)}{' ' * (_BAR - len(self._show(0)) - len(right))}"
        lines = [header + "|" + rule + right]
        for phase in phases:
            start = column(phase.at)
            end = column(phase.until) if phase.until is not None else _BAR
            fill = "#" if phase.http_faults() or phase.network_faults() else "."
            bar = " " * start + fill * max(1, end - start)
            bar = bar[:_BAR].ljust(_BAR)
            lines.append(
                f"{phase.name:<{name_width}}  {self._show(phase.at):>{point_width}}  |{bar}|"
            )
        lines.append("")
        for phase in phases:
            until = f" until {self._show(phase.until)}" if phase.until is not None else ""
            held = self._holds[phases.index(phase)]
            hold = f", held for {held} attempt{'s' * (held != 1)}" if held else ""
            lines.append(f"{phase.name} (from {self._show(phase.at)}{until}{hold})")
            if phase.description:
                lines.append(f"    {phase.description.strip()}")
            if not phase.faults:
                lines.append("    no faults")
            for fault in phase.faults:
                lines.append(f"    {_fault_line(fault)}")
        return lines

    def _show(self, point: float) -> str:
        if self.profile.clock == "wall":
            return format_duration(point)
        return f"#{int(point)}"


def _fault_line(fault: Fault) -> str:
    where = [f"{k}={_text(v)}" for k, v in _set_fields(fault.match).items()]
    when = [f"{k} {_text(v)}" for k, v in _set_fields(fault.schedule).items()]
    match = f" [{', '.join(where)}]" if where else ""
    schedule = f" ({', '.join(when)})" if when else ""
    action = fault.action
    # the kind and its main value, then every parameter that differs from its default
    shorthand = action.shorthand
    summary = f"{action.kind}:{getattr(action, shorthand)}" if shorthand else action.kind
    params: list[str] = []
    for f in dataclasses.fields(action):  # type: ignore[arg-type]
        value = getattr(action, f.name)
        if f.name == action.extra_into:
            params += [f"{k}={_text(v)}" for k, v in value.items()]
        elif f.name != shorthand and value not in (None, "") and value != f.default:
            params.append(f"{f.name}={_text(value)}")
    extra = f" {' '.join(params)}" if params else ""
    return f"{fault.target}{match}: {summary}{extra}{schedule}  <{fault.name}>"


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_text(v)}" for k, v in value.items()) + "}"
    return str(value)


def _set_fields(obj: Match | Schedule) -> dict[str, object]:
    values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
    return {name: value for name, value in values.items() if value is not None}
