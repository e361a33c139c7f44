"""Server-sent-events framing shared by every dialect: encode frames, split and parse them.

A *frame* is one complete event as it goes on the wire, including the blank
line that ends it (``event: ping\\ndata: {...}\\n\\n``). Dialects build frames
with :func:`frame` and :func:`json_data`; the gateway and tests split a raw
stream back into frames with :func:`split_frames` and read them with
:func:`parse_frame`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import math
import re
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass

__all__ = [
    "SseEvent",
    "compact_json",
    "frame",
    "indented_json",
    "json_data",
    "pace",
    "parse_frame",
    "split_frames",
]

_FRAME_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_LINE_END = re.compile(r"\r\n|\n|\r")


def _compact_encoder() -> Callable[[object], str]:
    # json.dumps builds a new encoder on every call, which costs as much as encoding a small
    # event; the C encoder made once, with json.dumps's own settings, gives the same text.
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:
        return functools.partial(json.dumps, separators=(",", ":"), ensure_ascii=False)
    encode = make(
        None,  # no circular-reference check (shared state); the fakes' data is plain trees
        json.JSONEncoder().default,
        json.encoder.encode_basestring,
        None,  # indent
        ":",
        ",",
        False,  # sort_keys
        False,  # skipkeys
        True,  # allow_nan
    )

    def compact(obj: object) -> str:
        return "".join(encode(obj, 0))

    return compact


compact_json = _compact_encoder()
"""``json.dumps(obj, separators=(",", ":"), ensure_ascii=False)``, faster (no check for
circular references: a value that contains itself raises RecursionError)."""


def indented_json(obj: object, indent: int) -> str:
    """``json.dumps(obj, indent=indent, ensure_ascii=False)``, about three times faster.

    json's indenting encoder is its pure-Python generator one; this writes the same
    text with one recursive function (no check for circular references: a value
    that contains itself raises RecursionError).
    """
    out: list[str] = []
    _indent(obj, out, "\n", " " * indent)
    return "".join(out)


_encode_str: Callable[[str], str] = json.encoder.encode_basestring


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == math.inf:
        return "Infinity"
    if value == -math.inf:
        return "-Infinity"
    return float.__repr__(value)


def _indent(obj: object, out: list[str], newline: str, step: str) -> None:
    # the checks in json.encoder's order, so subclasses (bool of int...) come out the same
    if isinstance(obj, str):
        out.append(_encode_str(obj))
    elif obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, int):
        out.append(int.__repr__(obj))
    elif isinstance(obj, float):
        out.append(_float(obj))
    elif isinstance(obj, list | tuple):
        if not obj:
            out.append("[]")
            return
        inner = newline + step
        separator = "[" + inner
        for item in obj:
            out.append(separator)
            separator = "," + inner
            _indent(item, out, inner, step)
        out.append(newline + "]")
    elif isinstance(obj, dict):
        if not obj:
            out.append("{}")
            return
        inner = newline + step
        separator = "{" + inner
        for key, value in obj.items():
            if isinstance(key, str):
                pass
            elif isinstance(key, float):
                key = _float(key)
            elif key is True:
                key = "true"
            elif key is False:
                key = "false"
            elif key is None:
                key = "null"
            elif isinstance(key, int):
                key = int.__repr__(key)
            else:
                raise TypeError(
                    f"keys must be str, int, float, bool or None, not {key.__class__.__name__}"
                )
            out.append(separator + _encode_str(key) + ": ")
            separator = "," + inner
            _indent(value, out, inner, step)
        out.append(newline + "}")
    else:
        raise TypeError(f"Object of type {obj.__class__.__name__} is not JSON serializable")


def json_data(obj: object, *, padding: int = 0, compact: bool = True) -> str:
    """Serialize ``obj`` for a ``data:`` line.

    :param obj: a JSON-serializable value.
    :param padding: spaces inserted before the final ``}`` of an object, as
        Anthropic pads its stream events (``{"type":"message_stop"      }``).
    :param compact: ``(",", ":")`` separators (Anthropic, OpenAI chunks) when
        true, Python's default ``", "`` / ``": "`` otherwise (Anthropic's ``ping``).
    """
    text = compact_json(obj) if compact else json.dumps(obj, ensure_ascii=False)
    if padding > 0 and text.endswith("}"):
        text = text[:-1] + " " * padding + "}"
    return text


def frame(data: str, *, event: str | None = None, newline: str = "\n") -> bytes:
    """One SSE frame: optional ``event:`` line, one ``data:`` line per line of ``data``.

    :param data: the payload; embedded newlines become several ``data:`` lines.
    :param event: the event name, or None for a data-only frame (OpenAI style).
    :param newline: the line ending, ``"\\n"`` or ``"\\r\\n"``.
    """
    if "\n" not in data and "\r" not in data:  # one data line (all JSON data): no split
        if event is None:
            return f"data: {data}{newline}{newline}".encode()
        return f"event: {event}{newline}data: {data}{newline}{newline}".encode()
    lines = [] if event is None else [f"event: {event}"]
    lines.extend(f"data: {line}" for line in _LINE_END.split(data))
    return (newline.join(lines) + newline + newline).encode()


@dataclass(frozen=True, slots=True)
class SseEvent:
    """A parsed frame: ``event`` name (None if absent), ``data`` (lines joined by ``\\n``)."""

    event: str | None
    data: str
    id: str | None = None
    retry: int | None = None

    def json(self) -> object:
        """``data`` decoded as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.data)


def parse_frame(raw: bytes) -> SseEvent:
    """Parse one frame the way the WHATWG algorithm (and the SDK decoders) do.

    Comment lines (``:...``) are skipped, one space after the colon is dropped,
    and several ``data:`` lines join with ``\\n``.
    """
    event: str | None = None
    data: list[str] = []
    event_id: str | None = None
    retry: int | None = None
    for line in _LINE_END.split(raw.decode("utf-8", errors="replace")):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
        elif name == "id":
            event_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
    return SseEvent(event=event, data="\n".join(data), id=event_id, retry=retry)


def split_frames(raw: bytes) -> list[bytes]:
    """Split a whole stream into frames, each keeping its terminating blank line.

    Frames end at ``\\n\\n``, ``\\r\\n\\r\\n`` or ``\\r\\r``; a trailing partial
    frame (no blank line yet) is returned last, as is.
    """
    frames: list[bytes] = []
    start = 0
    for match in _FRAME_END.finditer(raw):
        frames.append(raw[start : match.end()])
        start = match.end()
    if start < len(raw):
        frames.append(raw[start:])
    return frames


async def pace(frames: Iterable[bytes], delay: float = 0.0) -> AsyncIterator[bytes]:
    """Yield ``frames`` one by one, sleeping ``delay`` seconds before each after the first.

    This is the fake provider's token rate; ``delay=0`` still yields to the loop.
    """
    for index, item in enumerate(frames):
        if index and delay > 0:
            await asyncio.sleep(delay)
        yield item
