"""Fault profiles: the typed model, YAML loading with file:line errors, JSON Schema, the timeline.

A profile replays an outage (real or generic) as phases on a timeline, each with
its faults. A profile's faults are read by the fault model's own parser,
:func:`chaos.faults.parse_fault` (re-exported here), which ``chaos.inject(...)``
and the gateway's admin API share.
"""

from chaos.faults import fault_keys, parse_fault
from chaos.profiles._duration import format_duration, parse_duration
from chaos.profiles._find import (
    ENV_DIRS,
    ProfileInfo,
    builtin_dir,
    find_profiles,
    profile_dirs,
    profile_label,
    resolve_profile,
)
from chaos.profiles._loader import load_profile, load_profile_text
from chaos.profiles._model import Phase, Profile, TargetSpec
from chaos.profiles._schema import json_schema, schema_text
from chaos.profiles._timeline import Timeline

__all__ = [
    "ENV_DIRS",
    "Phase",
    "Profile",
    "ProfileInfo",
    "TargetSpec",
    "Timeline",
    "builtin_dir",
    "fault_keys",
    "find_profiles",
    "format_duration",
    "json_schema",
    "load_profile",
    "load_profile_text",
    "parse_duration",
    "parse_fault",
    "profile_dirs",
    "profile_label",
    "resolve_profile",
    "schema_text",
]
