"""The fault plane's network executor: network faults as Toxiproxy toxics, and what they met.

The harness decides *which* network faults hold (injected ones, the profile's
active phase); this module applies them to the Toxiproxy in use (``down``
disables the proxy, anything else is a toxic named after the fault), removes
them, and, with the embedded Toxiproxy, listens to what happened to each
connection: which attempts a fault refused, cut, reset or delayed. Those go to
the gateway's journal as network notes (joined there with the gateway's own
record of the same attempt), and a network fault counts as fired once per
attempt it met, not when it was applied.

A Toxiproxy that is not embedded reports nothing per connection: there a
network fault counts as fired when applied, and :attr:`NetworkFaults.unseen`
says what the journal cannot show.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from chaos._errors import ProxyNotFound, ToxiproxyError
from chaos.faults import Fault, NetworkAction
from chaos.gateway._journal import Journal, NetworkNote

if TYPE_CHECKING:
    from chaos._journal import WireOutcome
    from chaos.toxiproxy import BackendInfo, ToxiproxyClient
    from chaos.toxiproxy._events import ConnectionEvent, EventHub

__all__ = ["NetworkFaults", "toxic_name"]

log = logging.getLogger("chaos.harness")

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
    :param journal: the gateway's journal (network notes go there).
    :param events: the Toxiproxy's per-connection events; None when it has none.
    """

    def __init__(
        self,
        client: ToxiproxyClient,
        proxies: dict[str, str],
        backend: BackendInfo,
        journal: Journal,
        events: EventHub | None,
    ) -> None:
        self.client = client
        self.proxies = proxies
        self.backend = backend
        self.journal = journal
        self.observed = events is not None
        self._targets = {proxy: target for target, proxy in proxies.items()}
        self._active: dict[str, list[tuple[str, Fault]]] = {}  # owner -> (proxy, fault)
        self._down: dict[str, list[tuple[str, Fault]]] = {}  # proxy -> (owner, fault) holding it
        self._toxics: dict[tuple[str, str], Fault] = {}  # (proxy, toxic name) -> fault
        self._fired: dict[str, int] = {}
        self._met: set[tuple[int, str]] = set()  # (connection, fault) counted
        self._notes: dict[tuple[int, str], NetworkNote] = {}
        self._lock = threading.Lock()
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
            "in the journal (only the embedded Toxiproxy reports them)"
        )

    def close(self) -> None:
        """Stop listening to the Toxiproxy's events."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    # -- applying ---------------------------------------------------------------------

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
            if len(self._notes) > self.journal.size:
                del self._notes[next(iter(self._notes))]
        self.journal.note(note)

    def _fault_for(self, event: ConnectionEvent) -> Fault | None:
        if event.kind == "refused":
            holders = self._down.get(event.proxy)
            return holders[0][1] if holders else None
        if event.toxic is None:
            return None
        return self._toxics.get((event.proxy, event.toxic))
