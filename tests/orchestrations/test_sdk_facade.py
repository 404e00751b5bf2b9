"""The ``wallaroo.orchestration``/``wallaroo.task``/``wallaroo.task_run`` facade, per SDK profile."""

from __future__ import annotations

import io
import time

import pytest

from emulator import Emulator

INSPECT_MAIN = """\
import wallaroo
wl = wallaroo.Client()
print("args", wl.task_args(), "in_task", wl.in_task())
"""


@pytest.fixture(params=["2023.2", "2026.1"])
def wl(request):
    with Emulator(sdk=request.param) as emu:
        import wallaroo

        client = wallaroo.Client()
        workspace = client.create_workspace("orchestrations")
        client.set_current_workspace(workspace)
        client._test_emu = emu
        yield client


def newest(wl) -> bool:
    return wl._profile.newest


def upload(wl, make_zip, files=None, **kwargs):
    orch = wl.upload_orchestration(bytes_buffer=make_zip(files or {"main.py": INSPECT_MAIN}),
                                   name=kwargs.pop("name", "orch"), file_name="orch.zip", **kwargs)
    while orch.status() not in ("ready", "error"):
        time.sleep(5)
    return orch


def test_upload_by_path_and_buffer_and_status_sequence(wl, make_zip, tmp_path):
    data = make_zip({"main.py": INSPECT_MAIN})
    path = tmp_path / "my_orchestration.zip"
    path.write_bytes(data)
    by_path = wl.upload_orchestration(path=str(path))
    assert by_path.file_name() == "my_orchestration.zip" and by_path.name() is None
    by_file = wl.upload_orchestration(bytes_buffer=io.BytesIO(data), name="b")
    assert by_file.file_name() == "_" and by_file.sha() == by_path.sha()
    seen = []
    while by_path.status() != "ready":
        seen.append(by_path.status())
        time.sleep(5)
    assert seen[0] == "pending_packaging" and "packaging" in seen
    assert by_path.workspace_id() == wl.get_current_workspace().id()


def test_upload_errors(wl, make_zip):
    from wallaroo.orchestration import OrchestrationMissingFile, OrchestrationUploadFailed

    with pytest.raises(OrchestrationMissingFile):
        wl.upload_orchestration(name="nothing")
    with pytest.raises(OrchestrationUploadFailed) as info:
        wl.upload_orchestration(bytes_buffer=make_zip({"run.py": "print(1)\n"}), name="nomain")
    assert str(info.value).startswith("Orchestration upload failed: Internal service error")
    assert "no main.py" in info.value.reason
    assert ("no main.py" in str(info.value)) == newest(wl)
    with pytest.raises(OrchestrationUploadFailed):
        wl.upload_orchestration(bytes_buffer=b"not a zip at all", name="junk")
    assert len(wl.list_orchestrations()) == 0


def test_list_orchestrations_scopes_and_html(wl, make_zip):
    mine = upload(wl, make_zip, name="mine")
    other_ws = wl.create_workspace("elsewhere")
    wl.set_current_workspace(other_ws)
    theirs = upload(wl, make_zip, {"main.py": "print(2)\n"}, name="theirs")
    listed = wl.list_orchestrations()
    html = listed._repr_html_()
    if newest(wl):
        assert [o.id() for o in listed] == [mine.id(), theirs.id()]  # all workspaces by default
        assert [o.id() for o in wl.list_orchestrations(workspace_name="orchestrations")] == [mine.id()]
        assert [o.id() for o in wl.list_orchestrations(workspace_id=other_ws.id())] == [theirs.id()]
        assert "<th>workspace name</th>" in html and "<td>elsewhere</td>" in html
    else:
        assert [o.id() for o in listed] == [theirs.id()]  # the current workspace only
        with pytest.raises(TypeError):
            wl.list_orchestrations(workspace_id=other_ws.id())
        assert "workspace" not in html
    sha = theirs.sha()
    assert f"<td>{sha[:6]}...{sha[-6:]}</td>" in html
    assert "<th>id</th><th>name</th><th>status</th><th>filename</th><th>sha</th><th>created at</th><th>updated at</th>" in html
    single = theirs._repr_html_()
    assert "<td>SHA</td><td>" + sha in single and "<td>Status</td><td>ready</td>" in single
    assert "2023-10-May 21:0" in single  # the SDK's default time format


