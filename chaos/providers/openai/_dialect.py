"""The OpenAI dialect: Chat Completions, Responses, Models, Embeddings, legacy Completions.

Bytes follow ``reference/providers.md`` §2: success bodies are JSON with a
2-space indent, API error bodies JSON with a 4-space indent (the edge's
Cloudflare errors compact), Chat Completions streams are data-only SSE ending in
``data: [DONE]``, Responses streams carry ``event:`` lines and a monotonic
``sequence_number`` and end in ``response.completed``.

The fake (:mod:`chaos.providers.openai._fake`) decides what to answer; a
:class:`Reply` (an answer before rendering) and the renderers here turn it into the
API's exact bytes, whole or streamed.

Point the official SDK at the fake with the variables in :attr:`OpenAIDialect.env`
(``OPENAI_BASE_URL`` includes ``/v1``: the SDK appends ``/chat/completions`` to it).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import math
import re
import secrets
import struct
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
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
    embedding_question,
    joined_text,
    media_part,
)
from chaos.providers._edge import edge_page
from chaos.providers._replies import CONTENT_FAULT
from chaos.providers._replies import Reply as Scripted
from chaos.providers._tokens import count_tokens, limit_tokens, random_hex, random_id, tokenize

__all__ = [
    "CHAT",
    "COMPLETIONS",
    "EMBEDDINGS",
    "RESPONSES",
    "STREAM_SERVER_ERROR",
    "OpenAIDialect",
    "Reply",
    "ToolCall",
    "bad_json",
    "error_body",
    "fail",
    "go_duration",
    "json_object",
    "missing",
    "ok",
]

_JSON = "application/json"
_SSE = "text/event-stream; charset=utf-8"
_HOST = "api.openai.com"
# The organisation in the recorded "Request too large" 429 (providers.md §2.6).
_ORG = "org-VDAWofJASuLH0vVz8o9tiQZr"
_FINGERPRINT = "fp_c4a5ee3b6d"


@dataclass(frozen=True, slots=True)
class _ErrorSpec:
    """One API error of the catalogue: status and the ``error`` object's fields."""

    status: int
    message: str
    type: str
    code: str | None
    param: str | None = None
    rate_limit: bool = False


_ERRORS: Mapping[str, _ErrorSpec] = {
    "bad_request": _ErrorSpec(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't"
        " using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was"
        " sent was not valid JSON. If you have trouble figuring out how to fix this, please"
        " contact us through our help center at help.openai.com.)",
        "invalid_request_error",
        None,
    ),
    "unauthorized": _ErrorSpec(
        401,
        "Incorrect API key provided: sk-chaos**ummy. You can find your API key at"
        " https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    "forbidden": _ErrorSpec(
        403,
        "Country, region, or territory not supported",
        "request_forbidden",
        "unsupported_country_region_territory",
    ),
    "not_found": _ErrorSpec(
        404,
        "The model `gpt-4o` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    "request_too_large": _ErrorSpec(
        429,
        f"Request too large for gpt-4o in organization {_ORG} on tokens per min (TPM):"
        " Limit 30000, Requested 30601. The input or output tokens must be reduced in order to"
        " run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.",
        "tokens",
        "rate_limit_exceeded",
        rate_limit=True,
    ),
    "rate_limited": _ErrorSpec(
        429,
        f"Rate limit reached for gpt-4o in organization {_ORG} on tokens per min (TPM):"
        " Limit 30000, Used 29937, Requested 385. Please try again in 644ms. Visit"
        " https://platform.openai.com/account/rate-limits to learn more.",
        "tokens",
        "rate_limit_exceeded",
        rate_limit=True,
    ),
    "quota_exceeded": _ErrorSpec(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more"
        " information on this error, read the docs:"
        " https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "insufficient_quota",
        "insufficient_quota",
    ),
    "server_error": _ErrorSpec(
        500,
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    "bad_gateway": _ErrorSpec(502, "Bad gateway.", "cf_bad_gateway", None),
    "service_unavailable": _ErrorSpec(503, "Service Unavailable.", "cf_service_unavailable", None),
    "overloaded": _ErrorSpec(
        503,
        "Our servers are currently overloaded. Please try again later.",
        "service_unavailable_error",
        "server_is_overloaded",
    ),
    "gateway_timeout": _ErrorSpec(504, "Gateway time-out", "cf_gateway_timeout", None),
}

# Kinds the edge answers, not the API: kind -> edge page (chaos.providers._edge).
_EDGE_KINDS = {
    "bad_gateway": "cf_bad_gateway",
    "service_unavailable": "cf_service_unavailable",
    "gateway_timeout": "cloudflare_504",
}

# What OpenAI streams mid-response (providers.md §2.7); {request_id} is 32 hex digits.
STREAM_SERVER_ERROR = (
    "The server had an error processing your request. Sorry about that! You can retry your"
    " request, or contact us through our help center at help.openai.com if you keep seeing this"
    " error. (Please include the request ID {request_id} in your email.)"
)

CHAT = "chat.completions.create"
RESPONSES = "responses.create"
COMPLETIONS = "completions.create"
EMBEDDINGS = "embeddings.create"
_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("POST", re.compile(r"/v1/chat/completions"), CHAT),
    ("POST", re.compile(r"/v1/responses"), RESPONSES),
    ("GET", re.compile(r"/v1/models"), "models.list"),
    ("GET", re.compile(r"/v1/models/(?P<model>[^/]+)"), "models.retrieve"),
    ("POST", re.compile(r"/v1/embeddings"), EMBEDDINGS),
    ("POST", re.compile(r"/v1/completions"), COMPLETIONS),
)
_TEXT_FORMAT = {"format": {"type": "text"}, "verbosity": "medium"}
_TERMINAL_RESPONSE_EVENTS = ("response.completed", "response.incomplete", "response.failed")


