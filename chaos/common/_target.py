"""A harness target, and the one grammar that spells it everywhere.

The same text names a target on every entry point: ``--target`` of the CLI verbs,
``--chaos-target`` and the ``chaos_targets`` ini lines of the plugin,
``LLM_CHAOS_TARGETS`` (entries separated by ``;``)::

    NAME=DIALECT              a fake provider speaking DIALECT   (backup=openai)
    NAME=URL                  forward to URL, dialect NAME       (anthropic=http://127.0.0.1:9000)
    NAME=DIALECT URL          both (a comma works too)           (local = openai http://h:9/v1)

Spaces around ``=`` are allowed; ``fake`` as the URL is the built-in fake provider.
Which dialects exist is the provider registry's business: an unknown one is
reported, with the valid ones, when the harness starts its gateway.
No heavy import here: the plugin, the settings and ``profiles`` use it. The one
reach upward is lazy: a dialect's name alone is looked up in the provider
registry when such a text is parsed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from chaos._errors import ConfigError

__all__ = ["TARGET_GRAMMAR", "Target", "as_targets", "parse_target", "parse_targets"]

TARGET_GRAMMAR = "NAME=DIALECT, NAME=URL or NAME=DIALECT URL (or a dialect's NAME alone)"
"""The grammar, as error messages and help texts spell it."""

_EXAMPLES = "e.g. anthropic=anthropic, backup=openai, local=openai http://127.0.0.1:9000/v1"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


@dataclass(frozen=True)
class Target:
    """One LLM endpoint the app under test talks to (the one public target type:
    the harness, the settings, the CLI and profiles all use it).

    :param name: the target's name, used by faults and reports (``anthropic``, ``backup``...).
    :param dialect: the provider dialect it speaks; defaults to ``name``.
    :param upstream: ``"fake"`` (the built-in fake provider) or an ``http(s)://`` URL.
    :param cassette: a cassette file: answers are replayed from it, offline (see
        :meth:`chaos.Harness.use_cassette`); in a profile, relative to the profile's folder.
    :param record: forward to ``upstream`` (a URL) and record every answer into ``cassette``.
    """

    name: str
    dialect: str = ""
    upstream: str = "fake"
    cassette: str | os.PathLike[str] | None = None
    record: bool = False

    def __post_init__(self) -> None:
        if not self.dialect:
            object.__setattr__(self, "dialect", self.name)

    @property
    def dialect_name(self) -> str:
        """The dialect (kept for code written when it could be None)."""
        return self.dialect

    def __str__(self) -> str:
        """The target in the grammar :func:`parse_target` reads."""
        upstream = "" if self.upstream == "fake" else f" {self.upstream}"
        return f"{self.name}={self.dialect}{upstream}"


def parse_target(text: str) -> Target:
    """One target from ``NAME=DIALECT``, ``NAME=URL`` or ``NAME=DIALECT URL``; a
    dialect's name alone (``anthropic``) is the target of that name on its fake.

    :raises ValueError: what is wrong with ``text`` and what is valid (the caller
        adds where the text came from).
    """
    name, eq, rest = text.partition("=")
    name = name.strip()
    words = rest.replace(",", " ").split()
    if not eq and name in _dialect_names():
        return Target(name)
    if not eq or not name or not words:
        raise ValueError(f"target {text.strip()!r}: expected {TARGET_GRAMMAR} ({_EXAMPLES})")
    if not _NAME.match(name):
        raise ValueError(
            f"target {text.strip()!r}: bad name {name!r} (a letter, then letters, digits, "
            "'_', '.' or '-')"
        )
    urls = [w for w in words if "://" in w]
    dialects = [w for w in words if "://" not in w]
    if len(words) == 2 and dialects[-1:] == ["fake"] and len(dialects) == 2:
        dialects, urls = dialects[:1], ["fake"]
    if len(words) > 2 or len(urls) > 1 or len(dialects) > 1:
        raise ValueError(
            f"target {text.strip()!r}: expected {TARGET_GRAMMAR}: one dialect and at most "
            f"one upstream URL ({_EXAMPLES})"
        )
    upstream = urls[0] if urls else "fake"
    if upstream != "fake" and not re.match(r"^https?://[^/\s]+", upstream):
        raise ValueError(
            f"target {name!r}: bad upstream {upstream!r}: 'fake' or an http(s) URL "
            "such as http://127.0.0.1:9000"
        )
    return Target(name, dialects[0] if dialects else name, upstream)


def _dialect_names() -> frozenset[str]:
    from chaos.providers import DIALECTS

    return frozenset(DIALECTS)


def parse_targets(texts: Iterable[str]) -> tuple[Target, ...]:
    """Several targets (see :func:`parse_target`); a name given twice is an error.

    :raises ValueError: the first bad entry, or the first name given twice.
    """
    targets: dict[str, Target] = {}
    for text in texts:
        target = parse_target(text)
        if target.name in targets:
            raise ValueError(f"target {target.name!r} is given twice")
        targets[target.name] = target
    return tuple(targets.values())


def as_targets(targets: Iterable[Target | str] | Mapping[str, str] | None) -> tuple[Target, ...]:
    """Targets as code may give them: :class:`Target` objects, names, or name -> dialect;
    an empty tuple for None (the entry point's default).

    :raises ConfigError: a name given twice.
    """
    if targets is None:
        return ()
    if isinstance(targets, Mapping):
        return tuple(Target(name, dialect) for name, dialect in targets.items())
    out = tuple(t if isinstance(t, Target) else Target(t) for t in targets)
    names = [t.name for t in out]
    if len(set(names)) != len(names):
        raise ConfigError(f"targets must be distinct names, got {names}")
    return out
