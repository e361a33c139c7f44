"""A profile's phases: each file's list read and checked, then expanded into the timeline
(ends computed, ramps unrolled, faults named, holds given)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chaos.faults import Fault
from chaos.faults._parse import parse_fault_into
from chaos.faults._problems import Path, Problems, unknown
from chaos.profiles._duration import format_duration, parse_duration
from chaos.profiles._model import Clock, Phase

__all__ = [
    "NAME",
    "PHASE_KEYS",
    "RAMP_KEYS",
    "PhaseDraft",
    "check_hold",
    "expand",
    "read_phases",
    "read_point",
    "read_ramp",
    "show",
]

PHASE_KEYS: tuple[str, ...] = (
    "name",
    "at",
    "duration",
    "hold",
    "description",
    "ramp",
    "faults",
)
RAMP_KEYS: tuple[str, ...] = ("rate", "every")
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
"""A phase's (and a target's) name."""


@dataclass
class PhaseDraft:
    name: str
    at: float
    duration: float | None
    description: str
    faults: list[Fault]
    ramp: tuple[tuple[float, ...], float] | None
    problems: Problems
    path: Path
    hold: int | None = None


def read_phases(
    problems: Problems,
    raw: Any,
    dialects: Mapping[str, str],
    declared: tuple[str, ...],
    default_target: str | None,
    clock: Clock,
) -> list[PhaseDraft]:
    if not isinstance(raw, list) or not raw:
        problems.add(("phases",), f"expected a non-empty list of phases, got {raw!r}")
        return []
    drafts: list[PhaseDraft] = []
    names: set[str] = set()
    previous: PhaseDraft | None = None
    for i, item in enumerate(raw):
        path: Path = ("phases", i)
        if not isinstance(item, dict):
            problems.add(path, f"a phase must be a mapping with name, at, faults; got {item!r}")
            continue
        for key in item:
            if key not in PHASE_KEYS:
                problems.add((*path, key), unknown("key", key, PHASE_KEYS), at_key=True)
        name = item.get("name")
        if not isinstance(name, str) or not NAME.fullmatch(name):
            problems.add(
                (*path, "name") if "name" in item else path,
                "missing or bad 'name': a word (letters, digits, '-', '_', '.')",
            )
            name = f"phase{i}"
        elif name in names:
            problems.add((*path, "name"), f"duplicate phase name {name!r}")
        names.add(name)
        if "at" not in item:
            problems.add(path, "missing 'at' (when the phase starts)")
            at = None
        else:
            at = read_point(problems, (*path, "at"), item["at"], clock, positive=False)
        duration = None
        if "duration" in item:
            duration = read_point(
                problems, (*path, "duration"), item["duration"], clock, positive=True
            )
        description = item.get("description", "")
        if not isinstance(description, str):
            problems.add((*path, "description"), "expected text")
            description = ""
        ramp = read_ramp(problems, (*path, "ramp"), item["ramp"], clock) if "ramp" in item else None
        hold = None
        if "hold" in item:
            problem = check_hold(item["hold"])
            if clock == "requests":
                problem = "applies to the wall clock only (set clock: wall)"
            if problem:
                problems.add((*path, "hold"), problem)
            else:
                hold = int(item["hold"])
        faults: list[Fault] = []
        raw_faults = item.get("faults", [])
        if raw_faults is None:
            raw_faults = []
        if not isinstance(raw_faults, list):
            problems.add((*path, "faults"), f"expected a list of faults, got {raw_faults!r}")
            raw_faults = []
        for j, raw_fault in enumerate(raw_faults):
            fault = parse_fault_into(
                problems,
                raw_fault,
                (*path, "faults", j),
                default_target=default_target,
                dialects=dialects,
                declared_targets=declared,
            )
            if fault is not None:
                faults.append(fault)
        if at is None:
            continue
        draft = PhaseDraft(name, at, duration, description, faults, ramp, problems, path, hold)
        if previous is not None and at <= previous.at:
            problems.add(
                (*path, "at"),
                f"phases must start in increasing order: {name!r} starts at "
                f"{show(at, clock)}, not after {previous.name!r} "
                f"at {show(previous.at, clock)}",
            )
        previous = draft
        drafts.append(draft)
    return drafts


def expand(drafts: list[PhaseDraft], clock: Clock, hold: int = 0) -> tuple[Phase, ...]:
    """Drafts to phases: ends computed, ramps unrolled, faults named; each phase's
    ``hold`` its own, else the profile's."""
    phases: list[Phase] = []
    names: dict[str, tuple[Problems, Path]] = {}
    for index, draft in enumerate(drafts):
        following = drafts[index + 1].at if index + 1 < len(drafts) else None
        end = draft.at + draft.duration if draft.duration is not None else None
        if following is not None:
            end = following if end is None else min(end, following)
        steps = _steps(draft, end, clock)
        for step, (name, at, until) in enumerate(steps):
            faults = _step_faults(draft, name, step, len(steps), names)
            held = (draft.hold if draft.hold is not None else hold) if faults else 0
            phases.append(Phase(name, at, until, faults, draft.description, held))
    return tuple(phases)


