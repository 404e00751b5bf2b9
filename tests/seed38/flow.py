"""The seed tutorial's house-price flow, run by the seed's own SDK (wallaroo 2023.2.1, Python 3.8)
against ``python -m emulator serve``.

Run by ``.ci/seed_sdk.sh`` in a Python 3.8 venv holding ``wallaroo==2023.2.1``,
``google-cloud-bigquery`` and ``db-dtypes``, with the environment the server exported and the
current directory the server's ``--workdir`` (the seed wrote the key files, the model and the
orchestration zip there). Python 3.8 syntax only. Exits non-zero on the first failed check.

Steps (the tutorial's): workspace, model upload, pipeline build and deploy, a query through the
input connection's key, inference of its rows, the results written back, connections created and
added to the workspace, orchestration upload, a run-once task, a scheduled task with the virtual
clock advanced through the control API, logs, kill, undeploy.
"""

import json
import os
import sys
import time
import warnings

warnings.simplefilter("ignore")  # Python 3.8 end-of-life notices of google-auth/api-core

import requests  # noqa: E402

BASE = os.environ["EMULATOR_URL"]
WORKSPACE = "bigqueryworkspace"
PIPELINE = "bigquerypipeline"
MODEL = "bigquerymodel"
INPUT_CONNECTION = "bigqueryhouseinputs"
OUTPUT_CONNECTION = "bigqueryhouseoutputs"
SCHEDULE = "*/5 * * * *"


def check(condition, message):
    if not condition:
        print("FAILED: " + message, flush=True)
        sys.exit(1)
    print("ok: " + message, flush=True)


def control(method, path, payload=None):
    answer = requests.request(method, BASE + "/_emulator" + path, json=payload, timeout=120)
    if answer.status_code != 200:
        print(f"FAILED: control API {method} {path}: {answer.status_code} {answer.text}")
        sys.exit(1)
    return answer.json()


def count_rows(client, details):
    sql = "SELECT COUNT(*) AS n FROM {}.{}".format(details["dataset"], details["table"])
    return int(list(client.query(sql).result())[0].n)


