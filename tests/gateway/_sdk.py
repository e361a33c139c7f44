"""Shared bits of the SDK tests: a gateway with the real dialects, request payloads."""

from __future__ import annotations

import time

from chaos.common._journal import JournalRecord
from chaos.gateway import Gateway

CLAUDE = {
    "model": "claude-opus-4-6",
    "max_tokens": 64,
    "messages": [{"role": "user", "content": "hello there"}],
}
GPT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello there"}]}


def records(gw: Gateway, target: str, count: int, timeout: float = 5.0) -> list[JournalRecord]:
    """The target's journal records once there are ``count`` (ends may lag a client's close)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [r for r in gw.journal() if r.target == target]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.01)
