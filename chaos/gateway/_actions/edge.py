"""``edge: NAME``: a page from the edge layer (Cloudflare, Envoy) instead of the provider."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from chaos.faults import EdgeAction
from chaos.gateway._actions._base import Applier

if TYPE_CHECKING:
    from chaos.gateway._exchange import Exchange
    from chaos.providers._base import Dialect


class EdgeApplier(Applier[EdgeAction]):
    """Answers at once with ``chaos.providers._edge.edge_page(name)``."""

    def check(self, action: EdgeAction, dialect: Dialect) -> None:
        from chaos.providers._edge import edge_page

        edge_page(action.edge)  # raises ConfigError with the valid names

    def start(self, ex: Exchange, action: EdgeAction) -> Coroutine[Any, Any, None] | None:
        from chaos.providers._edge import edge_page

        ex.send(edge_page(action.edge, host=ex.dialect.host), outcome="fault")
        return None
