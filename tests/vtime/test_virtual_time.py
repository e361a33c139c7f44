"""Virtual time (issue 18) through the real anthropic and openai SDKs (sync and async) and
tenacity, against the real harness: sleeps are skipped, the journal still shows them, the
verdicts judge what they judge in real time, and what needs real time gets it.

No assertion here times anything: a sleep skipped shows on the virtual clock
(``_vtime.skipped()``) and as the gap between journal records; the bench
(bench/virtual_time.py) measures the speed.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from chaos import VerdictError
from chaos.common import _vtime
from chaos.verdict import Verdict

anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")
tenacity = pytest.importorskip("tenacity")

QUESTION = [{"role": "user", "content": "What is our refund policy?"}]
TARGETS = {"anthropic": "anthropic", "openai": "openai"}
SONNET, HAIKU, OPUS = "claude-sonnet-4-6", "claude-haiku-4-5", "claude-opus-4-6"


@pytest.fixture(scope="module")
def harness() -> Iterator[Any]:
    from chaos import Harness

    with Harness(TARGETS, backend="embedded", seed=18, name_prefix="llm-chaos-vtime") as h:
        yield h


@pytest.fixture
def h(harness: Any) -> Iterator[Any]:
    """The module's harness, reset before and after each test."""
    harness.reset()
    try:
        yield harness
    finally:
        harness.reset()


@pytest.fixture
def virtual() -> Iterator[None]:
    """The test body runs on virtual time."""
    with _vtime.virtual():
        yield


def verdict(h: Any) -> Verdict:
    return Verdict(h.journal, targets=TARGETS, declared=h.fired())


def ask(h: Any, target: str, *, run_async: bool, **client: Any) -> str:
    """One question through the real SDK of ``target`` (sync or async client)."""
    url = h.endpoints[target]
    if target == "anthropic":
        kw: dict[str, Any] = {"base_url": url, "api_key": "sk-ant-test", **client}

        async def ask_async() -> str:
            async with anthropic.AsyncAnthropic(**kw) as c:
                m = await c.messages.create(
                    model="claude-sonnet-4-6", max_tokens=64, messages=QUESTION
                )
                return str(m.content[0].text)

        if run_async:
            return asyncio.run(ask_async())
        with anthropic.Anthropic(**kw) as c:
            m = c.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=QUESTION)
            return str(m.content[0].text)
    kw = {"base_url": url + "/v1", "api_key": "sk-test", **client}

    async def ask_openai_async() -> str:
        async with openai.AsyncOpenAI(**kw) as c:
            r = await c.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
            return str(r.choices[0].message.content)

    if run_async:
        return asyncio.run(ask_openai_async())
    with openai.OpenAI(**kw) as c:
        r = c.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
        return str(r.choices[0].message.content)


SDK_CASES = [
    pytest.param(target, run_async, id=f"{target}-{'async' if run_async else 'sync'}")
    for target in TARGETS
    for run_async in (False, True)
]


# -- the SDKs' own retries ------------------------------------------------------------


@pytest.mark.sdk
@pytest.mark.parametrize(("target", "run_async"), SDK_CASES)
@pytest.mark.usefixtures("virtual")
def test_sdk_honouring_retry_after_30_passes_with_the_30s_skipped(
    h: Any, target: str, run_async: bool
) -> None:
    h.inject(target, error="rate_limited", retry_after=30, first=1)

    assert ask(h, target, run_async=run_async, max_retries=2)

    first, second = h.journal
    assert (first.status, second.status) == (429, 200)
    # the journal says the SDK waited 30 s; the virtual clock says nobody did
    assert second.time - (first.time + first.duration) >= 30
    assert _vtime.skipped() > 29  # (the rest went by in real time)
    verdict(h).assert_honoured_retry_after(target)


# -- an app's own retries with tenacity -------------------------------------------------


def _retry_after(exc: BaseException) -> float:
    return float(exc.response.headers["retry-after"])  # type: ignore[attr-defined]


def _tenacity_kwargs(honours: bool) -> dict[str, Any]:
    wait: Callable[[Any], float] = (
        (lambda state: _retry_after(state.outcome.exception()))
        if honours
        else tenacity.wait_fixed(0.2)  # ignores the provider's retry-after
    )
    retryable = (anthropic.RateLimitError, openai.RateLimitError)
    return {
        "wait": wait,
        "stop": tenacity.stop_after_attempt(3),
        "retry": tenacity.retry_if_exception_type(retryable),
        "reraise": True,
    }


