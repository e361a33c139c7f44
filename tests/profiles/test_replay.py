"""Every built-in profile applied through the live harness: its faults fire in its phases.

Traffic is plain HTTP (httpx, no SDK retries) shaped after each fault's match, so
every fault has a request to hit. Parameters and the time scale of the generic
wall-clock profiles are lowered so the whole suite takes seconds; the real
incidents replay at their own time scale.
"""

from __future__ import annotations

import fnmatch
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chaos import Harness
from chaos.faults import Match
from chaos.profiles import Profile, Timeline, builtin_dir, load_profile

FAST: dict[str, dict[str, Any]] = {
    "blackout": {"outage": "20s", "time_scale": 20},
    "connect-failures": {"time_scale": 20, "stall_ms": 100},
    "openai-2024-12-04": {"stall_ms": 100},
    "rate-limit-retry-after": {"over_cap": 2},
    "slow-first-token": {"first_token_ms": 100, "token_delay_ms": 20},
}
NAMES = sorted(path.stem for path in builtin_dir().glob("*.yaml"))
HEADERS = {
    "anthropic": {"x-api-key": "k", "anthropic-version": "2023-06-01"},
    "openai": {"authorization": "Bearer k"},
}
MODELS = {
    "anthropic": ("claude-sonnet-4-5", "claude-opus-4-6"),
    "openai": ("gpt-4o-mini", "gpt-4o"),
}


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with Harness(
        ["anthropic", "openai"], backend="embedded", seed=7, name_prefix="llm-chaos-prof"
    ) as h:
        yield h


@pytest.fixture
def h(harness: Harness) -> Iterator[Harness]:
    harness.reset()
    yield harness
    harness.reset()


def _request(dialect: str, match: Match) -> tuple[str, str, dict[str, Any] | None]:
    """A request (method, path, body) that ``match`` selects, for ``dialect``."""
    plain, other = MODELS[dialect]
    model = plain
    if match.model is not None:
        model = other if fnmatch.fnmatchcase(other, match.model) else match.model.replace("*", "x")
    messages = [{"role": "user", "content": "hello"}]
    stream = bool(match.stream)
    operation = match.operation
    if dialect == "anthropic":
        if operation == "models.list":
            return "GET", "/v1/models", None
        if operation == "messages.count_tokens":
            return "POST", "/v1/messages/count_tokens", {"model": model, "messages": messages}
        body = {"model": model, "max_tokens": 16, "messages": messages, "stream": stream}
        return "POST", "/v1/messages", body
    if operation == "models.list":
        return "GET", "/v1/models", None
    return "POST", "/v1/chat/completions", {"model": model, "messages": messages, "stream": stream}


def _probes(profile: Profile) -> list[tuple[str, tuple[str, str, dict[str, Any] | None]]]:
    """One request per distinct fault match, per target that has faults."""
    seen: dict[tuple[str, Match], None] = {}
    for fault in profile.faults():
        seen[(fault.target, fault.match)] = None
    probes = []
    for target, match in seen:
        probes.append((target, _request(profile.targets[target].dialect, match)))
    return probes


def _send(client: httpx.Client, base: str, target: str, request: tuple[str, str, Any]) -> None:
    method, path, body = request
    try:
        with client.stream(method, base + path, json=body, headers=HEADERS[target]) as response:
            for _ in response.iter_bytes():
                pass
    except httpx.HTTPError:
        pass  # refused, reset, cut, timed out: what the fault is for


