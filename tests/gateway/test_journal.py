"""The journal record: every field filled from the request, the rule and the wire."""

from __future__ import annotations

import json

import httpx

from chaos.faults import ErrorAction, Fault, Match
from chaos.gateway import Gateway
from chaos.gateway._exchange import fingerprint


def test_fingerprint_ignores_volatile_fields_and_key_order() -> None:
    a = json.dumps({"model": "m", "messages": [1], "metadata": {"user_id": "a"}}).encode()
    b = json.dumps({"messages": [1], "model": "m", "metadata": {"user_id": "b"}}).encode()
    c = json.dumps({"model": "m", "messages": [2]}).encode()
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)
    assert fingerprint(b"") == ""
    assert fingerprint(b"not json") == fingerprint(b"not json") != fingerprint(b"other")


def test_record_fields(gateway: Gateway, client: httpx.Client) -> None:
    gateway.set_faults(
        [
            Fault(
                "t",
                ErrorAction("overloaded"),
                match=Match(model="big-*"),
                name="wave",
                phase="storm",
            )
        ]
    )
    client.post(
        "/v1/messages",
        json={"model": "big-1", "stream": False},
        headers={"x-stainless-retry-count": "2", "x-api-key": "sk-x"},
    )
    record = gateway.journal()[0]
    assert record.seq == 0
    assert record.time > 0
    assert (record.target, record.method, record.path) == ("t", "POST", "/v1/messages")
    assert (record.operation, record.stream, record.model) == ("messages.create", False, "big-1")
    assert record.retry_count == 2
    assert len(record.fingerprint) == 16
    assert (record.rule, record.action, record.phase) == ("wave", "error:overloaded", "storm")
    assert (record.status, record.outcome) == (529, "fault")
    assert record.bytes_in == len(b'{"model":"big-1","stream":false}')
    assert record.bytes_out > 100
    assert record.events == 0
    assert 0 < record.duration < 5
    assert record.request_headers["x-api-key"] == "[redacted]"
    assert record.response_headers["content-type"] == "application/json"
    assert type(record).from_dict(record.to_dict()) == record
