"""The embedded server's data path: one proxied connection, two links, toxic chains.

Each accepted client gives a :class:`Connection` with two sockets
(:class:`_Side`) and, once the upstream answers, two :class:`Link`\\ s:
``upstream`` (client -> server) and ``downstream`` (server -> client). Each link
has a *pump* thread doing blocking reads of its source socket.

A link with no toxics is on the *direct path*: the pump writes each read
straight into the destination socket (blocking ``sendall``: the backpressure
is the kernel's), with no event-loop round trip. This is what keeps a proxied
round trip close to a direct one; an epoll loop costs a wake-up and a pass of
the loop per hop. As soon as a toxic is on the link, the pump hands chunks
(one read each, stamped with the time they were read) to the event loop, where
one task per link runs them through the toxics'
:meth:`~chaos.toxiproxy._toxics.Toxic.pipe` in chain order and writes what
comes out. A count of chunks handed over and not yet written keeps the order
when the link goes back to the direct path.

Closing mirrors Toxiproxy: the end of one link shuts the whole destination
socket down, which ends the other link too (no half-close). ``shutdown`` (not
``close``) wakes the pumps; file descriptors are closed once both pumps are
done. A reset sets ``SO_LINGER`` 0 and only shuts the reading side, so the
close that follows sends an RST and no FIN.

Standard library only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import itertools
import logging
import mmap
import random
import select
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal, Protocol

from chaos.toxiproxy._events import ConnectionEvent, EventHub, EventKind
from chaos.toxiproxy._toxics import Chunk, Stub, Toxic, now

__all__ = ["Connection", "Direction", "Link", "ToxicEntry", "split_host_port"]

Direction = Literal["upstream", "downstream"]

log = logging.getLogger("chaos.toxiproxy.server")

# bytes queued in a toxic link before its pump stops reading
_QUEUE_LIMIT = 1 << 20
_READ_SIZE = 1 << 18
_LINGER_RESET = struct.pack("ii", 1, 0)
_DONTWAIT: int = getattr(socket, "MSG_DONTWAIT", 0)
_REFUSE_WAIT = 5.0  # seconds a refused connection waits at most for its client's request
_REFUSE_QUIET = 0.02  # a client quiet this long has sent its request
_REFUSE_KEEP = 256 * 1024  # bytes of a refused request kept for the event
# a reset first only shuts the reading side; a pump stuck in a write gets this long
_RESET_GRACE = 1.0


class ToxicEntry:
    """A toxic as the API knows it: name, type, stream as sent, toxicity, attributes."""

    __slots__ = ("direction", "name", "stream", "toxic", "toxicity", "type")

    def __init__(
        self,
        name: str,
        type_: str,
        stream: str,
        direction: Direction,
        toxicity: float,
        toxic: Toxic,
    ) -> None:
        self.name = name
        self.type = type_
        self.stream = stream
        self.direction: Direction = direction
        self.toxicity = toxicity
        self.toxic = toxic


class ConnectionOwner(Protocol):
    """What a connection needs from its proxy."""

    name: str
    upstream: str
    rng: random.Random
    executor: concurrent.futures.Executor
    events: EventHub
    refusing: bool

    def chain(self, direction: Direction) -> list[ToxicEntry]:
        """The proxy's toxics for one direction, in chain order."""

    def connection_opened(self, conn: Connection) -> bool:
        """A client connected; ``False`` if the proxy has stopped meanwhile."""

    def link_started(self, link: Link) -> None:
        """A link of a live connection exists (toxic changes must reach it)."""

    def connection_closed(self, conn: Connection) -> None:
        """Both sockets of ``conn`` are closed."""


def split_host_port(address: str) -> tuple[str, str]:
    """Split ``host:port`` like Go's ``net.SplitHostPort`` (brackets for IPv6).

    :raises ValueError: with Go's wording (``missing port in address``, ...).
    """
    if address.startswith("["):
        end = address.find("]")
        if end < 0:
            raise ValueError(f"address {address}: missing ']' in address")
        host, rest = address[1:end], address[end + 1 :]
        if not rest.startswith(":"):
            raise ValueError(f"address {address}: missing port in address")
        return host, rest[1:]
    colon = address.rfind(":")
    if colon < 0:
        raise ValueError(f"address {address}: missing port in address")
    host, port = address[:colon], address[colon + 1 :]
    if ":" in host:
        raise ValueError(f"address {address}: too many colons in address")
    return host, port


