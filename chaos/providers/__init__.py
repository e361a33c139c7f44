"""Provider dialects (Anthropic, OpenAI, Gemini) and the fake providers they serve."""

from chaos.providers._base import DIALECTS, CallInfo, Dialect, Operation, Request, Response

__all__ = ["DIALECTS", "CallInfo", "Dialect", "Operation", "Request", "Response"]
