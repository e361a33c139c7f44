"""``binary``: a ``toxiproxy-server`` from PATH, run as our child process.

The child gets its own process group (stopped with ``killpg``, so a wrapper
script's children go too) and, on Linux, ``PR_SET_PDEATHSIG``: the kernel sends
it SIGKILL when the thread that started it dies, so a crashed test run leaves no
server behind. Its output goes to a temporary log whose tail is shown when it
fails to start.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable

from chaos._errors import BackendUnavailable
from chaos.toxiproxy._backends._base import (
    Backend,
    BackendInfo,
    BackendOptions,
    RunningBackend,
    free_port,
    wait_ready,
)
from chaos.toxiproxy._client import ToxiproxyClient

__all__ = ["EXECUTABLE", "BinaryBackend"]

EXECUTABLE = "toxiproxy-server"
"""The program looked up on PATH."""

READY_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0
_LOG_TAIL = 2000
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent_pid: int) -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child die with us (Linux only; else ``None``)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        # The parent may have died before prctl took effect.
        if os.getppid() != parent_pid:
            os._exit(1)

    return preexec


class BinaryBackend(Backend):
    """``toxiproxy-server -host 127.0.0.1 -port <free>`` as a child process."""

    name = "binary"

    def unavailable(self, options: BackendOptions) -> str | None:
        return None if shutil.which(EXECUTABLE) else f"no {EXECUTABLE} on PATH"

    def available_because(self, options: BackendOptions) -> str:
        return f"{shutil.which(EXECUTABLE)} on PATH"

    def start(self, options: BackendOptions, reason: str) -> RunningBackend:
        executable = shutil.which(EXECUTABLE)
        if executable is None:
            raise BackendUnavailable(
                f"no {EXECUTABLE} on PATH: install Toxiproxy "
                "(https://github.com/Shopify/toxiproxy/releases) or use --chaos-backend embedded"
            )
        port = free_port()
        command = [executable, "-host", "127.0.0.1", "-port", str(port)]
        if options.seed is not None:
            command += ["-seed", str(options.seed)]
        log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent(os.getpid()),
            )
        except OSError as exc:
            log.close()
            raise BackendUnavailable(
                f"cannot run {executable}: {exc}; use --chaos-backend embedded"
            ) from exc

        def log_tail() -> str:
            log.seek(0)
            text = log.read().decode("utf-8", "replace").strip()
            return text[-_LOG_TAIL:] or "(no output)"

        def exited() -> str | None:
            code = process.poll()
            if code is None:
                return None
            return f"{executable} exited with {code} before answering; its output:\n{log_tail()}"

        def stop() -> None:
            try:
                _kill_group(process)
            finally:
                log.close()

        client = ToxiproxyClient(f"http://127.0.0.1:{port}")
        info = BackendInfo(self.name, f"{reason} (pid {process.pid})", client.url)
        running = RunningBackend(info, stop)
        try:
            wait_ready(running.client, READY_TIMEOUT, still_alive=exited)
        except BackendUnavailable as exc:
            running.stop()
            raise BackendUnavailable(
                f"{exc}\n(use --chaos-backend embedded to go without it)"
            ) from None
        except BaseException:
            running.stop()
            raise
        return running


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the child's process group, SIGKILL it if it lingers, and reap the child."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(STOP_TIMEOUT)
            break
        except subprocess.TimeoutExpired:
            continue
    # Children of a wrapper script may outlive the leader: finish the group off.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
