"""Virtual time and the embedded Toxiproxy's ``latency`` toxic (issue 18), through the real
anthropic SDK (sync and async) over real sockets.

A latency is skipped on virtual time (the clock jumps by it, the bytes go on at once)
only when the client waiting behind it cannot time out first; otherwise it is real and
holds the clock. Either way the journal, on the virtual clock, shows it. The outcome of
every call here is compared with the same call on real time, never with an SDK's own
exception class.

No assertion times anything: a latency skipped shows as ``_vtime.skipped()`` and as the
journal's gaps; the bench (bench/virtual_time.py) measures the speed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import itertools
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from chaos.common import _vtime

anthropic = pytest.importorskip("anthropic")

QUESTION = [{"role": "user", "content": "What is our refund policy?"}]
SONNET = "claude-sonnet-4-6"
LATENCY = 0.8  # seconds


@pytest.fixture(scope="module")
def harness() -> Iterator[Any]:
    from chaos import Harness

    with Harness(
        {"anthropic": "anthropic"}, backend="embedded", seed=18, name_prefix="llm-chaos-vlat"
    ) as h:
        yield h


@pytest.fixture
def h(harness: Any) -> Iterator[Any]:
    """The module's harness, reset before and after each test."""
    harness.reset()
    try:
        yield harness
    finally:
        harness.reset()


def slow_network(h: Any, stream: str = "downstream", latency: float = LATENCY) -> None:
    toxic = {"toxic": "latency", "latency": int(latency * 1000), "stream": stream}
    h.inject("anthropic", network=toxic)


def client(h: Any, **kw: Any) -> Any:
    kw.setdefault("max_retries", 0)
    return anthropic.Anthropic(base_url=h.endpoints["anthropic"], api_key="x", **kw)


def ask(c: Any) -> str:
    return str(c.messages.create(model=SONNET, max_tokens=8, messages=QUESTION).content[0].text)


def outcome(call: Any) -> tuple[str, type[BaseException] | None]:
    """("answered", None) or ("raised", the exception's class)."""
    try:
        call()
    except Exception as exc:
        return "raised", type(exc)
    return "answered", None


# -- skipped: a sync client that cannot time out first ------------------------------------


@pytest.mark.sdk
@pytest.mark.parametrize("stream", ["downstream", "upstream"])
@pytest.mark.parametrize("timeout", [None, 5.0], ids=["no-timeout", "timeout-5s"])
def test_a_sync_client_that_cannot_time_out_first_gets_the_latency_on_the_virtual_clock(
    h: Any, stream: str, timeout: float | None
) -> None:
    slow_network(h, stream)
    kw = {} if timeout is None else {"timeout": timeout}
    with _vtime.virtual(), client(h, **kw) as c:
        before = time.time()
        assert ask(c)
        assert ask(c)
        after = time.time()
        skipped = _vtime.skipped()

    first, second = h.journal
    assert first.network is not None
    assert second.network == first.network
    assert (first.status, second.status) == (200, 200)
    # the journal's clock saw both latencies: the requests (upstream) or the answers
    # (downstream) came that much later
    if stream == "upstream":
        assert first.time - before >= LATENCY
        assert second.time - (first.time + first.duration) >= LATENCY
    else:
        assert second.time - (first.time + first.duration) >= LATENCY
        assert after - (second.time + second.duration) >= LATENCY
    # ... and nobody waited them: the clock jumped by most of both (the rest went by in
    # real time: the sender's pause, the answer's way out of the gateway)
    assert skipped > LATENCY


@pytest.mark.sdk
def test_sdk_retries_through_a_slow_network_keep_the_latency_in_the_journal(h: Any) -> None:
    # the profile's `methods-failing` shape: 529 on every attempt behind 800 ms of latency;
    # the SDK's 2 retries each cross the latency, then give up as in real time
    slow_network(h)
    h.inject("anthropic", error="overloaded")
    with _vtime.virtual(), client(h, timeout=5, max_retries=2) as c:
        assert outcome(lambda: ask(c))[0] == "raised"
        skipped = _vtime.skipped()

    records = h.journal
    assert [r.status for r in records] == [529, 529, 529]
    for before, after in itertools.pairwise(records):
        # latency back to the app, the SDK's back-off (skipped too), then the next attempt
        assert after.time - (before.time + before.duration) >= LATENCY
    assert skipped > 3 * LATENCY / 2  # most of the three latencies, and the back-offs


