"""The Anthropic fake and error catalogue through real sockets, driven by the real SDK.

The fake is served by the gateway (``chaos.gateway.Gateway``) with no fault rules; a
test-only subclass of the dialect scripts failures so that every error kind is what
the SDK receives, and counts the attempts the SDK makes (its own retries).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace

import anthropic
import httpx
import pytest

from chaos.gateway import Gateway, TargetConfig
from chaos.providers import AnthropicDialect, Request, Response
from chaos.providers._fake import answer_text
from tests.fidelity._expect import real_observation, resolve
from tests.fidelity._recorded import ANTHROPIC_ERRORS
from tests.fidelity._reference import Answer

pytestmark = pytest.mark.sdk

MODEL = "claude-opus-4-6"
WEATHER = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"location": {"type": "string"}},
        "required": ["location"],
    },
}


class Scripted(AnthropicDialect):
    """The fake, but the next ``fail_times`` answers come from ``failure`` (not registered)."""

    def __init__(self) -> None:
        super().__init__()
        self.reset()

    def reset(self) -> None:
        self.failure: Callable[[Response], Response] | None = None
        self.fail_times = 0
        self.seen: list[Request] = []
        self.token_delay = 0.0

    def fail(self, times: int, failure: Callable[[Response], Response]) -> None:
        self.fail_times, self.failure = times, failure

    @property
    def attempts(self) -> list[str | None]:
        """``x-stainless-retry-count`` of every request seen."""
        return [r.header("x-stainless-retry-count") for r in self.seen]

    async def serve(self, request: Request) -> Response:
        self.seen.append(request)
        answer = await super().serve(request)
        if self.fail_times and self.failure is not None:
            self.fail_times -= 1
            return self.failure(answer)
        return answer


@pytest.fixture(scope="module")
def gateway() -> Iterator[tuple[Scripted, str]]:
    dialect = Scripted()
    gw = Gateway({"anthropic": TargetConfig(dialect)}, admin=False).start_in_thread()
    try:
        yield dialect, gw.urls["anthropic"]
    finally:
        gw.stop()


@pytest.fixture
def fake(gateway) -> Scripted:
    gateway[0].reset()
    return gateway[0]


@pytest.fixture
def client(gateway, fake) -> Iterator[anthropic.Anthropic]:
    with anthropic.Anthropic(base_url=gateway[1], api_key="sk-test", timeout=10) as sdk:
        yield sdk


@pytest.fixture
def async_client(gateway, fake) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=gateway[1], api_key="sk-test", timeout=10)


def ask(text: str = "What is the capital of France?", **kwargs):
    return {
        "model": MODEL,
        "max_tokens": 200,
        "messages": [{"role": "user", "content": text}],
    } | kwargs


# -- success paths ------------------------------------------------------------------------


def test_sync_create_parses_into_a_typed_message(client) -> None:
    message = client.messages.create(**ask())
    assert isinstance(message, anthropic.types.Message)
    assert isinstance(message.content[0], anthropic.types.TextBlock)
    assert message.content[0].text == answer_text("What is the capital of France?")
    assert message.stop_reason == "end_turn"
    assert message.model == MODEL
    assert message.usage.output_tokens == 9  # "Echo", ":", " What", ..., "?"
    count = client.messages.count_tokens(model=MODEL, messages=ask()["messages"])
    assert count.input_tokens == message.usage.input_tokens


def test_sync_stream_helper_gives_the_full_text_and_usage(client) -> None:
    with client.messages.stream(**ask("stream me please")) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == final.content[0].text == "Echo: stream me please"
    assert final.usage.output_tokens == len(pieces)
    assert (
        final.usage.input_tokens
        == client.messages.count_tokens(
            model=MODEL, messages=ask("stream me please")["messages"]
        ).input_tokens
    )
    assert final.stop_reason == "end_turn"


def test_raw_stream_events_in_order(client) -> None:
    kinds = [event.type for event in client.messages.create(**ask("hi"), stream=True)]
    assert kinds[0] == "message_start"
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert "content_block_delta" in kinds


def test_async_create_and_stream(async_client) -> None:
    async def run() -> tuple[anthropic.types.Message, anthropic.types.Message]:
        async with async_client:
            message = await async_client.messages.create(**ask("async hello"))
            async with async_client.messages.stream(**ask("async stream")) as stream:
                final = await stream.get_final_message()
            return message, final

    message, final = asyncio.run(run())
    assert message.content[0].text == "Echo: async hello"
    assert final.content[0].text == "Echo: async stream"
    assert final.usage.output_tokens == 4


def test_tool_use_parses_into_tool_use_blocks(client) -> None:
    message = client.messages.create(**ask("weather in Paris?"), tools=[WEATHER])
    assert message.stop_reason == "tool_use"
    tool = message.content[-1]
    assert isinstance(tool, anthropic.types.ToolUseBlock)
    assert tool.name == "get_weather"
    assert set(tool.input) == {"location"}
    with client.messages.stream(**ask("weather in Paris?"), tools=[WEATHER]) as stream:
        streamed = stream.get_final_message()
    assert streamed.content[-1].input == tool.input
    assert streamed.usage.output_tokens == message.usage.output_tokens
    follow_up = client.messages.create(
        model=MODEL,
        max_tokens=200,
        tools=[WEATHER],
        messages=[
            {"role": "user", "content": "weather in Paris?"},
            {"role": "assistant", "content": message.content},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": "sunny"}],
            },
        ],
    )
    assert follow_up.content[0].text == "Echo: sunny"


def test_models_and_batches(client) -> None:
    models = client.models.list()
    assert MODEL in [m.id for m in models.data]
    assert client.models.retrieve("claude-haiku-4-5").id == "claude-haiku-4-5-20251001"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("claude-none")
    batch = client.messages.batches.create(
        requests=[{"custom_id": "one", "params": ask("batched")}]
    )
    assert batch.processing_status == "in_progress"
    assert client.messages.batches.retrieve(batch.id).processing_status == "ended"
    results = list(client.messages.batches.results(batch.id))
    assert results[0].custom_id == "one"
    assert results[0].result.type == "succeeded"
    assert results[0].result.message.content[0].text == "Echo: batched"
    assert client.messages.batches.delete(batch.id).type == "message_batch_deleted"


def test_token_delay_paces_the_stream(client, fake) -> None:
    fake.token_delay = 0.02
    start = time.monotonic()
    with client.messages.stream(**ask("a b")) as stream:
        stream.get_final_message()
    # 11 frames: start, block start, ping, 4 deltas, block stop, delta, stop -> 10 gaps
    assert time.monotonic() - start >= 10 * 0.02 * 0.9


def test_the_sdk_validation_meets_the_fakes(gateway) -> None:
    sdk = anthropic.Anthropic(base_url=gateway[1], api_key="sk-test", max_retries=0)
    with sdk, pytest.raises(anthropic.BadRequestError, match="max_tokens: Field required"):
        sdk.post("/v1/messages", cast_to=object, body={"model": MODEL, "messages": []})


# -- every error kind: the exception class and the SDK's own retries ------------------------

KINDS = sorted(ANTHROPIC_ERRORS)


def _real(kind: str, *, aio: bool = False) -> tuple[type[BaseException], int]:
    """What the installed SDK raises for the real bytes of ``kind``, after how many requests
    (derived in this run: the SDK decides both, and changes them between releases)."""
    recorded = ANTHROPIC_ERRORS[kind]
    steered = replace(recorded, headers=(*recorded.headers, ("retry-after-ms", "10")))
    seen = real_observation("anthropic", Answer(steered), aio=aio)
    assert seen.exception is not None
    return resolve(seen.exception), seen.attempts


def test_every_kind_is_tested() -> None:
    assert sorted(AnthropicDialect().error_kinds()) == KINDS


@pytest.mark.parametrize("kind", KINDS)
def test_error_kind_raises_the_real_class_after_the_real_retries(client, fake, kind) -> None:
    exc, attempts = _real(kind)
    fake.fail(99, lambda _: fake.error(kind, retry_after_ms=10))
    with pytest.raises(exc) as info:
        client.messages.create(**ask())
    assert type(info.value) is exc
    assert fake.attempts == [str(n) for n in range(attempts)]
    if kind not in ("bad_gateway", "service_unavailable"):
        assert info.value.request_id == dict(fake.error(kind).headers)[
            "request-id"
        ] or info.value.request_id.startswith("req_011C")
        assert isinstance(info.value.body, dict)


@pytest.mark.parametrize(
    "kind", ["overloaded", "rate_limited", "bad_request", "service_unavailable"]
)
def test_error_kinds_through_the_async_client(async_client, fake, kind) -> None:
    exc, attempts = _real(kind, aio=True)
    fake.fail(99, lambda _: fake.error(kind, retry_after_ms=10))

    async def run() -> None:
        async with async_client:
            await async_client.messages.create(**ask())

    with pytest.raises(exc):
        asyncio.run(run())
    assert len(fake.seen) == attempts


def test_x_should_retry_overrides_the_status_policy(client, fake) -> None:
    fake.fail(99, lambda _: fake.error("overloaded", should_retry=False))
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(**ask())
    assert len(fake.seen) == 1
    fake.reset()
    fake.fail(99, lambda _: fake.error("bad_request", should_retry=True, retry_after_ms=10))
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(**ask())
    assert len(fake.seen) == 3


def test_a_fault_absorbed_by_the_sdk_retry(client, fake) -> None:
    fake.fail(2, lambda _: fake.error("overloaded", retry_after_ms=10))
    message = client.messages.create(**ask("persist"))
    assert message.content[0].text == "Echo: persist"
    assert fake.attempts == ["0", "1", "2"]


def test_retry_after_is_honoured(client, fake) -> None:
    fake.fail(1, lambda _: fake.error("rate_limited", retry_after=0.3))
    start = time.monotonic()
    client.messages.create(**ask())
    assert time.monotonic() - start >= 0.3 * 0.9
    fake.reset()
    fake.fail(1, lambda _: fake.error("rate_limited", retry_after_ms=250))
    start = time.monotonic()
    client.messages.create(**ask())
    assert time.monotonic() - start >= 0.25 * 0.9
    assert len(fake.seen) == 2


def test_max_retries_zero_means_one_request(gateway, fake) -> None:
    fake.fail(99, lambda _: fake.error("server_error"))
    sdk = anthropic.Anthropic(base_url=gateway[1], api_key="k", max_retries=0)
    with sdk, pytest.raises(anthropic.InternalServerError, match="Internal server error"):
        sdk.messages.create(**ask())
    assert len(fake.seen) == 1


def _with_stream_error(dialect: AnthropicDialect, after: int) -> Callable[[Response], Response]:
    def failure(answer: Response) -> Response:
        assert answer.events is not None
        source = answer.events

        async def events() -> AsyncIterator[bytes]:
            count = 0
            async for frame in source:
                if count == after:
                    yield dialect.stream_error("overloaded", operation="messages.create")
                    return
                count += 1
                yield frame

        return Response(answer.status, answer.headers, events=events())

    return failure


def test_in_stream_error_is_a_status_200_api_error_and_never_retried(client, fake) -> None:
    fake.fail(99, _with_stream_error(fake, after=4))

    def read_all() -> None:
        with client.messages.stream(**ask()) as stream:
            for _ in stream.text_stream:
                pass

    with pytest.raises(anthropic.APIStatusError) as info:
        read_all()
    assert type(info.value) is anthropic.APIStatusError
    assert info.value.status_code == 200
    assert info.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "Overloaded"},
    }
    assert len(fake.seen) == 1


def test_in_stream_error_async(async_client, fake) -> None:
    fake.fail(99, _with_stream_error(fake, after=2))

    async def run() -> None:
        async with async_client:
            stream = await async_client.messages.create(**ask(), stream=True)
            async for _ in stream:
                pass

    with pytest.raises(anthropic.APIStatusError) as info:
        asyncio.run(run())
    assert info.value.status_code == 200
    assert len(fake.seen) == 1


def test_missing_key_is_the_fakes_401_over_http(gateway, fake) -> None:
    # The SDK refuses to send a request without credentials; plain HTTP clients do not.
    response = httpx.post(
        gateway[1] + "/v1/messages",
        json=ask(),
        headers={"anthropic-version": "2023-06-01"},
        timeout=10,
    )
    assert response.status_code == 401
    body = response.json()
    assert body["error"] == {
        "type": "authentication_error",
        "message": "x-api-key header is required",
    }
    assert body["request_id"] == response.headers["request-id"]
