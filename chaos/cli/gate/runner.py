"""Running the gate: one command, once per profile, each under a fresh harness.

For each profile: a fresh :class:`~chaos.Harness` (its targets: the profile's,
plus ``anthropic`` and ``openai`` unless targets are given), a stray-request sink
around it, the profile applied, the command run in its own process group
(:mod:`chaos.cli.gate.command`) with the harness's environment, then the journal
read into a :class:`~chaos.verdict.Verdict` and judged
(:mod:`chaos.cli.gate.outcome`).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from chaos._errors import ConfigError
from chaos.cli.gate.command import run_command, shown
from chaos.cli.gate.outcome import ProfileRun, judge, judge_bypass, silent_faults, tally
from chaos.cli.gate.report import GateReport
from chaos.common._target import Target
from chaos.harness._settings import Settings
from chaos.routing._sink import Sink, Stray

if TYPE_CHECKING:
    from chaos.harness._harness import Harness
    from chaos.profiles import Profile

__all__ = [
    "DEFAULT_TARGETS",
    "GATE_ENV",
    "Progress",
    "load_profiles",
    "run_gate",
    "run_profile",
    "with_profile_targets",
]

DEFAULT_TARGETS: tuple[Target, ...] = (Target("anthropic"), Target("openai"))
"""The gate's targets when none are given (a profile's own are added)."""

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
    from chaos.harness._harness import Harness
    from chaos.verdict import Verdict

    given = settings or Settings()
    targets = with_profile_targets(given.targets or DEFAULT_TARGETS, profile)
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
        say(f"{label}{profile.name}: running {shown(command)}")
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
    silent = silent_faults(profile, fired, seen)
    outcome, reason = judge(result, silent, strict=strict, requests=len(records))
    outcome, reason = judge_bypass(outcome, reason, sink.refused, sealed=given.seal)
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
    tally(run, verdict)
    say(f"{label}{profile.name}: {run.summary_line()}")
    if not run.passed:
        say(f"{label}{profile.name}: {reason}")
    return run


GATE_ENV: tuple[str, ...] = (
    "LLM_CHAOS_ADMIN_URL",
    "LLM_CHAOS_GATE_PROFILE",
    "LLM_CHAOS_GATE_SEED",
)
"""What the command learns about the gate, besides the SDKs' variables. None of them is
an option of the pytest plugin, so a suite run under the gate does not replay the
profile a second time (``LLM_CHAOS_PROFILE`` and ``LLM_CHAOS_SEED`` are the plugin's)."""


def _command_env(harness: Harness, profile: Profile) -> dict[str, str]:
    """The command's environment: this process's, the harness's, and :data:`GATE_ENV`."""
    env = {k: v for k, v in os.environ.items() if k not in harness.env_unset}
    env.update(harness.env)
    env["LLM_CHAOS_ADMIN_URL"] = harness.admin_url
    env["LLM_CHAOS_GATE_PROFILE"] = profile.name if profile.path is None else str(profile.path)
    env["LLM_CHAOS_GATE_SEED"] = str(harness.seed)
    return env


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


def with_profile_targets(targets: Sequence[Target], profile: Profile) -> tuple[Target, ...]:
    """``targets`` plus those ``profile`` declares that they do not name."""
    out = list(targets)
    names = {t.name for t in out}
    out += [spec for name, spec in profile.targets.items() if name not in names]
    return tuple(out)
