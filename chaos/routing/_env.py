"""Routing: the environment that points every client library at the harness.

Each dialect lists the variables its clients read (``Dialect.env``: the official
SDKs' and the frameworks' base URLs and keys) and those to remove while routing
(``Dialect.env_unset``: a second credential, a switch that sends the SDK
elsewhere). docs/routing.md names the library that reads each one.

The plugin routes twice: for the duration of each chaos test (monkeypatch), and,
when the session will use the harness, while the test modules are imported, so
that a client built at import (``claude = anthropic.Anthropic()`` at module level)
is routed too (:class:`EarlyRouting`).
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["EarlyRouting", "Routing", "routing_for", "uses_chaos"]


@dataclass(frozen=True)
class Routing:
    """Variables to set (name -> value) and variables to remove."""

    set: dict[str, str] = field(default_factory=dict)
    unset: tuple[str, ...] = ()

    def apply(self, environ: MutableMapping[str, str]) -> dict[str, str | None]:
        """Route ``environ`` in place; returns the previous values (None: was unset)."""
        before: dict[str, str | None] = {}
        for name in (*self.set, *self.unset):
            before.setdefault(name, environ.get(name))
        for name in self.unset:
            environ.pop(name, None)
        environ.update(self.set)
        return before


def routing_for(
    names: Iterable[str], endpoints: Mapping[str, str], dialect: Callable[[str], Any]
) -> Routing:
    """The routing of targets ``names``: each target's dialect variables with ``{url}``
    its endpoint. When two targets share a dialect, the first listed gets the variables.

    :param dialect: target name -> its dialect (``gateway.dialect``).
    """
    env: dict[str, str] = {}
    unset: list[str] = []
    for name in names:
        d = dialect(name)
        for var, template in d.env.items():
            env.setdefault(var, template.replace("{url}", endpoints[name]))
        unset.extend(v for v in getattr(d, "env_unset", ()) if v not in unset)
    return Routing(env, tuple(v for v in unset if v not in env))


# a test function or fixture taking `chaos`, the marker, or usefixtures("chaos")
_USES_CHAOS = re.compile(
    r"\bmark\.chaos\b|usefixtures\([^)]*[\"']chaos[\"']|\bdef\s+\w+\s*\([^)]*\bchaos\b[^)]*\)"
)


def uses_chaos(path: Path) -> bool:
    """Whether a test module uses the chaos harness, read before it is imported: a
    function or fixture taking ``chaos``, ``pytest.mark.chaos``, or
    ``usefixtures("chaos")`` in its code (not in a string: pytester sources do not count).
    A cheap text scan first; the syntax tree confirms."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    if _USES_CHAOS.search(text) is None:
        return False
    try:
        tree = ast.parse(text, filename=str(path))
    except (SyntaxError, ValueError):
        return False  # pytest reports it when it imports the module
    return any(_is_chaos_use(node) for node in ast.walk(tree))


def _is_chaos_use(node: ast.AST) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        a = node.args
        return any(arg.arg == "chaos" for arg in (*a.posonlyargs, *a.args, *a.kwonlyargs))
    if isinstance(node, ast.Attribute) and node.attr == "chaos":
        owner = node.value
        return (isinstance(owner, ast.Attribute) and owner.attr == "mark") or (
            isinstance(owner, ast.Name) and owner.id == "mark"
        )
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        return name == "usefixtures" and any(
            isinstance(arg, ast.Constant) and arg.value == "chaos" for arg in node.args
        )
    return False


class EarlyRouting:
    """Routes ``os.environ`` while the test modules are imported, then puts it back."""

    def __init__(self, routing: Routing) -> None:
        self.routing = routing
        self._before: dict[str, str | None] | None = None

    def apply(self) -> None:
        """Route the process environment (once)."""
        if self._before is None:
            self._before = self.routing.apply(os.environ)

    def restore(self) -> None:
        """Put back every variable as it was (import-time clients keep their routing)."""
        before, self._before = self._before, None
        for name, value in (before or {}).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
