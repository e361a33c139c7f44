"""The wall clock starts at the first request the harness receives (``start: first_request``),
for the gateway's HTTP faults and for the ticker's network faults alike."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

import pytest

from chaos import Harness
from chaos.profiles import Profile, load_profile_text

PROFILE = """\
version: 1
name: starts-late
title: calm, then an overload and openai down
source: generic
clock: wall
{start}targets:
  anthropic: {{dialect: anthropic}}
  openai: {{dialect: openai}}
phases:
  - name: calm
    at: 0s
    faults: []
  - name: storm
    at: 500ms
    faults:
      - {{target: anthropic, error: overloaded}}
      - {{target: openai, network: down}}
"""


def profile(start: str | None = None) -> Profile:
    return load_profile_text(PROFILE.format(start=f"start: {start}\n" if start else ""))


@pytest.fixture
def h() -> Iterator[Harness]:
    with Harness(seed=5, backend="embedded", name_prefix="llm-chaos-clock") as harness:
        yield harness


def ask(h: Harness) -> int:
    """One raw Messages request through the anthropic target's proxy; its status."""
    request = urllib.request.Request(
        h.endpoints["anthropic"] + "/v1/messages",
        data=b'{"model": "claude-sonnet-4-6", "max_tokens": 8, '
        b'"messages": [{"role": "user", "content": "hi"}]}',
        headers={
            "content-type": "application/json",
            "x-api-key": "k",
            "anthropic-version": "2023-06-01",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        exc.close()  # it holds the connection
        return exc.code


def openai_up(h: Harness) -> bool:
    return bool(h.toxiproxy.proxies()["llm-chaos-clock-openai"].enabled)


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert predicate()


@pytest.mark.slow
def test_incident_time_waits_for_the_first_request(h: Harness) -> None:
    h.apply(profile())
    time.sleep(1.0)  # twice the calm phase: an app still starting up
    assert h.clock_started is None
    assert openai_up(h)  # the storm's network fault waits too
    before = time.time()
    assert ask(h) == 200  # the first request sees incident time 0: calm
    started = h.clock_started
    assert started is not None
    assert before <= started <= time.time()
    wait_for(lambda: not openai_up(h))
    assert time.time() - started >= 0.4  # the storm began 500 ms after the first request
    time.sleep(max(0.0, started + 0.6 - time.time()))
    assert ask(h) == 529
    assert [r.phase for r in h.journal] == ["calm", "storm"]
    assert h.phases_seen() == ["calm", "storm"]


def test_start_apply_counts_from_apply(h: Harness) -> None:
    h.apply(profile("apply"))
    assert h.clock_started is not None
    wait_for(lambda: not openai_up(h))  # no request needed
    assert ask(h) == 529
    assert [r.phase for r in h.journal] == ["storm"]


def test_injecting_a_fault_does_not_restart_incident_time(h: Harness) -> None:
    h.apply(profile())
    assert ask(h) == 200
    assert h.gateway is not None
    started = h.gateway.clock_started
    time.sleep(0.6)
    h.inject("anthropic", error="server_error", match={"operation": "models.list"})
    assert started is not None
    assert h.gateway.clock_started == started
    assert ask(h) == 529  # still in the storm, not back to calm
    assert [r.phase for r in h.journal] == ["calm", "storm"]


def test_reset_waits_for_a_new_first_request(h: Harness) -> None:
    h.apply(profile())
    assert ask(h) == 200
    assert h.gateway is not None
    h.gateway.reset()  # a bare gateway's POST /reset: the source's clock restarts
    assert h.clock_started is None
    time.sleep(0.6)
    assert ask(h) == 200
    assert [r.phase for r in h.journal] == ["calm"]
