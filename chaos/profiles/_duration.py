"""Durations as profiles write them: ``90s``, ``20m``, ``3h58m``, ``1h30m15s``, ``500ms``."""

from __future__ import annotations

import re

__all__ = ["format_duration", "parse_duration"]

_UNITS = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|d|h|m|s)")
_WHOLE = re.compile(r"(?:\d+(?:\.\d+)?(?:ms|d|h|m|s))+")


def parse_duration(text: str) -> float | None:
    """Seconds in ``text`` (units d, h, m, s, ms, largest first), or None if it does not parse."""
    compact = text.strip().replace(" ", "")
    if not _WHOLE.fullmatch(compact):
        return None
    seen: list[float] = []
    total = 0.0
    for number, unit in _PART.findall(compact):
        scale = _UNITS[unit]
        if seen and scale >= seen[-1]:
            return None  # units out of order or repeated: "5m1h", "1m1m"
        seen.append(scale)
        total += float(number) * scale
    return total


def format_duration(seconds: float) -> str:
    """The shortest readable form: ``0s``, ``90s`` -> ``1m30s``, ``14280`` -> ``3h58m``."""
    if seconds < 1 and seconds != 0:
        return f"{seconds * 1000:g}ms"
    whole = int(seconds)
    fraction = seconds - whole
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size:
            parts.append(f"{whole // size}{unit}")
            whole %= size
    if whole or fraction or not parts:
        parts.append(f"{whole + fraction:g}s")
    return "".join(parts)
