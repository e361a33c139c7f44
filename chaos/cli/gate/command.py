"""Running the gate's command: in its own process group, with a timeout, leaving nothing behind.

Part of the CI gate (:mod:`chaos.cli.gate`); ``llm-chaos cassette`` runs its command
the same way.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from chaos.common._reaper import Reaper

__all__ = ["EXIT_NOT_EXECUTABLE", "EXIT_NOT_FOUND", "CommandResult", "run_command", "shown"]

EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126
_KILL_GRACE_S = 3.0


@dataclass(frozen=True)
class CommandResult:
    """How the command ended.

    :param returncode: its exit status; for a signal, ``128 + signal number``
        (as a shell reports it); 127 not found, 126 not executable.
    :param duration: seconds it ran.
    :param signal: the name of the signal that killed it (``SIGKILL``...), if one did.
    :param timed_out: the gate killed it on ``--timeout``.
    :param error: why it could not start (not found, not executable), if so.
    """

    returncode: int
    duration: float
    signal: str | None = None
    timed_out: bool = False
    error: str | None = None


def run_command(
    command: Sequence[str],
    *,
    env: Mapping[str, str],
    timeout: float | None = None,
    cwd: str | os.PathLike[str] | None = None,
) -> CommandResult:
    """Run ``command`` in its own process group and wait for it.

    On ``timeout`` or Ctrl-C the whole group (the command and its children) is
    sent SIGTERM, then SIGKILL after a grace period; Ctrl-C is re-raised. Children
    left behind by a command that exited are killed too.
    """
    started = time.monotonic()
    try:
        proc = subprocess.Popen(list(command), env=dict(env), cwd=cwd, start_new_session=True)
    except FileNotFoundError:
        return CommandResult(
            EXIT_NOT_FOUND,
            time.monotonic() - started,
            error=f"command not found: {command[0]}",
        )
    except PermissionError:
        return CommandResult(
            EXIT_NOT_EXECUTABLE,
            time.monotonic() - started,
            error=f"permission denied: {command[0]} is not executable",
        )
    except OSError as exc:
        return CommandResult(
            EXIT_NOT_EXECUTABLE,
            time.monotonic() - started,
            error=f"cannot run {command[0]}: {exc.strerror or exc}",
        )
    # in its own session, the group would outlive a SIGKILLed gate: a watchdog ends it
    reaper = Reaper()
    reaper.watch(kind="group", pgid=str(proc.pid))
    timed_out = False
    try:
        rc = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _end_group(proc, signal.SIGTERM)
        rc = proc.wait()
    except BaseException:  # Ctrl-C, SIGTERM turned into an exception: take the group down
        _end_group(proc, signal.SIGINT)
        reaper.release()
        raise
    _kill_leftovers(proc.pid)
    reaper.release()
    duration = time.monotonic() - started
    if rc < 0:
        name = _signal_name(-rc)
        return CommandResult(128 - rc, duration, signal=name, timed_out=timed_out)
    return CommandResult(rc, duration, timed_out=timed_out)


def _end_group(proc: subprocess.Popen[bytes], first: signal.Signals) -> None:
    """``first`` to the process group, then SIGKILL if it is still there after a grace."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, first)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_KILL_GRACE_S)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=_KILL_GRACE_S)


def _kill_leftovers(pgid: int) -> None:
    # the group id is the command's pid, which the kernel does not reuse while
    # the group still has members: this reaches only the command's own children
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def shown(command: Sequence[str]) -> str:
    """``command`` as a shell line (for messages and reports)."""
    return shlex.join(command)
