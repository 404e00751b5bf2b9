"""Property: values written through the real client come back equal, for every scalar type."""

from __future__ import annotations

import datetime as dt
import decimal
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import Emulator

_UTC = dt.UTC
timestamps = st.datetimes(min_value=dt.datetime(1970, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
    lambda d: d.replace(tzinfo=_UTC))
numerics = st.decimals(min_value=-(10**20), max_value=10**20, places=9, allow_nan=False, allow_infinity=False)
# Years from 1000: the client writes dates with strftime, which does not zero-pad earlier years.
row = st.fixed_dictionaries({
    "i": st.integers(min_value=-(2**63), max_value=2**63 - 1),
    "f": st.floats(allow_nan=False, width=64),
    "s": st.text(max_size=20),
    "b": st.booleans(),
    "d": st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31)),
    "dtm": st.datetimes(min_value=dt.datetime(1000, 1, 1), max_value=dt.datetime(9999, 12, 31)),
    "ts": timestamps,
    "n": numerics,
    "by": st.binary(max_size=16),
    "arr": st.lists(st.floats(allow_nan=False, allow_infinity=False, width=64), max_size=5),
    "tm": st.times(),
})
SCHEMA = [("i", "INT64"), ("f", "FLOAT64"), ("s", "STRING"), ("b", "BOOL"), ("d", "DATE"), ("dtm", "DATETIME"),
          ("ts", "TIMESTAMP"), ("n", "NUMERIC"), ("by", "BYTES"), ("arr", "FLOAT64"), ("tm", "TIME")]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(row, min_size=1, max_size=4))
def test_insert_rows_then_query_round_trips(rows):
    from google.cloud import bigquery

    with Emulator() as emu:
        client = emu.bigquery_client(project="p")
        client.create_dataset("d")
        table = client.create_table(bigquery.Table("p.d.t", schema=[
            bigquery.SchemaField(name, kind, mode="REPEATED" if name == "arr" else "NULLABLE")
            for name, kind in SCHEMA]))
        keyed = [dict(r, i=r["i"]) for r in rows]
        assert client.insert_rows(table, keyed) == []
        got = [dict(r.items()) for r in client.query("SELECT * FROM d.t").result()]
    emu.close()
    assert len(got) == len(rows)
    by_key = {}
    for r in got:
        by_key.setdefault((r["i"], r["s"], r["by"]), []).append(r)
    for expected in rows:
        candidates = by_key[(expected["i"], expected["s"], expected["by"])]
        assert any(_same(expected, c) for c in candidates), (expected, candidates)


def _same(expected, actual) -> bool:
    for key, value in expected.items():
        other = actual[key]
        if key == "f" or key == "arr":
            values = value if key == "arr" else [value]
            others = other if key == "arr" else [other]
            if len(values) != len(others) or not all(
                    a == b or (math.isinf(a) and a == b) for a, b in zip(values, others)):
                return False
        elif key == "n":
            if decimal.Decimal(other) != value:
                return False
        elif key == "tm":
            if other != value.replace(tzinfo=None):
                return False
        elif other != value:
            return False
    return True
