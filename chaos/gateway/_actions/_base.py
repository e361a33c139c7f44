"""The applier base class and its registry."""

from __future__ import annotations

from collections.abc import Coroutine, Mapping
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, get_args

from chaos.faults import Action

if TYPE_CHECKING:
    from chaos.gateway._exchange import Exchange
    from chaos.providers._base import Dialect

__all__ = ["APPLIERS", "Applier"]

ActionT = TypeVar("ActionT", bound=Action)

_APPLIERS: dict[str, Applier[Any]] = {}
APPLIERS: Mapping[str, Applier[Any]] = MappingProxyType(_APPLIERS)
"""One applier instance per fault action kind."""


class Applier(Generic[ActionT]):
    """Applies one kind of fault action to an :class:`~chaos.gateway._exchange.Exchange`.

    A subclass names the action class it applies, ``class ErrorApplier(Applier[ErrorAction])``,
    and is registered under that class's ``kind``: the two registries cannot
    disagree on a spelling, and :meth:`check` and :meth:`start` get that type.
    A subclass that leaves the action generic (a base of several) registers nothing.
    """

    kind: ClassVar[str]
    """The action kind, from the action class (set on registration)."""

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        action = _applied_action(cls)
        if action is None:
            return
        if action.kind in _APPLIERS:
            raise TypeError(f"an applier for {action.kind!r} is already registered")
        cls.kind = action.kind
        _APPLIERS[action.kind] = cls()

    def check(self, action: ActionT, dialect: Dialect) -> None:
        """Raise :class:`~chaos.ConfigError` if ``action`` cannot apply to ``dialect``."""

    def start(self, ex: Exchange, action: ActionT) -> Coroutine[Any, Any, None] | None:
        """Answer ``ex`` now (return None) or return the coroutine that answers it."""
        raise NotImplementedError


def _applied_action(cls: type) -> type[Action] | None:
    """The registered action class in ``cls``'s ``Applier[...]`` base, if one is named."""
    for base in cls.__dict__.get("__orig_bases__", ()):
        for arg in get_args(base):
            if isinstance(arg, type) and issubclass(arg, Action) and "kind" in arg.__dict__:
                return arg
    return None
