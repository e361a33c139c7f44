"""OpenAI: the API's dialect (:mod:`._dialect`) and its fake (:mod:`._fake`).

Importing this package registers both (see :data:`chaos.providers.DIALECTS` and
:data:`chaos.providers.FAKES`).
"""

from chaos.providers.openai._dialect import OpenAIDialect
from chaos.providers.openai._errors import STREAM_SERVER_ERROR, error_body, go_duration
from chaos.providers.openai._fake import MODELS

__all__ = ["MODELS", "STREAM_SERVER_ERROR", "OpenAIDialect", "error_body", "go_duration"]
