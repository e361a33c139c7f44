"""Content faults: answers that arrive whole on the wire but are wrong inside.

During an overload, answers come back cut at the token limit, empty, refused, or
with tool arguments that are not valid JSON. Each kind is an action of its own,
rendered by the target's dialect as that provider sends it (see
``chaos.gateway._actions.content``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from chaos.faults._base import Action

if TYPE_CHECKING:
    from chaos.providers._replies import ContentFault

__all__ = [
    "ContentAction",
    "EmptyAnswerAction",
    "MalformedToolArgsAction",
    "RefusalAction",
    "TruncateAnswerAction",
]


class ContentAction(Action):
    """The base of the content faults: each says what the fake should do to its answer."""

    def content(self) -> ContentFault:
        """The fault as the dialects apply it."""
        raise NotImplementedError


@dataclass(frozen=True)
class TruncateAnswerAction(ContentAction):
    """Cut the answer after ``tokens`` tokens with the provider's token-limit stop reason
    (``max_tokens``, ``length``, ``MAX_TOKENS``); a tool call is dropped.

    :param tokens: the tokens kept.
    """

    kind = "truncate_answer"
    shorthand = "tokens"
    tokens: int = 5

    def describe(self) -> str:
        return f"truncate_answer:{self.tokens}"

    def check(self) -> list[tuple[str, str]]:
        if self.tokens < 0:
            return [("tokens", f"must be >= 0, got {self.tokens}")]
        return []

    def content(self) -> ContentFault:
        from chaos.providers._replies import ContentFault  # lazily: the model stays light

        return ContentFault(self.kind, tokens=self.tokens)


@dataclass(frozen=True)
class MalformedToolArgsAction(ContentAction):
    """Cut a tool call's argument JSON so that it does not parse. Answers without a tool
    call pass unchanged. Gemini, whose arguments are an object, answers
    ``finishReason: MALFORMED_FUNCTION_CALL`` with no content, as it does then.

    :param keep: the share of the argument text kept (0 < keep < 1).
    """

    kind = "malformed_tool_args"
    shorthand = "keep"
    keep: float = 0.5

    def check(self) -> list[tuple[str, str]]:
        if not 0 < self.keep < 1:
            return [("keep", f"must be between 0 and 1 (exclusive), got {self.keep}")]
        return []

    def content(self) -> ContentFault:
        from chaos.providers._replies import ContentFault  # lazily: the model stays light

        return ContentFault(self.kind, keep=self.keep)


@dataclass(frozen=True)
class RefusalAction(ContentAction):
    """Refuse: Anthropic ``stop_reason: refusal``; OpenAI the ``refusal`` field (content
    null); Gemini ``finishReason: SAFETY`` with no content.

    :param message: the refusal text (Anthropic's text, OpenAI's ``refusal``).
    """

    kind = "refusal"
    shorthand = "message"
    message: str = "I'm sorry, but I can't help with that."

    def content(self) -> ContentFault:
        from chaos.providers._replies import ContentFault  # lazily: the model stays light

        return ContentFault(self.kind, message=self.message)


@dataclass(frozen=True)
class EmptyAnswerAction(ContentAction):
    """Answer with no text and no tool call, and a normal stop reason."""

    kind = "empty_answer"

    def content(self) -> ContentFault:
        from chaos.providers._replies import ContentFault  # lazily: the model stays light

        return ContentFault(self.kind)
