"""Offline by guarantee: what HTTP and sockets under an emulator can reach, and how to allow more.

Every test here would pass traffic to the real network if the guard broke; the hosts used are
reserved names (``.invalid``, ``example.com``) and TEST-NET addresses, so a broken guard fails
with a DNS or connection error of the wrong type instead of reaching anything.
"""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest
import requests
import respx

from emulator import Emulator
from emulator.network import HostPattern, NetworkAccessRefused, NetworkPolicy, socket_guard_installed
from emulator.transport import Router

OUTSIDE = "https://data.example.com/files/houses.csv"


@pytest.fixture()
def loopback_server() -> Iterator[str]:
    """A real HTTP server on 127.0.0.1 answering every GET with ``hello``."""

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _assert_names_how_to_allow(text: str, method: str, url: str) -> None:
    assert f"{method} {url}" in text
    assert "allow_hosts" in text and "static_urls" in text


# -- refusals -------------------------------------------------------------------------------


def test_requests_to_a_host_not_served_is_refused_with_a_clear_error():
    with Emulator(), pytest.raises(requests.ConnectionError) as caught:
        requests.get(OUTSIDE, timeout=5)
    _assert_names_how_to_allow(str(caught.value), "GET", OUTSIDE)


def test_httpx_sync_and_async_to_a_host_not_served_are_refused():
    async def fetch() -> None:
        async with httpx.AsyncClient() as client:
            await client.post(OUTSIDE, json={"a": 1})

    with Emulator():
        with pytest.raises(httpx.ConnectError) as sync_error:
            httpx.get(OUTSIDE)
        with pytest.raises(httpx.ConnectError) as async_error:
            asyncio.run(fetch())
    _assert_names_how_to_allow(str(sync_error.value), "GET", OUTSIDE)
    _assert_names_how_to_allow(str(async_error.value), "POST", OUTSIDE)


def test_urllib_and_pandas_read_csv_from_a_url_are_refused():
    with Emulator():
        with pytest.raises(urllib.error.URLError) as caught:
            urllib.request.urlopen(OUTSIDE)
        assert isinstance(caught.value.reason, NetworkAccessRefused)
        with pytest.raises(urllib.error.URLError):
            pd.read_csv(OUTSIDE)


@pytest.mark.parametrize(
    "address", [("data.example.com", 443), ("192.0.2.10", 80), ("2001:db8::1", 443)], ids=["name", "ipv4", "ipv6"]
)
def test_raw_sockets_to_the_outside_are_refused(address):
    with Emulator(), pytest.raises(NetworkAccessRefused, match="is offline"):
        socket.create_connection(address, timeout=1)


def test_socket_connect_to_an_ip_is_refused_before_any_packet():
    with Emulator():
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            with pytest.raises(NetworkAccessRefused, match="192.0.2.10:443"):
                sock.connect(("192.0.2.10", 443))
            with pytest.raises(NetworkAccessRefused):
                sock.connect_ex(("192.0.2.10", 443))
        finally:
            sock.close()


def test_google_hosts_the_emulator_does_not_serve_are_refused():
    with Emulator(), pytest.raises(requests.ConnectionError, match="storage.googleapis.com"):
        requests.get("https://storage.googleapis.com/v1/b/bucket/o")


# -- what stays reachable -----------------------------------------------------------------------


def test_loopback_stays_reachable_through_every_client(loopback_server):
    with Emulator():
        assert requests.get(loopback_server, timeout=5).text == "hello"
        assert httpx.get(loopback_server).text == "hello"
        assert urllib.request.urlopen(loopback_server).read() == b"hello"
        with socket.create_connection(("localhost", int(loopback_server.rsplit(":", 1)[1])), timeout=5):
            pass


def test_emulated_hosts_answer_httpx_in_process_sync_and_async():
    url = "https://bigquery.googleapis.com/bigquery/v2/projects/p/datasets"

    async def fetch() -> int:
        async with httpx.AsyncClient() as client:
            return (await client.get(url)).status_code

    with Emulator():
        response = httpx.get(url)
        assert response.status_code == 200 and response.json()["kind"] == "bigquery#datasetList"
        assert asyncio.run(fetch()) == 200


