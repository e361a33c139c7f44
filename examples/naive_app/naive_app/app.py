"""Ask Claude, return what it says. Nothing else."""

from __future__ import annotations

from dataclasses import dataclass

import anthropic


@dataclass(frozen=True)
class Answer:
    """The same shape as the resilient app's answer, for side-by-side comparisons."""

    text: str
    provider: str = "anthropic"
    degraded: bool = False


def answer(question: str, *, timeout: float = 30.0) -> Answer:
    """Answer ``question`` with Claude; any provider error reaches the caller.

    The SDK's own 2 retries are all there is. ``timeout`` only keeps a hung
    provider from blocking for the SDK's default of 10 minutes.
    """
    client = anthropic.Anthropic(timeout=timeout)
    message = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=512,
        messages=[{"role": "user", "content": question}],
    )
    return Answer(text="".join(b.text for b in message.content if b.type == "text"))
