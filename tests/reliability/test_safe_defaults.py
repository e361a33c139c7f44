"""Safe defaults: listeners on loopback, no forwarding to a real network host unless
opted in (and the error says how), the admin API refuses non-loopback clients."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import threading

import httpx
import pytest

from chaos import Harness, Target
from chaos._errors import NetworkNotAllowed
from tests.reliability._proc import listeners
from tests.reliability.test_cli_leftovers import ROOT

HOW = ("--chaos-allow-network", "chaos_allow_network", "LLM_CHAOS_ALLOW_NETWORK")
REAL = "https://api.anthropic.com"


def test_harness_listens_on_loopback_only() -> None:
    before = {s.inode for s in listeners(os.getpid())}
    with Harness(["anthropic", "openai"], backend="embedded") as h:
        ours = [s for s in listeners(os.getpid()) if s.inode not in before]
        # 2 gateway listeners + admin + 2 proxies + the embedded Toxiproxy API
        assert len(ours) == 6, ours
        assert {s.host for s in ours} == {"127.0.0.1"}
        assert all(url.startswith("http://127.0.0.1:") for url in h.endpoints.values())


@pytest.mark.parametrize(
    "upstream", [REAL, "http://10.1.2.3:8080", "http://0.0.0.0:9", "http://[2001:db8::1]/"]
)
def test_forwarding_to_a_network_host_is_refused_saying_how(upstream: str) -> None:
    harness = Harness([Target("anthropic", upstream=upstream)], backend="embedded")
    with pytest.raises(NetworkNotAllowed) as caught:
        harness.start()
    message = str(caught.value)
    assert upstream.rstrip("/") in message
    for way in HOW:
        assert way in message
    assert harness.gateway is None  # nothing left running


class _Upstream(http.server.BaseHTTPRequestHandler):
    """A stand-in provider on loopback: answers every POST with the path it was sent."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", 0)))
        body = json.dumps({"upstream_saw": self.path}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_upstreams_need_no_opt_in(host: str) -> None:
    server_class = type(
        "Server",
        (http.server.ThreadingHTTPServer,),
        {"address_family": socket.AF_INET6 if host == "[::1]" else socket.AF_INET},
    )
    with server_class(("::1" if host == "[::1]" else "127.0.0.1", 0), _Upstream) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            upstream = f"http://{host}:{server.server_address[1]}"
            with Harness([Target("anthropic", upstream=upstream)], backend="embedded") as h:
                answer = httpx.post(
                    h.endpoints["anthropic"].rstrip("/") + "/v1/messages",
                    json={"model": "claude-sonnet-4-6", "max_tokens": 8, "messages": []},
                    timeout=10,
                )
                journal = list(h.journal)
        finally:
            server.shutdown()
    # forwarded to the loopback upstream without allow_network: its answer, not the fake's
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"upstream_saw": "/v1/messages"}
    assert [(r.path, r.status) for r in journal] == [("/v1/messages", 200)]


# Python's audit events for every DNS lookup and connect in this process (threads
# included); an audit hook cannot be removed, so it records only while asked to.
_NET_EVENTS: list[tuple[str, object]] = []
_RECORDING: list[bool] = []


def _record_network(event: str, args: tuple[object, ...]) -> None:
    if _RECORDING and event in ("socket.getaddrinfo", "socket.connect"):
        _NET_EVENTS.append((event, args[0] if event == "socket.getaddrinfo" else args[1]))


sys.addaudithook(_record_network)


def _off_loopback(event: str, where: object) -> bool:
    host = where if isinstance(where, str) else where[0] if isinstance(where, tuple) else None
    return host not in ("127.0.0.1", "::1", "localhost")


def test_opting_in_starts_without_sending_anything() -> None:
    _NET_EVENTS.clear()
    _RECORDING.append(True)
    try:
        with Harness(
            [Target("anthropic", upstream=REAL)], backend="embedded", allow_network=True
        ) as h:
            started = list(h.endpoints)
            journal = list(h.journal)
    finally:
        _RECORDING.clear()
    assert started == ["anthropic"]
    assert journal == []  # no request went through
    # nor a lookup of, or a connection to, anything off loopback (api.anthropic.com)
    assert [e for e in _NET_EVENTS if _off_loopback(*e)] == []
    assert _NET_EVENTS  # the recorder works: the harness's own loopback traffic is seen


PLUGIN_TEST = """
def test_uses_the_harness(chaos):
    assert chaos.endpoints["anthropic"].startswith("http://127.0.0.1:")
"""


