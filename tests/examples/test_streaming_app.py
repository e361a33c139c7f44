"""The streaming example app against real broken streams from the Anthropic fake."""

from __future__ import annotations

import pytest
from streaming_app import IncompleteAnswer, StreamingAssistant

pytestmark = pytest.mark.sdk

Q = "Tell me about the outage of 2 March"


@pytest.fixture
def assistant(providers):
    return StreamingAssistant(timeout=2.0)


@pytest.fixture
def clean(assistant, providers):
    return assistant.stream(Q).text


def stream(assistant):
    shown = []
    result = assistant.stream(Q, on_text=shown.append)
    return result, shown


def test_a_clean_stream_is_shown_piece_by_piece(assistant, providers):
    result, shown = stream(assistant)
    assert len(shown) > 3
    assert "".join(shown) == result.text
    assert result.stop_reason == "end_turn"
    assert result.attempts == 1


@pytest.mark.parametrize(
    ("fault", "outcome"),
    [
        ({"sse": {"cut_after": 5}}, "stream_cut"),
        ({"sse": {"end_early": True}}, "stream_ended_early"),
        ({"sse": {"error_event": "overloaded", "after": 5}}, "stream_error"),
        ({"sse": {"stall_after": 5}}, "stream_stalled"),
    ],
    ids=["cut", "end-early", "error-event", "stall"],
)
def test_a_broken_stream_is_retried_and_its_text_shown_once(
    assistant, providers, clean, fault, outcome
):
    providers.inject("anthropic", first=1, **fault)
    result, shown = stream(assistant)
    assert result.attempts == 2
    assert result.text == clean
    assert "".join(shown) == clean  # the part seen before the break is not shown again
    assert [r.outcome for r in providers.journal] == ["ok", outcome, "ok"]


def test_a_clean_end_without_message_stop_is_not_complete(assistant, providers):
    providers.inject("anthropic", sse={"end_early": True})
    with pytest.raises(IncompleteAnswer) as caught:
        assistant.stream(Q)
    assert caught.value.reasons == ["the stream ended without message_stop"] * 3
    assert caught.value.text  # what the user saw is known, and was not called complete


def test_a_client_error_is_not_retried(assistant, providers):
    import anthropic

    providers.inject("anthropic", error="bad_request")
    with pytest.raises(anthropic.BadRequestError):
        assistant.stream(Q)
    assert len(providers.journal) == 1
