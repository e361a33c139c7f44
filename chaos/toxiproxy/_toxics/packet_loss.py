"""``packet_loss``: drops whole chunks with probability ``loss_rate`` (+ ``correlation``)."""

from __future__ import annotations

import random
from types import MappingProxyType

from chaos.toxiproxy._toxics import Chunk, Emit, Stub, Toxic


class _LossState:
    """The link's own random stream and whether the previous chunk was dropped."""

    __slots__ = ("dropped", "rng")

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.dropped = False


class PacketLossToxic(Toxic):
    """Drops chunks: probability ``loss_rate``, or ``loss_rate + correlation`` right
    after a drop (a simplified Gilbert-Elliott model, as Toxiproxy PR #739).
    Both values are clamped to [0, 1]. Dropping chunks corrupts the TCP byte
    stream: it is not real IP packet loss.
    """

    type_name = "packet_loss"
    go_struct = "PacketLossToxic"
    attributes = MappingProxyType({"loss_rate": "float64", "correlation": "float64"})

    def new_state(self) -> object:
        return None

    def start(self, stub: Stub) -> None:
        if stub.state is None:
            stub.state = _LossState(random.Random(stub.link.rng.getrandbits(64)))

    async def pipe(self, stub: Stub, chunk: Chunk, emit: Emit) -> None:
        state = stub.state
        if chunk.data is None or not isinstance(state, _LossState):
            await emit(chunk)
            return
        loss = _clamp(self.float_value("loss_rate"))
        if state.dropped:
            loss = _clamp(loss + _clamp(self.float_value("correlation")))
        state.dropped = state.rng.random() < loss
        if not state.dropped:
            await emit(chunk)


def _clamp(value: float) -> float:
    return min(max(value, 0.0), 1.0)
