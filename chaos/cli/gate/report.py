"""The CI gate behind ``llm-chaos run``: one command, run once per profile under the harness.

For each profile: a fresh :class:`~chaos.Harness` (its targets: the profile's,
plus ``anthropic`` and ``openai`` unless targets are given), the profile
applied, the command run in its own process group with the harness's
environment, then the journal read into a :class:`~chaos.verdict.Verdict`. A
profile *passes* when the command exits 0 and (strict) every declared fault of
the phases it reached fired at least once; a command that exits 0 while its
faults never fired proved nothing: the profile is *inconclusive* and fails the
gate.

The CLI verb stays thin: parse, :func:`load_profiles`, :func:`run_gate`, print,
write. Everything here is usable from a script.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from xml.etree import ElementTree as ET

from chaos._errors import ConfigError
from chaos._options import Settings
from chaos._reaper import Reaper
from chaos._sink import Sink, Stray
from chaos._target import Target

if TYPE_CHECKING:
    from chaos._harness import Harness
    from chaos._journal import JournalRecord
    from chaos.profiles import Profile
    from chaos.verdict import Verdict

__all__ = [
    "CommandResult",
    "GateReport",
    "Outcome",
    "ProfileRun",
    "load_profiles",
    "run_command",
    "run_gate",
]

Outcome = Literal["passed", "failed", "inconclusive", "crashed", "timeout", "error"]

DEFAULT_TARGETS: tuple[Target, ...] = (Target("anthropic"), Target("openai"))
"""The gate's targets when none are given (a profile's own are added)."""

EXIT_NOT_FOUND = 127
EXIT_NOT_EXECUTABLE = 126
_KILL_GRACE_S = 3.0

Progress = Callable[[str], None]


# -- input --------------------------------------------------------------------------------


def load_profiles(names: Sequence[str]) -> list[Profile]:
    """Load and validate every profile before anything starts.

    :raises chaos.ProfileError: for the first one that does not load; an unknown
        name's message lists the known profiles and the closest one.
    """
    from chaos.profiles import load_profile

    if not names:
        raise ConfigError("no profile given: pass --profile NAME (see llm-chaos profiles list)")
    return [load_profile(name) for name in names]


# -- the command --------------------------------------------------------------------------


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


# -- one profile --------------------------------------------------------------------------


@dataclass
class ProfileRun:
    """What happened under one profile: the command's end, the verdict's counts, why.

    :param profile: the profile's name.
    :param title: its title.
    :param outcome: ``passed``, ``failed`` (non-zero exit), ``inconclusive``
        (exit 0 but declared faults never fired, strict), ``crashed`` (killed by a
        signal), ``timeout``, or ``error`` (the command could not start).
    :param reason: one line saying why.
    :param command: the command's result.
    :param seed: the harness seed (replays the same faults).
    :param backend: the Toxiproxy backend used.
    :param calls: logical calls the journal shows.
    :param failed_calls: calls whose last attempt failed (the app had to degrade or error).
    :param failed_attempts: requests that failed.
    :param failovers: calls that moved to another target or model.
    :param sdk_retries: attempts that were the SDK's own retries.
    :param app_retries: attempts that were the app's retries.
    :param fired: declared fault name -> times fired.
    :param silent: declared faults of reached phases that never fired.
    :param phases_seen: the phases the run reached, in order.
    :param findings: the verdict's findings (retry storms, no backoff...), as text.
    :param records: the journal.
    :param loaded: the profile itself.
    :param verdict: the verdict over ``records``: every count and report reads it.
    :param journal_text: the verdict's account of the calls, for failure messages.
    :param started_at: epoch seconds when the profile's clock started (its first request,
        for a ``wall`` clock profile with ``start: first_request``; else when it was applied).
    :param files: report files written for this profile (kind -> path).
    :param strays: requests of the command that went to the stray-request sink
        instead of the harness (:mod:`chaos._sink`): refused, or let through.
    """

    profile: str
    title: str
    outcome: Outcome
    reason: str
    command: CommandResult
    seed: int
    backend: str
    calls: int = 0
    failed_calls: int = 0
    failed_attempts: int = 0
    failovers: int = 0
    sdk_retries: int = 0
    app_retries: int = 0
    fired: dict[str, int] = field(default_factory=dict)
    silent: list[str] = field(default_factory=list)
    phases_seen: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    records: list[JournalRecord] = field(default_factory=list, repr=False)
    loaded: Profile | None = field(default=None, repr=False)
    verdict: Verdict | None = field(default=None, repr=False)
    journal_text: str = field(default="", repr=False)
    started_at: float = 0.0
    files: dict[str, str] = field(default_factory=dict)
    strays: list[Stray] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether this profile passed the gate."""
        return self.outcome == "passed"

    @property
    def faults_declared(self) -> int:
        """How many faults the profile declares."""
        return len(self.fired)

    @property
    def faults_fired(self) -> int:
        """How many of them fired at least once."""
        return sum(1 for n in self.fired.values() if n)

    def summary_line(self) -> str:
        """``passed in 4.3s: 12 calls, 3 failovers, 9/14 faults fired``."""
        return (
            f"{self.outcome} in {self.command.duration:.1f}s: {self.calls} calls, "
            f"{self.failed_calls} failed, {self.failovers} failovers, "
            f"{self.faults_fired}/{self.faults_declared} faults fired"
        )

    def to_dict(self) -> dict[str, Any]:
        """The run as JSON-ready data (``gate.json``'s ``runs`` items)."""
        return {
            "profile": self.profile,
            "title": self.title,
            "outcome": self.outcome,
            "passed": self.passed,
            "reason": self.reason,
            "exit_status": self.command.returncode,
            "signal": self.command.signal,
            "timed_out": self.command.timed_out,
            "error": self.command.error,
            "duration_s": round(self.command.duration, 3),
            "seed": self.seed,
            "backend": self.backend,
            "calls": self.calls,
            "failed_calls": self.failed_calls,
            "failed_attempts": self.failed_attempts,
            "failovers": self.failovers,
            "sdk_retries": self.sdk_retries,
            "app_retries": self.app_retries,
            "requests": len(self.records),
            "faults_declared": self.faults_declared,
            "faults_fired": self.faults_fired,
            "fired": dict(self.fired),
            "silent_faults": list(self.silent),
            "phases_seen": list(self.phases_seen),
            "findings": list(self.findings),
            "files": dict(self.files),
            "bypassed": [s.to_dict() for s in self.strays],
        }


