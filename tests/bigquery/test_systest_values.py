"""Values google-cloud-bigquery's own system tests exercise: INTERVAL, RANGE, extreme NUMERIC,
anonymous STRUCT fields, through the real client."""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator import Emulator
from emulator.bigquery.intervals import format_interval, parse_interval


@pytest.fixture
def client():
    with Emulator() as emu:
        c = emu.bigquery_client(project="p")
        c.create_dataset("d")
        yield c


def _load_ndjson(client, rows, schema):
    from google.cloud import bigquery

    config = bigquery.LoadJobConfig(schema=schema, source_format="NEWLINE_DELIMITED_JSON")
    data = "\n".join(json.dumps(r) for r in rows).encode()
    client.load_table_from_file(io.BytesIO(data), "p.d.t", job_config=config).result()


# -- INTERVAL ------------------------------------------------------------------------------
def test_interval_text_forms():
    assert parse_interval("P7Y11M9DT4H15M37.123456S") == (7 * 12 + 11, 9, (4 * 3600 + 15 * 60 + 37) * 10**6 + 123456)
    assert parse_interval("P-10000Y0M-3660000DT-87840000H0M0S") == (-120000, -3660000, -87840000 * 3600 * 10**6)
    assert parse_interval("1-2 3 -4:05:06.5") == (14, 3, -(4 * 3600 + 5 * 60 + 6) * 10**6 - 500000)
    assert parse_interval("-1-2 -3 4:0:0") == (-14, -3, 4 * 3600 * 10**6)
    assert parse_interval("P10001Y") is None  # beyond BigQuery's ±10,000 years
    assert parse_interval("P") is None and parse_interval("nonsense") is None
    assert format_interval(7 * 12 + 11, 9, (4 * 3600 + 15 * 60 + 37) * 10**6 + 123456) == "7-11 9 4:15:37.123456"
    assert format_interval(-14, -3, -1) == "-1-2 -3 -0:0:0.000001"


@given(st.integers(-120000, 120000), st.integers(-3660000, 3660000),
       st.integers(-87840000 * 3600 * 10**6, 87840000 * 3600 * 10**6))
def test_interval_canonical_text_round_trips(months, days, micros):
    assert parse_interval(format_interval(months, days, micros)) == (months, days, micros)


def test_interval_loaded_from_ndjson_comes_back_canonical(client):
    from google.cloud import bigquery

    schema = [bigquery.SchemaField("i", "INTEGER"), bigquery.SchemaField("v", "INTERVAL")]
    _load_ndjson(client, [{"i": 0, "v": "P7Y11M9DT4H15M37.123456S"},
                          {"i": 1, "v": "P-10000Y0M-3660000DT-2000000H0M0S"},
                          {"i": 2, "v": "0-0 0 0:0:0.000001"}, {"i": 3, "v": None}], schema)
    # many rows take the DuckDB encoder, a few the Python one: both write the canonical form
    for sql in ("SELECT v FROM d.t ORDER BY i", "SELECT v FROM d.t, UNNEST(GENERATE_ARRAY(1, 100)) ORDER BY i"):
        rows = client.query(sql).result()
        got = [r.v for r in rows]
        assert got[0] == pytest.importorskip("dateutil.relativedelta").relativedelta(
            years=7, months=11, days=9, hours=4, minutes=15, seconds=37, microseconds=123456)
    raw = client._connection.api_request(  # the wire text itself
        "GET", "/projects/p/datasets/d/tables/t/data")
    texts = sorted((r["f"][0]["v"], r["f"][1]["v"]) for r in raw["rows"])
    assert texts == [("0", "7-11 9 4:15:37.123456"), ("1", "-10000-0 -3660000 -2000000:0:0"),
                     ("2", "0-0 0 0:0:0.000001"), ("3", None)]


def test_interval_extremes_load(client):
    from google.cloud import bigquery

    _load_ndjson(client, [{"v": "P-10000Y0M-3660000DT-87840000H0M0S"}, {"v": "P10000Y0M3660000DT87840000H0M0S"}],
                 [bigquery.SchemaField("v", "INTERVAL")])
    (row,) = client.query("SELECT COUNT(*) AS n FROM d.t WHERE v IS NOT NULL").result()
    assert row.n == 2


