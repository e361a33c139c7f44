"""``llm-chaos demo`` (see :mod:`chaos.cli.demo.replay`)."""
