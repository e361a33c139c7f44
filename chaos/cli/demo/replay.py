"""Running the demo: the outage replayed against both example apps at once.

Each app runs in its own process (:mod:`chaos.cli.demo.driver`) against its own
fresh :class:`~chaos.Harness` with the profile applied; both live through the
incident at the same time. A loop asks each app one question every
``interval`` seconds for the compressed length of the incident. What each did
comes from its answers and from the verdict over the harness's journal
(:mod:`chaos.cli.demo.model`).

The seed makes every fault decision repeatable; which question falls into
which phase depends on timing, so counts may differ by a question or two.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from chaos._errors import ConfigError, HarnessStartError
from chaos.cli.demo.apps import APPS, DemoApp, require_sdks
from chaos.cli.demo.model import AppRun, Question
from chaos.cli.demo.report import MARKS, DemoResult, incident_clock
from chaos.common._target import Target
from chaos.harness._settings import Settings

if TYPE_CHECKING:
    from chaos.harness._harness import Harness
    from chaos.profiles import Profile, Timeline

__all__ = ["DEFAULT_PROFILE", "DEMO_TIME_SCALE", "replay", "run_demo"]

DEFAULT_PROFILE = "claude-2026-03-02"
DEMO_TIME_SCALE = 1200.0
"""One second of replay is 20 minutes of incident: the 3h58m outage takes 12 s,
long enough for an app with a 0.8 s latency toxic and three attempts to show
what it does in each phase."""


def run_demo(
    *,
    profile: str = DEFAULT_PROFILE,
    settings: Settings | None = None,
    time_scale: float | None = DEMO_TIME_SCALE,
    interval: float = 0.2,
    apps: Sequence[DemoApp] = APPS,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """Replay ``profile`` against every app at once, each with its own harness.

    :param settings: the harnesses' settings (backend, seed...; the seed defaults
        to the profile's, else 0, so two runs tell the same story).
    :param time_scale: incident seconds per second of replay, instead of the
        profile's (None: the profile's own).
    :param interval: seconds between two questions to one app.
    :param progress: receives one line per app and phase as the replay goes.
    :raises chaos.ConfigError: the SDKs are missing or the profile is unusable.
    """
    from chaos.profiles import load_profile

    require_sdks()
    loaded = load_profile(profile)
    if time_scale is not None:
        if time_scale <= 0:
            raise ConfigError(f"--time-scale must be positive, got {time_scale:g}")
        loaded = dataclasses.replace(loaded, time_scale=float(time_scale))
    _length(loaded)
    given = settings or Settings()
    used = given.seed if given.seed is not None else (loaded.seed or 0)
    given = dataclasses.replace(given, seed=used)
    runs = replay(apps, loaded, settings=given, interval=interval, progress=progress)
    return DemoResult(loaded, runs, used)


def replay(
    apps: Sequence[DemoApp],
    profile: Profile,
    *,
    settings: Settings,
    interval: float = 0.2,
    tail: float = 0.6,
    progress: Callable[[str], None] | None = None,
    ready_timeout: float = 120.0,
) -> list[AppRun]:
    """Run every app through ``profile`` (a wall-clock profile) at the same time, each
    in its own process against its own fresh harness.

    :param settings: each harness's settings (its seed is required here: the
        apps' questions and the faults replay the same with it); the targets are
        always ``anthropic`` and ``openai``, the two the example apps call.
    :param interval: seconds between two questions (a slow answer delays the next).
    :param tail: seconds each app keeps asking after its replay recovered (a phase
        held until attempts met it, ``hold``, makes the replay longer than its scaled time).
    :param progress: receives one line per app and phase, as each phase ends.
    :param ready_timeout: seconds an app may take to import its SDKs and start.
    """
    from chaos.harness._harness import Harness
    from chaos.profiles._timeline import QUIET_S

    say = progress or (lambda _text: None)
    if settings.seed is None:
        raise ConfigError("the demo's replay needs a seed in its settings")
    seed = settings.seed
    settings = dataclasses.replace(settings, targets=(Target("anthropic"), Target("openai")))
    # at most: every held phase could wait for an app gone quiet
    duration = _length(profile) + tail + QUIET_S * sum(1 for p in profile.phases if p.hold)
    with contextlib.ExitStack() as stack:
        harnesses = [stack.enter_context(Harness(settings)) for _ in apps]
        drivers = [
            stack.enter_context(_Driver(app, harness.env, interval, duration, seed))
            for app, harness in zip(apps, harnesses, strict=True)
        ]
        deadline = time.monotonic() + ready_timeout
        for driver in drivers:
            driver.wait_ready(deadline)
        starts = []
        timelines = []
        for harness, driver in zip(harnesses, drivers, strict=True):
            harness.apply(profile)  # wall clock: incident time starts at this app's first request
            timeline = harness.plane.timeline if harness.plane is not None else None
            if timeline is None:
                raise HarnessStartError(f"the {driver.app.label}'s harness has no timeline")
            timelines.append(timeline)
            starts.append(time.time())
            driver.go()
        questions = _collect(apps, drivers, harnesses, timelines, profile, duration, tail, say)
        runs = [
            _finish(app, harness, qs, profile, harness.clock_started or started_at)
            for app, harness, qs, started_at in zip(apps, harnesses, questions, starts, strict=True)
        ]
    return runs


class _Driver:
    """One app's process (``python -m chaos.cli.demo.driver``) and a thread reading its lines."""

    def __init__(
        self, app: DemoApp, env: Mapping[str, str], interval: float, duration: float, seed: int
    ) -> None:
        self.app = app
        self.command = [
            sys.executable, "-m", "chaos.cli.demo.driver", app.name,
            "--interval", str(interval), "--duration", str(duration), "--seed", str(seed),
        ]  # fmt: skip
        self.env = {**os.environ, **env, "PYTHONUNBUFFERED": "1"}
        self.events: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.proc: subprocess.Popen[str] | None = None
        self.stderr: list[str] = []

    def __enter__(self) -> _Driver:
        self.proc = subprocess.Popen(
            self.command,
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_errors, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()

    def _read(self) -> None:
        assert self.proc is not None
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with contextlib.suppress(ValueError):
                self.events.put(json.loads(line))
        self.events.put(None)

    def _read_errors(self) -> None:
        assert self.proc is not None
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line.rstrip())

    def next_event(self, deadline: float) -> dict[str, Any] | None:
        """The next event, or None when the process ended (or the deadline passed)."""
        try:
            return self.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None

    def wait_ready(self, deadline: float) -> None:
        """Wait for the app's ``ready``; raise if it died or took too long."""
        event = self.next_event(deadline)
        if event is None or event.get("event") != "ready":
            detail = "\n".join(self.stderr[-15:]) or "no output"
            raise HarnessStartError(f"the {self.app.label} did not start:\n{detail}")

    def go(self) -> None:
        """Tell the app to start asking."""
        assert self.proc is not None
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def stop(self) -> None:
        """Tell the app to stop asking (it then says ``done``)."""
        assert self.proc is not None
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError):  # it has already ended
            self.proc.stdin.write("stop\n")
            self.proc.stdin.flush()


