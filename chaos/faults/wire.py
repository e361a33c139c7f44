"""``wire: MODE``: break the HTTP exchange on the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from chaos.faults._base import Action

__all__ = ["WIRE_MODES", "WireAction", "WireMode"]

WireMode = Literal["hang", "reset", "close", "truncate", "malformed", "drip"]
WIRE_MODES: tuple[WireMode, ...] = ("hang", "reset", "close", "truncate", "malformed", "drip")


@dataclass(frozen=True)
class WireAction(Action):
    """A wire-level failure of the response.

    ``hang`` never answers; ``reset`` sends a TCP RST; ``close`` sends FIN before
    any byte; ``truncate`` sends headers and part of the body, then closes;
    ``malformed`` answers 200 with invalid JSON or a wrong content-type; ``drip``
    sends the body slowly.

    :param wire: the mode.
    :param fraction: for ``truncate``, the share of the body that is sent.
    :param interval: for ``drip``, milliseconds between chunks.
    :param chunk: for ``drip``, bytes per chunk.
    """

    kind = "wire"
    shorthand = "wire"
    wire: WireMode
    fraction: float = 0.5
    interval: int = 100
    chunk: int = 16

    def describe(self) -> str:
        return f"wire:{self.wire}"

    def check(self) -> list[tuple[str, str]]:
        problems = []
        if not 0.0 < self.fraction < 1.0:
            problems.append(("fraction", f"must be strictly between 0 and 1, got {self.fraction}"))
        if self.chunk < 1:
            problems.append(("chunk", f"must be at least 1 byte, got {self.chunk}"))
        return problems
