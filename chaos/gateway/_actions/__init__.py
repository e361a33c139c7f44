"""How each fault action kind is applied to a request: one module per kind, registered by kind.

An applier's :meth:`Applier.start` either answers at once (returning None: the
fast path, no task is created) or returns a coroutine the connection runs.
An applier names the action class it applies (``Applier[ErrorAction]``) and is
registered under that class's ``kind``, the key of :data:`chaos.faults.ACTIONS`.
"""

from __future__ import annotations

from chaos.faults._executors import check_executors
from chaos.gateway._actions._base import APPLIERS, Applier
from chaos.gateway._actions.content import (
    EmptyAnswerApplier,
    MalformedToolArgsApplier,
    RefusalApplier,
    TruncateAnswerApplier,
)
from chaos.gateway._actions.delay import DelayApplier
from chaos.gateway._actions.edge import EdgeApplier
from chaos.gateway._actions.error import ErrorApplier
from chaos.gateway._actions.respond import RespondApplier
from chaos.gateway._actions.sse import SseApplier
from chaos.gateway._actions.wire import WireApplier

__all__ = [
    "APPLIERS",
    "Applier",
    "DelayApplier",
    "EdgeApplier",
    "EmptyAnswerApplier",
    "ErrorApplier",
    "MalformedToolArgsApplier",
    "RefusalApplier",
    "RespondApplier",
    "SseApplier",
    "TruncateAnswerApplier",
    "WireApplier",
]

# every http action kind has its applier and every applier an action kind (the
# registries meet only by the kind string); network kinds are chaos.harness._executors'
check_executors("http", APPLIERS, __name__)