def _steps(
    draft: PhaseDraft, end: float | None, clock: Clock
) -> list[tuple[str, float, float | None]]:
    """(name, start, end) of the phase, or of each step of its ramp."""
    if draft.ramp is None:
        return [(draft.name, draft.at, end)]
    rates, every = draft.ramp
    last_start = draft.at + every * (len(rates) - 1)
    if end is not None and last_start >= end:
        draft.problems.add(
            (*draft.path, "ramp", "every"),
            f"the ramp's last step would start at {show(last_start, clock)}, "
            f"after the phase ends at {show(end, clock)}",
        )
    starts = [draft.at + every * i for i in range(len(rates))]
    return [
        (f"{draft.name}.{i + 1}", start, starts[i + 1] if i + 1 < len(starts) else end)
        for i, start in enumerate(starts)
    ]


def _step_faults(
    draft: PhaseDraft, name: str, step: int, steps: int, names: dict[str, tuple[Problems, Path]]
) -> tuple[Fault, ...]:
    """The draft's faults for one phase (or ramp step): named, placed in the phase, and
    given the step's rate (HTTP faults without a rate of their own)."""
    faults = []
    for i, fault in enumerate(draft.faults):
        schedule = fault.schedule
        if draft.ramp is not None and fault.action.layer == "http" and schedule.rate is None:
            schedule = dataclasses.replace(schedule, rate=draft.ramp[0][step])
        fault_name = fault.name or f"{name}/{i}-{fault.action.kind}"
        if fault.name is not None and steps > 1:
            fault_name = f"{fault.name}.{step + 1}"
        where = (*draft.path, "faults", i)
        if fault_name in names:
            draft.problems.add((*where, "name"), f"duplicate fault name {fault_name!r}")
        names[fault_name] = (draft.problems, where)
        faults.append(dataclasses.replace(fault, name=fault_name, phase=name, schedule=schedule))
    return tuple(faults)


def read_point(
    problems: Problems, path: Path, value: object, clock: Clock, *, positive: bool
) -> float | None:
    """An ``at``/``duration``: incident seconds (``wall``) or a request count (``requests``)."""
    if clock == "requests":
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and value >= (1 if positive else 0)
        ):
            return float(value)
        problems.add(
            path,
            f"with clock: requests this counts requests: expected an integer >= "
            f"{1 if positive else 0}, got {value!r}"
            + ("" if not isinstance(value, str) else "; set clock: wall for durations"),
        )
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds: float | None = float(value)
    elif isinstance(value, str):
        seconds = parse_duration(value)
    else:
        seconds = None
    if seconds is None or seconds < 0 or (positive and seconds == 0) or seconds != seconds:
        problems.add(
            path,
            f"expected a duration like 90s, 20m, 3h58m or 500ms (or seconds as a number)"
            f"{' above 0' if positive else ''}, got {value!r}",
        )
        return None
    return seconds


def read_ramp(
    problems: Problems, path: Path, value: object, clock: Clock
) -> tuple[tuple[float, ...], float] | None:
    if not isinstance(value, dict):
        problems.add(path, f"expected {{rate: [0.2, 0.6, 1.0], every: 10m}}, got {value!r}")
        return None
    ok = True
    for key in value:
        if key not in RAMP_KEYS:
            problems.add((*path, key), unknown("key", key, RAMP_KEYS), at_key=True)
            ok = False
    rates = value.get("rate")
    if (
        not isinstance(rates, list)
        or len(rates) < 2
        or not all(
            isinstance(r, int | float) and not isinstance(r, bool) and 0 <= r <= 1 for r in rates
        )
    ):
        problems.add(
            (*path, "rate") if "rate" in value else path,
            f"expected a list of at least 2 rates between 0 and 1, got {rates!r}",
        )
        ok = False
    every = None
    if "every" not in value:
        problems.add(path, "missing 'every' (how long each step lasts)")
        ok = False
    else:
        every = read_point(problems, (*path, "every"), value["every"], clock, positive=True)
    if not ok or every is None or not isinstance(rates, list):
        return None
    return tuple(float(r) for r in rates), every


def show(value: float, clock: Clock) -> str:
    return format_duration(value) if clock == "wall" else f"request {int(value)}"


def check_hold(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return f"expected a number of attempts (an integer >= 0), got {value!r}"
