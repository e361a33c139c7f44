"""Bad input never crashes the harness: the gateway's HTTP parser and the embedded
Toxiproxy's REST API get malformed request lines, headers, chunked framing, invalid
UTF-8, oversized heads and bodies, and slowloris clients. Each gets a 4xx or a closed
connection, nothing is logged as an error, no connection is kept forever, and a
normal request is served after every example."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from chaos.gateway import Gateway, TargetConfig
from tests.reliability._proc import eventually

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    print_blob=True,  # a failure prints how to reproduce it (@reproduce_failure)
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class _Errors(logging.Handler):
    """Collects every ERROR logged by the servers or by asyncio (a callback that raised)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(self.format(record))


@pytest.fixture(scope="module")
def errors() -> Iterator[_Errors]:
    handler = _Errors()
    loggers = [logging.getLogger(n) for n in ("asyncio", "chaos")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


@pytest.fixture(scope="module")
def gateway(errors: _Errors) -> Iterator[Gateway]:
    with Gateway({"openai": TargetConfig("openai")}) as gw:
        yield gw


@pytest.fixture(scope="module")
def toxiproxy(errors: _Errors) -> Iterator[str]:
    from chaos.toxiproxy import serve_in_thread

    with serve_in_thread() as server:
        yield server.url


# -- generating bad requests -----------------------------------------------------------

_TOKENS = st.sampled_from(
    [b"GET", b"POST", b"PUT", b"DELETE", b"HEAD", b"G\xc3\x89T", b"", b"get", b"PO ST", b"\x00"]
)
_PATHS = st.sampled_from(
    [
        b"/v1/chat/completions",
        b"/proxies",
        b"/proxies/x/toxics",
        b"/health",
        b"/journal?since=abc",
        b"*",
        b"http://h/x",
        b"/%ff%00",
        b"/\xff\xfe",
        b"",
        b"/" + b"a" * 5000,
    ]
)
_VERSIONS = st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2", b"HTTP/1.1 extra", b"", b"\xff"])
_HEADER_NAMES = st.sampled_from(
    [
        b"host",
        b"content-length",
        b"transfer-encoding",
        b"connection",
        b"expect",
        b"content-type",
        b" x",
        b"x ",
        b"",
        b"\xff\xfe",
        b"a\x00b",
        b"x-api-key",
    ]
)
_HEADER_VALUES = st.one_of(
    st.sampled_from(
        [
            b"0",
            b"5",
            b"-1",
            b"1e3",
            b"99999999999999999999",
            b"chunked",
            b"gzip, chunked",
            b"identity",
            b"close",
            b"keep-alive",
            b"100-continue",
            b"application/json",
            b"\xc3\x28",
        ]
    ),
    st.binary(max_size=40).filter(lambda b: b"\r" not in b and b"\n" not in b),
)
_HEADER = st.tuples(_HEADER_NAMES, st.sampled_from([b": ", b":", b" : ", b""]), _HEADER_VALUES)
_CHUNK = st.one_of(
    st.binary(max_size=30).map(lambda b: b"%x\r\n%s\r\n" % (len(b), b)),
    st.sampled_from(
        [
            b"zz\r\nab\r\n",
            b"-1\r\n",
            b"ffffffffffffffff\r\n",
            b"3\r\nabcd\r\n",
            b"5;ext=1\r\nhello\r\n",
            b"0\r\n\r\n",
            b"0\r\ntrailer: x\r\n\r\n",
            b"\r\n",
        ]
    ),
)
_BODY = st.one_of(
    st.binary(max_size=200),
    st.just(b'{"name": "x", "listen": "127.0.0.1:0", "upstream": "127.0.0.1:9"}'),
    st.sampled_from(
        [
            b"{",
            b"[]",
            b'{"type": "latency", "attributes": {"latency": "x"}}',
            b'{"enabled": "yes"}',
            b"\xff\xfe{}",
            b'{"a": 1e999}',
            b"null",
        ]
    ),
    st.lists(_CHUNK, max_size=6).map(b"".join),
)


_LENGTHS = st.one_of(
    st.integers(0, 300).map(lambda n: str(n).encode()),
    st.sampled_from([b"-1", b"-0", b"+5", b"1e3", b"0x10", b"99999999999999999999", b" 5 ", b""]),
)


@st.composite
def bad_requests(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(min_size=1, max_size=300))
    line = b" ".join([draw(_TOKENS), draw(_PATHS), draw(_VERSIONS)])
    headers = draw(st.lists(_HEADER, max_size=5))
    framing = draw(st.sampled_from(["none", "length", "chunked", "both"]))
    if framing in ("length", "both"):
        headers.append((b"content-length", b": ", draw(_LENGTHS)))
    if framing in ("chunked", "both"):
        headers.append((b"transfer-encoding", b": ", b"chunked"))
        body = b"".join(draw(st.lists(_CHUNK, max_size=6)))
    else:
        body = draw(_BODY)
    block = b"".join(n + sep + v + b"\r\n" for n, sep, v in draw(st.permutations(headers)))
    end = draw(st.sampled_from([b"\r\n", b"\r\n", b"\r\n", b"\n", b""]))
    return line + b"\r\n" + block + end + body


# known bad inputs, always tried: negative and overlong chunk sizes, an incomplete
# request then EOF, a stray byte, invalid UTF-8 in the request line
KNOWN = [
    b"POST /proxies HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n-1\r\n",
    b"POST /proxies HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n" + b"1" * 70000 + b"\r\n",
    b"POST /proxies HTTP/1.1\r\ncontent-length: -5\r\n\r\n{}",
    b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 50\r\n\r\n{",
    b"\x00",
    b"GET /health \xff\r\n\r\n",
]


def known(test):  # type: ignore[no-untyped-def]
    for data in KNOWN:
        test = example(data=data)(test)
    return test


# -- sending them ----------------------------------------------------------------------


def _exchange(url: str, data: bytes, timeout: float = 10.0) -> bytes:
    """Send ``data``, half-close, and read until the server closes (bounded)."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:  # the server refused and closed while we were still sending
            return b""
        answer = b""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                return answer
            except TimeoutError:
                break
            if not chunk:
                return answer
            answer += chunk
        raise AssertionError(f"the server kept the connection open: {data!r} -> {answer[:200]!r}")


def _statuses(answer: bytes) -> list[int]:
    out = []
    for line in answer.split(b"\r\n"):
        if line.startswith(b"HTTP/1."):
            out.append(int(line.split()[1]))
    return out


def _gateway_serves(gw: Gateway) -> None:
    answer = httpx.post(
        gw.urls["openai"] + "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "still there?"}]},
        headers={"authorization": "Bearer k"},
        timeout=10,
    )
    assert answer.status_code == 200


def _toxiproxy_serves(url: str) -> None:
    assert httpx.get(f"{url}/version", timeout=10).status_code == 200


@pytest.mark.slow
@FUZZ
@known
@given(data=bad_requests())
def test_gateway_survives_malformed_requests(
    gateway: Gateway, errors: _Errors, data: bytes
) -> None:
    answer = _exchange(gateway.urls["openai"], data)
    statuses = _statuses(answer)
    # a request that happened to be well-formed may get any answer; a bad one a 4xx
    assert not statuses or all(100 <= s < 600 for s in statuses)
    assert all(s < 500 for s in statuses), answer[:300]
    assert not errors.records, errors.records
    _gateway_serves(gateway)
    assert not eventually(lambda: len(gateway._conns), timeout=15), "a connection was kept"


@pytest.mark.slow
@FUZZ
@known
@given(data=bad_requests())
def test_gateway_admin_survives_malformed_requests(
    gateway: Gateway, errors: _Errors, data: bytes
) -> None:
    assert gateway.admin_url is not None
    answer = _exchange(gateway.admin_url, data)
    assert all(s < 500 for s in _statuses(answer)), answer[:300]
    assert not errors.records, errors.records
    _gateway_serves(gateway)


@pytest.mark.slow
@FUZZ
@known
@given(data=bad_requests())
def test_toxiproxy_api_survives_malformed_requests(
    toxiproxy: str, errors: _Errors, data: bytes
) -> None:
    answer = _exchange(toxiproxy, data)
    assert all(s < 500 for s in _statuses(answer)), answer[:300]
    assert not errors.records, errors.records
    _toxiproxy_serves(toxiproxy)


# -- oversized input -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"GET / HTTP/1.1\r\nx-big: " + b"a" * (128 * 1024) + b"\r\n\r\n", 431),
        (b"POST /v1/chat/completions HTTP/1.1\r\ncontent-length: 40000000\r\n\r\n", 413),
        (
            b"POST /v1/chat/completions HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n7000000\r\n",
            413,
        ),
        (b"GET /" + b"a" * (100 * 1024) + b" HTTP/1.1\r\n\r\n", 431),
    ],
    ids=["huge header", "huge content-length", "huge chunk", "huge request line"],
)
def test_gateway_refuses_oversized_input(
    gateway: Gateway, errors: _Errors, data: bytes, status: int
) -> None:
    # the 431/413 is written, then the connection closed with the rest unread: the
    # kernel may answer that with a reset before the client reads the status
    assert _statuses(_exchange(gateway.urls["openai"], data)) in ([status], [])
    assert not errors.records
    _gateway_serves(gateway)


@pytest.mark.parametrize(
    "data",
    [
        b"GET /version HTTP/1.1\r\nx-big: " + b"a" * (2 * 1024 * 1024) + b"\r\n\r\n",
        b"POST /proxies HTTP/1.1\r\ncontent-length: 99999999999999\r\n\r\n{}",
        b"POST /proxies HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nfffffffffff\r\n",
        b"POST /proxies HTTP/1.1\r\ncontent-length: " + b"9" * 5000 + b"\r\n\r\n",
    ],
    ids=["huge header", "huge content-length", "huge chunk", "absurd content-length"],
)
def test_toxiproxy_api_refuses_oversized_input(
    toxiproxy: str, errors: _Errors, data: bytes
) -> None:
    assert all(400 <= s < 500 for s in _statuses(_exchange(toxiproxy, data)))
    assert not errors.records
    _toxiproxy_serves(toxiproxy)


# -- slowloris -----------------------------------------------------------------------


def _slowloris(url: str, clients: int, seconds: float) -> list[socket.socket]:
    parts = urlsplit(url)
    socks = [
        socket.create_connection((parts.hostname, parts.port), timeout=5) for _ in range(clients)
    ]
    return socks


@pytest.mark.slow
@pytest.mark.parametrize("server", ["gateway", "toxiproxy"])
def test_slowloris_clients_do_not_starve_others(
    gateway: Gateway, toxiproxy: str, errors: _Errors, server: str
) -> None:
    url = gateway.urls["openai"] if server == "gateway" else toxiproxy
    serves = (
        (lambda: _gateway_serves(gateway))
        if server == "gateway"
        else (lambda: _toxiproxy_serves(toxiproxy))
    )
    request = b"POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\n"
    socks = _slowloris(url, 200, 3)
    stop = threading.Event()

    def drip() -> None:
        # each client sends its request one byte a second, never finishing within the test
        for i in range(len(request)):
            if stop.wait(1.0):
                return
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.send(request[i : i + 1])

    dripper = threading.Thread(target=drip)
    dripper.start()
    try:
        for _ in range(3):
            time.sleep(1.0)
            serves()  # others are still served while 200 clients dribble
    finally:
        stop.set()
        dripper.join()
        for sock in socks:
            sock.close()
    serves()
    assert not errors.records
    if server == "gateway":
        assert not eventually(lambda: len(gateway._conns), timeout=10)
