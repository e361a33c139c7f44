"""``llm-chaos profiles list | show NAME|PATH | validate NAME|PATH... | schema``: authoring."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

import yaml

from chaos._errors import ProfileError
from chaos.harness import _settings as opts

EXIT_OK = 0
EXIT_BAD_INPUT = 2


def register(subparsers: Any) -> None:
    """Add the ``profiles`` verb and its sub-verbs."""
    parser = subparsers.add_parser(
        "profiles",
        help="list, show, validate fault profiles; print their JSON Schema",
        description="Author fault profiles: list the known ones, show one resolved with its "
        "timeline, validate files (every error, with file:line:column), print the JSON Schema.",
    )
    verbs = parser.add_subparsers(dest="profiles_verb", metavar="SUBVERB")
    verbs.required = True

    def with_dirs(sub: argparse.ArgumentParser) -> None:
        opts.add_arguments(
            sub,
            opts.Flag(
                opts.PROFILES_DIRS,
                help="a folder of profiles, searched before $LLM_CHAOS_PROFILES_DIRS and the "
                "built-ins (repeatable)",
                aliases=("--dir",),
            ),
        )

    def with_params(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--param",
            dest="params",
            action="append",
            default=[],
            metavar="NAME=VALUE",
            help="a value for one of the profile's parameters (repeatable), e.g. rate=0.5",
        )

    listing = verbs.add_parser("list", help="every profile reachable by name")
    with_dirs(listing)
    listing.set_defaults(func=run_list)

    show = verbs.add_parser("show", help="one profile, resolved, with its timeline drawn")
    show.add_argument("profile", metavar="NAME|PATH")
    opts.add_arguments(show, opts.Flag(opts.SEED, help="the seed to show (default: random)"))
    with_dirs(show)
    with_params(show)
    show.set_defaults(func=run_show)

    validate = verbs.add_parser(
        "validate",
        help="check profiles (files or names); exit 2 listing every error, 0 if all are valid",
    )
    validate.add_argument("paths", nargs="+", metavar="NAME|PATH")
    with_dirs(validate)
    with_params(validate)
    validate.set_defaults(func=run_validate)

    schema = verbs.add_parser("schema", help="print the profiles' JSON Schema (draft 2020-12)")
    schema.set_defaults(func=run_schema)


def run_list(args: argparse.Namespace) -> int:
    """Print every profile reachable by name: name, title, source, where it was found."""
    from chaos.profiles import find_profiles

    infos = find_profiles(_dirs(args))
    if not infos:
        print("no profiles found")
        return EXIT_OK
    width = max(len(info.name) for info in infos)
    for info in infos:
        print(f"{info.name:<{width}}  {info.title}")
        print(f"{'':<{width}}    source: {info.source or '-'}")
        print(f"{'':<{width}}    {info.origin}: {info.path}")
    return EXIT_OK


def run_show(args: argparse.Namespace) -> int:
    """Print one profile resolved (extends, includes, parameters, ramps) and its timeline."""
    from chaos.profiles import Timeline, load_profile

    profile = load_profile(args.profile, dirs=_dirs(args), params=_params(args.params))
    print(Timeline(profile, seed=opts.settings_from_args(args).seed).describe())
    return EXIT_OK


def run_validate(args: argparse.Namespace) -> int:
    """Validate every profile (a file, or a name as ``show`` takes); print every error of
    every one; exit 2 if there is one."""
    from chaos.profiles import load_profile

    params = _params(args.params)
    failed = 0
    summaries = []
    for path in args.paths:
        try:
            # a bare word is a file of that name if there is one, else a profile name
            bare = not path.endswith((".yaml", ".yml")) and "/" not in path
            profile = load_profile(
                f"./{path}" if bare and os.path.isfile(path) else path,
                dirs=_dirs(args),
                params=params,
            )
        except ProfileError as exc:
            failed += 1
            for error in exc.errors:
                print(error, file=sys.stderr)
            continue
        phases, faults = len(profile.phases), len(profile.faults())
        summaries.append(
            f"{path}: ok ({profile.name}: {_count(phases, 'phase')}, {_count(faults, 'fault')}, "
            f"{profile.clock} clock)"
        )
    for line in summaries:
        print(line)
    total = len(args.paths)
    if failed:
        print(f"{failed} of {total} profiles invalid", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"{_count(total, 'profile')} valid")
    return EXIT_OK


def run_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of profile files."""
    from chaos.profiles import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK


def _dirs(args: argparse.Namespace) -> list[str]:
    # the loader reads $LLM_CHAOS_PROFILES_DIRS itself, after these
    return list(args.profiles_dirs or ())


def _params(pairs: list[str]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise ProfileError(f"--param {pair!r}: expected NAME=VALUE, e.g. rate=0.5")
        try:
            params[name] = yaml.safe_load(value) if value else ""
        except yaml.YAMLError:
            params[name] = value
    return params


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"
