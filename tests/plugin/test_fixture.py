"""The ``chaos`` fixture and marker on the real harness, through real pytest runs."""

from __future__ import annotations

import re

import pytest

# the Harness is built alongside (chaos/harness/_harness.py); until it lands these skip, saying so
pytest.importorskip(
    "chaos.harness._harness", reason="chaos.harness._harness (the Harness) has not landed yet"
)
pytest.importorskip("anthropic")

pytestmark = [pytest.mark.slow, pytest.mark.sdk, pytest.mark.usefixtures("_clean_env")]


@pytest.fixture
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in list(__import__("os").environ):
        if var.startswith(("LLM_CHAOS_", "ANTHROPIC_", "OPENAI_", "GEMINI_", "GOOGLE_")):
            monkeypatch.delenv(var)
    monkeypatch.delenv("TOXIPROXY_URL", raising=False)
    monkeypatch.setenv("LLM_CHAOS_BACKEND", "embedded")
    monkeypatch.setenv("COLUMNS", "300")


APP = """
import anthropic

def ask(max_retries=2):
    client = anthropic.Anthropic(max_retries=max_retries, timeout=10)
    return client.messages.create(
        model="claude-sonnet-4-6", max_tokens=32,
        messages=[{"role": "user", "content": "hi"}],
    )
"""


def test_fixture_routes_the_sdk_and_resets_after_each_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        """
        import os
        import anthropic
        import pytest
        from app import ask

        def test_routed(chaos):
            assert os.environ["ANTHROPIC_BASE_URL"] == chaos.endpoints["anthropic"]
            assert chaos.env["ANTHROPIC_BASE_URL"].startswith("http://127.0.0.1:")
            assert {"anthropic", "openai"} <= set(chaos.endpoints)
            assert ask().content
            (record,) = chaos.journal
            assert (record.target, record.status) == ("anthropic", 200)

        def test_fault_then_failure(chaos):
            chaos.inject("anthropic", error="overloaded")
            ask(max_retries=0)  # raises: this test fails, with the fault still set

        def test_no_fault_leaked(chaos):
            assert ask(max_retries=0).content
            assert len(chaos.journal) == 1

        def test_env_restored():
            assert "ANTHROPIC_BASE_URL" not in os.environ

        def test_fault_block(chaos):
            with chaos.fault("anthropic", error="server_error"):
                with pytest.raises(anthropic.InternalServerError):
                    ask(max_retries=0)
            assert ask(max_retries=0).content
            assert [r.status for r in chaos.journal] == [500, 200]
            assert chaos.seed == int(chaos.seed)

        @pytest.mark.chaos(route_env=False)
        def test_opt_out(chaos):
            assert "ANTHROPIC_BASE_URL" not in os.environ
            assert chaos.env == {}
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(["*test_fault_then_failure*OverloadedError*"])
    # the failing test's report shows its calls, as the verdict read them
    result.stdout.fnmatch_lines(["*llm-chaos journal*", "*#1 anthropic at +0.00s: 529 overloaded*"])
    result.stdout.fnmatch_lines(
        ["*llm-chaos summary*", "*master: backend embedded*seed*endpoints anthropic=http*"]
    )


def test_strict_declared_fault_never_fired_is_inconclusive(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_strict(chaos):
            chaos.inject("openai", error="rate_limited", name="never-hit")

        @pytest.mark.chaos(strict=False)
        def test_relaxed(chaos):
            chaos.inject("openai", error="rate_limited")
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*FaultNotTriggered: inconclusive: 1 declared fault(s) never fired: never-hit*"]
    )


def test_sdk_only_absorption_warns(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        """
        from app import ask

        def test_absorbed(chaos):
            chaos.inject("anthropic", error="overloaded", first=1, retry_after_ms=10)
            ask()
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, warnings=1)
    result.stdout.fnmatch_lines(["*ChaosWarning: every injected failure*SDK's own retries*"])
    result = pytester.runpytest_subprocess("-W", "error::chaos.plugin.ChaosWarning")
    result.assert_outcomes(failed=1)