def error_body(message: str, type_: str, param: str | None, code: str | None) -> bytes:
    """An OpenAI API error body: ``{"error": {message, type, param, code}}``, 4-space indent."""
    error = {"message": message, "type": type_, "param": param, "code": code}
    return (_sse.indented_json({"error": error}, 4) + "\n").encode()


def go_duration(seconds: float) -> str:
    """Format a duration the way OpenAI's ``x-ratelimit-reset-*`` headers do (Go style).

    ``0`` -> ``0s``, ``0.12`` -> ``120ms``, ``8.64`` -> ``8.64s``, ``360`` -> ``6m0s``.
    """
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{int(hours)}h{int(minutes)}m{text}"
    if minutes:
        return f"{int(minutes)}m{text}"
    return text


@dataclass(slots=True)
class _ResponsesStream:
    """The Responses stream being served in this task: what an in-stream error must name."""

    response_id: str
    model: str
    next_sequence: int = 0


# Set by the fake when it starts a Responses stream; the gateway asks for the in-stream
# error from the same task, so the error can carry that stream's id and next number.
_CURRENT_STREAM: ContextVar[_ResponsesStream | None] = ContextVar(
    "chaos_openai_responses_stream", default=None
)
_RESPONSES_ERROR_FORMS = ("error", "failed")


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


