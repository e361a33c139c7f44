"""The OpenAI fake: the API's server, built on :mod:`._dialect`.

It validates requests the way the API does and answers deterministically: the
text echoes the last user turn (see :func:`chaos.providers._fake.answer_text`), a
function tool is called when tools are given, JSON response formats get JSON,
embeddings are unit vectors hashed from the text, usage adds up, scripted replies
come first. Every byte it sends is rendered by
:class:`~chaos.providers.openai._dialect.OpenAIDialect`.
"""

from __future__ import annotations

import hashlib
import json
import math
import struct
from collections.abc import Callable, Mapping
from typing import Any

from chaos.providers import _fake, _sse
from chaos.providers._base import Fake, Request, Response
from chaos.providers._replies import ReplyQuery
from chaos.providers.openai._dialect import (
    CHAT,
    COMPLETIONS,
    EMBEDDINGS,
    RESPONSES,
    OpenAIDialect,
    bad_json,
    fail,
    json_object,
    missing,
    ok,
)
from chaos.providers.openai._render import Reply, ToolCall

__all__ = ["MODELS", "OpenAIFake"]

MODELS: tuple[str, ...] = (
    "gpt-4o",
    "gpt-4o-mini",
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-5",
    "gpt-5-mini",
    "o3",
    "o4-mini",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "text-embedding-ada-002",
    "gpt-3.5-turbo-instruct",
)
"""The model ids the fake's ``GET /v1/models`` lists (any model id is accepted)."""

_EMBEDDING_DIMENSIONS = {"text-embedding-3-large": 3072}

_NO_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header"
    " using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with"
    " blank username) if you're accessing the API from your browser and are prompted for a"
    " username and password. You can obtain an API key from"
    " https://platform.openai.com/account/api-keys."
)


