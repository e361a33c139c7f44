"""Retries with tenacity that honour the provider's ``retry-after``.

The SDKs' own retries are switched off (``max_retries=0``) so there is one
retry layer with one explicit budget: ours.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import anthropic
import httpx2
import openai
from tenacity import RetryCallState

from resilient_app.breaker import CircuitOpen

# statuses worth asking again: timeouts, conflicts, rate limits, server errors (incl. 529)
RETRYABLE_STATUSES = frozenset({408, 409, 429}) | frozenset(range(500, 600))


def is_transient(exc: BaseException) -> bool:
    """Whether asking the same provider again may succeed."""
    if isinstance(exc, CircuitOpen):
        return False
    if isinstance(exc, (anthropic.APIStatusError, openai.APIStatusError)):
        if exc.status_code == 429 and _quota(exc):
            return False
        return exc.status_code in RETRYABLE_STATUSES
    return isinstance(
        exc,
        (anthropic.APIConnectionError, openai.APIConnectionError, httpx2.TransportError),
    )


def _quota(exc: anthropic.APIStatusError | openai.APIStatusError) -> bool:
    """A 429 that says the quota is gone: waiting a few seconds will not help."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body) if isinstance(body, dict) else {}
    code = error.get("code") or error.get("type") if isinstance(error, dict) else None
    return code in ("insufficient_quota", "billing_error")


def retry_after(exc: BaseException) -> float | None:
    """Seconds the provider asked us to wait (``retry-after-ms``, ``retry-after``), if any."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class TooLongToWait(Exception):
    """The provider asked for a longer pause than we are willing to take."""


class wait_retry_after:
    """A tenacity ``wait``: the provider's ``retry-after`` when it sent one, else
    exponential backoff with jitter. Longer than ``max_wait``: give up on this
    provider now (the caller fails over) instead of hanging the user.

    :param initial: the first backoff in seconds (doubled per attempt).
    :param max_backoff: the backoff cap.
    :param max_wait: the longest ``retry-after`` honoured.
    """

    def __init__(self, *, initial: float = 0.2, max_backoff: float = 2.0, max_wait: float = 10.0):
        self.initial = initial
        self.max_backoff = max_backoff
        self.max_wait = max_wait

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after(exc) if exc is not None else None
        if asked is not None:
            if asked > self.max_wait:
                raise TooLongToWait(f"provider asked to wait {asked:.0f}s") from exc
            return asked
        backoff = min(self.max_backoff, self.initial * 2 ** (state.attempt_number - 1))
        return backoff * (0.75 + 0.25 * random.random())
