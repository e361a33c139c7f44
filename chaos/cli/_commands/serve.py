"""``llm-chaos serve``: the whole harness as one process, for apps in any language.

Prints one JSON line on stdout when ready::

    {"admin": "http://127.0.0.1:PORT", "targets": {"anthropic": "http://127.0.0.1:PORT"},
     "env": {"ANTHROPIC_BASE_URL": "...", ...}, "unset": ["ANTHROPIC_AUTH_TOKEN", ...]}

Set every ``env`` variable and remove every ``unset`` one in the app's environment:
the official SDKs (Python, Node), the Vercel AI SDK and the frameworks then talk to
the harness (docs/routing.md lists who reads what). ``env`` also points the proxy
variables (``HTTP_PROXY``...; ``NO_PROXY``: loopback) at a local sink that refuses,
and reports on stderr, any request to a provider's API host that bypasses the harness.

then runs until SIGINT or SIGTERM and cleans up (proxies, Toxiproxy, listeners).
Drive faults at run time through the admin API (``PUT /rules``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import sys
import threading
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``serve`` verb."""
    from chaos.harness import _settings as opts

    parser = subparsers.add_parser(
        "serve",
        help="run Toxiproxy + the fault gateway + fake providers until interrupted",
        description=(
            "Run the harness as a service: one endpoint per target (Toxiproxy in front of the "
            "fault gateway and the fake provider). Prints one JSON line when ready "
            '({"admin": URL, "targets": {name: URL}, "env": {VAR: value}}), then runs until '
            "SIGINT/SIGTERM. Faults come from --profile and from the admin API."
        ),
    )
    opts.add_arguments(
        parser,
        opts.Flag(opts.PROFILE, help="a fault profile to replay"),
        opts.Flag(
            opts.TARGETS,
            help="a target: NAME=DIALECT (fake provider), NAME=URL (forward, dialect NAME) or "
            "NAME=DIALECT URL; repeatable. Default: the profile's targets, else "
            "anthropic and openai",
        ),
        opts.SEED,
        opts.BACKEND,
        opts.TOXIPROXY_URL,
        opts.Flag(
            opts.ALLOW_NETWORK,
            help="allow forwarding to non-loopback upstreams, and the app's requests to "
            "providers' API hosts through the sink",
        ),
        opts.Flag(
            opts.SEAL,
            help="the sink refuses every non-loopback request of the app, not only those "
            "to providers' API hosts",
        ),
    )
    parser.add_argument(
        "--admin-port",
        type=int,
        default=0,
        metavar="P",
        help="admin API port (default: a free one)",
    )
    parser.add_argument(
        "--name-prefix",
        default="llm-chaos",
        help="Toxiproxy proxy names are PREFIX-TARGET (default: llm-chaos)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the harness, print the ready line, wait for a signal, stop."""
    from chaos.harness import _settings as opts
    from chaos.harness._harness import Harness
    from chaos.routing._sink import Sink, Stray

    settings = opts.settings_from_args(
        args, name_prefix=args.name_prefix, admin_port=args.admin_port
    )
    profile = None
    if settings.profile:
        from chaos.profiles import load_profile

        profile = load_profile(settings.profile)
        if not settings.targets:
            settings = dataclasses.replace(settings, targets=tuple(profile.targets.values()))
        if settings.seed is None:  # a profile's seed replays it the same way every time
            settings = dataclasses.replace(settings, seed=profile.seed)

    stop = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stop.set()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, on_signal)

    def stray(request: Stray) -> None:
        print(f"llm-chaos serve: sink: {request.line()}", file=sys.stderr, flush=True)

    harness = Harness(settings)
    sink = Sink(allow_providers=settings.allow_network, sealed=settings.seal, on_stray=stray)
    with sink, harness:
        if profile is not None:
            harness.apply(profile)
        ready = {
            "admin": harness.admin_url,
            "targets": harness.endpoints,
            "env": {**harness.env, **sink.env(os.environ)},
            "unset": list(harness.env_unset),
        }
        print(json.dumps(ready), flush=True)
        print(
            f"llm-chaos serve: seed {harness.seed}; toxiproxy {harness.backend.reason}; "
            f"profile {profile.name if profile else '(none)'}; stop with Ctrl-C or SIGTERM",
            file=sys.stderr,
            flush=True,
        )
        while not stop.wait(1.0):
            pass
    if sink.refused:
        print(
            f"llm-chaos serve: the sink refused {len(sink.refused)} request(s) that bypassed "
            "the harness (see docs/routing.md)",
            file=sys.stderr,
            flush=True,
        )
    return 0
