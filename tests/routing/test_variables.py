"""Routing covers what real clients read: every documented variable, set to a sentinel
before the session, loses to the harness, for every client library installed here."""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import pytest

from chaos.providers import DIALECTS
from tests.routing._sentinel import Sentinel, sentinel

pytest.importorskip("anthropic")

DOCS = Path(__file__).resolve().parents[2] / "docs" / "routing.md"

# real-looking credentials: none of them may reach the harness or anything else
REAL = {
    "ANTHROPIC_API_KEY": "sk-ant-api03-REAL-looking-key",
    "ANTHROPIC_AUTH_TOKEN": "sk-ant-oat01-REAL-looking-token",
    "OPENAI_API_KEY": "sk-proj-REAL-looking-key",
    "GOOGLE_API_KEY": "AIzaREAL-looking-key",
    "GEMINI_API_KEY": "AIzaREAL-looking-gemini-key",
    "GOOGLE_GENERATIVE_AI_API_KEY": "AIzaREAL-looking-vercel-key",
}


def routed_variables() -> dict[str, str]:
    """Every variable a dialect sets (-> its template) or removes (-> '')."""
    out: dict[str, str] = {}
    for dialect in DIALECTS.values():
        cls = dialect if isinstance(dialect, type) else type(dialect)
        if not cls.__module__.startswith("chaos."):
            continue  # a test's own dialect (tests/gateway/_tiny.py) registers itself too
        out.update(dialect.env)
        out.update(dict.fromkeys(dialect.env_unset, ""))
    return out


def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in list(os.environ):
        if var.startswith(("LLM_CHAOS_", "ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_")):
            monkeypatch.delenv(var)
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    monkeypatch.setenv("LLM_CHAOS_BACKEND", "embedded")
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no cost-map download
    monkeypatch.setenv("COLUMNS", "300")


def documented() -> dict[str, str]:
    """docs/routing.md's table: variable -> what it is set to (``{url}/v1``, ``removed``...)."""
    rows = re.findall(r"^\| `([A-Z_]+)` \| ([^|]+) \|", DOCS.read_text(), re.M)
    return {var: setting.strip().strip("`") for var, setting in rows}


@pytest.fixture
def env_at_sentinel(monkeypatch: pytest.MonkeyPatch):
    """Every documented URL variable points at a sentinel, every key variable holds a
    real-looking key, and Vertex AI is switched on, before the session starts."""
    clean_env(monkeypatch)
    with sentinel() as s:
        for var, setting in documented().items():
            if "{url}" in setting:
                monkeypatch.setenv(var, setting.replace("{url}", s.url))
            elif var in REAL:
                monkeypatch.setenv(var, REAL[var])
        monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
        monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "chaos-project")
        monkeypatch.setenv("GOOGLE_CLOUD_LOCATION", "us-central1")
        yield s


def test_every_routed_variable_is_documented_as_set() -> None:
    expected = {
        var: "removed" if not template else template if "{url}" in template else "a dummy key"
        for var, template in routed_variables().items()
    }
    assert documented() == expected


CLIENTS = {
    "anthropic": """
def test_anthropic_sdk(chaos):
    import anthropic
    client = anthropic.Anthropic(max_retries=0)
    assert "REAL" not in client.api_key and client.auth_token is None
    client.messages.create(model="claude-sonnet-4-6", max_tokens=16,
                           messages=[{"role": "user", "content": "hi"}])
    assert [r.target for r in chaos.journal] == ["anthropic"]
""",
    "openai": """
def test_openai_sdk(chaos):
    import openai
    client = openai.OpenAI(max_retries=0)
    assert "REAL" not in client.api_key
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert [r.target for r in chaos.journal] == ["openai"]
""",
    "google.genai": """
def test_google_genai(chaos, caplog):
    from google import genai
    client = genai.Client()
    client.models.generate_content(model="gemini-2.5-flash", contents="hi")
    assert [r.target for r in chaos.journal] == ["gemini"]
    assert not [r for r in caplog.records if "Both GOOGLE_API_KEY" in r.getMessage()]
""",
    "langchain_anthropic": """
def test_langchain_anthropic(chaos):
    from langchain_anthropic import ChatAnthropic
    ChatAnthropic(model="claude-sonnet-4-6", max_retries=0, max_tokens=16).invoke("hi")
    assert [r.target for r in chaos.journal] == ["anthropic"]
""",
    "langchain_openai": """
def test_langchain_openai(chaos):
    from langchain_openai import ChatOpenAI
    ChatOpenAI(model="gpt-4o", max_retries=0).invoke("hi")
    assert [r.target for r in chaos.journal] == ["openai"]
""",
    "litellm": """
import pytest

@pytest.mark.parametrize("model, target", [
    ("anthropic/claude-sonnet-4-6", "anthropic"),
    ("openai/gpt-4o", "openai"),
    ("gemini/gemini-2.5-flash", "gemini"),
])
def test_litellm(chaos, model, target):
    import litellm
    litellm.completion(model=model, max_tokens=16, num_retries=0,
                       messages=[{"role": "user", "content": "hi"}])
    assert [r.target for r in chaos.journal] == [target]
""",
}
RUNS = {"litellm": 3}


@pytest.mark.slow
def test_every_variable_set_to_a_sentinel_loses_to_the_harness(
    pytester: pytest.Pytester, env_at_sentinel: Sentinel
) -> None:
    installed = {m: src for m, src in CLIENTS.items() if importlib.util.find_spec(m.split(".")[0])}
    if "google.genai" in installed and importlib.util.find_spec("google.genai") is None:
        del installed["google.genai"]
    for module, source in installed.items():
        pytester.makepyfile(**{f"test_{module.replace('.', '_')}": source})
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    assert env_at_sentinel.connections == 0, result.stdout.str()
    result.assert_outcomes(passed=sum(RUNS.get(m, 1) for m in installed))
