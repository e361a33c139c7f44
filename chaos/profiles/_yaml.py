"""YAML to plain data, keeping the line and column of every key and value.

PyYAML's constructed objects forget where they came from, so the document is
composed (``yaml.compose``: a node tree with marks) and converted here, node
by node, recording a :class:`Mark` per field path. Anything YAML itself
rejects becomes a :class:`~chaos.ProfileError` naming the file and position.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from chaos._errors import ProfileError
from chaos.faults._problems import Mark, Path, Problems

__all__ = ["Document", "read_yaml"]


@dataclass(slots=True)
class Document:
    """A YAML document as plain data plus where each part of it was written.

    :param data: the document (dicts, lists, scalars).
    :param problems: the problem collector carrying the document's marks.
    """

    data: Any
    problems: Problems


def read_yaml(text: str, source: str) -> Document:
    """Parse ``text`` (one YAML document) from ``source``; raise ProfileError if it is not YAML."""
    marks: dict[Path, Mark] = {}
    key_marks: dict[Path, Mark] = {}
    problems = Problems(source, marks, key_marks)
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        what = exc.problem or exc.context or "unreadable"
        context = exc.context_mark
        if exc.context and context is not None and context is not mark:
            what += f" ({exc.context} at {context.line + 1}:{context.column + 1})"
        problems.errors.append(f"{where}: not valid YAML: {what}")
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    except yaml.YAMLError as exc:  # e.g. a control character the reader refuses
        problems.errors.append(f"{source}: not valid YAML: {exc}")
        problems.raise_if_any()
        raise AssertionError("unreachable") from exc
    except RecursionError as exc:  # PyYAML's composer recurses once per nesting level
        raise ProfileError(f"{source}: the document is nested too deeply") from exc
    if node is None:
        problems.errors.append(f"{source}: the file is empty: a profile starts with 'version: 1'")
        raise ProfileError(problems.errors)
    converter = _Converter(problems, marks, key_marks)
    try:
        data = converter.convert(node, ())
    except RecursionError:
        problems.errors.append(f"{source}: the document is nested too deeply")
        data = None
    problems.raise_if_any()
    return Document(data, problems)


class _Converter:
    def __init__(self, problems: Problems, marks: dict[Path, Mark], key_marks: dict[Path, Mark]):
        self.problems = problems
        self.marks = marks
        self.key_marks = key_marks
        self.constructor = SafeConstructor()
        self.active: set[int] = set()

    def convert(self, node: Node, path: Path) -> Any:
        self.marks[path] = _mark(node)
        if isinstance(node, ScalarNode):
            try:
                return self.constructor.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
                self.problems.add(path, f"cannot read this value: {_reason(exc)}")
                return None
        if id(node) in self.active:
            self.problems.add(path, "an alias refers to itself (recursive structure)")
            return None
        self.active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.convert(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            return None  # pragma: no cover - yaml has no other node kind
        finally:
            self.active.discard(id(node))

    def _mapping(self, node: MappingNode, path: Path) -> dict[str, Any]:
        try:
            self.constructor.flatten_mapping(node)  # resolves '<<' merge keys
        except yaml.YAMLError as exc:
            self.problems.add(path, f"bad merge key: {_reason(exc)}")
            return {}
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key_mark = _mark(key_node)
            if not isinstance(key_node, ScalarNode):
                self.problems.errors.append(
                    f"{self.problems.source}:{key_mark.line}:{key_mark.column}: "
                    "a key must be a plain word, not a list or mapping"
                )
                continue
            key = key_node.value
            if key in result:
                self.problems.errors.append(
                    f"{self.problems.source}:{key_mark.line}:{key_mark.column}: "
                    f"duplicate key {key!r}"
                )
                continue
            self.key_marks[(*path, key)] = key_mark
            result[key] = self.convert(value_node, (*path, key))
        return result


def _mark(node: Node) -> Mark:
    return Mark(node.start_mark.line + 1, node.start_mark.column + 1)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        return " ".join(part for part in (exc.context, exc.problem) if part)
    return str(exc)
