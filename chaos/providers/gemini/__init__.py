"""Gemini: the Generative Language API's dialect (:mod:`._dialect`) and its fake (:mod:`._fake`).

Importing this package registers both (see :data:`chaos.providers.DIALECTS` and
:data:`chaos.providers.FAKES`).
"""

from chaos.providers.gemini._dialect import GeminiDialect
from chaos.providers.gemini._errors import error_body, proto_duration
from chaos.providers.gemini._fake import MODELS

__all__ = ["MODELS", "GeminiDialect", "error_body", "proto_duration"]
