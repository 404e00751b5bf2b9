"""Tasks and runs on the virtual clock: run-once, scheduled, timeouts, kill, isolation, determinism."""

from __future__ import annotations

import datetime as dt
import os
import sys
import time

import pytest

from emulator import clock as clock_module
from emulator.wallaroo import runner
from emulator.wallaroo.tasks import TaskError, cron_instants

PROBE_MAIN = """\
import datetime, os, sys
from emulator.wallaroo import runner
print("args", runner.task_args())
print("task", os.environ["WALLAROO_TASK_ID"], os.environ["TASK_ID"], os.environ["TASK_DEBUG"])
print("cwd", os.path.basename(os.getcwd()), "argv", sys.argv)
print("now", datetime.datetime.now(datetime.UTC).isoformat())
print("to stderr", file=sys.stderr)
os.environ["LEAK_FROM_TASK"] = "1"
sys.path.append("/leak")
"""


def log_texts(run) -> list[str]:
    return [line.split(" ", 3)[3] for line in run.logs]


def test_run_once_pending_then_started_and_run_succeeds(platform):
    orch = platform.upload({"main.py": PROBE_MAIN})
    task = platform.tasks.run_once(orch.id, name="once", json_args={"pipeline": "p", "n": 3})
    assert task.status == "pending" and task.runs == []
    polls = 0
    while task.status != "started":  # the tutorial's loop
        time.sleep(5)
        polls += 1
    assert polls == 2  # launch after 10 s
    [run] = task.runs
    assert run.status == "success"
    assert run.created_at == task.created_at + dt.timedelta(seconds=10)
    texts = log_texts(run)
    assert texts[:4] == list(runner.FRAMING_START)
    assert texts[-1] == "WALLAROO: Task run complete. Status: success"
    assert "args {'pipeline': 'p', 'n': 3}" in texts
    assert f"task {task.id} {task.id} false" in texts
    assert f"now {run.created_at.isoformat()}" in texts
    assert any(line.split(" ")[1] == "stderr" and line.endswith(" F to stderr") for line in run.logs)
    cwd_line = next(t for t in texts if t.startswith("cwd"))
    assert cwd_line.endswith("argv ['/home/jovyan/main.py']")
    # everything put back
    assert "LEAK_FROM_TASK" not in os.environ and "WALLAROO_TASK_ID" not in os.environ
    assert "/leak" not in sys.path
    assert not runner.in_task()
    # the task stays active after its run
    time.sleep(600)
    assert task.status == "started" and not task.killed
    assert len(task.runs) == 1


def test_log_line_format_is_cri(platform):
    orch = platform.upload({"main.py": "print('a', end='')\nprint('b')\nprint('partial', end='')\n"})
    task = platform.tasks.run_once(orch.id, name="x")
    platform.clock.advance(10)
    lines = task.runs[0].logs
    stamp, stream, flag, text = lines[4].split(" ", 3)
    assert (stream, flag, text) == ("stdout", "F", "ab")
    assert stamp == "2023-05-10T21:00:55.000000000Z"
    assert log_texts(task.runs[0])[5] == "partial"


def test_failing_main_is_a_failure_with_traceback_and_emulator_stays_healthy(platform, capsys):
    orch = platform.upload({"main.py": "print('before')\ndef f():\n    raise KeyError('nope')\nf()\n"})
    task = platform.tasks.run_once(orch.id, name="bad")
    platform.clock.advance(10)
    [run] = task.runs
    assert run.status == "failure"
    stderr = [line.split(" ", 3)[3] for line in run.logs if line.split(" ")[1] == "stderr"]
    assert stderr == [
        "Traceback (most recent call last):",
        '  File "/home/jovyan/main.py", line 4, in <module>',
        "    f()",
        '  File "/home/jovyan/main.py", line 3, in f',
        "    raise KeyError('nope')",
        "KeyError: 'nope'",
    ]
    assert log_texts(run)[-1] == "WALLAROO: Task run complete. Status: failure"
    assert capsys.readouterr() == ("", "")  # nothing leaked to the real streams
    # still healthy: another task of a good orchestration runs
    good = platform.upload({"main.py": "print('fine')\n"})
    again = platform.tasks.run_once(good.id, name="good")
    platform.clock.advance(10)
    assert again.runs[0].status == "success"


