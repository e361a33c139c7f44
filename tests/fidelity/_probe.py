"""Run one call through an installed SDK and record what the app would see.

The same probe runs against the reference server (the real bytes) and against the harness;
the differential tests compare the two :class:`Observation`s. Attempts and the waits between
them are counted on the client side (an httpx event hook on the SDK's own default client),
so a network fault that stops an attempt before any server sees it is counted too.
"""

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

PROMPT = "hello there"
MODELS = {"anthropic": "claude-opus-4-6", "openai": "gpt-4o", "gemini": "gemini-2.5-flash"}
SDK_PACKAGE = {"anthropic": "anthropic", "openai": "openai", "gemini": "google-genai"}


@dataclass
class Observation:
    """What one SDK call did, as an app sees it."""

    exception: str | None  # the public name of the exception class raised, or None
    status: int | None  # the exception's HTTP status, if it has one
    attempts: int  # requests the SDK sent (its own retries included)
    text: str  # the text the app received before the call ended
    complete: bool  # the answer carried its stop/finish reason
    waits: list[float] = field(default_factory=list)  # seconds between attempts
    message: str = ""  # the first line of the exception's message

    @property
    def text_state(self) -> str:
        """``none``, ``partial`` or ``complete``: what the app was left holding."""
        if self.complete:
            return "complete"
        return "partial" if self.text else "none"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"text_state": self.text_state}


def exception_name(exc: BaseException) -> str:
    """The class's public dotted name (``anthropic.OverloadedError``), else its module's."""
    cls = type(exc)
    top = cls.__module__.split(".")[0]
    for public in (top, f"{top}.errors", "google.genai.errors"):
        try:
            module = importlib.import_module(public)
        except ImportError:
            continue
        if getattr(module, cls.__name__, None) is cls:
            return f"{public}.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


class _Clock:
    def __init__(self) -> None:
        self.times: list[float] = []

    def hook(self, request: Any) -> None:
        self.times.append(time.monotonic())

    async def ahook(self, request: Any) -> None:
        self.times.append(time.monotonic())


def _anthropic(url: str, clock: _Clock, stream: bool, aio: bool, timeout: float):
    import anthropic

    kw = {
        "model": MODELS["anthropic"],
        "max_tokens": 64,
        "messages": [{"role": "user", "content": PROMPT}],
    }
    parts: list[str] = []
    done = [False]
    if not aio:
        client = anthropic.Anthropic(
            base_url=url,
            api_key="sk-ant-test",
            timeout=timeout,
            http_client=anthropic.DefaultHttpxClient(event_hooks={"request": [clock.hook]}),
        )

        def run() -> None:
            with client:
                if stream:
                    with client.messages.stream(**kw) as s:
                        for text in s.text_stream:
                            parts.append(text)
                        done[0] = s.get_final_message().stop_reason is not None
                else:
                    msg = client.messages.create(**kw)
                    parts.append(msg.content[0].text)
                    done[0] = msg.stop_reason is not None

        return run, parts, done

    async def arun() -> None:
        client = anthropic.AsyncAnthropic(
            base_url=url,
            api_key="sk-ant-test",
            timeout=timeout,
            http_client=anthropic.DefaultAsyncHttpxClient(event_hooks={"request": [clock.ahook]}),
        )
        async with client:
            if stream:
                async with client.messages.stream(**kw) as s:
                    async for text in s.text_stream:
                        parts.append(text)
                    done[0] = (await s.get_final_message()).stop_reason is not None
            else:
                msg = await client.messages.create(**kw)
                parts.append(msg.content[0].text)
                done[0] = msg.stop_reason is not None

    return (lambda: asyncio.run(arun())), parts, done


