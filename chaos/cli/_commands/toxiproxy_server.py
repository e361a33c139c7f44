"""``llm-chaos toxiproxy-server``: the embedded Toxiproxy-compatible server."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``toxiproxy-server`` verb (Toxiproxy's flags: ``-host``, ``-port``, ...)."""
    from chaos.toxiproxy._server_cli import DESCRIPTION, add_arguments

    parser = subparsers.add_parser(
        "toxiproxy-server",
        help="run the embedded Toxiproxy-compatible server (drop-in for toxiproxy-server)",
        description=DESCRIPTION,
        allow_abbrev=False,
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT/SIGTERM."""
    from chaos.toxiproxy._server_cli import run as serve

    return serve(args)
