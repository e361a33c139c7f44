"""Cassettes: answers recorded from a loopback stand-in for a real provider, replayed with
the stand-in gone, with faults layered over the replay; no secret reaches the file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from chaos._errors import ConfigError
from chaos.faults import Fault, SseAction
from chaos.gateway import Gateway, TargetConfig
from chaos.providers import AnthropicDialect
from chaos.providers._replies import parse_reply

anthropic = pytest.importorskip("anthropic")

SECRET = "sk-ant-api03-REAL-LOOKING-SECRET-0123456789"
MESSAGES = [{"role": "user", "content": "label this ticket"}]


def ask(url: str, *, stream: bool = False) -> Any:
    with anthropic.Anthropic(base_url=url, api_key=SECRET, max_retries=0) as client:
        if stream:
            with client.messages.stream(
                model="claude-sonnet-4-5", max_tokens=50, messages=MESSAGES
            ) as answer:
                return answer.get_final_message()
        return client.messages.create(model="claude-sonnet-4-5", max_tokens=50, messages=MESSAGES)


def record(tmp_path: Path) -> Path:
    """Record one plain and one streamed answer from a stand-in provider on loopback."""
    cassette = tmp_path / "cassettes" / "triage.yaml"
    provider = Gateway({"real": TargetConfig(AnthropicDialect())}, admin=False, seed=1)
    provider.start_in_thread()
    try:
        provider.dialect("real").replies.add(
            parse_reply({"json": {"label": "billing"}}, source="test")
        )
        recorder = Gateway(
            {
                "anthropic": TargetConfig(
                    "anthropic", upstream=provider.urls["real"], cassette=cassette, record=True
                )
            },
            admin=False,
            seed=2,
        )
        recorder.start_in_thread()
        try:
            assert ask(recorder.urls["anthropic"]).content[0].text == '{"label": "billing"}'
            assert ask(recorder.urls["anthropic"], stream=True).content[0].text == (
                '{"label": "billing"}'
            )
        finally:
            recorder.stop()
    finally:
        provider.stop()
    return cassette


def test_a_recording_is_readable_versioned_and_keeps_no_secret(tmp_path: Path) -> None:
    cassette = record(tmp_path)
    text = cassette.read_text()
    assert SECRET not in text
    assert "x-api-key" not in text
    data = yaml.safe_load(text)
    assert data["version"] == 1
    plain, streamed = data["interactions"]
    assert plain["request"]["body"]["messages"] == MESSAGES
    answer = json.loads(plain["response"]["body"])  # the provider's bytes, kept exactly
    assert answer["content"][0]["text"] == '{"label": "billing"}'
    assert any("event: message_stop" in frame for frame in streamed["response"]["events"])


@pytest.mark.slow
def test_replay_is_offline_and_faults_layer_over_it(tmp_path: Path) -> None:
    cassette = record(tmp_path)  # the stand-in provider is stopped from here on
    replay = Gateway(
        {"anthropic": TargetConfig("anthropic", cassette=cassette)}, admin=False, seed=3
    )
    replay.start_in_thread()
    try:
        url = replay.urls["anthropic"]
        assert ask(url).content[0].text == '{"label": "billing"}'
        assert ask(url, stream=True).stop_reason == "end_turn"
        replay.set_faults([Fault("anthropic", SseAction(cut_after=3), name="cut")])
        raised = None
        try:
            ask(url, stream=True)
        except Exception as exc:  # which class a cut stream raises is the SDK's choice
            raised = exc
        assert raised is not None
        assert replay.fired() == {"cut": 1}
        assert replay.journal()[-1].outcome == "stream_cut"
    finally:
        replay.stop()


def test_a_request_with_no_recording_is_a_clear_error(tmp_path: Path) -> None:
    cassette = record(tmp_path)
    replay = Gateway(
        {"anthropic": TargetConfig("anthropic", cassette=cassette)}, admin=False, seed=3
    )
    replay.start_in_thread()
    try:
        body = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 50,
            "messages": [{"role": "user", "content": "something new"}],
        }
        headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
        answer = httpx.post(replay.urls["anthropic"] + "/v1/messages", json=body, headers=headers)
        assert answer.status_code == 502
        message = answer.text
        assert f"cassette {cassette} has no recording of POST /v1/messages" in message
        assert "record it" in message
    finally:
        replay.stop()


def test_record_needs_a_cassette_and_a_real_upstream() -> None:
    with pytest.raises(ConfigError, match="record needs a cassette file and a real upstream"):
        Gateway({"a": TargetConfig("anthropic", record=True)}, admin=False).start_in_thread()


def test_a_cassette_without_version_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "old.yaml"
    bad.write_text("interactions: []\n")
    with pytest.raises(ConfigError, match=r"expected 'version: 1' at the top, got None"):
        Gateway({"a": TargetConfig("anthropic", cassette=bad)}, admin=False).start_in_thread()


def test_secret_query_parameters_are_masked_in_the_file(tmp_path: Path) -> None:
    from chaos.providers._base import Request
    from chaos.providers._cassette import Cassette

    cassette = Cassette(tmp_path / "gemini.yaml")
    request = Request("POST", "/v1beta/models/m:generateContent?key=AIzaSECRET&alt=sse", [])
    cassette.record(request, 200, [("x-goog-api-key", "AIzaSECRET")], body="{}")
    text = cassette.path.read_text()
    assert "AIzaSECRET" not in text
    assert Cassette(cassette.path).find(request)["body"] == "{}"