def test_wallaroo_paths_are_claimed_on_any_non_google_host_but_not_on_loopback_or_google():
    router = Router()
    router.serve_paths("wallaroo", r"/v1/|/auth/(?:realms|admin)/")
    assert router.decide("https://my-cluster.wallaroo.example/v1/api/config").service == "wallaroo"
    assert router.decide("https://anything.example.org/auth/realms/master/protocol/openid-connect/token").service == (
        "wallaroo"
    )
    assert router.decide("http://127.0.0.1:8080/v1/api/config").kind == "pass"
    assert router.decide("https://bigquery.googleapis.com/v1/x").kind == "refuse"
    assert router.decide("https://my-cluster.wallaroo.example/other").kind == "refuse"


def test_an_emulator_answers_the_wallaroo_api_at_any_endpoint_a_user_names():
    with Emulator():
        response = httpx.get("https://customer.wallaroo.example/v1/api/no-such-endpoint")
    # answered in-process by the Wallaroo service (a loud 404 naming the path), not refused
    assert response.status_code == 404 and "wallaroo" in response.text and "/v1/api/no-such-endpoint" in response.text


# -- opting in ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "host", "port", "allowed"),
    [
        ("example.com", "example.com", 443, True),
        ("example.com", "EXAMPLE.com.", None, True),
        ("example.com", "api.example.com", 443, False),
        ("*.example.com", "api.example.com", 443, True),
        ("*.example.com", "example.com", 80, False),
        ("example.com:8443", "example.com", 8443, True),
        ("example.com:8443", "example.com", 443, False),
        ("https://example.com", "example.com", 443, True),
        ("https://example.com", "example.com", 80, False),
        ("192.0.2.10", "192.0.2.10", 80, True),
        ("[2001:db8::1]:443", "2001:db8::1", 443, True),
    ],
)
def test_host_patterns(pattern, host, port, allowed):
    assert HostPattern.parse(pattern).matches(host, port) is allowed


@pytest.mark.parametrize("bad", ["", "  ", "exa*mple.com", "*.", "example.com/path"])
def test_invalid_host_patterns_are_refused(bad):
    with pytest.raises(ValueError):
        HostPattern.parse(bad)


def test_allowed_hosts_pass_through_every_layer():
    policy = NetworkPolicy(["*.example.com"])
    router = Router(policy)
    assert router.decide("https://data.example.com/x.csv").kind == "pass"
    assert router.decide("https://data.example.org/x.csv").kind == "refuse"
    # an allowed host is never claimed by a path rule
    router.serve_paths("wallaroo", r"/v1/")
    assert router.decide("https://api.example.com/v1/chat").kind == "pass"


def test_allowing_a_host_later_and_through_a_seed(tmp_path):
    from tutorial_replay.seed import apply_seed

    with Emulator() as emu:
        assert emu.router.decide(OUTSIDE).kind == "refuse"
        apply_seed({"network": {"allow": ["*.example.com"]}}, emu, tmp_path)
        assert emu.router.decide(OUTSIDE).kind == "pass"
        assert emu.network.allows("data.example.com", 443)


def test_a_bad_allow_pattern_in_a_seed_is_a_located_seed_error(tmp_path):
    from tutorial_replay.seed import SeedError, apply_seed

    with Emulator() as emu, pytest.raises(SeedError, match="network.allow"):
        apply_seed({"network": {"allow": ["exa*mple.com"]}}, emu, tmp_path)


# -- static URLs ------------------------------------------------------------------------------------


def test_static_urls_serve_a_file_and_a_folder_to_every_client(tmp_path):
    csv = tmp_path / "houses.csv"
    csv.write_text("price,rooms\n100,2\n250,4\n")
    folder = tmp_path / "site"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "data.json").write_text('{"ok": true}')
    static = {OUTSIDE: csv, "https://raw.example.net/repo/main": folder}
    with Emulator(static_urls=static):
        assert pd.read_csv(OUTSIDE)["price"].tolist() == [100, 250]
        assert requests.get(OUTSIDE).text.startswith("price,rooms")
        assert httpx.get("https://raw.example.net/repo/main/sub/data.json").json() == {"ok": True}
        head = requests.head("https://raw.example.net/repo/main/sub/data.json")
        assert head.status_code == 200 and head.headers["Content-Type"] == "application/json"
        assert requests.get("https://raw.example.net/repo/main/missing.txt").status_code == 404
        # a traversal never leaves the folder
        assert requests.get("https://raw.example.net/repo/main/sub/%2e%2e/%2e%2e/%2e%2e/etc/passwd").status_code == 404
        assert httpx.get("https://raw.example.net/repo/main/sub/%2E%2E/%2E%2E/x").status_code == 404
        assert requests.post(OUTSIDE, data=b"x").status_code == 405
        # a URL next to the file is still refused
        with pytest.raises(requests.ConnectionError):
            requests.get("https://data.example.com/files/other.csv")


