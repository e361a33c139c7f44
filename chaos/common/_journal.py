"""The request journal's record: one per attempt the app made.

Most records are HTTP requests the gateway saw. With the embedded Toxiproxy,
an attempt a network fault met is in the journal too: one the fault stopped
before it reached the gateway (refused by ``network: down``, reset or cut by
a toxic) gets a record of its own (``layer == "network"``), and a request that
reached the gateway but was then cut, reset or delayed on its way back keeps
its one record, which names the network fault (``network``).

The gateway writes records, the verdict reads them, reports render them. The
record is plain data with a stable JSON form (:meth:`JournalRecord.to_dict`),
which is also what the admin API serves, so tests in any language can read it.
Secrets are redacted before a record is created, never after.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

__all__ = ["JournalRecord", "Layer", "WireOutcome"]

Layer = Literal["http", "network"]

WireOutcome = Literal[
    "ok",  # a complete response was written
    "fault",  # the gateway answered with an HTTP fault (status/body decided by a rule)
    "hang",  # the gateway never answered (until the client gave up)
    "reset",  # the connection was reset (RST)
    "closed",  # FIN before any response byte
    "truncated",  # part of the response body, then close
    "stream_cut",  # an SSE stream was cut before its terminal event
    "stream_error",  # an SSE stream carried an in-stream error event
    "stream_ended_early",  # an SSE stream ended cleanly without its terminal event
    "stream_stalled",  # an SSE stream stopped sending with the connection open
    "client_gone",  # the client disconnected before the response was complete
    "upstream_error",  # forwarding to the upstream failed
    "refused",  # a network fault turned the connection away before any byte
]


@dataclass(frozen=True)
class JournalRecord:
    """What happened to one request.

    :param seq: position in the journal, from 0, increasing across all targets (not
        always contiguous: a network fault's note on a connection takes a number and is
        joined into the record of the attempt it met).
    :param time: wall-clock start, seconds since the epoch.
    :param target: the harness target that received it.
    :param method: HTTP method.
    :param path: request path (query included).
    :param operation: the dialect operation, e.g. ``messages.create`` (None if unknown).
    :param stream: whether the request asked for a stream.
    :param model: the model named in the request, if any.
    :param retry_count: the SDK's ``x-stainless-retry-count`` (None when absent).
    :param fingerprint: a hash of the request body with volatile fields removed,
        equal for the SDK's and the app's retries of the same logical call.
    :param content_key: a hash of the question the request asks: its conversation
        (messages or contents, tool calls and results, tool names) normalised across
        dialects, without model, stream flag or limits; equal for the same question
        sent to any target or model ("" when the operation asks none, e.g.
        ``models.list``). Only hashes are kept, never the conversation.
    :param system_keys: one hash per block of the system prompt (``system``,
        ``instructions``, system messages, ``systemInstruction``), sorted; kept
        apart from ``content_key`` because frameworks add provider-specific blocks.
    :param call_kind: what the operation does with the question: ``generate``,
        ``count_tokens`` or ``embed`` (None when it asks none).
    :param rule: the name of the fault rule applied, or None when passed through.
    :param action: the applied action's description, e.g. ``error:overloaded``.
    :param phase: the profile phase the rule belongs to, if any.
    :param status: the HTTP status sent (None when no status line was sent).
    :param outcome: what happened on the wire.
    :param bytes_in: request body bytes received.
    :param bytes_out: response bytes written (headers included).
    :param events: SSE events written (0 for non-streaming answers).
    :param duration: seconds from the request's arrival to the end of the response.
    :param request_headers: request headers, secrets redacted.
    :param response_headers: response headers, secrets redacted.
    :param layer: the layer that decided what the app got: ``network`` when a
        network fault stopped, cut or reset the attempt (Toxiproxy), else ``http``.
    :param network: the name of the network fault that met this attempt (it
        stopped, cut, reset or only delayed it), None when none did.
    :param retry_delay: seconds the answer asked the client to wait before trying
        again (``retry-after-ms``, ``retry-after``, or Gemini's body
        ``RetryInfo.retryDelay``), None when it asked nothing.
    """

    seq: int
    time: float
    target: str
    method: str
    path: str
    operation: str | None = None
    stream: bool = False
    model: str | None = None
    retry_count: int | None = None
    fingerprint: str = ""
    content_key: str = ""
    system_keys: tuple[str, ...] = ()
    call_kind: str | None = None
    rule: str | None = None
    action: str | None = None
    phase: str | None = None
    status: int | None = None
    outcome: WireOutcome = "ok"
    bytes_in: int = 0
    bytes_out: int = 0
    events: int = 0
    duration: float = 0.0
    request_headers: Mapping[str, str] = field(default_factory=dict)
    response_headers: Mapping[str, str] = field(default_factory=dict)
    layer: Layer = "http"
    network: str | None = None
    retry_delay: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (the admin API's and the reports' form)."""
        data = asdict(self)
        data["request_headers"] = dict(self.request_headers)
        data["response_headers"] = dict(self.response_headers)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JournalRecord:
        """Rebuild a record from :meth:`to_dict` output (e.g. read over the admin API)."""
        fields = dict(data)
        if "system_keys" in fields:  # a JSON list
            fields["system_keys"] = tuple(fields["system_keys"])
        return cls(**fields)
