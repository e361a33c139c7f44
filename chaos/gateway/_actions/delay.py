"""``delay: MS``: hold the request before the response headers, then forward it."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from chaos.faults import DelayAction
from chaos.gateway._actions._base import Applier

if TYPE_CHECKING:
    from chaos.gateway._exchange import Exchange


class DelayApplier(Applier[DelayAction]):
    """Sleeps ``delay`` ms (the client sees no byte meanwhile), then answers normally."""

    async def start(self, ex: Exchange, action: DelayAction) -> None:
        await asyncio.sleep(action.delay / 1000)
        await ex.forward()
