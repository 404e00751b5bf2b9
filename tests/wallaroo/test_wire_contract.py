"""Every Wallaroo route's answer against the keys, status codes and formats the real SDKs'
parsers require (reference ``wallaroo-http-api.md`` §4-§5), in both profiles; and no route ever
answers 500 or a traceback, whatever the body."""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wallaroo_testkit import house_rows

from emulator.emulator import WALLAROO_EMULATOR_URL, Emulator
from emulator.wallaroo.rest import ROUTES
from emulator.wallaroo.tasks import RUN_STATUSES, TASK_STATUSES

ORCHESTRATION_STATUSES = {"uninitialized", "pending_packaging", "packaging", "ready", "error"}
URL = WALLAROO_EMULATOR_URL


def is_uuid(value: Any) -> bool:
    return isinstance(value, str) and str(uuid.UUID(value)) == value


def is_iso(value: Any) -> bool:
    return isinstance(value, str) and datetime.fromisoformat(value).tzinfo is not None


def call(emu: Emulator, path: str, body: Any = None, *, method: str = "POST", raw: bytes | None = None,
         headers: dict[str, str] | None = None, url: str = URL) -> tuple[int, Any, dict[str, str]]:
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    answer = emu.router.dispatch(method, f"{url}{path}", {"Content-Type": "application/json", **(headers or {})}, data)
    content_type = answer.headers.get("Content-Type", "")
    parsed = json.loads(answer.body) if content_type.startswith("application/json") and answer.body else answer.body
    return answer.status, parsed, answer.headers


def multipart(parts: list[tuple[str, str | None, bytes, str]]) -> tuple[bytes, dict[str, str]]:
    import httpx

    files = [(name, (filename, data, kind)) for name, filename, data, kind in parts]
    request = httpx.Request("POST", "http://x/", files=files)
    return request.read(), {"Content-Type": request.headers["content-type"]}


def orchestration_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.py", "print('hello from the task')\n")
    return buffer.getvalue()


class Platform:
    """One platform built through the wire: workspace, model, pipeline, deployment, connection,
    orchestration, a run-once and a scheduled task."""

    def __init__(self, emu: Emulator, model_path: Path) -> None:
        self.emu = emu
        status, body, _ = call(emu, "/v1/api/workspaces/create", {"workspace_name": "contractws"})
        assert status == 200
        self.workspace_id = body["workspace_id"]
        data, headers = multipart([
            ("metadata", None, json.dumps({"name": "housemodel", "visibility": "private", "workspace_id": self.workspace_id,
                                           "conversion": {"arch": "x86", "accel": "none", "framework": "onnx",
                                                          "framework_config": None, "python_version": "3.8",
                                                          "requirements": []}}).encode(), "application/json"),
            ("file", "rf_model.onnx", model_path.read_bytes(), "application/octet-stream")])
        self.upload = call(emu, "/v1/api/models/upload", raw=data, headers=headers)
        self.model_version_id = self.upload[1]["insert_models"]["returning"][0]["models"][0]["id"]
        self.version = call(emu, "/v1/api/models/get_version_by_id", {"model_version_id": self.model_version_id})
        self.config = call(emu, "/v1/api/models/insert_model_config",
                           {"model_version_id": self.model_version_id, "tensor_fields": ["tensor"]})
        mv = self.version[1]["model_version"]["model_version"]
        self.created = call(emu, "/v1/api/pipelines/create", {"pipeline_id": "housepipe", "workspace_id": self.workspace_id,
                                                               "definition": {}})
        self.pipeline_id = self.created[1]["pipeline_pk_id"]
        definition = {"id": "housepipe", "steps": [{"ModelInference": {"models": [
            {"name": "housemodel", "version": mv["model_version"], "sha": mv["sha"]}]}}]}
        self.versioned = call(emu, "/v1/api/pipelines/create", {"pipeline_id": "housepipe", "workspace_id": self.workspace_id,
                                                                 "definition": definition})
        self.deploy = call(emu, "/v1/api/pipelines/deploy", {
            "deploy_id": "housepipe", "pipeline_version_pk_id": self.versioned[1]["pipeline_variant_pk_id"],
            "engine_config": {"engine": {"arch": "x86", "accel": "none"}, "enginelb": {}, "engineAux": {"images": {}},
                              "workspace_id": self.workspace_id}})
        self.deployment_name = f"housepipe-{self.deploy[1]['id']}"
        emu.clock.advance(10)
        self.connection = call(emu, "/v1/api/connections/create", {"name": "conn", "type": "BIGQUERY", "details": {"k": 1}})
        self.connection_id = self.connection[1]["id"]
        data, headers = multipart([
            ("file", "orch.zip", orchestration_zip(), "application/octet-stream"),
            ("metadata", None, json.dumps({"workspace_id": self.workspace_id, "name": None}).encode(), "application/json")])
        self.orch_upload = call(emu, "/v1/api/orchestration/upload", raw=data, headers=headers)
        self.orch_id = self.orch_upload[1]["id"]
        emu.clock.advance(60)
        self.once = call(emu, "/v1/api/task/run_once", {"json": {"k": "v"}, "orch_id": self.orch_id,
                                                        "workspace_id": self.workspace_id, "debug": False,
                                                        "name": "once", "timeout": None})
        self.task_id = self.once[1]["id"]
        self.cron = call(emu, "/v1/api/task/run_scheduled", {"json": {}, "orch_id": self.orch_id, "schedule": "*/5 * * * *",
                                                             "workspace_id": self.workspace_id, "debug": False,
                                                             "name": "cron", "timeout": 120})
        emu.clock.advance(600)
        self.run_id = call(emu, "/v1/api/task/list_task_runs", {"task_id": self.task_id})[1][0]["run_id"]


