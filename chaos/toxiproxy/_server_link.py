"""The embedded server's data path: one proxied connection, two links, toxic chains.

Each accepted client gives a :class:`Connection` with two sockets (asyncio
protocols, :class:`_Side`) and, once the upstream answers, two :class:`Link`\\ s:
``upstream`` (client -> server) and ``downstream`` (server -> client).

A link with no toxics is on the *direct path*: ``data_received`` writes straight
into the other transport, with read pausing as backpressure; no task, no copy.
As soon as a toxic is on the link, chunks (one socket read each, stamped with
the time they were read) go through a queue served by one task per link, which
runs them through the toxics' :meth:`~chaos.toxiproxy._toxics.Toxic.pipe` in
chain order. When the last toxic goes and the queue is drained, the link
returns to the direct path.

Standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import socket
import struct
from collections import deque
from typing import Literal, Protocol

from chaos.toxiproxy._toxics import Chunk, Stub, Toxic

__all__ = ["Connection", "Direction", "Link", "ToxicEntry", "split_host_port"]

Direction = Literal["upstream", "downstream"]

log = logging.getLogger("chaos.toxiproxy.server")

# bytes queued in a toxic link before its source stops being read
_QUEUE_LIMIT = 1 << 20
_LINGER_RESET = struct.pack("ii", 1, 0)


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


class _Side(asyncio.Protocol):
    """One socket of a connection (the client's or the upstream's)."""

    def __init__(self, conn: Connection, role: str) -> None:
        self.conn = conn
        self.role = role
        self.transport: asyncio.Transport | None = None
        self.reading: Link | None = None  # the link whose source is this socket
        self.writing: Link | None = None  # the link whose destination is this socket
        self.closed = False
        self.write_paused = False
        self.early: list[bytes] = []
        self.early_eof = False
        self._writable: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.conn.side_made(self)

    def data_received(self, data: bytes) -> None:
        if self.reading is not None:
            self.reading.feed(data)
        else:
            # Python < 3.11.5 starts reading after connection_made even when it
            # paused the transport: keep what arrives before the upstream answers
            self.early.append(data)

    def eof_received(self) -> bool:
        if self.reading is not None:
            self.reading.feed_eof()
        else:
            self.early_eof = True
        return True  # the link decides when to close

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake_writer()
        self.conn.side_lost(self)

    def pause_writing(self) -> None:
        self.write_paused = True
        if self.writing is not None:
            self.writing.set_dst_paused(True)

    def resume_writing(self) -> None:
        self.write_paused = False
        self._wake_writer()
        if self.writing is not None:
            self.writing.set_dst_paused(False)

    async def writable(self) -> None:
        """Wait until this socket's write buffer has drained below its low mark."""
        if not self.write_paused or self.closed:
            return
        loop = asyncio.get_running_loop()
        if self._writable is None or self._writable.done():
            self._writable = loop.create_future()
        await self._writable

    def _wake_writer(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)


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
        self.queue: deque[Chunk] = deque()
        self.queued = 0
        self.finished = False
        self._eof = False
        self._src_paused = False
        self._dst_paused = False
        self._runner: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None
        self.stubs: list[Stub] = [self._new_stub(entry, None) for entry in entries]
        self.direct = not self.stubs
        src.reading = self
        dst.writing = self
        for stub in self.stubs:
            stub.toxic.start(stub)

    # LinkControl, for the toxics
    def close_connection(self, *, reset: bool = False) -> None:
        """Close both sockets of this link's connection (``reset``: send an RST)."""
        self.conn.close(reset=reset)

    # data in
    def feed(self, data: bytes) -> None:
        """Bytes read from the source socket."""
        if self.direct:
            transport = self.dst.transport
            if transport is not None and not self.dst.closed:
                transport.write(data)
            return
        if self.finished:
            return
        loop = asyncio.get_running_loop()
        self.queue.append(Chunk(data, loop.time()))
        self.queued += len(data)
        if self.queued > _QUEUE_LIMIT:
            self._update_src()
        self._kick()

    def feed_eof(self) -> None:
        """The source socket reached end of stream (or is gone)."""
        if self._eof:
            return
        self._eof = True
        if self.direct:
            self._finish()
            return
        self.queue.append(Chunk(None, asyncio.get_running_loop().time()))
        self._kick()

    def set_dst_paused(self, paused: bool) -> None:
        """The destination's write buffer went above (or back below) its high mark."""
        self._dst_paused = paused
        self._update_src()

    # toxic changes on a live link
    def add_toxic(self, entry: ToxicEntry) -> None:
        """Append ``entry`` to this link's chain (draws its toxicity for this link)."""
        stub = self._new_stub(entry, None)
        self.stubs = [*self.stubs, stub]
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
                self.stubs = [stub for stub in self.stubs if stub is not old]
                entry.toxic.cleanup(old)
                if not self.stubs:
                    self._wake()
                return

    def stop(self) -> None:
        """The connection is gone: stop the toxics and the runner."""
        self.finished = True
        for stub in self.stubs:
            stub.interrupt()
        self._wake()

    # internals
    def _new_stub(self, entry: ToxicEntry, state: object) -> Stub:
        active = self.rng.random() < entry.toxicity
        if state is None:
            state = entry.toxic.new_state()
        return Stub(entry.toxic, self, active, state)

    def _update_src(self) -> None:
        transport = self.src.transport
        if transport is None or self.src.closed:
            return
        want = self._dst_paused or self.queued > _QUEUE_LIMIT
        if want and not self._src_paused:
            self._src_paused = True
            transport.pause_reading()
        elif not want and self._src_paused:
            self._src_paused = False
            transport.resume_reading()

    def _kick(self) -> None:
        if self._runner is None:
            self._runner = asyncio.get_running_loop().create_task(self._run())
        else:
            self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while not self.finished:
                if not self.queue:
                    if not self.stubs:
                        return  # back to the direct path
                    self._wakeup = loop.create_future()
                    await self._wakeup
                    self._wakeup = None
                    continue
                chunk = self.queue.popleft()
                if chunk.data is not None:
                    self.queued -= len(chunk.data)
                    if self._src_paused:
                        self._update_src()
                await self._through(self.stubs, 0, chunk)
        except Exception:  # a toxic bug must not kill the server: drop this connection
            log.exception("toxic chain failed on proxy %s; closing the connection", self.conn.name)
            self.conn.close()
        finally:
            self._runner = None
            self.direct = not self.stubs and not self.queue and not self.finished

    async def _through(self, stubs: list[Stub], index: int, chunk: Chunk) -> None:
        for position in range(index, len(stubs)):
            stub = stubs[position]
            if stub.active and not stub.interrupted:
                emit = functools.partial(self._through, stubs, position + 1)
                await stub.toxic.pipe(stub, chunk, emit)
                return
        await self._emit(chunk)

    async def _emit(self, chunk: Chunk) -> None:
        if chunk.data is None:
            self._finish()
            return
        transport = self.dst.transport
        if self.finished or self.dst.closed or transport is None:
            return
        transport.write(chunk.data)
        if self.dst.write_paused:
            await self.dst.writable()

    def _finish(self) -> None:
        # Toxiproxy closes the whole destination socket at the end of a link,
        # which in turn ends the other direction: there is no half-close.
        self.finished = True
        transport = self.dst.transport
        if transport is not None and not transport.is_closing():
            transport.close()