def test_run_once_tutorial_forms_and_task_surface(wl, make_zip):
    from wallaroo.task import ArbexStatus
    from wallaroo.task_run import TaskStatus

    orch = upload(wl, make_zip)
    task = orch.run_once({}) if not newest(wl) else orch.run_once(name="once", json_args={"k": [1, 2]})
    assert task.status() == "pending" and isinstance(task.status(), str)
    assert task.last_runs()._repr_html_() == "(no task runs)"
    while task.status() != "started":
        time.sleep(5)
    runs = task.last_runs()
    assert len(runs) == 1 and runs[0].status == "success"
    args = {} if not newest(wl) else {"k": [1, 2]}
    assert f"args {args} in_task True" in [line.split(" F ", 1)[1] for line in runs[0].logs()]
    assert runs[0].logs(limit=1) == runs[0].logs()[-1:]
    html = runs[0].logs()._repr_html_()
    assert html.startswith("<pre><code>2023-10-May 21:0") and "in_task True" in html
    assert task.last_runs(status="failure") == []
    with pytest.raises(ValueError):
        task.last_runs(status="bogus")
    if newest(wl):
        assert task.last_runs(status="timed_out") == []
        assert hasattr(ArbexStatus, "KILLED") and hasattr(TaskStatus, "TIMED_OUT")
    else:
        with pytest.raises(ValueError):
            task.last_runs(status="timed_out")
        assert not hasattr(ArbexStatus, "KILLED") and not hasattr(TaskStatus, "TIMED_OUT")
    listed = wl.list_tasks()
    assert [t.id() for t in listed] == [task.id()]
    row = listed._repr_html_()
    assert "<td>success</td><td>Temporary Run</td><td>True</td><td>-</td>" in row
    assert wl.get_task_by_id(task.id()) == task
    assert [t.id() for t in orch.list_tasks()] == [task.id()]
    assert "<td>Last Run Status</td><td>success</td>" in task._repr_html_()
    assert wl.in_task() is False
    with pytest.raises(FileNotFoundError):
        wl.task_args()


def test_scheduled_kill_and_list_tasks(wl, make_zip):
    from wallaroo.task import ArbexStatus

    orch = upload(wl, make_zip)
    task = orch.run_scheduled(name="sched", schedule="*/5 * * * *", timeout=120, json_args={})
    time.sleep(420)
    assert len(task.last_runs()) >= 1
    assert "<td>Scheduled Run</td><td>True</td><td>*/5 * * * *</td>" in wl.list_tasks()._repr_html_()
    result = task.kill()
    assert result is ArbexStatus.PENDING_KILL
    assert repr(result) == "<ArbexStatus.PENDING_KILL: 'pending_kill'>"
    assert task.status() == "pending_kill"
    assert [t.id() for t in wl.list_tasks()] == [task.id()]  # still listed right after the kill
    runs_before = len(task.last_runs())
    time.sleep(3600)
    assert len(task.last_runs()) == runs_before
    assert wl.list_tasks() == [] and [t.id() for t in wl.list_tasks(killed=True)] == [task.id()]
    assert task.status() == ("killed" if newest(wl) else "pending_kill")
    assert wl.list_tasks()._repr_html_() == "(no tasks)"


def test_refused_task_requests(wl, make_zip):
    from wallaroo.object import EntityNotFoundError
    from wallaroo.orchestration import OrchestrationDeployOneshotFailed

    early = wl.upload_orchestration(bytes_buffer=make_zip({"main.py": "pass\n"}), name="early")
    with pytest.raises(OrchestrationDeployOneshotFailed, match="not ready"):
        early.run_once(name="too soon")
    orch = upload(wl, make_zip)
    with pytest.raises(OrchestrationDeployOneshotFailed, match="5 fields"):
        orch.run_scheduled(name="six", schedule="0 0 12 1-15 2 2024")
    with pytest.raises(OrchestrationDeployOneshotFailed, match="invalid schedule"):
        orch.run_scheduled(name="set", schedule={"42 * * * *"})
    with pytest.raises(EntityNotFoundError):
        wl.get_task_by_id("00000000-0000-4000-8000-000000000000")


def test_timeout_run_status_per_profile(wl, make_zip):
    orch = upload(wl, make_zip, {"main.py": "import time\ntime.sleep(3600)\n"})
    task = orch.run_once(name="slow", json_args={}, timeout=60)
    time.sleep(30)
    [run] = task.last_runs()
    assert run.status == ("timed_out" if newest(wl) else "failure")
    assert (run.updated_at - run.created_at).total_seconds() == 60


def test_run_continuously_is_newest_only_and_refused(wl, make_zip):
    from wallaroo.orchestration import OrchestrationDeployOneshotFailed

    orch = upload(wl, make_zip)
    if newest(wl):
        with pytest.raises(OrchestrationDeployOneshotFailed, match="not emulated"):
            orch.run_continuously(name="svc")
    else:
        assert not hasattr(orch, "run_continuously")


def test_pytest_plugin_upload_fixture(emulator, upload_orchestration_from_folder, tmp_path):
    import wallaroo

    (tmp_path / "main.py").write_text("print('from the plugin')\n")
    wl = wallaroo.Client()
    wl.set_current_workspace(wl.create_workspace("plugin"))
    orch = upload_orchestration_from_folder(tmp_path, name="plugin-orch", client=wl)
    emulator.clock.advance(60)
    assert orch.status() == "ready" and orch.file_name() == "plugin-orch.zip"
    task = orch.run_once(name="p", json_args={})
    emulator.clock.advance(60)
    assert task.last_runs()[0].status == "success"
