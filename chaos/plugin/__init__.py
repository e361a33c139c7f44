"""The pytest plugin (``pytest11`` entry point ``llm_chaos``).

It decides; the heavy parts (the harness, gateway, Toxiproxy, providers) load
lazily, only when a test uses the harness. A test uses it when it requests
the ``chaos`` fixture, carries the ``chaos`` marker, or when the run was
started with ``--chaos-profile-all``.

One harness per session (per xdist worker: its own ports and proxy names),
started on first use and stopped at the end of the session. Every chaos test
ends with a reset, so no fault leaks into the next test, pass or fail.
User guide: docs/plugin.md.
"""

from __future__ import annotations

import contextlib
import fnmatch
import inspect
import os
import warnings
from collections.abc import Generator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from chaos._errors import ChaosError, ConfigError, did_you_mean
from chaos.common import _vtime
from chaos.harness import _settings as opts
from chaos.plugin import _hookspecs

if TYPE_CHECKING:
    from chaos.harness._contract import HarnessLike
    from chaos.plugin._fixture import ChaosFixture
    from chaos.report import Reporter
    from chaos.routing._env import EarlyRouting, Routing
    from chaos.routing._guard import Guard
    from chaos.verdict import Verdict

__all__ = ["MARKER_HELP", "ChaosWarning", "MarkerOptions", "marker_options"]

_DOCS = "docs/plugin.md in pytest-llm-chaos"


class ChaosWarning(pytest.PytestWarning):
    """A chaos test proved less than it seems (e.g. the SDK's own retries absorbed
    every injected fault, so the app's fallback never ran)."""


def _marker_signature(
    *,
    profile: str | None = None,
    profiles: str | Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    strict: bool = True,
    seed: int | None = None,
    params: Mapping[str, Any] | None = None,
    route_env: bool = True,
    time: str | None = None,
) -> None:
    """The ``chaos`` marker's signature: the one list of its keywords and defaults
    (``MARKER_HELP`` spells it out; a test keeps the two in step)."""


_MARKER_ARGS: tuple[str, ...] = tuple(inspect.signature(_marker_signature).parameters)

MARKER_HELP = (
    "chaos(*, profile=None, profiles=None, targets=None, strict=True, seed=None, "
    "params=None, route_env=True, time=None): run the test under the LLM chaos harness. "
    "profile: a fault profile applied for the test; profiles: a list or glob, one run "
    "per profile; targets: only route these targets; strict: fail as inconclusive when "
    "a declared fault never fired; seed: the fault seed; params: profile parameters; "
    "route_env: point the SDKs' environment at the harness; time: 'real' or 'virtual' "
    f"(sleeps take no time; docs/virtual-time.md). See {_DOCS}"
)


@dataclass(frozen=True)
class MarkerOptions:
    """The merged ``chaos`` marker of one test (closest marker wins per keyword)."""

    profile: str | None = None
    profiles: tuple[str, ...] | str | None = None
    targets: tuple[str, ...] | None = None
    strict: bool = True
    seed: int | None = None
    params: Mapping[str, Any] | None = None
    route_env: bool = True
    time: str | None = None


_TYPES: Mapping[str, tuple[type, ...]] = {
    "profile": (str, os.PathLike),
    "strict": (bool,),
    "seed": (int,),
    "params": (Mapping,),
    "route_env": (bool,),
    "time": (str,),
}


