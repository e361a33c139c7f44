"""The Anthropic dialect: Messages API operations, error catalogue, SSE stream, renderers.

Every byte follows ``reference/providers.md`` §1: compact JSON error bodies
with ``request_id``, the ``request-id`` header, ``x-should-retry`` where the
API sends it (true on 429 and 529, false on 400), the SSE event order with
its whitespace padding and ``{"type": "ping"}`` spacing, and the in-stream
``event: error`` frame.

The error catalogue is :mod:`._errors`; a Messages answer before rendering and its
stream's events are :mod:`._render`. The fake (:mod:`chaos.providers.anthropic._fake`)
decides what to answer; this dialect turns it into the API's exact bytes.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit

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
    QuestionKind,
    canonical_args,
    joined_text,
    media_part,
)
from chaos.providers._edge import cloudflare_html, envoy_503
from chaos.providers._replies import ContentFault, Reply
from chaos.providers._tokens import limit_tokens, random_hex, random_id, tokenize
from chaos.providers.anthropic._errors import ERRORS, ErrorSpec, Invalid
from chaos.providers.anthropic._render import Answer, message_frames

__all__ = ["AnthropicDialect", "compact", "find_route", "path_only"]

_HOST = "api.anthropic.com"
_ORG_ID = "c4a5c6e1-7d2b-4f0e-9a51-3c8f0b6d2e71"  # a fixed, obviously fake organization
_MAX_PADDING = 15


_OPERATIONS = (
    Operation("messages.create", "POST", "/v1/messages", streams=True),
    Operation("messages.count_tokens", "POST", "/v1/messages/count_tokens"),
    Operation("models.list", "GET", "/v1/models"),
    Operation("models.retrieve", "GET", "/v1/models/{model_id}"),
    Operation("messages.batches.create", "POST", "/v1/messages/batches"),
    Operation("messages.batches.list", "GET", "/v1/messages/batches"),
    Operation("messages.batches.retrieve", "GET", "/v1/messages/batches/{message_batch_id}"),
    Operation("messages.batches.cancel", "POST", "/v1/messages/batches/{message_batch_id}/cancel"),
    Operation("messages.batches.delete", "DELETE", "/v1/messages/batches/{message_batch_id}"),
    Operation("messages.batches.results", "GET", "/v1/messages/batches/{message_batch_id}/results"),
    Operation("completions.create", "POST", "/v1/complete", streams=True),
)


def _path_regex(pattern: str) -> re.Pattern[str]:
    parts = re.split(r"\{(\w+)\}", pattern)
    regex = "".join(
        f"(?P<{part}>[^/]+)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
    )
    return re.compile(f"{regex}/?")


_ROUTES = tuple((op, _path_regex(op.path)) for op in _OPERATIONS)


def path_only(target: str) -> str:
    """The path of a request target (query and fragment removed)."""
    if target[:1] == "/" and target[1:2] != "/" and "#" not in target:
        return target.partition("?")[0]  # the usual origin form, without urlsplit's cost
    return urlsplit(target).path


def find_route(method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
    """The operation ``method path`` calls and the path's parameters, or None."""
    for op, regex in _ROUTES:
        match = regex.fullmatch(path)
        if match and op.method == method.upper():
            return op, match.groupdict()
    if not path.startswith("/v1/"):
        # @ai-sdk/anthropic reads ANTHROPIC_BASE_URL as ending in /v1 and appends
        # /messages; the official SDKs read it without /v1: answer both
        return find_route(method, "/v1" + path)
    return None


def compact(obj: object) -> bytes:
    """``obj`` as the API's compact JSON bytes."""
    return _sse.compact_json(obj).encode()


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


# -- the answer ----------------------------------------------------------------------------


# -- the dialect ---------------------------------------------------------------------------


