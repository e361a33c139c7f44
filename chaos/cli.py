"""The ``llm-chaos`` command: thin verbs over the harness.

Each verb lives in its own module under ``chaos/_commands/`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` to a
function taking the parsed arguments and returning the exit code. Verbs are
imported only when listed, so ``llm-chaos --help`` stays fast.

Exit codes: 0 success, 1 a check failed, 2 bad input (a message names what and
where; never a traceback), 130 interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import cast

from chaos import __version__
from chaos._errors import ChaosError, ConfigError

__all__ = ["main"]

# verb module names under chaos._commands, in the order --help lists them
_VERBS: tuple[str, ...] = ("demo", "profiles", "run", "serve", "toxiproxy_server")

EXIT_BAD_INPUT = 2


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors exit 2 with one clear line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n(see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``llm-chaos`` parser with every verb registered."""
    parser = _Parser(
        prog="llm-chaos",
        description="Chaos-engineering harness for apps that depend on LLM APIs.",
    )
    parser.add_argument("--version", action="version", version=f"llm-chaos {__version__}")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    subparsers.required = True
    for verb in _VERBS:
        module = importlib.import_module(f"chaos._commands.{verb}")
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``llm-chaos`` with ``argv`` (default: the process arguments)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    func = cast("Callable[[argparse.Namespace], int]", args.func)
    try:
        return func(args)
    except ConfigError as exc:
        print(f"llm-chaos: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
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
