"""RANGE<DATE|DATETIME|TIMESTAMP>: literals, RANGE()/RANGE_START/RANGE_END, results typed RANGE,
and RANGE columns written by insertAll and CSV/NDJSON loads (the ``[start, end)`` text form)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

PROJECT = "range-proj"

pytestmark = pytest.mark.bigquery_project(PROJECT)

UTC = dt.UTC


@pytest.fixture
def client(bigquery_client):
    bigquery_client.create_dataset("ds")
    return bigquery_client


def _one(client, sql):
    job = client.query(sql)
    rows = list(job.result())
    return rows[0][0], job.result().schema[0]


def test_range_literals_are_typed_range(client):
    value, field = _one(client, "SELECT RANGE<DATE> '[UNBOUNDED, 2016-12-05)'")
    assert value == {"start": None, "end": dt.date(2016, 12, 5)}
    assert field.field_type == "RANGE" and field.range_element_type.element_type == "DATE"
    value, field = _one(client, "SELECT RANGE<DATETIME> '[2020-01-01 10:00:00, 2020-01-02 00:00:00)'")
    assert value == {"start": dt.datetime(2020, 1, 1, 10), "end": dt.datetime(2020, 1, 2)}
    assert field.range_element_type.element_type == "DATETIME"
    value, field = _one(client, "SELECT RANGE<TIMESTAMP> '[2020-01-01 10:00:00+00, UNBOUNDED)'")
    assert value == {"start": dt.datetime(2020, 1, 1, 10, tzinfo=UTC), "end": None}
    assert field.range_element_type.element_type == "TIMESTAMP"
    assert _one(client, "SELECT CAST(NULL AS RANGE<DATE>)")[0] is None


def test_range_functions(client):
    rows = client.query("SELECT RANGE(DATE '2020-01-01', NULL) AS r, "
                        "RANGE_START(RANGE<DATE> '[2016-08-12, UNBOUNDED)') AS s, "
                        "RANGE_END(RANGE<DATE> '[2016-08-12, 2017-01-01)') AS e").result()
    [row] = list(rows)
    assert row.r == {"start": dt.date(2020, 1, 1), "end": None}
    assert (row.s, row.e) == (dt.date(2016, 8, 12), dt.date(2017, 1, 1))


def test_range_literal_must_be_well_formed(client):
    with pytest.raises(exceptions.BadRequest, match="RANGE"):
        client.query("SELECT RANGE<DATE> '2020-01-01'").result()
    with pytest.raises(exceptions.BadRequest, match="RANGE"):
        client.query("SELECT RANGE<DATE> '[2020-02-01, 2020-01-01)'").result()


def test_range_columns_through_insert_all_and_loads(client):
    schema = [bigquery.SchemaField("r", "RANGE", range_element_type="DATE"), bigquery.SchemaField("n", "INTEGER")]
    table = client.create_table(bigquery.Table(f"{PROJECT}.ds.t", schema=schema))
    assert client.insert_rows_json(table, [{"r": "[2020-01-01, 2020-02-01)", "n": 1}, {"r": None, "n": 2}]) == []
    config = bigquery.LoadJobConfig(source_format="CSV", schema=schema)
    client.load_table_from_file(io.BytesIO(b'"[UNBOUNDED, 2021-01-01)",3\n,4\n'), table, job_config=config).result()
    config = bigquery.LoadJobConfig(source_format="NEWLINE_DELIMITED_JSON", schema=schema)
    client.load_table_from_file(io.BytesIO(b'{"r": "[2022-01-01, UNBOUNDED)", "n": 5}\n'), table,
                                job_config=config).result()
    got = {row.n: row.r for row in client.list_rows(table)}
    assert got == {1: {"start": dt.date(2020, 1, 1), "end": dt.date(2020, 2, 1)}, 2: None,
                   3: {"start": None, "end": dt.date(2021, 1, 1)}, 4: None,
                   5: {"start": dt.date(2022, 1, 1), "end": None}}
    [row] = client.query("SELECT RANGE_END(r) AS e FROM ds.t WHERE n = 1").result()
    assert row.e == dt.date(2020, 2, 1)
    errors = client.insert_rows_json(table, [{"r": "2020-01-01", "n": 6}])
    assert errors and errors[0]["errors"][0]["reason"] == "invalid"


def test_sql_udf_with_a_range_argument(client):
    client.query("CREATE FUNCTION ds.first_day(x RANGE<DATE>) RETURNS DATE AS (RANGE_START(x))").result()
    [row] = client.query("SELECT ds.first_day(RANGE<DATE> '[2016-08-12, UNBOUNDED)') AS d").result()
    assert row.d == dt.date(2016, 8, 12)


def test_an_empty_line_of_a_one_column_csv_is_a_null_row(client):
    schema = [bigquery.SchemaField("r", "RANGE", range_element_type="DATE")]
    table = client.create_table(bigquery.Table(f"{PROJECT}.ds.one", schema=schema))
    config = bigquery.LoadJobConfig(source_format="CSV", schema=schema)
    client.load_table_from_file(io.BytesIO(b'"[2020-01-01, 2020-02-01)"\n\n'), table, job_config=config).result()
    assert [row.r for row in client.list_rows(table)] == [
        {"start": dt.date(2020, 1, 1), "end": dt.date(2020, 2, 1)}, None]
