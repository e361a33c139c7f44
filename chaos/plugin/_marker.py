"""The ``chaos`` marker: its one signature, its help text, binding a test's markers to options."""

from __future__ import annotations

import inspect
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from chaos._errors import ConfigError, did_you_mean

if TYPE_CHECKING:
    pass


_DOCS = "docs/plugin.md in pytest-llm-chaos"


def _marker_signature(
    *,
    profile: str | None = None,
    profiles: str | Sequence[str] | None = None,
    targets: Sequence[str] | None = None,
    strict: bool = True,
    seed: int | None = None,
    params: Mapping[str, Any] | None = None,
    route_env: bool = True,
    time: str | None = None,
) -> None:
    """The ``chaos`` marker's signature: the one list of its keywords and defaults
    (``MARKER_HELP`` spells it out; a test keeps the two in step)."""


_MARKER_ARGS: tuple[str, ...] = tuple(inspect.signature(_marker_signature).parameters)

MARKER_HELP = (
    "chaos(*, profile=None, profiles=None, targets=None, strict=True, seed=None, "
    "params=None, route_env=True, time=None): run the test under the LLM chaos harness. "
    "profile: a fault profile applied for the test; profiles: a list or glob, one run "
    "per profile; targets: only route these targets; strict: fail as inconclusive when "
    "a declared fault never fired; seed: the fault seed; params: profile parameters; "
    "route_env: point the SDKs' environment at the harness; time: 'real' or 'virtual' "
    f"(sleeps take no time; docs/virtual-time.md). See {_DOCS}"
)


@dataclass(frozen=True)
class MarkerOptions:
    """The merged ``chaos`` marker of one test (closest marker wins per keyword)."""

    profile: str | None = None
    profiles: tuple[str, ...] | str | None = None
    targets: tuple[str, ...] | None = None
    strict: bool = True
    seed: int | None = None
    params: Mapping[str, Any] | None = None
    route_env: bool = True
    time: str | None = None


_TYPES: Mapping[str, tuple[type, ...]] = {
    "profile": (str, os.PathLike),
    "strict": (bool,),
    "seed": (int,),
    "params": (Mapping,),
    "route_env": (bool,),
    "time": (str,),
}


def marker_options(node: pytest.Item | pytest.Function) -> MarkerOptions:
    """Bind the test's ``chaos`` markers; the closest marker wins per keyword.

    :raises ConfigError: an argument is unknown, positional or of the wrong type.
    """
    kwargs: dict[str, Any] = {}
    for mark in node.iter_markers("chaos"):
        if mark.args:
            raise ConfigError(
                "@pytest.mark.chaos takes keyword arguments only, e.g. "
                f"@pytest.mark.chaos(profile={mark.args[0]!r}); got {mark.args!r}"
            )
        kwargs = {**mark.kwargs, **kwargs}
    unknown = [k for k in kwargs if k not in _MARKER_ARGS]
    if unknown:
        name = unknown[0]
        hint = did_you_mean(name, _MARKER_ARGS, parens=True)
        raise ConfigError(
            f"@pytest.mark.chaos got an unknown argument {name!r}{hint}; "
            f"valid arguments: {', '.join(_MARKER_ARGS)}"
        )
    for key, types in _TYPES.items():
        value = kwargs.get(key)
        bad_bool = key == "seed" and isinstance(value, bool)
        if value is not None and (not isinstance(value, types) or bad_bool):
            want = " or ".join(t.__name__ for t in types)
            raise ConfigError(
                f"@pytest.mark.chaos({key}={value!r}): expected {want}, got {type(value).__name__}"
            )
    profiles = kwargs.get("profiles")
    if profiles is not None and not isinstance(profiles, str):
        if not _is_str_seq(profiles) or not profiles:
            raise ConfigError(
                f"@pytest.mark.chaos(profiles={profiles!r}): expected a glob such as "
                "'overloaded-*' or a non-empty list of profile names"
            )
        profiles = tuple(profiles)
    targets = kwargs.get("targets")
    if targets is not None:
        if isinstance(targets, str):
            targets = (targets,)
        if not _is_str_seq(targets):
            raise ConfigError(
                f"@pytest.mark.chaos(targets={targets!r}): expected a list of target names"
            )
        targets = tuple(targets)
    if kwargs.get("profile") is not None and profiles is not None:
        raise ConfigError(
            "@pytest.mark.chaos: give either profile= (one profile) or profiles= "
            "(one run per profile), not both"
        )
    profile = kwargs.get("profile")
    return MarkerOptions(
        profile=os.fspath(profile) if profile is not None else None,
        profiles=profiles,
        targets=targets,
        strict=kwargs.get("strict", True),
        seed=kwargs.get("seed"),
        params=kwargs.get("params"),
        route_env=kwargs.get("route_env", True),
        time=kwargs.get("time"),
    )


def _is_str_seq(value: object) -> bool:
    return isinstance(value, list | tuple) and all(isinstance(v, str) for v in value)
