"""No leaks: secrets planted in every place a request can carry them, sent through the
harness with the real SDKs, appear in no artifact: the journal, the admin API, allure
results, the ``--chaos-report`` and ``llm-chaos run --report`` files, the output of
pytest and of ``llm-chaos serve``.

Bodies are never stored, only a fingerprint (a hash), so a secret inside a JSON body
cannot leak either; the test plants one there too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.reliability.test_cli_leftovers import ROOT, _clean_env, _read_line

pytestmark = [pytest.mark.slow, pytest.mark.sdk]

pytest.importorskip("anthropic")
pytest.importorskip("openai")
pytest.importorskip("allure_pytest")


def _secrets() -> dict[str, str]:
    """One unique value per place a request can carry a secret."""
    places = [
        "X_API_KEY",  # anthropic: x-api-key
        "BEARER",  # openai: authorization: Bearer
        "AUTH_TOKEN",  # anthropic auth_token: authorization: Bearer
        "COOKIE",  # cookie: session=...
        "SECRET_TOKEN",  # x-secret-token (a custom header named like a secret)
        "API_KEY_HEADER",  # api-key (Azure OpenAI style)
        "PROXY_AUTH",  # proxy-authorization
        "GOOG_KEY",  # x-goog-api-key
        "QUERY_KEY",  # ?key=... (Gemini style)
        "QUERY_TOKEN",  # ?access_token=...
        "BODY",  # a key inside the JSON body
    ]
    return {
        f"PLANTED_{p}": f"s3cr3t-{p.lower().replace('_', '-')}-{uuid.uuid4().hex}" for p in places
    }


# Traffic with every secret, through the SDKs (the SDKs read the base URLs the harness set).
CLIENT = r"""
import json, os, urllib.request
import anthropic, httpx, openai

S = {k: v for k, v in os.environ.items() if k.startswith("PLANTED_")}
EXTRA = {
    "Cookie": f"session={S['PLANTED_COOKIE']}; theme=dark",
    "X-Secret-Token": S["PLANTED_SECRET_TOKEN"],
    "api-key": S["PLANTED_API_KEY_HEADER"],
    "Proxy-Authorization": f"Basic {S['PLANTED_PROXY_AUTH']}",
}
BODY_SECRET = {"api_key": S["PLANTED_BODY"]}


def traffic():
    msg = [{"role": "user", "content": "hello"}]
    a = anthropic.Anthropic(api_key=S["PLANTED_X_API_KEY"], default_headers=EXTRA, max_retries=0)
    a.messages.create(model="claude-sonnet-4-6", max_tokens=8, messages=msg,
                      metadata={"user_id": S["PLANTED_BODY"]})
    b = anthropic.Anthropic(auth_token=S["PLANTED_AUTH_TOKEN"], api_key=None, max_retries=0)
    with b.messages.stream(model="claude-sonnet-4-6", max_tokens=8, messages=msg) as s:
        s.get_final_message()
    o = openai.OpenAI(api_key=S["PLANTED_BEARER"], default_headers=EXTRA,
                      default_query={"key": S["PLANTED_QUERY_KEY"],
                                     "access_token": S["PLANTED_QUERY_TOKEN"]},
                      max_retries=0)
    o.chat.completions.create(model="gpt-4o", messages=msg, extra_body=BODY_SECRET)
    try:  # a fault answer must not echo the key either
        o.chat.completions.create(model="gpt-4o-mini", messages=msg)
    except openai.APIStatusError:
        pass
    base = os.environ["GOOGLE_GEMINI_BASE_URL"]
    httpx.post(f"{base}/v1beta/models/gemini-2.0-flash:generateContent",
               params={"key": S["PLANTED_QUERY_KEY"]},
               headers={"x-goog-api-key": S["PLANTED_GOOG_KEY"], **EXTRA},
               json={"contents": [{"parts": [{"text": "hi"}]}], **BODY_SECRET}, timeout=10)
"""

INNER_TEST = (
    CLIENT
    + r"""
import pytest

@pytest.fixture
def traffic_through(chaos):
    chaos.inject("openai", error="unauthorized", match={"model": "gpt-4o-mini"})
    traffic()
    return chaos


def test_artifacts(traffic_through):
    chaos = traffic_through
    out = __import__("pathlib").Path(os.environ["LEAK_DUMPS"])
    out.mkdir(exist_ok=True)
    (out / "journal.json").write_text(json.dumps([r.to_dict() for r in chaos.journal]))
    (out / "verdict.txt").write_text(chaos.verdict.describe())
    admin = chaos.harness.admin_url
    for route in ("journal", "rules", "health", "fired"):
        with urllib.request.urlopen(f"{admin}/{route}") as answer:
            (out / f"admin-{route}.json").write_bytes(answer.read())
    assert len(chaos.journal) == 5


