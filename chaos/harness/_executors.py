"""The fault plane's executors, one per layer, each running the action kinds it registered.

- :class:`HttpFaults`, the ``http`` layer: the gateway's rules. Injected faults are
  rules over the profile's timeline (:class:`_Layered`), which the gateway asks per
  request; its appliers (``chaos.gateway._actions.APPLIERS``) run them.
- :class:`NetworkFaults`, the ``network`` layer: Toxiproxy toxics (``down`` disables
  the proxy), and what they met: with the embedded Toxiproxy each connection's
  events become network notes in the gateway's journal.

Both registries are checked against the fault model at import
(:func:`~chaos.faults._executors.check_executors`); the plane
(:mod:`chaos.harness._plane`) hands each fault to the executor whose kinds hold it.

With the embedded Toxiproxy the network executor listens to what happened to each
connection: which attempts a fault refused, cut, reset or delayed. Those go to
the gateway's journal as network notes (joined there with the gateway's own
record of the same attempt; a refused attempt's request, read from the bytes the
client sent before the reset, names its call and the SDK's retry count), and a
network fault counts as fired once per attempt it met, not when it was applied.
A Toxiproxy that is not embedded reports nothing per connection: there a network
fault counts as fired when applied, and :attr:`NetworkFaults.unseen` says what the
journal cannot show.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

from chaos._errors import ConfigError, ProxyNotFound, ToxiproxyError
from chaos.faults import Fault, NetworkAction
from chaos.faults._executors import check_executors
from chaos.gateway._journal import NetworkNote

if TYPE_CHECKING:
    from chaos.common._journal import WireOutcome
    from chaos.gateway import Gateway
    from chaos.profiles import Timeline
    from chaos.toxiproxy import BackendInfo, ToxiproxyClient
    from chaos.toxiproxy._events import ConnectionEvent, EventHub


__all__ = ["EXECUTES", "Executor", "HttpFaults", "NetworkFaults", "Owner", "toxic_name"]

EXECUTES: frozenset[str] = frozenset({NetworkAction.kind})
"""The fault action kinds :class:`NetworkFaults` applies (the ``network`` layer's)."""
check_executors("network", EXECUTES, __name__)

log = logging.getLogger("chaos.harness")

Owner = str
"""Who put a fault in place: ``inject`` (by hand) or ``profile`` (the active phase)."""


class Executor(Protocol):
    """One layer's executor: it runs the fault action kinds in :attr:`kinds`."""

    @property
    def kinds(self) -> frozenset[str]:
        """The action kinds it runs (checked against the model at import)."""
        ...

    def check(self, faults: Sequence[Fault]) -> None:
        """Raise :class:`~chaos.ConfigError` if one of ``faults`` cannot run here."""
        ...

    def add(self, owner: Owner, fault: Fault) -> None:
        """Put ``fault`` in force for ``owner``."""
        ...

    def remove(self, owner: Owner, only: Fault | None = None) -> None:
        """Take ``owner``'s faults (or just ``only``) out of force."""
        ...

    def active(self, owner: Owner) -> list[Fault]:
        """The faults ``owner`` has in force, in the order they were added."""
        ...

    def fired(self) -> dict[str, int]:
        """Fault name -> times it fired."""
        ...

    def forget(self) -> None:
        """Forget the fired counts."""
        ...


class _Layered:
    """A rule source: injected faults first, then the profile timeline's."""

    def __init__(self, injected: tuple[Fault, ...], timeline: Timeline | None) -> None:
        self.injected = injected
        self.timeline = timeline
        self._joined: dict[int, tuple[Sequence[Fault], tuple[Fault, ...]]] = {}

    @property
    def start(self) -> str:
        """The timeline's clock start (the gateway reads it)."""
        return self.timeline.start if self.timeline is not None else "apply"

    def select(
        self, *, target: str, request_index: int, target_index: int, elapsed: float
    ) -> tuple[str | None, Sequence[Fault]]:
        if self.timeline is None:
            return None, self.injected
        phase, faults = self.timeline.select(
            target=target, request_index=request_index, target_index=target_index, elapsed=elapsed
        )
        if not self.injected:
            return phase, faults
        cached = self._joined.get(id(faults))
        if cached is None or cached[0] is not faults:
            cached = (faults, (*self.injected, *faults))
            self._joined[id(faults)] = cached
        return phase, cached[1]


class HttpFaults:
    """The ``http`` layer's executor: the gateway's rules.

    Injected faults are rules over the profile's timeline, which the gateway asks
    per request (the first rule whose match and schedule apply wins).

    :param gateway: the gateway (its appliers run the faults).
    """

    def __init__(self, gateway: Gateway) -> None:
        from chaos.gateway._actions import APPLIERS

        self.gateway = gateway
        self._kinds = frozenset(APPLIERS)
        self._injected: list[Fault] = []
        self._timeline: Timeline | None = None
        self._ruled: Timeline | None = None  # the timeline the gateway's rules use

    @property
    def kinds(self) -> frozenset[str]:
        """The gateway's applier kinds."""
        return self._kinds

    def check(self, faults: Sequence[Fault]) -> None:
        """The gateway's check (target, error kind in the dialect's catalogue...)."""
        self.gateway.check(faults)

    def add(self, owner: Owner, fault: Fault) -> None:
        """An injected fault, first among the rules (a profile's come by :meth:`follow`)."""
        self._injected.append(fault)
        self._refresh()

    def remove(self, owner: Owner, only: Fault | None = None) -> None:
        """Drop injected faults (or just ``only``); ``profile``: stop following the timeline."""
        if owner == "profile":
            self._timeline = None
        elif only is None:
            self._injected = []
        else:
            self._injected = [f for f in self._injected if f is not only]
        self._refresh()

    def active(self, owner: Owner) -> list[Fault]:
        """The injected faults (the profile's active ones are the plane's to tell)."""
        return list(self._injected) if owner == "inject" else []

    def follow(self, timeline: Timeline) -> None:
        """Take the profile's rules from ``timeline`` (its clock starts now)."""
        self._timeline = timeline
        self._refresh()

    def fired(self) -> dict[str, int]:
        """The gateway's fired counts."""
        return self.gateway.fired()

    def forget(self) -> None:
        """Nothing: the gateway's reset forgets its counts with its journal."""

    def _refresh(self) -> None:
        injected, timeline = tuple(self._injected), self._timeline
        if timeline is None and self._ruled is None:
            self.gateway.set_faults(injected)
        elif timeline is None:
            self.gateway.clear()
            self.gateway.set_faults(injected)
        else:
            # the same timeline with other injected faults: incident time goes on
            same = timeline is self._ruled
            self.gateway.set_source(_Layered(injected, timeline), keep_clock=same)
        self._ruled = timeline


_TOXIC_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def toxic_name(fault: Fault) -> str:
    """The Toxiproxy toxic name of a network fault (its name, made safe for a URL)."""
    action = fault.action
    assert isinstance(action, NetworkAction)
    return _TOXIC_NAME.sub("_", fault.name or action.toxic)


def _fault_name(fault: Fault) -> str:
    return fault.name or fault.action.describe()


class NetworkFaults:
    """Network faults on the proxies of one harness, and what they met.

    :param client: the Toxiproxy client (scoped to this harness's proxies).
    :param proxies: target -> proxy name.
    :param backend: which Toxiproxy is in use.
    :param gateway: the gateway (network notes go to its journal).
    :param events: the Toxiproxy's per-connection events; None when it has none.
    """

    def __init__(
        self,
        client: ToxiproxyClient,
        proxies: dict[str, str],
        backend: BackendInfo,
        gateway: Gateway,
        events: EventHub | None,
    ) -> None:
        self.client = client
        self.proxies = proxies
        self.backend = backend
        self.gateway = gateway
        self.observed = events is not None
        self._targets = {proxy: target for target, proxy in proxies.items()}
        self._active: dict[str, list[tuple[str, Fault]]] = {}  # owner -> (proxy, fault)
        self._down: dict[str, list[tuple[str, Fault]]] = {}  # proxy -> (owner, fault) holding it
        self._toxics: dict[tuple[str, str], Fault] = {}  # (proxy, toxic name) -> fault
        self._fired: dict[str, int] = {}
        self._met: set[tuple[int, str]] = set()  # (connection, fault) counted
        self._notes: dict[tuple[int, str], NetworkNote] = {}
        self._was_down: dict[str, Fault] = {}  # proxy -> the last `down` that held it
        self._lock = threading.Lock()
        self.on_blind: Callable[[str], None] | None = None
        """Called with the target of every attempt refused before it reached the gateway
        (on the Toxiproxy's loop: quick, never blocking); the plane counts it."""
        self._unsubscribe: Callable[[], None] | None = (
            events.subscribe(self._on_event) if events is not None else None
        )

    @property
    def unseen(self) -> str | None:
        """What the journal cannot show with this Toxiproxy (None: it sees every attempt)."""
        if self.observed:
            return None
        return (
            f"the {self.backend.name} Toxiproxy reports nothing per connection, so attempts "
            "a network fault refused, cut or reset before they reached the gateway are not "
            "in the journal and do not advance a requests clock (only the embedded "
            "Toxiproxy reports them)"
        )

    def close(self) -> None:
        """Stop listening to the Toxiproxy's events."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # -- applying ---------------------------------------------------------------------

    @property
    def kinds(self) -> frozenset[str]:
        """:data:`EXECUTES`."""
        return EXECUTES

    def check(self, faults: Sequence[Fault]) -> None:
        """Raise :class:`~chaos.ConfigError` for a fault on a target without a proxy."""
        for fault in faults:
            if fault.target not in self.proxies:
                raise ConfigError(
                    f"fault {_fault_name(fault)!r} names target {fault.target!r}; "
                    f"the targets are: {', '.join(self.proxies)}"
                )

    def active(self, owner: str) -> list[Fault]:
        """The faults ``owner`` (``inject`` or ``profile``) has in place."""
        return [fault for _, fault in self._active.get(owner, [])]

    def add(self, owner: str, fault: Fault) -> None:
        """Put ``fault`` in place on its target's proxy, for ``owner``."""
        action = fault.action
        assert isinstance(action, NetworkAction)
        proxy = self.proxies[fault.target]
        client = self.client
        try:
            if action.toxic == "down":
                holders = self._down.setdefault(proxy, [])
                holders.append((owner, fault))
                self._was_down[proxy] = fault
                if len(holders) == 1:
                    client.disable(proxy)
            else:
                name = toxic_name(fault)
                self._toxics[(proxy, name)] = fault  # before the toxic can meet anything
                client.add_toxic(
                    proxy,
                    action.toxic,
                    name=name,
                    stream=action.stream,
                    toxicity=action.toxicity,
                    attributes=dict(action.attributes),
                )
        except ToxiproxyError as exc:
            raise self._explain(exc) from None
        self._active.setdefault(owner, []).append((proxy, fault))
        if not self.observed:  # nothing tells what it meets: count it when applied
            name = _fault_name(fault)
            with self._lock:
                self._fired[name] = self._fired.get(name, 0) + 1

    def remove(self, owner: str, only: Fault | None = None) -> None:
        """Take ``owner``'s faults (or just ``only``) off the proxies."""
        active = self._active.get(owner, [])
        keep = []
        gone: ToxiproxyError | None = None
        for proxy, fault in active:
            if only is not None and fault is not only:
                keep.append((proxy, fault))
                continue
            action = fault.action
            assert isinstance(action, NetworkAction)
            try:
                if action.toxic == "down":
                    holders = self._down.get(proxy, [])
                    holders[:] = [h for h in holders if h != (owner, fault)]
                    if not holders:
                        self.client.enable(proxy)
                else:
                    self.client.remove_toxic(proxy, toxic_name(fault))
            except ProxyNotFound:
                pass
            except ToxiproxyError as exc:
                if exc.status:
                    raise
                gone = exc  # the toxic went with the server: forget it, report once
        self._active[owner] = keep
        if gone is not None:
            raise self._explain(gone)

    def _explain(self, exc: ToxiproxyError) -> ToxiproxyError:
        """``exc``, saying what to do when the Toxiproxy in use stopped answering."""
        if exc.status:
            return exc
        info = self.backend
        todo = (
            "restart that Toxiproxy"
            if info.name == "external"
            else "this harness started it and it has died; re-run the tests"
        )
        return ToxiproxyError(
            0,
            f"the Toxiproxy in use ({info.name} at {info.url}) stopped answering, so network "
            f"faults cannot be applied or removed: {todo} ({exc.message})",
        )

    # -- what they met ------------------------------------------------------------------

    def fired(self) -> dict[str, int]:
        """Network fault name -> attempts it met (applications, when nothing is observed)."""
        with self._lock:
            return dict(self._fired)

    def forget(self) -> None:
        """Forget the fired counts (the journal's notes go with the journal)."""
        with self._lock:
            self._fired = {}
            self._met = set()
            self._notes = {}

    def _on_event(self, event: ConnectionEvent) -> None:
        # on the Toxiproxy's loop thread: quick, never blocking
        target = self._targets.get(event.proxy)
        if target is None:
            return
        fault = self._fault_for(event)
        if fault is None:
            return
        name = _fault_name(fault)
        outcome: WireOutcome | None
        if event.kind == "refused":
            outcome, closing = "refused", True
            if self.on_blind is not None:
                self.on_blind(target)
        elif event.kind == "closed":
            closing = True
            if event.reset:
                outcome = "reset"
            elif event.toxic_type == "limit_data" and event.bytes_down:
                outcome = "truncated"
            else:
                outcome = "closed"
        elif event.kind == "met":
            outcome, closing = ("hang" if event.toxic_type == "timeout" else None), False
        else:  # left
            with self._lock:
                held = self._notes.get((event.connection, name))
            if held is not None and not held.closing:
                self._note(dataclasses.replace(held, until=event.time))
            return
        note = NetworkNote(
            target=target,
            connection=event.connection,
            fault=name,
            action=fault.action.describe(),
            outcome=outcome,
            closing=closing,
            time=event.time,
            opened=event.opened,
            port=event.local_port,
            last_read=event.last_read,
            phase=fault.phase,
            request=event.request,
        )
        with self._lock:
            key = (event.connection, name)
            if event.kind == "closed" and key not in self._met:
                return  # it closed a connection it never met (idle): no attempt
            if key not in self._met:
                self._met.add(key)
                self._fired[name] = self._fired.get(name, 0) + 1
        self._note(note)

    def _note(self, note: NetworkNote) -> None:
        with self._lock:
            self._notes[(note.connection, note.fault)] = note
            if len(self._notes) > self.gateway.journal_size:
                del self._notes[next(iter(self._notes))]
        self.gateway.note(note)

    def _fault_for(self, event: ConnectionEvent) -> Fault | None:
        if event.kind == "refused":
            # the proxy was refusing when it accepted the connection; the `down` that
            # held it then may have gone since (the event comes with the reset)
            holders = self._down.get(event.proxy)
            return holders[0][1] if holders else self._was_down.get(event.proxy)
        if event.toxic is None:
            return None
        return self._toxics.get((event.proxy, event.toxic))
