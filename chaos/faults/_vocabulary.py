"""Words a fault field must come from, where they are known (``Action.vocabularies``).

Each vocabulary is looked up lazily in the part that owns it: error kinds and
operations from the target's registered dialect, edge pages from the edge
catalogue. A vocabulary that is not available (a dialect not registered, a
catalogue not installed) returns None and the check is skipped, never guessed.
"""

from __future__ import annotations

import functools
import importlib

__all__ = ["lookup"]


def lookup(vocabulary: str, dialect: str | None) -> tuple[str, ...] | None:
    """The valid words of ``vocabulary`` for ``dialect``, or None when unknown here."""
    if vocabulary == "edge_page":
        return _edge_pages()
    if dialect is None:
        return None
    if vocabulary == "error_kind":
        return _error_kinds(dialect)
    if vocabulary == "operation":
        return _operations(dialect)
    return None


def dialect_names() -> tuple[str, ...]:
    """Every registered dialect name."""
    from chaos.providers import DIALECTS

    return tuple(DIALECTS)


_KINDS: dict[str, tuple[str, ...]] = {}


def _error_kinds(dialect: str) -> tuple[str, ...] | None:
    from chaos.providers import DIALECTS

    if dialect in _KINDS:
        return _KINDS[dialect]
    cls = DIALECTS.get(dialect)
    if cls is None:
        return None
    try:
        kinds = _KINDS[dialect] = tuple(cls().error_kinds())
    except NotImplementedError:  # a dialect still being written
        return None
    return kinds


def _operations(dialect: str) -> tuple[str, ...] | None:
    from chaos.providers import DIALECTS

    cls = DIALECTS.get(dialect)
    operations = getattr(cls, "operations", None) if cls is not None else None
    if not operations:
        return None
    return tuple(op.name for op in operations)


@functools.cache
def _edge_pages() -> tuple[str, ...] | None:
    try:
        module = importlib.import_module("chaos.providers._edge")
    except ImportError:
        return None
    pages = getattr(module, "EDGE_PAGES", None)
    return tuple(pages) if pages else None
