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

This module is the lifecycle: start, stop, what is where. The faults in force,
the profile and its clock are the fault plane's (:mod:`chaos.harness._plane`); the
Harness's fault methods hand over to it, and the admin API
(:mod:`chaos.harness._admin`) drives the same plane.
"""

from __future__ import annotations

import asyncio
import atexit
import dataclasses
import logging
import os
import random
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from chaos._errors import ChaosError, ConfigError, HarnessStartError, VerdictError
from chaos.common import _vtime
from chaos.common._journal import JournalRecord
from chaos.common._reaper import Reaper
from chaos.common._target import Target, as_targets
from chaos.faults import Fault
from chaos.harness._executors import NetworkFaults
from chaos.harness._plane import FaultPlane
from chaos.harness._settings import Settings
from chaos.providers._replies import Delivered, Reply, reply_from_kwargs, reply_routes

if TYPE_CHECKING:
    from chaos.gateway import Gateway
    from chaos.profiles import Profile
    from chaos.providers import Dialect
    from chaos.routing._env import Routing
    from chaos.toxiproxy import BackendInfo, RunningBackend, ToxiproxyClient

__all__ = ["Harness", "Target"]

log = logging.getLogger("chaos.harness")


_DEFAULT_TARGETS = (Target("anthropic"), Target("openai"))


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


class Harness:
    """Toxiproxy + the fault gateway + fake providers for a set of targets.

    A context manager (sync and async) with :meth:`start` / :meth:`stop`; stop
    is idempotent and leaves no proxy, thread or port behind.

    Build it from :class:`~chaos.Settings` (what the plugin and the CLI verbs do), or
    with keywords, a shorthand for the same settings::

        Harness(Settings(targets=(Target("anthropic"),), seed=7))
        Harness(["anthropic"], seed=7)                      # the same

    :param targets: a :class:`~chaos.Settings`, or the targets (``Target`` objects,
        names, or name -> dialect); default ``anthropic`` and ``openai`` on their fakes.
    :param backend: the Toxiproxy backend: ``auto``, ``embedded``, ``binary``,
        ``docker`` or ``external``.
    :param toxiproxy_url: the external Toxiproxy's URL (else ``TOXIPROXY_URL``).
    :param seed: seeds every probabilistic choice; None picks one (see :attr:`seed`).
    :param allow_network: allow targets whose upstream is a non-loopback URL.
    :param name_prefix: Toxiproxy proxy names are ``<prefix>-<target>``.
    :param admin_port: the gateway admin API's port (0: a free one).
    :param journal_size: journal records kept (older ones are dropped and counted).

    A keyword given with a :class:`~chaos.Settings` overrides its field.
    """

    def __init__(
        self,
        targets: Settings | Iterable[Target | str] | Mapping[str, str] | None = None,
        *,
        backend: str | None = None,
        toxiproxy_url: str | None = None,
        seed: int | None = None,
        allow_network: bool | None = None,
        name_prefix: str | None = None,
        admin_port: int | None = None,
        journal_size: int | None = None,
    ) -> None:
        given = targets if isinstance(targets, Settings) else Settings(targets=as_targets(targets))
        changes: dict[str, Any] = {
            k: v
            for k, v in (
                ("backend", backend),
                ("toxiproxy_url", toxiproxy_url),
                ("seed", seed),
                ("allow_network", allow_network),
                ("name_prefix", name_prefix),
                ("admin_port", admin_port),
                ("journal_size", journal_size),
            )
            if v is not None
        }
        settings = dataclasses.replace(given, **changes)
        self.settings: Settings = settings
        """The settings it was built from."""
        if targets is not None and not isinstance(targets, Settings) and not settings.targets:
            raise ConfigError("targets must be one or more distinct names, got []")
        self.targets: tuple[Target, ...] = settings.targets or _DEFAULT_TARGETS
        self.backend_name = settings.backend
        self.toxiproxy_url = settings.toxiproxy_url
        self.seed: int = (
            settings.seed if settings.seed is not None else random.SystemRandom().randrange(2**32)
        )
        """The seed in use (print it: the same seed replays the same faults)."""
        self.allow_network = settings.allow_network
        self.name_prefix = settings.name_prefix
        self.admin_port = settings.admin_port
        self.journal_size = settings.journal_size
        self.gateway: Gateway | None = None
        """The fault gateway (None until started)."""
        self._toxi: RunningBackend | None = None
        self._reaper: Reaper | None = None  # deletes our proxies on an external Toxiproxy
        self._client: ToxiproxyClient | None = None
        self._proxies: dict[str, str] = {}  # target -> proxy name
        self._endpoints: dict[str, str] = {}
        self.plane: FaultPlane | None = None
        """The fault plane: the faults in force, the profile and its clock (None until
        started)."""
        self._started = False
        self._unwatch: Callable[[], None] = lambda: None  # the virtual clock's hooks

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> Harness:
        """Start the gateway, obtain a Toxiproxy and create one proxy per target."""
        if self._started:
            return self
        from chaos.gateway import Gateway, TargetConfig

        gateway = Gateway(
            {
                t.name: TargetConfig(t.dialect, t.upstream, cassette=t.cassette, record=t.record)
                for t in self.targets
            },
            seed=self.seed,
            admin_port=self.admin_port,
            allow_network=self.allow_network,
            journal_size=self.journal_size,
        )
        from chaos.harness._admin import AdminAPI

        gateway.admin_routes.update(reply_routes(self.reply, self.clear_replies, self.replies))
        self.gateway = gateway
        try:
            gateway.start_in_thread()
            network = self._start_toxiproxy(gateway)
        except BaseException:
            self._teardown()
            raise
        self.plane = FaultPlane(gateway, network)
        gateway.admin_api = AdminAPI(self.plane, self)
        self.plane.start()
        self._started = True
        self._unwatch = _vtime.watch(gateway.busy, self.plane.clock_jumped)
        atexit.register(self.stop)
        return self

    def _start_toxiproxy(self, gateway: Gateway) -> NetworkFaults:
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
        return NetworkFaults(
            client, dict(self._proxies), self._toxi.info, gateway, self._toxi.events
        )

    def stop(self) -> None:
        """Remove every proxy, stop Toxiproxy (if ours) and the gateway. Idempotent."""
        if not self._started and self.gateway is None:
            return
        self._started = False
        atexit.unregister(self.stop)
        self._unwatch()
        self._teardown()

    def _teardown(self) -> None:
        errors: list[BaseException] = []
        if self.plane is not None:
            self.plane.close()
            self.plane = None
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

    def begin_test(self) -> None:
        """Nothing: a test's scope over a harness of its own starts clean (the scope
        before it reset it)."""

    def reseed(self, seed: int) -> None:
        """Seed the faults set from now on: the profile timeline and the gateway's rule
        RNGs are seeded when faults are set, so setting both seeds before that is enough."""
        self.seed = seed
        if self.gateway is not None:
            self.gateway.seed = seed

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

    def dialect(self, target: str) -> Dialect:
        """The dialect instance serving ``target``."""
        return self._gw().dialect(target)

    @property
    def gate_profile(self) -> str | None:
        """None: this harness is this process's own, not ``llm-chaos run``'s."""
        return None

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
        from chaos.routing._env import routing_for

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

    def _fp(self) -> FaultPlane:
        if self.plane is None:
            raise HarnessStartError("the harness is not started: use `with harness:` or start()")
        return self.plane

    @property
    def profile(self) -> Profile | None:
        """The applied profile, if any."""
        return self.plane.profile if self.plane is not None else None

    @property
    def clock_started(self) -> float | None:
        """When the applied profile's clock started, in epoch seconds (``time.time()``):
        at :meth:`apply`, or at the first request after it for a ``wall`` clock profile
        with ``start: first_request``. None before that request, or without a profile."""
        return self.plane.clock_started if self.plane is not None else None

    # -- faults: the fault plane's -----------------------------------------------------

    def apply(
        self,
        profile: Profile | str | os.PathLike[str],
        *,
        dirs: Sequence[str | os.PathLike[str]] = (),
        params: Mapping[str, Any] | None = None,
    ) -> Profile:
        """Replay ``profile`` from now on: its timeline drives the gateway's rules, and the
        network faults of the active phase are applied as toxics. Replaces any profile
        applied before (injected faults stay).

        :param profile: a :class:`~chaos.profiles.Profile`, a built-in name or a path.
        :param dirs: extra folders to look profile names up in.
        :param params: values for the profile's ``parameters``.
        """
        return self._fp().apply(profile, dirs=dirs, params=params)

    def inject(self, target: str, **fault: Any) -> Fault:
        """Add one fault, in the mapping form a profile uses, until :meth:`clear` or
        :meth:`remove`. It takes priority over the profile's faults.

        ``h.inject("anthropic", error="overloaded", match={"operation": "messages.create"},
        first=3)``; ``h.inject("openai", network={"toxic": "latency", "latency": 500})``;
        ``h.inject("anthropic", network="down")``.
        """
        return self._fp().inject(target, **fault)

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
        self._fp().remove(fault)

    def clear(self) -> None:
        """Remove every fault: injected ones, the profile (HTTP rules and toxics). The
        journal stays."""
        if self.plane is not None:
            self.plane.clear()

    def reset(self) -> None:
        """:meth:`clear` and :meth:`clear_replies`, then forget the journal, fired counts
        and phases seen."""
        if self.plane is not None:
            self.plane.clear()
            self.clear_replies()
            self.plane.reset()

    def injected(self) -> list[Fault]:
        """The injected faults in place (HTTP and network), in the order they were added."""
        return self.plane.injected() if self.plane is not None else []

    def active_faults(self) -> list[tuple[str, Fault]]:
        """``(source, fault)`` for every fault in force now: ``inject`` ones first, then
        ``profile`` ones of the active phase (the next request's, on the requests clock)."""
        return self.plane.active_faults() if self.plane is not None else []

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
        return self.plane.fired() if self.plane is not None else {}

    @property
    def network_unseen(self) -> str | None:
        """What the journal cannot show with the Toxiproxy in use: None with the embedded
        one (every attempt a network fault met is journaled), else why attempts a network
        fault stopped are missing."""
        return self.plane.network_unseen if self.plane is not None else None

    def phases_seen(self) -> list[str]:
        """Phase names observed (by attempts, or by the wall clock), in order."""
        return self.plane.phases_seen() if self.plane is not None else []

    # -- the fake providers' scripted replies ----------------------------------------

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
        self._fp().use_cassette(target, path, record=record, upstream=upstream)

    def clear_replies(self, target: str | None = None) -> None:
        """Forget the scripted replies (of every target, or just ``target``)."""
        if self.gateway is None:
            return
        names = [target] if target is not None else list(self.gateway.targets)
        for name in names:
            if name not in self.gateway.targets:
                raise ConfigError(f"clear_replies: unknown target {name!r}")
            self.gateway.dialect(name).replies.clear()

    def __repr__(self) -> str:
        state = "started" if self._started else "stopped"
        names = ", ".join(t.name for t in self.targets)
        return f"<Harness {state} targets=[{names}] seed={self.seed}>"