def test_profile_from_marker_cli_and_whole_suite(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os
        import pytest

        def test_cli(chaos):
            assert chaos.profile == "http-500-storm"
            assert [p.name for p in chaos.profiles] == ["http-500-storm"]

        @pytest.mark.chaos(profile="blackout", strict=False)
        def test_marker_wins(chaos):
            assert chaos.profile == "blackout"

        def test_ordinary():
            assert os.environ["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")
        """
    )
    result = pytester.runpytest_subprocess(
        "--chaos-profile=http-500-storm", "-p", "no:warnings", "-k", "not ordinary"
    )
    # test_cli sends nothing, so the profile's faults never fire: strict says inconclusive
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*test_cli*FaultNotTriggered*"])
    result = pytester.runpytest_subprocess(
        "--chaos-profile=http-500-storm", "--chaos-profile-all", "-k", "ordinary"
    )
    result.assert_outcomes(passed=1)  # not strict: the ordinary test did not ask for chaos
    result.stdout.fnmatch_lines(["*1 test(s) ran under chaos without any request*"])


def test_seed_targets_and_hooks(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        """
        [pytest]
        chaos_targets =
            main = anthropic
            backup = openai
        """
    )
    pytester.makeconftest(
        """
        from chaos.report import Reporter

        EVENTS = []

        def pytest_chaos_targets(config):
            return ["extra = openai"]

        def pytest_chaos_configure(config, harness):
            EVENTS.append(("configure", sorted(harness.endpoints)))

        class Recorder(Reporter):
            def on_test_start(self, item, harness, verdict=None):
                EVENTS.append(("start", item.name))

            def on_test_end(self, item, harness, verdict=None):
                EVENTS.append(("end", item.name, len(verdict.records)))

        def pytest_chaos_make_reporter(config):
            return Recorder()
        """
    )
    pytester.makepyfile(
        """
        import pytest
        from conftest import EVENTS

        @pytest.mark.chaos(targets=["backup"])
        def test_one(chaos):
            assert chaos.seed == 4242
            assert set(chaos.endpoints) == {"backup"}
            assert EVENTS == [("configure", ["backup", "extra", "main"]), ("start", "test_one")]

        def test_two(chaos):
            assert EVENTS[-2:] == [("end", "test_one", 0), ("start", "test_two")]

        @pytest.mark.chaos(targets=["bakup"])
        def test_unknown_target(chaos):
            pass
        """
    )
    result = pytester.runpytest_subprocess("--chaos-seed=4242")
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*unknown target 'bakup' (did you mean 'backup'?); the harness has: main, backup, extra*"]
    )


def test_config_fixture_env_and_marker_seed_layers(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def chaos_config():
            return {"seed": 99, "journal_size": 50}
        """
    )
    pytester.makepyfile(
        """
        import os
        import pytest

        def test_session_seed(chaos):
            assert chaos.seed == int(os.environ["EXPECTED_SEED"])
            assert chaos.harness.journal_size == 50

        @pytest.mark.chaos(seed=7)
        def test_marker_seed(chaos):
            assert chaos.seed == 7

        def test_back_to_session_seed(chaos):
            assert chaos.seed == int(os.environ["EXPECTED_SEED"])
        """
    )
    monkeypatch.setenv("EXPECTED_SEED", "99")  # chaos_config beats the default
    pytester.runpytest_subprocess().assert_outcomes(passed=3)
    monkeypatch.setenv("LLM_CHAOS_SEED", "5")  # the environment beats chaos_config
    monkeypatch.setenv("EXPECTED_SEED", "5")
    pytester.runpytest_subprocess().assert_outcomes(passed=3)


USER_PROFILE = """
version: 1
name: mine
title: my own outage
source: generic
clock: requests
parameters:
  kind: overloaded
targets:
  solo: {dialect: anthropic}
phases:
  - name: broken
    at: 0
    faults:
      - target: solo
        error: ${kind}
"""


def test_targets_profile_dirs_params_and_report(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeini("[pytest]\nchaos_profiles_dirs = myprofiles\n")
    pytester.mkdir("myprofiles").joinpath("mine.yaml").write_text(USER_PROFILE)
    pytester.makepyfile(app=APP)
    pytester.makepyfile(
        """
        import anthropic
        import pytest
        from app import ask

        @pytest.mark.chaos(profile="mine")
        def test_profile_from_user_folder(chaos):
            assert set(chaos.endpoints) == {"solo"}
            with pytest.raises(anthropic.APIStatusError) as info:
                ask(max_retries=0)
            assert info.value.status_code == 529

        @pytest.mark.chaos(profile="mine", params={"kind": "server_error"})
        def test_params(chaos):
            with pytest.raises(anthropic.InternalServerError) as info:
                ask(max_retries=0)
            assert info.value.status_code == 500
        """
    )
    monkeypatch.setenv("LLM_CHAOS_TARGETS", "solo = anthropic")
    result = pytester.runpytest_subprocess("--chaos-report", "report")
    # 'overloaded' is a 529 (which class the SDK maps it to is the SDK's choice)
    result.assert_outcomes(passed=2)
    assert (pytester.path / "report" / "coverage.json").is_file()
    assert list((pytester.path / "report" / "timelines").glob("*.svg"))


def test_network_upstreams_need_allowing(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nchaos_targets = remote = openai https://api.openai.com/v1\n")
    pytester.makepyfile("def test_remote(chaos):\n    assert chaos.endpoints['remote']\n")
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*NetworkNotAllowed*--chaos-allow-network*"])
    pytester.runpytest_subprocess("--chaos-allow-network").assert_outcomes(passed=1)


def test_an_interrupted_run_still_stops_the_harness(pytester: pytest.Pytester) -> None:
    # checked inside the run, after the session ended: a process exit would close
    # the ports anyway, so looking from outside would prove nothing
    pytester.makeconftest(
        """
        import socket

        SEEN = []

        def pytest_unconfigure(config):
            for url in SEEN:
                host, port = url.removeprefix("http://").split(":")
                try:
                    socket.create_connection((host, int(port)), timeout=1).close()
                    print("STILL-OPEN", url)
                except ConnectionRefusedError:
                    print("CLOSED", url)
        """
    )
    pytester.makepyfile(
        """
        from conftest import SEEN

        def test_interrupted(chaos):
            SEEN.extend(chaos.endpoints.values())
            SEEN.extend(chaos.harness.gateway_urls.values())
            raise KeyboardInterrupt
        """
    )
    result = pytester.runpytest_subprocess("-s")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    out = result.stdout.str()
    assert len(re.findall(r"^CLOSED http://", out, re.M)) == 6, out
    assert "STILL-OPEN" not in out
