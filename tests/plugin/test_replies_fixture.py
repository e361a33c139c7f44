"""``chaos.reply`` in a real pytest run: scripted per test, gone in the next."""

from __future__ import annotations

import textwrap

import pytest

pytestmark = pytest.mark.slow


@pytest.mark.usefixtures("_clean_env")
def test_the_fixture_scripts_replies_per_test(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_app=textwrap.dedent(
            """
            import anthropic

            def ask(chaos):
                client = anthropic.Anthropic(base_url=chaos.endpoints["anthropic"], api_key="k")
                message = client.messages.create(
                    model="claude-sonnet-4-5", max_tokens=50,
                    messages=[{"role": "user", "content": "label this"}],
                )
                return message.content[0].text

            def test_scripted(chaos):
                chaos.reply("anthropic", json={"label": "bug"})
                assert ask(chaos) == '{"label": "bug"}'

            def test_next_test_sees_the_default(chaos):
                assert ask(chaos) == "Echo: label this"
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:randomly")
    result.assert_outcomes(passed=2)
