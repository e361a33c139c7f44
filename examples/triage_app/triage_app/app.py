"""Ask Claude for one label out of a set, as JSON, and check what comes back.

The model answers ``{"label": "...", "reason": "..."}``. Under load, answers
come back cut at the token limit (``stop_reason: max_tokens``), refused, empty, or
as JSON that does not parse; none of them is a label. This app asks again once,
then says it could not label the ticket instead of guessing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import anthropic

LABELS = ("billing", "bug", "account", "other")

PROMPT = (
    "Label this support ticket. Answer with JSON only: "
    '{{"label": one of {labels}, "reason": "one sentence"}}.\n\nTicket: {ticket}'
)


class UnusableAnswer(Exception):
    """No attempt gave a usable label.

    :param reasons: why each answer was not usable.
    """

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(f"could not label the ticket: {'; '.join(reasons)}")


@dataclass(frozen=True)
class Triage:
    """A usable label.

    :param label: one of :data:`LABELS`.
    :param reason: the model's one-sentence reason.
    :param attempts: how many answers it took.
    """

    label: str
    reason: str
    attempts: int


def _check(message: anthropic.types.Message) -> tuple[str, str]:
    if message.stop_reason != "end_turn":
        raise ValueError(f"stop_reason {message.stop_reason}")
    text = "".join(block.text for block in message.content if block.type == "text")
    try:
        data = json.loads(text)
    except ValueError:
        raise ValueError(f"not JSON: {text[:40]!r}") from None
    label = data.get("label") if isinstance(data, dict) else None
    if label not in LABELS:
        raise ValueError(f"not a label: {label!r}")
    return label, str(data.get("reason", ""))


def triage(
    ticket: str,
    *,
    client: anthropic.Anthropic | None = None,
    model: str = "claude-sonnet-4-6",
    attempts: int = 2,
) -> Triage:
    """Label ``ticket``; raises :class:`UnusableAnswer` when no answer is a label."""
    client = client or anthropic.Anthropic(timeout=10.0)
    prompt = PROMPT.format(labels=", ".join(LABELS), ticket=ticket)
    reasons = []
    for attempt in range(1, attempts + 1):
        message = client.messages.create(
            model=model, max_tokens=200, messages=[{"role": "user", "content": prompt}]
        )
        try:
            label, reason = _check(message)
        except ValueError as exc:
            reasons.append(str(exc))
            continue
        return Triage(label, reason, attempt)
    raise UnusableAnswer(reasons)
