"""The translator's typed view of the catalog: ``translate(..., catalog=lookup)``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from emulator.bigquery import sql_typing
from emulator.bigquery.sql import clear_cache, translate

NOW = dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


class Lookup:
    """A catalog lookup that counts its calls and can change its answers."""

    def __init__(self, tables: dict[tuple[str, str, str], list[dict]]) -> None:
        self.tables = tables
        self.calls: list[tuple[str, str, str]] = []

    def __call__(self, project: str, dataset: str, table: str) -> list[dict] | None:
        self.calls.append((project, dataset, table))
        return self.tables.get((project, dataset, table))


def _sql(query: str, lookup: Any) -> str:
    return translate(query, project="p", dataset="ds", now=NOW, catalog=lookup)[0].sql


def test_a_column_type_from_the_catalog_picks_the_bytes_function() -> None:
    clear_cache()
    text = Lookup({("p", "ds", "t"): [{"name": "c", "type": "STRING", "mode": "NULLABLE"}]})
    blob = Lookup({("p", "ds", "t"): [{"name": "c", "type": "BYTES", "mode": "NULLABLE"}]})
    assert "octet_length" not in _sql("SELECT BYTE_LENGTH(c) FROM t", text).lower()
    clear_cache()
    assert "octet_length" in _sql("SELECT BYTE_LENGTH(c) FROM t", blob).lower()


def test_a_changed_schema_translates_again_and_an_unchanged_one_hits_the_cache() -> None:
    clear_cache()
    lookup = Lookup({("p", "ds", "t"): [{"name": "c", "type": "STRING", "mode": "NULLABLE"}]})
    first = _sql("SELECT BYTE_LENGTH(c) FROM t", lookup)
    assert _sql("SELECT BYTE_LENGTH(c) FROM t", lookup) == first
    lookup.tables[("p", "ds", "t")] = [{"name": "c", "type": "BYTES", "mode": "NULLABLE"}]
    assert "octet_length" in _sql("SELECT BYTE_LENGTH(c) FROM t", lookup).lower()


def test_a_query_reading_no_table_asks_the_catalog_nothing() -> None:
    clear_cache()
    lookup = Lookup({})
    _sql("SELECT 1", lookup)
    _sql("SELECT 1", lookup)
    assert lookup.calls == []


def test_cte_subquery_and_parameter_types_are_known() -> None:
    mapping = {"p": {"ds": {"t": {"n": "NUMERIC", "i": "INT64"}}}}
    import sqlglot

    query = sqlglot.parse_one("WITH c AS (SELECT n AS m FROM `p.ds.t`) "
                              "SELECT m, (SELECT MAX(i) FROM `p.ds.t`), @x FROM c", read="bigquery")
    sql_typing.annotate(query, mapping, {"x": {"type": "DATE"}}, [])
    names = [sql_typing.bq_name(e.type) for e in query.selects]
    assert names == ["NUMERIC", "INT64", "DATE"]


def test_rest_schema_fields_spell_as_googlesql_types() -> None:
    field = {"name": "r", "type": "RECORD", "mode": "REPEATED",
             "fields": [{"name": "a b", "type": "INTEGER"}, {"name": "c", "type": "FLOAT", "mode": "REPEATED"}]}
    assert sql_typing.field_type_sql(field) == "ARRAY<STRUCT<`a b` INT64, `c` ARRAY<FLOAT64>>>"
    assert sql_typing.parameter_type({"type": "ARRAY", "arrayType": {"type": "TIMESTAMP"}}) == "ARRAY<TIMESTAMP>"


def test_a_recreated_table_is_typed_anew_through_the_client() -> None:
    from emulator import Emulator

    with Emulator() as emu:
        client = emu.bigquery_client(project="p")
        client.create_dataset("ds")
        client.query("CREATE TABLE ds.t (c STRING)").result()
        client.query("INSERT INTO ds.t VALUES ('é')").result()
        assert [tuple(r.values()) for r in client.query("SELECT LENGTH(c) FROM ds.t").result()] == [(1,)]
        client.query("CREATE OR REPLACE TABLE ds.t (c BYTES)").result()
        client.query("INSERT INTO ds.t VALUES (b'\\xc3\\xa9')").result()
        assert [tuple(r.values()) for r in client.query("SELECT LENGTH(c) FROM ds.t").result()] == [(2,)]
