"""The fixtures: ``chaos`` (one test's scope over the session's harness: routing, guard,
clock, profile, reset), the session's harness, and the overridable ``chaos_config`` and
``chaos_profile_dir``."""

from __future__ import annotations

import contextlib
from collections.abc import Generator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from chaos._errors import ChaosError, ConfigError, did_you_mean
from chaos.common import _vtime
from chaos.harness import _settings as opts

if TYPE_CHECKING:
    from chaos.harness import HarnessLike
    from chaos.plugin._fixture import ChaosFixture
    from chaos.routing import Guard

from chaos.plugin._marker import MarkerOptions, marker_options
from chaos.plugin._session import (
    _PARAM,
    _RUN,
    _SESSION,
    _USER_PROPERTY,
    _profile_all,
    _profile_dirs,
    _profile_names,
    _resolve,
    _start_harness,
    _TestRun,
    _worker_id,
)

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
        from chaos.routing import routing_for

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


def _make_guard(config: pytest.Config, harness: HarnessLike) -> Guard:
    """The guard for one chaos test: provider hosts refused unless the network is
    allowed; with --chaos-seal every other non-loopback host but the harness's own."""
    from urllib.parse import urlsplit

    from chaos.providers import DIALECTS
    from chaos.routing import Guard

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
