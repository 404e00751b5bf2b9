"""The real ``wallaroo`` SDK (installed beside the project) against the emulated wire.

Runs only where the real SDK is installed (the second venv of ``.ci/run``): the generated
OpenAPI client parses every route's answer (``*.from_dict`` of its 2xx model), ``wallaroo.Client()``
works bare and with ``auth_type="sso"`` on any host (device flow and refresh against the emulated
Keycloak), and a task's ``main.py`` uses the real SDK with ``orch`` auth and ``task_args()``.
"""

from __future__ import annotations

import inspect
import io
import json
import os
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

try:
    metadata.version("wallaroo")
except metadata.PackageNotFoundError:
    pytest.skip("the real wallaroo SDK is not installed", allow_module_level=True)
import wallaroo  # noqa: E402 - (under the pytest plugin, a lazy module resolving to the installed SDK)
from test_rest_flow import orchestration_zip  # noqa: E402
from test_wire_contract import Platform, call  # noqa: E402

from emulator.emulator import Emulator  # noqa: E402

NEWEST = not metadata.version("wallaroo").startswith("2023.")  # __version__ reads 0.0.0 under pytest
pytestmark = pytest.mark.skipif(not NEWEST, reason="these checks use the 2024+ SDK's generated client")

ENV = ("WALLAROO_URL", "WALLAROO_SDK_AUTH_TYPE", "WALLAROO_SDK_CREDENTIALS", "WALLAROO_TASK_ID", "XDG_CACHE_HOME")


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    with Emulator(sdk="installed") as emu:
        yield emu


def generated(group: str, name: str, client: Any, body: Any = None) -> Any:
    """Call a generated API function with a body built from a dict; its parsed answer."""
    import importlib

    module = importlib.import_module(f"wallaroo.wallaroo_ml_ops_api_client.api.{group}.{name}")
    if body is None:
        return module.sync_detailed(client=client)
    kind = inspect.signature(module.sync_detailed).parameters["body"].annotation
    return module.sync_detailed(client=client, body=body if not isinstance(body, dict) else kind.from_dict(body))


