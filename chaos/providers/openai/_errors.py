"""OpenAI's error catalogue: fault kind -> status and the ``error`` object's fields.

:meth:`~chaos.providers.openai._dialect.OpenAIDialect.error` renders a kind's exact
answer (providers.md §2.6); the edge kinds come from Cloudflare
(:mod:`chaos.providers._edge`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chaos.providers import _sse

__all__ = ["EDGE_KINDS", "ERRORS", "STREAM_SERVER_ERROR", "ErrorSpec", "error_body", "go_duration"]

# The organisation in the recorded "Request too large" 429 (providers.md §2.6).
_ORG = "org-VDAWofJASuLH0vVz8o9tiQZr"


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """One API error of the catalogue: status and the ``error`` object's fields."""

    status: int
    message: str
    type: str
    code: str | None
    param: str | None = None
    rate_limit: bool = False


ERRORS: Mapping[str, ErrorSpec] = {
    "bad_request": ErrorSpec(
        400,
        "We could not parse the JSON body of your request. (HINT: This likely means you aren't"
        " using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was"
        " sent was not valid JSON. If you have trouble figuring out how to fix this, please"
        " contact us through our help center at help.openai.com.)",
        "invalid_request_error",
        None,
    ),
    "unauthorized": ErrorSpec(
        401,
        "Incorrect API key provided: sk-chaos**ummy. You can find your API key at"
        " https://platform.openai.com/account/api-keys.",
        "invalid_request_error",
        "invalid_api_key",
    ),
    "forbidden": ErrorSpec(
        403,
        "Country, region, or territory not supported",
        "request_forbidden",
        "unsupported_country_region_territory",
    ),
    "not_found": ErrorSpec(
        404,
        "The model `gpt-4o` does not exist or you do not have access to it.",
        "invalid_request_error",
        "model_not_found",
    ),
    "request_too_large": ErrorSpec(
        429,
        f"Request too large for gpt-4o in organization {_ORG} on tokens per min (TPM):"
        " Limit 30000, Requested 30601. The input or output tokens must be reduced in order to"
        " run successfully. Visit https://platform.openai.com/account/rate-limits to learn more.",
        "tokens",
        "rate_limit_exceeded",
        rate_limit=True,
    ),
    "rate_limited": ErrorSpec(
        429,
        f"Rate limit reached for gpt-4o in organization {_ORG} on tokens per min (TPM):"
        " Limit 30000, Used 29937, Requested 385. Please try again in 644ms. Visit"
        " https://platform.openai.com/account/rate-limits to learn more.",
        "tokens",
        "rate_limit_exceeded",
        rate_limit=True,
    ),
    "quota_exceeded": ErrorSpec(
        429,
        "You exceeded your current quota, please check your plan and billing details. For more"
        " information on this error, read the docs:"
        " https://platform.openai.com/docs/guides/error-codes/api-errors.",
        "insufficient_quota",
        "insufficient_quota",
    ),
    "server_error": ErrorSpec(
        500,
        "The server had an error while processing your request. Sorry about that!",
        "server_error",
        None,
    ),
    "bad_gateway": ErrorSpec(502, "Bad gateway.", "cf_bad_gateway", None),
    "service_unavailable": ErrorSpec(503, "Service Unavailable.", "cf_service_unavailable", None),
    "overloaded": ErrorSpec(
        503,
        "Our servers are currently overloaded. Please try again later.",
        "service_unavailable_error",
        "server_is_overloaded",
    ),
    "gateway_timeout": ErrorSpec(504, "Gateway time-out", "cf_gateway_timeout", None),
}

# Kinds the edge answers, not the API: kind -> edge page (chaos.providers._edge).
EDGE_KINDS = {
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
