"""The Anthropic fake: the Messages API's server, built on :mod:`._dialect`.

It validates requests the way the API does and answers deterministically: the
text is ``"Echo: "`` plus the last user message (see
:func:`chaos.providers._fake.answer_text`), usage adds up, tools are called when
given, scripted replies come first, batches live in memory. Every byte it sends is
rendered by :class:`~chaos.providers.anthropic._dialect.AnthropicDialect`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chaos.providers import _fake
from chaos.providers._base import Fake, Request, Response
from chaos.providers._replies import CONTENT_FAULT, ReplyQuery
from chaos.providers.anthropic._dialect import (
    AnthropicDialect,
    compact,
    find_route,
    path_only,
)
from chaos.providers.anthropic._errors import Invalid
from chaos.providers.anthropic._render import Answer

__all__ = ["ANTHROPIC_MODELS", "AnthropicFake"]


@dataclass(frozen=True, slots=True)
class _ModelInfo:
    id: str
    released: str
    max_input_tokens: int
    max_tokens: int
    alias: str | None = None
    deprecated: str | None = None  # date of deprecation, the SDK warns on these

    @property
    def line(self) -> str:
        return self.id.split("-")[1]

    def to_json(self) -> dict[str, object]:
        version = ".".join(p for p in self.id.split("-")[2:] if len(p) == 1)
        return {
            "type": "model",
            "id": self.id,
            "display_name": f"Claude {self.line.title()} {version}",
            "created_at": f"{self.released}T00:00:00Z",
            "deprecated_at": f"{self.deprecated}T00:00:00Z" if self.deprecated else None,
            "lifecycle": "deprecated" if self.deprecated else "active",
            "line": self.line,
            "max_input_tokens": self.max_input_tokens,
            "max_tokens": self.max_tokens,
        }


ANTHROPIC_MODELS: tuple[_ModelInfo, ...] = (
    _ModelInfo("claude-opus-4-6", "2026-02-05", 1_000_000, 128_000),
    _ModelInfo("claude-sonnet-4-6", "2026-02-17", 1_000_000, 64_000),
    _ModelInfo("claude-haiku-4-5-20251001", "2025-10-15", 200_000, 64_000, "claude-haiku-4-5"),
    _ModelInfo(
        "claude-opus-4-5-20251101", "2025-11-24", 200_000, 64_000, "claude-opus-4-5", "2026-07-22"
    ),
    _ModelInfo(
        "claude-sonnet-4-5-20250929",
        "2025-09-29",
        1_000_000,
        64_000,
        "claude-sonnet-4-5",
        "2026-05-29",
    ),
)
"""The models the fake lists, newest first: id, release date, context window, max output,
alias, deprecation date (the two 4.5 models the SDK 2.13 warns about are deprecated)."""


def _now() -> datetime:
    return datetime.now(UTC)


def _rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class _Call:
    """A request routed to an operation: the request and the path's parameters."""

    request: Request
    params: dict[str, str]

    def json(self) -> dict[str, Any]:
        return _load_json(self.request.body)

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.request.path).query).items()}

    @property
    def host(self) -> str:
        return self.request.header("host") or "localhost"


# -- reading a Messages request ------------------------------------------------------------


