"""The agreement between the fault model's action kinds and what executes them.

:data:`~chaos.faults.ACTIONS` (the model) and the executors are separate
registries keyed by the same ``kind`` string: the gateway's appliers
(``chaos.gateway._actions.APPLIERS``) run the ``http`` layer's kinds, the fault
plane's network executor (``chaos.harness._executors``) the ``network`` layer's.
Each executor calls :func:`check_executors` when its registry is built, so a kind without an
executor, or an executor for a kind the model does not have (a typo'd string),
fails at import, not at the first request that meets it.
"""

from __future__ import annotations

from collections.abc import Iterable

from chaos.faults._base import ACTIONS, Layer

__all__ = ["check_executors", "kinds_of_layer"]


def kinds_of_layer(layer: Layer) -> set[str]:
    """The registered action kinds of one layer."""
    return {kind for kind, action in ACTIONS.items() if action.layer == layer}


def check_executors(layer: Layer, kinds: Iterable[str], executor: str) -> None:
    """Raise ``TypeError`` unless ``kinds`` are exactly the ``layer`` action kinds.

    :param layer: the layer the executor runs.
    :param kinds: the kinds it executes.
    :param executor: its name, for the message (a module path).
    """
    have = set(kinds)
    want = kinds_of_layer(layer)
    problems = []
    if missing := sorted(want - have):
        problems.append(f"no executor for the {layer} action kind(s) {', '.join(missing)}")
    if unknown := sorted(have - want):
        known = ", ".join(sorted(want)) or "none"
        problems.append(
            f"executors for {', '.join(unknown)}, not {layer} action kinds "
            f"of chaos.faults.ACTIONS (those are: {known})"
        )
    if problems:
        raise TypeError(f"{executor}: " + "; ".join(problems))
