"""Gateway benchmark: the fake alone, through the gateway, through Toxiproxy + the gateway.

Side by side in one run, for non-streaming calls, streams and fault-answered
requests: requests/s, p50/p99 latency, SSE events/s, and the server's CPU time
per request (and per event). The servers run in a subprocess whose CPU time is
read with ``resource.getrusage``; the client is lean (raw asyncio sockets,
keep-alive, chunked framing parsed from its own buffer), so it is not the
bottleneck the way one httpx client would be. Every scenario runs ``--repeat``
times (servers restarted each round); the table gives medians and the CPU range.

    python bench/gateway.py            # full run (about a minute)
    python bench/gateway.py --quick    # smaller counts, for a smoke check
    python bench/gateway.py --pin      # server on CPU 0, client on CPU 1
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

PROMPT = " ".join(["word"] * 40)  # the fake echoes up to 40 words: ~47 events per stream
BODY = {
    "model": "claude-opus-4-6",
    "max_tokens": 512,
    "messages": [{"role": "user", "content": PROMPT}],
}


def _request(stream: bool, dialect: str = "anthropic") -> bytes:
    if dialect == "openai":
        payload = {"model": "gpt-4o", "messages": BODY["messages"], "stream": stream}
        body = json.dumps(payload).encode()
        head = (
            "POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\n"
            "content-type: application/json\r\nauthorization: Bearer k\r\n"
            f"content-length: {len(body)}\r\n\r\n"
        )
        return head.encode() + body
    body = json.dumps({**BODY, "stream": stream}).encode()
    head = (
        "POST /v1/messages HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
        "x-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


# -- server side (a subprocess) ----------------------------------------------------------


SYNTHETIC_EVENTS = 500


def _synthetic_dialect() -> object:
    """The Anthropic dialect with a fake whose stream is 500 pre-rendered frames: measures what
    the gateway itself costs per event, without the fake's own event generation."""
    from chaos.providers import DIALECTS, Response

    if "anthropic" not in DIALECTS:
        import chaos.providers.anthropic  # noqa: F401
    base = DIALECTS["anthropic"]
    frames = [
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,'
        b'"delta":{"type":"text_delta","text":" word%d"}}\n\n' % i
        for i in range(SYNTHETIC_EVENTS - 1)
    ] + [b'event: message_stop\ndata: {"type":"message_stop"}\n\n']

    async def events():  # type: ignore[no-untyped-def]
        for frame in frames:
            yield frame

    class Synthetic(base):  # type: ignore[misc,valid-type]
        async def serve(self, request):  # type: ignore[no-untyped-def]
            return Response(200, [("content-type", "text/event-stream")], events=events())

    return Synthetic()


def serve(toxiproxy: bool, pin: bool) -> None:
    """Run the gateway (and Toxiproxy in front when asked); obey JSON commands on stdin."""
    if pin:
        os.sched_setaffinity(0, {0})
    from chaos.faults import ErrorAction, Fault
    from chaos.gateway import Gateway, TargetConfig

    gw = Gateway(
        {
            "anthropic": TargetConfig("anthropic"),
            "openai": TargetConfig("openai"),
            "synthetic": TargetConfig(_synthetic_dialect()),  # type: ignore[arg-type]
        },
        seed=0,
        admin=False,
    )
    gw.start_in_thread()
    urls = gw.urls
    backend = None
    if toxiproxy:
        from chaos.toxiproxy import start_backend

        backend = start_backend("embedded")
        for name in list(urls):
            proxy = backend.client.create_proxy(f"bench-{name}", urls[name].removeprefix("http://"))
            urls[name] = f"http://{proxy.listen_host}:{proxy.listen_port}"
    loop = gw.loop
    ready = {"url": urls["anthropic"], "synthetic": urls["synthetic"], "openai": urls["openai"]}
    print(json.dumps({**ready, "loop": type(loop).__module__.split(".")[0]}), flush=True)
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "fault":
            gw.set_faults(
                [
                    Fault("anthropic", ErrorAction("overloaded")),
                    Fault("openai", ErrorAction("server_error")),
                ]
            )
        elif command["op"] == "clear":
            gw.clear()
        elif command["op"] == "cpu":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            print(json.dumps({"cpu": usage.ru_utime + usage.ru_stime}), flush=True)
        elif command["op"] == "quit":
            break
    if backend is not None:
        backend.stop()
    gw.stop()


class Server:
    """The server subprocess, driven over stdin/stdout."""

    def __init__(self, toxiproxy: bool, pin: bool = False) -> None:
        args = [sys.executable, __file__, "--serve"] + (["--toxiproxy"] if toxiproxy else [])
        args += ["--pin"] if pin else []
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        ready = json.loads(self.proc.stdout.readline())
        self.url, self.loop = ready["url"], ready["loop"]
        self.synthetic = ready["synthetic"]
        self.openai = ready["openai"]

    def send(self, op: str) -> dict | None:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"op": op}) + "\n")
        self.proc.stdin.flush()
        return json.loads(self.proc.stdout.readline()) if op == "cpu" else None

    def cpu(self) -> float:
        answer = self.send("cpu")
        assert answer is not None
        return float(answer["cpu"])

    def close(self) -> None:
        self.send("quit")
        self.proc.wait(timeout=30)


