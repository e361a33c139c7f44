"""The naive example app: it works on a good day and has nothing for a bad one."""

from __future__ import annotations

import anthropic
import pytest
from naive_app import answer

from chaos import VerdictError

pytestmark = pytest.mark.sdk

Q = "What is chaos engineering?"


def test_answers_on_a_good_day(providers):
    assert "chaos engineering" in answer(Q).text


def test_a_single_529_is_absorbed_by_the_sdk_alone(providers):
    providers.inject("anthropic", error="overloaded", first=1)
    assert answer(Q).text
    assert [r.retry_count for r in providers.journal] == [0, 1]
    kinds = [f.kind for f in providers.verdict().findings()]
    assert "sdk_only_absorption" in kinds  # a pass that proves nothing about the app


@pytest.mark.slow
def test_an_outage_reaches_the_user_after_the_sdks_two_retries(providers):
    providers.inject("anthropic", error="overloaded")
    with pytest.raises(anthropic.OverloadedError):
        answer(Q)
    assert [(r.retry_count, r.status) for r in providers.journal] == [(0, 529), (1, 529), (2, 529)]
    with pytest.raises(VerdictError, match="expected a failover from 'anthropic' to 'openai'"):
        providers.verdict().assert_failed_over("anthropic", "openai")
