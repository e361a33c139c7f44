"""Chaos tests of the naive app. They FAIL: that is the point of this example.

Run them to see what pytest-llm-chaos tells you about an app with no fallback.
"""

import contextlib

import pytest
from naive_app import answer

QUESTION = "What should I do when my LLM provider is down?"


def test_answers_when_claude_is_overloaded(chaos):
    chaos.inject("anthropic", error="overloaded", match={"operation": "messages.create"})

    result = answer(QUESTION)  # raises anthropic.OverloadedError after the SDK's 2 retries

    assert result.text


def test_fails_over_when_claude_is_overloaded(chaos):
    chaos.inject("anthropic", error="overloaded", match={"operation": "messages.create"})

    with contextlib.suppress(Exception):
        answer(QUESTION)  # the user got an error page; what did the app try?

    chaos.verdict.assert_failed_over("anthropic", "openai")


@pytest.mark.chaos(profile="claude-2026-03-02")
def test_survives_the_2_march_2026_outage(chaos):
    for _ in range(6):
        assert answer(QUESTION).text
