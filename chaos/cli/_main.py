"""``llm-chaos``'s parser and :func:`main` (see :mod:`chaos.cli`)."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, cast

from chaos import __version__
from chaos._errors import ChaosError, ConfigError, did_you_mean

__all__ = ["main"]

# verb module names under chaos.cli._commands, in the order --help lists them
_VERBS: tuple[str, ...] = ("demo", "profiles", "run", "serve", "toxiproxy_server", "cassette")

_EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 2 with one clear line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(_EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n(see {self.prog} --help)\n")


def _build_parser() -> argparse.ArgumentParser:
    """The ``llm-chaos`` parser with every verb registered."""
    parser = _Parser(
        prog="llm-chaos",
        description="Chaos-engineering harness for apps that depend on LLM APIs.",
    )
    parser.add_argument("--version", action="version", version=f"llm-chaos {__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    subparsers.required = True
    for verb in _VERBS:
        module = importlib.import_module(f"chaos.cli._commands.{verb}")
        module.register(subparsers)
    return parser


def _chosen_parser(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Any:
    """The (sub-)parser of the verb and sub-verb ``args`` selected."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and action.dest:
            sub = action.choices.get(getattr(args, action.dest, None) or "")
            if sub is not None:
                return _chosen_parser(sub, args)
    return parser


def _parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """``parse_args``, but an unknown option is reported by its verb's parser with the
    closest option it has (``llm-chaos run --profle`` -> did you mean '--profile'?)."""
    args, extras = parser.parse_known_args(argv)
    if extras:
        verb = _chosen_parser(parser, args)
        options = [s for a in verb._actions for s in a.option_strings if s.startswith("--")]
        unknown = next((e for e in extras if e.startswith("-")), "")
        hint = did_you_mean(unknown.partition("=")[0], options, parens=True) if unknown else ""
        verb.error(f"unrecognized arguments: {' '.join(extras)}{hint}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``llm-chaos`` with ``argv`` (default: the process arguments)."""
    parser = _build_parser()
    args = _parse(parser, argv)
    func = cast("Callable[[argparse.Namespace], int]", args.func)
    try:
        return func(args)
    except ConfigError as exc:
        print(f"llm-chaos: error: {exc}", file=sys.stderr)
        return _EXIT_BAD_INPUT
    except ChaosError as exc:
        print(f"llm-chaos: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`llm-chaos profiles list | head`): that is not an
        # error of ours. Point stdout at devnull so the interpreter's final flush
        # does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
