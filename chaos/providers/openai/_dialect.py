"""The OpenAI dialect: Chat Completions, Responses, Models, Embeddings, legacy Completions.

Bytes follow ``reference/providers.md`` §2: success bodies are JSON with a
2-space indent, API error bodies JSON with a 4-space indent (the edge's
Cloudflare errors compact), Chat Completions streams are data-only SSE ending in
``data: [DONE]``, Responses streams carry ``event:`` lines and a monotonic
``sequence_number`` and end in ``response.completed``.

The error catalogue is :mod:`._errors`; reading a request's conversation (Chat
messages, Responses items) is :mod:`._question`; an answer before rendering, and the chat
completions, chunks, Responses objects and events it becomes, are :mod:`._render`.
The fake (:mod:`chaos.providers.openai._fake`) decides what to answer; this dialect
turns it into the API's exact bytes.

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
    embedding_question,
)
from chaos.providers._edge import edge_page
from chaos.providers._replies import CONTENT_FAULT
from chaos.providers._replies import Reply as Scripted
from chaos.providers._tokens import limit_tokens, random_hex, random_id, tokenize
from chaos.providers.openai._errors import (
    EDGE_KINDS,
    ERRORS,
    STREAM_SERVER_ERROR,
    ErrorSpec,
    error_body,
    go_duration,
)
from chaos.providers.openai._question import chat_conversation, responses_conversation
from chaos.providers.openai._render import (
    FINGERPRINT,
    Reply,
    ResponsesStream,
    ToolCall,
    chat_completion,
    response_events,
    response_objects,
)

__all__ = [
    "CHAT",
    "COMPLETIONS",
    "EMBEDDINGS",
    "RESPONSES",
    "OpenAIDialect",
    "bad_json",
    "fail",
    "json_object",
    "missing",
    "ok",
]

_JSON = "application/json"
_SSE = "text/event-stream; charset=utf-8"
_HOST = "api.openai.com"


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
_TERMINAL_RESPONSE_EVENTS = ("response.completed", "response.incomplete", "response.failed")


# Set when a Responses stream of the fake is rendered; the gateway asks for the in-stream
# error from the same task, so the error can carry that stream's id and next number.
_CURRENT_STREAM: ContextVar[ResponsesStream | None] = ContextVar(
    "chaos_openai_responses_stream", default=None
)
_RESPONSES_ERROR_FORMS = ("error", "failed")


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
            chat_conversation(conv, data)
        elif info.operation == RESPONSES:
            responses_conversation(conv, data)
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
        return tuple(ERRORS)

    def _spec(self, kind: str) -> ErrorSpec:
        spec = ERRORS.get(kind)
        if spec is None:
            raise unknown_choice("error kind for dialect 'openai'", kind, ERRORS)
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
        edge = EDGE_KINDS.get(kind)
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
        rendered = chat_completion(reply, model, stream=stream, stream_options=stream_options)
        if isinstance(rendered, dict):
            return ok(rendered)
        return self.answer_stream(rendered)

    def render_response(
        self, reply: Reply, *, model: str, payload: dict[str, Any], stream: bool
    ) -> Response:
        """A Responses API ``response`` of ``reply`` (echoing the request's settings from
        ``payload``), or its event stream."""
        base, final, output = response_objects(reply, model, payload)
        if not stream:
            return ok(final)
        state = ResponsesStream(str(base["id"]), model)
        _CURRENT_STREAM.set(state)
        return self.answer_stream(response_events(base, final, output, reply, state))

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
                "system_fingerprint": FINGERPRINT,
            }
        )


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
    """A 200 JSON answer (2-space indent) with the API's request and rate-limit headers."""
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
    """An ``invalid_request_error`` answer: ``status``, ``message``, ``param``, ``code``."""
    headers = [("content-type", _JSON), *_request_headers(), *(extra or [])]
    return Response(status, headers, error_body(message, "invalid_request_error", param, code))


def missing(param: str) -> Response:
    """The API's 400 for a missing required parameter."""
    return fail(
        400,
        f"Missing required parameter: '{param}'.",
        param=param,
        code="missing_required_parameter",
    )


def bad_json() -> Response:
    """The API's 400 for a body that is not a JSON object."""
    return fail(400, ERRORS["bad_request"].message)


def json_object(body: bytes) -> dict[str, Any] | None:
    """A request body's JSON object, or None (not JSON, or not an object)."""
    try:
        value = json.loads(body or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
