"""Anthropic's answers before and as bytes: :class:`Answer` and its stream's events.

The fake (:mod:`._fake`) decides an :class:`Answer`; the dialect renders it whole
(:meth:`Answer.message`) or as the stream of :func:`message_frames`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from chaos.providers import _sse
from chaos.providers._tokens import count_tokens, random_id

__all__ = ["Answer", "Event", "message_frames"]

Event = Callable[[str, dict[str, object]], bytes]
"""Frames one SSE event: its name and JSON payload -> the frame's bytes."""


@dataclass(slots=True)
class Answer:
    """What the fake says to one Messages request, before it is rendered."""

    model: str
    input_tokens: int
    text_tokens: list[str]
    tool: tuple[str, str, dict[str, object]] | None  # (id, name, input)
    stop_reason: str
    stop_sequence: str | None
    message_id: str = field(default_factory=lambda: random_id("msg_01", 22))
    tool_raw: str | None = None  # a scripted tool call's argument text, sent as is
    output_override: int | None = None  # a scripted reply's usage.output_tokens
    malformed: bool = False  # malformed_tool_args: the non-streamed input is the cut text
    # a scripted reply's further tool calls (parallel tool use): (id, name, input, input text)
    more_tools: tuple[tuple[str, str, object, str], ...] = ()

    @property
    def tool_json(self) -> str:
        if self.tool is None:
            return ""
        if self.tool_raw is not None:
            return self.tool_raw
        return json.dumps(self.tool[2], separators=(",", ":"))

    @property
    def output_tokens(self) -> int:
        if self.output_override is not None:
            return self.output_override
        more = sum(count_tokens(text) for *_, text in self.more_tools)
        return len(self.text_tokens) + count_tokens(self.tool_json) + more

    def tool_blocks(self) -> list[tuple[str, str, object, str]]:
        """Every tool call as (id, name, input as sent in a whole message, input text)."""
        if self.tool is None:
            return []
        tool_id, name, arguments = self.tool
        first = (tool_id, name, self.tool_json if self.malformed else arguments, self.tool_json)
        return [first, *self.more_tools]

    def content(self) -> list[dict[str, object]]:
        blocks: list[dict[str, object]] = []
        if self.text_tokens:
            blocks.append({"type": "text", "text": "".join(self.text_tokens)})
        for tool_id, name, arguments, _ in self.tool_blocks():
            blocks.append(
                {
                    "type": "tool_use",
                    "id": tool_id,
                    "name": name,
                    "caller": {"type": "direct"},
                    "input": arguments,
                }
            )
        return blocks

    def usage(self, output_tokens: int) -> dict[str, object]:
        return {
            "input_tokens": self.input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
            "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
            "output_tokens": output_tokens,
            "service_tier": "standard",
            "inference_geo": "not_available",
        }

    def message(self) -> dict[str, object]:
        return {
            "model": self.model,
            "id": self.message_id,
            "type": "message",
            "role": "assistant",
            "content": self.content(),
            "stop_reason": self.stop_reason,
            "stop_sequence": self.stop_sequence,
            "usage": self.usage(self.output_tokens),
        }


def message_frames(answer: Answer, event: Event) -> list[bytes]:
    """The Messages stream of ``answer`` (§1.5): ``message_start`` to ``message_stop``,
    each event framed by ``event`` (which pads it as the API does)."""
    start = answer.message() | {"content": [], "stop_reason": None, "stop_sequence": None}
    start["usage"] = answer.usage(1)
    frames = [event("message_start", {"type": "message_start", "message": start})]
    ping = _sse.frame(_sse.json_data({"type": "ping"}, compact=False), event="ping")
    index = 0
    if answer.text_tokens or answer.tool is None:
        frames.append(_block_start(event, index, {"type": "text", "text": ""}))
        frames.append(ping)
        for token in answer.text_tokens:
            delta = {"type": "text_delta", "text": token}
            frames.append(_block_delta(event, index, delta))
        frames.append(_block_stop(event, index))
        index += 1
    for tool_id, name, _, text in answer.tool_blocks():
        block = {
            "type": "tool_use",
            "id": tool_id,
            "name": name,
            "caller": {"type": "direct"},
            "input": {},
        }
        frames.append(_block_start(event, index, block))
        if index == 0:
            frames.append(ping)
        for piece in ["", *_chunks(text, 12)]:
            delta = {"type": "input_json_delta", "partial_json": piece}
            frames.append(_block_delta(event, index, delta))
        frames.append(_block_stop(event, index))
        index += 1
    usage = {
        "input_tokens": answer.input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": answer.output_tokens,
    }
    stop: dict[str, object] = {
        "stop_reason": answer.stop_reason,
        "stop_sequence": answer.stop_sequence,
    }
    frames.append(event("message_delta", {"type": "message_delta", "delta": stop, "usage": usage}))
    frames.append(event("message_stop", {"type": "message_stop"}))
    return frames


def _block_start(event: Event, index: int, block: Mapping[str, object]) -> bytes:
    payload = {"type": "content_block_start", "index": index, "content_block": block}
    return event("content_block_start", payload)


def _block_delta(event: Event, index: int, delta: Mapping[str, object]) -> bytes:
    payload = {"type": "content_block_delta", "index": index, "delta": delta}
    return event("content_block_delta", payload)


def _block_stop(event: Event, index: int) -> bytes:
    return event("content_block_stop", {"type": "content_block_stop", "index": index})


def _chunks(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]