def marker_options(node: pytest.Item | pytest.Function) -> MarkerOptions:
    """Bind the test's ``chaos`` markers; the closest marker wins per keyword.

    :raises ConfigError: an argument is unknown, positional or of the wrong type.
    """
    kwargs: dict[str, Any] = {}
    for mark in node.iter_markers("chaos"):
        if mark.args:
            raise ConfigError(
                "@pytest.mark.chaos takes keyword arguments only, e.g. "
                f"@pytest.mark.chaos(profile={mark.args[0]!r}); got {mark.args!r}"
            )
        kwargs = {**mark.kwargs, **kwargs}
    unknown = [k for k in kwargs if k not in _MARKER_ARGS]
    if unknown:
        name = unknown[0]
        hint = did_you_mean(name, _MARKER_ARGS, parens=True)
        raise ConfigError(
            f"@pytest.mark.chaos got an unknown argument {name!r}{hint}; "
            f"valid arguments: {', '.join(_MARKER_ARGS)}"
        )
    for key, types in _TYPES.items():
        value = kwargs.get(key)
        bad_bool = key == "seed" and isinstance(value, bool)
        if value is not None and (not isinstance(value, types) or bad_bool):
            want = " or ".join(t.__name__ for t in types)
            raise ConfigError(
                f"@pytest.mark.chaos({key}={value!r}): expected {want}, got {type(value).__name__}"
            )
    profiles = kwargs.get("profiles")
    if profiles is not None and not isinstance(profiles, str):
        if not _is_str_seq(profiles) or not profiles:
            raise ConfigError(
                f"@pytest.mark.chaos(profiles={profiles!r}): expected a glob such as "
                "'overloaded-*' or a non-empty list of profile names"
            )
        profiles = tuple(profiles)
    targets = kwargs.get("targets")
    if targets is not None:
        if isinstance(targets, str):
            targets = (targets,)
        if not _is_str_seq(targets):
            raise ConfigError(
                f"@pytest.mark.chaos(targets={targets!r}): expected a list of target names"
            )
        targets = tuple(targets)
    if kwargs.get("profile") is not None and profiles is not None:
        raise ConfigError(
            "@pytest.mark.chaos: give either profile= (one profile) or profiles= "
            "(one run per profile), not both"
        )
    profile = kwargs.get("profile")
    return MarkerOptions(
        profile=os.fspath(profile) if profile is not None else None,
        profiles=profiles,
        targets=targets,
        strict=kwargs.get("strict", True),
        seed=kwargs.get("seed"),
        params=kwargs.get("params"),
        route_env=kwargs.get("route_env", True),
        time=kwargs.get("time"),
    )


def _is_str_seq(value: object) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)


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
    from chaos.routing._guard import track_clients

    track_clients()  # so that a refusal can say where its client was built
    if _chaos_config_overridden(config, module_path):
        return  # its harness starts with the fixture; the guard catches what is missed
    from chaos._gate_client import ADMIN_ENV

    if os.environ.get(ADMIN_ENV):
        return  # under llm-chaos run, the environment already routes to the gate
    from chaos.routing._env import EarlyRouting, routing_for

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
    from chaos.routing._env import uses_chaos

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


# -- fixtures --------------------------------------------------------------------


@pytest.fixture(scope="session")
def chaos_config() -> dict[str, Any]:
    """Fields of the ``chaos.Settings`` the session's ``chaos.Harness`` is built from
    (targets, backend, seed, ...; an unknown name is an error).

    Override it in your root ``conftest.py`` (session scope). The command line
    and ``LLM_CHAOS_*`` variables win over it; it wins over the ini file.
    """
    return {}


@pytest.fixture
def chaos_profile_dir(request: pytest.FixtureRequest) -> Path:
    """The folder searched first for profiles named in this test (default: a
    ``fault_profiles`` folder next to the test module). Override to change it."""
    return Path(request.node.path).parent / "fault_profiles"


