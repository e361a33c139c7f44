"""Scripted replies through the Harness: Python, a profile's ``replies:``, the admin API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import pytest

from chaos import Harness
from chaos._errors import ChaosError, ConfigError

PROFILE = """\
version: 1
name: scripted
title: replies from a profile
targets:
  anthropic: {dialect: anthropic}
  openai: {dialect: openai}
replies:
  - target: anthropic
    match: {contains: triage}
    json: {label: billing}
phases:
  - name: calm
    at: 0
"""


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with Harness(seed=5, backend="embedded", name_prefix="llm-chaos-replies") as h:
        yield h


@pytest.fixture
def h(harness: Harness) -> Iterator[Harness]:
    harness.reset()
    yield harness
    harness.reset()


def ask(h: Harness, prompt: str) -> str:
    with anthropic.Anthropic(base_url=h.endpoints["anthropic"], api_key="k", max_retries=0) as c:
        message = c.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=100,
            messages=[{"role": "user", "content": prompt}],
        )
    return str(message.content[0].text)


def test_reply_from_python_lasts_until_reset(h: Harness) -> None:
    h.reply("anthropic", text="scripted", once=True)
    assert ask(h, "hi") == "scripted"
    assert ask(h, "hi") == "Echo: hi"
    h.reply("anthropic", text="again")
    h.reset()
    assert ask(h, "hi") == "Echo: hi"


def test_reply_names_an_unknown_target(h: Harness) -> None:
    with pytest.raises(ConfigError, match="unknown target 'claude'; targets: anthropic, openai"):
        h.reply("claude", text="x")


def test_profile_replies_come_and_go_with_the_profile(h: Harness, tmp_path: Path) -> None:
    path = tmp_path / "scripted.yaml"
    path.write_text(PROFILE)
    h.apply(path)
    assert json.loads(ask(h, "triage: refund please")) == {"label": "billing"}
    assert ask(h, "hello") == "Echo: hello"
    h.clear()
    assert ask(h, "triage: refund please").startswith("Echo:")


def test_a_bad_profile_reply_names_file_and_field(tmp_path: Path) -> None:
    from chaos.profiles import load_profile

    path = tmp_path / "bad.yaml"
    path.write_text(PROFILE.replace("json: {label: billing}", "jsn: {label: billing}"))
    with pytest.raises(ChaosError) as info:
        load_profile(path)
    text = str(info.value)
    assert "bad.yaml" in text
    assert "unknown reply key 'jsn'" in text


@pytest.mark.slow
def test_admin_api_adds_lists_and_clears_replies(h: Harness) -> None:
    url = h.admin_url + "/replies"
    spec = {"target": "anthropic", "json": {"label": "bug"}, "match": {"regex": "crash"}}
    added = httpx.post(url, json=spec)
    assert added.status_code == 200
    assert json.loads(ask(h, "it crashed: crash")) == {"label": "bug"}
    listed = httpx.get(url, params={"target": "anthropic"}).json()
    assert listed["anthropic"][0]["used"] == 1
    bad = httpx.post(url, json={"target": "anthropic", "stop": "x"})
    assert bad.status_code == 400
    assert "unknown reply key 'stop'" in bad.json()["error"]
    assert httpx.delete(url).status_code == 200
    assert ask(h, "crash") == "Echo: crash"


PARALLEL = [
    {"name": "get_weather", "arguments": {"city": "Paris"}},
    {"name": "get_time", "arguments": {"timezone": "Europe/Paris"}},
]


def tool_uses(h: Harness) -> list[tuple[str, object]]:
    with anthropic.Anthropic(base_url=h.endpoints["anthropic"], api_key="k", max_retries=0) as c:
        message = c.messages.create(
            model="claude-sonnet-4-5",
            max_tokens=100,
            messages=[{"role": "user", "content": "weather and time in Paris?"}],
        )
    return [(b.name, b.input) for b in message.content if b.type == "tool_use"]


def test_parallel_tool_calls_from_a_profile_and_the_admin_api(h: Harness, tmp_path: Path) -> None:
    wanted = [(c["name"], c["arguments"]) for c in PARALLEL]
    path = tmp_path / "parallel.yaml"
    path.write_text(
        PROFILE.replace(
            "    json: {label: billing}\n",
            "    json: {label: billing}\n"
            "  - target: anthropic\n"
            "    tool_calls:\n"
            "      - {name: get_weather, arguments: {city: Paris}}\n"
            "      - {name: get_time, arguments: {timezone: Europe/Paris}}\n",
        )
    )
    h.apply(path)
    assert tool_uses(h) == wanted
    h.clear()
    url = h.admin_url + "/replies"
    added = httpx.post(url, json={"target": "anthropic", "tool_calls": PARALLEL, "once": True})
    assert added.json()["added"][0]["tool_calls"] == PARALLEL
    assert tool_uses(h) == wanted
    assert httpx.get(url).json()["anthropic"][0]["used"] == 1
    bad = httpx.post(url, json={"target": "anthropic", "tool_calls": [{"arguments": {}}]})
    assert bad.status_code == 400
    assert "'tool_calls[0]' takes {name: ..." in bad.json()["error"]


def test_the_shipped_schema_takes_profile_replies() -> None:
    import jsonschema
    import yaml

    from chaos.profiles._schema import json_schema

    validator = jsonschema.Draft202012Validator(json_schema())
    good = yaml.safe_load(PROFILE)
    assert list(validator.iter_errors(good)) == []
    bad = yaml.safe_load(PROFILE.replace("json: {label: billing}", "jsn: {label: billing}"))
    assert list(validator.iter_errors(bad)) != []


# -- content faults and the verdict ----------------------------------------------------

LABEL = '{"label": "billing", "reason": "the customer asks for a refund"}'


def naive_app(h: Harness, prompt: str) -> str:
    """Passes whatever the model said on."""
    return ask(h, prompt)


def careful_app(h: Harness, prompt: str) -> str:
    """Retries once when the answer stopped at the token limit, else flags it."""
    with anthropic.Anthropic(base_url=h.endpoints["anthropic"], api_key="k", max_retries=0) as c:
        for _ in range(2):
            message = c.messages.create(
                model="claude-sonnet-4-5",
                max_tokens=100,
                messages=[{"role": "user", "content": prompt}],
            )
            if message.stop_reason != "max_tokens":
                return str(message.content[0].text)
    return "ERROR: the model's answer was cut off"


def test_the_verdict_fires_for_an_app_that_passes_a_truncated_answer_on(h: Harness) -> None:
    h.reply("anthropic", text=LABEL)
    h.inject("anthropic", truncate_answer=4, first=1)
    answers = [naive_app(h, "triage: refund")]
    with pytest.raises(AssertionError, match="passed 1 faulted answer") as info:
        h.assert_noticed_content_faults(answers)
    assert "anthropic: truncate_answer delivered '{\"label\"'" in str(info.value)


def test_the_verdict_is_quiet_for_an_app_that_retries(h: Harness) -> None:
    h.reply("anthropic", text=LABEL)
    h.inject("anthropic", truncate_answer=4, first=1)
    answers = [careful_app(h, "triage: refund")]
    assert answers == [LABEL]
    h.assert_noticed_content_faults(answers)


def test_the_verdict_is_quiet_for_an_app_that_flags_the_answer(h: Harness) -> None:
    h.reply("anthropic", text=LABEL)
    h.inject("anthropic", truncate_answer=4)
    answers = [careful_app(h, "triage: refund")]
    assert answers == ["ERROR: the model's answer was cut off"]
    h.assert_noticed_content_faults(answers)
    assert [d.kind for _, d in h.content_faults()] == ["truncate_answer"] * 2


def test_the_verdict_says_when_no_content_fault_fired(h: Harness) -> None:
    with pytest.raises(AssertionError, match="no content fault fired"):
        h.assert_noticed_content_faults(["anything"])
