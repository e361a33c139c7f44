"""The triage example's chaos suite, run as a user runs it: scripted JSON labels as the
baseline, content faults (cut, empty, refused answers) that the app must ask again for."""

from __future__ import annotations

import pytest

from tests.examples.test_example_suites import run_suite

pytestmark = [pytest.mark.slow, pytest.mark.sdk]


def test_the_triage_app_passes_its_chaos_suite() -> None:
    done = run_suite("triage_app")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "5 passed" in done.stdout
    assert "5 faults fired" in done.stdout
