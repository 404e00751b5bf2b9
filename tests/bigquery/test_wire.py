"""The two row encoders (DuckDB SQL for large results, Python for small ones) agree exactly."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from emulator import Emulator
from emulator.bigquery import wire

ALL_TYPES = """SELECT 1 AS i, 1.5 AS f, CAST('NaN' AS FLOAT64) AS nan, CAST('-inf' AS FLOAT64) AS ninf,
  CAST(1.25 AS NUMERIC) AS n, CAST(10 AS NUMERIC) AS n10, true AS b, 'é"\\n\\\\' AS s, b'\\x00\\x01' AS by,
  DATE '2024-01-01' AS d, TIME '12:34:56.5' AS t, DATETIME '2024-01-02 03:04:05' AS dtm,
  TIMESTAMP '2024-01-02 03:04:05.123456+00' AS ts, JSON '{"a":1}' AS j, [1.0, 2.5] AS arr,
  STRUCT(1 AS x, ['a'] AS y, STRUCT(2.5 AS z) AS inner) AS st, [STRUCT(1 AS k), STRUCT(2 AS k)] AS recs,
  CAST(NULL AS STRING) AS nul, CAST(NULL AS ARRAY<INT64>) AS nularr"""


def _both(emu, outcome, int64_ts):
    python = wire.encode_rows_python(outcome.rows.to_pylist(), outcome.schema, int64_ts)
    duck = emu.bigquery.data.encode_rows_in_duckdb(outcome.rows, outcome.schema, int64_timestamps=int64_ts)
    return json.loads(python), json.loads(duck)


@pytest.mark.parametrize("int64_ts", [True, False])
def test_encoders_agree_on_every_type(int64_ts):
    with Emulator() as emu:
        outcome = emu.bigquery.execute(ALL_TYPES, project="p")
        python, duck = _both(emu, outcome, int64_ts)
    emu.close()
    assert python == duck
    cells = python[0]["f"]
    assert cells[0] == {"v": "1"} and cells[2] == {"v": "NaN"} and cells[3] == {"v": "-Infinity"}
    assert cells[4] == {"v": "1.25"} and cells[5] == {"v": "10"}
    assert cells[-1] == {"v": []} and cells[-2] == {"v": None}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.one_of(st.none(), st.floats(allow_nan=True), st.integers(-(2**62), 2**62).map(float)),
                min_size=1, max_size=6),
       st.text(max_size=12))
def test_encoders_agree_on_random_values(values, text):
    with Emulator() as emu:
        bq = emu.bigquery
        bq.create_dataset("p", "d")
        bq.create_table("p", "d", "t", [{"name": "x", "type": "FLOAT64"}, {"name": "s", "type": "STRING"}])
        rows = [{"x": None if v is None else ("NaN" if v != v else v), "s": text} for v in values]
        rows = [{"x": r["x"] if not isinstance(r["x"], float) or abs(r["x"]) != float("inf") else
                 ("Infinity" if r["x"] > 0 else "-Infinity"), "s": r["s"]} for r in rows]
        assert bq.insert_rows("p", "d", "t", rows) == []
        outcome = bq.execute("SELECT x, s FROM d.t", project="p")
        python, duck = _both(emu, outcome, True)
    emu.close()
    assert python == duck
