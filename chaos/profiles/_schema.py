"""The JSON Schema (draft 2020-12) of profile files, generated from the typed model.

Fault actions, matches and schedules are read from the dataclasses in
``chaos.faults`` (fields, type hints, ``shorthand``/``extra_into``), so a new
action kind shows up here without edits. Editors use it through the
``# yaml-language-server: $schema=...`` comment the built-in profiles start with.
Checks that need context (a target's dialect, the order of phases) are the
loader's: the schema is for typing help, not the full validation.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any, Literal, Union

from chaos.faults import ACTIONS, Action, Match, Schedule
from chaos.faults._parse import ENVELOPE_KEYS
from chaos.faults._vocabulary import lookup
from chaos.faults.network import TOXICS
from chaos.profiles._loader import TARGET_KEYS, TOP_KEYS
from chaos.profiles._model import CLOCKS, COUNTS, STARTS, VERSION
from chaos.profiles._phases import PHASE_KEYS, RAMP_KEYS
from chaos.providers._replies import REPLY_KEYS, STOP_REASONS

__all__ = ["SCHEMA_ID", "json_schema", "schema_text"]

SCHEMA_ID = "https://pytest-llm-chaos.invalid/fault_profiles/schema.json"
_DURATION = r"^([0-9]+(\.[0-9]+)?(ms|d|h|m|s))+$"
_PARAM_REF = {"type": "string", "pattern": r"^\$\{[A-Za-z_][A-Za-z0-9_]*\}$"}

_DOCS = {
    "target": "The target (declared under targets:) this fault aims at.",
    "name": "A stable id for journals and reports (default <phase>/<index>-<kind>).",
    "match": "Which requests are candidates; every field that is set must match.",
    "rate": "Probability per matching request (seeded), 0 to 1.",
    "first": "Hit only the first N matching requests.",
    "after": "Let the first N matching requests through, then hit.",
    "every": "Hit every Nth matching request.",
    "times": "Stop after firing N times.",
}


def json_schema() -> dict[str, Any]:
    """The profile file format as a JSON Schema (draft 2020-12) document."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "pytest-llm-chaos fault profile",
        "description": "A timeline of LLM-provider faults: targets, phases, faults.",
        "type": "object",
        "required": ["version", "name", "title"],
        "additionalProperties": False,
        "properties": _top(),
        "$defs": {
            "param": {**_PARAM_REF, "description": "A ${parameter} reference."},
            "duration": {
                "description": "Incident time (wall clock): 90s, 20m, 3h58m, 500ms, or "
                "seconds; a request count (requests clock).",
                "anyOf": [
                    {"type": "string", "pattern": _DURATION},
                    {"type": "number", "minimum": 0},
                    {"$ref": "#/$defs/param"},
                ],
            },
            "target": _target(),
            "phase": _phase(),
            "fault": _fault(),
            "match": _dataclass(Match),
            "reply": _reply(),
        },
    }


def schema_text() -> str:
    """:func:`json_schema` as the text of the shipped ``fault_profiles/schema.json``."""
    return json.dumps(json_schema(), indent=2, sort_keys=False) + "\n"


