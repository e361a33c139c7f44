"""The harness the differential tests run against, and the page they write."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fidelity import _page

RESULTS: list[dict[str, object]] = []


@pytest.fixture(scope="module")
def harness() -> Iterator[object]:
    """One harness (embedded Toxiproxy + gateway + fakes) with a target per provider."""
    from chaos import Harness

    with Harness(["anthropic", "openai", "gemini"], backend="embedded", seed=11) as h:
        yield h


def pytest_sessionfinish(session: pytest.Session) -> None:
    """With ``LLM_CHAOS_SDK_BEHAVIOUR=DIR``, record what each installed SDK did (one JSON
    file per SDK and version in DIR) and rewrite the page beside DIR from every file there."""
    folder = os.environ.get("LLM_CHAOS_SDK_BEHAVIOUR")
    if not folder or not RESULTS:
        return
    _page.write(Path(folder), RESULTS)
