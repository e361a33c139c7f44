"""Toxiproxy data-path benchmark: direct vs through a proxy, side by side in one run.

For each target (direct TCP, the embedded server started here as its own
process, and any ``--url`` Toxiproxy), over a proxy with no toxics:

- round trip: ``--pings`` ping-pongs of ``--size`` bytes over one connection
  (p50 and p99, after a warm-up);
- bulk: ``--bulk-mb`` MB sent through one connection to a sink that answers
  once it has them all (MB/s, 1 MB = 10^6 bytes).

The upstream echo and sink servers run in a separate process (blocking
sockets, a thread per connection), and so does the embedded server, so the
client, the proxy and the upstream do not share one interpreter. Ratios are
against direct. Every socket has a timeout, so a run is bounded.

    python bench/toxiproxy_datapath.py [--pings 2000] [--bulk-mb 200] [--url URL]...
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60.0


# upstream servers (run in their own process with --upstreams)


def _echo(conn: socket.socket) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)


def _sink(conn: socket.socket) -> None:
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buffer = bytearray(1 << 20)
    view = memoryview(buffer)
    with conn:
        header = b""
        while len(header) < 8:
            chunk = conn.recv(8 - len(header))
            if not chunk:
                return
            header += chunk
        (remaining,) = struct.unpack("!Q", header)
        while remaining > 0:
            got = conn.recv_into(view, min(len(buffer), remaining))
            if not got:
                return
            remaining -= got
        conn.sendall(b"k")


def _serve(handler) -> int:  # type: ignore[no-untyped-def]
    server = socket.create_server(("127.0.0.1", 0), backlog=64)

    def loop() -> None:
        while True:
            conn, _ = server.accept()
            threading.Thread(target=handler, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return int(server.getsockname()[1])


def run_upstreams() -> None:
    ports = {"echo": _serve(_echo), "sink": _serve(_sink)}
    print(json.dumps(ports), flush=True)
    sys.stdin.read()  # until the parent closes our stdin


# measurements


def _connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _recv_exactly(sock: socket.socket, size: int) -> None:
    got = 0
    while got < size:
        data = sock.recv(size - got)
        if not data:
            raise ConnectionError("closed during the benchmark")
        got += len(data)


def round_trips(address: tuple[str, int], pings: int, size: int) -> list[float]:
    """Round-trip times in microseconds (after a warm-up of a tenth as many)."""
    payload = b"p" * size
    samples: list[float] = []
    with _connect(address) as sock:
        for index in range(pings + pings // 10):
            start = time.perf_counter()
            sock.sendall(payload)
            _recv_exactly(sock, size)
            if index >= pings // 10:
                samples.append((time.perf_counter() - start) * 1e6)
    return samples


def percentile(samples: list[float], fraction: float) -> float:
    """The ``fraction`` percentile of ``samples`` (nearest rank)."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def bulk(address: tuple[str, int], megabytes: float) -> float:
    """Seconds to send ``megabytes`` (10^6 bytes) through one connection to the sink."""
    total = int(megabytes * 1_000_000)
    block = memoryview(b"\x00" * (1 << 20))
    with _connect(address) as sock:
        start = time.perf_counter()
        sock.sendall(struct.pack("!Q", total))
        sent = 0
        while sent < total:
            step = min(len(block), total - sent)
            sock.sendall(block[:step])
            sent += step
        _recv_exactly(sock, 1)
        return time.perf_counter() - start


# Toxiproxy servers


def _api(url: str, method: str, path: str, body: object | None = None) -> dict:  # type: ignore[type-arg]
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    with urllib.request.urlopen(request, timeout=10) as response:
        raw = response.read()
    return json.loads(raw) if raw else {}


def _proxy(url: str, name: str, upstream_port: int) -> tuple[str, int]:
    with contextlib.suppress(urllib.error.HTTPError):
        _api(url, "DELETE", f"/proxies/{name}")
    proxy = _api(
        url,
        "POST",
        "/proxies",
        {"name": name, "listen": "127.0.0.1:0", "upstream": f"127.0.0.1:{upstream_port}"},
    )
    host, port = proxy["listen"].rsplit(":", 1)
    return ("127.0.0.1" if host in ("[::]", "0.0.0.0", "") else host.strip("[]")), int(port)


