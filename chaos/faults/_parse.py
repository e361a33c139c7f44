"""Parsing one fault mapping into a typed :class:`~chaos.faults.Fault`.

The same mapping form is used by profiles, by ``chaos.inject(target, **kwargs)``
and by the gateway's admin API. Everything is derived from the dataclasses in
``chaos.faults`` (their fields, type hints and class variables), so a new action
kind needs no change here.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Mapping
from typing import Any, Literal, Union

from chaos._errors import did_you_mean
from chaos.faults._base import ACTIONS, Action, Fault, Match, Schedule
from chaos.faults._problems import Path, Problems, choices_text, unknown

__all__ = ["fault_keys", "parse_fault"]

_BAD: Any = object()

SCHEDULE_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(Schedule))
ENVELOPE_KEYS: tuple[str, ...] = ("target", "name", "match", *SCHEDULE_KEYS)


def fault_keys() -> tuple[str, ...]:
    """Every key a fault mapping may have at its top level, whatever its action."""
    keys = list(ENVELOPE_KEYS) + list(ACTIONS)
    for cls in ACTIONS.values():
        if cls.shorthand is not None:
            keys += [name for name in _fields(cls) if name != cls.shorthand and name not in keys]
    return tuple(keys)


def parse_fault(
    data: Mapping[str, Any],
    *,
    source: str = "<inject>",
    defaults_target: str | None = None,
    dialect: str | None = None,
) -> Fault:
    """Build a :class:`~chaos.faults.Fault` from its mapping form, or raise a ProfileError.

    The keys are those of a profile fault: ``target``, ``name``, ``match``, the
    schedule (``rate``, ``first``, ``after``, ``every``, ``times``) and exactly one
    action key, its parameters next to it when the action is a scalar
    (``error: overloaded`` + ``retry_after: 5``) or inside it
    (``sse: {cut_after: 3}``, ``network: {toxic: latency, latency: 800}``).

    :param data: the mapping, e.g. the keyword arguments of ``chaos.inject``.
    :param source: what the error messages name as the origin.
    :param defaults_target: the target when ``data`` has no ``target``.
    :param dialect: the target's dialect, to check error kinds and operations.
    :raises chaos.ProfileError: listing every problem found.
    """
    problems = Problems(source)
    target = data.get("target", defaults_target) if isinstance(data, Mapping) else None
    dialects = {target: dialect} if isinstance(target, str) and dialect else None
    fault = parse_fault_into(problems, data, (), default_target=defaults_target, dialects=dialects)
    problems.raise_if_any()
    assert fault is not None
    return fault


def parse_fault_into(
    problems: Problems,
    data: object,
    path: Path,
    *,
    default_target: str | None,
    dialects: Mapping[str, str] | None,
    declared_targets: tuple[str, ...] | None = None,
) -> Fault | None:
    """Parse ``data`` at ``path``, adding every problem to ``problems``; None if any."""
    before = len(problems.errors)
    if not isinstance(data, Mapping):
        problems.add(path, f"a fault must be a mapping, got {_describe(data)}")
        return None

    kinds = [key for key in data if key in ACTIONS]
    cls: type[Action] | None = None
    if not kinds:
        problems.add(path, f"no action: give exactly one of {choices_text(ACTIONS)}")
    elif len(kinds) > 1:
        problems.add(
            (*path, kinds[1]),
            f"a fault has exactly one action, got {' and '.join(map(str, kinds))}",
            at_key=True,
        )
    else:
        cls = ACTIONS[kinds[0]]

    companions = _companions(cls, data)
    valid = (*ENVELOPE_KEYS, *ACTIONS, *companions)
    for key in data:
        if key not in valid:
            problems.add(
                (*path, key),
                unknown("key", key, valid),
                at_key=True,
            )

    target = data.get("target", default_target)
    if target is None:
        declared = choices_text(declared_targets or ())
        problems.add(path, f"missing target (declared targets: {declared})")
    elif not isinstance(target, str):
        problems.add((*path, "target"), f"expected a target name, got {_describe(target)}")
        target = None
    elif declared_targets and target not in declared_targets:
        problems.add(
            (*path, "target"),
            f"unknown target {target!r}; declared targets: {choices_text(declared_targets)}"
            f"{did_you_mean(target, declared_targets)}",
        )
        target = None
    dialect = dialects.get(target) if dialects and isinstance(target, str) else None

    name = data.get("name")
    if name is not None and not isinstance(name, str):
        problems.add((*path, "name"), f"expected a string, got {_describe(name)}")

    match = _build(problems, Match, data.get("match", {}), (*path, "match"))
    if match is not None and dialect is not None and match.operation is not None:
        where = (*path, "match", "operation")
        _check_vocabulary(problems, where, match.operation, "operation", dialect)
    schedule = _build(
        problems, Schedule, {key: data[key] for key in SCHEDULE_KEYS if key in data}, path
    )
    if schedule is not None:
        _check_schedule(problems, schedule, path)

    action = _build_action(problems, cls, data, path, dialect) if cls is not None else None
    if len(problems.errors) > before or action is None or match is None or schedule is None:
        return None
    assert isinstance(target, str)
    return Fault(
        target=target,
        action=action,
        match=match,
        schedule=schedule,
        name=name if isinstance(name, str) else None,
    )


def _companions(cls: type[Action] | None, data: Mapping[Any, Any]) -> tuple[str, ...]:
    """The action's own fields allowed next to its key (when its value is a scalar)."""
    if cls is None or cls.shorthand is None or isinstance(data.get(cls.kind), Mapping):
        return ()
    return tuple(name for name in _fields(cls) if name != cls.shorthand)


