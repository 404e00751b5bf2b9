"""The real SDK's GraphQL calls, answered by the emulator (runs only where the real ``wallaroo`` is installed).

The real SDK talks to ``/v1/graphql`` through gql with ``fetch_schema_from_transport=True``: it
introspects, then validates every document locally. These tests drive the installed SDK's own
objects (their queries, the documents its code assembles at run time with filters, its mutations)
against a platform populated through the backend, so only GraphQL is involved.

Until ``Emulator(sdk="installed")`` exists, the fixture below puts the installed SDK's modules
back into ``sys.modules`` inside the emulator (the facade is mapped there by default), so the
SDK's lazy imports find their own modules.
"""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sdk_sources import installed_real_sdk

if installed_real_sdk() is None:
    pytest.skip("the real wallaroo SDK is not installed", allow_module_level=True)

# Import the real SDK before any emulator patches time (see the module docstring).
import gql  # noqa: E402
import graphql  # noqa: E402
from wallaroo.client import Client  # noqa: E402
from wallaroo.deployment import Deployment  # noqa: E402
from wallaroo.model_version import ModelVersion  # noqa: E402
from wallaroo.orchestration import Orchestration  # noqa: E402
from wallaroo.pipeline import Pipeline  # noqa: E402
from wallaroo.workspace import Workspace  # noqa: E402

from emulator.emulator import WALLAROO_EMULATOR_URL, Emulator  # noqa: E402
from emulator.wallaroo.tasks import stores_for  # noqa: E402

REAL_MODULES = {name: module for name, module in sys.modules.items()
                if name == "wallaroo" or name.startswith("wallaroo.")}
TEST_AUTH_USER = "99cace15-e0d4-4bb6-bf14-35efee181b90"  # the SDK's test_auth user id


def _zip(text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(zipfile.ZipInfo("main.py", date_time=(2023, 5, 10, 0, 0, 0)), text)
    return buffer.getvalue()


@pytest.fixture
def emu(house_model_path: Path) -> Iterator[Emulator]:
    with Emulator(sdk="2026.1") as emulator:
        facade = {name: sys.modules.pop(name) for name in list(sys.modules)
                  if name == "wallaroo" or name.startswith("wallaroo.")}
        sys.modules.update(REAL_MODULES)
        try:
            yield emulator
        finally:
            for name in [n for n in sys.modules if n == "wallaroo" or n.startswith("wallaroo.")]:
                del sys.modules[name]
            sys.modules.update(facade)
        emulator.close()


@pytest.fixture
def platform(emu: Emulator, house_model_path: Path) -> dict[str, Any]:
    backend = emu.wallaroo
    user = backend.user("jane@ex.co", TEST_AUTH_USER)
    ws = backend.create_workspace("sdk-ws", user)
    model = backend.upload_model(ws.id, "housemodel", house_model_path.read_bytes(), "rf_model.onnx", "onnx", user)
    config = backend.configure_model(model.id, tensor_fields=["tensor"])
    pipeline = backend.create_pipeline(ws.id, "housepipe", user)
    version = backend.create_pipeline_version(pipeline.id, [[model.id]])
    deployment = backend.deploy(pipeline.id)
    orchestrations, _ = stores_for(emu)
    orch = orchestrations.upload(_zip("print('hi')\n"), workspace_id=ws.id, name="orch", file_name="orch.zip",
                                 owner_id=TEST_AUTH_USER)
    emu.clock.advance(60)
    return {"backend": backend, "ws": ws, "model": model, "config": config, "pipeline": pipeline,
            "version": version, "deployment": deployment, "orch": orch}


@pytest.fixture
def wl(emu: Emulator) -> Client:
    return Client(api_endpoint=WALLAROO_EMULATOR_URL, auth_type="test_auth", config={"default_arch": "x86"})


def test_gql_client_of_the_sdk_accepts_the_introspection(emu: Emulator) -> None:
    from gql.transport.httpx import HTTPXTransport

    client = gql.Client(transport=HTTPXTransport(url=f"{WALLAROO_EMULATOR_URL}/v1/graphql"),
                        fetch_schema_from_transport=True)
    with client as session:
        assert session.execute(gql.gql("query { workspace { id } }")) == {"workspace": []}
        assert client.schema is not None and "workspace_by_pk" in client.schema.query_type.fields
        with pytest.raises(graphql.GraphQLError, match="Cannot query field 'nope'"):  # refused locally
            session.execute(gql.gql("query { workspace { nope } }"))


def test_workspace_pipeline_and_model_objects_read_over_graphql(platform: dict[str, Any], wl: Client) -> None:
    ws = Workspace(wl, {"id": platform["ws"].id})
    assert ws.name() == "sdk-ws" and not ws.archived()
    assert [p.name() for p in ws.pipelines()] == ["housepipe"]
    assert [m.id() for m in ws.models()] == [platform["model"].model_id]  # names come from REST models/get

    found = wl.pipelines_by_name("housepipe", workspace_id=platform["ws"].id, workspace_name="sdk-ws")
    assert [p.id() for p in found] == [platform["pipeline"].id]
    pipeline = found[0]
    assert pipeline.name() == "housepipe"
    assert [v.name() for v in pipeline.versions()][:1] == [platform["version"].version]
    assert "'definition': '[]'" in repr(pipeline)  # the SDK shows its local builder's steps
    assert "housemodel" in pipeline._repr_html_()  # the HTML lists the models of the deployment

    mv = ModelVersion(wl, {"id": platform["model"].id})
    assert (mv.sha(), mv.status(), mv.arch(), mv.accel()) == (platform["model"].sha, "ready", "x86", "none")
    assert mv.name() == "housemodel" and mv.version() == platform["model"].version

    by_name = wl.model_by_name("housemodel", platform["model"].version, workspace_name="sdk-ws")
    assert by_name.id() == platform["model"].id
    versions = wl.search_pipelines(search_term="housepipe", workspace_id=platform["ws"].id, deployed=True)
    assert {v.name() for v in versions} >= {platform["version"].version}
    assert [m.id() for m in wl.search_model_versions(search_term="house", workspace_name="sdk-ws")] == [
        platform["model"].id]


def test_deployment_and_orchestration_objects(platform: dict[str, Any], wl: Client) -> None:
    pipeline = Pipeline(wl, {"id": platform["pipeline"].id})
    deployment = pipeline._deployment_for_pipeline()
    assert deployment is not None and deployment.id() == platform["deployment"].id
    assert Deployment(wl, {"id": platform["deployment"].id}).deployed() is True
    assert [d.id() for d in wl.list_deployments()] == [platform["deployment"].id]
    orch = Orchestration(wl, {"id": platform["orch"].id})
    assert orch.status() == "ready" and orch.sha() == platform["orch"].sha


def test_tags_through_the_sdk(platform: dict[str, Any], wl: Client) -> None:
    tag = wl.create_tag("blue")
    tag.add_to_pipeline(platform["pipeline"].id)
    tag.add_to_model(platform["model"].id)
    assert [t.tag() for t in Pipeline(wl, {"id": platform["pipeline"].id}).tags()] == ["blue"]
    assert [t.tag() for t in ModelVersion(wl, {"id": platform["model"].id}).tags()] == ["blue"]
    assert [p.name() for p in tag.list_pipelines()] == ["housepipe"]
    tag.remove_from_pipeline(platform["pipeline"].id)
    assert Pipeline(wl, {"id": platform["pipeline"].id}).tags() == []
