"""The routines API (routines.insert/get/list/update/delete) with SQL UDFs and table functions.

A SQL routine created through the API is callable in queries by its full name (`project.dataset.name`
in one pair of backticks, or dotted); table functions are read in FROM clauses.
"""

from __future__ import annotations

import pytest
from google.api_core import exceptions
from google.cloud import bigquery
from google.cloud.bigquery import (
    Routine,
    RoutineArgument,
    RoutineType,
    StandardSqlDataType,
    StandardSqlField,
    StandardSqlTableType,
    StandardSqlTypeNames,
)

PROJECT = "routine-proj"

pytestmark = pytest.mark.bigquery_project(PROJECT)

INT64 = StandardSqlDataType(type_kind=StandardSqlTypeNames.INT64)
FLOAT64 = StandardSqlDataType(type_kind=StandardSqlTypeNames.FLOAT64)
STRING = StandardSqlDataType(type_kind=StandardSqlTypeNames.STRING)


@pytest.fixture
def client(bigquery_client):
    bigquery_client.create_dataset("ds")
    return bigquery_client


def _double(name="double_it"):
    return Routine(f"{PROJECT}.ds.{name}", type_="SCALAR_FUNCTION", language="SQL", body="x * 2",
                   arguments=[RoutineArgument(name="x", data_type=FLOAT64)], return_type=FLOAT64)


def test_scalar_sql_routine_lifecycle_and_calls(client):
    created = client.create_routine(_double())
    assert created.body == "x * 2" and created.type_ == "SCALAR_FUNCTION" and created.language == "SQL"
    assert created.arguments == [RoutineArgument(name="x", data_type=FLOAT64)]
    assert created.return_type == FLOAT64
    assert created.created is not None and created.etag
    got = client.get_routine(f"{PROJECT}.ds.double_it")
    assert got.reference.routine_id == "double_it" and got.body == "x * 2"
    rows = client.query(f"SELECT `{PROJECT}.ds.double_it`(21.0) AS a, `{PROJECT}`.ds.double_it(1.5) AS b, "
                        "ds.double_it(2.0) AS c").result()
    assert [tuple(r) for r in rows] == [(42.0, 3.0, 4.0)]
    assert [r.routine_id for r in client.list_routines("ds")] == ["double_it"]
    got.body = "x * 3"
    updated = client.update_routine(got, ["body"])
    assert updated.body == "x * 3"
    assert [tuple(r) for r in client.query(f"SELECT `{PROJECT}.ds.double_it`(2.0)").result()] == [(6.0,)]
    client.delete_routine(f"{PROJECT}.ds.double_it")
    with pytest.raises(exceptions.NotFound, match="Not found: Routine"):
        client.get_routine(f"{PROJECT}.ds.double_it")
    with pytest.raises(exceptions.BadRequest):
        client.query(f"SELECT `{PROJECT}.ds.double_it`(2.0)").result()
    client.delete_routine(f"{PROJECT}.ds.double_it", not_found_ok=True)


def test_duplicate_routine_conflicts_and_missing_dataset_is_not_found(client):
    client.create_routine(_double())
    with pytest.raises(exceptions.Conflict, match="Already Exists: Routine"):
        client.create_routine(_double())
    with pytest.raises(exceptions.NotFound, match="Not found: Dataset"):
        client.create_routine(Routine(f"{PROJECT}.nope.f", type_="SCALAR_FUNCTION", language="SQL", body="1"))


def test_bad_routine_body_is_a_bad_request_and_stores_nothing(client):
    with pytest.raises(exceptions.BadRequest):
        client.create_routine(Routine(f"{PROJECT}.ds.bad", type_="SCALAR_FUNCTION", language="SQL",
                                      body="x +* 2", arguments=[RoutineArgument(name="x", data_type=INT64)]))
    assert list(client.list_routines("ds")) == []


def test_table_valued_function_routine(client):
    body = "SELECT n, s FROM UNNEST([1, 2, 3]) AS n CROSS JOIN UNNEST(['a', 'b']) AS s WHERE n > threshold"
    returns = StandardSqlTableType(columns=[StandardSqlField(name="n", type=INT64),
                                            StandardSqlField(name="s", type=STRING)])
    args = [RoutineArgument(name="threshold", data_type=INT64)]
    routine = client.create_routine(Routine(f"{PROJECT}.ds.tvf", type_=RoutineType.TABLE_VALUED_FUNCTION,
                                            arguments=args, return_table_type=returns, body=body))
    assert routine.return_table_type == returns and routine.arguments == args and routine.body == body
    rows = client.query(f"SELECT n, s FROM `{PROJECT}.ds.tvf`(1) ORDER BY n, s").result()
    assert [tuple(r) for r in rows] == [(2, "a"), (2, "b"), (3, "a"), (3, "b")]
    assert [tuple(r) for r in client.query("SELECT count(*) FROM ds.tvf(2)").result()] == [(2,)]


def test_create_table_function_ddl(client):
    client.query("CREATE TABLE FUNCTION ds.evens(upto INT64) AS "
                 "(SELECT x FROM UNNEST(GENERATE_ARRAY(0, upto, 2)) AS x)").result()
    assert [r.x for r in client.query(f"SELECT x FROM `{PROJECT}.ds.evens`(4) ORDER BY x").result()] == [0, 2, 4]


def test_javascript_routines_are_kept_but_not_callable(client):
    routine = Routine(f"{PROJECT}.ds.js", type_="SCALAR_FUNCTION", language="JAVASCRIPT", body="return x;",
                      arguments=[RoutineArgument(name="x", data_type=FLOAT64)], return_type=FLOAT64)
    assert client.create_routine(routine).language == "JAVASCRIPT"
    with pytest.raises(exceptions.BadRequest, match="JAVASCRIPT"):
        client.query(f"SELECT `{PROJECT}.ds.js`(1.0)").result()


def test_deleting_a_dataset_deletes_its_routines(client):
    client.create_routine(_double())
    client.delete_dataset("ds", delete_contents=True)
    client.create_dataset("ds")
    assert list(client.list_routines("ds")) == []
    with pytest.raises(exceptions.NotFound):
        client.get_routine(f"{PROJECT}.ds.double_it")


def test_routines_of_a_dataset_appear_in_standard_sql_names_only_once(client):
    client.create_routine(_double("a"))
    client.create_routine(_double("b"))
    assert [r.routine_id for r in client.list_routines("ds", page_size=1)] == ["a", "b"]
    assert isinstance(client.get_routine(f"{PROJECT}.ds.b"), bigquery.Routine)
