"""Virtual time: the app's sleeps advance one clock instantly; the harness reads the same clock.

While a chaos test runs with ``time="virtual"`` (docs/virtual-time.md), in this process:

* ``time.sleep`` and ``asyncio.sleep`` (so ``anyio.sleep``, tenacity's sleeps and the
  SDKs' retry back-offs) of the app do not block: they move the clock to their deadline
  and return;
* ``time.monotonic``/``perf_counter`` (so every asyncio loop's ``loop.time()``) read
  that clock, and the wall clock (``time.time``, ``datetime.now``, even through a
  ``from time import time`` binding) moves with it, by time-machine;
* the harness reads it through :func:`monotonic` and :func:`wall`: the profile
  timeline, the journal's timestamps and durations, hence the verdicts.

Virtual time is real time plus the seconds skipped: whatever really takes time (a
socket timeout, the harness's latency and delays, the app's own work) still does, and
counts. A sleep is skipped only when nothing the harness sees could notice: while a
request is in flight at the gateway (a ``hang``, a ``delay``, a slow stream), another
sleeper's deadline comes first, or an asyncio task woken before is still at work, it
waits in real time, in small steps, re-checking; so a sleep never ends early on the
virtual clock, and a watchdog cannot outrun a slow answer already at the harness (it
waits for the answer, and 50 ms more for it to reach the app).

The harness's own threads (names starting ``llm-chaos`` or ``toxiproxy``) keep real
sleeps and real loop timers: its delays and timeouts are real. The one exception is
the embedded Toxiproxy's latency (:class:`_Hold`): it is a sleeper too, skipped only
when the client waiting behind it cannot time out first, and held real, holding the
clock, otherwise; and no sleep is skipped while an app thread is in a timed wait on a
lock (``Event.wait(t)``, ``Future.result(t)``): that wait is real.

The monotonic clock never goes back: the seconds skipped stay added after the test
(its origin is arbitrary anyway). The wall clock returns to the real one when the
last virtual test ends.
"""

from __future__ import annotations

import asyncio
import asyncio.base_events
import asyncio.futures
import contextvars
import logging
import math
import socket
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from chaos._errors import ConfigError

__all__ = [
    "ServerClock",
    "activate",
    "active",
    "deactivate",
    "monotonic",
    "skipped",
    "virtual",
    "wall",
    "watch",
]

log = logging.getLogger("chaos.vtime")

# threads of the harness itself: their sleeps and loop timers stay real
_HARNESS_THREADS = ("llm-chaos", "toxiproxy")
# a sleeper that may not jump yet re-checks after this many real seconds
_STEP = 0.001
# after another sleeper woke, wait this long (real) before jumping: its next request
# must have time to reach the harness
_QUIET = 0.01
# after an answer left the harness while someone slept: it must have time to reach the
# app (and the app to read it) before a jump could outrun it
_ANSWER_QUIET = 0.05

_real_monotonic = time.monotonic
_real_monotonic_ns = time.monotonic_ns
_real_perf_counter = time.perf_counter
_real_perf_counter_ns = time.perf_counter_ns
_real_sleep = time.sleep
_real_call_later = asyncio.base_events.BaseEventLoop.call_later
_real_settimeout = socket.socket.settimeout
_real_setblocking = socket.socket.setblocking
_real_condition_wait = threading.Condition.wait
_sleep_callback = asyncio.futures._set_result_unless_cancelled  # type: ignore[attr-defined]


class _Sleeper:
    __slots__ = ("deadline", "jumped", "who")

    def __init__(self, deadline: float, who: int) -> None:
        self.deadline = deadline
        self.who = who
        self.jumped = False


