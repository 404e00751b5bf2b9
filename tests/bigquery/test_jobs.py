"""Query jobs as BigQuery reports them, through the real client: DDL statistics and schemas, scripts and
their child jobs, transactions, a failing statement in a script (BigQuery's "Jobs", "Multi-statement
queries", "Multi-statement transactions" and "DDL" documentation)."""

from __future__ import annotations

from typing import Any

import pytest
from google.api_core import exceptions
from google.cloud import bigquery

from emulator import Emulator


@pytest.fixture
def bq() -> Any:
    with Emulator() as emu:
        client = emu.bigquery_client(project="p")
        client.create_dataset("d")
        yield client


def _rows(job: Any) -> list[tuple]:
    return [tuple(row.values()) for row in job.result()]


# -- DDL ---------------------------------------------------------------------------------------
def test_create_table_reports_create_and_returns_the_new_table_schema(bq: Any) -> None:
    job = bq.query("CREATE TABLE d.t (id INT64 NOT NULL, name STRING)")
    result = job.result()
    assert list(result) == [] and result.total_rows == 0
    assert [(f.name, f.field_type, f.mode) for f in result.schema] == [("id", "INTEGER", "REQUIRED"),
                                                                       ("name", "STRING", "NULLABLE")]
    assert job.statement_type == "CREATE_TABLE"
    assert job.ddl_operation_performed == "CREATE"
    assert job.ddl_target_table.table_id == "t"


def test_create_table_as_select_returns_its_schema_and_no_rows(bq: Any) -> None:
    job = bq.query("CREATE TABLE d.t AS SELECT 1 AS x, 'a' AS y")
    result = job.result()
    assert list(result) == []
    assert [f.name for f in result.schema] == ["x", "y"]
    assert job.statement_type == "CREATE_TABLE_AS_SELECT"


def test_create_or_replace_reports_replace_only_when_the_table_existed(bq: Any) -> None:
    first = bq.query("CREATE OR REPLACE TABLE d.t (x INT64)")
    first.result()
    assert first.ddl_operation_performed == "CREATE"
    second = bq.query("CREATE OR REPLACE TABLE d.t (x INT64, y STRING)")
    second.result()
    assert second.ddl_operation_performed == "REPLACE"
    view = bq.query("CREATE OR REPLACE VIEW d.v AS SELECT 1 AS a")
    view.result()
    assert view.ddl_operation_performed == "CREATE"


def test_create_if_not_exists_on_an_existing_table_is_skipped(bq: Any) -> None:
    bq.query("CREATE TABLE d.t (x INT64)").result()
    job = bq.query("CREATE TABLE IF NOT EXISTS d.t (y STRING)")
    job.result()
    assert job.ddl_operation_performed == "SKIP"
    assert [f.name for f in bq.get_table("p.d.t").schema] == ["x"]


def test_drop_reports_drop_and_a_missing_table_with_if_exists_skip(bq: Any) -> None:
    bq.query("CREATE TABLE d.t (x INT64)").result()
    dropped = bq.query("DROP TABLE d.t")
    dropped.result()
    assert dropped.ddl_operation_performed == "DROP"
    skipped = bq.query("DROP TABLE IF EXISTS d.t")
    skipped.result()
    assert skipped.ddl_operation_performed == "SKIP"


def test_truncate_reports_the_rows_it_removed(bq: Any) -> None:
    bq.query("CREATE TABLE d.t AS SELECT x FROM UNNEST([1, 2, 3]) AS x").result()
    job = bq.query("TRUNCATE TABLE d.t")
    job.result()
    assert job.statement_type == "TRUNCATE_TABLE"
    assert job.num_dml_affected_rows == 3
    assert bq.get_table("p.d.t").num_rows == 0


# -- scripts -----------------------------------------------------------------------------------
def test_a_script_is_a_script_job_returning_its_last_statement(bq: Any) -> None:
    job = bq.query("SELECT 1 AS a; SELECT 'x' AS b")
    assert _rows(job) == [("x",)]
    assert job.statement_type == "SCRIPT"
    assert job.num_child_jobs == 2


def test_query_and_wait_runs_a_script(bq: Any) -> None:
    rows = bq.query_and_wait("DECLARE n INT64 DEFAULT 3; SELECT n * 2 AS doubled")
    assert [tuple(r.values()) for r in rows] == [(6,)]


