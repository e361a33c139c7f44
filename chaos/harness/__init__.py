"""The harness: composing Toxiproxy, the gateway and the fault plane for a set of targets.

- :class:`Harness` (``_harness``): start, stop, reap; endpoints and env; a context
  manager from plain Python; its fault methods hand over to the plane;
- :class:`FaultPlane` (``_plane``): the one owner of the faults in force and the
  profile's timeline, over one executor per layer (``_executors``: the gateway's
  rules, Toxiproxy's toxics);
- the admin API over the plane (``_admin``), served on the gateway's admin listener;
- :class:`Settings` (``_settings``): the one settings model the plugin and the CLI
  share, with its precedence rule;
- :class:`HarnessLike` (``_contract``): what the plugin and the fixture use of a
  harness (this process's, or ``llm-chaos run``'s shared over its admin API).

No pytest here. Imported lazily (module ``__getattr__``): the plugin and the CLI
read the settings model at start-up without loading the gateway.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> private module that defines it; resolved on first attribute access
_LAZY: dict[str, str] = {
    "AdminAPI": "chaos.harness._admin",
    "FaultPlane": "chaos.harness._plane",
    "Harness": "chaos.harness._harness",
    "HarnessLike": "chaos.harness._contract",
    "Settings": "chaos.harness._settings",
}

__all__ = ["AdminAPI", "FaultPlane", "Harness", "HarnessLike", "Settings"]

if TYPE_CHECKING:  # what the lazy names are, for type checkers and IDEs
    from chaos.harness._admin import AdminAPI
    from chaos.harness._contract import HarnessLike
    from chaos.harness._harness import Harness
    from chaos.harness._plane import FaultPlane
    from chaos.harness._settings import Settings


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chaos.harness' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
