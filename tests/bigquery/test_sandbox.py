"""GoogleSQL cannot reach the host or DuckDB's engine: no file reads, no extensions, no settings.

Two fences, both tested: the translator refuses DuckDB's own functions as BigQuery refuses an
unknown function, and the DuckDB database runs without external access, without extension
loading, with its configuration locked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from google.api_core import exceptions

from emulator import Emulator
from emulator.bigquery.errors import InvalidQuery


@pytest.fixture
def emu() -> Any:
    with Emulator() as emulator:
        yield emulator


@pytest.mark.parametrize(("sql", "message"), [
    ("SELECT content FROM read_text('/etc/hostname')", "Table-valued function not found: read_text at [1:21]"),
    ("SELECT * FROM read_csv_auto('/etc/hostname')", "Table-valued function not found: read_csv_auto at [1:15]"),
    ("SELECT *\nFROM read_blob('/etc/hostname')", "Table-valued function not found: read_blob at [2:6]"),
    ("SELECT * FROM read_parquet('/tmp/x.parquet')", "Table-valued function not found: read_parquet at [1:15]"),
    ("SELECT * FROM read_ndjson('/etc/*')", "Table-valued function not found: read_ndjson at [1:15]"),
    ("SELECT * FROM query('SELECT 1')", "Table-valued function not found: query at [1:15]"),
    ("SELECT * FROM UNNEST([1]) AS x JOIN read_json('/etc/hostname') ON TRUE",
     "Table-valued function not found: read_json at [1:37]"),
    ("SELECT getenv('HOME')", "Function not found: getenv at [1:8]"),
    ("SELECT current_setting('temp_directory')", "Function not found: current_setting at [1:8]"),
    ("SELECT x FROM UNNEST([version()]) AS x", "Function not found: version at [1:23]"),
])
def test_duckdb_functions_are_unknown_functions_to_the_client(emu: Any, sql: str, message: str) -> None:
    client = emu.bigquery_client(project="p")
    with pytest.raises(exceptions.BadRequest) as info:
        client.query(sql).result()
    assert [e["reason"] for e in info.value.errors] == ["invalidQuery"]
    assert message in str(info.value)


def test_no_duckdb_table_function_is_reachable(emu: Any) -> None:
    names = sorted({row[0] for row in emu.bigquery.engine.exec(
        "SELECT function_name FROM duckdb_functions() WHERE function_type IN ('table', 'table_macro')")})
    assert len(names) > 50  # the engine's own list: file readers, catalog views, settings, ...
    reached = []
    for name in names:
        if name == "unnest":
            continue
        try:
            emu.bigquery.query(f"SELECT * FROM {name}('/etc/hostname')", project="p")
        except InvalidQuery as exc:  # refused before DuckDB saw it: unknown function, or not even parsed
            if f"not found: {name}" not in exc.message and not exc.message.startswith("Syntax error"):
                reached.append((name, exc.message))
        else:
            reached.append((name, "ran"))
    assert reached == []


def test_the_engine_reads_no_file_and_loads_no_extension(emu: Any) -> None:
    engine = emu.bigquery.engine
    for sql in ("SELECT * FROM read_text('/etc/hostname')", "SELECT * FROM read_csv_auto('/etc/hostname')",
                "SELECT * FROM glob('/etc/*')", "INSTALL httpfs", "LOAD httpfs",
                "ATTACH '/tmp/wallaroo-emulator-sandbox.duckdb' AS outside"):
        with pytest.raises(duckdb.Error):
            engine.exec(sql)
    settings = dict(engine.exec("SELECT name, value FROM duckdb_settings() WHERE name IN ("
                                "'enable_external_access', 'autoinstall_known_extensions', "
                                "'autoload_known_extensions', 'lock_configuration')"))
    assert settings == {"enable_external_access": "false", "autoinstall_known_extensions": "false",
                        "autoload_known_extensions": "false", "lock_configuration": "true"}
    with pytest.raises(duckdb.Error):
        engine.exec("SET enable_external_access = true")
    assert not Path("/tmp/wallaroo-emulator-sandbox.duckdb").exists()


def test_a_file_database_stays_locked_and_keeps_its_projects(tmp_path: Path) -> None:
    database = tmp_path / "bq.duckdb"
    with Emulator(database=database) as emu:
        client = emu.bigquery_client(project="first")
        client.create_dataset("d")
        client.query("CREATE TABLE d.t AS SELECT 1 AS x").result()
        # a project first seen after the database opened gets its file too
        other = emu.bigquery_client(project="second")
        other.create_dataset("d")
        other.query("CREATE TABLE d.t AS SELECT 2 AS x").result()
        beside = tmp_path / "beside.txt"
        beside.write_text("not for SQL")
        with pytest.raises(duckdb.PermissionException):
            emu.bigquery.engine.exec(f"SELECT * FROM read_text('{beside}')")
    emu.close()
    with Emulator(database=database) as again:
        assert [row.x for row in again.bigquery_client(project="first").query("SELECT x FROM d.t").result()] == [1]
        assert [row.x for row in again.bigquery_client(project="second").query(
            "SELECT x FROM `second.d.t` UNION ALL SELECT x FROM `first.d.t` ORDER BY x").result()] == [1, 2]
        assert again.bigquery.engine.exec("SELECT current_setting('enable_external_access')") == [(False,)]
    again.close()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".duckdb") == [
        "bq.duckdb", "bq.first.duckdb", "bq.second.duckdb"]
