"""The verdict on Node apps, through ``llm-chaos serve``: the official Node SDKs
(``@anthropic-ai/sdk`` falling back to ``openai`` in a try/catch) and the Vercel AI SDK
(``generateText`` over the ``ai-fallback`` npm package's ``createFallback``), each as a
resilient app and as a naive one (Claude only, the SDK's defaults). Under a single fault
(``error: overloaded`` on every Claude request, through the admin API's ``POST /inject``)
and under the built-in ``provider-down`` and ``overloaded-529-wave`` profiles
(``serve --profile``), the journal read
from ``GET /journal`` gives a verdict that passes the resilient app and fails the naive one
with a message that says what happened; so does ai-fallback's default predicate under
``provider-down`` (it misses connection errors). The Vercel app uses ai-fallback, which
installs from npm, not a hand-written try/catch. The apps are in ``tests/verdict/node/``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chaos import VerdictError
from chaos.common._journal import JournalRecord
from chaos.verdict import Verdict
from tests.routing.test_node import install_node_clients, serving

APPS = Path(__file__).with_name("node")
FAMILIES = ("official", "vercel")  # node/<family>_resilient.mjs, node/<family>_naive.mjs
TARGETS = ("--target", "anthropic=anthropic", "--target", "openai=openai")
# retry-after-ms keeps the SDKs' own retries quick; both Node SDKs honour it
OVERLOADED = {"target": "anthropic", "error": "overloaded", "retry_after_ms": 10}
QUESTIONS = 2
# the wave counts Claude requests: 8 questions reach its peak, where every attempt fails
WAVE_QUESTIONS = 8


@pytest.fixture(scope="module")
def node_apps(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Node clients from npm (shared with tests/routing/test_node.py) and the apps."""
    folder = install_node_clients(tmp_path_factory)
    for app in APPS.glob("*.mjs"):
        shutil.copy(app, folder / app.name)
    return folder


@pytest.fixture(params=["overloaded", "provider-down", "overloaded-529-wave"])
def served(request: pytest.FixtureRequest) -> Iterator[dict]:
    """``llm-chaos serve`` under one fault source: an ``overloaded`` fault on every Claude
    request injected through the admin API, or a built-in profile. The ready line gets
    ``source`` and ``questions`` (how many the apps ask)."""
    if request.param == "overloaded":
        with serving(*TARGETS) as ready:
            injected = httpx.post(f"{ready['admin']}/inject", json=OVERLOADED)
            assert injected.status_code == 200, injected.text
            yield {**ready, "source": request.param, "questions": QUESTIONS}
    else:
        questions = WAVE_QUESTIONS if request.param == "overloaded-529-wave" else QUESTIONS
        # serve picks a random seed; the profile's own (529 for the wave) makes the
        # ramp's draws, and so reaching the peak in 8 questions, repeatable
        with serving("--profile", request.param, "--seed", "529") as ready:
            yield {**ready, "source": request.param, "questions": questions}


def run_app(folder: Path, ready: dict, app: str) -> tuple[list[dict], int, Verdict]:
    """Run ``app`` with serve's printed environment alone: its answers (one per
    question), its exit status and the verdict on the journal it left."""
    questions = ready.get("questions", QUESTIONS)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANTHROPIC_", "OPENAI_"))}
    env.update(ready["env"])
    done = subprocess.run(
        ["node", app, str(questions)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    answers = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(answers) == questions, done.stderr
    records = httpx.get(f"{ready['admin']}/journal").json()["records"]
    return answers, done.returncode, Verdict([JournalRecord.from_dict(r) for r in records])


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_the_resilient_node_app_fails_over_to_openai(
    node_apps: Path, served: dict, family: str
) -> None:
    answers, status, verdict = run_app(node_apps, served, f"{family}_resilient.mjs")
    assert status == 0, answers
    assert all(a["ok"] and a["text"].startswith("Echo: Question") for a in answers), answers
    call = verdict.assert_failed_over("anthropic", "openai")
    assert call.succeeded
    assert any(a.failed for a in call.attempts if a.target == "anthropic")


@pytest.mark.slow
@pytest.mark.parametrize("family", FAMILIES)
def test_the_naive_node_app_fails_and_the_verdict_says_why(
    node_apps: Path, served: dict, family: str
) -> None:
    answers, status, verdict = run_app(node_apps, served, f"{family}_naive.mjs")
    errors = sum(not a["ok"] for a in answers)
    assert status == 1
    assert errors >= 1
    lost = sum(not c.succeeded for c in verdict.calls)
    if served["source"] == "provider-down":
        # refused connections carry no question: the naive app's questions read as one call
        assert lost == len(verdict.calls) >= 1
    else:
        assert lost == errors  # the calls never answered are the errors its users saw
    with pytest.raises(VerdictError) as raised:
        verdict.assert_failed_over("anthropic", "openai")
    message = str(raised.value)
    assert "expected a failover from 'anthropic' to 'openai'" in message
    assert "no call that failed on 'anthropic' was answered by 'openai' (the fallback): " in message
    assert f"({lost} never answered)" in message
    assert "'openai' received no request" in message


@pytest.mark.slow
@pytest.mark.parametrize(
    ("family", "retries"), [("official", "sdk_retry"), ("vercel", "app_retry")]
)
def test_how_the_verdict_reads_the_node_sdks_own_retries(
    node_apps: Path, family: str, retries: str
) -> None:
    """The official Node SDKs send ``x-stainless-retry-count`` on their retries: SDK
    retries. The Vercel AI SDK (``maxRetries: 2``) sends no retry header: its retries read
    as the app's, which they are from the wire (docs/frameworks.md)."""
    with serving(*TARGETS) as ready:
        httpx.post(f"{ready['admin']}/inject", json=OVERLOADED).raise_for_status()
        _, status, verdict = run_app(node_apps, ready, f"{family}_naive.mjs")
    assert status == 1
    for call in verdict.calls:
        kinds = Counter(a.attribution for a in call.attempts)
        assert kinds["first"] == 1, call.attempts
        assert kinds[retries] >= 1, call.attempts
        assert set(kinds) == {"first", retries}, kinds


@pytest.mark.slow
def test_ai_fallback_defaults_do_not_fail_over_when_the_provider_is_down(
    node_apps: Path,
) -> None:
    """ai-fallback's default predicate (status codes, words such as "overloaded") misses a
    refused or reset connection: under provider-down the README's app never asks OpenAI
    (docs/frameworks.md, the predicate vercel_resilient.mjs adds)."""
    with serving("--profile", "provider-down") as ready:
        answers, status, verdict = run_app(node_apps, ready, "vercel_fallback_defaults.mjs")
    assert status == 1
    assert not any(a["ok"] for a in answers), answers
    with pytest.raises(VerdictError, match="'openai' received no request"):
        verdict.assert_failed_over("anthropic", "openai")