@pytest.fixture(scope="session")
def _llm_chaos_harness(
    pytestconfig: pytest.Config, chaos_config: Mapping[str, Any]
) -> Generator[HarnessLike, None, None]:
    """The session's harness, started on first use and stopped at the end."""
    state = pytestconfig.stash[_SESSION]
    harness = state.harness  # started early, while the test modules were imported
    if harness is not None and chaos_config:
        # a chaos_config this plugin could not see at collection: its harness wins
        # (clients built at import now point at a stopped harness: refused, not leaked)
        harness.stop()
        harness = None
    if harness is None:
        harness = _start_harness(pytestconfig, chaos_config)  # registers its own atexit stop
    state.harness = harness
    try:
        pytestconfig.hook.pytest_chaos_configure(config=pytestconfig, harness=harness)
        state.reporter = pytestconfig.hook.pytest_chaos_make_reporter(config=pytestconfig)
        if state.reporter is not None:
            state.reporter.on_session_start(pytestconfig)
        yield harness
    finally:
        try:
            if state.reporter is not None:
                state.reporter.on_session_end(pytestconfig)
        finally:
            harness.stop()
            state.harness = None


def _start_harness(config: pytest.Config, chaos_config: Mapping[str, Any]) -> HarnessLike:
    from chaos._gate_client import from_environ
    from chaos.harness._harness import Harness, Target
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


@pytest.fixture(autouse=True)
def _llm_chaos(request: pytest.FixtureRequest) -> None:
    """Internal: takes the profile of ``profiles=`` runs, and brings the harness to
    tests that carry the marker or run under ``--chaos-profile-all`` without
    requesting ``chaos``."""
    param = getattr(request, "param", None)
    if param is not None:
        request.node.stash[_PARAM] = param
    if "chaos" in request.fixturenames:
        return
    if request.node.get_closest_marker("chaos") is not None or _profile_all(request.config):
        request.getfixturevalue("chaos")


def _check_request(request: pytest.FixtureRequest, profile_dir: Path) -> MarkerOptions:
    """The test's marker options; a bad marker (or a profile it names that does not
    exist) fails this test only, at once, before the harness starts."""
    param = request.node.stash.get(_PARAM, None)
    if param is not None and param.startswith("!"):
        names = _profile_names(request.config, Path(request.node.path).parent)
        raise ConfigError(
            f"@pytest.mark.chaos(profiles={param[1:]!r}) matched no profile; "
            f"available: {', '.join(names) or 'none'}"
        )
    options = marker_options(request.node)
    name = param if param is not None else options.profile
    if name is not None:
        from chaos.profiles import resolve_profile

        resolve_profile(name, dirs=[str(profile_dir), *_profile_dirs(request.config, None)])
    return options


def _profile_all(config: pytest.Config) -> bool:
    try:
        return bool(config.stash[_SESSION].setting(opts.PROFILE_ALL))
    except ConfigError:
        return True  # let the fixture report the bad value, test by test


