"""The public API is exactly what ``__all__`` says, and every name in it exists."""

from __future__ import annotations

import chaos


def test_all_names_resolve() -> None:
    for name in chaos.__all__:
        assert getattr(chaos, name) is not None, name


def test_all_is_sorted_and_unique() -> None:
    names = [n for n in chaos.__all__ if n != "__version__"]
    assert names == sorted(set(names))


def test_exceptions_share_one_root() -> None:
    for name in chaos.__all__:
        obj = getattr(chaos, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, chaos.ChaosError), name


def test_exceptions_are_named_and_pickled_by_their_public_path() -> None:
    import pickle

    for name in chaos.__all__:
        obj = getattr(chaos, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert f"{obj.__module__}.{obj.__qualname__}" == f"chaos.{name}"
    error = pickle.loads(pickle.dumps(chaos.FaultNotTriggered("never fired")))
    assert type(error) is chaos.FaultNotTriggered
    assert str(error) == "never fired"
