"""The fault plane: one owner of the faults in force, one clock, one executor per layer.

:class:`FaultPlane` holds the injected faults and the applied profile with its
timeline, and decides for each attempt which faults apply; executors
(:mod:`chaos.harness._executors`) run them, each the fault action kinds it
registered (:func:`~chaos.faults._executors.check_executors`):

- ``HttpFaults``, the ``http`` layer: the gateway's rules (the gateway picks a
  rule per request from what the plane gives it: injected faults over the timeline);
- ``NetworkFaults``, the ``network`` layer: Toxiproxy toxics (``down`` disables
  the proxy), put in place by the plane phase by phase, and what they met.

A fault goes to the executor whose kinds hold its action's kind; nothing else in
the package branches on a fault's layer to run it.

One clock. On a ``wall`` clock profile the phase follows time since the clock
started (the gateway's: at apply, or at the first request). On a ``requests``
clock profile it follows the attempts the app makes: every request the gateway
answers, and every attempt a network fault turned away before it reached the
gateway (``network: down``: the embedded Toxiproxy reports each one), because a
profile's phases are written in the requests the app makes. A phase's network
faults are in place before the attempt that starts it: the gateway's answer to
the request before waits for them, and after a refused attempt the plane's
ticker puts them in place at once (the SDKs' backoff before a retry is far
longer). A Toxiproxy that is not embedded reports no refused attempt: there
only requests that reach the gateway move the requests clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chaos._errors import ConfigError, ToxiproxyError
from chaos.common import _vtime
from chaos.faults import Fault
from chaos.harness._executors import Executor, HttpFaults, NetworkFaults

if TYPE_CHECKING:
    from chaos.gateway import Gateway
    from chaos.profiles import Profile, Timeline

__all__ = ["FaultPlane"]

log = logging.getLogger("chaos.harness")


def _settle(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


class FaultPlane:
    """The faults in force on one gateway (and its Toxiproxy), and the profile's timeline.

    :param gateway: the gateway; its :class:`HttpFaults` executor is made here.
    :param network: the network executor; None without a Toxiproxy (then network
        faults are refused with a message saying so).
    """

    def __init__(self, gateway: Gateway, network: NetworkFaults | None = None) -> None:
        self.gateway = gateway
        self.http = HttpFaults(gateway)
        self.network = network
        self.executors: tuple[Executor, ...] = (
            (self.http,) if network is None else (self.http, network)
        )
        self._names = 0
        self._profile: Profile | None = None
        self._timeline: Timeline | None = None
        self._declared: list[str] = []
        self._profile_replies: list[tuple[str, Any]] = []
        self._cassettes: dict[str, str] = {}  # target -> who set its cassette: hand, profile
        self._phases: list[str] = []
        self._phase_lock = threading.Lock()
        self._lock = threading.RLock()  # one change of the faults in force at a time
        self._wake = threading.Event()
        self._ticker: threading.Thread | None = None
        self._ticking = False
        self._request_phase: str | None = None  # requests clock: the next attempt's phase
        self._net_phase: str | None = None  # the phase whose network faults are in place
        # answers waiting until the ticker has put the next request's network faults in place
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        gateway.on_phase(self._on_request_phase)
        gateway.before_answer(self._before_answer)
        if network is not None:
            network.on_blind = self._on_blind_attempt

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the ticker that keeps the active phase's network faults in place."""
        if self._ticker is not None or self.network is None:
            return
        self._ticking = True
        self._ticker = threading.Thread(target=self._tick, name="llm-chaos-ticker", daemon=True)
        self._ticker.start()

    def close(self) -> None:
        """Stop the ticker and stop listening to the Toxiproxy. Idempotent."""
        self._ticking = False
        self._wake.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None
        if self.network is not None:
            self.network.close()

    # -- which executor ---------------------------------------------------------------------

    def executor(self, fault: Fault) -> Executor:
        """The executor that runs ``fault`` (by its action's kind).

        :raises ConfigError: no executor here runs that kind (a network fault on a
            gateway without Toxiproxy).
        """
        kind = fault.action.kind
        for executor in self.executors:
            if kind in executor.kinds:
                return executor
        runs = sorted(k for e in self.executors for k in e.kinds)
        raise ConfigError(
            f"fault {fault.name or fault.action.describe()!r}: nothing here runs {kind!r} "
            f"faults (a bare gateway has no Toxiproxy; use a Harness); it runs: {', '.join(runs)}"
        )

    def _of(self, executor: Executor, faults: Sequence[Fault]) -> tuple[Fault, ...]:
        return tuple(f for f in faults if f.action.kind in executor.kinds)

    # -- the fault API ------------------------------------------------------------------------

    @property
    def profile(self) -> Profile | None:
        """The applied profile, if any."""
        return self._profile

    @property
    def timeline(self) -> Timeline | None:
        """The applied profile's timeline, if any."""
        return self._timeline

    def apply(
        self,
        profile: Profile | str | os.PathLike[str],
        *,
        dirs: Sequence[str | os.PathLike[str]] = (),
        params: Mapping[str, Any] | None = None,
    ) -> Profile:
        """Replay ``profile`` from now on (see :meth:`chaos.Harness.apply`)."""
        from chaos.profiles import Timeline, load_profile

        gateway = self.gateway
        loaded = load_profile(profile, dirs=dirs, params=params)
        missing = sorted(set(loaded.targets) - set(gateway.targets))
        if missing:
            raise ConfigError(
                f"profile {loaded.name!r} uses target(s) {', '.join(missing)} that this harness "
                f"does not have; its targets: {', '.join(gateway.targets)}"
            )
        faults = loaded.faults()
        for fault in faults:  # every fault has an executor, and can run there
            self.executor(fault)
        for executor in self.executors:
            executor.check(self._of(executor, faults))
        self._set_profile_cassettes(loaded)
        with self._lock:
            for executor in self.executors:
                if executor is not self.http:
                    executor.remove("profile")
            self._profile = loaded
            self._set_profile_replies(loaded.replies)
            timeline = self._timeline = Timeline(loaded, seed=gateway.seed)
            self._declared = [f.name or "" for f in faults]
            # requests clock: the phase the first request will see holds from now on, so
            # its network faults (e.g. `network: down` at 0) are in place before it comes
            first = None if loaded.clock == "wall" else timeline.phase_at(requests=0)
            self._request_phase = first.name if first is not None else None
            self._net_phase = None
            self.http.follow(timeline)
            if self.network is not None:  # in place before apply returns, for the first request
                self._sync_network(timeline, self.network)
        self._wake.set()
        return loaded

    def inject(self, target: str, **fault: Any) -> Fault:
        """Add one fault over the profile's (see :meth:`chaos.Harness.inject`)."""
        from chaos.profiles import parse_fault

        gateway = self.gateway
        if target not in gateway.targets:
            raise ConfigError(
                f"inject: unknown target {target!r}; targets: {', '.join(gateway.targets)}"
            )
        parsed = parse_fault(
            {**fault, "target": target},
            source=f"inject({target!r})",
            dialect=gateway.dialect(target).name,
        )
        executor = self.executor(parsed)
        executor.check([parsed])
        with self._lock:
            if parsed.name is None:
                self._names += 1
                parsed = dataclasses.replace(
                    parsed, name=f"inject/{self._names}-{parsed.action.describe()}"
                )
            executor.add("inject", parsed)
            self._declared.append(parsed.name or "")
        return parsed

    def remove(self, fault: Fault) -> None:
        """Remove one injected fault (its fired count is kept)."""
        with self._lock:
            self.executor(fault).remove("inject", only=fault)

    def clear(self) -> None:
        """Remove every fault: injected ones and the profile. The journal stays."""
        with self._lock:
            self._profile = None
            self._timeline = None
            self._set_profile_replies(())
            self._set_profile_cassettes(None)
            self._net_phase = self._request_phase = None
            problems: list[ToxiproxyError] = []
            for executor in self.executors:
                for owner in ("inject", "profile"):
                    try:
                        executor.remove(owner)
                    except ToxiproxyError as exc:  # take the other layer's faults off still
                        problems.append(exc)
            if problems:
                raise problems[0]

    def reset(self) -> None:
        """:meth:`clear`, then forget the journal, fired counts and phases seen; the
        requests clock starts again from 0."""
        self.clear()
        for target in list(self._cassettes):
            self.use_cassette(target, None)
        self.gateway.reset()
        self._declared = []
        for executor in self.executors:
            executor.forget()
        with self._phase_lock:
            self._phases = []

    def _set_profile_replies(self, replies: Sequence[tuple[str, Any]]) -> None:
        # a profile's replies go after those added by hand and leave with the profile
        gateway = self.gateway
        for target, old in self._profile_replies:
            gateway.dialect(target).replies.remove(old)
        self._profile_replies = [
            (target, gateway.dialect(target).replies.add(dataclasses.replace(reply)))
            for target, reply in replies
        ]

    def use_cassette(
        self,
        target: str,
        path: str | os.PathLike[str] | None,
        *,
        record: bool = False,
        upstream: str | None = None,
    ) -> None:
        """Replay ``target``'s answers from a cassette (see :meth:`chaos.Harness.use_cassette`);
        ``path=None`` goes back to the target's own upstream."""
        self.gateway.use_cassette(target, path, record=record, upstream=upstream)
        if path is None:
            self._cassettes.pop(target, None)
        else:
            self._cassettes[target] = "hand"

    def _set_profile_cassettes(self, profile: Profile | None) -> None:
        # a profile's cassettes replace the previous profile's and leave with it
        for target, source in list(self._cassettes.items()):
            if source == "profile":
                self.use_cassette(target, None)
        for spec in profile.targets.values() if profile is not None else ():
            if spec.cassette is not None:
                upstream = spec.upstream if spec.upstream != "fake" else None
                self.use_cassette(spec.name, spec.cassette, record=spec.record, upstream=upstream)
                self._cassettes[spec.name] = "profile"

    # -- what is in force (the admin API's GET /rules) ---------------------------------------

    def injected(self) -> list[Fault]:
        """The injected faults in place (every layer), executor by executor."""
        return [fault for executor in self.executors for fault in executor.active("inject")]

    def active_faults(self) -> list[tuple[str, Fault]]:
        """``(source, fault)`` for every fault in force now: ``inject`` ones first, then
        ``profile`` ones of the active phase (the next request's, on the requests clock)."""
        active = [("inject", fault) for fault in self.injected()]
        timeline = self._timeline
        if timeline is None:
            return active
        if timeline.profile.clock == "wall":
            phase = timeline.phase_at(elapsed=self._elapsed())
        else:
            name = self._request_phase
            phase = timeline.profile.phase(name) if name is not None else None
        if phase is not None:
            active.extend(("profile", fault) for fault in phase.faults)
        return active

    @property
    def clock_started(self) -> float | None:
        """When the profile's clock started, in epoch seconds; None before it did."""
        started = self.gateway.clock_started
        if self._timeline is None or started is None:
            return None
        return _vtime.wall() - (_vtime.monotonic() - started)

    def _elapsed(self) -> float:
        started = self.gateway.clock_started
        return 0.0 if started is None else _vtime.monotonic() - started

    # -- what happened ----------------------------------------------------------------------

    def fired(self) -> dict[str, int]:
        """Fault name -> times it fired: every declared fault is listed, 0 if it never
        fired (see :meth:`chaos.Harness.fired`)."""
        counts = dict.fromkeys(self._declared, 0)
        for executor in self.executors:
            for name, count in executor.fired().items():
                counts[name] = counts.get(name, 0) + count
        return counts

    @property
    def declared(self) -> list[str]:
        """The names of the faults declared since the last reset (profile and injected)."""
        return list(self._declared)

    @property
    def network_unseen(self) -> str | None:
        """What the journal cannot show with the Toxiproxy in use (None: nothing)."""
        return self.network.unseen if self.network is not None else None

    def phases_seen(self) -> list[str]:
        """Phase names observed (by attempts, or by the wall clock), in order."""
        with self._phase_lock:
            return list(self._phases)

    def _saw(self, phase: str) -> None:
        with self._phase_lock:
            if not self._phases or self._phases[-1] != phase:
                self._phases.append(phase)

    # -- the clock: which phase's network faults hold --------------------------------------

    def _on_request_phase(self, phase: str | None) -> None:
        # on the gateway's loop: a request saw this phase
        if phase is not None:
            self._saw(phase)

    def _next_phase(self, next_index: int) -> bool:
        """The attempt numbered ``next_index`` comes next; whether the network faults in
        place must change for it (the ticker is woken then). Requests clock: by the
        count; wall clock: a held phase that the last attempt ended (``hold``)."""
        timeline = self._timeline
        if timeline is None or self.network is None:
            return False
        if timeline.profile.clock == "wall":
            if not timeline.holds:
                return False  # the ticker keeps to the scaled boundaries
            phase = timeline.phase_at(elapsed=self._elapsed())
            name = phase.name if phase is not None else None
            if name == self._net_phase:
                return False
            before = self._phase_network(timeline, self._net_phase)
            return bool(before or self._phase_network(timeline, name))
        phase = timeline.phase_at(requests=next_index)
        name = phase.name if phase is not None else None
        if name == self._request_phase:
            return False
        before = self._phase_network(timeline, self._request_phase)
        self._request_phase = name
        return bool(before or self._phase_network(timeline, name))

    def _before_answer(self, next_index: int) -> asyncio.Future[None] | None:
        """On the gateway's loop, before a request is answered: if the next attempt's
        phase has other network faults, the ticker puts them in place and the answer
        waits for it, so the attempt that starts a phase (sent after this answer)
        meets them at Toxiproxy, before the gateway could count it."""
        if not self._next_phase(next_index):
            return None
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        with self._phase_lock:
            self._waiting.append((loop, ready))
        self._wake.set()
        return ready

    def _on_blind_attempt(self, target: str) -> None:
        # on the Toxiproxy's loop: an attempt a network fault turned away before it reached
        # the gateway (refused). It was an attempt in the phase that held, and it counts on
        # the requests clock like a request the gateway answered.
        timeline = self._timeline
        if timeline is not None and timeline.profile.clock == "wall":
            phase_index = timeline.count_attempt(target, self._elapsed())
            if phase_index is not None:
                self._saw(timeline.profile.phases[phase_index].name)
        else:
            name = self._request_phase
            if name is not None:
                self._saw(name)
        if target in self.gateway.targets:
            next_index = self.gateway.count_attempt(target)
            if self._next_phase(next_index):
                self._wake.set()

    def _phase_network(self, timeline: Timeline, phase: str | None) -> tuple[Fault, ...]:
        if phase is None or self.network is None:
            return ()
        return self._of(self.network, timeline.profile.phase(phase).faults)

    def _tick(self) -> None:
        """Keep the network faults of the active phase on the proxies (wall clock: by time)."""
        while self._ticking:
            self._wake.clear()
            with self._phase_lock:
                waiting, self._waiting = self._waiting, []
            timeout = 0.5
            try:
                with self._lock:
                    timeline = self._timeline
                    if timeline is not None and self.network is not None:
                        timeout = self._sync_network(timeline, self.network)
            except Exception:
                log.exception("llm-chaos: applying a phase's network faults failed")
            finally:
                for loop, ready in waiting:
                    with contextlib.suppress(RuntimeError):  # that loop has closed
                        loop.call_soon_threadsafe(_settle, ready)
            self._wake.wait(timeout)

    def clock_jumped(self) -> None:
        """A virtual sleep skipped time (:mod:`chaos.common._vtime`): a wall clock profile may be
        in its next phase, whose network faults are in place before the app's sleep returns."""
        with self._lock:
            if self._timeline is not None and self.network is not None:
                self._sync_network(self._timeline, self.network)

    def _sync_network(self, timeline: Timeline, net: NetworkFaults) -> float:
        profile = timeline.profile
        timeout = 0.5
        if profile.clock == "wall":
            # the gateway's clock: from apply, or (start: first_request) from the first
            # request; until then the phase at 0 holds (the first request wakes us)
            started = self.gateway.clock_started
            elapsed = self._elapsed()
            phase = timeline.phase_at(elapsed=elapsed)
            name = phase.name if phase is not None else None
            later = [b for b in timeline.boundaries() if b > elapsed]
            if started is None:
                timeout = 0.1
            elif later:
                timeout = max(0.001, min(timeout, later[0] - elapsed))
        else:
            name = self._request_phase
        if name != self._net_phase:
            self._net_phase = name
            net.remove("profile")
            if name is not None:
                if profile.clock == "wall":  # requests report the phases they see
                    self._saw(name)
                for fault in self._phase_network(timeline, name):
                    net.add("profile", fault)
        return timeout