# -- real: the client could time out first ------------------------------------------------


@pytest.mark.sdk
@pytest.mark.parametrize("stream", ["downstream", "upstream"])
@pytest.mark.parametrize("timeout", [0.3, 2.0])
def test_a_sync_client_times_out_against_the_latency_exactly_as_in_real_time(
    h: Any, stream: str, timeout: float
) -> None:
    # a read timeout shorter than the latency must fire as it does in real time (a
    # skipped latency would answer it at once: a test would pass wrongly); a longer one
    # must not
    slow_network(h, stream)
    with client(h, timeout=timeout) as c:
        real = outcome(lambda: ask(c))
    h.reset()
    slow_network(h, stream)
    with _vtime.virtual(), client(h, timeout=timeout) as c:
        virtual = outcome(lambda: ask(c))
        skipped = _vtime.skipped()

    assert virtual == real
    if timeout < LATENCY:
        assert real[0] == "raised"
        assert skipped == 0  # the latency was real: the client's timeout came first
    else:
        assert real == ("answered", None)
        assert skipped > LATENCY / 2  # most of it


@pytest.mark.sdk
@pytest.mark.parametrize("timeout", [0.3, None], ids=["timeout-0.3s", "no-timeout"])
def test_an_async_client_gets_a_real_latency_and_the_real_outcome(
    h: Any, timeout: float | None
) -> None:
    # an async client's timeouts are its loop's timers, which the harness cannot see:
    # the latency stays real
    kw: dict[str, Any] = {} if timeout is None else {"timeout": timeout}

    async def ask_async() -> str:
        async with anthropic.AsyncAnthropic(
            base_url=h.endpoints["anthropic"], api_key="x", max_retries=0, **kw
        ) as c:
            m = await c.messages.create(model=SONNET, max_tokens=8, messages=QUESTION)
            return str(m.content[0].text)

    slow_network(h, latency=0.5)
    real = outcome(lambda: asyncio.run(ask_async()))
    h.reset()
    slow_network(h, latency=0.5)
    with _vtime.virtual():
        before = time.time()
        virtual = outcome(lambda: asyncio.run(ask_async()))
        after = time.time()
        skipped = _vtime.skipped()

    assert virtual == real
    assert real[0] == ("raised" if timeout is not None else "answered")
    assert skipped == 0
    (record,) = h.journal
    if timeout is None:  # the answer reached the app 500 ms after it left the gateway
        assert after - (record.time + record.duration) >= 0.5
    assert after - before >= (timeout or 0.5)


# -- real: what else could time out first -------------------------------------------------


@pytest.mark.sdk
def test_a_timed_wait_on_the_call_holds_the_latency_real(h: Any) -> None:
    # the app runs the call on a worker and waits 0.3 s for it: a real wait, which a
    # skipped latency would answer at once; it must time out as in real time
    slow_network(h)

    def timed_call() -> tuple[str, type[BaseException] | None]:
        with client(h, timeout=5) as c, concurrent.futures.ThreadPoolExecutor(1) as pool:
            future = pool.submit(ask, c)
            result = outcome(lambda: future.result(timeout=0.3))
            with contextlib.suppress(Exception):
                future.result()  # the worker's call ends before the client closes
            return result

    real = timed_call()
    h.reset()
    slow_network(h)
    with _vtime.virtual():
        virtual = timed_call()

    assert real == virtual == ("raised", concurrent.futures.TimeoutError)


@pytest.mark.sdk
def test_a_real_latency_holds_the_clock_for_every_sleeper(h: Any) -> None:
    # a thread's call with a 0.5 s timeout is behind the latency (real: its timeout comes
    # first); meanwhile the main thread ticks every 100 ms. Jumps of those ticks would
    # bring the latency's end (on the virtual clock) before the thread's real timeout
    slow_network(h)
    results: list[tuple[str, type[BaseException] | None]] = []
    with _vtime.virtual(), client(h, timeout=0.5) as c:
        worker = threading.Thread(target=lambda: results.append(outcome(lambda: ask(c))))
        worker.start()
        for _ in range(2000):  # the answer is in the latency (the gateway sent it)
            if h.journal and _vtime._CLOCK.holding:
                break
            _vtime._real_sleep(0.001)
        for _ in range(20):
            time.sleep(0.1)
        worker.join()

    assert len(results) == 1
    assert results[0][0] == "raised"
    (record,) = h.journal
    assert record.status == 200
