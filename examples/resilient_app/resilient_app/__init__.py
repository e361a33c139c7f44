"""An LLM app that survives provider outages.

Claude (official ``anthropic`` SDK) answers first; on failure it retries with
tenacity (honouring ``retry-after``), opens a circuit breaker after repeated
failures, fails over to an OpenAI-compatible provider (official ``openai`` SDK),
and as a last resort gives a degraded canned answer instead of an error.
"""

from resilient_app.app import DEGRADED_TEXT, Answer, Assistant, answer
from resilient_app.breaker import CircuitBreaker, CircuitOpen

__all__ = ["DEGRADED_TEXT", "Answer", "Assistant", "CircuitBreaker", "CircuitOpen", "answer"]
