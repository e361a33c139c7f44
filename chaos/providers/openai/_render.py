"""OpenAI's answers before and as bytes: :class:`Reply`, chat completions and their
chunks, Responses objects and their events.

The fake (:mod:`._fake`) decides a :class:`Reply`; the dialect renders it with the
functions here and sends it (:mod:`._dialect`).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from chaos.providers import _sse
from chaos.providers._tokens import count_tokens, random_id, tokenize

__all__ = [
    "FINGERPRINT",
    "Reply",
    "ResponsesStream",
    "ToolCall",
    "chat_completion",
    "response_events",
    "response_objects",
]

FINGERPRINT = "fp_c4a5ee3b6d"
_TEXT_FORMAT = {"format": {"type": "text"}, "verbosity": "medium"}


@dataclass(slots=True)
class ResponsesStream:
    """The Responses stream being served in this task: what an in-stream error must name."""

    response_id: str
    model: str
    next_sequence: int = 0


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call of an answer: its name and argument text."""

    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What the fake says to one request: text or a tool call, and the token counts."""

    text: str
    tool: ToolCall | None
    pieces: list[str]
    truncated: bool
    input_tokens: int
    finish: str | None = None  # a scripted reply's finish_reason
    output_override: int | None = None  # a scripted reply's usage.output_tokens
    refusal: str | None = None  # a refusal fault: the refusal text, sent instead of content
    more: tuple[ToolCall, ...] = ()  # a scripted reply's further tool calls (parallel tool use)

    @property
    def output_tokens(self) -> int:
        if self.output_override is not None:
            return self.output_override
        return len(self.pieces) + sum(count_tokens(c.arguments) for c in self.more)

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        """Every tool call, in order (the first one's argument text is :attr:`pieces`)."""
        return (self.tool, *self.more) if self.tool is not None else ()


def chat_completion(
    reply: Reply, model: str, *, stream: bool, stream_options: object
) -> dict[str, object] | Iterator[bytes]:
    """A ``chat.completion`` object of ``reply``, or (``stream``) its chunks (§2.4)."""
    usage = _chat_usage(reply.input_tokens, reply.output_tokens)
    cid = random_id("chatcmpl-", 29)
    created = int(time.time())
    finish = reply.finish or (
        "tool_calls" if reply.tool else "length" if reply.truncated else "stop"
    )
    call_ids = [random_id("call_", 24) for _ in reply.calls]
    if stream:
        options = stream_options if isinstance(stream_options, dict) else {}
        head = {
            "id": cid,
            "object": "chat.completion.chunk",
            "created": created,
            "model": model,
            "service_tier": "default",
            "system_fingerprint": FINGERPRINT,
        }
        return _chat_frames(
            head,
            reply,
            call_ids,
            finish,
            usage,
            include_usage=options.get("include_usage") is True,
            obfuscate=options.get("include_obfuscation") is not False,
        )
    message: dict[str, object] = {
        "role": "assistant",
        "content": None if reply.tool or reply.refusal is not None else "".join(reply.pieces),
        "refusal": reply.refusal,
        "annotations": [],
    }
    if reply.tool:
        message["tool_calls"] = [
            {
                "id": ident,
                "type": "function",
                "function": {"name": c.name, "arguments": c.arguments},
            }
            for ident, c in zip(call_ids, reply.calls, strict=True)
        ]
    choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": FINGERPRINT,
    }


def response_objects(
    reply: Reply, model: str, payload: dict[str, Any]
) -> tuple[dict[str, object], dict[str, object], list[dict[str, object]]]:
    """The Responses API ``response`` of ``reply`` (echoing the request's settings from
    ``payload``): as it starts, as it ends, and its output items."""
    base = _response_object("resp_" + secrets.token_hex(24), model, payload)
    item: dict[str, object]
    output: list[dict[str, object]]
    if reply.tool:
        output = [
            {
                "id": "fc_" + secrets.token_hex(24),
                "type": "function_call",
                "status": "completed",
                "arguments": call.arguments,
                "call_id": random_id("call_", 24),
                "name": call.name,
            }
            for call in reply.calls
        ]
        item = output[0]
    else:
        part = (
            {"type": "refusal", "refusal": reply.refusal}
            if reply.refusal is not None
            else {
                "type": "output_text",
                "annotations": [],
                "logprobs": [],
                "text": "".join(reply.pieces),
            }
        )
        item = {
            "id": "msg_" + secrets.token_hex(24),
            "type": "message",
            "status": "incomplete" if reply.truncated else "completed",
            "content": [part],
            "role": "assistant",
        }
        output = [item]
    final: dict[str, object] = {
        **base,
        "status": "incomplete" if reply.truncated else "completed",
        "output": output,
        "usage": {
            "input_tokens": reply.input_tokens,
            "input_tokens_details": {"cached_tokens": 0},
            "output_tokens": reply.output_tokens,
            "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": reply.input_tokens + reply.output_tokens,
        },
    }
    if reply.truncated:
        final["incomplete_details"] = {"reason": "max_output_tokens"}
    return base, final, output


