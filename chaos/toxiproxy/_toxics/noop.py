"""``noop``: passes data through unchanged (a placeholder; no attributes)."""

from __future__ import annotations

from chaos.toxiproxy._toxics import Toxic


class NoopToxic(Toxic):
    """Passes every chunk through."""

    type_name = "noop"
    go_struct = "NoopToxic"