def _judge(
    result: CommandResult, silent: Sequence[str], *, strict: bool, requests: int
) -> tuple[Outcome, str]:
    if result.error is not None:
        return "error", f"{result.error} (exit status {result.returncode})"
    if result.timed_out:
        how = f", ended by {result.signal}" if result.signal else ""
        return "timeout", f"timed out; the command and its children were killed{how}"
    if result.signal is not None:
        return "crashed", (
            f"the command was killed by {result.signal} (exit status {result.returncode})"
        )
    if result.returncode != 0:
        return "failed", f"the command exited with status {result.returncode}"
    if strict and silent:
        shown = ", ".join(silent[:6]) + (f" and {len(silent) - 6} more" if len(silent) > 6 else "")
        return "inconclusive", (
            f"the command passed but {len(silent)} declared fault(s) never fired "
            f"({requests} request(s) reached the harness): {shown}; a chaos run whose faults "
            "never fired proves nothing (make the command send the requests they match, "
            "or pass --no-strict)"
        )
    return "passed", "the command exited with status 0" + (
        "" if strict else " (not strict: faults that never fired are not checked)"
    )


def _silent(profile: Profile, fired: Mapping[str, int], seen: Sequence[str]) -> list[str]:
    """Declared faults that never fired, leaving out those of phases never reached
    when some phase was (as the pytest plugin's strict check does)."""
    reached = set(seen)
    unreached = {f.name for p in profile.phases if p.name not in reached for f in p.faults}
    if not reached:  # no request at all: the first phase was not reached, and that is the problem
        unreached = set()
    return [name for name, n in fired.items() if not n and name not in unreached]


