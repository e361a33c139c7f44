"""Anthropic: the Messages API's dialect (:mod:`._dialect`) and its fake (:mod:`._fake`).

Importing this package registers both (see :data:`chaos.providers.DIALECTS` and
:data:`chaos.providers.FAKES`).
"""

from chaos.providers.anthropic._dialect import AnthropicDialect
from chaos.providers.anthropic._fake import ANTHROPIC_MODELS

__all__ = ["ANTHROPIC_MODELS", "AnthropicDialect"]