@pytest.mark.parametrize(("code", "status"), [
    ("import sys\nsys.exit(0)\n", "success"),
    ("import sys\nsys.exit()\n", "success"),
    ("import sys\nsys.exit(3)\n", "failure"),
    ("import sys\nsys.exit('bad input')\n", "failure"),
    ("def broken(:\n", "failure"),
])
def test_exit_codes_and_syntax_errors(platform, code, status):
    orch = platform.upload({"main.py": code})
    task = platform.tasks.run_once(orch.id, name="x")
    platform.clock.advance(10)
    assert task.runs[0].status == status
    if "broken" in code:
        assert [t.split(" F ", 1)[1] for t in task.runs[0].logs if " stderr F " in t] == [
            '  File "/home/jovyan/main.py", line 1', "    def broken(:", "               ^",
            "SyntaxError: invalid syntax"]
    if "bad input" in code:
        assert any(line.endswith("stderr F bad input") for line in task.runs[0].logs)


def test_run_sleeping_past_timeout_is_stopped_at_that_instant(platform):
    orch = platform.upload({"main.py": "import time\nprint('start')\ntime.sleep(100)\nprint('never')\n"})
    task = platform.tasks.run_once(orch.id, name="slow", timeout=30)
    started = platform.clock.now() + dt.timedelta(seconds=10)
    platform.clock.advance(10)
    [run] = task.runs
    expected = "failure" if platform.sdk == "2023.2" else "timed_out"
    assert run.status == expected
    assert run.updated_at == started + dt.timedelta(seconds=30)
    assert platform.clock.now() == started + dt.timedelta(seconds=30)
    texts = log_texts(run)
    assert "never" not in texts
    assert texts[-1] == f"WALLAROO: Task run stopped: timeout of 30 seconds reached. Status: {expected}"
    # the user's deadline-free code goes on normally
    platform.clock.advance(3600)


def test_user_code_cannot_swallow_the_timeout(platform):
    code = "import time\ntry:\n    time.sleep(100)\nexcept Exception:\n    print('swallowed')\n"
    orch = platform.upload({"main.py": code})
    task = platform.tasks.run_once(orch.id, name="x", timeout=5)
    platform.clock.advance(10)
    assert task.runs[0].status in ("failure", "timed_out")
    assert "swallowed" not in log_texts(task.runs[0])


def test_scheduled_fires_exactly_the_instants_in_the_window(platform):
    orch = platform.upload({"main.py": "import datetime\nprint(datetime.datetime.now(datetime.UTC).isoformat())\n"})
    created = platform.clock.now()
    task = platform.tasks.run_scheduled(orch.id, name="every5", schedule="*/5 * * * *", timeout=120)
    while task.status != "started":
        time.sleep(5)
    time.sleep(420)
    expected = cron_instants("*/5 * * * *", created, platform.clock.now())
    assert [r.created_at for r in task.runs] == expected
    assert len(expected) >= 1
    for run, instant in zip(task.runs, expected):
        assert run.status == "success"
        assert instant.isoformat() in log_texts(run)  # the clock was set to the instant


def test_scheduled_catch_up_over_a_day(platform):
    orch = platform.upload({"main.py": "pass\n"})
    start = platform.clock.now()
    task = platform.tasks.run_scheduled(orch.id, name="hourly", schedule="0 * * * *")
    platform.clock.advance(dt.timedelta(days=1))
    assert len(task.runs) == 24
    assert [r.created_at for r in task.runs] == cron_instants("0 * * * *", start, platform.clock.now())


