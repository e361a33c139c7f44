"""Provider dialects (Anthropic, OpenAI, Gemini) and the fake providers they serve."""

from chaos.providers._base import DIALECTS, CallInfo, Dialect, Operation, Request, Response
from chaos.providers.anthropic import AnthropicDialect
from chaos.providers.gemini import GeminiDialect  # importing a dialect registers it
from chaos.providers.openai import OpenAIDialect

__all__ = [
    "DIALECTS",
    "AnthropicDialect",
    "CallInfo",
    "Dialect",
    "GeminiDialect",
    "OpenAIDialect",
    "Operation",
    "Request",
    "Response",
]
