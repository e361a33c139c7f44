"""Retry steering: how long an answer asks the client to wait, in every form providers use.

``retry-after-ms`` (milliseconds, Anthropic and OpenAI), ``retry-after``
(seconds or an HTTP date), Google's ``RetryInfo.retryDelay`` in the error
body (a protobuf duration such as ``26s`` or ``45.837906927s``; Gemini sends
no header), and the ``retry_after`` seconds of Cloudflare's JSON edge pages
(``reference/providers.md`` §1, §2, §3).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterable
from email.utils import parsedate_to_datetime

__all__ = ["retry_delay"]

_DURATION = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)s\s*")


def _number(value: str) -> float | None:
    try:
        seconds = float(value)
    except ValueError:
        return None
    return seconds if seconds >= 0 and seconds == seconds and seconds != float("inf") else None


def _from_body(body: bytes) -> float | None:
    if not body or body.lstrip()[:1] != b"{":
        return None
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    error = data.get("error")
    details = error.get("details") if isinstance(error, dict) else None
    for detail in details if isinstance(details, list) else ():
        if not isinstance(detail, dict) or not str(detail.get("@type", "")).endswith(
            "google.rpc.RetryInfo"
        ):
            continue
        found = _DURATION.fullmatch(str(detail.get("retryDelay", "")))
        if found is not None:
            return float(found[1])
    value = data.get("retry_after")
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def retry_delay(headers: Iterable[tuple[str, str]], body: bytes = b"") -> float | None:
    """Seconds the answer asks to wait before trying again, or None when it asks nothing.

    The headers win over the body, ``retry-after-ms`` over ``retry-after``, as
    the official SDKs read them.

    :param headers: the response's header pairs.
    :param body: the response body (read for Google's ``RetryInfo`` and edge pages).
    """
    ms = seconds = None
    for key, value in headers:
        name = key.lower()
        if name == "retry-after-ms" and ms is None:
            ms = value
        elif name == "retry-after" and seconds is None:
            seconds = value
    if ms is not None and (wait := _number(ms)) is not None:
        return wait / 1000
    if seconds is not None:
        wait = _number(seconds)
        if wait is not None:
            return wait
        try:
            return max(0.0, parsedate_to_datetime(seconds).timestamp() - time.time())
        except (TypeError, ValueError):
            pass
    return _from_body(body)
