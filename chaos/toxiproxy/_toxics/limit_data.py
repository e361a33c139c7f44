"""``limit_data``: closes the connection once ``bytes`` bytes have passed."""

from __future__ import annotations

from types import MappingProxyType

from chaos.toxiproxy._toxics import Chunk, Emit, Stub, Toxic


class _Sent:
    """Bytes this link has passed so far; survives updates of the toxic."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


class LimitDataToxic(Toxic):
    """Forwards up to ``bytes`` bytes in total (cutting the last chunk), then closes."""

    type_name = "limit_data"
    go_struct = "LimitDataToxic"
    attributes = MappingProxyType({"bytes": "int64"})

    def new_state(self) -> object:
        return _Sent()

    async def pipe(self, stub: Stub, chunk: Chunk, emit: Emit) -> None:
        sent = stub.state
        assert isinstance(sent, _Sent)
        if chunk.data is None:
            await emit(chunk)
            return
        limit = self.int_value("bytes")
        remaining = max(limit - sent.count, 0)
        data = chunk.data[:remaining]
        if data:
            sent.count += len(data)
            await emit(Chunk(data, chunk.ts))
        if limit - sent.count <= 0:
            stub.link.close_connection(by=stub)
