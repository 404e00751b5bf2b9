"""The MLOps REST API driven with raw ``requests``, as the API tutorials do (headers from
``wl.auth.auth_header()``): connections, orchestrations and tasks end to end."""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from emulator.emulator import WALLAROO_EMULATOR_URL, Emulator

MAIN = """
import json, os, sys
print("args", json.dumps({"task": os.environ["WALLAROO_TASK_ID"] != ""}))
with open("/home/jovyan/arguments.json") as handle:
    print("from file", json.load(handle))
if os.environ.get("FAIL"):
    sys.exit(3)
"""


def orchestration_zip(main: str = MAIN) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.py", main)
        archive.writestr("requirements.txt", "")
    return buffer.getvalue()


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, str, dict[str, str]]]:
    for var in ("WALLAROO_URL", "WALLAROO_SDK_AUTH_TYPE", "WALLAROO_SDK_CREDENTIALS", "WALLAROO_TASK_ID"):
        monkeypatch.delenv(var, raising=False)
    with Emulator(sdk="2026.1") as emu:
        import wallaroo

        wl = wallaroo.Client()
        yield emu, wl.api_endpoint, wl.auth.auth_header()


def post(base: str, path: str, headers: dict[str, str], **kwargs: Any) -> requests.Response:
    return requests.post(f"{base}/v1/api/{path}", headers=headers, **kwargs)


def test_connections_over_rest(api: tuple[Emulator, str, dict[str, str]]) -> None:
    emu, base, headers = api
    workspace_id = post(base, "workspaces/create", headers, json={"workspace_name": "restws"}).json()["workspace_id"]
    details = {"type": "service_account", "project_id": "p", "dataset": "d", "table": "t"}
    created = post(base, "connections/create", headers, json={"name": "houseinput", "type": "BIGQUERY",
                                                              "details": details})
    assert created.status_code == 200
    connection_id = created.json()["id"]
    duplicate = post(base, "connections/create", headers, json={"name": "houseinput", "type": "BIGQUERY",
                                                                "details": details})
    assert duplicate.status_code == 409 and set(duplicate.json()) == {"msg", "code"}
    link = post(base, "connections/add_to_workspace", headers,
                json={"workspace_id": workspace_id, "connection_id": connection_id})
    assert link.status_code == 200 and link.json()["id"] not in (connection_id, str(workspace_id))
    got = post(base, "connections/get", headers, json={"name": "houseinput"}).json()
    assert got["details"] == details and got["workspace_names"] == ["restws"]
    assert post(base, "connections/get_by_id", headers, json={"id": connection_id}).json() == got
    listed = post(base, "connections/list", headers, json={"workspace_id": workspace_id}).json()
    assert [c["name"] for c in listed["connections"]] == ["houseinput"]
    assert post(base, "connections/remove_from_workspace", headers,
                json={"workspace_id": workspace_id, "connection_id": connection_id}).status_code == 204
    assert post(base, "connections/list", headers, json={"workspace_id": workspace_id}).json() == {"connections": []}
    assert post(base, "connections/delete", headers, json={"name": "houseinput"}).status_code == 204
    missing = post(base, "connections/get", headers, json={"name": "houseinput"})
    assert missing.status_code == 404 and missing.json()["code"] == 404
    # the backend saw the same thing the wire did
    assert emu.wallaroo.connections == {}


