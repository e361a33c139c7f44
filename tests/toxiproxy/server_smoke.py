"""A standard-library-only smoke run of the embedded server (any Python >= 3.11).

Run as ``python3 -S tests/toxiproxy/server_smoke.py`` with the repository root on
``PYTHONPATH``: it starts the server in a thread, proxies an echo server, checks
the API, a latency toxic on a live connection, ``limit_data``, ``reset_peer``
and a disabled proxy, and prints ``smoke ok``. ``test_server_pythons.py`` runs
it under every interpreter it finds, which catches asyncio differences between
Python releases (3.11.2, in Debian bookworm, starts reading a paused transport).
"""

from __future__ import annotations

import http.client
import json
import socket
import sys
import threading
import time

from chaos.toxiproxy import serve_in_thread


def echo_server() -> int:
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    def echo(conn: socket.socket) -> None:
        with conn:
            try:
                while data := conn.recv(65536):
                    conn.sendall(data)
            except OSError:
                pass

    threading.Thread(target=serve, daemon=True).start()
    return int(listener.getsockname()[1])


def call(url: str, method: str, path: str, body: object = None) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=10)
    try:
        conn.request(method, path, body=None if body is None else json.dumps(body))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def connect(listen: str) -> socket.socket:
    host, port = listen.rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def round_trip(sock: socket.socket, payload: bytes = b"ping") -> float:
    start = time.perf_counter()
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        data = sock.recv(65536)
        assert data, "closed early"
        got += data
    assert got == payload, got
    return time.perf_counter() - start


def main() -> int:
    upstream = f"127.0.0.1:{echo_server()}"
    with serve_in_thread(seed=1) as server:
        url = server.url
        assert call(url, "GET", "/version") == (200, b'{"version": "2.12.0"}\n')
        status, body = call(url, "POST", "/proxies", {"name": "smoke", "upstream": upstream})
        assert status == 201, body
        listen = json.loads(body)["listen"]

        with connect(listen) as sock:
            round_trip(sock, b"first bytes right after connect")
            status, _ = call(
                url,
                "POST",
                "/proxies/smoke/toxics",
                {"type": "latency", "attributes": {"latency": 150}},
            )
            assert status == 200
            assert round_trip(sock) >= 0.14
            assert call(url, "DELETE", "/proxies/smoke/toxics/latency_downstream")[0] == 204

        call(
            url, "POST", "/proxies/smoke/toxics", {"type": "limit_data", "attributes": {"bytes": 4}}
        )
        with connect(listen) as sock:
            sock.sendall(b"abcdefgh")
            got = b""
            while data := sock.recv(100):
                got += data
            assert got == b"abcd", got
        call(url, "DELETE", "/proxies/smoke/toxics/limit_data_downstream")

        call(
            url,
            "POST",
            "/proxies/smoke/toxics",
            {"type": "reset_peer", "attributes": {"timeout": 0}},
        )
        with connect(listen) as sock:
            sock.sendall(b"x")
            try:
                while sock.recv(100):
                    pass
            except ConnectionResetError:
                pass
            else:
                raise AssertionError("reset_peer did not reset")
        call(url, "DELETE", "/proxies/smoke/toxics/reset_peer_downstream")

        assert call(url, "PATCH", "/proxies/smoke", {"enabled": False})[0] == 200
        try:
            connect(listen).close()
        except ConnectionRefusedError:
            pass
        else:
            raise AssertionError("a disabled proxy accepted a connection")
    print(f"smoke ok on Python {sys.version.split()[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
