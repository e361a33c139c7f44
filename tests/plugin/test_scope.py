"""``chaos.plugin._fixture.scope``: the fixture's thin scope over a running harness (STYLE §1, §7).

Through a real :class:`chaos.Harness` (embedded Toxiproxy, real sockets, the real
``anthropic`` SDK): what the scope puts in on the way in, and that the way out
leaves nothing behind, pass, fail, or a way in that failed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from typing import Any

import anthropic
import pytest

from chaos import ChaosError, Harness
from chaos.plugin._fixture import ChaosFixture, scope

CLAUDE = {
    "model": "claude-opus-4-6",
    "max_tokens": 8,
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with Harness(
        ["anthropic", "openai"], seed=11, backend="embedded", name_prefix="llm-chaos-scope"
    ) as h:
        yield h


def _scope(harness: Harness, **how: Any) -> AbstractContextManager[ChaosFixture]:
    return scope(harness, targets={"anthropic": "anthropic", "openai": "openai"}, env={}, **how)


def test_in_the_profile_and_seed_out_nothing_left(harness: Harness) -> None:
    with _scope(harness, profile="http-500-storm", seed=3) as chaos:
        assert harness.seed == 3
        assert [p.name for p in chaos.profiles] == ["http-500-storm"]
        with (
            anthropic.Anthropic(
                base_url=chaos.endpoints["anthropic"], api_key="k", max_retries=0
            ) as client,
            pytest.raises(anthropic.InternalServerError),
        ):
            client.messages.create(**CLAUDE)
        assert chaos.journal
    assert harness.seed == 11
    assert (harness.profile, harness.active_faults(), harness.journal) == (None, [], [])


def _failing_test(harness: Harness) -> None:
    with _scope(harness) as chaos:
        chaos.inject("anthropic", network="down")
        raise RuntimeError("the test failed")


def test_a_failing_test_leaves_nothing_either(harness: Harness) -> None:
    with pytest.raises(RuntimeError):
        _failing_test(harness)
    assert harness.active_faults() == []
    assert harness.toxiproxy.proxies()["llm-chaos-scope-anthropic"].enabled


def test_a_way_in_that_failed_leaves_nothing(harness: Harness) -> None:
    harness.inject("anthropic", error="overloaded")  # left by someone before the scope
    with (
        pytest.raises(ChaosError, match="no-such-profile"),
        _scope(harness, profile="no-such-profile"),
    ):
        pass
    assert (harness.profile, harness.active_faults()) == (None, [])
