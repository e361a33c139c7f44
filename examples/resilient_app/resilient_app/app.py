"""The assistant: Claude first, an OpenAI-compatible provider second, a canned answer last."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass

import anthropic
import openai
from tenacity import Retrying, retry_if_exception, stop_after_attempt

from resilient_app.breaker import CircuitBreaker, CircuitOpen
from resilient_app.retry import is_transient, wait_retry_after

log = logging.getLogger("resilient_app")

DEGRADED_TEXT = (
    "Our assistant is temporarily unavailable. Your question was saved; "
    "we will answer it as soon as the service is back."
)


@dataclass(frozen=True)
class Answer:
    """What the user gets.

    :param text: the answer.
    :param provider: ``anthropic``, ``openai``, or ``none`` for the canned answer.
    :param degraded: True when no provider answered.
    """

    text: str
    provider: str
    degraded: bool


class Assistant:
    """Answers questions, failing over from Anthropic to OpenAI, then degrading.

    Clients are built from the environment (``ANTHROPIC_BASE_URL``,
    ``ANTHROPIC_API_KEY``, ``OPENAI_BASE_URL``, ``OPENAI_API_KEY``) when not given.

    :param timeout: seconds for each HTTP attempt (the SDKs' default is 600).
    :param attempts: attempts per provider (ours; the SDKs' retries are off).
    :param breaker_threshold: consecutive failed attempts that open a provider's circuit.
    :param cooldown: seconds an open circuit waits before one probe.
    :param max_retry_wait: the longest ``retry-after`` we honour before failing over.
    """

    def __init__(
        self,
        *,
        anthropic_client: anthropic.Anthropic | None = None,
        openai_client: openai.OpenAI | None = None,
        anthropic_model: str = "claude-sonnet-4-6",
        openai_model: str = "gpt-4o-mini",
        timeout: float = 10.0,
        attempts: int = 3,
        breaker_threshold: int = 3,
        cooldown: float = 30.0,
        max_retry_wait: float = 10.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.anthropic = anthropic_client or anthropic.Anthropic(max_retries=0, timeout=timeout)
        self.openai = openai_client or openai.OpenAI(max_retries=0, timeout=timeout)
        self.models = {"anthropic": anthropic_model, "openai": openai_model}
        self.attempts = attempts
        self.max_retry_wait = max_retry_wait
        breaker_args = {"threshold": breaker_threshold, "cooldown": cooldown}
        if clock is not None:
            breaker_args["clock"] = clock
        self.breakers = {name: CircuitBreaker(**breaker_args) for name in ("anthropic", "openai")}

    def answer(self, question: str) -> Answer:
        """Answer ``question``: from Claude, else from OpenAI, else a degraded canned answer."""
        for provider in ("anthropic", "openai"):
            try:
                text = self._with_retries(provider, question)
            except Exception as exc:  # any failure of this provider: try the next one
                log.warning("%s failed (%s: %s); failing over", provider, type(exc).__name__, exc)
                continue
            return Answer(text=text, provider=provider, degraded=False)
        return Answer(text=DEGRADED_TEXT, provider="none", degraded=True)

    def _with_retries(self, provider: str, question: str) -> str:
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_retry_after(max_wait=self.max_retry_wait),
            retry=retry_if_exception(is_transient),
            reraise=True,
        )
        return retrying(self._attempt, provider, question)

    def _attempt(self, provider: str, question: str) -> str:
        breaker = self.breakers[provider]
        if not breaker.allow():
            raise CircuitOpen(f"{provider} circuit is open")
        try:
            text = self._ask(provider, question)
        except Exception:
            breaker.record_failure()
            raise
        breaker.record_success()
        return text

    def _ask(self, provider: str, question: str) -> str:
        if provider == "anthropic":
            message = self.anthropic.messages.create(
                model=self.models["anthropic"],
                max_tokens=512,
                messages=[{"role": "user", "content": question}],
            )
            return "".join(block.text for block in message.content if block.type == "text")
        completion = self.openai.chat.completions.create(
            model=self.models["openai"],
            messages=[{"role": "user", "content": question}],
        )
        return completion.choices[0].message.content or ""


_default: Assistant | None = None


def answer(question: str) -> Answer:
    """Answer ``question`` with a process-wide :class:`Assistant` built from the environment."""
    global _default
    if _default is None:
        _default = Assistant(timeout=float(os.environ.get("RESILIENT_APP_TIMEOUT", "10")))
    return _default.answer(question)
