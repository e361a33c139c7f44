"""Provider dialects (Anthropic, OpenAI, Gemini) and the fake providers they serve."""

from chaos.providers._base import DIALECTS, CallInfo, Dialect, Operation, Request, Response
from chaos.providers.openai import OpenAIDialect  # importing a dialect registers it

__all__ = ["DIALECTS", "CallInfo", "Dialect", "OpenAIDialect", "Operation", "Request", "Response"]
