"""``python -m emulator serve`` as a process: control API, error shapes, concurrent clients, shutdown."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from serverkit import ROOT, ServerProcess, post_json, start_server, wallaroo_token


@pytest.fixture(scope="module")
def server() -> Iterator[ServerProcess]:
    proc = start_server("--start", "2024-01-02T03:04:05Z", "--id-seed", "3")
    yield proc
    proc.stop()


def test_banner_and_env_file(server: ServerProcess) -> None:
    env = server.env
    assert env["BIGQUERY_EMULATOR_HOST"] == env["WALLAROO_URL"] == server.url
    assert server.url.startswith("http://127.0.0.1:")
    assert env["WALLAROO_SDK_AUTH_TYPE"] == "user_password" and env["WALLAROO_USER"]
    info = requests.get(f"{server.url}/_emulator", timeout=10).json()
    assert info["urls"]["base"] == server.url and info["seed"] == 3 and info["clock_policy"] == "settle"


def test_clock_read_and_advance(server: ServerProcess) -> None:
    base = f"{server.url}/_emulator/clock"
    before = requests.get(base, timeout=10).json()
    assert before["start"] == "2024-01-02T03:04:05Z"
    after = requests.post(f"{base}/advance", json={"seconds": 90}, timeout=10).json()
    assert after["epoch_ms"] - before["epoch_ms"] == 90_000
    later = requests.post(f"{base}/advance", json={"to": "2030-01-01T00:00:00Z"}, timeout=10).json()
    assert later["now"] == "2030-01-01T00:00:00Z"
    # BigQuery's CURRENT_TIMESTAMP on the server reads the same clock
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(project="p", credentials=AnonymousCredentials(),
                             client_options=ClientOptions(api_endpoint=server.url))
    (row,) = list(client.query("SELECT CURRENT_TIMESTAMP() AS now").result())
    assert row.now.isoformat() == "2030-01-01T00:00:00+00:00"
    backwards = requests.post(f"{base}/advance", json={"to": "2020-01-01T00:00:00Z"}, timeout=10)
    assert backwards.status_code == 400 and "backwards" in backwards.json()["error"]["message"]
    for bad in ({}, {"seconds": "x"}, {"seconds": 1, "to": "2031-01-01T00:00:00Z"}, [1]):
        answer = requests.post(f"{base}/advance", json=bad, timeout=10)
        assert answer.status_code == 400 and set(answer.json()["error"]) >= {"code", "message", "status"}


def test_reset_and_seed(server: ServerProcess, tmp_path: pytest.TempPathFactory) -> None:
    token = wallaroo_token(server.url)
    created = post_json(server.url, "/v1/api/workspaces/create", {"workspace_name": "before-reset"}, token)
    assert created.status_code == 200
    reset = requests.post(f"{server.url}/_emulator/reset", json={}, timeout=60)
    assert reset.status_code == 200 and reset.json()["clock"]["now"] == "2024-01-02T03:04:05Z"
    token = wallaroo_token(server.url)
    listed = post_json(server.url, "/v1/api/workspaces/list", {}, token).json()
    assert "before-reset" not in [w["name"] for w in listed["workspaces"]]
    seed = {"bigquery": [{"project": "seeded", "datasets": [{"dataset": "d", "tables": [
        {"table": "t", "schema": [{"name": "x", "type": "INT64"}], "rows": [{"x": 1}, {"x": 2}, {"x": 3}]}]}]}],
        "service_accounts": [{"path": "key.json", "project": "seeded"}]}
    applied = requests.post(f"{server.url}/_emulator/seed", json={"seed": seed, "workdir": str(tmp_path)}, timeout=60)
    assert applied.status_code == 200, applied.text
    assert any("3 rows" in line for line in applied.json()["applied"])
    import json

    key = json.loads((tmp_path / "key.json").read_text())
    assert key["token_uri"] == f"{server.url}/token"  # the keys the server mints exchange at the server
    answer = requests.get(f"{server.url}/bigquery/v2/projects/seeded/datasets/d/tables/t", timeout=10).json()
    assert answer["numRows"] == "3"
    bad = requests.post(f"{server.url}/_emulator/seed", json={"seed": {"bigquery": "nope"}}, timeout=10)
    assert bad.status_code == 400 and "bigquery" in bad.json()["error"]["message"]


def test_runs_and_request_log(server: ServerProcess) -> None:
    assert requests.get(f"{server.url}/_emulator/runs", timeout=10).json() == {"runs": []}
    missing = requests.get(f"{server.url}/_emulator/runs/nope", timeout=10)
    assert missing.status_code == 404 and missing.json()["error"]["status"] == "NOT_FOUND"
    mark = requests.get(f"{server.url}/_emulator/requests", timeout=10).json()["last"]
    requests.get(f"{server.url}/bigquery/v2/projects/p/datasets", timeout=10)
    log = requests.get(f"{server.url}/_emulator/requests", params={"since": mark}, timeout=10).json()["requests"]
    seen = [(e["method"], e["path"], e["service"], e["status"]) for e in log]
    assert seen[:2] == [("GET", "/_emulator/requests", "emulator-control", 200),
                        ("GET", "/bigquery/v2/projects/p/datasets", "bigquery", 200)]
    assert all(e["virtual_time"].endswith("Z") and e["duration_ms"] >= 0 for e in log)


def test_bad_requests_get_the_services_shapes(server: ServerProcess) -> None:
    url = server.url
    unknown_bq = requests.get(f"{url}/bigquery/v2/nothing/here", timeout=10)
    assert unknown_bq.status_code == 404 and unknown_bq.json()["error"]["status"] == "NOT_FOUND"
    unknown_wl = requests.post(f"{url}/v1/api/nothing/here", json={}, timeout=10)
    assert unknown_wl.status_code == 404 and set(unknown_wl.json()) == {"msg", "code"}
    unknown = requests.get(f"{url}/elsewhere", timeout=10)
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == 404
    wrong_method = requests.delete(f"{url}/v1/api/workspaces/list", timeout=10)
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == 405
    bad_bq = requests.post(f"{url}/bigquery/v2/projects/p/datasets", data=b"{not json",
                           headers={"Content-Type": "application/json"}, timeout=10)
    assert bad_bq.status_code == 400 and bad_bq.json()["error"]["errors"][0]["reason"] == "invalid"
    bad_wl = requests.post(f"{url}/v1/api/workspaces/list", data=b"{not json", timeout=10)
    assert bad_wl.status_code == 400 and "JSON" in bad_wl.json()["msg"]
    bad_gql = requests.post(f"{url}/v1/graphql", data=b"{not json", timeout=10)
    assert bad_gql.status_code < 500 and "Traceback" not in bad_gql.text
    bad_control = requests.post(f"{url}/_emulator/clock/advance", data=b"{", timeout=10)
    assert bad_control.status_code == 400
    bad_token = requests.post(f"{url}/token", data={"grant_type": "nope"}, timeout=10)
    assert bad_token.status_code == 400 and bad_token.json()["error"] == "unsupported_grant_type"
    # the path is routed as sent (percent-encoded), as the in-process transport sees it: %2F is no slash
    encoded = requests.post(f"{url}/v1/api/workspaces%2Flist", json={}, timeout=10)
    assert encoded.status_code == 404 and encoded.json()["code"] == 404
    for answer in (unknown_bq, unknown_wl, unknown, bad_bq, bad_wl, bad_gql, bad_control):
        assert "Traceback" not in answer.text


def test_engine_path_prefix_and_proxy_host(server: ServerProcess) -> None:
    missing = requests.post(f"{server.url}/_engine/nope-1/pipelines/p", json=[], timeout=10)
    assert missing.status_code == 404 and "nope-1" in missing.text
    # a client using the server as its HTTP proxy reaches the in-cluster hosts of 2023.2
    proxies = {"http": server.url}
    token = wallaroo_token(server.url)
    via_proxy = requests.post("http://api-lb:8080/v1/api/workspaces/list", json={}, proxies=proxies,
                              headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert via_proxy.status_code == 200 and "workspaces" in via_proxy.json()
    engine = requests.post("http://engine-lb.nope-1:29502/pipelines/p", json=[], proxies=proxies, timeout=10)
    assert engine.status_code == 404 and "nope-1" in engine.text


def test_concurrent_clients(server: ServerProcess) -> None:
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    client = bigquery.Client(project="conc", credentials=AnonymousCredentials(),
                             client_options=ClientOptions(api_endpoint=server.url))
    client.create_dataset("d", exists_ok=True)
    client.query("CREATE TABLE d.t (worker INT64, i INT64)").result()
    token = wallaroo_token(server.url)

    def work(worker: int) -> int:
        own = bigquery.Client(project="conc", credentials=AnonymousCredentials(),
                              client_options=ClientOptions(api_endpoint=server.url))
        for i in range(5):
            errors = own.insert_rows_json("conc.d.t", [{"worker": worker, "i": i}])
            assert errors == []
            answer = post_json(server.url, "/v1/api/workspaces/create", {"workspace_name": f"w{worker}-{i}"}, token)
            assert answer.status_code == 200, answer.text
        (row,) = list(own.query(f"SELECT COUNT(*) AS n FROM d.t WHERE worker = {worker}").result())
        return int(row.n)

    with ThreadPoolExecutor(8) as pool:
        counts = list(pool.map(work, range(8)))
    assert counts == [5] * 8
    (row,) = list(client.query("SELECT COUNT(*) AS n, COUNT(DISTINCT worker) AS w FROM d.t").result())
    assert (row.n, row.w) == (40, 8)
    names = [w["name"] for w in post_json(server.url, "/v1/api/workspaces/list", {}, token).json()["workspaces"]]
    assert len([n for n in names if n.startswith("w") and "-" in n]) == 40


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_stops_promptly_and_frees_the_port(sig: int) -> None:
    proc = start_server()
    port = int(proc.url.rsplit(":", 1)[1])
    assert requests.get(f"{proc.url}/_emulator/clock", timeout=10).status_code == 200
    started = time.monotonic()
    code, out = proc.stop(sig, timeout=15)
    assert code == 0, out
    assert time.monotonic() - started < 5
    assert "stopped" in out and "Traceback" not in out
    with socket.socket() as probe:  # nothing listens there any more (TIME_WAIT may linger, as for any server)
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", "::"])
def test_refuses_non_loopback_hosts(host: str) -> None:
    done = subprocess.run([sys.executable, "-m", "emulator", "serve", "--host", host], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)
    assert done.returncode == 2 and "loopback" in done.stderr and "Traceback" not in done.stderr


def test_a_task_run_sleeping_on_a_server_thread_moves_the_virtual_clock(server: ServerProcess) -> None:
    """A run executes on the request's thread, which drives the clock: its sleep passes at once,
    in virtual time, exactly as in-process (and datetime.now() inside reads the virtual clock)."""
    import io
    import json
    import zipfile

    main = ("import datetime, time\n"
            "print('before', datetime.datetime.now(datetime.timezone.utc).isoformat())\n"
            "time.sleep(30)\n"
            "print('after', datetime.datetime.now(datetime.timezone.utc).isoformat())\n")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.py", main)
    token = wallaroo_token(server.url)
    headers = {"Authorization": f"Bearer {token}"}
    ws = post_json(server.url, "/v1/api/workspaces/create", {"workspace_name": "sleepy"}, token).json()["workspace_id"]
    upload = requests.post(f"{server.url}/v1/api/orchestration/upload", headers=headers, timeout=60, files=[
        ("file", ("o.zip", buffer.getvalue(), "application/octet-stream")),
        ("metadata", ("metadata", json.dumps({"workspace_id": ws, "name": "sleepy"}), "application/json"))])
    assert upload.status_code == 202, upload.text
    real_start = time.monotonic()
    task = post_json(server.url, "/v1/api/task/run_once", {"name": "nap", "workspace_id": ws,
                                                           "orch_id": upload.json()["id"], "json": {}}, token).json()
    runs = requests.get(f"{server.url}/_emulator/runs", params={"task_id": task["id"]}, timeout=60).json()["runs"]
    assert runs == [] or runs[0]["status"] == "success"  # control requests do not settle
    listed = post_json(server.url, "/v1/api/task/list_task_runs", {"task_id": task["id"]}, token).json()
    assert [r["status"] for r in listed] == ["success"]
    assert time.monotonic() - real_start < 20  # the 30-second sleep was virtual
    run = requests.get(f"{server.url}/_emulator/runs/{listed[0]['run_id']}", timeout=10).json()
    stamps = {line.split(" ")[-2]: line.split(" ")[-1] for line in run["logs"] if " stdout F " in line
              and line.split(" ")[-2] in ("before", "after")}
    from datetime import datetime

    gap = datetime.fromisoformat(stamps["after"]) - datetime.fromisoformat(stamps["before"])
    assert gap.total_seconds() == 30, run["logs"]


def test_a_port_in_use_is_an_error_not_a_traceback(server: ServerProcess) -> None:
    port = server.url.rsplit(":", 1)[1]
    done = subprocess.run([sys.executable, "-m", "emulator", "serve", "--port", port], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 2 and "cannot listen" in done.stderr and "Traceback" not in done.stderr
    bad_seed = subprocess.run([sys.executable, "-m", "emulator", "serve", "--seed", "/nonexistent/seed.yaml"],
                              capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert bad_seed.returncode == 2 and "seed" in bad_seed.stderr and "Traceback" not in bad_seed.stderr
