"""``python -m tutorial_replay``: the house-price BigQuery tutorial, replayed end to end, offline.

Every step of the tutorial's flow, written in our own words and run under an emulator with the
shipped seed (``tutorial.seed.yaml``): workspace and pipeline, model upload and deploy, BigQuery
input/output connections and their workspace links, a sample inference read from BigQuery and
written back, the orchestration upload and the wait for ``ready``, a run-once task, the task
list, a ``*/5 * * * *`` scheduled task and a 420-second wait, kill and undeploy.

It prints a transcript (each step and the tables a notebook would show) and checks the data it
sees: the output table's row count after every run, and inference values against onnxruntime
run directly on the same inputs. Same arguments, same bytes: ids come from the seeded generator
and time from the virtual clock. Exit status 0 when every check held.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from tutorial_replay.render import show

SEED_FILE = Path(__file__).resolve().parent / "tutorial.seed.yaml"

WORKSPACE = "bigqueryworkspace"
PIPELINE = "bigquerypipeline"
MODEL = "bigquerymodel"
MODEL_FILE = "./models/rf_model.onnx"
INPUT_CONNECTION = "bigqueryhouseinputs"
OUTPUT_CONNECTION = "bigqueryhouseoutputs"
ORCHESTRATION_ZIP = "./bigquery_remote_inference/bigquery_remote_inference.zip"
SCHEDULE = "*/5 * * * *"
SCHEDULE_WAIT_S = 420


class ReplayCheckFailed(AssertionError):
    """The replay saw data other than what the tutorial's flow must produce."""


class Transcript:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self._step = 0

    def step(self, title: str) -> None:
        self._step += 1
        self.parts.append(f"\n== {self._step}. {title}\n")

    def code(self, text: str) -> None:
        self.parts.extend(f">>> {line}" if i == 0 else f"... {line}" for i, line in enumerate(text.splitlines()))

    def out(self, value: Any) -> None:
        self.parts.append(value if isinstance(value, str) else show(value))

    def check(self, condition: bool, message: str) -> None:
        if not condition:
            raise ReplayCheckFailed(message)
        self.parts.append(f"[check] {message}")

    def text(self) -> str:
        return "\n".join(self.parts).lstrip("\n") + "\n"


