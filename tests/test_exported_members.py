"""The public API is exactly what each public module's ``__all__`` says.

In httpx's style (its tests/test_exported_members.py): every public name of a
public module is in its ``__all__``, and nothing else is; every name there exists
and is documented. A public module is ``chaos`` or any module under it whose
dotted path has no ``_``-prefixed part.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pickle
import pkgutil
import re
import types
import warnings
from pathlib import Path

import pytest

import chaos


def _public_modules() -> list[str]:
    names = ["chaos"]
    for info in pkgutil.walk_packages(chaos.__path__, "chaos."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return names


PUBLIC_MODULES = _public_modules()


def _bound_at_top(module: types.ModuleType) -> set[str]:
    """The names a module's own code binds at its top level: definitions, assignments,
    a package's re-exports from ``chaos`` and its lazy names (imports of helpers, and
    of other libraries, are not API)."""
    assert module.__file__ is not None
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    package = hasattr(module, "__path__")
    names: set[str] = set(getattr(module, "_LAZY", ()))

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    names.update(n.id for n in ast.walk(target) if isinstance(n, ast.Name))
            elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(
                node.target, ast.Name
            ):
                names.add(node.target.id)
            elif (
                package
                and isinstance(node, ast.ImportFrom)
                and (node.module or "").startswith("chaos")
            ):
                names.update(alias.asname or alias.name for alias in node.names)
            elif isinstance(node, ast.If) and not _is_type_checking(node.test):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)

    visit(tree.body)
    return names


def _is_type_checking(test: ast.expr) -> bool:
    return ast.unparse(test).endswith("TYPE_CHECKING")


def _isort_style(name: str) -> tuple[int, str]:
    """ruff's order for ``__all__`` (RUF022): CONSTANTS, then Classes, then functions."""
    return (0 if name.isupper() else 1 if name[:1].isupper() else 2, name)


def _is_pytest_entry_point(value: object, name: str) -> bool:
    """pytest finds hooks and fixtures by name, not through ``__all__``."""
    if name.startswith("pytest_"):
        return True
    return type(value).__name__ == "FixtureFunctionDefinition" or hasattr(
        value, "_fixture_function_marker"
    )


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_is_in_all_and_nothing_else(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    public = {
        member
        for member in _bound_at_top(module)
        if not member.startswith("_")
        and not _is_pytest_entry_point(getattr(module, member, None), member)
    }
    assert sorted(public) == sorted(n for n in exported if n != "__version__"), name


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_unique_and_every_name_resolves_documented(name: str) -> None:
    module = importlib.import_module(name)
    exported = [n for n in module.__all__ if n != "__version__"]
    assert exported == sorted(set(exported), key=_isort_style), name
    for member in exported:
        value = getattr(module, member)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), f"{name}.{member} has no docstring"


def test_the_chaos_namespace_holds_nothing_but_its_api() -> None:
    # vars(), not __all__: what `import chaos; chaos.<TAB>` shows (no Any, annotations, importlib)
    for member in chaos.__all__:
        getattr(chaos, member)  # the lazy names too
    leaked = {
        member
        for member, value in vars(chaos).items()
        if not member.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert leaked <= set(chaos.__all__)
    assert {n for n in dir(chaos) if not n.startswith("_")} >= set(chaos.__all__) - {"__version__"}


def test_what_the_fixture_hands_to_users_is_exported() -> None:
    from chaos.plugin._fixture import ChaosFixture

    assert chaos.ChaosFixture is ChaosFixture
    hints = inspect.get_annotations(ChaosFixture.verdict.fget, eval_str=True)  # type: ignore[attr-defined]
    assert hints["return"] is chaos.Verdict
    journal = inspect.get_annotations(ChaosFixture.journal.fget, eval_str=True)  # type: ignore[attr-defined]
    assert journal["return"] == list[chaos.JournalRecord]
    for name in ("Profile", "Phase", "Fault", "ChaosWarning", "Call", "Attempt"):
        assert getattr(chaos, name).__module__.startswith("chaos"), name


def test_exceptions_share_one_root() -> None:
    for name in chaos.__all__:
        obj = getattr(chaos, name)
        if isinstance(obj, type) and issubclass(obj, Warning):
            assert issubclass(obj, pytest.PytestWarning), name
        elif isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, chaos.ChaosError), name


def test_every_exception_is_drawn_in_the_tree() -> None:
    from chaos import _errors

    tree = _errors.__doc__ or ""
    for name in chaos.__all__:
        obj = getattr(chaos, name)
        if isinstance(obj, type) and issubclass(obj, chaos.ChaosError):
            assert re.search(rf"^[ │├└─]*{name}\s", tree, re.MULTILINE), name
            assert name in _errors.__all__, name


def test_exceptions_are_named_and_pickled_by_their_public_path() -> None:
    for name in chaos.__all__:
        obj = getattr(chaos, name)
        if isinstance(obj, type) and issubclass(obj, chaos.ChaosError):
            assert f"{obj.__module__}.{obj.__qualname__}" == f"chaos.{name}"
    error = pickle.loads(pickle.dumps(chaos.FaultNotTriggered("never fired")))
    assert type(error) is chaos.FaultNotTriggered
    assert str(error) == "never fired"


def test_the_warning_is_a_pytest_warning_filterable_by_its_path() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(chaos.ChaosWarning("proved nothing"), stacklevel=1)
    assert [w.category for w in caught] == [chaos.ChaosWarning]
    from chaos.plugin import ChaosWarning

    assert chaos.ChaosWarning is ChaosWarning
