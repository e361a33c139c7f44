"""``network: {toxic: TYPE, ...}`` or ``network: down``: a Toxiproxy toxic on the target's proxy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from chaos._errors import did_you_mean
from chaos.faults._base import Action

__all__ = ["TOXICS", "NetworkAction"]


@dataclass(frozen=True)
class NetworkAction(Action):
    """A TCP-level fault applied by Toxiproxy to the target's proxy.

    :param toxic: a Toxiproxy toxic type (``latency``, ``bandwidth``, ``timeout``,
        ``reset_peer``, ``slicer``, ``limit_data``, ``slow_close``, ``noop``,
        ``packet_loss``), or ``down`` to disable the proxy (connection refused).
    :param attributes: the toxic's attributes, in Toxiproxy's units.
    :param stream: ``downstream`` (responses) or ``upstream`` (requests).
    :param toxicity: the probability the toxic applies to a connection.
    """

    kind = "network"
    layer = "network"
    shorthand = "toxic"
    extra_into = "attributes"
    toxic: str
    attributes: Mapping[str, int | float] = field(default_factory=dict)
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: float = 1.0

    def describe(self) -> str:
        return "network:down" if self.toxic == "down" else f"network:{self.toxic}"

    def check(self) -> list[tuple[str, str]]:
        known = TOXICS.get(self.toxic)
        if known is None:
            valid = ", ".join(TOXICS)
            hint = did_you_mean(self.toxic, TOXICS)
            return [("toxic", f"unknown toxic type {self.toxic!r}; valid: {valid}{hint}")]
        problems = []
        for name, value in self.attributes.items():
            if name not in known:
                valid = ", ".join(known) or "none"
                hint = did_you_mean(name, known)
                problems.append(
                    (name, f"not an attribute of toxic {self.toxic!r} (valid: {valid}){hint}")
                )
            elif value < 0:
                problems.append((name, f"must be >= 0, got {value}"))
        if not 0.0 <= self.toxicity <= 1.0:
            problems.append(("toxicity", f"must be between 0 and 1, got {self.toxicity}"))
        if self.toxic == "slicer" and self.attributes.get("average_size", 1) <= 0:
            # average_size 0 makes the real Toxiproxy recurse until it crashes
            problems.append(("average_size", "must be at least 1 byte"))
        return problems


TOXICS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "latency": ("latency", "jitter"),
        "bandwidth": ("rate",),
        "slow_close": ("delay",),
        "timeout": ("timeout",),
        "reset_peer": ("timeout",),
        "slicer": ("average_size", "size_variation", "delay"),
        "limit_data": ("bytes",),
        "noop": (),
        "packet_loss": ("loss_rate", "correlation"),
        "down": (),
    }
)
"""Toxic type -> its attribute names (Toxiproxy's units); ``down`` disables the proxy."""
