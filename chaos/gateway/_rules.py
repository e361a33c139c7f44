"""Rule sources, matching and scheduling: which fault, if any, a request gets.

A rule source (a static list, or a profile's timeline) says which faults are
active for a request; the gateway turns each :class:`~chaos.faults.Fault` into
a :class:`Rule` once (globs compiled, per-fault seeded RNG, counters) and keeps
it for as long as the source is applied, so schedules count across phases.
Swapping the source is one attribute assignment: no request sees half a change.
"""

from __future__ import annotations

import fnmatch
import random
import re
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

from chaos.faults import Fault
from chaos.gateway._actions._base import APPLIERS

if TYPE_CHECKING:
    from chaos.gateway._exchange import Exchange

__all__ = ["Rule", "RuleSet", "RuleSource", "StaticRules", "fault_names"]


class RuleSource(Protocol):
    """Anything that says which faults are active for a request (a static list, a timeline)."""

    def select(
        self, *, target: str, request_index: int, target_index: int, elapsed: float
    ) -> tuple[str | None, Sequence[Fault]]:
        """(active phase name, active faults) for a request.

        :param target: the target that received the request.
        :param request_index: requests seen before this one, over every target.
        :param target_index: requests seen before this one by this target.
        :param elapsed: seconds since the source's clock started: when it was applied or,
            for a source whose ``start`` attribute is ``"first_request"``, at the first
            request after that.
        """
        ...


class StaticRules:
    """The trivial rule source: the same faults for every request, no phases.

    :param faults: the faults, in priority order (the first that applies wins).
    """

    def __init__(self, faults: Iterable[Fault] = ()) -> None:
        self.faults: tuple[Fault, ...] = tuple(faults)

    def select(
        self, *, target: str, request_index: int, target_index: int, elapsed: float
    ) -> tuple[str | None, Sequence[Fault]]:
        """Always ``(None, faults)``."""
        return None, self.faults


def fault_names(faults: Iterable[Fault]) -> list[str]:
    """Stable names for ``faults``: their own, else ``<target>/<index>-<action>``."""
    names: list[str] = []
    seen: set[str] = set()
    for index, fault in enumerate(faults):
        name = fault.name or f"{fault.target}/{index}-{fault.action.describe()}"
        base, n = name, 2
        while name in seen:
            name, n = f"{base}#{n}", n + 1
        seen.add(name)
        names.append(name)
    return names


def _glob(pattern: str) -> Callable[[str], re.Match[str] | None]:
    return re.compile(fnmatch.translate(pattern)).match


class Rule:
    """A fault made ready to apply: compiled match, schedule counters, seeded RNG.

    :param fault: the fault.
    :param name: its name in journals and :meth:`Gateway.fired`.
    :param seed: the gateway's seed; with ``name`` it seeds this rule's RNG.
    """

    __slots__ = (
        "_after",
        "_every",
        "_first",
        "_headers",
        "_method",
        "_model",
        "_needs_info",
        "_operation",
        "_path",
        "_rate",
        "_rng",
        "_stream",
        "_times",
        "action",
        "describe",
        "fault",
        "fired",
        "kind",
        "matched",
        "name",
        "phase",
    )

    def __init__(self, fault: Fault, name: str, seed: int) -> None:
        self.fault = fault
        self.name = name
        self.phase = fault.phase
        self.action = fault.action
        self.kind = fault.action.kind
        self.describe = fault.action.describe()
        match = fault.match
        self._operation = match.operation
        self._stream = match.stream
        self._model = _glob(match.model) if match.model is not None else None
        self._needs_info = (match.operation, match.stream, match.model) != (None, None, None)
        self._method = match.method.upper() if match.method is not None else None
        self._path = _glob(match.path) if match.path is not None else None
        self._headers = tuple(
            (key.lower(), _glob(value)) for key, value in (match.header or {}).items()
        )
        schedule = fault.schedule
        self._rate = schedule.rate
        self._first = schedule.first
        self._after = schedule.after
        self._every = schedule.every
        self._times = schedule.times
        # str seeds hash with SHA-512: the same on every run and in every process
        self._rng = random.Random(f"{seed}:{name}")
        self.matched = 0
        self.fired = 0

    def matches(self, ex: Exchange) -> bool:
        """Whether the exchange's request is a candidate (every field of the match that is
        set agrees)."""
        request = ex.request
        if self._needs_info:
            info = ex.info
            if self._operation is not None and info.operation != self._operation:
                return False
            if self._stream is not None and info.stream != self._stream:
                return False
            if self._model is not None and (info.model is None or self._model(info.model) is None):
                return False
        if self._method is not None and request.method != self._method:
            return False
        if self._path is not None and self._path(request.path.partition("?")[0]) is None:
            return False
        for name, glob in self._headers:
            value = request.header(name)
            if value is None or glob(value) is None:
                return False
        return True

    def hit(self) -> bool:
        """Count one matching request and decide whether the fault fires for it."""
        self.matched += 1
        n = self.matched
        if self._first is not None and n > self._first:
            return False
        if self._after is not None and n <= self._after:
            return False
        if self._every is not None and n % self._every:
            return False
        if self._times is not None and self.fired >= self._times:
            return False
        if self._rate is not None and self._rng.random() >= self._rate:
            return False
        self.fired += 1
        return True


