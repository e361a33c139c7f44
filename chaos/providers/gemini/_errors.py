"""Gemini's error catalogue: fault kind -> code, status, message and ``details``.

:meth:`~chaos.providers.gemini._dialect.GeminiDialect.error` renders a kind's exact
answer (providers.md §3.5): a 429's delay travels only in a ``RetryInfo`` detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from chaos.providers import _sse

__all__ = [
    "ERRORS",
    "GFE_502",
    "ErrorSpec",
    "error_body",
    "error_info",
    "error_object",
    "proto_duration",
]


_HELP = "https://ai.google.dev/gemini-api/docs/rate-limits"
_QUOTA_MESSAGE = (
    "You exceeded your current quota, please check your plan and billing details. For more"
    f" information on this error, head to: {_HELP}."
)
_KEY_INVALID = "API key not valid. Please pass a valid API key."

# Google's front end answers a 502 itself, with its HTML error page (style block trimmed).
GFE_502 = """<!DOCTYPE html>
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
class ErrorSpec:
    """One error of the catalogue: HTTP status, gRPC status name, message, details."""

    code: int
    status: str
    message: str
    details: tuple[dict[str, object], ...] = field(default=())
    retry_delay: str | None = None


ERRORS: Mapping[str, ErrorSpec] = {
    "bad_request": ErrorSpec(400, "INVALID_ARGUMENT", "Request contains an invalid argument."),
    "unauthorized": ErrorSpec(
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
    "forbidden": ErrorSpec(403, "PERMISSION_DENIED", "The caller does not have permission"),
    "not_found": ErrorSpec(
        404,
        "NOT_FOUND",
        "models/gemini-2.5-flash is not found for API version v1beta, or is not supported for"
        " generateContent. Call ListModels to see the list of available models and their"
        " supported methods.",
    ),
    "request_too_large": ErrorSpec(
        400, "INVALID_ARGUMENT", "Request payload size exceeds the limit: 20971520 bytes."
    ),
    "rate_limited": ErrorSpec(
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
    "quota_exceeded": ErrorSpec(
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
    "server_error": ErrorSpec(
        500,
        "INTERNAL",
        "An internal error has occurred. Please retry or report in"
        " https://developers.generativeai.google/guide/troubleshooting",
    ),
    "bad_gateway": ErrorSpec(502, "UNAVAILABLE", "Bad Gateway"),
    "service_unavailable": ErrorSpec(503, "UNAVAILABLE", "The service is currently unavailable."),
    "overloaded": ErrorSpec(503, "UNAVAILABLE", "The model is overloaded. Please try again later."),
    "gateway_timeout": ErrorSpec(
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


def error_object(
    code: int, message: str, status: str, details: list[dict[str, object]]
) -> dict[str, object]:
    error: dict[str, object] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def error_body(code: int, message: str, status: str, details: list[dict[str, object]]) -> bytes:
    """A Google API error body, pretty-printed with a 2-space indent."""
    error = error_object(code, message, status, details)
    return (_sse.indented_json(error, 2) + "\n").encode()


def error_info(reason: str) -> dict[str, object]:
    """A ``google.rpc.ErrorInfo`` detail naming ``reason``."""
    return {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": "generativelanguage.googleapis.com"},
    }
