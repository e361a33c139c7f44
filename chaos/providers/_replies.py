"""Scripted replies: what a fake provider answers instead of its echo.

A :class:`Reply` says *what* the model answers (text, JSON, tool calls with their
arguments: one, or several in one answer as parallel tool use; a stop reason, usage)
in provider-neutral terms; each dialect renders it exactly as its provider would
send it, streamed or not. A :class:`ReplyMatch` says
*when*: on the request's last user message (substring or regex), its model, its
operation, or whether it declares tools. Replies are tried in the order they were
added; one with ``times`` is used that many times, then skipped (so several
``times=1`` replies with the same match answer in order). A request that no reply
matches gets the fake's default answer (``"Echo: "`` + the prompt).

The book is shared by the gateway's event loop and the test's thread, so it locks.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from chaos._errors import ConfigError, did_you_mean

__all__ = [
    "CONTENT_FAULT",
    "CONTENT_KINDS",
    "REPLY_KEYS",
    "STOP_REASONS",
    "ContentFault",
    "Delivered",
    "Reply",
    "ReplyBook",
    "ReplyMatch",
    "ReplyQuery",
    "ToolCall",
    "native_stop",
    "parse_reply",
]

STOP_REASONS: tuple[str, ...] = ("end_turn", "max_tokens", "tool_use", "refusal", "stop_sequence")
"""The neutral stop reasons a reply may name; each dialect maps them to its own."""

_NATIVE: dict[str, dict[str, str]] = {
    "anthropic": {
        "end_turn": "end_turn",
        "max_tokens": "max_tokens",
        "tool_use": "tool_use",
        "refusal": "refusal",
        "stop_sequence": "stop_sequence",
    },
    "openai": {
        "end_turn": "stop",
        "max_tokens": "length",
        "tool_use": "tool_calls",
        "refusal": "content_filter",
        "stop_sequence": "stop",
    },
    "gemini": {
        "end_turn": "STOP",
        "max_tokens": "MAX_TOKENS",
        "tool_use": "STOP",
        "refusal": "SAFETY",
        "stop_sequence": "STOP",
    },
}

MATCH_KEYS: tuple[str, ...] = ("contains", "regex", "model", "operation", "tools")
REPLY_KEYS: tuple[str, ...] = (
    "text",
    "json",
    "tool_call",
    "tool_calls",
    "stop_reason",
    "usage",
    "match",
    "times",
    "once",
    "name",
)
"""The keys of a reply mapping (profiles, ``POST /replies``, ``reply(**kwargs)``)."""


def native_stop(dialect: str, stop: str) -> str:
    """The stop reason ``dialect`` sends for the neutral ``stop`` (see :data:`STOP_REASONS`).

    >>> native_stop("openai", "max_tokens")
    'length'
    """
    return _NATIVE.get(dialect, _NATIVE["anthropic"])[stop]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One tool (function) call the model makes.

    :param name: the tool's name.
    :param arguments: its arguments: a mapping (sent as JSON) or a raw string sent
        as is (which need not be valid JSON: that is how broken arguments look).
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON text a provider streams."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments), separators=(",", ":"))

    def arguments_object(self) -> dict[str, Any]:
        """The arguments as an object (a raw string that is no JSON object gives ``{}``)."""
        if isinstance(self.arguments, str):
            try:
                parsed = json.loads(self.arguments)
            except ValueError:
                return {}
            return parsed if isinstance(parsed, dict) else {}
        return dict(self.arguments)


@dataclass(frozen=True, slots=True)
class ReplyQuery:
    """What a reply is matched on, read from one request by its dialect."""

    operation: str | None
    model: str | None
    prompt: str
    tools: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ReplyMatch:
    """When a reply applies; every given condition must hold (none: every request).

    :param contains: a substring of the request's last user message.
    :param regex: a regular expression searched in it.
    :param model: the request's model, exactly.
    :param operation: the request's operation (``messages.create``,
        ``chat.completions.create``, ``responses.create``, ``models.generate_content``...).
    :param tools: True: the request declares tools; False: it declares none; a
        string: it declares a tool of that name.
    """

    contains: str | None = None
    regex: str | None = None
    model: str | None = None
    operation: str | None = None
    tools: bool | str | None = None

    def matches(self, query: ReplyQuery) -> bool:
        """Whether ``query`` meets every condition."""
        if self.contains is not None and self.contains not in query.prompt:
            return False
        if self.regex is not None and re.search(self.regex, query.prompt) is None:
            return False
        if self.model is not None and self.model != query.model:
            return False
        if self.operation is not None and self.operation != query.operation:
            return False
        if isinstance(self.tools, bool):
            return bool(query.tools) == self.tools
        return self.tools is None or self.tools in query.tools

    def to_dict(self) -> dict[str, object]:
        """The conditions that are set."""
        return {k: getattr(self, k) for k in MATCH_KEYS if getattr(self, k) is not None}


@dataclass(slots=True)
class Reply:
    """One scripted answer (see the module docstring).

    :param text: the answer's text (with ``tool_call``: text said before the call).
    :param tool_call: a tool call the model makes.
    :param tool_calls: several tool calls the model makes in one answer (parallel tool
        use), in order; after ``tool_call`` when both are given (see :attr:`calls`).
    :param stop_reason: a neutral stop reason (:data:`STOP_REASONS`); default
        ``tool_use`` with a tool call, else ``end_turn`` (``max_tokens`` when the
        request's own token limit cuts the text).
    :param usage: ``input_tokens`` / ``output_tokens`` to report instead of counted ones.
    :param match: when it applies.
    :param times: how many requests it answers; None: every matching one.
    :param name: a name for listings (default ``reply/N``).
    """

    text: str = ""
    tool_call: ToolCall | None = None
    stop_reason: str | None = None
    usage: Mapping[str, int] = field(default_factory=dict)
    tool_calls: tuple[ToolCall, ...] = ()
    match: ReplyMatch = field(default_factory=ReplyMatch)
    times: int | None = None
    name: str | None = None
    used: int = 0

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        """Every tool call of the answer, in the order the provider sends them."""
        first = (self.tool_call,) if self.tool_call is not None else ()
        return (*first, *self.tool_calls)

    def stop_for(self, dialect: str, *, truncated: bool = False) -> str:
        """The native stop reason ``dialect`` sends for this reply."""
        if self.stop_reason is not None:
            return native_stop(dialect, self.stop_reason)
        if truncated:
            return native_stop(dialect, "max_tokens")
        return native_stop(dialect, "tool_use" if self.calls else "end_turn")

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready description (``GET /replies``)."""
        out: dict[str, object] = {"name": self.name, "text": self.text}
        if self.tool_call is not None:
            out["tool_call"] = {"name": self.tool_call.name, "arguments": self.tool_call.arguments}
        if self.tool_calls:
            out["tool_calls"] = [
                {"name": c.name, "arguments": c.arguments} for c in self.tool_calls
            ]
        if self.stop_reason is not None:
            out["stop_reason"] = self.stop_reason
        if self.usage:
            out["usage"] = dict(self.usage)
        out["match"] = self.match.to_dict()
        out["times"] = self.times
        out["used"] = self.used
        return out


class ReplyBook:
    """The scripted replies of one target, tried in the order they were added."""

    def __init__(self) -> None:
        self._replies: list[Reply] = []
        self._lock = threading.Lock()
        self._count = 0
        self._delivered: deque[Delivered] = deque(maxlen=1000)

    def delivered(self, kind: str, text: str) -> None:
        """Note an answer a content fault changed (kept until :meth:`clear`)."""
        self._delivered.append(Delivered(kind, text, time.time()))

    def content_faults(self) -> list[Delivered]:
        """The answers content faults changed, oldest first."""
        return list(self._delivered)

    def add(self, reply: Reply) -> Reply:
        """Add ``reply`` after the others; returns it (named)."""
        with self._lock:
            self._count += 1
            if reply.name is None:
                reply.name = f"reply/{self._count}"
            self._replies.append(reply)
        return reply

    def remove(self, reply: Reply) -> None:
        """Remove one reply."""
        with self._lock:
            self._replies = [r for r in self._replies if r is not reply]

    def clear(self) -> None:
        """Remove every reply, and forget the answers content faults changed."""
        with self._lock:
            self._replies = []
            self._delivered.clear()

    def __len__(self) -> int:
        return len(self._replies)

    def replies(self) -> list[Reply]:
        """The replies, in order."""
        with self._lock:
            return list(self._replies)

    def take(self, query: ReplyQuery) -> Reply | None:
        """The first reply that matches ``query`` and has uses left (counting this use)."""
        with self._lock:
            for reply in self._replies:
                if reply.times is not None and reply.used >= reply.times:
                    continue
                if reply.match.matches(query):
                    reply.used += 1
                    return reply
        return None


def parse_reply(data: Mapping[str, Any], *, source: str) -> Reply:
    """A :class:`Reply` from its mapping form, or a :class:`ConfigError` naming ``source``.

    ``{"text": "hi"}``, ``{"json": {"label": "bug"}, "match": {"contains": "crash"},
    "once": true}``, ``{"tool_call": {"name": "lookup", "arguments": {"id": 7}}}``,
    ``{"tool_calls": [{"name": "weather", "arguments": {"city": "Paris"}}, {...}]}``.
    """
    for key in data:
        if key not in REPLY_KEYS:
            hint = did_you_mean(str(key), REPLY_KEYS, parens=True)
            raise ConfigError(
                f"{source}: unknown reply key {key!r}{hint}; valid: {', '.join(REPLY_KEYS)}"
            )
    text = data.get("text", "")
    if "json" in data:
        if "text" in data:
            raise ConfigError(f"{source}: a reply takes 'text' or 'json', not both")
        try:
            text = json.dumps(data["json"])
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{source}: 'json' is not JSON-serialisable: {exc}") from None
    if not isinstance(text, str):
        raise ConfigError(f"{source}: 'text' must be a string, got {text!r}")
    tool = _tool_call(data.get("tool_call"), source)
    calls = _tool_calls(data.get("tool_calls"), source)
    stop = data.get("stop_reason")
    if stop is not None and stop not in STOP_REASONS:
        hint = did_you_mean(str(stop), STOP_REASONS, parens=True)
        raise ConfigError(
            f"{source}: unknown stop_reason {stop!r}{hint}; valid: {', '.join(STOP_REASONS)}"
        )
    usage = data.get("usage", {})
    if not isinstance(usage, Mapping) or any(
        k not in ("input_tokens", "output_tokens") or not _count(v) for k, v in usage.items()
    ):
        raise ConfigError(
            f"{source}: 'usage' takes input_tokens and/or output_tokens (integers >= 0), "
            f"got {usage!r}"
        )
    times = data.get("times")
    if data.get("once") is True:
        if times not in (None, 1):
            raise ConfigError(f"{source}: 'once' and 'times' disagree")
        times = 1
    if times is not None and (not _count(times) or times < 1):
        raise ConfigError(f"{source}: 'times' must be an integer >= 1, got {times!r}")
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise ConfigError(f"{source}: 'name' must be a string, got {name!r}")
    return Reply(
        text=text,
        tool_call=tool,
        stop_reason=stop,
        usage=dict(usage),
        tool_calls=calls,
        match=_match(data.get("match"), source),
        times=times,
        name=name,
    )


def _count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _tool_call(raw: object, source: str, key: str = "tool_call") -> ToolCall | None:
    if raw is None:
        return None
    if isinstance(raw, ToolCall):
        return raw
    if not isinstance(raw, Mapping) or not isinstance(raw.get("name"), str):
        raise ConfigError(f"{source}: '{key}' takes {{name: ..., arguments: {{...}}}}, got {raw!r}")
    unknown = sorted(set(raw) - {"name", "arguments"})
    if unknown:
        raise ConfigError(f"{source}: unknown {key} key(s) {unknown}; valid: name, arguments")
    arguments = raw.get("arguments", {})
    if not isinstance(arguments, Mapping | str):
        raise ConfigError(
            f"{source}: {key} 'arguments' must be a mapping or a string, got {arguments!r}"
        )
    return ToolCall(raw["name"], arguments)


def _tool_calls(raw: object, source: str) -> tuple[ToolCall, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str | bytes | Mapping) or not isinstance(raw, Sequence) or not raw:
        raise ConfigError(
            f"{source}: 'tool_calls' takes a non-empty list of {{name: ..., arguments: {{...}}}}, "
            f"got {raw!r}"
        )
    found = []
    for index, item in enumerate(raw):
        call = _tool_call(item, source, f"tool_calls[{index}]")
        if call is None:
            raise ConfigError(f"{source}: 'tool_calls[{index}]' is empty; give {{name, arguments}}")
        found.append(call)
    return tuple(found)


def _match(raw: object, source: str) -> ReplyMatch:
    if raw is None:
        return ReplyMatch()
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{source}: 'match' must be a mapping, got {raw!r}")
    for key in raw:
        if key not in MATCH_KEYS:
            hint = did_you_mean(str(key), MATCH_KEYS, parens=True)
            raise ConfigError(
                f"{source}: unknown match key {key!r}{hint}; valid: {', '.join(MATCH_KEYS)}"
            )
    for key in ("contains", "regex", "model", "operation"):
        if raw.get(key) is not None and not isinstance(raw[key], str):
            raise ConfigError(f"{source}: match '{key}' must be a string, got {raw[key]!r}")
    regex = raw.get("regex")
    if regex is not None:
        try:
            re.compile(regex)
        except re.error as exc:
            raise ConfigError(f"{source}: match 'regex' {regex!r} is invalid: {exc}") from None
    tools = raw.get("tools")
    if tools is not None and not isinstance(tools, bool | str):
        raise ConfigError(f"{source}: match 'tools' must be true, false or a tool name")
    return ReplyMatch(raw.get("contains"), regex, raw.get("model"), raw.get("operation"), tools)


def reply_from_kwargs(source: str, **spec: Any) -> Reply:
    """:func:`parse_reply` for keyword arguments, also accepting :class:`ToolCall` objects
    for ``tool_call`` and in ``tool_calls``."""
    return parse_reply(spec, source=source)


def replies_of(items: Sequence[Reply]) -> list[dict[str, object]]:
    """JSON-ready descriptions of ``items``."""
    return [r.to_dict() for r in items]


AdminRoute = Callable[[Mapping[str, list[str]], bytes], tuple[int, Any]]


def reply_routes(
    add: Callable[..., Reply],
    clear: Callable[[str | None], None],
    listing: Callable[[str | None], Mapping[str, Sequence[Reply]]],
) -> dict[tuple[str, str], AdminRoute]:
    """The admin API's reply routes, for clients in other languages.

    ``POST /replies`` takes one reply mapping with its ``target`` (or a JSON list of
    them); ``GET /replies[?target=T]`` lists them with their use counts;
    ``DELETE /replies[?target=T]`` forgets them.

    :param add: ``add(target, **reply)`` (``Harness.reply``).
    :param clear: forgets the replies of one target or (None) all.
    :param listing: target (or None: all) -> its replies.
    """

    def post(query: Mapping[str, list[str]], body: bytes) -> tuple[int, Any]:
        try:
            data = json.loads(body or b"null")
        except ValueError as exc:
            return 400, {"error": f"POST /replies: the body is not JSON: {exc}"}
        items = data if isinstance(data, list) else [data]
        added = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("target"), str):
                return 400, {
                    "error": "POST /replies takes a JSON reply mapping (or a list of them) "
                    "with a 'target'"
                }
            spec = dict(item)
            target = spec.pop("target")
            added.append(add(target, **spec).to_dict() | {"target": target})
        return 200, {"added": added}

    def get(query: Mapping[str, list[str]], body: bytes) -> tuple[int, Any]:
        target = query.get("target", [None])[0]
        return 200, {name: replies_of(items) for name, items in listing(target).items()}

    def delete(query: Mapping[str, list[str]], body: bytes) -> tuple[int, Any]:
        clear(query.get("target", [None])[0])
        return 200, {"cleared": True}

    return {("POST", "/replies"): post, ("GET", "/replies"): get, ("DELETE", "/replies"): delete}


