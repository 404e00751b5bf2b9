"""Isolated task runs: whatever a task's code does, the run ends with a status and a log, and the
caller, the next run and the next test carry on normally."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time

import pytest

from emulator import Emulator
from emulator.clock import real_monotonic
from emulator.emulator import EmulatorError
from emulator.wallaroo.orchestrations import OrchestrationRefused
from emulator.wallaroo.tasks import TaskError

HEALTHY_MAIN = """\
import datetime, os, time
print("start", datetime.datetime.now(datetime.UTC).isoformat())
time.sleep(60)
print("end", datetime.datetime.now(datetime.UTC).isoformat(), sorted(os.listdir(".")))
"""


def texts(run) -> list[str]:
    return [line.split(" ", 3)[3] for line in run.logs]


def run_once(platform, files: dict[str, str | bytes], **kwargs):
    orch = platform.upload(files)
    task = platform.tasks.run_once(orch.id, name="t", **kwargs)
    platform.clock.advance(platform.tasks.timings.launch_seconds)
    [run] = task.runs
    return run


def assert_healthy(platform) -> None:
    """A normal run after the misbehaving one: success, its sleep moves the virtual clock, a clean directory."""
    cwd, environ = os.getcwd(), dict(os.environ)
    orch = platform.upload({"main.py": HEALTHY_MAIN})
    before = platform.clock.now()
    task = platform.tasks.run_once(orch.id, name="healthy")
    platform.clock.advance(platform.tasks.timings.launch_seconds)
    [run] = task.runs
    assert run.status == "success", texts(run)
    launched = before + dt.timedelta(seconds=platform.tasks.timings.launch_seconds)
    assert f"start {launched.isoformat()}" in texts(run)
    assert f"end {(launched + dt.timedelta(seconds=60)).isoformat()} ['main.py']" in texts(run)
    assert platform.clock.now() == launched + dt.timedelta(seconds=60)
    assert os.getcwd() == cwd and dict(os.environ) == environ


def test_isolated_is_the_default_and_in_process_an_option():
    assert Emulator().task_runs == "isolated"
    assert Emulator(task_runs="in-process").task_runs == "in-process"
    with pytest.raises(ValueError, match="task_runs must be one of"):
        Emulator(task_runs="threads")
    with pytest.raises(EmulatorError, match="task_real_time_limit"):
        Emulator(task_real_time_limit=float("inf"))


def test_runs_execute_in_their_own_process(platform):
    run = run_once(platform, {"main.py": "import os, sys\nprint('pid', os.getpid())\n"
                                         "print('pytest loaded', 'pytest' in sys.modules)\n"})
    assert run.status == "success"
    assert f"pid {os.getpid()}" not in texts(run)
    assert "pytest loaded False" in texts(run)
    assert_healthy(platform)


def test_busy_loop_with_timeout_is_killed_by_the_real_time_guard(platform):
    platform.tasks.isolation.real_time_limit = 1.0
    started = real_monotonic()
    run = run_once(platform, {"main.py": "print('spinning', flush=True)\nwhile True:\n    pass\n"}, timeout=5)
    assert real_monotonic() - started < 30
    assert run.status == ("failure" if platform.sdk == "2023.2" else "timed_out")
    assert "spinning" in texts(run)
    assert "real-time guard" in texts(run)[-1] and texts(run)[-1].endswith(f"Status: {run.status}")
    platform.tasks.isolation.real_time_limit = 60.0  # a loaded CI machine may take a second to start a run
    assert_healthy(platform)


def test_os_exit_fails_the_run_not_the_caller(platform):
    run = run_once(platform, {"main.py": "import os\nprint('bye', flush=True)\nos._exit(3)\n"})
    assert run.status == "failure" and run.error == "exit status 3"
    assert texts(run)[-2:] == ["bye", "WALLAROO: Task run ended: its process exited with status 3. Status: failure"]
    assert_healthy(platform)


def test_keyboard_interrupt_fails_the_run_and_the_session_goes_on(platform):
    run = run_once(platform, {"main.py": "raise KeyboardInterrupt\n"})
    assert run.status == "failure" and run.error.startswith("KeyboardInterrupt")
    assert "KeyboardInterrupt" in texts(run)
    assert_healthy(platform)


@pytest.mark.parametrize(("code", "status", "error"), [
    ("import sys\nsys.exit(2)\n", "failure", "exit status 2"),
    ("import sys\nsys.exit('bad input')\n", "failure", "bad input"),
    ("import sys\nsys.exit(0)\n", "success", None),
    ("raise SystemExit\n", "success", None),
])
def test_system_exit(platform, code, status, error):
    run = run_once(platform, {"main.py": code})
    assert (run.status, run.error) == (status, error)
    if error == "bad input":
        assert any(line.endswith("stderr F bad input") for line in run.logs)
    assert_healthy(platform)


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM", "SIGSEGV"])
def test_a_signal_to_itself_fails_the_run(platform, signal_name):
    code = f"import os, signal\nprint('before', flush=True)\nos.kill(os.getpid(), signal.{signal_name})\nprint('after')\n"
    run = run_once(platform, {"main.py": code})
    assert run.status == "failure" and run.error == f"killed by {signal_name}"
    assert "before" in texts(run) and "after" not in texts(run)
    assert texts(run)[-1] == f"WALLAROO: Task run ended: its process was killed by {signal_name}. Status: failure"
    assert_healthy(platform)


def test_monkeypatching_time_sleep_stays_in_the_run(platform):
    run = run_once(platform, {"main.py": "import time\ntime.sleep = lambda s: None\ntime.sleep(10)\nprint('patched')\n"})
    assert run.status == "success" and "patched" in texts(run)
    assert time.sleep.__module__ == "emulator.clock"
    assert_healthy(platform)  # its own sleep(60) moves the clock


@pytest.mark.parametrize("timeout", [float("inf"), float("nan"), 1e300, -1, 0, 10 ** 12, True, "60"])
def test_invalid_timeouts_are_refused_up_front(platform, timeout):
    orch = platform.upload({"main.py": "pass\n"})
    with pytest.raises(TaskError, match="timeout must be a positive number of seconds"):
        platform.tasks.run_once(orch.id, name="x", timeout=timeout)
    with pytest.raises(TaskError, match="timeout must be"):
        platform.tasks.run_scheduled(orch.id, name="x", schedule="*/5 * * * *", timeout=timeout)
    assert len(platform.tasks) == 0
    assert_healthy(platform)


def test_invalid_timeout_through_the_sdk_is_the_sdk_exception(make_zip):
    with Emulator(sdk="2026.1") as emu:
        import wallaroo
        from wallaroo.orchestration import OrchestrationDeployOneshotFailed

        wl = wallaroo.Client()
        orch = wl.upload_orchestration(bytes_buffer=make_zip({"main.py": "pass\n"}), name="o")
        emu.clock.advance(60)
        with pytest.raises(OrchestrationDeployOneshotFailed, match="timeout must be"):
            orch.run_once(name="x", json_args={}, timeout=float("inf"))
        assert wl.list_tasks() == []


def test_a_run_deleting_its_working_directory_breaks_nothing(platform):
    run = run_once(platform, {"main.py": "import os, shutil\nshutil.rmtree(os.getcwd())\nprint('gone')\n"})
    assert run.status == "success" and "gone" in texts(run)
    again = run_once(platform, {"main.py": "import os, shutil\nshutil.rmtree(os.getcwd())\nprint('gone')\n"})
    assert again.status == "success"
    assert_healthy(platform)


def test_files_of_one_run_are_not_in_the_next_and_code_cannot_be_rewritten(platform):
    code = ("import os\nprint('files', sorted(os.listdir('.')))\nopen('leftover.txt', 'w').write('x')\n"
            "open(__file__, 'a').write('\\nraise SystemExit(9)\\n')\n")
    orch = platform.upload({"main.py": code, "data.csv": "a,b\n"})
    task = platform.tasks.run_scheduled(orch.id, name="s", schedule="*/5 * * * *")
    platform.clock.advance(dt.timedelta(minutes=11))
    assert [r.status for r in task.runs] == ["success", "success"]
    assert all("files ['data.csv', 'main.py']" in texts(r) for r in task.runs)
    assert (orch.extracted.root / "main.py").read_text() == code
    assert_healthy(platform)


def test_a_module_the_test_imported_does_not_shadow_the_archives(platform, tmp_path, monkeypatch):
    (tmp_path / "shadowed_helper.py").write_text("WHO = 'the test'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    import shadowed_helper

    assert shadowed_helper.WHO == "the test"
    files = {"main.py": "import shadowed_helper, croniter\nprint(shadowed_helper.WHO, croniter.WHO)\n",
             "shadowed_helper.py": "WHO = 'the archive'\n",
             "croniter.py": "WHO = 'also the archive'\n"}  # a module the fork server had imported
    run = run_once(platform, files)
    assert run.status == "success", texts(run)
    assert "the archive also the archive" in texts(run)
    monkeypatch.delitem(sys.modules, "shadowed_helper")
    assert_healthy(platform)


def test_eight_megabytes_without_a_newline_is_linear(platform):
    code = "import sys\nchunk = 'x' * 1024\nfor _ in range(8192):\n    sys.stdout.write(chunk)\n"
    started = real_monotonic()
    run = run_once(platform, {"main.py": code})
    elapsed = real_monotonic() - started
    assert run.status == "success"
    records = [line for line in run.logs if " stdout P " in line or line.endswith("stdout F " + "x" * 10)]
    partial = [line.split(" ", 3)[3] for line in run.logs if " stdout P " in line]
    assert sum(len(t) for t in partial) == 8 * 1024 * 1024 and len(partial) == 512 and records
    assert elapsed < 10  # well under a second on a quiet machine (BENCHMARKS.md); generous for shared CI
    assert_healthy(platform)


@pytest.mark.parametrize("mode", ["isolated", "in-process"])
def test_in_process_output_is_linear_too(platform, mode):
    platform.tasks.mode = mode
    code = "import sys\nfor _ in range(2048):\n    sys.stdout.write('y' * 1024)\nprint()\nprint('done')\n"
    run = run_once(platform, {"main.py": code})
    assert run.status == "success"
    tags = [line.split(" ")[2] for line in run.logs if " stdout " in line and "WALLAROO" not in line]
    assert tags == ["P"] * 128 + ["F", "F"]
    assert texts(run)[-2] == "done"


@pytest.mark.parametrize("mode", ["isolated", "in-process"])
def test_coding_cookie_is_honoured(platform, mode):
    platform.tasks.mode = mode
    source = "# -*- coding: latin-1 -*-\nprint('caf\u00e9 cr\u00e8me')\nraise ValueError('\u00e9chec')\n"
    run = run_once(platform, {"main.py": source.encode("latin-1")})
    assert run.status == "failure"
    assert "caf\u00e9 cr\u00e8me" in texts(run)
    assert "    raise ValueError('\u00e9chec')" in texts(run)  # the traceback shows the decoded source
    assert texts(run)[-2] == "ValueError: \u00e9chec"


@pytest.mark.parametrize(("files", "why"), [
    ({"main.py": "pass\n", "x" * 300 + ".py": "pass\n"}, "longer than 255 bytes"),
    ({"main.py": "pass\n", "/".join(["d" * 200] * 8) + "/m.py": "pass\n"}, "longer than 1024 bytes"),
    ({"main.py": "pass\n", "lib": "a file", "lib/mod.py": "pass\n"}, "'lib' is a file, but other members need a folder"),
    ({"main.py": "pass\n", "pkg/data": "x", "pkg/data/inner.txt": "y"}, "'pkg/data' is a file"),
])
def test_members_that_cannot_be_extracted_are_refused_at_upload(platform, make_zip, files, why):
    with pytest.raises(OrchestrationRefused, match=why) as caught:
        platform.orchestrations.upload(make_zip(files), workspace_id=1)
    assert "/tmp" not in str(caught.value) and "wallaroo-emulator-orch" not in str(caught.value)
    assert len(platform.orchestrations) == 0
    assert_healthy(platform)


def test_bad_members_through_the_sdk_are_the_sdk_exception(make_zip):
    with Emulator(sdk="2026.1"):
        import wallaroo
        from wallaroo.orchestration import OrchestrationUploadFailed

        wl = wallaroo.Client()
        with pytest.raises(OrchestrationUploadFailed) as caught:
            wl.upload_orchestration(bytes_buffer=make_zip({"main.py": "pass\n", "lib": "x", "lib/m.py": ""}))
        assert "/tmp" not in str(caught.value)


def test_kill_terminates_a_running_service_task(platform):
    service = "import time\nwhile True:\n    print('tick', flush=True)\n    time.sleep(60)\n"
    orch = platform.upload({"main.py": service})
    task = platform.tasks.run_scheduled(orch.id, name="svc", schedule="*/5 * * * *")
    first = platform.clock.now().replace(second=0) + dt.timedelta(minutes=5)
    platform.clock.call_at(first + dt.timedelta(minutes=3, seconds=30), lambda: platform.tasks.kill(task.id))
    platform.clock.advance_to(first)
    [run] = task.runs
    expected = "failure" if platform.sdk == "2023.2" else "killed"
    assert run.status == expected and run.error == "the task was killed"
    assert texts(run).count("tick") == 4  # at +0, +1, +2, +3 minutes; killed during the fourth sleep
    assert texts(run)[-1] == f"WALLAROO: Task run stopped: the task was killed. Status: {expected}"
    assert platform.clock.now() == first + dt.timedelta(minutes=4)  # the sleep in progress completed
    platform.clock.advance(dt.timedelta(hours=1))
    assert len(task.runs) == 1
    assert_healthy(platform)


def test_timeout_kills_the_process_at_its_virtual_deadline(platform):
    run = run_once(platform, {"main.py": "import time\nprint('up', flush=True)\ntime.sleep(3600)\nprint('never')\n"},
                   timeout=90)
    assert run.status == ("failure" if platform.sdk == "2023.2" else "timed_out")
    assert texts(run)[-2:] == ["up", f"WALLAROO: Task run stopped: timeout of 90 seconds reached. Status: {run.status}"]
    assert run.updated_at == run.created_at + dt.timedelta(seconds=90)
    assert_healthy(platform)


def _deterministic_script(factory):
    emu = factory("2026.1", seed=11)
    from emulator import clock as clock_module

    clock_module.activate(emu.clock)
    try:
        code = ("import datetime, os, sys, time, uuid\nprint('now', datetime.datetime.now().isoformat())\n"
                "print('cwd', os.getcwd(), 'file', __file__.endswith('main.py'))\n"
                "time.sleep(42)\nprint('err', file=sys.stderr)\nprint('later', time.time())\n"
                "raise RuntimeError('boom')\n")
        orch = emu.upload({"main.py": code})
        task = emu.tasks.run_scheduled(orch.id, name="d", schedule="*/10 * * * *", timeout=30)
        emu.clock.advance(dt.timedelta(minutes=31))
        return [(r.run_id, r.status, r.created_at, r.updated_at, list(r.logs)) for r in task.runs]
    finally:
        clock_module.deactivate(emu.clock)


def test_two_identical_runs_are_byte_identical_logs_included(bare_platform_factory):
    first = _deterministic_script(bare_platform_factory)
    second = _deterministic_script(bare_platform_factory)
    assert first == second
    assert [status for _, status, *_ in first] == ["timed_out"] * 3
    assert any("cwd /home/jovyan" in line for line in first[0][4])


def test_requirements_strict_fails_packaging_naming_the_package(platform):
    record = platform.upload({"main.py": "pass\n", "requirements.txt": "pandas>=1.0\nno-such-package-xyz==1.2\n"
                                                                       "google-cloud-bigquery==0.0.1\n"})
    assert record.status == "error"
    log = "\n".join(record.packaging_log)
    assert "Requirement already satisfied: pandas>=1.0" in log
    assert "ERROR: Could not find a version that satisfies the requirement no-such-package-xyz==1.2" in log
    assert "ERROR: Could not find a version that satisfies the requirement google-cloud-bigquery==0.0.1" in log
    assert "ERROR: No matching distribution found for no-such-package-xyz==1.2" in log
    assert "no-such-package-xyz==1.2 (not installed)" in record.error
    with pytest.raises(TaskError, match="not ready"):
        platform.tasks.run_once(record.id, name="x")


def test_requirements_lenient_warns_and_runs(platform):
    platform.orchestrations.requirements_mode = "lenient"
    record = platform.upload({"main.py": "print('ran')\n", "requirements.txt": "no-such-package-xyz==1.2\n"})
    assert record.status == "ready"
    assert any(line.startswith("WARNING: no-such-package-xyz==1.2 is not installed") for line in record.packaging_log)
    task = platform.tasks.run_once(record.id, name="x")
    platform.clock.advance(10)
    assert task.runs[0].status == "success"


def test_requirements_mode_through_the_emulator(make_zip):
    assert Emulator().requirements == "strict"
    with pytest.raises(EmulatorError, match="requirements must be one of"):
        Emulator(requirements="sloppy")
    with Emulator(sdk="2026.1", requirements="lenient") as emu:
        import wallaroo

        orch = wallaroo.Client().upload_orchestration(
            bytes_buffer=make_zip({"main.py": "pass\n", "requirements.txt": "no-such-package-xyz\n"}), name="o")
        emu.clock.advance(60)
        assert orch.status() == "ready"


def test_the_tutorial_orchestration_runs_once_isolated_with_its_rows():
    from test_tutorial_orchestration import PROJECT, _output_rows, _tutorial_platform

    with Emulator(sdk="2026.1", task_runs="isolated") as emu:
        wl, orchestration = _tutorial_platform(emu, rows=200)
        task = orchestration.run_once(name="once", json_args={})
        emu.clock.advance(60)
        [run] = task.last_runs()
        logs = run.logs()
        assert run.status == "success", "\n".join(logs)
        assert any(line.endswith(f"stdout F wrote 200 predictions to {PROJECT}.housing.outputs") for line in logs)
        assert _output_rows(emu) == 200
        again = orchestration.run_once(name="again", json_args={})
        emu.clock.advance(60)
        assert again.last_runs()[0].status == "success" and _output_rows(emu) == 400


def test_a_process_that_cannot_start_is_a_failed_run(platform, monkeypatch):
    from emulator.wallaroo import forkserver

    def broken(kind: str = "full"):
        raise RuntimeError("the task-run fork server exited")

    monkeypatch.setattr(forkserver, "get", broken)
    run = run_once(platform, {"main.py": "print('never')\n"})
    assert run.status == "failure" and "could not be started" in run.error
    assert texts(run)[-1] == ("WALLAROO: Task run failed to start: RuntimeError: the task-run fork server exited. "
                              "Status: failure")
    monkeypatch.undo()
    assert_healthy(platform)


def test_large_arguments_reach_the_run(platform):
    args = {"rows": ["x" * 100] * 3000}  # a run description larger than the socket buffer
    run = run_once(platform, {"main.py": "from emulator.wallaroo import runner\n"
                                         "print(len(runner.task_args()['rows']))\n"}, json_args=args)
    assert run.status == "success" and "3000" in texts(run)


def _record_prewarms(monkeypatch) -> list[str]:
    from emulator.wallaroo import forkserver

    started: list[str] = []
    monkeypatch.setattr(forkserver, "get", lambda kind="full": started.append(kind))
    return started


def test_an_upload_prewarms_the_fork_server_its_runs_will_need(platform, monkeypatch):
    started = _record_prewarms(monkeypatch)
    platform.upload({"main.py": "import json\nprint(json.dumps(1))\n"}, ready=False)
    platform.upload({"main.py": "import pandas\n"}, ready=False)
    assert started == ["light", "full"]


def test_in_process_runs_prewarm_nothing(monkeypatch, bare_platform):
    started = _record_prewarms(monkeypatch)
    emu = bare_platform("2026.1", task_runs="in-process")
    try:
        emu.upload({"main.py": "import pandas\n"}, ready=False)
    finally:
        emu.orchestrations.close()
    assert started == []


def test_a_failed_prewarm_is_silent_and_the_run_reports_it_as_before(platform, monkeypatch):
    from emulator.wallaroo import forkserver

    calls: list[str] = []

    def broken(kind: str = "full"):
        calls.append(kind)
        raise OSError("cannot start a process")

    monkeypatch.setattr(forkserver, "get", broken)
    run = run_once(platform, {"main.py": "print('never')\n"})  # the upload's prewarm failed silently
    assert calls == ["light", "light"]  # the prewarm, then the run's own start
    assert run.status == "failure" and "could not be started" in run.error
    assert texts(run)[-1] == ("WALLAROO: Task run failed to start: OSError: cannot start a process. "
                              "Status: failure")
    monkeypatch.undo()
    assert_healthy(platform)


@pytest.mark.parametrize(("files", "sdk_source", "kind"), [
    ({"main.py": "import os, helper\n", "helper.py": "from json import dumps\n"}, "facade", "light"),
    ({"main.py": "import os\n", "lib/util.py": "import pandas as pd\n"}, "facade", "full"),
    ({"main.py": "print(1)\n"}, "installed", "installed"),
])
def test_prewarm_archive_picks_the_kind_from_the_zip(monkeypatch, make_zip, files, sdk_source, kind):
    from emulator.wallaroo.isolated import prewarm_archive

    started = _record_prewarms(monkeypatch)
    prewarm_archive(make_zip(files), sdk_source)
    prewarm_archive(b"not a zip", "facade")  # nothing to read: nothing started, no exception
    assert started == [kind]


def test_children_forked_ahead_each_get_their_own_run(platform):
    """The fork server forks each run's child before it is asked for: every run still gets its own
    process, arguments, environment and fresh working directory."""
    orch = platform.upload({"main.py": "import json, os\nfrom emulator.wallaroo import runner\n"
                                       "print(os.getpid(), runner.task_args()['n'], os.environ['TASK_ID'],\n"
                                       "      sorted(os.listdir('.')), os.getcwd().endswith('home/jovyan'))\n"
                                       "open('left-behind.txt', 'w').write('x')\n"})
    seen = []
    for n in range(3):
        task = platform.tasks.run_once(orch.id, name=f"t{n}", json_args={"n": n})
        platform.clock.advance(platform.tasks.timings.launch_seconds)
        [run] = task.runs
        assert run.status == "success", texts(run)
        [line] = [text for text in texts(run) if text.endswith("True")]
        pid, arg, task_id, files, _ = line.split(" ", 4)
        assert (arg, task_id, files) == (str(n), task.id, "['main.py']"), line
        seen.append(pid)
    assert len(set(seen)) == 3 and str(os.getpid()) not in seen


def test_an_archive_package_shadows_a_preloaded_package_and_its_submodules(platform):
    files = {"main.py": "import sys, requests\nimport requests.models as m\nprint(requests.WHO, m.WHO,\n"
                        "      sorted(n for n in sys.modules if n.startswith('requests')))\n",
             "requests/__init__.py": "WHO = 'the archive'\n",
             "requests/models.py": "WHO = 'its models'\n"}  # the fork server had imported the real one
    run = run_once(platform, files)
    assert run.status == "success", texts(run)
    assert "the archive its models ['requests', 'requests.models']" in texts(run)


def test_the_spare_child_exits_with_its_fork_server():
    """The child a fork server forks ahead holds no end of its own waiting socket: it sees the server
    go and exits (no orphan left behind)."""
    import select
    import socket

    from emulator.wallaroo.forkserver import ForkServer

    server = ForkServer("light")
    try:
        mine, theirs = socket.socketpair()
        mine.close()  # the child reads no run description: it exits at once
        out_r, out_w = os.pipe()
        try:
            pid = server.spawn([theirs.fileno(), out_w, out_w])
        finally:
            theirs.close()
            os.close(out_w)
        # its exit is reported after the server forked the next spare (one loop, one thread)
        assert server.wait(pid, 60) is not None
        os.close(out_r)
        with open(f"/proc/{server.process.pid}/task/{server.process.pid}/children") as handle:
            [spare] = [int(child) for child in handle.read().split()]
        pidfd = os.pidfd_open(spare)
    finally:
        server.close()
    try:
        assert select.select([pidfd], [], [], 60)[0] == [pidfd], "the spare outlived its fork server"
    finally:
        os.close(pidfd)
