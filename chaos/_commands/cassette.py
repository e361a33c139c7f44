"""``llm-chaos cassette record|replay|show``: record real answers once, replay them offline.

``record`` runs a command (any language) with a harness whose one target forwards to
the real provider and records every answer into the cassette; ``replay`` runs it with
the target answering from the cassette, no network, optionally under a fault profile
(faults layer over the replayed answers); ``show`` lists what a cassette holds. The
command's exit status is the verb's; a replayed request with no recording also fails
it (exit 1), naming the request.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaos._errors import ConfigError

if TYPE_CHECKING:
    from chaos.providers._cassette import Cassette

__all__ = ["register", "run"]

EPILOG = """\
examples:
  llm-chaos cassette record --cassette cassettes/triage.yaml \\
      --target anthropic=https://api.anthropic.com --allow-network -- python triage.py
  llm-chaos cassette replay --cassette cassettes/triage.yaml --target anthropic \\
      -p provider-down -- pytest -q
  llm-chaos cassette show cassettes/triage.yaml

The file is YAML with a format version; request headers are never stored (keys come
from the environment) and secret query parameters and headers are masked.
"""


def register(subparsers: Any) -> None:
    """Add the ``cassette`` verb."""
    parser = subparsers.add_parser(
        "cassette",
        help="record a command's real provider answers into a cassette, replay them offline",
        description="Record real answers once into a readable cassette file, then replay "
        "them offline (with faults on top) while a command runs.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = parser.add_subparsers(dest="cassette_action", metavar="ACTION")
    actions.required = True
    for name, text in (
        ("record", "run COMMAND with TARGET forwarded to its real upstream, recording answers"),
        ("replay", "run COMMAND with TARGET answering from the cassette, offline"),
    ):
        action = actions.add_parser(name, help=text, description=text, epilog=EPILOG)
        action.formatter_class = argparse.RawDescriptionHelpFormatter
        action.add_argument(
            "--cassette", required=True, metavar="PATH", help="the cassette file (YAML)"
        )
        action.add_argument(
            "--target",
            required=True,
            metavar="NAME=DIALECT,URL" if name == "record" else "NAME[=DIALECT]",
            help="the target: NAME=URL or NAME=DIALECT,URL (dialect NAME by default)"
            if name == "record"
            else "the target whose answers the cassette holds: NAME or NAME=DIALECT",
        )
        if name == "record":
            action.add_argument(
                "--allow-network",
                action="store_true",
                help="allow an upstream that is not on this machine (a real provider)",
            )
        else:
            action.add_argument(
                "-p",
                "--profile",
                metavar="NAME|PATH",
                help="a fault profile to replay over the recorded answers",
            )
        action.add_argument("--seed", type=int, help="seed for probabilistic faults")
        action.add_argument(
            "command", nargs=argparse.REMAINDER, metavar="-- COMMAND...", help="the command"
        )
        action.set_defaults(func=run, parser=action)
    show = actions.add_parser("show", help="list a cassette's recordings")
    show.add_argument("cassette", metavar="CASSETTE", help="the cassette file (YAML)")
    show.set_defaults(func=run, parser=show)


def _target(text: str, *, record: bool) -> tuple[str, str, str]:
    """(name, dialect, upstream) of ``--target``."""
    name, _, value = text.partition("=")
    dialect, comma, url = value.partition(",")
    if not comma and "://" in value:
        dialect, url = name, value
    if not name or (record and not url) or (not record and url):
        form = "NAME=URL or NAME=DIALECT,URL" if record else "NAME or NAME=DIALECT"
        raise ConfigError(
            f"--target {text!r}: expected {form} "
            f"(e.g. {'anthropic=https://api.anthropic.com' if record else 'anthropic'})"
        )
    return name, dialect or name, url or "fake"


def run(args: argparse.Namespace) -> int:
    """Record, replay or show."""
    from chaos.providers._cassette import Cassette

    path = Path(args.cassette)
    if args.cassette_action == "show":
        if not path.exists():
            raise ConfigError(f"cassette {path} does not exist")
        return _show(Cassette(path))
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    if not command:
        args.parser.error("no command to run: put it after --, e.g. -- python app.py")
    record = args.cassette_action == "record"
    name, dialect, upstream = _target(args.target, record=record)
    if not record and not path.exists():
        raise ConfigError(
            f"cassette {path} does not exist; record it first: llm-chaos cassette record "
            f"--cassette {path} --target {name}=URL -- COMMAND"
        )
    from chaos._gate import _with_profile_targets, run_command
    from chaos._harness import Harness, Target

    targets = [Target(name, dialect, upstream, cassette=path, record=record)]
    profile = None
    if getattr(args, "profile", None):
        from chaos.profiles import load_profile

        profile = load_profile(args.profile)  # checked before anything starts
        targets = _with_profile_targets(targets, profile)  # its other targets on the fakes
    harness = Harness(
        targets,
        seed=args.seed,
        allow_network=getattr(args, "allow_network", False),
        name_prefix=f"llm-chaos-cassette-{os.getpid()}",
    )
    with harness:
        if profile is not None:
            harness.apply(profile)
        env = _command_env(harness, record=record)
        result = run_command(command, env=env)
        found = harness.gateway.cassette(name) if harness.gateway is not None else None
        misses = list(found.misses) if found is not None else []
    if result.error:
        print(f"llm-chaos: {result.error}", file=sys.stderr)
    if record:
        count = len(Cassette(path).interactions) if path.exists() else 0
        print(f"llm-chaos: {path}: {count} recordings", file=sys.stderr)
        return result.returncode
    for miss in misses:
        print(
            f"llm-chaos: {path} has no recording of {miss}; record it with: llm-chaos cassette "
            f"record --cassette {path} --target {name}=URL -- COMMAND",
            file=sys.stderr,
        )
    return result.returncode or (1 if misses else 0)


def _command_env(harness: Any, *, record: bool) -> dict[str, str]:
    """The command's environment: the SDKs pointed at the harness. Recording, the API keys
    the caller has set pass through to the real provider (the cassette never stores
    request headers); otherwise they are replaced by dummies."""
    from chaos._redact import is_secret_name

    def kept(name: str) -> bool:
        return record and is_secret_name(name) and name in os.environ

    env = {k: v for k, v in os.environ.items() if k not in harness.env_unset or kept(k)}
    env.update({k: v for k, v in harness.env.items() if not kept(k)})
    return env


def _show(cassette: Cassette) -> int:
    from chaos.providers._cassette import CASSETTE_VERSION

    count = len(cassette.interactions)
    print(f"{cassette.path}: version {CASSETTE_VERSION}, {count} recordings")
    for number, item in enumerate(cassette.interactions, 1):
        request, response = item["request"], item.get("response") or {}
        body = request.get("body")
        model = body.get("model") if isinstance(body, dict) else None
        kind = "stream" if response.get("events") is not None else "plain"
        print(
            f"  {number}. {request.get('method')} {request.get('path')}"
            f"{f' model {model}' if model else ''}: {response.get('status')} {kind}"
        )
    return 0
