"""The Gemini dialect: Google's Generative Language API (``v1beta``), as google-genai uses it.

Bytes follow ``reference/providers.md`` §3: success and error bodies are JSON
with a 2-space indent; errors are ``{"error": {code, message, status, details}}``
and a 429 carries its delay only in a ``RetryInfo`` detail (never a
``Retry-After`` header). ``:streamGenerateContent?alt=sse`` streams
``data: {...}`` frames ending in CRLF CRLF, JSON spaced as ``"key": value``,
with no ``event:`` line and no terminator: the last chunk has a ``finishReason``.
Without ``alt=sse`` the stream is one JSON array sent element by element.

The error catalogue is :mod:`._errors`; an answer before rendering and its stream's
chunks are :mod:`._render`. The fake (:mod:`chaos.providers.gemini._fake`) decides
what to answer; this dialect turns it into the API's exact bytes.

Point the official SDK at the fake with :attr:`GeminiDialect.env`
(``GOOGLE_GEMINI_BASE_URL`` is the host only: the SDK adds ``/v1beta``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import secrets
from collections.abc import Mapping
from typing import Any, ClassVar, Literal

from chaos._errors import ConfigError
from chaos.providers import _sse
from chaos.providers._base import (
    CallInfo,
    Dialect,
    Operation,
    Response,
    unknown_choice,
)
from chaos.providers._conversation import (
    Conversation,
    Question,
    canonical_args,
    media_part,
)
from chaos.providers._replies import CONTENT_FAULT
from chaos.providers._replies import Reply as Scripted
from chaos.providers._tokens import limit_tokens, tokenize
from chaos.providers.gemini._errors import (
    ERRORS,
    GFE_502,
    ErrorSpec,
    error_body,
    error_object,
    proto_duration,
)
from chaos.providers.gemini._render import Reply, spaced, stream_frames

__all__ = [
    "ACTION",
    "COUNT",
    "GENERATE",
    "STREAM",
    "GeminiDialect",
    "fail",
    "get_field",
    "ok",
]

_JSON = "application/json; charset=UTF-8"
GENERATE = "models.generate_content"
STREAM = "models.generate_content_stream"
COUNT = "models.count_tokens"

_METHODS = {
    "generateContent": GENERATE,
    "streamGenerateContent": STREAM,
    "countTokens": COUNT,
}
ACTION = re.compile(r"/(?:v1beta|v1|v1alpha)/models/(?P<model>[^/:]+):(?P<method>\w+)")
_LIST = re.compile(r"/(?:v1beta|v1|v1alpha)/models")
_GET = re.compile(r"/(?:v1beta|v1|v1alpha)/models/(?P<model>[^/:]+)")


class GeminiDialect(Dialect):
    """Google's Gemini API, and a fake of it for the google-genai SDK and plain HTTP clients.

    Gemini answers carry no request-id header (the body's ``responseId`` names
    the answer), so :attr:`request_id_header` is empty.

    :param api_key: the only key the fake accepts; None accepts any non-empty key.
    :param token_rate: streamed chunks per second; None streams as fast as possible.
    """

    name = "gemini"
    operations = (
        Operation(GENERATE, "POST", "/v1beta/models/{model}:generateContent"),
        Operation(STREAM, "POST", "/v1beta/models/{model}:streamGenerateContent", streams=True),
        Operation(COUNT, "POST", "/v1beta/models/{model}:countTokens"),
        Operation("models.list", "GET", "/v1beta/models"),
        Operation("models.get", "GET", "/v1beta/models/{model}"),
    )
    auth_headers = ("x-goog-api-key",)
    request_id_header = ""
    host = "generativelanguage.googleapis.com"
    env: ClassVar[Mapping[str, str]] = {
        "GOOGLE_GEMINI_BASE_URL": "{url}",  # google-genai (and the frameworks on it)
        "GEMINI_API_BASE": "{url}/v1beta",  # litellm
        # google-genai, litellm, LangChain, pydantic-ai, LlamaIndex: one key, so
        # google-genai does not warn "Both GOOGLE_API_KEY and GEMINI_API_KEY are set"
        "GOOGLE_API_KEY": "chaos-dummy-gemini-key",
        "GOOGLE_GENERATIVE_AI_API_KEY": "chaos-dummy-gemini-key",  # @ai-sdk/google
    }
    env_unset: ClassVar[tuple[str, ...]] = (
        "GEMINI_API_KEY",
        "GOOGLE_GENAI_USE_VERTEXAI",
        "GOOGLE_GENAI_USE_ENTERPRISE",
    )

    def __init__(self, *, api_key: str | None = None, token_rate: float | None = None) -> None:
        if token_rate is not None and not (math.isfinite(token_rate) and token_rate > 0):
            raise ConfigError(
                f"gemini dialect: token_rate must be a positive number of chunks per second,"
                f" got {token_rate!r}"
            )
        self.api_key = api_key
        self.token_rate = token_rate

    # -- identification ----------------------------------------------------

    def identify(self, method: str, path: str, body: bytes) -> CallInfo:
        """Tell the operation (``models.generate_content``, ...), stream flag and model.

        Streaming is the method (``:streamGenerateContent``), not a body field.
        """
        route = path.split("?", 1)[0].rstrip("/")
        verb = method.upper()
        found = ACTION.fullmatch(route)
        if found is not None and verb == "POST":
            operation = _METHODS.get(found["method"])
            return CallInfo(operation, operation == STREAM, found["model"] if operation else None)
        if verb == "GET" and _LIST.fullmatch(route):
            return CallInfo("models.list", False, None)
        found = _GET.fullmatch(route)
        if found is not None and verb == "GET":
            return CallInfo("models.get", False, found["model"])
        return CallInfo(None, False, None)

    def question(self, info: CallInfo, body: bytes) -> Question | None:
        """The conversation of ``generateContent``/``streamGenerateContent``/``countTokens``
        (``systemInstruction``, ``contents``, tool names), normalised; camelCase and
        snake_case fields alike."""
        if info.operation not in (GENERATE, STREAM, COUNT):
            return None
        try:
            data = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        nested = get_field(data, "generateContentRequest")
        if isinstance(nested, dict):  # countTokens may wrap a whole request
            data = nested
        return _conversation(data).question(
            "count_tokens" if info.operation == COUNT else "generate"
        )

    # -- errors ------------------------------------------------------------

    def error_kinds(self) -> tuple[str, ...]:
        """Every fault kind :meth:`error` renders."""
        return tuple(ERRORS)

    def _spec(self, kind: str) -> ErrorSpec:
        spec = ERRORS.get(kind)
        if spec is None:
            raise unknown_choice("error kind for dialect 'gemini'", kind, ERRORS)
        return spec

    def _error_object(
        self, kind: str, retry_after: float | None, retry_after_ms: int | None, message: str | None
    ) -> tuple[ErrorSpec, dict[str, object]]:
        spec = self._spec(kind)
        details = list(spec.details)
        delay = spec.retry_delay
        if retry_after_ms is not None:
            delay = proto_duration(retry_after_ms / 1000)
        elif retry_after is not None:
            delay = proto_duration(retry_after)
        if delay is not None:
            retry: dict[str, object] = {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": delay,
            }
            details.append(retry)
        return spec, error_object(
            spec.code, spec.message if message is None else message, spec.status, details
        )

    def error(
        self,
        kind: str,
        *,
        retry_after: float | None = None,
        retry_after_ms: int | None = None,
        should_retry: bool | None = None,
        message: str | None = None,
    ) -> Response:
        """Gemini's exact answer for ``kind``; :meth:`error_kinds` lists the choices.

        ``unauthorized`` is what Gemini really answers for a bad API key: 400
        ``INVALID_ARGUMENT`` with reason ``API_KEY_INVALID``. ``bad_gateway`` is
        Google's HTML 502 page.

        :param retry_after: seconds, put in a ``RetryInfo.retryDelay`` detail (Gemini
            sends no ``Retry-After`` header).
        :param retry_after_ms: the same in milliseconds; wins over ``retry_after``.
        :param should_retry: adds ``x-should-retry: true|false`` (for clients that read it).
        :param message: replaces the error message.
        :raises ConfigError: ``kind`` is unknown; the message lists the valid kinds.
        """
        spec, error = self._error_object(kind, retry_after, retry_after_ms, message)
        if kind == "bad_gateway" and message is None and retry_after is None:
            headers = [
                ("content-type", "text/html; charset=UTF-8"),
                ("referrer-policy", "no-referrer"),
            ]
            response = Response(502, headers, GFE_502.encode())
        else:
            body = (_sse.indented_json(error, 2) + "\n").encode()
            response = Response(spec.code, [("content-type", _JSON), *_google_headers()], body)
        if should_retry is not None:
            response.headers.append(("x-should-retry", "true" if should_retry else "false"))
        return response

    def stream_error(
        self, kind: str, *, operation: str | None, message: str | None = None
    ) -> bytes:
        """``data: {"error": {...}}`` in Gemini's CRLF framing; the SDK raises ``APIError``."""
        _, error = self._error_object(kind, None, None, message)
        return _sse.frame(spaced(error), newline="\r\n")

    def is_terminal_event(self, frame: bytes, *, operation: str | None) -> bool:
        """The chunk whose candidate has a ``finishReason`` (Gemini sends no terminator)."""
        try:
            data = _sse.parse_frame(frame).json()
        except ValueError:
            return False
        candidates = data.get("candidates") if isinstance(data, dict) else None
        return isinstance(candidates, list) and any(
            isinstance(c, dict) and "finishReason" in c for c in candidates
        )

    # -- rendering answers -------------------------------------------------

    def content_fault(self, reply: Reply) -> Reply:
        """``reply`` as the active content fault, if any, changes it (noted in the book)."""
        fault = CONTENT_FAULT.get()
        if fault is None:
            return reply
        if fault.kind == "malformed_tool_args":
            if reply.call is None:
                return reply  # nothing to break: no function call in this answer
            broken = fault.cut_arguments(spaced(reply.call.get("args")))
            self.replies.delivered(fault.kind, broken)
            message = f"Malformed function call: {reply.call.get('name')}({broken}"
            return dataclasses.replace(
                reply, pieces=[], call=None, more=(), finish="MALFORMED_FUNCTION_CALL", bare=message
            )
        if fault.kind == "refusal":
            self.replies.delivered(fault.kind, "")
            return dataclasses.replace(
                reply, pieces=[], call=None, more=(), finish="SAFETY", bare="", output_override=None
            )
        pieces = reply.pieces[: fault.tokens] if fault.kind == "truncate_answer" else []
        finish = "MAX_TOKENS" if fault.kind == "truncate_answer" else "STOP"
        if reply.call is not None:
            pieces = []  # a cut function call arrives as no call at all
        self.replies.delivered(fault.kind, "".join(pieces))
        return dataclasses.replace(
            reply, pieces=pieces, call=None, more=(), finish=finish, output_override=None
        )

    def answer_from_reply(self, scripted: Scripted, *, prompt_tokens: int, limit: object) -> Reply:
        """The :class:`Reply` a scripted reply gives (cut at ``limit`` output tokens).

        :param prompt_tokens: the prompt's tokens, unless the scripted usage says otherwise.
        """
        prompt_tokens = scripted.usage.get("input_tokens", prompt_tokens)
        output = scripted.usage.get("output_tokens")
        if scripted.calls:
            calls: list[dict[str, object]] = [
                {"name": c.name, "args": c.arguments_object()} for c in scripted.calls
            ]
            first, *rest = calls
            finish = scripted.stop_for("gemini")
            pieces = tokenize(spaced(first["args"]))
            return Reply(pieces, first, finish, prompt_tokens, output, more=tuple(rest))
        budget = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
        pieces, truncated = limit_tokens(scripted.text, budget)
        finish = scripted.stop_for("gemini", truncated=truncated)
        return Reply(pieces, None, finish, prompt_tokens, output)

    def render_generate(self, reply: Reply, *, model: str, stream: bool, sse: bool) -> Response:
        """A ``generateContent`` answer of ``reply``, or its stream (SSE when ``sse``, else
        one JSON array sent element by element)."""
        rid = secrets.token_urlsafe(16)[:22]
        if not stream:
            candidate = reply.candidate()
            return ok(
                {
                    "candidates": [candidate],
                    "usageMetadata": reply.usage(),
                    "modelVersion": model,
                    "responseId": rid,
                }
            )
        frames = stream_frames(reply, model, rid, sse=sse)
        headers = [
            ("content-type", "text/event-stream" if sse else _JSON),
            ("content-disposition", "attachment"),
            *_google_headers(),
        ]
        delay = 1 / self.token_rate if self.token_rate else 0.0
        return Response(200, headers, events=_sse.pace(frames, delay))


