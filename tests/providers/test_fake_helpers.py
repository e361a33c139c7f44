"""The shared fake-provider helpers (`_fake`) and SSE framing (`_sse`)."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chaos.providers import _fake, _sse


@pytest.mark.parametrize(
    "text", ["Echo: hello, world!", "  lead  trailing  ", "é ñ 2+2?", "", "a☃b\n\tc"]
)
def test_tokens_concatenate_back_to_the_text(text: str) -> None:
    assert "".join(_fake.tokenize(text)) == text
    assert _fake.count_tokens(text) == len(_fake.tokenize(text))


def test_answer_echoes_the_prompt_words() -> None:
    assert _fake.answer_text("What  is\n2+2?") == "Echo: What is 2+2?"
    assert _fake.answer_text("") == "Echo: (empty)"
    assert _fake.answer_text("a b c d", max_words=2) == "Echo: a b"


def test_limit_tokens_cuts_and_says_so() -> None:
    assert _fake.limit_tokens("one two three", 2) == (["one", " two"], True)
    assert _fake.limit_tokens("one two", 5) == (["one", " two"], False)
    assert _fake.limit_tokens("one two", None) == (["one", " two"], False)


def test_ids_have_the_prefix_and_length() -> None:
    rid = _fake.random_id("req_011C", 20)
    assert rid.startswith("req_011C")
    assert len(rid) == 28
    assert rid[4:].isalnum()
    assert _fake.random_id("x", 8) != _fake.random_id("x", 8)
    assert _fake.stable_id("b_", "x") == _fake.stable_id("b_", "x") != _fake.stable_id("b_", "y")


def test_tool_arguments_fill_required_properties_deterministically() -> None:
    schema = {
        "type": "object",
        "properties": {
            "location": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {"type": "integer"},
        },
        "required": ["location", "unit"],
    }
    args = _fake.tool_arguments(schema, "weather in Paris")
    assert set(args) == {"location", "unit"}
    assert args["unit"] == "celsius"
    assert isinstance(args["location"], str)
    assert args["location"]
    assert args == _fake.tool_arguments(schema, "weather in Paris")
    assert _fake.tool_arguments({"type": "object"}, "x") == {}


def test_json_data_pads_before_the_last_brace() -> None:
    assert _sse.json_data({"type": "message_stop"}, padding=3) == '{"type":"message_stop"   }'
    assert _sse.json_data({"type": "ping"}, compact=False) == '{"type": "ping"}'


def test_frame_and_parse_round_trip() -> None:
    raw = _sse.frame('{"a":1}', event="x")
    assert raw == b'event: x\ndata: {"a":1}\n\n'
    assert _sse.frame("l1\nl2", newline="\r\n") == b"data: l1\r\ndata: l2\r\n\r\n"
    parsed = _sse.parse_frame(b": comment\r\nevent: e\r\ndata: l1\r\ndata:l2\r\nid: 7\r\n\r\n")
    assert (parsed.event, parsed.data, parsed.id) == ("e", "l1\nl2", "7")
    assert _sse.parse_frame(raw).json() == {"a": 1}


def test_split_frames_on_every_line_ending_keeps_partial_tail() -> None:
    raw = b"data: 1\n\ndata: 2\r\n\r\ndata: 3\r\rdata: par"
    assert _sse.split_frames(raw) == [
        b"data: 1\n\n",
        b"data: 2\r\n\r\n",
        b"data: 3\r\r",
        b"data: par",
    ]


def test_pace_sleeps_between_frames() -> None:
    async def collect() -> tuple[list[bytes], float]:
        start = time.monotonic()
        got = [f async for f in _sse.pace([b"a", b"b", b"c"], 0.05)]
        return got, time.monotonic() - start

    got, elapsed = asyncio.run(collect())
    assert got == [b"a", b"b", b"c"]
    assert elapsed >= 0.09


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_tokenize_round_trips_any_text(text: str) -> None:
    tokens = _fake.tokenize(text)
    assert "".join(tokens) == text
    assert all(tokens)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["message_start", "ping", None]), st.text()), max_size=6))
def test_frames_split_and_parse_back(items: list[tuple[str | None, str]]) -> None:
    raw = b"".join(_sse.frame(data, event=event) for event, data in items)
    frames = _sse.split_frames(raw)
    assert len(frames) == len(items)
    for frame, (event, data) in zip(frames, items, strict=True):
        parsed = _sse.parse_frame(frame)
        assert parsed.event == event
        assert parsed.data == "\n".join(re.split(r"\r\n|\n|\r", data))
