"""``chaos.report``'s public names: all resolve, all documented, implementation modules private."""

from __future__ import annotations

import inspect
import pkgutil

import chaos.report


def test_every_public_name_resolves_and_is_documented():
    for name in chaos.report.__all__:
        obj = getattr(chaos.report, name)
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert inspect.getdoc(obj), f"chaos.report.{name} has no docstring"


def test_implementation_modules_are_private():
    modules = [m.name for m in pkgutil.iter_modules(chaos.report.__path__)]
    assert modules
    assert all(name.startswith("_") for name in modules), modules


def test_reporter_methods_are_the_plugin_contract():
    methods = {n for n, _ in inspect.getmembers(chaos.report.Reporter, inspect.isfunction)}
    assert methods == {"on_session_start", "on_test_start", "on_test_end", "on_session_end"}
    params = list(inspect.signature(chaos.report.Reporter.on_test_end).parameters)
    assert params == ["self", "item", "harness", "verdict"]
