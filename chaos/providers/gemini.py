"""The Gemini dialect: Google's Generative Language API (``v1beta``), as google-genai uses it.

Bytes follow ``reference/providers.md`` §3: success and error bodies are JSON
with a 2-space indent; errors are ``{"error": {code, message, status, details}}``
and a 429 carries its delay only in a ``RetryInfo`` detail (never a
``Retry-After`` header). ``:streamGenerateContent?alt=sse`` streams
``data: {...}`` frames ending in CRLF CRLF, JSON spaced as ``"key": value``,
with no ``event:`` line and no terminator: the last chunk has a ``finishReason``.
Without ``alt=sse`` the stream is one JSON array sent element by element.

Point the official SDK at the fake with :attr:`GeminiDialect.env`
(``GOOGLE_GEMINI_BASE_URL`` is the host only: the SDK adds ``/v1beta``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qs

from chaos._errors import ConfigError
from chaos.providers import _fake, _sse
from chaos.providers._base import (
    CallInfo,
    Dialect,
    Operation,
    Request,
    Response,
    unknown_choice,
)
from chaos.providers._conversation import (
    Conversation,
    Question,
    canonical_args,
    media_part,
)
from chaos.providers._replies import CONTENT_FAULT, ReplyQuery

__all__ = ["MODELS", "GeminiDialect", "error_body", "proto_duration"]

_JSON = "application/json; charset=UTF-8"
_GENERATE = "models.generate_content"
_STREAM = "models.generate_content_stream"
_COUNT = "models.count_tokens"

MODELS: tuple[str, ...] = (
    "gemini-2.5-pro",
    "gemini-2.5-flash",
    "gemini-2.5-flash-lite",
    "gemini-2.0-flash",
)
"""The model ids the fake's ``GET /v1beta/models`` lists (any model id is accepted)."""

_METHODS = {
    "generateContent": _GENERATE,
    "streamGenerateContent": _STREAM,
    "countTokens": _COUNT,
}
_ACTION = re.compile(r"/(?:v1beta|v1|v1alpha)/models/(?P<model>[^/:]+):(?P<method>\w+)")
_LIST = re.compile(r"/(?:v1beta|v1|v1alpha)/models")
_GET = re.compile(r"/(?:v1beta|v1|v1alpha)/models/(?P<model>[^/:]+)")

_HELP = "https://ai.google.dev/gemini-api/docs/rate-limits"
_QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more"
    f" information on this error, head to: {_HELP}."
)
_KEY_INVALID = "API key not valid. Please pass a valid API key."
_NO_KEY = (
    "Method doesn't allow unregistered callers (callers without established identity)."
    " Please use API Key or other form of API consumer identity to call this API."
)

# Google's front end answers a 502 itself, with its HTML error page (style block trimmed).
_GFE_502 = """<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error 502 (Server Error)!!1</title>
  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>
  <p><b>502.</b> <ins>That\u2019s an error.</ins>
  <p>The server encountered a temporary error and could not complete your request.<p>Please try again in 30 seconds.  <ins>That\u2019s all we know.</ins>
"""  # noqa: E501


def _quota_failure(metric: str, quota_id: str, value: str) -> dict[str, object]:
    violation = {
        "quotaMetric": f"generativelanguage.googleapis.com/{metric}",
        "quotaId": quota_id,
        "quotaDimensions": {"location": "global", "model": "gemini-2.5-flash"},
        "quotaValue": value,
    }
    return {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [violation]}


_QUOTA_HELP: dict[str, object] = {
    "@type": "type.googleapis.com/google.rpc.Help",
    "links": [{"description": "Learn more about Gemini API quotas", "url": _HELP}],
}


@dataclass(frozen=True, slots=True)
class _ErrorSpec:
    """One error of the catalogue: HTTP status, gRPC status name, message, details."""

    code: int
    status: str
    message: str
    details: tuple[dict[str, object], ...] = field(default=())
    retry_delay: str | None = None


