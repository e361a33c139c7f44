"""Flags and main loop of the embedded server (``python3 -m chaos.toxiproxy`` and
``llm-chaos toxiproxy-server``), a drop-in for Shopify's ``toxiproxy-server``.

Flags are Toxiproxy's (``-host``, ``-port``, ``-config``, ``-seed``, ``-version``;
Go's flag package also takes ``--host`` and ``-host=X``, so these do too). Logs
are JSON lines on stdout, level from ``LOG_LEVEL`` like Toxiproxy. SIGINT and
SIGTERM stop the server cleanly. A bad flag or an API port that cannot be bound
is one line on stderr and exit status 2. Standard library only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import time
from collections.abc import Sequence

from chaos.toxiproxy._server import ToxiproxyServer
from chaos.toxiproxy._server_api import TOXIPROXY_VERSION

__all__ = ["add_arguments", "main", "run"]

EXIT_BAD_INPUT = 2

_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
    "panic": logging.CRITICAL,
}

DESCRIPTION = (
    "Embedded Toxiproxy-compatible server (the REST API and toxics of Toxiproxy "
    f"{TOXIPROXY_VERSION}), standard library only. Unlike toxiproxy-server, it listens "
    "on 127.0.0.1 by default and -seed really makes toxicity draws and jitter repeatable."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add Toxiproxy's server flags to ``parser``."""
    parser.add_argument(
        "-host",
        "--host",
        default="127.0.0.1",
        metavar="HOST",
        help="address the API listens on (default 127.0.0.1; use 0.0.0.0 in a container)",
    )
    parser.add_argument(
        "-port", "--port", type=_port, default=8474, metavar="PORT", help="API port (default 8474)"
    )
    parser.add_argument(
        "-config",
        "--config",
        default="",
        metavar="FILE",
        help="JSON file of proxies to create at start, same format as POST /populate",
    )
    parser.add_argument(
        "-seed",
        "--seed",
        type=int,
        default=None,
        metavar="N",
        help="seed for toxicity draws, jitter, slicer sizes and packet loss (default: time)",
    )
    parser.add_argument(
        "-proxy-metrics",
        "--proxy-metrics",
        action="store_true",
        help="accepted for compatibility; /metrics is not served",
    )
    parser.add_argument(
        "-runtime-metrics",
        "--runtime-metrics",
        action="store_true",
        help="accepted for compatibility; /metrics is not served",
    )
    parser.add_argument(
        "-version",
        "--version",
        action="store_true",
        help="print the compatible Toxiproxy version and exit",
    )


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid port {text!r}: not a number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"invalid port {port}: must be 0-65535")
    return port


class _JsonLines(logging.Formatter):
    """zerolog-like JSON lines: level, fields, time, message."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {"level": record.levelname.lower().replace("warning", "warn")}
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update(fields)
        line["time"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(record.created))
        line["message"] = record.getMessage()
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line)


def _configure_logging() -> None:
    logger = logging.getLogger("chaos.toxiproxy.server")
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_JsonLines())
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(_LEVELS.get(os.environ.get("LOG_LEVEL", "info").lower(), logging.INFO))


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status."""
    if args.version:
        print(f"toxiproxy-server version {TOXIPROXY_VERSION}")
        return 0
    _configure_logging()
    return asyncio.run(_serve(args))


async def _serve(args: argparse.Namespace) -> int:
    log = logging.getLogger("chaos.toxiproxy.server")
    server = ToxiproxyServer(args.host, args.port, args.seed)
    try:
        await server.start()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        print(
            f"toxiproxy-server: error: cannot listen on {args.host}:{args.port}: {reason}",
            file=sys.stderr,
        )
        return EXIT_BAD_INPUT
    if args.proxy_metrics or args.runtime_metrics:
        log.warning("metrics are not supported by the embedded server: /metrics answers 404")
    if args.config:
        await server.populate_file(args.config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        log.info("Shutting down Toxiproxy")
        await server.stop()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python3 -m chaos.toxiproxy [flags]``."""
    parser = argparse.ArgumentParser(
        prog="python3 -m chaos.toxiproxy",
        description=DESCRIPTION,
        allow_abbrev=False,
        add_help=False,
    )
    parser.add_argument("-h", "-help", "--help", action="help", help="show this help and exit")
    add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        return run(args)
    except KeyboardInterrupt:
        return 130
