"""``external``: a Toxiproxy someone else runs (a CI service container, a shared server)."""

from __future__ import annotations

import os

from chaos._errors import BackendUnavailable, ConfigError
from chaos.toxiproxy._backends._base import (
    Backend,
    BackendInfo,
    BackendOptions,
    RunningBackend,
    wait_ready,
)
from chaos.toxiproxy._client import ToxiproxyClient

__all__ = ["ENV_URL", "ExternalBackend", "external_url"]

ENV_URL = "TOXIPROXY_URL"
"""The environment variable naming an external Toxiproxy (the same one ``toxiproxy-cli`` reads)."""

READY_TIMEOUT = 5.0


def external_url(options: BackendOptions) -> tuple[str, str] | None:
    """The external URL to use and where it came from, or ``None`` when none is set."""
    if options.url:
        return options.url, "--toxiproxy-url"
    env = os.environ.get(ENV_URL, "").strip()
    return (env, ENV_URL) if env else None


class ExternalBackend(Backend):
    """A Toxiproxy at ``url`` or ``$TOXIPROXY_URL``; never started or stopped by us."""

    name = "external"

    def unavailable(self, options: BackendOptions) -> str | None:
        return None if external_url(options) else f"no --toxiproxy-url and no {ENV_URL}"

    def available_because(self, options: BackendOptions) -> str:
        found = external_url(options)
        return f"{found[1]}={found[0]}" if found else ""

    def start(self, options: BackendOptions, reason: str) -> RunningBackend:
        found = external_url(options)
        if found is None:
            raise BackendUnavailable(
                f"the external backend needs a URL: pass --toxiproxy-url http://HOST:PORT "
                f"or set {ENV_URL}"
            )
        url, source = found
        try:
            client = ToxiproxyClient(url)
        except ConfigError as exc:
            raise BackendUnavailable(f"{exc} (from {source})") from None
        try:
            wait_ready(client, READY_TIMEOUT)
        except BackendUnavailable as exc:
            raise BackendUnavailable(
                f"{exc} (URL from {source}): start that Toxiproxy, fix the URL, "
                "or use --chaos-backend embedded"
            ) from None
        # Not ours: stopping only forgets it.
        return RunningBackend(BackendInfo(self.name, reason, client.url), lambda: None)
