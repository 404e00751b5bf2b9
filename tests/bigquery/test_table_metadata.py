"""Table and schema metadata the real client sends is stored and returned as BigQuery returns it.

Schema field attributes (defaultValueExpression, policyTags, maxLength/precision/scale,
roundingMode, timestampPrecision), parameterized types declared in DDL, time partitioning,
clustering and table constraints: what google-cloud-bigquery's own system tests check.
"""

from __future__ import annotations

import datetime as dt

import pytest
from google.api_core import exceptions
from google.cloud import bigquery
from google.cloud.bigquery import enums
from google.cloud.bigquery.schema import PolicyTagList
from google.cloud.bigquery.table import (
    ColumnReference,
    ForeignKey,
    PrimaryKey,
    TableConstraints,
    TableReference,
    TimePartitioning,
    TimePartitioningType,
)

PROJECT = "meta-proj"

pytestmark = pytest.mark.bigquery_project(PROJECT)


@pytest.fixture
def client(bigquery_client):
    bigquery_client.create_dataset("ds")
    return bigquery_client


def test_schema_field_attributes_round_trip(client):
    tags = PolicyTagList(names=[f"projects/{PROJECT}/locations/us/taxonomies/1/policyTags/2"])
    schema = [
        bigquery.SchemaField("s", "STRING", max_length=9, default_value_expression="'FOO'"),
        bigquery.SchemaField("n", "NUMERIC", precision=9, scale=2, rounding_mode="ROUND_HALF_EVEN"),
        bigquery.SchemaField("secret", "INTEGER", mode="REQUIRED", description="numeric", policy_tags=tags),
        bigquery.SchemaField("ts", "TIMESTAMP", timestamp_precision=enums.TimestampPrecision.PICOSECOND),
    ]
    created = client.create_table(bigquery.Table(f"{PROJECT}.ds.t", schema=schema))
    assert created.schema == schema
    got = client.get_table("ds.t")
    assert got.schema == schema
    assert got.schema[0].max_length == 9 and got.schema[1].precision == 9 and got.schema[1].scale == 2
    assert got.schema[2].policy_tags == tags
    assert got.schema[3].timestamp_precision == enums.TimestampPrecision.PICOSECOND
    # BigQuery reports the int64 attributes as strings
    raw = client._connection.api_request("GET", f"/projects/{PROJECT}/datasets/ds/tables/t")
    assert raw["schema"]["fields"][0]["maxLength"] == "9"
    assert raw["schema"]["fields"][3]["timestampPrecision"] == "12"


def test_empty_policy_tags_and_null_description_are_removed(client):
    tags = PolicyTagList(names=[f"projects/{PROJECT}/locations/us/taxonomies/1/policyTags/2"])
    schema = [bigquery.SchemaField("secret", "INTEGER", description="numeric", policy_tags=tags)]
    table = client.create_table(bigquery.Table(f"{PROJECT}.ds.t", schema=schema))
    table.schema = [bigquery.SchemaField("secret", "INTEGER", description=None, policy_tags=PolicyTagList())]
    updated = client.update_table(table, ["schema"])
    assert not updated.schema[0].description
    assert updated.schema[0].policy_tags is None


def test_parameterized_types_declared_in_ddl(client):
    client.query("CREATE TABLE ds.p (n NUMERIC(9), n92 NUMERIC(9, 2), bn BIGNUMERIC(38, 22), "
                 "s9 STRING(9), b9 BYTES(9), s STRING)").result()
    fields = client.get_table("ds.p").schema
    assert [f._key()[:2] for f in fields] == [
        ("n", "NUMERIC(9)"), ("n92", "NUMERIC(9, 2)"), ("bn", "BIGNUMERIC(38, 22)"),
        ("s9", "STRING(9)"), ("b9", "BYTES(9)"), ("s", "STRING")]


def test_string_max_length_is_enforced_on_insert(client):
    client.query("CREATE TABLE ds.p (s9 STRING(3))").result()
    errors = client.insert_rows_json("ds.p", [{"s9": "abcd"}])
    assert errors and errors[0]["errors"][0]["reason"] == "invalid"
    assert client.insert_rows_json("ds.p", [{"s9": "abc"}]) == []


