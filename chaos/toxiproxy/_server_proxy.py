"""Proxies of the embedded server: listen, accept, track connections and toxics.

Mirrors Toxiproxy's ``Proxy``, ``ProxyCollection`` and ``ToxicCollection``:
listen addresses are resolved to what is really bound, toxic changes walk
every live link of their direction, and stopping a proxy (disable, delete,
re-address) closes all its connections. Standard library only.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import random
import socket
import struct
import time
from collections.abc import Callable
from typing import Any

from chaos.toxiproxy._events import ConnectionEvent, EventHub
from chaos.toxiproxy._server_json import GoFloat32
from chaos.toxiproxy._server_link import (
    _REFUSE_KEEP,
    _REFUSE_QUIET,
    _REFUSE_WAIT,
    Connection,
    Direction,
    Link,
    ToxicEntry,
    connection_number,
    split_host_port,
)

__all__ = ["ApiError", "Proxy", "resolve_listen"]

log = logging.getLogger("chaos.toxiproxy.server")

_LINGER_RESET = struct.pack("ii", 1, 0)


class ApiError(Exception):
    """An error the API answers with ``{"error": message, "status": status}``."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _format_addr(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def resolve_listen(listen: str) -> tuple[str, int]:
    """Resolve a listen address like Go's ``ResolveTCPAddr`` (host to bind, port).

    An empty host binds 127.0.0.1 (Toxiproxy binds all interfaces: the embedded
    server stays on loopback unless told otherwise).

    :raises ApiError: 500 with Go's wording (``address bad: missing port in address``).
    """
    if listen == "":
        return "127.0.0.1", 0
    try:
        host, port_text = split_host_port(listen)
    except ValueError as exc:
        raise ApiError(str(exc), 500) from None
    if port_text == "":
        port = 0
    elif port_text.isdigit():
        port = int(port_text)
        if port > 65535:
            raise ApiError(f"address {port_text}: invalid port", 500)
    else:
        try:
            port = socket.getservbyname(port_text, "tcp")
        except OSError:
            raise ApiError(f"address tcp/{port_text}: unknown port", 500) from None
    if host in ("", "localhost"):
        return "127.0.0.1", port
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        raise ApiError(f"lookup {host}: no such host", 500) from None
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    address = str(infos[0][4][0])
    return address, port


def resolved_listen_string(listen: str) -> str:
    """The resolved form of ``listen`` (what :attr:`Proxy.listen` shows once started)."""
    host, port = resolve_listen(listen)
    return _format_addr(host, port)


def _go_strerror(error: OSError) -> str:
    text = os.strerror(error.errno) if error.errno else str(error)
    return text[:1].lower() + text[1:]


