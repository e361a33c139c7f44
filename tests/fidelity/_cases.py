"""The differential cases: each harness fault beside the real bytes it stands for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from tests.fidelity import _recorded as rec
from tests.fidelity._reference import Answer, Plan, Stream, Wire

BOTH = (False, True)
STREAM = (True,)
PLAIN = (False,)


@dataclass(frozen=True)
class Case:
    """One fault: the harness's form (``chaos.inject`` keys) and the reference's plan."""

    provider: str
    name: str
    fault: dict[str, Any]
    plan: Callable[[int], Plan] = field(compare=False)
    streams: tuple[bool, ...] = BOTH
    timeout: float = 5.0  # the SDK's timeout for this case

    @property
    def id(self) -> str:
        return f"{self.provider}-{self.name}"


def _always(plan: Plan) -> Callable[[int], Plan]:
    return lambda _attempt: plan


def _headers(answer: rec.Recorded, *extra: tuple[str, str]) -> rec.Recorded:
    return replace(answer, headers=(*answer.headers, *extra))


_TABLES = {
    "anthropic": (rec.ANTHROPIC_ERRORS, rec.ANTHROPIC_STREAM, rec.ANTHROPIC_OK),
    "openai": (rec.OPENAI_ERRORS, rec.OPENAI_STREAM, rec.OPENAI_OK),
    "gemini": (rec.GEMINI_ERRORS, rec.GEMINI_STREAM, rec.GEMINI_OK),
}
# the event before which each provider's stream carries its stop/finish reason: a stream that
# ends early ends there (the harness's `end_early` stops at the same point)
_CLOSING = {"anthropic": 8, "openai": 5, "gemini": 4}
_IN_STREAM_ERROR = {"anthropic": "overloaded", "openai": "server_error", "gemini": "overloaded"}


def cases() -> list[Case]:
    """Every fault kind the harness renders, per provider, with its real-bytes twin."""
    out: list[Case] = []
    for provider, (errors, stream, ok) in _TABLES.items():
        for kind, answer in errors.items():
            out.append(Case(provider, f"error:{kind}", {"error": kind}, _always(Answer(answer))))
        overloaded = errors["overloaded"]
        out.append(
            Case(
                provider,
                "error:overloaded+retry_after_ms=300",
                {"error": "overloaded", "retry_after_ms": 300},
                _always(Answer(_headers(overloaded, ("retry-after-ms", "300")))),
            )
        )
        out.append(
            Case(
                provider,
                "error:server_error+should_retry=false",
                {"error": "server_error", "should_retry": False},
                _always(Answer(_headers(errors["server_error"], ("x-should-retry", "false")))),
            )
        )
        out.append(
            Case(
                provider,
                "edge:cloudflare_502",
                {"edge": "cloudflare_502"},
                _always(Answer(rec.EDGE_502_HTML)),
            )
        )
        out += [
            Case(
                provider,
                "sse:cut_after=3",
                {"sse": {"cut_after": 3}},
                _always(Stream(stream, cut_after=3)),
                STREAM,
            ),
            Case(
                provider,
                "sse:end_early",
                {"sse": {"end_early": True}},
                _always(Stream(stream, end_after=_CLOSING[provider])),
                STREAM,
            ),
            Case(
                provider,
                "sse:error_event",
                {"sse": {"error_event": _IN_STREAM_ERROR[provider], "after": 3}},
                _always(Stream(stream, error_after=3)),
                STREAM,
            ),
            Case(
                provider,
                "sse:stall_after=3",
                {"sse": {"stall_after": 3}},
                _always(Stream(stream, stall_after=3)),
                STREAM,
                timeout=0.5,
            ),
            Case(provider, "wire:hang", {"wire": "hang"}, _always(Wire("hang")), timeout=0.5),
            Case(provider, "wire:reset", {"wire": "reset"}, _always(Wire("reset"))),
            Case(provider, "wire:close", {"wire": "close"}, _always(Wire("close"))),
            Case(
                provider,
                "wire:truncate",
                {"wire": "truncate"},
                _always(Wire("truncate", ok)),
                PLAIN,
            ),
            Case(
                provider, "wire:malformed", {"wire": "malformed"}, _always(Wire("malformed")), PLAIN
            ),
            # the embedded Toxiproxy keeps listening while a proxy is down, to see each attempt,
            # and resets it before any byte: what an outage behind a load balancer looks like
            Case(provider, "network:down", {"network": "down"}, _always(Wire("reset"))),
            Case(
                provider,
                "network:reset_peer",
                {"network": {"toxic": "reset_peer", "timeout": 0}},
                _always(Wire("reset")),
            ),
            Case(provider, "delay=300", {"delay": 300}, _always(Answer(ok, delay=0.3)), PLAIN),
            Case(
                provider,
                "wire:drip",
                {"wire": {"wire": "drip", "interval": 20, "chunk": 64}},
                _always(Answer(ok, chunk=64, interval=0.02)),
                PLAIN,
            ),
            Case(
                provider,
                "sse:token_delay=30",
                {"sse": {"token_delay": 30}},
                _always(Stream(stream, delay=0.03)),
                STREAM,
            ),
            Case(
                provider,
                "respond:503",
                {"respond": {"status": 503, "body": "try later"}},
                _always(Answer(rec.Recorded(503, (("content-type", "text/plain"),), b"try later"))),
            ),
            Case(
                provider,
                "network:latency=300",
                {"network": {"toxic": "latency", "latency": 300}},
                _always(Answer(ok, delay=0.3)),
                PLAIN,
            ),
            Case(
                provider,
                "network:timeout=0",
                {"network": {"toxic": "timeout", "timeout": 0}},
                _always(Wire("hang")),
                timeout=0.5,
            ),
            Case(
                provider,
                "network:limit_data=10",
                {"network": {"toxic": "limit_data", "bytes": 10}},
                _always(Wire("limit", ok, limit=10)),
                PLAIN,
            ),
            Case(
                provider,
                "network:slicer",
                {"network": {"toxic": "slicer", "average_size": 8, "delay": 100}},
                _always(Answer(ok, chunk=8, interval=0.0001)),
                PLAIN,
            ),
            Case(provider, "none", {}, _always(Answer(ok)), PLAIN),
            Case(provider, "none-stream", {}, _always(Stream(stream)), STREAM),
        ]
    return out
