"""Typed fault specifications: the one envelope and the registered action kinds."""

from chaos.faults._base import ACTIONS, Action, Fault, Match, Schedule
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
]