def test_kill_between_two_instants_stops_future_runs(platform):
    orch = platform.upload({"main.py": "print('tick')\n"})
    task = platform.tasks.run_scheduled(orch.id, name="s", schedule="*/5 * * * *")
    platform.clock.advance_to(dt.datetime(2023, 5, 10, 21, 7, tzinfo=dt.UTC))
    assert len(task.runs) == 1  # 21:05
    killed = platform.tasks.kill(task.id)
    assert killed.status == "pending_kill" and not killed.killed
    assert platform.tasks.list() == [task]  # still listed just after the kill
    platform.clock.advance(dt.timedelta(hours=2))
    assert len(task.runs) == 1
    assert task.killed
    assert task.status == ("pending_kill" if platform.sdk == "2023.2" else "killed")
    assert platform.tasks.list() == []
    assert platform.tasks.list(killed=True) == [task]


def test_kill_before_launch_means_no_run(platform):
    orch = platform.upload({"main.py": "print('x')\n"})
    task = platform.tasks.run_once(orch.id, name="x")
    platform.tasks.kill(task.id)
    platform.clock.advance(60)
    assert task.runs == []


def test_refusals(platform):
    orch = platform.upload({"main.py": "pass\n"}, ready=False)
    with pytest.raises(TaskError, match="not ready"):
        platform.tasks.run_once(orch.id, name="early")
    platform.clock.advance(60)
    for bad in ("0 0 12 1-15 2 2024", "* * * *", "every minute", {"42 * * * *"}, "61 * * * *", None,
                "0 0 30 2 *"):
        with pytest.raises(TaskError, match="invalid schedule"):
            platform.tasks.run_scheduled(orch.id, name="s", schedule=bad)
    with pytest.raises(TaskError, match="JSON"):
        platform.tasks.run_once(orch.id, name="x", json_args={"when": object()})
    with pytest.raises(TaskError, match="timeout"):
        platform.tasks.run_once(orch.id, name="x", timeout=-1)
    assert len(platform.tasks) == 0


def test_name_may_be_a_dict_as_in_the_2023_tutorial(platform):
    orch = platform.upload({"main.py": "pass\n"})
    task = platform.tasks.run_once(orch.id, name={})
    platform.clock.advance(10)
    assert task.name == {} and task.runs[0].status == "success"


def test_runs_and_logs_queries(platform):
    orch = platform.upload({"main.py": "import os\nprint('x')\nif os.environ['TASK_ID'] and __import__('datetime').datetime.now().minute % 10 == 0:\n    raise SystemExit(1)\n"})
    task = platform.tasks.run_scheduled(orch.id, name="s", schedule="*/5 * * * *")
    platform.clock.advance(dt.timedelta(minutes=30))
    runs = platform.tasks.runs(task.id)
    assert [r.created_at for r in runs] == sorted((r.created_at for r in runs), reverse=True)
    assert {r.status for r in runs} == {"success", "failure"}
    assert all(r.status == "failure" for r in platform.tasks.runs(task.id, status="failure"))
    assert len(platform.tasks.runs(task.id, limit=2)) == 2
    assert platform.tasks.runs(task.id, status="all") == runs
    with pytest.raises(TaskError):
        platform.tasks.runs(task.id, status="bogus")
    full = platform.tasks.logs(runs[0].run_id)
    assert platform.tasks.logs(runs[0].run_id, lines=2) == full[-2:]
    assert platform.tasks.by_orch_sha(orch.sha) == [task]
    as_dict = task.to_dict(platform.sdk)
    assert as_dict["last_runs"][-1]["run_id"] == runs[0].run_id
    assert as_dict["extra_env_vars"]["ORCH_SHA"] == orch.sha
    assert ("run_type" in as_dict) == (platform.sdk != "2023.2")


