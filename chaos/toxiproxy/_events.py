"""What happened to each connection of the embedded server, for whoever listens in process.

Toxiproxy's API says what is configured, never what a connection met. The
embedded server also reports, per connection, the moments that decide what
the client saw: refused by a disabled proxy, the first chunk a toxic acted on,
a toxic closing or resetting the connection. The harness subscribes (see
:attr:`chaos.toxiproxy.RunningBackend.events`) and joins these with the
gateway's journal. A real Toxiproxy reports none of this.

Standard library only.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["ConnectionEvent", "EventHub", "EventKind"]

log = logging.getLogger("chaos.toxiproxy.server")

EventKind = Literal["refused", "met", "closed", "left"]
"""``refused``: a disabled proxy turned the connection away before any byte (the
event comes as it resets the connection, once the client has sent its request);
``met``: a toxic acted on its first chunk of this connection (one event per
toxic and link); ``left``: a toxic that had met the connection was removed
from it; ``closed``: a toxic closed (or reset) the connection."""


@dataclass(frozen=True, slots=True)
class ConnectionEvent:
    """One thing that happened to one client connection of one proxy.

    :param proxy: the proxy's name.
    :param connection: the connection's number, unique in this process.
    :param kind: see :data:`EventKind`.
    :param time: when, in seconds since the epoch.
    :param opened: when the client connected, in seconds since the epoch.
    :param local_port: the port of the server's own end of its upstream connection
        (what the upstream sees as the client's port); None if never dialled.
    :param toxic: the toxic's name (``met``, ``left``, ``closed``).
    :param toxic_type: the toxic's type, e.g. ``reset_peer``.
    :param reset: ``closed`` with a TCP RST rather than a FIN.
    :param last_read: when the client's last bytes were read, seconds since the
        epoch (0: none yet).
    :param bytes_down: bytes written to the client so far.
    :param request: ``refused``: the bytes the client sent before the reset (its
        request, up to 256 KiB), so a listener can tell which call the attempt was.
    """

    proxy: str
    connection: int
    kind: EventKind
    time: float
    opened: float
    local_port: int | None = None
    toxic: str | None = None
    toxic_type: str | None = None
    reset: bool = False
    last_read: float = 0.0
    bytes_down: int = 0
    request: bytes = b""


class EventHub:
    """The subscribers of one server; :meth:`emit` runs on the server's loop thread.

    Subscribers must be quick and must not block: they run on the data path.
    """

    def __init__(self) -> None:
        self._subscribers: list[Callable[[ConnectionEvent], None]] = []
        self._lock = threading.Lock()

    @property
    def watched(self) -> bool:
        """Whether anyone listens (a disabled proxy then records what it turns away)."""
        return bool(self._subscribers)

    def subscribe(self, callback: Callable[[ConnectionEvent], None]) -> Callable[[], None]:
        """Call ``callback(event)`` for every event; returns the unsubscribe function."""
        with self._lock:
            self._subscribers = [*self._subscribers, callback]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not callback]

        return unsubscribe

    def emit(self, event: ConnectionEvent) -> None:
        """Hand ``event`` to every subscriber (a failing one is logged, not raised)."""
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:
                log.exception("a connection event subscriber failed")