class AnthropicDialect(Dialect):
    """Anthropic's Messages API: operations, exact errors and streams, and their renderers.

    Its fake is :class:`chaos.providers.anthropic._fake.AnthropicFake`.

    :param token_delay: seconds between two SSE events of a fake stream (0: as fast as
        the loop allows).
    :param pad_events: pad stream events with 0-15 spaces before their final ``}``, as
        the API does; off gives byte-stable streams.
    :param ratelimit_headers: send ``anthropic-ratelimit-*`` headers on successes.
    :param seed: seeds the padding, for repeatable bytes.
    """

    name = "anthropic"
    operations = _OPERATIONS
    auth_headers = ("x-api-key", "authorization")
    request_id_header = "request-id"
    env = MappingProxyType(
        {
            # the SDKs (Python, Node), @ai-sdk/anthropic (which appends /messages: the
            # fake answers both /v1/messages and /messages), pydantic-ai, LlamaIndex
            "ANTHROPIC_BASE_URL": "{url}",
            "ANTHROPIC_API_URL": "{url}",  # LangChain (read before ANTHROPIC_BASE_URL)
            "ANTHROPIC_API_BASE": "{url}",  # litellm (read before ANTHROPIC_BASE_URL)
            "ANTHROPIC_API_KEY": "sk-ant-api03-chaos-dummy-key",
        }
    )
    env_unset: ClassVar[tuple[str, ...]] = ("ANTHROPIC_AUTH_TOKEN",)
    host: ClassVar[str] = _HOST

    def __init__(
        self,
        *,
        token_delay: float = 0.0,
        pad_events: bool = True,
        ratelimit_headers: bool = True,
        seed: int | None = None,
    ) -> None:
        self.token_delay = token_delay
        self.pad_events = pad_events
        self.ratelimit_headers = ratelimit_headers
        self._random = random.Random(seed)
        self._ratelimit_at: tuple[int, tuple[tuple[str, str], ...]] = (-1, ())

    # -- identification --------------------------------------------------------------------

    def identify(self, method: str, path: str, body: bytes) -> CallInfo:
        """The operation, stream flag and model of a request (bad JSON: model None)."""
        route = find_route(method, path_only(path))
        if route is None:
            return CallInfo(operation=None, stream=False, model=None)
        op, params = route
        model: str | None = params.get("model_id")
        stream = False
        if op.method == "POST" and op.name in (
            "messages.create",
            "messages.count_tokens",
            "completions.create",
        ):
            try:
                data = json.loads(body or b"null")
            except ValueError:
                data = None
            if isinstance(data, dict):
                model = data.get("model") if isinstance(data.get("model"), str) else None
                stream = op.streams and data.get("stream") is True
        return CallInfo(operation=op.name, stream=stream, model=model)

    def question(self, info: CallInfo, body: bytes) -> Question | None:
        """The conversation of ``messages.create``/``count_tokens`` (``system``,
        ``messages``, tool names) or a legacy completion's prompt, normalised."""
        kind = _QUESTION_KINDS.get(info.operation or "")
        if kind is None:
            return None
        try:
            data = json.loads(body or b"null")
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict):
            return None
        return _conversation(data).question(kind)

    # -- errors ----------------------------------------------------------------------------

    def error_kinds(self) -> tuple[str, ...]:
        """Every fault kind :meth:`error` renders."""
        return tuple(ERRORS)

    def _spec(self, kind: str) -> ErrorSpec:
        spec = ERRORS.get(kind)
        if spec is None:
            raise unknown_choice(f"error kind for dialect {self.name!r}", kind, ERRORS)
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
        """Anthropic's exact answer for fault ``kind``.

        JSON kinds give ``{"type":"error","error":{"type","message"},"request_id"}``
        (compact); ``bad_gateway`` is Cloudflare's HTML 502 page and
        ``service_unavailable`` Envoy's plain-text 503, because that is what reaches
        clients of api.anthropic.com for those statuses.

        :param retry_after: seconds, sent as ``retry-after``.
        :param retry_after_ms: milliseconds, sent as ``retry-after-ms``.
        :param should_retry: overrides the ``x-should-retry`` the API sends for the kind.
        :param message: replaces the default error message (the page text for edge kinds).
        :raises ConfigError: unknown ``kind``; the message lists the valid ones.
        """
        spec = self._spec(kind)
        steering: list[tuple[str, str]] = []
        if retry_after_ms is not None:
            steering.append(("retry-after-ms", str(retry_after_ms)))
        if retry_after is not None:
            steering.append(("retry-after", _seconds(retry_after)))
        retry = spec.should_retry if should_retry is None else should_retry
        if retry is not None:
            steering.append(("x-should-retry", "true" if retry else "false"))
        if spec.edge:
            page = (
                cloudflare_html(spec.status, _HOST, what=message)
                if spec.status == 502
                else envoy_503(text=message)
            )
            page.headers[1:1] = steering
            return page
        request_id = random_id("req_011C", 20)
        body = {
            "type": "error",
            "error": {"type": spec.type, "message": spec.message if message is None else message},
            "request_id": request_id,
        }
        headers = [
            ("content-type", "application/json"),
            *steering,
            *spec.headers,
            *self.common_headers(request_id),
        ]
        return Response(status=spec.status, headers=headers, body=compact(body))

    def stream_error(
        self, kind: str, *, operation: str | None, message: str | None = None
    ) -> bytes:
        """The ``event: error`` frame the API sends inside a 200 stream (§1.8 bytes)."""
        spec = self._spec(kind)
        if spec.edge:
            text = {502: "Bad gateway", 503: "Service unavailable"}[spec.status]
        else:
            text = spec.message
        error = {"type": spec.type, "message": text if message is None else message}
        data = _sse.json_data({"type": "error", "error": error}, compact=False)
        return _sse.frame(data, event="error")

    def is_terminal_event(self, frame: bytes, *, operation: str | None) -> bool:
        """``message_stop``; for the legacy ``completions.create``, the completion with a
        ``stop_reason``."""
        event = _sse.parse_frame(frame)
        if event.event == "message_stop":
            return True
        if event.event == "completion":
            try:
                data = event.json()
            except ValueError:
                return False
            return isinstance(data, dict) and data.get("stop_reason") is not None
        return False

    def is_closing_event(self, frame: bytes, *, operation: str | None) -> bool:
        """``message_delta`` (it carries ``stop_reason``) or anything terminal."""
        if _sse.parse_frame(frame).event == "message_delta":
            return True
        return self.is_terminal_event(frame, operation=operation)

    # -- rendering answers ---------------------------------------------------------------------

    def render_message(self, answer: Answer, *, stream: bool) -> Response:
        """``answer`` as the API sends it: a Messages object, or its SSE stream."""
        if stream:
            return self.answer_stream(message_frames(answer, self._event))
        return self.answer_json(200, answer.message(), ratelimit=True)

    def answer_from_reply(
        self, reply: Reply, *, model: str, input_tokens: int, max_tokens: int
    ) -> Answer:
        """The :class:`Answer` a scripted ``reply`` gives (cut at ``max_tokens``).

        :param model: the model the answer names (the dated id of an alias).
        :param input_tokens: the prompt's tokens, unless the reply's usage says otherwise.
        """
        tokens, truncated = limit_tokens(reply.text, max_tokens)
        tool = raw = None
        more: list[tuple[str, str, object, str]] = []
        if reply.calls and not truncated:
            call, *rest = reply.calls
            tool = (random_id("toolu_01", 22), call.name, call.arguments_object())
            raw = call.arguments_json
            for extra in rest:
                tool_id = random_id("toolu_01", 22)
                more.append((tool_id, extra.name, extra.arguments_object(), extra.arguments_json))
        return Answer(
            model=model,
            input_tokens=reply.usage.get("input_tokens", input_tokens),
            text_tokens=tokens,
            tool=tool,
            stop_reason=reply.stop_for("anthropic", truncated=truncated),
            stop_sequence=None,
            tool_raw=raw,
            output_override=reply.usage.get("output_tokens"),
            more_tools=tuple(more),
        )

    def content_fault(self, answer: Answer, fault: ContentFault) -> Answer:
        """``answer`` as a content fault changes it (noted in :attr:`replies`)."""
        changed = dataclasses.replace(answer, output_override=None)
        if fault.kind == "malformed_tool_args":
            if answer.tool is None:
                return answer  # nothing to break: no tool call in this answer
            changed.tool_raw = fault.cut_arguments(answer.tool_json)
            changed.malformed = True
            self.replies.delivered(fault.kind, changed.tool_raw)
            return changed
        changed.tool = changed.tool_raw = None
        changed.more_tools = ()
        if fault.kind == "truncate_answer":
            changed.text_tokens = answer.text_tokens[: fault.tokens]
            changed.stop_reason = "max_tokens"
        elif fault.kind == "refusal":
            changed.text_tokens = tokenize(fault.message)
            changed.stop_reason = "refusal"
        else:  # empty_answer
            changed.text_tokens = []
            changed.stop_reason = "end_turn"
        changed.stop_sequence = None
        self.replies.delivered(fault.kind, "".join(changed.text_tokens))
        return changed

    def _pad(self) -> int:
        return self._random.randint(0, _MAX_PADDING) if self.pad_events else 0

    def _event(self, name: str, payload: dict[str, object]) -> bytes:
        return _sse.frame(_sse.json_data(payload, padding=self._pad()), event=name)

    def render_completion(
        self,
        *,
        model: str,
        tokens: list[str],
        stop_reason: str,
        stop: str | None,
        stream: bool,
    ) -> Response:
        """A legacy text completion (``POST /v1/complete``) of ``tokens``, whole or streamed."""
        completion_id = random_id("compl_01", 22)
        if stream:
            frames = []
            for token in tokens:
                chunk = {
                    "type": "completion",
                    "id": completion_id,
                    "completion": token,
                    "stop_reason": None,
                    "model": model,
                }
                frames.append(_sse.frame(_sse.json_data(chunk), event="completion"))
            ping = _sse.frame(_sse.json_data({"type": "ping"}, compact=False), event="ping")
            frames.insert(min(1, len(frames)), ping)
            final = {
                "type": "completion",
                "id": completion_id,
                "completion": "",
                "stop_reason": stop_reason,
                "model": model,
                "stop": stop,
            }
            frames.append(_sse.frame(_sse.json_data(final), event="completion"))
            return self.answer_stream(frames)
        completion = {
            "type": "completion",
            "id": completion_id,
            "completion": "".join(tokens),
            "stop_reason": stop_reason,
            "model": model,
            "stop": stop,
        }
        return self.answer_json(200, completion, ratelimit=True)

    # -- envelopes -----------------------------------------------------------------------------

    def common_headers(self, request_id: str | None = None) -> list[tuple[str, str]]:
        """The headers on every answer: ``request-id``, organization, Cloudflare's."""
        return [
            ("request-id", request_id or random_id("req_011C", 20)),
            ("anthropic-organization-id", _ORG_ID),
            ("strict-transport-security", "max-age=31536000; includeSubDomains; preload"),
            ("server", "cloudflare"),
            ("x-robots-tag", "none"),
            ("cf-cache-status", "DYNAMIC"),
            ("content-security-policy", "default-src 'none'; frame-ancestors 'none'"),
            ("via", "1.1 google"),
            ("cf-ray", f"{random_hex(8)}-SJC"),
        ]

    def _ratelimit(self) -> tuple[tuple[str, str], ...]:
        if not self.ratelimit_headers:
            return ()
        second = int(time.time())
        cached_at, headers = self._ratelimit_at
        if cached_at == second:  # the same for every answer within one second
            return headers
        headers = self._ratelimit_headers(datetime.fromtimestamp(second, UTC))
        self._ratelimit_at = (second, headers)
        return headers

    @staticmethod
    def _ratelimit_headers(now: datetime) -> tuple[tuple[str, str], ...]:
        soon = (now + timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
        later = (now + timedelta(seconds=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
        limits = (
            ("input-tokens", 2_000_000, 1_998_000, later),
            ("output-tokens", 400_000, 400_000, soon),
            ("requests", 4_000, 3_999, soon),
            ("tokens", 2_400_000, 2_398_000, later),
        )
        headers: list[tuple[str, str]] = []
        for name, limit, remaining, reset in limits:
            prefix = f"anthropic-ratelimit-{name}"
            headers += [
                (f"{prefix}-limit", str(limit)),
                (f"{prefix}-remaining", str(remaining)),
                (f"{prefix}-reset", reset),
            ]
        return tuple(headers)

    def answer_json(self, status: int, payload: object, *, ratelimit: bool = False) -> Response:
        """A JSON answer; ``ratelimit`` adds the ``anthropic-ratelimit-*`` headers."""
        headers = [("content-type", "application/json")]
        if ratelimit:
            headers += self._ratelimit()
        return Response(
            status=status, headers=headers + self.common_headers(), body=compact(payload)
        )

    def answer_stream(self, frames: list[bytes]) -> Response:
        """An SSE answer of ``frames``, paced by ``token_delay``."""
        headers = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            *self._ratelimit(),
            *self.common_headers(),
        ]
        return Response(status=200, headers=headers, events=_sse.pace(frames, self.token_delay))

    def refuse(self, exc: Invalid) -> Response:
        """The API's error answer to a request it refuses."""
        request_id = random_id("req_011C", 20)
        body = {
            "type": "error",
            "error": {"type": exc.kind, "message": exc.message},
            "request_id": request_id,
        }
        headers = [("content-type", "application/json")]
        if exc.status == 400:
            headers.append(("x-should-retry", "false"))
        return Response(
            status=exc.status,
            headers=headers + self.common_headers(request_id),
            body=compact(body),
        )


_QUESTION_KINDS: dict[str, QuestionKind] = {
    "messages.create": "generate",
    "messages.count_tokens": "count_tokens",
    "completions.create": "generate",
}
_SKIPPED_BLOCKS = frozenset({"thinking", "redacted_thinking"})


def _conversation(data: Mapping[str, Any]) -> Conversation:
    """A Messages request (or a legacy ``prompt``) in the dialect-neutral form."""
    conv = Conversation()
    system = data.get("system")
    if isinstance(system, list):
        for block in system:
            if isinstance(block, dict):
                conv.add_system(block.get("text"))
    else:
        conv.add_system(system)
    conv.add_text("user", data.get("prompt"))
    messages = data.get("messages")
    for message in messages if isinstance(messages, list) else ():
        if not isinstance(message, dict):
            continue
        role: Literal["user", "assistant"] = (
            "assistant" if message.get("role") == "assistant" else "user"
        )
        content = message.get("content")
        if isinstance(content, str):
            conv.add_text(role, content)
            continue
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict):
                _block(conv, role, block)
    tools = data.get("tools")
    for tool in tools if isinstance(tools, list) else ():
        if isinstance(tool, dict):
            conv.add_tool(tool.get("name"))
    return conv


def _block(
    conv: Conversation, role: Literal["user", "assistant"], block: Mapping[str, Any]
) -> None:
    kind = block.get("type")
    if kind == "text":
        conv.add_text(role, block.get("text"))
    elif kind == "tool_use":
        conv.add("assistant", ("call", str(block.get("name")), canonical_args(block.get("input"))))
    elif kind == "tool_result":
        conv.add("tool", ("result", (joined_text(block.get("content")) or "").strip()))
    elif kind in ("image", "document"):
        source = block.get("source")
        source = source if isinstance(source, dict) else {}
        conv.add(role, media_part(source.get("data") or source.get("url") or source))
    elif kind not in _SKIPPED_BLOCKS:
        conv.add(role, ("other", str(kind), canonical_args(block)))