# -- client side ---------------------------------------------------------------------------


class _Responses:
    """Reads responses off one connection, parsing the framing from its own buffer (two
    awaits per chunk through ``StreamReader`` made the client the bottleneck)."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self.reader = reader
        self.buf = bytearray()

    async def _more(self) -> None:
        data = await self.reader.read(262144)
        if not data:
            raise ConnectionError("the server closed the connection")
        self.buf += data

    async def next(self) -> tuple[int, int]:
        """Read one response; (status, chunks seen = SSE events for a stream)."""
        buf = self.buf
        while (end := buf.find(b"\r\n\r\n")) < 0:
            await self._more()
        head = bytes(buf[:end]).lower()
        status = int(head[9:12])
        pos = end + 4
        if b"transfer-encoding: chunked" in head:
            chunks = 0
            while True:
                eol = buf.find(b"\r\n", pos)
                if eol < 0:
                    await self._more()
                    continue
                size = int(buf[pos:eol], 16)
                if len(buf) < eol + size + 4:
                    await self._more()
                    continue
                pos = eol + size + 4
                if size == 0:
                    del buf[:pos]
                    return status, chunks
                chunks += 1
        length = int(head.split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(buf) < pos + length:
            await self._more()
        del buf[: pos + length]
        return status, 0


@dataclass
class Result:
    requests: int
    seconds: float
    latencies: list[float]
    events: int
    cpu: float  # server CPU seconds (or in-process CPU for the fake alone)

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.requests * 1e6

    @property
    def p50_ms(self) -> float:
        return statistics.median(self.latencies) * 1000

    @property
    def p99_ms(self) -> float:
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


def row(name: str, runs: list[Result]) -> list[str]:
    """One table row: medians over the runs, and the range of the server CPU per request."""

    def med(values: list[float]) -> float:
        return statistics.median(values)

    cpu = [r.cpu_us for r in runs]
    events = runs[0].events > 0
    per_event = [r.cpu / r.events * 1e6 for r in runs] if events else []
    return [
        name,
        f"{med([r.requests / r.seconds for r in runs]):,.0f}",
        f"{med([r.p50_ms for r in runs]):.3f}",
        f"{med([r.p99_ms for r in runs]):.3f}",
        f"{med([r.events_per_s for r in runs]):,.0f}" if events else "-",
        f"{med(cpu):.0f}" + (f" ({min(cpu):.0f}-{max(cpu):.0f})" if len(cpu) > 1 else ""),
        f"{med(per_event):.1f}" if events else "-",
    ]


async def _drive(
    url: str, payload: bytes, total: int, concurrency: int
) -> tuple[float, list[float], int]:
    parts = urlsplit(url)
    latencies: list[float] = []
    events = 0
    per_conn = total // concurrency

    async def one() -> None:
        nonlocal events
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        responses = _Responses(reader)
        for _ in range(per_conn):
            start = time.perf_counter()
            writer.write(payload)
            _, chunks = await responses.next()
            latencies.append(time.perf_counter() - start)
            events += chunks
        writer.close()
        await writer.wait_closed()

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(concurrency)))
    return time.perf_counter() - start, latencies, events


def measure(
    server: Server, payload: bytes, total: int, concurrency: int, url: str | None = None
) -> Result:
    url = url or server.url
    asyncio.run(_drive(url, payload, max(concurrency, total // 20), concurrency))  # warm
    before = server.cpu()
    seconds, _, events = asyncio.run(_drive(url, payload, total, concurrency))
    cpu = server.cpu() - before
    # latency: one connection, one request at a time (no queueing in the numbers)
    _, latencies, _ = asyncio.run(_drive(url, payload, max(20, total // 10), 1))
    n = (total // concurrency) * concurrency
    return Result(n, seconds, latencies, events, cpu)


def measure_fake(stream: bool, total: int, name: str = "anthropic") -> Result:
    """The fake provider alone: ``dialect.serve`` called in process, no socket."""
    import importlib

    from chaos.providers import DIALECTS, Request

    importlib.import_module(f"chaos.providers.{name}")  # dialects register on import
    dialect = DIALECTS[name]()
    payload = _request(stream, name)
    head, _, body = payload.partition(b"\r\n\r\n")
    headers = [tuple(line.split(": ", 1)) for line in head.decode().split("\r\n")[1:]]
    path = head.decode().split(" ")[1]

    async def run() -> tuple[float, list[float], int, float]:
        latencies = []
        events = 0
        cpu0, t0 = time.process_time(), time.perf_counter()
        for _ in range(total):
            start = time.perf_counter()
            response = await dialect.serve(Request("POST", path, headers, body))
            if response.events is not None:
                async for _frame in response.events:
                    events += 1
            latencies.append(time.perf_counter() - start)
        return time.perf_counter() - t0, latencies, events, time.process_time() - cpu0

    seconds, latencies, events, cpu = asyncio.run(run())
    return Result(total, seconds, latencies, events, cpu)


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return (
        f"{model}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--toxiproxy", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--quick", action="store_true", help="small counts (smoke check)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="rounds (medians are reported)")
    parser.add_argument("--pin", action="store_true", help="server on CPU 0, client on CPU 1")
    args = parser.parse_args()
    if args.serve:
        serve(args.toxiproxy, args.pin)
        return
    if args.pin:
        os.sched_setaffinity(0, {1})
    scale = 0.1 if args.quick else 1.0
    n_plain, n_stream, n_fault = int(4000 * scale), int(800 * scale), int(8000 * scale)
    n_synth = int(160 * scale)
    c = args.concurrency
    results: dict[str, list[Result]] = {}
    names: dict[str, str] = {}
    loop = "?"
    loads = [os.getloadavg()[0]]
    began = time.perf_counter()

    def add(key: str, name: str, result: Result) -> None:
        results.setdefault(key, []).append(result)
        names[key] = name

    for _ in range(max(1, args.repeat)):
        for workload, stream, n in (("non-streaming", False, n_plain), ("stream", True, n_stream)):
            add(f"fake/{workload}", f"{workload}: fake alone (in process)", measure_fake(stream, n))
        result = measure_fake(False, n_plain, "openai")
        add("fake/openai", "non-streaming (OpenAI chat): fake alone (in process)", result)
        for label, toxi in (("gateway", False), ("toxiproxy + gateway", True)):
            server = Server(toxi, args.pin)
            loop = server.loop
            try:
                for workload, stream, n in (
                    ("non-streaming", False, n_plain),
                    ("stream", True, n_stream),
                ):
                    result = measure(server, _request(stream), n, c)
                    add(f"{label}/{workload}", f"{workload}: {label}", result)
                result = measure(server, _request(False, "openai"), n_plain, c, server.openai)
                add(f"{label}/openai", f"non-streaming (OpenAI chat): {label}", result)
                result = measure(server, _request(True), n_synth, c, server.synthetic)
                add(
                    f"{label}/synthetic",
                    f"stream of {SYNTHETIC_EVENTS} pre-rendered frames: {label}",
                    result,
                )
                server.send("fault")
                result = measure(server, _request(False), n_fault, c)
                add(f"{label}/fault", f"fault answer (error: overloaded): {label}", result)
                result = measure(server, _request(False, "openai"), n_fault, c, server.openai)
                add(
                    f"{label}/fault-openai",
                    f"fault answer (OpenAI error: server_error): {label}",
                    result,
                )
            finally:
                server.close()
        loads.append(os.getloadavg()[0])

    print(
        f"machine: {machine()}; gateway event loop: {loop}; client: {c} keep-alive "
        f"connections; {args.repeat} rounds in {time.perf_counter() - began:.0f} s; "
        f"load average (1 min) {min(loads):.2f}-{max(loads):.2f}"
        + ("; server pinned to CPU 0, client to CPU 1" if args.pin else "")
        + "\n"
    )
    header = [
        "scenario",
        "requests/s",
        "p50 ms",
        "p99 ms",
        "events/s",
        "server CPU µs/req (range)",
        "server CPU µs/event",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for key in sorted(results, key=lambda k: names[k]):
        print("| " + " | ".join(row(names[key], results[key])) + " |")

    def p50(key: str) -> float:
        return statistics.median(r.p50_ms for r in results[key])

    def cpu(key: str) -> float:
        return statistics.median(r.cpu_us for r in results[key])

    def events(key: str) -> float:
        return statistics.median(r.events_per_s for r in results[key])

    print()
    for workload in ("non-streaming", "stream"):
        fake, gw, both = (
            p50(f"fake/{workload}"),
            p50(f"gateway/{workload}"),
            p50(f"toxiproxy + gateway/{workload}"),
        )
        ratio = cpu(f"gateway/{workload}") / cpu(f"fake/{workload}")
        print(
            f"{workload}: the gateway adds {gw - fake:.3f} ms p50 to the fake; Toxiproxy + "
            f"gateway add {both - fake:.3f} ms (target <= 1 ms); gateway CPU/req = "
            f"{ratio:.1f}x the fake's alone"
        )
    print(
        f"gateway stream events/s: {events('gateway/stream'):,.0f} with the fake, "
        f"{events('gateway/synthetic'):,.0f} with pre-rendered frames (target >= 30,000); "
        f"fault answer CPU: {cpu('gateway/fault'):.0f} µs (target <= 70); "
        f"normal answer CPU: {cpu('gateway/non-streaming'):.0f} µs, OpenAI "
        f"{cpu('gateway/openai'):.0f} µs (target <= 300); OpenAI fault answer CPU: "
        f"{cpu('gateway/fault-openai'):.0f} µs"
    )


if __name__ == "__main__":
    main()
