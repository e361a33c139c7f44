"""``edge: NAME``: a page from the edge layer in front of a provider (Cloudflare, Envoy)."""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from chaos.faults._base import Action

__all__ = ["EdgeAction"]


@dataclass(frozen=True)
class EdgeAction(Action):
    """Answer with an edge page, e.g. ``cloudflare_502``, ``cloudflare_524``, ``envoy_503``.

    :param edge: the page name in the edge catalogue.
    """

    kind = "edge"
    shorthand = "edge"
    vocabularies = MappingProxyType({"edge": "edge_page"})
    edge: str

    def describe(self) -> str:
        return f"edge:{self.edge}"
