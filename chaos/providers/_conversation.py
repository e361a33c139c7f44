"""The question a request asks, normalised across dialects, as one hash.

Two requests ask the same question when their conversations are the same:
the system prompt, the turns (user, assistant, tool results) and the names
of the tools offered, whatever the dialect's spelling (Anthropic
``system`` + ``messages``, OpenAI chat ``messages`` or Responses
``instructions`` + ``input``, Gemini ``systemInstruction`` + ``contents``).
The model, the stream flag, sampling and token limits are not part of the
question: a failover to another model or provider keeps the question and
changes them.

The system prompt is hashed apart, one hash per block, because frameworks
add their own provider-specific instructions to it (pydantic-ai prepends a
preamble for Claude only): the same question then reaches two providers with
system prompts of which one contains the other. The verdict treats two
requests as the same question when their turns and tools hash the same and
one's system blocks are a subset of the other's.

Each dialect reads its own body into a :class:`Conversation` (the
``question()`` method of :class:`~chaos.providers.Dialect`); only the hash
leaves this module, so the journal never holds a prompt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Conversation",
    "Question",
    "QuestionKind",
    "canonical_args",
    "embedding_question",
    "joined_text",
    "media_part",
]

QuestionKind = Literal["generate", "count_tokens", "embed"]
"""What an operation does with its question: answer it, count its tokens, embed it."""

Role = Literal["user", "assistant", "tool"]
# a part: ("text", s) | ("call", name, args_json) | ("result", text) | ("media", digest) | ...
Part = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Question:
    """The question a request asks: what is done with it, and its normalised content's hash.

    :param kind: ``generate`` (chat, messages, responses, generate_content, legacy
        completions), ``count_tokens`` or ``embed``.
    :param key: a hash of the normalised turns and tool names (or of the embedded
        input); equal for the same question in any dialect, to any model.
    :param system: one hash per system-prompt block, sorted.
    """

    kind: QuestionKind
    key: str
    system: tuple[str, ...] = ()


def _digest(data: object) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def canonical_args(value: object) -> str:
    """A tool call's arguments as canonical JSON: a dict (Anthropic, Gemini) and its
    JSON text (OpenAI) give the same string."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return str(value).strip()
    if value is None:
        value = {}
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def joined_text(value: object) -> str | None:
    """A string as it is, or the ``text`` of a list of parts (blocks) joined by newlines;
    None for anything else."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(
            p["text"] for p in value if isinstance(p, dict) and isinstance(p.get("text"), str)
        )
    return None


def media_part(data: object) -> Part:
    """An image, audio or file part: a digest of its bytes (base64 or a data URL) or its URL."""
    if isinstance(data, str) and data.startswith("data:") and "," in data:
        data = data.split(",", 1)[1]
    if isinstance(data, str):
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raw = data.encode()
    else:
        raw = json.dumps(data, sort_keys=True, default=str).encode()
    return ("media", hashlib.blake2b(raw, digest_size=8).hexdigest())


@dataclass
class Conversation:
    """A conversation being read from a request, in a dialect-neutral form.

    Adjacent turns of one role merge (Anthropic puts every tool result of a
    step in one user message, OpenAI one ``tool`` message each), adjacent
    text parts join with a newline (a list of one text block equals the
    string), and surrounding whitespace is ignored. Thinking and reasoning
    parts are left out: they are the model's, not the question.
    """

    system: list[str] = field(default_factory=list)
    turns: list[tuple[Role, list[Part]]] = field(default_factory=list)
    tools: set[str] = field(default_factory=set)
    extra: list[Part] = field(default_factory=list)

    def add_system(self, text: object) -> None:
        """Add system (or developer) instructions."""
        if isinstance(text, str) and text.strip():
            self.system.append(text.strip())

    def add(self, role: Role, part: Part) -> None:
        """Add one part to the conversation, as said by ``role``."""
        if part[0] == "text":
            if not part[1].strip():
                return
            part = ("text", part[1].strip())
        if not self.turns or self.turns[-1][0] != role:
            self.turns.append((role, []))
        parts = self.turns[-1][1]
        if part[0] == "text" and parts and parts[-1][0] == "text":
            parts[-1] = ("text", f"{parts[-1][1]}\n{part[1]}")
        else:
            parts.append(part)

    def add_text(self, role: Role, text: object) -> None:
        """Add a text part (anything not a string is ignored)."""
        if isinstance(text, str):
            self.add(role, ("text", text))

    def add_tool(self, name: object) -> None:
        """Offer a tool (by name; schemas differ between dialects and are left out)."""
        if isinstance(name, str) and name:
            self.tools.add(name)

    def question(self, kind: QuestionKind) -> Question:
        """The finished conversation as a :class:`Question` of ``kind``."""
        data = {
            "turns": [[role, parts] for role, parts in self.turns],
            "tools": sorted(self.tools),
            "extra": self.extra,
        }
        return Question(kind, _digest(data), tuple(sorted({_digest(b) for b in self.system})))


def embedding_question(value: object) -> Question:
    """The question of an embedding request: its input, one string or many."""
    items = (
        value if isinstance(value, list) and not all(isinstance(v, int) for v in value) else [value]
    )
    return Question("embed", _digest([v.strip() if isinstance(v, str) else v for v in items]))
