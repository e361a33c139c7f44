"""One request being answered: what the fault actions work with.

An :class:`Exchange` carries the request, what the dialect read from it, the
rule applied, and the writing primitives (a whole answer, a stream head, one
event, the terminator, a cut, a reset). When the exchange ends it writes its
journal record.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any

from chaos.common import _vtime
from chaos.common._journal import JournalRecord, WireOutcome
from chaos.common._redact import redact_headers, redact_path
from chaos.gateway._http import Connection, status_line
from chaos.providers._base import CallInfo, Dialect, Request, Response
from chaos.providers._steering import retry_delay

if TYPE_CHECKING:
    from chaos.gateway._gateway import _TargetRuntime
    from chaos.gateway._rules import Rule

__all__ = ["Exchange", "fingerprint", "header_block"]

_UNKNOWN = CallInfo(None, False, None)
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_HOP_LENGTHS = frozenset(len(name) for name in _HOP_BY_HOP)
# fields that may differ between retries of one logical call
_VOLATILE = ("metadata", "user", "request_id", "idempotency_key")
_KEEP = b"connection: keep-alive\r\n"
_CLOSE = b"connection: close\r\n"


def header_block(headers: Sequence[tuple[str, str]]) -> bytes:
    """Response header lines, encoded, without the framing ones the gateway sets itself."""
    # lower-casing every name costs as much as the rest: only names of a hop-by-hop length
    return "".join(
        [
            f"{k}: {v}\r\n"
            for k, v in headers
            if len(k) not in _HOP_LENGTHS or k.lower() not in _HOP_BY_HOP
        ]
    ).encode("latin-1")


def fingerprint(body: bytes) -> str:
    """A hash of a request body, equal across retries of one logical call.

    JSON bodies are canonicalised (keys sorted) with volatile fields removed
    (``metadata``, ``user``, ``request_id``...), so an app retry that rebuilds
    the same request gets the same fingerprint; other bodies hash as they are.
    """
    if not body:
        return ""
    try:
        data = json.loads(body)
    except ValueError:
        return hashlib.blake2b(body, digest_size=8).hexdigest()
    if isinstance(data, dict):
        for key in _VOLATILE:
            data.pop(key, None)
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.blake2b(canonical.encode(), digest_size=8).hexdigest()


class Exchange:
    """A request in flight and the ways to answer it (used by the action modules)."""

    __slots__ = (
        "_error_body",
        "_finished",
        "_head_sent",
        "_info",
        "_stream",
        "action",
        "conn",
        "events",
        "phase",
        "request",
        "response_headers",
        "rule",
        "started",
        "status",
        "target",
        "time",
    )

    def __init__(
        self,
        conn: Connection,
        target: _TargetRuntime,
        request: Request,
    ) -> None:
        self.conn = conn
        self.target = target
        self.request = request
        self._info: CallInfo | None = None
        self.rule: Rule | None = None
        self.phase: str | None = None
        self.action: str | None = None
        self.started = _vtime.monotonic()
        self.time = _vtime.wall()
        self.status: int | None = None
        self.events = 0
        self.response_headers: Sequence[tuple[str, str]] = ()
        self._head_sent = False
        self._stream = False
        self._finished = False
        self._error_body = b""

    @property
    def info(self) -> CallInfo:
        """What the dialect reads from the request (operation, stream, model), computed
        on first use: a rule that matches on none of them never pays for it."""
        info = self._info
        if info is None:
            request = self.request
            try:
                info = self.target.dialect.identify(request.method, request.path, request.body)
            except Exception:  # a request the dialect cannot read is still answered
                info = _UNKNOWN
            self._info = info
        return info

    def apply(self, rule: Rule) -> None:
        """Record that ``rule`` decides this exchange's answer."""
        self.rule = rule
        self.action = rule.describe
        if self.phase is None:
            self.phase = rule.phase

    @property
    def dialect(self) -> Dialect:
        """The target's dialect."""
        return self.target.dialect

    @property
    def closed(self) -> bool:
        """Whether the client is gone."""
        return self.conn.closed

    # -- upstream -------------------------------------------------------------------

    async def upstream(self) -> Response:
        """The upstream's answer to the request (the fake, in process, or a forwarded call)."""
        return await self.target.upstream(self.request)

    async def forward(self) -> None:
        """Answer with the upstream's answer, unchanged."""
        try:
            response = await self.upstream()
        except Exception as exc:  # the upstream failed: a 502 says so, the journal too
            self.send(self.target.upstream_failure(exc), outcome="upstream_error")
            return
        await self.send_response(response)

    # -- writing --------------------------------------------------------------------

    def send(self, response: Response, *, outcome: WireOutcome = "ok") -> None:
        """Write a whole non-streaming answer (one write) and finish the exchange."""
        self.send_prepared(
            response.status,
            response.headers,
            header_block(response.headers),
            response.body,
            outcome=outcome,
        )

    def send_prepared(
        self,
        status: int,
        headers: Sequence[tuple[str, str]],
        block: bytes,
        body: bytes,
        *,
        outcome: WireOutcome = "ok",
    ) -> None:
        """:meth:`send` with the header lines already encoded (``block``, see
        :func:`header_block`): the fast path of answers rendered once and reused."""
        conn = self.conn
        if conn.closed:
            self.finish("client_gone")
            return
        self.status = status
        self.response_headers = headers
        if status >= 400:  # kept (by reference) for the journal's retry delay: Gemini's is in it
            self._error_body = body
        data = b"%s%scontent-length: %d\r\n%s\r\n%s" % (
            status_line(status, conn.version),
            block,
            len(body),
            _KEEP if conn.keep_alive else _CLOSE,
            b"" if conn.head_only else body,
        )
        self._head_sent = True
        # journal first: a client that reads the journal right after its answer finds it
        self.finish(outcome, pending=len(data))
        conn.write(data)

    def send_head(self, response: Response, *, length: int) -> None:
        """Write only the head of a non-streaming answer announcing ``length`` body bytes."""
        conn = self.conn
        self.status = response.status
        self.response_headers = response.headers
        head = status_line(response.status, conn.version) + header_block(response.headers)
        head += b"content-length: %d\r\n" % length
        conn.write(head + (_KEEP if conn.keep_alive else _CLOSE) + b"\r\n")
        self._head_sent = True

    def write(self, data: bytes) -> None:
        """Write raw body bytes (no framing added)."""
        if not self.conn.head_only:
            self.conn.write(data)

    async def send_response(self, response: Response) -> None:
        """Write ``response``: whole, or as a stream passed through event by event."""
        if response.events is None:
            self.send(response)
            return
        self.start_stream(response)
        if await self.pass_events(response.events):
            self.end_stream("ok")

    def start_stream(self, response: Response) -> None:
        """Write the head of a streaming answer (chunked on HTTP/1.1)."""
        conn = self.conn
        self.status = response.status
        self.response_headers = response.headers
        self._stream = conn.version == b"HTTP/1.1"
        if not self._stream:
            conn.keep_alive = False
        head = status_line(response.status, conn.version) + header_block(response.headers)
        if self._stream:
            head += b"transfer-encoding: chunked\r\n"
        head += (_KEEP if conn.keep_alive else _CLOSE) + b"\r\n"
        # the head leaves with the first frame(s), or alone as soon as the stream waits
        conn.write_soon(head)
        self._head_sent = True

    def send_event(self, frame: bytes) -> None:
        """Write one SSE frame (one chunk), flushed at once."""
        if self.conn.head_only or not frame:
            return
        if self._stream:
            self.conn.write_soon(b"%x\r\n%s\r\n" % (len(frame), frame))
        else:
            self.conn.write_soon(frame)
        self.events += 1

    async def pass_events(
        self,
        events: AsyncIterator[bytes],
        *,
        stop: Callable[[int, bytes], bool] | None = None,
        delay: float = 0.0,
    ) -> bool:
        """Pass frames from ``events`` until they end, ``stop(n_sent, frame)`` says so, or the
        client goes; returns False if the client went (the exchange is then finished).

        :param stop: called before each frame; True keeps that frame back and stops.
        :param delay: seconds to wait before each frame (token delay).
        """
        conn = self.conn
        # Journal first, so that a client which stops reading at the terminal event finds
        # its record. The in-process fake yields its last frames without waiting, so they
        # leave in the flush after the loop (and after end_stream's journal entry); only a
        # forwarded stream, which waits on the network between frames, needs the (costly)
        # per-frame terminal check.
        is_terminal = self.target.dialect.is_terminal_event if self.target.forwards else None
        operation = self.info.operation if is_terminal is not None else None
        try:
            async for frame in events:
                if stop is not None and stop(self.events, frame):
                    return True
                if delay:
                    await asyncio.sleep(delay)
                if conn.closed:
                    self.finish("client_gone")
                    return False
                if (
                    is_terminal is not None
                    and not conn.head_only
                    and is_terminal(frame, operation=operation)
                ):
                    data = b"%x\r\n%s\r\n" % (len(frame), frame) if self._stream else frame
                    self.events += 1
                    self.finish("ok", pending=len(data) + (5 if self._stream else 0))
                    conn.write(data)
                else:
                    self.send_event(frame)
                await conn.drain()
            return True
        finally:
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()

    def end_stream(self, outcome: WireOutcome, *, last: bytes = b"") -> None:
        """Finish with ``outcome``, then write ``last`` (a final frame, if any) and the
        stream's terminator (the zero chunk) in one write, or close an HTTP/1.0 stream.

        The journal comes first: a client that reacts to the last frame finds its record.
        """
        conn = self.conn
        if last and not conn.head_only:
            self.events += 1
        if self._stream and not conn.head_only:
            data = (b"%x\r\n%s\r\n" % (len(last), last) if last else b"") + b"0\r\n\r\n"
            self.finish(outcome, pending=len(data))
            conn.write(data)
        else:
            self.finish(outcome, pending=len(last))
            if last and not conn.head_only:
                conn.write(last)
            if not self._stream:
                conn.close()

    def cut(self, outcome: WireOutcome) -> None:
        """Finish with ``outcome``, then close the connection (FIN) with no terminator."""
        self.finish(outcome)
        self.conn.close()

    def reset(self) -> None:
        """Finish, then reset the connection (RST)."""
        self.finish("reset")
        self.conn.reset()

    async def hang(self, outcome: WireOutcome = "hang") -> None:
        """Send nothing more until the client gives up, then finish with ``outcome``."""
        self.conn.keep_alive = False
        await self.conn.wait_closed()
        self.finish(outcome)

    # -- journal --------------------------------------------------------------------

    def finish(self, outcome: WireOutcome, *, pending: int = 0) -> None:
        """Record this exchange in the journal (once; later calls do nothing).

        The record is built lazily when the journal is read: identification,
        fingerprinting and redaction stay off the hot path. Only the raw fields
        are kept here, in one tuple (no closure, no copies).

        :param pending: bytes about to be written that the record must count.
        """
        if self._finished:
            return
        self._finished = True
        request = self.request
        rule = self.rule
        self.target.journal.append(
            _build_record,
            (
                self.target,
                request,
                self._info,
                None if rule is None else rule.name,
                self.action,
                self.phase,
                self.time,
                self.status if self._head_sent else None,
                outcome,
                self.conn.bytes_out + pending,
                self.events,
                _vtime.monotonic() - self.started,
                self.response_headers,
                self._error_body,
            ),
            len(request.body),
            self.conn.peer[1] if self.conn.peer else None,
        )