def _collect(
    apps: Sequence[DemoApp],
    drivers: Sequence[_Driver],
    harnesses: Sequence[Harness],
    timelines: Sequence[Timeline],
    profile: Profile,
    duration: float,
    tail: float,
    say: Callable[[str], None],
) -> list[list[Question]]:
    """Read every app's answers as they come; report each phase once every app has gone
    past it, the apps' lines in the order of their first answer on the incident clock."""
    questions: list[list[Question]] = [[] for _ in apps]
    pending: list[list[Question]] = [[] for _ in apps]  # the current phase's answers
    first = [0.0 for _ in apps]  # incident time of the first answer in pending
    width = max(len(p.name) for p in profile.phases)
    label_width = max(len(app.label) for app in apps)
    order = {p.name: k for k, p in enumerate(profile.phases)}
    current = [-1 for _ in apps]  # the phase (index) each app is answering in
    finished = [False for _ in apps]
    ended: list[tuple[int, float, str]] = []  # (phase index, incident time, line), unprinted

    def flush(i: int) -> None:
        if pending[i]:
            q = pending[i][0]
            marks = "".join(MARKS[x.provider] for x in pending[i])
            line = (
                f"  {q.phase:<{width}}  {incident_clock(first[i], profile)}  "
                f"{apps[i].label:<{label_width}}  {marks}"
            )
            ended.append((order.get(q.phase, -1), first[i], line))
            pending[i] = []

    def release() -> None:
        # a phase is printed when no app can add to it any more
        ready = min((current[i] for i in range(len(apps)) if not finished[i]), default=len(order))
        done = sorted(e for e in ended if e[0] < ready)
        for item in done:
            say(item[2])
            ended.remove(item)

    events: queue.Queue[tuple[int, dict[str, Any] | None]] = queue.Queue()
    deadline = time.monotonic() + duration + 60  # a hung app cannot hang the demo

    def pump(i: int) -> None:
        while True:
            event = drivers[i].next_event(deadline)
            events.put((i, event))
            if event is None or event.get("event") == "done":
                return

    for i in range(len(drivers)):
        threading.Thread(target=pump, args=(i,), daemon=True).start()
    running = len(drivers)
    recovered: list[float | None] = [None for _ in apps]  # when each app's replay recovered
    stopped = [False for _ in apps]
    while running:
        now = time.monotonic()
        for k, harness in enumerate(harnesses):
            if recovered[k] is None and profile.phases[-1].name in harness.phases_seen():
                recovered[k] = now
            seen = recovered[k]
            if seen is not None and not stopped[k] and now - seen >= tail:
                stopped[k] = True
                drivers[k].stop()
        if now > deadline:
            break
        try:
            i, event = events.get(timeout=0.05)
        except queue.Empty:
            continue
        if event is None or event.get("event") == "done":
            running -= 1
            finished[i] = True
            flush(i)
            release()
            continue
        if event.get("event") != "answer":
            continue
        at = float(event["at"])
        took = float(event["took"])
        # what the user got, in the phase they got it: a question the naive app asked
        # before the methods failed and that errored 4 s later belongs to methods-failing.
        # Incident time starts at the app's first request, which its first question's
        # client setup delays: place the answer on the harness's clock, not the app's.
        clock = harnesses[i].clock_started
        elapsed = float(event["done"]) - clock if clock is not None else at + took
        # each app's own timeline: a phase held until attempts met it (hold) moves the
        # phases after it, differently for each app
        phase = timelines[i].phase_at(elapsed=elapsed)
        question = Question(
            index=int(event["index"]),
            phase=phase.name if phase is not None else "-",
            at=at,
            took=took,
            provider=str(event["provider"]),
            error=event.get("error"),
            breaker=event.get("breaker"),
            done=float(event["done"]),
        )
        if pending[i] and pending[i][0].phase != question.phase:
            flush(i)
        if not pending[i]:
            first[i] = timelines[i].incident_seconds(elapsed) / profile.time_scale
        current[i] = order.get(question.phase, -1)
        pending[i].append(question)
        questions[i].append(question)
        release()
    for i in range(len(drivers)):
        finished[i] = True
        flush(i)
    release()
    return questions


def _finish(
    app: DemoApp,
    harness: Harness,
    questions: list[Question],
    profile: Profile,
    started_at: float,
) -> AppRun:
    from chaos.verdict import Verdict

    records = harness.journal
    fired = harness.fired()
    verdict = Verdict(
        records, targets={"anthropic": "anthropic", "openai": "openai"}, declared=fired
    )
    return AppRun(
        app=app,
        questions=questions,
        records=records,
        verdict=verdict,
        fired=fired,
        phases=[p.name for p in profile.phases],
        seed=harness.seed,
        backend=harness.backend.name,
        started_at=started_at,
    )


def _length(profile: Profile) -> float:
    if profile.clock != "wall":
        raise ConfigError(
            f"the demo replays wall-clock profiles; {profile.name!r} runs on the "
            f"{profile.clock} clock (try llm-chaos run with it instead)"
        )
    last = max(p.at for p in profile.phases)
    return last / profile.time_scale
