"""Dataset locations, errors of the catalog API, and row order without ORDER BY, through the real client."""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from emulator import Emulator


@pytest.fixture
def emu() -> Any:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def bq(emu: Any) -> Any:
    return emu.bigquery_client(project="p")


def test_deleting_a_dataset_that_still_has_tables_is_resource_in_use(bq: Any) -> None:
    bq.create_dataset("d")
    bq.query("CREATE TABLE d.t (x INT64)").result()
    with pytest.raises(exceptions.BadRequest) as info:
        bq.delete_dataset("d")
    assert [e["reason"] for e in info.value.errors] == ["resourceInUse"]
    assert "Dataset p:d is still in use" in str(info.value)
    bq.delete_dataset("d", delete_contents=True)
    with pytest.raises(exceptions.NotFound):
        bq.get_dataset("d")


@pytest.mark.parametrize("location", ["us-central1", "europe-west2", "asia-northeast1", "EU", "US",
                                      "australia-southeast1", "northamerica-northeast1"])
def test_datasets_keep_any_bigquery_location(bq: Any, location: str) -> None:
    dataset = bigquery.Dataset("p.d")
    dataset.location = location
    created = bq.create_dataset(dataset)
    assert created.location == location
    assert bq.get_dataset("d").location == location
    assert [d._properties["location"] for d in bq.list_datasets()] == [location]
    bq.query("CREATE TABLE d.t (x INT64)").result()
    assert bq.get_table("p.d.t").location == location


@pytest.mark.parametrize("location", ["nowhere", "us-central", "moon-base1x"])
def test_an_unknown_location_is_refused(bq: Any, location: str) -> None:
    dataset = bigquery.Dataset("p.d")
    dataset.location = location
    with pytest.raises(exceptions.BadRequest, match=location):
        bq.create_dataset(dataset)


def test_a_query_runs_in_the_location_of_its_datasets(bq: Any) -> None:
    dataset = bigquery.Dataset("p.tokyo")
    dataset.location = "asia-northeast1"
    bq.create_dataset(dataset)
    bq.query("CREATE TABLE tokyo.t AS SELECT 1 AS x").result()
    job = bq.query("SELECT x FROM tokyo.t")
    assert [row.x for row in job.result()] == [1]
    assert job.location == "asia-northeast1"
    assert bq.get_job(job.job_id, location="asia-northeast1").location == "asia-northeast1"
    loaded = bq.load_table_from_json([{"x": 2}], "p.tokyo.t")
    loaded.result()
    assert loaded.location == "asia-northeast1"


def test_a_query_in_another_location_does_not_find_the_dataset(bq: Any) -> None:
    dataset = bigquery.Dataset("p.london")
    dataset.location = "europe-west2"
    bq.create_dataset(dataset)
    bq.query("CREATE TABLE london.t AS SELECT 1 AS x").result()
    with pytest.raises(exceptions.NotFound, match="Not found: Dataset p:london was not found in location US"):
        bq.query("SELECT x FROM london.t", location="US").result()
    job = bq.query("SELECT x FROM london.t", location="europe-west2")
    assert [row.x for row in job.result()] == [1] and job.location == "europe-west2"


def test_repeating_a_query_without_order_by_repeats_its_row_order(emu: Any) -> None:
    backend = emu.bigquery
    backend.create_dataset("p", "d")
    backend.query("CREATE TABLE d.t AS SELECT MOD(i * 7919, 100003) AS k, MOD(i, 1000) AS g "
                  "FROM UNNEST(GENERATE_ARRAY(1, 200000)) AS i", project="p")
    for sql in ("SELECT DISTINCT g FROM d.t", "SELECT g, COUNT(*) AS n FROM d.t GROUP BY g",
                "SELECT a.g FROM (SELECT DISTINCT g FROM d.t) AS a JOIN (SELECT DISTINCT k FROM d.t) AS b ON a.g = b.k"):
        orders = {tuple(backend.query(sql, project="p").column(0).to_pylist()) for _ in range(4)}
        assert len(orders) == 1, sql


def test_iam_policies_are_refused_clearly(bq: Any) -> None:
    bq.create_dataset("d")
    bq.query("CREATE TABLE d.t (x INT64)").result()
    with pytest.raises(exceptions.BadRequest, match="getIamPolicy is not supported by wallaroo-emulator"):
        bq.get_iam_policy("p.d.t")


def test_legacy_sql_is_refused_clearly(bq: Any) -> None:
    with pytest.raises(exceptions.BadRequest, match="Legacy SQL is not supported by wallaroo-emulator"):
        bq.query("SELECT 1", job_config=bigquery.QueryJobConfig(use_legacy_sql=True)).result()