def test_child_jobs_are_listed_by_parent_job_only(bq: Any) -> None:
    job = bq.query("CREATE TABLE d.t (x INT64);\nINSERT INTO d.t VALUES (1), (2);\nSELECT COUNT(*) AS n FROM d.t")
    assert _rows(job) == [(2,)]
    children = list(bq.list_jobs(parent_job=job))
    assert len(children) == 3
    assert {child.parent_job_id for child in children} == {job.job_id}
    by_type = {child.statement_type: child for child in children}
    assert set(by_type) == {"CREATE_TABLE", "INSERT", "SELECT"}
    assert by_type["INSERT"].num_dml_affected_rows == 2
    frames = by_type["INSERT"].script_statistics.stack_frames
    assert by_type["INSERT"].script_statistics.evaluation_kind == "STATEMENT"
    assert (frames[0].start_line, frames[0].start_column, frames[0].text) == (2, 1, "INSERT INTO d.t VALUES (1), (2)")
    assert [tuple(r.values()) for r in by_type["SELECT"].result()] == [(2,)]
    top_level = [j.job_id for j in bq.list_jobs()]
    assert job.job_id in top_level
    assert not {child.job_id for child in children} & set(top_level)


def test_child_jobs_in_a_transaction_carry_its_transaction_id(bq: Any) -> None:
    bq.query("CREATE TABLE d.t (x INT64)").result()
    job = bq.query("BEGIN TRANSACTION; INSERT INTO d.t VALUES (1); COMMIT TRANSACTION; SELECT 1")
    job.result()
    children = {child.statement_type: child for child in bq.list_jobs(parent_job=job)}
    ids = {children[kind].transaction_info.transaction_id for kind in
           ("BEGIN_TRANSACTION", "INSERT", "COMMIT_TRANSACTION")}
    assert len(ids) == 1 and all(ids)
    assert children["SELECT"].transaction_info is None
    first = next(iter(bq.list_jobs(parent_job=job.job_id)))  # newest first: the last statement
    assert first.statement_type == "SELECT"


def test_a_failing_statement_keeps_the_statements_before_it(bq: Any) -> None:
    bq.query("CREATE TABLE d.t (x INT64)").result()
    job = bq.query("INSERT INTO d.t VALUES (1); INSERT INTO d.t VALUES (2); SELECT ERROR('stop'); "
                   "INSERT INTO d.t VALUES (3)")
    with pytest.raises(exceptions.BadRequest, match="stop"):
        job.result()
    assert _rows(bq.query("SELECT x FROM d.t ORDER BY x")) == [(1,), (2,)]
    children = list(bq.list_jobs(parent_job=job))
    assert len(children) == 3
    failed = [child for child in children if child.error_result]
    assert len(failed) == 1 and "stop" in failed[0].error_result["message"]


def test_a_failing_statement_inside_a_transaction_rolls_it_back(bq: Any) -> None:
    bq.query("CREATE TABLE d.t (x INT64)").result()
    bq.query("INSERT INTO d.t VALUES (0)").result()
    with pytest.raises(exceptions.BadRequest, match="stop"):
        bq.query("BEGIN TRANSACTION; INSERT INTO d.t VALUES (1); SELECT ERROR('stop'); COMMIT TRANSACTION").result()
    assert _rows(bq.query("SELECT x FROM d.t ORDER BY x")) == [(0,)]


def test_a_table_created_before_a_failure_stays_with_its_metadata(bq: Any) -> None:
    with pytest.raises(exceptions.BadRequest):
        bq.query("CREATE TABLE d.kept (x INT64); INSERT INTO d.kept VALUES (1); SELECT ERROR('stop')").result()
    table = bq.get_table("p.d.kept")
    assert [f.name for f in table.schema] == ["x"] and table.num_rows == 1


def test_a_missing_table_fails_the_statement_naming_it_not_the_script_upfront(bq: Any) -> None:
    with pytest.raises(exceptions.NotFound):
        bq.query("CREATE TABLE d.first (x INT64); SELECT * FROM d.nope").result()
    assert bq.get_table("p.d.first").table_id == "first"


def test_temporary_tables_live_for_one_script(bq: Any) -> None:
    assert _rows(bq.query("CREATE TEMP TABLE tmp AS SELECT 1 AS x; SELECT x FROM tmp")) == [(1,)]
    with pytest.raises(exceptions.BadRequest):
        bq.query("SELECT x FROM tmp").result()


def test_script_variables_live_for_one_script(bq: Any) -> None:
    assert _rows(bq.query("DECLARE v INT64 DEFAULT 7; SELECT v")) == [(7,)]
    with pytest.raises(exceptions.BadRequest):
        bq.query("SELECT v").result()


def test_a_dry_run_of_a_script_reports_a_script(bq: Any) -> None:
    config = bigquery.QueryJobConfig(dry_run=True)
    job = bq.query("DECLARE x INT64 DEFAULT 1; SELECT x", job_config=config)
    assert job.statement_type == "SCRIPT"