def _top() -> dict[str, Any]:
    properties: dict[str, Any] = {
        "version": {"const": VERSION, "description": "The format version."},
        "name": {"type": "string", "description": "The profile's name (its file name)."},
        "title": {"type": "string", "description": "One line for lists and reports."},
        "source": {"type": "string", "description": "The incident: a link or a report name."},
        "description": {"type": "string", "description": "What it models, in words."},
        "clock": {
            "enum": list(CLOCKS),
            "description": "wall: `at` is incident time; requests: `at` counts requests.",
        },
        "time_scale": {
            "anyOf": [{"type": "number", "exclusiveMinimum": 0}, {"$ref": "#/$defs/param"}],
            "description": "Incident seconds per second of test time (wall clock).",
        },
        "start": {
            "enum": list(STARTS),
            "default": STARTS[0],
            "description": "wall clock: incident time 0 is the first request after the "
            "profile is applied (first_request), or the moment it is applied (apply: needed "
            "when the first phase takes every target down).",
        },
        "hold": {
            "anyOf": [{"type": "integer", "minimum": 0}, {"$ref": "#/$defs/param"}],
            "description": "wall clock: every phase with faults lasts its scaled time and "
            "at least until this many attempts on its targets met it (the SDKs' retries "
            "cannot ride out a compressed phase); the phases after it start later.",
        },
        "count": {
            "enum": list(COUNTS),
            "description": "requests clock: count every target's requests, or each its own.",
        },
        "seed": {"type": "integer", "description": "Seed for probabilistic faults."},
        "parameters": {
            "type": "object",
            "description": "Parameters and their defaults, referenced as ${name}.",
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        "extends": {"type": "string", "description": "A profile (name or path) to build on."},
        "include": {
            "description": "Profiles whose targets and phases are merged in (by phase name).",
            "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        },
        "targets": {
            "type": "object",
            "description": "Target name -> its dialect and upstream.",
            "additionalProperties": {"$ref": "#/$defs/target"},
        },
        "phases": {
            "type": "array",
            "minItems": 1,
            "items": {"$ref": "#/$defs/phase"},
            "description": "The timeline, in increasing order of `at`.",
        },
        "replies": {
            "type": "array",
            "items": {"$ref": "#/$defs/reply"},
            "description": "Scripted answers of the fake providers, tried in order.",
        },
    }
    assert tuple(properties) == TOP_KEYS, "the schema and the loader disagree on the top keys"
    return properties


def _reply() -> dict[str, Any]:
    text = {"type": "string"}
    call = {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": text,
            "arguments": {"type": ["object", "string"]},
        },
    }
    properties: dict[str, Any] = {
        "target": {"type": "string", "description": "The target whose fake answers."},
        "text": {**text, "description": "The answer's text."},
        "json": {"description": "A value sent as the answer's JSON text."},
        "tool_call": {
            **call,
            "description": "A tool call: arguments as a mapping, or a raw string sent as is.",
        },
        "tool_calls": {
            "type": "array",
            "minItems": 1,
            "items": call,
            "description": "Several tool calls in one answer (parallel tool use), in order.",
        },
        "stop_reason": {"enum": list(STOP_REASONS), "description": "Rendered natively."},
        "usage": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "input_tokens": {"type": "integer", "minimum": 0},
                "output_tokens": {"type": "integer", "minimum": 0},
            },
        },
        "match": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "contains": text,
                "regex": text,
                "model": text,
                "operation": text,
                "tools": {"type": ["boolean", "string"]},
            },
            "description": "When it applies: every condition given must hold.",
        },
        "times": {"type": "integer", "minimum": 1, "description": "Requests it answers."},
        "once": {"type": "boolean", "description": "times: 1."},
        "name": {"type": "string", "description": "A name for listings."},
    }
    assert tuple(properties)[1:] == REPLY_KEYS, "the schema and the parser disagree on replies"
    return {
        "type": "object",
        "required": ["target"],
        "additionalProperties": False,
        "not": {"required": ["text", "json"]},
        "properties": properties,
    }


def _target() -> dict[str, Any]:
    properties = {
        "dialect": {"type": "string", "description": "anthropic, openai, gemini, ..."},
        "upstream": {
            "description": "fake (the built-in fake provider) or an http(s) URL.",
            "anyOf": [{"const": "fake"}, {"type": "string", "pattern": "^https?://"}],
        },
        "cassette": {
            "type": "string",
            "minLength": 1,
            "description": "A cassette file (relative to this file): answers replayed offline.",
        },
        "record": {
            "type": "boolean",
            "description": "Record the upstream's answers into the cassette instead.",
        },
    }
    assert tuple(properties) == TARGET_KEYS
    return {
        "type": "object",
        "required": ["dialect"],
        "additionalProperties": False,
        "properties": properties,
    }