class Connection:
    """One client connection through a proxy, and its upstream connection."""

    def __init__(self, owner: ConnectionOwner) -> None:
        self.owner = owner
        self.name = owner.name
        self.rng = owner.rng
        self.client = _Side(self, "client")
        self.upstream = _Side(self, "upstream")
        self.links: list[Link] = []
        self._dial: asyncio.Task[None] | None = None
        self._closed = False

    def side_made(self, side: _Side) -> None:
        if side is self.client:
            assert side.transport is not None
            if not self.owner.connection_opened(self):
                side.transport.abort()  # accepted while the proxy was stopping
                return
            side.transport.pause_reading()
            self._dial = asyncio.get_running_loop().create_task(self._connect())

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        client = self.client.transport
        assert client is not None
        try:
            host, port = split_host_port(self.owner.upstream)
            # a service name (``redis``) is a port too, as for Go's net.Dial
            number = int(port) if port.isdigit() else socket.getservbyname(port, "tcp")
            await loop.create_connection(lambda: self.upstream, host or "127.0.0.1", number)
        except (OSError, ValueError) as exc:
            log.warning(
                "unable to open connection to upstream %s for proxy %s: %s",
                self.owner.upstream,
                self.name,
                exc,
            )
            client.close()
            return
        finally:
            self._dial = None
        if self.client.closed or self._closed:
            self.close()
            return
        up = Link(self, "upstream", self.client, self.upstream, self.owner.chain("upstream"))
        down = Link(self, "downstream", self.upstream, self.client, self.owner.chain("downstream"))
        self.links = [up, down]
        self.owner.link_started(up)
        self.owner.link_started(down)
        for data in self.client.early:
            up.feed(data)
        self.client.early.clear()
        if self.client.early_eof:
            up.feed_eof()
        client.resume_reading()

    def side_lost(self, side: _Side) -> None:
        if side.reading is not None:
            side.reading.feed_eof()
        elif side is self.client and self._dial is not None:
            self._dial.cancel()
        if side.writing is not None:
            side.writing.finished = True
        if self.client.closed and (self.upstream.closed or self.upstream.transport is None):
            self._done()

    def close(self, *, reset: bool = False, abort: bool = False) -> None:
        """Close both sockets: flushing (default), at once (``abort``), or with an RST."""
        self._closed = True
        for side in (self.client, self.upstream):
            transport = side.transport
            if transport is None or side.closed:
                continue
            if reset:
                sock = transport.get_extra_info("socket")
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
                transport.abort()
            elif abort:
                transport.abort()
            elif not transport.is_closing():
                transport.close()
        if self._dial is not None:
            self._dial.cancel()

    def _done(self) -> None:
        for link in self.links:
            link.stop()
        self.owner.connection_closed(self)