class OpenAIFake(Fake[OpenAIDialect]):
    """The OpenAI API's fake: validation, answers, models, embeddings; bytes by its dialect."""

    name = "openai"

    async def serve(self, request: Request) -> Response:
        """Answer as the OpenAI API would: validated, deterministic, usage that adds up."""
        self.dialect.reset_stream()
        info = self.dialect.identify(request.method, request.path, request.body)
        if info.operation is None:
            route = request.path.split("?", 1)[0]
            return fail(404, f"Invalid URL ({request.method} {route})")
        denied = self._check_auth(request.header("authorization"))
        if denied is not None:
            return denied
        if info.operation == "models.list":
            return ok({"object": "list", "data": [_model_object(m) for m in MODELS]})
        if info.operation == "models.retrieve":
            return ok(_model_object(info.model or ""))
        payload = json_object(request.body)
        if payload is None:
            return bad_json()
        model = payload.get("model")
        if not isinstance(model, str) or not model:
            if info.operation == CHAT:
                return fail(400, "you must provide a model parameter")
            return missing("model")
        handler: Callable[[dict[str, Any], str, bool], Response] = {
            CHAT: self._chat,
            RESPONSES: self._responses,
            EMBEDDINGS: self._embeddings,
            COMPLETIONS: self._completions,
        }[info.operation]
        return handler(payload, model, info.stream)

    def _check_auth(self, value: str | None) -> Response | None:
        key = value[7:].strip() if value and value[:7].lower() == "bearer " else ""
        if not key:
            return fail(401, _NO_KEY_MESSAGE)
        if self.dialect.api_key is not None and key != self.dialect.api_key:
            return fail(
                401,
                f"Incorrect API key provided: {_mask(key)}. You can find your API key at"
                " https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
                extra=[("www-authenticate", 'Bearer realm="OpenAI API"')],
            )
        return None

    def _scripted(
        self, operation: str, model: str, turns: list[dict[str, Any]], tools: object, limit: object
    ) -> Reply | None:
        """The first scripted reply that matches the request, rendered; None if none does."""
        if not len(self.dialect.replies):
            return None
        user = [_text_of(t.get("content")) for t in turns if t.get("role", "user") == "user"]
        functions = (
            [
                t["function"]
                for t in tools or []
                if isinstance(t, dict) and isinstance(t.get("function"), dict)
            ]
            if isinstance(tools, list)
            else []
        )
        names = tuple(str(f.get("name")) for f in functions)
        query = ReplyQuery(operation, model, user[-1] if user else "", names)
        scripted = self.dialect.replies.take(query)
        if scripted is None:
            return None
        texts = [_text_of(t.get("content")) for t in turns]
        counted = sum(_fake.count_tokens(t) for t in texts) + 3 * len(turns)
        return self.dialect.answer_from_reply(scripted, input_tokens=counted, limit=limit)

    def _chat(self, payload: dict[str, Any], model: str, stream: bool) -> Response:
        messages = payload.get("messages")
        if messages is None:
            return missing("messages")
        if not isinstance(messages, list) or not messages:
            return fail(
                400,
                "Invalid 'messages': empty array. Expected an array with minimum length 1,"
                " but got an empty array instead.",
                param="messages",
                code="empty_array",
            )
        turns = [m for m in messages if isinstance(m, dict)]
        limit = payload.get("max_completion_tokens", payload.get("max_tokens"))
        fmt = payload.get("response_format")
        if isinstance(fmt, dict) and isinstance(fmt.get("json_schema"), dict):
            fmt = {"type": fmt.get("type"), **fmt["json_schema"]}
        tools = payload.get("tools")
        reply = self._scripted(CHAT, model, turns, tools, limit) or _reply(
            turns, tools, payload.get("tool_choice"), limit, fmt
        )
        reply = self.dialect.content_fault(reply)
        return self.dialect.render_chat(
            reply, model=model, stream=stream, stream_options=payload.get("stream_options")
        )

    def _responses(self, payload: dict[str, Any], model: str, stream: bool) -> Response:
        raw = payload.get("input")
        if raw is None:
            return missing("input")
        if isinstance(raw, str):
            raw = [{"role": "user", "content": raw}]
        if not isinstance(raw, list):
            return fail(400, "Invalid type for 'input': expected one of a string or an array.")
        items: list[Any] = raw
        turns = [i for i in items if isinstance(i, dict)]
        instructions = payload.get("instructions")
        if isinstance(instructions, str):
            turns.insert(0, {"role": "system", "content": instructions})
        tools = payload.get("tools")
        # Responses function tools are flat ({"type": "function", "name", "parameters"}).
        nested = [
            {"type": "function", "function": t}
            for t in (tools if isinstance(tools, list) else [])
            if isinstance(t, dict) and t.get("type") == "function"
        ]
        text = payload.get("text")
        fmt = text.get("format") if isinstance(text, dict) else None
        limit = payload.get("max_output_tokens")
        reply = self._scripted(RESPONSES, model, turns, nested, limit) or _reply(
            turns, nested, payload.get("tool_choice"), limit, fmt
        )
        reply = self.dialect.content_fault(reply)
        return self.dialect.render_response(reply, model=model, payload=payload, stream=stream)

    def _embeddings(self, payload: dict[str, Any], model: str, stream: bool) -> Response:
        raw = payload.get("input")
        if raw is None:
            return missing("input")
        inputs: list[Any] = raw if isinstance(raw, list) and raw and not _is_tokens(raw) else [raw]
        dims = payload.get("dimensions")
        size = (
            dims if isinstance(dims, int) and dims > 0 else _EMBEDDING_DIMENSIONS.get(model, 1536)
        )
        as_base64 = payload.get("encoding_format") == "base64"
        vectors = []
        tokens = 0
        for value in inputs:
            text = value if isinstance(value, str) else json.dumps(value)
            tokens += len(value) if _is_tokens(value) else _fake.count_tokens(text)
            vectors.append(_embedding(text, size))
        return self.dialect.render_embeddings(
            vectors, model=model, tokens=tokens, as_base64=as_base64
        )

    def _completions(self, payload: dict[str, Any], model: str, stream: bool) -> Response:
        prompt = payload.get("prompt")
        if prompt is None:
            return missing("prompt")
        text = prompt if isinstance(prompt, str) else " ".join(map(str, prompt))
        reply = _reply([{"role": "user", "content": text}], None, None, payload.get("max_tokens"))
        return self.dialect.render_completion(reply, model=model, stream=stream)


