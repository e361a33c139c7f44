"""Each fault through the real ``anthropic`` SDK: what the app sees matches the real API's
behaviour (reference/peers.md §1.1)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import anthropic
import pytest

from chaos.faults import EdgeAction, ErrorAction, Fault, Match, SseAction, WireAction
from chaos.gateway import Gateway
from tests.fidelity._expect import raises_like_real, real_exception
from tests.fidelity._recorded import ANTHROPIC_STREAM
from tests.fidelity._reference import Stream
from tests.gateway._sdk import CLAUDE, records

pytestmark = pytest.mark.sdk

_OPEN: list = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _client(gw: Gateway, **kw: object) -> anthropic.Anthropic:
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 5.0)
    client = anthropic.Anthropic(base_url=gw.urls["anthropic"], api_key="sk-test", **kw)
    _OPEN.append(client)
    return client


def _inject(gw: Gateway, action, match: Match | None = None, **schedule: int) -> None:
    from chaos.faults import Schedule

    gw.set_faults(
        [
            Fault(
                "anthropic", action, match=match or Match(), schedule=Schedule(**schedule), name="f"
            )
        ]
    )


def _stream_text(client: anthropic.Anthropic) -> anthropic.types.Message:
    with client.messages.stream(**CLAUDE) as stream:
        return stream.get_final_message()


def test_no_fault_answers_and_streams(gw: Gateway) -> None:
    client = _client(gw)
    assert client.messages.create(**CLAUDE).content[0].text
    final = _stream_text(client)
    assert final.stop_reason == "end_turn"
    assert [r.outcome for r in records(gw, "anthropic", 2)] == ["ok", "ok"]


def test_overloaded_is_retried_by_the_sdk_then_raised(gw: Gateway) -> None:
    _inject(gw, ErrorAction("overloaded", retry_after_ms=10))
    with pytest.raises(anthropic.OverloadedError):
        _client(gw, max_retries=2).messages.create(**CLAUDE)
    assert [r.retry_count for r in records(gw, "anthropic", 3)] == [0, 1, 2]
    assert len({r.fingerprint for r in gw.journal()}) == 1


def test_a_short_overload_is_absorbed_by_sdk_retries(gw: Gateway) -> None:
    _inject(gw, ErrorAction("overloaded", retry_after_ms=10), first=2)
    assert _client(gw, max_retries=2).messages.create(**CLAUDE).content
    assert [r.status for r in gw.journal()] == [529, 529, 200]


def test_should_retry_false_stops_sdk_retries(gw: Gateway) -> None:
    _inject(gw, ErrorAction("server_error", should_retry=False))
    with pytest.raises(anthropic.InternalServerError):
        _client(gw, max_retries=2).messages.create(**CLAUDE)
    assert len(gw.journal()) == 1


def test_only_streaming_create_fails(gw: Gateway) -> None:
    """Per-method failure: streams die while plain calls, token counts and models.list work."""
    _inject(gw, ErrorAction("overloaded"), Match(operation="messages.create", stream=True))
    client = _client(gw)
    with pytest.raises(anthropic.OverloadedError):
        _stream_text(client)
    assert client.messages.create(**CLAUDE).content[0].text
    assert (
        client.messages.count_tokens(
            model=CLAUDE["model"], messages=CLAUDE["messages"]
        ).input_tokens
        > 0
    )
    assert list(client.models.list())
    assert [(r.operation, r.status) for r in gw.journal()] == [
        ("messages.create", 529),
        ("messages.create", 200),
        ("messages.count_tokens", 200),
        ("models.list", 200),
    ]


def test_edge_page_is_an_internal_server_error(gw: Gateway) -> None:
    _inject(gw, EdgeAction("cloudflare_502"))
    with pytest.raises(anthropic.InternalServerError) as info:
        _client(gw).messages.create(**CLAUDE)
    assert info.value.status_code == 502


def test_hang_is_the_sdk_timeout(gw: Gateway) -> None:
    _inject(gw, WireAction("hang"))
    with pytest.raises(anthropic.APITimeoutError):
        _client(gw, timeout=0.3).messages.create(**CLAUDE)
    assert records(gw, "anthropic", 1)[0].outcome == "hang"


def test_reset_is_a_connection_error_after_sdk_retries(gw: Gateway) -> None:
    _inject(gw, WireAction("reset"))
    with pytest.raises(anthropic.APIConnectionError):
        _client(gw, max_retries=1).messages.create(**CLAUDE)
    assert [r.outcome for r in gw.journal()] == ["reset", "reset"]


def test_close_before_any_byte_is_a_connection_error(gw: Gateway) -> None:
    _inject(gw, WireAction("close"))
    with pytest.raises(anthropic.APIConnectionError):
        _client(gw).messages.create(**CLAUDE)


def test_cut_mid_stream_raises_what_a_real_cut_raises(gw: Gateway) -> None:
    """What the SDK raises for a cut stream is its own choice (a raw ``httpx2`` error up to
    anthropic 2.16, ``APIConnectionError`` from 2.17): derived from the real bytes."""
    _inject(gw, SseAction(cut_after=3))
    with raises_like_real("anthropic", Stream(ANTHROPIC_STREAM, cut_after=3), stream=True):
        _stream_text(_client(gw))
    assert gw.journal()[0].outcome == "stream_cut"


def test_truncated_stream_body_raises_what_a_real_cut_raises(gw: Gateway) -> None:
    _inject(gw, WireAction("truncate"))
    with raises_like_real("anthropic", Stream(ANTHROPIC_STREAM, cut_after=1), stream=True):
        _stream_text(_client(gw))
    assert gw.journal()[0].outcome == "truncated"


def test_in_stream_error_is_status_200_and_not_retried(gw: Gateway) -> None:
    _inject(gw, SseAction(error_event="overloaded", after=2))
    with pytest.raises(anthropic.APIStatusError) as info:
        _stream_text(_client(gw, max_retries=2))
    assert info.value.status_code == 200
    assert type(info.value) is anthropic.APIStatusError
    assert "overloaded_error" in str(info.value)
    assert len(gw.journal()) == 1


def test_end_early_raises_nothing(gw: Gateway) -> None:
    """The stream ends cleanly without ``message_stop``: the SDK returns what it got."""
    _inject(gw, SseAction(end_early=True))
    final = _stream_text(_client(gw))
    assert final.content[0].text
    assert final.stop_reason is None
    record = gw.journal()[0]
    assert record.outcome == "stream_ended_early"
    assert record.events > 0


def test_stall_is_what_a_real_stall_raises(gw: Gateway) -> None:
    _inject(gw, SseAction(stall_after=2))
    real = Stream(ANTHROPIC_STREAM, stall_after=2)
    with raises_like_real("anthropic", real, stream=True, timeout=0.3):
        _stream_text(_client(gw, timeout=0.3))
    assert records(gw, "anthropic", 1)[0].outcome == "stream_stalled"


def test_async_client_sees_the_same_faults(gw: Gateway) -> None:
    async def main() -> tuple[type[BaseException], int]:
        client = anthropic.AsyncAnthropic(base_url=gw.urls["anthropic"], api_key="k", max_retries=0)
        try:
            async with client.messages.stream(**CLAUDE) as stream:
                await stream.get_final_message()
        except BaseException as exc:
            cut = type(exc)
        gw.set_faults([])
        ok = await client.messages.create(**CLAUDE)
        await client.close()
        return cut, len(ok.content)

    _inject(gw, SseAction(cut_after=2))
    cut, blocks = asyncio.run(main())
    real = Stream(ANTHROPIC_STREAM, cut_after=2)
    assert cut is real_exception("anthropic", real, stream=True, aio=True)
    assert blocks == 1
