"""``Emulator.serve()`` answered to clients in other processes: the real google-cloud-bigquery,
raw ``requests`` to the Wallaroo REST API with a Keycloak token, the real ``wallaroo`` SDK where
an interpreter has it; the settle clock policy; in-process callers of the server's URL."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from serverkit import ROOT, client_env, run_client

from emulator import Emulator
from emulator.server import EmulatorServer, ServerError


@pytest.fixture
def served() -> Iterator[tuple[Emulator, EmulatorServer]]:
    with Emulator(seed=5) as emu, emu.serve() as server:
        yield emu, server


BIGQUERY_CLIENT = r"""
import os, sys
from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials
from google.cloud import bigquery

url = os.environ["EMULATOR_URL"]
explicit = bigquery.Client(project="proj", credentials=AnonymousCredentials(),
                           client_options=ClientOptions(api_endpoint=url))
explicit.create_dataset("houses")
explicit.query("CREATE TABLE houses.prices (id INT64, price FLOAT64, tags ARRAY<STRING>)").result()
errors = explicit.insert_rows_json("proj.houses.prices", [{"id": i, "price": 1000.5 * i, "tags": ["a", str(i)]}
                                                         for i in range(25)])
assert errors == [], errors
frame = explicit.query("SELECT id, price, tags FROM houses.prices WHERE id >= 5 ORDER BY id").to_dataframe()
assert len(frame) == 20 and frame["id"].tolist()[:2] == [5, 6] and list(frame["tags"][0]) == ["a", "5"], frame
# BIGQUERY_EMULATOR_HOST and application-default credentials (a key whose token_uri is the server)
env_client = bigquery.Client(project="proj")
assert env_client._connection.API_BASE_URL == url, env_client._connection.API_BASE_URL
(row,) = list(env_client.query("SELECT COUNT(*) AS n, SUM(price) AS s FROM houses.prices").result())
assert (row.n, row.s) == (25, 1000.5 * 300), tuple(row)
table = env_client.get_table("proj.houses.prices")
assert table.num_rows == 25 and [f.name for f in table.schema] == ["id", "price", "tags"]
try:
    env_client.query("SELECT nope FROM houses.prices").result()
except Exception as exc:
    assert type(exc).__name__ == "BadRequest" and "Unrecognized name: nope" in str(exc), exc
else:
    raise AssertionError("no error")
print("ok", row.n)
"""


def test_real_bigquery_client_in_another_process(served: tuple[Emulator, EmulatorServer]) -> None:
    emu, server = served
    done = run_client(BIGQUERY_CLIENT, client_env(server.env()))
    assert done.stdout.strip().endswith("ok 25")
    assert emu.bigquery.row_count("proj", "houses", "prices") == 25  # the same state in-process


WALLAROO_REST = r"""
import io, json, os, sys, zipfile
import requests

url = os.environ["WALLAROO_URL"]
token = requests.post(url + "/auth/realms/master/protocol/openid-connect/token", data={
    "grant_type": "password", "client_id": "sdk-client", "username": os.environ["WALLAROO_USER"],
    "password": os.environ["WALLAROO_PASSWORD"]}).json()["access_token"]
headers = {"Authorization": "Bearer " + token}
def post(path, **kwargs):
    return requests.post(url + "/v1/api/" + path, headers=headers, **kwargs)
ws = post("workspaces/create", json={"workspace_name": "restws"}).json()["workspace_id"]
listed = post("workspaces/list", json={}).json()["workspaces"]
assert "restws" in [w["name"] for w in listed], listed
graphql = requests.post(url + "/v1/graphql", headers=headers, json={
    "query": "query { workspace(where: {name: {_eq: \"restws\"}}) { id name } }"}).json()
assert graphql == {"data": {"workspace": [{"id": ws, "name": "restws"}]}}, graphql
buffer = io.BytesIO()
with zipfile.ZipFile(buffer, "w") as archive:
    archive.writestr("main.py", "import json\nprint('args', json.load(open('/home/jovyan/arguments.json')))\n")
    archive.writestr("requirements.txt", "")
upload = post("orchestration/upload", files=[
    ("file", ("orch.zip", buffer.getvalue(), "application/octet-stream")),
    ("metadata", ("metadata", json.dumps({"workspace_id": ws, "name": "o"}), "application/json"))])
