"""pytest-llm-chaos: prove in CI that an LLM app survives the next provider outage.

The public API is what ``__all__`` lists; everything else lives in private
modules. Heavy parts (the gateway, Toxiproxy backends, fake providers) are
imported lazily so that ``import chaos`` and the pytest plugin stay cheap, and
so that ``python3 -m chaos.toxiproxy`` runs on a bare interpreter.
"""

import importlib as _importlib
import typing as _typing

from chaos._errors import (
    BackendUnavailable,
    ChaosError,
    ConfigError,
    FaultNotTriggered,
    GateProfileConflict,
    HarnessBypassed,
    HarnessStartError,
    InvalidRequest,
    NetworkNotAllowed,
    ProfileError,
    ProxyConflict,
    ProxyNotFound,
    ToxiproxyError,
    UnknownPhase,
    VerdictError,
)

__version__ = "0.1.0"

# name -> module that defines it; resolved on first attribute access.
_LAZY: dict[str, str] = {
    "Attempt": "chaos.verdict",
    "Call": "chaos.verdict",
    "ChaosFixture": "chaos.plugin._fixture",
    "ChaosWarning": "chaos.plugin",
    "Fault": "chaos.faults",
    "Finding": "chaos.verdict",
    "Harness": "chaos.harness._harness",
    "JournalRecord": "chaos.common._journal",
    "Phase": "chaos.profiles",
    "Profile": "chaos.profiles",
    "Settings": "chaos.harness._settings",
    "Target": "chaos.common._target",
    "TargetSummary": "chaos.verdict",
    "Verdict": "chaos.verdict",
}

__all__ = [
    "Attempt",
    "BackendUnavailable",
    "Call",
    "ChaosError",
    "ChaosFixture",
    "ChaosWarning",
    "ConfigError",
    "Fault",
    "FaultNotTriggered",
    "Finding",
    "GateProfileConflict",
    "Harness",
    "HarnessBypassed",
    "HarnessStartError",
    "InvalidRequest",
    "JournalRecord",
    "NetworkNotAllowed",
    "Phase",
    "Profile",
    "ProfileError",
    "ProxyConflict",
    "ProxyNotFound",
    "Settings",
    "Target",
    "TargetSummary",
    "ToxiproxyError",
    "UnknownPhase",
    "Verdict",
    "VerdictError",
    "__version__",
]

if _typing.TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from chaos.common._journal import JournalRecord
    from chaos.common._target import Target
    from chaos.faults import Fault
    from chaos.harness._harness import Harness
    from chaos.plugin import ChaosWarning
    from chaos.plugin._fixture import ChaosFixture
    from chaos.profiles import Phase, Profile
    from chaos.verdict import Attempt, Call, Finding, TargetSummary, Verdict


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chaos' has no attribute {name!r}")
    return getattr(_importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
