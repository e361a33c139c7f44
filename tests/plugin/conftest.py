"""Shared fixtures of the plugin's pytester tests."""

from __future__ import annotations

import os

import pytest


@pytest.fixture
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The inner pytest runs see no harness settings, SDK routing or keys of the outer run,
    use the embedded Toxiproxy, and print wide lines (no wrapping to match against)."""
    for var in list(os.environ):
        if var.startswith(("LLM_CHAOS_", "ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_")):
            monkeypatch.delenv(var)
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    monkeypatch.setenv("LLM_CHAOS_BACKEND", "embedded")
    monkeypatch.setenv("COLUMNS", "300")
