"""Whatever the input, loading gives a Profile or a ProfileError: never a traceback."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chaos import ProfileError
from chaos.profiles import load_profile_text, parse_fault

KEYS = [
    "version", "name", "title", "clock", "time_scale", "count", "seed", "targets", "phases",
    "parameters", "extends", "include", "at", "duration", "ramp", "rate", "every", "faults",
    "target", "match", "error", "sse", "network", "wire", "edge", "delay", "respond", "first",
    "times", "after", "toxic", "latency", "cut_after", "anthropic", "dialect", "upstream",
    "operation", "stream", "status", "body", "${rate}", "<<",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        ["20m", "3h58m", "0", "wall", "requests", "anthropic", "overloaded", "down", "${rate}",
         "${nope}", "$$", "fake", "http://x", "latency", "truncate", "1e309", "!!", "*a"]
    ),
    st.text(max_size=12),
)  # fmt: skip
TREES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=6),
    ),
    max_leaves=30,
)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load(text: str) -> None:
    try:
        load_profile_text(text, source="fuzz.yaml")
    except ProfileError as exc:
        errors = exc.errors
    else:
        return
    assert errors
    assert all(isinstance(e, str) and e.startswith("fuzz.yaml") for e in errors)


@SETTINGS
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    _load(text)


@pytest.mark.slow
@SETTINGS
@given(TREES)
def test_random_yaml_shaped_like_a_profile(tree: object) -> None:
    _load(yaml.safe_dump(tree, allow_unicode=True))


@pytest.mark.slow
@SETTINGS
@given(st.dictionaries(st.sampled_from(KEYS), TREES, max_size=8))
def test_random_profile_top_levels(top: dict[str, object]) -> None:
    _load(yaml.safe_dump({"version": 1, **top}, allow_unicode=True))


@SETTINGS
@given(st.text(alphabet=st.sampled_from(list("{}[]:,-&*!|>'\"#%@` \n\tabc1$")), max_size=120))
def test_random_yaml_punctuation(text: str) -> None:
    _load(text)


@pytest.mark.slow
@SETTINGS
@given(st.dictionaries(st.sampled_from(KEYS), TREES, max_size=6))
def test_random_fault_mappings(data: dict[str, object]) -> None:
    try:
        parse_fault(data, defaults_target="anthropic", dialect="anthropic")
    except ProfileError as exc:
        errors = exc.errors
    else:
        return
    assert errors


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[" * 1500, "fuzz.yaml: the document is nested too deeply"),
        ("- " * 1500 + "a", "fuzz.yaml: the document is nested too deeply"),
        ("a: &x [*x]", "fuzz.yaml:1:4: a[0]: an alias refers to itself (recursive structure)"),
        ("version: 1\n<<: 3\n", "fuzz.yaml:1:1: (top level): bad merge key: while constructing"),
        ("? [a]\n: 1", "fuzz.yaml:1:3: a key must be a plain word, not a list or mapping"),
        ("version: !custom 1", "fuzz.yaml:1:10: version: cannot read this value: could not"),
        ("\x00", "fuzz.yaml: not valid YAML: unacceptable character #x0000"),
    ],
)
def test_pathological_yaml(text: str, error: str) -> None:
    with pytest.raises(ProfileError) as info:
        load_profile_text(text, source="fuzz.yaml")
    assert info.value.errors[0].startswith(error)
