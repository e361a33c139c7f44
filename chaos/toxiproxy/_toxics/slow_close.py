"""``slow_close``: delays the close of the connection by ``delay`` milliseconds."""

from __future__ import annotations

from types import MappingProxyType

from chaos.toxiproxy._toxics import Chunk, Emit, Stub, Toxic


class SlowCloseToxic(Toxic):
    """Passes data through; at the end of the stream waits ``delay`` ms before closing."""

    type_name = "slow_close"
    go_struct = "SlowCloseToxic"
    attributes = MappingProxyType({"delay": "int64"})

    async def pipe(self, stub: Stub, chunk: Chunk, emit: Emit) -> None:
        if chunk.data is None:
            await stub.sleep(self.int_value("delay") / 1000)
        await emit(chunk)
