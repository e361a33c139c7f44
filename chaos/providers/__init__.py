"""Provider dialects (Anthropic, OpenAI, Gemini) and the fake providers built on them.

Each provider is a package: ``_dialect.py`` (the wire contract: operations, error
catalogue, streams, the renderers that make every byte) and ``_fake.py`` (the fake
server: validation, answers, batches), which imports the dialect and never the
reverse. Importing a provider's package registers both (:data:`DIALECTS`, :data:`FAKES`).
"""

from chaos.providers._base import (
    DIALECTS,
    FAKES,
    CallInfo,
    Dialect,
    Fake,
    Operation,
    Request,
    Response,
)
from chaos.providers.anthropic import AnthropicDialect
from chaos.providers.gemini import GeminiDialect  # importing a provider registers it
from chaos.providers.openai import OpenAIDialect

__all__ = [
    "DIALECTS",
    "FAKES",
    "AnthropicDialect",
    "CallInfo",
    "Dialect",
    "Fake",
    "GeminiDialect",
    "OpenAIDialect",
    "Operation",
    "Request",
    "Response",
]
