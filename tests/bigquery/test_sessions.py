"""Sessions through the real client ("Introduction to sessions", "Multi-statement transactions"):
temporary tables, variables and an open transaction carried from one query job to the next."""

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


def _in(session_id: str) -> bigquery.QueryJobConfig:
    return bigquery.QueryJobConfig(connection_properties=[bigquery.ConnectionProperty("session_id", session_id)])


def _rows(job: Any) -> list[tuple]:
    return [tuple(row.values()) for row in job.result()]


def test_a_session_keeps_temporary_tables_and_variables_between_jobs(bq: Any) -> None:
    first = bq.query("CREATE TEMP TABLE kept AS SELECT 1 AS x UNION ALL SELECT 2; DECLARE n INT64 DEFAULT 10",
                     job_config=bigquery.QueryJobConfig(create_session=True))
    first.result()
    session_id = first.session_info.session_id
    assert session_id
    job = bq.query("SELECT SUM(x) + n AS total FROM kept", job_config=_in(session_id))
    assert _rows(job) == [(13,)]
    assert job.session_info.session_id == session_id
    assert _rows(bq.query("SET n = n + 1; SELECT n", job_config=_in(session_id))) == [(11,)]
    # outside the session, neither exists
    with pytest.raises(exceptions.BadRequest):
        bq.query("SELECT x FROM kept").result()


def test_a_transaction_can_span_jobs_of_a_session(bq: Any) -> None:
    bq.query("CREATE TABLE d.t (x INT64)").result()
    first = bq.query("BEGIN TRANSACTION; INSERT INTO d.t VALUES (1)",
                     job_config=bigquery.QueryJobConfig(create_session=True))
    first.result()
    session_id = first.session_info.session_id
    assert _rows(bq.query("SELECT COUNT(*) FROM d.t", job_config=_in(session_id))) == [(1,)]
    bq.query("INSERT INTO d.t VALUES (2); COMMIT TRANSACTION", job_config=_in(session_id)).result()
    assert _rows(bq.query("SELECT COUNT(*) FROM d.t")) == [(2,)]


def test_sessions_do_not_see_each_other(bq: Any) -> None:
    one = bq.query("CREATE TEMP TABLE mine AS SELECT 1 AS x", job_config=bigquery.QueryJobConfig(create_session=True))
    one.result()
    two = bq.query("SELECT 1", job_config=bigquery.QueryJobConfig(create_session=True))
    two.result()
    assert one.session_info.session_id != two.session_info.session_id
    with pytest.raises(exceptions.BadRequest):
        bq.query("SELECT x FROM mine", job_config=_in(two.session_info.session_id)).result()


def test_an_unknown_session_is_refused(bq: Any) -> None:
    with pytest.raises(exceptions.BadRequest, match="Session nope was not found"):
        bq.query("SELECT 1", job_config=_in("nope")).result()


def test_query_and_wait_joins_a_session(bq: Any) -> None:
    first = bq.query("DECLARE greeting STRING DEFAULT 'hi'", job_config=bigquery.QueryJobConfig(create_session=True))
    first.result()
    rows = bq.query_and_wait("SELECT greeting", job_config=_in(first.session_info.session_id))
    assert [tuple(r.values()) for r in rows] == [("hi",)]
