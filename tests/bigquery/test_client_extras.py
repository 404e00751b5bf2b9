"""Smaller pieces of the REST surface google-cloud-bigquery's system tests use."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import bigquery
from google.cloud.bigquery import dbapi

PROJECT = "extras-proj"

pytestmark = pytest.mark.bigquery_project(PROJECT)


def test_service_account_email(bigquery_client):
    email = bigquery_client.get_service_account_email()
    assert email.startswith("bq-") and email.endswith("@bigquery-encryption.iam.gserviceaccount.com")
    assert email == bigquery_client.get_service_account_email()  # stable for a project


def test_failed_job_keeps_its_parameters_as_strings(bigquery_client):
    config = bigquery.QueryJobConfig(query_parameters=[
        bigquery.ScalarQueryParameter("ts_value", "TIMESTAMP", 1.4810976e9)])
    with pytest.raises(exceptions.BadRequest):
        bigquery_client.query("SELECT TIMESTAMP_ADD(@ts_value, INTERVAL 1 HOUR)", job_id="failed_1",
                              job_config=config, job_retry=None).result()
    job = bigquery_client.get_job("failed_1")
    raw = job._properties["configuration"]["query"]["queryParameters"][0]["parameterValue"]["value"]
    assert isinstance(raw, str)
    with pytest.raises(ValueError):
        job.query_parameters  # noqa: B018 - the client cannot read a float as a TIMESTAMP


@pytest.mark.parametrize("name", ["select", "from", "order"])
def test_parameters_named_like_keywords(bigquery_client, name):
    cursor = dbapi.connect(bigquery_client).cursor()
    cursor.execute(f"SELECT %({name})s", {name: True})
    assert cursor.fetchall()[0][0] is True


def test_geography_values_are_stored_in_bigquerys_wkt_spelling(bigquery_client):
    import io

    bigquery_client.create_dataset("geo")
    schema = [bigquery.SchemaField("g", "GEOGRAPHY"), bigquery.SchemaField("n", "INTEGER")]
    table = bigquery_client.create_table(bigquery.Table(f"{PROJECT}.geo.t", schema=schema))
    assert bigquery_client.insert_rows_json(table, [{"g": "POINT(-135.0000 90.0000)", "n": 1}]) == []
    config = bigquery.LoadJobConfig(source_format="NEWLINE_DELIMITED_JSON", schema=schema)
    bigquery_client.load_table_from_file(io.BytesIO(b'{"g": "POINT(45.0000 -90.0000)", "n": 2}\n'), table,
                                         job_config=config).result()
    config = bigquery.LoadJobConfig(source_format="CSV", schema=schema)
    bigquery_client.load_table_from_file(io.BytesIO(b'"POINT(0.50 1.0)",3\n'), table, job_config=config).result()
    assert {r.n: r.g for r in bigquery_client.list_rows(table)} == {
        1: "POINT(-135 90)", 2: "POINT(45 -90)", 3: "POINT(0.5 1)"}
    errors = bigquery_client.insert_rows_json(table, [{"g": "POINT(0 91)", "n": 4}])
    assert errors and errors[0]["errors"][0]["reason"] == "invalid"
    with pytest.raises(exceptions.BadRequest):
        bigquery_client.load_table_from_file(io.BytesIO(b'"NOT WKT",5\n'), table, job_config=config).result()


def test_parquet_decimal_target_types(bigquery_client):
    import decimal
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    buffer = io.BytesIO()
    values = [decimal.Decimal("123.999999999999"), decimal.Decimal("99999999999999999999999999.999999999999")]
    pq.write_table(pa.table({"d": pa.array(values, type=pa.decimal128(38, 12))}), buffer)
    bigquery_client.create_dataset("dec")
    config = bigquery.LoadJobConfig(source_format="PARQUET", write_disposition="WRITE_TRUNCATE",
                                    decimal_target_types=["NUMERIC", "BIGNUMERIC", "STRING"])
    bigquery_client.load_table_from_file(io.BytesIO(buffer.getvalue()), f"{PROJECT}.dec.t", job_config=config).result()
    table = bigquery_client.get_table(f"{PROJECT}.dec.t")
    assert table.schema[0].field_type == "BIGNUMERIC"
    assert sorted(r.d for r in bigquery_client.list_rows(table)) == values
    config.decimal_target_types = ["NUMERIC"]
    with pytest.raises(exceptions.BadRequest, match="out of valid NUMERIC range"):
        bigquery_client.load_table_from_file(io.BytesIO(buffer.getvalue()), f"{PROJECT}.dec.t",
                                             job_config=config).result()
