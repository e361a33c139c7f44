"""``llm-chaos demo``: the 2 March 2026 outage replayed against the two example apps.

Each app runs in its own process (:mod:`chaos.cli.demo.driver`) against its own
fresh :class:`~chaos.Harness` with the profile applied; both live through the
incident at the same time. A loop asks each app one question every
``interval`` seconds for the compressed length of the incident. The apps are
the examples shipped with the package (``examples/resilient_app`` and
``examples/naive_app`` in a checkout, ``chaos/_examples/`` in the wheel), on
the official ``anthropic`` and ``openai`` SDKs, configured from the
environment the harness gives, as in production. What each did comes from its
answers and from the verdict over the harness's journal; the reports go to
``--out``.

The seed makes every fault decision repeatable; which question falls into
which phase depends on timing, so counts may differ by a question or two.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chaos._errors import ConfigError, HarnessStartError
from chaos._options import Settings
from chaos._target import Target

if TYPE_CHECKING:
    from chaos._harness import Harness
    from chaos._journal import JournalRecord
    from chaos.profiles import Profile, Timeline
    from chaos.report import UserOutcome, UserSaw
    from chaos.verdict import Verdict

__all__ = [
    "APPS",
    "DEFAULT_PROFILE",
    "ROUTES",
    "AppRun",
    "DemoApp",
    "DemoCounts",
    "DemoResult",
    "Question",
    "find_app",
    "missing_sdks",
    "require_sdks",
    "run_demo",
    "write_reports",
]

DEFAULT_PROFILE = "claude-2026-03-02"
_SLACK = 0.005  # seconds: the gateway stamps a request a little after the app sends it
DEMO_TIME_SCALE = 1200.0
"""One second of replay is 20 minutes of incident: the 3h58m outage takes 12 s,
long enough for an app with a 0.8 s latency toxic and three attempts to show
what it does in each phase."""
SDKS: tuple[str, ...] = ("anthropic", "openai")
QUESTIONS: tuple[str, ...] = (
    "What should I do when my LLM provider is down?",
    "Summarise this support ticket in one line.",
    "Translate 'the service is back' into French.",
    "Which of our plans includes SSO?",
    "Draft a two-line status update for customers.",
    "Is this refund request within policy?",
)
# per question: "." Claude answered, "o" the fallback provider, "d" a degraded answer,
# "x" an error reached the user
MARKS: Mapping[str, str] = {"anthropic": ".", "openai": "o", "degraded": "d", "error": "x"}
LEGEND = ". Claude answered   o OpenAI answered (failover)   d degraded answer   x error"


# -- the apps -----------------------------------------------------------------------------


def find_app(name: str) -> Path:
    """The folder to put on ``sys.path`` to import the example app ``name``.

    The wheel ships the apps as ``chaos/_examples/<name>``; a checkout (and an
    editable install) has them under ``examples/<name>/<name>``.
    """
    shipped = resources.files("chaos").joinpath("_examples", name)
    if shipped.is_dir():
        return Path(str(shipped)).parent
    checkout = Path(__file__).resolve().parents[3] / "examples" / name
    if (checkout / name).is_dir():
        return checkout
    raise ConfigError(
        f"the example app {name!r} is not installed with this copy of pytest-llm-chaos "
        f"(looked in {shipped} and {checkout / name})"
    )


def require_sdks() -> None:
    """Raise :class:`~chaos.ConfigError` naming the pip command when an SDK is missing."""
    missing = missing_sdks()
    if missing:
        raise ConfigError(
            f"the demo runs the example apps on the official SDKs, and {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed here; install "
            f"{'it' if len(missing) == 1 else 'them'} with:\n"
            f"    {sys.executable} -m pip install 'pytest-llm-chaos[demo]'"
        )


def missing_sdks() -> list[str]:
    """The official SDKs the example apps need that cannot be imported here."""
    missing = []
    for name in SDKS:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def _import_app(name: str) -> Any:
    folder = str(find_app(name))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(name)


@dataclass(frozen=True)
class DemoApp:
    """One example app as the demo drives it.

    :param name: the package name (``resilient_app``).
    :param label: how the output names it.
    :param blurb: what it does, in one line.
    :param make: builds the app (after the harness env is set) and returns
        ``(ask, breaker)``: ``ask(question) -> (provider, degraded)`` raising on an
        error the user would see; ``breaker()`` the Claude circuit's state, or None.
    """

    name: str
    label: str
    blurb: str
    make: Callable[[], tuple[Callable[[str], tuple[str, bool]], Callable[[], str | None]]]


def _resilient() -> tuple[Callable[[str], tuple[str, bool]], Callable[[], str | None]]:
    app = _import_app("resilient_app")
    # one incident hour is one second here: a 0.25 s cool-down is a quarter of an hour
    assistant = app.Assistant(timeout=3.0, cooldown=0.25, max_retry_wait=1.0)

    def ask(question: str) -> tuple[str, bool]:
        answer = assistant.answer(question)
        return answer.provider, answer.degraded

    def breaker() -> str | None:
        state: str = assistant.breakers["anthropic"].state
        return state

    return ask, breaker


def _naive() -> tuple[Callable[[str], tuple[str, bool]], Callable[[], str | None]]:
    app = _import_app("naive_app")

    def ask(question: str) -> tuple[str, bool]:
        answer = app.answer(question, timeout=3.0)
        return answer.provider, answer.degraded

    return ask, lambda: None


APPS: tuple[DemoApp, ...] = (
    DemoApp(
        "resilient_app",
        "resilient app",
        "Claude first; tenacity retries honouring retry-after; a circuit breaker; "
        "failover to OpenAI; a degraded answer last",
        _resilient,
    ),
    DemoApp(
        "naive_app",
        "naive app",
        "Claude only, with the SDK's defaults (2 retries); no fallback",
        _naive,
    ),
)


# -- one run ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    """One question the loop asked and what the user got.

    :param index: from 1.
    :param phase: the profile phase in which the answer (or the error) came.
    :param at: seconds since the profile was applied.
    :param took: seconds until the answer (or the error).
    :param provider: ``anthropic``, ``openai``, ``degraded`` or ``error``.
    :param error: the error the user saw (``OverloadedError: ...``), if any.
    :param breaker: the Claude circuit breaker's state after it, if the app has one.
    :param done: the wall time (``time.time()``) the user got the result: with ``took``,
        the span in which the journal's requests are this question's.
    """

    index: int
    phase: str
    at: float
    took: float
    provider: str
    error: str | None = None
    breaker: str | None = None
    done: float = 0.0

    @property
    def end(self) -> float:
        """Seconds since the profile was applied when the user got the result."""
        return self.at + self.took

    @property
    def answered(self) -> bool:
        """Whether the user got an answer from a provider."""
        return self.provider in ("anthropic", "openai")


UNFIRED = (
    "in one app's replay or in both, no request drew them (the example apps make no "
    "streaming, token-count or Opus calls, and a fault with a rate depends on the draw). "
    "The demo does not exercise them: that is no failure of the apps."
)

ROUTES: Mapping[str, str] = {
    "claude": "Claude answered",
    "failover": "OpenAI answered after Claude failed it",
    "circuit_open": "OpenAI answered without trying Claude (circuit open)",
    "degraded": "degraded answer",
    "error": "error shown to the user",
}
"""How a question ended, from what the user got and the Claude requests in its span."""


@dataclass(frozen=True)
class DemoCounts:
    """Every number the demo prints and writes about one app, computed once
    (:meth:`AppRun.counts`), so the table, the reasons, ``demo.json`` and ``demo.md``
    agree by construction.

    :param routes: questions by route (see :data:`ROUTES`); they add up to ``questions``.
    :param claude_requests: requests Claude received; ``claude_failed`` of them failed.
    :param faulted_failovers: faulted attempts whose call ended on OpenAI (what
        ``coverage.md`` counts as ``failover``: attempts, not questions).
    """

    questions: int
    routes: Mapping[str, int]
    claude_requests: int
    claude_failed: int
    openai_requests: int
    sdk_retries: int
    app_retries: int
    faulted_failovers: int
    circuit_opened: int
    slowest: float

    @property
    def answered(self) -> int:
        """Questions a provider answered."""
        return self.routes["claude"] + self.by_openai

    @property
    def by_openai(self) -> int:
        """Questions OpenAI answered: after a failed Claude, or with the circuit open."""
        return self.routes["failover"] + self.routes["circuit_open"]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "questions": self.questions,
            "answered": self.answered,
            "routes": dict(self.routes),
            "by_openai": self.by_openai,
            "claude_requests": self.claude_requests,
            "claude_failed": self.claude_failed,
            "openai_requests": self.openai_requests,
            "sdk_retries": self.sdk_retries,
            "app_retries": self.app_retries,
            "faulted_failovers": self.faulted_failovers,
            "circuit_opened": self.circuit_opened,
            "slowest_s": round(self.slowest, 3),
        }


@dataclass
class AppRun:
    """One app's replay: its questions, the journal and the verdict over it."""

    app: DemoApp
    questions: list[Question]
    records: list[JournalRecord]
    verdict: Verdict
    fired: dict[str, int]
    phases: list[str]
    seed: int
    backend: str
    started_at: float

    def by_phase(self) -> dict[str, list[Question]]:
        """The questions grouped by phase, in phase order."""
        out: dict[str, list[Question]] = {name: [] for name in self.phases}
        for q in self.questions:
            out.setdefault(q.phase, []).append(q)
        return out

    def claude_tries(self, question: Question) -> int:
        """The requests Claude received while the app was answering ``question`` (it asks
        one question at a time, so the requests of its span are its own)."""
        start, end = question.done - question.took - _SLACK, question.done + _SLACK
        return sum(1 for r in self.records if r.target == "anthropic" and start <= r.time <= end)

    def route(self, question: Question) -> str:
        """How ``question`` ended (a key of :data:`ROUTES`)."""
        if question.provider == "anthropic":
            return "claude"
        if question.provider == "openai":
            return "failover" if self.claude_tries(question) else "circuit_open"
        return "degraded" if question.provider == "degraded" else "error"

    def counts(self) -> DemoCounts:
        """The numbers of this run (see :class:`DemoCounts`)."""
        from chaos.report import coverage

        routes = Counter(self.route(q) for q in self.questions)
        summary = self.verdict.summary()
        claude, backup = summary.get("anthropic"), summary.get("openai")
        attempts = self.attributions()
        covered = coverage(self.records, verdict=self.verdict).totals()
        return DemoCounts(
            questions=len(self.questions),
            routes={route: routes[route] for route in ROUTES},
            claude_requests=claude.attempts if claude else 0,
            claude_failed=claude.failures if claude else 0,
            openai_requests=backup.attempts if backup else 0,
            sdk_retries=attempts["sdk_retry"],
            app_retries=attempts["app_retry"],
            faulted_failovers=covered.get("failover", 0),
            circuit_opened=self.breaker_opened,
            slowest=max((q.took for q in self.questions), default=0.0),
        )

    def attributions(self) -> Counter[str]:
        """Attempts by attribution (``first``, ``sdk_retry``, ``app_retry``, ``failover``)."""
        return Counter(a.attribution for a in self.verdict.attempts)

    @property
    def has_breaker(self) -> bool:
        """Whether the app has a circuit breaker in front of Claude."""
        return any(q.breaker is not None for q in self.questions)

    @property
    def breaker_opened(self) -> int:
        """How many times the Claude circuit was seen open after a question where it was not."""
        states = [q.breaker for q in self.questions if q.breaker is not None]
        return sum(
            1
            for before, after in zip(["closed", *states], states, strict=False)
            if after == "open" and before != "open"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data for ``demo.json``."""
        summary = {name: s.to_dict() for name, s in self.verdict.summary().items()}
        counts = self.counts()
        return {
            "app": self.app.name,
            "label": self.app.label,
            "seed": self.seed,
            "backend": self.backend,
            "counts": counts.to_dict(),
            "questions": counts.questions,
            "answered": counts.answered,
            "failed": counts.routes["error"],
            "degraded": counts.routes["degraded"],
            "failovers": counts.routes["failover"],
            "attempts": dict(self.attributions()),
            "circuit_opened": counts.circuit_opened,
            "circuit_skips": counts.routes["circuit_open"],
            "requests": len(self.records),
            "targets": summary,
            "fired": self.fired,
            "phases": {
                name: {
                    "asked": len(qs),
                    "answered": sum(q.answered for q in qs),
                    "by": dict(Counter(q.provider for q in qs)),
                }
                for name, qs in self.by_phase().items()
            },
            "answers": [
                {
                    "index": q.index,
                    "phase": q.phase,
                    "at_s": round(q.at, 3),
                    "took_s": round(q.took, 3),
                    "provider": q.provider,
                    "error": q.error,
                    "breaker": q.breaker,
                    "route": self.route(q),
                    "claude_requests": self.claude_tries(q),
                }
                for q in self.questions
            ],
            "findings": [f.message for f in self.verdict.findings()],
            "why": why(self),
        }


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
    :param tail: seconds to keep asking after the last phase began.
    :param progress: receives one line per app and phase, as each phase ends.
    :param ready_timeout: seconds an app may take to import its SDKs and start.
    """
    from chaos._harness import Harness
    from chaos.profiles import Timeline

    say = progress or (lambda _text: None)
    if settings.seed is None:
        raise ConfigError("the demo's replay needs a seed in its settings")
    seed = settings.seed
    settings = dataclasses.replace(settings, targets=(Target("anthropic"), Target("openai")))
    timeline = Timeline(profile, seed=seed)
    duration = _length(profile) + tail
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
        for harness, driver in zip(harnesses, drivers, strict=True):
            harness.apply(profile)  # wall clock: incident time starts at this app's first request
            starts.append(time.time())
            driver.go()
        questions = _collect(apps, drivers, harnesses, timeline, profile, duration, say)
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


def _collect(
    apps: Sequence[DemoApp],
    drivers: Sequence[_Driver],
    harnesses: Sequence[Harness],
    timeline: Timeline,
    profile: Profile,
    duration: float,
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
                f"  {q.phase:<{width}}  {_clock(first[i], profile)}  "
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
    while running:
        try:
            i, event = events.get(timeout=max(0.1, deadline - time.monotonic()))
        except queue.Empty:
            break
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
        phase = timeline.phase_at(elapsed=elapsed)
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
            first[i] = elapsed
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


def _clock(at: float, profile: Profile) -> str:
    minutes = round(at * profile.time_scale / 60)
    return f"+{minutes // 60}h{minutes % 60:02d}m"


# -- the story ----------------------------------------------------------------------------


def why(run: AppRun) -> list[str]:
    """Why the app survived or not, in sentences built from the verdict."""
    counts = run.counts()
    routes = counts.routes
    failed_on_claude = Counter(
        a.outcome_text() for a in run.verdict.attempts if a.failed and a.target == "anthropic"
    )
    errors = Counter(q.error.split(":")[0] for q in run.questions if q.error)
    lines: list[str] = []
    total = counts.questions
    if counts.claude_requests:
        shown = ", ".join(f"{text} ×{n}" for text, n in failed_on_claude.most_common(4))
        lines.append(
            f"Claude failed {counts.claude_failed} of the {counts.claude_requests} requests "
            "it got" + (f" ({shown})" if shown else "") + "."
        )
    if counts.answered == total:
        how = [f"Claude answered {routes['claude']}"]
        if counts.by_openai:
            how.append(f"OpenAI answered {counts.by_openai}")
        if routes["failover"]:
            how.append(
                f"{routes['failover']} of them after Claude failed the question (failover; "
                f"{counts.faulted_failovers} faulted Claude attempt(s), as coverage.md counts "
                "them)"
            )
        if routes["circuit_open"]:
            how.append(
                f"{routes['circuit_open']} without trying Claude: its circuit breaker was open"
            )
        if routes["degraded"]:
            how.append(f"{routes['degraded']} got a degraded answer")
        if counts.app_retries:
            n = counts.app_retries
            how.append(f"{n} app retr{'y' if n == 1 else 'ies'} along the way")
        lines.append(f"It answered all {total} questions: " + "; ".join(how) + ".")
        recovered = [q for q in run.questions if q.phase == run.phases[-1]]
        if recovered and all(q.provider == "anthropic" for q in recovered):
            lines.append("When Claude recovered, it went back to Claude.")
        return lines
    failed = total - counts.answered
    lines.append(
        f"{failed} of its {total} questions ended in an error shown to the user"
        + (f" ({', '.join(f'{name} ×{n}' for name, n in errors.most_common(3))})" if errors else "")
        + "."
    )
    if counts.sdk_retries:
        lines.append(
            f"The SDK retried {counts.sdk_retries} time(s) on its own, into the same outage: "
            "an SDK retry is not a fallback."
        )
    if not counts.openai_requests:
        lines.append("It never tried another provider: no request reached OpenAI.")
    dead = [name for name, qs in run.by_phase().items() if qs and not any(q.answered for q in qs)]
    if dead:
        lines.append(f"It answered nothing during: {', '.join(dead)}.")
    return lines


@dataclass
class DemoResult:
    """Both replays, and the profile."""

    profile: Profile
    runs: list[AppRun]
    seed: int

    def table(self) -> str:
        """The side-by-side comparison as text."""
        left, right = self.runs[0], self.runs[1]
        width = max(len(p.name) for p in self.profile.phases) + 2
        lp, rp = left.by_phase(), right.by_phase()
        phases = [
            (
                phase.name,
                _clock(phase.at / self.profile.time_scale, self.profile),
                _cell(lp.get(phase.name, [])),
                _cell(rp.get(phase.name, [])),
            )
            for phase in self.profile.phases
        ]
        rows: list[tuple[str, Callable[[AppRun, DemoCounts], str]]] = [
            ("answered", lambda r, c: f"{c.answered}/{c.questions}"),
            ("answered by OpenAI", _openai_cell),
            ("errors shown to users", lambda r, c: str(c.routes["error"])),
            ("SDK retries", lambda r, c: str(c.sdk_retries)),
            ("app retries", lambda r, c: str(c.app_retries)),
            ("slowest answer or error", lambda r, c: f"{c.slowest:.1f}s"),
            ("circuit breaker", _breaker_cell),
            (
                "requests to Claude / OpenAI",
                lambda r, c: f"{c.claude_requests} / {c.openai_requests}",
            ),
        ]
        lc, rc = left.counts(), right.counts()
        totals = [(title, cell(left, lc), cell(right, rc)) for title, cell in rows]
        # the left column fits its longest cell, so no two cells ever run together
        col = max(34, *(len(cells[2]) + 2 for cells in phases), *(len(t[1]) + 2 for t in totals))
        rule = f"  {'-' * (width + 9 + col + 24)}"
        out = [f"  {'phase':<{width}} {'incident':<9} {left.app.label:<{col}} {right.app.label}"]
        out.append(rule)
        out += [f"  {n:<{width}} {at:<9} {lcell:<{col}} {rcell}" for n, at, lcell, rcell in phases]
        out.append(rule)
        out += [f"  {title:<{width + 10}} {lcell:<{col}} {rcell}" for title, lcell, rcell in totals]
        return "\n".join(out)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data (``demo.json``)."""
        return {
            "version": 1,
            "profile": self.profile.name,
            "title": self.profile.title,
            "time_scale": self.profile.time_scale,
            "seed": self.seed,
            "apps": [run.to_dict() for run in self.runs],
        }

    def to_markdown(self) -> str:
        """The comparison and the reasons, as Markdown (``demo.md``)."""
        lines = [
            f"# llm-chaos demo: {self.profile.title}",
            "",
            f"Profile `{self.profile.name}` (seed {self.seed}, time scale "
            f"{self.profile.time_scale:g}), replayed against two example apps.",
            "",
            "| phase | incident | " + " | ".join(r.app.label for r in self.runs) + " |",
            "|---|---|" + "---|" * len(self.runs),
        ]
        by = [r.by_phase() for r in self.runs]
        for phase in self.profile.phases:
            at = _clock(phase.at / self.profile.time_scale, self.profile)
            cells = " | ".join(_cell(b.get(phase.name, [])) for b in by)
            lines.append(f"| {phase.name} | {at} | {cells} |")
        for run in self.runs:
            lines += ["", f"## {run.app.label}", "", run.app.blurb, ""]
            lines += [f"- {line}" for line in why(run)]
            lines += [f"- finding: {f.message}" for f in run.verdict.findings()]
            lines += ["", f"![timeline]({_timeline_name(run)})"]
        return "\n".join(lines) + "\n"


def _cell(questions: Sequence[Question]) -> str:
    if not questions:
        return "no question ended in this phase"
    counts = Counter(q.provider for q in questions)
    text = f"{sum(q.answered for q in questions)}/{len(questions)} answered"
    extra = []
    if counts["openai"]:
        extra.append(f"{counts['openai']} by OpenAI")
    if counts["degraded"]:
        extra.append(f"{counts['degraded']} degraded")
    if counts["error"]:
        extra.append(f"{counts['error']} error{'s' if counts['error'] != 1 else ''}")
    return text + (f" ({', '.join(extra)})" if extra else "")


def _openai_cell(run: AppRun, counts: DemoCounts) -> str:
    if not counts.by_openai:
        return "0"
    return (
        f"{counts.by_openai} ({counts.routes['failover']} failed over, "
        f"{counts.routes['circuit_open']} circuit open)"
    )


def _breaker_cell(run: AppRun, counts: DemoCounts) -> str:
    if not run.has_breaker:
        return "none"
    return f"opened {counts.circuit_opened}×, skipped Claude {counts.routes['circuit_open']}×"


def _timeline_name(run: AppRun) -> str:
    return f"timeline-{run.app.name}.svg"


def _user_outcomes(run: AppRun) -> list[UserOutcome]:
    """What the user got for each question, for the timeline's last lane."""
    from chaos.report import UserOutcome

    saw: Mapping[str, UserSaw] = {"degraded": "degraded", "error": "error"}
    return [
        UserOutcome(
            q.done - run.started_at,
            saw.get(q.provider, "answered"),
            f"question {q.index}: {ROUTES[run.route(q)]}" + (f" ({q.error})" if q.error else ""),
            q.done - q.took - run.started_at,
        )
        for q in run.questions
    ]


# -- the whole demo -----------------------------------------------------------------------


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


def write_reports(result: DemoResult, directory: str | os.PathLike[str]) -> list[Path]:
    """Write ``demo.md``, ``demo.json``, a timeline SVG and journal per app, and the
    fault-coverage report into ``directory`` (a :class:`chaos.report.ReportBundle`);
    return the files."""
    from chaos.report import ReportBundle, RunReport

    bundle = ReportBundle(
        directory,
        meta={"profile": result.profile.name, "seed": str(result.seed)},
        unfired=UNFIRED,
    )
    for run in result.runs:
        bundle.add(
            RunReport(
                run.app.name,
                run.records,
                profile=result.profile,
                fired=run.fired,
                verdict=run.verdict,
                title=f"{run.app.label} under {result.profile.name}",
                targets=list(SDKS),
                origin=run.started_at,
                outcomes=_user_outcomes(run),
            )
        )
    bundle.write_text("demo.md", result.to_markdown())
    bundle.write_text("demo.json", json.dumps(result.to_dict(), indent=2) + "\n")
    bundle.write_coverage()
    return bundle.written
