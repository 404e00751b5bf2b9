"""TIMESTAMP columns with ``timestampPrecision`` 12 keep picoseconds.

list_rows answers their values as int64 microseconds (truncated) by default and as the full
``2025-01-01T00:00:00.123456789012Z`` text with ``timestamp_precision=PICOSECOND``
(``formatOptions.timestampOutputFormat=ISO8601_STRING``); the client hands both over as strings.
"""

from __future__ import annotations

import io

import pytest
from google.api_core import exceptions
from google.cloud import bigquery
from google.cloud.bigquery import enums

PROJECT = "pico-proj"

pytestmark = pytest.mark.bigquery_project(PROJECT)

PICO = [bigquery.SchemaField("pico_col", "TIMESTAMP", timestamp_precision=enums.TimestampPrecision.PICOSECOND)]


@pytest.fixture
def table(bigquery_client):
    bigquery_client.create_dataset("ds")
    return bigquery_client.create_table(bigquery.Table(f"{PROJECT}.ds.p", schema=PICO))


def test_csv_load_keeps_picoseconds(bigquery_client, table):
    data = b"2025-01-01T00:00:00.123456789012Z\n2025-01-02 01:00:00.5+01:00\n\n"
    bigquery_client.load_table_from_file(io.BytesIO(data), table).result()
    assert bigquery_client.get_table(table).num_rows == 3
    full = [r["pico_col"] for r in bigquery_client.list_rows(
        table, timestamp_precision=enums.TimestampPrecision.PICOSECOND)]
    assert full == ["2025-01-01T00:00:00.123456789012Z", "2025-01-02T00:00:00.500000000000Z", None]
    truncated = [r["pico_col"] for r in bigquery_client.list_rows(table)]
    assert truncated == ["1735689600123456", "1735776000500000", None]


def test_insert_all_and_ndjson_keep_picoseconds(bigquery_client, table):
    assert bigquery_client.insert_rows_json(table, [{"pico_col": "1970-01-01T00:00:01.000000000001Z"}]) == []
    config = bigquery.LoadJobConfig(source_format="NEWLINE_DELIMITED_JSON")
    bigquery_client.load_table_from_file(io.BytesIO(b'{"pico_col": "2000-01-01T00:00:00Z"}\n'), table,
                                         job_config=config).result()
    full = [r["pico_col"] for r in bigquery_client.list_rows(
        table, timestamp_precision=enums.TimestampPrecision.PICOSECOND)]
    assert full == ["1970-01-01T00:00:01.000000000001Z", "2000-01-01T00:00:00.000000000000Z"]


def test_bad_picosecond_values_are_refused(bigquery_client, table):
    errors = bigquery_client.insert_rows_json(table, [{"pico_col": "2025-01-01T00:00:00.1234567890123Z"}])
    assert errors and errors[0]["errors"][0]["reason"] == "invalid"
    with pytest.raises(exceptions.BadRequest):
        bigquery_client.load_table_from_file(io.BytesIO(b"yesterday\n"), table).result()
