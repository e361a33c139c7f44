"""A failed chaos test's report leads with what happened: the verdict's message at the
user's line (the plugin's and the verdict's frames hidden), and for a test that fails on
an exception of its own, the profile, the faults that fired and the verdict before a
traceback cut to the user's code. Real pytest, real SDK, real harness."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("anthropic")

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("_clean_env")]


SUITE = """
import anthropic
import pytest

QUESTION = [{"role": "user", "content": "hi"}]


def ask():
    return anthropic.Anthropic(timeout=5).messages.create(
        model="claude-sonnet-4-6", max_tokens=8, messages=QUESTION
    )


def test_failover(chaos):
    chaos.inject("anthropic", error="server_error")
    try:
        ask()
    except anthropic.APIError:
        pass  # a naive app: no fallback to OpenAI
    chaos.verdict.assert_failed_over("anthropic", "openai")


def test_inconclusive(chaos):
    chaos.inject("openai", error="rate_limited", name="never-hit")


@pytest.mark.chaos(profile="provider-down")
def test_network_down(chaos):
    ask()  # a naive app: the SDK's exception goes up to the user


def test_exception_class(chaos):
    # what the SDK raises on a refused connection, named by the SDK, not by this test
    chaos.apply("provider-down")
    with pytest.raises(Exception) as info:
        ask()
    print("RAISED", type(info.value).__module__ + "." + type(info.value).__qualname__)
"""


def _failure(lines: list[str], test: str) -> list[str]:
    """The lines of ``test``'s failure report, up to its journal section."""
    start = next(i for i, line in enumerate(lines) if re.match(rf"_+ {test} _+$", line))
    end = next(
        i for i in range(start + 1, len(lines)) if re.match(r"-+ llm-chaos journal", lines[i])
    )
    return [line for line in lines[start + 1 : end] if not line.startswith("[gw")]


def run(pytester: pytest.Pytester, select: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_app=SUITE)
    return pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-p", "no:randomly", "-s", "-k", select, *args
    )


def test_a_failed_failover_shows_the_users_line_then_the_verdict(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, "failover")
    report = _failure(result.stdout.lines, "test_failover")
    first_e = next(i for i, line in enumerate(report) if line.startswith("E "))
    assert report[first_e - 1].startswith('>       chaos.verdict.assert_failed_over("anthropic"')
    assert report[first_e].startswith(
        "E       chaos.VerdictError: expected a failover from 'anthropic' to 'openai'; "
        "no call that failed on 'anthropic' was answered by 'openai' (the fallback): "
        "1 call(s) failed on 'anthropic' (1 never answered), 3 attempt(s) to it, all failed"
    )
    # the verdict's own source is not shown: the frames after the user's line are hidden
    assert not any("chaos/verdict/" in line or "def assert_failed_over" in line for line in report)
    assert report[-1].endswith(": VerdictError")
    assert report[-1].startswith("test_app.py:")


def test_an_inconclusive_test_leads_with_why(pytester: pytest.Pytester) -> None:
    result = run(pytester, "inconclusive")
    report = [line for line in _failure(result.stdout.lines, "test_inconclusive") if line]
    assert report[0].startswith(
        "E   chaos.FaultNotTriggered: inconclusive: 1 declared fault(s) never fired: never-hit "
    )
    assert not any("chaos/plugin/" in line or "_strict_check" in line for line in report)


def test_a_naive_app_under_a_network_outage_leads_with_the_chaos(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, "network_down or exception_class")
    lines = result.stdout.lines
    raised = next(m[1] for line in lines if (m := re.search(r"RAISED (\S+)", line)))
    report = [line for line in _failure(lines, "test_network_down") if line]
    assert re.match(
        rf"llm-chaos: failed under profile provider-down, seed \d+: {re.escape(raised)}: ",
        report[0],
    ), report[0]
    # every attempt the outage turned away is seen (the SDK's own retries included)
    assert re.match(
        r"llm-chaos: faults that fired: anthropic-down/\S+ ×3 \(anthropic network:down\)$",
        report[1],
    ), report[1]
    header = [line for line in report if line.startswith("llm-chaos: ")]
    assert any(
        line.startswith("llm-chaos: verdict: anthropic: 1 call, 3 attempts, 3 failed")
        for line in header
    ), header
    assert header[-1].startswith("llm-chaos: the traceback is cut to your code"), header
    assert report[: len(header)] == header  # the chaos leads, the traceback follows
    # then the traceback, cut: the user's line, and of the SDK only the frames that raised
    assert any(line.startswith("test_app.py:") and "in ask" in line for line in report)
    raising = [line for line in report if line.startswith("E   ")]
    assert raising[-1].startswith(f"E   {raised}: ")
    frames = [line for line in report if re.match(r"\S+\.py:\d+: in ", line)]
    assert len(frames) <= 3 + 2 * len(raising), "\n".join(report)  # 230 lines before the cut


def test_the_full_traceback_stays_one_option_away(pytester: pytest.Pytester) -> None:
    long = run(pytester, "network_down", "--tb=long")
    report = [line for line in _failure(long.stdout.lines, "test_network_down") if line]
    assert report[0].startswith("llm-chaos: failed under profile provider-down, seed ")
    assert not any("the traceback is cut" in line for line in report)
    cut = run(pytester, "network_down")
    assert len(report) > 2 * len(_failure(cut.stdout.lines, "test_network_down"))
