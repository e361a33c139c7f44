"""``llm-chaos demo``: the README's main job (logic in :mod:`chaos.cli.demo`)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``demo`` verb."""
    from chaos.harness import _settings as opts

    parser = subparsers.add_parser(
        "demo",
        help="replay the 2 March 2026 Claude outage against a resilient and a naive example app",
        description="Replay the Claude outage of 2 March 2026 (profile claude-2026-03-02, "
        "compressed to seconds) against two example apps on the official SDKs: one with "
        "retries, a circuit breaker and failover to OpenAI, one without. Print what each did "
        "and why one survived; write timelines and reports. Offline: the providers are fakes.",
        allow_abbrev=False,
    )
    opts.add_arguments(
        parser,
        opts.Flag(opts.SEED, help="seed for the faults (default: the profile's, 20260302)"),
        opts.Flag(
            opts.REPORT,
            help="where the reports go",
            default="chaos-reports/demo",
            aliases=("--out",),
        ),
        opts.Flag(
            opts.PROFILE,
            help="another wall-clock profile to replay",
            default="claude-2026-03-02",
        ),
        opts.BACKEND,
    )
    parser.add_argument(
        "--time-scale",
        type=_positive,
        default=1200.0,
        metavar="N",
        help="incident seconds per second of replay (default: 1200, the 3h58m outage in 12 s)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Replay the outage against both apps, print the comparison, write the reports.

    Exit 0 when the resilient app answered every question (the expected story),
    1 when it did not (something is broken), 2 when the SDKs are missing.
    """
    from chaos.cli.demo import APPS, LEGEND, require_sdks, run_demo, why, write_reports
    from chaos.harness import _settings as opts
    from chaos.profiles import load_profile

    started = time.monotonic()
    settings = opts.settings_from_args(args)
    assert settings.profile is not None  # the verb's defaults
    assert settings.report is not None
    require_sdks()
    profile = load_profile(settings.profile)
    seed = settings.seed if settings.seed is not None else profile.seed
    _say(f"llm-chaos demo: {profile.title}")
    _say(
        f"  profile {profile.name}, seed {seed}: one second of replay is "
        f"{_human(args.time_scale)} of the incident"
    )
    for app in APPS:
        _say(f"  {app.label}: {app.blurb}")
    _say("  each app runs in its own process against its own harness (Toxiproxy + fault")
    _say("  gateway + fake Claude and OpenAI), both at once; one question every 0.2 s")
    _say(f"  {LEGEND}")
    _say("")
    result = run_demo(
        profile=settings.profile,
        settings=settings,
        time_scale=args.time_scale,
        progress=_say,
    )
    _say("\n" + result.table() + "\n")
    for run_ in result.runs:
        survived = all(q.answered for q in run_.questions)
        head = "survived" if survived else "did not survive"
        _say(f"Why the {run_.app.label} {head}:")
        for line in why(run_):
            _say(f"  - {line}")
        _say("")
    files = write_reports(result, settings.report)
    names = ", ".join(sorted(p.name for p in files))
    _say(f"reports written to {settings.report}/: {names}")
    took = time.monotonic() - started
    _say(f"open {settings.report}/demo.md, or the timelines in a browser (took {took:.0f}s)")
    resilient = result.runs[0]
    return 0 if all(q.answered for q in resilient.questions) else 1


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, e.g. 1200, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _human(scale: float) -> str:
    seconds = round(scale)
    if seconds % 3600 == 0:
        return f"{seconds // 3600} hour{'s' if seconds != 3600 else ''}"
    if seconds % 60 == 0:
        return f"{seconds // 60} minutes"
    return f"{seconds} seconds"


def _say(line: str) -> None:
    _write(line + "\n")


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