class _Clock:
    """The process's virtual clock: an offset over the real monotonic clock that only grows."""

    def __init__(self) -> None:
        self.offset = 0.0
        self.lock = threading.Lock()
        self.depth = 0
        self.skipped = 0.0  # seconds skipped since the first activation in force
        self.traveller: Any = None  # time-machine's travel, while active
        self.coordinates: Any = None  # ...and what it shifts
        self.sleepers: list[_Sleeper] = []
        self.busy: list[Callable[[], bool]] = []
        self.listeners: list[Callable[[], None]] = []
        self.woke_at = -math.inf  # real monotonic time a sleeper last woke
        self.woke_who = 0
        self.busy_at = -math.inf  # real monotonic time a request was last seen in flight
        self.awake: set[int] = set()  # asyncio tasks woken, not asleep again nor done
        self.holding = 0  # latencies held in real time (their client could time out first)
        self.waits: dict[int, float] = {}  # timed lock waits of the app: id -> deadline
        # the app's sockets whose timeout was set on virtual time: (timeout, when)
        self.sockets: weakref.WeakKeyDictionary[socket.socket, tuple[float | None, float]] = (
            weakref.WeakKeyDictionary()
        )
        self.tracked: set[int] = set()  # tasks whose end is watched (one callback each)
        self.local = threading.local()

    def _harness_thread(self) -> bool:
        harness: bool | None = getattr(self.local, "harness", None)
        if harness is None:
            name = threading.current_thread().name
            harness = self.local.harness = name.startswith(_HARNESS_THREADS)
        return harness

    def here(self) -> bool:
        """Whether sleeps in the calling thread are virtual now."""
        return self.depth > 0 and not self._harness_thread()

    def shift_here(self) -> float:
        """The offset the calling thread's ``time.monotonic`` adds (0 in harness threads)."""
        return 0.0 if self._harness_thread() else self.offset

    def enter(self, deadline: float, who: int) -> _Sleeper:
        sleeper = _Sleeper(deadline, who)
        with self.lock:
            self.sleepers.append(sleeper)
            self.awake.discard(who)
        return sleeper

    def leave(self, sleeper: _Sleeper) -> None:
        with self.lock:
            if sleeper in self.sleepers:
                self.sleepers.remove(sleeper)
                self.woke_at = _real_monotonic()
                self.woke_who = sleeper.who

    def step(self, sleeper: _Sleeper, notify: bool = True) -> float:
        """Jump to ``sleeper``'s deadline if nothing could notice; else the real seconds
        to wait before asking again (0: the deadline has passed). After a jump the
        listeners are called (``notify=False``: the caller calls :meth:`notify`)."""
        with self.lock:
            left = sleeper.deadline - (_real_monotonic() + self.offset)
            if left <= 0:
                return 0.0
            if not self.depth or not self._may_jump(sleeper):
                return min(_STEP, left)
            self.offset += left
            self.skipped += left
            sleeper.jumped = True
            if self.coordinates is not None:
                self.coordinates.shift(left)
        if notify:
            self.notify()
        return 0.0

    def notify(self) -> None:
        """Call the listeners: the clock jumped."""
        with self.lock:
            listeners = list(self.listeners)
        for listener in listeners:
            try:
                listener()
            except Exception:  # the harness's trouble must not surface in the app's sleep
                log.exception("llm-chaos: after a virtual time jump")

    def _may_jump(self, sleeper: _Sleeper) -> bool:
        if any(s.deadline < sleeper.deadline for s in self.sleepers if s is not sleeper):
            return False  # another sleeper wakes first
        now = _real_monotonic()
        if self.woke_who != sleeper.who and now - self.woke_at < _QUIET:
            return False  # another sleeper just woke: let its next request show up
        if self.awake - {sleeper.who}:
            return False  # a task woken before is at work: no jump until it waits again
        if self.holding or self.waits:
            # a latency held for a client that could time out first, or a timed lock
            # wait: real waits, which a jump would not shorten (what they wait for
            # would come early on the virtual clock)
            self.busy_at = now
            return False
        if any(probe() for probe in self.busy):
            self.busy_at = now
            return False
        return now - self.busy_at >= _ANSWER_QUIET  # an answer just left: let it arrive


_CLOCK = _Clock()


def monotonic() -> float:
    """The virtual monotonic clock (seconds): the real one plus every second skipped.
    The harness's clock: profile timelines, journal durations."""
    return _real_monotonic() + _CLOCK.offset


def wall() -> float:
    """The wall clock (epoch seconds): ``time.time()``, which moves with the virtual
    clock while a virtual test runs. The journal's timestamps."""
    return time.time()


def active() -> bool:
    """Whether a test runs on virtual time now."""
    return _CLOCK.depth > 0