def test_interval_bad_text_is_a_load_error(client):
    from google.api_core.exceptions import BadRequest
    from google.cloud import bigquery

    with pytest.raises(BadRequest, match="Invalid interval"):
        _load_ndjson(client, [{"v": "P1X"}], [bigquery.SchemaField("v", "INTERVAL")])


def test_interval_insert_all_and_query_parameter(client):
    from google.cloud import bigquery

    table = client.create_table(bigquery.Table("p.d.ins", schema=[bigquery.SchemaField("v", "INTERVAL")]))
    assert client.insert_rows(table, [{"v": "1-2 3 4:5:6"}]) == []
    raw = client._connection.api_request("GET", "/projects/p/datasets/d/tables/ins/data")
    assert raw["rows"][0]["f"][0]["v"] == "1-2 3 4:5:6"
    config = bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("x", "INTERVAL", "P1DT2H")])
    job = client.query("SELECT @x AS x", job_config=config)
    job.result()
    raw = client._connection.api_request("GET", f"/projects/p/queries/{job.job_id}")
    assert raw["rows"][0]["f"][0]["v"] == "0-0 1 2:0:0"


# -- NUMERIC at its limits -----------------------------------------------------------------
def test_numeric_extremes_load_from_ndjson(client):
    from google.cloud import bigquery

    _load_ndjson(client, [{"n": "9.9999999999999999999999999999999999999E+28"},
                          {"n": "-9.9999999999999999999999999999999999999E+28"}],
                 [bigquery.SchemaField("n", "NUMERIC")])
    got = sorted(r.n for r in client.query("SELECT n FROM d.t").result())
    assert got == [decimal.Decimal("-99999999999999999999999999999.999999999"),
                   decimal.Decimal("99999999999999999999999999999.999999999")]


# -- anonymous STRUCT fields ---------------------------------------------------------------
def test_tuple_of_parameter_fields_has_anonymous_fields(client):
    from google.cloud import bigquery

    param = bigquery.StructQueryParameter("h", bigquery.ScalarQueryParameter("q", "STRING", "What?"),
                                          bigquery.ScalarQueryParameter("a", "INT64", 42))
    config = bigquery.QueryJobConfig(query_parameters=[param])
    (row,) = client.query("SELECT (@h.q, @h.a)", job_config=config).result()
    assert row[0] == {"_field_1": "What?", "_field_2": 42}
    (row,) = client.query("SELECT (@h.q, @h.a) AS s, STRUCT(@h.q AS q) AS n", job_config=config).result()
    assert row.s == {"_field_1": "What?", "_field_2": 42} and row.n == {"q": "What?"}


# -- RANGE query parameters ----------------------------------------------------------------
def test_range_parameters(client):
    from google.cloud import bigquery

    cases = [
        (bigquery.RangeQueryParameter("DATE", name="r", start=dt.date(2016, 12, 5)),
         {"start": dt.date(2016, 12, 5), "end": None}),
        (bigquery.RangeQueryParameter("DATETIME", name="r", start=dt.datetime(2016, 12, 5), end=dt.datetime(2017, 1, 1)),
         {"start": dt.datetime(2016, 12, 5), "end": dt.datetime(2017, 1, 1)}),
        (bigquery.RangeQueryParameter("DATETIME", name="r"), {"start": None, "end": None}),
    ]
    for param, expected in cases:
        config = bigquery.QueryJobConfig(query_parameters=[param])
        (row,) = client.query("SELECT @r", job_config=config).result()
        assert row[0] == expected


# -- wide results --------------------------------------------------------------------------
def test_wide_result_rows_encode(client):
    """Rows of 2,000 columns (BigQuery allows 10,000): one cell per column, encoded in DuckDB."""
    from google.cloud import bigquery

    width = 2000
    schema = [bigquery.SchemaField("r", "INTEGER")] + [bigquery.SchemaField(f"c{i}", "INTEGER") for i in range(width)]
    table = client.create_table(bigquery.Table("p.d.wide", schema=schema))
    assert client.insert_rows(table, [{"r": r, **{f"c{i}": r * i for i in range(width)}} for r in range(3)]) == []
    rows = sorted(client.query("SELECT * FROM d.wide").result(), key=lambda row: row["r"])
    assert [row[f"c{width - 1}"] for row in rows] == [0, width - 1, 2 * (width - 1)]
    listed = sorted(client.list_rows(table), key=lambda row: row["r"])
    assert listed[2]["c7"] == 14


