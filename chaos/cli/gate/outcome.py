"""Judging one profile's run for the gate: its outcome and why, and the verdict's counts.

A profile *passes* when the command exits 0 and (strict) every declared fault of
the phases it reached fired at least once; a command that exits 0 while its
faults never fired proved nothing: the profile is *inconclusive*. A request that
bypassed the harness and was refused by the sink fails a profile that would
otherwise pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from chaos.cli.gate.command import CommandResult

if TYPE_CHECKING:
    from chaos.common._journal import JournalRecord
    from chaos.profiles import Profile
    from chaos.routing._sink import Stray
    from chaos.verdict import Verdict

__all__ = ["Outcome", "ProfileRun", "judge", "judge_bypass", "silent_faults", "tally"]

Outcome = Literal["passed", "failed", "inconclusive", "crashed", "timeout", "error"]


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
        instead of the harness (:mod:`chaos.routing._sink`): refused, or let through.
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


def judge(
    result: CommandResult, silent: Sequence[str], *, strict: bool, requests: int
) -> tuple[Outcome, str]:
    """The outcome of a run whose command ended as ``result``, and one line saying why
    (``silent``: the declared faults of reached phases that never fired)."""
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


def silent_faults(profile: Profile, fired: Mapping[str, int], seen: Sequence[str]) -> list[str]:
    """Declared faults that never fired, leaving out those of phases never reached
    when some phase was (as the pytest plugin's strict check does)."""
    unreached = profile.unreached_faults(seen)
    return [name for name, n in fired.items() if not n and name not in unreached]


def judge_bypass(
    outcome: Outcome, reason: str, refused: Sequence[Stray], *, sealed: bool
) -> tuple[Outcome, str]:
    """Fail a run that would pass (or be inconclusive) when the sink refused requests
    of the command that bypassed the harness; else keep ``outcome`` and ``reason``."""
    if not refused or outcome not in ("passed", "inconclusive"):
        return outcome, reason
    shown = "; ".join(f"{r.method} {r.host}:{r.port}" for r in refused[:4])
    return (
        "failed",
        (
            f"{len(refused)} request(s) bypassed the harness and were refused by the sink "
            f"({shown}): point the client at the harness (docs/routing.md)"
            + ("" if sealed else " or pass --allow-network")
        ),
    )


def tally(run: ProfileRun, verdict: Verdict) -> None:
    """Fill in the counts of ``run`` (calls, failovers, retries, findings) from ``verdict``."""
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
