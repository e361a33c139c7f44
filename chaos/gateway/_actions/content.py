"""Content faults (``truncate_answer``, ``malformed_tool_args``, ``refusal``,
``empty_answer``): the fake builds its answer, then the fault changes it inside."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from chaos.faults.content import (
    ContentAction,
    EmptyAnswerAction,
    MalformedToolArgsAction,
    RefusalAction,
    TruncateAnswerAction,
)
from chaos.gateway._actions._base import Applier
from chaos.providers._replies import CONTENT_FAULT

if TYPE_CHECKING:
    from chaos.gateway._exchange import Exchange


_ContentT = TypeVar("_ContentT", bound=ContentAction)


class _ContentApplier(Applier[_ContentT]):
    """Asks the target's fake for its answer with the content fault in force.

    The fault rides a context variable into the dialect, which renders the changed
    answer in its own format, streamed or not. A forwarded (non-fake) upstream does
    not read it, so its answers pass unchanged.
    """

    async def start(self, ex: Exchange, action: _ContentT) -> None:
        token = CONTENT_FAULT.set(action.content())
        try:
            response = await ex.upstream()
        except Exception as exc:
            ex.send(ex.target.upstream_failure(exc), outcome="upstream_error")
            return
        finally:
            CONTENT_FAULT.reset(token)
        await ex.send_response(response)


class TruncateAnswerApplier(_ContentApplier[TruncateAnswerAction]):
    """``truncate_answer``."""


class MalformedToolArgsApplier(_ContentApplier[MalformedToolArgsAction]):
    """``malformed_tool_args``."""


class RefusalApplier(_ContentApplier[RefusalAction]):
    """``refusal``."""


class EmptyAnswerApplier(_ContentApplier[EmptyAnswerAction]):
    """``empty_answer``."""
