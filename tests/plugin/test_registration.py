"""The plugin stays out of the way: lazy imports, a broken chaos_config, bad markers,
and the ids of ``profiles=`` runs. No harness is started by any of these."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

HEAVY = (
    "chaos.harness._harness",
    "chaos.gateway",
    "chaos.toxiproxy",
    "chaos.providers",
    "chaos.profiles",
)


def test_a_suite_that_never_uses_chaos_never_imports_the_heavy_parts(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        f"""
        import sys

        HEAVY = {HEAVY!r}

        def pytest_sessionfinish(session):
            loaded = sorted(m for m in sys.modules if m.startswith(HEAVY))
            print("HEAVY-LOADED:", loaded)
        """
    )
    pytester.makepyfile(
        """
        import sys

        def test_one():
            assert "chaos.plugin" in sys.modules  # the plugin is there, registered

        def test_two():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-s")
    result.assert_outcomes(passed=2)
    assert "HEAVY-LOADED: []" in result.stdout.str()


def test_a_broken_chaos_config_only_hurts_the_tests_that_use_chaos(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def chaos_config():
            raise RuntimeError("chaos_config should not run")
        """
    )
    pytester.makepyfile(
        """
        def test_ordinary():
            pass

        def test_ordinary_too():
            pass

        def test_uses_chaos(chaos):
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(
        ["*ERROR at setup of test_uses_chaos*", "*chaos_config should not run*"]
    )


def test_bad_marker_arguments_fail_that_test_only(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")  # the short summary shows the whole message
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture(scope="session")
        def chaos_config():
            raise RuntimeError("the harness must not start for a bad marker")
        """
    )
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.chaos(profle="http-500-storm")
        def test_typo(chaos):
            pass

        @pytest.mark.chaos("http-500-storm")
        def test_positional():
            pass

        @pytest.mark.chaos(seed="abc")
        def test_wrong_type(chaos):
            pass

        @pytest.mark.chaos(strict="no")
        def test_wrong_bool(chaos):
            pass

        @pytest.mark.chaos(profile="a", profiles=["b"])
        def test_both(chaos):
            pass

        @pytest.mark.chaos(profiles=[])
        def test_empty(chaos):
            pass

        @pytest.mark.chaos(targets=[1])
        def test_targets(chaos):
            pass

        @pytest.mark.chaos(profile="http-500-strom")
        def test_unknown_profile(chaos):
            pass

        def test_fine():
            pass
        """
    )
    result = pytester.runpytest_subprocess("-rE")
    result.assert_outcomes(passed=1, errors=8)
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()
    assert "did you mean 'http-500-storm'?" in result.stdout.str()
    result.stdout.fnmatch_lines_random(
        [
            "ERROR *::test_typo - Failed: @pytest.mark.chaos got an unknown argument 'profle' "
            "(did you mean 'profile'?); valid arguments: profile, profiles, targets, strict, "
            "seed, params, route_env, time",
            "ERROR *::test_positional - Failed: @pytest.mark.chaos takes keyword arguments "
            "only, e.g. @pytest.mark.chaos(profile='http-500-storm'); got ('http-500-storm',)",
            "ERROR *::test_wrong_type - Failed: @pytest.mark.chaos(seed='abc'): "
            "expected int, got str",
            "ERROR *::test_wrong_bool - Failed: @pytest.mark.chaos(strict='no'): "
            "expected bool, got str",
            "ERROR *::test_both - Failed: @pytest.mark.chaos: give either profile= (one profile) "
            "or profiles= (one run per profile), not both",
            "ERROR *::test_empty - Failed: @pytest.mark.chaos(profiles=[[][]]): expected a glob *",
            "ERROR *::test_targets - Failed: @pytest.mark.chaos(targets=[[]1[]]): expected a list "
            "of target names",
            "ERROR *::test_unknown_profile - Failed: no profile named 'http-500-strom' (looked in "
            "*); known profiles: *",
        ]
    )


def test_closest_marker_wins_per_keyword(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from chaos.plugin import marker_options

        pytestmark = pytest.mark.chaos(profile="module-level", strict=False, seed=1)

        @pytest.mark.chaos(profile="class-level", seed=2)
        class TestIt:
            @pytest.mark.chaos(profile="closest")
            def test_merge(self, request):
                options = marker_options(request.node)
                assert (options.profile, options.seed, options.strict) == ("closest", 2, False)
        """
    )
    # the marker would bring the harness; this test only reads the options
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def chaos():
            return None
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1)


def test_profiles_parametrise_with_readable_ids(pytester: pytest.Pytester) -> None:
    folder = pytester.mkdir("fault_profiles")
    for name in ("overloaded-a", "overloaded-b", "other"):
        (folder / f"{name}.yaml").write_text(f"version: 1\nname: {name}\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.chaos(profiles=["http-500-storm", "blackout"])
        def test_listed(chaos):
            pass

        @pytest.mark.chaos(profiles="overloaded-*")
        def test_glob(chaos):
            pass

        @pytest.mark.chaos(profiles="nomatch-*")
        def test_no_match(chaos):
            pass

        @pytest.mark.chaos(profiles=["http-500-storm"])
        @pytest.mark.parametrize("n", [1, 2])
        def test_combined(chaos, n):
            pass
        """
    )
    result = pytester.runpytest_subprocess("--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "*::test_listed[[]profile=http-500-storm[]]",
            "*::test_listed[[]profile=blackout[]]",
            "*::test_glob[[]profile=overloaded-a[]]",
            "*::test_glob[[]profile=overloaded-b[]]",
            "*::test_no_match[[]profile=nomatch-*[]]",
            "*::test_combined[[]profile=http-500-storm-1[]]",
            "*::test_combined[[]profile=http-500-storm-2[]]",
        ]
    )
    assert "other" not in result.stdout.str()


def test_a_glob_that_matches_nothing_fails_with_the_choices(pytester: pytest.Pytester) -> None:
    folder = pytester.mkdir("fault_profiles")
    (folder / "overloaded-a.yaml").write_text("version: 1\nname: overloaded-a\n")
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.chaos(profiles="overloded-*")
        def test_typo(chaos):
            pass
        """
    )
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*@pytest.mark.chaos(profiles='overloded-[*]') matched no profile; "
            "available: *overloaded-a*"
        ]
    )