def ask_with_tenacity(h: Any, target: str, *, run_async: bool, honours: bool) -> str:
    """An app that switches the SDK's retries off and retries with tenacity itself."""
    if run_async:

        async def run() -> str:
            async for attempt in tenacity.AsyncRetrying(**_tenacity_kwargs(honours)):
                with attempt:
                    return await asyncio.to_thread(ask, h, target, run_async=False, max_retries=0)
            raise AssertionError("unreachable")

        return asyncio.run(run())
    for attempt in tenacity.Retrying(**_tenacity_kwargs(honours)):
        with attempt:
            return ask(h, target, run_async=False, max_retries=0)
    raise AssertionError("unreachable")


@pytest.mark.sdk
@pytest.mark.parametrize(("target", "run_async"), SDK_CASES)
@pytest.mark.usefixtures("virtual")
def test_tenacity_app_honouring_retry_after_30_passes(h: Any, target: str, run_async: bool) -> None:
    h.inject(target, error="rate_limited", retry_after=30, first=1)

    assert ask_with_tenacity(h, target, run_async=run_async, honours=True)

    assert [r.status for r in h.journal] == [429, 200]
    assert _vtime.skipped() > 29  # (the rest went by in real time)
    verdict(h).assert_honoured_retry_after(target)


@pytest.mark.sdk
@pytest.mark.parametrize("clock", ["real", "virtual"])
@pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])
def test_tenacity_app_ignoring_retry_after_fails_as_in_real_time(
    h: Any, clock: str, run_async: bool
) -> None:
    h.inject("anthropic", error="rate_limited", retry_after=30, first=1)
    if clock == "virtual":
        with _vtime.virtual():
            assert ask_with_tenacity(h, "anthropic", run_async=run_async, honours=False)
            skipped = _vtime.skipped()
        assert 0 < skipped <= 0.2  # its own 0.2 s, no more
    else:
        assert ask_with_tenacity(h, "anthropic", run_async=run_async, honours=False)

    with pytest.raises(VerdictError, match=r"asked to wait 30s, the next request came 0\.\d+s"):
        verdict(h).assert_honoured_retry_after("anthropic")


# -- what needs real time gets it --------------------------------------------------------


@pytest.mark.sdk
@pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])
@pytest.mark.usefixtures("virtual")
def test_a_read_timeout_against_hang_runs_in_real_time(h: Any, run_async: bool) -> None:
    # the SDK's read timeout is a socket timeout (sync) or a loop timer (async): real
    # time, so the hung attempt lasts its whole timeout; only the back-off is skipped
    h.inject("anthropic", wire="hang", first=1)

    assert ask(h, "anthropic", run_async=run_async, timeout=0.5, max_retries=1)

    hung, answered = h.journal
    assert (hung.status, hung.outcome) == (None, "hang")
    assert hung.duration > 0.4  # cut by the client's 0.5 s timeout, not before
    assert answered.status == 200
    assert _vtime.skipped() > 0  # the SDK's back-off between the two


@pytest.mark.parametrize("run_async", [False, True], ids=["sync", "async"])
@pytest.mark.usefixtures("virtual")
def test_no_sleep_is_skipped_while_a_request_is_in_flight(h: Any, run_async: bool) -> None:
    # a watchdog racing a slow answer: the answer (400 ms late) must win the race it
    # wins in real time against a 5 s watchdog, though the watchdog's sleep is virtual
    h.inject("anthropic", delay=400)
    answered = threading.Event()
    client = anthropic.Anthropic(base_url=h.endpoints["anthropic"], api_key="x", max_retries=0)

    def call() -> None:
        client.messages.create(model=SONNET, max_tokens=8, messages=QUESTION)
        answered.set()

    worker = threading.Thread(target=call)
    worker.start()
    while not h.gateway.busy():  # the request is in flight before the watchdog starts
        _vtime._real_sleep(0.001)
    if run_async:
        asyncio.run(asyncio.sleep(5))
    else:
        time.sleep(5)
    woke = time.time()
    won = answered.is_set()
    worker.join()
    client.close()

    (record,) = h.journal
    # the clock did not jump while the answer was in flight: it took its 0.4 s, not 5 s,
    # and was complete before the watchdog woke
    assert 0.39 <= record.duration < 5
    assert record.time + record.duration <= woke
    assert won, "the watchdog's sleep ended before the app had the slow answer"
    assert _vtime.skipped() < 5  # the 400 ms in flight went by in real time


