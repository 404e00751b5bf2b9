"""Gaps found by running official tutorials unchanged under the facade, each pinned by a test."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

import pytest
from wallaroo_testkit import upload

from emulator.emulator import Emulator


def newest(emu: Emulator) -> bool:
    return emu.sdk != "2023.2"


def test_deployment_config_builder_is_exported_at_the_top_level(wallaroo: Any) -> None:
    from wallaroo.deployment_config import DeploymentConfigBuilder

    assert wallaroo.DeploymentConfigBuilder is DeploymentConfigBuilder
    config = wallaroo.DeploymentConfigBuilder().replica_count(1).cpus(0.5).memory("1Gi").build()
    assert config["engine"]["cpu"] == 0.5
    assert "DeploymentConfigBuilder" in wallaroo.__all__


def test_get_workspace_creates_names_the_platform_accepts(wl: Any, wallaroo: Any, emu: Emulator) -> None:
    if not newest(emu):
        pytest.skip("get_workspace is newest-only")
    ws = wl.get_workspace("house_price_ws", create_if_not_exist=True)
    assert ws.name() == "house_price_ws"
    assert wl.get_workspace("house_price_ws").id() == ws.id()
    with pytest.raises(wallaroo.object.InvalidNameError):  # create_workspace keeps the SDK's DNS check
        wl.create_workspace("other_ws")


def test_repr_shows_the_builder_steps(wl: Any, workspace: Any, house_model: Any, emu: Emulator) -> None:
    pipeline = wl.build_pipeline("reprpipe")
    assert repr(pipeline).endswith("'definition': '[]'}") and pipeline.definition() == "[]"
    pipeline.add_model_step(house_model)
    step = {"ModelInference": {"models": [{"name": "housemodel", "version": house_model.version(),
                                           "sha": house_model.sha()}]}}
    assert pipeline.definition() == str([step])
    assert repr(pipeline).endswith(f"'definition': {str([step])!r}}}")
    pipeline.deploy()
    fetched = wl.pipelines_by_name("reprpipe")[0]
    assert fetched.definition() == "[]"  # a fetched object's builder is empty, whatever is deployed
    fetched.undeploy()
    fetched.deploy()  # an untouched builder deploys the latest version's steps and then shows them
    assert fetched.definition() == str([step])
    emu.clock.advance(60)
    pipeline.undeploy()


def test_add_model_step_names_its_parameter_as_the_profile_does(wl: Any, workspace: Any, house_model: Any,
                                                               emu: Emulator) -> None:
    pipeline = wl.build_pipeline("kwpipe")
    keyword = "model_version" if newest(emu) else "model"
    assert list(inspect.signature(pipeline.add_model_step).parameters) == [keyword]
    pipeline.add_model_step(**{keyword: house_model})
    pipeline.replace_with_model_step(0, **{keyword: house_model})
    assert len(pipeline.steps()) == 1
    other = "model" if newest(emu) else "model_version"
    with pytest.raises(TypeError):
        pipeline.add_model_step(**{other: house_model})


def test_reprs_the_sdk_does_not_define_are_the_default_ones(wl: Any, workspace: Any, house_model: Any,
                                                            emu: Emulator, tmp_path: Path) -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.py", "print('hi')\n")
    orchestration = wl.upload_orchestration(bytes_buffer=buffer.getvalue(), file_name="o.zip", name="o")
    while orchestration.status() != "ready":
        emu.clock.advance(10)
    task = orchestration.run_once(name="once", json_args={})
    emu.clock.advance(60)
    pipeline = wl.build_pipeline("p").add_model_step(house_model).deploy()
    objects = {"orchestration.Orchestration": orchestration, "task.Task": task,
               "task_run.TaskRun": task.last_runs()[0], "client.Client": wl,
               "deployment.Deployment": pipeline._deployment()}
    for name, obj in objects.items():
        assert repr(obj).startswith(f"<wallaroo.{name} object at 0x"), name
    assert not hasattr(workspace, "_repr_html_")
    pipeline.undeploy()


def test_model_names_a_model_with_versions_in_the_newest_sdk(wl: Any, wallaroo: Any, workspace: Any,
                                                             house_model_path: Path, emu: Emulator) -> None:
    first = upload(wl, "housemodel", house_model_path)
    upload(wl, "housemodel", house_model_path)
    models = wl.list_models()
    assert len(models) == 1
    if newest(emu):
        assert type(models).__name__ == "ModelList" and isinstance(models[0], wallaroo.model.Model)
        assert [v.version() for v in models[0].versions()][0] == first.version()
        assert models[0].workspace().name() == workspace.name()
        assert "Workspace name" in models[0]._repr_html_()
        assert len(wl.list_models(workspace_name=workspace.name())) == 1
        assert type(workspace.models()).__name__ == "ModelList"
    else:
        assert isinstance(first, wallaroo.model.Model) and type(models).__name__ == "ModelsList"
        with pytest.raises(TypeError, match="unexpected keyword argument 'workspace_name'"):
            wl.list_models(workspace_name=workspace.name())


def test_deployment_config_builder_arch_and_accel_default_to_unset(wallaroo: Any, emu: Emulator) -> None:
    from wallaroo.engine_config import Acceleration, Architecture

    if not newest(emu):  # 2023.2.1's builder has no arch/accel
        assert not hasattr(wallaroo.DeploymentConfigBuilder(), "arch")
        assert not hasattr(wallaroo.DeploymentConfigBuilder(), "sidekick_accel")
        return
    builder = wallaroo.DeploymentConfigBuilder().arch(Architecture.ARM).accel(Acceleration.ROCM)
    assert builder.build()["engine"]["arch"] == "arm" and builder.build()["engine"]["accel"] == "rocm"
    engine = builder.arch().accel().build()["engine"]
    assert "arch" not in engine and "accel" not in engine


def test_deploy_waits_by_default(wl: Any, emu: Emulator) -> None:
    from wallaroo.pipeline import Pipeline

    default = inspect.signature(Pipeline.deploy).parameters["wait_for_status"].default
    assert repr(default) == "True"
