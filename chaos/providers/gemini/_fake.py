"""The Gemini fake: the Generative Language API's server, built on :mod:`._dialect`.

It validates requests the way the API does (a key, JSON, ``contents``) and answers
deterministically: the text echoes the last user text (see
:func:`chaos.providers._fake.answer_text`), the first declared function is called
when tools are given, JSON response schemas get JSON, usage adds up, scripted
replies come first. Every byte it sends is rendered by
:class:`~chaos.providers.gemini._dialect.GeminiDialect`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from chaos.providers import _fake
from chaos.providers._base import Fake, Request, Response
from chaos.providers._replies import ReplyQuery
from chaos.providers.gemini._dialect import (
    ACTION,
    COUNT,
    STREAM,
    GeminiDialect,
    fail,
    get_field,
    ok,
)
from chaos.providers.gemini._errors import error_info
from chaos.providers.gemini._render import Reply, spaced, text_tokens

__all__ = ["MODELS", "GeminiFake"]

MODELS: tuple[str, ...] = (
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.0-flash",
)
"""The model ids the fake's ``GET /v1beta/models`` lists (any model id is accepted)."""

_NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity)."
    " Please use API Key or other form of API consumer identity to call this API."
)


class GeminiFake(Fake[GeminiDialect]):
    """The Gemini API's fake: validation, answers, models, token counts; bytes by its dialect."""

    name = "gemini"

    async def serve(self, request: Request) -> Response:
        """Answer as the Gemini API would: validated, deterministic, usage that adds up."""
        info = self.dialect.identify(request.method, request.path, request.body)
        route, _, query = request.path.partition("?")
        params = parse_qs(query)
        key = request.header("x-goog-api-key") or (params.get("key") or [""])[0]
        if not key:
            return fail(403, "PERMISSION_DENIED", _NO_KEY, [error_info("CREDENTIALS_MISSING")])
        if self.dialect.api_key is not None and key != self.dialect.api_key:
            return self.dialect.error("unauthorized")
        if info.operation is None:
            found = ACTION.fullmatch(route)
            if found is not None:
                return fail(
                    404,
                    "NOT_FOUND",
                    f"models/{found['model']} is not found for API version v1beta, or is not"
                    f" supported for {found['method']}. Call ListModels to see the list of"
                    " available models and their supported methods.",
                )
            return fail(404, "NOT_FOUND", f"Method not found: {request.method} {route}")
        if info.operation == "models.list":
            return ok({"models": [_model_object(m) for m in MODELS]})
        if info.operation == "models.get":
            return ok(_model_object(info.model or ""))
        try:
            payload = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return fail(400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token.")
        if not isinstance(payload, dict):
            return fail(
                400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object."
            )
        model = info.model or "gemini-2.5-flash"
        if info.operation == COUNT:
            inner = get_field(payload, "generateContentRequest")
            source = inner if isinstance(inner, dict) else payload
            tokens = _prompt_tokens(source)
            return ok({"totalTokens": tokens, "promptTokensDetails": [text_tokens(tokens)]})
        contents = payload.get("contents")
        if not isinstance(contents, list) or not contents:
            return fail(
                400,
                "INVALID_ARGUMENT",
                "* GenerateContentRequest.contents: contents is not specified\n",
            )
        reply = self._scripted(info.operation, model, payload) or _reply(payload)
        reply = self.dialect.content_fault(reply)
        return self.dialect.render_generate(
            reply, model=model, stream=info.operation == STREAM, sse=params.get("alt") == ["sse"]
        )

    def _scripted(self, operation: str | None, model: str, payload: dict[str, Any]) -> Reply | None:
        """The first scripted reply that matches the request, rendered; None if none does."""
        if not len(self.dialect.replies):
            return None
        user = [
            text for role, text, _ in _texts(payload.get("contents")) if role == "user" and text
        ]
        names = tuple(str(d.get("name")) for d in _declarations(payload))
        scripted = self.dialect.replies.take(
            ReplyQuery(operation, model, user[-1] if user else "", names)
        )
        if scripted is None:
            return None
        limit = get_field(get_field(payload, "generationConfig"), "maxOutputTokens")
        return self.dialect.answer_from_reply(
            scripted, prompt_tokens=_prompt_tokens(payload), limit=limit
        )


# -- the fake's answers --------------------------------------------------------------


def _texts(contents: object) -> list[tuple[str, str, bool]]:
    """(role, text, is_function_response) for every content of a request."""
    found: list[tuple[str, str, bool]] = []
    for content in contents if isinstance(contents, list) else []:
        if not isinstance(content, dict):
            continue
        parts = content.get("parts")
        parts = parts if isinstance(parts, list) else []
        text = "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
        response = any(isinstance(p, dict) and get_field(p, "functionResponse") for p in parts)
        found.append((str(content.get("role", "user")), text, response))
    return found


def _prompt_tokens(payload: dict[str, Any]) -> int:
    texts = [text for _, text, _ in _texts(payload.get("contents"))]
    system = get_field(payload, "systemInstruction")
    if isinstance(system, dict):
        texts.extend(text for _, text, _ in _texts([system]))
    return sum(_fake.count_tokens(t) for t in texts)


def _lower_types(schema: object) -> object:
    # Gemini schemas may spell types the OpenAPI-enum way ("STRING"); JSON Schema is lower case.
    if isinstance(schema, dict):
        return {
            k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def _declarations(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The function declarations of a request's tools."""
    return [
        d
        for tool in payload.get("tools") or []
        if isinstance(tool, dict)
        for d in get_field(tool, "functionDeclarations") or []
        if isinstance(d, dict)
    ]


def _reply(payload: dict[str, Any]) -> Reply:
    """Echo the last user text, or call the first declared function (see the OpenAI fake)."""
    turns = _texts(payload.get("contents"))
    user = [text for role, text, _ in turns if role == "user" and text]
    seed = user[-1] if user else ""
    prompt_tokens = _prompt_tokens(payload)
    mode = get_field(get_field(get_field(payload, "toolConfig"), "functionCallingConfig"), "mode")
    declarations = _declarations(payload)
    disabled = isinstance(mode, str) and mode.upper() == "NONE"
    if declarations and not disabled and turns and not turns[-1][2]:
        schema = _lower_types(
            get_field(declarations[0], "parameters")
            or get_field(declarations[0], "parametersJsonSchema")
        )
        args = _fake.tool_arguments(schema if isinstance(schema, dict) else {}, seed)
        call: dict[str, object] = {"name": str(declarations[0].get("name", "tool")), "args": args}
        return Reply(_fake.tokenize(spaced(args)), call, "STOP", prompt_tokens)
    config = get_field(payload, "generationConfig")
    limit = get_field(config, "maxOutputTokens")
    budget = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
    answer = _fake.answer_text(seed)
    schema = get_field(config, "responseJsonSchema") or get_field(config, "responseSchema")
    if isinstance(schema, dict):
        lowered = _lower_types(schema)
        root = lowered if isinstance(lowered, dict) else {}
        answer = spaced(_fake.schema_example(root, root, answer))
    elif get_field(config, "responseMimeType") == "application/json":
        answer = spaced({"answer": answer})
    pieces, truncated = _fake.limit_tokens(answer, budget)
    return Reply(pieces, None, "MAX_TOKENS" if truncated else "STOP", prompt_tokens)


def _model_object(model: str) -> dict[str, object]:
    return {
        "name": f"models/{model}",
        "version": "001",
        "displayName": model.replace("-", " ").title(),
        "description": f"Fake {model} served by pytest-llm-chaos",
        "inputTokenLimit": 1048576,
        "outputTokenLimit": 65536,
        "supportedGenerationMethods": ["generateContent", "countTokens"],
        "temperature": 1,
        "topP": 0.95,
        "topK": 64,
        "maxTemperature": 2,
        "thinking": True,
    }
