"""``chaos.profiles``' public names: exactly ``__all__``, each documented, modules private."""

from __future__ import annotations

import inspect
import pkgutil

import chaos.profiles


def test_public_names_resolve_and_are_documented() -> None:
    assert chaos.profiles.__all__ == sorted(set(chaos.profiles.__all__))
    for name in chaos.profiles.__all__:
        obj = getattr(chaos.profiles, name)
        if callable(obj):
            assert inspect.getdoc(obj), name


def test_implementation_modules_are_private() -> None:
    modules = [m.name for m in pkgutil.iter_modules(chaos.profiles.__path__)]
    assert modules
    assert all(name.startswith("_") for name in modules), modules