class _Side:
    """One socket of a connection (the client's or the upstream's), in blocking mode."""

    def __init__(self, sock: socket.socket, role: str) -> None:
        self.sock = sock
        self.role = role

    def send_all(self, data: bytes | memoryview) -> bool:
        """Write all of ``data`` (blocking); ``False`` if the socket is gone."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def send_now(self, data: bytes) -> int:
        """Write what fits without blocking; the number of bytes written (-1: gone)."""
        if not _DONTWAIT:  # no MSG_DONTWAIT here: the caller writes off the loop
            return 0
        try:
            return self.sock.send(data, _DONTWAIT)
        except BlockingIOError:
            return 0
        except OSError:
            return -1

    def shutdown(self, how: int) -> None:
        """``shutdown(2)``, ignoring a socket that is already gone."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(how)


class Link:
    """One direction of a connection and the toxics running on it."""

    def __init__(
        self,
        conn: Connection,
        direction: Direction,
        src: _Side,
        dst: _Side,
        entries: list[ToxicEntry],
    ) -> None:
        self.conn = conn
        self.direction: Direction = direction
        self.src = src
        self.dst = dst
        self.rng = conn.rng
        self.client_address = conn.client_address
        self.proxy_address = conn.proxy_address
        self.read_at = time.monotonic()  # the last read from the source (real)
        self.loop = conn.loop
        self.queue: deque[Chunk] = deque()
        self.queued = 0
        self.finished = False
        self.reset_seen = False  # the source socket was reset by its peer
        self.from_client = direction == "upstream"
        self.written = 0  # bytes written to the destination
        self._lock = threading.Lock()
        self._pending = 0  # chunks handed to the loop and not yet through the chain
        self._room = threading.Event()
        self._room.set()
        self._runner: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self.stubs: list[Stub] = [self._new_stub(entry, None) for entry in entries]
        self.direct = not self.stubs
        for stub in self.stubs:
            stub.toxic.start(stub)

    # LinkControl, for the toxics
    def close_connection(self, *, reset: bool = False, by: Stub | None = None) -> None:
        """Close both sockets of this link's connection (``reset``: send an RST)."""
        if by is not None and by.active and not self.conn.closed:
            self.conn.event("closed", by, reset=reset)
        self.conn.close(reset=reset)

    # the pump thread
    def _rest_of(self, first: bytes) -> bytes:
        """``first`` and what the client sends on until it pauses (the rest of its
        request, for the event of a refused connection; bounded like a new one's)."""
        data = bytearray(first)
        sock = self.src.sock
        deadline = time.monotonic() + _REFUSE_WAIT
        with contextlib.suppress(OSError, ValueError):
            while len(data) < _REFUSE_KEEP and time.monotonic() < deadline:
                if not select.select([sock], [], [], _REFUSE_QUIET)[0]:
                    break  # quiet: it has sent its request
                chunk = sock.recv(_REFUSE_KEEP - len(data), _DONTWAIT)
                if not chunk:
                    break
                data += chunk
        return bytes(data)

    def pump(self) -> None:
        """Read the source until it ends; runs in this link's own thread."""
        # One buffer per pump, filled in place: recv(n) allocates n bytes per call
        # however few arrive, and with a thread blocked in recv on every link that
        # churn kept growing the process's memory under load. An anonymous mapping
        # costs no memory until written: a link holds only what its largest read used.
        buffer = mmap.mmap(-1, _READ_SIZE)
        view = memoryview(buffer)
        try:
            while not self.finished:
                try:
                    size = self.src.sock.recv_into(buffer)
                except ConnectionResetError:
                    # the peer reset: pass the reset on (Toxiproxy 2.12 sends a FIN)
                    self.reset_seen = True
                    self._call_soon(self.conn.peer_reset)
                    break
                except OSError:
                    size = 0
                if not size:
                    break
                self.read_at = time.monotonic()
                if self.from_client:
                    self.conn.last_read = time.time()
                    if self.conn.owner.refusing:  # disabled while this connection was open
                        self.reset_seen = True
                        self._call_soon(self.conn.refuse, self._rest_of(bytes(view[:size])))
                        break
                data = view[:size]
                if self._hand_over(data):
                    if not self._wait_for_room():
                        return
                elif self.dst.send_all(data):  # blocking: the buffer is free after it
                    self.written += size
                else:
                    break
            ending = not self.conn.resetting and not self.finished and not self.reset_seen
            if ending and not self._hand_over(None):
                self._finish()
        finally:  # the mapping goes with the last reference to it
            self._call_soon(self.conn.pump_done)

    def _wait_for_room(self) -> bool:
        """Block while the toxic queue is full; ``False`` once the link is finished."""
        while not self._room.wait(0.5):
            if self.finished:
                return False
        return not self.finished

    def _hand_over(self, data: memoryview | None) -> bool:
        """Queue a copy of ``data`` (None: the end) on the event loop unless the link is
        direct and idle."""
        with self._lock:
            if self.direct and not self._pending:
                return False
            self._pending += 1
        chunk = Chunk(None if data is None else bytes(data), now())
        self._call_soon(self._enqueue, chunk)
        return True

    def _call_soon(self, callback: Callable[..., object], *args: object) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is already closed
            self.loop.call_soon_threadsafe(callback, *args)

    # the event loop
    def _enqueue(self, chunk: Chunk) -> None:
        if self.finished:
            self._done_one(chunk)
            return
        self.queue.append(chunk)
        if chunk.data is not None:
            self.queued += len(chunk.data)
            if self.queued > _QUEUE_LIMIT:
                self._room.clear()
        self._kick()

    def _done_one(self, chunk: Chunk) -> None:
        with self._lock:
            self._pending -= 1
        if chunk.data is not None:
            self.queued -= len(chunk.data)
            if self.queued <= _QUEUE_LIMIT:
                self._room.set()

    # toxic changes on a live link
    def add_toxic(self, entry: ToxicEntry) -> None:
        """Append ``entry`` to this link's chain (draws its toxicity for this link)."""
        stub = self._new_stub(entry, None)
        self.stubs = [*self.stubs, stub]
        with self._lock:
            self.direct = False
        entry.toxic.start(stub)

    def update_toxic(self, entry: ToxicEntry) -> None:
        """Restart ``entry`` on this link: new toxicity draw, state kept."""
        for index, old in enumerate(self.stubs):
            if old.toxic is entry.toxic:
                old.interrupt()
                stub = self._new_stub(entry, old.state)
                stubs = list(self.stubs)
                stubs[index] = stub
                self.stubs = stubs
                entry.toxic.start(stub)
                return

    def remove_toxic(self, entry: ToxicEntry) -> None:
        """Take ``entry`` off this link; data it holds is passed on at once."""
        for old in self.stubs:
            if old.toxic is entry.toxic:
                old.interrupt()
                if old.met:
                    self.conn.event("left", old)
                self.stubs = [stub for stub in self.stubs if stub is not old]
                entry.toxic.cleanup(old)
                if not self.stubs:
                    self._wake()
                    if self._runner is None:
                        self._back_to_direct()
                return

    def idle(self) -> bool:
        """Nothing queued or in a toxic on this link."""
        return self._runner is None and not self.queue

    def stop(self) -> None:
        """The connection is gone: stop the toxics and the runner."""
        self.finished = True
        self._room.set()
        for stub in self.stubs:
            stub.interrupt()
        self._wake()

    # internals
    def _new_stub(self, entry: ToxicEntry, state: object) -> Stub:
        active = self.rng.random() < entry.toxicity
        if state is None:
            state = entry.toxic.new_state()
        return Stub(entry.toxic, self, active, state, entry.name)

    def _back_to_direct(self) -> None:
        with self._lock:
            self.direct = not self.stubs and not self.queue

    def _kick(self) -> None:
        if self._runner is None:
            self._runner = self.loop.create_task(self._run())
        else:
            self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def _run(self) -> None:
        try:
            while not self.finished:
                if not self.queue:
                    if not self.stubs:
                        return  # back to the direct path
                    self._wakeup = self.loop.create_future()
                    await self._wakeup
                    self._wakeup = None
                    continue
                chunk = self.queue.popleft()
                try:
                    await self._through(self.stubs, 0, chunk)
                finally:
                    self._done_one(chunk)
        except Exception:  # a toxic bug must not kill the server: drop this connection
            log.exception("toxic chain failed on proxy %s; closing the connection", self.conn.name)
            self.conn.close()
        finally:
            self._runner = None
            if not self.finished:
                self._back_to_direct()
            self.conn.maybe_release()

    async def _through(self, stubs: list[Stub], index: int, chunk: Chunk) -> None:
        for position in range(index, len(stubs)):
            stub = stubs[position]
            if stub.active and not stub.interrupted:
                if not stub.met and chunk.data is not None:
                    stub.met = True
                    self.conn.event("met", stub)
                emit = functools.partial(self._through, stubs, position + 1)
                await stub.toxic.pipe(stub, chunk, emit)
                return
        await self._emit(chunk)

    async def _emit(self, chunk: Chunk) -> None:
        data = chunk.data
        if data is None:
            self._finish()
            return
        if self.finished:
            return
        sent = self.dst.send_now(data)
        if sent < 0:
            self.finished = True
            return
        self.written += sent
        if sent < len(data):
            # the destination is slow: finish the write off the event loop
            rest = data[sent:]
            if await self.loop.run_in_executor(self.conn.executor, self.dst.send_all, rest):
                self.written += len(rest)
            else:
                self.finished = True

    def _finish(self) -> None:
        # Toxiproxy closes the whole destination socket at the end of a link,
        # which in turn ends the other direction: there is no half-close.
        self.finished = True
        self.dst.shutdown(socket.SHUT_RDWR)
        if threading.get_ident() == self.conn.loop_thread:
            self.conn.maybe_release()


