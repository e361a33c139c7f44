"""The journal record: every field filled from the request, the rule and the wire."""

from __future__ import annotations

import json
from typing import Any

import httpx

from chaos._journal import JournalRecord
from chaos.faults import ErrorAction, Fault, Match
from chaos.gateway import Gateway
from chaos.gateway._exchange import fingerprint
from chaos.gateway._journal import Journal, NetworkNote


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


def _record(seq: int, fields: tuple[float, str]) -> JournalRecord:
    time_, target = fields
    return JournalRecord(seq=seq, time=time_, target=target, method="POST", path="/", duration=1.0)


def _note(**fields: Any) -> NetworkNote:
    base: dict[str, Any] = {
        "target": "anthropic",
        "connection": 7,
        "fault": "down/0-network",
        "action": "network:reset_peer",
        "outcome": "reset",
        "closing": True,
        "time": 100.5,
        "opened": 99.0,
        "port": 5000,
        "last_read": 100.0,
    }
    return NetworkNote(**{**base, **fields})


def test_a_network_note_amends_the_request_it_cut_and_adds_no_record() -> None:
    journal = Journal()
    journal.append(_record, (100.0, "anthropic"), port=5000)  # answered by 101.0
    journal.note(_note())
    [record] = journal.snapshot()
    assert (record.seq, record.outcome, record.layer, record.network) == (
        0,
        "reset",
        "network",
        "down/0-network",
    )


def test_a_network_note_about_an_attempt_the_gateway_never_saw_is_a_record() -> None:
    journal = Journal()
    journal.append(_record, (90.0, "anthropic"), port=5000)  # an earlier request, over at 91
    journal.note(_note(action="network:down", outcome="refused", port=None, last_read=0.0))
    journal.note(_note(connection=8, outcome="reset"))  # client sent again after 91.0
    records = journal.snapshot()
    assert [(r.seq, r.outcome, r.layer, r.network) for r in records] == [
        (0, "ok", "http", None),
        (1, "refused", "network", "down/0-network"),
        (2, "reset", "network", "down/0-network"),
    ]
    assert journal.snapshot(since=2) == records[2:]
    journal.clear()
    assert journal.snapshot() == []


def test_a_toxic_that_left_marks_only_the_requests_it_met() -> None:
    journal = Journal()
    for start in (100.0, 102.0, 104.0):
        journal.append(_record, (start, "anthropic"), port=5000)
    journal.note(
        _note(action="network:latency", outcome=None, closing=False, last_read=102.0, until=103.5)
    )
    assert [r.network for r in journal.snapshot()] == [None, "down/0-network", None]
