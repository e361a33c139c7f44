"""The plugin's hooks: registration (options, ini, marker, hookspecs, report header), routing
while the test modules are imported, one run per profile, the built-in reporter, clean-up."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from chaos._errors import ChaosError, ConfigError
from chaos.harness import _settings as opts
from chaos.plugin import _hookspecs

if TYPE_CHECKING:
    from chaos.report import Reporter

from chaos.plugin._marker import MARKER_HELP, marker_options
from chaos.plugin._session import (
    _SESSION,
    _profile_all,
    _profile_names,
    _resolve,
    _Session,
    _start_harness,
)
from chaos.plugin._summary import _Collector

# -- registration --------------------------------------------------------------


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Register the ``pytest_chaos_*`` hooks."""
    pluginmanager.add_hookspecs(_hookspecs)


def pytest_addoption(parser: pytest.Parser) -> None:
    """The ``llm-chaos`` option group and its ini twins (same help texts)."""
    group = parser.getgroup("llm-chaos", "llm-chaos: chaos testing of LLM API dependencies")
    for s in opts.SETTINGS:
        if s.cli and s.flag:
            group.addoption(s.cli, action="store_true", default=None, dest=s.name, help=s.help)
        elif s.cli:
            group.addoption(
                s.cli,
                dest=s.name,
                default=None,
                metavar=s.metavar,
                choices=s.valid,
                action="append" if s.many else "store",
                help=s.help,
            )
        if s.ini:
            env = f" (env {', '.join(s.env)})" if s.env else ""
            parser.addini(s.ini, s.help + env, type=s.ini_type, default=None)  # type: ignore[arg-type]


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker and the session state."""
    config.addinivalue_line("markers", MARKER_HELP)
    state = _Session(config)
    config.stash[_SESSION] = state
    config.pluginmanager.register(_Collector(state), "llm-chaos-collector")


def pytest_report_header(config: pytest.Config) -> str:
    """The active chaos settings, so a failing run can be reproduced."""
    parts = []
    for setting in (opts.PROFILE, opts.BACKEND, opts.SEED, opts.TOXIPROXY_URL):
        try:
            r = _resolve(config, setting)
        except ConfigError as exc:
            parts.append(f"{setting.name}: invalid ({exc})")
            continue
        value = r.value if r.value is not None else ("random" if setting is opts.SEED else "-")
        where = "" if r.source == "default" else f" ({r.source})"
        parts.append(f"{setting.name.replace('_', '-')} {value}{where}")
    try:
        if _resolve(config, opts.PROFILE_ALL).value:
            parts.append("scope: whole suite")
    except ConfigError:
        pass
    from chaos._gate_client import ADMIN_ENV, PROFILE_ENV

    if os.environ.get(ADMIN_ENV):
        parts.append(
            f"under llm-chaos run (profile {os.environ.get(PROFILE_ENV, '?')}): the chaos "
            f"fixture uses the gate's harness at {os.environ[ADMIN_ENV]}"
        )
    return "llm-chaos: " + ", ".join(parts)


# -- routing before the test modules are imported ---------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makemodule(module_path: Path, parent: pytest.Collector) -> None:
    """Before the first test module that uses chaos is imported (or any, under
    ``--chaos-profile-all``): start the session's harness and route the environment,
    so that clients the app builds at import are routed too. Put back when the
    collection ends (see :func:`pytest_collection_finish`); docs/routing.md."""
    config = parent.config
    state = config.stash.get(_SESSION, None)
    if state is None or state.early_checked or config.option.collectonly:
        return
    if not (_profile_all(config) or _uses_chaos(module_path)):
        return
    state.early_checked = True
    from chaos.routing import track_clients

    track_clients()  # so that a refusal can say where its client was built
    if _chaos_config_overridden(config, module_path):
        return  # its harness starts with the fixture; the guard catches what is missed
    from chaos._gate_client import ADMIN_ENV

    if os.environ.get(ADMIN_ENV):
        return  # under llm-chaos run, the environment already routes to the gate
    from chaos.routing import EarlyRouting, routing_for

    try:
        harness = _start_harness(config, {})
    except (ChaosError, OSError):
        return  # the chaos fixture reports it, test by test
    state.harness = harness
    routing = routing_for(list(state.targets), harness.endpoints, harness.dialect)
    state.early = EarlyRouting(routing)
    state.early.apply()


def pytest_collection_finish(session: pytest.Session) -> None:
    """The environment goes back to what it was: ordinary tests see it unrouted, chaos
    tests are routed by the fixture, and clients built at import keep the harness."""
    state = session.config.stash.get(_SESSION, None)
    if state is not None and state.early is not None:
        state.early.restore()


def _uses_chaos(path: Path) -> bool:
    from chaos.routing import uses_chaos

    return uses_chaos(path)


def _chaos_config_overridden(config: pytest.Config, module_path: Path) -> bool:
    """Whether a conftest (loaded so far) or the module overrides ``chaos_config``,
    whose value, a fixture's, is not known before the tests run."""
    ours = config.pluginmanager.get_plugin("llm_chaos")
    for plugin in config.pluginmanager.get_plugins():
        if plugin is not ours and callable(getattr(plugin, "chaos_config", None)):
            return True
    try:
        return "chaos_config" in module_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


# -- parametrisation: profiles=[...] or a glob ----------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One run per profile for ``@pytest.mark.chaos(profiles=...)``, ids ``[profile=NAME]``."""
    if metafunc.definition.get_closest_marker("chaos") is None:
        return
    try:
        options = marker_options(metafunc.definition)
    except ConfigError:
        return  # reported by the fixture, as an error of this test only
    if options.profiles is None:
        return
    patterns = [options.profiles] if isinstance(options.profiles, str) else options.profiles
    names: list[str] = []
    for pattern in patterns:
        if not any(ch in pattern for ch in "*?["):
            names.append(pattern)
            continue
        found = _profile_names(metafunc.config, Path(metafunc.definition.path).parent)
        matched = sorted(fnmatch.filter(found, pattern))
        names.extend(matched or [f"!{pattern}"])
    metafunc.parametrize(
        "_llm_chaos",
        list(dict.fromkeys(names)),
        indirect=True,
        ids=[f"profile={n.lstrip('!')}" for n in dict.fromkeys(names)],
    )


# -- reporting ----------------------------------------------------------------------


@pytest.hookimpl(trylast=True)
def pytest_chaos_make_reporter(config: pytest.Config) -> Reporter | None:
    """The built-in reporter (``chaos.report``), used unless a conftest returns one."""
    try:
        import chaos.report as report
    except ImportError:
        return None
    factory = getattr(report, "make_reporter", None)
    if factory is None:
        return None
    path = _resolve(config, opts.REPORT).value
    result: Reporter | None = factory(config, path=path)
    return result


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop a harness the session fixture could not (an interrupted run)."""
    state = config.stash.get(_SESSION, None)
    if state is not None and state.early is not None:
        state.early.restore()  # a collection that never finished (interrupted, -x)
    if state is not None and state.early_checked:
        from chaos.routing import untrack_clients

        untrack_clients()
    if state is not None and state.harness is not None:
        state.harness.stop()
