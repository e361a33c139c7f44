"""One module per ``llm-chaos`` verb (see :mod:`chaos.cli`)."""
