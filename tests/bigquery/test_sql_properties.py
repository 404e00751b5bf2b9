"""Property: GoogleSQL results through the real client agree with the same computation in Python."""

from __future__ import annotations

import decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator import Emulator

values = st.lists(st.one_of(st.none(), st.integers(min_value=-(10**12), max_value=10**12)), max_size=30)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(values, st.integers(min_value=-(10**12), max_value=10**12))
def test_aggregates_filters_and_null_ordering(xs, threshold):
    from google.cloud import bigquery

    with Emulator() as emu:
        client = emu.bigquery_client(project="p")
        client.create_dataset("d")
        client.query("CREATE TABLE d.t (id INT64, x INT64)").result()
        if xs:
            assert client.insert_rows_json("d.t", [{"id": i, "x": x} for i, x in enumerate(xs)]) == []
        cfg = bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("th", "INT64", threshold)])
        row = next(iter(client.query(
            "SELECT COUNT(*) AS n, COUNT(x) AS nx, SUM(x) AS s, MAX(x) AS mx, MIN(x) AS mn, "
            "COUNTIF(x > @th) AS above FROM d.t", job_config=cfg).result()))
        ordered = [r.x for r in client.query("SELECT x FROM d.t ORDER BY x, id").result()]
        descending = [r.x for r in client.query("SELECT x FROM d.t ORDER BY x DESC, id").result()]
        unnested = next(iter(client.query(
            "SELECT ARRAY_LENGTH(ARRAY_AGG(x IGNORE NULLS)) AS k FROM d.t").result())).k
    emu.close()
    present = [x for x in xs if x is not None]
    assert row.n == len(xs) and row.nx == len(present)
    assert row.s == (sum(present) if present else None)
    assert row.mx == (max(present) if present else None)
    assert row.mn == (min(present) if present else None)
    assert row.above == sum(1 for x in present if x > threshold)
    # BigQuery sorts NULLs first ascending and last descending
    assert ordered == [None] * (len(xs) - len(present)) + sorted(present)
    assert descending == sorted(present, reverse=True) + [None] * (len(xs) - len(present))
    assert unnested == (len(present) if present else None)


_numerics = st.decimals(min_value=-(10**14), max_value=10**14, places=9, allow_nan=False, allow_infinity=False)


def _bq_round(value: decimal.Decimal) -> decimal.Decimal:
    """BigQuery's NUMERIC: 9 fractional digits, halfway cases rounded away from zero."""
    with decimal.localcontext() as ctx:
        ctx.prec = 90
        return value.quantize(decimal.Decimal("1e-9"), rounding=decimal.ROUND_HALF_UP)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_numerics, _numerics)
def test_numeric_arithmetic_equals_python_decimal(a, b):
    from google.cloud import bigquery

    with Emulator() as emu:
        client = emu.bigquery_client(project="p")
        cfg = bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("a", "NUMERIC", a),
                                                        bigquery.ScalarQueryParameter("b", "NUMERIC", b)])
        row = next(iter(client.query("SELECT @a + @b AS s, @a - @b AS d, @a * @b AS p, "
                                     "SAFE_DIVIDE(@a, @b) AS q, AVG(x) AS m FROM UNNEST([@a, @b]) AS x",
                                     job_config=cfg).result()))
    with decimal.localcontext() as ctx:
        ctx.prec = 90
        assert row.s == _bq_round(a + b)
        assert row.d == _bq_round(a - b)
        assert row.p == _bq_round(a * b)
        assert row.q == (None if b == 0 else _bq_round(a / b))
        assert row.m == _bq_round((a + b) / 2)
