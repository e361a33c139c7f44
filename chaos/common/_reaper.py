"""A watchdog process that removes what a dead harness left outside its own process.

The gateway and an embedded Toxiproxy live in the harness's process and die with
it; a ``binary`` Toxiproxy dies with it too (``PR_SET_PDEATHSIG``). These do not:
proxies created on an *external* Toxiproxy, a *Docker* container, and a child
process group started in its own session. When the process ends without
cleaning up (SIGKILL, a SIGTERM nobody handles, ``os._exit``), :class:`Reaper`'s
child sees the pipe from its parent close without the word ``done`` and removes
them.

The child is a few lines of standard-library Python (``python -I -c``), in its own
session so a Ctrl-C meant for the test run does not reach it, and it lives only
while there is something to watch.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading

__all__ = ["Reaper"]

_STOP_TIMEOUT = 5.0

# Runs in the child. Reads one JSON task per line until "done" (a clean stop: do
# nothing) or EOF (the parent died: undo every task), then exits.
_SCRIPT = r"""
import http.client, json, os, signal, socket, sys, urllib.parse, urllib.request

signal.signal(signal.SIGINT, signal.SIG_IGN)
tasks = []
for line in sys.stdin:
    line = line.strip()
    if line == "done":
        sys.exit(0)
    if line:
        tasks.append(json.loads(line))


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.unix_path)


def remove_container(daemon, name):
    if daemon.startswith("unix://"):
        conn = UnixConnection(daemon[len("unix://"):])
    elif daemon.startswith("tcp://"):
        host, _, port = daemon[len("tcp://"):].rstrip("/").rpartition(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
    else:
        return
    conn.request("DELETE", "/containers/" + urllib.parse.quote(name) + "?force=true")
    conn.getresponse().read()
    conn.close()


for task in tasks:
    try:
        if task["kind"] == "proxy":
            url = task["api"] + "/proxies/" + urllib.parse.quote(task["name"], safe="")
            urllib.request.urlopen(urllib.request.Request(url, method="DELETE"), timeout=10).close()
        elif task["kind"] == "container":
            remove_container(task["daemon"], task["name"])
        elif task["kind"] == "group":
            os.killpg(int(task["pgid"]), signal.SIGKILL)
    except Exception:
        pass
"""


class Reaper:
    """Undoes registered leftovers if this process dies before :meth:`release`.

    ``watch(kind="proxy", api=URL, name=NAME)`` deletes a Toxiproxy proxy;
    ``watch(kind="container", daemon=DOCKER_HOST, name=NAME)`` force-removes a
    container; ``watch(kind="group", pgid=PGID)`` kills a process group (a child
    started with ``start_new_session=True`` and its own children). The watchdog
    process starts on the first :meth:`watch`.
    """

    def __init__(self) -> None:
        self._proc: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def watch(self, **task: str) -> None:
        """Remove this leftover should the process die without :meth:`release`."""
        line = json.dumps(task).encode() + b"\n"
        with self._lock:
            if self._proc is None:
                self._proc = subprocess.Popen(
                    [sys.executable, "-I", "-c", _SCRIPT],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            assert self._proc.stdin is not None
            with contextlib.suppress(OSError):
                self._proc.stdin.write(line)
                self._proc.stdin.flush()

    def release(self) -> None:
        """The owner cleaned up itself: end the watchdog without it doing anything."""
        with self._lock:
            proc, self._proc = self._proc, None
        if proc is None:
            return
        assert proc.stdin is not None
        with contextlib.suppress(OSError):
            proc.stdin.write(b"done\n")
        with contextlib.suppress(OSError):
            proc.stdin.close()
        try:
            proc.wait(_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