def test_modules_of_an_orchestration_do_not_leak_to_another(platform):
    one = platform.upload({"main.py": "import helper\nprint(helper.WHO)\n", "helper.py": "WHO = 'one'\n"})
    two = platform.upload({"main.py": "import helper\nprint(helper.WHO)\n", "helper.py": "WHO = 'two'\n"})
    t1 = platform.tasks.run_once(one.id, name="1")
    t2 = platform.tasks.run_once(two.id, name="2")
    platform.clock.advance(10)
    assert "one" in log_texts(t1.runs[0]) and "two" in log_texts(t2.runs[0])
    assert "helper" not in sys.modules


def test_traceback_paths_do_not_depend_on_the_extraction_directory(platform):
    orch = platform.upload({"main.py": "import helper\nhelper.go()\n", "helper.py": "def go():\n    raise RuntimeError('deep')\n"})
    task = platform.tasks.run_once(orch.id, name="t")
    platform.clock.advance(10)
    stderr = [t.split(" F ", 1)[1] for t in task.runs[0].logs if " stderr F " in t]
    assert stderr == [
        "Traceback (most recent call last):", '  File "/home/jovyan/main.py", line 2, in <module>', "    helper.go()",
        '  File "/home/jovyan/helper.py", line 2, in go', "    raise RuntimeError('deep')", "RuntimeError: deep"]


def test_nested_entry_point_runs_in_its_directory(platform):
    orch = platform.upload({"pkg/main.py": "print(open('data.txt').read())\n", "pkg/data.txt": "hello"})
    task = platform.tasks.run_once(orch.id, name="n")
    platform.clock.advance(10)
    assert task.runs[0].status == "success" and "hello" in log_texts(task.runs[0])


def test_another_task_due_during_a_sleep_starts_inside_it_at_its_instant(platform):
    slow = platform.upload({"main.py": "import time\nprint('slow start')\ntime.sleep(420)\nprint('slow end')\n"})
    quick = platform.upload({"main.py": "import datetime\nprint('in', datetime.datetime.now(datetime.UTC).minute)\n"})
    outer = platform.tasks.run_once(slow.id, name="slow")
    cron = platform.tasks.run_scheduled(quick.id, name="quick", schedule="*/5 * * * *")
    launch = platform.clock.now() + dt.timedelta(seconds=10)
    platform.clock.advance(10)  # slow launches and sleeps for 7 minutes
    assert platform.clock.now() == launch + dt.timedelta(seconds=420)
    assert outer.runs[0].status == "success"
    assert [r.created_at.minute for r in cron.runs] == [5]
    assert "in 5" in log_texts(cron.runs[0])
    assert log_texts(outer.runs[0])[-2] == "slow end"  # its own log, not the nested run's


def test_a_schedule_overlapping_itself_skips_instants_instead_of_nesting(platform):
    orch = platform.upload({"main.py": "import time\ntime.sleep(150)\n"})
    task = platform.tasks.run_scheduled(orch.id, name="s", schedule="* * * * *")
    platform.clock.advance(dt.timedelta(hours=1))
    starts = [r.created_at for r in task.runs]
    assert all(b - a == dt.timedelta(minutes=3) for a, b in zip(starts, starts[1:]))
    assert len(starts) + len(task.skipped) == 60
    assert all(r.status == "success" for r in task.runs)


def test_nested_run_stopped_by_an_enclosing_timeout(platform):
    slow = platform.upload({"main.py": "import time\ntime.sleep(600)\n"})
    inner = platform.upload({"main.py": "import time\ntime.sleep(300)\n"})
    outer = platform.tasks.run_once(slow.id, name="outer", timeout=120)
    cron = platform.tasks.run_scheduled(inner.id, name="inner", schedule="*/1 * * * *")
    platform.clock.advance(10)  # outer launches at 21:00:55 (packaging) + 10 s
    assert outer.runs[0].status in ("failure", "timed_out")
    assert cron.runs[0].status == ("failure" if platform.sdk == "2023.2" else "killed")
    assert "enclosing run" in log_texts(cron.runs[0])[-1]
    platform.clock.advance(600)  # the emulator carries on
    assert all(r.status != "running" for r in cron.runs)


