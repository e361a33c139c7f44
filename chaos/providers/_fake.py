"""Deterministic building blocks for every fake provider: answers, tokens, ids, tool arguments.

The fakes answer from the request alone, so a test can predict the answer:
:func:`answer_text` echoes the prompt, :func:`tokenize` cuts text into the
pieces a stream emits (their concatenation is the text), and
:func:`count_tokens` counts them, so usage adds up across endpoints
(``count_tokens`` == ``usage.input_tokens``; ``output_tokens`` == pieces sent).

This module is shared by the fakes (``chaos.providers.<provider>._fake``); the token
and id helpers live in :mod:`chaos.providers._tokens`, which the dialects use too, and
are re-exported here so a fake needs one module. Its names and results are stable.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from chaos.providers._tokens import (
    count_tokens,
    limit_tokens,
    random_hex,
    random_id,
    stable_id,
    tokenize,
)

__all__ = [
    "ANSWER_PREFIX",
    "answer_text",
    "count_tokens",
    "limit_tokens",
    "random_hex",
    "random_id",
    "stable_id",
    "tokenize",
    "tool_arguments",
]

ANSWER_PREFIX = "Echo:"
"""Every fake answer starts with this, followed by the prompt's words."""

_MAX_ECHO_WORDS = 40
_WORDS = (
    "amber", "basil", "cedar", "delta", "ember", "fjord", "grove", "harbor",
    "iris", "juniper", "kelp", "lumen", "maple", "nectar", "onyx", "pebble",
)  # fmt: skip


def answer_text(prompt: str, *, max_words: int = _MAX_ECHO_WORDS) -> str:
    """The fake's answer to ``prompt``: ``"Echo: "`` + its first ``max_words`` words.

    Whitespace is collapsed; an empty prompt gives ``"Echo: (empty)"``.

    >>> answer_text("What  is\\n2+2?")
    'Echo: What is 2+2?'
    """
    words = prompt.split()[:max_words]
    return f"{ANSWER_PREFIX} {' '.join(words) if words else '(empty)'}"


def tool_arguments(schema: Mapping[str, object], seed: str) -> dict[str, object]:
    """Arguments that satisfy a JSON-Schema ``object``: a value for each required property.

    When ``required`` is absent every property gets a value. Strings are a word
    picked by hashing ``seed`` and the property name (so they are deterministic),
    enums take their first value, numbers are 1, booleans true, arrays and
    objects empty.

    :param schema: the tool's input schema (``{"type": "object", "properties": ...}``).
    :param seed: text the choice is derived from, e.g. the last user message.
    """
    properties = schema.get("properties")
    if not isinstance(properties, Mapping):
        return {}
    required = schema.get("required")
    names: Sequence[object] = required if isinstance(required, list) else list(properties)
    arguments: dict[str, object] = {}
    for name in names:
        prop = properties.get(name) if isinstance(name, str) else None
        if not isinstance(name, str) or not isinstance(prop, Mapping):
            continue
        arguments[name] = _example_value(prop, f"{seed}\x00{name}")
    return arguments


def _example_value(prop: Mapping[object, object], seed: str) -> object:
    enum = prop.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    if kind == "array":
        return []
    if kind == "object":
        return {}
    digest = hashlib.sha256(seed.encode()).digest()
    return _WORDS[digest[0] % len(_WORDS)]


_STRING_FORMATS = {
    "date-time": "2026-03-02T11:49:00Z",
    "date": "2026-03-02",
    "time": "11:49:00",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "chaos@example.com",
    "uri": "https://example.com/",
}


def schema_example(schema: object, root: dict[str, Any], text: str, depth: int = 0) -> object:
    """A value valid against JSON-Schema ``schema`` (``$ref``s resolved in ``root``).

    Used for structured outputs (OpenAI ``response_format``, Gemini ``responseSchema``):
    strings become ``text`` unless a ``format`` names a canonical example.
    """
    if not isinstance(schema, dict) or depth > 12:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: object = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return schema_example(target, root, text, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        options = schema.get(key)
        if isinstance(options, list) and options:
            usable = [o for o in options if isinstance(o, dict) and o.get("type") != "null"]
            return schema_example((usable or options)[0], root, text, depth + 1)
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties")
        props = props if isinstance(props, dict) else {}
        required = schema.get("required")
        names = required if isinstance(required, list) else list(props)
        return {
            name: schema_example(props.get(name), root, text, depth + 1)
            for name in names
            if isinstance(name, str)
        }
    if kind == "array":
        least = schema.get("minItems")
        count = least if isinstance(least, int) and least > 0 else 1
        return [schema_example(schema.get("items"), root, text, depth + 1) for _ in range(count)]
    if kind in ("integer", "number"):
        low = schema.get("minimum")
        return low if isinstance(low, int | float) and low > 1 else 1
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    fmt = schema.get("format")
    return _STRING_FORMATS.get(fmt, text) if isinstance(fmt, str) else text