@pytest.fixture(params=["2023.2", "2026.1"])
def platform(request: pytest.FixtureRequest, house_model_path: Path) -> Iterator[Platform]:
    with Emulator(sdk=request.param) as emu:
        yield Platform(emu, house_model_path)


def check_task(task: dict[str, Any], profile: str) -> None:
    assert is_uuid(task["id"]) and isinstance(task["workspace_id"], int)
    assert task["status"] in TASK_STATUSES[profile]
    assert isinstance(task["input_data"], dict) and isinstance(task["killed"], bool)
    assert is_iso(task["created_at"]) and is_iso(task["updated_at"])
    for run in task["last_runs"]:
        assert is_uuid(run["run_id"]) and run["status"] in RUN_STATUSES[profile]
        assert is_iso(run["created_at"]) and is_iso(run["updated_at"])


def test_models_and_pipelines(platform: Platform) -> None:
    emu = platform.emu
    assert platform.upload[0] == 200
    version = platform.version[1]["model_version"]
    mv = version["model_version"]
    assert {"id", "model_id", "model_version", "sha", "status", "file_name", "arch", "accel"} <= set(mv)
    assert mv["status"] == "ready" and mv["model_id"] == "housemodel" and is_uuid(mv["model_version"])
    assert is_uuid(mv["file_info"]["version"]) and is_iso(mv["updated_at"])
    assert isinstance(version["config"]["id"], int) and version["config"]["runtime"] == "onnx"
    config = platform.config[1]["model_config"]
    assert config["tensor_fields"] == ["tensor"] and config["model_version_id"] == platform.model_version_id
    status, body, _ = call(emu, "/v1/api/models/get_config_by_id", {"model_id": platform.model_version_id})
    assert status == 200 and body["model_config"]["id"] == config["id"]
    for created in (platform.created, platform.versioned):
        assert created[0] == 200
        assert set(created[1]) == {"pipeline_pk_id", "pipeline_variant_pk_id", "pipeline_variant_version"}
        assert is_uuid(created[1]["pipeline_variant_version"])
    assert platform.deploy[0] == 200 and isinstance(platform.deploy[1]["id"], int)
    status, body, _ = call(emu, "/v1/api/status/get_deployment", {"name": platform.deployment_name})
    assert status == 200 and body["status"] == "Running"
    assert {"details", "engines", "engine_lbs", "sidekicks"} <= set(body)
    status, body, _ = call(emu, "/v1/api/pipelines/get_pipeline_by_name",
                           {"pipeline_name": "housepipe", "workspace_id": platform.workspace_id})
    assert status == 200 and body["plateau_topic"] == f"workspace-{platform.workspace_id}-pipeline-housepipe-inference"
    assert {"id", "name", "created_at", "updated_at"} <= set(body["pipeline"])
    assert {"id", "name", "created_at", "archived"} <= set(body["workspace"])
    assert is_iso(body["pipeline"]["updated_at"]) and is_iso(body["workspace"]["created_at"])
    status, body, _ = call(emu, "/v1/api/pipelines/get_pipeline_by_name",
                           {"pipeline_name": "nope", "workspace_id": platform.workspace_id})
    assert status == 404 and set(body) == {"msg", "code"}
    status, body, _ = call(emu, "/v1/api/plateau/get_topic_name", {"pipeline_pk_id": platform.pipeline_id})
    assert body == {"topic_name": f"workspace-{platform.workspace_id}-pipeline-housepipe-inference"}
    status, body, _ = call(emu, "/v1/api/admin/get_pipeline_external_url",
                           {"workspace_id": platform.workspace_id, "pipeline_name": "housepipe"})
    assert body["url"] == f"{URL}/v1/api/pipelines/infer/{platform.deployment_name}/housepipe"
    status, body, _ = call(emu, "/v1/api/pipelines/undeploy", {"deployment_id": platform.deploy[1]["id"]})
    assert status == 200 and body == {}
    emu.clock.advance(5)
    status, body, _ = call(emu, "/v1/api/status/get_deployment", {"name": platform.deployment_name})
    assert status == 404 and set(body) == {"msg", "code"}