def skipped() -> float:
    """Seconds of sleep skipped since virtual time was switched on (0 when off)."""
    return _CLOCK.skipped


# -- the patched functions ----------------------------------------------------------


def _monotonic() -> float:
    return _real_monotonic() + _CLOCK.shift_here()


def _monotonic_ns() -> int:
    return _real_monotonic_ns() + int(_CLOCK.shift_here() * 1e9)


def _perf_counter() -> float:
    return _real_perf_counter() + _CLOCK.shift_here()


def _perf_counter_ns() -> int:
    return _real_perf_counter_ns() + int(_CLOCK.shift_here() * 1e9)


def _sleep(seconds: float) -> None:
    """``time.sleep``: virtual in the app's threads while a virtual test runs."""
    if not _CLOCK.here() or not 0 < seconds < math.inf:
        _real_sleep(seconds)
        return
    sleeper = _CLOCK.enter(monotonic() + seconds, threading.get_ident())
    try:
        while (wait := _CLOCK.step(sleeper)) > 0:
            _real_sleep(wait)
    finally:
        _CLOCK.leave(sleeper)


class _VirtualTimer:
    """What ``asyncio.sleep``'s ``loop.call_later`` returns under virtual time: polls
    the clock in real steps, jumps when it may, then wakes the sleeper."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        delay: float,
        callback: Callable[..., object],
        args: tuple[Any, ...],
        context: contextvars.Context | None,
    ) -> None:
        self._loop = loop
        self._callback = callback
        self._args = args
        self._context = context
        self._task = asyncio.current_task(loop)
        self._sleeper = _CLOCK.enter(monotonic() + delay, id(self._task))
        self._handle: asyncio.Handle = loop.call_soon(self._poll)
        self._cancelled = False

    def _poll(self) -> None:
        wait = _CLOCK.step(self._sleeper)
        if wait > 0:
            self._handle = _real_call_later(self._loop, wait, self._poll)  # type: ignore[arg-type]
            return
        _CLOCK.leave(self._sleeper)
        task = self._task
        if task is not None and not task.done():
            # at work until it sleeps again or ends: other sleepers of the app wait for it
            with _CLOCK.lock:
                _CLOCK.awake.add(id(task))
                first = id(task) not in _CLOCK.tracked
                _CLOCK.tracked.add(id(task))
            if first:
                task.add_done_callback(_task_done)
        self._handle = self._loop.call_soon(self._callback, *self._args, context=self._context)

    def cancel(self) -> None:
        """Stop waiting (the sleep was cancelled)."""
        self._cancelled = True
        self._handle.cancel()
        _CLOCK.leave(self._sleeper)

    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._cancelled

    def when(self) -> float:
        """The deadline, on the loop's (virtual) clock."""
        return self._sleeper.deadline


def _task_done(task: asyncio.Task[Any]) -> None:
    with _CLOCK.lock:
        _CLOCK.awake.discard(id(task))
        _CLOCK.tracked.discard(id(task))


def _call_later(
    self: asyncio.base_events.BaseEventLoop,
    delay: float,
    callback: Callable[..., object],
    *args: Any,
    context: contextvars.Context | None = None,
) -> Any:
    # only asyncio.sleep's timer (anyio's and tenacity's sleeps go through it); a
    # timeout's timer (wait_for, anyio.fail_after, httpx's) stays a real timer
    if callback is _sleep_callback and 0 < delay < math.inf and _CLOCK.here():
        return _VirtualTimer(self, delay, callback, args, context)
    return _real_call_later(self, delay, callback, *args, context=context)


def _settimeout(self: socket.socket, value: float | None) -> None:
    _real_settimeout(self, value)
    _note_timeout(self)


def _setblocking(self: socket.socket, flag: bool) -> None:
    _real_setblocking(self, flag)
    _note_timeout(self)


def _note_timeout(sock: socket.socket) -> None:
    # the app's sync HTTP clients (httpcore) set the read timeout just before each recv:
    # its deadline is at least this time plus the timeout
    if _CLOCK.here():
        with _CLOCK.lock:
            _CLOCK.sockets[sock] = (sock.gettimeout(), monotonic())


