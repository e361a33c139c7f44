"""What one journal record looked like to the client, in a few report classes."""

from __future__ import annotations

from typing import Literal

from chaos.common._journal import JournalRecord

__all__ = ["CLASS_LABELS", "OutcomeClass", "is_success", "outcome_class"]

OutcomeClass = Literal["ok", "http_4xx", "http_429", "http_5xx", "wire", "stream"]

CLASS_LABELS: dict[OutcomeClass, str] = {
    "ok": "ok",
    "http_4xx": "HTTP 4xx",
    "http_429": "HTTP 429",
    "http_5xx": "HTTP 5xx",
    "wire": "wire fault",
    "stream": "stream fault",
}

_STREAM_OUTCOMES = frozenset({"stream_cut", "stream_error", "stream_ended_early", "stream_stalled"})


def outcome_class(record: JournalRecord) -> OutcomeClass:
    """The report class of ``record``: a success, an HTTP status class, a wire or a stream fault."""
    if record.outcome in _STREAM_OUTCOMES:
        return "stream"
    if record.outcome not in ("ok", "fault"):
        return "wire"
    status = record.status or 0
    if status == 429:
        return "http_429"
    if 400 <= status < 500:
        return "http_4xx"
    if status >= 500 or (record.outcome == "fault" and status == 0):
        return "http_5xx"
    return "ok"


def is_success(record: JournalRecord) -> bool:
    """Whether the client got a complete, successful answer to ``record``."""
    return outcome_class(record) == "ok"
