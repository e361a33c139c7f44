"""The plugin's options, ini keys, env twins, marker and precedence, through real pytest runs.

Every run is a subprocess (``runpytest_subprocess``): the plugin is loaded from
its entry point exactly as a user's pytest loads it. None of these needs the
harness: a test that does would start it, and these check the plugin decides
without it.
"""

from __future__ import annotations

import pytest

from chaos import ConfigError, Target
from chaos.harness import _settings as opts

pytestmark = pytest.mark.usefixtures("_clean_env")


@pytest.fixture
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for setting in opts.SETTINGS:
        for var in setting.env:
            monkeypatch.delenv(var, raising=False)


def header(pytester: pytest.Pytester, *args: str) -> str:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess("--collect-only", *args)
    assert result.ret == pytest.ExitCode.OK, result.outlines
    (line,) = [x for x in result.outlines if x.startswith("llm-chaos: ")]
    return line


@pytest.mark.slow
def test_help_lists_the_option_group_and_ini_twins(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--help")
    result.stdout.fnmatch_lines(
        [
            "llm-chaos: chaos testing of LLM API dependencies:",
            "*--chaos-profile=NAME|PATH*",
            "*Fault profile (built-in name or YAML path) applied to*",
            "*--chaos-profile-all*",
            "*--chaos-backend=NAME*",
            "*--toxiproxy-url=URL*",
            "*--chaos-seed=N*",
            "*--chaos-allow-network*",
            "*--chaos-seal*",
            "*--chaos-report=PATH*",
            "*--chaos-target=NAME=DIALECT|URL*",
            "*--chaos-profiles-dir=DIR*",
        ]
    )
    # the ini twins share the help text and name their env twins
    result.stdout.fnmatch_lines(
        [
            "*chaos_profile (string):*",
            "*Fault profile (built-in name or YAML path) applied to*",
            "*LLM_CHAOS_PROFILE)",
        ]
    )
    for key in (
        "chaos_backend (string)",
        "chaos_seed (string)",
        "chaos_toxiproxy_url (string)",
        "chaos_allow_network (bool)",
        "chaos_seal (bool)",
        "chaos_report (string)",
        "chaos_profile_all (bool)",
        "chaos_targets (linelist)",
        "chaos_profiles_dirs (linelist)",
    ):
        result.stdout.fnmatch_lines([f"*{key}:*"])


@pytest.mark.slow
def test_marker_is_registered_with_its_signature(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--markers")
    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.chaos(*, profile=None, profiles=None, targets=None, strict=True, "
            "seed=None, params=None, route_env=True, time=None): run the test under the LLM chaos*"
        ]
    )


@pytest.mark.slow
def test_fixtures_are_documented(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--fixtures")
    result.stdout.fnmatch_lines(
        [
            "chaos -- *",
            "*The LLM chaos harness, for this test.*",
        ]
    )
    result.stdout.fnmatch_lines(
        ["chaos_config [[]session scope[]] -- *", "*Fields of the*chaos.Settings*"]
    )
    result.stdout.fnmatch_lines(["chaos_profile_dir -- *", "*The folder searched first*"])


@pytest.mark.slow
def test_header_defaults(pytester: pytest.Pytester) -> None:
    assert header(pytester) == ("llm-chaos: profile -, backend auto, seed random, toxiproxy-url -")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("ini", "env", "cli", "expected"),
    [
        ("chaos_seed = 1", {}, [], "seed 1 (ini chaos_seed)"),
        ("chaos_seed = 1", {"LLM_CHAOS_SEED": "2"}, [], "seed 2 (LLM_CHAOS_SEED)"),
        ("chaos_seed = 1", {"LLM_CHAOS_SEED": "2"}, ["--chaos-seed=3"], "seed 3 (--chaos-seed)"),
        (
            "chaos_profile = http-500-storm",
            {"LLM_CHAOS_PROFILE": "blackout"},
            [],
            "profile blackout (LLM_CHAOS_PROFILE)",
        ),
        (
            "chaos_profile = a",
            {"LLM_CHAOS_PROFILE": "b"},
            ["--chaos-profile=c"],
            "profile c (--chaos-profile)",
        ),
        (
            "chaos_backend = embedded",
            {"LLM_CHAOS_BACKEND": "docker"},
            [],
            "backend docker (LLM_CHAOS_BACKEND)",
        ),
        (
            "chaos_backend = embedded",
            {"LLM_CHAOS_BACKEND": "docker"},
            ["--chaos-backend=binary"],
            "backend binary (--chaos-backend)",
        ),
        (
            "chaos_toxiproxy_url = http://127.0.0.1:1",
            {},
            [],
            "toxiproxy-url http://127.0.0.1:1 (ini chaos_toxiproxy_url)",
        ),
        (
            "chaos_toxiproxy_url = http://127.0.0.1:1",
            {"TOXIPROXY_URL": "http://127.0.0.1:2"},
            [],
            "toxiproxy-url http://127.0.0.1:2 (TOXIPROXY_URL)",
        ),
        (
            "",
            {"TOXIPROXY_URL": "http://127.0.0.1:2", "LLM_CHAOS_TOXIPROXY_URL": "http://h:3/"},
            [],
            "toxiproxy-url http://h:3 (LLM_CHAOS_TOXIPROXY_URL)",
        ),
        (
            "",
            {"TOXIPROXY_URL": "http://127.0.0.1:2"},
            ["--toxiproxy-url=http://127.0.0.1:4"],
            "toxiproxy-url http://127.0.0.1:4 (--toxiproxy-url)",
        ),
    ],
)
def test_precedence_layer_by_layer(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    ini: str,
    env: dict[str, str],
    cli: list[str],
    expected: str,
) -> None:
    pytester.makeini(f"[pytest]\n{ini}\n")
    for var, value in env.items():
        monkeypatch.setenv(var, value)
    assert expected in header(pytester, *cli)


@pytest.mark.slow
def test_targets_layer_by_layer_in_the_one_grammar(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\nchaos_backend = embedded\nchaos_targets =\n    a = openai\n")
    pytester.makepyfile(
        """
        def test_targets(chaos):
            print("TARGETS", sorted(chaos.endpoints))
        """
    )

    def targets(*args: str) -> str:
        result = pytester.runpytest_subprocess("-s", *args)
        result.assert_outcomes(passed=1)
        (line,) = [x for x in result.outlines if "TARGETS [" in x]
        return line[line.index("TARGETS") :].rstrip(".")

    assert targets() == "TARGETS ['a']"
    monkeypatch.setenv("LLM_CHAOS_TARGETS", "b = gemini; c = anthropic")
    assert targets() == "TARGETS ['b', 'c']"
    assert targets("--chaos-target=d=openai", "--chaos-target", "e=gemini") == "TARGETS ['d', 'e']"


@pytest.mark.slow
def test_profile_all_switch_layers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "scope: whole suite" not in header(pytester)
    pytester.makeini("[pytest]\nchaos_profile_all = true\n")
    assert "scope: whole suite" in header(pytester)
    monkeypatch.setenv("LLM_CHAOS_PROFILE_ALL", "0")
    assert "scope: whole suite" not in header(pytester)
    assert "scope: whole suite" in header(pytester, "--chaos-profile-all")


@pytest.mark.slow
def test_bad_backend_on_the_command_line_lists_the_choices(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest_subprocess("--chaos-backend=kubernetes")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*--chaos-backend: invalid choice: 'kubernetes' (choose from *auto*embedded*external*"]
    )


@pytest.mark.slow
def test_bad_env_value_is_named_in_the_header_and_spares_ordinary_tests(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LLM_CHAOS_SEED", "forty-two")
    line = header(pytester)
    assert "seed: invalid (LLM_CHAOS_SEED='forty-two': expected an integer seed)" in line


# -- the precedence function itself, including the marker and code layers ---------------


def test_resolve_walks_every_layer_in_order() -> None:
    env = {"LLM_CHAOS_SEED": "2"}
    layers = {"marker": 9, "cli": "3", "environ": env, "code": 5, "ini": "1"}
    assert opts.resolve(opts.SEED, **layers) == opts.Resolved(9, "@pytest.mark.chaos(seed=...)")
    del layers["marker"]
    assert opts.resolve(opts.SEED, **layers) == opts.Resolved(3, "--chaos-seed")
    del layers["cli"]
    assert opts.resolve(opts.SEED, **layers) == opts.Resolved(2, "LLM_CHAOS_SEED")
    layers["environ"] = {}
    assert opts.resolve(opts.SEED, **layers) == opts.Resolved(5, "chaos_config fixture")
    del layers["code"]
    assert opts.resolve(opts.SEED, **layers) == opts.Resolved(1, "ini chaos_seed")
    del layers["ini"]
    assert opts.resolve(opts.SEED, **layers) == opts.Resolved(None, "default")


def test_marker_layer_only_for_settings_the_marker_may_set() -> None:
    assert opts.resolve(opts.BACKEND, marker="docker", environ={}).source == "default"


@pytest.mark.parametrize(
    ("setting", "raw", "message"),
    [
        (opts.SEED, "x", "LLM_CHAOS_SEED='x': expected an integer seed"),
        (opts.BACKEND, "k8s", "valid choices: auto, binary, docker, embedded, external"),
        (opts.ALLOW_NETWORK, "maybe", "expected a boolean"),
        (opts.TOXIPROXY_URL, "localhost:8474", "expected an http(s) URL"),
        (opts.TARGETS, "mystery", "expected NAME=DIALECT, NAME=URL or NAME=DIALECT URL"),
        (opts.TARGETS, "a = openai; a = openai", "target 'a' is given twice"),
        (opts.TARGETS, "a = openai ftp://x", "bad upstream 'ftp://x'"),
    ],
)
def test_bad_values_say_where_and_what(
    setting: opts.Setting[object], raw: str, message: str
) -> None:
    environ = {setting.env[0]: raw}
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        opts.resolve(setting, environ=environ)


def test_target_lines_in_the_environment_are_separated_by_semicolons() -> None:
    # the grammar itself: tests/test_settings.py
    assert opts.resolve(
        opts.TARGETS, environ={"LLM_CHAOS_TARGETS": "a = openai;b = gemini"}
    ).value == (Target("a", "openai"), Target("b", "gemini"))


@pytest.mark.parametrize(
    ("setting", "var"),
    [pytest.param(s, var, id=var) for s in opts.SETTINGS for var in s.env],
)
def test_every_env_twin_is_read(setting: opts.Setting[object], var: str) -> None:
    raw = {
        "profile": "blackout",
        "profile_all": "yes",
        "backend": "external",
        "toxiproxy_url": "http://127.0.0.1:8474",
        "seed": "11",
        "allow_network": "on",
        "seal": "yes",
        "report": "out",
        "targets": "a = openai",
        "profiles_dirs": "x",
        "time": "virtual",
    }[setting.name]
    resolved = opts.resolve(setting, environ={var: raw})
    assert resolved.source == var
    assert resolved.value not in (None, (), False)


@pytest.mark.slow
def test_every_ini_key_is_registered_under_strict_config(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        chaos_profile = blackout
        chaos_profile_all = false
        chaos_backend = embedded
        chaos_toxiproxy_url = http://127.0.0.1:8474
        chaos_seed = 3
        chaos_allow_network = false
        chaos_report = out
        chaos_targets =
            a = openai
            b = anthropic http://127.0.0.1:9/
        chaos_profiles_dirs = profiles
        """
    )
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest_subprocess("--strict-config", "-W", "error")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [
            "llm-chaos: profile blackout (ini chaos_profile), "
            "backend embedded (ini chaos_backend), seed 3 (ini chaos_seed), "
            "toxiproxy-url http://127.0.0.1:8474 (ini chaos_toxiproxy_url)"
        ]
    )


def test_marker_help_spells_out_the_marker_signature() -> None:
    import inspect

    from chaos import plugin
    from chaos.plugin import _marker

    signature = inspect.signature(_marker._marker_signature)
    spelled = ", ".join(f"{n}={p.default!r}" for n, p in signature.parameters.items())
    assert plugin.MARKER_HELP.startswith(f"chaos(*, {spelled}): ")