def _build_record(seq: int, fields: tuple[Any, ...]) -> JournalRecord:
    """The journal record of a finished exchange, from :meth:`Exchange.finish`'s fields."""
    (
        target,
        request,
        info,
        rule,
        action,
        phase,
        started,
        status,
        outcome,
        bytes_out,
        events,
        duration,
        response_headers,
        error_body,
    ) = fields
    if info is None:
        try:
            info = target.dialect.identify(request.method, request.path, request.body)
        except Exception:
            info = _UNKNOWN
    retry = request.header("x-stainless-retry-count")
    try:
        question = target.dialect.question(info, request.body)
    except Exception:  # a body the dialect cannot read asks no question it can name
        question = None
    return JournalRecord(
        seq=seq,
        time=started,
        target=target.name,
        method=request.method,
        path=redact_path(request.path),
        operation=info.operation,
        stream=info.stream,
        model=info.model,
        retry_count=int(retry) if retry is not None and retry.isdigit() else None,
        fingerprint=fingerprint(request.body),
        content_key="" if question is None else question.key,
        system_keys=() if question is None else question.system,
        call_kind=None if question is None else question.kind,
        rule=rule,
        action=action,
        phase=phase,
        status=status,
        outcome=outcome,
        bytes_in=len(request.body),
        bytes_out=bytes_out,
        events=events,
        duration=duration,
        request_headers=redact_headers(request.headers),
        response_headers=redact_headers(response_headers),
        retry_delay=retry_delay(response_headers, error_body) if status else None,
    )
