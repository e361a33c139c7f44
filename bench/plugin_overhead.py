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
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        return (yield)
    finally:
        TIMES.append((time.perf_counter() - wall, time.process_time() - cpu))

def pytest_sessionfinish(session):
    with open(os.environ["BENCH_OUT"], "w") as f:
        json.dump(TIMES, f)
"""


def run(folder: Path, name: str, body: str, n: int, *args: str) -> list[list[float]]:
    """Per-test (wall, CPU) seconds of one pytest run of ``n`` copies of ``body``."""
    case = folder / name
    case.mkdir(exist_ok=True)
    (case / "conftest.py").write_text(CONFTEST)
    tests = "\n".join(body.format(i=i) for i in range(n))
    (case / "test_bench.py").write_text(tests)
    out = case / "times.json"
    env = {**os.environ, "BENCH_OUT": str(out), "LLM_CHAOS_BACKEND": "embedded"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(case)]
    done = subprocess.run(cmd, cwd=case, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{name}: pytest failed\n{done.stdout}\n{done.stderr}")
    times: list[list[float]] = json.loads(out.read_text())
    return times[1:]  # the first test pays the session start (the harness)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="tests per run (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--update-docs", action="store_true", help=f"rewrite {SECTION} in {DOCS}")
    args = parser.parse_args()

    cases = {
        "no plugin": ("plain", "def test_{i}():\n    pass\n", ("-p", "no:llm_chaos")),
        "plugin, no chaos": ("unused", "def test_{i}():\n    pass\n", ()),
        "chaos": ("chaos", "def test_{i}(chaos):\n    pass\n", ()),
    }
    # rounds alternate the runs; each figure is the best round's median, which is what
    # the code costs rather than what the other jobs on a shared machine cost
    wall: dict[str, list[float]] = {name: [] for name in cases}
    cpu: dict[str, list[float]] = {name: [] for name in cases}
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            for name, (folder, body, extra) in cases.items():
                times = run(Path(tmp), folder, body, args.n, *extra)
                wall[name].append(statistics.median(t[0] for t in times))
                cpu[name].append(statistics.median(t[1] for t in times))
    best_wall = {name: min(v) for name, v in wall.items()}
    best_cpu = {name: min(v) for name, v in cpu.items()}
    base_wall, base_cpu = best_wall["no plugin"], best_cpu["no plugin"]
    rows = [
        f"| {name} | {best_wall[name] * 1000:.3f} | {(best_wall[name] - base_wall) * 1000:+.3f} "
        f"| {best_wall[name] / base_wall:.1f}× | {best_cpu[name] * 1000:.3f} "
        f"| {(best_cpu[name] - base_cpu) * 1000:+.3f} |"
        for name in cases
    ]
    overhead = (best_wall["chaos"] - base_wall) * 1000
    verdict = "within" if overhead <= 5 else "OVER"
    table = "\n".join(
        [
            f"{args.n - 1} tests per run (the first, which starts the harness, left out), "
            f"{args.rounds} alternating rounds; per-test time of the whole protocol (setup + "
            "call + teardown), in ms: the median of the best round (the machine is shared; "
            "other jobs' noise only ever adds time).",
            "",
            "| run | wall | over no plugin | ratio | CPU | CPU over no plugin |",
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
