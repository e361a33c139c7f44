"""Collecting every problem of a document (a profile, a fault mapping), each located by file,
line, column and field path: shared by the fault parser and the profile loader."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from chaos._errors import ProfileError, did_you_mean

Path = tuple[str | int, ...]
"""A field path from the document root: keys and list indexes."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A 1-based position in a source file."""

    line: int
    column: int


@dataclass(slots=True)
class Problems:
    """Every problem found in one document, formatted the same way everywhere.

    :param source: the file name (or ``<inject>``, ``admin API``) errors name.
    :param marks: path -> position of the value at that path.
    :param key_marks: path -> position of the key that introduced it.
    """

    source: str
    marks: Mapping[Path, Mark] = field(default_factory=dict)
    key_marks: Mapping[Path, Mark] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    muted: set[Path] = field(default_factory=set)
    _order: list[tuple[int, int]] = field(default_factory=list)

    def add(self, path: Path, message: str, *, at_key: bool = False) -> None:
        """Record a problem with the value at ``path`` (or with its key)."""
        if path in self.muted:
            return
        mark = (self.key_marks.get(path) if at_key else None) or self._nearest(path)
        where = f"{self.source}:{mark.line}:{mark.column}" if mark else self.source
        self.errors.append(f"{where}: {format_path(path)}: {message}")
        self._order.append((mark.line, mark.column) if mark else (0, 0))

    def mute(self, path: Path) -> None:
        """Report nothing more about ``path`` (its first problem says it all)."""
        self.muted.add(path)

    def in_order(self) -> list[str]:
        """The problems sorted by position in the file (stable for equal positions)."""
        order = self._order + [(0, 0)] * (len(self.errors) - len(self._order))
        return [error for _, error in sorted(zip(order, self.errors, strict=True), key=_first)]

    def extend(self, errors: Iterable[str]) -> None:
        """Take problems already formatted elsewhere (an included file)."""
        self.errors.extend(errors)

    def raise_if_any(self) -> None:
        """Raise one :class:`ProfileError` listing every problem, if there is any."""
        if self.errors:
            raise ProfileError(self.in_order())

    def _nearest(self, path: Path) -> Mark | None:
        # a default-filled or missing field has no mark: point at its closest parent
        for end in range(len(path), -1, -1):
            mark = self.marks.get(path[:end])
            if mark is not None:
                return mark
        return None


def format_path(path: Path) -> str:
    """``("phases", 1, "faults", 0, "error")`` -> ``phases[1].faults[0].error``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(top level)"


def choices_text(choices: Iterable[str]) -> str:
    """The valid choices as one readable list."""
    return ", ".join(choices) or "(none)"


def unknown(what: str, word: object, choices: Iterable[str]) -> str:
    """``unknown key 'x'; valid: a, b; did you mean 'a'?``"""
    options = list(choices)
    hint = did_you_mean(str(word), options)
    return f"unknown {what} {word!r}; valid: {choices_text(options)}{hint}"


def _first(item: tuple[tuple[int, int], str]) -> tuple[int, int]:
    return item[0]
