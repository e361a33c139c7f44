"""HTTP/1.1 correctness of the gateway's own server, seen through raw sockets."""

from __future__ import annotations

import json
import time

import pytest

from chaos.gateway import Gateway
from chaos.gateway._http import MAX_BODY, MAX_HEAD
from tests.gateway._raw import connect, read_all, read_until, request

MSG = json.dumps({"model": "m"}).encode()


def _responses(data: bytes) -> list[bytes]:
    """Split content-length responses in ``data``: each head + body."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        out.append(head + b"\r\n\r\n" + rest[:length])
        data = rest[length:]
    return out


def test_keep_alive_serves_many_requests_on_one_connection(gateway: Gateway) -> None:
    with connect(gateway.urls["t"]) as s:
        for _ in range(3):
            s.sendall(request("POST", "/v1/messages", MSG))
            data = read_until(s, b"hello world")
            assert data.startswith(b"HTTP/1.1 200 OK\r\n")
            assert b"connection: keep-alive" in data
    assert len(gateway.journal()) == 3


def test_pipelined_requests_are_answered_in_order(gateway: Gateway) -> None:
    with connect(gateway.urls["t"]) as s:
        s.sendall(
            request("GET", "/v1/models")
            + request("POST", "/v1/messages", MSG)
            + request("GET", "/nowhere")
        )
        data = read_until(s, b'"nope"')
    answers = _responses(data)
    assert [a.split(b"\r\n", 1)[0] for a in answers] == [
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 200 OK",
        b"HTTP/1.1 404 Not Found",
    ]
    assert answers[0].endswith(b'{"data":[]}')


def test_chunked_request_body_is_reassembled(gateway: Gateway) -> None:
    body = b'{"model": "chunky"}'
    chunked = (
        b"5\r\n" + body[:5] + b"\r\n" + b"%x\r\n" % (len(body) - 5) + body[5:] + b"\r\n0\r\n\r\n"
    )
    head = b"POST /v1/messages HTTP/1.1\r\nhost: t\r\ntransfer-encoding: chunked\r\n\r\n"
    with connect(gateway.urls["t"]) as s:
        s.sendall(head)
        s.sendall(chunked[:9])  # arrives in pieces
        s.sendall(chunked[9:])
        data = read_until(s, b"hello world")
    assert b'"model": "chunky"' in data
    assert gateway.journal()[0].bytes_in == len(body)


def test_expect_100_continue_gets_an_interim_answer(gateway: Gateway) -> None:
    head = (
        b"POST /v1/messages HTTP/1.1\r\nhost: t\r\nexpect: 100-continue\r\n"
        b"content-length: %d\r\n\r\n" % len(MSG)
    )
    with connect(gateway.urls["t"]) as s:
        s.sendall(head)
        assert read_until(s, b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(MSG)
        assert read_until(s, b"hello world").startswith(b"HTTP/1.1 200 OK")


def test_head_gets_headers_without_body(gateway: Gateway) -> None:
    with connect(gateway.urls["t"]) as s:
        s.sendall(request("HEAD", "/v1/models") + request("GET", "/v1/models"))
        data = read_until(s, b'{"data":[]}')
    first, _, rest = data.partition(b"\r\n\r\n")
    assert b"content-length: " in first
    assert rest.startswith(b"HTTP/1.1 200 OK")  # no body came before the second answer


def test_http_1_0_closes_after_the_answer(gateway: Gateway) -> None:
    with connect(gateway.urls["t"]) as s:
        s.sendall(b"GET /v1/models HTTP/1.0\r\n\r\n")
        data, how = read_all(s)
    assert how == "eof"
    assert data.startswith(b"HTTP/1.0 200 OK")
    assert b"connection: close" in data


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (b"GARBAGE\r\n\r\n", b"400"),
        (b"GET / HTTP/2.0\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\ncontent-length: abc\r\n\r\n", b"400"),
        (b"POST / HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n", b"400"),
        (b"GET / HTTP/1.1\r\nx: " + b"a" * (MAX_HEAD + 10) + b"\r\n\r\n", b"431"),
        (b"POST / HTTP/1.1\r\ncontent-length: %d\r\n\r\n" % (MAX_BODY + 1), b"413"),
    ],
    ids=["garbage", "http2", "bad-length", "bad-chunk", "huge-head", "huge-body"],
)
def test_bad_requests_are_refused_and_the_server_lives_on(
    gateway: Gateway, payload: bytes, status: bytes
) -> None:
    with connect(gateway.urls["t"]) as s:
        s.sendall(payload)
        data, how = read_all(s)
    assert data.split(b"\r\n", 1)[0].split(b" ")[1] == status
    assert how == "eof"
    with connect(gateway.urls["t"]) as s:
        s.sendall(request("GET", "/v1/models"))
        assert read_until(s, b'{"data":[]}').startswith(b"HTTP/1.1 200")


def test_stream_is_chunked_and_flushed_event_by_event(gateway: Gateway) -> None:
    from chaos.faults import Fault, SseAction

    # 200 ms between events: the first one must arrive long before the stream ends
    gateway.set_faults([Fault("t", SseAction(token_delay=200))])
    with connect(gateway.urls["t"]) as s:
        start = time.monotonic()
        s.sendall(request("POST", "/v1/messages", b'{"stream": true}'))
        first = read_until(s, b'{"i":0}')
        first_at = time.monotonic() - start
        rest = read_until(s, b"0\r\n\r\n")
        end_at = time.monotonic() - start
    assert b"transfer-encoding: chunked" in first
    assert first_at < end_at - 0.5
    assert rest.endswith(b'message_stop"}\n\n\r\n0\r\n\r\n')


@pytest.mark.parametrize("uvloop", ["0", "1"], ids=["asyncio-loop", "uvloop"])
def test_wire_control_on_either_event_loop(monkeypatch: pytest.MonkeyPatch, uvloop: str) -> None:
    """RST, a chunked stream without its terminator and keep-alive work on both loops."""
    from chaos.faults import Fault, SseAction, WireAction
    from chaos.gateway import TargetConfig
    from tests.gateway._tiny import TinyDialect

    if uvloop == "1":
        pytest.importorskip("uvloop")
    monkeypatch.setenv("LLM_CHAOS_UVLOOP", uvloop)
    with Gateway({"t": TargetConfig(TinyDialect())}, admin=False) as gw:
        gw.set_faults([Fault("t", WireAction("reset"), name="r")])
        with connect(gw.urls["t"]) as s:
            s.sendall(request("POST", "/v1/messages", MSG))
            assert read_all(s) == (b"", "reset")
        gw.set_faults([Fault("t", SseAction(cut_after=1))])
        with connect(gw.urls["t"]) as s:
            s.sendall(request("POST", "/v1/messages", b'{"stream": true}'))
            data, how = read_all(s)
        assert how == "eof"
        assert not data.endswith(b"0\r\n\r\n")
        gw.clear()
        with connect(gw.urls["t"]) as s:
            for _ in range(2):
                s.sendall(request("GET", "/v1/models"))
                assert read_until(s, b'{"data":[]}').startswith(b"HTTP/1.1 200 OK")


def test_an_answer_cancelled_before_it_starts_leaves_no_unawaited_coroutine() -> None:
    """Shutdown may cancel a connection's task before its first step (gateway.stop() right
    after a request came in): the answer's coroutine must still be closed, not leaked."""
    import asyncio
    import gc
    import warnings

    from chaos.gateway._http import Connection

    started: list[bool] = []

    class Handler:
        def on_request(self, conn, request):
            async def answer() -> None:
                started.append(True)

            return answer()

    class Transport(asyncio.Transport):
        def get_extra_info(self, name, default=None):
            return default

        def abort(self) -> None:
            pass

    async def main() -> None:
        conn = Connection(Handler(), set())
        conn.connection_made(Transport())
        conn.data_received(request("GET", "/v1/models"))
        conn.abort()  # before the task ever ran
        await asyncio.sleep(0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asyncio.run(main())
        gc.collect()
    assert started == []


def test_stop_right_after_a_request_leaves_no_unawaited_answer() -> None:
    """The same through the gateway: the answer (a hang) is wrapped; both are closed."""
    import asyncio
    import gc
    import warnings

    from chaos.faults import Fault, WireAction
    from chaos.gateway import TargetConfig
    from chaos.gateway._gateway import _TargetHandler
    from chaos.gateway._http import Connection
    from tests.gateway._tiny import TinyDialect

    class Transport(asyncio.Transport):
        def get_extra_info(self, name, default=None):
            return default

        def abort(self) -> None:
            pass

    async def main() -> None:
        gw = Gateway({"t": TargetConfig(TinyDialect())}, admin=False)
        gw.set_faults([Fault("t", WireAction("hang"))])
        conn = Connection(_TargetHandler(gw, gw._targets["t"]), set())
        conn.connection_made(Transport())
        conn.data_received(request("POST", "/v1/messages", MSG))
        conn.abort()
        await asyncio.sleep(0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        asyncio.run(main())
        gc.collect()


def test_a_request_that_never_completes_gets_408_and_the_connection_closes(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slowloris client (a byte now and then, never a whole request) is cut off."""
    monkeypatch.setattr("chaos.gateway._http.REQUEST_TIMEOUT", 0.3)
    with connect(gateway.urls["t"]) as slow:
        slow.sendall(b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n")
        time.sleep(0.2)
        slow.sendall(b"content-length: 10\r\n")  # a later byte does not restart the clock
        data, end = read_all(slow)
    assert data.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), data
    assert b"did not arrive within 0.3 s" in data
    assert end == "eof"
    # the server lives on, and an idle keep-alive connection is not timed out
    with connect(gateway.urls["t"]) as s:
        s.sendall(request("POST", "/v1/messages", MSG))
        read_until(s, b"hello world")
        time.sleep(0.5)
        s.sendall(request("POST", "/v1/messages", MSG))
        assert read_until(s, b"hello world").startswith(b"HTTP/1.1 200 OK\r\n")
    assert not any(r.status == 408 for r in gateway.journal())
