"""The Harness end to end: Toxiproxy (embedded) + gateway + fakes, driven like an app would be."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import anthropic
import openai
import pytest

from chaos import ConfigError, Harness, NetworkNotAllowed, Target
from chaos.profiles import load_profile_text

pytestmark = pytest.mark.sdk

CLAUDE = {
    "model": "claude-opus-4-6",
    "max_tokens": 32,
    "messages": [{"role": "user", "content": "hi"}],
}
GPT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as s:
        s.settimeout(1)
        return s.connect_ex((parts.hostname, parts.port)) == 0


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with Harness(seed=11, backend="embedded", name_prefix="llm-chaos-test") as h:
        yield h


@pytest.fixture
def h(harness: Harness) -> Iterator[Harness]:
    harness.reset()
    yield harness
    harness.reset()


@pytest.fixture
def claude(h: Harness) -> Iterator[anthropic.Anthropic]:
    client = anthropic.Anthropic(
        base_url=h.endpoints["anthropic"], api_key="k", max_retries=0, timeout=5
    )
    yield client
    client.close()


def test_start_stop_leaves_nothing_behind() -> None:
    h = Harness([Target("anthropic", "anthropic")], backend="embedded", seed=1)
    with h:
        urls = [h.endpoints["anthropic"], h.gateway_urls["anthropic"], h.admin_url, h.backend.url]
        assert all(_port_open(u) for u in urls)
        assert h.backend.name == "embedded"
        assert h.seed == 1
        assert h.toxiproxy.proxies()["llm-chaos-anthropic"].enabled
    h.stop()  # idempotent
    assert not any(_port_open(u) for u in urls)


def test_env_routes_the_official_sdks(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    for var, value in h.env.items():
        monkeypatch.setenv(var, value)
    with anthropic.Anthropic(max_retries=0) as a, openai.OpenAI(max_retries=0) as o:
        assert a.messages.create(**CLAUDE).content[0].text
        assert o.chat.completions.create(**GPT).choices[0].message.content
    assert [r.target for r in h.journal] == ["anthropic", "openai"]


def test_inject_fault_block_and_fired(h: Harness, claude: anthropic.Anthropic) -> None:
    fault = h.inject(
        "anthropic", error="overloaded", match={"operation": "messages.create"}, first=1
    )
    assert fault.name == "inject/1-error:overloaded"
    with pytest.raises(anthropic.OverloadedError):
        claude.messages.create(**CLAUDE)
    assert claude.messages.create(**CLAUDE).content
    with (
        h.fault("anthropic", wire="reset") as reset,
        pytest.raises(anthropic.APIConnectionError),
    ):
        claude.messages.create(**CLAUDE)
    assert claude.messages.create(**CLAUDE).content  # the block's fault is gone
    never = h.inject("anthropic", error="server_error", match={"operation": "models.list"})
    assert h.fired() == {fault.name: 1, reset.name: 1, never.name: 0}


def test_network_down_refuses_connections_then_recovers(
    h: Harness, claude: anthropic.Anthropic
) -> None:
    with h.fault("anthropic", network="down") as down:
        with pytest.raises(anthropic.APIConnectionError):
            claude.messages.create(**CLAUDE)
        # nothing reached the gateway; the attempt is journaled all the same
        assert [(r.layer, r.outcome, r.network, r.status) for r in h.journal] == [
            ("network", "refused", down.name, None)
        ]
    assert claude.messages.create(**CLAUDE).content


def test_network_latency_is_added_by_toxiproxy(h: Harness, claude: anthropic.Anthropic) -> None:
    claude.messages.create(**CLAUDE)  # warm the connection pool
    with h.fault("anthropic", network={"toxic": "latency", "latency": 300}):
        start = time.monotonic()
        claude.messages.create(**CLAUDE)
        assert time.monotonic() - start >= 0.29


def test_inject_errors_name_the_problem(h: Harness) -> None:
    with pytest.raises(ConfigError, match="unknown target 'nope'"):
        h.inject("nope", error="overloaded")
    with pytest.raises(ConfigError, match="overloadd"):
        h.inject("anthropic", error="overloadd")


REQUESTS_PROFILE = """
version: 1
name: small-outage
title: two calm requests, two overloaded with the openai proxy down, then calm
source: generic
clock: requests
targets:
  anthropic: {dialect: anthropic}
  openai: {dialect: openai}
phases:
  - name: calm
    at: 0
    faults: []
  - name: outage
    at: 2
    faults:
      - {target: anthropic, error: overloaded}
      - {target: openai, network: down}
  - name: recovered
    at: 4
    faults: []
