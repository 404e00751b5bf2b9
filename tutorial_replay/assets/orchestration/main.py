"""House-price batch scoring, run by Wallaroo as an orchestration task.

Reads the houses to price from the BigQuery table named by one Wallaroo connection, sends
them through the deployed house-price pipeline, and appends the predictions to the BigQuery
table named by another connection. Every name can be overridden through the task's
``json_args``; an empty ``{}`` uses the names of the house-price tutorial.
"""

import json

import wallaroo
from google.cloud import bigquery
from google.oauth2 import service_account

SETTINGS = {
    "workspace_name": "bigqueryworkspace",
    "pipeline_name": "bigquerypipeline",
    "input_connection": "bigqueryhouseinputs",
    "output_connection": "bigqueryhouseoutputs",
}


def task_settings(client):
    """The default settings, updated with whatever the task was started with."""
    chosen = dict(SETTINGS)
    try:
        given = client.task_args()
    except FileNotFoundError:  # started by hand, outside a task
        given = {}
    chosen.update(given or {})
    return chosen


def open_workspace(client, name):
    for workspace in client.list_workspaces():
        if workspace.name() == name:
            client.set_current_workspace(workspace)
            return workspace
    raise LookupError(f"workspace {name!r} does not exist")


def table_of(client, connection_name):
    """A BigQuery client for the connection's service account, and its fully qualified table."""
    details = client.get_connection(connection_name).details()
    credentials = service_account.Credentials.from_service_account_info(details)
    project = details["project_id"]
    bq = bigquery.Client(project=project, credentials=credentials)
    return bq, f"{project}.{details['dataset']}.{details['table']}"


def as_output_rows(scored):
    """Rows for the output table: time, in_tensor, out_variable, check_failures."""
    failures = "check_failures" if "check_failures" in scored.columns else "anomaly.count"
    rows = []
    for record in scored.to_dict(orient="records"):
        rows.append({
            "time": record["time"].isoformat(),
            "in_tensor": [float(x) for x in record["in.tensor"]],
            "out_variable": [float(x) for x in record["out.variable"]],
            "check_failures": int(record[failures]),
        })
    return rows


def main():
    client = wallaroo.Client()
    chosen = task_settings(client)
    print("settings:", json.dumps(chosen, sort_keys=True))

    open_workspace(client, chosen["workspace_name"])
    pipeline = client.pipelines_by_name(chosen["pipeline_name"])[0]

    source, source_table = table_of(client, chosen["input_connection"])
    houses = source.query(f"SELECT tensor FROM `{source_table}`").to_dataframe()
    print(f"read {len(houses)} houses from {source_table}")

    scored = pipeline.infer(houses)
    print(f"scored {len(scored)} houses")

    sink, sink_table = table_of(client, chosen["output_connection"])
    rows = as_output_rows(scored)
    errors = sink.insert_rows_json(sink_table, rows)
    if errors:
        raise RuntimeError(f"BigQuery refused {len(errors)} rows, first: {errors[0]}")
    print(f"wrote {len(rows)} predictions to {sink_table}")


if __name__ == "__main__":
    main()