def test_wide_rows_encode_in_duckdb_too():
    """The DuckDB encoder (types Python does not encode) stays under DuckDB's expression depth limit."""
    import duckdb
    import pyarrow as pa

    from emulator.bigquery.wire import row_encoder_sql

    width = 1200
    arrow = pa.table({f"c{i}": [i] for i in range(width)})
    schema = [{"name": f"c{i}", "type": "INTEGER", "mode": "NULLABLE"} for i in range(width)]
    con = duckdb.connect()
    con.register("t", arrow)
    (text,) = con.execute(row_encoder_sql(schema, "t")).fetchone()
    assert json.loads(text)["f"][width - 1] == {"v": str(width - 1)}


# -- query cache ---------------------------------------------------------------------------
def test_repeated_query_is_a_cache_hit_until_a_table_changes(client):
    from google.cloud import bigquery

    table = client.create_table(bigquery.Table("p.d.c", schema=[bigquery.SchemaField("x", "INTEGER")]))
    client.insert_rows(table, [{"x": 1}])
    sql = "SELECT SUM(x) AS s FROM d.c"
    first = client.query(sql)
    assert [r.s for r in first.result()] == [1] and not first.cache_hit
    second = client.query(sql)
    assert [r.s for r in second.result()] == [1] and second.cache_hit
    assert client.get_job(second.job_id).cache_hit
    no_cache = client.query(sql, job_config=bigquery.QueryJobConfig(use_query_cache=False))
    assert not no_cache.cache_hit
    client.insert_rows(table, [{"x": 2}])
    third = client.query(sql)
    assert [r.s for r in third.result()] == [3] and not third.cache_hit
    client.query("DELETE FROM d.c WHERE x = 2").result()
    fourth = client.query(sql)
    assert [r.s for r in fourth.result()] == [1] and not fourth.cache_hit
    # non-deterministic functions are never cached
    client.query("SELECT CURRENT_TIMESTAMP()").result()
    assert not client.query("SELECT CURRENT_TIMESTAMP()").cache_hit


# -- GEOGRAPHY -----------------------------------------------------------------------------
def test_geography_columns_keep_their_type_in_query_results(client):
    client.query("CREATE TABLE d.lake (name STRING, geog GEOGRAPHY)").result()
    client.query("INSERT INTO d.lake VALUES ('a', ST_GEOGFROMTEXT('point(0 1)')), ('b', NULL)").result()
    for sql in ("SELECT * FROM d.lake", "SELECT * EXCEPT (name) FROM d.lake", "SELECT geog, name FROM d.lake",
                "SELECT l.geog AS g2 FROM d.lake AS l", "SELECT ST_GEOGPOINT(1, 2) AS p"):
        job = client.query(sql)
        job.result()
        types = {f.name: f.field_type for f in job.schema}
        assert "GEOGRAPHY" in types.values() and "STRING" not in (types.get("geog"), types.get("g2")), (sql, types)
    assert {f.name: f.field_type for f in client.query("SELECT name FROM d.lake").result().schema} == {
        "name": "STRING"}
    dry = client.query("SELECT * FROM d.lake", job_config=__import__("google.cloud.bigquery").cloud.bigquery
                       .QueryJobConfig(dry_run=True))
    assert [f.field_type for f in dry.schema] == ["STRING", "GEOGRAPHY"]


def test_geography_loaded_from_wkb_is_stored_as_wkt(client):
    pandas = pytest.importorskip("pandas")
    from shapely import wkb, wkt

    client.query("CREATE TABLE d.geo (name STRING, geo GEOGRAPHY)").result()
    frame = pandas.DataFrame({"name": ["foo", "bar"], "geo": [None, wkb.dumps(wkt.loads("LINESTRING(1 1, 2 3.5)"))]})
    client.load_table_from_dataframe(frame, "p.d.geo").result()
    assert sorted(map(list, client.list_rows("p.d.geo"))) == [["bar", "LINESTRING(1 1, 2 3.5)"], ["foo", None]]


