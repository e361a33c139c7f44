"""The server's command line: ``python3 -m chaos.toxiproxy`` and ``llm-chaos toxiproxy-server``.

The subprocess runs with ``python -S`` (no site-packages at all), which proves
the server needs nothing but the standard library.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from chaos.cli import main as llm_chaos
from chaos.toxiproxy._server_cli import main as server_main
from tests.toxiproxy._server_support import EchoServer, connect, echo, recv_until_closed, round_trip

__all__ = ["echo"]  # fixtures used by this module

ROOT = Path(__file__).resolve().parents[2]


class ServerProcess:
    """``python -S -m chaos.toxiproxy ...`` with its JSON log lines on stdout."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen(
            [sys.executable, "-S", "-m", "chaos.toxiproxy", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd="/",
            text=True,
        )
        self.lines: list[dict] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def wait_line(self, message: str, timeout: float = 10.0) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines:
                if line.get("message") == message:
                    return line
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no log line {message!r} in {self.lines}")
            try:
                text = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if text is None:
                raise AssertionError(f"server exited without {message!r}: {self.lines}")
            self.lines.append(json.loads(text))

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.proc.stdout:
            for text in self.proc.stdout:
                self._queue.put(text)
        self._queue.put(None)

    def url(self) -> str:
        line = self.wait_line("Starting Toxiproxy HTTP server")
        return f"http://127.0.0.1:{line['port']}"

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(10)
        finally:
            self._reader.join(5)
            if self.proc.stderr is not None:
                self.proc.stderr.close()


@pytest.fixture
def server_process() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    try:
        yield started
    finally:
        for process in started:
            if process.proc.poll() is None:
                process.proc.kill()
            process.stop()


def http(method: str, url: str, body: object = None) -> tuple[int, bytes]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_bare_python_server_serves_and_stops_cleanly_on_sigterm(
    server_process: list[ServerProcess], echo: EchoServer
) -> None:
    server = ServerProcess("-port", "0", "-seed", "5")
    server_process.append(server)
    url = server.url()
    assert http("GET", url + "/version") == (200, b'{"version": "2.12.0"}\n')
    status, body = http(
        "POST", url + "/proxies", {"name": "sig", "upstream": echo.address, "listen": "127.0.0.1:0"}
    )
    assert status == 201
    listen = json.loads(body)["listen"]
    with connect(listen) as sock:
        round_trip(sock)
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(10) == 0
        assert recv_until_closed(sock, 5)[0] == b""  # the connection was closed, not leaked
    with pytest.raises(ConnectionRefusedError):
        connect(listen, timeout=2)
    server.wait_line("Shutting down Toxiproxy")
    messages = [line["message"] for line in server.lines]
    assert "Started proxy" in messages


def test_config_file_populates_at_start(
    server_process: list[ServerProcess], echo: EchoServer, tmp_path: Path
) -> None:
    config = tmp_path / "toxiproxy.json"
    config.write_text(
        json.dumps([{"name": "from_config", "upstream": echo.address, "listen": "127.0.0.1:0"}])
    )
    server = ServerProcess("-port", "0", "-config", str(config))
    server_process.append(server)
    url = server.url()
    server.wait_line("Populated proxies from file")
    status, body = http("GET", url + "/proxies/from_config")
    assert status == 200
    with connect(json.loads(body)["listen"]) as sock:
        round_trip(sock)
    assert server.stop() == 0


def test_bad_config_file_is_logged_and_server_keeps_running(
    server_process: list[ServerProcess], tmp_path: Path
) -> None:
    config = tmp_path / "broken.json"
    config.write_text('[{"upstream": "127.0.0.1:1"}]')
    server = ServerProcess("--port", "0", "--config", str(config))
    server_process.append(server)
    url = server.url()
    line = server.wait_line("Failed to populate proxies from file")
    assert line["level"] == "error"
    assert line["error"] == "missing required field: name at proxy 1"
    assert http("GET", url + "/proxies") == (200, b"{}")


def test_api_port_in_use_is_one_line_and_exit_2() -> None:
    holder = socket.create_server(("127.0.0.1", 0))
    try:
        port = holder.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-S", "-m", "chaos.toxiproxy", "-port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
    finally:
        holder.close()
    assert result.returncode == 2
    assert result.stderr == (
        f"toxiproxy-server: error: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def test_version_flag(capsys: pytest.CaptureFixture[str]) -> None:
    assert server_main(["-version"]) == 0
    assert capsys.readouterr().out == "toxiproxy-server version 2.12.0\n"


@pytest.mark.parametrize("flag", ["-h", "-help", "--help"])
def test_help_lists_toxiproxy_flags(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        server_main([flag])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("-host HOST, --host HOST", "-port PORT, --port PORT", "-config FILE", "-seed N"):
        assert option in out
    assert "127.0.0.1" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-nope"], "unrecognized arguments: -nope"),
        (["-port", "http"], "argument -port/--port: invalid port 'http': not a number"),
        (["-port", "70000"], "argument -port/--port: invalid port 70000: must be 0-65535"),
        (["-seed", "x"], "argument -seed/--seed: invalid int value: 'x'"),
    ],
)
def test_bad_flags_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        server_main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_llm_chaos_verb_help_and_bad_flag(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        llm_chaos(["toxiproxy-server", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: llm-chaos toxiproxy-server" in out
    assert "-host HOST, --host HOST" in out
    with pytest.raises(SystemExit) as exit_info:
        llm_chaos(["toxiproxy-server", "-port", "-1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid port -1: must be 0-65535" in err


def test_go_style_flag_forms_parse() -> None:
    import argparse

    from chaos.toxiproxy._server_cli import add_arguments

    parser = argparse.ArgumentParser(allow_abbrev=False)
    add_arguments(parser)
    args = parser.parse_args(["-host=0.0.0.0", "--port=9000", "-seed", "42", "-config", "x.json"])
    assert (args.host, args.port, args.seed, args.config) == ("0.0.0.0", 9000, 42, "x.json")
    defaults = parser.parse_args([])
    assert (defaults.host, defaults.port, defaults.seed) == ("127.0.0.1", 8474, None)
