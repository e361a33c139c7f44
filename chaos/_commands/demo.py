"""``llm-chaos demo``: the README's main job."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``demo`` verb."""
    parser = subparsers.add_parser(
        "demo",
        help="replay the 2 March 2026 Claude outage against a resilient and a naive example app",
        description="Replay the 2 March 2026 Claude outage against two example apps.",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Placeholder until the demo lands (issue 7): says what is installed."""
    from chaos import __version__

    print(f"llm-chaos {__version__}: the outage demo is not built yet; see README.md status.")
    return 0