# -- HTTP answers ----------------------------------------------------------------------


def _google_headers() -> list[tuple[str, str]]:
    return [
        ("vary", "Origin, X-Origin, Referer"),
        ("server", "scaffolding on HTTPServer2"),
        ("x-xss-protection", "0"),
        ("x-frame-options", "SAMEORIGIN"),
        ("x-content-type-options", "nosniff"),
        ("server-timing", "gfet4t7; dur=7"),
    ]


def ok(body: dict[str, object]) -> Response:
    """A 200 JSON answer (2-space indent) with Google's headers."""
    headers = [("content-type", _JSON), *_google_headers()]
    return Response(200, headers, _sse.indented_json(body, 2).encode())


def fail(
    code: int, status: str, message: str, details: list[dict[str, object]] | None = None
) -> Response:
    """A Google API error answer: ``code``, ``status``, ``message`` and ``details``."""
    headers = [("content-type", _JSON), *_google_headers()]
    return Response(code, headers, error_body(code, message, status, details or []))


def get_field(obj: object, name: str) -> Any:
    """``obj[name]`` under its lowerCamelCase or snake_case name (the API accepts both)."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    return obj.get(re.sub(r"[A-Z]", lambda m: "_" + m[0].lower(), name))


def _conversation(data: Mapping[str, Any]) -> Conversation:
    """A Gemini request in the dialect-neutral form."""
    conv = Conversation()
    system = get_field(data, "systemInstruction")
    if isinstance(system, str):
        conv.add_system(system)
    elif isinstance(system, dict):  # each part a block, as Anthropic's system blocks
        parts = system.get("parts")
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, dict):
                conv.add_system(part.get("text"))
    contents = data.get("contents")
    if isinstance(contents, dict):
        contents = [contents]
    for content in contents if isinstance(contents, list) else ():
        if not isinstance(content, dict):
            continue
        role: Literal["user", "assistant"] = (
            "assistant" if content.get("role") == "model" else "user"
        )
        parts = content.get("parts")
        for part in parts if isinstance(parts, list) else ():
            if isinstance(part, dict) and not part.get("thought"):
                _part(conv, role, part)
    tools = data.get("tools")
    for tool in tools if isinstance(tools, list) else ():
        if not isinstance(tool, dict):
            continue
        declarations = get_field(tool, "functionDeclarations")
        if isinstance(declarations, list):
            for declaration in declarations:
                if isinstance(declaration, dict):
                    conv.add_tool(declaration.get("name"))
        for name in tool:
            if name not in ("functionDeclarations", "function_declarations"):  # built-in tools
                conv.add_tool(name)
    return conv


def _part(conv: Conversation, role: Literal["user", "assistant"], part: Mapping[str, Any]) -> None:
    call = get_field(part, "functionCall")
    response = get_field(part, "functionResponse")
    inline = get_field(part, "inlineData")
    file = get_field(part, "fileData")
    if isinstance(part.get("text"), str):
        conv.add_text(role, part["text"])
    elif isinstance(call, dict):
        conv.add("assistant", ("call", str(call.get("name")), canonical_args(call.get("args"))))
    elif isinstance(response, dict):
        result = response.get("response")
        # frameworks wrap a tool's text as {"result": ...}, {"output": ...} or {"content": ...}
        if isinstance(result, dict) and len(result) == 1:
            (only,) = result.values()
            if isinstance(only, str):
                result = only
        text = result.strip() if isinstance(result, str) else canonical_args(result)
        conv.add("tool", ("result", text))
    elif isinstance(inline, dict):
        conv.add(role, media_part(inline.get("data")))
    elif isinstance(file, dict):
        conv.add(role, media_part(get_field(file, "fileUri")))
    else:
        conv.add(role, ("other", canonical_args(part)))
