"""Checks of a profile's top-level keys: what each must be, what is required, which
keys belong to which clock."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chaos.faults import NetworkAction
from chaos.faults._problems import Problems, unknown
from chaos.profiles._model import Clock, Phase, TargetSpec
from chaos.profiles._phases import NAME

__all__ = [
    "check_clock_keys",
    "check_first_request",
    "check_name",
    "check_required",
    "check_scale",
    "check_seed",
    "check_text",
    "choice",
]


def check_required(
    top: Problems, scalars: Mapping[str, Any], declared: tuple[str, ...], phases: tuple[Phase, ...]
) -> None:
    for key in ("name", "title"):
        if key not in scalars:
            top.add((), f"missing {key!r}")
    if not declared:
        example = "anthropic: {dialect: anthropic}"
        top.add((), f"missing 'targets': declare at least one (e.g. {example})")
    if not phases and "phases" not in scalars:
        top.add((), "missing 'phases': a profile needs at least one phase")


def check_clock_keys(
    top: Problems,
    scalars: Mapping[str, Any],
    clock: Clock,
    phases: tuple[Phase, ...],
    targets: Mapping[str, TargetSpec],
) -> None:
    """Keys of the other clock are errors; a wall clock's start must be able to start."""
    if clock == "requests":
        for key in ("time_scale", "start", "hold"):
            if key in scalars:
                top.add((key,), "applies to the wall clock only (set clock: wall)")
        return
    if "count" in scalars:
        top.add(("count",), "applies to the requests clock only (set clock: requests)")
    if scalars.get("start", "first_request") == "first_request":
        check_first_request(top, phases, targets, explicit="start" in scalars)


def check_name(value: object) -> str | None:
    if isinstance(value, str) and NAME.fullmatch(value):
        return None
    return f"expected a name (letters, digits, '-', '_', '.'), got {value!r}"


def check_first_request(
    problems: Problems,
    phases: Sequence[Phase],
    targets: Mapping[str, TargetSpec],
    *,
    explicit: bool,
) -> None:
    """``start: first_request`` needs a first request: refuse it when the phase active at
    0 takes every target's network down (no request could reach the harness to start
    the clock, so the incident would never move on)."""
    first = phases[0] if phases and phases[0].at == 0 else None
    if first is None or not targets:
        return
    down = {
        f.target
        for f in first.network_faults()
        if isinstance(f.action, NetworkAction) and f.action.toxic == "down"
    }
    if down >= set(targets):
        problems.add(
            ("start",) if explicit else ("phases", 0),
            f"phase {first.name!r} takes every target down (network: down) from 0, so no "
            "request can reach the harness to start the clock at its first request; "
            "set start: apply (the clock then starts when the profile is applied)",
        )


def check_text(value: object) -> str | None:
    return None if isinstance(value, str) else f"expected text, got {value!r}"


def check_scale(value: object) -> str | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < float("inf"):
        return None
    return f"expected a number above 0 (incident seconds per test second), got {value!r}"


def check_seed(value: object) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return None
    return f"expected an integer, got {value!r}"


def choice(choices: tuple[str, ...]) -> Any:
    def check(value: object) -> str | None:
        if value in choices:
            return None
        return unknown("value", value, choices)

    return check