@pytest.mark.parametrize("clock", ["real", "virtual"])
def test_a_timed_wait_on_a_sleeping_worker_times_out_as_in_real_time(clock: str) -> None:
    # the app waits 0.3 s for a worker that backs off 1 s: a timed wait is real, and a
    # skipped back-off would hand it the result at once (a timeout that never fires)
    def back_off_then_answer() -> str:
        for _ in range(2000):  # the app waits before the worker sleeps
            if clock == "real" or _vtime._CLOCK.waits:
                break
            _vtime._real_sleep(0.001)
        time.sleep(1)
        return "answer"

    with _vtime.virtual() if clock == "virtual" else contextlib.nullcontext():
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            future = pool.submit(back_off_then_answer)
            with pytest.raises(concurrent.futures.TimeoutError):
                future.result(timeout=0.3)
            assert future.result() == "answer"  # then the back-off ends, on the clock
        skipped = _vtime.skipped()
    if clock == "virtual":
        assert skipped < 1  # the app's timeout came first: the worker slept in real time


def test_the_harness_threads_keep_real_sleeps(h: Any) -> None:
    # a `delay` fault sleeps on the gateway's thread: not skipped, even on virtual time
    h.inject("openai", delay=300)
    with _vtime.virtual():
        assert ask(h, "openai", run_async=False, max_retries=0)
        assert _vtime.skipped() == 0
    (record,) = h.journal
    assert record.duration >= 0.29


def test_off_by_default_and_the_monotonic_clock_never_goes_back() -> None:
    assert not _vtime.active()
    before = time.monotonic()
    with _vtime.virtual():
        assert _vtime.active()
        time.sleep(3600)
        inside = time.monotonic()
    after = time.monotonic()
    assert inside - before >= 3600
    assert after >= inside
    assert not _vtime.active()


def test_a_wall_clock_profile_moves_on_with_the_skipped_time(h: Any, tmp_path: Any) -> None:
    # the app sleeps 10 s (virtual) and its next request meets the phase that began
    # meanwhile: its network fault (connection refused) is in place before the sleep returns
    profile = tmp_path / "down-at-10s.yaml"
    profile.write_text(
        "version: 1\nname: down-at-10s\ntitle: up, then down at 10 s\nclock: wall\n"
        "time_scale: 1\nstart: apply\ntargets:\n  anthropic: {dialect: anthropic}\n"
        "phases:\n  - {name: up, at: 0s, faults: []}\n"
        "  - name: down\n    at: 10s\n    faults:\n      - {target: anthropic, network: down}\n"
    )
    h.apply(str(profile))
    with (
        _vtime.virtual(),
        anthropic.Anthropic(base_url=h.endpoints["anthropic"], api_key="x", max_retries=0) as c,
    ):
        c.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=QUESTION)
        time.sleep(10)
        with pytest.raises(anthropic.APIConnectionError):
            c.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=QUESTION)
    assert h.phases_seen() == ["up", "down"]
    answered, refused = h.journal
    assert answered.status == 200
    assert refused.layer == "network"
    assert refused.time - answered.time >= 10


@pytest.mark.usefixtures("virtual")
def test_concurrent_sleepers_wake_in_the_order_of_their_deadlines(h: Any) -> None:
    # three tasks back off 8 s, 1 s and 4 s at once, then ask: the journal has their
    # requests 1 s, 4 s and 8 s after the start, each on its own deadline
    async def task(delay: float, model: str) -> None:
        await asyncio.sleep(delay)
        async with anthropic.AsyncAnthropic(
            base_url=h.endpoints["anthropic"], api_key="x", max_retries=0
        ) as c:
            await c.messages.create(model=model, max_tokens=8, messages=QUESTION)

    async def main() -> float:
        start = time.time()
        await asyncio.gather(task(8, OPUS), task(1, SONNET), task(4, HAIKU))
        return start

    start = asyncio.run(main())
    records = h.journal
    assert [r.model for r in records] == [SONNET, HAIKU, OPUS]
    for record, deadline in zip(records, (1, 4, 8), strict=True):
        assert deadline <= record.time - start < deadline + 1  # late by real work only
