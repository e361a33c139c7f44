"""A streaming LLM app that neither repeats text on retry nor accepts a truncated answer."""

from streaming_app.app import IncompleteAnswer, StreamedAnswer, StreamingAssistant

__all__ = ["IncompleteAnswer", "StreamedAnswer", "StreamingAssistant"]
