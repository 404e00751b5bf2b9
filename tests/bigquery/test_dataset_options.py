"""Dataset options BigQuery stores and returns: case insensitivity (and its effect on table names),
time travel window, default rounding mode, default collation, storage billing model."""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

PROJECT = "opts-proj"

pytestmark = pytest.mark.bigquery_project(PROJECT)

SCHEMA = [bigquery.SchemaField("a", "INTEGER")]


def _dataset(client, name, **options):
    dataset = bigquery.Dataset(f"{PROJECT}.{name}")
    for key, value in options.items():
        setattr(dataset, key, value)
    return client.create_dataset(dataset)


def test_options_are_returned_and_kept(bigquery_client):
    created = _dataset(bigquery_client, "d", is_case_insensitive=True, max_time_travel_hours=48,
                       default_rounding_mode="ROUND_HALF_EVEN", storage_billing_model="PHYSICAL")
    assert created.is_case_insensitive is True
    assert int(created.max_time_travel_hours) == 48
    assert created.default_rounding_mode == "ROUND_HALF_EVEN"
    got = bigquery_client.get_dataset("d")
    assert (got.is_case_insensitive, int(got.max_time_travel_hours), got.default_rounding_mode,
            got.storage_billing_model) == (True, 48, "ROUND_HALF_EVEN", "PHYSICAL")
    got.max_time_travel_hours = 96
    assert int(bigquery_client.update_dataset(got, ["max_time_travel_hours"]).max_time_travel_hours) == 96


def test_a_plain_dataset_is_case_sensitive(bigquery_client):
    created = _dataset(bigquery_client, "plain")
    assert created.is_case_insensitive is False
    bigquery_client.create_table(bigquery.Table(f"{PROJECT}.plain.t1", schema=SCHEMA))
    with pytest.raises(exceptions.NotFound):
        bigquery_client.get_table("plain.T1")


@pytest.mark.parametrize("hours", ["50", "24", "192", "x"])
def test_time_travel_window_must_be_whole_days_from_two_to_seven(bigquery_client, hours):
    dataset = bigquery.Dataset(f"{PROJECT}.bad")
    dataset._properties["maxTimeTravelHours"] = hours  # the client checks this too; other callers may not
    with pytest.raises(exceptions.BadRequest, match="maxTimeTravelHours"):
        bigquery_client.create_dataset(dataset)


def test_unknown_rounding_mode_is_refused(bigquery_client):
    dataset = bigquery.Dataset(f"{PROJECT}.bad")
    dataset._properties["defaultRoundingMode"] = "ROUND_UP"
    with pytest.raises(exceptions.BadRequest, match="defaultRoundingMode"):
        bigquery_client.create_dataset(dataset)


def test_case_insensitive_dataset_finds_tables_in_any_case(bigquery_client):
    _dataset(bigquery_client, "ci", is_case_insensitive=True)
    bigquery_client.create_table(bigquery.Table(f"{PROJECT}.ci.test_table", schema=SCHEMA))
    got = bigquery_client.get_table("ci.Test_TaBLe")
    assert got.table_id == "test_table"
    with pytest.raises(exceptions.Conflict):
        bigquery_client.create_table(bigquery.Table(f"{PROJECT}.ci.TEST_TABLE", schema=SCHEMA))
    bigquery_client.insert_rows_json(f"{PROJECT}.ci.TEST_table", [{"a": 1}])
    assert [r.a for r in bigquery_client.list_rows(f"{PROJECT}.ci.Test_Table")] == [1]
    bigquery_client.delete_table(f"{PROJECT}.ci.TEST_TABLE")
    assert list(bigquery_client.list_tables("ci")) == []
