"""Fixtures for the gate's tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.gate._util import CLIENT, DOWN, FLAKY


@pytest.fixture
def profiles(tmp_path: Path) -> dict[str, Path]:
    """Two profiles by path: ``flaky`` (one 529, then answers) and ``down`` (always 500)."""
    out = {}
    for name, text in (("flaky", FLAKY), ("down", DOWN)):
        path = tmp_path / f"{name}.yaml"
        path.write_text(text)
        out[name] = path
    return out


@pytest.fixture
def client(tmp_path: Path) -> list[str]:
    """The command of a small client that asks Claude up to 3 times."""
    path = tmp_path / "client.py"
    path.write_text(CLIENT)
    return [sys.executable, str(path)]
