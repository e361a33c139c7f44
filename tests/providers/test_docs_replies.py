"""docs/replies.md's examples, as written: the Python run, the YAML loaded and applied, the
admin API's JSON posted, the cassette commands run (against a loopback stand-in for
api.anthropic.com, the only text the test changes)."""

from __future__ import annotations

import ast
import json
import shlex
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from chaos import Harness
from chaos.gateway import Gateway, TargetConfig
from chaos.providers import AnthropicDialect
from chaos.providers._replies import parse_reply
from tests.docs._markdown import example as marked_example

anthropic = pytest.importorskip("anthropic")
openai = pytest.importorskip("openai")

DOCUMENT = Path(__file__).resolve().parents[2] / "docs" / "replies.md"
REAL = "https://api.anthropic.com"
SECRET = "sk-ant-api03-REAL-LOOKING-SECRET-0123456789"


def example(name: str) -> str:
    """The fenced block after ``<!-- example: name ... -->``."""
    return marked_example(DOCUMENT, name).code


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    with Harness(["anthropic", "openai"], backend="embedded", name_prefix="llm-chaos-docs") as h:
        yield h


@pytest.fixture
def h(harness: Harness) -> Iterator[Harness]:
    harness.reset()
    yield harness
    harness.reset()


def claude(h: Harness, prompt: str) -> Any:
    with anthropic.Anthropic(base_url=h.endpoints["anthropic"], api_key="k") as client:
        return client.messages.create(
            model="claude-sonnet-4-6",
            max_tokens=100,
            messages=[{"role": "user", "content": prompt}],
        )


def gpt_tool_calls(h: Harness, *tools: str) -> list[tuple[str, Any]]:
    declared = [
        {"type": "function", "function": {"name": t, "parameters": {"type": "object"}}}
        for t in tools
    ]
    with openai.OpenAI(base_url=h.endpoints["openai"] + "/v1", api_key="k") as client:
        answer = client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "go"}], tools=declared
        )
    calls = answer.choices[0].message.tool_calls or []
    return [(c.function.name, json.loads(c.function.arguments)) for c in calls]


def test_the_python_example_runs() -> None:
    exec(compile(example("python"), "docs/replies.md#python", "exec"), {})


def test_the_profile_example_scripts_both_targets(h: Harness, tmp_path: Path) -> None:
    path = tmp_path / "scripted-triage.yaml"
    path.write_text(example("profile"))
    h.apply(path)
    assert json.loads(claude(h, "refund, please").content[0].text) == {"label": "billing"}
    assert gpt_tool_calls(h, "lookup_order") == [("lookup_order", {"order_id": "A-17"})]
    # once: then the fake's own call, its arguments drawn from the (empty) schema
    assert gpt_tool_calls(h, "lookup_order") == [("lookup_order", {})]
    assert h.replies("openai")["openai"][0].used == 1


def test_the_admin_example_posts(h: Harness) -> None:
    posted = httpx.post(h.admin_url + "/replies", content=example("admin"))
    assert posted.status_code == 200, posted.text
    assert claude(h, "the app crashed").content[0].text == "It is a bug."
    assert gpt_tool_calls(h, "get_weather", "get_time") == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"timezone": "Europe/Paris"}),
    ]


@pytest.fixture
def stand_in() -> Iterator[str]:
    """A loopback stand-in for api.anthropic.com (the examples' only substitution)."""
    gw = Gateway({"real": TargetConfig(AnthropicDialect())}, admin=False, seed=1)
    gw.start_in_thread()
    gw.dialect("real").replies.add(parse_reply({"json": {"label": "billing"}}, source="t"))
    try:
        yield gw.urls["real"]
    finally:
        gw.stop()


TRIAGE = """\
import anthropic
client = anthropic.Anthropic(max_retries=0)
answer = client.messages.create(
    model="claude-sonnet-4-6", max_tokens=100,
    messages=[{"role": "user", "content": "label this ticket"}],
)
print(answer.content[0].text)
"""


def test_the_cassette_examples_record_and_replay(
    stand_in: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)
    # the script runs as a program, as a user runs it (its own process, its own sockets)
    code = example("cassette-python").replace(REAL, stand_in) + "\nprint(repr(recorded))\n"
    ran = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert ran.returncode == 0, ran.stderr
    assert ast.literal_eval(ran.stdout.splitlines()[-1]) == '{"label": "billing"}'
    cassette = tmp_path / "cassettes" / "triage.yaml"
    assert SECRET not in cassette.read_text()
    assert yaml.safe_load(cassette.read_text())["version"] == 1

    (tmp_path / "recorded-triage.yaml").write_text(example("cassette-profile"))
    (tmp_path / "triage.py").write_text(TRIAGE)
    outs: list[str] = []
    for line in example("cassette-cli").splitlines():
        words = shlex.split(line.replace(REAL, stand_in))
        assert words[0] == "llm-chaos"
        words = [sys.executable if w == "python" else w for w in words]
        verb = subprocess.run(
            [sys.executable, "-m", "chaos", *words[1:]],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert verb.returncode == 0, f"{line}\n{verb.stderr}"
        outs.append(verb.stdout)
    out = "".join(outs)
    assert out.count('{"label": "billing"}') == 2  # recorded, then replayed
    assert "cassettes/triage.yaml: version 1, 2 recordings" in out


def test_the_profile_cassette_example_replays_offline(
    stand_in: str, tmp_path: Path, h: Harness
) -> None:
    cassette = tmp_path / "cassettes" / "triage.yaml"
    h.use_cassette("anthropic", cassette, record=True, upstream=stand_in)
    assert claude(h, "label this ticket").content[0].text == '{"label": "billing"}'
    h.use_cassette("anthropic", None)
    profile = tmp_path / "recorded-triage.yaml"
    profile.write_text(example("cassette-profile"))
    h.apply(profile)
    assert claude(h, "label this ticket").content[0].text == '{"label": "billing"}'
    with pytest.raises(anthropic.APIStatusError):
        claude(h, "label this ticket")  # the overload, after one answer
