"""Secret redaction for everything the harness records (journal, reports, admin API).

Header values whose name is a known credential header, or contains ``key``,
``token``, ``secret``, ``auth``, ``cookie``, ``session`` or ``password``, are
replaced by :data:`REDACTED`; so are such query parameters (``?key=...``, the
Gemini API-key style). Redaction happens before a record exists, never after.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

__all__ = ["REDACTED", "is_secret_name", "redact_headers", "redact_path"]

REDACTED = "[redacted]"
"""What a secret value is replaced with."""

_EXACT = frozenset(
    {"x-api-key", "authorization", "proxy-authorization", "cookie", "set-cookie", "x-goog-api-key"}
)
_PARTS = ("key", "token", "secret", "auth", "cookie", "session", "password")
# x-stainless-* and similar names are looked up many times: remember the verdicts
_verdicts: dict[str, bool] = {}


def is_secret_name(name: str) -> bool:
    """Whether a header or query parameter called ``name`` carries a secret."""
    verdict = _verdicts.get(name)
    if verdict is None:
        lowered = name.lower()
        verdict = lowered in _EXACT or any(part in lowered for part in _PARTS)
        if len(_verdicts) < 4096:
            _verdicts[name] = verdict
    return verdict


def redact_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Headers as a dict (lower-case names, repeated values joined by ``, ``), secrets redacted."""
    out: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        shown = REDACTED if is_secret_name(key) else value
        out[key] = f"{out[key]}, {shown}" if key in out else shown
    return out


def redact_path(path: str) -> str:
    """A request target with secret query parameters (``key=...``, ``token=...``) redacted."""
    base, sep, query = path.partition("?")
    if not sep or not any(part in query.lower() for part in _PARTS):
        return path
    pairs = [
        (k, REDACTED if is_secret_name(k) else v)
        for k, v in parse_qsl(query, keep_blank_values=True)
    ]
    return f"{base}?{urlencode(pairs, safe='[]')}"