def run_profile(
    profile: Profile,
    command: Sequence[str],
    *,
    settings: Settings | None = None,
    timeout: float | None = None,
    strict: bool = True,
    progress: Progress | None = None,
    label: str = "",
) -> ProfileRun:
    """Run ``command`` once under ``profile`` with a fresh harness built from
    ``settings`` (its targets, the profile's added; its seed, else the profile's);
    see :func:`run_gate`."""
    from chaos._harness import Harness
    from chaos.verdict import Verdict

    given = settings or Settings()
    targets = _with_profile_targets(given.targets or DEFAULT_TARGETS, profile)
    seed = given.seed if given.seed is not None else profile.seed
    say = progress or (lambda _line: None)

    def stray(request: Stray) -> None:
        say(f"{label}{profile.name}: sink: {request.line()}")

    sink = Sink(allow_providers=given.allow_network, sealed=given.seal, on_stray=stray)
    with sink, Harness(dataclasses.replace(given, targets=targets, seed=seed)) as harness:
        say(
            f"{label}{profile.name}: harness up ({harness.backend.name} Toxiproxy, "
            f"seed {harness.seed}, targets {', '.join(t.name for t in targets)})"
        )
        if harness.backend.caveat:
            say(f"{label}{profile.name}: note: {harness.backend.caveat}")
        env = _command_env(harness, profile)
        env.update(sink.env(env))  # a request that bypasses the harness meets the sink
        harness.apply(profile)
        applied_at = time.time()
        say(f"{label}{profile.name}: running {_shown(command)}")
        result = run_command(command, env=env, timeout=timeout)
        # incident time 0: the first request (start: first_request) or the apply
        started_at = harness.clock_started or applied_at
        records = harness.journal
        fired = harness.fired()
        seen = harness.phases_seen()
        backend_name = harness.backend.name
        unseen = harness.network_unseen
        used_seed = harness.seed
    verdict = Verdict(
        records,
        targets={t.name: t.dialect_name for t in targets},
        declared=fired,
        unseen=unseen,
    )
    silent = _silent(profile, fired, seen)
    outcome, reason = _judge(result, silent, strict=strict, requests=len(records))
    refused = sink.refused
    if refused and outcome in ("passed", "inconclusive"):
        shown = "; ".join(f"{r.method} {r.host}:{r.port}" for r in refused[:4])
        outcome, reason = (
            "failed",
            (
                f"{len(refused)} request(s) bypassed the harness and were refused by the sink "
                f"({shown}): point the client at the harness (docs/routing.md)"
                + ("" if given.seal else " or pass --allow-network")
            ),
        )
    run = ProfileRun(
        profile=profile.name,
        title=profile.title,
        outcome=outcome,
        reason=reason,
        command=result,
        seed=used_seed,
        backend=backend_name,
        fired=fired,
        silent=silent,
        phases_seen=seen,
        records=records,
        loaded=profile,
        started_at=started_at,
        verdict=verdict,
        strays=sink.strays,
    )
    _count(run, verdict)
    say(f"{label}{profile.name}: {run.summary_line()}")
    if not run.passed:
        say(f"{label}{profile.name}: {reason}")
    return run


def _count(run: ProfileRun, verdict: Verdict) -> None:
    run.calls = len(verdict.calls)
    run.failed_calls = sum(1 for c in verdict.calls if not c.succeeded)
    run.failovers = sum(
        1 for c in verdict.calls if any(a.attribution == "failover" for a in c.attempts)
    )
    attempts = verdict.attempts
    run.failed_attempts = sum(1 for a in attempts if a.failed)
    run.sdk_retries = sum(1 for a in attempts if a.attribution == "sdk_retry")
    run.app_retries = sum(1 for a in attempts if a.attribution == "app_retry")
    run.findings = [f.message for f in verdict.findings()]
    run.journal_text = verdict.describe()


GATE_ENV: tuple[str, ...] = (
    "LLM_CHAOS_ADMIN_URL",
    "LLM_CHAOS_GATE_PROFILE",
    "LLM_CHAOS_GATE_SEED",
)
"""What the command learns about the gate, besides the SDKs' variables. None of them is
an option of the pytest plugin, so a suite run under the gate does not replay the
profile a second time (``LLM_CHAOS_PROFILE`` and ``LLM_CHAOS_SEED`` are the plugin's)."""


def _command_env(harness: Harness, profile: Profile) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in harness.env_unset}
    env.update(harness.env)
    env["LLM_CHAOS_ADMIN_URL"] = harness.admin_url
    env["LLM_CHAOS_GATE_PROFILE"] = profile.name if profile.path is None else str(profile.path)
    env["LLM_CHAOS_GATE_SEED"] = str(harness.seed)
    return env


def _shown(command: Sequence[str]) -> str:
    return shlex.join(command)


# -- the gate -----------------------------------------------------------------------------


