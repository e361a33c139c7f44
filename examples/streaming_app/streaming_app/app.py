"""Stream Claude's answer to the user, and never show a broken one as whole.

Two mistakes this app is built to avoid (both are what the SDK leaves to you):

* a stream that ends without ``message_stop`` (a clean EOF, a cut, an
  in-stream ``event: error``, a stall) is *not* an answer, even when the last
  ``message_delta`` already said ``stop_reason: end_turn``;
* when it asks again after a partial stream, the user already saw the start
  of the answer: only the text beyond what was shown is passed on, so nothing
  is printed twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import anthropic
import httpx2

log = logging.getLogger("streaming_app")


class IncompleteAnswer(Exception):
    """Every attempt ended before the stream's terminal event.

    :param text: what was shown to the user before giving up.
    :param reasons: why each attempt was not complete.
    """

    def __init__(self, text: str, reasons: list[str]) -> None:
        self.text = text
        self.reasons = reasons
        super().__init__(f"no complete answer after {len(reasons)} attempts: {'; '.join(reasons)}")


@dataclass(frozen=True)
class StreamedAnswer:
    """A complete streamed answer.

    :param text: the whole answer, exactly once.
    :param stop_reason: the model's stop reason (``end_turn``, ``max_tokens``, ...).
    :param attempts: how many streams it took.
    """

    text: str
    stop_reason: str
    attempts: int


class _Incomplete(Exception):
    pass


class StreamingAssistant:
    """Streams answers from Claude, retrying broken streams without repeating text.

    :param client: an ``anthropic.Anthropic`` (default: from the environment,
        SDK retries off, ``timeout`` seconds per read).
    :param attempts: streams to try before giving up.
    :param timeout: seconds to wait for the connection and for each chunk: a
        stalled stream fails after this long instead of the SDK's 600 s.
    :param backoff: seconds before the first retry, doubled for each next one.
    """

    def __init__(
        self,
        *,
        client: anthropic.Anthropic | None = None,
        model: str = "claude-sonnet-4-6",
        attempts: int = 3,
        timeout: float = 10.0,
        backoff: float = 0.2,
    ) -> None:
        self.client = client or anthropic.Anthropic(max_retries=0, timeout=timeout)
        self.model = model
        self.attempts = attempts
        self.backoff = backoff

    def stream(
        self, question: str, on_text: Callable[[str], None] = lambda _: None
    ) -> StreamedAnswer:
        """Stream the answer to ``question``, passing each new piece of text to ``on_text``.

        :raises IncompleteAnswer: when no attempt reached the terminal event.
        """
        shown = ""
        reasons: list[str] = []
        for attempt in range(1, self.attempts + 1):
            text = ""
            stop_reason: str | None = None
            try:
                events = self.client.messages.create(
                    model=self.model,
                    max_tokens=1024,
                    messages=[{"role": "user", "content": question}],
                    stream=True,
                )
                finished = False
                for event in events:
                    if event.type == "content_block_delta" and event.delta.type == "text_delta":
                        text += event.delta.text
                        if len(text) > len(shown):
                            if not text.startswith(shown):
                                # the new stream says something else: we cannot un-show
                                # what is on screen, so stop rather than show a mix
                                raise _Incomplete("the retried stream diverged from what was shown")
                            on_text(text[len(shown) :])
                            shown = text
                    elif event.type == "message_delta":
                        stop_reason = event.delta.stop_reason
                    elif event.type == "message_stop":
                        finished = True
                if not finished or stop_reason is None:
                    raise _Incomplete("the stream ended without message_stop")
                if not text.startswith(shown):
                    raise _Incomplete("the retried stream diverged from what was shown")
                return StreamedAnswer(text=text, stop_reason=stop_reason, attempts=attempt)
            except _Incomplete as exc:
                reasons.append(str(exc))
            except (
                anthropic.APIStatusError
            ) as exc:  # incl. the in-stream `event: error` (status 200)
                if exc.status_code < 500 and exc.status_code not in (200, 408, 409, 429):
                    raise  # our request is wrong: asking again will not help
                reasons.append(f"{exc.status_code} {getattr(exc, 'type', None) or 'error'}")
            except (anthropic.APIConnectionError, httpx2.TransportError) as exc:
                # a cut mid-body surfaces as the raw httpx2 error, not an anthropic one
                reasons.append(f"{type(exc).__name__}: {exc}")
            log.warning("stream attempt %d incomplete: %s", attempt, reasons[-1])
            if attempt < self.attempts:
                time.sleep(self.backoff * 2 ** (attempt - 1))
        raise IncompleteAnswer(shown, reasons)
