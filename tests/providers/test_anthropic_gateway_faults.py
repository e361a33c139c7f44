"""The Anthropic dialect under the gateway's own fault rules, seen by the real SDK.

Complements ``test_anthropic_sdk.py``: here the faults are ``chaos.faults`` rules
applied by the gateway (``error``, ``edge``, ``sse``), so the dialect's error
catalogue, in-stream error frame and terminal-event test are exercised the way a
profile uses them.
"""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import pytest

from chaos.faults import EdgeAction, ErrorAction, Fault, Match, SseAction
from chaos.gateway import Gateway, TargetConfig
from chaos.providers import AnthropicDialect
from tests.fidelity._expect import raises_like_real, real_exception
from tests.fidelity._recorded import ANTHROPIC_STREAM, EDGE_PAGES
from tests.fidelity._reference import Answer, Stream

pytestmark = pytest.mark.sdk

MODEL = "claude-opus-4-6"


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    gw = Gateway({"anthropic": TargetConfig(AnthropicDialect())}, admin=False).start_in_thread()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def client(gateway) -> Iterator[anthropic.Anthropic]:
    gateway.clear()
    url = gateway.urls["anthropic"]
    with anthropic.Anthropic(base_url=url, api_key="sk-test", timeout=10) as sdk:
        yield sdk
    gateway.clear()


def drain(stream: anthropic.Stream) -> None:
    for _ in stream:
        pass


def ask(text: str = "hello there") -> dict:
    return {"model": MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": text}]}


def test_per_method_outage_leaves_other_methods_up(gateway, client) -> None:
    gateway.set_faults(
        [
            Fault(
                "anthropic",
                ErrorAction("overloaded", retry_after_ms=10),
                Match(operation="messages.create", stream=False),
            )
        ]
    )
    with pytest.raises(anthropic.OverloadedError) as info:
        client.messages.create(**ask())
    assert info.value.body["error"] == {"type": "overloaded_error", "message": "Overloaded"}
    assert MODEL in [m.id for m in client.models.list().data]
    with client.messages.stream(**ask("streams still work")) as stream:
        assert stream.get_final_message().content[0].text == "Echo: streams still work"


def test_retries_and_their_steering_in_the_journal(gateway, client) -> None:
    since = len(gateway.journal())
    gateway.set_faults([Fault("anthropic", ErrorAction("server_error", retry_after_ms=10))])
    with pytest.raises(anthropic.InternalServerError):
        client.messages.create(**ask())
    records = gateway.journal(since)
    assert [(r.retry_count, r.status, r.action) for r in records] == [
        (n, 500, "error:server_error") for n in range(3)
    ]
    gateway.set_faults([Fault("anthropic", ErrorAction("server_error", should_retry=False))])
    since = len(gateway.journal())
    with pytest.raises(anthropic.InternalServerError):
        client.messages.create(**ask())
    assert [r.retry_count for r in gateway.journal(since)] == [0]


def test_in_stream_error_event_after_n_events(gateway, client) -> None:
    gateway.set_faults(
        [Fault("anthropic", SseAction(error_event="overloaded", after=3), Match(stream=True))]
    )
    with pytest.raises(anthropic.APIStatusError) as info:
        drain(client.messages.create(**ask(), stream=True))
    assert type(info.value) is anthropic.APIStatusError
    assert info.value.status_code == 200
    assert info.value.body["error"]["type"] == "overloaded_error"


def test_end_early_gives_a_partial_message_and_no_error(gateway, client) -> None:
    since = len(gateway.journal())
    gateway.set_faults([Fault("anthropic", SseAction(end_early=True), Match(stream=True))])
    with client.messages.stream(**ask("one two three four")) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_message()
    # a real truncation: the stream ends before message_delta and message_stop, so
    # the SDK returns the partial message with no stop_reason and raises nothing
    assert kinds[-1] == "content_block_stop"
    assert "message_delta" not in kinds
    assert "message_stop" not in kinds
    assert final.stop_reason is None
    assert final.content[0].text == "Echo: one two three four"
    assert [r.outcome for r in gateway.journal(since)] == ["stream_ended_early"]


def test_cut_mid_stream_raises_what_a_real_cut_raises(gateway, client) -> None:
    gateway.set_faults([Fault("anthropic", SseAction(cut_after=4), Match(stream=True))])
    with raises_like_real("anthropic", Stream(ANTHROPIC_STREAM, cut_after=4), stream=True):
        drain(client.messages.create(**ask(), stream=True))


@pytest.mark.slow
@pytest.mark.parametrize(
    "edge", ["cloudflare_524", "envoy_503", "challenge_403", "cloudflare_520_empty"]
)
def test_edge_pages_reach_the_sdk_as_status_errors(gateway, client, edge) -> None:
    # the class is the SDK's choice (anthropic 2.13 added ServiceUnavailableError for 503)
    exc = real_exception("anthropic", Answer(EDGE_PAGES[edge]))
    gateway.set_faults([Fault("anthropic", EdgeAction(edge))])
    sdk = client.with_options(max_retries=0)
    with pytest.raises(exc) as info:
        sdk.messages.create(**ask())
    assert type(info.value) is exc