def _chat_frames(
    head: dict[str, object],
    reply: Reply,
    call_ids: list[str],
    finish: str,
    usage: dict[str, object],
    *,
    include_usage: bool,
    obfuscate: bool,
) -> Iterator[bytes]:
    """The Chat Completions chunks (providers.md §2.4), ending in ``data: [DONE]``."""

    def chunk(delta: dict[str, object], reason: str | None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": reason}
        body: dict[str, object] = {**head, "choices": [choice]}
        if include_usage:
            body["usage"] = None
        if obfuscate:
            # Random-length padding, as the real API sends against length side channels.
            body["obfuscation"] = random_id("", 2 + secrets.randbelow(12))
        return _sse.frame(_sse.json_data(body))

    if reply.tool:
        yield chunk({"role": "assistant", "content": None, "refusal": None}, None)
        # parallel calls arrive one after the other, each delta naming its call's index
        for index, (ident, tool) in enumerate(zip(call_ids, reply.calls, strict=True)):
            function = {"name": tool.name, "arguments": ""}
            call = {"index": index, "id": ident, "type": "function", "function": function}
            yield chunk({"tool_calls": [call]}, None)
            pieces = reply.pieces if index == 0 else tokenize(tool.arguments)
            for piece in pieces:
                delta: dict[str, object] = {
                    "tool_calls": [{"index": index, "function": {"arguments": piece}}]
                }
                yield chunk(delta, None)
    elif reply.refusal is not None:
        yield chunk({"role": "assistant", "content": None, "refusal": ""}, None)
        for piece in reply.pieces:
            yield chunk({"refusal": piece}, None)
    else:
        yield chunk({"role": "assistant", "content": "", "refusal": None}, None)
        for piece in reply.pieces:
            yield chunk({"content": piece}, None)
    yield chunk({}, finish)
    if include_usage:
        body: dict[str, object] = {**head, "choices": [], "usage": usage}
        if obfuscate:
            body["obfuscation"] = random_id("", 6)
        yield _sse.frame(_sse.json_data(body))
    yield _sse.frame("[DONE]")


def response_events(
    base: dict[str, object],
    final: dict[str, object],
    items: list[dict[str, object]],
    reply: Reply,
    state: ResponsesStream,
) -> Iterator[bytes]:
    """The Responses API events (providers.md §2.5), ``sequence_number`` from 0 up."""
    item = items[0]
    item_id = item["id"]

    def event(kind: str, **fields: object) -> bytes:
        data = {"type": kind, "sequence_number": state.next_sequence, **fields}
        state.next_sequence += 1
        return _sse.frame(_sse.json_data(data), event=kind)

    yield event("response.created", response=base)
    yield event("response.in_progress", response=base)
    if reply.tool:
        # one function_call output item after the other, each added, streamed and done
        for index, (call, tool) in enumerate(zip(items, reply.calls, strict=True)):
            added = {**call, "status": "in_progress", "arguments": ""}
            yield event("response.output_item.added", output_index=index, item=added)
            for piece in reply.pieces if index == 0 else tokenize(tool.arguments):
                yield event(
                    "response.function_call_arguments.delta",
                    item_id=call["id"],
                    output_index=index,
                    delta=piece,
                )
            yield event(
                "response.function_call_arguments.done",
                item_id=call["id"],
                output_index=index,
                arguments=tool.arguments,
            )
            if index + 1 < len(items):
                yield event("response.output_item.done", output_index=index, item=call)
    else:
        added = {**item, "status": "in_progress", "content": []}
        yield event("response.output_item.added", output_index=0, item=added)
        where: dict[str, object] = {"item_id": item_id, "output_index": 0, "content_index": 0}
        if reply.refusal is not None:
            empty: dict[str, object] = {"type": "refusal", "refusal": ""}
            yield event("response.content_part.added", **where, part=empty)
            for piece in reply.pieces:
                yield event("response.refusal.delta", **where, delta=piece)
            yield event("response.refusal.done", **where, refusal=reply.refusal)
            done = {"type": "refusal", "refusal": reply.refusal}
            yield event("response.content_part.done", **where, part=done)
        else:
            part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
            yield event("response.content_part.added", **where, part=part)
            for piece in reply.pieces:
                yield event("response.output_text.delta", **where, delta=piece, logprobs=[])
            yield event("response.output_text.done", **where, text=reply.text, logprobs=[])
            yield event("response.content_part.done", **where, part={**part, "text": reply.text})
    last = len(items) - 1
    yield event("response.output_item.done", output_index=last, item=items[last])
    terminal = "response.incomplete" if final["status"] == "incomplete" else "response.completed"
    yield event(terminal, response=final)


def _response_object(rid: str, model: str, payload: dict[str, Any]) -> dict[str, object]:
    """The Responses API ``response`` object while in progress (no output, no usage)."""
    tools = payload.get("tools")
    text = payload.get("text")
    return {
        "id": rid,
        "object": "response",
        "created_at": int(time.time()),
        "status": "in_progress",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": payload.get("instructions"),
        "max_output_tokens": payload.get("max_output_tokens"),
        "model": model,
        "output": [],
        "parallel_tool_calls": True,
        "previous_response_id": payload.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "auto",
        "store": payload.get("store", True),
        "temperature": payload.get("temperature", 1.0),
        "text": {**_TEXT_FORMAT, **text} if isinstance(text, dict) else _TEXT_FORMAT,
        "tool_choice": payload.get("tool_choice", "auto"),
        "tools": tools if isinstance(tools, list) else [],
        "top_p": payload.get("top_p", 1.0),
        "truncation": "disabled",
        "usage": None,
        "user": None,
        "metadata": payload.get("metadata") or {},
    }


def _chat_usage(prompt: int, completion: int) -> dict[str, object]:
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
