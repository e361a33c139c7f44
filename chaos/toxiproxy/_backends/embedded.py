"""``embedded``: the pure-Python Toxiproxy-compatible server, in a thread of this process."""

from __future__ import annotations

from chaos._errors import BackendUnavailable
from chaos.toxiproxy._backends._base import (
    Backend,
    BackendInfo,
    BackendOptions,
    RunningBackend,
    wait_ready,
)

__all__ = ["EmbeddedBackend"]

READY_TIMEOUT = 10.0


class EmbeddedBackend(Backend):
    """The embedded server on ``127.0.0.1`` and a free port; always available."""

    name = "embedded"

    def unavailable(self, options: BackendOptions) -> str | None:
        return None

    def start(self, options: BackendOptions, reason: str) -> RunningBackend:
        from chaos.common import _vtime
        from chaos.toxiproxy import serve_in_thread
        from chaos.toxiproxy._toxics import use_clock

        # in this process: on the test's clock, so a latency can count on virtual time
        use_clock(_vtime.ServerClock())
        try:
            handle = serve_in_thread(host="127.0.0.1", port=0, seed=options.seed)
        except OSError as exc:
            raise BackendUnavailable(f"the embedded Toxiproxy server did not start: {exc}") from exc
        running = RunningBackend(BackendInfo(self.name, reason, handle.url), handle.stop)
        running.events = handle.server.api.events
        try:
            wait_ready(running.client, READY_TIMEOUT)
        except BaseException:
            running.stop()
            raise
        return running
