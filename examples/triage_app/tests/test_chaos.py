"""Chaos tests of the triage app: real JSON labels from scripted replies, and the
content faults an overloaded provider sends (cut, empty, refused answers)."""

import pytest
from triage_app import Triage, UnusableAnswer, triage

TICKET = "I was charged twice for my subscription, please refund one payment"
LABEL = {"label": "billing", "reason": "The customer asks for a refund."}


@pytest.fixture(autouse=True)
def labels(chaos):
    """The model labels refund tickets as billing (a scripted reply, rendered as Claude would)."""
    chaos.reply("anthropic", json=LABEL, match={"contains": "refund"})


def test_labels_a_ticket(chaos):
    assert triage(TICKET) == Triage("billing", LABEL["reason"], attempts=1)


@pytest.mark.parametrize(
    "fault",
    [{"truncate_answer": 4}, {"empty_answer": {}}, {"refusal": "I can't help with that."}],
    ids=["truncated", "empty", "refused"],
)
def test_a_broken_answer_is_asked_again(chaos, fault):
    chaos.inject("anthropic", first=1, **fault)

    result = triage(TICKET)

    assert (result.label, result.attempts) == ("billing", 2)
    chaos.assert_noticed_content_faults(answers=[result.label])


def test_never_guesses_when_every_answer_is_cut(chaos):
    chaos.inject("anthropic", truncate_answer=4)

    with pytest.raises(UnusableAnswer, match="stop_reason max_tokens"):
        triage(TICKET)
