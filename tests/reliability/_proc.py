"""What a process left behind, read from ``/proc``: processes by an env marker, listening
sockets (address, port, owning pid) and Docker containers by label. Linux only."""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")

MARK_VAR = "LLM_CHAOS_RELIABILITY_MARK"
"""Every process a test starts carries this variable; its children inherit it."""


@dataclass(frozen=True)
class Listener:
    """One listening TCP socket."""

    host: str
    port: int
    inode: int


def _hex_addr(text: str) -> tuple[str, int]:
    addr, port = text.split(":")
    raw = bytes.fromhex(addr)
    if len(raw) == 4:
        host = socket.inet_ntop(socket.AF_INET, raw[::-1])
    else:  # tcp6: four little-endian 32-bit words
        words = b"".join(raw[i : i + 4][::-1] for i in range(0, 16, 4))
        host = socket.inet_ntop(socket.AF_INET6, words)
    return host, int(port, 16)


def listeners(pid: int | None = None) -> list[Listener]:
    """Every listening TCP socket on this machine (of ``pid`` only, when given)."""
    out = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError), open(table) as f:
            next(f)
            for line in f:
                fields = line.split()
                if fields[3] != "0A":  # LISTEN
                    continue
                host, port = _hex_addr(fields[1])
                out.append(Listener(host, port, int(fields[9])))
    if pid is not None:
        owned = socket_inodes(pid)
        out = [s for s in out if s.inode in owned]
    return out


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets ``pid`` holds open."""
    inodes = set()
    with contextlib.suppress(FileNotFoundError, ProcessLookupError, PermissionError):
        for fd in os.listdir(f"/proc/{pid}/fd"):
            with contextlib.suppress(OSError):
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
                if target.startswith("socket:["):
                    inodes.add(int(target[8:-1]))
    return inodes


def marked_processes(mark: str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose environment carries ``mark``."""
    needle = f"{MARK_VAR}={mark}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = f.read()
            with open(f"/proc/{entry}/stat", "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if state != b"Z" and needle in env.split(b"\0"):
            found.append((int(entry), cmd.strip()))
    return found


def port_of(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None, url
    assert parts.port is not None, url
    return parts.hostname, parts.port


def listening(url: str) -> bool:
    """Whether something listens at ``url``'s host and port (from the kernel's table)."""
    host, port = port_of(url)
    return any(s.port == port and s.host in (host, "0.0.0.0", "::") for s in listeners())


def eventually(check: Callable[[], T], timeout: float = 30.0, interval: float = 0.1) -> T:
    """Poll ``check`` until it returns a falsy value (nothing left) or ``timeout`` passes;
    return the last value, so a caller asserts it is empty."""
    deadline = time.monotonic() + timeout
    value = check()
    while value and time.monotonic() < deadline:
        time.sleep(interval)
        value = check()
    return value


def leftovers_of(urls: Iterable[str]) -> list[str]:
    """The URLs among ``urls`` that still have a listener."""
    return [u for u in urls if listening(u)]
