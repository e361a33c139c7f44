"""The embedded server's toxics: one module per type, registered by type name.

Like Toxiproxy's ``toxics.Register("latency", …)``, each module here defines one
:class:`Toxic` subclass with a ``type_name``; the base class's
``__init_subclass__`` adds it to :data:`TOXICS`. Every module of this package
is imported below, so adding a toxic type is adding one module.

A toxic works on *chunks* (the bytes of one socket read, with the time they
were read), per link (one connection, one direction), through a :class:`Stub`
that holds the link's state for that toxic: whether the toxicity draw made it
active, its own state (``limit_data``'s byte count), and an interruptible sleep.
Standard library only: the embedded server runs on a bare ``python3``.

Time: chunks are stamped, and latency counts, on the server's clock (:func:`now`),
the real monotonic clock unless the process that runs the server gives it another
with :func:`use_clock` (the harness's virtual clock, docs/virtual-time.md), which may
also count a latency without the wait (:meth:`Stub.delay`).
"""

from __future__ import annotations

import asyncio
import importlib
import pkgutil
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

__all__ = [
    "TOXICS",
    "Chunk",
    "Emit",
    "Hold",
    "LinkControl",
    "ServerClock",
    "Stub",
    "Toxic",
    "now",
    "use_clock",
]


class Chunk:
    """The bytes of one read (``data``), or the end of the stream (``data is None``).

    ``ts`` is when the bytes were read, on the server's clock (:func:`now`); latency
    counts from it.
    """

    __slots__ = ("data", "ts")

    def __init__(self, data: bytes | None, ts: float) -> None:
        self.data = data
        self.ts = ts


Emit = Callable[[Chunk], Awaitable[None]]


class LinkControl(Protocol):
    """What a toxic may do to the link it runs on (implemented by the data path)."""

    rng: random.Random
    client_address: tuple[Any, ...] | None
    """The client's address (its end of the connection; None if unknown)."""
    proxy_address: tuple[Any, ...] | None
    """The proxy's end of the client's connection (None if unknown)."""
    read_at: float
    """When this link last read bytes from its source (real ``time.monotonic``)."""

    def close_connection(self, *, reset: bool = False, by: Stub | None = None) -> None:
        """Close both sockets of the connection (``reset``: with a TCP RST; ``by``: the
        toxic's stub that decided it, reported to event subscribers)."""


class Hold(Protocol):
    """A latency the server's clock runs (from :meth:`ServerClock.hold`)."""

    def step(self) -> float:
        """Real seconds to wait before asking again; 0 once the latency is over."""

    def settling(self) -> bool:
        """Whether what the clock's jump started is still under way (the data waits)."""

    def close(self) -> None:
        """The latency is over (or interrupted): forget it."""


class ServerClock(Protocol):
    """A clock for the server's toxics other than the real one (see :func:`use_clock`)."""

    def now(self) -> float:
        """The time (seconds, monotonic) chunks are stamped with and latency counts on."""

    def hold(self, seconds: float, link: LinkControl) -> Hold | None:
        """A latency of ``seconds`` on ``link``, or ``None``: a plain real wait."""


_clock: ServerClock | None = None


def use_clock(clock: ServerClock | None) -> None:
    """Stamp chunks and run latency on ``clock`` from now on (``None``: real time)."""
    global _clock
    _clock = clock


def now() -> float:
    """The server's clock (seconds, monotonic): what :attr:`Chunk.ts` is on."""
    clock = _clock
    return time.monotonic() if clock is None else clock.now()


_registry: dict[str, type[Toxic]] = {}

#: Toxic type name -> class, read-only.
TOXICS: Mapping[str, type[Toxic]] = MappingProxyType(_registry)


