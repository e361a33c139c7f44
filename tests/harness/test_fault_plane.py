"""Network faults seen per attempt: the embedded Toxiproxy reports what each connection met,
the journal has one record per attempt, verdicts and fired counts read it.

Real sockets, the real ``anthropic`` and ``openai`` SDKs, the embedded Toxiproxy.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import anthropic
import openai
import pytest

from chaos import Harness, VerdictError
from chaos.toxiproxy import serve_in_thread
from chaos.verdict import Verdict

CLAUDE = {
    "model": "claude-opus-4-6",
    "max_tokens": 32,
    "messages": [{"role": "user", "content": "hi"}],
}
GPT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
SDK_RETRIES = 2  # the anthropic client below: 1 attempt + 2 retries

# network faults that stop an attempt, and what the journal says the app got
STOPPING = [
    pytest.param("down", "refused", id="down"),
    pytest.param({"toxic": "reset_peer", "timeout": 0}, "reset", id="reset_peer"),
    pytest.param({"toxic": "limit_data", "bytes": 40}, "truncated", id="limit_data"),
    pytest.param({"toxic": "timeout", "timeout": 100}, "closed", id="timeout"),
]


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with Harness(seed=5, backend="embedded", name_prefix="llm-chaos-plane") as h:
        yield h


@pytest.fixture
def h(harness: Harness) -> Iterator[Harness]:
    harness.reset()
    yield harness
    harness.reset()


@pytest.fixture
def claude(h: Harness) -> Iterator[anthropic.Anthropic]:
    client = anthropic.Anthropic(
        base_url=h.endpoints["anthropic"], api_key="k", max_retries=SDK_RETRIES, timeout=5
    )
    yield client
    client.close()


@pytest.fixture
def gpt(h: Harness) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=h.endpoints["openai"] + "/v1", api_key="k", max_retries=0)
    yield client
    client.close()


def resilient(claude: anthropic.Anthropic, gpt: openai.OpenAI) -> str:
    """Ask Claude; on a connection error, ask GPT instead."""
    try:
        return claude.messages.create(**CLAUDE).content[0].text  # type: ignore[union-attr]
    except anthropic.APIConnectionError:
        return gpt.chat.completions.create(**GPT).choices[0].message.content or ""


def naive(claude: anthropic.Anthropic) -> str:
    """Ask Claude; whatever happens is the caller's problem."""
    return claude.messages.create(**CLAUDE).content[0].text  # type: ignore[union-attr]


