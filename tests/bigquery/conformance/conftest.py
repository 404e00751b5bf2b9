"""Fixtures of the conformance suite: a fresh emulator per case with dataset ``ds`` in ``my-proj``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest

PROJECT = "my-proj"
#: The virtual clock's start for every case (CURRENT_* cases expect it).
START = dt.datetime(2024, 3, 4, 5, 6, 7, tzinfo=dt.UTC)


@pytest.fixture
def bq() -> Iterator[Any]:
    """A real google-cloud-bigquery client served by a fresh emulator; dataset ``ds`` exists."""
    from emulator import Emulator

    with Emulator(start=START) as emu:
        _ensure_sql_functions(emu)
        client = emu.bigquery_client(project=PROJECT)
        client.create_dataset("ds")
        yield client


def _ensure_sql_functions(emu: Any) -> None:
    """The backend registers emulator.bigquery.sql_functions on its connection; do it if it does not yet."""
    from emulator.bigquery import sql_functions

    con = emu.bigquery.con
    present = con.execute("SELECT count(*) FROM duckdb_functions() WHERE function_name = ?",
                          [sql_functions.FARM_FINGERPRINT]).fetchall()[0][0]
    if not present:
        sql_functions.register(con)
