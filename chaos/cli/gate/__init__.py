"""The CI gate behind ``llm-chaos run``: one command, run once per profile under the harness.

For each profile: a fresh :class:`~chaos.Harness`, the profile applied, the
command run in its own process group with the harness's environment, then the
journal read into a :class:`~chaos.verdict.Verdict`. A profile *passes* when the
command exits 0 and (strict) every declared fault of the phases it reached fired
at least once; a command that exits 0 while its faults never fired proved
nothing: the profile is *inconclusive* and fails the gate.

One module per concern: :mod:`~chaos.cli.gate.command` runs the command,
:mod:`~chaos.cli.gate.runner` runs each profile under its harness,
:mod:`~chaos.cli.gate.outcome` judges a run, :mod:`~chaos.cli.gate.report`
renders and writes the report. The CLI verb stays thin: parse,
:func:`load_profiles`, :func:`run_gate`, print, :func:`write_reports`. Everything
here is usable from a script.
"""

from __future__ import annotations

from chaos.cli.gate.command import CommandResult, run_command
from chaos.cli.gate.outcome import Outcome, ProfileRun
from chaos.cli.gate.report import GateReport, write_reports
from chaos.cli.gate.runner import load_profiles, run_gate, run_profile

__all__ = [
    "CommandResult",
    "GateReport",
    "Outcome",
    "ProfileRun",
    "load_profiles",
    "run_command",
    "run_gate",
    "run_profile",
    "write_reports",
]
