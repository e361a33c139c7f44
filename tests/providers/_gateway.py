"""A bare gateway with one target per dialect, on the fakes, for the reply tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from chaos.gateway import Gateway, TargetConfig
from chaos.providers.anthropic import AnthropicDialect
from chaos.providers.gemini import GeminiDialect
from chaos.providers.openai import OpenAIDialect


@contextmanager
def three_dialects(*, seed: int, pad_events: bool = False) -> Iterator[Gateway]:
    """Targets ``anthropic``, ``openai`` and ``gemini``, started in a thread, stopped after.

    :param pad_events: the Anthropic fake's padding events (ping...) in its streams.
    """
    gw = Gateway(
        {
            "anthropic": TargetConfig(AnthropicDialect(pad_events=pad_events)),
            "openai": TargetConfig(OpenAIDialect()),
            "gemini": TargetConfig(GeminiDialect()),
        },
        admin=False,
        seed=seed,
    )
    gw.start_in_thread()
    try:
        yield gw
    finally:
        gw.stop()
