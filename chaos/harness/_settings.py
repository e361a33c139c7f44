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

This module is the one settings model: every entry point is generated from
:data:`SETTINGS`. The plugin's ``--chaos-*`` options and ``chaos_*`` ini keys
(``pytest_addoption``), the CLI verbs' flags (:func:`add_arguments`: the
``--chaos-`` prefix dropped, ``--chaos-seed`` is ``llm-chaos run --seed``), and
the :class:`Settings` a :class:`~chaos.Harness` is built from
(:func:`settings_from_args` on the CLI side). A new setting is one
:class:`Setting` here (and a field of the same name in :class:`Settings`).
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from chaos._errors import ConfigError
from chaos.common._target import TARGET_GRAMMAR, Target
from chaos.common._target import parse_targets as _parse_target_texts

__all__ = [
    "ALLOW_NETWORK",
    "BACKEND",
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
    "Flag",
    "Resolved",
    "Setting",
    "Settings",
    "add_arguments",
    "backend_names",
    "parse_targets",
    "resolve",
    "settings_from_args",
]

T = TypeVar("T")

_UNSET: Any = object()


def backend_names() -> tuple[str, ...]:
    """The Toxiproxy backends of the registry (``chaos.toxiproxy._backends``), ``auto`` first.

    Read from the registry's modules, one per backend and named after it (a test
    holds the two equal), without importing them: the plugin must not load the
    Toxiproxy client in a run that never uses the harness. Backends registered
    at run time (a subclass in a conftest) are added once the registry is loaded.
    """
    import pkgutil
    import sys

    folder = Path(__file__).parents[1] / "toxiproxy" / "_backends"
    names = {m.name for m in pkgutil.iter_modules([str(folder)]) if not m.name.startswith("_")}
    registry = sys.modules.get("chaos.toxiproxy._backends._base")
    if registry is not None:
        names |= set(registry.BACKENDS)
    return ("auto", *sorted(names - {"auto"}))


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
    :param many: a repeatable CLI option (its values form a list, as the ini's lines do).
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
    choices: tuple[str, ...] | Callable[[], tuple[str, ...]] | None = None
    flag: bool = False
    ini_type: str = "string"
    many: bool = False

    @property
    def verb_cli(self) -> str | None:
        """The CLI verbs' spelling of :attr:`cli`: without the ``chaos-`` prefix
        (``--chaos-seed`` is ``llm-chaos run --seed``)."""
        return None if self.cli is None else "--" + self.cli[2:].removeprefix("chaos-")

    @property
    def valid(self) -> tuple[str, ...] | None:
        """The valid values, when a closed set (read now, for a registry's)."""
        return self.choices() if callable(self.choices) else self.choices


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
    cli_name: str | None = None,
) -> Resolved[T]:
    """The value of ``setting``: the first layer that sets it wins.

    :param marker: the marker's keyword value (leave out when the marker does not set it).
    :param cli: the command-line value (None when not given).
    :param environ: the environment (default: ``os.environ``).
    :param code: the value set in code (the ``chaos_config`` fixture), None when not.
    :param ini: the ini value (None or empty when not set).
    :param cli_name: the option's spelling where the value came from (default:
        :attr:`Setting.cli`; a CLI verb passes :attr:`Setting.verb_cli`).
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
        layers.append((cli_name or setting.cli, cli))
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
    valid = backend_names()
    if text not in valid:
        raise ValueError(f"unknown backend; valid choices: {', '.join(valid)}")
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


def parse_targets(raw: object) -> tuple[Target, ...]:
    """Targets in the one grammar (:mod:`chaos.common._target`): a list (ini lines, a
    repeated option) or text with entries on lines or separated by ``;``."""
    return _parse_target_texts(_lines(raw, ";"))


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
    choices=backend_names,
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
TARGETS: Setting[tuple[Target, ...]] = Setting(
    "targets",
    f"A harness target: {TARGET_GRAMMAR}, e.g. backup=openai (repeatable; one per line "
    "in the ini, separated by ';' in the environment; default: the fake providers)",
    parse_targets,
    (),
    cli="--chaos-target",
    env=("LLM_CHAOS_TARGETS",),
    ini="chaos_targets",
    metavar="NAME=DIALECT|URL",
    ini_type="linelist",
    many=True,
)
PROFILES_DIRS: Setting[tuple[str, ...]] = Setting(
    "profiles_dirs",
    "Folders searched for fault profiles by name, before the built-in ones",
    _dirs,
    (),
    cli="--chaos-profiles-dir",
    env=("LLM_CHAOS_PROFILES_DIRS",),
    ini="chaos_profiles_dirs",
    metavar="DIR",
    ini_type="linelist",
    many=True,
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


# -- the settings object ---------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """The harness's settings, resolved: what :class:`~chaos.Harness` is built from.

    One field per :data:`SETTINGS` entry, of the same name (a test holds them in
    step), plus three the entry points set themselves rather than the user's layers.
    Build it directly, with :func:`settings_from_args` (a CLI verb) or let the
    plugin resolve it; ``dataclasses.replace`` derives a variant.

    :param targets: the targets; empty: the entry point's default (the harness's is
        ``anthropic`` and ``openai`` on their fakes).
    :param backend: the Toxiproxy backend (see :func:`backend_names`).
    :param toxiproxy_url: the external Toxiproxy's URL (else ``TOXIPROXY_URL``).
    :param seed: seeds every probabilistic choice; None picks one.
    :param allow_network: allow targets whose upstream is a non-loopback URL (and,
        in a chaos test, connections to providers' hosts).
    :param seal: refuse every non-loopback connection of a chaos test.
    :param profile: a fault profile applied (plugin: to every chaos test; ``serve``: replayed).
    :param profile_all: the plugin runs the whole suite under the profile.
    :param report: where reports are written.
    :param profiles_dirs: folders searched for profiles by name.
    :param time: the clock of chaos tests, ``real`` or ``virtual`` (the plugin switches
        it per test; the harness always reads ``chaos.common._vtime``'s clock).
    :param name_prefix: Toxiproxy proxy names are ``<prefix>-<target>``.
    :param admin_port: the gateway admin API's port (0: a free one).
    :param journal_size: journal records kept (older ones are dropped and counted).
    """

    targets: tuple[Target, ...] = ()
    backend: str = "auto"
    toxiproxy_url: str | None = None
    seed: int | None = None
    allow_network: bool = False
    seal: bool = False
    profile: str | None = None
    profile_all: bool = False
    report: str | None = None
    profiles_dirs: tuple[str, ...] = ()
    time: str = "real"
    name_prefix: str = "llm-chaos"
    admin_port: int = 0
    journal_size: int = 10_000
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Settings added to :data:`SETTINGS` without a field here yet, by name."""

    @classmethod
    def of(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from ``name -> value`` (names of :data:`SETTINGS` or fields);
        a setting without a field goes to :attr:`extra`."""
        from chaos._errors import did_you_mean
        from chaos.common._target import as_targets

        fields = set(cls.__dataclass_fields__) - {"extra"}
        names = {s.name for s in SETTINGS}
        unknown = [k for k in values if k not in fields | names]
        if unknown:
            hint = did_you_mean(unknown[0], sorted(fields), parens=True)
            raise ConfigError(
                f"unknown harness setting {unknown[0]!r}{hint}; valid: {', '.join(sorted(fields))}"
            )
        known = {k: v for k, v in values.items() if k in fields}
        if "targets" in known:
            known["targets"] = as_targets(known["targets"])
        extra = {k: v for k, v in values.items() if k not in fields}
        return cls(**known, extra=extra) if extra else cls(**known)


# -- the CLI verbs' flags ----------------------------------------------------------


@dataclass(frozen=True)
class Flag:
    """How one CLI verb offers a setting, when it differs from the plain form.

    :param setting: the setting.
    :param help: the verb's help text (default: the setting's).
    :param default: the verb's default, used when neither the flag nor the
        environment sets it (default: the setting's).
    :param many: repeatable; the verb reads the list itself and the setting is not
        resolved into :class:`Settings` (``llm-chaos run -p A -p B``: one run per profile).
    :param aliases: more spellings (``-p``, ``--out``).
    """

    setting: Setting[Any]
    help: str | None = None
    default: object = None
    many: bool = False
    aliases: tuple[str, ...] = ()


_FLAGS = "_chaos_flags"


def add_arguments(parser: argparse.ArgumentParser, *flags: Setting[Any] | Flag) -> None:
    """Add the flags of ``flags`` to a verb's parser, generated from the settings:
    the spelling (:attr:`Setting.verb_cli`), metavar, choices and help, with the
    environment twin named in the help. :func:`settings_from_args` reads them back."""
    generated: dict[str, Flag] = dict(parser.get_default(_FLAGS) or {})
    for item in flags:
        flag = item if isinstance(item, Flag) else Flag(item)
        s = flag.setting
        if s.verb_cli is None:
            raise ValueError(f"setting {s.name!r} has no command-line spelling")
        env = f" (env {s.env[0]})" if s.env else ""
        default = f"; default: {flag.default}" if flag.default is not None else ""
        kwargs: dict[str, Any] = {"dest": s.name, "default": None}
        kwargs["help"] = (flag.help or s.help) + default + env
        if s.flag:
            kwargs["action"] = "store_true"
        else:
            kwargs["metavar"] = s.metavar
            kwargs["choices"] = s.valid
            if flag.many or s.many:
                kwargs["action"] = "append"
        action = parser.add_argument(*flag.aliases, s.verb_cli, **kwargs)
        action.chaos_setting = s.name  # type: ignore[attr-defined]
        generated[s.name] = flag
    parser.set_defaults(**{_FLAGS: generated})


def settings_from_args(
    args: argparse.Namespace, *, environ: Mapping[str, str] | None = None, **fixed: Any
) -> Settings:
    """The :class:`Settings` of a CLI verb: each flag it took through the one
    precedence rule (flag, then environment, then the verb's default, then the
    setting's); ``fixed`` are fields the verb sets itself (``name_prefix``...).

    :raises ConfigError: a bad value, named with the flag or variable it came from.
    """
    values: dict[str, Any] = {}
    flags: Mapping[str, Flag] = getattr(args, _FLAGS, None) or {}
    for name, flag in flags.items():
        s = flag.setting
        if flag.many and not s.many:
            continue  # the verb's own list
        got = resolve(s, cli=getattr(args, name, None), environ=environ, cli_name=s.verb_cli)
        use_default = got.source == "default" and flag.default is not None
        values[name] = flag.default if use_default else got.value
    return Settings.of({**values, **fixed})
