"""The applier base class and its registry."""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from chaos.faults import Action

if TYPE_CHECKING:
    from chaos.gateway._exchange import Exchange
    from chaos.providers._base import Dialect

__all__ = ["APPLIERS", "Applier"]

_APPLIERS: dict[str, Applier] = {}
APPLIERS: Mapping[str, Applier] = MappingProxyType(_APPLIERS)
"""One applier instance per fault action kind."""


class Applier:
    """Applies one kind of fault action to an :class:`~chaos.gateway._exchange.Exchange`."""

    kind: ClassVar[str]

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        kind = cls.__dict__.get("kind")
        if kind is not None:
            if kind in _APPLIERS:
                raise TypeError(f"an applier for {kind!r} is already registered")
            _APPLIERS[kind] = cls()

    def check(self, action: Action, dialect: Dialect) -> None:
        """Raise :class:`~chaos.ConfigError` if ``action`` cannot apply to ``dialect``."""

    def start(self, ex: Exchange, action: Any) -> Coroutine[Any, Any, None] | None:
        """Answer ``ex`` now (return None) or return the coroutine that answers it."""
        raise NotImplementedError