def _openai(url: str, clock: _Clock, stream: bool, aio: bool, timeout: float):
    import openai

    kw = {"model": MODELS["openai"], "messages": [{"role": "user", "content": PROMPT}]}
    parts: list[str] = []
    done = [False]

    def take(chunk: Any) -> None:
        for choice in chunk.choices:
            if choice.delta.content:
                parts.append(choice.delta.content)
            if choice.finish_reason:
                done[0] = True

    if not aio:
        client = openai.OpenAI(
            base_url=url + "/v1",
            api_key="sk-test",
            timeout=timeout,
            http_client=openai.DefaultHttpxClient(event_hooks={"request": [clock.hook]}),
        )

        def run() -> None:
            with client:
                if stream:
                    for chunk in client.chat.completions.create(**kw, stream=True):
                        take(chunk)
                else:
                    answer = client.chat.completions.create(**kw)
                    parts.append(answer.choices[0].message.content or "")
                    done[0] = answer.choices[0].finish_reason is not None

        return run, parts, done

    async def arun() -> None:
        client = openai.AsyncOpenAI(
            base_url=url + "/v1",
            api_key="sk-test",
            timeout=timeout,
            http_client=openai.DefaultAsyncHttpxClient(event_hooks={"request": [clock.ahook]}),
        )
        async with client:
            if stream:
                async for chunk in await client.chat.completions.create(**kw, stream=True):
                    take(chunk)
            else:
                answer = await client.chat.completions.create(**kw)
                parts.append(answer.choices[0].message.content or "")
                done[0] = answer.choices[0].finish_reason is not None

    return (lambda: asyncio.run(arun())), parts, done


def _gemini(url: str, clock: _Clock, stream: bool, aio: bool, timeout: float):
    from google import genai
    from google.genai import types

    options = types.HttpOptions(
        base_url=url,
        timeout=int(timeout * 1000),
        client_args={"event_hooks": {"request": [clock.hook]}},
        async_client_args={"event_hooks": {"request": [clock.ahook]}},
    )
    kw = {"model": MODELS["gemini"], "contents": PROMPT}
    parts: list[str] = []
    done = [False]

    def take(answer: Any) -> None:
        if answer.text:
            parts.append(answer.text)
        if answer.candidates and answer.candidates[0].finish_reason is not None:
            done[0] = True

    if not aio:

        def run() -> None:
            client = genai.Client(api_key="gemini-test-key", http_options=options)
            try:
                if stream:
                    for chunk in client.models.generate_content_stream(**kw):
                        take(chunk)
                else:
                    take(client.models.generate_content(**kw))
            finally:
                client.close()

        return run, parts, done

    async def arun() -> None:
        client = genai.Client(api_key="gemini-test-key", http_options=options)
        try:
            if stream:
                async for chunk in await client.aio.models.generate_content_stream(**kw):
                    take(chunk)
            else:
                take(await client.aio.models.generate_content(**kw))
        finally:
            await client.aio.aclose()
            client.close()

    return (lambda: asyncio.run(arun())), parts, done


CALLERS: dict[str, Callable[..., Any]] = {
    "anthropic": _anthropic,
    "openai": _openai,
    "gemini": _gemini,
}


def observe(provider: str, url: str, *, stream: bool, aio: bool, timeout: float) -> Observation:
    """Make one call with the provider's SDK against ``url`` and record what happened."""
    clock = _Clock()
    run, parts, done = CALLERS[provider](url, clock, stream, aio, timeout)
    exc: BaseException | None = None
    try:
        run()
    except Warning:
        raise  # a warning turned error (filterwarnings) is no behaviour of the SDK's
    except Exception as caught:  # the SDK decides what it raises: record, don't judge
        exc = caught
    status = None
    if exc is not None:
        status = getattr(exc, "status_code", None)
        if status is None and provider == "gemini":
            status = getattr(exc, "code", None)
    waits = [round(b - a, 3) for a, b in zip(clock.times, clock.times[1:], strict=False)]
    return Observation(
        exception=None if exc is None else exception_name(exc),
        status=status,
        attempts=len(clock.times),
        text="".join(parts),
        complete=done[0],
        waits=waits,
        message="" if exc is None else (str(exc).splitlines() or [""])[0][:160],
    )
