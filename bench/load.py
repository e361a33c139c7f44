"""Load: many concurrent streaming clients through Toxiproxy + the gateway, faults active.

The harness runs as ``llm-chaos serve`` (embedded Toxiproxy, the OpenAI fake) in its
own process, replaying a profile with a rate-based ``server_error`` and a latency
toxic. Lean asyncio clients (raw sockets, keep-alive) each send streaming chat
completions in a loop for the duration; every prompt carries a unique nonce, the
fake echoes it, and each streamed answer is checked against its own request. A 500
is retried (same body) up to ``--retries`` times. Loopback only, bounded in time.

Checked at the end (any failure exits 1):

- every call got exactly its own answer: no lost, cut or mixed-up stream;
- the journal is consistent: its sequence numbers count every attempt (requests +
  retries), are contiguous and increasing, ``dropped`` accounts for the rest of the
  bounded journal, and per request body (fingerprint) the journal's 200s and 500s
  equal what the client saw;
- the server's memory (RSS) stays bounded: sampled every tenth of the run.

    python bench/load.py                       # 500 clients for 30 s
    python bench/load.py --clients 100 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import selectors
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]

PROFILE = """\
version: 1
name: load
title: Load with a rate-based error and a latency toxic
source: bench/load.py
clock: requests
targets:
  openai: {{dialect: openai}}
phases:
  - name: wobbly
    at: 0
    faults:
      - {{target: openai, error: server_error, rate: {rate}}}
      - {{target: openai, network: {{toxic: latency, latency: {latency}, jitter: {jitter}}}}}
"""


@dataclass
class Tally:
    """What the clients saw."""

    calls: int = 0
    answered: int = 0  # a complete stream with exactly this call's nonce
    gave_up: int = 0  # every attempt got a 500
    attempts: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    mismatched: list[str] = field(default_factory=list)  # wrong, cut or mixed-up answers
    lost: list[str] = field(default_factory=list)  # no answer at all (connection errors)
    by_body: dict[str, Counter[int]] = field(default_factory=dict)  # fingerprint -> statuses


@dataclass
class LoadResult:
    """One run's numbers and verdicts."""

    clients: int
    duration: float
    tally: Tally
    rss_mb: list[tuple[str, float]]
    journal: dict[str, object]
    problems: list[str]

    def table(self) -> str:
        t = self.tally
        lines = [
            f"clients {self.clients}, {self.duration:.1f} s: {t.calls} calls, {t.attempts} "
            f"attempts ({t.attempts / self.duration:.0f}/s), {t.answered} answered, "
            f"{t.gave_up} gave up after retries",
            f"statuses seen: {dict(sorted(t.statuses.items()))}",
            f"mismatched: {len(t.mismatched)}, lost: {len(t.lost)}",
            "server RSS MB: " + ", ".join(f"{k} {v:.1f}" for k, v in self.rss_mb),
            f"journal: {json.dumps(self.journal)}",
            "verdict: " + ("OK" if not self.problems else "; ".join(self.problems)),
        ]
        return "\n".join(lines)


def _request(nonce: str, host: str) -> tuple[bytes, bytes]:
    body = json.dumps(
        {
            "model": "gpt-4o",
            "stream": True,
            "messages": [{"role": "user", "content": f"nonce {nonce}"}],
        }
    ).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nhost: {host}\r\n"
        "content-type: application/json\r\nauthorization: Bearer k\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body, body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """(status, body, keep_alive) of one HTTP/1.1 response (chunked or sized)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get("transfer-encoding") == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body, headers.get("connection") != "close"


def _streamed_text(body: bytes) -> tuple[str, bool]:
    """The concatenated delta contents of an OpenAI stream, and whether [DONE] came."""
    text, done = [], False
    for line in body.split(b"\n"):
        if not line.startswith(b"data: "):
            continue
        data = line[6:].strip()
        if data == b"[DONE]":
            done = True
            continue
        for choice in json.loads(data).get("choices", []):
            text.append(choice.get("delta", {}).get("content") or "")
    return "".join(text), done


async def _client(
    index: int, url: str, deadline: float, retries: int, tally: Tally, timeout: float
) -> None:
    from chaos.gateway._exchange import fingerprint

    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    n = 0
    while time.monotonic() < deadline:
        n += 1
        nonce = f"c{index}-{n}-{uuid.uuid4().hex[:12]}"
        data, body = _request(nonce, f"{host}:{port}")
        statuses = tally.by_body.setdefault(fingerprint(body), Counter())
        tally.calls += 1
        for _ in range(retries + 1):
            try:
                if conn is None:
                    conn = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
                reader, writer = conn
                writer.write(data)
                tally.attempts += 1
                status, answer, keep = await asyncio.wait_for(_read_response(reader), timeout)
            except (OSError, asyncio.IncompleteReadError, TimeoutError) as exc:
                tally.lost.append(f"{nonce}: {type(exc).__name__}: {exc}")
                if conn is not None:
                    conn[1].close()
                conn = None
                break
            tally.statuses[status] += 1
            statuses[status] += 1
            if not keep:
                writer.close()
                conn = None
            if status == 500:
                continue
            text, done = _streamed_text(answer) if status == 200 else ("", False)
            expected = f"Echo: nonce {nonce}"
            if status != 200 or not done or " ".join(text.split()) != expected:
                tally.mismatched.append(f"{nonce}: {status} {text[:80]!r} done={done}")
            else:
                tally.answered += 1
            break
        else:
            tally.gave_up += 1
    if conn is not None:
        conn[1].close()