def test_orchestration_and_tasks_over_rest(api: tuple[Emulator, str, dict[str, str]]) -> None:
    emu, base, headers = api
    workspace_id = post(base, "workspaces/create", headers, json={"workspace_name": "orchws"}).json()["workspace_id"]
    data = orchestration_zip()
    upload = post(base, "orchestration/upload", headers, files=[
        ("file", ("api_inference_orchestration.zip", data, "application/octet-stream")),
        ("metadata", ("metadata", json.dumps({"workspace_id": workspace_id, "name": "apiorch"}), "application/json")),
    ])
    assert upload.status_code == 202
    orch_id = upload.json()["id"]
    statuses = []
    while True:  # the tutorial polls every 10 s; the sleeps pass on the virtual clock
        orch = post(base, "orchestration/get_by_id", headers, json={"id": orch_id}).json()
        statuses.append(orch["status"])
        if orch["status"] in ("ready", "error"):
            break
        time.sleep(10)
    assert statuses[0] == "pending_packaging" and statuses[-1] == "ready" and "packaging" in statuses
    import hashlib

    assert orch["sha"] == hashlib.sha256(data).hexdigest() and orch["file_name"] == "api_inference_orchestration.zip"
    listed = post(base, "orchestration/list", headers, json={"workspace_id": workspace_id}).json()
    assert [o["id"] for o in listed] == [orch_id]

    once = post(base, "task/run_once", headers, json={"name": "api run once task", "workspace_id": workspace_id,
                                                       "orch_id": orch_id, "json": {"pipeline_name": "p"}})
    assert once.status_code == 201
    task_id = once.json()["id"]
    while post(base, "task/get_by_id", headers, json={"id": task_id}).json()["status"] != "started":
        time.sleep(5)
    runs = post(base, "task/list_task_runs", headers, json={"task_id": task_id}).json()
    assert [r["status"] for r in runs] == ["success"] and runs[0]["task"] == task_id
    logs = post(base, "task/get_logs_for_run", headers, json={"id": runs[0]["run_id"]}).json()["logs"]
    assert any(line.endswith("stdout F from file {'pipeline_name': 'p'}") for line in logs), logs
    assert post(base, "task/get_logs_for_run", headers, json={"id": runs[0]["run_id"], "lines": 2}).json()["logs"] == logs[-2:]
    assert post(base, "task/get_tasks_by_orch_sha", headers, json={"sha": orch["sha"]}).json() == {"ids": [task_id]}

    scheduled = post(base, "task/run_scheduled", headers, json={
        "name": "scheduled api task", "workspace_id": workspace_id, "orch_id": orch_id,
        "schedule": "*/5 * * * *", "timeout": 120, "json": {"pipeline_name": "p"}})
    assert scheduled.status_code == 201
    cron_id = scheduled.json()["id"]
    task = post(base, "task/get_by_id", headers, json={"id": cron_id}).json()
    assert task["run_type"] == "CronJob" and task["schedule"] == "*/5 * * * *"
    runs = []
    while not runs:
        time.sleep(60)
        runs = post(base, "task/list_task_runs", headers, json={"task_id": cron_id}).json()
    time.sleep(600)  # two more */5 boundaries
    assert len(post(base, "task/list_task_runs", headers, json={"task_id": cron_id}).json()) == 3
    killed = post(base, "task/kill", headers, json={"id": cron_id})
    assert killed.status_code == 202
    assert killed.json()["status"] == "pending_kill" and killed.json()["killed"] is False
    time.sleep(3600)
    assert len(post(base, "task/list_task_runs", headers, json={"task_id": cron_id}).json()) == 3
    active = post(base, "task/list", headers, json={"workspace_id": workspace_id}).json()
    assert [t["id"] for t in active] == [task_id]


def test_raw_requests_reach_any_api_host(api: tuple[Emulator, str, dict[str, str]]) -> None:
    emu, _, headers = api
    answer = requests.post("https://my-cluster.wallaroo.example.com/v1/api/workspaces/list", headers=headers, json={})
    assert answer.status_code == 200 and answer.json() == {"workspaces": []}
    assert requests.get(f"{WALLAROO_EMULATOR_URL}/v1/api/config").json()["default_arch"] == "x86"


def test_bad_requests_answer_in_the_platform_shape(api: tuple[Emulator, str, dict[str, str]]) -> None:
    _, base, headers = api
    for body, fragment in ((b"{not json", "Failed to parse the request body as JSON"),
                           (b"[1, 2]", "expected a JSON object"),
                           (b'{"name": 7, "type": "BIGQUERY"}', "name: invalid type: number `7`, expected a string"),
                           (b'{"type": "BIGQUERY"}', "missing field `name`")):
        answer = post(base, "connections/create", {**headers, "Content-Type": "application/json"}, data=body)
        assert answer.status_code == 400, body
        assert answer.json()["code"] == 400 and fragment in answer.json()["msg"]
    answer = post(base, "task/get_by_id", headers, json={"id": "not-a-uuid"})
    assert answer.status_code == 400 and "UUID" in answer.json()["msg"]
    answer = post(base, "orchestration/upload", headers, files={"file": ("x.zip", b"not a zip")},
                  data={"metadata": "{}"})
    assert answer.status_code == 400 and "workspace_id" in answer.json()["msg"]
    answer = post(base, "orchestration/upload", headers, files=[
        ("file", ("x.zip", b"not a zip", "application/zip")),
        ("metadata", ("metadata", json.dumps({"workspace_id": 999}), "application/json"))])
    assert answer.status_code == 404


def test_auth_header_names_the_facade_user(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("WALLAROO_URL", "WALLAROO_SDK_AUTH_TYPE", "WALLAROO_SDK_CREDENTIALS", "WALLAROO_TASK_ID"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("WALLAROO_USER", "amy@example.com")
    monkeypatch.setenv("WALLAROO_PASSWORD", "secret")
    with Emulator(sdk="2026.1") as emu:
        import wallaroo

        wl = wallaroo.Client(auth_type="user_password")
        created = post(wl.api_endpoint, "workspaces/create", wl.auth.auth_header(), json={"workspace_name": "amys"})
        assert emu.wallaroo.workspace(created.json()["workspace_id"]).users == ["amy@example.com"]
