"""The fault gateway: one HTTP listener per target, rules applied per request, the journal."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import random
import threading
from collections.abc import Callable, Coroutine, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from chaos._errors import ConfigError, HarnessStartError, did_you_mean
from chaos.common import _vtime
from chaos.common._journal import JournalRecord
from chaos.common._redact import redact_path
from chaos.faults import Fault
from chaos.gateway._actions import APPLIERS
from chaos.gateway._exchange import Exchange
from chaos.gateway._http import Connection
from chaos.gateway._journal import Journal, NetworkNote
from chaos.gateway._rules import RuleSet, RuleSource, StaticRules
from chaos.gateway._upstream import FakeUpstream, HttpUpstream, check_upstream
from chaos.providers._base import DIALECTS, Dialect, Request, Response
from chaos.providers._cassette import Cassette, CassetteMiss, CassetteUpstream, RecordingUpstream

if TYPE_CHECKING:
    from chaos.gateway._admin import AdminRoutes

__all__ = ["Gateway", "TargetConfig"]

log = logging.getLogger("chaos.gateway")

AdminRoute = Callable[[Mapping[str, list[str]], bytes], tuple[int, Any]]
"""An extra admin API route: ``(query, body) -> (status, JSON-ready payload)``."""

BeforeAnswer = Callable[[int], "asyncio.Future[None] | None"]
"""Called on the gateway's loop with the index the *next* request will get; a future it
returns is awaited (up to :data:`BEFORE_ANSWER_TIMEOUT` s) before this request is answered."""

BEFORE_ANSWER_TIMEOUT = 5.0


@dataclass(frozen=True)
class TargetConfig:
    """One target of the gateway: the dialect it speaks and where requests go.

    :param dialect: a registered dialect name (see ``chaos.providers.DIALECTS``)
        or a :class:`~chaos.providers.Dialect` instance.
    :param upstream: ``"fake"`` (the dialect's fake provider, in process) or an
        ``http(s)://`` base URL to forward to.
    :param port: the listener's port; 0 picks a free one.
    :param cassette: a cassette file (YAML): answers are replayed from it, offline,
        instead of asking the upstream; with ``record`` they are recorded into it.
    :param record: forward to ``upstream`` (a URL) and record every answer.
    """

    dialect: str | Dialect
    upstream: str = "fake"
    port: int = 0
    cassette: str | os.PathLike[str] | None = None
    record: bool = False


def _make_dialect(target: str, dialect: str | Dialect) -> Dialect:
    if isinstance(dialect, Dialect):
        return dialect
    cls = DIALECTS.get(dialect)
    if cls is None and dialect.isidentifier():
        # dialects register when their module is imported
        with contextlib.suppress(ImportError):
            importlib.import_module(f"chaos.providers.{dialect}")
        cls = DIALECTS.get(dialect)
    if cls is None:
        valid = ", ".join(sorted(DIALECTS)) or "(none registered)"
        hint = did_you_mean(dialect, DIALECTS)
        raise ConfigError(f"target {target!r}: unknown dialect {dialect!r}; valid: {valid}{hint}")
    return cls()


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The gateway thread's loop: uvloop's when installed (``pytest-llm-chaos[fast]``; about a
    third less CPU per request), unless ``LLM_CHAOS_UVLOOP=0``; else asyncio's."""
    if os.environ.get("LLM_CHAOS_UVLOOP", "1") != "0":
        try:
            import uvloop
        except ImportError:
            pass
        else:
            return uvloop.new_event_loop()
    return asyncio.new_event_loop()


class _Done:
    """An already-finished awaitable (what ``stop()`` returns after a synchronous stop)."""

    def __await__(self) -> Generator[Any, None, None]:
        return
        yield


Upstream = FakeUpstream | HttpUpstream | CassetteUpstream | RecordingUpstream


class _TargetRuntime:
    """A target while the gateway runs: dialect, upstream, listener, counters."""

    def __init__(
        self, name: str, config: TargetConfig, journal: Journal, allow_network: bool
    ) -> None:
        self.name = name
        self.config = config
        self.dialect = _make_dialect(name, config.dialect)
        self.journal = journal
        self.allow_network = allow_network
        self.upstream: Upstream = self.make_upstream(
            config.upstream, config.cassette, config.record
        )
        self.base = self.upstream  # the configured upstream, back after use_cassette(None)
        self.forwards = not isinstance(self.upstream, FakeUpstream)
        """Whether answers come from elsewhere (an upstream URL, a cassette), not the fake."""
        self.count = 0
        self.url = ""
        self.server: asyncio.Server | None = None

    def make_upstream(
        self, upstream: str, cassette: str | os.PathLike[str] | None, record: bool
    ) -> Upstream:
        """Where requests go: the fake, a URL, a cassette replayed, or a URL recorded."""
        name = self.name
        if record and (cassette is None or upstream == "fake"):
            raise ConfigError(
                f"target {name!r}: record needs a cassette file and a real upstream URL"
            )
        if cassette is not None and not record:
            if not os.path.exists(cassette):
                raise ConfigError(
                    f"target {name!r}: cassette {os.fspath(cassette)} does not exist; record it "
                    "first (record mode, with the target's real upstream URL)"
                )
            return CassetteUpstream(Cassette(cassette))
        if upstream == "fake":
            return FakeUpstream(self.dialect)
        url = check_upstream(name, upstream, allow_network=self.allow_network)
        if record and cassette is not None:
            return RecordingUpstream(HttpUpstream(url), Cassette(cassette))
        return HttpUpstream(url)

    def upstream_failure(self, exc: BaseException) -> Response:
        """The 502 the gateway answers when the upstream cannot be reached (or, replaying a
        cassette, has no recording of the request: then its message, which says how)."""
        detail = str(exc) if isinstance(exc, CassetteMiss) else repr(exc)
        body = f"llm-chaos gateway: upstream {self.upstream.description} failed: {detail}\n"
        return Response(502, [("content-type", "text/plain; charset=utf-8")], body.encode())


class _Guarded(Coroutine[Any, Any, None]):
    """An answer's guard coroutine that also closes the answer it wraps when closed, so an
    answer cancelled before its first step (shutdown) leaves no unawaited coroutine."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, outer: Coroutine[Any, Any, None], *inner: Coroutine[Any, Any, None]) -> None:
        self._outer = outer
        self._inner = inner

    def send(self, value: Any) -> Any:
        return self._outer.send(value)

    def throw(self, *args: Any) -> Any:
        return self._outer.throw(*args)

    def close(self) -> None:
        self._outer.close()
        for inner in self._inner:
            inner.close()

    def __await__(self) -> Generator[Any, None, None]:
        return self._outer.__await__()


async def _after(ready: asyncio.Future[None], answer: Coroutine[Any, Any, None]) -> None:
    """``answer``, once ``ready`` is done (or has taken too long: answer anyway)."""
    try:
        await asyncio.wait_for(asyncio.shield(ready), BEFORE_ANSWER_TIMEOUT)
    except TimeoutError:
        log.warning("llm-chaos gateway: the next request's faults were not ready in time")
    except BaseException:
        answer.close()
        raise
    await answer


class _TargetHandler:
    """Decides, per request, which rule applies, and starts the answer."""

    def __init__(self, gateway: Gateway, target: _TargetRuntime) -> None:
        self.gateway = gateway
        self.target = target

    def on_request(self, conn: Connection, request: Request) -> Coroutine[Any, Any, None] | None:
        gw, target = self.gateway, self.target
        rules = gw._rules
        request_index, target_index = gw._count(target)
        now = _vtime.monotonic()
        started = rules.started
        if started is None:  # a clock that starts at the first request: this one
            started = rules.started = now
        phase, faults = rules.source.select(
            target=target.name,
            request_index=request_index,
            target_index=target_index,
            elapsed=now - started,
        )
        if phase != gw._phase:
            gw._enter_phase(phase)
        ready = None if gw._before_answer is None else gw._before_answer(request_index + 1)
        ex = Exchange(conn, target, request)
        ex.phase = phase
        chosen = None
        if faults:
            for rule in rules.rules_for(target.name, faults):
                if rule.matches(ex) and rule.hit():
                    chosen = rule
                    ex.apply(rule)
                    break
        try:
            coro = (
                ex.forward() if chosen is None else APPLIERS[chosen.kind].start(ex, chosen.action)
            )
        except Exception as exc:
            self._failed(ex, exc)
            return None
        if coro is None:
            return None
        if ready is None:
            return _Guarded(self._guard(ex, coro), coro)
        waiting = _after(ready, coro)
        return _Guarded(self._guard(ex, waiting), waiting, coro)

    async def _guard(self, ex: Exchange, coro: Coroutine[Any, Any, None]) -> None:
        try:
            await coro
        except asyncio.CancelledError:
            ex.finish("client_gone")
            raise
        except Exception as exc:
            self._failed(ex, exc)

    def _failed(self, ex: Exchange, exc: Exception) -> None:
        log.exception(
            "llm-chaos gateway: answering %s %s failed",
            ex.request.method,
            redact_path(ex.request.path),  # ?key=... must not reach the logs
        )
        if ex.status is None and not ex.closed:
            body = f"llm-chaos gateway error: {exc!r}\n".encode()
            ex.send(
                Response(500, [("content-type", "text/plain; charset=utf-8")], body),
                outcome="upstream_error",
            )
        else:
            ex.cut("upstream_error")


class Gateway:
    """The HTTP/SSE fault gateway: one listener per target, faults applied per request.

    Usable from synchronous code (:meth:`start_in_thread` runs its own event
    loop in a daemon thread) or inside a running loop (``await gw.start()``).
    Rules are swapped atomically at any time with :meth:`set_faults`,
    :meth:`set_source` or :meth:`clear`; no restart, no request sees half a change.

    :param targets: target name -> :class:`TargetConfig`.
    :param host: the interface to listen on (loopback by default).
    :param seed: seeds every rule's RNG (with the rule's name); None picks one.
    :param admin: also serve the admin API (see :attr:`admin_url`).
    :param admin_port: the admin API's port; 0 picks a free one.
    :param admin_remote: accept admin clients that are not on loopback.
    :param allow_network: allow forwarding to non-loopback upstreams.
    :param journal_size: records kept in the journal (older ones are dropped and counted).
    """

    def __init__(
        self,
        targets: Mapping[str, TargetConfig],
        *,
        host: str = "127.0.0.1",
        seed: int | None = None,
        admin: bool = True,
        admin_port: int = 0,
        admin_remote: bool = False,
        allow_network: bool = False,
        journal_size: int = 10_000,
    ) -> None:
        if not targets:
            raise ConfigError("the gateway needs at least one target")
        self.host = host
        self.seed: int = seed if seed is not None else random.SystemRandom().randrange(2**32)
        self._journal = Journal(journal_size)
        self._targets = {
            name: _TargetRuntime(name, config, self._journal, allow_network)
            for name, config in targets.items()
        }
        self._admin_enabled = admin
        self._admin_port = admin_port
        self.admin_remote = admin_remote
        self._admin_server: asyncio.Server | None = None
        self.admin_url: str | None = None
        """The admin API's base URL once started (None if disabled)."""
        self._conns: set[Connection] = set()
        self._rules = RuleSet(StaticRules(), self.seed, _vtime.monotonic())
        self._retired: dict[str, int] = {}
        self.admin_api: AdminRoutes | None = None
        """What gives the admin listener its routes: a harness sets the admin API over the
        fault plane that drives this gateway (``chaos.harness._admin``); without one the
        listener answers the gateway's own routes (``/health``, ``/journal``, ``/fired``)."""
        self.admin_routes: dict[tuple[str, str], AdminRoute] = {}
        """Extra admin API routes, ``(METHOD, /path)`` -> ``route(query, body) -> (status,
        JSON-ready payload)``; run in a worker thread (the scripted replies' routes)."""
        self._requests = 0
        self._count_lock = threading.Lock()  # the plane counts refused attempts too
        self._journal.describe = self._describe_request
        self._phase: str | None = None
        self._phases: list[str] = []
        self._phase_callbacks: list[Callable[[str | None], None]] = []
        self._before_answer: BeforeAnswer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._started = False

    # -- introspection --------------------------------------------------------------

    @property
    def urls(self) -> dict[str, str]:
        """Target name -> the listener's base URL (``http://127.0.0.1:PORT``)."""
        return {name: t.url for name, t in self._targets.items()}

    @property
    def targets(self) -> tuple[str, ...]:
        """The target names."""
        return tuple(self._targets)

    def dialect(self, target: str) -> Dialect:
        """The dialect instance serving ``target``."""
        return self._targets[target].dialect

    def cassette(self, target: str) -> Cassette | None:
        """The cassette ``target`` replays from or records into now, if any."""
        upstream = self._targets[target].upstream
        return getattr(upstream, "cassette", None)

    def use_cassette(
        self,
        target: str,
        cassette: str | os.PathLike[str] | None,
        *,
        record: bool = False,
        upstream: str | None = None,
    ) -> None:
        """Answer ``target``'s requests from ``cassette`` from now on (offline), or with
        ``record`` forward them to ``upstream`` (default: the target's own upstream URL) and
        record every answer into it; None goes back to the target's configured upstream.

        :raises ConfigError: an unknown target, a replayed cassette that does not exist,
            or recording without a real upstream URL.
        :raises NetworkNotAllowed: recording from a non-loopback host without network access.
        """
        runtime = self._targets.get(target)
        if runtime is None:
            raise ConfigError(
                f"use_cassette: unknown target {target!r}; targets: {', '.join(self._targets)}"
            )
        if cassette is None:
            new = runtime.base
        else:
            new = runtime.make_upstream(upstream or runtime.config.upstream, cassette, record)
        old, runtime.upstream = runtime.upstream, new
        runtime.forwards = not isinstance(new, FakeUpstream)
        loop = self._loop
        if old is not runtime.base and loop is not None and loop.is_running():
            asyncio.run_coroutine_threadsafe(old.aclose(), loop)

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The event loop the gateway runs on (None before start)."""
        return self._loop

    # -- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Open the listeners (and the admin API) on the running loop."""
        if self._started:
            return
        loop = asyncio.get_running_loop()
        self._loop = loop
        what = ""
        try:
            for target in self._targets.values():
                handler = _TargetHandler(self, target)
                what = f"target {target.name!r} on port {target.config.port}"
                target.server = await loop.create_server(
                    lambda h=handler: Connection(h, self._conns),  # type: ignore[misc]
                    self.host,
                    target.config.port,
                )
                port = target.server.sockets[0].getsockname()[1]
                target.url = _url(self.host, port)
            if self._admin_enabled:
                from chaos.gateway._admin import AdminHandler

                admin = AdminHandler(self)
                what = f"the admin API on port {self._admin_port}"
                self._admin_server = await loop.create_server(
                    lambda: Connection(admin, self._conns), self.host, self._admin_port
                )
                port = self._admin_server.sockets[0].getsockname()[1]
                self.admin_url = _url(self.host, port)
        except OSError as exc:
            await self._close()
            raise HarnessStartError(
                f"the gateway could not listen on {self.host} for {what}: "
                f"{exc.strerror or exc}; free that port or choose another one "
                "(0 picks a free port)"
            ) from exc
        self._started = True

    def start_in_thread(self, timeout: float = 10.0) -> Gateway:
        """Start on a new event loop in a daemon thread; returns when the listeners are up."""
        if self._started:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()

        self._thread = threading.Thread(target=run, name="llm-chaos-gateway", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise HarnessStartError(f"the gateway did not start within {timeout} s")
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> Any:
        """Stop: close listeners and connections, release upstreams. Idempotent.

        Started with :meth:`start_in_thread`: stops synchronously (the return
        value may be ignored). Started with ``await start()``: returns a task to
        await.
        """
        loop, thread = self._loop, self._thread
        if not self._started or loop is None:
            return _Done()
        if thread is not None:
            self._thread = None
            if thread.is_alive():
                future = asyncio.run_coroutine_threadsafe(self._close(), loop)
                future.result(timeout=10)
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=10)
            return _Done()
        return loop.create_task(self._close())

    async def _close(self) -> None:
        if not self._started and all(t.server is None for t in self._targets.values()):
            return
        self._started = False
        servers = [t.server for t in self._targets.values()] + [self._admin_server]
        for server in servers:
            if server is not None:
                server.close()
        for conn in list(self._conns):
            conn.abort()
        for server in servers:
            if server is not None:
                await server.wait_closed()
        for target in self._targets.values():
            target.server = None
            await target.upstream.aclose()
            if target.base is not target.upstream:
                await target.base.aclose()
        self._admin_server = None
        await asyncio.sleep(0)  # let cancelled answers record themselves

    def __enter__(self) -> Gateway:
        return self.start_in_thread()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> Gateway:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- rules ----------------------------------------------------------------------

    def check(self, faults: Iterable[Fault]) -> None:
        """Raise :class:`~chaos.ConfigError` if a fault cannot apply here (unknown target,
        an error kind not in the target dialect's catalogue, an unknown edge page...)."""
        for fault in faults:
            if fault.action.kind not in APPLIERS:
                continue  # another layer's executor runs it
            target = self._targets.get(fault.target)
            if target is None:
                raise ConfigError(
                    f"fault {fault.name or fault.action.describe()!r} names target "
                    f"{fault.target!r}; the targets are: {', '.join(self._targets)}"
                )
            APPLIERS[fault.action.kind].check(fault.action, target.dialect)

    def set_faults(self, faults: Iterable[Fault], *, keep_counts: bool = True) -> None:
        """Replace every rule with ``faults`` (first applicable wins), atomically.

        :param keep_counts: a fault that was already active (the same object) keeps
            its schedule counters, so adding a fault does not restart the others.
        """
        faults = tuple(faults)
        self.check(faults)
        self._apply(StaticRules(faults), keep_counts=keep_counts)

    def set_source(self, source: RuleSource, *, keep_clock: bool = False) -> None:
        """Take rules from ``source`` (e.g. a profile timeline). Its clock starts now or,
        when ``source.start == "first_request"``, at the next request.

        :param keep_clock: carry on the clock of the source in use instead (the same
            timeline with other faults layered on it: incident time goes on).
        """
        declared = getattr(source, "faults", None)
        if isinstance(declared, tuple | list):
            self.check(declared)
        self._apply(source, keep_counts=False, keep_clock=keep_clock)

    def clear(self) -> None:
        """Remove every rule (the journal is kept)."""
        self._apply(StaticRules(), keep_counts=False)

    def _apply(self, source: RuleSource, *, keep_counts: bool, keep_clock: bool = False) -> None:
        old = self._rules
        new = RuleSet(source, self.seed, _vtime.monotonic(), previous=old if keep_counts else None)
        if keep_clock:
            new.started = old.started
        kept = new.fired()
        for name, count in old.fired().items():
            if name not in kept:
                self._retired[name] = self._retired.get(name, 0) + count
        self._phase = None
        self._rules = new  # the one assignment requests read

    @property
    def source(self) -> RuleSource:
        """The rule source in use."""
        return self._rules.source

    @property
    def clock_started(self) -> float | None:
        """When the rule source's clock started (``chaos.common._vtime.monotonic()``): when it was
        set or, for a source that starts at the first request, then; None until that request."""
        return self._rules.started

    def _count(self, target: _TargetRuntime) -> tuple[int, int]:
        """Number one attempt on ``target``: (index over every target, index on it)."""
        with self._count_lock:
            request_index = self._requests
            self._requests = request_index + 1
            target_index = target.count
            target.count = target_index + 1
        return request_index, target_index

    def count_attempt(self, target: str) -> int:
        """Count an attempt on ``target`` that a network fault turned away before it got
        here: it counts on a ``requests`` clock like a request answered here (a profile's
        phases are written in the requests the app makes). Any thread.

        :returns: the index the next attempt gets.
        """
        request_index, _ = self._count(self._targets[target])
        return request_index + 1

    def _describe_request(self, target: str, data: bytes, when: float) -> JournalRecord | None:
        """A journal record naming the request in ``data`` (a refused attempt's bytes)."""
        from chaos.gateway._exchange import _build_record
        from chaos.gateway._http import parse_request

        runtime = self._targets.get(target)
        request = parse_request(data)
        if runtime is None or request is None:
            return None
        fields: tuple[Any, ...] = (
            runtime,
            request,
            None,
            None,
            None,
            None,
            when,
            None,
            "refused",
            0,
            0,
            0.0,
            [],
            None,
        )
        return _build_record(0, fields)

    def busy(self) -> bool:
        """Whether a request is being received or answered now (from any thread: virtual
        time skips no sleep while one is in flight)."""
        return any(conn._busy or conn._buf for conn in list(self._conns))

    def on_phase(self, callback: Callable[[str | None], None]) -> None:
        """Call ``callback(phase)`` when the phase requests see changes (on the gateway's
        loop thread: it must not block)."""
        self._phase_callbacks.append(callback)

    def before_answer(self, callback: BeforeAnswer | None) -> None:
        """Call ``callback(next_request_index)`` for every request before answering it,
        on the gateway's loop (it must not block); an answer waits for the future it
        returns. The harness readies the network faults of the request that comes next."""
        self._before_answer = callback

    def _enter_phase(self, phase: str | None) -> None:
        self._phase = phase
        if phase is not None:
            self._phases.append(phase)
        for callback in self._phase_callbacks:
            try:
                callback(phase)
            except Exception:
                log.exception("llm-chaos gateway: phase callback failed")

    def phases_seen(self) -> list[str]:
        """Phase names requests saw, in order (a phase seen again after another is listed again)."""
        return list(self._phases)

    # -- journal --------------------------------------------------------------------

    def journal(self, since: int = 0) -> list[JournalRecord]:
        """A snapshot of the journal (records with ``seq >= since``), oldest first."""
        return self._journal.snapshot(since)

    def note(self, note: NetworkNote) -> None:
        """Journal what a network fault did to a connection (joined with the records
        of the same attempt when the journal is read). Any thread."""
        self._journal.note(note)

    @property
    def journal_size(self) -> int:
        """How many records the journal keeps."""
        return self._journal.size

    @property
    def next_seq(self) -> int:
        """The sequence number the journal's next record gets."""
        return self._journal.next_seq

    @property
    def dropped(self) -> int:
        """Records dropped because the journal was full."""
        return self._journal.dropped

    def fired(self) -> dict[str, int]:
        """Fault name -> times it fired, for every fault applied since the last reset."""
        counts = dict(self._retired)
        for name, count in self._rules.fired().items():
            counts[name] = counts.get(name, 0) + count
        return counts

    def reset(self) -> None:
        """Forget the journal, the fired counts and the phases; restart the source's clock
        and counters (the rules stay)."""
        self._journal.clear()
        self._retired.clear()
        self._phases.clear()
        with self._count_lock:
            self._requests = 0
            for target in self._targets.values():
                target.count = 0
        self._apply(self._rules.source, keep_counts=False)