def _phase() -> dict[str, Any]:
    properties = {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]*$"},
        "at": {"$ref": "#/$defs/duration", "description": "When the phase starts."},
        "duration": {"$ref": "#/$defs/duration", "description": "How long it lasts."},
        "hold": {
            "anyOf": [{"type": "integer", "minimum": 0}, {"$ref": "#/$defs/param"}],
            "description": "wall clock: this phase's hold (the profile's `hold` otherwise).",
        },
        "description": {"type": "string"},
        "ramp": {
            "type": "object",
            "description": "Steps <name>.1, <name>.2, ... each `every` long, giving the "
            "faults without their own rate the next rate.",
            "required": ["rate", "every"],
            "additionalProperties": False,
            "properties": {
                "rate": {
                    "type": "array",
                    "minItems": 2,
                    "items": {"type": "number", "minimum": 0, "maximum": 1},
                },
                "every": {"$ref": "#/$defs/duration"},
            },
        },
        "faults": {"type": ["array", "null"], "items": {"$ref": "#/$defs/fault"}},
    }
    assert tuple(properties) == PHASE_KEYS
    assert tuple(properties["ramp"]["properties"]) == RAMP_KEYS  # type: ignore[index]
    return {
        "type": "object",
        "required": ["name", "at"],
        "additionalProperties": False,
        "properties": properties,
    }


def _fault() -> dict[str, Any]:
    hints = typing.get_type_hints(Schedule)
    properties: dict[str, Any] = {
        "target": {"type": "string"},
        "name": {"type": "string"},
        "match": {"$ref": "#/$defs/match"},
    }
    for f in dataclasses.fields(Schedule):
        properties[f.name] = _type(hints[f.name])
    for key, value in properties.items():
        value["description"] = _DOCS.get(key, "")
    assert tuple(properties) == ENVELOPE_KEYS
    companions: dict[str, list[str]] = {}
    for kind, cls in ACTIONS.items():
        properties[kind] = _action(cls)
        if cls.shorthand is None:
            continue
        action_hints = typing.get_type_hints(cls)
        for f in dataclasses.fields(cls):  # type: ignore[arg-type]
            if f.name == cls.shorthand or f.name in ENVELOPE_KEYS:
                continue
            properties.setdefault(f.name, _type(action_hints[f.name]))
            companions.setdefault(f.name, []).append(kind)
    return {
        "type": "object",
        "description": "target + match + schedule + exactly one action.",
        "properties": properties,
        "additionalProperties": False,
        "oneOf": [{"required": [kind]} for kind in ACTIONS],
        "dependentSchemas": {
            name: {"anyOf": [{"required": [kind]} for kind in kinds]}
            for name, kinds in companions.items()
        },
    }


def _action(cls: type[Action]) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        properties[f.name] = _type(hints[f.name])
        vocabulary = cls.vocabularies.get(f.name)
        words = lookup(vocabulary, None) if vocabulary else None
        if words:
            properties[f.name] = {"enum": list(words)}
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            required.append(f.name)
    if cls is ACTIONS.get("network"):
        properties["toxic"] = {"enum": list(TOXICS)}
    mapping: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
    if cls.extra_into is not None:
        mapping["additionalProperties"] = _type(float)
    doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
    if cls.shorthand is None:
        return {**mapping, "description": doc}
    return {"description": doc, "anyOf": [properties[cls.shorthand], mapping]}


def _dataclass(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {f.name: _type(hints[f.name]) for f in dataclasses.fields(cls)},
    }


def _type(hint: Any) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    if hint is Any:
        return {}
    if origin in (Union, types.UnionType):
        args = typing.get_args(hint)
        options = [_type(arg) for arg in args if arg is not type(None)]
        if {arg for arg in args if arg is not type(None)} == {int, float}:
            options = [_type(float)]
        if type(None) in args:
            options.append({"type": "null"})
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is Literal:
        return {"enum": list(typing.get_args(hint))}
    if origin is not None:  # Mapping[str, V]
        _, value = typing.get_args(hint)
        return {"type": "object", "additionalProperties": _type(value)}
    scalars: dict[type, dict[str, Any]] = {
        bool: {"type": "boolean"},
        int: {"type": "integer", "minimum": 0},
        float: {"type": "number", "minimum": 0},
        str: {"type": "string"},
    }
    scalar = scalars[hint]
    if hint is str:
        return dict(scalar)
    return {"anyOf": [scalar, {"$ref": "#/$defs/param"}]}
