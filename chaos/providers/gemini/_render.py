"""Gemini's answers before and as bytes: :class:`Reply` and its stream's chunks.

The fake (:mod:`._fake`) decides a :class:`Reply`; the dialect sends it whole
(:meth:`Reply.candidate`) or as :func:`stream_frames` (:mod:`._dialect`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from chaos.providers import _sse
from chaos.providers._tokens import count_tokens

__all__ = ["Reply", "spaced", "stream_frames", "text_tokens"]


def spaced(obj: object) -> str:
    """``obj`` as JSON in the SSE chunks' own style: no space after ",", one after ":"."""
    return json.dumps(obj, separators=(",", ": "), ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class Reply:
    """What the fake says to one request: text pieces or function calls, and token counts."""

    pieces: list[str]
    call: dict[str, object] | None
    finish: str
    prompt_tokens: int
    output_override: int | None = None  # a scripted reply's usage.output_tokens
    bare: str | None = None  # SAFETY / MALFORMED_FUNCTION_CALL: no content; the finishMessage
    more: tuple[dict[str, object], ...] = ()  # a scripted reply's further calls (parallel)

    @property
    def output_tokens(self) -> int:
        if self.output_override is not None:
            return self.output_override
        return len(self.pieces) + sum(count_tokens(spaced(c["args"])) for c in self.more)

    def candidate(self) -> dict[str, object]:
        """The whole answer's candidate (content unless blocked, finish reason, index)."""
        if self.bare is not None:
            found: dict[str, object] = {"finishReason": self.finish, "index": 0}
            if self.bare:
                found["finishMessage"] = self.bare
            return found
        content = {"role": "model", "parts": self.parts()}
        return {"content": content, "finishReason": self.finish, "index": 0}

    def parts(self) -> list[dict[str, object]]:
        if self.call is not None:
            return [{"functionCall": call} for call in (self.call, *self.more)]
        return [{"text": "".join(self.pieces)}]

    def usage(self, *, final: bool = True) -> dict[str, object]:
        usage: dict[str, object] = {"promptTokenCount": self.prompt_tokens}
        if final:
            usage["candidatesTokenCount"] = self.output_tokens
        usage["totalTokenCount"] = self.prompt_tokens + (self.output_tokens if final else 0)
        usage["promptTokensDetails"] = [text_tokens(self.prompt_tokens)]
        return usage


def stream_frames(reply: Reply, model: str, rid: str, *, sse: bool) -> Iterator[bytes]:
    """The chunks of ``:streamGenerateContent``: SSE with CRLF, or one JSON array."""
    chunks: list[dict[str, object]] = []
    if reply.bare is not None:
        chunks.append(reply.candidate())
    elif reply.call is not None:
        content: dict[str, object] = {"parts": reply.parts(), "role": "model"}
        chunks.append({"content": content, "finishReason": reply.finish, "index": 0})
    else:
        pieces = reply.pieces or [""]
        for number, piece in enumerate(pieces, 1):
            candidate: dict[str, object] = {
                "content": {"parts": [{"text": piece}], "role": "model"},
            }
            if number == len(pieces):
                candidate["finishReason"] = reply.finish
            candidate["index"] = 0
            chunks.append(candidate)
    for number, candidate in enumerate(chunks, 1):
        last = number == len(chunks)
        body = {
            "candidates": [candidate],
            "usageMetadata": reply.usage(final=last),
            "modelVersion": model,
            "responseId": rid,
        }
        if sse:
            yield _sse.frame(spaced(body), newline="\r\n")
        else:
            text = _sse.indented_json(body, 2)
            yield (("[" if number == 1 else "\n,\r\n") + text + ("\n]" if last else "")).encode()


def text_tokens(count: int) -> dict[str, object]:
    """A ``TEXT`` modality's token count, as usage details carry it."""
    return {"modality": "TEXT", "tokenCount": count}
