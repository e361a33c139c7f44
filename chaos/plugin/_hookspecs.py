"""Hooks for ``conftest.py`` files and plugins that extend pytest-llm-chaos.

Implement them in a ``conftest.py`` (or a plugin) like any pytest hook::

    def pytest_chaos_targets(config):
        return ["azure = openai http://127.0.0.1:9000"]

    def pytest_chaos_configure(config, harness):
        harness.inject("anthropic", delay=50)   # every test starts with 50 ms latency
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from chaos.report import Reporter

__all__ = [
    "pytest_chaos_configure",
    "pytest_chaos_make_reporter",
    "pytest_chaos_targets",
]


@pytest.hookspec
def pytest_chaos_targets(config: pytest.Config) -> list[Any] | None:
    """Add harness targets before the harness starts.

    Return a list whose items are ``chaos.Target`` objects or target lines
    (``"name = dialect"`` or ``"name = dialect upstream-URL"``). Targets of the
    same name replace the configured ones.

    :param config: the pytest config.
    """


@pytest.hookspec
def pytest_chaos_configure(config: pytest.Config, harness: Any) -> None:
    """Called once per session (per xdist worker), right after the harness started.

    Inspect or adjust the harness here. Faults injected here last only until the
    end of the first chaos test (every chaos test ends with a reset): inject
    per-test faults in a fixture instead.

    :param config: the pytest config.
    :param harness: the running ``chaos.Harness``.
    """


@pytest.hookspec(firstresult=True)
def pytest_chaos_make_reporter(config: pytest.Config) -> Reporter | None:
    """Return the reporter the plugin tells about every chaos test.

    The first non-None result wins; the built-in one (``chaos.report``'s, which
    writes ``--chaos-report`` and Allure attachments) runs last, so a
    ``conftest.py`` implementation replaces it.

    :param config: the pytest config.
    """
