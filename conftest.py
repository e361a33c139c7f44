"""Root conftest: the project's own suite runs the plugin through pytester only.

The suite runs serially or on pytest-xdist workers (``-n 2 --dist loadgroup``, as the
README's test command does). Tests that share something that is not per process are
marked to run on one worker, one after another (their ``xdist_group``, see
:data:`SERIAL`), and the pytest runs and commands the tests start do not inherit the
worker's xdist identity. With pytest 9.2 and pytest-xdist 3.8 the groups are not
honoured (xdist tags a group onto ``item._nodeid``, which pytest 9 no longer reads), so
what must not overlap does not rely on them: the Docker tests take a lock every worker
shares, each worker installs the Node clients in its own folder, and the SDK-behaviour
page merges every worker's rows (``tests/fidelity/conftest.py``).
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SERIAL = {
    "docker": "one Docker daemon, whose containers the tests list by a label they all share",
    "node": "one npm install of the Node clients per worker's temp folder",
    "fidelity": "docs/sdk-behaviour, rewritten from every worker's rows (see its conftest)",
}
"""The xdist groups, by what their tests share."""

_XDIST_ENV = ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID")


def pytest_configure(config: pytest.Config) -> None:
    """On an xdist worker, drop the variables xdist sets for the worker's own code: a
    pytest run a test starts (pytester, a subprocess) would take them as its own and
    act as a worker (``--chaos-report`` written in parts, proxies named after it)."""
    if hasattr(config, "workerinput"):
        for name in _XDIST_ENV:
            os.environ.pop(name, None)


def _group(item: pytest.Item) -> str | None:
    if item.get_closest_marker("docker") is not None:
        return "docker"
    if {"node_project", "node_apps"} & set(getattr(item, "fixturenames", ())):
        return "node"
    if item.nodeid.startswith("tests/fidelity/"):
        return "fidelity"
    return None


@pytest.hookimpl(tryfirst=True)  # before xdist's worker reads the groups
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Put the tests of each :data:`SERIAL` group on one xdist worker."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        group = _group(item)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(autouse=True)
def _one_docker_test_at_a_time(request: pytest.FixtureRequest) -> Iterator[None]:
    """A Docker test holds a lock every worker shares while it runs: the Docker tests
    list and sweep containers by one label, so two at once would take each other's
    (the ``xdist_group`` that should keep them on one worker is ignored with pytest 9.2
    and xdist 3.8). Serially the lock is never contended."""
    if request.node.get_closest_marker("docker") is None:
        yield
        return
    lock = Path(tempfile.gettempdir()) / "llm-chaos-docker-tests.lock"
    with lock.open("a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(held, fcntl.LOCK_UN)
