"""The HTTP/SSE fault gateway: per-request faults down to the bytes on the wire.

One listener per target; each request is identified by the target's dialect,
matched against the active rules (the first applicable wins), answered by the
fake provider or a forwarded upstream, or broken as the rule says; every
request lands in the journal. ``Gateway`` is usable from sync code
(``start_in_thread``) and inside an event loop (``await start()``).
"""

from chaos.gateway._gateway import Gateway, TargetConfig
from chaos.gateway._rules import RuleSource, StaticRules

__all__ = ["Gateway", "RuleSource", "StaticRules", "TargetConfig"]
