"""What the plugin costs a test: the same tests with and without it, after the session start.

Three runs of the same N trivial tests, each a separate pytest process:

* ``chaos``: every test requests the ``chaos`` fixture (no faults): env routing,
  harness reset before and after, the verdict, the strict check, the report line;
* ``plugin, no chaos``: the plugin loaded, the tests do not use it (its autouse
  fixture and hooks only);
* ``no plugin``: ``-p no:llm_chaos``.

Each test's whole protocol (setup, call, teardown) is timed by a conftest
hook; the first test of each run is left out (it starts the harness). The
target is at most 5 ms per test for ``chaos`` over ``no plugin``.

Usage: ``python bench/plugin_overhead.py [-n 200] [--update-docs]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs" / "benchmarks.md"
SECTION = "## Plugin overhead"

CONFTEST = """
import json, os, time
import pytest

TIMES = []

@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item, nextitem):
    start = time.perf_counter()
    try:
        return (yield)
    finally:
        TIMES.append(time.perf_counter() - start)

def pytest_sessionfinish(session):
    with open(os.environ["BENCH_OUT"], "w") as f:
        json.dump(TIMES, f)
"""


def run(folder: Path, name: str, body: str, n: int, *args: str) -> list[float]:
    """Per-test seconds of one pytest run of ``n`` copies of ``body``."""
    case = folder / name
    case.mkdir()
    (case / "conftest.py").write_text(CONFTEST)
    tests = "\n".join(body.format(i=i) for i in range(n))
    (case / "test_bench.py").write_text(tests)
    out = case / "times.json"
    env = {**os.environ, "BENCH_OUT": str(out), "LLM_CHAOS_BACKEND": "embedded"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(case)]
    done = subprocess.run(cmd, cwd=case, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{name}: pytest failed\n{done.stdout}\n{done.stderr}")
    times: list[float] = json.loads(out.read_text())
    return times[1:]  # the first test pays the session start (the harness)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="tests per run (default 200)")
    parser.add_argument("--update-docs", action="store_true", help=f"rewrite {SECTION} in {DOCS}")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        results = {
            "no plugin": run(
                folder, "plain", "def test_{i}():\n    pass\n", args.n, "-p", "no:llm_chaos"
            ),
            "plugin, no chaos": run(folder, "unused", "def test_{i}():\n    pass\n", args.n),
            "chaos": run(folder, "chaos", "def test_{i}(chaos):\n    pass\n", args.n),
        }
    base = statistics.median(results["no plugin"])
    rows = []
    for name, times in results.items():
        median = statistics.median(times)
        rows.append(
            f"| {name} | {median * 1000:.3f} | {statistics.mean(times) * 1000:.3f} | "
            f"{sorted(times)[int(len(times) * 0.95)] * 1000:.3f} | "
            f"{(median - base) * 1000:+.3f} | {median / base:.1f}× |"
        )
    overhead = (statistics.median(results["chaos"]) - base) * 1000
    verdict = "within" if overhead <= 5 else "OVER"
    table = "\n".join(
        [
            f"{args.n - 1} tests per run (the first, which starts the harness, left out); "
            "per-test time of the whole protocol (setup + call + teardown), in ms. The median "
            "is the figure: the machine is shared, so means and p95 carry other jobs' noise.",
            "",
            "| run | median | mean | p95 | median over no plugin | ratio |",
            "|---|---|---|---|---|---|",
            *rows,
            "",
            f"Overhead of a test using `chaos` (no faults): **{overhead:.2f} ms** "
            f"({verdict} the 5 ms target).",
            "",
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, {platform.system()} {platform.release()}; "
            "backend embedded. Command: `python bench/plugin_overhead.py`.",
        ]
    )
    print(table)
    if args.update_docs:
        _update_docs(table)


def _update_docs(table: str) -> None:
    text = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    section = f"{SECTION}\n\n{textwrap.dedent(table)}\n"
    start = text.find(SECTION)
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + len(SECTION))
        text = text[:start] + section + ("" if end < 0 else text[end:])
    DOCS.write_text(text)


if __name__ == "__main__":
    main()
