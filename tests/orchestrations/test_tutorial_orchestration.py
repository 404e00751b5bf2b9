"""End to end through ``import wallaroo`` and the real BigQuery client: the tutorial's orchestration.

Houses are read from a BigQuery table named by one connection, priced by the deployed pipeline
and appended to the table named by another; run once, then on a ``*/5`` schedule, with the
output table's row count checked after each advance of the virtual clock.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

import pytest

from emulator import Emulator
from emulator.wallaroo.tasks import cron_instants
from tutorial_replay.zipfolder import zip_folder

ASSETS = Path(__file__).resolve().parents[2] / "tutorial_replay" / "assets"
ORCHESTRATION = ASSETS / "orchestration"
PROJECT = "housing-project"
DATASET = "housing"
ROWS = 1000


def _tutorial_platform(emu: Emulator, rows: int = ROWS):
    """Tables, connections, workspace, deployed pipeline: the state the tutorial builds first."""
    import wallaroo
    from wallaroo.framework import Framework

    bq = emu.bigquery
    bq.create_dataset(PROJECT, DATASET)
    bq.create_table(PROJECT, DATASET, "inputs", [{"name": "tensor", "type": "FLOAT", "mode": "REPEATED"}])
    bq.create_table(PROJECT, DATASET, "outputs", [
        {"name": "time", "type": "DATETIME"},
        {"name": "in_tensor", "type": "FLOAT", "mode": "REPEATED"},
        {"name": "out_variable", "type": "FLOAT", "mode": "REPEATED"},
        {"name": "check_failures", "type": "INTEGER"},
    ])
    houses = json.loads((ASSETS / "data" / "xtest-1k.df.json").read_text())[:rows]
    assert bq.insert_rows(PROJECT, DATASET, "inputs", houses) == []

    wl = wallaroo.Client()
    workspace = wl.create_workspace("bigqueryworkspace")
    wl.set_current_workspace(workspace)
    pipeline = wl.build_pipeline("bigquerypipeline")
    model = wl.upload_model("bigquerymodel", str(ASSETS / "models" / "rf_model.onnx"),
                            framework=Framework.ONNX).configure(tensor_fields=["tensor"])
    pipeline.add_model_step(model)
    pipeline.deploy()
    for name, table in (("bigqueryhouseinputs", "inputs"), ("bigqueryhouseoutputs", "outputs")):
        details = emu.service_account_info(PROJECT, extra={"dataset": DATASET, "table": table})
        wl.create_connection(name, "BIGQUERY", details)
        workspace.add_connection(name)

    orchestration = wl.upload_orchestration(bytes_buffer=zip_folder(ORCHESTRATION), name="bigquery house prices",
                                            file_name="bigquery_remote_inference.zip")
    while orchestration.status() not in ("ready", "error"):
        time.sleep(5)
    assert orchestration.status() == "ready"
    return wl, orchestration


def _output_rows(emu: Emulator) -> int:
    return emu.bigquery.row_count(PROJECT, DATASET, "outputs")


@pytest.mark.parametrize("sdk", ["2023.2", "2026.1"])
def test_tutorial_orchestration_once_then_scheduled(sdk):
    with Emulator(sdk=sdk) as emu:
        wl, orchestration = _tutorial_platform(emu)

        task = orchestration.run_once({}) if sdk == "2023.2" else orchestration.run_once(name="once", json_args={})
        while task.status() != "started":
            time.sleep(5)
        [run] = task.last_runs()
        logs = run.logs()
        assert run.status == "success", "\n".join(logs)
        assert any(line.endswith(f"stdout F wrote {ROWS} predictions to {PROJECT}.{DATASET}.outputs") for line in logs)
        assert _output_rows(emu) == ROWS
        priced = emu.bigquery.query(f"SELECT out_variable FROM `{PROJECT}.{DATASET}.outputs`", project=PROJECT)
        assert all(len(v) == 1 and v[0] > 0 for v in priced.column("out_variable").to_pylist())

        created = emu.clock.now()
        scheduled = orchestration.run_scheduled(name="every five", schedule="*/5 * * * *", timeout=120, json_args={})
        time.sleep(420)
        fired = cron_instants("*/5 * * * *", created, emu.clock.now())
        assert len(scheduled.last_runs()) == len(fired) >= 1
        assert _output_rows(emu) == ROWS * (1 + len(fired))

        emu.clock.advance(dt.timedelta(minutes=30))
        fired = cron_instants("*/5 * * * *", created, emu.clock.now())
        assert [r.status for r in scheduled.last_runs()] == ["success"] * len(fired)
        assert _output_rows(emu) == ROWS * (1 + len(fired))

        assert repr(scheduled.kill()) == "<ArbexStatus.PENDING_KILL: 'pending_kill'>"
        emu.clock.advance(dt.timedelta(hours=1))
        assert _output_rows(emu) == ROWS * (1 + len(fired))
        assert [t.id() for t in wl.list_tasks()] == [task.id()]


def test_wrong_connection_name_fails_the_run_and_keeps_the_platform_working():
    with Emulator(sdk="2026.1") as emu:
        wl, orchestration = _tutorial_platform(emu, rows=10)
        bad = orchestration.run_once(name="bad", json_args={"input_connection": "nope"})
        emu.clock.advance(60)
        [run] = bad.last_runs()
        assert run.status == "failure"
        assert any(" stderr F Traceback (most recent call last):" in line for line in run.logs())
        good = orchestration.run_once(name="good", json_args={})
        emu.clock.advance(60)
        assert good.last_runs()[0].status == "success"
        assert _output_rows(emu) == 10


def test_same_script_twice_is_identical():
    def script():
        with Emulator(sdk="2023.2", seed=3) as emu:
            wl, orchestration = _tutorial_platform(emu, rows=5)
            task = orchestration.run_scheduled(name="s", schedule="*/5 * * * *", json_args={})
            emu.clock.advance(dt.timedelta(minutes=12))
            runs = task.last_runs()
            return (orchestration.id(), orchestration.sha(), task.id(), [r.run_id for r in runs],
                    [list(r.logs()) for r in runs],
                    emu.bigquery.query(f"SELECT * FROM `{PROJECT}.{DATASET}.outputs` ORDER BY time",
                                       project=PROJECT).to_pylist())

    assert script() == script()
