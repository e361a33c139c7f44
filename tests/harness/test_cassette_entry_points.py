"""Cassettes from every entry point: the Harness (``Target`` and ``use_cassette``), the
``chaos`` fixture, a profile's target (YAML) and ``llm-chaos cassette record|replay|show``.

A loopback stand-in for a real provider (a gateway serving the Anthropic fake with a
scripted answer) is recorded from; the replays run with the stand-in stopped, so any
request that reached the network would fail.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from chaos import Harness, Target
from chaos._errors import ConfigError
from chaos.cli import main
from chaos.gateway import Gateway, TargetConfig
from chaos.providers import AnthropicDialect
from chaos.providers._replies import parse_reply

anthropic = pytest.importorskip("anthropic")

SECRET = "sk-ant-api03-REAL-LOOKING-SECRET-0123456789"
ANSWER = '{"label": "billing"}'
MODEL = "claude-sonnet-4-6"
REAL = "https://api.anthropic.com"


@contextmanager
def stand_in() -> Iterator[str]:
    """A stand-in for api.anthropic.com on loopback, answering a label as JSON; gone
    after the block, so a replay that reached for it would fail."""
    gw = Gateway({"real": TargetConfig(AnthropicDialect())}, admin=False, seed=1)
    gw.start_in_thread()
    gw.dialect("real").replies.add(parse_reply({"json": {"label": "billing"}}, source="t"))
    try:
        yield gw.urls["real"]
    finally:
        gw.stop()


def ask(url: str, prompt: str = "label this ticket", *, stream: bool = False) -> Any:
    messages = [{"role": "user", "content": prompt}]
    with anthropic.Anthropic(base_url=url, api_key=SECRET, max_retries=0) as client:
        if stream:
            with client.messages.stream(model=MODEL, max_tokens=50, messages=messages) as answer:
                return answer.get_final_message()
        return client.messages.create(model=MODEL, max_tokens=50, messages=messages)


def record_with_harness(path: Path) -> None:
    with stand_in() as provider:
        target = Target("anthropic", upstream=provider, cassette=path, record=True)
        with Harness([target], backend="embedded", name_prefix="llm-chaos-cassette-rec") as h:
            assert ask(h.endpoints["anthropic"]).content[0].text == ANSWER
            assert ask(h.endpoints["anthropic"], stream=True).content[0].text == ANSWER


def test_harness_targets_record_then_replay_offline_with_a_fault_on_top(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    record_with_harness(path)
    assert SECRET not in path.read_text()
    assert yaml.safe_load(path.read_text())["version"] == 1
    replay = Target("anthropic", cassette=path)
    with Harness([replay], backend="embedded", name_prefix="llm-chaos-cassette-rep") as h:
        url = h.endpoints["anthropic"]
        assert ask(url).content[0].text == ANSWER
        h.inject("anthropic", error="overloaded", first=1)
        with pytest.raises(anthropic.APIStatusError) as info:
            ask(url)
        assert info.value.status_code == 529
        assert ask(url, stream=True).content[0].text == ANSWER  # the recording, after the fault
        assert [r.outcome for r in h.journal][-2:] == ["fault", "ok"]


def test_use_cassette_lasts_until_reset_and_names_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "triage.yaml"
    record_with_harness(path)
    with Harness(["anthropic"], backend="embedded", name_prefix="llm-chaos-cassette-use") as h:
        url = h.endpoints["anthropic"]
        h.use_cassette("anthropic", path)
        assert ask(url).content[0].text == ANSWER
        h.reset()
        assert ask(url).content[0].text == "Echo: label this ticket"
        with pytest.raises(ConfigError, match=r"cassette .*nope\.yaml does not exist; record it"):
            h.use_cassette("anthropic", tmp_path / "nope.yaml")
        with pytest.raises(ConfigError, match="record needs a cassette file and a real upstream"):
            h.use_cassette("anthropic", path, record=True)  # its upstream is the fake
        with pytest.raises(ConfigError, match="unknown target 'claude'; targets: anthropic"):
            h.use_cassette("claude", path)


PROFILE = """\
version: 1
name: replayed
title: recorded answers, then an overload
targets:
  anthropic: {{dialect: anthropic, cassette: cassettes/triage.yaml{extra}}}
phases:
  - name: overloaded-after-one
    at: 0
    faults: [{{error: overloaded, after: 1}}]
