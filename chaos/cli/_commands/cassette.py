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
import dataclasses
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaos._errors import ConfigError
from chaos.common._target import Target
from chaos.harness import _settings as opts

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
        flags: list[opts.Setting[Any] | opts.Flag] = [
            opts.Flag(
                opts.TARGETS,
                help="the target whose answers the cassette holds, in the one target grammar: "
                + (
                    "NAME=URL (dialect NAME) or NAME=DIALECT URL, its real upstream"
                    if name == "record"
                    else "NAME or NAME=DIALECT"
                ),
            ),
            opts.SEED,
        ]
        if name == "record":
            flags.append(
                opts.Flag(
                    opts.ALLOW_NETWORK,
                    help="allow an upstream that is not on this machine (a real provider)",
                )
            )
        else:
            flags.append(
                opts.Flag(
                    opts.PROFILE,
                    help="a fault profile to replay over the recorded answers",
                    aliases=("-p",),
                )
            )
        opts.add_arguments(action, *flags)
        action.add_argument(
            "command", nargs=argparse.REMAINDER, metavar="-- COMMAND...", help="the command"
        )
        action.set_defaults(func=run, parser=action)
    show = actions.add_parser("show", help="list a cassette's recordings")
    show.add_argument("cassette", metavar="CASSETTE", help="the cassette file (YAML)")
    show.set_defaults(func=run, parser=show)


def _target(targets: tuple[Target, ...], *, record: bool) -> Target:
    """The one target of ``--target`` (parsed by the one target grammar), checked for the
    action: recording needs the real upstream's URL, replaying needs none."""
    example = "anthropic=https://api.anthropic.com" if record else "anthropic"
    if len(targets) != 1:
        raise ConfigError(f"--target: give exactly one target (e.g. --target {example})")
    target = targets[0]
    if record and target.upstream == "fake":
        raise ConfigError(
            f"--target {target}: recording needs the real upstream's URL (e.g. --target {example})"
        )
    if not record and target.upstream != "fake":
        raise ConfigError(
            f"--target {target}: a replay answers from the cassette; give no URL "
            f"(e.g. --target {example})"
        )
    return target


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
    settings = opts.settings_from_args(args, name_prefix=f"llm-chaos-cassette-{os.getpid()}")
    given = _target(settings.targets, record=record)
    name = given.name
    if not record and not path.exists():
        raise ConfigError(
            f"cassette {path} does not exist; record it first: llm-chaos cassette record "
            f"--cassette {path} --target {name}=URL -- COMMAND"
        )
    from chaos.cli.gate.command import run_command
    from chaos.cli.gate.runner import with_profile_targets
    from chaos.harness._harness import Harness

    targets: tuple[Target, ...] = (dataclasses.replace(given, cassette=path, record=record),)
    profile = None
    if settings.profile:
        from chaos.profiles import load_profile

        profile = load_profile(settings.profile)  # checked before anything starts
        targets = with_profile_targets(targets, profile)  # its other targets on the fakes
    harness = Harness(dataclasses.replace(settings, targets=targets))
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
    from chaos.common._redact import is_secret_name

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
