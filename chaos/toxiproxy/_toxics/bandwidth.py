"""``bandwidth``: limits a link to ``rate`` KB/s (KB = 1000 bytes)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from types import MappingProxyType

from chaos.toxiproxy._toxics import Chunk, Emit, Stub, Toxic

_SLICE_SECONDS = 0.1


class _Budget:
    """The time a link still owes from earlier chunks (carried like Toxiproxy's ``sleep``)."""

    __slots__ = ("owed",)

    def __init__(self) -> None:
        self.owed = 0.0


class BandwidthToxic(Toxic):
    """Sends at most ``rate`` KB per second, in 100 ms slices of ``rate * 100`` bytes.

    ``rate: 0`` stalls the link until the toxic is removed or updated (as in
    Toxiproxy); a negative rate is refused with a 400 (Toxiproxy accepts it and
    then crashes on the first chunk).
    """

    type_name = "bandwidth"
    go_struct = "BandwidthToxic"
    attributes = MappingProxyType({"rate": "int64"})

    def validate(self, values: Mapping[str, int | float]) -> str | None:
        if values["rate"] < 0:
            return (
                f"invalid attribute rate={values['rate']} for toxic bandwidth: "
                "must be 0 or more (KB/s; 0 stalls the link)"
            )
        return None

    def new_state(self) -> object:
        return _Budget()

    async def pipe(self, stub: Stub, chunk: Chunk, emit: Emit) -> None:
        data = chunk.data
        if data is None:
            await emit(chunk)
            return
        budget = stub.state
        assert isinstance(budget, _Budget)
        rate = self.int_value("rate")
        if rate <= 0:
            # stall until the toxic is removed or changed, then let the data go
            await stub.sleep(None)
            await emit(chunk)
            return
        budget.owed += len(data) / (rate * 1000)
        step = rate * 100
        while len(data) > step:
            if not await stub.sleep(_SLICE_SECONDS):
                break
            await emit(Chunk(data[:step], chunk.ts))
            data = data[step:]
            budget.owed -= _SLICE_SECONDS
        else:
            loop = asyncio.get_running_loop()
            started = loop.time()
            if budget.owed > 0 and not stub.interrupted:
                await stub.sleep(budget.owed)
            # carry the timer's error into the next sleep, like Toxiproxy
            budget.owed -= loop.time() - started
            if budget.owed < -1.0:
                budget.owed = 0.0
        await emit(Chunk(data, chunk.ts))
