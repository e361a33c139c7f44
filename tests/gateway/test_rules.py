"""Matching, schedules, priority, atomic replacement, rule sources and determinism."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from chaos import ConfigError
from chaos.faults import ErrorAction, Fault, Match, NetworkAction, Schedule
from chaos.gateway import Gateway, StaticRules, TargetConfig
from tests.gateway._tiny import TinyDialect


def _fault(name: str, kind: str = "server_error", **kw: object) -> Fault:
    match = kw.pop("match", Match())
    schedule = Schedule(**kw)  # type: ignore[arg-type]
    return Fault("t", ErrorAction(kind), match=match, schedule=schedule, name=name)


def _statuses(client: httpx.Client, n: int, **body: object) -> list[int]:
    return [client.post("/v1/messages", json={"model": "m", **body}).status_code for _ in range(n)]


@pytest.mark.parametrize(
    ("match", "hit"),
    [
        (Match(operation="messages.create"), [500, 500, 200]),
        (Match(operation="messages.create", stream=False), [500, 200, 200]),
        (Match(stream=True), [200, 500, 200]),
        (Match(model="claude-opus-*"), [500, 500, 200]),
        (Match(model="gpt-*"), [200, 200, 200]),
        (Match(method="get"), [200, 200, 500]),
        (Match(path="/v1/mod*"), [200, 200, 500]),
        (Match(header={"x-app": "billing-*"}), [500, 200, 200]),
    ],
    ids=[
        "operation",
        "op+stream",
        "stream",
        "model-glob",
        "model-miss",
        "method",
        "path",
        "header",
    ],
)
def test_match_fields(gateway: Gateway, client: httpx.Client, match: Match, hit: list[int]) -> None:
    gateway.set_faults([_fault("f", match=match)])
    got = [
        client.post(
            "/v1/messages", json={"model": "claude-opus-4"}, headers={"x-app": "billing-7"}
        ).status_code,
        client.post("/v1/messages", json={"model": "claude-opus-4", "stream": True}).status_code,
        client.get("/v1/models?limit=2").status_code,
    ]
    assert got == hit


@pytest.mark.parametrize(
    ("schedule", "pattern"),
    [
        ({"first": 2}, "XX...."),
        ({"after": 4}, "....XX"),
        ({"every": 3}, "..X..X"),
        ({"times": 1, "after": 1}, ".X...."),
        ({"every": 2, "times": 2, "after": 1}, ".X.X.."),  # every counts all matches
    ],
)
def test_schedules(gateway: Gateway, client: httpx.Client, schedule: dict, pattern: str) -> None:
    gateway.set_faults([_fault("f", **schedule)])
    got = "".join("X" if s == 500 else "." for s in _statuses(client, 6))
    assert got == pattern
    assert gateway.fired() == {"f": pattern.count("X")}


def test_first_applicable_fault_wins_and_schedules_count_matches_only(
    gateway: Gateway, client: httpx.Client
) -> None:
    gateway.set_faults(
        [
            _fault("a", "overloaded", first=1),
            _fault("b", "rate_limited", first=1),
            _fault("c", "unauthorized"),
        ]
    )
    assert _statuses(client, 4) == [529, 429, 401, 401]
    assert [r.rule for r in gateway.journal()] == ["a", "b", "c", "c"]
    assert [r.action for r in gateway.journal()] == [
        "error:overloaded",
        "error:rate_limited",
        "error:unauthorized",
        "error:unauthorized",
    ]


def test_network_faults_are_not_the_gateways(gateway: Gateway, client: httpx.Client) -> None:
    gateway.set_faults([Fault("t", NetworkAction(toxic="latency", attributes={"latency": 1}))])
    assert _statuses(client, 2) == [200, 200]


def test_unknown_target_or_error_kind_is_refused(gateway: Gateway) -> None:
    with pytest.raises(ConfigError, match="targets are: t"):
        gateway.set_faults([Fault("nope", ErrorAction("server_error"))])
    with pytest.raises(ConfigError, match="valid kinds: server_error, overloaded"):
        gateway.set_faults([Fault("t", ErrorAction("server_eror"))])


def test_adding_a_fault_keeps_the_counters_of_the_others(
    gateway: Gateway, client: httpx.Client
) -> None:
    a = _fault("a", first=2)
    gateway.set_faults([a])
    assert _statuses(client, 1) == [500]
    gateway.set_faults([a, _fault("b", "overloaded", match=Match(stream=True))])
    assert _statuses(client, 2) == [500, 200]
    gateway.clear()
    assert _statuses(client, 1) == [200]
    assert gateway.fired() == {"a": 2, "b": 0}


def test_rate_is_deterministic_for_a_seed_across_gateways() -> None:
    def run(seed: int) -> str:
        with Gateway({"t": TargetConfig(TinyDialect())}, seed=seed, admin=False) as gw:
            gw.set_faults([_fault("flaky", rate=0.5)])
            with httpx.Client(base_url=gw.urls["t"]) as c:
                return "".join("X" if s == 500 else "." for s in _statuses(c, 40))

    first, again, other = run(7), run(7), run(8)
    assert first == again
    assert first != other
    assert 5 < first.count("X") < 35


@pytest.mark.slow
def test_rate_is_deterministic_across_processes() -> None:
    code = (
        "import httpx\n"
        "from chaos.faults import ErrorAction, Fault, Schedule\n"
        "from chaos.gateway import Gateway, TargetConfig\n"
        "from tests.gateway._tiny import TinyDialect\n"
        "with Gateway({'t': TargetConfig(TinyDialect())}, seed=7, admin=False) as gw:\n"
        "    gw.set_faults([Fault('t', ErrorAction('server_error'), "
        "schedule=Schedule(rate=0.5), name='flaky')])\n"
        "    with httpx.Client(base_url=gw.urls['t']) as c:\n"
        "        print(''.join('X' if c.post('/v1/messages', json={}).status_code == 500 "
        "else '.' for _ in range(40)))\n"
    )
    outs = [
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
            cwd=Path(__file__).parents[2],  # the checkout, so `tests.gateway` imports
        ).stdout.strip()
        for _ in range(2)
    ]
    with Gateway({"t": TargetConfig(TinyDialect())}, seed=7, admin=False) as gw:
        gw.set_faults([_fault("flaky", rate=0.5)])
        with httpx.Client(base_url=gw.urls["t"]) as c:
            here = "".join("X" if s == 500 else "." for s in _statuses(c, 40))
    assert outs[0] == outs[1] == here


class _Phases:
    """A rule source with phases by request count: 2 requests calm, 2 down, then calm."""

    def __init__(self) -> None:
        self.down = (_fault("down/0", "overloaded"),)
        self.calls: list[tuple[str, int, int]] = []

    def select(
        self, *, target: str, request_index: int, target_index: int, elapsed: float
    ) -> tuple[str | None, Sequence[Fault]]:
        self.calls.append((target, request_index, target_index))
        if request_index < 2:
            return "calm", ()
        if request_index < 4:
            return "down", self.down
        return "recovered", ()


def test_rule_source_phases_and_callbacks(gateway: Gateway, client: httpx.Client) -> None:
    source = _Phases()
    seen: list[str | None] = []
    gateway.on_phase(seen.append)
    gateway.set_source(source)
    assert _statuses(client, 6) == [200, 200, 529, 529, 200, 200]
    assert seen == ["calm", "down", "recovered"]
    assert gateway.phases_seen() == ["calm", "down", "recovered"]
    assert [r.phase for r in gateway.journal()] == ["calm"] * 2 + ["down"] * 2 + ["recovered"] * 2
    assert source.calls[:3] == [("t", 0, 0), ("t", 1, 1), ("t", 2, 2)]
    assert gateway.fired() == {"down/0": 2}
    gateway.reset()
    assert gateway.journal() == []
    assert gateway.phases_seen() == []
    assert _statuses(client, 1) == [200]  # the source's counters restarted


def test_replacement_is_atomic_under_concurrent_traffic(gateway: Gateway) -> None:
    """While rules flip between two complete sets, every answer is one set's, never a mix."""
    set_a = [
        _fault("a1", "overloaded", match=Match(stream=False)),
        _fault("a2", "overloaded", match=Match(stream=True)),
    ]
    set_b = [
        _fault("b1", "unauthorized", match=Match(stream=False)),
        _fault("b2", "unauthorized", match=Match(stream=True)),
    ]
    stop = threading.Event()

    def flip() -> None:
        while not stop.is_set():
            gateway.set_faults(set_a)
            gateway.set_faults(set_b)

    flipper = threading.Thread(target=flip)
    flipper.start()
    try:
        with httpx.Client(base_url=gateway.urls["t"]) as c:
            statuses = _statuses(c, 60)
    finally:
        stop.set()
        flipper.join()
    assert set(statuses) <= {529, 401}


def test_static_rules_is_the_trivial_source() -> None:
    rules = StaticRules([_fault("x")])
    assert rules.select(target="t", request_index=0, target_index=0, elapsed=0.0)[0] is None


def test_journal_is_bounded_and_counts_drops() -> None:
    with Gateway({"t": TargetConfig(TinyDialect())}, admin=False, journal_size=3) as gw:
        with httpx.Client(base_url=gw.urls["t"]) as c:
            for _ in range(5):
                c.get("/v1/models")
        records = gw.journal()
    assert [r.seq for r in records] == [2, 3, 4]
    assert gw.dropped == 2
    json.dumps([r.to_dict() for r in records])