def _replay(
    h: Harness, name: str, *extra: tuple[str, tuple[str, str, Any]], **params: Any
) -> Profile:
    """Apply profile ``name`` and send traffic through it until its timeline is over.

    Requests clock: the probes in turn until every phase was seen. Wall clock: one
    thread per probe, clients ready before the profile is applied, until the timeline
    is over, so a slow fault cannot starve another and no phase passes unseen."""
    profile = load_profile(name, params=params)
    probes = _probes(profile) + list(extra)
    timeout = httpx.Timeout(0.5, connect=0.5)
    names = {phase.name for phase in profile.phases}
    clients = [httpx.Client(timeout=timeout) for _ in probes]
    try:
        if profile.clock == "requests":
            h.apply(profile)
            deadline = time.monotonic() + 30.0
            while time.monotonic() < deadline and not names <= set(h.phases_seen()):
                for client, (target, request) in zip(clients, probes, strict=True):
                    _send(client, h.endpoints[target], target, request)
            # network faults follow the phase a request entered, on the harness's ticker
            network = [f.name for f in profile.faults() if f.action.layer == "network"]
            while time.monotonic() < deadline and not all(h.fired()[n] for n in network):
                time.sleep(0.01)
            return profile
        go = threading.Event()
        deadline = [0.0]

        def loop(client: httpx.Client, target: str, request: tuple[str, str, Any]) -> None:
            go.wait(timeout=30)
            while time.monotonic() < deadline[0]:
                _send(client, h.endpoints[target], target, request)

        threads = [
            threading.Thread(target=loop, args=(client, *probe), daemon=True)
            for client, probe in zip(clients, probes, strict=True)
        ]
        for thread in threads:
            thread.start()
        h.apply(profile)
        deadline[0] = time.monotonic() + Timeline(profile, seed=h.seed).duration() + 0.5
        go.set()
        for thread in threads:
            thread.join(timeout=30)
        return profile
    finally:
        for client in clients:
            client.close()


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_builtin_profile_fires_its_faults_in_its_phases(h: Harness, name: str) -> None:
    profile = _replay(h, name, **FAST.get(name, {}))
    fired = h.fired()
    assert {f.name: fired[f.name] for f in profile.faults() if not fired[f.name]} == {}
    assert set(h.phases_seen()) >= {p.name for p in profile.phases}
    phase_of = {f.name: f.phase for f in profile.faults()}
    misplaced = [
        (r.rule, r.phase) for r in h.journal if r.rule is not None and phase_of[r.rule] != r.phase
    ]
    assert misplaced == []


def test_provider_down_refuses_the_primary_and_serves_the_secondary(h: Harness) -> None:
    _replay(h, "provider-down")
    before = len(h.journal)
    with httpx.Client(timeout=2) as client:
        # the embedded Toxiproxy resets the connection before any byte (docs/toxiproxy.md)
        with pytest.raises(httpx.TransportError):
            client.get(h.endpoints["anthropic"] + "/v1/models", headers=HEADERS["anthropic"])
        answer = client.get(h.endpoints["openai"] + "/v1/models", headers=HEADERS["openai"])
    assert answer.status_code == 200
    refused, served = h.journal[before:]
    assert (refused.target, refused.outcome, refused.network) == (
        "anthropic",
        "refused",
        "anthropic-down/0-network",
    )
    assert (served.target, served.status) == ("openai", 200)


@pytest.mark.slow
def test_claude_outage_replays_in_seconds_with_every_phase_in_the_journal(h: Harness) -> None:
    started = time.monotonic()
    profile = _replay(h, "claude-2026-03-02", ("anthropic", ("GET", "/v1/models", None)))
    took = time.monotonic() - started
    assert took < 10
    journal = h.journal
    in_journal = [r.phase for r in journal]
    names = [p.name for p in profile.phases]
    assert [n for n in names if n not in in_journal] == []
    # in order: the first record of each phase comes after the previous phase's first
    firsts = [in_journal.index(n) for n in names]
    assert firsts == sorted(firsts)
    # "some API methods are not functioning": models.list keeps working meanwhile
    failing = [r for r in journal if r.phase == "methods-failing"]
    statuses = {(r.operation, r.stream): r.status for r in failing if r.operation != "models.list"}
    assert statuses[("messages.create", False)] == 529
    assert statuses[("messages.count_tokens", False)] == 500
    listed = [r for r in failing if r.operation == "models.list"]
    assert listed
    assert all(r.rule is None and r.status == 200 for r in listed)
