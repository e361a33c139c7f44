"""parse_fault: the one parser of the fault mapping form (profiles, inject, admin API)."""

from __future__ import annotations

import pytest

from chaos import ProfileError
from chaos.faults import (
    EdgeAction,
    ErrorAction,
    NetworkAction,
    RespondAction,
    SseAction,
    WireAction,
)
from chaos.profiles import parse_fault


def test_error_shorthand_with_params_and_schedule() -> None:
    fault = parse_fault(
        {
            "error": "overloaded",
            "match": {"operation": "messages.create"},
            "first": 3,
            "retry_after": 2,
        },
        defaults_target="anthropic",
    )
    assert fault.target == "anthropic"
    assert fault.action == ErrorAction(error="overloaded", retry_after=2.0)
    assert fault.match.operation == "messages.create"
    assert fault.schedule.first == 3
    assert fault.name is None


@pytest.mark.parametrize(
    ("data", "action"),
    [
        ({"sse": {"cut_after": 3}}, SseAction(cut_after=3)),
        (
            {"sse": {"error_event": "overloaded", "after": 2}},
            SseAction(error_event="overloaded", after=2),
        ),
        (
            {"network": {"toxic": "latency", "latency": 800, "jitter": 400}},
            NetworkAction(toxic="latency", attributes={"latency": 800, "jitter": 400}),
        ),
        ({"network": "down"}, NetworkAction(toxic="down")),
        (
            {"network": {"toxic": "timeout", "attributes": {"timeout": 0}, "stream": "upstream"}},
            NetworkAction(toxic="timeout", attributes={"timeout": 0}, stream="upstream"),
        ),
        ({"wire": "truncate", "fraction": 0.25}, WireAction(wire="truncate", fraction=0.25)),
        ({"edge": "envoy_503"}, EdgeAction(edge="envoy_503")),
        (
            {"respond": {"status": 530, "body": {"error": "x"}}},
            RespondAction(status=530, body={"error": "x"}),
        ),
    ],
)
def test_every_action_form(data, action) -> None:
    assert parse_fault({"target": "t", **data}).action == action


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"error": "overloaded", "retyr_after": 3},
            "<inject>: retyr_after: unknown key 'retyr_after'; valid: target, name, match, rate, "
            "first, after, every, times, "
            "truncate_answer, malformed_tool_args, refusal, empty_answer, "
            "delay, edge, error, network, respond, sse, wire, "
            "retry_after, retry_after_ms, should_retry, message; did you mean 'retry_after'?",
        ),
        ({"error": "overloaded", "rate": 1.5}, "<inject>: rate: must be between 0 and 1, got 1.5"),
        (
            {"wire": "trunc"},
            "<inject>: wire: unknown value 'trunc'; valid: hang, reset, close, truncate, "
            "malformed, drip; did you mean 'truncate'?",
        ),
        (
            {"sse": {"cut_after": 3, "end_early": True}},
            "<inject>: sse.end_early: conflicts with cut_after: give at most one of cut_after, "
            "error_event, end_early, stall_after",
        ),
        (
            {"network": {"toxic": "latency", "latency": -1}},
            "<inject>: network.latency: must be >= 0, got -1",
        ),
        (
            {"network": {"toxic": "latency", "latncy": 3}},
            "<inject>: network.latncy: not an attribute of toxic 'latency' "
            "(valid: latency, jitter); did you mean 'latency'?",
        ),
        (
            {"network": "latncy"},
            "<inject>: network: unknown toxic type 'latncy'; valid: bandwidth, latency, "
            "limit_data, noop, packet_loss, reset_peer, slicer, slow_close, timeout, down; "
            "did you mean 'latency'?",
        ),
        ({"delay": "x"}, "<inject>: delay: expected an integer, got 'x' (string)"),
        (
            {},
            "<inject>: (top level): no action: give exactly one of "
            "truncate_answer, malformed_tool_args, refusal, empty_answer, "
            "delay, edge, error, network, respond, sse, wire",
        ),
        (
            {"error": "x", "wire": "reset"},
            "<inject>: wire: a fault has exactly one action, got error and wire",
        ),
        (
            {"match": {"stream": "yes"}, "error": "server_error"},
            "<inject>: match.stream: expected true or false, got 'yes' (string)",
        ),
        (
            {"respond": {"status": 999}},
            "<inject>: respond.status: must be an HTTP status between 100 and 599, got 999",
        ),
        ({"respond": {"body": "x"}}, "<inject>: respond: missing 'status'"),
        ({"every": 0, "wire": "reset"}, "<inject>: every: must be at least 1, got 0"),
    ],
)
def test_errors_are_precise(data, message) -> None:
    with pytest.raises(ProfileError) as info:
        parse_fault({"target": "t", **data})
    assert info.value.errors == [message]


def test_every_problem_is_listed_not_just_the_first() -> None:
    with pytest.raises(ProfileError) as info:
        parse_fault({"error": "overloaded", "rate": 2, "first": -1, "bogus": 1}, source="admin API")
    assert len(info.value.errors) == 3
    assert all(e.startswith("admin API: ") for e in info.value.errors)


def test_missing_target_without_default() -> None:
    with pytest.raises(ProfileError, match=r"missing target"):
        parse_fault({"error": "overloaded"})


def test_not_a_mapping() -> None:
    with pytest.raises(ProfileError, match=r"a fault must be a mapping, got 'x' \(string\)"):
        parse_fault("x")  # type: ignore[arg-type]