def start_embedded() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "chaos.toxiproxy", "-port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = json.loads(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{line['port']}"


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` (Linux ``/proc``), or ``None``."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pings", type=int, default=2000, help="round trips (default 2000)")
    parser.add_argument("--size", type=int, default=64, help="bytes per ping (default 64)")
    parser.add_argument("--bulk-mb", type=int, default=200, help="MB for bulk (default 200)")
    parser.add_argument(
        "--url", action="append", default=[], help="another Toxiproxy API to compare (repeatable)"
    )
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument("--no-embedded", action="store_true", help="skip the embedded server")
    parser.add_argument("--upstreams", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.upstreams:
        run_upstreams()
        return 0

    upstreams = subprocess.Popen(
        [sys.executable, __file__, "--upstreams"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert upstreams.stdout is not None
    ports = json.loads(upstreams.stdout.readline())
    servers: list[tuple[str, str]] = []
    embedded = None
    if not args.no_embedded:
        embedded, url = start_embedded()
        servers.append(("embedded", url))
    servers += [(url, url.rstrip("/")) for url in args.url]

    print(f"machine: {machine()}")
    print("load average: " + " ".join(f"{value:.2f}" for value in os.getloadavg()))
    print(
        f"round trip: {args.pings} x {args.size} B over one connection per round; "
        f"bulk: {args.bulk_mb} MB; {args.rounds} rounds, targets interleaved\n"
    )
    samples: dict[str, list[float]] = {}
    seconds: dict[str, float] = {}
    rt_cpu = bulk_cpu = 0.0  # CPU seconds the embedded server's process spent
    try:
        targets = {"direct": (("127.0.0.1", ports["echo"]), ("127.0.0.1", ports["sink"]))}
        for label, url in servers:
            targets[label] = (
                _proxy(url, "bench_echo", ports["echo"]),
                _proxy(url, "bench_sink", ports["sink"]),
            )
        # interleaving rounds spreads the noise of a shared machine over every target
        for _ in range(args.rounds):
            for label, (echo, sink) in targets.items():
                pid = embedded.pid if (embedded is not None and label == "embedded") else None
                before = cpu_seconds(pid) if pid else None
                times = round_trips(echo, args.pings // args.rounds, args.size)
                middle = cpu_seconds(pid) if pid else None
                samples.setdefault(label, []).extend(times)
                seconds[label] = seconds.get(label, 0.0) + bulk(sink, args.bulk_mb / args.rounds)
                after = cpu_seconds(pid) if pid else None
                if before is not None and middle is not None and after is not None:
                    rt_cpu += middle - before
                    bulk_cpu += after - middle
        for _label, url in servers:
            for name in ("bench_echo", "bench_sink"):
                _api(url, "DELETE", f"/proxies/{name}")
    finally:
        if embedded is not None:
            embedded.terminate()
            embedded.wait(10)
        assert upstreams.stdin is not None
        upstreams.stdin.close()
        upstreams.wait(10)

    rates = {label: args.bulk_mb / spent for label, spent in seconds.items()}
    base = samples["direct"]
    base_p50, base_p99 = percentile(base, 0.5), percentile(base, 0.99)
    header = f"{'target':<28} {'p50 us':>9} {'p99 us':>9} {'MB/s':>9}"
    print(header + f" {'p50 x':>7} {'p99 x':>7} {'bulk x':>7}")
    for label, times in samples.items():
        p50, p99 = percentile(times, 0.5), percentile(times, 0.99)
        print(
            f"{label:<28} {p50:9.1f} {p99:9.1f} {rates[label]:9.1f} "
            f"{p50 / base_p50:7.2f} {p99 / base_p99:7.2f} {rates[label] / rates['direct']:7.2f}"
        )
    if embedded is not None and rt_cpu:
        pings = (args.pings // args.rounds) * args.rounds * 1.1  # with the warm-ups
        print(
            f"\nembedded server CPU: {rt_cpu / pings * 1e6:.1f} us per round trip, "
            f"{bulk_cpu / args.bulk_mb * 1e3:.2f} ms per MB"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