class OpenAIDialect(Dialect):
    """The OpenAI API, and a fake of it that the official ``openai`` SDK takes for the real one.

    :param api_key: the only key the fake accepts; None accepts any non-empty bearer key.
    :param token_rate: streamed events per second; None streams as fast as possible.
    :param responses_stream_error: how a Responses stream fails in-stream: ``"error"``
        (``event: error`` with a nested ``error``; the SDK raises ``APIError``) or
        ``"failed"`` (a terminal ``response.failed``; the SDK raises nothing).
    :param sse_newline: the streams' line ending: LF (as captured in 2025) or CRLF
        (as reported in 2024); clients must handle both.
    """

    name = "openai"
    operations = (
        Operation(CHAT, "POST", "/v1/chat/completions", streams=True),
        Operation(RESPONSES, "POST", "/v1/responses", streams=True),
        Operation("models.list", "GET", "/v1/models"),
        Operation("models.retrieve", "GET", "/v1/models/{model}"),
        Operation(EMBEDDINGS, "POST", "/v1/embeddings"),
        Operation(COMPLETIONS, "POST", "/v1/completions", streams=True),
    )
    auth_headers = ("authorization",)
    request_id_header = "x-request-id"
    host = "api.openai.com"
    env: ClassVar[Mapping[str, str]] = {
        # the SDKs (Python, Node), @ai-sdk/openai, litellm, pydantic-ai
        "OPENAI_BASE_URL": "{url}/v1",
        # LangChain and LlamaIndex (read before OPENAI_BASE_URL)
        "OPENAI_API_BASE": "{url}/v1",
        "OPENAI_API_KEY": "sk-chaos-dummy",
    }

    def __init__(
        self,
        *,
        api_key: str | None = None,
        token_rate: float | None = None,
        responses_stream_error: Literal["error", "failed"] = "error",
        sse_newline: Literal["\n", "\r\n"] = "\n",
    ) -> None:
        if token_rate is not None and not (math.isfinite(token_rate) and token_rate > 0):
            raise ConfigError(
                f"openai dialect: token_rate must be a positive number of events per second,"
                f" got {token_rate!r}"
            )
        if responses_stream_error not in _RESPONSES_ERROR_FORMS:
            raise unknown_choice(
                "openai responses_stream_error form", responses_stream_error, _RESPONSES_ERROR_FORMS
            )
        if sse_newline not in ("\n", "\r\n"):
            raise ConfigError(
                f"openai dialect: sse_newline must be '\\n' or '\\r\\n', got {sse_newline!r}"
            )
        self.api_key = api_key
        self.token_rate = token_rate
        self.responses_stream_error = responses_stream_error
        self.sse_newline = sse_newline

    # -- identification ----------------------------------------------------

    def identify(self, method: str, path: str, body: bytes) -> CallInfo:
        """Tell the operation (``chat.completions.create``, ...), stream flag and model."""
        route = path.split("?", 1)[0].rstrip("/")
        for verb, pattern, operation in _ROUTES:
            found = pattern.fullmatch(route)
            if found is None or verb != method.upper():
                continue
            if "model" in found.groupdict():
                return CallInfo(operation, False, found["model"])
            payload = json_object(body) or {}
            model = payload.get("model")
            return CallInfo(
                operation, payload.get("stream") is True, model if isinstance(model, str) else None
            )
        return CallInfo(None, False, None)

    def question(self, info: CallInfo, body: bytes) -> Question | None:
        """The conversation of a chat completion (``messages``, tool names), a
        response (``instructions``, ``input``, ``previous_response_id``, tool names) or a
        legacy completion (``prompt``), normalised; an embedding's ``input``."""
        if info.operation not in (CHAT, RESPONSES, COMPLETIONS, EMBEDDINGS):
            return None
        data = json_object(body)
        if data is None:
            return None
        if info.operation == EMBEDDINGS:
            return embedding_question(data.get("input"))
        conv = Conversation()
        if info.operation == CHAT:
            _chat_conversation(conv, data)
        elif info.operation == RESPONSES:
            _responses_conversation(conv, data)
        else:
            prompt = data.get("prompt")
            conv.add_text(
                "user", "\n".join(map(str, prompt)) if isinstance(prompt, list) else prompt
            )
        tools = data.get("tools")
        for tool in tools if isinstance(tools, list) else ():
            if isinstance(tool, dict):
                function = tool.get("function")
                named = function if isinstance(function, dict) else tool
                conv.add_tool(named.get("name") or tool.get("type"))
        return conv.question("generate")

    # -- errors ------------------------------------------------------------

    def error_kinds(self) -> tuple[str, ...]:
        """Every fault kind :meth:`error` renders."""
        return tuple(_ERRORS)

    def _spec(self, kind: str) -> _ErrorSpec:
        spec = _ERRORS.get(kind)
        if spec is None:
            raise unknown_choice("error kind for dialect 'openai'", kind, _ERRORS)
        return spec

    def error(
        self,
        kind: str,
        *,
        retry_after: float | None = None,
        retry_after_ms: int | None = None,
        should_retry: bool | None = None,
        message: str | None = None,
    ) -> Response:
        """OpenAI's exact answer for ``kind``; :meth:`error_kinds` lists the choices.

        ``bad_gateway``, ``service_unavailable`` and ``gateway_timeout`` come from
        OpenAI's Cloudflare edge (compact ``cf_*`` JSON, the HTML 504 page), the
        others from the API (4-space JSON with ``x-request-id``).

        :param retry_after: adds ``retry-after`` (seconds; over 120 the SDK never retries).
        :param retry_after_ms: adds ``retry-after-ms``, which the SDK reads first.
        :param should_retry: adds ``x-should-retry: true|false``, which overrides the SDK.
        :param message: replaces the error message.
        :raises ConfigError: ``kind`` is unknown; the message lists the valid kinds.
        """
        spec = self._spec(kind)
        edge = _EDGE_KINDS.get(kind)
        if edge is not None and message is None:
            response = edge_page(edge, host=_HOST)
        elif edge is not None:
            # The edge's own compact JSON (providers.md §2.8), with the caller's message.
            error = {"code": spec.status, "message": message, "param": None, "type": spec.type}
            body = _sse.json_data({"error": error}).encode()
            headers = [("content-type", _JSON), ("server", "cloudflare")]
            response = Response(spec.status, headers, body)
        else:
            headers = [("content-type", _JSON), *_request_headers()]
            if spec.status == 401:
                headers.append(("www-authenticate", 'Bearer realm="OpenAI API"'))
            if spec.rate_limit:
                headers.extend(_rate_limit_headers(remaining_tokens=0, reset=0.644))
            text = spec.message if message is None else message
            body = error_body(text, spec.type, spec.param, spec.code)
            response = Response(spec.status, headers, body)
        if retry_after is not None:
            response.headers.append(("retry-after", _number(retry_after)))
        if retry_after_ms is not None:
            response.headers.append(("retry-after-ms", str(retry_after_ms)))
        if should_retry is not None:
            response.headers.append(("x-should-retry", "true" if should_retry else "false"))
        return response

    def stream_error(
        self, kind: str, *, operation: str | None, message: str | None = None
    ) -> bytes:
        """The error OpenAI sends inside a 200 stream.

        Chat and legacy completions: ``data: {"error": ...}`` then ``data: [DONE]``
        (the SDK raises ``openai.APIError``). Responses, as ``responses_stream_error``
        says: ``event: error`` with the nested ``error`` object (the SDK raises
        ``APIError`` too), or :meth:`response_failed_event`. Inside a stream the fake
        is serving, both carry that stream's next ``sequence_number`` (and id).
        """
        spec = self._spec(kind)
        text = spec.message if message is None else message
        if operation == RESPONSES:
            stream = _CURRENT_STREAM.get()
            if self.responses_stream_error == "failed":
                return self.response_failed_event(
                    kind,
                    response_id=stream.response_id if stream else "resp_" + secrets.token_hex(24),
                    model=stream.model if stream else "gpt-4o",
                    sequence_number=stream.next_sequence if stream else 0,
                    message=message,
                )
            error: dict[str, object] = {"type": spec.type, "code": spec.code, "message": text}
            event: dict[str, object] = {"type": "error", "error": error}
            if stream is not None:
                event = {"type": "error", "sequence_number": stream.next_sequence, "error": error}
            return self._newlines(_sse.frame(_sse.json_data(event), event="error"))
        if message is None and kind == "server_error":
            text = STREAM_SERVER_ERROR.format(request_id=secrets.token_hex(16))
        error = {"message": text, "type": spec.type, "param": spec.param, "code": spec.code}
        frames = _sse.frame(_sse.json_data({"error": error})) + _sse.frame("[DONE]")
        return self._newlines(frames)

    def response_failed_event(
        self,
        kind: str,
        *,
        response_id: str,
        model: str,
        sequence_number: int,
        message: str | None = None,
    ) -> bytes:
        """A Responses API ``response.failed`` terminal event for ``kind``.

        The SDK does not raise on it; ``responses.stream(...).get_final_response()``
        then fails for want of ``response.completed``.
        """
        spec = self._spec(kind)
        failed = {
            "type": "response.failed",
            "sequence_number": sequence_number,
            "response": {
                "id": response_id,
                "created_at": int(time.time()),
                "status": "failed",
                "error": {"code": spec.code or spec.type, "message": message or spec.message},
                "model": model,
                "usage": None,
                "output": [],
            },
        }
        return self._newlines(_sse.frame(_sse.json_data(failed), event="response.failed"))

    def is_terminal_event(self, frame: bytes, *, operation: str | None) -> bool:
        """``data: [DONE]`` ends chat/completions; ``response.completed|incomplete|failed``."""
        event = _sse.parse_frame(frame)
        if operation == RESPONSES:
            return event.event in _TERMINAL_RESPONSE_EVENTS
        return event.data == "[DONE]"

    def is_closing_event(self, frame: bytes, *, operation: str | None) -> bool:
        """The chunk that carries a ``finish_reason`` (or ``[DONE]``); Responses: its terminal."""
        if operation == RESPONSES:
            return self.is_terminal_event(frame, operation=operation)
        event = _sse.parse_frame(frame)
        if event.data == "[DONE]":
            return True
        try:
            data = event.json()
        except ValueError:
            return False
        choices = data.get("choices") if isinstance(data, dict) else None
        return isinstance(choices, list) and any(
            isinstance(c, dict) and c.get("finish_reason") is not None for c in choices
        )

    # -- rendering answers -------------------------------------------------

    def reset_stream(self) -> None:
        """Forget the Responses stream of an earlier request (called as each request starts)."""
        _CURRENT_STREAM.set(None)

    def answer_stream(self, frames: Iterator[bytes]) -> Response:
        """An SSE answer of ``frames``, paced by ``token_rate``, in ``sse_newline`` lines."""
        headers = [
            ("content-type", _SSE),
            *_request_headers(),
            ("access-control-expose-headers", "X-Request-ID"),
        ]
        delay = 1 / self.token_rate if self.token_rate else 0.0
        framed = map(self._newlines, frames) if self.sse_newline != "\n" else frames
        return Response(200, headers, events=_sse.pace(framed, delay))

    def _newlines(self, frames: bytes) -> bytes:
        # Frames are built with LF; JSON escapes newlines in strings, so every LF is framing.
        return frames if self.sse_newline == "\n" else frames.replace(b"\n", b"\r\n")

    def answer_from_reply(self, scripted: Scripted, *, input_tokens: int, limit: object) -> Reply:
        """The :class:`Reply` a scripted reply gives (cut at ``limit`` output tokens).

        :param input_tokens: the prompt's tokens, unless the scripted usage says otherwise.
        """
        input_tokens = scripted.usage.get("input_tokens", input_tokens)
        output = scripted.usage.get("output_tokens")
        budget = limit if isinstance(limit, int) and not isinstance(limit, bool) else None
        if scripted.calls:
            tool, *more = (ToolCall(c.name, c.arguments_json) for c in scripted.calls)
            pieces = tokenize(tool.arguments)
            finish = scripted.stop_for("openai")
            return Reply("", tool, pieces, False, input_tokens, finish, output, more=tuple(more))
        pieces, truncated = limit_tokens(scripted.text, budget)
        finish = scripted.stop_for("openai", truncated=truncated)
        return Reply("".join(pieces), None, pieces, truncated, input_tokens, finish, output)

    def content_fault(self, reply: Reply) -> Reply:
        """``reply`` as the active content fault, if any, changes it (noted in the book)."""
        fault = CONTENT_FAULT.get()
        if fault is None:
            return reply
        if fault.kind == "malformed_tool_args":
            if reply.tool is None:
                return reply  # nothing to break: no tool call in this answer
            broken = fault.cut_arguments(reply.tool.arguments)
            self.replies.delivered(fault.kind, broken)
            tool = ToolCall(reply.tool.name, broken)
            return dataclasses.replace(reply, tool=tool, pieces=tokenize(broken))
        if fault.kind == "truncate_answer":
            pieces, finish, truncated = reply.pieces[: fault.tokens], "length", True
        elif fault.kind == "refusal":
            pieces, finish, truncated = tokenize(fault.message), "stop", False
        else:  # empty_answer
            pieces, finish, truncated = [], "stop", False
        text = "".join(pieces)
        self.replies.delivered(fault.kind, text)
        return dataclasses.replace(
            reply,
            text=text,
            tool=None,
            more=(),
            pieces=pieces,
            truncated=truncated,
            finish=finish,
            output_override=None,
            refusal=text if fault.kind == "refusal" else None,
        )

    def render_chat(
        self, reply: Reply, *, model: str, stream: bool, stream_options: object
    ) -> Response:
        """A chat completion of ``reply``: a ``chat.completion`` or its chunk stream."""
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
                "system_fingerprint": _FINGERPRINT,
            }
            return self.answer_stream(
                _chat_frames(
                    head,
                    reply,
                    call_ids,
                    finish,
                    usage,
                    include_usage=options.get("include_usage") is True,
                    obfuscate=options.get("include_obfuscation") is not False,
                )
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
        return ok(
            {
                "id": cid,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [choice],
                "usage": usage,
                "service_tier": "default",
                "system_fingerprint": _FINGERPRINT,
            }
        )

    def render_response(
        self, reply: Reply, *, model: str, payload: dict[str, Any], stream: bool
    ) -> Response:
        """A Responses API ``response`` of ``reply`` (echoing the request's settings from
        ``payload``), or its event stream."""
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
        if not stream:
            return ok(final)
        state = _ResponsesStream(str(base["id"]), model)
        _CURRENT_STREAM.set(state)
        return self.answer_stream(_responses_frames(base, final, output, reply, state))

    def render_embeddings(
        self, vectors: list[list[float]], *, model: str, tokens: int, as_base64: bool
    ) -> Response:
        """An embeddings list of ``vectors``, as floats or base64 float32."""
        data = []
        for index, vector in enumerate(vectors):
            embedding: object = (
                base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
                if as_base64
                else vector
            )
            data.append({"object": "embedding", "index": index, "embedding": embedding})
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return ok({"object": "list", "data": data, "model": model, "usage": usage})

    def render_completion(self, reply: Reply, *, model: str, stream: bool) -> Response:
        """A legacy text completion of ``reply``, whole or streamed."""
        head = {
            "id": random_id("cmpl-", 29),
            "object": "text_completion",
            "created": int(time.time()),
            "model": model,
        }
        finish = "length" if reply.truncated else "stop"
        if stream:

            def frames() -> Iterator[bytes]:
                steps: list[tuple[str, str | None]] = [(p, None) for p in reply.pieces]
                for piece, reason in [*steps, ("", finish)]:
                    choice = {"text": piece, "index": 0, "logprobs": None, "finish_reason": reason}
                    body = {**head, "choices": [choice], "system_fingerprint": None}
                    yield _sse.frame(_sse.json_data(body))
                yield _sse.frame("[DONE]")

            return self.answer_stream(frames())
        choice = {"text": "".join(reply.pieces), "index": 0, "logprobs": None}
        usage = {
            "prompt_tokens": reply.input_tokens,
            "completion_tokens": reply.output_tokens,
            "total_tokens": reply.input_tokens + reply.output_tokens,
        }
        return ok(
            {
                **head,
                "choices": [{**choice, "finish_reason": finish}],
                "usage": usage,
                "system_fingerprint": _FINGERPRINT,
            }
        )


# -- rendering -----------------------------------------------------------------------


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


def _responses_frames(
    base: dict[str, object],
    final: dict[str, object],
    items: list[dict[str, object]],
    reply: Reply,
    state: _ResponsesStream,
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


# -- HTTP answers ----------------------------------------------------------------------


def _request_headers() -> list[tuple[str, str]]:
    return [
        ("openai-version", "2020-10-01"),
        ("openai-processing-ms", "7"),
        ("x-request-id", f"req_{random_hex(16)}"),
    ]


def _rate_limit_headers(*, remaining_tokens: int, reset: float) -> list[tuple[str, str]]:
    return [
        ("x-ratelimit-limit-requests", "500"),
        ("x-ratelimit-limit-tokens", "30000"),
        ("x-ratelimit-remaining-requests", "499"),
        ("x-ratelimit-remaining-tokens", str(remaining_tokens)),
        ("x-ratelimit-reset-requests", go_duration(0.12)),
        ("x-ratelimit-reset-tokens", go_duration(reset)),
    ]


def ok(body: dict[str, object]) -> Response:
    headers = [("content-type", _JSON), *_request_headers()]
    headers.extend(_rate_limit_headers(remaining_tokens=29_984, reset=0.032))
    return Response(200, headers, _sse.indented_json(body, 2).encode())


def fail(
    status: int,
    message: str,
    *,
    param: str | None = None,
    code: str | None = None,
    extra: list[tuple[str, str]] | None = None,
) -> Response:
    headers = [("content-type", _JSON), *_request_headers(), *(extra or [])]
    return Response(status, headers, error_body(message, "invalid_request_error", param, code))


def missing(param: str) -> Response:
    return fail(
        400,
        f"Missing required parameter: '{param}'.",
        param=param,
        code="missing_required_parameter",
    )


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


def _chat_conversation(conv: Conversation, data: dict[str, Any]) -> None:
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


def _responses_conversation(conv: Conversation, data: dict[str, Any]) -> None:
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


def bad_json() -> Response:
    """The API's 400 for a body that is not a JSON object."""
    return fail(400, _ERRORS["bad_request"].message)


def json_object(body: bytes) -> dict[str, Any] | None:
    """A request body's JSON object, or None (not JSON, or not an object)."""
    try:
        value = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
