"""Keeping the app's traffic in the harness: routing, the guard, the stray-request sink.

Nothing the app sends may bypass the harness during a chaos test:

- routing (``_env``) points every client library at the harness through the
  variables it reads (for the test, and while test modules are imported, so a
  client built at import is routed too);
- the guard (``_guard``) refuses, in the test's process, any other connection to a
  provider's API host (and records it);
- the sink (``_sink``) does the same for an app in another process
  (``llm-chaos run`` and ``serve``): the proxy variables point at it.

Standard library only; below the harness, which hands its endpoints to routing.
"""

from chaos.routing._env import EarlyRouting, Routing, routing_for, uses_chaos
from chaos.routing._guard import PROVIDER_HOSTS, Guard, Refusal, track_clients, untrack_clients
from chaos.routing._sink import PROXY_VARIABLES, Sink, Stray

__all__ = [
    "PROVIDER_HOSTS",
    "PROXY_VARIABLES",
    "EarlyRouting",
    "Guard",
    "Refusal",
    "Routing",
    "Sink",
    "Stray",
    "routing_for",
    "track_clients",
    "untrack_clients",
    "uses_chaos",
]