def raw_answer(endpoint: str) -> bytes:
    """Send one request over a raw socket through ``endpoint``; what the first read gets."""
    parts = urlsplit(endpoint)
    body = b'{"model":"claude-opus-4-6","max_tokens":8,"messages":[]}'
    head = (
        b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n"
        b"content-length: %d\r\n\r\n" % len(body)
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(head + body)
        return sock.recv(65536)


# -- RST reaches the app ------------------------------------------------------------


def test_wire_reset_reaches_a_raw_socket_as_a_reset(h: Harness) -> None:
    with h.fault("anthropic", wire="reset"), pytest.raises(ConnectionResetError):
        raw_answer(h.endpoints["anthropic"])
    assert [r.outcome for r in h.journal] == ["reset"]


def test_wire_close_reaches_a_raw_socket_as_a_clean_close(h: Harness) -> None:
    with h.fault("anthropic", wire="close"):
        assert raw_answer(h.endpoints["anthropic"]) == b""
    assert [r.outcome for r in h.journal] == ["closed"]


# -- every attempt a network fault met is journaled ---------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("network", "outcome"), STOPPING)
def test_a_resilient_app_fails_over_past_a_network_fault(
    h: Harness,
    claude: anthropic.Anthropic,
    gpt: openai.OpenAI,
    network: Any,
    outcome: str,
) -> None:
    with h.fault("anthropic", network=network) as fault:
        assert resilient(claude, gpt)
    journal = h.journal
    stopped = [r for r in journal if r.target == "anthropic"]
    assert len(stopped) == 1 + SDK_RETRIES  # one record per attempt, none counted twice
    assert {(r.layer, r.network, r.outcome) for r in stopped} == {("network", fault.name, outcome)}
    assert [(r.target, r.layer, r.status) for r in journal if r.target == "openai"] == [
        ("openai", "http", 200)
    ]
    assert h.fired()[fault.name] == 1 + SDK_RETRIES
    verdict = Verdict(journal, declared=h.fired())
    verdict.assert_failed_over("anthropic", "openai")
    verdict.assert_all_faults_fired()
    assert verdict.summary()["anthropic"].faults_fired == 1 + SDK_RETRIES


@pytest.mark.slow
@pytest.mark.parametrize(("network", "outcome"), STOPPING)
def test_a_naive_app_fails_with_the_network_fault_named(
    h: Harness, claude: anthropic.Anthropic, network: Any, outcome: str
) -> None:
    with (
        h.fault("anthropic", network=network) as fault,
        pytest.raises(anthropic.APIConnectionError),
    ):
        naive(claude)
    verdict = Verdict(h.journal, declared=h.fired())
    with pytest.raises(VerdictError) as caught:
        verdict.assert_failed_over("anthropic", "openai")
    message = str(caught.value)
    assert "no call that failed on 'anthropic' was answered by 'openai'" in message
    assert f"{1 + SDK_RETRIES} attempt(s) to it, all failed" in message
    assert f"{outcome} by network fault {fault.name} ×{1 + SDK_RETRIES}" in message
    assert "no request reached any target" not in message


def test_latency_is_noted_on_the_attempt_it_delayed(
    h: Harness, claude: anthropic.Anthropic
) -> None:
    with h.fault("anthropic", network={"toxic": "latency", "latency": 50}) as fault:
        assert naive(claude)
    [record] = h.journal
    assert (record.layer, record.network, record.outcome, record.status) == (
        "http",
        fault.name,
        "ok",
        200,
    )
    assert h.fired()[fault.name] == 1


def test_a_pooled_connection_after_a_fault_is_not_blamed_on_it(
    h: Harness, claude: anthropic.Anthropic
) -> None:
    naive(claude)  # a pooled connection
    with h.fault("anthropic", network={"toxic": "latency", "latency": 20}) as fault:
        naive(claude)
    naive(claude)  # same connection, the toxic is gone
    assert [r.network for r in h.journal] == [None, fault.name, None]


# -- a network fault fires when an attempt meets it -----------------------------------


def test_a_network_fault_no_attempt_met_has_not_fired(h: Harness, gpt: openai.OpenAI) -> None:
    with h.fault("anthropic", network="down") as down:
        gpt.chat.completions.create(**GPT)  # the app never calls anthropic
    assert h.fired()[down.name] == 0
    with pytest.raises(Exception, match=f"never fired: {down.name}"):
        Verdict(h.journal, declared=h.fired()).assert_all_faults_fired()


def test_down_resets_what_it_turns_away_before_any_byte(h: Harness) -> None:
    """What the app sees under `down` with the embedded Toxiproxy (docs/harness.md)."""
    with h.fault("anthropic", network="down") as down, pytest.raises(ConnectionResetError):
        raw_answer(h.endpoints["anthropic"])
    [record] = h.journal
    assert (record.outcome, record.network, record.status) == ("refused", down.name, None)


def test_attempts_refused_on_two_targets_are_two_records(h: Harness) -> None:
    with h.fault("anthropic", network="down") as one, h.fault("openai", network="down") as two:
        for target in ("anthropic", "openai"):
            with pytest.raises(ConnectionResetError):
                raw_answer(h.endpoints[target])
    assert [(r.target, r.outcome, r.network) for r in h.journal] == [
        ("anthropic", "refused", one.name),
        ("openai", "refused", two.name),
    ]


# -- where the plane cannot see ------------------------------------------------------------


def test_a_toxiproxy_that_reports_nothing_says_what_the_verdict_cannot_tell() -> None:
    with (
        serve_in_thread() as other,
        Harness(["anthropic", "openai"], backend="external", toxiproxy_url=other.url) as h,
    ):
        assert h.backend.caveat is not None
        assert "FIN" in h.backend.caveat
        claude = anthropic.Anthropic(
            base_url=h.endpoints["anthropic"], api_key="k", max_retries=0, timeout=5
        )
        with h.fault("anthropic", network="down"), pytest.raises(anthropic.APIConnectionError):
            naive(claude)
        claude.close()
        assert h.journal == []
        verdict = Verdict(h.journal, unseen=h.network_unseen)
        with pytest.raises(VerdictError, match="proves nothing here: the external Toxiproxy"):
            verdict.assert_failed_over("anthropic", "openai")


# -- the requests clock decides network faults for the request that starts a phase ----------

DOWN_FROM_REQUEST = """
version: 1
name: down-from-a-request
title: anthropic down from request {at} to request {until}
source: generic
clock: requests
targets:
  anthropic: {{dialect: anthropic}}
phases:
  - name: calm
    at: 0
    faults: []
  - name: down
    at: {at}
    faults: [{{target: anthropic, network: down}}]
  - name: back
    at: {until}
    faults: []
"""


def test_a_network_fault_from_request_n_refuses_request_n(h: Harness) -> None:
    from chaos.profiles import load_profile_text

    h.apply(load_profile_text(DOWN_FROM_REQUEST.format(at=1, until=2)))
    claude = anthropic.Anthropic(
        base_url=h.endpoints["anthropic"], api_key="k", max_retries=0, timeout=5
    )
    with claude:
        assert naive(claude)  # request 0: calm
        with pytest.raises(anthropic.APIConnectionError):
            naive(claude)  # request 1 starts the outage and meets it
    assert [(r.outcome, r.network) for r in h.journal] == [
        ("ok", None),
        ("refused", "down/0-network"),
    ]
    assert h.fired()["down/0-network"] == 1


# -- a refused attempt is linked to its call by the request it sent ---------------------------

KEY = "sk-refused-secret-0042"


def _sdk_call(sdk: str, endpoint: str) -> None:
    """One call through the real SDK ``sdk`` (2 retries), expected to fail to connect."""
    if sdk == "anthropic":
        with (
            anthropic.Anthropic(
                base_url=endpoint, api_key=KEY, max_retries=SDK_RETRIES, timeout=5
            ) as client,
            pytest.raises(anthropic.APIConnectionError),
        ):
            client.messages.create(**CLAUDE)
    else:
        with (
            openai.OpenAI(
                base_url=endpoint + "/v1", api_key=KEY, max_retries=SDK_RETRIES, timeout=5
            ) as client,
            pytest.raises(openai.APIConnectionError),
        ):
            client.chat.completions.create(**GPT)


@pytest.mark.parametrize(
    ("sdk", "operation"),
    [("anthropic", "messages.create"), ("openai", "chat.completions.create")],
)
def test_the_sdks_retries_of_a_refused_attempt_are_sdk_retries(
    h: Harness, sdk: str, operation: str
) -> None:
    with h.fault(sdk, network="down") as down:
        _sdk_call(sdk, h.endpoints[sdk])
    journal = h.journal
    assert [(r.operation, r.retry_count, r.outcome, r.network) for r in journal] == [
        (operation, n, "refused", down.name) for n in range(1 + SDK_RETRIES)
    ]
    assert len({r.fingerprint for r in journal}) == 1
    assert all(r.content_key for r in journal)
    [call] = Verdict(journal).calls
    assert [a.attribution for a in call.attempts] == ["first"] + ["sdk_retry"] * SDK_RETRIES
    summary = Verdict(journal).summary()[sdk]
    assert (summary.sdk_retries, summary.app_retries) == (SDK_RETRIES, 0)


def test_a_pooled_connection_refused_mid_way_names_its_call(
    h: Harness, claude: anthropic.Anthropic
) -> None:
    naive(claude)  # the SDK keeps this connection for the next call
    with h.fault("anthropic", network="down"), pytest.raises(anthropic.APIConnectionError):
        naive(claude)  # its first attempt goes out on the pooled connection
    first, *refused = h.journal
    assert first.outcome == "ok"
    assert [(r.operation, r.retry_count) for r in refused] == [
        ("messages.create", n) for n in range(1 + SDK_RETRIES)
    ]
    calls = Verdict(h.journal).calls
    assert len(calls) == 2
    assert [a.attribution for a in calls[1].attempts] == ["first"] + ["sdk_retry"] * SDK_RETRIES


def test_a_refused_attempts_record_keeps_no_secret(h: Harness) -> None:
    with h.fault("anthropic", network="down"):
        _sdk_call("anthropic", h.endpoints["anthropic"])
    assert h.journal
    for record in h.journal:
        assert KEY not in json.dumps(record.to_dict())
        assert record.request_headers  # read from the refused bytes, redacted


def test_a_client_that_sends_nothing_is_a_blind_attempt(h: Harness) -> None:
    parts = urlsplit(h.endpoints["anthropic"])
    with (
        h.fault("anthropic", network="down") as down,
        socket.create_connection((parts.hostname, parts.port), timeout=5) as sock,
    ):
        sock.shutdown(socket.SHUT_WR)  # connects, asks nothing
        with contextlib.suppress(ConnectionResetError):
            assert sock.recv(10) == b""
    [record] = h.journal
    assert (record.outcome, record.network, record.method, record.operation) == (
        "refused",
        down.name,
        "",
        None,
    )


# -- a refused attempt counts on the requests clock ---------------------------------------------

DOWN_AT_FIRST = """
version: 1
name: down-at-first
title: anthropic down for the first two requests
source: generic
clock: requests
targets:
  anthropic: {dialect: anthropic}
phases:
  - name: down
    at: 0
    faults: [{target: anthropic, network: down}]
  - name: back
    at: 2
    faults: []
"""


def test_refused_attempts_advance_the_requests_clock(h: Harness) -> None:
    """The profile's phases are written in the requests the app makes: the SDK's two
    refused attempts are requests 0 and 1, so its third (request 2) is in `back`."""
    from chaos.profiles import load_profile_text

    h.apply(load_profile_text(DOWN_AT_FIRST))
    with anthropic.Anthropic(
        base_url=h.endpoints["anthropic"], api_key="k", max_retries=SDK_RETRIES, timeout=5
    ) as client:
        assert naive(client)
    assert [(r.outcome, r.retry_count) for r in h.journal] == [
        ("refused", 0),
        ("refused", 1),
        ("ok", 2),
    ]
    assert h.phases_seen() == ["down", "back"]
    assert h.fired()["down/0-network"] == 2


def test_after_a_reset_the_requests_clock_counts_from_zero(h: Harness) -> None:
    from chaos.profiles import load_profile_text

    profile = load_profile_text(DOWN_FROM_REQUEST.format(at=1, until=5))
    with anthropic.Anthropic(
        base_url=h.endpoints["anthropic"], api_key="k", max_retries=0, timeout=5
    ) as client:
        for _ in range(2):
            h.apply(profile)
            assert naive(client)  # request 0: calm
            with pytest.raises(anthropic.APIConnectionError):
                naive(client)  # request 1: down
            h.reset()


# -- a held wall-clock phase: refused attempts count, the next phase is in place at once ------

HELD_DOWN = """
version: 1
name: held-down
title: anthropic down for 50 ms of test time, held until 3 attempts met it
source: generic
clock: wall
time_scale: 1
hold: 3
targets:
  anthropic: {dialect: anthropic}
  openai: {dialect: openai}
phases:
  - name: down
    at: 0ms
    faults: [{target: anthropic, network: down}]
  - name: slow
    at: 50ms
    faults: [{target: anthropic, network: {toxic: latency, latency: 20}}]
  - name: back
    at: 10m
    faults: []
"""


def test_a_held_phase_ends_with_its_last_refused_attempt(h: Harness) -> None:
    """Its 50 ms are long over when the app comes, yet the app's three attempts all meet
    the outage (the SDK's retries cannot ride out a phase shorter than its back-off); the
    last of them ends it, and the next phase starts then."""
    from chaos.profiles import load_profile_text

    h.apply(load_profile_text(HELD_DOWN))
    with openai.OpenAI(base_url=h.endpoints["openai"] + "/v1", api_key="k") as gpt:
        gpt.models.list()  # the app's first request starts the clock
    with anthropic.Anthropic(
        base_url=h.endpoints["anthropic"], api_key="k", max_retries=SDK_RETRIES, timeout=5
    ) as client:
        with pytest.raises(anthropic.APIConnectionError):
            naive(client)
        assert [(r.outcome, r.phase) for r in h.journal][1:] == [("refused", "down")] * 3
        # the ticker takes the proxy out of `down` at once; a call made in that instant
        # could still be refused (as on the requests clock), so wait for it
        for _ in range(500):
            if "slow" in h.phases_seen():
                break
            time.sleep(0.01)
        assert naive(client)
    assert [(r.outcome, r.phase) for r in h.journal][4:] == [("ok", "slow")]
    assert h.phases_seen() == ["down", "slow"]