def _text_of(content: object) -> str:
    """All the text in a message's content (a string or a list of blocks)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        return ""
    pieces: list[str] = []
    for block in content:
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "text":
            pieces.append(str(block.get("text", "")))
        elif kind == "tool_result":
            pieces.append(_text_of(block.get("content", "")))
        elif kind == "tool_use":
            pieces.append(json.dumps(block.get("input", {}), separators=(",", ":")))
    return " ".join(piece for piece in pieces if piece)


def _has_tool_result(content: object) -> bool:
    return isinstance(content, list) and any(
        isinstance(block, Mapping) and block.get("type") == "tool_result" for block in content
    )


def _input_tokens(body: Mapping[str, Any]) -> int:
    """Prompt tokens: system, every message (plus 3 for its role framing), tool definitions."""
    total = _fake.count_tokens(_text_of(body.get("system", "")))
    for message in body.get("messages", []):
        if isinstance(message, Mapping):
            total += 3 + _fake.count_tokens(_text_of(message.get("content", "")))
    for tool in body.get("tools") or []:
        total += _fake.count_tokens(json.dumps(tool, separators=(",", ":"), sort_keys=True))
    return max(total, 1)


def _load_json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body or b"null")
    except ValueError as exc:
        raise Invalid(
            400, "invalid_request_error", f"There was an issue with your request body: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise Invalid(400, "invalid_request_error", "Request body must be a JSON object")
    return data


def _require(body: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if name not in body:
            raise Invalid(400, "invalid_request_error", f"{name}: Field required")


def _check_model(model: object) -> str:
    if not isinstance(model, str):
        raise Invalid(400, "invalid_request_error", "model: Input should be a valid string")
    if not model.startswith("claude-"):
        raise Invalid(404, "not_found_error", f"model: {model}")
    return model


def _check_messages(messages: object) -> list[Mapping[str, Any]]:
    if not isinstance(messages, list):
        raise Invalid(400, "invalid_request_error", "messages: Input should be a valid list")
    if not messages:
        raise Invalid(400, "invalid_request_error", "messages: at least one message is required")
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, Mapping) else None
        if role not in ("user", "assistant"):
            raise Invalid(
                400,
                "invalid_request_error",
                f"messages.{index}.role: Input should be 'user' or 'assistant'",
            )
        if "content" not in message:
            raise Invalid(400, "invalid_request_error", f"messages.{index}.content: Field required")
    return messages


def _validate_create(body: Mapping[str, Any]) -> None:
    _require(body, "model", "messages", "max_tokens")
    _check_model(body["model"])
    _check_messages(body["messages"])
    max_tokens = body["max_tokens"]
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool):
        raise Invalid(400, "invalid_request_error", "max_tokens: Input should be a valid integer")
    if max_tokens < 1:
        raise Invalid(
            400, "invalid_request_error", "max_tokens: Input should be greater than or equal to 1"
        )


def _resolve(model: str) -> str:
    """The dated id the API answers with for an alias (``claude-sonnet-4-5`` -> dated)."""
    return next((m.id for m in ANTHROPIC_MODELS if m.alias == model), model)


def _page(data: list[dict[str, object]], query: Mapping[str, str]) -> dict[str, object]:
    """One page of a list endpoint (``limit``, ``after_id``, ``before_id``), by ``id``."""
    ids = [str(item["id"]) for item in data]
    if "after_id" in query and query["after_id"] in ids:
        data = data[ids.index(query["after_id"]) + 1 :]
    elif "before_id" in query and query["before_id"] in ids:
        data = data[: ids.index(query["before_id"])]
    try:
        limit = int(query.get("limit", "20"))
    except ValueError:
        raise Invalid(
            400, "invalid_request_error", "limit: Input should be a valid integer"
        ) from None
    if not 1 <= limit <= 1000:
        raise Invalid(400, "invalid_request_error", "limit: Input should be between 1 and 1000")
    page = data[:limit]
    return {
        "data": page,
        "has_more": len(data) > limit,
        "first_id": page[0]["id"] if page else None,
        "last_id": page[-1]["id"] if page else None,
    }


def _pick_tool(body: Mapping[str, Any], prompt: str) -> Mapping[str, Any] | None:
    tools = [t for t in body.get("tools") or [] if isinstance(t, Mapping) and "name" in t]
    choice = body.get("tool_choice")
    choice_type = choice.get("type") if isinstance(choice, Mapping) else None
    if not tools or choice_type == "none":
        return None
    if choice_type == "tool":
        named = [t for t in tools if t["name"] == choice.get("name")]  # type: ignore[union-attr]
        return named[0] if named else None
    lowered = prompt.lower()
    mentioned = [t for t in tools if str(t["name"]).lower() in lowered]
    return (mentioned or tools)[0]


def _answer(body: Mapping[str, Any]) -> Answer:
    """The deterministic answer to a validated Messages request.

    It echoes the last user message (an assistant prefill after it is continued
    with that same echo).
    """
    messages = body["messages"]
    last = messages[-1]
    users = [m for m in messages if m.get("role") == "user"]
    prompt = _text_of(users[-1].get("content", "")) if users else ""
    after_tool = last.get("role") == "user" and _has_tool_result(last.get("content"))
    text = _fake.answer_text(prompt)
    stop_reason, stop_sequence = "end_turn", None
    found = [
        (text.index(seq), seq)
        for seq in body.get("stop_sequences") or []
        if isinstance(seq, str) and seq and seq in text
    ]
    if found:
        cut, stop_sequence = min(found)
        text, stop_reason = text[:cut], "stop_sequence"
    tokens, truncated = _fake.limit_tokens(text, body["max_tokens"])
    tool = None
    if truncated:
        stop_reason, stop_sequence = "max_tokens", None
    elif not after_tool and stop_sequence is None:
        picked = _pick_tool(body, prompt)
        if picked is not None:
            schema = picked.get("input_schema")
            arguments = _fake.tool_arguments(schema if isinstance(schema, Mapping) else {}, prompt)
            tool = (_fake.random_id("toolu_01", 22), str(picked["name"]), arguments)
            stop_reason = "tool_use"
    return Answer(
        model=_resolve(body["model"]),
        input_tokens=_input_tokens(body),
        text_tokens=tokens,
        tool=tool,
        stop_reason=stop_reason,
        stop_sequence=stop_sequence,
    )


# -- batches -------------------------------------------------------------------------------


@dataclass(slots=True)
class _Batch:
    id: str
    created_at: datetime
    requests: list[Mapping[str, Any]]
    status: str = "in_progress"
    cancel_initiated_at: datetime | None = None
    ended_at: datetime | None = None
    results: list[dict[str, object]] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts = {"processing": 0, "succeeded": 0, "errored": 0, "canceled": 0, "expired": 0}
        if self.status != "ended":
            counts["processing"] = len(self.requests)
            return counts
        for line in self.results:
            result = line["result"]
            assert isinstance(result, dict)
            counts[str(result["type"])] += 1
        return counts

    def to_json(self, host: str) -> dict[str, object]:
        ended = self.status == "ended"
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": self.status,
            "request_counts": self.counts(),
            "ended_at": _rfc3339(self.ended_at) if self.ended_at else None,
            "created_at": _rfc3339(self.created_at),
            "expires_at": _rfc3339(self.created_at + timedelta(days=1)),
            "archived_at": None,
            "cancel_initiated_at": (
                _rfc3339(self.cancel_initiated_at) if self.cancel_initiated_at else None
            ),
            "results_url": (
                f"http://{host}/v1/messages/batches/{self.id}/results" if ended else None
            ),
        }


def _batch_result(request: Mapping[str, Any], canceled: bool) -> dict[str, object]:
    custom_id = request.get("custom_id")
    if canceled:
        return {"custom_id": custom_id, "result": {"type": "canceled"}}
    params = request.get("params")
    try:
        if not isinstance(params, Mapping):
            raise Invalid(400, "invalid_request_error", "params: Field required")
        _validate_create(params)
        if params.get("stream"):
            raise Invalid(
                400, "invalid_request_error", "stream: Streaming is not supported in batches"
            )
        message = _answer(params).message()
    except Invalid as exc:
        error = {"type": "error", "error": {"type": exc.kind, "message": exc.message}}
        return {"custom_id": custom_id, "result": {"type": "errored", "error": error}}
    return {"custom_id": custom_id, "result": {"type": "succeeded", "message": message}}


# -- the fake ------------------------------------------------------------------------------


class AnthropicFake(Fake[AnthropicDialect]):
    """The Anthropic API's fake: validation, answers, models, batches; bytes by its dialect."""

    name = "anthropic"

    def __init__(self, dialect: AnthropicDialect) -> None:
        super().__init__(dialect)
        self._batches: dict[str, _Batch] = {}
        self._handlers: dict[str, Callable[[_Call], Response]] = {
            "messages.create": self._messages_create,
            "messages.count_tokens": self._count_tokens,
            "models.list": self._models_list,
            "models.retrieve": self._models_retrieve,
            "messages.batches.create": self._batches_create,
            "messages.batches.list": self._batches_list,
            "messages.batches.retrieve": self._batches_retrieve,
            "messages.batches.cancel": self._batches_cancel,
            "messages.batches.delete": self._batches_delete,
            "messages.batches.results": self._batches_results,
            "completions.create": self._complete,
        }

    async def serve(self, request: Request) -> Response:
        """Answer ``request`` as the Anthropic API would, offline and deterministically."""
        route = find_route(request.method, path_only(request.path))
        try:
            if not self._authenticated(request):
                raise Invalid(401, "authentication_error", "x-api-key header is required")
            if route is None:
                raise Invalid(404, "not_found_error", "Not Found")
            if request.header("anthropic-version") is None:
                raise Invalid(400, "invalid_request_error", "anthropic-version: header is required")
            op, params = route
            return self._dispatch(op.name, params, request)
        except Invalid as exc:
            return self.dialect.refuse(exc)

    def _dispatch(self, operation: str, params: dict[str, str], request: Request) -> Response:
        return self._handlers[operation](_Call(request, params))

    def _authenticated(self, request: Request) -> bool:
        if request.header("x-api-key"):
            return True
        authorization = request.header("authorization") or ""
        return authorization.lower().startswith("bearer ") and bool(authorization[7:].strip())

    def _count_tokens(self, call: _Call) -> Response:
        body = call.json()
        _require(body, "model", "messages")
        _check_model(body["model"])
        _check_messages(body["messages"])
        return self.dialect.answer_json(200, {"input_tokens": _input_tokens(body)}, ratelimit=True)

    def _models_list(self, call: _Call) -> Response:
        data = [m.to_json() for m in ANTHROPIC_MODELS]
        return self.dialect.answer_json(200, _page(data, call.query))

    def _models_retrieve(self, call: _Call) -> Response:
        return self.dialect.answer_json(200, self._model(call.params["model_id"]).to_json())

    def _model(self, model_id: str) -> _ModelInfo:
        for model in ANTHROPIC_MODELS:
            if model_id in (model.id, model.alias):
                return model
        raise Invalid(404, "not_found_error", f"model: {model_id}")

    # -- messages ----------------------------------------------------------------------------

    def _messages_create(self, call: _Call) -> Response:
        body = call.json()
        _validate_create(body)
        answer = self._scripted(body) or _answer(body)
        fault = CONTENT_FAULT.get()
        if fault is not None:
            answer = self.dialect.content_fault(answer, fault)
        return self.dialect.render_message(answer, stream=body.get("stream") is True)

    def _scripted(self, body: Mapping[str, Any]) -> Answer | None:
        """The answer of the first scripted reply that matches ``body``, if any."""
        replies = self.dialect.replies
        if not len(replies):
            return None
        users = [m for m in body["messages"] if m.get("role") == "user"]
        prompt = _text_of(users[-1].get("content", "")) if users else ""
        declared = [t for t in body.get("tools") or [] if isinstance(t, Mapping)]
        tools = tuple(str(t.get("name")) for t in declared)
        query = ReplyQuery("messages.create", str(body["model"]), prompt, tools)
        reply = replies.take(query)
        if reply is None:
            return None
        return self.dialect.answer_from_reply(
            reply,
            model=_resolve(body["model"]),
            input_tokens=_input_tokens(body),
            max_tokens=body["max_tokens"],
        )

    # -- legacy text completions ---------------------------------------------------------------

    def _complete(self, call: _Call) -> Response:
        body = call.json()
        _require(body, "model", "prompt", "max_tokens_to_sample")
        model = _check_model(body["model"])
        prompt = body["prompt"]
        if not isinstance(prompt, str):
            raise Invalid(400, "invalid_request_error", "prompt: Input should be a valid string")
        human = prompt.rsplit("\n\nHuman:", 1)[-1].split("\n\nAssistant:", 1)[0]
        tokens, truncated = _fake.limit_tokens(
            " " + _fake.answer_text(human), body["max_tokens_to_sample"]
        )
        stop_reason = "max_tokens" if truncated else "stop_sequence"
        stop = None if truncated else "\n\nHuman:"
        return self.dialect.render_completion(
            model=model,
            tokens=tokens,
            stop_reason=stop_reason,
            stop=stop,
            stream=body.get("stream") is True,
        )

    # -- batches ---------------------------------------------------------------------------

    def _settle(self, batch: _Batch) -> None:
        """A batch ends the first time it is read after creation (or cancel)."""
        if batch.status == "ended":
            return
        canceled = batch.status == "canceling"
        batch.results = [_batch_result(r, canceled) for r in batch.requests]
        batch.status = "ended"
        batch.ended_at = _now()

    def _batch(self, call: _Call) -> _Batch:
        batch = self._batches.get(call.params["message_batch_id"])
        if batch is None:
            raise Invalid(404, "not_found_error", "The requested resource could not be found.")
        return batch

    def _batches_create(self, call: _Call) -> Response:
        body = call.json()
        _require(body, "requests")
        requests = body["requests"]
        if not isinstance(requests, list) or not requests:
            raise Invalid(
                400, "invalid_request_error", "requests: List should have at least 1 item"
            )
        for index, item in enumerate(requests):
            if not isinstance(item, Mapping) or "custom_id" not in item:
                raise Invalid(
                    400, "invalid_request_error", f"requests.{index}.custom_id: Field required"
                )
        batch = _Batch(_fake.random_id("msgbatch_01", 22), _now(), list(requests))
        self._batches[batch.id] = batch
        return self.dialect.answer_json(200, batch.to_json(call.host))

    def _batches_list(self, call: _Call) -> Response:
        batches = list(reversed(self._batches.values()))  # newest first
        for batch in batches:
            self._settle(batch)
        return self.dialect.answer_json(
            200, _page([b.to_json(call.host) for b in batches], call.query)
        )

    def _batches_retrieve(self, call: _Call) -> Response:
        batch = self._batch(call)
        self._settle(batch)
        return self.dialect.answer_json(200, batch.to_json(call.host))

    def _batches_cancel(self, call: _Call) -> Response:
        batch = self._batch(call)
        if batch.status == "in_progress":
            batch.status = "canceling"
            batch.cancel_initiated_at = _now()
        return self.dialect.answer_json(200, batch.to_json(call.host))

    def _batches_delete(self, call: _Call) -> Response:
        batch = self._batch(call)
        if batch.status != "ended":
            raise Invalid(
                400,
                "invalid_request_error",
                f"Batch {batch.id} cannot be deleted while it is still processing; "
                "cancel it first.",
            )
        del self._batches[batch.id]
        return self.dialect.answer_json(200, {"id": batch.id, "type": "message_batch_deleted"})

    def _batches_results(self, call: _Call) -> Response:
        batch = self._batch(call)
        self._settle(batch)
        lines = b"".join(compact(line) + b"\n" for line in batch.results)
        return Response(
            status=200,
            headers=[("content-type", "application/binary"), *self.dialect.common_headers()],
            body=lines,
        )