_numbers = itertools.count(1)


def connection_number() -> int:
    """A new connection number, unique in this process (events name connections by it)."""
    return next(_numbers)


class Connection:
    """One client connection through a proxy, and its upstream connection."""

    def __init__(
        self, owner: ConnectionOwner, client: socket.socket, loop: asyncio.AbstractEventLoop
    ) -> None:
        self.owner = owner
        self.number = connection_number()
        self.opened = time.time()
        self.last_read = 0.0  # when the client's last bytes were read (epoch seconds)
        self.local_port: int | None = None  # our end of the upstream connection
        self.name = owner.name
        self.rng = owner.rng
        self.executor = owner.executor
        self.loop = loop
        self.loop_thread = threading.get_ident()
        self.client = _Side(client, "client")
        self.client_address: tuple[Any, ...] | None = None  # the client's end
        self.proxy_address: tuple[Any, ...] | None = None  # ours
        with contextlib.suppress(OSError):
            self.client_address = tuple(client.getpeername())
            self.proxy_address = tuple(client.getsockname())
        self.upstream: _Side | None = None
        self.links: list[Link] = []
        self.resetting = False
        self.task: asyncio.Task[None] | None = None  # start(), set by the proxy
        self._closed = False
        self._pumps = 0
        self._done_called = False

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._closed

    def event(
        self,
        kind: EventKind,
        stub: Stub | None = None,
        *,
        reset: bool = False,
        request: bytes = b"",
    ) -> None:
        """Report ``kind`` to the server's event subscribers, if any (on the loop)."""
        hub = self.owner.events
        if not hub.watched:
            return
        down = self.links[1].written if len(self.links) == 2 else 0
        hub.emit(
            ConnectionEvent(
                proxy=self.name,
                connection=self.number,
                kind=kind,
                time=time.time(),
                opened=self.opened,
                local_port=self.local_port,
                toxic=None if stub is None else stub.name,
                toxic_type=None if stub is None else stub.toxic.type_name,
                reset=reset,
                last_read=self.last_read,
                bytes_down=down,
                request=request,
            )
        )

    async def start(self) -> None:
        """Dial the upstream, then start both links (call once, on the loop)."""
        try:
            upstream = await self._dial()
        except asyncio.CancelledError:
            self._release()
            raise
        except (OSError, ValueError) as exc:
            log.warning(
                "unable to open connection to upstream %s for proxy %s: %s",
                self.owner.upstream,
                self.name,
                exc,
            )
            self._release()
            return
        if self._closed:  # closed while dialling
            upstream.close()
            self._release()
            return
        self.upstream = _Side(upstream, "upstream")
        with contextlib.suppress(OSError, IndexError):
            self.local_port = int(upstream.getsockname()[1])
        for side in (self.client, self.upstream):
            side.sock.setblocking(True)
            side.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        up = Link(self, "upstream", self.client, self.upstream, self.owner.chain("upstream"))
        down = Link(self, "downstream", self.upstream, self.client, self.owner.chain("downstream"))
        self.links = [up, down]
        self.owner.link_started(up)
        self.owner.link_started(down)
        self._pumps = 2
        for link in self.links:
            name = f"toxiproxy-{self.name}-{link.direction}"
            threading.Thread(target=link.pump, name=name, daemon=True).start()

    async def _dial(self) -> socket.socket:
        host, port = split_host_port(self.owner.upstream)
        # a service name (``redis``) is a port too, as for Go's net.Dial
        number = int(port) if port.isdigit() else socket.getservbyname(port, "tcp")
        infos = await self.loop.getaddrinfo(
            host or "127.0.0.1", number, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
        error: OSError = OSError(f"no address for {self.owner.upstream}")
        for family, kind, proto, _, address in infos:
            sock = socket.socket(family, kind, proto)
            sock.setblocking(False)
            try:
                await self.loop.sock_connect(sock, address)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            except BaseException:
                sock.close()
                raise
            return sock
        raise error

    def close(self, *, reset: bool = False, abort: bool = False) -> None:
        """Close both sockets (``reset``: with an RST); the pumps end by themselves.

        ``abort`` is accepted for symmetry: like Toxiproxy's ``Close``, every
        close drops what a toxic still holds and sends a FIN.
        """
        if self._closed:
            return
        self._closed = True
        sides = [self.client] if self.upstream is None else [self.client, self.upstream]
        if not self.links:  # still dialling (or not even started)
            if self.task is not None:
                self.task.cancel()
            self._release()
            return
        if reset:
            self.resetting = True
            for side in sides:
                with contextlib.suppress(OSError):
                    side.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
                side.shutdown(socket.SHUT_RD)
            self.loop.call_later(_RESET_GRACE, self._unstick)
        else:
            for side in sides:
                side.shutdown(socket.SHUT_RDWR)
        for link in self.links:
            link.stop()

    def refuse(self, request: bytes = b"") -> None:
        """The proxy is down: reset this connection without passing on what the client sent
        (``request``: its first bytes, for the event; on the loop)."""
        if not self._closed:
            self.event("refused", request=request)
            self.close(reset=True)

    def peer_reset(self) -> None:
        """One side's peer reset its socket: reset the other side too (on the loop)."""
        self.close(reset=True)

    def _unstick(self) -> None:
        if self._pumps:
            for side in (self.client, self.upstream):
                if side is not None:
                    side.shutdown(socket.SHUT_RDWR)

    def pump_done(self) -> None:
        """A pump thread ended (called on the loop)."""
        self._pumps -= 1
        self.maybe_release()

    def maybe_release(self) -> None:
        """Close the sockets once both pumps are done and no toxic still holds data."""
        if self._pumps <= 0 and all(link.finished or link.idle() for link in self.links):
            self._release()

    def _release(self) -> None:
        if self._done_called:
            return
        self._done_called = True
        for link in self.links:
            link.stop()
        for side in (self.client, self.upstream):
            if side is not None:
                side.sock.close()
        self.owner.connection_closed(self)