def _condition_wait(self: threading.Condition, timeout: float | None = None) -> bool:
    """``Condition.wait`` (so ``Event.wait``, ``Future.result``, ``queue.get``): a timed
    wait in the app's threads is real, and no sleep is skipped while it lasts."""
    if timeout is None or not 0 < timeout < math.inf or not _CLOCK.here():
        return _real_condition_wait(self, timeout)
    key = id(threading.current_thread())
    with _CLOCK.lock:
        _CLOCK.waits[key] = monotonic() + timeout
    try:
        return _real_condition_wait(self, timeout)
    finally:
        with _CLOCK.lock:
            _CLOCK.waits.pop(key, None)


def _client_deadline(client: tuple[Any, ...], proxy: tuple[Any, ...]) -> float | None:
    """The earliest the app's socket at ``client`` (connected to ``proxy``) can time out,
    on the virtual clock: ``inf`` for a blocking socket with no timeout, None when that is
    not known (no such socket of the app, or a non-blocking one: an asyncio loop's timers
    decide its timeouts)."""
    with _CLOCK.lock:
        known = list(_CLOCK.sockets.items())
    for sock, (timeout, since) in known:
        try:
            if sock.getsockname() != client or sock.getpeername() != proxy:
                continue
            current = sock.gettimeout()
        except OSError:  # closed
            continue
        if current != timeout:  # changed behind the patch (a C extension?): unknown
            return None
        if timeout is None:
            return math.inf
        return since + timeout if timeout > 0 else None
    return None


class _Link(Protocol):
    """What a latency's hold reads of the embedded Toxiproxy's link it is on."""

    client_address: tuple[Any, ...] | None
    proxy_address: tuple[Any, ...] | None
    read_at: float


class _Hold:
    """A latency of the embedded Toxiproxy (in this process) on the virtual clock.

    A sleeper like the app's: it ends at its deadline on the virtual clock, and the
    clock jumps there (the bytes go on at once) when the sleep rules allow, the
    link's sender has paused (10 ms: the rest of what it sends is read, and held,
    before the jump), and the client waiting behind it cannot time out first: its
    socket is a blocking one of this process whose timeout, counted from when it was
    set, ends more than 50 ms after the latency. Otherwise it waits in real time and
    holds the clock (no sleep is skipped) while it does: a jump would not move the
    client's real timeout.
    """

    def __init__(self, seconds: float, link: _Link) -> None:
        self._link = link
        self._sleeper = _CLOCK.enter(monotonic() + seconds, id(self))
        self._real = False
        self._notifier: threading.Thread | None = None

    def _may_skip(self) -> bool:
        client, proxy = self._link.client_address, self._link.proxy_address
        if not _CLOCK.depth or client is None or proxy is None:
            return False
        if _real_monotonic() - self._link.read_at < _QUIET:
            return False  # the sender is still at it
        deadline = _client_deadline(client, proxy)
        return deadline is not None and deadline > self._sleeper.deadline + _ANSWER_QUIET

    def _hold_real(self, real: bool) -> None:
        if real != self._real:
            with _CLOCK.lock:
                _CLOCK.holding += 1 if real else -1
            self._real = real

    def step(self) -> float:
        """Real seconds to wait before asking again; 0 once the latency is over."""
        if self._notifier is not None:  # jumped: the bytes go on once the harness knows
            return _STEP if self.settling() else 0.0
        if self._may_skip():
            self._hold_real(False)
            wait = _CLOCK.step(self._sleeper, notify=False)
            if wait == 0 and self._sleeper.jumped:
                # on a thread of its own: the listeners may call this Toxiproxy's API,
                # served by the loop this hold runs on
                self._notifier = threading.Thread(
                    target=_CLOCK.notify, name="llm-chaos-vtime-jump", daemon=True
                )
                self._notifier.start()
                return _STEP
            return wait
        self._hold_real(True)
        left = self._sleeper.deadline - monotonic()
        return min(_STEP, left) if left > 0 else 0.0

    def settling(self) -> bool:
        """Whether the listeners of this hold's jump are still at work."""
        return self._notifier is not None and self._notifier.is_alive()

    def close(self) -> None:
        """The latency is over: its bytes are on their way to the client."""
        self._hold_real(False)
        with _CLOCK.lock:
            others = len(_CLOCK.sleepers) > 1
        _CLOCK.leave(self._sleeper)
        if others:  # someone else sleeps: the answer must reach the app before a jump
            _CLOCK.busy_at = _real_monotonic()