class RuleSet:
    """One applied rule source with its compiled rules; replaced whole, never edited.

    :param source: the rule source.
    :param seed: the gateway's seed.
    :param started: the monotonic time the source was applied; its clock starts then,
        or at the first request when the source's ``start`` is ``"first_request"``.
    :param previous: a rule set whose rules (same fault objects) carry on, counters included.
    """

    def __init__(
        self, source: RuleSource, seed: int, started: float, previous: RuleSet | None = None
    ) -> None:
        self.source = source
        self.seed = seed
        self.started: float | None = (
            None if getattr(source, "start", "apply") == "first_request" else started
        )
        """When the source's clock started (monotonic); None until the first request."""
        self._rules: dict[int, tuple[Fault, Rule]] = {}
        self._names: set[str] = set()
        if previous is not None:
            declared_now = getattr(source, "faults", ())
            wanted = {id(f) for f in declared_now}
            for key, (fault, rule) in previous._rules.items():
                if key in wanted:
                    self._rules[key] = (fault, rule)
                    self._names.add(rule.name)
        # id(sequence from select) -> (the sequence, kept alive so its id stays unique; rules)
        self._cache: dict[tuple[int, str], tuple[Sequence[Fault], tuple[Rule, ...]]] = {}
        declared = getattr(source, "faults", None)
        if isinstance(declared, tuple | list):
            self._compile(declared)

    def _compile(self, faults: Sequence[Fault]) -> list[Rule]:
        rules: list[Rule] = []
        new = [f for f in faults if id(f) not in self._rules or self._rules[id(f)][0] is not f]
        for fault, name in zip(new, fault_names(new), strict=True):
            if name in self._names:
                name = f"{name}@{len(self._rules)}"
            self._names.add(name)
            self._rules[id(fault)] = (fault, Rule(fault, name, self.seed))
        for fault in faults:
            rules.append(self._rules[id(fault)][1])
        return rules

    def rules_for(self, target: str, faults: Sequence[Fault]) -> tuple[Rule, ...]:
        """The rules of ``faults`` that concern ``target`` and that the gateway runs (its
        appliers' kinds; the fault plane's other executors run the rest), in order."""
        key = (id(faults), target)
        cached = self._cache.get(key)
        if cached is not None and cached[0] is faults:
            return cached[1]
        rules = tuple(
            rule
            for rule in self._compile(faults)
            if rule.fault.target == target and rule.kind in APPLIERS
        )
        if len(self._cache) > 256:
            self._cache.clear()
        self._cache[key] = (faults, rules)
        return rules

    def fired(self) -> dict[str, int]:
        """Fault name -> times fired, for every fault this rule set has seen."""
        return {rule.name: rule.fired for _, rule in self._rules.values()}
