"""Shared fixtures of the verdict tests: each module starts its own ``harness`` (its
targets and seed); ``h`` is that harness, reset before and after each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def h(harness: Any) -> Iterator[Any]:
    """The module's harness with no fault, reply or journal left from another test."""
    harness.reset()
    try:
        yield harness
    finally:
        harness.reset()
