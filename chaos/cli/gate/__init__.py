"""The CI gate behind ``llm-chaos run`` (see :mod:`chaos.cli.gate.report`)."""