assert upload.status_code == 202, upload.text
orch = post("orchestration/get_by_id", json={"id": upload.json()["id"]}).json()
assert orch["status"] == "ready", orch  # settled: packaging finished before this request was answered
task = post("task/run_once", json={"name": "t", "workspace_id": ws, "orch_id": orch["id"], "json": {"k": 1}}).json()
runs = post("task/list_task_runs", json={"task_id": task["id"]}).json()
assert [r["status"] for r in runs] == ["success"], runs
logs = post("task/get_logs_for_run", json={"id": runs[0]["run_id"]}).json()["logs"]
assert any(line.endswith("stdout F args {'k': 1}") for line in logs), logs
missing = post("connections/get", json={"name": "nope"})
assert missing.status_code == 404 and set(missing.json()) == {"msg", "code"}, missing.text
print("ok", ws)
"""


def test_raw_requests_to_wallaroo_in_another_process(served: tuple[Emulator, EmulatorServer]) -> None:
    emu, server = served
    done = run_client(WALLAROO_REST, client_env(server.env()))
    assert done.stdout.startswith("ok")
    runs = requests.get(f"{server.url}/_emulator/runs", timeout=10).json()["runs"]  # in-process: same answer
    assert [r["status"] for r in runs] == ["success"]
    assert emu.wallaroo.workspace_by_name("restws") is not None


def _sdk_interpreters() -> list[str]:
    """Interpreters with the real wallaroo SDK: ours, SERVER_SDK_PYTHON, the CI venvs."""
    found = []
    candidates = [sys.executable, os.environ.get("SERVER_SDK_PYTHON", ""),
                  str(ROOT / ".venv-ci-sdk" / "bin" / "python"), str(ROOT / ".venv-ci-seed38" / "bin" / "python"),
                  "/work/venv-sdk/bin/python"]
    for python in candidates:
        if python and Path(python).exists() and python not in found:
            probe = subprocess.run(  # find_spec imports nothing: cheap at collection time
                [python, "-c", "import importlib.util as u, sys; "
                 "sys.exit(any(u.find_spec(m) is None for m in ('wallaroo', 'google.cloud.bigquery')))"],
                capture_output=True, timeout=120)
            if probe.returncode == 0:
                found.append(python)
    return found


SDK_CLIENT = r"""
import os, sys, warnings
warnings.simplefilter("ignore")
import wallaroo
version = wallaroo.__version__
wl = wallaroo.Client()
ws = wl.create_workspace("sdkws")
wl.set_current_workspace(ws)
assert [w.name() for w in wl.list_workspaces() if w.name() == "sdkws"] == ["sdkws"]
from wallaroo.framework import Framework
model = wl.upload_model("sdkmodel", sys.argv[1], framework=Framework.ONNX)
model = model.configure() if version.startswith("2023") else model.configure(tensor_fields=["tensor"])
pipeline = wl.build_pipeline("sdkpipe").add_model_step(model)
pipeline.deploy()
assert pipeline.status()["status"] == "Running"
import pandas as pd
houses = [[4.0, 2.5, 2900.0, 5505.0, 2.0, 0.0, 0.0, 3.0, 8.0, 2900.0, 0.0, 47.6063, -122.02, 2970.0, 5251.0, 12.0,
           0.0, 0.0]] * 3
result = pipeline.infer(pd.DataFrame({"tensor": houses}))
assert len(result) == 3 and result["out.variable"][0][0] > 10000, result
pipeline.undeploy()
print("ok", version)
"""


@pytest.mark.parametrize("python", _sdk_interpreters() or [pytest.param(None, marks=pytest.mark.skip(
    reason="no interpreter with the real wallaroo SDK (set SERVER_SDK_PYTHON, or build .venv-ci-seed38)"))])
def test_real_wallaroo_sdk_in_another_process(served: tuple[Emulator, EmulatorServer], python: str) -> None:
    emu, server = served
    model = ROOT / "tutorial_replay" / "assets" / "models" / "rf_model.onnx"
    env = client_env(server.env(), ARROW_ENABLED="True")
    env.pop("PYTHONPATH")  # the SDK's interpreter, as a user has it
    done = run_client(SDK_CLIENT, env, python=python, timeout=300, args=(str(model),))
    assert "ok 20" in done.stdout
    assert [p.name for p in emu.wallaroo.list_pipelines()] == ["sdkpipe"]


def test_settle_and_manual_clock_policies(tmp_path: Path) -> None:
    """A remote client's next request sees what the platform finished meanwhile (settle); in manual
    mode nothing moves until the control API advances the clock."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr("main.py", "print('hi')\n")
    for policy in ("settle", "manual"):
        with Emulator() as emu, emu.serve(clock=policy) as server:
            ws = emu.wallaroo.create_workspace("w", emu.wallaroo.user("jane@ex.co"))
            from emulator.wallaroo.tasks import stores_for

            orchestrations, _ = stores_for(emu)
            record = orchestrations.upload(data.getvalue(), workspace_id=ws.id, name="o", file_name="o.zip",
                                           owner_id="u")
            answer, service = server.handle("POST", f"{server.url}/v1/api/orchestration/get_by_id",
                                            {"Content-Type": "application/json"},
                                            json.dumps({"id": record.id}).encode())
            assert service == "wallaroo" and answer.status == 200
            status = json.loads(answer.body)["status"]
            if policy == "settle":
                assert status == "ready" and emu.clock.now().isoformat() == "2023-05-10T21:00:45+00:00"
            else:
                assert status == "pending_packaging" and emu.clock.now().isoformat() == "2023-05-10T21:00:00+00:00"
                server.handle("POST", f"{server.url}/_emulator/clock/advance", {}, b'{"seconds": 60}')
                assert record.status == "ready"


