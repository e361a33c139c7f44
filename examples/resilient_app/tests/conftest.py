"""Fixtures for the resilient app's chaos tests (``chaos`` comes from pytest-llm-chaos)."""

import pytest
from resilient_app import Assistant


@pytest.fixture
def assistant(chaos):
    """A fresh assistant whose SDK clients point at the chaos harness.

    It depends on ``chaos`` so that the environment (ANTHROPIC_BASE_URL,
    OPENAI_BASE_URL, dummy keys) is routed before the clients are built. Short
    timeouts and cool-down keep the tests quick; the logic is the production one.
    """
    return Assistant(timeout=2.0, cooldown=60.0, max_retry_wait=5.0)
