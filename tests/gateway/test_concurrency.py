"""Many clients at once: every answer belongs to its own request, every request is journaled."""

from __future__ import annotations

import asyncio

import anthropic
import pytest

from chaos.gateway import Gateway
from tests.gateway._sdk import CLAUDE

pytestmark = pytest.mark.sdk


def test_concurrent_streams_and_calls_are_not_mixed_up(gw: Gateway) -> None:
    async def one(client: anthropic.AsyncAnthropic, n: int) -> bool:
        body = {**CLAUDE, "messages": [{"role": "user", "content": f"nonce {n} here"}]}
        if n % 2:
            async with client.messages.stream(**body) as stream:
                text = (await stream.get_final_message()).content[0].text
        else:
            text = (await client.messages.create(**body)).content[0].text
        return f"nonce {n} here" in text

    async def main() -> list[bool]:
        client = anthropic.AsyncAnthropic(base_url=gw.urls["anthropic"], api_key="k", max_retries=0)
        try:
            return await asyncio.gather(*(one(client, n) for n in range(40)))
        finally:
            await client.close()

    assert all(asyncio.run(main()))
    records = gw.journal()
    assert len(records) == 40
    assert [r.seq for r in records] == list(range(40))
    assert sum(r.stream for r in records) == 20
    assert {r.outcome for r in records} == {"ok"}
