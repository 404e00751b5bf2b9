"""HTTP/1.1 keep-alive of the server: one client connection carries request after request (bodies
read to their end, error answers included), survives virtual-clock jumps, and never holds up a stop."""

from __future__ import annotations

import http.client
import json
import signal
import socket
from collections.abc import Iterator

import pytest
from serverkit import client_env, run_client, start_server

from emulator import Emulator
from emulator.server import EmulatorServer


@pytest.fixture
def served() -> Iterator[EmulatorServer]:
    with Emulator(seed=5) as emu, emu.serve() as server:
        yield server


def _connect(server: EmulatorServer) -> http.client.HTTPConnection:
    host, port = server.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)  # a real socket, not intercepted
    connection.connect()
    return connection


def _ask(connection: http.client.HTTPConnection, method: str, path: str, body: object = None,
         **kwargs: object) -> tuple[int, bytes, http.client.HTTPResponse]:
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes | list) else body
    connection.request(method, path, body=data, **kwargs)  # type: ignore[arg-type]
    answer = connection.getresponse()
    return answer.status, answer.read(), answer


def test_one_connection_carries_many_requests_bodies_and_errors(served: EmulatorServer) -> None:
    connection = _connect(served)
    sock = connection.sock
    port = sock.getsockname()[1]
    status, _, answer = _ask(connection, "GET", "/_emulator/clock")
    assert status == 200 and answer.getheader("Connection") is None and answer.version == 11
    # a body (Content-Length), a chunked body, an error answer, a bad body, a path nobody serves, HEAD
    status, body, _ = _ask(connection, "POST", "/_emulator/clock/advance", {"seconds": 5})
    assert status == 200, body
    after_five = json.loads(body)["epoch_ms"]
    status, body, _ = _ask(connection, "POST", "/_emulator/clock/advance",
                           [b'{"seco', b'nds": 7}'], encode_chunked=True)
    assert status == 200 and json.loads(body)["epoch_ms"] == after_five + 7000, body
    status, body, _ = _ask(connection, "POST", "/_emulator/clock/advance", b"not json")
    assert status == 400 and b"not valid JSON" in body
    status, body, _ = _ask(connection, "GET", "/nowhere")
    assert status == 404 and b"no emulated service" in body
    connection.request("HEAD", "/_emulator/clock")
    head = connection.getresponse()
    assert head.read() == b"" and int(head.getheader("Content-Length") or 0) == 0  # (405: no HEAD route)
    status, body, _ = _ask(connection, "GET", "/_emulator/clock")
    assert status == 200
    assert connection.sock is sock and sock.getsockname()[1] == port  # never reconnected
    log = json.loads(_ask(connection, "GET", "/_emulator/requests")[1])["requests"]
    assert [(e["method"], e["status"]) for e in log] == [
        ("GET", 200), ("POST", 200), ("POST", 200), ("POST", 400), ("GET", 404), ("HEAD", 405), ("GET", 200)]
    connection.close()


def test_an_http10_client_gets_its_connection_closed(served: EmulatorServer) -> None:
    host, port = served.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /_emulator/clock HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):  # ends: the server closes the connection after its answer
            received += chunk
    assert received.startswith(b"HTTP/1.1 200") and b"\r\nConnection: close\r\n" in received


def test_a_pooled_connection_survives_a_big_virtual_clock_jump(served: EmulatorServer) -> None:
    connection = _connect(served)
    sock = connection.sock
    status, body, _ = _ask(connection, "POST", "/_emulator/clock/advance", {"seconds": 40 * 86400})
    assert status == 200, body
    status, body, _ = _ask(connection, "GET", "/_emulator/clock")  # idle timeouts are real time, not virtual
    assert status == 200 and connection.sock is sock
    connection.close()


def test_stop_closes_idle_kept_alive_connections(served: EmulatorServer) -> None:
    connections = [_connect(served) for _ in range(3)]
    for connection in connections:
        assert _ask(connection, "GET", "/_emulator/clock")[0] == 200  # then idle, kept alive
    served.stop()  # returns although three connections wait for their next request
    assert not served.running
    for connection in connections:
        assert connection.sock is not None
        assert connection.sock.recv(1) == b""  # closed by the server (a timeout would raise)
        connection.close()


def test_a_requests_session_in_another_process_uses_one_connection(served: EmulatorServer) -> None:
    script = r"""
import os, requests
import urllib3.util.connection as sockets
opened = []
real = sockets.create_connection
def counted(*args, **kwargs):
    opened.append(1)
    return real(*args, **kwargs)
sockets.create_connection = counted  # every TCP connection urllib3 opens
url = os.environ["EMULATOR_URL"]
session = requests.Session()
for i in range(6):
    session.post(f"{url}/_emulator/clock/advance", json={"seconds": 1}).raise_for_status()
    session.get(f"{url}/_emulator/clock").raise_for_status()
manager = session.get_adapter(url).poolmanager
pools = [manager.pools[key] for key in manager.pools.keys()]
print("pools", len(pools), "sockets", len(opened), "requests", sum(p.num_requests for p in pools))
"""
    done = run_client(script, client_env(served.env()))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pools 1 sockets 1 requests 12" in done.stdout, done.stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_server_with_an_idle_connection_open(sig: int) -> None:
    proc = start_server()
    host, port = proc.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", "/_emulator/clock")
        assert connection.getresponse().read().startswith(b'{"now"')
        code, out = proc.stop(sig, timeout=15)  # raises if the idle connection held the server up
        assert code == 0, out
        assert "Traceback" not in out
    finally:
        connection.close()


def test_a_request_on_a_kept_alive_connection_after_stop_gets_one_connection_close(served: EmulatorServer) -> None:
    connection = _connect(served)
    status, _, first = _ask(connection, "GET", "/_emulator/clock")
    assert status == 200 and first.msg.get_all("Connection") is None
    server, served._server = served._server, None  # as if the request below came in while the server stops
    try:
        status, body, answer = _ask(connection, "GET", "/_emulator/clock")
    finally:
        served._server = server
    assert status == 503 and b"stopped" in body and answer.msg.get_all("Connection") == ["close"]
    connection.close()
