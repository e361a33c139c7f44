"""The google-genai SDK against the Gemini fake behind the gateway (runs when it is installed).

The SDK is optional for this project (``pip install google-genai``); the raw-HTTP
tests in ``test_gemini_http.py`` cover the wire without it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chaos.faults import ErrorAction, Fault, SseAction
from chaos.gateway import Gateway, TargetConfig
from chaos.providers import GeminiDialect

pytestmark = pytest.mark.sdk

genai = pytest.importorskip("google.genai")
errors = pytest.importorskip("google.genai.errors")
types = pytest.importorskip("google.genai.types")

MODEL = "gemini-2.5-flash"


@pytest.fixture(scope="module")
def gateway() -> Iterator[Gateway]:
    gw = Gateway({"gemini": TargetConfig(GeminiDialect())}, admin=False, seed=5)
    gw.start_in_thread()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def client(gateway: Gateway, monkeypatch: pytest.MonkeyPatch):
    gateway.clear()
    for name, template in GeminiDialect.env.items():
        monkeypatch.setenv(name, template.format(url=gateway.urls["gemini"]))
    for name in GeminiDialect.env_unset:
        monkeypatch.delenv(name, raising=False)
    yield genai.Client()
    gateway.clear()


def test_generate_stream_count_and_models(client) -> None:
    reply = client.models.generate_content(model=MODEL, contents="Say hello there")
    assert reply.text == "Echo: Say hello there"
    usage = reply.usage_metadata
    assert usage.total_token_count == usage.prompt_token_count + usage.candidates_token_count
    chunks = client.models.generate_content_stream(model=MODEL, contents="Say hello there")
    assert "".join(c.text or "" for c in chunks) == "Echo: Say hello there"
    counted = client.models.count_tokens(model=MODEL, contents="Say hello there")
    assert counted.total_tokens == usage.prompt_token_count
    assert "models/gemini-2.5-pro" in [m.name for m in client.models.list()]


def test_function_call_from_a_python_tool(client) -> None:
    def weather(city: str) -> str:
        """Get the weather."""
        return "sunny"

    config = types.GenerateContentConfig(
        tools=[weather],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    reply = client.models.generate_content(model=MODEL, contents="Paris?", config=config)
    assert reply.function_calls[0].name == "weather"
    assert isinstance(reply.function_calls[0].args["city"], str)


@pytest.mark.parametrize(
    ("kind", "expected", "code", "status"),
    [
        ("rate_limited", "ClientError", 429, "RESOURCE_EXHAUSTED"),
        ("unauthorized", "ClientError", 400, "INVALID_ARGUMENT"),
        ("overloaded", "ServerError", 503, "UNAVAILABLE"),
        ("gateway_timeout", "ServerError", 504, "DEADLINE_EXCEEDED"),
    ],
)
def test_errors_map_to_the_sdk_classes(
    gateway: Gateway, client, kind: str, expected: str, code: int, status: str
) -> None:
    gateway.set_faults([Fault("gemini", ErrorAction(error=kind))])
    with pytest.raises(getattr(errors, expected)) as caught:
        client.models.generate_content(model=MODEL, contents="x")
    assert (caught.value.code, caught.value.status) == (code, status)


def test_in_stream_error_raises_server_error(gateway: Gateway, client) -> None:
    gateway.set_faults([Fault("gemini", SseAction(error_event="overloaded", after=2))])
    with pytest.raises(errors.ServerError, match="overloaded"):
        list(client.models.generate_content_stream(model=MODEL, contents="Say hello there"))


def test_response_schema_parses_into_the_model(client) -> None:
    import pydantic

    class City(pydantic.BaseModel):
        name: str
        population: int

    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_schema=City
    )
    reply = client.models.generate_content(model=MODEL, contents="Largest city?", config=config)
    assert reply.parsed == City(name="Echo: Largest city?", population=1)
