"""``timeout``: drops all data; closes the connection after ``timeout`` ms (0: never)."""

from __future__ import annotations

import asyncio
import functools
from types import MappingProxyType

from chaos.toxiproxy._toxics import Chunk, Emit, Stub, Toxic


class TimeoutToxic(Toxic):
    """Blackholes the link's data.

    With ``timeout > 0`` the connection is closed that many milliseconds after
    the toxic started on the link (at connect, or when added to a live one);
    like Toxiproxy (whose select loop makes a new timer per chunk), every
    dropped chunk starts the wait again. With ``timeout: 0`` it never closes by
    itself; removing the toxic closes the connection (data dropped meanwhile is
    lost), as in Toxiproxy.
    """

    type_name = "timeout"
    go_struct = "TimeoutToxic"
    attributes = MappingProxyType({"timeout": "int64"})

    def start(self, stub: Stub) -> None:
        timeout = self.int_value("timeout")
        if stub.active and timeout > 0:
            if stub.timer is not None:
                stub.timer.cancel()
            loop = asyncio.get_running_loop()
            stub.timer = loop.call_later(
                timeout / 1000, functools.partial(stub.link.close_connection, by=stub)
            )

    def cleanup(self, stub: Stub) -> None:
        stub.link.close_connection(by=stub)

    async def pipe(self, stub: Stub, chunk: Chunk, emit: Emit) -> None:
        if chunk.data is None:
            await emit(chunk)
        elif stub.timer is not None:
            self.start(stub)
        # data is dropped on the floor
