"""The plugin's session-wide help, seen through pytester: module-top ``import wallaroo`` and failure reports.

Each inner session runs in a subprocess: an in-process one would drop the modules it imported
when it ends, and extension modules (cryptography's, DuckDB's) do not survive being imported twice.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from emulator.pytest_plugin import REPORT_SECTION


def _run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    installed = any(e.name == "wallaroo_emulator" for e in entry_points(group="pytest11"))
    plugin = () if installed else ("-p", "emulator.pytest_plugin")  # a plain checkout
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", *plugin, *args, timeout=300)

MODULE_TOP_IMPORT = '''
import pytest
import wallaroo
import wallaroo.pipeline
from wallaroo.framework import Framework
from wallaroo.object import EntityNotFoundError

from emulator import EmulatorError


def test_names_resolve_to_the_active_emulators_sdk(emulator):
    wl = wallaroo.Client()
    assert type(wl).__module__ == "wallaroo.client" and wl._emulator is emulator
    assert wallaroo.__version__ == "2023.2.1"
    with pytest.raises(EntityNotFoundError):
        wl.pipelines_by_name("nothing-here")
    assert wallaroo.pipeline.Pipeline.__name__ == "Pipeline"
    assert Framework.ONNX.value == "onnx"


@pytest.mark.wallaroo_sdk("2026.1")
def test_the_profile_follows_the_emulator(wallaroo_client):
    assert wallaroo.__version__ == "2026.1.3"
    assert isinstance(wallaroo_client, wallaroo.Client)


def test_used_with_no_emulator_the_error_names_the_fixture():
    with pytest.raises(EmulatorError, match=r"wallaroo.Client was used with no emulator active.*`emulator` fixture"):
        wallaroo.Client()
    with pytest.raises(AttributeError):
        wallaroo.__wrapped__  # introspection (pytest, mock, inspect) sees a plain module
'''


def test_module_top_import_of_wallaroo(pytester):
    pytester.makepyfile(test_top=MODULE_TOP_IMPORT)
    result = _run(pytester)
    result.assert_outcomes(passed=3)


FAILING_ORCHESTRATION = '''
import time

from emulator import Emulator


def test_orchestration_succeeds(emulator, wallaroo_client, upload_orchestration_from_folder, tmp_path):
    folder = tmp_path / "nightly_totals"
    folder.mkdir()
    (folder / "main.py").write_text(
        "import wallaroo\\n"
        "print('loading sales for', wallaroo.Client().task_args()['target'], flush=True)\\n"
        "def total(rows):\\n"
        "    return rows['missing']\\n"
        "total({})\\n"
    )
    (folder / "requirements.txt").write_text("")
    orchestration = upload_orchestration_from_folder(folder)
    while orchestration.status() != "ready":
        time.sleep(5)
    task = orchestration.run_once(name="nightly", json_args={"target": "sales.totals"})
    time.sleep(60)
    assert task.last_runs()[0].status == "success"


def test_an_emulator_of_the_tests_own_fails_too():
    with Emulator(start="2030-01-01T00:00:00Z") as emu:
        emu.clock.advance(90)
    assert False, "after the emulator was closed"


def test_passing(emulator):
    pass


def test_failing_without_an_emulator():
    assert 1 == 2
'''


def test_a_failed_test_reports_its_task_runs_logs_and_virtual_time(pytester):
    pytester.makepyfile(test_orch=FAILING_ORCHESTRATION)
    result = _run(pytester)
    result.assert_outcomes(passed=1, failed=3)
    out = result.stdout.str()
    assert out.count(REPORT_SECTION) == 2  # only the failed tests that used an emulator
    section = out[out.index(REPORT_SECTION):]
    section = section[: section.index("_ test_an_emulator_of_the_tests_own_fails_too _")]
    result.stdout.re_match_lines([
        r".*virtual time 2023-05-10T21:\d\d:\d\dZ \(the clock started at 2023-05-10T21:00:00Z\); "
        r"SDK profile 2023.2, id seed 0",
        r"orchestration 'nightly_totals' \(id [0-9a-f-]{36}, sha [0-9a-f]{64}, file nightly_totals.zip\): "
        r"status ready",
        r"  task 'nightly' \(id [0-9a-f-]{36}, type Oneshot\): status .*",
        r"    run [0-9a-f-]{36}: failure \(from 2023-05-10T21:\S+Z to 2023-05-10T21:\S+Z, \d+ log lines\)",
    ], consecutive=False)
    assert "loading sales for sales.totals" in section
    assert "Traceback (most recent call last):" in section
    assert "in total" in section and "KeyError: 'missing'" in section
    assert "virtual time 2030-01-01T00:01:30Z (the clock started at 2030-01-01T00:00:00Z)" in out
    assert "no orchestrations were uploaded" in out


@pytest.mark.parametrize("flag", ["--show-capture=no"])
def test_the_section_follows_pytests_show_capture_option(pytester, flag):
    pytester.makepyfile(test_one="def test_one(emulator):\n    assert False\n")
    result = _run(pytester, flag)
    result.assert_outcomes(failed=1)
    assert REPORT_SECTION not in result.stdout.str()
