"""The app's smoke test for the CI gate: ``llm-chaos run --profile P -- pytest tests -m gate``.

No ``chaos`` fixture here: under the gate, the environment (ANTHROPIC_BASE_URL,
OPENAI_BASE_URL, LLM_CHAOS_GATE_PROFILE, ...) already points the SDKs at the harness
replaying profile P, as it would for a test suite in any language. Outside the
gate the test is skipped, so it never calls a real provider by accident.

The app's other tests (test_chaos.py) use the ``chaos`` fixture with faults and
profiles of their own and assert exactly what follows from them; under the gate
the fixture would share the gate's harness and profile (those with a profile of
their own are skipped), so the gate runs this smoke test alone: ``-m gate``.
"""

import os
import time

import pytest
from resilient_app import Assistant

pytestmark = [
    pytest.mark.gate,
    pytest.mark.skipif(
        not os.environ.get("LLM_CHAOS_ADMIN_URL"),
        reason="runs under `llm-chaos run` (the CI gate), which routes the SDKs to the harness",
    ),
]


def replay_seconds() -> float:
    """How long the gate's profile takes to replay from the first request (wall clock),
    else a few seconds."""
    from chaos.profiles import load_profile

    profile = load_profile(os.environ["LLM_CHAOS_GATE_PROFILE"])
    if profile.clock == "wall":
        return profile.span() / profile.time_scale + 1.0
    return 3.0


def test_every_question_gets_an_answer_through_the_outage():
    assistant = Assistant(timeout=3.0, cooldown=0.3, max_retry_wait=2.0)
    deadline = time.monotonic() + replay_seconds()
    answers = []
    while time.monotonic() < deadline or len(answers) < 10:
        answers.append(assistant.answer(f"question {len(answers)}"))  # never raises
        time.sleep(0.05)

    assert all(a.text for a in answers)
    served = {a.provider for a in answers}
    print(
        f"{len(answers)} answers, from {sorted(served)}, "
        f"{sum(a.degraded for a in answers)} degraded"
    )
