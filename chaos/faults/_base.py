"""The fault envelope shared by profiles, ``chaos.inject(...)``, the gateway and Toxiproxy.

A fault is ``target`` + optional :class:`Match` + optional :class:`Schedule` +
exactly one :class:`Action`. Actions register themselves by ``kind`` (the key
a profile uses: ``error``, ``respond``, ``edge``, ``delay``, ``wire``, ``sse``,
``network``), so adding a kind is one new module under ``chaos/faults/``.

These classes are plain typed data: reading their mapping form with located
errors is :func:`chaos.faults.parse_fault`'s job (``chaos.profiles`` calls it per
fault of a YAML file); applying them is the gateway's (HTTP layer) and the fault
plane's (network layer, through Toxiproxy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import ClassVar, Literal

__all__ = ["ACTIONS", "Action", "Fault", "Match", "Schedule"]

Layer = Literal["http", "network"]

_ACTIONS: dict[str, type[Action]] = {}
ACTIONS: Mapping[str, type[Action]] = MappingProxyType(_ACTIONS)
"""Every registered action kind, by the key a profile uses for it."""


@dataclass(frozen=True, slots=True)
class Match:
    """Which requests a fault applies to; every field that is set must match.

    :param operation: a dialect operation name, e.g. ``messages.create``.
    :param stream: ``True`` for streaming requests only, ``False`` for non-streaming only.
    :param model: a glob on the request's model, e.g. ``claude-opus-*``.
    :param method: an HTTP method, e.g. ``POST``.
    :param path: a glob on the request path, e.g. ``/v1/messages*``.
    :param header: header name -> glob on its value; every one must match.
    """

    operation: str | None = None
    stream: bool | None = None
    model: str | None = None
    method: str | None = None
    path: str | None = None
    header: Mapping[str, str] | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a matching request is hit, counted per fault over the requests it matched.

    :param rate: probability per matching request, drawn from the seeded RNG.
    :param first: hit only the first N matching requests.
    :param after: let the first N matching requests through, then hit.
    :param every: hit every Nth matching request (the Nth, 2Nth, ...).
    :param times: stop after the fault has fired N times.
    """

    rate: float | None = None
    first: int | None = None
    after: int | None = None
    every: int | None = None
    times: int | None = None


class Action:
    """Base of every fault action; subclasses register under their ``kind``."""

    kind: ClassVar[str]
    layer: ClassVar[Layer] = "http"
    shorthand: ClassVar[str | None] = None
    """The field a scalar value sets (``error: overloaded``); the other fields
    may then sit next to the action key (``retry_after: 5``). None: mapping only."""
    extra_into: ClassVar[str | None] = None
    """A mapping field that collects keys the dataclass does not declare
    (``network: {toxic: latency, latency: 800}`` -> ``attributes``)."""
    vocabularies: ClassVar[Mapping[str, str]] = MappingProxyType({})
    """Field -> the name of a vocabulary its value must belong to, checked where
    the vocabulary is known (``error_kind``: the target dialect's error kinds,
    ``edge_page``: the edge catalogue, ``operation``: the dialect's operations)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if kind is None:
            return
        if kind in _ACTIONS:
            raise TypeError(f"fault action kind {kind!r} is already registered by {_ACTIONS[kind]}")
        _ACTIONS[kind] = cls

    def describe(self) -> str:
        """A short human description, used in journals, reports and timelines."""
        return self.kind

    def check(self) -> list[tuple[str, str]]:
        """Problems across fields that types alone cannot catch, as (field, message)."""
        return []


@dataclass(frozen=True, slots=True)
class Fault:
    """One fault: where it applies, when, and what it does.

    :param target: the harness target name (e.g. ``anthropic``).
    :param action: what happens to a request that is hit.
    :param match: which requests are candidates.
    :param schedule: which candidates are hit.
    :param name: a stable id for journals and reports; derived when not given.
    :param phase: the profile phase this fault belongs to, if any.
    """

    target: str
    action: Action
    match: Match = field(default_factory=Match)
    schedule: Schedule = field(default_factory=Schedule)
    name: str | None = None
    phase: str | None = None
