"""``slicer``: splits chunks into slices of about ``average_size`` bytes."""

from __future__ import annotations

import random
from collections.abc import Mapping
from types import MappingProxyType

from chaos.toxiproxy._toxics import Chunk, Emit, Stub, Toxic


class SlicerToxic(Toxic):
    """Splits each chunk into slices of ``average_size`` ± ``size_variation`` bytes and
    waits ``delay`` *microseconds* between slices.

    ``average_size`` must be at least 1 and ``size_variation`` at least 0: a 400
    otherwise (Toxiproxy accepts ``average_size: 0`` and then dies of a stack
    overflow on the first chunk).
    """

    type_name = "slicer"
    go_struct = "SlicerToxic"
    attributes = MappingProxyType({"average_size": "int", "size_variation": "int", "delay": "int"})

    def validate(self, values: Mapping[str, int | float]) -> str | None:
        if values["average_size"] < 1:
            return (
                f"invalid attribute average_size={values['average_size']} for toxic slicer: "
                "must be 1 or more (bytes)"
            )
        if values["size_variation"] < 0:
            return (
                f"invalid attribute size_variation={values['size_variation']} for toxic slicer: "
                "must be 0 or more (bytes)"
            )
        return None

    async def pipe(self, stub: Stub, chunk: Chunk, emit: Emit) -> None:
        data = chunk.data
        if data is None:
            await emit(chunk)
            return
        bounds = self._cuts(0, len(data), stub.link.rng)
        delay = max(self.int_value("delay"), 0) / 1_000_000
        for i in range(len(bounds) - 1):
            await emit(Chunk(data[bounds[i] : bounds[i + 1]], chunk.ts))
            if i + 2 < len(bounds) and not await stub.sleep(delay):
                await emit(Chunk(data[bounds[i + 1] :], chunk.ts))
                return

    def _cuts(self, start: int, end: int, rng: random.Random) -> list[int]:
        """Slice boundaries: halve around the middle (± variation) until slices are small."""
        average = max(self.int_value("average_size"), 1)
        variation = max(self.int_value("size_variation"), 0)
        cuts = [start]
        pending = [(start, end)]
        while pending:
            lo, hi = pending.pop()
            if (hi - lo) - average <= variation:
                cuts.append(hi)
                continue
            mid = lo + (hi - lo) // 2
            if variation:
                mid += rng.randrange(variation * 2) - variation
            mid = min(max(mid, lo + 1), hi - 1)
            # right half first: the stack pops the left half next, keeping order
            pending.append((mid, hi))
            pending.append((lo, mid))
        return cuts