@contextlib.contextmanager
def _inside(workdir: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(workdir)
    try:
        yield
    finally:
        os.chdir(previous)


def replay(sdk: str = "2023.2", start: str | None = None) -> str:
    """Run the whole tutorial under a fresh emulator and return its transcript."""
    from tutorial_replay.seed import load_seed

    seed = load_seed(SEED_FILE)
    overrides: dict[str, Any] = {"sdk": sdk}
    if start:
        overrides["start"] = start
    emu = seed.create_emulator(**overrides)
    t = Transcript()
    with tempfile.TemporaryDirectory(prefix="tutorial-replay-") as tmp:
        workdir = Path(tmp)
        seed.apply(emu, workdir)
        if emu.task_runs == "isolated":  # the fork server's imports overlap the tutorial's first steps
            from emulator.wallaroo.isolated import prewarm_archive

            prewarm_archive((workdir / ORCHESTRATION_ZIP).read_bytes(), emu.sdk_source)
        try:
            with emu, _inside(workdir), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _run_tutorial(emu, t)
        finally:
            emu.close()
    return t.text()


def _run_tutorial(emu: Any, t: Transcript) -> None:
    import json

    import pandas as pd
    import wallaroo
    from google.cloud import bigquery
    from google.oauth2 import service_account

    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.width", 200)
    newest = emu.sdk != "2023.2"
    from wallaroo.object import EntityNotFoundError

    t.step(f"Connect to the Wallaroo instance (SDK profile {emu.sdk}, virtual time {emu.clock.now().isoformat()})")
    t.code("wallaroo.__version__")
    t.out(repr(wallaroo.__version__))
    t.code('wl = wallaroo.Client(api_endpoint="https://example.api.wallaroo.ai", '
           'auth_endpoint="https://example.keycloak.wallaroo.ai", auth_type="sso")')
    if newest:
        wl = wallaroo.Client(api_endpoint="https://example.api.wallaroo.ai", auth_type="sso")
    else:
        wl = wallaroo.Client(api_endpoint="https://example.api.wallaroo.ai",
                             auth_endpoint="https://example.keycloak.wallaroo.ai", auth_type="sso")

    input_key = json.loads(Path("./bigquery_service_account_input_key.json").read_text())
    output_key = json.loads(Path("./bigquery_service_account_output_key.json").read_text())
    t.step("Workspace and pipeline")
    workspace = None
    for ws in wl.list_workspaces():
        if ws.name() == WORKSPACE:
            workspace = ws
    if workspace is None:
        workspace = wl.create_workspace(WORKSPACE)
    wl.set_current_workspace(workspace)
    try:
        pipeline = wl.pipelines_by_name(PIPELINE)[0]
    except EntityNotFoundError:
        pipeline = wl.build_pipeline(PIPELINE)
    t.code(f"workspace = get_workspace({WORKSPACE!r}); wl.set_current_workspace(workspace)")
    t.code(f"pipeline = get_pipeline({PIPELINE!r})")
    t.out(pipeline)

    t.step("Upload the model and deploy the pipeline")
    if newest:
        from wallaroo.framework import Framework

        t.code(f"model = wl.upload_model({MODEL!r}, {MODEL_FILE!r}, framework=Framework.ONNX)"
               ".configure(tensor_fields=['tensor'])")
        model = wl.upload_model(MODEL, MODEL_FILE, framework=Framework.ONNX).configure(tensor_fields=["tensor"])
    else:
        t.code(f"model = wl.upload_model({MODEL!r}, {MODEL_FILE!r}).configure()")
        model = wl.upload_model(MODEL, MODEL_FILE).configure()
    pipeline.add_model_step(model)
    t.code("pipeline.add_model_step(model); pipeline.deploy()")
    pipeline.deploy()
    t.out(pipeline)
    status = pipeline.status()
    t.code("pipeline.status()['status']")
    t.out(repr(status["status"]))
    t.check(status["status"] == "Running", "the pipeline is deployed and Running")

    t.step("Create the BigQuery connections and link them to the workspace")
    missing = Exception if newest else wallaroo.object.RequiredAttributeMissing

    def get_connection(name: str, details: dict[str, Any]) -> Any:
        try:
            return wl.get_connection(name)
        except missing:
            return wl.create_connection(name, "BIGQUERY", details)

    get_connection(INPUT_CONNECTION, input_key)
    get_connection(OUTPUT_CONNECTION, output_key)
    t.code("wl.list_connections()")
    t.out(wl.list_connections())
    workspace.add_connection(INPUT_CONNECTION)
    workspace.add_connection(OUTPUT_CONNECTION)
    t.code("workspace.add_connection(...) x2; workspace.list_connections()")
    t.out(workspace.list_connections())
    input_connection = wl.get_connection(name=INPUT_CONNECTION)
    output_connection = wl.get_connection(name=OUTPUT_CONNECTION)
    t.out(input_connection)
    t.check("*****" in show(input_connection) and input_key["private_key"] not in show(input_connection),
            "connection details are masked when displayed")

    t.step("Read the houses from BigQuery through the input connection")
    in_details = input_connection.details()
    out_details = output_connection.details()
    input_client = bigquery.Client(
        credentials=service_account.Credentials.from_service_account_info(in_details),
        project=in_details["project_id"])
    output_client = bigquery.Client(
        credentials=service_account.Credentials.from_service_account_info(out_details),
        project=out_details["project_id"])
    query = f"SELECT tensor FROM {in_details['dataset']}.{in_details['table']}"
    t.code(f"inputs = input_client.query({query!r}).to_dataframe()")
    inputs = input_client.query(query).to_dataframe()
    t.out(inputs.head(5))
    t.check(len(inputs) == 1000 and all(len(x) == 18 for x in inputs["tensor"]),
            "1000 houses with 18 features each were read")

    t.step("Infer the houses and write the prices back to BigQuery")
    t.code("result = pipeline.infer(inputs)")
    result = pipeline.infer(inputs)
    t.out(result.head(5))
    expected = _reference_prices(inputs)
    got = [row[0] for row in result["out.variable"]]
    t.check(len(got) == 1000 and all(abs(a - b) <= 1e-3 * max(1.0, abs(b)) for a, b in zip(got, expected)),
            "every price equals onnxruntime's on the same float32 input")
    median = sorted(got)[len(got) // 2]
    t.check(all(50_000 <= p <= 20_000_000 for p in got) and 200_000 <= median <= 2_000_000,
            f"prices are plausible (median {median:,.0f} dollars)")
    anomaly = "anomaly.count" if newest else "check_failures"
    frame = result.rename(columns={"in.tensor": "in_tensor", "out.variable": "out_variable", anomaly: "check_failures"})
    output_table = output_client.get_table(f"{out_details['dataset']}.{out_details['table']}")
    t.code("output_client.insert_rows_from_dataframe(output_table, result.rename(columns=...))")
    errors = output_client.insert_rows_from_dataframe(output_table, frame[["time", "in_tensor", "out_variable",
                                                                            "check_failures"]])
    t.check(all(not e for e in errors), "the rows were inserted without errors")
    latest_sql = (f"SELECT * FROM {out_details['dataset']}.{out_details['table']} ORDER BY time DESC LIMIT 5")
    t.code(f"output_client.query({latest_sql!r}).to_dataframe()")
    t.out(output_client.query(latest_sql).to_dataframe())
    count = _count(output_client, out_details)
    t.check(count == 1000, f"the output table holds {count} rows after the sample inference")

    t.step("Upload the orchestration and wait for it to be ready")
    t.code(f"orchestration = wl.upload_orchestration(path={ORCHESTRATION_ZIP!r})")
    orchestration = wl.upload_orchestration(path=ORCHESTRATION_ZIP)
    polls = 0
    while orchestration.status() != "ready" and orchestration.status() != "error":
        import time

        time.sleep(5)
        polls += 1
    t.code("while orchestration.status() != 'ready': time.sleep(5)")
    t.out(f"status {orchestration.status()!r} after {polls} polls ({polls * 5} virtual seconds)")
    t.check(orchestration.status() == "ready", "the orchestration was packaged")
    t.code("wl.list_orchestrations()")
    t.out(wl.list_orchestrations())

    t.step("Run the orchestration once")
    import time

    if newest:
        t.code("task = orchestration.run_once(name='simpletaskdemo', json_args={}, timeout=600)")
        task = orchestration.run_once(name="simpletaskdemo", json_args={}, timeout=600)
    else:
        t.code("task = orchestration.run_once({})")
        task = orchestration.run_once({})
    while task.status() != "started":
        time.sleep(5)
    t.code("while task.status() != 'started': time.sleep(5)")
    t.out(repr(task.status()))
    t.code("wl.list_tasks()")
    t.out(wl.list_tasks())
    time.sleep(60)
    t.code("time.sleep(60); task.last_runs()")
    runs = task.last_runs()
    t.out(runs)
    # a run's status through the SDKs' public API (the real TaskRun has no status accessor)
    t.check(len(runs) == 1 and len(task.last_runs(status="success")) == 1, "the run-once task ran once and succeeded")
    logs = runs[0].logs()
    t.code("task.last_runs()[0].logs()")
    t.out("\n".join(logs))
    t.out(output_client.query(latest_sql).to_dataframe())
    count = _count(output_client, out_details)
    t.check(count == 2000, f"the output table holds {count} rows after the run-once task")

    t.step(f"Schedule the orchestration every five minutes ({SCHEDULE!r}) and wait {SCHEDULE_WAIT_S} s")
    t.code(f"scheduled = orchestration.run_scheduled(name='simple_inference_schedule', schedule={SCHEDULE!r}, "
           "timeout=120, json_args={})")
    scheduled = orchestration.run_scheduled(name="simple_inference_schedule", schedule=SCHEDULE, timeout=120,
                                            json_args={})
    window_start = emu.clock.now()
    t.code(f"time.sleep({SCHEDULE_WAIT_S})")
    time.sleep(SCHEDULE_WAIT_S)
    fired = _cron_instants(SCHEDULE, window_start, emu.clock.now())
    runs = scheduled.last_runs()
    t.out(runs)
    t.check(len(runs) == len(fired),
            f"{len(fired)} scheduled runs fired in the window ({', '.join(i.strftime('%H:%M') for i in fired)})")
    t.check(len(scheduled.last_runs(status="success")) == len(runs), "every scheduled run succeeded")
    count = _count(output_client, out_details)
    t.check(count == 2000 + 1000 * len(fired), f"the output table holds {count} rows after the scheduled runs")
    t.out(output_client.query(latest_sql).to_dataframe())

    t.step("Kill the scheduled task and undeploy the pipeline")
    t.code("wl.list_tasks()")
    t.out(wl.list_tasks())
    t.code("scheduled.kill()")
    killed = scheduled.kill()
    t.out(repr(killed))
    t.check(getattr(killed, "value", killed) == "pending_kill", "kill answered pending_kill")
    time.sleep(600)
    t.check(len(scheduled.last_runs()) == len(fired), "no run fired after the kill")
    t.code("pipeline.undeploy()")
    pipeline.undeploy()
    t.out(pipeline)
    try:
        final_status = pipeline.status()["status"]
    except EntityNotFoundError:  # the real SDK: status/get_deployment answers 404 once the engines are gone
        final_status = "deployment not found"
    t.check(final_status != "Running", "the pipeline is undeployed")
    t.out(f"virtual time at the end: {emu.clock.now().isoformat()}")


def _count(client: Any, details: dict[str, Any]) -> int:
    sql = f"SELECT COUNT(*) AS n FROM {details['dataset']}.{details['table']}"
    return int(next(iter(client.query(sql).result())).n)


def _reference_prices(inputs: Any) -> list[float]:
    import numpy as np
    import onnxruntime as ort

    from tutorial_replay.seed import ASSETS_DIR

    session = ort.InferenceSession(str(ASSETS_DIR / "models" / "rf_model.onnx"), providers=["CPUExecutionProvider"])
    array = np.asarray(inputs["tensor"].tolist(), dtype=np.float32)
    name = session.get_inputs()[0].name
    return [float(v[0]) for v in session.run(None, {name: array})[0]]


def _cron_instants(schedule: str, start: Any, end: Any) -> list[Any]:
    from croniter import croniter

    out = []
    it = croniter(schedule, start)
    while True:
        nxt = it.get_next(type(start))
        if nxt > end:
            return out
        out.append(nxt)


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tutorial_replay [--sdk P] [--start ISO] [--transcript FILE]`` (the options are parsed
    by :mod:`tutorial_replay.__main__`, which also knows the ``run`` subcommand)."""
    from tutorial_replay.__main__ import main as cli

    return cli(argv)


def run_replay(sdk: str = "2023.2", start: str | None = None, transcript: Path | None = None) -> int:
    """Replay the tutorial, print its transcript (and write it to ``transcript``); the exit status."""
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            text = replay(sdk=sdk, start=start)
    except ReplayCheckFailed as exc:
        sys.stdout.write(buffer.getvalue())
        print(f"replay check failed: {exc}", file=sys.stderr)
        return 1
    if buffer.getvalue():
        text = text + "\n-- output printed by the emulated platform --\n" + buffer.getvalue()
    sys.stdout.write(text)
    if transcript is not None:
        transcript.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
