"""A short run of ``bench/load.py``: 100 streaming clients for 5 s through Toxiproxy +
the gateway with a rate-based error and a latency toxic. Correctness only (every answer
its own, nothing lost, the journal consistent, memory bounded), never speed."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


@pytest.fixture(scope="module")
def load():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("llm_chaos_bench_load", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


@pytest.mark.slow
def test_100_streaming_clients_get_their_own_answers(load) -> None:  # type: ignore[no-untyped-def]
    result = load.run_load(clients=100, duration=5.0, error_rate=0.1, latency_ms=10, jitter_ms=5)
    tally = result.tally
    assert not result.problems, result.table()
    assert tally.calls >= 100  # every client finished at least one call
    assert tally.statuses[500] > 0, "the error fault never fired: nothing was checked"
    assert tally.answered > 0
    # (with nothing dropped from the bounded journal, it was also compared per body)
    # memory: the second half of the run grows by far less than the first took
    rss = dict(result.rss_mb)
    assert rss["end"] - rss["50%"] < 64, result.table()
