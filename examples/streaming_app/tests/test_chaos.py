"""Chaos tests of the streaming app: broken streams are retried, never repeated, never accepted."""

import pytest
from streaming_app import IncompleteAnswer, StreamingAssistant

QUESTION = "Tell me about the outage"


@pytest.fixture
def assistant(chaos):
    """A streaming assistant pointed at the harness (``chaos`` routes the environment first)."""
    return StreamingAssistant(timeout=2.0)


@pytest.fixture
def clean_text(assistant):
    """The answer as it streams with no fault (the fake provider is deterministic)."""
    return assistant.stream(QUESTION).text


def shown_by(assistant):
    pieces = []
    result = assistant.stream(QUESTION, on_text=pieces.append)
    return result, "".join(pieces)


@pytest.mark.parametrize(
    "fault",
    [
        {"sse": {"cut_after": 5}},
        {"sse": {"end_early": True}},
        {"sse": {"error_event": "overloaded", "after": 5}},
        {"sse": {"stall_after": 5}},
    ],
    ids=["cut", "end-early", "error-event", "stall"],
)
def test_a_broken_stream_is_retried_and_shown_exactly_once(chaos, assistant, clean_text, fault):
    chaos.inject("anthropic", first=1, **fault)

    result, shown = shown_by(assistant)

    assert result.attempts == 2
    assert result.text == clean_text
    assert shown == clean_text  # nothing printed twice


def test_a_truncated_answer_is_never_accepted_as_complete(chaos, assistant):
    chaos.inject("anthropic", sse={"end_early": True})

    with pytest.raises(IncompleteAnswer, match="ended without message_stop"):
        assistant.stream(QUESTION)
