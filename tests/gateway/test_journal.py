"""The journal record: every field filled from the request, the rule and the wire."""

from __future__ import annotations

import json
from typing import Any

import httpx

from chaos.common._journal import JournalRecord
from chaos.faults import ErrorAction, Fault, Match
from chaos.gateway import Gateway
from chaos.gateway._exchange import fingerprint
from chaos.gateway._journal import Journal, NetworkNote
from chaos.profiles import parse_fault


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


# One conversation (a system prompt, a question, a tool call and its result, tools
# offered) in each dialect's own spelling, as frameworks send it.
_ARGS = {"city": "Paris"}
_ANTHROPIC = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 512,
    "system": [{"type": "text", "text": "You are terse."}],
    "tools": [{"name": "weather", "input_schema": {"type": "object"}}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "weather", "input": _ARGS}],
        },
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "sunny"}],
        },
    ],
}
_CHAT = {
    "model": "gpt-4o-mini",
    "stream": True,
    "temperature": 0.2,
    "tools": [{"type": "function", "function": {"name": "weather", "parameters": {}}}],
    "messages": [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "weather", "arguments": json.dumps(_ARGS)},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
    ],
}
_RESPONSES = {
    "model": "gpt-4.1",
    "instructions": "You are terse.",
    "tools": [{"type": "function", "name": "weather", "parameters": {}}],
    "input": [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]},
        {
            "type": "function_call",
            "call_id": "c1",
            "name": "weather",
            "arguments": '{"city":"Paris"}',
        },
        {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
    ],
}
_GEMINI = {
    "systemInstruction": {"parts": [{"text": "You are terse."}]},
    "tools": [{"functionDeclarations": [{"name": "weather"}]}],
    "generationConfig": {"maxOutputTokens": 100},
    "contents": [
        {"role": "user", "parts": [{"text": "Weather in Paris?"}]},
        {"role": "model", "parts": [{"functionCall": {"name": "weather", "args": _ARGS}}]},
        {
            "role": "user",
            "parts": [{"functionResponse": {"name": "weather", "response": {"result": "sunny"}}}],
        },
    ],
}


_KEY = {"x-api-key": "k", "anthropic-version": "2023-06-01"}


def test_the_same_question_has_one_content_key_in_every_dialect_and_model() -> None:
    from chaos.gateway import TargetConfig

    gw = Gateway(
        {n: TargetConfig(n) for n in ("anthropic", "openai", "gemini")}, seed=0, admin=False
    ).start_in_thread()
    try:
        a, o, g = (gw.urls[n] for n in ("anthropic", "openai", "gemini"))
        with httpx.Client(timeout=5) as http:
            http.post(f"{a}/v1/messages", json=_ANTHROPIC, headers=_KEY)
            http.post(f"{a}/v1/messages/count_tokens", json=_ANTHROPIC, headers=_KEY)
            auth = {"authorization": "Bearer k"}
            http.post(f"{o}/v1/chat/completions", json=_CHAT, headers=auth)
            http.post(f"{o}/v1/responses", json=_RESPONSES, headers=auth)
            for model in ("gemini-2.5-pro", "gemini-2.5-flash"):
                http.post(
                    f"{g}/v1beta/models/{model}:generateContent",
                    json=_GEMINI,
                    headers={"x-goog-api-key": "k"},
                )
            other = {
                **_CHAT,
                "messages": [*_CHAT["messages"][:1], {"role": "user", "content": "?"}],
            }
            http.post(f"{o}/v1/chat/completions", json=other, headers=auth)
            embed = {"model": "text-embedding-3-small", "input": "Weather in Paris?"}
            http.post(f"{o}/v1/embeddings", json=embed, headers=auth)
            http.get(f"{o}/v1/models", headers=auth)
        records = gw.journal()
    finally:
        gw.stop()

    assert [r.status for r in records] == [200] * 9
    keys = [r.content_key for r in records]
    kinds = [r.call_kind for r in records]
    assert len(set(keys[:6])) == 1, [(r.operation, r.content_key) for r in records]
    assert kinds[:6] == ["generate", "count_tokens", "generate", "generate", "generate", "generate"]
    assert len({r.fingerprint for r in records[:6]}) == 4  # the bytes differ per dialect
    assert len({r.system_keys for r in records[:6]}) == 1  # "You are terse.", one block
    assert len(records[0].system_keys) == 1
    assert type(records[0]).from_dict(json.loads(json.dumps(records[0].to_dict()))) == records[0]
    assert keys[6] not in keys[:6]  # another question
    assert kinds[6] == "generate"
    assert kinds[7] == "embed"  # the same text, embedded: another kind of call
    assert (keys[8], kinds[8]) == ("", None)  # models.list asks no question
    assert all(len(k) == 16 for k in keys[:8])
    dump = json.dumps([r.to_dict() for r in records])
    assert "Paris" not in dump  # only hashes are kept
    assert "terse" not in dump


def test_the_delay_an_answer_asked_for_is_recorded_in_every_form() -> None:
    from chaos.gateway import TargetConfig

    gw = Gateway(
        {n: TargetConfig(n) for n in ("anthropic", "gemini")}, seed=0, admin=False
    ).start_in_thread()
    faults = [
        parse_fault({"target": "anthropic", "error": "rate_limited", "retry_after_ms": 1500}),
        parse_fault({"target": "gemini", "error": "rate_limited", "retry_after": 45.837}),
    ]
    gw.set_faults(faults)
    try:
        with httpx.Client(timeout=5) as http:
            http.post(
                f"{gw.urls['anthropic']}/v1/messages",
                json={"model": "claude-sonnet-4-6", "max_tokens": 5, "messages": []},
                headers=_KEY,
            )
            http.post(
                f"{gw.urls['gemini']}/v1beta/models/gemini-2.5-flash:generateContent",
                json={"contents": [{"parts": [{"text": "hi"}]}]},
                headers={"x-goog-api-key": "k"},
            )
        records = gw.journal()
    finally:
        gw.stop()
    assert [(r.status, r.retry_delay) for r in records] == [(429, 1.5), (429, 45.837)]
    # Gemini sends no header: the delay is read from the body's RetryInfo
    assert "retry-after" not in {k.lower() for k in records[1].response_headers}
