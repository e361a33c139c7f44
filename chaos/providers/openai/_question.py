"""Reading an OpenAI request's conversation: Chat messages and Responses items.

:meth:`~chaos.providers.openai._dialect.OpenAIDialect.question` normalises a request
into a :class:`~chaos.providers._conversation.Conversation` with these.
"""

from __future__ import annotations

from typing import Any, Literal

from chaos.providers._conversation import Conversation, canonical_args, joined_text, media_part

__all__ = ["chat_conversation", "responses_conversation"]


_ROLES: dict[object, Literal["user", "assistant", "tool"]] = {
    "assistant": "assistant",
    "tool": "tool",
    "function": "tool",
}


def _content(
    conv: Conversation, role: Literal["user", "assistant", "tool"], content: object
) -> None:
    """A message's content: a string, or parts (chat ``text``/``image_url``/..., Responses
    ``input_text``/``output_text``/``input_image``/...); a tool's, its text as a result."""
    if role == "tool":
        conv.add("tool", ("result", (joined_text(content) or "").strip()))
        return
    if isinstance(content, str):
        conv.add_text(role, content)
        return
    for part in content if isinstance(content, list) else ():
        if not isinstance(part, dict):
            continue
        kind = str(part.get("type", ""))
        if "text" in part and kind in ("text", "input_text", "output_text", "refusal"):
            conv.add_text(role, part["text"])
        elif kind == "refusal":
            conv.add_text(role, part.get("refusal"))
        elif kind in ("image_url", "input_image", "input_audio", "input_file", "file"):
            nested = part.get(kind)
            value: dict[str, Any] = nested if isinstance(nested, dict) else part
            conv.add(
                role,
                media_part(
                    value.get("url")
                    or value.get("image_url")
                    or value.get("data")
                    or value.get("file_data")
                    or value.get("file_id")
                    or value
                ),
            )
        else:
            conv.add(role, ("other", kind, canonical_args(part)))


def chat_conversation(conv: Conversation, data: dict[str, Any]) -> None:
    """Add a Chat Completions request's ``messages`` (system, turns, tool calls) to ``conv``."""
    messages = data.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role in ("system", "developer"):
            conv.add_system(joined_text(message.get("content")))
            continue
        who = _ROLES.get(role, "user")
        _content(conv, who, message.get("content"))
        calls = message.get("tool_calls")
        legacy = message.get("function_call")
        for call in [*(calls if isinstance(calls, list) else ()), legacy]:
            if not isinstance(call, dict):
                continue
            function = call.get("function", call)
            if isinstance(function, dict):
                conv.add(
                    "assistant",
                    ("call", str(function.get("name")), canonical_args(function.get("arguments"))),
                )


def responses_conversation(conv: Conversation, data: dict[str, Any]) -> None:
    """Add a Responses request's ``instructions``, ``previous_response_id`` and ``input``
    items to ``conv``."""
    conv.add_system(data.get("instructions"))
    previous = data.get("previous_response_id")
    if isinstance(previous, str):
        conv.extra.append(("previous", previous))
    items = data.get("input")
    if isinstance(items, str):
        conv.add_text("user", items)
        return
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "message" or "role" in item:
            role = item.get("role")
            if role in ("system", "developer"):
                conv.add_system(joined_text(item.get("content")))
            else:
                _content(conv, _ROLES.get(role, "user"), item.get("content"))
        elif kind == "function_call":
            conv.add(
                "assistant", ("call", str(item.get("name")), canonical_args(item.get("arguments")))
            )
        elif kind == "function_call_output":
            conv.add("tool", ("result", (joined_text(item.get("output")) or "").strip()))
        elif kind != "reasoning":
            conv.add("user", ("other", str(kind), canonical_args(item)))