def test_generated_models_parse_every_route(installed: Emulator, house_model_path: Path) -> None:
    platform = Platform(installed, house_model_path)
    wl = wallaroo.Client()
    client = wl.mlops()
    ws = platform.workspace_id
    checks: list[tuple[str, str, Any, str]] = [
        ("workspace", "workspaces_list", {}, "WorkspacesListResponse200"),
        ("workspace", "workspaces_create", {"workspace_name": "second"}, "WorkspacesCreateResponse200"),
        ("pipelines", "pipelines_create", {"pipeline_id": "another", "workspace_id": ws, "definition": {}},
         "PipelinesCreateResponse200"),
        ("pipelines", "get_pipeline_by_name", {"pipeline_name": "housepipe", "workspace_id": ws},
         "GetPipelineByNameResponse200"),
        ("misc", "status_get_deployment", {"name": platform.deployment_name}, "StatusGetDeploymentResponse200"),
        ("model", "get_model_version_by_id", {"model_version_id": platform.model_version_id}, "GetModelByIdResponse"),
        ("model", "insert_model_config", {"model_version_id": platform.model_version_id, "tensor_fields": ["tensor"]},
         "InsertModelConfigResponse"),
        ("model", "v1_model_get_config", {"model_id": platform.model_version_id}, "V1ModelGetConfigResponse200"),
        ("connection", "connections_get", {"name": "conn"}, "ConnectionsGetResponse200"),
        ("connection", "connections_get_by_id", {"id": platform.connection_id}, "ConnectionsGetByIdResponse200"),
        ("connection", "connections_list", {}, "ConnectionsListResponse200"),
        ("connection", "connections_add_to_workspace", {"workspace_id": ws, "connection_id": platform.connection_id},
         "ConnectionsAddToWorkspaceResponse200"),
        ("orchestration", "orchestration_get_by_id", {"id": platform.orch_id}, "GetOrchestrationByIdResponse"),
        ("orchestration", "orchestration_list", {"workspace_id": ws}, "list"),
        ("orchestration", "orchestration_list_all", {"task_run_status": [], "workspace_ids": [ws]},
         "ListAllOrchestrationsResponse"),
        ("task", "task_get_by_id", {"id": platform.task_id}, "TaskGetByIdResponse200"),
        ("task", "task_list", {"workspace_id": ws}, "list"),
        ("task", "get_tasks_by_orch_sha", {"sha": call(installed, "/v1/api/orchestration/get_by_id",
                                                       {"id": platform.orch_id})[1]["sha"]},
         "GetTasksByOrchShaResponse200"),
        ("task", "list_task_runs", {"task_id": platform.task_id}, "list"),
        ("task", "get_logs_for_run", {"id": platform.run_id}, "GetLogsForRunResponse200"),
        ("task", "get_run_details", {"task": platform.task_id, "pod_id": platform.run_id}, "GetRunDetailsResponse200"),
        ("plateau", "plateau_get_topic_name", {"pipeline_pk_id": platform.pipeline_id}, "PlateauGetTopicNameResponse200"),
        ("admin", "admin_get_pipeline_external_url", {"workspace_id": ws, "pipeline_name": "housepipe"},
         "AdminGetPipelineExternalUrlResponse200"),
        ("task", "oneshot", {"json": {}, "orch_id": platform.orch_id, "workspace_id": ws, "name": "again"},
         "OneshotResponse201"),
        ("task", "cron_job", {"json": {}, "orch_id": platform.orch_id, "workspace_id": ws, "name": "c",
                              "schedule": "0 * * * *"}, "CronJobResponse201"),
        ("task", "kill", {"id": platform.cron[1]["id"]}, "KillResponse202"),
        ("pipelines", "pipelines_deploy", {"deploy_id": "housepipe",
                                           "pipeline_version_pk_id": platform.versioned[1]["pipeline_variant_pk_id"],
                                           "engine_config": {}}, "PipelinesDeployResponse200"),
        ("pipelines", "pipelines_undeploy", {"deployment_id": platform.deploy[1]["id"]}, "PipelinesUndeployResponse200"),
    ]
    import importlib.util

    api = "wallaroo.wallaroo_ml_ops_api_client.api"
    for group, name, body, expected in checks:
        if importlib.util.find_spec(f"{api}.{group}.{name}") is None:
            assert (group, name) == ("pipelines", "get_pipeline_by_name")  # 2025.2 reads it over GraphQL
            continue
        answer = generated(group, name, client, body)
        assert 200 <= answer.status_code < 300, (name, answer.content)
        assert type(answer.parsed).__name__ == expected, (name, answer.parsed, answer.content[:300])
        if expected == "list":
            assert answer.parsed and all(type(item).__module__.startswith("wallaroo.") for item in answer.parsed), name

    from wallaroo.wallaroo_ml_ops_api_client.models.orchestration_upload_body import OrchestrationUploadBody
    from wallaroo.wallaroo_ml_ops_api_client.models.upload_orchestration_request import (
        UploadOrchestrationRequest,
    )
    from wallaroo.wallaroo_ml_ops_api_client.types import File

    body = OrchestrationUploadBody(file=File(payload=io.BytesIO(orchestration_zip()), file_name="o.zip",
                                             mime_type="application/octet-stream"),
                                   metadata=UploadOrchestrationRequest(workspace_id=ws))
    answer = generated("orchestration", "orchestration_upload", client, body)
    assert answer.status_code == 202 and type(answer.parsed).__name__ == "OrchestrationUploadResponse202"

    answer = generated("connection", "connections_create", client, {"name": "conn", "type": "BIGQUERY", "details": {}})
    assert answer.status_code == 409 and type(answer.parsed).__name__ == "ConnectionsCreateResponse409"
    for path in ("remove_from_workspace", "delete"):
        body = {"workspace_id": ws, "connection_id": platform.connection_id} if path != "delete" else {"name": "conn"}
        assert generated("connection", f"connections_{path}", client, body).status_code == 204


