"""The one exception tree of pytest-llm-chaos.

Every error the harness raises on purpose derives from :class:`ChaosError`, so a
caller can catch the whole family with one ``except``::

    ChaosError
     ├── ConfigError                 bad options, marker arguments or targets
     │    └── ProfileError           a profile that does not load or validate
     ├── HarnessStartError           a part of the harness could not start
     │    └── BackendUnavailable     a Toxiproxy backend cannot be had here
     ├── ToxiproxyError              the Toxiproxy API answered with an error
     │    ├── ProxyNotFound          404 proxy or toxic not found
     │    ├── ProxyConflict          409 proxy or toxic already exists
     │    └── InvalidRequest         400 bad request body, invalid toxic type, ...
     ├── NetworkNotAllowed           forwarding to a real provider was not opted into
     │    └── HarnessBypassed        a connection that would bypass the harness (an OSError)
     └── VerdictError                a fallback assertion failed (also an AssertionError)
          └── FaultNotTriggered      a declared fault never fired: the test is inconclusive
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "BackendUnavailable",
    "ChaosError",
    "ConfigError",
    "FaultNotTriggered",
    "HarnessBypassed",
    "HarnessStartError",
    "InvalidRequest",
    "NetworkNotAllowed",
    "ProfileError",
    "ProxyConflict",
    "ProxyNotFound",
    "ToxiproxyError",
    "VerdictError",
    "did_you_mean",
]


class ChaosError(Exception):
    """The root of every error pytest-llm-chaos raises on purpose."""


class ConfigError(ChaosError):
    """An option, ini value, marker argument or target definition is invalid."""


class ProfileError(ConfigError):
    """A fault profile failed to load or validate.

    :param errors: every problem found, each already formatted with its
        file, line, column and field path.
    """

    def __init__(self, errors: list[str] | str) -> None:
        self.errors: list[str] = [errors] if isinstance(errors, str) else list(errors)
        super().__init__("\n".join(self.errors))


class HarnessStartError(ChaosError):
    """A part of the harness (Toxiproxy, the gateway, a listener) failed to start."""


class BackendUnavailable(HarnessStartError):
    """The requested Toxiproxy backend cannot be used on this machine."""


class ToxiproxyError(ChaosError):
    """The Toxiproxy API answered with an error.

    :param status: the HTTP status code of the answer (0 when no answer came).
    :param message: the server's ``error`` text, or a description of the failure.
    """

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"toxiproxy answered {status}: {message}" if status else message)


class ProxyNotFound(ToxiproxyError):
    """404: the proxy or toxic does not exist."""


class ProxyConflict(ToxiproxyError):
    """409: a proxy or toxic of that name already exists."""


class InvalidRequest(ToxiproxyError):
    """400: the request body, toxic type or an attribute was rejected."""


class NetworkNotAllowed(ChaosError):
    """A target points at a real provider but network access was not allowed.

    Allow it with ``--chaos-allow-network`` (ini ``chaos_allow_network = true``,
    env ``LLM_CHAOS_ALLOW_NETWORK=1``).
    """


class HarnessBypassed(NetworkNotAllowed, ConnectionRefusedError):
    """During a chaos test, a connection to a provider's API host (or, sealed, to any
    non-loopback host) was refused before any DNS lookup or byte: the client that
    opened it bypassed the harness. A ``ConnectionRefusedError``, so network code
    handles it as it would a refused connection; the test fails all the same."""


class VerdictError(ChaosError, AssertionError):
    """A fallback assertion about the app's behaviour failed."""


class FaultNotTriggered(VerdictError):
    """A declared fault never fired, so the chaos test proved nothing."""


def did_you_mean(word: str, choices: Iterable[str], *, parens: bool = False) -> str:
    """The suggestion every "unknown X" message of the project ends with.

    ``"; did you mean 'x'?"`` (or ``" (did you mean 'x'?)"`` with ``parens``) for
    the choice closest to ``word``, or an empty string when none is close.
    """
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean {close[0]!r}?)" if parens else f"; did you mean {close[0]!r}?"


# Tracebacks name the public path (chaos.VerdictError), not this private module; every
# exception here is exported by chaos, so pickling (xdist) finds it there too.
for _name in __all__:
    _exported = globals()[_name]
    if isinstance(_exported, type):
        _exported.__module__ = "chaos"
