"""One example app, driven by a loop of questions: the child process of ``llm-chaos demo``.

``python -m chaos.cli.demo.driver APP --interval S --duration S --seed N`` imports
the app (its SDK clients read the harness's environment), prints
``{"event": "ready"}``, waits for a line on stdin, then asks one question every
``interval`` seconds until a ``stop`` line (for ``duration`` seconds at most),
prints one JSON line per answer, then ``{"event": "done"}``. A process per app keeps each app's
environment, SDK clients and logging its own, and lets both apps live through
the outage at the same time.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import threading
import time
from typing import Any

__all__ = ["main"]


def _emit(**event: Any) -> None:
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    """Drive one app; see the module docstring."""
    from chaos.cli.demo.apps import APPS, QUESTIONS

    parser = argparse.ArgumentParser(prog="python -m chaos.cli.demo.driver")
    parser.add_argument("app", choices=[app.name for app in APPS])
    parser.add_argument("--interval", type=float, default=0.2)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    app = next(a for a in APPS if a.name == args.app)

    random.seed(args.seed)  # the app's own backoff jitter
    # the resilient app logs a warning per failover: keep them off the demo's screen
    logger = logging.getLogger(app.name)
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    ask, breaker = app.make()
    _emit(event="ready")
    if not sys.stdin.readline():
        return 1  # the parent went away
    stop = threading.Event()  # the parent says "stop" once this app's replay recovered
    threading.Thread(target=_wait_for_stop, args=(stop,), daemon=True).start()
    start = time.monotonic()
    index = 0
    while not stop.is_set() and time.monotonic() - start < args.duration:
        index += 1
        asked = time.monotonic()
        error = None
        try:
            provider, degraded = ask(f"{QUESTIONS[(index - 1) % len(QUESTIONS)]} (#{index})")
            if degraded:
                provider = "degraded"
        except Exception as exc:  # the error the naive app's user sees
            provider = "error"
            error = f"{type(exc).__name__}: {_first_line(exc)}"
        _emit(
            event="answer",
            index=index,
            at=round(asked - start, 4),
            took=round(time.monotonic() - asked, 4),
            # wall time of the answer: the parent places it on the harness's incident clock
            done=time.time(),
            provider=provider,
            error=error,
            breaker=breaker(),
        )
        pause = asked + args.interval - time.monotonic()
        if pause > 0:
            stop.wait(pause)
    _emit(event="done")
    return 0


def _wait_for_stop(stop: threading.Event) -> None:
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    stop.set()  # "stop", or the parent went away


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return text if len(text) <= 160 else text[:157] + "..."


if __name__ == "__main__":
    sys.exit(main())
