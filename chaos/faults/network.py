"""``network: {toxic: TYPE, ...}`` or ``network: down``: a Toxiproxy toxic on the target's proxy."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from chaos.faults._base import Action


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
    toxic: str
    attributes: Mapping[str, int | float] = field(default_factory=dict)
    stream: Literal["upstream", "downstream"] = "downstream"
    toxicity: float = 1.0

    def describe(self) -> str:
        return "network:down" if self.toxic == "down" else f"network:{self.toxic}"