@pytest.fixture
def chaos(
    request: pytest.FixtureRequest,
    chaos_profile_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Generator[ChaosFixture, None, None]:
    """The LLM chaos harness, for this test.

    Attributes: ``endpoints`` (target -> base URL), ``env`` (variables set for
    the SDKs), ``seed``, ``journal``, ``verdict`` (a ``chaos.Verdict`` with
    ``assert_failed_over``, ``assert_retry_budget``, ...). Methods:
    ``apply(profile)``, ``inject(target, **fault)``, ``fault(target, **fault)``
    (a ``with`` block), ``clear()``.

    ANTHROPIC_BASE_URL, OPENAI_BASE_URL, the Gemini variables and dummy API keys
    point at the harness during the test (``@pytest.mark.chaos(route_env=False)``
    to opt out). A profile from the marker or ``--chaos-profile`` is applied
    first. After the test, faults and journal are reset, pass or fail; a test
    whose declared faults never fired fails as inconclusive (``strict=False``
    to relax).
    """
    problem = None
    try:
        options = _check_request(request, chaos_profile_dir)
        clock = _clock(request.config, options)
    except ConfigError as exc:
        problem = str(exc)
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    # requested only now, so that a bad marker never starts the harness
    harness: HarnessLike = request.getfixturevalue("_llm_chaos_harness")
    from chaos.plugin._fixture import scope

    item = request.node
    with contextlib.ExitStack() as stack:
        try:  # the scope resets the harness on the way out, even when its way in failed
            run = _begin(request, harness, options, chaos_profile_dir, monkeypatch)
            run.fixture = stack.enter_context(scope(harness, **run.scope))
        except ChaosError as exc:
            problem = str(exc)
        if problem is not None:
            pytest.fail(problem, pytrace=False)
        item.stash[_RUN] = run
        state = request.config.stash[_SESSION]
        assert run.guard is not None
        # under llm-chaos run the harness (and its clock) is the gate's: real time
        virtual = clock == "virtual" and harness.gate_profile is None
        if virtual:
            try:
                _vtime.activate()
            except ConfigError as exc:
                del item.stash[_RUN]
                pytest.fail(str(exc), pytrace=False)
        try:
            run.guard.install()
            if state.reporter is not None:
                state.reporter.on_test_start(item, harness, None)
            yield run.fixture
        finally:
            if virtual:
                _vtime.deactivate()
            run.guard.uninstall()
            try:
                _end(request, run, harness)
            finally:
                del item.stash[_RUN]


def _begin(
    request: pytest.FixtureRequest,
    harness: HarnessLike,
    options: MarkerOptions,
    profile_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> _TestRun:
    """What this test's scope over the harness is: targets, environment, profile, seed."""
    config = request.config
    item = request.node
    state = config.stash[_SESSION]
    # strictness is for tests that asked for chaos, not for ordinary tests run
    # under --chaos-profile-all (most of them never call a provider)
    asked = "chaos" in item.fixturenames or item.get_closest_marker("chaos") is not None
    selected = dict(state.targets)
    if options.targets is not None:
        for name in options.targets:
            if name not in selected:
                raise ConfigError(
                    f"@pytest.mark.chaos(targets=...): unknown target {name!r}"
                    + did_you_mean(name, selected, parens=True)
                    + f"; the harness has: {', '.join(selected)}"
                )
        selected = {n: d for n, d in selected.items() if n in options.targets}
    param = item.stash.get(_PARAM, None)
    marker_profile = param if param is not None else options.profile
    layers = {"marker": marker_profile} if marker_profile is not None else {}
    profile = (
        _resolve(config, opts.PROFILE, **layers).value if layers else state.setting(opts.PROFILE)
    )
    env: dict[str, str] = {}
    if options.route_env:
        from chaos.routing._env import routing_for

        key = tuple(selected)
        if key not in state.env:
            state.env[key] = routing_for(selected, harness.endpoints, harness.dialect)
        routing = state.env[key]
        env = routing.set
        for var in routing.unset:
            monkeypatch.delenv(var, raising=False)
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    if harness.gate_profile is not None and profile is not None:
        pytest.skip(
            f"chaos profile {profile!r}: this run is under llm-chaos run, whose harness replays "
            f"profile {harness.gate_profile!r}; the test runs outside the gate"
        )
    run = _TestRun(options, strict=options.strict and asked, profile=profile)
    run.scope = {
        "targets": selected,
        "env": env,
        "profile": profile,
        "profile_dirs": [str(profile_dir), *_profile_dirs(config, None)],
        "params": options.params,
        "seed": options.seed,
    }
    run.guard = _make_guard(config, harness)
    return run


def _clock(config: pytest.Config, options: MarkerOptions) -> str:
    """The test's clock, ``real`` or ``virtual``: its marker's, else the session's."""
    if options.time is not None:
        return str(_resolve(config, opts.TIME, marker=options.time).value)
    return str(config.stash[_SESSION].setting(opts.TIME))


def _end(request: pytest.FixtureRequest, run: _TestRun, harness: HarnessLike) -> None:
    """Tell the reporter and leave the test's summary on its report (xdist-safe)."""
    item = request.node
    state = request.config.stash[_SESSION]
    verdict = run.verdict or run.fixture.verdict
    if state.reporter is not None:
        state.reporter.on_test_end(item, harness, verdict)
    gate_profile = harness.gate_profile  # under llm-chaos run
    data: dict[str, Any] = {
        "profile": run.profile
        or (f"{gate_profile} (llm-chaos run's)" if gate_profile else None)
        or "(no profile)",
        "targets": {k: v.to_dict() for k, v in verdict.summary().items()},
        "findings": [f.kind for f in verdict.findings()],
        "idle": not verdict.records,
        "connections": dict(run.guard.connections) if run.guard is not None else {},
    }
    if not state.announced:  # once per worker is enough for the summary
        state.announced = True
        backend = harness.backend
        data["harness"] = (
            f"{_worker_id()}: backend {backend.name} ({backend.reason}), seed {harness.seed}, "
            "endpoints " + ", ".join(f"{k}={v}" for k, v in harness.endpoints.items())
        )
        if backend.caveat:
            data["harness"] += f"; note: {backend.caveat}"
    item.user_properties.append((_USER_PROPERTY, data))


# -- after the test body: strictness and warnings ---------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, None, None]:
    """After a chaos test: fail it when a client bypassed the harness (the guard
    refused its connection, even if the app swallowed the error); after a passing
    one, fail it as inconclusive if a declared fault never fired (strict), and warn
    when only the SDK's retries absorbed faults."""
    try:
        result = yield  # a failing test raises here and is left as it is...
    except BaseException as exc:
        if not isinstance(exc, KeyboardInterrupt | SystemExit):
            _fail_on_bypass(item)  # ...unless it failed because the guard refused
        raise
    _fail_on_bypass(item)
    run = item.stash.get(_RUN, None)
    if run is None:
        return result
    run.verdict = verdict = run.fixture.verdict
    if run.strict and verdict.declared:
        __tracebackhide__ = True
        _strict_check(run)
    for finding in verdict.findings():
        if finding.kind == "sdk_only_absorption":
            warnings.warn(ChaosWarning(finding.message), stacklevel=1)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed chaos test's report shows its calls, as the verdict reads them, and
    (failed on an exception of its own) leads with what happened under chaos."""
    report = yield
    run = item.stash.get(_RUN, None)
    if run is not None and report.failed and report.when == "call":
        report.sections.append(("llm-chaos journal", run.fixture.verdict.describe()))
        from chaos.report._failure import lead_with_chaos

        gate_profile = run.fixture.harness.gate_profile
        lead_with_chaos(item, call, report, run.fixture, run.profile or gate_profile)
    return report


def _fail_on_bypass(item: pytest.Item) -> None:
    run = item.stash.get(_RUN, None)
    if run is None or run.guard is None or not run.guard.refused:
        return
    __tracebackhide__ = True
    messages = dict.fromkeys(r.message() for r in run.guard.refused)  # once each, in order
    pytest.fail("\n".join(messages), pytrace=False)


def _make_guard(config: pytest.Config, harness: HarnessLike) -> Guard:
    """The guard for one chaos test: provider hosts refused unless the network is
    allowed; with --chaos-seal every other non-loopback host but the harness's own."""
    from urllib.parse import urlsplit

    from chaos.providers import DIALECTS
    from chaos.routing._guard import Guard

    state = config.stash[_SESSION]
    own = [state.setting(opts.TOXIPROXY_URL), harness.admin_url]
    own += [t.upstream for t in harness.targets]
    allowed = {urlsplit(u).hostname or "" for u in own if u and "://" in str(u)}
    hosts: dict[str, str] = {}
    for name, dialect in state.targets.items():
        host = getattr(DIALECTS.get(dialect), "host", None)
        if host:
            hosts.setdefault(host, name)
    return Guard(
        allow_providers=bool(state.setting(opts.ALLOW_NETWORK)),
        sealed=bool(state.setting(opts.SEAL)),
        allowed=allowed - {""},
        targets=hosts,
    )


def _strict_check(run: _TestRun) -> None:
    __tracebackhide__ = True
    from chaos.verdict import Verdict

    harness = run.fixture.harness
    declared = dict(harness.fired())
    unreached = _unreached_faults(run, harness)
    for name in unreached:
        declared.pop(name, None)
    Verdict(harness.journal, declared=declared).assert_all_faults_fired()


def _unreached_faults(run: _TestRun, harness: HarnessLike) -> set[str]:
    """Faults of profile phases the test never reached: not the test's to fire."""
    seen = set(harness.phases_seen())
    out: set[str] = set()
    for profile in run.fixture.profiles:
        for phase in getattr(profile, "phases", ()):
            if phase.name in seen:
                continue
            out.update(f.name for f in phase.faults if f.name)
    return out if seen or not run.fixture.profiles else set()


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


class _Collector:
    """Collects every chaos test's summary from the reports (xdist workers' too)
    and prints the terminal summary; registered per config, so no global state."""

    def __init__(self, state: _Session) -> None:
        self.state = state

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Add a finished chaos test's counts."""
        if report.when != "teardown":
            return
        data = next((v for k, v in report.user_properties if k == _USER_PROPERTY), None)
        if not isinstance(data, dict):
            return
        state = self.state
        profile = str(data["profile"])
        state.tests[profile] = state.tests.get(profile, 0) + 1
        per_target = state.totals.setdefault(profile, {})
        for target, counts in data["targets"].items():
            acc = per_target.setdefault(target, {})
            for key, value in counts.items():
                if isinstance(value, int):
                    acc[key] = acc.get(key, 0) + value
        for kind in data["findings"]:
            state.findings[kind] = state.findings.get(kind, 0) + 1
        if data.get("idle"):
            state.idle += 1
        for where, count in (data.get("connections") or {}).items():
            state.connections[where] = state.connections.get(where, 0) + int(count)
        if "harness" in data:
            line = str(data["harness"])
            state.harnesses[line.split(":", 1)[0]] = line

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Per profile and target: calls, attempts, failures, failovers, faults fired."""
        state = self.state
        if not state.tests:
            return
        tr = terminalreporter
        tr.write_sep("=", "llm-chaos summary")
        for line in sorted(state.harnesses.values()):
            tr.write_line(line)
        for profile, per_target in state.totals.items():
            tr.write_line(f"profile {profile}: {state.tests[profile]} test(s)")
            for target, c in per_target.items():
                if not c.get("attempts"):
                    continue  # a target nobody called: nothing to say
                tr.write_line(
                    f"  {target}: {c.get('calls', 0)} calls, {c.get('attempts', 0)} attempts, "
                    f"{c.get('failures', 0)} failed, {c.get('sdk_retries', 0)} SDK retries, "
                    f"{c.get('app_retries', 0)} app retries, "
                    f"{c.get('failovers_from', 0)} failovers away, "
                    f"{c.get('faults_fired', 0)} faults fired"
                )
        if state.idle:
            tr.write_line(
                f"{state.idle} test(s) ran under chaos without any request reaching the "
                "harness: they did not exercise it"
            )
        if state.findings:
            found = ", ".join(f"{k} in {n} test(s)" for k, n in sorted(state.findings.items()))
            tr.write_line(f"findings: {found}")
        if state.connections:
            other = ", ".join(f"{k} ({n})" for k, n in sorted(state.connections.items()))
            tr.write_line(
                f"other connections during chaos tests (allowed; --chaos-seal refuses them): "
                f"{other}"
            )


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop a harness the session fixture could not (an interrupted run)."""
    state = config.stash.get(_SESSION, None)
    if state is not None and state.early is not None:
        state.early.restore()  # a collection that never finished (interrupted, -x)
    if state is not None and state.early_checked:
        from chaos.routing._guard import untrack_clients

        untrack_clients()
    if state is not None and state.harness is not None:
        state.harness.stop()
