"""``sse: {...}``: faults inside a stream after its 200 (cut, in-stream error, early end, stall)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chaos._errors import ConfigError
from chaos.faults import SseAction
from chaos.gateway._actions._base import Applier

if TYPE_CHECKING:
    from chaos.gateway._exchange import Exchange
    from chaos.providers._base import Dialect


class SseApplier(Applier[SseAction]):
    """Passes the upstream stream through event by event and breaks it as asked.

    A non-streaming or non-200 answer passes unchanged: there is no stream to break.
    """

    def check(self, action: SseAction, dialect: Dialect) -> None:
        kinds = dialect.error_kinds()
        if action.error_event is not None and action.error_event not in kinds:
            raise ConfigError(
                f"sse error_event {action.error_event!r} is not in the {dialect.name} "
                f"dialect's catalogue; valid kinds: {', '.join(kinds)}"
            )

    async def start(self, ex: Exchange, action: SseAction) -> None:
        response = await ex.upstream()
        if response.events is None or response.status != 200:
            await ex.send_response(response)
            return
        dialect, operation = ex.dialect, ex.info.operation
        delay = (action.token_delay or 0) / 1000
        if action.cut_after is not None:
            limit: int | None = action.cut_after
        elif action.error_event is not None:
            limit = action.after
        elif action.stall_after is not None:
            limit = action.stall_after
        else:
            limit = None

        def stop(sent: int, frame: bytes) -> bool:
            if limit is not None and sent >= limit:
                return True
            if action.end_early:
                # a real truncation ends before stop_reason / finish_reason arrive
                return dialect.is_closing_event(frame, operation=operation)
            return limit is not None and dialect.is_terminal_event(frame, operation=operation)

        ex.start_stream(response)
        if not await ex.pass_events(response.events, stop=stop, delay=delay):
            return
        if action.cut_after is not None:
            ex.cut("stream_cut")
        elif action.error_event is not None:
            frame = dialect.stream_error(action.error_event, operation=operation)
            ex.end_stream("stream_error", last=frame)
        elif action.stall_after is not None:
            await ex.hang("stream_stalled")
        else:
            ex.end_stream("stream_ended_early" if action.end_early else "ok")
