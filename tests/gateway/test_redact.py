"""Secrets never reach the journal."""

from __future__ import annotations

import httpx
import pytest

from chaos.common._redact import REDACTED, redact_headers, redact_path
from chaos.gateway import Gateway


@pytest.mark.parametrize(
    "name",
    [
        "x-api-key",
        "Authorization",
        "cookie",
        "Set-Cookie",
        "x-goog-api-key",
        "x-session-id",
        "x-auth-thing",
        "my-secret",
        "refresh-token",
        "x-password",
    ],
)
def test_secret_headers(name: str) -> None:
    assert redact_headers([(name, "s3cr3t")]) == {name.lower(): REDACTED}


def test_plain_headers_and_repeats() -> None:
    assert redact_headers([("accept", "a"), ("Accept", "b")]) == {"accept": "a, b"}


def test_query_keys() -> None:
    assert redact_path("/v1beta/models/x:generateContent?key=AIza123&alt=sse") == (
        f"/v1beta/models/x:generateContent?key={REDACTED}&alt=sse"
    )
    assert redact_path("/v1/models?limit=2") == "/v1/models?limit=2"


def test_journal_is_redacted(gateway: Gateway, client: httpx.Client) -> None:
    client.get("/v1/models?key=AIza", headers={"authorization": "Bearer sk-1", "x-app": "a"})
    record = gateway.journal()[0]
    assert "sk-1" not in str(record.to_dict())
    assert "AIza" not in record.path
    assert record.request_headers["x-app"] == "a"