"""


def _wait(predicate, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert predicate()


def test_apply_a_requests_clock_profile(h: Harness, claude: anthropic.Anthropic) -> None:
    h.apply(load_profile_text(REQUESTS_PROFILE))
    statuses = []
    for _ in range(6):
        try:
            claude.messages.create(**CLAUDE)
            statuses.append(200)
        except anthropic.APIStatusError as exc:
            statuses.append(exc.status_code)
        if len(statuses) == 3:  # inside the outage: the openai proxy is down already
            assert not h.toxiproxy.proxies()["llm-chaos-test-openai"].enabled
    assert statuses == [200, 200, 529, 529, 200, 200]
    assert h.phases_seen() == ["calm", "outage", "recovered"]
    assert h.toxiproxy.proxies()["llm-chaos-test-openai"].enabled
    # no attempt to openai met its outage: that fault never fired
    assert h.fired() == {"outage/0-error": 2, "outage/1-network": 0}


WALL_PROFILE = """
version: 1
name: quick-wall
title: a wall-clock blackout of the openai proxy
source: generic
clock: wall
start: apply
time_scale: 30
targets:
  openai: {dialect: openai}
phases:
  - name: up
    at: 0s
    faults: []
  - name: down
    at: 12s
    faults: [{target: openai, network: down}]
  - name: back
    at: 42s
    faults: []
"""


def test_wall_clock_phases_move_without_requests(h: Harness) -> None:
    h.apply(load_profile_text(WALL_PROFILE))
    proxy = "llm-chaos-test-openai"
    _wait(lambda: not h.toxiproxy.proxies()[proxy].enabled, timeout=3)
    _wait(lambda: h.toxiproxy.proxies()[proxy].enabled, timeout=3)
    assert h.phases_seen() == ["up", "down", "back"]


def test_profile_with_an_unknown_target_is_refused(h: Harness) -> None:
    text = REQUESTS_PROFILE.replace("openai: {dialect: openai}", "backup: {dialect: openai}")
    text = text.replace("target: openai", "target: backup")
    with pytest.raises(ConfigError, match="backup"):
        h.apply(load_profile_text(text))


def test_reset_forgets_journal_faults_and_phases(h: Harness, claude: anthropic.Anthropic) -> None:
    h.apply(load_profile_text(REQUESTS_PROFILE))
    h.inject("anthropic", error="server_error", first=1)
    with pytest.raises(anthropic.InternalServerError):
        claude.messages.create(**CLAUDE)
    h.reset()
    assert (h.journal, h.fired(), h.phases_seen()) == ([], {}, [])
    assert claude.messages.create(**CLAUDE).content


def test_real_network_upstream_needs_permission() -> None:
    with pytest.raises(NetworkNotAllowed, match="--chaos-allow-network"):
        Harness(
            [Target("anthropic", upstream="https://api.anthropic.com")], backend="embedded"
        ).start()


def test_async_context_manager() -> None:
    async def main() -> str:
        async with Harness(["openai"], backend="embedded") as h:
            client = openai.AsyncOpenAI(base_url=h.env["OPENAI_BASE_URL"], api_key="k")
            answer = await client.chat.completions.create(**GPT)
            await client.close()
            return answer.choices[0].message.content or ""

    assert asyncio.run(main())


def test_a_live_proxy_of_the_same_prefix_is_not_stolen() -> None:
    """Two harnesses with one name_prefix on one Toxiproxy: the second refuses to start; a
    stale leftover (its gateway gone) is replaced."""
    from chaos import HarnessStartError
    from chaos.toxiproxy import serve_in_thread

    server = serve_in_thread(host="127.0.0.1", port=0)
    try:
        kw = {"backend": "external", "toxiproxy_url": server.url, "name_prefix": "shared"}
        with Harness(["openai"], **kw) as first:
            with pytest.raises(HarnessStartError, match="give each one its own name_prefix"):
                Harness(["openai"], **kw).start()
            assert first.toxiproxy.proxies()["shared-openai"].enabled
            gone = first.gateway_urls["openai"]
        # a leftover pointing at a dead gateway is replaced by the next harness
        from chaos.toxiproxy import ToxiproxyClient

        ToxiproxyClient(server.url).create_proxy("shared-openai", gone.removeprefix("http://"))
        with Harness(["openai"], **kw) as second:
            mine = second.gateway_urls["openai"].removeprefix("http://")
            assert second.toxiproxy.proxies()["shared-openai"].upstream == mine
    finally:
        server.stop()


def test_requests_clock_network_fault_of_the_first_phase_holds_from_the_start(
    h: Harness,
) -> None:
    profile = load_profile_text(
        """
version: 1
name: down-first
title: openai down from the first request on
source: generic
clock: requests
targets:
  openai: {dialect: openai}
phases:
  - name: down
    at: 0
    faults: [{target: openai, network: down}]
"""
    )
    h.apply(profile)  # in place when apply returns
    assert not h.toxiproxy.proxies()["llm-chaos-test-openai"].enabled
    client = openai.OpenAI(base_url=h.env["OPENAI_BASE_URL"], api_key="k", max_retries=0)
    with client, pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(**GPT)
    assert [(r.target, r.outcome, r.network) for r in h.journal] == [
        ("openai", "refused", "down/0-network")
    ]