def _rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _start_serve(profile: Path, seed: int) -> tuple[subprocess.Popen[str], dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_CHAOS_", "TOXIPROXY"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "chaos",
            "serve",
            "--backend",
            "embedded",
            "--seed",
            str(seed),
            "--profile",
            str(profile),
            "--target",
            "openai=openai",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(60):
            proc.kill()
            raise RuntimeError("llm-chaos serve did not print its ready line within 60 s")
    line = proc.stdout.readline()
    if not line:
        err = proc.stderr.read() if proc.stderr else ""
        raise RuntimeError(f"llm-chaos serve exited: {err}")
    return proc, json.loads(line)


def _get_json(url: str) -> object:
    import urllib.request

    with urllib.request.urlopen(url, timeout=60) as answer:
        return json.loads(answer.read())


def _check_journal(admin: str, tally: Tally) -> tuple[dict[str, object], list[str]]:
    problems = []
    health = _get_json(f"{admin}/health")
    assert isinstance(health, dict)
    page = _get_json(f"{admin}/journal")
    assert isinstance(page, dict)
    records = page["records"]
    next_seq = int(health["journal"]["next_seq"])
    dropped = int(page["dropped"])
    seqs = [r["seq"] for r in records]
    summary: dict[str, object] = {
        "next_seq": next_seq,
        "kept": len(records),
        "dropped": dropped,
        "outcomes": dict(Counter(r["outcome"] for r in records)),
    }
    # one record per attempt; sequence numbers increase but may skip: a network fault's note
    # on a connection (the latency toxic here) takes a number and joins the attempt it met
    if len(records) + dropped != tally.attempts:
        problems.append(
            f"kept {len(records)} + dropped {dropped} records, the clients sent {tally.attempts}"
        )
    if seqs != sorted(set(seqs)) or (seqs and seqs[-1] >= next_seq):
        problems.append("journal sequence numbers are not increasing")
    outcome_of = {200: "ok", 500: "fault"}
    for r in records:
        if outcome_of.get(r["status"]) != r["outcome"]:
            problems.append(f"record {r['seq']}: status {r['status']} but outcome {r['outcome']}")
            break
    if dropped == 0:  # the whole run is in the journal: compare per request body
        journal_by_body: dict[str, Counter[int]] = {}
        for r in records:
            journal_by_body.setdefault(r["fingerprint"], Counter())[r["status"]] += 1
        seen = {k: v for k, v in tally.by_body.items() if v}
        if journal_by_body != seen:
            diff = [
                k for k in set(journal_by_body) | set(seen) if journal_by_body.get(k) != seen.get(k)
            ]
            problems.append(f"{len(diff)} request bodies differ between journal and clients")
    return summary, problems


async def _run_clients(
    url: str,
    clients: int,
    duration: float,
    retries: int,
    tally: Tally,
    timeout: float,
    sample: object,
) -> None:
    deadline = time.monotonic() + duration
    tasks = [
        asyncio.create_task(_client(i, url, deadline, retries, tally, timeout))
        for i in range(clients)
    ]
    sampler = asyncio.create_task(sample(deadline))  # type: ignore[operator]
    await asyncio.gather(*tasks)
    await sampler


def run_load(
    *,
    clients: int = 500,
    duration: float = 30.0,
    error_rate: float = 0.05,
    latency_ms: int = 20,
    jitter_ms: int = 10,
    retries: int = 3,
    seed: int = 7,
    timeout: float = 60.0,
) -> LoadResult:
    """Run the load and check it; the returned ``problems`` is empty when all held."""
    tally = Tally()
    rss: list[tuple[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "load.yaml"
        profile.write_text(PROFILE.format(rate=error_rate, latency=latency_ms, jitter=jitter_ms))
        proc, ready = _start_serve(profile, seed)
        try:
            url = ready["targets"]["openai"]  # type: ignore[index]
            rss.append(("start", _rss_mb(proc.pid)))

            async def sample(deadline: float) -> None:
                marks = [(f / 10, f"{f * 10}%") for f in range(1, 10)]
                start = deadline - duration
                for fraction, name in marks:
                    await asyncio.sleep(max(0.0, start + fraction * duration - time.monotonic()))
                    rss.append((name, _rss_mb(proc.pid)))

            started = time.monotonic()
            asyncio.run(_run_clients(url, clients, duration, retries, tally, timeout, sample))
            elapsed = time.monotonic() - started
            rss.append(("end", _rss_mb(proc.pid)))
            journal, problems = _check_journal(str(ready["admin"]), tally)  # type: ignore[index]
        finally:
            proc.terminate()
            try:
                _, stderr = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, stderr = proc.communicate()
    if tally.mismatched:
        problems.append(f"{len(tally.mismatched)} wrong answers, e.g. {tally.mismatched[:3]}")
    if tally.lost:
        problems.append(f"{len(tally.lost)} lost answers, e.g. {tally.lost[:3]}")
        tail = stderr.strip().splitlines()[-5:]
        problems.append("llm-chaos serve said: " + " | ".join(tail))
    if tally.answered + tally.gave_up + len(tally.lost) + len(tally.mismatched) != tally.calls:
        problems.append("calls do not add up")
    return LoadResult(clients, elapsed, tally, rss, journal, problems)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=500)
    parser.add_argument("--duration", type=float, default=30.0, help="seconds")
    parser.add_argument("--error-rate", type=float, default=0.05)
    parser.add_argument("--latency", type=int, default=20, help="latency toxic, ms")
    parser.add_argument("--jitter", type=int, default=10, help="latency toxic jitter, ms")
    parser.add_argument("--retries", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    print(
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    result = run_load(
        clients=args.clients,
        duration=args.duration,
        error_rate=args.error_rate,
        latency_ms=args.latency,
        jitter_ms=args.jitter,
        retries=args.retries,
        seed=args.seed,
    )
    print(result.table())
    return 1 if result.problems else 0


if __name__ == "__main__":
    sys.exit(main())
