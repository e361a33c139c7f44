"""``llm-chaos run --profile NAME... -- COMMAND...``: the CI gate.

The logic is in :mod:`chaos.cli.gate`.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

EXIT_BAD_INPUT = 2

EPILOG = """\
exit status: 0 every profile passed; 1 a profile failed (the command exited
non-zero, crashed, timed out, or - strict - passed while a declared fault never
fired: inconclusive); 2 bad input (unknown profile, bad flag, no command).

The command gets the harness's environment: ANTHROPIC_BASE_URL, OPENAI_BASE_URL,
dummy API keys, LLM_CHAOS_ADMIN_URL (the gateway admin API), LLM_CHAOS_GATE_PROFILE
(the profile's name or file) and LLM_CHAOS_GATE_SEED; and HTTP(S)_PROXY/ALL_PROXY
pointing at a local sink (NO_PROXY: loopback) that refuses and reports any request
to a provider's API host that bypassed the harness (the profile then fails). A
wall-clock profile's incident time starts at the first request the harness receives
(start: first_request), so the command's start-up time does not eat into the replay.

example: llm-chaos run -p claude-2026-03-02 -p provider-down --report chaos-reports -- pytest -q
"""


def register(subparsers: Any) -> None:
    """Add the ``run`` verb."""
    from chaos.harness import _settings as opts

    parser = subparsers.add_parser(
        "run",
        help="CI gate: run a command once per profile with the harness up; exit 1 on a failure",
        description="Run COMMAND (any language: a smoke script, npm test, pytest) once per "
        "profile, each time with a fresh harness, the profile replayed and the environment "
        "pointing the SDKs at it; print a matrix; write JUnit XML, JSON and reports.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    opts.add_arguments(
        parser,
        opts.Flag(
            opts.PROFILE,
            help="a profile to run the command under (repeatable; see llm-chaos profiles list)",
            many=True,
            aliases=("-p",),
        ),
        opts.Flag(
            opts.REPORT,
            help="write gate.json, gate.md, junit.xml, timeline-<profile>.svg, "
            "journal-<profile>.json and coverage.json/.md into this directory",
        ),
        opts.Flag(
            opts.TARGETS,
            help="a target of the harness: NAME=DIALECT, NAME=URL or NAME=DIALECT URL "
            "(repeatable; default: anthropic and openai on the fake providers, plus the "
            "profile's); a URL forwards to a real upstream",
        ),
        opts.Flag(opts.SEED, help="seed for every profile (default: the profile's)"),
        opts.BACKEND,
        opts.TOXIPROXY_URL,
        opts.Flag(
            opts.ALLOW_NETWORK,
            help="allow --target URLs that are not on this machine (real providers), and "
            "the command's requests to providers' API hosts (else the sink refuses them)",
        ),
        opts.Flag(
            opts.SEAL,
            help="the sink refuses every non-loopback request of the command, not only "
            "those to providers' API hosts",
        ),
    )
    parser.add_argument(
        "--junit", metavar="PATH", help="write JUnit XML (one testcase per profile)"
    )
    parser.add_argument(
        "--timeout",
        type=_positive,
        metavar="S",
        help="seconds the command may run per profile; then it and its children are killed",
    )
    parser.add_argument(
        "--no-strict",
        dest="strict",
        action="store_false",
        help="do not fail a profile whose declared faults never fired",
    )
    parser.add_argument(
        "command", nargs=argparse.REMAINDER, metavar="-- COMMAND...", help="the command to run"
    )
    parser.set_defaults(func=run, parser=parser)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, e.g. 300, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    """Load every profile, run the gate, print the matrix, write the files."""
    from chaos.cli.gate import load_profiles, run_gate, write_reports
    from chaos.harness import _settings as opts

    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        args.parser.error("no command to run: put it after --, e.g. -- pytest -q")
    names = list(args.profile or ())
    if not names and (env_profile := opts.resolve(opts.PROFILE).value):
        names = [env_profile]
    if not names:
        args.parser.error("no profile: pass --profile NAME (see llm-chaos profiles list)")
    settings = opts.settings_from_args(args)
    profiles = load_profiles(names)  # every profile checked before anything runs
    with _sigterm_as_interrupt():
        report = run_gate(
            profiles,
            command,
            settings=settings,
            timeout=args.timeout,
            strict=args.strict,
            progress=_say,
        )
    _say("")
    _say(report.matrix())
    if settings.report:
        files = write_reports(report, settings.report)
        _say(f"reports: {len(files)} files in {settings.report}/ (gate.md, junit.xml, timelines)")
    if args.junit:
        from pathlib import Path

        path = Path(args.junit)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(report.to_junit(), encoding="utf-8")
        _say(f"JUnit XML: {path}")
    return report.exit_code


def _say(line: str) -> None:
    print(f"llm-chaos: {line}" if line and not line.startswith(" ") and "\n" not in line else line)
    sys.stdout.flush()


@contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """A CI runner cancelling the job sends SIGTERM: end the command's group and the
    harness cleanly, as for Ctrl-C."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