@pytest.mark.slow
@pytest.mark.parametrize(
    "opt_in",
    [None, ("cli", "--chaos-allow-network"), ("env", "1"), ("ini", "true")],
    ids=["refused", "flag", "env", "ini"],
)
def test_plugin_refuses_network_unless_opted_in(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, opt_in: tuple[str, str] | None
) -> None:
    for var in list(os.environ):
        if var.startswith(("LLM_CHAOS_", "ANTHROPIC_", "OPENAI_")):
            monkeypatch.delenv(var)
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    monkeypatch.setenv("LLM_CHAOS_BACKEND", "embedded")
    monkeypatch.setenv("LLM_CHAOS_TARGETS", f"anthropic = anthropic {REAL}")
    pytester.makepyfile(PLUGIN_TEST)
    args = ["-p", "no:cacheprovider"]
    if opt_in is not None:
        where, value = opt_in
        if where == "cli":
            args.append(value)
        elif where == "env":
            monkeypatch.setenv("LLM_CHAOS_ALLOW_NETWORK", value)
        else:
            pytester.makeini(f"[pytest]\nchaos_allow_network = {value}\n")
    result = pytester.runpytest_subprocess(*args)
    output = result.stdout.str() + result.stderr.str()
    assert "INTERNALERROR" not in output
    if opt_in is None:
        result.assert_outcomes(errors=1)
        for way in HOW:
            assert way in output
    else:
        result.assert_outcomes(passed=1)


def test_serve_refuses_network_with_one_message() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLM_CHAOS_")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "chaos",
            "serve",
            "--backend",
            "embedded",
            "--target",
            f"anthropic={REAL}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "--chaos-allow-network" in done.stderr or "--allow-network" in done.stderr
    assert done.stdout == ""


# -- the admin API and a real non-loopback client, in a network namespace of our own ---

NETNS_SCRIPT = """
import json, socket
from chaos.gateway import Gateway, TargetConfig

HEADERS = "host: x\\r\\nx-api-key: k\\r\\nanthropic-version: 2023-06-01\\r\\n"
HEADERS += "connection: close\\r\\n"

def get(host, port, source, path="/health"):
    with socket.socket() as s:
        s.settimeout(10)
        s.bind((source, 0))
        s.connect((host, port))
        s.sendall(f"GET {path} HTTP/1.1\\r\\n{HEADERS}\\r\\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\\r\\n\\r\\n")
    return int(head.split()[1]), body.decode()

out = {}
for remote in (False, True):
    with Gateway({"anthropic": TargetConfig("anthropic")}, host="0.0.0.0",
                 admin_remote=remote) as gw:
        admin = int(gw.admin_url.rsplit(":", 1)[1])
        target = int(gw.urls["anthropic"].rsplit(":", 1)[1])
        out[f"remote={remote}"] = {
            "from 10.77.0.2": get("10.77.0.1", admin, "10.77.0.2"),
            "from 127.0.0.1": get("127.0.0.1", admin, "127.0.0.1"),
            "target from 10.77.0.2": get("10.77.0.1", target, "10.77.0.2", "/v1/models")[0],
        }
print(json.dumps(out))
"""

SETUP = (
    "ip link set lo up && ip link add v0 type veth peer name v1 && "
    "ip addr add 10.77.0.1/24 dev v0 && ip addr add 10.77.0.2/24 dev v1 && "
    "ip link set v0 up && ip link set v1 up"
)


def test_admin_api_refuses_a_non_loopback_client() -> None:
    unshare = shutil.which("unshare")
    probe = (
        subprocess.run([unshare or "unshare", "--net", "true"], capture_output=True, timeout=30)
        if unshare
        else None
    )
    if probe is None or probe.returncode != 0 or not shutil.which("ip"):
        pytest.skip("needs unshare --net (root) and ip to make a private network namespace")
    done = subprocess.run(
        [
            "unshare",
            "--net",
            "sh",
            "-c",
            f'{SETUP} && exec "$0" -c "$1"',
            sys.executable,
            textwrap.dedent(NETNS_SCRIPT),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    status, body = out["remote=False"]["from 10.77.0.2"]
    assert status == 403
    assert "loopback clients only" in json.loads(body)["error"]
    assert out["remote=False"]["from 127.0.0.1"][0] == 200
    assert out["remote=False"]["target from 10.77.0.2"] == 200  # only the admin API is guarded
    assert out["remote=True"]["from 10.77.0.2"][0] == 200  # the opt-in works