def test_bare_client_and_any_endpoint_with_sso(installed: Emulator) -> None:
    wl = wallaroo.Client()
    assert wl.api_endpoint == "http://wallaroo.emulator.localhost"
    assert wl.auth.auth_header()["Authorization"].startswith("Bearer ey")
    assert wl.list_workspaces() == []
    other = wallaroo.Client(api_endpoint="https://wallaroo.customer.example.com", auth_type="sso")
    ws = other.create_workspace("fromsso")
    assert [w.id() for w in wl.list_workspaces()] == [ws.id()]
    # the user's real cache is not used: the SDK's token cache lives in the emulator's folder
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "wallaroo_sdk" / "auth" / "keycloak.json"
    assert cache.is_file() and not str(cache).startswith(str(Path.home()))


def test_device_flow_and_refresh_against_the_emulated_keycloak(installed: Emulator, house_model_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from wallaroo.framework import Framework

    cache = Path(os.environ["XDG_CACHE_HOME"]) / "wallaroo_sdk" / "auth" / "keycloak.json"
    cache.unlink()
    wl = wallaroo.Client(api_endpoint="https://sso.example.com", auth_type="sso")
    assert "Login successful!" in capsys.readouterr().out
    token = json.loads(cache.read_text())
    assert token["user_email"] == "jane@ex.co"
    ws = wl.create_workspace("ssows")
    wl.set_current_workspace(ws)
    installed.clock.advance(400)  # the 300 s access token lapses: the next call refreshes it
    wl.upload_model("ssomodel", str(house_model_path), framework=Framework.ONNX)  # forces a refresh too
    assert json.loads(cache.read_text())["access_token"] != token["access_token"]


TASK_MAIN = """
import wallaroo
wl = wallaroo.Client()
print("in task", wl.in_task(), type(wl.auth.fetcher).__name__)
print("args", wl.task_args())
print("workspaces", [w.name() for w in wl.list_workspaces()])
print("connection", wl.get_connection("taskconn").details())
"""


def test_task_main_uses_the_real_sdk(installed: Emulator) -> None:
    from test_wire_contract import multipart

    call(installed, "/v1/api/workspaces/create", {"workspace_name": "taskws"})
    call(installed, "/v1/api/connections/create", {"name": "taskconn", "type": "BIGQUERY", "details": {"table": "t"}})
    data, headers = multipart([("file", "o.zip", orchestration_zip(TASK_MAIN), "application/zip"),
                               ("metadata", None, json.dumps({"workspace_id": 1}).encode(), "application/json")])
    orch_id = call(installed, "/v1/api/orchestration/upload", raw=data, headers=headers)[1]["id"]
    installed.clock.advance(60)
    task_id = call(installed, "/v1/api/task/run_once", {"json": {"pipeline": "p"}, "orch_id": orch_id,
                                                        "workspace_id": 1, "name": "t"})[1]["id"]
    installed.clock.advance(30)
    run = call(installed, "/v1/api/task/list_task_runs", {"task_id": task_id})[1][0]
    logs = [line.split(" F ", 1)[1] for line in call(installed, "/v1/api/task/get_logs_for_run", {"id": run["run_id"]})[1]["logs"]]
    assert run["status"] == "success", logs
    assert "in task True _OfflineAccessTokenFetcher" in logs
    assert "args {'pipeline': 'p'}" in logs
    assert "workspaces ['taskws']" in logs and "connection {'table': 't'}" in logs
    # outside the run the container path is the host's again
    with pytest.raises(FileNotFoundError):
        wallaroo.Client().task_args()


def test_environment_is_restored_and_the_folder_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/users/own/cache")
    with Emulator(sdk="installed") as emu:
        from importlib import metadata

        assert emu.sdk_source == "installed" and emu.sdk_version == metadata.version("wallaroo")
        folder = Path(os.environ["XDG_CACHE_HOME"]).parent
        assert os.environ["WALLAROO_SDK_AUTH_TYPE"] == "token" and os.environ["WALLAROO_URL"]
        assert folder.is_dir() and not str(folder).startswith("/users/own")
        assert type(wallaroo.Client()).__module__ == "wallaroo.client"  # the real SDK, unchanged
    assert os.environ["XDG_CACHE_HOME"] == "/users/own/cache"
    assert not any(var in os.environ for var in ENV if var != "XDG_CACHE_HOME")
    assert not folder.exists()


def deployment_of(platform: Platform) -> Any:
    """The SDK's Deployment for the platform's deployment, filled without GraphQL."""
    from wallaroo.deployment import Deployment

    return Deployment(wallaroo.Client(), {"id": platform.deploy[1]["id"], "deploy_id": "housepipe", "deployed": True,
                                          "pipeline": {"pipeline_id": "housepipe"}, "engine_config": {}})


def test_real_sdk_inference_over_the_wire(installed: Emulator, house_model_path: Path) -> None:
    import numpy as np
    import onnxruntime
    import pandas as pd
    import pyarrow as pa
    from wallaroo.exceptions import InferenceError
    from wallaroo_testkit import house_rows

    platform = Platform(installed, house_model_path)
    deployment = deployment_of(platform)
    assert deployment.status()["status"] == "Running"
    x = house_rows(1000)
    expected = onnxruntime.InferenceSession(house_model_path.read_bytes()).run(
        None, {"float_input": x.astype(np.float32)})[0]
    frame = deployment.infer(pd.DataFrame({"tensor": x.tolist()}))
    assert list(frame.columns) == ["time", "in.tensor", "out.variable", "anomaly.count"]
    assert str(frame["time"].dtype) == "datetime64[ns]" and frame["anomaly.count"].dtype == np.int64
    np.testing.assert_array_equal(np.array(frame["out.variable"].tolist(), np.float32), expected)
    assert frame["in.tensor"].tolist() == x.tolist()
    table = deployment.infer(pa.table({"tensor": pa.array(x.tolist(), pa.list_(pa.float32()))}))
    assert table.schema.field("time").type == pa.timestamp("ms")
    np.testing.assert_array_equal(np.array(table["out.variable"].to_pylist(), np.float32), expected)
    with_metadata = deployment.infer(pd.DataFrame({"tensor": x[:2].tolist()}), dataset=["*", "metadata"])
    assert "metadata.last_model" in with_metadata.columns
    assert "in_tensor" in deployment.infer(pd.DataFrame({"tensor": x[:2].tolist()}), dataset_separator="_").columns
    records = deployment.infer([{"tensor": x[0].tolist()}])
    assert np.float32(records[0]["out"]["variable"][0]) == expected[0][0]
    with pytest.raises(InferenceError, match=r"Inference failed: \[400\] tensor 'float_input' expects shape"):
        deployment.infer(pd.DataFrame({"tensor": [[1.0, 2.0]]}))
    # the SDK's session retries 503 while the deployment starts: the retries' sleeps pass virtual time
    call(installed, "/v1/api/pipelines/undeploy", {"deployment_id": platform.deploy[1]["id"]})
    installed.clock.advance(5)
    redeployed = call(installed, "/v1/api/pipelines/deploy", {
        "deploy_id": "housepipe", "pipeline_version_pk_id": platform.versioned[1]["pipeline_variant_pk_id"]})[1]
    from wallaroo.deployment import Deployment

    fresh = Deployment(wallaroo.Client(), {"id": redeployed["id"], "deploy_id": "housepipe", "deployed": True,
                                           "pipeline": {"pipeline_id": "housepipe"}, "engine_config": {}})
    start = installed.clock.now()
    assert len(fresh.infer(pd.DataFrame({"tensor": x[:3].tolist()}))) == 3
    assert installed.clock.now() > start
    call(installed, "/v1/api/pipelines/undeploy", {"deployment_id": redeployed["id"]})
    installed.clock.advance(5)
    with pytest.raises(InferenceError, match=r"\[404\]"):
        fresh.infer(pd.DataFrame({"tensor": x[:3].tolist()}))
