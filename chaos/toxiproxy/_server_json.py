"""JSON the way Toxiproxy's Go server reads and writes it.

Reading follows ``encoding/json`` into a struct: only the first JSON value of
the body counts, keys match field names exactly or else case-insensitively,
unknown keys and ``null`` values are ignored, and a value of the wrong type
gives ``json: cannot unmarshal <kind> into Go struct field <Struct>.<path> of
type <type>`` (the first such error; the other fields are still decoded).
Writing keeps field order, prints float32 values with their shortest decimal
form, and escapes ``<``, ``>``, ``&`` like Go.

Standard library only.
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = [
    "GoDecodeError",
    "GoFloat32",
    "decode_body",
    "decode_fields",
    "encode",
    "to_float32",
]

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class GoDecodeError(Exception):
    """A body Go's decoder would reject; ``str()`` is Go's message."""


class _Number(float):
    """A JSON number with a fraction or exponent, remembering how it was written."""

    literal: str

    def __new__(cls, literal: str) -> _Number:
        value = super().__new__(cls, literal)
        value.literal = literal
        return value


class GoFloat32(float):
    """A value Go holds as ``float32``: encoded with float32's shortest form."""


def to_float32(value: float) -> float:
    """``value`` rounded to float32 (raises OverflowError beyond its range)."""
    result: float = struct.unpack("f", struct.pack("f", value))[0]
    return result


_DECODER = json.JSONDecoder(parse_float=_Number)
_WS = re.compile(r"[ \t\n\r]*")


def decode_body(body: bytes) -> Any:
    """The first JSON value of ``body``, or :class:`GoDecodeError` with Go's text."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")
    start = _WS.match(text)
    index = start.end() if start else 0
    if index >= len(text):
        raise GoDecodeError("EOF")
    try:
        value, _end = _DECODER.raw_decode(text, index)
    except json.JSONDecodeError as exc:
        raise GoDecodeError(_go_syntax_error(text, exc)) from None
    return value


def _go_syntax_error(text: str, exc: json.JSONDecodeError) -> str:
    if exc.pos >= len(text):
        return "unexpected EOF"
    char = text[exc.pos]
    if exc.msg.startswith("Expecting value"):
        context = "looking for beginning of value"
    elif exc.msg.startswith("Expecting property name"):
        context = "looking for beginning of object key string"
    elif exc.msg.startswith("Expecting ':'"):
        context = "after object key"
    elif exc.msg.startswith("Expecting ','"):
        context = (
            "after object key:value pair" if _in_object(text, exc.pos) else "after array element"
        )
    else:
        context = (
            "in string literal"
            if "string" in exc.msg or "control" in exc.msg
            else "after top-level value"
        )
    return f"invalid character {_go_quote_char(char)} {context}"


def _in_object(text: str, pos: int) -> bool:
    depth = 0
    for char in reversed(text[:pos]):
        if char in "]}":
            depth += 1
        elif char in "[{":
            if depth == 0:
                return char == "{"
            depth -= 1
    return False


def _go_quote_char(char: str) -> str:
    if char == "'":
        return "'\\''"
    if char == '"':
        return "'\"'"
    if char.isprintable():
        return f"'{char}'"
    return "'" + char.encode("unicode_escape").decode("ascii") + "'"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _number_literal(value: int | float) -> str:
    return value.literal if isinstance(value, _Number) else str(value)


def _convert(value: Any, go_type: str) -> tuple[Any, str | None]:
    """``value`` as ``go_type``, or the Go kind text for the error."""
    kind = _kind(value)
    if go_type.startswith("object:"):
        return (value, None) if kind == "object" else (None, kind)
    if go_type == "string":
        return (value, None) if kind == "string" else (None, kind)
    if go_type == "bool":
        return (value, None) if kind == "bool" else (None, kind)
    if kind != "number":
        return None, kind
    if go_type in ("int64", "int"):
        if isinstance(value, _Number) or not _INT64_MIN <= value <= _INT64_MAX:
            return None, f"number {_number_literal(value)}"
        return int(value), None
    if go_type == "float32":
        try:
            return to_float32(float(value)), None
        except OverflowError:
            return None, f"number {_number_literal(value)}"
    return float(value), None


def decode_fields(
    obj: Any,
    struct_name: str,
    fields: Mapping[str, str],
    into: dict[str, Any],
    *,
    path: str = "",
    go_value_type: str | None = None,
) -> str | None:
    """Decode the JSON object ``obj`` into ``into`` like Go into a struct.

    :param fields: JSON field name -> Go type (``string``, ``bool``, ``int64``,
        ``int``, ``float32``, ``float64``, ``object:<go type>`` for a nested
        object kept as is, or ``raw`` to keep any value).
    :param path: the field path before these fields in error messages
        (``attributes.`` for a toxic's attributes).
    :param go_value_type: the Go type named when ``obj`` is not an object.
    :returns: Go's error text for the first mismatch (decoding goes on past
        it, like Go), or ``None``.
    """
    if obj is None:
        return None
    if not isinstance(obj, dict):
        target = go_value_type or f"toxiproxy.{struct_name}"
        if path:
            return (
                f"json: cannot unmarshal {_kind(obj)} into Go struct field "
                f"{struct_name}.{path.rstrip('.')} of type {target}"
            )
        return f"json: cannot unmarshal {_kind(obj)} into Go value of type {target}"
    first: str | None = None
    for key, value in obj.items():
        field = key if key in fields else _fold(key, fields)
        if field is None or value is None:
            continue
        go_type = fields[field]
        if go_type == "raw":
            into[field] = value
            continue
        converted, bad = _convert(value, go_type)
        if bad is not None:
            if first is None:
                first = (
                    f"json: cannot unmarshal {bad} into Go struct field "
                    f"{struct_name}.{path}{field} of type {go_type.removeprefix('object:')}"
                )
            continue
        into[field] = converted
    return first


def _fold(key: str, fields: Mapping[str, str]) -> str | None:
    folded = key.casefold()
    for name in fields:
        if name.casefold() == folded:
            return name
    return None


def encode(value: Any) -> str:
    """Compact JSON like Go's ``json.Marshal`` (keeps dict order)."""
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts)


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(_encode_str(value))
    elif isinstance(value, GoFloat32):
        out.append(_go_float(float(value), 32))
    elif isinstance(value, float):
        out.append(_go_float(value, 64))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(_encode_str(str(key)))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__}")


def _encode_str(text: str) -> str:
    encoded = json.dumps(text, ensure_ascii=False)
    for char, escape in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        encoded = encoded.replace(char, escape)
    return encoded


def _shortest(value: float, bits: int) -> str:
    if bits == 64:
        return repr(value)
    for digits in range(1, 10):
        text = f"{value:.{digits - 1}e}"
        if to_float32(float(text)) == value:
            return text
    return repr(value)


def _go_float(value: float, bits: int) -> str:
    if bits == 32:
        value = to_float32(value)
    if value == 0:
        return "-0" if str(value).startswith("-") else "0"
    size = abs(value)
    decimal = Decimal(_shortest(value, bits)).normalize()
    if 1e-6 <= size < 1e21:
        return format(decimal, "f")
    sign, digits, exponent = decimal.as_tuple()
    assert isinstance(exponent, int)
    mantissa = "".join(map(str, digits))
    power = exponent + len(mantissa) - 1
    text = ("-" if sign else "") + mantissa[0] + ("." + mantissa[1:] if len(mantissa) > 1 else "")
    return f"{text}e{'+' if power >= 0 else '-'}{abs(power):02d}".replace("e-0", "e-")
