"""The shortcuts taken on the gateway's and the fakes' hot paths give exactly what the slow
ways gave: the same JSON text, the same SSE frames, ids as unique, fresh per answer."""

from __future__ import annotations

import json
import os
import re
import time
import warnings
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from chaos.faults import ErrorAction, Fault
from chaos.gateway import Gateway, TargetConfig
from chaos.providers import _fake, _sse

_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@pytest.mark.slow
@given(_JSON)
def test_compact_json_is_json_dumps_compact(value: object) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert _sse.compact_json(value) == expected
    assert _sse.json_data(value, compact=False) == json.dumps(value, ensure_ascii=False)


@pytest.mark.slow
@given(
    st.recursive(
        _JSON,
        lambda inner: (
            st.dictionaries(
                st.none() | st.booleans() | st.integers() | st.floats(), inner, max_size=3
            )
            | st.tuples(inner, inner)
        ),
        max_leaves=10,
    ),
    st.sampled_from([0, 2, 4]),
)
def test_indented_json_is_json_dumps_indented(value: object, indent: int) -> None:
    assert _sse.indented_json(value, indent) == json.dumps(value, indent=indent, ensure_ascii=False)


def test_indented_json_refuses_what_json_dumps_refuses() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        _sse.indented_json({"a": [object()]}, 2)
    with pytest.raises(TypeError, match="keys must be"):
        _sse.indented_json({(1, 2): 1}, 2)


def test_compact_json_refuses_what_json_dumps_refuses() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        _sse.compact_json({"a": object()})
    assert _sse.compact_json({"after": "an error"}) == '{"after":"an error"}'


def _frame_reference(data: str, event: str | None, newline: str) -> bytes:
    lines = [] if event is None else [f"event: {event}"]
    lines.extend(f"data: {line}" for line in re.split(r"\r\n|\n|\r", data))
    return (newline.join(lines) + newline + newline).encode()


@given(
    st.text(alphabet=st.sampled_from('ab{}":\r\n é')),
    st.none() | st.sampled_from(["ping", "message_stop"]),
    st.sampled_from(["\n", "\r\n"]),
)
def test_frame_fast_path_gives_the_same_bytes(data: str, event: str | None, newline: str) -> None:
    assert _sse.frame(data, event=event, newline=newline) == _frame_reference(data, event, newline)


def test_random_ids_are_base62_and_unique() -> None:
    ids = {_fake.random_id("msg_01", 22) for _ in range(20_000)}
    assert len(ids) == 20_000
    assert all(re.fullmatch(r"msg_01[0-9A-Za-z]{22}", i) for i in ids)
    hexes = {_fake.random_hex(8) for _ in range(1_000)}
    assert len(hexes) == 1_000
    assert all(re.fullmatch(r"[0-9a-f]{16}", h) for h in hexes)


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read, write = os.pipe()
    with warnings.catch_warnings():  # the child only writes to a pipe and exits
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: send its next ids, exit at once
        try:
            os.write(write, " ".join(_fake.random_id("", 22) for _ in range(5)).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        child = set(pipe.read().split())
    os.waitpid(pid, 0)
    parent = {_fake.random_id("", 22) for _ in range(5)}
    assert len(child) == 5
    assert not child & parent


def test_each_fault_answer_carries_its_own_request_id_in_header_body_and_journal() -> None:
    with Gateway({"a": TargetConfig("anthropic")}, seed=1, admin=False) as gw:
        gw.set_faults([Fault("a", ErrorAction("overloaded"))])
        body = {"model": "claude-opus-4-6", "max_tokens": 8, "messages": []}
        with httpx.Client(base_url=gw.urls["a"], timeout=10) as client:
            answers = [client.post("/v1/messages", json=body) for _ in range(3)]
        records = gw.journal()
    ids = [r.headers["request-id"] for r in answers]
    assert len(set(ids)) == 3
    for answer, request_id, record in zip(answers, ids, records, strict=True):
        assert answer.status_code == 529
        assert answer.json()["request_id"] == request_id
        assert re.fullmatch(r"req_011C[0-9A-Za-z]{20}", request_id)
        assert record.response_headers["request-id"] == request_id
        assert int(answer.headers["content-length"]) == len(answer.content)


@pytest.mark.slow
def test_rate_limit_resets_follow_the_clock() -> None:
    from chaos.providers.anthropic import AnthropicDialect

    dialect = AnthropicDialect()
    seen = []
    for _ in range(3):
        before = int(time.time())
        headers = dict(dialect._ratelimit())
        after = int(time.time())
        seen.append((before, after, headers))
        time.sleep(0.6)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    for before, after, headers in seen:
        reset = datetime.strptime(headers["anthropic-ratelimit-requests-reset"], fmt)
        reset = reset.replace(tzinfo=UTC)
        low = datetime.fromtimestamp(before, UTC) + timedelta(seconds=2)
        high = datetime.fromtimestamp(after, UTC) + timedelta(seconds=2)
        assert low <= reset <= high
        tokens = datetime.strptime(headers["anthropic-ratelimit-tokens-reset"], fmt)
        assert tokens.replace(tzinfo=UTC) - reset == timedelta(seconds=4)
    # 1.2 s apart: the second changed at least once, so the cache was refreshed
    assert seen[0][2] != seen[-1][2]
