"""The harness the differential tests run against, and the page they write."""

from __future__ import annotations

import json
import os
import tempfile
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
    file per SDK and version in DIR) and rewrite the page beside DIR from every file there.

    Under pytest-xdist each worker holds only the rows of the tests it ran (the
    ``xdist_group`` that would keep them on one worker is not honoured with pytest 9.2 and
    xdist 3.8), so each worker leaves its rows in a folder of this run and writes the page
    from every worker's rows found there: the last worker to finish writes all of them."""
    folder = os.environ.get("LLM_CHAOS_SDK_BEHAVIOUR")
    if not folder or not RESULTS:
        return
    rows: list[dict[str, object]] = list(RESULTS)
    worker = getattr(session.config, "workerinput", None)
    if worker is not None:
        run = Path(tempfile.gettempdir()) / f"llm-chaos-sdk-behaviour-{worker['testrunuid']}"
        run.mkdir(exist_ok=True)
        mine = run / f"{worker['workerid']}.json"
        mine.write_text(json.dumps(RESULTS))
        rows = [row for part in sorted(run.glob("*.json")) for row in json.loads(part.read_text())]
    _page.write(Path(folder), rows)
