"""Gateway test fixtures: gateways on loopback with the tiny test dialect or the real ones."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from chaos.gateway import Gateway, TargetConfig
from tests.gateway._tiny import TinyDialect


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    """A started gateway with one target ``t`` speaking the tiny dialect, seed 0."""
    gw = Gateway({"t": TargetConfig(dialect=TinyDialect())}, seed=0)
    gw.start_in_thread()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def client(gateway: Gateway) -> Iterator[httpx.Client]:
    """An httpx client on the gateway's ``t`` listener."""
    with httpx.Client(base_url=gateway.urls["t"], timeout=5) as c:
        yield c


@pytest.fixture(scope="module")
def providers() -> Iterator[Gateway]:
    """A gateway with ``anthropic`` and ``openai`` targets on their fakes (rules cleared per test
    by ``gw``)."""
    gw = Gateway({"anthropic": TargetConfig("anthropic"), "openai": TargetConfig("openai")}, seed=0)
    gw.start_in_thread()
    try:
        yield gw
    finally:
        gw.stop()


@pytest.fixture
def gw(providers: Gateway) -> Iterator[Gateway]:
    """The providers gateway, with no rules and an empty journal."""
    providers.clear()
    providers.reset()
    yield providers
    providers.clear()
