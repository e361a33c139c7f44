"""The incident library: every built-in profile validates, is documented and is typed."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from chaos.profiles import (
    Timeline,
    builtin_dir,
    find_profiles,
    json_schema,
    load_profile,
    schema_text,
)

BUILTINS = sorted(builtin_dir().glob("*.yaml"))
REQUIRED = [
    "claude-2026-03-02",
    "http-500-storm",
    "overloaded-529-wave",
    "rate-limit-retry-after",
    "quota-exhausted",
    "auth-failure",
    "streaming-outage",
    "truncated-streams",
    "in-stream-errors",
    "blackout",
    "slow-first-token",
    "edge-errors",
    "connect-failures",
    "provider-down",
]
SCHEMA_COMMENT = "# yaml-language-server: $schema=schema.json"
SDK_ATTEMPTS = 3  # max_retries=2 in both official SDKs: a fallback test must outlast 3 attempts


@pytest.fixture(autouse=True)
def _no_user_dirs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LLM_CHAOS_PROFILES_DIRS", raising=False)


def test_the_library_has_every_promised_profile_and_real_incidents() -> None:
    names = {path.stem for path in BUILTINS}
    assert set(REQUIRED) <= names
    incidents = {name for name in names if name.startswith(("openai-20", "claude-20"))}
    assert len(incidents - {"claude-2026-03-02"}) >= 2


@pytest.mark.parametrize("path", BUILTINS, ids=lambda p: p.stem)
def test_builtin_profile_validates_and_is_documented(path: Path) -> None:
    profile = load_profile(path.stem)
    assert profile.name == path.stem
    assert profile.title
    assert profile.source
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == SCHEMA_COMMENT
    comment = [line for line in text.splitlines()[1:] if line.startswith("#")]
    assert len(comment) >= 3, "say what the profile models in its header comment"
    assert profile.faults(), "a profile that injects nothing proves nothing"
    assert Timeline(profile, seed=1).describe()


def _references(source: str) -> list[str]:
    """The documents a ``source:`` cites: URLs and file names (words with a ``/`` or a
    document suffix), and anything pointing into a section (``§``)."""
    words = (w.strip('(),;."') for w in source.split())
    return [
        w
        for w in words
        if "://" in w or "/" in w or "§" in w or w.endswith((".md", ".txt", ".yaml", ".yml"))
    ]


@pytest.mark.parametrize("path", BUILTINS, ids=lambda p: p.stem)
def test_builtin_profile_sources_resolve(path: Path) -> None:
    # a reader of a built-in can open what it cites: a public https URL, or a file
    # shipped in the wheel beside the profile (fault_profiles/incidents/*.md)
    references = _references(load_profile(path.stem).source)
    assert references, "cite the incident or the evidence the profile models"
    for ref in references:
        if ref.startswith("https://"):
            continue
        assert "://" not in ref, f"{ref!r}: cite an https URL"
        assert "§" not in ref, f"{ref!r}: a section of a document not shipped"
        assert (builtin_dir() / ref).is_file(), f"{ref!r} is not shipped in {builtin_dir()}"


def test_source_references_are_found_and_checked() -> None:
    # the check above can fail: what the old sources cited is caught
    refs = _references(
        "incidents/001_694382851aa2549e.txt, 002_71dc779250adfde9.txt; status page via "
        "reference/providers.md §4 (DESIGN.md), https://status.openai.com/incidents/x"
    )
    assert refs == [
        "incidents/001_694382851aa2549e.txt",
        "002_71dc779250adfde9.txt",
        "reference/providers.md",
        "§4",
        "DESIGN.md",
        "https://status.openai.com/incidents/x",
    ]
    assert not any((builtin_dir() / r).is_file() for r in refs[:5])


@pytest.mark.parametrize("path", BUILTINS, ids=lambda p: p.stem)
def test_builtin_profile_matches_the_shipped_schema(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    errors = [e.message for e in validator.iter_errors(yaml.safe_load(path.read_text()))]
    assert errors == []


def test_shipped_schema_is_in_sync_with_the_model() -> None:
    shipped = builtin_dir() / "schema.json"
    assert shipped.read_text(encoding="utf-8") == schema_text(), (
        "regenerate it: llm-chaos profiles schema > fault_profiles/schema.json"
    )
    jsonschema.Draft202012Validator.check_schema(json.loads(shipped.read_text()))


def test_schema_rejects_what_the_loader_rejects() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    base = yaml.safe_load((builtin_dir() / "http-500-storm.yaml").read_text())
    fault = base["phases"][0]["faults"][0]
    for bad in (
        {**fault, "retyr_after": 1},  # unknown key
        {**fault, "wire": "reset"},  # two actions
        {"target": "anthropic", "wire": "trunkate"},  # bad enum
        {"target": "anthropic", "network": {"toxic": "latncy"}},
        {"target": "anthropic", "sse": {"cut_aftr": 3}},
        {"target": "anthropic", "error": "server_error", "rate": "high"},
    ):
        base["phases"][0]["faults"] = [bad]
        assert list(validator.iter_errors(base)), bad


def test_list_finds_every_builtin() -> None:
    infos = {info.name: info for info in find_profiles()}
    assert set(infos) == {path.stem for path in BUILTINS}
    assert all(info.origin == "built-in" for info in infos.values())
    assert infos["claude-2026-03-02"].title.startswith("Claude outage of 2 March 2026")


@pytest.mark.parametrize(
    "path", [p for p in BUILTINS if "\nclock: wall" not in p.read_text()], ids=lambda p: p.stem
)
def test_fallback_phases_outlast_the_sdk_retries(path: Path) -> None:
    """On the requests clock, a phase whose faults hit every request must last at least
    one whole SDK call (3 attempts), or the SDK's retries would hide it from the app."""
    profile = load_profile(path.stem)
    assert profile.clock == "requests"
    for phase in profile.phases:
        certain = [f for f in phase.http_faults() if f.schedule.rate in (None, 1.0)]
        if certain and phase.until is not None:
            assert phase.until - phase.at >= SDK_ATTEMPTS, phase.name


def test_claude_replay_is_compressed_to_seconds() -> None:
    profile = load_profile("claude-2026-03-02")
    timeline = Timeline(profile, seed=0)
    assert profile.clock == "wall"
    assert profile.span() == 3 * 3600 + 58 * 60  # 11:49 to 15:47 UTC
    assert 2 < timeline.duration() < 8
    names = [phase.name for phase in profile.phases]
    assert names[0] == "elevated-errors"
    assert names[-1] == "recovered"
    assert {"login-failures", "methods-failing", "partial-recovery"} <= set(names)
    methods = profile.phase("methods-failing")
    operations = {f.match.operation for f in methods.http_faults()}
    assert "models.list" not in operations  # some methods fail while others work
