"""``auto``: the first backend that can be had here, and why it was chosen.

Order: an external URL (``--toxiproxy-url`` / ``TOXIPROXY_URL``), a
``toxiproxy-server`` on PATH, Docker (only when a daemon answers *and* the
image is present locally: auto never pulls), then the embedded server, which
is always available. A backend that was chosen but fails to start is an
error, not a reason to fall through: a broken setup should be seen.
"""

from __future__ import annotations

from chaos.toxiproxy._backends._base import BACKENDS, Backend, BackendOptions, RunningBackend

__all__ = ["ORDER", "AutoBackend", "choose"]

ORDER = ("external", "binary", "docker", "embedded")
"""The backends ``auto`` tries, in order."""


def choose(options: BackendOptions) -> tuple[str, str]:
    """The backend ``auto`` would use, and the reason line for the run header.

    :returns: ``(name, reason)``, e.g. ``("embedded", "auto: no --toxiproxy-url and no
        TOXIPROXY_URL, no toxiproxy-server on PATH, Docker daemon not answering at
        unix:///var/run/docker.sock → embedded")``.
    """
    reasons: list[str] = []
    for name in ORDER:
        backend = BACKENDS[name]()
        why_not = backend.unavailable(options)
        if why_not is None:
            if because := backend.available_because(options):
                reasons.append(because)
            return name, f"auto: {', '.join(reasons)} → {name}"
        reasons.append(why_not)
    raise AssertionError("the embedded backend is always available")


class AutoBackend(Backend):
    """Chooses with :func:`choose`, then starts the chosen backend."""

    name = "auto"

    def unavailable(self, options: BackendOptions) -> str | None:
        return None

    def start(self, options: BackendOptions, reason: str) -> RunningBackend:
        name, why = choose(options)
        return BACKENDS[name]().start(options, why)
