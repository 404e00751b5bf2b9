"""Pipelines: build, steps, versions, deploy/undeploy in virtual time, status document, repr and HTML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from wallaroo_testkit import upload

from emulator.emulator import Emulator


def test_build_and_lookup(wl: Any, workspace: Any, wallaroo: Any, emu: Emulator) -> None:
    with pytest.raises(wallaroo.object.EntityNotFoundError, match=r"Pipeline not found: \{'pipeline_name': 'p'\}"):
        wl.pipelines_by_name("p")
    pipeline = wl.build_pipeline("p")
    assert isinstance(pipeline, wallaroo.pipeline.Pipeline)
    found = wl.pipelines_by_name("p")
    assert [p.id() for p in found] == [pipeline.id()]
    again = wl.build_pipeline("p")  # the platform returns the same pipeline with one more version
    assert again.id() == pipeline.id()
    assert len(pipeline.versions()) == 2
    if emu.sdk == "2023.2":
        with pytest.raises(TypeError, match="workspace_id"):
            wl.pipelines_by_name("p", workspace_id=1)
        assert not hasattr(wl, "get_pipeline")
    else:
        assert wl.pipelines_by_name("p", workspace_id=workspace.id())[0].id() == pipeline.id()
        with pytest.raises(wallaroo.object.EntityNotFoundError):
            wl.pipelines_by_name("p", workspace_id=workspace.id() + 100)
        assert wl.get_pipeline("p").id() == pipeline.id()
        with pytest.raises(Exception, match="Pipeline nope not found in this workspace."):
            wl.get_pipeline("nope")


def test_pipelines_by_name_is_not_scoped_to_the_current_workspace(wl: Any) -> None:
    a = wl.create_workspace("a")
    b = wl.create_workspace("b")
    wl.set_current_workspace(a)
    wl.build_pipeline("same")
    wl.set_current_workspace(b)
    wl.build_pipeline("same")
    assert len(wl.pipelines_by_name("same")) == 2


def test_deploy_waits_in_virtual_time(wl: Any, workspace: Any, house_model: Any, emu: Emulator) -> None:
    pipeline = wl.build_pipeline("p").add_model_step(house_model)
    start = emu.clock.now()
    assert pipeline.deploy() is pipeline
    assert dt.timedelta(seconds=1) <= emu.clock.now() - start <= dt.timedelta(seconds=45)
    status = pipeline.status()
    assert status["status"] == "Running"
    # the keys the notebooks show, in order, then ``helm``, which the platform's OpenAPI schema requires
    assert list(status) == ["status", "details", "engines", "engine_lbs", "sidekicks", "helm"]
    engine = status["engines"][0]
    assert engine["pipeline_statuses"]["pipelines"][0]["id"] == "p"
    assert engine["pipeline_statuses"]["pipelines"][0]["version"] == pipeline.versions()[-1].name()
    model_status = engine["model_statuses"]["models"][0]
    assert model_status["name"] == "housemodel" and model_status["sha"] == house_model.sha()
    assert model_status["status"] == "Running"
    deployments = wl.list_deployments()
    assert [d.name() for d in deployments] == ["p"]
    assert pipeline.url().endswith(f"/v1/api/pipelines/infer/p-{deployments[0].id()}/p")
    pipeline.undeploy()
    assert pipeline.status() == {"status": "Pipeline p is not deployed"}
    assert wl.list_deployments() == []


def test_deploy_without_waiting_newest(wl: Any, workspace: Any, house_model: Any, emu: Emulator,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    pipeline = wl.build_pipeline("p").add_model_step(house_model)
    if emu.sdk == "2023.2":
        with pytest.raises(TypeError, match="wait_for_status"):
            pipeline.deploy(wait_for_status=False)
        return
    pipeline.deploy(wait_for_status=False)
    assert "Deployment initiated for p. Please check pipeline status." in capsys.readouterr().out
    assert pipeline.status()["status"] == "Starting"
    emu.clock.advance(60)
    assert pipeline.status()["status"] == "Running"


def test_deploy_without_steps_fails(wl: Any, workspace: Any, wallaroo: Any) -> None:
    with pytest.raises(wallaroo.object.DeploymentError, match="no steps"):
        wl.build_pipeline("empty").deploy()


def test_steps_builder(wl: Any, workspace: Any, model_dir: Path) -> None:
    double = upload(wl, "double", model_dir / "double.onnx")
    half = upload(wl, "half", model_dir / "half.onnx")
    pipeline = wl.build_pipeline("p")
    pipeline.add_model_step(double).add_model_step(half)
    assert [s["ModelInference"]["models"][0]["name"] for s in pipeline.steps()] == ["double", "half"]
    pipeline.replace_with_model_step(1, double)
    pipeline.remove_step(1)
    assert len(pipeline.steps()) == 1
    pipeline.clear()
    assert pipeline.steps() == []
    with pytest.raises(TypeError):
        pipeline.add_model_step("double")


def test_redeploy_of_a_fetched_pipeline_keeps_its_steps(wl: Any, workspace: Any, house_model: Any,
                                                        wallaroo: Any) -> None:
    wl.build_pipeline("p").add_model_step(house_model).deploy()
    fetched = wl.pipelines_by_name("p")[0]
    fetched.undeploy()
    fetched.deploy()  # untouched builder: the latest version's steps again
    assert fetched.status()["status"] == "Running"
    assert fetched.steps()[0]["ModelInference"]["models"][0]["name"] == "housemodel"


def test_deployment_config_is_accepted(wl: Any, workspace: Any, house_model: Any, wallaroo: Any) -> None:
    from wallaroo.deployment_config import DeploymentConfigBuilder

    config = DeploymentConfigBuilder().replica_count(1).cpus(0.5).memory("1Gi").build()
    pipeline = wl.build_pipeline("p").add_model_step(house_model)
    pipeline.deploy(deployment_config=config)
    assert wl.list_deployments()[0].engine_config()["engine"]["resources"]["limits"]["cpu"] == 0.5


def test_repr_and_html(wl: Any, workspace: Any, house_model: Any, emu: Emulator) -> None:
    pipeline = wl.build_pipeline("bigquerypipeline")
    html = pipeline._repr_html_()
    assert "<tr><th>deployed</th> <td>(none)</td></tr>" in html
    pipeline.add_model_step(house_model).deploy()
    versions = [v.name() for v in reversed(pipeline.versions())]
    html = pipeline._repr_html_()
    rows = ["name", "created", "last_updated", "deployed", "tags", "versions", "steps"]
    if emu.sdk != "2023.2":
        rows = ["name", "created", "last_updated", "deployed", "workspace_id", "workspace_name", "arch", "accel",
                "tags", "versions", "steps", "published"]
    import re

    assert re.findall(r"<tr><th>([a-z_]+)</th> <td>", html) == rows
    assert html.startswith("<table><tr><th>name</th> <td>bigquerypipeline</td></tr><tr><th>created</th> <td>")
    assert f"<tr><th>versions</th> <td>{', '.join(versions)}</td></tr>" in html
    assert "<tr><th>deployed</th> <td>True</td></tr>" in html
    assert "<tr><th>steps</th> <td>housemodel</td></tr>" in html
    text = repr(pipeline)
    assert text.startswith("{'name': 'bigquerypipeline', 'create_time': datetime.datetime(2023, 5, 10, 21, 0, "
                           "tzinfo=tzutc()), 'definition': \"[{'ModelInference': {'models': [{'name': 'housemodel', ")
    assert house_model.sha() in text
    pipeline.undeploy()
    assert "<tr><th>deployed</th> <td>False</td></tr>" in pipeline._repr_html_()


def test_deploy_timeout_raises_wait_for_deploy_error(wallaroo: Any, emu: Emulator, house_model_path: Path) -> None:
    from wallaroo.deployment import WaitForDeployError

    wl = wallaroo.Client(auth_type="test_auth", request_timeout=2)
    wl.set_current_workspace(wl.create_workspace("w"))
    model = upload(wl, "m", house_model_path, tensor_fields=["tensor"])
    pipeline = wl.build_pipeline("p").add_model_step(model)
    with pytest.raises(WaitForDeployError):
        pipeline.deploy()
    emu.clock.advance(10)
    assert pipeline.status()["status"] == "Running"  # the platform finishes on its own


def test_interactive_clients_print_progress(wallaroo: Any, house_model_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    wl = wallaroo.Client(auth_type="test_auth", interactive=True)
    wl.set_current_workspace(wl.create_workspace("w"))
    pipeline = wl.build_pipeline("p").add_model_step(upload(wl, "m", house_model_path))
    pipeline.deploy()
    assert "Waiting for deployment - this will take up to 45s" in capsys.readouterr().out
    pipeline.undeploy()
    out = capsys.readouterr().out
    assert out.startswith("Waiting for undeployment - this will take up to 45s") and out.rstrip().endswith("ok")
