"""``reset_peer``: on the first chunk, waits ``timeout`` ms then resets the connection."""

from __future__ import annotations

from types import MappingProxyType

from chaos.toxiproxy._toxics import Chunk, Emit, Stub, Toxic


class ResetToxic(Toxic):
    """Simulates a TCP RST: the first chunk is dropped, then after ``timeout`` ms both
    sockets are closed with ``SO_LINGER`` 0, so the peers see ``ECONNRESET``.

    Unlike Toxiproxy, the RST is sent whenever this toxic fires (also when it
    was added to a connection that was already open), and a ``reset_peer`` at
    toxicity 0 never changes how other closes look (Toxiproxy issue #603).
    """

    type_name = "reset_peer"
    go_struct = "ResetToxic"
    attributes = MappingProxyType({"timeout": "int64"})

    async def pipe(self, stub: Stub, chunk: Chunk, emit: Emit) -> None:
        if chunk.data is None:
            await emit(chunk)
            return
        if await stub.sleep(self.int_value("timeout") / 1000):
            stub.link.close_connection(reset=True, by=stub)
        else:
            await emit(chunk)
