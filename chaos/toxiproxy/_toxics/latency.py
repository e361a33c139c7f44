"""``latency``: delays every chunk by ``latency`` ± ``jitter`` milliseconds."""

from __future__ import annotations

from types import MappingProxyType

from chaos.toxiproxy._toxics import Chunk, Emit, Stub, Toxic, now


class LatencyToxic(Toxic):
    """Delays each chunk; the delay counts from when the chunk was read.

    The jitter is drawn per chunk, uniformly from ``[latency - jitter, latency + jitter)``
    (whole milliseconds, like Toxiproxy). Stacked latency toxics add up: each one
    moves the chunk's timestamp on by the time it waited. A negative total is no delay.
    The wait is the stub's :meth:`~Stub.delay`: on the server's clock, which a test
    process on virtual time may run without the wait (docs/virtual-time.md).
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
            sleep = delay_ms / 1000 - (now() - chunk.ts)
            await stub.delay(sleep)
            chunk.ts += sleep
        await emit(chunk)
