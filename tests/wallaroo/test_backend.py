"""The platform backend used directly (the API the orchestration part and the REST adapter build on)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from wallaroo_testkit import house_rows

from emulator.emulator import Emulator
from emulator.wallaroo.backend import DEPLOY_SECONDS, UNDEPLOY_SECONDS, WallarooBackend
from emulator.wallaroo.errors import AlreadyExists, InferenceFailed, InvalidRequest, NotFound


@pytest.fixture
def backend() -> WallarooBackend:
    return Emulator(seed=11).wallaroo


def test_lookups(backend: WallarooBackend) -> None:
    user = backend.user("ann@example.com", "u-1")
    ws = backend.create_workspace("ws-1", user)
    assert backend.workspace(ws.id) is ws
    assert backend.workspace_by_name("ws-1") is ws
    assert backend.workspace_by_name("nope") is None
    with pytest.raises(NotFound):
        backend.workspace(999)
    with pytest.raises(AlreadyExists):
        backend.create_workspace("ws-1", user)
    with pytest.raises(InvalidRequest):
        backend.create_workspace("  ", user)
    assert backend.create_workspace("under_score ws", user).name == "under_score ws"  # the SDK checks DNS names
    conn = backend.create_connection("c", "BIGQUERY", {"k": "v"})
    assert backend.connection_by_name("c") is conn
    assert backend.connection(conn.id) is conn
    link = backend.add_connection_to_workspace(ws.id, "c")
    assert conn.workspace_ids == [ws.id] and link != conn.id
    assert backend.workspace_names(conn) == ["ws-1"]
    pipe = backend.create_pipeline(ws.id, "p", user)
    assert backend.pipelines_by_name("p") == [pipe]
    assert backend.pipeline_in_workspace(ws.id, "p") is pipe
    assert backend.orchestrations is None and backend.tasks is None
    assert backend.default_workspace(user).name == "ann@example.com_ws"


def test_deployment_transitions_follow_the_clock(backend: WallarooBackend, house_model_path: Path) -> None:
    clock = backend.clock
    ws = backend.create_workspace("w")
    mv = backend.upload_model(ws.id, "m", house_model_path.read_bytes(), "m.onnx", "onnx")
    backend.configure_model(mv.id, tensor_fields=["tensor"])
    pipe = backend.create_pipeline(ws.id, "p")
    with pytest.raises(InvalidRequest):
        backend.deploy(pipe.id)  # no steps
    version = backend.create_pipeline_version(pipe.id, [[mv.id]])
    dep = backend.deploy(pipe.id, version.id)
    assert backend.deployment_status(pipe.id)["status"] == "Starting"
    frame = pd.DataFrame({"tensor": house_rows(2).tolist()})
    with pytest.raises(InferenceFailed) as info:
        backend.infer(pipe.id, frame)
    assert info.value.status == 503
    clock.advance(DEPLOY_SECONDS)
    assert backend.deployment_status(pipe.id)["status"] == "Running"
    assert len(backend.infer(pipe.id, frame)) == 2
    assert dep.name == f"p-{dep.id}"
    assert backend.deployment_by_name(dep.name) is dep
    assert backend.model_version_by_uuid(mv.version) is mv
    with pytest.raises(NotFound):
        backend.deployment_by_name("p-999")
    backend.undeploy(pipe.id)
    clock.advance(UNDEPLOY_SECONDS)
    with pytest.raises(NotFound):
        backend.deployment_status(pipe.id)
    assert [b.n for b in backend.logs(pipe.id)] == [2]