CONTENT_KINDS: tuple[str, ...] = (
    "truncate_answer",
    "malformed_tool_args",
    "refusal",
    "empty_answer",
)
"""The content faults: answers that arrive whole on the wire but are wrong inside."""


@dataclass(frozen=True, slots=True)
class ContentFault:
    """A content fault for the fake to apply to the answer it was about to give.

    :param kind: one of :data:`CONTENT_KINDS`.
    :param tokens: ``truncate_answer``: the tokens kept before the token-limit stop.
    :param keep: ``malformed_tool_args``: the share of the argument text kept (cut JSON).
    :param message: ``refusal``: the refusal text (may be empty).
    """

    kind: str
    tokens: int = 5
    keep: float = 0.5
    message: str = ""

    def cut_arguments(self, text: str) -> str:
        """``text`` cut so that it is not valid JSON any more (never the whole text)."""
        end = min(int(len(text) * self.keep), len(text) - 1)
        return text[: max(end, 1)]


CONTENT_FAULT: ContextVar[ContentFault | None] = ContextVar("llm_chaos_content", default=None)
"""The content fault the gateway asks the fake to apply to the answer being built."""


@dataclass(frozen=True, slots=True)
class Delivered:
    """An answer a content fault changed, as the app received it.

    :param kind: the content fault.
    :param text: the answer's text (for ``malformed_tool_args``: the argument text).
    :param time: when (seconds since the epoch).
    """

    kind: str
    text: str
    time: float