def test_workspaces_and_connections(platform: Platform) -> None:
    emu = platform.emu
    status, body, _ = call(emu, "/v1/api/workspaces/list", {})
    assert status == 200
    for item in body["workspaces"]:
        assert set(item) >= {"id", "name", "created_at", "created_by", "archived", "models", "pipelines"}
        assert is_iso(item["created_at"]) and isinstance(item["models"], list)
    assert platform.connection[0] == 200 and is_uuid(platform.connection_id)
    for path, request in (("get", {"name": "conn"}), ("get_by_id", {"id": platform.connection_id})):
        status, item, _ = call(emu, f"/v1/api/connections/{path}", request)
        assert status == 200 and {"id", "name", "type", "created_at", "workspace_names", "details"} <= set(item)
        assert is_iso(item["created_at"])
    status, body, _ = call(emu, "/v1/api/connections/add_to_workspace",
                           {"workspace_id": platform.workspace_id, "connection_id": platform.connection_id})
    assert status == 200 and is_uuid(body["id"])
    status, body, _ = call(emu, "/v1/api/connections/list", {})
    assert [c["workspace_names"] for c in body["connections"]] == [["contractws"]]
    status, body, _ = call(emu, "/v1/api/connections/create", {"name": "conn", "type": "BIGQUERY", "details": {}})
    assert status == 409 and set(body) == {"msg", "code"}


