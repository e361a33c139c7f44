"""The harness's admin routes a suite under the gate uses: ``GET /harness``,
``POST /inject`` (layered over the profile) and ``DELETE /inject``."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from chaos import Harness
from chaos.profiles import load_profile_text

PROFILE = """\
version: 1
name: slow-opus
title: Opus is overloaded
source: generic
clock: requests
targets:
  anthropic: {dialect: anthropic}
  openai: {dialect: openai}
phases:
  - name: opus
    at: 0
    faults:
      - {target: anthropic, match: {model: "claude-opus-*"}, error: overloaded}
"""


@pytest.fixture
def h() -> Iterator[Harness]:
    with Harness(seed=3, backend="embedded", name_prefix="llm-chaos-admin") as harness:
        harness.apply(load_profile_text(PROFILE))
        yield harness


def call(h: Harness, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        h.admin_url + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def ask(h: Harness, model: str) -> int:
    request = urllib.request.Request(
        h.endpoints["anthropic"] + "/v1/messages",
        data=json.dumps(
            {"model": model, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}
        ).encode(),
        headers={
            "content-type": "application/json",
            "anthropic-version": "2023-06-01",
            "x-api-key": "k",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return exc.code


def test_get_harness_describes_it(h: Harness) -> None:
    status, info = call(h, "GET", "/harness")
    assert status == 200
    assert info["targets"] == {"anthropic": "anthropic", "openai": "openai"}
    assert info["endpoints"] == h.endpoints
    assert info["env"]["ANTHROPIC_BASE_URL"] == h.env["ANTHROPIC_BASE_URL"]
    assert (info["seed"], info["profile"], info["next_seq"]) == (3, "slow-opus", 0)
    assert info["backend"]["name"] == "embedded"
    assert info["fired"] == {"opus/0-error": 0}


def test_post_inject_goes_over_the_profile_and_delete_removes_it(h: Harness) -> None:
    status, answer = call(h, "POST", "/inject", {"target": "anthropic", "error": "server_error",
                                                   "match": {"model": "claude-sonnet-*"},
                                                   "name": "sonnet-500"})  # fmt: skip
    assert (status, answer) == (200, {"name": "sonnet-500", "layer": "http"})
    assert ask(h, "claude-sonnet-4-6") == 500
    assert ask(h, "claude-opus-4-1") == 529  # the profile goes on (PUT /rules would end it)
    assert call(h, "DELETE", "/inject?name=sonnet-500") == (200, {"removed": ["sonnet-500"]})
    assert ask(h, "claude-sonnet-4-6") == 200
    assert ask(h, "claude-opus-4-1") == 529
    assert h.fired() == {"opus/0-error": 2, "sonnet-500": 1}


def test_network_faults_too(h: Harness) -> None:
    status, answer = call(h, "POST", "/inject", {"target": "openai", "network": "down"})
    assert status == 200
    assert answer["layer"] == "network"
    assert not h.toxiproxy.proxies()["llm-chaos-admin-openai"].enabled
    assert call(h, "DELETE", "/inject")[1]["removed"] == [answer["name"]]
    assert h.toxiproxy.proxies()["llm-chaos-admin-openai"].enabled


def test_bad_requests_say_what_is_wrong(h: Harness) -> None:
    status, answer = call(h, "POST", "/inject", {"error": "overloaded"})
    assert status == 400
    assert "with a 'target'" in answer["error"]
    status, answer = call(h, "POST", "/inject", {"target": "nope", "error": "overloaded"})
    assert status == 400
    assert "unknown target 'nope'" in answer["error"]
    status, answer = call(h, "GET", "/nowhere")
    assert status == 404
    assert "POST /inject" in answer["error"]


def test_get_rules_shows_the_profile_and_what_is_injected(h: Harness) -> None:
    call(h, "POST", "/inject", {"target": "openai", "network": "down", "name": "gpt-down"})
    status, rules = call(h, "GET", "/rules")
    assert status == 200
    assert [(r["name"], r["source"], r["layer"], r["target"]) for r in rules] == [
        ("gpt-down", "inject", "network", "openai"),
        ("opus/0-error", "profile", "http", "anthropic"),
    ]
    assert rules[1]["action"] == "error:overloaded"


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/rules"), ("POST", "/reset")])
def test_delete_rules_and_reset_leave_nothing_an_inject_brings_back(
    h: Harness, method: str, path: str
) -> None:
    call(h, "POST", "/inject", {"target": "openai", "network": "down", "name": "gpt-down"})
    assert ask(h, "claude-opus-4-1") == 529
    assert call(h, method, path)[0] == 200
    assert call(h, "GET", "/rules") == (200, [])
    assert h.toxiproxy.proxies()["llm-chaos-admin-openai"].enabled  # the toxics went too
    status, _ = call(h, "POST", "/inject", {"target": "anthropic", "error": "server_error",
                                            "match": {"model": "claude-sonnet-*"}})  # fmt: skip
    assert status == 200
    assert ask(h, "claude-opus-4-1") == 200  # the profile stays gone
    assert ask(h, "claude-sonnet-4-6") == 500
    assert [r["source"] for r in call(h, "GET", "/rules")[1]] == ["inject"]


def test_put_rules_replaces_the_profile_too(h: Harness) -> None:
    status, rules = call(
        h, "PUT", "/rules", [{"target": "anthropic", "error": "server_error", "name": "all-500"}]
    )
    assert status == 200
    assert [r["name"] for r in rules] == ["all-500"]
    assert ask(h, "claude-opus-4-1") == 500
    call(h, "POST", "/inject", {"target": "openai", "error": "overloaded"})
    assert ask(h, "claude-opus-4-1") == 500  # no 529: the profile did not come back