@dataclass
class GateReport:
    """Every profile's run, and the renderings CI systems read.

    :param command: the command that was run.
    :param runs: one per profile, in the order given.
    :param strict: whether faults that never fired fail a profile.
    :param started: when the gate started (UTC).
    """

    command: list[str]
    runs: list[ProfileRun]
    strict: bool = True
    started: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def passed(self) -> bool:
        """Whether every profile passed."""
        return all(run.passed for run in self.runs)

    @property
    def exit_code(self) -> int:
        """0 when every profile passed, else 1."""
        return 0 if self.passed else 1

    def matrix(self) -> str:
        """The profile × outcome matrix as a text table."""
        head = ("profile", "outcome", "exit", "calls", "failed", "failovers", "faults", "time")
        rows = [head]
        for run in self.runs:
            status = str(run.command.returncode)
            if run.command.signal:
                status += f" ({run.command.signal})"
            rows.append(
                (
                    run.profile,
                    run.outcome,
                    status,
                    str(run.calls),
                    str(run.failed_calls),
                    str(run.failovers),
                    f"{run.faults_fired}/{run.faults_declared}",
                    f"{run.command.duration:.1f}s",
                )
            )
        widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
        lines = [
            "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows
        ]
        lines.insert(1, "  ".join("-" * w for w in widths))
        passed = sum(run.passed for run in self.runs)
        lines.append("")
        lines.append(
            f"{passed} of {len(self.runs)} profile(s) passed"
            + ("" if self.passed else "; the gate FAILED")
        )
        for run in self.runs:
            if not run.passed:
                lines.append(f"  {run.profile}: {run.reason}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """The gate's result as JSON-ready data (``gate.json``)."""
        return {
            "version": 1,
            "command": list(self.command),
            "started": self.started.isoformat(timespec="seconds"),
            "strict": self.strict,
            "passed": self.passed,
            "exit_code": self.exit_code,
            "profiles": len(self.runs),
            "failed": sum(not r.passed for r in self.runs),
            "runs": [run.to_dict() for run in self.runs],
        }

    def to_json(self) -> str:
        """:meth:`to_dict` as indented JSON text."""
        return json.dumps(self.to_dict(), indent=2) + "\n"

    def to_markdown(self) -> str:
        """The matrix and each profile's story as Markdown (``gate.md``)."""
        verdict = "passed" if self.passed else "FAILED"
        lines = [
            "# llm-chaos gate",
            "",
            f"`{_shown(self.command)}` under {len(self.runs)} profile(s): **{verdict}**"
            f" ({'strict' if self.strict else 'not strict'}; {self.started:%Y-%m-%d %H:%M} UTC)",
            "",
            "| profile | outcome | exit | calls | failed calls | failovers | SDK retries "
            "| app retries | faults fired | time |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in self.runs:
            status = str(run.command.returncode)
            if run.command.signal:
                status += f" ({run.command.signal})"
            lines.append(
                f"| {run.profile} | {run.outcome} | {status} | {run.calls} | {run.failed_calls} "
                f"| {run.failovers} | {run.sdk_retries} | {run.app_retries} "
                f"| {run.faults_fired}/{run.faults_declared} | {run.command.duration:.1f}s |"
            )
        for run in self.runs:
            lines += ["", f"## {run.profile}: {run.outcome}", "", f"{run.title}", ""]
            lines.append(f"- why: {run.reason}")
            lines.append(f"- seed {run.seed}, backend {run.backend}")
            lines += [f"- bypassed the harness: {s.line()}" for s in run.strays]
            lines.append(f"- phases reached: {', '.join(run.phases_seen) or 'none'}")
            if run.silent:
                lines.append(f"- faults that never fired: {', '.join(run.silent)}")
            lines += [f"- finding: {text}" for text in run.findings]
            timeline = run.files.get("timeline")
            if timeline:
                lines += ["", f"![timeline of {run.profile}]({Path(timeline).name})"]
        return "\n".join(lines) + "\n"

    def to_junit(self) -> str:
        """JUnit XML: one testcase per profile; a failing one's message says why."""
        failures = sum(r.outcome in ("failed", "inconclusive") for r in self.runs)
        errors = sum(r.outcome in ("crashed", "timeout", "error") for r in self.runs)
        total = sum(r.command.duration for r in self.runs)
        suites = ET.Element(
            "testsuites",
            name="llm-chaos",
            tests=str(len(self.runs)),
            failures=str(failures),
            errors=str(errors),
            time=f"{total:.3f}",
        )
        suite = ET.SubElement(
            suites,
            "testsuite",
            name="llm-chaos run",
            tests=str(len(self.runs)),
            failures=str(failures),
            errors=str(errors),
            skipped="0",
            time=f"{total:.3f}",
            timestamp=self.started.isoformat(timespec="seconds"),
        )
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="command", value=_shown(self.command))
        ET.SubElement(props, "property", name="strict", value=str(self.strict).lower())
        for run in self.runs:
            case = ET.SubElement(
                suite,
                "testcase",
                classname="llm-chaos",
                name=run.profile,
                time=f"{run.command.duration:.3f}",
            )
            if not run.passed:
                tag = "failure" if run.outcome in ("failed", "inconclusive") else "error"
                node = ET.SubElement(case, tag, message=run.reason, type=run.outcome)
                node.text = _junit_body(run)
            out = ET.SubElement(case, "system-out")
            out.text = run.summary_line() + f" (seed {run.seed}, backend {run.backend})\n"
        ET.indent(suites)
        body: str = ET.tostring(suites, encoding="unicode")
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _junit_body(run: ProfileRun) -> str:
    lines = [run.reason, "", run.summary_line(), f"phases reached: {', '.join(run.phases_seen)}"]
    lines += [f"finding: {text}" for text in run.findings]
    lines += [f"bypassed the harness: {s.line()}" for s in run.strays]
    if run.records:
        lines += ["", "calls:", run.journal_text]
    return "\n".join(lines)


def run_gate(
    profiles: Sequence[Profile],
    command: Sequence[str],
    *,
    settings: Settings | None = None,
    timeout: float | None = None,
    strict: bool = True,
    progress: Progress | None = None,
) -> GateReport:
    """Run ``command`` once per profile, each under a fresh harness.

    :param profiles: loaded profiles (see :func:`load_profiles`).
    :param command: the program and its arguments (no shell).
    :param settings: the harness's settings (targets, seed, backend, Toxiproxy URL,
        allow_network). No targets: ``anthropic`` and ``openai`` on their fakes, so an
        app that fails over from one to the other never reaches a real provider; the
        targets a profile declares and the settings omit are added. No seed: the
        profile's, else random.
    :param timeout: seconds the command may run per profile (None: no limit).
    :param strict: fail a profile whose declared faults (of the phases it reached)
        never fired.
    :param progress: called with one line per step.
    """
    if not command:
        raise ConfigError("no command to run: put it after --, e.g. llm-chaos run -p X -- pytest")
    runs = [
        run_profile(
            profile,
            command,
            settings=settings,
            timeout=timeout,
            strict=strict,
            progress=progress,
            label=f"[{index}/{len(profiles)}] ",
        )
        for index, profile in enumerate(profiles, 1)
    ]
    return GateReport(list(command), runs, strict=strict)


def _with_profile_targets(targets: Sequence[Target], profile: Profile) -> tuple[Target, ...]:
    out = list(targets)
    names = {t.name for t in out}
    out += [spec for name, spec in profile.targets.items() if name not in names]
    return tuple(out)


# -- files --------------------------------------------------------------------------------


def write_reports(report: GateReport, directory: str | os.PathLike[str]) -> list[Path]:
    """Write ``journal-<profile>.json``, ``timeline-<profile>.svg``, the fault-coverage
    report (``coverage.json``, ``coverage.md``), ``gate.json``, ``gate.md`` and
    ``junit.xml`` into ``directory`` (a :class:`chaos.report.ReportBundle`); return the files.
    """
    from chaos.profiles import load_profile
    from chaos.report import ReportBundle, RunReport
    from chaos.verdict import Verdict

    bundle = ReportBundle(directory, meta={"command": _shown(report.command)})
    for run in report.runs:
        profile = run.loaded if run.loaded is not None else load_profile(run.profile)
        files = bundle.add(
            RunReport(
                run.profile,
                run.records,
                profile=profile,
                fired=run.fired,
                verdict=run.verdict or Verdict(run.records, declared=run.fired),
                title=f"{run.profile}: {_shown(report.command)} ({run.outcome})",
                targets=sorted(set(profile.targets) | {r.target for r in run.records}) or None,
                origin=run.started_at if profile.clock == "wall" else None,
            )
        )
        run.files.update((kind, str(path)) for kind, path in files.items())
    bundle.write_coverage()
    bundle.write_text("gate.json", report.to_json())
    bundle.write_text("gate.md", report.to_markdown())
    bundle.write_text("junit.xml", report.to_junit())
    return bundle.written
