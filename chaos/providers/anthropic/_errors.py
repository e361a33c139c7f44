"""Anthropic's error catalogue: fault kind -> status, ``error.type``, message, headers.

:meth:`~chaos.providers.anthropic._dialect.AnthropicDialect.error` renders a kind's
exact answer (providers.md §1.6); :class:`Invalid` is a request the fake refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

__all__ = ["ERRORS", "ErrorSpec", "Invalid"]


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    """One kind of the catalogue: what the API answers for it."""

    status: int
    type: str  # error.type in the body; also the in-stream error's type
    message: str
    should_retry: bool | None = None  # the x-should-retry the API sends, None: no header
    edge: bool = False  # rendered by the edge layer (not Anthropic JSON)
    headers: tuple[tuple[str, str], ...] = ()


ERRORS: Mapping[str, ErrorSpec] = MappingProxyType(
    {
        "bad_request": ErrorSpec(
            400, "invalid_request_error", "messages: at least one message is required", False
        ),
        "unauthorized": ErrorSpec(401, "authentication_error", "invalid x-api-key"),
        "billing": ErrorSpec(
            402,
            "billing_error",
            "Your credit balance is too low to access the Anthropic API. "
            "Please go to Plans & Billing to upgrade or purchase credits.",
        ),
        "forbidden": ErrorSpec(
            403,
            "permission_error",
            "Your API key does not have permission to use the specified resource.",
        ),
        "not_found": ErrorSpec(
            404, "not_found_error", "The requested resource could not be found."
        ),
        "conflict": ErrorSpec(
            409, "conflict_error", "The request conflicts with the current state of the resource."
        ),
        "request_too_large": ErrorSpec(
            413, "request_too_large", "Request exceeds the maximum allowed number of bytes."
        ),
        # Recorded (content-length 606): x-should-retry true and no retry-after.
        "rate_limited": ErrorSpec(
            429,
            "rate_limit_error",
            "This request would exceed your organization's rate limit of 20,000,000 prompt "
            "bytes per hour (org: 5576611f-a1ee-427c-9800-298d9579899c, model: "
            "claude-sonnet-4-5-20250929). For details, refer to: "
            "https://docs.claude.com/en/api/rate-limits. You can see the response headers for "
            "current usage. Please reduce the prompt length or the maximum tokens requested, "
            "or try again later. You may also contact sales at "
            "https://www.anthropic.com/contact-sales to discuss your options for a rate limit "
            "increase.",
            True,
        ),
        # The monthly spend-cap 429: same type, never a retry-after.
        "quota_exceeded": ErrorSpec(
            429,
            "rate_limit_error",
            "You have reached your specified API usage limits. You will regain access on "
            "2026-12-01 at 00:00 UTC.",
            True,
        ),
        "server_error": ErrorSpec(500, "api_error", "Internal server error"),
        # No Anthropic JSON exists for these two: clients see the edge's answer.
        "bad_gateway": ErrorSpec(
            502, "api_error", "The web server reported a bad gateway error.", edge=True
        ),
        "service_unavailable": ErrorSpec(
            503,
            "api_error",
            "upstream connect error or disconnect/reset before headers. reset reason: overflow",
            edge=True,
        ),
        "gateway_timeout": ErrorSpec(504, "timeout_error", "Request timed out"),
        "overloaded": ErrorSpec(
            529,
            "overloaded_error",
            "Overloaded",
            True,
            headers=(("cache-control", "no-store, no-cache"),),
        ),
    }
)


class Invalid(Exception):
    """A request the API would refuse: status, error type, message (see
    :meth:`AnthropicDialect.refuse` for its bytes)."""

    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind
        self.message = message