# -- dry runs ------------------------------------------------------------------------------
def test_dry_run_estimates_the_bytes_it_would_read(client):
    from google.cloud import bigquery

    table = client.create_table(bigquery.Table("p.d.sized", schema=[
        bigquery.SchemaField("i", "INTEGER"), bigquery.SchemaField("s", "STRING"),
        bigquery.SchemaField("n", "NUMERIC")]))
    client.insert_rows(table, [{"i": 1, "s": "héllo", "n": "1.5"}, {"i": None, "s": None, "n": None}])
    for method in ("INSERT", "QUERY"):
        job = client.query("SELECT * FROM d.sized", job_config=bigquery.QueryJobConfig(dry_run=True),
                           api_method=method)
        # INT64 8 + STRING 2 + 6 UTF-8 bytes + NUMERIC 16; NULLs are 0
        assert job.total_bytes_processed == 8 + 2 + 6 + 16, method
    empty = client.query("SELECT 1", job_config=bigquery.QueryJobConfig(dry_run=True))
    assert empty.total_bytes_processed == 0


# -- BIGNUMERIC ----------------------------------------------------------------------------
_BIG = [f"9.{'9' * 75}E+37", "-0.00000000000000000000000000000000000001", "1.5", "0.0", None]
_BIG_VALUES = [decimal.Decimal(f"9.{'9' * 75}E+37"), decimal.Decimal("-1E-38"), decimal.Decimal("1.5"),
               decimal.Decimal(0), None]


def test_bignumeric_keeps_every_digit_through_loads_and_reads(client):
    from google.cloud import bigquery

    schema = [bigquery.SchemaField("i", "INTEGER"), bigquery.SchemaField("b", "BIGNUMERIC")]
    _load_ndjson(client, [{"i": i, "b": v} for i, v in enumerate(_BIG)], schema)
    listed = sorted(client.list_rows("p.d.t"), key=lambda r: r["i"])
    assert [r["b"] for r in listed] == _BIG_VALUES
    job = client.query("SELECT * FROM d.t ORDER BY i")
    assert [r["b"] for r in job.result()] == _BIG_VALUES
    assert [f.field_type for f in job.schema] == ["INTEGER", "BIGNUMERIC"]
    # in expressions the column reads as NUMERIC (BigQuery's wider arithmetic is a documented gap)
    (row,) = client.query("SELECT b + 1 AS c FROM d.t WHERE b = 1.5").result()
    assert row.c == decimal.Decimal("2.5")
    arrow = client.query("SELECT b FROM d.t ORDER BY i").to_arrow(create_bqstorage_client=False)
    assert arrow.column("b").to_pylist() == _BIG_VALUES
    with pytest.raises(Exception, match="Invalid BIGNUMERIC"):
        _load_ndjson(client, [{"i": 9, "b": "1e39"}], schema)


def test_bignumeric_parameter_round_trips(client):
    from google.cloud import bigquery

    value = decimal.Decimal("-{d}.{d}".format(d="9" * 38))
    config = bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("p", "BIGNUMERIC", value)])
    job = client.query("SELECT @p", job_config=config)
    (row,) = job.result()
    assert row[0] == value and job.schema[0].field_type == "BIGNUMERIC"
    config = bigquery.QueryJobConfig(query_parameters=[bigquery.ScalarQueryParameter("p", "BIGNUMERIC", "2.25")])
    (row,) = client.query("SELECT @p * 2 AS x", job_config=config).result()
    assert row.x == decimal.Decimal("4.5")


def test_bignumeric_from_dataframe_and_ddl(client):
    pandas = pytest.importorskip("pandas")
    from google.cloud import bigquery

    frame = pandas.DataFrame({"b": [decimal.Decimal(f"9.{'9' * 75}E+37"), None]})
    config = bigquery.LoadJobConfig(schema=[bigquery.SchemaField("b", "BIGNUMERIC")])
    client.load_table_from_dataframe(frame, "p.d.frame", job_config=config).result()
    assert [r.b for r in client.list_rows("p.d.frame")] == [decimal.Decimal(f"9.{'9' * 75}E+37"), None]
    client.query("CREATE TABLE d.ddl (b BIGNUMERIC, b2 BIGNUMERIC(37, 2))").result()
    client.query("INSERT INTO d.ddl (b, b2) VALUES (42e30, 42e30), (BIGNUMERIC '1.25', 3)").result()
    got = sorted((r.b, r.b2) for r in client.query("SELECT * FROM d.ddl").result())
    assert got == [(decimal.Decimal("1.25"), decimal.Decimal(3)), (decimal.Decimal("4.2E+31"), decimal.Decimal("4.2E+31"))]
    client.query("UPDATE d.ddl SET b = b + 1 WHERE b2 = 3").result()
    assert sorted(r.b for r in client.query("SELECT b FROM d.ddl").result())[0] == decimal.Decimal("2.25")


