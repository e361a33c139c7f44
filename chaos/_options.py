"""The settings shared by the pytest plugin and the CLI, and the one precedence rule.

Every setting has up to five layers, and :func:`resolve` is the only place
that orders them::

    marker  >  command line  >  environment (LLM_CHAOS_*)  >  ini (chaos_*)  >  default

(the plugin's ``chaos_config`` fixture, code in the project, sits just above
the ini file).

The closest, most deliberate choice wins: a test's marker beats the run's
command line, which beats the machine's environment, which beats the
project's checked-in ini file. Help texts live here too, so the CLI option
and its ini twin always say the same thing. No pytest import: the CLI uses it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from chaos._errors import ConfigError

__all__ = [
    "ALLOW_NETWORK",
    "BACKEND",
    "BACKENDS",
    "PROFILE",
    "PROFILES_DIRS",
    "PROFILE_ALL",
    "REPORT",
    "SEAL",
    "SEED",
    "SETTINGS",
    "TARGETS",
    "TIME",
    "TOXIPROXY_URL",
    "Resolved",
    "Setting",
    "TargetSpec",
    "resolve",
]

T = TypeVar("T")

BACKENDS: tuple[str, ...] = ("auto", "embedded", "binary", "docker", "external")

_UNSET: Any = object()


@dataclass(frozen=True)
class TargetSpec:
    """One harness target as the options declare it.

    :param name: the target's name (e.g. ``anthropic``).
    :param dialect: the provider dialect it speaks.
    :param upstream: ``fake`` (the built-in fake provider) or an http(s) URL.
    """

    name: str
    dialect: str
    upstream: str = "fake"


@dataclass(frozen=True)
class Setting(Generic[T]):
    """One setting and its spellings in every layer.

    :param name: the internal name, also the marker keyword when ``marker`` is set.
    :param help: the help text, shared by the CLI option and the ini key.
    :param parse: turns a raw value (text, or a marker's Python value) into ``T``;
        raises ``ValueError`` with what is wrong.
    :param default: the value when no layer sets one.
    :param cli: the command-line option, e.g. ``--chaos-seed``.
    :param env: environment variables, first found wins.
    :param ini: the ini key, e.g. ``chaos_seed``.
    :param marker: whether ``@pytest.mark.chaos(<name>=...)`` may set it.
    :param metavar: the CLI's placeholder.
    :param choices: the valid values, when a closed set.
    :param flag: a CLI switch without a value.
    :param ini_type: pytest's ini type (``string``, ``bool``, ``linelist``).
    """

    name: str
    help: str
    parse: Callable[[object], T]
    default: T
    cli: str | None = None
    env: tuple[str, ...] = ()
    ini: str | None = None
    marker: bool = False
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    flag: bool = False
    ini_type: str = "string"


@dataclass(frozen=True)
class Resolved(Generic[T]):
    """A setting's value and where it came from (``marker``, ``--chaos-seed``,
    ``LLM_CHAOS_SEED``, ``ini chaos_seed`` or ``default``), for the run header."""

    value: T
    source: str


def resolve(
    setting: Setting[T],
    *,
    marker: object = _UNSET,
    cli: object = None,
    environ: Mapping[str, str] | None = None,
    code: object = None,
    ini: object = None,
) -> Resolved[T]:
    """The value of ``setting``: the first layer that sets it wins.

    :param marker: the marker's keyword value (leave out when the marker does not set it).
    :param cli: the command-line value (None when not given).
    :param environ: the environment (default: ``os.environ``).
    :param code: the value set in code (the ``chaos_config`` fixture), None when not.
    :param ini: the ini value (None or empty when not set).
    :raises ConfigError: a layer's value is invalid; the message names the layer.
    """
    env = os.environ if environ is None else environ
    # marker > command line > environment > code > ini > default: the closest choice
    # wins; code (the chaos_config fixture) is the project's own, like the ini file,
    # but more specific than it.
    layers: list[tuple[str, object]] = []
    if marker is not _UNSET and setting.marker:
        layers.append((f"@pytest.mark.chaos({setting.name}=...)", marker))
    if setting.cli:
        layers.append((setting.cli, cli))
    for var in setting.env:
        layers.append((var, env.get(var)))
    layers.append(("chaos_config fixture", code))
    if setting.ini:
        layers.append((f"ini {setting.ini}", ini))
    for source, raw in layers:
        if raw is None or raw == "" or raw == []:
            continue
        try:
            return Resolved(setting.parse(raw), source)
        except ValueError as exc:
            raise ConfigError(f"{source}={raw!r}: {exc}") from None
    return Resolved(setting.default, "default")


# -- parsers -------------------------------------------------------------------

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _text(raw: object) -> str | None:
    if not isinstance(raw, str):
        raise ValueError(f"expected text, got {type(raw).__name__}")
    return raw


def _bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError("expected a boolean: one of 1, true, yes, on, 0, false, no, off")


def _seed(raw: object) -> int | None:
    if isinstance(raw, bool):
        raise ValueError("expected an integer seed")
    if isinstance(raw, int):
        return raw
    try:
        return int(str(raw).strip())
    except ValueError:
        raise ValueError("expected an integer seed") from None


def _backend(raw: object) -> str:
    text = str(raw).strip().lower()
    if text not in BACKENDS:
        raise ValueError(f"unknown backend; valid choices: {', '.join(BACKENDS)}")
    return text


def _url(raw: object) -> str | None:
    text = str(raw).strip()
    if not re.match(r"^https?://[^/\s]+", text):
        raise ValueError("expected an http(s) URL such as http://127.0.0.1:8474")
    return text.rstrip("/")


def _lines(raw: object, separator: str) -> list[str]:
    if isinstance(raw, str):
        items: Sequence[object] = raw.replace("\n", separator).split(separator)
    elif isinstance(raw, Sequence):
        items = raw
    else:
        raise ValueError(f"expected text or a list, got {type(raw).__name__}")
    return [str(i).strip() for i in items if str(i).strip()]


def _dirs(raw: object) -> tuple[str, ...]:
    return tuple(_lines(raw, os.pathsep))


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


def parse_targets(raw: object) -> tuple[TargetSpec, ...]:
    """Targets from lines ``name = dialect`` or ``name = dialect upstream-URL``
    (in the environment, lines may be separated by ``;``)."""
    specs: list[TargetSpec] = []
    for line in _lines(raw, ";"):
        name, eq, rest = line.partition("=")
        name, words = name.strip(), rest.split()
        if not eq or not _NAME.match(name) or not 1 <= len(words) <= 2:
            raise ValueError(
                f"bad target line {line!r}: write 'name = dialect' or "
                "'name = dialect http(s)://upstream'"
            )
        upstream = words[1] if len(words) == 2 else "fake"
        if upstream != "fake" and not re.match(r"^https?://", upstream):
            raise ValueError(f"bad upstream {upstream!r} for target {name!r}: 'fake' or a URL")
        if any(s.name == name for s in specs):
            raise ValueError(f"target {name!r} is declared twice")
        specs.append(TargetSpec(name, words[0], upstream))
    return tuple(specs)


# -- the settings --------------------------------------------------------------

PROFILE: Setting[str | None] = Setting(
    "profile",
    "Fault profile (built-in name or YAML path) applied to every test that uses the chaos harness",
    _text,
    None,
    cli="--chaos-profile",
    env=("LLM_CHAOS_PROFILE",),
    ini="chaos_profile",
    marker=True,
    metavar="NAME|PATH",
)
PROFILE_ALL: Setting[bool] = Setting(
    "profile_all",
    "Run every test of the suite under the chaos profile, with the provider "
    "environment routed to the harness, not only the tests that use chaos",
    _bool,
    False,
    cli="--chaos-profile-all",
    env=("LLM_CHAOS_PROFILE_ALL",),
    ini="chaos_profile_all",
    flag=True,
    ini_type="bool",
)
BACKEND: Setting[str] = Setting(
    "backend",
    "Toxiproxy backend: auto (external URL, then toxiproxy-server on PATH, then Docker, "
    "then embedded), embedded, binary, docker or external",
    _backend,
    "auto",
    cli="--chaos-backend",
    env=("LLM_CHAOS_BACKEND",),
    ini="chaos_backend",
    metavar="NAME",
    choices=BACKENDS,
)
TOXIPROXY_URL: Setting[str | None] = Setting(
    "toxiproxy_url",
    "URL of a running Toxiproxy API for the external backend (also TOXIPROXY_URL)",
    _url,
    None,
    cli="--toxiproxy-url",
    env=("LLM_CHAOS_TOXIPROXY_URL", "TOXIPROXY_URL"),
    ini="chaos_toxiproxy_url",
    metavar="URL",
)
SEED: Setting[int | None] = Setting(
    "seed",
    "Seed for every probabilistic fault choice (default: random, printed in the summary)",
    _seed,
    None,
    cli="--chaos-seed",
    env=("LLM_CHAOS_SEED",),
    ini="chaos_seed",
    marker=True,
    metavar="N",
)
ALLOW_NETWORK: Setting[bool] = Setting(
    "allow_network",
    "Allow requests to real providers: forwarding to non-loopback upstreams, and "
    "connections to providers' API hosts during chaos tests; refused by default",
    _bool,
    False,
    cli="--chaos-allow-network",
    env=("LLM_CHAOS_ALLOW_NETWORK",),
    ini="chaos_allow_network",
    flag=True,
    ini_type="bool",
)
SEAL: Setting[bool] = Setting(
    "seal",
    "During chaos tests, refuse every non-loopback connection of the test process, not "
    "only those to providers' API hosts (which are always refused without "
    "--chaos-allow-network)",
    _bool,
    False,
    cli="--chaos-seal",
    env=("LLM_CHAOS_SEAL",),
    ini="chaos_seal",
    flag=True,
    ini_type="bool",
)
REPORT: Setting[str | None] = Setting(
    "report",
    "Write the chaos report (coverage.json, coverage.md, timelines/) into this directory",
    _text,
    None,
    cli="--chaos-report",
    env=("LLM_CHAOS_REPORT",),
    ini="chaos_report",
    metavar="PATH",
)
TARGETS: Setting[tuple[TargetSpec, ...]] = Setting(
    "targets",
    "Harness targets, one per line: 'name = dialect' or 'name = dialect upstream-URL' "
    "(default: one target per registered dialect, upstream the built-in fake)",
    parse_targets,
    (),
    env=("LLM_CHAOS_TARGETS",),
    ini="chaos_targets",
    ini_type="linelist",
)
PROFILES_DIRS: Setting[tuple[str, ...]] = Setting(
    "profiles_dirs",
    "Folders searched for fault profiles by name, before the built-in ones",
    _dirs,
    (),
    env=("LLM_CHAOS_PROFILES_DIRS",),
    ini="chaos_profiles_dirs",
    ini_type="linelist",
)


def _time(raw: object) -> str:
    text = str(raw).strip().lower()
    if text not in ("real", "virtual"):
        raise ValueError("unknown clock; valid choices: real, virtual")
    return text


TIME: Setting[str] = Setting(
    "time",
    "The clock of chaos tests: real, or virtual (the test process's sleeps, the SDKs' "
    "retry back-offs among them, take no time; the journal still shows them; "
    "docs/virtual-time.md)",
    _time,
    "real",
    cli="--chaos-time",
    env=("LLM_CHAOS_TIME",),
    ini="chaos_time",
    marker=True,
    metavar="real|virtual",
    choices=("real", "virtual"),
)

SETTINGS: tuple[Setting[Any], ...] = (
    PROFILE,
    PROFILE_ALL,
    BACKEND,
    TOXIPROXY_URL,
    SEED,
    ALLOW_NETWORK,
    SEAL,
    REPORT,
    TARGETS,
    PROFILES_DIRS,
    TIME,
)
"""Every setting, in the order ``--help`` lists them."""