def test_task_args_outside_a_task(platform):
    assert not runner.in_task()
    with pytest.raises(FileNotFoundError, match="/home/jovyan/arguments.json"):
        runner.task_args()


def _script(platform):
    orch = platform.upload({"main.py": "import time\nprint('run')\ntime.sleep(7)\nraise SystemExit(0)\n"})
    once = platform.tasks.run_once(orch.id, name="a", json_args={"k": 1})
    sched = platform.tasks.run_scheduled(orch.id, name="b", schedule="*/15 * * * *", timeout=3)
    platform.clock.advance(dt.timedelta(hours=1))
    return [orch.id, orch.sha, once.id, sched.id,
            [(r.run_id, r.status, r.logs) for r in once.runs + sched.runs]]


def test_same_script_twice_gives_identical_ids_and_logs(bare_platform_factory):
    results = []
    for _ in range(2):
        emu = bare_platform_factory("2026.1", seed=7)
        clock_module.activate(emu.clock)
        try:
            results.append(_script(emu))
        finally:
            clock_module.deactivate(emu.clock)
    assert results[0] == results[1]
    other = bare_platform_factory("2026.1", seed=8)
    clock_module.activate(other.clock)
    try:
        assert _script(other)[2] != results[0][2]
    finally:
        clock_module.deactivate(other.clock)


def test_stream_kept_after_the_run_writes_through(platform, capsys):
    platform.tasks.mode = "in-process"  # a stream object shared with the caller exists only in-process
    orch = platform.upload({"main.py": "import sys, builtins\nbuiltins._kept_stream = sys.stdout\nprint('inside')\n"})
    platform.tasks.run_once(orch.id, name="k")
    platform.clock.advance(10)
    import builtins

    builtins._kept_stream.write("after\n")
    del builtins._kept_stream
    assert capsys.readouterr().out == "after\n"


def test_archive_is_extracted_and_compiled_once_per_orchestration(platform):
    platform.tasks.mode = "in-process"  # isolated runs compile in their own process
    orch = platform.upload({"main.py": "print('x')\n"})
    task = platform.tasks.run_scheduled(orch.id, name="s", schedule="*/5 * * * *")
    platform.clock.advance(dt.timedelta(minutes=6))
    code = orch.extracted._code
    assert code is not None
    platform.clock.advance(dt.timedelta(minutes=20))
    assert orch.extracted._code is code and len(task.runs) == 5
    again = platform.upload({"main.py": "print('x')\n"}, ready=False)
    assert again.extracted is orch.extracted


def test_each_run_configures_logging_afresh_and_has_no_stdin(platform):
    code = (
        "import logging, sys, warnings\n"
        "logging.basicConfig(level=logging.INFO, format='%(levelname)s %(message)s')\n"
        "logging.info('scoring')\n"
        "warnings.simplefilter('error')\n"
        "sys.stdout.buffer.write('bytes ok\\n'.encode())\n"
        "try:\n    input()\nexcept EOFError:\n    print('no stdin')\n"
    )
    orch = platform.upload({"main.py": code})
    first = platform.tasks.run_once(orch.id, name="1")
    platform.clock.advance(10)
    second = platform.tasks.run_once(orch.id, name="2")
    platform.clock.advance(10)
    import logging
    import warnings

    for task in (first, second):
        texts = log_texts(task.runs[0])
        assert task.runs[0].status == "success"
        assert "INFO scoring" in texts and "bytes ok" in texts and "no stdin" in texts
    assert not any(getattr(h, "stream", None) is not None and "Captured" in type(h.stream).__name__
                   for h in logging.getLogger().handlers)
    assert not any(f[0] == "error" and f[2] is Warning for f in warnings.filters[:1])