"""


def test_a_profile_target_records_and_replays_its_cassette(tmp_path: Path) -> None:
    replaying = tmp_path / "replay.yaml"
    replaying.write_text(PROFILE.format(extra=""))
    with Harness(["anthropic"], backend="embedded", name_prefix="llm-chaos-cassette-yaml") as h:
        url = h.endpoints["anthropic"]
        with stand_in() as provider:
            recording = tmp_path / "record.yaml"
            recording.write_text(PROFILE.format(extra=f", record: true, upstream: '{provider}'"))
            h.apply(recording)
            assert ask(url).content[0].text == ANSWER  # the first answer, let through
        cassette = tmp_path / "cassettes" / "triage.yaml"  # relative to the profile file
        assert len(yaml.safe_load(cassette.read_text())["interactions"]) == 1
        h.apply(replaying)
        assert ask(url).content[0].text == ANSWER
        with pytest.raises(anthropic.APIStatusError):
            ask(url)  # the overload layers over the replay
        h.clear()  # the profile's cassette leaves with it
        assert ask(url).content[0].text == "Echo: label this ticket"


def test_a_profile_cassette_key_is_checked(tmp_path: Path) -> None:
    from chaos.profiles import load_profile

    bad = tmp_path / "bad.yaml"
    bad.write_text(PROFILE.format(extra="").replace("cassette: cassettes/triage.yaml", "record: 1"))
    with pytest.raises(ConfigError) as info:
        load_profile(bad)
    assert "bad.yaml" in str(info.value)
    assert "targets.anthropic.record: expected true or false, got 1" in str(info.value)


def test_the_fixture_replays_a_cassette_for_one_test(
    tmp_path: Path, pytester: pytest.Pytester
) -> None:
    path = tmp_path / "triage.yaml"
    record_with_harness(path)
    pytester.makepyfile(
        textwrap.dedent(
            f"""
            import anthropic

            def ask(chaos):
                url = chaos.endpoints["anthropic"]
                with anthropic.Anthropic(base_url=url, api_key="k", max_retries=0) as c:
                    return c.messages.create(
                        model="{MODEL}", max_tokens=50,
                        messages=[{{"role": "user", "content": "label this ticket"}}],
                    ).content[0].text

            def test_replayed(chaos):
                chaos.cassette("anthropic", {str(path)!r})
                assert ask(chaos) == {ANSWER!r}

            def test_then_the_fake_again(chaos):
                assert ask(chaos) == "Echo: label this ticket"
            """
        )
    )
    # in its own process: garbage of earlier tests collected in the middle of an in-process
    # run would be reported against this one
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--chaos-backend=embedded")
    result.assert_outcomes(passed=2)


APP = """\
import anthropic, sys
prompt = sys.argv[1] if len(sys.argv) > 1 else "label this ticket"
client = anthropic.Anthropic(max_retries=0)
answer = client.messages.create(
    model="claude-sonnet-4-6", max_tokens=50, messages=[{"role": "user", "content": prompt}]
)
print(answer.content[0].text)
"""


def test_the_cli_records_replays_under_a_fault_and_names_a_miss(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    app = tmp_path / "app.py"
    app.write_text(APP)
    path = tmp_path / "cli.yaml"
    monkeypatch.setenv("ANTHROPIC_API_KEY", SECRET)  # the real key goes to the real provider
    with stand_in() as provider:
        record = [
            "cassette",
            "record",
            "--cassette",
            str(path),
            "--target",
            f"anthropic={provider}",
        ]
        assert main([*record, "--", sys.executable, str(app)]) == 0
    out, err = capfd.readouterr()
    assert ANSWER in out
    assert f"{path}: 1 recordings" in err
    assert SECRET not in path.read_text()

    replay = ["cassette", "replay", "--cassette", str(path), "--target", "anthropic"]
    assert main([*replay, "--", sys.executable, str(app)]) == 0
    assert ANSWER in capfd.readouterr().out

    profile = tmp_path / "overloaded.yaml"
    profile.write_text(
        "version: 1\nname: overloaded\ntitle: t\n"
        "targets: {anthropic: {dialect: anthropic}, openai: {dialect: openai}}\n"
        "phases: [{name: down, at: 0, faults: [{target: anthropic, error: overloaded}]}]\n"
    )
    assert main([*replay, "-p", str(profile), "--", sys.executable, str(app)]) == 1
    assert "overloaded" in capfd.readouterr().err.lower()

    assert main([*replay, "--", sys.executable, str(app), "something new"]) == 1
    err = capfd.readouterr().err
    assert f"{path} has no recording of POST /v1/messages" in err
    assert f"llm-chaos cassette record --cassette {path}" in err

    assert main(["cassette", "show", str(path)]) == 0
    shown = capfd.readouterr().out
    assert f"{path}: version 1, 1 recordings" in shown
    assert f"1. POST /v1/messages model {MODEL}: 200 plain" in shown


def test_the_cli_refuses_bad_input_with_exit_2(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.yaml"
    replay = ["cassette", "replay", "--cassette", str(missing), "--target", "anthropic"]
    assert main([*replay, "--", "true"]) == 2
    assert f"cassette {missing} does not exist; record it first" in capfd.readouterr().err
    record = ["cassette", "record", "--cassette", str(missing), "--target", "anthropic"]
    assert main([*record, "--", "true"]) == 2
    assert "recording needs the real upstream's URL" in capfd.readouterr().err
    real = ["cassette", "record", "--cassette", str(missing), "--target", f"anthropic={REAL}"]
    assert main([*real, "--", "true"]) == 1  # a real provider only with --allow-network
    assert "network access is off by default" in capfd.readouterr().err
    assert not missing.exists()
    bad = tmp_path / "old.yaml"
    bad.write_text(json.dumps({"interactions": []}))
    assert main(["cassette", "show", str(bad)]) == 2
    assert "expected 'version: 1' at the top" in capfd.readouterr().err
