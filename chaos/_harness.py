"""The Harness: Toxiproxy in front, the fault gateway, the fake providers behind, as one object.

Plain Python, no pytest: the plugin's fixture, the CLI (``llm-chaos serve``,
``run``, ``demo``) and any script use the same API::

    with Harness([Target("anthropic"), Target("openai")], seed=7) as h:
        os.environ.update(h.env)                 # the official SDKs now talk to the harness
        h.apply("claude-2026-03-02")             # a profile: phases of HTTP and network faults
        h.inject("openai", error="overloaded", first=3)
        ...
        print(h.fired(), h.phases_seen())

Per target, the app's connection goes app -> Toxiproxy proxy (network faults:
latency, resets, ``network: down``) -> gateway listener (HTTP faults, the
journal) -> the fake provider in process (or a forwarded upstream).
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import dataclasses
import logging
import os
import random
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaos._errors import ChaosError, ConfigError, HarnessStartError, VerdictError
from chaos._harness_admin import admin_routes
from chaos._journal import JournalRecord
from chaos._plane import NetworkFaults
from chaos._reaper import Reaper
from chaos.faults import Fault
from chaos.providers._replies import Delivered, Reply, reply_from_kwargs, reply_routes

if TYPE_CHECKING:
    from chaos._routing import Routing
    from chaos.gateway import Gateway
    from chaos.profiles import Profile, Timeline
    from chaos.toxiproxy import BackendInfo, RunningBackend, ToxiproxyClient

__all__ = ["Harness", "Target"]

log = logging.getLogger("chaos.harness")


@dataclass(frozen=True)
class Target:
    """One LLM endpoint the app under test talks to.

    :param name: the target's name, used by faults and reports (``anthropic``, ``backup``...).
    :param dialect: the provider dialect it speaks; defaults to ``name``.
    :param upstream: ``"fake"`` (the built-in fake provider) or an ``http(s)://`` URL.
    :param cassette: a cassette file: answers are replayed from it, offline (see
        :meth:`Harness.use_cassette`).
    :param record: forward to ``upstream`` (a URL) and record every answer into ``cassette``.
    """

    name: str
    dialect: str | None = None
    upstream: str = "fake"
    cassette: str | os.PathLike[str] | None = None
    record: bool = False

    @property
    def dialect_name(self) -> str:
        """The dialect, ``name`` when none was given."""
        return self.dialect or self.name


def _targets(targets: Iterable[Target | str] | Mapping[str, str] | None) -> list[Target]:
    if targets is None:
        return [Target("anthropic"), Target("openai")]
    if isinstance(targets, Mapping):
        return [Target(name, dialect) for name, dialect in targets.items()]
    out = [t if isinstance(t, Target) else Target(t) for t in targets]
    names = [t.name for t in out]
    if not out or len(set(names)) != len(names):
        raise ConfigError(f"targets must be one or more distinct names, got {names}")
    return out


def _answers(address: str) -> bool:
    """Whether a loopback ``host:port`` accepts connections (a live gateway listens there)."""
    import socket

    from chaos.gateway._upstream import is_loopback

    host, _, port = address.rpartition(":")
    if not port.isdigit() or not is_loopback(host):
        return False
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host.strip("[]"), int(port))) == 0


def _settle(ready: asyncio.Future[None]) -> None:
    if not ready.done():
        ready.set_result(None)


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


class Harness:
    """Toxiproxy + the fault gateway + fake providers for a set of targets.

    A context manager (sync and async) with :meth:`start` / :meth:`stop`; stop
    is idempotent and leaves no proxy, thread or port behind.

    :param targets: the targets (``Target`` objects, names, or name -> dialect);
        default ``anthropic`` and ``openai`` on their fakes.
    :param backend: the Toxiproxy backend: ``auto``, ``embedded``, ``binary``,
        ``docker`` or ``external``.
    :param toxiproxy_url: the external Toxiproxy's URL (else ``TOXIPROXY_URL``).
    :param seed: seeds every probabilistic choice; None picks one (see :attr:`seed`).
    :param allow_network: allow targets whose upstream is a non-loopback URL.
    :param name_prefix: Toxiproxy proxy names are ``<prefix>-<target>``.
    :param admin_port: the gateway admin API's port (0: a free one).
    :param journal_size: journal records kept (older ones are dropped and counted).
    """

    def __init__(
        self,
        targets: Iterable[Target | str] | Mapping[str, str] | None = None,
        *,
        backend: str = "auto",
        toxiproxy_url: str | None = None,
        seed: int | None = None,
        allow_network: bool = False,
        name_prefix: str = "llm-chaos",
        admin_port: int = 0,
        journal_size: int = 10_000,
    ) -> None:
        self.targets: tuple[Target, ...] = tuple(_targets(targets))
        self.backend_name = backend
        self.toxiproxy_url = toxiproxy_url
        self.seed: int = seed if seed is not None else random.SystemRandom().randrange(2**32)
        """The seed in use (print it: the same seed replays the same faults)."""
        self.allow_network = allow_network
        self.name_prefix = name_prefix
        self.admin_port = admin_port
        self.journal_size = journal_size
        self.gateway: Gateway | None = None
        """The fault gateway (None until started)."""
        self._toxi: RunningBackend | None = None
        self._reaper: Reaper | None = None  # deletes our proxies on an external Toxiproxy
        self._client: ToxiproxyClient | None = None
        self._proxies: dict[str, str] = {}  # target -> proxy name
        self._endpoints: dict[str, str] = {}
        self._injected: list[Fault] = []
        self._names = 0
        self._profile: Profile | None = None
        self._timeline: Timeline | None = None
        self._declared: list[str] = []
        self._ruled_timeline: Timeline | None = None  # the timeline the gateway's rules use
        self._net: NetworkFaults | None = None  # network faults on the proxies, what they met
        self._phases: list[str] = []
        self._phase_lock = threading.Lock()
        self._net_lock = threading.RLock()
        self._wake = threading.Event()
        self._ticker: threading.Thread | None = None
        self._ticking = False
        self._request_phase: str | None = None  # requests clock: the next request's phase
        self._net_phase: str | None = None  # the phase whose network faults are in place
        # answers waiting until the ticker has put the next request's network faults in place
        self._waiting: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._started = False
        self._profile_replies: list[tuple[str, Reply]] = []
        self._cassettes: dict[str, str] = {}  # target -> who set its cassette: hand, profile

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Harness:
        """Start the gateway, obtain a Toxiproxy and create one proxy per target."""
        if self._started:
            return self
        from chaos.gateway import Gateway, TargetConfig

        gateway = Gateway(
            {
                t.name: TargetConfig(
                    t.dialect_name, t.upstream, cassette=t.cassette, record=t.record
                )
                for t in self.targets
            },
            seed=self.seed,
            admin_port=self.admin_port,
            allow_network=self.allow_network,
            journal_size=self.journal_size,
        )
        gateway.on_phase(self._on_request_phase)
        gateway.before_answer(self._before_answer)
        gateway.admin_routes.update(admin_routes(self))
        gateway.admin_routes.update(reply_routes(self.reply, self.clear_replies, self.replies))
        self.gateway = gateway
        try:
            gateway.start_in_thread()
            self._start_toxiproxy(gateway)
        except BaseException:
            self._teardown()
            raise
        self._started = True
        self._ticking = True
        self._ticker = threading.Thread(target=self._tick, name="llm-chaos-ticker", daemon=True)
        self._ticker.start()
        atexit.register(self.stop)
        return self

    def _start_toxiproxy(self, gateway: Gateway) -> None:
        from chaos.toxiproxy import start_backend

        self._toxi = start_backend(self.backend_name, url=self.toxiproxy_url, seed=self.seed)
        self._client = client = self._toxi.client.scope()
        for target in self.targets:
            name = f"{self.name_prefix}-{target.name}"
            upstream = gateway.urls[target.name].removeprefix("http://")
            try:
                proxy = client.create_proxy(name, upstream)
            except ChaosError as exc:
                if getattr(exc, "status", None) != 409:
                    raise
                existing = client.get_proxy(name)
                if _answers(existing.upstream):
                    raise HarnessStartError(
                        f"Toxiproxy at {self._toxi.info.url} already has a proxy {name!r} in "
                        f"use (its upstream {existing.upstream} answers): another harness with "
                        f"the same name_prefix {self.name_prefix!r} is running; give each one "
                        "its own name_prefix"
                    ) from exc
                # a leftover of a crashed run of ours with the same prefix: replace it
                client.delete_proxy(name)
                proxy = client.create_proxy(name, upstream)
            self._proxies[target.name] = name
            if self._toxi.info.name == "external":
                # not ours to stop: should this process die, a watchdog deletes the proxy
                if self._reaper is None:
                    self._reaper = Reaper()
                self._reaper.watch(kind="proxy", api=self._toxi.url, name=name)
            self._endpoints[target.name] = f"http://{proxy.listen_host}:{proxy.listen_port}"
        self._net = NetworkFaults(
            client, dict(self._proxies), self._toxi.info, gateway._journal, self._toxi.events
        )

    def stop(self) -> None:
        """Remove every proxy, stop Toxiproxy (if ours) and the gateway. Idempotent."""
        if not self._started and self.gateway is None:
            return
        self._started = False
        atexit.unregister(self.stop)
        self._ticking = False
        self._wake.set()
        if self._ticker is not None:
            self._ticker.join(timeout=5)
            self._ticker = None
        self._teardown()

    def _teardown(self) -> None:
        errors: list[BaseException] = []
        if self._net is not None:
            self._net.close()
            self._net = None
        if self._client is not None:
            try:
                self._client.cleanup()
            except Exception as exc:
                errors.append(exc)
            self._client = None
        if self._reaper is not None:
            self._reaper.release()
            self._reaper = None
        if self._toxi is not None:
            try:
                self._toxi.stop()
            except Exception as exc:
                errors.append(exc)
            self._toxi = None
        if self.gateway is not None:
            self.gateway.stop()
            self.gateway = None
        self._proxies.clear()
        self._endpoints.clear()
        if errors:
            log.warning("llm-chaos: cleanup problems: %s", "; ".join(map(str, errors)))

    def __enter__(self) -> Harness:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Harness:
        await asyncio.to_thread(self.start)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    # -- where things are --------------------------------------------------------------

    def _gw(self) -> Gateway:
        if self.gateway is None:
            raise HarnessStartError("the harness is not started: use `with harness:` or start()")
        return self.gateway

    @property
    def endpoints(self) -> dict[str, str]:
        """Target -> base URL the app should use (the Toxiproxy proxy before the gateway)."""
        self._gw()
        return dict(self._endpoints)

    @property
    def gateway_urls(self) -> dict[str, str]:
        """Target -> the gateway listener itself (bypasses Toxiproxy: no network faults)."""
        return self._gw().urls

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that route the official SDKs to :attr:`endpoints`
        (``ANTHROPIC_BASE_URL``, ``OPENAI_BASE_URL``, dummy API keys...). When two targets
        share a dialect, the first one listed gets the variables."""
        return self._routing().set

    @property
    def env_unset(self) -> tuple[str, ...]:
        """Variables to remove from the app's environment beside :attr:`env` (a second
        credential the SDK would send or warn about; docs/routing.md)."""
        return self._routing().unset

    def _routing(self) -> Routing:
        from chaos._routing import routing_for

        gateway = self._gw()
        return routing_for([t.name for t in self.targets], self._endpoints, gateway.dialect)

    @property
    def admin_url(self) -> str:
        """The gateway admin API's base URL."""
        url = self._gw().admin_url
        assert url is not None
        return url

    @property
    def backend(self) -> BackendInfo:
        """Which Toxiproxy backend is in use, why, and its URL."""
        if self._toxi is None:
            raise HarnessStartError("the harness is not started: use `with harness:` or start()")
        return self._toxi.info

    @property
    def toxiproxy(self) -> ToxiproxyClient:
        """A client for the Toxiproxy in use (proxies are named ``<prefix>-<target>``)."""
        if self._client is None:
            raise HarnessStartError("the harness is not started: use `with harness:` or start()")
        return self._client

    @property
    def profile(self) -> Profile | None:
        """The applied profile, if any."""
        return self._profile

    @property
    def clock_started(self) -> float | None:
        """When the applied profile's clock started, in epoch seconds (``time.time()``):
        at :meth:`apply`, or at the first request after it for a ``wall`` clock profile
        with ``start: first_request``. None before that request, or without a profile."""
        gateway = self.gateway
        if gateway is None or self._timeline is None:
            return None
        started = gateway.clock_started
        if started is None:
            return None
        return time.time() - (time.monotonic() - started)

    # -- faults ------------------------------------------------------------------------

    def apply(
        self,
        profile: Profile | str | os.PathLike[str],
        *,
        dirs: Sequence[str | os.PathLike[str]] = (),
        params: Mapping[str, Any] | None = None,
    ) -> Profile:
        """Replay ``profile`` from now on: its timeline drives the gateway's rules, and the
        network faults of the active phase are applied as toxics; its scripted replies and
        its targets' cassettes are in use until it leaves. Replaces any profile applied
        before (injected faults stay).

        :param profile: a :class:`~chaos.profiles.Profile`, a built-in name or a path.
        :param dirs: extra folders to look profile names up in.
        :param params: values for the profile's ``parameters``.
        """
        from chaos.profiles import Timeline, load_profile

        gateway = self._gw()
        loaded = load_profile(profile, dirs=dirs, params=params)
        known = {t.name for t in self.targets}
        missing = sorted(set(loaded.targets) - known)
        if missing:
            raise ConfigError(
                f"profile {loaded.name!r} uses target(s) {', '.join(missing)} that this harness "
                f"does not have; its targets: {', '.join(t.name for t in self.targets)}"
            )
        gateway.check(loaded.faults())
        self._set_profile_cassettes(loaded)
        with self._net_lock:
            if self._net is not None:
                self._net.remove("profile")
            self._profile = loaded
            self._set_profile_replies(loaded.replies)
            self._timeline = Timeline(loaded, seed=self.seed)
            self._declared = [f.name or "" for f in loaded.faults()]
            # requests clock: the phase the first request will see holds from now on, so
            # its network faults (e.g. `network: down` at 0) are in place before it comes
            first = None if loaded.clock == "wall" else self._timeline.phase_at(requests=0)
            self._request_phase = first.name if first is not None else None
            self._net_phase = None
            self._refresh_rules()
            if self._net is not None:  # in place before apply returns, for the first request
                self._sync_network(self._timeline, self._net)
        self._wake.set()
        return loaded

    def inject(self, target: str, **fault: Any) -> Fault:
        """Add one fault, in the mapping form a profile uses, until :meth:`clear` or
        :meth:`remove`. It takes priority over the profile's faults.

        ``h.inject("anthropic", error="overloaded", match={"operation": "messages.create"},
        first=3)``; ``h.inject("openai", network={"toxic": "latency", "latency": 500})``;
        ``h.inject("anthropic", network="down")``.
        """
        from chaos.profiles import parse_fault

        gateway = self._gw()
        if target not in self._proxies:
            raise ConfigError(
                f"inject: unknown target {target!r}; targets: {', '.join(self._proxies)}"
            )
        parsed = parse_fault(
            {**fault, "target": target},
            source=f"inject({target!r})",
            dialect=gateway.dialect(target).name,
        )
        if parsed.name is None:
            self._names += 1
            parsed = dataclasses.replace(
                parsed, name=f"inject/{self._names}-{parsed.action.describe()}"
            )
        if parsed.action.layer == "network":
            with self._net_lock:
                if self._net is not None:
                    self._net.add("inject", parsed)
        else:
            gateway.check([parsed])
            self._injected.append(parsed)
            self._refresh_rules()
        self._declared.append(parsed.name or "")
        return parsed

    def reply(self, target: str, **reply: Any) -> Reply:
        """Script what ``target``'s fake answers, in the mapping form a profile's
        ``replies`` use; kept until :meth:`clear_replies` or :meth:`reset`.

        ``h.reply("anthropic", json={"label": "bug"}, match={"contains": "crash"})``;
        ``h.reply("openai", tool_call={"name": "lookup", "arguments": {"id": 7}}, once=True)``.
        See :mod:`chaos.providers._replies` for every key.
        """
        gateway = self._gw()
        if target not in gateway.targets:
            raise ConfigError(
                f"reply: unknown target {target!r}; targets: {', '.join(gateway.targets)}"
            )
        parsed = reply_from_kwargs(f"reply({target!r})", **reply)
        return gateway.dialect(target).replies.add(parsed)

    def _set_profile_replies(self, replies: Sequence[tuple[str, Reply]]) -> None:
        # a profile's replies go after those added by hand and leave with the profile
        if self.gateway is None:
            return
        for target, old in self._profile_replies:
            self.gateway.dialect(target).replies.remove(old)
        self._profile_replies = [
            (target, self.gateway.dialect(target).replies.add(dataclasses.replace(reply)))
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
        """Replay ``target``'s answers from the cassette at ``path`` (offline) until
        :meth:`reset`; with ``record``, forward to ``upstream`` (default: the target's
        own upstream URL; non-loopback needs ``allow_network``) and record every answer
        into it. Faults layer over replayed answers as over the fake's. ``path=None`` goes
        back to the target's own upstream.

        ``h.use_cassette("anthropic", "cassettes/triage.yaml")``;
        ``h.use_cassette("anthropic", "cassettes/triage.yaml", record=True,
        upstream="https://api.anthropic.com")``.
        """
        self._gw().use_cassette(target, path, record=record, upstream=upstream)
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

    def replies(self, target: str | None = None) -> dict[str, list[Reply]]:
        """Target -> its scripted replies, in order (every target, or just ``target``)."""
        gateway = self._gw()
        if target is not None and target not in gateway.targets:
            raise ConfigError(
                f"replies: unknown target {target!r}; targets: {', '.join(gateway.targets)}"
            )
        names = [target] if target is not None else list(gateway.targets)
        return {name: gateway.dialect(name).replies.replies() for name in names}

    def content_faults(self, target: str | None = None) -> list[tuple[str, Delivered]]:
        """(target, answer) for every answer a content fault changed since :meth:`reset`,
        oldest first: what the app received (the cut text, the broken arguments...)."""
        if self.gateway is None:
            return []
        names = [target] if target is not None else list(self.gateway.targets)
        found = [
            (name, d) for name in names for d in self.gateway.dialect(name).replies.content_faults()
        ]
        return sorted(found, key=lambda pair: pair[1].time)

    def assert_noticed_content_faults(self, answers: Sequence[str]) -> None:
        """Fail if the app passed an answer a content fault changed on as complete.

        The harness cannot see the app's output, so the test gives it: ``answers``
        are what the app returned to its user. An answer equal (whitespace aside) to
        what a content fault delivered (a truncated or empty text, a refusal, broken
        tool arguments) is a finding; an app that retried, failed over or flagged the
        answer returns something else. Raises ``VerdictError`` too when no content
        fault fired, since the assertion would then prove nothing.
        """
        delivered = self.content_faults()
        if not delivered:
            raise VerdictError(
                "no content fault fired (truncate_answer, malformed_tool_args, refusal, "
                "empty_answer): check the fault's target and match"
            )
        given = {a.strip() for a in answers}
        passed = [(t, d) for t, d in delivered if d.text.strip() in given]
        if passed:
            lines = "\n".join(f"  {t}: {d.kind} delivered {d.text!r}" for t, d in passed)
            raise VerdictError(
                f"the app passed {len(passed)} faulted answer(s) on as complete "
                f"(of {len(delivered)} content fault(s)):\n{lines}"
            )

    def clear_replies(self, target: str | None = None) -> None:
        """Forget the scripted replies (of every target, or just ``target``)."""
        if self.gateway is None:
            return
        names = [target] if target is not None else list(self.gateway.targets)
        for name in names:
            if name not in self.gateway.targets:
                raise ConfigError(f"clear_replies: unknown target {name!r}")
            self.gateway.dialect(name).replies.clear()

    @contextmanager
    def fault(self, target: str, **fault: Any) -> Iterator[Fault]:
        """:meth:`inject` for the duration of a ``with`` block."""
        injected = self.inject(target, **fault)
        try:
            yield injected
        finally:
            self.remove(injected)

    def remove(self, fault: Fault) -> None:
        """Remove one injected fault (its fired count is kept)."""
        if fault.action.layer == "network":
            with self._net_lock:
                if self._net is not None:
                    self._net.remove("inject", only=fault)
            return
        self._injected = [f for f in self._injected if f is not fault]
        self._refresh_rules()

    def clear(self) -> None:
        """Remove every fault: injected ones, the profile (HTTP rules and toxics). The
        journal stays."""
        with self._net_lock:
            self._injected = []
            self._profile = None
            self._set_profile_replies(())
            if self.gateway is not None:
                self._set_profile_cassettes(None)
            self._timeline = None
            if self._net is not None:
                self._net.remove("inject")
                self._net.remove("profile")
            self._net_phase = self._request_phase = None
            self._ruled_timeline = None
            if self.gateway is not None:
                self.gateway.clear()

    def reset(self) -> None:
        """:meth:`clear`, then forget the journal, fired counts and phases seen."""
        self.clear()
        self.clear_replies()
        if self.gateway is not None:
            for target in list(self._cassettes):
                self.use_cassette(target, None)
            self.gateway.reset()
        self._declared = []
        if self._net is not None:
            self._net.forget()
        with self._phase_lock:
            self._phases = []

    def _refresh_rules(self) -> None:
        gateway = self._gw()
        injected = tuple(self._injected)
        timeline = self._timeline
        if timeline is None:
            gateway.set_faults(injected)
        else:
            # the same timeline with other injected faults: incident time goes on
            same = timeline is self._ruled_timeline
            gateway.set_source(_Layered(injected, timeline), keep_clock=same)
        self._ruled_timeline = timeline

    # -- what is in force (the admin API's GET /rules) ---------------------------------------

    def injected(self) -> list[Fault]:
        """The injected faults in place (HTTP and network), in the order they were added."""
        network = self._net.active("inject") if self._net is not None else []
        return [*self._injected, *network]

    def active_faults(self) -> list[tuple[str, Fault]]:
        """``(source, fault)`` for every fault in force now: ``inject`` ones first, then
        ``profile`` ones of the active phase (the next request's, on the requests clock)."""
        active = [("inject", fault) for fault in self.injected()]
        timeline = self._timeline
        if timeline is None:
            return active
        if timeline.profile.clock == "wall":
            started = self.gateway.clock_started if self.gateway is not None else None
            elapsed = 0.0 if started is None else time.monotonic() - started
            phase = timeline.phase_at(elapsed=elapsed)
        else:
            name = self._request_phase
            phase = timeline.profile.phase(name) if name is not None else None
        if phase is not None:
            active.extend(("profile", fault) for fault in phase.faults)
        return active

    # -- the profile's network faults, phase by phase -----------------------------------

    def _on_request_phase(self, phase: str | None) -> None:
        # on the gateway's loop: a request saw this phase
        if phase is not None:
            self._saw(phase)

    def _before_answer(self, next_index: int) -> asyncio.Future[None] | None:
        """On the gateway's loop, before a request is answered: the requests clock's next
        phase. If its network faults differ, the ticker puts them in place and the answer
        waits for it, so the request that starts a phase (sent after this answer) meets
        them at Toxiproxy, before the gateway could count it."""
        timeline = self._timeline
        if timeline is None or timeline.profile.clock == "wall" or self._net is None:
            return None
        phase = timeline.phase_at(requests=next_index)
        name = phase.name if phase is not None else None
        if name == self._request_phase:
            return None
        before = timeline.network_faults(self._request_phase)
        self._request_phase = name
        if not before and not timeline.network_faults(name):
            return None  # no network fault on either side: nothing to wait for
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()
        with self._phase_lock:
            self._waiting.append((loop, ready))
        self._wake.set()
        return ready

    def _saw(self, phase: str) -> None:
        with self._phase_lock:
            if not self._phases or self._phases[-1] != phase:
                self._phases.append(phase)

    def _tick(self) -> None:
        """Keep the toxics of the active phase on the proxies (wall clock: by time)."""
        while self._ticking:
            self._wake.clear()
            with self._phase_lock:
                waiting, self._waiting = self._waiting, []
            timeout = 0.5
            try:
                with self._net_lock:
                    timeline = self._timeline
                    if timeline is not None and self._net is not None:
                        timeout = self._sync_network(timeline, self._net)
            except Exception:
                log.exception("llm-chaos: applying a phase's network faults failed")
            finally:
                for loop, ready in waiting:
                    with contextlib.suppress(RuntimeError):  # that loop has closed
                        loop.call_soon_threadsafe(_settle, ready)
            self._wake.wait(timeout)

    def _sync_network(self, timeline: Timeline, net: NetworkFaults) -> float:
        profile = timeline.profile
        timeout = 0.5
        if profile.clock == "wall":
            # the gateway's clock: from apply, or (start: first_request) from the first
            # request; until then the phase at 0 holds (the first request wakes us)
            started = self.gateway.clock_started if self.gateway is not None else None
            elapsed = 0.0 if started is None else time.monotonic() - started
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
                for fault in timeline.network_faults(name):
                    net.add("profile", fault)
        return timeout

    # -- what happened -----------------------------------------------------------------

    @property
    def journal(self) -> list[JournalRecord]:
        """A snapshot of the request journal, in order."""
        return self._gw().journal()

    def fired(self) -> dict[str, int]:
        """Fault name -> times it fired: every declared fault (profile and injected) is
        listed, 0 if it never fired. A network fault counts once per attempt (connection)
        it met; with a Toxiproxy that reports nothing per connection (not embedded), once
        per time it was applied (see :attr:`network_unseen`)."""
        counts = dict.fromkeys(self._declared, 0)
        if self.gateway is not None:
            for name, count in self.gateway.fired().items():
                counts[name] = counts.get(name, 0) + count
        if self._net is not None:
            for name, count in self._net.fired().items():
                counts[name] = counts.get(name, 0) + count
        return counts

    @property
    def network_unseen(self) -> str | None:
        """What the journal cannot show with the Toxiproxy in use: None with the embedded
        one (every attempt a network fault met is journaled), else why attempts a network
        fault stopped are missing."""
        return self._net.unseen if self._net is not None else None

    def phases_seen(self) -> list[str]:
        """Phase names observed (by requests, or by the wall clock), in order."""
        with self._phase_lock:
            return list(self._phases)

    def __repr__(self) -> str:
        state = "started" if self._started else "stopped"
        names = ", ".join(t.name for t in self.targets)
        return f"<Harness {state} targets=[{names}] seed={self.seed}>"
