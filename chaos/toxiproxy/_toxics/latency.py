"""``latency``: delays every chunk by ``latency`` ± ``jitter`` milliseconds."""

from __future__ import annotations

import asyncio
from types import MappingProxyType

from chaos.toxiproxy._toxics import Chunk, Emit, Stub, Toxic


class LatencyToxic(Toxic):
    """Delays each chunk; the delay counts from when the chunk was read.

    The jitter is drawn per chunk, uniformly from ``[latency - jitter, latency + jitter)``
    (whole milliseconds, like Toxiproxy). Stacked latency toxics add up: each one
    moves the chunk's timestamp on by the time it waited. A negative total is no delay.
    """

    type_name = "latency"
    go_struct = "LatencyToxic"
    attributes = MappingProxyType({"latency": "int64", "jitter": "int64"})

    async def pipe(self, stub: Stub, chunk: Chunk, emit: Emit) -> None:
        delay_ms = self.int_value("latency")
        jitter = self.int_value("jitter")
        if jitter > 0:
            delay_ms += stub.link.rng.randrange(jitter * 2) - jitter
        if chunk.data is not None:
            sleep = delay_ms / 1000 - (asyncio.get_running_loop().time() - chunk.ts)
            await stub.sleep(sleep)
            chunk.ts += sleep
        await emit(chunk)