class ServerClock:
    """The clock of an embedded Toxiproxy in this process (``_toxics.use_clock``, set by
    the ``embedded`` backend): the virtual one, which runs its latency while a virtual
    test runs (:class:`_Hold`)."""

    def now(self) -> float:
        """:func:`monotonic`."""
        return monotonic()

    def hold(self, seconds: float, link: _Link) -> _Hold | None:
        """A latency on the virtual clock while a virtual test runs; else None (real)."""
        return _Hold(seconds, link) if _CLOCK.depth else None


_installed = False


def _install() -> None:
    # module attributes, not the C functions: a reference taken before (a default
    # argument ``clock=time.monotonic``, ``from time import monotonic``) stays real
    global _installed
    if _installed:
        return
    _installed = True
    time.monotonic = _monotonic
    time.monotonic_ns = _monotonic_ns
    time.perf_counter = _perf_counter
    time.perf_counter_ns = _perf_counter_ns
    time.sleep = _sleep  # type: ignore[assignment]
    asyncio.base_events.BaseEventLoop.call_later = _call_later  # type: ignore[method-assign,assignment]
    socket.socket.settimeout = _settimeout  # type: ignore[method-assign,assignment]
    socket.socket.setblocking = _setblocking  # type: ignore[method-assign,assignment]
    threading.Condition.wait = _condition_wait  # type: ignore[method-assign]


def _time_machine() -> Any:
    try:
        import time_machine
    except ImportError:
        raise ConfigError(
            "time='virtual' needs the time-machine package (it moves the wall clock with "
            "the virtual one): pip install 'pytest-llm-chaos[vtime]'; or run with "
            "time='real'"
        ) from None
    return time_machine


# -- switching it on ----------------------------------------------------------------


def activate() -> None:
    """Run on virtual time until the matching :func:`deactivate` (calls nest).

    :raises ConfigError: time-machine is not installed.
    """
    time_machine = _time_machine()
    with _CLOCK.lock:
        _install()
        if _CLOCK.depth == 0:
            _CLOCK.skipped = 0.0
            _CLOCK.sleepers.clear()  # a loop abandoned mid-sleep must not hold the clock
            _CLOCK.awake.clear()
            _CLOCK.waits.clear()
            _CLOCK.sockets.clear()
            _CLOCK.traveller = time_machine.travel(time.time(), tick=True)
            _CLOCK.coordinates = _CLOCK.traveller.start()
        _CLOCK.depth += 1


def deactivate() -> None:
    """Undo one :func:`activate`; the last one brings the real wall clock back."""
    with _CLOCK.lock:
        if _CLOCK.depth == 0:
            return
        _CLOCK.depth -= 1
        if _CLOCK.depth == 0 and _CLOCK.traveller is not None:
            _CLOCK.traveller.stop()
            _CLOCK.traveller = _CLOCK.coordinates = None


@contextmanager
def virtual() -> Iterator[None]:
    """Virtual time for the duration of a ``with`` block (plain Python, no pytest)."""
    activate()
    try:
        yield
    finally:
        deactivate()


def watch(
    busy: Callable[[], bool] | None = None, on_jump: Callable[[], None] | None = None
) -> Callable[[], None]:
    """Register what the clock must respect; returns the function that unregisters.

    :param busy: true while a request is in flight (no sleep may be skipped then).
    :param on_jump: called in the sleeper's thread after each jump, before its sleep
        returns (e.g. to put a wall-clock profile's new phase in place).
    """
    with _CLOCK.lock:
        if busy is not None:
            _CLOCK.busy.append(busy)
        if on_jump is not None:
            _CLOCK.listeners.append(on_jump)

    def unwatch() -> None:
        with _CLOCK.lock:
            if busy is not None and busy in _CLOCK.busy:
                _CLOCK.busy.remove(busy)
            if on_jump is not None and on_jump in _CLOCK.listeners:
                _CLOCK.listeners.remove(on_jump)

    return unwatch