_ERRORS: Mapping[str, _ErrorSpec] = {
    "bad_request": _ErrorSpec(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    "unauthorized": _ErrorSpec(
        400,
        "INVALID_ARGUMENT",
        _KEY_INVALID,
        (
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": _KEY_INVALID,
            },
        ),
    ),
    "forbidden": _ErrorSpec(403, "PERMISSION_DENIED", "The caller does not have permission"),
    "not_found": _ErrorSpec(
        404,
        "NOT_FOUND",
        "models/gemini-2.5-flash is not found for API version v1beta, or is not supported for"
        " generateContent. Call ListModels to see the list of available models and their"
        " supported methods.",
    ),
    "request_too_large": _ErrorSpec(
        400, "INVALID_ARGUMENT", "Request payload size exceeds the limit: 20971520 bytes."
    ),
    "rate_limited": _ErrorSpec(
        429,
        "RESOURCE_EXHAUSTED",
        _QUOTA_MESSAGE,
        (
            _quota_failure(
                "generate_content_free_tier_input_token_count",
                "GenerateContentInputTokensPerModelPerMinute-FreeTier",
                "250000",
            ),
            _QUOTA_HELP,
        ),
        retry_delay="26s",
    ),
    "quota_exceeded": _ErrorSpec(
        429,
        "RESOURCE_EXHAUSTED",
        _QUOTA_MESSAGE,
        (
            _quota_failure(
                "generate_content_free_tier_requests",
                "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                "250",
            ),
            _QUOTA_HELP,
        ),
        retry_delay="26s",
    ),
    "server_error": _ErrorSpec(
        500,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in"
        " https://developers.generativeai.google/guide/troubleshooting",
    ),
    "bad_gateway": _ErrorSpec(502, "UNAVAILABLE", "Bad Gateway"),
    "service_unavailable": _ErrorSpec(503, "UNAVAILABLE", "The service is currently unavailable."),
    "overloaded": _ErrorSpec(
        503, "UNAVAILABLE", "The model is overloaded. Please try again later."
    ),
    "gateway_timeout": _ErrorSpec(
        504, "DEADLINE_EXCEEDED", "Deadline expired before operation could complete."
    ),
}


def proto_duration(seconds: float) -> str:
    """A protobuf JSON duration as ``RetryInfo.retryDelay`` carries it: ``26s``, ``0.300s``.

    Fractions get 3, 6 or 9 digits, as protobuf's JSON mapping prints them.
    """
    whole = int(seconds)
    nanos = round((seconds - whole) * 1e9)
    if nanos == 0:
        return f"{whole}s"
    digits = f"{nanos:09d}"
    for width in (3, 6):
        if digits[width:] == "0" * (9 - width):
            return f"{whole}.{digits[:width]}s"
    return f"{whole}.{digits}s"


def _error(
    code: int, message: str, status: str, details: list[dict[str, object]]
) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def error_body(code: int, message: str, status: str, details: list[dict[str, object]]) -> bytes:
    """A Google API error body, pretty-printed with a 2-space indent."""
    error = _error(code, message, status, details)
    return (_sse.indented_json(error, 2) + "\n").encode()


def _spaced(obj: object) -> str:
    # The SSE chunks' own JSON style: no space after ",", one after ":".
    return json.dumps(obj, separators=(",", ": "), ensure_ascii=False)