class Proxy:
    """One proxy: its listener, its connections, and its toxics (both directions)."""

    def __init__(
        self,
        name: str,
        listen: str,
        upstream: str,
        rng: random.Random,
        executor: concurrent.futures.Executor,
        events: EventHub | None = None,
    ) -> None:
        self.name = name
        self.listen = listen
        self.upstream = upstream
        self.enabled = False
        self.rng = rng
        self.executor = executor
        self.events = events if events is not None else EventHub()
        self.refusing = False  # disabled, but listening to record what it turns away
        self._refused: dict[socket.socket, Callable[[], None]] = {}  # sock -> its reset
        self.connections: set[Connection] = set()
        self._toxics: dict[Direction, list[ToxicEntry]] = {"upstream": [], "downstream": []}
        self._links: dict[Direction, set[Link]] = {"upstream": set(), "downstream": set()}
        self._listener: socket.socket | None = None

    # lifecycle
    async def start(self) -> None:
        """Listen and accept; ``listen`` becomes the bound address.

        :raises ApiError: 500 with Go's ``listen tcp ...`` text on failure.
        """
        if self._listener is not None:
            if self.refusing:
                self.refusing = False
                self.enabled = True
            return
        try:
            host, port = resolve_listen(self.listen)
        except ApiError as exc:
            raise ApiError(f"listen tcp: {exc.message}", 500) from None
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(512)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise ApiError(
                f"listen tcp {_format_addr(host, port)}: bind: {_go_strerror(exc)}", 500
            ) from None
        # An own accept loop rather than loop.create_server: asyncio 3.11 leaks a
        # connection accepted just before Server.close() (Server._attach asserts).
        asyncio.get_running_loop().add_reader(sock.fileno(), self._accept_ready, sock)
        self._listener = sock
        bound = sock.getsockname()
        self.listen = _format_addr(host, int(bound[1]))
        self.enabled = True
        log.info(
            "Started proxy",
            extra={"fields": {"name": self.name, "proxy": self.listen, "upstream": self.upstream}},
        )

    def stop(self, *, disable: bool = False) -> None:
        """Stop listening and close every connection through this proxy.

        :param disable: the API disables the proxy. When someone watches this
            server's events, the proxy keeps listening instead and resets every new
            connection at once, before any byte (see :meth:`_refuse`), and a live
            connection when its client sends again (an answer in flight still gets
            through), so that the attempts an outage turns away can be recorded.
        """
        if disable and self._listener is not None and self.events.watched:
            self.refusing = True
            self.enabled = False
            return
        if self._listener is not None:
            self.refusing = False
            asyncio.get_running_loop().remove_reader(self._listener.fileno())
            self._listener.close()
            self._listener = None
            log.info(
                "Terminated proxy",
                extra={"fields": {"name": self.name, "proxy": self.listen}},
            )
        self.enabled = False
        for reset in list(self._refused.values()):
            reset()
        for conn in list(self.connections):
            conn.close(abort=True)

    def _accept_ready(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(64):
            try:
                sock, _address = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # EMFILE and the like: keep serving
                log.warning(
                    "accept failed", extra={"fields": {"name": self.name, "error": str(exc)}}
                )
                return
            if self.refusing:
                self._refuse(sock)
                continue
            sock.setblocking(False)
            conn = Connection(self, sock, loop)
            if not self.connection_opened(conn):
                sock.close()
                continue
            conn.task = loop.create_task(conn.start())

    def _refuse(self, sock: socket.socket) -> None:
        # A closed port cannot be observed; a listener that resets can. The reset comes
        # once the client has sent what it had to send (its bytes are read and dropped
        # until it pauses for _REFUSE_QUIET, at most _REFUSE_WAIT after the accept): an
        # immediate reset races the client's connect and send, so the same outage would
        # surface as a connect, write or read error by chance. The client sees its
        # request met by a reset, never an answer. The event comes just before the
        # reset, with the bytes the client sent (its request: who asked what).
        opened = time.time()
        number = connection_number()
        loop = asyncio.get_running_loop()
        sock.setblocking(False)
        fd = sock.fileno()
        timers = [loop.call_later(_REFUSE_WAIT, lambda: reset())]
        received = bytearray()
        last_read = [0.0]

        def reset() -> None:
            if self._refused.pop(sock, None) is None:
                return
            loop.remove_reader(fd)
            for timer in timers:
                timer.cancel()
            self.events.emit(
                ConnectionEvent(
                    self.name,
                    number,
                    "refused",
                    time.time(),
                    opened,
                    last_read=last_read[0],
                    request=bytes(received),
                )
            )
            try:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_RESET)
            except OSError:
                pass
            finally:
                sock.close()

        def readable() -> None:
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data = b""
            if not data:
                reset()
                return
            last_read[0] = time.time()
            if len(received) < _REFUSE_KEEP:
                received.extend(data[: _REFUSE_KEEP - len(received)])
            if len(timers) > 1:
                timers.pop().cancel()
            timers.append(loop.call_later(_REFUSE_QUIET, reset))

        loop.add_reader(fd, readable)
        self._refused[sock] = reset

    def connection_opened(self, conn: Connection) -> bool:
        """Track a new client connection, unless this proxy has stopped."""
        if self._listener is None or self.refusing:
            return False
        self.connections.add(conn)
        return True

    # ConnectionOwner
    def chain(self, direction: Direction) -> list[ToxicEntry]:
        """This proxy's toxics for ``direction``, in chain (insertion) order."""
        return list(self._toxics[direction])

    def link_started(self, link: Link) -> None:
        """Track a live link so toxic changes reach it."""
        self._links[link.direction].add(link)

    def connection_closed(self, conn: Connection) -> None:
        """Forget a connection whose sockets are both closed."""
        self.connections.discard(conn)
        for link in conn.links:
            self._links[link.direction].discard(link)

    # toxics
    def toxics(self) -> list[ToxicEntry]:
        """All toxics: upstream ones first, then downstream, each in insertion order."""
        return self._toxics["upstream"] + self._toxics["downstream"]

    def find_toxic(self, name: str) -> ToxicEntry | None:
        """The toxic called ``name`` (names are unique across both streams)."""
        for entry in self.toxics():
            if entry.name == name:
                return entry
        return None

    def add_toxic(self, entry: ToxicEntry) -> None:
        """Add ``entry`` and start it on every live link of its direction."""
        self._toxics[entry.direction].append(entry)
        for link in list(self._links[entry.direction]):
            link.add_toxic(entry)

    def update_toxic(self, entry: ToxicEntry) -> None:
        """Restart ``entry`` (already changed in place) on every live link."""
        for link in list(self._links[entry.direction]):
            link.update_toxic(entry)

    def remove_toxic(self, entry: ToxicEntry) -> None:
        """Remove ``entry`` from the proxy and from every live link."""
        self._toxics[entry.direction].remove(entry)
        for link in list(self._links[entry.direction]):
            link.remove_toxic(entry)

    def remove_all_toxics(self) -> None:
        """Remove every toxic (``/reset``)."""
        for entry in self.toxics():
            self.remove_toxic(entry)

    # JSON
    def to_json(self) -> dict[str, Any]:
        """The proxy object, fields in Toxiproxy's order (``Logger`` included)."""
        return {
            "name": self.name,
            "listen": self.listen,
            "upstream": self.upstream,
            "enabled": self.enabled,
            "Logger": {},
            "toxics": [toxic_json(entry) for entry in self.toxics()],
        }


def toxic_json(entry: ToxicEntry) -> dict[str, Any]:
    """The toxic object, fields in Toxiproxy's order, every attribute shown."""
    return {
        "attributes": dict(entry.toxic.values),
        "name": entry.name,
        "type": entry.type,
        "stream": entry.stream,
        "toxicity": GoFloat32(entry.toxicity),
    }