def test_orchestrations_and_tasks(platform: Platform) -> None:
    emu = platform.emu
    profile = emu.sdk
    assert platform.orch_upload[0] == 202 and is_uuid(platform.orch_id)
    status, orch, _ = call(emu, "/v1/api/orchestration/get_by_id", {"id": platform.orch_id})
    assert status == 200 and {"id", "file_name", "owner_id", "sha", "status", "workspace_id"} <= set(orch)
    assert orch["status"] in ORCHESTRATION_STATUSES and len(orch["sha"]) == 64
    status, listed, _ = call(emu, "/v1/api/orchestration/list", {"workspace_id": platform.workspace_id})
    assert status == 200 and [o["id"] for o in listed] == [platform.orch_id]
    status, body, _ = call(emu, "/v1/api/orchestration/list_all", {"task_run_status": [], "workspace_ids": []})
    item = body["orchestrations"][0]
    assert {"created_at", "file_name", "file_size", "id", "image_path", "owner_id", "sha", "status", "updated_at",
            "workspace_id"} <= set(item["orchestration"])
    assert {"id", "name", "created_at", "archived"} <= set(item["workspace"])
    for task in item["tasks"]:
        check_task(task, profile)
    assert platform.once[0] == 201 and platform.cron[0] == 201
    status, task, _ = call(emu, "/v1/api/task/get_by_id", {"id": platform.task_id})
    assert status == 200
    check_task(task, profile)
    status, tasks, _ = call(emu, "/v1/api/task/list", {"workspace_id": platform.workspace_id, "killed": False})
    assert status == 200 and len(tasks) == 2
    for task in tasks:
        check_task(task, profile)
    status, runs, _ = call(emu, "/v1/api/task/list_task_runs", {"task_id": platform.task_id, "limit": None, "status": None})
    for run in runs:
        assert is_uuid(run["task"]) and is_uuid(run["run_id"]) and run["status"] in RUN_STATUSES[profile]
        assert is_iso(run["created_at"]) and is_iso(run["updated_at"])
    status, logs, _ = call(emu, "/v1/api/task/get_logs_for_run", {"id": platform.run_id, "lines": None})
    assert status == 200 and all(" stdout F " in line or " stderr F " in line for line in logs["logs"])
    status, details, _ = call(emu, "/v1/api/task/get_run_details", {"task": platform.task_id, "pod_id": platform.run_id})
    assert status == 200 and details["run_id"] == platform.run_id
    status, ids, _ = call(emu, "/v1/api/task/get_tasks_by_orch_sha", {"sha": orch["sha"]})
    assert ids == {"ids": [platform.task_id, platform.cron[1]["id"]]}
    status, killed, _ = call(emu, "/v1/api/task/kill", {"id": platform.cron[1]["id"]})
    assert status == 202
    check_task(killed, profile)
    assert killed["status"] == "pending_kill"


def test_inference_wire(platform: Platform) -> None:
    emu = platform.emu
    rows = house_rows(3)
    path = f"/v1/api/pipelines/infer/{platform.deployment_name}/housepipe"
    query = "?dataset[]=*&dataset.exclude[]=metadata&dataset.separator=."
    body = json.dumps([{"tensor": r} for r in rows.tolist()]).encode()
    status, records, _ = call(emu, path + query, raw=body, headers={"Content-Type": "application/json; format=pandas-records"})
    assert status == 200 and len(records) == 3
    anomaly = "check_failures" if emu.sdk == "2023.2" else "anomaly.count"
    assert list(records[0]) == ["time", "in.tensor", "out.variable", anomaly]
    assert records[0]["time"] == emu.clock.epoch_ms() and records[0]["in.tensor"] == rows[0].tolist()
    status, nested, _ = call(emu, path, raw=body, headers={"Content-Type": "application/json; format=pandas-records"})
    assert set(nested[0]) >= {"time", "in", "out", "metadata"} and set(nested[0]["out"]) == {"variable"}
    assert json.loads(nested[0]["metadata"]["last_model"])["model_name"] == "housemodel"
    table = pa.table({"tensor": pa.array(rows.tolist(), pa.list_(pa.float32()))})
    sink = io.BytesIO()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    status, raw, headers = call(emu, path + query, raw=sink.getvalue(),
                                headers={"Content-Type": "application/vnd.apache.arrow.file"})
    assert status == 200 and headers["Content-Type"] == "application/vnd.apache.arrow.file"
    reply = pa.ipc.open_file(pa.BufferReader(raw)).read_all()
    assert reply.column_names == ["time", "in.tensor", "out.variable", anomaly]
    # the engine-lb host of the 2023.2 default endpoint answers too
    status, records, _ = call(emu, "/pipelines/housepipe" + query, raw=body,
                              headers={"Content-Type": "application/json; format=pandas-records"},
                              url=f"http://engine-lb.{platform.deployment_name}:29502")
    assert status == 200 and len(records) == 3
    # errors in the engine's shape of the profile
    status, error, _ = call(emu, path + query, raw=json.dumps([{"tensor": [1.0, 2.0]}]).encode(),
                            headers={"Content-Type": "application/json; format=pandas-records"})
    assert status == 400
    if emu.sdk == "2023.2":
        assert error[0]["error_type"] == "InvalidInput"
    else:
        assert error["source"] == "engine" and error["code"] == 400 and "expects shape" in error["error"]
    status, error, _ = call(emu, "/v1/api/pipelines/infer/housepipe-999/housepipe", raw=body,
                            headers={"Content-Type": "application/json; format=pandas-records"})
    assert status == 404
    # the logs of those calls, as an Arrow file with its plateau status
    topic = f"workspace-{platform.workspace_id}-pipeline-housepipe-inference"
    status, raw, _ = call(emu, f"/v1/logs/topic/{topic}/records?page_size=100&order=desc&dataset[]=*&dataset.separator=.",
                          {})
    logs = pa.ipc.open_file(pa.BufferReader(raw))
    assert json.loads(logs.schema.metadata[b"status"])["status"] == "All"
    assert logs.read_all().num_rows == 12  # four successful calls of three rows


