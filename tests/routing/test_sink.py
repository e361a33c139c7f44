"""The stray-request sink: for ``llm-chaos run`` and ``serve``, whose app is another
process, a request aimed at a provider's real host goes to a local sink (the proxy
variables) that records and refuses it: nothing is looked up, nothing leaves."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from chaos.routing._sink import PROXY_VARIABLES, Sink
from tests.gate._util import FLAKY, llm_chaos
from tests.routing.test_node import serving

# The app: a real child process. It records every name it looks up (its own
# getaddrinfo), then calls a provider's real host with plain httpx and with the
# official SDK holding a real-looking key, as an app with a hard-coded URL would.
APP = """
import json, socket, sys
looked_up = []
_real = socket.getaddrinfo
def getaddrinfo(host, *args, **kwargs):
    looked_up.append(str(host))
    return _real(host, *args, **kwargs)
socket.getaddrinfo = getaddrinfo

import anthropic, httpx
seen = {}
try:
    httpx.get("https://api.openai.com/v1/models", timeout=10)
    seen["httpx"] = "answered"
except httpx.ProxyError as exc:
    seen["httpx"] = str(exc)
client = anthropic.Anthropic(
    base_url="https://api.anthropic.com", api_key="sk-ant-api03-" + "x" * 93, max_retries=0
)
try:
    client.messages.create(model="claude-sonnet-4-6", max_tokens=8,
                           messages=[{"role": "user", "content": "hi"}])
    seen["anthropic"] = "answered"
except anthropic.APIConnectionError as exc:
    seen["anthropic"] = repr(exc.__cause__)
seen["looked_up"] = looked_up
with open(sys.argv[1], "w") as f:
    json.dump(seen, f)
"""


@pytest.fixture
def app(tmp_path: Path) -> Path:
    path = tmp_path / "app.py"
    path.write_text(textwrap.dedent(APP))
    return path


def _no_proxy_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.upper() not in {*PROXY_VARIABLES, "NO_PROXY"}}


@pytest.mark.slow
def test_llm_chaos_run_refuses_and_reports_a_request_for_a_provider_host(
    tmp_path: Path, app: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for var in (*PROXY_VARIABLES, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "flaky.yaml").write_text(FLAKY)
    seen = tmp_path / "seen.json"
    proc = llm_chaos(
        "run", "-p", "flaky.yaml", "--no-strict", "--report", "out",
        "--", sys.executable, str(app), str(seen),
        cwd=tmp_path,
    )  # fmt: skip
    # the app swallowed both errors and exited 0: the gate fails it all the same
    assert proc.returncode == 1, proc.stdout + proc.stderr
    result = json.loads(seen.read_text())
    assert "Refused by llm-chaos" in result["httpx"]
    assert "Refused by llm-chaos" in result["anthropic"]
    # the app never looked the provider's names up: its requests went to the sink
    assert not [h for h in result["looked_up"] if "openai" in h or "anthropic" in h]
    out = proc.stdout
    assert "sink: refused CONNECT api.openai.com:443 (a provider's API host" in out
    assert "sink: refused CONNECT api.anthropic.com:443" in out
    assert "2 request(s) bypassed the harness and were refused by the sink" in out
    gate = json.loads((tmp_path / "out" / "gate.json").read_text())
    (run,) = gate["runs"]
    assert run["outcome"] == "failed"
    assert [(b["host"], b["refused"]) for b in run["bypassed"]] == [
        ("api.openai.com", True),
        ("api.anthropic.com", True),
    ]
    assert (
        "bypassed the harness: refused CONNECT api.anthropic.com:443"
        in (tmp_path / "out" / "gate.md").read_text()
    )


@pytest.mark.slow
def test_llm_chaos_serve_prints_the_sink_in_its_env_and_reports_what_it_caught(
    tmp_path: Path, app: Path
) -> None:
    seen = tmp_path / "seen.json"
    with serving("--target", "anthropic=anthropic") as ready:
        env = {**_no_proxy_env(), **ready["env"]}
        for var in ready["unset"]:
            env.pop(var, None)
        assert {env[v] for v in PROXY_VARIABLES} == {env["HTTP_PROXY"]}
        assert env["HTTP_PROXY"].startswith("http://127.0.0.1:")
        subprocess.run([sys.executable, str(app), str(seen)], env=env, check=True, timeout=60)
        # a client of the printed env still reaches the harness directly (NO_PROXY)
        answer = httpx.post(
            ready["env"]["ANTHROPIC_BASE_URL"] + "/v1/messages",
            json={"model": "claude-sonnet-4-6", "max_tokens": 8, "messages": []},
            headers={"x-api-key": "k", "anthropic-version": "2023-06-01"},
            trust_env=False,
        )
        assert answer.status_code in (200, 400)
        journal = httpx.get(ready["admin"] + "/journal", trust_env=False).json()["records"]
    result = json.loads(seen.read_text())
    assert "Refused by llm-chaos" in result["httpx"]
    assert "Refused by llm-chaos" in result["anthropic"]
    assert not [h for h in result["looked_up"] if "openai" in h or "anthropic" in h]
    assert [r["target"] for r in journal] == ["anthropic"]  # the direct one, only


@contextmanager
def service(host: str) -> Iterator[tuple[int, list[str]]]:
    """A small HTTP service on ``host``: yields its port and the paths it was asked for."""
    paths: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            paths.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer((host, 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], paths
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_the_sink_lets_other_hosts_through_and_seals_on_request() -> None:
    # 127.0.0.2 is loopback but not in NO_PROXY: it stands for one of the app's own services
    with service("127.0.0.2") as (port, paths), Sink() as sink:
        with httpx.Client(proxy=sink.url, trust_env=False) as client:
            assert client.get(f"http://127.0.0.2:{port}/ping?x=1").text == "ok"
        assert paths == ["/ping?x=1"]
        (stray,) = sink.strays
        assert (stray.host, stray.refused, stray.why) == (
            "127.0.0.2",
            False,
            "not a provider's API host",
        )
    with Sink(sealed=True) as sink, httpx.Client(proxy=sink.url, trust_env=False) as client:
        refused = client.get("http://db.internal.invalid/")
        assert refused.status_code == 403
        assert "the run is sealed" in refused.text
        assert [s.host for s in sink.refused] == ["db.internal.invalid"]


def test_with_allow_network_a_provider_host_is_let_through() -> None:
    with Sink(allow_providers=True) as sink, httpx.Client(proxy=sink.url, trust_env=False) as c:
        # no network here: the sink tries the provider (and fails to reach it)
        assert c.get("http://api.anthropic.com/").status_code == 502
    (stray,) = sink.strays
    assert not stray.refused
    assert "allowed by --allow-network" in stray.why


def test_no_proxy_keeps_the_users_exclusions_and_loopback() -> None:
    with Sink() as sink:
        env = sink.env({"NO_PROXY": "db.internal, *", "no_proxy": "db.internal"})
    assert env["NO_PROXY"] == env["no_proxy"] == "localhost,127.0.0.1,::1,db.internal"
