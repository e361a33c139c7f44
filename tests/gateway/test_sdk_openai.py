"""Each fault through the real ``openai`` SDK: what the app sees matches the real API's
behaviour (reference/peers.md §1.2)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import openai
import pytest

from chaos.faults import ErrorAction, Fault, Match, Schedule, SseAction, WireAction
from chaos.gateway import Gateway
from tests.fidelity._expect import raises_like_real, real_exception
from tests.fidelity._recorded import OPENAI_STREAM
from tests.fidelity._reference import Stream, Wire
from tests.gateway._sdk import GPT, records

pytestmark = pytest.mark.sdk

_OPEN: list = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _client(gw: Gateway, **kw: object) -> openai.OpenAI:
    kw.setdefault("max_retries", 0)
    kw.setdefault("timeout", 5.0)
    client = openai.OpenAI(base_url=gw.urls["openai"] + "/v1", api_key="sk-test", **kw)
    _OPEN.append(client)
    return client


def _inject(gw: Gateway, action, match: Match | None = None, **schedule: int) -> None:
    gw.set_faults(
        [Fault("openai", action, match=match or Match(), schedule=Schedule(**schedule), name="f")]
    )


def _stream_text(client: openai.OpenAI) -> str:
    chunks = client.chat.completions.create(stream=True, **GPT)
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


def test_no_fault_answers_and_streams(gw: Gateway) -> None:
    client = _client(gw)
    text = client.chat.completions.create(**GPT).choices[0].message.content
    assert text
    assert _stream_text(client) == text


def test_retry_after_over_the_cap_is_not_retried(gw: Gateway) -> None:
    _inject(gw, ErrorAction("rate_limited", retry_after=150))
    with pytest.raises(openai.RateLimitError):
        _client(gw, max_retries=2).chat.completions.create(**GPT)
    assert len(gw.journal()) == 1


def test_server_errors_are_retried_by_the_sdk(gw: Gateway) -> None:
    _inject(gw, ErrorAction("server_error", retry_after_ms=10), first=2)
    assert _client(gw, max_retries=2).chat.completions.create(**GPT).choices
    assert [r.retry_count for r in gw.journal()] == [0, 1, 2]
    assert [r.status for r in gw.journal()] == [500, 500, 200]


def test_only_streaming_create_fails(gw: Gateway) -> None:
    _inject(gw, ErrorAction("overloaded"), Match(operation="chat.completions.create", stream=True))
    client = _client(gw)
    with pytest.raises(openai.APIStatusError):
        _stream_text(client)
    assert client.chat.completions.create(**GPT).choices
    assert list(client.models.list())


def test_cut_mid_stream_raises_what_a_real_cut_raises(gw: Gateway) -> None:
    """openai 3.x wraps a cut in APIConnectionError, 3.0 did not: derived from the real bytes."""
    _inject(gw, SseAction(cut_after=2))
    with raises_like_real("openai", Stream(OPENAI_STREAM, cut_after=2), stream=True):
        _stream_text(_client(gw))


def test_in_stream_error_is_an_api_error_without_status(gw: Gateway) -> None:
    _inject(gw, SseAction(error_event="overloaded", after=1))
    with pytest.raises(openai.APIError) as info:
        _stream_text(_client(gw, max_retries=2))
    assert not isinstance(info.value, openai.APIStatusError)
    assert len(gw.journal()) == 1


def test_end_early_raises_nothing(gw: Gateway) -> None:
    _inject(gw, SseAction(end_early=True))
    assert _stream_text(_client(gw))
    assert gw.journal()[0].outcome == "stream_ended_early"


def test_reset_is_retried_then_succeeds(gw: Gateway) -> None:
    _inject(gw, WireAction("reset"), first=1)
    assert _client(gw, max_retries=1).chat.completions.create(**GPT).choices
    assert [r.outcome for r in gw.journal()] == ["reset", "ok"]


@pytest.mark.slow
def test_hang_and_stall_are_what_real_ones_raise(gw: Gateway) -> None:
    _inject(gw, WireAction("hang"))
    with raises_like_real("openai", Wire("hang"), timeout=0.3):
        _client(gw, timeout=0.3).chat.completions.create(**GPT)
    _inject(gw, SseAction(stall_after=1))
    with raises_like_real("openai", Stream(OPENAI_STREAM, stall_after=1), stream=True, timeout=0.3):
        _stream_text(_client(gw, timeout=0.3))
    assert [r.outcome for r in records(gw, "openai", 2)] == ["hang", "stream_stalled"]


def test_async_client(gw: Gateway) -> None:
    async def main() -> type[BaseException]:
        client = openai.AsyncOpenAI(base_url=gw.urls["openai"] + "/v1", api_key="k", max_retries=0)
        try:
            stream = await client.chat.completions.create(stream=True, **GPT)
            async for _ in stream:
                pass
        except Exception as exc:
            return type(exc)
        finally:
            await client.close()
        return type(None)  # type: ignore[return-value]

    _inject(gw, SseAction(cut_after=1))
    real = Stream(OPENAI_STREAM, cut_after=1)
    assert asyncio.run(main()) is real_exception("openai", real, stream=True, aio=True)


def test_edge_page_names_the_openai_host(gw: Gateway) -> None:
    from chaos.faults import EdgeAction

    _inject(gw, EdgeAction("challenge_403"))
    with pytest.raises(openai.PermissionDeniedError) as info:
        _client(gw).chat.completions.create(**GPT)
    assert "api.openai.com" in info.value.response.text
