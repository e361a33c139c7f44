"""The fault model: the one envelope, the registered action kinds and their parser.

:func:`parse_fault` reads the mapping form of a fault (a profile's fault,
``chaos.inject(...)``'s keywords, the admin API's JSON) into a :class:`Fault`;
``chaos.profiles`` builds on it and re-exports it.
"""

from chaos.faults._base import ACTIONS, Action, Fault, Match, Schedule
from chaos.faults._parse import fault_keys, parse_fault
from chaos.faults.content import (
    EmptyAnswerAction,
    MalformedToolArgsAction,
    RefusalAction,
    TruncateAnswerAction,
)
from chaos.faults.delay import DelayAction
from chaos.faults.edge import EdgeAction
from chaos.faults.error import ErrorAction
from chaos.faults.network import NetworkAction
from chaos.faults.respond import RespondAction
from chaos.faults.sse import SseAction
from chaos.faults.wire import WIRE_MODES, WireAction

__all__ = [
    "ACTIONS",
    "WIRE_MODES",
    "Action",
    "DelayAction",
    "EdgeAction",
    "EmptyAnswerAction",
    "ErrorAction",
    "Fault",
    "MalformedToolArgsAction",
    "Match",
    "NetworkAction",
    "RefusalAction",
    "RespondAction",
    "Schedule",
    "SseAction",
    "TruncateAnswerAction",
    "WireAction",
    "fault_keys",
    "parse_fault",
]