# -- the fake's answers --------------------------------------------------------------


def _text_of(content: object) -> str:
    """The text of a message's ``content``: a string or a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _reply(
    turns: list[dict[str, Any]],
    tools: object,
    choice: object,
    limit: object,
    fmt: object = None,
) -> Reply:
    """The deterministic answer to a conversation: echo the last user turn, or call a tool.

    A function tool is called when tools are given, ``tool_choice`` is not ``none``
    and the last turn is not a tool result (so agent loops end after one call).
    With a JSON response format (``{"type": "json_schema", "schema": ...}`` or
    ``{"type": "json_object"}``) the answer is JSON: the schema's example, each
    string the echo.
    """
    texts = [_text_of(t.get("content")) for t in turns]
    user = [_text_of(t.get("content")) for t in turns if t.get("role", "user") == "user"]
    seed = user[-1] if user else ""
    # Every message costs a few tokens of framing, as in the real API.
    input_tokens = sum(_fake.count_tokens(t) for t in texts) + 3 * len(turns)
    tool = _pick_tool(tools, choice, turns[-1] if turns else {}, seed)
    if tool is not None:
        pieces = _fake.tokenize(tool.arguments)
        return Reply("", tool, pieces, False, input_tokens)
    budget = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
    answer = _fake.answer_text(seed)
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind == "json_schema":
        schema = fmt.get("schema") if isinstance(fmt, dict) else None
        root = schema if isinstance(schema, dict) else {}
        answer = _sse.json_data(_fake.schema_example(root, root, answer))
    elif kind == "json_object":
        answer = _sse.json_data({"answer": answer})
    pieces, truncated = _fake.limit_tokens(answer, budget)
    return Reply("".join(pieces), None, pieces, truncated, input_tokens)


def _pick_tool(tools: object, choice: object, last: dict[str, Any], seed: str) -> ToolCall | None:
    if not isinstance(tools, list) or not tools or choice == "none":
        return None
    if last.get("role") == "tool" or last.get("type") == "function_call_output":
        return None
    functions = [
        t["function"] for t in tools if isinstance(t, dict) and isinstance(t.get("function"), dict)
    ]
    if isinstance(choice, dict):
        nested = choice.get("function")
        forced = choice.get("name") or (nested.get("name") if isinstance(nested, dict) else None)
        functions = [f for f in functions if f.get("name") == forced] or functions
    if not functions:
        return None
    schema = functions[0].get("parameters")
    args = _fake.tool_arguments(schema if isinstance(schema, Mapping) else {}, seed)
    return ToolCall(str(functions[0].get("name", "tool")), _sse.json_data(args))


def _embedding(text: str, size: int) -> list[float]:
    """A deterministic unit vector of ``size`` floats derived from ``text``."""
    raw = b""
    counter = 0
    while len(raw) < size * 2:
        raw += hashlib.sha256(f"{counter}\x00{text}".encode()).digest()
        counter += 1
    values = [(int.from_bytes(raw[2 * i : 2 * i + 2], "big") - 32768) / 32768 for i in range(size)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    # Round through float32 so the JSON and base64 encodings carry the same numbers.
    return [struct.unpack("<f", struct.pack("<f", v / norm))[0] for v in values]


def _model_object(model: str) -> dict[str, object]:
    created = 1_700_000_000 + int(hashlib.sha256(model.encode()).hexdigest()[:6], 16) % 10**7
    return {"id": model, "object": "model", "created": created, "owned_by": "system"}


def _is_tokens(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, int) for v in value)


def _mask(key: str) -> str:
    """OpenAI's masking of a rejected key: first 8 characters, stars, last 4."""
    if len(key) <= 12:
        return key[:2] + "*" * max(len(key) - 4, 0) + key[-2:]
    return key[:8] + "*" * (len(key) - 12) + key[-4:]
