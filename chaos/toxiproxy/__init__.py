"""Toxiproxy for the harness: where to get one (backends), the client, the embedded server.

Everything here is imported lazily (module ``__getattr__``): the embedded server
must import on a bare ``python3`` (in a container too) without
``toxiproxy-python``, ``tenacity`` or ``docker`` installed.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> private module that defines it; resolved on first attribute access
_LAZY: dict[str, str] = {
    # the typed client
    "ProxyInfo": "chaos.toxiproxy._client",
    "ProxySpec": "chaos.toxiproxy._client",
    "ToxicInfo": "chaos.toxiproxy._client",
    "ToxiproxyClient": "chaos.toxiproxy._client",
    # backends: how a Toxiproxy is obtained
    "BACKENDS": "chaos.toxiproxy._backends",
    "BackendInfo": "chaos.toxiproxy._backends",
    "RunningBackend": "chaos.toxiproxy._backends",
    "start_backend": "chaos.toxiproxy._backends",
    # the embedded Toxiproxy-compatible server (standard library only)
    "ServerThread": "chaos.toxiproxy._server",
    "ToxiproxyServer": "chaos.toxiproxy._server",
    "serve_in_thread": "chaos.toxiproxy._server",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'chaos.toxiproxy' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