def _build_action(
    problems: Problems, cls: type[Action], data: Mapping[Any, Any], path: Path, dialect: str | None
) -> Action | None:
    value = data[cls.kind]
    action_path: Path = (*path, cls.kind)
    nested = isinstance(value, Mapping)
    if nested:
        params: dict[Any, Any] = dict(value)
    elif cls.shorthand is not None and not isinstance(value, list):
        params = {cls.shorthand: value}
        params.update({key: data[key] for key in _companions(cls, data) if key in data})
    else:
        fields = choices_text(_fields(cls))
        problems.add(action_path, f"expected a mapping with {fields}, got {_describe(value)}")
        return None
    inline_extra = False
    if cls.extra_into is not None:
        extra = {key: params.pop(key) for key in list(params) if key not in _fields(cls)}
        if extra and cls.extra_into in params:
            problems.add(action_path, f"give {cls.extra_into} inline or nested, not both")
            return None
        if extra:
            params[cls.extra_into] = extra
            inline_extra = True

    def field_path(name: str) -> Path:
        if not name or (inline_extra and name == cls.extra_into):
            return action_path  # folded-in keys were written next to the others
        if nested or name == cls.shorthand:
            return action_path if not nested else (*action_path, name)
        return (*path, name)

    action = _build(problems, cls, params, action_path, field_path=field_path)
    if action is None:
        return None
    ok = True
    for name, message in action.check():
        if name and name not in _fields(cls):  # an attribute folded into extra_into
            problems.add((*action_path, name), message)
        else:
            problems.add(field_path(name), message)
        ok = False
    for name, vocabulary in cls.vocabularies.items():
        word = getattr(action, name)
        if isinstance(word, str) and not _check_vocabulary(
            problems, field_path(name), word, vocabulary, dialect
        ):
            ok = False
    return action if ok else None


def _join(base: Path, name: str) -> Path:
    return (*base, name) if name else base


def _check_schedule(problems: Problems, schedule: Schedule, path: Path) -> None:
    if schedule.rate is not None and not 0.0 <= schedule.rate <= 1.0:
        problems.add((*path, "rate"), f"must be between 0 and 1, got {schedule.rate}")
    for name in ("every", "times"):
        value = getattr(schedule, name)
        if value is not None and value < 1:
            problems.add((*path, name), f"must be at least 1, got {value}")


def _check_vocabulary(
    problems: Problems, path: Path, word: str, vocabulary: str, dialect: str | None
) -> bool:
    from chaos.faults._vocabulary import lookup

    known = lookup(vocabulary, dialect)
    if known is None or word in known:
        return True
    what = {"error_kind": "error kind", "edge_page": "edge page"}.get(vocabulary, vocabulary)
    message = unknown(what, word, known)
    if dialect is not None and vocabulary != "edge_page":
        message = message.replace(f"{word!r};", f"{word!r} for dialect {dialect!r};", 1)
    problems.add(path, message)
    return False