def test_in_process_callers_of_the_server_url(served: tuple[Emulator, EmulatorServer]) -> None:
    """Code in the server's process (a task run) reaching the server's URL is answered in-process."""
    emu, server = served
    emu.clock.advance(30)
    assert requests.get(f"{server.url}/_emulator/clock", timeout=10).json()["now"] == "2023-05-10T21:00:30Z"
    key = emu.service_account_info("p")
    assert key["token_uri"] == f"{server.url}/token"
    from google.cloud import bigquery
    from google.oauth2 import service_account

    client = bigquery.Client(project="p", credentials=service_account.Credentials.from_service_account_info(key))
    assert [tuple(r) for r in client.query("SELECT 1 AS x").result()] == [(1,)]


def test_serve_enters_and_leaves(tmp_path: Path) -> None:
    emu = Emulator()
    server = emu.serve()
    try:
        assert emu.active and server.running and server.url.startswith("http://127.0.0.1:")
    finally:
        server.stop()
    assert not emu.active and not server.running
    assert emu.token_uri is None and emu.service_account_info("p")["token_uri"].startswith("https://oauth2.")
    emu.close()
    with pytest.raises(ServerError, match="loopback"):
        Emulator().serve(host="0.0.0.0")  # noqa: S104 - the refusal is the point


def test_the_pytest_fixture_serves(emulator: Emulator) -> None:
    from emulator.clock import to_utc

    with emulator.serve() as server:
        emulator.clock.advance(7)
        before = emulator.clock.now()
        env = client_env(server.env())
        done = run_client("import os, requests; print(requests.get(os.environ['EMULATOR_URL'] + '/_emulator/clock')"
                          ".json()['now'])", env)
        # the driving thread's own sleeps (subprocess's wait loop) may move the clock meanwhile
        assert before <= to_utc(done.stdout.strip()) <= emulator.clock.now()


def test_seed_flow_with_the_seed_sdk() -> None:
    """The seed's own SDK (wallaroo 2023.2.1, Python 3.8) through .ci/seed_sdk.sh, when its venv exists."""
    venv = Path(os.environ.get("SEED38_VENV", ROOT / ".venv-ci-seed38"))
    if not (venv / "bin" / "python").exists():
        pytest.skip("no Python 3.8 venv with wallaroo 2023.2.1 (.ci/seed_sdk.sh builds it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WALLAROO_", "GOOGLE_", "BIGQUERY_"))}
    env.update(PYTHON=sys.executable, SEED38_VENV=str(venv),
               PYTHONPATH=str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else ""))
    done = subprocess.run(["bash", str(ROOT / ".ci" / "seed_sdk.sh")], env=env, capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert "seed SDK flow passed" in done.stdout and "FAILED" not in done.stdout


def test_a_kept_alive_connection_after_stop_is_turned_away() -> None:
    import http.client

    with Emulator() as emu:
        server = emu.serve()
        host, port = server.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)  # a real socket, not intercepted
        connection.request("GET", "/_emulator/clock")
        assert connection.getresponse().read().startswith(b'{"now"')
        server.stop()
        try:
            connection.request("GET", "/_emulator/clock")
            answer = connection.getresponse()
        except (ConnectionError, http.client.HTTPException):
            return  # the connection was closed: also fine
        assert answer.status == 503 and b"stopped" in answer.read()
