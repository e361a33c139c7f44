"""What the plugin keeps per session (one per xdist worker) and per chaos test, the settings
read through the one precedence rule, and starting the session's harness (the gate's under
``llm-chaos run``)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from chaos._errors import ConfigError, did_you_mean
from chaos.harness import _settings as opts

if TYPE_CHECKING:
    from chaos.harness import HarnessLike
    from chaos.plugin._fixture import ChaosFixture
    from chaos.report import Reporter
    from chaos.routing import EarlyRouting, Guard, Routing
    from chaos.verdict import Verdict

from chaos.plugin._marker import MarkerOptions

# -- session state -------------------------------------------------------------


@dataclass
class _Session:
    """What the plugin keeps for one pytest session (one per xdist worker)."""

    config: pytest.Config
    harness: HarnessLike | None = None
    reporter: Reporter | None = None
    targets: dict[str, str] = field(default_factory=dict)
    # controller-side aggregation of every chaos test's summary (xdist-safe)
    totals: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    tests: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    harnesses: dict[str, str] = field(default_factory=dict)
    idle: int = 0
    # session-level settings, resolved once (they cannot change during a run)
    resolved: dict[str, Any] = field(default_factory=dict)
    announced: bool = False
    env: dict[tuple[str, ...], Routing] = field(default_factory=dict)
    # the environment routed while test modules are imported (import-time clients)
    early: EarlyRouting | None = None
    early_checked: bool = False
    connections: dict[str, int] = field(default_factory=dict)

    def setting(self, setting: opts.Setting[Any]) -> Any:
        """The session value of ``setting`` (no marker layer), resolved once."""
        if setting.name not in self.resolved:
            self.resolved[setting.name] = _resolve(self.config, setting).value
        return self.resolved[setting.name]


@dataclass
class _TestRun:
    """One chaos test in progress."""

    options: MarkerOptions
    strict: bool
    profile: str | None
    scope: dict[str, Any] = field(default_factory=dict)  # chaos.plugin._fixture.scope's arguments
    fixture: ChaosFixture = field(init=False)
    verdict: Verdict | None = None
    guard: Guard | None = None


_SESSION = pytest.StashKey[_Session]()
_RUN = pytest.StashKey[_TestRun]()
_PARAM = pytest.StashKey[str]()
_USER_PROPERTY = "llm_chaos"


def _resolve(config: pytest.Config, setting: opts.Setting[Any], **layers: Any) -> Any:
    """One setting through the precedence rule, reading the CLI and ini layers."""
    cli = config.getoption(setting.name, None) if setting.cli else None
    ini = config.getini(setting.ini) if setting.ini else None
    return opts.resolve(setting, cli=cli, ini=ini, **layers)


def _worker_id() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "master")


def _profile_dirs(config: pytest.Config, test_dir: Path | None) -> list[str]:
    dirs = [str(d) for d in config.stash[_SESSION].setting(opts.PROFILES_DIRS)]
    base = config.rootpath
    dirs = [d if os.path.isabs(d) else str(base / d) for d in dirs]
    if test_dir is not None:
        dirs.insert(0, str(test_dir))
    return dirs


def _profile_names(config: pytest.Config, test_dir: Path | None) -> list[str]:
    """Every profile name a glob can match: the test's folder, user folders, built-ins."""
    from chaos.profiles import find_profiles

    dirs = _profile_dirs(config, None)
    if test_dir is not None:
        dirs.insert(0, str(test_dir / "fault_profiles"))
    return [info.name for info in find_profiles(dirs)]


def _profile_all(config: pytest.Config) -> bool:
    try:
        return bool(config.stash[_SESSION].setting(opts.PROFILE_ALL))
    except ConfigError:
        return True  # let the fixture report the bad value, test by test


def _start_harness(config: pytest.Config, chaos_config: Mapping[str, Any]) -> HarnessLike:
    from chaos._gate_client import from_environ
    from chaos.common import Target
    from chaos.harness import Harness
    from chaos.providers import DIALECTS

    gate = from_environ(os.environ)
    if gate is not None:  # under `llm-chaos run`: its harness, its profile, its journal
        gate.start()
        config.stash[_SESSION].targets = {t.name: t.dialect_name for t in gate.targets}
        return gate

    code = dict(chaos_config)
    code_targets = code.pop("targets", None)  # Target objects, names or a mapping

    def setting(s: opts.Setting[Any]) -> Any:
        return _resolve(config, s, code=code.pop(s.name, None)).value

    specs = {t.name: t for t in setting(opts.TARGETS)}
    for extra in config.hook.pytest_chaos_targets(config=config):
        for item in extra or ():
            if isinstance(item, str):
                (spec,) = opts.parse_targets(item)
                specs[spec.name] = spec
            else:
                dialect = getattr(item, "dialect_name", None) or item.dialect
                specs[item.name] = Target(item.name, dialect, item.upstream)
    if not specs:
        specs = {name: Target(name) for name in DIALECTS}
    for spec in specs.values():
        if spec.dialect not in DIALECTS:
            raise ConfigError(
                f"target {spec.name!r}: unknown dialect {spec.dialect!r}"
                + did_you_mean(spec.dialect, DIALECTS, parens=True)
                + f"; valid dialects: {', '.join(sorted(DIALECTS))}"
            )
    values = {s.name: setting(s) for s in opts.SETTINGS if s is not opts.TARGETS}
    targets = code_targets or tuple(specs.values())
    code = {k: v for k, v in code.items() if k not in values}
    settings = opts.Settings.of(
        {**values, "targets": targets, "name_prefix": f"llm-chaos-{_worker_id()}", **code}
    )
    harness = Harness(settings)
    harness.start()
    config.stash[_SESSION].targets = {t.name: t.dialect_name for t in harness.targets}
    return harness