def test_default_value_expressions_fill_missing_columns_of_inserted_rows(client, emulator):
    schema = [bigquery.SchemaField("username", "STRING", default_value_expression="'FOO'"),
              bigquery.SchemaField("ts", "TIMESTAMP", default_value_expression="CURRENT_TIMESTAMP")]
    table = client.create_table(bigquery.Table(f"{PROJECT}.ds.d", schema=schema))
    assert client.get_table("ds.d").schema == schema
    when = dt.datetime(2015, 11, 30, 19, 24, 55, tzinfo=dt.UTC)
    assert client.insert_rows(table, [{"username": "john"}, {"ts": when}]) == []
    assert client.insert_rows_json(table, [{"username": None}]) == []
    rows = [dict(r) for r in client.list_rows(table)]
    assert rows[0]["username"] == "john" and rows[0]["ts"] == emulator.clock.now()
    assert rows[1] == {"username": "FOO", "ts": when}
    assert rows[2]["username"] is None  # an explicit NULL stays NULL
    # DML INSERT that omits the columns gets the defaults too
    client.query("INSERT INTO ds.d (ts) VALUES (TIMESTAMP '2020-01-01')").result()
    assert [r.username for r in client.query("SELECT username FROM ds.d WHERE ts = '2020-01-01'").result()] == ["FOO"]


def test_time_partitioning_and_clustering_are_kept(client):
    schema = [bigquery.SchemaField("transaction_time", "TIMESTAMP", mode="REQUIRED"),
              bigquery.SchemaField("user_email", "STRING"), bigquery.SchemaField("store_code", "STRING")]
    table = bigquery.Table(f"{PROJECT}.ds.tp", schema=schema)
    table.time_partitioning = TimePartitioning(field="transaction_time")
    table.clustering_fields = ["user_email", "store_code"]
    created = client.create_table(table)
    assert created.time_partitioning.type_ == TimePartitioningType.DAY
    assert created.time_partitioning.field == "transaction_time"
    assert created.clustering_fields == ["user_email", "store_code"]
    got = client.get_table("ds.tp")
    assert got.clustering_fields == ["user_email", "store_code"] and got.time_partitioning.field == "transaction_time"
    got.clustering_fields = ["store_code"]
    assert client.update_table(got, ["clustering_fields"]).clustering_fields == ["store_code"]
    got = client.get_table("ds.tp")
    got.clustering_fields = None
    assert client.update_table(got, ["clustering_fields"]).clustering_fields is None
    assert client.get_table("ds.tp").clustering_fields is None


def test_clustering_on_an_unknown_column_is_refused(client):
    table = bigquery.Table(f"{PROJECT}.ds.c", schema=[bigquery.SchemaField("a", "STRING")])
    table.clustering_fields = ["b"]
    with pytest.raises(exceptions.BadRequest, match="b"):
        client.create_table(table)


def test_time_partitioning_on_a_non_time_column_is_refused(client):
    table = bigquery.Table(f"{PROJECT}.ds.c", schema=[bigquery.SchemaField("a", "STRING")])
    table.time_partitioning = TimePartitioning(field="a")
    with pytest.raises(exceptions.BadRequest, match="a"):
        client.create_table(table)


def test_table_constraints_are_set_and_cleared(client):
    ref = client.create_table(bigquery.Table(f"{PROJECT}.ds.ref",
                                             schema=[bigquery.SchemaField("id", "INTEGER", mode="REQUIRED")]))
    main = client.create_table(bigquery.Table(f"{PROJECT}.ds.main",
                                              schema=[bigquery.SchemaField("id", "INTEGER", mode="REQUIRED")]))
    ref.table_constraints = TableConstraints(primary_key=PrimaryKey(columns=["id"]), foreign_keys=None)
    ref2 = client.update_table(ref, ["table_constraints"])
    assert ref2.table_constraints.primary_key == PrimaryKey(columns=["id"])
    constraints = TableConstraints(
        primary_key=PrimaryKey(columns=["id"]),
        foreign_keys=[ForeignKey(name="fk_id", referenced_table=TableReference.from_string(f"{PROJECT}.ds.ref"),
                                 column_references=[ColumnReference(referencing_column="id",
                                                                    referenced_column="id")])])
    main.table_constraints = constraints
    main2 = client.update_table(main, ["table_constraints"])
    assert main2.table_constraints == constraints
    assert client.get_table("ds.main").table_constraints == constraints
    main2.table_constraints = None
    assert client.update_table(main2, ["table_constraints"]).table_constraints is None
    ref2.table_constraints = None
    assert client.update_table(ref2, ["table_constraints"]).table_constraints is None


def test_primary_key_on_an_unknown_column_is_refused(client):
    table = client.create_table(bigquery.Table(f"{PROJECT}.ds.pk", schema=[bigquery.SchemaField("id", "INTEGER")]))
    table.table_constraints = TableConstraints(primary_key=PrimaryKey(columns=["nope"]), foreign_keys=None)
    with pytest.raises(exceptions.BadRequest, match="nope"):
        client.update_table(table, ["table_constraints"])
