"""Fault profiles: the typed model, YAML loading with file:line errors, JSON Schema, the timeline.

A profile replays an outage (real or generic) as phases on a timeline, each with
its faults. :func:`parse_fault` is the one parser of the fault mapping form,
shared by profiles, ``chaos.inject(...)`` and the gateway's admin API.
"""

from chaos.profiles._faults import fault_keys, parse_fault

__all__ = ["fault_keys", "parse_fault"]
