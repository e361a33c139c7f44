"""pytest-llm-chaos: prove in CI that an LLM app survives the next provider outage.

The public API is what ``__all__`` lists; everything else lives in private
modules. Heavy parts (the gateway, Toxiproxy backends, fake providers) are
imported lazily so that ``import chaos`` and the pytest plugin stay cheap, and
so that ``python3 -m chaos.toxiproxy`` runs on a bare interpreter.
"""

from __future__ import annotations

import importlib
from typing import Any

from chaos._errors import (
    BackendUnavailable,
    ChaosError,
    ConfigError,
    FaultNotTriggered,
    HarnessBypassed,
    HarnessStartError,
    InvalidRequest,
    NetworkNotAllowed,
    ProfileError,
    ProxyConflict,
    ProxyNotFound,
    ToxiproxyError,
    VerdictError,
)

__version__ = "0.1.0"

# name -> module that defines it; resolved on first attribute access.
_LAZY: dict[str, str] = {
    "Harness": "chaos._harness",
    "Target": "chaos._harness",
    "Verdict": "chaos.verdict",
}

__all__ = [
    "BackendUnavailable",
    "ChaosError",
    "ConfigError",
    "FaultNotTriggered",
    "Harness",
    "HarnessBypassed",
    "HarnessStartError",
    "InvalidRequest",
    "NetworkNotAllowed",
    "ProfileError",
    "ProxyConflict",
    "ProxyNotFound",
    "Target",
    "ToxiproxyError",
    "Verdict",
    "VerdictError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chaos' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
