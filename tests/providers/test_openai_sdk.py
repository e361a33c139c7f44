"""The real ``openai`` SDK against the OpenAI fake behind the real gateway, over real sockets.

Successes must parse into the SDK's typed objects; every error kind must raise
the class the real API causes, with the SDK retrying exactly as it would
(counted server-side in the gateway's journal).
"""

from __future__ import annotations

import asyncio
import datetime
import itertools
import json
import time
from collections.abc import Iterator
from typing import Literal

import httpx
import openai
import pydantic
import pytest

from chaos import ConfigError
from chaos.faults import ErrorAction, Fault, Match, Schedule, SseAction
from chaos.gateway import Gateway, TargetConfig
from chaos.providers import OpenAIDialect
from chaos.providers._sse import parse_frame, split_frames

pytestmark = pytest.mark.sdk

MESSAGES = [{"role": "user", "content": "Name three colours"}]
ANSWER = "Echo: Name three colours"


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    gw = Gateway({"openai": TargetConfig(OpenAIDialect())}, admin=False, seed=7)
    gw.start_in_thread()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def gw(gateway: Gateway) -> Iterator[Gateway]:
    gateway.clear()
    yield gateway
    gateway.clear()


@pytest.fixture
def base_url(gw: Gateway) -> str:
    return gw.urls["openai"] + "/v1"


@pytest.fixture
def client(base_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=base_url, api_key="sk-test", timeout=10) as c:
        yield c


def requests_since(gw: Gateway, mark: int, expected: int) -> list:
    """The journal records after ``mark``, waiting briefly for ``expected`` of them to land."""
    deadline = time.monotonic() + 2
    while len(gw.journal(mark)) < expected and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # would a surplus request show up?
    return gw.journal(mark)


def mark(gw: Gateway) -> int:
    records = gw.journal()
    return records[-1].seq + 1 if records else 0


# -- successes ---------------------------------------------------------------------------


def test_chat_completion_parses_into_typed_objects(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert isinstance(completion, openai.types.chat.ChatCompletion)
    choice = completion.choices[0]
    assert choice.message.content == ANSWER
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert raw.request_id is not None
    assert raw.request_id.startswith("req_")


def test_chat_stream_gives_the_full_text_and_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == ANSWER
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens == 5  # "Echo", ":", " Name", " three", " colours"
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_chat_stream_helper_accumulates(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(model="gpt-4o", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content == ANSWER


def test_responses_create_and_stream_give_the_full_text(client: openai.OpenAI) -> None:
    response = client.responses.create(model="gpt-4o", input="Name three colours")
    assert isinstance(response, openai.types.responses.Response)
    assert response.output_text == ANSWER
    assert response.usage is not None
    assert response.usage.total_tokens == (
        response.usage.input_tokens + response.usage.output_tokens
    )
    with client.responses.stream(model="gpt-4o", input="Name three colours") as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == ANSWER
    assert final.output_text == ANSWER
    raw = client.responses.create(model="gpt-4o", input="Name three colours", stream=True)
    types = [event.type for event in raw]
    assert types[0] == "response.created"
    assert types[-1] == "response.completed"


def test_tool_calls_parse(client: openai.OpenAI) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {
                    "type": "object",
                    "properties": {"query": {"type": "string"}},
                    "required": ["query"],
                },
            },
        }
    ]
    completion = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, tools=tools)
    calls = completion.choices[0].message.tool_calls
    assert calls
    assert calls[0].function.name == "lookup"
    assert completion.choices[0].finish_reason == "tool_calls"