class GeminiDialect(Dialect):
    """Google's Gemini API, and a fake of it for the google-genai SDK and plain HTTP clients.

    Gemini answers carry no request-id header (the body's ``responseId`` names
    the answer), so :attr:`request_id_header` is empty.

    :param api_key: the only key the fake accepts; None accepts any non-empty key.
    :param token_rate: streamed chunks per second; None streams as fast as possible.
    """

    name = "gemini"
    operations = (
        Operation(_GENERATE, "POST", "/v1beta/models/{model}:generateContent"),
        Operation(_STREAM, "POST", "/v1beta/models/{model}:streamGenerateContent", streams=True),
        Operation(_COUNT, "POST", "/v1beta/models/{model}:countTokens"),
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
        found = _ACTION.fullmatch(route)
        if found is not None and verb == "POST":
            operation = _METHODS.get(found["method"])
            return CallInfo(operation, operation == _STREAM, found["model"] if operation else None)
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
        if info.operation not in (_GENERATE, _STREAM, _COUNT):
            return None
        try:
            data = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        nested = _field(data, "generateContentRequest")
        if isinstance(nested, dict):  # countTokens may wrap a whole request
            data = nested
        return _conversation(data).question(
            "count_tokens" if info.operation == _COUNT else "generate"
        )

    # -- errors ------------------------------------------------------------

    def error_kinds(self) -> tuple[str, ...]:
        """Every fault kind :meth:`error` renders."""
        return tuple(_ERRORS)

    def _spec(self, kind: str) -> _ErrorSpec:
        spec = _ERRORS.get(kind)
        if spec is None:
            raise unknown_choice("error kind for dialect 'gemini'", kind, _ERRORS)
        return spec

    def _error_object(
        self, kind: str, retry_after: float | None, retry_after_ms: int | None, message: str | None
    ) -> tuple[_ErrorSpec, dict[str, object]]:
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
        return spec, _error(
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
            response = Response(502, headers, _GFE_502.encode())
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
        return _sse.frame(_spaced(error), newline="\r\n")

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

    # -- the fake ------------------------------------------------------------

    def _content_fault(self, reply: _Reply) -> _Reply:
        """``reply`` as the active content fault, if any, changes it (noted in the book)."""
        fault = CONTENT_FAULT.get()
        if fault is None:
            return reply
        if fault.kind == "malformed_tool_args":
            if reply.call is None:
                return reply  # nothing to break: no function call in this answer
            broken = fault.cut_arguments(_spaced(reply.call.get("args")))
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

    def _scripted(
        self, operation: str | None, model: str, payload: dict[str, Any]
    ) -> _Reply | None:
        """The first scripted reply that matches the request, rendered; None if none does."""
        if not len(self.replies):
            return None
        user = [
            text for role, text, _ in _texts(payload.get("contents")) if role == "user" and text
        ]
        names = tuple(str(d.get("name")) for d in _declarations(payload))
        scripted = self.replies.take(ReplyQuery(operation, model, user[-1] if user else "", names))
        if scripted is None:
            return None
        prompt_tokens = scripted.usage.get("input_tokens", _prompt_tokens(payload))
        output = scripted.usage.get("output_tokens")
        if scripted.calls:
            calls: list[dict[str, object]] = [
                {"name": c.name, "args": c.arguments_object()} for c in scripted.calls
            ]
            first, *rest = calls
            finish = scripted.stop_for("gemini")
            pieces = _fake.tokenize(_spaced(first["args"]))
            return _Reply(pieces, first, finish, prompt_tokens, output, more=tuple(rest))
        limit = _field(_field(payload, "generationConfig"), "maxOutputTokens")
        budget = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
        pieces, truncated = _fake.limit_tokens(scripted.text, budget)
        finish = scripted.stop_for("gemini", truncated=truncated)
        return _Reply(pieces, None, finish, prompt_tokens, output)

    async def serve(self, request: Request) -> Response:
        """Answer as the Gemini API would: validated, deterministic, usage that adds up."""
        info = self.identify(request.method, request.path, request.body)
        route, _, query = request.path.partition("?")
        params = parse_qs(query)
        key = request.header("x-goog-api-key") or (params.get("key") or [""])[0]
        if not key:
            return _fail(403, "PERMISSION_DENIED", _NO_KEY, [_error_info("CREDENTIALS_MISSING")])
        if self.api_key is not None and key != self.api_key:
            return self.error("unauthorized")
        if info.operation is None:
            found = _ACTION.fullmatch(route)
            if found is not None:
                return _fail(
                    404,
                    "NOT_FOUND",
                    f"models/{found['model']} is not found for API version v1beta, or is not"
                    f" supported for {found['method']}. Call ListModels to see the list of"
                    " available models and their supported methods.",
                )
            return _fail(404, "NOT_FOUND", f"Method not found: {request.method} {route}")
        if info.operation == "models.list":
            return _ok({"models": [_model_object(m) for m in MODELS]})
        if info.operation == "models.get":
            return _ok(_model_object(info.model or ""))
        try:
            payload = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            return _fail(
                400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token."
            )
        if not isinstance(payload, dict):
            return _fail(
                400, "INVALID_ARGUMENT", "Invalid JSON payload received. Expected an object."
            )
        model = info.model or "gemini-2.5-flash"
        if info.operation == _COUNT:
            inner = _field(payload, "generateContentRequest")
            source = inner if isinstance(inner, dict) else payload
            tokens = _prompt_tokens(source)
            return _ok({"totalTokens": tokens, "promptTokensDetails": [_text_tokens(tokens)]})
        contents = payload.get("contents")
        if not isinstance(contents, list) or not contents:
            return _fail(
                400,
                "INVALID_ARGUMENT",
                "* GenerateContentRequest.contents: contents is not specified\n",
            )
        reply = self._scripted(info.operation, model, payload) or _reply(payload)
        reply = self._content_fault(reply)
        rid = secrets.token_urlsafe(16)[:22]
        if info.operation == _GENERATE:
            candidate = reply.candidate()
            return _ok(
                {
                    "candidates": [candidate],
                    "usageMetadata": reply.usage(),
                    "modelVersion": model,
                    "responseId": rid,
                }
            )
        sse = params.get("alt") == ["sse"]
        frames = _stream_frames(reply, model, rid, sse=sse)
        headers = [
            ("content-type", "text/event-stream" if sse else _JSON),
            ("content-disposition", "attachment"),
            *_google_headers(),
        ]
        delay = 1 / self.token_rate if self.token_rate else 0.0
        return Response(200, headers, events=_sse.pace(frames, delay))


# -- the fake's answers --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reply:
    pieces: list[str]
    call: dict[str, object] | None
    finish: str
    prompt_tokens: int
    output_override: int | None = None  # a scripted reply's usage.output_tokens
    bare: str | None = None  # SAFETY / MALFORMED_FUNCTION_CALL: no content; the finishMessage
    more: tuple[dict[str, object], ...] = ()  # a scripted reply's further calls (parallel)

    @property
    def output_tokens(self) -> int:
        if self.output_override is not None:
            return self.output_override
        return len(self.pieces) + sum(_fake.count_tokens(_spaced(c["args"])) for c in self.more)

    def candidate(self) -> dict[str, object]:
        """The whole answer's candidate (content unless blocked, finish reason, index)."""
        if self.bare is not None:
            found: dict[str, object] = {"finishReason": self.finish, "index": 0}
            if self.bare:
                found["finishMessage"] = self.bare
            return found
        content = {"role": "model", "parts": self.parts()}
        return {"content": content, "finishReason": self.finish, "index": 0}

    def parts(self) -> list[dict[str, object]]:
        if self.call is not None:
            return [{"functionCall": call} for call in (self.call, *self.more)]
        return [{"text": "".join(self.pieces)}]

    def usage(self, *, final: bool = True) -> dict[str, object]:
        usage: dict[str, object] = {"promptTokenCount": self.prompt_tokens}
        if final:
            usage["candidatesTokenCount"] = self.output_tokens
        usage["totalTokenCount"] = self.prompt_tokens + (self.output_tokens if final else 0)
        usage["promptTokensDetails"] = [_text_tokens(self.prompt_tokens)]
        return usage


def _texts(contents: object) -> list[tuple[str, str, bool]]:
    """(role, text, is_function_response) for every content of a request."""
    found: list[tuple[str, str, bool]] = []
    for content in contents if isinstance(contents, list) else []:
        if not isinstance(content, dict):
            continue
        parts = content.get("parts")
        parts = parts if isinstance(parts, list) else []
        text = "".join(str(p.get("text", "")) for p in parts if isinstance(p, dict))
        response = any(isinstance(p, dict) and _field(p, "functionResponse") for p in parts)
        found.append((str(content.get("role", "user")), text, response))
    return found


def _prompt_tokens(payload: dict[str, Any]) -> int:
    texts = [text for _, text, _ in _texts(payload.get("contents"))]
    system = _field(payload, "systemInstruction")
    if isinstance(system, dict):
        texts.extend(text for _, text, _ in _texts([system]))
    return sum(_fake.count_tokens(t) for t in texts)


def _field(obj: object, name: str) -> Any:
    """``obj[name]`` under its lowerCamelCase or snake_case name (the API accepts both)."""
    if not isinstance(obj, dict):
        return None
    if name in obj:
        return obj[name]
    return obj.get(re.sub(r"[A-Z]", lambda m: "_" + m[0].lower(), name))


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
        for d in _field(tool, "functionDeclarations") or []
        if isinstance(d, dict)
    ]


def _reply(payload: dict[str, Any]) -> _Reply:
    """Echo the last user text, or call the first declared function (see the OpenAI fake)."""
    turns = _texts(payload.get("contents"))
    user = [text for role, text, _ in turns if role == "user" and text]
    seed = user[-1] if user else ""
    prompt_tokens = _prompt_tokens(payload)
    mode = _field(_field(_field(payload, "toolConfig"), "functionCallingConfig"), "mode")
    declarations = _declarations(payload)
    disabled = isinstance(mode, str) and mode.upper() == "NONE"
    if declarations and not disabled and turns and not turns[-1][2]:
        schema = _lower_types(
            _field(declarations[0], "parameters") or _field(declarations[0], "parametersJsonSchema")
        )
        args = _fake.tool_arguments(schema if isinstance(schema, dict) else {}, seed)
        call: dict[str, object] = {"name": str(declarations[0].get("name", "tool")), "args": args}
        return _Reply(_fake.tokenize(_spaced(args)), call, "STOP", prompt_tokens)
    config = _field(payload, "generationConfig")
    limit = _field(config, "maxOutputTokens")
    budget = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
    answer = _fake.answer_text(seed)
    schema = _field(config, "responseJsonSchema") or _field(config, "responseSchema")
    if isinstance(schema, dict):
        lowered = _lower_types(schema)
        root = lowered if isinstance(lowered, dict) else {}
        answer = _spaced(_fake.schema_example(root, root, answer))
    elif _field(config, "responseMimeType") == "application/json":
        answer = _spaced({"answer": answer})
    pieces, truncated = _fake.limit_tokens(answer, budget)
    return _Reply(pieces, None, "MAX_TOKENS" if truncated else "STOP", prompt_tokens)


def _stream_frames(reply: _Reply, model: str, rid: str, *, sse: bool) -> Iterator[bytes]:
    """The chunks of ``:streamGenerateContent``: SSE with CRLF, or one JSON array."""
    chunks: list[dict[str, object]] = []
    if reply.bare is not None:
        chunks.append(reply.candidate())
    elif reply.call is not None:
        content: dict[str, object] = {"parts": reply.parts(), "role": "model"}
        chunks.append({"content": content, "finishReason": reply.finish, "index": 0})
    else:
        pieces = reply.pieces or [""]
        for number, piece in enumerate(pieces, 1):
            candidate: dict[str, object] = {
                "content": {"parts": [{"text": piece}], "role": "model"},
            }
            if number == len(pieces):
                candidate["finishReason"] = reply.finish
            candidate["index"] = 0
            chunks.append(candidate)
    for number, candidate in enumerate(chunks, 1):
        last = number == len(chunks)
        body = {
            "candidates": [candidate],
            "usageMetadata": reply.usage(final=last),
            "modelVersion": model,
            "responseId": rid,
        }
        if sse:
            yield _sse.frame(_spaced(body), newline="\r\n")
        else:
            text = _sse.indented_json(body, 2)
            yield (("[" if number == 1 else "\n,\r\n") + text + ("\n]" if last else "")).encode()


def _text_tokens(count: int) -> dict[str, object]:
    return {"modality": "TEXT", "tokenCount": count}


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


def _ok(body: dict[str, object]) -> Response:
    headers = [("content-type", _JSON), *_google_headers()]
    return Response(200, headers, _sse.indented_json(body, 2).encode())


def _error_info(reason: str) -> dict[str, object]:
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }


def _fail(
    code: int, status: str, message: str, details: list[dict[str, object]] | None = None
) -> Response:
    headers = [("content-type", _JSON), *_google_headers()]
    return Response(code, headers, error_body(code, message, status, details or []))


def _conversation(data: Mapping[str, Any]) -> Conversation:
    """A Gemini request in the dialect-neutral form."""
    conv = Conversation()
    system = _field(data, "systemInstruction")
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
        declarations = _field(tool, "functionDeclarations")
        if isinstance(declarations, list):
            for declaration in declarations:
                if isinstance(declaration, dict):
                    conv.add_tool(declaration.get("name"))
        for name in tool:
            if name not in ("functionDeclarations", "function_declarations"):  # built-in tools
                conv.add_tool(name)
    return conv


def _part(conv: Conversation, role: Literal["user", "assistant"], part: Mapping[str, Any]) -> None:
    call = _field(part, "functionCall")
    response = _field(part, "functionResponse")
    inline = _field(part, "inlineData")
    file = _field(part, "fileData")
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
        conv.add(role, media_part(_field(file, "fileUri")))
    else:
        conv.add(role, ("other", canonical_args(part)))