def test_keycloak(platform: Platform) -> None:
    emu = platform.emu
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, device, _ = call(emu, "/auth/realms/master/protocol/openid-connect/auth/device", raw=b"client_id=sdk-client",
                             headers=form)
    assert status == 200 and {"device_code", "interval", "expires_in", "verification_uri_complete"} <= set(device)
    grant = f"grant_type=urn:ietf:params:oauth:grant-type:device_code&client_id=sdk-client&device_code={device['device_code']}"
    status, tokens, _ = call(emu, "/auth/realms/master/protocol/openid-connect/token", raw=grant.encode(), headers=form)
    assert status == 200 and {"access_token", "expires_in", "refresh_token", "refresh_expires_in"} <= set(tokens)
    from emulator.transport import Request
    from emulator.wallaroo.wire import bearer_claims

    claims = bearer_claims(Request("GET", "", "", "", {}, {"Authorization": f"Bearer {tokens['access_token']}"}, b""))
    assert claims["email"] == "jane@ex.co" and claims["sub"] == "99cace15-e0d4-4bb6-bf14-35efee181b90"
    refresh = f"grant_type=refresh_token&client_id=sdk-client&refresh_token={tokens['refresh_token']}"
    status, again, _ = call(emu, "/auth/realms/master/protocol/openid-connect/token", raw=refresh.encode(), headers=form)
    assert status == 200 and again["access_token"] != tokens["access_token"]
    status, error, _ = call(emu, "/auth/realms/master/protocol/openid-connect/token", raw=grant.encode(), headers=form)
    assert status == 400 and error["error"] == "invalid_grant"  # a device code is used once
    status, user, _ = call(emu, f"/auth/admin/realms/master/users/{claims['sub']}", method="GET")
    assert status == 200 and {"id", "email", "username", "enabled", "createdTimestamp"} <= set(user)


def test_tokens_are_deterministic_per_seed_and_time() -> None:
    def token(seed: int) -> str:
        with Emulator(seed=seed) as emu:
            status, device, _ = call(emu, "/auth/realms/master/protocol/openid-connect/auth/device",
                                     raw=b"client_id=sdk-client")
            grant = f"grant_type=urn:ietf:params:oauth:grant-type:device_code&device_code={device['device_code']}"
            return call(emu, "/auth/realms/master/protocol/openid-connect/token", raw=grant.encode())[1]["access_token"]

    assert token(1) == token(1) != token(2)


JSON = st.recursive(st.none() | st.booleans() | st.integers(-3, 10**12) | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
                    max_leaves=8)
FIELDS = st.dictionaries(st.sampled_from(["name", "id", "workspace_id", "pipeline_id", "orch_id", "task_id", "json",
                                          "schedule", "model_version_id", "deployment_id", "deploy_id", "type",
                                          "details", "connection_id", "pipeline_version_pk_id", "timeout", "limit",
                                          "status", "lines", "sha", "workspace_name", "definition", "pipeline_name",
                                          "model_id", "tensor_fields", "killed", "workspace_ids"]),
                         JSON, max_size=6)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from([r for r in ROUTES if r[0] == "POST"]), body=st.one_of(FIELDS, JSON))
def test_no_body_makes_a_route_fail_with_500(house_model_path: Path, route: tuple[str, str, str], body: Any) -> None:
    with Emulator(sdk="2026.1") as emu:
        call(emu, "/v1/api/workspaces/create", {"workspace_name": "fuzz"})
        status, answer, _ = call(emu, "/v1/api/" + route[1], body)
        assert status < 500 or status == 501, (route, body, answer)
        if status >= 400:
            assert set(answer) == {"msg", "code"} and answer["code"] == status