class Toxic:
    """One toxic type: its attributes (Go JSON types and defaults) and its behaviour.

    Subclasses set ``type_name``, ``go_struct`` (the Go struct name Toxiproxy
    reports in decode errors) and ``attributes`` (JSON name -> Go type, one of
    ``int64``, ``int``, ``float64``), then override :meth:`pipe` and, when
    needed, :meth:`validate`, :meth:`start`, :meth:`cleanup`, :meth:`new_state`.
    Instances hold the current attribute values; a PATCH updates them in place,
    so links see new values from their next chunk on.
    """

    type_name: ClassVar[str]
    go_struct: ClassVar[str]
    attributes: ClassVar[Mapping[str, str]] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        name = cls.__dict__.get("type_name")
        if name is None:
            return
        if name in _registry:
            raise TypeError(f"toxic type {name!r} is registered twice")
        _registry[name] = cls

    def __init__(self) -> None:
        self.values: dict[str, int | float] = {
            key: (0.0 if kind == "float64" else 0) for key, kind in self.attributes.items()
        }

    def validate(self, values: Mapping[str, int | float]) -> str | None:
        """Why ``values`` are not acceptable (a 400 message), or ``None``."""
        return None

    def new_state(self) -> object:
        """Per-link state that survives updates of this toxic (default: none)."""
        return None

    def start(self, stub: Stub) -> None:
        """Called when the toxic starts on a link (connect, or added to a live one)."""

    def cleanup(self, stub: Stub) -> None:
        """Called when the toxic is removed from a live link."""

    async def pipe(self, stub: Stub, chunk: Chunk, emit: Emit) -> None:
        """Pass ``chunk`` on (or not) through ``emit``; the default passes it unchanged."""
        await emit(chunk)

    def int_value(self, key: str) -> int:
        """An integer attribute's current value."""
        return int(self.values[key])

    def float_value(self, key: str) -> float:
        """A float attribute's current value."""
        return float(self.values[key])


class Stub:
    """A toxic running on one link: toxicity draw, per-link state, interruptible sleep.

    A stub is *interrupted* when its toxic is removed from the link or updated
    (the update starts a fresh stub that keeps the state). An interrupted stub
    wakes its sleeper at once and no longer touches the data.
    """

    __slots__ = (
        "_waiter",
        "active",
        "interrupted",
        "link",
        "met",
        "name",
        "state",
        "timer",
        "toxic",
    )

    def __init__(
        self, toxic: Toxic, link: LinkControl, active: bool, state: object, name: str = ""
    ) -> None:
        self.toxic = toxic
        self.link = link
        self.active = active
        self.state = state
        self.name = name or toxic.type_name
        self.met = False  # it has acted on a chunk of this link
        self.interrupted = False
        self.timer: asyncio.TimerHandle | None = None
        self._waiter: asyncio.Future[bool] | None = None

    async def sleep(self, seconds: float | None) -> bool:
        """Sleep ``seconds`` (``None``: until interrupted); ``False`` if interrupted."""
        if self.interrupted:
            return False
        if seconds is not None and seconds <= 0:
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiter = waiter
        handle = None
        if seconds is not None:
            handle = loop.call_later(seconds, _resolve, waiter, True)
        try:
            return await waiter
        finally:
            if handle is not None:
                handle.cancel()
            self._waiter = None

    async def delay(self, seconds: float) -> bool:
        """Hold the link's data ``seconds`` (a latency): :meth:`sleep`, unless the
        server's clock (:func:`use_clock`) runs it; ``False`` if interrupted."""
        clock = _clock
        if clock is None or seconds <= 0 or self.interrupted:
            return await self.sleep(seconds)
        hold = clock.hold(seconds, self.link)
        if hold is None:
            return await self.sleep(seconds)
        try:
            while (wait := hold.step()) > 0:
                if not await self.sleep(wait):
                    # interrupted (e.g. the toxic removed by the phase the jump began): the
                    # data goes on once that phase is in place
                    while hold.settling():
                        await asyncio.sleep(0.001)
                    return False
            return True
        finally:
            hold.close()

    def interrupt(self) -> None:
        """Stop this stub: wake its sleep and cancel its timer."""
        self.interrupted = True
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        if self._waiter is not None:
            _resolve(self._waiter, False)


def _resolve(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


def _load_all() -> None:
    for info in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{info.name}")


_load_all()
