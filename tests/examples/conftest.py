"""The example apps against the real gateway and fake providers, over loopback sockets."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.gateway import Gateway, TargetConfig
from chaos.profiles import parse_fault

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
for app in ("resilient_app", "naive_app", "streaming_app"):
    if str(EXAMPLES / app) not in sys.path:
        sys.path.insert(0, str(EXAMPLES / app))


class Providers:
    """A gateway with ``anthropic`` and ``openai`` fakes; the SDKs' env points at it."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self._faults: list = []

    def inject(self, target: str, **fault) -> None:
        """Add a fault (the same keys as a profile fault)."""
        self._faults.append(parse_fault({"target": target, **fault}))
        self.gateway.set_faults(self._faults)

    def clear(self) -> None:
        self._faults = []
        self.gateway.set_faults([])

    @property
    def journal(self):
        return self.gateway.journal()

    def verdict(self):
        from chaos.verdict import Verdict

        return Verdict(self.gateway.journal(), declared=self.gateway.fired())


@pytest.fixture
def providers(monkeypatch: pytest.MonkeyPatch) -> Iterator[Providers]:
    gateway = Gateway(
        {"anthropic": TargetConfig("anthropic"), "openai": TargetConfig("openai")},
        seed=7,
        admin=False,
    ).start_in_thread()
    try:
        monkeypatch.setenv("ANTHROPIC_BASE_URL", gateway.urls["anthropic"])
        monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-chaos-dummy")
        monkeypatch.setenv("OPENAI_BASE_URL", gateway.urls["openai"] + "/v1")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-chaos-dummy")
        yield Providers(gateway)
    finally:
        gateway.stop()