def main():
    os.environ["ARROW_ENABLED"] = "True"  # as the tutorial does for 2023.x
    import pandas as pd
    import wallaroo
    from google.cloud import bigquery
    from google.oauth2 import service_account
    from wallaroo.object import EntityNotFoundError, RequiredAttributeMissing

    started = time.monotonic()
    print("wallaroo", wallaroo.__version__, "python", sys.version.split()[0], "server", BASE)
    check(wallaroo.__version__.startswith("2023.2"), "the seed's SDK line (2023.2) is installed")
    wl = wallaroo.Client()  # WALLAROO_URL, Keycloak password grant (WALLAROO_SDK_AUTH_TYPE=user_password)
    check(wl.api_endpoint == BASE, "the client talks to the server")

    workspace = None
    for ws in wl.list_workspaces():
        if ws.name() == WORKSPACE:
            workspace = ws
    if workspace is None:
        workspace = wl.create_workspace(WORKSPACE)
    wl.set_current_workspace(workspace)
    check(wl.get_current_workspace().name() == WORKSPACE, "workspace created and current")
    try:
        pipeline = wl.pipelines_by_name(PIPELINE)[0]
    except EntityNotFoundError:
        pipeline = wl.build_pipeline(PIPELINE)

    from wallaroo.framework import Framework

    model = wl.upload_model(MODEL, "./models/rf_model.onnx", framework=Framework.ONNX).configure()
    pipeline.add_model_step(model)
    pipeline.deploy()
    status = pipeline.status()
    check(status["status"] == "Running", "pipeline deployed and Running")
    clock = control("GET", "/clock")
    print("virtual time after deploy:", clock["now"])

    input_key = json.load(open("./bigquery_service_account_input_key.json"))
    output_key = json.load(open("./bigquery_service_account_output_key.json"))
    check(input_key["token_uri"] == BASE + "/token", "the seed's keys exchange tokens at the server")

    def get_connection(name, details):
        try:
            return wl.get_connection(name)
        except (RequiredAttributeMissing, Exception):  # 2023.2.1: a plain "Failed to get connection"
            return wl.create_connection(name, "BIGQUERY", details)

    get_connection(INPUT_CONNECTION, input_key)
    get_connection(OUTPUT_CONNECTION, output_key)
    names = [c.name() for c in wl.list_connections()]
    check(INPUT_CONNECTION in names and OUTPUT_CONNECTION in names, "both connections created")
    workspace.add_connection(INPUT_CONNECTION)
    workspace.add_connection(OUTPUT_CONNECTION)
    linked = [c.name() for c in workspace.list_connections()]
    check(sorted(linked) == sorted([INPUT_CONNECTION, OUTPUT_CONNECTION]), "both connections in the workspace")

    in_details = wl.get_connection(name=INPUT_CONNECTION).details()
    out_details = wl.get_connection(name=OUTPUT_CONNECTION).details()
    check(in_details == input_key, "connection details round-trip")
    # google-cloud-bigquery reads BIGQUERY_EMULATOR_HOST: the tutorial's own client lines, unchanged
    input_client = bigquery.Client(credentials=service_account.Credentials.from_service_account_info(in_details),
                                   project=in_details["project_id"])
    output_client = bigquery.Client(credentials=service_account.Credentials.from_service_account_info(out_details),
                                    project=out_details["project_id"])
    inputs = input_client.query("SELECT tensor FROM {}.{}".format(in_details["dataset"], in_details["table"])
                                ).to_dataframe()
    check(len(inputs) == 1000 and all(len(x) == 18 for x in inputs["tensor"]),
          "1000 houses with 18 features read from BigQuery")

    result = pipeline.infer(inputs)
    check(len(result) == 1000, "1000 inferences")
    prices = [row[0] for row in result["out.variable"]]
    median = sorted(prices)[len(prices) // 2]
    check(all(50000 <= p <= 20000000 for p in prices) and 200000 <= median <= 2000000,
          f"plausible prices (median {median:,.0f})")
    frame = result.rename(columns={"in.tensor": "in_tensor", "out.variable": "out_variable",
                                   "check_failures": "check_failures"})
    table = output_client.get_table("{}.{}".format(out_details["dataset"], out_details["table"]))
    errors = output_client.insert_rows_from_dataframe(
        table, frame[["time", "in_tensor", "out_variable", "check_failures"]])
    check(all(not e for e in errors), "inference results written to BigQuery")
    check(count_rows(output_client, out_details) == 1000, "the output table holds 1000 rows")

    logs = pipeline.logs()
    check(len(logs) >= 1, f"pipeline logs read ({len(logs)} records)")

    orchestration = wl.upload_orchestration(path="./bigquery_remote_inference/bigquery_remote_inference.zip")
    polls = 0
    while orchestration.status() not in ("ready", "error") and polls < 60:
        time.sleep(0.2)
        polls += 1
    check(orchestration.status() == "ready", f"orchestration packaged ({polls} polls)")

    task = orchestration.run_once(name="simpletaskdemo", json_args={}, timeout=600)
    polls = 0
    while task.status() != "started" and polls < 60:
        time.sleep(0.2)
        polls += 1
    check(task.status() == "started", "run-once task started")
    runs = task.last_runs()
    check(len(runs) == 1 and len(task.last_runs(status="success")) == 1, "the run-once task ran once and succeeded")
    run_logs = runs[0].logs()
    text = "\n".join(str(line) for line in run_logs)
    check("wrote 1000 predictions" in text, "the run's log says it wrote 1000 predictions")
    check(count_rows(output_client, out_details) == 2000, "the output table holds 2000 rows after the run-once task")
    listed = control("GET", "/runs")["runs"]
    check([r["status"] for r in listed] == ["success"], "the control API lists the one successful run")

    scheduled = orchestration.run_scheduled(name="simple_inference_schedule", schedule=SCHEDULE, timeout=120,
                                            json_args={})
    before = control("GET", "/clock")
    after = control("POST", "/clock/advance", {"seconds": 600})
    check(after["epoch_ms"] - before["epoch_ms"] == 600000, "clock advanced 600 s through the control API")
    fired = scheduled.last_runs()
    check(len(fired) == 2, f"two scheduled runs fired in 10 virtual minutes (got {len(fired)})")
    check(len(scheduled.last_runs(status="success")) == 2, "every scheduled run succeeded")
    check(count_rows(output_client, out_details) == 4000, "the output table holds 4000 rows after the schedule")
    check(all(r["status"] == "success" for r in control("GET", "/runs")["runs"]), "all 3 runs succeeded")

    killed = scheduled.kill()
    check(getattr(killed, "value", killed) == "pending_kill", "kill answered pending_kill")
    control("POST", "/clock/advance", {"seconds": 900})
    check(len(scheduled.last_runs()) == 2, "no run fired after the kill")

    pipeline.undeploy()
    try:
        final = pipeline.status()["status"]
    except EntityNotFoundError:
        final = "gone"
    check(final != "Running", f"pipeline undeployed ({final})")
    print("house-price flow done in {:.1f} s real, virtual time {}".format(
        time.monotonic() - started, control("GET", "/clock")["now"]))
    pd.set_option("display.width", 160)


if __name__ == "__main__":
    main()