def test_failing_shows_its_journal(traffic_through):
    assert False, "fails on purpose: the report shows this test's journal"
"""
)


def _grep(secrets: dict[str, str], texts: dict[str, str]) -> list[str]:
    return [
        f"{name} in {where}"
        for where, text in texts.items()
        for name, value in secrets.items()
        if value in text
    ]


def _files(folder: Path) -> dict[str, str]:
    return {
        str(p): p.read_bytes().decode("utf-8", "replace") for p in folder.rglob("*") if p.is_file()
    }


def test_pytest_session_artifacts_carry_no_secret(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = _secrets()
    for var in list(os.environ):
        if var.startswith(("LLM_CHAOS_", "ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_")):
            monkeypatch.delenv(var)
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    monkeypatch.setenv("LLM_CHAOS_BACKEND", "embedded")
    dumps = pytester.path / "dumps"
    monkeypatch.setenv("LEAK_DUMPS", str(dumps))
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    pytester.makepyfile(test_leaky=INNER_TEST)
    # the harness's own logs at DEBUG are captured and shown (the SDKs' are the app's)
    pytester.makeconftest("import logging\nlogging.getLogger('chaos').setLevel(logging.DEBUG)\n")
    result = pytester.runpytest_subprocess(
        "-p",
        "no:cacheprovider",
        "-rA",
        "-vv",
        f"--alluredir={pytester.path / 'allure'}",
        f"--chaos-report={pytester.path / 'report'}",
    )
    result.assert_outcomes(passed=1, failed=1)
    output = "\n".join(result.outlines + result.errlines)
    assert "llm-chaos journal" in output  # the failing test's calls are shown...
    files = {
        **_files(pytester.path / "allure"),
        **_files(pytester.path / "report"),
        **_files(dumps),
    }
    # ... and every artifact exists and was written from this traffic
    assert any("allure" in f for f in files), files.keys()
    assert any("report" in f for f in files), files.keys()
    assert "[redacted]" in files[str(dumps / "admin-journal.json")]
    leaks = _grep(secrets, {**files, "pytest output": output})
    assert not leaks, leaks
    # what the journal keeps of a body: its fingerprint, never the body
    records = json.loads(files[str(dumps / "journal.json")])
    assert all(len(r["fingerprint"]) == 16 for r in records)
    assert {r["status"] for r in records} >= {200, 401}


def test_serve_and_run_artifacts_carry_no_secret(tmp_path: Path) -> None:
    secrets = _secrets()
    script = tmp_path / "client.py"
    script.write_text(CLIENT + "\ntraffic()\nprint('client done', flush=True)\n")
    mark = uuid.uuid4().hex
    env = _clean_env(mark, **secrets)
    # llm-chaos serve: its stdout/stderr and its admin API
    serve = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chaos",
            "serve",
            "--backend",
            "embedded",
            "--target",
            "anthropic=anthropic",
            "--target",
            "openai=openai",
            "--target",
            "gemini=gemini",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    try:
        ready = json.loads(_read_line(serve))
        admin = ready["admin"]
        import httpx

        httpx.put(
            f"{admin}/rules",
            json=[{"target": "openai", "error": "unauthorized", "match": {"model": "gpt-4o-mini"}}],
            timeout=10,
        ).raise_for_status()
        client = subprocess.run(
            [sys.executable, str(script)],
            env={**env, **ready["env"]},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert client.returncode == 0, client.stderr
        texts = {
            f"admin {route}": httpx.get(f"{admin}/{route}", timeout=10).text
            for route in ("journal", "rules", "health", "fired")
        }
        assert len(json.loads(texts["admin journal"])["records"]) == 5
        serve.terminate()
        out, err = serve.communicate(timeout=30)
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.communicate()
    texts.update({"serve stdout": out, "serve stderr": err})
    # llm-chaos run --report: the gate's output and every report file
    report = tmp_path / "gate"
    gate = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaos",
            "run",
            "--backend",
            "embedded",
            "-p",
            "auth-failure",
            "--target",
            "anthropic=anthropic",
            "--target",
            "openai=openai",
            "--target",
            "gemini=gemini",
            "--no-strict",
            "--report",
            str(report),
            "--",
            sys.executable,
            str(script),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    texts.update({"run stdout": gate.stdout, "run stderr": gate.stderr, **_files(report)})
    journals = [text for name, text in texts.items() if "journal-" in name]
    assert journals, texts.keys()
    assert "[redacted]" in journals[0]
    leaks = _grep(secrets, texts)
    assert not leaks, leaks