def test_static_urls_from_a_seed_are_relative_to_the_seed_file(tmp_path):
    from tutorial_replay.seed import SeedError, load_seed

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "houses.csv").write_text("a\n1\n")
    seed_file = tmp_path / "seed.yaml"
    seed_file.write_text(f"static_urls:\n  {OUTSIDE}: data/houses.csv\n")
    seed = load_seed(seed_file)
    with Emulator() as emu:
        seed.apply(emu, tmp_path)
        assert requests.get(OUTSIDE).text == "a\n1\n"
    seed_file.write_text(f"static_urls:\n  {OUTSIDE}: data/missing.csv\n")
    with Emulator() as emu, pytest.raises(SeedError, match="does not exist"):
        load_seed(seed_file).apply(emu, tmp_path)
    with pytest.raises(SeedError):
        load_seed({"static_urls": {"ftp://example.com/x": "data/houses.csv"}})


# -- coexisting and restoring -----------------------------------------------------------------------


def test_a_users_own_respx_mock_keeps_working_inside_the_emulator():
    with Emulator(), respx.mock(assert_all_called=False) as mock:
        mock.get("https://api.example.com/items").respond(200, json=[1, 2])
        assert httpx.get("https://api.example.com/items").json() == [1, 2]
        # emulated hosts are still answered by the emulator
        assert httpx.get("https://bigquery.googleapis.com/bigquery/v2/projects/p/datasets").status_code == 200


def test_everything_is_restored_on_exit():
    before = (socket.getaddrinfo, socket.socket.connect, urllib.request._opener)
    with Emulator():
        assert socket_guard_installed()
        assert socket.getaddrinfo is not before[0]
    assert (socket.getaddrinfo, socket.socket.connect, urllib.request._opener) == before
    assert not socket_guard_installed()
    # outside an emulator nothing is refused by us (the name is reserved, so resolution fails on its own)
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("nothing.invalid", 80)


def test_httpx_imported_only_inside_the_emulator_is_intercepted_and_released(tmp_path):
    """Entering an emulator imports neither httpx nor respx; httpx imported later is served all the same."""
    import subprocess
    import sys

    script = tmp_path / "late_httpx.py"
    script.write_text(
        "import sys\n"
        "from emulator import Emulator\n"
        "with Emulator() as emu:\n"
        "    assert 'httpx' not in sys.modules and 'respx' not in sys.modules\n"
        "    import httpx\n"
        "    answer = httpx.get('https://bigquery.googleapis.com/bigquery/v2/projects/p/datasets')\n"
        "    assert answer.json()['kind'] == 'bigquery#datasetList', answer.text\n"
        "    try:\n"
        "        httpx.get('https://example.org/')\n"
        "    except httpx.ConnectError as exc:\n"
        "        assert 'example.org' in str(exc)\n"
        "    else:\n"
        "        raise AssertionError('not refused')\n"
        "assert not [f for f in sys.meta_path if type(f).__name__ == '_AfterImport']\n"
        "with Emulator() as emu:\n"
        "    assert httpx.get('https://bigquery.googleapis.com/bigquery/v2/projects/p/datasets').status_code == 200\n"
        "print('ok')\n",
        encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


def test_requests_never_falls_back_to_the_network(loopback_server, monkeypatch):
    """Only a URL the router decides to pass reaches the network through ``requests``: no blanket
    pass-through stands behind the emulator's matchers. Simulated gap: the router's decision
    changes between the two checks a request meets (as when another thread allows and then
    disallows a host) — the first says pass, every later one refuses."""
    from emulator.transport import PASS, REFUSE

    with Emulator() as emu:
        assert requests.get(loopback_server, timeout=5).text == "hello"  # loopback passes
        calls = []

        def decide(url):
            calls.append(url)
            return PASS if len(calls) == 1 else REFUSE

        monkeypatch.setattr(emu.router, "decide", decide)
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.get(loopback_server, timeout=5)
