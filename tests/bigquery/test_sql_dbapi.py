"""google-cloud-bigquery's DB-API through the emulator: parameter spellings the DB-API rewrites.

The DB-API turns ``%(name)s`` into ``@`name``` (backticks, so any name works, even
``a "very" weird `name```) and ``%s`` into ``?``; a declared ``%(x:TIMESTAMP)s`` must be given a
timestamp (BigQuery answers 400 to a number).
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from emulator import Emulator


@pytest.fixture
def cursor() -> Iterator[Any]:
    from google.cloud.bigquery import dbapi

    warnings.simplefilter("ignore")
    with Emulator() as emu:
        yield dbapi.connect(client=emu.bigquery_client(project="p")).cursor()


@pytest.mark.parametrize("query, params, expected", [
    ("SELECT %(a)s", {"a": 1}, (1,)),
    ("SELECT %(a b)s", {"a b": 2}, (2,)),
    ("SELECT %(a-b)s, %(a-b)s + 1", {"a-b": 3}, (3, 4)),
    ('SELECT %(a "very" weird `name`)s', {'a "very" weird `name`': True}, (True,)),
    ("SELECT %(Mixed)s * 2", {"Mixed": 4}, (8,)),
    ("SELECT %s, %s", (5, "z"), (5, "z")),
    ("SELECT %(t:TIMESTAMP)s", {"t": dt.datetime(2024, 1, 2, tzinfo=dt.UTC)}, (dt.datetime(2024, 1, 2, tzinfo=dt.UTC),)),
])
def test_dbapi_parameter_spellings(cursor: Any, query: str, params: Any, expected: tuple) -> None:
    cursor.execute(query, params)
    assert tuple(cursor.fetchone().values()) == expected


def test_a_number_for_a_timestamp_parameter_is_refused(cursor: Any) -> None:
    from google.cloud.bigquery import dbapi

    with pytest.raises(dbapi.DatabaseError, match="400"):
        cursor.execute("SELECT %(t:TIMESTAMP)s", {"t": 1700000000})
