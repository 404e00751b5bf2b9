"""End-to-end flows of the real google-cloud-bigquery client against the emulator."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import threading

import pandas as pd
import pyarrow as pa
import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from emulator import BIGQUERY_EMULATOR_URL, Emulator, EmulatorError

PROJECT = "my-proj"

pytestmark = pytest.mark.bigquery_project(PROJECT)


@pytest.fixture
def client(bigquery_client):
    bigquery_client.create_dataset("ds1")
    return bigquery_client


def _table(client, name="t1"):
    schema = [
        bigquery.SchemaField("id", "INT64", mode="REQUIRED"),
        bigquery.SchemaField("name", "STRING"),
        bigquery.SchemaField("tensor", "FLOAT64", mode="REPEATED"),
        bigquery.SchemaField("created", "DATETIME"),
        bigquery.SchemaField("ts", "TIMESTAMP"),
        bigquery.SchemaField("price", "NUMERIC"),
        bigquery.SchemaField("blob", "BYTES"),
        bigquery.SchemaField("ok", "BOOL"),
        bigquery.SchemaField("meta", "JSON"),
        bigquery.SchemaField("d", "DATE"),
        bigquery.SchemaField("tm", "TIME"),
        bigquery.SchemaField("rec", "RECORD", fields=[bigquery.SchemaField("k", "STRING"),
                                                      bigquery.SchemaField("v", "INT64")]),
    ]
    return client.create_table(bigquery.Table(f"{PROJECT}.ds1.{name}", schema=schema))


ROWS = [
    {"id": 1, "name": "a", "tensor": [0.1, 0.2, 0.3], "created": "2024-01-02T03:04:05",
     "ts": "2024-01-02T03:04:05.123456Z", "price": "1.25", "blob": "AAE=", "ok": True, "meta": '{"a": 1}',
     "d": "2024-01-01", "tm": "12:34:56.5", "rec": {"k": "x", "v": 1}},
    {"id": 2, "name": "b", "tensor": [1.0], "ok": False},
    {"id": 3, "tensor": []},
]


# --------------------------------------------------------------------------------------
# datasets and tables
# --------------------------------------------------------------------------------------
def test_dataset_lifecycle(bigquery_client):
    ds = bigquery_client.create_dataset("ds_a")
    assert ds.dataset_id == "ds_a" and ds.project == PROJECT
    assert bigquery_client.create_dataset("ds_a", exists_ok=True).dataset_id == "ds_a"
    with pytest.raises(exceptions.Conflict, match="Already Exists: Dataset my-proj:ds_a"):
        bigquery_client.create_dataset("ds_a")
    assert [d.dataset_id for d in bigquery_client.list_datasets()] == ["ds_a"]
    bigquery_client.delete_dataset("ds_a")
    with pytest.raises(exceptions.NotFound, match="Not found: Dataset my-proj:ds_a"):
        bigquery_client.get_dataset("ds_a")
    bigquery_client.delete_dataset("ds_a", not_found_ok=True)


def test_dataset_with_tables_needs_delete_contents(client):
    _table(client)
    with pytest.raises(exceptions.BadRequest, match="still in use"):
        client.delete_dataset("ds1")
    client.delete_dataset("ds1", delete_contents=True)
    assert list(client.list_datasets()) == []


def test_dataset_labels_and_description_update(client):
    ds = client.get_dataset("ds1")
    ds.description = "inputs"
    ds.labels = {"team": "ml"}
    updated = client.update_dataset(ds, ["description", "labels"])
    assert updated.description == "inputs" and updated.labels == {"team": "ml"}
    assert client.get_dataset("ds1").labels == {"team": "ml"}


def test_table_lifecycle_and_schema_round_trip(client):
    table = _table(client)
    got = client.get_table("ds1.t1")
    assert got.table_id == "t1" and got.num_rows == 0 and got.table_type == "TABLE"
    assert [(f.name, f.field_type, f.mode) for f in got.schema][:4] == [
        ("id", "INTEGER", "REQUIRED"), ("name", "STRING", "NULLABLE"), ("tensor", "FLOAT", "REPEATED"),
        ("created", "DATETIME", "NULLABLE")]
    assert got.schema[-1].fields[1].field_type == "INTEGER"
    assert got.created == dt.datetime(2023, 5, 10, 21, 0, tzinfo=dt.UTC)
    with pytest.raises(exceptions.Conflict, match="Already Exists: Table my-proj:ds1.t1"):
        client.create_table(table)
    assert [t.table_id for t in client.list_tables("ds1")] == ["t1"]
    client.delete_table("ds1.t1")
    with pytest.raises(exceptions.NotFound, match="Not found: Table my-proj:ds1.t1"):
        client.get_table("ds1.t1")
    client.delete_table("ds1.t1", not_found_ok=True)


def test_table_in_missing_dataset_is_not_found(bigquery_client):
    with pytest.raises(exceptions.NotFound, match="Not found: Dataset my-proj:nope"):
        bigquery_client.create_table(bigquery.Table(f"{PROJECT}.nope.t", schema=[bigquery.SchemaField("a", "INT64")]))


def test_update_table_adds_column_and_relaxes_mode(client):
    table = _table(client)
    table.schema = [*table.schema, bigquery.SchemaField("extra", "STRING")]
    table.description = "with extra"
    updated = client.update_table(table, ["schema", "description"])
    assert updated.schema[-1].name == "extra" and updated.description == "with extra"
    client.insert_rows_json("ds1.t1", [{"id": 1, "extra": "x"}])
    assert [tuple(r) for r in client.query("SELECT id, extra FROM ds1.t1").result()] == [(1, "x")]
    bad = client.get_table("ds1.t1")
    bad.schema = [bigquery.SchemaField("id", "STRING", mode="REQUIRED"), *bad.schema[1:]]
    with pytest.raises(exceptions.BadRequest, match="Provided Schema does not match"):
        client.update_table(bad, ["schema"])


def test_views(client):
    _table(client)
    client.insert_rows_json("ds1.t1", ROWS)
    view = bigquery.Table(f"{PROJECT}.ds1.v1")
    view.view_query = f"SELECT id, name FROM `{PROJECT}.ds1.t1` WHERE id > 1"
    client.create_table(view)
    assert client.get_table("ds1.v1").table_type == "VIEW"
    assert [r.id for r in client.query("SELECT id FROM ds1.v1 ORDER BY id").result()] == [2, 3]


# --------------------------------------------------------------------------------------
# writing rows
# --------------------------------------------------------------------------------------
def test_insert_rows_json_and_read_back_all_types(client):
    _table(client)
    assert client.insert_rows_json("ds1.t1", ROWS) == []
    rows = list(client.query("SELECT * FROM ds1.t1 ORDER BY id").result())
    first = rows[0]
    assert first.tensor == [0.1, 0.2, 0.3]
    assert first.created == dt.datetime(2024, 1, 2, 3, 4, 5)
    assert first.ts == dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
    assert first.price == decimal.Decimal("1.25")
    assert first.blob == b"\x00\x01"
    assert first.ok is True
    assert first.meta == {"a": 1}
    assert first.d == dt.date(2024, 1, 1)
    assert first.tm == dt.time(12, 34, 56, 500000)
    assert first.rec == {"k": "x", "v": 1}
    assert rows[1].ok is False and rows[1].name == "b"
    assert rows[2].tensor == [] and rows[2].name is None and rows[2].rec is None
    # plain datetimes, never freezegun's FakeDatetime
    assert type(first.created).__module__ == "datetime" and type(first.ts).__module__ == "datetime"


def test_insert_errors_unknown_field_stops_the_request(client):
    _table(client)
    errors = client.insert_rows_json("ds1.t1", [{"id": 9, "nope": 1}, {"id": 10}])
    assert errors == [
        {"index": 0, "errors": [{"reason": "invalid", "location": "nope", "debugInfo": "",
                                 "message": "no such field."}]},
        {"index": 1, "errors": [{"reason": "stopped", "location": "", "debugInfo": "", "message": ""}]},
    ]
    assert client.get_table("ds1.t1").num_rows == 0


def test_insert_errors_bad_value_and_missing_required(client):
    _table(client)
    errors = client.insert_rows_json("ds1.t1", [{"id": "abc"}, {"name": "no id"}, {"id": 3}])
    assert errors[0]["errors"][0]["location"] == "id"
    assert "Cannot convert value to integer (bad value): abc" in errors[0]["errors"][0]["message"]
    assert errors[1]["errors"][0]["message"] == "Missing required field: id."
    assert errors[2]["errors"][0]["reason"] == "stopped"
    assert client.get_table("ds1.t1").num_rows == 0


def test_skip_invalid_rows_and_ignore_unknown_values(client):
    _table(client)
    errors = client.insert_rows_json("ds1.t1", [{"id": "abc"}, {"id": 2}], skip_invalid_rows=True)
    assert [e["index"] for e in errors] == [0]
    assert client.get_table("ds1.t1").num_rows == 1
    assert client.insert_rows_json("ds1.t1", [{"id": 5, "nope": 1}], ignore_unknown_values=True) == []
    assert client.get_table("ds1.t1").num_rows == 2


def test_insert_rows_with_python_values_and_dataframe(client):
    table = _table(client)
    errors = client.insert_rows(table, [{"id": 1, "created": dt.datetime(2024, 5, 6, 7, 8, 9, 123456),
                                         "ts": dt.datetime(2024, 6, 1, tzinfo=dt.UTC),
                                         "price": decimal.Decimal("2.5"), "blob": b"xyz", "d": dt.date(2024, 12, 31)}])
    assert errors == []
    df = pd.DataFrame({"id": [2, 3], "tensor": [[1.0, 2.0], []], "meta": ['{"b": [1,2]}', {"c": 1}]})
    assert client.insert_rows_from_dataframe(table, df) == [[]]
    out = client.query("SELECT id, blob, tensor, meta FROM ds1.t1 ORDER BY id").to_dataframe()
    assert out["id"].tolist() == [1, 2, 3]
    assert out["blob"][0] == b"xyz"
    assert list(out["tensor"][1]) == [1.0, 2.0]
    # the client json.dumps JSON cells: a str becomes a JSON string value, a dict an object
    assert json.loads(out["meta"][1]) == '{"b": [1,2]}'
    assert json.loads(out["meta"][2]) == {"c": 1}


def test_insert_id_dedupes_retries_within_a_minute(client, emulator):
    _table(client)
    client.insert_rows_json("ds1.t1", [{"id": 1}], row_ids=["r1"])
    client.insert_rows_json("ds1.t1", [{"id": 1}], row_ids=["r1"])
    assert client.get_table("ds1.t1").num_rows == 1
    emulator.clock.advance(61)
    client.insert_rows_json("ds1.t1", [{"id": 1}], row_ids=["r1"])
    assert client.get_table("ds1.t1").num_rows == 2


def test_insert_into_missing_table(client):
    with pytest.raises(exceptions.NotFound, match="Not found: Table my-proj:ds1.nope"):
        client.insert_rows_json("ds1.nope", [{"a": 1}])


# --------------------------------------------------------------------------------------
# reading
# --------------------------------------------------------------------------------------
def test_to_dataframe_dtypes(client):
    _table(client)
    client.insert_rows_json("ds1.t1", ROWS)
    df = client.query("SELECT * FROM `my-proj.ds1.t1` ORDER BY id").to_dataframe()
    assert str(df["id"].dtype) == "Int64"
    assert str(df["created"].dtype).startswith("datetime64")
    assert str(df["ts"].dtype).startswith("datetime64") and "UTC" in str(df["ts"].dtype)
    assert str(df["ok"].dtype) == "boolean"
    assert str(df["d"].dtype) == "dbdate"
    assert list(df["tensor"][2]) == [] and list(df["tensor"][0]) == [0.1, 0.2, 0.3]


def test_to_arrow_schema(client):
    _table(client)
    client.insert_rows_json("ds1.t1", ROWS)
    table = client.query("SELECT id, tensor, ts FROM ds1.t1 ORDER BY id").to_arrow()
    assert table.schema.field("id").type == pa.int64()
    assert table.schema.field("tensor").type.value_type == pa.float64()
    assert table.schema.field("ts").type == pa.timestamp("us", tz="UTC")
    assert table.num_rows == 3


def test_query_paging_and_list_rows_paging(client):
    client.query("CREATE TABLE ds1.nums AS SELECT * FROM UNNEST(GENERATE_ARRAY(1, 25)) AS n").result()
    job = client.query("SELECT n FROM ds1.nums ORDER BY n")
    assert [r.n for r in job.result(page_size=4)] == list(range(1, 26))
    pages = list(client.list_rows("ds1.nums", page_size=10).pages)
    assert [p.num_items for p in pages] == [10, 10, 5]
    assert [r.n for r in client.list_rows("ds1.nums", max_results=3)] == [1, 2, 3]
    assert [r.n for r in client.list_rows("ds1.nums", start_index=23)] == [24, 25]


def test_list_rows_selected_fields(client):
    table = _table(client)
    client.insert_rows_json("ds1.t1", ROWS)
    rows = list(client.list_rows(table, selected_fields=[bigquery.SchemaField("name", "STRING")]))
    assert [r.name for r in rows] == ["a", "b", None]


def test_query_and_wait_and_api_method_query(client):
    rows = client.query_and_wait("SELECT 1 AS x, 'a' AS y")
    assert [tuple(r) for r in rows] == [(1, "a")]
    job = client.query("SELECT 2 AS x", api_method="QUERY")
    assert [r.x for r in job.result()] == [2]


def test_query_parameters_named_positional_array_struct(client):
    cfg = bigquery.QueryJobConfig(query_parameters=[
        bigquery.ScalarQueryParameter("n", "INT64", 5),
        bigquery.ScalarQueryParameter("s", "STRING", "hi"),
        bigquery.ArrayQueryParameter("arr", "INT64", [1, 2, 3]),
        bigquery.ScalarQueryParameter("ts", "TIMESTAMP", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
        bigquery.StructQueryParameter("st", bigquery.ScalarQueryParameter("a", "INT64", 7)),
    ])
    row = list(client.query("SELECT @n + 1 AS n, @s AS s, ARRAY_LENGTH(@arr) AS l, @ts AS ts, @st.a AS a",
                            job_config=cfg).result())[0]
    assert (row.n, row.s, row.l, row.a) == (6, "hi", 3, 7)
    assert row.ts == dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    cfg = bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter(None, "FLOAT64", 1.5),
                                                    bigquery.ScalarQueryParameter(None, "BOOL", True)])
    assert [tuple(r) for r in client.query("SELECT ? * 2, NOT ?", job_config=cfg).result()] == [(3.0, False)]


def test_dml_statistics(client):
    client.query("CREATE TABLE ds1.t (id INT64, v STRING)").result()
    job = client.query("INSERT INTO ds1.t (id, v) VALUES (1, 'a'), (2, 'b')")
    job.result()
    assert job.num_dml_affected_rows == 2 and job.statement_type == "INSERT"
    job = client.query("UPDATE ds1.t SET v = 'z' WHERE true")
    job.result()
    assert job.num_dml_affected_rows == 2
    job = client.query("DELETE FROM ds1.t WHERE id = 1")
    job.result()
    assert job.num_dml_affected_rows == 1
    job = client.query("MERGE ds1.t T USING (SELECT 2 AS id UNION ALL SELECT 3) S ON T.id = S.id "
                       "WHEN MATCHED THEN UPDATE SET v = 'm' WHEN NOT MATCHED THEN INSERT (id, v) VALUES (S.id, 'n')")
    job.result()
    assert job.num_dml_affected_rows == 2
    assert client.query_and_wait("UPDATE ds1.t SET v = 'q' WHERE id = 3").num_dml_affected_rows == 1
    assert sorted(tuple(r) for r in client.query("SELECT id, v FROM ds1.t").result()) == [(2, "m"), (3, "q")]


def test_ddl_via_query(client):
    client.query("CREATE TABLE `my-proj.ds1.d1` (time DATETIME, in_tensor ARRAY<FLOAT64>, "
                 "out_variable ARRAY<FLOAT64>, check_failures INT64)").result()
    schema = client.get_table("ds1.d1").schema
    assert [(f.name, f.field_type, f.mode) for f in schema] == [
        ("time", "DATETIME", "NULLABLE"), ("in_tensor", "FLOAT", "REPEATED"),
        ("out_variable", "FLOAT", "REPEATED"), ("check_failures", "INTEGER", "NULLABLE")]
    with pytest.raises(exceptions.Conflict):
        client.query("CREATE TABLE ds1.d1 (a INT64)").result()
    client.query("CREATE TABLE IF NOT EXISTS ds1.d1 (a INT64)").result()
    client.query("CREATE OR REPLACE TABLE ds1.d1 AS SELECT 1 AS a, 'x' AS b").result()
    assert [f.name for f in client.get_table("ds1.d1").schema] == ["a", "b"]
    client.query("ALTER TABLE ds1.d1 ADD COLUMN c FLOAT64").result()
    assert [f.name for f in client.get_table("ds1.d1").schema] == ["a", "b", "c"]
    client.query("DROP TABLE ds1.d1").result()
    with pytest.raises(exceptions.NotFound):
        client.get_table("ds1.d1")
    client.query("DROP TABLE IF EXISTS ds1.d1").result()


def test_dry_run_reports_schema_without_running(client):
    client.query("CREATE TABLE ds1.t (id INT64)").result()
    job = client.query("INSERT INTO ds1.t VALUES (1)", job_config=bigquery.QueryJobConfig(dry_run=True))
    assert job.state == "DONE"
    assert client.get_table("ds1.t").num_rows == 0
    job = client.query("SELECT id, 'a' AS s FROM ds1.t", job_config=bigquery.QueryJobConfig(dry_run=True))
    assert [f.name for f in job.schema] == ["id", "s"]


def test_default_dataset(client):
    client.query("CREATE TABLE ds1.t (id INT64)").result()
    client.insert_rows_json("ds1.t", [{"id": 4}])
    cfg = bigquery.QueryJobConfig(default_dataset=f"{PROJECT}.ds1")
    assert [r.id for r in client.query("SELECT id FROM t", job_config=cfg).result()] == [4]


def test_query_errors(client):
    with pytest.raises(exceptions.BadRequest) as info:
        client.query("SELEC 1").result()
    assert "Syntax error" in str(info.value)
    with pytest.raises(exceptions.BadRequest):
        client.query_and_wait("SELEC 1")
    with pytest.raises(exceptions.NotFound, match="Not found: Table my-proj:ds1.nope was not found in location US"):
        client.query("SELECT * FROM ds1.nope").result()
    with pytest.raises(exceptions.NotFound, match="Not found: Dataset my-proj:nods"):
        client.query("SELECT * FROM nods.t").result()


def test_failed_dml_leaves_rows_unchanged(client):
    client.query("CREATE TABLE ds1.t (id INT64 NOT NULL, v STRING)").result()
    client.insert_rows_json("ds1.t", [{"id": 1, "v": "a"}])
    with pytest.raises(exceptions.GoogleAPICallError):
        client.query("INSERT INTO ds1.t (id, v) VALUES (2, 'b'), (NULL, 'c')").result()
    assert [tuple(r) for r in client.query("SELECT id, v FROM ds1.t").result()] == [(1, "a")]


def test_frozen_time_in_sql(client, emulator):
    row = list(client.query("SELECT CURRENT_TIMESTAMP() AS ts, CURRENT_DATE() AS d, CURRENT_DATETIME() AS dt")
               .result())[0]
    assert row.ts == dt.datetime(2023, 5, 10, 21, 0, tzinfo=dt.UTC)
    assert row.d == dt.date(2023, 5, 10)
    assert row.dt == dt.datetime(2023, 5, 10, 21, 0)
    emulator.clock.advance(3600)
    row = list(client.query("SELECT CURRENT_TIMESTAMP() AS ts").result())[0]
    assert row.ts == dt.datetime(2023, 5, 10, 22, 0, tzinfo=dt.UTC)
    job = client.query("SELECT 1")
    job.result()
    assert job.created == dt.datetime(2023, 5, 10, 22, 0, tzinfo=dt.UTC)


# --------------------------------------------------------------------------------------
# loads
# --------------------------------------------------------------------------------------
def test_load_table_from_dataframe_new_and_existing(client):
    df = pd.DataFrame({"id": [1, 2], "tensor": [[1.0, 2.0], [3.0]], "name": ["a", "b"]})
    job = client.load_table_from_dataframe(df, "ds1.new")
    assert job.result().output_rows == 2
    schema = {f.name: (f.field_type, f.mode) for f in client.get_table("ds1.new").schema}
    assert schema["tensor"] == ("FLOAT", "REPEATED") and schema["id"][0] == "INTEGER"
    client.load_table_from_dataframe(df, "ds1.new").result()
    assert client.get_table("ds1.new").num_rows == 4
    cfg = bigquery.LoadJobConfig(write_disposition="WRITE_TRUNCATE")
    client.load_table_from_dataframe(df.head(1), "ds1.new", job_config=cfg).result()
    assert client.get_table("ds1.new").num_rows == 1
    cfg = bigquery.LoadJobConfig(write_disposition="WRITE_EMPTY")
    with pytest.raises(exceptions.Conflict):
        client.load_table_from_dataframe(df, "ds1.new", job_config=cfg).result()
    cfg = bigquery.LoadJobConfig(create_disposition="CREATE_NEVER")
    with pytest.raises(exceptions.NotFound):
        client.load_table_from_dataframe(df, "ds1.never", job_config=cfg).result()


def test_load_table_from_json_and_files(client):
    client.query("CREATE TABLE ds1.t (id INT64, name STRING, tensor ARRAY<FLOAT64>)").result()
    assert client.load_table_from_json([{"id": 1, "name": "a", "tensor": [1.5]}], "ds1.t").result().output_rows == 1
    ndjson = b'{"id": 2, "name": "b"}\n{"id": 3, "tensor": [2.0]}\n'
    cfg = bigquery.LoadJobConfig(source_format="NEWLINE_DELIMITED_JSON")
    client.load_table_from_file(io.BytesIO(ndjson), "ds1.t", job_config=cfg).result()
    csv = b"id,name\n4,d\n5,e\n"
    cfg = bigquery.LoadJobConfig(source_format="CSV", skip_leading_rows=1,
                                 schema=[bigquery.SchemaField("id", "INT64"), bigquery.SchemaField("name", "STRING")])
    client.load_table_from_file(io.BytesIO(csv), "ds1.csvt", job_config=cfg).result()
    assert [tuple(r) for r in client.query("SELECT id, name FROM ds1.csvt ORDER BY id").result()] == [(4, "d"), (5, "e")]
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.table({"id": [6], "name": ["f"]}), buf)
    cfg = bigquery.LoadJobConfig(source_format="PARQUET")
    client.load_table_from_file(io.BytesIO(buf.getvalue()), "ds1.t", job_config=cfg).result()
    import fastavro

    avro = io.BytesIO()
    fastavro.writer(avro, {"type": "record", "name": "r", "fields": [{"name": "id", "type": "long"},
                                                                     {"name": "name", "type": "string"}]},
                    [{"id": 7, "name": "g"}])
    cfg = bigquery.LoadJobConfig(source_format="AVRO")
    client.load_table_from_file(io.BytesIO(avro.getvalue()), "ds1.t", job_config=cfg).result()
    ids = [r.id for r in client.query("SELECT id FROM ds1.t ORDER BY id").result()]
    assert ids == [1, 2, 3, 6, 7]


def test_bad_load_keeps_rows(client):
    client.query("CREATE TABLE ds1.t (id INT64)").result()
    client.insert_rows_json("ds1.t", [{"id": 1}])
    cfg = bigquery.LoadJobConfig(source_format="NEWLINE_DELIMITED_JSON")
    with pytest.raises(exceptions.BadRequest):
        client.load_table_from_file(io.BytesIO(b'{"id": 2}\n{"id": "x"}\n'), "ds1.t", job_config=cfg).result()
    assert client.get_table("ds1.t").num_rows == 1


def test_large_load_goes_through_resumable_upload(client):
    n = 400_000
    df = pd.DataFrame({"id": range(n), "x": [float(i) for i in range(n)]})
    client.load_table_from_dataframe(df, "ds1.big").result()
    assert list(client.query("SELECT COUNT(*) AS c, SUM(id) AS s FROM ds1.big").result())[0].c == n


# --------------------------------------------------------------------------------------
# the tutorial's tables
# --------------------------------------------------------------------------------------
def test_tutorial_tables(client):
    client.query(f"CREATE TABLE `{PROJECT}.ds1.inputs` (tensor ARRAY<FLOAT64>)").result()
    client.query(f"CREATE TABLE `{PROJECT}.ds1.outputs` (time DATETIME, in_tensor ARRAY<FLOAT64>, "
                 "out_variable ARRAY<FLOAT64>, check_failures INT64)").result()
    client.insert_rows_json("ds1.inputs", [{"tensor": [float(i)] * 18} for i in range(10)])
    frame = client.query("SELECT tensor FROM ds1.inputs").to_dataframe()
    assert frame.shape == (10, 1) and len(frame["tensor"][0]) == 18
    out = pd.DataFrame({
        "time": pd.to_datetime([1683752400000 + i for i in range(10)], unit="ms"),
        "in_tensor": frame["tensor"].tolist(),
        "out_variable": [[float(i) * 1000] for i in range(10)],
        "check_failures": [0] * 10,
    })
    table = client.get_table("ds1.outputs")
    assert client.insert_rows_from_dataframe(table, out) == [[]]
    latest = client.query("SELECT * FROM ds1.outputs ORDER BY time DESC LIMIT 5").to_dataframe()
    assert len(latest) == 5
    assert latest["out_variable"].tolist()[0] == [9000.0]
    assert latest["time"].iloc[0] == pd.Timestamp("2023-05-10 21:00:00.009")


# --------------------------------------------------------------------------------------
# endpoints, credentials, isolation
# --------------------------------------------------------------------------------------
def test_service_account_credentials_and_token_exchange(emulator):
    from google.oauth2 import service_account

    info = emulator.service_account_info("sa-proj", extra={"dataset": "d", "table": "t"})
    assert info["dataset"] == "d" and info["type"] == "service_account"
    creds = service_account.Credentials.from_service_account_info(info)
    client = bigquery.Client(credentials=creds, project=info["project_id"])
    client.create_dataset("d")
    assert [d.dataset_id for d in client.list_datasets()] == ["d"]
    assert client._credentials.token.startswith("ya29.")


def test_service_account_key_is_deterministic(emulator):
    a = emulator.service_account_info("p1")
    b = Emulator(seed=emulator.seed).service_account_info("p1")
    assert a == b
    assert "BEGIN PRIVATE KEY" in a["private_key"]


def test_emulator_host_and_api_endpoint(monkeypatch):
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials

    with Emulator():
        client = bigquery.Client(project="p", credentials=AnonymousCredentials(),
                                 client_options=ClientOptions(api_endpoint=BIGQUERY_EMULATOR_URL))
        client.create_dataset("viaendpoint")
        assert client.get_dataset("viaendpoint").dataset_id == "viaendpoint"
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", "http://localhost:9050")
    with Emulator():
        client = bigquery.Client(project="p", credentials=AnonymousCredentials())
        client.create_dataset("viaenv")
        assert [d.dataset_id for d in client.list_datasets()] == ["viaenv"]


def test_unknown_path_fails_loudly(emulator):
    import requests

    response = requests.get("https://bigquery.googleapis.com/bigquery/v2/nowhere")
    assert response.status_code == 404
    assert "GET /bigquery/v2/nowhere" in response.json()["error"]["message"]


def test_sequential_emulators_share_nothing():
    with Emulator() as first:
        first.bigquery_client(project="p").create_dataset("only_in_first")
    with Emulator() as second:
        assert list(second.bigquery_client(project="p").list_datasets()) == []


def test_second_active_emulator_is_refused(emulator):
    with pytest.raises(EmulatorError, match="already active"), Emulator():
        pass


def test_persistent_database_file(tmp_path):
    path = tmp_path / "bq.duckdb"
    with Emulator(database=path) as emu:
        client = emu.bigquery_client(project="p")
        client.create_dataset("keep")
        client.query("CREATE TABLE keep.t (id INT64, tensor ARRAY<FLOAT64>)").result()
        client.insert_rows_json("keep.t", [{"id": 1, "tensor": [1.0]}])
    emu.close()
    with Emulator(database=path) as emu2:
        client = emu2.bigquery_client(project="p")
        assert [f.mode for f in client.get_table("keep.t").schema] == ["NULLABLE", "REPEATED"]
        assert [tuple(r) for r in client.query("SELECT id, tensor FROM keep.t").result()] == [(1, [1.0])]
    emu2.close()


def test_threads_can_use_the_client(client):
    client.query("CREATE TABLE ds1.t (id INT64)").result()
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for j in range(5):
                assert client.insert_rows_json("ds1.t", [{"id": i * 100 + j}]) == []
                list(client.query("SELECT COUNT(*) FROM ds1.t").result())
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert client.get_table("ds1.t").num_rows == 20


def test_backend_api_without_http(emulator):
    bq = emulator.bigquery
    bq.create_dataset("p", "d")
    bq.create_table("p", "d", "t", [{"name": "x", "type": "FLOAT64", "mode": "REPEATED"}])
    assert bq.insert_rows("p", "d", "t", [{"x": [1, 2]}]) == []
    assert bq.query("SELECT x FROM d.t", project="p").to_pylist() == [{"x": [1.0, 2.0]}]
    assert bq.row_count("p", "d", "t") == 1


def test_malformed_and_oversized_requests_get_bigquery_errors(client):
    import requests

    base = "https://bigquery.googleapis.com/bigquery/v2/projects/my-proj"
    response = requests.post(f"{base}/datasets", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.json()["error"]["errors"][0]["reason"] == "invalid"
    assert "Invalid JSON payload received" in response.json()["error"]["message"]
    response = requests.post(f"{base}/datasets", json={"datasetReference": {"projectId": "my-proj"}})
    assert response.status_code == 400 and "datasetId" in response.json()["error"]["message"]
    client.query("CREATE TABLE ds1.t (s STRING)").result()
    with pytest.raises(exceptions.BadRequest, match="Request payload size exceeds the limit"):
        client.insert_rows_json("ds1.t", [{"s": "x" * 1_000_000} for _ in range(11)])
    assert client.get_table("ds1.t").num_rows == 0


def test_type_mismatch_in_dml_is_a_bad_request(client):
    client.query("CREATE TABLE ds1.t (n INT64)").result()
    with pytest.raises(exceptions.BadRequest):
        client.query("INSERT INTO ds1.t (n) VALUES ('not a number')").result()
    assert client.get_table("ds1.t").num_rows == 0


def test_strings_are_escaped_and_nested_repeated_records_round_trip(client):
    schema = [bigquery.SchemaField("s", "STRING"), bigquery.SchemaField("j", "JSON"),
              bigquery.SchemaField("recs", "RECORD", mode="REPEATED", fields=[
                  bigquery.SchemaField("name", "STRING"),
                  bigquery.SchemaField("vals", "INT64", mode="REPEATED"),
                  bigquery.SchemaField("inner", "RECORD", fields=[bigquery.SchemaField("t", "TIMESTAMP")])])]
    client.create_table(bigquery.Table(f"{PROJECT}.ds1.n", schema=schema))
    tricky = 'quote " backslash \\ newline \n tab \t unicode é 中 \u0001'
    rows = [{"s": tricky, "j": {"k": tricky}, "recs": [
        {"name": "a", "vals": [1, 2], "inner": {"t": "2024-01-01T00:00:00Z"}},
        {"name": None, "vals": [], "inner": None}]}, {"s": None, "recs": []}]
    assert client.insert_rows_json("ds1.n", rows) == []
    got = list(client.query("SELECT * FROM ds1.n ORDER BY s NULLS LAST").result())
    assert got[0].s == tricky and got[0].j == {"k": tricky}
    assert got[0].recs == [{"name": "a", "vals": [1, 2], "inner": {"t": dt.datetime(2024, 1, 1, tzinfo=dt.UTC)}},
                           {"name": None, "vals": [], "inner": None}]
    assert got[1].s is None and got[1].recs == []
    listed = list(client.list_rows("ds1.n"))
    assert sorted(r.s or "" for r in listed) == sorted([tricky, ""])


def test_destination_table_copy_jobs_and_job_listing(client):
    client.query("CREATE TABLE ds1.src AS SELECT n FROM UNNEST(GENERATE_ARRAY(1, 10)) AS n").result()
    cfg = bigquery.QueryJobConfig(destination=f"{PROJECT}.ds1.dst", write_disposition="WRITE_TRUNCATE")
    job = client.query("SELECT n FROM ds1.src WHERE n > 5", job_config=cfg)
    assert job.result().total_rows == 5
    assert client.get_table("ds1.dst").num_rows == 5
    client.query("SELECT n FROM ds1.src WHERE n > 8", job_config=cfg).result()
    assert client.get_table("ds1.dst").num_rows == 2
    copy = client.copy_table("ds1.src", "ds1.cpy")
    assert copy.result().state == "DONE"
    assert client.get_table("ds1.cpy").num_rows == 10
    fetched = client.get_job(job.job_id)
    assert fetched.state == "DONE" and fetched.job_id == job.job_id
    assert job.job_id in {j.job_id for j in client.list_jobs()}
    with pytest.raises(exceptions.NotFound):
        client.get_job("no-such-job")


def test_dbapi_cursor_with_named_parameters(client):
    from google.cloud.bigquery import dbapi

    client.query("CREATE TABLE ds1.src AS SELECT n FROM UNNEST(GENERATE_ARRAY(1, 5)) AS n").result()
    connection = dbapi.connect(client)
    cursor = connection.cursor()
    cursor.execute("SELECT n FROM ds1.src WHERE n < %(m)s ORDER BY n", {"m": 3})
    assert [tuple(row) for row in cursor.fetchall()] == [(1,), (2,)]
    cursor.execute("SELECT COUNT(*) FROM ds1.src WHERE n > %s", (1,))
    assert tuple(cursor.fetchone()) == (4,)
    connection.close()


def test_a_failed_statement_rolls_back_the_catalog_with_the_data(client):
    # as in BigQuery, statements before the failing one keep their effects, unless a transaction is open
    client.query("CREATE TABLE ds1.a (x INT64)").result()
    client.insert_rows_json("ds1.a", [{"x": 1}])
    client.query("CREATE TABLE ds1.b (x INT64)").result()
    for script in ("CREATE TABLE ds1.new AS SELECT 1/0 AS z",
                   "ALTER TABLE ds1.b ADD COLUMN y STRING, ADD COLUMN x INT64",
                   "BEGIN TRANSACTION; ALTER TABLE ds1.b RENAME TO c; SELECT 1/0; COMMIT TRANSACTION",
                   "BEGIN TRANSACTION; DROP TABLE ds1.a; CREATE TABLE ds1.other (z INT64); SELECT 1/0"):
        with pytest.raises(exceptions.BadRequest):
            client.query(script).result()
    assert sorted(t.table_id for t in client.list_tables("ds1")) == ["a", "b"]
    assert [f.name for f in client.get_table("ds1.b").schema] == ["x"]
    assert [r.x for r in client.query("SELECT x FROM ds1.a").result()] == [1]
    with pytest.raises(exceptions.BadRequest, match="division by zero"):
        client.query("DROP TABLE ds1.a; SELECT 1/0").result()
    assert [t.table_id for t in client.list_tables("ds1")] == ["b"]