_HINTS: dict[type, dict[str, Any]] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


def _build(
    problems: Problems,
    cls: type[Any],
    data: object,
    path: Path,
    *,
    field_path: typing.Callable[[str], Path] | None = None,
) -> Any:
    """Instantiate dataclass ``cls`` from ``data``, type-checking every field."""
    where = field_path or functools.partial(_join, path)
    if not isinstance(data, Mapping):
        problems.add(
            path, f"expected a mapping with {choices_text(_fields(cls))}, got {_describe(data)}"
        )
        return None
    before = len(problems.errors)
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    names = _fields(cls)
    for key, value in data.items():
        if key not in names:
            problems.add(
                where(str(key)),
                unknown("key", key, names),
                at_key=True,
            )
            continue
        checked = check_value(problems, where(key), value, hints[key])
        if checked is not _BAD:
            kwargs[key] = checked
    for f in dataclasses.fields(cls):
        missing = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if missing and f.name not in data:
            problems.add(path, f"missing {f.name!r}")
    if len(problems.errors) > before:
        return None
    return cls(**kwargs)


def check_value(problems: Problems, path: Path, value: object, hint: Any) -> Any:
    """``value`` checked against type ``hint``; _BAD (with a problem added) if it does not fit."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return value
    if origin in (Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if value is None and len(options) < len(typing.get_args(hint)):
            return None
        for option in options:
            if _fits(value, option):
                return check_value(problems, path, value, option)
        if len(options) == 1:
            return check_value(problems, path, value, options[0])
        problems.add(path, f"expected {_type_name(hint)}, got {_describe(value)}")
        return _BAD
    if origin is Literal:
        choices = typing.get_args(hint)
        if value in choices and isinstance(value, str):
            return value
        words = [str(c) for c in choices]
        problems.add(
            path,
            unknown("value", value, words),
        )
        return _BAD
    if origin in (Mapping, dict, typing.get_origin(Mapping[str, str])):
        key_hint, value_hint = typing.get_args(hint) or (str, Any)
        if not isinstance(value, Mapping):
            problems.add(path, f"expected a mapping, got {_describe(value)}")
            return _BAD
        result: dict[Any, Any] = {}
        for key, item in value.items():
            checked_key = check_value(problems, (*path, str(key)), key, key_hint)
            checked = check_value(problems, (*path, str(key)), item, value_hint)
            if checked is _BAD or checked_key is _BAD:
                return _BAD
            result[checked_key] = checked
        return result
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return _non_negative(problems, path, value)
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return _non_negative(problems, path, float(value))
    elif hint is str:
        if isinstance(value, str):
            return value
    else:  # pragma: no cover - a field type this parser does not know yet
        raise TypeError(f"no rule to check a field of type {hint!r} at {path}")
    problems.add(path, f"expected {_type_name(hint)}, got {_describe(value)}")
    return _BAD


def _fits(value: object, hint: Any) -> bool:
    """Whether ``value`` has the shape of ``hint`` (its range is checked afterwards)."""
    if hint is Any:
        return True
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    origin = typing.get_origin(hint)
    if origin is Literal:
        return isinstance(value, str)
    if origin in (Union, types.UnionType):
        return any(_fits(value, arg) for arg in typing.get_args(hint))
    return isinstance(value, Mapping)


def _non_negative(problems: Problems, path: Path, value: float) -> Any:
    if value < 0:
        problems.add(path, f"must be >= 0, got {value}")
        return _BAD
    if value != value or value in (float("inf"), float("-inf")):
        problems.add(path, f"must be a finite number, got {value}")
        return _BAD
    return value


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return " or ".join(_type_name(arg) for arg in options)
    return {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
    }.get(hint, "a mapping" if origin is not None else getattr(hint, "__name__", str(hint)))


def _describe(value: object) -> str:
    """A short rendering of a wrong value and its YAML type, for error messages."""
    kind = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "list",
        dict: "mapping",
        type(None): "null",
    }.get(type(value), type(value).__name__)
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({kind})"
