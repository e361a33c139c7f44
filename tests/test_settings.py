"""The one settings model: one target grammar, and every entry point generated from
``chaos.harness._settings.SETTINGS`` (the plugin's options and ini keys, the CLI verbs' flags,
the :class:`~chaos.Settings` a harness is built from)."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from chaos import ConfigError, Harness, Settings, Target
from chaos.cli._main import _build_parser
from chaos.common._target import parse_target, parse_targets
from chaos.harness import _settings as opts

ROOT = Path(__file__).resolve().parents[1]

# -- the grammar -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("anthropic=anthropic", Target("anthropic", "anthropic")),
        ("backup=openai", Target("backup", "openai")),
        (
            "anthropic=http://127.0.0.1:9000",
            Target("anthropic", "anthropic", "http://127.0.0.1:9000"),
        ),
        ("local=openai,http://127.0.0.1:9/v1", Target("local", "openai", "http://127.0.0.1:9/v1")),
        (
            "local = openai http://127.0.0.1:9/v1",
            Target("local", "openai", "http://127.0.0.1:9/v1"),
        ),
        (
            "local = http://127.0.0.1:9/v1 openai",
            Target("local", "openai", "http://127.0.0.1:9/v1"),
        ),
        ("g = gemini fake", Target("g", "gemini")),
        ("anthropic", Target("anthropic")),  # a dialect's name alone
        ("gemini", Target("gemini", "gemini")),
    ],
)
def test_the_target_grammar(text: str, target: Target) -> None:
    assert parse_target(text) == target
    assert parse_target(str(target)) == target  # a target prints in the grammar


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("oops", "target 'oops': expected NAME=DIALECT, NAME=URL or NAME=DIALECT URL (or a "),
        ("a=", "target 'a=': expected NAME=DIALECT"),
        ("=openai", "target '=openai': expected NAME=DIALECT"),
        ("9x=openai", "bad name '9x' (a letter, then letters, digits"),
        ("a=openai gemini", "one dialect and at most one upstream URL"),
        ("a=http://h:1 http://h:2", "one dialect and at most one upstream URL"),
        ("a=openai ftp://h", "target 'a': bad upstream 'ftp://h': 'fake' or an http(s) URL"),
    ],
)
def test_a_bad_target_says_what_is_wrong_and_what_is_valid(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_target(text)


def test_a_target_given_twice_is_named() -> None:
    with pytest.raises(ValueError, match="target 'a' is given twice"):
        parse_targets(["a=openai", "b=gemini", "a=anthropic"])


def test_every_layer_reads_targets_in_the_one_grammar_and_says_where() -> None:
    environ = {"LLM_CHAOS_TARGETS": "a=openai; b = gemini http://127.0.0.1:1"}
    expected = (Target("a", "openai"), Target("b", "gemini", "http://127.0.0.1:1"))
    assert opts.resolve(opts.TARGETS, environ=environ).value == expected
    ini = ["a=openai", "b = gemini http://127.0.0.1:1"]
    assert opts.resolve(opts.TARGETS, environ={}, ini=ini).value == expected
    with pytest.raises(ConfigError, match=r"^--target=\['x'\]: target 'x': expected NAME="):
        opts.resolve(opts.TARGETS, cli=["x"], environ={}, cli_name="--target")


def test_profiles_name_their_targets_with_the_one_type() -> None:
    from chaos.profiles import TargetSpec, load_profile

    assert TargetSpec is Target
    assert all(isinstance(t, Target) for t in load_profile("provider-down").targets.values())


# -- one model, every entry point ----------------------------------------------------------


def test_backend_choices_are_the_registrys() -> None:
    # in a fresh interpreter the registry is not loaded: the names come from its modules
    code = (
        "from chaos.harness import _settings as _options; print(' '.join(_options.backend_names()))"
    )
    fresh = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    from chaos.toxiproxy import BACKENDS

    assert fresh[0] == "auto"
    assert set(fresh) == set(BACKENDS)
    assert opts.BACKEND.valid == tuple(fresh)


def test_every_setting_has_a_settings_field_a_flag_an_env_twin_and_an_ini_key() -> None:
    fields = set(Settings.__dataclass_fields__)
    for s in opts.SETTINGS:
        assert s.name in fields, f"add a Settings field {s.name!r}"
        assert s.cli is not None
        assert s.cli.startswith(("--chaos-", "--toxiproxy-"))
        assert s.env
        assert all(v.startswith("LLM_CHAOS_") or v == "TOXIPROXY_URL" for v in s.env)
        assert s.ini == "chaos_" + s.name


SAMPLES: dict[str, tuple[str, str, Any, Any]] = {
    # name: (command-line text, environment text, value from the first, from the second)
    "profile": ("a", "b", "a", "b"),
    "profile_all": ("", "1", True, True),
    "backend": ("embedded", "docker", "embedded", "docker"),
    "toxiproxy_url": (
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
        "http://127.0.0.1:1",
        "http://127.0.0.1:2",
    ),
    "seed": ("3", "4", 3, 4),
    "allow_network": ("", "yes", True, True),
    "seal": ("", "on", True, True),
    "report": ("r1", "r2", "r1", "r2"),
    "targets": ("a=openai", "b=gemini", (Target("a", "openai"),), (Target("b", "gemini"),)),
    "profiles_dirs": ("d1", "d2", ("d1",), ("d2",)),
    "time": ("virtual", "real", "virtual", "real"),
}


@pytest.mark.parametrize("setting", opts.SETTINGS, ids=lambda s: s.name)
def test_every_layer_resolves_with_the_one_precedence_rule(setting: opts.Setting[Any]) -> None:
    cli, env, from_cli, from_env = SAMPLES[setting.name]
    raw_cli: object = True if setting.flag else [cli] if setting.many else cli
    layers: dict[str, Any] = {"cli": raw_cli, "environ": {setting.env[0]: env}, "ini": env}
    assert opts.resolve(setting, **layers) == opts.Resolved(from_cli, setting.cli)
    del layers["cli"]
    assert opts.resolve(setting, **layers) == opts.Resolved(from_env, setting.env[0])
    layers["environ"] = {}
    assert opts.resolve(setting, **layers) == opts.Resolved(from_env, f"ini {setting.ini}")
    del layers["ini"]
    assert opts.resolve(setting, **layers).source == "default"


def _verbs(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    found = [(path, parser)] if path else []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += _verbs(sub, (*path, name))
    return found


# `toxiproxy-server` is left out: its flags are Shopify toxiproxy-server's (it is a drop-in,
# `-seed` there seeds the server's toxics), parsed by chaos/toxiproxy/_server_cli.py, which
# runs on a bare python3 without the harness; none of them is a harness setting.
VERBS = [(p, v) for p, v in _verbs(_build_parser()) if p != ("toxiproxy-server",)]
HARNESS_FLAGS = {flag: s for s in opts.SETTINGS for flag in (s.cli, s.verb_cli) if flag}


@pytest.mark.parametrize(("path", "parser"), VERBS, ids=[" ".join(p) for p, _ in VERBS])
def test_no_verb_declares_a_harness_flag_by_hand(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    for action in parser._actions:
        for flag in action.option_strings:
            setting = HARNESS_FLAGS.get(flag)
            if setting is None:
                continue
            assert getattr(action, "chaos_setting", None) == setting.name, (
                f"llm-chaos {' '.join(path)} declares {flag} by hand: "
                "use chaos.harness._settings.add_arguments"
            )
            assert action.dest == setting.name
            assert action.metavar == setting.metavar
            assert action.choices == setting.valid


def test_no_command_module_spells_a_harness_flag() -> None:
    # the source too: a flag generated at run time must not also be written out
    sources = [
        ROOT / "chaos" / "cli" / "_main.py",
        *sorted((ROOT / "chaos" / "cli" / "_commands").glob("*.py")),
    ]
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for flag in HARNESS_FLAGS:
            assert f'add_argument(\n        "{flag}"' not in text
            assert not re.search(rf'add_argument\(\s*"{re.escape(flag)}"', text), (path, flag)


ARGV = {
    ("run",): ["run"],
    ("serve",): ["serve"],
    ("demo",): ["demo"],
    ("profiles", "list"): ["profiles", "list"],
    ("profiles", "show"): ["profiles", "show", "x"],
    ("profiles", "validate"): ["profiles", "validate", "x"],
    ("cassette", "record"): ["cassette", "record", "--cassette", "x.yaml"],
    ("cassette", "replay"): ["cassette", "replay", "--cassette", "x.yaml"],
}
GENERATED = [
    (path, s)
    for path, parser in VERBS
    for s in opts.SETTINGS
    if any(getattr(a, "chaos_setting", None) == s.name for a in parser._actions)
]


@pytest.mark.parametrize(
    ("path", "setting"), GENERATED, ids=[f"{' '.join(p)}:{s.name}" for p, s in GENERATED]
)
def test_each_verb_flag_resolves_flag_then_env_then_default(
    path: tuple[str, ...], setting: opts.Setting[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    for s in opts.SETTINGS:
        for var in s.env:
            monkeypatch.delenv(var, raising=False)
    cli, env, from_cli, from_env = SAMPLES[setting.name]
    flag = [setting.verb_cli] if setting.flag else [f"{setting.verb_cli}={cli}"]
    parser = _build_parser()
    monkeypatch.setenv(setting.env[0], env)
    args = parser.parse_args([*ARGV[path], *flag])
    own = args._chaos_flags[setting.name]
    if own.many and not setting.many:  # the verb's own list (run: one run per profile)
        assert getattr(args, setting.name) == [cli]
        return
    assert getattr(opts.settings_from_args(args), setting.name) == from_cli
    args = parser.parse_args(ARGV[path])
    assert getattr(opts.settings_from_args(args), setting.name) == from_env
    monkeypatch.delenv(setting.env[0])
    default = own.default if own.default is not None else setting.default
    assert getattr(opts.settings_from_args(parser.parse_args(ARGV[path])), setting.name) == default


def test_a_bad_verb_value_names_the_flag_the_user_typed(capsys: pytest.CaptureFixture[str]) -> None:
    from chaos.cli import main

    assert main(["profiles", "show", "provider-down", "--seed", "x"]) == 2
    assert "llm-chaos: error: --seed='x': expected an integer seed" in capsys.readouterr().err


# -- Harness(settings) ---------------------------------------------------------------------


def test_a_harness_is_built_from_settings_and_keywords_are_a_shorthand() -> None:
    settings = Settings(targets=(Target("a", "openai"),), seed=5, backend="embedded")
    harness = Harness(settings)
    assert harness.settings == settings
    assert (harness.targets, harness.seed, harness.backend_name) == (
        (Target("a", "openai"),),
        5,
        "embedded",
    )
    assert Harness({"a": "openai"}, seed=5, backend="embedded").settings == settings
    assert Harness(settings, seed=6).seed == 6  # a keyword overrides the field
    assert [t.name for t in Harness(Settings()).targets] == ["anthropic", "openai"]
    with pytest.raises(ConfigError, match="one or more distinct names"):
        Harness([])


def test_settings_of_names_an_unknown_setting() -> None:
    with pytest.raises(
        ConfigError, match=r"unknown harness setting 'sead' \(did you mean 'seed'\?\)"
    ):
        Settings.of({"sead": 1})


def test_a_harness_from_settings_serves_its_targets() -> None:
    settings = Settings(targets=(Target("backup", "openai"),), backend="embedded", seed=1)
    with Harness(settings) as harness:
        assert list(harness.endpoints) == ["backup"]
        assert harness.gateway is not None
        assert type(harness.gateway.dialect("backup")).__name__.lower().startswith("openai")