def test_models_embeddings_and_legacy_completions(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert "gpt-4o" in ids
    assert client.models.retrieve("gpt-4o-mini").id == "gpt-4o-mini"
    embedding = client.embeddings.create(model="text-embedding-3-small", input=["a b", "c"])
    assert len(embedding.data) == 2
    assert len(embedding.data[0].embedding) == 1536
    assert embedding.usage.prompt_tokens == 3
    completion = client.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say this")
    assert completion.choices[0].text == "Echo: Say this"


def test_async_client_streams_and_parses(base_url: str) -> None:
    async def run() -> tuple[str, str, str]:
        async with openai.AsyncOpenAI(base_url=base_url, api_key="sk-test", timeout=10) as c:
            completion = await c.chat.completions.create(model="gpt-4o", messages=MESSAGES)
            stream = await c.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
            streamed = "".join([ch.choices[0].delta.content or "" async for ch in stream])
            async with c.responses.stream(model="gpt-4o", input="Name three colours") as rs:
                final = await rs.get_final_response()
            return completion.choices[0].message.content or "", streamed, final.output_text

    assert asyncio.run(run()) == (ANSWER, ANSWER, ANSWER)


def test_env_points_the_sdk_at_the_fake(gw: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, template in OpenAIDialect.env.items():
        monkeypatch.setenv(name, template.format(url=gw.urls["openai"]))
    with openai.OpenAI() as c:
        assert c.chat.completions.create(model="gpt-4o", messages=MESSAGES).choices
    last = gw.journal()[-1]
    assert (last.operation, last.status) == ("chat.completions.create", 200)


def test_missing_key_is_an_authentication_error(base_url: str) -> None:
    with openai.OpenAI(base_url=base_url, api_key="sk-unused") as c:
        no_auth = {"Authorization": openai.Omit()}
        with pytest.raises(openai.AuthenticationError, match="You didn't provide an API key"):
            c.models.list(extra_headers=no_auth)


# -- errors and the SDK's retries -----------------------------------------------------------

ERRORS = {
    "bad_request": (openai.BadRequestError, 1),
    "unauthorized": (openai.AuthenticationError, 1),
    "forbidden": (openai.PermissionDeniedError, 1),
    "not_found": (openai.NotFoundError, 1),
    "request_too_large": (openai.RateLimitError, 3),
    "rate_limited": (openai.RateLimitError, 3),
    "quota_exceeded": (openai.RateLimitError, 3),  # never clears, yet the SDK retries it
    "server_error": (openai.InternalServerError, 3),
    "bad_gateway": (openai.InternalServerError, 3),
    "service_unavailable": (openai.InternalServerError, 3),
    "overloaded": (openai.InternalServerError, 3),
    "gateway_timeout": (openai.InternalServerError, 3),
}


def test_every_kind_is_covered() -> None:
    assert set(ERRORS) == set(OpenAIDialect().error_kinds())


@pytest.mark.parametrize("kind", sorted(ERRORS))
def test_error_kind_raises_the_real_class_after_the_real_retries(
    gw: Gateway, client: openai.OpenAI, kind: str
) -> None:
    expected, attempts = ERRORS[kind]
    gw.set_faults([Fault("openai", ErrorAction(error=kind, retry_after_ms=1))])
    start = mark(gw)
    with pytest.raises(expected) as caught:
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert type(caught.value) is expected
    records = requests_since(gw, start, attempts)
    assert [r.retry_count for r in records] == list(range(attempts))
    assert {r.status for r in records} == {caught.value.status_code}


def test_retry_after_over_120_seconds_means_no_retry_at_all(
    gw: Gateway, client: openai.OpenAI
) -> None:
    gw.set_faults([Fault("openai", ErrorAction(error="rate_limited", retry_after=150))])
    start = mark(gw)
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert len(requests_since(gw, start, 1)) == 1


def test_retry_after_ms_is_honoured(gw: Gateway, client: openai.OpenAI) -> None:
    gw.set_faults([Fault("openai", ErrorAction(error="overloaded", retry_after_ms=300))])
    start = mark(gw)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    records = requests_since(gw, start, 3)
    gaps = [b.time - a.time for a, b in itertools.pairwise(records)]
    assert len(gaps) == 2
    assert all(gap >= 0.27 for gap in gaps)


def test_should_retry_header_overrides_the_status_policy(
    gw: Gateway, client: openai.OpenAI
) -> None:
    gw.set_faults([Fault("openai", ErrorAction(error="server_error", should_retry=False))])
    start = mark(gw)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert len(requests_since(gw, start, 1)) == 1
    gw.set_faults(
        [Fault("openai", ErrorAction(error="bad_request", should_retry=True, retry_after_ms=1))]
    )
    start = mark(gw)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert len(requests_since(gw, start, 3)) == 3


def test_one_failure_is_absorbed_by_the_sdk(gw: Gateway, client: openai.OpenAI) -> None:
    fault = Fault(
        "openai", ErrorAction(error="overloaded", retry_after_ms=1), schedule=Schedule(first=1)
    )
    gw.set_faults([fault])
    start = mark(gw)
    completion = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert completion.choices[0].message.content == ANSWER
    assert [r.status for r in requests_since(gw, start, 2)] == [503, 200]


def test_in_stream_chat_error_is_a_bare_api_error_and_not_retried(
    gw: Gateway, client: openai.OpenAI
) -> None:
    fault = Fault(
        "openai",
        SseAction(error_event="server_error", after=3),
        Match(operation="chat.completions.create", stream=True),
    )
    gw.set_faults([fault])
    start = mark(gw)
    received: list[str] = []

    def consume() -> None:
        stream = client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
        for chunk in stream:
            received.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APIError) as caught:
        consume()
    assert type(caught.value) is openai.APIError
    assert "The server had an error processing your request" in caught.value.message
    assert "".join(received) == "Echo:"  # role chunk, "Echo", ":" then the error
    records = requests_since(gw, start, 1)
    assert [r.status for r in records] == [200]


def test_in_stream_responses_error_raises_api_error(gw: Gateway, client: openai.OpenAI) -> None:
    fault = Fault(
        "openai",
        SseAction(error_event="overloaded", after=2),
        Match(operation="responses.create"),
    )
    gw.set_faults([fault])

    def consume() -> None:
        with client.responses.stream(model="gpt-4o", input="hi") as stream:
            for _ in stream:
                pass

    with pytest.raises(openai.APIError, match="currently overloaded") as caught:
        consume()
    assert type(caught.value) is openai.APIError


def test_stream_ended_early_is_silent(gw: Gateway, client: openai.OpenAI) -> None:
    fault = Fault("openai", SseAction(end_early=True), Match(operation="chat.completions.create"))
    gw.set_faults([fault])
    chunks = list(client.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
    assert chunks  # no finish_reason, no [DONE], no error: the SDK just stops
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks if chunk.choices)


def test_responses_in_stream_error_continues_the_sequence(gw: Gateway, base_url: str) -> None:
    fault = Fault(
        "openai",
        SseAction(error_event="server_error", after=3),
        Match(operation="responses.create"),
    )
    gw.set_faults([fault])
    body = {"model": "gpt-4o", "input": "hi", "stream": True}
    with httpx.Client(timeout=10) as http:
        raw = http.post(
            base_url + "/responses", json=body, headers={"Authorization": "Bearer k"}
        ).content
    events = [parse_frame(f) for f in split_frames(raw)]
    assert [e.event for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "error",
    ]
    numbers = [e.json()["sequence_number"] for e in events]
    assert numbers[:3] == [0, 1, 2]
    assert numbers[3] > 2  # monotonic (the gateway may have pulled one more event)


def test_response_failed_form_is_not_raised_by_the_sdk() -> None:
    dialect = OpenAIDialect(responses_stream_error="failed")
    fault = Fault(
        "openai", SseAction(error_event="overloaded", after=4), Match(operation="responses.create")
    )
    with Gateway({"openai": TargetConfig(dialect)}, admin=False, seed=1) as gw:
        gw.set_faults([fault])
        with (
            openai.OpenAI(base_url=gw.urls["openai"] + "/v1", api_key="k", timeout=10) as c,
            c.responses.stream(model="gpt-4o", input="hi there") as stream,
        ):
            events = list(stream)
            with pytest.raises(RuntimeError, match=r"response\.completed"):
                stream.get_final_response()
    failed = events[-1]
    assert failed.type == "response.failed"
    assert failed.response.id == events[0].response.id
    assert failed.response.error.code == "server_is_overloaded"
    assert failed.sequence_number > events[-2].sequence_number


def test_responses_stream_error_form_is_validated() -> None:
    with pytest.raises(ConfigError, match=r"'fail'.*did you mean 'failed'"):
        OpenAIDialect(responses_stream_error="fail")  # type: ignore[arg-type]


def test_sdk_reads_crlf_framed_streams() -> None:
    with Gateway({"openai": TargetConfig(OpenAIDialect(sse_newline="\r\n"))}, admin=False) as gw:
        url = gw.urls["openai"] + "/v1"
        with openai.OpenAI(base_url=url, api_key="k", timeout=10) as c:
            stream = c.chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True)
            text = "".join(ch.choices[0].delta.content or "" for ch in stream)
            with c.responses.stream(model="gpt-4o", input="Name three colours") as rs:
                final = rs.get_final_response()
    assert text == ANSWER
    assert final.output_text == ANSWER


class Colour(pydantic.BaseModel):
    name: str
    hex_code: str
    favourite: bool


class Palette(pydantic.BaseModel):
    title: str
    colours: list[Colour]
    size: int
    mood: Literal["calm", "loud"] | None
    created: datetime.datetime


def test_structured_outputs_parse_into_the_model(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model="gpt-4o", messages=MESSAGES, response_format=Palette
    )
    palette = completion.choices[0].message.parsed
    assert isinstance(palette, Palette)
    assert palette.title == ANSWER
    assert palette.colours[0].name == ANSWER
    assert palette.mood == "calm"
    response = client.responses.parse(
        model="gpt-4o", input="Name three colours", text_format=Palette
    )
    assert isinstance(response.output_parsed, Palette)
    assert response.output_parsed.colours[0].favourite is True
    with client.responses.stream(
        model="gpt-4o", input="Name three colours", text_format=Palette
    ) as stream:
        streamed = stream.get_final_response().output_parsed
    assert streamed == response.output_parsed


def test_json_object_mode_answers_json(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-4o", messages=MESSAGES, response_format={"type": "json_object"}
    )
    assert json.loads(completion.choices[0].message.content or "") == {"answer": ANSWER}