# -- RANGE columns -------------------------------------------------------------------------
def test_range_columns_load_from_csv_and_ndjson(client):
    from google.cloud import bigquery

    schema = [bigquery.SchemaField("i", "INTEGER"),
              bigquery.SchemaField("r", "RANGE", range_element_type="DATE")]
    config = bigquery.LoadJobConfig(schema=schema, source_format="CSV")
    data = b'0,"[2020-01-01, 2020-02-01)"\n1,"[UNBOUNDED, 2020-02-01)"\n2,\n'
    client.load_table_from_file(io.BytesIO(data), "p.d.r", job_config=config).result()
    _load_ndjson(client, [{"i": 3, "r": "[2021-01-01, UNBOUNDED)"}], schema)
    raw = client._connection.api_request("GET", "/projects/p/datasets/d/tables/r/data")
    rows = sorted(client.list_rows("p.d.r"), key=lambda row: row["i"])
    assert [row["r"] for row in rows] == [
        {"start": dt.date(2020, 1, 1), "end": dt.date(2020, 2, 1)},
        {"start": None, "end": dt.date(2020, 2, 1)}, None]
    texts = [r["f"][1]["v"] for r in raw["rows"]]
    assert texts == ["[2020-01-01, 2020-02-01)", "[UNBOUNDED, 2020-02-01)", None]
    (row,) = client.list_rows("p.d.t")
    assert row["r"] == {"start": dt.date(2021, 1, 1), "end": None}
    arrow = client.list_rows("p.d.r", selected_fields=schema[1:]).to_arrow()
    assert [f.name for f in arrow.column("r").type] == ["start", "end"]  # (StructType.names: pyarrow >= 16)
    with pytest.raises(Exception, match="Invalid RANGE"):
        _load_ndjson(client, [{"i": 4, "r": "[2021-01-01, 2020-01-01)"}], schema)


def test_interval_span_literals_and_range_constructor(client):
    (row,) = client.query(
        "SELECT INTERVAL '1-2 3 4:5:6.789012' YEAR TO SECOND AS a, INTERVAL '-1-6' YEAR TO MONTH AS b, "
        "INTERVAL '2 10:00:01' DAY TO SECOND AS c, RANGE(DATE '2026-01-01', DATE '2026-02-01') AS r, "
        "RANGE(DATETIME '2026-01-01 00:00:00', NULL) AS u").result()
    relativedelta = pytest.importorskip("dateutil.relativedelta").relativedelta
    assert row.a == relativedelta(years=1, months=2, days=3, hours=4, minutes=5, seconds=6, microseconds=789012)
    assert row.b == relativedelta(years=-1, months=-6)
    assert row.c == relativedelta(days=2, hours=10, seconds=1)
    assert row.r == {"start": dt.date(2026, 1, 1), "end": dt.date(2026, 2, 1)}
    assert row.u == {"start": dt.datetime(2026, 1, 1), "end": None}


def test_picosecond_column_selected_in_a_query_is_a_timestamp(client):
    import pyarrow
    from google.cloud import bigquery
    from google.cloud.bigquery import enums

    schema = [bigquery.SchemaField("ts", "TIMESTAMP", timestamp_precision=enums.TimestampPrecision.PICOSECOND)]
    config = bigquery.LoadJobConfig(schema=schema, source_format="CSV")
    client.load_table_from_file(io.BytesIO(b"2025-01-01T00:00:00.123456789012Z\n"), "p.d.pico",
                                job_config=config).result()
    for sql in ("SELECT ts AS t2 FROM d.pico ORDER BY ts", "SELECT * FROM d.pico"):
        job = client.query(sql)
        job.result()
        assert job.schema[0].field_type == "TIMESTAMP"
        assert job.schema[0].timestamp_precision == enums.TimestampPrecision.PICOSECOND
        rows = client.query_and_wait(sql, query_results_format="ARROW")
        table = pyarrow.Table.from_batches(list(rows.to_arrow_iterable()))
        assert table.column(0).to_pylist() == [dt.datetime(2025, 1, 1, 0, 0, 0, 123456, tzinfo=dt.UTC)]
