"""Gateway test fixtures: a gateway on loopback with the tiny test dialect."""

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
