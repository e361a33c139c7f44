"""``network: {toxic: TYPE, ...}`` or ``network: down``: a Toxiproxy toxic on the target's proxy."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from chaos._errors import did_you_mean
from chaos.faults._base import Action

__all__ = ["TOXICS", "NetworkAction"]


@dataclass(frozen=True)
class NetworkAction(Action):
    """A TCP-level fault applied by Toxiproxy to the target's proxy.

    :param toxic: a Toxiproxy toxic type (one of :data:`TOXICS`: ``bandwidth``,
        ``latency``, ``limit_data``, ``noop``, ``packet_loss``, ``reset_peer``,
        ``slicer``, ``slow_close``, ``timeout``), or ``down`` to disable the proxy
        (connection refused).
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


class _ToxicAttributes(Mapping[str, tuple[str, ...]]):
    """Toxic type -> its attribute names, read from the embedded Toxiproxy's toxics
    (``chaos.toxiproxy._toxics``, the one definition) on first use, so that importing
    the fault model does not import the server; ``down`` (disable the proxy) is ours."""

    def __init__(self) -> None:
        self._table: Mapping[str, tuple[str, ...]] | None = None

    def _load(self) -> Mapping[str, tuple[str, ...]]:
        if self._table is None:
            from chaos.toxiproxy._toxics import TOXICS as toxics

            table = {name: tuple(toxic.attributes) for name, toxic in toxics.items()}
            self._table = MappingProxyType({**table, "down": ()})
        return self._table

    def __getitem__(self, toxic: str) -> tuple[str, ...]:
        return self._load()[toxic]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())

    def __repr__(self) -> str:
        return f"TOXICS({dict(self._load())!r})"


TOXICS: Mapping[str, tuple[str, ...]] = _ToxicAttributes()
"""Toxic type -> its attribute names (Toxiproxy's units); ``down`` disables the proxy."""
